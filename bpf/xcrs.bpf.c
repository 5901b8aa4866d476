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

/* Functions on every packet's path are inlined: on this machine's CPUs
 * (AMD, SRSO "safe RET") every BPF-to-BPF call's return costs 15-20 ns, as
 * much as a hash lookup. Paths taken by few packets are global functions,
 * which the verifier checks once instead of once per path into them
 * (inlined, fragment tracking and the tunnel check took the program from
 * 58k to 116k verified instructions, minutes under emulation). */
#define HOT_FN	static __always_inline
#define COLD_FN __attribute__((noinline))

/* In dependency order: the maps, then the features that use them. */
#include "lib/maps.h"
#include "lib/stats.h"
#include "lib/parse.h"
#include "lib/subs.h"
#include "lib/classify.h"
#include "lib/rate.h"
#include "lib/fanout.h"
#include "lib/seen.h"
#include "lib/frags.h"

/* A verdict: the action and the statistics' reason, in one scalar (what
 * a global function can return). */
#define V(act, why) (((act) << 8) | (why))
#define V_ACTION(v) ((v) >> 8)
#define V_REASON(v) ((v) & 0xff)

/* One judgement's state across its stages (parse, decide, account), on
 * the entry point's stack; the cold global functions get it by pointer. */
struct judgement {
	struct pinfo pi;
	__u64 bytes;
	__u32 gen;
	__u32 rt;
	__u32 outer_frag_end; /* a G-PDU's first outer fragment: its key is
			       * in xcrs_frag_scratch[0] */
	__u32 slot;	      /* the subscriber's counters, if reacted */
	__u8 known;	      /* a subscriber (entry, prefix or pool) */
	__u8 reacted;	      /* at a level that counts it */
	__u8 pad[6];
};

/* The subscriber's level, scope containment, service class and rate:
 * the verdict of a parsed packet that is no neighbour discovery. */
HOT_FN int xcrs_decide(struct judgement *j, const struct xcrs_cfg *cfg)
{
	const struct xcrs_addr *sub, *peer;
	struct xcrs_scope *sc = NULL;
	struct xcrs_level *lv;
	struct sub_res r = {};
	struct pinfo *pi = &j->pi;
	__u32 key, level, svc;
	__u16 peer_port;
	int known;

	if (xcrs_role == XCRS_ROLE_ACCESS) {
		sub = &pi->src;
		peer = &pi->dst;
		peer_port = pi->dport;
	} else {
		sub = &pi->dst;
		peer = &pi->src;
		peer_port = pi->sport;
	}

	known = find_sub(sub, j->gen, j->rt, &r);
	if (known == 3)
		known = 0; /* the RAN's address: no subscriber */
	level = r.level;
	if (known != 2 && (j->rt & XCRS_RT_SUBS_FULL)) {
		/* no entry of its own: fail closed while reactions do not
		 * fit */
		known = 1;
		level = cfg->full_level;
	}
	j->known = known != 0;
	if (!known) {
		level = cfg->default_level;
		if (level == XCRS_LEVEL_PASS)
			return V(XCRS_ACT_PASS, XCRS_R_UNKNOWN_PASS);
	}
	key = (j->gen & 1) * XCRS_LEVELS_MAX + (level & (XCRS_LEVELS_MAX - 1));
	lv = bpf_map_lookup_elem(&xcrs_levels, &key);
	if (!lv || level >= XCRS_LEVELS_MAX ||
	    !(lv->flags & XCRS_LEVEL_F_DEFINED))
		return V(XCRS_ACT_DROP, XCRS_R_BAD_LEVEL);
	j->reacted = known && (lv->flags & XCRS_LEVEL_F_REACTED);
	j->slot = r.slot;
	/* A level that allows no service drops whatever the packet is and
	 * whatever the scope says: no classification needed. */
	if (!lv->allowed)
		return V(XCRS_ACT_DROP, XCRS_R_LEVEL);

	if (r.scope) {
		sc = bpf_map_lookup_elem(&xcrs_scopes, &r.scope);
		if (sc && sc->mode == XCRS_CONTAIN_NONE)
			sc = NULL;
	}
	if (!sc && !(lv->flags & XCRS_LEVEL_F_REACTED) &&
	    lv->allowed == XCRS_SVC_ALL && !lv->rate_Bps)
		return V(XCRS_ACT_PASS, XCRS_R_ALLOWED);
	/* From here on the decision depends on what the packet is: anything
	 * not fully classified is dropped — but a later fragment of a packet
	 * whose first fragment passed gets its verdict (its rate still
	 * counts). */
	if (!(pi->flags & PI_COMPLETE)) {
		if (!(pi->flags & PI_FRAG_LATER) || !frag_follows(pi))
			return V(XCRS_ACT_DROP, XCRS_R_UNCLASSIFIED);
		goto rate;
	}
	if (pi->flags & PI_ICMP_QUOTE)
		/* an error about an allowed flow is that flow's */
		svc = classify(&pi->qpeer, cfg, j->gen, pi->qproto, pi->qport);
	else if (pi->flags & (xcrs_role == XCRS_ROLE_ACCESS ? PI_DST_MAPPED :
							      PI_SRC_MAPPED))
		svc = XCRS_SVC_OTHER;
	else
		svc = classify(peer, cfg, j->gen, pi->proto, peer_port);
	svc &= 63;
	if (sc) {
		if (sc->mode == XCRS_CONTAIN_ISOLATE &&
		    !(sc->allowed & XCRS_SVC_BIT(svc)))
			return V(XCRS_ACT_DROP, XCRS_R_ISOLATE);
		if (sc->mode == XCRS_CONTAIN_NO_LATERAL) {
			struct sub_res pr = {};

			int ps = find_sub(peer, j->gen, j->rt, &pr);

			if (ps == 1 || ps == 2)
				return V(XCRS_ACT_DROP, XCRS_R_NO_LATERAL);
		}
		if (sc->mode >= XCRS_CONTAIN_MAX)
			return V(XCRS_ACT_DROP, XCRS_R_ISOLATE);
	}
	if (!(lv->allowed & XCRS_SVC_BIT(svc)))
		return V(XCRS_ACT_DROP, XCRS_R_LEVEL);
rate:
	if (lv->rate_Bps && !rate_ok(sub, lv->rate_Bps, lv->burst_B, j->bytes))
		return V(XCRS_ACT_DROP, XCRS_R_RATE);
	return V(XCRS_ACT_PASS, XCRS_R_ALLOWED);
}

