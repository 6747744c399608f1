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
 * The generation's feature macros are described in ncs_generation.h, the
 * errno names in errno_posix.h; the B1 calls are in fota_download_b1.c.
 */
#if !defined(__ZEPHYR__) && (defined(__unix__) || defined(__APPLE__)) && !defined(_POSIX_C_SOURCE)
/* pthread_self() under -std=c11. */
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ncs_generation.h"
#include "errno_posix.h"

/*
 * Which thread runs: the download thread must never wait for itself (a
 * cancel or a start made from inside an event callback). Zephyr and POSIX
 * say which thread runs; elsewhere "a callback is running" stands in.
 */
#if defined(__ZEPHYR__)
#if defined(__has_include) && __has_include(<zephyr/kernel.h>)
#include <zephyr/kernel.h>
#else
#include <kernel.h>
#endif
#define FRS_HAVE_THREAD_ID 1
typedef k_tid_t frs_thread_id;
#define frs_self() k_current_get()
#define frs_same_thread(a, b) ((a) == (b))
#elif defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define FRS_HAVE_THREAD_ID 1
typedef pthread_t frs_thread_id;
#define frs_self() pthread_self()
#define frs_same_thread(a, b) pthread_equal((a), (b))
#else
#define FRS_HAVE_THREAD_ID 0
#endif

/* NCS's cancel() and the start after a final event poll every 10 ms. */
#define FRS_POLL_MS 10u
/* The core is free a moment after its final callback returns. */
#define FRS_HANDOVER_MS 5000u

/*
 * State shared by the caller's threads and the download thread, read and
 * written with the compiler's atomics (GCC and Clang, every target here).
 */
static fota_download_callback_t client_cb;
static bool initialized;
/* Bytes of the last PROGRESS event, which NCS's event has no room for. */
static uint32_t progress_offset;
static uint32_t progress_total;
/* NCS's "downloading" flag: set by a successful start, cleared by the end. */
static int dl_active;
/* A final event's callback runs (the library has handed over its end). */
static int final_running;
/* Callbacks running on the download thread (nested calls count). */
static int cb_running;
#if FRS_HAVE_THREAD_ID
static frs_thread_id cb_thread;
#endif

/* v1.7 .. v2.3: cancel() itself delivers CANCELLED; see fota_download_cancel. */
enum cancel_state {
	CANCEL_NONE,
	/* cancel() waits for the core on another thread. */
	CANCEL_WAITING,
	/* The core ended with CANCELLED: cancel() reports it. */
	CANCEL_CORE_STOPPED,
	/* The core ended otherwise first (FINISHED, ERROR): that was reported. */
	CANCEL_LOST_RACE,
	/* cancel() already reported CANCELLED: drop the core's final event. */
	CANCEL_REPORTED,
};
static int cancel_state;

/* The cause of a connect failure reported from the download thread (v2.4+). */
static int pending_cause;

static int load(const int *v)
{
	return __atomic_load_n(v, __ATOMIC_ACQUIRE);
}

static void store(int *v, int x)
{
	__atomic_store_n(v, x, __ATOMIC_RELEASE);
}

static fota_download_callback_t callback_get(void)
{
	return __atomic_load_n(&client_cb, __ATOMIC_ACQUIRE);
}

/* Is the caller the download thread (inside one of our callbacks)? */
static bool on_download_thread(void)
{
	if (load(&cb_running) == 0) {
		return false;
	}
#if FRS_HAVE_THREAD_ID
	frs_thread_id t;

	__atomic_load(&cb_thread, &t, __ATOMIC_ACQUIRE);
	return frs_same_thread(frs_self(), t);
#else
	return true;
#endif
}

static void sleep_poll(void)
{
	const struct fota_rs_port *port = fota_rs_platform_port();

	if (port != NULL && port->sleep_ms != NULL) {
		port->sleep_ms(port->ctx, FRS_POLL_MS);
	}
}

/* Deliver one event to the caller, recorded as running on this thread. */
static void deliver(const struct fota_download_evt *evt)
{
	fota_download_callback_t cb = callback_get();

	if (cb == NULL) {
		return;
	}
#if FRS_HAVE_THREAD_ID
	{
		frs_thread_id self = frs_self();

		__atomic_store(&cb_thread, &self, __ATOMIC_RELEASE);
	}
#endif
	__atomic_add_fetch(&cb_running, 1, __ATOMIC_ACQ_REL);
	cb(evt);
	__atomic_sub_fetch(&cb_running, 1, __ATOMIC_ACQ_REL);
}

