// SPDX-License-Identifier: GPL-2.0-only
/*
 * RADIUS accounting codec (see radius.h). MD5 and HMAC-MD5 come from
 * OpenSSL; RADIUS requires them (RFC 2865/2866, 3579), they protect
 * nothing beyond what the shared secret gives.
 */
#include "radius.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static int bad(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

const char *radius_status_name(int status)
{
	switch (status) {
	case RADIUS_START: return "Start";
	case RADIUS_STOP: return "Stop";
	case RADIUS_INTERIM: return "Interim-Update";
	case RADIUS_ACCT_ON: return "Accounting-On";
	case RADIUS_ACCT_OFF: return "Accounting-Off";
	default: return "unknown";
	}
}

/* A text value into buf (size cap): printable ASCII only, no NUL, not
 * empty, not longer than cap - 1. */
static int text(const uint8_t *v, size_t n, char *buf, size_t cap,
		const char *what, char *err, size_t errlen)
{
	if (buf[0])
		return bad(err, errlen, "%s appears twice", what);
	if (!n || n >= cap)
		return bad(err, errlen, "%s: %zu octets (1 to %zu)", what, n,
			   cap - 1);
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return bad(err, errlen,
				   "%s: octet %zu is not printable text", what,
				   i);
	memcpy(buf, v, n);
	buf[n] = '\0';
	return 0;
}

static bool digits(const char *s, size_t lo, size_t hi)
{
	size_t n = strlen(s);

	if (n < lo || n > hi)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* MCC-MNC from 3 BCD octets (TS 24.008 10.5.1.3): "001-01". buf holds
 * at least 8. */
static int plmn(const uint8_t *p, char buf[8], size_t len)
{
	unsigned d[6] = { p[0] & 15, p[0] >> 4, p[1] & 15,
			  p[2] & 15, p[2] >> 4, p[1] >> 4 };

	char *o = buf;

	for (int i = 0; i < 5; i++)
		if (d[i] > 9)
			return -1;
	if (d[5] != 15 && d[5] > 9)
		return -1;
	if (len < 8)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (i == 3)
			*o++ = '-';
		if (i < 5 || d[5] != 15)
			*o++ = (char)('0' + d[i]);
	}
	*o = '\0';
	return 0;
}

/* 3GPP-User-Location-Info (TS 29.061 16.4.7.2; the fields of TS 29.274
 * 8.21) into text. */
