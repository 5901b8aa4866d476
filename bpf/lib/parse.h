/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parsing: Ethernet, VLAN tags, IPv4, IPv6 (bounded extension-header walk),
 * TCP/UDP/ICMP, GTP-U, into struct pinfo. Functions return the offset
 * past what they parsed, or a negative reason.
 */
#ifndef XCRS_BPF_PARSE
#define XCRS_BPF_PARSE

#define ETH_P_8021Q_  0x8100
#define ETH_P_8021AD_ 0x88A8
#define ETH_P_IP_     0x0800
#define ETH_P_IPV6_   0x86DD
#define ETH_P_ARP_    0x0806
#define ETH_P_QINQ_9100_ 0x9100
#define ETH_P_PPPOE_SESS_ 0x8864
#define ETH_P_MPLS_UC_ 0x8847
#define ETH_P_MPLS_MC_ 0x8848
/* Headers between Ethernet and IP walked (tags, PPPoE, MPLS labels). */
#define XCRS_L2_HDRS_MAX 6

#define IPPROTO_ICMPV6_ 58
#define IPV6_HOPOPTS_	0
#define IPV6_ROUTING_	43
#define IPV6_FRAGMENT_	44
#define IPV6_AH_	51
#define IPV6_DSTOPTS_	60

/* Addresses move as words. struct xcrs_addr is a byte array, and through
 * one the compiler moves and compares a byte at a time (32 one-byte
 * stores to build two IPv4-mapped keys). Stack copies must be 4-byte
 * aligned (the verifier insists); packet and map memory need not be. */
typedef __u32 __attribute__((may_alias)) xw32;
typedef __u64 __attribute__((may_alias)) xw64;

static __always_inline void addr_copy(void *dst, const void *src)
{
	xw32 *d = dst;
	const xw32 *s = src;

	d[0] = s[0];
	d[1] = s[1];
	d[2] = s[2];
	d[3] = s[3];
}

/* What parsing learned of a packet. Addresses as in struct xcrs_addr. */
struct pinfo {
	struct xcrs_addr src;
	struct xcrs_addr dst;
	__u16 sport; /* host order; 0 where the protocol has no ports */
	__u16 dport;
	__u16 udp_len; /* UDP length field, for GTP-U */
	__u8 proto;
	__u8 flags;
	__u8 hop_limit; /* IPv6 */
	__u8 pad[3];
	__u32 l4_end;  /* offset past the L4 header, 0 if not parsed */
	/* fragments: identification; a later one's offset, or the bytes of
	 * the fragmentable part a first one holds (bytes) */
	__u32 frag_id;
	__u32 frag_at;
	/* PI_ICMP_QUOTE: the flow an ICMP error quotes, seen from the
	 * subscriber: its peer, protocol and the peer's port */
	struct xcrs_addr qpeer;
	__u16 qport;
	__u8 qproto;
	__u8 pad2;
};

/* Header offsets are kept below this bound so that the verifier can track
 * packet ranges (it stops refining them near 64 KiB). No frame an XDP
 * program sees without multi-buffer support is longer. */
#define XCRS_OFF_MAX 0x3fff

/* Re-states a checked offset's bound in a way the compiler cannot fold
 * away (it merges and drops the range checks the verifier needs). */
static __always_inline __u32 bound_off(__u32 off)
{
	asm volatile("" : "+r"(off));
	return off & XCRS_OFF_MAX;
}

#define PI_COMPLETE  0x1 /* every header up to and including L4 is present */
#define PI_FRAG_LATER 0x2 /* a non-first fragment: no L4 header */
#define PI_NEW_FLOW  0x4 /* TCP SYN, UDP, ICMP echo request */
#define PI_ND	     0x8 /* IPv6 neighbour discovery on the link */
/* IPv6 with an IPv4-mapped address (::ffff:0:0/96) as source or
 * destination: such an address on the wire is never an IPv4 service, so
 * it is classified as "other" (the subscriber found for it stays the IPv4
 * one: the lookup is the conservative side). */
#define PI_SRC_MAPPED 0x10
#define PI_DST_MAPPED 0x20
#define PI_FRAG_FIRST 0x40 /* a first fragment (more follow) */
/* An ICMP error (unreachable, packet too big, time exceeded, parameter
 * problem) that quotes a flow of this packet's subscriber: it is
 * classified as that flow (path-MTU discovery of an allowed flow keeps
 * working). On access the error must go back to the quoted peer. */
#define PI_ICMP_QUOTE 0x80

