/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Terminal keys from xcrs-authsrv (X.1124): the agent is an application
 * server. A report whose terminal id is a B-TID the agent has no key for
 * is parked while a worker thread asks authsrv (mutual TLS, the agent's AS
 * certificate) for Ks_AS; the answer comes back through a pipe in the
 * event loop, and the key is cached until the session expires. The loop
 * never blocks on authsrv.
 */
#ifndef XCRS_GBAKEYS_H
#define XCRS_GBAKEYS_H

#include <stdbool.h>

#include "crsap.h"

struct agent;
struct gbakeys;

/* Starts the worker if the policy's reports.authsrv is set (else *ret is
 * NULL and 0 is returned). */
int gbakeys_open(struct agent *ag, struct gbakeys **ret, char *err,
		 size_t errlen);
void gbakeys_close(struct agent *ag, struct gbakeys *g);
/* Whether id has the form of a B-TID (base64 RAND "@" realm). */
bool gbakeys_is_btid(const char *id);
/* The cached, unexpired key of id, or NULL. */
const struct crsap_key *gbakeys_find(struct gbakeys *g, const char *id);
/* The keyring view of the cache (for crsap_verify_report). */
const struct crsap_keyring *gbakeys_ring(struct gbakeys *g);
/* Asks authsrv for id's key (once, however many ask); the answer arrives
 * as inputs_key_ready(ag, id, ok). 0, -EBUSY (too many in flight). */
int gbakeys_request(struct gbakeys *g, const char *id);

/* inputs.c: a key fetch ended. */
void inputs_key_ready(struct agent *ag, const char *id, bool ok);

#endif
