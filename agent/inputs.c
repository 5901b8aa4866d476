// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's inputs: Suricata EVE files followed across rotation
 * (inotify), unix sockets carrying EVE or generic JSON lines, control
 * clients, and the TLS listener for terminal reports. Everything is
 * non-blocking and driven by the agent's epoll loop; a malformed input is
 * counted and logged and changes nothing.
 */
#include "agent.h"
#include "evaluate.h"
#include "gbakeys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>

#include "addr.h"
#include "events.h"
#include "log.h"

#define CLIENTS_MAX 256
#define TCONNS_MAX 1024
#define HANDSHAKE_TIMEOUT_S 10
#define UNAUTH_TIMEOUT_S 30
#define CONTROL_LINE_MAX 65536

/* ---- lines ---------------------------------------------------------------- */

struct linebuf {
	char *buf;
	size_t len, cap;
	bool discarding; /* inside an over-long line */
};

struct input_stats {
	uint64_t lines, malformed, alerts;
};

typedef void (*line_fn)(struct agent *ag, void *ctx, char *line, size_t len);

/* Appends data and calls fn for each complete line (without its '\n'). A
 * line longer than max is dropped whole and counted. */
static void lines_feed(struct agent *ag, struct linebuf *lb, size_t max,
		       const char *data, size_t n, line_fn fn, void *ctx)
{
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;

		if (lb->discarding) {
			if (nl)
				lb->discarding = false;
		} else if (lb->len + take > max) {
			ag->counters[C_INPUT_OVERLONG]++;
			log_warn("input line longer than %zu bytes dropped",
				 max);
			lb->len = 0;
			lb->discarding = !nl;
		} else {
			if (lb->len + take + 1 > lb->cap) {
				size_t cap = lb->cap ? lb->cap : 4096;
				char *b;

				while (cap < lb->len + take + 1)
					cap *= 2;
				b = realloc(lb->buf, cap);
				if (!b) {
					lb->len = 0;
					lb->discarding = !nl;
					goto next;
				}
				lb->buf = b;
				lb->cap = cap;
			}
			memcpy(lb->buf + lb->len, data, take);
			lb->len += take;
			if (nl) {
				lb->buf[lb->len] = '\0';
				fn(ag, ctx, lb->buf, lb->len);
				lb->len = 0;
			}
		}
next:
		if (!nl)
			break;
		n -= take + 1;
		data = nl + 1;
	}
}

static bool rate_ok(uint64_t count)
{
	return count <= 20 || count % 1000 == 0;
}

/* One EVE or generic line from the input named src. */
static void event_line(struct agent *ag, enum input_kind kind,
		       struct input_stats *st, const char *src, char *line,
		       size_t len)
{
	struct ev_alert a;
	struct corr_event ev;
	char err[256];
	int r;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		line[--len] = '\0';
	if (!len)
		return;
	ag->input_t0 = now_mono();
	st->lines++;
	ag->counters[kind == IN_EVE ? C_EVE_LINES : C_EVENTS_LINES]++;
	r = kind == IN_EVE ? ev_parse_eve(line, len, &a, err, sizeof(err)) :
			     ev_parse_generic(line, len, &a, err, sizeof(err));
	if (r < 0) {
		st->malformed++;
		ag->counters[C_INPUT_MALFORMED]++;
		if (rate_ok(st->malformed))
			log_warn("%s: malformed event dropped (%" PRIu64
				 " so far): %s", src, st->malformed, err);
		return;
	}
	if (r == 0)
		return;
	st->alerts++;
	ag->counters[C_EVE_ALERTS]++;
	if (ev_to_corr(&a, agent_is_subscriber, ag,
		       kind == IN_EVE ? "eve" : "events", &ev)) {
		ag->counters[C_INPUT_NOT_SUBSCRIBER]++;
		log_debug("%s: alert %" PRIu64 " concerns no subscriber", src,
			  a.signature);
		return;
	}
	agent_ingest(ag, &ev);
	ag->input_t0 = 0;
}

/* ---- inputs: EVE files and event sockets -------------------------------- */

