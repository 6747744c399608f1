/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Zephyr implementation of the fota-rs platform contract (struct
 * fota_rs_port, include/fota_rs/port.h), plus the two entry points the
 * compatibility layer calls: fota_rs_platform_port() and
 * fota_rs_platform_config().
 *
 * Kept deliberately thin: every function forwards to one Zephyr/NCS API and
 * converts errno to FOTA_RS_E* in one place (errno_to_code()), where this
 * build's real <errno.h> is in scope. The numbers differ between newlib /
 * picolibc, Zephyr's minimal libc and Linux, so only the names are used.
 *
 * Version notes (Zephyr / NCS) for calls that changed are next to the calls.
 */

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/socket.h>
#include <zephyr/net/tls_credentials.h>
/* NCS-only socket options (SO_BINDTOPDN, AI_PDNSERV). Present in sdk-zephyr /
 * sdk-nrf trees, absent upstream: everything using them is #if-guarded. */
#if __has_include(<zephyr/net/socket_ncs.h>)
#include <zephyr/net/socket_ncs.h>
#endif

#include <zephyr/devicetree.h>

/* NCS's partition manager: PM_<PARTITION>_ID / _ADDRESS / _SIZE. When it is
 * enabled, MCUboot and the flash map follow it, not the devicetree. */
#if defined(CONFIG_PARTITION_MANAGER_ENABLED)
#include <pm_config.h>
#endif

#if defined(CONFIG_FOTA_RS_TARGET_MCUBOOT)
#include <zephyr/dfu/mcuboot.h>
#include <zephyr/storage/flash_map.h>
#endif

#if defined(CONFIG_FOTA_RS_TARGET_MODEM_DELTA)
/* nrf_modem 1.3.0+ (sdk-nrfxlib). Returns 0, -NRF_E* from the library, or a
 * positive NRF_MODEM_DELTA_DFU_* code when the modem refuses. */
#include <nrf_modem_delta_dfu.h>
#include <nrf_errno.h>
#endif

#if defined(CONFIG_FOTA_RS_PROGRESS_SAVE)
#include <zephyr/settings/settings.h>
#endif

#include <fota_rs.h>
#include <fota_rs/port.h>
/* Declares fota_rs_platform_port() / fota_rs_platform_config(), the two
 * functions every port defines for the compatibility layer (compat/). */
#include "fota_rs_platform.h"
#include "fota_rs/errno_map.h"

/* The module's log source. The shell and the compat layer use
 * LOG_MODULE_DECLARE(fota_rs, CONFIG_FOTA_RS_LOG_LEVEL). */
LOG_MODULE_REGISTER(fota_rs, CONFIG_FOTA_RS_LOG_LEVEL);

/* ------------------------------------------------------------------------ */
/* Socket constant shims                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Zephyr 4.4 namespaced the networking API: ZSOCK_SOL_TLS, ZSOCK_TLS_*,
 * ZSOCK_SO_*, ZSOCK_AI_*, NET_AF_*, NET_SOCK_*, NET_IPPROTO_*, struct
 * net_sockaddr. The old names remain only through net_compat.h. This file
 * uses the new names and maps them to the old ones on older trees.
 *
 * Decide first, before any shim defines it, whether the tree has the new
 * names: ZSOCK_SOL_TLS arrived with that change (4.3.99 development).
 * NET_AF_* / NET_SOCK_* / NET_IPPROTO_* cannot be tested with #ifdef (some
 * are enum members), hence the single switch.
 */
#if defined(ZSOCK_SOL_TLS)
#define FRS_NET_NAMESPACED 1
#endif

#ifndef ZSOCK_SOL_TLS
#define ZSOCK_SOL_TLS SOL_TLS
#endif
#ifndef ZSOCK_TLS_SEC_TAG_LIST
#define ZSOCK_TLS_SEC_TAG_LIST TLS_SEC_TAG_LIST
#endif
#ifndef ZSOCK_TLS_HOSTNAME
#define ZSOCK_TLS_HOSTNAME TLS_HOSTNAME
#endif
#ifndef ZSOCK_TLS_PEER_VERIFY
#define ZSOCK_TLS_PEER_VERIFY TLS_PEER_VERIFY
#endif
#ifndef ZSOCK_SOL_SOCKET
#define ZSOCK_SOL_SOCKET SOL_SOCKET
#endif
#ifndef ZSOCK_SO_SNDTIMEO
#define ZSOCK_SO_SNDTIMEO SO_SNDTIMEO
#endif
#ifndef ZSOCK_SO_BINDTODEVICE
#define ZSOCK_SO_BINDTODEVICE SO_BINDTODEVICE
#endif
#ifndef ZSOCK_AI_NUMERICSERV
#define ZSOCK_AI_NUMERICSERV AI_NUMERICSERV
#endif

#if defined(FRS_NET_NAMESPACED)
#define FRS_AF_INET	    NET_AF_INET
#define FRS_AF_INET6	    NET_AF_INET6
#define FRS_SOCK_STREAM	    NET_SOCK_STREAM
#define FRS_IPPROTO_TCP	    NET_IPPROTO_TCP
#define FRS_IPPROTO_TLS_1_2 NET_IPPROTO_TLS_1_2
#else
#define FRS_AF_INET	    AF_INET
#define FRS_AF_INET6	    AF_INET6
#define FRS_SOCK_STREAM	    SOCK_STREAM
#define FRS_IPPROTO_TCP	    IPPROTO_TCP
#define FRS_IPPROTO_TLS_1_2 IPPROTO_TLS_1_2
#endif

