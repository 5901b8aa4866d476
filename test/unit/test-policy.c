// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy parser: the shipped examples load into the model an operator
 * expects, and every kind of mistake is refused with its exact
 * file:line:col and what was expected.
 */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "addr.h"
#include "policy.h"

#define NS(s) ((uint64_t)(s) * 1000000000ULL)

static struct policy *load_ok(const char *text)
{
	struct policy *p = NULL;
	struct policy_error e;
	int r = policy_load_string(text, strlen(text), "t.yaml", &p, &e);

	cr_assert_eq(r, 0, "refused: %s", e.msg);
	return p;
}

static void load_bad(const char *text, const char *want)
{
	struct policy *p = NULL;
	struct policy_error e;
	int r = policy_load_string(text, strlen(text), "t.yaml", &p, &e);

	cr_expect_neq(r, 0, "accepted, expected: %s", want);
	cr_expect_null(p);
	if (r)
		cr_expect_str_eq(e.msg, want);
	policy_free(p);
}

#define LEVELS "levels:\n  - name: normal\n    allow: all\n"

Test(policy, example_small_operator)
{
	struct policy *p = NULL;
	struct policy_error e;
	char t[ADDR_STRLEN];
	int r = policy_load(XCRS_SRCDIR "/policy/examples/small-operator.yaml",
			    &p, &e);

	cr_assert_eq(r, 0, "%s", e.msg);
	cr_expect_str_eq(p->agent.pin_dir, "/sys/fs/bpf/xcrs");
	cr_assert_eq(p->ninterfaces, 2);
	cr_expect_eq(p->interfaces[0].role, XCRS_ROLE_ACCESS);
	cr_expect(p->interfaces[0].gtpu);
	cr_expect_eq(p->interfaces[1].role, XCRS_ROLE_CORE);
	cr_expect_not(p->interfaces[1].gtpu);

	cr_assert_eq(p->nservices, 3);
	cr_expect_str_eq(p->services[1].name, "remediation");
	cr_expect(p->services[1].remediation);
	/* dns: 2 prefixes × (udp, tcp) */
	cr_expect_eq(p->services[0].nrules, 4);
	/* remediation: 2 prefixes × 2 ports */
	cr_assert_eq(p->services[1].nrules, 4);
	cr_expect_eq(p->services[1].rules[1].port_lo, 443);
	addr_prefix_format(&p->services[1].rules[0].prefix.addr,
			   p->services[1].rules[0].prefix.plen, t, sizeof(t));
	cr_expect_str_eq(t, "198.51.100.80/29");

	cr_assert_eq(p->nlevels, 5);
	cr_expect_eq(p->levels[0].allowed, XCRS_SVC_ALL);
	cr_expect_not(p->levels[0].fail_closed);
	cr_expect(p->levels[1].fail_closed, "monitored: fail_closed: true");
	cr_expect_eq(p->levels[2].rate_Bps, 250000, "2Mbit is 250000 B/s");
	cr_expect_eq(p->levels[2].burst_B, 256000);
	cr_expect(p->levels[2].fail_closed);
	cr_expect_eq(p->levels[3].allowed, 0x3);
	cr_expect_eq(p->levels[4].allowed, 0);
	cr_expect_eq(p->default_level, -1);

	cr_assert_eq(p->nscopes, 3);
	cr_expect_eq(p->scopes[0].containment, XCRS_CONTAIN_NO_LATERAL);
	cr_expect_str_eq(p->scopes[1].apns[0], "iot.example");
	cr_expect_eq(policy_session_scope(p, "internet",
					  "tai:001-01-0001/ecgi:001-01-0000101"),
		     2);
	cr_expect_eq(p->scopes[1].containment, XCRS_CONTAIN_ISOLATE);
	cr_expect_eq(p->scopes[1].isolate_allowed, 0x3);
	cr_expect_eq(p->scopes[0].isolate_allowed, 0x2,
		     "isolate defaults to the remediation services");
	cr_expect_eq(p->nsubscribers, 1);
	cr_expect_eq(p->subscribers[0].scope, 0);

	cr_expect(p->reports.enabled);
	cr_expect_eq(p->reports.max_skew_ns, NS(300));
	cr_assert_eq(p->ninputs, 2);
	cr_expect_eq(p->inputs[0].kind, POLICY_IN_EVE_FILE);
	cr_expect_eq(p->inputs[1].kind, POLICY_IN_EVENT_SOCKET);
	cr_expect_eq(p->fanout_threshold, 64);
	cr_expect_eq(p->fanout_window_ns, NS(10));

	cr_assert_eq(p->nrules, 5);
	cr_expect_eq(p->rules[0].on, POLICY_ON_REPORT);
	cr_expect_eq(p->rules[0].statuses, 1u << CRSAP_STATUS_INFECTED);
	cr_expect_eq(p->rules[0].level, 3);
	cr_expect_eq(p->rules[0].duration_ns, NS(7200));
	cr_expect(p->rules[0].release_on_clean);
	cr_expect_eq(p->rules[2].count, 3);
	cr_expect_eq(p->rules[2].severity_max, 2);
	cr_expect_eq(p->rules[2].window_ns, NS(600));
	cr_expect(p->rules[3].contain);
	cr_expect_eq(p->rules[3].terminals, 5);
	cr_expect_eq(p->rules[4].on, POLICY_ON_FANOUT);
	policy_free(p);
}

