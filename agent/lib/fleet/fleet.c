// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet over NATS JetStream (fleet.h): the connection, the buckets and
 * the stream, the publisher, the watchers, and the loop's copy of what the
 * buckets hold.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <nats/nats.h>

#include "async.h"
#include "clock.h"
#include "fleet.h"
#include "log.h"
#include "loop.h"

#define B_DEC 0 /* bucket xcrs_decisions */
#define B_SESS 1 /* bucket xcrs_sessions */
#define NB 2
static const char *const bucket_name[NB] = { "xcrs_decisions",
					     "xcrs_sessions" };
#define STREAM "XCRS_EVENTS"
#define SUBJ_PREFIX "xcrs.events."

#define CBUCKETS (1u << 20) /* keys of a fleet of some size: chains stay short */
#define EVENTS_MAX 100000u /* events kept while cut off */
#define INFLIGHT_MAX 256u   /* writes handed to the publisher at once */

/* ---- what the threads post to the loop ---- */

enum post_kind {
	P_STATUS = 0,	/* connected or not */
	P_BEGIN,	/* a watcher starts a full load (gen) */
	P_ENTRY,	/* one entry of it, or a later change */
	P_END,		/* the load is complete */
	P_EVENT,	/* a message of the events stream */
	P_SETUP,	/* the buckets and the stream are open */
};

struct post {
	struct async_job j;
	enum post_kind kind;
	int bucket;
	uint64_t gen;
	char *key, *val;
	size_t len;
	uint64_t rev, created_ms;
	bool deleted;
	bool connected;
	char server[256];
};

/* ---- writes ---- */

enum wkind { W_PUT = 0, W_DEL, W_CREATE, W_DEL_IF_OURS, W_EVENT };

/* One key's write waiting or under way (at most one under way a key, so
 * writes of a key land in order). */
struct pend {
	int bucket;
	char *key;
	enum wkind kind;
	char *val; /* W_PUT, W_CREATE; W_DEL_IF_OURS: our node's name */
	bool in_flight, dirty;
	struct pend *next;  /* hash chain */
	struct pend *qnext; /* ready queue */
	bool queued;
};

struct wjob {
	struct async_job j;
	struct fleet *f;
	struct pend *pd; /* NULL: an event */
	enum wkind kind;
	int bucket;
	char *key, *val;
	size_t len;
	natsStatus st;
	char errtext[160];
	uint64_t rev;
	bool exists; /* W_CREATE: the key was there */
};

/* ---- the loop's copy of the buckets ---- */

struct centry {
	int bucket;
	char *key;
	char *val; /* NULL when deleted */
	uint64_t rev, gen, created_ms;
	struct centry *next;
};

struct wstate {
	struct fleet *f;
	int bucket;
	pthread_t th;
	bool started;
	atomic_bool restart;
	uint64_t gen;		/* the watcher thread's */
	uint64_t load_gen;	/* the loop's: the load under way, 0 none */
	bool loaded;		/* a full load completed */
};

struct evq {
	char *val;
	size_t len;
	struct evq *next;
};

struct fleet {
	struct loop *loop;
	const struct policy *p;
	struct fleet_sink sink;
	char node[FLEET_NODE_MAX];
	uint64_t sync_timeout_ns;

	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv[NB];
	/* the watchers' own handles: a long wait (a watcher over a million
	 * keys is a consumer the servers take seconds to make) */
	jsCtx *jsw[2];
	kvStore *kvw[NB][2];
	natsSubscription *evsub;
	atomic_bool stop, connected_flag;
	/* nats.c calls back on its own threads: fleet_close waits for the
	 * last of them (the connection closed, the events' handler done)
	 * before it frees what they reach */
	atomic_bool nc_closed, evsub_done;
	/* why the setup thread has not made the buckets yet (under
	 * setup_mu): a start that times out says it */
	pthread_mutex_t setup_mu;
	char setup_err[256];

	struct async *q;
	struct watch qw;
	struct watch timer;

	struct centry *cache[CBUCKETS];
	struct pend *pend[CBUCKETS];
	struct pend *ready, *ready_tail;
	size_t inflight;
	struct evq *evhead, *evtail;
	size_t nev;
	bool ev_inflight;

	struct wstate w[NB];
	bool setup_done; /* the buckets are open: writes may go */
	bool first_synced;
	struct fleet_report rep;
	uint64_t last_err_log;
};

static uint64_t wall_ms(void)
{
	return now_real_ms();
}

static uint32_t hstr(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n && s[i]; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h & (CBUCKETS - 1);
}

/* A key's group: the key without its last token (sub.<id>.<node> ->
 * sub.<id>; <id>.<node> -> <id>), so that one subscriber's keys share a
 * chain. */
static size_t group_len(const char *key)
{
	const char *dot = strrchr(key, '.');

	return dot ? (size_t)(dot - key) : strlen(key);
}

static uint32_t hgrp(int bucket, const char *grp, size_t n)
{
	return (hstr(grp, n) + (uint32_t)bucket * 7919u) & (CBUCKETS - 1);
}

static uint32_t hkey(int bucket, const char *key)
{
	return hgrp(bucket, key, group_len(key));
}

static struct centry *cfind(const struct fleet *f, int bucket,
			    const char *key)
{
	for (struct centry *e = f->cache[hkey(bucket, key)]; e; e = e->next)
		if (e->bucket == bucket && !strcmp(e->key, key))
			return e;
	return NULL;
}

static struct pend *pfind(const struct fleet *f, int bucket, const char *key)
{
	for (struct pend *p = f->pend[hkey(bucket, key)]; p; p = p->next)
		if (p->bucket == bucket && !strcmp(p->key, key))
			return p;
	return NULL;
}

/* ---- threads: nats.c's callbacks and the watchers ---- */

static void post_done(struct async_job *j, void *ctx, bool ran);

static void post_status(struct fleet *f, bool connected)
{
	struct post *p = calloc(1, sizeof(*p));

	if (!p)
		return;
	p->kind = P_STATUS;
	p->connected = connected;
	if (connected && f->nc)
		natsConnection_GetConnectedUrl(f->nc, p->server,
					       sizeof(p->server));
	p->j.done = post_done;
	async_post(f->q, &p->j);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct fleet *f = closure;

	(void)nc;
	atomic_store(&f->connected_flag, false);
	if (!atomic_load(&f->stop))
		post_status(f, false);
}

static void on_closed(natsConnection *nc, void *closure)
{
	struct fleet *f = closure;

	(void)nc;
	atomic_store(&f->nc_closed, true);
}

static void on_evsub_done(void *closure)
{
	struct fleet *f = closure;

	atomic_store(&f->evsub_done, true);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct fleet *f = closure;

	(void)nc;
	if (atomic_load(&f->stop))
		return;
	atomic_store(&f->connected_flag, true);
	/* a full load again: what changed while we were away, deletes too
	 * (a key gone from the bucket is found by its absence) */
	for (int b = 0; b < NB; b++)
		atomic_store(&f->w[b].restart, true);
	post_status(f, true);
}

static void on_connected(natsConnection *nc, void *closure)
{
	on_reconnected(nc, closure);
}

static void post_simple(struct fleet *f, enum post_kind k, int bucket,
			uint64_t gen)
{
	struct post *p = calloc(1, sizeof(*p));

	if (!p)
		return;
	p->kind = k;
	p->bucket = bucket;
	p->gen = gen;
	p->j.done = post_done;
	async_post(f->q, &p->j);
}

