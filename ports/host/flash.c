/* SPDX-License-Identifier: Apache-2.0 */
/* Host port: a file with NOR-flash semantics as the secondary slot; MCUboot upgrade request. */
#include "host_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static const uint8_t boot_magic[16] = {
	0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
	0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
};

/* pread/pwrite until all of len is done (EINTR retried). A zero-byte
 * transfer is EIO: for a read the file was truncated under us, the slot is
 * no longer whole. */
static int io_all_at(int fd, uint8_t *rbuf, const uint8_t *wbuf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = rbuf != NULL ? pread(fd, rbuf + done, len - done, off)
					 : pwrite(fd, wbuf + done, len - done, off);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		done += (size_t)n;
		off += n;
	}
	return 0;
}

static int write_all_at(int fd, const uint8_t *buf, size_t len, off_t off)
{
	return io_all_at(fd, NULL, buf, len, off);
}

static int read_all_at(int fd, uint8_t *buf, size_t len, off_t off)
{
	return io_all_at(fd, buf, NULL, len, off);
}

int open_flash_file(const char *path, uint32_t slot_size)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		uint8_t page[4096];

		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "fota_rs_host: cannot create flash file %s: %s\n", path,
				strerror(errno));
			return host_errno_to_fota(errno);
		}
		/* A fresh part comes erased; an all-zero sparse file would look programmed. */
		memset(page, 0xff, sizeof(page));
		for (uint32_t off = 0; off < slot_size; off += sizeof(page)) {
			size_t chunk = slot_size - off < sizeof(page) ? slot_size - off
								     : sizeof(page);

			if (write_all_at(fd, page, chunk, (off_t)off) != 0) {
				int e = errno;

				fprintf(stderr, "fota_rs_host: cannot fill flash file %s: %s\n",
					path, strerror(e));
				close(fd);
				unlink(path);
				return host_errno_to_fota(e);
			}
		}
		return fd;
	}
	if (fd < 0) {
		fprintf(stderr, "fota_rs_host: cannot open flash file %s: %s\n", path,
			strerror(errno));
		return host_errno_to_fota(errno);
	}
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		fprintf(stderr, "fota_rs_host: cannot stat flash file %s: %s\n", path,
			strerror(e));
		return host_errno_to_fota(e);
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != slot_size) {
		fprintf(stderr,
			"fota_rs_host: flash file %s is %lld bytes, expected the slot size %u "
			"(0x%x); delete it or set FOTA_RS_HOST_SLOT_SIZE\n",
			path, (long long)st.st_size, (unsigned)slot_size, (unsigned)slot_size);
		close(fd);
		return -FOTA_RS_EINVAL;
	}
	return fd;
}

/* ------------------------------------------------------------------ */
/* flash                                                              */
/* ------------------------------------------------------------------ */

int32_t host_flash_geometry(void *ctx, struct fota_rs_flash_geometry *out)
{
	(void)ctx;
	if (out == NULL) {
		return -FOTA_RS_EINVAL;
	}
	if (g.flash_fd < 0) {
		return -FOTA_RS_EIO;
	}
	out->slot_size = g.slot_size;
	out->page_size = g.page_size;
	out->write_block = g.write_block;
	out->erased_value = 0xff;
	return 0;
}

static bool in_slot(uint32_t off, uint32_t len)
{
	return (uint64_t)off + len <= g.slot_size;
}

int32_t host_flash_erase(void *ctx, uint32_t off, uint32_t len)
{
	uint8_t page[4096];
	int32_t rc = 0;

	(void)ctx;
	if (g.flash_fd < 0) {
		return -FOTA_RS_EIO;
	}
	if (off % g.page_size != 0 || len % g.page_size != 0 || !in_slot(off, len)) {
		host_logf(FOTA_RS_LOG_ERR, "flash erase 0x%x+0x%x: not page aligned or outside "
			  "the slot", (unsigned)off, (unsigned)len);
		return -FOTA_RS_EINVAL;
	}
	memset(page, 0xff, sizeof(page));
	pthread_mutex_lock(&g.flash_lock);
	for (uint32_t done = 0; done < len;) {
		uint32_t chunk = len - done < sizeof(page) ? len - done : (uint32_t)sizeof(page);

		if (write_all_at(g.flash_fd, page, chunk, (off_t)off + done) != 0) {
			host_logf(FOTA_RS_LOG_ERR, "flash erase at 0x%x: %s",
				  (unsigned)(off + done), strerror(errno));
			rc = -FOTA_RS_EIO;
			break;
		}
		done += chunk;
	}
	pthread_mutex_unlock(&g.flash_lock);
	return rc;
}

