/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Assertions for application servers in open networks (X.1124 extension):
 * a JWS compact token (RFC 7515) signed with Ed25519 ("alg": "EdDSA", RFC
 * 8037), short-lived and bound to one audience, verifiable offline against
 * the keys authsrv publishes as a JWK set. Pure logic over OpenSSL and
 * json-c; no I/O, the caller passes the clock.
 */
#ifndef XCRS_ASSERTION_H
#define XCRS_ASSERTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AS_STR 160
#define AS_KID 17	 /* 16 hex digits + NUL */
#define AS_KEYS_MAX 16
#define AS_TOKEN_MAX 2048
#define AS_SKEW_S 30	 /* allowed clock difference on iat */

struct as_claims {
	char iss[AS_STR];   /* the issuing authsrv's domain (realm) */
	char sub[AS_STR];   /* identity, or a pseudonym per audience */
	char aud[AS_STR];   /* the application server it is for */
	char realm[AS_STR]; /* the user's home network */
	char amr[32];	    /* method: "aka", "password", "certificate" */
	char jti[33];	    /* 16 random bytes, hex: replay detection */
	int64_t iat, exp;   /* Unix seconds */
};

struct evp_pkey_st;

/* kid of a public key: the first 8 bytes of SHA-256 of its raw form, hex. */
int as_kid(struct evp_pkey_st *key, char kid[AS_KID]);

/* Signs claims; *out is a malloc'd NUL-terminated token. 0, -EINVAL
 * (claims do not fit), -EIO. */
int as_sign(struct evp_pkey_st *key, const struct as_claims *c, char **out);

/* The public keys a verifier trusts. */
struct as_keyset {
	size_t n;
	struct {
		char kid[AS_KID];
		struct evp_pkey_st *pub;
	} k[AS_KEYS_MAX];
};
/* Adds a key (its public half is kept; the keyset owns a reference). */
int as_keyset_add(struct as_keyset *ks, struct evp_pkey_st *key);
/* JWK set text (RFC 7517, OKP/Ed25519) of the keyset, malloc'd. */
char *as_keyset_to_jwks(const struct as_keyset *ks);
/* Parses a JWK set; keys of other types are skipped. 0, -EBADMSG. */
int as_keyset_from_jwks(const char *json, struct as_keyset *ks);
void as_keyset_free(struct as_keyset *ks);

/* Replay cache of jti values until their exp; bounded (refuses when full
 * of live entries rather than forgetting one). */
#define AS_REPLAY_MAX 4096
struct as_replay {
	size_t n;
	struct {
		char jti[33];
		int64_t exp;
	} e[AS_REPLAY_MAX];
};

enum as_result {
	AS_OK = 0,
	AS_MALFORMED,	   /* not a token of this form */
	AS_UNKNOWN_KEY,	   /* kid not in the keyset */
	AS_BAD_SIGNATURE,
	AS_EXPIRED,
	AS_NOT_YET_VALID,  /* iat in the future beyond the skew */
	AS_WRONG_AUDIENCE,
	AS_WRONG_REALM,	   /* realm not among those the verifier trusts */
	AS_REPLAYED,
	AS_REPLAY_FULL,
};
const char *as_result_str(enum as_result r);

/* Verifies tok for audience at time now; realms lists the trusted realms
 * (n of them). With rp, a token is accepted once. Claims are written on
 * AS_OK. */
enum as_result as_verify(const char *tok, const struct as_keyset *ks,
			 const char *audience, const char *const *realms,
			 size_t nrealms, int64_t now, struct as_replay *rp,
			 struct as_claims *out);

#endif
