// SPDX-License-Identifier: GPL-2.0-only
/*
 * MILENAGE (TS 35.206 §4) over OpenSSL's AES-128, and the AKA checks of
 * TS 33.102 §6.3.3 (terminal) and §6.3.5 (resynchronisation).
 */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "milenage.h"

/* E_K(in) with AES-128. */
static int aes(const uint8_t k[16], const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	if (!ctx)
		return -EIO;
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k, NULL) &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) &&
	     EVP_EncryptUpdate(ctx, out, &n, in, 16) && n == 16;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int mil_opc(const uint8_t k[MIL_K], const uint8_t op[16], uint8_t opc[16])
{
	uint8_t e[16];

	int r = aes(k, op, e);

	if (!r)
		for (int i = 0; i < 16; i++)
			opc[i] = e[i] ^ op[i];
	OPENSSL_cleanse(e, sizeof(e));
	return r;
}

/* TEMP = E_K(RAND xor OPc) */
static int temp_of(const uint8_t opc[16], const uint8_t k[16],
		   const uint8_t rand[16], uint8_t temp[16])
{
	uint8_t x[16];
	int r;

	for (int i = 0; i < 16; i++)
		x[i] = rand[i] ^ opc[i];
	r = aes(k, x, temp);
	OPENSSL_cleanse(x, sizeof(x));
	return r;
}

/* OUT = E_K(rot(in xor OPc, r bytes) xor c) xor OPc, where c has its last
 * octet set to c_last (c1 = 0, c2..c5 = 1, 2, 4, 8). */
static int out_n(const uint8_t opc[16], const uint8_t k[16],
		 const uint8_t in[16], int r, uint8_t c_last, uint8_t out[16])
{
	uint8_t x[16], y[16];
	int rc;

	for (int i = 0; i < 16; i++)
		x[(i + 16 - r) % 16] = in[i] ^ opc[i];
	x[15] ^= c_last;
	rc = aes(k, x, y);
	if (!rc)
		for (int i = 0; i < 16; i++)
			out[i] = y[i] ^ opc[i];
	OPENSSL_cleanse(x, sizeof(x));
	OPENSSL_cleanse(y, sizeof(y));
	return rc;
}

int mil_f1(const uint8_t opc[16], const uint8_t k[MIL_K],
	   const uint8_t rand[MIL_RAND], const uint8_t sqn[MIL_SQN],
	   const uint8_t amf[MIL_AMF], uint8_t mac_a[MIL_MAC],
	   uint8_t mac_s[MIL_MAC])
{
	uint8_t temp[16], in1[16], x[16], out1[16];

	if (temp_of(opc, k, rand, temp))
		return -EIO;
	memcpy(in1, sqn, 6);
	memcpy(in1 + 6, amf, 2);
	memcpy(in1 + 8, in1, 8);
	/* OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1 = 64) xor c1) xor OPc */
	for (int i = 0; i < 16; i++)
		x[(i + 8) % 16] = in1[i] ^ opc[i];
	for (int i = 0; i < 16; i++)
		x[i] ^= temp[i];
	OPENSSL_cleanse(temp, sizeof(temp));
	if (aes(k, x, out1)) {
		OPENSSL_cleanse(x, sizeof(x));
		return -EIO;
	}
	for (int i = 0; i < 16; i++)
		out1[i] ^= opc[i];
	if (mac_a)
		memcpy(mac_a, out1, 8);
	if (mac_s)
		memcpy(mac_s, out1 + 8, 8);
	OPENSSL_cleanse(x, sizeof(x));
	OPENSSL_cleanse(out1, sizeof(out1));
	return 0;
}

int mil_f2345(const uint8_t opc[16], const uint8_t k[MIL_K],
	      const uint8_t rand[MIL_RAND], uint8_t res[MIL_RES],
	      uint8_t ck[MIL_CK], uint8_t ik[MIL_IK], uint8_t ak[MIL_AK],
	      uint8_t ak_s[MIL_AK])
{
	uint8_t temp[16], t[16], out[16];
	int rc = -EIO;

	if (temp_of(opc, k, rand, temp))
		return -EIO;
	/* out_n xors OPc in itself: feed TEMP xor OPc xor OPc = TEMP. */
	for (int i = 0; i < 16; i++)
		t[i] = temp[i];
	if (out_n(opc, k, t, 0, 1, out)) /* OUT2: r2 = 0, c2 = 1 */
		goto done;
	if (res)
		memcpy(res, out + 8, 8);
	if (ak)
		memcpy(ak, out, 6);
	if (ck) {
		if (out_n(opc, k, t, 4, 2, out)) /* r3 = 32 bits */
			goto done;
		memcpy(ck, out, 16);
	}
	if (ik) {
		if (out_n(opc, k, t, 8, 4, out)) /* r4 = 64 bits */
			goto done;
		memcpy(ik, out, 16);
	}
	if (ak_s) {
		if (out_n(opc, k, t, 12, 8, out)) /* r5 = 96 bits */
			goto done;
		memcpy(ak_s, out, 6);
	}
	rc = 0;
done:
	OPENSSL_cleanse(temp, sizeof(temp));
	OPENSSL_cleanse(out, sizeof(out));
	return rc;
}

