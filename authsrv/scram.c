// SPDX-License-Identifier: GPL-2.0-only
/* SCRAM-SHA-256, both sides (see scram.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "bytes.h"
#include "gba.h"
#include "scram.h"

/* SaltedPassword, ClientKey, StoredKey, ServerKey. */
static int derive(const char *password, const uint8_t *salt, size_t salt_len,
		  uint32_t iter, uint8_t client_key[32], uint8_t stored[32],
		  uint8_t server[32])
{
	uint8_t salted[32];
	int rc = -EIO;

	if (!PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt,
			       (int)salt_len, (int)iter, EVP_sha256(), 32,
			       salted))
		return -EIO;
	if (gba_hmac(salted, 32, "Client Key", 10, client_key) ||
	    gba_hmac(salted, 32, "Server Key", 10, server) ||
	    !SHA256(client_key, 32, stored))
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(salted, sizeof(salted));
	return rc;
}

int scram_make_verifier(const char *password, const uint8_t *salt,
			size_t salt_len, uint32_t iter,
			struct scram_verifier *v)
{
	uint8_t ck[32];
	int rc;

	if (!salt_len || salt_len > SCRAM_SALT_MAX || iter < SCRAM_ITER_MIN ||
	    iter > SCRAM_ITER_MAX || !*password)
		return -EINVAL;
	memcpy(v->salt, salt, salt_len);
	v->salt_len = salt_len;
	v->iter = iter;
	rc = derive(password, salt, salt_len, iter, ck, v->stored_key,
		    v->server_key);
	OPENSSL_cleanse(ck, sizeof(ck));
	return rc;
}

/* The value of attribute a in a SCRAM message ("a=value,..."), copied. */
static int attr(const char *msg, char a, char *out, size_t outlen)
{
	const char *s = msg;

	while (s && *s) {
		if (s[0] == a && s[1] == '=') {
			const char *e = strchr(s + 2, ',');
			size_t n = e ? (size_t)(e - s - 2) : strlen(s + 2);

			if (n + 1 > outlen)
				return -EBADMSG;
			memcpy(out, s + 2, n);
			out[n] = '\0';
			return 0;
		}
		s = strchr(s, ',');
		if (s)
			s++;
	}
	return -EBADMSG;
}

static bool nonce_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e || *s == ',')
			return false;
	return true;
}

int scram_client_first(const char *user, const char *cnonce, char *out,
		       size_t outlen)
{
	if (!gba_id_valid(user) || !nonce_valid(cnonce) ||
	    (size_t)snprintf(out, outlen, "n,,n=%s,r=%s", user, cnonce) >=
		    outlen)
		return -EINVAL;
	return 0;
}

/* AuthMessage = client-first-bare "," server-first "," client-final
 * without ",p=...". */
static int auth_message(const char *client_first, const char *server_first,
			const char *client_final_wo_proof, char *out,
			size_t outlen)
{
	const char *bare = client_first;

	if (strncmp(bare, "n,,", 3) != 0)
		return -EBADMSG;
	bare += 3;
	if ((size_t)snprintf(out, outlen, "%s,%s,%s", bare, server_first,
			     client_final_wo_proof) >= outlen)
		return -EBADMSG;
	return 0;
}

static int signatures(const uint8_t key_for_client[32],
		      const uint8_t server_key[32], const char *am,
		      uint8_t client_sig[32], uint8_t server_sig[32])
{
	if (gba_hmac(key_for_client, 32, am, strlen(am), client_sig))
		return -EIO;
	if (server_key && gba_hmac(server_key, 32, am, strlen(am), server_sig))
		return -EIO;
	return 0;
}

int scram_client_final(const char *password, const char *client_first,
		       const char *server_first, char *out, size_t outlen,
		       uint8_t server_sig[SCRAM_KEY],
		       uint8_t client_key[SCRAM_KEY])
{
	char r[SCRAM_MSG_MAX], cn[SCRAM_MSG_MAX], s64[128], it[16], wo[SCRAM_MSG_MAX],
		am[3 * SCRAM_MSG_MAX], proof64[64];
	uint8_t salt[SCRAM_SALT_MAX], stored[32], server[32], csig[32],
		proof[32];
	long slen;
	char *end;
	unsigned long iter;
	int rc;

	if (attr(server_first, 'r', r, sizeof(r)) ||
	    attr(server_first, 's', s64, sizeof(s64)) ||
	    attr(server_first, 'i', it, sizeof(it)) ||
	    attr(client_first + 3, 'r', cn, sizeof(cn)))
		return -EBADMSG;
	/* The combined nonce must start with ours and add the server's. */
	if (strncmp(r, cn, strlen(cn)) != 0 || strlen(r) == strlen(cn))
		return -EBADMSG;
	iter = strtoul(it, &end, 10);
	if (*end || iter < SCRAM_ITER_MIN || iter > SCRAM_ITER_MAX)
		return -EBADMSG;
	slen = b64_decode(s64, strlen(s64), salt, sizeof(salt), 0);
	if (slen <= 0)
		return -EBADMSG;
	rc = derive(password, salt, (size_t)slen, (uint32_t)iter, client_key,
		    stored, server);
	if (rc)
		return rc;
	snprintf(wo, sizeof(wo), "c=biws,r=%s", r);
	rc = auth_message(client_first, server_first, wo, am, sizeof(am));
	if (rc || (rc = signatures(stored, server, am, csig, server_sig)))
		goto out;
	for (int i = 0; i < 32; i++)
		proof[i] = client_key[i] ^ csig[i];
	b64_encode(proof, 32, proof64, 0);
	if ((size_t)snprintf(out, outlen, "%s,p=%s", wo, proof64) >= outlen)
		rc = -EINVAL;
out:
	OPENSSL_cleanse(stored, sizeof(stored));
	OPENSSL_cleanse(server, sizeof(server));
	return rc;
}

