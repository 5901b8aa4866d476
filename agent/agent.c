// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-agent: the SCS of X.1125 on one edge node. Reads the policy,
 * applies it to the dataplane, attaches the XDP program, then runs one
 * epoll loop over signals, timers, the dataplane's ring buffer, the
 * control socket and the inputs; every decision of the correlation engine
 * becomes a map update, an audit record, a notice to the terminal and a
 * saved state.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "apply.h"
#include "authclient.h"
#include "config.h"
#include "events.h"
#include "gbakeys.h"
#include "log.h"

#define STATE_VERSION 1
#define HOUSEKEEPING_S 5

/* ---- clocks ------------------------------------------------------------- */

uint64_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t mono_to_real_ms(uint64_t mono)
{
	int64_t d = (int64_t)mono - (int64_t)now_mono();

	return (uint64_t)((int64_t)now_real_ms() + d / 1000000);
}

uint64_t real_ms_to_mono(uint64_t real_ms)
{
	int64_t d = (int64_t)real_ms - (int64_t)now_real_ms();
	int64_t m = (int64_t)now_mono() + d * 1000000;

	return m > 0 ? (uint64_t)m : 1;
}

void fmt_time_ms(uint64_t real_ms, char *buf, size_t len)
{
	time_t s = (time_t)(real_ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(real_ms % 1000));
}

/* ---- event loop ----------------------------------------------------------- */

