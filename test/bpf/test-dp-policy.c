// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy changes through the dataplane library: a new policy takes effect
 * as one change (never a mix of old and new, checked while packets run on
 * the other CPU), an invalid or oversized policy is refused with a message
 * and leaves the running one in force, and full maps say which map.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <criterion/criterion.h>

#include "pktbuild.h"
#include "xdptest.h"

static struct dp *dp;

static void open_ref(void)
{
	cr_assert_eq(xt_open(&dp, XCRS_LEVEL_PASS), 0);
}

static void close_dp(void)
{
	dp_close(dp);
	dp = NULL;
}

static uint32_t verdict(const char *src, const char *dst, uint8_t proto,
			uint16_t dport)
{
	struct pb_frame f = { .ip = { .family = strchr(src, ':') ? 6 : 4,
				      .src = src, .dst = dst, .proto = proto,
				      .sport = 40000, .dport = dport } };
	uint8_t b[PB_MAX];
	size_t n = pb_build(&f, b, sizeof(b), NULL);
	struct xt_result r;

	cr_assert_eq(xt_run(dp, XCRS_ROLE_ACCESS, false, b, n, &r), 0);
	return r.xdp;
}

#define Q4 "192.0.2.13" /* quarantined host of the reference policy */

Test(policy, apply_flips_the_generation_and_takes_effect, .init = open_ref,
     .fini = close_dp)
{
	struct dp_policy p;
	struct dp_service_rule rules[1];
	uint32_t g0, g1;

	cr_assert_eq(dp_policy_generation(dp, &g0), 0);
	cr_expect_eq(verdict(Q4, XT_DNS4, IPPROTO_UDP, 53), XDP_PASS);
	cr_expect_eq(verdict(Q4, "198.51.100.54", IPPROTO_UDP, 53), XDP_DROP);

	/* The DNS service moves to another address. */
	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_prefix_parse("198.51.100.54", &rules[0].addr,
				     &rules[0].plen), 0);
	rules[0].proto = IPPROTO_UDP;
	rules[0].port_lo = rules[0].port_hi = 53;
	rules[0].svc = SVC_DNS;
	p.rules = rules;
	p.nrules = 1;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_assert_eq(dp_policy_generation(dp, &g1), 0);
	cr_expect_neq(g0, g1);
	cr_expect_eq(verdict(Q4, XT_DNS4, IPPROTO_UDP, 53), XDP_DROP);
	cr_expect_eq(verdict(Q4, "198.51.100.54", IPPROTO_UDP, 53), XDP_PASS);
}

static void refused(struct dp_policy *p, int want, const char *needle)
{
	uint32_t g0, g1;
	int r;

	cr_assert_eq(dp_policy_generation(dp, &g0), 0);
	r = dp_policy_apply(dp, p);
	cr_expect_eq(r, want, "apply returned %d (%s), want %d", r,
		     dp_errmsg(dp), want);
	cr_expect(strstr(dp_errmsg(dp), needle), "message '%s' lacks '%s'",
		  dp_errmsg(dp), needle);
	cr_assert_eq(dp_policy_generation(dp, &g1), 0);
	cr_expect_eq(g0, g1, "a refused policy flipped the generation");
	/* The running reference policy still enforces. */
	cr_expect_eq(verdict(Q4, XT_DNS4, IPPROTO_UDP, 53), XDP_PASS);
	cr_expect_eq(verdict(Q4, XT_OTHER4, IPPROTO_TCP, 80), XDP_DROP);
}

