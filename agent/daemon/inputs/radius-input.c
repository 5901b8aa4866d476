// SPDX-License-Identifier: GPL-2.0-only
/*
 * inputs.radius (see radius-input.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "loop.h"
#include "radius-input.h"
#include "radius.h"

const char *const radius_refusal_names[RAD_REF_COUNT] = {
	[RAD_REF_UNKNOWN_CLIENT] = "unknown_client",
	[RAD_REF_MALFORMED] = "malformed",
	[RAD_REF_AUTHENTICATOR] = "bad_authenticator",
	[RAD_REF_MSG_AUTHENTICATOR] = "bad_message_authenticator",
	[RAD_REF_NOT_RECORDED] = "not_recorded",
};

/* Responses sent, for retransmissions: direct-mapped by (source,
 * Identifier, authenticator). */
#define DUP_SLOTS 4096u
#define DUP_NS 30000000000ull
struct dup {
	struct sockaddr_storage from;
	uint8_t id, auth[RADIUS_AUTH_LEN];
	uint64_t at;
	uint8_t resp[RADIUS_HDR];
};

/* The responses of one wake-up: sent together once the batch's changes
 * are written (subscribers_flush), never before. */
#define BATCH 64
struct resp {
	struct sockaddr_storage to;
	socklen_t tl;
	uint8_t b[RADIUS_HDR];
};

struct radius_in {
	struct watch w;
	struct resp out[BATCH];
	unsigned nout;
	struct loop *loop;
	const struct policy *p;
	struct subscribers *subs;
	struct dup *dups;
	struct radius_in_report rep;
};

static uint32_t dup_slot(const struct sockaddr_storage *from, uint8_t id,
			 const uint8_t *auth)
{
	uint32_t h = 2166136261u;
	const uint8_t *b = (const uint8_t *)from;

	for (size_t i = 0; i < sizeof(*from); i++)
		h = (h ^ b[i]) * 16777619u;
	h = (h ^ id) * 16777619u;
	for (int i = 0; i < RADIUS_AUTH_LEN; i++)
		h = (h ^ auth[i]) * 16777619u;
	return h & (DUP_SLOTS - 1);
}

/* The configured client the source address belongs to (the longest
 * prefix), or NULL. */
static const struct policy_radius_client *client_of(
	const struct policy *p, const struct sockaddr_storage *from,
	char *name, size_t len)
{
	const struct policy_radius_client *best = NULL;
	struct xcrs_addr a;

	if (addr_from_sockaddr(from, &a))
		return NULL;
	addr_format(&a, name, len);
	for (size_t i = 0; i < p->radius.nclients; i++) {
		const struct policy_radius_client *c = &p->radius.clients[i];

		if (addr_prefix_contains(&c->prefix.addr, c->prefix.plen, &a,
					 128) &&
		    (!best || c->prefix.plen > best->prefix.plen))
			best = c;
	}
	return best;
}

static void refuse(struct radius_in *r, enum radius_refusal why,
		   const char *client, const char *what)
{
	uint64_t n = ++r->rep.refused[why];

	if (n <= 20 || n % 1000 == 0)
		log_warn("radius: request from %s refused (%s): %s%s", client,
			 radius_refusal_names[why], what,
			 n > 20 ? " (every 1000th is logged)" : "");
}

/* Writes the batch's changes, then sends its responses. */
static void answer(struct radius_in *r)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	unsigned done = 0;

	subscribers_flush(r->subs);
	if (!r->nout)
		return;
	for (unsigned i = 0; i < r->nout; i++) {
		iov[i] = (struct iovec){ .iov_base = r->out[i].b,
					 .iov_len = RADIUS_HDR };
		m[i] = (struct mmsghdr){
			.msg_hdr = { .msg_name = &r->out[i].to,
				     .msg_namelen = r->out[i].tl,
				     .msg_iov = &iov[i], .msg_iovlen = 1 }
		};
	}
	while (done < r->nout) {
		int k = sendmmsg(r->w.fd, m + done, r->nout - done, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			log_warn("radius: answering: %s (the NAS sends again)",
				 k < 0 ? strerror(errno) : "nothing sent");
			break;
		}
		done += (unsigned)k;
	}
	r->nout = 0;
}

