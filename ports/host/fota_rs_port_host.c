/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host port: the nRF9160 as far as fota-rs can tell.
 *
 * The point of this file is fidelity, not convenience. Where the device
 * behaves in a surprising way the host copies the surprise (a failed TLS
 * handshake is ECONNREFUSED, as the modem says), and where the device would
 * fail silently the host fails loudly (a flash write that needs an erase is
 * an error here, silent corruption on NOR).
 */
#include "fota_rs_port_host.h"
#include "fota_rs/errno_map.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define HOST_MAX_CONNS 8
#define HOST_MAX_RESOLVE 8
#define HOST_MAX_FALLBACK_TAGS 8
#define HOST_KV_MAX_ENTRIES 16
#define HOST_KV_MAX_KEY 32
#define HOST_KV_MAX_VALUE 256
/* MCUboot's BOOT_MAX_ALIGN: the trailer layout below assumes it. */
#define HOST_BOOT_MAX_ALIGN 8
/* Send has no timeout in the contract; a stuck peer must not hang forever. */
#define HOST_DEFAULT_IO_TIMEOUT_MS 30000u
#define NO_DEADLINE UINT64_MAX
/* How long start_worker waits for a previous worker that is returning. */
#define HOST_WORKER_HANDOVER_S 2
/* A P-256 SubjectPublicKeyInfo is 91 bytes; room for nothing bigger is needed. */
#define HOST_VERIFY_KEY_MAX 128

static const uint8_t boot_magic[16] = {
	0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
	0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
};

struct host_resolve {
	char host[256];
	uint16_t port;
	char addr[INET6_ADDRSTRLEN];
};

struct host_conn {
	bool in_use;
	int fd;
	SSL_CTX *sctx;
	SSL *ssl;
	uint32_t io_timeout_ms;
};

struct host_kv_entry {
	char key[HOST_KV_MAX_KEY + 1];
	uint16_t len;
	uint8_t value[HOST_KV_MAX_VALUE];
};

struct host_kv_table {
	size_t count;
	struct host_kv_entry e[HOST_KV_MAX_ENTRIES];
};

static struct host_state {
	/* Configuration, connection table and worker bookkeeping. */
	pthread_mutex_t lock;
	/* Serialises read-check-write on the flash file. */
	pthread_mutex_t flash_lock;
	/* Serialises read-modify-rename of the state file. */
	pthread_mutex_t kv_lock;
	pthread_cond_t worker_done;

	bool configured;
	char *cred_dir;
	char *flash_path;
	char *state_path;
	uint32_t slot_size;
	uint32_t page_size;
	uint32_t write_block;
	int log_level;
	int insecure_no_verify;
	int permanent;
	int retries;
	uint32_t socket_timeout_ms;
	uint32_t retry_backoff_ms;
	struct host_resolve resolve[HOST_MAX_RESOLVE];
	size_t resolve_count;
	int32_t fallback_tags[HOST_MAX_FALLBACK_TAGS];
	uint8_t fallback_count;
	int flash_fd;

	uint64_t t0_ns;
	struct host_conn conns[HOST_MAX_CONNS];

	bool worker_running;
	/* The last worker thread, joined before the next starts and in wait_idle. */
	pthread_t worker_tid;
	bool worker_unjoined;
	void (*worker_entry)(void *arg);
	void *worker_arg;

	struct host_kv_table kv;

	/* Device facts and the check settings handed to the core. */
	struct fota_rs_image_version running_version;
	struct fota_rs_device_layout layout;
	int allow_downgrade;
	uint32_t pipeline_depth;
	uint32_t deadline_ms;
	uint8_t verify_key[HOST_VERIFY_KEY_MAX];
	size_t verify_key_len;

	/* Simulated modem delta DFU area. */
	pthread_mutex_t modem_lock;
	char *modem_path;
	uint32_t modem_erase_ms;
} g = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.flash_lock = PTHREAD_MUTEX_INITIALIZER,
	.kv_lock = PTHREAD_MUTEX_INITIALIZER,
	.modem_lock = PTHREAD_MUTEX_INITIALIZER,
	.log_level = FOTA_RS_LOG_INF,
	.flash_fd = -1,
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ */
/* errno                                                              */
/* ------------------------------------------------------------------ */

/*
 * The one place host errno becomes a FOTA_RS code. By name only: the
 * numbers differ between C libraries, which is the reason the codes exist.
 */
static int32_t host_errno_to_fota(int e)
{
	return fota_rs_errno_from_posix(e);
}

