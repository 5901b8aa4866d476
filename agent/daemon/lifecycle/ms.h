/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The MS lifecycle of the SCS (X.1125 11.1, 11.3, 11.6): MSs connect (the
 * dataplane saw their first traffic, the operator's session feed says so,
 * or their SCA reports) and leave (idle past ms.idle_timeout, or the feed
 * says so); a leaving MS's control is released. With ms.probe, a new MS
 * is probed for its SCA and held at the SCA download service (rule
 * "no-sca") after the probes go unanswered, until its SCA reports.
 * Functions return 0 or a negative errno with err.
 */
#ifndef XCRS_MS_H
#define XCRS_MS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "audit.h"
#include "decide.h"
#include "enforce.h"
#include "keys.h"
#include "msstate.h"
#include "peers.h"

struct ms;
struct loop;

struct ms_report {
	uint64_t connects, leaves;
	uint64_t session_lines, session_malformed;
	size_t connected;
};

/* Opens the probe socket and timer when the policy probes. peers may be
 * NULL (no roaming). */
int ms_new(struct loop *l, const struct policy *p, struct decide *dec,
	   struct enforce *enf, struct keys *keys, struct peers *peers,
	   struct audit *au, struct ms **ret_ms, char *err, size_t errlen);
void ms_free(struct ms *m);
void ms_set_policy(struct ms *m, const struct policy *p);
const struct ms_report *ms_report(const struct ms *m);

/* An MS is there: source "first-traffic", "feed", "report", "probe". */
void ms_connect(struct ms *m, const struct xcrs_addr *a, const char *source);
/* An MS has gone (idle, feed, moved): its state and control are released. */
void ms_leave(struct ms *m, const struct xcrs_addr *a, const char *cause);
/* The same for a session of the packet core (the subscribers log the
 * session and journal it: these log lines are debug — a core may start
 * 50 000 a second — and no audit record is written). */
void ms_session_connect(struct ms *m, const struct xcrs_addr *a,
			const char *source);
void ms_session_leave(struct ms *m, const struct xcrs_addr *a,
		      const char *cause);
/* Every few seconds: MSs idle past the policy's timeout leave. */
void ms_housekeeping(struct ms *m);
/* One line of the operator's session feed. */
void ms_feed_line(struct ms *m, const char *src, char *line, size_t len);
/* The MSs as a JSON array (xcrsctl ms). */
json_object *ms_json(const struct ms *m);
/* Discovery: the SCA answered a probe / sent a valid report (which ends a
 * hold at the SCA download service). */
void ms_probe_answered(struct ms *m, const struct xcrs_addr *a,
		       const char *sca_id, const char *sca_version);
void ms_reported(struct ms *m, const struct xcrs_addr *a, const char *sca_id);

/* For update campaigns: the connected MSs, one of them, and a datagram to
 * an SCA's probe port (one CRSAP frame without its length prefix). */
void ms_each(const struct ms *m, void (*fn)(struct ms_entry *e, void *ctx),
	     void *ctx);
const struct ms_entry *ms_get(const struct ms *m, const struct xcrs_addr *a);
/* -ENOTCONN when the policy does not probe (no socket). */
int ms_send_sca(struct ms *m, const struct xcrs_addr *a, const uint8_t *dgram,
		size_t len);

#endif
