/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The security evaluation policy (X.1125 clause 8, 11.2): an SCI report's
 * evaluation is its reported status, raised (clean < outdated < infected,
 * never lowered) by every entry of the policy's `evaluation` section whose
 * conditions all hold. Pure: the caller passes the clock.
 */
#ifndef XCRS_EVALUATE_H
#define XCRS_EVALUATE_H

#include <stdint.h>

#include "crsap.h"
#include "policy.h"

/* *by is the name of the entry that decided, or NULL (the report's own
 * status). */
enum crsap_status sci_evaluate(const struct policy *p,
				       const struct crsap_report *r,
				       uint64_t now_ms, const char **by);

/* "YYYY-MM-DD" (anything after the date is ignored) as Unix ms at 00:00
 * UTC; 0 if it is not such a date. */
uint64_t sci_date_ms(const char *s);

#endif
