// SPDX-License-Identifier: GPL-2.0-only
/*
 * Enforcement (see enforce.h): owns the dataplane handle's writers, the
 * capacity state and its error count. Decisions come from the decision
 * layer; nothing here decides.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "enforce.h"
#include "log.h"

struct enforce {
	const struct enf_dp_ops *ops;
	void *dp;
	const struct policy *p;
	enf_holder_fn holder;
	void *holder_ctx;
	struct enf_report rep;
	bool resyncing;	/* quiet about writes that failed before */
	bool failed;	/* a terminal write failed during this resync */
	uint64_t last_log, unlogged; /* refusals: rate of the log */
	char err[512];
};

int enf_new(const struct enf_dp_ops *ops, void *dp, const struct policy *p,
	    struct enforce **ret_enf)
{
	struct enforce *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->ops = ops;
	e->dp = dp;
	e->p = p;
	*ret_enf = e;
	return 0;
}

void enf_set_holder(struct enforce *e, enf_holder_fn fn, void *ctx)
{
	e->holder = fn;
	e->holder_ctx = ctx;
}

static bool held(const struct enforce *e, const struct xcrs_addr *a,
		 struct enf_hold *h)
{
	return e->holder && e->holder(e->holder_ctx, a, h);
}

void enf_free(struct enforce *e)
{
	free(e);
}

void enf_set_dp(struct enforce *e, void *dp)
{
	e->dp = dp;
}

void enf_set_policy(struct enforce *e, const struct policy *p)
{
	e->p = p;
}

const struct enf_report *enf_report(const struct enforce *e)
{
	return &e->rep;
}

const char *enf_errmsg(const struct enforce *e)
{
	return e->err;
}

/* A refused write: counted, kept for the caller, logged once. */
/* A refused write: counted, kept for the caller, logged. A decision's is
 * logged every time; a session's own entry (no decision on it) at most
 * once a second, with how many were not logged one by one: a full map
 * refuses every session's entry. */
static int refused_as(struct enforce *e, int r, const char *what,
		      bool session)
{
	uint64_t now = now_mono();

	e->rep.errors++;
	snprintf(e->err, sizeof(e->err), "%s", e->ops->errmsg(e->dp));
	if (e->resyncing)
		return r;
	if (!session) {
		log_error("dataplane: %s: %s", what, e->err);
		return r;
	}
	if (e->last_log && now - e->last_log < 1000000000ULL) {
		e->unlogged++;
		return r;
	}
	if (e->unlogged)
		log_error("dataplane: %s: %s (and %llu more refused writes "
			  "in the second before, not logged one by one)",
			  what, e->err, (unsigned long long)e->unlogged);
	else
		log_error("dataplane: %s: %s", what, e->err);
	e->last_log = now;
	e->unlogged = 0;
	return r;
}

static int refused(struct enforce *e, int r, const char *what)
{
	return refused_as(e, r, what, false);
}

void enf_adopt_runtime(struct enforce *e)
{
	uint32_t rt = 0;

	if (e->ops->runtime_get(e->dp, &rt) || !(rt & XCRS_RT_SUBS_FULL))
		return;
	if (e->p->agent.maps.when_full >= 0) {
		e->rep.subs_full = true;
		e->rep.unenforced = true;
	} else {
		e->ops->fail_closed(e->dp, false);
	}
}

bool enf_static_entry(const struct policy *p, const struct xcrs_addr *a,
		      struct xcrs_sub *ret_entry)
{
	const struct policy_subscriber *st = policy_static_sub(p, a);

	if (!st)
		return false;
	*ret_entry = (struct xcrs_sub){
		.scope = st->scope >= 0 ? p->scopes[st->scope].id : 0,
		.level = (__u8)st->level,
		.base_level = (__u8)st->level,
	};
	return true;
}

/* ---- tables ------------------------------------------------------------- */