Test(policy, invalid_policies_are_refused_and_the_old_one_stays,
     .init = open_ref, .fini = close_dp)
{
	struct dp_policy p;
	struct dp_service_rule r;
	struct dp_pool pool = { 0 };

	xt_policy(&p, XCRS_LEVEL_PASS);
	p.nlevels = 0;
	refused(&p, -EINVAL, "levels");

	xt_policy(&p, L_COUNT);
	refused(&p, -EINVAL, "default level 6 is not defined");

	xt_policy(&p, XCRS_LEVEL_PASS);
	p.levels[L_BLOCKED].rate_Bps = 100;
	refused(&p, -EINVAL, "level 4 has a rate but no burst");

	xt_policy(&p, XCRS_LEVEL_PASS);
	r = p.rules[0];
	r.svc = 63;
	p.rules = &r;
	p.nrules = 1;
	refused(&p, -EINVAL, "class 63");

	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_addr_parse("203.0.113.1", &r.addr), 0);
	r.plen = 96 + 24;
	p.rules = &r;
	refused(&p, -EINVAL, "203.0.113.1/24 is not a prefix");

	xt_policy(&p, XCRS_LEVEL_PASS);
	pool = p.pools[0];
	pool.level = L_COUNT;
	p.pools = &pool;
	p.npools = 1;
	refused(&p, -EINVAL, "192.0.2.128/25: level 6 is not defined");

	xt_policy(&p, XCRS_LEVEL_PASS);
	p.cfg.fanout_threshold = XCRS_FANOUT_THRESHOLD_MAX + 1;
	p.cfg.fanout_window_ns = 1000000000ULL;
	refused(&p, -ERANGE, "fan-out threshold");
}

Test(policy, too_many_prefixes_are_refused_before_any_write, .fini = close_dp)
{
	struct dp_config cfg = { .max_svc_prefixes = 8, .max_pools = 4 };
	struct dp_service_rule rules[9];
	struct dp_pool pools[5] = { 0 };
	struct dp_policy p;
	char err[256];

	cr_assert_eq(dp_open(&cfg, &dp, err, sizeof(err)), 0, "%s", err);
	xt_policy(&p, XCRS_LEVEL_PASS);
	p.npools = 3; /* its subscribers' pools, no RAN: 3 of the 4 */
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_assert_eq(xt_add_subs(dp), 0);

	for (int i = 0; i < 9; i++) {
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "203.0.113.%d", i);
		cr_assert_eq(dp_prefix_parse(pfx, &rules[i].addr,
					     &rules[i].plen), 0);
		rules[i].proto = 0;
		rules[i].port_lo = 0;
		rules[i].port_hi = 65535;
		rules[i].svc = SVC_WEB;
	}
	p.rules = rules;
	p.nrules = 9;
	refused(&p, -E2BIG, "9 service prefixes");
	/* Eight fit, even while the old generation is still in the map. */
	p.nrules = 8;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_expect_eq(verdict("192.0.2.12", "203.0.113.7", IPPROTO_UDP, 9),
		     XDP_PASS);

	xt_policy(&p, XCRS_LEVEL_PASS);
	p.npools = 3;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	for (int i = 0; i < 5; i++) {
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "2001:db8:%x::/48", 0x100 + i);
		cr_assert_eq(dp_prefix_parse(pfx, &pools[i].addr,
					     &pools[i].plen), 0);
		pools[i].scope = 1;
		pools[i].level = 0;
	}
	p.pools = pools;
	p.npools = 5;
	refused(&p, -E2BIG, "5 address pools");
}

