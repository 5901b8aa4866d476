// SPDX-License-Identifier: GPL-2.0-only
/*
 * Subscribers and sessions (see subscribers.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fleet.h"
#include "log.h"
#include "loop.h"
#include "radius.h"
#include "subscribers.h"

static bool addr_eq(const struct xcrs_addr *a, const struct xcrs_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

struct sub {
	char id[48]; /* "imsi:…", "msisdn:…", "user:…" */
	char imsi[16], msisdn[24], imeisv[17];
	/* the subscriber's decision: on every address it holds */
	bool decided;
	char level[POLICY_NAME_MAX];
	uint64_t until; /* CLOCK_MONOTONIC ns, 0 = until released */
	char why[160];
	uint64_t decided_ms; /* when it was made (Unix ms): the fleet's */
	bool roc;	     /* it ends on a clean report */
	/* the other nodes' decisions on it (the fleet's bucket) */
	struct sub_fl *fl;
	size_t nfl;
	size_t nsessions;
	struct session *sessions; /* its sessions (session.sub_next) */
	struct sub *next;
};

struct sub_fl {
	char node[FLEET_NODE_MAX];
	char level[POLICY_NAME_MAX];
	uint64_t until; /* CLOCK_MONOTONIC ns, 0 = until released */
	char why[160];
	bool roc;
};

struct session {
	char key[140]; /* NAS "\x1f" Acct-Session-Id */
	char nas[65], session[65], apn[101], location[64];
	struct sub *sub;
	bool has_ipv4, has_ipv6;
	struct xcrs_addr ipv4, ipv6; /* ipv6: the prefix */
	unsigned ipv6_plen;	     /* 128-bit form */
	bool v6_decided;	     /* a prefix decision of ours is on it
				      * (a prefix shorter than /64) */
	int scope;		     /* its scope (index), as last written */
	bool fleet_rx;		     /* its IPv4 holds the fleet's reaction */
	uint64_t since_ms;
	struct session *next, *addr_next4, *addr_next6, *sub_next;
};

#define NBUCKETS 65536u
/* Subscribers: with a fleet, every node's decisions are here too (a
 * million is a fleet of some size), so chains stay short at that. */
#define SUBS_BUCKETS (1u << 20)

struct subscribers {
	struct loop *loop;
	const struct policy *p;
	struct decide *dec;
	struct ms *ms;
	struct fleet *fleet; /* NULL: a single node */
	struct sub *subs[SUBS_BUCKETS];
	struct session *sess[NBUCKETS];
	struct session *by4[NBUCKETS], *by6[NBUCKETS];
	bool applying; /* our own decide calls: their callbacks are ours */
	bool batching; /* entry writes since the last flush (decide_batch) */
	/* the journal (<state_file>.sessions) */
	char jpath[300];
	int jfd;
	char *jbuf; /* lines not written yet */
	size_t jlen, jcap;
	uint64_t jrecords;
	struct watch jtimer;
	bool jsync_armed;
	uint64_t t0;   /* the event being handled: when it was read */
	uint64_t esc_keep_ns; /* escalation windows: offences kept so long */
	struct subscribers_report rep;
};

static void sess_drop(struct subscribers *s, struct session *x);
static void journal_start(struct subscribers *s, const struct session *x);
static void journal_stop(struct subscribers *s, const struct session *x);
static void journal_decide(struct subscribers *s, const struct sub *u);

static uint32_t hash(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 16777619u;
	return h & (NBUCKETS - 1);
}

/* An address's bucket: its four words mixed (the table is walked on every
 * entry write; a byte-wise hash cost more than the walk). */
static uint32_t haddr(const struct xcrs_addr *a)
{
	uint32_t w[4];
	uint64_t h;

	memcpy(w, a->a, 16);
	h = ((uint64_t)(w[0] ^ w[2]) << 32 | (w[1] ^ w[3])) *
	    0x9e3779b97f4a7c15ULL;
	return (uint32_t)(h >> 40) & (NBUCKETS - 1);
}

static uint32_t hstr(const char *s)
{
	return hash(s, strlen(s));
}

static uint32_t hsub(const char *id)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *c = (const unsigned char *)id; *c; c++)
		h = (h ^ *c) * 16777619u;
	return h & (SUBS_BUCKETS - 1);
}

/* The /64 an IPv6 address is in (the index key of a session's prefix). */
static struct xcrs_addr slash64(const struct xcrs_addr *a)
{
	struct xcrs_addr k = *a;

	memset((uint8_t *)&k + 8, 0, sizeof(k) - 8);
	return k;
}

static struct sub *sub_find(const struct subscribers *s, const char *id)
{
	for (struct sub *u = s->subs[hsub(id)]; u; u = u->next)
		if (!strcmp(u->id, id))
			return u;
	return NULL;
}

static struct session *sess_find(const struct subscribers *s,
				 const char *key)
{
	for (struct session *x = s->sess[hstr(key)]; x; x = x->next)
		if (!strcmp(x->key, key))
			return x;
	return NULL;
}

static struct session *by_addr(const struct subscribers *s,
			       const struct xcrs_addr *a)
{
	if (addr_is_v4(a)) {
		for (struct session *x = s->by4[haddr(a)]; x;
		     x = x->addr_next4)
			if (x->has_ipv4 && addr_eq(&x->ipv4, a))
				return x;
	} else {
		struct xcrs_addr k = slash64(a);

		for (struct session *x = s->by6[haddr(&k)]; x;
		     x = x->addr_next6)
			if (x->has_ipv6) {
				struct xcrs_addr m = slash64(&x->ipv6);

				if (addr_eq(&m, &k))
					return x;
			}
	}
	return NULL;
}

static void unlink_from(struct session **head, struct session *x,
			size_t link_off)
{
	for (struct session **pp = head; *pp;
	     pp = (struct session **)((char *)*pp + link_off))
		if (*pp == x) {
			*pp = *(struct session **)((char *)x + link_off);
			return;
		}
}

static void index_add(struct subscribers *s, struct session *x)
{
	if (x->has_ipv4) {
		uint32_t h = haddr(&x->ipv4);

		x->addr_next4 = s->by4[h];
		s->by4[h] = x;
	}
	if (x->has_ipv6) {
		struct xcrs_addr k = slash64(&x->ipv6);
		uint32_t h = haddr(&k);

		x->addr_next6 = s->by6[h];
		s->by6[h] = x;
	}
}

static void index_del(struct subscribers *s, struct session *x)
{
	if (x->has_ipv4)
		unlink_from(&s->by4[haddr(&x->ipv4)], x,
			    offsetof(struct session, addr_next4));
	if (x->has_ipv6) {
		struct xcrs_addr k = slash64(&x->ipv6);

		unlink_from(&s->by6[haddr(&k)], x,
			    offsetof(struct session, addr_next6));
	}
}

static void terminal_changed(void *ctx, const struct xcrs_addr *a);
static bool hold(void *ctx, const struct policy *p, const struct xcrs_addr *a,
		 struct decide_hold *h);
static uint64_t esc_keep(const struct policy *p);
static int sess_scope(const struct policy *p, const struct session *x);
static void write_v4(struct subscribers *s, struct session *x);
static void write_v6(struct subscribers *s, struct session *x, bool audit);
static size_t offences(const struct subscribers *s, const struct sub *u,
		       uint64_t *out, size_t max);
static struct sub *sub_get(struct subscribers *s, const char *id);
static int journal_open(struct subscribers *s, char *err, size_t errlen);
static void on_jtimer(struct watch *w, uint32_t events);

int subscribers_new(struct loop *l, const struct policy *p,
		    struct decide *dec, struct ms *ms, struct subscribers **ret,
		    char *err, size_t errlen)
{
	struct subscribers *s = calloc(1, sizeof(*s));
	struct decide_port port = { .terminal_changed = terminal_changed };
	int r;

	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->p = p;
	s->dec = dec;
	s->ms = ms;
	s->jfd = -1;
	s->jtimer.fd = -1;
	port.ctx = s;
	s->esc_keep_ns = esc_keep(p);
	decide_set_holder(dec, hold, s);
	r = loop_timer(l, &s->jtimer, on_jtimer);
	if (!r)
		r = journal_open(s, err, errlen);
	if (!r)
		r = decide_add_port(dec, &port);
	if (r) {
		subscribers_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void subscribers_free(struct subscribers *s)
{
	if (!s)
		return;
	decide_set_holder(s->dec, NULL, NULL);
	subscribers_flush(s);
	if (s->jfd >= 0) {
		fdatasync(s->jfd);
		close(s->jfd);
	}
	free(s->jbuf);
	loop_close(s->loop, &s->jtimer);
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct session *x = s->sess[i], *n; x; x = n) {
			n = x->next;
			free(x);
		}
	for (size_t i = 0; i < SUBS_BUCKETS; i++)
		for (struct sub *u = s->subs[i], *n; u; u = n) {
			n = u->next;
			free(u->fl);
			free(u);
		}
	free(s);
}

static uint64_t esc_keep(const struct policy *p)
{
	uint64_t k = 0;

	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].escalate && p->rules[i].esc_within_ns > k)
			k = p->rules[i].esc_within_ns;
	return k;
}

