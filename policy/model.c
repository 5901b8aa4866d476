// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy model's lookups, durations and names (see policy.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "policy.h"

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nservices; i++)
		free(p->services[i].rules);
	for (size_t i = 0; i < p->nscopes; i++) {
		free(p->scopes[i].pools);
		free(p->scopes[i].apns);
		free(p->scopes[i].locations);
	}
	for (size_t i = 0; i < p->nrules; i++) {
		free(p->rules[i].signatures);
		free(p->rules[i].scopes);
	}
	free(p->evals);
	if (p->peers)
		memset(p->peers, 0, p->npeers * sizeof(*p->peers));
	free(p->peers);
	free(p->interfaces);
	if (p->radius.clients)
		explicit_bzero(p->radius.clients,
			       p->radius.nclients * sizeof(*p->radius.clients));
	free(p->radius.clients);
	free(p->services);
	free(p->levels);
	free(p->scopes);
	free(p->ran);
	free(p->subscribers);
	for (size_t i = 0; i < p->nnever; i++)
		free(p->never[i].prefixes);
	free(p->never);
	free(p->inputs);
	free(p->rules);
	free(p);
}

int policy_never_react(const struct policy *p, const struct xcrs_addr *a)
{
	for (size_t i = 0; i < p->nnever; i++)
		for (size_t j = 0; j < p->never[i].nprefixes; j++)
			if (addr_prefix_contains(&p->never[i].prefixes[j].addr,
						 p->never[i].prefixes[j].plen, a,
						 128))
				return (int)i;
	return -1;
}

int policy_never_overlaps(const struct policy *p, const struct xcrs_addr *a,
			  unsigned plen)
{
	for (size_t i = 0; i < p->nnever; i++)
		for (size_t j = 0; j < p->never[i].nprefixes; j++) {
			const struct policy_prefix *n = &p->never[i].prefixes[j];

			/* two prefixes overlap when one holds the other */
			if (addr_prefix_contains(&n->addr, n->plen, a, plen) ||
			    addr_prefix_contains(a, plen, &n->addr, n->plen))
				return (int)i;
		}
	return -1;
}

const struct policy_subscriber *policy_static_sub(const struct policy *p,
					       const struct xcrs_addr *a)
{
	for (size_t i = 0; i < p->nsubscribers; i++)
		if (!memcmp(&p->subscribers[i].addr, a, sizeof(*a)))
			return &p->subscribers[i];
	return NULL;
}

int policy_pool_level(const struct policy *p, const struct xcrs_addr *a)
{
	unsigned best = 0;
	int lvl = -1;

	for (size_t s = 0; s < p->nscopes; s++)
		for (size_t i = 0; i < p->scopes[s].npools; i++) {
			const struct policy_prefix *px = &p->scopes[s].pools[i];

			if (px->plen >= best &&
			    addr_prefix_contains(&px->addr, px->plen, a, 128)) {
				best = px->plen;
				lvl = (int)p->scopes[s].pool_level;
			}
		}
	return lvl;
}

int policy_base_level(const struct policy *p, const struct xcrs_addr *a)
{
	const struct policy_subscriber *s = policy_static_sub(p, a);

	return s ? (int)s->level : policy_pool_level(p, a);
}

int policy_scope_of(const struct policy *p, const struct xcrs_addr *a)
{
	const struct policy_subscriber *st = policy_static_sub(p, a);
	int best = -1;
	unsigned best_len = 0;

	if (st)
		return st->scope;
	for (size_t i = 0; i < p->nscopes; i++)
		for (size_t j = 0; j < p->scopes[i].npools; j++) {
			const struct policy_prefix *pf = &p->scopes[i].pools[j];

			if (addr_prefix_contains(&pf->addr, pf->plen, a, 128) &&
			    (best < 0 || pf->plen > best_len)) {
				best = (int)i;
				best_len = pf->plen;
			}
		}
	return best;
}

/* Whether the location part [part, part + n) is what pat names. */
static bool location_match(const char *pat, const char *part, size_t n)
{
	size_t pl = strlen(pat);

	if (pl && pat[pl - 1] == '*')
		return n >= pl - 1 && !memcmp(pat, part, pl - 1);
	return n == pl && !memcmp(pat, part, n);
}

int policy_session_scope(const struct policy *p, const char *apn,
			 const char *location)
{
	for (size_t i = 0; i < p->nscopes; i++) {
		const struct policy_scope *sc = &p->scopes[i];

		for (size_t j = 0; apn && *apn && j < sc->napns; j++)
			if (!strcasecmp(sc->apns[j], apn))
				return (int)i;
		for (size_t j = 0; location && *location && j < sc->nlocations;
		     j++)
			for (const char *q = location; *q;) {
				size_t n = strcspn(q, "/");

				if (location_match(sc->locations[j], q, n))
					return (int)i;
				q += n;
				q += *q == '/';
			}
	}
	return -1;
}

int policy_level_index(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nlevels; i++)
		if (!strcmp(p->levels[i].name, name))
			return (int)i;
	return -1;
}

int policy_level_carry(const struct policy *p, const char *name)
{
	int l = policy_level_index(p, name);

	for (size_t i = 0; l < 0 && i < p->nlevels; i++)
		for (size_t j = 0; j < p->levels[i].nwas; j++)
			if (!strcmp(p->levels[i].was[j], name))
				return (int)i;
	return l;
}

int policy_scope_index(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nscopes; i++)
		if (!strcmp(p->scopes[i].name, name))
			return (int)i;
	return -1;
}

int policy_scope_by_id(const struct policy *p, uint32_t id)
{
	for (size_t i = 0; i < p->nscopes; i++)
		if (p->scopes[i].id == id)
			return (int)i;
	return -1;
}


const char *policy_trigger_to_string(enum policy_trigger t)
{
	static const char *const n[] = { "report", "ids", "fanout" };

	return (unsigned)t < 3 ? n[t] : "?";
}


int policy_level_reaches(const struct policy *p, unsigned level,
			 const struct xcrs_addr *a, uint8_t proto,
			 uint16_t port)
{
	uint64_t allowed;

	if (level >= p->nlevels)
		return 0;
	allowed = p->levels[level].allowed;
	if (allowed == XCRS_SVC_ALL)
		return 1;
	for (size_t i = 0; i < p->nservices; i++) {
		const struct policy_service *sv = &p->services[i];

		if (!(allowed & XCRS_SVC_BIT(sv->cls)))
			continue;
		for (size_t j = 0; j < sv->nrules; j++) {
			const struct policy_service_rule *ru = &sv->rules[j];

			if (addr_prefix_contains(&ru->prefix.addr,
						 ru->prefix.plen, a, 128) &&
			    (!ru->proto || ru->proto == proto) &&
			    port >= ru->port_lo && port <= ru->port_hi)
				return 1;
		}
	}
	return 0;
}