static __always_inline int mapped6(const __u8 *a)
{
	const xw32 *w = (const xw32 *)a;

	return !w[0] && !w[1] && w[2] == bpf_htonl(0xffff);
}

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

struct ipv4_hdr_ {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__be32 saddr;
	__be32 daddr;
};

struct ipv6_hdr_ {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct udp_hdr_ {
	__be16 source;
	__be16 dest;
	__be16 len;
	__be16 check;
};

struct gtpu_hdr_ {
	__u8 flags;
	__u8 type;
	__be16 length;
	__be32 teid;
};

#define GTPU_TYPE_ECHO_REQ 1
#define GTPU_TYPE_ECHO_RSP 2
#define GTPU_TYPE_ERR_IND  26
#define GTPU_TYPE_SUPP_EXT 31
#define GTPU_TYPE_END_MARK 254
#define GTPU_TYPE_GPDU	   255


/* An IPv6 header's addresses (mapped ones flagged) and hop limit. */
static __always_inline void ip6_take(struct pinfo *pi,
				     const struct ipv6_hdr_ *ip6)
{
	addr_copy(pi->src.a, ip6->saddr);
	addr_copy(pi->dst.a, ip6->daddr);
	if (mapped6(pi->src.a))
		pi->flags |= PI_SRC_MAPPED;
	if (mapped6(pi->dst.a))
		pi->flags |= PI_DST_MAPPED;
	pi->hop_limit = ip6->hop_limit;
}

static __always_inline void map_v4(struct xcrs_addr *a, __be32 v4)
{
	xw32 *w = (xw32 *)a->a;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0xffff);
	w[3] = v4;
}

static __always_inline int addr_eq16(const __u8 *a, const __u8 *b)
{
	const xw32 *x = (const xw32 *)a, *y = (const xw32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* The IP header (and ports) an ICMP error at off quotes (the error's own
 * L4 header ends at off): when it is a flow of the subscriber (on access,
 * a packet the peer sent it, the error going back to that peer; on core,
 * a packet the subscriber sent), PI_ICMP_QUOTE with the flow's peer. A
 * quote with IPv6 extension headers, of a later fragment, of a mapped
 * address or cut short is not followed. */
static __always_inline void icmp_quote(void *data, void *data_end, __u32 off,
				       __u32 end, struct pinfo *pi)
{
	const struct xcrs_addr *sub = xcrs_role == XCRS_ROLE_ACCESS ? &pi->src :
								      &pi->dst;
	struct xcrs_addr qs __attribute__((aligned(8))),
		qd __attribute__((aligned(8)));
	__u32 l4;
	__u8 proto, *q, *pt;
	__u16 sport = 0, dport = 0;

	if (off > XCRS_OFF_MAX)
		return;
	off = bound_off(off);
	q = data + off;
	if (pi->proto == IPPROTO_ICMP) {
		struct ipv4_hdr_ *ip = (void *)q;
		__u32 ihl;

		if ((void *)(ip + 1) > data_end || (ip->ver_ihl >> 4) != 4)
			return;
		ihl = (ip->ver_ihl & 0x0f) * 4;
		if (ihl < 20 || (bpf_ntohs(ip->frag_off) & 0x1fff))
			return;
		map_v4(&qs, ip->saddr);
		map_v4(&qd, ip->daddr);
		proto = ip->protocol;
		l4 = off + ihl;
	} else {
		struct ipv6_hdr_ *ip6 = (void *)q;

		if ((void *)(ip6 + 1) > data_end || (q[0] >> 4) != 6)
			return;
		addr_copy(qs.a, ip6->saddr);
		addr_copy(qd.a, ip6->daddr);
		if (mapped6(qs.a) || mapped6(qd.a))
			return;
		proto = ip6->nexthdr;
		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
		    proto != IPPROTO_ICMPV6_)
			return; /* extension headers: not followed */
		l4 = off + 40;
	}
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		if (l4 > XCRS_OFF_MAX)
			return;
		pt = data + bound_off(l4);
		if ((void *)(pt + 4) > data_end || l4 + 4 > end)
			return;
		sport = (__u16)pt[0] << 8 | pt[1];
		dport = (__u16)pt[2] << 8 | pt[3];
	}
	if (xcrs_role == XCRS_ROLE_ACCESS) {
		/* the peer's packet to the subscriber, the error back */
		if (!addr_eq16(qd.a, sub->a) || !addr_eq16(qs.a, pi->dst.a))
			return;
		pi->qpeer = qs;
		pi->qport = sport;
	} else {
		/* the subscriber's packet, an error about it to it */
		if (!addr_eq16(qs.a, sub->a))
			return;
		pi->qpeer = qd;
		pi->qport = dport;
	}
	pi->qproto = proto;
	pi->flags |= PI_ICMP_QUOTE;
}

