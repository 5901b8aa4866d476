/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The decision layer: the only consumer of the correlation engine's
 * decisions and the only way to make one. Events (reports, alerts,
 * detections), the operator's commands (on hosts, prefixes and scopes) and
 * the MS lifecycle's reactions (no SCA, handed over, gone) all come in here;
 * never_react is checked here, once; every decision is enforced
 * (enforce.h), audited, counted, kept for the state file, and passed to the
 * consumers registered as ports (reaction notices to terminals, update
 * campaigns). A refused dataplane write comes back to the caller as an
 * error with its message.
 *
 * Time comes in with every call ("now", CLOCK_MONOTONIC ns: one per loop
 * wake-up). Functions return 0 (or a count) or a negative errno; where they
 * take err, it says why in words an operator reads.
 */
#ifndef XCRS_DECIDE_H
#define XCRS_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "audit.h"
#include "correlate.h"
#include "enforce.h"
#include "policy.h"

struct decide;

/* Consumers of decisions, registered at start (at most DECIDE_PORTS_MAX). */
struct decide_port {
	/* A terminal's control changed (new level, or released). */
	void (*terminal_changed)(void *ctx, const struct xcrs_addr *a);
	/* A rule contained a scope (update campaigns). */
	void (*scope_contained)(void *ctx, const char *rule, int scope);
	/* A scope's containment began or ended (the decision as the engine
	 * made it: rule, until, why; the fleet). */
	void (*scope_changed)(void *ctx, const struct corr_decision *dc);
	/* An event was taken (not refused), of a terminal in scope (index,
	 * -1: none) held by subscriber who ("" : no session). */
	void (*ingested)(void *ctx, const struct corr_event *ev, int scope,
			 const char *who);
	/* A decision on a prefix made here (level NULL: it ended: by the
	 * operator, or its expiry), or a decision of another node released
	 * here by the operator (the fleet). until: CLOCK_MONOTONIC. */
	void (*prefix_changed)(void *ctx, const struct xcrs_addr *a,
			       unsigned plen, const char *level,
			       uint64_t until, const char *why,
			       bool by_operator);
	void *ctx;
};
#define DECIDE_PORTS_MAX 4

/* Reaction latency histogram: upper bounds of the buckets (ns), then
 * +Inf. */
#define DECIDE_LAT_BUCKETS 12
extern const uint64_t decide_lat_bounds_ns[DECIDE_LAT_BUCKETS];
/* Adds now - t0 to a latency histogram over decide_lat_bounds_ns (its
 * last bucket is +Inf); t0 0: nothing to add. */
void decide_lat_observe(uint64_t t0, uint64_t hist[DECIDE_LAT_BUCKETS + 1],
			uint64_t *sum_ns, uint64_t *count);

/* What metrics and xcrsctl stats read. */
struct decide_report {
	uint64_t decisions;	 /* every change the engine made */
	uint64_t reactions;	 /* terminal (or prefix) to a new level */
	uint64_t releases;	 /* terminal (or prefix) released */
	uint64_t contains, uncontains;
	uint64_t never_refused;	 /* refused: on never_react */
	/* input read -> dataplane entry written */
	uint64_t lat_hist[DECIDE_LAT_BUCKETS + 1], lat_sum_ns, lat_count;
	size_t prefixes;	 /* decisions on prefixes in force */
};

/* Who holds an address: the subscribers' sessions (lifecycle), registered
 * once. Through it the engine counts evidence per subscriber and finds a
 * session's scope, enforcement writes a held address's entry with its
 * session's scope and level, and audit records name the subscriber. */
struct decide_hold {
	struct corr_holder corr; /* identity key, session scope (index) */
	int base_level;		 /* its level without a decision, -1: none */
	bool by_prefix;		 /* held through its session's /64 */
	char id[48];		 /* "imsi:…" */
};
typedef bool (*decide_holder_fn)(void *ctx, const struct policy *p,
				 const struct xcrs_addr *a,
				 struct decide_hold *ret);

int decide_new(const struct policy *p, struct enforce *enf,
	       struct audit *au, struct decide **ret_decide);
void decide_free(struct decide *d);
int decide_add_port(struct decide *d, const struct decide_port *port);
const struct decide_report *decide_report(const struct decide *d);
/* The engine, for reading (terminals, scopes, views). */
const struct corr *decide_engine(const struct decide *d);
/* The containment mode of a scope (the operator's, else the policy's). */
enum xcrs_contain_mode decide_scope_mode(const struct decide *d, int scope);
/* Whether a has a reaction. */
bool decide_reacted(const struct decide *d, const struct xcrs_addr *a);

/* ---- policy ---------------------------------------------------------- */

/* Start: the policy's tables and static subscribers, then every decision
 * restored from the state file. */
