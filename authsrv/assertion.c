// SPDX-License-Identifier: GPL-2.0-only
/* Assertions: JWS tokens signed with Ed25519 (see assertion.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "assertion.h"
#include "bytes.h"

static const char HDR_FMT[] = "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}";

int as_kid(EVP_PKEY *key, char kid[AS_KID])
{
	uint8_t raw[32], md[32];
	size_t len = sizeof(raw);

	if (!EVP_PKEY_get_raw_public_key(key, raw, &len) || len != 32)
		return -EIO;
	SHA256(raw, len, md);
	hex_encode(md, 8, kid);
	return 0;
}

static char *b64url_dup(const void *p, size_t n)
{
	char *s = malloc(b64_len(n, 1) + 1);

	if (s)
		b64_encode(p, n, s, 1);
	return s;
}

int as_sign(EVP_PKEY *key, const struct as_claims *c, char **out)
{
	char kid[AS_KID], hdr[128], *h64 = NULL, *p64 = NULL, *tok = NULL;
	uint8_t sig[64];
	size_t siglen = sizeof(sig), n;
	json_object *o;
	const char *payload;
	EVP_MD_CTX *md = NULL;
	int rc = -EIO;

	if (as_kid(key, kid))
		return -EIO;
	snprintf(hdr, sizeof(hdr), HDR_FMT, kid);
	o = json_object_new_object();
	json_object_object_add(o, "iss", json_object_new_string(c->iss));
	json_object_object_add(o, "sub", json_object_new_string(c->sub));
	json_object_object_add(o, "aud", json_object_new_string(c->aud));
	json_object_object_add(o, "realm", json_object_new_string(c->realm));
	json_object_object_add(o, "amr", json_object_new_string(c->amr));
	json_object_object_add(o, "jti", json_object_new_string(c->jti));
	json_object_object_add(o, "iat", json_object_new_int64(c->iat));
	json_object_object_add(o, "exp", json_object_new_int64(c->exp));
	payload = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	h64 = b64url_dup(hdr, strlen(hdr));
	p64 = b64url_dup(payload, strlen(payload));
	if (!h64 || !p64)
		goto out;
	n = strlen(h64) + 1 + strlen(p64);
	tok = malloc(n + 1 + b64_len(64, 1) + 1);
	if (!tok)
		goto out;
	sprintf(tok, "%s.%s", h64, p64);
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestSignInit(md, NULL, NULL, NULL, key) ||
	    !EVP_DigestSign(md, sig, &siglen, (uint8_t *)tok, n) ||
	    siglen != 64)
		goto out;
	tok[n] = '.';
	b64_encode(sig, 64, tok + n + 1, 1);
	if (strlen(tok) >= AS_TOKEN_MAX) {
		rc = -EINVAL;
		goto out;
	}
	*out = tok;
	tok = NULL;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	json_object_put(o);
	free(h64);
	free(p64);
	free(tok);
	return rc;
}

int as_keyset_add(struct as_keyset *ks, EVP_PKEY *key)
{
	uint8_t raw[32];
	size_t len = sizeof(raw);
	EVP_PKEY *pub;

	if (ks->n >= AS_KEYS_MAX)
		return -ENOSPC;
	if (!EVP_PKEY_get_raw_public_key(key, raw, &len) || len != 32)
		return -EINVAL;
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);
	if (!pub)
		return -EIO;
	if (as_kid(pub, ks->k[ks->n].kid)) {
		EVP_PKEY_free(pub);
		return -EIO;
	}
	ks->k[ks->n++].pub = pub;
	return 0;
}

char *as_keyset_to_jwks(const struct as_keyset *ks)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char *s;

	for (size_t i = 0; i < ks->n; i++) {
		uint8_t raw[32];
		size_t len = sizeof(raw);
		char x[64];
		json_object *k;

		if (!EVP_PKEY_get_raw_public_key(ks->k[i].pub, raw, &len))
			continue;
		b64_encode(raw, len, x, 1);
		k = json_object_new_object();
		json_object_object_add(k, "kty", json_object_new_string("OKP"));
		json_object_object_add(k, "crv",
				       json_object_new_string("Ed25519"));
		json_object_object_add(k, "alg", json_object_new_string("EdDSA"));
		json_object_object_add(k, "use", json_object_new_string("sig"));
		json_object_object_add(k, "kid",
				       json_object_new_string(ks->k[i].kid));
		json_object_object_add(k, "x", json_object_new_string(x));
		json_object_array_add(a, k);
	}
	json_object_object_add(o, "keys", a);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int as_keyset_from_jwks(const char *json, struct as_keyset *ks)
{
	json_object *o = json_tokener_parse(json), *a;
	int rc = -EBADMSG;

	memset(ks, 0, sizeof(*ks));
	if (!o || !json_object_object_get_ex(o, "keys", &a) ||
	    !json_object_is_type(a, json_type_array))
		goto out;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *k = json_object_array_get_idx(a, i);
		const char *kty = jstr(k, "kty"), *crv = jstr(k, "crv"),
			   *x = jstr(k, "x");
		uint8_t raw[32];
		EVP_PKEY *pub;

		if (!kty || !crv || !x || strcmp(kty, "OKP") ||
		    strcmp(crv, "Ed25519"))
			continue;
		if (b64_decode(x, strlen(x), raw, 32, 1) != 32)
			goto out;
		pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
						  32);
		if (!pub)
			goto out;
		rc = as_keyset_add(ks, pub);
		EVP_PKEY_free(pub);
		if (rc)
			goto out;
		rc = -EBADMSG;
	}
	rc = 0;
out:
	json_object_put(o);
	if (rc)
		as_keyset_free(ks);
	return rc;
}

void as_keyset_free(struct as_keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->k[i].pub);
	ks->n = 0;
}

const char *as_result_str(enum as_result r)
{
	static const char *const s[] = {
		[AS_OK] = "ok",
		[AS_MALFORMED] = "malformed",
		[AS_UNKNOWN_KEY] = "unknown-key",
		[AS_BAD_SIGNATURE] = "bad-signature",
		[AS_EXPIRED] = "expired",
		[AS_NOT_YET_VALID] = "not-yet-valid",
		[AS_WRONG_AUDIENCE] = "wrong-audience",
		[AS_WRONG_REALM] = "wrong-realm",
		[AS_REPLAYED] = "replayed",
		[AS_REPLAY_FULL] = "busy",
	};
	return (unsigned)r < sizeof(s) / sizeof(s[0]) ? s[r] : "?";
}

/* Decodes one base64url part into a NUL-terminated malloc'd buffer. */
static char *part(const char *s, size_t n, size_t *ret_len)
{
	char *b = malloc(n + 1);
	long l;

	if (!b)
		return NULL;
	l = b64_decode(s, n, (uint8_t *)b, n, 1);
	if (l < 0) {
		free(b);
		return NULL;
	}
	b[l] = '\0';
	if (ret_len)
		*ret_len = (size_t)l;
	return b;
}

