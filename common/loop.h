/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event loop every xcrs daemon module runs in: one epoll set of
 * watches (a descriptor and the function to call when it is ready), timers
 * as timerfds, and one "now" per wake-up that every handler of that wake-up
 * sees (CLOCK_MONOTONIC ns), so a batch of events is judged at one time.
 * A module embeds its struct watch in its own context and finds the
 * context again with container_of(). Functions return 0 or a negative
 * errno.
 */
#ifndef XCRS_LOOP_H
#define XCRS_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct loop;
struct watch;
typedef void (*watch_fn)(struct watch *w, uint32_t events);

/* One descriptor in the set; fd is -1 while it is not in one. */
struct watch {
	int fd;
	uint32_t events;
	watch_fn fn;
};

int loop_new(struct loop **ret_loop);
/* Closes the epoll set (not the watches' descriptors). l may be NULL. */
void loop_free(struct loop *l);
/* CLOCK_MONOTONIC ns at the start of the current wake-up (before the first
 * one: when the loop was made, or the last loop_tick()). */
uint64_t loop_now(const struct loop *l);
/* Takes a new "now" (start-up work between wake-ups). */
void loop_tick(struct loop *l);

/* Adds fd (taking it: loop_close closes it) with fn for events. */
int loop_add(struct loop *l, struct watch *w, int fd, uint32_t events,
	     watch_fn fn);
int loop_mod(struct loop *l, struct watch *w, uint32_t events);
/* Removes w and closes its fd; nothing happens if it is not in the set. */
void loop_close(struct loop *l, struct watch *w);
/* Removes w; its fd stays open (someone else owns it). */
void loop_forget(struct loop *l, struct watch *w);

/* A timer: a timerfd watch; its fn calls loop_timer_ack() first. */
int loop_timer(struct loop *l, struct watch *w, watch_fn fn);
void loop_timer_ack(struct watch *w);
/* Fires first after first_ns, then every interval_ns (0: once); first_ns
 * 0 disarms. */
int loop_timer_in(struct watch *w, uint64_t first_ns, uint64_t interval_ns);
/* Fires at the CLOCK_MONOTONIC time at (0 disarms). */
int loop_timer_at(struct watch *w, uint64_t at);

/* accept4(lfd, sa, sl, SOCK_NONBLOCK | SOCK_CLOEXEC) for a listener's
 * watch. Out of descriptors (EMFILE, ENFILE), the pending connection is
 * taken with a descriptor the loop keeps in reserve and closed at once:
 * left in the backlog, it would keep the listener ready and the loop would
 * wake at once again, and again (a flood at the descriptor limit spun a
 * core). Such refusals are counted (loop_shed) and logged at most once in
 * 10 s, naming what. Returns the descriptor, or -1 with errno. */
struct sockaddr;
int loop_accept(struct loop *l, int lfd, struct sockaddr *sa,
		unsigned int *sl, const char *what);
/* Connections refused so far for want of descriptors. */
uint64_t loop_shed(const struct loop *l);

/* Waits (timeout_ms, -1: forever) for one wake-up, takes its "now" and
 * calls each ready watch (one closed by an earlier handler of the same
 * wake-up is skipped: owners free a watch's memory only after the batch).
 * Returns how many were ready, or -errno. */
int loop_run_once(struct loop *l, int timeout_ms);

#endif
