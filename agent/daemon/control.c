// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: one JSON request per connection, one JSON reply.
 *
 *   {"cmd": "status" | "terminals" | "stats" | "reload" | "ms" | "updates" |
 *           "sessions"}
 *   {"cmd": "show", "terminal": ADDR}
 *   {"cmd": "react", "terminal": ADDR, "level": NAME, "for": DURATION,
 *    "reason": TEXT}                              ("for", "reason" optional)
 *   {"cmd": "release", "terminal": ADDR}
 *   {"cmd": "scope-contain", "scope": NAME, "mode": MODE, "for": DURATION}
 *   {"cmd": "scope-release", "scope": NAME}
 *
 * Reply: {"ok": true, ...} or {"ok": false, "error": TEXT}. The socket is
 * mode 0600: whoever can connect is the operator.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "daemon.h"
#include "lineproto.h"
#include "log.h"

#define CONTROL_LINE_MAX 65536
/* The control socket's own budget (no other socket's flood counts in it),
 * and the time a client has to send its request, and later to take its
 * reply. */
#define CONTROL_CLIENTS_MAX 32
#define CONTROL_REQUEST_NS (5 * 1000000000ull)

struct control {
	struct daemon *d;
	struct watch listen;
	struct lines_pool pool;
	uint64_t requests;
	/* while a request is handled: when it was read, and who sent it
	 * (SO_PEERCRED, for the audit log) */
	uint64_t t0;
	char by[96];
};

static json_object *ok_reply(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

static void send_reply(struct control *ctl, struct lclient *c, json_object *o)
{
	json_object *ok;
	int se = decide_save_error(ctl->d->dec), ae = audit_error(ctl->d->audit);
	const char *s;

	/* an action that is in force but not on disk is not simply "ok" */
	if ((se || ae) && json_object_object_get_ex(o, "ok", &ok) &&
	    json_object_get_boolean(ok)) {
		char w[256];

		snprintf(w, sizeof(w), "%s%s%s%s%s",
			 se ? "decisions are in force but not saved (" : "",
			 se ? strerror(se) : "",
			 se ? "): retried; a restart now loses the newest" : "",
			 se && ae ? "; " : "",
			 ae ? "the audit log cannot be written" : "");
		if (ae)
			snprintf(w + strlen(w), sizeof(w) - strlen(w), " (%s)",
				 strerror(ae));
		json_object_object_add(o, "warning", json_object_new_string(w));
	}
	s = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	lines_reply(ctl->d->lines, c, s, strlen(s));
	json_object_put(o);
}

/* A reload's change, into the reply's "changes". */
static void reload_change(void *ctx, const char *line)
{
	json_object_array_add(ctx, json_object_new_string(line));
}

static void send_error(struct control *ctl, struct lclient *c, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));
static void send_error(struct control *ctl, struct lclient *c, const char *fmt,
		       ...)
{
	json_object *o = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	send_reply(ctl, c, o);
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_until(json_object *o, uint64_t until_mono)
{
	char ts[40];

	if (!until_mono) {
		json_object_object_add(o, "until", NULL);
		return;
	}
	fmt_time_ms(mono_to_real_ms(until_mono), ts, sizeof(ts));
	add_str(o, "until", ts);
	add_int(o, "remaining_s",
		until_mono > now_mono() ?
			(int64_t)((until_mono - now_mono()) / 1000000000ull) :
			0);
}

static json_object *view_json(struct control *ctl, const struct corr_view *v)
{
	json_object *o = json_object_new_object();
	char buf[ADDR_STRLEN];

	addr_format(&v->terminal, buf, sizeof(buf));
	add_str(o, "terminal", buf);
	add_str(o, "scope",
		v->scope >= 0 ? ctl->d->policy->scopes[v->scope].name : "");
	add_str(o, "level", ctl->d->policy->levels[v->level].name);
	add_until(o, v->until_ns);
	add_str(o, "rule", v->rule);
	add_str(o, "reason", v->why);
	add_int(o, "reactions", (int64_t)v->nreactions);
	return o;
}

struct each_ctx {
	struct control *ctl;
	json_object *arr;
};

static void each_view(void *ctx, const struct corr_view *v)
{
	struct each_ctx *e = ctx;

	json_object_array_add(e->arr, view_json(e->ctl, v));
}

static json_object *terminals_json(struct control *ctl)
{
	struct each_ctx e = {ctl, json_object_new_array()};

	corr_each_terminal(decide_engine(ctl->d->dec), each_view, &e);
	return e.arr;
}

static json_object *scopes_json(struct control *ctl)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < ctl->d->policy->nscopes; i++) {
		const struct policy_scope *s = &ctl->d->policy->scopes[i];
		json_object *o = json_object_new_object();
		uint64_t until;
		const char *rule;
		bool on = corr_scope_state(decide_engine(ctl->d->dec), (int)i, &until, &rule) == 1;

		add_str(o, "scope", s->name);
		add_int(o, "id", s->id);
		add_str(o, "containment",
			on ? abi_contain_name(decide_scope_mode(ctl->d->dec, (int)i)) :
			     "none");
		if (on) {
			add_until(o, until);
			add_str(o, "rule", rule);
		}
		json_object_array_add(arr, o);
	}
	return arr;
}