Test(policy, example_demo)
{
	struct policy *p = NULL;
	struct policy_error e;

	cr_assert_eq(policy_load(XCRS_SRCDIR "/policy/examples/demo.yaml", &p,
				 &e),
		     0, "%s", e.msg);
	policy_free(p);
}

Test(policy, minimal_and_defaults)
{
	struct policy *p = load_ok("version: 1\n" LEVELS);

	cr_expect_eq(p->nlevels, 1);
	cr_expect_eq(p->default_level, -1);
	cr_expect_str_eq(p->agent.control_socket, "/run/xcrs/agent.sock");
	cr_expect_not(p->reports.enabled);
	cr_expect_eq(p->fanout_threshold, 0);
	policy_free(p);
}

Test(policy, scope_ids_are_assigned_around_given_ones)
{
	struct policy *p = load_ok("version: 1\n" LEVELS
				   "scopes:\n"
				   "  - name: a\n"
				   "  - name: b\n"
				   "    id: 1\n"
				   "  - name: c\n");

	cr_expect_eq(p->scopes[0].id, 2);
	cr_expect_eq(p->scopes[1].id, 1);
	cr_expect_eq(p->scopes[2].id, 3);
	policy_free(p);
}

Test(policy, sections_in_any_order)
{
	struct policy *p = load_ok("rules:\n"
				   "  - name: r\n"
				   "    on: fanout\n"
				   "    react: {level: q}\n"
				   "levels:\n"
				   "  - name: n\n"
				   "    allow: all\n"
				   "  - name: q\n"
				   "    allow: []\n"
				   "version: 1\n");

	cr_expect_eq(p->rules[0].level, 1);
	policy_free(p);
}

Test(duration, forms)
{
	uint64_t ns;
	char buf[32];

	cr_assert_eq(duration_parse("1h30m", &ns), 0);
	cr_expect_eq(ns, NS(5400));
	cr_assert_eq(duration_parse("500ms", &ns), 0);
	cr_expect_eq(ns, 500000000ULL);
	cr_assert_eq(duration_parse("2d", &ns), 0);
	cr_expect_eq(ns, NS(172800));
	cr_expect_eq(duration_parse("10", &ns), -EINVAL);
	cr_expect_eq(duration_parse("5m1h", &ns), -EINVAL);
	cr_expect_eq(duration_parse("1x", &ns), -EINVAL);
	cr_expect_eq(duration_parse("", &ns), -EINVAL);
	duration_format(NS(5400), buf, sizeof(buf));
	cr_expect_str_eq(buf, "1h30m");
	duration_format(0, buf, sizeof(buf));
	cr_expect_str_eq(buf, "0s");
}

/* ---- one test per error, with its exact position ---- */

Test(errors, yaml_syntax)
{
	load_bad("version: 1\nlevels: [\n", "t.yaml:3:1: did not find "
					    "expected node content while "
					    "parsing a flow node");
}

Test(errors, empty_file)
{
	load_bad("", "t.yaml: the file is empty");
}

Test(errors, top_level_not_a_mapping)
{
	load_bad("- a\n", "t.yaml:1:1: expected a mapping of sections at the "
			  "top, found a list");
}

Test(errors, missing_version)
{
	load_bad(LEVELS, "t.yaml:1:1: missing 'version: 1'");
}

Test(errors, wrong_version)
{
	load_bad("version: 2\n" LEVELS,
		 "t.yaml:1:10: version: 2 is out of range (1..1)");
}

Test(errors, unknown_section)
{
	load_bad("version: 1\n" LEVELS "level:\n  - x\n",
		 "t.yaml:5:1: unknown section 'level' (expected version, "
		 "agent, interfaces, services, levels, unknown_subscribers, "
		 "non_ip, unassigned_source, ran, scopes, subscribers, "
		 "never_react, inputs, fanout, scs, ms, evaluation, rules, cluster)");
}

Test(errors, duplicate_section)
{
	load_bad("version: 1\n" LEVELS "version: 1\n",
		 "t.yaml:5:1: section 'version' given twice");
}

Test(errors, unknown_key)
{
	load_bad("version: 1\n" LEVELS "    colour: red\n",
		 "t.yaml:5:5: level: unknown key 'colour' (expected name, "
		 "allow, rate, burst, fail_closed, was)");
}

Test(errors, missing_key)
{
	load_bad("version: 1\nlevels:\n  - name: a\n",
		 "t.yaml:3:5: level: missing 'allow'");
}

Test(errors, unknown_service_in_level)
{
	load_bad("version: 1\nlevels:\n  - name: a\n    allow: [dns]\n",
		 "t.yaml:4:13: allow: no service named 'dns' (or 'all')");
}

Test(errors, bad_prefix_host_bits)
{
	load_bad("version: 1\n" LEVELS
		 "services:\n"
		 "  - name: web\n"
		 "    rules:\n"
		 "      - prefixes: [203.0.113.1/24]\n",
		 "t.yaml:8:20: prefixes: '203.0.113.1/24' has host bits set "
		 "past the prefix length");
}

Test(errors, bad_prefix_text)
{
	load_bad("version: 1\n" LEVELS
		 "services:\n"
		 "  - name: web\n"
		 "    rules:\n"
		 "      - prefixes: 203.0.113/24\n",
		 "t.yaml:8:19: prefixes: expected an IPv4 or IPv6 address or "
		 "prefix (192.0.2.0/24, 2001:db8::/32), found '203.0.113/24'");
}

