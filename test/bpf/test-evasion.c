// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dataplane evasion corpus: crafted frames with which a reacted
 * subscriber (quarantined: only DNS and remediation allowed; blocked:
 * nothing) tries to get traffic the level does not allow past the XDP
 * program. Fragments (tiny, overlapping, later), IPv4 options and bad
 * header lengths, IPv6 extension chains at and past the bound, VLAN
 * stacking, GTP-U extension headers, nested and subscriber-made GTP-U,
 * bogus lengths, ICMP errors quoting allowed flows, IPv4-mapped IPv6
 * addresses (as source, and as a destination that must not be an IPv4
 * service), neighbour discovery sent off the link or behind a routing
 * header. Every frame must be
 * dropped, on the instance with GTP-U decapsulation and on the one
 * without; the test prints which rule (statistics reason) caught each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <criterion/criterion.h>

#include "pktbuild.h"
#include "xdptest.h"

#define A XCRS_ROLE_ACCESS
#define C XCRS_ROLE_CORE

static struct dp *dp;
static int level; /* the sender's level in the case being built */

static void setup(void)
{
	cr_assert_eq(xt_open(&dp, XCRS_LEVEL_PASS), 0);
}

static void teardown(void)
{
	dp_close(dp);
	dp = NULL;
}

/* Every verdict the corpus met is one the metrics export: no counter of an
 * (action, reason) pair that abi_reason_possible() rules out moved. */
static void only_possible_pairs(void)
{
	struct dp_stats st;

	cr_assert_eq(dp_stats_read(dp, &st), 0);
	for (int a = 0; a < XCRS_ACT_MAX; a++)
		for (int r = 0; r < XCRS_REASON_MAX; r++)
			if (!abi_reason_possible(a, r))
				cr_expect_eq(st.c[a][r].packets, 0,
					     "%s for %s: a pair the metrics "
					     "leave out",
					     abi_action_name(a),
					     abi_reason_name(r));
}

TestSuite(evasion, .init = setup, .fini = teardown);

static const char *S4(void)
{
	return xt_sub_addr(4, level);
}

static const char *S6(void)
{
	return xt_sub_addr(6, level);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* A frame's IP header (no VLAN tags). */
#define IP_OFF 14

static size_t build(const struct pb_frame *f, uint8_t *b)
{
	return pb_build(f, b, PB_MAX, NULL);
}

static struct pb_frame tcp4(const char *dst, uint16_t port)
{
	struct pb_frame f = { .ip = { .family = 4, .src = S4(), .dst = dst,
				      .proto = IPPROTO_TCP, .sport = 40000,
				      .dport = port } };
	return f;
}

static struct pb_frame udp6(const char *dst, uint16_t port)
{
	struct pb_frame f = { .ip = { .family = 6, .src = S6(), .dst = dst,
				      .proto = IPPROTO_UDP, .sport = 40000,
				      .dport = port } };
	return f;
}

/* ---- the cases: each builds one frame into b and returns its length ---- */

static size_t tiny_first_fragment(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_REMED4, 80);
	size_t n;

	f.ip.more_frags = true;
	f.ip.payload = 32;
	build(&f, b);
	/* only 8 bytes of the TCP header in this fragment */
	put16(b + IP_OFF + 2, 28);
	n = IP_OFF + 28;
	return n;
}

static size_t overlapping_later_fragment(uint8_t *b)
{
	/* offset 8 bytes: rewrites the TCP header's flags and window of a
	 * first fragment that looked like remediation traffic */
	struct pb_frame f = tcp4(XT_REMED4, 80);

	f.ip.frag_off = 1;
	f.ip.payload = 16;
	return build(&f, b);
}

static size_t later_fragment_to_dns(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_DNS4, 53);

	f.ip.proto = IPPROTO_UDP;
	f.ip.frag_off = 185;
	return build(&f, b);
}

static size_t v6_first_fragment_cut(uint8_t *b)
{
	struct pb_frame f = udp6(XT_DNS6, 53);
	uint8_t nh[] = { 44 };

	memcpy(f.ip.ext, nh, sizeof(nh));
	f.ip.next = 1;
	f.ip.more_frags = true;
	f.ip.payload = 40;
	build(&f, b);
	/* fragment header, then 4 bytes of the UDP header */
	put16(b + IP_OFF + 4, 8 + 4);
	return IP_OFF + 40 + 8 + 4;
}

static size_t v6_later_fragment(uint8_t *b)
{
	struct pb_frame f = udp6(XT_DNS6, 53);

	f.ip.ext[0] = 44;
	f.ip.next = 1;
	f.ip.frag_off = 1;
	f.ip.payload = 40;
	return build(&f, b);
}

