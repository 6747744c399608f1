/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to compat/: the caller's <net/fota_download.h>, the NCS generation
 * it belongs to as feature macros, and the build's compat settings. Every
 * compat source includes this first, before any header that could pull in
 * the SDK's fota_download.h.
 *
 * What differs between SDK versions beyond numbering is selected with
 * feature macros. Each is 0 or 1; a build may define any of them, otherwise
 * they follow NCS_VERSION_NUMBER from <ncs_version.h> (NCS v1.4+ generates
 * it) when the SDK's header is in use, and the v2.0.0 form of
 * compat/include/net/fota_download.h when that one is. Each was read in
 * sdk-nrf's source at the tag named (docs/ncs-integration.md, "Behaviour
 * per NCS generation", has the table):
 *
 *   FOTA_RS_NCS_START_APN                < v1.8: start takes `const char *apn`
 *                                        instead of `uint8_t pdn_id`
 *   FOTA_RS_NCS_HAS_CAUSE_INTERNAL       >= v2.2: ERROR_CAUSE_INTERNAL
 *   FOTA_RS_NCS_ASYNC                    >= v2.4: the connect runs on the
 *                                        download thread (a failure is an
 *                                        ERROR event, start returned 0), the
 *                                        library is free before every final
 *                                        event, cancel() waits for the end
 *   FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED >= v2.6: ERROR_CAUSE_CONNECT_FAILED
 *   FOTA_RS_NCS_HAS_SEC_TAG_LIST         >= v2.6: fota_download() and
 *                                        fota_download_any() with tag lists
 *   FOTA_RS_NCS_HAS_S0_ACTIVE_GET        >= v2.0: fota_download_s0_active_get()
 *   FOTA_RS_NCS_HAS_B1_FILE_PARSE        >= v2.7: fota_download_b1_file_parse()
 *   FOTA_RS_NCS_DOWNLOADER               >= 2.9.99 (the 3.x form): the header
 *                                        includes <net/downloader.h>, declares
 *                                        fota_download_with_host_cfg() and the
 *                                        causes DFU, PROTO_NOT_SUPPORTED and
 *                                        INVALID_CONFIGURATION; fragment_size 0
 *                                        names no Kconfig default
 *
 * fragment_size 0 is the caller's NCS default: CONFIG_DOWNLOAD_CLIENT_HTTP_FRAG_SIZE
 * where download_client is configured (NCS v1.7 .. v2.9), otherwise the
 * platform's configured fragment (CONFIG_FOTA_RS_FRAG_SIZE on Zephyr).
 *
 * FOTA_RS_COMPAT_WRAP_NCS=1 (CONFIG_FOTA_DOWNLOAD=y, NCS's own
 * implementation is linked too) defines __wrap_fota_download_* instead of
 * the plain names; the link redirects every call with -Wl,--wrap.
 */
#ifndef FOTA_RS_COMPAT_NCS_GENERATION_H_
#define FOTA_RS_COMPAT_NCS_GENERATION_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Renamed before the header is read, so the header's own prototypes declare
 * the __wrap_ names and the compiler checks these definitions against the
 * caller's signatures, whatever the SDK version.
 */
#if defined(FOTA_RS_COMPAT_WRAP_NCS) && FOTA_RS_COMPAT_WRAP_NCS
#define fota_download_init __wrap_fota_download_init
#define fota_download_start __wrap_fota_download_start
#define fota_download_start_with_image_type __wrap_fota_download_start_with_image_type
#define fota_download_cancel __wrap_fota_download_cancel
#define fota_download_target __wrap_fota_download_target
#define fota_download __wrap_fota_download
#define fota_download_any __wrap_fota_download_any
#define fota_download_s0_active_get __wrap_fota_download_s0_active_get
#define fota_download_b1_file_parse __wrap_fota_download_b1_file_parse
#define fota_download_with_host_cfg __wrap_fota_download_with_host_cfg
#endif

#include <net/fota_download.h>

#include "fota_rs.h"
#include "fota_rs_platform.h"

#if !defined(FOTA_RS_COMPAT_FOTA_DOWNLOAD_H) && defined(__has_include)
#if __has_include(<ncs_version.h>)
#include <ncs_version.h>
#endif
#endif

#if defined(FOTA_RS_COMPAT_FOTA_DOWNLOAD_H)
#define FRS_SDK_HEADER 0
#else
#define FRS_SDK_HEADER 1
#endif

#if defined(NCS_VERSION_NUMBER) && FRS_SDK_HEADER
#define FRS_NCS_VERSION NCS_VERSION_NUMBER
#else
/* compat/include's header, or an SDK header of unknown version: v2.0.0 form. */
#define FRS_NCS_VERSION 0x020000
#endif

#ifndef FOTA_RS_NCS_START_APN
#define FOTA_RS_NCS_START_APN (FRS_NCS_VERSION < 0x010800)
#endif
#ifndef FOTA_RS_NCS_HAS_CAUSE_INTERNAL
#define FOTA_RS_NCS_HAS_CAUSE_INTERNAL (FRS_NCS_VERSION >= 0x020200)
#endif
#ifndef FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED
#define FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED (FRS_NCS_VERSION >= 0x020600)
#endif
#ifndef FOTA_RS_NCS_HAS_SEC_TAG_LIST
#define FOTA_RS_NCS_HAS_SEC_TAG_LIST (FRS_NCS_VERSION >= 0x020600)
#endif
#ifndef FOTA_RS_NCS_HAS_S0_ACTIVE_GET
#define FOTA_RS_NCS_HAS_S0_ACTIVE_GET (FRS_NCS_VERSION >= 0x020000)
#endif
#ifndef FOTA_RS_NCS_ASYNC
#define FOTA_RS_NCS_ASYNC (FRS_NCS_VERSION >= 0x020400)
#endif
#ifndef FOTA_RS_NCS_HAS_B1_FILE_PARSE
#define FOTA_RS_NCS_HAS_B1_FILE_PARSE (FRS_NCS_VERSION >= 0x020700)
#endif
#ifndef FOTA_RS_NCS_DOWNLOADER
#define FOTA_RS_NCS_DOWNLOADER (FRS_NCS_VERSION >= 0x020963)
#endif

/* fragment_size 0: what the caller's NCS configuration makes it. */
#if !FOTA_RS_NCS_DOWNLOADER && defined(CONFIG_DOWNLOAD_CLIENT_HTTP_FRAG_SIZE)
#define FRS_DEFAULT_FRAG_SIZE CONFIG_DOWNLOAD_CLIENT_HTTP_FRAG_SIZE
#else
/* 0 lets the core use the platform's fragment (CONFIG_FOTA_RS_FRAG_SIZE). */
#define FRS_DEFAULT_FRAG_SIZE 0
#endif

#ifndef FOTA_RS_COMPAT_MAX_SEC_TAGS
#define FOTA_RS_COMPAT_MAX_SEC_TAGS 5
#endif
/* The core holds at most FOTA_RS_DIAG_MAX_TAGS tags per connect. */
#if FOTA_RS_COMPAT_MAX_SEC_TAGS < 1 || FOTA_RS_COMPAT_MAX_SEC_TAGS > FOTA_RS_DIAG_MAX_TAGS
#error "FOTA_RS_COMPAT_MAX_SEC_TAGS must be between 1 and FOTA_RS_DIAG_MAX_TAGS"
#endif


#endif /* FOTA_RS_COMPAT_NCS_GENERATION_H_ */
