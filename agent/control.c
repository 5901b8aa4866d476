// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: one JSON request per connection, one JSON reply.
 *
 *   {"cmd": "status" | "terminals" | "stats" | "reload" | "ms" | "updates"}
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
#include "agent.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "lineproto.h"
#include "log.h"

static json_object *ok_reply(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

static void send_reply(struct agent *ag, struct lclient *c, json_object *o)
{
	const char *s = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	lclient_reply(ag, c, s, strlen(s));
	json_object_put(o);
}

static void send_error(struct agent *ag, struct lclient *c, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));
static void send_error(struct agent *ag, struct lclient *c, const char *fmt,
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
	send_reply(ag, c, o);
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

static json_object *view_json(struct agent *ag, const struct corr_view *v)
{
	json_object *o = json_object_new_object();
	char buf[ADDR_STRLEN];

	addr_format(&v->terminal, buf, sizeof(buf));
	add_str(o, "terminal", buf);
	add_str(o, "scope",
		v->scope >= 0 ? ag->policy->scopes[v->scope].name : "");
	add_str(o, "level", ag->policy->levels[v->level].name);
	add_until(o, v->until_ns);
	add_str(o, "rule", v->rule);
	add_str(o, "reason", v->why);
	add_int(o, "reactions", (int64_t)v->nreactions);
	return o;
}

struct each_ctx {
	struct agent *ag;
	json_object *arr;
};

static void each_view(void *ctx, const struct corr_view *v)
{
	struct each_ctx *e = ctx;

	json_object_array_add(e->arr, view_json(e->ag, v));
}

static json_object *terminals_json(struct agent *ag)
{
	struct each_ctx e = {ag, json_object_new_array()};

	corr_each_terminal(decide_engine(ag->dec), each_view, &e);
	return e.arr;
}

static json_object *scopes_json(struct agent *ag)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < ag->policy->nscopes; i++) {
		const struct policy_scope *s = &ag->policy->scopes[i];
		json_object *o = json_object_new_object();
		uint64_t until;
		const char *rule;
		bool on = corr_scope_state(decide_engine(ag->dec), (int)i, &until, &rule) == 1;

		add_str(o, "scope", s->name);
		add_int(o, "id", s->id);
		add_str(o, "containment",
			on ? abi_contain_name(decide_scope_mode(ag->dec, (int)i)) :
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

static void cmd_status(struct agent *ag, struct lclient *c)
{
	json_object *o = ok_reply(), *ifs = json_object_new_array(), *in;
	const struct policy *p = ag->policy;
	__u32 gen = 0;

	add_str(o, "policy", ag->policy_path);
	add_int(o, "uptime_s",
		(int64_t)((now_mono() - ag->started_mono) / 1000000000ull));
	dp_policy_generation(ag->dp, &gen);
	add_int(o, "generation", gen);
	for (size_t i = 0; i < p->ninterfaces; i++) {
		json_object *f = json_object_new_object();

		add_str(f, "name", p->interfaces[i].name);
		add_str(f, "role", abi_role_name(p->interfaces[i].role));
		json_object_object_add(
			f, "attached",
			json_object_new_boolean(
				dp_attached(ag->dp, p->interfaces[i].name) == 1));
		json_object_array_add(ifs, f);
	}
	json_object_object_add(o, "interfaces", ifs);
	add_int(o, "reacted_terminals",
		(int64_t)corr_each_terminal(decide_engine(ag->dec), count_view, NULL));
	json_object_object_add(o, "scopes", scopes_json(ag));
	in = json_object_new_array();
	inputs_describe(ag, in);
	json_object_object_add(o, "inputs", in);
	if (p->reports.enabled) {
		json_object *r = json_object_new_object();

		add_str(r, "listen", p->reports.listen);
		add_int(r, "connections", (int64_t)ag->ntconns);
		add_int(r, "terminal_keys",
			ag->keys ? (int64_t)ag->keys->nkeys : 0);
		json_object_object_add(o, "reports", r);
	}
	send_reply(ag, c, o);
}

static void cmd_terminals(struct agent *ag, struct lclient *c)
{
	json_object *o = ok_reply();

	json_object_object_add(o, "terminals", terminals_json(ag));
	json_object_object_add(o, "prefixes", decide_prefixes_json(ag->dec, false));
	send_reply(ag, c, o);
}

static void cmd_show(struct agent *ag, struct lclient *c,
		     const struct ctl_req *req)
{
	struct xcrs_addr a = req->terminal;
	struct corr_view v;
	struct xcrs_sub s;
	struct xcrs_sub_counters sc;
	json_object *o;
	char buf[ADDR_STRLEN];
	int scope, base;

	o = ok_reply();
	addr_format(&a, buf, sizeof(buf));
	add_str(o, "terminal", buf);
	scope = corr_scope_of(decide_engine(ag->dec), &a);
	add_str(o, "scope", scope >= 0 ? ag->policy->scopes[scope].name : "");
	json_object_object_add(o, "subscriber",
			       json_object_new_boolean(
				       agent_is_subscriber(ag, &a)));
	base = agent_base_level(ag, &a);
	add_str(o, "base_level",
		base >= 0			  ? ag->policy->levels[base].name :
		ag->policy->default_level >= 0 ?
						    ag->policy->levels[ag->policy->default_level]
							    .name :
						    "pass");
	if (corr_terminal(decide_engine(ag->dec), &a, &v) == 0)
		json_object_object_add(o, "reaction", view_json(ag, &v));
	else
		json_object_object_add(o, "reaction", NULL);
	if (dp_sub_get(ag->dp, &a, &s) == 0) {
		json_object *d = json_object_new_object();

		add_str(d, "level",
			s.level < ag->policy->nlevels ?
				ag->policy->levels[s.level].name :
				"?");
		add_str(d, "then",
			s.base_level == XCRS_SUB_BASE_NONE ?
				"pool-or-default" :
			s.base_level < ag->policy->nlevels ?
				ag->policy->levels[s.base_level].name :
				"?");
		add_int(d, "scope_id", s.scope);
		add_until(d, s.expires_ns);
		json_object_object_add(o, "dataplane", d);
	} else {
		json_object_object_add(o, "dataplane", NULL);
	}
	if (dp_sub_stats_read(ag->dp, &a, &sc) == 0) {
		json_object *d = json_object_new_object();

		add_int(d, "pass_packets", (int64_t)sc.pass.packets);
		add_int(d, "pass_bytes", (int64_t)sc.pass.bytes);
		add_int(d, "drop_packets", (int64_t)sc.drop.packets);
		add_int(d, "drop_bytes", (int64_t)sc.drop.bytes);
		json_object_object_add(o, "counters", d);
	}
	send_reply(ag, c, o);
}

static void cmd_react(struct agent *ag, struct lclient *c,
		      const struct ctl_req *req)
{
	const struct xcrs_addr a = req->terminal;
	uint64_t now = now_mono(), until = req->for_ns ? now + req->for_ns : 0;
	struct corr_view v;
	char err[1024];
	json_object *o;

	if (decide_react(ag->dec, &a, req->plen, req->level, until,
			 req->reason, "operator", ag->input_t0, now, err,
			 sizeof(err))) {
		send_error(ag, c, "%s", err);
		return;
	}
	o = ok_reply();
	if (req->plen == 128 &&
	    corr_terminal(decide_engine(ag->dec), &a, &v) == 0)
		json_object_object_add(o, "terminal", view_json(ag, &v));
	send_reply(ag, c, o);
}

static void cmd_release(struct agent *ag, struct lclient *c,
			const struct ctl_req *req)
{
	char err[1024];

	if (decide_release(ag->dec, &req->terminal, req->plen, "operator",
			   now_mono(), err, sizeof(err)))
		send_error(ag, c, "%s", err);
	else
		send_reply(ag, c, ok_reply());
}

static int get_scope(struct agent *ag, struct lclient *c,
		     const struct ctl_req *req)
{
	int s = policy_scope_index(ag->policy, req->scope);

	if (s < 0)
		send_error(ag, c, "no scope \"%s\" in the policy", req->scope);
	return s;
}

static void cmd_contain(struct agent *ag, struct lclient *c,
			const struct ctl_req *req)
{
	uint64_t now = now_mono(), until = req->for_ns ? now + req->for_ns : 0;
	char err[1024];
	int s;

	if ((s = get_scope(ag, c, req)) < 0)
		return;
	if (decide_contain(ag->dec, s, req->mode, until,
			   "contained by the operator", "operator", now, err,
			   sizeof(err)))
		send_error(ag, c, "%s", err);
	else
		send_reply(ag, c, ok_reply());
}

static void cmd_uncontain(struct agent *ag, struct lclient *c,
			  const struct ctl_req *req)
{
	char err[1024];
	int s;

	if ((s = get_scope(ag, c, req)) < 0)
		return;
	if (decide_uncontain(ag->dec, s, "operator", now_mono(), err,
			     sizeof(err)))
		send_error(ag, c, "%s", err);
	else
		send_reply(ag, c, ok_reply());
}

static void cmd_stats(struct agent *ag, struct lclient *c)
{
	static const char *const names[C_MAX] = {
		[C_REPORTS_OK] = "reports_accepted",
		[C_REPORTS_REFUSED] = "reports_refused",
		[C_TLS_FAILED] = "tls_handshakes_failed",
		[C_EVE_LINES] = "eve_lines",
		[C_EVE_ALERTS] = "alerts",
		[C_EVENTS_LINES] = "event_lines",
		[C_INPUT_MALFORMED] = "input_malformed",
		[C_INPUT_NOT_SUBSCRIBER] = "alerts_not_subscriber",
		[C_INPUT_OVERLONG] = "input_overlong",
		[C_FANOUT] = "fanout_detections",
		[C_DECISIONS] = "decisions",
		[C_NOTICES_SENT] = "notices_sent",
		[C_CONTROL_REQUESTS] = "control_requests",
		[C_RELOADS] = "reloads",
		[C_RELOADS_FAILED] = "reloads_refused",
		[C_DATAPLANE_ERRORS] = "dataplane_errors",
		[C_MS_CONNECTS] = "ms_connects",
		[C_MS_LEAVES] = "ms_leaves",
		[C_SESSIONS_LINES] = "session_lines",
		[C_REACTIONS] = "reactions",
		[C_RELEASES] = "releases",
		[C_CONTAINS] = "scope_containments",
		[C_UNCONTAINS] = "scope_releases",
		[C_METRICS_SCRAPES] = "metrics_scrapes",
		[C_NEVER_REFUSED] = "never_react_refused",
	};
	json_object *o = ok_reply(), *a = json_object_new_object(),
		    *rf = json_object_new_object(), *d;
	struct dp_stats st;
	uint64_t cn[C_MAX];

	agent_stats(ag, cn);
	for (int i = 0; i < C_MAX; i++)
		add_int(a, names[i], (int64_t)cn[i]);
	for (int v = 1; v < CRSAP_VERDICT_MAX; v++)
		add_int(rf, crsap_verdict_to_string(v), (int64_t)ag->refused[v]);
	json_object_object_add(a, "reports_refused_by", rf);
	json_object_object_add(o, "agent", a);
	if (dp_stats_read(ag->dp, &st) == 0) {
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
	send_reply(ag, c, o);
}

void control_request(struct agent *ag, struct lclient *c, const char *line,
		     size_t len)
{
	struct ctl_req req;
	char err[1024];

	if (ctl_parse(line, len, &req, err, sizeof(err))) {
		send_error(ag, c, "%s", err);
		return;
	}
	ag->input_t0 = now_mono();
	log_debug("control: command %d", (int)req.cmd);
	switch (req.cmd) {
	case CTL_STATUS:
		cmd_status(ag, c);
		break;
	case CTL_TERMINALS:
		cmd_terminals(ag, c);
		break;
	case CTL_SHOW:
		cmd_show(ag, c, &req);
		break;
	case CTL_REACT:
		cmd_react(ag, c, &req);
		break;
	case CTL_RELEASE:
		cmd_release(ag, c, &req);
		break;
	case CTL_CONTAIN:
		cmd_contain(ag, c, &req);
		break;
	case CTL_UNCONTAIN:
		cmd_uncontain(ag, c, &req);
		break;
	case CTL_STATS:
		cmd_stats(ag, c);
		break;
	case CTL_UPDATES: {
		json_object *o = ok_reply();

		json_object_object_add(o, "updates", updates_json(ag));
		send_reply(ag, c, o);
		break;
	}
	case CTL_MS: {
		json_object *o = ok_reply();

		json_object_object_add(o, "ms", ms_json(ag));
		send_reply(ag, c, o);
		break;
	}
	case CTL_RELOAD:
		if (agent_reload(ag, err, sizeof(err)))
			send_error(ag, c, "%s", err);
		else
			send_reply(ag, c, ok_reply());
		break;
	}
	ag->input_t0 = 0;
}
