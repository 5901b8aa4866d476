// SPDX-License-Identifier: GPL-2.0-only
/*
 * Decisions on prefixes: the operator reacts to a whole IPv4 or IPv6
 * prefix (xcrsctl react 192.0.2.64/28 ...). Enforced as a prefix by the
 * dataplane (xcrs_react_prefixes, longest match, for every address
 * without a host entry of its own), kept in the state file, audited,
 * refused where it would cover a never_react prefix.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "agent.h"
#include "log.h"

struct pdec {
	struct xcrs_addr a;
	unsigned plen; /* 128-bit form */
	char level[POLICY_NAME_MAX];
	uint64_t until; /* CLOCK_MONOTONIC, 0 = until released */
	char why[160];
};

static struct pdec *find(struct agent *ag, const struct xcrs_addr *a,
			 unsigned plen)
{
	for (size_t i = 0; i < ag->npdecs; i++)
		if (ag->pdecs[i].plen == plen &&
		    !memcmp(&ag->pdecs[i].a, a, sizeof(*a)))
			return &ag->pdecs[i];
	return NULL;
}

/* Writes one decision to the dataplane. */
static int write_one(struct agent *ag, const struct pdec *d, char *err,
		     size_t errlen)
{
	int l = policy_level_index(ag->policy, d->level);
	struct xcrs_sub v = { 0 };

	if (l < 0) {
		snprintf(err, errlen, "no level \"%s\" in the policy",
			 d->level);
		return -ENOENT;
	}
	v.level = (__u8)l;
	v.expires_ns = d->until;
	v.base_level = d->until ? XCRS_SUB_BASE_NONE : (__u8)l;
	if (dp_prefix_set(ag->dp, &d->a, d->plen, &v)) {
		snprintf(err, errlen, "%s", dp_errmsg(ag->dp));
		return -EIO;
	}
	return 0;
}

static void audit(struct agent *ag, const char *event, const struct pdec *d)
{
	json_object *rec = json_object_new_object();
	char pf[64];

	addr_prefix_format(&d->a, d->plen, pf, sizeof(pf));
	json_object_object_add(rec, "event", json_object_new_string(event));
	json_object_object_add(rec, "prefix", json_object_new_string(pf));
	json_object_object_add(rec, "level", json_object_new_string(d->level));
	if (d->why[0])
		json_object_object_add(rec, "why",
				       json_object_new_string(d->why));
	agent_audit(ag, rec);
}

