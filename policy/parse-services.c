// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy's services and levels, and the unknown_subscribers and non_ip
 * settings that name levels.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "addr.h"
#include "bytes.h"
#include "policy-internal.h"

/* ---- services ---- */

struct svc_build {
	struct policy_service *s;
	/* the rule being read: prefixes × ports */
	node_t *prefixes, *ports, *proto;
	node_t *node;
};

KEEP(sr_prefixes, struct svc_build, prefixes)

KEEP(sr_ports, struct svc_build, ports)

KEEP(sr_proto, struct svc_build, proto)

static int port_range(struct pctx *c, node_t *n, uint16_t *lo, uint16_t *hi)
{
	const char *s = NULL;
	unsigned long a, b;
	char *end;
	int r = ystr(c, n, "ports", &s);

	if (r)
		return r;
	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	a = strtoul(s, &end, 10);
	b = a;
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			goto bad;
		b = strtoul(end + 1, &end, 10);
	}
	if (errno || *end)
		goto bad;
	if (a > 65535 || b > 65535 || a > b)
		return yerr(c, n, "ports: '%s' is not a range within 0-65535",
			    s);
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
bad:
	return yerr(c, n, "ports: expected a port or a range such as "
			  "8000-8080, found '%s'",
		    s);
}

static int svc_rule(struct pctx *c, node_t *it, void *ctx)
{
	struct policy_service *s = ctx;
	static const struct field f[] = {
		{ "prefixes", sr_prefixes, true },
		{ "protocol", sr_proto },
		{ "ports", sr_ports },
	};
	static const char *const protos[] = { "any", "tcp", "udp", "icmp",
					      "icmpv6", NULL };
	static const uint8_t proto_num[] = { 0, IPPROTO_TCP, IPPROTO_UDP,
					     IPPROTO_ICMP, IPPROTO_ICMPV6 };
	struct svc_build b = { .s = s, .node = it };
	node_t **pv, **ov = NULL;
	size_t np, no = 0;
	int r, pi = 0;

	r = ywalk(c, it, "service rule", f, 3, &b);
	if (r)
		return r;
	if (b.proto) {
		r = ychoice(c, b.proto, "protocol", protos, &pi);
		if (r)
			return r;
	}
	if (b.ports && pi != 1 && pi != 2)
		return yerr(c, b.ports, "ports: only tcp and udp have ports "
					"(set protocol)");
	r = yitems(c, b.prefixes, &pv, &np);
	if (r)
		return r;
	if (!np)
		r = yerr(c, b.prefixes, "prefixes: the list is empty");
	if (!r && b.ports) {
		r = yitems(c, b.ports, &ov, &no);
		if (!r && !no)
			r = yerr(c, b.ports, "ports: the list is empty");
	}
	for (size_t i = 0; !r && i < np; i++) {
		struct policy_prefix pf;

		r = yprefix(c, pv[i], "prefixes", &pf);
		for (size_t j = 0; !r && j < (b.ports ? no : 1); j++) {
			struct policy_service_rule *x =
				GROW(s->rules, s->nrules);

			if (!x) {
				r = -ENOMEM;
				break;
			}
			x->prefix = pf;
			x->proto = proto_num[pi];
			x->port_lo = 0;
			x->port_hi = 65535;
			if (b.ports)
				r = port_range(c, ov[j], &x->port_lo,
					       &x->port_hi);
		}
	}
	yitems_free(pv);
	yitems_free(ov);
	return r;
}

static int sv_name(struct pctx *c, node_t *v, void *o)
{
	return yname(c, v, "service name", ((struct policy_service *)o)->name);
}

static int sv_remediation(struct pctx *c, node_t *v, void *o)
{
	return ybool(c, v, "remediation",
		       &((struct policy_service *)o)->remediation);
}