/* A final event: the library is free before (v2.4+) or after (FINISHED before v2.4) it. */
static void deliver_final(const struct fota_download_evt *evt)
{
	const bool free_after = !FOTA_RS_NCS_ASYNC && evt->id == FOTA_DOWNLOAD_EVT_FINISHED;

	/* Set first, so that cancel() never sees the library free and the event unsent. */
	store(&final_running, 1);
	if (!free_after) {
		store(&dl_active, 0);
	}
	deliver(evt);
	store(&final_running, 0);
	if (free_after) {
		store(&dl_active, 0);
	}
}

/*
 * fota-rs cause -> the caller's cause. The one place to extend when an SDK
 * version names more causes: add the name under its feature macro and keep
 * the older fallback in the #else. `error` is the event's FOTA_RS_E* code,
 * which the 3.x causes are told apart by, as NCS 3.x tells them by errno.
 */
static enum fota_download_error_cause map_cause(uint8_t cause, int32_t error)
{
#if FOTA_RS_NCS_DOWNLOADER
	struct fota_rs_diag d;

	/* NCS 3.x: a failure of the DFU target (flash, scheduling) is DFU. */
	if ((enum fota_rs_cause)cause == FOTA_RS_CAUSE_INTERNAL && fota_rs_diag_get(&d) == 0 &&
	    (d.stage == FOTA_RS_STAGE_FLASH || d.stage == FOTA_RS_STAGE_SCHEDULE)) {
		return FOTA_DOWNLOAD_ERROR_CAUSE_DFU;
	}
	if ((enum fota_rs_cause)cause != FOTA_RS_CAUSE_NONE) {
		switch ((enum fota_rs_errno)(error < 0 ? -error : error)) {
		case FOTA_RS_ENOTSUP:
			if ((enum fota_rs_cause)cause == FOTA_RS_CAUSE_CONNECT_FAILED ||
			    (enum fota_rs_cause)cause == FOTA_RS_CAUSE_DOWNLOAD_FAILED) {
				return FOTA_DOWNLOAD_ERROR_CAUSE_PROTO_NOT_SUPPORTED;
			}
			break;
		case FOTA_RS_EINVAL:
			if ((enum fota_rs_cause)cause == FOTA_RS_CAUSE_CONNECT_FAILED) {
				return FOTA_DOWNLOAD_ERROR_CAUSE_INVALID_CONFIGURATION;
			}
			break;
		default:
			break;
		}
	}
#else
	(void)error;
#endif
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
 * The cause NCS gives a connect that failed on its download thread (v2.4+),
 * by the errno it failed with: v2.4.0 DOWNLOAD_FAILED for all; v2.6.0
 * CONNECT_FAILED for ECONNREFUSED and ECONNABORTED; 3.x also for
 * EHOSTUNREACH and ENETDOWN, INVALID_CONFIGURATION for EINVAL and
 * INTERNAL for what it does not list.
 */
static enum fota_download_error_cause connect_failure_cause(int32_t rc)
{
	const enum fota_rs_errno code = (enum fota_rs_errno)(rc < 0 ? -rc : rc);

