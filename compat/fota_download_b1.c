/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The B1 bootloader's calls of the NCS API: fota_download_s0_active_get() and
 * fota_download_b1_file_parse(), passed through to NCS's own in wrap mode.
 */
#include "ncs_generation.h"
#include "errno_posix.h"

#if defined(FOTA_RS_COMPAT_WRAP_NCS) && FOTA_RS_COMPAT_WRAP_NCS
/*
 * The build wraps every fota_download_* symbol, these included. Which B1
 * slot runs is a question about the device, not the download, and NCS's
 * answer (linked in wrap mode, knowing the partition manager's s0/s1) is
 * the right one: pass the calls through.
 */
#if FOTA_RS_NCS_HAS_S0_ACTIVE_GET
int __real_fota_download_s0_active_get(bool *const s0_active);

int fota_download_s0_active_get(bool *const s0_active)
{
	return __real_fota_download_s0_active_get(s0_active);
}
#endif
#if FOTA_RS_NCS_HAS_B1_FILE_PARSE
int __real_fota_download_b1_file_parse(char *s0_s1_files);

int fota_download_b1_file_parse(char *s0_s1_files)
{
	return __real_fota_download_b1_file_parse(s0_s1_files);
}
#endif
#else /* !FOTA_RS_COMPAT_WRAP_NCS */
#if FOTA_RS_NCS_HAS_S0_ACTIVE_GET || FOTA_RS_NCS_HAS_B1_FILE_PARSE
/* The port's answer; -ENOENT (as NCS without a B1 build) when it has none. */
static int s0_active_of_port(bool *s0_active)
{
	const struct fota_rs_port *port = fota_rs_platform_port();
	int32_t rc;

	if (s0_active == NULL) {
		return -FR_EINVAL;
	}
	if (port == NULL || port->s0_active == NULL) {
		return -FR_ENOENT;
	}
	rc = port->s0_active(port->ctx, s0_active);
	return rc < 0 ? fota_rs_errno_to_posix(rc) : 0;
}
#endif
#if FOTA_RS_NCS_HAS_S0_ACTIVE_GET
int fota_download_s0_active_get(bool *const s0_active)
{
	return s0_active_of_port(s0_active);
}
#endif
#if FOTA_RS_NCS_HAS_B1_FILE_PARSE
/*
 * As NCS's: "s0.bin s1.bin" becomes the file of the slot that does not run
 * (S1's when S0 runs), moved to the front in place. -EOPNOTSUPP without a
 * B1 build, -EIO when the running slot is unknown, -ENOMSG without a space.
 */
int fota_download_b1_file_parse(char *s0_s1_files)
{
	const struct fota_rs_port *port = fota_rs_platform_port();
	bool s0_active = false;
	char *space;

	if (port == NULL || port->s0_active == NULL) {
		return -FR_EOPNOTSUPP;
	}
	if (s0_active_of_port(&s0_active) != 0) {
		return -EIO;
	}
	if (s0_s1_files == NULL) {
		return -FR_ENOEXEC;
	}
	space = s0_s1_files;
	while (*space != '\0' && *space != ' ') {
		space++;
	}
	if (*space == '\0') {
		return -FR_ENOMSG;
	}
	*space = '\0';
	if (s0_active) {
		const char *s1 = space + 1;
		size_t i = 0;

		do {
			s0_s1_files[i] = s1[i];
		} while (s1[i++] != '\0');
	}
	return 0;
}
#endif
#endif /* FOTA_RS_COMPAT_WRAP_NCS */
