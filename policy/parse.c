// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy document (policy/README.md): its sections read in dependency
 * order whatever the file's order, the checks that need every section, and
 * what a reload of it must redo. The sections are read by the parse-*.c
 * files, all through the YAML reader of yreader.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>

#include "addr.h"
#include "policy-internal.h"

enum top {
	T_VERSION,
	T_AGENT,
	T_INTERFACES,
	T_SERVICES,
	T_LEVELS,
	T_UNKNOWN,
	T_NONIP,
	T_UNASSIGNED,
	T_RAN,
	T_SCOPES,
	T_SUBSCRIBERS,
	T_NEVER,
	T_INPUTS,
	T_FANOUT,
	T_SCS,
	T_MS,
	T_EVALUATION,
	T_RULES,
	T_CLUSTER,
	T_COUNT
};

static const char *const top_keys[T_COUNT] = {
	"version", "agent", "interfaces", "services", "levels",
	"unknown_subscribers", "non_ip", "unassigned_source", "ran", "scopes",
	"subscribers",
	"never_react", "inputs",
	"fanout", "scs", "ms", "evaluation", "rules", "cluster",
};

/* Defaults of every key a section's schema gives one (the rest are 0). */
static void defaults(struct policy *p)
{
	ydefaults(policy_agent_fields, policy_agent_nfields, &p->agent);
	p->agent.maps.warn_at = 80;
	p->agent.maps.when_full = -1;
	p->default_level = -1;
	p->unassigned_level = -1;
	ydefaults(policy_ms_fields, policy_ms_nfields, p);
	ydefaults(policy_probe_fields, policy_probe_nfields, p);
	ydefaults(policy_scs_fields, policy_scs_nfields, p);
	ydefaults(policy_cluster_fields, policy_cluster_nfields, &p->cluster);
}

/* Checks that need every section. */
/* RAN prefix a listed again among b[0..n) (what, name: where they are). */
static int ran_listed_again(struct pctx *c, const node_t *at,
			    const struct policy_prefix *a,
			    const struct policy_prefix *b, size_t n,
			    const char *what, const char *name)
{
	char t[ADDR_STRLEN];

	for (size_t l = 0; l < n; l++) {
		if (a->plen != b[l].plen || memcmp(&a->addr, &b[l].addr, 16))
			continue;
		addr_prefix_format(&a->addr, a->plen, t, sizeof(t));
		return yerr(c, at,
			    "ran: %s is also %s %s (list it once: the RAN's "
			    "addresses are no subscribers)",
			    t, what, name);
	}
	return 0;
}

