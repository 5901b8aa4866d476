// SPDX-License-Identifier: GPL-2.0-only
/*
 * YAML → policy model. libyaml loads the document as a node tree (each node
 * knows its line and column); the walkers below check every key against a
 * table, convert scalars, resolve names in dependency order and report the
 * first error as "file:line:col: ..." through perr(), the one choke point.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <yaml.h>

#include "addr.h"
#include "authsrv_config.h"
#include "bytes.h"
#include "policy.h"

struct pctx {
	yaml_document_t doc;
	struct policy *p;
	struct authsrv_config *a;
	struct policy_error *err;
	yaml_node_t *when_full; /* agent.maps.when_full, resolved after levels */
};

typedef yaml_node_t node_t;

__attribute__((format(printf, 3, 4))) static int
perr(struct pctx *c, const node_t *n, const char *fmt, ...)
{
	struct policy_error *e = c->err;
	char what[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	e->line = n ? (unsigned)n->start_mark.line + 1 : 0;
	e->col = n ? (unsigned)n->start_mark.column + 1 : 0;
	if (n)
		snprintf(e->msg, sizeof(e->msg), "%.180s:%u:%u: %s", e->file,
			 e->line, e->col, what);
	else
		snprintf(e->msg, sizeof(e->msg), "%.180s: %s", e->file, what);
	return -EINVAL;
}

static node_t *get(struct pctx *c, int id)
{
	return yaml_document_get_node(&c->doc, id);
}

static const char *kind(const node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* ---- scalars ---- */

static int str(struct pctx *c, const node_t *n, const char *what,
	       const char **ret)
{
	if (n->type != YAML_SCALAR_NODE)
		return perr(c, n, "%s: expected a value, found %s", what,
			    kind(n));
	*ret = (const char *)n->data.scalar.value;
	return 0;
}

static int str_copy(struct pctx *c, const node_t *n, const char *what,
		    char *buf, size_t len)
{
	const char *s = NULL;
	int r = str(c, n, what, &s);

	if (r)
		return r;
	if (!*s)
		return perr(c, n, "%s: must not be empty", what);
	if (strlen(s) >= len)
		return perr(c, n, "%s: longer than %zu characters", what,
			    len - 1);
	snprintf(buf, len, "%s", s);
	return 0;
}

/* Names: letters, digits, '-', '_', '.'; starting with a letter. */
static int name(struct pctx *c, const node_t *n, const char *what, char *buf)
{
	const char *s = NULL;
	int r = str(c, n, what, &s);

	if (r)
		return r;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return perr(c, n, "%s: expected a name starting with a letter, "
				  "found '%s'",
			    what, s);
	for (const char *q = s; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '-' || *q == '_' ||
		      *q == '.'))
			return perr(c, n, "%s: '%c' is not allowed in a name "
					  "(letters, digits, '-', '_', '.')",
				    what, *q);
	if (strlen(s) >= POLICY_NAME_MAX)
		return perr(c, n, "%s: name longer than %d characters", what,
			    POLICY_NAME_MAX - 1);
	snprintf(buf, POLICY_NAME_MAX, "%s", s);
	return 0;
}

static int uint_range(struct pctx *c, const node_t *n, const char *what,
		      unsigned long long lo, unsigned long long hi,
		      unsigned long long *ret)
{
	const char *s = NULL;
	unsigned long long v;
	char *end;
	int r = str(c, n, what, &s);

	if (r)
		return r;
	if (*s < '0' || *s > '9')
		return perr(c, n, "%s: expected a whole number, found '%s'",
			    what, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return perr(c, n, "%s: expected a whole number, found '%s'",
			    what, s);
	if (v < lo || v > hi)
		return perr(c, n, "%s: %llu is out of range (%llu..%llu)", what,
			    v, lo, hi);
	*ret = v;
	return 0;
}

static int boolean(struct pctx *c, const node_t *n, const char *what,
		   bool *ret)
{
	const char *s = NULL;
	int r = str(c, n, what, &s);

	if (r)
		return r;
	if (!strcmp(s, "true") || !strcmp(s, "yes")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "no")) {
		*ret = false;
		return 0;
	}
	return perr(c, n, "%s: expected true or false, found '%s'", what, s);
}

/* One of names[] (NULL-terminated) → its index. */
static int choice(struct pctx *c, const node_t *n, const char *what,
		  const char *const *names, int *ret)
{
	const char *s = NULL;
	char list[256] = "";
	int r = str(c, n, what, &s);

	if (r)
		return r;
	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*ret = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? ", " : "", names[i]);
	}
	return perr(c, n, "%s: expected one of %s, found '%s'", what, list, s);
}

static int duration(struct pctx *c, const node_t *n, const char *what,
		    uint64_t *ret)
{
	const char *s = NULL;
	int r = str(c, n, what, &s);

	if (r)
		return r;
	if (duration_parse(s, ret))
		return perr(c, n, "%s: expected a duration such as 30s, 10m, "
				  "1h30m or 2d, found '%s'",
			    what, s);
	return 0;
}

/* A duration of at least min_ns (min_text says it to the operator). */
static int duration_min(struct pctx *c, const node_t *n, const char *what,
			uint64_t min_ns, const char *min_text, uint64_t *ret)
{
	int r = duration(c, n, what, ret);

	if (!r && *ret < min_ns)
		return perr(c, n, "%s: at least %s", what, min_text);
	return r;
}

/* "<n>[k|M|G]<unit>" with a decimal multiplier. */
static int with_unit(const char *s, const char *const *units,
		     const uint64_t *mult, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (int i = 0; units[i]; i++) {
		if (strcmp(end, units[i]))
			continue;
		if (v && mult[i] > UINT64_MAX / v)
			return -ERANGE;
		*ret = v * mult[i];
		return 0;
	}
	return -EINVAL;
}

/* Rates are bits per second, stored as bytes per second. */
static int rate(struct pctx *c, const node_t *n, const char *what,
		uint64_t *ret_Bps)
{
	static const char *const u[] = { "bit", "kbit", "Mbit", "Gbit", NULL };
	static const uint64_t m[] = { 1, 1000, 1000000, 1000000000 };
	const char *s = NULL;
	uint64_t bits;
	int r = str(c, n, what, &s);

	if (r)
		return r;
	if (with_unit(s, u, m, &bits) || bits < 8)
		return perr(c, n, "%s: expected a rate such as 64kbit, 10Mbit "
				  "or 1Gbit (at least 8bit), found '%s'",
			    what, s);
	*ret_Bps = bits / 8;
	return 0;
}

static int bytes(struct pctx *c, const node_t *n, const char *what,
		 uint64_t *ret)
{
	static const char *const u[] = { "B", "kB", "MB", "GB", NULL };
	static const uint64_t m[] = { 1, 1000, 1000000, 1000000000 };
	const char *s = NULL;
	int r = str(c, n, what, &s);

	if (r)
		return r;
	if (with_unit(s, u, m, ret) || !*ret)
		return perr(c, n, "%s: expected a size such as 1500B, 64kB or "
				  "1MB, found '%s'",
			    what, s);
	return 0;
}

static int prefix(struct pctx *c, const node_t *n, const char *what,
		  struct policy_prefix *ret)
{
	const char *s = NULL;
	int r = str(c, n, what, &s);

	if (r)
		return r;
	r = addr_prefix_parse(s, &ret->addr, &ret->plen);
	if (r == -EDOM)
		return perr(c, n, "%s: '%s' has host bits set past the prefix "
				  "length",
			    what, s);
	if (r)
		return perr(c, n, "%s: expected an IPv4 or IPv6 address or "
				  "prefix (192.0.2.0/24, 2001:db8::/32), found "
				  "'%s'",
			    what, s);
	return 0;
}

/* ---- structure ---- */

typedef int (*field_fn)(struct pctx *c, node_t *val, void *obj);

struct field {
	const char *key;
	field_fn fn;
	bool required;
};

/* A field handler that keeps the value's node, for values converted once
 * the whole mapping is known (they depend on each other). */
#define KEEP(fn, type, member)                                                 \
	static int fn(struct pctx *c, node_t *v, void *o)                      \
	{                                                                      \
		((type *)o)->member = v;                                       \
		return 0;                                                      \
	}

/* A field handler copying a non-empty string into a fixed buffer. */
#define STR_FIELD(fn, type, member, what)                                      \
	static int fn(struct pctx *c, node_t *v, void *o)                      \
	{                                                                      \
		type *x_ = o;                                                  \
		return str_copy(c, v, what, x_->member, sizeof(x_->member));   \
	}

/* Walks a mapping: every key must be in f[], at most once; required keys
 * must be present. */
static int walk(struct pctx *c, node_t *n, const char *what,
		const struct field *f, size_t nf, void *obj)
{
	bool seen[32] = { false };
	yaml_node_pair_t *pair;
	int r;

	if (n->type != YAML_MAPPING_NODE)
		return perr(c, n, "%s: expected a mapping of keys, found %s",
			    what, kind(n));
	for (pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		node_t *k = get(c, pair->key), *v = get(c, pair->value);
		const char *ks = NULL;
		size_t i;

		r = str(c, k, what, &ks);
		if (r)
			return r;
		for (i = 0; i < nf && strcmp(f[i].key, ks); i++)
			;
		if (i == nf) {
			char list[384] = "";

			for (size_t j = 0; j < nf; j++)
				snprintf(list + strlen(list),
					 sizeof(list) - strlen(list), "%s%s",
					 j ? ", " : "", f[j].key);
			return perr(c, k, "%s: unknown key '%s' (expected %s)",
				    what, ks, list);
		}
		if (seen[i])
			return perr(c, k, "%s: '%s' given twice", what, ks);
		seen[i] = true;
		r = f[i].fn(c, v, obj);
		if (r)
			return r;
	}
	for (size_t i = 0; i < nf; i++)
		if (f[i].required && !seen[i])
			return perr(c, n, "%s: missing '%s'", what, f[i].key);
	return 0;
}