static bool copy_claim(json_object *o, const char *key, char *dst, size_t n)
{
	const char *v = jstr(o, key);

	if (!v || strlen(v) >= n)
		return false;
	strcpy(dst, v);
	return true;
}

static bool int_claim(json_object *o, const char *key, int64_t *v)
{
	json_object *j;

	if (!json_object_object_get_ex(o, key, &j) ||
	    !json_object_is_type(j, json_type_int))
		return false;
	*v = json_object_get_int64(j);
	return true;
}

static enum as_result replay_check(struct as_replay *rp, const char *jti,
				   int64_t exp, int64_t now)
{
	size_t w = 0;

	/* Drop what has expired, then look for the jti. */
	for (size_t i = 0; i < rp->n; i++)
		if (rp->e[i].exp >= now)
			rp->e[w++] = rp->e[i];
	rp->n = w;
	for (size_t i = 0; i < rp->n; i++)
		if (strcmp(rp->e[i].jti, jti) == 0)
			return AS_REPLAYED;
	if (rp->n >= AS_REPLAY_MAX)
		return AS_REPLAY_FULL;
	strcpy(rp->e[rp->n].jti, jti);
	rp->e[rp->n++].exp = exp;
	return AS_OK;
}

enum as_result as_verify(const char *tok, const struct as_keyset *ks,
			 const char *audience, const char *const *realms,
			 size_t nrealms, int64_t now, struct as_replay *rp,
			 struct as_claims *out)
{
	const char *d1, *d2, *alg, *kid;
	char *hdr = NULL, *pl = NULL;
	uint8_t sig[64];
	json_object *h = NULL, *p = NULL;
	struct as_claims c = { 0 };
	EVP_PKEY *pub = NULL;
	EVP_MD_CTX *md = NULL;
	enum as_result r = AS_MALFORMED;
	bool realm_ok = false;

