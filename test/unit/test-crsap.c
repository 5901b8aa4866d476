// SPDX-License-Identifier: GPL-2.0-only
/* CRSAP: report and response codec, framing, and report authentication
 * (forged, replayed, stale, malformed reports are refused). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "crsap.h"

#define NOW 1764000000000ull /* Unix ms */
#define SKEW 60000ull

static const char *KEY_T1 =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char *KEY_T2 =
	"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff00112233445566778899aabbccddeeff";

static struct crsap_keyring *kr;
static struct crsap_replay *rp;
static char keyfile[64];

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void setup(void)
{
	char text[512], err[256];

	snprintf(keyfile, sizeof(keyfile), "/tmp/xcrs-t-keys-%d", getpid());
	snprintf(text, sizeof(text),
		 "# test keys\n"
		 "t1 192.0.2.10 %s\n"
		 "t2 peer %s   # address of the connection\n",
		 KEY_T1, KEY_T2);
	write_file(keyfile, text, 0600);
	cr_assert_eq(crsap_keyring_load(keyfile, &kr, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(crsap_replay_new(64, &rp), 0);
}

static void teardown(void)
{
	crsap_keyring_free(kr);
	crsap_replay_free(rp);
	unlink(keyfile);
}

static void report_of(struct crsap_report *r, const char *id, uint64_t t,
		      enum crsap_status st)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ms, sizeof(r->ms), "%s", id);
	r->time_ms = t;
	cr_assert_eq(crsap_nonce(r->nonce), 0);
	r->status = st;
}

/* A frame without its length prefix, in a malloc'd buffer. */
static uint8_t *frame_of(const struct crsap_report *r, const char *keyhex,
			 size_t *len)
{
	uint8_t key[32], *f;
	char *xml;
	size_t xl, fl;

	for (int i = 0; i < 32; i++)
		sscanf(keyhex + 2 * i, "%2hhx", &key[i]);
	cr_assert_eq(crsap_report_build(r, &xml, &xl), 0);
	cr_assert_eq(crsap_frame_build(r->ms, key, 32, xml, xl, &f, &fl), 0);
	free(xml);
	cr_assert_eq(crsap_frame_size(f, fl), (long)fl);
	memmove(f, f + 4, fl - 4);
	*len = fl - 4;
	return f;
}

/* A frame of a hand-written body, MAC'd correctly with t1's key. */
static uint8_t *frame_raw(const char *body, size_t *len)
{
	uint8_t key[32], *f;
	size_t fl;

	for (int i = 0; i < 32; i++)
		sscanf(KEY_T1 + 2 * i, "%2hhx", &key[i]);
	cr_assert_eq(crsap_frame_build("t1", key, 32, body, strlen(body), &f,
				       &fl), 0);
	memmove(f, f + 4, fl - 4);
	*len = fl - 4;
	return f;
}

static enum crsap_verdict verify(const uint8_t *f, size_t len,
				 struct crsap_report *out, char *err)
{
	const struct crsap_key *k = NULL;

	return crsap_verify_report(kr, rp, f, len, NOW, SKEW, out, &k, err,
				   256);
}

TestSuite(crsap, .init = setup, .fini = teardown);

