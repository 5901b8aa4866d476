// SPDX-License-Identifier: GPL-2.0-only
/*
 * The correlation engine (see correlate.h). Terminals live in a hash table
 * keyed by address; each holds its reactions and, per rule, a ring of the
 * times of its last `count` matching events (the window slides: older
 * evidence simply stops counting). Outbreak rules keep, per scope, which
 * terminals raised which signature when.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "correlate-internal.h"
uint64_t ci_esc_keep(const struct policy *p)
{
	uint64_t k = 0;

	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].escalate && p->rules[i].esc_within_ns > k)
			k = p->rules[i].esc_within_ns;
	return k;
}

/* A new reaction of rule ru on t at now (not a renewal): remembers the
 * offence and, for an escalating rule, lengthens the duration and raises
 * the level per the earlier offences within escalate.within. */
static void escalate(const struct term *t, struct term *et,
		     const struct policy_rule *ru, uint64_t now,
		     unsigned *level, uint64_t *until, char *why, size_t wlen)
{
	unsigned earlier = 0;

	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->r[i].rule, ru->name) &&
		    (!t->r[i].until || t->r[i].until > now))
			return; /* a renewal, not a new offence */
	for (int i = 0; i < CORR_OFFENCES; i++)
		if (et->offence[i] && ru->escalate &&
		    now - et->offence[i] <= ru->esc_within_ns)
			earlier++;
	et->offence[et->noffence++ % CORR_OFFENCES] = now;
	if (!ru->escalate || !earlier)
		return;
	if (ru->duration_ns) {
		uint64_t d = ru->duration_ns;

		for (unsigned k = 0; k < earlier; k++) {
			if (d > UINT64_MAX / ru->esc_factor) {
				d = UINT64_MAX;
				break;
			}
			d *= ru->esc_factor;
		}
		if (ru->esc_max_ns && d > ru->esc_max_ns)
			d = ru->esc_max_ns;
		*until = d > UINT64_MAX - now ? 0 : now + d;
	}
	if (ru->esc_after && earlier + 1 >= ru->esc_after)
		*level = ru->esc_level;
	snprintf(why + strlen(why), wlen - strlen(why),
		 " [offence %u within %llus: escalated]", earlier + 1,
		 (unsigned long long)(ru->esc_within_ns / 1000000000ULL));
}

static unsigned hash(const struct xcrs_addr *a)
{
	unsigned h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ a->a[i]) * 16777619u;
	return h % CORR_BUCKETS;
}

void ci_term_free_evidence(struct term *t, size_t nrules)
{
	if (t->hits)
		for (size_t i = 0; i < nrules; i++)
			free(t->hits[i]);
	free(t->hits);
	free(t->nhits);
	t->hits = NULL;
	t->nhits = NULL;
}

struct term *ci_find(const struct corr *c, const struct xcrs_addr *a)
{
	struct term *t;

	for (t = c->bucket[hash(a)]; t; t = t->next)
		if (!memcmp(&t->a, a, sizeof(*a)))
			return t;
	return NULL;
}

struct term *ci_find_or_add(struct corr *c, const struct xcrs_addr *a)
{
	struct term *t = ci_find(c, a);
	unsigned h;

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->a = *a;
	h = hash(a);
	t->next = c->bucket[h];
	c->bucket[h] = t;
	c->nterms++;
	return t;
}

void ci_scopes_free(struct corr *c)
{
	if (!c->scopes)
		return;
	for (size_t i = 0; i < c->p->nscopes; i++) {
		if (c->scopes[i].sig)
			for (size_t j = 0; j < c->p->nrules; j++)
				free(c->scopes[i].sig[j]);
		free(c->scopes[i].sig);
		free(c->scopes[i].nsig);
	}
	free(c->scopes);
	c->scopes = NULL;
}

