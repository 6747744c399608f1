/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Memfault FOTA on the nRF9160 DK, downloading through fota-rs.
 *
 * Nothing here knows about fota-rs: Memfault calls NCS's fota_download API
 * as it always does, and the fota-rs module answers those calls (the build
 * wraps them at link time). At boot the app confirms the running image,
 * connects to LTE and asks Memfault once for a release; the shell command
 * (APP_FOTA_SHELL_CMD below) asks again.
 *
 * One source for NCS v2.0 to the 3.x releases: the modem and LTE calls
 * follow NCS_VERSION_NUMBER, Memfault's FOTA call follows the Kconfig
 * symbol that comes with it (Memfault's version header is a struct
 * initialiser, not something #if can compare; its values are logged).
 */

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/dfu/mcuboot.h>
#include <modem/lte_lc.h>
#include <modem/nrf_modem_lib.h>
#include <ncs_version.h>

#include <memfault/version.h>
#if defined(CONFIG_MEMFAULT_ZEPHYR_FOTA_BACKEND_NCS)
/* Memfault 1.38 and later: the NCS backend of the Zephyr FOTA port. */
#include <memfault/ports/zephyr/fota.h>
#define APP_FOTA_START() memfault_zephyr_fota_start()
#define APP_FOTA_SHELL_CMD "mflt get_latest_release"
#elif defined(CONFIG_MEMFAULT_FOTA)
/* Memfault up to 1.37 (NCS v2.0 to v3.1): the NCS port's own FOTA. */
#include <memfault/nrfconnect_port/fota.h>
#define APP_FOTA_START() memfault_fota_start()
#define APP_FOTA_SHELL_CMD "mflt_nrf fota"
#else
#error "Memfault FOTA is off: this Memfault SDK has neither CONFIG_MEMFAULT_FOTA nor CONFIG_MEMFAULT_ZEPHYR_FOTA_BACKEND_NCS enabled (see the sample's Kconfig)"
#endif

LOG_MODULE_REGISTER(app, LOG_LEVEL_INF);

/* Modem first, LTE second: Memfault's NCS integration provisions its root
 * CAs into the modem once the modem library is up, and the modem refuses
 * credential writes (-EPERM) while LTE is on. */
static int modem_init(void)
{
#if defined(CONFIG_NRF_MODEM_LIB_SYS_INIT)
	/* Up to NCS v2.3 the library is initialised at boot by default, before
	 * Memfault's own initialisation needs it. */
	return 0;
#elif NCS_VERSION_NUMBER < 0x20363
	/* Up to v2.3.x nrf_modem_lib_init() takes the mode (read at v2.0.0;
	 * the argument went in the 2.3.99 development cycle). */
	return nrf_modem_lib_init(NORMAL_MODE);
#else
	return nrf_modem_lib_init();
#endif
}

static int lte_connect(void)
{
#if NCS_VERSION_NUMBER < 0x20563
	/* Blocks until registered. lte_lc_init() became unnecessary (and
	 * deprecated, with this call) in the 2.5.99 cycle; removed in v2.8. */
	return lte_lc_init_and_connect();
#else
	return lte_lc_connect();
#endif
}

int main(void)
{
	static const sMfltSdkVersion memfault_version = MEMFAULT_SDK_VERSION;
	int err;

	LOG_INF("NCS %s, Memfault SDK %u.%u.%u", NCS_VERSION_STRING,
		memfault_version.major, memfault_version.minor, memfault_version.patch);

	/* An update arrives as a test swap: confirm it, or MCUboot reverts
	 * at the next reset. Here the image confirms itself as soon as it
	 * runs; a product would wait until it has reached Memfault again. */
	if (!boot_is_img_confirmed()) {
		err = boot_write_img_confirmed();
		LOG_INF("confirming running image: %d", err);
	}

	err = modem_init();
	if (err) {
		LOG_ERR("nrf_modem_lib_init: %d", err);
		return 0;
	}

	LOG_INF("connecting to LTE...");
	err = lte_connect();
	if (err) {
		LOG_ERR("LTE connect: %d", err);
		return 0;
	}
	LOG_INF("LTE connected, asking Memfault for a release");

	/* < 0 error, 0 up to date (HTTP 204), 1 download started. A refused
	 * TLS handshake no longer ends here as -111 after the first tag:
	 * fota-rs tries Memfault's tags, then CONFIG_FOTA_RS_FALLBACK_SEC_TAGS,
	 * and `fota_rs diag` says what failed if all of them do. */
	int rv = APP_FOTA_START();

	if (rv < 0) {
		LOG_ERR("Memfault FOTA check failed: %d (see 'fota_rs diag')", rv);
	} else if (rv == 0) {
		LOG_INF("up to date (no release for this software type, hardware "
			"version and current version)");
	} else {
		LOG_INF("update download started");
	}
	LOG_INF("'%s' asks again", APP_FOTA_SHELL_CMD);
	return 0;
}