static int location(const uint8_t *v, size_t n, char *buf, size_t cap,
		    char *err, size_t errlen)
{
	char p1[8], p2[8];
	const uint8_t *g = v + 1;
	size_t gl = n - 1;
	int r = 0;

	if (buf[0])
		return bad(err, errlen, "3GPP-User-Location-Info appears twice");
	if (n < 1)
		return bad(err, errlen, "3GPP-User-Location-Info is empty");
#define NEED(k)                                                              \
	do {                                                                 \
		if (gl != (k))                                               \
			return bad(err, errlen,                              \
				   "3GPP-User-Location-Info type %u: %zu "   \
				   "octets, %u expected",                    \
				   v[0], gl, (unsigned)(k));                 \
	} while (0)
	switch (v[0]) {
	case 0: /* CGI: PLMN, LAC, CI */
	case 1: /* SAI: PLMN, LAC, SAC */
	case 2: /* RAI: PLMN, LAC, RAC */
		NEED(7);
		r = plmn(g, p1, sizeof(p1));
		snprintf(buf, cap, "%s:%s-%04x-%04x",
			 v[0] == 0 ? "cgi" : v[0] == 1 ? "sai" : "rai", p1,
			 (unsigned)(g[3] << 8 | g[4]),
			 (unsigned)(g[5] << 8 | g[6]));
		break;
	case 128: /* TAI: PLMN, TAC */
		NEED(5);
		r = plmn(g, p1, sizeof(p1));
		snprintf(buf, cap, "tai:%s-%04x", p1,
			 (unsigned)(g[3] << 8 | g[4]));
		break;
	case 129: /* ECGI: PLMN, 28-bit ECI */
		NEED(7);
		r = plmn(g, p1, sizeof(p1));
		snprintf(buf, cap, "ecgi:%s-%07x", p1, be32(g + 3) & 0x0fffffff);
		break;
	case 130: /* TAI, then ECGI */
		NEED(12);
		r = plmn(g, p1, sizeof(p1)) | plmn(g + 5, p2, sizeof(p2));
		snprintf(buf, cap, "tai:%s-%04x/ecgi:%s-%07x", p1,
			 (unsigned)(g[3] << 8 | g[4]), p2,
			 be32(g + 8) & 0x0fffffff);
		break;
	case 135: /* NCGI: PLMN, 36-bit NCI */
		NEED(8);
		r = plmn(g, p1, sizeof(p1));
		snprintf(buf, cap, "ncgi:%s-%09llx", p1,
			 (unsigned long long)(g[3] & 15) << 32 | be32(g + 4));
		break;
	case 136: /* 5GS TAI: PLMN, 24-bit TAC */
		NEED(6);
		r = plmn(g, p1, sizeof(p1));
		snprintf(buf, cap, "tai:%s-%06x", p1,
			 (unsigned)(g[3] << 16 | g[4] << 8 | g[5]));
		break;
	case 137: /* 5GS TAI, then NCGI */
		NEED(14);
		r = plmn(g, p1, sizeof(p1)) | plmn(g + 6, p2, sizeof(p2));
		snprintf(buf, cap, "tai:%s-%06x/ncgi:%s-%09llx", p1,
			 (unsigned)(g[3] << 16 | g[4] << 8 | g[5]), p2,
			 (unsigned long long)(g[9] & 15) << 32 | be32(g + 10));
		break;
	default:
		return bad(err, errlen,
			   "3GPP-User-Location-Info: location type %u is not "
			   "one this edge reads",
			   v[0]);
	}
#undef NEED
	if (r)
		return bad(err, errlen, "3GPP-User-Location-Info: MCC/MNC are "
					"not BCD digits");
	return 0;
}

static int vendor_3gpp(const uint8_t *v, size_t n, struct radius_acct *a,
		       char *err, size_t errlen)
{
	/* sub-attributes: type (1), length (1, with these two), value */
	while (n) {
		uint8_t t, l;
		const uint8_t *x;
		size_t xl;
		int r = 0;

		if (n < 2 || v[1] < 2 || v[1] > n)
			return bad(err, errlen,
				   "3GPP vendor attribute: bad sub-attribute "
				   "length");
		t = v[0];
		l = v[1];
		x = v + 2;
		xl = l - 2u;
		switch (t) {
		case RADIUS_3GPP_IMSI:
			r = text(x, xl, a->imsi, sizeof(a->imsi), "3GPP-IMSI",
				 err, errlen);
			if (!r && !digits(a->imsi, 5, 15))
				r = bad(err, errlen,
					"3GPP-IMSI: not 5 to 15 digits");
			break;
		case RADIUS_3GPP_IMEISV:
			r = text(x, xl, a->imeisv, sizeof(a->imeisv),
				 "3GPP-IMEISV", err, errlen);
			if (!r && !digits(a->imeisv, 14, 16))
				r = bad(err, errlen,
					"3GPP-IMEISV: not 14 to 16 digits");
			break;
		case RADIUS_3GPP_RAT_TYPE:
			if (a->has_rat)
				r = bad(err, errlen, "3GPP-RAT-Type appears twice");
			else if (xl != 1)
				r = bad(err, errlen,
					"3GPP-RAT-Type: %zu octets, 1 expected",
					xl);
			a->rat = xl ? x[0] : 0;
			a->has_rat = true;
			break;
		case RADIUS_3GPP_ULI:
			r = location(x, xl, a->location, sizeof(a->location),
				     err, errlen);
			break;
		default:
			break; /* the other 3GPP attributes: not needed here */
		}
		if (r)
			return r;
		v += l;
		n -= l;
	}
	return 0;
}

