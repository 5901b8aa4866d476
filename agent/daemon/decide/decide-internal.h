/* SPDX-License-Identifier: GPL-2.0-only */
/* The decision layer's own state, shared by its files (decide.c, the
 * prefix decisions in decide-prefixes.c, the state file in
 * decide-state.c). Not an interface. */
#ifndef XCRS_DECIDE_INTERNAL_H
#define XCRS_DECIDE_INTERNAL_H

#include "decide.h"

#define STATE_VERSION 1

/* A decision on a prefix. */
struct pdec {
	struct xcrs_addr a;
	unsigned plen; /* 128-bit form */
	char level[POLICY_NAME_MAX];
	uint64_t until; /* CLOCK_MONOTONIC, 0 = until released */
	char why[160];
	char origin[33]; /* the fleet's node it was made at; "": here */
};

struct decide {
	const struct policy *p;
	struct corr *corr;
	struct enforce *enf;
	struct audit *au;
	struct decide_port ports[DECIDE_PORTS_MAX];
	size_t nports;
	/* per scope of the policy: the operator's containment mode, or
	 * XCRS_CONTAIN_NONE for the policy's own */
	enum xcrs_contain_mode *scope_mode;
	struct pdec *pdecs;
	size_t npdecs;
	bool dirty; /* a snapshot is due (what the journal does not hold) */
	/* The decision journal (decide-state.c): every decision appended as
	 * it is made, before its dataplane entry; fdatasync'd in batches;
	 * folded into the state file (a snapshot) now and then. */
	int jfd;	  /* -1: none (before decide_load, or not writable) */
	uint64_t jgen;	  /* the snapshot the journal follows */
	size_t jrecords;  /* appended since that snapshot */
	bool jsync;	  /* appended since the last fdatasync */
	uint64_t jwritten; /* records appended, ever */
	struct async *syncer; /* fdatasync off the loop (one job at a time) */
	bool syncing;	  /* a job is out */
	bool jbroken;	  /* a record was lost: the next snapshot must succeed */
	int save_err;	  /* errno of the failing write, 0: all saved */
	uint64_t save_failures, save_failing_since, save_retry_ns, retry_at;
	/* while an input is being handled: when it was read (latency), and
	 * the first dataplane refusal of its decisions */
	uint64_t t0;
	int enf_r;
	char enf_err[512];
	struct decide_report rep;
	decide_holder_fn holder;
	void *holder_ctx;
	struct dp_sub_cursor recon; /* decide_reconcile_step() */
};

/* decide.c */
void decide_refused_never(struct decide *d, const struct xcrs_addr *a,
			  unsigned plen, const char *what);
void decide_observe(struct decide *d);
/* decide-state.c: journal records of a terminal's reactions, a scope's
 * containment, the prefix decisions */
void journal_terminal(struct decide *d, const struct xcrs_addr *a);
void journal_scope(struct decide *d, int scope);
void journal_prefixes(struct decide *d);
/* decide-prefixes.c */
/* origin "" : this node's operator; else the fleet node it came from.
 * told: the ports hear of it (not what came from the fleet). */
int pdec_react(struct decide *d, const struct xcrs_addr *a, unsigned plen,
	       const char *level, uint64_t until, const char *why,
	       const char *origin, bool told, char *err, size_t errlen);
int pdec_release(struct decide *d, const struct xcrs_addr *a, unsigned plen);
/* Ends a decision the fleet ended (not told to the ports). */
int pdec_release_remote(struct decide *d, const struct xcrs_addr *a,
			unsigned plen);
const struct pdec *pdec_find(const struct decide *d,
			     const struct xcrs_addr *a, unsigned plen);
/* Expired decisions end; returns how many. */
size_t pdec_expire(struct decide *d, uint64_t now);
uint64_t pdec_next_deadline(const struct decide *d);
/* Writes every decision (a level gone from the policy ends it) and removes
 * what the dataplane holds beyond them. */
void pdec_sync(struct decide *d);
int pdec_restore(struct decide *d, json_object *arr, char *err,
		 size_t errlen);

#endif