/* ------------------------------------------------------------------ */
/* time and logging                                                   */
/* ------------------------------------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ms(void)
{
	return mono_ns() / 1000000u;
}

static void host_once_init(void)
{
	pthread_condattr_t attr;

	g.t0_ns = mono_ns();
	/* fota_rs_host_wait_idle measures a timeout; wall-clock jumps must not bend it. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&g.worker_done, &attr);
	pthread_condattr_destroy(&attr);
}

static void host_emit(uint8_t level, const char *msg, size_t len)
{
	static const char *const names[] = { "err", "err", "wrn", "inf", "dbg" };
	uint64_t us;
	const char *name;

	pthread_once(&g_once, host_once_init);
	if ((int)level > g.log_level) {
		return;
	}
	name = level < 5 ? names[level] : "dbg";
	us = (mono_ns() - g.t0_ns) / 1000u;
	if (len > INT_MAX) {
		len = INT_MAX;
	}
	/* Same shape as Zephyr's log backend so host and device logs diff cleanly. */
	fprintf(stderr, "[%02u:%02u:%02u.%03u,%03u] <%s> fota_rs: %.*s\n",
		(unsigned)(us / 3600000000u), (unsigned)(us / 60000000u % 60u),
		(unsigned)(us / 1000000u % 60u), (unsigned)(us / 1000u % 1000u),
		(unsigned)(us % 1000u), name, (int)len, msg);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void host_logf(uint8_t level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if ((int)level > g.log_level) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	host_emit(level, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void set_detail(struct fota_rs_connect_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* options                                                            */
/* ------------------------------------------------------------------ */

void fota_rs_host_options_default(struct fota_rs_host_options *o)
{
	if (o == NULL) {
		return;
	}
	memset(o, 0, sizeof(*o));
	o->cred_dir = "./certs";
	o->flash_path = "fota-slot.bin";
	o->slot_size = 0x70000;
	o->page_size = 4096;
	o->write_block = 4;
	o->state_path = NULL;
	o->resolve = NULL;
	o->fallback_sec_tags = NULL;
	o->log_level = FOTA_RS_LOG_INF;
	o->insecure_no_verify = 0;
	o->permanent = 0;
	o->retries = -1;
	o->socket_timeout_ms = 0;
	o->retry_backoff_ms = 0;
	o->running_version = "0.0.0";
	o->primary_addr = 0x0000c000;
	o->primary_size = 0x70000;
	o->ram_addr = 0x20000000;
	o->ram_size = 0x40000;
	o->allow_downgrade = 0;
	o->modem_erase_ms = 200;
	o->verify_key_path = NULL;
	o->pipeline_depth = 0;
	o->deadline_ms = 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (s == NULL || *s == '\0') {
		return -1;
	}
	/* Only decimal or 0x hex: strtoul's base 0 would read "010" as octal. */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	}
	if (!((*s >= '0' && *s <= '9') || (base == 16 && ((*s >= 'a' && *s <= 'f') ||
							     (*s >= 'A' && *s <= 'F'))))) {
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX) {
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* "1004, 1005" -> tags; -1 when malformed or more than max entries. */
static int parse_tag_list(const char *s, int32_t *tags, size_t max, size_t *count)
{
	size_t n = 0;

	*count = 0;
	if (s == NULL) {
		return 0;
	}
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	if (*s == '\0') {
		return 0;
	}
	for (;;) {
		char *end;
		long long v;

		while (*s == ' ' || *s == '\t') {
			s++;
		}
		if (!((*s >= '0' && *s <= '9') || *s == '-')) {
			return -1;
		}
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno != 0 || end == s || v < INT32_MIN || v > INT32_MAX || n >= max) {
			return -1;
		}
		tags[n++] = (int32_t)v;
		s = end;
		while (*s == ' ' || *s == '\t') {
			s++;
		}
		if (*s == '\0') {
			break;
		}
		if (*s != ',') {
			return -1;
		}
		s++;
	}
	*count = n;
	return 0;
}

/* curl --resolve syntax; ADDR may be a bracketed IPv6 literal. */
static int parse_resolve(const char *s, struct host_resolve *out, size_t max, size_t *count)
{
	size_t n = 0;

	*count = 0;
	if (s == NULL || *s == '\0') {
		return 0;
	}
	while (*s != '\0') {
		const char *end = strchr(s, ',');
		const char *c1, *c2;
		size_t elen = end ? (size_t)(end - s) : strlen(s);
		size_t hlen, alen;
		char portbuf[8];
		const char *addr;
		uint32_t port;
		unsigned char bin[sizeof(struct in6_addr)];

		if (n >= max || elen == 0) {
			return -1;
		}
		c1 = memchr(s, ':', elen);
		if (c1 == NULL) {
			return -1;
		}
		c2 = memchr(c1 + 1, ':', elen - (size_t)(c1 + 1 - s));
		if (c2 == NULL) {
			return -1;
		}
		hlen = (size_t)(c1 - s);
		if (hlen == 0 || hlen >= sizeof(out[n].host) ||
		    (size_t)(c2 - c1 - 1) == 0 || (size_t)(c2 - c1 - 1) >= sizeof(portbuf)) {
			return -1;
		}
		memcpy(out[n].host, s, hlen);
		out[n].host[hlen] = '\0';
		memcpy(portbuf, c1 + 1, (size_t)(c2 - c1 - 1));
		portbuf[c2 - c1 - 1] = '\0';
		if (parse_u32(portbuf, &port) != 0 || port == 0 || port > 65535) {
			return -1;
		}
		out[n].port = (uint16_t)port;
		addr = c2 + 1;
		alen = elen - (size_t)(addr - s);
		if (alen >= 2 && addr[0] == '[' && addr[alen - 1] == ']') {
			addr++;
			alen -= 2;
		}
		if (alen == 0 || alen >= sizeof(out[n].addr)) {
			return -1;
		}
		memcpy(out[n].addr, addr, alen);
		out[n].addr[alen] = '\0';
		/* Only literals: a name here would need a second resolution nobody asked for. */
		if (inet_pton(AF_INET, out[n].addr, bin) != 1 &&
		    inet_pton(AF_INET6, out[n].addr, bin) != 1) {
			return -1;
		}
		n++;
		if (end == NULL) {
			break;
		}
		s = end + 1;
	}
	*count = n;
	return 0;
}

/* imgtool's version form: X[.Y[.Z]][+B], each part within its header field. */
static int parse_version(const char *s, struct fota_rs_image_version *out)
{
	static const uint32_t max[] = { UINT8_MAX, UINT8_MAX, UINT16_MAX, UINT32_MAX };
	uint32_t part[4] = { 0, 0, 0, 0 };
	size_t i = 0;

	if (s == NULL || *s == '\0') {
		return -1;
	}
	for (;;) {
		char num[16];
		size_t n = strspn(s, "0123456789");

		if (n == 0 || n >= sizeof(num)) {
			return -1;
		}
		memcpy(num, s, n);
		num[n] = '\0';
		if (parse_u32(num, &part[i]) != 0 || part[i] > max[i]) {
			return -1;
		}
		s += n;
		if (*s == '\0') {
			break;
		}
		if (*s == '.' && i < 2) {
			i++;
		} else if (*s == '+' && i < 3) {
			i = 3;
		} else {
			return -1;
		}
		s++;
	}
	out->major = (uint8_t)part[0];
	out->minor = (uint8_t)part[1];
	out->revision = (uint16_t)part[2];
	out->build = part[3];
	return 0;
}

/* "ADDR:SIZE", each decimal or 0x hex, the slot inside the 32-bit space. */
static int parse_slot(const char *s, uint32_t *addr, uint32_t *size)
{
	char buf[32];
	const char *colon;

	if (s == NULL || strlen(s) >= sizeof(buf) || (colon = strchr(s, ':')) == NULL) {
		return -1;
	}
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	if (parse_u32(buf, addr) != 0 || parse_u32(colon + 1, size) != 0 || *size == 0 ||
	    (uint64_t)*addr + *size > (uint64_t)UINT32_MAX + 1) {
		return -1;
	}
	return 0;
}

static int parse_log_level(const char *s, int *out)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
		{ "off", 0 }, { "none", 0 }, { "err", FOTA_RS_LOG_ERR }, { "error", FOTA_RS_LOG_ERR },
		{ "wrn", FOTA_RS_LOG_WRN }, { "warn", FOTA_RS_LOG_WRN },
		{ "inf", FOTA_RS_LOG_INF }, { "info", FOTA_RS_LOG_INF },
		{ "dbg", FOTA_RS_LOG_DBG }, { "debug", FOTA_RS_LOG_DBG },
	};
	uint32_t v;

	if (parse_u32(s, &v) == 0) {
		if (v > FOTA_RS_LOG_DBG) {
			return -1;
		}
		*out = (int)v;
		return 0;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

int fota_rs_host_options_from_env(struct fota_rs_host_options *o)
{
	const char *v;

	if (o == NULL) {
		return -1;
	}
	v = getenv("FOTA_RS_HOST_CRED_DIR");
	if (v != NULL) {
		if (*v == '\0') {
			fprintf(stderr, "fota_rs_host: FOTA_RS_HOST_CRED_DIR is empty\n");
			return -1;
		}
		o->cred_dir = v;
	}
	v = getenv("FOTA_RS_HOST_FLASH");
	if (v != NULL) {
		if (*v == '\0') {
			fprintf(stderr, "fota_rs_host: FOTA_RS_HOST_FLASH is empty\n");
			return -1;
		}
		o->flash_path = v;
	}
	v = getenv("FOTA_RS_HOST_SLOT_SIZE");
	if (v != NULL) {
		uint32_t size;

		if (parse_u32(v, &size) != 0 || size == 0) {
			fprintf(stderr,
				"fota_rs_host: FOTA_RS_HOST_SLOT_SIZE=\"%s\" is not a decimal or "
				"0x-hex size\n", v);
			return -1;
		}
		o->slot_size = size;
	}
	v = getenv("FOTA_RS_HOST_RESOLVE");
	if (v != NULL) {
		struct host_resolve tmp[HOST_MAX_RESOLVE];
		size_t n;

		if (parse_resolve(v, tmp, HOST_MAX_RESOLVE, &n) != 0) {
			fprintf(stderr,
				"fota_rs_host: FOTA_RS_HOST_RESOLVE=\"%s\" is not "
				"HOST:PORT:ADDR[,...] (at most %d entries, ADDR an IP literal)\n",
				v, HOST_MAX_RESOLVE);
			return -1;
		}
		o->resolve = v;
	}
	v = getenv("FOTA_RS_HOST_FALLBACK_SEC_TAGS");
	if (v != NULL) {
		int32_t tmp[HOST_MAX_FALLBACK_TAGS];
		size_t n;

		if (parse_tag_list(v, tmp, HOST_MAX_FALLBACK_TAGS, &n) != 0) {
			fprintf(stderr,
				"fota_rs_host: FOTA_RS_HOST_FALLBACK_SEC_TAGS=\"%s\" is not a "
				"comma-separated list of at most %d integers\n",
				v, HOST_MAX_FALLBACK_TAGS);
			return -1;
		}
		o->fallback_sec_tags = v;
	}
	v = getenv("FOTA_RS_HOST_STATE");
	if (v != NULL) {
		if (*v == '\0') {
			fprintf(stderr, "fota_rs_host: FOTA_RS_HOST_STATE is empty\n");
			return -1;
		}
		o->state_path = v;
	}
	v = getenv("FOTA_RS_HOST_LOG_LEVEL");
	if (v != NULL) {
		int level;

		if (parse_log_level(v, &level) != 0) {
			fprintf(stderr,
				"fota_rs_host: FOTA_RS_HOST_LOG_LEVEL=\"%s\" is not 0-4 or "
				"off/err/wrn/inf/dbg\n", v);
			return -1;
		}
		o->log_level = level;
	}
	v = getenv("FOTA_RS_HOST_RUNNING_VERSION");
	if (v != NULL) {
		struct fota_rs_image_version ver;

		if (parse_version(v, &ver) != 0) {
			fprintf(stderr,
				"fota_rs_host: FOTA_RS_HOST_RUNNING_VERSION=\"%s\" is not "
				"X.Y.Z[+B]\n", v);
			return -1;
		}
		o->running_version = v;
	}
	v = getenv("FOTA_RS_HOST_PRIMARY_SLOT");
	if (v != NULL) {
		uint32_t addr, size;

		if (parse_slot(v, &addr, &size) != 0) {
			fprintf(stderr,
				"fota_rs_host: FOTA_RS_HOST_PRIMARY_SLOT=\"%s\" is not ADDR:SIZE\n",
				v);
			return -1;
		}
		o->primary_addr = addr;
		o->primary_size = size;
	}
	v = getenv("FOTA_RS_HOST_VERIFY_KEY");
	if (v != NULL) {
		if (*v == '\0') {
			fprintf(stderr, "fota_rs_host: FOTA_RS_HOST_VERIFY_KEY is empty\n");
			return -1;
		}
		o->verify_key_path = v;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* configuration                                                      */
/* ------------------------------------------------------------------ */

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

static int open_flash_file(const char *path, uint32_t slot_size)
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

/* Never prompt for a passphrase: an encrypted key is simply refused. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * The key as the core takes it (SubjectPublicKeyInfo DER, what imgtool
 * getpub prints), from a PEM public key or the PEM signing key.
 */
static int load_verify_key(const char *path, uint8_t *der, size_t cap, size_t *len)
{
	EVP_PKEY *pk;
	unsigned char *p = der;
	FILE *f = fopen(path, "r");
	int n;

	if (f == NULL) {
		fprintf(stderr, "fota_rs_host: cannot open verification key %s: %s\n", path,
			strerror(errno));
		return -FOTA_RS_EINVAL;
	}
	pk = PEM_read_PUBKEY(f, NULL, no_passphrase, NULL);
	if (pk == NULL) {
		rewind(f);
		pk = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	}
	fclose(f);
	ERR_clear_error();
	if (pk == NULL) {
		fprintf(stderr, "fota_rs_host: %s is not a PEM public key or unencrypted private "
			"key\n", path);
		return -FOTA_RS_EINVAL;
	}
	n = i2d_PUBKEY(pk, NULL);
	if (EVP_PKEY_base_id(pk) != EVP_PKEY_EC || EVP_PKEY_bits(pk) != 256 || n <= 0 ||
	    (size_t)n > cap) {
		fprintf(stderr, "fota_rs_host: %s is not an ECDSA-P256 key (imgtool keygen -t "
			"ecdsa-p256)\n", path);
		EVP_PKEY_free(pk);
		return -FOTA_RS_EINVAL;
	}
	n = i2d_PUBKEY(pk, &p);
	EVP_PKEY_free(pk);
	if (n <= 0) {
		return -FOTA_RS_EINVAL;
	}
	*len = (size_t)n;
	return 0;
}

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int configure_locked(const struct fota_rs_host_options *o)
{
	struct host_resolve resolve[HOST_MAX_RESOLVE];
	int32_t tags[HOST_MAX_FALLBACK_TAGS];
	size_t nresolve = 0, ntags = 0;
	char *cred_dir = NULL, *flash_path = NULL, *state_path = NULL, *modem_path = NULL;
	struct fota_rs_image_version running;
	uint8_t key[HOST_VERIFY_KEY_MAX];
	size_t key_len = 0;
	int fd;

	if (o == NULL || o->cred_dir == NULL || o->flash_path == NULL) {
		fprintf(stderr, "fota_rs_host: cred_dir and flash_path are required\n");
		return -FOTA_RS_EINVAL;
	}
	if (g.worker_running) {
		fprintf(stderr, "fota_rs_host: cannot reconfigure while a download runs\n");
		return -FOTA_RS_EALREADY;
	}
	/*
	 * write_block above BOOT_MAX_ALIGN cannot hold MCUboot's trailer layout;
	 * 40 bytes is the trailer this port writes.
	 */
	if (!is_pow2(o->write_block) || o->write_block > HOST_BOOT_MAX_ALIGN ||
	    !is_pow2(o->page_size) || o->page_size < o->write_block || o->slot_size == 0 ||
	    o->slot_size % o->page_size != 0 || o->slot_size < 64) {
		fprintf(stderr,
			"fota_rs_host: bad flash geometry: slot 0x%x, page 0x%x, write block %u "
			"(page and write block powers of two, write block <= %d, slot a "
			"multiple of the page)\n",
			(unsigned)o->slot_size, (unsigned)o->page_size, (unsigned)o->write_block,
			HOST_BOOT_MAX_ALIGN);
		return -FOTA_RS_EINVAL;
	}
	if (o->log_level < 0 || o->log_level > FOTA_RS_LOG_DBG) {
		fprintf(stderr, "fota_rs_host: log_level %d out of range 0-4\n", o->log_level);
		return -FOTA_RS_EINVAL;
	}
	if (parse_resolve(o->resolve, resolve, HOST_MAX_RESOLVE, &nresolve) != 0) {
		fprintf(stderr, "fota_rs_host: malformed resolve map \"%s\"\n", o->resolve);
		return -FOTA_RS_EINVAL;
	}
	if (parse_tag_list(o->fallback_sec_tags, tags, HOST_MAX_FALLBACK_TAGS, &ntags) != 0) {
		fprintf(stderr, "fota_rs_host: malformed fallback tag list \"%s\"\n",
			o->fallback_sec_tags);
		return -FOTA_RS_EINVAL;
	}
	if (parse_version(o->running_version != NULL ? o->running_version : "0.0.0",
			  &running) != 0) {
		fprintf(stderr, "fota_rs_host: running version \"%s\" is not X.Y.Z[+B]\n",
			o->running_version);
		return -FOTA_RS_EINVAL;
	}
	if (o->primary_size == 0 || o->ram_size == 0 ||
	    (uint64_t)o->primary_addr + o->primary_size > (uint64_t)UINT32_MAX + 1 ||
	    (uint64_t)o->ram_addr + o->ram_size > (uint64_t)UINT32_MAX + 1) {
		fprintf(stderr, "fota_rs_host: primary slot 0x%x+0x%x or RAM 0x%x+0x%x is empty "
			"or beyond 4 GiB\n", (unsigned)o->primary_addr, (unsigned)o->primary_size,
			(unsigned)o->ram_addr, (unsigned)o->ram_size);
		return -FOTA_RS_EINVAL;
	}
	if (o->verify_key_path != NULL) {
		int rc = load_verify_key(o->verify_key_path, key, sizeof(key), &key_len);

		if (rc != 0) {
			return rc;
		}
	}

	cred_dir = strdup(o->cred_dir);
	flash_path = strdup(o->flash_path);
	if (o->state_path != NULL) {
		state_path = strdup(o->state_path);
	} else if (flash_path != NULL) {
		size_t len = strlen(flash_path) + sizeof(".state");

		state_path = malloc(len);
		if (state_path != NULL) {
			snprintf(state_path, len, "%s.state", flash_path);
		}
	}
	if (flash_path != NULL) {
		size_t len = strlen(flash_path) + sizeof(".modem");

		modem_path = malloc(len);
		if (modem_path != NULL) {
			snprintf(modem_path, len, "%s.modem", flash_path);
		}
	}
	if (cred_dir == NULL || flash_path == NULL || state_path == NULL || modem_path == NULL) {
		free(cred_dir);
		free(flash_path);
		free(state_path);
		free(modem_path);
		return -FOTA_RS_ENOMEM;
	}

	fd = open_flash_file(flash_path, o->slot_size);
	if (fd < 0) {
		free(cred_dir);
		free(flash_path);
		free(state_path);
		free(modem_path);
		return fd;
	}

	/*
	 * OpenSSL writes to the socket without MSG_NOSIGNAL; a peer that hangs up
	 * mid-request must cost an ECONNRESET, not the process. Leave a handler
	 * the program installed alone.
	 */
	{
		struct sigaction sa;

		if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
			signal(SIGPIPE, SIG_IGN);
		}
	}

	pthread_mutex_lock(&g.flash_lock);
	if (g.flash_fd >= 0) {
		close(g.flash_fd);
	}
	g.flash_fd = fd;
	g.slot_size = o->slot_size;
	g.page_size = o->page_size;
	g.write_block = o->write_block;
	pthread_mutex_unlock(&g.flash_lock);

	pthread_mutex_lock(&g.kv_lock);
	free(g.state_path);
	g.state_path = state_path;
	pthread_mutex_unlock(&g.kv_lock);

	free(g.cred_dir);
	g.cred_dir = cred_dir;
	free(g.flash_path);
	g.flash_path = flash_path;
	memcpy(g.resolve, resolve, sizeof(resolve[0]) * nresolve);
	g.resolve_count = nresolve;
	memcpy(g.fallback_tags, tags, sizeof(tags[0]) * ntags);
	g.fallback_count = (uint8_t)ntags;
	g.log_level = o->log_level;
	g.insecure_no_verify = o->insecure_no_verify;
	g.permanent = o->permanent;
	g.retries = o->retries;
	g.socket_timeout_ms = o->socket_timeout_ms;
	g.retry_backoff_ms = o->retry_backoff_ms;
	g.running_version = running;
	g.layout.primary_addr = o->primary_addr;
	g.layout.primary_size = o->primary_size;
	g.layout.ram_addr = o->ram_addr;
	g.layout.ram_size = o->ram_size;
	g.allow_downgrade = o->allow_downgrade;
	g.pipeline_depth = o->pipeline_depth;
	g.deadline_ms = o->deadline_ms;
	memcpy(g.verify_key, key, key_len);
	g.verify_key_len = key_len;
	pthread_mutex_lock(&g.modem_lock);
	free(g.modem_path);
	g.modem_path = modem_path;
	g.modem_erase_ms = o->modem_erase_ms;
	pthread_mutex_unlock(&g.modem_lock);
	g.configured = true;

	host_logf(FOTA_RS_LOG_DBG,
		  "host port: flash %s (slot 0x%x, page 0x%x, wb %u), state %s, creds %s",
		  g.flash_path, (unsigned)g.slot_size, (unsigned)g.page_size,
		  (unsigned)g.write_block, g.state_path, g.cred_dir);
	if (g.insecure_no_verify) {
		host_logf(FOTA_RS_LOG_WRN, "host port: TLS certificate verification DISABLED");
	}
	return 0;
}

int fota_rs_host_configure(const struct fota_rs_host_options *o)
{
	int rc;

	pthread_once(&g_once, host_once_init);
	pthread_mutex_lock(&g.lock);
	rc = configure_locked(o);
	pthread_mutex_unlock(&g.lock);
	return rc;
}

static bool ensure_configured(void)
{
	bool ok;

	pthread_once(&g_once, host_once_init);
	pthread_mutex_lock(&g.lock);
	if (!g.configured) {
		struct fota_rs_host_options o;

		fota_rs_host_options_default(&o);
		if (fota_rs_host_options_from_env(&o) == 0) {
			(void)configure_locked(&o);
		}
	}
	ok = g.configured;
	pthread_mutex_unlock(&g.lock);
	return ok;
}

/* ------------------------------------------------------------------ */
/* network                                                            */
/* ------------------------------------------------------------------ */

static uint64_t deadline_after(uint32_t ms)
{
	return mono_ms() + ms;
}

/* poll()'s timeout argument for a deadline: -1 is forever. */
static int remaining_ms(uint64_t deadline)
{
	uint64_t now;

	if (deadline == NO_DEADLINE) {
		return -1;
	}
	now = mono_ms();
	if (now >= deadline) {
		return 0;
	}
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

/* 1 ready (or hung up: the next read/write reports it), 0 timeout, -errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, remaining_ms(deadline));

		if (r > 0) {
			return 1;
		}
		if (r == 0) {
			return 0;
		}
		if (errno != EINTR) {
			return -errno;
		}
	}
}

static bool is_ip_literal(const char *s)
{
	unsigned char bin[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1;
}

static int conn_alloc(void)
{
	int slot = -1;

	pthread_mutex_lock(&g.lock);
	for (int i = 0; i < HOST_MAX_CONNS; i++) {
		if (!g.conns[i].in_use) {
			memset(&g.conns[i], 0, sizeof(g.conns[i]));
			g.conns[i].in_use = true;
			g.conns[i].fd = -1;
			slot = i;
			break;
		}
	}
	pthread_mutex_unlock(&g.lock);
	return slot;
}

static void conn_release(int slot)
{
	pthread_mutex_lock(&g.lock);
	memset(&g.conns[slot], 0, sizeof(g.conns[slot]));
	g.conns[slot].fd = -1;
	pthread_mutex_unlock(&g.lock);
}

static struct host_conn *conn_get(int32_t handle)
{
	struct host_conn *c = NULL;

	if (handle < 0 || handle >= HOST_MAX_CONNS) {
		return NULL;
	}
	pthread_mutex_lock(&g.lock);
	if (g.conns[handle].in_use && g.conns[handle].fd >= 0) {
		c = &g.conns[handle];
	}
	pthread_mutex_unlock(&g.lock);
	return c;
}

static void addr_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN], serv[8];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, size, "?");
	} else if (sa->sa_family == AF_INET6) {
		snprintf(buf, size, "[%s]:%s", host, serv);
	} else {
		snprintf(buf, size, "%s:%s", host, serv);
	}
}

static int32_t tcp_connect(const struct fota_rs_connect_params *p, uint64_t deadline,
			   struct fota_rs_connect_result *res, int *out_fd)
{
	struct addrinfo hints, *list = NULL, *ai;
	const char *target = p->host;
	char portstr[8], addrbuf[INET6_ADDRSTRLEN + 10] = "";
	int last_err = 0, gai, fd = -1, count = 0, index = 0;

	for (size_t i = 0; i < g.resolve_count; i++) {
		if (g.resolve[i].port == p->port && strcasecmp(g.resolve[i].host, p->host) == 0) {
			target = g.resolve[i].addr;
			host_logf(FOTA_RS_LOG_DBG, "resolve map: %s:%u -> %s", p->host,
				  (unsigned)p->port, target);
			break;
		}
	}

	res->stage = FOTA_RS_CONNECT_STAGE_DNS;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)p->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;
	gai = getaddrinfo(target, portstr, &hints, &list);
	if (gai != 0) {
		set_detail(res, "cannot resolve %s: %s", target,
			   gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -FOTA_RS_EHOSTUNREACH;
	}

	res->stage = FOTA_RS_CONNECT_STAGE_TCP;
	for (ai = list; ai != NULL; ai = ai->ai_next) {
		count++;
	}
	for (ai = list; ai != NULL; ai = ai->ai_next, index++) {
		uint64_t attempt_deadline = deadline;
		int left = remaining_ms(deadline);
		int err = 0;

		if (left == 0) {
			last_err = ETIMEDOUT;
			break;
		}
		/*
		 * Share the budget between addresses so a black-holed IPv6 address
		 * listed first cannot eat the whole timeout.
		 */
		if (left > 0 && index < count - 1) {
			attempt_deadline = mono_ms() + (uint64_t)left / (uint64_t)(count - index);
		}
		addr_text(ai->ai_addr, ai->ai_addrlen, addrbuf, sizeof(addrbuf));
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			last_err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			err = errno;
			if (err == EINPROGRESS) {
				int w = wait_fd(fd, POLLOUT, attempt_deadline);

				if (w == 0) {
					err = ETIMEDOUT;
				} else if (w < 0) {
					err = -w;
				} else {
					socklen_t elen = sizeof(err);

					if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
						err = errno;
					}
				}
			}
		}
		if (err == 0) {
			break;
		}
		host_logf(FOTA_RS_LOG_DBG, "TCP connect to %s: %s", addrbuf, strerror(err));
		last_err = err;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(list);

	if (fd < 0) {
		int32_t rc;

		if (last_err == 0) {
			last_err = EHOSTUNREACH;
		}
		switch (last_err) {
		case ECONNREFUSED:
			rc = -FOTA_RS_ECONNREFUSED;
			break;
		case ETIMEDOUT:
			rc = -FOTA_RS_ETIMEDOUT;
			break;
		default:
			rc = host_errno_to_fota(last_err);
			break;
		}
		set_detail(res, "TCP connect to %s: %s", addrbuf[0] ? addrbuf : target,
			   strerror(last_err));
		return rc;
	}

	{
		/* Requests are tiny and latency-bound: one ranged GET per fragment. */
		int one = 1;

		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	host_logf(FOTA_RS_LOG_DBG, "TCP connected to %s", addrbuf);
	*out_fd = fd;
	return 0;
}

/* "tags 1003,1004; no ca.pem 1005": what the credential store held. */
static void describe_tags(const struct fota_rs_tls *tls, const bool *missing, const bool *bad,
			  char *buf, size_t size)
{
	size_t used = 0;
	bool any_missing = false, any_bad = false;

#define APPEND(...)                                                                        \
	do {                                                                               \
		if (used < size) {                                                         \
			int n_ = snprintf(buf + used, size - used, __VA_ARGS__);           \
			used = n_ < 0 ? size : used + (size_t)n_;                          \
		}                                                                          \
	} while (0)

	buf[0] = '\0';
	if (tls->sec_tag_count == 0 || tls->sec_tags == NULL) {
		APPEND("no sec tags");
		return;
	}
	APPEND("tags ");
	for (uint8_t i = 0; i < tls->sec_tag_count; i++) {
		APPEND("%s%ld", i ? "," : "", (long)tls->sec_tags[i]);
		any_missing |= missing[i];
		any_bad |= bad[i];
	}
	if (any_missing) {
		APPEND("; no ca.pem");
		for (uint8_t i = 0; i < tls->sec_tag_count; i++) {
			if (missing[i]) {
				APPEND(" %ld", (long)tls->sec_tags[i]);
			}
		}
	}
	if (any_bad) {
		APPEND("; bad ca.pem");
		for (uint8_t i = 0; i < tls->sec_tag_count; i++) {
			if (bad[i]) {
				APPEND(" %ld", (long)tls->sec_tags[i]);
			}
		}
	}
#undef APPEND
}

/*
 * "<why> (<tags>)" in the 96-byte detail. The tag list is the part a user
 * acts on (which credential to fix), so when space runs out the reason
 * gives way: first its "certificate " prefix, then its tail.
 */
static void set_tls_detail(struct fota_rs_connect_result *res, const char *why, const char *tags)
{
	static const char prefix[] = "certificate ";
	size_t room = sizeof(res->detail) - 1 - strlen(tags) - 3;

	if (strlen(why) > room && strncmp(why, prefix, sizeof(prefix) - 1) == 0) {
		why += sizeof(prefix) - 1;
	}
	set_detail(res, "%.*s (%s)", (int)(strlen(why) < room ? strlen(why) : room), why, tags);
}

static const char *ssl_error_text(unsigned long e, char *buf, size_t size)
{
	const char *reason = ERR_reason_error_string(e);

	if (reason != NULL) {
		return reason;
	}
	ERR_error_string_n(e, buf, size);
	return buf;
}

/*
 * Handshake like the modem: credentials come only from the tags given, and
 * every failure is ECONNREFUSED. The detail keeps the real reason because
 * "which tag did not work and why" is exactly what the user could not see.
 */
static int32_t tls_connect(struct host_conn *c, const struct fota_rs_connect_params *p,
			   uint64_t deadline, struct fota_rs_connect_result *res)
{
	const struct fota_rs_tls *tls = p->tls;
	bool missing[256] = { false }, bad[256] = { false };
	char tags[64], why[192] = "", errbuf[120];
	bool verify_required;
	const char *name = tls->hostname;
	int rc;

	res->stage = FOTA_RS_CONNECT_STAGE_TLS;
	ERR_clear_error();
	c->sctx = SSL_CTX_new(TLS_client_method());
	if (c->sctx == NULL) {
		set_detail(res, "SSL_CTX_new failed");
		return -FOTA_RS_ENOMEM;
	}
	SSL_CTX_set_min_proto_version(c->sctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(c->sctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* Servers often close without close_notify; the modem calls that a normal EOF. */
	SSL_CTX_set_options(c->sctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif

	for (uint8_t i = 0; tls->sec_tags != NULL && i < tls->sec_tag_count; i++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%ld/ca.pem", g.cred_dir, (long)tls->sec_tags[i]);
		if (access(path, R_OK) != 0) {
			missing[i] = true;
			host_logf(FOTA_RS_LOG_DBG, "sec tag %ld: no %s", (long)tls->sec_tags[i],
				  path);
			continue;
		}
		if (SSL_CTX_load_verify_locations(c->sctx, path, NULL) != 1) {
			bad[i] = true;
			host_logf(FOTA_RS_LOG_WRN, "sec tag %ld: cannot load %s",
				  (long)tls->sec_tags[i], path);
			ERR_clear_error();
			continue;
		}
		host_logf(FOTA_RS_LOG_DBG, "sec tag %ld: loaded %s", (long)tls->sec_tags[i], path);
	}
	describe_tags(tls, missing, bad, tags, sizeof(tags));

	verify_required = tls->peer_verify == FOTA_RS_PEER_VERIFY_REQUIRED &&
			  !g.insecure_no_verify;
	SSL_CTX_set_verify(c->sctx, verify_required ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);

	c->ssl = SSL_new(c->sctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		set_detail(res, "SSL_new failed");
		return -FOTA_RS_ENOMEM;
	}

	if (name != NULL && *name != '\0') {
		if (is_ip_literal(name)) {
			/* SNI must not carry an address (RFC 6066); check the IP SAN instead. */
			rc = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name);
		} else {
			rc = SSL_set_tlsext_host_name(c->ssl, name) == 1 &&
			     SSL_set1_host(c->ssl, name) == 1;
		}
		if (rc != 1) {
			set_detail(res, "cannot set TLS host name \"%.40s\"", name);
			return -FOTA_RS_EINVAL;
		}
	} else if (is_ip_literal(p->host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), p->host) != 1) {
			set_detail(res, "cannot set TLS peer address \"%.40s\"", p->host);
			return -FOTA_RS_EINVAL;
		}
	}

	for (;;) {
		int r, e, w, saved;

		ERR_clear_error();
		errno = 0;
		r = SSL_connect(c->ssl);
		saved = errno;
		if (r == 1) {
			break;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			w = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
			if (w > 0) {
				continue;
			}
			snprintf(why, sizeof(why), "%s", w == 0 ? "handshake timed out"
								   : strerror(-w));
		} else {
			long vr = SSL_get_verify_result(c->ssl);

			if (verify_required && vr == X509_V_ERR_HOSTNAME_MISMATCH) {
				snprintf(why, sizeof(why), "hostname mismatch: %.40s",
					 name ? name : p->host);
			} else if (verify_required && vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
				snprintf(why, sizeof(why), "IP address mismatch: %.40s",
					 name ? name : p->host);
			} else if (verify_required && vr != X509_V_OK) {
				snprintf(why, sizeof(why), "certificate verify failed: %s",
					 X509_verify_cert_error_string(vr));
			} else if (e == SSL_ERROR_SSL) {
				snprintf(why, sizeof(why), "handshake failed: %s",
					 ssl_error_text(ERR_peek_last_error(), errbuf,
							sizeof(errbuf)));
			} else if (e == SSL_ERROR_SYSCALL && saved != 0) {
				snprintf(why, sizeof(why), "handshake I/O: %s", strerror(saved));
			} else {
				snprintf(why, sizeof(why), "peer closed during handshake");
			}
		}
		set_tls_detail(res, why, tags);
		host_logf(FOTA_RS_LOG_DBG, "TLS to %s:%u failed: %s", p->host, (unsigned)p->port,
			  res->detail);
		ERR_clear_error();
		return -FOTA_RS_ECONNREFUSED;
	}

	if (!verify_required) {
		long vr = SSL_get_verify_result(c->ssl);

		if (vr != X509_V_OK) {
			host_logf(FOTA_RS_LOG_WRN, "TLS to %s: certificate not trusted (%s), "
				  "continuing: peer verify not required", p->host,
				  X509_verify_cert_error_string(vr));
		}
	}
	host_logf(FOTA_RS_LOG_DBG, "TLS to %s:%u up: %s %s (%s)", p->host, (unsigned)p->port,
		  SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl), tags);
	return 0;
}

static void conn_teardown(struct host_conn *c)
{
	if (c->ssl != NULL) {
		/* One non-blocking attempt: close_notify is a courtesy, not worth a wait. */
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->sctx != NULL) {
		SSL_CTX_free(c->sctx);
		c->sctx = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	ERR_clear_error();
}

static int32_t host_connect(void *ctx, const struct fota_rs_connect_params *p,
			    struct fota_rs_connect_result *res)
{
	uint64_t deadline;
	struct host_conn *c;
	int32_t rc;
	int slot, fd = -1;

	(void)ctx;
	if (res == NULL) {
		return -FOTA_RS_EINVAL;
	}
	memset(res, 0, sizeof(*res));
	res->handle = -1;
	res->stage = FOTA_RS_CONNECT_STAGE_UNKNOWN;
	if (p == NULL || p->host == NULL || p->host[0] == '\0' || p->port == 0) {
		set_detail(res, "invalid connect parameters");
		return -FOTA_RS_EINVAL;
	}
	if (!g.configured) {
		set_detail(res, "host port not configured");
		return -FOTA_RS_EIO;
	}
	if (p->pdn_id != 0) {
		host_logf(FOTA_RS_LOG_DBG, "PDN %u requested; the host has one network",
			  (unsigned)p->pdn_id);
	}
	deadline = p->timeout_ms ? deadline_after(p->timeout_ms) : NO_DEADLINE;

	slot = conn_alloc();
	if (slot < 0) {
		set_detail(res, "all %d connections in use", HOST_MAX_CONNS);
		return -FOTA_RS_ENOMEM;
	}
	c = &g.conns[slot];

	rc = tcp_connect(p, deadline, res, &fd);
	if (rc != 0) {
		host_logf(FOTA_RS_LOG_DBG, "connect %s:%u failed: %s", p->host, (unsigned)p->port,
			  res->detail);
		conn_release(slot);
		/*
		 * The nRF91 modem does TCP and the handshake in one connect() and
		 * reports a refused port like a refused certificate; so does this
		 * port for TLS sockets, so the core's diagnosis is tested as on a
		 * device. The detail still tells the truth.
		 */
		if (p->tls != NULL && rc == -FOTA_RS_ECONNREFUSED) {
			res->stage = FOTA_RS_CONNECT_STAGE_UNKNOWN;
		}
		return rc;
	}
	c->fd = fd;
	c->io_timeout_ms = p->timeout_ms ? p->timeout_ms : HOST_DEFAULT_IO_TIMEOUT_MS;

	if (p->tls != NULL) {
		rc = tls_connect(c, p, deadline, res);
		if (rc != 0) {
			conn_teardown(c);
			conn_release(slot);
			return rc;
		}
	}
	res->handle = slot;
	res->detail[0] = '\0';
	return 0;
}

/* An SSL I/O error that is not "try again", as a FOTA_RS code. */
static int32_t ssl_io_error(int e, int saved_errno)
{
	char buf[120];

	switch (e) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (saved_errno == 0) {
			/* EOF without close_notify: an ordinary close for an HTTP server. */
			return 0;
		}
		return host_errno_to_fota(saved_errno);
	case SSL_ERROR_SSL: {
		unsigned long ec = ERR_peek_last_error();

#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
		if (ERR_GET_REASON(ec) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			return 0;
		}
#endif
		host_logf(FOTA_RS_LOG_WRN, "TLS stream error: %s",
			  ssl_error_text(ec, buf, sizeof(buf)));
		ERR_clear_error();
		return -FOTA_RS_ECONNRESET;
	}
	default:
		ERR_clear_error();
		return -FOTA_RS_ECONNRESET;
	}
}

static int32_t host_send(void *ctx, int32_t handle, const uint8_t *buf, size_t len)
{
	struct host_conn *c = conn_get(handle);
	uint64_t deadline;

	(void)ctx;
	if (c == NULL) {
		return -FOTA_RS_ENOTCONN;
	}
	if (buf == NULL && len > 0) {
		return -FOTA_RS_EINVAL;
	}
	if (len == 0) {
		return 0;
	}
	if (len > (size_t)INT32_MAX / 2) {
		len = (size_t)INT32_MAX / 2;
	}
	deadline = deadline_after(c->io_timeout_ms);
	for (;;) {
		short want = POLLOUT;
		int w;

		if (c->ssl != NULL) {
			int r, e, saved;

			ERR_clear_error();
			errno = 0;
			r = SSL_write(c->ssl, buf, (int)len);
			saved = errno;
			if (r > 0) {
				return r;
			}
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ) {
				want = POLLIN;
			} else if (e != SSL_ERROR_WANT_WRITE) {
				int32_t rc = ssl_io_error(e, saved);

				/* Nothing may be sent after the peer closed: that is a reset. */
				return rc == 0 ? -FOTA_RS_ECONNRESET : rc;
			}
		} else {
			ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

			if (n > 0) {
				return (int32_t)n;
			}
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				return host_errno_to_fota(errno);
			}
		}
		w = wait_fd(c->fd, want, deadline);
		if (w == 0) {
			return -FOTA_RS_ETIMEDOUT;
		}
		if (w < 0) {
			return host_errno_to_fota(-w);
		}
	}
}