/* The last revision of a bucket's stream (0 when it cannot be read). */
/* The bucket's last revision, and how many entries it holds (msgs may be
 * NULL); 0 when the servers do not answer. */
static uint64_t bucket_state(struct fleet *f, int bucket, uint64_t *msgs)
{
	char name[64];
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	uint64_t last = 0;

	if (msgs)
		*msgs = 0;
	snprintf(name, sizeof(name), "KV_%s", bucket_name[bucket]);
	if (js_GetStreamInfo(&si, f->js, name, NULL, &jerr) == NATS_OK) {
		last = si->State.LastSeq;
		if (msgs)
			*msgs = si->State.Msgs;
		jsStreamInfo_Destroy(si);
	}
	return last;
}

static uint64_t bucket_last(struct fleet *f, int bucket)
{
	return bucket_state(f, bucket, NULL);
}

/* Entries from which a watcher's consumer is asked for with the long
 * wait at once: the servers take seconds to make one over a large
 * bucket, and a request given up is one more consumer they make. */
#define LARGE_BUCKET 20000

static void *watcher(void *arg)
{
	struct wstate *w = arg;
	struct fleet *f = w->f;
	uint64_t seen, seen_then;
	int64_t last_check, backoff = 100, t_watch;
	unsigned fails = 0;
	int lag;

	while (!atomic_load(&f->stop)) {
		kvWatcher *kw = NULL;
		kvWatchOptions o;
		/* a short wait for a small bucket (a request lost in a
		 * leader election is tried again soon), the long one for a
		 * large one, and after three failures */
		int lw;
		kvStore *kv;
		natsStatus st;
		uint64_t msgs;

		if (!f->kv[w->bucket] || !atomic_load(&f->connected_flag)) {
			nats_Sleep(50);
			continue;
		}
		bucket_state(f, w->bucket, &msgs);
		lw = msgs >= LARGE_BUCKET || (fails >= 3 && fails % 4 == 3);
		kv = f->kvw[w->bucket][lw];
		if (!kv && js_KeyValue(&f->kvw[w->bucket][lw], f->jsw[lw],
				       bucket_name[w->bucket]) != NATS_OK) {
			nats_Sleep(200);
			continue;
		}
		kv = f->kvw[w->bucket][lw];
		kvWatchOptions_Init(&o);
		/* every entry from the start, not the last per key: the
		 * buckets keep one revision per key, so that is the same,
		 * and the servers make such a consumer without indexing a
		 * million subjects first */
		o.IncludeHistory = true;
		atomic_store(&w->restart, false);
		t_watch = nats_Now();
		st = kvStore_WatchAll(&kw, kv, &o);
		if (st != NATS_OK) {
			/* back off: every try is a consumer the servers make */
			fails++;
			nats_Sleep(backoff);
			if (backoff < 2000)
				backoff *= 2;
			continue;
		}
		if (msgs >= LARGE_BUCKET)
			log_info("fleet: bucket %s: %llu entries; the servers "
				 "made its watcher in %lld ms",
				 bucket_name[w->bucket],
				 (unsigned long long)msgs,
				 (long long)(nats_Now() - t_watch));
		fails = 0;
		backoff = 100;
		w->gen++;
		post_simple(f, P_BEGIN, w->bucket, w->gen);
		seen = seen_then = 0;
		lag = 0;
		last_check = nats_Now();
		while (!atomic_load(&f->stop) && !atomic_load(&w->restart)) {
			kvEntry *e = NULL;
			struct post *p;
			kvOperation op;

			st = kvWatcher_Next(&e, kw, 200);
			if (st == NATS_TIMEOUT) {
				/* A watcher can go deaf without an error (its
				 * consumer lost with a server while the
				 * connection stays up): the bucket's last
				 * revision ahead of what came, twice in a row,
				 * starts a full load again. */
				if (nats_Now() - last_check < 1000)
					continue;
				last_check = nats_Now();
				/* behind, and nothing came since the last
				 * look (a watcher catching up is not deaf) */
				if (seen == seen_then &&
				    bucket_last(f, w->bucket) > seen) {
					if (++lag >= 3) {
						log_warn("fleet: bucket %s: "
							 "updates stopped "
							 "coming; loading it "
							 "again",
							 bucket_name[w->bucket]);
						break;
					}
				} else {
					lag = 0;
				}
				seen_then = seen;
				continue;
			}
			if (st != NATS_OK)
				break;
			if (!e) {
				post_simple(f, P_END, w->bucket, w->gen);
				continue;
			}
			p = calloc(1, sizeof(*p));
			if (p) {
				op = kvEntry_Operation(e);
				p->kind = P_ENTRY;
				p->bucket = w->bucket;
				p->gen = w->gen;
				p->key = strdup(kvEntry_Key(e));
				p->rev = kvEntry_Revision(e);
				if (p->rev > seen)
					seen = p->rev;
				p->created_ms = (uint64_t)kvEntry_Created(e) /
						1000000ULL;
				p->deleted = op != kvOp_Put;
				if (!p->deleted) {
					p->len = (size_t)kvEntry_ValueLen(e);
					p->val = malloc(p->len + 1);
					if (p->val) {
						memcpy(p->val, kvEntry_Value(e),
						       p->len);
						p->val[p->len] = '\0';
					}
				}
				if (!p->key || (!p->deleted && !p->val)) {
					free(p->key);
					free(p->val);
					free(p);
				} else {
					p->j.done = post_done;
					async_post(f->q, &p->j);
				}
			}
			kvEntry_Destroy(e);
		}
		kvWatcher_Destroy(kw);
	}
	return NULL;
}

static void on_event_msg(natsConnection *nc, natsSubscription *sub,
			 natsMsg *m, void *closure)
{
	struct fleet *f = closure;
	const char *subj = natsMsg_GetSubject(m);
	struct post *p;

	(void)nc;
	(void)sub;
	/* our own events are counted where they were made */
	if (!atomic_load(&f->stop) && !strncmp(subj, SUBJ_PREFIX, strlen(SUBJ_PREFIX)) &&
	    strcmp(subj + strlen(SUBJ_PREFIX), f->node) &&
	    (p = calloc(1, sizeof(*p)))) {
		p->kind = P_EVENT;
		p->len = (size_t)natsMsg_GetDataLength(m);
		p->val = malloc(p->len + 1);
		if (p->val) {
			memcpy(p->val, natsMsg_GetData(m), p->len);
			p->val[p->len] = '\0';
			p->j.done = post_done;
			async_post(f->q, &p->j);
		} else {
			free(p);
		}
	}
	natsMsg_Destroy(m);
}

/* ---- the publisher (the async worker) ---- */