static int cross_checks(struct pctx *c, node_t *top[T_COUNT])
{
	struct policy *p = P(c);
	/* the dataplane's scope table has agent.maps.scopes slots (4096
	 * unless set), indexed by id */
	unsigned max_scopes = p->agent.maps.scopes ? p->agent.maps.scopes : 4096;

	for (size_t i = 0; i < p->nscopes; i++)
		if (p->scopes[i].id >= max_scopes)
			return yerr(c, yget(c, top[T_SCOPES]->data.sequence
						       .items.start[i]),
				    "scopes: %s has id %u, beyond the scope "
				    "table (agent.maps.scopes: %u): raise it or "
				    "take a smaller id",
				    p->scopes[i].name, p->scopes[i].id,
				    max_scopes);

	if (p->unassigned_level >= 0) {
		bool sessions = p->radius.enabled;

		for (size_t i = 0; i < p->ninputs; i++)
			sessions |= p->inputs[i].kind ==
				    POLICY_IN_SESSION_SOCKET;
		if (!sessions)
			return yerr(c, top[T_UNASSIGNED],
				    "unassigned_source: needs the packet core's "
				    "sessions (inputs.radius or "
				    "inputs.sessions) to know which pool "
				    "addresses are held");
	}
	if (c->aux) {
		unsigned l;
		int r = level_ref(c, c->aux, "agent.maps.when_full", &l);

		if (r)
			return r;
		p->agent.maps.when_full = (int)l;
	}

	/* The RAN's addresses are no subscribers: a RAN prefix that is also
	 * a never_react entry or a pool is refused. */
	for (size_t i = 0; i < p->nran; i++) {
		int r = 0;

		for (size_t k = 0; k < p->nnever && !r; k++)
			r = ran_listed_again(c, top[T_RAN], &p->ran[i],
					     p->never[k].prefixes,
					     p->never[k].nprefixes,
					     "in never_react", p->never[k].name);
		for (size_t k = 0; k < p->nscopes && !r; k++)
			r = ran_listed_again(c, top[T_RAN], &p->ran[i],
					     p->scopes[k].pools,
					     p->scopes[k].npools,
					     "a pool of scope", p->scopes[k].name);
		if (r)
			return r;
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
					return yerr(c, top[T_SCOPES],
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
		[T_UNASSIGNED] = sec_unassigned,
		[T_RAN] = sec_ran,
		[T_SCOPES] = sec_scopes,
		[T_SUBSCRIBERS] = sec_subscribers,
		[T_NEVER] = sec_never,
		[T_INPUTS] = sec_inputs,
		[T_FANOUT] = sec_fanout,
		[T_SCS] = sec_scs,
		[T_MS] = sec_ms,
		[T_EVALUATION] = sec_evaluation,
		[T_RULES] = sec_rules,
		[T_CLUSTER] = sec_cluster,
	};
	unsigned long long ver;
	int r;

	memset(top, 0, sizeof(top));
	if (!root)
		return yerr(c, NULL, "the file is empty");
	if (root->type != YAML_MAPPING_NODE)
		return yerr(c, root, "expected a mapping of sections at the top, "
				     "found %s",
			    ykind(root));
	for (pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		node_t *k = yget(c, pair->key);
		const char *ks = NULL;
		int i;

		r = ystr(c, k, "top level", &ks);
		if (r)
			return r;
		for (i = 0; i < T_COUNT && strcmp(top_keys[i], ks); i++)
			;
		if (i == T_COUNT)
			return yerr(c, k, "unknown section '%s' (expected "
					  "version, agent, interfaces, "
					  "services, levels, "
					  "unknown_subscribers, non_ip, "
					  "unassigned_source, ran, "
					  "scopes, subscribers, never_react, "
					  "inputs, "
					  "fanout, scs, ms, evaluation, "
					  "rules, cluster)",
				    ks);
		if (top[i])
			return yerr(c, k, "section '%s' given twice", ks);
		top[i] = yget(c, pair->value);
	}
	if (!top[T_VERSION])
		return yerr(c, root, "missing 'version: 1'");
	r = yuint(c, top[T_VERSION], "version", 1, 1, &ver);
	if (r)
		return r;
	if (!top[T_LEVELS])
		return yerr(c, root, "missing section 'levels'");
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

int policy_load_string(const char *text, size_t len, const char *fname,
		       struct policy **ret_policy, struct policy_error *err)
{
	struct pctx c = { .err = err };
	struct policy *p;
	int r;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", fname);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	c.model = p;
	snprintf(p->file, sizeof(p->file), "%s", fname);
	{
		unsigned char md[32];
		unsigned int mdl = 0;
		struct timespec ts;

		if (EVP_Digest(text, len, md, &mdl, EVP_sha256(), NULL) &&
		    mdl == 32)
			for (int i = 0; i < 32; i++)
				snprintf(p->sha256 + 2 * i, 3, "%02x", md[i]);
		clock_gettime(CLOCK_REALTIME, &ts);
		p->loaded_ms = (uint64_t)ts.tv_sec * 1000 +
			       (uint64_t)ts.tv_nsec / 1000000;
	}
	defaults(p);
	r = yload_text(text, len, fname, &c, load_doc);
	if (r) {
		policy_free(p);
		return r;
	}
	*ret_policy = p;
	return 0;
}

int policy_load(const char *path, struct policy **ret_policy,
		struct policy_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r = yread_file(path, &buf, &len, err);

	if (r)
		return r;
	r = policy_load_string(buf ? buf : "", len, path, ret_policy, err);
	free(buf);
	return r;
}

/* ---- reload ---- */

/* The inputs of a and b differ (kind or path of one of them). */
static bool inputs_differ(const struct policy *a, const struct policy *b)
{
	if (a->ninputs != b->ninputs)
		return true;
	for (size_t i = 0; i < a->ninputs; i++)
		if (a->inputs[i].kind != b->inputs[i].kind ||
		    strcmp(a->inputs[i].path, b->inputs[i].path))
			return true;
	return false;
}

int policy_reload_changes(const struct policy *a, const struct policy *b,
			  enum policy_reload cls, char *what, size_t len)
{
	static const struct {
		const char *section;
		const struct field *f;
		const size_t *nf;
		size_t off; /* of the section's struct in struct policy */
	} schemas[] = {
		{ "agent", policy_agent_fields, &policy_agent_nfields,
		  offsetof(struct policy, agent) },
		{ "agent.maps", policy_maps_fields, &policy_maps_nfields,
		  offsetof(struct policy, agent.maps) },
		{ "inputs.reports", policy_reports_fields,
		  &policy_reports_nfields, offsetof(struct policy, reports) },
		{ "inputs.radius", policy_radius_fields,
		  &policy_radius_nfields, offsetof(struct policy, radius) },
		{ "inputs.reports.authsrv", policy_authsrv_fields,
		  &policy_authsrv_nfields,
		  offsetof(struct policy, reports.authsrv) },
		{ "fanout", policy_fanout_fields, &policy_fanout_nfields, 0 },
		{ "ms", policy_ms_fields, &policy_ms_nfields, 0 },
		{ "ms.probe", policy_probe_fields, &policy_probe_nfields, 0 },
		{ "scs", policy_scs_fields, &policy_scs_nfields, 0 },
		{ "cluster", policy_cluster_fields, &policy_cluster_nfields,
		  offsetof(struct policy, cluster) },
	};

	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
		const char *k = ychanged(schemas[i].f, *schemas[i].nf,
					 (const char *)a + schemas[i].off,
					 (const char *)b + schemas[i].off, cls);

		if (k) {
			snprintf(what, len, "%s.%s", schemas[i].section, k);
			return 1;
		}
	}
	/* reports on or off, and the event inputs, open at start */
	if (cls == POLICY_RELOAD_AT_RESTART &&
	    (a->reports.enabled != b->reports.enabled ||
	     inputs_differ(a, b))) {
		snprintf(what, len, "inputs");
		return 1;
	}
	return 0;
}