Test(policy, full_subscriber_map_names_the_map_and_address,
     .fini = close_dp)
{
	struct dp_config cfg = { .max_subs = 4 };
	struct xcrs_sub s = { .level = 1, .base_level = 1 };
	struct xcrs_addr a;
	char err[256];
	int r = 0, i;

	cr_assert_eq(dp_open(&cfg, &dp, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < 64 && !r; i++) {
		char t[32];

		snprintf(t, sizeof(t), "192.0.2.%d", 100 + i);
		cr_assert_eq(dp_addr_parse(t, &a), 0);
		r = dp_sub_set(dp, &a, &s);
	}
	cr_assert_eq(r, -E2BIG, "got %d after %d subscribers", r, i);
	cr_expect_eq(i, 5, "the map held %d, not 4", i - 1);
	cr_expect(strstr(dp_errmsg(dp), "subscriber map full (4 entries)"),
		  "%s", dp_errmsg(dp));
	cr_expect(strstr(dp_errmsg(dp), "192.0.2.104"), "%s", dp_errmsg(dp));
	/* An existing entry can still change. */
	cr_assert_eq(dp_addr_parse("192.0.2.100", &a), 0);
	s.level = 2;
	cr_expect_eq(dp_sub_set(dp, &a, &s), 0, "%s", dp_errmsg(dp));
}

/* ---- atomicity under load ---- */

struct flipper {
	struct dp *dp;
	struct dp_policy a, b;
	int rounds;
	atomic_int done;
	int err;
};

static void *flip(void *arg)
{
	struct flipper *f = arg;

	for (int i = 0; i < f->rounds && !f->err; i++)
		f->err = dp_policy_apply(f->dp, i & 1 ? &f->a : &f->b);
	atomic_store(&f->done, 1);
	return NULL;
}

Test(policy, packets_never_see_a_mix_of_two_policies, .init = open_ref,
     .fini = close_dp, .timeout = 120)
{
	/* Policy A: DNS is class 0 and quarantine allows class 0. Policy B:
	 * the same DNS is class 5 and quarantine allows class 5 only. A
	 * packet that saw A's levels with B's services (or the reverse)
	 * would be dropped. */
	static struct dp_service_rule rb[16];
	static struct flipper fl;
	struct pb_frame f = { .ip = { .family = 4, .src = Q4, .dst = XT_DNS4,
				      .proto = IPPROTO_UDP, .dport = 53 } };
	uint8_t b[PB_MAX], out[PB_MAX];
	size_t n = pb_build(&f, b, sizeof(b), NULL);
	struct dp_stats before, after;
	pthread_t t;
	int fd, runs = 0;
	uint64_t passed, dropped;

	xt_policy(&fl.a, XCRS_LEVEL_PASS);
	xt_policy(&fl.b, XCRS_LEVEL_PASS);
	memcpy(rb, fl.b.rules, fl.b.nrules * sizeof(rb[0]));
	for (size_t i = 0; i < fl.b.nrules; i++)
		if (rb[i].svc == SVC_DNS)
			rb[i].svc = 5;
	fl.b.rules = rb;
	fl.b.levels[L_QUARANTINED].allowed = XCRS_SVC_BIT(5);
	fl.dp = dp;
	fl.rounds = 60;
	cr_assert_eq(dp_policy_apply(dp, &fl.a), 0);

	fd = dp_prog_fd(dp, XCRS_ROLE_ACCESS, false);
	cr_assert_geq(fd, 0);
	cr_assert_eq(dp_stats_read(dp, &before), 0);
	cr_assert_eq(pthread_create(&t, NULL, flip, &fl), 0);
	/* One packet per run: a run of several repeats costs an RCU grace
	 * period of its own in the kernel and would serialise with apply. */
	while (!atomic_load(&fl.done)) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b,
			    .data_size_in = (uint32_t)n, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		cr_assert_eq(bpf_prog_test_run_opts(fd, &o), 0);
		runs++;
	}
	pthread_join(t, NULL);
	cr_assert_eq(fl.err, 0, "apply failed: %s", dp_errmsg(dp));
	cr_assert_eq(dp_stats_read(dp, &after), 0);
	passed = after.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets -
		 before.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets;
	dropped = after.c[XCRS_ACT_DROP][XCRS_R_LEVEL].packets -
		  before.c[XCRS_ACT_DROP][XCRS_R_LEVEL].packets;
	cr_log_info("%d runs, %llu packets during %d policy changes", runs,
		    (unsigned long long)passed, fl.rounds);
	cr_expect_gt(runs, fl.rounds, "packets did not overlap the changes (%d runs)", runs);
	cr_expect_eq(dropped, 0, "%llu packets saw a mixed policy",
		     (unsigned long long)dropped);
	cr_expect_eq(passed, (uint64_t)runs);
}
