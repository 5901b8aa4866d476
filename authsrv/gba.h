/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The GBA pieces X.1124 is instantiated with (TS 33.220, RFC 3310):
 * the generic key derivation function (Annex B), Ks_NAF (here Ks_AS, the
 * key of one application server), the B-TID, and the HTTP Digest AKA
 * computations of the bootstrap exchange. Pure functions, no I/O.
 */
#ifndef XCRS_GBA_H
#define XCRS_GBA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GBA_KS 32	/* Ks = CK || IK */
#define GBA_KEY 32	/* Ks_AS: HMAC-SHA-256 output */
#define GBA_UA_ID 5	/* Ua security protocol identifier */
#define GBA_ID_MAX 128	/* subscriber identity (IMPI), AS identity */
#define GBA_BTID_MAX 200

/* Ua protocol identifiers: 3GPP's for TLS 1.3 PSK (TS 33.220 Annex H), and
 * xcrs's own (organisation octet 0xff, then four letters) for CRS reports
 * and for assertions. */
extern const uint8_t GBA_UA_TLS13[GBA_UA_ID];
extern const uint8_t GBA_UA_XCRS_REPORT[GBA_UA_ID];
extern const uint8_t GBA_UA_XCRS_ASSERT[GBA_UA_ID];

/* KDF(key, FC, P0..Pn-1): HMAC-SHA-256(key, FC || P0 || L0 || ...), each Li
 * the length of Pi as two octets big-endian. 0, -EINVAL (a Pi over 65535
 * octets), -EIO. */
struct gba_param {
	const void *p;
	size_t len;
};
int gba_kdf(const uint8_t *key, size_t keylen, uint8_t fc,
	    const struct gba_param *p, size_t n, uint8_t out[32]);

/* The input string S = FC || P0 || L0 || ... of the KDF into out (cap
 * bytes): its length, -EINVAL, -ENOSPC. */
long gba_kdf_string(uint8_t fc, const struct gba_param *p, size_t n,
		    uint8_t *out, size_t cap);
/* HMAC-SHA-256. 0 or -EIO. */
int gba_hmac(const uint8_t *key, size_t keylen, const void *msg, size_t len,
	     uint8_t out[32]);

/* Ks_AS = KDF(Ks, 0x01, "gba-me", RAND, IMPI, AS_Id), AS_Id = FQDN ||
 * Ua protocol id (TS 33.220 Annex B.3). */
int gba_ks_as(const uint8_t ks[GBA_KS], const uint8_t rand[16],
	      const char *impi, const char *as_fqdn,
	      const uint8_t ua[GBA_UA_ID], uint8_t out[GBA_KEY]);

/* Re-authentication (xcrs's design of X.1124 8.3, authsrv/README.md):
 * K_re = KDF(Ks, 0x7e, "xcrs-reauth", RAND, IMPI); the proofs
 * HMAC(K_re, who || Ns || Nc || n (8 octets) || B-TID), who "client" or
 * "server"; Ks' = KDF(Ks, 0x7d, "xcrs-reauth-ks", Ns, Nc, n). FC 0x7e and
 * 0x7d are xcrs's, not 3GPP values. 0, -EINVAL, -EIO. */
int gba_reauth_key(const uint8_t ks[GBA_KS], const uint8_t rand[16],
		   const char *impi, uint8_t out[32]);
int gba_reauth_mac(const uint8_t kre[32], const char *who,
		   const uint8_t ns[16], const uint8_t nc[16], uint64_t n,
		   const char *btid, uint8_t out[32]);
int gba_reauth_ks(const uint8_t ks[GBA_KS], const uint8_t ns[16],
		  const uint8_t nc[16], uint64_t n, uint8_t out[GBA_KS]);

/* B-TID = base64(RAND) "@" domain. 0 or -ENAMETOOLONG. */
int gba_btid(const uint8_t rand[16], const char *domain, char *out,
	     size_t outlen);
/* Splits a B-TID: its RAND and a pointer to its domain. 0 or -EINVAL. */
int gba_btid_parse(const char *btid, uint8_t rand[16], const char **domain);

/* Whether s is a usable identity (subscriber, AS, realm): 1..GBA_ID_MAX of
 * [A-Za-z0-9.@_+-] (no ',', '=', quotes or spaces: it appears in Digest
 * and SCRAM fields unescaped). */
bool gba_id_valid(const char *s);

/* HTTP Digest (RFC 2617 with qop=auth; RFC 3310 AKAv1-MD5: the password is
 * RES as raw octets, empty in a resynchronisation request). */
struct digest_resp {
	const char *username, *realm, *nonce, *uri, *qop, *nc, *cnonce;
	const char *method;	  /* "POST" */
	const char *body_md5;	  /* qop=auth-int: H(entity-body), hex */
};
/* response = MD5(HA1:nonce:nc:cnonce:qop:HA2), 32 lower-case hex + NUL;
 * HA2 = MD5(method:uri), with qop=auth-int MD5(method:uri:body_md5)
 * (RFC 2617 3.2.2.3). With rspauth the method is empty (the
 * Authentication-Info value; body_md5 then is the response's body's). */
int digest_response(const struct digest_resp *d, const uint8_t *pw,
		    size_t pwlen, bool rspauth, char out[33]);

/* MD5 of len bytes at body (NULL with 0), 32 lower-case hex + NUL. */
int digest_body_md5(const char *body, size_t len, char out[33]);

/* Digest header parameters: 'Digest k=v, k="v", ...'. Finds key's value
 * (unquoted, backslash escapes removed) in hdr; 0, -ENOENT, -EINVAL (bad
 * syntax or the value does not fit). */
int digest_param(const char *hdr, const char *key, char *out, size_t outlen);
/* The same for a list without the scheme (Authentication-Info). */
int digest_param_plain(const char *params, const char *key, char *out,
		       size_t outlen);

#endif