/* A list, or a single item standing for a list of one: an allocated
 * array of its nodes (free with items_free). Returns 0 or -ENOMEM. */
static int items(struct pctx *c, node_t *n, node_t ***ret, size_t *ret_n)
{
	size_t cnt = 1;
	node_t **v;

	if (n->type == YAML_SEQUENCE_NODE)
		cnt = (size_t)(n->data.sequence.items.top -
			       n->data.sequence.items.start);
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (n->type == YAML_SEQUENCE_NODE)
		for (size_t i = 0; i < cnt; i++)
			v[i] = get(c, n->data.sequence.items.start[i]);
	else
		v[0] = n;
	*ret = v;
	*ret_n = cnt;
	return 0;
}

static void items_free(node_t **v)
{
	free(v);
}

static int list_only(struct pctx *c, node_t *n, const char *what)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, n, "%s: expected a list, found %s", what,
			    kind(n));
	return 0;
}

/* Calls fn for every item of the list n, stopping at the first error. */
typedef int (*item_fn)(struct pctx *c, node_t *item, void *ctx);

static int each(struct pctx *c, node_t *n, const char *what, item_fn fn,
		void *ctx)
{
	int r = list_only(c, n, what);

	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     !r && i < n->data.sequence.items.top; i++)
		r = fn(c, get(c, *i), ctx);
	return r;
}

/* The last of n named entries (stride bytes apart, name first) must not
 * repeat an earlier name. */
static int unique_name(struct pctx *c, node_t *it, const char *what,
		       const void *arr, size_t stride, size_t n)
{
	const char *last = (const char *)arr + (n - 1) * stride;

	for (size_t j = 0; j + 1 < n; j++)
		if (!strcmp((const char *)arr + j * stride, last))
			return perr(c, it, "%s %s is defined twice", what,
				    last);
	return 0;
}

_Static_assert(offsetof(struct policy_interface, name) == 0, "name first");
_Static_assert(offsetof(struct policy_service, name) == 0, "name first");
_Static_assert(offsetof(struct policy_level, name) == 0, "name first");
_Static_assert(offsetof(struct policy_scope, name) == 0, "name first");
_Static_assert(offsetof(struct policy_rule, name) == 0, "name first");
#define UNIQUE(c, it, what, arr, n)                                            \
	unique_name(c, it, what, arr, sizeof(*(arr)), n)

#define GROW(arr, cnt)                                                         \
	({                                                                     \
		void *np_ = realloc((arr), ((cnt) + 1) * sizeof(*(arr)));      \
		if (np_) {                                                     \
			(arr) = np_;                                           \
			memset(&(arr)[(cnt)], 0, sizeof(*(arr)));              \
		}                                                              \
		np_ ? &(arr)[(cnt)++] : NULL;                                  \
	})

/* ---- agent ---- */

STR_FIELD(ag_pin, struct policy_agent, pin_dir, "agent.pin_dir")
STR_FIELD(ag_ctl, struct policy_agent, control_socket, "agent.control_socket")
STR_FIELD(ag_state, struct policy_agent, state_file, "agent.state_file")
STR_FIELD(ag_audit, struct policy_agent, audit_log, "agent.audit_log")

static int ag_metrics(struct pctx *c, node_t *v, void *o)
{
	struct policy_agent *a = o;
	int r = str_copy(c, v, "agent.metrics", a->metrics, sizeof(a->metrics));

	if (!r && !strcmp(a->metrics, "off"))
		a->metrics[0] = '\0';
	else if (!r && !strrchr(a->metrics, ':'))
		return perr(c, v, "agent.metrics: expected \"address:port\" "
			    "or off, found '%s'", a->metrics);
	return r;
}

/* Map sizes: at least 16 entries; at most what a kernel map sensibly
 * holds (the subscriber map's memory is ~230 B an entry). */
#define MAP_FIELD(fn, field, what, max)                                        \
	static int fn(struct pctx *c, node_t *v, void *o)                      \
	{                                                                      \
		unsigned long long x;                                          \
		int r = uint_range(c, v, what, 16, max, &x);                   \
                                                                               \
		if (!r)                                                        \
			((struct policy_maps *)o)->field = (uint32_t)x;        \
		return r;                                                      \
	}
MAP_FIELD(mp_subs, subscribers, "agent.maps.subscribers", 100000000ULL)
MAP_FIELD(mp_pools, pools, "agent.maps.pools", 1000000ULL)
MAP_FIELD(mp_svcs, service_prefixes, "agent.maps.service_prefixes",
	  1000000ULL)
MAP_FIELD(mp_scopes, scopes, "agent.maps.scopes", 1000000ULL)
MAP_FIELD(mp_prefixes, prefixes, "agent.maps.prefixes", 1000000ULL)
MAP_FIELD(mp_tracked, tracked, "agent.maps.tracked", 10000000ULL)

static int mp_warn(struct pctx *c, node_t *v, void *o)
{
	unsigned long long x;
	const char *s = NULL;
	char buf[32];
	int r = str(c, v, "agent.maps.warn_at", &s);
	size_t n = s ? strlen(s) : 0;

	/* "80%" or 80 */
	if (!r && n && n < sizeof(buf) && s[n - 1] == '%') {
		memcpy(buf, s, n - 1);
		buf[n - 1] = '\0';
		errno = 0;
		x = strtoull(buf, NULL, 10);
		if (!buf[0] || strspn(buf, "0123456789") != n - 1 || x < 1 ||
		    x > 100)
			return perr(c, v, "agent.maps.warn_at: expected a "
				    "percentage 1%%..100%%, found '%s'", s);
		((struct policy_maps *)o)->warn_at = (unsigned)x;
		return 0;
	}
	if (!r)
		r = uint_range(c, v, "agent.maps.warn_at", 1, 100, &x);
	if (!r)
		((struct policy_maps *)o)->warn_at = (unsigned)x;
	return r;
}

static int mp_full(struct pctx *c, node_t *v, void *o)
{
	c->when_full = v;
	return 0;
}

static int ag_maps(struct pctx *c, node_t *n, void *o)
{
	static const struct field f[] = {
		{ "subscribers", mp_subs },
		{ "pools", mp_pools },
		{ "service_prefixes", mp_svcs },
		{ "scopes", mp_scopes },
		{ "tracked", mp_tracked },
		{ "prefixes", mp_prefixes },
		{ "warn_at", mp_warn },
		{ "when_full", mp_full },
	};
	struct policy_maps *m = &((struct policy_agent *)o)->maps;
	int r = walk(c, n, "agent.maps", f, 8, m);

	/* when_full names a level: resolved once levels are read */
	return r;
}

static int sec_agent(struct pctx *c, node_t *n)
{
	static const struct field f[] = {
		{ "pin_dir", ag_pin },
		{ "control_socket", ag_ctl },
		{ "state_file", ag_state },
		{ "audit_log", ag_audit },
		{ "maps", ag_maps },
		{ "metrics", ag_metrics },
	};

	return walk(c, n, "agent", f, 6, &c->p->agent);
}

/* ---- interfaces ---- */

static int if_name(struct pctx *c, node_t *v, void *o)
{
	struct policy_interface *i = o;

	return str_copy(c, v, "interface name", i->name, sizeof(i->name));
}

static int if_role(struct pctx *c, node_t *v, void *o)
{
	static const char *const n[] = { "access", "core", NULL };
	struct policy_interface *i = o;
	int r, x;

	r = choice(c, v, "interface role", n, &x);
	i->role = x;
	return r;
}

static int if_mode(struct pctx *c, node_t *v, void *o)
{
	static const char *const n[] = { "native", "generic",
					  "native-or-generic", NULL };
	struct policy_interface *i = o;
	int r, x;

	r = choice(c, v, "interface mode", n, &x);
	i->mode = x;
	return r;
}

static int if_gtpu(struct pctx *c, node_t *v, void *o)
{
	struct policy_interface *i = o;

	return boolean(c, v, "interface gtpu", &i->gtpu);
}

static int if_spread(struct pctx *c, node_t *v, void *o)
{
	static const char *const n[] = { "off", "teid", "inner", NULL };
	struct policy_interface *i = o;
	int r, x;

	r = choice(c, v, "interface spread", n, &x);
	i->spread = x; /* the order of enum xcrs_spread */
	return r;
}

static int if_spread_cpus(struct pctx *c, node_t *v, void *o)
{
	struct policy_interface *i = o;
	node_t **it;
	size_t n;
	int r = 0, how = items(c, v, &it, &n);

	if (how < 0)
		return how;
	if (n > XCRS_SPREAD_CPUS_MAX)
		r = perr(c, v, "spread_cpus: at most %d CPUs",
			 XCRS_SPREAD_CPUS_MAX);
	for (size_t k = 0; !r && k < n; k++) {
		unsigned long long x;

		r = uint_range(c, it[k], "spread_cpus", 0,
			       XCRS_SPREAD_CPUS_MAX - 1, &x);
		i->spread_cpus[i->nspread_cpus++] = (unsigned)x;
	}
	items_free(it);
	return r;
}

