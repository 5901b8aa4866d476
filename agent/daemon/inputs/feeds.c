// SPDX-License-Identifier: GPL-2.0-only
/*
 * Event and session feeds (see feeds.h). Everything is non-blocking and
 * driven by the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "events.h"
#include "feeds.h"
#include "lineproto.h"
#include "log.h"
#include "loop.h"

struct input_stats {
	uint64_t lines, malformed, alerts;
};

/* Clients of one event or session socket at most (Suricata holds one; a
 * packet core a few). */
#define FEED_CLIENTS_MAX 64

struct input {
	struct watch w; /* inotify fd, or the listening socket */
	struct feeds *f;
	enum policy_input_kind kind;
	char path[256];
	char dir[256], name[256];
	struct lines_pool pool; /* a socket's clients */
	int fd;	  /* file being read, -1 none */
	off_t off;
	struct linebuf lb;
	struct input_stats st;
	struct input *next;
};

struct feeds {
	struct loop *loop;
	const struct policy *p;
	struct decide *dec;
	struct ms *ms;
	struct subscribers *subs;
	struct lines *lines;
	struct input *inputs;
	struct feeds_report rep;
};

static bool is_subscriber(void *ctx, const struct xcrs_addr *a)
{
	const struct feeds *f = ctx;

	/* a pool's or static address, or one the packet core says a
	 * subscriber holds (a session's address outside every pool) */
	return policy_static_sub(f->p, a) || policy_pool_level(f->p, a) >= 0 ||
	       (f->subs && subscribers_holder(f->subs, a));
}

static bool rate_ok(uint64_t count)
{
	return count <= 20 || count % 1000 == 0;
}

/* One EVE or generic line from the input named src. */
static void event_line(struct feeds *f, bool eve, struct input_stats *st,
		       const char *src, char *line, size_t len)
{
	struct ev_alert a;
	struct corr_event ev;
	char err[256];
	uint64_t t0;
	int r;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		line[--len] = '\0';
	if (!len)
		return;
	t0 = now_mono();
	st->lines++;
	if (eve)
		f->rep.eve_lines++;
	else
		f->rep.event_lines++;
	r = eve ? ev_parse_eve(line, len, &a, err, sizeof(err)) :
		  ev_parse_generic(line, len, &a, err, sizeof(err));
	if (r < 0) {
		st->malformed++;
		f->rep.malformed++;
		if (rate_ok(st->malformed))
			log_warn("%s: malformed event dropped (%" PRIu64
				 " so far): %s", src, st->malformed, err);
		return;
	}
	if (r == 0)
		return;
	st->alerts++;
	f->rep.alerts++;
	if (ev_to_corr(&a, is_subscriber, f, eve ? "eve" : "events", &ev)) {
		f->rep.not_subscriber++;
		log_debug("%s: alert %" PRIu64 " concerns no subscriber", src,
			  a.signature);
		return;
	}
	decide_ingest(f->dec, &ev, loop_now(f->loop), t0);
}

static void file_line(void *ctx, char *line, size_t len)
{
	struct input *in = ctx;

	event_line(in->f, true, &in->st, in->path, line, len);
}

static void file_drain(struct input *in)
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
		linebuf_feed(&in->lb, EV_LINE_MAX, buf, (size_t)n, file_line,
			     in, &in->f->rep.overlong);
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