static void count_view(void *ctx, const struct corr_view *v)
{
}

static void cmd_status(struct control *ctl, struct lclient *c)
{
	json_object *o = ok_reply(), *ifs = json_object_new_array(), *in;
	const struct policy *p = ctl->d->policy;
	__u32 gen = 0;

	add_str(o, "policy", ctl->d->policy_path);
	add_int(o, "uptime_s",
		(int64_t)((now_mono() - ctl->d->started_mono) / 1000000000ull));
	dp_policy_generation(ctl->d->dp, &gen);
	add_int(o, "generation", gen);
	add_str(o, "policy_sha256", ctl->d->policy->sha256);
	if (ctl->d->fleet)
		json_object_object_add(o, "fleet",
				       fleet_status_json(ctl->d->fleet));
	{
		char ts[40];

		fmt_time_ms(ctl->d->policy->loaded_ms, ts, sizeof(ts));
		add_str(o, "policy_loaded", ts);
	}
	for (size_t i = 0; i < p->ninterfaces; i++) {
		json_object *f = json_object_new_object();

		add_str(f, "name", p->interfaces[i].name);
		add_str(f, "role", abi_role_name(p->interfaces[i].role));
		int via = dp_attached_via(ctl->d->dp, p->interfaces[i].name);

		json_object_object_add(f, "attached",
				       json_object_new_boolean(via > 0));
		if (via > 0)
			add_str(f, "via", via == DP_VIA_DISPATCHER ?
						  "dispatcher" :
						  "link");
		json_object_array_add(ifs, f);
	}
	json_object_object_add(o, "interfaces", ifs);
	add_int(o, "reacted_terminals",
		(int64_t)corr_each_terminal(decide_engine(ctl->d->dec), count_view, NULL));
	json_object_object_add(o, "scopes", scopes_json(ctl));
	in = json_object_new_array();
	feeds_describe(ctl->d->feeds, in);
	json_object_object_add(o, "inputs", in);
	if (p->reports.enabled) {
		json_object *r = json_object_new_object();

		add_str(r, "listen", p->reports.listen);
		add_int(r, "connections",
			(int64_t)reports_report(ctl->d->reports)->connections);
		add_int(r, "terminal_keys",
			(int64_t)keys_file(ctl->d->keys)->nkeys);
		json_object_object_add(o, "reports", r);
	}
	send_reply(ctl, c, o);
}

static void cmd_terminals(struct control *ctl, struct lclient *c)
{
	json_object *o = ok_reply();

	json_object_object_add(o, "terminals", terminals_json(ctl));
	json_object_object_add(o, "prefixes", decide_prefixes_json(ctl->d->dec, false));
	send_reply(ctl, c, o);
}

/* What decides a's packets, in the dataplane's order (README, "The
 * dataplane", step 3): "by" (never-react, host entry, session /64,
 * prefix decision, pool, unknown default), the level, and the scope's
 * containment on top. */
