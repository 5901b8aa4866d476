// SPDX-License-Identifier: GPL-2.0-only
/*
 * Self-test of the packet builder the bpf and netns suites rely on: if it
 * wrote a wrong length or checksum, a dataplane test could pass or fail for
 * the wrong reason. Each case checks the wire fields independently of the
 * builder's own code paths (checksums verify to zero, lengths add up).
 */
#include <netinet/in.h>
#include <string.h>
#include <criterion/criterion.h>

#include "pktbuild.h"

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Sum of the pseudo-header and the L4 segment: 0 when the checksum is
 * right (pb_csum returns the complement). */
static unsigned l4_verify(int family, const uint8_t *ip, const uint8_t *l4,
			  size_t l4len, uint8_t proto)
{
	uint32_t sum = proto + (uint32_t)l4len;
	const uint8_t *s = family == 4 ? ip + 12 : ip + 8;
	int alen = family == 4 ? 4 : 16;

	for (int i = 0; i < 2 * alen; i += 2)
		sum += (uint32_t)s[i] << 8 | s[i + 1];
	return pb_csum(l4, l4len, sum);
}

Test(pktbuild, ipv4_udp_lengths_and_checksums)
{
	struct pb_frame f = { .ip = { .family = 4, .src = "192.0.2.10",
				      .dst = "198.51.100.53",
				      .proto = IPPROTO_UDP, .sport = 4000,
				      .dport = 53, .payload = 13 } };
	uint8_t b[PB_MAX];
	size_t hend, n = pb_build(&f, b, sizeof(b), &hend);
	const uint8_t *ip = b + 14, *udp = ip + 20;

	cr_assert_eq(n, 14 + 20 + 8 + 13);
	cr_assert_eq(hend, 14 + 20 + 8);
	cr_assert_eq(get16(b + 12), 0x0800);
	cr_assert_eq(ip[0], 0x45);
	cr_assert_eq(get16(ip + 2), 20 + 8 + 13);
	cr_assert_eq(pb_csum(ip, 20, 0), 0, "IPv4 header checksum");
	cr_assert_eq(get16(udp + 2), 53);
	cr_assert_eq(get16(udp + 4), 8 + 13);
	cr_assert_eq(l4_verify(4, ip, udp, 21, IPPROTO_UDP), 0,
		     "UDP checksum");
}

Test(pktbuild, ipv4_options_move_the_l4_header)
{
	struct pb_frame f = { .ip = { .family = 4, .src = "192.0.2.10",
				      .dst = "203.0.113.10",
				      .proto = IPPROTO_TCP, .sport = 40000,
				      .dport = 443, .v4_opt_len = 12 } };
	uint8_t b[PB_MAX];
	size_t hend, n = pb_build(&f, b, sizeof(b), &hend);
	const uint8_t *ip = b + 14, *tcp = ip + 32;

	cr_assert_eq(ip[0], 0x48);
	cr_assert_eq(n, 14 + 32 + 20);
	cr_assert_eq(hend, n);
	cr_assert_eq(pb_csum(ip, 32, 0), 0);
	cr_assert_eq(get16(tcp + 2), 443);
	cr_assert_eq(tcp[13], 0x02, "SYN by default");
	cr_assert_eq(l4_verify(4, ip, tcp, 20, IPPROTO_TCP), 0);
}

Test(pktbuild, ipv4_fragment_fields)
{
	struct pb_frame f = { .ip = { .family = 4, .src = "192.0.2.10",
				      .dst = "203.0.113.10",
				      .proto = IPPROTO_UDP, .frag_off = 185,
				      .more_frags = true } };
	uint8_t b[PB_MAX];

	pb_build(&f, b, sizeof(b), NULL);
	cr_assert_eq(get16(b + 14 + 6), 0x2000 | 185);
}

