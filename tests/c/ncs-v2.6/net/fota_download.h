/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the NCS v2.6 fota_download interface, declared for the
 * host tests so that compat/fota_download.c and a caller can be compiled
 * against it. Same names, numbers and signatures as the SDK's header; the
 * SDK's header also pulls in Zephyr's kernel and download_client headers,
 * which nothing here needs.
 *
 * What v2.6 changed from v2.0: ERASE_TIMEOUT sits between ERASE_PENDING and
 * ERASE_DONE (so ERASE_DONE, ERROR and CANCELLED each moved up by one),
 * CONNECT_FAILED sits after NO_ERROR (moving every later cause up by one),
 * the image types are a bitmask, and fota_download() / fota_download_any()
 * take a list of TLS tags.
 *
 * Checked by hand against sdk-nrf v2.6.0 include/net/fota_download.h:
 * enum fota_download_evt_id PROGRESS .. CANCELLED (0..6, ERASE_TIMEOUT = 3);
 * enum fota_download_error_cause NO_ERROR, CONNECT_FAILED, DOWNLOAD_FAILED,
 * INVALID_UPDATE, TYPE_MISMATCH, INTERNAL (0..5); the functions below with
 * the same parameter types, in the same order.
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
	/* Part of the image was stored; carries the percentage. */
	FOTA_DOWNLOAD_EVT_PROGRESS = 0,
	/* The image is stored and marked for the bootloader. */
	FOTA_DOWNLOAD_EVT_FINISHED = 1,
	/* A slot erase is under way. */
	FOTA_DOWNLOAD_EVT_ERASE_PENDING = 2,
	/* The erase is taking longer than expected; it goes on. */
	FOTA_DOWNLOAD_EVT_ERASE_TIMEOUT = 3,
	/* The erase has completed. */
	FOTA_DOWNLOAD_EVT_ERASE_DONE = 4,
	/* The download stopped; carries the cause. */
	FOTA_DOWNLOAD_EVT_ERROR = 5,
	/* The download stopped on request. */
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

/*
 * sec_tag_list: the TLS tags to offer, or NULL (with sec_tag_count 0) for
 * none. -E2BIG when sec_tag_count exceeds the configured maximum
 * (CONFIG_FOTA_DOWNLOAD_SEC_TAG_LIST_SIZE_MAX, default 5).
 */
int fota_download(const char *host, const char *file, const int *sec_tag_list,
		  uint8_t sec_tag_count, uint8_t pdn_id, size_t fragment_size,
		  const enum dfu_target_image_type expected_type);

/* fota_download() accepting any image type. */
int fota_download_any(const char *host, const char *file, const int *sec_tag_list,
		      uint8_t sec_tag_count, uint8_t pdn_id, size_t fragment_size);

/* One tag; negative for none. */
int fota_download_start(const char *host, const char *file, int sec_tag, uint8_t pdn_id,
			size_t fragment_size);

int fota_download_start_with_image_type(const char *host, const char *file, int sec_tag,
					uint8_t pdn_id, size_t fragment_size,
					const enum dfu_target_image_type expected_type);

/* 0, or -EAGAIN when no download runs. */
int fota_download_cancel(void);

/* The running download's image type; 0 before it is known. */
int fota_download_target(void);

/* Which B1 bootloader slot runs (s0 or s1). */
int fota_download_s0_active_get(bool *const s0_active);

#ifdef __cplusplus
}
#endif

#endif /* FOTA_DOWNLOAD_H_ */