int decide_apply(struct decide *d, char *err, size_t errlen);
/* Reload: moves every decision to np (reactions keep their level by name;
 * those whose level is gone end) and enforces it; on failure everything
 * stays on the old policy and err says why. np must outlive d. */
int decide_set_policy(struct decide *d, const struct policy *np,
		      uint64_t now, char *err, size_t errlen);

/* ---- events ----------------------------------------------------------- */

/* One event at now; t0 (0: none) is when its input was read, for the
 * reaction latency. Returns the number of decisions; -EPERM (refused,
 * logged, audited, counted) for a terminal on never_react. */
int decide_ingest(struct decide *d, const struct corr_event *ev,
		  uint64_t now, uint64_t t0);
/* An event of another node of the fleet (corr_ingest_remote): it counts
 * towards outbreaks of scope (index). at: when it was ingested there
 * (CLOCK_MONOTONIC here). */
int decide_remote_event(struct decide *d, const struct corr_event *ev,
			int scope, const struct xcrs_addr *who, uint64_t at,
			uint64_t now);
/* Ends what is due at now (reactions, containments, prefix decisions). */
void decide_tick(struct decide *d, uint64_t now);
/* The earliest time something is due, or 0. */
uint64_t decide_next_deadline(const struct decide *d);
/* Every few seconds: prefix decisions that expired; reactions without an
 * entry written again (enforce.h). */
void decide_housekeeping(struct decide *d, uint64_t now);

/* ---- the operator ------------------------------------------------------ */

/* A reaction (plen 128: a host; shorter: a prefix, in the 128-bit form),
 * until `until` (0: until released). by names the caller for the audit log.
 * -EPERM on never_react, -ENOENT for an unknown level, or the dataplane's
 * error (the reaction is kept and retried: err says so). */
int decide_react(struct decide *d, const struct xcrs_addr *a, unsigned plen,
		 const char *level, uint64_t until, const char *why,
		 const char *by, uint64_t t0, uint64_t now, char *err,
		 size_t errlen);
/* Ends every reaction of a host, or the decision on exactly that prefix.
 * -ENOENT if there is none. */
int decide_release(struct decide *d, const struct xcrs_addr *a,
		   unsigned plen, const char *by, uint64_t now, char *err,
		   size_t errlen);
/* Contains a scope with mode (XCRS_CONTAIN_NONE: the policy's). */
int decide_contain(struct decide *d, int scope, enum xcrs_contain_mode mode,
		   uint64_t until, const char *reason, const char *by,
		   uint64_t now, char *err, size_t errlen);
/* Another node's containment of a scope under its rule's name (the
 * fleet's record), with the policy's mode. */
int decide_contain_rule(struct decide *d, int scope, uint64_t until,
			const char *rule, const char *why, uint64_t now);
/* -ENOENT if the scope is not contained. */
int decide_uncontain(struct decide *d, int scope, const char *by,
		     uint64_t now, char *err, size_t errlen);

/* ---- the MS lifecycle ---------------------------------------------------- */

/* A reaction under a rule name of its own ("no-sca", "handover"); -EPERM
 * on never_react. */
int decide_react_rule(struct decide *d, const struct xcrs_addr *a,
		      const char *rule, unsigned level, uint64_t until,
		      bool release_on_clean, const char *why, uint64_t now);
/* -ENOENT if a has no reaction under rule. */
int decide_release_rule(struct decide *d, const struct xcrs_addr *a,
			const char *rule, const char *why, uint64_t now);
/* The MS left: every reaction ends. -ENOENT if it had none. */
int decide_release_all(struct decide *d, const struct xcrs_addr *a,
		       uint64_t now);

/* ---- sessions (the subscribers) ------------------------------------------ */

void decide_set_holder(struct decide *d, decide_holder_fn fn, void *ctx);
/* A batch of session changes: enforce.h, enf_batch. */
void decide_batch(struct decide *d, bool on);
/* a's holder changed (its session started, moved or ended): its entry
 * again, from its reaction, else its base (enforce.h). */
int decide_rebind(struct decide *d, const struct xcrs_addr *a);
/* An IPv6 session's /64 (interface identifier 0) and scope (index, -1:
 * the pools'): level until `until` (0: for good; -1: no decision), then
 * base (-1: none); no decision and no base: no entry. -EPERM when the
 * prefix overlaps never_react (refused, audited). by (the subscriber) and
 * why go to the audit log when the decision is new. */
int decide_prefix64(struct decide *d, const struct xcrs_addr *prefix,
		    int scope, int level, uint64_t until, int base,
		    const char *by, const char *why, bool audit);
int decide_prefix64_end(struct decide *d, const struct xcrs_addr *prefix);
/* The escalation history of an identity key (CLOCK_MONOTONIC ns, oldest
 * first), and restoring it. */