static json_object *verdict_json(struct control *ctl,
				 const struct xcrs_addr *a)
{
	const struct policy *p = ctl->d->policy;
	json_object *v = json_object_new_object();
	char what[128], pf[64];
	const char *lv = NULL;
	struct xcrs_sub s;
	uint64_t until = 0;
	int n = policy_never_react(p, a), l, scope;

	if (n >= 0) {
		add_str(v, "by", "never-react");
		snprintf(what, sizeof(what), "never_react list %s",
			 p->never[n].name);
		add_str(v, "detail", what);
		lv = p->levels[p->never[n].level].name;
	} else if (dp_sub_get(ctl->d->dp, a, &s) == 0 &&
		   !(s.flags & XCRS_SUB_F_PREFIX64)) {
		add_str(v, "by", "host-entry");
		lv = s.level < p->nlevels ? p->levels[s.level].name : "?";
		until = s.expires_ns;
	} else {
		struct xcrs_addr p64 = *a;
		bool v6 = !addr_is_v4(a);

		memset(p64.a + 8, 0, 8);
		if (v6 && dp_sub_get(ctl->d->dp, &p64, &s) == 0 &&
		    (s.flags & XCRS_SUB_F_PREFIX64)) {
			addr_prefix_format(&p64, 64, pf, sizeof(pf));
			add_str(v, "by", "session-prefix");
			add_str(v, "detail", pf);
			lv = s.level < p->nlevels ? p->levels[s.level].name :
						    "?";
			until = s.expires_ns;
		} else if (decide_prefix_covering(ctl->d->dec, a, pf,
						  sizeof(pf), &lv, &until)) {
			add_str(v, "by", "prefix-decision");
			add_str(v, "detail", pf);
		} else if ((l = policy_pool_level(p, a)) >= 0) {
			add_str(v, "by", "pool");
			lv = p->levels[l].name;
		} else {
			add_str(v, "by", "unknown-default");
			lv = p->default_level >= 0 ?
				     p->levels[p->default_level].name :
				     "pass";
		}
	}
	add_str(v, "level", lv ? lv : "?");
	if (until)
		add_until(v, until);
	scope = corr_scope_of(decide_engine(ctl->d->dec), a);
	if (scope >= 0 &&
	    corr_scope_state(decide_engine(ctl->d->dec), scope, NULL, NULL) >
		    0) {
		add_str(v, "contained", p->scopes[scope].name);
	}
	return v;
}

