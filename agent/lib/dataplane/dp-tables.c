// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dataplane library (see dataplane.h): The policy's tables (levels, services, pools, settings), written to
 * the inactive generation and flipped in one write.
 */
#include "dp-internal.h"

/* ---- policy ---- */

/* Deletes every LPM entry of generation gen. */
static int lpm_clear_gen(struct dp *dp, enum dp_map m, __u32 gen)
{
	struct xcrs_lpm_key k, next, *del = NULL;
	size_t ndel = 0, cap = 0;
	void *prev = NULL;
	int r = 0;

	while (!bpf_map_get_next_key(dp->fds[m], prev, &next)) {
		if (next.gen == gen) {
			if (ndel == cap) {
				struct xcrs_lpm_key *n;

				cap = cap ? 2 * cap : 64;
				n = realloc(del, cap * sizeof(*n));
				if (!n) {
					free(del);
					return dp_fail(dp, -ENOMEM,
						       "clearing %s",
						       map_roles[m]);
				}
				del = n;
			}
			del[ndel++] = next;
		}
		k = next;
		prev = &k;
	}
	for (size_t i = 0; i < ndel; i++) {
		if (bpf_map_delete_elem(dp->fds[m], &del[i]) && errno != ENOENT) {
			r = dp_fail(dp, -errno, "clearing %s", map_roles[m]);
			break;
		}
	}
	free(del);
	return r;
}

/* Whether rule i is the first rule of its prefix (one LPM entry each). */
static bool first_of_prefix(const struct dp_policy *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (p->rules[j].plen == p->rules[i].plen &&
		    !memcmp(&p->rules[j].addr, &p->rules[i].addr,
			    sizeof(p->rules[i].addr)))
			return false;
	return true;
}

static int validate_policy(struct dp *dp, const struct dp_policy *p);

int dp_policy_check(struct dp *dp, const struct dp_policy *p)
{
	return validate_policy(dp, p);
}

static int validate_policy(struct dp *dp, const struct dp_policy *p)
{
	size_t nprefixes;
	char t[64];

	if (p->nlevels < 1 || p->nlevels > XCRS_LEVELS_MAX)
		return dp_fail(dp, -EINVAL, "policy has %u levels (1..%d)",
			       p->nlevels, XCRS_LEVELS_MAX);
	if (p->cfg.default_level != XCRS_LEVEL_PASS &&
	    p->cfg.default_level >= p->nlevels)
		return dp_fail(dp, -EINVAL,
			       "default level %u is not defined (%u levels)",
			       p->cfg.default_level, p->nlevels);
	if (p->cfg.nonip_action > XCRS_NONIP_DROP)
		return dp_fail(dp, -EINVAL, "unknown non-IP action %u",
			       p->cfg.nonip_action);
	if (p->cfg.fanout_threshold > XCRS_FANOUT_THRESHOLD_MAX)
		return dp_fail(dp, -ERANGE,
			       "fan-out threshold %u is over the maximum %d",
			       p->cfg.fanout_threshold,
			       XCRS_FANOUT_THRESHOLD_MAX);
	if (p->cfg.fanout_threshold && !p->cfg.fanout_window_ns)
		return dp_fail(dp, -EINVAL,
			       "fan-out detection needs a window");
	for (unsigned i = 0; i < p->nlevels; i++)
		if (p->levels[i].rate_Bps && !p->levels[i].burst_B)
			return dp_fail(dp, -EINVAL,
				       "level %u has a rate but no burst", i);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct dp_service_rule *r = &p->rules[i];
		struct xcrs_addr m = r->addr;

		addr_prefix_format(&r->addr, r->plen, t, sizeof(t));
		addr_mask(&m, r->plen);
		if (r->plen > 128 || memcmp(&m, &r->addr, sizeof(m)))
			return dp_fail(dp, -EINVAL,
				       "service rule %zu: %s is not a prefix",
				       i + 1, t);
		if (r->svc > XCRS_SVC_MAX - 1)
			return dp_fail(dp, -EINVAL,
				       "service rule %zu (%s): class %u is "
				       "over %d",
				       i + 1, t, r->svc, XCRS_SVC_MAX - 1);
		if (r->port_lo > r->port_hi)
			return dp_fail(dp, -EINVAL,
				       "service rule %zu (%s): port range "
				       "%u-%u is empty",
				       i + 1, t, r->port_lo, r->port_hi);
	}
	if (p->npools > dp->max[M_POOLS] / 2)
		return dp_fail(dp, -E2BIG,
			       "policy has %zu address pools; the dataplane "
			       "holds at most %u (max_pools)",
			       p->npools, dp->max[M_POOLS] / 2);
	nprefixes = 0;
	for (size_t i = 0; i < p->nrules; i++)
		nprefixes += first_of_prefix(p, i);
	if (nprefixes > dp->max[M_SVCS] / 2)
		return dp_fail(dp, -E2BIG,
			       "policy has %zu service prefixes; the "
			       "dataplane holds at most %u (max_svc_prefixes)",
			       nprefixes, dp->max[M_SVCS] / 2);
	for (size_t i = 0; i < p->npools; i++) {
		struct xcrs_addr m = p->pools[i].addr;

		addr_prefix_format(&m, p->pools[i].plen, t, sizeof(t));
		addr_mask(&m, p->pools[i].plen);
		if (p->pools[i].plen > 128 ||
		    memcmp(&m, &p->pools[i].addr, sizeof(m)))
			return dp_fail(dp, -EINVAL, "pool %zu: %s is not a prefix",
				       i + 1, t);
		if (p->pools[i].level >= p->nlevels)
			return dp_fail(dp, -EINVAL,
				       "pool %s: level %u is not defined", t,
				       p->pools[i].level);
	}
	return 0;
}

