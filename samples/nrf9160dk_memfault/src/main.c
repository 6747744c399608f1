/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Memfault FOTA on the nRF9160 DK, downloading through fota-rs.
 *
 * Nothing here knows about fota-rs: Memfault calls NCS's fota_download API
 * as it always does, and the fota-rs module answers those calls (the build
 * wraps them at link time). At boot the app confirms the running image,
 * connects to LTE and asks Memfault once for a release; `mflt_nrf fota`
 * asks again from the shell.
 */

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/dfu/mcuboot.h>
#include <modem/lte_lc.h>
#include <modem/nrf_modem_lib.h>

#include <memfault/nrfconnect_port/fota.h>

LOG_MODULE_REGISTER(app, LOG_LEVEL_INF);

int main(void)
{
	int err;

	/* An update arrives as a test swap: confirm it, or MCUboot reverts
	 * at the next reset. Here the image confirms itself as soon as it
	 * runs; a product would wait until it has reached Memfault again. */
	if (!boot_is_img_confirmed()) {
		err = boot_write_img_confirmed();
		LOG_INF("confirming running image: %d", err);
	}

	/* Modem first, LTE second: Memfault's NCS integration provisions its
	 * root CAs into the modem when the modem library initialises, and the
	 * modem refuses credential writes (-EPERM) while LTE is on.
	 * nrf_modem_lib_init() takes no argument from NCS 2.3 on. */
	err = nrf_modem_lib_init();
	if (err) {
		LOG_ERR("nrf_modem_lib_init: %d", err);
		return 0;
	}

	LOG_INF("connecting to LTE...");
	/* Deprecated after NCS 2.6 in favour of lte_lc_connect(). */
	err = lte_lc_init_and_connect();
	if (err) {
		LOG_ERR("LTE connect: %d", err);
		return 0;
	}
	LOG_INF("LTE connected, asking Memfault for a release");

	/* < 0 error, 0 up to date (HTTP 204), 1 download started. A refused
	 * TLS handshake no longer ends here as -111 after the first tag:
	 * fota-rs tries Memfault's tags, then CONFIG_FOTA_RS_FALLBACK_SEC_TAGS,
	 * and `fota_rs diag` says what failed if all of them do. */
	int rv = memfault_fota_start();

	if (rv < 0) {
		LOG_ERR("Memfault FOTA check failed: %d (see 'fota_rs diag')", rv);
	} else if (rv == 0) {
		LOG_INF("up to date (no release for this software type, hardware "
			"version and current version)");
	} else {
		LOG_INF("update download started");
	}
	return 0;
}
