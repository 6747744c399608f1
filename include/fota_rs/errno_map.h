/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * errno -> FOTA_RS_E*, shared by the ports. Include it only where the
 * platform's real <errno.h> is in scope: the mapping goes by name, because
 * the numbers differ between newlib, Zephyr's minimal libc and Linux. The
 * reverse direction lives in compat/fota_download.c (fota_rs_errno_to_posix).
 */
#ifndef FOTA_RS_ERRNO_MAP_H_
#define FOTA_RS_ERRNO_MAP_H_

#include <errno.h>
#include <stdint.h>

#include "fota_rs/port.h"

/** Positive errno in, negative FOTA_RS_E* out. */
static inline int32_t fota_rs_errno_from_posix(int err)
{
	switch (err) {
	case 0:
		/* Only called after a failure: one that left errno unset is
		 * still a failure, never success. */
		return -FOTA_RS_EIO;
	case EINVAL:
		return -FOTA_RS_EINVAL;
	case EALREADY:
#if defined(EINPROGRESS)
	case EINPROGRESS:
#endif
		return -FOTA_RS_EALREADY;
	case EAGAIN:
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return -FOTA_RS_EAGAIN;
	case ENAMETOOLONG:
		return -FOTA_RS_ENAMETOOLONG;
	case EHOSTUNREACH:
#if defined(EHOSTDOWN)
	case EHOSTDOWN:
#endif
		return -FOTA_RS_EHOSTUNREACH;
	case ECONNREFUSED:
		return -FOTA_RS_ECONNREFUSED;
	case ECONNRESET:
#if defined(EPIPE)
	case EPIPE:
#endif
		return -FOTA_RS_ECONNRESET;
	case ETIMEDOUT:
		return -FOTA_RS_ETIMEDOUT;
	case ENOTCONN:
#if defined(EBADF)
	case EBADF:
#endif
#if defined(ENOTSOCK)
	case ENOTSOCK:
#endif
		return -FOTA_RS_ENOTCONN;
	case EBADMSG:
#if defined(EPROTO)
	case EPROTO:
#endif
		return -FOTA_RS_EBADMSG;
	case E2BIG:
		return -FOTA_RS_E2BIG;
	case EFBIG:
	case ENOSPC:
		return -FOTA_RS_EFBIG;
	case EIO:
#if defined(EROFS)
	case EROFS:
#endif
		return -FOTA_RS_EIO;
	case ENOENT:
		return -FOTA_RS_ENOENT;
	case ENOTSUP:
#if defined(EOPNOTSUPP) && (EOPNOTSUPP != ENOTSUP)
	case EOPNOTSUPP:
#endif
#if defined(EAFNOSUPPORT)
	case EAFNOSUPPORT:
#endif
#if defined(EPROTONOSUPPORT)
	case EPROTONOSUPPORT:
#endif
		return -FOTA_RS_ENOTSUP;
	case ENOMEM:
#if defined(ENOBUFS)
	case ENOBUFS:
#endif
#if defined(EMFILE)
	case EMFILE:
#endif
#if defined(ENFILE)
	case ENFILE:
#endif
		return -FOTA_RS_ENOMEM;
	case EACCES:
	case EPERM: /* e.g. modem_key_mgmt while LTE is on */
		return -FOTA_RS_EACCES;
	case ERANGE:
		return -FOTA_RS_ERANGE;
	case ECANCELED:
		return -FOTA_RS_ECANCELED;
	case EILSEQ:
		return -FOTA_RS_EILSEQ;
	case EMSGSIZE:
		return -FOTA_RS_EMSGSIZE;
	case ECONNABORTED:
		return -FOTA_RS_ECONNABORTED;
	case ENETUNREACH:
#if defined(ENETDOWN)
	case ENETDOWN:
#endif
#if defined(ENETRESET)
	case ENETRESET:
#endif
		return -FOTA_RS_ENETUNREACH;
	case ENOEXEC:
		return -FOTA_RS_ENOEXEC;
	default:
		return -FOTA_RS_EFAULT;
	}
}

#endif /* FOTA_RS_ERRNO_MAP_H_ */