int scram_client_check(const char *server_final,
		       const uint8_t server_sig[SCRAM_KEY])
{
	uint8_t v[32];

	if (strncmp(server_final, "v=", 2) != 0 ||
	    b64_decode(server_final + 2, strlen(server_final + 2), v, 32, 0) !=
		    32 ||
	    CRYPTO_memcmp(v, server_sig, 32) != 0)
		return -EACCES;
	return 0;
}

int scram_parse_client_first(const char *msg, char *user, size_t ulen,
			     char *cnonce, size_t clen)
{
	/* Only "n,," (no channel binding, no authzid) is offered. */
	if (strncmp(msg, "n,,n=", 5) != 0 || strlen(msg) >= SCRAM_MSG_MAX ||
	    attr(msg + 3, 'n', user, ulen) || attr(msg + 3, 'r', cnonce, clen) ||
	    !gba_id_valid(user) || !nonce_valid(cnonce))
		return -EBADMSG;
	return 0;
}

int scram_server_first(const char *cnonce, const char *snonce,
		       const struct scram_verifier *v, char *out,
		       size_t outlen)
{
	char s64[128];

	b64_encode(v->salt, v->salt_len, s64, 0);
	if ((size_t)snprintf(out, outlen, "r=%s%s,s=%s,i=%u", cnonce, snonce,
			     s64, v->iter) >= outlen)
		return -EINVAL;
	return 0;
}

int scram_server_final(const struct scram_verifier *v,
		       const char *client_first, const char *server_first,
		       const char *client_final, char *out, size_t outlen,
		       uint8_t client_key[SCRAM_KEY])
{
	char r[SCRAM_MSG_MAX], rs[SCRAM_MSG_MAX], c[16], p64[64],
		wo[SCRAM_MSG_MAX], am[3 * SCRAM_MSG_MAX], v64[64];
	uint8_t proof[32], csig[32], ssig[32], stored[32];
	const char *pp;
	int rc;

	if (strlen(client_final) >= SCRAM_MSG_MAX ||
	    attr(client_final, 'c', c, sizeof(c)) ||
	    attr(client_final, 'r', r, sizeof(r)) ||
	    attr(client_final, 'p', p64, sizeof(p64)) ||
	    attr(server_first, 'r', rs, sizeof(rs)))
		return -EBADMSG;
	if (strcmp(c, "biws") != 0 || strcmp(r, rs) != 0)
		return -EBADMSG;
	pp = strstr(client_final, ",p=");
	if (!pp || b64_decode(p64, strlen(p64), proof, 32, 0) != 32)
		return -EBADMSG;
	snprintf(wo, sizeof(wo), "%.*s", (int)(pp - client_final),
		 client_final);
	rc = auth_message(client_first, server_first, wo, am, sizeof(am));
	if (rc)
		return rc;
	rc = signatures(v->stored_key, v->server_key, am, csig, ssig);
	if (rc)
		return rc;
	/* ClientKey = ClientProof xor ClientSignature; H(ClientKey) must be
	 * StoredKey. */
	for (int i = 0; i < 32; i++)
		client_key[i] = proof[i] ^ csig[i];
	SHA256(client_key, 32, stored);
	if (CRYPTO_memcmp(stored, v->stored_key, 32) != 0) {
		OPENSSL_cleanse(client_key, 32);
		return -EACCES;
	}
	b64_encode(ssig, 32, v64, 0);
	if ((size_t)snprintf(out, outlen, "v=%s", v64) >= outlen)
		return -EINVAL;
	return 0;
}

int scram_session_key(const uint8_t client_key[SCRAM_KEY],
		      const char *client_first, const char *server_first,
		      const char *client_final, uint8_t ks[32])
{
	char wo[SCRAM_MSG_MAX], am[3 * SCRAM_MSG_MAX + 16];
	const char *pp = strstr(client_final, ",p=");
	int rc;

	if (!pp)
		return -EBADMSG;
	snprintf(wo, sizeof(wo), "%.*s", (int)(pp - client_final),
		 client_final);
	memcpy(am, "xcrs-scram-ks", 13);
	rc = auth_message(client_first, server_first, wo, am + 13,
			  sizeof(am) - 13);
	if (rc)
		return rc;
	return gba_hmac(client_key, 32, am, strlen(am), ks);
}
