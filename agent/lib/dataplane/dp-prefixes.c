// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dataplane library (see dataplane.h): Decisions on prefixes, scope containment and the run-time flags.
 */
#include "dp-internal.h"

/* ---- decisions on prefixes ---- */

static int prefix_key(struct dp *dp, const struct xcrs_addr *a, unsigned plen,
		      struct xcrs_prefix_key *k, char *t, size_t tlen)
{
	struct xcrs_addr m = *a;

	addr_prefix_format(a, plen, t, tlen);
	if (plen > 128)
		return dp_fail(dp, -EINVAL, "prefix %s: length", t);
	addr_mask(&m, plen);
	if (memcmp(&m, a, sizeof(m)))
		return dp_fail(dp, -EINVAL, "prefix %s: host bits set", t);
	k->prefixlen = plen;
	memcpy(k->addr, a->a, 16);
	return 0;
}

int dp_prefix_set(struct dp *dp, const struct xcrs_addr *a, unsigned plen,
		  const struct xcrs_sub *s)
{
	struct xcrs_prefix_key k;
	struct xcrs_sub v = *s, old;
	char t[64];
	bool exists;
	int r = prefix_key(dp, a, plen, &k, t, sizeof(t));

	if (r)
		return r;
	if (s->level >= XCRS_LEVELS_MAX ||
	    (s->base_level >= XCRS_LEVELS_MAX &&
	     !(s->base_level == XCRS_SUB_BASE_NONE && s->expires_ns)))
		return dp_fail(dp, -EINVAL, "prefix %s: level %u/%u out of "
			       "range", t, s->level, s->base_level);
	for (size_t i = 0; i < dp->nnever; i++) {
		const struct dp_pool *n = &dp->never[i];

		if (addr_prefix_contains(&n->addr, n->plen, a, plen) ||
		    addr_prefix_contains(a, plen, &n->addr, n->plen)) {
			char pf[64];

			addr_prefix_format(&n->addr, n->plen, pf, sizeof(pf));
			return dp_fail(dp, -EPERM, "prefix %s: overlaps "
				       "never-react prefix %s", t, pf);
		}
	}
	v.stats_slot = 0;
	v.pad2 = 0;
	exists = !bpf_map_lookup_elem(dp->fds[M_PREFIXES], &k, &old);
	if (bpf_map_update_elem(dp->fds[M_PREFIXES], &k, &v, BPF_ANY))
		return map_write_fail(dp, M_PREFIXES, -errno, t);
	if (!exists)
		subset_bump(dp);
	if (!exists && dp->nprefixes++ == 0 && (r = rt_write(dp)))
		return r;
	return dp_ok(dp);
}

int dp_prefix_get(struct dp *dp, const struct xcrs_addr *a, unsigned plen,
		  struct xcrs_sub *ret_sub)
{
	struct xcrs_prefix_key k;
	struct xcrs_sub v;
	char t[64];
	int r = prefix_key(dp, a, plen, &k, t, sizeof(t));

	if (r)
		return r;
	if (bpf_map_lookup_elem(dp->fds[M_PREFIXES], &k, &v))
		return dp_fail(dp, -errno, "prefix %s", t);
	*ret_sub = v;
	return dp_ok(dp);
}

int dp_prefix_del(struct dp *dp, const struct xcrs_addr *a, unsigned plen)
{
	struct xcrs_prefix_key k;
	char t[64];
	int r = prefix_key(dp, a, plen, &k, t, sizeof(t));

	if (r)
		return r;
	if (bpf_map_delete_elem(dp->fds[M_PREFIXES], &k))
		return dp_fail(dp, -errno, "removing prefix %s", t);
	subset_bump(dp);
	if (dp->nprefixes && --dp->nprefixes == 0 && (r = rt_write(dp)))
		return r;
	return dp_ok(dp);
}

int dp_prefix_each(struct dp *dp,
		   void (*fn)(void *ctx, const struct xcrs_addr *a,
			      unsigned plen, const struct xcrs_sub *s),
		   void *ctx)
{
	struct xcrs_prefix_key k, next;
	struct xcrs_sub v;
	int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(dp->fds[M_PREFIXES], prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(dp->fds[M_PREFIXES], &k, &v))
			continue;
		{
			struct xcrs_addr a;

			memcpy(a.a, k.addr, 16);
			fn(ctx, &a, k.prefixlen, &v);
		}
		n++;
	}
	return n;
}

int dp_runtime_get(struct dp *dp, __u32 *ret_flags)
{
	__u32 k = XCRS_GEN_SLOT_RUNTIME, v;

	if (bpf_map_lookup_elem(dp->fds[M_GEN], &k, &v))
		return dp_fail(dp, -errno, "reading the run-time flags");
	*ret_flags = v;
	return dp_ok(dp);
}

__u64 dp_slots_used(const struct dp *dp, __u64 *ret_capacity)
{
	__u64 used = 0;

	for (__u32 s = 1; s < dp->nslots; s++)
		used += slot_taken(dp, s);
	if (ret_capacity)
		*ret_capacity = dp->nslots - 1;
	return used;
}

__u64 dp_subs_count(const struct dp *dp, __u64 *ret_capacity)
{
	/* the fullest of the host maps */
	enum dp_map f = M_SUB4;

	for (enum dp_map m = M_SUB64; m <= M_SUB6; m++)
		if (dp->nsubs[m - M_SUB4] * dp->max[f] >
		    dp->nsubs[f - M_SUB4] * dp->max[m])
			f = m;
	if (ret_capacity)
		*ret_capacity = dp->max[f];
	return dp->nsubs[f - M_SUB4];
}

int dp_scope_set(struct dp *dp, __u32 scope, const struct xcrs_scope *sc)
{
	if (!scope)
		return dp_fail(dp, -EINVAL, "scope id 0 means no scope");
	if (sc->mode >= XCRS_CONTAIN_MAX)
		return dp_fail(dp, -EINVAL, "scope %u: unknown containment %u",
			       scope, sc->mode);
	if (sc->mode == XCRS_CONTAIN_NONE) {
		if (bpf_map_delete_elem(dp->fds[M_SCOPES], &scope) &&
		    errno != ENOENT)
			return dp_fail(dp, -errno, "releasing scope %u", scope);
		return dp_ok(dp);
	}
	if (bpf_map_update_elem(dp->fds[M_SCOPES], &scope, sc, BPF_ANY)) {
		char t[32];

		snprintf(t, sizeof(t), "scope %u", scope);
		return map_write_fail(dp, M_SCOPES, -errno, t);
	}
	return dp_ok(dp);
}

int dp_scope_get(struct dp *dp, __u32 scope, struct xcrs_scope *ret_scope)
{
	struct xcrs_scope sc;

	if (bpf_map_lookup_elem(dp->fds[M_SCOPES], &scope, &sc)) {
		if (errno != ENOENT)
			return dp_fail(dp, -errno, "reading scope %u", scope);
		memset(&sc, 0, sizeof(sc));
	}
	*ret_scope = sc;
	return dp_ok(dp);
}
