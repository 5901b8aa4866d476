/* SPDX-License-Identifier: GPL-2.0-only */
/* TLS 1.3 contexts and certificate identities shared by xcrs-authsrv and
 * its clients (OpenSSL). */
#ifndef XCRS_TLSUTIL_H
#define XCRS_TLSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

/* The last OpenSSL error as text (for messages). */
const char *tls_errstr(void);

/* A TLS 1.3-only context. cert/key may be NULL (a client without a
 * certificate); ca (may be NULL) is what the peer's certificate must chain
 * to, verify_peer makes that mandatory for a client context. 0 or -EINVAL
 * with the reason in err. */
int tls_ctx_new(bool server, const char *cert, const char *key,
		const char *ca, SSL_CTX **ret, char *err, size_t errlen);

/* A store of the certificates in file (PEM), or NULL with err. */
X509_STORE *tls_store_load(const char *file, char *err, size_t errlen);
/* Adds the CRLs in file (PEM) to st and checks every chain against them
 * (a certificate of a CA without a CRL there is refused too). */
int tls_store_add_crl(X509_STORE *st, const char *file, char *err,
		      size_t errlen);

/* Whether ssl's peer presented a certificate that chains to store. */
bool tls_peer_verified_by(SSL *ssl, X509_STORE *store);

/* Whether the peer certificate names name (a DNS SAN; the subject CN only
 * when it has no DNS SAN). */
bool tls_peer_has_name(SSL *ssl, const char *name);
/* The peer certificate's subject CN into out. 0 or -ENOENT. */
int tls_peer_cn(SSL *ssl, char *out, size_t len);

/* The certificate method's key agreement: an ephemeral X25519 pair
 * (public half in pub), and Ks = KDF(shared, 0x81, "xcrs-cert-ks", RAND,
 * identity) from our key and the peer's public half. 0 or -EIO. */
int cert_ks_keypair(EVP_PKEY **key, uint8_t pub[32]);
int cert_ks_derive(EVP_PKEY *key, const uint8_t peer[32],
		   const uint8_t rand[16], const char *id, uint8_t ks[32]);

#endif
