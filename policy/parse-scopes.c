// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy's scopes, static subscribers and never_react lists.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "bytes.h"
#include "policy-internal.h"

/* ---- scopes ---- */

struct scope_build {
	struct policy_scope *s;
	node_t *id, *pools, *level, *containment, *isolate_allow, *apns,
		*locations;
};

static int sc_name(struct pctx *c, node_t *v, void *o)
{
	return yname(c, v, "scope name", ((struct scope_build *)o)->s->name);
}

KEEP(sc_id, struct scope_build, id)
KEEP(sc_pools, struct scope_build, pools)
KEEP(sc_level, struct scope_build, level)
KEEP(sc_cont, struct scope_build, containment)
KEEP(sc_iso, struct scope_build, isolate_allow)
KEEP(sc_apns, struct scope_build, apns)
KEEP(sc_locs, struct scope_build, locations)

/* An APN Network Identifier (TS 23.003 9.1): labels of letters, digits
 * and '-', joined by '.', at most 100 octets; kept in lower case. */
static int apn_one(struct pctx *c, node_t *v, char *out)
{
	const char *t;
	size_t n, label = 0;
	int r = ystr(c, v, "apns", &t);

	if (r)
		return r;
	n = strlen(t);
	if (!n || n > POLICY_APN_MAX)
		return yerr(c, v, "apns: '%s' is not an APN (1 to %d "
				  "characters)", t, POLICY_APN_MAX);
	for (size_t i = 0; i <= n; i++) {
		char ch = t[i];

		if (ch == '.' || !ch) {
			if (!label || t[i - 1] == '-')
				return yerr(c, v, "apns: '%s' is not an APN "
						  "(labels of letters, digits "
						  "and '-', joined by '.')",
					    t);
			out[i] = ch;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && !(ch == '-' && label))
			return yerr(c, v, "apns: '%s' is not an APN (labels "
					  "of letters, digits and '-', joined "
					  "by '.')",
				    t);
		out[i] = (char)tolower((unsigned char)ch);
		label++;
	}
	out[n] = '\0';
	return 0;
}

/* A location as the sessions give it: TYPE:MCC-MNC-ID[-ID] with TYPE one
 * of cgi, sai, rai, tai, ecgi, ncgi and hexadecimal IDs (any case, kept
 * in lower case), or a prefix of one ending in '*'. */
static int location_one(struct pctx *c, node_t *v, char *out)
{
	static const char *const types[] = { "cgi:", "sai:", "rai:", "tai:",
					     "ecgi:", "ncgi:", NULL };
	const char *t, *q;
	size_t n, k = 0;
	int r = ystr(c, v, "locations", &t);
	bool star;

	if (r)
		return r;
	n = strlen(t);
	star = n && t[n - 1] == '*';
	for (int i = 0; types[i] && !k; i++)
		if (!strncasecmp(t, types[i], strlen(types[i])))
			k = strlen(types[i]);
	if (!k || n > POLICY_LOCATION_MAX)
		goto bad;
	/* MCC "-" MNC (2 or 3 digits), then one or two hexadecimal IDs */
	q = t + k;
	for (int i = 0; i < 3; i++, q++)
		if (!isdigit((unsigned char)*q))
			goto short_ok;
	if (*q++ != '-')
		goto short_ok;
	{
		size_t d = strspn(q, "0123456789");

		if (d < 2 || d > 3)
			goto short_ok;
		q += d;
	}
	for (int id = 0; *q && *q != '*'; id++) {
		size_t h;

		if (*q++ != '-' || id == 2)
			goto short_ok;
		h = strspn(q, "0123456789abcdefABCDEF");
		if (!h && !(star && q == t + n - 1))
			goto short_ok;
		q += h;
	}
	goto ok;
short_ok:
	/* a prefix may end anywhere, but only where its '*' is */
	if (!(star && q == t + n - 1))
		goto bad;
ok:
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)t[i]);
	return 0;