/* Every session's entries again (their scopes and levels under p). */
static void rewrite_all(struct subscribers *s)
{
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct session *x = s->sess[i]; x; x = x->next) {
			x->scope = sess_scope(s->p, x);
			write_v4(s, x);
			write_v6(s, x, false);
		}
}

void subscribers_set_policy(struct subscribers *s, const struct policy *p)
{
	s->p = p;
	/* a level renamed (levels[].was): the decisions take its new name */
	for (size_t i = 0; i < SUBS_BUCKETS; i++)
		for (struct sub *u = s->subs[i]; u; u = u->next) {
			int l = u->level[0] ? policy_level_carry(p, u->level) :
					      -1;

			if (l >= 0)
				snprintf(u->level, sizeof(u->level), "%s",
					 p->levels[l].name);
		}
	s->esc_keep_ns = esc_keep(p);
	rewrite_all(s);
}

static bool live(const struct subscribers *s, const struct sub *u);

size_t subscribers_reload_losses(const struct subscribers *s,
				 const struct policy *p,
				 void (*fn)(void *ctx, const char *what),
				 void *ctx)
{
	char line[48 + POLICY_NAME_MAX + 96];
	size_t n = 0;

	for (size_t i = 0; i < SUBS_BUCKETS; i++)
		for (const struct sub *u = s->subs[i]; u; u = u->next) {
			if (!live(s, u) || policy_level_carry(p, u->level) >= 0)
				continue;
			snprintf(line, sizeof(line), "%s: decision at %s ended "
				 "(a level the new policy does not have)",
				 u->id, u->level);
			fn(ctx, line);
			n++;
		}
	return n;
}

const struct subscribers_report *subscribers_report(
	const struct subscribers *s)
{
	return &s->rep;
}

/* ---- who holds an address ---------------------------------------------------- */

/* The subscriber's identity key for the engine's evidence: ff00::/8 (never
 * a terminal's unicast address), the kind in octet 1, the IMSI or MSISDN
 * as a number in the last eight octets; a User-Name by two hashes. */
void subscribers_who_key(const char *id, struct xcrs_addr *k)
{
	const char *v = strchr(id, ':');
	uint64_t n = 0, h1 = 1469598103934665603ULL, h2 = 7;

	memset(k, 0, sizeof(*k));
	k->a[0] = 0xff;
	v = v ? v + 1 : id;
	if (!strncmp(id, "imsi:", 5) || !strncmp(id, "msisdn:", 7)) {
		k->a[1] = id[0] == 'i' ? 1 : 2;
		for (; *v >= '0' && *v <= '9'; v++)
			n = n * 10 + (uint64_t)(*v - '0');
		k->a[2] = (uint8_t)strlen(id); /* leading zeros count */
	} else {
		k->a[1] = 3;
		for (; *v; v++) {
			h1 = (h1 ^ (uint8_t)*v) * 1099511628211ULL;
			h2 = h2 * 31 + (uint8_t)*v;
		}
		n = h1;
		memcpy(k->a + 3, &h2, 5);
	}
	for (int i = 15; i >= 8; i--, n >>= 8)
		k->a[i] = (uint8_t)n;
}

static void who_key(const char *id, struct xcrs_addr *k)
{
	subscribers_who_key(id, k);
}

/* The scope of a session: its APN's or location's, else -1 (its
 * addresses' pools). */
static int sess_scope(const struct policy *p, const struct session *x)
{
	return policy_session_scope(p, x->apn, x->location);
}

/* The level of a session's address without a decision: its session
 * scope's, else its pool's (or static entry's), else -1 (no entry). */
static int sess_base(const struct policy *p, const struct session *x,
		     const struct xcrs_addr *a)
{
	int sc = sess_scope(p, x);

	return sc >= 0 ? (int)p->scopes[sc].pool_level :
			 policy_base_level(p, a);
}

static bool hold(void *ctx, const struct policy *p, const struct xcrs_addr *a,
		 struct decide_hold *h)
{
	struct subscribers *s = ctx;
	const struct session *x = by_addr(s, a);

	if (!x)
		return false;
	memset(h, 0, sizeof(*h));
	who_key(x->sub->id, &h->corr.who);
	h->corr.scope = sess_scope(p, x);
	h->by_prefix = !addr_is_v4(a);
	h->base_level = sess_base(p, x, h->by_prefix ? &x->ipv6 : a);
	snprintf(h->id, sizeof(h->id), "%s", x->sub->id);
	return true;
}

static bool live(const struct subscribers *s, const struct sub *u);

#define OFFENCES_MAX 32

/* The subscriber's escalation history that can still count (within the
 * policy's longest escalate.within), oldest first: how many (out may be
 * NULL). */
static size_t offences(const struct subscribers *s, const struct sub *u,
		       uint64_t *out, size_t max)
{
	uint64_t t[OFFENCES_MAX], now = loop_now(s->loop);
	struct xcrs_addr k;
	size_t n, m = 0;

	if (!s->esc_keep_ns)
		return 0;
	who_key(u->id, &k);
	n = decide_offences(s->dec, &k, t, OFFENCES_MAX);
	for (size_t i = 0; i < n; i++)
		if (now - t[i] <= s->esc_keep_ns) {
			if (out && m < max)
				out[m] = t[i];
			m++;
		}
	return m;
}

/* What holds a subscriber: its own decision (this node's) or another
 * node's, whichever is the most restrictive (then the longest). */
struct eff {
	bool fleet;	   /* another node's */
	int level;	   /* index */
	uint64_t until;	   /* CLOCK_MONOTONIC ns, 0: until released */
	const char *lname, *why, *node;
	bool roc;
};

static bool stronger(int la, uint64_t ua, int lb, uint64_t ub)
{
	if (la != lb)
		return la > lb;
	return ua > ub ? ub != 0 : ua == 0 && ub != 0;
}

static bool fl_live(const struct subscribers *s, const struct sub_fl *e)
{
	return !e->until || e->until > loop_now(s->loop);
}

/* The fleet's strongest live decision on u (NULL: none). */
static const struct sub_fl *fl_top(const struct subscribers *s,
				   const struct sub *u)
{
	const struct sub_fl *top = NULL;
	int tl = -1;

	for (size_t i = 0; i < u->nfl; i++) {
		int l = policy_level_index(s->p, u->fl[i].level);

		if (l < 0 || !fl_live(s, &u->fl[i]))
			continue;
		if (!top || stronger(l, u->fl[i].until, tl, top->until)) {
			top = &u->fl[i];
			tl = l;
		}
	}
	return top;
}

static bool eff(const struct subscribers *s, const struct sub *u,
		struct eff *e)
{
	const struct sub_fl *t = fl_top(s, u);
	bool on = false;

	memset(e, 0, sizeof(*e));
	e->level = -1;
	if (live(s, u) && (e->level = policy_level_index(s->p, u->level)) >= 0) {
		e->until = u->until;
		e->lname = u->level;
		e->why = u->why;
		e->roc = u->roc;
		on = true;
	}
	if (t) {
		int l = policy_level_index(s->p, t->level);

		if (!on || stronger(l, t->until, e->level, e->until)) {
			e->fleet = true;
			e->level = l;
			e->until = t->until;
			e->lname = t->level;
			e->why = t->why;
			e->node = t->node;
			e->roc = t->roc;
			on = true;
		}
	}
	return on;
}

/* The session's /64 entry: the subscriber's decision, else its base
 * (prefixes shorter than a /64 get a prefix decision: follow()). */
static void write_v6(struct subscribers *s, struct session *x, bool audit)
{
	struct sub *u = x->sub;
	struct eff e;
	int lv = eff(s, u, &e) ? e.level : -1, r;
	char why[220];

	if (!x->has_ipv6 || x->ipv6_plen != 64)
		return;
	snprintf(why, sizeof(why), "subscriber %s: %s", u->id,
		 lv >= 0 ? e.why : "");
	r = decide_prefix64(s->dec, &x->ipv6, sess_scope(s->p, x), lv,
			    lv >= 0 ? e.until : 0,
			    sess_base(s->p, x, &x->ipv6), u->id, why, audit);
	if (r && r != -EPERM) {
		s->rep.errors++; /* the dataplane's refusal is logged there */
	} else if (!r && audit && lv >= 0) {
		char buf[ADDR_STRLEN + 4];

		addr_prefix_format(&x->ipv6, 64, buf, sizeof(buf));
		log_info("subscriber %s: %s on its prefix %s", u->id,
			 e.lname, buf);
	}
}

/* The session's IPv4 entry again (its reaction, else its base). */
static void write_v4(struct subscribers *s, struct session *x)
{
	int r;

	if (!x->has_ipv4)
		return;
	r = decide_rebind(s->dec, &x->ipv4);
	if (r)
		s->rep.errors++; /* the dataplane's refusal is logged there */
}

