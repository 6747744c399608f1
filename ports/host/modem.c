/* SPDX-License-Identifier: Apache-2.0 */
/* Host port: the modem's delta DFU area emulated by a file beside the flash file. */
#include "host_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* modem delta DFU                                                    */
/* ------------------------------------------------------------------ */

/*
 * The modem's DFU area as a file: its length is what the modem holds (the
 * offset nrf_modem_delta_dfu_offset() reports, so a download resumes
 * there). No file is an area never erased: the offset answers
 * -FOTA_RS_EAGAIN (the modem's OFFSET_DIRTY, as the Zephyr port maps it)
 * and writes are refused until an erase. "<file>.pending" marks an update
 * scheduled for the next boot.
 */
int32_t host_modem_delta_offset(void *ctx, uint32_t *offset)
{
	struct stat st;
	int32_t rc = 0;

	(void)ctx;
	if (offset == NULL) {
		return -FOTA_RS_EINVAL;
	}
	pthread_mutex_lock(&g.modem_lock);
	if (g.modem_path == NULL) {
		rc = -FOTA_RS_EIO;
	} else if (stat(g.modem_path, &st) != 0) {
		rc = errno == ENOENT ? -FOTA_RS_EAGAIN : host_errno_to_fota(errno);
	} else if ((uint64_t)st.st_size > UINT32_MAX) {
		rc = -FOTA_RS_EIO;
	} else {
		*offset = (uint32_t)st.st_size;
	}
	pthread_mutex_unlock(&g.modem_lock);
	return rc;
}

int32_t host_modem_delta_erase(void *ctx)
{
	char pending[PATH_MAX];
	int32_t rc = 0;
	int fd;

	(void)ctx;
	pthread_mutex_lock(&g.modem_lock);
	if (g.modem_path == NULL) {
		pthread_mutex_unlock(&g.modem_lock);
		return -FOTA_RS_EIO;
	}
	host_logf(FOTA_RS_LOG_DBG, "modem: erasing the DFU area (%u ms)",
		  (unsigned)g.modem_erase_ms);
	/* The modem blocks for seconds here; callers must live with that. */
	host_sleep_ms(NULL, g.modem_erase_ms);
	fd = open(g.modem_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fdatasync(fd) != 0) {
		host_logf(FOTA_RS_LOG_ERR, "modem: erase %s: %s", g.modem_path, strerror(errno));
		rc = -FOTA_RS_EIO;
	}
	if (fd >= 0) {
		close(fd);
	}
	if (snprintf(pending, sizeof(pending), "%s.pending", g.modem_path) < (int)sizeof(pending)) {
		(void)unlink(pending);
	}
	pthread_mutex_unlock(&g.modem_lock);
	return rc;
}

int32_t host_modem_delta_write(void *ctx, const uint8_t *data, uint32_t len)
{
	int32_t rc = 0;
	int fd;

	(void)ctx;
	if (data == NULL && len > 0) {
		return -FOTA_RS_EINVAL;
	}
	pthread_mutex_lock(&g.modem_lock);
	if (g.modem_path == NULL) {
		pthread_mutex_unlock(&g.modem_lock);
		return -FOTA_RS_EIO;
	}
	fd = open(g.modem_path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		host_logf(FOTA_RS_LOG_ERR, "modem: write: DFU area %s", errno == ENOENT
			  ? "not erased (erase it first)" : strerror(errno));
		rc = errno == ENOENT ? -FOTA_RS_EIO : host_errno_to_fota(errno);
	} else {
		for (uint32_t done = 0; done < len && rc == 0;) {
			ssize_t n = write(fd, data + done, len - done);

			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				host_logf(FOTA_RS_LOG_ERR, "modem: write: %s", strerror(errno));
				rc = -FOTA_RS_EIO;
				break;
			}
			done += (uint32_t)n;
		}
		close(fd);
	}
	pthread_mutex_unlock(&g.modem_lock);
	return rc;
}

int32_t host_modem_delta_done(void *ctx, bool apply)
{
	char pending[PATH_MAX];
	struct stat st;
	int32_t rc = 0;
	FILE *f;

	(void)ctx;
	pthread_mutex_lock(&g.modem_lock);
	if (g.modem_path == NULL || stat(g.modem_path, &st) != 0) {
		pthread_mutex_unlock(&g.modem_lock);
		return -FOTA_RS_EIO;
	}
	if (apply) {
		if (snprintf(pending, sizeof(pending), "%s.pending", g.modem_path) >=
		    (int)sizeof(pending)) {
			rc = -FOTA_RS_ENAMETOOLONG;
		} else if ((f = fopen(pending, "w")) == NULL) {
			rc = host_errno_to_fota(errno);
		} else {
			fprintf(f, "%lld\n", (long long)st.st_size);
			rc = fclose(f) == 0 ? 0 : -FOTA_RS_EIO;
		}
	}
	host_logf(FOTA_RS_LOG_DBG, "modem: DFU done at %lld bytes%s", (long long)st.st_size,
		  apply ? ", update scheduled for the next boot" : "");
	pthread_mutex_unlock(&g.modem_lock);
	return rc;
}