void mil_sqn_put(uint64_t sqn, uint8_t out[MIL_SQN])
{
	for (int i = 5; i >= 0; i--, sqn >>= 8)
		out[i] = (uint8_t)sqn;
}

uint64_t mil_sqn_get(const uint8_t in[MIL_SQN])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | in[i];
	return v;
}

int mil_vector(const uint8_t k[MIL_K], const uint8_t opc[16], uint64_t sqn,
	       const uint8_t amf[MIL_AMF], const uint8_t rand[MIL_RAND],
	       struct mil_vector *v)
{
	uint8_t s[6], ak[6];

	mil_sqn_put(sqn, s);
	memcpy(v->rand, rand, MIL_RAND);
	if (mil_f1(opc, k, rand, s, amf, v->autn + 8, NULL) ||
	    mil_f2345(opc, k, rand, v->xres, v->ck, v->ik, ak, NULL)) {
		OPENSSL_cleanse(v, sizeof(*v));
		return -EIO;
	}
	for (int i = 0; i < 6; i++)
		v->autn[i] = s[i] ^ ak[i];
	memcpy(v->autn + 6, amf, 2);
	OPENSSL_cleanse(ak, sizeof(ak));
	return 0;
}

int mil_check_autn(const uint8_t k[MIL_K], const uint8_t opc[16],
		   const uint8_t rand[MIL_RAND], const uint8_t autn[MIL_AUTN],
		   uint64_t *sqn_ms, uint8_t res[MIL_RES], uint8_t ck[MIL_CK],
		   uint8_t ik[MIL_IK], uint8_t auts[MIL_AUTS])
{
	uint8_t ak[6], ak_s[6], s[6], mac[8], r[8], c[16], i_[16];
	static const uint8_t amf0[2] = { 0, 0 };
	uint64_t sqn;

	int rc = MIL_OK;

	if (mil_f2345(opc, k, rand, r, c, i_, ak, ak_s)) {
		rc = -EIO;
		goto out;
	}
	for (int i = 0; i < 6; i++)
		s[i] = autn[i] ^ ak[i];
	if (mil_f1(opc, k, rand, s, autn + 6, mac, NULL)) {
		rc = -EIO;
		goto out;
	}
	if (CRYPTO_memcmp(mac, autn + 8, 8) != 0) {
		rc = MIL_MAC_FAIL;
		goto out;
	}
	sqn = mil_sqn_get(s);
	if (sqn <= *sqn_ms || sqn - *sqn_ms > MIL_SQN_DELTA) {
		/* AUTS = (SQN_MS xor AK*) || MAC-S(SQN_MS, AMF = 0) */
		mil_sqn_put(*sqn_ms, s);
		rc = MIL_SYNC_FAIL;
		if (mil_f1(opc, k, rand, s, amf0, NULL, auts + 6))
			rc = -EIO;
		for (int i = 0; rc == MIL_SYNC_FAIL && i < 6; i++)
			auts[i] = s[i] ^ ak_s[i];
		goto out;
	}
	*sqn_ms = sqn;
	memcpy(res, r, 8);
	memcpy(ck, c, 16);
	memcpy(ik, i_, 16);
out:
	OPENSSL_cleanse(r, sizeof(r));
	OPENSSL_cleanse(c, sizeof(c));
	OPENSSL_cleanse(i_, sizeof(i_));
	OPENSSL_cleanse(ak, sizeof(ak));
	OPENSSL_cleanse(ak_s, sizeof(ak_s));
	return rc;
}

int mil_auts_sqn(const uint8_t k[MIL_K], const uint8_t opc[16],
		 const uint8_t rand[MIL_RAND], const uint8_t auts[MIL_AUTS],
		 uint64_t *sqn_ms)
{
	static const uint8_t amf0[2] = { 0, 0 };
	uint8_t ak_s[6], s[6], mac_s[8];

	if (mil_f2345(opc, k, rand, NULL, NULL, NULL, NULL, ak_s))
		return -EIO;
	for (int i = 0; i < 6; i++)
		s[i] = auts[i] ^ ak_s[i];
	if (mil_f1(opc, k, rand, s, amf0, NULL, mac_s))
		return -EIO;
	if (CRYPTO_memcmp(mac_s, auts + 6, 8) != 0)
		return -EBADMSG;
	*sqn_ms = mil_sqn_get(s);
	return 0;
}
