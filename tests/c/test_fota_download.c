/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NCS fota_download API used the way an application (or the Memfault
 * SDK) uses it: fota_download_init(cb) once, then a start call with the full
 * URL as both host and file, then waiting for the callback to report
 * FINISHED, ERROR or CANCELLED. Linked through the host SDK against the host
 * port, so the download is real: TLS on loopback, a file as NOR flash.
 *
 *   test_fota_download CASE URL
 *
 * runs one case (tests/c/run.sh runs them all, each in a fresh process
 * because the host port reads its FOTA_RS_HOST_* environment once) and
 * prints "PASS CASE" or "FAIL CASE" after one line per failed check.
 *
 * The same source builds against five headers, told apart by EXPECT_NCS:
 * 0x020000 (compat/include, the v2.0.0 form), 0x010701 (tests/c/ncs-v1.7.1,
 * where start takes an APN), 0x020400 (tests/c/ncs-v2.4), 0x020600
 * (tests/c/ncs-v2.6) and 0x030163 (tests/c/ncs-v3.x, sdk-nrf 3.1.99). The
 * numbers a caller receives are checked as literals below, not through the
 * header's names: a compatibility layer compiled against another header
 * than the caller's would pass the names test and still hand out wrong
 * numbers. The behaviour each generation must show (docs/ncs-integration.md,
 * "Behaviour per NCS generation") is checked by the cases marked "row:".
 */
/* pthreads and clock_gettime under -std=c11. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <net/fota_download.h>

#include <fota_rs.h>
#include <fota_rs_port_host.h>

#ifndef EXPECT_NCS
#error "build with -DEXPECT_NCS=0x010701, 0x020000, 0x020400, 0x020600 or 0x030163"
#endif

/* From v2.4.0 the connect runs on the download thread (sdk-nrf's fota_download.c). */
#define ASYNC (EXPECT_NCS >= 0x020400)

/* The numbers each header gives the events and causes. */
#define NUM_EVT_PROGRESS 0
#define NUM_EVT_FINISHED 1
#if EXPECT_NCS >= 0x020600
#define NUM_EVT_ERROR 5
#define NUM_EVT_CANCELLED 6
#define NUM_CAUSE_CONNECT_FAILED 1
#define NUM_CAUSE_DOWNLOAD_FAILED 2
#define NUM_CAUSE_TYPE_MISMATCH 4
#else
#define NUM_EVT_ERROR 4
#define NUM_EVT_CANCELLED 5
#define NUM_CAUSE_DOWNLOAD_FAILED 1
#define NUM_CAUSE_TYPE_MISMATCH 3
#endif
#if EXPECT_NCS >= 0x020400
/* Bits since v2.2.0. */
#define NUM_IMAGE_FULL_MODEM 4
#else
#define NUM_IMAGE_FULL_MODEM 3
#endif
#if EXPECT_NCS >= 0x020963
#define NUM_CAUSE_INVALID_CONFIGURATION 8
#endif
/* The cause of a refused connect: v2.4.0 DOWNLOAD_FAILED, v2.6.0+ CONNECT_FAILED. */
#if EXPECT_NCS >= 0x020600
#define NUM_CAUSE_REFUSED NUM_CAUSE_CONNECT_FAILED
#else
#define NUM_CAUSE_REFUSED NUM_CAUSE_DOWNLOAD_FAILED
#endif
#define NUM_IMAGE_MCUBOOT 1

/* Memfault's call on each SDK: full URL twice, default network, default fragment. */
#if EXPECT_NCS < 0x010800
#define START(url, tag) fota_download_start((url), (url), (tag), NULL, 0)
#define START_TYPED(url, tag, type)                                                                \
	fota_download_start_with_image_type((url), (url), (tag), NULL, 0, (type))
#else
#define START(url, tag) fota_download_start((url), (url), (tag), 0, 0)
#define START_TYPED(url, tag, type)                                                                \
	fota_download_start_with_image_type((url), (url), (tag), 0, 0, (type))
#endif

/* Generous: only there so that a hang fails instead of blocking the run. */
#define FINAL_EVENT_WAIT_S 120
#define MAX_EVENTS 4096

