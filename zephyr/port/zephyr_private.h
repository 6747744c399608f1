/* SPDX-License-Identifier: Apache-2.0 */
/* Zephyr port: the functions its files share with the port table in port.c. */
#ifndef FOTA_RS_ZEPHYR_PRIVATE_H
#define FOTA_RS_ZEPHYR_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <fota_rs/port.h>

/* Logging v1 (deferred) needed log_strdup() for strings that do not outlive
 * the call; v2 copies them itself and log_strdup() was later removed
 * (Zephyr 3.x). CONFIG_LOG1 only exists on the old trees. */
#if defined(CONFIG_LOG1)
#define FRS_LOG_STR(s) log_strdup(s)
#else
#define FRS_LOG_STR(s) (s)
#endif

/* port.c: bytes of the download thread's stack never used since it was
 * created (the high-water mark's complement). 0, -ESRCH before the first
 * download, -ENOTSUP without CONFIG_INIT_STACKS and CONFIG_THREAD_STACK_INFO
 * (CONFIG_THREAD_ANALYZER selects both). */
int frs_worker_stack_unused(size_t *unused);

/* port.c: the one place errno numbers become project codes. Positive errno
 * in, negative FOTA_RS_E* out. */
int32_t frs_errno_to_code(int err);

/* net_tls.c */
int32_t frs_port_connect(void *ctx, const struct fota_rs_connect_params *p,
			 struct fota_rs_connect_result *res);
int32_t frs_port_send(void *ctx, int32_t handle, const uint8_t *buf, size_t len);
int32_t frs_port_recv(void *ctx, int32_t handle, uint8_t *buf, size_t len, uint32_t timeout_ms);
void frs_port_close(void *ctx, int32_t handle);

/* flash_mcuboot.c (ENOTSUP stubs without CONFIG_FOTA_RS_TARGET_MCUBOOT) */
int32_t frs_port_flash_geometry(void *ctx, struct fota_rs_flash_geometry *out);
int32_t frs_port_flash_erase(void *ctx, uint32_t off, uint32_t len);
int32_t frs_port_flash_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len);
int32_t frs_port_flash_read(void *ctx, uint32_t off, uint8_t *data, uint32_t len);
int32_t frs_port_request_upgrade(void *ctx, bool permanent);
/* Only with CONFIG_FOTA_RS_TARGET_MCUBOOT: */
int32_t frs_port_running_version(void *ctx, struct fota_rs_image_version *out);
int32_t frs_port_device_layout(void *ctx, struct fota_rs_device_layout *out);
int32_t frs_port_running_confirmed(void *ctx, bool *confirmed);

/* settings.c (no persistence without CONFIG_FOTA_RS_PROGRESS_SAVE) */
int32_t frs_port_kv_load(void *ctx, const char *key, uint8_t *buf, size_t len);
int32_t frs_port_kv_save(void *ctx, const char *key, const uint8_t *buf, size_t len);
int32_t frs_port_kv_delete(void *ctx, const char *key);

/* modem_delta.c, built with CONFIG_FOTA_RS_TARGET_MODEM_DELTA */
int32_t frs_port_modem_delta_offset(void *ctx, uint32_t *offset);
int32_t frs_port_modem_delta_erase(void *ctx);
int32_t frs_port_modem_delta_write(void *ctx, const uint8_t *data, uint32_t len);
int32_t frs_port_modem_delta_done(void *ctx, bool apply);

#endif /* FOTA_RS_ZEPHYR_PRIVATE_H */