static void cmd_show(struct control *ctl, struct lclient *c,
		     const struct ctl_req *req)
{
	struct xcrs_addr a = req->terminal;
	struct corr_view v;
	struct xcrs_sub s;
	struct xcrs_sub_counters sc;
	json_object *o;
	char buf[ADDR_STRLEN];
	int scope, base;

	if (req->subscriber[0]) {
		json_object *u = subscribers_show_json(ctl->d->subs,
						       req->subscriber);

		if (!u) {
			send_error(ctl, c, "no subscriber %s (no session, no "
					   "decision)",
				   req->subscriber);
			return;
		}
		o = ok_reply();
		json_object_object_add(o, "subscriber", u);
		send_reply(ctl, c, o);
		return;
	}
	o = ok_reply();
	addr_format(&a, buf, sizeof(buf));
	add_str(o, "terminal", buf);
	{
		const char *h = subscribers_holder(ctl->d->subs, &a);

		if (h) {
			add_str(o, "holder", h);
		} else {
			/* the escalation history of an address without a
			 * session (a subscriber's is under show imsi:…) */
			uint64_t t[32];
			size_t n = decide_offences(ctl->d->dec, &a, t, 32);
			json_object *arr = json_object_new_array();
			char ts[40];

			for (size_t i = 0; i < n && i < 32; i++) {
				fmt_time_ms(mono_to_real_ms(t[i]), ts,
					    sizeof(ts));
				json_object_array_add(
					arr, json_object_new_string(ts));
			}
			json_object_object_add(o, "offences", arr);
		}
	}
	scope = corr_scope_of(decide_engine(ctl->d->dec), &a);
	add_str(o, "scope", scope >= 0 ? ctl->d->policy->scopes[scope].name : "");
	json_object_object_add(o, "subscriber",
			       json_object_new_boolean(
				       policy_static_sub(ctl->d->policy, &a) ||
				       policy_pool_level(ctl->d->policy, &a) >=
					       0));
	base = policy_base_level(ctl->d->policy, &a);
	add_str(o, "base_level",
		base >= 0			  ? ctl->d->policy->levels[base].name :
		ctl->d->policy->default_level >= 0 ?
						    ctl->d->policy->levels[ctl->d->policy->default_level]
							    .name :
						    "pass");
	if (corr_terminal(decide_engine(ctl->d->dec), &a, &v) == 0)
		json_object_object_add(o, "reaction", view_json(ctl, &v));
	else
		json_object_object_add(o, "reaction", NULL);
	if (dp_sub_get(ctl->d->dp, &a, &s) == 0) {
		json_object *d = json_object_new_object();

		add_str(d, "level",
			s.level < ctl->d->policy->nlevels ?
				ctl->d->policy->levels[s.level].name :
				"?");
		add_str(d, "then",
			s.base_level == XCRS_SUB_BASE_NONE ?
				"pool-or-default" :
			s.base_level < ctl->d->policy->nlevels ?
				ctl->d->policy->levels[s.base_level].name :
				"?");
		add_int(d, "scope_id", s.scope);
		add_until(d, s.expires_ns);
		json_object_object_add(o, "dataplane", d);
	} else {
		json_object_object_add(o, "dataplane", NULL);
	}
	json_object_object_add(o, "verdict", verdict_json(ctl, &a));
	if (dp_sub_stats_read(ctl->d->dp, &a, &sc) == 0) {
		json_object *d = json_object_new_object();

		add_int(d, "pass_packets", (int64_t)sc.pass.packets);
		add_int(d, "pass_bytes", (int64_t)sc.pass.bytes);
		add_int(d, "drop_packets", (int64_t)sc.drop.packets);
		add_int(d, "drop_bytes", (int64_t)sc.drop.bytes);
		json_object_object_add(o, "counters", d);
	}
	send_reply(ctl, c, o);
}

static void cmd_react(struct control *ctl, struct lclient *c,
		      const struct ctl_req *req)
{
	const struct xcrs_addr a = req->terminal;
	uint64_t now = loop_now(ctl->d->loop),
		 for_ns = req->for_ns ? req->for_ns :
					ctl->d->policy->agent.operator_for_ns,
		 until = for_ns ? now + for_ns : 0;
	struct corr_view v;
	char err[1024];
	json_object *o;

	if (req->subscriber[0]) {
		if (subscribers_react(ctl->d->subs, req->subscriber, req->level,
				      until, req->reason, ctl->t0, err,
				      sizeof(err))) {
			send_error(ctl, c, "%s", err);
			return;
		}
		o = ok_reply();
		json_object_object_add(o, "subscriber",
				       subscribers_show_json(ctl->d->subs,
							     req->subscriber));
		send_reply(ctl, c, o);
		return;
	}
	if (decide_react(ctl->d->dec, &a, req->plen, req->level, until,
			 req->reason, ctl->by, ctl->t0, now, err,
			 sizeof(err))) {
		send_error(ctl, c, "%s", err);
		return;
	}
	o = ok_reply();
	if (req->plen == 128 &&
	    corr_terminal(decide_engine(ctl->d->dec), &a, &v) == 0)
		json_object_object_add(o, "terminal", view_json(ctl, &v));
	send_reply(ctl, c, o);
}

static void cmd_release(struct control *ctl, struct lclient *c,
			const struct ctl_req *req)
{
	char err[1024];

	if (req->subscriber[0]) {
		if (subscribers_release(ctl->d->subs, req->subscriber, err,
					sizeof(err)))
			send_error(ctl, c, "%s", err);
		else
			send_reply(ctl, c, ok_reply());
		return;
	}
	if (decide_release(ctl->d->dec, &req->terminal, req->plen, ctl->by,
			   loop_now(ctl->d->loop), err, sizeof(err)))
		send_error(ctl, c, "%s", err);
	else
		send_reply(ctl, c, ok_reply());
}

/* forget: an offence history reset; an address held by a session is its
 * subscriber's (the history belongs to the identity). */