struct rec {
	int id;    /* the number received, as an int */
	int value; /* progress or cause */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct rec events[MAX_EVENTS];
static size_t n_events;
static bool overflow;
static bool final_seen;
static size_t n_finals;
/* The thread that delivered CANCELLED. */
static pthread_t cancelled_by;
/* Probe: a start made from inside the FINISHED callback, and its result. */
static const char *start_in_finished_url;
static int start_in_finished_rc = 1;

/*
 * A gate holds the download thread inside a progress callback, so
 * that the main thread can act on a download that is certainly running (no
 * race with its completion, no sleeps).
 */
enum gate { GATE_OFF, GATE_ARMED, GATE_HOLDING, GATE_OPEN };
static enum gate gate = GATE_OFF;

static int failures;
static const char *case_name = "?";

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			printf("  check failed (%s:%d): %s: ", __FILE__, __LINE__, #cond);         \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

#define CHECK_RC(expr, want)                                                                       \
	do {                                                                                       \
		int rc_ = (expr);                                                                  \
		CHECK(rc_ == (want), "%s returned %d (%s), expected %d (%s)", #expr, rc_,          \
		      strerror(rc_ < 0 ? -rc_ : rc_), (want),                                      \
		      strerror((want) < 0 ? -(want) : (want)));                                    \
	} while (0)

static bool is_final(int id)
{
	return id == NUM_EVT_FINISHED || id == NUM_EVT_ERROR || id == NUM_EVT_CANCELLED;
}

static void on_event(const struct fota_download_evt *evt)
{
	int id = (int)evt->id;
	int value = 0;

	if (evt->id == FOTA_DOWNLOAD_EVT_PROGRESS) {
		value = evt->progress;
	} else if (evt->id == FOTA_DOWNLOAD_EVT_ERROR) {
		value = (int)evt->cause;
	}
	pthread_mutex_lock(&mu);
	if (n_events < MAX_EVENTS) {
		events[n_events].id = id;
		events[n_events].value = value;
		n_events++;
	} else {
		overflow = true;
	}
	if (is_final(id)) {
		final_seen = true;
		n_finals++;
		pthread_cond_broadcast(&cv);
	}
	if (id == NUM_EVT_CANCELLED) {
		cancelled_by = pthread_self();
	}
	/*
	 * At 1 % (2.6 KB of the test image) the 32 bytes that tell the image
	 * type have certainly arrived; a first event at 0 % may precede them.
	 */
	if (id == NUM_EVT_PROGRESS && value >= 1 && gate == GATE_ARMED) {
		gate = GATE_HOLDING;
		pthread_cond_broadcast(&cv);
		while (gate != GATE_OPEN) {
			pthread_cond_wait(&cv, &mu);
		}
	}
	pthread_mutex_unlock(&mu);
	if (id == NUM_EVT_FINISHED && start_in_finished_url != NULL) {
		const char *url = start_in_finished_url;

		start_in_finished_url = NULL;
		start_in_finished_rc = START(url, 42);
	}
}

/* The callback a second fota_download_init() installs; counts final events. */
static size_t second_cb_finals;

static void on_event_second(const struct fota_download_evt *evt)
{
	if (is_final((int)evt->id)) {
		pthread_mutex_lock(&mu);
		second_cb_finals++;
		pthread_mutex_unlock(&mu);
	}
	on_event(evt);
}

static void reset_events(void)
{
	pthread_mutex_lock(&mu);
	n_events = 0;
	overflow = false;
	final_seen = false;
	n_finals = 0;
	gate = GATE_OFF;
	pthread_mutex_unlock(&mu);
}

static struct timespec deadline_s(int s)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += s;
	return t;
}

/* Wait for FINISHED, ERROR or CANCELLED; then for the download thread to end. */
static bool wait_final(void)
{
	struct timespec until = deadline_s(FINAL_EVENT_WAIT_S);
	bool seen;

	pthread_mutex_lock(&mu);
	while (!final_seen) {
		if (pthread_cond_timedwait(&cv, &mu, &until) != 0) {
			break;
		}
	}
	seen = final_seen;
	pthread_mutex_unlock(&mu);
	CHECK(seen, "no FINISHED, ERROR or CANCELLED event within %d s", FINAL_EVENT_WAIT_S);
	if (seen) {
		/* The thread returns right after the final callback. */
		CHECK(fota_rs_host_wait_idle(FINAL_EVENT_WAIT_S * 1000u) == 0,
		      "download thread still running after the final event");
	}
	return seen;
}

/* Wait until n final events have been delivered (not for the thread to end). */
static bool wait_finals(size_t n)
{
	struct timespec until = deadline_s(FINAL_EVENT_WAIT_S);
	bool seen;

	pthread_mutex_lock(&mu);
	while (n_finals < n) {
		if (pthread_cond_timedwait(&cv, &mu, &until) != 0) {
			break;
		}
	}
	seen = n_finals >= n;
	pthread_mutex_unlock(&mu);
	CHECK(seen, "%zu final events within %d s, expected %zu", n_finals, FINAL_EVENT_WAIT_S, n);
	return seen;
}

static bool wait_gate_holding(void)
{
	struct timespec until = deadline_s(FINAL_EVENT_WAIT_S);
	bool holding;

	pthread_mutex_lock(&mu);
	while (gate == GATE_ARMED && !final_seen) {
		if (pthread_cond_timedwait(&cv, &mu, &until) != 0) {
			break;
		}
	}
	holding = gate == GATE_HOLDING;
	pthread_mutex_unlock(&mu);
	CHECK(holding, "the download never reported progress (final event seen: %d)",
	      (int)final_seen);
	return holding;
}

static void arm_gate(void)
{
	pthread_mutex_lock(&mu);
	gate = GATE_ARMED;
	pthread_mutex_unlock(&mu);
}

static void open_gate(void)
{
	pthread_mutex_lock(&mu);
	gate = GATE_OPEN;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void dump_events(void)
{
	pthread_mutex_lock(&mu);
	printf("  events (%zu):", n_events);
	for (size_t i = 0; i < n_events; i++) {
		if (i >= 12 && i + 4 < n_events) {
			if (i == 12) {
				printf(" ...");
			}
			continue;
		}
		printf(" %d/%d", events[i].id, events[i].value);
	}
	printf("\n");
	pthread_mutex_unlock(&mu);
}

static size_t count_events(void)
{
	size_t n;

	pthread_mutex_lock(&mu);
	n = n_events;
	pthread_mutex_unlock(&mu);
	return n;
}

/*
 * A completed download: progress events that never go back, the last one
 * at 100, then FINISHED as the only final event and the last event.
 */
static void check_success_events(void)
{
	int last_progress = -1;
	size_t n_progress = 0, n_final = 0;
	bool monotonic = true, in_range = true, other = false;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < n_events; i++) {
		const struct rec *r = &events[i];

		if (r->id == NUM_EVT_PROGRESS) {
			n_progress++;
			if (r->value < last_progress) {
				monotonic = false;
			}
			if (r->value < 0 || r->value > 100) {
				in_range = false;
			}
			last_progress = r->value;
		} else if (is_final(r->id)) {
			n_final++;
		} else if (r->id != (int)FOTA_DOWNLOAD_EVT_ERASE_PENDING &&
			   r->id != (int)FOTA_DOWNLOAD_EVT_ERASE_DONE) {
			other = true;
		}
	}
	CHECK(!overflow, "more than %d events", MAX_EVENTS);
	CHECK(n_progress >= 2, "%zu progress events", n_progress);
	CHECK(monotonic, "progress went backwards");
	CHECK(in_range, "progress outside 0..100");
	CHECK(last_progress == 100, "last progress %d, not 100", last_progress);
	CHECK(n_final == 1, "%zu final events", n_final);
	CHECK(n_events > 0 && events[n_events - 1].id == NUM_EVT_FINISHED,
	      "last event is %d, not FINISHED (%d)", n_events > 0 ? events[n_events - 1].id : -1,
	      NUM_EVT_FINISHED);
	CHECK(!other, "unexpected event ids");
	pthread_mutex_unlock(&mu);
}

/* An ERROR as the last and only final event, with this cause number. */
static void check_error_event(int cause)
{
	size_t n_final = 0;

	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < n_events; i++) {
		if (is_final(events[i].id)) {
			n_final++;
		}
	}
	CHECK(n_final == 1, "%zu final events", n_final);
	CHECK(n_events > 0 && events[n_events - 1].id == NUM_EVT_ERROR,
	      "last event id %d, expected ERROR = %d", n_events > 0 ? events[n_events - 1].id : -1,
	      NUM_EVT_ERROR);
	CHECK(n_events > 0 && events[n_events - 1].value == cause, "cause %d, expected %d",
	      n_events > 0 ? events[n_events - 1].value : -1, cause);
	pthread_mutex_unlock(&mu);
}

