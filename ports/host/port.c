/* SPDX-License-Identifier: Apache-2.0 */
/* Host port: its shared state, the port table and the platform entry points. */
/*
 * The host port is the nRF9160 as far as fota-rs can tell.
 *
 * The point of the port is fidelity, not convenience. Where the device
 * behaves in a surprising way the host copies the surprise (a failed TLS
 * handshake is ECONNREFUSED, as the modem says), and where the device would
 * fail silently the host fails loudly (a flash write that needs an erase is
 * an error here, silent corruption on NOR).
 */
#include "host_private.h"

#include <string.h>

struct host_state g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.flash_lock = PTHREAD_MUTEX_INITIALIZER,
	.kv_lock = PTHREAD_MUTEX_INITIALIZER,
	.modem_lock = PTHREAD_MUTEX_INITIALIZER,
	.log_level = FOTA_RS_LOG_INF,
	.flash_fd = -1,
};

pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ */
/* errno                                                              */
/* ------------------------------------------------------------------ */

/*
 * The one place host errno becomes a FOTA_RS code. By name only: the
 * numbers differ between C libraries, which is the reason the codes exist.
 */
int32_t host_errno_to_fota(int e)
{
	return fota_rs_errno_from_posix(e);
}

/* ------------------------------------------------------------------ */
/* device facts                                                       */
/* ------------------------------------------------------------------ */

static int32_t host_running_version(void *ctx, struct fota_rs_image_version *out)
{
	(void)ctx;
	if (out == NULL) {
		return -FOTA_RS_EINVAL;
	}
	if (!g.configured) {
		return -FOTA_RS_EIO;
	}
	*out = g.running_version;
	return 0;
}

static int32_t host_device_layout(void *ctx, struct fota_rs_device_layout *out)
{
	(void)ctx;
	if (out == NULL) {
		return -FOTA_RS_EINVAL;
	}
	if (!g.configured) {
		return -FOTA_RS_EIO;
	}
	*out = g.layout;
	return 0;
}

static int32_t host_running_confirmed(void *ctx, bool *out)
{
	(void)ctx;
	if (out == NULL) {
		return -FOTA_RS_EINVAL;
	}
	if (!g.configured) {
		return -FOTA_RS_EIO;
	}
	*out = !g.running_unconfirmed;
	return 0;
}

/* ------------------------------------------------------------------ */
/* table                                                              */
/* ------------------------------------------------------------------ */

static const struct fota_rs_port host_port = {
	.ctx = &g,
	.connect = host_connect,
	.send = host_send,
	.recv = host_recv,
	.close = host_close,
	.flash_geometry = host_flash_geometry,
	.flash_erase = host_flash_erase,
	.flash_write = host_flash_write,
	.flash_read = host_flash_read,
	.request_upgrade = host_request_upgrade,
	.kv_load = host_kv_load,
	.kv_save = host_kv_save,
	.kv_delete = host_kv_delete,
	.uptime_ms = host_uptime_ms,
	.sleep_ms = host_sleep_ms,
	.log = host_log,
	.start_worker = host_start_worker,
	.running_version = host_running_version,
	.device_layout = host_device_layout,
	.running_confirmed = host_running_confirmed,
	.modem_delta_offset = host_modem_delta_offset,
	.modem_delta_erase = host_modem_delta_erase,
	.modem_delta_write = host_modem_delta_write,
	.modem_delta_done = host_modem_delta_done,
};

const struct fota_rs_port *fota_rs_platform_port(void)
{
	return ensure_configured() ? &host_port : NULL;
}

void fota_rs_platform_config(struct fota_rs_config *cfg)
{
	/* The core may keep the pointer, so the tags live as long as the process. */
	static int32_t tags[HOST_MAX_FALLBACK_TAGS];

	if (cfg == NULL) {
		return;
	}
	fota_rs_config_default(cfg);
	if (!ensure_configured()) {
		return;
	}
	pthread_mutex_lock(&g.lock);
	memcpy(tags, g.fallback_tags, sizeof(tags[0]) * g.fallback_count);
	if (g.fallback_count > 0) {
		cfg->fallback_sec_tags = tags;
		cfg->fallback_sec_tag_count = g.fallback_count;
	}
	cfg->permanent = g.permanent != 0;
	if (g.retries >= 0) {
		cfg->retries = (uint8_t)(g.retries > 255 ? 255 : g.retries);
	}
	if (g.socket_timeout_ms != 0) {
		cfg->socket_timeout_ms = g.socket_timeout_ms;
	}
	if (g.retry_backoff_ms != 0) {
		cfg->retry_backoff_ms = g.retry_backoff_ms;
	}
	if (g.pipeline_depth != 0) {
		cfg->pipeline_depth = (uint8_t)(g.pipeline_depth > 8 ? 8 : g.pipeline_depth);
	}
	cfg->deadline_ms = g.deadline_ms;
	cfg->frag_fit = (uint16_t)(g.frag_fit > UINT16_MAX ? UINT16_MAX : g.frag_fit);
	cfg->allow_downgrade = g.allow_downgrade != 0;
	cfg->allow_unconfirmed_overwrite = g.allow_unconfirmed_overwrite != 0;
	if (g.verify_key != NULL) {
		cfg->verify_key = g.verify_key->der;
		cfg->verify_key_len = g.verify_key->len;
	}
	pthread_mutex_unlock(&g.lock);
}