/* Start (or a restart) of a session: read -> entries written. */
static void observe(struct subscribers *s)
{
	decide_lat_observe(s->t0, s->rep.lat_hist, &s->rep.lat_sum_ns,
			   &s->rep.lat_count);
}

/* ---- decisions ------------------------------------------------------------ */

static bool live(const struct subscribers *s, const struct sub *u)
{
	return u->decided &&
	       (!u->until || u->until > loop_now(s->loop));
}

/* Puts the subscriber's decision (its own, or the fleet's when that is
 * stronger) on the session's addresses. */
static void follow(struct subscribers *s, struct session *x,
		   const struct xcrs_addr *except)
{
	struct sub *u = x->sub;
	char why[220], by[64], err[512], buf[ADDR_STRLEN + 4];
	uint64_t now = loop_now(s->loop);
	struct eff e;
	int r;

	if (!eff(s, u, &e))
		return;
	if (e.fleet)
		snprintf(why, sizeof(why), "subscriber %s: node %s: %s", u->id,
			 e.node, e.why);
	else
		snprintf(why, sizeof(why), "subscriber %s: %s", u->id, e.why);
	snprintf(by, sizeof(by), "subscriber %s", u->id);
	s->applying = true;
	if (x->has_ipv4 && e.fleet) {
		struct corr_view v;

		/* another node's decision: a reaction of its own name, so
		 * that this node's own decision stays apart from it */
		if (corr_terminal(decide_engine(s->dec), &x->ipv4, &v) ||
		    v.level != (unsigned)e.level || v.until_ns != e.until ||
		    !v.rule || strcmp(v.rule, "fleet")) {
			r = decide_react_rule(s->dec, &x->ipv4, "fleet",
					      (unsigned)e.level, e.until,
					      e.roc, why, now);
			if (r && r != -EPERM) {
				s->rep.errors++;
			} else if (!r) {
				x->fleet_rx = true;
				s->rep.followed++;
				addr_format(&x->ipv4, buf, sizeof(buf));
				log_info("subscriber %s: node %s's decision "
					 "(%s) holds it at %s",
					 u->id, e.node, e.lname, buf);
			}
		}
	} else if (x->has_ipv4 && !(except && addr_eq(except, &x->ipv4))) {
		struct corr_view v;

		if (corr_terminal(decide_engine(s->dec), &x->ipv4, &v) ||
		    strcmp(s->p->levels[v.level].name, u->level) ||
		    v.until_ns != u->until) {
			r = decide_react(s->dec, &x->ipv4, 128, u->level,
					 u->until, why, by, s->t0, now, err,
					 sizeof(err));
			if (r) {
				s->rep.errors++;
				log_warn("%s", err);
			} else {
				s->rep.followed++;
				addr_format(&x->ipv4, buf, sizeof(buf));
				log_info("subscriber %s: its decision (%s) "
					 "follows it to %s",
					 u->id, u->level, buf);
			}
		}
	}
	if (x->has_ipv6 && x->ipv6_plen == 64)
		write_v6(s, x, true);
	if (x->has_ipv6 && x->ipv6_plen < 64) {
		r = decide_react(s->dec, &x->ipv6, x->ipv6_plen, e.lname,
				 e.until, why, by, s->t0, now, err, sizeof(err));
		if (r) {
			s->rep.errors++;
			log_warn("%s", err);
		} else {
			if (!x->v6_decided)
				s->rep.followed++;
			x->v6_decided = true;
			addr_prefix_format(&x->ipv6, x->ipv6_plen, buf,
					   sizeof(buf));
			log_info("subscriber %s: %s on its prefix %s", u->id,
				 e.lname, buf);
		}
	}
	s->applying = false;
}

/* The fleet's reaction off a session's IPv4 address (its decision
 * changed or ended): what holds the subscriber then is put again. */
static void fleet_unreact(struct subscribers *s, struct session *x)
{
	if (!x->fleet_rx)
		return;
	s->applying = true;
	decide_release_rule(s->dec, &x->ipv4, "fleet", "the fleet's decision "
			    "changed", loop_now(s->loop));
	s->applying = false;
	x->fleet_rx = false;
}

/* Takes off what follow() put on a session's addresses (its IPv4's
 * reactions go with ms_leave). */
static void unfollow_v6(struct subscribers *s, struct session *x)
{
	char err[256];
	int r;

	if (!x->v6_decided)
		return;
	s->applying = true;
	r = decide_release(s->dec, &x->ipv6, x->ipv6_plen, "subscriber",
			   loop_now(s->loop), err, sizeof(err));
	if (r && r != -ENOENT)
		log_warn("%s", err);
	s->applying = false;
	x->v6_decided = false;
}

/* Takes the subscriber's decision off a session's addresses (but
 * except, where it was released already). */
static void unfollow(struct subscribers *s, struct session *x,
		     const struct xcrs_addr *except, const char *by)
{
	char err[256];

	unfollow_v6(s, x);
	write_v6(s, x, false);
	if (x->has_ipv4 && !(except && addr_eq(&x->ipv4, except))) {
		s->applying = true;
		decide_release(s->dec, &x->ipv4, 128, by, loop_now(s->loop),
			       err, sizeof(err));
		s->applying = false;
		x->fleet_rx = false;
	}
}

/* ---- the fleet ------------------------------------------------------------ */

/* This node's decision on u to the fleet's bucket (or its end). */
static void share_decision(struct subscribers *s, const struct sub *u)
{
	struct fleet_decision d;

	if (!s->fleet)
		return;
	if (!live(s, u)) {
		fleet_put_decision(s->fleet, u->id, NULL);
		return;
	}
	memset(&d, 0, sizeof(d));
	snprintf(d.id, sizeof(d.id), "%s", u->id);
	snprintf(d.node, sizeof(d.node), "%s", fleet_node(s->fleet));
	snprintf(d.level, sizeof(d.level), "%s", u->level);
	d.until_ms = u->until ? mono_to_real_ms(u->until) : 0;
	d.at_ms = u->decided_ms;
	d.release_on_clean = u->roc;
	snprintf(d.why, sizeof(d.why), "%s", u->why);
	fleet_put_decision(s->fleet, u->id, &d);
}

static json_object *sess_obj(const struct session *x);

/* The sessions this node holds of u to the fleet (but except, ending). */
static void share_sessions(struct subscribers *s, const struct sub *u,
			   const struct session *except)
{
	json_object *arr;

	if (!s->fleet)
		return;
	arr = json_object_new_array();
	for (const struct session *x = u->sessions; x; x = x->sub_next)
		if (x != except)
			json_object_array_add(arr, sess_obj(x));
	fleet_put_sessions(s->fleet, u->id, arr);
	json_object_put(arr);
}

/* The fleet's decision on u changed: every session's entries again. */
static void refollow(struct subscribers *s, struct sub *u)
{
	for (struct session *x = u->sessions; x; x = x->sub_next) {
		fleet_unreact(s, x);
		follow(s, x, NULL);
		if (x->has_ipv4 && !x->fleet_rx)
			write_v4(s, x);
		write_v6(s, x, false);
	}
}

static void sub_maybe_free(struct subscribers *s, struct sub *u);

/* The strongest reaction on an address that is not the fleet's: this
 * node's own decision. */
struct own_pick {
	const struct subscribers *s;
	bool found, fleet_seen;
	struct corr_saved best;
};

static void pick_own(void *ctx, const struct corr_saved *r)
{
	struct own_pick *pk = ctx;

	if (!strcmp(r->rule, "fleet")) {
		pk->fleet_seen = true;
		return;
	}
	if (!pk->found || stronger((int)r->level, r->until_ns,
				   (int)pk->best.level, pk->best.until_ns)) {
		pk->best = *r;
		pk->found = true;
	}
}

/* A reaction changed on a: if a session holds a, the change is its
 * subscriber's and goes to every address the subscriber holds. */
