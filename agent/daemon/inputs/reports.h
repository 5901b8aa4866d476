/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The report listener (inputs.reports): terminals' SCAs report over TLS
 * 1.3 in CRSAP frames (X.1125 Annex A), MAC'd with their key (key file, or
 * X.1124 keys from authsrv for B-TID terminals); each report is evaluated
 * (evaluate.h), goes to the decision layer, and gets an SCI response.
 * Decisions about a terminal reach its open connections as notices. Peer
 * SCSs ask about roaming MSs on the same listener.
 */
#ifndef XCRS_REPORTS_H
#define XCRS_REPORTS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "crsap.h"
#include "decide.h"
#include "keys.h"
#include "ms.h"
#include "subscribers.h"
#include "peers.h"
#include "update.h"

struct reports;
struct loop;

struct reports_report {
	uint64_t accepted, refused, tls_failed, notices;
	uint64_t refused_by[CRSAP_VERDICT_MAX];
	/* connections refused (their source's share taken, or every slot
	 * authenticated), closed to make room, closed at a deadline, closed
	 * for want of buffer budget */
	uint64_t limited, evicted, timed_out, over_budget;
	size_t connections;
};

/* Listens when the policy's reports are on (else a listener that holds
 * nothing). */
/* subs (may be NULL): a report whose key names a subscriber other than
 * the one whose session holds the terminal's address is refused
 * (subscriber-mismatch). */
int reports_new(struct loop *l, const struct policy *p, struct decide *dec,
		struct keys *keys, struct ms *m, struct subscribers *subs,
		struct updates *up, struct peers *peers,
		struct reports **ret_reports, char *err, size_t errlen);
void reports_free(struct reports *r);
void reports_set_policy(struct reports *r, const struct policy *p);
const struct reports_report *reports_report(const struct reports *r);
/* The decision layer's port: a terminal's control changed. Sends a notice
 * to each of its open connections (not while its own report is being
 * answered: the answer says it). */
void reports_terminal_changed(void *ctx, const struct xcrs_addr *a);
/* Frees what closed (the deadlines have their own timer). */
void reports_housekeeping(struct reports *r);
/* Frees the connections closed since the last call. */
void reports_reap(struct reports *r);
/* Loads cert/key into a new SSL_CTX (for --check and reload). */
SSL_CTX *reports_tls_ctx(const struct policy_reports *rp, char *err,
			 size_t errlen);

#endif