int enf_tables_build(const struct policy *p, struct dp_policy *out)
{
	struct dp_service_rule *rules;
	struct dp_pool *pools;
	size_t nr = 0, np = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < p->nservices; i++)
		nr += p->services[i].nrules;
	for (size_t i = 0; i < p->nscopes; i++)
		np += p->scopes[i].npools;
	for (size_t i = 0; i < p->nnever; i++)
		np += p->never[i].nprefixes;
	np += p->nran;
	rules = calloc(nr ? nr : 1, sizeof(*rules));
	pools = calloc(np ? np : 1, sizeof(*pools));
	if (!rules || !pools) {
		free(rules);
		free(pools);
		return -ENOMEM;
	}
	nr = 0;
	for (size_t i = 0; i < p->nservices; i++)
		for (size_t j = 0; j < p->services[i].nrules; j++) {
			const struct policy_service_rule *sr =
				&p->services[i].rules[j];

			rules[nr++] = (struct dp_service_rule){
				.addr = sr->prefix.addr,
				.plen = sr->prefix.plen,
				.proto = sr->proto,
				.svc = (__u8)p->services[i].cls,
				.port_lo = sr->port_lo,
				.port_hi = sr->port_hi,
			};
		}
	np = 0;
	for (size_t i = 0; i < p->nscopes; i++)
		for (size_t j = 0; j < p->scopes[i].npools; j++)
			pools[np++] = (struct dp_pool){
				.addr = p->scopes[i].pools[j].addr,
				.plen = p->scopes[i].pools[j].plen,
				.scope = p->scopes[i].id,
				/* with sessions authoritative, a pool
				 * address no session holds (its own entry)
				 * is unassigned_source */
				.level = (__u8)(p->unassigned_level >= 0 ?
							p->unassigned_level :
							(int)p->scopes[i]
								.pool_level),
			};
	/* after the scopes' pools: an equal prefix is the never one */
	for (size_t i = 0; i < p->nnever; i++)
		for (size_t j = 0; j < p->never[i].nprefixes; j++)
			pools[np++] = (struct dp_pool){
				.addr = p->never[i].prefixes[j].addr,
				.plen = p->never[i].prefixes[j].plen,
				.level = (__u8)p->never[i].level,
				.never = true,
			};
	for (size_t i = 0; i < p->nran; i++)
		pools[np++] = (struct dp_pool){ .addr = p->ran[i].addr,
						.plen = p->ran[i].plen,
						.ran = true };
	out->nlevels = (unsigned)p->nlevels;
	for (size_t i = 0; i < p->nlevels; i++)
		out->levels[i] = (struct xcrs_level){
			.allowed = p->levels[i].allowed,
			.rate_Bps = p->levels[i].rate_Bps,
			.burst_B = p->levels[i].burst_B,
			.flags = p->levels[i].fail_closed ?
					 XCRS_LEVEL_F_REACTED :
					 0,
		};
	out->rules = rules;
	out->nrules = nr;
	out->pools = pools;
	out->npools = np;
	out->cfg.default_level = p->default_level < 0 ?
					 XCRS_LEVEL_PASS :
					 (__u8)p->default_level;
	out->cfg.nonip_action = p->nonip_drop ? XCRS_NONIP_DROP :
						XCRS_NONIP_PASS;
	out->cfg.fanout_threshold = p->fanout_threshold;
	out->cfg.flags = (p->ms_detect ? XCRS_CFG_F_MS_DETECT : 0) |
			 (p->nran ? XCRS_CFG_F_RAN : 0);
	out->cfg.fanout_window_ns = p->fanout_window_ns;
	out->cfg.full_level = p->agent.maps.when_full >= 0 ?
				      (__u8)p->agent.maps.when_full :
				      0;
	return 0;
}

void enf_tables_free(struct dp_policy *out)
{
	free((void *)out->rules);
	free((void *)out->pools);
	memset(out, 0, sizeof(*out));
}

int enf_tables_check(struct enforce *e, const struct policy *p, char *err,
		     size_t errlen)
{
	struct dp_policy dpp;
	int r = enf_tables_build(p, &dpp);

	if (!r) {
		r = e->ops->policy_check(e->dp, &dpp);
		enf_tables_free(&dpp);
		if (r)
			snprintf(err, errlen, "%s: %s", p->file,
				 e->ops->errmsg(e->dp));
	} else {
		snprintf(err, errlen, "%s: out of memory", p->file);
	}
	return r;
}