static int fixed(bool *has, const char *what, size_t n, size_t want,
		 char *err, size_t errlen)
{
	if (*has)
		return bad(err, errlen, "%s appears twice", what);
	if (n != want)
		return bad(err, errlen, "%s: %zu octets, %zu expected", what, n,
			   want);
	*has = true;
	return 0;
}

static int attribute(const uint8_t *pkt, size_t off, uint8_t t,
		     const uint8_t *v, size_t n, struct radius_acct *a,
		     char *err, size_t errlen)
{
	bool has_status = a->status != 0;
	int r = 0;

	switch (t) {
	case RADIUS_A_STATUS_TYPE:
		r = fixed(&has_status, "Acct-Status-Type", n, 4, err, errlen);
		if (!r) {
			a->status = (int)be32(v);
			if (a->status != RADIUS_START &&
			    a->status != RADIUS_STOP &&
			    a->status != RADIUS_INTERIM &&
			    a->status != RADIUS_ACCT_ON &&
			    a->status != RADIUS_ACCT_OFF)
				r = bad(err, errlen,
					"Acct-Status-Type %u is not one this "
					"edge reads",
					be32(v));
		}
		break;
	case RADIUS_A_DELAY_TIME:
		r = fixed(&a->has_delay, "Acct-Delay-Time", n, 4, err, errlen);
		if (!r)
			a->delay = be32(v);
		break;
	case RADIUS_A_EVENT_TIMESTAMP:
		r = fixed(&a->has_event_time, "Event-Timestamp", n, 4, err,
			  errlen);
		if (!r)
			a->event_time = be32(v);
		break;
	case RADIUS_A_SESSION_ID:
		r = text(v, n, a->session, sizeof(a->session),
			 "Acct-Session-Id", err, errlen);
		break;
	case RADIUS_A_USER_NAME:
		r = text(v, n, a->user_name, sizeof(a->user_name), "User-Name",
			 err, errlen);
		break;
	case RADIUS_A_CALLING_STATION:
		r = text(v, n, a->msisdn, sizeof(a->msisdn),
			 "Calling-Station-Id", err, errlen);
		if (!r && !digits(a->msisdn + (a->msisdn[0] == '+'), 1, 15))
			r = bad(err, errlen,
				"Calling-Station-Id: not an MSISDN (digits, "
				"an optional +)");
		break;
	case RADIUS_A_CALLED_STATION:
		r = text(v, n, a->apn, sizeof(a->apn), "Called-Station-Id",
			 err, errlen);
		break;
	case RADIUS_A_NAS_ID:
		r = text(v, n, a->nas_id, sizeof(a->nas_id), "NAS-Identifier",
			 err, errlen);
		break;
	case RADIUS_A_NAS_IP:
		r = fixed(&a->has_nas_ip, "NAS-IP-Address", n, 4, err, errlen);
		if (!r)
			memcpy(a->nas_ip, v, 4);
		break;
	case RADIUS_A_NAS_IPV6:
		r = fixed(&a->has_nas_ipv6, "NAS-IPv6-Address", n, 16, err,
			  errlen);
		if (!r)
			memcpy(a->nas_ipv6, v, 16);
		break;
	case RADIUS_A_FRAMED_IP:
		r = fixed(&a->has_ipv4, "Framed-IP-Address", n, 4, err, errlen);
		if (!r)
			memcpy(a->ipv4, v, 4);
		break;
	case RADIUS_A_FRAMED_IPV6_PREFIX: {
		/* reserved (0), prefix length, the prefix's significant
		 * octets (RFC 3162 2.3) */
		size_t need;

		if (a->has_ipv6)
			return bad(err, errlen,
				   "Framed-IPv6-Prefix appears twice");
		if (n < 2 || n > 18 || v[1] > 128)
			return bad(err, errlen,
				   "Framed-IPv6-Prefix: bad length or prefix "
				   "length");
		need = (v[1] + 7u) / 8u;
		if (n - 2 < need)
			return bad(err, errlen,
				   "Framed-IPv6-Prefix: /%u needs %zu octets, "
				   "%zu given",
				   v[1], need, n - 2);
		memset(a->ipv6_prefix, 0, 16);
		memcpy(a->ipv6_prefix, v + 2, n - 2);
		for (unsigned b = v[1]; b < 128; b++)
			if (a->ipv6_prefix[b / 8] & (0x80 >> (b % 8)))
				return bad(err, errlen,
					   "Framed-IPv6-Prefix: bits set "
					   "beyond /%u",
					   v[1]);
		a->ipv6_plen = v[1];
		a->has_ipv6 = true;
		break;
	}
	case RADIUS_A_MSG_AUTH:
		r = fixed(&a->has_msg_auth, "Message-Authenticator", n, 16, err,
			  errlen);
		a->msg_auth_off = (size_t)(v - pkt);
		break;
	case RADIUS_A_VENDOR:
		if (n < 4)
			return bad(err, errlen,
				   "Vendor-Specific: %zu octets, no vendor id",
				   n);
		if (be32(v) == RADIUS_VENDOR_3GPP)
			r = vendor_3gpp(v + 4, n - 4, a, err, errlen);
		break;
	default:
		break; /* octets, counters, …: not needed at this edge */
	}
	(void)off;
	return r;
}