Test(errors, ports_without_protocol)
{
	load_bad("version: 1\n" LEVELS
		 "services:\n"
		 "  - name: web\n"
		 "    rules:\n"
		 "      - prefixes: ::/0\n"
		 "        ports: 80\n",
		 "t.yaml:9:16: ports: only tcp and udp have ports (set "
		 "protocol)");
}

Test(errors, bad_port_range)
{
	load_bad("version: 1\n" LEVELS
		 "services:\n"
		 "  - name: web\n"
		 "    rules:\n"
		 "      - prefixes: ::/0\n"
		 "        protocol: tcp\n"
		 "        ports: 90-80\n",
		 "t.yaml:10:16: ports: '90-80' is not a range within 0-65535");
}

Test(errors, bad_protocol)
{
	load_bad("version: 1\n" LEVELS
		 "services:\n"
		 "  - name: web\n"
		 "    rules:\n"
		 "      - prefixes: ::/0\n"
		 "        protocol: sctp\n",
		 "t.yaml:9:19: protocol: expected one of any, tcp, udp, icmp, "
		 "icmpv6, found 'sctp'");
}

Test(errors, rate_without_burst)
{
	load_bad("version: 1\nlevels:\n  - name: a\n    allow: all\n"
		 "    rate: 1Mbit\n",
		 "t.yaml:5:11: rate: a rate needs a burst (e.g. burst: 64kB)");
}

Test(errors, bad_rate_unit)
{
	load_bad("version: 1\nlevels:\n  - name: a\n    allow: all\n"
		 "    rate: 1MB\n    burst: 1kB\n",
		 "t.yaml:5:11: rate: expected a rate such as 64kbit, 10Mbit or "
		 "1Gbit (at least 8bit), found '1MB'");
}

Test(errors, duplicate_level)
{
	load_bad("version: 1\n" LEVELS "  - name: normal\n    allow: all\n",
		 "t.yaml:5:5: level normal is defined twice");
}

Test(errors, bad_name)
{
	load_bad("version: 1\nlevels:\n  - name: 9lives\n    allow: all\n",
		 "t.yaml:3:11: level name: expected a name starting with a "
		 "letter, found '9lives'");
}

Test(errors, unknown_default_level)
{
	load_bad("version: 1\n" LEVELS "unknown_subscribers: jail\n",
		 "t.yaml:5:22: unknown_subscribers (pass or a level): no level "
		 "named 'jail'");
}

Test(errors, duplicate_interface)
{
	load_bad("version: 1\n" LEVELS
		 "interfaces:\n  - {name: eth0, role: core}\n"
		 "  - {name: eth0, role: access}\n",
		 "t.yaml:7:5: interface eth0 is defined twice");
}

Test(errors, duplicate_rule)
{
	load_bad("version: 1\n" LEVELS
		 "rules:\n  - {name: r, on: fanout, contain: {}}\n"
		 "  - {name: r, on: fanout, contain: {}}\n",
		 "t.yaml:7:5: rule r is defined twice");
}

Test(errors, interface_role)
{
	load_bad("version: 1\n" LEVELS
		 "interfaces:\n  - name: eth0\n    role: edge\n",
		 "t.yaml:7:11: interface role: expected one of access, core, "
		 "found 'edge'");
}

Test(errors, scope_duplicate_id)
{
	load_bad("version: 1\n" LEVELS
		 "scopes:\n  - name: a\n    id: 4\n  - name: b\n    id: 4\n",
		 "t.yaml:9:9: id: 4 is also scope a");
}

Test(errors, pool_in_two_scopes)
{
	load_bad("version: 1\n" LEVELS
		 "scopes:\n  - name: a\n    pools: 192.0.2.0/24\n"
		 "  - name: b\n    pools: 192.0.2.0/24\n",
		 "t.yaml:6:3: scopes: pool 192.0.2.0/24 appears twice (scopes "
		 "a and b)");
}

Test(errors, containment_none)
{
	load_bad("version: 1\n" LEVELS
		 "scopes:\n  - name: a\n    containment: none\n",
		 "t.yaml:7:18: containment: the mode used when the scope is "
		 "contained (isolate or no-lateral)");
}

Test(errors, subscriber_unknown_scope)
{
	load_bad("version: 1\n" LEVELS
		 "subscribers:\n  - address: 192.0.2.1\n    scope: x\n",
		 "t.yaml:7:12: scope: no scope named 'x'");
}

Test(errors, subscriber_bad_address)
{
	load_bad("version: 1\n" LEVELS
		 "subscribers:\n  - address: 192.0.2.0/24\n",
		 "t.yaml:6:14: address: expected an IPv4 or IPv6 address, "
		 "found '192.0.2.0/24'");
}

Test(errors, rule_needs_react_or_contain)
{
	load_bad("version: 1\n" LEVELS
		 "rules:\n  - name: r\n    on: fanout\n",
		 "t.yaml:6:5: rule r: give either 'react' (a level for the "
		 "terminal) or 'contain' (its scope)");
}

Test(errors, rule_count_needs_window)
{
	load_bad("version: 1\n" LEVELS
		 "rules:\n  - name: r\n    on: ids\n    count: 3\n"
		 "    react: {level: normal}\n",
		 "t.yaml:8:12: rule r: counting needs a window (within: ...)");
}

Test(errors, rule_status_on_ids)
{
	load_bad("version: 1\n" LEVELS
		 "rules:\n  - name: r\n    on: ids\n"
		 "    match: {status: infected}\n"
		 "    react: {level: normal}\n",
		 "t.yaml:8:21: status: only for rules on report");
}

