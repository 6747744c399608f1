/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nRF Connect SDK v2.0.0 fota_download interface, declared for builds
 * that do not have the SDK (host tests, plain Zephyr).
 *
 * An application written against NCS's <net/fota_download.h> compiles
 * unchanged against this file, and fota-rs's compat/fota_download.c
 * implements it. The numbers are those of v2.0.0; NCS renumbered the events
 * and causes in v2.6, so a build against a newer SDK must use the SDK's own
 * header instead (both use the same include guard, so whichever comes first
 * wins and the two never mix).
 */
#ifndef FOTA_DOWNLOAD_H_
#define FOTA_DOWNLOAD_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The image type enum belongs to dfu_target.h in the SDK. Take it from there
 * when the build has that header, so including both in any order works;
 * declare the v2.0 values here otherwise.
 */
#if !defined(DFU_TARGET_H__) && defined(__has_include)
#if __has_include(<dfu/dfu_target.h>)
#include <dfu/dfu_target.h>
#endif
#endif

#if !defined(DFU_TARGET_H__) && !defined(FOTA_RS_COMPAT_DFU_TARGET_IMAGE_TYPE)
#define FOTA_RS_COMPAT_DFU_TARGET_IMAGE_TYPE 1
/** Kind of image a download carries (NCS v2.0 numbering). */
enum dfu_target_image_type {
	/** No expectation: accept whatever the first bytes say. */
	DFU_TARGET_IMAGE_TYPE_ANY = 0,
	/** Application image for MCUboot. */
	DFU_TARGET_IMAGE_TYPE_MCUBOOT = 1,
	/** nRF91 modem delta update. */
	DFU_TARGET_IMAGE_TYPE_MODEM_DELTA = 2,
	/** nRF91 full modem firmware. */
	DFU_TARGET_IMAGE_TYPE_FULL_MODEM = 3,
};
#endif

/* Lets code tell this declaration from the SDK's. */
#define FOTA_RS_COMPAT_FOTA_DOWNLOAD_H 1

#ifdef __cplusplus
extern "C" {
#endif

/** What the callback is told about. */
enum fota_download_evt_id {
	/** A fragment was stored; the event carries the percentage done. */
	FOTA_DOWNLOAD_EVT_PROGRESS = 0,
	/** The image is complete, checked and marked for the bootloader. */
	FOTA_DOWNLOAD_EVT_FINISHED = 1,
	/** The update slot is being erased before the download can go on. */
	FOTA_DOWNLOAD_EVT_ERASE_PENDING = 2,
	/** The slot erase announced by ERASE_PENDING has completed. */
	FOTA_DOWNLOAD_EVT_ERASE_DONE = 3,
	/** The download stopped; the event carries the cause. */
	FOTA_DOWNLOAD_EVT_ERROR = 4,
	/** fota_download_cancel() took effect. */
	FOTA_DOWNLOAD_EVT_CANCELLED = 5,
};

/** Why a FOTA_DOWNLOAD_EVT_ERROR happened. */
enum fota_download_error_cause {
	FOTA_DOWNLOAD_ERROR_CAUSE_NO_ERROR = 0,
	/** Fetching the image failed (network, server, TLS or storage). */
	FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED = 1,
	/** The image arrived but is not acceptable to the bootloader. */
	FOTA_DOWNLOAD_ERROR_CAUSE_INVALID_UPDATE = 2,
	/** The image is not of the type the caller asked for. */
	FOTA_DOWNLOAD_ERROR_CAUSE_TYPE_MISMATCH = 3,
};

/** One event. Which union member is valid depends on id. */
struct fota_download_evt {
	enum fota_download_evt_id id;
	union {
		/** For FOTA_DOWNLOAD_EVT_ERROR. */
		enum fota_download_error_cause cause;
		/** For FOTA_DOWNLOAD_EVT_PROGRESS: percent of the image received. */
		int progress;
	};
};

/** Called from the download thread for every event. */
typedef void (*fota_download_callback_t)(const struct fota_download_evt *evt);

/**
 * Register the event callback and prepare the library. Call once before
 * any other function.
 *
 * @return 0, or -EINVAL when client_callback is NULL, or another negative
 *         errno when the platform could not be set up.
 */
int fota_download_init(fota_download_callback_t client_callback);

/**
 * Start downloading an image of any type.
 *
 * @param host     Server, "server:port", or a full URL (http:// or https://).
 * @param file     Path of the image, or the same full URL.
 * @param sec_tag  TLS credential tag of the server's CA, or -1 for no TLS.
 * @param pdn_id   Packet data network to use; 0 for the default one.
 * @param fragment_size  Bytes per ranged request over TLS; 0 for the default.
 *
 * @return 0 when the download runs; a negative errno otherwise: -EINVAL
 *         (bad argument or not initialised), -EALREADY (one runs already),
 *         or the connect failure, e.g. -ECONNREFUSED for a refused TCP port
 *         or a TLS handshake the server or the credentials rejected.
 */
int fota_download_start(const char *host, const char *file, int sec_tag, uint8_t pdn_id,
			size_t fragment_size);

/**
 * As fota_download_start(), but fail with a TYPE_MISMATCH error event when
 * the image is not of expected_type (DFU_TARGET_IMAGE_TYPE_ANY accepts all).
 */
int fota_download_start_with_image_type(const char *host, const char *file, int sec_tag,
					uint8_t pdn_id, size_t fragment_size,
					enum dfu_target_image_type expected_type);

/**
 * Stop the running download. As in NCS v2.0.0, FOTA_DOWNLOAD_EVT_CANCELLED
 * is delivered from inside this call, before it returns.
 *
 * @return 0; -EACCES (CANCELLED still delivered) when the image type was
 *         not known yet; -EAGAIN when no download runs.
 */
int fota_download_cancel(void);

/**
 * @return The image type of the running download (an enum
 *         dfu_target_image_type value), 0 while it is not known yet.
 */
int fota_download_target(void);

/**
 * Which B1 bootloader slot runs (NCS v2.0.0+).
 *
 * @return 0, or -ENOENT when the build has no B1 bootloader with two slots.
 */
int fota_download_s0_active_get(bool *const s0_active);

/**
 * fota-rs extension, not in NCS: the image bytes received and the image
 * size (0 while unknown) of the PROGRESS event being delivered. Call it from
 * the callback, on the download thread, for a PROGRESS event; NCS's event
 * carries the percentage only.
 */
void fota_download_progress_bytes(uint32_t *offset, uint32_t *total);

#ifdef __cplusplus
}
#endif

#endif /* FOTA_DOWNLOAD_H_ */
