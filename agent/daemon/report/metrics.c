// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prometheus metrics: a small HTTP/1.x server in the agent's event loop
 * that answers GET /metrics with the text exposition format (version
 * 0.0.4). Bounded: at most METRICS_CONNS connections, 4 KiB of request,
 * 5 s to send it; every answer closes the connection. When every slot is
 * taken, a new connection takes the place of the oldest one (slow or idle
 * clients that reconnect cannot starve Prometheus, whose request follows
 * its connection at once); a request that cannot be HTTP (a NUL byte) is
 * answered at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "log.h"

#define METRICS_CONNS 32
#define METRICS_REQ_MAX 4096
#define METRICS_DEADLINE_NS (5ULL * 1000000000ULL)

struct mconn {
	struct watch w;
	struct metrics *m;
	char req[METRICS_REQ_MAX];
	size_t len;
	char *out;
	size_t outlen, outoff;
	uint64_t deadline;
	bool dead; /* closed; freed by metrics_reap() after the batch */
	struct mconn *next;
};

struct metrics {
	struct daemon *d;
	uint64_t scrapes;
	struct watch listen;
	struct mconn *conns;
	size_t nconns;
	uint64_t evicted; /* connections closed to make room */
};

/* ---- rendering ---- */

struct sbuf {
	char *b;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->oom)
		return;
	for (;;) {
		size_t room = sb->cap - sb->len;

		va_start(ap, fmt);
		n = vsnprintf(sb->b ? sb->b + sb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->oom = true;
			return;
		}
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return;
		}
		{
			size_t cap = sb->cap ? sb->cap * 2 : 16384;
			char *nb;

			while (cap < sb->len + (size_t)n + 1)
				cap *= 2;
			nb = realloc(sb->b, cap);
			if (!nb) {
				sb->oom = true;
				return;
			}
			sb->b = nb;
			sb->cap = cap;
		}
	}
}

static void head(struct sbuf *sb, const char *name, const char *type,
		 const char *help)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A latency histogram over decide_lat_bounds_ns (hist: the buckets, then
 * +Inf). */
