/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the generated ncs_version.h of an NCS build of sdk-nrf's
 * main branch at 3.1.99 (the newest 3.x form), reduced.
 */
#ifndef _NCS_VERSION_H_
#define _NCS_VERSION_H_

#define NCS_VERSION_NUMBER 0x30163
#define NCS_VERSION_MAJOR 3
#define NCS_VERSION_MINOR 1
#define NCS_PATCHLEVEL 99
#define NCS_VERSION_STRING "3.1.99"

#endif /* _NCS_VERSION_H_ */