int corr_new(const struct policy *p, corr_decide_fn fn, void *ctx,
	     struct corr **ret_corr)
{
	struct corr *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->p = p;
	c->esc_keep_ns = ci_esc_keep(p);
	c->fn = fn;
	c->ctx = ctx;
	c->scopes = calloc(p->nscopes ? p->nscopes : 1, sizeof(*c->scopes));
	if (!c->scopes) {
		free(c);
		return -ENOMEM;
	}
	*ret_corr = c;
	return 0;
}

void corr_free(struct corr *c)
{
	if (!c)
		return;
	for (int i = 0; i < CORR_BUCKETS; i++) {
		struct term *t = c->bucket[i], *n;

		for (; t; t = n) {
			n = t->next;
			ci_term_free_evidence(t, c->p->nrules);
			free(t);
		}
	}
	ci_scopes_free(c);
	free(c);
}

void corr_set_notes(struct corr *c, corr_note_fn fn, void *ctx)
{
	c->note = fn;
	c->note_ctx = ctx;
}

void ci_note(const struct corr *c, const struct term *t,
	     const struct reaction *r, enum corr_rchange ch, const char *level,
	     const char *by, const char *why)
{
	struct corr_reaction_note n = {
		.change = ch,
		.terminal = t->a,
		.rule = r->rule,
		.level = level,
		.until_ns = r->until,
		.why = why ? why : r->why,
		.by = by,
	};

	if (c->note)
		c->note(c->note_ctx, &n);
}

void ci_note_fired(const struct corr *c, const struct term *t,
		   const char *rule)
{
	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->r[i].rule, rule))
			ci_note(c, t, &t->r[i], CORR_R_FIRED,
				c->p->levels[t->r[i].level].name, NULL, NULL);
}

/* Ends reaction i of t with a note. */
static void end_at(struct corr *c, struct term *t, size_t i, const char *by,
		   const char *why)
{
	ci_note(c, t, &t->r[i], CORR_R_ENDED, c->p->levels[t->r[i].level].name,
		by, why);
	ci_remove_at(t, i);
}

void corr_set_holder(struct corr *c, corr_holder_fn fn, void *ctx)
{
	c->holder = fn;
	c->holder_ctx = ctx;
}

bool ci_holder(const struct corr *c, const struct xcrs_addr *a,
	       struct corr_holder *h)
{
	return c->holder && c->holder(c->holder_ctx, c->p, a, h);
}

int corr_scope_of(const struct corr *c, const struct xcrs_addr *t)
{
	struct corr_holder h;

	if (ci_holder(c, t, &h) && h.scope >= 0)
		return h.scope;
	return policy_scope_of(c->p, t);
}

size_t corr_offences(const struct corr *c, const struct xcrs_addr *who,
		     uint64_t *out, size_t max)
{
	const struct term *t = ci_find(c, who);
	size_t n = 0;

	if (!t)
		return 0;
	/* the ring from its oldest slot on */
	for (unsigned i = 0; i < CORR_OFFENCES && n < max; i++) {
		uint64_t v = t->offence[(t->noffence + i) % CORR_OFFENCES];

		if (v)
			out[n++] = v;
	}
	return n;
}

int corr_set_offences(struct corr *c, const struct xcrs_addr *who,
		      const uint64_t *in, size_t n)
{
	struct term *t = ci_find_or_add(c, who);

	if (!t)
		return -ENOMEM;
	memset(t->offence, 0, sizeof(t->offence));
	t->noffence = 0;
	if (n > CORR_OFFENCES) {
		in += n - CORR_OFFENCES;
		n = CORR_OFFENCES;
	}
	for (size_t i = 0; i < n; i++)
		t->offence[t->noffence++ % CORR_OFFENCES] = in[i];
	return 0;
}

/* ---- terminal decisions ---- */

/* The effective level: the most restrictive reaction, the longest of
 * those; then_level is what remains after it ends. */