Test(crsap, report_round_trip_escapes_text)
{
	struct crsap_report r, back;
	char *xml, err[256];
	size_t xl;

	report_of(&r, "t1", NOW, CRSAP_STATUS_INFECTED);
	snprintf(r.os_name, sizeof(r.os_name), "Android");
	snprintf(r.os_version, sizeof(r.os_version), "14");
	snprintf(r.patch_level, sizeof(r.patch_level), "2026-10-01");
	snprintf(r.av_product, sizeof(r.av_product), "Scanner <&> \"x\"");
	snprintf(r.threats[0].name, sizeof(r.threats[0].name), "Worm&<b>");
	r.threats[0].severity = 2;
	r.threats[0].signature = 4294967295u;
	snprintf(r.threats[0].evidence, sizeof(r.threats[0].evidence),
		 "]]> in evidence");
	r.nthreats = 1;
	snprintf(r.remedies[0].action, sizeof(r.remedies[0].action), "scan");
	snprintf(r.remedies[0].result, sizeof(r.remedies[0].result), "done");
	r.nremedies = 1;
	cr_assert_eq(crsap_report_build(&r, &xml, &xl), 0);
	cr_assert_eq(crsap_report_parse(xml, xl, &back, err, sizeof(err)), 0,
		     "%s\n%s", err, xml);
	free(xml);
	cr_expect_str_eq(back.ms, "t1");
	cr_expect_eq(back.time_ms, NOW);
	cr_expect_str_eq(back.nonce, r.nonce);
	cr_expect_eq(back.status, CRSAP_STATUS_INFECTED);
	cr_expect_str_eq(back.os_name, "Android");
	cr_expect_str_eq(back.os_version, "14");
	cr_expect_str_eq(back.patch_level, "2026-10-01");
	cr_expect_str_eq(back.av_product, "Scanner <&> \"x\"");
	cr_assert_eq(back.nthreats, 1);
	cr_expect_str_eq(back.threats[0].name, "Worm&<b>");
	cr_expect_eq(back.threats[0].severity, 2);
	cr_expect_eq(back.threats[0].signature, 4294967295u);
	cr_expect_str_eq(back.threats[0].evidence, "]]> in evidence");
	cr_assert_eq(back.nremedies, 1);
	cr_expect_str_eq(back.remedies[0].action, "scan");
}

Test(crsap, response_round_trip)
{
	struct crsap_response r = {0}, back;
	char *xml, err[256];
	size_t xl;

	snprintf(r.ms, sizeof(r.ms), "t1");
	r.time_ms = NOW;
	cr_assert_eq(crsap_nonce(r.nonce), 0);
	cr_assert_eq(crsap_nonce(r.in_response_to), 0);
	snprintf(r.evaluation, sizeof(r.evaluation), "infected");
	snprintf(r.level, sizeof(r.level), "quarantined");
	r.until_ms = NOW + 3600000;
	snprintf(r.rule, sizeof(r.rule), "infected-report");
	snprintf(r.allowed[0], sizeof(r.allowed[0]), "dns");
	snprintf(r.allowed[1], sizeof(r.allowed[1]), "remediation");
	r.nallowed = 2;
	snprintf(r.actions[0], sizeof(r.actions[0]), "scan");
	r.nactions = 1;
	snprintf(r.remediation[0].service, sizeof(r.remediation[0].service),
		 "remediation");
	snprintf(r.remediation[0].prefix, sizeof(r.remediation[0].prefix),
		 "198.51.100.80/32");
	snprintf(r.remediation[0].protocol, sizeof(r.remediation[0].protocol),
		 "tcp");
	snprintf(r.remediation[0].ports, sizeof(r.remediation[0].ports), "80");
	r.nremediation = 1;
	snprintf(r.reason, sizeof(r.reason), "reported infected");
	cr_assert_eq(crsap_response_build(&r, &xml, &xl), 0);
	cr_assert_eq(crsap_response_parse(xml, xl, &back, err, sizeof(err)),
		     0, "%s", err);
	free(xml);
	cr_expect_str_eq(back.in_response_to, r.in_response_to);
	cr_expect_str_eq(back.level, "quarantined");
	cr_expect_eq(back.until_ms, NOW + 3600000);
	cr_expect_eq(back.nallowed, 2);
	cr_expect_str_eq(back.allowed[1], "remediation");
	cr_expect_str_eq(back.remediation[0].prefix, "198.51.100.80/32");
	cr_expect_str_eq(back.remediation[0].ports, "80");
	cr_expect_str_eq(back.reason, "reported infected");
}

