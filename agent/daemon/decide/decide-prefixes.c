// SPDX-License-Identifier: GPL-2.0-only
/*
 * Decisions on prefixes: the operator reacts to a whole IPv4 or IPv6
 * prefix (xcrsctl react 192.0.2.64/28 ...). Enforced as a prefix by the
 * dataplane (xcrs_react_prefixes, longest match, for every address
 * without a host entry of its own), kept in the state file, audited. The
 * never_react check is decide.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "decide-internal.h"
#include "log.h"

/* Tells the ports (the fleet) of a decision here, or its end. */
static void tell(struct decide *d, const struct pdec *pd, bool ended,
		 bool by_operator)
{
	for (size_t i = 0; i < d->nports; i++)
		if (d->ports[i].prefix_changed)
			d->ports[i].prefix_changed(d->ports[i].ctx, &pd->a,
						   pd->plen,
						   ended ? NULL : pd->level,
						   pd->until, pd->why,
						   by_operator);
}

static struct pdec *find(const struct decide *d, const struct xcrs_addr *a,
			 unsigned plen)
{
	for (size_t i = 0; i < d->npdecs; i++)
		if (d->pdecs[i].plen == plen &&
		    !memcmp(&d->pdecs[i].a, a, sizeof(*a)))
			return &d->pdecs[i];
	return NULL;
}

/* Writes one decision to the dataplane: -ENOENT for a level the policy
 * does not have, -EIO for a refused write (err says why). */
static int write_one(struct decide *d, const struct pdec *pd, char *err,
		     size_t errlen)
{
	int l = policy_level_index(d->p, pd->level);

	if (l < 0) {
		snprintf(err, errlen, "no level \"%s\" in the policy",
			 pd->level);
		return -ENOENT;
	}
	if (enf_prefix(d->enf, &pd->a, pd->plen, (unsigned)l, pd->until)) {
		snprintf(err, errlen, "%s", enf_errmsg(d->enf));
		return -EIO;
	}
	return 0;
}

static void audit(struct decide *d, const char *event, const struct pdec *pd)
{
	json_object *rec = json_object_new_object();
	char pf[64];

	addr_prefix_format(&pd->a, pd->plen, pf, sizeof(pf));
	audit_add_str(rec, "event", event);
	audit_add_str(rec, "prefix", pf);
	audit_add_str(rec, "level", pd->level);
	audit_add_str(rec, "why", pd->why);
	if (pd->origin[0])
		audit_add_str(rec, "node", pd->origin);
	audit_write(d->au, rec);
}

const struct pdec *pdec_find(const struct decide *d,
			     const struct xcrs_addr *a, unsigned plen)
{
	return find(d, a, plen);
}

