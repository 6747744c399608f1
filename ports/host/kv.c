/* SPDX-License-Identifier: Apache-2.0 */
/* Host port: the key/value store, one text file replaced atomically on each save. */
#include "host_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HOST_KV_MAX_ENTRIES 16
#define HOST_KV_MAX_KEY 32
#define HOST_KV_MAX_VALUE 256

struct host_kv_entry {
	char key[HOST_KV_MAX_KEY + 1];
	uint16_t len;
	uint8_t value[HOST_KV_MAX_VALUE];
};

struct host_kv_table {
	size_t count;
	struct host_kv_entry e[HOST_KV_MAX_ENTRIES];
};

/* The store as last read; only touched under g.kv_lock. */
static struct host_kv_table kv;

/* ------------------------------------------------------------------ */
/* key/value store                                                    */
/* ------------------------------------------------------------------ */

/*
 * File format, text so a test can read it:
 *   fota-rs-kv 1
 *   <key>=<value as lowercase hex>
 */
static const char kv_header[] = "fota-rs-kv 1\n";

static bool kv_key_ok(const char *key)
{
	size_t n;

	if (key == NULL) {
		return false;
	}
	n = strlen(key);
	if (n == 0 || n > HOST_KV_MAX_KEY) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)key[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '=') {
			return false;
		}
	}
	return true;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9') {
		return ch - '0';
	}
	if (ch >= 'a' && ch <= 'f') {
		return ch - 'a' + 10;
	}
	if (ch >= 'A' && ch <= 'F') {
		return ch - 'A' + 10;
	}
	return -1;
}

