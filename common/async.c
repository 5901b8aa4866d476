// SPDX-License-Identifier: GPL-2.0-only
/* One worker thread and an eventfd back to the loop (see async.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "async.h"

/* A FIFO of jobs. */
struct jq {
	struct async_job *head, *tail;
};

struct async {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	int efd;
	size_t max, queued;	/* queued: submitted, done() not yet run */
	struct jq todo, finished; /* under mu */
};

static void jq_push(struct jq *q, struct async_job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
}

static struct async_job *jq_pop(struct jq *q)
{
	struct async_job *j = q->head;

	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void *worker(void *arg)
{
	struct async *a = arg;
	const uint64_t one = 1;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		struct async_job *j;

		while (!a->stop && !a->todo.head)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->stop)
			break;
		j = jq_pop(&a->todo);
		pthread_mutex_unlock(&a->mu);
		j->work(j);
		pthread_mutex_lock(&a->mu);
		jq_push(&a->finished, j);
		/* The counter only saturates after 2^64-2 wake-ups. */
		if (write(a->efd, &one, sizeof(one)) < 0) {
		}
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int async_open(size_t max_queued, struct async **ret_async)
{
	struct async *a = calloc(1, sizeof(*a));
	sigset_t all, old;
	int r;

	if (!a)
		return -ENOMEM;
	a->max = max_queued ? max_queued : 1;
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		r = -errno;
		free(a);
		return r;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	/* the worker takes no signal: the loop's signalfd does (a thread
	 * made before the loop blocks them would die of SIGHUP) */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&a->th, NULL, worker, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		close(a->efd);
		pthread_mutex_destroy(&a->mu);
		pthread_cond_destroy(&a->cv);
		free(a);
		return r;
	}
	*ret_async = a;
	return 0;
}

int async_fd(const struct async *a)
{
	return a->efd;
}

int async_submit(struct async *a, struct async_job *j)
{
	if (a->queued >= a->max)
		return -EBUSY;
	a->queued++;
	j->posted = false;
	pthread_mutex_lock(&a->mu);
	jq_push(&a->todo, j);
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

void async_post(struct async *a, struct async_job *j)
{
	const uint64_t one = 1;

	j->posted = true;
	pthread_mutex_lock(&a->mu);
	jq_push(&a->finished, j);
	if (write(a->efd, &one, sizeof(one)) < 0) {
	}
	pthread_mutex_unlock(&a->mu);
}

size_t async_queued(const struct async *a)
{
	return a->queued;
}

size_t async_process(struct async *a, void *ctx)
{
	struct jq list;
	uint64_t v;
	size_t n = 0;

	if (read(a->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: a previous call took the results already */
	}
	pthread_mutex_lock(&a->mu);
	list = a->finished;
	a->finished.head = a->finished.tail = NULL;
	pthread_mutex_unlock(&a->mu);
	for (struct async_job *j; (j = jq_pop(&list)); n++) {
		if (!j->posted)
			a->queued--;
		j->done(j, ctx, true);
	}
	return n;
}

void async_close(struct async *a, void *ctx)
{
	struct async_job *j;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	while ((j = jq_pop(&a->finished)))
		j->done(j, ctx, false);
	while ((j = jq_pop(&a->todo)))
		j->done(j, ctx, false);
	close(a->efd);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}
