/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fixture runner for the XDP program: runs a frame through the real
 * compiled program with BPF_PROG_TEST_RUN and reports the verdict and which
 * statistics slot moved; plus the reference policy the bpf and netns suites
 * share. Functions return 0 or a negative errno.
 */
#ifndef XCRS_XDPTEST_H
#define XCRS_XDPTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"

/* Reference policy levels. */
enum {
	L_NORMAL = 0,	/* everything, not reacted */
	L_MONITORED,	/* everything, reacted (fail closed, counted) */
	L_RESTRICTED,	/* dns, remediation, web */
	L_QUARANTINED,	/* dns, remediation */
	L_BLOCKED,	/* nothing */
	L_THROTTLED,	/* everything at 1000 B/s, burst 3000 B */
	L_COUNT
};

/* Reference service classes. */
enum { SVC_DNS = 0, SVC_REMEDIATION = 1, SVC_WEB = 2 };

/* Reference addresses (documentation ranges only). */
#define XT_DNS4	   "198.51.100.53"
#define XT_DNS6	   "2001:db8:53::53"
#define XT_REMED4  "198.51.100.80"
#define XT_REMED6  "2001:db8:80::80"
#define XT_WEB4	   "203.0.113.10"
#define XT_WEB6	   "2001:db8:cafe::10"
#define XT_OTHER4  "198.51.100.99"
#define XT_OTHER6  "2001:db8:99::99"
#define XT_GNB4	   "198.51.100.250"
#define XT_UPF4	   "198.51.100.1"
/* Host subscriber of level L: 192.0.2.(10+L) / 2001:db8:1::(10+L hex). */
#define XT_POOL4   "192.0.2.128/25" /* scope 7 */
#define XT_POOL6   "2001:db8:2::/48" /* scope 7 */
#define XT_POOL4B  "192.0.2.64/26"  /* scope 8 */
#define XT_SCOPE_A 7
#define XT_SCOPE_B 8

/* Fills p with the reference policy (caller frees nothing: static data).
 * default_level is the level of unknown subscribers (or XCRS_LEVEL_PASS). */
void xt_policy(struct dp_policy *p, uint8_t default_level);
/* One more RAN prefix (the tunnel endpoints GTP-U is taken from) in a
 * policy xt_policy() made. */
void xt_policy_add_ran(struct dp_policy *p, const char *prefix);
/* Text address of the reference host subscriber with level l. */
const char *xt_sub_addr(int family, int level);
/* Adds the reference host subscribers (one per level, both families). */
int xt_add_subs(struct dp *dp);
/* dp_open without pinning, small maps, reference policy applied, hosts
 * added. */
int xt_open(struct dp **ret_dp, uint8_t default_level);

struct xt_result {
	uint32_t xdp;	/* XDP_PASS / XDP_DROP / ... */
	int action;	/* the stats slot that moved: action, reason */
	int reason;	/* -1 if no single slot moved by one packet */
	uint64_t bytes; /* bytes counted in that slot */
};

int xt_run(struct dp *dp, int role, bool gtpu, const uint8_t *pkt, size_t len,
	   struct xt_result *ret);

#endif
