// SPDX-License-Identifier: GPL-2.0-only
/* The GBA KDF (TS 33.220 Annex B), Ks_AS, B-TID, HTTP Digest AKA, and the
 * hex/base64 forms they travel in. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "gba.h"

static void hexeq(const uint8_t *b, size_t n, const char *want)
{
	char h[2 * 512 + 1];

	cr_assert_lt(n, 512);
	hex_encode(b, n, h);
	cr_expect_str_eq(h, want);
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than the block). */
Test(gba, hmac_sha256_rfc4231)
{
	uint8_t key[131], out[32];

	memset(key, 0x0b, 20);
	cr_assert_eq(gba_hmac(key, 20, "Hi There", 8, out), 0);
	hexeq(out, 32,
	      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	cr_assert_eq(gba_hmac((const uint8_t *)"Jefe", 4,
			      "what do ya want for nothing?", 28, out),
		     0);
	hexeq(out, 32,
	      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, 131);
	cr_assert_eq(gba_hmac(key, 131,
			      "Test Using Larger Than Block-Size Key - Hash Key First",
			      54, out),
		     0);
	hexeq(out, 32,
	      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* The S string of Ks_NAF spelled out: FC 01, "gba-me" 67 62 61 2d 6d 65 with
 * L0 00 06, RAND with L1 00 10, IMPI, NAF_Id = FQDN || Ua id. */
Test(gba, kdf_string_ks_naf)
{
	uint8_t rand[16], s[256], ks[32], a[32], b[32];
	const char *impi = "user@ims.example";
	uint8_t naf[64];
	struct gba_param p[4];
	long n;

	for (int i = 0; i < 16; i++)
		rand[i] = (uint8_t)i;
	memcpy(naf, "as.example", 10);
	memcpy(naf + 10, GBA_UA_TLS13, 5);
	p[0] = (struct gba_param){ "gba-me", 6 };
	p[1] = (struct gba_param){ rand, 16 };
	p[2] = (struct gba_param){ impi, strlen(impi) };
	p[3] = (struct gba_param){ naf, 15 };
	n = gba_kdf_string(0x01, p, 4, s, sizeof(s));
	cr_assert_eq(n, 1 + 8 + 18 + 18 + 17);
	hexeq(s, (size_t)n,
	      "01"
	      "6762612d6d65" "0006"
	      "000102030405060708090a0b0c0d0e0f" "0010"
	      "7573657240696d732e6578616d706c65" "0010"
	      "61732e6578616d706c650100000007" "000f");
	/* Ks_AS is HMAC-SHA-256(Ks, S). */
	for (int i = 0; i < 32; i++)
		ks[i] = (uint8_t)(0xa0 + i);
	cr_assert_eq(gba_ks_as(ks, rand, impi, "as.example", GBA_UA_TLS13, a),
		     0);
	cr_assert_eq(gba_hmac(ks, 32, s, (size_t)n, b), 0);
	cr_expect_eq(memcmp(a, b, 32), 0);
	/* Key separation: another AS, another protocol, another user. */
	cr_assert_eq(gba_ks_as(ks, rand, impi, "as2.example", GBA_UA_TLS13, b),
		     0);
	cr_expect_neq(memcmp(a, b, 32), 0);
	cr_assert_eq(gba_ks_as(ks, rand, impi, "as.example",
			       GBA_UA_XCRS_REPORT, b),
		     0);
	cr_expect_neq(memcmp(a, b, 32), 0);
	cr_assert_eq(gba_ks_as(ks, rand, "other@ims.example", "as.example",
			       GBA_UA_TLS13, b),
		     0);
	cr_expect_neq(memcmp(a, b, 32), 0);
}

Test(gba, kdf_refuses_oversized_parameter)
{
	static uint8_t big[70000];
	struct gba_param p = { big, sizeof(big) };
	uint8_t out[32];

	cr_expect_eq(gba_kdf((const uint8_t *)"k", 1, 1, &p, 1, out), -EINVAL);
}

Test(gba, btid_round_trip)
{
	uint8_t rand[16], back[16];
	char btid[GBA_BTID_MAX];
	const char *dom;

	memset(rand, 0xfb, 16);
	cr_assert_eq(gba_btid(rand, "home.example", btid, sizeof(btid)), 0);
	cr_expect_str_eq(btid, "+/v7+/v7+/v7+/v7+/v7+w==@home.example");
	cr_assert_eq(gba_btid_parse(btid, back, &dom), 0);
	cr_expect_eq(memcmp(rand, back, 16), 0);
	cr_expect_str_eq(dom, "home.example");
	cr_expect_eq(gba_btid_parse("nope@home.example", back, &dom), -EINVAL);
	cr_expect_eq(gba_btid_parse("+/v7+/v7+/v7+/v7+/v7+w==", back, &dom),
		     -EINVAL);
	cr_expect_eq(gba_btid_parse("+/v7+/v7+/v7+/v7+/v7+w==@a b", back, &dom),
		     -EINVAL);
}

Test(gba, identities)
{
	cr_expect(gba_id_valid("001010000000001@ims.mnc001.mcc001.3gppnetwork.org"));
	cr_expect(gba_id_valid("crs.home.example"));
	cr_expect_not(gba_id_valid(""));
	cr_expect_not(gba_id_valid("a,b"));
	cr_expect_not(gba_id_valid("a=b"));
	cr_expect_not(gba_id_valid("a\"b"));
	cr_expect_not(gba_id_valid("a b"));
}

/* RFC 2617 §3.5's example (password "Circle Of Life", GET). */
Test(gba, digest_rfc2617_example)
{
	struct digest_resp d = {
		.username = "Mufasa",
		.realm = "testrealm@host.com",
		.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		.uri = "/dir/index.html",
		.qop = "auth",
		.nc = "00000001",
		.cnonce = "0a4f113b",
		.method = "GET",
	};
	char out[33];

	cr_assert_eq(digest_response(&d, (const uint8_t *)"Circle Of Life", 14,
				     false, out),
		     0);
	cr_expect_str_eq(out, "6629fae49393a05397450978507c4ef1");
}

Test(gba, digest_params)
{
	const char *h = "Digest username=\"u@x\", realm=\"home.example\", "
			"nonce=\"ab\\\"c\", qop=auth, nc=00000001, "
			"algorithm=AKAv1-MD5";
	char v[64];

	cr_assert_eq(digest_param(h, "username", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "u@x");
	cr_assert_eq(digest_param(h, "nonce", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "ab\"c");
	cr_assert_eq(digest_param(h, "QOP", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "auth");
	cr_assert_eq(digest_param(h, "algorithm", v, sizeof(v)), 0);
	cr_expect_str_eq(v, "AKAv1-MD5");
	cr_expect_eq(digest_param(h, "auts", v, sizeof(v)), -ENOENT);
	cr_expect_eq(digest_param(h, "realm", v, 4), -EINVAL);
	cr_expect_eq(digest_param("Basic abc", "realm", v, sizeof(v)), -EINVAL);
	cr_expect_eq(digest_param("Digest realm=\"open", "realm", v, sizeof(v)),
		     -EINVAL);
	cr_expect_eq(digest_param("Digest =x", "realm", v, sizeof(v)), -EINVAL);
}

Test(gba, base64_forms)
{
	uint8_t b[8];
	char s[16];

	b64_encode((const uint8_t *)"fo", 2, s, 0);
	cr_expect_str_eq(s, "Zm8=");
	b64_encode((const uint8_t *)"fo", 2, s, 1);
	cr_expect_str_eq(s, "Zm8");
	b64_encode((const uint8_t *)"\xfb\xff", 2, s, 1);
	cr_expect_str_eq(s, "-_8");
	cr_expect_eq(b64_decode("Zm9vYg==", 8, b, sizeof(b), 0), 4);
	cr_expect_eq(memcmp(b, "foob", 4), 0);
	cr_expect_eq(b64_decode("Zm9vYg", 6, b, sizeof(b), 1), 4);
	cr_expect_eq(b64_decode("Zm9vYg=", 7, b, sizeof(b), 0), -EINVAL);
	cr_expect_eq(b64_decode("Zm9vYh==", 8, b, sizeof(b), 0), -EINVAL,
		     "non-canonical trailing bits");
	cr_expect_eq(b64_decode("Zm9v!g==", 8, b, sizeof(b), 0), -EINVAL);
	cr_expect_eq(b64_decode("Zm9vYmFy", 8, b, 3, 0), -ENOSPC);
}

/* Re-authentication's keys and proofs (xcrs's design): K_re is not Ks,
 * each proof binds who, both nonces, the counter and the B-TID, and Ks'
 * depends on all three inputs. */
Test(gba, reauthentication_keys_and_proofs_bind_their_inputs)
{
	uint8_t ks[GBA_KS], rand[16], ns[16], nc[16], kre[32], m0[32], m[32],
		k1[GBA_KS], k2[GBA_KS];

	memset(ks, 0x11, sizeof(ks));
	memset(rand, 0x22, sizeof(rand));
	memset(ns, 0x33, sizeof(ns));
	memset(nc, 0x44, sizeof(nc));
	cr_assert_eq(gba_reauth_key(ks, rand, "u@home.example", kre), 0);
	cr_expect_neq(memcmp(kre, ks, 32), 0);
	cr_assert_eq(gba_reauth_mac(kre, "client", ns, nc, 1, "B@home.example",
				    m0), 0);
	cr_assert_eq(gba_reauth_mac(kre, "server", ns, nc, 1, "B@home.example",
				    m), 0);
	cr_expect_neq(memcmp(m0, m, 32), 0, "who is not bound");
	cr_assert_eq(gba_reauth_mac(kre, "client", ns, nc, 2, "B@home.example",
				    m), 0);
	cr_expect_neq(memcmp(m0, m, 32), 0, "the counter is not bound");
	cr_assert_eq(gba_reauth_mac(kre, "client", ns, nc, 1, "C@home.example",
				    m), 0);
	cr_expect_neq(memcmp(m0, m, 32), 0, "the B-TID is not bound");
	nc[0] ^= 1;
	cr_assert_eq(gba_reauth_mac(kre, "client", ns, nc, 1, "B@home.example",
				    m), 0);
	cr_expect_neq(memcmp(m0, m, 32), 0, "the client nonce is not bound");
	cr_assert_eq(gba_reauth_ks(ks, ns, nc, 1, k1), 0);
	cr_assert_eq(gba_reauth_ks(ks, ns, nc, 2, k2), 0);
	cr_expect_neq(memcmp(k1, k2, GBA_KS), 0);
	cr_expect_neq(memcmp(k1, ks, GBA_KS), 0);
	cr_expect_eq(gba_reauth_mac(kre, "someone", ns, nc, 1, "B", m), -EINVAL);
}
