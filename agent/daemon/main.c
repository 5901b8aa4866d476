// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-agent: the SCS of X.1125 on one edge node. main wires the modules
 * (daemon.h) in the order of the data path, applies the policy to the
 * dataplane before it attaches the XDP program, then runs the loop over
 * signals, timers, the dataplane's ring buffer and the inputs. It owns the
 * policy in force and hands each module the new one on reload.
 */
#include <errno.h>
#include <systemd/sd-daemon.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <net/if.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>

#include "addr.h"
#include "authclient.h"
#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "log.h"

#define HOUSEKEEPING_NS (5ULL * 1000000000ULL)
#define DEADLINES_NS (500ULL * 1000000ULL)
/* The state file is written at most this often. */
#define STATE_SAVE_NS (20ULL * 1000000ULL)

/* ---- counters ---------------------------------------------------------- */

void daemon_stats(const struct daemon *d, struct stats *out)
{
	const struct decide_report *dr = decide_report(d->dec);
	const struct reports_report *rr = reports_report(d->reports);
	const struct feeds_report *fr = feeds_report(d->feeds);
	const struct ms_report *mr = ms_report(d->ms);
	uint64_t *c = out->c;

	memset(out, 0, sizeof(*out));
	c[C_REPORTS_OK] = rr->accepted;
	c[C_REPORTS_REFUSED] = rr->refused;
	c[C_TLS_FAILED] = rr->tls_failed;
	c[C_NOTICES_SENT] = rr->notices;
	memcpy(out->refused_by, rr->refused_by, sizeof(out->refused_by));
	c[C_EVE_LINES] = fr->eve_lines;
	c[C_EVE_ALERTS] = fr->alerts;
	c[C_EVENTS_LINES] = fr->event_lines;
	c[C_INPUT_MALFORMED] = fr->malformed + mr->session_malformed;
	c[C_INPUT_NOT_SUBSCRIBER] = fr->not_subscriber;
	c[C_INPUT_OVERLONG] = fr->overlong + lines_report(d->lines)->overlong;
	c[C_FANOUT] = d->rep.fanout;
	c[C_DECISIONS] = dr->decisions;
	c[C_REACTIONS] = dr->reactions;
	c[C_RELEASES] = dr->releases;
	c[C_CONTAINS] = dr->contains;
	c[C_UNCONTAINS] = dr->uncontains;
	c[C_NEVER_REFUSED] = dr->never_refused;
	c[C_CONTROL_REQUESTS] = d->ctl ? control_requests(d->ctl) : 0;
	c[C_RELOADS] = d->rep.reloads;
	c[C_RELOADS_FAILED] = d->rep.reloads_refused;
	c[C_DATAPLANE_ERRORS] = d->rep.dataplane_errors +
				enf_report(d->enf)->errors;
	c[C_MS_CONNECTS] = mr->connects;
	c[C_MS_LEAVES] = mr->leaves;
	c[C_SESSIONS_LINES] = mr->session_lines;
	c[C_METRICS_SCRAPES] = metrics_scrapes(d->met);
	{
		const struct radius_in_report *ra = radius_in_report(d->radius);
		const struct subscribers_report *su =
			subscribers_report(d->subs);

		c[C_RADIUS_REQUESTS] = ra->requests;
		c[C_RADIUS_ACCEPTED] = ra->accepted;
		c[C_RADIUS_RETRANSMISSIONS] = ra->retransmissions;
		for (int i = 0; i < RAD_REF_COUNT; i++) {
			c[C_RADIUS_REFUSED] += ra->refused[i];
			out->radius_refused_by[i] = ra->refused[i];
		}
		c[C_SESSION_STARTS] = su->starts;
		c[C_SESSION_STOPS] = su->stops;
		c[C_SESSION_DUPLICATES] = su->duplicates;
		c[C_DECISIONS_FOLLOWED] = su->followed;
	}
}

/* ---- reload ----------------------------------------------------------------- */

/* What a reload changes or would change, one line each. */
struct reload_notes {
	enum daemon_reload_mode mode;
	void (*note)(void *ctx, const char *line);
	void *ctx;
	char first[256]; /* the first loss, for the refusal */
};

static void reload_note(struct reload_notes *rn, const char *line)
{
	if (rn->note)
		rn->note(rn->ctx, line);
}

static void reload_loss(void *ctx, const char *line)
{
	struct reload_notes *rn = ctx;

	if (!rn->first[0])
		snprintf(rn->first, sizeof(rn->first), "%s", line);
	reload_note(rn, line);
}

/* The levels the new policy adds, removes and renames (levels[].was). */
static void reload_levels(struct reload_notes *rn, const struct policy *old,
			  const struct policy *np)
{
	char line[3 * POLICY_NAME_MAX + 64];

	for (size_t i = 0; i < old->nlevels; i++) {
		int l = policy_level_carry(np, old->levels[i].name);

		if (l < 0)
			snprintf(line, sizeof(line), "level %s removed",
				 old->levels[i].name);
		else if (strcmp(np->levels[l].name, old->levels[i].name))
			snprintf(line, sizeof(line), "level %s renamed to %s "
				 "(levels[].was): what it holds stays held",
				 old->levels[i].name, np->levels[l].name);
		else
			continue;
		reload_note(rn, line);
	}
	for (size_t i = 0; i < np->nlevels; i++) {
		bool known = policy_level_index(old, np->levels[i].name) >= 0;

		for (size_t j = 0; !known && j < np->levels[i].nwas; j++)
			known = policy_level_index(old,
						   np->levels[i].was[j]) >= 0;
		if (known)
			continue;
		snprintf(line, sizeof(line), "level %s added",
			 np->levels[i].name);
		reload_note(rn, line);
	}
}

static int reload_policy(struct daemon *d, enum daemon_reload_mode mode,
			 void (*note)(void *ctx, const char *line), void *ctx,
			 char *warning, size_t warnlen, char *err,
			 size_t errlen);

/* systemd's notification socket ($NOTIFY_SOCKET; nothing without it):
 * READY=1 once the policy is applied and XDP attached, RELOADING=1 and
 * READY=1 around a reload, STOPPING=1, WATCHDOG=1 from the loop. */
