/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NCS fota_download API on top of the fota-rs native API.
 *
 * This file is compiled against whichever <net/fota_download.h> the build
 * has: the SDK's own inside NCS, compat/include/net/fota_download.h
 * elsewhere. Event ids, error causes, image types and errno values are all
 * written here by name and never by number, so what the caller receives is
 * what its own header and its own C library define. That matters: NCS
 * renumbered the events and causes in v2.6 (ERASE_TIMEOUT was inserted
 * before ERASE_DONE, CONNECT_FAILED before DOWNLOAD_FAILED), turned the image
 * types into a bitmask, and errno differs between newlib, Zephyr's minimal
 * libc and Linux (ECONNREFUSED is 111 on one and 61 on another). The Rust
 * core therefore speaks FOTA_RS_E* codes only, and this is where they become
 * errno. The core has no erase-timeout event, so ERASE_TIMEOUT is never
 * named and headers without it build unchanged.
 *
 * What differs between SDK versions beyond numbering is selected with
 * feature macros. Each is 0 or 1; a build may define any of them, otherwise
 * they follow NCS_VERSION_NUMBER from <ncs_version.h> (NCS v1.4+ generates
 * it) when the SDK's header is in use, and the v2.0.0 form of
 * compat/include/net/fota_download.h when that one is:
 *
 *   FOTA_RS_NCS_START_APN                < v1.8: start takes `const char *apn`
 *                                        instead of `uint8_t pdn_id`
 *   FOTA_RS_NCS_HAS_CAUSE_INTERNAL       >= v2.2: ERROR_CAUSE_INTERNAL
 *   FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED >= v2.6: ERROR_CAUSE_CONNECT_FAILED
 *   FOTA_RS_NCS_HAS_SEC_TAG_LIST         >= v2.6: fota_download() and
 *                                        fota_download_any() with tag lists
 *   FOTA_RS_NCS_HAS_S0_ACTIVE_GET        >= v2.0: fota_download_s0_active_get()
 *                                        (forwarded to NCS in wrap mode only)
 *
 * FOTA_RS_COMPAT_MAX_SEC_TAGS (default 5, as NCS's
 * CONFIG_FOTA_DOWNLOAD_SEC_TAG_LIST_SIZE_MAX) is the longest tag list
 * fota_download() accepts; longer lists are -E2BIG.
 *
 * FOTA_RS_COMPAT_WRAP_NCS=1 (CONFIG_FOTA_DOWNLOAD=y, NCS's own
 * implementation is linked too) defines __wrap_fota_download_* instead of
 * the plain names; the link redirects every call with -Wl,--wrap.
 */
#include <errno.h>
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
#define FOTA_RS_NCS_HAS_S0_ACTIVE_GET (FRS_SDK_HEADER && FRS_NCS_VERSION >= 0x020000)
#endif

#ifndef FOTA_RS_COMPAT_MAX_SEC_TAGS
#define FOTA_RS_COMPAT_MAX_SEC_TAGS 5
#endif
/* The core holds at most FOTA_RS_DIAG_MAX_TAGS tags per connect. */
#if FOTA_RS_COMPAT_MAX_SEC_TAGS < 1 || FOTA_RS_COMPAT_MAX_SEC_TAGS > FOTA_RS_DIAG_MAX_TAGS
#error "FOTA_RS_COMPAT_MAX_SEC_TAGS must be between 1 and FOTA_RS_DIAG_MAX_TAGS"
#endif

/*
 * errno names beyond ISO C are not guaranteed everywhere this builds; a
 * name the libc lacks degrades to EIO rather than breaking the build.
 */