static int32_t host_recv(void *ctx, int32_t handle, uint8_t *buf, size_t len,
			 uint32_t timeout_ms)
{
	struct host_conn *c = conn_get(handle);
	uint64_t deadline;

	(void)ctx;
	if (c == NULL) {
		return -FOTA_RS_ENOTCONN;
	}
	if (buf == NULL || len == 0) {
		return -FOTA_RS_EINVAL;
	}
	if (len > (size_t)INT32_MAX / 2) {
		len = (size_t)INT32_MAX / 2;
	}
	deadline = deadline_after(timeout_ms);
	/*
	 * Read first, wait second: decrypted bytes already inside OpenSSL make
	 * no noise on the socket, so polling first could sleep on ready data.
	 */
	for (;;) {
		short want = POLLIN;
		int w;

		if (c->ssl != NULL) {
			int r, e, saved;

			ERR_clear_error();
			errno = 0;
			r = SSL_read(c->ssl, buf, (int)len);
			saved = errno;
			if (r > 0) {
				return r;
			}
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_WRITE) {
				want = POLLOUT;
			} else if (e != SSL_ERROR_WANT_READ) {
				return ssl_io_error(e, saved);
			}
		} else {
			ssize_t n = recv(c->fd, buf, len, 0);

			if (n >= 0) {
				return (int32_t)n;
			}
			if (errno == EINTR) {
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				return host_errno_to_fota(errno);
			}
		}
		w = wait_fd(c->fd, want, deadline);
		if (w == 0) {
			return -FOTA_RS_ETIMEDOUT;
		}
		if (w < 0) {
			return host_errno_to_fota(-w);
		}
	}
}