static void notify(const char *state)
{
	int r = sd_notify(0, state);

	if (r < 0)
		log_debug("sd_notify %s: %s", state, strerror(-r));
}

int daemon_reload(struct daemon *d, enum daemon_reload_mode mode,
		  void (*note)(void *ctx, const char *line), void *ctx,
		  char *warning, size_t warnlen, char *err, size_t errlen)
{
	char st[64];
	int r;

	if (mode == RELOAD_DRY_RUN)
		return reload_policy(d, mode, note, ctx, warning, warnlen, err,
				     errlen);
	snprintf(st, sizeof(st), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)(now_mono() / 1000));
	notify(st);
	r = reload_policy(d, mode, note, ctx, warning, warnlen, err, errlen);
	notify(r ? "READY=1\nSTATUS=reload refused: the old policy stays" :
		   "READY=1\nSTATUS=policy reloaded");
	return r;
}

static int reload_policy(struct daemon *d, enum daemon_reload_mode mode,
			 void (*note)(void *ctx, const char *line), void *ctx,
			 char *warning, size_t warnlen, char *err,
			 size_t errlen)
{
	struct policy *np = NULL, *old = d->policy;
	struct policy_error perr;
	struct crsap_keyring *keys = NULL;
	struct reload_notes rn = { .mode = mode, .note = note, .ctx = ctx };
	json_object *rec;
	char what[128];
	size_t lost;
	int r;

	if (warning && warnlen)
		warning[0] = '\0';

	d->rep.reloads++;
	r = policy_load(d->policy_path, &np, &perr);
	if (r) {
		snprintf(err, errlen, "%s", perr.msg);
		goto refused;
	}
	if (policy_reload_changes(old, np, POLICY_RELOAD_RESTART, what,
				  sizeof(what))) {
		snprintf(err, errlen,
			 "%s: %s changed (the agent section: pin_dir, sockets, "
			 "state and audit files, map sizes): restart the agent "
			 "to change it",
			 d->policy_path, what);
		r = -EINVAL;
		goto refused;
	}
	r = keys_load(np, &keys, err, errlen);
	if (r)
		goto refused;
	r = peers_check(np, err, errlen);
	if (r)
		goto refused;
	/* what the dataplane would refuse is refused before anything moves */
	r = enf_tables_check(d->enf, np, err, errlen);
	if (r)
		goto refused;
	/* what it would end, and what else it changes */
	lost = decide_reload_losses(d->dec, np, reload_loss, &rn) +
	       subscribers_reload_losses(d->subs, np, reload_loss, &rn);
	reload_levels(&rn, old, np);
	if (policy_reload_changes(old, np, POLICY_RELOAD_AT_RESTART, what,
				  sizeof(what))) {
		char line[200];

		snprintf(line, sizeof(line), "%s changed: it takes effect when "
			 "the agent restarts", what);
		reload_note(&rn, line);
		if (warning && warnlen)
			snprintf(warning, warnlen, "%s", line);
	}
	if (mode == RELOAD_DRY_RUN) {
		d->rep.reloads--; /* nothing was reloaded */
		crsap_keyring_free(keys);
		policy_free(np);
		return 0;
	}
	if (lost && mode != RELOAD_RELEASE) {
		snprintf(err, errlen,
			 "the new policy would end %zu decision%s (%s%s): carry "
			 "them to a level of the new policy with levels[].was, "
			 "or end them with xcrsctl reload --release (xcrsctl "
			 "reload --dry-run lists them)",
			 lost, lost == 1 ? "" : "s", rn.first,
			 lost > 1 ? ", ..." : "");
		r = -EBUSY;
		goto refused;
	}
	/* the modules that describe decisions (notices) see the new policy
	 * while the decision layer moves to it */
	reports_set_policy(d->reports, np);
	updates_set_policy(d->upd, np);
	r = decide_set_policy(d->dec, np, loop_now(d->loop), err, errlen);
	if (r < 0) {
		reports_set_policy(d->reports, old);
		updates_set_policy(d->upd, old);
		goto refused;
	}
	d->policy = np;
	ms_set_policy(d->ms, np);
	subscribers_set_policy(d->subs, np);
	feeds_set_policy(d->feeds, np);
	radius_in_set_policy(d->radius, np);
	r = enf_interfaces(d->enf, old, err, errlen);
	if (r)
		log_error("reload: %s (the new policy is in force on the "
			  "interfaces already attached)", err);
	if (peers_set_policy(d->peers, np, err, errlen))
		log_error("reload: %s (roaming keeps the peers it had)", err);
	if (policy_reload_changes(old, np, POLICY_RELOAD_AT_RESTART, what,
				  sizeof(what)))
		log_warn("reload: %s changed: the change takes effect when "
			 "the agent restarts", what);
	keys_take(d->keys, keys);
	policy_free(old);
	rec = json_object_new_object();
	if (lost)
		log_warn("reload --release: %zu decision%s ended: %s%s", lost,
			 lost == 1 ? "" : "s", rn.first,
			 lost > 1 ? "; ... (each is logged as released)" : "");
	audit_add_str(rec, "event", "reload");
	audit_add_str(rec, "policy", d->policy_path);
	if (lost) {
		audit_add_str(rec, "mode", "release");
		json_object_object_add(rec, "ended",
				       json_object_new_int64((int64_t)lost));
	}
	audit_write(d->audit, rec);
	log_info("policy %s reloaded", d->policy_path);
	return 0;
refused:
	d->rep.reloads_refused++;
	crsap_keyring_free(keys);
	policy_free(np);
	rec = json_object_new_object();
	audit_add_str(rec, "event", "reload-refused");
	audit_add_str(rec, "policy", d->policy_path);
	audit_add_str(rec, "error", err);
	audit_write(d->audit, rec);
	log_error("reload refused, the running policy stays: %s", err);
	return r < 0 ? r : -EINVAL;
}

/* ---- loop handlers ---------------------------------------------------------- */

/* After each wake-up: the engine's next deadline, and what was decided
 * made durable at most every STATE_SAVE_NS (decide_flush: the journal's
 * fdatasync, now and then a new state file), so a burst of decisions costs
 * one sync and the loop never waits for the disk between them. Each
 * decision is in the journal (a write) before its dataplane entry. */
