// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy's rules: what the correlation engine reacts to and how.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bytes.h"
#include "policy-internal.h"

/* ---- rules ---- */

struct rule_build {
	struct policy_rule *r;
	node_t *on, *match, *count, *terminals, *within, *react, *contain,
		*release, *update, *escalate, *node;
	/* match */
	node_t *status, *severity, *signatures, *scopes;
	/* react */
	node_t *level, *dur;
};

KEEP(ru_on, struct rule_build, on)
KEEP(ru_match, struct rule_build, match)
KEEP(ru_count, struct rule_build, count)
KEEP(ru_terminals, struct rule_build, terminals)
KEEP(ru_within, struct rule_build, within)
KEEP(ru_react, struct rule_build, react)
KEEP(ru_contain, struct rule_build, contain)
KEEP(ru_release, struct rule_build, release)
KEEP(ru_update, struct rule_build, update)
KEEP(ru_escalate, struct rule_build, escalate)
KEEP(rm_status, struct rule_build, status)
KEEP(rm_severity, struct rule_build, severity)
KEEP(rm_sigs, struct rule_build, signatures)
KEEP(rm_scopes, struct rule_build, scopes)
KEEP(rr_level, struct rule_build, level)
KEEP(rr_for, struct rule_build, dur)

static int ru_name(struct pctx *c, node_t *v, void *o)
{
	return yname(c, v, "rule name", ((struct rule_build *)o)->r->name);
}

static int rule_match(struct pctx *c, struct rule_build *b)
{
	static const struct field f[] = {
		{ "status", rm_status },
		{ "severity_at_most", rm_severity },
		{ "signatures", rm_sigs },
		{ "scopes", rm_scopes },
	};
	struct policy_rule *ru = b->r;
	int r = ywalk(c, b->match, "match", f, 4, b);

	if (r)
		return r;
	if (b->status && ru->on != POLICY_ON_REPORT)
		return yerr(c, b->status, "status: only for rules on report");
	if ((b->severity || b->signatures) && ru->on != POLICY_ON_IDS)
		return yerr(c, b->severity ? b->severity : b->signatures,
			    "%s: only for rules on ids",
			    b->severity ? "severity_at_most" : "signatures");
	if (b->status) {
		node_t **v;
		size_t n;
		int how = yitems(c, b->status, &v, &n);

		if (how < 0)
			return how;
		for (size_t i = 0; !r && i < n; i++) {
			const char *s = NULL;
			int st;

			r = ystr(c, v[i], "status", &s);
			if (r)
				break;
			st = crsap_status_parse(s);
			if (st < 0)
				r = yerr(c, v[i], "status: expected clean, "
						  "outdated or infected, "
						  "found '%s'",
					 s);
			else
				ru->statuses |= 1u << st;
		}
		yitems_free(v);
	}
	if (!r && b->severity) {
		unsigned long long x;

		r = yuint(c, b->severity, "severity_at_most", 1, 255, &x);
		ru->severity_max = (unsigned)x;
	}
	if (!r && b->signatures) {
		node_t **v;
		size_t n;
		int how = yitems(c, b->signatures, &v, &n);

		if (how < 0)
			return how;
		ru->signatures = calloc(n ? n : 1, sizeof(uint64_t));
		if (!ru->signatures)
			r = -ENOMEM;
		for (size_t i = 0; !r && i < n; i++) {
			unsigned long long x;

			r = yuint(c, v[i], "signatures", 1, UINT64_MAX,
				       &x);
			ru->signatures[ru->nsignatures++] = x;
		}
		yitems_free(v);
	}
	if (!r && b->scopes) {
		node_t **v;
		size_t n;
		int how = yitems(c, b->scopes, &v, &n);

		if (how < 0)
			return how;
		ru->scopes = calloc(n ? n : 1, sizeof(int));
		if (!ru->scopes)
			r = -ENOMEM;
		for (size_t i = 0; !r && i < n; i++) {
			const char *s = NULL;

			r = ystr(c, v[i], "match.scopes", &s);
			if (r)
				break;
			ru->scopes[ru->nmatch_scopes] =
				policy_scope_index(P(c), s);
			if (ru->scopes[ru->nmatch_scopes++] < 0)
				r = yerr(c, v[i], "match.scopes: no scope "
						  "named '%s'", s);
		}
		yitems_free(v);
	}
	return r;
}

struct update_build {
	node_t *what, *window, *deadline, *source;
};
KEEP(up_what, struct update_build, what)
KEEP(up_window, struct update_build, window)
KEEP(up_deadline, struct update_build, deadline)
KEEP(up_source, struct update_build, source)

static int rule_update(struct pctx *c, struct rule_build *b)
{
	static const struct field f[] = {
		{ "what", up_what, true },
		{ "window", up_window, true },
		{ "deadline", up_deadline },
		{ "source", up_source },
	};
	static const char *const what[] = { "signatures", "sca", "os",
					    "patch", NULL };
	struct policy_rule *ru = b->r;
	struct update_build u = { 0 };
	int r = ywalk(c, b->update, "update", f, 4, &u), w;

	if (r)
		return r;
	if (!ru->contain)
		return yerr(c, b->update, "rule %s: update goes with contain "
					  "(an outbreak in a scope)",
			    ru->name);
	r = ychoice(c, u.what, "update.what", what, &w);
	if (r)
		return r;
	snprintf(ru->update_what, sizeof(ru->update_what), "%s", what[w]);
	r = ydur(c, u.window, "update.window", &ru->update_window_ns);
	ru->update_deadline_ns = 3600ULL * 1000000000ULL;
	if (!r && u.deadline)
		r = ydur(c, u.deadline, "update.deadline",
			     &ru->update_deadline_ns);
	ru->update_source = -1;
	if (!r && u.source) {
		const char *s = NULL;

		r = ystr(c, u.source, "update.source", &s);
		if (!r) {
			ru->update_source = service_index(P(c), s);
			if (ru->update_source < 0)
				r = yerr(c, u.source, "update.source: no service "
						      "named '%s'", s);
		}
	}
	ru->update = !r;
	return r;
}