#ifdef EINVAL
#define FR_EINVAL EINVAL
#else
#define FR_EINVAL EIO
#endif
#ifdef EALREADY
#define FR_EALREADY EALREADY
#else
#define FR_EALREADY EIO
#endif
#ifdef EAGAIN
#define FR_EAGAIN EAGAIN
#else
#define FR_EAGAIN EIO
#endif
#ifdef ENAMETOOLONG
#define FR_ENAMETOOLONG ENAMETOOLONG
#else
#define FR_ENAMETOOLONG EIO
#endif
#ifdef EHOSTUNREACH
#define FR_EHOSTUNREACH EHOSTUNREACH
#else
#define FR_EHOSTUNREACH EIO
#endif
#ifdef ECONNREFUSED
#define FR_ECONNREFUSED ECONNREFUSED
#else
#define FR_ECONNREFUSED EIO
#endif
#ifdef ECONNRESET
#define FR_ECONNRESET ECONNRESET
#else
#define FR_ECONNRESET EIO
#endif
#ifdef ETIMEDOUT
#define FR_ETIMEDOUT ETIMEDOUT
#else
#define FR_ETIMEDOUT EIO
#endif
#ifdef ENOTCONN
#define FR_ENOTCONN ENOTCONN
#else
#define FR_ENOTCONN EIO
#endif
#ifdef EBADMSG
#define FR_EBADMSG EBADMSG
#else
#define FR_EBADMSG EIO
#endif
#ifdef E2BIG
#define FR_E2BIG E2BIG
#else
#define FR_E2BIG EIO
#endif
#ifdef EFBIG
#define FR_EFBIG EFBIG
#else
#define FR_EFBIG EIO
#endif
#ifdef ENOENT
#define FR_ENOENT ENOENT
#else
#define FR_ENOENT EIO
#endif
#if defined(ENOTSUP)
#define FR_ENOTSUP ENOTSUP
#elif defined(EOPNOTSUPP)
#define FR_ENOTSUP EOPNOTSUPP
#else
#define FR_ENOTSUP EIO
#endif
#ifdef ENOMEM
#define FR_ENOMEM ENOMEM
#else
#define FR_ENOMEM EIO
#endif
#ifdef EACCES
#define FR_EACCES EACCES
#else
#define FR_EACCES EIO
#endif
#ifdef ERANGE
#define FR_ERANGE ERANGE
#else
#define FR_ERANGE EIO
#endif
#ifdef ECANCELED
#define FR_ECANCELED ECANCELED
#else
#define FR_ECANCELED EIO
#endif
#ifdef EILSEQ
#define FR_EILSEQ EILSEQ
#else
#define FR_EILSEQ EIO
#endif
#ifdef EMSGSIZE
#define FR_EMSGSIZE EMSGSIZE
#else
#define FR_EMSGSIZE EIO
#endif
#ifdef ECONNABORTED
#define FR_ECONNABORTED ECONNABORTED
#else
#define FR_ECONNABORTED EIO
#endif
#ifdef ENETUNREACH
#define FR_ENETUNREACH ENETUNREACH
#else
#define FR_ENETUNREACH EIO
#endif
#ifdef ENOEXEC
#define FR_ENOEXEC ENOEXEC
#else
#define FR_ENOEXEC EIO
#endif
#ifdef EFAULT
#define FR_EFAULT EFAULT
#else
#define FR_EFAULT EIO
#endif
#ifdef ENODEV
#define FR_ENODEV ENODEV
#else
#define FR_ENODEV EIO
#endif

static fota_download_callback_t client_cb;
static bool initialized;
/* Bytes of the last PROGRESS event, which NCS's event has no room for. */
static uint32_t progress_offset;
static uint32_t progress_total;

int fota_rs_errno_to_posix(int32_t fota_rs_err)
{
	enum fota_rs_errno code;

	if (fota_rs_err >= 0) {
		return (int)fota_rs_err;
	}
	if (fota_rs_err == INT32_MIN) {
		return -EIO;
	}
	code = (enum fota_rs_errno)(-fota_rs_err);

	/* No default: -Wswitch then flags a FOTA_RS_E* code added without a mapping. */
	switch (code) {
	case FOTA_RS_OK:
		return 0;
	case FOTA_RS_EINVAL:
		return -FR_EINVAL;
	case FOTA_RS_EALREADY:
		return -FR_EALREADY;
	case FOTA_RS_EAGAIN:
		return -FR_EAGAIN;
	case FOTA_RS_ENAMETOOLONG:
		return -FR_ENAMETOOLONG;
	case FOTA_RS_EHOSTUNREACH:
		return -FR_EHOSTUNREACH;
	case FOTA_RS_ECONNREFUSED:
		return -FR_ECONNREFUSED;
	case FOTA_RS_ECONNRESET:
		return -FR_ECONNRESET;
	case FOTA_RS_ETIMEDOUT:
		return -FR_ETIMEDOUT;
	case FOTA_RS_ENOTCONN:
		return -FR_ENOTCONN;
	case FOTA_RS_EBADMSG:
		return -FR_EBADMSG;
	case FOTA_RS_E2BIG:
		return -FR_E2BIG;
	case FOTA_RS_EFBIG:
		return -FR_EFBIG;
	case FOTA_RS_EIO:
		return -EIO;
	case FOTA_RS_ENOENT:
		return -FR_ENOENT;
	case FOTA_RS_ENOTSUP:
		return -FR_ENOTSUP;
	case FOTA_RS_ENOMEM:
		return -FR_ENOMEM;
	case FOTA_RS_EACCES:
		return -FR_EACCES;
	case FOTA_RS_ERANGE:
		return -FR_ERANGE;
	case FOTA_RS_ECANCELED:
		return -FR_ECANCELED;
	case FOTA_RS_EILSEQ:
		return -FR_EILSEQ;
	case FOTA_RS_EMSGSIZE:
		return -FR_EMSGSIZE;
	case FOTA_RS_ECONNABORTED:
		return -FR_ECONNABORTED;
	case FOTA_RS_ENETUNREACH:
		return -FR_ENETUNREACH;
	case FOTA_RS_ENOEXEC:
		return -FR_ENOEXEC;
	case FOTA_RS_EFAULT:
		return -FR_EFAULT;
	}
	/* A code newer than this file. */
	return -EIO;
}

