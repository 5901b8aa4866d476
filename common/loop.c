// SPDX-License-Identifier: GPL-2.0-only
/* The event loop (see loop.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "loop.h"

#define BATCH 64

struct loop {
	int epfd;
	uint64_t now;
	int reserve;	   /* a descriptor held back for EMFILE (loop_accept) */
	uint64_t shed;	   /* connections refused for want of descriptors */
	uint64_t shed_log; /* when that was last logged */
};

int loop_new(struct loop **ret_loop)
{
	struct loop *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		r = -errno;
		free(l);
		return r;
	}
	l->now = now_mono();
	l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	*ret_loop = l;
	return 0;
}

int loop_accept(struct loop *l, int lfd, struct sockaddr *sa,
		unsigned int *sl, const char *what)
{
	int fd = accept4(lfd, sa, (socklen_t *)sl, SOCK_NONBLOCK | SOCK_CLOEXEC),
	    e;

	if (fd >= 0 || (errno != EMFILE && errno != ENFILE))
		return fd;
	e = errno;
	if (l->reserve >= 0) {
		close(l->reserve);
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			l->shed++;
		}
		l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (!l->shed_log || l->now - l->shed_log >= 10000000000ull) {
		l->shed_log = l->now ? l->now : 1;
		log_warn("%s: out of file descriptors (%s): connections "
			 "refused (%llu so far); raise the limit (LimitNOFILE)",
			 what, e == EMFILE ? "EMFILE" : "ENFILE",
			 (unsigned long long)l->shed);
	}
	errno = e;
	return -1;
}

uint64_t loop_shed(const struct loop *l)
{
	return l->shed;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	if (l->reserve >= 0)
		close(l->reserve);
	free(l);
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

void loop_tick(struct loop *l)
{
	l->now = now_mono();
}

int loop_add(struct loop *l, struct watch *w, int fd, uint32_t events,
	     watch_fn fn)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	w->fd = fd;
	w->events = events;
	w->fn = fn;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int r = -errno;

		w->fd = -1;
		return r;
	}
	return 0;
}

int loop_mod(struct loop *l, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (w->events == events)
		return 0;
	w->events = events;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void loop_forget(struct loop *l, struct watch *w)
{
	if (w->fd < 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
}

void loop_close(struct loop *l, struct watch *w)
{
	int fd = w->fd;

	if (fd < 0)
		return;
	loop_forget(l, w);
	close(fd);
}

int loop_timer(struct loop *l, struct watch *w, watch_fn fn)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = loop_add(l, w, fd, EPOLLIN, fn);
	if (r)
		close(fd);
	return r;
}

static struct timespec ts_of(uint64_t ns)
{
	struct timespec t = { (time_t)(ns / 1000000000ull),
			      (long)(ns % 1000000000ull) };

	return t;
}

int loop_timer_in(struct watch *w, uint64_t first_ns, uint64_t interval_ns)
{
	struct itimerspec its = { .it_value = ts_of(first_ns),
				  .it_interval = ts_of(interval_ns) };

	return timerfd_settime(w->fd, 0, &its, NULL) ? -errno : 0;
}

int loop_timer_at(struct watch *w, uint64_t at)
{
	struct itimerspec its = { .it_value = ts_of(at) };

	return timerfd_settime(w->fd, TFD_TIMER_ABSTIME, &its, NULL) ? -errno :
								       0;
}

void loop_timer_ack(struct watch *w)
{
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing expired (a spurious wake-up) */
	}
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct epoll_event evs[BATCH];
	int n = epoll_wait(l->epfd, evs, BATCH, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	l->now = now_mono();
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;

		/* closed by an earlier handler of this batch (its memory
		 * stays until the owner reaps it after the batch) */
		if (w->fd >= 0)
			w->fn(w, evs[i].events);
	}
	return n;
}