/* What follows a verdict: fragments remembered, scan and presence
 * evidence, counters. */
HOT_FN void xcrs_account(struct judgement *j, const struct xcrs_cfg *cfg,
			 __u32 v, int parsed)
{
	struct pinfo *pi = &j->pi;
	__u32 action, reason;

	action = V_ACTION(v) & 1;
	reason = V_REASON(v);
	if (reason >= XCRS_REASON_MAX)
		reason = XCRS_R_MALFORMED;
	/* A first fragment that passes: its later fragments follow it. */
	if (action == XCRS_ACT_PASS && parsed &&
	    ((pi->flags & PI_FRAG_FIRST) || j->outer_frag_end)) {
		__u32 z = 0, one = 1;
		struct xcrs_frag_key *ok =
			bpf_map_lookup_elem(&xcrs_frag_scratch, &z);
		struct xcrs_frag_key *k =
			bpf_map_lookup_elem(&xcrs_frag_scratch, &one);

		if (k && (pi->flags & PI_FRAG_FIRST)) {
			frag_key(pi, k);
			frag_remember(k, pi->frag_at);
		}
		if (ok && j->outer_frag_end)
			frag_remember(ok, j->outer_frag_end);
	}
	/* Scans are evidence whether or not this packet passes. Both
	 * detectors work in windows of a second or more: the coarse clock. */
	if (parsed && xcrs_role == XCRS_ROLE_ACCESS && cfg &&
	    cfg->fanout_threshold && (pi->flags & PI_NEW_FLOW))
		fanout(&pi->src, &pi->dst, cfg, bpf_ktime_get_coarse_ns());
	if (parsed && j->known && xcrs_role == XCRS_ROLE_ACCESS && cfg &&
	    (cfg->flags & XCRS_CFG_F_MS_DETECT))
		ms_seen(&pi->src, bpf_ktime_get_coarse_ns());
	count(action, reason, j->bytes);
	if (j->reacted && j->slot)
		count_sub(j->slot, action == XCRS_ACT_DROP, j->bytes);
}

