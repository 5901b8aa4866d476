// SPDX-License-Identifier: GPL-2.0-only
/*
 * The decision layer (see decide.h): events, the operator and the MS
 * lifecycle in; the engine's decisions enforced, audited, counted and
 * passed to the ports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "async.h"

#include "addr.h"
#include "abinames.h"
#include "clock.h"
#include "decide-internal.h"
#include "log.h"

const uint64_t decide_lat_bounds_ns[DECIDE_LAT_BUCKETS] = {
	10000,	  25000,    50000,    100000,	250000,	   500000,
	1000000,  2500000,  5000000,  10000000, 50000000,  250000000,
};

/* ---- decisions ----------------------------------------------------------- */

void decide_lat_observe(uint64_t t0, uint64_t hist[DECIDE_LAT_BUCKETS + 1],
			uint64_t *sum_ns, uint64_t *count)
{
	uint64_t ns;
	size_t b = 0;

	if (!t0)
		return;
	ns = now_mono() - t0;
	while (b < DECIDE_LAT_BUCKETS && ns > decide_lat_bounds_ns[b])
		b++;
	hist[b]++;
	*sum_ns += ns;
	(*count)++;
}

void decide_observe(struct decide *d)
{
	decide_lat_observe(d->t0, d->rep.lat_hist, &d->rep.lat_sum_ns,
			   &d->rep.lat_count);
}

/* Remembers the first refusal of this call's decisions for its caller. */
static void note_enforce(struct decide *d, int r)
{
	if (!r || d->enf_r)
		return;
	d->enf_r = r;
	snprintf(d->enf_err, sizeof(d->enf_err), "%s", enf_errmsg(d->enf));
}

/* One audit record per reaction that a rule (or the operator) starts,
 * renews or ends, whatever the terminal's effective level does: a rule
 * firing under a stronger reaction, a hidden one expiring. */
static void on_note(void *ctx, const struct corr_reaction_note *n)
{
	struct decide *d = ctx;
	json_object *rec = json_object_new_object();
	char buf[ADDR_STRLEN];
	struct decide_hold h;

	addr_format(&n->terminal, buf, sizeof(buf));
	audit_add_str(rec, "event", n->change == CORR_R_FIRED ? "rule-fired" :
								"rule-ended");
	audit_add_str(rec, "terminal", buf);
	if (d->holder && d->holder(d->holder_ctx, d->p, &n->terminal, &h))
		audit_add_str(rec, "subscriber", h.id);
	audit_add_str(rec, "rule", n->rule);
	audit_add_str(rec, "level", n->level);
	if (n->change == CORR_R_FIRED) {
		audit_add_until(rec, n->until_ns);
		audit_add_str(rec, "evidence", n->why);
	} else {
		audit_add_str(rec, "cause", n->by);
		audit_add_str(rec, "evidence", n->why);
	}
	audit_write(d->au, rec);
}