Test(errors, rule_report_needs_status)
{
	load_bad("version: 1\n" LEVELS
		 "rules:\n  - name: r\n    on: report\n"
		 "    react: {level: normal}\n",
		 "t.yaml:6:5: rule r: a rule on report needs match.status");
}

Test(errors, rule_bad_duration)
{
	load_bad("version: 1\n" LEVELS
		 "rules:\n  - name: r\n    on: fanout\n"
		 "    react: {level: normal, for: 1 hour}\n",
		 "t.yaml:8:33: for: expected a duration such as 30s, 10m, 1h30m "
		 "or 2d, found '1 hour'");
}

Test(errors, fanout_threshold_range)
{
	load_bad("version: 1\n" LEVELS
		 "fanout: {threshold: 1000, window: 10s}\n",
		 "t.yaml:5:21: fanout.threshold: 1000 is out of range (1..512)");
}

Test(errors, reports_missing_keys)
{
	load_bad("version: 1\n" LEVELS
		 "inputs:\n  reports:\n    listen: \"[::]:7443\"\n"
		 "    cert: c\n    key: k\n",
		 "t.yaml:7:5: reports: needs 'keys' (a key file), 'authsrv' "
		 "(keys from xcrs-authsrv), or both");
}

Test(errors, eve_file_and_socket)
{
	load_bad("version: 1\n" LEVELS
		 "inputs:\n  eve:\n    - {file: a, socket: b}\n",
		 "t.yaml:7:7: eve: give either 'file' or 'socket'");
}

Test(errors, value_where_list_expected)
{
	load_bad("version: 1\nlevels: normal\n",
		 "t.yaml:2:9: levels: expected a list, found a value");
}

Test(errors, missing_file)
{
	struct policy *p = NULL;
	struct policy_error e;

	cr_expect_eq(policy_load("/nonexistent/x.yaml", &p, &e), -ENOENT);
	cr_expect_str_eq(e.msg, "/nonexistent/x.yaml: No such file or "
				"directory");
}

Test(policy, ms_section_and_sessions_input)
{
	static const char text[] =
		"version: 1\n" LEVELS
		"ms: {detect: true, idle_timeout: 2m}\n"
		"inputs:\n  sessions:\n    - socket: /run/xcrs/sessions.sock\n";
	struct policy *p = NULL;
	struct policy_error e;

	cr_assert_eq(policy_load_string(text, strlen(text), "t.yaml", &p, &e),
		     0, "%s", e.msg);
	cr_expect(p->ms_detect);
	cr_expect_eq(p->ms_idle_ns, 120ULL * 1000000000ULL);
	cr_assert_eq(p->ninputs, 1);
	cr_expect_eq(p->inputs[0].kind, POLICY_IN_SESSION_SOCKET);
	cr_expect_str_eq(p->inputs[0].path, "/run/xcrs/sessions.sock");
	policy_free(p);
	load_bad("version: 1\n" LEVELS "ms: {idle_timeout: 10ms}\n",
		 "t.yaml:5:20: ms.idle_timeout: at least 1s");
	load_bad("version: 1\n" LEVELS "ms: {detect: maybe}\n",
		 "t.yaml:5:14: ms.detect: expected true or false, found 'maybe'");
}

Test(policy, map_sizes)
{
	struct policy *p = load_ok("version: 1\nagent:\n  maps: {subscribers: "
				   "1000, tracked: 64}\n" LEVELS);

	cr_expect_eq(p->agent.maps.subscribers, 1000);
	cr_expect_eq(p->agent.maps.tracked, 64);
	cr_expect_eq(p->agent.maps.pools, 0, "unset: the library's default");
	policy_free(p);
}

Test(errors, map_sizes)
{
	load_bad("version: 1\nagent:\n  maps: {subscribers: 8}\n" LEVELS,
		 "t.yaml:3:23: agent.maps.subscribers: 8 is out of range "
		 "(16..100000000)");
	load_bad("version: 1\nagent:\n  maps: {hosts: 8}\n" LEVELS,
		 "t.yaml:3:10: agent.maps: unknown key 'hosts' (expected "
		 "subscribers, subscribers6, hosts6, pools, service_prefixes, "
		 "scopes, tracked, "
		 "prefixes, warn_at, when_full)");
}

Test(policy, never_react)
{
	struct policy *p = load_ok(
		"version: 1\n" LEVELS
		"never_react:\n"
		"  - {name: noc, prefixes: [192.0.2.240/28, 2001:db8:ff::/48]}\n"
		"  - {name: emergency, prefixes: [198.51.100.112/32]}\n");
	struct xcrs_addr a;

	cr_assert_eq(p->nnever, 2);
	cr_expect_str_eq(p->never[0].name, "noc");
	cr_expect_eq(p->never[0].nprefixes, 2);
	cr_assert_eq(addr_parse("192.0.2.241", &a), 0);
	cr_expect_eq(policy_never_react(p, &a), 0);
	cr_assert_eq(addr_parse("198.51.100.112", &a), 0);
	cr_expect_eq(policy_never_react(p, &a), 1);
	cr_assert_eq(addr_parse("192.0.2.239", &a), 0);
	cr_expect_eq(policy_never_react(p, &a), -1);
	cr_assert_eq(addr_parse("192.0.2.0", &a), 0);
	cr_expect_eq(policy_never_overlaps(p, &a, 96 + 24), 0,
		     "a /24 around the /28 overlaps it");
	cr_assert_eq(addr_parse("192.0.2.0", &a), 0);
	cr_expect_eq(policy_never_overlaps(p, &a, 96 + 25), -1);
	policy_free(p);
}

