// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy's agent and interfaces sections (policy/README.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bytes.h"
#include "policy-internal.h"

/* ---- agent ---- */

static int ag_metrics(struct pctx *c, node_t *v, void *o)
{
	struct policy_agent *a = o;
	int r = ystr_copy(c, v, "agent.metrics", a->metrics,
			  sizeof(a->metrics));

	struct sockaddr_storage ss;
	socklen_t sl;

	if (!r && !strcmp(a->metrics, "off"))
		a->metrics[0] = '\0';
	else if (!r && addr_listen_parse(a->metrics, &ss, &sl))
		return yerr(c, v, "agent.metrics: expected address:port (an "
			    "IPv4 address, [IPv6] or *, and a port 1-65535; "
			    "no host names) or off, found '%s'", a->metrics);
	return r;
}

static int mp_warn(struct pctx *c, node_t *v, void *o)
{
	unsigned long long x;
	const char *s = NULL;
	char buf[32];
	int r = ystr(c, v, "agent.maps.warn_at", &s);
	size_t n = s ? strlen(s) : 0;

	/* "80%" (a bare 80 is refused: it reads as 80 entries) */
	if (!r && n && n < sizeof(buf) && s[n - 1] == '%') {
		memcpy(buf, s, n - 1);
		buf[n - 1] = '\0';
		x = strtoull(buf, NULL, 10);
		if (!buf[0] || strspn(buf, "0123456789") != n - 1 || x < 1 ||
		    x > 100)
			return yerr(c, v, "agent.maps.warn_at: expected a "
				    "percentage 1%%..100%%, found '%s'", s);
		((struct policy_maps *)o)->warn_at = (unsigned)x;
		return 0;
	}
	if (!r)
		return yerr(c, v, "agent.maps.warn_at: expected a percentage "
			    "with its %% sign, e.g. 80%%, found '%s' (a bare "
			    "number reads as a count of entries)", s);
	return r;
}

/* when_full names a level: resolved once levels are read */
static int mp_full(struct pctx *c, node_t *v, void *o)
{
	c->aux = v;
	return 0;
}

/* Map sizes: at least 16 entries; at most what a kernel map sensibly
 * holds (the IPv4 subscriber map's memory is ~100 B an entry); scope ids
 * are 16 bits in the dataplane. 0: the
 * dataplane library's default (or the pinned map's size). Every key here
 * sizes pinned maps: a change needs a restart (and new maps). */
#define T struct policy_maps
const struct field policy_maps_fields[] = {
	Y_UINTK("subscribers", T, subscribers, 16, 100000000ULL, NULL, false,
		POLICY_RELOAD_RESTART),
	Y_UINTK("subscribers6", T, subscribers6, 16, 100000000ULL, NULL,
		false, POLICY_RELOAD_RESTART),
	Y_UINTK("hosts6", T, hosts6, 16, 100000000ULL, NULL, false,
		POLICY_RELOAD_RESTART),
	Y_UINTK("pools", T, pools, 16, 1000000ULL, NULL, false,
		POLICY_RELOAD_RESTART),
	Y_UINTK("service_prefixes", T, service_prefixes, 16, 1000000ULL, NULL,
		false, POLICY_RELOAD_RESTART),
	Y_UINTK("scopes", T, scopes, 16, 65536ULL, NULL, false,
		POLICY_RELOAD_RESTART),
	Y_UINTK("tracked", T, tracked, 16, 10000000ULL, NULL, false,
		POLICY_RELOAD_RESTART),
	Y_UINTK("prefixes", T, prefixes, 16, 1000000ULL, NULL, false,
		POLICY_RELOAD_RESTART),
	Y_FNM("warn_at", mp_warn, T, warn_at, false, POLICY_RELOAD_RESTART),
	Y_FNM("when_full", mp_full, T, when_full, false,
	      POLICY_RELOAD_RESTART),
};
#undef T
const size_t policy_maps_nfields = Y_N(policy_maps_fields);

static int ag_maps(struct pctx *c, node_t *n, void *o)
{
	return ywalk(c, n, "agent.maps", policy_maps_fields,
		     policy_maps_nfields, &((struct policy_agent *)o)->maps);
}

