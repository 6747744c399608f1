/* SPDX-License-Identifier: Apache-2.0 */
/* Host port: its options (defaults, FOTA_RS_HOST_* variables) and the configuration they set. */
#include "host_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

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
	o->running_unconfirmed = 0;
	o->allow_unconfirmed_overwrite = 0;
	o->frag_fit = 0;
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
	v = getenv("FOTA_RS_HOST_RUNNING_UNCONFIRMED");
	if (v != NULL) {
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
			fprintf(stderr,
				"fota_rs_host: FOTA_RS_HOST_RUNNING_UNCONFIRMED=\"%s\" is not 0 or 1\n",
				v);
			return -1;
		}
		o->running_unconfirmed = v[0] == '1';
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

/* The stored key with these bytes, made when there is none; NULL without memory. */
static const struct host_key *keep_key(const uint8_t *der, size_t len)
{
	struct host_key *k;

	for (k = g.keys; k != NULL; k = k->next) {
		if (k->len == len && memcmp(k->der, der, len) == 0) {
			return k;
		}
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		return NULL;
	}
	memcpy(k->der, der, len);
	k->len = len;
	k->next = g.keys;
	g.keys = k;
	return k;
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
	const struct host_key *verify_key = NULL;
	int fd;

	if (o == NULL || o->cred_dir == NULL || o->flash_path == NULL) {
		fprintf(stderr, "fota_rs_host: cred_dir and flash_path are required\n");
		return -FOTA_RS_EINVAL;
	}
	/*
	 * fota_rs_busy() covers the connect fota_rs_start() makes on its
	 * caller's thread before the worker exists; worker_running the moment
	 * after the core's final event, before the worker has returned.
	 */
	if (g.worker_running || fota_rs_busy()) {
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
		verify_key = keep_key(key, key_len);
		if (verify_key == NULL) {
			return -FOTA_RS_ENOMEM;
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
	g.running_unconfirmed = o->running_unconfirmed;
	g.allow_unconfirmed_overwrite = o->allow_unconfirmed_overwrite;
	g.pipeline_depth = o->pipeline_depth;
	g.deadline_ms = o->deadline_ms;
	g.frag_fit = o->frag_fit;
	g.verify_key = verify_key;
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

bool ensure_configured(void)
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
