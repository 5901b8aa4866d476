// SPDX-License-Identifier: GPL-2.0-only
/*
 * The RADIUS accounting codec against packets built independently of it
 * (test/fuzz/corpus/radius: made with Python's hashlib/hmac, secret
 * "testing123") and hand-built vectors: decoding, both authenticators,
 * the response, and every refusal a strict server owes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "radius.h"

static const uint8_t SECRET[] = "testing123";
#define SLEN (sizeof(SECRET) - 1)

static size_t seed(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/test/fuzz/corpus/radius/%s",
		 XCRS_SRCDIR, name);
	f = fopen(path, "rb");
	cr_assert(f, "%s", path);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void md5(const void *a, size_t al, const void *b, size_t bl,
		uint8_t out[16])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned n = 16;

	EVP_DigestInit_ex(c, EVP_md5(), NULL);
	EVP_DigestUpdate(c, a, al);
	EVP_DigestUpdate(c, b, bl);
	EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
}

Test(radius, a_3gpp_start_is_decoded_and_verified)
{
	uint8_t p[RADIUS_MAX];
	size_t n = seed("start", p, sizeof(p));
	struct radius_acct a;
	char err[256] = "";
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 1 };

	cr_assert_eq(radius_parse(p, n, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(a.status, RADIUS_START);
	cr_expect_eq(a.id, 1);
	cr_expect_str_eq(a.session, "sess-0001");
	cr_expect_str_eq(a.imsi, "001010123456789");
	cr_expect_str_eq(a.msisdn, "491700000001");
	cr_expect_str_eq(a.apn, "internet.example");
	cr_expect_str_eq(a.imeisv, "3534900698733101");
	cr_expect_str_eq(a.nas_id, "pgw1");
	cr_expect(a.has_nas_ip && !memcmp(a.nas_ip, "\xc6\x33\x64\x01", 4));
	cr_expect(a.has_ipv4 && !memcmp(a.ipv4, "\xc0\x00\x02\x0a", 4));
	cr_expect(a.has_ipv6 && a.ipv6_plen == 64 &&
		  !memcmp(a.ipv6_prefix, v6, 16));
	cr_expect(a.has_rat && a.rat == 6); /* EUTRAN */
	cr_expect_str_eq(a.location, "tai:001-01-0001/ecgi:001-01-0000101");
	cr_expect_not(a.has_msg_auth);
	cr_expect_eq(radius_verify(p, &a, SECRET, SLEN), 0);
	cr_expect_eq(radius_verify(p, &a, (const uint8_t *)"testing124", SLEN),
		     -EACCES);
}