int enf_policy(struct enforce *e, const struct policy *old,
	       bool (*reacted)(void *ctx, const struct xcrs_addr *a),
	       void *ctx, char *err, size_t errlen)
{
	const struct policy *p = e->p;
	struct dp_policy dpp;
	int r = enf_tables_build(p, &dpp);

	if (r) {
		snprintf(err, errlen, "%s: out of memory", p->file);
		return r;
	}
	r = e->ops->policy_apply(e->dp, &dpp);
	enf_tables_free(&dpp);
	if (r) {
		e->rep.errors++;
		snprintf(err, errlen, "%s: %s", p->file, e->ops->errmsg(e->dp));
		return r;
	}
	for (size_t i = 0; !p->nran && i < p->ninterfaces; i++)
		if (p->interfaces[i].gtpu &&
		    p->interfaces[i].role == XCRS_ROLE_ACCESS) {
			log_warn("%s: GTP-U on %s is decapsulated from any "
				 "address that is no subscriber: list the RAN's "
				 "addresses (gNB/eNB) in 'ran' so that a "
				 "terminal cannot send as the RAN",
				 p->file, p->interfaces[i].name);
			break;
		}
	for (size_t i = 0; old && i < old->nsubscribers; i++) {
		const struct xcrs_addr *a = &old->subscribers[i].addr;

		if (!policy_static_sub(p, a) && !reacted(ctx, a))
			enf_base(e, a);
	}
	for (size_t i = 0; i < p->nsubscribers; i++)
		if (!reacted(ctx, &p->subscribers[i].addr))
			enf_base(e, &p->subscribers[i].addr);
	return 0;
}

/* ---- entries -------------------------------------------------------------- */

/* A reaction did not fit in the subscriber map: with agent.maps.when_full
 * the dataplane holds every terminal without a host entry at that level
 * until every reaction fits again (enf_housekeeping() ends it). */
static void subs_full(struct enforce *e)
{
	int l = e->p->agent.maps.when_full;
	uint64_t cap;

	if (l < 0 || e->rep.subs_full)
		return;
	e->ops->subs_count(e->dp, &cap);
	if (e->ops->fail_closed(e->dp, true)) {
		log_error("dataplane: %s", e->ops->errmsg(e->dp));
		return;
	}
	e->rep.subs_full = true;
	log_error("subscriber map full (%llu entries): failing closed: every "
		  "terminal without its own entry is held at %s until every "
		  "reaction fits (agent.maps.when_full)",
		  (unsigned long long)cap, e->p->levels[l].name);
}

int enf_terminal(struct enforce *e, const struct xcrs_addr *a,
		 unsigned level, uint64_t until, int then_level)
{
	const struct policy_subscriber *st = policy_static_sub(e->p, a);
	int sc = policy_scope_of(e->p, a);
	struct xcrs_sub v = {
		.scope = sc >= 0 ? e->p->scopes[sc].id : 0,
		.level = (__u8)level,
		.expires_ns = until,
	};
	struct enf_hold h;
	bool is_held = !st && held(e, a, &h);
	char buf[ADDR_STRLEN];
	int r;

	if (is_held)
		v.scope = h.scope_id;
	if (!until)
		v.base_level = (__u8)level; /* never expires */
	else if (then_level >= 0)
		v.base_level = (__u8)then_level;
	else if (st)
		v.base_level = (__u8)st->level;
	else if (is_held && !h.by_prefix && h.base_level >= 0)
		v.base_level = (__u8)h.base_level;
	else
		v.base_level = XCRS_SUB_BASE_NONE;
	r = e->ops->sub_set(e->dp, a, &v);
	if (!r)
		return 0;
	addr_format(a, buf, sizeof(buf));
	refused(e, r, buf);
	e->rep.unenforced = true;
	e->failed = true;
	if (r == -E2BIG)
		subs_full(e);
	return r;
}

int enf_base(struct enforce *e, const struct xcrs_addr *a)
{
	struct xcrs_sub v;
	struct enf_hold h;
	char buf[ADDR_STRLEN];
	bool session = false;
	int r;

	if (enf_static_entry(e->p, a, &v)) {
		r = e->ops->sub_set(e->dp, a, &v);
	} else if (held(e, a, &h) && !h.by_prefix && h.base_level >= 0) {
		session = true;
		v = (struct xcrs_sub){ .scope = h.scope_id,
				       .level = (__u8)h.base_level,
				       .base_level = (__u8)h.base_level };
		r = e->ops->sub_set(e->dp, a, &v);
	} else {
		r = e->ops->sub_del(e->dp, a);
		if (r == -ENOENT)
			r = 0;
	}
	if (!r)
		return 0;
	addr_format(a, buf, sizeof(buf));
	return refused_as(e, r, buf, session);
}