static void on_decide(void *ctx, const struct corr_decision *dc)
{
	struct decide *d = ctx;
	json_object *rec = json_object_new_object();
	char buf[ADDR_STRLEN + 56];
	const struct policy *p = d->p;
	bool terminal = dc->change == CORR_TERMINAL_SET ||
			dc->change == CORR_TERMINAL_RELEASED;

	struct decide_hold h;
	bool held;

	d->rep.decisions++;
	/* in the journal before the dataplane entry is written */
	if (terminal)
		journal_terminal(d, &dc->terminal);
	else
		journal_scope(d, dc->scope);
	held = terminal && d->holder &&
	       d->holder(d->holder_ctx, p, &dc->terminal, &h);
	if (terminal)
		addr_format(&dc->terminal, buf, sizeof(buf));
	if (held) /* the log names the subscriber with its address */
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			 " (%.*s)", (int)(sizeof(buf) - strlen(buf) - 4),
			 h.id);
	switch (dc->change) {
	case CORR_TERMINAL_SET:
		d->rep.reactions++;
		note_enforce(d, enf_terminal(d->enf, &dc->terminal, dc->level,
					     dc->until_ns, dc->then_level));
		decide_observe(d);
		audit_add_str(rec, "event", "react");
		audit_add_str(rec, "level", p->levels[dc->level].name);
		audit_add_until(rec, dc->until_ns);
		if (dc->until_ns)
			audit_add_str(rec, "then",
				      dc->then_level >= 0 ?
					      p->levels[dc->then_level].name :
					      "base");
		log_info("%s -> %s (rule %s: %s%s%s)", buf,
			 p->levels[dc->level].name, dc->rule, dc->why,
			 dc->cause ? "; after " : "",
			 dc->cause ? dc->cause : "");
		break;
	case CORR_TERMINAL_RELEASED:
		d->rep.releases++;
		note_enforce(d, enf_base(d->enf, &dc->terminal));
		audit_add_str(rec, "event", "release");
		log_info("%s released (%s: %s)", buf, dc->rule, dc->why);
		break;
	case CORR_SCOPE_CONTAINED:
		d->rep.contains++;
		note_enforce(d, enf_scope(d->enf, dc->scope,
					  decide_scope_mode(d, dc->scope)));
		audit_add_str(rec, "event", "contain");
		audit_add_str(rec, "mode",
			      abi_contain_name(
				      decide_scope_mode(d, dc->scope)));
		audit_add_until(rec, dc->until_ns);
		log_info("scope %s contained (rule %s: %s)",
			 p->scopes[dc->scope].name, dc->rule, dc->why);
		break;
	case CORR_SCOPE_RELEASED:
		d->rep.uncontains++;
		d->scope_mode[dc->scope] = XCRS_CONTAIN_NONE;
		note_enforce(d, enf_scope(d->enf, dc->scope, XCRS_CONTAIN_NONE));
		audit_add_str(rec, "event", "uncontain");
		log_info("scope %s released (%s: %s)",
			 p->scopes[dc->scope].name, dc->rule, dc->why);
		break;
	}
	if (terminal) {
		addr_format(&dc->terminal, buf, sizeof(buf));
		audit_add_str(rec, "terminal", buf);
		if (held)
			audit_add_str(rec, "subscriber", h.id);
	}
	if (dc->scope >= 0 && (size_t)dc->scope < p->nscopes)
		audit_add_str(rec, "scope", p->scopes[dc->scope].name);
	/* a level set: the reaction that holds it, and what moved it there
	 * if that was not its own firing; a release: what ended the last */
	audit_add_str(rec, dc->change == CORR_TERMINAL_RELEASED ? "cause" :
								  "rule",
		      dc->rule);
	if (dc->cause)
		audit_add_str(rec, "cause", dc->cause);
	audit_add_str(rec, "evidence", dc->why);
	audit_write(d->au, rec);
	for (size_t i = 0; i < d->nports; i++) {
		const struct decide_port *pt = &d->ports[i];

		if (terminal && pt->terminal_changed)
			pt->terminal_changed(pt->ctx, &dc->terminal);
		if (dc->change == CORR_SCOPE_CONTAINED && pt->scope_contained)
			pt->scope_contained(pt->ctx, dc->rule, dc->scope);
		if ((dc->change == CORR_SCOPE_CONTAINED ||
		     dc->change == CORR_SCOPE_RELEASED) &&
		    pt->scope_changed)
			pt->scope_changed(pt->ctx, dc);
	}
}

void decide_refused_never(struct decide *d, const struct xcrs_addr *a,
			  unsigned plen, const char *what)
{
	int i = plen < 128 ? policy_never_overlaps(d->p, a, plen) :
			     policy_never_react(d->p, a);
	json_object *rec = json_object_new_object();
	char buf[ADDR_STRLEN + 4];

	if (plen < 128)
		addr_prefix_format(a, plen, buf, sizeof(buf));
	else
		addr_format(a, buf, sizeof(buf));
	d->rep.never_refused++;
	log_warn("%s: %s refused: on the never_react list (%s)", buf, what,
		 i >= 0 ? d->p->never[i].name : "?");
	audit_add_str(rec, "event", "refused");
	audit_add_str(rec, "target", buf);
	audit_add_str(rec, "what", what);
	audit_add_str(rec, "never_react", i >= 0 ? d->p->never[i].name : "");
	audit_write(d->au, rec);
}

/* Starts a call that may decide: its refusals are collected. */
static void begin(struct decide *d, uint64_t t0)
{
	d->t0 = t0;
	d->enf_r = 0;
	d->enf_err[0] = '\0';
}

/* Ends it: 0, or the first refusal with err saying what became of it. */
static int end(struct decide *d, const char *what, char *err, size_t errlen)
{
	int r = d->enf_r;

	d->t0 = 0;
	if (r && err)
		snprintf(err, errlen,
			 "%s: the dataplane refused it: %s (the decision is "
			 "kept and written again every few seconds)",
			 what, d->enf_err);
	return r;
}

