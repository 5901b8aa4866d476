/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * inputs.radius: the packet core's RADIUS accounting (RFC 2866; TS 29.061
 * 16) on a UDP socket. A request is taken only from a configured client
 * (by source address) and only with a right Request Authenticator (and
 * Message-Authenticator where present); the Accounting-Response goes out
 * after the subscriber layer has recorded the change and written the
 * dataplane, never when it could not. A retransmission (same client,
 * Identifier and authenticator, within 30 s) gets the same response and
 * changes nothing; a Start sent again under a new Identifier (another
 * Acct-Delay-Time) finds its session already there and changes nothing.
 */
#ifndef XCRS_RADIUS_INPUT_H
#define XCRS_RADIUS_INPUT_H

#include <json-c/json.h>

#include "subscribers.h"

struct radius_in;

enum radius_refusal {
	RAD_REF_UNKNOWN_CLIENT = 0,
	RAD_REF_MALFORMED,
	RAD_REF_AUTHENTICATOR,
	RAD_REF_MSG_AUTHENTICATOR,
	RAD_REF_NOT_RECORDED,
	RAD_REF_COUNT
};
extern const char *const radius_refusal_names[RAD_REF_COUNT];

struct radius_in_report {
	uint64_t requests, accepted, retransmissions;
	uint64_t refused[RAD_REF_COUNT];
};

/* Opens inputs.radius.listen when the policy has it (else *ret = NULL). */
int radius_in_new(struct loop *l, const struct policy *p,
		  struct subscribers *subs, struct radius_in **ret, char *err,
		  size_t errlen);
void radius_in_free(struct radius_in *r);
/* The clients and their secrets are taken on reload; the socket stays. */
void radius_in_set_policy(struct radius_in *r, const struct policy *p);
const struct radius_in_report *radius_in_report(const struct radius_in *r);

#endif
