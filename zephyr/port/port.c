/* SPDX-License-Identifier: Apache-2.0 */
/* Zephyr port: the port table, time, log, the download thread, B1 slot query and configuration. */
/*
 * Zephyr implementation of the fota-rs platform contract (struct
 * fota_rs_port, include/fota_rs/port.h), plus the two entry points the
 * compatibility layer calls: fota_rs_platform_port() and
 * fota_rs_platform_config(). The table below collects the operations of
 * net_tls.c, flash_mcuboot.c, settings.c and modem_delta.c
 * (zephyr_private.h).
 *
 * Kept deliberately thin: every function forwards to one Zephyr/NCS API and
 * converts errno to FOTA_RS_E* in one place (frs_errno_to_code()), where this
 * build's real <errno.h> is in scope. The numbers differ between newlib /
 * picolibc, Zephyr's minimal libc and Linux, so only the names are used.
 *
 * Version notes (Zephyr / NCS) for calls that changed are next to the calls.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <zephyr/devicetree.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

/* NCS's partition manager: PM_<PARTITION>_ID / _ADDRESS / _SIZE. When it is
 * enabled, MCUboot and the flash map follow it, not the devicetree. */
#if defined(CONFIG_PARTITION_MANAGER_ENABLED)
#include <pm_config.h>
#endif

#include <fota_rs.h>
#include <fota_rs/port.h>
/* Declares fota_rs_platform_port() / fota_rs_platform_config(), the two
 * functions every port defines for the compatibility layer (compat/). */
#include "fota_rs_platform.h"
#include "fota_rs/errno_map.h"
#include "zephyr_private.h"

/* The module's log source. The port's other files, the shell and the compat
 * layer use LOG_MODULE_DECLARE(fota_rs, CONFIG_FOTA_RS_LOG_LEVEL). */
LOG_MODULE_REGISTER(fota_rs, CONFIG_FOTA_RS_LOG_LEVEL);

/* Fallback tags parsed from CONFIG_FOTA_RS_FALLBACK_SEC_TAGS. */
#define FRS_MAX_FALLBACK_TAGS 8

/* ------------------------------------------------------------------------ */
/* errno -> FOTA_RS_E*                                                       */
/* ------------------------------------------------------------------------ */

/* The one place errno numbers become project codes. Positive errno in,
 * negative FOTA_RS_E* out. Names only: the numbers depend on the libc. */
int32_t frs_errno_to_code(int err)
{
	return fota_rs_errno_from_posix(err);
}

/* ------------------------------------------------------------------------ */
/* B1 (NCS secure bootloader): which of S0 / S1 runs                        */
/* ------------------------------------------------------------------------ */

/*
 * Only meaningful when B1 (CONFIG_SECURE_BOOT) boots an upgradable MCUboot
 * from S0 or S1, which is when the partition manager has an s1 partition.
 * NCS's fota_download_s0_active_get() keys on PM_S1_ADDRESS, not on the
 * Kconfig symbol, and so does this; trees that describe S0/S1 in the
 * devicetree instead (recent NCS) are covered by the s0/s1_partition labels.
 */
#if defined(CONFIG_PARTITION_MANAGER_ENABLED) && defined(PM_S1_ADDRESS)
#define FRS_B1 1
#define FRS_S0_ADDRESS ((uint32_t)PM_S0_ADDRESS)
#define FRS_S1_ADDRESS ((uint32_t)PM_S1_ADDRESS)
#elif !defined(CONFIG_PARTITION_MANAGER_ENABLED) && DT_NODE_EXISTS(DT_NODELABEL(s0_partition)) &&  \
	DT_NODE_EXISTS(DT_NODELABEL(s1_partition))
#define FRS_B1 1
/* Partition reg is an offset in the flash node (0 on nRF): add its base. */
#define FRS_DT_PART_ADDR(label)                                                                    \
	((uint32_t)(DT_REG_ADDR(DT_GPARENT(DT_NODELABEL(label))) + DT_REG_ADDR(DT_NODELABEL(label))))
#define FRS_S0_ADDRESS FRS_DT_PART_ADDR(s0_partition)
#define FRS_S1_ADDRESS FRS_DT_PART_ADDR(s1_partition)
#endif

