/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The smallest program that keeps fota-rs's whole download path: the NCS
 * call sequence (init, then start with the URL as host and file, as Memfault
 * does). The port table hides everything behind function pointers, so the
 * linker cannot drop any of the Rust core that start() and the worker reach.
 * Linked by scripts/size.sh, never run.
 *
 * Built with -DSIZE_BASELINE it references nothing of the project: the
 * difference between the two images is what the project costs, C library
 * included.
 */

#include <stddef.h>
#include <stdint.h>

#ifndef SIZE_BASELINE
#include <net/fota_download.h>

static volatile int last_event = -1;

static void on_event(const struct fota_download_evt *evt)
{
	last_event = (int)evt->id;
}
#endif

/* The stub port's table must survive the baseline link too, so the
 * baseline subtracts the platform's share (tests/arm/compat_shim/stub_port.c). */
#include "fota_rs_platform.h"

int main(void)
{
	volatile const void *keep = fota_rs_platform_port();

	(void)keep;
#ifndef SIZE_BASELINE
	static const char url[] = "https://memfault-test.s3.localhost/fw/app_update.bin";
	int rc = fota_download_init(on_event);

	if (rc == 0) {
		rc = fota_download_start(url, url, 42, 0, 0);
	}
	return rc < 0 ? 1 : 0;
#else
	return 0;
#endif
}