static void after_wakeup(struct daemon *d)
{
	int r = loop_timer_at(&d->timer, decide_next_deadline(d->dec));

	if (r)
		log_error("timerfd: %s", strerror(-r));
	if (decide_dirty(d->dec) && !d->state_save_armed) {
		if (loop_timer_in(&d->state_timer, STATE_SAVE_NS, 0))
			decide_flush(d->dec);
		else
			d->state_save_armed = true;
	}
}

static void on_state_timer(struct watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, state_timer);

	loop_timer_ack(w);
	d->state_save_armed = false;
	/* a failed write (disk full) is tried again with backoff; the
	 * decisions stay in force meanwhile (the log, xcrsctl's answers and
	 * xcrs_state_saved say so) */
	if (decide_dirty(d->dec) && decide_flush(d->dec) &&
	    !loop_timer_in(&d->state_timer, decide_retry_ns(d->dec), 0))
		d->state_save_armed = true;
}

static void on_timer(struct watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, timer);

	loop_timer_ack(w);
	decide_tick(d->dec, loop_now(d->loop));
}

static void on_housekeeping(struct watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, housekeeping);

	loop_timer_ack(w);
	reports_housekeeping(d->reports);
	ms_housekeeping(d->ms);
	decide_housekeeping(d->dec, loop_now(d->loop));
	subscribers_housekeeping(d->subs);
}

/* ---- the fleet (fleet.h): what it tells this node ---- */

static void fl_decision(void *ctx, const char *id, const char *node,
			const struct fleet_decision *dd)
{
	struct daemon *d = ctx;

	subscribers_fleet_decision(d->subs, id, node, dd);
}

static void fl_own_released(void *ctx, const char *id)
{
	struct daemon *d = ctx;

	subscribers_fleet_own_released(d->subs, id);
}

static void fl_scope(void *ctx, const char *name, const struct fleet_scope *s)
{
	struct daemon *d = ctx;
	int sc = policy_scope_index(d->policy, name);
	uint64_t until = 0, now = loop_now(d->loop);
	const char *rule = NULL;
	char err[256], why[400];
	int contained;

	if (sc < 0) {
		log_warn("fleet: scope %s is not in this node's policy: its "
			 "containment is not enforced here",
			 name);
		return;
	}
	contained = corr_scope_state(decide_engine(d->dec), sc, &until, &rule);
	if (s) {
		uint64_t u = s->until_ms ? real_ms_to_mono(s->until_ms) : 0;

		if (s->until_ms && s->until_ms <= now_real_ms())
			return;
		if (contained == 1 && (!until || (u && u <= until)))
			return; /* already, at least as long */
		snprintf(why, sizeof(why), "node %s: %s", s->node, s->why);
		if (decide_contain_rule(d->dec, sc, u,
					s->rule[0] ? s->rule : "fleet", why,
					now) < 0)
			log_warn("fleet: containing %s failed", name);
		return;
	}
	if (contained == 1 &&
	    decide_uncontain(d->dec, sc, "fleet", now, err, sizeof(err)))
		log_warn("fleet: releasing %s: %s", name, err);
}

static void fl_event(void *ctx, const struct fleet_event *e)
{
	struct daemon *d = ctx;
	struct corr_event ev;
	struct xcrs_addr who;
	uint64_t now = loop_now(d->loop), at;
	int sc;

	if (!e->scope[0] || (sc = policy_scope_index(d->policy, e->scope)) < 0)
		return; /* nothing to count it in here */
	memset(&ev, 0, sizeof(ev));
	if (addr_parse(e->terminal, &ev.terminal))
		return;
	ev.kind = (enum corr_event_kind)e->kind;
	ev.status = (enum crsap_status)e->status;
	ev.severity = e->severity;
	ev.signature = e->signature;
	snprintf(ev.detail, sizeof(ev.detail), "%s", e->detail);
	snprintf(ev.source, sizeof(ev.source), "%s", e->node);
	if (e->who[0])
		subscribers_who_key(e->who, &who);
	else
		who = ev.terminal;
	at = e->at_ms ? real_ms_to_mono(e->at_ms) : now;
	decide_remote_event(d->dec, &ev, sc, &who, at, now);
}

/* Another node's decision on a prefix (ours coming back too), or its
 * end. */
static void fl_prefix(void *ctx, const char *prefix,
		      const struct fleet_prefix *x)
{
	struct daemon *d = ctx;
	struct xcrs_addr a;
	unsigned plen;
	char err[256];
	int r;

	if (addr_prefix_parse(prefix, &a, &plen) || plen >= 128) {
		log_warn("fleet: prefix decision on \"%s\": not a prefix; "
			 "ignored",
			 prefix);
		return;
	}
	if (!x) {
		decide_remote_prefix_end(d->dec, &a, plen);
		return;
	}
	if (x->until_ms && x->until_ms <= now_real_ms())
		return; /* over: its node deletes the record */
	r = decide_remote_prefix(d->dec, &a, plen, x->level,
				 x->until_ms ? real_ms_to_mono(x->until_ms) : 0,
				 x->why,
				 strcmp(x->node, fleet_node(d->fleet)) ? x->node :
									 "",
				 err, sizeof(err));
	if (r)
		log_warn("fleet: node %s's decision on %s (%s) is not enforced "
			 "here: %s",
			 x->node, prefix, x->level, err);
}

/* After a load of the bucket: what this node holds of prefixes and the
 * bucket does not (released while we were away: another node's go; our
 * own, not yet written: written now). */
static void fl_prefix_reconcile(void *ctx, const struct xcrs_addr *a,
				unsigned plen, const char *level,
				uint64_t until, const char *why,
				const char *node)
{
	struct daemon *d = ctx;
	struct fleet_prefix x;
	char pf[64];

	addr_prefix_format(a, plen, pf, sizeof(pf));
	if (fleet_get_prefix(d->fleet, pf, &x))
		return;
	if (node[0]) {
		log_info("fleet: %s (node %s's decision) was released while "
			 "this node was away",
			 pf, node);
		decide_remote_prefix_end(d->dec, a, plen);
		return;
	}
	memset(&x, 0, sizeof(x));
	snprintf(x.prefix, sizeof(x.prefix), "%s", pf);
	snprintf(x.node, sizeof(x.node), "%s", fleet_node(d->fleet));
	snprintf(x.level, sizeof(x.level), "%s", level);
	x.until_ms = until ? mono_to_real_ms(until) : 0;
	x.at_ms = now_real_ms();
	snprintf(x.why, sizeof(x.why), "%s", why);
	fleet_put_prefix(d->fleet, &x);
}