static void queue(struct radius_in *r, const uint8_t *resp,
		  const struct sockaddr_storage *to, socklen_t tl)
{
	struct resp *o;

	if (r->nout == BATCH)
		answer(r);
	o = &r->out[r->nout++];
	o->to = *to;
	o->tl = tl;
	memcpy(o->b, resp, RADIUS_HDR);
}

static void one(struct radius_in *r, const uint8_t *pkt, size_t n,
		const struct sockaddr_storage *from, socklen_t fl)
{
	const struct policy_radius_client *cl;
	struct radius_acct a;
	struct sess_event ev = { 0 };
	char client[INET6_ADDRSTRLEN + 8], err[512], nas[72];
	uint8_t resp[RADIUS_HDR];
	struct dup *d;
	uint64_t now = loop_now(r->loop);
	int k;

	r->rep.requests++;
	cl = client_of(r->p, from, client, sizeof(client));
	if (!cl) {
		refuse(r, RAD_REF_UNKNOWN_CLIENT, client,
		       "not one of inputs.radius.clients");
		return;
	}
	if (radius_parse(pkt, n, &a, err, sizeof(err))) {
		refuse(r, RAD_REF_MALFORMED, client, err);
		return;
	}
	k = radius_verify(pkt, &a, (const uint8_t *)cl->secret,
			  cl->secret_len);
	if (k) {
		refuse(r, k == -EPERM ? RAD_REF_MSG_AUTHENTICATOR :
					RAD_REF_AUTHENTICATOR,
		       client,
		       k == -EPERM ? "wrong Message-Authenticator" :
				     "wrong Request Authenticator (another "
				     "secret?)");
		return;
	}
	d = &r->dups[dup_slot(from, a.id, a.auth)];
	if (d->at && now - d->at < DUP_NS && d->id == a.id &&
	    !memcmp(d->auth, a.auth, RADIUS_AUTH_LEN) &&
	    !memcmp(&d->from, from, sizeof(*from))) {
		r->rep.retransmissions++;
		queue(r, d->resp, from, fl);
		return;
	}
	if (a.nas_id[0])
		snprintf(nas, sizeof(nas), "%s", a.nas_id);
	else if (a.has_nas_ip)
		inet_ntop(AF_INET, a.nas_ip, nas, sizeof(nas));
	else
		snprintf(nas, sizeof(nas), "%s", client);
	ev.status = a.status;
	ev.t0 = now_mono();
	ev.nas = nas;
	ev.session = a.session;
	ev.imsi = a.imsi;
	ev.msisdn = a.msisdn;
	ev.imeisv = a.imeisv;
	ev.user_name = a.user_name;
	ev.apn = a.apn;
	ev.location = a.location;
	if (a.has_ipv4) {
		ev.has_ipv4 = true;
		addr_from_v4(a.ipv4, &ev.ipv4);
	}
	if (a.has_ipv6) {
		ev.has_ipv6 = true;
		memcpy(ev.ipv6.a, a.ipv6_prefix, 16);
		ev.ipv6_plen = a.ipv6_plen;
	}
	k = subscribers_event(r->subs, &ev, err, sizeof(err));
	if (k < 0) {
		/* nothing recorded: no response (the NAS sends again) */
		refuse(r, RAD_REF_NOT_RECORDED, client, err);
		return;
	}
	r->rep.accepted++;
	if (radius_response(&a, (const uint8_t *)cl->secret, cl->secret_len,
			    resp, sizeof(resp)) < 0) {
		refuse(r, RAD_REF_NOT_RECORDED, client, "no MD5 to answer with");
		return;
	}
	d->from = *from;
	d->id = a.id;
	memcpy(d->auth, a.auth, RADIUS_AUTH_LEN);
	d->at = now ? now : 1;
	memcpy(d->resp, resp, sizeof(resp));
	queue(r, resp, from, fl);
}