static void diag_text(char *buf, size_t len)
{
	size_t need = fota_rs_diag_text(buf, len);

	CHECK(need > 0 && need < len, "fota_rs_diag_text returned %zu", need);
	printf("  diag: %s\n", buf);
}

static struct fota_rs_diag diag_get(void)
{
	struct fota_rs_diag d;

	memset(&d, 0, sizeof(d));
	CHECK(fota_rs_diag_get(&d) == 0, "fota_rs_diag_get failed");
	return d;
}

/*
 * The simulated secondary slot, read back: from `from` to the end, every
 * byte erased? Both the whole slot (nothing written) and the trailer page
 * (no upgrade requested) are asked this way.
 */
static bool slot_erased_from(long from_end)
{
	const char *path = getenv("FOTA_RS_HOST_FLASH");
	unsigned char buf[4096];
	bool erased = true;
	long size;
	FILE *f;

	if (path == NULL || (f = fopen(path, "rb")) == NULL) {
		CHECK(0, "cannot open the slot file (FOTA_RS_HOST_FLASH)");
		return false;
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, from_end < 0 ? 0 : size - from_end, SEEK_SET);
	for (;;) {
		size_t n = fread(buf, 1, sizeof(buf), f);

		if (n == 0) {
			break;
		}
		for (size_t i = 0; i < n; i++) {
			erased = erased && buf[i] == 0xff;
		}
	}
	fclose(f);
	return erased;
}