static void host_close(void *ctx, int32_t handle)
{
	struct host_conn *c = conn_get(handle);

	(void)ctx;
	if (c == NULL) {
		return;
	}
	conn_teardown(c);
	conn_release(handle);
}

/* ------------------------------------------------------------------ */
/* flash                                                              */
/* ------------------------------------------------------------------ */

static int32_t host_flash_geometry(void *ctx, struct fota_rs_flash_geometry *out)
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

static int32_t host_flash_erase(void *ctx, uint32_t off, uint32_t len)
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

static int32_t host_flash_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len)
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

static int32_t host_flash_read(void *ctx, uint32_t off, uint8_t *data, uint32_t len)
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

static int32_t host_request_upgrade(void *ctx, bool permanent)
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

/* Reads the store into g.kv; a missing file is an empty store. */
static int32_t kv_read(void)
{
	static char text[HOST_KV_MAX_ENTRIES * (HOST_KV_MAX_KEY + 2 + 2 * HOST_KV_MAX_VALUE) +
			 sizeof(kv_header) + 1];
	size_t len = 0;
	char *line;
	int fd;

	g.kv.count = 0;
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

		if (nl == NULL || eq == NULL || eq > nl || g.kv.count >= HOST_KV_MAX_ENTRIES) {
			goto corrupt;
		}
		klen = (size_t)(eq - line);
		hlen = (size_t)(nl - eq - 1);
		if (klen == 0 || klen > HOST_KV_MAX_KEY || hlen % 2 != 0 ||
		    hlen / 2 > HOST_KV_MAX_VALUE) {
			goto corrupt;
		}
		e = &g.kv.e[g.kv.count];
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
		g.kv.count++;
		line = nl + 1;
	}
	return 0;

