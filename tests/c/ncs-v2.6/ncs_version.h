/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: what an NCS v2.6.0 build generates as
 * zephyr/include/generated/ncs_version.h, reduced to the numbers the
 * compatibility layer reads.
 */
#ifndef _NCS_VERSION_H_
#define _NCS_VERSION_H_

#define NCS_VERSION_NUMBER 0x20600
#define NCS_VERSION_MAJOR 2
#define NCS_VERSION_MINOR 6
#define NCS_PATCHLEVEL 0
#define NCS_VERSION_STRING "2.6.0"

#endif /* _NCS_VERSION_H_ */
