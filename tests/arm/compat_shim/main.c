/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Minimal caller of the NCS fota_download API, the way Memfault calls it:
 * init once, then start with the full URL as both host and file. Linked,
 * never run (tests/arm/build.sh inspects the ELF).
 *
 * The literal 0 for the fourth argument fits every NCS signature of
 * fota_download_start(): `const char *apn` up to v1.7, `uint8_t pdn_id` from
 * v1.8 on.
 */

#include <stddef.h>

#include <net/fota_download.h>

static volatile int last_event = -1;

static void on_event(const struct fota_download_evt *evt)
{
	last_event = (int)evt->id;
}

int main(void)
{
	static const char url[] = "https://memfault-test.s3.localhost/fw/app_update.bin";
	int rc = fota_download_init(on_event);

	if (rc == 0) {
		rc = fota_download_start(url, url, 1004, 0, 0);
	}
	if (rc == 0) {
		rc = fota_download_cancel();
	}
	return rc < 0 ? 1 : 0;
}
