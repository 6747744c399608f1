/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NCS fota_download API on top of the fota-rs native API.
 *
 * This file is compiled against whichever <net/fota_download.h> the build
 * has: the SDK's own inside NCS, compat/include/net/fota_download.h
 * elsewhere. Event ids, error causes, image types and errno values are all
 * written here by name and never by number, so what the caller receives is
 * what its own header and its own C library define. That matters: NCS
 * renumbered the events and causes in v2.6, and errno differs between
 * newlib, Zephyr's minimal libc and Linux (ECONNREFUSED is 111 on one and 61
 * on another). The Rust core therefore speaks FOTA_RS_E* codes only, and
 * this is where they become errno.
 *
 * Causes that only some SDK versions name are selected with feature macros,
 * set by the build or derived from <ncs_version.h> when it exists:
 *   FOTA_RS_NCS_HAS_CAUSE_INTERNAL        FOTA_DOWNLOAD_ERROR_CAUSE_INTERNAL (v2.2+)
 *   FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED  FOTA_DOWNLOAD_ERROR_CAUSE_CONNECT_FAILED (v2.6+)
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/fota_download.h>

#include "fota_rs.h"
#include "fota_rs_platform.h"

#if !defined(FOTA_RS_COMPAT_FOTA_DOWNLOAD_H) && defined(__has_include)
#if __has_include(<ncs_version.h>)
#include <ncs_version.h>
#endif
#endif

#if defined(NCS_VERSION_NUMBER) && !defined(FOTA_RS_COMPAT_FOTA_DOWNLOAD_H)
#if NCS_VERSION_NUMBER >= 0x020200 && !defined(FOTA_RS_NCS_HAS_CAUSE_INTERNAL)
#define FOTA_RS_NCS_HAS_CAUSE_INTERNAL 1
#endif
#if NCS_VERSION_NUMBER >= 0x020600 && !defined(FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED)
#define FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED 1
#endif
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
#if defined(FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED)
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
#if defined(FOTA_RS_NCS_HAS_CAUSE_INTERNAL)
		return FOTA_DOWNLOAD_ERROR_CAUSE_INTERNAL;
#else
		return FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED;
#endif
	}
	/* An ERROR event must carry some failure, never NO_ERROR by accident. */
	return FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED;
}

/* Image types by name: v2.0 counts 0..3, v2.6 uses a bitmask with ANY = 7. */
static int map_expected_type(enum dfu_target_image_type type, uint8_t *out)
{
	switch (type) {
	case DFU_TARGET_IMAGE_TYPE_ANY:
		*out = FOTA_RS_IMAGE_ANY;
		return 0;
	case DFU_TARGET_IMAGE_TYPE_MCUBOOT:
		*out = FOTA_RS_IMAGE_MCUBOOT;
		return 0;
	case DFU_TARGET_IMAGE_TYPE_MODEM_DELTA:
		*out = FOTA_RS_IMAGE_MODEM_DELTA;
		return 0;
	case DFU_TARGET_IMAGE_TYPE_FULL_MODEM:
		*out = FOTA_RS_IMAGE_FULL_MODEM;
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
	/* fota_rs_init may keep the pointer; the tags it points to are static too. */
	static struct fota_rs_config cfg;
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

int fota_download_start_with_image_type(const char *host, const char *file, int sec_tag,
					uint8_t pdn_id, size_t fragment_size,
					enum dfu_target_image_type expected_type)
{
	/* Static: the request may outlive this call on the download thread. */
	static int32_t tag;
	struct fota_rs_request req = { 0 };
	int rc;

	if (!initialized || host == NULL || file == NULL) {
		return -FR_EINVAL;
	}
#if SIZE_MAX > UINT32_MAX
	if (fragment_size > UINT32_MAX) {
		return -FR_EINVAL;
	}
#endif
	rc = map_expected_type(expected_type, &req.expected_type);
	if (rc != 0) {
		return rc;
	}
	if (fota_rs_busy()) {
		return -FR_EALREADY;
	}
	req.host = host;
	req.file = file;
	/* -1 is the API's "no TLS" (plain http unless the URL says https). */
	if (sec_tag == -1) {
		req.sec_tags = NULL;
		req.sec_tag_count = 0;
	} else {
		tag = (int32_t)sec_tag;
		req.sec_tags = &tag;
		req.sec_tag_count = 1;
	}
	req.pdn_id = pdn_id;
	req.frag_size = (uint32_t)fragment_size;

	return fota_rs_errno_to_posix(fota_rs_start(&req));
}

int fota_download_start(const char *host, const char *file, int sec_tag, uint8_t pdn_id,
			size_t fragment_size)
{
	return fota_download_start_with_image_type(host, file, sec_tag, pdn_id, fragment_size,
						   DFU_TARGET_IMAGE_TYPE_ANY);
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
