// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-authsrv: what xcrs-authsrv costs on this machine. Prints
 *  1. its primitives in-process (MILENAGE vector, Ks_AS KDF, HMAC, Ed25519
 *     sign/verify, X25519, SCRAM verifier) beside `openssl speed` of the
 *     same primitives measured in the same run;
 *  2. whole flows per second against a real xcrs-authsrv on loopback
 *     (AKA bootstrap, key fetch by an AS, assertion), each over a new TLS
 *     1.3 connection, with 1 and with 8 client threads.
 * Figures only: nothing here passes or fails.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>

#include "assertion.h"
#include "authclient.h"
#include "authenv.h"
#include "bytes.h"
#include "gba.h"
#include "milenage.h"
#include "scram.h"
#include "tlsutil.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs fn until secs have passed; operations per second. */
static double rate(void (*fn)(void *), void *arg, double secs)
{
	double t0 = now_s(), t;
	long n = 0;

	do {
		for (int i = 0; i < 16; i++)
			fn(arg);
		n += 16;
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

static uint8_t K[16], OPC[16], RAND[16], KS[32], MSGB[64];
static EVP_PKEY *ED;
static char *TOKEN;
static struct as_keyset KSET;

static void op_vector(void *a)
{
	struct mil_vector v;
	static const uint8_t amf[2] = { 0x80, 0 };

	mil_vector(K, OPC, 42, amf, RAND, &v);
}

static void op_ks_as(void *a)
{
	uint8_t out[32];

	gba_ks_as(KS, RAND, "001010000000001@home.example", "crs.home.example",
		  GBA_UA_XCRS_REPORT, out);
}

static void op_hmac(void *a)
{
	uint8_t out[32];

	gba_hmac(KS, 32, MSGB, 64, out);
}

static void op_sign(void *a)
{
	struct as_claims c = { .iss = "home.example", .sub = "anon-1",
			       .aud = "shop.example", .realm = "home.example",
			       .amr = "aka", .jti = "00", .iat = 1, .exp = 2 };
	char *t = NULL;

	as_sign(ED, &c, &t);
	free(t);
}

static void op_verify(void *a)
{
	static const char *const r[] = { "home.example" };

	as_verify(TOKEN, &KSET, "shop.example", r, 1, 1, NULL, NULL);
}

static void op_x25519(void *a)
{
	EVP_PKEY *k;
	uint8_t pub[32], ks[32];

	cert_ks_keypair(&k, pub);
	cert_ks_derive(k, pub, RAND, "u@home.example", ks);
	EVP_PKEY_free(k);
}

static void op_scram(void *a)
{
	struct scram_verifier v;

	scram_make_verifier("pencil", RAND, 16, 4096, &v);
}

/* `openssl speed` figures: ops/s from its machine-readable lines. */
static double ossl(const char *args, const char *tag, int field)
{
	char cmd[256], line[512];
	double v = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "openssl speed -mr -seconds 1 %s 2>&1",
		 args);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		char *f[8] = { 0 }, *save = NULL, *tok;
		int n = 0;

		if (strncmp(line, tag, strlen(tag)))
			continue;
		for (tok = strtok_r(line, ":", &save); tok && n < 8;
		     tok = strtok_r(NULL, ":", &save))
			f[n++] = tok;
		if (!strcmp(tag, "+R:") && n >= 4)	  /* +R:count:name:secs */
			v = atof(f[1]) / atof(f[3]);
		else if (n > field && f[field])
			v = atof(f[field]);
	}
	pclose(p);
	return v;
}

/* ---- flows against a server ---- */

static struct authenv env;

struct flow {
	int kind; /* 0 bootstrap, 1 key fetch, 2 assertion */
	double until;
	long done, failed;
	struct ac_session s;
};

static void *flow_thread(void *arg)
{
	struct flow *f = arg;
	struct ac_conn c;
	char cert[300], key[300];

	snprintf(cert, sizeof(cert), "%s", ae_path(&env, "crs.crt"));
	snprintf(key, sizeof(key), "%s", ae_path(&env, "crs.key"));
	if (ac_open(&c, env.addr[0], env.ca, f->kind == 1 ? cert : NULL,
		    f->kind == 1 ? key : NULL, NULL))
		return NULL;
	c.timeout_s = 30;
	while (now_s() < f->until) {
		struct ac_usim u = { .id = "bench@home.example", .sqn_ms = 0 };
		struct ac_session s;
		struct ac_as_key k;
		char *tok = NULL;
		int rc;

		memcpy(u.k, K, 16);
		memcpy(u.opc, OPC, 16);
		if (f->kind == 0)
			rc = ac_bootstrap_aka(&c, &u, &s);
		else if (f->kind == 1)
			rc = ac_fetch_key(&c, f->s.btid, "crs.home.example",
					  GBA_UA_XCRS_REPORT, &k);
		else
			rc = ac_assertion(&c, &f->s, "shop.example", &tok, NULL);
		free(tok);
		if (rc)
			f->failed++;
		else
			f->done++;
	}
	ac_close(&c);
	return NULL;
}