Test(crsap, valid_report_is_accepted_with_its_key_entry)
{
	struct crsap_report r, out;
	const struct crsap_key *k = NULL;
	char err[256] = "";
	uint8_t *f;
	size_t len;
	struct xcrs_addr want;

	report_of(&r, "t1", NOW - 1000, CRSAP_STATUS_OUTDATED);
	f = frame_of(&r, KEY_T1, &len);
	cr_assert_eq(crsap_verify_report(kr, rp, f, len, NOW, SKEW, &out, &k,
					 err, sizeof(err)),
		     CRSAP_OK, "%s", err);
	cr_expect_eq(out.status, CRSAP_STATUS_OUTDATED);
	cr_assert(k);
	cr_assert_eq(addr_parse("192.0.2.10", &want), 0);
	cr_expect_eq(memcmp(&k->addr, &want, sizeof(want)), 0);
	cr_expect_not(k->peer);
	cr_expect(crsap_keyring_find(kr, "t2")->peer);
	free(f);
}

Test(crsap, forged_reports_are_refused)
{
	struct crsap_report r, out;
	char err[256];
	uint8_t *f;
	size_t len;
	char *p;

	/* signed with another terminal's key */
	report_of(&r, "t1", NOW, CRSAP_STATUS_CLEAN);
	f = frame_of(&r, KEY_T2, &len);
	cr_expect_eq(verify(f, len, &out, err), CRSAP_FORGED);
	cr_expect(strstr(err, "MAC"), "%s", err);
	free(f);
	/* body changed after signing: infected -> clean */
	report_of(&r, "t1", NOW, CRSAP_STATUS_INFECTED);
	f = frame_of(&r, KEY_T1, &len);
	p = memmem(f, len, "infected", 8);
	cr_assert(p);
	memcpy(p, "outdated", 8);
	cr_expect_eq(verify(f, len, &out, err), CRSAP_FORGED);
	free(f);
	/* t2's report under t1's id and key: the MAC fits, the id does not */
	report_of(&r, "t2", NOW, CRSAP_STATUS_CLEAN);
	{
		uint8_t key[32], *g;
		char *xml;
		size_t xl, gl;

		for (int i = 0; i < 32; i++)
			sscanf(KEY_T1 + 2 * i, "%2hhx", &key[i]);
		cr_assert_eq(crsap_report_build(&r, &xml, &xl), 0);
		cr_assert_eq(crsap_frame_build("t1", key, 32, xml, xl, &g, &gl),
			     0);
		free(xml);
		cr_expect_eq(verify(g + 4, gl - 4, &out, err), CRSAP_FORGED);
		cr_expect(strstr(err, "under the key"), "%s", err);
		free(g);
	}
}

Test(crsap, unknown_terminal_is_refused)
{
	struct crsap_report r, out;
	char err[256];
	uint8_t *f;
	size_t len;

	report_of(&r, "t9", NOW, CRSAP_STATUS_CLEAN);
	f = frame_of(&r, KEY_T1, &len);
	cr_expect_eq(verify(f, len, &out, err), CRSAP_UNKNOWN);
	free(f);
}

Test(crsap, replayed_report_is_refused_until_it_is_stale_anyway)
{
	struct crsap_report r, out;
	const struct crsap_key *k;
	char err[256];
	uint8_t *f;
	size_t len;

	report_of(&r, "t1", NOW, CRSAP_STATUS_CLEAN);
	f = frame_of(&r, KEY_T1, &len);
	cr_assert_eq(verify(f, len, &out, err), CRSAP_OK, "%s", err);
	cr_expect_eq(verify(f, len, &out, err), CRSAP_REPLAYED);
	cr_expect(strstr(err, "seen before"), "%s", err);
	/* at the edge of the skew window it is still remembered ... */
	cr_expect_eq(crsap_verify_report(kr, rp, f, len, NOW + SKEW, SKEW,
					 &out, &k, err, sizeof(err)),
		     CRSAP_REPLAYED);
	/* ... and past it the timestamp refuses it */
	cr_expect_eq(crsap_verify_report(kr, rp, f, len, NOW + SKEW + 1, SKEW,
					 &out, &k, err, sizeof(err)),
		     CRSAP_STALE);
	free(f);
}

