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

/* Finds a subscriber: exact host first, then (IPv6) the /64 of a session,
 * then a decision on a prefix (2),
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
	/* an IPv6 terminal is its /64: the entry keyed by the prefix */
	{
		__u32 w[4];

		__builtin_memcpy(w, a->a, 16);
		if (w[0] || w[1] || w[2] != bpf_htonl(0xffff)) {
			w[2] = 0;
			w[3] = 0;
			s = bpf_map_lookup_elem(&xcrs_subs, w);
			if (s && (s->flags & XCRS_SUB_F_PREFIX64) &&
			    sub_entry(s, scope, level, slot))
				return 2;
		}
	}
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
	if (p && !(p->flags & XCRS_POOL_F_RAN)) {
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

/* What a GTP-U packet's RAN-side address is: 1 a subscriber, 2 the
 * RAN's (a RAN prefix, no subscriber entry), 0 neither. */
static __always_inline __u32 outer_class(const struct xcrs_addr *a, __u32 gen,
					 __u32 rt)
{
	struct xcrs_lpm_key k;
	struct xcrs_pool *p;

	if (is_subscriber(a, gen, rt))
		return 1;
	k.prefixlen = 32 + 128;
	k.gen = gen;
	__builtin_memcpy(k.addr, a->a, 16);
	p = bpf_map_lookup_elem(&xcrs_pools, &k);
	return p && (p->flags & XCRS_POOL_F_RAN) ? 2 : 0;
}

/* Whether a UDP/2152 packet whose RAN-side address is a is the RAN's
 * tunnel (to be decapsulated): with RAN prefixes in the policy, a is one
 * of them; without, a is no subscriber. Through this CPU's cache: valid
 * for one policy epoch and one subscriber-set version. */
static __always_inline int outer_is_tunnel(const struct xcrs_addr *a,
					   const struct xcrs_cfg *cfg,
					   __u32 gen, __u32 rt)
{
	__u32 k = XCRS_GEN_SLOT_SUBSET, *sv = bpf_map_lookup_elem(&xcrs_gen, &k),
	      subset = sv ? *sv : 0, w[4], slot, cls;
	struct xcrs_outer_cache_ent *c;
	__u64 *ca, *pa;

	__builtin_memcpy(w, a->a, 16);
	slot = ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1u) >> 24;
	c = bpf_map_lookup_elem(&xcrs_outer_cache, &slot);
	ca = c ? (__u64 *)c->addr : 0;
	pa = (__u64 *)a->a;
	if (c && cfg->epoch && c->epoch == cfg->epoch &&
	    c->subset == subset && ca[0] == pa[0] && ca[1] == pa[1]) {
		cls = c->is_sub;
	} else {
		cls = outer_class(a, gen, rt);
		if (c && cfg->epoch) {
			c->is_sub = cls;
			__builtin_memcpy(c->addr, a->a, 16);
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