static int interface_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", if_name, true },
		{ "role", if_role, true },
		{ "mode", if_mode },
		{ "gtpu", if_gtpu },
		{ "spread", if_spread },
		{ "spread_cpus", if_spread_cpus },
	};
	struct policy *p = c->p;
	struct policy_interface *x = GROW(p->interfaces, p->ninterfaces);
	int r;

	if (!x)
		return -ENOMEM;
	x->gtpu = true;
	r = walk(c, it, "interface", f, 6, x);
	if (!r && x->spread && !x->gtpu)
		r = perr(c, it, "interface %s: spread needs gtpu (it spreads "
				"G-PDUs)",
			 x->name);
	return r ? r : UNIQUE(c, it, "interface", p->interfaces,
			      p->ninterfaces);
}

static int sec_interfaces(struct pctx *c, node_t *n)
{
	return each(c, n, "interfaces", interface_one, NULL);
}

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
	int r = str(c, n, "ports", &s);

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
		return perr(c, n, "ports: '%s' is not a range within 0-65535",
			    s);
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
bad:
	return perr(c, n, "ports: expected a port or a range such as "
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

	r = walk(c, it, "service rule", f, 3, &b);
	if (r)
		return r;
	if (b.proto) {
		r = choice(c, b.proto, "protocol", protos, &pi);
		if (r)
			return r;
	}
	if (b.ports && pi != 1 && pi != 2)
		return perr(c, b.ports, "ports: only tcp and udp have ports "
					"(set protocol)");
	r = items(c, b.prefixes, &pv, &np);
	if (r)
		return r;
	if (!np)
		r = perr(c, b.prefixes, "prefixes: the list is empty");
	if (!r && b.ports) {
		r = items(c, b.ports, &ov, &no);
		if (!r && !no)
			r = perr(c, b.ports, "ports: the list is empty");
	}
	for (size_t i = 0; !r && i < np; i++) {
		struct policy_prefix pf;

		r = prefix(c, pv[i], "prefixes", &pf);
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
	items_free(pv);
	items_free(ov);
	return r;
}

static int sv_name(struct pctx *c, node_t *v, void *o)
{
	return name(c, v, "service name", ((struct policy_service *)o)->name);
}

static int sv_remediation(struct pctx *c, node_t *v, void *o)
{
	return boolean(c, v, "remediation",
		       &((struct policy_service *)o)->remediation);
}

static int sv_rules(struct pctx *c, node_t *v, void *o)
{
	int r = each(c, v, "rules", svc_rule, o);

	if (!r && !((struct policy_service *)o)->nrules)
		r = perr(c, v, "rules: a service needs at least one rule");
	return r;
}

static int service_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", sv_name, true },
		{ "rules", sv_rules, true },
		{ "remediation", sv_remediation },
	};
	struct policy *p = c->p;
	struct policy_service *s;
	int r;

	if (p->nservices == XCRS_SVC_MAX)
		return perr(c, it, "services: at most %d services",
			    XCRS_SVC_MAX);
	s = GROW(p->services, p->nservices);
	if (!s)
		return -ENOMEM;
	s->cls = (unsigned)(p->nservices - 1);
	r = walk(c, it, "service", f, 3, s);
	return r ? r : UNIQUE(c, it, "service", p->services, p->nservices);
}

static int sec_services(struct pctx *c, node_t *n)
{
	return each(c, n, "services", service_one, NULL);
}

static int service_index(const struct policy *p, const char *s)
{
	for (size_t i = 0; i < p->nservices; i++)
		if (!strcmp(p->services[i].name, s))
			return (int)i;
	return -1;
}

/* A list of service names (or "all") → class bitmap. */
static int service_set(struct pctx *c, node_t *n, const char *what,
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
	how = items(c, n, &v, &cnt);
	if (how < 0)
		return how;
	for (size_t i = 0; !r && i < cnt; i++) {
		const char *s = NULL;
		int idx;

		r = str(c, v[i], what, &s);
		if (r)
			break;
		idx = service_index(c->p, s);
		if (idx < 0)
			r = perr(c, v[i], "%s: no service named '%s'%s", what,
				 s, allow_all ? " (or 'all')" : "");
		else
			m |= XCRS_SVC_BIT(c->p->services[idx].cls);
	}
	items_free(v);
	if (!r)
		*ret = m;
	return r;
}

/* ---- levels ---- */

struct level_build {
	struct policy_level *l;
	node_t *allow, *rate, *burst, *fail_closed;
};

static int lv_name(struct pctx *c, node_t *v, void *o)
{
	return name(c, v, "level name", ((struct level_build *)o)->l->name);
}

KEEP(lv_allow, struct level_build, allow)
KEEP(lv_rate, struct level_build, rate)
KEEP(lv_burst, struct level_build, burst)
KEEP(lv_fc, struct level_build, fail_closed)

static int level_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", lv_name, true },
		{ "allow", lv_allow, true },
		{ "rate", lv_rate },
		{ "burst", lv_burst },
		{ "fail_closed", lv_fc },
	};
	struct policy *p = c->p;
	int r;
	struct level_build b;

	if (p->nlevels == XCRS_LEVELS_MAX)
		return perr(c, it, "levels: at most %d levels",
			    XCRS_LEVELS_MAX);
	memset(&b, 0, sizeof(b));
	b.l = GROW(p->levels, p->nlevels);
	if (!b.l)
		return -ENOMEM;
	r = walk(c, it, "level", f, 5, &b);
	if (!r)
		r = service_set(c, b.allow, "allow", true,
				&b.l->allowed);
	if (!r && b.rate)
		r = rate(c, b.rate, "rate", &b.l->rate_Bps);
	if (!r && b.rate && !b.burst)
		r = perr(c, b.rate, "rate: a rate needs a burst "
				    "(e.g. burst: 64kB)");
	if (!r && b.burst && !b.rate)
		r = perr(c, b.burst, "burst: only with a rate");
	if (!r && b.burst)
		r = bytes(c, b.burst, "burst", &b.l->burst_B);
	/* Restricting levels fail closed unless told otherwise. */
	b.l->fail_closed = b.l->allowed != XCRS_SVC_ALL ||
			   b.l->rate_Bps;
	if (!r && b.fail_closed)
		r = boolean(c, b.fail_closed, "fail_closed",
			    &b.l->fail_closed);
	return r ? r : UNIQUE(c, it, "level", p->levels, p->nlevels);
}