struct input {
	struct watch w; /* inotify fd, or the listening socket */
	enum policy_input_kind kind;
	char path[256];
	char dir[256], name[256];
	int fd;	  /* file being read, -1 none */
	off_t off;
	struct linebuf lb;
	struct input_stats st;
	struct input *next;
};

static void file_line(struct agent *ag, void *ctx, char *line, size_t len)
{
	struct input *in = ctx;

	event_line(ag, IN_EVE, &in->st, in->path, line, len);
}

static void file_drain(struct agent *ag, struct input *in)
{
	char buf[65536];
	struct stat st;
	ssize_t n;

	if (in->fd < 0)
		return;
	if (fstat(in->fd, &st) == 0 && st.st_size < in->off) {
		log_info("%s: truncated, reading from the start", in->path);
		lseek(in->fd, 0, SEEK_SET);
		in->off = 0;
		in->lb.len = 0;
		in->lb.discarding = false;
	}
	while ((n = read(in->fd, buf, sizeof(buf))) > 0) {
		in->off += n;
		lines_feed(ag, &in->lb, EV_LINE_MAX, buf, (size_t)n, file_line,
			   in);
	}
	if (n < 0 && errno != EAGAIN)
		log_warn("%s: %s", in->path, strerror(errno));
}

/* Opens the file; at start-up from its end (old alerts are history),
 * after a rotation from its beginning. */
