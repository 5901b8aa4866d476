/* SPDX-License-Identifier: GPL-2.0-only */
/* The assertion signing keys kept in the store: the newest signs, every
 * key not retired is published (so tokens signed before a rotation still
 * verify until they expire). */
#ifndef XCRS_SIGNING_H
#define XCRS_SIGNING_H

#include <stdbool.h>
#include <stddef.h>

#include "assertion.h"
#include "store.h"

struct signing {
	struct evp_pkey_st *sign; /* private key of the newest */
	char kid[AS_KID];
	struct as_keyset pub;	  /* every published key */
};

/* (Re)loads the keys; with create, makes a first key if there is none.
 * On failure the previous keys stay. 0 or -errno with err. */
int signing_load(struct signing *s, struct store *st, bool create, char *err,
		 size_t errlen);
/* Generates a new Ed25519 key and stores it (it becomes the signing key);
 * its kid in kid. */
int signing_rotate(struct store *st, char kid[AS_KID], char *err,
		   size_t errlen);
void signing_free(struct signing *s);

#endif