static int sec_levels(struct pctx *c, node_t *n)
{
	if (n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return perr(c, n, "levels: at least one level is needed");
	return each(c, n, "levels", level_one, NULL);
}

static int level_ref(struct pctx *c, node_t *n, const char *what,
		     unsigned *ret)
{
	const char *s = NULL;
	int r = str(c, n, what, &s), i;

	if (r)
		return r;
	i = policy_level_index(c->p, s);
	if (i < 0)
		return perr(c, n, "%s: no level named '%s'", what, s);
	*ret = (unsigned)i;
	return 0;
}

static int sec_unknown(struct pctx *c, node_t *n)
{
	const char *s = NULL;
	unsigned l;
	int r = str(c, n, "unknown_subscribers", &s);

	if (r)
		return r;
	if (!strcmp(s, "pass")) {
		c->p->default_level = -1;
		return 0;
	}
	r = level_ref(c, n, "unknown_subscribers (pass or a level)", &l);
	if (!r)
		c->p->default_level = (int)l;
	return r;
}

static int sec_nonip(struct pctx *c, node_t *n)
{
	static const char *const v[] = { "pass", "drop", NULL };
	int x, r = choice(c, n, "non_ip", v, &x);

	c->p->nonip_drop = x == 1;
	return r;
}

/* ---- scopes ---- */

struct scope_build {
	struct policy_scope *s;
	node_t *id, *pools, *level, *containment, *isolate_allow;
};

static int sc_name(struct pctx *c, node_t *v, void *o)
{
	return name(c, v, "scope name", ((struct scope_build *)o)->s->name);
}

KEEP(sc_id, struct scope_build, id)
KEEP(sc_pools, struct scope_build, pools)
KEEP(sc_level, struct scope_build, level)
KEEP(sc_cont, struct scope_build, containment)
KEEP(sc_iso, struct scope_build, isolate_allow)

static uint64_t remediation_set(const struct policy *p)
{
	uint64_t m = 0;

	for (size_t i = 0; i < p->nservices; i++)
		if (p->services[i].remediation)
			m |= XCRS_SVC_BIT(p->services[i].cls);
	return m;
}

static int scope_one(struct pctx *c, node_t *it, struct scope_build *b)
{
	static const struct field f[] = {
		{ "name", sc_name, true },
		{ "id", sc_id },
		{ "pools", sc_pools },
		{ "level", sc_level },
		{ "containment", sc_cont },
		{ "isolate_allow", sc_iso },
	};
	static const char *const modes[] = { "none", "isolate", "no-lateral",
					     NULL };
	struct policy_scope *s = b->s;
	int r = walk(c, it, "scope", f, 6, b), x;

	if (!r && b->id) {
		unsigned long long v;

		r = uint_range(c, b->id, "id", 1, UINT32_MAX, &v);
		s->id = (uint32_t)v;
	}
	if (!r && b->pools) {
		node_t **v;
		size_t n;
		int how = items(c, b->pools, &v, &n);

		if (how < 0)
			return how;
		for (size_t i = 0; !r && i < n; i++) {
			struct policy_prefix *pf = GROW(s->pools, s->npools);

			if (!pf) {
				r = -ENOMEM;
				break;
			}
			r = prefix(c, v[i], "pools", pf);
		}
		items_free(v);
	}
	if (!r && b->level)
		r = level_ref(c, b->level, "level", &s->pool_level);
	s->containment = XCRS_CONTAIN_ISOLATE;
	if (!r && b->containment) {
		r = choice(c, b->containment, "containment", modes, &x);
		s->containment = x;
		if (!r && x == XCRS_CONTAIN_NONE)
			r = perr(c, b->containment,
				 "containment: the mode used when the scope is "
				 "contained (isolate or no-lateral)");
	}
	s->isolate_allowed = remediation_set(c->p);
	if (!r && b->isolate_allow)
		r = service_set(c, b->isolate_allow, "isolate_allow", false,
				&s->isolate_allowed);
	return r;
}

static int scope_item(struct pctx *c, node_t *it, void *ctx)
{
	struct policy *p = c->p;
	struct scope_build b = { 0 };
	int r;

	b.s = GROW(p->scopes, p->nscopes);
	if (!b.s)
		return -ENOMEM;
	r = scope_one(c, it, &b);
	if (!r)
		r = UNIQUE(c, it, "scope", p->scopes, p->nscopes);
	for (size_t j = 0; !r && b.s->id && j + 1 < p->nscopes; j++)
		if (p->scopes[j].id == b.s->id)
			r = perr(c, b.id, "id: %u is also scope %s", b.s->id,
				 p->scopes[j].name);
	return r;
}

static int sec_scopes(struct pctx *c, node_t *n)
{
	struct policy *p = c->p;
	int r = each(c, n, "scopes", scope_item, NULL);

	/* Scopes without an id get the lowest free ones. */
	for (size_t i = 0; !r && i < p->nscopes; i++) {
		uint32_t id = 1;
		bool taken;

		if (p->scopes[i].id)
			continue;
		do {
			taken = false;
			for (size_t j = 0; j < p->nscopes; j++)
				taken |= p->scopes[j].id == id;
			id += taken;
		} while (taken);
		p->scopes[i].id = id;
	}
	return r;
}

/* ---- subscribers ---- */

struct sub_build {
	struct policy_subscriber *s;
	node_t *addr, *scope, *level;
};

KEEP(sb_addr, struct sub_build, addr)
KEEP(sb_scope, struct sub_build, scope)
KEEP(sb_level, struct sub_build, level)

static int subscriber_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "address", sb_addr, true },
		{ "scope", sb_scope },
		{ "level", sb_level },
	};
	struct policy *p = c->p;
	int r;
	struct sub_build b = { 0 };
	const char *s = NULL;

	b.s = GROW(p->subscribers, p->nsubscribers);
	if (!b.s)
		return -ENOMEM;
	b.s->scope = -1;
	r = walk(c, it, "subscriber", f, 3, &b);
	if (!r)
		r = str(c, b.addr, "address", &s);
	if (!r && addr_parse(s, &b.s->addr))
		r = perr(c, b.addr, "address: expected an IPv4 or IPv6 "
				    "address, found '%s'",
			 s);
	if (!r && b.scope) {
		r = str(c, b.scope, "scope", &s);
		if (!r)
			b.s->scope = policy_scope_index(p, s);
		if (!r && b.s->scope < 0)
			r = perr(c, b.scope, "scope: no scope named "
					     "'%s'",
				 s);
	}
	if (!r && b.level)
		r = level_ref(c, b.level, "level", &b.s->level);
	for (size_t j = 0; !r && j + 1 < p->nsubscribers; j++)
		if (!memcmp(&p->subscribers[j].addr, &b.s->addr,
			    sizeof(b.s->addr)))
			r = perr(c, b.addr, "address: %s is listed "
					    "twice",
				 s);
	return r;
}

static int sec_subscribers(struct pctx *c, node_t *n)
{
	return each(c, n, "subscribers", subscriber_one, NULL);
}

/* ---- never_react ---- */

struct never_build {
	struct policy_never *nv;
	node_t *name, *prefixes, *level;
};

KEEP(nb_name, struct never_build, name)
KEEP(nb_prefixes, struct never_build, prefixes)
KEEP(nb_level, struct never_build, level)

static int never_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", nb_name, true },
		{ "prefixes", nb_prefixes, true },
		{ "level", nb_level },
	};
	struct policy *p = c->p;
	struct never_build b = { 0 };
	node_t **v;
	size_t n;
	int r, how;

	b.nv = GROW(p->never, p->nnever);
	if (!b.nv)
		return -ENOMEM;
	r = walk(c, it, "never_react", f, 3, &b);
	if (!r)
		r = name(c, b.name, "never_react name", b.nv->name);
	if (!r)
		r = UNIQUE(c, it, "never_react entry", p->never, p->nnever);
	if (r)
		return r;
	how = items(c, b.prefixes, &v, &n);
	if (how < 0)
		return how;
	for (size_t i = 0; !r && i < n; i++) {
		struct policy_prefix *pf = GROW(b.nv->prefixes,
						b.nv->nprefixes);

		r = pf ? prefix(c, v[i], "prefixes", pf) : -ENOMEM;
	}
	items_free(v);
	if (!r && b.level)
		r = level_ref(c, b.level, "level", &b.nv->level);
	/* a static subscriber there would be a reaction it never gets */
	for (size_t i = 0; !r && i < p->nsubscribers; i++)
		for (size_t j = 0; !r && j < b.nv->nprefixes; j++)
			if (addr_prefix_contains(&b.nv->prefixes[j].addr,
						 b.nv->prefixes[j].plen,
						 &p->subscribers[i].addr, 128)) {
				char a[ADDR_STRLEN];

				addr_format(&p->subscribers[i].addr, a,
					    sizeof(a));
				r = perr(c, b.prefixes, "never_react %s holds "
					 "the static subscriber %s",
					 b.nv->name, a);
			}
	return r;
}

static int sec_never(struct pctx *c, node_t *n)
{
	return each(c, n, "never_react", never_one, NULL);
}

/* ---- inputs ---- */

static int in_reports(struct pctx *c, node_t *v, void *o);
static int in_eve(struct pctx *c, node_t *v, void *o);
static int in_events(struct pctx *c, node_t *v, void *o);
static int in_sessions(struct pctx *c, node_t *v, void *o);

static int sec_inputs(struct pctx *c, node_t *n)
{
	static const struct field f[] = {
		{ "reports", in_reports },
		{ "eve", in_eve },
		{ "events", in_events },
		{ "sessions", in_sessions },
	};

	return walk(c, n, "inputs", f, 4, c->p);
}

struct path_build {
	node_t *file, *socket;
};

KEEP(pb_file, struct path_build, file)
KEEP(pb_socket, struct path_build, socket)

static int eve_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "file", pb_file },
		{ "socket", pb_socket },
	};
	struct path_build b = { 0 };
	struct policy_input *in;
	int r = walk(c, it, "eve", f, 2, &b);

	if (r)
		return r;
	if (!!b.file == !!b.socket)
		return perr(c, it, "eve: give either 'file' or 'socket'");
	in = GROW(c->p->inputs, c->p->ninputs);
	if (!in)
		return -ENOMEM;
	in->kind = b.file ? POLICY_IN_EVE_FILE : POLICY_IN_EVE_SOCKET;
	return str_copy(c, b.file ? b.file : b.socket,
			b.file ? "file" : "socket", in->path,
			sizeof(in->path));
}

static int in_eve(struct pctx *c, node_t *v, void *o)
{
	return each(c, v, "eve", eve_one, NULL);
}


/* One {socket: PATH} item of a socket input list. */
static int socket_input(struct pctx *c, node_t *it, const char *what,
			enum policy_input_kind kind)
{
	static const struct field f[] = { { "socket", pb_socket, true } };
	struct path_build b = { 0 };
	struct policy_input *in;
	int r = walk(c, it, what, f, 1, &b);

	if (r)
		return r;
	in = GROW(c->p->inputs, c->p->ninputs);
	if (!in)
		return -ENOMEM;
	in->kind = kind;
	return str_copy(c, b.socket, "socket", in->path, sizeof(in->path));
}

static int events_one(struct pctx *c, node_t *it, void *ctx)
{
	return socket_input(c, it, "events", POLICY_IN_EVENT_SOCKET);
}

static int in_events(struct pctx *c, node_t *v, void *o)
{
	return each(c, v, "events", events_one, NULL);
}

static int sessions_one(struct pctx *c, node_t *it, void *ctx)
{
	return socket_input(c, it, "sessions", POLICY_IN_SESSION_SOCKET);
}

static int in_sessions(struct pctx *c, node_t *v, void *o)
{
	return each(c, v, "sessions", sessions_one, NULL);
}

STR_FIELD(rp_listen, struct policy_reports, listen, "reports.listen")
STR_FIELD(rp_cert, struct policy_reports, cert, "reports.cert")
STR_FIELD(rp_key, struct policy_reports, key, "reports.key")
STR_FIELD(rp_keys, struct policy_reports, keys_file, "reports.keys")

static int rp_skew(struct pctx *c, node_t *v, void *o)
{
	return duration(c, v, "reports.max_skew",
			&((struct policy_reports *)o)->max_skew_ns);
}

STR_FIELD(ra_server, struct policy_authsrv, server, "reports.authsrv.server")
STR_FIELD(ra_ca, struct policy_authsrv, ca, "reports.authsrv.ca")
STR_FIELD(ra_cert, struct policy_authsrv, cert, "reports.authsrv.cert")
STR_FIELD(ra_key, struct policy_authsrv, key, "reports.authsrv.key")
STR_FIELD(ra_asid, struct policy_authsrv, as_id, "reports.authsrv.as_id")
STR_FIELD(ra_name, struct policy_authsrv, name, "reports.authsrv.name")

