/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Blocking work off the event loop: one worker thread runs jobs in the order
 * they were submitted, and their results come back to the loop through one
 * file descriptor (like unbound's ub_fd()/ub_process()). The loop watches
 * async_fd() and calls async_process() when it is readable; each finished
 * job's done() then runs on the loop's thread.
 *
 * Contract: a job's work() runs on the worker and touches nothing but the
 * job (and what the submitter made the worker's own, such as a client
 * connection only the worker uses); a job carries copies of what it needs,
 * never pointers into data the loop may free (a reloaded policy). Functions
 * return 0 or a negative errno.
 */
#ifndef XCRS_ASYNC_H
#define XCRS_ASYNC_H

#include <stdbool.h>
#include <stddef.h>

struct async;

struct async_job {
	/* On the worker thread. */
	void (*work)(struct async_job *j);
	/* On the loop, after work(): takes the result and frees the job.
	 * ran is false when the queue is closed before the result was
	 * taken: then it only frees. */
	void (*done)(struct async_job *j, void *ctx, bool ran);
	struct async_job *next; /* the queue's */
	bool posted;		/* async_post's: not counted as queued */
};

/* Starts the worker. At most max_queued jobs wait or run at once. */
int async_open(size_t max_queued, struct async **ret_async);
/* Readable while finished jobs wait for async_process(). */
int async_fd(const struct async *a);
/* Queues j (owned by the queue until its done() is called). -EBUSY when
 * max_queued jobs are queued. */
int async_submit(struct async *a, struct async_job *j);
/* From any thread (a library's callback, a thread of the caller's own):
 * j is finished already (work is not called); its done() runs on the loop
 * at the next async_process(), in the order posted. Never refused: the
 * poster bounds what it posts. */
void async_post(struct async *a, struct async_job *j);
/* Jobs submitted whose done() has not run yet. */
size_t async_queued(const struct async *a);
/* Calls done(j, ctx, true) for every finished job, in the order they
 * finished; returns how many. */
size_t async_process(struct async *a, void *ctx);
/* Stops the worker once its current job ends, then calls done(j, ctx,
 * false) for every job left, and frees the queue. a may be NULL. */
void async_close(struct async *a, void *ctx);

#endif