static void terminal_changed(void *ctx, const struct xcrs_addr *a)
{
	struct subscribers *s = ctx;
	struct own_pick pk = { .s = s };
	const struct sub_fl *top;
	struct session *x;
	struct sub *u;

	if (s->applying || !(x = by_addr(s, a)))
		return;
	u = x->sub;
	corr_each_reaction_of(decide_engine(s->dec), a, pick_own, &pk);
	if (pk.found) {
		const char *ln = s->p->levels[pk.best.level].name;

		if (!u->decided || strcmp(u->level, ln) ||
		    u->until != pk.best.until_ns)
			u->decided_ms = now_real_ms();
		u->decided = true;
		snprintf(u->level, sizeof(u->level), "%s", ln);
		u->until = pk.best.until_ns;
		u->roc = pk.best.release_on_clean;
		snprintf(u->why, sizeof(u->why), "%s",
			 pk.best.why ? pk.best.why : "");
	} else {
		/* released (the operator, a clean report, its end) */
		u->decided = false;
	}
	/* The fleet's reaction on this address ended here, not by its
	 * expiry (a clean report, the operator): the decision ends on every
	 * node. */
	top = fl_top(s, u);
	if (addr_is_v4(a) && x->fleet_rx && !pk.fleet_seen && top &&
	    (!top->until || top->until > loop_now(s->loop) + 1000000ULL)) {
		log_info("subscriber %s: node %s's decision (%s) ended here; "
			 "released on every node",
			 u->id, top->node, top->level);
		if (s->fleet)
			fleet_release(s->fleet, u->id);
		free(u->fl);
		u->fl = NULL;
		u->nfl = 0;
	}
	if (!pk.fleet_seen)
		x->fleet_rx = false;
	journal_decide(s, u);
	for (struct session *y = u->sessions; y; y = y->sub_next) {
		struct eff e;

		if (eff(s, u, &e)) {
			follow(s, y, a);
			continue;
		}
		unfollow(s, y, a, "subscriber");
	}
	subscribers_flush(s);
}

/* ---- events --------------------------------------------------------------- */

static void sub_id(const struct sess_event *ev, char *buf, size_t len)
{
	if (ev->imsi && *ev->imsi)
		snprintf(buf, len, "imsi:%s", ev->imsi);
	else if (ev->msisdn && *ev->msisdn)
		snprintf(buf, len, "msisdn:%s", ev->msisdn);
	else if (ev->user_name && *ev->user_name)
		snprintf(buf, len, "user:%.40s", ev->user_name);
	else
		buf[0] = '\0';
}

static void sess_key(const char *nas, const char *session, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s\x1f%s", nas, session);
}

static void end_session(struct subscribers *s, struct session *x,
			const char *cause)
{
	struct sub *u = x->sub;

	/* not held from here on: what is written now is the policy's */
	index_del(s, x);
	unfollow_v6(s, x);
	if (x->has_ipv6 && x->ipv6_plen == 64)
		decide_prefix64_end(s->dec, &x->ipv6);
	if (x->has_ipv4) {
		/* the next holder of the address starts clean */
		s->applying = true;
		ms_session_leave(s->ms, &x->ipv4, cause);
		s->applying = false;
		write_v4(s, x);
	}
	journal_stop(s, x);
	share_sessions(s, u, x);
	log_msg(live(s, u) ? LOG_LVL_INFO : LOG_LVL_DEBUG,
		"subscriber %s: session %s of %s ended (%s)%s", u->id,
		 x->session, x->nas, cause,
		 live(s, u) ? "; its decision stays with it" : "");
	sess_drop(s, x);
	sub_maybe_free(s, u);
}

/* A subscriber nothing holds any longer (no session, no decision of its
 * own or of the fleet, no offence that still counts) is forgotten. */