bad:
	return yerr(c, v, "locations: '%s' is not a location (e.g. "
			  "tai:001-01-0001, ecgi:001-01-0000101, "
			  "ncgi:001-01-000000101; a trailing '*' makes a "
			  "prefix: ecgi:001-01-00001*)",
		    t);
}

static uint64_t remediation_set(const struct policy *p)
{
	uint64_t m = 0;

	for (size_t i = 0; i < p->nservices; i++)
		if (p->services[i].remediation)
			m |= XCRS_SVC_BIT(p->services[i].cls);
	return m;
}

static int scope_one(struct pctx *c, node_t *it, struct scope_build *b)
{
	static const struct field f[] = {
		{ "name", sc_name, true },
		{ "id", sc_id },
		{ "pools", sc_pools },
		{ "level", sc_level },
		{ "containment", sc_cont },
		{ "isolate_allow", sc_iso },
		{ "apns", sc_apns },
		{ "locations", sc_locs },
	};
	static const char *const modes[] = { "none", "isolate", "no-lateral",
					     NULL };
	struct policy_scope *s = b->s;
	int r = ywalk(c, it, "scope", f, Y_N(f), b), x;

	if (!r && b->id) {
		unsigned long long v;

		/* the dataplane's entries hold scope ids in 16 bits */
		r = yuint(c, b->id, "id", 1, 65535, &v);
		s->id = (uint32_t)v;
	}
	if (!r && b->pools) {
		node_t **v;
		size_t n;
		int how = yitems(c, b->pools, &v, &n);

		if (how < 0)
			return how;
		for (size_t i = 0; !r && i < n; i++) {
			struct policy_prefix *pf = GROW(s->pools, s->npools);

			if (!pf) {
				r = -ENOMEM;
				break;
			}
			r = yprefix(c, v[i], "pools", pf);
		}
		yitems_free(v);
	}
	if (!r && b->apns) {
		node_t **v;
		size_t n;
		int how = yitems(c, b->apns, &v, &n);

		if (how < 0)
			return how;
		for (size_t i = 0; !r && i < n; i++) {
			char(*a)[POLICY_APN_MAX + 1] = GROW(s->apns, s->napns);

			r = a ? apn_one(c, v[i], *a) : -ENOMEM;
		}
		yitems_free(v);
	}
	if (!r && b->locations) {
		node_t **v;
		size_t n;
		int how = yitems(c, b->locations, &v, &n);

		if (how < 0)
			return how;
		for (size_t i = 0; !r && i < n; i++) {
			char(*l)[POLICY_LOCATION_MAX + 1] =
				GROW(s->locations, s->nlocations);

			r = l ? location_one(c, v[i], *l) : -ENOMEM;
		}
		yitems_free(v);
	}
	if (!r && b->level)
		r = level_ref(c, b->level, "level", &s->pool_level);
	s->containment = XCRS_CONTAIN_ISOLATE;
	if (!r && b->containment) {
		r = ychoice(c, b->containment, "containment", modes, &x);
		s->containment = x;
		if (!r && x == XCRS_CONTAIN_NONE)
			r = yerr(c, b->containment,
				 "containment: the mode used when the scope is "
				 "contained (isolate or no-lateral)");
	}
	s->isolate_allowed = remediation_set(P(c));
	if (!r && b->isolate_allow)
		r = service_set(c, b->isolate_allow, "isolate_allow", false,
				&s->isolate_allowed);
	return r;
}