/*
 * Timeout option type (the zsock_timeval hazard). On NCS 2.0 without
 * CONFIG_POSIX_API, struct zsock_timeval is { long; long; } while the nRF91
 * offload reads a libc struct timeval (64-bit tv_sec with newlib/picolibc),
 * so the sizes differ and the option is rejected or misread. On later trees
 * zsock_timeval is the libc timeval anyway. So: the libc struct timeval
 * whenever the C library has one, zsock_timeval only as a last resort.
 * Receive timeouts do not use this at all (poll() below).
 */
#if defined(CONFIG_NEWLIB_LIBC) || defined(CONFIG_PICOLIBC) || defined(CONFIG_POSIX_API)
#include <sys/time.h>
typedef struct timeval frs_timeval_t;
#elif __has_include(<sys/_timeval.h>)
#include <sys/_timeval.h>
typedef struct timeval frs_timeval_t;
#else
typedef struct zsock_timeval frs_timeval_t;
#endif

/* Upper bound for the tag list handed to TLS_SEC_TAG_LIST. */
#define FRS_MAX_SEC_TAGS 16
/* Fallback tags parsed from CONFIG_FOTA_RS_FALLBACK_SEC_TAGS. */
#define FRS_MAX_FALLBACK_TAGS 8
/* One log line from the core (at most 200 bytes, port.h) and its NUL,
 * copied (see port_log). */
#define FRS_LOG_LINE_MAX 201

/* ------------------------------------------------------------------------ */
/* errno -> FOTA_RS_E*                                                       */
/* ------------------------------------------------------------------------ */

/* The one place errno numbers become project codes. Positive errno in,
 * negative FOTA_RS_E* out. Names only: the numbers depend on the libc. */
static int32_t errno_to_code(int err)
{
	return fota_rs_errno_from_posix(err);
}

/* Socket send/recv: EAGAIN there means the socket timeout expired, which the
 * contract calls ETIMEDOUT (FOTA_RS_EAGAIN means "nothing to cancel"). */
static int32_t sock_errno_to_code(int err)
{
	if (err == EAGAIN) {
		return -FOTA_RS_ETIMEDOUT;
	}
	return errno_to_code(err);
}

/* ------------------------------------------------------------------------ */
/* Network                                                                   */
/* ------------------------------------------------------------------------ */

/* Hostnames cannot contain ':' (so it is IPv6), and a name of only digits
 * and dots is an IPv4 literal. TLS_HOSTNAME must not be set for those: the
 * certificate would be checked against a name the server does not have. */
static bool is_ip_literal(const char *host)
{
	bool digits_and_dots = true;

	for (const char *c = host; *c != '\0'; c++) {
		if (*c == ':') {
			return true;
		}
		if (!((*c >= '0' && *c <= '9') || *c == '.')) {
			digits_and_dots = false;
		}
	}
	return digits_and_dots && host[0] != '\0';
}

/* errno after a failed call, never 0 (a 0 would read as success). */
static int failure_errno(void)
{
	int err = errno;

	return err != 0 ? err : EIO;
}

/* Connect failures other than DNS: the nRF91 offload does TCP connect and
 * TLS handshake inside one connect() call and reports a refused handshake
 * (missing/wrong CA) as ECONNREFUSED, exactly like a closed port. So a TLS
 * socket cannot say which stage failed; a plain one failed at TCP. */
static uint8_t connect_stage(bool tls)
{
	return tls ? FOTA_RS_CONNECT_STAGE_UNKNOWN : FOTA_RS_CONNECT_STAGE_TCP;
}

static int bind_pdn(int fd, uint8_t pdn_id)
{
#if defined(SO_BINDTOPDN)
	/* NCS >= 2.5: SO_BINDTOPDN takes the PDN id as an int. Its value differs
	 * between trees (40 vs 1040), so only the macro is used. */
	int pdn = pdn_id;

	return zsock_setsockopt(fd, ZSOCK_SOL_SOCKET, SO_BINDTOPDN, &pdn, sizeof(pdn));
#else
	/* NCS < 2.5: SO_BINDTODEVICE with the interface name "pdn<N>",
	 * optlen = strlen. Only meaningful on the nRF91 offload. */
	char name[8];

	(void)snprintf(name, sizeof(name), "pdn%u", (unsigned int)pdn_id);
	return zsock_setsockopt(fd, ZSOCK_SOL_SOCKET, ZSOCK_SO_BINDTODEVICE, name,
				strlen(name));
#endif
}

/* Create, configure and connect one socket to one resolved address.
 * Returns 0 with *fd_out set, or a positive errno with res filled in. */
static int connect_one(const struct zsock_addrinfo *ai,
		       const struct fota_rs_connect_params *p, const sec_tag_t *tags,
		       struct fota_rs_connect_result *res, int *fd_out)
{
	const bool tls = (p->tls != NULL);
	int err;
	int fd = zsock_socket(ai->ai_family, FRS_SOCK_STREAM,
			      tls ? FRS_IPPROTO_TLS_1_2 : FRS_IPPROTO_TCP);

	if (fd < 0) {
		err = failure_errno();
		res->stage = connect_stage(tls);
		(void)snprintf(res->detail, sizeof(res->detail), "socket() failed, errno %d",
			       err);
		return err;
	}

	if (p->pdn_id != 0 && bind_pdn(fd, p->pdn_id) != 0) {
		err = failure_errno();
		res->stage = connect_stage(tls);
		(void)snprintf(res->detail, sizeof(res->detail),
			       "binding to PDN %u failed, errno %d", (unsigned int)p->pdn_id, err);
		goto fail;
	}