void ci_effective(const struct term *t, size_t *ret_top, int *ret_then)
{
	size_t top = 0;
	int then = -1;

	for (size_t i = 1; i < t->nr; i++) {
		const struct reaction *a = &t->r[i], *b = &t->r[top];

		if (a->level > b->level ||
		    (a->level == b->level &&
		     (!a->until || (b->until && a->until > b->until))))
			top = i;
	}
	for (size_t i = 0; i < t->nr; i++) {
		const struct reaction *a = &t->r[i];

		if (i == top || (a->until && t->r[top].until &&
				 a->until <= t->r[top].until))
			continue;
		if (!t->r[top].until)
			continue;
		if ((int)a->level > then)
			then = (int)a->level;
	}
	*ret_top = top;
	*ret_then = then;
}

int ci_emit_terminal(struct corr *c, struct term *t, const char *rule,
			 const char *why)
{
	struct corr_decision d = { .terminal = t->a,
				   .scope = corr_scope_of(c, &t->a),
				   .rule = rule,
				   .why = why };
	size_t top;
	int then;

	if (!t->nr) {
		if (!t->emitted)
			return 0;
		t->emitted = false;
		d.change = CORR_TERMINAL_RELEASED;
		d.then_level = -1;
		c->fn(c->ctx, &d);
		return 1;
	}
	ci_effective(t, &top, &then);
	if (t->emitted && t->last_level == t->r[top].level &&
	    t->last_until == t->r[top].until && t->last_then == then)
		return 0;
	t->emitted = true;
	t->last_level = t->r[top].level;
	t->last_until = t->r[top].until;
	t->last_then = then;
	d.change = CORR_TERMINAL_SET;
	d.level = t->r[top].level;
	d.until_ns = t->r[top].until;
	d.then_level = then;
	d.cause = rule; /* a fall-back: what ended the one above */
	d.rule = t->r[top].rule;
	d.why = t->r[top].why;
	c->fn(c->ctx, &d);
	return 1;
}

/* Adds or renews the reaction of rule on t. */
int ci_add_reaction(struct term *t, const char *rule, unsigned level,
			uint64_t until, bool roc, const char *why)
{
	struct reaction *r = NULL;

	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->r[i].rule, rule))
			r = &t->r[i];
	if (!r) {
		if (t->nr == CORR_MAX_REACTIONS) {
			/* Replace the least restrictive, shortest one. */
			size_t w = 0;

			for (size_t i = 1; i < t->nr; i++)
				if (t->r[i].level < t->r[w].level)
					w = i;
			r = &t->r[w];
		} else {
			r = &t->r[t->nr++];
		}
	}
	snprintf(r->rule, sizeof(r->rule), "%s", rule);
	r->level = level;
	/* Renewal extends, never shortens. */
	if (!until || !r->until || until > r->until || r->level != level)
		r->until = until;
	r->release_on_clean = roc;
	snprintf(r->why, sizeof(r->why), "%s", why);
	return 0;
}

void ci_remove_at(struct term *t, size_t i)
{
	t->r[i] = t->r[--t->nr];
}

/* ---- evidence ---- */

static bool rule_matches(const struct policy_rule *ru,
			 const struct corr_event *ev)
{
	switch (ru->on) {
	case POLICY_ON_REPORT:
		return ev->kind == CORR_EV_REPORT &&
		       (ru->statuses & (1u << ev->status));
	case POLICY_ON_IDS:
		if (ev->kind != CORR_EV_IDS)
			return false;
		if (ru->severity_max && ev->severity > ru->severity_max)
			return false;
		if (ru->nsignatures) {
			for (size_t i = 0; i < ru->nsignatures; i++)
				if (ru->signatures[i] == ev->signature)
					return true;
			return false;
		}
		return true;
	case POLICY_ON_FANOUT:
		return ev->kind == CORR_EV_FANOUT;
	}
	return false;
}

/* Records one event for rule ri; true when the rule's count is reached
 * within its window (the evidence is then consumed). */