Test(errors, never_react)
{
	load_bad("version: 1\n" LEVELS
		 "never_react:\n  - {name: noc}\n",
		 "t.yaml:6:5: never_react: missing 'prefixes'");
	load_bad("version: 1\n" LEVELS
		 "subscribers:\n  - {address: 192.0.2.241, level: normal}\n"
		 "never_react:\n  - {name: noc, prefixes: [192.0.2.240/28]}\n",
		 "t.yaml:8:27: never_react noc holds the static subscriber "
		 "192.0.2.241");
}

/* Each key's reload class comes from its section's schema: what a reload
 * refuses, what it takes for the next start, what it takes at once. */
Test(reload, classes_follow_the_schema)
{
	static const char base[] =
		"version: 1\n" LEVELS
		"agent: {pin_dir: /sys/fs/bpf/a, maps: {subscribers: 1024}}\n"
		"fanout: {threshold: 10, window: 10s}\n";
	struct {
		const char *text;
		enum policy_reload cls;
		const char *what;
	} cases[] = {
		{ "version: 1\n" LEVELS
		  "agent: {pin_dir: /sys/fs/bpf/b, maps: {subscribers: 1024}}\n"
		  "fanout: {threshold: 10, window: 10s}\n",
		  POLICY_RELOAD_RESTART, "agent.pin_dir" },
		{ "version: 1\n" LEVELS
		  "agent: {pin_dir: /sys/fs/bpf/a, maps: {subscribers: 2048}}\n"
		  "fanout: {threshold: 10, window: 10s}\n",
		  POLICY_RELOAD_RESTART, "agent.maps.subscribers" },
		{ "version: 1\n" LEVELS
		  "agent: {pin_dir: /sys/fs/bpf/a, maps: {subscribers: 1024}}\n"
		  "fanout: {threshold: 10, window: 10s}\n"
		  "inputs: {events: [{socket: /run/xcrs/e.sock}]}\n",
		  POLICY_RELOAD_AT_RESTART, "inputs" },
		{ "version: 1\n" LEVELS
		  "agent: {pin_dir: /sys/fs/bpf/a, maps: {subscribers: 1024}}\n"
		  "fanout: {threshold: 20, window: 10s}\n",
		  POLICY_RELOAD_LIVE, "fanout.threshold" },
	};
	struct policy *a = load_ok(base);
	char what[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *b = load_ok(cases[i].text);

		for (int cls = POLICY_RELOAD_LIVE;
		     cls <= POLICY_RELOAD_AT_RESTART; cls++) {
			int r = policy_reload_changes(a, b, cls, what,
						      sizeof(what));

			if (cls == (int)cases[i].cls) {
				cr_expect_eq(r, 1, "case %zu: no change of "
					     "class %d found", i, cls);
				if (r)
					cr_expect_str_eq(what, cases[i].what);
			} else {
				cr_expect_eq(r, 0, "case %zu: class %d: %s", i,
					     cls, r ? what : "");
			}
		}
		policy_free(b);
	}
	cr_expect_eq(policy_reload_changes(a, a, POLICY_RELOAD_RESTART, what,
					   sizeof(what)),
		     0);
	policy_free(a);
}

/* Defaults come from the schema's rows. */
Test(reload, schema_defaults)
{
	struct policy *p = load_ok("version: 1\n" LEVELS);

	cr_expect_str_eq(p->agent.pin_dir, "/sys/fs/bpf/xcrs");
	cr_expect_str_eq(p->agent.metrics, "127.0.0.1:9477");
	cr_expect_eq(p->ms_idle_ns, NS(600));
	cr_expect_eq(p->probe_interval_ns, NS(2));
	cr_expect_eq(p->probe_attempts, 3);
	cr_expect_str_eq(p->scs_id, "xcrs-scs");
	policy_free(p);
}

/* ---- inputs.radius ---- */

#define RADIUS_HEAD "version: 1\n" LEVELS "inputs:\n  radius:\n"

Test(radius, clients_with_secrets_from_the_policy_and_from_files)
{
	char path[] = "/tmp/xcrs-radius-secret-XXXXXX", text[1024];
	int fd = mkstemp(path);
	struct policy *p;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "s3cret-from-file\nignored\n", 25), 25);
	close(fd);
	snprintf(text, sizeof(text),
		 RADIUS_HEAD "    listen: 127.0.0.1:1813\n    clients:\n"
			     "      - {address: 198.51.100.0/28, secret: abc}\n"
			     "      - {address: 2001:db8:ff::1, secret_file: %s}\n",
		 path);
	p = load_ok(text);
	cr_assert(p->radius.enabled);
	cr_expect_str_eq(p->radius.listen, "127.0.0.1:1813");
	cr_assert_eq(p->radius.nclients, 2);
	cr_expect_str_eq(p->radius.clients[0].secret, "abc");
	cr_expect_eq(p->radius.clients[0].secret_len, 3);
	cr_expect_eq(p->radius.clients[0].prefix.plen, 96 + 28);
	cr_expect_str_eq(p->radius.clients[1].secret, "s3cret-from-file");
	cr_expect_eq(p->radius.clients[1].prefix.plen, 128);
	policy_free(p);
	unlink(path);
}

