// SPDX-License-Identifier: GPL-2.0-only
/* Terminal keys from xcrs-authsrv (see gbakeys.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "agent.h"
#include "authclient.h"
#include "gba.h"
#include "gbakeys.h"
#include "log.h"

#define INFLIGHT_MAX 256
#define CACHE_MAX 65536
#define KEY_TTL_S 600

struct job {
	char id[CRSAP_ID_MAX + 1];
	bool done, ok;
	char err[512];
	struct ac_as_key key;
	struct job *next;
};

struct gbakeys {
	struct watch w;		/* read end of the result pipe */
	int wfd;		/* write end */
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct job *todo, *done; /* queues, under mu */
	size_t inflight;	/* jobs not yet reported to the loop */
	char inflight_ids[INFLIGHT_MAX][CRSAP_ID_MAX + 1];
	struct ac_conn conn;
	char as_id[GBA_ID_MAX + 1];
	struct crsap_keyring ring; /* the cache, as a keyring */
	int64_t *expires;	   /* per ring entry, Unix seconds */
	size_t cap;
};

bool gbakeys_is_btid(const char *id)
{
	uint8_t rand[16];
	const char *dom;

	return gba_btid_parse(id, rand, &dom) == 0;
}

static void *worker(void *arg)
{
	struct gbakeys *g = arg;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		struct job *j = g->todo;

		if (!j) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		g->todo = j->next;
		pthread_mutex_unlock(&g->mu);
		/* ac_conn's err buffer is the worker's own. */
		j->ok = ac_fetch_key(&g->conn, j->id, g->as_id,
				     GBA_UA_XCRS_REPORT, &j->key) == 0;
		snprintf(j->err, sizeof(j->err), "%s", j->ok ? "" : g->conn.err);
		pthread_mutex_lock(&g->mu);
		j->next = g->done;
		g->done = j;
		if (write(g->wfd, "x", 1) < 0) {
			/* the pipe is full: the loop has wake-ups pending */
		}
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static void cache_put(struct gbakeys *g, const struct job *j)
{
	int64_t now = (int64_t)time(NULL);
	size_t w = 0;
	struct crsap_key *k;

	/* Drop what expired first. */
	for (size_t i = 0; i < g->ring.nkeys; i++) {
		if (g->expires[i] > now) {
			g->ring.keys[w] = g->ring.keys[i];
			g->expires[w++] = g->expires[i];
		} else {
			OPENSSL_cleanse(&g->ring.keys[i], sizeof(g->ring.keys[i]));
		}
	}
	g->ring.nkeys = w;
	if (g->ring.nkeys >= CACHE_MAX) {
		log_warn("authsrv key cache full (%d): %s not cached", CACHE_MAX,
			 j->id);
		return;
	}
	if (g->ring.nkeys == g->cap) {
		size_t nc = g->cap ? 2 * g->cap : 64;
		struct crsap_key *nk = realloc(g->ring.keys, nc * sizeof(*nk));
		int64_t *ne;

		if (!nk)
			return;
		g->ring.keys = nk;
		ne = realloc(g->expires, nc * sizeof(*ne));
		if (!ne)
			return;
		g->expires = ne;
		g->cap = nc;
	}
	k = &g->ring.keys[g->ring.nkeys];
	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "%s", j->id);
	k->peer = true; /* reports are about the address they come from */
	memcpy(k->key, j->key.ks_as, GBA_KEY);
	k->keylen = GBA_KEY;
	/* Until the session ends, but asked again at least every KEY_TTL_S so
	 * that a subscriber disabled at authsrv is refused within that. */
	g->expires[g->ring.nkeys++] =
		j->key.expires < now + KEY_TTL_S ? j->key.expires : now + KEY_TTL_S;
}