Test(pktbuild, qinq_tags_in_order)
{
	struct pb_frame f = { .vlans = 2,
			      .ip = { .family = 6, .src = "2001:db8:1::10",
				      .dst = "2001:db8:53::53",
				      .proto = IPPROTO_UDP, .dport = 53 } };
	uint8_t b[PB_MAX];
	size_t n = pb_build(&f, b, sizeof(b), NULL);

	cr_assert_eq(get16(b + 12), 0x88A8);
	cr_assert_eq(get16(b + 16), 0x8100);
	cr_assert_eq(get16(b + 20), 0x86DD);
	cr_assert_eq(n, 22 + 40 + 8);
}

Test(pktbuild, ipv6_extension_chain)
{
	struct pb_frame f = { .ip = { .family = 6, .src = "2001:db8:1::10",
				      .dst = "2001:db8:cafe::10",
				      .proto = IPPROTO_TCP, .dport = 80,
				      .ext = { 0, 43, 60 }, .next = 3 } };
	uint8_t b[PB_MAX];
	size_t hend, n = pb_build(&f, b, sizeof(b), &hend);
	const uint8_t *ip = b + 14, *tcp = ip + 40 + 24;

	cr_assert_eq(n, 14 + 40 + 24 + 20);
	cr_assert_eq(hend, n);
	cr_assert_eq(ip[6], 0, "first next header is hop-by-hop");
	cr_assert_eq(ip[40], 43);
	cr_assert_eq(ip[48], 60);
	cr_assert_eq(ip[56], IPPROTO_TCP);
	cr_assert_eq(get16(ip + 4), 24 + 20, "payload length");
	cr_assert_eq(l4_verify(6, ip, tcp, 20, IPPROTO_TCP), 0);
}

Test(pktbuild, gtpu_gpdu_with_extensions)
{
	struct pb_frame f = {
		.gtpu = true,
		.outer = { .family = 4, .src = "198.51.100.250",
			   .dst = "198.51.100.1" },
		.gtp_ext = 2,
		.ip = { .family = 4, .src = "192.0.2.10", .dst = "203.0.113.10",
			.proto = IPPROTO_TCP, .dport = 80 },
	};
	uint8_t b[PB_MAX];
	size_t hend, n = pb_build(&f, b, sizeof(b), &hend);
	const uint8_t *oip = b + 14, *udp = oip + 20, *g = udp + 8;
	const uint8_t *inner = g + 8 + 4 + 8;

	cr_assert_eq(get16(udp + 2), 2152);
	cr_assert_eq(get16(udp + 4), n - 14 - 20);
	cr_assert_eq(g[0], 0x34, "version 1, PT, E");
	cr_assert_eq(g[1], 255, "G-PDU");
	cr_assert_eq(get16(g + 2), n - 14 - 20 - 8 - 8,
		     "GTP length counts what follows the mandatory header");
	cr_assert_eq(g[11], 0x85);
	cr_assert_eq(g[12], 1);
	cr_assert_eq(g[15], 0x85);
	cr_assert_eq(g[19], 0, "chain ends");
	cr_assert_eq(inner[0], 0x45);
	cr_assert_eq(hend, (size_t)(inner - b) + 20 + 20);
	cr_assert_eq(l4_verify(4, oip, udp, get16(udp + 4), IPPROTO_UDP), 0);
}

Test(pktbuild, gtpu_length_delta)
{
	struct pb_frame f = {
		.gtpu = true,
		.outer = { .family = 6, .src = "2001:db8:ff::1",
			   .dst = "2001:db8:ff::2" },
		.gtp_len_delta = 5,
		.ip = { .family = 6, .src = "2001:db8:1::10",
			.dst = "2001:db8:53::53", .proto = IPPROTO_UDP,
			.dport = 53 },
	};
	uint8_t b[PB_MAX];
	size_t n = pb_build(&f, b, sizeof(b), NULL);
	const uint8_t *g = b + 14 + 40 + 8;

	cr_assert_eq(get16(g + 2), n - 14 - 40 - 8 - 8 + 5);
}