/* The operator's reset of an escalation history (xcrsctl forget): the
 * next rule reaction of who (an address, or a subscriber's identity key)
 * counts as its first. what names it in the log and the audit, by is the
 * caller. Returns how many offences it had, or -errno. */
int decide_forget(struct decide *d, const struct xcrs_addr *who,
		  const char *what, const char *by);
size_t decide_offences(const struct decide *d, const struct xcrs_addr *who,
		       uint64_t *out, size_t max);
int decide_set_offences(struct decide *d, const struct xcrs_addr *who,
			const uint64_t *in, size_t n);

/* ---- the state file (decide-state.c) ------------------------------------- */

/*
 * Decisions are appended to a journal (<state_file>.journal) as they are
 * made, before their dataplane entries, so a restarted agent (also after
 * kill -9) knows every decision it made; decide_flush() makes them durable
 * in batches (fdatasync) and folds them into the state file now and then
 * (temporary file, fsync, rename; the journal starts again after it).
 */
/* Whether something is not durable yet (decide_flush is due). */
bool decide_dirty(const struct decide *d);
void decide_mark_dirty(struct decide *d);
/* Writes the state file and starts a new journal. */
int decide_save(struct decide *d);
/* Makes what was decided durable: fdatasync of the journal, or a new state
 * file when one is due (the journal is long, a record was lost, the policy
 * changed). 0, or -errno: nothing is lost from memory, decisions stay in
 * force; call again after decide_retry_ns(). */
int decide_flush(struct decide *d);
/* The journal's fdatasync runs on a worker thread: the loop watches this
 * descriptor (-1: none) and calls decide_sync_done() when it is readable. */
int decide_sync_fd(const struct decide *d);
void decide_sync_done(struct decide *d);
/* After a failed flush: when to try again (backoff 100 ms .. 10 s). */
uint64_t decide_retry_ns(const struct decide *d);
/* 0 if every decision is saved, else the errno of the failing write. */
int decide_save_error(const struct decide *d);
/* Failed writes of the state file or journal so far. */
uint64_t decide_save_failures(const struct decide *d);
/* After a start on reused pins (once every module has restored its
 * state): a host entry in the dataplane that holds a terminal above the
 * level the policy gives it, with no decision behind it, no session and no
 * static subscriber (a decision that was never saved, then a crash), is
 * adopted as a decision of the rule "recovered" with the entry's level and
 * end: known, shown and releasable, not left enforced unseen. The walk
 * goes in steps, between which the loop runs (10M entries take seconds;
 * what it has not reached yet is enforced all the same): each call visits
 * at most max entries and adopts what they hold, adding the count to
 * *ret_adopted. Returns how many entries it visited, 0 when the walk is
 * over, or -errno. */
int decide_reconcile_step(struct decide *d, uint64_t now, size_t max,
			  size_t *ret_adopted);

/* What moving to policy np would end, as the running state has it: every
 * reaction whose level np neither has nor carries (levels[].was), every
 * decision on a prefix likewise, every containment of a scope np does not
 * have. fn gets one line of text each; returns how many. */
typedef void (*decide_loss_fn)(void *ctx, const char *what);
/* The longest decision on a prefix holding a: 1 (its prefix in buf, its
 * level and end), or 0 if none. */
int decide_prefix_covering(const struct decide *d, const struct xcrs_addr *a,
			   char *buf, size_t len, const char **ret_level,
			   uint64_t *ret_until);
size_t decide_reload_losses(const struct decide *d, const struct policy *np,
			    decide_loss_fn fn, void *ctx);
/* Restores the state file, then what the journal holds after it (before
 * decide_apply), and opens the journal. A file that cannot be read stops
 * the start: starting without it would fail open. */
int decide_load(struct decide *d, char *err, size_t errlen);

/* ---- views --------------------------------------------------------------- */

/* Another node's decision on a prefix (the fleet), made or changed:
 * enforced here as its own (never_react refuses it: -EPERM; a level this
 * policy lacks: -ENOENT), not told to the ports. The same decision again
 * changes nothing. */
int decide_remote_prefix(struct decide *d, const struct xcrs_addr *a,
			 unsigned plen, const char *level, uint64_t until,
			 const char *why, const char *node, char *err,
			 size_t errlen);
/* The fleet ended the decision on exactly this prefix (-ENOENT: none). */
int decide_remote_prefix_end(struct decide *d, const struct xcrs_addr *a,
			     unsigned plen);
/* Every decision on a prefix; node "" : made here. */
void decide_each_prefix(struct decide *d,
			void (*fn)(void *ctx, const struct xcrs_addr *a,
				   unsigned plen, const char *level,
				   uint64_t until, const char *why,
				   const char *node),
			void *ctx);

/* The decisions on prefixes: for xcrsctl (until as RFC 3339) or the state
 * file (until_ms). */
json_object *decide_prefixes_json(const struct decide *d, bool for_state);

#endif
