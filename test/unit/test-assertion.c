// SPDX-License-Identifier: GPL-2.0-only
/* Assertions: signed, audience-bound, short-lived, verified offline against
 * a published key set; every rejection. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <openssl/evp.h>

#include "assertion.h"

static EVP_PKEY *key, *key2;
static struct as_keyset ks;
static const char *const realms[] = { "home.example", "partner.example" };

static void setup(void)
{
	char *jwks;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	key2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	cr_assert(key && key2);
	memset(&ks, 0, sizeof(ks));
	cr_assert_eq(as_keyset_add(&ks, key), 0);
	/* What a verifier has: the published JWK set, parsed back. */
	jwks = as_keyset_to_jwks(&ks);
	as_keyset_free(&ks);
	cr_assert_eq(as_keyset_from_jwks(jwks, &ks), 0);
	cr_assert_eq(ks.n, 1);
	free(jwks);
}

static void teardown(void)
{
	as_keyset_free(&ks);
	EVP_PKEY_free(key);
	EVP_PKEY_free(key2);
}

static struct as_claims claims(void)
{
	struct as_claims c = {
		.iss = "home.example",
		.sub = "anon-3f2a",
		.aud = "shop.example",
		.realm = "home.example",
		.amr = "aka",
		.jti = "00112233445566778899aabbccddeeff",
		.iat = 1000000,
		.exp = 1000300,
	};
	return c;
}

static char *sign(const struct as_claims *c, EVP_PKEY *k)
{
	char *t = NULL;

	cr_assert_eq(as_sign(k, c, &t), 0);
	return t;
}

TestSuite(assertion, .init = setup, .fini = teardown);

Test(assertion, valid_once)
{
	struct as_claims c = claims(), got;
	static struct as_replay rp;
	char *t = sign(&c, key);

	cr_expect_eq(as_verify(t, &ks, "shop.example", realms, 2, 1000010, &rp,
			       &got),
		     AS_OK);
	cr_expect_str_eq(got.sub, "anon-3f2a");
	cr_expect_str_eq(got.amr, "aka");
	cr_expect_eq(got.exp, 1000300);
	cr_expect_eq(as_verify(t, &ks, "shop.example", realms, 2, 1000011, &rp,
			       NULL),
		     AS_REPLAYED);
	free(t);
}

Test(assertion, rejections)
{
	struct as_claims c = claims();
	char *t = sign(&c, key), *t2;
	size_t n = strlen(t);

	cr_expect_eq(as_verify(t, &ks, "shop.example", realms, 2, 1000301, NULL,
			       NULL),
		     AS_EXPIRED);
	cr_expect_eq(as_verify(t, &ks, "shop.example", realms, 2,
			       1000000 - AS_SKEW_S - 1, NULL, NULL),
		     AS_NOT_YET_VALID);
	cr_expect_eq(as_verify(t, &ks, "bank.example", realms, 2, 1000010, NULL,
			       NULL),
		     AS_WRONG_AUDIENCE);
	cr_expect_eq(as_verify(t, &ks, "shop.example", realms + 1, 1, 1000010,
			       NULL, NULL),
		     AS_WRONG_REALM);
	/* A flipped bit in the signature, in the payload. */
	t[n - 3] = t[n - 3] == 'A' ? 'B' : 'A';
	cr_expect_eq(as_verify(t, &ks, "shop.example", realms, 2, 1000010, NULL,
			       NULL),
		     AS_BAD_SIGNATURE);
	free(t);
	t = sign(&c, key);
	t[strchr(t, '.') - t + 5] ^= 1;
	cr_expect_neq(as_verify(t, &ks, "shop.example", realms, 2, 1000010,
				NULL, NULL),
		      AS_OK);
	free(t);
	/* Signed by a key the verifier does not have. */
	t2 = sign(&c, key2);
	cr_expect_eq(as_verify(t2, &ks, "shop.example", realms, 2, 1000010,
			       NULL, NULL),
		     AS_UNKNOWN_KEY);
	free(t2);
	cr_expect_eq(as_verify("a.b", &ks, "shop.example", realms, 2, 1000010,
			       NULL, NULL),
		     AS_MALFORMED);
	cr_expect_eq(as_verify("a.b.c.d", &ks, "shop.example", realms, 2,
			       1000010, NULL, NULL),
		     AS_MALFORMED);
	cr_expect_eq(as_verify("", &ks, "shop.example", realms, 2, 1000010,
			       NULL, NULL),
		     AS_MALFORMED);
}

/* A token whose header names another algorithm ("none") is refused even
 * with a syntactically good signature part. */
Test(assertion, alg_none_refused)
{
	struct as_claims c = claims();
	char *t = sign(&c, key);
	/* eyJhbGciOiJub25lIiwia2lkIjoieCJ9 = {"alg":"none","kid":"x"} */
	char forged[AS_TOKEN_MAX];

	snprintf(forged, sizeof(forged), "eyJhbGciOiJub25lIiwia2lkIjoieCJ9%s",
		 strchr(t, '.'));
	cr_expect_eq(as_verify(forged, &ks, "shop.example", realms, 2, 1000010,
			       NULL, NULL),
		     AS_MALFORMED);
	free(t);
}

Test(assertion, replay_cache_full_refuses)
{
	static struct as_replay rp;
	struct as_claims c = claims();

	for (size_t i = 0; i < AS_REPLAY_MAX; i++) {
		snprintf(rp.e[i].jti, sizeof(rp.e[i].jti), "%032zx", i);
		rp.e[i].exp = 2000000;
	}
	rp.n = AS_REPLAY_MAX;
	char *t = sign(&c, key);
	cr_expect_eq(as_verify(t, &ks, "shop.example", realms, 2, 1000010, &rp,
			       NULL),
		     AS_REPLAY_FULL);
	/* Once those entries expire there is room again. */
	for (size_t i = 0; i < AS_REPLAY_MAX; i++)
		rp.e[i].exp = 1000005;
	cr_expect_eq(as_verify(t, &ks, "shop.example", realms, 2, 1000010, &rp,
			       NULL),
		     AS_OK);
	free(t);
}

Test(assertion, jwks_skips_other_key_types)
{
	struct as_keyset k2;

	cr_expect_eq(as_keyset_from_jwks("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"x\"}]}",
					 &k2),
		     0);
	cr_expect_eq(k2.n, 0);
	cr_expect_eq(as_keyset_from_jwks("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAA\"}]}",
					 &k2),
		     -EBADMSG);
	cr_expect_eq(as_keyset_from_jwks("[]", &k2), -EBADMSG);
}
