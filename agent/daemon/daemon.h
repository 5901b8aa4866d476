/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcrs-agent's wiring: the modules main.c creates, in the order of the
 * data path, and what the two operator-facing modules at the top (the
 * control socket and /metrics) read through their interfaces. No module
 * below includes this header: each gets what it uses when it is made.
 */
#ifndef XCRS_DAEMON_H
#define XCRS_DAEMON_H

#include <stdint.h>

#include "audit.h"
#include "crsap.h"
#include "dataplane.h"
#include "decide.h"
#include "enforce.h"
#include "feeds.h"
#include "fleet.h"
#include "keys.h"
#include "lines.h"
#include "loop.h"
#include "ms.h"
#include "peers.h"
#include "policy.h"
#include "radius-input.h"
#include "reports.h"
#include "stats.h"
#include "subscribers.h"
#include "update.h"

struct control;
struct metrics;

struct daemon_report {
	uint64_t reloads, reloads_refused;
	uint64_t dataplane_errors; /* reading the event ring buffer */
	uint64_t fanout;	   /* fan-out detections read */
};

struct daemon {
	struct loop *loop;
	const char *policy_path;
	struct policy *policy;
	uint64_t started_mono;
	struct dp *dp;		/* the library: reading (stats, show, events) */
	struct audit *audit;
	struct enforce *enf;	/* the only writer of the dataplane */
	struct decide *dec;	/* every decision goes through it */
	struct keys *keys;
	struct peers *peers;
	struct ms *ms;
	struct subscribers *subs;
	struct radius_in *radius;
	struct updates *upd;
	struct lines *lines;
	struct feeds *feeds;
	struct reports *reports;
	struct control *ctl;
	struct metrics *met;
	struct fleet *fleet; /* NULL: a single node */
	struct watch sig, timer, housekeeping, state_timer, dp_events,
		deadlines, sync, recon, watchdog;
	bool running, state_save_armed;
	/* the pinned subscriber maps compared with the decisions after a
	 * start, in steps (decide_reconcile_step) */
	size_t recon_seen, recon_adopted;
	uint64_t recon_t0;
	struct daemon_report rep;
};

/* main.c: reloads the policy (SIGHUP, xcrsctl reload). A reload that would
 * end decisions (a level or scope gone without levels[].was to carry
 * them) is refused unless mode is RELOAD_RELEASE; RELOAD_DRY_RUN checks
 * everything and changes nothing. note (may be NULL) gets one line for
 * each change the reload makes or would make; *ret_warning (may be NULL)
 * says what takes effect only at a restart (or is left ""). 0, or -errno
 * with err set. */
enum daemon_reload_mode { RELOAD_APPLY, RELOAD_DRY_RUN, RELOAD_RELEASE };
int daemon_reload(struct daemon *d, enum daemon_reload_mode mode,
		  void (*note)(void *ctx, const char *line), void *ctx,
		  char *warning, size_t warnlen, char *err, size_t errlen);
/* Every counter of xcrsctl stats and /metrics, from its owner. */
void daemon_stats(const struct daemon *d, struct stats *out);

/* control.c: the control socket (one JSON request, one JSON reply). */
int control_new(struct daemon *d, struct control **ret_ctl, char *err,
		size_t errlen);
void control_free(struct control *c);
uint64_t control_requests(const struct control *c);

/* metrics.c: Prometheus /metrics on agent.metrics. */
int metrics_new(struct daemon *d, struct metrics **ret_met, char *err,
		size_t errlen);
void metrics_free(struct metrics *m);
void metrics_housekeeping(struct metrics *m);
void metrics_reap(struct metrics *m);
uint64_t metrics_scrapes(const struct metrics *m);

#endif