corrupt:
	host_logf(FOTA_RS_LOG_ERR, "state file %s is corrupt", g.state_path);
	g.kv.count = 0;
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
	for (size_t i = 0; ok && i < g.kv.count; i++) {
		const struct host_kv_entry *e = &g.kv.e[i];

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
	for (size_t i = 0; i < g.kv.count; i++) {
		if (strcmp(g.kv.e[i].key, key) == 0) {
			return &g.kv.e[i];
		}
	}
	return NULL;
}

static int32_t host_kv_load(void *ctx, const char *key, uint8_t *buf, size_t len)
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

static int32_t host_kv_save(void *ctx, const char *key, const uint8_t *buf, size_t len)
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
			if (g.kv.count >= HOST_KV_MAX_ENTRIES) {
				rc = -FOTA_RS_ENOMEM;
			} else {
				e = &g.kv.e[g.kv.count++];
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
static int32_t host_kv_delete(void *ctx, const char *key)
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
			size_t idx = (size_t)(e - g.kv.e);

			memmove(&g.kv.e[idx], &g.kv.e[idx + 1],
				(g.kv.count - idx - 1) * sizeof(g.kv.e[0]));
			g.kv.count--;
			rc = kv_write();
		}
	}
	pthread_mutex_unlock(&g.kv_lock);
	return rc;
}

