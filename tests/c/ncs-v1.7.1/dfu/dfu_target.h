/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the image types of NCS v1.7.1's <dfu/dfu_target.h>, counted
 * (not bits) as in every version before the bitmask.
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