#define VERDICT(act, why)                                                      \
	do {                                                                   \
		v = V(act, why);                                               \
		goto out;                                                      \
	} while (0)

/* The whole judgement of one frame: the headers up to the packet to judge
 * (through a G-PDU), then xcrs_decide and xcrs_account. stage2: it came
 * through the cpumap (never spread again). */
static __always_inline int xcrs_run(struct xdp_md *ctx, const int stage2)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct judgement j = {};
	struct pinfo *pi = &j.pi;
	struct ethhdr *eth = data;
	struct xcrs_cfg *cfg;
	__u32 v, off;
	int parsed = 0;
	__u16 proto;

	j.bytes = data_end - data;
	j.gen = active_gen();
	j.rt = runtime_flags();
	cfg = bpf_map_lookup_elem(&xcrs_cfg, &j.gen);
	if (!cfg)
		VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);

	if ((void *)(eth + 1) > data_end)
		VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);
	proto = bpf_ntohs(eth->h_proto);
	off = sizeof(*eth);
	/* What may stand between Ethernet and IP on an edge: VLAN tags
	 * (802.1Q, 802.1ad, and the old 0x9100 QinQ TPID), a PPPoE session
	 * header, an MPLS label stack. Up to XCRS_L2_HDRS_MAX of them are
	 * walked to the IP packet they carry, which is judged like any
	 * other; more is dropped (a subscriber could hide behind them). */