static __always_inline __u32 parse_tcp(void *data, void *data_end, __u32 off,
				       __u32 l4_end, struct pinfo *pi)
{
	__u8 *t = data + off;

	if ((void *)(t + 20) > data_end || off + 20 > l4_end)
		return 0;
	pi->sport = bpf_ntohs(*(__be16 *)t);
	pi->dport = bpf_ntohs(*(__be16 *)(t + 2));
	/* SYN without ACK opens a flow. */
	if ((t[13] & 0x12) == 0x02)
		pi->flags |= PI_NEW_FLOW;
	pi->flags |= PI_COMPLETE;
	return off + 20;
}

static __always_inline __u32 parse_udp(void *data, void *data_end, __u32 off,
				       __u32 l4_end, struct pinfo *pi)
{
	struct udp_hdr_ *u = data + off;

	if ((void *)(u + 1) > data_end || off + sizeof(*u) > l4_end)
		return 0;
	pi->sport = bpf_ntohs(u->source);
	pi->dport = bpf_ntohs(u->dest);
	pi->udp_len = bpf_ntohs(u->len);
	pi->flags |= PI_COMPLETE | PI_NEW_FLOW;
	return off + sizeof(*u);
}

/* Parses the L4 header at off (absolute from data); the caller has checked
 * that the IP header lies within the packet. l4_end is where the IP packet
 * ends per its own length field. Sets PI_COMPLETE when the L4 header is
 * whole. Returns the offset just past the L4 header, or 0. */
static __always_inline __u32 parse_l4(void *data, void *data_end, __u32 off,
				      __u32 l4_end, struct pinfo *pi)
{
	void *p = data + off;

	switch (pi->proto) {
	case IPPROTO_TCP:
		return parse_tcp(data, data_end, off, l4_end, pi);
	case IPPROTO_UDP:
		return parse_udp(data, data_end, off, l4_end, pi);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6_: {
		__u8 *ic = p;

		if (p + 8 > data_end || off + 8 > l4_end)
			return 0;
		if ((pi->proto == IPPROTO_ICMP && ic[0] == 8) ||
		    (pi->proto == IPPROTO_ICMPV6_ && ic[0] == 128))
			pi->flags |= PI_NEW_FLOW;
		if ((pi->proto == IPPROTO_ICMP &&
		     (ic[0] == 3 || ic[0] == 11 || ic[0] == 12)) ||
		    (pi->proto == IPPROTO_ICMPV6_ && ic[0] >= 1 && ic[0] <= 4))
			icmp_quote(data, data_end, off + 8, l4_end, pi);
		/* Router/neighbour solicitation and advertisement, redirect:
		 * with hop limit 255 they never left the link (RFC 4861).
		 * Only to a link-local or link-scope multicast destination:
		 * sent anywhere else a router would forward it, a channel
		 * out of a quarantine. */
		if (pi->proto == IPPROTO_ICMPV6_ && ic[0] >= 133 &&
		    ic[0] <= 137 && pi->hop_limit == 255 &&
		    ((pi->dst.a[0] == 0xfe && (pi->dst.a[1] & 0xc0) == 0x80) ||
		     (pi->dst.a[0] == 0xff && (pi->dst.a[1] & 0x0f) == 0x02)))
			pi->flags |= PI_ND;
		pi->flags |= PI_COMPLETE;
		return off + 8;
	}
	default:
		/* No ports to read: the protocol number is all there is. */
		pi->flags |= PI_COMPLETE;
		return off;
	}
}

/* Parses an IP packet at off, of version want_ver (4, 6, or 0 for either).
 * Returns 0 when the addresses are known (the subscriber can be found), -1
 * when the packet is too short for them or of another version. A global
 * function: the verifier checks it once, not once per call site. */