static void sub_maybe_free(struct subscribers *s, struct sub *u)
{
	if (u->nsessions || live(s, u) || fl_top(s, u) ||
	    offences(s, u, NULL, 0))
		return;
	for (struct sub **pp = &s->subs[hsub(u->id)]; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	free(u->fl);
	free(u);
	s->rep.subscribers--;
}

static bool same_binding(const struct session *x, const struct sess_event *ev)
{
	return x->has_ipv4 == ev->has_ipv4 && x->has_ipv6 == ev->has_ipv6 &&
	       (!x->has_ipv4 || addr_eq(&x->ipv4, &ev->ipv4)) &&
	       (!x->has_ipv6 || addr_eq(&x->ipv6, &ev->ipv6));
}

/* A session of someone else holds the address ev brings: it has ended
 * without a Stop (lost, or the core reuses addresses first). */
static void take_addresses(struct subscribers *s, const struct sess_event *ev,
			   const struct session *self)
{
	struct session *o;

	if (ev->has_ipv4 && (o = by_addr(s, &ev->ipv4)) && o != self)
		end_session(s, o, "its address was given to another session");
	if (ev->has_ipv6 && (o = by_addr(s, &ev->ipv6)) && o != self)
		end_session(s, o, "its prefix was given to another session");
}

static int start(struct subscribers *s, const struct sess_event *ev,
		 const char *id, const char *key, char *err, size_t errlen)
{
	struct session *x = sess_find(s, key);
	struct sub *u;
	uint32_t h;

	if (x && same_binding(x, ev) && !strcmp(x->sub->id, id)) {
		s->rep.duplicates++;
		return 1;
	}
	if (x) /* the same session id, a new binding: the old one ends */
		end_session(s, x, "a new Start for its session id");
	take_addresses(s, ev, NULL);
	u = sub_find(s, id);
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		snprintf(u->id, sizeof(u->id), "%s", id);
		h = hsub(id);
		u->next = s->subs[h];
		s->subs[h] = u;
		s->rep.subscribers++;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(x->key, sizeof(x->key), "%s", key);
	snprintf(x->nas, sizeof(x->nas), "%s", ev->nas);
	snprintf(x->session, sizeof(x->session), "%s", ev->session);
	snprintf(x->apn, sizeof(x->apn), "%s", ev->apn ? ev->apn : "");
	snprintf(x->location, sizeof(x->location), "%s",
		 ev->location ? ev->location : "");
	if (ev->imsi && *ev->imsi)
		snprintf(u->imsi, sizeof(u->imsi), "%s", ev->imsi);
	if (ev->msisdn && *ev->msisdn)
		snprintf(u->msisdn, sizeof(u->msisdn), "%s", ev->msisdn);
	if (ev->imeisv && *ev->imeisv)
		snprintf(u->imeisv, sizeof(u->imeisv), "%s", ev->imeisv);
	x->sub = u;
	x->has_ipv4 = ev->has_ipv4;
	x->ipv4 = ev->ipv4;
	x->has_ipv6 = ev->has_ipv6;
	x->ipv6 = ev->ipv6;
	x->ipv6_plen = ev->ipv6_plen;
	x->since_ms = now_real_ms();
	h = hstr(key);
	x->next = s->sess[h];
	s->sess[h] = x;
	index_add(s, x);
	x->sub_next = u->sessions;
	u->sessions = x;
	u->nsessions++;
	s->rep.sessions++;
	s->rep.starts++;
	log_msg(live(s, u) ? LOG_LVL_INFO : LOG_LVL_DEBUG,
		"subscriber %s: session %s of %s started%s%s", u->id,
		 x->session, x->nas, live(s, u) ? " under its decision " : "",
		 live(s, u) ? u->level : "");
	journal_start(s, x);
	share_sessions(s, u, NULL);
	/* its entries (its decision, or the fleet's, else its scope's
	 * level) are in the dataplane before its first packet */
	x->scope = sess_scope(s->p, x);
	follow(s, x, NULL);
	if (!x->fleet_rx)
		write_v4(s, x);
	{
		struct eff e;

		if (!eff(s, u, &e))
			write_v6(s, x, false);
	}
	observe(s);
	if (x->has_ipv4) {
		s->applying = true;
		ms_session_connect(s->ms, &x->ipv4,
				   ev->source ? ev->source : "radius");
		s->applying = false;
	}
	return 0;
}

int subscribers_event(struct subscribers *s, const struct sess_event *in,
		      char *err, size_t errlen)
{
	char id[48], key[140];
	struct sess_event e = *in, *ev = &e;
	struct session *x;

	/* an IPv6 terminal is its /64 (TS 23.401 5.3.1.2.2): it picks any
	 * interface identifier in it */
	if (e.has_ipv6) {
		if (e.ipv6_plen > 64)
			e.ipv6_plen = 64;
		addr_mask(&e.ipv6, e.ipv6_plen);
	}

	s->t0 = ev->t0;
	if (!s->batching) {
		/* the programs learn of the new entries once, at the flush
		 * before the responses */
		decide_batch(s->dec, true);
		s->batching = true;
	}
	switch (ev->status) {
	case RADIUS_ACCT_ON:
	case RADIUS_ACCT_OFF: {
		size_t n = 0;

		/* the NAS restarted: every session it reported is gone */
		for (size_t i = 0; i < NBUCKETS; i++)
			for (struct session *y = s->sess[i], *nx; y; y = nx) {
				nx = y->next;
				if (!strcmp(y->nas, ev->nas)) {
					end_session(s, y,
						    ev->status == RADIUS_ACCT_ON ?
							    "Accounting-On" :
							    "Accounting-Off");
					n++;
				}
			}
		s->rep.nas_resets++;
		log_info("NAS %s: %s: %zu session(s) ended", ev->nas,
			 radius_status_name(ev->status), n);
		return 0;
	}
	default:
		break;
	}
	sess_key(ev->nas, ev->session, key, sizeof(key));
	x = sess_find(s, key);
	if (ev->status == RADIUS_STOP) {
		if (!x) {
			s->rep.duplicates++;
			return 1;
		}
		s->rep.stops++;
		end_session(s, x, "Stop");
		return 0;
	}
	sub_id(ev, id, sizeof(id));
	if (ev->status == RADIUS_INTERIM && x) {
		s->rep.interims++;
		if (ev->location && *ev->location &&
		    strcmp(ev->location, x->location)) {
			int was = x->scope;

			snprintf(x->location, sizeof(x->location), "%s",
				 ev->location);
			x->scope = sess_scope(s->p, x);
			journal_start(s, x); /* replaces it on replay */
			share_sessions(s, x->sub, NULL);
			if (x->scope != was) {
				/* its entries carry its new scope (a
				 * contained cell's containment, or none) */
				write_v4(s, x);
				write_v6(s, x, false);
				log_info("subscriber %s: moved to %s (scope "
					 "%s -> %s)",
					 x->sub->id, ev->location,
					 was >= 0 ? s->p->scopes[was].name :
						    "of its addresses",
					 x->scope >= 0 ?
						 s->p->scopes[x->scope].name :
						 "of its addresses");
			} else {
				log_info("subscriber %s: moved to %s",
					 x->sub->id, ev->location);
			}
		}
		if (same_binding(x, ev) || (!ev->has_ipv4 && !ev->has_ipv6))
			return 0;
		/* an Interim with a new binding is taken as a new Start */
	}
	if (!id[0]) {
		snprintf(err, errlen, "no subscriber identity (3GPP-IMSI, "
				      "Calling-Station-Id or User-Name)");
		return -EINVAL;
	}
	if (!ev->has_ipv4 && !ev->has_ipv6) {
		snprintf(err, errlen, "no Framed-IP-Address or "
				      "Framed-IPv6-Prefix");
		return -EINVAL;
	}
	return start(s, ev, id, key, err, errlen);
}

/* ---- the journal ---------------------------------------------------------- */

/* <agent.state_file>.sessions: one JSON object a line. A snapshot line per
 * subscriber ({"op": "sub", "id", "imsi", "msisdn", "imeisv", "decision":
 * {"level", "until_ms" (Unix ms, 0 = until released), "why"} | absent,
 * "sessions": [{"nas", "session", "ipv4", "ipv6_prefix", "apn",
 * "location", "since_ms"}]}), then a line per change: "start" (the same
 * fields, one session, no decision), "stop" {"nas", "session"}, "decide"
 * {"id", "decision" | absent}. Each change is written before the
 * response leaves (a kill -9 loses nothing; the file is fsync'd within
 * 20 ms), and the file is rewritten as a snapshot when it has grown to
 * four times what it describes. The address reactions and prefix
 * decisions themselves are in the decisions' state file. */
#define JOURNAL_SYNC_NS (20ULL * 1000000ULL)

static void jstr(json_object *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static json_object *sub_ident(const struct sub *u, const char *op)
{
	json_object *o = json_object_new_object();

	jstr(o, "op", op);
	jstr(o, "id", u->id);
	jstr(o, "imsi", u->imsi);
	jstr(o, "msisdn", u->msisdn);
	jstr(o, "imeisv", u->imeisv);
	return o;
}

static void add_offences(const struct subscribers *s, json_object *o,
			 const struct sub *u)
{
	uint64_t t[OFFENCES_MAX];
	size_t n = offences(s, u, t, OFFENCES_MAX);
	json_object *arr;

	if (!n)
		return;
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_int64((int64_t)
			mono_to_real_ms(t[i])));
	json_object_object_add(o, "offences_ms", arr);
}

static void add_decision(const struct subscribers *s, json_object *o,
			 const struct sub *u)
{
	json_object *d;

	add_offences(s, o, u);
	if (!live(s, u))
		return;
	d = json_object_new_object();
	jstr(d, "level", u->level);
	json_object_object_add(
		d, "until_ms",
		json_object_new_int64(
			u->until ? (int64_t)mono_to_real_ms(u->until) : 0));
	json_object_object_add(d, "why", json_object_new_string(u->why));
	if (u->decided_ms)
		json_object_object_add(d, "at_ms", json_object_new_int64(
						   (int64_t)u->decided_ms));
	if (u->roc)
		json_object_object_add(d, "release_on_clean",
				       json_object_new_boolean(true));
	json_object_object_add(o, "decision", d);
}

static json_object *sess_obj(const struct session *x)
{
	json_object *e = json_object_new_object();
	char buf[ADDR_STRLEN + 4];

	jstr(e, "nas", x->nas);
	jstr(e, "session", x->session);
	if (x->has_ipv4) {
		addr_format(&x->ipv4, buf, sizeof(buf));
		jstr(e, "ipv4", buf);
	}
	if (x->has_ipv6) {
		addr_prefix_format(&x->ipv6, x->ipv6_plen, buf, sizeof(buf));
		jstr(e, "ipv6_prefix", buf);
	}
	jstr(e, "apn", x->apn);
	jstr(e, "location", x->location);
	json_object_object_add(e, "since_ms",
			       json_object_new_int64((int64_t)x->since_ms));
	return e;
}

static int write_line(int fd, json_object *o)
{
	const char *t = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(t);
	char *line = malloc(n + 1);
	ssize_t w;

	if (!line)
		return -ENOMEM;
	memcpy(line, t, n);
	line[n] = '\n';
	w = write(fd, line, n + 1);
	free(line);
	return w == (ssize_t)(n + 1) ? 0 : (w < 0 ? -errno : -EIO);
}

static int compact(struct subscribers *s);

/* Writes what is buffered (the lines of the changes so far). */
void subscribers_flush(struct subscribers *s)
{
	size_t off = 0;

	if (s->batching) {
		decide_batch(s->dec, false);
		s->batching = false;
	}

	while (s->jfd >= 0 && off < s->jlen) {
		ssize_t w = write(s->jfd, s->jbuf + off, s->jlen - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->rep.errors++;
			log_error("%s: %s (sessions change in memory only "
				  "until the next rewrite)",
				  s->jpath,
				  w < 0 ? strerror(errno) : "short write");
			break;
		}
		off += (size_t)w;
	}
	s->jlen = 0;
	if (off && !s->jsync_armed &&
	    !loop_timer_in(&s->jtimer, JOURNAL_SYNC_NS, 0))
		s->jsync_armed = true;
}

/* A change's line, buffered until subscribers_flush() (the callers flush
 * before they answer, so nothing is answered that is not written). */
/* Appends one line (n bytes, without its newline) to the buffer. */
static void journal_line(struct subscribers *s, const char *t, size_t n)
{
	if (s->jlen + n + 1 > s->jcap) {
		size_t nc = s->jcap ? s->jcap * 2 : 65536;
		char *nb;

		while (nc < s->jlen + n + 1)
			nc *= 2;
		nb = realloc(s->jbuf, nc);
		if (!nb) {
			s->rep.errors++;
			log_error("%s: out of memory for a journal line",
				  s->jpath);
			return;
		}
		s->jbuf = nb;
		s->jcap = nc;
	}
	memcpy(s->jbuf + s->jlen, t, n);
	s->jbuf[s->jlen + n] = '\n';
	s->jlen += n + 1;
	s->jrecords++;
	if (s->jlen >= 256 * 1024)
		subscribers_flush(s);
	if (s->jrecords > 4 * (s->rep.sessions + s->rep.subscribers) + 10000)
		compact(s);
}

static void journal(struct subscribers *s, json_object *o)
{
	const char *t;

	if (s->jfd >= 0) {
		t = json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE);
		journal_line(s, t, strlen(t));
	}
	json_object_put(o);
}

/* The hot lines (a Start, a Stop) are formatted here, without building
 * JSON objects: "k":"v" for a non-empty v (after a comma unless first),
 * escaped as JSON wants. false when the line is full (the caller then
 * builds it with json-c). */
struct lbuf {
	char b[1536];
	size_t n;
};

static bool lb_raw(struct lbuf *l, const char *t)
{
	size_t k = strlen(t);

	if (l->n + k >= sizeof(l->b))
		return false;
	memcpy(l->b + l->n, t, k);
	l->n += k;
	return true;
}

static bool lb_str(struct lbuf *l, const char *k, const char *v, bool first)
{
	static const char hex[] = "0123456789abcdef";

	if (!v || !*v)
		return true;
	if ((!first && !lb_raw(l, ",")) || !lb_raw(l, "\"") || !lb_raw(l, k) ||
	    !lb_raw(l, "\":\""))
		return false;
	for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
		if (l->n + 7 >= sizeof(l->b))
			return false;
		if (*c == '"' || *c == '\\') {
			l->b[l->n++] = '\\';
			l->b[l->n++] = (char)*c;
		} else if (*c < 0x20) {
			memcpy(l->b + l->n, "\\u00", 4);
			l->b[l->n + 4] = hex[*c >> 4];
			l->b[l->n + 5] = hex[*c & 15];
			l->n += 6;
		} else {
			l->b[l->n++] = (char)*c;
		}
	}
	return lb_raw(l, "\"");
}