int watch_add(struct agent *ag, struct watch *w, int fd, uint32_t events,
	      watch_fn fn)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	w->fd = fd;
	w->events = events;
	w->fn = fn;
	if (epoll_ctl(ag->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

int watch_mod(struct agent *ag, struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};

	if (w->events == events)
		return 0;
	w->events = events;
	return epoll_ctl(ag->epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void watch_forget(struct agent *ag, struct watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(ag->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
}

void watch_close(struct agent *ag, struct watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(ag->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd);
	w->fd = -1;
}

/* ---- audit log ---------------------------------------------------------------- */

/* One JSON line, appended with one write(2) (O_APPEND keeps lines whole). */
void agent_audit(struct agent *ag, json_object *rec)
{
	char ts[40];
	const char *s;
	size_t n;
	char *line;

	fmt_time_ms(now_real_ms(), ts, sizeof(ts));
	json_object_object_add(rec, "time", json_object_new_string(ts));
	s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(s);
	line = malloc(n + 2);
	if (line) {
		memcpy(line, s, n);
		line[n] = '\n';
		if (ag->audit_fd >= 0 &&
		    write(ag->audit_fd, line, n + 1) != (ssize_t)(n + 1))
			log_error("audit log: write failed: %s",
				  strerror(errno));
		free(line);
	}
	json_object_put(rec);
}

static void audit_add_str(json_object *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void audit_add_until(json_object *o, uint64_t until_mono)
{
	char ts[40];

	if (!until_mono)
		return;
	fmt_time_ms(mono_to_real_ms(until_mono), ts, sizeof(ts));
	json_object_object_add(o, "until", json_object_new_string(ts));
}

/* ---- the dataplane side of decisions -------------------------------------- */

static const struct policy_subscriber *
static_sub(const struct policy *p, const struct xcrs_addr *a)
{
	for (size_t i = 0; i < p->nsubscribers; i++)
		if (!memcmp(&p->subscribers[i].addr, a, sizeof(*a)))
			return &p->subscribers[i];
	return NULL;
}

static int pool_of(const struct policy *p, const struct xcrs_addr *a,
		   int *ret_scope)
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
				if (ret_scope)
					*ret_scope = (int)s;
			}
		}
	return lvl;
}

bool agent_is_subscriber(void *ctx, const struct xcrs_addr *a)
{
	struct agent *ag = ctx;

	return static_sub(ag->policy, a) || pool_of(ag->policy, a, NULL) >= 0;
}

int agent_base_level(const struct agent *ag, const struct xcrs_addr *a)
{
	const struct policy_subscriber *s = static_sub(ag->policy, a);

	if (s)
		return (int)s->level;
	return pool_of(ag->policy, a, NULL);
}

static uint32_t scope_id_of(const struct agent *ag, const struct xcrs_addr *a)
{
	int s = corr_scope_of(ag->corr, a);

	return s >= 0 ? ag->policy->scopes[s].id : 0;
}

static void dp_failed(struct agent *ag, const char *what)
{
	ag->counters[C_DATAPLANE_ERRORS]++;
	if (!ag->resyncing)
		log_error("dataplane: %s: %s", what, dp_errmsg(ag->dp));
}

/* A reaction did not fit in the subscriber map: with agent.maps.when_full
 * the dataplane holds every terminal without a host entry at that level
 * until every reaction fits again (capacity_check() ends it). */
static void subs_full(struct agent *ag)
{
	int l = ag->policy->agent.maps.when_full;
	__u64 cap;

	if (l < 0 || ag->subs_full)
		return;
	dp_subs_count(ag->dp, &cap);
	if (dp_fail_closed(ag->dp, true)) {
		log_error("dataplane: %s", dp_errmsg(ag->dp));
		return;
	}
	ag->subs_full = true;
	log_error("subscriber map full (%llu entries): failing closed: every "
		  "terminal without its own entry is held at %s until every "
		  "reaction fits (agent.maps.when_full)",
		  (unsigned long long)cap, ag->policy->levels[l].name);
}

static void resync_one(void *ctx, const struct corr_view *v);

/* Every few seconds: warns once when the subscriber map or the counter
 * slots pass agent.maps.warn_at, and ends failing closed once every
 * reaction has its entry again. */
static void capacity_check(struct agent *ag)
{
	unsigned warn = ag->policy->agent.maps.warn_at;
	__u64 cap, n = dp_subs_count(ag->dp, &cap), scap,
		   sn = dp_slots_used(ag->dp, &scap);
	bool over = cap && n * 100 >= cap * warn,
	     sover = scap && sn * 100 >= scap * warn;

	if (over != ag->subs_warned) {
		if (over)
			log_warn("subscriber map %llu%% full (%llu of %llu "
				 "entries; agent.maps.warn_at %u%%)",
				 (unsigned long long)(n * 100 / cap),
				 (unsigned long long)n, (unsigned long long)cap,
				 warn);
		else
			log_info("subscriber map below %u%% again (%llu of "
				 "%llu entries)",
				 warn, (unsigned long long)n,
				 (unsigned long long)cap);
		ag->subs_warned = over;
	}
	if (sover != ag->slots_warned) {
		if (sover)
			log_warn("per-terminal counter slots %llu%% used (%llu "
				 "of %llu; agent.maps.tracked)",
				 (unsigned long long)(sn * 100 / scap),
				 (unsigned long long)sn,
				 (unsigned long long)scap);
		ag->slots_warned = sover;
	}
	if (ag->subs_full) {
		uint64_t errs = ag->counters[C_DATAPLANE_ERRORS];

		/* try every reaction again; quiet about the ones that still
		 * do not fit (they were logged when they failed first) */
		ag->resyncing = true;
		corr_each_terminal(ag->corr, resync_one, ag);
		ag->resyncing = false;
		if (ag->counters[C_DATAPLANE_ERRORS] == errs) {
			if (dp_fail_closed(ag->dp, false)) {
				log_error("dataplane: %s", dp_errmsg(ag->dp));
				return;
			}
			ag->subs_full = false;
			log_info("every reaction fits the subscriber map again: "
				 "failing closed ends");
		} else {
			ag->counters[C_DATAPLANE_ERRORS] = errs;
		}
	}
}

/* Writes a reacted terminal's host entry. */
static void sync_terminal(struct agent *ag, const struct xcrs_addr *a,
			  unsigned level, uint64_t until, int then_level)
{
	const struct policy_subscriber *st = static_sub(ag->policy, a);
	struct xcrs_sub v = {
		.scope = scope_id_of(ag, a),
		.level = (__u8)level,
		.expires_ns = until,
	};
	char buf[ADDR_STRLEN];
	int r;

	if (!until)
		v.base_level = (__u8)level; /* never expires */
	else if (then_level >= 0)
		v.base_level = (__u8)then_level;
	else if (st)
		v.base_level = (__u8)st->level;
	else
		v.base_level = XCRS_SUB_BASE_NONE;
	r = dp_sub_set(ag->dp, a, &v);
	if (r) {
		addr_format(a, buf, sizeof(buf));
		dp_failed(ag, buf);
	}
	if (r == -E2BIG)
		subs_full(ag);
}

/* A terminal without reactions: its static entry, or no entry. */
static void resync_one(void *ctx, const struct corr_view *v)
{
	sync_terminal(ctx, &v->terminal, v->level, v->until_ns,
		      v->then_level);
}

static void sync_released(struct agent *ag, const struct xcrs_addr *a)
{
	const struct policy_subscriber *st = static_sub(ag->policy, a);
	char buf[ADDR_STRLEN];
	int r;

	if (st) {
		struct xcrs_sub v = {
			.scope = st->scope >= 0 ?
					 ag->policy->scopes[st->scope].id :
					 0,
			.level = (__u8)st->level,
			.base_level = (__u8)st->level,
		};
		r = dp_sub_set(ag->dp, a, &v);
	} else {
		r = dp_sub_del(ag->dp, a);
		if (r == -ENOENT)
			r = 0;
	}
	if (r) {
		addr_format(a, buf, sizeof(buf));
		dp_failed(ag, buf);
	}
}

static void sync_scope(struct agent *ag, int scope, bool contained)
{
	const struct policy_scope *s = &ag->policy->scopes[scope];
	struct xcrs_scope v = {0};

	if (contained) {
		v.mode = agent_scope_mode(ag, scope);
		v.allowed = s->isolate_allowed;
	} else {
		ag->scope_mode[scope] = XCRS_CONTAIN_NONE;
	}
	if (dp_scope_set(ag->dp, s->id, &v))
		dp_failed(ag, s->name);
}

enum xcrs_contain_mode agent_scope_mode(const struct agent *ag, int scope)
{
	return ag->scope_mode[scope] ? ag->scope_mode[scope] :
				       ag->policy->scopes[scope].containment;
}

int agent_scope_contain(struct agent *ag, int scope,
			enum xcrs_contain_mode mode, uint64_t until,
			const char *reason)
{
	uint64_t old_until;
	const char *rule;
	int r;

	ag->scope_mode[scope] = mode;
	r = corr_contain(ag->corr, scope, until, reason, now_mono());
	/* already contained: a new mode still takes effect */
	if (r >= 0 && corr_scope_state(ag->corr, scope, &old_until, &rule) == 1)
		sync_scope(ag, scope, true);
	agent_after_change(ag);
	return r < 0 ? r : 0;
}

static void on_decide(void *ctx, const struct corr_decision *d)
{
	struct agent *ag = ctx;
	json_object *rec = json_object_new_object();
	char buf[ADDR_STRLEN];
	const struct policy *p = ag->policy;
	bool terminal = d->change == CORR_TERMINAL_SET ||
			d->change == CORR_TERMINAL_RELEASED;

	ag->counters[C_DECISIONS]++;
	ag->state_dirty = true;
	if (terminal)
		addr_format(&d->terminal, buf, sizeof(buf));
	switch (d->change) {
	case CORR_TERMINAL_SET:
		ag->counters[C_REACTIONS]++;
		sync_terminal(ag, &d->terminal, d->level, d->until_ns,
			      d->then_level);
		if (ag->input_t0)
			agent_observe_latency(ag, now_mono() - ag->input_t0);
		audit_add_str(rec, "event", "react");
		audit_add_str(rec, "level", p->levels[d->level].name);
		audit_add_until(rec, d->until_ns);
		if (d->until_ns)
			audit_add_str(rec, "then",
				      d->then_level >= 0 ?
					      p->levels[d->then_level].name :
					      "base");
		log_info("%s -> %s (rule %s: %s)", buf,
			 p->levels[d->level].name, d->rule, d->why);
		break;
	case CORR_TERMINAL_RELEASED:
		ag->counters[C_RELEASES]++;
		sync_released(ag, &d->terminal);
		audit_add_str(rec, "event", "release");
		log_info("%s released (%s: %s)", buf, d->rule, d->why);
		break;
	case CORR_SCOPE_CONTAINED:
		ag->counters[C_CONTAINS]++;
		sync_scope(ag, d->scope, true);
		audit_add_str(rec, "event", "contain");
		audit_add_str(rec, "mode",
			      dp_contain_to_string(
				      agent_scope_mode(ag, d->scope)));
		audit_add_until(rec, d->until_ns);
		log_info("scope %s contained (rule %s: %s)",
			 p->scopes[d->scope].name, d->rule, d->why);
		update_start(ag, d->rule, d->scope);
		break;
	case CORR_SCOPE_RELEASED:
		ag->counters[C_UNCONTAINS]++;
		sync_scope(ag, d->scope, false);
		audit_add_str(rec, "event", "uncontain");
		log_info("scope %s released (%s: %s)",
			 p->scopes[d->scope].name, d->rule, d->why);
		break;
	}
	if (terminal)
		audit_add_str(rec, "terminal", buf);
	if (d->scope >= 0 && (size_t)d->scope < p->nscopes)
		audit_add_str(rec, "scope", p->scopes[d->scope].name);
	audit_add_str(rec, "rule", d->rule);
	audit_add_str(rec, "evidence", d->why);
	agent_audit(ag, rec);
	if (terminal && !(ag->answering &&
			  !memcmp(ag->answering, &d->terminal,
				  sizeof(d->terminal))))
		ag->counters[C_NOTICES_SENT] +=
			(uint64_t)reports_notify(ag, &d->terminal);
}

/* ---- SCI response contents ---------------------------------------------------- */

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

void agent_describe(struct agent *ag, const struct xcrs_addr *a,
		    const char *ms, const char *evaluation,
		    struct crsap_response *r)
{
	const struct policy *p = ag->policy;
	struct corr_view v;
	bool reacted;

	memset(r, 0, sizeof(*r));
	snprintf(r->ms, sizeof(r->ms), "%s", ms);
	r->time_ms = now_real_ms();
	if (crsap_nonce(r->nonce))
		memset(r->nonce, '0', CRSAP_NONCE_HEX);
	snprintf(r->evaluation, sizeof(r->evaluation), "%s", evaluation);
	reacted = corr_terminal(ag->corr, a, &v) == 0;
	if (reacted) {
		describe_level(p, (int)v.level, r);
		r->until_ms = v.until_ns ? mono_to_real_ms(v.until_ns) : 0;
		snprintf(r->rule, sizeof(r->rule), "%s", v.rule);
		snprintf(r->reason, sizeof(r->reason), "%s", v.why);
		add_action(r, "scan");
		add_action(r, "update");
		add_action(r, "report-when-clean");
	} else {
		describe_level(p, agent_base_level(ag, a), r);
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
			agent_service_rule(s, j,
					   &r->remediation[r->nremediation++]);
	}
}

void agent_service_rule(const struct policy_service *s, size_t j,
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

/* ---- state file ------------------------------------------------------------ */

/*
 * {"version": 1, "saved": "...", "reactions": [{"terminal", "rule",
 *  "level", "until_ms" (Unix ms, 0 = until released), "release_on_clean",
 *  "why"}], "scopes": [{"scope", "rule", "mode", "until_ms"}]}
 * Written to a temporary file, fsync'd and renamed over the old one, so a
 * crash leaves the old state or the new, never half of one.
 */
struct save_ctx {
	struct agent *ag;
	json_object *arr;
};

static void save_reaction(void *ctx, const struct corr_saved *s)
{
	struct save_ctx *sc = ctx;
	json_object *o = json_object_new_object();
	char buf[ADDR_STRLEN];

	addr_format(&s->terminal, buf, sizeof(buf));
	json_object_object_add(o, "terminal", json_object_new_string(buf));
	json_object_object_add(o, "rule", json_object_new_string(s->rule));
	json_object_object_add(
		o, "level",
		json_object_new_string(sc->ag->policy->levels[s->level].name));
	json_object_object_add(
		o, "until_ms",
		json_object_new_int64(
			s->until_ns ? (int64_t)mono_to_real_ms(s->until_ns) : 0));
	json_object_object_add(o, "release_on_clean",
			       json_object_new_boolean(s->release_on_clean));
	json_object_object_add(o, "why", json_object_new_string(s->why));
	json_object_array_add(sc->arr, o);
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int state_save(struct agent *ag)
{
	const char *path = ag->policy->agent.state_file;
	json_object *root = json_object_new_object(), *scopes;
	struct save_ctx sc = {ag, json_object_new_array()};
	char tmp[300], ts[40], *dir, dbuf[256];
	const char *text;
	int fd, r = 0;

	fmt_time_ms(now_real_ms(), ts, sizeof(ts));
	json_object_object_add(root, "version",
			       json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "saved", json_object_new_string(ts));
	corr_each_reaction(ag->corr, save_reaction, &sc);
	json_object_object_add(root, "reactions", sc.arr);
	scopes = json_object_new_array();
	for (size_t i = 0; i < ag->policy->nscopes; i++) {
		uint64_t until;
		const char *rule;
		json_object *o;

		if (corr_scope_state(ag->corr, (int)i, &until, &rule) != 1)
			continue;
		o = json_object_new_object();
		json_object_object_add(
			o, "scope",
			json_object_new_string(ag->policy->scopes[i].name));
		json_object_object_add(o, "rule", json_object_new_string(rule));
		json_object_object_add(
			o, "mode",
			json_object_new_string(dp_contain_to_string(
				agent_scope_mode(ag, (int)i))));
		json_object_object_add(
			o, "until_ms",
			json_object_new_int64(
				until ? (int64_t)mono_to_real_ms(until) : 0));
		json_object_array_add(scopes, o);
	}
	json_object_object_add(root, "scopes", scopes);
	json_object_object_add(root, "prefixes", prefixes_json(ag, true));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
	} else {
		r = write_all(fd, text, strlen(text));
		if (!r)
			r = write_all(fd, "\n", 1);
		if (!r && fsync(fd))
			r = -errno;
		close(fd);
		if (!r && rename(tmp, path))
			r = -errno;
	}
	json_object_put(root);
	if (r) {
		log_error("state file %s: %s (decisions stay in force)", path,
			  strerror(-r));
		unlink(tmp);
		return r;
	}
	snprintf(dbuf, sizeof(dbuf), "%s", path);
	dir = dirname(dbuf);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	ag->state_dirty = false;
	return 0;
}

static int jget(json_object *o, const char *k, enum json_type t,
		json_object **v)
{
	return json_object_object_get_ex(o, k, v) && json_object_is_type(*v, t) ?
		       0 :
		       -1;
}

/* Restores what the state file holds. A file that cannot be read or
 * understood stops the start: starting without it would fail open. */
static int state_load(struct agent *ag, char *err, size_t errlen)
{
	const char *path = ag->policy->agent.state_file;
	json_object *root, *arr, *v;
	int ver, restored = 0, dropped = 0;

	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	root = json_object_from_file(path);
	if (!root || !json_object_is_type(root, json_type_object) ||
	    jget(root, "version", json_type_int, &v) ||
	    (ver = json_object_get_int(v)) != STATE_VERSION ||
	    jget(root, "reactions", json_type_array, &arr)) {
		snprintf(err, errlen,
			 "state file %s: unreadable or not an xcrs state file "
			 "(version %d); move it away to start without the "
			 "saved decisions", path, STATE_VERSION);
		json_object_put(root);
		return -EINVAL;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *t, *ru,
			    *lv, *un, *roc, *why;
		struct xcrs_addr a;
		int level;
		int64_t until;

		if (jget(o, "terminal", json_type_string, &t) ||
		    jget(o, "rule", json_type_string, &ru) ||
		    jget(o, "level", json_type_string, &lv) ||
		    jget(o, "until_ms", json_type_int, &un) ||
		    jget(o, "release_on_clean", json_type_boolean, &roc) ||
		    jget(o, "why", json_type_string, &why) ||
		    addr_parse(json_object_get_string(t), &a)) {
			snprintf(err, errlen,
				 "state file %s: reaction %zu is malformed",
				 path, i);
			json_object_put(root);
			return -EINVAL;
		}
		level = policy_level_index(ag->policy,
					   json_object_get_string(lv));
		if (level < 0) {
			log_warn("state file: level \"%s\" of %s is not in "
				 "the policy any more: reaction dropped",
				 json_object_get_string(lv),
				 json_object_get_string(t));
			dropped++;
			continue;
		}
		until = json_object_get_int64(un);
		if (corr_restore(ag->corr, &a, json_object_get_string(ru),
				 (unsigned)level,
				 until > 0 ? real_ms_to_mono((uint64_t)until) :
					     0,
				 json_object_get_boolean(roc),
				 json_object_get_string(why))) {
			snprintf(err, errlen, "state file %s: out of memory",
				 path);
			json_object_put(root);
			return -ENOMEM;
		}
		restored++;
	}
	if (!jget(root, "scopes", json_type_array, &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i), *sn,
				    *ru, *un, *md;
			int s;
			int64_t until;

			if (jget(o, "scope", json_type_string, &sn) ||
			    jget(o, "rule", json_type_string, &ru) ||
			    jget(o, "until_ms", json_type_int, &un)) {
				snprintf(err, errlen,
					 "state file %s: scope %zu is "
					 "malformed", path, i);
				json_object_put(root);
				return -EINVAL;
			}
			s = policy_scope_index(ag->policy,
					       json_object_get_string(sn));
			if (s < 0) {
				log_warn("state file: scope \"%s\" is not in "
					 "the policy any more",
					 json_object_get_string(sn));
				continue;
			}
			if (!jget(o, "mode", json_type_string, &md)) {
				const char *m = json_object_get_string(md);

				ag->scope_mode[s] = !strcmp(m, "isolate") ?
							XCRS_CONTAIN_ISOLATE :
						!strcmp(m, "no-lateral") ?
							XCRS_CONTAIN_NO_LATERAL :
							XCRS_CONTAIN_NONE;
			}
			until = json_object_get_int64(un);
			corr_restore_scope(ag->corr, s,
					   json_object_get_string(ru),
					   until > 0 ?
						   real_ms_to_mono(
							   (uint64_t)until) :
						   0);
			restored++;
		}
	if (!jget(root, "prefixes", json_type_array, &arr)) {
		int r = prefixes_restore(ag, arr, err, errlen);

		if (r) {
			char e2[300];

			snprintf(e2, sizeof(e2), "%s", err);
			snprintf(err, errlen, "state file %s: %s", path, e2);
			json_object_put(root);
			return r;
		}
		restored += (int)ag->npdecs;
	}
	json_object_put(root);
	log_info("state file %s: %d decisions restored%s", path, restored,
		 dropped ? " (some dropped, see above)" : "");
	return 0;
}

/* ---- applying a policy ---------------------------------------------------- */

static void sync_view(void *ctx, const struct corr_view *v)
{
	sync_terminal(ctx, &v->terminal, v->level, v->until_ns,
		      v->then_level);
}

/* Tables atomically, then static subscribers (those with a reaction keep
 * the reaction's entry), then every reaction and containment. */
static int apply_all(struct agent *ag, const struct policy *old, char *err,
		     size_t errlen)
{
	const struct policy *p = ag->policy;
	struct dp_policy dpp;
	int r;

	r = apply_build(p, &dpp);
	if (r) {
		snprintf(err, errlen, "out of memory");
		return r;
	}
	r = dp_policy_apply(ag->dp, &dpp);
	apply_build_free(&dpp);
	if (r) {
		snprintf(err, errlen, "%s: %s", p->file, dp_errmsg(ag->dp));
		return r;
	}
	for (size_t i = 0; old && i < old->nsubscribers; i++) {
		const struct xcrs_addr *a = &old->subscribers[i].addr;
		struct corr_view v;

		if (!static_sub(p, a) && corr_terminal(ag->corr, a, &v))
			sync_released(ag, a);
	}
	for (size_t i = 0; i < p->nsubscribers; i++) {
		struct corr_view v;

		if (corr_terminal(ag->corr, &p->subscribers[i].addr, &v))
			sync_released(ag, &p->subscribers[i].addr);
	}
	corr_each_terminal(ag->corr, sync_view, ag);
	for (size_t i = 0; i < p->nscopes; i++) {
		uint64_t until;
		const char *rule;

		sync_scope(ag, (int)i,
			   corr_scope_state(ag->corr, (int)i, &until, &rule) ==
				   1);
	}
	/* scopes of the old policy that are gone */
	for (size_t i = 0; old && i < old->nscopes; i++)
		if (policy_scope_by_id(p, old->scopes[i].id) < 0) {
			struct xcrs_scope none = {0};

			dp_scope_set(ag->dp, old->scopes[i].id, &none);
		}
	return 0;
}

/* The old policy's entry for interface name, or NULL. */
static const struct policy_interface *old_if(const struct policy *old,
					     const char *name)
{
	for (size_t i = 0; old && i < old->ninterfaces; i++)
		if (!strcmp(old->interfaces[i].name, name))
			return &old->interfaces[i];
	return NULL;
}

/* At start (old NULL) every interface gets this binary's program: a
 * program attached by an earlier agent (an older version) is replaced in
 * place. At a reload, interfaces that left the policy are detached, a
 * changed role or GTP-U setting is replaced in place, and a changed mode
 * (native/generic) is detached and attached again. */
static int attach_interfaces(struct agent *ag, const struct policy *old,
			     char *err, size_t errlen)
{
	const struct policy *p = ag->policy;

	for (size_t i = 0; old && i < old->ninterfaces; i++) {
		const struct policy_interface *o = &old->interfaces[i],
					      *n = NULL;

		for (size_t j = 0; j < p->ninterfaces; j++)
			if (!strcmp(o->name, p->interfaces[j].name))
				n = &p->interfaces[j];
		if (n && n->mode == o->mode)
			continue;
		if (dp_attached(ag->dp, o->name) == 1 &&
		    dp_detach(ag->dp, o->name))
			log_warn("%s", dp_errmsg(ag->dp));
	}
	for (size_t i = 0; i < p->ninterfaces; i++) {
		const struct policy_interface *in = &p->interfaces[i],
					      *was = old_if(old, in->name);
		struct dp_attach_opts o = {
			.role = in->role,
			.mode = in->mode == POLICY_MODE_GENERIC ? DP_MODE_SKB :
								  DP_MODE_NATIVE,
			.allow_fallback = in->mode == POLICY_MODE_NATIVE_OR_GENERIC,
			.no_gtpu = !in->gtpu,
			.spread = (enum xcrs_spread)in->spread,
			.spread_cpus = in->spread_cpus,
			.nspread_cpus = in->nspread_cpus,
		};

		if (was && was->role == in->role && was->mode == in->mode &&
		    was->gtpu == in->gtpu && was->spread == in->spread &&
		    was->nspread_cpus == in->nspread_cpus &&
		    !memcmp(was->spread_cpus, in->spread_cpus,
			    sizeof(in->spread_cpus)))
			continue;
		if (dp_attach(ag->dp, in->name, &o)) {
			snprintf(err, errlen, "%s", dp_errmsg(ag->dp));
			return -1;
		}
	}
	return 0;
}

static bool same_paths(const struct policy *a, const struct policy *b)
{
	return !memcmp(&a->agent, &b->agent, sizeof(a->agent));
}

static bool same_inputs(const struct policy *a, const struct policy *b)
{
	if (a->ninputs != b->ninputs ||
	    memcmp(&a->reports, &b->reports, sizeof(a->reports)))
		return false;
	for (size_t i = 0; i < a->ninputs; i++)
		if (a->inputs[i].kind != b->inputs[i].kind ||
		    strcmp(a->inputs[i].path, b->inputs[i].path))
			return false;
	return true;
}

/* The operator's containment modes, carried to p's scopes by name. */
static enum xcrs_contain_mode *remap_modes(const struct agent *ag,
					   const struct policy *p)
{
	const struct policy *old = ag->policy;
	enum xcrs_contain_mode *m = calloc(p->nscopes + 1, sizeof(*m));

	for (size_t i = 0; m && i < old->nscopes; i++) {
		int j = policy_scope_index(p, old->scopes[i].name);

		if (j >= 0)
			m[j] = ag->scope_mode[i];
	}
	return m;
}

int agent_reload(struct agent *ag, char *err, size_t errlen)
{
	struct policy *np = NULL, *old = ag->policy;
	struct policy_error perr;
	struct crsap_keyring *keys = NULL;
	enum xcrs_contain_mode *modes, *old_modes;
	json_object *rec;
	int r;

	ag->counters[C_RELOADS]++;
	r = policy_load(ag->policy_path, &np, &perr);
	if (r) {
		snprintf(err, errlen, "%s", perr.msg);
		goto refused;
	}
	if (!same_paths(old, np)) {
		snprintf(err, errlen,
			 "%s: the agent section (pin_dir, sockets, state and "
			 "audit files, map sizes) changed: restart the agent "
			 "to change it",
			 ag->policy_path);
		r = -EINVAL;
		goto refused;
	}
	if (np->reports.enabled) {
		r = crsap_keyring_load(np->reports.keys_file, &keys, err,
				       errlen);
		if (r)
			goto refused;
	}
	r = peers_check(np, err, errlen);
	if (r)
		goto refused;
	/* what the dataplane would refuse is refused before anything moves */
	{
		struct dp_policy dpp;

		r = apply_build(np, &dpp);
		if (!r) {
			r = dp_policy_check(ag->dp, &dpp);
			apply_build_free(&dpp);
		}
		if (r) {
			snprintf(err, errlen, "%s: %s", np->file,
				 r == -ENOMEM ? "out of memory" :
						dp_errmsg(ag->dp));
			goto refused;
		}
	}
	modes = remap_modes(ag, np);
	if (!modes) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto refused;
	}
	/* The engine moves first (it may release reactions whose level is
	 * gone, which needs the new policy for the dataplane entries); if
	 * the dataplane refuses the tables, it moves back. */
	ag->policy = np;
	old_modes = ag->scope_mode;
	ag->scope_mode = modes;
	r = corr_set_policy(ag->corr, np, now_mono());
	if (r >= 0)
		r = apply_all(ag, old, err, errlen);
	if (r < 0) {
		ag->policy = old;
		ag->scope_mode = old_modes;
		free(modes);
		corr_set_policy(ag->corr, old, now_mono());
		apply_all(ag, np, err + strlen(err), errlen - strlen(err));
		goto refused;
	}
	prefixes_sync(ag); /* levels by name; never_react may have grown */
	if (peers_set_policy(ag, np, err, errlen))
		log_error("reload: %s (roaming keeps the peers it had)", err);
	r = attach_interfaces(ag, old, err, errlen);
	if (r)
		log_error("reload: %s (the new policy is in force on the "
			  "interfaces already attached)", err);
	if (!same_inputs(old, np))
		log_warn("reload: inputs and the reports listener changed: "
			 "the change takes effect when the agent restarts");
	crsap_keyring_free(ag->keys);
	ag->keys = keys;
	free(old_modes);
	policy_free(old);
	ag->state_dirty = true;
	rec = json_object_new_object();
	audit_add_str(rec, "event", "reload");
	audit_add_str(rec, "policy", ag->policy_path);
	agent_audit(ag, rec);
	log_info("policy %s reloaded", ag->policy_path);
	agent_after_change(ag);
	return 0;
refused:
	ag->counters[C_RELOADS_FAILED]++;
	crsap_keyring_free(keys);
	policy_free(np);
	rec = json_object_new_object();
	audit_add_str(rec, "event", "reload-refused");
	audit_add_str(rec, "policy", ag->policy_path);
	audit_add_str(rec, "error", err);
	agent_audit(ag, rec);
	log_error("reload refused, the running policy stays: %s", err);
	return r < 0 ? r : -EINVAL;
}

/* ---- loop handlers -------------------------------------------------------- */

void agent_never_refused(struct agent *ag, const struct xcrs_addr *a,
			 const char *what)
{
	int i = policy_never_react(ag->policy, a);
	json_object *rec = json_object_new_object();
	char buf[ADDR_STRLEN];

	addr_format(a, buf, sizeof(buf));
	ag->counters[C_NEVER_REFUSED]++;
	log_warn("%s: %s refused: on the never_react list (%s)", buf, what,
		 i >= 0 ? ag->policy->never[i].name : "?");
	audit_add_str(rec, "event", "refused");
	audit_add_str(rec, "target", buf);
	audit_add_str(rec, "what", what);
	audit_add_str(rec, "never_react", i >= 0 ? ag->policy->never[i].name :
						   "");
	agent_audit(ag, rec);
}

int agent_ingest(struct agent *ag, const struct corr_event *ev)
{
	int r = corr_ingest(ag->corr, ev, now_mono());

	if (r == -EPERM)
		agent_never_refused(ag, &ev->terminal, ev->source[0] ?
							ev->source : "event");
	agent_after_change(ag);
	return r;
}

void agent_after_change(struct agent *ag)
{
	uint64_t next = corr_next_deadline(ag->corr);
	struct itimerspec its = {0};

	if (next) {
		its.it_value.tv_sec = (time_t)(next / 1000000000ull);
		its.it_value.tv_nsec = (long)(next % 1000000000ull);
	}
	/* all zero disarms */
	if (timerfd_settime(ag->timer.fd, TFD_TIMER_ABSTIME, &its, NULL))
		log_error("timerfd: %s", strerror(errno));
	/* The state file is rewritten (and fsync'd) at most every
	 * STATE_SAVE_MS: a burst of decisions costs one write, and the loop
	 * does not wait for the disk between them. Enforcement is already in
	 * the (pinned) maps when this runs. */
	if (ag->state_dirty && !ag->state_save_armed) {
		struct itimerspec sv = {
			.it_value = { 0, STATE_SAVE_MS * 1000000L },
		};

		if (timerfd_settime(ag->state_timer.fd, 0, &sv, NULL))
			state_save(ag);
		else
			ag->state_save_armed = true;
	}
}

static void on_state_timer(struct agent *ag, struct watch *w,
			   uint32_t events)
{
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("timerfd: %s", strerror(errno));
	ag->state_save_armed = false;
	if (ag->state_dirty)
		state_save(ag);
}

static void on_timer(struct agent *ag, struct watch *w, uint32_t events)
{
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("timerfd: %s", strerror(errno));
	corr_tick(ag->corr, now_mono());
	agent_after_change(ag);
}

static void on_housekeeping(struct agent *ag, struct watch *w,
			    uint32_t events)
{
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("timerfd: %s", strerror(errno));
	reports_housekeeping(ag);
	ms_housekeeping(ag);
	metrics_housekeeping(ag);
	capacity_check(ag);
	prefixes_housekeeping(ag);
}

static void on_signal(struct agent *ag, struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;
	char err[1024];

	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: reloading %s", ag->policy_path);
			agent_reload(ag, err, sizeof(err));
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping (XDP programs and decisions stay "
				 "in force)", strsignal((int)si.ssi_signo));
			ag->running = false;
			break;
		}
	}
}