/* Paths and sockets the agent opens at start: a change needs a restart. */
#define T struct policy_agent
const struct field policy_agent_fields[] = {
	Y_STRD("pin_dir", T, pin_dir, "/sys/fs/bpf/xcrs",
	       POLICY_RELOAD_RESTART),
	Y_STRD("control_socket", T, control_socket, "/run/xcrs/agent.sock",
	       POLICY_RELOAD_RESTART),
	Y_STRD("state_file", T, state_file, "/var/lib/xcrs/state.json",
	       POLICY_RELOAD_RESTART),
	Y_STRD("audit_log", T, audit_log, "/var/log/xcrs/audit.jsonl",
	       POLICY_RELOAD_RESTART),
	Y_FNK("maps", ag_maps, false, POLICY_RELOAD_RESTART),
	{ .key = "metrics", .fn = ag_metrics, .type = Y_FN,
	  .def = "127.0.0.1:9477", .reload = POLICY_RELOAD_RESTART,
	  .off = offsetof(T, metrics), .size = sizeof(((T *)0)->metrics) },
	/* how long an operator's reaction lasts without --for (none: until
	 * released) */
	Y_DURK("operator_for", T, operator_for_ns, 1000000000ULL,
	       "at least 1s", NULL, false, POLICY_RELOAD_LIVE),
};
#undef T
const size_t policy_agent_nfields = Y_N(policy_agent_fields);

int sec_agent(struct pctx *c, node_t *n)
{
	return ywalk(c, n, "agent", policy_agent_fields, policy_agent_nfields,
		     &P(c)->agent);
}

/* ---- interfaces ---- */

static int if_name(struct pctx *c, node_t *v, void *o)
{
	struct policy_interface *i = o;

	return ystr_copy(c, v, "interface name", i->name, sizeof(i->name));
}

static int if_role(struct pctx *c, node_t *v, void *o)
{
	static const char *const n[] = { "access", "core", NULL };
	struct policy_interface *i = o;
	int r, x;

	r = ychoice(c, v, "interface role", n, &x);
	i->role = x;
	return r;
}

static int if_mode(struct pctx *c, node_t *v, void *o)
{
	static const char *const n[] = { "native", "generic",
					  "native-or-generic", NULL };
	struct policy_interface *i = o;
	int r, x;

	r = ychoice(c, v, "interface mode", n, &x);
	i->mode = x;
	return r;
}

static int if_attach(struct pctx *c, node_t *v, void *o)
{
	static const char *const n[] = { "auto", "link", "dispatcher", NULL };
	struct policy_interface *i = o;
	int r, x;

	r = ychoice(c, v, "interface attach", n, &x);
	i->attach = x; /* the order of enum policy_attach */
	return r;
}

static int if_gtpu(struct pctx *c, node_t *v, void *o)
{
	struct policy_interface *i = o;

	return ybool(c, v, "interface gtpu", &i->gtpu);
}

static int if_spread(struct pctx *c, node_t *v, void *o)
{
	static const char *const n[] = { "off", "teid", "inner", NULL };
	struct policy_interface *i = o;
	int r, x;

	r = ychoice(c, v, "interface spread", n, &x);
	i->spread = x; /* the order of enum xcrs_spread */
	return r;
}

static int if_spread_cpus(struct pctx *c, node_t *v, void *o)
{
	struct policy_interface *i = o;
	node_t **it;
	size_t n;
	int r = 0, how = yitems(c, v, &it, &n);

	if (how < 0)
		return how;
	if (n > XCRS_SPREAD_CPUS_MAX)
		r = yerr(c, v, "spread_cpus: at most %d CPUs",
			 XCRS_SPREAD_CPUS_MAX);
	for (size_t k = 0; !r && k < n; k++) {
		unsigned long long x;

		r = yuint(c, it[k], "spread_cpus", 0,
			       XCRS_SPREAD_CPUS_MAX - 1, &x);
		i->spread_cpus[i->nspread_cpus++] = (unsigned)x;
	}
	yitems_free(it);
	return r;
}

static int interface_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", if_name, true },
		{ "role", if_role, true },
		{ "mode", if_mode },
		{ "attach", if_attach },
		{ "gtpu", if_gtpu },
		{ "spread", if_spread },
		{ "spread_cpus", if_spread_cpus },
	};
	struct policy *p = P(c);
	struct policy_interface *x = GROW(p->interfaces, p->ninterfaces);
	int r;

	if (!x)
		return -ENOMEM;
	x->gtpu = true;
	r = ywalk(c, it, "interface", f, sizeof(f) / sizeof(f[0]), x);
	if (!r && x->spread && !x->gtpu)
		r = yerr(c, it, "interface %s: spread needs gtpu (it spreads "
				"G-PDUs)",
			 x->name);
	return r ? r : UNIQUE(c, it, "interface", p->interfaces,
			      p->ninterfaces);
}

int sec_interfaces(struct pctx *c, node_t *n)
{
	return yeach(c, n, "interfaces", interface_one, NULL);
}
