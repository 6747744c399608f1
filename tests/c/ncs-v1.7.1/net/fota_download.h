/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the NCS v1.7.1 fota_download interface (the SDK of the user
 * report), declared for the host tests. Same names, numbers and signatures
 * as the SDK's header. Its start functions name the network by APN
 * (`const char *apn`, NULL for the default); v1.8 replaced that with a
 * PDN id.
 *
 * Checked by hand against sdk-nrf v1.7.1 include/net/fota_download.h:
 * enum fota_download_evt_id PROGRESS, FINISHED, ERASE_PENDING, ERASE_DONE,
 * ERROR, CANCELLED (0..5); enum fota_download_error_cause NO_ERROR,
 * DOWNLOAD_FAILED, INVALID_UPDATE, TYPE_MISMATCH (0..3); the functions below
 * with the same parameter types, in the same order.
 */
#ifndef FOTA_DOWNLOAD_H_
#define FOTA_DOWNLOAD_H_

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
	FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED = 1,
	FOTA_DOWNLOAD_ERROR_CAUSE_INVALID_UPDATE = 2,
	FOTA_DOWNLOAD_ERROR_CAUSE_TYPE_MISMATCH = 3,
};

struct fota_download_evt {
	enum fota_download_evt_id id;
	union {
		enum fota_download_error_cause cause;
		int progress;
	};
};

typedef void (*fota_download_callback_t)(const struct fota_download_evt *evt);

int fota_download_init(fota_download_callback_t client_callback);

/* sec_tag -1 for no TLS; apn NULL for the default network. */
int fota_download_start(const char *host, const char *file, int sec_tag, const char *apn,
			size_t fragment_size);

int fota_download_start_with_image_type(const char *host, const char *file, int sec_tag,
					const char *apn, size_t fragment_size,
					const enum dfu_target_image_type expected_type);

int fota_download_cancel(void);

int fota_download_target(void);

#ifdef __cplusplus
}
#endif

#endif /* FOTA_DOWNLOAD_H_ */