Test(radius, message_authenticator_is_checked)
{
	uint8_t p[RADIUS_MAX], want[16];
	size_t n = seed("start-ma", p, sizeof(p));
	struct radius_acct a;
	char err[256] = "";

	cr_assert_eq(radius_parse(p, n, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect(a.has_msg_auth);
	cr_expect_eq(radius_verify(p, &a, SECRET, SLEN), 0);
	/* a wrong Message-Authenticator under a right Request
	 * Authenticator (recomputed after the change) */
	p[a.msg_auth_off] ^= 1;
	{
		uint8_t tmp[RADIUS_MAX];

		memcpy(tmp, p, n);
		memset(tmp + 4, 0, 16);
		memcpy(tmp + n, SECRET, SLEN);
		md5(tmp, n + SLEN, "", 0, want);
		memcpy(p + 4, want, 16);
	}
	cr_assert_eq(radius_parse(p, n, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(radius_verify(p, &a, SECRET, SLEN), -EPERM);
}

Test(radius, the_response_authenticator_covers_the_request_authenticator)
{
	uint8_t p[RADIUS_MAX], r[64], buf[64], want[16];
	size_t n = seed("stop", p, sizeof(p));
	struct radius_acct a;
	char err[256] = "";
	int len;

	cr_assert_eq(radius_parse(p, n, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(a.status, RADIUS_STOP);
	len = radius_response(&a, SECRET, SLEN, r, sizeof(r));
	cr_assert_eq(len, 20);
	cr_expect_eq(r[0], RADIUS_ACCT_RESPONSE);
	cr_expect_eq(r[1], a.id);
	/* MD5(Code+ID+Length+RequestAuth+Attributes+Secret), RFC 2866 3 */
	memcpy(buf, r, 4);
	memcpy(buf + 4, a.auth, 16);
	md5(buf, 20, SECRET, SLEN, want);
	cr_expect_arr_eq(r + 4, want, 16);
	cr_expect_eq(radius_response(&a, SECRET, SLEN, r, 19), -ENOSPC);
}

Test(radius, interim_accounting_on_and_5g_locations)
{
	uint8_t p[RADIUS_MAX];
	size_t n;
	struct radius_acct a;
	char err[256] = "";

	n = seed("interim", p, sizeof(p));
	cr_assert_eq(radius_parse(p, n, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(a.status, RADIUS_INTERIM);
	cr_expect(a.has_delay && a.delay == 5);
	cr_expect_str_eq(a.location, "tai:001-01-0002");
	cr_expect_eq(radius_verify(p, &a, SECRET, SLEN), 0);
	n = seed("acct-on", p, sizeof(p));
	cr_assert_eq(radius_parse(p, n, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(a.status, RADIUS_ACCT_ON);
	cr_expect_str_eq(a.session, "");
	n = seed("5gs-ncgi", p, sizeof(p));
	cr_assert_eq(radius_parse(p, n, &a, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(a.location, "tai:001-01-000001/ncgi:001-01-000000123");
}

/* ---- refusals: each a hand-built packet, authenticators right ---- */

static int build(const uint8_t *attrs, size_t alen, uint8_t *out)
{
	int n = radius_build_request(9, attrs, alen, false, SECRET, SLEN, out,
				     RADIUS_MAX);

	cr_assert_gt(n, 0);
	return n;
}

static void refused(const uint8_t *attrs, size_t alen, const char *why)
{
	uint8_t p[RADIUS_MAX];
	int n = build(attrs, alen, p);
	struct radius_acct a;
	char err[256] = "";

	cr_expect_eq(radius_parse(p, (size_t)n, &a, err, sizeof(err)),
		     -EBADMSG, "accepted: %s", why);
	cr_expect(strstr(err, why), "'%s' does not say '%s'", err, why);
}

#define START "\x28\x06\x00\x00\x00\x01" /* Acct-Status-Type Start */
#define SESS "\x2c\x03s"		   /* Acct-Session-Id "s" */
#define A(s) (const uint8_t *)(s), sizeof(s) - 1

Test(radius, malformed_packets_are_refused_with_the_reason)
{
	uint8_t p[RADIUS_MAX];
	struct radius_acct a;
	char err[256];
	int n;

	refused(A(START), "without Acct-Session-Id");
	refused(A(SESS), "no Acct-Status-Type");
	refused(A(START START SESS), "Acct-Status-Type appears twice");
	refused(A("\x28\x06\x00\x00\x00\x09" SESS), "Acct-Status-Type 9");
	refused(A("\x28\x05\x00\x00\x01" SESS), "Acct-Status-Type: 3 octets");
	refused(A(START SESS "\x2c\x03t"), "Acct-Session-Id appears twice");
	refused(A(START "\x2c\x02"), "Acct-Session-Id: 0 octets");
	refused(A(START "\x2c\x04s\x00"), "not printable");
	refused(A(START SESS "\x08\x05\xc0\x00\x02"), "Framed-IP-Address: 3");
	refused(A(START SESS "\x61\x04\x00\x81"),
		"Framed-IPv6-Prefix: bad length");
	refused(A(START SESS "\x61\x0c\x00\x30\x20\x01\x0d\xb8\x00\x01\x00\x01"),
		"bits set beyond /48");
	refused(A(START SESS "\x61\x05\x00\x40\x20"), "/64 needs 8 octets");
	refused(A(START SESS "\x1f\x05+1a"), "not an MSISDN");
	refused(A(START SESS "\x1a\x0e\x00\x00\x28\xaf\x01\x07" "00101"
			     "\x01"),
		"bad sub-attribute length");
	refused(A(START SESS "\x1a\x0b\x00\x00\x28\xaf\x01\x05" "0a1"),
		"3GPP-IMSI: not 5 to 15 digits");
	refused(A(START SESS "\x1a\x0c\x00\x00\x28\xaf\x16\x06\x80\x00\xf1\x10"),
		"type 128: 3 octets, 5 expected");
	refused(A(START SESS "\x1a\x0e\x00\x00\x28\xaf\x16\x08\x80\x0a\xf1\x10"
			     "\x00\x01"),
		"not BCD");
	refused(A(START SESS "\x50\x05" "abc"), "Message-Authenticator: 3");
	refused(A(START SESS "\x01\x01"), "runs past the packet");

	/* the header */
	n = build(A(START SESS), p);
	cr_expect_eq(radius_parse(p, 19, &a, err, sizeof(err)), -EBADMSG);
	cr_expect_eq(radius_parse(p, (size_t)n - 1, &a, err, sizeof(err)),
		     -EBADMSG);
	cr_expect(strstr(err, "only"), "%s", err);
	p[0] = 1; /* Access-Request */
	cr_expect_eq(radius_parse(p, (size_t)n, &a, err, sizeof(err)), -EBADMSG);
	cr_expect(strstr(err, "not an Accounting-Request"), "%s", err);
	p[0] = 4;
	p[3] = 19;
	cr_expect_eq(radius_parse(p, (size_t)n, &a, err, sizeof(err)), -EBADMSG);
	/* padding after Length is ignored (RFC 2865 3) */
	n = build(A(START SESS), p);
	memset(p + n, 0xee, 7);
	cr_expect_eq(radius_parse(p, (size_t)n + 7, &a, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_eq(radius_verify(p, &a, SECRET, SLEN), 0);
	/* unknown attributes and other vendors' are skipped */
	n = build(A(START SESS "\x2f\x06\x00\x00\x00\x10"
			       "\x1a\x09\x00\x00\x00\x09\x01\x03x"),
		  p);
	cr_expect_eq(radius_parse(p, (size_t)n, &a, err, sizeof(err)), 0,
		     "%s", err);
}

Test(radius, built_requests_verify_with_and_without_message_authenticator)
{
	uint8_t p[RADIUS_MAX];
	struct radius_acct a;
	char err[256] = "";
	int n;

	for (int ma = 0; ma < 2; ma++) {
		n = radius_build_request(77, A(START SESS), ma, SECRET, SLEN, p,
					 sizeof(p));
		cr_assert_gt(n, 0);
		cr_assert_eq(radius_parse(p, (size_t)n, &a, err, sizeof(err)),
			     0, "%s", err);
		cr_expect_eq(a.has_msg_auth, ma);
		cr_expect_eq(radius_verify(p, &a, SECRET, SLEN), 0);
	}
	cr_expect_eq(radius_build_request(1, p, RADIUS_MAX, false, SECRET,
					  SLEN, p, sizeof(p)),
		     -ENOSPC);
}
