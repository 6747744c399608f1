/* SPDX-License-Identifier: Apache-2.0 */
/* Zephyr port: the MCUboot secondary slot via the flash map, upgrade request, running-image facts. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <zephyr/devicetree.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

/* NCS's partition manager: PM_<PARTITION>_ID / _ADDRESS / _SIZE. When it is
 * enabled, MCUboot and the flash map follow it, not the devicetree. */
#if defined(CONFIG_PARTITION_MANAGER_ENABLED)
#include <pm_config.h>
#endif

#if defined(CONFIG_FOTA_RS_TARGET_MCUBOOT)
#include <zephyr/dfu/mcuboot.h>
#include <zephyr/storage/flash_map.h>
#endif

#include <fota_rs/port.h>
#include "fota_rs/errno_map.h"
#include "zephyr_private.h"

/* The module's log source, registered in port.c. */
LOG_MODULE_DECLARE(fota_rs, CONFIG_FOTA_RS_LOG_LEVEL);

/* ------------------------------------------------------------------------ */
/* Flash: the MCUboot secondary slot                                         */
/* ------------------------------------------------------------------------ */

#if defined(CONFIG_FOTA_RS_TARGET_MCUBOOT)

/* Prefer the partition manager when it is enabled: devicetree and PM can
 * disagree on nRF91, and MCUboot follows PM. Without PM,
 * FIXED_PARTITION_ID (Zephyr >= 3.3) by node label, else the label-based
 * FLASH_AREA_ID of older trees (NCS 2.0 / Zephyr 3.0.99). */
#if defined(CONFIG_PARTITION_MANAGER_ENABLED)
#define FRS_SLOT_ID    PM_MCUBOOT_SECONDARY_ID
#define FRS_PRIMARY_ID PM_MCUBOOT_PRIMARY_ID
#elif defined(FIXED_PARTITION_ID)
#define FRS_SLOT_ID    FIXED_PARTITION_ID(slot1_partition)
#define FRS_PRIMARY_ID FIXED_PARTITION_ID(slot0_partition)
#else
#define FRS_SLOT_ID    FLASH_AREA_ID(image_1)
#define FRS_PRIMARY_ID FLASH_AREA_ID(image_0)
#endif

/* Modes whose secondary slot is not for an application's own update: the
 * build fails here with the reason instead of later, or on the device. */
#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SINGLE_APP)
#error "fota-rs: MCUboot single-slot mode has no secondary slot to download into; set CONFIG_FOTA_RS_TARGET_MCUBOOT=n"
#endif
#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_FIRMWARE_UPDATER)
#error "fota-rs: in MCUboot firmware-updater mode slot1 holds the updater; set CONFIG_FOTA_RS_TARGET_MCUBOOT=n"
#endif

static const struct flash_area *slot_fa;

/* Where the update image starts in the secondary slot. 0, except with
 * MCUboot's swap using offset (Zephyr 4.1+,
 * CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET): there the image starts
 * at the slot's second sector (SWAP_USING_OFFSET_SECTOR_UPDATE_BEGIN) and the
 * first one is MCUboot's during the swap; an image written at 0 is never
 * found. The core sees the slot from slot_start on: every offset below is
 * shifted by it and the size reported shrinks by it, so the trailer stays
 * at the slot's end. Set by frs_port_flash_geometry(), which the core calls
 * before any other flash function of a download. */
static uint32_t slot_start;

static int32_t flash_err(int rc)
{
	return (rc == -EINVAL) ? -FOTA_RS_EINVAL : -FOTA_RS_EIO;
}

static int32_t slot_open(void)
{
	if (slot_fa != NULL) {
		return 0;
	}

	int rc = flash_area_open(FRS_SLOT_ID, &slot_fa);

	if (rc != 0) {
		slot_fa = NULL;
		LOG_ERR("cannot open secondary slot (area %d): %d", (int)FRS_SLOT_ID, rc);
		return -FOTA_RS_EIO;
	}
	return 0;
}