/* Service rules of one LPM prefix: its own rules in policy order, then
 * those of each enclosing prefix, longer prefixes first. */
static int build_svc_entry(struct dp *dp, const struct dp_policy *p,
			   const struct dp_service_rule *pfx,
			   struct xcrs_svc_entry *e)
{
	char t[64];

	memset(e, 0, sizeof(*e));
	for (int plen = (int)pfx->plen; plen >= 0; plen--) {
		for (size_t i = 0; i < p->nrules; i++) {
			const struct dp_service_rule *r = &p->rules[i];

			if (r->plen != (unsigned)plen ||
			    !addr_prefix_contains(&r->addr, r->plen, &pfx->addr,
					     pfx->plen))
				continue;
			if (e->nrules == XCRS_SVC_RULES_MAX) {
				addr_prefix_format(&pfx->addr, pfx->plen, t,
					      sizeof(t));
				return dp_fail(dp, -E2BIG,
					       "peer prefix %s is covered by "
					       "more than %d service rules",
					       t, XCRS_SVC_RULES_MAX);
			}
			e->rules[e->nrules++] = (struct xcrs_svc_rule){
				.proto = r->proto,
				.svc = r->svc,
				.port_lo = r->port_lo,
				.port_hi = r->port_hi,
			};
		}
	}
	return 0;
}

static struct xcrs_lpm_key lpm_key(__u32 gen, const struct xcrs_addr *a,
				   unsigned plen)
{
	struct xcrs_lpm_key k = { .prefixlen = 32 + plen, .gen = gen };

	memcpy(k.addr, a->a, 16);
	return k;
}

static int write_svcs(struct dp *dp, const struct dp_policy *p, __u32 gen)
{
	struct xcrs_svc_entry e;
	char t[64];
	int r;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct dp_service_rule *ri = &p->rules[i];
		struct xcrs_lpm_key k;

		if (!first_of_prefix(p, i))
			continue; /* one entry per distinct prefix */
		r = build_svc_entry(dp, p, ri, &e);
		if (r)
			return r;
		k = lpm_key(gen, &ri->addr, ri->plen);
		if (bpf_map_update_elem(dp->fds[M_SVCS], &k, &e, BPF_ANY)) {
			addr_prefix_format(&ri->addr, ri->plen, t, sizeof(t));
			return map_write_fail(dp, M_SVCS, -errno, t);
		}
	}
	return 0;
}

static int write_pools(struct dp *dp, const struct dp_policy *p, __u32 gen)
{
	char t[64];

	for (size_t i = 0; i < p->npools; i++) {
		const struct dp_pool *pl = &p->pools[i];
		struct xcrs_lpm_key k = lpm_key(gen, &pl->addr, pl->plen);
		struct xcrs_pool v = {
			.scope = pl->never || pl->ran ? 0 : pl->scope,
			.level = pl->level,
			.flags = pl->ran ? XCRS_POOL_F_RAN : 0,
		};

		if (bpf_map_update_elem(dp->fds[M_POOLS], &k, &v, BPF_ANY)) {
			addr_prefix_format(&pl->addr, pl->plen, t, sizeof(t));
			return map_write_fail(dp, M_POOLS, -errno, t);
		}
	}
	return 0;
}