static int sv_rules(struct pctx *c, node_t *v, void *o)
{
	int r = yeach(c, v, "rules", svc_rule, o);

	if (!r && !((struct policy_service *)o)->nrules)
		r = yerr(c, v, "rules: a service needs at least one rule");
	return r;
}

static int service_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", sv_name, true },
		{ "rules", sv_rules, true },
		{ "remediation", sv_remediation },
	};
	struct policy *p = P(c);
	struct policy_service *s;
	int r;

	if (p->nservices == XCRS_SVC_MAX)
		return yerr(c, it, "services: at most %d services",
			    XCRS_SVC_MAX);
	s = GROW(p->services, p->nservices);
	if (!s)
		return -ENOMEM;
	s->cls = (unsigned)(p->nservices - 1);
	r = ywalk(c, it, "service", f, 3, s);
	return r ? r : UNIQUE(c, it, "service", p->services, p->nservices);
}

int sec_services(struct pctx *c, node_t *n)
{
	return yeach(c, n, "services", service_one, NULL);
}

int service_index(const struct policy *p, const char *s)
{
	for (size_t i = 0; i < p->nservices; i++)
		if (!strcmp(p->services[i].name, s))
			return (int)i;
	return -1;
}

/* A list of service names (or "all") → class bitmap. */
int service_set(struct pctx *c, node_t *n, const char *what,
		       bool allow_all, uint64_t *ret)
{
	node_t **v;
	size_t cnt;
	uint64_t m = 0;
	int how, r = 0;

	if (allow_all && n->type == YAML_SCALAR_NODE &&
	    !strcmp((const char *)n->data.scalar.value, "all")) {
		*ret = XCRS_SVC_ALL;
		return 0;
	}
	how = yitems(c, n, &v, &cnt);
	if (how < 0)
		return how;
	for (size_t i = 0; !r && i < cnt; i++) {
		const char *s = NULL;
		int idx;

		r = ystr(c, v[i], what, &s);
		if (r)
			break;
		idx = service_index(P(c), s);
		if (idx < 0)
			r = yerr(c, v[i], "%s: no service named '%s'%s", what,
				 s, allow_all ? " (or 'all')" : "");
		else
			m |= XCRS_SVC_BIT(P(c)->services[idx].cls);
	}
	yitems_free(v);
	if (!r)
		*ret = m;
	return r;
}

/* ---- levels ---- */

struct level_build {
	struct policy_level *l;
	node_t *allow, *rate, *burst, *fail_closed, *was;
};

static int lv_name(struct pctx *c, node_t *v, void *o)
{
	return yname(c, v, "level name", ((struct level_build *)o)->l->name);
}

KEEP(lv_allow, struct level_build, allow)
KEEP(lv_rate, struct level_build, rate)
KEEP(lv_burst, struct level_build, burst)
KEEP(lv_fc, struct level_build, fail_closed)
KEEP(lv_was, struct level_build, was)

/* levels[].was: the names the level had (a name or a list of them) */
static int level_was(struct pctx *c, struct level_build *b)
{
	node_t **v;
	size_t n;
	int r = yitems(c, b->was, &v, &n);

	if (r)
		return r;
	if (n > POLICY_LEVEL_WAS_MAX)
		r = yerr(c, b->was, "was: at most %d former names",
			 POLICY_LEVEL_WAS_MAX);
	for (size_t i = 0; !r && i < n; i++) {
		r = yname(c, v[i], "was", b->l->was[i]);
		if (!r && !strcmp(b->l->was[i], b->l->name))
			r = yerr(c, v[i], "was: '%s' is the level's own name",
				 b->l->name);
		b->l->nwas = i + 1;
	}
	yitems_free(v);
	return r;
}