static void fl_synced(void *ctx, bool first)
{
	struct daemon *d = ctx;

	subscribers_fleet_synced(d->subs, first);
	decide_each_prefix(d->dec, fl_prefix_reconcile, d);
}

/* What this node decides and ingests, to the fleet (decide's port). */
static void fl_scope_changed(void *ctx, const struct corr_decision *dc)
{
	struct daemon *d = ctx;
	const struct policy *p = d->policy;
	struct fleet_scope s;

	if (!d->fleet || dc->scope < 0 || (size_t)dc->scope >= p->nscopes)
		return;
	if (dc->change == CORR_SCOPE_RELEASED) {
		fleet_uncontain(d->fleet, p->scopes[dc->scope].name,
				dc->rule && !strcmp(dc->rule, "operator"));
		return;
	}
	memset(&s, 0, sizeof(s));
	snprintf(s.scope, sizeof(s.scope), "%s", p->scopes[dc->scope].name);
	snprintf(s.node, sizeof(s.node), "%s", fleet_node(d->fleet));
	snprintf(s.rule, sizeof(s.rule), "%s", dc->rule ? dc->rule : "");
	s.until_ms = dc->until_ns ? mono_to_real_ms(dc->until_ns) : 0;
	s.at_ms = now_real_ms();
	snprintf(s.why, sizeof(s.why), "%s", dc->why ? dc->why : "");
	fleet_contain(d->fleet, &s);
}

static void fl_prefix_changed(void *ctx, const struct xcrs_addr *a,
			      unsigned plen, const char *level,
			      uint64_t until, const char *why,
			      bool by_operator)
{
	struct daemon *d = ctx;
	struct fleet_prefix x;

	if (!d->fleet)
		return;
	memset(&x, 0, sizeof(x));
	addr_prefix_format(a, plen, x.prefix, sizeof(x.prefix));
	if (!level) {
		fleet_end_prefix(d->fleet, x.prefix, by_operator);
		return;
	}
	snprintf(x.node, sizeof(x.node), "%s", fleet_node(d->fleet));
	snprintf(x.level, sizeof(x.level), "%s", level);
	x.until_ms = until ? mono_to_real_ms(until) : 0;
	x.at_ms = now_real_ms();
	snprintf(x.why, sizeof(x.why), "%s", why);
	fleet_put_prefix(d->fleet, &x);
}

static void fl_ingested(void *ctx, const struct corr_event *ev, int scope,
			const char *who)
{
	struct daemon *d = ctx;
	struct fleet_event e;

	if (!d->fleet || scope < 0)
		return; /* no scope to count it in anywhere */
	memset(&e, 0, sizeof(e));
	snprintf(e.node, sizeof(e.node), "%s", fleet_node(d->fleet));
	snprintf(e.scope, sizeof(e.scope), "%s",
		 d->policy->scopes[scope].name);
	snprintf(e.who, sizeof(e.who), "%s", who);
	e.kind = (int)ev->kind;
	addr_format(&ev->terminal, e.terminal, sizeof(e.terminal));
	e.status = (int)ev->status;
	e.severity = ev->severity;
	e.signature = ev->signature;
	snprintf(e.detail, sizeof(e.detail), "%s", ev->detail);
	snprintf(e.source, sizeof(e.source), "%s", ev->source);
	e.at_ms = now_real_ms();
	fleet_event(d->fleet, &e);
}

/* With cluster: in the policy, the node joins the fleet and loads the
 * buckets before it is ready. */
static int join_fleet(struct daemon *d, char *err, size_t errlen)
{
	const struct fleet_sink sink = {
		.decision = fl_decision,
		.own_released = fl_own_released,
		.scope = fl_scope,
		.prefix = fl_prefix,
		.event = fl_event,
		.synced = fl_synced,
		.ctx = d,
	};
	const struct decide_port port = {
		.scope_changed = fl_scope_changed,
		.ingested = fl_ingested,
		.prefix_changed = fl_prefix_changed,
		.ctx = d,
	};
	int r;

	if (!d->policy->cluster.enabled)
		return 0;
	if ((r = fleet_open(d->loop, d->policy, &sink, &d->fleet, err,
			    errlen)))
		return r;
	subscribers_set_fleet(d->subs, d->fleet);
	if ((r = decide_add_port(d->dec, &port))) {
		snprintf(err, errlen, "decision layer: %s", strerror(-r));
		return r;
	}
	return fleet_wait_synced(d->fleet, err, errlen);
}

static void on_watchdog(struct watch *w, uint32_t events)
{
	loop_timer_ack(w);
	notify("WATCHDOG=1");
}

/* Entries the comparison of the pinned maps with the decisions reads per
 * step, and the pause between two: ~20 ms of the loop's time per step on
 * a small VM, 10M entries in about 5 s. */
#define RECON_STEP 65536
#define RECON_PAUSE_NS (1000ULL * 1000)

static void on_recon(struct watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, recon);
	int r;

	loop_timer_ack(w);
	r = decide_reconcile_step(d->dec, now_mono(), RECON_STEP,
				  &d->recon_adopted);
	if (r > 0) {
		d->recon_seen += (size_t)r;
		if (!loop_timer_in(&d->recon, RECON_PAUSE_NS, 0))
			return;
		r = -EIO;
	}
	if (r < 0)
		log_warn("comparing the pinned subscriber maps with the "
			 "decisions: %s (after %zu entries; entries not "
			 "compared stay enforced as they are)",
			 strerror(-r), d->recon_seen);
	else if (d->recon_adopted)
		log_warn("%zu dataplane entr%s without a saved decision "
			 "adopted (see above), of %zu compared in %.1f s",
			 d->recon_adopted, d->recon_adopted == 1 ? "y" : "ies",
			 d->recon_seen,
			 (double)(now_mono() - d->recon_t0) / 1e9);
	else
		log_info("the pinned subscriber maps hold no entry without a "
			 "decision (%zu compared in %.1f s)", d->recon_seen,
			 (double)(now_mono() - d->recon_t0) / 1e9);
}

