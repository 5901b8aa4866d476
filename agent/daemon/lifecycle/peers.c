// SPDX-License-Identifier: GPL-2.0-only
/*
 * Roaming between SCSs (X.1125 13): when an MS connects here, every peer
 * SCS is asked (CRSAP msConnectReport, cause "moved", over TLS to its
 * report listener, MAC'd with the key both share) whether it holds control
 * of that MS; a peer that does answers with a controlPolicy (evaluation,
 * level, until, rule, reason), lets the MS go (its control ends there), and
 * this SCS applies the same level until the same time. A peer without
 * control answers evaluation "none"; an MS no peer knows is treated as new
 * (probed and evaluated, 11.1). The questions go from the async worker
 * (common/async.h), each with copies of its peer's settings: the event
 * loop never waits for a peer, and a reload never pulls the peer list out
 * from under a question in flight. A reload takes the new peer list.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "addr.h"
#include "async.h"
#include "clock.h"
#include "loop.h"
#include "peers.h"
#include "crsapclient.h"
#include "log.h"

#define PEER_TIMEOUT_MS 3000
#define HANDOVER "handover"
#define QUEUE_MAX 1024

/* A question to one peer. It carries copies of the peer's settings: a
 * reload may free the policy while it is on its way. */
struct pjob {
	struct async_job aj;
	struct policy_peer peer;
	char ca[sizeof(((struct policy *)0)->peer_ca)];
	struct xcrs_addr ms;
	uint8_t *frame;
	size_t flen;
	/* result */
	bool ok;
	uint8_t reply[CRSAP_FRAME_MAX + 4];
	size_t rlen;
	char err[256];
};

struct peers {
	struct loop *loop;
	const struct policy *p;
	struct decide *dec;
	struct audit *au;
	struct watch w;		/* async_fd(q), not ours to close */
	struct async *q;	/* started with the first peer */
	/* the policy's peers, copied when it was set */
	struct policy_peer *list;
	size_t n;
	char ca[sizeof(((struct policy *)0)->peer_ca)];
	char scs_id[sizeof(((struct policy *)0)->scs_id)];
	struct crsap_keyring ring; /* id -> key of every peer */
};