/* ---- life ------------------------------------------------------------------ */

int decide_new(const struct policy *p, struct enforce *enf,
	       struct audit *au, struct decide **ret_decide)
{
	struct decide *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->p = p;
	d->enf = enf;
	d->au = au;
	d->jfd = -1;
	d->scope_mode = calloc(p->nscopes + 1, sizeof(*d->scope_mode));
	if (!d->scope_mode) {
		free(d);
		return -ENOMEM;
	}
	r = corr_new(p, on_decide, d, &d->corr);
	if (r) {
		free(d->scope_mode);
		free(d);
		return r;
	}
	corr_set_notes(d->corr, on_note, d);
	*ret_decide = d;
	return 0;
}

void decide_free(struct decide *d)
{
	if (!d)
		return;
	corr_free(d->corr);
	async_close(d->syncer, d); /* waits for a sync in progress */
	if (d->jfd >= 0)
		close(d->jfd);
	free(d->scope_mode);
	free(d->pdecs);
	free(d);
}

int decide_add_port(struct decide *d, const struct decide_port *port)
{
	if (d->nports >= DECIDE_PORTS_MAX)
		return -ENOSPC;
	d->ports[d->nports++] = *port;
	return 0;
}

const struct decide_report *decide_report(const struct decide *d)
{
	return &d->rep;
}

const struct corr *decide_engine(const struct decide *d)
{
	return d->corr;
}

enum xcrs_contain_mode decide_scope_mode(const struct decide *d, int scope)
{
	return d->scope_mode[scope] ? d->scope_mode[scope] :
				      d->p->scopes[scope].containment;
}

bool decide_reacted(const struct decide *d, const struct xcrs_addr *a)
{
	struct corr_view v;

	return corr_terminal(d->corr, a, &v) == 0;
}

bool decide_dirty(const struct decide *d)
{
	return d->dirty || d->jsync;
}

void decide_mark_dirty(struct decide *d)
{
	d->dirty = true;
}

/* ---- policy ---------------------------------------------------------------- */

static bool reacted(void *ctx, const struct xcrs_addr *a)
{
	return decide_reacted(ctx, a);
}

static void write_view(void *ctx, const struct corr_view *v)
{
	struct decide *d = ctx;

	note_enforce(d, enf_terminal(d->enf, &v->terminal, v->level,
				     v->until_ns, v->then_level));
}

/* Tables atomically, then static subscribers (those with a reaction keep
 * the reaction's entry), then every reaction and containment. */
static int apply_all(struct decide *d, const struct policy *old, char *err,
		     size_t errlen)
{
	const struct policy *p = d->p;
	int r = enf_policy(d->enf, old, reacted, d, err, errlen);

	if (r)
		return r;
	corr_each_terminal(d->corr, write_view, d);
	for (size_t i = 0; i < p->nscopes; i++) {
		uint64_t until;
		const char *rule;
		bool on = corr_scope_state(d->corr, (int)i, &until, &rule) == 1;

		if (!on)
			d->scope_mode[i] = XCRS_CONTAIN_NONE;
		note_enforce(d, enf_scope(d->enf, (int)i,
					  on ? decide_scope_mode(d, (int)i) :
					       XCRS_CONTAIN_NONE));
	}
	/* scopes of the old policy that are gone */
	for (size_t i = 0; old && i < old->nscopes; i++)
		if (policy_scope_by_id(p, old->scopes[i].id) < 0)
			enf_scope_gone(d->enf, old->scopes[i].id);
	return 0;
}

int decide_apply(struct decide *d, char *err, size_t errlen)
{
	int r;

	begin(d, 0);
	r = apply_all(d, NULL, err, errlen);
	end(d, "", NULL, 0);
	if (r)
		return r;
	pdec_sync(d);
	return 0;
}

/* The operator's containment modes, carried to np's scopes by name. */
static enum xcrs_contain_mode *remap_modes(const struct decide *d,
					   const struct policy *np)
{
	const struct policy *old = d->p;
	enum xcrs_contain_mode *m = calloc(np->nscopes + 1, sizeof(*m));

	for (size_t i = 0; m && i < old->nscopes; i++) {
		int j = policy_scope_index(np, old->scopes[i].name);

		if (j >= 0)
			m[j] = d->scope_mode[i];
	}
	return m;
}