static void wjob_work(struct async_job *j)
{
	struct wjob *w = (struct wjob *)j;
	struct fleet *f = w->f;
	kvStore *kv = w->bucket >= 0 ? f->kv[w->bucket] : NULL;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;

	if (w->bucket >= 0 && !kv) {
		w->st = NATS_NOT_YET_CONNECTED;
		snprintf(w->errtext, sizeof(w->errtext), "the bucket is not "
			 "open yet");
		return;
	}
	switch (w->kind) {
	case W_PUT:
		w->st = kvStore_Put(&w->rev, kv, w->key, w->val, (int)w->len);
		break;
	case W_DEL:
		w->st = kvStore_Delete(kv, w->key);
		break;
	case W_CREATE:
		w->st = kvStore_Create(&w->rev, kv, w->key, w->val,
				       (int)w->len);
		if (w->st != NATS_OK) {
			kvEntry *e = NULL;

			/* there already: someone else's record stands */
			if (kvStore_Get(&e, kv, w->key) == NATS_OK) {
				w->exists = true;
				w->st = NATS_OK;
				kvEntry_Destroy(e);
			}
		}
		break;
	case W_DEL_IF_OURS: {
		kvEntry *e = NULL;
		char node[FLEET_NODE_MAX];

		/* the record goes only if it is still ours (it may be another
		 * node's by now) */
		w->st = kvStore_Get(&e, kv, w->key);
		if (w->st == NATS_NOT_FOUND) {
			w->st = NATS_OK;
			break;
		}
		if (w->st != NATS_OK)
			break;
		if (fleet_value_node(kvEntry_Value(e),
				     (size_t)kvEntry_ValueLen(e), node) &&
		    !strcmp(node, w->val))
			w->st = kvStore_Delete(kv, w->key);
		kvEntry_Destroy(e);
		break;
	}
	case W_EVENT: {
		char subj[64];

		snprintf(subj, sizeof(subj), SUBJ_PREFIX "%s", f->node);
		w->st = js_Publish(&pa, f->js, subj, w->val, (int)w->len, NULL,
				   &jerr);
		jsPubAck_Destroy(pa);
		break;
	}
	}
	if (w->st != NATS_OK) {
		const char *t = nats_GetLastError(NULL);

		snprintf(w->errtext, sizeof(w->errtext), "%s%s%s",
			 t && *t ? t : natsStatus_GetText(w->st),
			 jerr ? ", JetStream error " : "", "");
		if (jerr)
			snprintf(w->errtext + strlen(w->errtext),
				 sizeof(w->errtext) - strlen(w->errtext), "%d",
				 (int)jerr);
	}
}

static void pump(struct fleet *f);

