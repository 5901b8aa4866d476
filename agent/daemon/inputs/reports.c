// SPDX-License-Identifier: GPL-2.0-only
/*
 * The report listener (see reports.h): non-blocking TLS connections driven
 * by the loop; a malformed or unauthentic report is counted, logged and
 * refused, and changes nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "addr.h"
#include "clock.h"
#include "evaluate.h"
#include "log.h"
#include "loop.h"
#include "reports.h"
#include "sci.h"

/*
 * The budgets of the report listener, which every terminal reaches at every
 * level (a quarantined one too), so one source must not lock the others
 * out:
 * - connections at most, and from one source (an IPv4 address, an IPv6
 *   /64: one terminal) at most; when every slot is taken, a new connection
 *   takes the place of the oldest one that has not authenticated a frame;
 * - deadlines, each connection's own, checked every TICK_NS while any
 *   connection is open: the TLS handshake, the first valid report, and any
 *   frame once its first byte is here (a frame that announces 64 KiB and
 *   sends 10 bytes is closed);
 * - buffers that grow with what has arrived, not with what a frame
 *   announces, under one budget of bytes for all connections; OpenSSL's
 *   own buffers are released while a connection is idle.
 */
#define TCONNS_MAX 1024
#define PER_SOURCE_MAX 8
#define HANDSHAKE_NS (3 * 1000000000ull)
#define UNAUTH_NS (10 * 1000000000ull)
#define FRAME_NS (5 * 1000000000ull)
#define TICK_NS (250 * 1000000ull)
#define INBUF_STEP 16384
#define INBUF_BUDGET (16u << 20)

struct reports {
	struct loop *loop;
	const struct policy *p;
	struct decide *dec;
	struct keys *keys;
	struct ms *ms;
	struct subscribers *subs;
	struct updates *up;
	struct peers *peers;
	struct crsap_replay *replay;
	SSL_CTX *tls;
	struct watch listen, tick;
	bool ticking;
	size_t inbytes;	    /* of every connection's input buffer */
	uint64_t warned;    /* when a refusal was last logged */
	struct tconn *tconns;
	/* while a report of this terminal is being answered, its notices go
	 * into the answer instead */
	const struct xcrs_addr *answering;
	struct reports_report rep;
};

struct tconn {
	struct watch w;
	struct reports *r;
	SSL *ssl;
	bool up, dead;
	uint8_t *in;
	size_t inlen, incap;
	uint64_t frame_since; /* when the first byte of a frame came */
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

/* OpenSSL's reasons, in words ("no start line", not
 * "error:0480006C:PEM routines::no start line"), each once. */
static void tls_errors(char *err, size_t errlen)
{
	unsigned long e;
	size_t n = strlen(err);
	const char *last = NULL;

	while ((e = ERR_get_error()) && n + 3 < errlen) {
		const char *why = ERR_reason_error_string(e);

		if (!why || (last && !strcmp(why, last)) ||
		    !strcmp(why, "system lib"))
			continue;
		snprintf(err + n, errlen - n, ": %s", why);
		n = strlen(err);
		last = why;
	}
	ERR_clear_error();
}

/* A file OpenSSL is to read, checked first so that the operator reads
 * "No such file or directory" or "is a directory": 0, or -errno with err
 * set to "WHAT PATH: why". */
static int tls_file(const char *what, const char *path, char *err,
		    size_t errlen)
{
	struct stat st;

	if (stat(path, &st) || access(path, R_OK)) {
		int r = -errno;

		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-r));
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s %s: is a directory, not a PEM file",
			 what, path);
		return -EISDIR;
	}
	return 0;
}

SSL_CTX *reports_tls_ctx(const struct policy_reports *rp, char *err,
			 size_t errlen)
{
	SSL_CTX *ctx;

	if (tls_file("TLS certificate", rp->cert, err, errlen) ||
	    tls_file("TLS key", rp->key, err, errlen))
		return NULL;
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "TLS: cannot create a context");
		tls_errors(err, errlen);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				      SSL_MODE_RELEASE_BUFFERS);
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

