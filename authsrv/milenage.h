/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MILENAGE (3GPP TS 35.206) and the AKA procedures built on it
 * (TS 33.102 §6.3): authentication vectors on the network side, AUTN
 * verification and resynchronisation (AUTS) on the terminal side, SQN
 * recovery from AUTS on the network side. Pure functions over OpenSSL's
 * AES-128; no I/O. All lengths are fixed by the specification.
 */
#ifndef XCRS_MILENAGE_H
#define XCRS_MILENAGE_H

#include <stdbool.h>
#include <stdint.h>

#define MIL_K 16
#define MIL_RAND 16
#define MIL_SQN 6
#define MIL_AMF 2
#define MIL_MAC 8
#define MIL_RES 8
#define MIL_CK 16
#define MIL_IK 16
#define MIL_AK 6
#define MIL_AUTN 16 /* SQN^AK (6) || AMF (2) || MAC-A (8) */
#define MIL_AUTS 14 /* SQN_MS^AK* (6) || MAC-S (8) */

/* SQN freshness window (TS 33.102 Annex C, simplified to one counter): the
 * terminal accepts SQN if SQN_MS < SQN <= SQN_MS + MIL_SQN_DELTA. */
#define MIL_SQN_DELTA (1ull << 28)
#define MIL_SQN_MAX ((1ull << 48) - 1)

/* OPc = OP xor E_K(OP). 0 or -EIO. */
int mil_opc(const uint8_t k[MIL_K], const uint8_t op[16], uint8_t opc[16]);

/* f1 (MAC-A) and f1* (MAC-S); either output may be NULL. 0 or -EIO. */
int mil_f1(const uint8_t opc[16], const uint8_t k[MIL_K],
	   const uint8_t rand[MIL_RAND], const uint8_t sqn[MIL_SQN],
	   const uint8_t amf[MIL_AMF], uint8_t mac_a[MIL_MAC],
	   uint8_t mac_s[MIL_MAC]);

/* f2 (RES), f3 (CK), f4 (IK), f5 (AK), f5* (AK*); any output may be NULL.
 * 0 or -EIO. */
int mil_f2345(const uint8_t opc[16], const uint8_t k[MIL_K],
	      const uint8_t rand[MIL_RAND], uint8_t res[MIL_RES],
	      uint8_t ck[MIL_CK], uint8_t ik[MIL_IK], uint8_t ak[MIL_AK],
	      uint8_t ak_s[MIL_AK]);

/* 48-bit SQN <-> 6 octets, big-endian. */
void mil_sqn_put(uint64_t sqn, uint8_t out[MIL_SQN]);
uint64_t mil_sqn_get(const uint8_t in[MIL_SQN]);

/* A network-side authentication vector. */
struct mil_vector {
	uint8_t rand[MIL_RAND];
	uint8_t autn[MIL_AUTN];
	uint8_t xres[MIL_RES];
	uint8_t ck[MIL_CK];
	uint8_t ik[MIL_IK];
};

/* Builds the vector for (K, OPc, SQN, AMF, RAND). 0 or -EIO. */
int mil_vector(const uint8_t k[MIL_K], const uint8_t opc[16], uint64_t sqn,
	       const uint8_t amf[MIL_AMF], const uint8_t rand[MIL_RAND],
	       struct mil_vector *v);

/* Terminal side (the USIM's part). */
enum mil_check {
	MIL_OK = 0,	  /* AUTN authentic and fresh: res/ck/ik written */
	MIL_MAC_FAIL,	  /* MAC-A wrong: the network is not authentic */
	MIL_SYNC_FAIL,	  /* SQN not fresh: auts written, *sqn_ms unchanged */
};
/* Checks AUTN against the terminal's highest accepted SQN (*sqn_ms); on
 * MIL_OK raises *sqn_ms to the vector's SQN. Returns an enum mil_check, or
 * -EIO. */
int mil_check_autn(const uint8_t k[MIL_K], const uint8_t opc[16],
		   const uint8_t rand[MIL_RAND], const uint8_t autn[MIL_AUTN],
		   uint64_t *sqn_ms, uint8_t res[MIL_RES], uint8_t ck[MIL_CK],
		   uint8_t ik[MIL_IK], uint8_t auts[MIL_AUTS]);

/* Network side of resynchronisation: recovers SQN_MS from AUTS (f5*) and
 * checks MAC-S (f1*, AMF = 0000). 0 with *sqn_ms, -EBADMSG if MAC-S is
 * wrong, -EIO. */
int mil_auts_sqn(const uint8_t k[MIL_K], const uint8_t opc[16],
		 const uint8_t rand[MIL_RAND], const uint8_t auts[MIL_AUTS],
		 uint64_t *sqn_ms);

#endif
