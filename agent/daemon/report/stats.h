/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's counters as xcrsctl stats and /metrics name them. Each is
 * kept by the module that counts it (in its report struct); main.c gathers
 * them into a struct stats (daemon_stats) for the two readers.
 */
#ifndef XCRS_STATS_H
#define XCRS_STATS_H

#include <stdint.h>

#include "crsap.h"

enum stat_counter {
	C_REPORTS_OK,
	C_REPORTS_REFUSED, /* + per verdict in refused_by */
	C_TLS_FAILED,
	C_EVE_LINES,
	C_EVE_ALERTS,
	C_EVENTS_LINES,
	C_INPUT_MALFORMED,
	C_INPUT_NOT_SUBSCRIBER,
	C_INPUT_OVERLONG,
	C_FANOUT,
	C_DECISIONS,
	C_NOTICES_SENT,
	C_CONTROL_REQUESTS,
	C_RELOADS,
	C_RELOADS_FAILED,
	C_DATAPLANE_ERRORS,
	C_MS_CONNECTS,
	C_MS_LEAVES,
	C_SESSIONS_LINES,
	C_REACTIONS,	/* terminal set to a new effective level */
	C_RELEASES,	/* terminal released */
	C_CONTAINS,
	C_UNCONTAINS,
	C_METRICS_SCRAPES,
	C_NEVER_REFUSED, /* decisions refused: terminal on never_react */
	C_RADIUS_REQUESTS,
	C_RADIUS_ACCEPTED,
	C_RADIUS_RETRANSMISSIONS,
	C_RADIUS_REFUSED, /* + per reason in radius_refused_by */
	C_SESSION_STARTS,
	C_SESSION_STOPS,
	C_SESSION_DUPLICATES,
	C_DECISIONS_FOLLOWED, /* a subscriber's decision put on an address */
	C_MAX
};

struct stats {
	uint64_t c[C_MAX];
	uint64_t refused_by[CRSAP_VERDICT_MAX];
	uint64_t radius_refused_by[8]; /* enum radius_refusal */
};

/* The name in xcrsctl stats ("reports_accepted", ...). */
const char *stats_name(enum stat_counter c);

#endif