static void file_open(struct input *in, bool from_end)
{
	if (in->fd >= 0)
		close(in->fd);
	in->fd = open(in->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	in->off = 0;
	in->lb.len = 0;
	in->lb.discarding = false;
	if (in->fd < 0) {
		if (errno != ENOENT)
			log_warn("%s: %s", in->path, strerror(errno));
		return;
	}
	if (from_end)
		in->off = lseek(in->fd, 0, SEEK_END);
	log_info("%s: following from %s", in->path,
		 from_end ? "its end" : "the start");
}

static void on_inotify(struct agent *ag, struct watch *w, uint32_t events)
{
	struct input *in = (struct input *)w;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool reopen = false, changed = false;
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				changed = true;
				continue;
			}
			if (!e->len || strcmp(e->name, in->name))
				continue;
			changed = true;
			if (e->mask & (IN_CREATE | IN_MOVED_TO))
				reopen = true;
		}
	}
	if (!changed)
		return;
	/* what the old file still holds comes first */
	file_drain(ag, in);
	if (reopen || in->fd < 0) {
		struct stat a, b;

		if (in->fd >= 0 && fstat(in->fd, &a) == 0 &&
		    stat(in->path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return; /* same file after all */
		file_open(in, false);
		file_drain(ag, in);
	}
}

static void input_free(struct agent *ag, struct input *in)
{
	watch_close(ag, &in->w);
	if (in->fd >= 0)
		close(in->fd);
	free(in->lb.buf);
	free(in);
}

static void on_event_listen(struct agent *ag, struct watch *w,
			    uint32_t events)
{
	struct input *in = (struct input *)w;

	lclient_accept(ag, w->fd,
		       in->kind == POLICY_IN_EVENT_SOCKET     ? IN_EVENTS :
		       in->kind == POLICY_IN_SESSION_SOCKET ? IN_SESSIONS :
							      IN_EVE,
		       in->path, &in->st);
}

int unix_listen(const char *path, mode_t mode, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	/* a socket left by a previous run is replaced; anything else is not
	 * ours to remove */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket",
				 path);
			return -EEXIST;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, mode) || listen(fd, 64)) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static int input_open(struct agent *ag, const struct policy_input *pi,
		      char *err, size_t errlen)
{
	struct input *in = calloc(1, sizeof(*in));
	char tmp[256];
	int fd, r;

	if (!in)
		return -ENOMEM;
	in->kind = pi->kind;
	in->fd = -1;
	in->w.fd = -1;
	snprintf(in->path, sizeof(in->path), "%s", pi->path);
	if (pi->kind == POLICY_IN_EVE_FILE) {
		snprintf(tmp, sizeof(tmp), "%s", pi->path);
		snprintf(in->dir, sizeof(in->dir), "%s", dirname(tmp));
		snprintf(tmp, sizeof(tmp), "%s", pi->path);
		snprintf(in->name, sizeof(in->name), "%s", basename(tmp));
		fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (fd < 0 ||
		    inotify_add_watch(fd, in->dir,
				      IN_MODIFY | IN_CREATE | IN_MOVED_TO |
					      IN_CLOSE_WRITE | IN_MOVED_FROM |
					      IN_DELETE) < 0) {
			r = -errno;
			snprintf(err, errlen, "EVE file %s: watching %s: %s",
				 pi->path, in->dir, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(in);
			return r;
		}
		file_open(in, true);
		r = watch_add(ag, &in->w, fd, EPOLLIN, on_inotify);
	} else {
		fd = unix_listen(pi->path, 0660, err, errlen);
		if (fd < 0) {
			free(in);
			return fd;
		}
		r = watch_add(ag, &in->w, fd, EPOLLIN, on_event_listen);
		log_info("%s: listening for %s", pi->path,
			 pi->kind == POLICY_IN_EVE_SOCKET ? "EVE JSON" :
			 pi->kind == POLICY_IN_SESSION_SOCKET
				 ? "MS connect/leave (session feed)"
				 : "JSON-lines events");
	}
	in->next = ag->inputs;
	ag->inputs = in;
	if (r)
		snprintf(err, errlen, "%s: %s", pi->path, strerror(-r));
	return r;
}

int inputs_open(struct agent *ag, char *err, size_t errlen)
{
	for (size_t i = 0; i < ag->policy->ninputs; i++) {
		int r = input_open(ag, &ag->policy->inputs[i], err, errlen);

		if (r)
			return r;
	}
	return 0;
}

void inputs_close(struct agent *ag)
{
	while (ag->inputs) {
		struct input *in = ag->inputs;

		ag->inputs = in->next;
		if (in->kind != POLICY_IN_EVE_FILE)
			unlink(in->path);
		input_free(ag, in);
	}
}

size_t inputs_describe(struct agent *ag, json_object *arr)
{
	size_t n = 0;

	for (struct input *in = ag->inputs; in; in = in->next, n++) {
		json_object *o = json_object_new_object();

		json_object_object_add(
			o, "kind",
			json_object_new_string(
				in->kind == POLICY_IN_EVE_FILE	 ? "eve-file" :
				in->kind == POLICY_IN_EVE_SOCKET ? "eve-socket" :
				in->kind == POLICY_IN_SESSION_SOCKET
					? "sessions-socket"
					: "events-socket"));
		json_object_object_add(o, "path",
				       json_object_new_string(in->path));
		json_object_object_add(o, "lines",
				       json_object_new_int64((int64_t)in->st.lines));
		json_object_object_add(o, "alerts",
				       json_object_new_int64((int64_t)in->st.alerts));
		json_object_object_add(
			o, "malformed",
			json_object_new_int64((int64_t)in->st.malformed));
		json_object_array_add(arr, o);
	}
	return n;
}

/* ---- line clients: event sockets and control --------------------------------- */

struct lclient {
	struct watch w;
	enum input_kind kind;
	char name[256];
	struct linebuf lb;
	struct input_stats st;
	/* where its lines count: its socket input's totals (inputs live as
	 * long as the agent), or st */
	struct input_stats *stp;
	char *out;
	size_t outlen, outoff;
	bool replied, dead;
	struct lclient *next;
};

static size_t nclients;

static void lclient_kill(struct agent *ag, struct lclient *c)
{
	if (c->dead)
		return;
	watch_close(ag, &c->w);
	c->dead = true;
}

static void client_line(struct agent *ag, void *ctx, char *line, size_t len)
{
	struct lclient *c = ctx;

	if (c->dead || c->replied)
		return;
	if (c->kind == IN_CONTROL) {
		ag->counters[C_CONTROL_REQUESTS]++;
		control_request(ag, c, line, len);
	} else if (c->kind == IN_SESSIONS) {
		ms_feed_line(ag, c->name, line, len);
	} else {
		event_line(ag, c->kind, c->stp, c->name, line, len);
	}
}

static void client_flush(struct agent *ag, struct lclient *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->w.fd, c->out + c->outoff,
				 c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			watch_mod(ag, &c->w, EPOLLOUT);
			return;
		}
		if (n <= 0) {
			lclient_kill(ag, c);
			return;
		}
		c->outoff += (size_t)n;
	}
	lclient_kill(ag, c); /* one request, one reply */
}