static void cmd_forget(struct control *ctl, struct lclient *c,
		       const struct ctl_req *req)
{
	const char *id = req->subscriber[0] ?
				 req->subscriber :
				 subscribers_holder(ctl->d->subs, &req->terminal);
	char err[512], buf[ADDR_STRLEN];
	json_object *o;
	int n;

	if (id) {
		n = subscribers_forget(ctl->d->subs, id, ctl->by, err,
				       sizeof(err));
		if (n < 0) {
			send_error(ctl, c, "%s", err);
			return;
		}
	} else {
		addr_format(&req->terminal, buf, sizeof(buf));
		n = decide_forget(ctl->d->dec, &req->terminal, buf, ctl->by);
		if (n < 0) {
			send_error(ctl, c, "%s: %s", buf, strerror(-n));
			return;
		}
	}
	o = ok_reply();
	if (id)
		add_str(o, "subscriber", id);
	add_int(o, "forgotten", n);
	send_reply(ctl, c, o);
}

static int get_scope(struct control *ctl, struct lclient *c,
		     const struct ctl_req *req)
{
	int s = policy_scope_index(ctl->d->policy, req->scope);

	if (s < 0)
		send_error(ctl, c, "no scope \"%s\" in the policy", req->scope);
	return s;
}

static void cmd_contain(struct control *ctl, struct lclient *c,
			const struct ctl_req *req)
{
	uint64_t now = loop_now(ctl->d->loop),
		 until = req->for_ns ? now + req->for_ns : 0;
	char err[1024];
	int s;

	if ((s = get_scope(ctl, c, req)) < 0)
		return;
	if (decide_contain(ctl->d->dec, s, req->mode, until,
			   "contained by the operator", ctl->by, now, err,
			   sizeof(err)))
		send_error(ctl, c, "%s", err);
	else
		send_reply(ctl, c, ok_reply());
}

static void cmd_uncontain(struct control *ctl, struct lclient *c,
			  const struct ctl_req *req)
{
	char err[1024];
	int s;

	if ((s = get_scope(ctl, c, req)) < 0)
		return;
	if (decide_uncontain(ctl->d->dec, s, ctl->by, loop_now(ctl->d->loop), err,
			     sizeof(err)))
		send_error(ctl, c, "%s", err);
	else
		send_reply(ctl, c, ok_reply());
}

static void cmd_stats(struct control *ctl, struct lclient *c)
{
	json_object *o = ok_reply(), *a = json_object_new_object(),
		    *rf = json_object_new_object(), *d;
	struct dp_stats st;
	struct stats sn;

	daemon_stats(ctl->d, &sn);
	for (int i = 0; i < C_MAX; i++)
		add_int(a, stats_name(i), (int64_t)sn.c[i]);
	for (int v = 1; v < CRSAP_VERDICT_MAX; v++)
		add_int(rf, crsap_verdict_to_string(v), (int64_t)sn.refused_by[v]);
	json_object_object_add(a, "reports_refused_by", rf);
	json_object_object_add(o, "agent", a);
	if (dp_stats_read(ctl->d->dp, &st) == 0) {
		d = json_object_new_array();
		for (int act = 0; act < XCRS_ACT_MAX; act++)
			for (int r = 0; r < XCRS_REASON_MAX; r++) {
				json_object *e;

				if (!st.c[act][r].packets)
					continue;
				e = json_object_new_object();
				add_str(e, "action", abi_action_name(act));
				add_str(e, "reason", abi_reason_name(r));
				add_int(e, "packets",
					(int64_t)st.c[act][r].packets);
				add_int(e, "bytes", (int64_t)st.c[act][r].bytes);
				json_object_array_add(d, e);
			}
		json_object_object_add(o, "dataplane", d);
	}
	send_reply(ctl, c, o);
}