static void pend_free(struct fleet *f, struct pend *pd)
{
	for (struct pend **pp = &f->pend[hkey(pd->bucket, pd->key)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == pd) {
			*pp = pd->next;
			break;
		}
	free(pd->key);
	free(pd->val);
	free(pd);
	f->rep.pending--;
}

static void ready_push(struct fleet *f, struct pend *pd)
{
	if (pd->queued || pd->in_flight)
		return;
	pd->queued = true;
	pd->qnext = NULL;
	if (f->ready_tail)
		f->ready_tail->qnext = pd;
	else
		f->ready = pd;
	f->ready_tail = pd;
}

static void log_write_error(struct fleet *f, const char *what,
			    const char *key, const char *err)
{
	uint64_t now = loop_now(f->loop);

	/* cut off, every write fails: one line in 10 s */
	if (now - f->last_err_log < 10000000000ULL && f->last_err_log)
		return;
	f->last_err_log = now;
	log_warn("fleet: %s %s failed (%s); kept, written again when the "
		 "servers answer",
		 what, key, err);
}

/* Our write is in: the loop's copy holds it at once (its echo from the
 * watcher then changes nothing, and an older entry of the key that is
 * still on its way is known as older). */
static void cache_set(struct fleet *f, int bucket, const char *key,
		      const char *val, uint64_t rev)
{
	struct centry *e = cfind(f, bucket, key);

	if (!e) {
		uint32_t h;

		if (!val)
			return;
		e = calloc(1, sizeof(*e));
		if (!e || !(e->key = strdup(key))) {
			free(e);
			return;
		}
		e->bucket = bucket;
		h = hkey(bucket, key);
		e->next = f->cache[h];
		f->cache[h] = e;
		if (bucket == B_DEC)
			f->rep.decisions++;
		else
			f->rep.sessions++;
	}
	free(e->val);
	e->val = val ? strdup(val) : NULL;
	if (rev > e->rev)
		e->rev = rev;
	e->created_ms = wall_ms();
}

static void wjob_done(struct async_job *j, void *ctx, bool ran)
{
	struct wjob *w = (struct wjob *)j;
	struct fleet *f = ctx;
	struct pend *pd = w->pd;

	f->inflight--;
	if (!pd) { /* an event */
		f->ev_inflight = false;
		if (ran && w->st == NATS_OK) {
			struct evq *e = f->evhead;

			f->evhead = e->next;
			if (!f->evhead)
				f->evtail = NULL;
			free(e->val);
			free(e);
			f->nev--;
			f->rep.events_out++;
		} else if (ran) {
			log_write_error(f, "publishing an event", "", w->errtext);
		}
		free(w);
		if (ran)
			pump(f);
		return;
	}
	pd->in_flight = false;
	if (!ran) {
		free(w->key);
		free(w->val);
		free(w);
		return;
	}
	if (w->st == NATS_OK) {
		if (w->kind == W_PUT || (w->kind == W_CREATE && !w->exists)) {
			f->rep.puts++;
			cache_set(f, w->bucket, w->key, w->val, w->rev);
		} else if (w->kind == W_DEL || w->kind == W_DEL_IF_OURS) {
			f->rep.deletes++;
			if (w->kind == W_DEL)
				cache_set(f, w->bucket, w->key, NULL, 0);
		}
		if (!pd->dirty)
			pend_free(f, pd);
		else
			ready_push(f, pd);
	} else {
		f->rep.put_errors++;
		log_write_error(f, w->kind == W_PUT ? "writing" : "deleting",
				w->key, w->errtext);
		pd->dirty = true; /* written again on reconnect, or the timer */
		if (atomic_load(&f->connected_flag))
			loop_timer_in(&f->timer, 1000000000ULL, 0);
	}
	free(w->key);
	free(w->val);
	free(w);
	pump(f);
}

/* Hands what is ready to the publisher. */
static void pump(struct fleet *f)
{
	if (!atomic_load(&f->connected_flag) || !f->setup_done)
		return;
	while (f->ready && f->inflight < INFLIGHT_MAX) {
		struct pend *pd = f->ready;
		struct wjob *w = calloc(1, sizeof(*w));

		if (!w)
			return;
		f->ready = pd->qnext;
		if (!f->ready)
			f->ready_tail = NULL;
		pd->queued = false;
		w->j.work = wjob_work;
		w->j.done = wjob_done;
		w->f = f;
		w->pd = pd;
		w->kind = pd->kind;
		w->bucket = pd->bucket;
		w->key = strdup(pd->key);
		w->val = pd->val ? strdup(pd->val) : NULL;
		w->len = pd->val ? strlen(pd->val) : 0;
		if (!w->key || (pd->val && !w->val) ||
		    async_submit(f->q, &w->j)) {
			free(w->key);
			free(w->val);
			free(w);
			ready_push(f, pd);
			return;
		}
		pd->in_flight = true;
		pd->dirty = false;
		f->inflight++;
	}
	if (f->evhead && !f->ev_inflight && f->inflight < INFLIGHT_MAX) {
		struct wjob *w = calloc(1, sizeof(*w));

		if (!w)
			return;
		w->j.work = wjob_work;
		w->j.done = wjob_done;
		w->f = f;
		w->kind = W_EVENT;
		w->bucket = -1;
		w->val = NULL;
		w->len = f->evhead->len;
		/* the job reads the queue's head, which stays until done */
		w->val = f->evhead->val;
		if (async_submit(f->q, &w->j)) {
			free(w);
			return;
		}
		f->ev_inflight = true;
		f->inflight++;
	}
}

static void write_key(struct fleet *f, int bucket, const char *key,
		      enum wkind kind, const char *val)
{
	struct pend *pd = pfind(f, bucket, key);
	char *v = val ? strdup(val) : NULL;

	if (val && !v)
		return;
	if (!pd) {
		pd = calloc(1, sizeof(*pd));
		if (!pd || !(pd->key = strdup(key))) {
			free(pd);
			free(v);
			log_warn("fleet: out of memory: %s not written", key);
			return;
		}
		uint32_t h = hkey(bucket, key);

		pd->bucket = bucket;
		pd->next = f->pend[h];
		f->pend[h] = pd;
		f->rep.pending++;
	}
	free(pd->val);
	pd->val = v;
	pd->kind = kind;
	pd->dirty = true;
	ready_push(f, pd);
	pump(f);
}

/* ---- the loop's side of what comes in ---- */

static bool split_sub_key(const char *key, char *id, size_t idlen, char *node)
{
	char enc[200];
	const char *dot;
	size_t n;

	if (strncmp(key, "sub.", 4))
		return false;
	dot = strrchr(key, '.');
	if (dot == key + 3)
		return false;
	n = (size_t)(dot - (key + 4));
	if (!n || n >= sizeof(enc) || strlen(dot + 1) >= FLEET_NODE_MAX ||
	    !dot[1])
		return false;
	memcpy(enc, key + 4, n);
	enc[n] = '\0';
	snprintf(node, FLEET_NODE_MAX, "%s", dot + 1);
	return fleet_key_dec(enc, id, idlen);
}

/* An entry's meaning, told to the sink. prev: what the loop held of the
 * key before (NULL: nothing). */
static void tell(struct fleet *f, const struct centry *e, bool had)
{
	char id[FLEET_ID_MAX], node[FLEET_NODE_MAX], name[POLICY_NAME_MAX];

	if (e->bucket != B_DEC)
		return; /* sessions are read by show */
	if (split_sub_key(e->key, id, sizeof(id), node)) {
		struct fleet_decision d;

		if (!strcmp(node, f->node)) {
			struct pend *pd = pfind(f, B_DEC, e->key);

			/* ours, deleted by another node (a fleet-wide
			 * release), and nothing of ours on its way */
			if (!e->val && had && !pd && f->sink.own_released)
				f->sink.own_released(f->sink.ctx, id);
			return;
		}
		if (e->val) {
			if (fleet_decision_decode(e->val, strlen(e->val), &d) ||
			    strcmp(d.id, id) || strcmp(d.node, node)) {
				f->rep.refused++;
				log_warn("fleet: %s: not a decision; ignored",
					 e->key);
				return;
			}
			f->rep.applied++;
			f->sink.decision(f->sink.ctx, id, node, &d);
		} else if (had) {
			f->rep.applied++;
			f->sink.decision(f->sink.ctx, id, node, NULL);
		}
		return;
	}
	if (!strncmp(e->key, "scope.", 6) &&
	    fleet_key_dec(e->key + 6, name, sizeof(name))) {
		struct fleet_scope s;

		if (e->val) {
			if (fleet_scope_decode(e->val, strlen(e->val), &s) ||
			    strcmp(s.scope, name)) {
				f->rep.refused++;
				log_warn("fleet: %s: not a containment; "
					 "ignored",
					 e->key);
				return;
			}
			f->rep.applied++;
			f->sink.scope(f->sink.ctx, name, &s);
		} else if (had) {
			f->sink.scope(f->sink.ctx, name, NULL);
		}
		return;
	}
	if (!strncmp(e->key, "prefix.", 7) &&
	    fleet_key_dec(e->key + 7, name, sizeof(name))) {
		struct fleet_prefix x;

		if (e->val) {
			if (fleet_prefix_decode(e->val, strlen(e->val), &x) ||
			    strcmp(x.prefix, name)) {
				f->rep.refused++;
				log_warn("fleet: %s: not a prefix decision; "
					 "ignored",
					 e->key);
				return;
			}
			f->rep.applied++;
			if (f->sink.prefix)
				f->sink.prefix(f->sink.ctx, name, &x);
		} else if (had && f->sink.prefix) {
			f->sink.prefix(f->sink.ctx, name, NULL);
		}
		return;
	}
	f->rep.refused++;
	log_warn("fleet: %s: a key xcrs does not write; ignored", e->key);
}

static void take_entry(struct fleet *f, struct post *p)
{
	struct centry *e = cfind(f, p->bucket, p->key);
	bool had = e && e->val;

	if (e && p->rev && p->rev < e->rev)
		return; /* older than what we hold */
	if (!e) {
		uint32_t h;

		if (p->deleted && f->w[p->bucket].load_gen) {
			/* a delete marker of a key we never held: nothing
			 * to undo, but remember it (its time tells a
			 * restarted owner what happened) */
		}
		e = calloc(1, sizeof(*e));
		if (!e)
			return;
		e->bucket = p->bucket;
		e->key = p->key;
		p->key = NULL;
		h = hkey(e->bucket, e->key);
		e->next = f->cache[h];
		f->cache[h] = e;
		if (p->bucket == B_DEC)
			f->rep.decisions++;
		else
			f->rep.sessions++;
	}
	if (p->bucket == B_DEC && p->rev > f->rep.last_rev)
		f->rep.last_rev = p->rev;
	if (e->val && p->val && !strcmp(e->val, p->val)) {
		e->rev = p->rev;
		e->gen = p->gen;
		return; /* the same (our own write's echo, or a reload) */
	}
	free(e->val);
	e->val = p->val;
	p->val = NULL;
	e->rev = p->rev;
	e->gen = p->gen;
	e->created_ms = p->created_ms;
	if (p->bucket == B_DEC && p->rev > f->rep.last_rev)
		f->rep.last_rev = p->rev;
	tell(f, e, had);
}

/* A full load is complete: what it did not bring is gone from the bucket
 * (deleted and purged while we were away). */
static void sweep(struct fleet *f, int bucket, uint64_t gen)
{
	for (size_t i = 0; i < CBUCKETS; i++)
		for (struct centry *e = f->cache[i]; e; e = e->next) {
			if (e->bucket != bucket || e->gen >= gen || !e->val)
				continue;
			free(e->val);
			e->val = NULL;
			e->gen = gen;
			tell(f, e, true);
		}
}

static void post_done(struct async_job *j, void *ctx, bool ran)
{
	struct post *p = (struct post *)j;
	struct fleet *f = ctx;

	if (!ran)
		goto out;
	switch (p->kind) {
	case P_STATUS:
		f->rep.connected = p->connected;
		if (p->connected) {
			snprintf(f->rep.server, sizeof(f->rep.server), "%s",
				 p->server);
			log_info("fleet: connected to %s", p->server);
			/* what waited is written now */
			for (size_t i = 0; i < CBUCKETS; i++)
				for (struct pend *pd = f->pend[i]; pd;
				     pd = pd->next)
					if (pd->dirty && !pd->in_flight)
						ready_push(f, pd);
			pump(f);
		} else {
			f->rep.disconnects++;
			log_warn("fleet: cut off from the servers; enforcing "
				 "what this node holds, writes kept until "
				 "they answer");
		}
		break;
	case P_BEGIN:
		f->w[p->bucket].load_gen = p->gen;
		break;
	case P_SETUP:
		f->setup_done = true;
		pump(f);
		break;
	case P_ENTRY:
		take_entry(f, p);
		break;
	case P_END: {
		struct wstate *w = &f->w[p->bucket];

		if (w->load_gen != p->gen)
			break; /* a later change's end marker of no load */
		sweep(f, p->bucket, p->gen);
		w->load_gen = 0;
		if (w->loaded)
			f->rep.resyncs++;
		w->loaded = true;
		/* once both buckets are loaded, and no load is under way
		 * (a reconnect reloads both: one resync, not two) */
		if (f->w[B_DEC].loaded && f->w[B_SESS].loaded &&
		    !f->w[B_DEC].load_gen && !f->w[B_SESS].load_gen) {
			bool first = !f->first_synced;

			f->first_synced = true;
			f->rep.synced = true;
			if (first)
				log_info("fleet: loaded %llu decision key(s), "
					 "%llu session key(s) (revision %llu)",
					 (unsigned long long)f->rep.decisions,
					 (unsigned long long)f->rep.sessions,
					 (unsigned long long)f->rep.last_rev);
			if (f->sink.synced)
				f->sink.synced(f->sink.ctx, first);
		}
		break;
	}
	case P_EVENT: {
		struct fleet_event e;

		if (fleet_event_decode(p->val, p->len, &e)) {
			f->rep.refused++;
			break;
		}
		f->rep.events_in++;
		if (f->sink.event)
			f->sink.event(f->sink.ctx, &e);
		break;
	}
	}
out:
	free(p->key);
	free(p->val);
	free(p);
}

static void on_queue(struct watch *w, uint32_t events)
{
	struct fleet *f = container_of(w, struct fleet, qw);

	(void)events;
	async_process(f->q, f);
}

static void on_timer(struct watch *w, uint32_t events)
{
	struct fleet *f = container_of(w, struct fleet, timer);

	(void)events;
	loop_timer_ack(w);
	for (size_t i = 0; i < CBUCKETS; i++)
		for (struct pend *pd = f->pend[i]; pd; pd = pd->next)
			if (pd->dirty && !pd->in_flight)
				ready_push(f, pd);
	pump(f);
}

/* ---- opening ---- */

static void setup_failed(struct fleet *f, const char *why)
{
	pthread_mutex_lock(&f->setup_mu);
	snprintf(f->setup_err, sizeof(f->setup_err), "%s", why);
	pthread_mutex_unlock(&f->setup_mu);
}

static natsStatus make_bucket(struct fleet *f, int b)
{
	kvConfig kc;
	natsStatus st;

	st = js_KeyValue(&f->kv[b], f->js, bucket_name[b]);
	if (st == NATS_OK)
		return st;
	kvConfig_Init(&kc);
	kc.Bucket = bucket_name[b];
	kc.History = 1;
	kc.Replicas = (int)f->p->cluster.replicas;
	kc.StorageType = js_FileStorage;
	st = js_CreateKeyValue(&f->kv[b], f->js, &kc);
	if (st != NATS_OK) {
		const char *t = nats_GetLastError(NULL);
		char why[200];

		snprintf(why, sizeof(why), "creating bucket %s: %s",
			 bucket_name[b], t && *t ? t : natsStatus_GetText(st));
		/* another node made it meanwhile? */
		if (js_KeyValue(&f->kv[b], f->js, bucket_name[b]) == NATS_OK)
			return NATS_OK;
		setup_failed(f, why);
	}
	return st;
}

static natsStatus make_stream(struct fleet *f)
{
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	const char *subj[] = { SUBJ_PREFIX ">" };
	natsStatus st;

	st = js_GetStreamInfo(&si, f->js, STREAM, NULL, &jerr);
	if (st == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return st;
	}
	jsStreamConfig_Init(&sc);
	sc.Name = STREAM;
	sc.Subjects = subj;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = f->p->cluster.replicas;
	sc.MaxAge = (int64_t)f->p->cluster.events_keep_ns;
	st = js_AddStream(&si, f->js, &sc, NULL, &jerr);
	if (st == NATS_OK) {
		jsStreamInfo_Destroy(si);
	} else if (jerr == JSStreamNameExistErr) {
		st = NATS_OK;
	} else {
		const char *t = nats_GetLastError(NULL);
		char why[200];

		snprintf(why, sizeof(why), "creating stream %s: %s", STREAM,
			 t && *t ? t : natsStatus_GetText(st));
		setup_failed(f, why);
	}
	return st;
}

/* The longest window an outbreak rule counts over: a (re)started node
 * reads the events of so long ago, so that an outbreak under way is
 * counted whole. */
static uint64_t window_ns(const struct policy *p)
{
	uint64_t w = 0;

	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].terminals && p->rules[i].window_ns > w)
			w = p->rules[i].window_ns;
	return w;
}