/* On the worker: one TLS exchange with the peer. */
static void ask_peer(struct async_job *aj)
{
	struct pjob *j = (struct pjob *)aj;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	uint8_t *body;
	size_t blen;
	int fd = -1;

	j->ok = false;
	if (crsap_tls_connect(j->peer.address, j->ca,
			      j->peer.name[0] ? j->peer.name : NULL,
			      PEER_TIMEOUT_MS, &ctx, &ssl, &fd, j->err,
			      sizeof(j->err)))
		return;
	if (SSL_write(ssl, j->frame, (int)j->flen) != (int)j->flen)
		snprintf(j->err, sizeof(j->err), "write failed");
	else if (crsap_read_frame(ssl, fd, PEER_TIMEOUT_MS, j->reply,
				  sizeof(j->reply), &body, &blen))
		snprintf(j->err, sizeof(j->err), "no answer within %d ms",
			 PEER_TIMEOUT_MS);
	else {
		j->rlen = blen;
		memmove(j->reply, body, blen);
		j->ok = true;
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

/* A controlPolicy from the peer of j about j->ms: apply it. */
static void take_answer(struct peers *ps, struct pjob *j)
{
	const struct policy_peer *pe = &j->peer;
	struct crsap_frame f;
	struct crsap_nac m;
	struct xcrs_addr a;
	char err[256], buf[ADDR_STRLEN], why[400];
	int level;

	addr_format(&j->ms, buf, sizeof(buf));
	if (crsap_frame_split(j->reply, j->rlen, &f, err, sizeof(err)) ||
	    strcmp(f.id, pe->id) || !crsap_frame_verify(&f, pe->key, pe->keylen) ||
	    crsap_nac_parse(f.body, f.body_len, &m, err, sizeof(err)) ||
	    m.kind != CRSAP_CONTROL_POLICY || addr_parse(m.address, &a) ||
	    memcmp(&a, &j->ms, sizeof(a))) {
		log_warn("roaming: the answer of %s about %s was refused (not "
			 "an authentic control policy for it)", pe->id, buf);
		return;
	}
	if (!strcmp(m.evaluation, "none")) {
		log_debug("roaming: %s has no control of %s", pe->id, buf);
		return;
	}
	level = policy_level_carry(ps->p, m.level);
	if (level < 0) {
		log_warn("roaming: %s hands over %s at level %s, which this "
			 "policy does not have", pe->id, buf, m.level);
		return;
	}
	snprintf(why, sizeof(why), "handed over by %s (%s: %.200s)", pe->id,
		 m.rule[0] ? m.rule : m.evaluation, m.reason);
	if (decide_react_rule(ps->dec, &a, HANDOVER, (unsigned)level,
			    m.until_ms ? real_ms_to_mono(m.until_ms) : 0, true,
			    why, loop_now(ps->loop)) < 0) {
		log_warn("roaming: cannot apply the control of %s", buf);
		return;
	}
	log_info("roaming: %s arrived from %s at level %s", buf, pe->id,
		 m.level);
	{
		json_object *rec = json_object_new_object();

		json_object_object_add(rec, "event",
				       json_object_new_string("handover-in"));
		json_object_object_add(rec, "terminal",
				       json_object_new_string(buf));
		json_object_object_add(rec, "from", json_object_new_string(pe->id));
		json_object_object_add(rec, "level",
				       json_object_new_string(m.level));
		audit_write(ps->au, rec);
	}
}

/* On the loop: the peer answered, or could not be asked. */
static void answered(struct async_job *aj, void *ctx, bool ran)
{
	struct pjob *j = (struct pjob *)aj;

	if (ran && j->ok)
		take_answer(ctx, j);
	else if (ran)
		log_warn("roaming: peer %s not asked: %s", j->peer.id, j->err);
	free(j->frame);
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

static void on_results(struct watch *w, uint32_t events)
{
	struct peers *ps = container_of(w, struct peers, w);

	async_process(ps->q, ps);
}

/* Forgets (and wipes) the peer list and its keyring. */
static void drop_peers(struct peers *ps)
{
	if (ps->list)
		OPENSSL_cleanse(ps->list, ps->n * sizeof(*ps->list));
	free(ps->list);
	if (ps->ring.keys)
		OPENSSL_cleanse(ps->ring.keys,
				ps->ring.nkeys * sizeof(*ps->ring.keys));
	free(ps->ring.keys);
	ps->list = NULL;
	ps->ring.keys = NULL;
}

/* Copies p's peers into ps (the keyring too). */
static int take_peers(struct peers *ps, const struct policy *p)
{
	struct policy_peer *list = NULL;
	struct crsap_key *keys = NULL;

	if (p->npeers) {
		list = calloc(p->npeers, sizeof(*list));
		keys = calloc(p->npeers, sizeof(*keys));
		if (!list || !keys) {
			free(list);
			free(keys);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < p->npeers; i++) {
		list[i] = p->peers[i];
		snprintf(keys[i].id, sizeof(keys[i].id), "%s", p->peers[i].id);
		memcpy(keys[i].key, p->peers[i].key, p->peers[i].keylen);
		keys[i].keylen = p->peers[i].keylen;
	}
	drop_peers(ps);
	ps->list = list;
	ps->n = p->npeers;
	ps->ring.keys = keys;
	ps->ring.nkeys = p->npeers;
	snprintf(ps->ca, sizeof(ps->ca), "%s", p->peer_ca);
	snprintf(ps->scs_id, sizeof(ps->scs_id), "%s", p->scs_id);
	return 0;
}

int peers_check(const struct policy *p, char *err, size_t errlen)
{
	if (p->npeers && !p->reports.enabled) {
		snprintf(err, errlen, "scs.peers: peers talk to the report "
				      "listener: inputs.reports is needed");
		return -EINVAL;
	}
	return 0;
}

int peers_new(struct loop *l, const struct policy *p, struct decide *dec,
	      struct audit *au, struct peers **ret_peers, char *err,
	      size_t errlen)
{
	struct peers *ps;
	int r = peers_check(p, err, errlen);

	if (r)
		return r;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	*ps = (struct peers){ .loop = l, .dec = dec, .au = au, .w.fd = -1 };
	r = peers_set_policy(ps, p, err, errlen);
	if (r) {
		peers_free(ps);
		return r;
	}
	*ret_peers = ps;
	return 0;
}

int peers_set_policy(struct peers *ps, const struct policy *np, char *err,
		     size_t errlen)
{
	size_t had = ps->n;
	int r;

	ps->p = np;
	if (np->npeers && !ps->q) {
		r = async_open(QUEUE_MAX, &ps->q);
		if (!r)
			r = loop_add(ps->loop, &ps->w, async_fd(ps->q), EPOLLIN,
				     on_results);
		if (r) {
			snprintf(err, errlen, "scs.peers: cannot start: %s",
				 strerror(-r));
			return r;
		}
	}
	r = take_peers(ps, np);
	if (r) {
		snprintf(err, errlen, "scs.peers: out of memory");
		return r;
	}
	if (ps->n || had)
		log_info("roaming: %zu peer SCS(s); this SCS is %s", ps->n,
			 ps->scs_id);
	return 0;
}

void peers_free(struct peers *ps)
{
	if (!ps)
		return;
	loop_forget(ps->loop, &ps->w);
	if (ps->q)
		async_close(ps->q, ps);
	drop_peers(ps);
	free(ps);
}

void peers_ask(struct peers *ps, const struct xcrs_addr *a)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct policy_peer *pe = &ps->list[i];
		struct crsap_nac m = { .kind = CRSAP_MS_CONNECT };
		struct pjob *j = calloc(1, sizeof(*j));
		char *xml = NULL;
		size_t xlen;
		int sc;

		if (!j)
			return;
		snprintf(m.node, sizeof(m.node), "%s", ps->scs_id);
		m.time_ms = now_real_ms();
		addr_format(a, m.address, sizeof(m.address));
		sc = policy_scope_of(ps->p, a);
		if (sc >= 0)
			snprintf(m.scope, sizeof(m.scope), "%s",
				 ps->p->scopes[sc].name);
		snprintf(m.cause, sizeof(m.cause), "moved");
		if (crsap_nonce(m.nonce) || crsap_nac_build(&m, &xml, &xlen) ||
		    crsap_frame_build(ps->scs_id, pe->key, pe->keylen,
				      xml, xlen, &j->frame, &j->flen)) {
			free(xml);
			free(j);
			continue;
		}
		free(xml);
		j->aj.work = ask_peer;
		j->aj.done = answered;
		j->peer = *pe;
		snprintf(j->ca, sizeof(j->ca), "%s", ps->ca);
		j->ms = *a;
		if (async_submit(ps->q, &j->aj)) {
			log_warn("roaming: %zu questions to peers queued "
				 "already: %s not asked", async_queued(ps->q),
				 pe->id);
			free(j->frame);
			OPENSSL_cleanse(j, sizeof(*j));
			free(j);
		}
	}
}

const struct crsap_key *peers_key(const struct peers *ps, const char *id)
{
	return ps ? crsap_keyring_find(&ps->ring, id) : NULL;
}

int peers_answer(struct peers *ps, struct crsap_replay *replay,
		 const struct crsap_key *k, const uint8_t *buf, size_t len,
		 uint8_t **out, size_t *olen, struct xcrs_addr *ret_moved,
		 char *err, size_t errlen)
{
	struct crsap_frame f;
	struct crsap_nac q, m = { .kind = CRSAP_CONTROL_POLICY };
	struct corr_view v;
	struct xcrs_addr a;
	uint64_t now = now_real_ms(),
		 skew = ps->p->reports.max_skew_ns / 1000000;
	char *xml = NULL;
	size_t xlen;
	int r;

	if (crsap_frame_split(buf, len, &f, err, errlen))
		return -EBADMSG;
	if (!crsap_frame_verify(&f, k->key, k->keylen)) {
		snprintf(err, errlen, "MAC of peer %s does not match", f.id);
		return -EACCES;
	}
	if (crsap_nac_parse(f.body, f.body_len, &q, err, errlen) ||
	    q.kind != CRSAP_MS_CONNECT || strcmp(q.node, f.id) ||
	    addr_parse(q.address, &a)) {
		if (!err[0])
			snprintf(err, errlen, "not an MS connect report of %s",
				 f.id);
		return -EBADMSG;
	}
	if (q.time_ms + skew < now || q.time_ms > now + skew) {
		snprintf(err, errlen, "stale message of peer %s", f.id);
		return -EACCES;
	}
	if (crsap_replay_add(replay, q.node, q.nonce,
			     q.time_ms + skew + 1, now)) {
		snprintf(err, errlen, "replayed (or no room for) message of "
				      "peer %s", f.id);
		return -EACCES;
	}
	snprintf(m.node, sizeof(m.node), "%s", ps->p->scs_id);
	m.time_ms = now;
	if (crsap_nonce(m.nonce))
		return -EIO;
	snprintf(m.address, sizeof(m.address), "%s", q.address);
	if (corr_terminal(decide_engine(ps->dec), &a, &v) == 0) {
		snprintf(m.evaluation, sizeof(m.evaluation), HANDOVER);
		snprintf(m.level, sizeof(m.level), "%s",
			 ps->p->levels[v.level].name);
		m.until_ms = v.until_ns ? mono_to_real_ms(v.until_ns) : 0;
		snprintf(m.rule, sizeof(m.rule), "%s", v.rule);
		snprintf(m.reason, sizeof(m.reason), "%s", v.why);
	} else {
		int base = policy_base_level(ps->p, &a);

		snprintf(m.evaluation, sizeof(m.evaluation), "none");
		snprintf(m.level, sizeof(m.level), "%s",
			 base >= 0 ? ps->p->levels[base].name : "none");
	}
	r = crsap_nac_build(&m, &xml, &xlen);
	if (!r)
		r = crsap_frame_build(ps->p->scs_id, k->key, k->keylen, xml,
				      xlen, out, olen);
	free(xml);
	if (r)
		return r;
	if (!strcmp(m.evaluation, HANDOVER)) {
		log_info("roaming: %s moved to %s at level %s: handed over",
			 q.address, f.id, m.level);
		*ret_moved = a;
		return 1;
	}
	return 0;
}
