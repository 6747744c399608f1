/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checks before the upgrade as a C application sees them through the NCS
 * fota_download API (v2.0.0 header of the host SDK) and the host port, the
 * device described by FOTA_RS_HOST_RUNNING_VERSION, FOTA_RS_HOST_VERIFY_KEY
 * and FOTA_RS_HOST_PRIMARY_SLOT (default: nRF9160's 0xc000):
 *
 *   test_checks CASE URL
 *
 *   accepted    a newer image linked for the slot: FINISHED and the trailer
 *               holds the upgrade request
 *   linked      linked for another slot: ERROR, cause TYPE_MISMATCH (3),
 *               diagnostic stage image, -ENOEXEC, "check=layout"
 *   old         older than the running version: the same, "check=version"
 *   other-key   FOTA_RS_HOST_VERIFY_KEY set, the image signed with another
 *               key: ERROR, cause INVALID_UPDATE (2), -EILSEQ,
 *               "check=signature"
 *   unsigned    FOTA_RS_HOST_VERIFY_KEY set, the image unsigned: the same
 *
 * Before the download the slot file (FOTA_RS_HOST_FLASH) is made erased with
 * a stale upgrade request in its trailer; after a refusal its last page must
 * be erased again. tests/c/checks.sh (sourced by run.sh) runs every case in
 * a fresh process. Prints "PASS CASE" or "FAIL CASE" after one line per
 * failed check.
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

/* The v2.0.0 numbers, as literals (see test_fota_download.c). */
#define NUM_EVT_FINISHED 1
#define NUM_EVT_ERROR 4
#define NUM_EVT_CANCELLED 5
#define NUM_CAUSE_INVALID_UPDATE 2
#define NUM_CAUSE_TYPE_MISMATCH 3

#define SLOT_SIZE 0x70000L
#define PAGE 4096L
#define WAIT_S 120

static const unsigned char boot_magic[16] = { 0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
					      0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int final_id = -1;
static int final_cause = -1;
static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			printf("  check failed (%s:%d): %s: ", __FILE__, __LINE__, #cond);         \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

static void on_event(const struct fota_download_evt *evt)
{
	int id = (int)evt->id;

	if (id != NUM_EVT_FINISHED && id != NUM_EVT_ERROR && id != NUM_EVT_CANCELLED) {
		return;
	}
	pthread_mutex_lock(&mu);
	CHECK(final_id < 0, "a second final event %d after %d", id, final_id);
	final_id = id;
	final_cause = id == NUM_EVT_ERROR ? (int)evt->cause : 0;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void wait_final(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_S;
	pthread_mutex_lock(&mu);
	while (final_id < 0) {
		if (pthread_cond_timedwait(&cv, &mu, &until) != 0) {
			break;
		}
	}
	pthread_mutex_unlock(&mu);
	CHECK(final_id >= 0, "no final event within %d s", WAIT_S);
	CHECK(fota_rs_host_wait_idle(WAIT_S * 1000u) == 0, "download thread still running");
}

/* The slot file: the last `len` bytes, read into `buf`. */
static bool slot_tail(unsigned char *buf, long len)
{
	const char *path = getenv("FOTA_RS_HOST_FLASH");
	FILE *f = path != NULL ? fopen(path, "rb") : NULL;
	bool ok;

	if (f == NULL) {
		CHECK(0, "cannot open the slot file (FOTA_RS_HOST_FLASH)");
		return false;
	}
	ok = fseek(f, SLOT_SIZE - len, SEEK_SET) == 0 && fread(buf, 1, (size_t)len, f) == (size_t)len;
	fclose(f);
	CHECK(ok, "cannot read the slot file's last %ld bytes", len);
	return ok;
}

/* An erased slot whose trailer holds an upgrade request (magic, swap_info TEST). */
static void make_slot_with_stale_request(void)
{
	const char *path = getenv("FOTA_RS_HOST_FLASH");
	static unsigned char slot[SLOT_SIZE];
	FILE *f = path != NULL ? fopen(path, "wb") : NULL;

	if (f == NULL) {
		CHECK(0, "cannot create the slot file (FOTA_RS_HOST_FLASH)");
		return;
	}
	memset(slot, 0xff, sizeof(slot));
	memcpy(slot + SLOT_SIZE - 16, boot_magic, sizeof(boot_magic));
	slot[SLOT_SIZE - 40] = 0x02;
	CHECK(fwrite(slot, 1, sizeof(slot), f) == sizeof(slot), "cannot write the slot file");
	fclose(f);
}

static int download(const char *url)
{
	int rc;

	make_slot_with_stale_request();
	rc = fota_download_init(on_event);
	CHECK(rc == 0, "fota_download_init returned %d", rc);
	rc = fota_download_start(url, url, 42, 0, 0);
	CHECK(rc == 0, "fota_download_start returned %d (%s)", rc, strerror(rc < 0 ? -rc : rc));
	if (rc == 0) {
		wait_final();
	}
	return rc;
}

static void accepted(const char *url)
{
	unsigned char tail[40];

	if (download(url) != 0) {
		return;
	}
	CHECK(final_id == NUM_EVT_FINISHED, "final event %d (cause %d), not FINISHED", final_id,
	      final_cause);
	if (slot_tail(tail, sizeof(tail))) {
		CHECK(memcmp(tail + 24, boot_magic, 16) == 0, "no trailer magic");
		CHECK(tail[0] == 0x02, "swap_info 0x%02x, not TEST", tail[0]);
	}
}

static void refused(const char *url, int cause, int32_t error, const char *check)
{
	static unsigned char page[PAGE];
	char text[1024];
	struct fota_rs_diag d;
	bool erased = true;

	if (download(url) != 0) {
		return;
	}
	CHECK(final_id == NUM_EVT_ERROR, "final event %d, not ERROR", final_id);
	CHECK(final_cause == cause, "cause %d, expected %d", final_cause, cause);
	memset(&d, 0, sizeof(d));
	CHECK(fota_rs_diag_get(&d) == 0, "fota_rs_diag_get failed");
	CHECK(d.stage == FOTA_RS_STAGE_IMAGE, "stage %d, not image", (int)d.stage);
	CHECK(d.error == error, "diag error %d, expected %d", (int)d.error, (int)error);
	CHECK(fota_rs_diag_text(text, sizeof(text)) < sizeof(text), "diag text truncated");
	printf("  diag: %s\n", text);
	CHECK(strstr(text, "stage=image") != NULL, "diag text lacks stage=image");
	CHECK(strstr(text, check) != NULL, "diag text lacks %s", check);
	CHECK(strstr(text, "nothing was scheduled") != NULL, "diag text lacks nothing was scheduled");
	if (slot_tail(page, PAGE)) {
		for (long i = 0; i < PAGE; i++) {
			erased = erased && page[i] == 0xff;
		}
		CHECK(erased, "the trailer page is not erased: an upgrade may be requested");
	}
}

int main(int argc, char **argv)
{
	const char *c = argc == 3 ? argv[1] : "";

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		printf("accepted\nlinked\nold\nother-key\nunsigned\n");
		return 0;
	}
	if (strcmp(c, "accepted") == 0) {
		accepted(argv[2]);
	} else if (strcmp(c, "linked") == 0) {
		refused(argv[2], NUM_CAUSE_TYPE_MISMATCH, -FOTA_RS_ENOEXEC, "check=layout ");
	} else if (strcmp(c, "old") == 0) {
		refused(argv[2], NUM_CAUSE_TYPE_MISMATCH, -FOTA_RS_ENOEXEC, "check=version ");
	} else if (strcmp(c, "other-key") == 0 || strcmp(c, "unsigned") == 0) {
		CHECK(getenv("FOTA_RS_HOST_VERIFY_KEY") != NULL, "run with FOTA_RS_HOST_VERIFY_KEY");
		refused(argv[2], NUM_CAUSE_INVALID_UPDATE, -FOTA_RS_EILSEQ, "check=signature ");
	} else {
		fprintf(stderr, "usage: %s CASE URL | --list\n", argv[0]);
		return 2;
	}
	printf("%s %s\n", failures == 0 ? "PASS" : "FAIL", c);
	fflush(stdout);
	return failures == 0 ? 0 : 1;
}
