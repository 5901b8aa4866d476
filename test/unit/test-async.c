// SPDX-License-Identifier: GPL-2.0-only
/* The async job queue (common/async.h): order, the loop's thread, limits,
 * close with work pending. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "async.h"

struct tjob {
	struct async_job j;
	int n;
	pthread_t worker;	/* set by work() */
	int *gate;		/* work() waits while *gate */
	pthread_mutex_t *mu;
};

struct log {
	int order[64];
	int n, dropped;
	pthread_t done_on;
};

static void twork(struct async_job *aj)
{
	struct tjob *t = (struct tjob *)aj;

	t->worker = pthread_self();
	if (t->gate) {
		for (;;) {
			int g;

			pthread_mutex_lock(t->mu);
			g = *t->gate;
			pthread_mutex_unlock(t->mu);
			if (!g)
				break;
			usleep(1000);
		}
	}
}

static void tdone(struct async_job *aj, void *ctx, bool ran)
{
	struct tjob *t = (struct tjob *)aj;
	struct log *l = ctx;

	if (ran) {
		cr_assert(!pthread_equal(t->worker, pthread_self()),
			  "work() ran on the loop's thread");
		l->order[l->n++] = t->n;
		l->done_on = pthread_self();
	} else {
		l->dropped++;
	}
	free(t);
}

static struct tjob *mk(int n)
{
	struct tjob *t = calloc(1, sizeof(*t));

	t->j.work = twork;
	t->j.done = tdone;
	t->n = n;
	return t;
}

/* Waits for the fd and processes until want results came. */
static void drain(struct async *a, struct log *l, int want)
{
	for (int tries = 0; l->n < want && tries < 500; tries++) {
		struct pollfd p = { .fd = async_fd(a), .events = POLLIN };

		if (poll(&p, 1, 10) == 1)
			async_process(a, l);
	}
}

Test(async, results_in_submission_order_on_the_loop)
{
	struct async *a;
	struct log l = { 0 };

	cr_assert_eq(async_open(64, &a), 0);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(async_submit(a, &mk(i)->j), 0);
	drain(a, &l, 20);
	cr_assert_eq(l.n, 20);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(l.order[i], i, "job %d finished as %d", i,
			     l.order[i]);
	cr_assert(pthread_equal(l.done_on, pthread_self()));
	cr_assert_eq(async_queued(a), 0);
	async_close(a, &l);
	cr_assert_eq(l.dropped, 0);
}

Test(async, fd_quiet_until_a_result)
{
	struct async *a;
	struct log l = { 0 };
	struct pollfd p;

	cr_assert_eq(async_open(4, &a), 0);
	p = (struct pollfd){ .fd = async_fd(a), .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 20), 0, "readable with nothing submitted");
	cr_assert_eq(async_process(a, &l), 0);
	async_submit(a, &mk(7)->j);
	drain(a, &l, 1);
	cr_assert_eq(l.n, 1);
	cr_assert_eq(poll(&p, 1, 20), 0, "readable after the result was taken");
	async_close(a, &l);
}

Test(async, bounded_and_close_drops_what_is_left)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	int gate = 1;
	struct async *a;
	struct log l = { 0 };
	struct tjob *first = mk(0);

	cr_assert_eq(async_open(3, &a), 0);
	first->gate = &gate;
	first->mu = &mu;
	cr_assert_eq(async_submit(a, &first->j), 0);
	cr_assert_eq(async_submit(a, &mk(1)->j), 0);
	cr_assert_eq(async_submit(a, &mk(2)->j), 0);
	{
		struct tjob *over = mk(3);

		cr_assert_eq(async_submit(a, &over->j), -EBUSY);
		free(over);
	}
	cr_assert_eq(async_queued(a), 3);
	pthread_mutex_lock(&mu);
	gate = 0;
	pthread_mutex_unlock(&mu);
	/* Closing: the running job ends, the others are dropped (or, if
	 * they finished already, their results are not taken). */
	async_close(a, &l);
	cr_assert_eq(l.n, 0, "a result was taken after close");
	cr_assert_eq(l.dropped, 3);
}
