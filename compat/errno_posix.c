/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fota_rs_errno_to_posix(): the core's FOTA_RS_E* codes as negative errno
 * values of the C library this is compiled with (include/fota_rs/errno_map.h
 * is the other direction).
 */
#include <errno.h>
#include <stdint.h>

#include "fota_rs.h"
#include "fota_rs_platform.h"
#include "errno_posix.h"

/*
 * Each case only picks the positive errno and the one return negates it: GCC
 * then folds the switch into a byte table (-ftree-switch-conversion) instead
 * of a branch and a return per code, about 140 bytes less on Thumb-2.
 */
int fota_rs_errno_to_posix(int32_t fota_rs_err)
{
	enum fota_rs_errno code;
	/* A code newer than this file. */
	int err = EIO;

	if (fota_rs_err >= 0) {
		return (int)fota_rs_err;
	}
	if (fota_rs_err == INT32_MIN) {
		return -EIO;
	}
	code = (enum fota_rs_errno)(-fota_rs_err);

	/* No default: -Wswitch then flags a FOTA_RS_E* code added without a mapping. */
	switch (code) {
	case FOTA_RS_OK:
		err = 0;
		break;
	case FOTA_RS_EINVAL:
		err = FR_EINVAL;
		break;
	case FOTA_RS_EALREADY:
		err = FR_EALREADY;
		break;
	case FOTA_RS_EAGAIN:
		err = FR_EAGAIN;
		break;
	case FOTA_RS_ENAMETOOLONG:
		err = FR_ENAMETOOLONG;
		break;
	case FOTA_RS_EHOSTUNREACH:
		err = FR_EHOSTUNREACH;
		break;
	case FOTA_RS_ECONNREFUSED:
		err = FR_ECONNREFUSED;
		break;
	case FOTA_RS_ECONNRESET:
		err = FR_ECONNRESET;
		break;
	case FOTA_RS_ETIMEDOUT:
		err = FR_ETIMEDOUT;
		break;
	case FOTA_RS_ENOTCONN:
		err = FR_ENOTCONN;
		break;
	case FOTA_RS_EBADMSG:
		err = FR_EBADMSG;
		break;
	case FOTA_RS_E2BIG:
		err = FR_E2BIG;
		break;
	case FOTA_RS_EFBIG:
		err = FR_EFBIG;
		break;
	case FOTA_RS_EIO:
		err = EIO;
		break;
	case FOTA_RS_ENOENT:
		err = FR_ENOENT;
		break;
	case FOTA_RS_ENOTSUP:
		err = FR_ENOTSUP;
		break;
	case FOTA_RS_ENOMEM:
		err = FR_ENOMEM;
		break;
	case FOTA_RS_EACCES:
		err = FR_EACCES;
		break;
	case FOTA_RS_ERANGE:
		err = FR_ERANGE;
		break;
	case FOTA_RS_ECANCELED:
		err = FR_ECANCELED;
		break;
	case FOTA_RS_EILSEQ:
		err = FR_EILSEQ;
		break;
	case FOTA_RS_EMSGSIZE:
		err = FR_EMSGSIZE;
		break;
	case FOTA_RS_ECONNABORTED:
		err = FR_ECONNABORTED;
		break;
	case FOTA_RS_ENETUNREACH:
		err = FR_ENETUNREACH;
		break;
	case FOTA_RS_ENOEXEC:
		err = FR_ENOEXEC;
		break;
	case FOTA_RS_EFAULT:
		err = FR_EFAULT;
		break;
	}
	return -err;
}