int enf_prefix64(struct enforce *e, const struct xcrs_addr *prefix,
		 uint32_t scope_id, unsigned level, uint64_t until, int base,
		 bool decision)
{
	struct xcrs_sub v = {
		.scope = scope_id,
		.level = (__u8)level,
		.flags = XCRS_SUB_F_PREFIX64,
		.expires_ns = until,
		.base_level = !until	  ? (__u8)level :
			      base >= 0 ? (__u8)base :
					  XCRS_SUB_BASE_NONE,
	};
	char pf[64];
	int r = e->ops->sub_set(e->dp, prefix, &v);

	if (!r)
		return 0;
	addr_prefix_format(prefix, 64, pf, sizeof(pf));
	return refused_as(e, r, pf, !decision);
}

void enf_batch(struct enforce *e, bool on)
{
	if (e->ops->batch && e->dp)
		e->ops->batch(e->dp, on);
}

int enf_prefix64_del(struct enforce *e, const struct xcrs_addr *prefix)
{
	char pf[64];
	int r = e->ops->sub_del(e->dp, prefix);

	if (!r || r == -ENOENT)
		return 0;
	addr_prefix_format(prefix, 64, pf, sizeof(pf));
	return refused(e, r, pf);
}

int enf_scope(struct enforce *e, int scope, enum xcrs_contain_mode mode)
{
	const struct policy_scope *s = &e->p->scopes[scope];
	struct xcrs_scope v = { 0 };
	int r;

	if (mode != XCRS_CONTAIN_NONE) {
		v.mode = mode;
		v.allowed = s->isolate_allowed;
	}
	r = e->ops->scope_set(e->dp, s->id, &v);
	return r ? refused(e, r, s->name) : 0;
}

int enf_scope_gone(struct enforce *e, uint32_t id)
{
	struct xcrs_scope none = { 0 };
	int r = e->ops->scope_set(e->dp, id, &none);

	return r ? refused(e, r, "a scope that left the policy") : 0;
}

int enf_prefix(struct enforce *e, const struct xcrs_addr *a, unsigned plen,
	       unsigned level, uint64_t until)
{
	struct xcrs_sub v = {
		.level = (__u8)level,
		.expires_ns = until,
		.base_level = until ? XCRS_SUB_BASE_NONE : (__u8)level,
	};
	char pf[64];
	int r = e->ops->prefix_set(e->dp, a, plen, &v);

	if (!r)
		return 0;
	addr_prefix_format(a, plen, pf, sizeof(pf));
	return refused(e, r, pf);
}

int enf_prefix_del(struct enforce *e, const struct xcrs_addr *a,
		   unsigned plen)
{
	char pf[64];
	int r = e->ops->prefix_del(e->dp, a, plen);

	if (!r || r == -ENOENT)
		return r;
	addr_prefix_format(a, plen, pf, sizeof(pf));
	return refused(e, r, pf);
}

int enf_prefix_each(struct enforce *e,
		    void (*fn)(void *ctx, const struct xcrs_addr *a,
			       unsigned plen, const struct xcrs_sub *s),
		    void *ctx)
{
	return e->ops->prefix_each(e->dp, fn, ctx);
}

int enf_sub_each_step(struct enforce *e, struct dp_sub_cursor *c, size_t max,
		      void (*fn)(void *ctx, const struct xcrs_addr *a,
				 const struct xcrs_sub *s),
		      void *ctx)
{
	return e->ops->sub_each_step ?
		       e->ops->sub_each_step(e->dp, c, max, fn, ctx) :
		       -EOPNOTSUPP;
}

int enf_seen_forget(struct enforce *e, const struct xcrs_addr *a)
{
	return e->ops->seen_del(e->dp, a);
}

int enf_seen_expire(struct enforce *e, uint64_t idle_ns,
		    void (*fn)(void *ctx, const struct xcrs_addr *a,
			       const struct xcrs_seen *s),
		    void *ctx)
{
	int r = e->ops->seen_expire(e->dp, idle_ns, fn, ctx);

	return r < 0 ? refused(e, r, "MS presence") : r;
}

/* ---- interfaces ------------------------------------------------------------ */

/* The old policy's entry for interface name, or NULL. */
static const struct policy_interface *old_if(const struct policy *old,
					     const char *name)
{
	for (size_t i = 0; old && i < old->ninterfaces; i++)
		if (!strcmp(old->interfaces[i].name, name))
			return &old->interfaces[i];
	return NULL;
}

/* At start (old NULL) every interface gets this binary's program: a
 * program attached by an earlier agent (an older version) is replaced in
 * place. At a reload, interfaces that left the policy are detached, a
 * changed role or GTP-U setting is replaced in place, and a changed mode
 * (native/generic) or way of attaching (link/dispatcher) is detached and
 * attached again. */
