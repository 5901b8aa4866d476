// SPDX-License-Identifier: GPL-2.0-only
/*
 * The MS lifecycle of the SCS (X.1125 11.1, 11.6): an MS connects (the
 * dataplane saw its first traffic, the operator's session feed says so,
 * or its SCA reports) and leaves (idle past the policy's timeout, or the
 * feed says so). From connect to leave the agent keeps its state; at
 * leave its state and its control are released.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "lineproto.h"
#include "log.h"
#include "loop.h"
#include "ms.h"

#define NO_SCA "no-sca"

struct ms {
	struct loop *loop;
	const struct policy *p;
	struct decide *dec;
	struct enforce *enf;
	struct keys *keys;
	struct peers *peers;
	struct audit *au;
	struct mstab tab;
	int probe_fd;		/* UDP socket probes leave from, -1 none */
	struct watch probe_timer;
	struct ms_report rep;
};

static void audit_ms(struct ms *m, const char *event,
		     const struct xcrs_addr *a, const char *why)
{
	json_object *rec = json_object_new_object();
	char buf[ADDR_STRLEN];

	addr_format(a, buf, sizeof(buf));
	json_object_object_add(rec, "event", json_object_new_string(event));
	json_object_object_add(rec, "terminal", json_object_new_string(buf));
	json_object_object_add(rec, "cause", json_object_new_string(why));
	audit_write(m->au, rec);
}

static void connect_at(struct ms *m, const struct xcrs_addr *a,
		       const char *source, enum log_level lvl)
{
	struct ms_entry *e;
	char buf[ADDR_STRLEN];
	bool created;

	if (!policy_static_sub(m->p, a) && policy_pool_level(m->p, a) < 0) {
		addr_format(a, buf, sizeof(buf));
		log_debug("connect of %s (%s) ignored: not a subscriber of the "
			  "policy", buf, source);
		return;
	}
	addr_format(a, buf, sizeof(buf));
	e = mstab_add(&m->tab, a, &created);
	if (!e) {
		log_error("MS %s: out of memory", buf);
		return;
	}
	if (!created)
		return;
	e->since_ms = now_real_ms();
	snprintf(e->source, sizeof(e->source), "%s", source);
	/* Discovery: does it have an SCA? (a reporting MS has) */
	if (m->p->probe && strcmp(source, "report"))
		e->next_probe = loop_now(m->loop);
	/* Roaming: has it come from another site? */
	if (m->peers)
		peers_ask(m->peers, a);
	m->rep.connects++;
	m->rep.connected = m->tab.n;
	log_msg(lvl, "MS %s connected (%s)", buf, source);
	/* a session's start is in the sessions journal, not the audit log
	 * (which is for decisions and what the MS lifecycle did itself) */
	if (lvl == LOG_LVL_INFO)
		audit_ms(m, "ms-connect", a, source);
}

void ms_connect(struct ms *m, const struct xcrs_addr *a, const char *source)
{
	connect_at(m, a, source, LOG_LVL_INFO);
}

void ms_session_connect(struct ms *m, const struct xcrs_addr *a,
			const char *source)
{
	connect_at(m, a, source, LOG_LVL_DEBUG);
}

static void leave_at(struct ms *m, const struct xcrs_addr *a,
		     const char *cause, enum log_level lvl)
{
	char buf[ADDR_STRLEN];
	int r;

	addr_format(a, buf, sizeof(buf));
	if (mstab_del(&m->tab, a))
		log_debug("leave of %s (%s): it was not connected", buf, cause);
	/* Its next packet is a new connect. */
	enf_seen_forget(m->enf, a);
	m->rep.leaves++;
	m->rep.connected = m->tab.n;
	log_msg(lvl, "MS %s left (%s): its state and control are released",
		buf, cause);
	if (lvl == LOG_LVL_INFO)
		audit_ms(m, "ms-leave", a, cause);
	r = decide_release_all(m->dec, a, loop_now(m->loop));
	if (r < 0 && r != -ENOENT)
		log_warn("MS %s: releasing its control: %s", buf, strerror(-r));
}

void ms_leave(struct ms *m, const struct xcrs_addr *a, const char *cause)
{
	leave_at(m, a, cause, LOG_LVL_INFO);
}

void ms_session_leave(struct ms *m, const struct xcrs_addr *a,
		      const char *cause)
{
	leave_at(m, a, cause, LOG_LVL_DEBUG);
}

struct expired {
	struct ms *m;
	struct xcrs_addr a[256];
	size_t n;
};

static void on_idle(void *ctx, const struct xcrs_addr *a,
		    const struct xcrs_seen *s)
{
	struct expired *x = ctx;

	if (x->n < sizeof(x->a) / sizeof(x->a[0]))
		x->a[x->n++] = *a;
	else /* more than one batch: the rest leave without the release */
		ms_leave(x->m, a, "idle");
}

void ms_housekeeping(struct ms *m)
{
	struct expired x = { .m = m };
	int r;

	if (!m->p->ms_detect)
		return;
	r = enf_seen_expire(m->enf, m->p->ms_idle_ns, on_idle, &x);
	if (r < 0)
		log_warn("MS idle scan: %s", enf_errmsg(m->enf));
	for (size_t i = 0; i < x.n; i++)
		ms_leave(m, &x.a[i], "idle");
}

