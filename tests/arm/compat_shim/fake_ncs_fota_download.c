/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * Stand-in for NCS's own subsys/net/lib/fota_download/src/fota_download.c,
 * for the wrap-mode link in tests/arm/build.sh. With CONFIG_FOTA_DOWNLOAD=y
 * the real one is in the image and defines every fota_download_* symbol;
 * the module then links with -Wl,--wrap=<symbol> so calls reach
 * __wrap_<symbol> in compat/fota_download.c instead. Defining the plain
 * names here reproduces that situation: the link only succeeds if the
 * compat layer, built with FOTA_RS_COMPAT_WRAP_NCS=1, defines the
 * __wrap_ names and not the plain ones.
 *
 * Every function returns -1: if build.sh finds main calling one of these
 * rather than a __wrap_ function, the wrap did not take.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/fota_download.h>

volatile int fake_ncs_reached;

int fota_download_init(fota_download_callback_t client_callback)
{
	(void)client_callback;
	fake_ncs_reached = 1;
	return -1;
}

int fota_download_start(const char *host, const char *file, int sec_tag, uint8_t pdn_id,
			size_t fragment_size)
{
	(void)host;
	(void)file;
	(void)sec_tag;
	(void)pdn_id;
	(void)fragment_size;
	fake_ncs_reached = 1;
	return -1;
}

int fota_download_start_with_image_type(const char *host, const char *file, int sec_tag,
					uint8_t pdn_id, size_t fragment_size,
					const enum dfu_target_image_type expected_type)
{
	(void)host;
	(void)file;
	(void)sec_tag;
	(void)pdn_id;
	(void)fragment_size;
	(void)expected_type;
	fake_ncs_reached = 1;
	return -1;
}

int fota_download_cancel(void)
{
	fake_ncs_reached = 1;
	return -1;
}

int fota_download_target(void)
{
	fake_ncs_reached = 1;
	return -1;
}

/* The compat layer passes this one through to NCS (__real_) in wrap mode. */
int fota_download_s0_active_get(bool *const s0_active)
{
	fake_ncs_reached = 1;
	*s0_active = true;
	return -1;
}