int radius_parse(const uint8_t *pkt, size_t len, struct radius_acct *ret,
		 char *err, size_t errlen)
{
	struct radius_acct a;
	size_t off;
	int r;

	memset(&a, 0, sizeof(a));
	if (len < RADIUS_HDR)
		return bad(err, errlen, "%zu octets: shorter than a RADIUS "
					"header",
			   len);
	a.code = pkt[0];
	a.id = pkt[1];
	a.len = (uint16_t)(pkt[2] << 8 | pkt[3]);
	memcpy(a.auth, pkt + 4, RADIUS_AUTH_LEN);
	if (a.len < RADIUS_HDR || a.len > RADIUS_MAX)
		return bad(err, errlen, "Length %u is outside 20..4096", a.len);
	if (a.len > len)
		return bad(err, errlen,
			   "Length %u, but only %zu octets arrived", a.len,
			   len);
	if (a.code != RADIUS_ACCT_REQUEST)
		return bad(err, errlen,
			   "code %u: not an Accounting-Request (4)", a.code);
	for (off = RADIUS_HDR; off < a.len;) {
		uint8_t t, l;

		if (a.len - off < 2)
			return bad(err, errlen,
				   "attribute at octet %zu: truncated", off);
		t = pkt[off];
		l = pkt[off + 1];
		if (l < 2 || off + l > a.len)
			return bad(err, errlen,
				   "attribute %u at octet %zu: length %u "
				   "runs past the packet",
				   t, off, l);
		r = attribute(pkt, off, t, pkt + off + 2, l - 2u, &a, err,
			      errlen);
		if (r)
			return r;
		off += l;
	}
	if (!a.status)
		return bad(err, errlen, "no Acct-Status-Type");
	if ((a.status == RADIUS_START || a.status == RADIUS_STOP ||
	     a.status == RADIUS_INTERIM) &&
	    !a.session[0])
		return bad(err, errlen, "%s without Acct-Session-Id",
			   radius_status_name(a.status));
	*ret = a;
	return 0;
}

/* MD5, fetched once for the process (OpenSSL 3's implicit fetch on every
 * digest cost as much as the digest itself at these sizes); a context
 * per digest. */
static EVP_MD *md5_md;
static pthread_once_t md5_once = PTHREAD_ONCE_INIT;

static void md5_fetch(void)
{
	md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
}