static void tconn_kill(struct tconn *t)
{
	if (t->dead)
		return;
	loop_close(t->r->loop, &t->w);
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

/* Sends resp (MAC'd with the terminal's key) on t. */
static int tconn_send(struct tconn *t, const struct crsap_response *resp)
{
	const struct crsap_key *k = keys_find(t->r->keys, t->id);
	char *xml = NULL;
	uint8_t *frame = NULL;
	size_t xlen, flen;
	int ret;

	if (!k)
		return -ENOKEY;
	ret = crsap_response_build(resp, &xml, &xlen);
	if (!ret)
		ret = crsap_frame_build(t->id, k->key, k->keylen, xml, xlen,
					&frame, &flen);
	if (!ret)
		tconn_queue(t, frame, flen);
	free(xml);
	free(frame);
	return ret;
}

static void handle_report(struct tconn *t, const uint8_t *buf, size_t len,
			  uint64_t t0)
{
	struct reports *rs = t->r;
	uint64_t now = loop_now(rs->loop);
	static struct crsap_sca_msg msg;
	struct crsap_report rep;
	enum crsap_status eval;
	const char *by;
	struct crsap_response resp;
	const struct crsap_key *k = NULL;
	struct corr_event ev = {.kind = CORR_EV_REPORT};
	char err[512], tbuf[ADDR_STRLEN];
	enum crsap_verdict v;

	const struct crsap_keyring *kr = keys_file(rs->keys), *cached;
	struct crsap_frame f;

	/* A peer SCS asking about an MS that moved (roaming). */
	if (!crsap_frame_split(buf, len, &f, err, sizeof(err)) &&
	    (k = peers_key(rs->peers, f.id))) {
		struct xcrs_addr moved;
		uint8_t *out = NULL;
		size_t olen;
		int r;

		err[0] = '\0';
		r = peers_answer(rs->peers, rs->replay, k, buf, len, &out,
				 &olen, &moved, err, sizeof(err));
		if (r < 0) {
			log_warn("peer message from %s refused: %s", t->peer_s,
				 err);
			tconn_kill(t);
			return;
		}
		tconn_queue(t, out, olen);
		free(out);
		/* it is not here any more: its state and control go */
		if (r == 1)
			ms_leave(rs->ms, &moved, "moved");
		return;
	}
	/* A terminal that reports with a B-TID: its key comes from authsrv.
	 * The frame waits (in t->in) until it is here. */
	if (!crsap_frame_split(buf, len, &f, err, sizeof(err)) &&
	    !crsap_keyring_find(kr, f.id) && keys_authsrv(rs->keys)) {
		if ((cached = keys_cached_ring(rs->keys, f.id))) {
			kr = cached;
		} else if (gbakeys_is_btid(f.id)) {
			if (keys_request(rs->keys, f.id)) {
				rs->rep.refused++;
				rs->rep.refused_by[CRSAP_BUSY]++;
				log_warn("report from %s refused (busy): too "
					 "many key requests to authsrv",
					 t->peer_s);
				tconn_kill(t);
				return;
			}
			t->waiting = true;
			snprintf(t->wait_id, sizeof(t->wait_id), "%s", f.id);
			return;
		}
	}
	v = crsap_verify_sca(kr, rs->replay, buf, len, now_real_ms(),
			     rs->p->reports.max_skew_ns / 1000000, &msg,
			     &k, err, sizeof(err));
	if (v != CRSAP_OK) {
		rs->rep.refused++;
		rs->rep.refused_by[v]++;
		log_warn("report from %s refused (%s): %s", t->peer_s,
			 crsap_verdict_to_string(v), err);
		tconn_kill(t);
		return;
	}
	/* X.1124 and the packet core must name the same subscriber: the
	 * key's (authsrv's released identity, or the key file's) and the
	 * one whose session holds the address the report is about */
	{
		struct xcrs_addr about = k->peer ? t->peer : k->addr;
		const char *holder = rs->subs ?
					     subscribers_holder(rs->subs, &about) :
					     NULL;

		if (holder && k->subscriber[0] && strcmp(holder, k->subscriber)) {
			rs->rep.refused++;
			rs->rep.refused_by[CRSAP_MISMATCH]++;
			addr_format(&about, tbuf, sizeof(tbuf));
			log_warn("report from %s refused (%s): its key is "
				 "%s's, the session holding %s is %s's",
				 t->peer_s,
				 crsap_verdict_to_string(CRSAP_MISMATCH),
				 k->subscriber, tbuf, holder);
			tconn_kill(t);
			return;
		}
	}
	rs->rep.accepted++;
	t->authed = true;
	t->term = k->peer ? t->peer : k->addr;
	addr_format(&t->term, tbuf, sizeof(tbuf));
	if (msg.kind == CRSAP_SCA_PROBE_RESPONSE) {
		/* The SCA is there; it still has to report (11.3). */
		snprintf(t->id, sizeof(t->id), "%s", msg.probe.ms);
		ms_probe_answered(rs->ms, &t->term, msg.probe.ms,
				  msg.probe.sca_version);
		sci_describe(rs->p, decide_engine(rs->dec), &t->term,
			     msg.probe.ms, "probe", &resp);
		memcpy(resp.in_response_to, msg.probe.nonce,
		       sizeof(msg.probe.nonce));
		if (tconn_send(t, &resp))
			log_warn("%s: could not build the SCI response",
				 msg.probe.ms);
		return;
	}
	rep = msg.report;
	snprintf(t->id, sizeof(t->id), "%s", rep.ms);
	log_info("report from %s (%s): %s, %zu threat(s)", rep.ms, tbuf,
		 crsap_status_name(rep.status), rep.nthreats);
	/* A report shows the MS is there and has an SCA: a hold at the
	 * download service ends before the report is evaluated. */
	ms_reported(rs->ms, &t->term, rep.ms);
	update_report(rs->up, &t->term, &rep);

	/* Security evaluation policy: what the report says, raised by the
	 * policy's evaluation entries (clause 8, 11.2). */
	eval = sci_evaluate(rs->p, &rep, now_real_ms(), &by);
	if (by)
		log_info("%s evaluated %s by %s (reported %s)", tbuf,
			 crsap_status_name(eval), by,
			 crsap_status_name(rep.status));
	ev.terminal = t->term;
	ev.status = eval;
	snprintf(ev.source, sizeof(ev.source), "report:%.40s", rep.ms);
	snprintf(ev.detail, sizeof(ev.detail), "SCI report: %s%s%.40s%s%.60s",
		 crsap_status_name(eval),
		 by ? " by evaluation " : "", by ? by : "",
		 rep.nthreats ? ", threat " : "",
		 rep.nthreats ? rep.threats[0].name : "");
	rs->answering = &t->term;
	decide_ingest(rs->dec, &ev, now, t0);
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
		decide_ingest(rs->dec, &te, now, t0);
	}
	rs->answering = NULL;
	sci_describe(rs->p, decide_engine(rs->dec), &t->term, rep.ms,
		     crsap_status_name(eval), &resp);
	memcpy(resp.in_response_to, rep.nonce, sizeof(rep.nonce));
	if (tconn_send(t, &resp))
		log_warn("%s: could not build the SCI response", rep.ms);
}