/* ------------------------------------------------------------------ */
/* time, log, worker                                                  */
/* ------------------------------------------------------------------ */

static uint64_t host_uptime_ms(void *ctx)
{
	(void)ctx;
	pthread_once(&g_once, host_once_init);
	return (mono_ns() - g.t0_ns) / 1000000u;
}

static void host_sleep_ms(void *ctx, uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L };

	(void)ctx;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static void host_log(void *ctx, uint8_t level, const char *msg, size_t len)
{
	(void)ctx;
	if (msg == NULL) {
		return;
	}
	host_emit(level, msg, len);
}

/* Set on the worker thread, where waiting for the worker would wait on itself. */
static _Thread_local bool on_worker_thread;

static void *worker_main(void *unused)
{
	void (*entry)(void *);
	void *arg;

	(void)unused;
	on_worker_thread = true;
	pthread_mutex_lock(&g.lock);
	entry = g.worker_entry;
	arg = g.worker_arg;
	pthread_mutex_unlock(&g.lock);

	entry(arg);
	/* Release this thread's OpenSSL state now, not in a thread-exit hook
	 * that could race with the library's atexit cleanup. */
	OPENSSL_thread_stop();

	pthread_mutex_lock(&g.lock);
	g.worker_running = false;
	g.worker_entry = NULL;
	g.worker_arg = NULL;
	pthread_cond_broadcast(&g.worker_done);
	pthread_mutex_unlock(&g.lock);
	return NULL;
}

