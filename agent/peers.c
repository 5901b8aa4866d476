// SPDX-License-Identifier: GPL-2.0-only
/*
 * Roaming between SCSs (X.1125 13): when an MS connects here, every peer
 * SCS is asked (CRSAP msConnectReport, cause "moved", over TLS to its
 * report listener, MAC'd with the key both share) whether it holds control
 * of that MS; a peer that does answers with a controlPolicy (evaluation,
 * level, until, rule, reason), lets the MS go (its control ends there), and
 * this SCS applies the same level until the same time. A peer without
 * control answers evaluation "none"; an MS no peer knows is treated as new
 * (probed and evaluated, 11.1). The questions go from a worker thread: the
 * event loop never waits for a peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "addr.h"
#include "agent.h"
#include "crsapclient.h"
#include "log.h"

#define PEER_TIMEOUT_MS 3000
#define HANDOVER "handover"

struct pjob {
	size_t peer;
	struct xcrs_addr ms;
	uint8_t *frame;
	size_t flen;
	/* result */
	bool ok;
	uint8_t reply[CRSAP_FRAME_MAX + 4];
	size_t rlen;
	char err[256];
	struct pjob *next;
};

struct peers {
	struct watch w;
	int wfd;
	pthread_t th;
	bool started, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pjob *todo, *done;
	struct crsap_keyring ring; /* id -> key of every peer */
};

