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

/* In dependency order: the maps, then the features that use them. */
#include "lib/maps.h"
#include "lib/stats.h"
#include "lib/parse.h"
#include "lib/subs.h"
#include "lib/classify.h"
#include "lib/rate.h"
#include "lib/fanout.h"
#include "lib/seen.h"

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
	/* Only the RAN's tunnel is decapsulated: a UDP/2152 packet from an
	 * address of the policy's RAN prefixes (without any in the policy:
	 * from an address that is no subscriber). Anything else — a
	 * subscriber's own UDP/2152, a terminal spoofing the RAN — is judged
	 * as a plain packet of its outer source: decapsulating it would let
	 * the sender choose the inner source that is judged (and pass
	 * "signalling" untouched). */
	if (xcrs_gtpu && pi.proto == IPPROTO_UDP && (pi.flags & PI_COMPLETE) &&
	    pi.dport == XCRS_GTPU_PORT && pi.l4_end &&
	    outer_is_tunnel(xcrs_role == XCRS_ROLE_ACCESS ? &pi.src : &pi.dst,
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
		svc = (pi.flags & (xcrs_role == XCRS_ROLE_ACCESS ?
					   PI_DST_MAPPED :
					   PI_SRC_MAPPED)) ?
			      XCRS_SVC_OTHER :
			      classify(peer, cfg, gen, pi.proto, peer_port);
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