static int level_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", lv_name, true },
		{ "allow", lv_allow, true },
		{ "rate", lv_rate },
		{ "burst", lv_burst },
		{ "fail_closed", lv_fc },
		{ "was", lv_was },
	};
	struct policy *p = P(c);
	int r;
	struct level_build b;

	if (p->nlevels == XCRS_LEVELS_MAX)
		return yerr(c, it, "levels: at most %d levels",
			    XCRS_LEVELS_MAX);
	memset(&b, 0, sizeof(b));
	b.l = GROW(p->levels, p->nlevels);
	if (!b.l)
		return -ENOMEM;
	r = ywalk(c, it, "level", f, sizeof(f) / sizeof(f[0]), &b);
	if (!r && b.was)
		r = level_was(c, &b);
	if (!r)
		r = service_set(c, b.allow, "allow", true,
				&b.l->allowed);
	if (!r && b.rate)
		r = yrate(c, b.rate, "rate", &b.l->rate_Bps);
	if (!r && b.rate && !b.burst)
		r = yerr(c, b.rate, "rate: a rate needs a burst "
				    "(e.g. burst: 64kB)");
	if (!r && b.burst && !b.rate)
		r = yerr(c, b.burst, "burst: only with a rate");
	if (!r && b.burst)
		r = ybytes(c, b.burst, "burst", &b.l->burst_B);
	/* Restricting levels fail closed unless told otherwise. */
	b.l->fail_closed = b.l->allowed != XCRS_SVC_ALL ||
			   b.l->rate_Bps;
	if (!r && b.fail_closed)
		r = ybool(c, b.fail_closed, "fail_closed",
			    &b.l->fail_closed);
	return r ? r : UNIQUE(c, it, "level", p->levels, p->nlevels);
}

int sec_levels(struct pctx *c, node_t *n)
{
	struct policy *p = P(c);
	int r;

	if (n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return yerr(c, n, "levels: at least one level is needed");
	r = yeach(c, n, "levels", level_one, NULL);
	/* a former name is no level's name now and one level's only */
	for (size_t i = 0; !r && i < p->nlevels; i++)
		for (size_t j = 0; !r && j < p->levels[i].nwas; j++) {
			const char *w = p->levels[i].was[j];
			node_t *at = yget(c, n->data.sequence.items.start[i]);

			if (policy_level_index(p, w) >= 0)
				r = yerr(c, at, "levels: '%s' is a level and "
					 "a former name of '%s'", w,
					 p->levels[i].name);
			for (size_t k = 0; !r && k < i; k++)
				for (size_t m = 0; m < p->levels[k].nwas; m++)
					if (!strcmp(p->levels[k].was[m], w))
						r = yerr(c, at, "levels: '%s' "
							 "is a former name of "
							 "'%s' and of '%s'", w,
							 p->levels[k].name,
							 p->levels[i].name);
		}
	return r;
}

int level_ref(struct pctx *c, node_t *n, const char *what,
		     unsigned *ret)
{
	const char *s = NULL;
	int r = ystr(c, n, what, &s), i;

	if (r)
		return r;
	i = policy_level_index(P(c), s);
	if (i < 0)
		return yerr(c, n, "%s: no level named '%s'", what, s);
	*ret = (unsigned)i;
	return 0;
}

int sec_unknown(struct pctx *c, node_t *n)
{
	const char *s = NULL;
	unsigned l;
	int r = ystr(c, n, "unknown_subscribers", &s);

	if (r)
		return r;
	if (!strcmp(s, "pass")) {
		P(c)->default_level = -1;
		return 0;
	}
	r = level_ref(c, n, "unknown_subscribers (pass or a level)", &l);
	if (!r)
		P(c)->default_level = (int)l;
	return r;
}

int sec_unassigned(struct pctx *c, node_t *n)
{
	unsigned l;
	int r = level_ref(c, n, "unassigned_source (a level)", &l);

	if (!r)
		P(c)->unassigned_level = (int)l;
	return r;
}

int sec_nonip(struct pctx *c, node_t *n)
{
	static const char *const v[] = { "pass", "drop", NULL };
	int x, r = ychoice(c, n, "non_ip", v, &x);

	P(c)->nonip_drop = x == 1;
	return r;
}