/*
 * How NCS decides, by build type (fota_download_s0_active_get() in
 * sdk-nrf's fota_download.c, and SPM's s0_active service it called):
 *   - secure or no TrustZone: fw_info_find() on both slots; no S1 image
 *     means S0 runs, otherwise the higher fw_info version runs (S0 on a
 *     tie). The valid field is checked as SPM's service did, so an
 *     invalidated image never counts.
 *   - non-secure with TF-M: the secure side reads S0/S1, through
 *     tfm_platform_s0_active() (<tfm_ioctl_api.h>, <tfm/tfm_ioctl_api.h> in
 *     recent NCS; declared only with CONFIG_FW_INFO).
 *   - non-secure with SPM (NCS <= 2.0): spm_s0_active() (<secure_services.h>,
 *     CONFIG_SPM_SERVICE_S0_ACTIVE).
 * A non-secure build with neither service cannot read the secure flash, so
 * s0_active stays NULL and the core refuses the "s0.bin s1.bin" form.
 */
#if defined(FRS_B1) && defined(CONFIG_TRUSTED_EXECUTION_NONSECURE)
#if defined(CONFIG_BUILD_WITH_TFM) && defined(CONFIG_FW_INFO)
#if __has_include(<tfm/tfm_ioctl_api.h>)
#include <tfm/tfm_ioctl_api.h>
#else
#include <tfm_ioctl_api.h>
#endif
#define FRS_S0_ACTIVE_CALL(s0, s1, out) tfm_platform_s0_active((s0), (s1), (out))
#elif defined(CONFIG_SPM_SERVICE_S0_ACTIVE)
#include <secure_services.h>
#define FRS_S0_ACTIVE_CALL(s0, s1, out) spm_s0_active((s0), (s1), (out))
#else
#undef FRS_B1
#endif
#elif defined(FRS_B1)
#if defined(CONFIG_FW_INFO)
#include <fw_info.h>
#else
#undef FRS_B1
#endif
#endif

#if defined(FRS_B1)

#if !defined(FRS_S0_ACTIVE_CALL)
static bool fw_info_usable(const struct fw_info *info)
{
	return info != NULL && info->valid == CONFIG_FW_INFO_VALID_VAL;
}

static int read_s0_active(uint32_t s0_addr, uint32_t s1_addr, bool *s0_active)
{
	const struct fw_info *s0 = fw_info_find(s0_addr);
	const struct fw_info *s1 = fw_info_find(s1_addr);

	if (!fw_info_usable(s0) && !fw_info_usable(s1)) {
		return -EFAULT;
	}
	if (!fw_info_usable(s1)) {
		*s0_active = true;
	} else if (!fw_info_usable(s0)) {
		*s0_active = false;
	} else {
		*s0_active = s0->version >= s1->version;
	}
	return 0;
}
#define FRS_S0_ACTIVE_CALL(s0, s1, out) read_s0_active((s0), (s1), (out))
#endif

static int32_t port_s0_active(void *ctx, bool *active)
{
	ARG_UNUSED(ctx);

	bool s0 = false;
	int err = FRS_S0_ACTIVE_CALL(FRS_S0_ADDRESS, FRS_S1_ADDRESS, &s0);

	if (err != 0) {
		LOG_ERR("cannot tell the active B1 slot: %d", err);
		return frs_errno_to_code(err < 0 ? -err : err);
	}
	*active = s0;
	return 0;
}

#endif /* FRS_B1 */

/* ------------------------------------------------------------------------ */
/* Time, logging                                                             */
/* ------------------------------------------------------------------------ */

static uint64_t port_uptime_ms(void *ctx)
{
	ARG_UNUSED(ctx);
	return (uint64_t)k_uptime_get();
}

static void port_sleep_ms(void *ctx, uint32_t ms)
{
	ARG_UNUSED(ctx);
	(void)k_msleep((int32_t)MIN(ms, (uint32_t)INT32_MAX));
}

static void port_log(void *ctx, uint8_t level, const char *msg, size_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(len);

	/* port.h: msg is NUL-terminated at len and reused after the call. No
	 * copy here (it cost the download thread 240 B of stack on every log
	 * record, docs/performance.md). Deferred logging v2 (Zephyr 3.0.99)
	 * copies a "%s" argument into the message when it is a `char *`
	 * outside read-only memory (CBPRINTF_PACKAGE_COPY_RW_STR in
	 * z_log_msg2_static_create); a `const char *` is taken for read-only
	 * and kept as a pointer when LOG2_MSG_PKG_ALWAYS_ADD_RO_STRING_IDXS is
	 * on (Sys-T catalog), hence the cast. v1 needs log_strdup()
	 * (FRS_LOG_STR); immediate and minimal modes format the line before
	 * returning. */
	char *line = (msg != NULL) ? (char *)msg : "";

	switch (level) {
	case FOTA_RS_LOG_ERR:
		LOG_ERR("%s", FRS_LOG_STR(line));
		break;
	case FOTA_RS_LOG_WRN:
		LOG_WRN("%s", FRS_LOG_STR(line));
		break;
	case FOTA_RS_LOG_INF:
		LOG_INF("%s", FRS_LOG_STR(line));
		break;
	default:
		LOG_DBG("%s", FRS_LOG_STR(line));
		break;
	}
}