static int rp_authsrv(struct pctx *c, node_t *v, void *o)
{
	static const struct field f[] = {
		{ "server", ra_server, true },
		{ "ca", ra_ca, true },
		{ "cert", ra_cert, true },
		{ "key", ra_key, true },
		{ "as_id", ra_asid, true },
		{ "name", ra_name },
	};
	struct policy_authsrv *a = &((struct policy_reports *)o)->authsrv;
	int r = walk(c, v, "reports.authsrv", f, 6, a);

	a->enabled = !r;
	if (!r && !strrchr(a->server, ':'))
		r = perr(c, v, "reports.authsrv.server: expected host:port, "
			       "found '%s'", a->server);
	return r;
}

static int in_reports(struct pctx *c, node_t *v, void *o)
{
	static const struct field f[] = {
		{ "listen", rp_listen, true },
		{ "cert", rp_cert, true },
		{ "key", rp_key, true },
		{ "keys", rp_keys },
		{ "max_skew", rp_skew },
		{ "authsrv", rp_authsrv },
	};
	struct policy_reports *rp = &c->p->reports;
	int r;

	rp->max_skew_ns = 300ULL * 1000000000ULL;
	r = walk(c, v, "reports", f, 6, rp);
	rp->enabled = !r;
	if (!r && !strrchr(rp->listen, ':'))
		r = perr(c, v, "reports.listen: expected address:port, found "
			       "'%s'",
			 rp->listen);
	if (!r && !rp->keys_file[0] && !rp->authsrv.enabled)
		r = perr(c, v, "reports: needs 'keys' (a key file), "
			       "'authsrv' (keys from xcrs-authsrv), or both");
	return r;
}

/* ---- fan-out ---- */

static int fo_threshold(struct pctx *c, node_t *v, void *o)
{
	unsigned long long x;
	int r = uint_range(c, v, "fanout.threshold", 1,
			   XCRS_FANOUT_THRESHOLD_MAX, &x);

	((struct policy *)o)->fanout_threshold = (uint32_t)x;
	return r;
}

static int fo_window(struct pctx *c, node_t *v, void *o)
{
	int r = duration(c, v, "fanout.window",
			 &((struct policy *)o)->fanout_window_ns);

	if (!r && !((struct policy *)o)->fanout_window_ns)
		r = perr(c, v, "fanout.window: must be longer than 0s");
	return r;
}

static int ms_detect(struct pctx *c, node_t *v, void *o)
{
	return boolean(c, v, "ms.detect", &c->p->ms_detect);
}

static int ms_idle(struct pctx *c, node_t *v, void *o)
{
	return duration_min(c, v, "ms.idle_timeout", 1000000000ULL, "1s",
			    &c->p->ms_idle_ns);
}

static int pr_port(struct pctx *c, node_t *v, void *o)
{
	unsigned long long x;
	int r = uint_range(c, v, "ms.probe.port", 1, 65535, &x);

	c->p->probe_port = (uint16_t)x;
	return r;
}

static int pr_interval(struct pctx *c, node_t *v, void *o)
{
	return duration_min(c, v, "ms.probe.interval", 100000000ULL, "100ms",
			    &c->p->probe_interval_ns);
}

static int pr_attempts(struct pctx *c, node_t *v, void *o)
{
	unsigned long long x;
	int r = uint_range(c, v, "ms.probe.attempts", 1, 100, &x);

	c->p->probe_attempts = (unsigned)x;
	return r;
}

static int pr_redirect(struct pctx *c, node_t *v, void *o)
{
	return level_ref(c, v, "ms.probe.redirect", &c->p->probe_redirect);
}

static int ms_probe(struct pctx *c, node_t *v, void *o)
{
	static const struct field f[] = {
		{ "port", pr_port, true },
		{ "redirect", pr_redirect, true },
		{ "interval", pr_interval },
		{ "attempts", pr_attempts },
	};
	int r = walk(c, v, "ms.probe", f, 4, c->p);

	c->p->probe = !r;
	return r;
}

static int sec_ms(struct pctx *c, node_t *n)
{
	static const struct field f[] = {
		{ "detect", ms_detect },
		{ "idle_timeout", ms_idle },
		{ "probe", ms_probe },
	};

	return walk(c, n, "ms", f, 3, c->p);
}

struct eval_build {
	struct policy_eval *e;
	node_t *when;
};

static int ev_name(struct pctx *c, node_t *v, void *o)
{
	return name(c, v, "evaluation.name", ((struct eval_build *)o)->e->name);
}

static int ev_result(struct pctx *c, node_t *v, void *o)
{
	static const char *const r[] = { "clean", "outdated", "infected",
					 NULL };
	int i = 0;
	int x = choice(c, v, "evaluation.result", r, &i);

	((struct eval_build *)o)->e->result = (enum crsap_status)i;
	return x;
}

KEEP(ev_when, struct eval_build, when)

static int ew_sev(struct pctx *c, node_t *v, void *o)
{
	unsigned long long x;
	int r = uint_range(c, v, "when.threat_severity_at_most", 1, 255, &x);

	((struct policy_eval *)o)->threat_severity_max = (unsigned)x;
	return r;
}

static int ew_sigs(struct pctx *c, node_t *v, void *o)
{
	return duration(c, v, "when.signatures_older_than",
			&((struct policy_eval *)o)->signatures_older_ns);
}

static int ew_patch(struct pctx *c, node_t *v, void *o)
{
	return duration(c, v, "when.patch_older_than",
			&((struct policy_eval *)o)->patch_older_ns);
}

static int eval_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "name", ev_name, true },
		{ "result", ev_result, true },
		{ "when", ev_when, true },
	};
	static const struct field w[] = {
		{ "threat_severity_at_most", ew_sev },
		{ "signatures_older_than", ew_sigs },
		{ "patch_older_than", ew_patch },
	};
	struct eval_build b = { 0 };
	int r;

	b.e = GROW(c->p->evals, c->p->nevals);
	if (!b.e)
		return -ENOMEM;
	r = walk(c, it, "evaluation", f, 3, &b);
	if (!r)
		r = walk(c, b.when, "evaluation.when", w, 3, b.e);
	if (r)
		return r;
	if (!b.e->threat_severity_max && !b.e->signatures_older_ns &&
	    !b.e->patch_older_ns)
		return perr(c, b.when, "evaluation.when: give at least one of "
				       "threat_severity_at_most, "
				       "signatures_older_than, "
				       "patch_older_than");
	return unique_name(c, it, "evaluation entry", c->p->evals,
			   sizeof(c->p->evals[0]), c->p->nevals);
}

static int sec_evaluation(struct pctx *c, node_t *n)
{
	return each(c, n, "evaluation", eval_one, NULL);
}

STR_FIELD(pe_address, struct policy_peer, address, "scs.peers.address")
STR_FIELD(pe_name, struct policy_peer, name, "scs.peers.name")

static int pe_id(struct pctx *c, node_t *v, void *o)
{
	return name(c, v, "scs.peers.id", ((struct policy_peer *)o)->id);
}

static int pe_key(struct pctx *c, node_t *v, void *o)
{
	struct policy_peer *pe = o;
	const char *s = NULL;
	size_t n;
	int r = str(c, v, "scs.peers.key", &s);

	if (r)
		return r;
	n = strlen(s);
	if (n % 2 || n < 32 || n > 128 ||
	    hex_decode(s, n, pe->key, n / 2))
		return perr(c, v, "scs.peers.key: expected 32..128 hex digits");
	pe->keylen = n / 2;
	return 0;
}

static int scs_peer_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "id", pe_id, true },
		{ "address", pe_address, true },
		{ "key", pe_key, true },
		{ "name", pe_name },
	};
	struct policy_peer *pe = GROW(c->p->peers, c->p->npeers);
	int r;

	if (!pe)
		return -ENOMEM;
	r = walk(c, it, "scs.peers", f, 4, pe);
	if (!r && !strrchr(pe->address, ':'))
		r = perr(c, it, "scs.peers.address: expected host:port");
	if (!r && !strcmp(pe->id, c->p->scs_id))
		r = perr(c, it, "scs.peers: %s is this SCS's own id", pe->id);
	return r ? r : UNIQUE(c, it, "peer", c->p->peers, c->p->npeers);
}

static int scs_id(struct pctx *c, node_t *v, void *o)
{
	return name(c, v, "scs.id", c->p->scs_id);
}

static int scs_ca(struct pctx *c, node_t *v, void *o)
{
	return str_copy(c, v, "scs.ca", c->p->peer_ca, sizeof(c->p->peer_ca));
}

static int scs_peers(struct pctx *c, node_t *v, void *o)
{
	return each(c, v, "scs.peers", scs_peer_one, NULL);
}

static int sec_scs(struct pctx *c, node_t *n)
{
	static const struct field f[] = {
		{ "id", scs_id },
		{ "ca", scs_ca },
		{ "peers", scs_peers },
	};
	int r = walk(c, n, "scs", f, 3, c->p);

	if (!r && c->p->npeers && !c->p->peer_ca[0])
		return perr(c, n, "scs: peers need 'ca' (their certificates' "
				  "CA)");
	return r;
}

static int sec_fanout(struct pctx *c, node_t *n)
{
	static const struct field f[] = {
		{ "threshold", fo_threshold, true },
		{ "window", fo_window, true },
	};

	return walk(c, n, "fanout", f, 2, c->p);
}

/* ---- rules ---- */

struct rule_build {
	struct policy_rule *r;
	node_t *on, *match, *count, *terminals, *within, *react, *contain,
		*release, *update, *escalate, *node;
	/* match */
	node_t *status, *severity, *signatures, *scopes;
	/* react */
	node_t *level, *dur;
};