static void tconn_flush(struct tconn *t);
static void on_tick(struct watch *w, uint32_t events);

/* After an SSL_read/SSL_write that returned r <= 0: true if it only has to
 * wait for the socket; otherwise the connection is closed (by the
 * terminal, or broken) and false is returned. */
static bool tls_blocked(struct tconn *t, int r)
{
	int e = SSL_get_error(t->ssl, r);

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return true;
	ERR_clear_error();
	tconn_kill(t);
	return false;
}

static void tconn_run(struct tconn *t, bool resume);

static void tconn_io(struct tconn *t)
{
	if (!t->waiting)
		tconn_run(t, false);
}

/* Processes the frames already buffered, then reads on. */
static void tconn_resume(struct tconn *t)
{
	tconn_run(t, true);
}

/* Room for the next read: up to what the frame being read still needs
 * (its header first), in steps, under the listener's budget. False (and
 * the connection closed) when the budget has no room. */
static bool tconn_room(struct tconn *t)
{
	struct reports *rs = t->r;
	long need = crsap_frame_size(t->in, t->inlen);
	size_t want, cap;
	uint8_t *b;

	want = need > 0 ? (size_t)need : 4;
	if (want < t->inlen + 1)
		want = t->inlen + 1;
	if (t->incap > t->inlen)
		return true;
	cap = t->incap + INBUF_STEP;
	if (cap > want)
		cap = want;
	if (cap < 4)
		cap = 4;
	if (rs->inbytes - t->incap + cap > INBUF_BUDGET ||
	    !(b = realloc(t->in, cap))) {
		rs->rep.refused++;
		rs->rep.refused_by[CRSAP_BUSY]++;
		rs->rep.over_budget++;
		log_warn("report from %s refused (busy): the listener's %u "
			 "bytes of buffers are in use", t->peer_s,
			 INBUF_BUDGET);
		tconn_kill(t);
		return false;
	}
	rs->inbytes += cap - t->incap;
	t->in = b;
	t->incap = cap;
	return true;
}

