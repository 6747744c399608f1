/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the NCS compatibility layer needs from whichever port is linked.
 *
 * fota_download_init() takes no platform argument, so the layer cannot be
 * handed a port table the way fota_rs_init() is. Each port (Zephyr, host)
 * defines these two functions instead, and the link picks one.
 */
#ifndef FOTA_RS_PLATFORM_H_
#define FOTA_RS_PLATFORM_H_

#include "fota_rs.h"
#include "fota_rs/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The platform's port table, or NULL when the platform could not be set up. */
const struct fota_rs_port *fota_rs_platform_port(void);

/**
 * Fill cfg with the platform's configuration: fota_rs_config_default()
 * plus whatever the platform adds (Kconfig options, fallback TLS tags).
 * Pointers stored in cfg stay valid for the life of the program.
 */
void fota_rs_platform_config(struct fota_rs_config *cfg);

/**
 * A negative FOTA_RS_E* code as a negative errno of this build's C library
 * (0 and positive values pass through). Defined in compat/fota_download.c:
 * C code that reports fota-rs errors as errno uses this one mapping.
 */
int fota_rs_errno_to_posix(int32_t fota_rs_err);

#ifdef __cplusplus
}
#endif

#endif /* FOTA_RS_PLATFORM_H_ */