/* The journal's fdatasync finished on its worker. */
static void on_sync(struct watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, sync);

	decide_sync_done(d->dec);
}

/* The connections' deadlines (control and feed sockets, metrics). */
static void on_deadlines(struct watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, deadlines);

	loop_timer_ack(w);
	lines_housekeeping(d->lines);
	metrics_housekeeping(d->met);
}

static void on_signal(struct watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, sig);
	struct signalfd_siginfo si;
	char err[1024];
	int r;

	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: reloading %s", d->policy_path);
			/* a rotated audit log first (logrotate's postrotate
			 * sends SIGHUP): the reload's record goes to the new
			 * file */
			r = audit_reopen(d->audit);
			if (r)
				log_error("audit log %s: reopening: %s (writing "
					  "on to the old file)",
					  d->policy->agent.audit_log,
					  strerror(-r));
			daemon_reload(d, RELOAD_APPLY, NULL, NULL, NULL, 0, err,
				      sizeof(err));
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping (XDP programs and decisions stay "
				 "in force)", strsignal((int)si.ssi_signo));
			d->running = false;
			break;
		}
	}
}

/* The dataplane's detections: an MS's first traffic, a fan-out. */
static void on_dp_event(void *ctx, const struct xcrs_event *e)
{
	struct daemon *d = ctx;
	struct corr_event ev = {
		.kind = CORR_EV_FANOUT,
		.terminal = e->addr,
	};
	char buf[ADDR_STRLEN];

	if (e->type == XCRS_EV_CONNECT) {
		ms_connect(d->ms, &e->addr, "first-traffic");
		return;
	}
	if (e->type != XCRS_EV_FANOUT)
		return;
	d->rep.fanout++;
	addr_format(&e->addr, buf, sizeof(buf));
	snprintf(ev.detail, sizeof(ev.detail),
		 "%u distinct peers within %" PRIu64 " ms", e->count,
		 (uint64_t)e->window_ns / 1000000);
	snprintf(ev.source, sizeof(ev.source), "dataplane");
	log_info("fan-out: %s reached %s", buf, ev.detail);
	decide_ingest(d->dec, &ev, loop_now(d->loop), now_mono());
}

static void on_dp_events(struct watch *w, uint32_t events)
{
	struct daemon *d = container_of(w, struct daemon, dp_events);

	if (dp_events_poll(d->dp, 0) < 0) {
		d->rep.dataplane_errors++;
		log_error("dataplane: events: %s", dp_errmsg(d->dp));
	}
}

/* ---- start-up ---------------------------------------------------------------- */

static int mkdirs_for(const char *path)
{
	char buf[256], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	p = strrchr(buf, '/');
	if (!p || p == buf)
		return 0;
	*p = '\0';
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

static int setup_loop(struct daemon *d, char *err, size_t errlen)
{
	sigset_t set;
	int fd, r;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = loop_add(d->loop, &d->sig, fd, EPOLLIN, on_signal)) ||
	    (r = loop_timer(d->loop, &d->timer, on_timer)) ||
	    (r = loop_timer(d->loop, &d->housekeeping, on_housekeeping)) ||
	    (r = loop_timer_in(&d->housekeeping, HOUSEKEEPING_NS,
			       HOUSEKEEPING_NS)) ||
	    (r = loop_timer(d->loop, &d->deadlines, on_deadlines)) ||
	    (r = loop_timer_in(&d->deadlines, DEADLINES_NS, DEADLINES_NS)) ||
	    (r = loop_timer(d->loop, &d->state_timer, on_state_timer)) ||
	    (r = loop_timer(d->loop, &d->recon, on_recon)) ||
	    (r = loop_timer(d->loop, &d->watchdog, on_watchdog)))
		goto fail;
	{
		/* WatchdogSec=: pinged from the loop at half the period, so
		 * a loop that stops answering is restarted */
		uint64_t usec = 0;

		if (sd_watchdog_enabled(0, &usec) > 0 && usec &&
		    (r = loop_timer_in(&d->watchdog, usec * 500,
				       usec * 500)))
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "setting up the event loop: %s", strerror(-r));
	return r;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xcrs-agent -c FILE [-v] [--check | --detach]\n"
"\n"
"The xcrs agent (the SCS of ITU-T X.1125) for one edge node: applies the\n"
"policy FILE to the XDP dataplane, attaches it to the policy's interfaces,\n"
"and correlates terminal reports (CRSAP over TLS), IDS alerts (Suricata EVE\n"
"JSON, generic JSON lines) and the dataplane's fan-out detections into\n"
"reactions: map updates, notices to terminals, an audit log and a state\n"
"file. It runs in the foreground and logs to stderr, and serves Prometheus\n"
"metrics on agent.metrics (127.0.0.1:9477 unless the policy says).\n"
"\n"
"Each interface is attached through a BPF link pinned in the pin directory;\n"
"a starting agent (a restart, or a new version) swaps its own program into\n"
"it in place, so no packet goes through unjudged. It needs CAP_BPF,\n"
"CAP_NET_ADMIN and CAP_PERFMON (dist/systemd/xcrs-agent.service).\n"
"\n"
"  -c, --config FILE  the policy (schema: policy/README.md)\n"
"  -t, --check        validate FILE (and the key file and TLS certificate\n"
"                     it names) and what a start needs here: pin directory\n"
"                     on bpffs, the agent's files creatable, interfaces\n"
"                     present (a warning); print \"FILE: ok\", exit;\n"
"                     changes nothing\n"
"      --detach       detach xcrs from the policy's interfaces and exit\n"
"                     (maps, decisions and the state file stay)\n"
"  -v, --verbose      more log (-vv: libbpf too)\n"
"  -q, --quiet        errors and warnings only\n"
"  -h, --help         this text\n"
"  -V, --version      the version\n"
"\n"
"Signals: SIGHUP reloads FILE atomically (an invalid file is refused and\n"
"the running policy stays, as with `xcrsctl reload`); SIGTERM/SIGINT stop\n"
"the agent and leave the XDP programs, maps and decisions in force, so a\n"
"restarted agent resumes from the state file and its decision journal\n"
"(<state_file>.journal, written before each dataplane entry, so kill -9\n"
"loses nothing); an entry the pinned maps hold with no decision saved is\n"
"adopted as rule \"recovered\".\n"
"\n"
"Exit status: 0 stopped by a signal or check passed; 1 the policy, state\n"
"file, dataplane or an input could not be set up (the message says which);\n"
"2 usage error.\n");
}