	(void)code;
#if FOTA_RS_NCS_DOWNLOADER
	switch (code) {
	case FOTA_RS_ECONNREFUSED:
	case FOTA_RS_ECONNABORTED:
	case FOTA_RS_EHOSTUNREACH:
	case FOTA_RS_ENETUNREACH:
		return FOTA_DOWNLOAD_ERROR_CAUSE_CONNECT_FAILED;
	case FOTA_RS_ECONNRESET:
	case FOTA_RS_ETIMEDOUT:
	case FOTA_RS_EBADMSG:
	case FOTA_RS_ERANGE:
	case FOTA_RS_E2BIG:
		return FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED;
	case FOTA_RS_ENOTSUP:
		return FOTA_DOWNLOAD_ERROR_CAUSE_PROTO_NOT_SUPPORTED;
	case FOTA_RS_EINVAL:
		return FOTA_DOWNLOAD_ERROR_CAUSE_INVALID_CONFIGURATION;
	default:
		return FOTA_DOWNLOAD_ERROR_CAUSE_INTERNAL;
	}
#elif FOTA_RS_NCS_HAS_CAUSE_CONNECT_FAILED
	if (code == FOTA_RS_ECONNREFUSED || code == FOTA_RS_ECONNABORTED) {
		return FOTA_DOWNLOAD_ERROR_CAUSE_CONNECT_FAILED;
	}
	return FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED;
#else
	return FOTA_DOWNLOAD_ERROR_CAUSE_DOWNLOAD_FAILED;
#endif
}

/*
 * v1.7 - v2.1 count the image types (ANY = 0, FULL_MODEM = 3); v2.2 made
 * them bits (ANY = MCUBOOT | MODEM_DELTA | FULL_MODEM = 7, 3.x adds CUSTOM)
 * so a caller can accept a subset. The header's own ANY tells which form is
 * in use; the comparison is a constant the compiler folds.
 */
static bool image_types_are_bits(void)
{
	return (int)DFU_TARGET_IMAGE_TYPE_ANY != 0;
}

/*
 * The caller's expectation as the core's: one type, or (bitmask naming
 * several) the set in the request's expected_type_mask.
 */
static int map_expected_type(enum dfu_target_image_type type, struct fota_rs_request *req)
{
	req->expected_type = FOTA_RS_IMAGE_ANY;
	req->expected_type_mask = 0;
	if (image_types_are_bits()) {
		const uint32_t mcuboot = (uint32_t)DFU_TARGET_IMAGE_TYPE_MCUBOOT;
		const uint32_t delta = (uint32_t)DFU_TARGET_IMAGE_TYPE_MODEM_DELTA;
		const uint32_t full = (uint32_t)DFU_TARGET_IMAGE_TYPE_FULL_MODEM;
		/* Bits the core knows nothing of (SMP, CUSTOM) cannot match a download here. */
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
	switch ((int)type) {
	case 0: /* DFU_TARGET_IMAGE_TYPE_ANY in the counted form */
		req->expected_type = FOTA_RS_IMAGE_ANY;
		return 0;
	case (int)DFU_TARGET_IMAGE_TYPE_MCUBOOT:
		req->expected_type = FOTA_RS_IMAGE_MCUBOOT;
		return 0;
	case (int)DFU_TARGET_IMAGE_TYPE_MODEM_DELTA:
		req->expected_type = FOTA_RS_IMAGE_MODEM_DELTA;
		return 0;
	case (int)DFU_TARGET_IMAGE_TYPE_FULL_MODEM:
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

/*
 * The caller's event id for each of the core's, by name (NCS renumbered
 * them in v2.6); a table rather than a switch: the ids are small and dense.
 */
static const uint8_t event_ids[] = {
	[FOTA_RS_EVT_PROGRESS] = FOTA_DOWNLOAD_EVT_PROGRESS,
	[FOTA_RS_EVT_FINISHED] = FOTA_DOWNLOAD_EVT_FINISHED,
	[FOTA_RS_EVT_ERASE_PENDING] = FOTA_DOWNLOAD_EVT_ERASE_PENDING,
	[FOTA_RS_EVT_ERASE_DONE] = FOTA_DOWNLOAD_EVT_ERASE_DONE,
	[FOTA_RS_EVT_ERROR] = FOTA_DOWNLOAD_EVT_ERROR,
	[FOTA_RS_EVT_CANCELLED] = FOTA_DOWNLOAD_EVT_CANCELLED,
};

static void trampoline(const struct fota_rs_event *e, void *user)
{
	struct fota_download_evt evt = { 0 };
	bool final;

	(void)user;
	/* An event the caller's header has no name for: it cannot expect it. */
	if (e == NULL || e->id >= sizeof(event_ids)) {
		return;
	}
	evt.id = (enum fota_download_evt_id)event_ids[e->id];
	final = e->id == FOTA_RS_EVT_FINISHED || e->id == FOTA_RS_EVT_ERROR ||
		e->id == FOTA_RS_EVT_CANCELLED;
	if (e->id == FOTA_RS_EVT_PROGRESS) {
		evt.progress = e->progress;
		progress_offset = e->offset;
		progress_total = e->total;
	} else if (e->id == FOTA_RS_EVT_ERROR) {
		evt.cause = map_cause(e->cause, e->error);
	}
	if (!final) {
		/* Once cancel() has begun nothing more is said (v1.7 - v2.3: it closed the socket). */
		if (load(&cancel_state) == CANCEL_NONE) {
			deliver(&evt);
		}
		return;
	}
	if (!FOTA_RS_NCS_ASYNC) {
		int expected = CANCEL_WAITING;

		if (load(&cancel_state) == CANCEL_REPORTED) {
			return;
		}
		/* cancel() waits on another thread: it reports CANCELLED itself. */
		if (__atomic_compare_exchange_n(&cancel_state, &expected,
						e->id == FOTA_RS_EVT_CANCELLED ? CANCEL_CORE_STOPPED
									       : CANCEL_LOST_RACE,
						false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
		    e->id == FOTA_RS_EVT_CANCELLED) {
			return;
		}
	}
	deliver_final(&evt);
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
	/*
	 * Every NCS version returns 0 here and replaces the callback, also while
	 * a download runs (v1.7.1/v2.0.0 reinitialise unconditionally, v2.4.0+
	 * skip the rest once initialised); the running download goes on.
	 */
	if (initialized && (load(&dl_active) != 0 || fota_rs_busy())) {
		__atomic_store_n(&client_cb, client_callback, __ATOMIC_RELEASE);
		return 0;
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
	__atomic_store_n(&client_cb, client_callback, __ATOMIC_RELEASE);
	initialized = true;
	return 0;
}

/* v2.4+: the connect failed; say so from the download thread, as NCS does. */
static void report_connect_failure(void *arg)
{
	struct fota_download_evt evt = { 0 };

	(void)arg;
	evt.id = FOTA_DOWNLOAD_EVT_ERROR;
	evt.cause = (enum fota_download_error_cause)load(&pending_cause);
	deliver_final(&evt);
}

/* Did the core's start fail while reaching the server (DNS, TCP, TLS)? */
static bool failed_connecting(void)
{
	struct fota_rs_diag d;

	if (fota_rs_diag_get(&d) != 0) {
		return false;
	}
	return d.stage == FOTA_RS_STAGE_DNS || d.stage == FOTA_RS_STAGE_CONNECT ||
	       d.stage == FOTA_RS_STAGE_TLS;
}

/*
 * The core's start, with the connect's outcome where NCS puts it: before
 * v2.4 the return value (and errno, left by the failed socket call); from
 * v2.4 an ERROR event from the download thread after a return of 0. errno
 * is the caller's again afterwards, but for that failed socket call: the
 * port's own socket calls are not NCS's.
 */
static int start_core(const struct fota_rs_request *req)
{
	const int saved_errno = errno;
	const struct fota_rs_port *port;
	int32_t rc;
	int err;

	rc = fota_rs_start(req);
	errno = saved_errno;
	if (rc == 0) {
		return 0;
	}
	err = fota_rs_errno_to_posix(rc);
	if (!failed_connecting()) {
		return err;
	}
	if (!FOTA_RS_NCS_ASYNC) {
		/* NCS's connect() failed and set errno (Memfault reads it). */
		errno = -err;
		return err;
	}
	port = fota_rs_platform_port();
	store(&pending_cause, (int)connect_failure_cause(rc));
	if (port != NULL && port->start_worker != NULL &&
	    port->start_worker(port->ctx, report_connect_failure, NULL) == 0) {
		return 0;
	}
	/* No thread to report from: the failure can only be returned. */
	return err;
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
	int expected = 0;
	int rc;

	if (!initialized || host == NULL || file == NULL) {
		return -FR_EINVAL;
	}
	/*
	 * A count without a list is what NCS v2.6.0+ defines it as: no TLS
	 * (its header: "Pass NULL to disable TLS"; its code copies the list only
	 * when `list != NULL && count > 0`). An https URL then fails to connect
	 * (no tag to verify the server with), reported as NCS reports it.
	 */
	if (sec_tags == NULL) {
		sec_tag_count = 0;
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
	if (!__atomic_compare_exchange_n(&dl_active, &expected, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		return -FR_EALREADY;
	}
	/*
	 * The library is free; the core may still be returning from the last
	 * final event's callback. Wait for it, unless this is that callback
	 * (the download thread cannot wait for itself).
	 */
	for (uint32_t waited = 0; fota_rs_busy(); waited += FRS_POLL_MS) {
		if (on_download_thread() || waited >= FRS_HANDOVER_MS) {
			store(&dl_active, 0);
			return -FR_EALREADY;
		}
		sleep_poll();
	}
	store(&cancel_state, CANCEL_NONE);
	req.host = host;
	req.file = file;
	if (sec_tag_count > 0) {
		for (size_t i = 0; i < sec_tag_count; i++) {
			tags[i] = (int32_t)sec_tags[i];
		}
		req.sec_tags = tags;
		req.sec_tag_count = (uint8_t)sec_tag_count;
	}
	req.pdn_id = pdn_id;
	req.frag_size = (uint32_t)(fragment_size != 0 ? fragment_size : FRS_DEFAULT_FRAG_SIZE);

	rc = start_core(&req);
	if (rc != 0) {
		store(&dl_active, 0);
	}
	return rc;
}

/* A single tag as every version takes it: negative means no TLS (v1.7 - v2.9). */
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

/*
 * A fota-rs extension: compat/include's header declares it, a caller's own
 * NCS header does not (hence the declaration here, for -Wmissing-prototypes).
 */
void fota_download_progress_bytes(uint32_t *offset, uint32_t *total);

void fota_download_progress_bytes(uint32_t *offset, uint32_t *total)
{
	if (offset != NULL) {
		*offset = progress_offset;
	}
	if (total != NULL) {
		*total = progress_total;
	}
}

#if FOTA_RS_NCS_DOWNLOADER
/*
 * NCS 3.x (nrf_cloud's path, Memfault over CoAP): the host configuration's
 * tag list is used when sec_tag is -1 (NCS copies the whole configuration,
 * then overrides pdn_id, the range and, for a tag other than -1, the list).
 * Its transport options (native TLS, keep_connection, CID, family, auth_cb,
 * proxy_uri, redirects_max) have no counterpart in the port contract and are
 * not used.
 */
int fota_download_with_host_cfg(const char *host, const char *file, int sec_tag, uint8_t pdn_id,
				size_t fragment_size,
				const enum dfu_target_image_type expected_type,
				const struct downloader_host_cfg *host_cfg)
{
	if (host_cfg == NULL) {
		return -FR_EINVAL;
	}
	if (sec_tag != -1) {
		return start_single(host, file, sec_tag, pdn_id, fragment_size, expected_type);
	}
	if (host_cfg->sec_tag_list == NULL || host_cfg->sec_tag_count == 0) {
		return start_download(host, file, NULL, 0, pdn_id, fragment_size, expected_type);
	}
	return start_download(host, file, host_cfg->sec_tag_list, host_cfg->sec_tag_count,
			      pdn_id, fragment_size, expected_type);
}
#endif /* FOTA_RS_NCS_DOWNLOADER */

/*
 * v1.7 - v2.3: CANCELLED is sent from inside cancel() (after the socket is
 * closed) and the library is free as cancel() begins. v2.4+: cancel() asks
 * the download thread to stop and returns once it has (CANCELLED was then
 * delivered from that thread). Both return -EACCES instead of 0 when no DFU
 * target was set up yet (NCS's dfu_target_done(false) then says so):
 * here, when the image type is not known yet.
 */
int fota_download_cancel(void)
{
	int rc;

	if (!initialized || load(&final_running) != 0 || load(&dl_active) == 0) {
		return -FR_EAGAIN;
	}
	rc = fota_rs_current_image_type() != 0 ? 0 : -FR_EACCES;
	if (FOTA_RS_NCS_ASYNC) {
		(void)fota_rs_cancel();
		if (!on_download_thread()) {
			/* Until the final event has been delivered, not merely sent. */
			while (load(&dl_active) != 0 || load(&final_running) != 0) {
				sleep_poll();
			}
		}
		return rc;
	}
	if (__atomic_exchange_n(&dl_active, 0, __ATOMIC_ACQ_REL) == 0) {
		return -FR_EAGAIN;
	}
	if (on_download_thread()) {
		/* Inside a progress callback: the core stops once it returns. */
		store(&cancel_state, CANCEL_REPORTED);
		(void)fota_rs_cancel();
	} else {
		store(&cancel_state, CANCEL_WAITING);
		(void)fota_rs_cancel();
		while (fota_rs_busy()) {
			sleep_poll();
		}
		if (__atomic_exchange_n(&cancel_state, CANCEL_REPORTED, __ATOMIC_ACQ_REL) ==
		    CANCEL_LOST_RACE) {
			/* It ended by itself first, and said so. */
			return -FR_EAGAIN;
		}
	}
	{
		struct fota_download_evt evt = { 0 };

		evt.id = FOTA_DOWNLOAD_EVT_CANCELLED;
		deliver(&evt);
	}
	return rc;
}

int fota_download_target(void)
{
	if (!initialized) {
		return 0;
	}
	return map_image_type_back(fota_rs_current_image_type());
}

