/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * From the policy model to the dataplane: levels, service rules, pools and
 * settings as one atomic dp_policy_apply(), then the policy's static
 * subscribers. Static subscribers that a new policy no longer lists are
 * not removed here: the agent reconciles them with its state. Returns 0 or
 * a negative errno with the message in err.
 */
#ifndef XCRS_APPLY_H
#define XCRS_APPLY_H

#include <stddef.h>

#include "dataplane.h"
#include "policy.h"

/* Fills out (arrays allocated; free with apply_build_free) from p. */
int apply_build(const struct policy *p, struct dp_policy *out);
void apply_build_free(struct dp_policy *out);

/* Applies p's tables atomically, then writes its static subscribers.
 * On a table error the running tables stay. */
int apply_policy(struct dp *dp, const struct policy *p, char *err,
		 size_t errlen);

#endif