KEEP(ru_on, struct rule_build, on)
KEEP(ru_match, struct rule_build, match)
KEEP(ru_count, struct rule_build, count)
KEEP(ru_terminals, struct rule_build, terminals)
KEEP(ru_within, struct rule_build, within)
KEEP(ru_react, struct rule_build, react)
KEEP(ru_contain, struct rule_build, contain)
KEEP(ru_release, struct rule_build, release)
KEEP(ru_update, struct rule_build, update)
KEEP(ru_escalate, struct rule_build, escalate)
KEEP(rm_status, struct rule_build, status)
KEEP(rm_severity, struct rule_build, severity)
KEEP(rm_sigs, struct rule_build, signatures)
KEEP(rm_scopes, struct rule_build, scopes)
KEEP(rr_level, struct rule_build, level)
KEEP(rr_for, struct rule_build, dur)

static int ru_name(struct pctx *c, node_t *v, void *o)
{
	return name(c, v, "rule name", ((struct rule_build *)o)->r->name);
}

static int rule_match(struct pctx *c, struct rule_build *b)
{
	static const struct field f[] = {
		{ "status", rm_status },
		{ "severity_at_most", rm_severity },
		{ "signatures", rm_sigs },
		{ "scopes", rm_scopes },
	};
	struct policy_rule *ru = b->r;
	int r = walk(c, b->match, "match", f, 4, b);

	if (r)
		return r;
	if (b->status && ru->on != POLICY_ON_REPORT)
		return perr(c, b->status, "status: only for rules on report");
	if ((b->severity || b->signatures) && ru->on != POLICY_ON_IDS)
		return perr(c, b->severity ? b->severity : b->signatures,
			    "%s: only for rules on ids",
			    b->severity ? "severity_at_most" : "signatures");
	if (b->status) {
		node_t **v;
		size_t n;
		int how = items(c, b->status, &v, &n);

		if (how < 0)
			return how;
		for (size_t i = 0; !r && i < n; i++) {
			const char *s = NULL;
			int st;

			r = str(c, v[i], "status", &s);
			if (r)
				break;
			st = crsap_status_parse(s);
			if (st < 0)
				r = perr(c, v[i], "status: expected clean, "
						  "outdated or infected, "
						  "found '%s'",
					 s);
			else
				ru->statuses |= 1u << st;
		}
		items_free(v);
	}
	if (!r && b->severity) {
		unsigned long long x;

		r = uint_range(c, b->severity, "severity_at_most", 1, 255, &x);
		ru->severity_max = (unsigned)x;
	}
	if (!r && b->signatures) {
		node_t **v;
		size_t n;
		int how = items(c, b->signatures, &v, &n);

		if (how < 0)
			return how;
		ru->signatures = calloc(n ? n : 1, sizeof(uint64_t));
		if (!ru->signatures)
			r = -ENOMEM;
		for (size_t i = 0; !r && i < n; i++) {
			unsigned long long x;

			r = uint_range(c, v[i], "signatures", 1, UINT64_MAX,
				       &x);
			ru->signatures[ru->nsignatures++] = x;
		}
		items_free(v);
	}
	if (!r && b->scopes) {
		node_t **v;
		size_t n;
		int how = items(c, b->scopes, &v, &n);

		if (how < 0)
			return how;
		ru->scopes = calloc(n ? n : 1, sizeof(int));
		if (!ru->scopes)
			r = -ENOMEM;
		for (size_t i = 0; !r && i < n; i++) {
			const char *s = NULL;

			r = str(c, v[i], "match.scopes", &s);
			if (r)
				break;
			ru->scopes[ru->nmatch_scopes] =
				policy_scope_index(c->p, s);
			if (ru->scopes[ru->nmatch_scopes++] < 0)
				r = perr(c, v[i], "match.scopes: no scope "
						  "named '%s'", s);
		}
		items_free(v);
	}
	return r;
}

struct update_build {
	node_t *what, *window, *deadline, *source;
};
KEEP(up_what, struct update_build, what)
KEEP(up_window, struct update_build, window)
KEEP(up_deadline, struct update_build, deadline)
KEEP(up_source, struct update_build, source)

static int rule_update(struct pctx *c, struct rule_build *b)
{
	static const struct field f[] = {
		{ "what", up_what, true },
		{ "window", up_window, true },
		{ "deadline", up_deadline },
		{ "source", up_source },
	};
	static const char *const what[] = { "signatures", "sca", "os",
					    "patch", NULL };
	struct policy_rule *ru = b->r;
	struct update_build u = { 0 };
	int r = walk(c, b->update, "update", f, 4, &u), w;

	if (r)
		return r;
	if (!ru->contain)
		return perr(c, b->update, "rule %s: update goes with contain "
					  "(an outbreak in a scope)",
			    ru->name);
	r = choice(c, u.what, "update.what", what, &w);
	if (r)
		return r;
	snprintf(ru->update_what, sizeof(ru->update_what), "%s", what[w]);
	r = duration(c, u.window, "update.window", &ru->update_window_ns);
	ru->update_deadline_ns = 3600ULL * 1000000000ULL;
	if (!r && u.deadline)
		r = duration(c, u.deadline, "update.deadline",
			     &ru->update_deadline_ns);
	ru->update_source = -1;
	if (!r && u.source) {
		const char *s = NULL;

		r = str(c, u.source, "update.source", &s);
		if (!r) {
			ru->update_source = service_index(c->p, s);
			if (ru->update_source < 0)
				r = perr(c, u.source, "update.source: no service "
						      "named '%s'", s);
		}
	}
	ru->update = !r;
	return r;
}

struct esc_build {
	node_t *within, *factor, *max, *after, *level;
};
KEEP(es_within, struct esc_build, within)
KEEP(es_factor, struct esc_build, factor)
KEEP(es_max, struct esc_build, max)
KEEP(es_after, struct esc_build, after)
KEEP(es_level, struct esc_build, level)

static int rule_escalate(struct pctx *c, struct rule_build *b)
{
	static const struct field f[] = {
		{ "within", es_within, true },
		{ "factor", es_factor },
		{ "max", es_max },
		{ "after", es_after },
		{ "level", es_level },
	};
	struct policy_rule *ru = b->r;
	struct esc_build e = { 0 };
	unsigned long long x;
	int r = walk(c, b->escalate, "escalate", f, 5, &e);

	if (r)
		return r;
	if (!ru->react)
		return perr(c, b->escalate, "rule %s: escalate goes with react "
					    "(a terminal's level)",
			    ru->name);
	r = duration(c, e.within, "escalate.within", &ru->esc_within_ns);
	ru->esc_factor = 2;
	if (!r && e.factor) {
		r = uint_range(c, e.factor, "escalate.factor", 1, 1000, &x);
		ru->esc_factor = (unsigned)x;
	}
	if (!r && e.max)
		r = duration(c, e.max, "escalate.max", &ru->esc_max_ns);
	if (!r && !!e.after != !!e.level)
		r = perr(c, e.after ? e.after : e.level,
			 "escalate: 'after' and 'level' go together (from "
			 "which offence on, which level)");
	if (!r && e.after) {
		r = uint_range(c, e.after, "escalate.after", 2, 1000, &x);
		ru->esc_after = (unsigned)x;
	}
	if (!r && e.level)
		r = level_ref(c, e.level, "escalate.level", &ru->esc_level);
	ru->escalate = !r;
	return r;
}

static int rule_one(struct pctx *c, node_t *it, struct rule_build *b)
{
	static const struct field f[] = {
		{ "name", ru_name, true },
		{ "on", ru_on, true },
		{ "match", ru_match },
		{ "count", ru_count },
		{ "terminals", ru_terminals },
		{ "within", ru_within },
		{ "react", ru_react },
		{ "contain", ru_contain },
		{ "release_on_clean", ru_release },
		{ "update", ru_update },
		{ "escalate", ru_escalate },
	};
	static const struct field rf[] = {
		{ "level", rr_level, true },
		{ "for", rr_for },
	};
	static const struct field cf[] = {
		{ "for", rr_for },
	};
	static const char *const ons[] = { "report", "ids", "fanout", NULL };
	struct policy_rule *ru = b->r;
	unsigned long long x;
	int r, on;

	b->node = it;
	r = walk(c, it, "rule", f, 11, b);
	if (r)
		return r;
	r = choice(c, b->on, "on", ons, &on);
	ru->on = on;
	if (!r && b->match)
		r = rule_match(c, b);
	if (!r && on == POLICY_ON_REPORT && !ru->statuses)
		r = perr(c, b->match ? b->match : it,
			 "rule %s: a rule on report needs match.status",
			 ru->name);
	ru->count = 1;
	if (!r && b->count) {
		r = uint_range(c, b->count, "count", 1, 1000000, &x);
		ru->count = (unsigned)x;
	}
	if (!r && b->terminals) {
		r = uint_range(c, b->terminals, "terminals", 2, 1000000, &x);
		ru->terminals = (unsigned)x;
		if (!r && on != POLICY_ON_IDS)
			r = perr(c, b->terminals, "terminals: counts terminals "
						  "raising the same IDS "
						  "signature; only for rules "
						  "on ids");
	}
	if (!r && b->within)
		r = duration(c, b->within, "within", &ru->window_ns);
	if (!r && (ru->count > 1 || ru->terminals) && !ru->window_ns)
		r = perr(c, b->count ? b->count : b->terminals,
			 "rule %s: counting needs a window (within: ...)",
			 ru->name);
	if (!r && !!b->react == !!b->contain)
		r = perr(c, it, "rule %s: give either 'react' (a level for the "
				"terminal) or 'contain' (its scope)",
			 ru->name);
	if (!r && b->react) {
		ru->react = true;
		r = walk(c, b->react, "react", rf, 2, b);
		if (!r)
			r = level_ref(c, b->level, "react.level", &ru->level);
	} else if (!r) {
		ru->contain = true;
		r = walk(c, b->contain, "contain", cf, 1, b);
	}
	if (!r && b->dur)
		r = duration(c, b->dur, "for", &ru->duration_ns);
	if (!r && b->release) {
		r = boolean(c, b->release, "release_on_clean",
			    &ru->release_on_clean);
	}
	if (!r && b->update)
		r = rule_update(c, b);
	if (!r && b->escalate)
		r = rule_escalate(c, b);
	return r;
}