	if (tls) {
		int verify = p->tls->peer_verify;

		/* Same order as NCS's download_client: verify level, tag list,
		 * then the server name. */
		if (zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_PEER_VERIFY, &verify,
				     sizeof(verify)) != 0) {
			err = failure_errno();
			(void)snprintf(res->detail, sizeof(res->detail),
				       "TLS_PEER_VERIFY rejected, errno %d", err);
			goto fail_tls;
		}
		if (zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_SEC_TAG_LIST, tags,
				     sizeof(sec_tag_t) * p->tls->sec_tag_count) != 0) {
			err = failure_errno();
			(void)snprintf(res->detail, sizeof(res->detail),
				       "TLS_SEC_TAG_LIST rejected (first tag %d), errno %d",
				       (int)tags[0], err);
			goto fail_tls;
		}
		if (p->tls->hostname != NULL && !is_ip_literal(p->tls->hostname) &&
		    zsock_setsockopt(fd, ZSOCK_SOL_TLS, ZSOCK_TLS_HOSTNAME, p->tls->hostname,
				     strlen(p->tls->hostname)) != 0) {
			err = failure_errno();
			(void)snprintf(res->detail, sizeof(res->detail),
				       "TLS_HOSTNAME rejected, errno %d", err);
			goto fail_tls;
		}
	}

	/* Bound blocking sends. Not fatal: some stacks lack the option, and
	 * receives are bounded by poll() anyway. Note: on the nRF91 the send
	 * timeout does not cover connect(); connect() blocks until the modem's
	 * own TCP/TLS timeout, so params->timeout_ms is advisory there. */
	if (p->timeout_ms != 0) {
		frs_timeval_t tv = {
			.tv_sec = p->timeout_ms / 1000U,
			.tv_usec = (p->timeout_ms % 1000U) * 1000U,
		};

		if (zsock_setsockopt(fd, ZSOCK_SOL_SOCKET, ZSOCK_SO_SNDTIMEO, &tv, sizeof(tv)) !=
		    0) {
			LOG_DBG("SO_SNDTIMEO not set, errno %d", errno);
		}
	}

	if (zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		err = failure_errno();
		res->stage = connect_stage(tls);
		if (tls && err == ECONNREFUSED) {
			(void)snprintf(res->detail, sizeof(res->detail),
				       "refused: TLS handshake (CA/sec tag?) or closed port");
		} else {
			(void)snprintf(res->detail, sizeof(res->detail),
				       "connect() failed, errno %d", err);
		}
		goto fail;
	}

	*fd_out = fd;
	return 0;

fail_tls:
	res->stage = FOTA_RS_CONNECT_STAGE_TLS;
fail:
	(void)zsock_close(fd);
	return err;
}

static int32_t port_connect(void *ctx, const struct fota_rs_connect_params *p,
			    struct fota_rs_connect_result *res)
{
	ARG_UNUSED(ctx);

	if (p == NULL || res == NULL || p->host == NULL) {
		return -FOTA_RS_EINVAL;
	}

	res->handle = -1;
	res->stage = FOTA_RS_CONNECT_STAGE_UNKNOWN;
	res->detail[0] = '\0';

	sec_tag_t tags[FRS_MAX_SEC_TAGS];

	if (p->tls != NULL) {
		if (p->tls->sec_tags == NULL || p->tls->sec_tag_count == 0 ||
		    p->tls->sec_tag_count > FRS_MAX_SEC_TAGS) {
			res->stage = FOTA_RS_CONNECT_STAGE_TLS;
			(void)snprintf(res->detail, sizeof(res->detail),
				       "bad TLS tag list (%u tags, max %d)",
				       (unsigned int)p->tls->sec_tag_count, FRS_MAX_SEC_TAGS);
			return -FOTA_RS_EINVAL;
		}
		for (uint8_t i = 0; i < p->tls->sec_tag_count; i++) {
			tags[i] = (sec_tag_t)p->tls->sec_tags[i];
		}
	}

	/* The port goes in the service string so no sockaddr type is touched
	 * here (struct sockaddr became struct net_sockaddr in Zephyr 4.4).
	 * With a PDN, NCS's AI_PDNSERV + AI_NUMERICSERV take "port:pdn" so the
	 * lookup itself uses that PDN's DNS servers. */
	char service[16];
	int flags = ZSOCK_AI_NUMERICSERV;

#if defined(AI_PDNSERV)
	if (p->pdn_id != 0) {
		flags |= AI_PDNSERV;
		(void)snprintf(service, sizeof(service), "%u:%u", (unsigned int)p->port,
			       (unsigned int)p->pdn_id);
	} else
#endif
	{
		(void)snprintf(service, sizeof(service), "%u", (unsigned int)p->port);
	}

	/* IPv6 first when enabled, then IPv4, as NCS's download_client does. */
	static const int families[] = {
#if defined(CONFIG_NET_IPV6)
		FRS_AF_INET6,
#endif
		FRS_AF_INET,
	};
	int dns_rc = 0;
	int err = 0;
	bool resolved = false;

	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		struct zsock_addrinfo hints = {
			.ai_flags = flags,
			.ai_family = families[i],
			.ai_socktype = FRS_SOCK_STREAM,
		};
		struct zsock_addrinfo *ai = NULL;
		int fd = -1;

		/* Returns 0 or a DNS_EAI_* code, not errno. */
		dns_rc = zsock_getaddrinfo(p->host, service, &hints, &ai);
		if (dns_rc != 0 || ai == NULL) {
			continue;
		}
		resolved = true;