static void on_results(struct agent *ag, struct watch *w, uint32_t events)
{
	struct gbakeys *g = (struct gbakeys *)w;
	struct job *list;
	char buf[64];

	while (read(w->fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&g->mu);
	list = g->done;
	g->done = NULL;
	pthread_mutex_unlock(&g->mu);
	while (list) {
		struct job *j = list;

		list = j->next;
		for (size_t i = 0; i < g->inflight; i++) {
			if (!strcmp(g->inflight_ids[i], j->id)) {
				memcpy(g->inflight_ids[i],
				       g->inflight_ids[--g->inflight],
				       sizeof(g->inflight_ids[i]));
				break;
			}
		}
		if (j->ok) {
			log_info("authsrv: key of %s (%s, %s) until %lld", j->id,
				 j->key.subject, j->key.method,
				 (long long)j->key.expires);
			cache_put(g, j);
		} else {
			log_warn("authsrv: no key for %s: %s", j->id, j->err);
		}
		inputs_key_ready(ag, j->id, j->ok);
		OPENSSL_cleanse(j, sizeof(*j));
		free(j);
	}
}

int gbakeys_open(struct agent *ag, struct gbakeys **ret, char *err,
		 size_t errlen)
{
	const struct policy_authsrv *a = &ag->policy->reports.authsrv;
	struct gbakeys *g;
	int p[2];

	*ret = NULL;
	if (!ag->policy->reports.enabled || !a->enabled)
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	if (ac_open(&g->conn, a->server, a->ca, a->cert, a->key,
		    a->name[0] ? a->name : NULL)) {
		snprintf(err, errlen, "reports.authsrv: %s", g->conn.err);
		free(g);
		return -EINVAL;
	}
	g->conn.timeout_s = 5;
	snprintf(g->as_id, sizeof(g->as_id), "%s", a->as_id);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC)) {
		snprintf(err, errlen, "reports.authsrv: pipe: %s",
			 strerror(errno));
		ac_close(&g->conn);
		free(g);
		return -errno;
	}
	g->wfd = p[1];
	if (watch_add(ag, &g->w, p[0], EPOLLIN, on_results) ||
	    pthread_create(&g->th, NULL, worker, g)) {
		snprintf(err, errlen, "reports.authsrv: cannot start the worker");
		close(p[0]);
		close(p[1]);
		ac_close(&g->conn);
		free(g);
		return -EAGAIN;
	}
	g->started = true;
	log_info("reports: keys of B-TID terminals from xcrs-authsrv %s as %s",
		 a->server, a->as_id);
	*ret = g;
	return 0;
}

void gbakeys_close(struct agent *ag, struct gbakeys *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (g->started)
		pthread_join(g->th, NULL);
	for (struct job *j = g->todo, *n; j; j = n) {
		n = j->next;
		free(j);
	}
	for (struct job *j = g->done, *n; j; j = n) {
		n = j->next;
		OPENSSL_cleanse(j, sizeof(*j));
		free(j);
	}
	watch_close(ag, &g->w);
	close(g->wfd);
	ac_close(&g->conn);
	if (g->ring.keys)
		OPENSSL_cleanse(g->ring.keys, g->cap * sizeof(*g->ring.keys));
	free(g->ring.keys);
	free(g->expires);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	free(g);
}

const struct crsap_key *gbakeys_find(struct gbakeys *g, const char *id)
{
	int64_t now = (int64_t)time(NULL);

	if (!g)
		return NULL;
	for (size_t i = 0; i < g->ring.nkeys; i++)
		if (g->expires[i] > now && !strcmp(g->ring.keys[i].id, id))
			return &g->ring.keys[i];
	return NULL;
}

const struct crsap_keyring *gbakeys_ring(struct gbakeys *g)
{
	return &g->ring;
}

int gbakeys_request(struct gbakeys *g, const char *id)
{
	struct job *j;

	for (size_t i = 0; i < g->inflight; i++)
		if (!strcmp(g->inflight_ids[i], id))
			return 0; /* already asked */
	if (g->inflight >= INFLIGHT_MAX)
		return -EBUSY;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(g->inflight_ids[g->inflight++], sizeof(g->inflight_ids[0]),
		 "%s", id);
	pthread_mutex_lock(&g->mu);
	j->next = g->todo;
	g->todo = j;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return 0;
}