/* ------------------------------------------------------------------------ */
/* Download thread                                                           */
/* ------------------------------------------------------------------------ */

/*
 * One dedicated thread, created on first use and fed through a semaphore.
 * A long-lived loop avoids re-creating a k_thread object that may not have
 * finished exiting, and keeps the stack out of the system work queue (a
 * download blocks for minutes).
 *
 * No busy flag of its own: the core calls start_worker only after moving its
 * state to BUSY, and goes back to IDLE as the last step of entry(). A flag
 * cleared after entry() returned would refuse a start made in that short
 * tail (-EALREADY after a successful connect); the semaphore instead keeps
 * the hand-over, and the loop picks the next entry as soon as it is back.
 * entry/arg are read right after the take, before the job runs, so the next
 * start may overwrite them while the previous job is still finishing.
 */
static K_THREAD_STACK_DEFINE(frs_stack, CONFIG_FOTA_RS_THREAD_STACK_SIZE);
static struct k_thread frs_thread;
static K_SEM_DEFINE(frs_go, 0, 1);
static atomic_t frs_created;
static void (*volatile frs_entry)(void *arg);
static void *volatile frs_arg;

static void frs_worker(void *p1, void *p2, void *p3)
{
	ARG_UNUSED(p1);
	ARG_UNUSED(p2);
	ARG_UNUSED(p3);

	for (;;) {
		(void)k_sem_take(&frs_go, K_FOREVER);

		void (*entry)(void *arg) = frs_entry;
		void *arg = frs_arg;

		if (entry != NULL) {
			entry(arg);
		}
	}
}

static int32_t port_start_worker(void *ctx, void (*entry)(void *arg), void *arg)
{
	ARG_UNUSED(ctx);

	if (entry == NULL) {
		return -FOTA_RS_EINVAL;
	}

	frs_entry = entry;
	frs_arg = arg;

	if (atomic_cas(&frs_created, 0, 1)) {
		k_tid_t tid = k_thread_create(&frs_thread, frs_stack,
					      K_THREAD_STACK_SIZEOF(frs_stack), frs_worker, NULL,
					      NULL, NULL, CONFIG_FOTA_RS_THREAD_PRIORITY, 0,
					      K_NO_WAIT);

		/* -ENOSYS without CONFIG_THREAD_NAME; the name is cosmetic. */
		(void)k_thread_name_set(tid, "fota_rs");
	}

	k_sem_give(&frs_go);
	return 0;
}

int frs_worker_stack_unused(size_t *unused)
{
#if defined(CONFIG_INIT_STACKS) && defined(CONFIG_THREAD_STACK_INFO)
	if (!atomic_get(&frs_created)) {
		return -ESRCH;
	}
	return k_thread_stack_space_get(&frs_thread, unused);
#else
	ARG_UNUSED(unused);
	return -ENOTSUP;
#endif
}

/* ------------------------------------------------------------------------ */
/* Table and configuration                                                   */
/* ------------------------------------------------------------------------ */

static const struct fota_rs_port zephyr_port = {
	.ctx = NULL,
	.connect = frs_port_connect,
	.send = frs_port_send,
	.recv = frs_port_recv,
	.close = frs_port_close,
	.flash_geometry = frs_port_flash_geometry,
	.flash_erase = frs_port_flash_erase,
	.flash_write = frs_port_flash_write,
	.flash_read = frs_port_flash_read,
	.request_upgrade = frs_port_request_upgrade,
	.kv_load = frs_port_kv_load,
	.kv_save = frs_port_kv_save,
	.kv_delete = frs_port_kv_delete,
	.uptime_ms = port_uptime_ms,
	.sleep_ms = port_sleep_ms,
	.log = port_log,
	.start_worker = port_start_worker,
#if defined(CONFIG_FOTA_RS_TARGET_MCUBOOT)
	.running_version = frs_port_running_version,
	.device_layout = frs_port_device_layout,
	.running_confirmed = frs_port_running_confirmed,
#endif
#if defined(FRS_B1)
	.s0_active = port_s0_active,
#endif
#if defined(CONFIG_FOTA_RS_TARGET_MODEM_DELTA)
	.modem_delta_offset = frs_port_modem_delta_offset,
	.modem_delta_erase = frs_port_modem_delta_erase,
	.modem_delta_write = frs_port_modem_delta_write,
	.modem_delta_done = frs_port_modem_delta_done,
#endif
};

