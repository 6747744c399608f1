/* SPDX-License-Identifier: Apache-2.0 */
/* Host port: the clock, the log and the worker thread (POSIX threads). */
#include "host_private.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

/* How long start_worker waits for a previous worker that is returning. */
#define HOST_WORKER_HANDOVER_S 2

/* ------------------------------------------------------------------ */
/* time and logging                                                   */
/* ------------------------------------------------------------------ */

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t mono_ms(void)
{
	return mono_ns() / 1000000u;
}

void host_once_init(void)
{
	pthread_condattr_t attr;

	g.t0_ns = mono_ns();
	/* fota_rs_host_wait_idle measures a timeout; wall-clock jumps must not bend it. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g.worker_done, &attr);
	pthread_condattr_destroy(&attr);
}

void host_emit(uint8_t level, const char *msg, size_t len)
{
	static const char *const names[] = { "err", "err", "wrn", "inf", "dbg" };
	uint64_t us;
	const char *name;

	pthread_once(&g_once, host_once_init);
	if ((int)level > g.log_level) {
		return;
	}
	name = level < 5 ? names[level] : "dbg";
	us = (mono_ns() - g.t0_ns) / 1000u;
	if (len > INT_MAX) {
		len = INT_MAX;
	}
	/* Same shape as Zephyr's log backend so host and device logs diff cleanly. */
	fprintf(stderr, "[%02u:%02u:%02u.%03u,%03u] <%s> fota_rs: %.*s\n",
		(unsigned)(us / 3600000000u), (unsigned)(us / 60000000u % 60u),
		(unsigned)(us / 1000000u % 60u), (unsigned)(us / 1000u % 1000u),
		(unsigned)(us % 1000u), name, (int)len, msg);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void host_logf(uint8_t level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if ((int)level > g.log_level) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	host_emit(level, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* ------------------------------------------------------------------ */
/* time, log, worker                                                  */
/* ------------------------------------------------------------------ */

uint64_t host_uptime_ms(void *ctx)
{
	(void)ctx;
	pthread_once(&g_once, host_once_init);
	return (mono_ns() - g.t0_ns) / 1000000u;
}

void host_sleep_ms(void *ctx, uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L };

	(void)ctx;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

void host_log(void *ctx, uint8_t level, const char *msg, size_t len)
{
	(void)ctx;
	if (msg == NULL) {
		return;
	}
	host_emit(level, msg, len);
}

/* Set on the worker thread, where waiting for the worker would wait on itself. */
static _Thread_local bool on_worker_thread;

static void *worker_main(void *unused)
{
	void (*entry)(void *);
	void *arg;

	(void)unused;
	on_worker_thread = true;
	pthread_mutex_lock(&g.lock);
	entry = g.worker_entry;
	arg = g.worker_arg;
	pthread_mutex_unlock(&g.lock);

	entry(arg);
	/* Release this thread's OpenSSL state now, not in a thread-exit hook
	 * that could race with the library's atexit cleanup. */
	OPENSSL_thread_stop();

	pthread_mutex_lock(&g.lock);
	g.worker_running = false;
	g.worker_entry = NULL;
	g.worker_arg = NULL;
	pthread_cond_broadcast(&g.worker_done);
	pthread_mutex_unlock(&g.lock);
	return NULL;
}

int32_t host_start_worker(void *ctx, void (*entry)(void *arg), void *arg)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	(void)ctx;
	if (entry == NULL) {
		return -FOTA_RS_EINVAL;
	}
	pthread_once(&g_once, host_once_init);
	pthread_mutex_lock(&g.lock);
	/*
	 * The core reports "not busy" once its final callback returns, a moment
	 * before entry() itself returns. A program that starts the next download
	 * as soon as it sees the final event lands in that gap: give the old
	 * worker a bounded moment to finish instead of failing spuriously.
	 */
	if (g.worker_running && !on_worker_thread) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += HOST_WORKER_HANDOVER_S;
		while (g.worker_running &&
		       pthread_cond_timedwait(&g.worker_done, &g.lock, &until) != ETIMEDOUT) {
		}
	}
	if (g.worker_running) {
		pthread_mutex_unlock(&g.lock);
		return -FOTA_RS_EALREADY;
	}
	g.worker_running = true;
	g.worker_entry = entry;
	g.worker_arg = arg;
	if (g.worker_unjoined) {
		/* The previous worker has returned from entry(); reap it. */
		pthread_join(g.worker_tid, NULL);
		g.worker_unjoined = false;
	}
	/*
	 * Joinable, so a program can wait until the thread is entirely gone
	 * (fota_rs_host_wait_idle) before exit() tears the process down. The
	 * lock is held across the creation: the new thread takes it first thing,
	 * so worker_tid is set before anyone can wait for it.
	 */
	pthread_attr_init(&attr);
	err = pthread_create(&tid, &attr, worker_main, NULL);
	pthread_attr_destroy(&attr);
	if (err == 0) {
		g.worker_tid = tid;
		g.worker_unjoined = true;
	}
	pthread_mutex_unlock(&g.lock);
	if (err != 0) {
		pthread_mutex_lock(&g.lock);
		g.worker_running = false;
		g.worker_entry = NULL;
		g.worker_arg = NULL;
		pthread_cond_broadcast(&g.worker_done);
		pthread_mutex_unlock(&g.lock);
		host_logf(FOTA_RS_LOG_ERR, "cannot start worker thread: %s", strerror(err));
		return err == EAGAIN ? -FOTA_RS_ENOMEM : host_errno_to_fota(err);
	}
	return 0;
}

int fota_rs_host_wait_idle(uint32_t timeout_ms)
{
	struct timespec until;
	int rc = 0;

	pthread_once(&g_once, host_once_init);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000u;
	until.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g.lock);
	while (g.worker_running && rc == 0) {
		if (timeout_ms == UINT32_MAX) {
			pthread_cond_wait(&g.worker_done, &g.lock);
		} else {
			int err = pthread_cond_timedwait(&g.worker_done, &g.lock, &until);

			if (err == ETIMEDOUT) {
				rc = g.worker_running ? -1 : 0;
			}
		}
	}
	if (rc == 0 && g.worker_unjoined && !on_worker_thread) {
		g.worker_unjoined = false;
		pthread_join(g.worker_tid, NULL);
	}
	pthread_mutex_unlock(&g.lock);
	return rc;
}
