// SPDX-License-Identifier: GPL-2.0-only
/* The security evaluation policy (see evaluate.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "evaluate.h"

uint64_t sci_date_ms(const char *s)
{
	struct tm tm = { 0 };
	int y, m, d;
	time_t t;

	if (strlen(s) < 10 || !isdigit((unsigned char)s[0]) || s[4] != '-' ||
	    s[7] != '-' || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 ||
	    y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	if (t < 0 || tm.tm_mday != d) /* 2026-02-31 normalised away */
		return 0;
	return (uint64_t)t * 1000;
}

/* A date older than age at now; an absent or unreadable date counts as
 * older (what the terminal cannot show is not trusted). */
static int older(const char *date, uint64_t age_ns, uint64_t now_ms)
{
	uint64_t t = sci_date_ms(date), age_ms = age_ns / 1000000;

	return !t || (now_ms > t && now_ms - t > age_ms);
}

static int holds(const struct policy_eval *e, const struct crsap_report *r,
		 uint64_t now_ms)
{
	if (e->threat_severity_max) {
		int any = 0;

		for (size_t i = 0; i < r->nthreats; i++)
			any |= r->threats[i].severity <= e->threat_severity_max;
		if (!any)
			return 0;
	}
	if (e->signatures_older_ns &&
	    !older(r->av_signatures, e->signatures_older_ns, now_ms))
		return 0;
	if (e->patch_older_ns &&
	    !older(r->patch_level, e->patch_older_ns, now_ms))
		return 0;
	return 1;
}

enum crsap_status sci_evaluate(const struct policy *p,
				       const struct crsap_report *r,
				       uint64_t now_ms, const char **by)
{
	enum crsap_status st = r->status;

	*by = NULL;
	for (size_t i = 0; i < p->nevals; i++) {
		const struct policy_eval *e = &p->evals[i];

		if (e->result > st && holds(e, r, now_ms)) {
			st = e->result;
			*by = e->name;
		}
	}
	return st;
}