		/* First address of the family, like download_client. */
		err = connect_one(ai, p, tags, res, &fd);
		zsock_freeaddrinfo(ai);
		if (err == 0) {
			res->handle = fd;
			return 0;
		}
	}

	if (!resolved) {
		res->stage = FOTA_RS_CONNECT_STAGE_DNS;
		(void)snprintf(res->detail, sizeof(res->detail), "DNS lookup of %.48s failed (%d)",
			       p->host, dns_rc);
		return -FOTA_RS_EHOSTUNREACH;
	}

	LOG_DBG("connect %s:%u: %s", p->host, (unsigned int)p->port, res->detail);
	return errno_to_code(err);
}

static int32_t port_send(void *ctx, int32_t handle, const uint8_t *buf, size_t len)
{
	ARG_UNUSED(ctx);

	if (len > INT32_MAX) {
		len = INT32_MAX;
	}

	ssize_t n = zsock_send(handle, buf, len, 0);

	if (n < 0) {
		return sock_errno_to_code(errno);
	}
	if (n == 0 && len > 0) {
		return -FOTA_RS_ECONNRESET;
	}
	return (int32_t)n;
}

static int32_t port_recv(void *ctx, int32_t handle, uint8_t *buf, size_t len, uint32_t timeout_ms)
{
	ARG_UNUSED(ctx);

	if (len > INT32_MAX) {
		len = INT32_MAX;
	}

	/* Receive timeout through poll() rather than SO_RCVTIMEO: no timeval
	 * option to get wrong (see frs_timeval_t), and a per-call timeout. */
	const int64_t deadline = k_uptime_get() + timeout_ms;

	for (;;) {
		int64_t left = deadline - k_uptime_get();
		struct zsock_pollfd pfd = {
			.fd = handle,
			.events = ZSOCK_POLLIN,
		};

		if (left < 0) {
			left = 0;
		}

		int rc = zsock_poll(&pfd, 1, (int)MIN(left, (int64_t)INT_MAX));

		if (rc < 0) {
			return sock_errno_to_code(errno);
		}
		if (rc == 0) {
			return -FOTA_RS_ETIMEDOUT;
		}
		if (pfd.revents & ZSOCK_POLLNVAL) {
			return -FOTA_RS_ENOTCONN;
		}

		/* POLLIN, POLLHUP or POLLERR: recv() returns the data, 0 for an
		 * orderly close, or the socket error. */
		ssize_t n = zsock_recv(handle, buf, len, ZSOCK_MSG_DONTWAIT);

		if (n >= 0) {
			return (int32_t)n;
		}
		if (errno != EAGAIN) {
			return sock_errno_to_code(errno);
		}
		/* Readable but nothing decrypted yet (a partial TLS record on a
		 * native TLS socket): wait again until the deadline. */
		if (k_uptime_get() >= deadline) {
			return -FOTA_RS_ETIMEDOUT;
		}
	}
}

static void port_close(void *ctx, int32_t handle)
{
	ARG_UNUSED(ctx);

	if (handle >= 0 && zsock_close(handle) != 0) {
		LOG_DBG("close(%d): errno %d", (int)handle, errno);
	}
}

/* ------------------------------------------------------------------------ */
/* Flash: the MCUboot secondary slot                                         */
/* ------------------------------------------------------------------------ */

#if defined(CONFIG_FOTA_RS_TARGET_MCUBOOT)

/* Prefer the partition manager when it is enabled: devicetree and PM can
 * disagree on nRF91, and MCUboot follows PM. Without PM,
 * FIXED_PARTITION_ID (Zephyr >= 3.3) by node label, else the label-based
 * FLASH_AREA_ID of older trees (NCS 2.0 / Zephyr 3.0.99). */
#if defined(CONFIG_PARTITION_MANAGER_ENABLED)
#define FRS_SLOT_ID    PM_MCUBOOT_SECONDARY_ID
#define FRS_PRIMARY_ID PM_MCUBOOT_PRIMARY_ID
#elif defined(FIXED_PARTITION_ID)
#define FRS_SLOT_ID    FIXED_PARTITION_ID(slot1_partition)
#define FRS_PRIMARY_ID FIXED_PARTITION_ID(slot0_partition)
#else
#define FRS_SLOT_ID    FLASH_AREA_ID(image_1)
#define FRS_PRIMARY_ID FLASH_AREA_ID(image_0)
#endif

/* Modes whose secondary slot is not for an application's own update: the
 * build fails here with the reason instead of later, or on the device. */
#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SINGLE_APP)
#error "fota-rs: MCUboot single-slot mode has no secondary slot to download into; set CONFIG_FOTA_RS_TARGET_MCUBOOT=n"
#endif
#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_FIRMWARE_UPDATER)
#error "fota-rs: in MCUboot firmware-updater mode slot1 holds the updater; set CONFIG_FOTA_RS_TARGET_MCUBOOT=n"
#endif

static const struct flash_area *slot_fa;

/* Where the update image starts in the secondary slot. 0, except with
 * MCUboot's swap using offset (Zephyr 4.1+,
 * CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET): there the image starts
 * at the slot's second sector (SWAP_USING_OFFSET_SECTOR_UPDATE_BEGIN) and the
 * first one is MCUboot's during the swap; an image written at 0 is never
 * found. The core sees the slot from slot_start on: every offset below is
 * shifted by it and the size reported shrinks by it, so the trailer stays
 * at the slot's end. Set by port_flash_geometry(), which the core calls
 * before any other flash function of a download. */
static uint32_t slot_start;

static int32_t flash_err(int rc)
{
	return (rc == -EINVAL) ? -FOTA_RS_EINVAL : -FOTA_RS_EIO;
}