#define RECV_BATCH 32

static void on_readable(struct watch *w, uint32_t events)
{
	struct radius_in *r = container_of(w, struct radius_in, w);
	static uint8_t buf[RECV_BATCH][RADIUS_MAX + 1];
	struct sockaddr_storage from[RECV_BATCH];
	struct mmsghdr m[RECV_BATCH];
	struct iovec iov[RECV_BATCH];

	(void)events;
	/* a bounded batch per wake-up (8 × 32 datagrams, one system call
	 * each 32): other inputs get their turn */
	for (int round = 0; round < 8; round++) {
		int k;

		for (int i = 0; i < RECV_BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = buf[i],
						 .iov_len = sizeof(buf[i]) };
			m[i] = (struct mmsghdr){
				.msg_hdr = { .msg_name = &from[i],
					     .msg_namelen = sizeof(from[i]),
					     .msg_iov = &iov[i],
					     .msg_iovlen = 1 }
			};
		}
		k = recvmmsg(w->fd, m, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (k <= 0)
			break;
		for (int i = 0; i < k; i++) {
			/* a datagram longer than RADIUS allows is cut:
			 * its Length no longer fits and it is refused */
			memset((char *)&from[i] + m[i].msg_hdr.msg_namelen, 0,
			       sizeof(from[i]) - m[i].msg_hdr.msg_namelen);
			one(r, buf[i], m[i].msg_len, &from[i],
			    m[i].msg_hdr.msg_namelen);
		}
		if (k < RECV_BATCH)
			break;
	}
	answer(r);
}

int radius_in_new(struct loop *l, const struct policy *p,
		  struct subscribers *subs, struct radius_in **ret, char *err,
		  size_t errlen)
{
	struct sockaddr_storage ss;
	struct radius_in *r;
	socklen_t sl;
	int fd, rc, one_ = 1;

	*ret = NULL;
	if (!p->radius.enabled)
		return 0;
	if (addr_listen_parse(p->radius.listen, &ss, &sl)) {
		snprintf(err, errlen, "inputs.radius.listen %s: not "
				      "address:port", p->radius.listen);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r)
		r->dups = calloc(DUP_SLOTS, sizeof(*r->dups));
	if (!r || !r->dups) {
		if (r)
			free(r);
		return -ENOMEM;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one_, sizeof(one_)) ||
	    bind(fd, (struct sockaddr *)&ss, sl)) {
		rc = -errno;
		snprintf(err, errlen, "inputs.radius.listen %s: %s",
			 p->radius.listen, strerror(-rc));
		if (fd >= 0)
			close(fd);
		free(r->dups);
		free(r);
		return rc;
	}
	r->loop = l;
	r->p = p;
	r->subs = subs;
	rc = loop_add(l, &r->w, fd, EPOLLIN, on_readable);
	if (rc) {
		close(fd);
		free(r->dups);
		free(r);
		snprintf(err, errlen, "inputs.radius: %s", strerror(-rc));
		return rc;
	}
	log_info("radius: accounting on %s (UDP), %zu client(s)",
		 p->radius.listen, p->radius.nclients);
	*ret = r;
	return 0;
}

void radius_in_free(struct radius_in *r)
{
	if (!r)
		return;
	loop_close(r->loop, &r->w);
	free(r->dups);
	free(r);
}

void radius_in_set_policy(struct radius_in *r, const struct policy *p)
{
	if (r)
		r->p = p;
}

const struct radius_in_report *radius_in_report(const struct radius_in *r)
{
	static const struct radius_in_report none;

	return r ? &r->rep : &none;
}
