// SPDX-License-Identifier: GPL-2.0-only
/* Terminal keys from xcrs-authsrv (see gbakeys.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "async.h"
#include "loop.h"
#include "policy.h"
#include "crsap.h"
#include "authclient.h"
#include "gba.h"
#include "gbakeys.h"
#include "log.h"

#define INFLIGHT_MAX 256
#define CACHE_MAX 65536
#define KEY_TTL_S 600

/* One key fetch. conn is the worker's alone (only work() uses it); the
 * rest are copies. */
struct job {
	struct async_job aj;
	struct ac_conn *conn;
	char id[CRSAP_ID_MAX + 1];
	char as_id[GBA_ID_MAX + 1];
	bool ok;
	char err[512];
	struct ac_as_key key;
};

struct gbakeys {
	struct loop *loop;
	struct watch w;		/* async_fd(q), not ours to close */
	gbakeys_ready_fn ready;
	void *ready_ctx;
	struct async *q;
	size_t inflight;	/* jobs not yet reported to the loop */
	char inflight_ids[INFLIGHT_MAX][CRSAP_ID_MAX + 1];
	struct ac_conn conn;	/* used by the worker only */
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

/* On the worker. */
static void fetch_key(struct async_job *aj)
{
	struct job *j = (struct job *)aj;

	j->ok = ac_fetch_key(j->conn, j->id, j->as_id, GBA_UA_XCRS_REPORT,
			     &j->key) == 0;
	snprintf(j->err, sizeof(j->err), "%s", j->ok ? "" : j->conn->err);
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
	/* the identity authsrv released: an IMSI, or an IMPI whose user
	 * part is one (TS 23.003 13.3); a pseudonym names no subscriber */
	{
		const char *sj = j->key.subject;
		size_t n = strspn(sj, "0123456789");

		if (n >= 5 && n <= 15 && (sj[n] == '\0' || sj[n] == '@'))
			snprintf(k->subscriber, sizeof(k->subscriber),
				 "imsi:%.*s", (int)n, sj);
	}
	memcpy(k->key, j->key.ks_as, GBA_KEY);
	k->keylen = GBA_KEY;
	/* Until the session ends, but asked again at least every KEY_TTL_S so
	 * that a subscriber disabled at authsrv is refused within that. */
	g->expires[g->ring.nkeys++] =
		j->key.expires < now + KEY_TTL_S ? j->key.expires : now + KEY_TTL_S;
}

/* On the loop: the fetch ended (or the cache is closing: ran false). */
static void fetched(struct async_job *aj, void *ctx, bool ran)
{
	struct job *j = (struct job *)aj;
	struct gbakeys *g = ctx;

	if (ran) {
		for (size_t i = 0; i < g->inflight; i++) {
			if (!strcmp(g->inflight_ids[i], j->id)) {
				memcpy(g->inflight_ids[i],
				       g->inflight_ids[--g->inflight],
				       sizeof(g->inflight_ids[i]));
				break;
			}
		}
		if (j->ok) {
			log_info("authsrv: key of %s (%s, %s) until %lld",
				 j->id, j->key.subject, j->key.method,
				 (long long)j->key.expires);
			cache_put(g, j);
		} else {
			log_warn("authsrv: no key for %s: %s", j->id, j->err);
		}
		g->ready(g->ready_ctx, j->id, j->ok);
	}
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

static void on_results(struct watch *w, uint32_t events)
{
	struct gbakeys *g = container_of(w, struct gbakeys, w);

	async_process(g->q, g);
}

int gbakeys_open(struct loop *l, const struct policy_authsrv *a,
		 gbakeys_ready_fn ready, void *ctx, struct gbakeys **ret,
		 char *err, size_t errlen)
{
	struct gbakeys *g;
	int r;

	*ret = NULL;
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
	g->loop = l;
	g->ready = ready;
	g->ready_ctx = ctx;
	g->w.fd = -1;
	snprintf(g->as_id, sizeof(g->as_id), "%s", a->as_id);
	r = async_open(INFLIGHT_MAX, &g->q);
	if (!r)
		r = loop_add(l, &g->w, async_fd(g->q), EPOLLIN, on_results);
	if (r) {
		snprintf(err, errlen, "reports.authsrv: cannot start the "
				      "worker: %s", strerror(-r));
		async_close(g->q, g);
		ac_close(&g->conn);
		free(g);
		return r;
	}
	log_info("reports: keys of B-TID terminals from xcrs-authsrv %s as %s",
		 a->server, a->as_id);
	*ret = g;
	return 0;
}

void gbakeys_close(struct gbakeys *g)
{
	if (!g)
		return;
	loop_forget(g->loop, &g->w);
	async_close(g->q, g);
	ac_close(&g->conn);
	if (g->ring.keys)
		OPENSSL_cleanse(g->ring.keys, g->cap * sizeof(*g->ring.keys));
	free(g->ring.keys);
	free(g->expires);
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
	j->aj.work = fetch_key;
	j->aj.done = fetched;
	j->conn = &g->conn;
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->as_id, sizeof(j->as_id), "%s", g->as_id);
	if (async_submit(g->q, &j->aj)) {
		free(j);
		return -EBUSY;
	}
	snprintf(g->inflight_ids[g->inflight++], sizeof(g->inflight_ids[0]),
		 "%s", id);
	return 0;
}