static int32_t slot_open(void)
{
	if (slot_fa != NULL) {
		return 0;
	}

	int rc = flash_area_open(FRS_SLOT_ID, &slot_fa);

	if (rc != 0) {
		slot_fa = NULL;
		LOG_ERR("cannot open secondary slot (area %d): %d", (int)FRS_SLOT_ID, rc);
		return -FOTA_RS_EIO;
	}
	return 0;
}

static int32_t port_flash_geometry(void *ctx, struct fota_rs_flash_geometry *out)
{
	ARG_UNUSED(ctx);

	int32_t rc = slot_open();

	if (rc != 0) {
		return rc;
	}

	/* Only the first sector is needed: the page size is uniform on the
	 * nRF internal flash. With a one-entry array, flash_area_get_sectors()
	 * fills that entry and then reports -ENOMEM for the rest
	 * (subsys/storage/flash_map/flash_map_layout.c), which is fine here.
	 * Needs CONFIG_FLASH_PAGE_LAYOUT. */
	struct flash_sector first = {0};
	uint32_t count = 1;
	int err = flash_area_get_sectors(FRS_SLOT_ID, &count, &first);

	if ((err != 0 && err != -ENOMEM) || first.fs_size == 0) {
		LOG_ERR("cannot read slot sectors: %d", err);
		return -FOTA_RS_EIO;
	}

#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET)
	/* As Zephyr's flash_img_init_id() does in this mode: the image goes
	 * from the second sector on, and the first is erased before a download
	 * (left over from a swap, it could hold an older image's header). One
	 * sector per download, as each image page is erased per download too. */
	slot_start = (uint32_t)first.fs_size;
	err = flash_area_erase(slot_fa, 0, slot_start);
	if (err != 0) {
		LOG_ERR("cannot erase the slot's first sector: %d", err);
		return flash_err(err);
	}
#else
	slot_start = 0;
#endif
	if ((uint32_t)slot_fa->fa_size <= slot_start) {
		return -FOTA_RS_EIO;
	}
	out->slot_size = (uint32_t)slot_fa->fa_size - slot_start;
	out->page_size = (uint32_t)first.fs_size;
	out->write_block = flash_area_align(slot_fa);
	out->erased_value = flash_area_erased_val(slot_fa);
	return 0;
}

static int32_t port_flash_erase(void *ctx, uint32_t off, uint32_t len)
{
	ARG_UNUSED(ctx);

	int32_t rc = slot_open();

	if (rc != 0) {
		return rc;
	}
	int err = flash_area_erase(slot_fa, (off_t)slot_start + (off_t)off, len);

	return err == 0 ? 0 : flash_err(err);
}

static int32_t port_flash_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len)
{
	ARG_UNUSED(ctx);

	int32_t rc = slot_open();

	if (rc != 0) {
		return rc;
	}
	int err = flash_area_write(slot_fa, (off_t)slot_start + (off_t)off, data, len);

	return err == 0 ? 0 : flash_err(err);
}

static int32_t port_flash_read(void *ctx, uint32_t off, uint8_t *data, uint32_t len)
{
	ARG_UNUSED(ctx);

	int32_t rc = slot_open();

	if (rc != 0) {
		return rc;
	}
	int err = flash_area_read(slot_fa, (off_t)slot_start + (off_t)off, data, len);

	return err == 0 ? 0 : flash_err(err);
}

