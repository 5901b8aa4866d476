/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The password method: SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel
 * binding ("n,," gs2 header). The server keeps only the verifier
 * (salt, iterations, StoredKey, ServerKey); the password is never stored
 * or sent. Both ends end with ClientKey, from which the session key is
 * derived (scram_session_key). Pure functions, no I/O.
 */
#ifndef XCRS_SCRAM_H
#define XCRS_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#define SCRAM_KEY 32
#define SCRAM_SALT_MAX 64
#define SCRAM_MSG_MAX 512
#define SCRAM_ITER_MIN 4096
/* xcrs-authsrv-admin's default for a new verifier. */
#define SCRAM_ITER_DEFAULT 100000
#define SCRAM_ITER_MAX 10000000

struct scram_verifier {
	uint8_t salt[SCRAM_SALT_MAX];
	size_t salt_len;
	uint32_t iter;
	uint8_t stored_key[SCRAM_KEY];
	uint8_t server_key[SCRAM_KEY];
};

/* The verifier of password with salt and iter. 0, -EINVAL, -EIO. */
int scram_make_verifier(const char *password, const uint8_t *salt,
			size_t salt_len, uint32_t iter,
			struct scram_verifier *v);

/* ---- client ---- */
/* "n,,n=USER,r=CNONCE" into out. 0 or -EINVAL. */
int scram_client_first(const char *user, const char *cnonce, char *out,
		       size_t outlen);
/* From the server-first message: the client-final message, the server
 * signature to expect (base64 in v=), and ClientKey. 0, -EBADMSG (server's
 * message malformed, nonce not ours, iterations out of range), -EIO. */
int scram_client_final(const char *password, const char *client_first,
		       const char *server_first, char *out, size_t outlen,
		       uint8_t server_sig[SCRAM_KEY],
		       uint8_t client_key[SCRAM_KEY]);
/* Checks the server-final message "v=..." against server_sig. 0 or
 * -EACCES. */
int scram_client_check(const char *server_final,
		       const uint8_t server_sig[SCRAM_KEY]);

/* ---- server ---- */
/* Parses the client-first message: user (GBA identity) and client nonce.
 * 0 or -EBADMSG. */
int scram_parse_client_first(const char *msg, char *user, size_t ulen,
			     char *cnonce, size_t clen);
/* "r=CNONCE SNONCE,s=SALT,i=ITER". 0 or -EINVAL. */
int scram_server_first(const char *cnonce, const char *snonce,
		       const struct scram_verifier *v, char *out,
		       size_t outlen);
/* Verifies client-final against the verifier; on success writes the
 * server-final message and ClientKey. 0, -EBADMSG (malformed, nonce or
 * channel binding differs), -EACCES (wrong proof: wrong password), -EIO. */
int scram_server_final(const struct scram_verifier *v,
		       const char *client_first, const char *server_first,
		       const char *client_final, char *out, size_t outlen,
		       uint8_t client_key[SCRAM_KEY]);

/* Ks of a password session: HMAC-SHA-256(ClientKey, "xcrs-scram-ks" ||
 * AuthMessage) over the exchange both sides saw. */
int scram_session_key(const uint8_t client_key[SCRAM_KEY],
		      const char *client_first, const char *server_first,
		      const char *client_final, uint8_t ks[32]);

#endif
