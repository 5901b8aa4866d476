/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Terminal keys: the key file of inputs.reports (terminal id, address,
 * key), and the keys xcrs-authsrv releases for B-TID terminals
 * (gbakeys.h). Reports, probes and update instructions are MAC'd with
 * them. Functions return 0 or a negative errno with err.
 */
#ifndef XCRS_KEYS_H
#define XCRS_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "crsap.h"
#include "gbakeys.h"
#include "policy.h"

struct keys;
struct loop;

/* Loads p's key file (when reports are on) and starts the authsrv key
 * fetcher (when reports.authsrv is set). */
int keys_new(struct loop *l, const struct policy *p, struct keys **ret_keys,
	     char *err, size_t errlen);
void keys_free(struct keys *k);
/* Where finished authsrv fetches are told (the report listener). */
void keys_on_ready(struct keys *k, gbakeys_ready_fn fn, void *ctx);

/* Reload, in two steps: the new key file is read first (nothing changes
 * if it cannot be), then taken. */
int keys_load(const struct policy *np, struct crsap_keyring **ret_ring,
	      char *err, size_t errlen);
void keys_take(struct keys *k, struct crsap_keyring *ring);

/* The key file's keyring (may be empty, never NULL). */
const struct crsap_keyring *keys_file(const struct keys *k);
/* Whether keys come from authsrv too. */
bool keys_authsrv(const struct keys *k);
/* A terminal's key: from the key file, else from authsrv's cache; NULL if
 * neither has it. */
const struct crsap_key *keys_find(const struct keys *k, const char *id);
/* The cached key of id as a keyring (for crsap_verify_sca), or NULL. */
const struct crsap_keyring *keys_cached_ring(const struct keys *k,
					     const char *id);
/* Asks authsrv for the key of the B-TID id (-EBUSY: too many asked). */
int keys_request(struct keys *k, const char *id);

#endif