static int count_hit(struct corr *c, struct term *t, size_t ri, uint64_t now,
		     bool *fired)
{
	const struct policy_rule *ru = &c->p->rules[ri];
	unsigned k = ru->count, n;
	uint64_t *ring, oldest;

	*fired = false;
	if (k <= 1) {
		*fired = true;
		return 0;
	}
	if (!t->hits) {
		t->hits = calloc(c->p->nrules, sizeof(*t->hits));
		t->nhits = calloc(c->p->nrules, sizeof(*t->nhits));
		if (!t->hits || !t->nhits) {
			ci_term_free_evidence(t, c->p->nrules);
			return -ENOMEM;
		}
	}
	if (!t->hits[ri]) {
		t->hits[ri] = calloc(k, sizeof(uint64_t));
		if (!t->hits[ri])
			return -ENOMEM;
	}
	ring = t->hits[ri];
	n = t->nhits[ri];
	ring[n % k] = now;
	t->nhits[ri] = ++n;
	if (n < k)
		return 0;
	oldest = ring[n % k]; /* the k-th most recent */
	if (now - oldest <= ru->window_ns) {
		*fired = true;
		t->nhits[ri] = 0;
	}
	return 0;
}

/* Outbreak rules: distinct terminals (identities: a subscriber that
 * changed address is one) of the scope with the same signature within the
 * window. */