/*
 * fota-rs cause -> the caller's cause. The one place to extend when an SDK
 * version names more causes: add the name under its feature macro and keep
 * the older fallback in the #else.
 */
static enum fota_download_error_cause map_cause(uint8_t cause)
{
	switch ((enum fota_rs_cause)cause) {
	case FOTA_RS_CAUSE_NONE:
		return FOTA_DOWNLOAD_ERROR_CAUSE_NO_ERROR;
	case FOTA_RS_CAUSE_CONNECT_FAILED:
#if FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED
		return FOTA_DOWNLOAD_ERROR_CAUSE_CONNECT_FAILED;
#else
		/* Before v2.6 a connect failure was just a failed download. */
		return FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED;
#endif
	case FOTA_RS_CAUSE_DOWNLOAD_FAILED:
		return FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED;
	case FOTA_RS_CAUSE_INVALID_UPDATE:
		return FOTA_DOWNLOAD_ERROR_CAUSE_INVALID_UPDATE;
	case FOTA_RS_CAUSE_TYPE_MISMATCH:
		return FOTA_DOWNLOAD_ERROR_CAUSE_TYPE_MISMATCH;
	case FOTA_RS_CAUSE_INTERNAL:
#if FOTA_RS_NCS_HAS_CAUSE_INTERNAL
		return FOTA_DOWNLOAD_ERROR_CAUSE_INTERNAL;
#else
		return FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED;
#endif
	}
	/* An ERROR event must carry some failure, never NO_ERROR by accident. */
	return FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED;
}

/*
 * v1.7 - v2.5 count the image types (ANY = 0, FULL_MODEM = 3); v2.6 made
 * them bits (ANY = MCUBOOT | MODEM_DELTA | FULL_MODEM = 7) so a caller can
 * accept a subset. The header's own ANY tells which form is in use; the
 * comparison is a constant the compiler folds.
 */
static bool image_types_are_bits(void)
{
	return (int)DFU_TARGET_IMAGE_TYPE_ANY != 0;
}

/*
 * The caller's expectation as the core's: one type, or (NCS v2.6 bitmask
 * naming several) the set in the request's expected_type_mask.
 */
static int map_expected_type(enum dfu_target_image_type type, struct fota_rs_request *req)
{
	req->expected_type = FOTA_RS_IMAGE_ANY;
	req->expected_type_mask = 0;
	if (image_types_are_bits()) {
		const uint32_t mcuboot = (uint32_t)DFU_TARGET_IMAGE_TYPE_MCUBOOT;
		const uint32_t delta = (uint32_t)DFU_TARGET_IMAGE_TYPE_MODEM_DELTA;
		const uint32_t full = (uint32_t)DFU_TARGET_IMAGE_TYPE_FULL_MODEM;
		/* Bits the core knows nothing of (SMP) cannot match a download here. */
		const uint32_t want = (uint32_t)type & (mcuboot | delta | full);

		if (want == 0) {
			return -FR_EINVAL;
		}
		if (want != (mcuboot | delta | full)) {
			req->expected_type_mask =
				(uint8_t)(((want & mcuboot) ? 1u << FOTA_RS_IMAGE_MCUBOOT : 0u) |
					  ((want & delta) ? 1u << FOTA_RS_IMAGE_MODEM_DELTA : 0u) |
					  ((want & full) ? 1u << FOTA_RS_IMAGE_FULL_MODEM : 0u));
		}
		return 0;
	}
	switch (type) {
	case DFU_TARGET_IMAGE_TYPE_ANY:
		req->expected_type = FOTA_RS_IMAGE_ANY;
		return 0;
	case DFU_TARGET_IMAGE_TYPE_MCUBOOT:
		req->expected_type = FOTA_RS_IMAGE_MCUBOOT;
		return 0;
	case DFU_TARGET_IMAGE_TYPE_MODEM_DELTA:
		req->expected_type = FOTA_RS_IMAGE_MODEM_DELTA;
		return 0;
	case DFU_TARGET_IMAGE_TYPE_FULL_MODEM:
		req->expected_type = FOTA_RS_IMAGE_FULL_MODEM;
		return 0;
	default:
		return -FR_EINVAL;
	}
}

