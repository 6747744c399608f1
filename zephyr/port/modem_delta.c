/* SPDX-License-Identifier: Apache-2.0 */
/* Zephyr port: nRF91 modem delta DFU through nrf_modem_delta_dfu (FOTA_RS_TARGET_MODEM_DELTA). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

/* nrf_modem 1.3.0+ (sdk-nrfxlib). Returns 0, -NRF_E* from the library, or a
 * positive NRF_MODEM_DELTA_DFU_* code when the modem refuses. */
#include <nrf_modem_delta_dfu.h>
#include <nrf_errno.h>

#include <fota_rs/port.h>
#include "fota_rs/errno_map.h"
#include "zephyr_private.h"

/* The module's log source, registered in port.c. */
LOG_MODULE_DECLARE(fota_rs, CONFIG_FOTA_RS_LOG_LEVEL);

/* ------------------------------------------------------------------------ */
/* nRF91 modem delta DFU                                                     */
/* ------------------------------------------------------------------------ */

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
int32_t frs_port_modem_delta_offset(void *ctx, uint32_t *offset)
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
int32_t frs_port_modem_delta_erase(void *ctx)
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

int32_t frs_port_modem_delta_write(void *ctx, const uint8_t *data, uint32_t len)
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
int32_t frs_port_modem_delta_done(void *ctx, bool apply)
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