static void flows(const char *name, int kind, int threads,
		  const struct ac_session *s, double secs)
{
	struct flow f[8];
	pthread_t th[8];
	double t0 = now_s();
	long done = 0, failed = 0;

	for (int i = 0; i < threads; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].kind = kind;
		f[i].until = t0 + secs;
		if (s)
			f[i].s = *s;
		pthread_create(&th[i], NULL, flow_thread, &f[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		done += f[i].done;
		failed += f[i].failed;
	}
	printf("  %-34s %2d thread%s  %8.0f /s  %7.2f ms each  (%ld done, %ld "
	       "failed)\n",
	       name, threads, threads > 1 ? "s" : " ",
	       (double)done / (now_s() - t0),
	       done ? 1000.0 * (now_s() - t0) * threads / (double)done : 0,
	       done, failed);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	struct ac_conn c;
	struct ac_usim u = { .id = "bench@home.example" };
	struct ac_session s;
	struct as_claims cl = { .iss = "home.example", .sub = "anon-1",
				.aud = "shop.example", .realm = "home.example",
				.amr = "aka", .jti = "00", .iat = 1, .exp = 2 };
	char out[512];

	if (secs <= 0)
		secs = 1.0;
	hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc", 32, K, 16);
	hex_decode("cd63cb71954a9f4e48a5994e37a02baf", 32, OPC, 16);
	memset(RAND, 0x5a, 16);
	memset(KS, 0xa5, 32);
	ED = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	as_keyset_add(&KSET, ED);
	as_sign(ED, &cl, &TOKEN);

	printf("xcrs-authsrv primitives, one core (%.1f s each); openssl speed "
	       "of the same primitive measured now beside it\n", secs);
	printf("  %-34s %12s %14s\n", "", "xcrs /s", "openssl /s");
	printf("  %-34s %12.0f %14.0f  (AES-128 blocks; a vector is 6 blocks)\n",
	       "MILENAGE vector (f1..f5)", rate(op_vector, NULL, secs),
	       ossl("-bytes 16 -evp aes-128-ecb", "+R:", 0));
	printf("  %-34s %12.0f %14.0f  (HMAC-SHA256 of 64 bytes)\n",
	       "Ks_AS (GBA KDF, HMAC-SHA256)", rate(op_ks_as, NULL, secs),
	       ossl("-bytes 64 -hmac sha256", "+R:", 0));
	printf("  %-34s %12.0f %14.0f\n", "HMAC-SHA256 64 bytes (report MAC)",
	       rate(op_hmac, NULL, secs),
	       ossl("-bytes 64 -hmac sha256", "+R:", 0));
	printf("  %-34s %12.0f %14.0f  (Ed25519 sign)\n", "assertion sign",
	       rate(op_sign, NULL, secs), ossl("ed25519", "+F6:", 4));
	printf("  %-34s %12.0f %14.0f  (Ed25519 verify)\n", "assertion verify",
	       rate(op_verify, NULL, secs), ossl("ed25519", "+F6:", 5));
	printf("  %-34s %12.0f %14.0f  (X25519 derive; ours adds keygen)\n",
	       "certificate-method key agreement", rate(op_x25519, NULL, secs),
	       ossl("ecdhx25519", "+F5:", 3));
	printf("  %-34s %12.1f %14s  (PBKDF2-SHA256, 4096 iterations)\n",
	       "SCRAM verifier", rate(op_scram, NULL, secs), "-");

	if (ae_setup(&env, "127.0.0.1", 1, NULL) ||
	    ae_admin(&env, out, sizeof(out), NULL,
		     "add bench@home.example --k "
		     "465b5ce8b199b49faa5f0a2ee238a6bc --opc "
		     "cd63cb71954a9f4e48a5994e37a02baf") ||
	    ae_start(&env, 0, NULL)) {
		fprintf(stderr, "bench-authsrv: cannot start xcrs-authsrv\n");
		ae_teardown(&env);
		return 1;
	}
	memcpy(u.k, K, 16);
	memcpy(u.opc, OPC, 16);
	if (ac_open(&c, env.addr[0], env.ca, NULL, NULL, NULL) ||
	    ac_bootstrap_aka(&c, &u, &s)) {
		fprintf(stderr, "bench-authsrv: bootstrap: %s\n", c.err);
		ae_teardown(&env);
		return 1;
	}
	ac_close(&c);
	printf("\nflows against xcrs-authsrv on 127.0.0.1 (one server process, "
	       "SQLite on %s; each flow on a new TLS 1.3 connection, "
	       "P-256 certificates; %.1f s each)\n", env.dir, secs);
	flows("AKA bootstrap (2 round trips)", 0, 1, NULL, secs);
	flows("AKA bootstrap (2 round trips)", 0, 8, NULL, secs);
	flows("key fetch by an AS (mutual TLS)", 1, 1, &s, secs);
	flows("key fetch by an AS (mutual TLS)", 1, 8, &s, secs);
	flows("assertion", 2, 1, &s, secs);
	flows("assertion", 2, 8, &s, secs);
	ae_teardown(&env);
	EVP_PKEY_free(ED);
	as_keyset_free(&KSET);
	free(TOKEN);
	return 0;
}
