/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the part of NCS v2.6's <dfu/dfu_target.h> that
 * <net/fota_download.h> needs. The image types are bits (since v2.2.0), so
 * a caller can accept several; ANY is the three firmware kinds together and
 * leaves out SMP (added by v2.6.0).
 *
 * Checked by hand against sdk-nrf v2.6.0 include/dfu/dfu_target.h: names,
 * values and order below are those of its enum dfu_target_image_type.
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
	/* Any application image. */
	DFU_TARGET_IMAGE_TYPE_ANY_APPLICATION = DFU_TARGET_IMAGE_TYPE_MCUBOOT,
	/* Either modem image. */
	DFU_TARGET_IMAGE_TYPE_ANY_MODEM =
		(DFU_TARGET_IMAGE_TYPE_MODEM_DELTA | DFU_TARGET_IMAGE_TYPE_FULL_MODEM),
	/* Whichever of the firmware kinds arrives. */
	DFU_TARGET_IMAGE_TYPE_ANY = (DFU_TARGET_IMAGE_TYPE_MCUBOOT |
				     DFU_TARGET_IMAGE_TYPE_MODEM_DELTA |
				     DFU_TARGET_IMAGE_TYPE_FULL_MODEM),
};

#endif /* DFU_TARGET_H__ */