static void histogram(struct sbuf *sb, const char *name, const char *help,
		      const uint64_t *hist, uint64_t sum_ns, uint64_t count)
{
	uint64_t cum = 0;

	head(sb, name, "histogram", help);
	for (int i = 0; i < DECIDE_LAT_BUCKETS; i++) {
		cum += hist[i];
		sb_printf(sb, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
			  (double)decide_lat_bounds_ns[i] / 1e9, cum);
	}
	cum += hist[DECIDE_LAT_BUCKETS];
	sb_printf(sb, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
	sb_printf(sb, "%s_sum %.9f\n", name, (double)sum_ns / 1e9);
	sb_printf(sb, "%s_count %" PRIu64 "\n", name, count);
}

/* A label value with \, " and newline escaped. */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

struct level_count {
	const struct policy *p;
	uint64_t *n;
};

static void count_level(void *ctx, const struct corr_view *v)
{
	struct level_count *lc = ctx;

	if (v->level < lc->p->nlevels)
		lc->n[v->level]++;
}

static void render(struct daemon *d, struct sbuf *sb)
{
	static const struct {
		enum stat_counter c;
		const char *name, *help;
	} ctr[] = {
		{ C_DECISIONS, "xcrs_decisions_total",
		  "decisions of the correlation engine (all kinds)" },
		{ C_REACTIONS, "xcrs_reactions_total",
		  "terminals given a new effective level" },
		{ C_RELEASES, "xcrs_releases_total",
		  "terminals released (no reaction left)" },
		{ C_CONTAINS, "xcrs_scope_containments_total",
		  "scopes contained" },
		{ C_UNCONTAINS, "xcrs_scope_releases_total", "scopes released" },
		{ C_RELOADS, "xcrs_reloads_total", "policy reloads asked for" },
		{ C_RELOADS_FAILED, "xcrs_reloads_refused_total",
		  "policy reloads refused (the running policy stayed)" },
		{ C_DATAPLANE_ERRORS, "xcrs_dataplane_errors_total",
		  "dataplane writes that failed (e.g. a full map)" },
		{ C_FANOUT, "xcrs_fanout_detections_total",
		  "fan-out detections from the dataplane" },
		{ C_MS_CONNECTS, "xcrs_terminal_connects_total", "MS connects" },
		{ C_MS_LEAVES, "xcrs_terminal_leaves_total", "MS leaves" },
		{ C_NOTICES_SENT, "xcrs_notices_sent_total",
		  "reaction notices sent to connected SCAs" },
		{ C_CONTROL_REQUESTS, "xcrs_control_requests_total",
		  "control-socket requests" },
		{ C_NEVER_REFUSED, "xcrs_never_react_refused_total",
		  "decisions refused: the terminal is on the never_react list" },
		{ C_SESSION_STARTS, "xcrs_session_starts_total",
		  "sessions started (RADIUS Start, or an Interim with a new "
		  "binding)" },
		{ C_SESSION_STOPS, "xcrs_session_stops_total",
		  "sessions stopped (RADIUS Stop)" },
		{ C_DECISIONS_FOLLOWED, "xcrs_decisions_followed_total",
		  "a subscriber's decision put on an address it holds" },
	};
	const struct policy *p = d->policy;
	struct dp_map_fill fill[DP_MAPS_MAX];
	struct dp_stats st;
	json_object *ins = json_object_new_array();
	uint64_t per_level[XCRS_LEVELS_MAX] = { 0 };
	struct level_count lc = { p, per_level };
	const struct decide_report *dr = decide_report(d->dec);
	struct stats sn;
	uint64_t *cn = sn.c;
	char e1[256];
	int n;

	daemon_stats(d, &sn);
	head(sb, "xcrs_up", "gauge",
	     "1 while the agent runs (a stopped agent answers no scrape: "
	     "alert on Prometheus' up{job=...} == 0)");
	sb_printf(sb, "xcrs_up 1\n");
	head(sb, "xcrs_build_info", "gauge",
	     "the agent's version and dataplane ABI, as labels; always 1");
	sb_printf(sb, "xcrs_build_info{version=\"%s\",abi=\"%d\"} 1\n",
		  XCRS_VERSION, XCRS_ABI_VERSION);
	head(sb, "xcrs_uptime_seconds", "gauge", "seconds since the agent started");
	sb_printf(sb, "xcrs_uptime_seconds %" PRIu64 "\n",
		  (uint64_t)((now_mono() - d->started_mono) / 1000000000ULL));
	head(sb, "xcrs_state_saved", "gauge",
	     "1 when every decision is on disk (state file and journal), 0 "
	     "while writing fails (disk full): decisions stay in force");
	sb_printf(sb, "xcrs_state_saved %d\n",
		  decide_save_error(d->dec) ? 0 : 1);
	head(sb, "xcrs_state_save_failures_total", "counter",
	     "failed writes of the state file or the decision journal");
	sb_printf(sb, "xcrs_state_save_failures_total %" PRIu64 "\n",
		  decide_save_failures(d->dec));
	head(sb, "xcrs_audit_write_failures_total", "counter",
	     "audit records that could not be written");
	sb_printf(sb, "xcrs_audit_write_failures_total %" PRIu64 "\n",
		  audit_failures(d->audit));
	head(sb, "xcrs_connections_shed_total", "counter",
	     "connections refused for want of file descriptors (EMFILE)");
	sb_printf(sb, "xcrs_connections_shed_total %" PRIu64 "\n",
		  loop_shed(d->loop));
	{
		const struct reports_report *rr = reports_report(d->reports);
		const struct lines_report *lr = lines_report(d->lines);
		const struct {
			const char *l, *why;
			uint64_t n;
		} cl[] = {
			{ "reports", "source-limit", rr->limited },
			{ "reports", "evicted", rr->evicted },
			{ "reports", "deadline", rr->timed_out },
			{ "reports", "buffers", rr->over_budget },
			{ "unix", "evicted", lr->evicted },
			{ "unix", "deadline", lr->timed_out },
			{ "metrics", "evicted", d->met ? d->met->evicted : 0 },
		};

		head(sb, "xcrs_connections_closed_total", "counter",
		     "connections refused or closed by their listener's "
		     "budgets (per source, slots, deadlines, buffers)");
		for (size_t i = 0; i < sizeof(cl) / sizeof(cl[0]); i++)
			sb_printf(sb, "xcrs_connections_closed_total{listener="
				      "\"%s\",reason=\"%s\"} %" PRIu64 "\n",
				  cl[i].l, cl[i].why, cl[i].n);
	}

	/* the dataplane's own per-CPU counters */
	if (dp_stats_read(d->dp, &st) == 0) {
		head(sb, "xcrs_dataplane_packets_total", "counter",
		     "packets judged by the XDP program, by action and reason");
		for (int a = 0; a < XCRS_ACT_MAX; a++)
			for (int r = 0; r < XCRS_REASON_MAX; r++)
				if (abi_reason_possible(a, r))
					sb_printf(sb,
						  "xcrs_dataplane_packets_total{action=\"%s\","
						  "reason=\"%s\"} %llu\n",
						  abi_action_name(a),
						  abi_reason_name(r),
						  (unsigned long long)st.c[a][r].packets);
		head(sb, "xcrs_dataplane_bytes_total", "counter",
		     "bytes judged by the XDP program, by action and reason");
		for (int a = 0; a < XCRS_ACT_MAX; a++)
			for (int r = 0; r < XCRS_REASON_MAX; r++)
				if (abi_reason_possible(a, r))
					sb_printf(sb,
						  "xcrs_dataplane_bytes_total{action=\"%s\","
						  "reason=\"%s\"} %llu\n",
						  abi_action_name(a),
						  abi_reason_name(r),
						  (unsigned long long)st.c[a][r].bytes);
	}

	corr_each_terminal(decide_engine(d->dec), count_level, &lc);
	head(sb, "xcrs_reacted_terminals", "gauge",
	     "terminals with a reaction, by effective level");
	for (size_t l = 0; l < p->nlevels; l++)
		sb_printf(sb, "xcrs_reacted_terminals{level=\"%s\"} %" PRIu64
			      "\n",
			  esc(p->levels[l].name, e1, sizeof(e1)), per_level[l]);
	head(sb, "xcrs_reacted_prefixes", "gauge",
	     "the operator's decisions on prefixes");
	sb_printf(sb, "xcrs_reacted_prefixes %zu\n", dr->prefixes);
	head(sb, "xcrs_scope_contained", "gauge",
	     "1 if the scope is contained, else 0");
	for (size_t s = 0; s < p->nscopes; s++) {
		uint64_t until;
		const char *rule;

		sb_printf(sb, "xcrs_scope_contained{scope=\"%s\"} %d\n",
			  esc(p->scopes[s].name, e1, sizeof(e1)),
			  corr_scope_state(decide_engine(d->dec), (int)s, &until, &rule) ==
				  1);
	}
	head(sb, "xcrs_terminals_connected", "gauge",
	     "MSs between connect and leave");
	sb_printf(sb, "xcrs_terminals_connected %zu\n", ms_report(d->ms)->connected);

	for (size_t i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++) {
		head(sb, ctr[i].name, "counter", ctr[i].help);
		sb_printf(sb, "%s %" PRIu64 "\n", ctr[i].name,
			  cn[ctr[i].c]);
	}

	/* inputs: accepted and refused, per source and reason */
	feeds_describe(d->feeds, ins);
	head(sb, "xcrs_input_lines_total", "counter",
	     "lines read per event input");
	for (size_t i = 0; i < json_object_array_length(ins); i++) {
		json_object *o = json_object_array_get_idx(ins, i), *v;
		const char *kind = "", *path = "";
		char e2[300];

		if (json_object_object_get_ex(o, "kind", &v))
			kind = json_object_get_string(v);
		if (json_object_object_get_ex(o, "path", &v))
			path = json_object_get_string(v);
		esc(kind, e1, sizeof(e1));
		esc(path, e2, sizeof(e2));
		json_object_object_get_ex(o, "lines", &v);
		sb_printf(sb,
			  "xcrs_input_lines_total{input=\"%s\",path=\"%s\"} %" PRId64
			  "\n",
			  e1, e2, json_object_get_int64(v));
	}
	head(sb, "xcrs_input_accepted_total", "counter",
	     "events and reports accepted, per source");
	for (size_t i = 0; i < json_object_array_length(ins); i++) {
		json_object *o = json_object_array_get_idx(ins, i), *v, *k, *pa;
		char e2[300];

		json_object_object_get_ex(o, "kind", &k);
		json_object_object_get_ex(o, "path", &pa);
		json_object_object_get_ex(o, "alerts", &v);
		sb_printf(sb,
			  "xcrs_input_accepted_total{input=\"%s\",path=\"%s\"} %" PRId64
			  "\n",
			  esc(json_object_get_string(k), e1, sizeof(e1)),
			  esc(json_object_get_string(pa), e2, sizeof(e2)),
			  json_object_get_int64(v));
	}
	sb_printf(sb, "xcrs_input_accepted_total{input=\"reports\",path=\"\"} %"
		      PRIu64 "\n",
		  cn[C_REPORTS_OK]);
	head(sb, "xcrs_input_refused_total", "counter",
	     "input refused, per source and reason");
	for (size_t i = 0; i < json_object_array_length(ins); i++) {
		json_object *o = json_object_array_get_idx(ins, i), *v, *k, *pa;
		char e2[300];

		json_object_object_get_ex(o, "kind", &k);
		json_object_object_get_ex(o, "path", &pa);
		json_object_object_get_ex(o, "malformed", &v);
		sb_printf(sb,
			  "xcrs_input_refused_total{input=\"%s\",path=\"%s\","
			  "reason=\"malformed\"} %" PRId64 "\n",
			  esc(json_object_get_string(k), e1, sizeof(e1)),
			  esc(json_object_get_string(pa), e2, sizeof(e2)),
			  json_object_get_int64(v));
	}
	sb_printf(sb, "xcrs_input_refused_total{input=\"events\",path=\"\","
		      "reason=\"overlong\"} %" PRIu64 "\n",
		  cn[C_INPUT_OVERLONG]);
	sb_printf(sb, "xcrs_input_refused_total{input=\"events\",path=\"\","
		      "reason=\"not-a-subscriber\"} %" PRIu64 "\n",
		  cn[C_INPUT_NOT_SUBSCRIBER]);
	for (int v = 1; v < CRSAP_VERDICT_MAX; v++)
		sb_printf(sb, "xcrs_input_refused_total{input=\"reports\","
			      "path=\"\",reason=\"%s\"} %" PRIu64 "\n",
			  crsap_verdict_to_string(v), sn.refused_by[v]);
	sb_printf(sb, "xcrs_input_refused_total{input=\"reports\",path=\"\","
		      "reason=\"tls-handshake\"} %" PRIu64 "\n",
		  cn[C_TLS_FAILED]);
	head(sb, "xcrs_radius_requests_total", "counter",
	     "RADIUS Accounting-Requests by result: accepted, retransmission "
	     "(answered again, nothing changed) or the refusal's reason");
	sb_printf(sb, "xcrs_radius_requests_total{result=\"accepted\"} %" PRIu64
		      "\n",
		  cn[C_RADIUS_ACCEPTED]);
	sb_printf(sb, "xcrs_radius_requests_total{result=\"retransmission\"} "
		      "%" PRIu64 "\n",
		  cn[C_RADIUS_RETRANSMISSIONS]);
	for (int i = 0; i < RAD_REF_COUNT; i++)
		sb_printf(sb, "xcrs_radius_requests_total{result=\"%s\"} %" PRIu64
			      "\n",
			  radius_refusal_names[i], sn.radius_refused_by[i]);
	{
		struct sess_apn apn[64];
		size_t na = subscribers_by_apn(d->subs, apn, 64);

		head(sb, "xcrs_sessions", "gauge",
		     "sessions the packet core reported, by APN (the first 64 "
		     "APNs)");
		for (size_t i = 0; i < na; i++)
			sb_printf(sb, "xcrs_sessions{apn=\"%s\"} %zu\n",
				  esc(apn[i].apn, e1, sizeof(e1)), apn[i].n);
	}
	json_object_put(ins);

	n = dp_fill(d->dp, fill);
	if (n > 0) {
		head(sb, "xcrs_map_entries", "gauge",
		     "entries in use per dataplane map");
		for (int i = 0; i < n; i++)
			sb_printf(sb, "xcrs_map_entries{map=\"%s\"} %llu\n",
				  fill[i].name,
				  (unsigned long long)fill[i].entries);
		head(sb, "xcrs_map_capacity", "gauge",
		     "entries each dataplane map holds");
		for (int i = 0; i < n; i++)
			sb_printf(sb, "xcrs_map_capacity{map=\"%s\"} %llu\n",
				  fill[i].name,
				  (unsigned long long)fill[i].capacity);
	}

	histogram(sb, "xcrs_reaction_latency_seconds",
		  "from an event, report or operator request read to the "
		  "dataplane entry written",
		  dr->lat_hist, dr->lat_sum_ns, dr->lat_count);
	{
		const struct subscribers_report *sr =
			subscribers_report(d->subs);

		histogram(sb, "xcrs_session_entry_seconds",
			  "from a session's start read (RADIUS, session feed) "
			  "to its dataplane entries written",
			  sr->lat_hist, sr->lat_sum_ns, sr->lat_count);
	}
}

/* ---- the server ---- */

static void conn_close(struct mconn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	loop_close(c->m->d->loop, &c->w);
	c->m->nconns--;
}

void metrics_reap(struct metrics *m)
{
	if (!m)
		return;
	for (struct mconn **pp = &m->conns; *pp;) {
		struct mconn *c = *pp;

		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		free(c->out);
		free(c);
	}
}

static void respond(struct mconn *c, const char *status, const char *ctype,
		    const char *body, size_t blen)
{
	struct sbuf sb = { 0 };

	sb_printf(&sb,
		  "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		  "Connection: close\r\n\r\n",
		  status, ctype, blen);
	if (!sb.oom && blen) {
		char *nb = realloc(sb.b, sb.len + blen);

		if (nb) {
			memcpy(nb + sb.len, body, blen);
			sb.b = nb;
			sb.len += blen;
		} else {
			sb.oom = true;
		}
	}
	if (sb.oom) {
		free(sb.b);
		conn_close(c);
		return;
	}
	c->out = sb.b;
	c->outlen = sb.len;
	c->outoff = 0;
	loop_mod(c->m->d->loop, &c->w, EPOLLOUT);
}

static void on_conn(struct watch *w, uint32_t events)
{
	struct mconn *c = container_of(w, struct mconn, w);
	ssize_t n;

	if (c->dead)
		return;
	if (c->out) {
		n = send(c->w.fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n > 0)
			c->outoff += (size_t)n;
		if (n <= 0 || c->outoff == c->outlen)
			conn_close(c);
		return;
	}
	n = recv(c->w.fd, c->req + c->len, sizeof(c->req) - 1 - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if (memchr(c->req + c->len, '\0', (size_t)n)) {
		static const char m[] = "NUL byte in the request\n";

		respond(c, "400 Bad Request", "text/plain", m, sizeof(m) - 1);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (!strstr(c->req, "\r\n\r\n") && !strstr(c->req, "\n\n")) {
		if (c->len >= sizeof(c->req) - 1) {
			static const char m[] = "request too large\n";

			respond(c, "431 Request Header Fields Too Large",
				"text/plain", m, sizeof(m) - 1);
		}
		return;
	}
	if (!strncmp(c->req, "GET /metrics ", 13) ||
	    !strncmp(c->req, "GET /metrics?", 13)) {
		struct sbuf sb = { 0 };

		c->m->scrapes++;
		render(c->m->d, &sb);
		if (sb.oom) {
			static const char m[] = "out of memory\n";

			free(sb.b);
			respond(c, "500 Internal Server Error", "text/plain", m,
				sizeof(m) - 1);
			return;
		}
		respond(c, "200 OK", "text/plain; version=0.0.4",
			sb.b ? sb.b : "", sb.len);
		free(sb.b);
	} else if (!strncmp(c->req, "GET ", 4)) {
		static const char m[] = "only /metrics here\n";

		respond(c, "404 Not Found", "text/plain", m, sizeof(m) - 1);
	} else {
		static const char m[] = "GET only\n";

		respond(c, "405 Method Not Allowed", "text/plain", m,
			sizeof(m) - 1);
	}
}

static void on_accept(struct watch *w, uint32_t events)
{
	struct metrics *m = container_of(w, struct metrics, listen);
	int fd = loop_accept(m->d->loop, w->fd, NULL, NULL, "metrics");
	struct mconn *c;

	if (fd < 0)
		return;
	if (m->nconns >= METRICS_CONNS) {
		struct mconn *old = NULL;

		for (c = m->conns; c; c = c->next)
			if (!c->dead && (!old || c->deadline < old->deadline))
				old = c;
		if (!old) {
			close(fd);
			return;
		}
		if (m->evicted++ % 1000 == 0)
			log_warn("metrics: %d connections open; the oldest "
				 "closed for a new one (%llu so far)",
				 METRICS_CONNS,
				 (unsigned long long)m->evicted);
		conn_close(old);
	}
	c = calloc(1, sizeof(*c));
	if (!c || loop_add(m->d->loop, &c->w, fd, EPOLLIN, on_conn)) {
		free(c);
		close(fd);
		return;
	}
	c->m = m;
	c->deadline = loop_now(m->d->loop) + METRICS_DEADLINE_NS;
	c->next = m->conns;
	m->conns = c;
	m->nconns++;
}

int metrics_new(struct daemon *d, struct metrics **ret_met, char *err,
		size_t errlen)
{
	const char *addr = d->policy->agent.metrics;
	struct sockaddr_storage ss;
	struct metrics *m;
	socklen_t sl;
	int fd, one = 1;

	*ret_met = NULL;
	if (!addr[0])
		return 0;
	if (addr_listen_parse(addr, &ss, &sl)) {
		snprintf(err, errlen, "agent.metrics: \"%s\" is not "
				      "address:port",
			 addr);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->d = d;
	m->listen.fd = -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 64) ||
	    loop_add(d->loop, &m->listen, fd, EPOLLIN, on_accept)) {
		int r = -errno;

		snprintf(err, errlen, "metrics listener %s: %s", addr,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		free(m);
		return r;
	}
	log_info("metrics on http://%s/metrics", addr);
	*ret_met = m;
	return 0;
}

void metrics_housekeeping(struct metrics *m)
{
	uint64_t now;
	struct mconn *c, *next;

	if (!m)
		return;
	now = loop_now(m->d->loop);
	for (c = m->conns; c; c = next) {
		next = c->next;
		if (now >= c->deadline)
			conn_close(c);
	}
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (struct mconn *c = m->conns; c; c = c->next)
		conn_close(c);
	metrics_reap(m);
	loop_close(m->d->loop, &m->listen);
	free(m);
}

uint64_t metrics_scrapes(const struct metrics *m)
{
	return m ? m->scrapes : 0;
}