__attribute__((noinline)) int parse_ip(struct xdp_md *ctx, __u32 off,
					int want_ver, struct pinfo *pi)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p;
	__u32 end;

	if (!pi || off > XCRS_OFF_MAX)
		return -1;
	off = bound_off(off);
	p = data + off;
	pi->l4_end = 0;
	if ((void *)(p + 1) > data_end)
		return -1;
	if (want_ver && (p[0] >> 4) != want_ver)
		return -1;
	if ((p[0] >> 4) == 4) {
		struct ipv4_hdr_ *ip = (void *)p;
		__u32 ihl, tot;
		__u16 frag;

		if ((void *)(ip + 1) > data_end)
			return -1;
		map_v4(&pi->src, ip->saddr);
		map_v4(&pi->dst, ip->daddr);
		pi->proto = ip->protocol;
		ihl = (ip->ver_ihl & 0x0f) * 4;
		tot = bpf_ntohs(ip->tot_len);
		if (ihl < 20 || tot < ihl)
			return 0;
		if (p + ihl > (__u8 *)data_end)
			return 0;
		end = off + tot;
		frag = bpf_ntohs(ip->frag_off);
		pi->frag_id = bpf_ntohs(ip->id);
		if (frag & 0x1fff) {
			pi->flags |= PI_FRAG_LATER;
			pi->frag_at = (__u32)(frag & 0x1fff) * 8;
			return 0;
		}
		if (frag & 0x2000) {
			pi->flags |= PI_FRAG_FIRST;
			pi->frag_at = tot - ihl;
		}
		pi->l4_end = parse_l4(data, data_end, off + ihl, end, pi);
		return 0;
	}
	if ((p[0] >> 4) == 6) {
		struct ipv6_hdr_ *ip6 = (void *)p;
		__u32 cur;
		__u8 nh, routed = 0;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		ip6_take(pi, ip6);
		end = off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		cur = off + sizeof(*ip6);
		nh = ip6->nexthdr;
#pragma unroll
		for (int i = 0; i < XCRS_IPV6_EXT_MAX; i++) {
			__u8 *e = data + cur;

			if (nh != IPV6_HOPOPTS_ && nh != IPV6_ROUTING_ &&
			    nh != IPV6_FRAGMENT_ && nh != IPV6_DSTOPTS_ &&
			    nh != IPV6_AH_)
				break;
			if ((void *)(e + 8) > data_end || cur + 8 > end)
				return 0;
			routed |= nh == IPV6_ROUTING_;
			if (nh == IPV6_FRAGMENT_) {
				__u16 fo = ((__u16)e[2] << 8 | e[3]) & 0xfff8;

				pi->frag_id = (__u32)e[4] << 24 |
					      (__u32)e[5] << 16 |
					      (__u32)e[6] << 8 | e[7];
				if (fo) {
					pi->proto = e[0];
					pi->flags |= PI_FRAG_LATER;
					pi->frag_at = fo;
					return 0;
				}
				cur += 8;
				if (e[3] & 1) {
					pi->flags |= PI_FRAG_FIRST;
					pi->frag_at = end > cur ? end - cur : 0;
				}
			} else if (nh == IPV6_AH_) {
				cur += ((__u32)e[1] + 2) * 4;
			} else {
				cur += ((__u32)e[1] + 1) * 8;
			}
			nh = e[0];
		}
		pi->proto = nh;
		if (nh == IPV6_HOPOPTS_ || nh == IPV6_ROUTING_ ||
		    nh == IPV6_FRAGMENT_ || nh == IPV6_DSTOPTS_ ||
		    nh == IPV6_AH_)
			return 0; /* more extension headers than the bound */
		if (cur > XCRS_OFF_MAX)
			return 0;
		pi->l4_end = parse_l4(data, data_end, cur, end, pi);
		/* ND with a routing header can leave the link (RFC 4861: a
		 * node discards it): it is judged like any other packet */
		if (routed)
			pi->flags &= ~PI_ND;
		return 0;
	}
	return -1;
}

/* The common packet without a call: IPv4 without options, not a
 * fragment, carrying a whole TCP or UDP header. Fills pi as parse_ip()
 * would and returns 1; 0 (pi untouched) leaves the packet to parse_ip(). A
 * call costs as much as a hash lookup where returns are mitigated (SRSO),
 * and parse_ip() inlined whole multiplies the verifier's work tenfold. */
static __always_inline int parse_v4_fast(void *data, void *data_end, __u32 off,
					 struct pinfo *pi)
{
	struct ipv4_hdr_ *ip = data + off;
	__u32 end, l4;