int decide_set_policy(struct decide *d, const struct policy *np,
		      uint64_t now, char *err, size_t errlen)
{
	const struct policy *old = d->p;
	enum xcrs_contain_mode *modes = remap_modes(d, np), *old_modes;
	int r;

	if (!modes) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* The engine moves first (it may release reactions whose level is
	 * gone, which needs the new policy for the dataplane entries); if
	 * the dataplane refuses the tables, it moves back. */
	begin(d, 0);
	d->p = np;
	old_modes = d->scope_mode;
	d->scope_mode = modes;
	enf_set_policy(d->enf, np);
	r = corr_set_policy(d->corr, np, now);
	if (r >= 0)
		r = apply_all(d, old, err, errlen);
	if (r < 0) {
		d->p = old;
		d->scope_mode = old_modes;
		free(modes);
		enf_set_policy(d->enf, old);
		corr_set_policy(d->corr, old, now);
		apply_all(d, np, err + strlen(err), errlen - strlen(err));
		end(d, "", NULL, 0);
		return r;
	}
	end(d, "", NULL, 0);
	free(old_modes);
	pdec_sync(d); /* levels by name; never_react may have grown */
	d->dirty = true;
	return 0;
}

/* ---- events ----------------------------------------------------------------- */

int decide_ingest(struct decide *d, const struct corr_event *ev,
		  uint64_t now, uint64_t t0)
{
	int r;

	/* never to be reacted to: not even evidence */
	if (policy_never_react(d->p, &ev->terminal) >= 0) {
		decide_refused_never(d, &ev->terminal, 128,
				     ev->source[0] ? ev->source : "event");
		return -EPERM;
	}
	for (size_t i = 0; i < d->nports; i++)
		if (d->ports[i].ingested) {
			struct decide_hold h;
			bool held = d->holder &&
				    d->holder(d->holder_ctx, d->p,
					      &ev->terminal, &h);

			d->ports[i].ingested(d->ports[i].ctx, ev,
					     corr_scope_of(d->corr,
							   &ev->terminal),
					     held ? h.id : "");
		}
	begin(d, t0);
	r = corr_ingest(d->corr, ev, now);
	end(d, "", NULL, 0);
	return r;
}

int decide_remote_event(struct decide *d, const struct corr_event *ev,
			int scope, const struct xcrs_addr *who, uint64_t at,
			uint64_t now)
{
	int r;

	begin(d, 0);
	r = corr_ingest_remote(d->corr, ev, scope, who, at, now);
	end(d, "", NULL, 0);
	return r;
}

void decide_tick(struct decide *d, uint64_t now)
{
	begin(d, 0);
	corr_tick(d->corr, now);
	end(d, "", NULL, 0);
}

uint64_t decide_next_deadline(const struct decide *d)
{
	return corr_next_deadline(d->corr);
}

static void resync(void *ctx, struct enforce *e)
{
	corr_each_terminal(((struct decide *)ctx)->corr, write_view, ctx);
}

void decide_housekeeping(struct decide *d, uint64_t now)
{
	pdec_expire(d, now);
	begin(d, 0);
	enf_housekeeping(d->enf, resync, d);
	end(d, "", NULL, 0);
}

/* ---- after a crash ------------------------------------------------------------ */

struct orphans {
	struct decide *d;
	uint64_t now;
	struct xcrs_addr *a;
	struct xcrs_sub *s;
	size_t n, cap;
};

static void orphan(void *ctx, const struct xcrs_addr *a,
		   const struct xcrs_sub *s)
{
	struct orphans *o = ctx;
	struct decide *d = o->d;
	struct decide_hold h;
	int base;

	if (s->flags & XCRS_SUB_F_PREFIX64 || s->level >= d->p->nlevels ||
	    decide_reacted(d, a) || policy_static_sub(d->p, a) ||
	    (d->holder && d->holder(d->holder_ctx, d->p, a, &h)))
		return;
	/* at the level the policy gives the address anyway: nothing held */
	base = policy_base_level(d->p, a);
	if ((base >= 0 && (unsigned)base == s->level && !s->expires_ns) ||
	    (s->expires_ns && s->expires_ns <= o->now))
		return;
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		struct xcrs_addr *na = realloc(o->a, cap * sizeof(*na));
		struct xcrs_sub *ns;

		if (!na)
			return;
		o->a = na;
		ns = realloc(o->s, cap * sizeof(*ns));
		if (!ns)
			return;
		o->s = ns;
		o->cap = cap;
	}
	o->a[o->n] = *a;
	o->s[o->n++] = *s;
}