void ms_feed_line(struct ms *m, const char *src, char *line, size_t len)
{
	struct xcrs_addr a;
	bool connect;
	int r = session_line_parse(line, len, &connect, &a);

	if (r == -ENODATA)
		return;
	m->rep.session_lines++;
	if (r) {
		m->rep.session_malformed++;
		log_warn("%s: malformed session line dropped (expected "
			 "{\"event\": \"connect\"|\"leave\", \"ms\": ADDRESS})",
			 src);
		return;
	}
	if (connect)
		ms_connect(m, &a, "feed");
	else
		ms_leave(m, &a, "feed");
}

static void ms_one(struct ms_entry *e, void *ctx)
{
	json_object *arr = ctx, *o = json_object_new_object();
	char buf[ADDR_STRLEN], ts[40];

	addr_format(&e->addr, buf, sizeof(buf));
	fmt_time_ms(e->since_ms, ts, sizeof(ts));
	json_object_object_add(o, "terminal", json_object_new_string(buf));
	json_object_object_add(o, "since", json_object_new_string(ts));
	json_object_object_add(o, "source", json_object_new_string(e->source));
	json_object_object_add(o, "sca", json_object_new_boolean(e->sca));
	json_object_object_add(o, "probes", json_object_new_int((int)e->probes));
	json_object_object_add(o, "redirected",
			       json_object_new_boolean(e->redirected));
	json_object_array_add(arr, o);
}

json_object *ms_json(const struct ms *m)
{
	json_object *arr = json_object_new_array();

	mstab_each(&m->tab, ms_one, arr);
	return arr;
}

/* ---- discovery and SCA installation (11.1, 11.3) ---- */

void ms_probe_answered(struct ms *m, const struct xcrs_addr *a,
		       const char *sca_id, const char *sca_version)
{
	struct ms_entry *e;
	char buf[ADDR_STRLEN];

	ms_connect(m, a, "probe");
	e = mstab_get(&m->tab, a);
	if (!e)
		return;
	addr_format(a, buf, sizeof(buf));
	log_info("MS %s: SCA %s (%s) answered the probe%s", buf, sca_id,
		 sca_version, e->redirected ? "; held at the download service "
					      "until it reports" : "");
	e->sca = true;
	e->probes = 0;
	e->next_probe = 0;
	snprintf(e->sca_id, sizeof(e->sca_id), "%s", sca_id);
}

void ms_reported(struct ms *m, const struct xcrs_addr *a,
		 const char *sca_id)
{
	struct ms_entry *e;
	char buf[ADDR_STRLEN];

	ms_connect(m, a, "report");
	e = mstab_get(&m->tab, a);
	if (!e)
		return;
	e->sca = true;
	e->probes = 0;
	e->next_probe = 0;
	snprintf(e->sca_id, sizeof(e->sca_id), "%s", sca_id);
	if (!e->redirected)
		return;
	e->redirected = false;
	addr_format(a, buf, sizeof(buf));
	log_info("MS %s: its SCA reported: the hold at the download service "
		 "ends", buf);
	decide_release_rule(m->dec, a, NO_SCA, "its SCA reported",
			    loop_now(m->loop));
}

/* The key a probe to a is MAC'd with: the MS's own if a static key names
 * its address, else the public probe key. */
static void probe_key(struct ms *m, const struct xcrs_addr *a,
		      uint8_t *key, size_t *keylen)
{
	const struct crsap_keyring *kr = keys_file(m->keys);

	for (size_t i = 0; i < kr->nkeys; i++) {
		const struct crsap_key *k = &kr->keys[i];

		if (!k->peer && !memcmp(&k->addr, a, sizeof(*a))) {
			memcpy(key, k->key, k->keylen);
			*keylen = k->keylen;
			return;
		}
	}
	crsap_probe_key(key);
	*keylen = CRSAP_MAC_LEN;
}

static void send_probe(struct ms *m, struct ms_entry *e)
{
	struct crsap_probe p = { 0 };
	uint8_t key[CRSAP_KEY_MAX], *frame = NULL;
	size_t keylen, xlen, flen;
	char *xml = NULL;
	int r;

	addr_format(&e->addr, p.ms, sizeof(p.ms));
	p.time_ms = now_real_ms();
	if (crsap_nonce(p.nonce))
		return;
	snprintf(p.scs, sizeof(p.scs), "%s", m->p->scs_id);
	snprintf(p.report_to, sizeof(p.report_to), "%s",
		 m->p->reports.listen);
	probe_key(m, &e->addr, key, &keylen);
	if (crsap_probe_build(&p, &xml, &xlen) ||
	    crsap_frame_build(m->p->scs_id, key, keylen, xml, xlen,
			      &frame, &flen)) {
		log_warn("MS %s: cannot build a probe", p.ms);
		free(xml);
		return;
	}
	/* The frame without its length prefix: one datagram, one frame. */
	r = ms_send_sca(m, &e->addr, frame + 4, flen - 4);
	if (r)
		log_debug("MS %s: probe not sent: %s", p.ms, strerror(-r));
	free(xml);
	free(frame);
}