#define WHOLE_SLOT (-1L)
#define TRAILER_PAGE 4096L

/* ------------------------------------------------------------------ */
/* cases                                                              */
/* ------------------------------------------------------------------ */

/* Download, verify, schedule: run.sh then checks the slot byte for byte. */
static void case_success(const char *url)
{
	struct fota_rs_diag d;

	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download_target(), 0);
	CHECK_RC(START(url, 42), 0);
	if (wait_final()) {
		check_success_events();
	}
	CHECK_RC(fota_download_target(), NUM_IMAGE_MCUBOOT);
	d = diag_get();
	CHECK(d.error == 0, "diag error %d after a success", (int)d.error);
	CHECK(d.working_sec_tag == 42, "working sec_tag %d", (int)d.working_sec_tag);
}

/*
 * Start against a refused connect; row: connect failure and errno after a
 * failed start. Before v2.4 the connect runs inside start: its error is the
 * return value and errno is left as the socket call set it (Memfault 0.33
 * reads it). From v2.4 start returns 0 without touching errno and the
 * failure is an ERROR event (DOWNLOAD_FAILED at v2.4, CONNECT_FAILED from
 * v2.6). Returns whether the diagnostic can be read.
 */
static bool start_refused(const char *url, int sec_tag)
{
	CHECK_RC(fota_download_init(on_event), 0);
	errno = EDOM;
#if ASYNC
	CHECK_RC(START(url, sec_tag), 0);
	CHECK(errno == EDOM, "errno %d (%s) after start, expected it untouched", errno,
	      strerror(errno));
	if (!wait_final()) {
		return false;
	}
	check_error_event(NUM_CAUSE_REFUSED);
#else
	CHECK_RC(START(url, sec_tag), -ECONNREFUSED);
	CHECK(errno == ECONNREFUSED, "errno %d (%s) after a refused start, expected ECONNREFUSED",
	      errno, strerror(errno));
	CHECK(count_events() == 0, "%zu events after a failed start", count_events());
#endif
	return true;
}

/*
 * The report: tag 1003 holds a CA that does not validate the server. The
 * diagnostic says it was the certificate, whichever way the failure reached
 * the caller.
 */
static void case_refused(const char *url)
{
	char text[512];
	struct fota_rs_diag d;

	if (!start_refused(url, 1003)) {
		return;
	}
	diag_text(text, sizeof(text));
	CHECK(strstr(text, "1003") != NULL, "diag does not name sec_tag 1003");
	CHECK(strstr(text, "certificate") != NULL, "diag does not name the certificate");
	d = diag_get();
	CHECK(d.stage == FOTA_RS_STAGE_TLS, "stage %d, not tls", d.stage);
	CHECK(d.tcp_probe == FOTA_RS_TCP_PROBE_PORT_OPEN, "tcp probe %d, not port open",
	      d.tcp_probe);
	CHECK(slot_erased_from(WHOLE_SLOT), "the slot was written");
}

/* The same call with FOTA_RS_HOST_FALLBACK_SEC_TAGS=1004: it completes. */
static void case_fallback(const char *url)
{
	struct fota_rs_diag d;

	CHECK(getenv("FOTA_RS_HOST_FALLBACK_SEC_TAGS") != NULL,
	      "run with FOTA_RS_HOST_FALLBACK_SEC_TAGS=1004");
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(START(url, 1003), 0);
	if (wait_final()) {
		check_success_events();
	}
	d = diag_get();
	CHECK(d.working_sec_tag == 1004, "working sec_tag %d, not the fallback 1004",
	      (int)d.working_sec_tag);
}

/* Same errno as a refused certificate, but the diagnosis tells them apart. */
static void case_closed_port(const char *url)
{
	char text[512];
	struct fota_rs_diag d;

	if (!start_refused(url, 42)) {
		return;
	}
	diag_text(text, sizeof(text));
	CHECK(strstr(text, "nothing accepts TCP connections") != NULL,
	      "diag does not say the port is closed");
	CHECK(strstr(text, "certificate problem") != NULL, "diag does not rule out the certificate");
	d = diag_get();
	CHECK(d.stage == FOTA_RS_STAGE_CONNECT, "stage %d, not connect", d.stage);
}

