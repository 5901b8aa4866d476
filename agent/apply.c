// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy model → dataplane (see apply.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "apply.h"

int apply_build(const struct policy *p, struct dp_policy *out)
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
				.level = (__u8)p->scopes[i].pool_level,
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
	out->cfg.flags = p->ms_detect ? XCRS_CFG_F_MS_DETECT : 0;
	out->cfg.fanout_window_ns = p->fanout_window_ns;
	out->cfg.full_level = p->agent.maps.when_full >= 0 ?
				      (__u8)p->agent.maps.when_full :
				      0;
	return 0;
}

void apply_build_free(struct dp_policy *out)
{
	free((void *)out->rules);
	free((void *)out->pools);
	memset(out, 0, sizeof(*out));
}

int apply_policy(struct dp *dp, const struct policy *p, char *err,
		 size_t errlen)
{
	struct dp_policy dpp;
	int r = apply_build(p, &dpp);

	if (r) {
		snprintf(err, errlen, "%s: out of memory", p->file);
		return r;
	}
	r = dp_policy_apply(dp, &dpp);
	apply_build_free(&dpp);
	if (r) {
		snprintf(err, errlen, "%s: %s", p->file, dp_errmsg(dp));
		return r;
	}
	for (size_t i = 0; i < p->nsubscribers; i++) {
		const struct policy_subscriber *s = &p->subscribers[i];
		struct xcrs_sub v = {
			.scope = s->scope >= 0 ? p->scopes[s->scope].id : 0,
			.level = (__u8)s->level,
			.base_level = (__u8)s->level,
		};

		r = dp_sub_set(dp, &s->addr, &v);
		if (r) {
			snprintf(err, errlen, "%s: %s", p->file, dp_errmsg(dp));
			return r;
		}
	}
	return 0;
}
