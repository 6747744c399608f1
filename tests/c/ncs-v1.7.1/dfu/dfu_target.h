/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the image types of NCS v1.7.1's <dfu/dfu_target.h>, counted
 * (not bits) as in every version before the bitmask (v2.2.0).
 *
 * Checked by hand against sdk-nrf v1.7.1 include/dfu/dfu_target.h: ANY = 0,
 * MCUBOOT = 1, MODEM_DELTA, FULL_MODEM (2, 3), in this order.
 */
#ifndef DFU_TARGET_H__
#define DFU_TARGET_H__

enum dfu_target_image_type {
	/* As an expectation: whichever type arrives. */
	DFU_TARGET_IMAGE_TYPE_ANY = 0,
	DFU_TARGET_IMAGE_TYPE_MCUBOOT = 1,
	DFU_TARGET_IMAGE_TYPE_MODEM_DELTA = 2,
	DFU_TARGET_IMAGE_TYPE_FULL_MODEM = 3,
};

#endif /* DFU_TARGET_H__ */