static int scope_item(struct pctx *c, node_t *it, void *ctx)
{
	struct policy *p = P(c);
	struct scope_build b = { 0 };
	int r;

	b.s = GROW(p->scopes, p->nscopes);
	if (!b.s)
		return -ENOMEM;
	r = scope_one(c, it, &b);
	if (!r)
		r = UNIQUE(c, it, "scope", p->scopes, p->nscopes);
	for (size_t j = 0; !r && b.s->id && j + 1 < p->nscopes; j++)
		if (p->scopes[j].id == b.s->id)
			r = yerr(c, b.id, "id: %u is also scope %s", b.s->id,
				 p->scopes[j].name);
	/* a session is in the first scope that lists it: the same APN or
	 * location twice would be a scope nobody is in */
	for (size_t j = 0; !r && j + 1 < p->nscopes; j++) {
		const struct policy_scope *o = &p->scopes[j];

		for (size_t k = 0; !r && k < b.s->napns; k++)
			for (size_t l = 0; !r && l < o->napns; l++)
				if (!strcmp(b.s->apns[k], o->apns[l]))
					r = yerr(c, b.apns, "apns: %s is also "
						 "in scope %s",
						 o->apns[l], o->name);
		for (size_t k = 0; !r && k < b.s->nlocations; k++)
			for (size_t l = 0; !r && l < o->nlocations; l++)
				if (!strcmp(b.s->locations[k],
					    o->locations[l]))
					r = yerr(c, b.locations,
						 "locations: %s is also in "
						 "scope %s",
						 o->locations[l], o->name);
	}
	return r;
}

int sec_scopes(struct pctx *c, node_t *n)
{
	struct policy *p = P(c);
	int r = yeach(c, n, "scopes", scope_item, NULL);

	/* an address is in one scope: the pools of two scopes never overlap
	 * (one inside the other would leave the inner terminals out of the
	 * outer scope's containment) */
	for (size_t i = 0; !r && i < p->nscopes; i++)
		for (size_t j = i + 1; !r && j < p->nscopes; j++)
			for (size_t k = 0; !r && k < p->scopes[i].npools; k++)
				for (size_t m = 0; !r && m < p->scopes[j].npools;
				     m++) {
					const struct policy_prefix *a =
						&p->scopes[i].pools[k],
						*b = &p->scopes[j].pools[m];
					char pa[64], pb[64];

					/* the same prefix twice: said below */
					if (a->plen == b->plen &&
					    !memcmp(&a->addr, &b->addr,
						    sizeof(a->addr)))
						continue;
					if (!addr_prefix_contains(&a->addr, a->plen,
								  &b->addr,
								  b->plen) &&
					    !addr_prefix_contains(&b->addr, b->plen,
								  &a->addr,
								  a->plen))
						continue;
					addr_prefix_format(&a->addr, a->plen, pa,
							   sizeof(pa));
					addr_prefix_format(&b->addr, b->plen, pb,
							   sizeof(pb));
					r = yerr(c, yget(c, n->data.sequence.items
								   .start[j]),
						 "scopes: pool %s of %s overlaps "
						 "pool %s of %s (an address "
						 "belongs to one scope)",
						 pb, p->scopes[j].name, pa,
						 p->scopes[i].name);
				}

	/* Scopes without an id get the lowest free ones. */
	for (size_t i = 0; !r && i < p->nscopes; i++) {
		uint32_t id = 1;
		bool taken;

		if (p->scopes[i].id)
			continue;
		do {
			taken = false;
			for (size_t j = 0; j < p->nscopes; j++)
				taken |= p->scopes[j].id == id;
			id += taken;
		} while (taken);
		p->scopes[i].id = id;
	}
	return r;
}

/* ---- the RAN ---- */

int sec_ran(struct pctx *c, node_t *n)
{
	struct policy *p = P(c);
	node_t **v;
	size_t cnt;
	int r = 0, how = yitems(c, n, &v, &cnt);

	if (how < 0)
		return how;
	for (size_t i = 0; !r && i < cnt; i++) {
		struct policy_prefix *pf = GROW(p->ran, p->nran);

		r = pf ? yprefix(c, v[i], "ran", pf) : -ENOMEM;
		for (size_t j = 0; !r && j + 1 < p->nran; j++)
			if (p->ran[j].plen == pf->plen &&
			    !memcmp(&p->ran[j].addr, &pf->addr, 16))
				r = yerr(c, v[i], "ran: listed twice");
	}
	yitems_free(v);
	return r;
}

/* ---- subscribers ---- */