/* A frame was taken from the buffer: what is left moves up; an empty
 * buffer is given back. */
static void tconn_consumed(struct tconn *t, size_t n)
{
	memmove(t->in, t->in + n, t->inlen - n);
	t->inlen -= n;
	t->frame_since = t->inlen ? loop_now(t->r->loop) : 0;
	if (!t->inlen && t->incap > 4096) {
		t->r->inbytes -= t->incap;
		free(t->in);
		t->in = NULL;
		t->incap = 0;
	}
}

static void tconn_run(struct tconn *t, bool resume)
{
	struct reports *rs = t->r;
	int r, e;

	if (!t->up) {
		r = SSL_do_handshake(t->ssl);
		if (r == 1) {
			t->up = true;
		} else {
			e = SSL_get_error(t->ssl, r);
			if (e == SSL_ERROR_WANT_READ) {
				loop_mod(rs->loop, &t->w, EPOLLIN);
				return;
			}
			if (e == SSL_ERROR_WANT_WRITE) {
				loop_mod(rs->loop, &t->w, EPOLLOUT);
				return;
			}
			rs->rep.tls_failed++;
			log_info("report connection from %s: TLS handshake "
				 "failed", t->peer_s);
			ERR_clear_error();
			tconn_kill(t);
			return;
		}
	}
	for (;;) {
		long need;

		if (!resume) {
			if (!tconn_room(t))
				return;
			r = SSL_read(t->ssl, t->in + t->inlen,
				     (int)(t->incap - t->inlen));
			if (r <= 0) {
				if (tls_blocked(t, r))
					break;
				return;
			}
			if (!t->inlen)
				t->frame_since = loop_now(rs->loop);
			t->inlen += (size_t)r;
		}
		while ((need = crsap_frame_size(t->in, t->inlen)) != 0) {
			if (need < 0) {
				rs->rep.refused++;
				rs->rep.refused_by[CRSAP_MALFORMED]++;
				log_warn("report from %s refused (malformed): "
					 "frame length out of range",
					 t->peer_s);
				tconn_kill(t);
				return;
			}
			if (t->inlen < (size_t)need)
				break;
			handle_report(t, t->in + 4, (size_t)need - 4,
				      now_mono());
			if (t->dead)
				return;
			if (t->waiting) {
				/* read nothing more until the key is here */
				tconn_flush(t);
				loop_mod(rs->loop, &t->w, t->outlen ? EPOLLOUT : 0);
				return;
			}
			tconn_consumed(t, (size_t)need);
		}
		if (resume) {
			/* buffered frames done: read the socket again */
			resume = false;
			continue;
		}
	}
	tconn_flush(t);
}

/* The keys module's: a fetch from authsrv ended. */
static void key_ready(void *ctx, const char *id, bool ok)
{
	struct reports *rs = ctx;

	for (struct tconn *t = rs->tconns; t; t = t->next) {
		if (t->dead || !t->waiting || strcmp(t->wait_id, id))
			continue;
		t->waiting = false;
		if (!ok) {
			rs->rep.refused++;
			rs->rep.refused_by[CRSAP_UNKNOWN]++;
			log_warn("report from %s refused (unknown-terminal): "
				 "authsrv has no key of %s for us",
				 t->peer_s, id);
			tconn_kill(t);
			continue;
		}
		tconn_resume(t);
	}
	reports_reap(rs);
}

/* Writes what is queued; never reads (notices are sent from inside the
 * engine's callback, which must not process new reports). */
static void tconn_flush(struct tconn *t)
{
	int r;

	while (t->outlen) {
		r = SSL_write(t->ssl, t->out, (int)t->outlen);
		if (r <= 0) {
			if (tls_blocked(t, r))
				break;
			return;
		}
		memmove(t->out, t->out + r, t->outlen - (size_t)r);
		t->outlen -= (size_t)r;
	}
	loop_mod(t->r->loop, &t->w, EPOLLIN | (t->outlen ? EPOLLOUT : 0));
}

static void on_tconn(struct watch *w, uint32_t events)
{
	struct tconn *t = container_of(w, struct tconn, w);

	/* While a frame waits for its key the socket is not watched, but a
	 * hang-up still wakes us: give up on that terminal. */
	if (t->waiting && (events & (EPOLLHUP | EPOLLERR))) {
		tconn_kill(t);
		return;
	}
	tconn_io(t);
}