static int32_t host_start_worker(void *ctx, void (*entry)(void *arg), void *arg)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err;

	(void)ctx;
	if (entry == NULL) {
		return -FOTA_RS_EINVAL;
	}
	pthread_once(&g_once, host_once_init);
	pthread_mutex_lock(&g.lock);
	/*
	 * The core reports "not busy" once its final callback returns, a moment
	 * before entry() itself returns. A program that starts the next download
	 * as soon as it sees the final event lands in that gap: give the old
	 * worker a bounded moment to finish instead of failing spuriously.
	 */
	if (g.worker_running && !on_worker_thread) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += HOST_WORKER_HANDOVER_S;
		while (g.worker_running &&
		       pthread_cond_timedwait(&g.worker_done, &g.lock, &until) != ETIMEDOUT) {
		}
	}
	if (g.worker_running) {
		pthread_mutex_unlock(&g.lock);
		return -FOTA_RS_EALREADY;
	}
	g.worker_running = true;
	g.worker_entry = entry;
	g.worker_arg = arg;
	if (g.worker_unjoined) {
		/* The previous worker has returned from entry(); reap it. */
		pthread_join(g.worker_tid, NULL);
		g.worker_unjoined = false;
	}
	/*
	 * Joinable, so a program can wait until the thread is entirely gone
	 * (fota_rs_host_wait_idle) before exit() tears the process down. The
	 * lock is held across the creation: the new thread takes it first thing,
	 * so worker_tid is set before anyone can wait for it.
	 */
	pthread_attr_init(&attr);
	err = pthread_create(&tid, &attr, worker_main, NULL);
	pthread_attr_destroy(&attr);
	if (err == 0) {
		g.worker_tid = tid;
		g.worker_unjoined = true;
	}
	pthread_mutex_unlock(&g.lock);
	if (err != 0) {
		pthread_mutex_lock(&g.lock);
		g.worker_running = false;
		g.worker_entry = NULL;
		g.worker_arg = NULL;
		pthread_cond_broadcast(&g.worker_done);
		pthread_mutex_unlock(&g.lock);
		host_logf(FOTA_RS_LOG_ERR, "cannot start worker thread: %s", strerror(err));
		return err == EAGAIN ? -FOTA_RS_ENOMEM : host_errno_to_fota(err);
	}
	return 0;
}

