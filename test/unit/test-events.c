// SPDX-License-Identifier: GPL-2.0-only
/* Sensor events: Suricata EVE alerts and the generic JSON-lines format. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "addr.h"
#include "events.h"

static int parse_eve(const char *s, struct ev_alert *a, char *err)
{
	return ev_parse_eve(s, strlen(s), a, err, 256);
}

#define ALERT(src, dst, body)                                                  \
	"{\"timestamp\":\"2026-11-24T10:00:00.000000+0000\",\"flow_id\":1,"    \
	"\"event_type\":\"alert\",\"src_ip\":\"" src "\",\"src_port\":4000,"   \
	"\"dest_ip\":\"" dst "\",\"dest_port\":445,\"proto\":\"TCP\","         \
	"\"alert\":" body "}"
#define BODY(sev)                                                              \
	"{\"action\":\"allowed\",\"gid\":1,\"signature_id\":2100498,"          \
	"\"rev\":3,\"signature\":\"ET WORM x\",\"category\":\"c\","            \
	"\"severity\":" sev "}"

Test(events, eve_alert)
{
	struct ev_alert a;
	struct xcrs_addr want;
	char err[256];

	cr_assert_eq(parse_eve(ALERT("192.0.2.10", "2001:db8::5", BODY("2")),
			       &a, err),
		     1, "%s", err);
	cr_assert_eq(addr_parse("192.0.2.10", &want), 0);
	cr_expect_eq(memcmp(&a.src, &want, sizeof(want)), 0);
	cr_assert_eq(addr_parse("2001:db8::5", &want), 0);
	cr_expect_eq(memcmp(&a.dst, &want, sizeof(want)), 0);
	cr_expect_eq(a.severity, 2);
	cr_expect_eq(a.signature, 2100498);
	cr_expect_str_eq(a.text, "ET WORM x");
	cr_expect_str_eq(a.sensor, "suricata");
}

Test(events, eve_other_event_types_are_ignored)
{
	struct ev_alert a;
	char err[256];

	cr_expect_eq(parse_eve("{\"event_type\":\"flow\",\"src_ip\":\"x\"}", &a,
			       err),
		     0);
	cr_expect_eq(parse_eve("{\"event_type\":\"stats\",\"stats\":{}}", &a,
			       err),
		     0);
}

static void expect_bad(const char *s, const char *why)
{
	struct ev_alert a;
	char err[256] = "";

	cr_expect_eq(parse_eve(s, &a, err), -EBADMSG, "accepted: %s", s);
	cr_expect(strstr(err, why), "\"%s\" does not say \"%s\"", err, why);
}

Test(events, eve_malformed)
{
	expect_bad("", "not a JSON object");
	expect_bad("{\"event_type\":\"alert\"", "not a JSON object");
	expect_bad("[1,2]", "not a JSON object");
	expect_bad("{\"event_type\":\"alert\"} trailing", "trailing");
	expect_bad("{\"src_ip\":\"192.0.2.1\"}", "\"event_type\" is missing");
	expect_bad("{\"event_type\":7}", "\"event_type\" is not a string");
	expect_bad(ALERT("192.0.2.300", "192.0.2.1", BODY("1")),
		   "is not an address");
	expect_bad(ALERT("192.0.2.1", "192.0.2.2", BODY("0")),
		   "\"severity\" is not in 1..255");
	expect_bad(ALERT("192.0.2.1", "192.0.2.2", BODY("\"1\"")),
		   "\"severity\" is not an integer");
	expect_bad(ALERT("192.0.2.1", "192.0.2.2", "3"),
		   "\"alert\" is missing or not an object");
	expect_bad("{\"event_type\":\"alert\",\"src_ip\":\"192.0.2.1\","
		   "\"dest_ip\":\"192.0.2.2\",\"alert\":{\"severity\":1}}",
		   "\"signature_id\" is missing");
}

static bool only_doc_net_a(void *ctx, const struct xcrs_addr *a)
{
	struct xcrs_addr p;
	unsigned plen;

	cr_assert_eq(addr_prefix_parse("192.0.2.0/24", &p, &plen), 0);
	return addr_prefix_contains(&p, plen, a, 128);
}

Test(events, the_subscriber_end_is_the_terminal)
{
	struct ev_alert a;
	struct corr_event ev;
	struct xcrs_addr want;
	char err[256];

	/* inbound attack: the subscriber is the destination */
	cr_assert_eq(parse_eve(ALERT("203.0.113.9", "192.0.2.10", BODY("1")),
			       &a, err),
		     1);
	cr_assert_eq(ev_to_corr(&a, only_doc_net_a, NULL, "eve", &ev), 0);
	cr_assert_eq(addr_parse("192.0.2.10", &want), 0);
	cr_expect_eq(memcmp(&ev.terminal, &want, sizeof(want)), 0);
	cr_expect_eq(ev.kind, CORR_EV_IDS);
	cr_expect_eq(ev.severity, 1);
	cr_expect_eq(ev.signature, 2100498);
	cr_expect_str_eq(ev.source, "eve:suricata");
	/* neither end is ours */
	cr_assert_eq(parse_eve(ALERT("203.0.113.9", "198.51.100.1", BODY("1")),
			       &a, err),
		     1);
	cr_expect_eq(ev_to_corr(&a, only_doc_net_a, NULL, "eve", &ev), -ENOENT);
}

Test(events, generic_format)
{
	struct ev_alert a;
	char err[256] = "";
	const char *ok =
		"{\"terminal\":\"192.0.2.11\",\"severity\":3,"
			 "\"signature_id\":9000001,\"signature\":\"dns "
			 "tunnel\",\"sensor\":\"dpi-1\"}\n";

	cr_assert_eq(ev_parse_generic(ok, strlen(ok), &a, err, sizeof(err)), 1,
		     "%s", err);
	cr_expect_eq(a.severity, 3);
	cr_expect_eq(a.signature, 9000001);
	cr_expect_str_eq(a.sensor, "dpi-1");
	cr_expect_not(a.has_dst);
	ok = "{\"terminal\":\"192.0.2.11\",\"severity\":3}";
	cr_expect_eq(ev_parse_generic(ok, strlen(ok), &a, err, sizeof(err)),
		     -EBADMSG);
	cr_expect(strstr(err, "signature_id"), "%s", err);
}

/* Found by fuzzing: the parser looked for trailing blanks past len (up to
 * a NUL that need not exist). Bytes after len are not the line's. */
Test(events, nothing_past_the_length_is_read)
{
	const char buf[] = "{\"event_type\":\"flow\"}   ";
	struct ev_alert a;
	char err[256] = "";

	cr_expect_eq(ev_parse_eve(buf, strlen(buf) - 3, &a, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(ev_parse_eve("{\"event_type\":\"flow\"}x", 24, &a, err,
				  sizeof(err)),
		     -EBADMSG);
	cr_expect(strstr(err, "trailing"), "%s", err);
}
