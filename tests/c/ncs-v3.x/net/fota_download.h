/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the NCS 3.x fota_download interface (sdk-nrf 3.1.99, the
 * downloader era), declared for the host tests so that
 * compat/fota_download.c and a caller can be compiled against it. The SDK's
 * header also pulls in Zephyr's kernel headers, which nothing here needs.
 *
 * What 3.x changed from v2.6: the header includes <net/downloader.h>
 * instead of <net/download_client.h>; three causes follow INTERNAL (DFU,
 * PROTO_NOT_SUPPORTED, INVALID_CONFIGURATION); fota_download_with_host_cfg()
 * takes the downloader's host configuration; fota_download_b1_file_parse()
 * (since v2.7.0) picks the B1 file of a "s0.bin s1.bin" pair in place;
 * fragment_size 0 no longer names a Kconfig default.
 *
 * Checked by hand against sdk-nrf 3.1.99 (main) include/net/fota_download.h:
 * enum fota_download_evt_id PROGRESS, FINISHED, ERASE_PENDING,
 * ERASE_TIMEOUT, ERASE_DONE, ERROR, CANCELLED (0..6); enum
 * fota_download_error_cause NO_ERROR, CONNECT_FAILED, DOWNLOAD_FAILED,
 * INVALID_UPDATE, TYPE_MISMATCH, INTERNAL, DFU, PROTO_NOT_SUPPORTED,
 * INVALID_CONFIGURATION (0..8); the functions below with the same parameter
 * types, in the same order.
 */
#ifndef FOTA_DOWNLOAD_H_
#define FOTA_DOWNLOAD_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/downloader.h>
#include <dfu/dfu_target.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fota_download_evt_id {
	FOTA_DOWNLOAD_EVT_PROGRESS = 0,
	FOTA_DOWNLOAD_EVT_FINISHED = 1,
	FOTA_DOWNLOAD_EVT_ERASE_PENDING = 2,
	FOTA_DOWNLOAD_EVT_ERASE_TIMEOUT = 3,
	FOTA_DOWNLOAD_EVT_ERASE_DONE = 4,
	FOTA_DOWNLOAD_EVT_ERROR = 5,
	FOTA_DOWNLOAD_EVT_CANCELLED = 6,
};

enum fota_download_error_cause {
	FOTA_DOWNLOAD_ERROR_CAUSE_NO_ERROR = 0,
	/* The server could not be reached; wrong TLS credentials are one reason. */
	FOTA_DOWNLOAD_ERROR_CAUSE_CONNECT_FAILED = 1,
	/* The transfer failed; trying again may work. */
	FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED = 2,
	/* The image was rejected. */
	FOTA_DOWNLOAD_ERROR_CAUSE_INVALID_UPDATE = 3,
	/* The image is not of an expected type. */
	FOTA_DOWNLOAD_ERROR_CAUSE_TYPE_MISMATCH = 4,
	/* Something failed on the device itself. */
	FOTA_DOWNLOAD_ERROR_CAUSE_INTERNAL = 5,
	/* The DFU target (storing, scheduling) failed. */
	FOTA_DOWNLOAD_ERROR_CAUSE_DFU = 6,
	/* The URL's protocol is not supported. */
	FOTA_DOWNLOAD_ERROR_CAUSE_PROTO_NOT_SUPPORTED = 7,
	/* The URL or the configuration is not valid. */
	FOTA_DOWNLOAD_ERROR_CAUSE_INVALID_CONFIGURATION = 8,
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

/* sec_tag_list NULL or sec_tag_count 0: no TLS. -E2BIG above the maximum (5). */
int fota_download(const char *host, const char *file, const int *sec_tag_list,
		  uint8_t sec_tag_count, uint8_t pdn_id, size_t fragment_size,
		  const enum dfu_target_image_type expected_type);

/* As fota_download_start_with_image_type(), with the downloader's host options. */
int fota_download_with_host_cfg(const char *host, const char *file, int sec_tag,
				uint8_t pdn_id, size_t fragment_size,
				const enum dfu_target_image_type expected_type,
				const struct downloader_host_cfg *host_cfg);

/* fota_download() accepting any image type. */
int fota_download_any(const char *host, const char *file, const int *sec_tag_list,
		      uint8_t sec_tag_count, uint8_t pdn_id, size_t fragment_size);

/* One tag; -1 for none. */
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

/*
 * "s0.bin s1.bin" in place: the file of the slot that does not run moves to
 * the front. -EOPNOTSUPP without B1, -EIO, -ENOEXEC, -ENOMSG (no space).
 */
int fota_download_b1_file_parse(char *s0_s1_files);

#ifdef __cplusplus
}
#endif

#endif /* FOTA_DOWNLOAD_H_ */
