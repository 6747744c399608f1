/* SPDX-License-Identifier: Apache-2.0 */
/* Zephyr port: sockets with TLS by sec_tag (connect, send, recv, close) on Zephyr's socket API. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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

#include <fota_rs/port.h>
#include "fota_rs/errno_map.h"
#include "zephyr_private.h"

/* The module's log source, registered in port.c. */
LOG_MODULE_DECLARE(fota_rs, CONFIG_FOTA_RS_LOG_LEVEL);

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

/* Socket send/recv: EAGAIN there means the socket timeout expired, which the
 * contract calls ETIMEDOUT (FOTA_RS_EAGAIN means "nothing to cancel"). */
static int32_t sock_errno_to_code(int err)
{
	if (err == EAGAIN) {
		return -FOTA_RS_ETIMEDOUT;
	}
	return frs_errno_to_code(err);
}

/* ------------------------------------------------------------------------ */
/* Network                                                                   */
/* ------------------------------------------------------------------------ */

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
		/* The core passes no name only for an IP literal (its one rule,
		 * fota_rs_host_is_ip_literal); any name it passes is checked,
		 * even one that reads like an address ("127.1"). */
		if (p->tls->hostname != NULL &&
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

int32_t frs_port_connect(void *ctx, const struct fota_rs_connect_params *p,
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
		/* Without TLS_HOSTNAME the modem accepts any certificate its CA
		 * signed: it cannot check an address against the certificate's IP
		 * entries. So https to an IP literal is refused unless allowed. */
		if (p->tls->hostname == NULL && !IS_ENABLED(CONFIG_FOTA_RS_ALLOW_TLS_IP_LITERAL)) {
			res->stage = FOTA_RS_CONNECT_STAGE_TLS;
			(void)snprintf(res->detail, sizeof(res->detail),
				       "https to IP %.40s: cannot be verified; use a host name",
				       p->host);
			LOG_ERR("https to the IP address %s refused: the modem cannot check an "
				"address against the server's certificate, so any certificate "
				"from a CA under the tag would be accepted. Use a host name, or "
				"allow it with CONFIG_FOTA_RS_ALLOW_TLS_IP_LITERAL",
				FRS_LOG_STR(p->host));
			return -FOTA_RS_ENOTSUP;
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
	return frs_errno_to_code(err);
}

int32_t frs_port_send(void *ctx, int32_t handle, const uint8_t *buf, size_t len)
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

int32_t frs_port_recv(void *ctx, int32_t handle, uint8_t *buf, size_t len, uint32_t timeout_ms)
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

void frs_port_close(void *ctx, int32_t handle)
{
	ARG_UNUSED(ctx);

	if (handle >= 0 && zsock_close(handle) != 0) {
		LOG_DBG("close(%d): errno %d", (int)handle, errno);
	}
}