/* A Memfault-style pre-signed S3 URL: longer than NCS's 192/255, ':' and '%2F' in the query. */
static void case_long_url(const char *url)
{
	const char *q = strchr(url, '?');

	CHECK(strlen(url) >= 700, "URL is only %zu bytes", strlen(url));
	CHECK(q != NULL && strchr(q, ':') != NULL && strstr(q, "%2F") != NULL,
	      "the query lacks ':' or '%%2F'");
	case_success(url);
}

static void case_einval(const char *url)
{
	/* Before init: no callback to report to. */
	CHECK_RC(START(url, 42), -EINVAL);
	CHECK_RC(fota_download_init(NULL), -EINVAL);
	CHECK_RC(fota_download_init(on_event), 0);
#if EXPECT_NCS < 0x010800
	CHECK_RC(fota_download_start(NULL, url, 42, NULL, 0), -EINVAL);
	CHECK_RC(fota_download_start(url, NULL, 42, NULL, 0), -EINVAL);
	CHECK_RC(fota_download_start_with_image_type(NULL, NULL, 42, NULL, 0,
						     DFU_TARGET_IMAGE_TYPE_MCUBOOT),
		 -EINVAL);
#else
	CHECK_RC(fota_download_start(NULL, url, 42, 0, 0), -EINVAL);
	CHECK_RC(fota_download_start(url, NULL, 42, 0, 0), -EINVAL);
	CHECK_RC(fota_download_start_with_image_type(NULL, NULL, 42, 0, 0,
						     DFU_TARGET_IMAGE_TYPE_MCUBOOT),
		 -EINVAL);
#endif
#if EXPECT_NCS >= 0x020600
	{
		const int tags[] = { 42 };

		CHECK_RC(fota_download(NULL, url, tags, 1, 0, 0, DFU_TARGET_IMAGE_TYPE_ANY),
			 -EINVAL);
		CHECK_RC(fota_download_any(url, NULL, tags, 1, 0, 0), -EINVAL);
		/* NONE names no firmware type: nothing could ever match. */
		CHECK_RC(fota_download(url, url, tags, 1, 0, 0, DFU_TARGET_IMAGE_TYPE_NONE),
			 -EINVAL);
	}
#endif
	CHECK(count_events() == 0, "%zu events", count_events());
	CHECK(slot_erased_from(WHOLE_SLOT), "the slot was written");
}

/* A second start while one runs is -EALREADY; the running one is unharmed. */
static void case_busy(const char *url)
{
	CHECK_RC(fota_download_init(on_event), 0);
	arm_gate();
	CHECK_RC(START(url, 42), 0);
	if (wait_gate_holding()) {
		CHECK_RC(START(url, 42), -EALREADY);
		CHECK_RC(START_TYPED(url, 42, DFU_TARGET_IMAGE_TYPE_MCUBOOT), -EALREADY);
#if EXPECT_NCS >= 0x020600
		{
			const int tags[] = { 42 };

			CHECK_RC(fota_download_any(url, url, tags, 1, 0, 0), -EALREADY);
		}
#endif
		CHECK_RC(fota_download_target(), NUM_IMAGE_MCUBOOT);
	}
	open_gate();
	if (wait_final()) {
		check_success_events();
	}
}

/*
 * Row: init while a download runs. Every NCS version returns 0 and replaces
 * the callback; the running download goes on and ends at the new one.
 */
static void case_init_busy(const char *url)
{
	CHECK_RC(fota_download_init(on_event), 0);
	arm_gate();
	CHECK_RC(START(url, 42), 0);
	if (wait_gate_holding()) {
		CHECK_RC(fota_download_init(on_event_second), 0);
	}
	open_gate();
	if (wait_final()) {
		check_success_events();
	}
	CHECK(second_cb_finals == 1, "%zu final events reached the second callback",
	      second_cb_finals);
}

/*
 * Row: final events. From v2.4 the library is free before the final event
 * is delivered: a thread woken by FINISHED starts the next download at once
 * (before, that failed about half the time). Before v2.4 FINISHED is
 * delivered while the library is still busy: a start from inside that
 * callback is -EALREADY; one made after it returned runs.
 */
