/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Subscribers: the active policy generation, host entries, pools, prefix
 * decisions, and the outer-address cache of GTP-U.
 */
#ifndef XCRS_BPF_SUBS
#define XCRS_BPF_SUBS

static __always_inline __u32 active_gen(void)
{
	__u32 z = 0, *g = bpf_map_lookup_elem(&xcrs_gen, &z);

	return g ? (*g & 1) : 0;
}

/* What find_sub() found. */
struct sub_res {
	__u32 scope;
	__u32 level;
	__u32 slot;
};

/* An entry's level now (its base level after it expired; 0: it ended and
 * the address is looked up further), from the fields both kinds of entry
 * have. */
static __always_inline int sub_resolve(__u64 expires_ns, __u8 level,
				       __u8 base_level, __u32 scope, __u32 slot,
				       struct sub_res *r)
{
	int expired = expires_ns && bpf_ktime_get_coarse_ns() >= expires_ns;

	if (expired && base_level == XCRS_SUB_BASE_NONE)
		return 0;
	r->scope = scope;
	r->level = expired ? base_level : level;
	r->slot = slot;
	return 2;
}

/* A prefix decision's entry (struct xcrs_sub). */
static __always_inline int sub_entry(const struct xcrs_sub *s,
				     struct sub_res *r)
{
	return sub_resolve(s->expires_ns, s->level, s->base_level, s->scope,
			   s->stats_slot, r);
}

/* A host map's entry (struct xcrs_sub_ent). */
static __always_inline int sub_ent(const struct xcrs_sub_ent *s,
				   struct sub_res *r)
{
	return sub_resolve(s->expires_ns, s->level, s->base_level, s->scope,
			   s->stats_slot, r);
}

/* Finds a subscriber: exact host first, then (IPv6) the /64 of a
 * session, then a decision on a prefix (2), then the address pools (1);
 * 3 for an address of a RAN prefix (no subscriber), 0 if none. The clock
 * is read only for an entry that expires, and it is the coarse one (a
 * tick at most behind; the precise clock costs ~20 ns per read on virtual
 * machines, more than the lookup). A global function: the verifier checks
 * it once, not at each of its callers (the subscriber, a no-lateral peer,
 * a tunnel's outer address). */
HOT_FN int find_sub(const struct xcrs_addr *a, __u32 gen,
					__u32 rt, struct sub_res *r)
{
	struct xcrs_sub_ent *e;
	struct xcrs_sub *s;
	struct xcrs_lpm_key k;
	struct xcrs_pool *p;
	__u32 w[4];

	if (!a || !r)
		return 0;
	addr_copy(w, a->a);
	if (!w[0] && !w[1] && w[2] == bpf_htonl(0xffff)) {
		/* IPv4 (or its mapped form): keyed by the 4 bytes */
		e = bpf_map_lookup_elem(&xcrs_sub4, &w[3]);
		if (e && sub_ent(e, r))
			return 2;
	} else {
		e = bpf_map_lookup_elem(&xcrs_sub6, a);
		if (e && sub_ent(e, r))
			return 2;
		/* an IPv6 terminal is its /64 */
		e = bpf_map_lookup_elem(&xcrs_sub64, w);
		if (e && sub_ent(e, r))
			return 2;
	}
	/* then a decision on a prefix holding it (only when there is one) */
	if (rt & XCRS_RT_PREFIXES) {
		struct xcrs_prefix_key pk = { .prefixlen = 128 };

		addr_copy(pk.addr, a->a);
		s = bpf_map_lookup_elem(&xcrs_react_prefixes, &pk);
		if (s && sub_entry(s, r))
			return 2;
	}
	k.prefixlen = 32 + 128;
	k.gen = gen & 1;
	addr_copy(k.addr, a->a);
	p = bpf_map_lookup_elem(&xcrs_pools, &k);
	if (!p)
		return 0;
	if (p->flags & XCRS_POOL_F_RAN)
		return 3; /* the RAN's, no subscriber */
	r->scope = p->scope;
	r->level = p->level;
	r->slot = 0;
	return 1;
}

/* Whether a UDP/2152 packet whose RAN-side address is a is the RAN's
 * tunnel (to be decapsulated): with RAN prefixes in the policy, a is one
 * of them; without, a is no subscriber. Through this CPU's cache: valid
 * for one policy epoch and one subscriber-set version. */
COLD_FN int outer_is_tunnel(const struct xcrs_addr *a_arg, __u32 gen,
			    __u32 rt)
{
	const struct xcrs_addr *a;
	__u32 k = XCRS_GEN_SLOT_SUBSET, *sv = bpf_map_lookup_elem(&xcrs_gen, &k),
	      subset = sv ? *sv : 0, w[4], slot, cls;
	struct xcrs_outer_cache_ent *c;
	struct xcrs_cfg *cfg;
	struct sub_res r = {};
	/* map keys on the stack (Linux 6.1 takes no argument memory as a
	 * key) */
	struct xcrs_addr ka __attribute__((aligned(8)));
	__u64 *ca, *pa;

	cfg = bpf_map_lookup_elem(&xcrs_cfg, &gen);
	if (!a_arg || !cfg)
		return 0;
	addr_copy(ka.a, a_arg->a);
	a = &ka;
	addr_copy(w, a->a);
	slot = ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1u) >> 24;
	c = bpf_map_lookup_elem(&xcrs_outer_cache, &slot);
	ca = c ? (__u64 *)c->addr : 0;
	pa = (__u64 *)a->a;
	if (c && cfg->epoch && c->epoch == cfg->epoch &&
	    c->subset == subset && ca[0] == pa[0] && ca[1] == pa[1]) {
		cls = c->is_sub;
	} else {
		/* 1 a subscriber, 2 the RAN's, 0 neither */
		cls = find_sub(a, gen, rt, &r);
		cls = cls == 3 ? 2 : cls ? 1 : 0;
		if (c && cfg->epoch) {
			c->is_sub = cls;
			addr_copy(c->addr, a->a);
			c->epoch = cfg->epoch;
			c->subset = subset;
		}
	}
	return (cfg->flags & XCRS_CFG_F_RAN) ? cls == 2 : cls != 1;
}

static __always_inline __u32 runtime_flags(void)
{
	__u32 k = XCRS_GEN_SLOT_RUNTIME, *rt = bpf_map_lookup_elem(&xcrs_gen, &k);

	return rt ? *rt : 0;
}

#endif
