// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the generated part of the seed corpora: one well-formed CRSAP
 * frame per message type (built by the codecs themselves, so the seeds
 * follow the format as it changes), and signed assertion tokens and a JWK
 * set. Run from the source tree root: build/test/fuzz-mkseeds test/fuzz/corpus
 * The hand-written seeds (YAML, EVE, control lines, Digest headers) sit
 * beside them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "assertion.h"
#include "crsap.h"

#define NONCE "00112233445566778899aabbccddeeff"

static const char *dir;

static void put(const char *sub, const char *name, const void *b, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void frame(const char *name, const char *id, const char *xml,
		  size_t xl)
{
	static const uint8_t key[32] = { 1, 2, 3 };
	uint8_t *f;
	size_t fl;

	if (crsap_frame_build(id, key, sizeof(key), xml, xl, &f, &fl))
		exit(1);
	put("crsap", name, f, fl);
	free(f);
}

int main(int argc, char **argv)
{
	struct crsap_report r = { .ms = "t1", .time_ms = 1, .nonce = NONCE,
				  .status = CRSAP_STATUS_INFECTED,
				  .os_name = "Android", .os_version = "14",
				  .patch_level = "2026-10-01",
				  .av_product = "AV", .av_signatures = "2026",
				  .sca_version = "1", .nthreats = 1,
				  .nremedies = 1 };
	struct crsap_response s = { .ms = "t1", .time_ms = 2, .nonce = NONCE,
				    .evaluation = "reacted",
				    .level = "quarantined", .until_ms = 9,
				    .rule = "r", .reason = "why & <more>",
				    .nallowed = 1, .nactions = 1,
				    .nremediation = 1 };
	struct crsap_probe p = { .ms = "t1", .time_ms = 1764000000000,
				 .nonce = NONCE, .scs = "scs-edge-1",
				 .report_to = "192.0.2.1:7443",
				 .report_interval_s = 3600 };
	struct crsap_probe_response pr = { .ms = "t1", .time_ms = 5,
					   .nonce = NONCE,
					   .in_response_to = NONCE,
					   .sca_version = "xcrs-terminal 0.1",
					   .os_name = "Android",
					   .os_version = "14" };
	struct crsap_update u = {
		.ms = "t2", .time_ms = 7, .nonce = NONCE,
		.campaign = "outbreak-cell-a-1", .what = "signatures",
		.delay_ms = 42000, .deadline_ms = 1764000600000,
		.source = { .service = "remediation",
			    .prefix = "198.51.100.80/32", .protocol = "tcp",
			    .ports = "80" },
		.reason = "worm",
	};
	struct crsap_nac m = { .kind = CRSAP_CONTROL_POLICY,
			       .node = "nac-edge-1", .time_ms = 9,
			       .nonce = NONCE, .address = "2001:db8::10",
			       .scope = "cell-a", .evaluation = "infected",
			       .level = "quarantined",
			       .until_ms = 1764003600000,
			       .rule = "infected-report", .reason = "r" };
	struct as_claims c = { .iss = "home.example", .sub = "alice",
			       .aud = "as.example", .realm = "home.example",
			       .amr = "aka",
			       .jti = "0123456789abcdef0123456789abcdef",
			       .iat = 1700000000, .exp = 1700000600 };
	struct as_keyset ks = { 0 };
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char *x, *tok, *jwks;
	size_t xl;

	if (argc != 2 || !k)
		return 2;
	dir = argv[1];
	strcpy(r.threats[0].name, "W");
	r.threats[0].severity = 1;
	r.threats[0].signature = 9000001;
	strcpy(r.remedies[0].action, "scan");
	strcpy(r.remedies[0].result, "done");
	strcpy(s.allowed[0], "crs");
	strcpy(s.actions[0], "scan");
	strcpy(s.remediation[0].service, "remediation");
	strcpy(s.remediation[0].prefix, "198.51.100.80/32");

	if (crsap_report_build(&r, &x, &xl))
		return 1;
	frame("seed-report", "t1", x, xl);
	free(x);
	if (crsap_response_build(&s, &x, &xl))
		return 1;
	frame("seed-response", "scs-edge-1", x, xl);
	free(x);
	if (crsap_probe_build(&p, &x, &xl))
		return 1;
	frame("seed-probe", "scs-edge-1", x, xl);
	free(x);
	if (crsap_probe_response_build(&pr, &x, &xl))
		return 1;
	frame("seed-probe-response", "t1", x, xl);
	free(x);
	if (crsap_update_build(&u, &x, &xl))
		return 1;
	frame("seed-update", "scs-edge-1", x, xl);
	free(x);
	for (int kind = CRSAP_MS_CONNECT; kind <= CRSAP_CONTROL_POLICY;
	     kind++) {
		char name[64];

		m.kind = kind;
		if (crsap_nac_build(&m, &x, &xl))
			return 1;
		snprintf(name, sizeof(name), "seed-nac-%d", kind);
		frame(name, "scs-edge-2", x, xl);
		free(x);
	}

	if (as_sign(k, &c, &tok) || as_keyset_add(&ks, k) ||
	    !(jwks = as_keyset_to_jwks(&ks)))
		return 1;
	put("authmsg", "seed-assertion", tok, strlen(tok));
	put("authmsg", "seed-jwks", jwks, strlen(jwks));
	free(tok);
	free(jwks);
	as_keyset_free(&ks);
	EVP_PKEY_free(k);
	return 0;
}