/* The directory path's file would be made in, or the nearest of its
 * ancestors that exists, can be written: 0, or -errno with err set. */
static int writable_for(const char *what, const char *path, char *err,
			size_t errlen)
{
	char dir[256];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	for (;;) {
		slash = strrchr(dir, '/');
		if (!slash) {
			snprintf(dir, sizeof(dir), ".");
		} else if (slash == dir) {
			dir[1] = '\0';
		} else {
			*slash = '\0';
		}
		if (!access(dir, F_OK))
			break;
		if (errno != ENOENT || !strcmp(dir, "/") || !strcmp(dir, ".")) {
			snprintf(err, errlen, "%s %s: %s: %s", what, path, dir,
				 strerror(errno));
			return -errno;
		}
	}
	if (access(dir, W_OK | X_OK)) {
		int r = -errno;

		snprintf(err, errlen, "%s %s: cannot be created in %s: %s", what,
			 path, dir, strerror(-r));
		return r;
	}
	return 0;
}

/* What start needs of the machine, checked before anything is touched
 * (and by --check): the pin directory on bpffs, the agent's files
 * creatable, the interfaces present (only a warning with check: the
 * file may be meant for another machine). */
/* A rule that a clean report ends, at a level from which the terminal
 * cannot send that report (README, "step 2"), holds it until the
 * reaction's time is over: said at --check and at start. */
static void clean_reachable(const struct policy *p)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct xcrs_addr a;
	uint16_t port;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct policy_rule *ru = &p->rules[i];
		unsigned lv[2] = { ru->level, ru->esc_level };

		if (!ru->react || !ru->release_on_clean)
			continue;
		if (!p->reports.enabled) {
			log_warn("%s: rule %s is released by a clean report, "
				 "but inputs.reports is off: no report can "
				 "come", p->file, ru->name);
			continue;
		}
		if (addr_listen_parse(p->reports.listen, &ss, &sl) ||
		    addr_from_sockaddr(&ss, &a))
			continue;
		port = ntohs(ss.ss_family == AF_INET ?
				     ((struct sockaddr_in *)&ss)->sin_port :
				     ((struct sockaddr_in6 *)&ss)->sin6_port);
		/* a wildcard listener: which address terminals use is not
		 * the policy's to say */
		{
			static const uint8_t zero[16];

			if (!memcmp(a.a, zero, 16) ||
			    (addr_is_v4(&a) && !memcmp(a.a + 12, zero, 4)))
				continue;
		}
		for (int k = 0; k < (ru->esc_after ? 2 : 1); k++)
			if (!policy_level_reaches(p, lv[k], &a, IPPROTO_TCP,
						  port))
				log_warn("%s: rule %s is released by a clean "
					 "report, but a terminal at level %s "
					 "cannot reach the report listener %s "
					 "(no allowed service names it): it "
					 "stays until the reaction's time is "
					 "over",
					 p->file, ru->name,
					 p->levels[lv[k]].name,
					 p->reports.listen);
	}
}

static int preflight(const struct policy *p, bool check, char *err,
		     size_t errlen)
{
	const struct policy_agent *pa = &p->agent;
	int r;

	if ((r = dp_pin_dir_check(pa->pin_dir, err, errlen)))
		return r;
	if ((r = writable_for("agent.state_file", pa->state_file, err,
			      errlen)) ||
	    (r = writable_for("agent.audit_log", pa->audit_log, err,
			      errlen)) ||
	    (r = writable_for("agent.control_socket", pa->control_socket,
			      err, errlen))) {
		/* an operator's --check as another user than the agent's
		 * cannot tell: only a warning */
		if (!check || !geteuid())
			return r;
		log_warn("%s (as this user; the agent's user may)", err);
		err[0] = '\0';
	}
	for (size_t i = 0; i < p->ninterfaces; i++) {
		const char *n = p->interfaces[i].name;

		if (if_nametoindex(n))
			continue;
		if (!check) {
			snprintf(err, errlen, "%s: interface %s does not exist",
				 p->file, n);
			return -ENODEV;
		}
		log_warn("%s: interface %s does not exist here (a start "
			 "would fail)", p->file, n);
	}
	clean_reachable(p);
	return 0;
}