static size_t v4_options_to_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 22);

	f.ip.v4_opt_len = 40;
	return build(&f, b);
}

static size_t v4_ihl_below_20(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_REMED4, 443);
	size_t n = build(&f, b);

	b[IP_OFF] = 0x44;
	return n;
}

static size_t v6_six_ext_to_other(uint8_t *b)
{
	struct pb_frame f = udp6(XT_OTHER6, 53);
	const uint8_t nh[6] = { 0, 60, 43, 60, 60, 60 };

	memcpy(f.ip.ext, nh, sizeof(nh));
	f.ip.next = 6;
	return build(&f, b);
}

static size_t v6_seven_ext_to_dns(uint8_t *b)
{
	struct pb_frame f = udp6(XT_DNS6, 53);
	const uint8_t nh[7] = { 0, 60, 60, 60, 60, 60, 60 };

	memcpy(f.ip.ext, nh, sizeof(nh));
	f.ip.next = 7;
	return build(&f, b);
}

static size_t v6_ten_ext_to_dns(uint8_t *b)
{
	struct pb_frame f = udp6(XT_DNS6, 53);
	const uint8_t nh[10] = { 0, 43, 60, 60, 60, 60, 60, 60, 60, 60 };

	memcpy(f.ip.ext, nh, sizeof(nh));
	f.ip.next = 10;
	return build(&f, b);
}

static size_t qinq_to_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 445);

	f.vlans = 2;
	return build(&f, b);
}

static struct pb_frame tunnel(struct pb_frame f)
{
	f.gtpu = true;
	f.outer = (struct pb_ip){ .family = 4, .src = XT_GNB4,
				  .dst = XT_UPF4 };
	return f;
}

static size_t gtpu_four_ext_to_other(uint8_t *b)
{
	struct pb_frame f = tunnel(tcp4(XT_OTHER4, 445));

	f.gtp_ext = 4;
	return build(&f, b);
}

static size_t gtpu_five_ext(uint8_t *b)
{
	struct pb_frame f = tunnel(tcp4(XT_REMED4, 443));

	f.gtp_ext = 5;
	return build(&f, b);
}

static size_t gtpu_length_beyond_udp(uint8_t *b)
{
	struct pb_frame f = tunnel(tcp4(XT_REMED4, 443));

	f.gtp_len_delta = 64;
	return build(&f, b);
}

static size_t gtpu_version_2(uint8_t *b)
{
	struct pb_frame f = tunnel(tcp4(XT_REMED4, 443));

	f.gtp_version = 2;
	return build(&f, b);
}

static size_t gtpu_udp_length_short(uint8_t *b)
{
	struct pb_frame f = tunnel(tcp4(XT_REMED4, 443));
	size_t n = build(&f, b);

	put16(b + IP_OFF + 20 + 4, 6); /* outer UDP length < 8 */
	return n;
}

/* A UDP/2152 datagram of the subscriber itself (not a tunnel of the
 * access network) with a G-PDU inside that carries inner, an attacker's
 * packet with any source it likes. */
static size_t own_gtpu(uint8_t *b, const struct pb_ip *inner, uint8_t type)
{
	struct pb_frame f = tcp4(XT_OTHER4, 2152);
	uint8_t in[PB_MAX];
	size_t hdr, ilen = inner ? pb_build_ip(inner, NULL, 0, in, sizeof(in),
					       NULL) : 4,
		    n;

	f.ip.proto = IPPROTO_UDP;
	f.ip.sport = 2152;
	f.ip.payload = 8 + ilen;
	n = pb_build(&f, b, PB_MAX, &hdr);
	b[hdr] = type == 255 ? 0x30 : 0x32;
	b[hdr + 1] = type;
	put16(b + hdr + 2, (uint16_t)ilen);
	memset(b + hdr + 4, 0, 4);
	if (inner)
		memcpy(b + hdr + 8, in, ilen);
	return n;
}

static size_t own_gtpu_echo(uint8_t *b)
{
	return own_gtpu(b, NULL, 1);
}

static size_t own_gpdu_spoofed_inner(uint8_t *b)
{
	/* the inner packet claims a normal subscriber's address */
	struct pb_ip in = { .family = 4, .src = xt_sub_addr(4, L_NORMAL),
			    .dst = XT_OTHER4, .proto = IPPROTO_TCP,
			    .sport = 1, .dport = 445 };

	return own_gtpu(b, &in, 255);
}

