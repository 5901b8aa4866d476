// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the SCS tells an SCA about its control (X.1125 11.2, Annex A): the
 * SCI response to a report or probe, and the remediation services of the
 * policy as CRSAP describes them.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "sci.h"

_Static_assert(CRSAP_NAME_MAX >= POLICY_NAME_MAX,
	       "a policy name must fit a CRSAP message");

static void describe_level(const struct policy *p, int level,
			   struct crsap_response *r)
{
	uint64_t allowed;

	if (level < 0) {
		snprintf(r->level, sizeof(r->level), "%s",
			 p->default_level >= 0 ?
				 p->levels[p->default_level].name :
				 "unrestricted");
		if (p->default_level < 0) {
			snprintf(r->allowed[0], sizeof(r->allowed[0]), "all");
			r->nallowed = 1;
			return;
		}
		level = p->default_level;
	} else {
		snprintf(r->level, sizeof(r->level), "%s",
			 p->levels[level].name);
	}
	allowed = p->levels[level].allowed;
	if (allowed == XCRS_SVC_ALL) {
		snprintf(r->allowed[0], sizeof(r->allowed[0]), "all");
		r->nallowed = 1;
		return;
	}
	for (size_t i = 0; i < p->nservices && r->nallowed < CRSAP_LIST_MAX;
	     i++)
		if (allowed & XCRS_SVC_BIT(p->services[i].cls))
			snprintf(r->allowed[r->nallowed++],
				 sizeof(r->allowed[0]), "%s",
				 p->services[i].name);
}

static void add_action(struct crsap_response *r, const char *a)
{
	if (r->nactions < CRSAP_LIST_MAX)
		snprintf(r->actions[r->nactions++], sizeof(r->actions[0]),
			 "%s", a);
}

void sci_describe(const struct policy *p, const struct corr *engine,
		  const struct xcrs_addr *a, const char *ms,
		  const char *evaluation, struct crsap_response *r)
{
	struct corr_view v;
	bool reacted;

	memset(r, 0, sizeof(*r));
	snprintf(r->ms, sizeof(r->ms), "%s", ms);
	r->time_ms = now_real_ms();
	if (crsap_nonce(r->nonce))
		memset(r->nonce, '0', CRSAP_NONCE_HEX);
	snprintf(r->evaluation, sizeof(r->evaluation), "%s", evaluation);
	reacted = corr_terminal(engine, a, &v) == 0;
	if (reacted) {
		describe_level(p, (int)v.level, r);
		r->until_ms = v.until_ns ? mono_to_real_ms(v.until_ns) : 0;
		snprintf(r->rule, sizeof(r->rule), "%s", v.rule);
		snprintf(r->reason, sizeof(r->reason), "%s", v.why);
		add_action(r, "scan");
		add_action(r, "update");
		add_action(r, "report-when-clean");
	} else {
		describe_level(p, policy_base_level(p, a), r);
		snprintf(r->reason, sizeof(r->reason), "no reaction in force");
		if (!strcmp(evaluation, "outdated"))
			add_action(r, "update");
	}
	if (!reacted && strcmp(evaluation, "infected") &&
	    strcmp(evaluation, "outdated"))
		return;
	for (size_t i = 0; i < p->nservices; i++) {
		const struct policy_service *s = &p->services[i];

		if (!s->remediation)
			continue;
		for (size_t j = 0; j < s->nrules &&
				   r->nremediation < CRSAP_LIST_MAX;
		     j++)
			sci_service_rule(s, j,
					   &r->remediation[r->nremediation++]);
	}
}

void sci_service_rule(const struct policy_service *s, size_t j,
			struct crsap_remediation *m)
{
	const struct policy_service_rule *sr = &s->rules[j];

	memset(m, 0, sizeof(*m));
	snprintf(m->service, sizeof(m->service), "%s", s->name);
	addr_prefix_format(&sr->prefix.addr, sr->prefix.plen, m->prefix,
			   sizeof(m->prefix));
	snprintf(m->protocol, sizeof(m->protocol), "%s",
		 sr->proto == 6	 ? "tcp" :
		 sr->proto == 17 ? "udp" :
		 sr->proto == 1	 ? "icmp" :
		 sr->proto == 58 ? "icmpv6" :
		 sr->proto == 0	 ? "any" :
				   "other");
	if (sr->port_lo == sr->port_hi && sr->port_lo)
		snprintf(m->ports, sizeof(m->ports), "%u", sr->port_lo);
	else if (sr->port_lo || sr->port_hi != 65535)
		snprintf(m->ports, sizeof(m->ports), "%u-%u", sr->port_lo,
			 sr->port_hi);
}
