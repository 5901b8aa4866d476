// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs XDP program: the X.1125 NAC and ASC. Parses a frame (Ethernet, two
 * VLAN tags, IPv4/IPv6, GTP-U with an inner IP packet), finds the subscriber
 * and the peer's service class, and enforces the subscriber's CRS level,
 * rate and scope containment. Every decision comes from maps that the agent
 * writes; this file gives none of them meaning of its own.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#include "xcrs_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* Load-time configuration of one program instance (one per interface). */
const volatile __u8 xcrs_role = XCRS_ROLE_ACCESS;
const volatile __u8 xcrs_gtpu = 1; /* decapsulate UDP/2152 G-PDUs */
/* Spreading G-PDUs over CPUs (XCRS_SPREAD_*): a NIC's receive hash sees
 * only the outer header, so one cell's tunnel lands on one core. The
 * G-PDU goes through the instance's cpumap to xcrs_spread_cpu[hash % n],
 * where xcrs_xdp_cpumap judges it. */
const volatile __u8 xcrs_spread = XCRS_SPREAD_OFF;
const volatile __u32 xcrs_spread_n = 0;
const volatile __u32 xcrs_spread_cpu[XCRS_SPREAD_CPUS_MAX] = { 0 };

/* This instance's CPUs for spreading (not shared: each instance's entries
 * run its own second stage). Sized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct bpf_cpumap_val));
	__uint(max_entries, XCRS_SPREAD_CPUS_MAX);
} xcrs_cpus SEC(".maps");

/* Sizes are set by the loader from its configuration before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xcrs_addr);
	__type(value, struct xcrs_sub);
	__uint(max_entries, 65536);
} xcrs_subs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct xcrs_lpm_key);
	__type(value, struct xcrs_pool);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xcrs_pools SEC(".maps");

/* Decisions on prefixes (not per generation: decisions, not policy). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct xcrs_prefix_key);
	__type(value, struct xcrs_sub);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xcrs_react_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct xcrs_lpm_key);
	__type(value, struct xcrs_svc_entry);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xcrs_svcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_level);
	__uint(max_entries, 2 * XCRS_LEVELS_MAX);
} xcrs_levels SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_cfg);
	__uint(max_entries, 2);
} xcrs_cfg SEC(".maps");

/* xcrs_gen[0]: the active policy generation (0 or 1); [1]: run-time flags
 * (XCRS_RT_*). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 3);
} xcrs_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_outer_cache_ent);
	__uint(max_entries, XCRS_OUTER_CACHE_SLOTS);
} xcrs_outer_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct xcrs_scope);
	__uint(max_entries, 4096);
} xcrs_scopes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_counter);
	__uint(max_entries, XCRS_STATS_SLOTS);
} xcrs_stats SEC(".maps");

/* Per-subscriber counters of reacted subscribers, by the slot the library
 * gave the host entry (slot 0 is never given). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_sub_counters);
	__uint(max_entries, 65537);
} xcrs_sub_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_svc_cache_ent);
	__uint(max_entries, XCRS_SVC_CACHE_SLOTS);
} xcrs_svc_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xcrs_addr);
	__type(value, struct xcrs_bucket);
	__uint(max_entries, 65536);
} xcrs_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xcrs_addr);
	__type(value, struct xcrs_fanout);
	__uint(max_entries, 65536);
} xcrs_fanout SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xcrs_addr);
	__type(value, struct xcrs_seen);
	__uint(max_entries, 65536);
} xcrs_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_rl);
	__uint(max_entries, 1);
} xcrs_connect_rl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} xcrs_events SEC(".maps");

/* libxdp dispatcher: run early, let later programs see what we pass. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xcrs_xdp);

#define ETH_P_8021Q_  0x8100
#define ETH_P_8021AD_ 0x88A8
#define ETH_P_IP_     0x0800
#define ETH_P_IPV6_   0x86DD
#define ETH_P_ARP_    0x0806

#define IPPROTO_ICMPV6_ 58
#define IPV6_HOPOPTS_	0
#define IPV6_ROUTING_	43
#define IPV6_FRAGMENT_	44
#define IPV6_AH_	51
#define IPV6_DSTOPTS_	60

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

static __always_inline void count(__u32 action, __u32 reason, __u64 bytes)
{
	__u32 k = action * XCRS_REASON_MAX + reason;
	struct xcrs_counter *c = bpf_map_lookup_elem(&xcrs_stats, &k);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void map_v4(struct xcrs_addr *a, __be32 v4)
{
	__builtin_memset(a->a, 0, 10);
	a->a[10] = 0xff;
	a->a[11] = 0xff;
	__builtin_memcpy(&a->a[12], &v4, 4);
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
	case IPPROTO_TCP: {
		__u8 *t = p;

		if (p + 20 > data_end || off + 20 > l4_end)
			return 0;
		pi->sport = bpf_ntohs(*(__be16 *)t);
		pi->dport = bpf_ntohs(*(__be16 *)(t + 2));
		/* SYN without ACK opens a flow. */
		if ((t[13] & 0x12) == 0x02)
			pi->flags |= PI_NEW_FLOW;
		pi->flags |= PI_COMPLETE;
		return off + 20;
	}
	case IPPROTO_UDP: {
		struct udp_hdr_ *u = p;

		if (p + sizeof(*u) > data_end || off + sizeof(*u) > l4_end)
			return 0;
		pi->sport = bpf_ntohs(u->source);
		pi->dport = bpf_ntohs(u->dest);
		pi->udp_len = bpf_ntohs(u->len);
		pi->flags |= PI_COMPLETE | PI_NEW_FLOW;
		return off + sizeof(*u);
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6_: {
		__u8 *ic = p;

		if (p + 8 > data_end || off + 8 > l4_end)
			return 0;
		if ((pi->proto == IPPROTO_ICMP && ic[0] == 8) ||
		    (pi->proto == IPPROTO_ICMPV6_ && ic[0] == 128))
			pi->flags |= PI_NEW_FLOW;
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
		if (frag & 0x1fff) {
			pi->flags |= PI_FRAG_LATER;
			return 0;
		}
		pi->l4_end = parse_l4(data, data_end, off + ihl, end, pi);
		return 0;
	}
	if ((p[0] >> 4) == 6) {
		struct ipv6_hdr_ *ip6 = (void *)p;
		__u32 cur;
		__u8 nh;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		__builtin_memcpy(pi->src.a, ip6->saddr, 16);
		__builtin_memcpy(pi->dst.a, ip6->daddr, 16);
		pi->hop_limit = ip6->hop_limit;
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
			if (nh == IPV6_FRAGMENT_) {
				__u16 fo = ((__u16)e[2] << 8 | e[3]) & 0xfff8;

				if (fo) {
					pi->proto = e[0];
					pi->flags |= PI_FRAG_LATER;
					return 0;
				}
				cur += 8;
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
		return 0;
	}
	return -1;
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

static __always_inline __u32 active_gen(void)
{
	__u32 z = 0, *g = bpf_map_lookup_elem(&xcrs_gen, &z);

	return g ? (*g & 1) : 0;
}

/* Finds a subscriber: exact host first, then a decision on a prefix (2),
 * then the address pools (1); 0 if none. The
 * clock is read only for an entry that expires, and it is the coarse one
 * (a tick at most behind; the precise clock costs ~20 ns per read on
 * virtual machines, more than the lookup). */
static __always_inline int sub_entry(const struct xcrs_sub *s, __u32 *scope,
				     __u32 *level, __u32 *slot)
{
	int expired = s->expires_ns &&
		      bpf_ktime_get_coarse_ns() >= s->expires_ns;

	if (expired && s->base_level == XCRS_SUB_BASE_NONE)
		return 0;
	*scope = s->scope;
	*level = expired ? s->base_level : s->level;
	*slot = s->stats_slot;
	return 2;
}

static __always_inline int find_sub(const struct xcrs_addr *a, __u32 gen,
				    __u32 rt, __u32 *scope, __u32 *level,
				    __u32 *slot)
{
	struct xcrs_sub *s = bpf_map_lookup_elem(&xcrs_subs, a);
	struct xcrs_lpm_key k;
	struct xcrs_pool *p;

	if (s && sub_entry(s, scope, level, slot))
		return 2;
	/* then a decision on a prefix holding it (only when there is one) */
	if (rt & XCRS_RT_PREFIXES) {
		struct xcrs_prefix_key pk = { .prefixlen = 128 };

		__builtin_memcpy(pk.addr, a->a, 16);
		s = bpf_map_lookup_elem(&xcrs_react_prefixes, &pk);
		if (s && sub_entry(s, scope, level, slot))
			return 2;
	}
	k.prefixlen = 32 + 128;
	k.gen = gen;
	__builtin_memcpy(k.addr, a->a, 16);
	p = bpf_map_lookup_elem(&xcrs_pools, &k);
	if (p) {
		*scope = p->scope;
		*level = p->level;
		*slot = 0;
		return 1;
	}
	return 0;
}

static __always_inline int is_subscriber(const struct xcrs_addr *a, __u32 gen,
					 __u32 rt)
{
	__u32 scope, level, slot;

	return find_sub(a, gen, rt, &scope, &level, &slot);
}

/* is_subscriber() for a GTP-U packet's outer address, through this CPU's
 * cache: valid for one policy epoch and one subscriber-set version. */
static __always_inline int outer_is_subscriber(const struct xcrs_addr *a,
					       const struct xcrs_cfg *cfg,
					       __u32 gen, __u32 rt)
{
	__u32 k = XCRS_GEN_SLOT_SUBSET, *sv = bpf_map_lookup_elem(&xcrs_gen, &k),
	      subset = sv ? *sv : 0, w[4], slot;
	struct xcrs_outer_cache_ent *c;
	__u64 *ca, *pa;

	__builtin_memcpy(w, a->a, 16);
	slot = ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1u) >> 24;
	c = bpf_map_lookup_elem(&xcrs_outer_cache, &slot);
	if (!c || !cfg->epoch)
		return is_subscriber(a, gen, rt);
	ca = (__u64 *)c->addr;
	pa = (__u64 *)a->a;
	if (c->epoch == cfg->epoch && c->subset == subset &&
	    ca[0] == pa[0] && ca[1] == pa[1])
		return c->is_sub;
	c->is_sub = is_subscriber(a, gen, rt) != 0;
	__builtin_memcpy(c->addr, a->a, 16);
	c->epoch = cfg->epoch;
	c->subset = subset;
	return c->is_sub;
}

static __always_inline __u32 runtime_flags(void)
{
	__u32 k = XCRS_GEN_SLOT_RUNTIME, *rt = bpf_map_lookup_elem(&xcrs_gen, &k);

	return rt ? *rt : 0;
}

/* Service class of the peer: first rule of the longest matching prefix
 * that fits protocol and port, else XCRS_SVC_OTHER. */
static __always_inline __u32 classify_lpm(const struct xcrs_addr *peer,
					  __u32 gen, __u8 proto, __u16 port)
{
	struct xcrs_lpm_key k;
	struct xcrs_svc_entry *e;

	k.prefixlen = 32 + 128;
	k.gen = gen;
	__builtin_memcpy(k.addr, peer->a, 16);
	e = bpf_map_lookup_elem(&xcrs_svcs, &k);
	if (!e)
		return XCRS_SVC_OTHER;
#pragma unroll
	for (int i = 0; i < XCRS_SVC_RULES_MAX; i++) {
		struct xcrs_svc_rule *r = &e->rules[i];

		if (i >= e->nrules)
			break;
		if (r->proto && r->proto != proto)
			continue;
		if (port < r->port_lo || port > r->port_hi)
			continue;
		return r->svc & 63;
	}
	return XCRS_SVC_OTHER;
}

/* classify_lpm() through this CPU's direct-mapped cache, keyed by the
 * policy epoch so that a new policy never sees an old class. A miss (or
 * an attacker's colliding peers) costs the LPM lookup and a store. */
static __always_inline __u32 classify(const struct xcrs_addr *peer,
				      const struct xcrs_cfg *cfg, __u32 gen,
				      __u8 proto, __u16 port)
{
	__u32 slot = xcrs_svc_cache_slot(peer->a, proto, port);
	struct xcrs_svc_cache_ent *c;
	__u64 *ca, *pa;

	c = bpf_map_lookup_elem(&xcrs_svc_cache, &slot);
	if (!c)
		return classify_lpm(peer, gen, proto, port);
	ca = (__u64 *)c->addr;
	pa = (__u64 *)peer->a;
	if (c->epoch == cfg->epoch && cfg->epoch && c->port == port &&
	    c->proto == proto && ca[0] == pa[0] && ca[1] == pa[1])
		return c->svc;
	c->svc = (__u8)classify_lpm(peer, gen, proto, port);
	__builtin_memcpy(c->addr, peer->a, 16);
	c->port = port;
	c->proto = proto;
	c->epoch = cfg->epoch;
	return c->svc;
}

/* Token bucket shared by all CPUs without a lock: refill is claimed by the
 * CPU that moves last_ns forward, the spend is an atomic add. Returns 1 if
 * the packet fits. */
static __always_inline int rate_ok(const struct xcrs_addr *a,
				   const struct xcrs_level *lv, __u64 len)
{
	struct xcrs_bucket *b = bpf_map_lookup_elem(&xcrs_rate, a);
	/* The precise clock: at a tick's resolution the bucket could not
	 * refill in steps smaller than rate x tick. */
	__u64 now = bpf_ktime_get_ns(), last, el;
	__s64 burst = lv->burst_B, old;

	if (!b) {
		struct xcrs_bucket nb = { .last_ns = now, .tokens = burst };

		bpf_map_update_elem(&xcrs_rate, a, &nb, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&xcrs_rate, a);
		if (!b)
			return 0; /* fail closed */
	}
	last = b->last_ns;
	if (now > last) {
		el = now - last;
		if (el > 10000000000ULL)
			el = 10000000000ULL;
		if (__sync_val_compare_and_swap(&b->last_ns, last, now) ==
		    last) {
			__s64 add = (__s64)(el * lv->rate_Bps / 1000000000ULL);

			if (add)
				__sync_fetch_and_add(&b->tokens, add);
			if (b->tokens > burst)
				b->tokens = burst;
		}
	}
	old = __sync_fetch_and_add(&b->tokens, -(__s64)len);
	if (old < (__s64)len) {
		__sync_fetch_and_add(&b->tokens, (__s64)len);
		return 0;
	}
	return 1;
}

static __always_inline __u32 addr_hash(const struct xcrs_addr *a)
{
	__u32 w[4], h = 0x9e3779b9;

	__builtin_memcpy(w, a->a, 16);
#pragma unroll
	for (int i = 0; i < 4; i++) {
		h ^= w[i];
		h *= 0x85ebca6b;
		h ^= h >> 13;
		h *= 0xc2b2ae35;
		h ^= h >> 16;
	}
	return h;
}

/* Counts distinct peers a subscriber opens flows to; reports once per
 * window when the count exceeds the threshold. Races between CPUs can
 * lose a bit or a window reset: the count is a lower bound. */
static __always_inline void fanout(const struct xcrs_addr *sub,
				   const struct xcrs_addr *peer,
				   const struct xcrs_cfg *cfg, __u64 now)
{
	struct xcrs_fanout *f = bpf_map_lookup_elem(&xcrs_fanout, sub);
	struct xcrs_event *ev;
	__u32 h, bit, word;
	__u64 old, start;

	if (!f) {
		struct xcrs_fanout nf = { .window_start_ns = now };

		bpf_map_update_elem(&xcrs_fanout, sub, &nf, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&xcrs_fanout, sub);
		if (!f)
			return;
	}
	start = f->window_start_ns;
	if (now - start >= cfg->fanout_window_ns &&
	    __sync_val_compare_and_swap(&f->window_start_ns, start, now) ==
		    start) {
#pragma unroll
		for (int i = 0; i < XCRS_FANOUT_WORDS; i++)
			f->bits[i] = 0;
		f->count = 0;
		f->reported = 0;
	}
	h = addr_hash(peer);
	bit = h & (XCRS_FANOUT_BITS - 1);
	word = bit / 64;
	if (word >= XCRS_FANOUT_WORDS)
		return;
	old = __sync_fetch_and_or(&f->bits[word], 1ULL << (bit & 63));
	if (old & (1ULL << (bit & 63)))
		return;
	if (__sync_fetch_and_add(&f->count, 1) + 1 <= cfg->fanout_threshold)
		return;
	if (__sync_val_compare_and_swap(&f->reported, 0, 1) != 0)
		return;
	ev = bpf_ringbuf_reserve(&xcrs_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->type = XCRS_EV_FANOUT;
	ev->count = f->count;
	ev->window_ns = cfg->fanout_window_ns;
	ev->ts_ns = now;
	ev->addr = *sub;
	bpf_ringbuf_submit(ev, 0);
}

/* MS connect detection: the first packet of a subscriber not in
 * xcrs_seen is reported (within the per-CPU budget), later ones refresh
 * its last-seen time at most once a second. The agent ages entries out
 * (MS leave). */
static __always_inline void ms_seen(const struct xcrs_addr *sub, __u64 now)
{
	struct xcrs_seen *s = bpf_map_lookup_elem(&xcrs_seen, sub);
	struct xcrs_seen ns = { .first_ns = now, .last_ns = now };
	struct xcrs_event *ev;
	struct xcrs_rl *rl;
	__u32 zero = 0;

	if (s) {
		if (now - s->last_ns >= XCRS_SEEN_REFRESH_NS)
			s->last_ns = now;
		return;
	}
	rl = bpf_map_lookup_elem(&xcrs_connect_rl, &zero);
	if (!rl)
		return;
	if (now - rl->window_start_ns >= 1000000000ull) {
		rl->window_start_ns = now;
		rl->count = 0;
	}
	if (rl->count >= XCRS_CONNECT_EVENTS_PER_S)
		return; /* over budget: reported with a later packet */
	if (bpf_map_update_elem(&xcrs_seen, sub, &ns, BPF_NOEXIST))
		return; /* another CPU was first */
	rl->count++;
	ev = bpf_ringbuf_reserve(&xcrs_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->type = XCRS_EV_CONNECT;
	ev->count = 0;
	ev->window_ns = 0;
	ev->ts_ns = now;
	ev->addr = *sub;
	bpf_ringbuf_submit(ev, 0);
}

static __always_inline void count_sub(__u32 slot, int drop, __u64 bytes)
{
	struct xcrs_sub_counters *c = bpf_map_lookup_elem(&xcrs_sub_stats,
							  &slot);

	if (!c)
		return;
	if (drop) {
		c->drop.packets++;
		c->drop.bytes += bytes;
	} else {
		c->pass.packets++;
		c->pass.bytes += bytes;
	}
}

#define VERDICT(act, why)                                                      \
	do {                                                                   \
		action = (act);                                                \
		reason = (why);                                                \
		goto out;                                                      \
	} while (0)

/* The whole judgement of one frame; stage2: it came through the cpumap
 * (never spread again). */
static __always_inline int xcrs_run(struct xdp_md *ctx, const int stage2)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	__u32 action, reason, gen, key, off, scope = 0, level, slot = 0, rt;
	const struct xcrs_addr *sub, *peer;
	struct xcrs_level *lv;
	struct xcrs_cfg *cfg;
	struct pinfo pi = {};
	struct ethhdr *eth = data;
	int known, reacted = 0, parsed = 0;
	__u16 proto, peer_port;

	gen = active_gen();
	rt = runtime_flags();
	cfg = bpf_map_lookup_elem(&xcrs_cfg, &gen);
	if (!cfg)
		VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);

	if ((void *)(eth + 1) > data_end)
		VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);
	proto = bpf_ntohs(eth->h_proto);
	off = sizeof(*eth);
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr_ *v = data + off;

		if (proto != ETH_P_8021Q_ && proto != ETH_P_8021AD_)
			break;
		if ((void *)(v + 1) > data_end)
			VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);
		proto = bpf_ntohs(v->proto);
		off += sizeof(*v);
	}
	if (proto == ETH_P_8021Q_ || proto == ETH_P_8021AD_)
		VERDICT(XCRS_ACT_DROP, XCRS_R_VLAN_DEPTH);
	if (proto != ETH_P_IP_ && proto != ETH_P_IPV6_) {
		if (proto == ETH_P_ARP_ || cfg->nonip_action == XCRS_NONIP_PASS)
			VERDICT(XCRS_ACT_PASS, XCRS_R_NON_IP);
		VERDICT(XCRS_ACT_DROP, XCRS_R_NON_IP);
	}

	if (parse_ip(ctx, off, proto == ETH_P_IP_ ? 4 : 6, &pi) < 0)
		VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);

	/* On a GTP-U interface, headers cut short (or too many IPv6
	 * extension headers) may hide a G-PDU, and with it a subscriber:
	 * never classify such a packet by its outer addresses. Later
	 * fragments of an outer packet carry no headers; they cannot be
	 * reassembled without the first, which is classified. */
	if (xcrs_gtpu && !(pi.flags & (PI_COMPLETE | PI_FRAG_LATER)))
		VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);
	/* A UDP/2152 packet whose own subscriber-side address is a
	 * subscriber is that subscriber's packet, not the access network's
	 * tunnel: decapsulating it would let the sender choose the inner
	 * source that is judged (and pass "signalling" untouched). */
	if (xcrs_gtpu && pi.proto == IPPROTO_UDP && (pi.flags & PI_COMPLETE) &&
	    pi.dport == XCRS_GTPU_PORT && pi.l4_end &&
	    !outer_is_subscriber(xcrs_role == XCRS_ROLE_ACCESS ? &pi.src :
								 &pi.dst,
				 cfg, gen, rt)) {
		__u32 udp_end;
		int r;

		if (pi.udp_len < sizeof(struct udp_hdr_))
			VERDICT(XCRS_ACT_DROP, XCRS_R_GTPU_MALFORMED);
		udp_end = pi.l4_end - sizeof(struct udp_hdr_) + pi.udp_len;
		r = parse_gtpu(ctx, pi.l4_end, udp_end);
		if (r == -GTPU_SIGNALLING)
			VERDICT(XCRS_ACT_PASS, XCRS_R_GTPU_SIGNALLING);
		if (r == -GTPU_UNKNOWN)
			VERDICT(XCRS_ACT_DROP, XCRS_R_GTPU_UNKNOWN_TYPE);
		if (r <= 0)
			VERDICT(XCRS_ACT_DROP, XCRS_R_GTPU_MALFORMED);
		if (!stage2 && xcrs_spread == XCRS_SPREAD_TEID &&
		    xcrs_spread_n) {
			/* the TEID: 4 bytes at the G-PDU header's offset 4 */
			__u32 o = bound_off(pi.l4_end) + 4, teid, idx;
			__u8 *t = data + o;

			if ((void *)(t + 4) <= data_end) {
				teid = (__u32)t[0] << 24 | (__u32)t[1] << 16 |
				       (__u32)t[2] << 8 | t[3];
				idx = (teid * 0x9e3779b1u) % xcrs_spread_n;
				if (bpf_redirect_map(&xcrs_cpus,
						     xcrs_spread_cpu
							     [idx &
							      (XCRS_SPREAD_CPUS_MAX -
							       1)],
						     0) == XDP_REDIRECT)
					return XDP_REDIRECT;
			}
		}
		__builtin_memset(&pi, 0, sizeof(pi));
		if (parse_ip(ctx, r, 0, &pi) < 0)
			VERDICT(XCRS_ACT_DROP, XCRS_R_GTPU_MALFORMED);
		if (!stage2 && xcrs_spread == XCRS_SPREAD_INNER &&
		    xcrs_spread_n) {
			const struct xcrs_addr *ue = xcrs_role ==
							     XCRS_ROLE_ACCESS ?
							     &pi.src :
							     &pi.dst;
			__u32 idx = addr_hash(ue) % xcrs_spread_n;

			if (bpf_redirect_map(&xcrs_cpus,
					     xcrs_spread_cpu
						     [idx &
						      (XCRS_SPREAD_CPUS_MAX - 1)],
					     0) == XDP_REDIRECT)
				return XDP_REDIRECT;
		}
	}

	/* Like ARP, neighbour discovery stays on the link: a blocked
	 * terminal still resolves its router, it just cannot use it. */
	if (pi.flags & PI_ND)
		VERDICT(XCRS_ACT_PASS, XCRS_R_ND);

	if (xcrs_role == XCRS_ROLE_ACCESS) {
		sub = &pi.src;
		peer = &pi.dst;
		peer_port = pi.dport;
	} else {
		sub = &pi.dst;
		peer = &pi.src;
		peer_port = pi.sport;
	}

	parsed = 1;
	known = find_sub(sub, gen, rt, &scope, &level, &slot);
	if (known != 2 && (rt & XCRS_RT_SUBS_FULL)) {
		/* no entry of its own: fail closed while reactions do not
		 * fit */
		known = 1;
		level = cfg->full_level;
	}
	if (!known) {
		level = cfg->default_level;
		if (level == XCRS_LEVEL_PASS)
			VERDICT(XCRS_ACT_PASS, XCRS_R_UNKNOWN_PASS);
	}
	key = gen * XCRS_LEVELS_MAX + (level & (XCRS_LEVELS_MAX - 1));
	lv = bpf_map_lookup_elem(&xcrs_levels, &key);
	if (!lv || level >= XCRS_LEVELS_MAX || !(lv->flags & XCRS_LEVEL_F_DEFINED))
		VERDICT(XCRS_ACT_DROP, XCRS_R_BAD_LEVEL);
	reacted = known && (lv->flags & XCRS_LEVEL_F_REACTED);
	/* A level that allows no service drops whatever the packet is and
	 * whatever the scope says: no classification needed. */
	if (!lv->allowed)
		VERDICT(XCRS_ACT_DROP, XCRS_R_LEVEL);

	{
		struct xcrs_scope *sc = NULL;
		__u32 svc;

		if (scope) {
			sc = bpf_map_lookup_elem(&xcrs_scopes, &scope);
			if (sc && sc->mode == XCRS_CONTAIN_NONE)
				sc = NULL;
		}
		if (!sc && !(lv->flags & XCRS_LEVEL_F_REACTED) &&
		    lv->allowed == XCRS_SVC_ALL && !lv->rate_Bps)
			VERDICT(XCRS_ACT_PASS, XCRS_R_ALLOWED);
		/* From here on the decision depends on what the packet is:
		 * anything not fully classified is dropped. */
		if (!(pi.flags & PI_COMPLETE)) /* later fragments never are */
			VERDICT(XCRS_ACT_DROP, XCRS_R_UNCLASSIFIED);
		svc = classify(peer, cfg, gen, pi.proto, peer_port);
		if (sc) {
			if (sc->mode == XCRS_CONTAIN_ISOLATE &&
			    !(sc->allowed & XCRS_SVC_BIT(svc)))
				VERDICT(XCRS_ACT_DROP, XCRS_R_ISOLATE);
			if (sc->mode == XCRS_CONTAIN_NO_LATERAL &&
			    is_subscriber(peer, gen, rt))
				VERDICT(XCRS_ACT_DROP, XCRS_R_NO_LATERAL);
			if (sc->mode >= XCRS_CONTAIN_MAX)
				VERDICT(XCRS_ACT_DROP, XCRS_R_ISOLATE);
		}
		if (!(lv->allowed & XCRS_SVC_BIT(svc)))
			VERDICT(XCRS_ACT_DROP, XCRS_R_LEVEL);
		if (lv->rate_Bps && !rate_ok(sub, lv, bytes))
			VERDICT(XCRS_ACT_DROP, XCRS_R_RATE);
		action = XCRS_ACT_PASS;
		reason = XCRS_R_ALLOWED;
	}

out:
	/* Scans are evidence whether or not this packet passes. Both
	 * detectors work in windows of a second or more: the coarse clock. */
	if (parsed && xcrs_role == XCRS_ROLE_ACCESS && cfg &&
	    cfg->fanout_threshold && (pi.flags & PI_NEW_FLOW))
		fanout(&pi.src, &pi.dst, cfg, bpf_ktime_get_coarse_ns());
	if (parsed && known && xcrs_role == XCRS_ROLE_ACCESS && cfg &&
	    (cfg->flags & XCRS_CFG_F_MS_DETECT))
		ms_seen(sub, bpf_ktime_get_coarse_ns());
	count(action, reason, bytes);
	if (reacted && slot)
		count_sub(slot, action == XCRS_ACT_DROP, bytes);
	return action == XCRS_ACT_PASS ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int xcrs_xdp(struct xdp_md *ctx)
{
	return xcrs_run(ctx, 0);
}

/* The second stage of a spread G-PDU, on the CPU the cpumap chose. */
SEC("xdp/cpumap")
int xcrs_xdp_cpumap(struct xdp_md *ctx)
{
	return xcrs_run(ctx, 1);
}
