// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's line protocols without the agent: control requests and
 * session-feed lines, what each command requires, and every refusal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "addr.h"
#include "lineproto.h"

static int parse(const char *s, struct ctl_req *r, char *err)
{
	return ctl_parse(s, strlen(s), r, err, 256);
}

Test(ctl, every_command_with_its_arguments)
{
	struct ctl_req r;
	struct xcrs_addr a;
	char err[256] = "";

	cr_assert_eq(parse("{\"cmd\":\"status\"}", &r, err), 0, "%s", err);
	cr_expect_eq(r.cmd, CTL_STATUS);
	cr_assert_eq(parse("{\"cmd\":\"react\",\"terminal\":\"192.0.2.7\","
			   "\"level\":\"quarantined\",\"for\":\"10m\","
			   "\"reason\":\"by hand\"}\r\n", &r, err), 0, "%s",
		     err);
	cr_expect_eq(r.cmd, CTL_REACT);
	cr_assert_eq(addr_parse("192.0.2.7", &a), 0);
	cr_expect_eq(memcmp(&a, &r.terminal, sizeof(a)), 0);
	cr_expect_str_eq(r.level, "quarantined");
	cr_expect_str_eq(r.reason, "by hand");
	cr_expect_eq(r.for_ns, 600ULL * 1000000000ULL);
	cr_assert_eq(parse("{\"cmd\":\"scope-contain\",\"scope\":\"lab\","
			   "\"mode\":\"no-lateral\"}", &r, err), 0);
	cr_expect_eq(r.mode, XCRS_CONTAIN_NO_LATERAL);
	cr_expect_eq(r.for_ns, 0);
	cr_assert_eq(parse("{\"cmd\":\"scope-contain\",\"scope\":\"lab\"}",
			   &r, err), 0);
	cr_expect_eq(r.mode, XCRS_CONTAIN_NONE);
	cr_assert_eq(parse("{\"cmd\":\"release\",\"terminal\":\"2001:db8::1\"}",
			   &r, err), 0);
	cr_expect_eq(r.cmd, CTL_RELEASE);
	cr_assert_eq(parse("{\"cmd\":\"reload\"}", &r, err), 0);
	cr_expect_eq(r.cmd, CTL_RELOAD);
}

Test(ctl, refusals_say_why)
{
	static const struct {
		const char *line, *why;
	} c[] = {
		{ "", "JSON object" },
		{ "[1,2]", "JSON object" },
		{ "{\"cmd\":\"status\"} {}", "JSON object" },
		{ "{\"cmd\":\"status\"", "JSON object" },
		{ "{\"cmd\":7}", "JSON object" },
		{ "{\"cmd\":\"status\",\"x\":{\"y\":{\"z\":{\"w\":1}}}}",
		  "JSON object" },
		{ "{\"cmd\":\"halt\"}", "unknown command" },
		{ "{\"cmd\":\"show\"}", "\"terminal\"" },
		{ "{\"cmd\":\"show\",\"terminal\":\"192.0.2.300\"}",
		  "not an IPv4" },
		{ "{\"cmd\":\"react\",\"terminal\":\"192.0.2.1\"}", "\"level\"" },
		{ "{\"cmd\":\"react\",\"terminal\":\"192.0.2.1\",\"level\":\"\"}",
		  "1 to 63" },
		{ "{\"cmd\":\"react\",\"terminal\":\"192.0.2.1\",\"level\":"
		  "\"a\\u0001b\"}", "control character" },
		{ "{\"cmd\":\"react\",\"terminal\":\"192.0.2.1\",\"level\":"
		  "\"l\",\"for\":\"soon\"}", "not a duration" },
		{ "{\"cmd\":\"react\",\"terminal\":\"192.0.2.1\",\"level\":"
		  "\"l\",\"for\":\"0s\"}", "not a duration" },
		{ "{\"cmd\":\"scope-contain\"}", "\"scope\"" },
		{ "{\"cmd\":\"scope-contain\",\"scope\":\"s\",\"mode\":\"all\"}",
		  "expected isolate" },
		{ "{\"cmd\":\"scope-release\",\"scope\":"
		  "\"0123456789012345678901234567890123456789012345678901234567"
		  "890123\"}", "1 to 63" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct ctl_req r;
		char err[256] = "";

		cr_expect_eq(parse(c[i].line, &r, err), -EINVAL, "accepted: %s",
			     c[i].line);
		cr_expect(strstr(err, c[i].why), "%s: message \"%s\"", c[i].line,
			  err);
	}
}

Test(ctl, a_long_reason_is_cut_not_refused)
{
	char line[2048], err[256];
	struct ctl_req r;

	snprintf(line, sizeof(line),
		 "{\"cmd\":\"react\",\"terminal\":\"192.0.2.1\",\"level\":"
		 "\"l\",\"reason\":\"%0900d\"}", 0);
	cr_assert_eq(ctl_parse(line, strlen(line), &r, err, sizeof(err)), 0);
	cr_expect_eq(strlen(r.reason), CTL_REASON_MAX - 1);
}

Test(session, connect_leave_and_refusals)
{
	struct xcrs_addr a, want;
	bool conn = false;
	const char *ok = "{\"event\":\"connect\",\"ms\":\"192.0.2.9\"} \r";

	cr_assert_eq(session_line_parse(ok, strlen(ok), &conn, &a), 0);
	cr_expect(conn);
	cr_assert_eq(addr_parse("192.0.2.9", &want), 0);
	cr_expect_eq(memcmp(&a, &want, sizeof(a)), 0);
	ok = "{\"ms\":\"2001:db8::9\",\"event\":\"leave\"}";
	cr_assert_eq(session_line_parse(ok, strlen(ok), &conn, &a), 0);
	cr_expect_not(conn);
	cr_expect_eq(session_line_parse(" \r", 2, &conn, &a), -ENODATA);
	static const char *bad[] = {
		"{\"event\":\"connect\"}",
		"{\"event\":\"hello\",\"ms\":\"192.0.2.9\"}",
		"{\"event\":\"connect\",\"ms\":\"192.0.2\"}",
		"{\"event\":\"connect\",\"ms\":9}",
		"{\"event\":\"connect\",\"ms\":\"192.0.2.9\"}x",
		"\"connect 192.0.2.9\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(session_line_parse(bad[i], strlen(bad[i]), &conn,
						&a),
			     -EINVAL, "accepted: %s", bad[i]);
}

Test(ctl, prefixes_for_react_and_release_only)
{
	struct ctl_req r;
	char err[256] = "";

	cr_assert_eq(parse("{\"cmd\":\"react\",\"terminal\":\"192.0.2.64/28\","
			   "\"level\":\"q\"}", &r, err), 0, "%s", err);
	cr_expect_eq(r.plen, 96 + 28);
	cr_assert_eq(parse("{\"cmd\":\"release\",\"terminal\":\"2001:db8::/32\"}",
			   &r, err), 0, "%s", err);
	cr_expect_eq(r.plen, 32);
	cr_assert_eq(parse("{\"cmd\":\"react\",\"terminal\":\"192.0.2.7\","
			   "\"level\":\"q\"}", &r, err), 0);
	cr_expect_eq(r.plen, 128);
	cr_expect_eq(parse("{\"cmd\":\"show\",\"terminal\":\"192.0.2.64/28\"}",
			   &r, err), -EINVAL);
	cr_expect_eq(parse("{\"cmd\":\"react\",\"terminal\":\"192.0.2.65/28\","
			   "\"level\":\"q\"}", &r, err), -EINVAL);
	cr_expect(strstr(err, "without host bits"), "%s", err);
}
