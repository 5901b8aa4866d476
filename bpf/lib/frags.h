/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fragments: a later fragment gets the verdict of its first (xcrs_abi.h,
 * xcrs_frags), as stateful firewalls do; one without a first that passed
 * is left to the caller (it fails closed for what needs its headers).
 */
#ifndef XCRS_BPF_FRAGS
#define XCRS_BPF_FRAGS

static __always_inline void frag_key(const struct pinfo *pi,
				     struct xcrs_frag_key *k)
{
	addr_copy(k->src, pi->src.a);
	addr_copy(k->dst, pi->dst.a);
	k->id = pi->frag_id;
	k->proto = pi->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/* A first fragment that passed (k from frag_key, end its frag_at). */
static __always_inline void frag_remember(const struct xcrs_frag_key *k,
					  __u32 end)
{
	struct xcrs_frag v = { .at_ns = bpf_ktime_get_coarse_ns(),
			       .end = end };

	bpf_map_update_elem(&xcrs_frags, k, &v, BPF_ANY);
}

/* Whether the later fragment pi follows a first fragment that passed:
 * the same packet, not before the end of what the first one held (an
 * overlap could rewrite its headers), within XCRS_FRAG_NS. */
COLD_FN int frag_follows(const struct pinfo *pi)
{
	struct xcrs_frag_key k;
	struct xcrs_frag *v;

	if (!pi)
		return 0;
	frag_key(pi, &k);
	v = bpf_map_lookup_elem(&xcrs_frags, &k);
	return v && pi->frag_at >= v->end &&
	       bpf_ktime_get_coarse_ns() - v->at_ns < XCRS_FRAG_NS;
}

#endif