static void on_dp_event(void *ctx, const struct xcrs_event *e)
{
	struct agent *ag = ctx;
	struct corr_event ev = {
		.kind = CORR_EV_FANOUT,
		.terminal = e->addr,
	};
	char buf[ADDR_STRLEN];

	if (e->type == XCRS_EV_CONNECT) {
		ms_connect(ag, &e->addr, "first-traffic");
		return;
	}
	if (e->type != XCRS_EV_FANOUT)
		return;
	ag->counters[C_FANOUT]++;
	addr_format(&e->addr, buf, sizeof(buf));
	snprintf(ev.detail, sizeof(ev.detail),
		 "%u distinct peers within %" PRIu64 " ms", e->count,
		 (uint64_t)e->window_ns / 1000000);
	snprintf(ev.source, sizeof(ev.source), "dataplane");
	log_info("fan-out: %s reached %s", buf, ev.detail);
	agent_ingest(ag, &ev);
}

static void on_dp_events(struct agent *ag, struct watch *w, uint32_t events)
{
	if (dp_events_poll(ag->dp, 0) < 0)
		dp_failed(ag, "events");
}

static void on_control(struct agent *ag, struct watch *w, uint32_t events)
{
	lclient_accept(ag, w->fd, IN_CONTROL, "control", NULL);
}