static size_t own_gpdu_unknown_inner(uint8_t *b)
{
	/* ... or an address that is nobody's (unknown: default pass) */
	struct pb_ip in = { .family = 4, .src = "198.51.100.200",
			    .dst = XT_OTHER4, .proto = IPPROTO_TCP,
			    .sport = 1, .dport = 445 };

	return own_gtpu(b, &in, 255);
}

static size_t nested_gpdu_in_tunnel(uint8_t *b)
{
	/* the subscriber's tunnelled packet is itself a G-PDU of a normal
	 * subscriber's packet */
	struct pb_ip in = { .family = 4, .src = xt_sub_addr(4, L_NORMAL),
			    .dst = XT_OTHER4, .proto = IPPROTO_TCP,
			    .sport = 1, .dport = 445 };
	uint8_t tmp[PB_MAX], ipkt[PB_MAX];
	size_t n = own_gtpu(tmp, &in, 255), ilen = n - IP_OFF, hdr;
	struct pb_frame f = tunnel(tcp4(XT_OTHER4, 80));

	memcpy(ipkt, tmp + IP_OFF, ilen);
	/* outer tunnel carrying the subscriber's UDP/2152 packet */
	f.ip.proto = IPPROTO_UDP;
	f.ip.payload = 0;
	n = pb_build(&f, b, PB_MAX, &hdr);
	/* replace the inner packet (after the GTP header) */
	{
		size_t gtp = IP_OFF + 20 + 8;

		memcpy(b + gtp + 8, ipkt, ilen);
		put16(b + gtp + 2, (uint16_t)ilen);
		n = gtp + 8 + ilen;
		put16(b + IP_OFF + 2, (uint16_t)(n - IP_OFF));
		put16(b + IP_OFF + 20 + 4, (uint16_t)(n - IP_OFF - 20));
	}
	return n;
}

static size_t v4_total_beyond_frame(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 445);
	size_t n = build(&f, b);

	put16(b + IP_OFF + 2, 1400);
	return n;
}

static size_t v4_total_short_of_tcp(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_REMED4, 80);
	size_t n;

	f.ip.payload = 40;
	n = build(&f, b);
	put16(b + IP_OFF + 2, 20 + 12);
	return n;
}

static size_t v6_payload_length_zero(uint8_t *b)
{
	struct pb_frame f = udp6(XT_DNS6, 53);
	size_t n = build(&f, b);

	put16(b + IP_OFF + 4, 0);
	return n;
}

static size_t v4_cut_inside_tcp(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_REMED4, 443);

	build(&f, b);
	return IP_OFF + 20 + 12;
}

static size_t icmp_error_quoting_dns(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_DNS4, 0);
	struct pb_ip q = { .family = 4, .src = XT_DNS4, .dst = S4(),
			   .proto = IPPROTO_UDP, .sport = 53,
			   .dport = 40000 };
	size_t hdr, n;
	uint8_t quoted[PB_MAX];
	size_t ql = pb_build_ip(&q, NULL, 0, quoted, sizeof(quoted), NULL);

	f.ip.proto = IPPROTO_ICMP;
	f.ip.icmp_type = 3; /* destination unreachable */
	f.ip.payload = ql;
	n = pb_build(&f, b, PB_MAX, &hdr);
	memcpy(b + hdr, quoted, ql);
	return n;
}

static size_t icmp6_error_quoting_dns(uint8_t *b)
{
	struct pb_frame f = udp6(XT_DNS6, 0);
	struct pb_ip q = { .family = 6, .src = XT_DNS6, .dst = S6(),
			   .proto = IPPROTO_UDP, .sport = 53,
			   .dport = 40000 };
	size_t hdr, n;
	uint8_t quoted[PB_MAX];
	size_t ql = pb_build_ip(&q, NULL, 0, quoted, sizeof(quoted), NULL);

	f.ip.proto = IPPROTO_ICMPV6;
	f.ip.icmp_type = 2; /* packet too big */
	f.ip.payload = ql;
	n = pb_build(&f, b, PB_MAX, &hdr);
	memcpy(b + hdr, quoted, ql);
	return n;
}

/* An ICMP error from the subscriber to `to` quoting (qs -> qd, proto,
 * ports), the quote cut to qcut bytes (0: whole). */