static void *worker(void *arg)
{
	struct agent *ag = arg;
	struct peers *ps = ag->peers;

	pthread_mutex_lock(&ps->mu);
	while (!ps->stop) {
		struct pjob *j = ps->todo;
		const struct policy_peer *pe;
		SSL_CTX *ctx = NULL;
		SSL *ssl = NULL;
		uint8_t *body;
		size_t blen;
		int fd = -1;

		if (!j) {
			pthread_cond_wait(&ps->cv, &ps->mu);
			continue;
		}
		ps->todo = j->next;
		pe = &ag->policy->peers[j->peer];
		pthread_mutex_unlock(&ps->mu);
		j->ok = false;
		if (!crsap_tls_connect(pe->address, ag->policy->peer_ca,
				       pe->name[0] ? pe->name : NULL,
				       PEER_TIMEOUT_MS, &ctx, &ssl, &fd, j->err,
				       sizeof(j->err))) {
			if (SSL_write(ssl, j->frame, (int)j->flen) != (int)j->flen)
				snprintf(j->err, sizeof(j->err), "write failed");
			else if (crsap_read_frame(ssl, fd, PEER_TIMEOUT_MS, j->reply,
						  sizeof(j->reply), &body,
						  &blen))
				snprintf(j->err, sizeof(j->err),
					 "no answer within %d ms",
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
		pthread_mutex_lock(&ps->mu);
		j->next = ps->done;
		ps->done = j;
		if (write(ps->wfd, "x", 1) < 0) {
			/* wake-ups are pending anyway */
		}
	}
	pthread_mutex_unlock(&ps->mu);
	return NULL;
}

/* A controlPolicy from peer i about j->ms: apply it. */
static void take_answer(struct agent *ag, struct pjob *j)
{
	const struct policy_peer *pe = &ag->policy->peers[j->peer];
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
	level = policy_level_index(ag->policy, m.level);
	if (level < 0) {
		log_warn("roaming: %s hands over %s at level %s, which this "
			 "policy does not have", pe->id, buf, m.level);
		return;
	}
	snprintf(why, sizeof(why), "handed over by %s (%s: %.200s)", pe->id,
		 m.rule[0] ? m.rule : m.evaluation, m.reason);
	if (corr_react_rule(ag->corr, &a, HANDOVER, (unsigned)level,
			    m.until_ms ? real_ms_to_mono(m.until_ms) : 0, true,
			    why, now_mono()) < 0) {
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
		agent_audit(ag, rec);
	}
	agent_after_change(ag);
}

static void on_results(struct agent *ag, struct watch *w, uint32_t events)
{
	struct peers *ps = (struct peers *)w;
	struct pjob *list;
	char b[64];

	while (read(w->fd, b, sizeof(b)) > 0)
		;
	pthread_mutex_lock(&ps->mu);
	list = ps->done;
	ps->done = NULL;
	pthread_mutex_unlock(&ps->mu);
	while (list) {
		struct pjob *j = list;

		list = j->next;
		if (j->ok)
			take_answer(ag, j);
		else
			log_warn("roaming: peer %s not asked: %s",
				 ag->policy->peers[j->peer].id, j->err);
		free(j->frame);
		free(j);
	}
}

int peers_open(struct agent *ag, char *err, size_t errlen)
{
	struct peers *ps;
	int p[2];

	ag->peers = NULL;
	if (!ag->policy->npeers)
		return 0;
	if (!ag->policy->reports.enabled) {
		snprintf(err, errlen, "scs.peers: peers talk to the report "
				      "listener: inputs.reports is needed");
		return -EINVAL;
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->w.fd = -1;
	ps->ring.keys = calloc(ag->policy->npeers, sizeof(*ps->ring.keys));
	if (!ps->ring.keys) {
		free(ps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ag->policy->npeers; i++) {
		struct crsap_key *k = &ps->ring.keys[ps->ring.nkeys++];

		snprintf(k->id, sizeof(k->id), "%s", ag->policy->peers[i].id);
		memcpy(k->key, ag->policy->peers[i].key,
		       ag->policy->peers[i].keylen);
		k->keylen = ag->policy->peers[i].keylen;
	}
	pthread_mutex_init(&ps->mu, NULL);
	pthread_cond_init(&ps->cv, NULL);
	ag->peers = ps;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) ||
	    watch_add(ag, &ps->w, p[0], EPOLLIN, on_results) ||
	    pthread_create(&ps->th, NULL, worker, ag)) {
		snprintf(err, errlen, "scs.peers: cannot start: %s",
			 strerror(errno));
		return -EAGAIN;
	}
	ps->wfd = p[1];
	ps->started = true;
	log_info("roaming: %zu peer SCS(s); this SCS is %s",
		 ag->policy->npeers, ag->policy->scs_id);
	return 0;
}

void peers_close(struct agent *ag)
{
	struct peers *ps = ag->peers;

	if (!ps)
		return;
	pthread_mutex_lock(&ps->mu);
	ps->stop = true;
	pthread_cond_signal(&ps->cv);
	pthread_mutex_unlock(&ps->mu);
	if (ps->started)
		pthread_join(ps->th, NULL);
	for (struct pjob *l = ps->todo; l;) {
		struct pjob *n = l->next;

		free(l->frame);
		free(l);
		l = n;
	}
	for (struct pjob *l = ps->done; l;) {
		struct pjob *n = l->next;

		free(l->frame);
		free(l);
		l = n;
	}
	if (ps->w.fd >= 0)
		watch_close(ag, &ps->w);
	if (ps->started)
		close(ps->wfd);
	OPENSSL_cleanse(ps->ring.keys, ps->ring.nkeys * sizeof(*ps->ring.keys));
	free(ps->ring.keys);
	pthread_mutex_destroy(&ps->mu);
	pthread_cond_destroy(&ps->cv);
	free(ps);
	ag->peers = NULL;
}

void peers_ask(struct agent *ag, const struct xcrs_addr *a)
{
	struct peers *ps = ag->peers;

	if (!ps)
		return;
	for (size_t i = 0; i < ag->policy->npeers; i++) {
		const struct policy_peer *pe = &ag->policy->peers[i];
		struct crsap_nac m = { .kind = CRSAP_MS_CONNECT };
		struct pjob *j = calloc(1, sizeof(*j));
		char *xml = NULL;
		size_t xlen;
		int sc;

		if (!j)
			return;
		snprintf(m.node, sizeof(m.node), "%s", ag->policy->scs_id);
		m.time_ms = now_real_ms();
		addr_format(a, m.address, sizeof(m.address));
		sc = corr_scope_of(ag->corr, a);
		if (sc >= 0)
			snprintf(m.scope, sizeof(m.scope), "%s",
				 ag->policy->scopes[sc].name);
		snprintf(m.cause, sizeof(m.cause), "moved");
		if (crsap_nonce(m.nonce) || crsap_nac_build(&m, &xml, &xlen) ||
		    crsap_frame_build(ag->policy->scs_id, pe->key, pe->keylen,
				      xml, xlen, &j->frame, &j->flen)) {
			free(xml);
			free(j);
			continue;
		}
		free(xml);
		j->peer = i;
		j->ms = *a;
		pthread_mutex_lock(&ps->mu);
		j->next = ps->todo;
		ps->todo = j;
		pthread_cond_signal(&ps->cv);
		pthread_mutex_unlock(&ps->mu);
	}
}

const struct crsap_key *peers_key(struct agent *ag, const char *id)
{
	return ag->peers ? crsap_keyring_find(&ag->peers->ring, id) : NULL;
}

int peers_answer(struct agent *ag, const struct crsap_key *k,
		 const uint8_t *buf, size_t len, uint8_t **out, size_t *olen,
		 char *err, size_t errlen)
{
	struct crsap_frame f;
	struct crsap_nac q, m = { .kind = CRSAP_CONTROL_POLICY };
	struct corr_view v;
	struct xcrs_addr a;
	uint64_t now = now_real_ms(),
		 skew = ag->policy->reports.max_skew_ns / 1000000;
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
	if (crsap_replay_add(ag->replay, q.node, q.nonce,
			     q.time_ms + skew + 1, now)) {
		snprintf(err, errlen, "replayed (or no room for) message of "
				      "peer %s", f.id);
		return -EACCES;
	}
	snprintf(m.node, sizeof(m.node), "%s", ag->policy->scs_id);
	m.time_ms = now;
	if (crsap_nonce(m.nonce))
		return -EIO;
	snprintf(m.address, sizeof(m.address), "%s", q.address);
	if (corr_terminal(ag->corr, &a, &v) == 0) {
		snprintf(m.evaluation, sizeof(m.evaluation), HANDOVER);
		snprintf(m.level, sizeof(m.level), "%s",
			 ag->policy->levels[v.level].name);
		m.until_ms = v.until_ns ? mono_to_real_ms(v.until_ns) : 0;
		snprintf(m.rule, sizeof(m.rule), "%s", v.rule);
		snprintf(m.reason, sizeof(m.reason), "%s", v.why);
	} else {
		int base = agent_base_level(ag, &a);

		snprintf(m.evaluation, sizeof(m.evaluation), "none");
		snprintf(m.level, sizeof(m.level), "%s",
			 base >= 0 ? ag->policy->levels[base].name : "none");
	}
	r = crsap_nac_build(&m, &xml, &xlen);
	if (!r)
		r = crsap_frame_build(ag->policy->scs_id, k->key, k->keylen, xml,
				      xlen, out, olen);
	free(xml);
	if (r)
		return r;
	if (!strcmp(m.evaluation, HANDOVER)) {
		log_info("roaming: %s moved to %s at level %s: handed over",
			 q.address, f.id, m.level);
		/* it is not here any more: its state and control go */
		ms_leave(ag, &a, "moved");
	}
	return 0;
}
