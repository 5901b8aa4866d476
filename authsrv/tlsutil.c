// SPDX-License-Identifier: GPL-2.0-only
/* TLS 1.3 contexts and certificate identities (see tlsutil.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "gba.h"
#include "tlsutil.h"

/* OpenSSL's errors in words: the system's reason where there is one
 * ("No such file or directory", not "error:80000002:system library::"),
 * else the first error's reason ("no start line"). */
const char *tls_errstr(void)
{
	static __thread char buf[256];
	unsigned long e, first = 0, sys = 0;

	while ((e = ERR_get_error())) {
		if (!first)
			first = e;
		if (!sys && ERR_SYSTEM_ERROR(e))
			sys = e;
	}
	if (sys) {
		snprintf(buf, sizeof(buf), "%s", strerror(ERR_GET_REASON(sys)));
	} else if (first) {
		const char *why = ERR_reason_error_string(first);

		if (why)
			snprintf(buf, sizeof(buf), "%s", why);
		else
			ERR_error_string_n(first, buf, sizeof(buf));
	} else {
		return "no OpenSSL error";
	}
	return buf;
}

int tls_ctx_new(bool server, const char *cert, const char *key,
		const char *ca, SSL_CTX **ret, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method()
					  : TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "TLS context: %s", tls_errstr());
		return -EINVAL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "%s: %s", cert, tls_errstr());
		goto fail;
	}
	if (key && (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) !=
			    1 ||
		    SSL_CTX_check_private_key(ctx) != 1)) {
		snprintf(err, errlen, "%s: %s", key, tls_errstr());
		goto fail;
	}
	if (ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		snprintf(err, errlen, "%s: %s", ca, tls_errstr());
		goto fail;
	}
	if (!server)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	*ret = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -EINVAL;
}

X509_STORE *tls_store_load(const char *file, char *err, size_t errlen)
{
	X509_STORE *st = X509_STORE_new();

	if (!st || X509_STORE_load_file(st, file) != 1) {
		snprintf(err, errlen, "%s: %s", file, tls_errstr());
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

int tls_store_add_crl(X509_STORE *st, const char *file, char *err,
		      size_t errlen)
{
	if (X509_STORE_load_file(st, file) != 1) {
		snprintf(err, errlen, "%s: %s", file, tls_errstr());
		return -EINVAL;
	}
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	return 0;
}

bool tls_peer_verified_by(SSL *ssl, X509_STORE *store)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509_STORE_CTX *c;
	bool ok = false;

	if (!peer || !store)
		return false;
	c = X509_STORE_CTX_new();
	if (c && X509_STORE_CTX_init(c, store, peer, chain) == 1) {
		X509_STORE_CTX_set_purpose(c, X509_PURPOSE_SSL_CLIENT);
		ok = X509_verify_cert(c) == 1;
	}
	X509_STORE_CTX_free(c);
	ERR_clear_error();
	return ok;
}

bool tls_peer_has_name(SSL *ssl, const char *name)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);

	/* X509_check_host: DNS SANs, falling back to the CN without them. */
	return peer && X509_check_host(peer, name, 0,
				       X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
				       NULL) == 1;
}

int tls_peer_cn(SSL *ssl, char *out, size_t len)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);

	if (!peer || X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
					       NID_commonName, out,
					       (int)len) <= 0)
		return -ENOENT;
	return 0;
}

int cert_ks_keypair(EVP_PKEY **key, uint8_t pub[32])
{
	size_t len = 32;

	*key = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	if (!*key || !EVP_PKEY_get_raw_public_key(*key, pub, &len) ||
	    len != 32) {
		EVP_PKEY_free(*key);
		*key = NULL;
		return -EIO;
	}
	return 0;
}

int cert_ks_derive(EVP_PKEY *key, const uint8_t peer[32],
		   const uint8_t rand[16], const char *id, uint8_t ks[32])
{
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
						  32);
	EVP_PKEY_CTX *c = p ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	uint8_t shared[32];
	size_t len = sizeof(shared);
	struct gba_param prm[3] = {
		{ "xcrs-cert-ks", 12 },
		{ rand, 16 },
		{ id, strlen(id) },
	};
	int rc = -EIO;

	if (c && EVP_PKEY_derive_init(c) == 1 &&
	    EVP_PKEY_derive_set_peer(c, p) == 1 &&
	    EVP_PKEY_derive(c, shared, &len) == 1 && len == 32)
		rc = gba_kdf(shared, 32, 0x81, prm, 3, ks);
	OPENSSL_cleanse(shared, sizeof(shared));
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(p);
	return rc;
}