static int count_outbreak(struct corr *c, int scope, size_t ri,
			  uint64_t signature, const struct xcrs_addr *who,
			  uint64_t now, uint64_t ts, unsigned *ret_distinct)
{
	const struct policy_rule *ru = &c->p->rules[ri];
	struct scope_state *s = &c->scopes[scope];
	struct sighit *v;
	size_t n, w = 0;
	unsigned distinct = 0;
	bool found = false;

	if (!s->sig) {
		s->sig = calloc(c->p->nrules, sizeof(*s->sig));
		s->nsig = calloc(c->p->nrules, sizeof(*s->nsig));
		if (!s->sig || !s->nsig) {
			free(s->sig);
			free(s->nsig);
			s->sig = NULL;
			s->nsig = NULL;
			return -ENOMEM;
		}
	}
	v = s->sig[ri];
	n = s->nsig[ri];
	/* Drop what left the window; refresh this terminal's entry. */
	for (size_t i = 0; i < n; i++) {
		if (v[i].ts < now && now - v[i].ts > ru->window_ns)
			continue;
		if (v[i].signature == signature &&
		    !memcmp(&v[i].terminal, who, 16)) {
			if (ts > v[i].ts)
				v[i].ts = ts;
			found = true;
		}
		v[w++] = v[i];
	}
	n = w;
	if (!found) {
		struct sighit *nv = realloc(v, (n + 1) * sizeof(*v));

		if (!nv)
			return -ENOMEM;
		v = nv;
		v[n].signature = signature;
		v[n].terminal = *who;
		v[n].ts = ts;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		distinct += v[i].signature == signature;
	s->sig[ri] = v;
	s->nsig[ri] = n;
	*ret_distinct = distinct;
	return 0;
}

static int emit_scope(struct corr *c, int scope, enum corr_change ch,
		      const char *rule, const char *why)
{
	struct corr_decision d = { .change = ch,
				   .scope = scope,
				   .until_ns = c->scopes[scope].until,
				   .then_level = -1,
				   .rule = rule,
				   .why = why };

	c->fn(c->ctx, &d);
	return 1;
}

static int contain(struct corr *c, int scope, uint64_t until,
		   const char *rule, const char *why)
{
	struct scope_state *s = &c->scopes[scope];

	if (s->contained && (!s->until || (until && until <= s->until)))
		return 0; /* already, at least as long */
	s->contained = true;
	s->until = until;
	snprintf(s->rule, sizeof(s->rule), "%s", rule);
	snprintf(s->why, sizeof(s->why), "%s", why);
	return emit_scope(c, scope, CORR_SCOPE_CONTAINED, s->rule, s->why);
}

static void describe(const struct corr_event *ev, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	addr_format(&ev->terminal, a, sizeof(a));
	switch (ev->kind) {
	case CORR_EV_REPORT:
		snprintf(buf, len, "%s reported %s%s%.100s (%.40s)", a,
			 crsap_status_name(ev->status),
			 ev->detail[0] ? ": " : "", ev->detail, ev->source);
		break;
	case CORR_EV_IDS:
		snprintf(buf, len, "%s: alert %llu severity %u%s%.100s (%.40s)",
			 a,
			 (unsigned long long)ev->signature, ev->severity,
			 ev->detail[0] ? ": " : "", ev->detail, ev->source);
		break;
	case CORR_EV_FANOUT:
		snprintf(buf, len, "%s: fan-out%s%.100s (%.40s)", a,
			 ev->detail[0] ? ": " : "", ev->detail, ev->source);
		break;
	}
}

int corr_ingest(struct corr *c, const struct corr_event *ev, uint64_t now)
{
	const struct policy *p = c->p;
	struct corr_holder h;
	struct xcrs_addr who = ev->terminal;
	struct term *t, *et = NULL;
	char why[400];
	int made = 0, r;
	bool changed = false;

	t = ci_find_or_add(c, &ev->terminal);
	if (!t)
		return -ENOMEM;
	t->last_seen = now;
	/* the evidence is the subscriber's when a session holds the address */
	if (ci_holder(c, &ev->terminal, &h)) {
		et = ci_find_or_add(c, &h.who);
		if (!et)
			return -ENOMEM;
		who = h.who;
		et->last_seen = now;
	} else {
		et = t;
	}
	describe(ev, why, sizeof(why));

	/* A clean report ends the reactions that allow it. */
	if (ev->kind == CORR_EV_REPORT && ev->status == CRSAP_STATUS_CLEAN) {
		for (size_t i = t->nr; i-- > 0;)
			if (t->r[i].release_on_clean) {
				end_at(c, t, i, "clean", why);
				changed = true;
			}
		if (changed)
			made += ci_emit_terminal(c, t, "clean", why);
		changed = false;
	}

	for (size_t ri = 0; ri < p->nrules; ri++) {
		const struct policy_rule *ru = &p->rules[ri];
		uint64_t until = ru->duration_ns ? now + ru->duration_ns : 0;
		bool fired = false;

		if (!rule_matches(ru, ev))
			continue;
		if (ru->nmatch_scopes) {
			/* group attributes: the rule is for some scopes */
			int sc = corr_scope_of(c, &ev->terminal);
			bool in = false;

			for (size_t i = 0; i < ru->nmatch_scopes; i++)
				in |= ru->scopes[i] == sc;
			if (!in)
				continue;
		}
		if (ru->terminals) {
			int scope = corr_scope_of(c, &ev->terminal);
			unsigned distinct;
			char w2[400];

			if (scope < 0)
				continue; /* no scope to contain */
			r = count_outbreak(c, scope, ri, ev->signature, &who, now,
					   now, &distinct);
			if (r)
				return r;
			if (distinct < ru->terminals)
				continue;
			snprintf(w2, sizeof(w2),
				 "%u terminals of scope %s raised alert %llu "
				 "within %llus; last: %.90s",
				 distinct, p->scopes[scope].name,
				 (unsigned long long)ev->signature,
				 (unsigned long long)(ru->window_ns /
						      1000000000ULL),
				 why);
			c->scopes[scope].nsig[ri] = 0;
			if (ru->contain)
				made += contain(c, scope, until, ru->name, w2);
			else {
				unsigned lv = ru->level;

				escalate(t, et, ru, now, &lv, &until, w2,
					 sizeof(w2));
				ci_add_reaction(t, ru->name, lv, until,
					     ru->release_on_clean, w2);
				ci_note_fired(c, t, ru->name);
				changed = true;
			}
			continue;
		}
		r = count_hit(c, et, ri, now, &fired);
		if (r)
			return r;
		if (!fired)
			continue;
		if (ru->contain) {
			int scope = corr_scope_of(c, &ev->terminal);

			if (scope >= 0)
				made += contain(c, scope, until, ru->name, why);
			continue;
		}
		{
			unsigned lv = ru->level;
			char w3[480];

			snprintf(w3, sizeof(w3), "%s", why);
			escalate(t, et, ru, now, &lv, &until, w3,
				 sizeof(w3));
			ci_add_reaction(t, ru->name, lv, until,
				     ru->release_on_clean, w3);
			ci_note_fired(c, t, ru->name);
		}
		changed = true;
	}
	if (changed)
		made += ci_emit_terminal(c, t, NULL, NULL);
	return made;
}

int corr_ingest_remote(struct corr *c, const struct corr_event *ev,
		       int scope, const struct xcrs_addr *who, uint64_t at,
		       uint64_t now)
{
	const struct policy *p = c->p;
	int made = 0, r;

	if (scope < 0 || (size_t)scope >= p->nscopes)
		return 0;
	if (at > now || now - at > UINT64_MAX / 2)
		at = now;
	for (size_t ri = 0; ri < p->nrules; ri++) {
		const struct policy_rule *ru = &p->rules[ri];
		uint64_t until = ru->duration_ns ? now + ru->duration_ns : 0;
		unsigned distinct;
		char w2[400];
		bool in = !ru->nmatch_scopes;

		/* only outbreak rules that contain: the terminal is
		 * another node's to react to */
		if (!ru->terminals || !ru->contain || !rule_matches(ru, ev))
			continue;
		for (size_t i = 0; i < ru->nmatch_scopes; i++)
			in |= ru->scopes[i] == scope;
		if (!in || now - at > ru->window_ns)
			continue;
		r = count_outbreak(c, scope, ri, ev->signature, who, now, at,
				   &distinct);
		if (r)
			return r;
		if (distinct < ru->terminals)
			continue;
		snprintf(w2, sizeof(w2),
			 "%u terminals of scope %s raised alert %llu within "
			 "%llus, across the fleet; last: %.40s on node %.32s",
			 distinct, p->scopes[scope].name,
			 (unsigned long long)ev->signature,
			 (unsigned long long)(ru->window_ns / 1000000000ULL),
			 ev->detail, ev->source);
		c->scopes[scope].nsig[ri] = 0;
		made += contain(c, scope, until, ru->name, w2);
	}
	return made;
}

int corr_tick(struct corr *c, uint64_t now)
{
	int made = 0;

	for (int b = 0; b < CORR_BUCKETS; b++) {
		struct term **pp = &c->bucket[b], *t;

		while ((t = *pp)) {
			bool changed = false;

			for (size_t i = t->nr; i-- > 0;)
				if (t->r[i].until && t->r[i].until <= now) {
					end_at(c, t, i, "expired",
					       "the reaction's time is over");
					changed = true;
				}
			if (changed)
				made += ci_emit_terminal(c, t, "expired",
							 "the reaction's "
							 "time is over");
			/* Forget terminals with neither reaction nor
			 * evidence that could still count (1 day idle). */
			if (!t->nr && !t->emitted &&
			    now - t->last_seen > 86400ULL * 1000000000ULL &&
			    (!c->esc_keep_ns ||
			     now - t->offence[(t->noffence + CORR_OFFENCES - 1) %
					      CORR_OFFENCES] >
				     c->esc_keep_ns)) {
				*pp = t->next;
				ci_term_free_evidence(t, c->p->nrules);
				free(t);
				c->nterms--;
				continue;
			}
			pp = &t->next;
		}
	}
	for (size_t s = 0; s < c->p->nscopes; s++) {
		struct scope_state *st = &c->scopes[s];

		if (st->contained && st->until && st->until <= now) {
			st->contained = false;
			made += emit_scope(c, (int)s, CORR_SCOPE_RELEASED,
					   "expired",
					   "the containment's time is over");
		}
	}
	return made;
}

uint64_t corr_next_deadline(const struct corr *c)
{
	uint64_t next = 0;

	for (int b = 0; b < CORR_BUCKETS; b++)
		for (const struct term *t = c->bucket[b]; t; t = t->next)
			for (size_t i = 0; i < t->nr; i++)
				if (t->r[i].until &&
				    (!next || t->r[i].until < next))
					next = t->r[i].until;
	for (size_t s = 0; s < c->p->nscopes; s++) {
		const struct scope_state *st = &c->scopes[s];

		if (st->contained && st->until && (!next || st->until < next))
			next = st->until;
	}
	return next;
}

int corr_react_rule(struct corr *c, const struct xcrs_addr *a,
		    const char *rule, unsigned level, uint64_t until,
		    bool release_on_clean, const char *reason, uint64_t now)
{
	struct term *t;

	if (level >= c->p->nlevels)
		return -EINVAL;
	t = ci_find_or_add(c, a);
	if (!t)
		return -ENOMEM;
	t->last_seen = now;
	/* A new word under the same name replaces the earlier one. */
	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->r[i].rule, rule))
			ci_remove_at(t, i);
	ci_add_reaction(t, rule, level, until, release_on_clean, reason);
	ci_note_fired(c, t, rule);
	return ci_emit_terminal(c, t, NULL, NULL);
}

