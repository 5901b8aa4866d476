// SPDX-License-Identifier: GPL-2.0-only
/* CRSAP's other messages (probe request/response, compulsory update
 * instruction, MS connect report, MS leave, control policy): round trips,
 * rejections, authentication in a frame, and every message the code emits
 * valid against the shipped XSD (agent/lib/crsap/crsap.xsd). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "crsap.h"

#define NONCE "00112233445566778899aabbccddeeff"
#define NONCE2 "ffeeddccbbaa99887766554433221100"

static xmlSchemaPtr schema;
static xmlSchemaParserCtxtPtr pctx;

static void setup(void)
{
	pctx = xmlSchemaNewParserCtxt(XCRS_SRCDIR "/agent/lib/crsap/crsap.xsd");
	cr_assert_not_null(pctx);
	schema = xmlSchemaParse(pctx);
	cr_assert_not_null(schema, "agent/lib/crsap/crsap.xsd does not parse");
}

static void teardown(void)
{
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pctx);
}

TestSuite(msgs, .init = setup, .fini = teardown);

/* Whether doc (len bytes) is valid against the XSD. */
static bool valid(const char *doc, size_t len)
{
	xmlDocPtr d = xmlReadMemory(doc, (int)len, "m.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR |
					    XML_PARSE_NOWARNING);
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	int r;

	cr_assert_not_null(d);
	xmlSchemaSetValidErrors(vc, NULL, NULL, NULL);
	r = xmlSchemaValidateDoc(vc, d);
	xmlSchemaFreeValidCtxt(vc);
	xmlFreeDoc(d);
	return r == 0;
}

#define EMITTED_VALID(build, obj)                                              \
	({                                                                     \
		char *x_ = NULL;                                               \
		size_t n_ = 0;                                                 \
		cr_assert_eq(build(obj, &x_, &n_), 0);                         \
		cr_expect(valid(x_, n_), "not valid against the XSD:\n%s", x_);\
		x_;                                                            \
	})