	if (strlen(tok) >= AS_TOKEN_MAX)
		return AS_MALFORMED;
	d1 = strchr(tok, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d2 || strchr(d2 + 1, '.') ||
	    b64_decode(d2 + 1, strlen(d2 + 1), sig, sizeof(sig), 1) != 64)
		return AS_MALFORMED;
	hdr = part(tok, (size_t)(d1 - tok), NULL);
	pl = part(d1 + 1, (size_t)(d2 - d1 - 1), NULL);
	if (!hdr || !pl)
		goto out;
	h = json_tokener_parse(hdr);
	p = json_tokener_parse(pl);
	if (!h || !p || !json_object_is_type(h, json_type_object) ||
	    !json_object_is_type(p, json_type_object))
		goto out;
	alg = jstr(h, "alg");
	kid = jstr(h, "kid");
	if (!alg || strcmp(alg, "EdDSA") != 0 || !kid)
		goto out;
	if (!copy_claim(p, "iss", c.iss, sizeof(c.iss)) ||
	    !copy_claim(p, "sub", c.sub, sizeof(c.sub)) ||
	    !copy_claim(p, "aud", c.aud, sizeof(c.aud)) ||
	    !copy_claim(p, "realm", c.realm, sizeof(c.realm)) ||
	    !copy_claim(p, "amr", c.amr, sizeof(c.amr)) ||
	    !copy_claim(p, "jti", c.jti, sizeof(c.jti)) ||
	    !int_claim(p, "iat", &c.iat) || !int_claim(p, "exp", &c.exp))
		goto out;
	r = AS_UNKNOWN_KEY;
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->k[i].kid, kid) == 0)
			pub = ks->k[i].pub;
	if (!pub)
		goto out;
	r = AS_BAD_SIGNATURE;
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) ||
	    EVP_DigestVerify(md, sig, 64, (const uint8_t *)tok,
			     (size_t)(d2 - tok)) != 1)
		goto out;
	/* Signed: now the claims mean something. */
	if (now > c.exp) {
		r = AS_EXPIRED;
		goto out;
	}
	if (c.iat > now + AS_SKEW_S) {
		r = AS_NOT_YET_VALID;
		goto out;
	}
	if (strcmp(c.aud, audience) != 0) {
		r = AS_WRONG_AUDIENCE;
		goto out;
	}
	for (size_t i = 0; i < nrealms; i++)
		realm_ok |= strcmp(realms[i], c.realm) == 0;
	if (!realm_ok) {
		r = AS_WRONG_REALM;
		goto out;
	}
	r = rp ? replay_check(rp, c.jti, c.exp, now) : AS_OK;
	if (r == AS_OK && out)
		*out = c;
out:
	EVP_MD_CTX_free(md);
	json_object_put(h);
	json_object_put(p);
	free(hdr);
	free(pl);
	return r;
}