int corr_react(struct corr *c, const struct xcrs_addr *a, unsigned level,
	       uint64_t until, const char *reason, uint64_t now)
{
	return corr_react_rule(c, a, OPERATOR, level, until, false,
			       reason && *reason ? reason
						 : "set by the operator",
			       now);
}

int corr_release_rule(struct corr *c, const struct xcrs_addr *a,
		      const char *rule, const char *reason, uint64_t now)
{
	struct term *t = ci_find(c, a);
	bool found = false;

	if (!t)
		return -ENOENT;
	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->r[i].rule, rule)) {
			end_at(c, t, i, "released", reason);
			i--;
			found = true;
		}
	if (!found)
		return -ENOENT;
	t->last_seen = now;
	return ci_emit_terminal(c, t, rule, reason);
}

int corr_release(struct corr *c, const struct xcrs_addr *a, uint64_t now)
{
	struct term *t = ci_find(c, a);

	if (!t || !t->nr)
		return -ENOENT;
	while (t->nr)
		end_at(c, t, t->nr - 1, "operator", "released by the operator");
	t->last_seen = now;
	return ci_emit_terminal(c, t, OPERATOR, "released by the operator");
}

int corr_contain(struct corr *c, int scope, uint64_t until,
		 const char *reason, uint64_t now)
{
	if (scope < 0 || (size_t)scope >= c->p->nscopes)
		return -EINVAL;
	c->scopes[scope].contained = false; /* the operator's word wins */
	return contain(c, scope, until, OPERATOR,
		       reason && *reason ? reason : "contained by the "
						    "operator");
}

int corr_contain_rule(struct corr *c, int scope, uint64_t until,
		      const char *rule, const char *reason, uint64_t now)
{
	(void)now;
	if (scope < 0 || (size_t)scope >= c->p->nscopes)
		return -EINVAL;
	return contain(c, scope, until, rule, reason ? reason : "");
}

int corr_uncontain(struct corr *c, int scope, uint64_t now)
{
	if (scope < 0 || (size_t)scope >= c->p->nscopes)
		return -EINVAL;
	if (!c->scopes[scope].contained)
		return -ENOENT;
	c->scopes[scope].contained = false;
	return emit_scope(c, scope, CORR_SCOPE_RELEASED, OPERATOR,
			  "released by the operator");
}