struct probe_walk {
	struct ms *m;
	uint64_t now;
	struct xcrs_addr redirect[64];
	size_t nredirect;
};

static void probe_one(struct ms_entry *e, void *ctx)
{
	struct probe_walk *w = ctx;
	const struct policy *p = w->m->p;

	if (e->sca || !e->next_probe || w->now < e->next_probe)
		return;
	if (e->probes >= p->probe_attempts && !e->redirected &&
	    w->nredirect < sizeof(w->redirect) / sizeof(w->redirect[0])) {
		/* decided after the walk: the engine's callbacks may touch
		 * the table */
		w->redirect[w->nredirect++] = e->addr;
	}
	send_probe(w->m, e);
	if (e->probes < 1000000)
		e->probes++;
	e->next_probe = w->now + p->probe_interval_ns;
}

static void on_probe_timer(struct watch *w, uint32_t events)
{
	struct ms *m = container_of(w, struct ms, probe_timer);
	struct probe_walk pw = { .m = m, .now = loop_now(m->loop) };

	loop_timer_ack(w);
	mstab_each(&m->tab, probe_one, &pw);
	for (size_t i = 0; i < pw.nredirect; i++) {
		struct ms_entry *e = mstab_get(&m->tab, &pw.redirect[i]);
		char buf[ADDR_STRLEN], why[160];
		int r;

		if (!e)
			continue;
		addr_format(&e->addr, buf, sizeof(buf));
		snprintf(why, sizeof(why),
			 "%s: no SCA answered %u probes; held at the SCA "
			 "download service until its SCA reports",
			 buf, m->p->probe_attempts);
		r = decide_react_rule(m->dec, &e->addr, NO_SCA,
				      m->p->probe_redirect, 0, false,
				      why, pw.now);
		if (r < 0) {
			log_warn("MS %s: cannot redirect: %s", buf,
				 strerror(-r));
			continue;
		}
		e->redirected = true;
		log_info("%s", why);
	}
}

static int probe_open(struct ms *m, char *err, size_t errlen)
{
	int zero = 0, r;

	m->probe_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (m->probe_fd < 0 ||
	    setsockopt(m->probe_fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		       sizeof(zero))) {
		r = -errno;
		snprintf(err, errlen, "probe socket: %s", strerror(errno));
		return r;
	}
	r = loop_timer(m->loop, &m->probe_timer, on_probe_timer);
	if (!r)
		r = loop_timer_in(&m->probe_timer, 250000000, 250000000);
	if (r) {
		snprintf(err, errlen, "probe timer: %s", strerror(-r));
		return r;
	}
	log_info("discovery: probing new MSs on udp/%u every %" PRIu64
		 " ms, holding them at level %s after %u unanswered",
		 m->p->probe_port, m->p->probe_interval_ns / 1000000,
		 m->p->levels[m->p->probe_redirect].name,
		 m->p->probe_attempts);
	return 0;
}

int ms_new(struct loop *l, const struct policy *p, struct decide *dec,
	   struct enforce *enf, struct keys *keys, struct peers *peers,
	   struct audit *au, struct ms **ret_ms, char *err, size_t errlen)
{
	struct ms *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	*m = (struct ms){ .loop = l, .p = p, .dec = dec, .enf = enf,
			  .keys = keys, .peers = peers, .au = au,
			  .probe_fd = -1, .probe_timer.fd = -1 };
	r = mstab_init(&m->tab);
	if (r) {
		free(m);
		return r;
	}
	if (p->probe && (r = probe_open(m, err, errlen))) {
		ms_free(m);
		return r;
	}
	*ret_ms = m;
	return 0;
}

void ms_free(struct ms *m)
{
	if (!m)
		return;
	loop_close(m->loop, &m->probe_timer);
	if (m->probe_fd >= 0)
		close(m->probe_fd);
	mstab_free(&m->tab);
	free(m);
}

void ms_set_policy(struct ms *m, const struct policy *p)
{
	m->p = p;
}

const struct ms_report *ms_report(const struct ms *m)
{
	return &m->rep;
}

void ms_each(const struct ms *m, void (*fn)(struct ms_entry *e, void *ctx),
	     void *ctx)
{
	mstab_each(&m->tab, fn, ctx);
}

const struct ms_entry *ms_get(const struct ms *m, const struct xcrs_addr *a)
{
	return mstab_get(&m->tab, a);
}

int ms_send_sca(struct ms *m, const struct xcrs_addr *a, const uint8_t *dgram,
		size_t len)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

	if (m->probe_fd < 0)
		return -ENOTCONN;
	memcpy(&sa.sin6_addr, a->a, 16);
	sa.sin6_port = htons(m->p->probe_port);
	return sendto(m->probe_fd, dgram, len, MSG_DONTWAIT,
		      (struct sockaddr *)&sa, sizeof(sa)) < 0 ?
		       -errno :
		       0;
}
