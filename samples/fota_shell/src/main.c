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
#endif

LOG_MODULE_REGISTER(fota_shell, LOG_LEVEL_INF);

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
	/* NCS >= 2.3 initialises the modem library explicitly and without
	 * arguments (2.0 did it at boot, or took a mode argument). */
	err = nrf_modem_lib_init();
	if (err) {
		LOG_ERR("nrf_modem_lib_init: %d", err);
		return 0;
	}

	LOG_INF("connecting to LTE...");
	/* Blocks until registered. Available from NCS 1.x to 2.6; later
	 * releases deprecate it in favour of lte_lc_connect(). */
	err = lte_lc_init_and_connect();
	if (err) {
		LOG_ERR("LTE connect: %d", err);
		return 0;
	}
	LOG_INF("LTE connected");
#endif

	LOG_INF("try: fota_rs download https://<host>/<path>/app_update.bin <sec_tag>");
	return 0;
}