static size_t icmp_err(uint8_t *b, int fam, const char *to, const char *qs,
		       const char *qd, uint8_t proto, uint16_t qsport,
		       uint16_t qdport, size_t qcut)
{
	struct pb_frame f = fam == 4 ? tcp4(to, 0) : udp6(to, 0);
	struct pb_ip q = { .family = fam, .src = qs, .dst = qd,
			   .proto = proto, .sport = qsport, .dport = qdport };
	size_t hdr, n;
	uint8_t quoted[PB_MAX];
	size_t ql = pb_build_ip(&q, NULL, 0, quoted, sizeof(quoted), NULL);

	if (qcut && qcut < ql)
		ql = qcut;
	f.ip.proto = fam == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	f.ip.icmp_type = fam == 4 ? 3 : 1; /* unreachable */
	f.ip.payload = ql;
	n = pb_build(&f, b, PB_MAX, &hdr);
	memcpy(b + hdr, quoted, ql);
	return n;
}

/* The quote is a DNS answer to the subscriber, the error goes to another
 * address than the DNS server: a channel to anywhere. */
static size_t icmp_error_elsewhere(uint8_t *b)
{
	return icmp_err(b, 4, XT_OTHER4, XT_DNS4, S4(), IPPROTO_UDP, 53,
			40000, 0);
}

/* The quote is another terminal's flow. */
static size_t icmp_error_other_terminal(uint8_t *b)
{
	return icmp_err(b, 4, XT_DNS4, XT_DNS4, "192.0.2.77", IPPROTO_UDP, 53,
			40000, 0);
}

/* The quote is a flow of a service the level does not allow. */
static size_t icmp_error_quoting_other_service(uint8_t *b)
{
	return icmp_err(b, 4, XT_OTHER4, XT_OTHER4, S4(), IPPROTO_TCP, 445,
			40000, 0);
}

/* The quote is cut before its ports. */
static size_t icmp_error_quote_cut(uint8_t *b)
{
	return icmp_err(b, 4, XT_DNS4, XT_DNS4, S4(), IPPROTO_UDP, 53, 40000,
			22);
}

static size_t icmp6_error_elsewhere(uint8_t *b)
{
	return icmp_err(b, 6, XT_OTHER6, XT_DNS6, S6(), IPPROTO_UDP, 53,
			40000, 0);
}

static size_t v4_mapped_source(uint8_t *b)
{
	char src[64];
	struct pb_frame f = udp6(XT_OTHER6, 445);

	snprintf(src, sizeof(src), "::ffff:%s", S4());
	f.ip.src = src;
	return build(&f, b);
}

static size_t nd_solicitation_off_link(uint8_t *b)
{
	struct pb_frame f = udp6(XT_WEB6, 0);

	f.ip.proto = IPPROTO_ICMPV6;
	f.ip.icmp_type = 135;
	f.ip.ttl = 255;
	f.ip.payload = 200; /* room for anything */
	return build(&f, b);
}

static size_t nd_advert_to_global(uint8_t *b)
{
	struct pb_frame f = udp6(XT_OTHER6, 0);

	f.ip.proto = IPPROTO_ICMPV6;
	f.ip.icmp_type = 136;
	f.ip.ttl = 255;
	f.ip.payload = 24;
	return build(&f, b);
}

/* IPv6 to the DNS server's IPv4 address in mapped form: on the wire it
 * is an IPv6 address no IPv4 service has. */
static size_t v6_to_mapped_dns(uint8_t *b)
{
	struct pb_frame f = udp6("::ffff:" XT_DNS4, 53);

	return build(&f, b);
}

/* The same from a quarantined subscriber's IPv6 to the remediation
 * server's mapped address, TCP 80. */
static size_t v6_to_mapped_remediation(uint8_t *b)
{
	struct pb_frame f = udp6("::ffff:" XT_REMED4, 80);

	f.ip.proto = IPPROTO_TCP;
	return build(&f, b);
}

/* A neighbour solicitation (hop limit 255, to a solicited-node multicast
 * address) behind a routing header: a router with segment routing sends
 * it on, off the link. */
static size_t nd_behind_routing_header(uint8_t *b)
{
	struct pb_frame f = udp6("ff02::1:ff00:1", 0);

	f.ip.proto = IPPROTO_ICMPV6;
	f.ip.icmp_type = 135;
	f.ip.ttl = 255;
	f.ip.payload = 24;
	f.ip.ext[0] = 43;
	f.ip.next = 1;
	return build(&f, b);
}

static size_t ethertype_v4_carrying_v6(uint8_t *b)
{
	struct pb_frame f = udp6(XT_DNS6, 53);

	f.ethertype = 0x0800;
	return build(&f, b);
}

static size_t ethertype_v6_carrying_v4(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_REMED4, 443);

	f.ethertype = 0x86dd;
	return build(&f, b);
}