Test(radius, refusals_say_where)
{
	load_bad(RADIUS_HEAD "    listen: 127.0.0.1:1813\n    clients:\n"
			     "      - {address: 198.51.100.1, secret: a, "
			     "secret_file: /x}\n",
		 "t.yaml:9:9: radius client: give either 'secret' or "
		 "'secret_file'");
	load_bad(RADIUS_HEAD "    listen: 127.0.0.1:1813\n    clients:\n"
			     "      - {address: 198.51.100.1, secret_file: "
			     "/nonexistent/xcrs-secret}\n",
		 "t.yaml:9:46: secret_file /nonexistent/xcrs-secret: No such "
		 "file or directory");
	load_bad(RADIUS_HEAD "    listen: 127.0.0.1:1813\n    clients:\n"
			     "      - {address: 198.51.100.300, secret: a}\n",
		 "t.yaml:9:19: radius client address: expected an IPv4 or IPv6 "
		 "address or prefix (192.0.2.0/24, 2001:db8::/32), found "
		 "'198.51.100.300'");
	load_bad(RADIUS_HEAD "    listen: 1813\n    clients:\n"
			     "      - {address: 198.51.100.1, secret: a}\n",
		 "t.yaml:7:5: radius.listen: expected address:port, found "
		 "'1813'");
	load_bad(RADIUS_HEAD "    listen: 127.0.0.1:1813\n",
		 "t.yaml:7:5: radius: missing 'clients'");
	load_bad(RADIUS_HEAD "    listen: 127.0.0.1:1813\n    clients:\n"
			     "      - {address: 198.51.100.1, secret: a}\n"
			     "      - {address: 198.51.100.1, secret: b}\n",
		 "t.yaml:10:19: radius client address given twice");
}

/* ---- scopes by APN and by location ---- */

#define SCOPES_HEAD "version: 1\n" LEVELS "  - name: held\n    allow: []\n"

Test(scopes, sessions_by_apn_and_location_first_listed_wins)
{
	struct policy *p = load_ok(
		SCOPES_HEAD
		"scopes:\n"
		"  - name: cell-7\n"
		"    locations: [ECGI:001-01-000000A, \"tai:001-01-00*\"]\n"
		"  - name: iot\n"
		"    apns: [IoT.Example, m2m]\n"
		"    level: held\n"
		"    pools: [192.0.2.0/24]\n");

	cr_assert_eq(p->nscopes, 2);
	cr_assert_eq(p->scopes[0].nlocations, 2);
	cr_expect_str_eq(p->scopes[0].locations[0], "ecgi:001-01-000000a");
	cr_expect_str_eq(p->scopes[1].apns[0], "iot.example");
	cr_expect_eq(policy_session_scope(p, "iot.example", NULL), 1);
	cr_expect_eq(policy_session_scope(p, "IOT.EXAMPLE", ""), 1,
		     "APNs compare in any case");
	cr_expect_eq(policy_session_scope(p, "internet", NULL), -1);
	/* a cell in a location of two parts, a tracking area by prefix */
	cr_expect_eq(policy_session_scope(p, "m2m",
					  "tai:002-02-0001/ecgi:001-01-000000a"),
		     0, "the first scope that lists one of its parts");
	cr_expect_eq(policy_session_scope(p, NULL, "tai:001-01-0042"), 0);
	cr_expect_eq(policy_session_scope(p, NULL, "tai:001-01-0142"), -1);
	cr_expect_eq(policy_session_scope(p, "m2m", "ecgi:001-01-000000ab"), 1,
		     "a cell id is matched whole, not as a prefix");
	policy_free(p);
}

Test(scopes, bad_apns_and_locations_are_refused_where_they_are)
{
	load_bad(SCOPES_HEAD "scopes:\n  - name: a\n    apns: [\"-bad.apn\"]\n",
		 "t.yaml:9:12: apns: '-bad.apn' is not an APN (labels of "
		 "letters, digits and '-', joined by '.')");
	load_bad(SCOPES_HEAD "scopes:\n  - name: a\n    apns: [\"a..b\"]\n",
		 "t.yaml:9:12: apns: 'a..b' is not an APN (labels of "
		 "letters, digits and '-', joined by '.')");
	load_bad(SCOPES_HEAD
		 "scopes:\n  - name: a\n    locations: [cell-7]\n",
		 "t.yaml:9:17: locations: 'cell-7' is not a location (e.g. "
		 "tai:001-01-0001, ecgi:001-01-0000101, "
		 "ncgi:001-01-000000101; a trailing '*' makes a prefix: "
		 "ecgi:001-01-00001*)");
	load_bad(SCOPES_HEAD
		 "scopes:\n  - name: a\n    locations: [\"tai:001-01-00g1\"]\n",
		 "t.yaml:9:17: locations: 'tai:001-01-00g1' is not a location "
		 "(e.g. tai:001-01-0001, ecgi:001-01-0000101, "
		 "ncgi:001-01-000000101; a trailing '*' makes a prefix: "
		 "ecgi:001-01-00001*)");
	load_bad(SCOPES_HEAD "scopes:\n  - name: a\n    apns: [m2m]\n"
			     "  - name: b\n    apns: [x, M2M]\n",
		 "t.yaml:11:11: apns: m2m is also in scope a");
	load_bad(SCOPES_HEAD
		 "scopes:\n  - name: a\n    locations: [\"tai:001-01-0001\"]\n"
		 "  - name: b\n    locations: [\"tai:001-01-0001\"]\n",
		 "t.yaml:11:16: locations: tai:001-01-0001 is also in scope a");
}