Test(crsap, stale_and_future_reports_are_refused)
{
	struct crsap_report r, out;
	char err[256];
	uint8_t *f;
	size_t len;

	report_of(&r, "t1", NOW - SKEW - 1, CRSAP_STATUS_CLEAN);
	f = frame_of(&r, KEY_T1, &len);
	cr_expect_eq(verify(f, len, &out, err), CRSAP_STALE);
	cr_expect(strstr(err, "older"), "%s", err);
	free(f);
	report_of(&r, "t1", NOW + SKEW + 1, CRSAP_STATUS_CLEAN);
	f = frame_of(&r, KEY_T1, &len);
	cr_expect_eq(verify(f, len, &out, err), CRSAP_STALE);
	cr_expect(strstr(err, "newer"), "%s", err);
	free(f);
	report_of(&r, "t1", NOW - SKEW, CRSAP_STATUS_CLEAN);
	f = frame_of(&r, KEY_T1, &len);
	cr_expect_eq(verify(f, len, &out, err), CRSAP_OK, "%s", err);
	free(f);
}

Test(crsap, replay_cache_full_refuses_instead_of_forgetting)
{
	struct crsap_report r, out;
	char err[256];
	uint8_t *f;
	size_t len;
	int i;

	for (i = 0; i < 64; i++) {
		report_of(&r, "t1", NOW, CRSAP_STATUS_CLEAN);
		f = frame_of(&r, KEY_T1, &len);
		cr_assert_eq(verify(f, len, &out, err), CRSAP_OK, "%d: %s", i,
			     err);
		free(f);
	}
	report_of(&r, "t1", NOW, CRSAP_STATUS_CLEAN);
	f = frame_of(&r, KEY_T1, &len);
	cr_expect_eq(verify(f, len, &out, err), CRSAP_BUSY);
	free(f);
	/* once the old nonces can no longer pass the skew check, they go */
	cr_expect_eq(crsap_replay_add(rp, "t1", "00", NOW + 10 * SKEW,
				      NOW + 2 * SKEW + 2),
		     0);
	cr_expect_eq(crsap_replay_count(rp), 1);
}

static void expect_malformed(const char *body, const char *why)
{
	struct crsap_report out;
	char err[256] = "";
	size_t len;
	uint8_t *f = frame_raw(body, &len);

	cr_expect_eq(verify(f, len, &out, err), CRSAP_MALFORMED,
		     "accepted: %s", body);
	cr_expect(strstr(err, why), "error \"%s\" does not say \"%s\"", err,
		  why);
	free(f);
}

#define HEAD "<sciReport xmlns=\"urn:xcrs:crsap:1\" ms=\"t1\" " \
	     "time=\"1764000000000\" nonce=\"00112233445566778899aabbccddeeff\">"

Test(crsap, malformed_reports_are_refused_with_a_reason)
{
	expect_malformed("not xml at all", "not well-formed");
	expect_malformed(HEAD "<status>clean</status>", "not well-formed");
	expect_malformed("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a "
			 "\"aaaa\"><!ENTITY b \"&a;&a;&a;\">]>" HEAD
			 "<status>&b;</status></sciReport>",
			 "DOCTYPE");
	expect_malformed("<sciReport ms=\"t1\" time=\"1\" nonce=\"00112233445566778899aabbccddeeff\">"
			 "<status>clean</status></sciReport>",
			 "root element");
	expect_malformed(HEAD "</sciReport>", "<status> is missing");
	expect_malformed(HEAD "<status>fine</status></sciReport>",
			 "not clean, outdated or infected");
	expect_malformed(HEAD "<status>clean</status><extra/></sciReport>",
			 "unexpected element <extra>");
	expect_malformed(HEAD "<status>clean</status><threat name=\"x\" "
			      "severity=\"0\"/></sciReport>",
			 "severity must be >= 1");
	expect_malformed(HEAD "<status>clean</status><threat name=\"x\" "
			      "severity=\"high\"/></sciReport>",
			 "threat/@severity");
	expect_malformed(HEAD "<status>clean</status><os><a><b><c/></b></a>"
			      "</os></sciReport>",
			 "nested deeper");
	expect_malformed("<sciReport xmlns=\"urn:xcrs:crsap:1\" ms=\"t1\" "
			 "time=\"1764000000000\" nonce=\"short\"><status>clean"
			 "</status></sciReport>",
			 "nonce");
	expect_malformed("<sciReport xmlns=\"urn:xcrs:crsap:1\" ms=\"t1\" "
			 "nonce=\"00112233445566778899aabbccddeeff\"><status>"
			 "clean</status></sciReport>",
			 "@time is missing");
}