static natsStatus subscribe_events(struct fleet *f)
{
	jsSubOptions so;
	jsErrCode jerr = 0;
	uint64_t w = window_ns(f->p);

	jsSubOptions_Init(&so);
	so.Stream = STREAM;
	so.Ordered = true;
	if (w) {
		so.Config.DeliverPolicy = js_DeliverByStartTime;
		so.Config.OptStartTime =
			(int64_t)(wall_ms() * 1000000ULL - w);
	} else {
		so.Config.DeliverPolicy = js_DeliverNew;
	}
	natsStatus st = js_Subscribe(&f->evsub, f->js, SUBJ_PREFIX ">",
				     on_event_msg, f, NULL, &so, &jerr);

	if (st == NATS_OK)
		st = natsSubscription_SetOnCompleteCB(f->evsub, on_evsub_done,
						      f);
	return st;
}

/* Buckets, stream and subscription once connected: a node that starts
 * before the servers keeps trying (fleet_wait_synced bounds it). */
static void *setup_thread(void *arg)
{
	struct fleet *f = arg;
	bool said = false;

	while (!atomic_load(&f->stop)) {
		natsStatus st = NATS_OK;

		if (!atomic_load(&f->connected_flag)) {
			nats_Sleep(50);
			continue;
		}
		for (int b = 0; b < NB && st == NATS_OK; b++)
			if (!f->kv[b])
				st = make_bucket(f, b);
		if (st == NATS_OK)
			st = make_stream(f);
		if (st == NATS_OK && !f->evsub) {
			st = subscribe_events(f);
			if (st != NATS_OK) {
				const char *t = nats_GetLastError(NULL);
				char why[200];

				snprintf(why, sizeof(why),
					 "following stream %s: %s", STREAM,
					 t && *t ? t : natsStatus_GetText(st));
				setup_failed(f, why);
			}
		}
		if (st == NATS_OK) {
			setup_failed(f, "");
			post_simple(f, P_SETUP, 0, 0);
			return NULL;
		}
		if (!said) {
			char why[256];

			pthread_mutex_lock(&f->setup_mu);
			snprintf(why, sizeof(why), "%s", f->setup_err);
			pthread_mutex_unlock(&f->setup_mu);
			log_warn("fleet: the servers do not give the buckets "
				 "yet (%s); trying again",
				 why[0] ? why : natsStatus_GetText(st));
			said = true;
		}
		nats_Sleep(500);
	}
	return NULL;
}

static pthread_t setup_th;
static bool setup_started;

static int start_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* The connection's options: the servers, TLS, credentials; ours (the
 * callbacks, retries for ever), or a one-off try that says why it fails. */