int32_t frs_port_flash_geometry(void *ctx, struct fota_rs_flash_geometry *out)
{
	ARG_UNUSED(ctx);

	int32_t rc = slot_open();

	if (rc != 0) {
		return rc;
	}

	/* Only the first sector is needed: the page size is uniform on the
	 * nRF internal flash. With a one-entry array, flash_area_get_sectors()
	 * fills that entry and then reports -ENOMEM for the rest
	 * (subsys/storage/flash_map/flash_map_layout.c), which is fine here.
	 * Needs CONFIG_FLASH_PAGE_LAYOUT. */
	struct flash_sector first = {0};
	uint32_t count = 1;
	int err = flash_area_get_sectors(FRS_SLOT_ID, &count, &first);

	if ((err != 0 && err != -ENOMEM) || first.fs_size == 0) {
		LOG_ERR("cannot read slot sectors: %d", err);
		return -FOTA_RS_EIO;
	}

#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET)
	/* As Zephyr's flash_img_init_id() does in this mode: the image goes
	 * from the second sector on, and the first is erased before a download
	 * (left over from a swap, it could hold an older image's header). One
	 * sector per download, as each image page is erased per download too. */
	slot_start = (uint32_t)first.fs_size;
	err = flash_area_erase(slot_fa, 0, slot_start);
	if (err != 0) {
		LOG_ERR("cannot erase the slot's first sector: %d", err);
		return flash_err(err);
	}
#else
	slot_start = 0;
#endif
	if ((uint32_t)slot_fa->fa_size <= slot_start) {
		return -FOTA_RS_EIO;
	}
	out->slot_size = (uint32_t)slot_fa->fa_size - slot_start;
	out->page_size = (uint32_t)first.fs_size;
	out->write_block = flash_area_align(slot_fa);
	out->erased_value = flash_area_erased_val(slot_fa);
	return 0;
}

int32_t frs_port_flash_erase(void *ctx, uint32_t off, uint32_t len)
{
	ARG_UNUSED(ctx);

	int32_t rc = slot_open();

	if (rc != 0) {
		return rc;
	}
	int err = flash_area_erase(slot_fa, (off_t)slot_start + (off_t)off, len);

	return err == 0 ? 0 : flash_err(err);
}

int32_t frs_port_flash_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len)
{
	ARG_UNUSED(ctx);

	int32_t rc = slot_open();

	if (rc != 0) {
		return rc;
	}
	int err = flash_area_write(slot_fa, (off_t)slot_start + (off_t)off, data, len);

	return err == 0 ? 0 : flash_err(err);
}

int32_t frs_port_flash_read(void *ctx, uint32_t off, uint8_t *data, uint32_t len)
{
	ARG_UNUSED(ctx);

	int32_t rc = slot_open();

	if (rc != 0) {
		return rc;
	}
	int err = flash_area_read(slot_fa, (off_t)slot_start + (off_t)off, data, len);

	return err == 0 ? 0 : flash_err(err);
}