int fota_rs_host_wait_idle(uint32_t timeout_ms)
{
	struct timespec until;
	int rc = 0;

	pthread_once(&g_once, host_once_init);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000u;
	until.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g.lock);
	while (g.worker_running && rc == 0) {
		if (timeout_ms == UINT32_MAX) {
			pthread_cond_wait(&g.worker_done, &g.lock);
		} else {
			int err = pthread_cond_timedwait(&g.worker_done, &g.lock, &until);

			if (err == ETIMEDOUT) {
				rc = g.worker_running ? -1 : 0;
			}
		}
	}
	if (rc == 0 && g.worker_unjoined && !on_worker_thread) {
		g.worker_unjoined = false;
		pthread_join(g.worker_tid, NULL);
	}
	pthread_mutex_unlock(&g.lock);
	return rc;
}

/* ------------------------------------------------------------------ */
/* device facts                                                       */
/* ------------------------------------------------------------------ */

static int32_t host_running_version(void *ctx, struct fota_rs_image_version *out)
{
	(void)ctx;
	if (out == NULL) {
		return -FOTA_RS_EINVAL;
	}
	if (!g.configured) {
		return -FOTA_RS_EIO;
	}
	*out = g.running_version;
	return 0;
}

static int32_t host_device_layout(void *ctx, struct fota_rs_device_layout *out)
{
	(void)ctx;
	if (out == NULL) {
		return -FOTA_RS_EINVAL;
	}
	if (!g.configured) {
		return -FOTA_RS_EIO;
	}
	*out = g.layout;
	return 0;
}

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
static int32_t host_modem_delta_offset(void *ctx, uint32_t *offset)
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

static int32_t host_modem_delta_erase(void *ctx)
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

static int32_t host_modem_delta_write(void *ctx, const uint8_t *data, uint32_t len)
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

static int32_t host_modem_delta_done(void *ctx, bool apply)
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

/* ------------------------------------------------------------------ */
/* table                                                              */
/* ------------------------------------------------------------------ */

static const struct fota_rs_port host_port = {
	.ctx = &g,
	.connect = host_connect,
	.send = host_send,
	.recv = host_recv,
	.close = host_close,
	.flash_geometry = host_flash_geometry,
	.flash_erase = host_flash_erase,
	.flash_write = host_flash_write,
	.flash_read = host_flash_read,
	.request_upgrade = host_request_upgrade,
	.kv_load = host_kv_load,
	.kv_save = host_kv_save,
	.kv_delete = host_kv_delete,
	.uptime_ms = host_uptime_ms,
	.sleep_ms = host_sleep_ms,
	.log = host_log,
	.start_worker = host_start_worker,
	.running_version = host_running_version,
	.device_layout = host_device_layout,
	.modem_delta_offset = host_modem_delta_offset,
	.modem_delta_erase = host_modem_delta_erase,
	.modem_delta_write = host_modem_delta_write,
	.modem_delta_done = host_modem_delta_done,
};

const struct fota_rs_port *fota_rs_platform_port(void)
{
	return ensure_configured() ? &host_port : NULL;
}

void fota_rs_platform_config(struct fota_rs_config *cfg)
{
	/* The core may keep the pointer, so the tags live as long as the process. */
	static int32_t tags[HOST_MAX_FALLBACK_TAGS];

	if (cfg == NULL) {
		return;
	}
	fota_rs_config_default(cfg);
	if (!ensure_configured()) {
		return;
	}
	pthread_mutex_lock(&g.lock);
	memcpy(tags, g.fallback_tags, sizeof(tags[0]) * g.fallback_count);
	if (g.fallback_count > 0) {
		cfg->fallback_sec_tags = tags;
		cfg->fallback_sec_tag_count = g.fallback_count;
	}
	cfg->permanent = g.permanent != 0;
	if (g.retries >= 0) {
		cfg->retries = (uint8_t)(g.retries > 255 ? 255 : g.retries);
	}
	if (g.socket_timeout_ms != 0) {
		cfg->socket_timeout_ms = g.socket_timeout_ms;
	}
	if (g.retry_backoff_ms != 0) {
		cfg->retry_backoff_ms = g.retry_backoff_ms;
	}
	if (g.pipeline_depth != 0) {
		cfg->pipeline_depth = (uint8_t)(g.pipeline_depth > 8 ? 8 : g.pipeline_depth);
	}
	cfg->deadline_ms = g.deadline_ms;
	cfg->allow_downgrade = g.allow_downgrade != 0;
	if (g.verify_key_len > 0) {
		cfg->verify_key = g.verify_key;
		cfg->verify_key_len = g.verify_key_len;
	}
	pthread_mutex_unlock(&g.lock);
}