/* Reads the store into kv; a missing file is an empty store. */
static int32_t kv_read(void)
{
	static char text[HOST_KV_MAX_ENTRIES * (HOST_KV_MAX_KEY + 2 + 2 * HOST_KV_MAX_VALUE) +
			 sizeof(kv_header) + 1];
	size_t len = 0;
	char *line;
	int fd;

	kv.count = 0;
	fd = open(g.state_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return errno == ENOENT ? 0 : -FOTA_RS_EIO;
	}
	for (;;) {
		ssize_t n = read(fd, text + len, sizeof(text) - 1 - len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			close(fd);
			return -FOTA_RS_EIO;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
		if (len == sizeof(text) - 1) {
			close(fd);
			host_logf(FOTA_RS_LOG_ERR, "state file %s too large", g.state_path);
			return -FOTA_RS_EIO;
		}
	}
	close(fd);
	text[len] = '\0';

	if (strncmp(text, kv_header, sizeof(kv_header) - 1) != 0) {
		goto corrupt;
	}
	line = text + sizeof(kv_header) - 1;
	while (*line != '\0') {
		char *nl = strchr(line, '\n');
		char *eq = strchr(line, '=');
		struct host_kv_entry *e;
		size_t klen, hlen;

		if (nl == NULL || eq == NULL || eq > nl || kv.count >= HOST_KV_MAX_ENTRIES) {
			goto corrupt;
		}
		klen = (size_t)(eq - line);
		hlen = (size_t)(nl - eq - 1);
		if (klen == 0 || klen > HOST_KV_MAX_KEY || hlen % 2 != 0 ||
		    hlen / 2 > HOST_KV_MAX_VALUE) {
			goto corrupt;
		}
		e = &kv.e[kv.count];
		memcpy(e->key, line, klen);
		e->key[klen] = '\0';
		e->len = (uint16_t)(hlen / 2);
		for (size_t i = 0; i < e->len; i++) {
			int hi = hexval(eq[1 + 2 * i]), lo = hexval(eq[2 + 2 * i]);

			if (hi < 0 || lo < 0) {
				goto corrupt;
			}
			e->value[i] = (uint8_t)(hi << 4 | lo);
		}
		kv.count++;
		line = nl + 1;
	}
	return 0;

corrupt:
	host_logf(FOTA_RS_LOG_ERR, "state file %s is corrupt", g.state_path);
	kv.count = 0;
	return -FOTA_RS_EIO;
}

/* Whole file to a temp name, then rename(): a kill leaves old or new, never half. */
static int32_t kv_write(void)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[PATH_MAX];
	FILE *f;
	int fd, ok;

	/* A fixed name: a save killed half-way leaves one stale file, reused next time. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", g.state_path) >= (int)sizeof(tmp)) {
		return -FOTA_RS_ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		host_logf(FOTA_RS_LOG_ERR, "state file %s: %s", tmp, strerror(errno));
		return -FOTA_RS_EIO;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(tmp);
		return -FOTA_RS_EIO;
	}
	ok = fputs(kv_header, f) >= 0;
	for (size_t i = 0; ok && i < kv.count; i++) {
		const struct host_kv_entry *e = &kv.e[i];

		ok = fprintf(f, "%s=", e->key) >= 0;
		for (size_t j = 0; ok && j < e->len; j++) {
			ok = fputc(hex[e->value[j] >> 4], f) != EOF &&
			     fputc(hex[e->value[j] & 0xf], f) != EOF;
		}
		ok = ok && fputc('\n', f) != EOF;
	}
	ok = ok && fflush(f) == 0 && fdatasync(fileno(f)) == 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, g.state_path) != 0) {
		host_logf(FOTA_RS_LOG_ERR, "state file %s: %s", g.state_path, strerror(errno));
		unlink(tmp);
		return -FOTA_RS_EIO;
	}
	return 0;
}

static struct host_kv_entry *kv_find(const char *key)
{
	for (size_t i = 0; i < kv.count; i++) {
		if (strcmp(kv.e[i].key, key) == 0) {
			return &kv.e[i];
		}
	}
	return NULL;
}

int32_t host_kv_load(void *ctx, const char *key, uint8_t *buf, size_t len)
{
	struct host_kv_entry *e;
	int32_t rc;

	(void)ctx;
	if (!kv_key_ok(key) || (buf == NULL && len > 0)) {
		return -FOTA_RS_EINVAL;
	}
	if (g.state_path == NULL) {
		return -FOTA_RS_EIO;
	}
	pthread_mutex_lock(&g.kv_lock);
	rc = kv_read();
	if (rc == 0) {
		e = kv_find(key);
		if (e == NULL) {
			rc = -FOTA_RS_ENOENT;
		} else if (e->len > len) {
			rc = -FOTA_RS_ENOMEM;
		} else {
			memcpy(buf, e->value, e->len);
			rc = e->len;
		}
	}
	pthread_mutex_unlock(&g.kv_lock);
	return rc;
}

int32_t host_kv_save(void *ctx, const char *key, const uint8_t *buf, size_t len)
{
	struct host_kv_entry *e;
	int32_t rc;

	(void)ctx;
	if (!kv_key_ok(key) || (buf == NULL && len > 0)) {
		return -FOTA_RS_EINVAL;
	}
	if (len > HOST_KV_MAX_VALUE) {
		return -FOTA_RS_ENOMEM;
	}
	if (g.state_path == NULL) {
		return -FOTA_RS_EIO;
	}
	pthread_mutex_lock(&g.kv_lock);
	rc = kv_read();
	if (rc == 0) {
		e = kv_find(key);
		if (e == NULL) {
			if (kv.count >= HOST_KV_MAX_ENTRIES) {
				rc = -FOTA_RS_ENOMEM;
			} else {
				e = &kv.e[kv.count++];
				snprintf(e->key, sizeof(e->key), "%s", key);
			}
		}
	}
	if (rc == 0) {
		if (len > 0) {
			memcpy(e->value, buf, len);
		}
		e->len = (uint16_t)len;
		rc = kv_write();
	}
	pthread_mutex_unlock(&g.kv_lock);
	return rc;
}

/* Deleting an absent key succeeds, as Zephyr's settings_delete does. */
int32_t host_kv_delete(void *ctx, const char *key)
{
	struct host_kv_entry *e;
	int32_t rc;

	(void)ctx;
	if (!kv_key_ok(key)) {
		return -FOTA_RS_EINVAL;
	}
	if (g.state_path == NULL) {
		return -FOTA_RS_EIO;
	}
	pthread_mutex_lock(&g.kv_lock);
	rc = kv_read();
	if (rc == 0) {
		e = kv_find(key);
		if (e != NULL) {
			size_t idx = (size_t)(e - kv.e);

			memmove(&kv.e[idx], &kv.e[idx + 1],
				(kv.count - idx - 1) * sizeof(kv.e[0]));
			kv.count--;
			rc = kv_write();
		}
	}
	pthread_mutex_unlock(&g.kv_lock);
	return rc;
}
