/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A RADIUS accounting client for load: n Accounting-Requests (Start i:
 * session "g<i>", IMSI 00101 + i, an IPv4 address from 198.18.0.0/15 — the
 * benchmarking range, never routed — and the IPv6 prefix 2001:db8:<i>::/64)
 * to 127.0.0.1:port in namespace ns, at most window outstanding, every
 * response checked (its authenticator). For tests and xcrs-bench.
 */
#ifndef XCRS_RADGEN_H
#define XCRS_RADGEN_H

#include <stdint.h>

#include "netns.h"

struct radgen_result {
	uint64_t sent, answered, resent;
	double secs;
	/* request sent -> response received, ns, per answered request
	 * (lat[i] for request i; 0 if it never was) when lat is given */
	uint64_t *lat;
};

/* status: RADIUS_START or RADIUS_STOP. 0, or -errno. */
int radgen_run(const struct tn_ns *ns, unsigned port, const char *secret,
	       int status, uint32_t first, uint32_t n, unsigned window,
	       struct radgen_result *res);

#endif
