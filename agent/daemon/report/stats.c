// SPDX-License-Identifier: GPL-2.0-only
/* The names of the agent's counters (see stats.h). */
#include "stats.h"

const char *stats_name(enum stat_counter c)
{
	static const char *const names[C_MAX] = {
		[C_REPORTS_OK] = "reports_accepted",
		[C_REPORTS_REFUSED] = "reports_refused",
		[C_TLS_FAILED] = "tls_handshakes_failed",
		[C_EVE_LINES] = "eve_lines",
		[C_EVE_ALERTS] = "alerts",
		[C_EVENTS_LINES] = "event_lines",
		[C_INPUT_MALFORMED] = "input_malformed",
		[C_INPUT_NOT_SUBSCRIBER] = "alerts_not_subscriber",
		[C_INPUT_OVERLONG] = "input_overlong",
		[C_FANOUT] = "fanout_detections",
		[C_DECISIONS] = "decisions",
		[C_NOTICES_SENT] = "notices_sent",
		[C_CONTROL_REQUESTS] = "control_requests",
		[C_RELOADS] = "reloads",
		[C_RELOADS_FAILED] = "reloads_refused",
		[C_DATAPLANE_ERRORS] = "dataplane_errors",
		[C_MS_CONNECTS] = "ms_connects",
		[C_MS_LEAVES] = "ms_leaves",
		[C_SESSIONS_LINES] = "session_lines",
		[C_REACTIONS] = "reactions",
		[C_RELEASES] = "releases",
		[C_CONTAINS] = "scope_containments",
		[C_UNCONTAINS] = "scope_releases",
		[C_METRICS_SCRAPES] = "metrics_scrapes",
		[C_NEVER_REFUSED] = "never_react_refused",
		[C_RADIUS_REQUESTS] = "radius_requests",
		[C_RADIUS_ACCEPTED] = "radius_accepted",
		[C_RADIUS_RETRANSMISSIONS] = "radius_retransmissions",
		[C_RADIUS_REFUSED] = "radius_refused",
		[C_SESSION_STARTS] = "session_starts",
		[C_SESSION_STOPS] = "session_stops",
		[C_SESSION_DUPLICATES] = "session_duplicates",
		[C_DECISIONS_FOLLOWED] = "decisions_followed",
	};

	return (unsigned)c < C_MAX ? names[c] : "?";
}