static void case_restart(const char *url)
{
	CHECK_RC(fota_download_init(on_event), 0);
#if !ASYNC
	start_in_finished_url = url;
#endif
	CHECK_RC(START(url, 42), 0);
	if (!wait_finals(1)) {
		return;
	}
#if !ASYNC
	CHECK(start_in_finished_rc == -EALREADY,
	      "start inside the FINISHED callback returned %d, expected -EALREADY",
	      start_in_finished_rc);
	CHECK(fota_rs_host_wait_idle(FINAL_EVENT_WAIT_S * 1000u) == 0, "download thread runs on");
#endif
	CHECK_RC(START(url, 42), 0);
	if (wait_finals(2)) {
		CHECK(fota_rs_host_wait_idle(FINAL_EVENT_WAIT_S * 1000u) == 0,
		      "download thread still running after the final event");
		pthread_mutex_lock(&mu);
		CHECK(n_finals == 2 && events[n_events - 1].id == NUM_EVT_FINISHED,
		      "%zu final events, last %d", n_finals, events[n_events - 1].id);
		pthread_mutex_unlock(&mu);
	}
}

static bool cancel_calling;
static int cancel_rc = 1;
static bool final_when_cancel_returned;

/* cancel() from a thread of its own, as an application's shell would call it. */
static void *cancel_thread(void *unused)
{
	int rc;

	(void)unused;
	pthread_mutex_lock(&mu);
	cancel_calling = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	rc = fota_download_cancel();
	pthread_mutex_lock(&mu);
	cancel_rc = rc;
	final_when_cancel_returned = final_seen;
	pthread_mutex_unlock(&mu);
	return NULL;
}

/*
 * Row: cancel. -EAGAIN when idle. While a download runs: 0, CANCELLED, and
 * nothing scheduled; cancel() returns only after CANCELLED was delivered.
 * Before v2.4 cancel() delivers it itself (from the caller's thread); from
 * v2.4 the download thread does, and cancel() waits for it.
 */
static void case_cancel(const char *url)
{
	pthread_t canceller;
	bool started = false;

	CHECK_RC(fota_download_cancel(), -EAGAIN); /* before init */
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download_cancel(), -EAGAIN);
	arm_gate();
	CHECK_RC(START(url, 42), 0);
	if (wait_gate_holding()) {
		started = pthread_create(&canceller, NULL, cancel_thread, NULL) == 0;
		CHECK(started, "pthread_create failed");
		/* The gate opens once the canceller is on its way into cancel(). */
		pthread_mutex_lock(&mu);
		while (started && !cancel_calling) {
			pthread_cond_wait(&cv, &mu);
		}
		pthread_mutex_unlock(&mu);
	}
	open_gate();
	if (started) {
		pthread_join(canceller, NULL);
		CHECK(cancel_rc == 0, "cancel returned %d, expected 0", cancel_rc);
		CHECK(final_when_cancel_returned, "cancel() returned before CANCELLED was delivered");
#if ASYNC
		CHECK(!pthread_equal(cancelled_by, canceller),
		      "CANCELLED came from cancel()'s caller, not the download thread");
#else
		CHECK(pthread_equal(cancelled_by, canceller),
		      "CANCELLED was not delivered from inside cancel()");
#endif
	}
	if (wait_final()) {
		pthread_mutex_lock(&mu);
		CHECK(n_events > 0 && events[n_events - 1].id == NUM_EVT_CANCELLED,
		      "last event %d, expected CANCELLED = %d",
		      n_events > 0 ? events[n_events - 1].id : -1, NUM_EVT_CANCELLED);
		CHECK(n_finals == 1, "%zu final events", n_finals);
		for (size_t i = 0; i < n_events; i++) {
			CHECK(events[i].id != NUM_EVT_FINISHED && events[i].id != NUM_EVT_ERROR,
			      "event %zu is %d", i, events[i].id);
		}
		pthread_mutex_unlock(&mu);
	}
	CHECK_RC(fota_download_cancel(), -EAGAIN);
	CHECK(slot_erased_from(TRAILER_PAGE), "upgrade requested after a cancel");
}

/* A failure after the connect arrives as an ERROR event with the header's numbers. */
static void case_http_error(const char *url)
{
	struct fota_rs_diag d;

	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(START(url, 42), 0);
	if (wait_final()) {
		check_error_event(NUM_CAUSE_DOWNLOAD_FAILED);
	}
	d = diag_get();
	CHECK(d.http_status == 404, "http status %u", d.http_status);
	CHECK(slot_erased_from(WHOLE_SLOT), "the slot was written");
}

