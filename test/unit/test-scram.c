// SPDX-License-Identifier: GPL-2.0-only
/* The password method: SCRAM-SHA-256 against RFC 7677 §3's exchange, and
 * every refusal. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "scram.h"

#define CF "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define SF "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define CFIN "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define SFIN "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void rfc_verifier(struct scram_verifier *v)
{
	uint8_t salt[16];

	cr_assert_eq(b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, 16, 0),
		     16);
	cr_assert_eq(scram_make_verifier("pencil", salt, 16, 4096, v), 0);
}

Test(scram, rfc7677_client)
{
	char cf[256], out[512];
	uint8_t ssig[32], ck[32];

	cr_assert_eq(scram_client_first("user", "rOprNGfwEbeRWgbNEkqO", cf,
					sizeof(cf)),
		     0);
	cr_expect_str_eq(cf, CF);
	cr_assert_eq(scram_client_final("pencil", cf, SF, out, sizeof(out),
					ssig, ck),
		     0);
	cr_expect_str_eq(out, CFIN);
	cr_expect_eq(scram_client_check(SFIN, ssig), 0);
	cr_expect_eq(scram_client_check("v=AAAA", ssig), -EACCES);
}

Test(scram, rfc7677_server)
{
	struct scram_verifier v;
	char user[64], cn[64], sf[256], out[256];
	uint8_t ck[32];

	rfc_verifier(&v);
	cr_assert_eq(scram_parse_client_first(CF, user, sizeof(user), cn,
					      sizeof(cn)),
		     0);
	cr_expect_str_eq(user, "user");
	cr_assert_eq(scram_server_first(cn, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
					&v, sf, sizeof(sf)),
		     0);
	cr_expect_str_eq(sf, SF);
	cr_assert_eq(scram_server_final(&v, CF, SF, CFIN, out, sizeof(out),
					ck),
		     0);
	cr_expect_str_eq(out, SFIN);
}

Test(scram, both_ends_derive_the_same_session_key)
{
	struct scram_verifier v;
	char cf[256], cfin[512], sfin[256];
	uint8_t ssig[32], ck_c[32], ck_s[32], ks_c[32], ks_s[32];

	rfc_verifier(&v);
	scram_client_first("user", "rOprNGfwEbeRWgbNEkqO", cf, sizeof(cf));
	cr_assert_eq(scram_client_final("pencil", cf, SF, cfin, sizeof(cfin),
					ssig, ck_c),
		     0);
	cr_assert_eq(scram_server_final(&v, cf, SF, cfin, sfin, sizeof(sfin),
					ck_s),
		     0);
	cr_expect_eq(memcmp(ck_c, ck_s, 32), 0);
	cr_assert_eq(scram_session_key(ck_c, cf, SF, cfin, ks_c), 0);
	cr_assert_eq(scram_session_key(ck_s, cf, SF, cfin, ks_s), 0);
	cr_expect_eq(memcmp(ks_c, ks_s, 32), 0);
}

Test(scram, wrong_password_refused)
{
	struct scram_verifier v;
	char cf[256], cfin[512], sfin[256];
	uint8_t ssig[32], ck[32];

	rfc_verifier(&v);
	scram_client_first("user", "rOprNGfwEbeRWgbNEkqO", cf, sizeof(cf));
	cr_assert_eq(scram_client_final("pen", cf, SF, cfin, sizeof(cfin),
					ssig, ck),
		     0);
	cr_expect_eq(scram_server_final(&v, cf, SF, cfin, sfin, sizeof(sfin),
					ck),
		     -EACCES);
}

Test(scram, tampered_exchange_refused)
{
	struct scram_verifier v;
	char sfin[256];
	uint8_t ck[32];

	rfc_verifier(&v);
	/* Nonce of another exchange. */
	cr_expect_eq(scram_server_final(&v, CF, SF,
					"c=biws,r=rOprNGfwEbeRWgbNEkqOxx,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
					sfin, sizeof(sfin), ck),
		     -EBADMSG);
	/* Channel binding flag changed. */
	cr_expect_eq(scram_server_final(&v, CF, SF,
					"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
					sfin, sizeof(sfin), ck),
		     -EBADMSG);
	/* Proof missing / not base64 / flipped bit. */
	cr_expect_eq(scram_server_final(&v, CF, SF,
					"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
					sfin, sizeof(sfin), ck),
		     -EBADMSG);
	cr_expect_eq(scram_server_final(&v, CF, SF,
					"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=!!",
					sfin, sizeof(sfin), ck),
		     -EBADMSG);
	cr_expect_eq(scram_server_final(&v, CF, SF,
					"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVU=",
					sfin, sizeof(sfin), ck),
		     -EACCES);
}

Test(scram, client_refuses_bad_server_first)
{
	char out[512];
	uint8_t ssig[32], ck[32];

	/* Nonce that does not extend ours. */
	cr_expect_eq(scram_client_final("pencil", CF,
					"r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
					out, sizeof(out), ssig, ck),
		     -EBADMSG);
	/* Too few iterations (a downgrade). */
	cr_expect_eq(scram_client_final("pencil", CF,
					"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1",
					out, sizeof(out), ssig, ck),
		     -EBADMSG);
	cr_expect_eq(scram_client_final("pencil", CF, "r=rOprNGfwEbeRWgbNEkqOxyz",
					out, sizeof(out), ssig, ck),
		     -EBADMSG);
}

Test(scram, client_first_forms)
{
	char u[64], n[64];

	cr_expect_eq(scram_parse_client_first("y,,n=user,r=abc", u, 64, n, 64),
		     -EBADMSG, "channel binding is not offered");
	cr_expect_eq(scram_parse_client_first("n,a=x,n=user,r=abc", u, 64, n,
					      64),
		     -EBADMSG);
	cr_expect_eq(scram_parse_client_first("n,,n=us=2Cer,r=abc", u, 64, n,
					      64),
		     -EBADMSG);
	cr_expect_eq(scram_parse_client_first("n,,n=user", u, 64, n, 64),
		     -EBADMSG);
	cr_expect_eq(scram_parse_client_first("n,,n=user,r=abc", u, 64, n, 64),
		     0);
}

Test(scram, verifier_limits)
{
	struct scram_verifier v;

	cr_expect_eq(scram_make_verifier("pw", (const uint8_t *)"s", 1, 100, &v),
		     -EINVAL);
	cr_expect_eq(scram_make_verifier("", (const uint8_t *)"s", 1, 4096, &v),
		     -EINVAL);
}
