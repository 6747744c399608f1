/* SPDX-License-Identifier: Apache-2.0 */
/* Zephyr port: the key/value store as settings under "fota_rs/<key>" (FOTA_RS_PROGRESS_SAVE). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

#if defined(CONFIG_FOTA_RS_PROGRESS_SAVE)
#include <zephyr/settings/settings.h>
#endif

#include <fota_rs/port.h>
#include "fota_rs/errno_map.h"
#include "zephyr_private.h"

/* The module's log source, registered in port.c. */
LOG_MODULE_DECLARE(fota_rs, CONFIG_FOTA_RS_LOG_LEVEL);

/* ------------------------------------------------------------------------ */
/* Key/value store: settings under "fota_rs/<key>"                           */
/* ------------------------------------------------------------------------ */

#if defined(CONFIG_FOTA_RS_PROGRESS_SAVE)

/* SETTINGS_MAX_NAME_LEN is 8 * CONFIG_SETTINGS_MAX_DIR_DEPTH (64 by default). */
#define FRS_KV_NAME_MAX 64

static int32_t kv_name(char *name, size_t size, const char *key)
{
	if (key == NULL) {
		return -FOTA_RS_EINVAL;
	}
	int n = snprintf(name, size, "fota_rs/%s", key);

	return (n < 0 || (size_t)n >= size) ? -FOTA_RS_ENAMETOOLONG : 0;
}

static int32_t kv_init(void)
{
	/* settings_subsys_init() is idempotent; calling it here spares the
	 * application an ordering requirement. */
	int err = settings_subsys_init();

	if (err != 0) {
		LOG_ERR("settings_subsys_init: %d", err);
		return -FOTA_RS_EIO;
	}
	return 0;
}

struct kv_load_ctx {
	uint8_t *buf;
	size_t len;
	int32_t result;
};

/* settings_load_direct_cb: key is what is left of the stored name after the
 * requested subtree; NULL or "" means the exact name. Present with this
 * signature from Zephyr 2.x to 4.x. */
static int kv_load_cb(const char *key, size_t len, settings_read_cb read_cb, void *cb_arg,
		      void *param)
{
	struct kv_load_ctx *c = param;

	if (key != NULL && key[0] != '\0') {
		return 0; /* a child such as fota_rs/<key>/x: not ours */
	}
	if (len == 0) {
		c->result = -FOTA_RS_ENOENT; /* deleted entry */
		return 1;
	}
	if (len > c->len) {
		c->result = -FOTA_RS_ENOMEM;
		return 1;
	}

	ssize_t n = read_cb(cb_arg, c->buf, len);

	c->result = (n < 0) ? -FOTA_RS_EIO : (int32_t)n;
	return 1; /* stop: found */
}

int32_t frs_port_kv_load(void *ctx, const char *key, uint8_t *buf, size_t len)
{
	ARG_UNUSED(ctx);

	char name[FRS_KV_NAME_MAX];
	int32_t rc = kv_name(name, sizeof(name), key);

	if (rc == 0) {
		rc = kv_init();
	}
	if (rc != 0) {
		return rc;
	}

	struct kv_load_ctx c = {.buf = buf, .len = len, .result = -FOTA_RS_ENOENT};
	int err = settings_load_subtree_direct(name, kv_load_cb, &c);

	if (err != 0) {
		LOG_WRN("settings load %s: %d", name, err);
		return -FOTA_RS_EIO;
	}
	return c.result;
}

int32_t frs_port_kv_save(void *ctx, const char *key, const uint8_t *buf, size_t len)
{
	ARG_UNUSED(ctx);

	char name[FRS_KV_NAME_MAX];
	int32_t rc = kv_name(name, sizeof(name), key);

	if (rc == 0) {
		rc = kv_init();
	}
	if (rc != 0) {
		return rc;
	}

	int err = settings_save_one(name, buf, len);

	return err == 0 ? 0 : -FOTA_RS_EIO;
}

int32_t frs_port_kv_delete(void *ctx, const char *key)
{
	ARG_UNUSED(ctx);

	char name[FRS_KV_NAME_MAX];
	int32_t rc = kv_name(name, sizeof(name), key);

	if (rc == 0) {
		rc = kv_init();
	}
	if (rc != 0) {
		return rc;
	}

	int err = settings_delete(name);

	return err == 0 ? 0 : -FOTA_RS_EIO;
}

#else /* !CONFIG_FOTA_RS_PROGRESS_SAVE */

/* No persistence: nothing is ever found, saving and deleting succeed
 * without effect, so a reboot simply restarts the download. */
int32_t frs_port_kv_load(void *ctx, const char *key, uint8_t *buf, size_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(key);
	ARG_UNUSED(buf);
	ARG_UNUSED(len);
	return -FOTA_RS_ENOENT;
}

int32_t frs_port_kv_save(void *ctx, const char *key, const uint8_t *buf, size_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(key);
	ARG_UNUSED(buf);
	ARG_UNUSED(len);
	return 0;
}

int32_t frs_port_kv_delete(void *ctx, const char *key)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(key);
	return 0;
}

#endif /* CONFIG_FOTA_RS_PROGRESS_SAVE */