static void on_inotify(struct watch *w, uint32_t events)
{
	struct input *in = container_of(w, struct input, w);
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
	file_drain(in);
	if (reopen || in->fd < 0) {
		struct stat a, b;

		if (in->fd >= 0 && fstat(in->fd, &a) == 0 &&
		    stat(in->path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return; /* same file after all */
		file_open(in, false);
		file_drain(in);
	}
}

static void input_free(struct input *in)
{
	loop_close(in->f->loop, &in->w);
	if (in->fd >= 0)
		close(in->fd);
	linebuf_free(&in->lb);
	free(in);
}

/* A session-feed line: the packet core's facts, or the address-only
 * form. */
static void session_line(struct feeds *f, const char *src, char *line,
			 size_t len)
{
	struct session_fact sf;
	struct sess_event ev = { 0 };
	char err[256];
	int r = session_fact_parse(line, len, &sf, err, sizeof(err));

	if (r == -ENOENT || r == -ENODATA) {
		ms_feed_line(f->ms, src, line, len);
		return;
	}
	f->rep.session_facts++;
	if (!r && !f->subs)
		r = -ENOTSUP;
	if (!r) {
		ev.status = sf.status;
		ev.nas = sf.nas[0] ? sf.nas : src;
		ev.session = sf.session;
		ev.imsi = sf.imsi;
		ev.msisdn = sf.msisdn;
		ev.apn = sf.apn;
		ev.location = sf.location;
		ev.has_ipv4 = sf.has_ipv4;
		ev.ipv4 = sf.ipv4;
		ev.has_ipv6 = sf.has_ipv6;
		ev.ipv6 = sf.ipv6;
		ev.ipv6_plen = sf.ipv6_plen;
		ev.t0 = now_mono();
		ev.source = "session feed";
		r = subscribers_event(f->subs, &ev, err, sizeof(err));
		subscribers_flush(f->subs);
	}
	if (r < 0) {
		f->rep.malformed++;
		if (rate_ok(f->rep.malformed))
			log_warn("%s: session line refused: %s", src, err);
	}
}

/* A line of a socket client of input in. */
static void socket_line(void *ctx, struct lclient *c, char *line, size_t len)
{
	struct input *in = ctx;

	if (in->kind == POLICY_IN_SESSION_SOCKET)
		session_line(in->f, lclient_name(c), line, len);
	else
		event_line(in->f, in->kind == POLICY_IN_EVE_SOCKET, &in->st,
			   lclient_name(c), line, len);
}

static void on_event_listen(struct watch *w, uint32_t events)
{
	struct input *in = container_of(w, struct input, w);

	lines_accept(in->f->lines, &in->pool, w->fd, EV_LINE_MAX,
		     socket_line, in);
}

static int input_open(struct feeds *f, const struct policy_input *pi,
		      char *err, size_t errlen)
{
	struct input *in = calloc(1, sizeof(*in));
	char tmp[256];
	int fd, r;

	if (!in)
		return -ENOMEM;
	in->f = f;
	in->kind = pi->kind;
	in->fd = -1;
	in->w.fd = -1;
	snprintf(in->path, sizeof(in->path), "%s", pi->path);
	in->pool = (struct lines_pool){ .name = in->path,
					.max = FEED_CLIENTS_MAX };
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
		r = loop_add(f->loop, &in->w, fd, EPOLLIN, on_inotify);
	} else {
		fd = unix_listen(pi->path, 0660, err, errlen);
		if (fd < 0) {
			free(in);
			return fd;
		}
		r = loop_add(f->loop, &in->w, fd, EPOLLIN, on_event_listen);
		log_info("%s: listening for %s", pi->path,
			 pi->kind == POLICY_IN_EVE_SOCKET ? "EVE JSON" :
			 pi->kind == POLICY_IN_SESSION_SOCKET
				 ? "MS connect/leave (session feed)"
				 : "JSON-lines events");
	}
	in->next = f->inputs;
	f->inputs = in;
	if (r)
		snprintf(err, errlen, "%s: %s", pi->path, strerror(-r));
	return r;
}

int feeds_new(struct loop *l, const struct policy *p, struct decide *dec,
	      struct ms *m, struct subscribers *subs, struct lines *ls,
	      struct feeds **ret_feeds, char *err, size_t errlen)
{
	struct feeds *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	*f = (struct feeds){ .loop = l, .p = p, .dec = dec, .ms = m,
			     .subs = subs, .lines = ls };
	for (size_t i = 0; i < p->ninputs; i++) {
		int r = input_open(f, &p->inputs[i], err, errlen);

		if (r) {
			feeds_free(f);
			return r;
		}
	}
	*ret_feeds = f;
	return 0;
}

void feeds_free(struct feeds *f)
{
	if (!f)
		return;
	while (f->inputs) {
		struct input *in = f->inputs;

		f->inputs = in->next;
		if (in->kind != POLICY_IN_EVE_FILE)
			unlink(in->path);
		input_free(in);
	}
	free(f);
}

void feeds_set_policy(struct feeds *f, const struct policy *p)
{
	f->p = p;
}

const struct feeds_report *feeds_report(const struct feeds *f)
{
	return &f->rep;
}

size_t feeds_describe(const struct feeds *f, json_object *arr)
{
	size_t n = 0;

	for (struct input *in = f->inputs; in; in = in->next, n++) {
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
