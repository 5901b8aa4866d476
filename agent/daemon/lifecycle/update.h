/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Large-scale updating (X.1125 12.1): when a rule with `update` contains a
 * scope, every connected MS of the scope whose SCA is known is instructed
 * to update, each with its own delay spread over the rule's window; a
 * later report saying "update: done" counts as compliance.
 */
#ifndef XCRS_UPDATE_H
#define XCRS_UPDATE_H

#include <json-c/json.h>

#include "audit.h"
#include "crsap.h"
#include "decide.h"
#include "keys.h"
#include "ms.h"

struct updates;

/* dec: whose engine says which scope an MS is in (its session's, else its
 * pool's). */
int updates_new(const struct policy *p, const struct decide *dec,
		struct ms *m, struct keys *keys, struct audit *au,
		struct updates **ret_updates);
void updates_free(struct updates *u);
void updates_set_policy(struct updates *u, const struct policy *p);
/* A scope was contained by rule: if the rule asks for updates, instruct
 * the scope's connected MSs, staggered over its window. */
void update_start(struct updates *u, const char *rule, int scope);
/* The same as a decision layer port (ctx: the updates). */
void updates_scope_contained(void *ctx, const char *rule, int scope);
/* A report of MS a: counts as compliance when it says the update is done. */
void update_report(struct updates *u, const struct xcrs_addr *a,
		   const struct crsap_report *r);
json_object *updates_json(const struct updates *u);

#endif