static void on_client(struct agent *ag, struct watch *w, uint32_t events)
{
	struct lclient *c = (struct lclient *)w;
	char buf[16384];
	ssize_t n;

	if (c->replied) {
		client_flush(ag, c);
		return;
	}
	for (;;) {
		n = recv(w->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			lines_feed(ag, &c->lb,
				   c->kind == IN_CONTROL ? CONTROL_LINE_MAX :
							   EV_LINE_MAX,
				   buf, (size_t)n, client_line, c);
			if (c->dead || c->replied)
				return;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		/* EOF: a last line without '\n' still counts */
		if (c->lb.len && !c->lb.discarding)
			lines_feed(ag, &c->lb, SIZE_MAX, "\n", 1, client_line,
				   c);
		if (!c->replied)
			lclient_kill(ag, c);
		return;
	}
}

void lclient_accept(struct agent *ag, int lfd, enum input_kind kind,
		    const char *name, struct input_stats *st)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct lclient *c;

	if (fd < 0)
		return;
	if (nclients >= CLIENTS_MAX) {
		log_warn("%s: more than %d clients, connection refused", name,
			 CLIENTS_MAX);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || watch_add(ag, &c->w, fd, EPOLLIN, on_client)) {
		free(c);
		close(fd);
		return;
	}
	c->kind = kind;
	c->stp = st ? st : &c->st;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->next = ag->clients;
	ag->clients = c;
	nclients++;
}

void lclient_reply(struct agent *ag, struct lclient *c, const char *s,
		   size_t len)
{
	c->out = malloc(len + 1);
	if (!c->out) {
		lclient_kill(ag, c);
		return;
	}
	memcpy(c->out, s, len);
	c->out[len] = '\n';
	c->outlen = len + 1;
	c->replied = true;
	client_flush(ag, c);
}

void clients_close(struct agent *ag)
{
	for (struct lclient *c = ag->clients; c; c = c->next)
		lclient_kill(ag, c);
	inputs_reap(ag);
}

/* ---- TLS report listener ---------------------------------------------------- */

struct tconn {
	struct watch w;
	SSL *ssl;
	bool up, dead;
	uint8_t *in;
	size_t inlen;
	uint8_t *out;
	size_t outlen;
	struct xcrs_addr peer;
	char peer_s[ADDR_STRLEN + 8];
	bool authed;
	bool waiting;	/* a frame waits for its key from authsrv */
	char wait_id[CRSAP_ID_MAX + 1];
	char id[CRSAP_ID_MAX + 1];
	struct xcrs_addr term;
	uint64_t since;
	struct tconn *next;
};

static void tls_errors(char *err, size_t errlen)
{
	unsigned long e;
	size_t n = strlen(err);

	while ((e = ERR_get_error()) && n + 3 < errlen) {
		snprintf(err + n, errlen - n, ": ");
		ERR_error_string_n(e, err + n + 2, errlen - n - 2);
		n = strlen(err);
	}
	ERR_clear_error();
}

SSL_CTX *reports_tls_ctx(const struct policy_reports *rp, char *err,
			 size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		snprintf(err, errlen, "TLS: cannot create a context");
		tls_errors(err, errlen);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_use_certificate_chain_file(ctx, rp->cert) != 1) {
		snprintf(err, errlen, "TLS certificate %s", rp->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, rp->key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "TLS key %s", rp->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "TLS key %s does not match %s", rp->key,
			 rp->cert);
		goto fail;
	}
	return ctx;
fail:
	tls_errors(err, errlen);
	SSL_CTX_free(ctx);
	return NULL;
}

static void tconn_kill(struct agent *ag, struct tconn *t)
{
	if (t->dead)
		return;
	watch_close(ag, &t->w);
	t->dead = true;
}

static void tconn_queue(struct tconn *t, const uint8_t *b, size_t n)
{
	uint8_t *o = realloc(t->out, t->outlen + n);

	if (!o)
		return;
	memcpy(o + t->outlen, b, n);
	t->out = o;
	t->outlen += n;
}