/* One source: an IPv4 address, an IPv6 /64 (a terminal's prefix). */
static bool same_source(const struct xcrs_addr *a, const struct xcrs_addr *b)
{
	return !memcmp(a, b, addr_is_v4(a) ? sizeof(*a) : 8);
}

/* Logs a refusal at most once a second (a flood is one line, counted). */
static bool warn_now(struct reports *rs)
{
	uint64_t now = loop_now(rs->loop);

	if (rs->warned && now - rs->warned < 1000000000ull)
		return false;
	rs->warned = now ? now : 1;
	return true;
}

/* Room for a connection from peer: false if its source has its share;
 * when every slot is taken, the oldest connection that has not
 * authenticated a frame goes (false if there is none). */
static bool admit(struct reports *rs, const struct xcrs_addr *peer,
		  const char *peer_s)
{
	struct tconn *oldest = NULL;
	size_t mine = 0, open = 0;

	for (struct tconn *t = rs->tconns; t; t = t->next) {
		if (t->dead)
			continue;
		open++;
		if (same_source(&t->peer, peer))
			mine++;
		if (!t->authed && (!oldest || t->since < oldest->since))
			oldest = t;
	}
	if (mine >= PER_SOURCE_MAX) {
		rs->rep.limited++;
		if (warn_now(rs))
			log_warn("reports: %s has %zu connections open (the "
				 "most one source may), more refused (%" PRIu64
				 " so far)",
				 peer_s, mine, rs->rep.limited);
		return false;
	}
	if (open < TCONNS_MAX)
		return true;
	if (!oldest) {
		rs->rep.limited++;
		if (warn_now(rs))
			log_warn("reports: %d authenticated connections open, "
				 "%s refused", TCONNS_MAX, peer_s);
		return false;
	}
	rs->rep.evicted++;
	if (warn_now(rs))
		log_warn("reports: %d connections open; the oldest "
			 "unauthenticated one (%s) closed for %s (%" PRIu64
			 " so far)",
			 TCONNS_MAX, oldest->peer_s, peer_s, rs->rep.evicted);
	tconn_kill(oldest);
	return true;
}

static void on_reports_listen(struct watch *w, uint32_t events)
{
	struct reports *rs = container_of(w, struct reports, listen);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct xcrs_addr peer;
	char peer_s[ADDR_STRLEN + 8];
	struct tconn *t;
	int fd, one = 1;

	while ((fd = loop_accept(rs->loop, w->fd, (struct sockaddr *)&ss, &sl,
				 "reports")) >= 0) {
		sl = sizeof(ss);
		/* an IPv4 peer on a dual-stack socket shows as
		 * ::ffff:a.b.c.d, the same 128-bit form the dataplane uses */
		if (addr_from_sockaddr(&ss, &peer)) {
			close(fd);
			continue;
		}
		addr_format(&peer, peer_s, sizeof(peer_s));
		if (!admit(rs, &peer, peer_s)) {
			close(fd);
			continue;
		}
		t = calloc(1, sizeof(*t));
		if (t)
			t->r = rs;
		if (!t || !(t->ssl = SSL_new(rs->tls)) ||
		    !SSL_set_fd(t->ssl, fd) ||
		    loop_add(rs->loop, &t->w, fd, EPOLLIN, on_tconn)) {
			if (t)
				SSL_free(t->ssl);
			free(t);
			close(fd);
			continue;
		}
		SSL_set_accept_state(t->ssl);
		/* the handshake's session tickets and the answer are small
		 * writes: without this, the answer waits for the terminal's
		 * delayed ACK (40 ms) */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		t->peer = peer;
		memcpy(t->peer_s, peer_s, sizeof(t->peer_s));
		t->since = loop_now(rs->loop);
		t->next = rs->tconns;
		rs->tconns = t;
		rs->rep.connections++;
		if (!rs->ticking && !loop_timer_in(&rs->tick, TICK_NS, TICK_NS))
			rs->ticking = true;
		tconn_io(t);
	}
}

