/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The security status an SCA reports (X.1125 Annex A, sciReport status):
 * a CRSAP wire value, which the policy's rules match and its evaluation
 * entries produce. Header only: the policy library uses it without the
 * CRSAP codec. Values are fixed (state and audit records name them).
 */
#ifndef XCRS_CRSAP_STATUS_H
#define XCRS_CRSAP_STATUS_H

#include <errno.h>
#include <string.h>

enum crsap_status {
	CRSAP_STATUS_CLEAN = 0,
	CRSAP_STATUS_OUTDATED = 1,
	CRSAP_STATUS_INFECTED = 2,
	CRSAP_STATUS_MAX = 3
};

/* "clean", "outdated", "infected", or "?". */
static inline const char *crsap_status_name(enum crsap_status s)
{
	static const char *const names[CRSAP_STATUS_MAX] = {
		[CRSAP_STATUS_CLEAN] = "clean",
		[CRSAP_STATUS_OUTDATED] = "outdated",
		[CRSAP_STATUS_INFECTED] = "infected",
	};

	return (unsigned)s < CRSAP_STATUS_MAX ? names[s] : "?";
}

/* The status named s, or -EINVAL. */
static inline int crsap_status_parse(const char *s)
{
	for (int i = 0; i < CRSAP_STATUS_MAX; i++)
		if (!strcmp(s, crsap_status_name((enum crsap_status)i)))
			return i;
	return -EINVAL;
}

#endif