/* Sends r (MAC'd with the terminal's key) on t. */
/* A terminal's key: from the key file, else from authsrv's cache. */
const struct crsap_key *agent_report_key(struct agent *ag, const char *id)
{
	const struct crsap_key *k = crsap_keyring_find(ag->keys, id);

	return k ? k : gbakeys_find(ag->gba, id);
}

static int tconn_send(struct agent *ag, struct tconn *t,
		      const struct crsap_response *r)
{
	const struct crsap_key *k = agent_report_key(ag, t->id);
	char *xml = NULL;
	uint8_t *frame = NULL;
	size_t xlen, flen;
	int ret;

	if (!k)
		return -ENOKEY;
	ret = crsap_response_build(r, &xml, &xlen);
	if (!ret)
		ret = crsap_frame_build(t->id, k->key, k->keylen, xml, xlen,
					&frame, &flen);
	if (!ret)
		tconn_queue(t, frame, flen);
	free(xml);
	free(frame);
	return ret;
}

static void handle_report(struct agent *ag, struct tconn *t,
			  const uint8_t *buf, size_t len)
{
	static struct crsap_sca_msg msg;
	struct crsap_report rep;
	enum policy_report_status eval;
	const char *by;
	struct crsap_response resp;
	const struct crsap_key *k = NULL;
	struct corr_event ev = {.kind = CORR_EV_REPORT};
	char err[512], tbuf[ADDR_STRLEN];
	enum crsap_verdict v;

	const struct crsap_keyring *kr = ag->keys;
	struct crsap_frame f;

	/* A peer SCS asking about an MS that moved (roaming). */
	if (!crsap_frame_split(buf, len, &f, err, sizeof(err)) &&
	    (k = peers_key(ag, f.id))) {
		uint8_t *out = NULL;
		size_t olen;

		err[0] = '\0';
		if (peers_answer(ag, k, buf, len, &out, &olen, err,
				 sizeof(err))) {
			log_warn("peer message from %s refused: %s", t->peer_s,
				 err);
			tconn_kill(ag, t);
			return;
		}
		tconn_queue(t, out, olen);
		free(out);
		return;
	}
	/* A terminal that reports with a B-TID: its key comes from authsrv.
	 * The frame waits (in t->in) until it is here. */
	if (!crsap_frame_split(buf, len, &f, err, sizeof(err)) &&
	    !crsap_keyring_find(ag->keys, f.id) && ag->gba) {
		if (gbakeys_find(ag->gba, f.id)) {
			kr = gbakeys_ring(ag->gba);
		} else if (gbakeys_is_btid(f.id)) {
			if (gbakeys_request(ag->gba, f.id)) {
				ag->counters[C_REPORTS_REFUSED]++;
				ag->refused[CRSAP_BUSY]++;
				log_warn("report from %s refused (busy): too "
					 "many key requests to authsrv",
					 t->peer_s);
				tconn_kill(ag, t);
				return;
			}
			t->waiting = true;
			snprintf(t->wait_id, sizeof(t->wait_id), "%s", f.id);
			return;
		}
	}
	v = crsap_verify_sca(kr, ag->replay, buf, len, now_real_ms(),
			     ag->policy->reports.max_skew_ns / 1000000, &msg,
			     &k, err, sizeof(err));
	if (v != CRSAP_OK) {
		ag->counters[C_REPORTS_REFUSED]++;
		ag->refused[v]++;
		log_warn("report from %s refused (%s): %s", t->peer_s,
			 crsap_verdict_to_string(v), err);
		tconn_kill(ag, t);
		return;
	}
	ag->counters[C_REPORTS_OK]++;
	t->authed = true;
	t->term = k->peer ? t->peer : k->addr;
	addr_format(&t->term, tbuf, sizeof(tbuf));
	if (msg.kind == CRSAP_SCA_PROBE_RESPONSE) {
		/* The SCA is there; it still has to report (11.3). */
		snprintf(t->id, sizeof(t->id), "%s", msg.probe.ms);
		ms_probe_answered(ag, &t->term, msg.probe.ms,
				  msg.probe.sca_version);
		agent_describe(ag, &t->term, msg.probe.ms, "probe", &resp);
		memcpy(resp.in_response_to, msg.probe.nonce,
		       sizeof(msg.probe.nonce));
		if (tconn_send(ag, t, &resp))
			log_warn("%s: could not build the SCI response",
				 msg.probe.ms);
		return;
	}
	rep = msg.report;
	snprintf(t->id, sizeof(t->id), "%s", rep.ms);
	log_info("report from %s (%s): %s, %zu threat(s)", rep.ms, tbuf,
		 policy_report_status_to_string(rep.status), rep.nthreats);
	/* A report shows the MS is there and has an SCA: a hold at the
	 * download service ends before the report is evaluated. */
	ms_reported(ag, &t->term, rep.ms);
	update_report(ag, &t->term, &rep);

	/* Security evaluation policy: what the report says, raised by the
	 * policy's evaluation entries (clause 8, 11.2). */
	eval = sci_evaluate(ag->policy, &rep, now_real_ms(), &by);
	if (by)
		log_info("%s evaluated %s by %s (reported %s)", tbuf,
			 policy_report_status_to_string(eval), by,
			 policy_report_status_to_string(rep.status));
	ev.terminal = t->term;
	ev.status = eval;
	snprintf(ev.source, sizeof(ev.source), "report:%.40s", rep.ms);
	snprintf(ev.detail, sizeof(ev.detail), "SCI report: %s%s%.40s%s%.60s",
		 policy_report_status_to_string(eval),
		 by ? " by evaluation " : "", by ? by : "",
		 rep.nthreats ? ", threat " : "",
		 rep.nthreats ? rep.threats[0].name : "");
	ag->answering = &t->term;
	agent_ingest(ag, &ev);
	/* threats the terminal found are evidence for the IDS rules too */
	for (size_t i = 0; i < rep.nthreats; i++) {
		struct corr_event te = {
			.kind = CORR_EV_IDS,
			.terminal = t->term,
			.severity = rep.threats[i].severity,
			.signature = rep.threats[i].signature,
		};

		snprintf(te.detail, sizeof(te.detail), "%s",
			 rep.threats[i].name);
		snprintf(te.source, sizeof(te.source), "report:%.40s", rep.ms);
		agent_ingest(ag, &te);
	}
	ag->answering = NULL;
	agent_describe(ag, &t->term, rep.ms,
		       policy_report_status_to_string(eval), &resp);
	memcpy(resp.in_response_to, rep.nonce, sizeof(rep.nonce));
	if (tconn_send(ag, t, &resp))
		log_warn("%s: could not build the SCI response", rep.ms);
}