static int listen_on(struct reports *rs, char *err, size_t errlen)
{
	const struct policy_reports *rp = &rs->p->reports;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, r;

	rs->tls = reports_tls_ctx(rp, err, errlen);
	if (!rs->tls)
		return -EINVAL;
	if (addr_listen_parse(rp->listen, &ss, &sl)) {
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
	r = loop_add(rs->loop, &rs->listen, fd, EPOLLIN, on_reports_listen);
	if (r) {
		close(fd);
		return r;
	}
	log_info("reports: listening on %s (TLS 1.3, %zu terminal keys)",
		 rp->listen, keys_file(rs->keys)->nkeys);
	return 0;
}

int reports_new(struct loop *l, const struct policy *p, struct decide *dec,
		struct keys *keys, struct ms *m, struct subscribers *subs,
		struct updates *up, struct peers *peers,
		struct reports **ret_reports, char *err, size_t errlen)
{
	struct reports *rs = calloc(1, sizeof(*rs));
	int r;

	if (!rs)
		return -ENOMEM;
	*rs = (struct reports){ .loop = l, .p = p, .dec = dec, .keys = keys,
				.ms = m, .subs = subs, .up = up,
				.peers = peers,
				.listen.fd = -1, .tick.fd = -1 };
	r = crsap_replay_new(1u << 18, &rs->replay);
	if (!r)
		r = loop_timer(l, &rs->tick, on_tick);
	if (!r && p->reports.enabled)
		r = listen_on(rs, err, errlen);
	if (r) {
		if (!err[0])
			snprintf(err, errlen, "reports: %s", strerror(-r));
		reports_free(rs);
		return r;
	}
	keys_on_ready(keys, key_ready, rs);
	*ret_reports = rs;
	return 0;
}

void reports_free(struct reports *rs)
{
	if (!rs)
		return;
	keys_on_ready(rs->keys, NULL, NULL);
	for (struct tconn *t = rs->tconns; t; t = t->next)
		tconn_kill(t);
	reports_reap(rs);
	loop_close(rs->loop, &rs->listen);
	loop_close(rs->loop, &rs->tick);
	SSL_CTX_free(rs->tls);
	crsap_replay_free(rs->replay);
	free(rs);
}

void reports_set_policy(struct reports *rs, const struct policy *p)
{
	rs->p = p;
}

const struct reports_report *reports_report(const struct reports *rs)
{
	return &rs->rep;
}

void reports_terminal_changed(void *ctx, const struct xcrs_addr *a)
{
	struct reports *rs = ctx;
	struct crsap_response resp;
	struct corr_view v;

	if (rs->answering && !memcmp(rs->answering, a, sizeof(*a)))
		return;
	for (struct tconn *t = rs->tconns; t; t = t->next) {
		if (t->dead || !t->authed || memcmp(&t->term, a, sizeof(*a)))
			continue;
		sci_describe(rs->p, decide_engine(rs->dec), a, t->id,
			     corr_terminal(decide_engine(rs->dec), a, &v) ?
				     "released" :
				     "reacted",
			     &resp);
		if (tconn_send(t, &resp)) {
			tconn_kill(t);
			continue;
		}
		if (t->up)
			tconn_flush(t);
		rs->rep.notices++;
	}
}

/* Closes the connections past one of their deadlines. */
static void on_tick(struct watch *w, uint32_t events)
{
	struct reports *rs = container_of(w, struct reports, tick);
	uint64_t now = loop_now(rs->loop);
	const char *what;

	loop_timer_ack(w);
	for (struct tconn *t = rs->tconns; t; t = t->next) {
		if (t->dead || t->waiting)
			continue;
		if (!t->up && now - t->since >= HANDSHAKE_NS)
			what = "no TLS handshake within 3 s";
		else if (!t->authed && now - t->since >= UNAUTH_NS)
			what = "no valid report within 10 s";
		else if (t->frame_since && now - t->frame_since >= FRAME_NS)
			what = "a frame not complete within 5 s";
		else
			continue;
		rs->rep.timed_out++;
		log_info("report connection from %s: %s, closed", t->peer_s,
			 what);
		tconn_kill(t);
	}
	reports_reap(rs);
}

void reports_housekeeping(struct reports *rs)
{
	reports_reap(rs);
}

void reports_reap(struct reports *rs)
{
	for (struct tconn **pt = &rs->tconns; *pt;) {
		struct tconn *t = *pt;

		if (!t->dead) {
			pt = &t->next;
			continue;
		}
		*pt = t->next;
		SSL_free(t->ssl);
		rs->inbytes -= t->incap;
		free(t->in);
		free(t->out);
		free(t);
		rs->rep.connections--;
	}
	if (!rs->rep.connections && rs->ticking) {
		loop_timer_in(&rs->tick, 0, 0);
		rs->ticking = false;
	}
}