static size_t udp_to_remediation_port(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_REMED4, 80);

	f.ip.proto = IPPROTO_UDP;
	return build(&f, b);
}

static size_t established_tcp_to_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 445);

	f.ip.tcp_flags = 0x10; /* ACK: not a new flow */
	return build(&f, b);
}

static size_t downlink_from_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 445);

	f.ip.src = XT_OTHER4;
	f.ip.dst = S4();
	f.ip.sport = 445;
	f.ip.dport = 40000;
	return build(&f, b);
}

/* ---- encapsulations between Ethernet and IP, and IP in IP ---- */

/* Puts hdr (hlen bytes) between the MAC addresses and the frame's
 * ethertype field, which becomes etype; hdr ends where the packet's
 * own ethertype (or, for MPLS, the packet) follows. */
static size_t l2_wrap(uint8_t *b, size_t n, uint16_t etype, const uint8_t *hdr,
		      size_t hlen)
{
	memmove(b + 12 + hlen, b + 12, n - 12);
	memcpy(b + 12, hdr, hlen);
	put16(b + 12, etype);
	return n + hlen;
}

/* An MPLS label stack of n labels (the last with bottom-of-stack). */
static size_t mpls(uint8_t *b, size_t len, int n)
{
	uint8_t h[2 + 4 * 8];

	for (int i = 0; i < n; i++) {
		uint8_t *l = h + 2 + 4 * i;

		l[0] = 0x01; /* label 16 + i */
		l[1] = (uint8_t)(i << 4);
		l[2] = i == n - 1 ? 0x01 : 0x00;
		l[3] = 64;
	}
	/* the ethertype field is dropped: MPLS carries none */
	memmove(b + 12, b + 14, len - 14);
	len -= 2;
	return l2_wrap(b, len, 0x8847, h, 2 + 4 * (size_t)n);
}

static size_t mpls_to_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 445);

	return mpls(b, build(&f, b), 1);
}

static size_t mpls3_v6_to_other(uint8_t *b)
{
	struct pb_frame f = udp6(XT_OTHER6, 53);

	return mpls(b, build(&f, b), 3);
}

static size_t mpls_too_deep(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_DNS4, 53);

	f.ip.proto = IPPROTO_UDP;
	return mpls(b, build(&f, b), 7);
}

static size_t pppoe(uint8_t *b, size_t n, uint16_t ppp)
{
	/* version 1 type 1, code 0 (session), session 0x0042, length */
	uint8_t h[10] = { 0, 0, 0x11, 0x00, 0x00, 0x42 };

	put16(h + 6, (uint16_t)(n - 14 + 2));
	put16(h + 8, ppp);
	/* the packet's ethertype field becomes PPP's protocol */
	memmove(b + 12, b + 14, n - 14);
	n -= 2;
	return l2_wrap(b, n, 0x8864, h, 10);
}

static size_t pppoe_to_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 445);

	return pppoe(b, build(&f, b), 0x0021);
}

static size_t pppoe_v6_to_other(uint8_t *b)
{
	struct pb_frame f = udp6(XT_OTHER6, 53);

	return pppoe(b, build(&f, b), 0x0057);
}

static size_t tag_9100_to_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 445);
	uint8_t h[4] = { 0, 0, 0x00, 0x07 };
	size_t n = build(&f, b);

	/* tag: TPID 0x9100, TCI 7, then the packet's ethertype */
	return l2_wrap(b, n, 0x9100, h, 4);
}

static size_t three_tags_to_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 445);

	f.vlans = 3;
	return build(&f, b);
}

static size_t seven_tags_to_dns(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_DNS4, 53);
	uint8_t h[4] = { 0, 0, 0x00, 0x07 };
	size_t n;

	f.ip.proto = IPPROTO_UDP;
	f.vlans = 3;
	n = build(&f, b);
	for (int i = 0; i < 4; i++)
		n = l2_wrap(b, n, 0x8100, h, 4);
	return n;
}

static size_t pppoe_tagged_to_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 445);
	uint8_t h[4] = { 0, 0, 0x00, 0x07 };
	size_t n = pppoe(b, build(&f, b), 0x0021);

	/* a VLAN tag in front of the PPPoE session */
	return l2_wrap(b, n, 0x8100, h, 4);
}

/* IP carrying IP (or GRE, ESP, AH): judged by the outer packet, whose
 * protocol is no service's. */