static void tconn_flush(struct agent *ag, struct tconn *t);

/* After an SSL_read/SSL_write that returned r <= 0: true if it only has to
 * wait for the socket; otherwise the connection is closed (by the
 * terminal, or broken) and false is returned. */
static bool tls_blocked(struct agent *ag, struct tconn *t, int r)
{
	int e = SSL_get_error(t->ssl, r);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return true;
	ERR_clear_error();
	tconn_kill(ag, t);
	return false;
}

static void tconn_run(struct agent *ag, struct tconn *t, bool resume);

static void tconn_io(struct agent *ag, struct tconn *t)
{
	if (!t->waiting)
		tconn_run(ag, t, false);
}

/* Processes the frames already buffered, then reads on. */
static void tconn_resume(struct agent *ag, struct tconn *t)
{
	tconn_run(ag, t, true);
}

static void tconn_run(struct agent *ag, struct tconn *t, bool resume)
{
	const size_t cap = CRSAP_FRAME_MAX + 4;
	int r, e;

	if (!t->up) {
		r = SSL_do_handshake(t->ssl);
		if (r == 1) {
			t->up = true;
		} else {
			e = SSL_get_error(t->ssl, r);
			if (e == SSL_ERROR_WANT_READ) {
				watch_mod(ag, &t->w, EPOLLIN);
				return;
			}
			if (e == SSL_ERROR_WANT_WRITE) {
				watch_mod(ag, &t->w, EPOLLOUT);
				return;
			}
			ag->counters[C_TLS_FAILED]++;
			log_info("report connection from %s: TLS handshake "
				 "failed", t->peer_s);
			ERR_clear_error();
			tconn_kill(ag, t);
			return;
		}
	}
	for (;;) {
		long need;

		if (!resume) {
			r = SSL_read(t->ssl, t->in + t->inlen,
				     (int)(cap - t->inlen));
			if (r <= 0) {
				if (tls_blocked(ag, t, r))
					break;
				return;
			}
			t->inlen += (size_t)r;
		}
		while ((need = crsap_frame_size(t->in, t->inlen)) != 0) {
			if (need < 0) {
				ag->counters[C_REPORTS_REFUSED]++;
				ag->refused[CRSAP_MALFORMED]++;
				log_warn("report from %s refused (malformed): "
					 "frame length out of range",
					 t->peer_s);
				tconn_kill(ag, t);
				return;
			}
			if (t->inlen < (size_t)need)
				break;
			ag->input_t0 = now_mono();
			handle_report(ag, t, t->in + 4, (size_t)need - 4);
			ag->input_t0 = 0;
			if (t->dead)
				return;
			if (t->waiting) {
				/* read nothing more until the key is here */
				tconn_flush(ag, t);
				watch_mod(ag, &t->w, t->outlen ? EPOLLOUT : 0);
				return;
			}
			memmove(t->in, t->in + need, t->inlen - (size_t)need);
			t->inlen -= (size_t)need;
		}
		if (resume) {
			/* buffered frames done: read the socket again */
			resume = false;
			continue;
		}
	}
	tconn_flush(ag, t);
}