static void on_jtimer(struct watch *w, uint32_t events)
{
	struct subscribers *s = container_of(w, struct subscribers, jtimer);

	(void)events;
	loop_timer_ack(w);
	s->jsync_armed = false;
	if (s->jfd >= 0 && fdatasync(s->jfd))
		log_error("%s: fdatasync: %s", s->jpath, strerror(errno));
}

static void journal_start(struct subscribers *s, const struct session *x)
{
	const struct sub *u = x->sub;
	char a4[ADDR_STRLEN], a6[ADDR_STRLEN + 4], ms[32];
	struct lbuf l = { .n = 0 };
	json_object *o, *arr;

	if (s->jfd < 0)
		return;
	a4[0] = a6[0] = '\0';
	if (x->has_ipv4)
		addr_format(&x->ipv4, a4, sizeof(a4));
	if (x->has_ipv6)
		addr_prefix_format(&x->ipv6, x->ipv6_plen, a6, sizeof(a6));
	snprintf(ms, sizeof(ms), "%llu}]}", (unsigned long long)x->since_ms);
	if (lb_raw(&l, "{") && lb_str(&l, "op", "start", true) &&
	    lb_str(&l, "id", u->id, false) &&
	    lb_str(&l, "imsi", u->imsi, false) &&
	    lb_str(&l, "msisdn", u->msisdn, false) &&
	    lb_str(&l, "imeisv", u->imeisv, false) &&
	    lb_raw(&l, ",\"sessions\":[{\"since_ms\":") && lb_raw(&l, ms) &&
	    (l.n -= 3, true) && /* the fields after since_ms, then "}]}" */
	    lb_str(&l, "nas", x->nas, false) &&
	    lb_str(&l, "session", x->session, false) &&
	    lb_str(&l, "ipv4", a4, false) &&
	    lb_str(&l, "ipv6_prefix", a6, false) &&
	    lb_str(&l, "apn", x->apn, false) &&
	    lb_str(&l, "location", x->location, false) && lb_raw(&l, "}]}")) {
		journal_line(s, l.b, l.n);
		return;
	}
	o = sub_ident(u, "start");
	arr = json_object_new_array();
	json_object_array_add(arr, sess_obj(x));
	json_object_object_add(o, "sessions", arr);
	journal(s, o);
}

static void journal_stop(struct subscribers *s, const struct session *x)
{
	struct lbuf l = { .n = 0 };
	json_object *o;

	if (s->jfd < 0)
		return;
	if (lb_raw(&l, "{") && lb_str(&l, "op", "stop", true) &&
	    lb_str(&l, "nas", x->nas, false) &&
	    lb_str(&l, "session", x->session, false) && lb_raw(&l, "}")) {
		journal_line(s, l.b, l.n);
		return;
	}
	o = json_object_new_object();
	jstr(o, "op", "stop");
	jstr(o, "nas", x->nas);
	jstr(o, "session", x->session);
	journal(s, o);
}

static void journal_decide(struct subscribers *s, const struct sub *u)
{
	json_object *o = sub_ident(u, "decide");

	add_decision(s, o, u);
	journal(s, o);
	share_decision(s, u);
}

/* The snapshot: a temporary file, fsync'd, renamed over the journal. */
static int compact(struct subscribers *s)
{
	char tmp[sizeof(s->jpath) + 8];
	int fd, r = 0;
	size_t n = 0;

	if (!s->jpath[0])
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->jpath);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; !r && i < SUBS_BUCKETS; i++)
		for (struct sub **pp = &s->subs[i], *u; !r && (u = *pp);) {
			json_object *o, *arr;

			if (!u->nsessions && !live(s, u) &&
			    !offences(s, u, NULL, 0)) {
				/* nothing of it is left to remember */
				*pp = u->next;
				free(u);
				s->rep.subscribers--;
				continue;
			}
			pp = &u->next;
			o = sub_ident(u, "sub");
			add_decision(s, o, u);
			arr = json_object_new_array();
			for (struct session *x = u->sessions; x;
			     x = x->sub_next)
				json_object_array_add(arr, sess_obj(x));
			json_object_object_add(o, "sessions", arr);
			r = write_line(fd, o);
			json_object_put(o);
			n++;
		}
	if (!r && fsync(fd))
		r = -errno;
	close(fd);
	if (!r && rename(tmp, s->jpath))
		r = -errno;
	if (r) {
		unlink(tmp);
		log_error("%s: rewriting: %s", s->jpath, strerror(-r));
		return r;
	}
	s->jlen = 0; /* the snapshot holds what they said */
	if (s->jfd >= 0)
		close(s->jfd);
	s->jfd = open(s->jpath, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (s->jfd < 0) {
		r = -errno;
		log_error("%s: %s", s->jpath, strerror(-r));
		return r;
	}
	s->jrecords = n;
	return 0;
}