static void control_request(void *ctx, struct lclient *c, char *line,
			    size_t len)
{
	struct control *ctl = ctx;
	struct ctl_req req;
	char err[1024];

	ctl->requests++;
	if (ctl_parse(line, len, &req, err, sizeof(err))) {
		send_error(ctl, c, "%s", err);
		return;
	}
	ctl->t0 = now_mono();
	lclient_peer(c, ctl->by, sizeof(ctl->by));
	log_debug("control: command %d from %s", (int)req.cmd, ctl->by);
	switch (req.cmd) {
	case CTL_STATUS:
		cmd_status(ctl, c);
		break;
	case CTL_TERMINALS:
		cmd_terminals(ctl, c);
		break;
	case CTL_SHOW:
		cmd_show(ctl, c, &req);
		break;
	case CTL_REACT:
		cmd_react(ctl, c, &req);
		break;
	case CTL_RELEASE:
		cmd_release(ctl, c, &req);
		break;
	case CTL_FORGET:
		cmd_forget(ctl, c, &req);
		break;
	case CTL_CONTAIN:
		cmd_contain(ctl, c, &req);
		break;
	case CTL_UNCONTAIN:
		cmd_uncontain(ctl, c, &req);
		break;
	case CTL_STATS:
		cmd_stats(ctl, c);
		break;
	case CTL_UPDATES: {
		json_object *o = ok_reply();

		json_object_object_add(o, "updates", updates_json(ctl->d->upd));
		send_reply(ctl, c, o);
		break;
	}
	case CTL_MS: {
		json_object *o = ok_reply();

		json_object_object_add(o, "ms", ms_json(ctl->d->ms));
		send_reply(ctl, c, o);
		break;
	}
	case CTL_SESSIONS: {
		json_object *o = ok_reply();

		json_object_object_add(o, "sessions",
				       subscribers_sessions_json(ctl->d->subs,
								 req.apn,
								 req.location));
		send_reply(ctl, c, o);
		break;
	}
	case CTL_RELOAD: {
		json_object *changes = json_object_new_array(), *o;
		char warning[256];

		if (daemon_reload(ctl->d,
				  req.reload == CTL_RELOAD_DRY_RUN ?
					  RELOAD_DRY_RUN :
				  req.reload == CTL_RELOAD_RELEASE ?
					  RELOAD_RELEASE :
					  RELOAD_APPLY,
				  reload_change, changes,
				  warning, sizeof(warning), err,
				  sizeof(err))) {
			json_object_put(changes);
			send_error(ctl, c, "%s", err);
			break;
		}
		o = ok_reply();
		json_object_object_add(o, "dry_run",
				       json_object_new_boolean(
					       req.reload ==
						       CTL_RELOAD_DRY_RUN));
		json_object_object_add(o, "changes", changes);
		if (warning[0])
			json_object_object_add(o, "warning",
					       json_object_new_string(warning));
		send_reply(ctl, c, o);
		break;
	}
	}
	ctl->t0 = 0;
}

static void on_control(struct watch *w, uint32_t events)
{
	struct control *ctl = container_of(w, struct control, listen);

	lines_accept(ctl->d->lines, &ctl->pool, w->fd, CONTROL_LINE_MAX,
		     control_request, ctl);
}

int control_new(struct daemon *d, struct control **ret_ctl, char *err,
		size_t errlen)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int fd, r;

	if (!ctl)
		return -ENOMEM;
	ctl->d = d;
	ctl->listen.fd = -1;
	ctl->pool = (struct lines_pool){ .name = "control",
					 .max = CONTROL_CLIENTS_MAX,
					 .request = true,
					 .request_ns = CONTROL_REQUEST_NS };
	fd = unix_listen(d->policy->agent.control_socket, 0600, err, errlen);
	if (fd < 0) {
		free(ctl);
		return fd;
	}
	r = loop_add(d->loop, &ctl->listen, fd, EPOLLIN, on_control);
	if (r) {
		snprintf(err, errlen, "%s: %s", d->policy->agent.control_socket,
			 strerror(-r));
		close(fd);
		free(ctl);
		return r;
	}
	*ret_ctl = ctl;
	return 0;
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	if (ctl->listen.fd >= 0) {
		loop_close(ctl->d->loop, &ctl->listen);
		unlink(ctl->d->policy->agent.control_socket);
	}
	free(ctl);
}

uint64_t control_requests(const struct control *ctl)
{
	return ctl->requests;
}
