/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Service classes: the peer's (address, protocol, port) through the per-CPU
 * class cache in front of the service LPM.
 */
#ifndef XCRS_BPF_CLASSIFY
#define XCRS_BPF_CLASSIFY

/* Service class of the peer: first rule of the longest matching prefix
 * that fits protocol and port, else XCRS_SVC_OTHER. */
static __always_inline __u32 classify_lpm(const struct xcrs_addr *peer,
					  __u32 gen, __u8 proto, __u16 port)
{
	struct xcrs_lpm_key k;
	struct xcrs_svc_entry *e;

	k.prefixlen = 32 + 128;
	k.gen = gen;
	addr_copy(k.addr, peer->a);
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
 * an attacker's colliding peers) costs the LPM lookup and a store; the
 * caller's settings give the epoch. */
HOT_FN int classify(const struct xcrs_addr *peer, const struct xcrs_cfg *cfg,
		    __u32 gen, __u8 proto, __u16 port)
{
	struct xcrs_svc_cache_ent *c;
	__u64 *ca, *pa;
	__u32 slot;

	slot = xcrs_svc_cache_slot(peer->a, proto, port);
	c = bpf_map_lookup_elem(&xcrs_svc_cache, &slot);
	if (!c)
		return classify_lpm(peer, gen, proto, port);
	ca = (__u64 *)c->addr;
	pa = (__u64 *)peer->a;
	if (c->epoch == cfg->epoch && cfg->epoch && c->port == port &&
	    c->proto == proto && ca[0] == pa[0] && ca[1] == pa[1])
		return c->svc;
	c->svc = (__u8)classify_lpm(peer, gen, proto, port);
	addr_copy(c->addr, peer->a);
	c->port = port;
	c->proto = proto;
	c->epoch = cfg->epoch;
	return c->svc;
}

#endif