static natsStatus make_options(struct fleet *f, const char **urls, bool ours,
			       natsOptions **ret)
{
	const struct policy_cluster *cl = &f->p->cluster;
	natsOptions *o = NULL;
	natsStatus st = natsOptions_Create(&o);

	if (st == NATS_OK)
		st = natsOptions_SetServers(o, urls, (int)cl->nservers);
	if (st == NATS_OK)
		st = natsOptions_SetName(o, f->node);
	if (st == NATS_OK)
		st = natsOptions_SetTimeout(o, 2000);
	if (ours) {
		/* reconnect for ever (nats.c gives up after 60 tries by
		 * default) */
		if (st == NATS_OK)
			st = natsOptions_SetMaxReconnect(o, -1);
		if (st == NATS_OK)
			st = natsOptions_SetReconnectWait(o, 250);
		if (st == NATS_OK)
			st = natsOptions_SetPingInterval(o, 2000);
		if (st == NATS_OK)
			st = natsOptions_SetMaxPingsOut(o, 2);
		if (st == NATS_OK)
			st = natsOptions_SetDisconnectedCB(o, on_disconnected,
							   f);
		if (st == NATS_OK)
			st = natsOptions_SetReconnectedCB(o, on_reconnected, f);
		if (st == NATS_OK)
			st = natsOptions_SetClosedCB(o, on_closed, f);
		if (st == NATS_OK)
			st = natsOptions_SetRetryOnFailedConnect(
				o, true, on_connected, f);
	} else if (st == NATS_OK) {
		st = natsOptions_SetAllowReconnect(o, false);
	}
	if (st == NATS_OK && cl->ca[0])
		st = natsOptions_LoadCATrustedCertificates(o, cl->ca);
	if (st == NATS_OK && cl->cert[0])
		st = natsOptions_LoadCertificatesChain(o, cl->cert, cl->key);
	if (st == NATS_OK && (cl->ca[0] || cl->cert[0]))
		st = natsOptions_SetSecure(o, true);
	if (st == NATS_OK && cl->credentials[0])
		st = natsOptions_SetUserCredentialsFromFiles(
			o, cl->credentials, NULL);
	if (st != NATS_OK) {
		natsOptions_Destroy(o);
		o = NULL;
	}
	*ret = o;
	return st;
}

int fleet_open(struct loop *l, const struct policy *p,
	       const struct fleet_sink *sink, struct fleet **ret, char *err,
	       size_t errlen)
{
	const struct policy_cluster *cl = &p->cluster;
	const char *urls[POLICY_CLUSTER_SERVERS_MAX];
	struct fleet *f = calloc(1, sizeof(*f));
	natsStatus st;
	jsOptions jo;
	int r;

	if (!f)
		return -ENOMEM;
	f->loop = l;
	f->p = p;
	f->sink = *sink;
	snprintf(f->node, sizeof(f->node), "%s", cl->node);
	f->sync_timeout_ns = cl->sync_timeout_ns;
	f->qw.fd = -1;
	pthread_mutex_init(&f->setup_mu, NULL);
	f->timer.fd = -1;
	r = async_open(INFLIGHT_MAX + 4, &f->q);
	if (r) {
		snprintf(err, errlen, "fleet: %s", strerror(-r));
		free(f);
		return r;
	}
	r = loop_add(l, &f->qw, async_fd(f->q), EPOLLIN, on_queue);
	if (!r)
		r = loop_timer(l, &f->timer, on_timer);
	if (r) {
		snprintf(err, errlen, "fleet: %s", strerror(-r));
		goto fail;
	}
	for (size_t i = 0; i < cl->nservers; i++)
		urls[i] = cl->servers[i];
	st = make_options(f, urls, true, &f->opts);
	if (st != NATS_OK) {
		const char *t = nats_GetLastError(NULL);

		snprintf(err, errlen, "cluster: %s", t && *t ? t :
					natsStatus_GetText(st));
		r = -EINVAL;
		goto fail;
	}
	st = natsConnection_Connect(&f->nc, f->opts);
	if (st == NATS_OK) {
		atomic_store(&f->connected_flag, true);
		post_status(f, true);
	} else if (st != NATS_NOT_YET_CONNECTED) {
		snprintf(err, errlen, "cluster: connecting: %s",
			 natsStatus_GetText(st));
		r = -ECONNREFUSED;
		goto fail;
	}
	jsOptions_Init(&jo);
	jo.Wait = 2000;
	st = natsConnection_JetStream(&f->js, f->nc, &jo);
	if (st == NATS_OK) {
		jo.Wait = 2000;
		st = natsConnection_JetStream(&f->jsw[0], f->nc, &jo);
	}
	if (st == NATS_OK) {
		jo.Wait = 20000;
		st = natsConnection_JetStream(&f->jsw[1], f->nc, &jo);
	}
	if (st != NATS_OK) {
		snprintf(err, errlen, "cluster: JetStream: %s",
			 natsStatus_GetText(st));
		r = -EINVAL;
		goto fail;
	}
	r = start_thread(&setup_th, setup_thread, f);
	if (r) {
		snprintf(err, errlen, "fleet: %s", strerror(-r));
		goto fail;
	}
	setup_started = true;
	for (int b = 0; b < NB; b++) {
		f->w[b].f = f;
		f->w[b].bucket = b;
		r = start_thread(&f->w[b].th, watcher, &f->w[b]);
		if (r) {
			snprintf(err, errlen, "fleet: %s", strerror(-r));
			goto fail;
		}
		f->w[b].started = true;
	}
	log_info("fleet: node %s, servers %s%s", f->node, cl->servers[0],
		 cl->nservers > 1 ? " and others" : "");
	*ret = f;
	return 0;
fail:
	fleet_close(f);
	return r;
}

/* Waits up to ms for a flag a nats.c callback sets. */
static bool wait_flag(atomic_bool *flag, int ms)
{
	for (int t = 0; t < ms && !atomic_load(flag); t += 10)
		nats_Sleep(10);
	return atomic_load(flag);
}

void fleet_close(struct fleet *f)
{
	bool leak = false;

	if (!f)
		return;
	atomic_store(&f->stop, true);
	if (setup_started) {
		pthread_join(setup_th, NULL);
		setup_started = false;
	}
	for (int b = 0; b < NB; b++)
		if (f->w[b].started)
			pthread_join(f->w[b].th, NULL);
	if (f->evsub) {
		/* its handler may be running: wait until it has returned */
		if (natsSubscription_Unsubscribe(f->evsub) == NATS_OK &&
		    !wait_flag(&f->evsub_done, 2000))
			log_warn("fleet: the events' handler did not end in "
				 "2 s");
		natsSubscription_Destroy(f->evsub);
	}
	/* the publisher's jobs end (not written: what was decided stays in
	 * the state file, and a restart publishes it) */
	if (f->q) {
		loop_forget(f->loop, &f->qw);
		async_close(f->q, f);
	}
	for (int b = 0; b < NB; b++) {
		kvStore_Destroy(f->kv[b]);
		kvStore_Destroy(f->kvw[b][0]);
		kvStore_Destroy(f->kvw[b][1]);
	}
	jsCtx_Destroy(f->js);
	jsCtx_Destroy(f->jsw[0]);
	jsCtx_Destroy(f->jsw[1]);
	if (f->nc) {
		natsConnection_Close(f->nc);
		/* its last callbacks (disconnected, closed) come on nats.c's
		 * thread: f lives until they have run */
		if (!wait_flag(&f->nc_closed, 5000)) {
			log_warn("fleet: the connection did not close in 5 s; "
				 "its state is left allocated");
			leak = true;
		}
		natsConnection_Destroy(f->nc);
	}
	natsOptions_Destroy(f->opts);
	if (f->timer.fd >= 0)
		loop_close(f->loop, &f->timer);
	for (size_t i = 0; i < CBUCKETS; i++) {
		for (struct centry *e = f->cache[i], *n; e; e = n) {
			n = e->next;
			free(e->key);
			free(e->val);
			free(e);
		}
		for (struct pend *pd = f->pend[i], *n; pd; pd = n) {
			n = pd->next;
			free(pd->key);
			free(pd->val);
			free(pd);
		}
	}
	for (struct evq *e = f->evhead, *n; e; e = n) {
		n = e->next;
		free(e->val);
		free(e);
	}
	if (!leak) {
		pthread_mutex_destroy(&f->setup_mu);
		free(f);
	}
}

