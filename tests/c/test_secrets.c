/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One download through the NCS fota_download C API, driven to a given end
 * for the secret test (tests/c/secrets.sh):
 *
 *   test_secrets OUTCOME URL
 *
 * OUTCOME is finished, error, refused (tag 1003, whose CA does not validate
 * the server: start returns -ECONNREFUSED) or cancelled (fota_download_cancel
 * from the first progress event). Prints the final event and the diagnostic
 * text, then "PASS" when the download ended as named, "FAIL" otherwise. The
 * script searches all it prints, and what the library logged, for the URL's
 * credentials. Built against the SDK's own header (the NCS v2.0.0 form).
 */
/* pthreads and clock_gettime under -std=c11. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <net/fota_download.h>

#include <fota_rs.h>
#include <fota_rs_port_host.h>

/* Generous: only there so that a hang fails instead of blocking the run. */
#define FINAL_EVENT_WAIT_S 120

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool cancel_on_progress;
static int final_id = -1;
static int final_cause;

static void on_event(const struct fota_download_evt *evt)
{
	bool cancel_now;

	pthread_mutex_lock(&mu);
	cancel_now = evt->id == FOTA_DOWNLOAD_EVT_PROGRESS && evt->progress >= 1 && cancel_on_progress;
	if (cancel_now) {
		cancel_on_progress = false;
	} else if (evt->id == FOTA_DOWNLOAD_EVT_FINISHED || evt->id == FOTA_DOWNLOAD_EVT_ERROR ||
		   evt->id == FOTA_DOWNLOAD_EVT_CANCELLED) {
		final_id = (int)evt->id;
		final_cause = evt->id == FOTA_DOWNLOAD_EVT_ERROR ? (int)evt->cause : 0;
		pthread_cond_broadcast(&cv);
	}
	pthread_mutex_unlock(&mu);
	/*
	 * Not under mu: in the v1.7/v2.0 forms CANCELLED is delivered from inside
	 * fota_download_cancel(), so this callback is entered again first.
	 */
	if (cancel_now) {
		printf("cancel at %d %%: %d\n", evt->progress, fota_download_cancel());
	}
}

/* The final event's id, or -1 when none came in time. */
static int wait_final(void)
{
	struct timespec until;
	int id;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += FINAL_EVENT_WAIT_S;
	pthread_mutex_lock(&mu);
	while (final_id < 0 && pthread_cond_timedwait(&cv, &mu, &until) == 0) {
	}
	id = final_id;
	pthread_mutex_unlock(&mu);
	if (id >= 0 && fota_rs_host_wait_idle(FINAL_EVENT_WAIT_S * 1000u) != 0) {
		printf("download thread still running after the final event\n");
		return -1;
	}
	return id;
}

int main(int argc, char **argv)
{
	const char *outcome, *url;
	char diag[512];
	bool ok;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s finished|error|refused|cancelled URL\n", argv[0]);
		return 2;
	}
	outcome = argv[1];
	url = argv[2];
	cancel_on_progress = strcmp(outcome, "cancelled") == 0;
	rc = fota_download_init(on_event);
	if (rc != 0) {
		printf("fota_download_init returned %d\nFAIL\n", rc);
		return 1;
	}
	rc = fota_download_start(url, url, strcmp(outcome, "refused") == 0 ? 1003 : 42, 0, 0);
	printf("fota_download_start returned %d\n", rc);
	if (strcmp(outcome, "refused") == 0) {
		ok = rc == -ECONNREFUSED;
	} else if (rc != 0) {
		ok = false;
	} else {
		int id = wait_final();

		printf("final event %d cause %d\n", id, final_cause);
		ok = (strcmp(outcome, "finished") == 0 && id == FOTA_DOWNLOAD_EVT_FINISHED) ||
		     (strcmp(outcome, "error") == 0 && id == FOTA_DOWNLOAD_EVT_ERROR) ||
		     (strcmp(outcome, "cancelled") == 0 && id == FOTA_DOWNLOAD_EVT_CANCELLED);
	}
	fota_rs_diag_text(diag, sizeof(diag));
	printf("diag: %s\n%s\n", diag, ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
