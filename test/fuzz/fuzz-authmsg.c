// SPDX-License-Identifier: GPL-2.0-only
/*
 * The authentication server's message codecs, each fed the input as the
 * text an attacker controls: a Digest Authorization header and an
 * Authentication-Info list, a B-TID, the SCRAM client-first and
 * client-final messages (server side) and server-final (client side), an
 * assertion token, a JWK set, and the JSON body of a request as the server
 * reads it (then each member its handlers take). Not fuzzed: the SCRAM server-first message
 * on the client side (its iteration count is the server's to choose, up
 * to SCRAM_ITER_MAX, which makes each run slow rather than wrong).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "assertion.h"
#include "gba.h"
#include "reqbody.h"
#include "scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct as_keyset ks;
static struct scram_verifier ver;
static struct as_replay replay;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	static const uint8_t salt[16] = { 9 };

	if (!k || as_keyset_add(&ks, k))
		abort();
	EVP_PKEY_free(k);
	if (scram_make_verifier("pencil", salt, sizeof(salt), SCRAM_ITER_MIN,
				&ver))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "username", "realm", "nonce",
					    "uri", "response", "qop", "nc",
					    "cnonce", "auts", "rspauth" };
	static const char *const realms[] = { "home.example" };
	char *s = malloc(size + 1), out[512], u[128], cn[128];
	uint8_t rand[16], ck[SCRAM_KEY], sig[SCRAM_KEY] = { 0 };
	const char *dom;
	struct as_claims cl;
	struct as_keyset other = { 0 };

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		digest_param(s, keys[i], out, sizeof(out));
		digest_param_plain(s, keys[i], out, sizeof(out));
	}
	gba_btid_parse(s, rand, &dom);
	gba_id_valid(s);
	scram_parse_client_first(s, u, sizeof(u), cn, sizeof(cn));
	scram_server_final(&ver, "n=user@home.example,r=abc",
			   "r=abcdef,s=CQAAAAAAAAAAAAAAAAAAAA==,i=4096", s,
			   out, sizeof(out), ck);
	scram_client_check(s, sig);
	as_verify(s, &ks, "as.example", realms, 1, 1700000000, &replay, &cl);
	if (as_keyset_from_jwks(s, &other) == 0)
		as_keyset_free(&other);
	{
		static const char *const members[] = {
			"id", "username", "btid", "as_id", "naf_id", "ua",
			"nonce", "response", "auts", "client_first",
			"client_final", "aud", "mac", "ts", "password" };
		json_object *o;

		/* the raw bytes, not the NUL-terminated copy */
		if (reqbody_parse((const char *)data, size, &o) == 0) {
			for (size_t i = 0;
			     i < sizeof(members) / sizeof(members[0]); i++)
				reqbody_str(o, members[i], 255);
			json_object_put(o);
		}
	}
	free(s);
	return 0;
}
