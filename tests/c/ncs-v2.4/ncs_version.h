/* SPDX-License-Identifier: Apache-2.0 */
/* Test fixture: the generated ncs_version.h of an NCS v2.4.0 build, reduced. */
#ifndef _NCS_VERSION_H_
#define _NCS_VERSION_H_

#define NCS_VERSION_NUMBER 0x20400
#define NCS_VERSION_MAJOR 2
#define NCS_VERSION_MINOR 4
#define NCS_PATCHLEVEL 0
#define NCS_VERSION_STRING "2.4.0"

#endif /* _NCS_VERSION_H_ */