static size_t ip_proto(uint8_t *b, int fam, const char *dst, uint8_t proto)
{
	struct pb_frame f = fam == 4 ? tcp4(dst, 0) : udp6(dst, 0);

	f.ip.proto = proto;
	f.ip.payload = 48;
	return build(&f, b);
}

static size_t ipip_to_dns(uint8_t *b)
{
	return ip_proto(b, 4, XT_DNS4, 4);
}

static size_t gre_to_dns(uint8_t *b)
{
	return ip_proto(b, 4, XT_DNS4, 47);
}

static size_t sixin4_to_dns(uint8_t *b)
{
	return ip_proto(b, 4, XT_DNS4, 41);
}

static size_t fourin6_to_dns(uint8_t *b)
{
	return ip_proto(b, 6, XT_DNS6, 4);
}

static size_t sixin6_to_dns(uint8_t *b)
{
	return ip_proto(b, 6, XT_DNS6, 41);
}

static size_t esp_to_dns(uint8_t *b)
{
	return ip_proto(b, 4, XT_DNS4, 50);
}

static size_t ah4_to_dns(uint8_t *b)
{
	return ip_proto(b, 4, XT_DNS4, 51);
}

static size_t ah6_then_tcp_to_other(uint8_t *b)
{
	struct pb_frame f = udp6(XT_OTHER6, 0);

	f.ip.proto = IPPROTO_TCP;
	f.ip.dport = 445;
	f.ip.ext[0] = 51;
	f.ip.next = 1;
	return build(&f, b);
}

/* IPv6 jumbogram: payload length 0 and a hop-by-hop jumbo option; no
 * XDP frame is that long, so the headers cannot be trusted. */
static size_t jumbo_to_dns(uint8_t *b)
{
	struct pb_frame f = udp6(XT_DNS6, 53);
	size_t n;

	f.ip.ext[0] = 0;
	f.ip.next = 1;
	n = build(&f, b);
	put16(b + IP_OFF + 4, 0);
	/* option 0xC2, length 4, jumbo payload length */
	b[IP_OFF + 40 + 2] = 0xc2;
	b[IP_OFF + 40 + 3] = 4;
	b[IP_OFF + 40 + 6] = 0x01;
	b[IP_OFF + 40 + 7] = 0x00;
	return n;
}

/* An atomic fragment (offset 0, no more fragments): a whole packet. */
static size_t atomic_fragment_to_other(uint8_t *b)
{
	struct pb_frame f = udp6(XT_OTHER6, 53);

	f.ip.ext[0] = 44;
	f.ip.next = 1;
	return build(&f, b);
}

static size_t zero_length_udp_to_other(uint8_t *b)
{
	struct pb_frame f = tcp4(XT_OTHER4, 137);
	size_t n;

	f.ip.proto = IPPROTO_UDP;
	n = build(&f, b);
	put16(b + IP_OFF + 20 + 4, 0); /* UDP length 0 */
	return n;
}

struct ecase {
	const char *name;
	size_t (*make)(uint8_t *b);
	int role;
	bool gtpu_only; /* meaningful only where GTP-U is decapsulated */
};