static int rule_item(struct pctx *c, node_t *it, void *ctx)
{
	struct policy *p = c->p;
	struct rule_build b = { 0 };
	int r;

	b.r = GROW(p->rules, p->nrules);
	if (!b.r)
		return -ENOMEM;
	r = rule_one(c, it, &b);
	return r ? r : UNIQUE(c, it, "rule", p->rules, p->nrules);
}

static int sec_rules(struct pctx *c, node_t *n)
{
	return each(c, n, "rules", rule_item, NULL);
}

/* ---- the document ---- */

enum top {
	T_VERSION,
	T_AGENT,
	T_INTERFACES,
	T_SERVICES,
	T_LEVELS,
	T_UNKNOWN,
	T_NONIP,
	T_SCOPES,
	T_SUBSCRIBERS,
	T_NEVER,
	T_INPUTS,
	T_FANOUT,
	T_SCS,
	T_MS,
	T_EVALUATION,
	T_RULES,
	T_COUNT
};

static const char *const top_keys[T_COUNT] = {
	"version", "agent", "interfaces", "services", "levels",
	"unknown_subscribers", "non_ip", "scopes", "subscribers",
	"never_react", "inputs",
	"fanout", "scs", "ms", "evaluation", "rules",
};

static void defaults(struct policy *p)
{
	snprintf(p->agent.pin_dir, sizeof(p->agent.pin_dir),
		 "/sys/fs/bpf/xcrs");
	snprintf(p->agent.control_socket, sizeof(p->agent.control_socket),
		 "/run/xcrs/agent.sock");
	snprintf(p->agent.state_file, sizeof(p->agent.state_file),
		 "/var/lib/xcrs/state.json");
	snprintf(p->agent.audit_log, sizeof(p->agent.audit_log),
		 "/var/log/xcrs/audit.jsonl");
	snprintf(p->agent.metrics, sizeof(p->agent.metrics),
		 "127.0.0.1:9477");
	p->agent.maps.warn_at = 80;
	p->agent.maps.when_full = -1;
	p->default_level = -1;
	p->ms_idle_ns = 600ULL * 1000000000ULL;
	p->probe_interval_ns = 2ULL * 1000000000ULL;
	p->probe_attempts = 3;
	snprintf(p->scs_id, sizeof(p->scs_id), "xcrs-scs");
}

/* Checks that need every section. */
static int cross_checks(struct pctx *c, node_t *top[T_COUNT])
{
	struct policy *p = c->p;

	if (c->when_full) {
		unsigned l;
		int r = level_ref(c, c->when_full, "agent.maps.when_full", &l);

		if (r)
			return r;
		p->agent.maps.when_full = (int)l;
	}

	for (size_t i = 0; i < p->nscopes; i++)
		for (size_t j = 0; j < p->scopes[i].npools; j++)
			for (size_t k = 0; k < p->nscopes; k++)
				for (size_t l = 0; l < p->scopes[k].npools;
				     l++) {
					struct policy_prefix *a =
						&p->scopes[i].pools[j];
					struct policy_prefix *b =
						&p->scopes[k].pools[l];
					char t[ADDR_STRLEN];

					if ((i == k && j == l) ||
					    a->plen != b->plen ||
					    memcmp(&a->addr, &b->addr, 16))
						continue;
					addr_prefix_format(&a->addr, a->plen, t,
							   sizeof(t));
					return perr(c, top[T_SCOPES],
						    "scopes: pool %s appears "
						    "twice (scopes %s and %s)",
						    t, p->scopes[i].name,
						    p->scopes[k].name);
				}
	return 0;
}

static int load_doc(struct pctx *c)
{
	node_t *root = yaml_document_get_root_node(&c->doc), *top[T_COUNT];
	yaml_node_pair_t *pair;
	static int (*const sec[T_COUNT])(struct pctx *, node_t *) = {
		[T_AGENT] = sec_agent,
		[T_INTERFACES] = sec_interfaces,
		[T_SERVICES] = sec_services,
		[T_LEVELS] = sec_levels,
		[T_UNKNOWN] = sec_unknown,
		[T_NONIP] = sec_nonip,
		[T_SCOPES] = sec_scopes,
		[T_SUBSCRIBERS] = sec_subscribers,
		[T_NEVER] = sec_never,
		[T_INPUTS] = sec_inputs,
		[T_FANOUT] = sec_fanout,
		[T_SCS] = sec_scs,
		[T_MS] = sec_ms,
		[T_EVALUATION] = sec_evaluation,
		[T_RULES] = sec_rules,
	};
	unsigned long long ver;
	int r;

	memset(top, 0, sizeof(top));
	if (!root)
		return perr(c, NULL, "the file is empty");
	if (root->type != YAML_MAPPING_NODE)
		return perr(c, root, "expected a mapping of sections at the top, "
				     "found %s",
			    kind(root));
	for (pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		node_t *k = get(c, pair->key);
		const char *ks = NULL;
		int i;

		r = str(c, k, "top level", &ks);
		if (r)
			return r;
		for (i = 0; i < T_COUNT && strcmp(top_keys[i], ks); i++)
			;
		if (i == T_COUNT)
			return perr(c, k, "unknown section '%s' (expected "
					  "version, agent, interfaces, "
					  "services, levels, "
					  "unknown_subscribers, non_ip, "
					  "scopes, subscribers, never_react, "
					  "inputs, "
					  "fanout, scs, ms, evaluation, "
					  "rules)",
				    ks);
		if (top[i])
			return perr(c, k, "section '%s' given twice", ks);
		top[i] = get(c, pair->value);
	}
	if (!top[T_VERSION])
		return perr(c, root, "missing 'version: 1'");
	r = uint_range(c, top[T_VERSION], "version", 1, 1, &ver);
	if (r)
		return r;
	if (!top[T_LEVELS])
		return perr(c, root, "missing section 'levels'");
	/* In dependency order, whatever the file's order. */
	for (int i = T_AGENT; i < T_COUNT; i++) {
		if (!top[i])
			continue;
		r = sec[i](c, top[i]);
		if (r)
			return r;
	}
	return cross_checks(c, top);
}

/* Parses text as YAML and hands the document to root(); the one place a
 * YAML syntax error becomes "file:line:col: ...". */
static int load_text(const char *text, size_t len, const char *fname,
		     struct pctx *c, int (*root)(struct pctx *))
{
	yaml_parser_t parser;
	int r;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     len);
	if (!yaml_parser_load(&parser, &c->doc)) {
		struct policy_error *err = c->err;

		err->line = (unsigned)parser.problem_mark.line + 1;
		err->col = (unsigned)parser.problem_mark.column + 1;
		snprintf(err->msg, sizeof(err->msg), "%s:%u:%u: %s%s%s",
			 fname, err->line, err->col,
			 parser.problem ? parser.problem : "YAML error",
			 parser.context ? " " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	r = root(c);
	yaml_document_delete(&c->doc);
	yaml_parser_delete(&parser);
	if (r == -ENOMEM && !c->err->msg[0])
		snprintf(c->err->msg, sizeof(c->err->msg), "%s: out of memory",
			 fname);
	return r;
}

int policy_load_string(const char *text, size_t len, const char *fname,
		       struct policy **ret_policy, struct policy_error *err)
{
	struct pctx c = { .err = err };
	int r;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", fname);
	c.p = calloc(1, sizeof(*c.p));
	if (!c.p)
		return -ENOMEM;
	snprintf(c.p->file, sizeof(c.p->file), "%s", fname);
	defaults(c.p);
	r = load_text(text, len, fname, &c, load_doc);
	if (r) {
		policy_free(c.p);
		return r;
	}
	*ret_policy = c.p;
	return 0;
}

/* The whole file in a malloc'd buffer (at most 16 MiB). */
static int read_all(const char *path, char **ret, size_t *ret_len,
		    struct policy_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path);
	if (!f) {
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path,
			 strerror(-r));
		return r;
	}
	for (;;) {
		size_t n;

		if (len + 4096 > cap) {
			char *nb;

			if (cap > (16u << 20)) {
				fclose(f);
				free(buf);
				snprintf(err->msg, sizeof(err->msg),
					 "%s: larger than 16 MiB", path);
				return -EFBIG;
			}
			nb = realloc(buf, cap = cap * 2 + 8192);
			if (!nb) {
				fclose(f);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err->msg, sizeof(err->msg), "%s: read error", path);
		fclose(f);
		free(buf);
		return -EIO;
	}
	fclose(f);
	*ret = buf;
	*ret_len = len;
	return 0;
}

int policy_load(const char *path, struct policy **ret_policy,
		struct policy_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r = read_all(path, &buf, &len, err);

	if (r)
		return r;
	r = policy_load_string(buf ? buf : "", len, path, ret_policy, err);
	free(buf);
	return r;
}