static int check_only(struct policy *p)
{
	char err[1024];
	struct crsap_keyring *kr = NULL;
	struct dp_policy dpp;
	SSL_CTX *ctx;

	if (preflight(p, true, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	if (enf_tables_build(p, &dpp)) {
		log_error("%s: out of memory", p->file);
		return 1;
	}
	enf_tables_free(&dpp);
	if (p->reports.enabled) {
		if (crsap_keyring_load(p->reports.keys_file, &kr, err,
				       sizeof(err))) {
			log_error("%s", err);
			return 1;
		}
		crsap_keyring_free(kr);
		if (p->reports.authsrv.enabled) {
			const struct policy_authsrv *a = &p->reports.authsrv;
			struct ac_conn c;

			if (ac_open(&c, a->server, a->ca, a->cert, a->key,
				    a->name[0] ? a->name : NULL)) {
				log_error("%s: reports.authsrv: %s", p->file,
					  c.err);
				return 1;
			}
			ac_close(&c);
		}
		ctx = reports_tls_ctx(&p->reports, err, sizeof(err));
		if (!ctx) {
			log_error("%s", err);
			return 1;
		}
		SSL_CTX_free(ctx);
	}
	printf("%s: ok\n", p->file);
	return 0;
}

/* The dataplane's pin directory and map sizes, from the agent section. */
static struct dp_config dp_config_of(const struct policy *p)
{
	const struct policy_maps *m = &p->agent.maps;
	struct dp_config c = {
		.pin_dir = p->agent.pin_dir,
		.max_subs = m->subscribers,
		.max_subs6 = m->subscribers6,
		.max_hosts6 = m->hosts6,
		.max_pools = m->pools,
		.max_svc_prefixes = m->service_prefixes,
		.max_scopes = m->scopes,
		.max_tracked = m->tracked,
		.max_prefixes = m->prefixes,
	};

	return c;
}

static int detach_only(struct policy *p)
{
	struct dp_config cfg = dp_config_of(p);
	char err[512];
	struct dp *dp;
	int rc = 0;

	/* nothing pinned: nothing of xcrs to detach, and nothing to make */
	if (access(p->agent.pin_dir, F_OK) && errno == ENOENT) {
		log_info("%s does not exist: xcrs is not attached here",
			 p->agent.pin_dir);
		return 0;
	}
	if (dp_open(&cfg, &dp, err, sizeof(err))) {
		log_error("%s", err);
		return 1;
	}
	for (size_t i = 0; i < p->ninterfaces; i++) {
		int r = dp_detach(dp, p->interfaces[i].name);

		if (r == -ENOENT)
			log_info("%s: not attached", p->interfaces[i].name);
		else if (r) {
			log_error("%s", dp_errmsg(dp));
			rc = 1;
		} else {
			log_info("detached from %s", p->interfaces[i].name);
		}
	}
	dp_close(dp);
	return rc;
}

static int start(struct daemon *d, char *err, size_t errlen)
{
	struct dp_config cfg = dp_config_of(d->policy);
	const struct policy_agent *pa = &d->policy->agent;
	const struct policy *p = d->policy;
	json_object *rec;
	int r;

	if ((r = loop_new(&d->loop))) {
		snprintf(err, errlen, "event loop: %s", strerror(-r));
		return r;
	}
	/* what --check checks, before anything is made */
	if ((r = preflight(p, false, err, errlen)))
		return r;
	if ((r = mkdirs_for(pa->control_socket)) ||
	    (r = mkdirs_for(pa->state_file)) || (r = mkdirs_for(pa->audit_log))) {
		snprintf(err, errlen, "creating the agent's directories: %s",
			 strerror(-r));
		return r;
	}
	r = audit_open(pa->audit_log, &d->audit);
	if (r) {
		snprintf(err, errlen, "audit log %s: %s", pa->audit_log,
			 strerror(-r));
		return r;
	}
	/* the decision layer and the state file before the dataplane is
	 * touched: a state file that cannot be read stops the start */
	if ((r = enf_new(&enf_dp_library, NULL, p, &d->enf)) ||
	    (r = decide_new(p, d->enf, d->audit, &d->dec))) {
		snprintf(err, errlen, "decision layer: %s", strerror(-r));
		return r;
	}
	if ((r = decide_load(d->dec, err, errlen)) ||
	    (r = dp_open(&cfg, &d->dp, err, errlen)))
		return r;
	if (decide_sync_fd(d->dec) >= 0 &&
	    (r = loop_add(d->loop, &d->sync, decide_sync_fd(d->dec), EPOLLIN,
			  on_sync))) {
		snprintf(err, errlen, "event loop: %s", strerror(-r));
		return r;
	}
	enf_set_dp(d->enf, d->dp);
	log_info("dataplane maps under %s (%s)", pa->pin_dir,
		 dp_reused_pins(d->dp) ? "reused" : "created");
	/* an earlier agent was failing closed: go on until every reaction
	 * fits, unless the policy no longer wants it */
	enf_adopt_runtime(d->enf);
	/* the policy before the program: an attached program without one
	 * drops everything */
	if ((r = decide_apply(d->dec, err, errlen)) ||
	    (r = setup_loop(d, err, errlen)))
		return r;
	if ((r = dp_events_subscribe(d->dp, on_dp_event, d)) ||
	    (r = loop_add(d->loop, &d->dp_events, dp_events_fd(d->dp),
			  EPOLLIN, on_dp_events))) {
		snprintf(err, errlen, "%s", dp_errmsg(d->dp));
		return r;
	}
	/* the modules, bottom up; decisions reach the ones above through
	 * the decision layer's ports */
	if ((r = keys_new(d->loop, p, &d->keys, err, errlen)) ||
	    (r = peers_new(d->loop, p, d->dec, d->audit, &d->peers, err,
			   errlen)) ||
	    (r = ms_new(d->loop, p, d->dec, d->enf, d->keys, d->peers,
			d->audit, &d->ms, err, errlen)) ||
	    (r = subscribers_new(d->loop, p, d->dec, d->ms, &d->subs, err,
				 errlen)) ||
	    (r = updates_new(p, d->dec, d->ms, d->keys, d->audit,
				    &d->upd)) ||
	    (r = lines_new(d->loop, &d->lines)) ||
	    (r = reports_new(d->loop, p, d->dec, d->keys, d->ms, d->subs, d->upd,
			     d->peers, &d->reports, err, errlen)) ||
	    (r = feeds_new(d->loop, p, d->dec, d->ms, d->subs, d->lines,
			   &d->feeds, err, errlen)) ||
	    (r = radius_in_new(d->loop, p, d->subs, &d->radius, err,
			       errlen)) ||
	    (r = control_new(d, &d->ctl, err, errlen)) ||
	    (r = metrics_new(d, &d->met, err, errlen))) {
		if (!err[0])
			snprintf(err, errlen, "starting: %s", strerror(-r));
		return r;
	}
	{
		const struct decide_port notices = {
			.terminal_changed = reports_terminal_changed,
			.ctx = d->reports,
		};
		const struct decide_port campaigns = {
			.scope_contained = updates_scope_contained,
			.ctx = d->upd,
		};

		if ((r = decide_add_port(d->dec, &notices)) ||
		    (r = decide_add_port(d->dec, &campaigns))) {
			snprintf(err, errlen, "decision layer: %s",
				 strerror(-r));
			return r;
		}
	}
	/* the fleet's decisions before the program sees a packet */
	if ((r = join_fleet(d, err, errlen)))
		return r;
	/* the program on the interfaces last: a listener that cannot be set
	 * up stops the start before any interface is touched */
	if ((r = enf_interfaces(d->enf, NULL, err, errlen)))
		return r;
	/* every module has restored its state: what the pinned maps hold
	 * beyond it (a decision never saved, then a crash) is adopted */
	if (dp_reused_pins(d->dp)) {
		/* in steps once the agent is ready: what the walk has not
		 * reached is enforced meanwhile, only not yet shown */
		d->recon_t0 = now_mono();
		if ((r = loop_timer_in(&d->recon, 1, 0))) {
			snprintf(err, errlen, "timerfd: %s", strerror(-r));
			return r;
		}
	}
	decide_mark_dirty(d->dec);
	rec = json_object_new_object();
	audit_add_str(rec, "event", "start");
	audit_add_str(rec, "policy", d->policy_path);
	audit_write(d->audit, rec);
	/* a reaction that expired while the agent was down ends now */
	loop_tick(d->loop);
	decide_tick(d->dec, loop_now(d->loop));
	after_wakeup(d);
	return 0;
}

/* A start that failed leaves the machine as it found it: maps it created
 * (with their pin directory) and interfaces it attached go; maps an
 * earlier agent pinned stay, with the programs that enforce them. */
static void undo_start(struct daemon *d)
{
	const struct policy *p = d->policy;

	if (!d->dp || dp_reused_pins(d->dp))
		return;
	for (size_t i = 0; i < p->ninterfaces; i++)
		dp_detach(d->dp, p->interfaces[i].name);
	if (dp_unpin(d->dp))
		log_warn("removing what the failed start made: %s",
			 dp_errmsg(d->dp));
	else
		log_info("the failed start removed the maps it made (%s)",
			 p->agent.pin_dir);
}

/* Everything start made, top down; what it did not get to is NULL. */
static void stop(struct daemon *d)
{
	metrics_free(d->met);
	control_free(d->ctl);
	radius_in_free(d->radius);
	feeds_free(d->feeds);
	reports_free(d->reports);
	lines_free(d->lines);
	updates_free(d->upd);
	/* before what its callbacks reach */
	if (d->subs)
		subscribers_set_fleet(d->subs, NULL);
	fleet_close(d->fleet);
	d->fleet = NULL;
	subscribers_free(d->subs);
	ms_free(d->ms);
	peers_free(d->peers);
	keys_free(d->keys);
	if (d->loop)
		loop_forget(d->loop, &d->sync); /* decide_free closes it */
	if (d->dec && decide_dirty(d->dec))
		decide_save(d->dec);
	decide_free(d->dec);
	enf_free(d->enf);
	if (d->loop) {
		loop_close(d->loop, &d->dp_events);
		loop_close(d->loop, &d->sig);
		loop_close(d->loop, &d->timer);
		loop_close(d->loop, &d->housekeeping);
		loop_close(d->loop, &d->state_timer);
		loop_close(d->loop, &d->deadlines);
	}
	dp_close(d->dp);
	audit_close(d->audit);
	loop_free(d->loop);
	policy_free(d->policy);
}

/* Frees what the wake-up closed. */
static void reap(struct daemon *d)
{
	lines_reap(d->lines);
	reports_reap(d->reports);
	metrics_reap(d->met);
}

/* Descriptors: the soft limit raised to the hard one (systemd and login
 * shells give 1024 soft beside a far higher hard limit), so that the
 * connection budgets of the listeners (reports 1024, control 32, each
 * event or session socket 64, metrics 32) and the agent's own files fit
 * under it. A listener that
 * still meets the limit sheds connections (loop_accept) instead of
 * spinning; the log says so here when the budgets do not fit. */
static void raise_nofile(void)
{
	enum { BUDGET = 1024 + 32 + 4 * 64 + 32 + 128 };
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { rl.rlim_max, rl.rlim_max };

		if (!setrlimit(RLIMIT_NOFILE, &up))
			rl = up;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < BUDGET)
		log_warn("file descriptor limit %llu is below the connection "
			 "budgets (%d): under a flood of connections some are "
			 "refused (raise LimitNOFILE / ulimit -n)",
			 (unsigned long long)rl.rlim_cur, BUDGET);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 't'},
		{"detach", no_argument, NULL, 'D'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	struct daemon d = {
		.sig.fd = -1,
		.timer.fd = -1,
		.housekeeping.fd = -1,
		.state_timer.fd = -1,
		.deadlines.fd = -1,
		.sync.fd = -1,
		.dp_events.fd = -1,
	};
	struct policy_error perr;
	bool check = false, detach = false;
	int lvl = LOG_LVL_INFO, c, rc;
	char err[1024] = "";

	log_set_ident("xcrs-agent");
	while ((c = getopt_long(argc, argv, "c:tvqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.policy_path = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'D':
			detach = true;
			break;
		case 'v':
			lvl++;
			break;
		case 'q':
			lvl = LOG_LVL_WARN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xcrs-agent %s\n", XCRS_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!d.policy_path || optind != argc || (check && detach)) {
		fprintf(stderr, "xcrs-agent: %s\n",
			!d.policy_path ? "-c FILE is required" :
			optind != argc	? "unexpected argument" :
					  "--check and --detach exclude each other");
		usage(stderr);
		return 2;
	}
	log_set_level(lvl > LOG_LVL_VERBOSE ? LOG_LVL_VERBOSE : lvl);
	log_set_daemon(!check && !detach);
	dp_log_hook();
	if (policy_load(d.policy_path, &d.policy, &perr)) {
		log_error("%s", perr.msg);
		return 1;
	}
	if (check || detach) {
		rc = check ? check_only(d.policy) : detach_only(d.policy);
		policy_free(d.policy);
		return rc;
	}
	d.started_mono = now_mono();
	raise_nofile();
	if (start(&d, err, sizeof(err))) {
		log_error("%s", err);
		undo_start(&d);
		stop(&d);
		return 1;
	}
	log_info("ready: policy %s, %zu interface(s), control %s",
		 d.policy_path, d.policy->ninterfaces,
		 d.policy->agent.control_socket);
	{
		char st[160];

		snprintf(st, sizeof(st), "READY=1\nSTATUS=enforcing %s on %zu "
			 "interface(s)", d.policy_path,
			 d.policy->ninterfaces);
		notify(st);
	}
	d.running = true;
	while (d.running) {
		int n = loop_run_once(d.loop, -1);

		if (n < 0) {
			log_error("epoll_wait: %s", strerror(-n));
			break;
		}
		reap(&d);
		after_wakeup(&d);
	}
	notify("STOPPING=1");
	stop(&d);
	return 0;
}