Test(scopes, unassigned_source_needs_the_sessions_and_a_level)
{
	struct policy *p = load_ok(
		SCOPES_HEAD "unassigned_source: held\n"
		"inputs:\n  sessions:\n    - socket: /run/xcrs/s.sock\n");

	cr_expect_eq(p->unassigned_level, 1);
	policy_free(p);
	p = load_ok(SCOPES_HEAD);
	cr_expect_eq(p->unassigned_level, -1);
	policy_free(p);
	load_bad(SCOPES_HEAD "unassigned_source: held\n",
		 "t.yaml:7:20: unassigned_source: needs the packet core's "
		 "sessions (inputs.radius or inputs.sessions) to know which "
		 "pool addresses are held");
	load_bad(SCOPES_HEAD "unassigned_source: nosuch\n"
			     "inputs:\n  sessions:\n    - socket: /s\n",
		 "t.yaml:7:20: unassigned_source (a level): no level named "
		 "'nosuch'");
}

Test(scopes, the_ran_s_gtpu_addresses)
{
	struct policy *p = load_ok(SCOPES_HEAD
				   "ran: [198.51.100.240/28, \"2001:db8:ff::/48\"]\n"
				   "scopes:\n  - {name: a, pools: [192.0.2.0/24]}\n");
	char t[ADDR_STRLEN];

	cr_assert_eq(p->nran, 2);
	addr_prefix_format(&p->ran[0].addr, p->ran[0].plen, t, sizeof(t));
	cr_expect_str_eq(t, "198.51.100.240/28");
	policy_free(p);
	load_bad(SCOPES_HEAD "ran: [198.51.100.240/28, 198.51.100.240/28]\n",
		 "t.yaml:7:26: ran: listed twice");
	load_bad(SCOPES_HEAD "ran: [192.0.2.0/24]\n"
			     "scopes:\n  - {name: a, pools: [192.0.2.0/24]}\n",
		 "t.yaml:7:6: ran: 192.0.2.0/24 is also a pool of scope a (list "
		 "it once: the RAN's addresses are no subscribers)");
	load_bad(SCOPES_HEAD "ran: [198.51.100.240/28]\n"
			     "never_react:\n"
			     "  - {name: noc, prefixes: [198.51.100.240/28]}\n",
		 "t.yaml:7:6: ran: 198.51.100.240/28 is also in never_react noc "
		 "(list it once: the RAN's addresses are no subscribers)");
	load_bad(SCOPES_HEAD "ran: [10.0.0.0/8x]\n",
		 "t.yaml:7:7: ran: expected an IPv4 or IPv6 address or prefix "
		 "(192.0.2.0/24, 2001:db8::/32), found '10.0.0.0/8x'");
}

/* levels[].was: the names a level had, which a reload or a restart
 * carries to it; never a name in use, never two levels' */
Test(policy, former_level_names)
{
	struct policy *p = load_ok(
		"version: 1\nlevels:\n  - {name: normal, allow: all}\n"
		"  - {name: jailed, allow: [], was: [blocked, locked]}\n");

	cr_expect_eq(policy_level_carry(p, "jailed"), 1);
	cr_expect_eq(policy_level_carry(p, "blocked"), 1);
	cr_expect_eq(policy_level_carry(p, "locked"), 1);
	cr_expect_eq(policy_level_carry(p, "normal"), 0);
	cr_expect_eq(policy_level_carry(p, "gone"), -1);
	cr_expect_eq(policy_level_index(p, "blocked"), -1,
		     "a former name is no level of the policy");
	policy_free(p);
	load_bad("version: 1\nlevels:\n  - {name: normal, allow: all}\n"
		 "  - {name: jailed, allow: [], was: jailed}\n",
		 "t.yaml:4:36: was: 'jailed' is the level's own name");
	load_bad("version: 1\nlevels:\n  - {name: normal, allow: all}\n"
		 "  - {name: jailed, allow: [], was: normal}\n",
		 "t.yaml:4:5: levels: 'normal' is a level and a former name "
		 "of 'jailed'");
	load_bad("version: 1\nlevels:\n  - {name: a, allow: all, was: x}\n"
		 "  - {name: b, allow: [], was: x}\n",
		 "t.yaml:4:5: levels: 'x' is a former name of 'a' and of 'b'");
	load_bad("version: 1\nlevels:\n  - {name: a, allow: all, "
		 "was: [p, q, r, s, t]}\n",
		 "t.yaml:3:32: was: at most 4 former names");
}

/* A listen address the agent could not bind is refused when the policy is
 * read, where it is written (so --check and a reload find it). */
Test(errors, listen_addresses)
{
	load_bad("version: 1\nagent:\n  metrics: \"localhost:19478\"\n" LEVELS,
		 "t.yaml:3:12: agent.metrics: expected address:port (an IPv4 "
		 "address, [IPv6] or *, and a port 1-65535; no host names) or "
		 "off, found 'localhost:19478'");
	load_bad("version: 1\nagent:\n  metrics: \"127.0.0.1:99999\"\n" LEVELS,
		 "t.yaml:3:12: agent.metrics: expected address:port (an IPv4 "
		 "address, [IPv6] or *, and a port 1-65535; no host names) or "
		 "off, found '127.0.0.1:99999'");
	load_bad("version: 1\n" LEVELS "inputs:\n  reports:\n"
		 "    listen: \":99999\"\n    keys: k\n    cert: c\n    key: k\n",
		 "t.yaml:7:5: reports.listen: expected address:port (an IPv4 "
		 "address, [IPv6] or *, and a port 1-65535; no host names), "
		 "found ':99999'");
}

