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
	bool dirty;
	/* while an input is being handled: when it was read (latency), and
	 * the first dataplane refusal of its decisions */
	uint64_t t0;
	int enf_r;
	char enf_err[512];
	struct decide_report rep;
	decide_holder_fn holder;
	void *holder_ctx;
};

/* decide.c */
void decide_refused_never(struct decide *d, const struct xcrs_addr *a,
			  unsigned plen, const char *what);
void decide_observe(struct decide *d);
/* decide-prefixes.c */
int pdec_react(struct decide *d, const struct xcrs_addr *a, unsigned plen,
	       const char *level, uint64_t until, const char *why, char *err,
	       size_t errlen);
int pdec_release(struct decide *d, const struct xcrs_addr *a, unsigned plen);
/* Expired decisions end; returns how many. */
size_t pdec_expire(struct decide *d, uint64_t now);
uint64_t pdec_next_deadline(const struct decide *d);
/* Writes every decision (a level gone from the policy ends it) and removes
 * what the dataplane holds beyond them. */
void pdec_sync(struct decide *d);
int pdec_restore(struct decide *d, json_object *arr, char *err,
		 size_t errlen);

#endif