int pdec_react(struct decide *d, const struct xcrs_addr *a, unsigned plen,
	       const char *level, uint64_t until, const char *why,
	       const char *origin, bool told, char *err, size_t errlen)
{
	struct pdec pd = { .a = *a, .plen = plen, .until = until }, *old;
	char pf[64];
	int r;

	addr_prefix_format(a, plen, pf, sizeof(pf));
	snprintf(pd.level, sizeof(pd.level), "%s", level);
	snprintf(pd.why, sizeof(pd.why), "%s", why);
	snprintf(pd.origin, sizeof(pd.origin), "%s", origin);
	r = write_one(d, &pd, err, errlen);
	if (r)
		return r;
	old = find(d, a, plen);
	if (!old) {
		struct pdec *n = realloc(d->pdecs,
					 (d->npdecs + 1) * sizeof(*n));

		if (!n) {
			enf_prefix_del(d->enf, a, plen);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		d->pdecs = n;
		old = &d->pdecs[d->npdecs++];
	}
	*old = pd;
	d->rep.reactions++;
	d->rep.prefixes = d->npdecs;
	audit(d, "react-prefix", &pd);
	if (origin[0])
		log_info("%s -> %s (prefix; node %s's operator: %s)", pf, level,
			 origin, why);
	else
		log_info("%s -> %s (prefix; operator: %s)", pf, level, why);
	journal_prefixes(d);
	if (told)
		tell(d, &pd, false, false);
	return 0;
}

/* told: whether the fleet hears of it (an operator's release anywhere,
 * an expiry of our own; not a release the fleet made, nor a policy
 * without its level) */
static void remove_at(struct decide *d, size_t i, const char *event,
		      bool told, bool by_operator)
{
	struct pdec pd = d->pdecs[i];
	char pf[64];

	enf_prefix_del(d->enf, &pd.a, pd.plen);
	d->pdecs[i] = d->pdecs[--d->npdecs];
	d->rep.releases++;
	d->rep.prefixes = d->npdecs;
	audit(d, event, &pd);
	addr_prefix_format(&pd.a, pd.plen, pf, sizeof(pf));
	log_info("%s released (prefix; %s)", pf, event);
	journal_prefixes(d);
	if (told)
		tell(d, &pd, true, by_operator);
}

int pdec_release(struct decide *d, const struct xcrs_addr *a, unsigned plen)
{
	struct pdec *pd = find(d, a, plen);

	if (!pd)
		return -ENOENT;
	remove_at(d, (size_t)(pd - d->pdecs), "release-prefix", true, true);
	return 0;
}

int pdec_release_remote(struct decide *d, const struct xcrs_addr *a,
			unsigned plen)
{
	struct pdec *pd = find(d, a, plen);

	if (!pd)
		return -ENOENT;
	remove_at(d, (size_t)(pd - d->pdecs), "release-prefix-fleet", false,
		  false);
	return 0;
}

size_t pdec_expire(struct decide *d, uint64_t now)
{
	size_t n = 0;

	for (size_t i = d->npdecs; i-- > 0;)
		if (d->pdecs[i].until && d->pdecs[i].until <= now) {
			remove_at(d, i, "expire-prefix",
				  !d->pdecs[i].origin[0], false);
			n++;
		}
	return n;
}

struct stale_ctx {
	const struct decide *d;
	struct xcrs_addr a[64];
	unsigned plen[64];
	size_t n;
};

static void note_stale(void *ctx, const struct xcrs_addr *a, unsigned plen,
		       const struct xcrs_sub *s)
{
	struct stale_ctx *sc = ctx;

	if (!find(sc->d, a, plen) && sc->n < 64) {
		sc->a[sc->n] = *a;
		sc->plen[sc->n++] = plen;
	}
}

void pdec_sync(struct decide *d)
{
	struct stale_ctx sc = { .d = d };
	char err[512], pf[64];

	/* what the decisions say (a level that left the policy ends it) */
	for (size_t i = d->npdecs; i-- > 0;) {
		int l = policy_level_carry(d->p, d->pdecs[i].level), r;

		/* a level renamed (levels[].was): the decision takes its
		 * new name */
		if (l >= 0)
			snprintf(d->pdecs[i].level, sizeof(d->pdecs[i].level),
				 "%s", d->p->levels[l].name);
		r = write_one(d, &d->pdecs[i], err, sizeof(err));

		addr_prefix_format(&d->pdecs[i].a, d->pdecs[i].plen, pf,
				   sizeof(pf));
		if (r == -ENOENT) {
			log_warn("%s: %s: decision dropped", pf, err);
			remove_at(d, i, "drop-prefix", false, false);
		}
	}
	/* and nothing else (a decision the state file no longer has) */
	do {
		sc.n = 0;
		enf_prefix_each(d->enf, note_stale, &sc);
		for (size_t i = 0; i < sc.n; i++)
			enf_prefix_del(d->enf, &sc.a[i], sc.plen[i]);
	} while (sc.n == 64);
}

json_object *decide_prefixes_json(const struct decide *d, bool for_state)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < d->npdecs; i++) {
		const struct pdec *pd = &d->pdecs[i];
		json_object *o = json_object_new_object();
		char pf[64];

		addr_prefix_format(&pd->a, pd->plen, pf, sizeof(pf));
		json_object_object_add(o, "prefix", json_object_new_string(pf));
		json_object_object_add(o, "level",
				       json_object_new_string(pd->level));
		if (for_state) {
			json_object_object_add(
				o, "until_ms",
				json_object_new_int64(
					pd->until ? (int64_t)mono_to_real_ms(
							    pd->until) :
						    0));
		} else {
			char ts[40] = "";

			if (pd->until)
				fmt_time_ms(mono_to_real_ms(pd->until), ts,
					    sizeof(ts));
			json_object_object_add(o, "until",
					       json_object_new_string(ts));
			if (pd->until)
				json_object_object_add(
					o, "remaining_s",
					json_object_new_int64(
						pd->until > now_mono() ?
							(int64_t)((pd->until -
								   now_mono()) /
								  1000000000ull) :
							0));
		}
		json_object_object_add(o, "why",
				       json_object_new_string(pd->why));
		if (pd->origin[0])
			json_object_object_add(
				o, "node", json_object_new_string(pd->origin));
		json_object_array_add(arr, o);
	}
	return arr;
}

int pdec_restore(struct decide *d, json_object *arr, char *err,
		 size_t errlen)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *p, *l, *u,
			    *w;
		struct pdec pd = { 0 }, *n;
		int64_t until;

		if (!json_object_object_get_ex(o, "prefix", &p) ||
		    !json_object_object_get_ex(o, "level", &l) ||
		    !json_object_object_get_ex(o, "until_ms", &u) ||
		    addr_prefix_parse(json_object_get_string(p), &pd.a,
				      &pd.plen)) {
			snprintf(err, errlen, "prefix decision %zu is malformed",
				 i);
			return -EINVAL;
		}
		snprintf(pd.level, sizeof(pd.level), "%s",
			 json_object_get_string(l));
		if (json_object_object_get_ex(o, "why", &w))
			snprintf(pd.why, sizeof(pd.why), "%s",
				 json_object_get_string(w));
		if (json_object_object_get_ex(o, "node", &w))
			snprintf(pd.origin, sizeof(pd.origin), "%s",
				 json_object_get_string(w));
		until = json_object_get_int64(u);
		pd.until = until > 0 ? real_ms_to_mono((uint64_t)until) : 0;
		n = realloc(d->pdecs, (d->npdecs + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		d->pdecs = n;
		d->pdecs[d->npdecs++] = pd;
		d->rep.prefixes = d->npdecs;
	}
	return 0;
}