int decide_reconcile_step(struct decide *d, uint64_t now, size_t max,
			  size_t *ret_adopted)
{
	struct orphans o = { .d = d, .now = now };
	int r = enf_sub_each_step(d->enf, &d->recon, max, orphan, &o);
	char buf[ADDR_STRLEN];

	if (r == -EOPNOTSUPP)
		r = 0;
	for (size_t i = 0; r >= 0 && i < o.n; i++) {
		json_object *rec;

		/* (read and adopted in one step: the loop did not run
		 * between the two) */
		if (corr_restore(d->corr, &o.a[i], "recovered", o.s[i].level,
				 o.s[i].expires_ns, false,
				 "found in the dataplane at start with no "
				 "decision saved (a crash before it was "
				 "written)"))
			continue;
		journal_terminal(d, &o.a[i]);
		addr_format(&o.a[i], buf, sizeof(buf));
		log_warn("%s: held at %s in the dataplane with no decision "
			 "saved: adopted as rule \"recovered\" (xcrsctl "
			 "release %s ends it)",
			 buf, d->p->levels[o.s[i].level].name, buf);
		rec = json_object_new_object();
		audit_add_str(rec, "event", "recover");
		audit_add_str(rec, "terminal", buf);
		audit_add_str(rec, "level", d->p->levels[o.s[i].level].name);
		audit_add_until(rec, o.s[i].expires_ns);
		audit_write(d->au, rec);
		if (ret_adopted)
			(*ret_adopted)++;
	}
	free(o.a);
	free(o.s);
	return r;
}

/* ---- a reload's losses -------------------------------------------------------- */

struct losses {
	const struct decide *d;
	const struct policy *np;
	decide_loss_fn fn;
	void *ctx;
	size_t n;
};

static void reaction_loss(void *ctx, const struct corr_saved *s)
{
	struct losses *l = ctx;
	const char *lv = l->d->p->levels[s->level].name;
	char buf[ADDR_STRLEN], line[ADDR_STRLEN + 2 * POLICY_NAME_MAX + 96];

	/* the engine's keys of subscribers (ff00::/8) are no terminals */
	if (s->terminal.a[0] == 0xff || policy_level_carry(l->np, lv) >= 0)
		return;
	addr_format(&s->terminal, buf, sizeof(buf));
	snprintf(line, sizeof(line), "%s: released (rule %s held it at %s, "
		 "a level the new policy does not have)", buf, s->rule, lv);
	l->fn(l->ctx, line);
	l->n++;
}

size_t decide_reload_losses(const struct decide *d, const struct policy *np,
			    decide_loss_fn fn, void *ctx)
{
	struct losses l = { .d = d, .np = np, .fn = fn, .ctx = ctx };
	char line[256], pf[64];

	corr_each_reaction(d->corr, reaction_loss, &l);
	for (size_t i = 0; i < d->npdecs; i++) {
		const struct pdec *pd = &d->pdecs[i];

		if (policy_level_carry(np, pd->level) >= 0)
			continue;
		addr_prefix_format(&pd->a, pd->plen, pf, sizeof(pf));
		snprintf(line, sizeof(line), "%s: decision at %s ended (a level "
			 "the new policy does not have)", pf, pd->level);
		fn(ctx, line);
		l.n++;
	}
	for (size_t i = 0; i < d->p->nscopes; i++) {
		const char *name = d->p->scopes[i].name;

		if (corr_scope_state(d->corr, (int)i, NULL, NULL) <= 0 ||
		    policy_scope_index(np, name) >= 0)
			continue;
		snprintf(line, sizeof(line), "scope %s: containment ended (the "
			 "new policy has no scope of that name)", name);
		fn(ctx, line);
		l.n++;
	}
	return l.n;
}

int decide_prefix_covering(const struct decide *d, const struct xcrs_addr *a,
			   char *buf, size_t len, const char **ret_level,
			   uint64_t *ret_until)
{
	const struct pdec *best = NULL;

	for (size_t i = 0; i < d->npdecs; i++) {
		const struct pdec *pd = &d->pdecs[i];

		if (addr_prefix_contains(&pd->a, pd->plen, a, 128) &&
		    (!best || pd->plen > best->plen))
			best = pd;
	}
	if (!best)
		return 0;
	addr_prefix_format(&best->a, best->plen, buf, len);
	*ret_level = best->level;
	*ret_until = best->until;
	return 1;
}

