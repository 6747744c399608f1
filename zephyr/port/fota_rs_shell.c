/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * `fota_rs` shell command (CONFIG_FOTA_RS_SHELL), on the native API of
 * include/fota_rs.h:
 *
 *   fota_rs download <url> [sec_tag ...]   start a download (no tag: plain HTTP
 *                                          unless the URL says https)
 *   fota_rs status                         busy?, image type, last failure,
 *                                          unused download thread stack
 *   fota_rs cancel                         stop the running download
 *   fota_rs diag                           the diagnostic text of the last run
 *
 * `download` installs its own event callback (it calls fota_rs_init()), so
 * events of that download go to this shell, not to a fota_download_init()
 * caller such as Memfault, until that caller initialises again.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/shell/shell.h>

#include <fota_rs.h>
/* fota_rs_platform_port() / fota_rs_platform_config(), defined by the port. */
#include "fota_rs_platform.h"
/* frs_worker_stack_unused() */
#include "zephyr_private.h"

#define SHELL_MAX_TAGS 8

/* Values are cast for printf: uint32_t is unsigned long with some toolchains
 * unless Zephyr's stdint override is in effect. */

/* A full URL: scheme, host, port, then path + query (which alone may be
 * CONFIG_FOTA_RS_URL_MAX_LEN). fota_rs_start() copies it, the copy here only
 * gives a clear message for an over-long argument. */
#define SHELL_URL_MAX (sizeof("https://:65535") + CONFIG_FOTA_RS_HOST_MAX_LEN + \
		       CONFIG_FOTA_RS_URL_MAX_LEN)
static char dl_url[SHELL_URL_MAX];
static int32_t dl_tags[SHELL_MAX_TAGS];
static struct fota_rs_config dl_cfg;
/* Shell that started the download; events are printed there. Shell
 * instances are static objects, so the pointer stays valid. */
static const struct shell *dl_shell;
static uint8_t dl_last_pct;

static const char *image_name(uint8_t type)
{
	switch (type) {
	case FOTA_RS_IMAGE_MCUBOOT:
		return "mcuboot";
	case FOTA_RS_IMAGE_MODEM_DELTA:
		return "modem delta";
	case FOTA_RS_IMAGE_FULL_MODEM:
		return "full modem";
	default:
		return "unknown";
	}
}

/* Runs on the download thread. */
static void shell_event(const struct fota_rs_event *evt, void *user)
{
	const struct shell *sh = dl_shell;

	ARG_UNUSED(user);

	if (sh == NULL) {
		return;
	}

	switch (evt->id) {
	case FOTA_RS_EVT_PROGRESS:
		/* Every 10 %: enough to see it move without flooding a UART. */
		if (evt->progress >= dl_last_pct + 10 || evt->progress == 100) {
			dl_last_pct = evt->progress;
			shell_print(sh, "fota_rs: %u%% (%u/%u bytes)", (unsigned int)evt->progress,
				    (unsigned int)evt->offset, (unsigned int)evt->total);
		}
		break;
	case FOTA_RS_EVT_FINISHED:
		shell_print(sh, "fota_rs: download complete (%u bytes), upgrade requested; "
				"reboot to let MCUboot install it", (unsigned int)evt->offset);
		break;
	case FOTA_RS_EVT_ERASE_PENDING:
		shell_print(sh, "fota_rs: erasing the update slot...");
		break;
	case FOTA_RS_EVT_ERASE_DONE:
		shell_print(sh, "fota_rs: erase done");
		break;
	case FOTA_RS_EVT_ERROR:
		shell_error(sh, "fota_rs: failed at %u bytes: %s (cause %u); see 'fota_rs diag'",
			    (unsigned int)evt->offset, fota_rs_strerror(evt->error),
			    (unsigned int)evt->cause);
		break;
	case FOTA_RS_EVT_CANCELLED:
		shell_print(sh, "fota_rs: cancelled at %u bytes", (unsigned int)evt->offset);
		break;
	default:
		break;
	}
}