void inputs_key_ready(struct agent *ag, const char *id, bool ok)
{
	for (struct tconn *t = ag->tconns; t; t = t->next) {
		if (t->dead || !t->waiting || strcmp(t->wait_id, id))
			continue;
		t->waiting = false;
		if (!ok) {
			ag->counters[C_REPORTS_REFUSED]++;
			ag->refused[CRSAP_UNKNOWN]++;
			log_warn("report from %s refused (unknown-terminal): "
				 "authsrv has no key of %s for us",
				 t->peer_s, id);
			tconn_kill(ag, t);
			continue;
		}
		tconn_resume(ag, t);
	}
	inputs_reap(ag);
}

/* Writes what is queued; never reads (notices are sent from inside the
 * engine's callback, which must not process new reports). */
static void tconn_flush(struct agent *ag, struct tconn *t)
{
	int r;

	while (t->outlen) {
		r = SSL_write(t->ssl, t->out, (int)t->outlen);
		if (r <= 0) {
			if (tls_blocked(ag, t, r))
				break;
			return;
		}
		memmove(t->out, t->out + r, t->outlen - (size_t)r);
		t->outlen -= (size_t)r;
	}
	watch_mod(ag, &t->w, EPOLLIN | (t->outlen ? EPOLLOUT : 0));
}

static void on_tconn(struct agent *ag, struct watch *w, uint32_t events)
{
	struct tconn *t = (struct tconn *)w;

	/* While a frame waits for its key the socket is not watched, but a
	 * hang-up still wakes us: give up on that terminal. */
	if (t->waiting && (events & (EPOLLHUP | EPOLLERR))) {
		tconn_kill(ag, t);
		return;
	}
	tconn_io(ag, t);
}

static void on_reports_listen(struct agent *ag, struct watch *w,
			      uint32_t events)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	struct tconn *t;
	int fd;

	while ((fd = accept4(w->fd, (struct sockaddr *)&ss, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (ag->ntconns >= TCONNS_MAX) {
			log_warn("reports: more than %d connections, refused",
				 TCONNS_MAX);
			close(fd);
			continue;
		}
		t = calloc(1, sizeof(*t));
		if (t)
			t->in = malloc(CRSAP_FRAME_MAX + 4);
		if (!t || !t->in || !(t->ssl = SSL_new(ag->tls)) ||
		    !SSL_set_fd(t->ssl, fd) ||
		    watch_add(ag, &t->w, fd, EPOLLIN, on_tconn)) {
			if (t) {
				SSL_free(t->ssl);
				free(t->in);
			}
			free(t);
			close(fd);
			continue;
		}
		SSL_set_accept_state(t->ssl);
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
				  host, sizeof(host));
		else
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
				  sizeof(host));
		addr_parse(host, &t->peer);
		/* an IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d,
		 * which is the same 128-bit form the dataplane uses */
		addr_format(&t->peer, t->peer_s, sizeof(t->peer_s));
		t->since = now_mono();
		t->next = ag->tconns;
		ag->tconns = t;
		ag->ntconns++;
		tconn_io(ag, t);
		sl = sizeof(ss);
	}
}