static const struct ecase cases[] = {
	{ "IPv4 tiny first fragment (8 bytes of TCP) to remediation",
	  tiny_first_fragment, A, false },
	{ "IPv4 later fragment overlapping the TCP header",
	  overlapping_later_fragment, A, false },
	{ "IPv4 later fragment to the DNS server", later_fragment_to_dns, A,
	  false },
	{ "IPv6 first fragment, UDP header cut", v6_first_fragment_cut, A,
	  false },
	{ "IPv6 later fragment to the DNS server", v6_later_fragment, A,
	  false },
	{ "IPv4 with 40 option bytes to tcp/22", v4_options_to_other, A,
	  false },
	{ "IPv4 header length below 20", v4_ihl_below_20, A, false },
	{ "IPv6, 6 extension headers (the bound), other service",
	  v6_six_ext_to_other, A, false },
	{ "IPv6, 7 extension headers, UDP to the DNS server",
	  v6_seven_ext_to_dns, A, false },
	{ "IPv6, 10 extension headers, UDP to the DNS server",
	  v6_ten_ext_to_dns, A, false },
	{ "QinQ (two tags), other service", qinq_to_other, A, false },
	{ "GTP-U, 4 extension headers (the bound), other service",
	  gtpu_four_ext_to_other, A, true },
	{ "GTP-U, 5 extension headers", gtpu_five_ext, A, true },
	{ "GTP-U length beyond the UDP payload", gtpu_length_beyond_udp, A,
	  true },
	{ "GTP-U version 2 header", gtpu_version_2, A, true },
	{ "GTP-U outer UDP length below 8", gtpu_udp_length_short, A, true },
	{ "the subscriber's own UDP/2152 'echo request'", own_gtpu_echo, A,
	  false },
	{ "the subscriber's own G-PDU, inner source a normal subscriber",
	  own_gpdu_spoofed_inner, A, false },
	{ "the subscriber's own G-PDU, inner source nobody's",
	  own_gpdu_unknown_inner, A, false },
	{ "nested G-PDU inside the subscriber's tunnel",
	  nested_gpdu_in_tunnel, A, true },
	{ "IPv4 total length beyond the frame", v4_total_beyond_frame, A,
	  false },
	{ "IPv4 total length short of the TCP header", v4_total_short_of_tcp,
	  A, false },
	{ "IPv6 payload length 0, UDP to the DNS server",
	  v6_payload_length_zero, A, false },
	{ "IPv4 frame cut inside the TCP header", v4_cut_inside_tcp, A,
	  false },
	{ "ICMP error quoting a DNS answer, sent to another address",
	  icmp_error_elsewhere, A, false },
	{ "ICMP error quoting another terminal's DNS answer",
	  icmp_error_other_terminal, A, false },
	{ "ICMP error quoting a flow of a service not allowed",
	  icmp_error_quoting_other_service, A, false },
	{ "ICMP error whose quote is cut before the ports",
	  icmp_error_quote_cut, A, false },
	{ "ICMPv6 error quoting a DNS answer, sent to another address",
	  icmp6_error_elsewhere, A, false },
	{ "IPv6 from the subscriber's IPv4-mapped address",
	  v4_mapped_source, A, false },
	{ "neighbour solicitation (hop limit 255) to an Internet address",
	  nd_solicitation_off_link, A, false },
	{ "neighbour advertisement to a global address", nd_advert_to_global,
	  A, false },
	{ "IPv6 UDP to the DNS server's IPv4-mapped address",
	  v6_to_mapped_dns, A, false },
	{ "IPv6 TCP to the remediation server's IPv4-mapped address",
	  v6_to_mapped_remediation, A, false },
	{ "neighbour solicitation behind a routing header",
	  nd_behind_routing_header, A, false },
	{ "ethertype IPv4 carrying an IPv6 header", ethertype_v4_carrying_v6,
	  A, false },
	{ "ethertype IPv6 carrying an IPv4 header", ethertype_v6_carrying_v4,
	  A, false },
	{ "UDP to the remediation server's TCP port", udp_to_remediation_port,
	  A, false },
	{ "established TCP (ACK) to another service",
	  established_tcp_to_other, A, false },
	{ "downlink from another service (core side)", downlink_from_other, C,
	  false },
	{ "MPLS, one label, other service", mpls_to_other, A, false },
	{ "MPLS, three labels, IPv6 other service", mpls3_v6_to_other, A,
	  false },
	{ "MPLS, seven labels, UDP to the DNS server", mpls_too_deep, A,
	  false },
	{ "PPPoE session, IPv4 other service", pppoe_to_other, A, false },
	{ "PPPoE session, IPv6 other service", pppoe_v6_to_other, A, false },
	{ "VLAN tag then PPPoE session, other service", pppoe_tagged_to_other,
	  A, false },
	{ "TPID 0x9100 tag, other service", tag_9100_to_other, A, false },
	{ "three VLAN tags, other service", three_tags_to_other, A, false },
	{ "seven VLAN tags, UDP to the DNS server", seven_tags_to_dns, A,
	  false },
	{ "IPIP to the DNS server's address", ipip_to_dns, A, false },
	{ "GRE to the DNS server's address", gre_to_dns, A, false },
	{ "6in4 to the DNS server's address", sixin4_to_dns, A, false },
	{ "4in6 to the DNS server's address", fourin6_to_dns, A, false },
	{ "6in6 to the DNS server's address", sixin6_to_dns, A, false },
	{ "ESP to the DNS server's address", esp_to_dns, A, false },
	{ "IPv4 AH to the DNS server's address", ah4_to_dns, A, false },
	{ "IPv6 AH header, then TCP to another service",
	  ah6_then_tcp_to_other, A, false },
	{ "IPv6 jumbogram (payload length 0) to the DNS server",
	  jumbo_to_dns, A, false },
	{ "IPv6 atomic fragment, UDP to another service",
	  atomic_fragment_to_other, A, false },
	{ "UDP length 0 to another service", zero_length_udp_to_other, A,
	  false },
};

