// SPDX-License-Identifier: GPL-2.0-only
/* The correlation engine (see correlate.h): views of terminals and scopes,
 * saving and restoring reactions, and moving to a new policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "correlate-internal.h"

static void view_of(const struct corr *c, const struct term *t,
		    struct corr_view *v)
{
	size_t top;
	int then;

	ci_effective(t, &top, &then);
	v->terminal = t->a;
	v->scope = corr_scope_of(c, &t->a);
	v->level = t->r[top].level;
	v->until_ns = t->r[top].until;
	v->rule = t->r[top].rule;
	v->why = t->r[top].why;
	v->then_level = then;
	v->nreactions = t->nr;
}

size_t corr_each_terminal(const struct corr *c, corr_view_fn fn, void *ctx)
{
	size_t n = 0;

	for (int b = 0; b < CORR_BUCKETS; b++)
		for (const struct term *t = c->bucket[b]; t; t = t->next) {
			struct corr_view v;

			if (!t->nr)
				continue;
			view_of(c, t, &v);
			fn(ctx, &v);
			n++;
		}
	return n;
}

int corr_terminal(const struct corr *c, const struct xcrs_addr *a,
		  struct corr_view *ret_view)
{
	const struct term *t = ci_find(c, a);

	if (!t || !t->nr)
		return -ENOENT;
	view_of(c, t, ret_view);
	return 0;
}

int corr_scope_state(const struct corr *c, int scope, uint64_t *ret_until,
		     const char **ret_rule)
{
	const struct scope_state *s;

	if (scope < 0 || (size_t)scope >= c->p->nscopes)
		return -EINVAL;
	s = &c->scopes[scope];
	if (!s->contained)
		return 0;
	if (ret_until)
		*ret_until = s->until;
	if (ret_rule)
		*ret_rule = s->rule;
	return 1;
}

int corr_restore(struct corr *c, const struct xcrs_addr *a, const char *rule,
		 unsigned level, uint64_t until, bool roc, const char *why)
{
	struct term *t;
	size_t top;
	int then;

	if (level >= c->p->nlevels)
		return -EINVAL;
	t = ci_find_or_add(c, a);
	if (!t)
		return -ENOMEM;
	ci_add_reaction(t, rule, level, until, roc, why ? why : "");
	ci_effective(t, &top, &then);
	t->emitted = true;
	t->last_level = t->r[top].level;
	t->last_until = t->r[top].until;
	t->last_then = then;
	return 0;
}

int corr_restore_scope(struct corr *c, int scope, const char *rule,
		       uint64_t until)
{
	struct scope_state *s;

	if (scope < 0 || (size_t)scope >= c->p->nscopes)
		return -EINVAL;
	s = &c->scopes[scope];
	s->contained = true;
	s->until = until;
	snprintf(s->rule, sizeof(s->rule), "%s", rule);
	snprintf(s->why, sizeof(s->why), "restored after a restart");
	return 0;
}

/* Calls fn for each reaction of t, as saved. */
static void term_reactions(const struct term *t, corr_save_fn fn, void *ctx)
{
	for (size_t i = 0; i < t->nr; i++) {
		struct corr_saved s = {
			.terminal = t->a,
			.rule = t->r[i].rule,
			.level = t->r[i].level,
			.until_ns = t->r[i].until,
			.release_on_clean = t->r[i].release_on_clean,
			.why = t->r[i].why,
		};

		fn(ctx, &s);
	}
}

size_t corr_each_reaction_of(const struct corr *c, const struct xcrs_addr *a,
			     corr_save_fn fn, void *ctx)
{
	const struct term *t = ci_find(c, a);

	if (!t)
		return 0;
	term_reactions(t, fn, ctx);
	return t->nr;
}

void corr_each_reaction(const struct corr *c, corr_save_fn fn, void *ctx)
{
	for (int b = 0; b < CORR_BUCKETS; b++)
		for (const struct term *t = c->bucket[b]; t; t = t->next)
			term_reactions(t, fn, ctx);
}

int corr_set_policy(struct corr *c, const struct policy *np, uint64_t now)
{
	const struct policy *op = c->p;
	struct scope_state *ns;
	int made = 0;

	ns = calloc(np->nscopes ? np->nscopes : 1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	/* Containments follow their scope by name. */
	for (size_t i = 0; i < op->nscopes; i++) {
		int j = policy_scope_index(np, op->scopes[i].name);

		if (j >= 0 && c->scopes[i].contained) {
			ns[j].contained = true;
			ns[j].until = c->scopes[i].until;
			memcpy(ns[j].rule, c->scopes[i].rule,
			       sizeof(ns[j].rule));
			memcpy(ns[j].why, c->scopes[i].why,
			       sizeof(ns[j].why));
		}
	}
	ci_scopes_free(c);
	c->scopes = ns;
	c->p = np;
	c->esc_keep_ns = ci_esc_keep(np);
	for (int b = 0; b < CORR_BUCKETS; b++)
		for (struct term *t = c->bucket[b]; t; t = t->next) {
			int last = t->emitted ?
					   policy_level_carry(
						   np,
						   op->levels[t->last_level].name) :
					   -1;
			bool lost = false;

			ci_term_free_evidence(t, op->nrules);
			for (size_t i = t->nr; i-- > 0;) {
				int l = policy_level_carry(
					np, op->levels[t->r[i].level].name);

				if (l < 0) {
					ci_note(c, t, &t->r[i], CORR_R_ENDED,
						op->levels[t->r[i].level].name,
						"reload",
						"its level is gone from the "
						"policy");
					ci_remove_at(t, i);
					lost = true;
				} else {
					t->r[i].level = (unsigned)l;
				}
			}
			/* Level indexes may have moved: compare in the new
			 * numbering, announce what changed. */
			if (t->emitted)
				t->last_level = last < 0 ? ~0u : (unsigned)last;
			if (lost || (t->emitted && last < 0))
				made += ci_emit_terminal(
					c, t, "reload",
					"its level is gone from the policy");
		}
	(void)now;
	return made;
}
