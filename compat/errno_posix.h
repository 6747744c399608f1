/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to compat/: the FOTA_RS_E* codes' errno names in this build's own
 * <errno.h>, each with a fallback where the libc lacks the name.
 */
#ifndef FOTA_RS_COMPAT_ERRNO_POSIX_H_
#define FOTA_RS_COMPAT_ERRNO_POSIX_H_

#include <errno.h>

/*
 * errno names beyond ISO C are not guaranteed everywhere this builds; a
 * name the libc lacks degrades to EIO rather than breaking the build.
 */
#ifdef EINVAL
#define FR_EINVAL EINVAL
#else
#define FR_EINVAL EIO
#endif
#ifdef EALREADY
#define FR_EALREADY EALREADY
#else
#define FR_EALREADY EIO
#endif
#ifdef EAGAIN
#define FR_EAGAIN EAGAIN
#else
#define FR_EAGAIN EIO
#endif
#ifdef ENAMETOOLONG
#define FR_ENAMETOOLONG ENAMETOOLONG
#else
#define FR_ENAMETOOLONG EIO
#endif
#ifdef EHOSTUNREACH
#define FR_EHOSTUNREACH EHOSTUNREACH
#else
#define FR_EHOSTUNREACH EIO
#endif
#ifdef ECONNREFUSED
#define FR_ECONNREFUSED ECONNREFUSED
#else
#define FR_ECONNREFUSED EIO
#endif
#ifdef ECONNRESET
#define FR_ECONNRESET ECONNRESET
#else
#define FR_ECONNRESET EIO
#endif
#ifdef ETIMEDOUT
#define FR_ETIMEDOUT ETIMEDOUT
#else
#define FR_ETIMEDOUT EIO
#endif
#ifdef ENOTCONN
#define FR_ENOTCONN ENOTCONN
#else
#define FR_ENOTCONN EIO
#endif
#ifdef EBADMSG
#define FR_EBADMSG EBADMSG
#else
#define FR_EBADMSG EIO
#endif
#ifdef E2BIG
#define FR_E2BIG E2BIG
#else
#define FR_E2BIG EIO
#endif
#ifdef EFBIG
#define FR_EFBIG EFBIG
#else
#define FR_EFBIG EIO
#endif
#ifdef ENOENT
#define FR_ENOENT ENOENT
#else
#define FR_ENOENT EIO
#endif
#if defined(ENOTSUP)
#define FR_ENOTSUP ENOTSUP
#elif defined(EOPNOTSUPP)
#define FR_ENOTSUP EOPNOTSUPP
#else
#define FR_ENOTSUP EIO
#endif
#ifdef ENOMEM
#define FR_ENOMEM ENOMEM
#else
#define FR_ENOMEM EIO
#endif
#ifdef EACCES
#define FR_EACCES EACCES
#else
#define FR_EACCES EIO
#endif
#ifdef ERANGE
#define FR_ERANGE ERANGE
#else
#define FR_ERANGE EIO
#endif
#ifdef ECANCELED
#define FR_ECANCELED ECANCELED
#else
#define FR_ECANCELED EIO
#endif
#ifdef EILSEQ
#define FR_EILSEQ EILSEQ
#else
#define FR_EILSEQ EIO
#endif
#ifdef EMSGSIZE
#define FR_EMSGSIZE EMSGSIZE
#else
#define FR_EMSGSIZE EIO
#endif
#ifdef ECONNABORTED
#define FR_ECONNABORTED ECONNABORTED
#else
#define FR_ECONNABORTED EIO
#endif
#ifdef ENETUNREACH
#define FR_ENETUNREACH ENETUNREACH
#else
#define FR_ENETUNREACH EIO
#endif
#ifdef ENOEXEC
#define FR_ENOEXEC ENOEXEC
#else
#define FR_ENOEXEC EIO
#endif
#ifdef EFAULT
#define FR_EFAULT EFAULT
#else
#define FR_EFAULT EIO
#endif
#ifdef ENODEV
#define FR_ENODEV ENODEV
#else
#define FR_ENODEV EIO
#endif

#ifdef EOPNOTSUPP
#define FR_EOPNOTSUPP EOPNOTSUPP
#else
#define FR_EOPNOTSUPP FR_ENOTSUP
#endif
#ifdef ENOMSG
#define FR_ENOMSG ENOMSG
#else
#define FR_ENOMSG EIO
#endif

#endif /* FOTA_RS_COMPAT_ERRNO_POSIX_H_ */