int32_t frs_port_request_upgrade(void *ctx, bool permanent)
{
	ARG_UNUSED(ctx);

	/* Same call as NCS's dfu_target_mcuboot schedule_update. */
	int err = boot_request_upgrade(permanent ? BOOT_UPGRADE_PERMANENT : BOOT_UPGRADE_TEST);

	if (err != 0) {
		LOG_ERR("boot_request_upgrade: %d", err);
		return -FOTA_RS_EIO;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Device facts: running version, primary slot and RAM                       */
/* ------------------------------------------------------------------------ */

/* The header of the image MCUboot booted from the primary slot: the call
 * NCS's lwm2m_client_utils makes with PM_MCUBOOT_PRIMARY_ID, nRF91
 * non-secure builds included. The header is <zephyr/dfu/mcuboot.h> since
 * Zephyr 3.1 moved public headers under zephyr/ (<dfu/mcuboot.h> before);
 * the struct has only ever had the v1 layout (mcuboot_version == 1). */
int32_t frs_port_running_version(void *ctx, struct fota_rs_image_version *out)
{
	ARG_UNUSED(ctx);

	struct mcuboot_img_header hdr;
	int err = boot_read_bank_header((uint8_t)FRS_PRIMARY_ID, &hdr, sizeof(hdr));

	if (err != 0) {
		LOG_WRN("boot_read_bank_header(primary): %d", err);
		return frs_errno_to_code(err < 0 ? -err : err);
	}
	if (hdr.mcuboot_version != 1) {
		LOG_WRN("unknown MCUboot header format %u", (unsigned int)hdr.mcuboot_version);
		return -FOTA_RS_ENOTSUP;
	}
	out->major = hdr.h.v1.sem_ver.major;
	out->minor = hdr.h.v1.sem_ver.minor;
	out->revision = hdr.h.v1.sem_ver.revision;
	out->build = hdr.h.v1.sem_ver.build_num;
	return 0;
}

/* False after a test swap until the application calls
 * boot_write_img_confirmed(): the secondary slot then holds the previous
 * image, MCUboot's way back. */
int32_t frs_port_running_confirmed(void *ctx, bool *confirmed)
{
	ARG_UNUSED(ctx);

	*confirmed = boot_is_img_confirmed();
	return 0;
}

/*
 * Base address of the flash that holds the primary slot, added to the
 * slot's offset inside that flash.
 *
 * Partition manager: PM_MCUBOOT_PRIMARY_ADDRESS (== fa_off of the area) is
 * already the CPU address, because PM lays out the nRF internal flash
 * (flash_primary region) from address 0. No base is added.
 *
 * Devicetree: a fixed-partitions child's reg is an offset inside its flash
 * node (flash0: flash@0 on nRF, flash@8000000 on STM32), which is the
 * grandparent (partitions { } sits between). Newer trees name the sum
 * DT_FIXED_PARTITION_ADDR(); the grandparent's reg works on all of them.
 */
#if defined(CONFIG_PARTITION_MANAGER_ENABLED)
#define FRS_FLASH_BASE 0U
#elif DT_NODE_EXISTS(DT_NODELABEL(slot0_partition))
#define FRS_FLASH_BASE ((uint32_t)DT_REG_ADDR(DT_GPARENT(DT_NODELABEL(slot0_partition))))
#else
#define FRS_FLASH_BASE ((uint32_t)DT_REG_ADDR(DT_CHOSEN(zephyr_flash)))
#endif

/*
 * RAM the image's initial stack pointer may point into. Normally the chosen
 * zephyr,sram. A non-secure build's chosen SRAM is only its own part
 * (sram0_ns), but the MCUboot image of an NCS non-secure app starts with the
 * secure firmware (TF-M, or SPM up to NCS 2.0) whose vector table, and so
 * whose stack pointer, is in secure RAM. There the whole SRAM (sram0:
 * 0x20000000, 256 KiB on the nRF9160) is what the check may assume.
 */
#if defined(CONFIG_TRUSTED_EXECUTION_NONSECURE) && DT_NODE_EXISTS(DT_NODELABEL(sram0))
#define FRS_RAM_NODE DT_NODELABEL(sram0)
#else
#define FRS_RAM_NODE DT_CHOSEN(zephyr_sram)
#endif

int32_t frs_port_device_layout(void *ctx, struct fota_rs_device_layout *out)
{
	ARG_UNUSED(ctx);

	const struct flash_area *fa;
	int err = flash_area_open(FRS_PRIMARY_ID, &fa);

	if (err != 0) {
		LOG_WRN("cannot open primary slot (area %d): %d", (int)FRS_PRIMARY_ID, err);
		return -FOTA_RS_EIO;
	}
	out->primary_addr = FRS_FLASH_BASE + (uint32_t)fa->fa_off;
	out->primary_size = (uint32_t)fa->fa_size;
	flash_area_close(fa);

	out->ram_addr = (uint32_t)DT_REG_ADDR(FRS_RAM_NODE);
	out->ram_size = (uint32_t)DT_REG_SIZE(FRS_RAM_NODE);
	return 0;
}

#else /* !CONFIG_FOTA_RS_TARGET_MCUBOOT */

static int32_t no_mcuboot(void)
{
	LOG_ERR("no MCUboot target (CONFIG_FOTA_RS_TARGET_MCUBOOT=n)");
	return -FOTA_RS_ENOTSUP;
}

int32_t frs_port_flash_geometry(void *ctx, struct fota_rs_flash_geometry *out)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(out);
	return no_mcuboot();
}

int32_t frs_port_flash_erase(void *ctx, uint32_t off, uint32_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(off);
	ARG_UNUSED(len);
	return no_mcuboot();
}

int32_t frs_port_flash_write(void *ctx, uint32_t off, const uint8_t *data, uint32_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(off);
	ARG_UNUSED(data);
	ARG_UNUSED(len);
	return no_mcuboot();
}

int32_t frs_port_flash_read(void *ctx, uint32_t off, uint8_t *data, uint32_t len)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(off);
	ARG_UNUSED(data);
	ARG_UNUSED(len);
	return no_mcuboot();
}

int32_t frs_port_request_upgrade(void *ctx, bool permanent)
{
	ARG_UNUSED(ctx);
	ARG_UNUSED(permanent);
	return no_mcuboot();
}

#endif /* CONFIG_FOTA_RS_TARGET_MCUBOOT */
