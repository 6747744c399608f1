/* SPDX-License-Identifier: Apache-2.0 */
/* Test fixture: the generated ncs_version.h of an NCS v1.7.1 build, reduced. */
#ifndef _NCS_VERSION_H_
#define _NCS_VERSION_H_

#define NCS_VERSION_NUMBER 0x10701
#define NCS_VERSION_MAJOR 1
#define NCS_VERSION_MINOR 7
#define NCS_PATCHLEVEL 1
#define NCS_VERSION_STRING "1.7.1"

#endif /* _NCS_VERSION_H_ */