static int32_t port_request_upgrade(void *ctx, bool permanent)
{
	ARG_UNUSED(ctx);

	/* Same call as NCS's dfu_target_mcuboot schedule_update. */
	int err = boot_request_upgrade(permanent ? BOOT_UPGRADE_PERMANENT : BOOT_UPGRADE_TEST);

	if (err != 0) {
		LOG_ERR("boot_request_upgrade: %d", err);
		return -FOTA_RS_EIO;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Device facts: running version, primary slot and RAM                       */
/* ------------------------------------------------------------------------ */

/* The header of the image MCUboot booted from the primary slot: the call
 * NCS's lwm2m_client_utils makes with PM_MCUBOOT_PRIMARY_ID, nRF91
 * non-secure builds included. The header is <zephyr/dfu/mcuboot.h> since
 * Zephyr 3.1 moved public headers under zephyr/ (<dfu/mcuboot.h> before);
 * the struct has only ever had the v1 layout (mcuboot_version == 1). */
static int32_t port_running_version(void *ctx, struct fota_rs_image_version *out)
{
	ARG_UNUSED(ctx);

	struct mcuboot_img_header hdr;
	int err = boot_read_bank_header((uint8_t)FRS_PRIMARY_ID, &hdr, sizeof(hdr));

	if (err != 0) {
		LOG_WRN("boot_read_bank_header(primary): %d", err);
		return errno_to_code(err < 0 ? -err : err);
	}
	if (hdr.mcuboot_version != 1) {
		LOG_WRN("unknown MCUboot header format %u", (unsigned int)hdr.mcuboot_version);
		return -FOTA_RS_ENOTSUP;
	}
	out->major = hdr.h.v1.sem_ver.major;
	out->minor = hdr.h.v1.sem_ver.minor;
	out->revision = hdr.h.v1.sem_ver.revision;
	out->build = hdr.h.v1.sem_ver.build_num;
	return 0;
}

/*
 * Base address of the flash that holds the primary slot, added to the
 * slot's offset inside that flash.
 *
 * Partition manager: PM_MCUBOOT_PRIMARY_ADDRESS (== fa_off of the area) is
 * already the CPU address, because PM lays out the nRF internal flash
 * (flash_primary region) from address 0. No base is added.
 *
 * Devicetree: a fixed-partitions child's reg is an offset inside its flash
 * node (flash0: flash@0 on nRF, flash@8000000 on STM32), which is the
 * grandparent (partitions { } sits between). Newer trees name the sum
 * DT_FIXED_PARTITION_ADDR(); the grandparent's reg works on all of them.
 */
#if defined(CONFIG_PARTITION_MANAGER_ENABLED)
#define FRS_FLASH_BASE 0U
#elif DT_NODE_EXISTS(DT_NODELABEL(slot0_partition))
#define FRS_FLASH_BASE ((uint32_t)DT_REG_ADDR(DT_GPARENT(DT_NODELABEL(slot0_partition))))
#else
#define FRS_FLASH_BASE ((uint32_t)DT_REG_ADDR(DT_CHOSEN(zephyr_flash)))
#endif

/*
 * RAM the image's initial stack pointer may point into. Normally the chosen
 * zephyr,sram. A non-secure build's chosen SRAM is only its own part
 * (sram0_ns), but the MCUboot image of an NCS non-secure app starts with the
 * secure firmware (TF-M, or SPM up to NCS 2.0) whose vector table, and so
 * whose stack pointer, is in secure RAM. There the whole SRAM (sram0:
 * 0x20000000, 256 KiB on the nRF9160) is what the check may assume.
 */
#if defined(CONFIG_TRUSTED_EXECUTION_NONSECURE) && DT_NODE_EXISTS(DT_NODELABEL(sram0))
#define FRS_RAM_NODE DT_NODELABEL(sram0)
#else
#define FRS_RAM_NODE DT_CHOSEN(zephyr_sram)
#endif

static int32_t port_device_layout(void *ctx, struct fota_rs_device_layout *out)
{
	ARG_UNUSED(ctx);

	const struct flash_area *fa;
	int err = flash_area_open(FRS_PRIMARY_ID, &fa);

	if (err != 0) {
		LOG_WRN("cannot open primary slot (area %d): %d", (int)FRS_PRIMARY_ID, err);
		return -FOTA_RS_EIO;
	}
	out->primary_addr = FRS_FLASH_BASE + (uint32_t)fa->fa_off;
	out->primary_size = (uint32_t)fa->fa_size;
	flash_area_close(fa);

	out->ram_addr = (uint32_t)DT_REG_ADDR(FRS_RAM_NODE);
	out->ram_size = (uint32_t)DT_REG_SIZE(FRS_RAM_NODE);
	return 0;
}

#else /* !CONFIG_FOTA_RS_TARGET_MCUBOOT */

static int32_t no_mcuboot(void)
{
	LOG_ERR("no MCUboot target (CONFIG_FOTA_RS_TARGET_MCUBOOT=n)");
	return -FOTA_RS_ENOTSUP;
}

static int32_t port_flash_geometry(void *ctx, struct fota_rs_flash_geometry *out)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(out);
	return no_mcuboot();
}

static int32_t port_flash_erase(void *ctx, uint32_t off, uint32_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(off);
	ARG_UNUSED(len);
	return no_mcuboot();
}

static int32_t port_flash_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(off);
	ARG_UNUSED(data);
	ARG_UNUSED(len);
	return no_mcuboot();
}

static int32_t port_flash_read(void *ctx, uint32_t off, uint8_t *data, uint32_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(off);
	ARG_UNUSED(data);
	ARG_UNUSED(len);
	return no_mcuboot();
}

static int32_t port_request_upgrade(void *ctx, bool permanent)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(permanent);
	return no_mcuboot();
}

#endif /* CONFIG_FOTA_RS_TARGET_MCUBOOT */

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
		return errno_to_code(err < 0 ? -err : err);
	}
	*active = s0;
	return 0;
}

#endif /* FRS_B1 */

/* ------------------------------------------------------------------------ */
/* nRF91 modem delta DFU                                                     */
/* ------------------------------------------------------------------------ */

#if defined(CONFIG_FOTA_RS_TARGET_MODEM_DELTA)

/* Poll period while the modem erases its scratch area (NCS polls each 1 s). */
#define FRS_MODEM_ERASE_POLL_MS 1000
/* Largest block per nrf_modem_delta_dfu_write(): what NCS's download_client
 * hands dfu_target_modem_delta (its 2 KiB buffer), so the size known to work.
 * Larger blocks are untested ground the modem may refuse
 * (RECEIVER_BLOCK_TOO_LARGE). */
#define FRS_MODEM_WRITE_BLOCK 2048

/* write_init done and not yet released with write_done. */
static bool modem_writing;

/*
 * The one place modem DFU results become project codes: 0, -NRF_E* from the
 * library (nrf_errno.h numbers, the modem library's own, not this build's
 * errno), or a positive NRF_MODEM_DELTA_DFU_* refusal from the modem.
 * NRF_MODEM_DELTA_DFU_ERASE_PENDING becomes -FOTA_RS_EAGAIN, which the core
 * reads from modem_delta_offset() as "erase before writing".
 */