static const char *gstr(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* Unlinks and frees a session, nothing else (replay, the end). */
static void sess_drop(struct subscribers *s, struct session *x)
{
	struct sub *u = x->sub;

	index_del(s, x);
	for (struct session **pp = &u->sessions; *pp; pp = &(*pp)->sub_next)
		if (*pp == x) {
			*pp = x->sub_next;
			break;
		}
	for (struct session **pp = &s->sess[hstr(x->key)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	u->nsessions--;
	s->rep.sessions--;
	free(x);
}

static int replay_decision(struct subscribers *s, struct sub *u,
			   json_object *o)
{
	json_object *d, *un;
	int64_t until = 0;
	int l;

	u->decided = false;
	if (!json_object_object_get_ex(o, "decision", &d) || !d)
		return 0;
	if (json_object_object_get_ex(d, "until_ms", &un))
		until = json_object_get_int64(un);
	l = policy_level_carry(s->p, gstr(d, "level"));
	if (l < 0) {
		log_warn("%s: subscriber %s: level \"%s\" is not in the "
			 "policy: its decision is dropped",
			 s->jpath, u->id, gstr(d, "level"));
		return 0;
	}
	if (until && (uint64_t)until <= now_real_ms())
		return 0;
	u->decided = true;
	snprintf(u->level, sizeof(u->level), "%s", s->p->levels[l].name);
	u->until = until ? real_ms_to_mono((uint64_t)until) : 0;
	snprintf(u->why, sizeof(u->why), "%s", gstr(d, "why"));
	if (json_object_object_get_ex(d, "at_ms", &un))
		u->decided_ms = (uint64_t)json_object_get_int64(un);
	u->roc = json_object_object_get_ex(d, "release_on_clean", &un) &&
		 json_object_get_boolean(un);
	return 0;
}

/* One journal line. */
static int replay(struct subscribers *s, json_object *o)
{
	const char *op = gstr(o, "op"), *id = gstr(o, "id");
	json_object *ss;
	struct sub *u;
	char key[140];

	if (!strcmp(op, "stop")) {
		struct session *x;

		sess_key(gstr(o, "nas"), gstr(o, "session"), key, sizeof(key));
		if ((x = sess_find(s, key)))
			sess_drop(s, x);
		return 0;
	}
	if (!*id || strlen(id) >= sizeof(u->id))
		return -EINVAL;
	u = sub_get(s, id);
	if (!u)
		return -ENOMEM;
	if (*gstr(o, "imsi"))
		snprintf(u->imsi, sizeof(u->imsi), "%s", gstr(o, "imsi"));
	if (*gstr(o, "msisdn"))
		snprintf(u->msisdn, sizeof(u->msisdn), "%s", gstr(o, "msisdn"));
	if (*gstr(o, "imeisv"))
		snprintf(u->imeisv, sizeof(u->imeisv), "%s", gstr(o, "imeisv"));
	if (!strcmp(op, "decide") || !strcmp(op, "sub")) {
		json_object *of;
		uint64_t t[OFFENCES_MAX];
		size_t n = 0;
		struct xcrs_addr k;

		replay_decision(s, u, o);
		if (json_object_object_get_ex(o, "offences_ms", &of) &&
		    json_object_is_type(of, json_type_array))
			for (size_t i = 0; i < json_object_array_length(of) &&
					   n < OFFENCES_MAX;
			     i++) {
				int64_t ms = json_object_get_int64(
					json_object_array_get_idx(of, i));

				if (ms > 0 && (uint64_t)ms <= now_real_ms())
					t[n++] = real_ms_to_mono((uint64_t)ms);
			}
		who_key(u->id, &k);
		decide_set_offences(s->dec, &k, t, n);
	}
	if (!strcmp(op, "decide"))
		return 0;
	if (strcmp(op, "sub") && strcmp(op, "start"))
		return -EINVAL;
	if (!json_object_object_get_ex(o, "sessions", &ss) ||
	    !json_object_is_type(ss, json_type_array))
		return -EINVAL;
	for (size_t k = 0; k < json_object_array_length(ss); k++) {
		json_object *e = json_object_array_get_idx(ss, k), *v;
		struct session *x = calloc(1, sizeof(*x)), *old;
		const char *v4 = gstr(e, "ipv4"), *v6 = gstr(e, "ipv6_prefix");
		uint32_t h;

		if (!x)
			return -ENOMEM;
		snprintf(x->nas, sizeof(x->nas), "%s", gstr(e, "nas"));
		snprintf(x->session, sizeof(x->session), "%s",
			 gstr(e, "session"));
		snprintf(x->apn, sizeof(x->apn), "%s", gstr(e, "apn"));
		snprintf(x->location, sizeof(x->location), "%s",
			 gstr(e, "location"));
		if (json_object_object_get_ex(e, "since_ms", &v))
			x->since_ms = (uint64_t)json_object_get_int64(v);
		x->has_ipv4 = *v4 && !addr_parse(v4, &x->ipv4) &&
			      addr_is_v4(&x->ipv4);
		x->has_ipv6 = *v6 &&
			      !addr_prefix_parse(v6, &x->ipv6, &x->ipv6_plen) &&
			      !addr_is_v4(&x->ipv6);
		if (!x->session[0] || (!x->has_ipv4 && !x->has_ipv6) ||
		    (*v4 && !x->has_ipv4) || (*v6 && !x->has_ipv6)) {
			free(x);
			return -EINVAL;
		}
		sess_key(x->nas, x->session, x->key, sizeof(x->key));
		if ((old = sess_find(s, x->key)))
			sess_drop(s, old);
		/* its prefix decision is restored with the decisions */
		x->v6_decided = x->has_ipv6 && u->decided;
		x->sub = u;
		h = hstr(x->key);
		x->next = s->sess[h];
		s->sess[h] = x;
		index_add(s, x);
		x->sub_next = u->sessions;
		u->sessions = x;
		u->nsessions++;
		s->rep.sessions++;
	}
	return 0;
}

/* Reads the journal (a last line without its newline — a write cut by a
 * crash — is dropped with a warning; any other bad line stops the start:
 * going on would forget sessions), then rewrites it as a snapshot. */
static int journal_open(struct subscribers *s, char *err, size_t errlen)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int r = 0;

	if (!s->p->agent.state_file[0])
		return 0;
	snprintf(s->jpath, sizeof(s->jpath), "%s.sessions",
		 s->p->agent.state_file);
	f = fopen(s->jpath, "r");
	if (!f && errno != ENOENT) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", s->jpath, strerror(-r));
		return r;
	}
	while (f && (n = getline(&line, &cap, f)) > 0) {
		json_object *o;

		lineno++;
		if (line[n - 1] != '\n') {
			log_warn("%s:%zu: a line cut short (a crash while "
				 "writing): dropped",
				 s->jpath, lineno);
			break;
		}
		o = json_tokener_parse(line);
		r = o && json_object_is_type(o, json_type_object) ?
			    replay(s, o) :
			    -EINVAL;
		json_object_put(o);
		if (r) {
			snprintf(err, errlen,
				 "%s:%zu: not a sessions journal line (%s); "
				 "move the file away to start without the "
				 "sessions",
				 s->jpath, lineno, strerror(-r));
			break;
		}
	}
	free(line);
	if (f)
		fclose(f);
	if (r)
		return r;
	if (lineno)
		log_info("%s: %zu subscriber(s), %zu session(s) restored",
			 s->jpath, s->rep.subscribers, s->rep.sessions);
	/* the subscribers' decisions on their addresses again: the
	 * decisions' own state file may be older than this journal (a
	 * kill -9 within its save interval) */
	for (size_t i = 0; i < SUBS_BUCKETS; i++)
		for (struct sub *u = s->subs[i]; u; u = u->next)
			for (struct session *x = live(s, u) ? u->sessions : NULL;
			     x; x = x->sub_next)
				follow(s, x, NULL);
	/* and every session's entry (its scope, its level), which the
	 * dataplane may have lost or the policy changed */
	rewrite_all(s);
	r = compact(s);
	if (r)
		snprintf(err, errlen, "%s: %s", s->jpath, strerror(-r));
	return r;
}

/* ---- views ---------------------------------------------------------------- */

static json_object *session_json(const struct subscribers *s,
				 const struct session *x)
{
	json_object *o = json_object_new_object();
	char buf[ADDR_STRLEN + 4], ts[40];

	{
		{

			json_object_object_add(o, "subscriber",
					       json_object_new_string(x->sub->id));
			if (x->sub->msisdn[0])
				json_object_object_add(
					o, "msisdn",
					json_object_new_string(x->sub->msisdn));
			json_object_object_add(o, "session",
					       json_object_new_string(x->session));
			json_object_object_add(o, "nas",
					       json_object_new_string(x->nas));
			if (x->has_ipv4) {
				addr_format(&x->ipv4, buf, sizeof(buf));
				json_object_object_add(
					o, "ipv4", json_object_new_string(buf));
			}
			if (x->has_ipv6) {
				addr_prefix_format(&x->ipv6, x->ipv6_plen, buf,
						   sizeof(buf));
				json_object_object_add(
					o, "ipv6_prefix",
					json_object_new_string(buf));
			}
			json_object_object_add(o, "apn",
					       json_object_new_string(x->apn));
			json_object_object_add(o, "location",
					       json_object_new_string(x->location));
			{
				int sc = x->scope;

				if (sc < 0)
					sc = policy_scope_of(
						s->p, x->has_ipv4 ? &x->ipv4 :
								    &x->ipv6);
				if (sc >= 0)
					json_object_object_add(
						o, "scope",
						json_object_new_string(
							s->p->scopes[sc].name));
			}
			fmt_time_ms(x->since_ms, ts, sizeof(ts));
			json_object_object_add(o, "since",
					       json_object_new_string(ts));
			if (live(s, x->sub))
				json_object_object_add(
					o, "level",
					json_object_new_string(x->sub->level));
		}
	}
	return o;
}

json_object *subscribers_sessions_json(const struct subscribers *s,
				       const char *apn, const char *location)
{
	json_object *arr = json_object_new_array();
	size_t ll = location ? strlen(location) : 0;

	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct session *x = s->sess[i]; x; x = x->next) {
			if (apn && *apn && strcmp(x->apn, apn))
				continue;
			/* a location matches any of its parts: "tai:…" is
			 * also in "tai:…/ecgi:…" */
			if (ll && strncmp(x->location, location, ll) &&
			    !(strchr(x->location, '/') &&
			      !strncmp(strchr(x->location, '/') + 1, location,
				       ll)))
				continue;
			json_object_array_add(arr, session_json(s, x));
		}
	return arr;
}

json_object *subscribers_show_json(const struct subscribers *s,
				   const char *id)
{
	const struct sub *u = sub_find(s, id);
	json_object *o, *arr;
	char ts[40];

	if (!u) {
		json_object *fl = s->fleet ? fleet_show_json(s->fleet, id) :
					     NULL;

		if (!fl)
			return NULL;
		o = json_object_new_object();
		json_object_object_add(o, "subscriber",
				       json_object_new_string(id));
		json_object_object_add(o, "decision", NULL);
		json_object_object_add(o, "sessions", json_object_new_array());
		json_object_object_add(o, "fleet", fl);
		return o;
	}
	o = json_object_new_object();
	json_object_object_add(o, "subscriber", json_object_new_string(u->id));
	if (u->imsi[0])
		json_object_object_add(o, "imsi",
				       json_object_new_string(u->imsi));
	if (u->msisdn[0])
		json_object_object_add(o, "msisdn",
				       json_object_new_string(u->msisdn));
	if (u->imeisv[0])
		json_object_object_add(o, "imeisv",
				       json_object_new_string(u->imeisv));
	if (live(s, u)) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "level",
				       json_object_new_string(u->level));
		if (u->until) {
			fmt_time_ms(mono_to_real_ms(u->until), ts, sizeof(ts));
			json_object_object_add(d, "until",
					       json_object_new_string(ts));
		} else {
			json_object_object_add(d, "until", NULL);
		}
		json_object_object_add(d, "reason",
				       json_object_new_string(u->why));
		json_object_object_add(o, "decision", d);
	} else {
		json_object_object_add(o, "decision", NULL);
	}
	arr = json_object_new_array();
	for (const struct session *x = u->sessions; x; x = x->sub_next)
		json_object_array_add(arr, session_json(s, x));
	json_object_object_add(o, "sessions", arr);
	{
		uint64_t t[OFFENCES_MAX];
		size_t n = offences(s, u, t, OFFENCES_MAX);

		arr = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			fmt_time_ms(mono_to_real_ms(t[i]), ts, sizeof(ts));
			json_object_array_add(arr, json_object_new_string(ts));
		}
		json_object_object_add(o, "offences", arr);
	}
	if (s->fleet) {
		json_object *fl = fleet_show_json(s->fleet, id);

		json_object_object_add(o, "fleet",
				       fl ? fl : json_object_new_object());
	}
	return o;
}