int enf_interfaces(struct enforce *e, const struct policy *old, char *err,
		   size_t errlen)
{
	const struct policy *p = e->p;

	for (size_t i = 0; old && i < old->ninterfaces; i++) {
		const struct policy_interface *o = &old->interfaces[i],
					      *n = NULL;

		for (size_t j = 0; j < p->ninterfaces; j++)
			if (!strcmp(o->name, p->interfaces[j].name))
				n = &p->interfaces[j];
		if (n && n->mode == o->mode && n->attach == o->attach)
			continue;
		if (e->ops->attached(e->dp, o->name) == 1 &&
		    e->ops->detach(e->dp, o->name))
			log_warn("%s", e->ops->errmsg(e->dp));
	}
	for (size_t i = 0; i < p->ninterfaces; i++) {
		const struct policy_interface *in = &p->interfaces[i],
					      *was = old_if(old, in->name);
		struct dp_attach_opts o = {
			.role = in->role,
			.mode = in->mode == POLICY_MODE_GENERIC ? DP_MODE_SKB :
								  DP_MODE_NATIVE,
			.allow_fallback = in->mode == POLICY_MODE_NATIVE_OR_GENERIC,
			.via = in->attach == POLICY_ATTACH_LINK ? DP_VIA_LINK :
			       in->attach == POLICY_ATTACH_DISPATCHER ?
								 DP_VIA_DISPATCHER :
								 DP_VIA_AUTO,
			.no_gtpu = !in->gtpu,
			.spread = (enum xcrs_spread)in->spread,
			.spread_cpus = in->spread_cpus,
			.nspread_cpus = in->nspread_cpus,
		};

		if (was && was->role == in->role && was->mode == in->mode &&
		    was->attach == in->attach &&
		    was->gtpu == in->gtpu && was->spread == in->spread &&
		    was->nspread_cpus == in->nspread_cpus &&
		    !memcmp(was->spread_cpus, in->spread_cpus,
			    sizeof(in->spread_cpus)))
			continue;
		if (e->ops->attach(e->dp, in->name, &o)) {
			snprintf(err, errlen, "%s", e->ops->errmsg(e->dp));
			return -1;
		}
	}
	return 0;
}

/* ---- capacity --------------------------------------------------------------- */

void enf_housekeeping(struct enforce *e,
		      void (*resync)(void *ctx, struct enforce *e), void *ctx)
{
	unsigned warn = e->p->agent.maps.warn_at;
	uint64_t cap, n = e->ops->subs_count(e->dp, &cap), scap,
		      sn = e->ops->slots_used(e->dp, &scap);
	bool over = cap && n * 100 >= cap * warn,
	     sover = scap && sn * 100 >= scap * warn;

	if (over != e->rep.subs_warned) {
		if (over)
			log_warn("subscriber map %llu%% full (%llu of %llu "
				 "entries; agent.maps.warn_at %u%%)",
				 (unsigned long long)(n * 100 / cap),
				 (unsigned long long)n, (unsigned long long)cap,
				 warn);
		else
			log_info("subscriber map below %u%% again (%llu of "
				 "%llu entries)",
				 warn, (unsigned long long)n,
				 (unsigned long long)cap);
		e->rep.subs_warned = over;
	}
	if (sover != e->rep.slots_warned) {
		if (sover)
			log_warn("per-terminal counter slots %llu%% used (%llu "
				 "of %llu; agent.maps.tracked)",
				 (unsigned long long)(sn * 100 / scap),
				 (unsigned long long)sn,
				 (unsigned long long)scap);
		e->rep.slots_warned = sover;
	}
	if (!e->rep.unenforced && !e->rep.subs_full)
		return;
	/* try every reaction again; quiet about the ones that still do not
	 * fit (they were logged when they failed first), and they do not
	 * count as new errors */
	{
		uint64_t errs = e->rep.errors;

		e->resyncing = true;
		e->failed = false;
		resync(ctx, e);
		e->resyncing = false;
		e->rep.errors = errs;
	}
	if (e->failed)
		return;
	e->rep.unenforced = false;
	if (e->rep.subs_full) {
		if (e->ops->fail_closed(e->dp, false)) {
			log_error("dataplane: %s", e->ops->errmsg(e->dp));
			return;
		}
		e->rep.subs_full = false;
		log_info("every reaction fits the subscriber map again: "
			 "failing closed ends");
	} else {
		log_info("every reaction has its dataplane entry again");
	}
}