/* ---- the operator ------------------------------------------------------------ */

static void audit_operator(struct decide *d, const char *event,
			   const char *by, const char *what,
			   const char *detail)
{
	json_object *rec = json_object_new_object();

	audit_add_str(rec, "event", event);
	audit_add_str(rec, "by", by && *by ? by : "operator");
	audit_add_str(rec, "target", what);
	audit_add_str(rec, "detail", detail);
	audit_write(d->au, rec);
}

int decide_forget(struct decide *d, const struct xcrs_addr *who,
		  const char *what, const char *by)
{
	uint64_t t[64];
	size_t n = corr_offences(d->corr, who, t, 64);
	char detail[64];
	int r = corr_set_offences(d->corr, who, NULL, 0);

	if (r)
		return r;
	snprintf(detail, sizeof(detail), "%zu offences forgotten", n);
	audit_operator(d, "operator-forget", by, what, detail);
	log_info("%s: offence history reset by %s (%zu offences)", what,
		 by && *by ? by : "the operator", n);
	d->dirty = true;
	return (int)n;
}

int decide_react(struct decide *d, const struct xcrs_addr *a, unsigned plen,
		 const char *level, uint64_t until, const char *why,
		 const char *by, uint64_t t0, uint64_t now, char *err,
		 size_t errlen)
{
	char buf[ADDR_STRLEN + 4];
	int l = policy_level_index(d->p, level), r;

	if (l < 0) {
		snprintf(err, errlen, "no level \"%s\" in the policy", level);
		return -ENOENT;
	}
	if (plen < 128) {
		addr_prefix_format(a, plen, buf, sizeof(buf));
		if (policy_never_overlaps(d->p, a, plen) >= 0) {
			decide_refused_never(d, a, plen, "prefix decision");
			snprintf(err, errlen,
				 "%s overlaps the never_react list (%s): not "
				 "reacted",
				 buf,
				 d->p->never[policy_never_overlaps(d->p, a,
								   plen)]
					 .name);
			return -EPERM;
		}
		begin(d, t0);
		r = pdec_react(d, a, plen, level, until,
			       why && *why ? why : "operator", "", true, err,
			       errlen);
		end(d, "", NULL, 0);
		return r;
	}
	addr_format(a, buf, sizeof(buf));
	if (policy_never_react(d->p, a) >= 0) {
		decide_refused_never(d, a, 128, "operator reaction");
		snprintf(err, errlen,
			 "%s is on the never_react list (%s): not reacted", buf,
			 d->p->never[policy_never_react(d->p, a)].name);
		return -EPERM;
	}
	audit_operator(d, "operator-react", by, buf, level);
	begin(d, t0);
	r = corr_react(d->corr, a, (unsigned)l, until,
		       why && *why ? why : "operator", now);
	if (r < 0) {
		end(d, buf, NULL, 0);
		snprintf(err, errlen, "react %s: %s", buf, strerror(-r));
		return r;
	}
	return end(d, buf, err, errlen);
}

int decide_remote_prefix(struct decide *d, const struct xcrs_addr *a,
			 unsigned plen, const char *level, uint64_t until,
			 const char *why, const char *node, char *err,
			 size_t errlen)
{
	const struct pdec *old = pdec_find(d, a, plen);
	int r;

	/* the same (its expiry through Unix ms and back may be a
	 * millisecond off) */
	if (old && !strcmp(old->level, level) && !strcmp(old->origin, node) &&
	    (old->until > until ? old->until - until : until - old->until) <
		    1000000000ULL &&
	    !old->until == !until)
		return 0;
	if (policy_never_overlaps(d->p, a, plen) >= 0) {
		decide_refused_never(d, a, plen, "the fleet's prefix decision");
		snprintf(err, errlen, "it overlaps the never_react list (%s)",
			 d->p->never[policy_never_overlaps(d->p, a, plen)]
				 .name);
		return -EPERM;
	}
	begin(d, 0);
	r = pdec_react(d, a, plen, level, until, why, node, false, err,
		       errlen);
	end(d, "", NULL, 0);
	return r;
}

int decide_remote_prefix_end(struct decide *d, const struct xcrs_addr *a,
			     unsigned plen)
{
	int r;

	begin(d, 0);
	r = pdec_release_remote(d, a, plen);
	end(d, "", NULL, 0);
	return r;
}

