/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test packet builder: Ethernet with VLAN tags, IPv4 (options, fragments),
 * IPv6 (extension headers), TCP/UDP/ICMP/ICMPv6, and GTP-U G-PDUs around an
 * inner packet. Lengths and checksums are filled in; tests truncate or
 * corrupt the result to make malformed cases.
 */
#ifndef XCRS_PKTBUILD_H
#define XCRS_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_MAX 2048

struct pb_ip {
	int family;	      /* 4 or 6 */
	const char *src, *dst;
	uint8_t proto;	      /* IPPROTO_* of the L4 header */
	uint16_t sport, dport;
	uint8_t tcp_flags;    /* 0 = SYN */
	uint8_t icmp_type;    /* 0 = echo request */
	uint8_t ttl;	      /* TTL / hop limit; 0 = 64 */
	size_t payload;	      /* zero bytes after the L4 header */
	/* IPv4 */
	uint8_t v4_opt_len;   /* option bytes (multiple of 4, <= 40) */
	uint16_t frag_off;    /* IPv4 offset / IPv6 fragment header offset,
			       * in 8-byte units */
	bool more_frags;
	uint32_t ident;	      /* fragments' identification: 0 = 0x1234 */
	/* IPv6: extension headers in order (0, 43, 44, 51, 60) */
	uint8_t ext[10];
	int next;
};

struct pb_frame {
	int vlans;	       /* 0..3 tags; the first is 802.1ad if 2+ */
	uint16_t ethertype;    /* 0 = from the packet's family */
	bool gtpu;	       /* wrap ip in GTP-U over outer */
	struct pb_ip outer;    /* outer UDP/2152 packet (proto, ports set
				* by the builder) */
	uint8_t gtp_type;      /* 0 = G-PDU (255) */
	uint8_t gtp_version;   /* 0 = 1 */
	int gtp_ext;	       /* number of extension headers (4 bytes each) */
	int gtp_len_delta;     /* added to the GTP length field */
	struct pb_ip ip;       /* the subscriber's packet */
};

/* Builds the frame into buf (cap >= PB_MAX). Returns its length; writes
 * the offset where the innermost L4 header ends (headers only, no payload)
 * to *hdr_end if not NULL. Aborts the test process on a bad spec. */
size_t pb_build(const struct pb_frame *f, uint8_t *buf, size_t cap,
		size_t *hdr_end);

/* Builds just an IP packet (no Ethernet), for AF_PACKET-less injection and
 * for GTP payloads. */
size_t pb_build_ip(const struct pb_ip *ip, const uint8_t *l4_payload,
		   size_t plen, uint8_t *buf, size_t cap, size_t *hdr_end);

/* One's-complement checksum over len bytes (network order result). */
uint16_t pb_csum(const void *data, size_t len, uint32_t sum);

/* Hex dump for failure messages: "0000: 01 02 ..." lines into out. */
void pb_hexdump(const uint8_t *buf, size_t len, char *out, size_t outlen);

#endif