Test(crsap, too_many_threats_is_malformed)
{
	char body[8192];
	size_t n = (size_t)snprintf(body, sizeof(body), "%s<status>infected"
				    "</status>", HEAD);

	for (int i = 0; i <= CRSAP_THREATS_MAX; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
				      "<threat name=\"w%d\" severity=\"1\"/>", i);
	snprintf(body + n, sizeof(body) - n, "</sciReport>");
	expect_malformed(body, "more than");
}

Test(crsap, bad_frames_are_malformed)
{
	struct crsap_report out;
	char err[256];
	static const char *frames[] = {
		"XCRS2 t1 00\n<x/>",
		"XCRS1 t1\n<x/>",
		"XCRS1  " "0000000000000000000000000000000000000000000000000000000000000000\n<x/>",
		"XCRS1 t#1 0000000000000000000000000000000000000000000000000000000000000000\n<x/>",
		"XCRS1 t1 zz00000000000000000000000000000000000000000000000000000000000000\n<x/>",
		"XCRS1 t1 0000000000000000000000000000000000000000000000000000000000000000\n",
	};
	uint8_t hdr[4] = {0, 0, 0, 0}, big[4] = {0, 1, 0, 1};

	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		cr_expect_eq(verify((const uint8_t *)frames[i],
				    strlen(frames[i]), &out, err),
			     CRSAP_MALFORMED, "frame %zu accepted", i);
	cr_expect_eq(crsap_frame_size(hdr, 3), 0);
	cr_expect_eq(crsap_frame_size(hdr, 4), -EMSGSIZE);
	cr_expect_eq(crsap_frame_size(big, 4), -EMSGSIZE);
}

Test(crsap, key_file_errors_name_the_line)
{
	struct crsap_keyring *k2 = NULL;
	char path[64], err[256];

	snprintf(path, sizeof(path), "/tmp/xcrs-t-keys2-%d", getpid());
	write_file(path, "t1 192.0.2.10 00\n", 0600);
	cr_expect_eq(crsap_keyring_load(path, &k2, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, ":1: key must be"), "%s", err);
	write_file(path, "# c\n\nt1 192.0.2.999 " "000102030405060708090a0b0c0d0e0f\n", 0600);
	cr_expect_eq(crsap_keyring_load(path, &k2, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, ":3: \"192.0.2.999\" is not an address"), "%s",
		  err);
	write_file(path, "t1 peer 000102030405060708090a0b0c0d0e0f\n"
			 "t1 peer 000102030405060708090a0b0c0d0e0f\n", 0600);
	cr_expect_eq(crsap_keyring_load(path, &k2, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, ":2: terminal \"t1\" listed twice"), "%s", err);
	write_file(path, "t1 peer 000102030405060708090a0b0c0d0e0f\n", 0644);
	cr_expect_eq(crsap_keyring_load(path, &k2, err, sizeof(err)), -EPERM);
	cr_expect(strstr(err, "chmod 600"), "%s", err);
	unlink(path);
	cr_expect_null(k2);
}