/* Why no server takes us: one connection tried at once with the same
 * options (nats.c's retries in the background do not say). */
static void why_not_connected(struct fleet *f, char *buf, size_t len)
{
	const struct policy_cluster *cl = &f->p->cluster;
	const char *urls[POLICY_CLUSTER_SERVERS_MAX];
	natsOptions *o = NULL;
	natsConnection *nc = NULL;
	natsStatus st;

	buf[0] = '\0';
	for (size_t i = 0; i < cl->nservers; i++)
		urls[i] = cl->servers[i];
	st = make_options(f, urls, false, &o);
	if (st == NATS_OK)
		st = natsConnection_Connect(&nc, o);
	if (st != NATS_OK) {
		const char *t = nats_GetLastError(NULL);

		snprintf(buf, len, " (one more try: %s)",
			 t && *t ? t : natsStatus_GetText(st));
	}
	if (nc) {
		natsConnection_Close(nc);
		natsConnection_Destroy(nc);
	}
	natsOptions_Destroy(o);
}

int fleet_wait_synced(struct fleet *f, char *err, size_t errlen)
{
	uint64_t t0 = now_mono(), said = t0;

	while (!f->first_synced) {
		uint64_t now = now_mono();

		if (now - t0 >= f->sync_timeout_ns) {
			char why[300] = "";

			if (!f->rep.connected) {
				why_not_connected(f, why, sizeof(why));
			} else {
				pthread_mutex_lock(&f->setup_mu);
				if (f->setup_err[0])
					snprintf(why, sizeof(why), " (%s)",
						 f->setup_err);
				pthread_mutex_unlock(&f->setup_mu);
			}
			snprintf(err, errlen,
				 "cluster: %s%s in %llus (cluster.sync_timeout): "
				 "not ready without the fleet's decisions",
				 f->rep.connected ?
					 "the buckets did not load" :
					 "no server answered",
				 why,
				 (unsigned long long)(f->sync_timeout_ns /
						      1000000000ULL));
			return -ETIMEDOUT;
		}
		if (now - said >= 5000000000ULL) {
			log_info("fleet: waiting for %s",
				 f->rep.connected ? "the buckets" :
						    "a server");
			said = now;
		}
		/* only the fleet's queue: the agent is not ready, nothing
		 * else is served before the fleet's decisions are in */
		{
			struct pollfd pfd = { .fd = async_fd(f->q),
					      .events = POLLIN };

			if (poll(&pfd, 1, 100) > 0) {
				loop_tick(f->loop);
				async_process(f->q, f);
			}
		}
	}
	return 0;
}

const char *fleet_node(const struct fleet *f)
{
	return f->node;
}

const struct fleet_report *fleet_report(struct fleet *f)
{
	f->rep.queued_events = f->nev;
	return &f->rep;
}

json_object *fleet_status_json(struct fleet *f)
{
	const struct fleet_report *r = fleet_report(f);
	json_object *o = json_object_new_object();

	json_object_object_add(o, "node", json_object_new_string(f->node));
	json_object_object_add(o, "connected",
			       json_object_new_boolean(r->connected));
	json_object_object_add(o, "server",
			       json_object_new_string(r->server));
	json_object_object_add(o, "synced", json_object_new_boolean(r->synced));
	json_object_object_add(o, "revision",
			       json_object_new_int64((int64_t)r->last_rev));
	json_object_object_add(o, "decision_keys",
			       json_object_new_int64((int64_t)r->decisions));
	json_object_object_add(o, "session_keys",
			       json_object_new_int64((int64_t)r->sessions));
	json_object_object_add(o, "pending_writes",
			       json_object_new_int64((int64_t)r->pending));
	json_object_object_add(o, "queued_events",
			       json_object_new_int64((int64_t)r->queued_events));
	json_object_object_add(o, "events_out",
			       json_object_new_int64((int64_t)r->events_out));
	json_object_object_add(o, "events_in",
			       json_object_new_int64((int64_t)r->events_in));
	json_object_object_add(o, "events_dropped",
			       json_object_new_int64((int64_t)r->events_dropped));
	json_object_object_add(o, "write_errors",
			       json_object_new_int64((int64_t)r->put_errors));
	json_object_object_add(o, "refused",
			       json_object_new_int64((int64_t)r->refused));
	json_object_object_add(o, "disconnects",
			       json_object_new_int64((int64_t)r->disconnects));
	json_object_object_add(o, "resyncs",
			       json_object_new_int64((int64_t)r->resyncs));
	return o;
}

/* ---- writes ---- */

static bool sub_key(const char *id, const char *node, char *key, size_t len)
{
	char enc[160];

	if (!fleet_key_enc(id, enc, sizeof(enc)))
		return false;
	return (size_t)snprintf(key, len, "sub.%s.%s", enc, node) < len;
}

void fleet_put_decision(struct fleet *f, const char *id,
			const struct fleet_decision *d)
{
	char key[256], *v = NULL;
	struct centry *e;
	struct pend *pd;

	if (!sub_key(id, f->node, key, sizeof(key))) {
		log_warn("fleet: subscriber %s: its id does not fit a key; "
			 "not shared", id);
		return;
	}
	if (d && !(v = fleet_decision_encode(d)))
		return;
	e = cfind(f, B_DEC, key);
	pd = pfind(f, B_DEC, key);
	if (!pd && ((v && e && e->val && !strcmp(e->val, v)) ||
		    (!v && (!e || !e->val)))) {
		free(v); /* the bucket holds it already */
		return;
	}
	write_key(f, B_DEC, key, v ? W_PUT : W_DEL, v);
	free(v);
}

void fleet_release(struct fleet *f, const char *id)
{
	char enc[160], grp[200];
	size_t gl;

	if (!fleet_key_enc(id, enc, sizeof(enc)))
		return;
	gl = (size_t)snprintf(grp, sizeof(grp), "sub.%s", enc);
	for (struct centry *e = f->cache[hgrp(B_DEC, grp, gl)]; e; e = e->next)
		if (e->bucket == B_DEC && e->val &&
		    !strncmp(e->key, grp, gl) && e->key[gl] == '.' &&
		    !strchr(e->key + gl + 1, '.'))
			write_key(f, B_DEC, e->key, W_DEL, NULL);
}

void fleet_put_sessions(struct fleet *f, const char *id, json_object *arr)
{
	char enc[160], key[256];
	const char *v = NULL;
	struct centry *e;

	if (!fleet_key_enc(id, enc, sizeof(enc)) ||
	    (size_t)snprintf(key, sizeof(key), "%s.%s", enc, f->node) >=
		    sizeof(key))
		return;
	if (arr && json_object_array_length(arr)) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_string(id));
		json_object_object_add(o, "node",
				       json_object_new_string(f->node));
		json_object_object_add(o, "at_ms",
				       json_object_new_int64((int64_t)wall_ms()));
		json_object_object_add(o, "sessions", json_object_get(arr));
		v = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		e = cfind(f, B_SESS, key);
		write_key(f, B_SESS, key, W_PUT, v);
		json_object_put(o);
		return;
	}
	e = cfind(f, B_SESS, key);
	if (!pfind(f, B_SESS, key) && (!e || !e->val))
		return;
	write_key(f, B_SESS, key, W_DEL, NULL);
}

