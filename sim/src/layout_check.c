/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fota-sim mirrors two C structs in Rust (sim/src/main.rs). These checks
 * fail the build when the C side changes and the mirror was not updated.
 */
#include <stddef.h>

#include "fota_rs_port_host.h"
#include <net/fota_download.h>

#define CHECK(cond) _Static_assert(cond, #cond)

CHECK(offsetof(struct fota_rs_host_options, cred_dir) == 0);
CHECK(offsetof(struct fota_rs_host_options, flash_path) == 8);
CHECK(offsetof(struct fota_rs_host_options, slot_size) == 16);
CHECK(offsetof(struct fota_rs_host_options, page_size) == 20);
CHECK(offsetof(struct fota_rs_host_options, write_block) == 24);
CHECK(offsetof(struct fota_rs_host_options, state_path) == 32);
CHECK(offsetof(struct fota_rs_host_options, resolve) == 40);
CHECK(offsetof(struct fota_rs_host_options, fallback_sec_tags) == 48);
CHECK(offsetof(struct fota_rs_host_options, log_level) == 56);
CHECK(offsetof(struct fota_rs_host_options, insecure_no_verify) == 60);
CHECK(offsetof(struct fota_rs_host_options, permanent) == 64);
CHECK(offsetof(struct fota_rs_host_options, retries) == 68);
CHECK(offsetof(struct fota_rs_host_options, socket_timeout_ms) == 72);
CHECK(offsetof(struct fota_rs_host_options, retry_backoff_ms) == 76);
CHECK(offsetof(struct fota_rs_host_options, running_version) == 80);
CHECK(offsetof(struct fota_rs_host_options, primary_addr) == 88);
CHECK(offsetof(struct fota_rs_host_options, primary_size) == 92);
CHECK(offsetof(struct fota_rs_host_options, ram_addr) == 96);
CHECK(offsetof(struct fota_rs_host_options, ram_size) == 100);
CHECK(offsetof(struct fota_rs_host_options, allow_downgrade) == 104);
CHECK(offsetof(struct fota_rs_host_options, modem_erase_ms) == 108);
CHECK(offsetof(struct fota_rs_host_options, verify_key_path) == 112);
CHECK(offsetof(struct fota_rs_host_options, pipeline_depth) == 120);
CHECK(offsetof(struct fota_rs_host_options, deadline_ms) == 124);
CHECK(offsetof(struct fota_rs_host_options, running_unconfirmed) == 128);
CHECK(offsetof(struct fota_rs_host_options, allow_unconfirmed_overwrite) == 132);
CHECK(offsetof(struct fota_rs_host_options, frag_fit) == 136);
CHECK(sizeof(struct fota_rs_host_options) == 144);

CHECK(sizeof(enum fota_download_evt_id) == 4);
CHECK(offsetof(struct fota_download_evt, cause) == 4);
CHECK(offsetof(struct fota_download_evt, progress) == 4);
CHECK(sizeof(struct fota_download_evt) == 8);
CHECK(FOTA_DOWNLOAD_EVT_PROGRESS == 0 && FOTA_DOWNLOAD_EVT_FINISHED == 1 &&
      FOTA_DOWNLOAD_EVT_ERROR == 4 && FOTA_DOWNLOAD_EVT_CANCELLED == 5);
