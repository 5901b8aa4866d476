/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Line-oriented inputs: a buffer that splits a byte stream into lines (an
 * over-long line is dropped whole and counted), unix listening sockets,
 * and line clients of those sockets (event feeds, session feeds, the
 * control socket) under one budget of connections. A client's lines go to
 * its owner's function; a client may get one reply, after which it is
 * closed. Clients closed during a loop wake-up are freed by lines_reap()
 * after it.
 */
#ifndef XCRS_LINES_H
#define XCRS_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct loop;
struct lines;
struct lclient;

struct linebuf {
	char *buf;
	size_t len, cap;
	bool discarding; /* inside an over-long line */
};

/* Appends data and calls fn for each complete line (without its '\n',
 * NUL-terminated). A line longer than max is dropped whole and counted in
 * *overlong. */
void linebuf_feed(struct linebuf *lb, size_t max, const char *data, size_t n,
		  void (*fn)(void *ctx, char *line, size_t len), void *ctx,
		  uint64_t *overlong);
void linebuf_free(struct linebuf *lb);

/* A listening unix socket at path (a stale socket there is replaced),
 * mode given. The fd, or -errno with err. */
int unix_listen(const char *path, mode_t mode, char *err, size_t errlen);

struct lines_report {
	uint64_t overlong; /* lines over their limit, dropped */
	uint64_t evicted;  /* clients closed to make room for a new one */
	uint64_t timed_out; /* request clients closed at their deadline */
	size_t clients;	   /* open now */
};

/* A line of client c. */
typedef void (*lclient_fn)(void *ctx, struct lclient *c, char *line,
			   size_t len);

/*
 * The budget of one listening socket: its clients count against it alone,
 * so a flood of one socket (300 idle connections on events.sock) leaves
 * every other socket, the control socket above all, reachable. When it is
 * full, a new connection takes the place of the client that has been idle
 * longest (an idle flood cannot keep Suricata or the operator out; the
 * evicted are counted). A request socket (the control socket) gets one
 * line and answers it: its client has request_ns from its connection to
 * send the line and is closed after that; a request over its limit is
 * answered with an error, not dropped in silence.
 */
struct lines_pool {
	const char *name; /* its path, for the logs */
	size_t max;	  /* clients at most */
	size_t clients;	  /* open now */
	bool request;	  /* one request line, one reply */
	uint64_t request_ns;
};

int lines_new(struct loop *l, struct lines **ret_lines);
/* Closes and frees every client. ls may be NULL. */
void lines_free(struct lines *ls);
const struct lines_report *lines_report(const struct lines *ls);
/* Accepts one connection on the listening socket lfd into pool; its lines
 * (at most max bytes each) go to fn. */
void lines_accept(struct lines *ls, struct lines_pool *pool, int lfd,
		  size_t max, lclient_fn fn, void *ctx);
/* Closes the request clients past their deadline (from housekeeping). */
void lines_housekeeping(struct lines *ls);
/* The reply to c (a '\n' is added); c is closed once it is written. */
/* Who is at the other end of c (a unix socket's SO_PEERCRED): "uid U
 * (NAME) pid P", or "operator" when the kernel does not say. */
void lclient_peer(const struct lclient *c, char *buf, size_t len);
void lines_reply(struct lines *ls, struct lclient *c, const char *s,
		 size_t len);
/* The name it was accepted under (its socket's path). */
const char *lclient_name(const struct lclient *c);
/* Frees the clients closed since the last call. */
void lines_reap(struct lines *ls);

#endif