void fleet_contain(struct fleet *f, const struct fleet_scope *s)
{
	char enc[100], key[128], *v;
	struct centry *e;

	if (!fleet_key_enc(s->scope, enc, sizeof(enc)))
		return;
	snprintf(key, sizeof(key), "scope.%s", enc);
	e = cfind(f, B_DEC, key);
	if (e && e->val)
		return; /* recorded (by us or another node) */
	v = fleet_scope_encode(s);
	if (v)
		write_key(f, B_DEC, key, W_CREATE, v);
	free(v);
}

void fleet_uncontain(struct fleet *f, const char *scope, bool by_operator)
{
	char enc[100], key[128];
	struct centry *e;

	if (!fleet_key_enc(scope, enc, sizeof(enc)))
		return;
	snprintf(key, sizeof(key), "scope.%s", enc);
	e = cfind(f, B_DEC, key);
	if (!pfind(f, B_DEC, key) && (!e || !e->val))
		return;
	if (by_operator)
		write_key(f, B_DEC, key, W_DEL, NULL);
	else
		write_key(f, B_DEC, key, W_DEL_IF_OURS, f->node);
}

static bool prefix_key(const char *prefix, char *key, size_t len)
{
	char enc[160];

	return fleet_key_enc(prefix, enc, sizeof(enc)) &&
	       (size_t)snprintf(key, len, "prefix.%s", enc) < len;
}

void fleet_put_prefix(struct fleet *f, const struct fleet_prefix *x)
{
	char key[200], *v;
	struct centry *e;

	if (!prefix_key(x->prefix, key, sizeof(key)) ||
	    !(v = fleet_prefix_encode(x)))
		return;
	e = cfind(f, B_DEC, key);
	if (!pfind(f, B_DEC, key) && e && e->val && !strcmp(e->val, v)) {
		free(v); /* the bucket holds it already */
		return;
	}
	write_key(f, B_DEC, key, W_PUT, v);
	free(v);
}

void fleet_end_prefix(struct fleet *f, const char *prefix, bool by_operator)
{
	char key[200];
	struct centry *e;

	if (!prefix_key(prefix, key, sizeof(key)))
		return;
	e = cfind(f, B_DEC, key);
	if (!pfind(f, B_DEC, key) && (!e || !e->val))
		return;
	if (by_operator)
		write_key(f, B_DEC, key, W_DEL, NULL);
	else
		write_key(f, B_DEC, key, W_DEL_IF_OURS, f->node);
}

bool fleet_get_prefix(struct fleet *f, const char *prefix,
		      struct fleet_prefix *x)
{
	char key[200];
	struct centry *e;

	if (!prefix_key(prefix, key, sizeof(key)))
		return false;
	e = cfind(f, B_DEC, key);
	return e && e->val && !fleet_prefix_decode(e->val, strlen(e->val), x);
}

void fleet_event(struct fleet *f, const struct fleet_event *e)
{
	struct evq *q;
	char *v = fleet_event_encode(e);

	if (!v)
		return;
	if (f->nev >= EVENTS_MAX) {
		/* cut off for long: the oldest go (counted) */
		struct evq *o = f->evhead;

		if (f->ev_inflight) {
			free(v);
			f->rep.events_dropped++;
			return;
		}
		f->evhead = o->next;
		free(o->val);
		free(o);
		f->nev--;
		f->rep.events_dropped++;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		free(v);
		return;
	}
	q->val = v;
	q->len = strlen(v);
	if (f->evtail)
		f->evtail->next = q;
	else
		f->evhead = q;
	f->evtail = q;
	f->nev++;
	pump(f);
}

/* ---- reads ---- */

json_object *fleet_show_json(struct fleet *f, const char *id)
{
	char enc[160], grp[200];
	json_object *o = NULL, *dec = NULL, *ses = NULL;
	size_t gl;

	if (!fleet_key_enc(id, enc, sizeof(enc)))
		return NULL;
	for (int b = 0; b < NB; b++) {
		gl = (size_t)snprintf(grp, sizeof(grp), b == B_DEC ? "sub.%s" :
								     "%s",
				      enc);
		for (struct centry *e = f->cache[hgrp(b, grp, gl)]; e;
		     e = e->next) {
			json_object *v;

			if (e->bucket != b || !e->val ||
			    strncmp(e->key, grp, gl) || e->key[gl] != '.' ||
			    strchr(e->key + gl + 1, '.'))
				continue;
			v = json_tokener_parse(e->val);
			if (!v)
				continue;
			if (!o) {
				o = json_object_new_object();
				dec = json_object_new_array();
				ses = json_object_new_array();
				json_object_object_add(o, "decisions", dec);
				json_object_object_add(o, "sessions", ses);
			}
			json_object_array_add(b == B_DEC ? dec : ses, v);
		}
	}
	return o;
}

void fleet_each_decision(struct fleet *f, const char *id,
			 void (*fn)(void *ctx, const struct fleet_decision *d),
			 void *ctx)
{
	char enc[160], grp[200];
	size_t gl;

	if (!fleet_key_enc(id, enc, sizeof(enc)))
		return;
	gl = (size_t)snprintf(grp, sizeof(grp), "sub.%s", enc);
	for (struct centry *e = f->cache[hgrp(B_DEC, grp, gl)]; e; e = e->next) {
		struct fleet_decision d;

		if (e->bucket != B_DEC || !e->val || strncmp(e->key, grp, gl) ||
		    e->key[gl] != '.' || strchr(e->key + gl + 1, '.') ||
		    !strcmp(e->key + gl + 1, f->node))
			continue;
		if (!fleet_decision_decode(e->val, strlen(e->val), &d))
			fn(ctx, &d);
	}
}

void fleet_each_own(struct fleet *f,
		    void (*fn)(void *ctx, const char *id, bool deleted,
			       uint64_t at_ms),
		    void *ctx)
{
	for (size_t i = 0; i < CBUCKETS; i++)
		for (struct centry *e = f->cache[i]; e; e = e->next) {
			char id[FLEET_ID_MAX], node[FLEET_NODE_MAX];

			if (e->bucket == B_DEC &&
			    split_sub_key(e->key, id, sizeof(id), node) &&
			    !strcmp(node, f->node))
				fn(ctx, id, !e->val, e->created_ms);
		}
}

void fleet_each_own_sessions(struct fleet *f,
			     void (*fn)(void *ctx, const char *id),
			     void *ctx)
{
	size_t nl = strlen(f->node);

	for (size_t i = 0; i < CBUCKETS; i++)
		for (struct centry *e = f->cache[i]; e; e = e->next) {
			char id[FLEET_ID_MAX], enc[200];
			size_t kl = strlen(e->key);

			if (e->bucket != B_SESS || !e->val || kl <= nl + 1 ||
			    strcmp(e->key + kl - nl, f->node) ||
			    e->key[kl - nl - 1] != '.' ||
			    kl - nl - 1 >= sizeof(enc))
				continue;
			memcpy(enc, e->key, kl - nl - 1);
			enc[kl - nl - 1] = '\0';
			if (fleet_key_dec(enc, id, sizeof(id)))
				fn(ctx, id);
		}
}
