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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "addr.h"
#include "agent.h"
#include "lineproto.h"
#include "log.h"

static void audit_ms(struct agent *ag, const char *event,
		     const struct xcrs_addr *a, const char *why)
{
	json_object *rec = json_object_new_object();
	char buf[ADDR_STRLEN];

	addr_format(a, buf, sizeof(buf));
	json_object_object_add(rec, "event", json_object_new_string(event));
	json_object_object_add(rec, "terminal", json_object_new_string(buf));
	json_object_object_add(rec, "cause", json_object_new_string(why));
	audit_write(ag->audit, rec);
}

void ms_connect(struct agent *ag, const struct xcrs_addr *a,
		const char *source)
{
	struct ms_entry *e;
	char buf[ADDR_STRLEN];
	bool created;

	addr_format(a, buf, sizeof(buf));
	if (!agent_is_subscriber(ag, a)) {
		log_debug("connect of %s (%s) ignored: not a subscriber of the "
			  "policy", buf, source);
		return;
	}
	e = mstab_add(&ag->ms, a, &created);
	if (!e) {
		log_error("MS %s: out of memory", buf);
		return;
	}
	if (!created)
		return;
	e->since_ms = now_real_ms();
	snprintf(e->source, sizeof(e->source), "%s", source);
	/* Discovery: does it have an SCA? (a reporting MS has) */
	if (ag->policy->probe && strcmp(source, "report"))
		e->next_probe = now_mono();
	/* Roaming: has it come from another site? */
	peers_ask(ag, a);
	ag->counters[C_MS_CONNECTS]++;
	log_info("MS %s connected (%s)", buf, source);
	audit_ms(ag, "ms-connect", a, source);
}

void ms_leave(struct agent *ag, const struct xcrs_addr *a, const char *cause)
{
	char buf[ADDR_STRLEN];
	int r;

	addr_format(a, buf, sizeof(buf));
	if (mstab_del(&ag->ms, a))
		log_debug("leave of %s (%s): it was not connected", buf, cause);
	/* Its next packet is a new connect. */
	if (ag->dp)
		enf_seen_forget(ag->enf, a);
	ag->counters[C_MS_LEAVES]++;
	log_info("MS %s left (%s): its state and control are released", buf,
		 cause);
	audit_ms(ag, "ms-leave", a, cause);
	r = decide_release_all(ag->dec, a, now_mono());
	if (r < 0 && r != -ENOENT)
		log_warn("MS %s: releasing its control: %s", buf, strerror(-r));
}

struct expired {
	struct agent *ag;
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
		ms_leave(x->ag, a, "idle");
}

void ms_housekeeping(struct agent *ag)
{
	struct expired x = { .ag = ag };
	int r;

	if (!ag->policy->ms_detect || !ag->dp)
		return;
	r = enf_seen_expire(ag->enf, ag->policy->ms_idle_ns, on_idle, &x);
	if (r < 0)
		log_warn("MS idle scan: %s", enf_errmsg(ag->enf));
	for (size_t i = 0; i < x.n; i++)
		ms_leave(ag, &x.a[i], "idle");
}