/* An MCUboot image where a full modem image is expected: TYPE_MISMATCH, nothing written. */
static void case_type_mismatch(const char *url)
{
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(START_TYPED(url, 42, DFU_TARGET_IMAGE_TYPE_FULL_MODEM), 0);
	CHECK((int)DFU_TARGET_IMAGE_TYPE_FULL_MODEM == NUM_IMAGE_FULL_MODEM,
	      "header's FULL_MODEM is %d", (int)DFU_TARGET_IMAGE_TYPE_FULL_MODEM);
	if (wait_final()) {
		check_error_event(NUM_CAUSE_TYPE_MISMATCH);
	}
	CHECK(slot_erased_from(WHOLE_SLOT), "the slot was written");
}

#if EXPECT_NCS >= 0x020600
/* v2.6 tag list: the wrong CA first, the right one second, in one handshake. */
static void case_tag_list(const char *url)
{
	const int tags[] = { 1003, 1004 };

	CHECK(getenv("FOTA_RS_HOST_FALLBACK_SEC_TAGS") == NULL, "run without fallback tags");
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download(url, url, tags, 2, 0, 0, DFU_TARGET_IMAGE_TYPE_MCUBOOT), 0);
	if (wait_final()) {
		check_success_events();
	}
}

/* Memfault on NCS >= 2.6: fota_download_any with its list; 6 is one too many. */
static void case_e2big(const char *url)
{
	const int six[] = { 1003, 1004, 1001, 1002, 42, 7 };

	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download_any(url, url, six, 6, 0, 0), -E2BIG);
	CHECK_RC(fota_download(url, url, six, 6, 0, 0, DFU_TARGET_IMAGE_TYPE_ANY), -E2BIG);
	CHECK(count_events() == 0, "%zu events", count_events());
	CHECK(slot_erased_from(WHOLE_SLOT), "the slot was written");
	/* The maximum itself is accepted (unprovisioned tags are skipped). */
	CHECK_RC(fota_download_any(url, url, six, 5, 0, 0), 0);
	if (wait_final()) {
		check_success_events();
	}
}

/* A bitmask of two types that includes MCUboot accepts the MCUboot image. */
static void case_type_mask(const char *url)
{
	const int tags[] = { 42 };

	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download(url, url, tags, 1, 0, 0,
			       DFU_TARGET_IMAGE_TYPE_MCUBOOT | DFU_TARGET_IMAGE_TYPE_MODEM_DELTA),
		 0);
	if (wait_final()) {
		check_success_events();
	}
}

/* Two modem types only: the MCUboot image is a TYPE_MISMATCH and is not scheduled. */
static void case_type_mask_mismatch(const char *url)
{
	const int tags[] = { 42 };

	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download(url, url, tags, 1, 0, 0,
			       DFU_TARGET_IMAGE_TYPE_MODEM_DELTA | DFU_TARGET_IMAGE_TYPE_FULL_MODEM),
		 0);
	if (wait_final()) {
		check_error_event(NUM_CAUSE_TYPE_MISMATCH);
	}
	CHECK(slot_erased_from(TRAILER_PAGE), "upgrade requested for a mismatched type");
}

/*
 * A full modem image where MCUboot or a modem delta is expected: the core
 * refuses full modem images as soon as it sees them, before any progress;
 * the caller is still told TYPE_MISMATCH, as NCS checks the type first.
 */
static void case_type_mask_refused(const char *url)
{
	const int tags[] = { 42 };

	CHECK(strstr(url, "full_modem") != NULL, "run with the full modem image's URL");
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download(url, url, tags, 1, 0, 0,
			       DFU_TARGET_IMAGE_TYPE_MCUBOOT | DFU_TARGET_IMAGE_TYPE_MODEM_DELTA),
		 0);
	if (wait_final()) {
		check_error_event(NUM_CAUSE_TYPE_MISMATCH);
	}
	CHECK(slot_erased_from(WHOLE_SLOT), "the slot was written");
}
#endif

#if EXPECT_NCS >= 0x020600
/*
 * A count without a list means no TLS in NCS v2.6.0+ ("Pass NULL to disable
 * TLS"); an https URL then cannot connect, reported as NCS reports it:
 * DOWNLOAD_FAILED at v2.6, INVALID_CONFIGURATION at 3.x.
 */
static void case_null_tag_list(const char *url)
{
	CHECK(strncmp(url, "https://", 8) == 0, "run with an https URL");
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download_any(url, url, NULL, 2, 0, 0), 0);
	if (wait_final()) {
#if EXPECT_NCS >= 0x020963
		check_error_event(NUM_CAUSE_INVALID_CONFIGURATION);
#else
		check_error_event(NUM_CAUSE_DOWNLOAD_FAILED);
#endif
	}
	CHECK(slot_erased_from(WHOLE_SLOT), "the slot was written");
}
#endif