int agent_prefix_react(struct agent *ag, const struct xcrs_addr *a,
		       unsigned plen, const char *level, uint64_t until,
		       const char *why, char *err, size_t errlen)
{
	struct pdec d = { .a = *a, .plen = plen, .until = until }, *old;
	char pf[64];
	int i = policy_never_overlaps(ag->policy, a, plen), r;

	addr_prefix_format(a, plen, pf, sizeof(pf));
	if (i >= 0) {
		agent_never_refused(ag, a, "prefix decision");
		snprintf(err, errlen, "%s overlaps the never_react list (%s): "
				      "not reacted",
			 pf, ag->policy->never[i].name);
		return -EPERM;
	}
	snprintf(d.level, sizeof(d.level), "%s", level);
	snprintf(d.why, sizeof(d.why), "%s", why);
	r = write_one(ag, &d, err, errlen);
	if (r)
		return r;
	old = find(ag, a, plen);
	if (!old) {
		struct pdec *n = realloc(ag->pdecs,
					 (ag->npdecs + 1) * sizeof(*n));

		if (!n) {
			dp_prefix_del(ag->dp, a, plen);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		ag->pdecs = n;
		old = &ag->pdecs[ag->npdecs++];
	}
	*old = d;
	ag->counters[C_REACTIONS]++;
	audit(ag, "react-prefix", &d);
	log_info("%s -> %s (prefix; operator: %s)", pf, level, why);
	ag->state_dirty = true;
	agent_after_change(ag);
	return 0;
}

static void remove_at(struct agent *ag, size_t i, const char *event)
{
	struct pdec d = ag->pdecs[i];
	char pf[64];

	if (dp_prefix_del(ag->dp, &d.a, d.plen) && errno != ENOENT)
		log_error("dataplane: %s", dp_errmsg(ag->dp));
	ag->pdecs[i] = ag->pdecs[--ag->npdecs];
	ag->counters[C_RELEASES]++;
	audit(ag, event, &d);
	addr_prefix_format(&d.a, d.plen, pf, sizeof(pf));
	log_info("%s released (prefix; %s)", pf, event);
	ag->state_dirty = true;
}

int agent_prefix_release(struct agent *ag, const struct xcrs_addr *a,
			 unsigned plen)
{
	struct pdec *d = find(ag, a, plen);

	if (!d)
		return -ENOENT;
	remove_at(ag, (size_t)(d - ag->pdecs), "release-prefix");
	agent_after_change(ag);
	return 0;
}

void prefixes_housekeeping(struct agent *ag)
{
	uint64_t now = now_mono();
	bool changed = false;

	for (size_t i = ag->npdecs; i-- > 0;)
		if (ag->pdecs[i].until && ag->pdecs[i].until <= now) {
			remove_at(ag, i, "expire-prefix");
			changed = true;
		}
	if (changed)
		agent_after_change(ag);
}

struct stale_ctx {
	struct agent *ag;
	struct xcrs_addr a[64];
	unsigned plen[64];
	size_t n;
};

static void note_stale(void *ctx, const struct xcrs_addr *a, unsigned plen,
		       const struct xcrs_sub *s)
{
	struct stale_ctx *sc = ctx;

	if (!find(sc->ag, a, plen) && sc->n < 64) {
		sc->a[sc->n] = *a;
		sc->plen[sc->n++] = plen;
	}
}

void prefixes_sync(struct agent *ag)
{
	struct stale_ctx sc = { .ag = ag };
	char err[512], pf[64];

	/* what the decisions say (a level that left the policy ends it) */
	for (size_t i = ag->npdecs; i-- > 0;) {
		int r = write_one(ag, &ag->pdecs[i], err, sizeof(err));

		addr_prefix_format(&ag->pdecs[i].a, ag->pdecs[i].plen, pf,
				   sizeof(pf));
		if (r == -ENOENT) {
			log_warn("%s: %s: decision dropped", pf, err);
			remove_at(ag, i, "drop-prefix");
		} else if (r) {
			ag->counters[C_DATAPLANE_ERRORS]++;
			log_error("dataplane: %s", err);
		}
	}
	/* and nothing else (a decision the state file no longer has) */
	do {
		sc.n = 0;
		dp_prefix_each(ag->dp, note_stale, &sc);
		for (size_t i = 0; i < sc.n; i++)
			dp_prefix_del(ag->dp, &sc.a[i], sc.plen[i]);
	} while (sc.n == 64);
}

json_object *prefixes_json(struct agent *ag, bool for_state)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < ag->npdecs; i++) {
		const struct pdec *d = &ag->pdecs[i];
		json_object *o = json_object_new_object();
		char pf[64];

		addr_prefix_format(&d->a, d->plen, pf, sizeof(pf));
		json_object_object_add(o, "prefix", json_object_new_string(pf));
		json_object_object_add(o, "level",
				       json_object_new_string(d->level));
		if (for_state) {
			json_object_object_add(
				o, "until_ms",
				json_object_new_int64(
					d->until ? (int64_t)mono_to_real_ms(
							   d->until) :
						   0));
		} else {
			char ts[40] = "";

			if (d->until)
				fmt_time_ms(mono_to_real_ms(d->until), ts,
					    sizeof(ts));
			json_object_object_add(o, "until",
					       json_object_new_string(ts));
		}
		json_object_object_add(o, "why", json_object_new_string(d->why));
		json_object_array_add(arr, o);
	}
	return arr;
}

int prefixes_restore(struct agent *ag, json_object *arr, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *p, *l, *u,
			    *w;
		struct pdec d = { 0 }, *n;
		int64_t until;

		if (!json_object_object_get_ex(o, "prefix", &p) ||
		    !json_object_object_get_ex(o, "level", &l) ||
		    !json_object_object_get_ex(o, "until_ms", &u) ||
		    addr_prefix_parse(json_object_get_string(p), &d.a,
				      &d.plen)) {
			snprintf(err, errlen, "prefix decision %zu is malformed",
				 i);
			return -EINVAL;
		}
		snprintf(d.level, sizeof(d.level), "%s",
			 json_object_get_string(l));
		if (json_object_object_get_ex(o, "why", &w))
			snprintf(d.why, sizeof(d.why), "%s",
				 json_object_get_string(w));
		until = json_object_get_int64(u);
		d.until = until > 0 ? real_ms_to_mono((uint64_t)until) : 0;
		n = realloc(ag->pdecs, (ag->npdecs + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ag->pdecs = n;
		ag->pdecs[ag->npdecs++] = d;
	}
	return 0;
}

void prefixes_free(struct agent *ag)
{
	free(ag->pdecs);
	ag->pdecs = NULL;
	ag->npdecs = 0;
}
