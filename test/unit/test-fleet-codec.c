// SPDX-License-Identifier: GPL-2.0-only
/* The fleet's keys and values (fleet.h): what another node reads of them. */
#include <string.h>
#include <stdlib.h>
#include <criterion/criterion.h>

#include "fleet.h"

Test(fleet_codec, keys_round_trip_and_refuse_what_is_not_a_token)
{
	char enc[128], dec[64];

	cr_assert(fleet_key_enc("imsi:001010000000001", enc, sizeof(enc)));
	cr_expect_str_eq(enc, "imsi_3a001010000000001");
	cr_assert(fleet_key_dec(enc, dec, sizeof(dec)));
	cr_expect_str_eq(dec, "imsi:001010000000001");
	/* dots, wildcards and spaces never reach a subject */
	cr_assert(fleet_key_enc("user:a.b *>", enc, sizeof(enc)));
	cr_expect_null(strpbrk(enc, ".*> "));
	cr_assert(fleet_key_dec(enc, dec, sizeof(dec)));
	cr_expect_str_eq(dec, "user:a.b *>");
	cr_expect_not(fleet_key_enc("", enc, sizeof(enc)));
	cr_expect_not(fleet_key_enc("imsi:001010000000001", enc, 8));
	cr_expect_not(fleet_key_dec("a.b", dec, sizeof(dec)));
	cr_expect_not(fleet_key_dec("a_zz", dec, sizeof(dec)));
	cr_expect_not(fleet_key_dec("a_00", dec, sizeof(dec)));
}

Test(fleet_codec, a_decision_round_trips_and_a_bad_one_is_refused_whole)
{
	struct fleet_decision d = { .id = "imsi:001010000000001",
				    .node = "a",
				    .level = "quarantined",
				    .until_ms = 1800000000000ULL,
				    .at_ms = 1790000000000ULL,
				    .release_on_clean = true,
				    .why = "operator" },
			      e;
	char *s = fleet_decision_encode(&d);

	cr_assert(s);
	cr_assert_eq(fleet_decision_decode(s, strlen(s), &e), 0);
	cr_expect_str_eq(e.id, d.id);
	cr_expect_str_eq(e.node, "a");
	cr_expect_str_eq(e.level, "quarantined");
	cr_expect_eq(e.until_ms, d.until_ms);
	cr_expect_eq(e.at_ms, d.at_ms);
	cr_expect(e.release_on_clean);
	free(s);
	static const char *const bad[] = {
		"", "[]", "{\"id\": \"x\"}",
		"{\"id\":\"x\",\"node\":\"a\",\"level\":\"q\"}",
		"{\"id\":\"x\",\"node\":\"a\",\"level\":\"q\",\"until_ms\":-1}",
		"{\"id\":\"x\",\"node\":\"a\",\"level\":7,\"until_ms\":0}",
		"{\"id\":\"x\",\"node\":\"a\",\"level\":\"q\",\"until_ms\":0} x",
		"{\"id\":\"x\",\"node\":\"a\",\"level\":\"q\",\"until_ms\":0,"
		"\"release_on_clean\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_neq(fleet_decision_decode(bad[i], strlen(bad[i]), &e),
			      0, "accepted: %s", bad[i]);
}

Test(fleet_codec, events_and_scopes_round_trip)
{
	struct fleet_event ev = { .node = "b", .scope = "cell-7",
				  .who = "imsi:001010000000002", .kind = 1,
				  .terminal = "192.0.2.20", .severity = 1,
				  .signature = 4242, .detail = "worm",
				  .at_ms = 5 },
			   e2;
	struct fleet_scope sc = { .scope = "cell-7", .node = "a",
				  .rule = "worm", .until_ms = 9,
				  .why = "2 terminals" },
			   s2;
	char *s = fleet_event_encode(&ev);

	cr_assert_eq(fleet_event_decode(s, strlen(s), &e2), 0);
	cr_expect_str_eq(e2.scope, "cell-7");
	cr_expect_str_eq(e2.who, ev.who);
	cr_expect_eq(e2.signature, 4242);
	cr_expect_eq(e2.kind, 1);
	free(s);
	s = fleet_scope_encode(&sc);
	cr_assert_eq(fleet_scope_decode(s, strlen(s), &s2), 0);
	cr_expect_str_eq(s2.rule, "worm");
	cr_expect_eq(s2.until_ms, 9);
	free(s);
	cr_expect_neq(fleet_event_decode("{\"node\":\"b\",\"kind\":9,"
					 "\"terminal\":\"x\"}",
					 38, &e2),
		      0);
}

Test(fleet_codec, a_prefix_decision_round_trips_and_names_its_node)
{
	struct fleet_prefix x = { .prefix = "2001:db8:1::/48", .node = "a",
				  .level = "quarantined", .until_ms = 77,
				  .at_ms = 5, .why = "operator" },
			    y;
	char node[FLEET_NODE_MAX], *s = fleet_prefix_encode(&x);

	cr_assert(s);
	cr_assert_eq(fleet_prefix_decode(s, strlen(s), &y), 0);
	cr_expect_str_eq(y.prefix, x.prefix);
	cr_expect_str_eq(y.level, "quarantined");
	cr_expect_eq(y.until_ms, 77);
	cr_assert(fleet_value_node(s, strlen(s), node));
	cr_expect_str_eq(node, "a");
	free(s);
	/* no level, or no expiry: not a decision */
	s = "{\"prefix\":\"192.0.2.0/28\",\"node\":\"a\",\"until_ms\":0}";
	cr_expect_neq(fleet_prefix_decode(s, strlen(s), &y), 0);
	s = "{\"prefix\":\"192.0.2.0/28\",\"node\":\"a\",\"level\":\"q\"}";
	cr_expect_neq(fleet_prefix_decode(s, strlen(s), &y), 0);
	cr_expect_not(fleet_value_node("[1]", 3, node));
	cr_expect_not(fleet_value_node("{\"node\":\"\"}", 11, node));
}