	if ((void *)(ip + 1) > data_end || ip->ver_ihl != 0x45 ||
	    (ip->frag_off & bpf_htons(0x3fff)) ||
	    (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
		return 0;
	end = off + bpf_ntohs(ip->tot_len);
	l4 = off + sizeof(*ip);
	if (ip->protocol == IPPROTO_TCP) {
		__u8 *t = data + l4;

		if ((void *)(t + 20) > data_end || l4 + 20 > end)
			return 0;
	} else {
		__u8 *u = data + l4;

		if ((void *)(u + 8) > data_end || l4 + 8 > end)
			return 0;
	}
	map_v4(&pi->src, ip->saddr);
	map_v4(&pi->dst, ip->daddr);
	pi->proto = ip->protocol;
	pi->l4_end = ip->protocol == IPPROTO_TCP ?
			     parse_tcp(data, data_end, l4, end, pi) :
			     parse_udp(data, data_end, l4, end, pi);
	return 1;
}

/* The same for IPv6 carrying TCP or UDP directly (no extension
 * headers). */
static __always_inline int parse_v6_fast(void *data, void *data_end, __u32 off,
					 struct pinfo *pi)
{
	struct ipv6_hdr_ *ip6 = data + off;
	__u32 end, l4 = off + sizeof(*ip6);
	__u8 *p = data + l4;

	if ((void *)(ip6 + 1) > data_end || (ip6->ver_tc_flow & 0xf0) != 0x60 ||
	    (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP))
		return 0;
	end = l4 + bpf_ntohs(ip6->payload_len);
	if (ip6->nexthdr == IPPROTO_TCP) {
		if ((void *)(p + 20) > data_end || l4 + 20 > end)
			return 0;
	} else {
		if ((void *)(p + 8) > data_end || l4 + 8 > end)
			return 0;
	}
	ip6_take(pi, ip6);
	pi->proto = ip6->nexthdr;
	pi->l4_end = ip6->nexthdr == IPPROTO_TCP ?
			     parse_tcp(data, data_end, l4, end, pi) :
			     parse_udp(data, data_end, l4, end, pi);
	return 1;
}

enum gtpu_res { GTPU_SIGNALLING = 1, GTPU_BAD, GTPU_UNKNOWN };

/* Walks the G-PDU at off (just past the outer UDP header, whose payload
 * ends at udp_end). Returns the inner packet's offset (> 0), or the negated
 * gtpu_res saying why there is none. */
__attribute__((noinline)) int parse_gtpu(struct xdp_md *ctx, __u32 off,
					  __u32 udp_end)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct gtpu_hdr_ *g;
	__u32 cur, glen;
	__u8 next;

	if (off > XCRS_OFF_MAX || udp_end > XCRS_OFF_MAX)
		return -GTPU_BAD;
	off = bound_off(off);
	g = data + off;
	if ((void *)(g + 1) > data_end || off + sizeof(*g) > udp_end)
		return -GTPU_BAD;
	/* Version 1, protocol type GTP. */
	if ((g->flags & 0xf0) != 0x30)
		return -GTPU_BAD;
	glen = bpf_ntohs(g->length);
	if (off + sizeof(*g) + glen > udp_end)
		return -GTPU_BAD;
	if (g->type != GTPU_TYPE_GPDU) {
		switch (g->type) {
		case GTPU_TYPE_ECHO_REQ:
		case GTPU_TYPE_ECHO_RSP:
		case GTPU_TYPE_ERR_IND:
		case GTPU_TYPE_SUPP_EXT:
		case GTPU_TYPE_END_MARK:
			return -GTPU_SIGNALLING;
		}
		return -GTPU_UNKNOWN;
	}
	cur = off + sizeof(*g);
	udp_end = off + sizeof(*g) + glen; /* the G-PDU's own end */
	if (g->flags & 0x07) {
		__u8 *o = data + cur;

		/* Sequence number, N-PDU number, next extension type. */
		if ((void *)(o + 4) > data_end || cur + 4 > udp_end)
			return -GTPU_BAD;
		next = (g->flags & 0x04) ? o[3] : 0;
		cur += 4;
#pragma unroll
		for (int i = 0; i < XCRS_GTPU_EXT_MAX; i++) {
			__u8 *e = data + cur;
			__u32 elen, last;

			if (!next)
				break;
			if ((void *)(e + 1) > data_end)
				return -GTPU_BAD;
			elen = (__u32)e[0] * 4;
			if (!elen || cur + elen > udp_end)
				return -GTPU_BAD;
			/* The next-type octet ends the header. The barrier keeps
			 * the compiler from folding the -1 into the pointer
			 * after the bounds check, which the verifier refuses. */
			last = cur + elen - 1;
			asm volatile("" : "+r"(last));
			e = data + last;
			if ((void *)(e + 1) > data_end)
				return -GTPU_BAD;
			next = e[0];
			cur += elen;
		}
		if (next)
			return -GTPU_BAD; /* more extension headers than bound */
	}
	if (cur >= udp_end)
		return -GTPU_BAD;
	return cur;
}

#endif
