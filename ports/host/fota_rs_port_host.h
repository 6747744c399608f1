/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host (Linux/POSIX) implementation of struct fota_rs_port.
 *
 * It stands in for an nRF9160 so the Rust core and the NCS compatibility
 * layer can be exercised on a PC: sockets and OpenSSL play the modem's TLS
 * offload (including its habit of reporting every handshake failure as
 * ECONNREFUSED), a file plays the NOR flash of the MCUboot secondary slot
 * (and refuses writes a real part would silently corrupt), and another file
 * plays the settings store.
 */
#ifndef FOTA_RS_PORT_HOST_H_
#define FOTA_RS_PORT_HOST_H_

#include <stdint.h>

#include "fota_rs.h"
#include "fota_rs/port.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fota_rs_host_options {
	/** CA certificates: <cred_dir>/<sec_tag>/ca.pem. Default "./certs". */
	const char *cred_dir;
	/** Secondary slot image file. Default "fota-slot.bin". */
	const char *flash_path;
	/** Default 0x70000. */
	uint32_t slot_size;
	/** Erase unit. Default 4096. */
	uint32_t page_size;
	/** Write unit. Default 4; at most 8 (MCUboot BOOT_MAX_ALIGN). */
	uint32_t write_block;
	/** Key/value store file; NULL means "<flash_path>.state". */
	const char *state_path;
	/** "HOST:PORT:ADDR[,HOST:PORT:ADDR...]" as curl --resolve; NULL for none. */
	const char *resolve;
	/** "1004,1005": fallback TLS tags handed to the core; NULL for none. */
	const char *fallback_sec_tags;
	/** Highest enum fota_rs_log_level printed (0 prints nothing). Default INF. */
	int log_level;
	/** Accept any server certificate. Testing only. Default 0. */
	int insecure_no_verify;
	/** Request a permanent upgrade instead of a test swap. Default 0. */
	int permanent;
	/** Reconnect attempts without progress; -1 keeps the core's default (3). */
	int retries;
	/** Receive/connect timeout in ms; 0 keeps the core's default (30000). */
	uint32_t socket_timeout_ms;
	/** First retry backoff in ms; 0 keeps the core's default (1000). */
	uint32_t retry_backoff_ms;

	/* Device facts for the checks before the upgrade, as on an nRF9160. */

	/** Version of the running image, "X.Y.Z[+B]" as imgtool takes it. Default "0.0.0". */
	const char *running_version;
	/** Absolute MCUboot primary slot. Default 0x0000c000, 0x70000. */
	uint32_t primary_addr;
	uint32_t primary_size;
	/** RAM the image's initial stack pointer must point into. Default 0x20000000, 0x40000. */
	uint32_t ram_addr;
	uint32_t ram_size;
	/** Accept an image that is not newer than running_version. Default 0. */
	int allow_downgrade;
	/**
	 * Simulated modem delta DFU area ("<flash_path>.modem"): how long an
	 * erase takes, in ms. Default 200 (the modem takes seconds).
	 */
	uint32_t modem_erase_ms;
	/**
	 * PEM key images must be signed with: a public key (imgtool getpub -e pem)
	 * or the signing key itself. NULL: no signature check. Loaded by
	 * fota_rs_host_configure(), which fails for anything but ECDSA-P256.
	 */
	const char *verify_key_path;
	/** Most pipelined ranged GETs (1-8); 0 keeps the core's default (6). */
	uint32_t pipeline_depth;
	/** Upper bound for a whole download in ms; 0: none. */
	uint32_t deadline_ms;
	/**
	 * The running image is not confirmed yet (a test swap just booted; on a
	 * device boot_is_img_confirmed() is false): the slot holds the previous
	 * image, and an MCUboot download is refused. Default 0.
	 */
	int running_unconfirmed;
	/** Download an MCUboot image even while the running one is unconfirmed. Default 0. */
	int allow_unconfirmed_overwrite;
	/**
	 * Size ranges so that a response's head and body fit this many bytes
	 * (fota_rs_config.frag_fit); 0: off, ranges of frag_size. Default 0.
	 */
	uint32_t frag_fit;
};

/** Fill o with the defaults listed above. */
void fota_rs_host_options_default(struct fota_rs_host_options *o);

/**
 * Override o from FOTA_RS_HOST_CRED_DIR, FOTA_RS_HOST_FLASH,
 * FOTA_RS_HOST_SLOT_SIZE (decimal or 0x hex), FOTA_RS_HOST_RESOLVE,
 * FOTA_RS_HOST_FALLBACK_SEC_TAGS, FOTA_RS_HOST_STATE,
 * FOTA_RS_HOST_LOG_LEVEL (0-4 or err/wrn/inf/dbg),
 * FOTA_RS_HOST_RUNNING_VERSION (X.Y.Z[+B]), FOTA_RS_HOST_RUNNING_UNCONFIRMED
 * (0 or 1), FOTA_RS_HOST_PRIMARY_SLOT (ADDR:SIZE) and FOTA_RS_HOST_VERIFY_KEY
 * (PEM file).
 * String members then point into the environment.
 * Returns 0, or -1 after printing a message on stderr for a malformed value.
 */
int fota_rs_host_options_from_env(struct fota_rs_host_options *o);

/**
 * Apply o: copies everything it keeps, creates the flash file filled with
 * 0xff when it does not exist and checks an existing one is slot_size bytes.
 * Returns 0, or a negative FOTA_RS_E* code after printing a message on
 * stderr. -FOTA_RS_EALREADY while a download runs: from the start of
 * fota_rs_start() (whose connect runs on its caller's thread) until the
 * worker thread has returned.
 *
 * Safe to call from any thread: a connect copies what it needs (credential
 * directory, resolve map) under the port's lock when it begins. The
 * verification key fota_rs_platform_config() hands out stays valid and
 * unchanged for the life of the process, as the core requires: a new key
 * is stored beside the old ones, which are kept (one allocation of about
 * 140 bytes per distinct key).
 */
int fota_rs_host_configure(const struct fota_rs_host_options *o);

/**
 * The host port table. Configures from defaults and the environment on
 * first use when fota_rs_host_configure() was never called; NULL when that
 * configuration fails (the reason is on stderr).
 */
const struct fota_rs_port *fota_rs_platform_port(void);

/**
 * fota_rs_config_default(cfg), then the fallback TLS tags (static storage,
 * at most 8), permanent, retries, timeouts and check settings of the
 * options.
 */
void fota_rs_platform_config(struct fota_rs_config *cfg);

/**
 * Block until the worker thread started through the port's start_worker
 * has returned. UINT32_MAX waits forever. 0 when idle, -1 on timeout.
 */
int fota_rs_host_wait_idle(uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* FOTA_RS_PORT_HOST_H_ */