#pragma unroll
	for (int i = 0; i < XCRS_L2_HDRS_MAX; i++) {
		__u8 *h = data + off;

		if (proto == ETH_P_8021Q_ || proto == ETH_P_8021AD_ ||
		    proto == ETH_P_QINQ_9100_) {
			if ((void *)(h + 4) > data_end)
				VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);
			proto = (__u16)h[2] << 8 | h[3];
			off += 4;
		} else if (proto == ETH_P_PPPOE_SESS_) {
			__u16 ppp;

			/* version/type, code 0 (session data), session id,
			 * length, then the PPP protocol */
			if ((void *)(h + 8) > data_end)
				VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);
			if (h[0] != 0x11 || h[1] != 0)
				VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);
			ppp = (__u16)h[6] << 8 | h[7];
			off += 8;
			/* PPP's own control protocols (LCP, IPCP...) are
			 * not IP: the non-IP setting */
			proto = ppp == 0x0021 ? ETH_P_IP_ :
				ppp == 0x0057 ? ETH_P_IPV6_ : 0;
		} else if (proto == ETH_P_MPLS_UC_ || proto == ETH_P_MPLS_MC_) {
			if ((void *)(h + 5) > data_end)
				VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);
			off += 4;
			/* bottom of the stack: IP by its version nibble;
			 * anything else (a pseudowire) is not IP */
			if (h[2] & 1)
				proto = (h[4] >> 4) == 4 ? ETH_P_IP_ :
					(h[4] >> 4) == 6 ? ETH_P_IPV6_ : 0;
		} else {
			break;
		}
	}
	if (proto == ETH_P_8021Q_ || proto == ETH_P_8021AD_ ||
	    proto == ETH_P_QINQ_9100_ || proto == ETH_P_PPPOE_SESS_ ||
	    proto == ETH_P_MPLS_UC_ || proto == ETH_P_MPLS_MC_)
		VERDICT(XCRS_ACT_DROP, XCRS_R_VLAN_DEPTH);
	if (proto != ETH_P_IP_ && proto != ETH_P_IPV6_) {
		if (proto == ETH_P_ARP_ || cfg->nonip_action == XCRS_NONIP_PASS)
			VERDICT(XCRS_ACT_PASS, XCRS_R_NON_IP);
		VERDICT(XCRS_ACT_DROP, XCRS_R_NON_IP);
	}

	/* the common packet parsed inline, the rest by parse_ip() */
	if (!(proto == ETH_P_IP_ ? parse_v4_fast(data, data_end, off, pi) :
				   parse_v6_fast(data, data_end, off, pi)) &&
	    parse_ip(ctx, off, proto == ETH_P_IP_ ? 4 : 6, pi) < 0)
		VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);

	/* On a GTP-U interface, headers cut short (or too many IPv6
	 * extension headers) may hide a G-PDU, and with it a subscriber:
	 * never classify such a packet by its outer addresses. */
	if (xcrs_gtpu && !(pi->flags & (PI_COMPLETE | PI_FRAG_LATER)))
		VERDICT(XCRS_ACT_DROP, XCRS_R_MALFORMED);
	/* A later fragment from the RAN carries the rest of a G-PDU whose
	 * inner packet only its first fragment shows: it follows that
	 * one's verdict, or is dropped (it cannot be judged). */
	if (xcrs_gtpu && (pi->flags & PI_FRAG_LATER) &&
	    (cfg->flags & XCRS_CFG_F_RAN) &&
	    outer_is_tunnel(xcrs_role == XCRS_ROLE_ACCESS ? &pi->src :
							    &pi->dst,
			    j.gen, j.rt)) {
		if (frag_follows(pi))
			VERDICT(XCRS_ACT_PASS, XCRS_R_ALLOWED);
		VERDICT(XCRS_ACT_DROP, XCRS_R_UNCLASSIFIED);
	}
	/* Only the RAN's tunnel is decapsulated: a UDP/2152 packet from an
	 * address of the policy's RAN prefixes (without any in the policy:
	 * from an address that is no subscriber). Anything else — a
	 * subscriber's own UDP/2152, a terminal spoofing the RAN — is judged
	 * as a plain packet of its outer source: decapsulating it would let
	 * the sender choose the inner source that is judged (and pass
	 * "signalling" untouched). */
	if (xcrs_gtpu && pi->proto == IPPROTO_UDP && (pi->flags & PI_COMPLETE) &&
	    pi->dport == XCRS_GTPU_PORT && pi->l4_end &&
	    outer_is_tunnel(xcrs_role == XCRS_ROLE_ACCESS ? &pi->src :
							    &pi->dst,
			    j.gen, j.rt)) {
		__u32 udp_end;
		int r;

		if (pi->udp_len < sizeof(struct udp_hdr_))
			VERDICT(XCRS_ACT_DROP, XCRS_R_GTPU_MALFORMED);
		udp_end = pi->l4_end - sizeof(struct udp_hdr_) + pi->udp_len;
		r = parse_gtpu(ctx, pi->l4_end, udp_end);
		if (r == -GTPU_SIGNALLING)
			VERDICT(XCRS_ACT_PASS, XCRS_R_GTPU_SIGNALLING);
		if (r == -GTPU_UNKNOWN)
			VERDICT(XCRS_ACT_DROP, XCRS_R_GTPU_UNKNOWN_TYPE);
		if (r <= 0)
			VERDICT(XCRS_ACT_DROP, XCRS_R_GTPU_MALFORMED);
		if (!stage2 && xcrs_spread == XCRS_SPREAD_TEID &&
		    xcrs_spread_n) {
			/* the TEID: 4 bytes at the G-PDU header's offset 4 */
			__u32 o = bound_off(pi->l4_end) + 4, teid, idx;
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
		if (pi->flags & PI_FRAG_FIRST) {
			__u32 z = 0;
			struct xcrs_frag_key *ok =
				bpf_map_lookup_elem(&xcrs_frag_scratch, &z);

			if (ok) {
				frag_key(pi, ok);
				j.outer_frag_end = pi->frag_at ? pi->frag_at : 1;
			}
		}
		__builtin_memset(pi, 0, sizeof(*pi));
		if (parse_ip(ctx, r, 0, pi) < 0)
			VERDICT(XCRS_ACT_DROP, XCRS_R_GTPU_MALFORMED);
		if (!stage2 && xcrs_spread == XCRS_SPREAD_INNER &&
		    xcrs_spread_n) {
			const struct xcrs_addr *ue = xcrs_role ==
							     XCRS_ROLE_ACCESS ?
							     &pi->src :
							     &pi->dst;
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
	if (pi->flags & PI_ND)
		VERDICT(XCRS_ACT_PASS, XCRS_R_ND);
	parsed = 1;
	v = xcrs_decide(&j, cfg);
out:
	xcrs_account(&j, cfg, v, parsed);
	return V_ACTION(v) == XCRS_ACT_PASS ? XDP_PASS : XDP_DROP;
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
