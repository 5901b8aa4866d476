/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Terminal keys from xcrs-authsrv (X.1124): the agent is an application
 * server. A report whose terminal id is a B-TID the agent has no key for
 * is parked while the async worker (common/async.h) asks authsrv (mutual
 * TLS, the agent's AS certificate) for Ks_AS; the answer comes back to the
 * event loop through one fd, and the key is cached until the session
 * expires. The loop never blocks on authsrv.
 */
#ifndef XCRS_GBAKEYS_H
#define XCRS_GBAKEYS_H

#include <stdbool.h>

#include "crsap.h"

struct gbakeys;
struct loop;
struct policy_authsrv;

/* A key fetch ended: ok says whether the key is cached now. */
typedef void (*gbakeys_ready_fn)(void *ctx, const char *id, bool ok);

/* Starts the worker for authsrv a. ready is called on the loop for every
 * fetch that ends. */
int gbakeys_open(struct loop *l, const struct policy_authsrv *a,
		 gbakeys_ready_fn ready, void *ctx, struct gbakeys **ret,
		 char *err, size_t errlen);
/* g may be NULL. */
void gbakeys_close(struct gbakeys *g);
/* Whether id has the form of a B-TID (base64 RAND "@" realm). */
bool gbakeys_is_btid(const char *id);
/* The cached, unexpired key of id, or NULL. */
const struct crsap_key *gbakeys_find(struct gbakeys *g, const char *id);
/* The keyring view of the cache (for crsap_verify_report). */
const struct crsap_keyring *gbakeys_ring(struct gbakeys *g);
/* Asks authsrv for id's key (once, however many ask); the answer arrives
 * through the ready function. 0, -EBUSY (too many in flight). */
int gbakeys_request(struct gbakeys *g, const char *id);

#endif