const struct fota_rs_port *fota_rs_platform_port(void)
{
	return &zephyr_port;
}

static int32_t fallback_tags[FRS_MAX_FALLBACK_TAGS];
static uint8_t fallback_count;
static atomic_t fallback_parsed;

/* Parse CONFIG_FOTA_RS_FALLBACK_SEC_TAGS ("1002, 1004") once. Bad tokens
 * are skipped with a warning rather than failing the whole list. */
static void parse_fallback_tags(void)
{
	const char *s = CONFIG_FOTA_RS_FALLBACK_SEC_TAGS;

	while (*s != '\0') {
		while (*s == ',' || *s == ' ' || *s == '\t') {
			s++;
		}
		if (*s == '\0') {
			break;
		}

		char *end;
		long v = strtol(s, &end, 10);

		if (end == s || (*end != '\0' && *end != ',' && *end != ' ' && *end != '\t') ||
		    v < INT32_MIN || v > INT32_MAX) {
			LOG_WRN("FOTA_RS_FALLBACK_SEC_TAGS: ignoring bad entry at \"%s\"", s);
			while (*s != '\0' && *s != ',') {
				s++;
			}
			continue;
		}
		if (fallback_count == FRS_MAX_FALLBACK_TAGS) {
			LOG_WRN("FOTA_RS_FALLBACK_SEC_TAGS: only the first %d tags are used",
				FRS_MAX_FALLBACK_TAGS);
			break;
		}
		fallback_tags[fallback_count++] = (int32_t)v;
		s = end;
	}
}

void fota_rs_platform_config(struct fota_rs_config *cfg)
{
	if (cfg == NULL) {
		return;
	}

	/* Start from the core's defaults so fields added later keep their
	 * documented values. */
	fota_rs_config_default(cfg);

	if (atomic_cas(&fallback_parsed, 0, 1)) {
		parse_fallback_tags();
	}

	cfg->frag_size = CONFIG_FOTA_RS_FRAG_SIZE;
	cfg->frag_fit = CONFIG_FOTA_RS_FRAG_FIT;
	cfg->retries = (uint8_t)CONFIG_FOTA_RS_RETRIES;
	cfg->retry_backoff_ms = CONFIG_FOTA_RS_RETRY_BACKOFF_MS;
	cfg->socket_timeout_ms = CONFIG_FOTA_RS_SOCKET_TIMEOUT_MS;
	cfg->max_redirects = (uint8_t)CONFIG_FOTA_RS_MAX_REDIRECTS;
	cfg->fallback_sec_tags = (fallback_count > 0) ? fallback_tags : NULL;
	cfg->fallback_sec_tag_count = fallback_count;
	cfg->host_max_len = CONFIG_FOTA_RS_HOST_MAX_LEN;
	cfg->url_max_len = CONFIG_FOTA_RS_URL_MAX_LEN;
	cfg->permanent = IS_ENABLED(CONFIG_FOTA_RS_PERMANENT);
	cfg->progress_events = IS_ENABLED(CONFIG_FOTA_RS_PROGRESS_EVT);
	cfg->progress_save = IS_ENABLED(CONFIG_FOTA_RS_PROGRESS_SAVE);
	cfg->pipeline_depth = (uint8_t)CONFIG_FOTA_RS_PIPELINE_DEPTH;
	cfg->deadline_ms = (uint32_t)CONFIG_FOTA_RS_DEADLINE_S * 1000U;
	cfg->check_layout = IS_ENABLED(CONFIG_FOTA_RS_CHECK_LAYOUT);
	cfg->allow_downgrade = IS_ENABLED(CONFIG_FOTA_RS_ALLOW_DOWNGRADE);
	cfg->allow_unconfirmed_overwrite = IS_ENABLED(CONFIG_FOTA_RS_ALLOW_UNCONFIRMED_OVERWRITE);
#if defined(CONFIG_FOTA_RS_SIGNATURE)
	/* CMakeLists.txt turns CONFIG_FOTA_RS_VERIFY_KEY into a list of byte
	 * literals (0 when empty), so the array is exactly the DER. */
	static const uint8_t verify_key[] = {FOTA_RS_VERIFY_KEY_BYTES};

	if (sizeof(verify_key) > 1) {
		cfg->verify_key = verify_key;
		cfg->verify_key_len = sizeof(verify_key);
	}
#endif
}