/* 0, or -1 when MD5 is not to be had (a FIPS provider): nothing can be
 * verified or answered then. */
static int md5_request_auth(const uint8_t *pkt, size_t len,
			    const uint8_t *auth_field, const uint8_t *secret,
			    size_t slen, uint8_t out[16])
{
	EVP_MD_CTX *c;
	unsigned n = 16;
	int ok;

	pthread_once(&md5_once, md5_fetch);
	if (!md5_md || !(c = EVP_MD_CTX_new()))
		return -1;
	ok = EVP_DigestInit_ex2(c, md5_md, NULL) &&
	     EVP_DigestUpdate(c, pkt, 4) &&
	     EVP_DigestUpdate(c, auth_field, 16) &&
	     EVP_DigestUpdate(c, pkt + RADIUS_HDR, len - RADIUS_HDR) &&
	     EVP_DigestUpdate(c, secret, slen) &&
	     EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

static const uint8_t zero16[16];

/* HMAC-MD5 over the packet with the authenticator field auth and the
 * Message-Authenticator's value zero. */
static void msg_auth(const uint8_t *pkt, size_t len, size_t ma_off,
		     const uint8_t *auth, const uint8_t *secret, size_t slen,
		     uint8_t out[16])
{
	uint8_t copy[RADIUS_MAX];
	unsigned n = 16;

	memcpy(copy, pkt, len);
	memcpy(copy + 4, auth, 16);
	memset(copy + ma_off, 0, 16);
	HMAC(EVP_md5(), secret, (int)slen, copy, len, out, &n);
}

int radius_verify(const uint8_t *pkt, const struct radius_acct *a,
		  const uint8_t *secret, size_t slen)
{
	uint8_t want[16];

	if (md5_request_auth(pkt, a->len, zero16, secret, slen, want) ||
	    CRYPTO_memcmp(want, a->auth, 16))
		return -EACCES;
	if (a->has_msg_auth) {
		msg_auth(pkt, a->len, a->msg_auth_off, zero16, secret, slen,
			 want);
		if (CRYPTO_memcmp(want, pkt + a->msg_auth_off, 16))
			return -EPERM;
	}
	return 0;
}

int radius_response(const struct radius_acct *req, const uint8_t *secret,
		    size_t slen, uint8_t *out, size_t outlen)
{
	if (outlen < RADIUS_HDR)
		return -ENOSPC;
	out[0] = RADIUS_ACCT_RESPONSE;
	out[1] = req->id;
	out[2] = 0;
	out[3] = RADIUS_HDR;
	if (md5_request_auth(out, RADIUS_HDR, req->auth, secret, slen, out + 4))
		return -ENOTSUP;
	return RADIUS_HDR;
}

int radius_build_request(uint8_t id, const uint8_t *attrs, size_t alen,
			 bool with_ma, const uint8_t *secret, size_t slen,
			 uint8_t *out, size_t outlen)
{
	size_t len = RADIUS_HDR + (with_ma ? 18 : 0) + alen;
	uint8_t auth[16];

	if (len > RADIUS_MAX || len > outlen)
		return -ENOSPC;
	out[0] = RADIUS_ACCT_REQUEST;
	out[1] = id;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	memset(out + 4, 0, 16);
	if (with_ma) {
		out[RADIUS_HDR] = RADIUS_A_MSG_AUTH;
		out[RADIUS_HDR + 1] = 18;
		memset(out + RADIUS_HDR + 2, 0, 16);
	}
	memcpy(out + RADIUS_HDR + (with_ma ? 18 : 0), attrs, alen);
	if (with_ma) {
		msg_auth(out, len, RADIUS_HDR + 2, zero16, secret, slen, auth);
		memcpy(out + RADIUS_HDR + 2, auth, 16);
	}
	if (md5_request_auth(out, len, zero16, secret, slen, auth))
		return -ENOTSUP;
	memcpy(out + 4, auth, 16);
	return (int)len;
}
