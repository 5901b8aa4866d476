// SPDX-License-Identifier: GPL-2.0-only
/* The GBA key derivation, B-TID and Digest AKA computations (see gba.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bytes.h"
#include "gba.h"

const uint8_t GBA_UA_TLS13[GBA_UA_ID] = { 0x01, 0x00, 0x00, 0x00, 0x07 };
const uint8_t GBA_UA_XCRS_REPORT[GBA_UA_ID] = { 0xff, 'x', 'c', 'r', 's' };
const uint8_t GBA_UA_XCRS_ASSERT[GBA_UA_ID] = { 0xff, 'x', 'a', 's', 't' };

long gba_kdf_string(uint8_t fc, const struct gba_param *p, size_t n,
		    uint8_t *out, size_t cap)
{
	size_t len = 1, o = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i].len > 0xffff)
			return -EINVAL;
		len += p[i].len + 2;
	}
	if (len > cap)
		return -ENOSPC;
	out[o++] = fc;
	for (size_t i = 0; i < n; i++) {
		memcpy(out + o, p[i].p, p[i].len);
		o += p[i].len;
		out[o++] = (uint8_t)(p[i].len >> 8);
		out[o++] = (uint8_t)p[i].len;
	}
	return (long)len;
}

int gba_hmac(const uint8_t *key, size_t keylen, const void *msg, size_t len,
	     uint8_t out[32])
{
	unsigned int olen = 0;

	return HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &olen) &&
			       olen == 32
		       ? 0
		       : -EIO;
}

int gba_kdf(const uint8_t *key, size_t keylen, uint8_t fc,
	    const struct gba_param *p, size_t n, uint8_t out[32])
{
	uint8_t s[1024];
	long len = gba_kdf_string(fc, p, n, s, sizeof(s));
	int rc;

	if (len < 0)
		return (int)len;
	rc = gba_hmac(key, keylen, s, (size_t)len, out);
	OPENSSL_cleanse(s, (size_t)len);
	return rc;
}

int gba_ks_as(const uint8_t ks[GBA_KS], const uint8_t rand[16],
	      const char *impi, const char *as_fqdn,
	      const uint8_t ua[GBA_UA_ID], uint8_t out[GBA_KEY])
{
	uint8_t as_id[GBA_ID_MAX + GBA_UA_ID];
	size_t flen = strlen(as_fqdn);
	struct gba_param p[4] = {
		{ "gba-me", 6 },
		{ rand, 16 },
		{ impi, strlen(impi) },
		{ as_id, flen + GBA_UA_ID },
	};

	if (flen > GBA_ID_MAX)
		return -EINVAL;
	memcpy(as_id, as_fqdn, flen);
	memcpy(as_id + flen, ua, GBA_UA_ID);
	return gba_kdf(ks, GBA_KS, 0x01, p, 4, out);
}

int gba_reauth_key(const uint8_t ks[GBA_KS], const uint8_t rand[16],
		   const char *impi, uint8_t out[32])
{
	const struct gba_param p[3] = {
		{ "xcrs-reauth", 11 },
		{ rand, 16 },
		{ impi, strlen(impi) },
	};

	return gba_kdf(ks, GBA_KS, 0x7e, p, 3, out);
}

int gba_reauth_mac(const uint8_t kre[32], const char *who,
		   const uint8_t ns[16], const uint8_t nc[16], uint64_t n,
		   const char *btid, uint8_t out[32])
{
	uint8_t m[6 + 16 + 16 + 8 + GBA_BTID_MAX];
	size_t wl = strlen(who), bl = strlen(btid), o;
	int r;

	if (wl > 6 || bl >= GBA_BTID_MAX)
		return -EINVAL;
	memcpy(m, who, wl);
	o = wl;
	memcpy(m + o, ns, 16);
	o += 16;
	memcpy(m + o, nc, 16);
	o += 16;
	for (int i = 7; i >= 0; i--)
		m[o++] = (uint8_t)(n >> (8 * i));
	memcpy(m + o, btid, bl);
	r = gba_hmac(kre, 32, m, o + bl, out);
	OPENSSL_cleanse(m, sizeof(m));
	return r;
}

int gba_reauth_ks(const uint8_t ks[GBA_KS], const uint8_t ns[16],
		  const uint8_t nc[16], uint64_t n, uint8_t out[GBA_KS])
{
	uint8_t nb[8];
	const struct gba_param p[4] = {
		{ "xcrs-reauth-ks", 14 },
		{ ns, 16 },
		{ nc, 16 },
		{ nb, 8 },
	};

	for (int i = 0; i < 8; i++)
		nb[i] = (uint8_t)(n >> (8 * (7 - i)));
	return gba_kdf(ks, GBA_KS, 0x7d, p, 4, out);
}

int gba_btid(const uint8_t rand[16], const char *domain, char *out,
	     size_t outlen)
{
	char b[32];

	b64_encode(rand, 16, b, 0);
	if ((size_t)snprintf(out, outlen, "%s@%s", b, domain) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

int gba_btid_parse(const char *btid, uint8_t rand[16], const char **domain)
{
	const char *at = strchr(btid, '@');

	if (!at || !gba_id_valid(at + 1) ||
	    b64_decode(btid, (size_t)(at - btid), rand, 16, 0) != 16)
		return -EINVAL;
	*domain = at + 1;
	return 0;
}

bool gba_id_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (n >= GBA_ID_MAX ||
		    (!isalnum((unsigned char)s[n]) && !strchr(".@_+-", s[n])))
			return false;
	return n > 0;
}

static int md5_hex(const char *parts[], const size_t lens[], size_t n,
		   char out[33])
{
	uint8_t md[16];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	if (!c)
		return -EIO;
	ok = EVP_DigestInit_ex(c, EVP_md5(), NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(c, parts[i], lens[i]);
	ok = ok && EVP_DigestFinal_ex(c, md, &mdlen) && mdlen == 16;
	EVP_MD_CTX_free(c);
	if (!ok)
		return -EIO;
	hex_encode(md, 16, out);
	return 0;
}

int digest_response(const struct digest_resp *d, const uint8_t *pw,
		    size_t pwlen, bool rspauth, char out[33])
{
	char ha1[33], ha2[33];
	const char *p1[] = { d->username, ":", d->realm, ":", (const char *)pw };
	size_t l1[] = { strlen(d->username), 1, strlen(d->realm), 1, pwlen };
	bool inte = d->qop && !strcmp(d->qop, "auth-int") && d->body_md5;
	const char *p2[] = { rspauth ? "" : d->method, ":", d->uri, ":",
			     inte ? d->body_md5 : "" };
	size_t l2[] = { rspauth ? 0 : strlen(d->method), 1, strlen(d->uri),
			1, inte ? strlen(d->body_md5) : 0 };
	const char *p3[] = { ha1, ":", d->nonce, ":", d->nc, ":", d->cnonce,
			     ":", d->qop, ":", ha2 };
	size_t l3[11];

	if (md5_hex(p1, l1, 5, ha1) || md5_hex(p2, l2, inte ? 5 : 3, ha2))
		return -EIO;
	for (int i = 0; i < 11; i++)
		l3[i] = strlen(p3[i]);
	return md5_hex(p3, l3, 11, out);
}

int digest_body_md5(const char *body, size_t len, char out[33])
{
	const char *p[] = { body ? body : "" };
	size_t l[] = { body ? len : 0 };

	return md5_hex(p, l, 1, out);
}

int digest_param(const char *hdr, const char *key, char *out, size_t outlen)
{
	if (strncasecmp(hdr, "Digest", 6) != 0 || (hdr[6] && hdr[6] != ' '))
		return -EINVAL;
	return digest_param_plain(hdr + 6, key, out, outlen);
}

int digest_param_plain(const char *s, const char *key, char *out,
		       size_t outlen)
{
	size_t klen = strlen(key);

	for (;;) {
		const char *k;
		size_t kl, o = 0;
		bool match;

		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			return -ENOENT;
		k = s;
		while (isalnum((unsigned char)*s) || *s == '-' || *s == '_')
			s++;
		kl = (size_t)(s - k);
		if (!kl || *s != '=')
			return -EINVAL;
		s++;
		match = kl == klen && strncasecmp(k, key, klen) == 0;
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1])
					s++;
				if (match) {
					if (o + 1 >= outlen)
						return -EINVAL;
					out[o++] = *s;
				}
			}
			if (*s != '"')
				return -EINVAL;
			s++;
		} else {
			for (; *s && *s != ',' && *s != ' '; s++) {
				if (match) {
					if (o + 1 >= outlen)
						return -EINVAL;
					out[o++] = *s;
				}
			}
		}
		if (match) {
			out[o] = '\0';
			return 0;
		}
	}
}
