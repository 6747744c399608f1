/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the NCS v2.4 fota_download interface, declared for the
 * host tests so that compat/fota_download.c and a caller can be compiled
 * against it. The SDK's header also pulls in Zephyr's kernel and
 * download_client headers, which nothing here needs.
 *
 * v2.4 numbers events and causes as v2.0 does, plus the INTERNAL cause
 * (since v2.2.0), and takes bit-valued image types. What changed is
 * behaviour: the connect runs on the download thread (a refused one is an
 * ERROR event with DOWNLOAD_FAILED, start having returned 0), the library
 * is free before every final event, and cancel waits for the end.
 *
 * Checked by hand against sdk-nrf v2.4.0 include/net/fota_download.h:
 * enum fota_download_evt_id PROGRESS, FINISHED, ERASE_PENDING, ERASE_DONE,
 * ERROR, CANCELLED (0..5); enum fota_download_error_cause NO_ERROR,
 * DOWNLOAD_FAILED, INVALID_UPDATE, TYPE_MISMATCH, INTERNAL (0..4); the
 * functions below with the same parameter types, in the same order.
 */
#ifndef FOTA_DOWNLOAD_H_
#define FOTA_DOWNLOAD_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dfu/dfu_target.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fota_download_evt_id {
	FOTA_DOWNLOAD_EVT_PROGRESS = 0,
	FOTA_DOWNLOAD_EVT_FINISHED = 1,
	FOTA_DOWNLOAD_EVT_ERASE_PENDING = 2,
	FOTA_DOWNLOAD_EVT_ERASE_DONE = 3,
	FOTA_DOWNLOAD_EVT_ERROR = 4,
	FOTA_DOWNLOAD_EVT_CANCELLED = 5,
};

enum fota_download_error_cause {
	FOTA_DOWNLOAD_ERROR_CAUSE_NO_ERROR = 0,
	/* The transfer failed (a refused connect included); trying again may work. */
	FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED = 1,
	/* The image was rejected. */
	FOTA_DOWNLOAD_ERROR_CAUSE_INVALID_UPDATE = 2,
	/* The image is not of an expected type. */
	FOTA_DOWNLOAD_ERROR_CAUSE_TYPE_MISMATCH = 3,
	/* Something failed on the device itself. */
	FOTA_DOWNLOAD_ERROR_CAUSE_INTERNAL = 4,
};

struct fota_download_evt {
	enum fota_download_evt_id id;
	union {
		/* With FOTA_DOWNLOAD_EVT_ERROR. */
		enum fota_download_error_cause cause;
		/* With FOTA_DOWNLOAD_EVT_PROGRESS: percent. */
		int progress;
	};
};

typedef void (*fota_download_callback_t)(const struct fota_download_evt *evt);

int fota_download_init(fota_download_callback_t client_callback);

/* One tag; -1 for none. Host and file must stay valid until the end. */
int fota_download_start(const char *host, const char *file, int sec_tag, uint8_t pdn_id,
			size_t fragment_size);

int fota_download_start_with_image_type(const char *host, const char *file, int sec_tag,
					uint8_t pdn_id, size_t fragment_size,
					const enum dfu_target_image_type expected_type);

/* 0 once the download has stopped, or -EAGAIN when none runs. */
int fota_download_cancel(void);

/* The running download's image type; 0 before it is known. */
int fota_download_target(void);

/* Which B1 bootloader slot runs (s0 or s1). */
int fota_download_s0_active_get(bool *const s0_active);

#ifdef __cplusplus
}
#endif

#endif /* FOTA_DOWNLOAD_H_ */