int dp_policy_generation(struct dp *dp, __u32 *ret_gen)
{
	__u32 k = 0, g;

	if (bpf_map_lookup_elem(dp->fds[M_GEN], &k, &g))
		return dp_fail(dp, -errno, "reading the policy generation");
	*ret_gen = g & 1;
	return dp_ok(dp);
}

int dp_policy_apply(struct dp *dp, const struct dp_policy *p)
{
	__u32 cur, next, k = 0;
	int lock, r;

	r = validate_policy(dp, p);
	if (r)
		return r;
	lock = lock_pins(dp);
	if (dp->pin_dir && lock < 0)
		return lock;
	r = dp_policy_generation(dp, &cur);
	if (r)
		goto out;
	next = cur ^ 1;
	/* A packet that read the generation before the last flip may still be
	 * looking at `next`: let it finish before we overwrite it. */
	r = rcu_sync(dp);
	if (r)
		goto out;
	r = lpm_clear_gen(dp, M_SVCS, next);
	if (!r)
		r = lpm_clear_gen(dp, M_POOLS, next);
	if (r)
		goto out;
	for (unsigned i = 0; i < XCRS_LEVELS_MAX; i++) {
		struct xcrs_level lv = {};
		__u32 slot = next * XCRS_LEVELS_MAX + i;

		if (i < p->nlevels) {
			lv = p->levels[i];
			lv.flags |= XCRS_LEVEL_F_DEFINED;
		}
		if (bpf_map_update_elem(dp->fds[M_LEVELS], &slot, &lv, 0)) {
			r = dp_fail(dp, -errno, "writing level %u", i);
			goto undo;
		}
	}
	r = write_svcs(dp, p, next);
	if (!r)
		r = write_pools(dp, p, next);
	if (r)
		goto undo;
	{
		/* A new epoch: the service-class caches start empty for it. */
		struct xcrs_cfg old = {}, c = p->cfg;

		bpf_map_lookup_elem(dp->fds[M_CFG], &cur, &old);
		c.epoch = old.epoch + 1 ? old.epoch + 1 : 1;
		memset(c.pad, 0, sizeof(c.pad));
		if (bpf_map_update_elem(dp->fds[M_CFG], &next, &c, 0)) {
			r = dp_fail(dp, -errno, "writing the policy settings");
			goto undo;
		}
	}
	if (bpf_map_update_elem(dp->fds[M_GEN], &k, &next, 0)) {
		r = dp_fail(dp, -errno, "switching to the new policy");
		goto undo;
	}
	/* The old generation is unreachable once running programs finish:
	 * free its entries so the maps hold one policy at rest. */
	if (!rcu_sync(dp)) {
		lpm_clear_gen(dp, M_SVCS, cur);
		lpm_clear_gen(dp, M_POOLS, cur);
	}
	{
		size_t n = 0;
		struct dp_pool *nv;

		for (size_t i = 0; i < p->npools; i++)
			n += p->pools[i].never;
		nv = calloc(n ? n : 1, sizeof(*nv));
		if (nv) {
			n = 0;
			for (size_t i = 0; i < p->npools; i++)
				if (p->pools[i].never)
					nv[n++] = p->pools[i];
			free(dp->never);
			dp->never = nv;
			dp->nnever = n;
		}
	}
	dp->reacted_levels = 0;
	for (unsigned i = 0; i < p->nlevels; i++)
		if (p->levels[i].flags & XCRS_LEVEL_F_REACTED)
			dp->reacted_levels |= 1u << i;
	unlock_pins(lock);
	log_debug("policy generation %u active: %u levels, %zu service rules, "
		  "%zu pools",
		  next, p->nlevels, p->nrules, p->npools);
	return dp_ok(dp);

undo:
	{
		/* The running generation was never touched; drop the partial
		 * one, keeping the first error's message. */
		char msg[sizeof(dp->err)];

		memcpy(msg, dp->err, sizeof(msg));
		lpm_clear_gen(dp, M_SVCS, next);
		lpm_clear_gen(dp, M_POOLS, next);
		memcpy(dp->err, msg, sizeof(msg));
	}
out:
	unlock_pins(lock);
	return r;
}