/* ---- start-up ------------------------------------------------------------- */

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

static int setup_loop(struct agent *ag, char *err, size_t errlen)
{
	sigset_t set;
	struct itimerspec hk = {
		.it_interval = {HOUSEKEEPING_S, 0},
		.it_value = {HOUSEKEEPING_S, 0},
	};
	int fd;

	ag->epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ag->epfd < 0 || fd < 0 ||
	    watch_add(ag, &ag->sig, fd, EPOLLIN, on_signal))
		goto fail;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || watch_add(ag, &ag->timer, fd, EPOLLIN, on_timer))
		goto fail;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || timerfd_settime(fd, 0, &hk, NULL) ||
	    watch_add(ag, &ag->housekeeping, fd, EPOLLIN, on_housekeeping))
		goto fail;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 ||
	    watch_add(ag, &ag->state_timer, fd, EPOLLIN, on_state_timer))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "setting up the event loop: %s",
		 strerror(errno));
	return -errno;
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
"                     it names), print \"FILE: ok\", exit; changes nothing\n"
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
"restarted agent resumes from the state file.\n"
"\n"
"Exit status: 0 stopped by a signal or check passed; 1 the policy, state\n"
"file, dataplane or an input could not be set up (the message says which);\n"
"2 usage error.\n");
}