static int map_image_type_back(uint8_t type)
{
	switch ((enum fota_rs_image_type)type) {
	case FOTA_RS_IMAGE_ANY:
		/* "Not known yet" is 0 in every SDK version. */
		return 0;
	case FOTA_RS_IMAGE_MCUBOOT:
		return DFU_TARGET_IMAGE_TYPE_MCUBOOT;
	case FOTA_RS_IMAGE_MODEM_DELTA:
		return DFU_TARGET_IMAGE_TYPE_MODEM_DELTA;
	case FOTA_RS_IMAGE_FULL_MODEM:
		return DFU_TARGET_IMAGE_TYPE_FULL_MODEM;
	}
	return 0;
}

static void trampoline(const struct fota_rs_event *e, void *user)
{
	fota_download_callback_t cb = client_cb;
	struct fota_download_evt evt = { 0 };

	(void)user;
	if (e == NULL || cb == NULL) {
		return;
	}
	switch ((enum fota_rs_event_id)e->id) {
	case FOTA_RS_EVT_PROGRESS:
		evt.id = FOTA_DOWNLOAD_EVT_PROGRESS;
		evt.progress = e->progress;
		progress_offset = e->offset;
		progress_total = e->total;
		break;
	case FOTA_RS_EVT_FINISHED:
		evt.id = FOTA_DOWNLOAD_EVT_FINISHED;
		break;
	case FOTA_RS_EVT_ERASE_PENDING:
		evt.id = FOTA_DOWNLOAD_EVT_ERASE_PENDING;
		break;
	case FOTA_RS_EVT_ERASE_DONE:
		evt.id = FOTA_DOWNLOAD_EVT_ERASE_DONE;
		break;
	case FOTA_RS_EVT_ERROR:
		evt.id = FOTA_DOWNLOAD_EVT_ERROR;
		evt.cause = map_cause(e->cause);
		break;
	case FOTA_RS_EVT_CANCELLED:
		evt.id = FOTA_DOWNLOAD_EVT_CANCELLED;
		break;
	default:
		/* An event the caller's header has no name for: it cannot expect it. */
		return;
	}
	cb(&evt);
}

int fota_download_init(fota_download_callback_t client_callback)
{
	/* fota_rs_init copies the configuration (the key it names is the port's
	 * static), so a stack copy will do. */
	struct fota_rs_config cfg;
	const struct fota_rs_port *port;
	int32_t rc;

	if (client_callback == NULL) {
		return -FR_EINVAL;
	}
	if (initialized && fota_rs_busy()) {
		return -FR_EALREADY;
	}
	port = fota_rs_platform_port();
	if (port == NULL) {
		return -FR_ENODEV;
	}
	fota_rs_platform_config(&cfg);
	rc = fota_rs_init(port, &cfg, trampoline, NULL);
	if (rc < 0) {
		return fota_rs_errno_to_posix(rc);
	}
	client_cb = client_callback;
	initialized = true;
	return 0;
}

/*
 * Every start form ends here. sec_tags/count as NCS v2.6 takes them (NULL
 * or 0: no TLS unless the URL says https); the core copies the tags and the
 * strings during fota_rs_start.
 */
static int start_download(const char *host, const char *file, const int *sec_tags,
			  size_t sec_tag_count, uint8_t pdn_id, size_t fragment_size,
			  enum dfu_target_image_type expected_type)
{
	int32_t tags[FOTA_RS_COMPAT_MAX_SEC_TAGS];
	struct fota_rs_request req = { 0 };
	int rc;

	if (!initialized || host == NULL || file == NULL) {
		return -FR_EINVAL;
	}
	if (sec_tag_count > FOTA_RS_COMPAT_MAX_SEC_TAGS) {
		return -FR_E2BIG;
	}
#if SIZE_MAX > UINT32_MAX
	if (fragment_size > UINT32_MAX) {
		return -FR_EINVAL;
	}
#endif
	rc = map_expected_type(expected_type, &req);
	if (rc != 0) {
		return rc;
	}
	if (fota_rs_busy()) {
		return -FR_EALREADY;
	}
	req.host = host;
	req.file = file;
	if (sec_tags != NULL && sec_tag_count > 0) {
		for (size_t i = 0; i < sec_tag_count; i++) {
			tags[i] = (int32_t)sec_tags[i];
		}
		req.sec_tags = tags;
		req.sec_tag_count = (uint8_t)sec_tag_count;
	}
	req.pdn_id = pdn_id;
	req.frag_size = (uint32_t)fragment_size;