static int cmd_download(const struct shell *sh, size_t argc, char **argv)
{
	size_t url_len = strlen(argv[1]);
	uint8_t ntags = 0;

	if (fota_rs_busy()) {
		shell_error(sh, "a download is running; 'fota_rs cancel' first");
		return -EALREADY;
	}
	if (url_len >= sizeof(dl_url)) {
		shell_error(sh, "URL longer than %u bytes", (unsigned int)(sizeof(dl_url) - 1));
		return -ENAMETOOLONG;
	}
	for (size_t i = 2; i < argc; i++) {
		char *end;
		long tag = strtol(argv[i], &end, 10);

		if (end == argv[i] || *end != '\0' || tag < 0 || tag > INT32_MAX) {
			shell_error(sh, "bad sec_tag '%s'", argv[i]);
			return -EINVAL;
		}
		if (ntags == SHELL_MAX_TAGS) {
			shell_error(sh, "at most %d sec tags", SHELL_MAX_TAGS);
			return -EINVAL;
		}
		dl_tags[ntags++] = (int32_t)tag;
	}

	memcpy(dl_url, argv[1], url_len + 1);

	/* Re-initialise with this shell's callback; the core is idle here. */
	fota_rs_platform_config(&dl_cfg);
	dl_shell = sh;
	dl_last_pct = 0;

	int32_t rc = fota_rs_init(fota_rs_platform_port(), &dl_cfg, shell_event, NULL);

	if (rc != 0) {
		shell_error(sh, "init failed: %s", fota_rs_strerror(rc));
		return -EIO;
	}

	/* The full URL as both host and file, as Memfault passes it. */
	const struct fota_rs_request req = {
		.host = dl_url,
		.file = dl_url,
		.sec_tags = ntags > 0 ? dl_tags : NULL,
		.sec_tag_count = ntags,
		.pdn_id = 0,
		.frag_size = 0,
		.expected_type = FOTA_RS_IMAGE_ANY,
	};

	rc = fota_rs_start(&req);
	if (rc != 0) {
		shell_error(sh, "start failed: %s; see 'fota_rs diag'", fota_rs_strerror(rc));
		return -EIO;
	}
	shell_print(sh, "fota_rs: download started");
	return 0;
}

static int cmd_status(const struct shell *sh, size_t argc, char **argv)
{
	struct fota_rs_diag d;
	size_t unused;

	ARG_UNUSED(argc);
	ARG_UNUSED(argv);

	shell_print(sh, "busy: %s, image type: %s", fota_rs_busy() ? "yes" : "no",
		    image_name(fota_rs_current_image_type()));

	if (frs_worker_stack_unused(&unused) == 0) {
		/* The high-water mark of the thread that also runs the event
		 * callback: what CONFIG_FOTA_RS_THREAD_STACK_SIZE's help asks
		 * to check on the target. */
		shell_print(sh, "download thread stack: %u of %u bytes never used",
			    (unsigned int)unused, (unsigned int)CONFIG_FOTA_RS_THREAD_STACK_SIZE);
	}

	if (fota_rs_diag_get(&d) != 0) {
		shell_print(sh, "no download has run yet");
		return 0;
	}
	shell_print(sh, "offset: %u bytes, http: %u", (unsigned int)d.offset,
		    (unsigned int)d.http_status);
	if (d.error != 0) {
		shell_print(sh, "last failure: %s at stage %s", fota_rs_strerror(d.error),
			    fota_rs_stage_name(d.stage));
	}
	if (d.tcp_probe == FOTA_RS_TCP_PROBE_PORT_OPEN) {
		shell_print(sh, "TLS was refused but TCP connects: the server certificate "
				"does not validate against the sec tags tried");
	} else if (d.tcp_probe == FOTA_RS_TCP_PROBE_REFUSED) {
		shell_print(sh, "TCP is refused too: nothing listens on that port");
	}
	if (d.working_sec_tag >= 0) {
		shell_print(sh, "working sec tag: %d", (int)d.working_sec_tag);
	}
	return 0;
}

static int cmd_cancel(const struct shell *sh, size_t argc, char **argv)
{
	ARG_UNUSED(argc);
	ARG_UNUSED(argv);

	int32_t rc = fota_rs_cancel();

	if (rc == -FOTA_RS_EAGAIN) {
		shell_print(sh, "nothing to cancel");
		return 0;
	}
	if (rc != 0) {
		shell_error(sh, "cancel failed: %s", fota_rs_strerror(rc));
		return -EIO;
	}
	shell_print(sh, "cancel requested");
	return 0;
}

static int cmd_diag(const struct shell *sh, size_t argc, char **argv)
{
	/* Static: the text can be several hundred bytes and the shell stack
	 * is small. The shell runs one command at a time. */
	static char text[768];

	ARG_UNUSED(argc);
	ARG_UNUSED(argv);

	size_t n = fota_rs_diag_text(text, sizeof(text));

	if (n == 0) {
		shell_print(sh, "no diagnostic yet");
		return 0;
	}
	text[MIN(n, sizeof(text) - 1)] = '\0';
	shell_print(sh, "%s", text);
	return 0;
}

SHELL_STATIC_SUBCMD_SET_CREATE(
	fota_rs_cmds,
	/* mand counts the command name itself: "download <url>" is 2. */
	SHELL_CMD_ARG(download, NULL, "Download and install: <url> [sec_tag ...]", cmd_download,
		      2, SHELL_MAX_TAGS),
	SHELL_CMD_ARG(status, NULL, "Show download state and last failure", cmd_status, 1, 0),
	SHELL_CMD_ARG(cancel, NULL, "Cancel the running download", cmd_cancel, 1, 0),
	SHELL_CMD_ARG(diag, NULL, "Print the diagnostic of the last download", cmd_diag, 1, 0),
	SHELL_SUBCMD_SET_END);

SHELL_CMD_REGISTER(fota_rs, &fota_rs_cmds, "fota-rs firmware download", NULL);