Test(msgs, probe_round_trip)
{
	struct crsap_probe p = { .ms = "t1", .time_ms = 1764000000000,
				 .nonce = NONCE, .scs = "scs-edge-1",
				 .report_to = "192.0.2.1:7443",
				 .report_interval_s = 3600 }, q;
	char err[256], *x = EMITTED_VALID(crsap_probe_build, &p);

	cr_assert_eq(crsap_probe_parse(x, strlen(x), &q, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_str_eq(q.ms, "t1");
	cr_expect_eq(q.time_ms, p.time_ms);
	cr_expect_str_eq(q.scs, "scs-edge-1");
	cr_expect_str_eq(q.report_to, "192.0.2.1:7443");
	cr_expect_eq(q.report_interval_s, 3600);
	free(x);
}

Test(msgs, probe_response_round_trip)
{
	struct crsap_probe_response p = { .ms = "t1", .time_ms = 5,
					  .nonce = NONCE,
					  .in_response_to = NONCE2,
					  .sca_version = "xcrs-terminal 0.1",
					  .os_name = "Android",
					  .os_version = "14" }, q;
	char err[256], *x = EMITTED_VALID(crsap_probe_response_build, &p);

	cr_assert_eq(crsap_probe_response_parse(x, strlen(x), &q, err,
						sizeof(err)),
		     0, "%s", err);
	cr_expect_str_eq(q.in_response_to, NONCE2);
	cr_expect_str_eq(q.sca_version, "xcrs-terminal 0.1");
	cr_expect_str_eq(q.os_name, "Android");
	cr_expect_str_eq(q.os_version, "14");
	free(x);
}

Test(msgs, update_round_trip)
{
	struct crsap_update u = {
		.ms = "t2", .time_ms = 7, .nonce = NONCE,
		.campaign = "outbreak-cell-a-1", .what = "signatures",
		.delay_ms = 42000, .deadline_ms = 1764000600000,
		.source = { .service = "remediation",
			    .prefix = "198.51.100.80/32", .protocol = "tcp",
			    .ports = "80" },
		.reason = "worm <X> & friends in cell-a",
	}, v;
	char err[256], *x = EMITTED_VALID(crsap_update_build, &u);

	cr_assert_eq(crsap_update_parse(x, strlen(x), &v, err, sizeof(err)), 0,
		     "%s", err);
	cr_expect_str_eq(v.campaign, u.campaign);
	cr_expect_str_eq(v.what, "signatures");
	cr_expect_eq(v.delay_ms, 42000);
	cr_expect_eq(v.deadline_ms, u.deadline_ms);
	cr_expect_str_eq(v.source.prefix, "198.51.100.80/32");
	cr_expect_str_eq(v.source.ports, "80");
	cr_expect_str_eq(v.reason, u.reason, "XML escaping round trip");
	free(x);
}

Test(msgs, nac_messages_round_trip)
{
	static const char *const causes[] = { "first-traffic", "idle", "" };

	for (int k = CRSAP_MS_CONNECT; k <= CRSAP_CONTROL_POLICY; k++) {
		struct crsap_nac m = { .kind = k, .node = "nac-edge-1",
				       .time_ms = 9, .nonce = NONCE,
				       .address = "2001:db8::10",
				       .scope = "cell-a" }, n;
		char err[256], *x;

		snprintf(m.cause, sizeof(m.cause), "%s", causes[k]);
		if (k == CRSAP_CONTROL_POLICY) {
			strcpy(m.evaluation, "infected");
			strcpy(m.level, "quarantined");
			m.until_ms = 1764003600000;
			strcpy(m.rule, "infected-report");
			strcpy(m.reason, "reported infected");
		}
		x = EMITTED_VALID(crsap_nac_build, &m);
		cr_assert_eq(crsap_nac_parse(x, strlen(x), &n, err, sizeof(err)),
			     0, "%s", err);
		cr_expect_eq(n.kind, (enum crsap_nac_kind)k);
		cr_expect_str_eq(n.node, "nac-edge-1");
		cr_expect_str_eq(n.address, "2001:db8::10");
		cr_expect_str_eq(n.scope, "cell-a");
		cr_expect_str_eq(n.cause, m.cause);
		cr_expect_str_eq(n.level, m.level);
		cr_expect_eq(n.until_ms, m.until_ms);
		cr_expect_str_eq(n.rule, m.rule);
		cr_expect_str_eq(n.reason, m.reason);
		free(x);
	}
}

/* The report and response the agent and the reference SCA emit are valid
 * too (with every optional part present, and a notice without
 * inResponseTo). */
Test(msgs, report_and_response_valid)
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
				    .rule = "r", .reason = "why",
				    .nallowed = 1, .nactions = 1,
				    .nremediation = 1 };
	char *x;

	strcpy(r.threats[0].name, "W");
	r.threats[0].severity = 1;
	r.threats[0].signature = 9000001;
	strcpy(r.remedies[0].action, "scan");
	strcpy(r.remedies[0].result, "done");
	strcpy(s.allowed[0], "crs");
	strcpy(s.actions[0], "scan");
	strcpy(s.remediation[0].service, "remediation");
	strcpy(s.remediation[0].prefix, "198.51.100.80/32");
	free(EMITTED_VALID(crsap_report_build, &r));
	x = EMITTED_VALID(crsap_response_build, &s);
	free(x);
	strcpy(s.in_response_to, NONCE2);
	free(EMITTED_VALID(crsap_response_build, &s));
}

static void refuse(int (*parse)(const void *, size_t, void *, char *, size_t),
		   const char *doc, const char *want)
{
	union {
		struct crsap_probe p;
		struct crsap_probe_response pr;
		struct crsap_update u;
		struct crsap_nac n;
	} o;
	char err[256] = "";

	cr_expect_eq(parse(doc, strlen(doc), &o, err, sizeof(err)), -EBADMSG,
		     "accepted: %s", doc);
	cr_expect(strstr(err, want) != NULL, "'%s' does not say '%s'", err,
		  want);
}

#define P(fn) ((int (*)(const void *, size_t, void *, char *, size_t))(fn))
#define HEAD "xmlns=\"urn:xcrs:crsap:1\" ms=\"t1\" time=\"1\" nonce=\"" NONCE "\""
#define NHEAD "xmlns=\"urn:xcrs:crsap:1\" node=\"n1\" time=\"1\" nonce=\"" NONCE "\""

