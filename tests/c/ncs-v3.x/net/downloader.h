/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: the host configuration of NCS 3.x's downloader library, the
 * one type of <net/downloader.h> that <net/fota_download.h> uses.
 *
 * Checked by hand against sdk-nrf 3.1.99 (main) include/net/downloader.h:
 * struct downloader_host_cfg has these members, of these types, in this
 * order.
 */
#ifndef DOWNLOADER_H__
#define DOWNLOADER_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct downloader_host_cfg {
	/* TLS tags; NULL for no TLS. Must stay valid during the download. */
	const int *sec_tag_list;
	/* Entries of sec_tag_list; 0 for no TLS. */
	uint8_t sec_tag_count;
	/* Packet data network; 0 for the default one. */
	uint8_t pdn_id;
	/* Bytes per ranged request; 0 for the whole file in one request. */
	size_t range_override;
	/* TLS in the application instead of the modem. */
	bool set_native_tls;
	/* Keep the connection open after the download. */
	bool keep_connection;
	/* DTLS connection identifier. */
	bool cid;
	/* AF_INET, AF_INET6, or 0 to try IPv6 first. */
	int family;
	/* Called after connecting, to authenticate the client. */
	int (*auth_cb)(int sock);
	/* CoAP Proxy-URI option. */
	const char *proxy_uri;
	/* Most redirects followed; 0 for the configured maximum. */
	uint8_t redirects_max;
};

#endif /* DOWNLOADER_H__ */
