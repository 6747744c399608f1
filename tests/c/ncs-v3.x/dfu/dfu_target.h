/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the part of NCS 3.x's <dfu/dfu_target.h> that
 * <net/fota_download.h> needs. 3.x adds CUSTOM, and ANY includes it.
 *
 * Checked by hand against sdk-nrf 3.1.99 (main) include/dfu/dfu_target.h:
 * names, values and order below are those of its enum dfu_target_image_type.
 */
#ifndef DFU_TARGET_H__
#define DFU_TARGET_H__

enum dfu_target_image_type {
	/* Not known (yet), or not a firmware image. */
	DFU_TARGET_IMAGE_TYPE_NONE = 0,
	/* Application image for MCUboot. */
	DFU_TARGET_IMAGE_TYPE_MCUBOOT = 1,
	/* nRF91 modem delta update. */
	DFU_TARGET_IMAGE_TYPE_MODEM_DELTA = 2,
	/* nRF91 full modem firmware. */
	DFU_TARGET_IMAGE_TYPE_FULL_MODEM = 4,
	/* Image for a device reached over SMP. */
	DFU_TARGET_IMAGE_TYPE_SMP = 8,
	/* An application-defined image. */
	DFU_TARGET_IMAGE_TYPE_CUSTOM = 128,
	/* Any application image. */
	DFU_TARGET_IMAGE_TYPE_ANY_APPLICATION = DFU_TARGET_IMAGE_TYPE_MCUBOOT,
	/* Either modem image. */
	DFU_TARGET_IMAGE_TYPE_ANY_MODEM =
		(DFU_TARGET_IMAGE_TYPE_MODEM_DELTA | DFU_TARGET_IMAGE_TYPE_FULL_MODEM),
	/* Whichever kind arrives. */
	DFU_TARGET_IMAGE_TYPE_ANY =
		(DFU_TARGET_IMAGE_TYPE_MCUBOOT | DFU_TARGET_IMAGE_TYPE_MODEM_DELTA |
		 DFU_TARGET_IMAGE_TYPE_FULL_MODEM | DFU_TARGET_IMAGE_TYPE_CUSTOM),
};

#endif /* DFU_TARGET_H__ */
