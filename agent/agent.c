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
#include "authclient.h"
#include "config.h"
#include "events.h"
#include "gbakeys.h"
#include "log.h"

#define STATE_VERSION 1
#define HOUSEKEEPING_S 5

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

/* ---- subscribers ------------------------------------------------------------ */

bool agent_is_subscriber(void *ctx, const struct xcrs_addr *a)
{
	struct agent *ag = ctx;

	return policy_static_sub(ag->policy, a) ||
	       policy_pool_level(ag->policy, a) >= 0;
}

int agent_base_level(const struct agent *ag, const struct xcrs_addr *a)
{
	return policy_base_level(ag->policy, a);
}

/* Decisions reach the terminal: a notice on each of its open report
 * connections, unless its own report is being answered (the answer says
 * it). */
static void notify_terminal(void *ctx, const struct xcrs_addr *a)
{
	struct agent *ag = ctx;

	if (ag->answering && !memcmp(ag->answering, a, sizeof(*a)))
		return;
	ag->counters[C_NOTICES_SENT] += (uint64_t)reports_notify(ag, a);
}

static void start_campaign(void *ctx, const char *rule, int scope)
{
	update_start(ctx, rule, scope);
}

void agent_stats(const struct agent *ag, uint64_t c[C_MAX])
{
	const struct decide_report *d = decide_report(ag->dec);

	memcpy(c, ag->counters, sizeof(ag->counters));
	c[C_DECISIONS] = d->decisions;
	c[C_REACTIONS] = d->reactions;
	c[C_RELEASES] = d->releases;
	c[C_CONTAINS] = d->contains;
	c[C_UNCONTAINS] = d->uncontains;
	c[C_NEVER_REFUSED] = d->never_refused;
	c[C_DATAPLANE_ERRORS] = ag->counters[C_DATAPLANE_ERRORS] +
				enf_report(ag->enf)->errors;
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
	reacted = corr_terminal(decide_engine(ag->dec), a, &v) == 0;
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

/* ---- reload ----------------------------------------------------------------- */

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

int agent_reload(struct agent *ag, char *err, size_t errlen)
{
	struct policy *np = NULL, *old = ag->policy;
	struct policy_error perr;
	struct crsap_keyring *keys = NULL;
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
	r = enf_tables_check(ag->enf, np, err, errlen);
	if (r)
		goto refused;
	/* the ports (notices) describe decisions with the new policy */
	ag->policy = np;
	r = decide_set_policy(ag->dec, np, now_mono(), err, errlen);
	if (r < 0) {
		ag->policy = old;
		goto refused;
	}
	r = enf_interfaces(ag->enf, old, err, errlen);
	if (r)
		log_error("reload: %s (the new policy is in force on the "
			  "interfaces already attached)", err);
	if (peers_set_policy(ag, np, err, errlen))
		log_error("reload: %s (roaming keeps the peers it had)", err);
	if (!same_inputs(old, np))
		log_warn("reload: inputs and the reports listener changed: "
			 "the change takes effect when the agent restarts");
	crsap_keyring_free(ag->keys);
	ag->keys = keys;
	policy_free(old);
	rec = json_object_new_object();
	audit_add_str(rec, "event", "reload");
	audit_add_str(rec, "policy", ag->policy_path);
	audit_write(ag->audit, rec);
	log_info("policy %s reloaded", ag->policy_path);
	return 0;
refused:
	ag->counters[C_RELOADS_FAILED]++;
	crsap_keyring_free(keys);
	policy_free(np);
	rec = json_object_new_object();
	audit_add_str(rec, "event", "reload-refused");
	audit_add_str(rec, "policy", ag->policy_path);
	audit_add_str(rec, "error", err);
	audit_write(ag->audit, rec);
	log_error("reload refused, the running policy stays: %s", err);
	return r < 0 ? r : -EINVAL;
}

/* ---- loop handlers -------------------------------------------------------- */

int agent_ingest(struct agent *ag, const struct corr_event *ev)
{
	return decide_ingest(ag->dec, ev, now_mono(), ag->input_t0);
}

void agent_after_change(struct agent *ag)
{
	uint64_t next = decide_next_deadline(ag->dec);
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
	if (decide_dirty(ag->dec) && !ag->state_save_armed) {
		struct itimerspec sv = {
			.it_value = { 0, STATE_SAVE_MS * 1000000L },
		};

		if (timerfd_settime(ag->state_timer.fd, 0, &sv, NULL))
			decide_save(ag->dec);
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
	if (decide_dirty(ag->dec))
		decide_save(ag->dec);
}

static void on_timer(struct agent *ag, struct watch *w, uint32_t events)
{
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("timerfd: %s", strerror(errno));
	decide_tick(ag->dec, now_mono());
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
	decide_housekeeping(ag->dec, now_mono());
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
	if (dp_events_poll(ag->dp, 0) < 0) {
		ag->counters[C_DATAPLANE_ERRORS]++;
		log_error("dataplane: events: %s", dp_errmsg(ag->dp));
	}
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
	const struct decide_port notices = { .terminal_changed =
						     notify_terminal,
					     .ctx = ag },
				 campaigns = { .scope_contained =
						       start_campaign,
					       .ctx = ag };
	json_object *rec;
	int r;

	if ((r = mkdirs_for(pa->control_socket)) ||
	    (r = mkdirs_for(pa->state_file)) || (r = mkdirs_for(pa->audit_log))) {
		snprintf(err, errlen, "creating the agent's directories: %s",
			 strerror(-r));
		return r;
	}
	r = audit_open(pa->audit_log, &ag->audit);
	if (r) {
		snprintf(err, errlen, "audit log %s: %s", pa->audit_log,
			 strerror(-r));
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
	if ((r = enf_new(&enf_dp_library, NULL, ag->policy, &ag->enf)) ||
	    (r = decide_new(ag->policy, ag->enf, ag->audit, &ag->dec)) ||
	    (r = decide_add_port(ag->dec, &notices)) ||
	    (r = decide_add_port(ag->dec, &campaigns))) {
		snprintf(err, errlen, "decision layer: %s", strerror(-r));
		return r;
	}
	if ((r = decide_load(ag->dec, err, errlen)))
		return r;
	if ((r = dp_open(&cfg, &ag->dp, err, errlen)))
		return r;
	enf_set_dp(ag->enf, ag->dp);
	log_info("dataplane maps under %s (%s)", pa->pin_dir,
		 dp_reused_pins(ag->dp) ? "reused" : "created");
	/* an earlier agent was failing closed: go on until every reaction
	 * fits, unless the policy no longer wants it */
	enf_adopt_runtime(ag->enf);
	/* the policy before the program: an attached program without one
	 * drops everything */
	if ((r = decide_apply(ag->dec, err, errlen)))
		return r;
	if ((r = enf_interfaces(ag->enf, NULL, err, errlen)) ||
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
	decide_mark_dirty(ag->dec);
	rec = json_object_new_object();
	audit_add_str(rec, "event", "start");
	audit_add_str(rec, "policy", ag->policy_path);
	audit_write(ag->audit, rec);
	/* a reaction that expired while the agent was down ends now */
	decide_tick(ag->dec, now_mono());
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
	if (ag->dec && decide_dirty(ag->dec))
		decide_save(ag->dec);
	if (ag->epfd >= 0)
		close(ag->epfd);
	decide_free(ag->dec);
	enf_free(ag->enf);
	dp_close(ag->dp);
	crsap_keyring_free(ag->keys);
	crsap_replay_free(ag->replay);
	mstab_free(&ag->ms);
	updates_free(ag);
	audit_close(ag->audit);
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
		agent_after_change(&ag);
	}
	stop(&ag);
	return 0;
}
