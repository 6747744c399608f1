/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * fota-rs shell sample: confirm the running image, bring LTE up, then leave
 * everything to the `fota_rs` shell command.
 */

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/dfu/mcuboot.h>

#if defined(CONFIG_NRF_MODEM_LIB)
#include <modem/lte_lc.h>
#include <modem/nrf_modem_lib.h>
#include <ncs_version.h>
#endif

LOG_MODULE_REGISTER(fota_shell, LOG_LEVEL_INF);

#if defined(CONFIG_NRF_MODEM_LIB)
/* NCS v2.0 to the 3.x releases, chosen by NCS_VERSION_NUMBER. */
static int modem_init(void)
{
#if defined(CONFIG_NRF_MODEM_LIB_SYS_INIT)
	/* Up to NCS v2.3 the library is initialised at boot by default. */
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
#endif /* CONFIG_NRF_MODEM_LIB */

int main(void)
{
	int err;

	/* fota-rs requests a test swap (as NCS does): MCUboot reverts it at
	 * the next reset unless the new image marks itself good. A real
	 * product would first check that it can still reach its server. */
	if (!boot_is_img_confirmed()) {
		err = boot_write_img_confirmed();
		if (err) {
			LOG_ERR("boot_write_img_confirmed: %d", err);
		} else {
			LOG_INF("running image confirmed");
		}
	}

#if defined(CONFIG_NRF_MODEM_LIB)
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
	LOG_INF("LTE connected");
#endif

	LOG_INF("try: fota_rs download https://<host>/<path>/app_update.bin <sec_tag>");
	return 0;
}