Test(msgs, rejections)
{
	refuse(P(crsap_probe_parse), "<scaProbeRequest " HEAD "/>",
	       "<scs> is missing");
	refuse(P(crsap_probe_parse),
	       "<scaProbeRequest " HEAD "><scs id=\"s\"/><x/></scaProbeRequest>",
	       "unexpected element <x>");
	refuse(P(crsap_probe_parse), "<sciReport " HEAD "/>", "root element");
	refuse(P(crsap_probe_parse),
	       "<scaProbeRequest xmlns=\"urn:xcrs:crsap:1\" ms=\"t1\" time=\"1\" "
	       "nonce=\"xyz\"><scs id=\"s\"/></scaProbeRequest>",
	       "nonce");
	refuse(P(crsap_probe_response_parse),
	       "<scaProbeResponse " HEAD "><sca version=\"1\"/></scaProbeResponse>",
	       "inResponseTo");
	refuse(P(crsap_probe_response_parse),
	       "<scaProbeResponse " HEAD " inResponseTo=\"" NONCE2 "\"/>",
	       "<sca> is missing");
	refuse(P(crsap_update_parse),
	       "<updateInstruction " HEAD "><delay ms=\"1\"/></updateInstruction>",
	       "<update> is missing");
	refuse(P(crsap_update_parse),
	       "<updateInstruction " HEAD "><update what=\"sca\"/>"
	       "<delay ms=\"-1\"/></updateInstruction>",
	       "delay/@ms");
	refuse(P(crsap_nac_parse), "<msConnectReport " NHEAD "/>",
	       "<ms> is missing");
	refuse(P(crsap_nac_parse),
	       "<msLeave " NHEAD "><ms address=\"not-an-address\"/></msLeave>",
	       "not an address");
	refuse(P(crsap_nac_parse),
	       "<msLeave " NHEAD "><ms address=\"192.0.2.1\"/>"
	       "<evaluation>x</evaluation></msLeave>",
	       "unexpected element <evaluation>");
	refuse(P(crsap_nac_parse),
	       "<controlPolicy " NHEAD "><ms address=\"192.0.2.1\"/>"
	       "</controlPolicy>",
	       "<evaluation> or <control> is missing");
	refuse(P(crsap_nac_parse), "<sciReport " HEAD "/>",
	       "not a NAC/SCS message");
	refuse(P(crsap_nac_parse),
	       "<msLeave xmlns=\"urn:xcrs:crsap:1\" ms=\"t1\" time=\"1\" nonce=\""
	       NONCE "\"><ms address=\"192.0.2.1\"/></msLeave>",
	       "node is missing");
	refuse(P(crsap_nac_parse),
	       "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"e\">]>"
	       "<msLeave " NHEAD "/>",
	       "DOCTYPE");
	refuse(P(crsap_nac_parse), "<msLeave", "not well-formed");
}

/* Every message is authenticated the same way: inside a frame MAC'd with
 * the sender's key. */
Test(msgs, frames_authenticate_every_message)
{
	static const uint8_t key[32] = { 1, 2, 3 };
	static uint8_t other[32] = { 9 };
	struct crsap_nac m = { .kind = CRSAP_MS_CONNECT, .node = "nac-1",
			       .time_ms = 1, .nonce = NONCE,
			       .address = "192.0.2.10" };
	struct crsap_frame f;
	uint8_t *frame;
	size_t flen;
	char *x, err[128];
	size_t xlen;

	cr_assert_eq(crsap_nac_build(&m, &x, &xlen), 0);
	cr_assert_eq(crsap_frame_build("nac-1", key, 32, x, xlen, &frame, &flen),
		     0);
	cr_assert_eq(crsap_frame_split(frame + 4, flen - 4, &f, err,
				       sizeof(err)),
		     0, "%s", err);
	cr_expect(crsap_frame_verify(&f, key, 32));
	cr_expect_not(crsap_frame_verify(&f, other, 32));
	frame[flen - 3] ^= 1;
	cr_assert_eq(crsap_frame_split(frame + 4, flen - 4, &f, err,
				       sizeof(err)),
		     0);
	cr_expect_not(crsap_frame_verify(&f, key, 32), "altered body");
	free(frame);
	free(x);
}

Test(msgs, root_dispatch)
{
	static const char doc[] = "<msLeave " NHEAD "/>";
	char buf[32];

	cr_expect_str_eq(crsap_root(doc, strlen(doc), buf, sizeof(buf)) ?: "",
			 "msLeave");
	cr_expect_null(crsap_root("<x/>", 4, buf, sizeof(buf)));
}
