/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy reader's files (parse.c: the document; parse-agent.c,
 * parse-services.c, parse-scopes.c, parse-inputs.c, parse-rules.c: the
 * sections) share these: the model being built, the section readers, the
 * name lookups sections make of each other, and the schemas of the
 * sections whose keys are fixed (for defaults and reloads). Not an
 * interface.
 */
#ifndef XCRS_POLICY_INTERNAL_H
#define XCRS_POLICY_INTERNAL_H

#include "policy.h"
#include "yreader.h"

#define P(c) ((struct policy *)(c)->model)

/* Sections, in the order they are read. */
int sec_agent(struct pctx *c, node_t *n);
int sec_interfaces(struct pctx *c, node_t *n);
int sec_services(struct pctx *c, node_t *n);
int sec_levels(struct pctx *c, node_t *n);
int sec_unknown(struct pctx *c, node_t *n);
int sec_nonip(struct pctx *c, node_t *n);
int sec_unassigned(struct pctx *c, node_t *n);
int sec_ran(struct pctx *c, node_t *n);
int sec_scopes(struct pctx *c, node_t *n);
int sec_subscribers(struct pctx *c, node_t *n);
int sec_never(struct pctx *c, node_t *n);
int sec_inputs(struct pctx *c, node_t *n);
int sec_fanout(struct pctx *c, node_t *n);
int sec_scs(struct pctx *c, node_t *n);
int sec_ms(struct pctx *c, node_t *n);
int sec_evaluation(struct pctx *c, node_t *n);
int sec_rules(struct pctx *c, node_t *n);
int sec_cluster(struct pctx *c, node_t *n);

/* parse-services.c: names of the sections read before. */
int service_index(const struct policy *p, const char *s);
int service_set(struct pctx *c, node_t *n, const char *what,
		bool allow_all, uint64_t *ret);
int level_ref(struct pctx *c, node_t *n, const char *what, unsigned *ret);

/* The schemas of the sections with fixed keys. */
extern const struct field policy_agent_fields[], policy_maps_fields[],
	policy_reports_fields[], policy_authsrv_fields[],
	policy_fanout_fields[], policy_ms_fields[], policy_probe_fields[],
	policy_scs_fields[], policy_radius_fields[], policy_cluster_fields[];
extern const size_t policy_agent_nfields, policy_maps_nfields,
	policy_reports_nfields, policy_authsrv_nfields, policy_fanout_nfields,
	policy_ms_nfields, policy_probe_nfields, policy_scs_nfields,
	policy_radius_nfields, policy_cluster_nfields;

#endif