Test(evasion, every_frame_of_a_reacted_subscriber_is_dropped)
{
	static const int levels[] = { L_QUARANTINED, L_BLOCKED };
	int tried = 0, leaked = 0;

	for (size_t l = 0; l < 2; l++) {
		level = levels[l];
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			for (int g = 1; g >= 0; g--) {
				uint8_t b[PB_MAX];
				size_t n;
				struct xt_result r;
				char hex[8192];

				if (!g && cases[i].gtpu_only)
					continue;
				memset(b, 0, sizeof(b));
				n = cases[i].make(b);
				cr_assert_eq(xt_run(dp, cases[i].role, g, b, n,
						    &r),
					     0);
				tried++;
				printf("%-12s %-62s %-8s %s/%s\n",
				       level == L_BLOCKED ? "blocked" :
							    "quarantined",
				       cases[i].name, g ? "GTP-U" : "plain",
				       r.action < 0 ? "?" :
				       abi_action_name(r.action),
				       r.reason < 0 ? "?" :
				       abi_reason_name(r.reason));
				if (r.xdp == XDP_DROP)
					continue;
				leaked++;
				pb_hexdump(b, n, hex, sizeof(hex));
				cr_expect_fail("%s (%s, %s instance) passed "
					       "(%s)\n%s",
					       cases[i].name,
					       level == L_BLOCKED ?
						       "blocked" :
						       "quarantined",
					       g ? "GTP-U" : "plain",
					       r.reason < 0 ? "?" :
					       abi_reason_name(r.reason),
					       hex);
			}
		}
	}
	printf("evasion corpus: %d frames tried, %d passed\n", tried, leaked);
	only_possible_pairs();
}

/* The corpus is not vacuous: the same kinds of frames of a normal
 * subscriber, where well formed, pass. */
Test(evasion, the_same_frames_of_a_normal_subscriber_pass)
{
	static size_t (*const ok[])(uint8_t *) = {
		v4_options_to_other, v6_six_ext_to_other, qinq_to_other,
		gtpu_four_ext_to_other, v4_mapped_source,
		established_tcp_to_other, v6_to_mapped_dns,
		nd_behind_routing_header, downlink_from_other,
		mpls_to_other, mpls3_v6_to_other, pppoe_to_other,
		pppoe_v6_to_other, pppoe_tagged_to_other, tag_9100_to_other,
		three_tags_to_other, ipip_to_dns, gre_to_dns, sixin4_to_dns,
		fourin6_to_dns, sixin6_to_dns, esp_to_dns, ah4_to_dns,
		ah6_then_tcp_to_other, atomic_fragment_to_other,
		zero_length_udp_to_other,
	};
	static const int roles[] = { A, A, A, A, A, A, A, A, C, A, A, A, A, A,
				     A, A, A, A, A, A, A, A, A, A, A, A };

	_Static_assert(sizeof(ok) / sizeof(ok[0]) ==
			       sizeof(roles) / sizeof(roles[0]),
		       "a role for every case");
	level = L_NORMAL;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint8_t b[PB_MAX];
		size_t n = ok[i](b);
		struct xt_result r;

		cr_assert_eq(xt_run(dp, roles[i], true, b, n, &r), 0);
		cr_expect_eq(r.xdp, XDP_PASS, "case %zu: %s", i,
			     r.reason < 0 ? "?" :
					    abi_reason_name(r.reason));
	}
	only_possible_pairs();
}

/* An ICMP error about a flow the subscriber may have is that flow's: a
 * quarantined terminal's "port unreachable" or "packet too big" back to
 * the DNS server it may use passes (its path-MTU discovery and error
 * handling work); a blocked one's does not. */
Test(evasion, icmp_errors_of_an_allowed_flow_are_that_flow_s)
{
	static size_t (*const ok[])(uint8_t *) = { icmp_error_quoting_dns,
						    icmp6_error_quoting_dns };
	static const int levels[] = { L_QUARANTINED, L_BLOCKED };

	for (size_t l = 0; l < 2; l++) {
		level = levels[l];
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
			uint8_t b[PB_MAX];
			size_t n = ok[i](b);
			struct xt_result r;

			for (int g = 1; g >= 0; g--) {
				cr_assert_eq(xt_run(dp, A, g, b, n, &r), 0);
				cr_expect_eq(r.xdp,
					     level == L_BLOCKED ? XDP_DROP :
								  XDP_PASS,
					     "case %zu, level %d, %s: %s", i,
					     level, g ? "GTP-U" : "plain",
					     r.reason < 0 ? "?" :
							    abi_reason_name(
								    r.reason));
			}
		}
	}
}