struct esc_build {
	node_t *within, *factor, *max, *after, *level;
};
KEEP(es_within, struct esc_build, within)
KEEP(es_factor, struct esc_build, factor)
KEEP(es_max, struct esc_build, max)
KEEP(es_after, struct esc_build, after)
KEEP(es_level, struct esc_build, level)

static int rule_escalate(struct pctx *c, struct rule_build *b)
{
	static const struct field f[] = {
		{ "within", es_within, true },
		{ "factor", es_factor },
		{ "max", es_max },
		{ "after", es_after },
		{ "level", es_level },
	};
	struct policy_rule *ru = b->r;
	struct esc_build e = { 0 };
	unsigned long long x;
	int r = ywalk(c, b->escalate, "escalate", f, 5, &e);

	if (r)
		return r;
	if (!ru->react)
		return yerr(c, b->escalate, "rule %s: escalate goes with react "
					    "(a terminal's level)",
			    ru->name);
	r = ydur(c, e.within, "escalate.within", &ru->esc_within_ns);
	ru->esc_factor = 2;
	if (!r && e.factor) {
		r = yuint(c, e.factor, "escalate.factor", 1, 1000, &x);
		ru->esc_factor = (unsigned)x;
	}
	if (!r && e.max)
		r = ydur(c, e.max, "escalate.max", &ru->esc_max_ns);
	if (!r && !!e.after != !!e.level)
		r = yerr(c, e.after ? e.after : e.level,
			 "escalate: 'after' and 'level' go together (from "
			 "which offence on, which level)");
	if (!r && e.after) {
		r = yuint(c, e.after, "escalate.after", 2, 1000, &x);
		ru->esc_after = (unsigned)x;
	}
	if (!r && e.level)
		r = level_ref(c, e.level, "escalate.level", &ru->esc_level);
	ru->escalate = !r;
	return r;
}

static int rule_one(struct pctx *c, node_t *it, struct rule_build *b)
{
	static const struct field f[] = {
		{ "name", ru_name, true },
		{ "on", ru_on, true },
		{ "match", ru_match },
		{ "count", ru_count },
		{ "terminals", ru_terminals },
		{ "within", ru_within },
		{ "react", ru_react },
		{ "contain", ru_contain },
		{ "release_on_clean", ru_release },
		{ "update", ru_update },
		{ "escalate", ru_escalate },
	};
	static const struct field rf[] = {
		{ "level", rr_level, true },
		{ "for", rr_for },
	};
	static const struct field cf[] = {
		{ "for", rr_for },
	};
	static const char *const ons[] = { "report", "ids", "fanout", NULL };
	struct policy_rule *ru = b->r;
	unsigned long long x;
	int r, on;

	b->node = it;
	r = ywalk(c, it, "rule", f, 11, b);
	if (r)
		return r;
	r = ychoice(c, b->on, "on", ons, &on);
	ru->on = on;
	if (!r && b->match)
		r = rule_match(c, b);
	if (!r && on == POLICY_ON_REPORT && !ru->statuses)
		r = yerr(c, b->match ? b->match : it,
			 "rule %s: a rule on report needs match.status",
			 ru->name);
	ru->count = 1;
	if (!r && b->count) {
		r = yuint(c, b->count, "count", 1, 1000000, &x);
		ru->count = (unsigned)x;
	}
	if (!r && b->terminals) {
		r = yuint(c, b->terminals, "terminals", 2, 1000000, &x);
		ru->terminals = (unsigned)x;
		if (!r && on != POLICY_ON_IDS)
			r = yerr(c, b->terminals, "terminals: counts terminals "
						  "raising the same IDS "
						  "signature; only for rules "
						  "on ids");
	}
	if (!r && b->within)
		r = ydur(c, b->within, "within", &ru->window_ns);
	if (!r && (ru->count > 1 || ru->terminals) && !ru->window_ns)
		r = yerr(c, b->count ? b->count : b->terminals,
			 "rule %s: counting needs a window (within: ...)",
			 ru->name);
	if (!r && !!b->react == !!b->contain)
		r = yerr(c, it, "rule %s: give either 'react' (a level for the "
				"terminal) or 'contain' (its scope)",
			 ru->name);
	if (!r && b->react) {
		ru->react = true;
		r = ywalk(c, b->react, "react", rf, 2, b);
		if (!r)
			r = level_ref(c, b->level, "react.level", &ru->level);
	} else if (!r) {
		ru->contain = true;
		r = ywalk(c, b->contain, "contain", cf, 1, b);
	}
	if (!r && b->dur)
		r = ydur(c, b->dur, "for", &ru->duration_ns);
	if (!r && b->release) {
		r = ybool(c, b->release, "release_on_clean",
			    &ru->release_on_clean);
	}
	if (!r && b->update)
		r = rule_update(c, b);
	if (!r && b->escalate)
		r = rule_escalate(c, b);
	return r;
}

static int rule_item(struct pctx *c, node_t *it, void *ctx)
{
	struct policy *p = P(c);
	struct rule_build b = { 0 };
	int r;

	b.r = GROW(p->rules, p->nrules);
	if (!b.r)
		return -ENOMEM;
	r = rule_one(c, it, &b);
	return r ? r : UNIQUE(c, it, "rule", p->rules, p->nrules);
}

int sec_rules(struct pctx *c, node_t *n)
{
	return yeach(c, n, "rules", rule_item, NULL);
}
