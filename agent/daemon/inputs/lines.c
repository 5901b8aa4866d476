// SPDX-License-Identifier: GPL-2.0-only
/* Line-oriented inputs: line buffers, unix sockets, line clients (see
 * lines.h). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "lines.h"
#include "log.h"
#include "loop.h"

void linebuf_feed(struct linebuf *lb, size_t max, const char *data, size_t n,
		  void (*fn)(void *ctx, char *line, size_t len), void *ctx,
		  uint64_t *overlong)
{
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;

		if (lb->discarding) {
			if (nl)
				lb->discarding = false;
		} else if (lb->len + take > max) {
			(*overlong)++;
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
				fn(ctx, lb->buf, lb->len);
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

void linebuf_free(struct linebuf *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
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

struct lines {
	struct loop *loop;
	uint64_t warned; /* when an eviction was last logged */
	struct lclient *clients;
	struct lines_report rep;
};

struct lclient {
	struct watch w;
	struct lines *ls;
	struct lines_pool *pool;
	uint64_t since, last; /* connected, last read from */
	size_t max;
	lclient_fn fn;
	void *ctx;
	struct linebuf lb;
	char *out;
	size_t outlen, outoff;
	bool replied, dead;
	struct lclient *next;
};

static void lclient_kill(struct lclient *c)
{
	if (c->dead)
		return;
	loop_close(c->ls->loop, &c->w);
	c->dead = true;
	c->pool->clients--;
}

static void client_line(void *ctx, char *line, size_t len)
{
	struct lclient *c = ctx;

	if (c->dead || c->replied)
		return;
	c->fn(c->ctx, c, line, len);
}

static void client_flush(struct lclient *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->w.fd, c->out + c->outoff,
				 c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			loop_mod(c->ls->loop, &c->w, EPOLLOUT);
			return;
		}
		if (n <= 0) {
			lclient_kill(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	lclient_kill(c); /* one request, one reply */
}

static void on_client(struct watch *w, uint32_t events)
{
	struct lclient *c = container_of(w, struct lclient, w);
	char buf[16384];
	ssize_t n;

	if (c->replied) {
		client_flush(c);
		return;
	}
	for (;;) {
		n = recv(w->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			uint64_t over = c->ls->rep.overlong;

			c->last = loop_now(c->ls->loop);
			linebuf_feed(&c->lb, c->max, buf, (size_t)n,
				     client_line, c, &c->ls->rep.overlong);
			if (c->dead || c->replied)
				return;
			if (c->pool->request && over != c->ls->rep.overlong) {
				char e[96];
				int l = snprintf(e, sizeof(e),
						 "{\"ok\":false,\"error\":"
						 "\"request longer than %zu "
						 "bytes\"}", c->max);

				lines_reply(c->ls, c, e, (size_t)l);
				return;
			}
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		/* EOF: a last line without '\n' still counts */
		if (c->lb.len && !c->lb.discarding)
			linebuf_feed(&c->lb, SIZE_MAX, "\n", 1, client_line, c,
				     &c->ls->rep.overlong);
		if (!c->replied)
			lclient_kill(c);
		return;
	}
}

int lines_new(struct loop *l, struct lines **ret_lines)
{
	struct lines *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return -ENOMEM;
	ls->loop = l;
	*ret_lines = ls;
	return 0;
}

void lines_free(struct lines *ls)
{
	if (!ls)
		return;
	/* the pools may be gone already (their owners stop first) */
	for (struct lclient *c = ls->clients; c; c = c->next)
		if (!c->dead) {
			loop_close(ls->loop, &c->w);
			c->dead = true;
		}
	lines_reap(ls);
	free(ls);
}

const struct lines_report *lines_report(const struct lines *ls)
{
	return &ls->rep;
}

/* The client of pool idle longest (not one whose reply is on its way). */
static struct lclient *idlest(struct lines *ls, const struct lines_pool *pool)
{
	struct lclient *best = NULL;

	for (struct lclient *c = ls->clients; c; c = c->next)
		if (!c->dead && c->pool == pool && !c->replied &&
		    (!best || c->last < best->last))
			best = c;
	return best;
}

void lines_accept(struct lines *ls, struct lines_pool *pool, int lfd,
		  size_t max, lclient_fn fn, void *ctx)
{
	int fd = loop_accept(ls->loop, lfd, NULL, NULL, pool->name);
	uint64_t now = loop_now(ls->loop);
	struct lclient *c;

	if (fd < 0)
		return;
	if (pool->clients >= pool->max) {
		c = idlest(ls, pool);
		if (!c) {
			close(fd);
			return;
		}
		ls->rep.evicted++;
		/* a flood is one line a second, with the count so far */
		if (!ls->warned || now - ls->warned >= 1000000000ull) {
			ls->warned = now ? now : 1;
			log_warn("%s: %zu clients (its budget): the one idle "
				 "for %llu ms closed for a new one (%llu so "
				 "far)", pool->name, pool->clients,
				 (unsigned long long)((now - c->last) /
						      1000000),
				 (unsigned long long)ls->rep.evicted);
		}
		lclient_kill(c);
	}
	c = calloc(1, sizeof(*c));
	if (!c || loop_add(ls->loop, &c->w, fd, EPOLLIN, on_client)) {
		free(c);
		close(fd);
		return;
	}
	c->ls = ls;
	c->pool = pool;
	c->since = c->last = now;
	c->max = max;
	c->fn = fn;
	c->ctx = ctx;
	c->next = ls->clients;
	ls->clients = c;
	ls->rep.clients++;
	pool->clients++;
}

void lines_housekeeping(struct lines *ls)
{
	uint64_t now = loop_now(ls->loop);

	for (struct lclient *c = ls->clients; c; c = c->next) {
		if (c->dead || !c->pool->request ||
		    now - c->since < c->pool->request_ns)
			continue;
		ls->rep.timed_out++;
		log_info("%s: no complete request within %llu ms, closed",
			 c->pool->name,
			 (unsigned long long)(c->pool->request_ns / 1000000));
		lclient_kill(c);
	}
	lines_reap(ls);
}

void lclient_peer(const struct lclient *c, char *buf, size_t len)
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	struct passwd pw, *pp = NULL;
	char pwbuf[1024];

	if (getsockopt(c->w.fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) ||
	    cl != sizeof(cr)) {
		snprintf(buf, len, "operator");
		return;
	}
	getpwuid_r(cr.uid, &pw, pwbuf, sizeof(pwbuf), &pp);
	if (pp)
		snprintf(buf, len, "uid %u (%s) pid %d", (unsigned)cr.uid,
			 pp->pw_name, (int)cr.pid);
	else
		snprintf(buf, len, "uid %u pid %d", (unsigned)cr.uid,
			 (int)cr.pid);
}

void lines_reply(struct lines *ls, struct lclient *c, const char *s,
		 size_t len)
{
	c->out = malloc(len + 1);
	if (!c->out) {
		lclient_kill(c);
		return;
	}
	memcpy(c->out, s, len);
	c->out[len] = '\n';
	c->outlen = len + 1;
	c->replied = true;
	c->since = now_mono(); /* the deadline now is for writing it */
	client_flush(c);
}

const char *lclient_name(const struct lclient *c)
{
	return c->pool->name;
}

void lines_reap(struct lines *ls)
{
	for (struct lclient **pc = &ls->clients; *pc;) {
		struct lclient *c = *pc;

		if (!c->dead) {
			pc = &c->next;
			continue;
		}
		*pc = c->next;
		linebuf_free(&c->lb);
		free(c->out);
		free(c);
		ls->rep.clients--;
	}
}