int32_t host_flash_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len)
{
	uint8_t old[4096];
	int32_t rc = 0;

	(void)ctx;
	if (g.flash_fd < 0) {
		return -FOTA_RS_EIO;
	}
	if ((data == NULL && len > 0) || off % g.write_block != 0 || len % g.write_block != 0 ||
	    !in_slot(off, len)) {
		host_logf(FOTA_RS_LOG_ERR, "flash write 0x%x+0x%x: not aligned to %u or outside "
			  "the slot", (unsigned)off, (unsigned)len, (unsigned)g.write_block);
		return -FOTA_RS_EINVAL;
	}
	pthread_mutex_lock(&g.flash_lock);
	/*
	 * Check the whole range before touching it: programming can only clear
	 * bits, and a write that needs a 1 back is a missing erase in the caller.
	 */
	for (uint32_t done = 0; done < len && rc == 0;) {
		uint32_t chunk = len - done < sizeof(old) ? len - done : (uint32_t)sizeof(old);

		if (read_all_at(g.flash_fd, old, chunk, (off_t)off + done) != 0) {
			host_logf(FOTA_RS_LOG_ERR, "flash read at 0x%x: %s",
				  (unsigned)(off + done), strerror(errno));
			rc = -FOTA_RS_EIO;
			break;
		}
		for (uint32_t i = 0; i < chunk; i++) {
			if ((uint8_t)(data[done + i] & ~old[i]) != 0) {
				host_logf(FOTA_RS_LOG_ERR,
					  "flash write at 0x%x: 0x%02x over 0x%02x needs an erase "
					  "first (NOR can only clear bits)",
					  (unsigned)(off + done + i), data[done + i], old[i]);
				rc = -FOTA_RS_EIO;
				break;
			}
		}
		done += chunk;
	}
	/* Every byte passed the check, so old & data == data: write data as is. */
	if (rc == 0 && len > 0 && write_all_at(g.flash_fd, data, len, (off_t)off) != 0) {
		host_logf(FOTA_RS_LOG_ERR, "flash write at 0x%x: %s", (unsigned)off,
			  strerror(errno));
		rc = -FOTA_RS_EIO;
	}
	pthread_mutex_unlock(&g.flash_lock);
	return rc;
}

int32_t host_flash_read(void *ctx, uint32_t off, uint8_t *data, uint32_t len)
{
	int32_t rc = 0;

	(void)ctx;
	if (g.flash_fd < 0) {
		return -FOTA_RS_EIO;
	}
	if ((data == NULL && len > 0) || !in_slot(off, len)) {
		return -FOTA_RS_EINVAL;
	}
	pthread_mutex_lock(&g.flash_lock);
	if (len > 0 && read_all_at(g.flash_fd, data, len, (off_t)off) != 0) {
		host_logf(FOTA_RS_LOG_ERR, "flash read at 0x%x: %s", (unsigned)off,
			  strerror(errno));
		rc = -FOTA_RS_EIO;
	}
	pthread_mutex_unlock(&g.flash_lock);
	return rc;
}

/*
 * One trailer field the way MCUboot's boot_write_trailer writes it: the
 * value padded with the erased value up to the write alignment, as a single
 * program operation through the NOR path (so a dirty trailer is caught).
 */
static int32_t write_trailer_field(uint32_t off, const uint8_t *val, uint32_t len,
				   uint32_t max)
{
	uint8_t buf[16];
	uint32_t wb = g.write_block;
	uint32_t n = (len + wb - 1) / wb * wb;

	if (n > max || n > sizeof(buf)) {
		return -FOTA_RS_ENOTSUP;
	}
	memset(buf, 0xff, sizeof(buf));
	memcpy(buf, val, len);
	return host_flash_write(NULL, off, buf, n);
}

int32_t host_request_upgrade(void *ctx, bool permanent)
{
	const uint32_t s = g.slot_size;
	uint8_t magic[16];
	bool erased = true;
	int32_t rc;

	(void)ctx;
	if (g.flash_fd < 0) {
		return -FOTA_RS_EIO;
	}
	rc = host_flash_read(NULL, s - 16, magic, sizeof(magic));
	if (rc != 0) {
		return rc;
	}
	for (size_t i = 0; i < sizeof(magic); i++) {
		erased &= magic[i] == 0xff;
	}
	if (!erased) {
		if (memcmp(magic, boot_magic, sizeof(magic)) == 0) {
			/* MCUboot's boot_set_pending treats this as already scheduled. */
			host_logf(FOTA_RS_LOG_INF, "upgrade already requested");
			return 0;
		}
		host_logf(FOTA_RS_LOG_ERR, "slot trailer magic is neither erased nor valid; "
			  "MCUboot would reject the slot");
		return -FOTA_RS_EIO;
	}

	rc = write_trailer_field(s - 16, boot_magic, sizeof(boot_magic), 16);
	if (rc == 0 && permanent) {
		static const uint8_t image_ok = 0x01;

		rc = write_trailer_field(s - 24, &image_ok, 1, HOST_BOOT_MAX_ALIGN);
	}
	if (rc == 0) {
		/* swap_info = (image index 0 << 4) | swap type. */
		const uint8_t swap_info = (uint8_t)((0u << 4) | (permanent ? 3u : 2u));

		rc = write_trailer_field(s - 40, &swap_info, 1, HOST_BOOT_MAX_ALIGN);
	}
	if (rc != 0) {
		return rc;
	}
	if (fdatasync(g.flash_fd) != 0) {
		host_logf(FOTA_RS_LOG_ERR, "flash sync: %s", strerror(errno));
		return -FOTA_RS_EIO;
	}
	host_logf(FOTA_RS_LOG_DBG, "trailer written (%s)", permanent ? "permanent" : "test");
	return 0;
}
