/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Subscribers and their sessions, as the packet core says (RADIUS
 * accounting, TS 29.061 16): a subscriber is its IMSI (else its MSISDN,
 * else the User-Name), a session binds it to an IPv4 address and/or an
 * IPv6 /64, an APN, a location and the NAS that reported it.
 *
 * Decisions follow the subscriber. A reaction on any of its addresses
 * (an IDS alert, a report, the operator) becomes the subscriber's: it is
 * put on every address it holds, its IPv6 /64 as a prefix decision (any
 * interface identifier of the prefix gets the level), and kept when it
 * detaches; its next session gets it before its first packet. At Stop its
 * addresses are released, so the next holder of an address inherits
 * nothing. Addresses without a session keep the policy's behaviour.
 */
#ifndef XCRS_SUBSCRIBERS_H
#define XCRS_SUBSCRIBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "addr.h"
#include "decide.h"
#include "ms.h"

struct subscribers;
struct loop;

/* One accounting event, decoded (inputs/radius.c). */
struct sess_event {
	int status;		/* enum radius_status */
	const char *nas;	/* NAS-Identifier, else its address */
	const char *session;	/* Acct-Session-Id */
	const char *imsi, *msisdn, *imeisv, *user_name, *apn, *location;
	bool has_ipv4, has_ipv6;
	struct xcrs_addr ipv4;	 /* 128-bit form */
	struct xcrs_addr ipv6;	 /* the prefix */
	unsigned ipv6_plen;	 /* 0..128 as sent: a longer one is taken as
				  * its /64 (an IPv6 terminal is its /64) */
	uint64_t t0;		 /* when it was read (reaction latency) */
	const char *source;	 /* "radius", "session feed" (logs) */
};

struct subscribers_report {
	uint64_t starts, stops, interims, nas_resets;
	uint64_t duplicates;	/* a Start already recorded, a Stop of none */
	uint64_t followed;	/* decisions put on a new address */
	uint64_t errors;	/* decisions the dataplane refused */
	size_t sessions, subscribers;
	/* Start read -> its entries written (DECIDE_LAT_BUCKETS + +Inf) */
	uint64_t lat_hist[DECIDE_LAT_BUCKETS + 1], lat_sum_ns, lat_count;
};

/* Restores the subscribers the state file holds (decide_load read it). */
int subscribers_new(struct loop *l, const struct policy *p,
		    struct decide *dec, struct ms *ms, struct subscribers **ret,
		    char *err, size_t errlen);
void subscribers_free(struct subscribers *s);
void subscribers_set_policy(struct subscribers *s, const struct policy *p);
/* The subscribers' decisions that policy p would end (a level p neither
 * has nor carries): fn gets a line each; how many. */
size_t subscribers_reload_losses(const struct subscribers *s,
				 const struct policy *p,
				 void (*fn)(void *ctx, const char *what),
				 void *ctx);
const struct subscribers_report *subscribers_report(
	const struct subscribers *s);

/* Records an event and applies what follows from it (dataplane entries
 * included) before it returns: 0 done, 1 a duplicate (nothing changed),
 * -errno with err (nothing recorded). */
int subscribers_event(struct subscribers *s, const struct sess_event *ev,
		      char *err, size_t errlen);
/* The journal lines of the changes so far are buffered: written by this
 * (one write for a batch); call it before answering. */
void subscribers_flush(struct subscribers *s);

/* The operator on a subscriber ("imsi:…", "msisdn:…", "user:…"): its
 * decision, on every address it holds now and gets later (one not
 * attached is remembered until it attaches). -ENOENT for an unknown level;
 * for release, -ENOENT when it has no decision. */
int subscribers_react(struct subscribers *s, const char *id,
		      const char *level, uint64_t until, const char *why,
		      uint64_t t0, char *err, size_t errlen);
int subscribers_release(struct subscribers *s, const char *id, char *err,
			size_t errlen);
/* One subscriber: identities, decision, sessions; NULL if unknown. */
json_object *subscribers_show_json(const struct subscribers *s,
				   const char *id);

/* Sessions per APN (at most max APNs): how many APNs. */
struct sess_apn {
	char apn[101];
	size_t n;
};
size_t subscribers_by_apn(const struct subscribers *s, struct sess_apn *out,
			  size_t max);

/* Views (xcrsctl sessions / show). */
/* The sessions (apn NULL/"" = any; location a prefix, NULL/"" = any). */
json_object *subscribers_sessions_json(const struct subscribers *s,
				       const char *apn, const char *location);
/* The subscriber holding a (IPv4 host or inside an IPv6 /64), or NULL. */
/* xcrsctl forget: the subscriber's offence history reset (journaled).
 * How many it had, or -errno with the reason in err. */
int subscribers_forget(struct subscribers *s, const char *id, const char *by,
		       char *err, size_t errlen);
const char *subscribers_holder(const struct subscribers *s,
			       const struct xcrs_addr *a);

/* ---- the fleet (fleet.h) -------------------------------------------------- */

struct fleet;
struct fleet_decision;
/* From here on, this node's decisions and sessions go to the fleet. */
void subscribers_set_fleet(struct subscribers *s, struct fleet *f);
/* Another node's decision on a subscriber (d NULL: it ended): enforced on
 * the sessions this node holds of it, now and at its next attach here. */
void subscribers_fleet_decision(struct subscribers *s, const char *id,
				const char *node,
				const struct fleet_decision *d);
/* This node's decision on id was released on another node. */
void subscribers_fleet_own_released(struct subscribers *s, const char *id);
/* The buckets are (re)loaded: this node's keys set right. */
void subscribers_fleet_synced(struct subscribers *s, bool first);
/* Every few seconds: decisions that ended with nothing to tell of it. */
void subscribers_housekeeping(struct subscribers *s);
/* The identity key of a subscriber id (the engine's evidence). */
void subscribers_who_key(const char *id, struct xcrs_addr *k);

#endif