static int check_only(struct policy *p)
{
	char err[1024];
	struct crsap_keyring *kr = NULL;
	struct dp_policy dpp;
	SSL_CTX *ctx;

	if (apply_build(p, &dpp)) {
		log_error("%s: out of memory", p->file);
		return 1;
	}
	apply_build_free(&dpp);
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

static int start(struct agent *ag, char *err, size_t errlen)
{
	struct dp_config cfg = dp_config_of(ag->policy);
	const struct policy_agent *pa = &ag->policy->agent;
	json_object *rec;
	int r;

	if ((r = mkdirs_for(pa->control_socket)) ||
	    (r = mkdirs_for(pa->state_file)) || (r = mkdirs_for(pa->audit_log))) {
		snprintf(err, errlen, "creating the agent's directories: %s",
			 strerror(-r));
		return r;
	}
	ag->audit_fd = open(pa->audit_log,
			    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (ag->audit_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "audit log %s: %s", pa->audit_log,
			 strerror(errno));
		return r;
	}
	if (ag->policy->reports.enabled &&
	    (r = crsap_keyring_load(ag->policy->reports.keys_file, &ag->keys,
				    err, errlen)))
		return r;
	if ((r = crsap_replay_new(1u << 18, &ag->replay)))
		return r;
	if ((r = mstab_init(&ag->ms)))
		return r;
	ag->scope_mode = calloc(ag->policy->nscopes + 1,
				sizeof(*ag->scope_mode));
	if (!ag->scope_mode)
		return -ENOMEM;
	r = corr_new(ag->policy, on_decide, ag, &ag->corr);
	if (r) {
		snprintf(err, errlen, "correlation engine: %s", strerror(-r));
		return r;
	}
	if ((r = state_load(ag, err, errlen)))
		return r;
	if ((r = dp_open(&cfg, &ag->dp, err, errlen)))
		return r;
	log_info("dataplane maps under %s (%s)", pa->pin_dir,
		 dp_reused_pins(ag->dp) ? "reused" : "created");
	{
		/* an earlier agent was failing closed: go on until every
		 * reaction fits (capacity_check), unless the policy no
		 * longer wants it */
		__u32 rt = 0;

		if (dp_runtime_get(ag->dp, &rt) == 0 &&
		    (rt & XCRS_RT_SUBS_FULL)) {
			if (ag->policy->agent.maps.when_full >= 0)
				ag->subs_full = true;
			else
				dp_fail_closed(ag->dp, false);
		}
	}
	/* the policy before the program: an attached program without one
	 * drops everything */
	if ((r = apply_all(ag, NULL, err, errlen)))
		return r;
	prefixes_sync(ag);
	if ((r = attach_interfaces(ag, NULL, err, errlen)) ||
	    (r = setup_loop(ag, err, errlen)))
		return r;
	if ((r = dp_events_subscribe(ag->dp, on_dp_event, ag)) ||
	    (r = watch_add(ag, &ag->dp_events, dp_events_fd(ag->dp), EPOLLIN,
			   on_dp_events))) {
		snprintf(err, errlen, "%s", dp_errmsg(ag->dp));
		return r;
	}
	r = unix_listen(pa->control_socket, 0600, err, errlen);
	if (r < 0)
		return r;
	if ((r = watch_add(ag, &ag->control, r, EPOLLIN, on_control)) ||
	    (r = inputs_open(ag, err, errlen)) ||
	    (r = reports_open(ag, err, errlen)) ||
	    (r = gbakeys_open(ag, &ag->gba, err, errlen)) ||
	    (r = ms_probe_open(ag, err, errlen)) ||
	    (r = peers_open(ag, err, errlen)) ||
	    (r = metrics_open(ag, err, errlen)))
		return r;
	ag->state_dirty = true;
	rec = json_object_new_object();
	audit_add_str(rec, "event", "start");
	audit_add_str(rec, "policy", ag->policy_path);
	agent_audit(ag, rec);
	agent_after_change(ag);
	/* a reaction that expired while the agent was down ends now */
	corr_tick(ag->corr, now_mono());
	agent_after_change(ag);
	return 0;
}

static void stop(struct agent *ag)
{
	metrics_close(ag);
	reports_close(ag);
	gbakeys_close(ag, ag->gba);
	ag->gba = NULL;
	ms_probe_close(ag);
	peers_close(ag);
	inputs_close(ag);
	clients_close(ag);
	if (ag->control.fd >= 0) {
		watch_close(ag, &ag->control);
		unlink(ag->policy->agent.control_socket);
	}
	if (ag->corr && ag->state_dirty)
		state_save(ag);
	if (ag->epfd >= 0)
		close(ag->epfd);
	corr_free(ag->corr);
	prefixes_free(ag);
	dp_close(ag->dp);
	crsap_keyring_free(ag->keys);
	crsap_replay_free(ag->replay);
	mstab_free(&ag->ms);
	updates_free(ag);
	if (ag->audit_fd >= 0)
		close(ag->audit_fd);
	free(ag->scope_mode);
	policy_free(ag->policy);
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
	struct agent ag = {
		.epfd = -1,
		.audit_fd = -1,
		.sig.fd = -1,
		.timer.fd = -1,
		.housekeeping.fd = -1,
		.state_timer.fd = -1,
		.probe_timer.fd = -1,
		.probe_fd = -1,
		.dp_events.fd = -1,
		.control.fd = -1,
		.reports.fd = -1,
	};
	struct policy_error perr;
	bool check = false, detach = false;
	int lvl = LOG_LVL_INFO, c, rc;
	char err[1024] = "";

	log_set_ident("xcrs-agent");
	while ((c = getopt_long(argc, argv, "c:tvqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ag.policy_path = optarg;
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
	if (!ag.policy_path || optind != argc || (check && detach)) {
		fprintf(stderr, "xcrs-agent: %s\n",
			!ag.policy_path ? "-c FILE is required" :
			optind != argc	? "unexpected argument" :
					  "--check and --detach exclude each other");
		usage(stderr);
		return 2;
	}
	log_set_level(lvl > LOG_LVL_VERBOSE ? LOG_LVL_VERBOSE : lvl);
	dp_log_hook();
	if (policy_load(ag.policy_path, &ag.policy, &perr)) {
		log_error("%s", perr.msg);
		return 1;
	}
	if (check || detach) {
		rc = check ? check_only(ag.policy) : detach_only(ag.policy);
		policy_free(ag.policy);
		return rc;
	}
	ag.started_mono = now_mono();
	ag.started_real_ms = now_real_ms();
	if (start(&ag, err, sizeof(err))) {
		log_error("%s", err);
		stop(&ag);
		return 1;
	}
	log_info("ready: policy %s, %zu interface(s), control %s",
		 ag.policy_path, ag.policy->ninterfaces,
		 ag.policy->agent.control_socket);
	ag.running = true;
	while (ag.running) {
		struct epoll_event evs[32];
		int n = epoll_wait(ag.epfd, evs, 32, -1);

		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n && ag.running; i++) {
			struct watch *w = evs[i].data.ptr;

			w->fn(&ag, w, evs[i].events);
		}
		inputs_reap(&ag);
	}
	stop(&ag);
	return 0;
}