/* ---- xcrs-authsrv's configuration ---- */

static int id_value(struct pctx *c, node_t *n, const char *what, char *buf)
{
	const char *s = NULL;
	int r = str(c, n, what, &s);

	if (r)
		return r;
	if (!*s || strlen(s) > AUTHSRV_ID_MAX ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789.-_") != strlen(s))
		return perr(c, n, "%s: expected a domain name (letters, digits, "
				  "'.', '-', '_'; at most %d), found '%s'",
			    what, AUTHSRV_ID_MAX, s);
	strcpy(buf, s);
	return 0;
}

static int hostport(struct pctx *c, node_t *n, const char *what, char *buf,
		    size_t len)
{
	const char *colon;
	int r = str_copy(c, n, what, buf, len);
	unsigned long port;
	char *end;

	if (r)
		return r;
	colon = strrchr(buf, ':');
	if (!colon || colon == buf)
		return perr(c, n, "%s: expected HOST:PORT, found '%s'", what,
			    buf);
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535)
		return perr(c, n, "%s: the port must be 1..65535, found '%s'",
			    what, colon + 1);
	return 0;
}

#define A_STR(fn, member, what)                                                \
	static int fn(struct pctx *c, node_t *v, void *o)                      \
	{                                                                      \
		struct authsrv_config *a = o;                                  \
		return str_copy(c, v, what, a->member, sizeof(a->member));     \
	}
#define A_DUR(fn, member, what)                                                \
	static int fn(struct pctx *c, node_t *v, void *o)                      \
	{                                                                      \
		struct authsrv_config *a = o;                                  \
		return duration_min(c, v, what, 1000000000ull, "1s",           \
				    &a->member);                               \
	}

A_STR(au_cert, certificate, "authsrv.certificate")
A_STR(au_key, private_key, "authsrv.private_key")
A_STR(au_db, database, "authsrv.database")
A_STR(au_asca, as_ca, "authsrv.as_ca")
A_STR(au_userca, user_ca, "authsrv.user_ca")
A_DUR(au_sess, session_lifetime_ns, "authsrv.session_lifetime")
A_DUR(au_chal, challenge_lifetime_ns, "authsrv.challenge_lifetime")
A_DUR(au_asl, assertion_lifetime_ns, "authsrv.assertion_lifetime")

static int au_domain(struct pctx *c, node_t *v, void *o)
{
	return id_value(c, v, "authsrv.domain",
			((struct authsrv_config *)o)->domain);
}

static int au_listen(struct pctx *c, node_t *v, void *o)
{
	struct authsrv_config *a = o;

	return hostport(c, v, "authsrv.listen", a->listen, sizeof(a->listen));
}

static int sec_authsrv(struct pctx *c, node_t *n)
{
	static const struct field f[] = {
		{ "domain", au_domain, true },
		{ "listen", au_listen, true },
		{ "certificate", au_cert, true },
		{ "private_key", au_key, true },
		{ "database", au_db, true },
		{ "as_ca", au_asca, true },
		{ "user_ca", au_userca, false },
		{ "session_lifetime", au_sess, false },
		{ "challenge_lifetime", au_chal, false },
		{ "assertion_lifetime", au_asl, false },
	};
	return walk(c, n, "authsrv", f, sizeof(f) / sizeof(f[0]), c->a);
}

static int as_id(struct pctx *c, node_t *v, void *o)
{
	return id_value(c, v, "application_servers.id",
			((struct authsrv_as *)o)->id);
}

static int as_release(struct pctx *c, node_t *v, void *o)
{
	return boolean(c, v, "application_servers.release_identity",
		       &((struct authsrv_as *)o)->release_identity);
}

static int as_realms(struct pctx *c, node_t *v, void *o)
{
	struct authsrv_as *as = o;
	node_t **it;
	size_t n;
	int r = items(c, v, &it, &n);

	if (r)
		return r;
	if (n > AUTHSRV_REALMS_MAX) {
		r = perr(c, v, "application_servers.realms: at most %d",
			 AUTHSRV_REALMS_MAX);
		n = 0;
	}
	for (size_t i = 0; !r && i < n; i++)
		r = id_value(c, it[i], "application_servers.realms",
			     as->realms[as->nrealms++]);
	items_free(it);
	return r;
}

static int as_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "id", as_id, true },
		{ "release_identity", as_release, false },
		{ "realms", as_realms, false },
	};
	struct authsrv_config *a = ctx;
	struct authsrv_as *as;
	int r;

	if (a->n_as >= AUTHSRV_AS_MAX)
		return perr(c, it, "application_servers: at most %d",
			    AUTHSRV_AS_MAX);
	as = &a->as[a->n_as++];
	r = walk(c, it, "application_servers", f, sizeof(f) / sizeof(f[0]),
		 as);
	if (r)
		return r;
	if (!as->nrealms)
		strcpy(as->realms[as->nrealms++], a->domain);
	return unique_name(c, it, "application server", a->as, sizeof(a->as[0]),
			   a->n_as);
}

static int sec_as(struct pctx *c, node_t *n)
{
	return each(c, n, "application_servers", as_one, c->a);
}

static int pe_realm(struct pctx *c, node_t *v, void *o)
{
	return id_value(c, v, "peers.realm", ((struct authsrv_peer *)o)->realm);
}

static int pe_addr(struct pctx *c, node_t *v, void *o)
{
	struct authsrv_peer *p = o;

	return hostport(c, v, "peers.address", p->address, sizeof(p->address));
}

static int pe_ca(struct pctx *c, node_t *v, void *o)
{
	struct authsrv_peer *p = o;

	return str_copy(c, v, "peers.ca", p->ca, sizeof(p->ca));
}

static int peer_one(struct pctx *c, node_t *it, void *ctx)
{
	static const struct field f[] = {
		{ "realm", pe_realm, true },
		{ "address", pe_addr, true },
		{ "ca", pe_ca, true },
	};
	struct authsrv_config *a = ctx;
	int r;

	if (a->n_peers >= AUTHSRV_PEERS_MAX)
		return perr(c, it, "peers: at most %d", AUTHSRV_PEERS_MAX);
	r = walk(c, it, "peers", f, sizeof(f) / sizeof(f[0]),
		 &a->peers[a->n_peers++]);
	if (r)
		return r;
	if (!strcmp(a->peers[a->n_peers - 1].realm, a->domain))
		return perr(c, it, "peers: realm %s is this server's own domain",
			    a->domain);
	return unique_name(c, it, "peer realm", a->peers, sizeof(a->peers[0]),
			   a->n_peers);
}

static int sec_peers(struct pctx *c, node_t *n)
{
	return each(c, n, "peers", peer_one, c->a);
}

static int load_authsrv_doc(struct pctx *c)
{
	node_t *root = yaml_document_get_root_node(&c->doc);
	node_t *sec[4] = { NULL };
	static const char *const names[4] = { "version", "authsrv",
					      "application_servers", "peers" };
	static int (*const fn[4])(struct pctx *, node_t *) = {
		NULL, sec_authsrv, sec_as, sec_peers
	};
	unsigned long long ver;
	int r;

	if (!root)
		return perr(c, NULL, "the file is empty");
	if (root->type != YAML_MAPPING_NODE)
		return perr(c, root, "expected a mapping of sections at the top, "
				     "found %s", kind(root));
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		node_t *k = get(c, p->key);
		const char *ks = NULL;
		int i;

		r = str(c, k, "top level", &ks);
		if (r)
			return r;
		for (i = 0; i < 4 && strcmp(names[i], ks); i++)
			;
		if (i == 4)
			return perr(c, k, "unknown section '%s' (expected "
					  "version, authsrv, "
					  "application_servers, peers)", ks);
		if (sec[i])
			return perr(c, k, "section '%s' given twice", ks);
		sec[i] = get(c, p->value);
	}
	if (!sec[0])
		return perr(c, root, "missing 'version: 1'");
	r = uint_range(c, sec[0], "version", 1, 1, &ver);
	if (r)
		return r;
	if (!sec[1])
		return perr(c, root, "missing section 'authsrv'");
	for (int i = 1; i < 4; i++)
		if (sec[i] && (r = fn[i](c, sec[i])))
			return r;
	return 0;
}

int authsrv_config_load_string(const char *text, size_t len,
			       const char *fname, struct authsrv_config **ret,
			       struct policy_error *err)
{
	struct pctx c = { .err = err };
	int r;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", fname);
	c.a = calloc(1, sizeof(*c.a));
	if (!c.a)
		return -ENOMEM;
	snprintf(c.a->file, sizeof(c.a->file), "%s", fname);
	c.a->session_lifetime_ns = 12ull * 3600 * 1000000000ull;
	c.a->challenge_lifetime_ns = 60ull * 1000000000ull;
	c.a->assertion_lifetime_ns = 300ull * 1000000000ull;
	r = load_text(text, len, fname, &c, load_authsrv_doc);
	if (r) {
		free(c.a);
		return r;
	}
	*ret = c.a;
	return 0;
}

int authsrv_config_load(const char *path, struct authsrv_config **ret,
			struct policy_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r = read_all(path, &buf, &len, err);

	if (r)
		return r;
	r = authsrv_config_load_string(buf ? buf : "", len, path, ret, err);
	free(buf);
	return r;
}

void authsrv_config_free(struct authsrv_config *c)
{
	free(c);
}

const struct authsrv_as *authsrv_config_as(const struct authsrv_config *c,
					   const char *id)
{
	for (size_t i = 0; i < c->n_as; i++)
		if (!strcmp(c->as[i].id, id))
			return &c->as[i];
	return NULL;
}
