/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Roaming between SCSs (X.1125 13): an MS that connects here is asked
 * about at every peer SCS of scs.peers; a peer holding its control hands
 * it over. Questions go from the async worker with copies of their peer's
 * settings; a reload takes the new peer list. Functions return 0 or a
 * negative errno with err.
 */
#ifndef XCRS_PEERS_H
#define XCRS_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "crsap.h"
#include "decide.h"
#include "policy.h"

struct peers;
struct loop;

/* What peers_new and peers_set_policy would refuse in p. */
int peers_check(const struct policy *p, char *err, size_t errlen);
int peers_new(struct loop *l, const struct policy *p, struct decide *dec,
	      struct audit *au, struct peers **ret_peers, char *err,
	      size_t errlen);
void peers_free(struct peers *ps);
/* Takes np's peer list (questions in flight keep their own copies). On
 * error the old list stays. */
int peers_set_policy(struct peers *ps, const struct policy *np, char *err,
		     size_t errlen);
/* An MS connected here: ask every peer whether it holds its control. */
void peers_ask(struct peers *ps, const struct xcrs_addr *a);
/* The key of peer id, or NULL (not a peer). */
const struct crsap_key *peers_key(const struct peers *ps, const char *id);
/* A peer's question (an MS connect report) on the report listener: the
 * answer frame in *out (malloc'd). Returns 1 when this SCS handed the MS
 * over (*ret_moved: the caller lets it leave), 0 when it had no control,
 * or -errno with err. */
int peers_answer(struct peers *ps, struct crsap_replay *replay,
		 const struct crsap_key *k, const uint8_t *buf, size_t len,
		 uint8_t **out, size_t *olen, struct xcrs_addr *ret_moved,
		 char *err, size_t errlen);

#endif