static int32_t modem_dfu_code(int rc)
{
	if (rc == 0) {
		return 0;
	}
	if (rc < 0) {
		switch (-rc) {
		case NRF_ENOMEM:
			return -FOTA_RS_ENOMEM;
		case NRF_EFAULT:
		case NRF_EINVAL:
			return -FOTA_RS_EINVAL;
		case NRF_EALREADY:
			return -FOTA_RS_EALREADY;
		case NRF_EPERM: /* modem library not initialised */
#if defined(NRF_ESHUTDOWN)
		case NRF_ESHUTDOWN: /* modem shut down */
#endif
			return -FOTA_RS_EIO;
		default:
			return -FOTA_RS_EFAULT;
		}
	}
	switch (rc) {
	case NRF_MODEM_DELTA_DFU_RECEIVER_OUT_OF_MEMORY:
		return -FOTA_RS_ENOMEM;
	case NRF_MODEM_DELTA_DFU_RECEIVER_BLOCK_TOO_LARGE:
		return -FOTA_RS_EMSGSIZE;
	case NRF_MODEM_DELTA_DFU_INVALID_HEADER_DATA:
	case NRF_MODEM_DELTA_DFU_INVALID_DATA:
	case NRF_MODEM_DELTA_DFU_INCOMPLETE_DATA:
		return -FOTA_RS_EILSEQ;
	case NRF_MODEM_DELTA_DFU_INVALID_UUID:
		/* A delta made for another modem firmware than the running one:
		 * the image does not fit this device, like a wrong image type. */
		return -FOTA_RS_ENOEXEC;
	case NRF_MODEM_DELTA_DFU_INVALID_FILE_OFFSET:
	case NRF_MODEM_DELTA_DFU_INVALID_RESUME_ATTEMPT:
		return -FOTA_RS_ERANGE;
	case NRF_MODEM_DELTA_DFU_ERASE_PENDING:
		return -FOTA_RS_EAGAIN;
	case NRF_MODEM_DELTA_DFU_OPERATION_NOT_ALLOWED:
		return -FOTA_RS_EACCES;
	case NRF_MODEM_DELTA_DFU_INVALID_OPERATION:
		return -FOTA_RS_EINVAL;
	case NRF_MODEM_DELTA_DFU_AREA_NOT_BLANK:
	case NRF_MODEM_DELTA_DFU_WRITE_ERROR:
	case NRF_MODEM_DELTA_DFU_ERASE_ERROR:
	case NRF_MODEM_DELTA_DFU_PROGRESS_LOG_INVALID:
	case NRF_MODEM_DELTA_DFU_INTERRUPTED_WRITE:
		return -FOTA_RS_EIO;
#if defined(NRF_MODEM_DELTA_DFU_NOT_ALLOWED_POFWARN_ON)
	case NRF_MODEM_DELTA_DFU_NOT_ALLOWED_POFWARN_ON: /* nrf_modem >= 2.1.0 */
		return -FOTA_RS_EIO;
#endif
	default: /* the ERROR_INTERNAL_* codes and anything newer */
		return -FOTA_RS_EFAULT;
	}
}

/* Release the modem's DFU resources (write_init's RAM) if we hold them. */
static int modem_write_release(void)
{
	if (!modem_writing) {
		return 0;
	}
	modem_writing = false;
	return nrf_modem_delta_dfu_write_done();
}

/*
 * The contract's resume point. OFFSET_DIRTY (scratch area holds something
 * that cannot be continued) and an erase still running (ERASE_PENDING) both
 * answer -FOTA_RS_EAGAIN: the core then calls modem_delta_erase() before
 * the first write.
 */
static int32_t port_modem_delta_offset(void *ctx, uint32_t *offset)
{
	ARG_UNUSED(ctx);

	size_t off = 0;
	int rc = nrf_modem_delta_dfu_offset(&off);

	if (rc == 0 && off == NRF_MODEM_DELTA_DFU_OFFSET_DIRTY) {
		LOG_INF("modem scratch area is dirty: erase needed");
		return -FOTA_RS_EAGAIN;
	}
	if (rc != 0) {
		if (rc != NRF_MODEM_DELTA_DFU_ERASE_PENDING) {
			LOG_ERR("nrf_modem_delta_dfu_offset: %d", rc);
		}
		return modem_dfu_code(rc);
	}
	*offset = (uint32_t)off;
	return 0;
}

/*
 * Synchronous for the core: nrf_modem_delta_dfu_erase() only starts the
 * erase, then the offset is polled until the modem reports 0 with success.
 * While the erase runs the offset call answers ERASE_PENDING; NCS's
 * dfu_target_modem_delta also tolerates INVALID_DATA in that loop.
 */
static int32_t port_modem_delta_erase(void *ctx)
{
	ARG_UNUSED(ctx);

	(void)modem_write_release();

	int rc = nrf_modem_delta_dfu_erase();

	/* ERASE_PENDING: an erase (e.g. from before a reboot) still runs. */
	if (rc != 0 && rc != NRF_MODEM_DELTA_DFU_ERASE_PENDING) {
		LOG_ERR("nrf_modem_delta_dfu_erase: %d", rc);
		return modem_dfu_code(rc);
	}

	const int64_t deadline =
		k_uptime_get() + (int64_t)CONFIG_FOTA_RS_MODEM_DELTA_ERASE_TIMEOUT * 1000;

	for (;;) {
		size_t off = NRF_MODEM_DELTA_DFU_OFFSET_DIRTY;

		rc = nrf_modem_delta_dfu_offset(&off);
		if (rc == 0 && off == 0) {
			return 0;
		}
		if (rc != 0 && rc != NRF_MODEM_DELTA_DFU_ERASE_PENDING &&
		    rc != NRF_MODEM_DELTA_DFU_INVALID_DATA) {
			LOG_ERR("modem erase failed: %d", rc);
			return modem_dfu_code(rc);
		}
		if (k_uptime_get() >= deadline) {
			LOG_ERR("modem erase still running after %d s; the modem favours LTE "
				"traffic over flash work. It continues in the background; a "
				"later attempt waits for it",
				CONFIG_FOTA_RS_MODEM_DELTA_ERASE_TIMEOUT);
			return -FOTA_RS_ETIMEDOUT;
		}
		(void)k_msleep(FRS_MODEM_ERASE_POLL_MS);
	}
}

