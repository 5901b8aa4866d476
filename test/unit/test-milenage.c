// SPDX-License-Identifier: GPL-2.0-only
/* MILENAGE against every conformance test set of TS 35.208, and the AKA
 * procedures (AUTN check, SQN freshness, resynchronisation) built on it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "milenage.h"
#include "ts35208.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
	cr_assert_eq(hex_decode(s, strlen(s), out, n), 0, "bad vector %s", s);
}

#define HEXEQ(got, n, want, what, set)                                         \
	do {                                                                   \
		char h_[2 * (n) + 1];                                          \
		hex_encode(got, n, h_);                                        \
		cr_expect_str_eq(h_, want, "set %d %s", set, what);            \
	} while (0)

Test(milenage, ts35208_all_sets)
{
	for (int i = 0; i < 20; i++) {
		const char *const *t = ts35208[i];
		uint8_t k[16], rand[16], sqn[6], amf[2], op[16], opc[16];
		uint8_t mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6],
			ak_s[6];

		unhex(t[0], k, 16);
		unhex(t[1], rand, 16);
		unhex(t[2], sqn, 6);
		unhex(t[3], amf, 2);
		unhex(t[4], op, 16);
		cr_assert_eq(mil_opc(k, op, opc), 0);
		HEXEQ(opc, 16, t[5], "OPc", i + 1);
		cr_assert_eq(mil_f1(opc, k, rand, sqn, amf, mac_a, mac_s), 0);
		HEXEQ(mac_a, 8, t[6], "f1", i + 1);
		HEXEQ(mac_s, 8, t[7], "f1*", i + 1);
		cr_assert_eq(mil_f2345(opc, k, rand, res, ck, ik, ak, ak_s), 0);
		HEXEQ(res, 8, t[8], "f2", i + 1);
		HEXEQ(ck, 16, t[9], "f3", i + 1);
		HEXEQ(ik, 16, t[10], "f4", i + 1);
		HEXEQ(ak, 6, t[11], "f5", i + 1);
		HEXEQ(ak_s, 6, t[12], "f5*", i + 1);
	}
}

/* Set 1's K/OPc with a vector built by the network side. */
struct fixture {
	uint8_t k[16], opc[16], amf[2], rand[16];
};

static void fixture_set1(struct fixture *f)
{
	unhex(ts35208[0][0], f->k, 16);
	unhex(ts35208[0][5], f->opc, 16);
	unhex("8000", f->amf, 2);
	unhex(ts35208[0][1], f->rand, 16);
}

Test(milenage, vector_accepted_by_terminal)
{
	struct fixture f;
	struct mil_vector v;
	uint8_t res[8], ck[16], ik[16], auts[14];
	uint64_t sqn_ms = 41;

	fixture_set1(&f);
	cr_assert_eq(mil_vector(f.k, f.opc, 42, f.amf, f.rand, &v), 0);
	cr_assert_eq(mil_check_autn(f.k, f.opc, v.rand, v.autn, &sqn_ms, res,
				    ck, ik, auts),
		     MIL_OK);
	cr_expect_eq(sqn_ms, 42);
	cr_expect_eq(memcmp(res, v.xres, 8), 0);
	cr_expect_eq(memcmp(ck, v.ck, 16), 0);
	cr_expect_eq(memcmp(ik, v.ik, 16), 0);
	/* The same vector again is a replay: SQN no longer fresh. */
	cr_expect_eq(mil_check_autn(f.k, f.opc, v.rand, v.autn, &sqn_ms, res,
				    ck, ik, auts),
		     MIL_SYNC_FAIL);
}

Test(milenage, forged_autn_is_mac_failure)
{
	struct fixture f;
	struct mil_vector v;
	uint8_t res[8], ck[16], ik[16], auts[14], k2[16];
	uint64_t sqn_ms = 0;

	fixture_set1(&f);
	cr_assert_eq(mil_vector(f.k, f.opc, 5, f.amf, f.rand, &v), 0);
	v.autn[15] ^= 1;
	cr_expect_eq(mil_check_autn(f.k, f.opc, v.rand, v.autn, &sqn_ms, res,
				    ck, ik, auts),
		     MIL_MAC_FAIL);
	v.autn[15] ^= 1;
	/* A network that does not know K cannot make a vector. */
	memcpy(k2, f.k, 16);
	k2[0] ^= 0x80;
	cr_assert_eq(mil_vector(k2, f.opc, 5, f.amf, f.rand, &v), 0);
	cr_expect_eq(mil_check_autn(f.k, f.opc, v.rand, v.autn, &sqn_ms, res,
				    ck, ik, auts),
		     MIL_MAC_FAIL);
	cr_expect_eq(sqn_ms, 0);
}

Test(milenage, resync_recovers_terminal_sqn)
{
	struct fixture f;
	struct mil_vector v;
	uint8_t res[8], ck[16], ik[16], auts[14];
	uint64_t sqn_ms = 1000, got = 0;

	fixture_set1(&f);
	/* The network is behind the terminal (e.g. a restored database). */
	cr_assert_eq(mil_vector(f.k, f.opc, 10, f.amf, f.rand, &v), 0);
	cr_assert_eq(mil_check_autn(f.k, f.opc, v.rand, v.autn, &sqn_ms, res,
				    ck, ik, auts),
		     MIL_SYNC_FAIL);
	cr_expect_eq(sqn_ms, 1000, "a refused vector leaves SQN_MS alone");
	cr_assert_eq(mil_auts_sqn(f.k, f.opc, v.rand, auts, &got), 0);
	cr_expect_eq(got, 1000);
	/* After resync the network continues from SQN_MS + 1. */
	cr_assert_eq(mil_vector(f.k, f.opc, got + 1, f.amf, f.rand, &v), 0);
	cr_expect_eq(mil_check_autn(f.k, f.opc, v.rand, v.autn, &sqn_ms, res,
				    ck, ik, auts),
		     MIL_OK);
	/* A tampered AUTS is refused. */
	auts[13] ^= 4;
	cr_expect_eq(mil_auts_sqn(f.k, f.opc, v.rand, auts, &got), -EBADMSG);
}

Test(milenage, sqn_too_far_ahead_is_sync_failure)
{
	struct fixture f;
	struct mil_vector v;
	uint8_t res[8], ck[16], ik[16], auts[14];
	uint64_t sqn_ms = 7;

	fixture_set1(&f);
	cr_assert_eq(mil_vector(f.k, f.opc, 7 + MIL_SQN_DELTA + 1, f.amf,
				f.rand, &v),
		     0);
	cr_expect_eq(mil_check_autn(f.k, f.opc, v.rand, v.autn, &sqn_ms, res,
				    ck, ik, auts),
		     MIL_SYNC_FAIL);
	cr_assert_eq(mil_vector(f.k, f.opc, 7 + MIL_SQN_DELTA, f.amf, f.rand,
				&v),
		     0);
	cr_expect_eq(mil_check_autn(f.k, f.opc, v.rand, v.autn, &sqn_ms, res,
				    ck, ik, auts),
		     MIL_OK);
}

Test(milenage, sqn_octets)
{
	uint8_t b[6];

	mil_sqn_put(0xff9bb4d0b607ull, b);
	cr_expect_eq(b[0], 0xff);
	cr_expect_eq(b[5], 0x07);
	cr_expect_eq(mil_sqn_get(b), 0xff9bb4d0b607ull);
}