/* libyaml's and the C library's words made plain: a tab in the
 * indentation, a directory given as the file. */
Test(errors, tabs_and_directories)
{
	struct policy *p = NULL;
	struct policy_error e;

	load_bad("version: 1\nlevels:\n\t- {name: a, allow: all}\n",
		 "t.yaml:3:1: a tab character: YAML indents with spaces only");
	/* libyaml's "did not find expected node content" for ::1 in a flow
	 * list, and a warn_at without its % */
	load_bad("version: 1\nservices:\n  - {name: d, rules: [{prefixes: "
		 "[::1], ports: 53}]}\n" LEVELS,
		 "t.yaml:3:35: quote the IPv6 address ::1 in a flow list or "
		 "mapping (\"::1\"): YAML reads its colons as a key's end");
	load_bad("version: 1\nservices:\n  - {name: d, rules: [{prefixes: "
		 "[192.0.2.1, 2001:db8::], ports: 53}]}\n" LEVELS,
		 "t.yaml:3:55: quote the IPv6 address 2001:db8:: in a flow "
		 "list or mapping (\"2001:db8::\"): YAML reads its colons as "
		 "a key's end");
	load_bad("version: 1\nagent:\n  maps: {warn_at: 80}\n" LEVELS,
		 "t.yaml:3:19: agent.maps.warn_at: expected a percentage with "
		 "its % sign, e.g. 80%, found '80' (a bare number reads as a "
		 "count of entries)");
	cr_expect_neq(policy_load("/tmp", &p, &e), 0);
	cr_expect_str_eq(e.msg, "/tmp: is a directory, not a YAML file");
}

/* One scope an address: nested pools of two scopes are refused; scope ids
 * fit the dataplane's 16 bits. */
Test(errors, overlapping_pools_and_scope_ids)
{
	load_bad("version: 1\n" LEVELS "scopes:\n"
		 "  - {name: a, pools: 192.0.2.0/24, level: normal}\n"
		 "  - {name: b, pools: 192.0.2.16/28, level: normal}\n",
		 "t.yaml:7:5: scopes: pool 192.0.2.16/28 of b overlaps pool "
		 "192.0.2.0/24 of a (an address belongs to one scope)");
	load_bad("version: 1\n" LEVELS "scopes:\n"
		 "  - {name: a, id: 70000, pools: 192.0.2.0/24, level: normal}\n",
		 "t.yaml:6:19: id: 70000 is out of range (1..65535)");
	load_bad("version: 1\n" LEVELS "scopes:\n"
		 "  - {name: a, id: 5000, pools: 192.0.2.0/24, level: normal}\n",
		 "t.yaml:6:5: scopes: a has id 5000, beyond the scope table "
		 "(agent.maps.scopes: 4096): raise it or take a smaller id");
	policy_free(load_ok("version: 1\nagent:\n  maps: {scopes: 8192}\n"
			    LEVELS "scopes:\n"
			    "  - {name: a, id: 5000, pools: 192.0.2.0/24, "
			    "level: normal}\n"));
}

/* The fleet: absent, a single node; present, checked whole. */
Test(policy, cluster_section)
{
	struct policy *p = load_ok("version: 1\n" LEVELS);

	cr_expect_not(p->cluster.enabled);
	policy_free(p);
	p = load_ok("version: 1\n" LEVELS
		    "cluster:\n  node: edge-1\n"
		    "  servers: [nats://192.0.2.1:4222, \"nats://[2001:db8::1]:4222\","
		    " nats://nats-2.example:4222]\n");
	cr_expect(p->cluster.enabled);
	cr_expect_str_eq(p->cluster.node, "edge-1");
	cr_expect_eq(p->cluster.nservers, 3);
	cr_expect_eq(p->cluster.replicas, 3);
	cr_expect_eq(p->cluster.sync_timeout_ns, 60000000000ULL);
	policy_free(p);
	load_bad("version: 1\n" LEVELS "cluster:\n  node: a.b\n"
		 "  servers: [nats://192.0.2.1:4222]\n",
		 "t.yaml:6:9: cluster.node: letters, digits, '-' and '_' only "
		 "(at most 32), found 'a.b'");
	load_bad("version: 1\n" LEVELS "cluster:\n  node: a\n"
		 "  servers: [http://192.0.2.1:4222]\n",
		 "t.yaml:7:13: cluster.servers: expected nats://host:port or "
		 "tls://host:port, found 'http://192.0.2.1:4222'");
	load_bad("version: 1\n" LEVELS "cluster:\n  node: a\n"
		 "  servers: [nats://192.0.2.1:99999]\n",
		 "t.yaml:7:13: cluster.servers: expected nats://host:port or "
		 "tls://host:port, found 'nats://192.0.2.1:99999'");
	load_bad("version: 1\n" LEVELS "cluster:\n  node: a\n",
		 "t.yaml:6:3: cluster: missing 'servers'");
	load_bad("version: 1\n" LEVELS "cluster:\n  node: a\n"
		 "  servers: [nats://192.0.2.1:4222]\n  ca: /etc/ca.pem\n",
		 "t.yaml:6:3: cluster: with ca or cert, every server is tls:// "
		 "(nats://192.0.2.1:4222 is not)");
	load_bad("version: 1\n" LEVELS "cluster:\n  node: a\n"
		 "  servers: [tls://192.0.2.1:4222]\n  cert: /etc/c.pem\n",
		 "t.yaml:6:3: cluster: cert and key go together");
}