static struct sub *sub_get(struct subscribers *s, const char *id)
{
	struct sub *u = sub_find(s, id);
	uint32_t h;

	if (u)
		return u;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	snprintf(u->id, sizeof(u->id), "%s", id);
	if (!strncmp(id, "imsi:", 5))
		snprintf(u->imsi, sizeof(u->imsi), "%s", id + 5);
	else if (!strncmp(id, "msisdn:", 7))
		snprintf(u->msisdn, sizeof(u->msisdn), "%s", id + 7);
	h = hsub(id);
	u->next = s->subs[h];
	s->subs[h] = u;
	s->rep.subscribers++;
	return u;
}

int subscribers_react(struct subscribers *s, const char *id,
		      const char *level, uint64_t until, const char *why,
		      uint64_t t0, char *err, size_t errlen)
{
	struct sub *u;

	if (policy_level_index(s->p, level) < 0) {
		snprintf(err, errlen, "no level \"%s\" in the policy", level);
		return -ENOENT;
	}
	u = sub_get(s, id);
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->decided = true;
	snprintf(u->level, sizeof(u->level), "%s", level);
	u->until = until;
	u->decided_ms = now_real_ms();
	u->roc = false;
	snprintf(u->why, sizeof(u->why), "%s", why && *why ? why : "operator");
	s->t0 = t0;
	journal_decide(s, u);
	log_info("subscriber %s -> %s (operator)%s", u->id, level,
		 u->nsessions ? "" : "; not attached: it applies when it is");
	for (struct session *x = u->sessions; x; x = x->sub_next)
		follow(s, x, NULL);
	subscribers_flush(s);
	return 0;
}

int subscribers_release(struct subscribers *s, const char *id, char *err,
			size_t errlen)
{
	struct sub *u = sub_find(s, id);
	bool fleet_too = u && fl_top(s, u);

	if (!u || (!live(s, u) && !fleet_too)) {
		snprintf(err, errlen, "subscriber %s has no decision", id);
		return -ENOENT;
	}
	u->decided = false;
	/* the operator releases it on every node of the fleet */
	if (s->fleet)
		fleet_release(s->fleet, u->id);
	free(u->fl);
	u->fl = NULL;
	u->nfl = 0;
	journal_decide(s, u);
	log_info("subscriber %s released (operator)%s", u->id,
		 s->fleet ? " on every node" : "");
	for (struct session *x = u->sessions; x; x = x->sub_next)
		unfollow(s, x, NULL, "operator");
	subscribers_flush(s);
	sub_maybe_free(s, u);
	return 0;
}

void subscribers_set_fleet(struct subscribers *s, struct fleet *f)
{
	s->fleet = f;
}

void subscribers_fleet_decision(struct subscribers *s, const char *id,
				const char *node,
				const struct fleet_decision *d)
{
	struct sub *u = sub_find(s, id);
	struct sub_fl *e = NULL;
	uint64_t until;

	if (!u && !d)
		return;
	if (d && policy_level_index(s->p, d->level) < 0) {
		log_warn("fleet: node %s holds subscriber %s at level \"%s\", "
			 "which this node's policy does not have: not "
			 "enforced here",
			 node, id, d->level);
		d = NULL;
	}
	until = d && d->until_ms ? real_ms_to_mono(d->until_ms) : 0;
	if (d && d->until_ms && d->until_ms <= now_real_ms())
		d = NULL; /* over already: its owner deletes it */
	if (!u) {
		if (!d)
			return;
		u = sub_get(s, id);
		if (!u)
			return;
	}
	for (size_t i = 0; i < u->nfl; i++)
		if (!strcmp(u->fl[i].node, node))
			e = &u->fl[i];
	if (!d) {
		if (!e)
			return;
		*e = u->fl[--u->nfl];
		log_info("subscriber %s: node %s's decision ended", id, node);
	} else {
		if (!e) {
			struct sub_fl *n = realloc(u->fl,
						   (u->nfl + 1) * sizeof(*n));

			if (!n)
				return;
			u->fl = n;
			e = &u->fl[u->nfl++];
		}
		memset(e, 0, sizeof(*e));
		snprintf(e->node, sizeof(e->node), "%s", node);
		snprintf(e->level, sizeof(e->level), "%s", d->level);
		e->until = until;
		e->roc = d->release_on_clean;
		snprintf(e->why, sizeof(e->why), "%s", d->why);
		log_msg(u->nsessions ? LOG_LVL_INFO : LOG_LVL_DEBUG,
			"subscriber %s: node %s: %s%s", id, node, d->level,
			u->nsessions ? "" : " (not attached here)");
	}
	refollow(s, u);
	subscribers_flush(s);
	sub_maybe_free(s, u);
}

void subscribers_fleet_own_released(struct subscribers *s, const char *id)
{
	struct sub *u = sub_find(s, id);

	if (!u || !live(s, u))
		return;
	u->decided = false;
	journal_decide(s, u); /* the bucket has it deleted: nothing to write */
	log_info("subscriber %s: released on another node of the fleet", id);
	for (struct session *x = u->sessions; x; x = x->sub_next) {
		unfollow(s, x, NULL, "fleet");
		follow(s, x, NULL);
	}
	subscribers_flush(s);
	sub_maybe_free(s, u);
}

/* After a (re)load of the buckets: what the bucket holds of our own keys
 * against what this node holds. */
static void own_key(void *ctx, const char *id, bool deleted, uint64_t at_ms)
{
	struct subscribers *s = ctx;
	struct sub *u = sub_find(s, id);

	if (deleted) {
		/* released elsewhere while we were away, after we decided */
		if (u && live(s, u) && u->decided_ms <= at_ms)
			subscribers_fleet_own_released(s, id);
		return;
	}
	/* ours in the bucket, over here (released or expired while the
	 * write could not go out): its end is written now */
	if (!u || !live(s, u))
		fleet_put_decision(s->fleet, id, NULL);
}

static void own_sessions_key(void *ctx, const char *id)
{
	struct subscribers *s = ctx;
	struct sub *u = sub_find(s, id);

	if (!u || !u->nsessions)
		fleet_put_sessions(s->fleet, id, NULL);
}

void subscribers_fleet_synced(struct subscribers *s, bool first)
{
	size_t nd = 0, ns = 0;

	if (!s->fleet)
		return;
	fleet_each_own(s->fleet, own_key, s);
	fleet_each_own_sessions(s->fleet, own_sessions_key, s);
	for (size_t i = 0; i < SUBS_BUCKETS; i++)
		for (struct sub *u = s->subs[i]; u; u = u->next) {
			if (live(s, u)) {
				share_decision(s, u);
				nd++;
			}
			if (u->nsessions) {
				share_sessions(s, u, NULL);
				ns++;
			}
		}
	log_info("fleet: %s: %zu decision(s) and the sessions of %zu "
		 "subscriber(s) of this node written",
		 first ? "loaded" : "resynchronised", nd, ns);
	subscribers_flush(s);
}

void subscribers_housekeeping(struct subscribers *s)
{
	uint64_t now = loop_now(s->loop);

	for (size_t i = 0; i < SUBS_BUCKETS; i++)
		for (struct sub *u = s->subs[i], *n; u; u = n) {
			n = u->next;
			/* an end no reaction tells of (not attached here):
			 * written, so the bucket does not keep it */
			if (u->decided && u->until && u->until <= now) {
				u->decided = false;
				journal_decide(s, u);
			}
			for (size_t k = 0; k < u->nfl;)
				if (!fl_live(s, &u->fl[k]))
					u->fl[k] = u->fl[--u->nfl];
				else
					k++;
			sub_maybe_free(s, u);
		}
	subscribers_flush(s);
}

int subscribers_forget(struct subscribers *s, const char *id, const char *by,
		       char *err, size_t errlen)
{
	struct sub *u = sub_find(s, id);
	struct xcrs_addr k;
	int r;

	if (!u) {
		snprintf(err, errlen, "no subscriber %s (no session, no "
				      "decision)", id);
		return -ENOENT;
	}
	who_key(u->id, &k);
	r = decide_forget(s->dec, &k, u->id, by);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", id, strerror(-r));
		return r;
	}
	journal_decide(s, u); /* a record without offences: they stay gone */
	subscribers_flush(s);
	return r;
}

size_t subscribers_by_apn(const struct subscribers *s, struct sess_apn *out,
			  size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct session *x = s->sess[i]; x; x = x->next) {
			size_t k;

			for (k = 0; k < n; k++)
				if (!strcmp(out[k].apn, x->apn))
					break;
			if (k == n) {
				if (n == max)
					continue;
				snprintf(out[n].apn, sizeof(out[n].apn), "%s",
					 x->apn);
				out[n++].n = 0;
			}
			out[k].n++;
		}
	return n;
}

const char *subscribers_holder(const struct subscribers *s,
			       const struct xcrs_addr *a)
{
	const struct session *x = by_addr(s, a);

	return x ? x->sub->id : NULL;
}