	return fota_rs_errno_to_posix(fota_rs_start(&req));
}

/* A single tag as every version before v2.6 takes it: negative means no TLS. */
static int start_single(const char *host, const char *file, int sec_tag, uint8_t pdn_id,
			size_t fragment_size, enum dfu_target_image_type expected_type)
{
	const int tag = sec_tag;

	return start_download(host, file, &tag, sec_tag < 0 ? 0 : 1, pdn_id, fragment_size,
			      expected_type);
}

#if FOTA_RS_NCS_START_APN
/*
 * v1.7: the network is named by APN. The port contract selects a PDN by id
 * only, so the default network (NULL or "") is all that can be honoured; a
 * named APN is refused rather than silently downloaded over another one.
 */
static int pdn_of_apn(const char *apn, uint8_t *pdn_id)
{
	if (apn != NULL && apn[0] != '\0') {
		return -FR_ENOTSUP;
	}
	*pdn_id = 0;
	return 0;
}

int fota_download_start_with_image_type(const char *host, const char *file, int sec_tag,
					const char *apn, size_t fragment_size,
					enum dfu_target_image_type expected_type)
{
	uint8_t pdn_id;
	int rc;

	if (!initialized || host == NULL || file == NULL) {
		return -FR_EINVAL;
	}
	rc = pdn_of_apn(apn, &pdn_id);
	if (rc != 0) {
		return rc;
	}
	return start_single(host, file, sec_tag, pdn_id, fragment_size, expected_type);
}

int fota_download_start(const char *host, const char *file, int sec_tag, const char *apn,
			size_t fragment_size)
{
	return fota_download_start_with_image_type(host, file, sec_tag, apn, fragment_size,
						   DFU_TARGET_IMAGE_TYPE_ANY);
}
#else
int fota_download_start_with_image_type(const char *host, const char *file, int sec_tag,
					uint8_t pdn_id, size_t fragment_size,
					enum dfu_target_image_type expected_type)
{
	return start_single(host, file, sec_tag, pdn_id, fragment_size, expected_type);
}

int fota_download_start(const char *host, const char *file, int sec_tag, uint8_t pdn_id,
			size_t fragment_size)
{
	return start_single(host, file, sec_tag, pdn_id, fragment_size,
			    DFU_TARGET_IMAGE_TYPE_ANY);
}
#endif /* FOTA_RS_NCS_START_APN */

#if FOTA_RS_NCS_HAS_SEC_TAG_LIST
int fota_download(const char *host, const char *file, const int *sec_tag_list,
		  uint8_t sec_tag_count, uint8_t pdn_id, size_t fragment_size,
		  enum dfu_target_image_type expected_type)
{
	return start_download(host, file, sec_tag_list, sec_tag_count, pdn_id, fragment_size,
			      expected_type);
}

int fota_download_any(const char *host, const char *file, const int *sec_tag_list,
		      uint8_t sec_tag_count, uint8_t pdn_id, size_t fragment_size)
{
	return start_download(host, file, sec_tag_list, sec_tag_count, pdn_id, fragment_size,
			      DFU_TARGET_IMAGE_TYPE_ANY);
}
#endif /* FOTA_RS_NCS_HAS_SEC_TAG_LIST */

void fota_download_progress_bytes(uint32_t *offset, uint32_t *total)
{
	if (offset != NULL) {
		*offset = progress_offset;
	}
	if (total != NULL) {
		*total = progress_total;
	}
}

int fota_download_cancel(void)
{
	int32_t rc;

	if (!initialized) {
		return -FR_EAGAIN;
	}
	rc = fota_rs_cancel();
	return rc < 0 ? fota_rs_errno_to_posix(rc) : 0;
}

int fota_download_target(void)
{
	if (!initialized) {
		return 0;
	}
	return map_image_type_back(fota_rs_current_image_type());
}

#if defined(FOTA_RS_COMPAT_WRAP_NCS) && FOTA_RS_COMPAT_WRAP_NCS && FOTA_RS_NCS_HAS_S0_ACTIVE_GET
/*
 * The build wraps every fota_download_* symbol, this one included. Which B1
 * slot runs is a question about the device, not the download, and NCS's
 * answer (linked in wrap mode) is the right one: pass the call through.
 */
int __real_fota_download_s0_active_get(bool *const s0_active);
int __wrap_fota_download_s0_active_get(bool *const s0_active);

int __wrap_fota_download_s0_active_get(bool *const s0_active)
{
	return __real_fota_download_s0_active_get(s0_active);
}
#endif
