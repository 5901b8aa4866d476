/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the SCS tells an SCA about its control (X.1125 11.2): the contents
 * of an SCI response, from the policy and the engine's view of the
 * terminal. Pure: no I/O.
 */
#ifndef XCRS_SCI_H
#define XCRS_SCI_H

#include "correlate.h"
#include "crsap.h"
#include "policy.h"

/* The SCI response describing terminal a's control (reported as ms, with
 * the evaluation the SCS made). */
void sci_describe(const struct policy *p, const struct corr *engine,
		  const struct xcrs_addr *a, const char *ms,
		  const char *evaluation, struct crsap_response *r);
/* The remediation description of rule j of service s. */
void sci_service_rule(const struct policy_service *s, size_t j,
		      struct crsap_remediation *m);

#endif