/* "192.0.2.1:7443", "[2001:db8::1]:7443", "*:7443". */
int listen_addr_parse(const char *s, struct sockaddr_storage *ss,
		      socklen_t *sl)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	unsigned long port;
	char *end;
	size_t hl;

	if (!colon)
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		memmove(host, host + 1, hl);
	}
	if (!strcmp(host, "*")) {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
	} else if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
	} else {
		return -EINVAL;
	}
	return 0;
}

int reports_open(struct agent *ag, char *err, size_t errlen)
{
	const struct policy_reports *rp = &ag->policy->reports;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, r;

	if (!rp->enabled)
		return 0;
	ag->tls = reports_tls_ctx(rp, err, errlen);
	if (!ag->tls)
		return -EINVAL;
	if (listen_addr_parse(rp->listen, &ss, &sl)) {
		snprintf(err, errlen, "reports: listen \"%s\" is not "
			 "ADDRESS:PORT", rp->listen);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) ||
	    listen(fd, 128)) {
		r = -errno;
		snprintf(err, errlen, "reports: listening on %s: %s",
			 rp->listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	r = watch_add(ag, &ag->reports, fd, EPOLLIN, on_reports_listen);
	if (r) {
		close(fd);
		return r;
	}
	log_info("reports: listening on %s (TLS 1.3, %zu terminal keys)",
		 rp->listen, ag->keys ? ag->keys->nkeys : 0);
	return 0;
}

void reports_close(struct agent *ag)
{
	for (struct tconn *t = ag->tconns; t; t = t->next)
		tconn_kill(ag, t);
	inputs_reap(ag);
	watch_close(ag, &ag->reports);
	SSL_CTX_free(ag->tls);
	ag->tls = NULL;
}

int reports_notify(struct agent *ag, const struct xcrs_addr *a)
{
	struct crsap_response r;
	struct corr_view v;
	int n = 0;

	for (struct tconn *t = ag->tconns; t; t = t->next) {
		if (t->dead || !t->authed || memcmp(&t->term, a, sizeof(*a)))
			continue;
		agent_describe(ag, a, t->id,
			       corr_terminal(decide_engine(ag->dec), a, &v) ? "released" :
								"reacted",
			       &r);
		if (tconn_send(ag, t, &r)) {
			tconn_kill(ag, t);
			continue;
		}
		if (t->up)
			tconn_flush(ag, t);
		n++;
	}
	return n;
}

void reports_housekeeping(struct agent *ag)
{
	uint64_t now = now_mono();

	for (struct tconn *t = ag->tconns; t; t = t->next) {
		uint64_t age = (now - t->since) / 1000000000ull;

		if (t->dead)
			continue;
		if ((!t->up && age >= HANDSHAKE_TIMEOUT_S) ||
		    (!t->authed && age >= UNAUTH_TIMEOUT_S)) {
			log_info("report connection from %s: no %s within "
				 "%" PRIu64 " s, closed", t->peer_s,
				 t->up ? "valid report" : "TLS handshake",
				 age);
			tconn_kill(ag, t);
		}
	}
	inputs_reap(ag);
}

void inputs_reap(struct agent *ag)
{
	metrics_reap(ag);
	for (struct lclient **pc = &ag->clients; *pc;) {
		struct lclient *c = *pc;

		if (!c->dead) {
			pc = &c->next;
			continue;
		}
		*pc = c->next;
		free(c->lb.buf);
		free(c->out);
		free(c);
		nclients--;
	}
	for (struct tconn **pt = &ag->tconns; *pt;) {
		struct tconn *t = *pt;

		if (!t->dead) {
			pt = &t->next;
			continue;
		}
		*pt = t->next;
		SSL_free(t->ssl);
		free(t->in);
		free(t->out);
		free(t);
		ag->ntconns--;
	}
}