#if EXPECT_NCS >= 0x020963
/*
 * 3.x: fota_download_with_host_cfg. With sec_tag -1 the host
 * configuration's tag list is used (NCS copies the configuration and
 * overrides the list only for another tag); NULL configuration: -EINVAL.
 */
static void case_host_cfg(const char *url)
{
	static const int tags[] = { 42 };
	struct downloader_host_cfg cfg;
	struct fota_rs_diag d;

	memset(&cfg, 0, sizeof(cfg));
	cfg.sec_tag_list = tags;
	cfg.sec_tag_count = 1;
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download_with_host_cfg(url, url, -1, 0, 0, DFU_TARGET_IMAGE_TYPE_ANY, NULL),
		 -EINVAL);
	CHECK_RC(fota_download_with_host_cfg(url, url, -1, 0, 0, DFU_TARGET_IMAGE_TYPE_MCUBOOT,
					     &cfg),
		 0);
	if (wait_final()) {
		check_success_events();
	}
	d = diag_get();
	CHECK(d.working_sec_tag == 42, "working sec_tag %d, not the configuration's 42",
	      (int)d.working_sec_tag);
}

/*
 * 3.x: fota_download_b1_file_parse. The host port has no B1 bootloader, as
 * an NCS build without PM_S1_ADDRESS: -EOPNOTSUPP, the string untouched.
 */
static void case_b1(const char *url)
{
	char files[] = "s0.bin s1.bin";
	bool s0 = false;

	(void)url;
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download_b1_file_parse(files), -EOPNOTSUPP);
	CHECK(strcmp(files, "s0.bin s1.bin") == 0, "the file list changed to \"%s\"", files);
	CHECK_RC(fota_download_s0_active_get(&s0), -ENOENT);
}
#endif

#ifdef EXPECT_FRAG
/*
 * fragment_size 0 is the caller's NCS default: this build compiles the
 * compat layer with CONFIG_DOWNLOAD_CLIENT_HTTP_FRAG_SIZE=EXPECT_FRAG, as an
 * NCS build with download_client does; run.sh checks the ranges requested.
 */
static void case_frag_default(const char *url)
{
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(START(url, 42), 0);
	if (wait_final()) {
		check_success_events();
	}
}
#endif

#if EXPECT_NCS < 0x010800
/* v1.7: only the default network can be honoured; a named APN is refused. */
static void case_apn(const char *url)
{
	CHECK_RC(fota_download_init(on_event), 0);
	CHECK_RC(fota_download_start(url, url, 42, "ibasis.iot", 0), -ENOTSUP);
	CHECK(count_events() == 0, "%zu events", count_events());
	CHECK_RC(fota_download_start(url, url, 42, "", 0), 0);
	if (wait_final()) {
		check_success_events();
	}
}
#endif

struct test_case {
	const char *name;
	void (*run)(const char *url);
};

static const struct test_case cases[] = {
	{ "success", case_success },
	{ "refused", case_refused },
	{ "fallback", case_fallback },
	{ "closed-port", case_closed_port },
	{ "long-url", case_long_url },
	{ "einval", case_einval },
	{ "busy", case_busy },
	{ "init-busy", case_init_busy },
	{ "restart", case_restart },
	{ "cancel", case_cancel },
	{ "http-error", case_http_error },
	{ "type-mismatch", case_type_mismatch },
#if EXPECT_NCS >= 0x020600
	{ "tag-list", case_tag_list },
	{ "e2big", case_e2big },
	{ "type-mask", case_type_mask },
	{ "type-mask-mismatch", case_type_mask_mismatch },
	{ "type-mask-refused", case_type_mask_refused },
	{ "null-tag-list", case_null_tag_list },
#endif
#if EXPECT_NCS >= 0x020963
	{ "host-cfg", case_host_cfg },
	{ "b1", case_b1 },
#endif
#ifdef EXPECT_FRAG
	{ "frag-default", case_frag_default },
#endif
#if EXPECT_NCS < 0x010800
	{ "apn", case_apn },
#endif
};

int main(int argc, char **argv)
{
	const struct test_case *tc = NULL;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			printf("%s\n", cases[i].name);
		}
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s CASE URL | --list\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name) == 0) {
			tc = &cases[i];
		}
	}
	if (tc == NULL) {
		fprintf(stderr, "unknown case %s\n", argv[1]);
		return 2;
	}
	case_name = tc->name;
	reset_events();
	tc->run(argv[2]);
	if (failures > 0) {
		dump_events();
	}
	printf("%s %s\n", failures == 0 ? "PASS" : "FAIL", case_name);
	fflush(stdout);
	return failures == 0 ? 0 : 1;
}
