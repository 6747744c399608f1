/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * A port table whose entries do nothing, for the size build only: its code
 * is the platform's, not the project's, and scripts/size.sh does not count
 * it. What matters is that the core reaches every entry through the table,
 * so nothing of the core can be proven unreachable.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fota_rs.h"
#include "fota_rs/port.h"
#include "fota_rs_platform.h"

static int32_t s_connect(void *ctx, const struct fota_rs_connect_params *p,
			 struct fota_rs_connect_result *res)
{
	(void)ctx;
	(void)p;
	res->handle = 0;
	return 0;
}

static int32_t s_send(void *ctx, int32_t h, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)h;
	(void)buf;
	return (int32_t)len;
}

static int32_t s_recv(void *ctx, int32_t h, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	(void)ctx;
	(void)h;
	(void)buf;
	(void)len;
	(void)timeout_ms;
	return 0;
}

static void s_close(void *ctx, int32_t h)
{
	(void)ctx;
	(void)h;
}

static int32_t s_geometry(void *ctx, struct fota_rs_flash_geometry *out)
{
	(void)ctx;
	out->slot_size = 0x70000;
	out->page_size = 4096;
	out->write_block = 4;
	out->erased_value = 0xff;
	return 0;
}

static int32_t s_erase(void *ctx, uint32_t off, uint32_t len)
{
	(void)ctx;
	(void)off;
	(void)len;
	return 0;
}

static int32_t s_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len)
{
	(void)ctx;
	(void)off;
	(void)data;
	(void)len;
	return 0;
}

static int32_t s_read(void *ctx, uint32_t off, uint8_t *data, uint32_t len)
{
	(void)ctx;
	(void)off;
	(void)data;
	(void)len;
	return 0;
}

static int32_t s_request_upgrade(void *ctx, bool permanent)
{
	(void)ctx;
	(void)permanent;
	return 0;
}

static int32_t s_kv_load(void *ctx, const char *key, uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)key;
	(void)buf;
	(void)len;
	return -FOTA_RS_ENOENT;
}

static int32_t s_kv_save(void *ctx, const char *key, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)key;
	(void)buf;
	(void)len;
	return 0;
}

static int32_t s_kv_delete(void *ctx, const char *key)
{
	(void)ctx;
	(void)key;
	return 0;
}

static uint64_t s_uptime(void *ctx)
{
	(void)ctx;
	return 0;
}

static void s_sleep(void *ctx, uint32_t ms)
{
	(void)ctx;
	(void)ms;
}

static void s_log(void *ctx, uint8_t level, const char *msg, size_t len)
{
	(void)ctx;
	(void)level;
	(void)msg;
	(void)len;
}

static int32_t s_start_worker(void *ctx, void (*entry)(void *arg), void *arg)
{
	(void)ctx;
	entry(arg);
	return 0;
}

static const struct fota_rs_port stub_port = {
	.ctx = NULL,
	.connect = s_connect,
	.send = s_send,
	.recv = s_recv,
	.close = s_close,
	.flash_geometry = s_geometry,
	.flash_erase = s_erase,
	.flash_write = s_write,
	.flash_read = s_read,
	.request_upgrade = s_request_upgrade,
	.kv_load = s_kv_load,
	.kv_save = s_kv_save,
	.kv_delete = s_kv_delete,
	.uptime_ms = s_uptime,
	.sleep_ms = s_sleep,
	.log = s_log,
	.start_worker = s_start_worker,
};

const void *size_keep_port(void)
{
	return &stub_port;
}

const struct fota_rs_port *fota_rs_platform_port(void)
{
	return &stub_port;
}

void fota_rs_platform_config(struct fota_rs_config *cfg)
{
	fota_rs_config_default(cfg);
}
