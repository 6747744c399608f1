/* SPDX-License-Identifier: Apache-2.0 */
/* Host port: the state and functions its files share; not part of the SDK. */
#ifndef FOTA_RS_HOST_PRIVATE_H
#define FOTA_RS_HOST_PRIVATE_H

#include "fota_rs_port_host.h"
#include "fota_rs/errno_map.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Hidden: the SDK links these files into one object and localises hidden
 * symbols (scripts/host-sdk.sh), so a program linking the host SDK sees only
 * the public API of fota_rs_port_host.h and compat/fota_rs_platform.h.
 */
#pragma GCC visibility push(hidden)

#define HOST_MAX_RESOLVE 8
#define HOST_MAX_FALLBACK_TAGS 8
/* MCUboot's BOOT_MAX_ALIGN: the trailer layout flash.c writes assumes it. */
#define HOST_BOOT_MAX_ALIGN 8
/* A P-256 SubjectPublicKeyInfo is 91 bytes; room for nothing bigger is needed. */
#define HOST_VERIFY_KEY_MAX 128

/*
 * A verification key as handed to the core, which keeps the pointer for
 * the life of the program (fota_rs_config.verify_key): once made, never
 * changed or freed. Every key configured stays on g.keys.
 */
struct host_key {
	struct host_key *next;
	size_t len;
	uint8_t der[HOST_VERIFY_KEY_MAX];
};

struct host_resolve {
	char host[256];
	uint16_t port;
	char addr[INET6_ADDRSTRLEN];
};

struct host_state {
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

	bool worker_running;
	/* The last worker thread, joined before the next starts and in wait_idle. */
	pthread_t worker_tid;
	bool worker_unjoined;
	void (*worker_entry)(void *arg);
	void *worker_arg;

	/* Device facts and the check settings handed to the core. */
	struct fota_rs_image_version running_version;
	struct fota_rs_device_layout layout;
	int allow_downgrade;
	int running_unconfirmed;
	int allow_unconfirmed_overwrite;
	uint32_t pipeline_depth;
	uint32_t deadline_ms;
	uint32_t frag_fit;
	/* The key configured now (NULL: none), one of the list g.keys. */
	const struct host_key *verify_key;
	struct host_key *keys;

	/* Simulated modem delta DFU area. */
	pthread_mutex_t modem_lock;
	char *modem_path;
	uint32_t modem_erase_ms;
};

/* The host port's state, defined in port.c; the comments above name each field's lock. */
extern struct host_state g;
/* Runs host_once_init once: the clock origin and the worker condition. */
extern pthread_once_t g_once;

/* port.c */
int32_t host_errno_to_fota(int e);

/* options.c: configures from the defaults and FOTA_RS_HOST_* on first use. */
bool ensure_configured(void);

/* worker.c: clock and log */
uint64_t mono_ns(void);
uint64_t mono_ms(void);
void host_once_init(void);
void host_emit(uint8_t level, const char *msg, size_t len);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void host_logf(uint8_t level, const char *fmt, ...);

/* flash.c: an existing slot file of slot_size bytes, or a new erased one; fd or -FOTA_RS_*. */
int open_flash_file(const char *path, uint32_t slot_size);

/* The port table's operations, one group per file. */
int32_t host_connect(void *ctx, const struct fota_rs_connect_params *p,
		     struct fota_rs_connect_result *res);
int32_t host_send(void *ctx, int32_t handle, const uint8_t *buf, size_t len);
int32_t host_recv(void *ctx, int32_t handle, uint8_t *buf, size_t len, uint32_t timeout_ms);
void host_close(void *ctx, int32_t handle);

int32_t host_flash_geometry(void *ctx, struct fota_rs_flash_geometry *out);
int32_t host_flash_erase(void *ctx, uint32_t off, uint32_t len);
int32_t host_flash_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len);
int32_t host_flash_read(void *ctx, uint32_t off, uint8_t *data, uint32_t len);
int32_t host_request_upgrade(void *ctx, bool permanent);

int32_t host_kv_load(void *ctx, const char *key, uint8_t *buf, size_t len);
int32_t host_kv_save(void *ctx, const char *key, const uint8_t *buf, size_t len);
int32_t host_kv_delete(void *ctx, const char *key);

uint64_t host_uptime_ms(void *ctx);
void host_sleep_ms(void *ctx, uint32_t ms);
void host_log(void *ctx, uint8_t level, const char *msg, size_t len);
int32_t host_start_worker(void *ctx, void (*entry)(void *arg), void *arg);

int32_t host_modem_delta_offset(void *ctx, uint32_t *offset);
int32_t host_modem_delta_erase(void *ctx);
int32_t host_modem_delta_write(void *ctx, const uint8_t *data, uint32_t len);
int32_t host_modem_delta_done(void *ctx, bool apply);

#pragma GCC visibility pop

#endif /* FOTA_RS_HOST_PRIVATE_H */