struct sub_build {
	struct policy_subscriber *s;
	node_t *addr, *scope, *level;
};

KEEP(sb_addr, struct sub_build, addr)
KEEP(sb_scope, struct sub_build, scope)
KEEP(sb_level, struct sub_build, level)

static int subscriber_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "address", sb_addr, true },
		{ "scope", sb_scope },
		{ "level", sb_level },
	};
	struct policy *p = P(c);
	int r;
	struct sub_build b = { 0 };
	const char *s = NULL;

	b.s = GROW(p->subscribers, p->nsubscribers);
	if (!b.s)
		return -ENOMEM;
	b.s->scope = -1;
	r = ywalk(c, it, "subscriber", f, 3, &b);
	if (!r)
		r = ystr(c, b.addr, "address", &s);
	if (!r && addr_parse(s, &b.s->addr))
		r = yerr(c, b.addr, "address: expected an IPv4 or IPv6 "
				    "address, found '%s'",
			 s);
	if (!r && b.scope) {
		r = ystr(c, b.scope, "scope", &s);
		if (!r)
			b.s->scope = policy_scope_index(p, s);
		if (!r && b.s->scope < 0)
			r = yerr(c, b.scope, "scope: no scope named "
					     "'%s'",
				 s);
	}
	if (!r && b.level)
		r = level_ref(c, b.level, "level", &b.s->level);
	for (size_t j = 0; !r && j + 1 < p->nsubscribers; j++)
		if (!memcmp(&p->subscribers[j].addr, &b.s->addr,
			    sizeof(b.s->addr)))
			r = yerr(c, b.addr, "address: %s is listed "
					    "twice",
				 s);
	return r;
}

int sec_subscribers(struct pctx *c, node_t *n)
{
	return yeach(c, n, "subscribers", subscriber_one, NULL);
}

/* ---- never_react ---- */

struct never_build {
	struct policy_never *nv;
	node_t *name, *prefixes, *level;
};

KEEP(nb_name, struct never_build, name)
KEEP(nb_prefixes, struct never_build, prefixes)
KEEP(nb_level, struct never_build, level)

static int never_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", nb_name, true },
		{ "prefixes", nb_prefixes, true },
		{ "level", nb_level },
	};
	struct policy *p = P(c);
	struct never_build b = { 0 };
	node_t **v;
	size_t n;
	int r, how;

	b.nv = GROW(p->never, p->nnever);
	if (!b.nv)
		return -ENOMEM;
	r = ywalk(c, it, "never_react", f, 3, &b);
	if (!r)
		r = yname(c, b.name, "never_react name", b.nv->name);
	if (!r)
		r = UNIQUE(c, it, "never_react entry", p->never, p->nnever);
	if (r)
		return r;
	how = yitems(c, b.prefixes, &v, &n);
	if (how < 0)
		return how;
	for (size_t i = 0; !r && i < n; i++) {
		struct policy_prefix *pf = GROW(b.nv->prefixes,
						b.nv->nprefixes);

		r = pf ? yprefix(c, v[i], "prefixes", pf) : -ENOMEM;
	}
	yitems_free(v);
	if (!r && b.level)
		r = level_ref(c, b.level, "level", &b.nv->level);
	/* a static subscriber there would be a reaction it never gets */
	for (size_t i = 0; !r && i < p->nsubscribers; i++)
		for (size_t j = 0; !r && j < b.nv->nprefixes; j++)
			if (addr_prefix_contains(&b.nv->prefixes[j].addr,
						 b.nv->prefixes[j].plen,
						 &p->subscribers[i].addr, 128)) {
				char a[ADDR_STRLEN];

				addr_format(&p->subscribers[i].addr, a,
					    sizeof(a));
				r = yerr(c, b.prefixes, "never_react %s holds "
					 "the static subscriber %s",
					 b.nv->name, a);
			}
	return r;
}

int sec_never(struct pctx *c, node_t *n)
{
	return yeach(c, n, "never_react", never_one, NULL);
}