void decide_each_prefix(struct decide *d,
			void (*fn)(void *ctx, const struct xcrs_addr *a,
				   unsigned plen, const char *level,
				   uint64_t until, const char *why,
				   const char *node),
			void *ctx)
{
	/* a copy: fn may end decisions */
	size_t n = d->npdecs;
	struct pdec *c = n ? malloc(n * sizeof(*c)) : NULL;

	if (n && !c)
		return;
	if (n)
		memcpy(c, d->pdecs, n * sizeof(*c));
	for (size_t i = 0; i < n; i++)
		fn(ctx, &c[i].a, c[i].plen, c[i].level, c[i].until, c[i].why,
		   c[i].origin);
	free(c);
}

int decide_release(struct decide *d, const struct xcrs_addr *a,
		   unsigned plen, const char *by, uint64_t now, char *err,
		   size_t errlen)
{
	char buf[ADDR_STRLEN + 4];
	int r;

	if (plen < 128) {
		addr_prefix_format(a, plen, buf, sizeof(buf));
		begin(d, 0);
		r = pdec_release(d, a, plen);
		end(d, "", NULL, 0);
		if (r == -ENOENT)
			snprintf(err, errlen, "%s has no decision to release",
				 buf);
		return r;
	}
	addr_format(a, buf, sizeof(buf));
	begin(d, 0);
	r = corr_release(d->corr, a, now);
	if (r == -ENOENT) {
		end(d, buf, NULL, 0);
		snprintf(err, errlen, "%s has no reaction to release", buf);
		return r;
	}
	audit_operator(d, "operator-release", by, buf, NULL);
	if (r < 0) {
		end(d, buf, NULL, 0);
		snprintf(err, errlen, "release %s: %s", buf, strerror(-r));
		return r;
	}
	return end(d, buf, err, errlen);
}

int decide_contain(struct decide *d, int scope, enum xcrs_contain_mode mode,
		   uint64_t until, const char *reason, const char *by,
		   uint64_t now, char *err, size_t errlen)
{
	const char *name = d->p->scopes[scope].name;
	uint64_t old_until;
	const char *rule;
	int r;

	audit_operator(d, "operator-contain", by, name,
		       mode ? abi_contain_name(mode) : "policy mode");
	d->scope_mode[scope] = mode;
	begin(d, 0);
	r = corr_contain(d->corr, scope, until, reason, now);
	/* already contained: a new mode still takes effect */
	if (r >= 0 &&
	    corr_scope_state(d->corr, scope, &old_until, &rule) == 1)
		note_enforce(d, enf_scope(d->enf, scope,
					  decide_scope_mode(d, scope)));
	if (r < 0) {
		end(d, name, NULL, 0);
		snprintf(err, errlen, "contain %s: %s", name, strerror(-r));
		return r;
	}
	journal_scope(d, scope); /* the mode, also when already contained */
	return end(d, name, err, errlen);
}

int decide_contain_rule(struct decide *d, int scope, uint64_t until,
			const char *rule, const char *why, uint64_t now)
{
	int r;

	begin(d, 0);
	r = corr_contain_rule(d->corr, scope, until, rule, why, now);
	end(d, d->p->scopes[scope].name, NULL, 0);
	return r;
}

int decide_uncontain(struct decide *d, int scope, const char *by,
		     uint64_t now, char *err, size_t errlen)
{
	const char *name = d->p->scopes[scope].name;
	int r;

	begin(d, 0);
	r = corr_uncontain(d->corr, scope, now);
	if (r == -ENOENT) {
		end(d, name, NULL, 0);
		snprintf(err, errlen, "scope %s is not contained", name);
		return r;
	}
	audit_operator(d, "operator-uncontain", by, name, NULL);
	if (r < 0) {
		end(d, name, NULL, 0);
		snprintf(err, errlen, "release %s: %s", name, strerror(-r));
		return r;
	}
	return end(d, name, err, errlen);
}

/* ---- the MS lifecycle ------------------------------------------------------------ */

int decide_react_rule(struct decide *d, const struct xcrs_addr *a,
		      const char *rule, unsigned level, uint64_t until,
		      bool release_on_clean, const char *why, uint64_t now)
{
	int r;

	if (policy_never_react(d->p, a) >= 0) {
		decide_refused_never(d, a, 128, rule);
		return -EPERM;
	}
	begin(d, 0);
	r = corr_react_rule(d->corr, a, rule, level, until, release_on_clean,
			    why, now);
	end(d, "", NULL, 0);
	return r;
}

