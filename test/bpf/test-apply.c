// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shipped policies, applied to the real program along the daemon's own
 * path (decision layer -> enforcement -> dataplane library): what the YAML
 * says and what the operator decides is what packets get.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <linux/bpf.h>
#include <criterion/criterion.h>

#include "clock.h"
#include "decide.h"
#include "enforce.h"
#include "pktbuild.h"
#include "xdptest.h"

static struct dp *dp;
static struct policy *pol;
static struct enforce *enf;
static struct decide *dec;

static void load(const char *file)
{
	struct dp_config cfg = { .max_subs = 1024, .max_tracked = 1024 };
	struct policy_error e;
	char err[512];

	cr_assert_eq(policy_load(file, &pol, &e), 0, "%s", e.msg);
	cr_assert_eq(dp_open(&cfg, &dp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(enf_new(&enf_dp_library, dp, pol, &enf), 0);
	cr_assert_eq(decide_new(pol, enf, NULL, &dec), 0);
	cr_assert_eq(decide_apply(dec, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	decide_free(dec);
	enf_free(enf);
	dec = NULL;
	enf = NULL;
	dp_close(dp);
	policy_free(pol);
	dp = NULL;
	pol = NULL;
}

static void verdict(const char *src, const char *dst, uint8_t proto,
		    uint16_t dport, int act, int why)
{
	struct pb_frame f = { .ip = { .family = 4, .src = src, .dst = dst,
				      .proto = proto, .sport = 40000,
				      .dport = dport } };
	uint8_t b[PB_MAX];
	size_t n = pb_build(&f, b, sizeof(b), NULL);
	struct xt_result r;

	cr_assert_eq(xt_run(dp, XCRS_ROLE_ACCESS, true, b, n, &r), 0);
	cr_expect(r.action == act && r.reason == why,
		  "%s -> %s:%u: got %s/%s, want %s/%s", src, dst, dport,
		  r.action >= 0 ? abi_action_name(r.action) : "?",
		  r.reason >= 0 ? abi_reason_name(r.reason) : "?",
		  abi_action_name(act), abi_reason_name(why));
}

/* The operator's reaction, as xcrsctl react makes it. */
static void set_level(const char *addr, const char *level)
{
	struct xcrs_addr a;
	char err[512];

	cr_assert_eq(dp_addr_parse(addr, &a), 0);
	cr_assert_eq(decide_react(dec, &a, 128, level, 0, "test", "test", 0,
				  now_mono(), err, sizeof(err)),
		     0, "%s", err);
}

Test(apply, demo_policy_levels_services_and_scopes, .fini = teardown)
{
	char err[512];

	load(XCRS_SRCDIR "/policy/examples/demo.yaml");
	/* Pool members of cell-a are normal. */
	verdict("192.0.2.5", "203.0.113.10", IPPROTO_TCP, 80, XCRS_ACT_PASS,
		XCRS_R_ALLOWED);
	verdict("198.51.100.7", "203.0.113.10", IPPROTO_TCP, 80,
		XCRS_ACT_PASS, XCRS_R_UNKNOWN_PASS);
	set_level("192.0.2.5", "quarantined");
	verdict("192.0.2.5", "203.0.113.10", IPPROTO_TCP, 80, XCRS_ACT_DROP,
		XCRS_R_LEVEL);
	verdict("192.0.2.5", "198.51.100.80", IPPROTO_TCP, 443,
		XCRS_ACT_PASS, XCRS_R_ALLOWED);
	verdict("192.0.2.5", "198.51.100.53", IPPROTO_UDP, 53, XCRS_ACT_PASS,
		XCRS_R_ALLOWED);
	/* the operator's word replaces the operator's word */
	set_level("192.0.2.5", "restricted");
	verdict("192.0.2.5", "203.0.113.10", IPPROTO_TCP, 443, XCRS_ACT_PASS,
		XCRS_R_ALLOWED);
	verdict("192.0.2.5", "198.51.100.99", IPPROTO_TCP, 443,
		XCRS_ACT_DROP, XCRS_R_LEVEL);
	/* cell-b (id 2) contained in its mode, no-lateral. */
	cr_assert_eq(decide_contain(dec, 1, XCRS_CONTAIN_NONE, 0, "test",
				    "test", now_mono(), err, sizeof(err)),
		     0, "%s", err);
	verdict("192.0.2.40", "192.0.2.41", IPPROTO_TCP, 445, XCRS_ACT_DROP,
		XCRS_R_NO_LATERAL);
	verdict("192.0.2.40", "203.0.113.10", IPPROTO_TCP, 80, XCRS_ACT_PASS,
		XCRS_R_ALLOWED);
}

Test(apply, small_operator_policy, .fini = teardown)
{
	struct dp_policy dpp;

	load(XCRS_SRCDIR "/policy/examples/small-operator.yaml");
	cr_assert_eq(enf_tables_build(pol, &dpp), 0);
	cr_expect_eq(dpp.nlevels, 5);
	cr_expect_eq(dpp.levels[2].rate_Bps, 250000);
	cr_expect_eq(dpp.levels[2].flags, XCRS_LEVEL_F_REACTED);
	cr_expect_eq(dpp.levels[0].flags, 0);
	cr_expect_eq(dpp.npools, 5, "3 pools and 2 RAN prefixes");
	cr_expect(dpp.cfg.flags & XCRS_CFG_F_RAN);
	cr_expect_eq(dpp.cfg.default_level, XCRS_LEVEL_PASS);
	cr_expect_eq(dpp.cfg.fanout_threshold, 64);
	enf_tables_free(&dpp);
	/* The static subscriber is in the map with its scope. */
	{
		struct xcrs_addr a;
		struct xcrs_sub s;

		cr_assert_eq(dp_addr_parse("203.0.113.7", &a), 0);
		cr_assert_eq(dp_sub_get(dp, &a, &s), 0);
		cr_expect_eq(s.scope, 1);
		cr_expect_eq(s.level, 0);
	}
	/* 192.0.2.130 is in apn-iot; web is any address on tcp/80. */
	verdict("192.0.2.130", "203.0.113.99", IPPROTO_TCP, 80,
		XCRS_ACT_PASS, XCRS_R_ALLOWED);
	/* GTP-U: a quarantined terminal's G-PDU from the RAN is
	 * decapsulated and held; the same from an address outside ran is a
	 * plain packet of that address (unknown: pass, never decapsulated) */
	set_level("192.0.2.131", "quarantined");
	{
		struct pb_frame f = {
			.gtpu = true,
			.outer = { .family = 4, .src = "198.51.100.241",
				   .dst = "198.51.100.1" },
			.ip = { .family = 4, .src = "192.0.2.131",
				.dst = "203.0.113.99", .proto = IPPROTO_TCP,
				.dport = 80 },
		};
		uint8_t b[PB_MAX];
		size_t n = pb_build(&f, b, sizeof(b), NULL);
		struct xt_result r;

		cr_assert_eq(xt_run(dp, XCRS_ROLE_ACCESS, true, b, n, &r), 0);
		cr_expect(r.action == XCRS_ACT_DROP && r.reason == XCRS_R_LEVEL,
			  "from the RAN: %s", abi_reason_name(r.reason));
		f.outer.src = "198.51.100.99";
		n = pb_build(&f, b, sizeof(b), NULL);
		cr_assert_eq(xt_run(dp, XCRS_ROLE_ACCESS, true, b, n, &r), 0);
		cr_expect(r.action == XCRS_ACT_PASS &&
				  r.reason == XCRS_R_UNKNOWN_PASS,
			  "from elsewhere: %s", abi_reason_name(r.reason));
	}
}