void ms_feed_line(struct agent *ag, const char *src, char *line, size_t len)
{
	struct xcrs_addr a;
	bool connect;
	int r = session_line_parse(line, len, &connect, &a);

	if (r == -ENODATA)
		return;
	ag->counters[C_SESSIONS_LINES]++;
	if (r) {
		ag->counters[C_INPUT_MALFORMED]++;
		log_warn("%s: malformed session line dropped (expected "
			 "{\"event\": \"connect\"|\"leave\", \"ms\": ADDRESS})",
			 src);
		return;
	}
	if (connect)
		ms_connect(ag, &a, "feed");
	else
		ms_leave(ag, &a, "feed");
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

json_object *ms_json(struct agent *ag)
{
	json_object *arr = json_object_new_array();

	mstab_each(&ag->ms, ms_one, arr);
	return arr;
}

/* ---- discovery and SCA installation (11.1, 11.3) ---- */

#define NO_SCA "no-sca"

void ms_probe_answered(struct agent *ag, const struct xcrs_addr *a,
		       const char *sca_id, const char *sca_version)
{
	struct ms_entry *e;
	char buf[ADDR_STRLEN];

	ms_connect(ag, a, "probe");
	e = mstab_get(&ag->ms, a);
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

void ms_reported(struct agent *ag, const struct xcrs_addr *a,
		 const char *sca_id)
{
	struct ms_entry *e;
	char buf[ADDR_STRLEN];

	ms_connect(ag, a, "report");
	e = mstab_get(&ag->ms, a);
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
	decide_release_rule(ag->dec, a, NO_SCA, "its SCA reported",
			    now_mono());
}

/* The key a probe to a is MAC'd with: the MS's own if a static key names
 * its address, else the public probe key. */
static void probe_key(struct agent *ag, const struct xcrs_addr *a,
		      uint8_t *key, size_t *keylen)
{
	for (size_t i = 0; ag->keys && i < ag->keys->nkeys; i++) {
		const struct crsap_key *k = &ag->keys->keys[i];

		if (!k->peer && !memcmp(&k->addr, a, sizeof(*a))) {
			memcpy(key, k->key, k->keylen);
			*keylen = k->keylen;
			return;
		}
	}
	crsap_probe_key(key);
	*keylen = CRSAP_MAC_LEN;
}

static void send_probe(struct agent *ag, struct ms_entry *e)
{
	struct crsap_probe p = { 0 };
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	uint8_t key[CRSAP_KEY_MAX], *frame = NULL;
	size_t keylen, xlen, flen;
	char *xml = NULL;

	addr_format(&e->addr, p.ms, sizeof(p.ms));
	p.time_ms = now_real_ms();
	if (crsap_nonce(p.nonce))
		return;
	snprintf(p.scs, sizeof(p.scs), "%s", ag->policy->scs_id);
	snprintf(p.report_to, sizeof(p.report_to), "%s",
		 ag->policy->reports.listen);
	probe_key(ag, &e->addr, key, &keylen);
	if (crsap_probe_build(&p, &xml, &xlen) ||
	    crsap_frame_build(ag->policy->scs_id, key, keylen, xml, xlen,
			      &frame, &flen)) {
		log_warn("MS %s: cannot build a probe", p.ms);
		free(xml);
		return;
	}
	memcpy(&sa.sin6_addr, e->addr.a, 16);
	sa.sin6_port = htons(ag->policy->probe_port);
	/* The frame without its length prefix: one datagram, one frame. */
	if (sendto(ag->probe_fd, frame + 4, flen - 4, MSG_DONTWAIT,
		   (struct sockaddr *)&sa, sizeof(sa)) < 0)
		log_debug("MS %s: probe not sent: %s", p.ms, strerror(errno));
	free(xml);
	free(frame);
}

struct probe_walk {
	struct agent *ag;
	uint64_t now;
	struct xcrs_addr redirect[64];
	size_t nredirect;
};

static void probe_one(struct ms_entry *e, void *ctx)
{
	struct probe_walk *w = ctx;
	const struct policy *p = w->ag->policy;

	if (e->sca || !e->next_probe || w->now < e->next_probe)
		return;
	if (e->probes >= p->probe_attempts && !e->redirected &&
	    w->nredirect < sizeof(w->redirect) / sizeof(w->redirect[0])) {
		/* decided after the walk: the engine's callbacks may touch
		 * the table */
		w->redirect[w->nredirect++] = e->addr;
	}
	send_probe(w->ag, e);
	if (e->probes < 1000000)
		e->probes++;
	e->next_probe = w->now + p->probe_interval_ns;
}

static void on_probe_timer(struct agent *ag, struct watch *w, uint32_t events)
{
	struct probe_walk pw = { .ag = ag, .now = now_mono() };
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_error("timerfd: %s", strerror(errno));
	mstab_each(&ag->ms, probe_one, &pw);
	for (size_t i = 0; i < pw.nredirect; i++) {
		struct ms_entry *e = mstab_get(&ag->ms, &pw.redirect[i]);
		char buf[ADDR_STRLEN], why[160];
		int r;

		if (!e)
			continue;
		addr_format(&e->addr, buf, sizeof(buf));
		snprintf(why, sizeof(why),
			 "%s: no SCA answered %u probes; held at the SCA "
			 "download service until its SCA reports",
			 buf, ag->policy->probe_attempts);
		r = decide_react_rule(ag->dec, &e->addr, NO_SCA,
				      ag->policy->probe_redirect, 0, false,
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

int ms_probe_open(struct agent *ag, char *err, size_t errlen)
{
	struct itimerspec it = { .it_interval = { 0, 250000000 },
				 .it_value = { 0, 250000000 } };
	int fd, zero = 0;

	ag->probe_fd = -1;
	if (!ag->policy->probe)
		return 0;
	ag->probe_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ag->probe_fd < 0 ||
	    setsockopt(ag->probe_fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		       sizeof(zero))) {
		snprintf(err, errlen, "probe socket: %s", strerror(errno));
		return -errno;
	}
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0 || timerfd_settime(fd, 0, &it, NULL) ||
	    watch_add(ag, &ag->probe_timer, fd, EPOLLIN, on_probe_timer)) {
		snprintf(err, errlen, "probe timer: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	log_info("discovery: probing new MSs on udp/%u every %" PRIu64
		 " ms, holding them at level %s after %u unanswered",
		 ag->policy->probe_port, ag->policy->probe_interval_ns / 1000000,
		 ag->policy->levels[ag->policy->probe_redirect].name,
		 ag->policy->probe_attempts);
	return 0;
}

void ms_probe_close(struct agent *ag)
{
	if (ag->probe_timer.fd >= 0)
		watch_close(ag, &ag->probe_timer);
	if (ag->probe_fd >= 0)
		close(ag->probe_fd);
	ag->probe_fd = -1;
}