int decide_release_rule(struct decide *d, const struct xcrs_addr *a,
			const char *rule, const char *why, uint64_t now)
{
	int r;

	begin(d, 0);
	r = corr_release_rule(d->corr, a, rule, why, now);
	end(d, "", NULL, 0);
	return r;
}

int decide_release_all(struct decide *d, const struct xcrs_addr *a,
		       uint64_t now)
{
	int r;

	begin(d, 0);
	r = corr_release(d->corr, a, now);
	end(d, "", NULL, 0);
	return r;
}

/* ---- sessions ------------------------------------------------------------------ */

static bool corr_hold(void *ctx, const struct policy *p,
		      const struct xcrs_addr *a, struct corr_holder *ret)
{
	struct decide *d = ctx;
	struct decide_hold h;

	if (!d->holder(d->holder_ctx, p, a, &h))
		return false;
	*ret = h.corr;
	return true;
}

static bool enf_hold(void *ctx, const struct xcrs_addr *a,
		     struct enf_hold *ret)
{
	struct decide *d = ctx;
	struct decide_hold h;
	int sc;

	if (!d->holder(d->holder_ctx, d->p, a, &h))
		return false;
	sc = h.corr.scope >= 0 ? h.corr.scope : policy_scope_of(d->p, a);
	ret->scope_id = sc >= 0 ? d->p->scopes[sc].id : 0;
	ret->base_level = h.base_level;
	ret->by_prefix = h.by_prefix;
	return true;
}

void decide_set_holder(struct decide *d, decide_holder_fn fn, void *ctx)
{
	d->holder = fn;
	d->holder_ctx = ctx;
	corr_set_holder(d->corr, fn ? corr_hold : NULL, d);
	enf_set_holder(d->enf, fn ? enf_hold : NULL, d);
}

void decide_batch(struct decide *d, bool on)
{
	enf_batch(d->enf, on);
}

int decide_rebind(struct decide *d, const struct xcrs_addr *a)
{
	struct corr_view v;

	if (!corr_terminal(d->corr, a, &v))
		return enf_terminal(d->enf, a, v.level, v.until_ns,
				    v.then_level);
	return enf_base(d->enf, a);
}

int decide_prefix64(struct decide *d, const struct xcrs_addr *prefix,
		    int scope, int level, uint64_t until, int base,
		    const char *by, const char *why, bool audit)
{
	int sc = scope >= 0 ? scope : policy_scope_of(d->p, prefix);
	uint32_t id = sc >= 0 ? d->p->scopes[sc].id : 0;
	char pf[64];
	int r;

	if (level < 0 && base < 0)
		return decide_prefix64_end(d, prefix);
	if (policy_never_overlaps(d->p, prefix, 64) >= 0) {
		if (level >= 0)
			decide_refused_never(d, prefix, 64, by);
		return -EPERM;
	}
	if (level < 0)
		r = enf_prefix64(d->enf, prefix, id, (unsigned)base, 0, base,
				 false);
	else
		r = enf_prefix64(d->enf, prefix, id, (unsigned)level, until,
				 base, true);
	if (!r && level >= 0 && audit) {
		json_object *rec = json_object_new_object();

		addr_prefix_format(prefix, 64, pf, sizeof(pf));
		audit_add_str(rec, "event", "react");
		audit_add_str(rec, "level", d->p->levels[level].name);
		audit_add_until(rec, until);
		audit_add_str(rec, "prefix", pf);
		if (sc >= 0)
			audit_add_str(rec, "scope", d->p->scopes[sc].name);
		audit_add_str(rec, "subscriber", by);
		audit_add_str(rec, "rule", "subscriber");
		audit_add_str(rec, "evidence", why);
		audit_write(d->au, rec);
	}
	return r;
}

int decide_prefix64_end(struct decide *d, const struct xcrs_addr *prefix)
{
	return enf_prefix64_del(d->enf, prefix);
}

size_t decide_offences(const struct decide *d, const struct xcrs_addr *who,
		       uint64_t *out, size_t max)
{
	return corr_offences(d->corr, who, out, max);
}

int decide_set_offences(struct decide *d, const struct xcrs_addr *who,
			const uint64_t *in, size_t n)
{
	return corr_set_offences(d->corr, who, in, n);
}