static int32_t port_modem_delta_write(void *ctx, const uint8_t *data, uint32_t len)
{
	ARG_UNUSED(ctx);

	if (data == NULL) {
		return -FOTA_RS_EINVAL;
	}
	if (!modem_writing) {
		/* -NRF_EALREADY: initialised by someone before us, still usable. */
		int rc = nrf_modem_delta_dfu_write_init();

		if (rc != 0 && rc != -NRF_EALREADY) {
			LOG_ERR("nrf_modem_delta_dfu_write_init: %d", rc);
			return modem_dfu_code(rc);
		}
		modem_writing = true;
	}

	while (len > 0) {
		size_t n = MIN(len, (uint32_t)FRS_MODEM_WRITE_BLOCK);
		int rc = nrf_modem_delta_dfu_write(data, n);

		if (rc != 0) {
			LOG_ERR("nrf_modem_delta_dfu_write: %d", rc);
			return modem_dfu_code(rc);
		}
		data += n;
		len -= (uint32_t)n;
	}
	return 0;
}

/* write_done always (it releases the modem's RAM and keeps what was written
 * for a resume); update only when the whole delta arrived. */
static int32_t port_modem_delta_done(void *ctx, bool apply)
{
	ARG_UNUSED(ctx);

	int rc = modem_write_release();

	if (rc != 0) {
		LOG_ERR("nrf_modem_delta_dfu_write_done: %d", rc);
		return modem_dfu_code(rc);
	}
	if (!apply) {
		return 0;
	}
	rc = nrf_modem_delta_dfu_update();
	if (rc != 0) {
		LOG_ERR("nrf_modem_delta_dfu_update: %d", rc);
		return modem_dfu_code(rc);
	}
	LOG_INF("modem delta scheduled; the modem applies it at its next start");
	return 0;
}

#endif /* CONFIG_FOTA_RS_TARGET_MODEM_DELTA */

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

static int32_t port_kv_load(void *ctx, const char *key, uint8_t *buf, size_t len)
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

static int32_t port_kv_save(void *ctx, const char *key, const uint8_t *buf, size_t len)
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

static int32_t port_kv_delete(void *ctx, const char *key)
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
static int32_t port_kv_load(void *ctx, const char *key, uint8_t *buf, size_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(key);
	ARG_UNUSED(buf);
	ARG_UNUSED(len);
	return -FOTA_RS_ENOENT;
}

static int32_t port_kv_save(void *ctx, const char *key, const uint8_t *buf, size_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(key);
	ARG_UNUSED(buf);
	ARG_UNUSED(len);
	return 0;
}

static int32_t port_kv_delete(void *ctx, const char *key)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(key);
	return 0;
}

#endif /* CONFIG_FOTA_RS_PROGRESS_SAVE */

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

/* Logging v1 (deferred) needed log_strdup() for strings that do not outlive
 * the call; v2 copies them itself and log_strdup() was later removed
 * (Zephyr 3.x). CONFIG_LOG1 only exists on the old trees. */
#if defined(CONFIG_LOG1)
#define FRS_LOG_STR(s) log_strdup(s)
#else
#define FRS_LOG_STR(s) (s)
#endif

static void port_log(void *ctx, uint8_t level, const char *msg, size_t len)
{
	ARG_UNUSED(ctx);

	/* The core's buffer is not NUL-terminated and is reused after the
	 * call; deferred logging copies NUL-terminated strings only, so log a
	 * bounded, terminated copy. */
	char line[FRS_LOG_LINE_MAX];
	size_t n = MIN(len, sizeof(line) - 1);

	if (msg == NULL) {
		n = 0;
	} else {
		memcpy(line, msg, n);
	}
	line[n] = '\0';

	switch (level) {
	case FOTA_RS_LOG_ERR:
		LOG_ERR("%.*s", (int)n, FRS_LOG_STR(line));
		break;
	case FOTA_RS_LOG_WRN:
		LOG_WRN("%.*s", (int)n, FRS_LOG_STR(line));
		break;
	case FOTA_RS_LOG_INF:
		LOG_INF("%.*s", (int)n, FRS_LOG_STR(line));
		break;
	default:
		LOG_DBG("%.*s", (int)n, FRS_LOG_STR(line));
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

/* ------------------------------------------------------------------------ */
/* Table and configuration                                                   */
/* ------------------------------------------------------------------------ */

static const struct fota_rs_port zephyr_port = {
	.ctx = NULL,
	.connect = port_connect,
	.send = port_send,
	.recv = port_recv,
	.close = port_close,
	.flash_geometry = port_flash_geometry,
	.flash_erase = port_flash_erase,
	.flash_write = port_flash_write,
	.flash_read = port_flash_read,
	.request_upgrade = port_request_upgrade,
	.kv_load = port_kv_load,
	.kv_save = port_kv_save,
	.kv_delete = port_kv_delete,
	.uptime_ms = port_uptime_ms,
	.sleep_ms = port_sleep_ms,
	.log = port_log,
	.start_worker = port_start_worker,
#if defined(CONFIG_FOTA_RS_TARGET_MCUBOOT)
	.running_version = port_running_version,
	.device_layout = port_device_layout,
#endif
#if defined(FRS_B1)
	.s0_active = port_s0_active,
#endif
#if defined(CONFIG_FOTA_RS_TARGET_MODEM_DELTA)
	.modem_delta_offset = port_modem_delta_offset,
	.modem_delta_erase = port_modem_delta_erase,
	.modem_delta_write = port_modem_delta_write,
	.modem_delta_done = port_modem_delta_done,
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
