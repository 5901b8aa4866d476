// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP program, run for real with BPF_PROG_TEST_RUN on frames from the
 * packet builder. Each case asserts the verdict and which statistics slot
 * (action, reason) counted the packet, against the reference policy of
 * lib/xdptest.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "clock.h"
#include "pktbuild.h"
#include "xdptest.h"

#define A XCRS_ROLE_ACCESS
#define C XCRS_ROLE_CORE
#define PASS XCRS_ACT_PASS
#define DROP XCRS_ACT_DROP

static struct dp *dp;

static void open_default_pass(void)
{
	cr_assert_eq(xt_open(&dp, XCRS_LEVEL_PASS), 0, "cannot open dataplane");
}

static void close_dp(void)
{
	dp_close(dp);
	dp = NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Expiry tests: an end far ahead for the checks before it (a write or a
 * test run can take long on a kernel under emulation: ci/kernel-test), then
 * a near end, waited past with no write in between. Times are taken from
 * the clock the program compares with (the coarse one). */
#define EXPIRY_NS (30000ULL * 1000000ULL)
#define SHORT_NS (200ULL * 1000000ULL)

static __u64 coarse_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void sleep_past(__u64 t)
{
	__u64 now = coarse_now();

	if (now < t + 50 * 1000000ULL)
		sleep_ms((long)((t + 50 * 1000000ULL - now) / 1000000ULL) + 1);
}

static const char *slot_name(int act, int why)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ & 3];

	if (act < 0)
		return "(no single slot)";
	snprintf(b, 64, "%s/%s", abi_action_name(act),
		 abi_reason_name(why));
	return b;
}

/* Runs one frame and checks verdict and counted slot; on a mismatch the
 * message carries the frame. Returns whether it matched. */
static bool check_frame(const char *what, int role, bool gtpu,
			const uint8_t *pkt, size_t len, int act, int why)
{
	struct xt_result r;
	char hex[8192];
	int e = xt_run(dp, role, gtpu, pkt, len, &r);
	uint32_t want_xdp = act == PASS ? XDP_PASS : XDP_DROP;

	cr_assert_eq(e, 0, "%s: test run failed: %s (%s)", what,
		     strerror(-e), dp_errmsg(dp));
	if (r.xdp == want_xdp && r.action == act && r.reason == why &&
	    r.bytes == len)
		return true;
	pb_hexdump(pkt, len, hex, sizeof(hex));
	cr_expect_fail("%s (%s role%s, %zu bytes): got XDP %u %s %llu bytes, "
		       "want %s\n%s",
		       what, abi_role_name(role), gtpu ? ", GTP-U" : "",
		       len, r.xdp, slot_name(r.action, r.reason),
		       (unsigned long long)r.bytes, slot_name(act, why), hex);
	return false;
}

static bool check(const char *what, int role, bool gtpu,
		  const struct pb_frame *f, int act, int why)
{
	uint8_t b[PB_MAX];
	size_t n = pb_build(f, b, sizeof(b), NULL);

	return check_frame(what, role, gtpu, b, n, act, why);
}

/* ---- the matrix: level × family × plain/GTP-U × role ---- */

struct mparam {
	int level, family, role;
	bool gtpu;
};

static struct mparam mparams[L_COUNT * 2 * 2 * 2];

ParameterizedTestParameters(matrix, level_family_encap_role)
{
	size_t n = 0;

	for (int l = 0; l < L_COUNT; l++)
		for (int fam = 4; fam <= 6; fam += 2)
			for (int g = 0; g < 2; g++)
				for (int role = A; role <= C; role++)
					mparams[n++] = (struct mparam){
						.level = l, .family = fam,
						.role = role, .gtpu = g };
	return cr_make_param_array(struct mparam, mparams, n, NULL);
}

/* A subscriber packet to/from a peer, oriented for the role: uplink on
 * access (subscriber is the source), downlink on core (subscriber is the
 * destination, the service port is the source port). */
static struct pb_frame mframe(const struct mparam *p, const char *peer,
			      uint8_t proto, uint16_t port)
{
	const char *sub = xt_sub_addr(p->family, p->level);
	struct pb_frame f = { 0 };
	struct pb_ip *ip = &f.ip;

	ip->family = p->family;
	ip->proto = proto;
	if (p->role == A) {
		ip->src = sub;
		ip->dst = peer;
		ip->sport = 40000;
		ip->dport = port;
	} else {
		ip->src = peer;
		ip->dst = sub;
		ip->sport = port;
		ip->dport = 40000;
		ip->tcp_flags = 0x12; /* SYN-ACK: downlink answers */
	}
	if (p->gtpu) {
		/* Outer family the other way round: both combinations run. */
		f.gtpu = true;
		f.outer.family = p->family == 4 ? 6 : 4;
		f.outer.src = p->family == 4 ? "2001:db8:ff::250" : XT_GNB4;
		f.outer.dst = p->family == 4 ? "2001:db8:ff::1" : XT_UPF4;
		f.gtp_ext = p->role == A ? 1 : 0;
	}
	return f;
}

ParameterizedTest(struct mparam *p, matrix, level_family_encap_role,
		  .init = open_default_pass, .fini = close_dp)
{
	static const uint64_t allowed[L_COUNT] = {
		[L_NORMAL] = 0xf, [L_MONITORED] = 0xf,
		[L_RESTRICTED] = 0x7, [L_QUARANTINED] = 0x3,
		[L_BLOCKED] = 0, [L_THROTTLED] = 0xf,
	};
	bool v4 = p->family == 4;
	struct {
		const char *name, *peer;
		uint8_t proto;
		uint16_t port;
	} probe[4] = {
		{ "dns", v4 ? XT_DNS4 : XT_DNS6, IPPROTO_UDP, 53 },
		{ "remediation", v4 ? XT_REMED4 : XT_REMED6, IPPROTO_TCP,
		  443 },
		{ "web", v4 ? XT_WEB4 : XT_WEB6, IPPROTO_TCP, 80 },
		{ "other", v4 ? XT_OTHER4 : XT_OTHER6, IPPROTO_TCP, 80 },
	};
	struct xcrs_sub_counters sc;
	struct xcrs_addr sub;
	int npass = 0, ndrop = 0, r;

	for (int i = 0; i < 4; i++) {
		struct pb_frame f = mframe(p, probe[i].peer, probe[i].proto,
					   probe[i].port);
		bool ok = allowed[p->level] & (1u << i);
		char what[128];

		snprintf(what, sizeof(what), "level %d, IPv%d, %s", p->level,
			 p->family, probe[i].name);
		check(what, p->role, p->gtpu, &f, ok ? PASS : DROP,
		      ok ? XCRS_R_ALLOWED : XCRS_R_LEVEL);
		ok ? npass++ : ndrop++;
	}

	/* Per-subscriber counters exist for reacted levels only. */
	cr_assert_eq(dp_addr_parse(xt_sub_addr(p->family, p->level), &sub), 0);
	r = dp_sub_stats_read(dp, &sub, &sc);
	if (p->level == L_NORMAL) {
		cr_expect_eq(r, -ENOENT, "normal subscriber has counters");
	} else {
		cr_assert_eq(r, 0, "reacted subscriber without counters: %s",
			     dp_errmsg(dp));
		cr_expect_eq(sc.pass.packets, npass);
		cr_expect_eq(sc.drop.packets, ndrop);
	}
}

static struct pb_frame tcp(int fam, const char *src, const char *dst,
			   uint16_t sport, uint16_t dport)
{
	struct pb_frame f = { .ip = { .family = fam, .src = src, .dst = dst,
				      .proto = IPPROTO_TCP, .sport = sport,
				      .dport = dport } };

	return f;
}

/* ---- unknown subscribers ---- */

/* 192.0.2.40 is in no pool and has no host entry. */
static const struct pb_frame unknown_web = {
	.ip = { .family = 4, .src = "192.0.2.40", .dst = XT_OTHER4,
		.proto = IPPROTO_TCP, .sport = 40000, .dport = 80 }
};

Test(unknown, default_pass_passes_without_classification,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = unknown_web;

	check("unknown v4", A, false, &f, PASS, XCRS_R_UNKNOWN_PASS);
	f.ip.family = 6;
	f.ip.src = "2001:db8:77::1";
	f.ip.dst = XT_OTHER6;
	check("unknown v6", A, false, &f, PASS, XCRS_R_UNKNOWN_PASS);
}

Test(unknown, default_level_is_enforced, .fini = close_dp)
{
	struct pb_frame f = unknown_web;
	struct xcrs_addr a;
	struct xcrs_sub_counters sc;

	cr_assert_eq(xt_open(&dp, L_QUARANTINED), 0);
	check("unknown to other", A, false, &f, DROP, XCRS_R_LEVEL);
	f.ip.proto = IPPROTO_UDP;
	f.ip.dst = XT_DNS4;
	f.ip.dport = 53;
	check("unknown to dns", A, false, &f, PASS, XCRS_R_ALLOWED);
	/* Unknown subscribers are not tracked one by one. */
	cr_assert_eq(dp_addr_parse("192.0.2.40", &a), 0);
	cr_expect_eq(dp_sub_stats_read(dp, &a, &sc), -ENOENT);
}

Test(unknown, default_blocked, .fini = close_dp)
{
	struct pb_frame f = unknown_web;

	cr_assert_eq(xt_open(&dp, L_BLOCKED), 0);
	check("unknown v4", A, false, &f, DROP, XCRS_R_LEVEL);
	f.ip.src = XT_OTHER4;
	f.ip.dst = "192.0.2.40";
	check("unknown v4 downlink", C, false, &f, DROP, XCRS_R_LEVEL);
}

Test(subscriber, pool_member_gets_the_pool_level_and_host_entry_wins,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = tcp(4, "192.0.2.250", XT_OTHER4, 40000, 80);
	struct dp_policy p;
	struct dp_pool pools[1] = { 0 };
	struct xcrs_sub s = { .level = L_NORMAL, .base_level = L_NORMAL };
	struct xcrs_addr a;

	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_prefix_parse("192.0.2.192/26", &pools[0].addr,
				     &pools[0].plen), 0);
	pools[0].level = L_QUARANTINED;
	pools[0].scope = 3;
	p.pools = pools;
	p.npools = 1;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	check("pool member", A, false, &f, DROP, XCRS_R_LEVEL);
	cr_assert_eq(dp_addr_parse("192.0.2.250", &a), 0);
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0);
	check("host entry inside the pool", A, false, &f, PASS,
	      XCRS_R_ALLOWED);
	cr_assert_eq(dp_sub_del(dp, &a), 0);
	check("host entry removed", A, false, &f, DROP, XCRS_R_LEVEL);
}

/* Loading many hosts at once: the same entries as one by one, existing
 * ones overwritten with their counter slot kept, a refused one stops the
 * load with everything before it written and nothing after. */
Test(subscriber, many_hosts_load_in_batches_like_one_by_one,
     .fini = close_dp)
{
	enum { N = 20000 };
	struct dp_config cfg = { .max_subs = N + 16, .max_tracked = 64 };
	static struct xcrs_addr a[N];
	static struct xcrs_sub s[N];
	struct dp_pool never[1] = { 0 };
	struct xcrs_sub got, q = { .level = L_QUARANTINED,
				   .base_level = L_QUARANTINED };
	struct dp_policy p;
	size_t done = 99;
	__u32 slot;
	char err[256];

	cr_assert_eq(dp_open(&cfg, &dp, err, sizeof(err)), 0, "%s", err);
	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_prefix_parse("2001:db8:ee::/48", &never[0].addr,
				     &never[0].plen), 0);
	never[0].never = true;
	p.pools = never;
	p.npools = 1;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	for (int i = 0; i < N; i++) {
		char t[64];

		snprintf(t, sizeof(t), "2001:db8:5:%x::%x", i / 4096, i % 4096);
		cr_assert_eq(dp_addr_parse(t, &a[i]), 0);
		s[i] = (struct xcrs_sub){ .level = i % 4096 == 1 ? L_BLOCKED :
							       L_NORMAL,
					  .base_level = L_NORMAL,
					  .scope = (__u32)i % 7 };
	}
	/* into the empty map (batches): refused at index 5 (inside the
	 * never prefix), 0-4 written, nothing after */
	{
		struct xcrs_addr b[10];

		for (int i = 0; i < 10; i++) {
			char t[64];

			snprintf(t, sizeof(t), "2001:db8:6::%x", i);
			cr_assert_eq(dp_addr_parse(t, &b[i]), 0);
		}
		cr_assert_eq(dp_addr_parse("2001:db8:ee::5", &b[5]), 0);
		cr_expect_eq(dp_sub_set_many(dp, b, s, 10, &done), -EPERM);
		cr_expect_eq(done, 5);
		cr_expect_eq(dp_sub_get(dp, &b[4], &got), 0);
		cr_expect_neq(dp_sub_get(dp, &b[6], &got), 0,
			      "nothing after it");
		for (int i = 0; i < 5; i++)
			cr_assert_eq(dp_sub_del(dp, &b[i]), 0);
	}
	/* into the empty map again: every host, a reacted one among them
	 * listed twice (the second entry wins, one counter slot) */
	s[777] = q;
	a[778] = a[777];
	s[778] = (struct xcrs_sub){ .level = L_BLOCKED,
				    .base_level = L_BLOCKED, .scope = 2 };
	cr_assert_eq(dp_sub_set_many(dp, a, s, N, &done), 0, "%s",
		     dp_errmsg(dp));
	cr_expect_eq(done, N);
	for (int i = 0; i < N; i += 97) {
		cr_assert_eq(dp_sub_get(dp, &a[i], &got), 0, "host %d: %s", i,
			     dp_errmsg(dp));
		cr_expect_eq(got.level, s[i].level, "host %d", i);
		cr_expect_eq(got.scope, s[i].scope, "host %d", i);
	}
	cr_assert_eq(dp_sub_get(dp, &a[777], &got), 0);
	cr_expect_eq(got.level, L_BLOCKED, "the later entry of a host wins");
	slot = got.stats_slot;
	cr_expect_neq(slot, 0, "a reacted host has a counter slot");
	{
		struct pb_frame f = tcp(6, "2001:db8:5:1::1", XT_OTHER6, 40000,
					 80);

		/* host 4097: blocked */
		check("a host loaded in a batch", A, false, &f, DROP,
		      XCRS_R_LEVEL);
	}
	/* over the entries now there (one by one): an existing reacted
	 * host keeps its slot */
	s[778] = q;
	cr_assert_eq(dp_sub_set_many(dp, a + 700, s + 700, 200, &done), 0,
		     "%s", dp_errmsg(dp));
	cr_expect_eq(done, 200);
	cr_assert_eq(dp_sub_get(dp, &a[777], &got), 0);
	cr_expect_eq(got.level, L_QUARANTINED);
	cr_expect_eq(got.stats_slot, slot, "an existing host keeps its slot");
}

/* A load larger than the map (written by two threads where there are two
 * CPUs): refused where the map is full, with exactly the hosts before the
 * first refused one written and counted, none after it. */
Test(subscriber, a_load_that_overflows_the_map_stops_at_one_point,
     .fini = close_dp)
{
	enum { CAP = 6000, N = 20000 };
	struct dp_config cfg = { .max_subs = CAP, .max_tracked = 64 };
	static struct xcrs_addr a[N];
	static struct xcrs_sub s[N];
	struct xcrs_sub got;
	size_t done = 0, present = 0, wrong = 0;
	char err[256];
	int r;

	cr_assert_eq(dp_open(&cfg, &dp, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i < N; i++) {
		char t[32];

		snprintf(t, sizeof(t), "198.51.%d.%d", 100 + i / 256, i % 256);
		cr_assert_eq(dp_addr_parse(t, &a[i]), 0, "%s", t);
		s[i] = (struct xcrs_sub){ .level = L_NORMAL,
					  .base_level = L_NORMAL };
	}
	r = dp_sub_set_many(dp, a, s, N, &done);
	cr_expect_eq(r, -E2BIG, "%d: %s", r, dp_errmsg(dp));
	cr_expect(strstr(dp_errmsg(dp), "full"), "%s", dp_errmsg(dp));
	cr_expect_gt(done, 0);
	cr_expect_leq(done, CAP);
	for (size_t i = 0; i < N; i++) {
		bool has = !dp_sub_get(dp, &a[i], &got);

		present += has;
		wrong += has != (i < done);
	}
	cr_expect_eq(wrong, 0, "%zu hosts on the wrong side of %zu", wrong,
		     done);
	cr_expect_eq(present, done);
	cr_expect_eq(dp_subs_count(dp, NULL), done);
}

Test(subscriber, undefined_level_fails_closed, .init = open_default_pass,
     .fini = close_dp)
{
	struct pb_frame f = unknown_web;
	struct xcrs_sub s = { .level = 9, .base_level = 9 };
	struct xcrs_addr a;

	cr_assert_eq(dp_addr_parse("192.0.2.40", &a), 0);
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0);
	check("level 9", A, false, &f, DROP, XCRS_R_BAD_LEVEL);
}

Test(subscriber, ipv4_mapped_ipv6_finds_the_ipv4_subscriber,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = {
		.ip = { .family = 6, .src = "::ffff:192.0.2.14",
			.dst = XT_OTHER6, .proto = IPPROTO_TCP, .dport = 80 }
	};

	check("mapped blocked", A, false, &f, DROP, XCRS_R_LEVEL);
}

Test(subscriber, level_expires_to_base_level, .init = open_default_pass,
     .fini = close_dp)
{
	struct pb_frame f = unknown_web;
	struct xcrs_sub s = { .level = L_BLOCKED, .base_level = L_NORMAL };
	struct xcrs_addr a;

	cr_assert_eq(dp_addr_parse("192.0.2.40", &a), 0);
	s.expires_ns = coarse_now() + EXPIRY_NS;
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0);
	check("before expiry", A, false, &f, DROP, XCRS_R_LEVEL);
	/* a near end, then nothing more is written: the dataplane ends it */
	s.expires_ns = coarse_now() + SHORT_NS;
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0);
	sleep_past(s.expires_ns);
	check("after expiry", A, false, &f, PASS, XCRS_R_ALLOWED);
	s.expires_ns = 1;
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0);
	check("expired at set", A, false, &f, PASS, XCRS_R_ALLOWED);
}

Test(subscriber, entry_without_base_ends_at_expiry,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = unknown_web;
	struct xcrs_sub s = { .level = L_BLOCKED,
			      .base_level = XCRS_SUB_BASE_NONE };
	struct xcrs_addr a;

	cr_assert_eq(dp_addr_parse("192.0.2.40", &a), 0);
	/* "no base" only makes sense for an entry that expires */
	cr_expect_eq(dp_sub_set(dp, &a, &s), -EINVAL);
	s.expires_ns = coarse_now() + EXPIRY_NS;
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0);
	check("before expiry", A, false, &f, DROP, XCRS_R_LEVEL);
	/* a near end, then nothing more is written: the dataplane ends it */
	s.expires_ns = coarse_now() + SHORT_NS;
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0);
	sleep_past(s.expires_ns);
	/* as if there were no entry: the default for unknown subscribers */
	check("after expiry", A, false, &f, PASS, XCRS_R_UNKNOWN_PASS);
}

/* ---- service classification ---- */

Test(service, by_prefix_protocol_and_port, .init = open_default_pass,
     .fini = close_dp)
{
	const char *sub4 = xt_sub_addr(4, L_RESTRICTED);
	const char *sub6 = xt_sub_addr(6, L_RESTRICTED);
	struct {
		const char *what;
		int fam;
		const char *dst;
		uint8_t proto;
		uint16_t port;
		int act, why;
	} c[] = {
		{ "web prefix tcp/443", 4, "203.0.113.77", IPPROTO_TCP, 443,
		  PASS, XCRS_R_ALLOWED },
		{ "web prefix tcp/22", 4, "203.0.113.77", IPPROTO_TCP, 22,
		  DROP, XCRS_R_LEVEL },
		{ "web prefix udp/443", 4, "203.0.113.77", IPPROTO_UDP, 443,
		  DROP, XCRS_R_LEVEL },
		{ "outside prefix tcp/80", 4, "198.51.100.77", IPPROTO_TCP,
		  80, DROP, XCRS_R_LEVEL },
		{ "dns tcp/53", 4, XT_DNS4, IPPROTO_TCP, 53, PASS,
		  XCRS_R_ALLOWED },
		{ "dns udp/54", 4, XT_DNS4, IPPROTO_UDP, 54, DROP,
		  XCRS_R_LEVEL },
		{ "icmp to web prefix", 4, "203.0.113.77", IPPROTO_ICMP, 0,
		  DROP, XCRS_R_LEVEL },
		{ "v6 web /48 tcp/443", 6, "2001:db8:cafe:1::5", IPPROTO_TCP,
		  443, PASS, XCRS_R_ALLOWED },
		{ "v6 outside /48", 6, "2001:db8:caff::5", IPPROTO_TCP, 443,
		  DROP, XCRS_R_LEVEL },
		{ "v6 dns tcp/53 (only udp)", 6, XT_DNS6, IPPROTO_TCP, 53,
		  DROP, XCRS_R_LEVEL },
		{ "icmpv6 echo", 6, XT_DNS6, IPPROTO_ICMPV6, 0, DROP,
		  XCRS_R_LEVEL },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pb_frame f = {
			.ip = { .family = c[i].fam,
				.src = c[i].fam == 4 ? sub4 : sub6,
				.dst = c[i].dst, .proto = c[i].proto,
				.sport = 40000, .dport = c[i].port }
		};

		check(c[i].what, A, false, &f, c[i].act, c[i].why);
	}
}

Test(service, more_specific_prefix_wins_and_inherits,
     .init = open_default_pass, .fini = close_dp)
{
	struct dp_policy p;
	struct dp_service_rule r[3];
	struct pb_frame f = {
		.ip = { .family = 4, .src = xt_sub_addr(4, L_QUARANTINED),
			.dst = "203.0.113.130", .proto = IPPROTO_TCP,
			.dport = 443 }
	};

	/* /24 is web; its /25 is remediation on tcp/443 only: tcp/80 in
	 * the /25 falls back to the enclosing /24's rule. */
	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_prefix_parse("203.0.113.0/24", &r[0].addr,
				     &r[0].plen), 0);
	r[0] = (struct dp_service_rule){ r[0].addr, r[0].plen, IPPROTO_TCP,
					 SVC_WEB, 1, 65535 };
	cr_assert_eq(dp_prefix_parse("203.0.113.128/25", &r[1].addr,
				     &r[1].plen), 0);
	r[1] = (struct dp_service_rule){ r[1].addr, r[1].plen, IPPROTO_TCP,
					 SVC_REMEDIATION, 443, 443 };
	p.rules = r;
	p.nrules = 2;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	check("/25 tcp/443 is remediation", A, false, &f, PASS,
	      XCRS_R_ALLOWED);
	f.ip.dport = 80;
	check("/25 tcp/80 is web (from the /24)", A, false, &f, DROP,
	      XCRS_R_LEVEL);
	f.ip.src = xt_sub_addr(4, L_RESTRICTED);
	check("restricted may use web", A, false, &f, PASS, XCRS_R_ALLOWED);
}

/* The per-CPU class cache is keyed by the policy epoch: a packet right
 * after a policy change is classified by the new policy, also for a
 * peer the cache knew a moment before. */
Test(service, a_new_policy_is_never_answered_from_the_cache,
     .init = open_default_pass, .fini = close_dp)
{
	struct dp_policy web, noweb;
	struct pb_frame f = tcp(4, xt_sub_addr(4, L_RESTRICTED),
				"203.0.113.77", 40000, 443);

	xt_policy(&web, XCRS_LEVEL_PASS);
	xt_policy(&noweb, XCRS_LEVEL_PASS);
	noweb.nrules -= 4; /* the last four rules are the web prefixes */
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(dp_policy_apply(dp, &web), 0, "%s", dp_errmsg(dp));
		check("web", A, false, &f, PASS, XCRS_R_ALLOWED);
		check("web again (cached)", A, false, &f, PASS,
		      XCRS_R_ALLOWED);
		cr_assert_eq(dp_policy_apply(dp, &noweb), 0, "%s",
			     dp_errmsg(dp));
		check("no longer web", A, false, &f, DROP, XCRS_R_LEVEL);
		check("no longer web (cached)", A, false, &f, DROP,
		      XCRS_R_LEVEL);
	}
}

/* More (peer, protocol, port) keys than the cache has slots, so that
 * keys share slots: every verdict is the one the prefixes and ports say,
 * on the first pass (misses) and the second (hits and evictions). */
Test(service, many_peers_through_the_cache_keep_their_class,
     .init = open_default_pass, .fini = close_dp)
{
	const char *sub = xt_sub_addr(6, L_RESTRICTED);
	int bad = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 3 * (int)XCRS_SVC_CACHE_SLOTS; i++) {
			char dst[64];
			bool web_prefix = i % 3 != 2, web_port = i % 2 == 0;
			struct pb_frame f;

			/* 2001:db8:cafe::/48 is web on tcp/80 and 443 */
			snprintf(dst, sizeof(dst), "2001:db8:%s::%x:%x",
				 web_prefix ? "cafe" : "caff", i >> 8, i & 255);
			f = tcp(6, sub, dst, 40000, web_port ? 443 : 444);
			if (web_prefix && web_port)
				bad += !check(dst, A, false, &f, PASS,
					      XCRS_R_ALLOWED);
			else
				bad += !check(dst, A, false, &f, DROP,
					      XCRS_R_LEVEL);
			if (bad > 5)
				cr_assert_fail("too many wrong verdicts");
		}
	}
}

/* Keys that share a cache slot with (2001:db8:cafe::1, tcp, 443), the
 * web peer, but differ in one part: the entry of one must never answer
 * for the other. The process stays on one CPU (the cache is per CPU). */
struct ckey {
	struct xcrs_addr a;
	uint8_t proto;
	uint16_t port;
};

static bool same_slot(const struct ckey *x, const struct ckey *y)
{
	return xcrs_svc_cache_slot(x->a.a, x->proto, x->port) ==
	       xcrs_svc_cache_slot(y->a.a, y->proto, y->port);
}

static void run_key(const struct ckey *k, int act, const char *what)
{
	char src[64], dst[64];
	struct pb_frame f;

	snprintf(src, sizeof(src), "%s", xt_sub_addr(6, L_RESTRICTED));
	cr_assert(inet_ntop(AF_INET6, k->a.a, dst, sizeof(dst)));
	f = tcp(6, src, dst, 40000, k->port);
	f.ip.proto = k->proto;
	check(what, A, false, &f, act, act == PASS ? XCRS_R_ALLOWED :
						    XCRS_R_LEVEL);
}

Test(service, keys_sharing_a_cache_slot_never_answer_for_each_other,
     .init = open_default_pass, .fini = close_dp)
{
	struct dp_policy p;
	struct dp_service_rule r[16];
	struct ckey web = { .proto = IPPROTO_TCP, .port = 443 }, k;
	cpu_set_t one;
	bool found;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	/* The reference policy plus 2001:db8:cafe:0:8000::/65 as class 9
	 * (which no reference level allows). */
	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_leq(p.nrules + 1, 16);
	memcpy(r, p.rules, p.nrules * sizeof(r[0]));
	cr_assert_eq(dp_prefix_parse("2001:db8:cafe:0:8000::/65",
				     &r[p.nrules].addr, &r[p.nrules].plen), 0);
	r[p.nrules].proto = 0;
	r[p.nrules].svc = 9;
	r[p.nrules].port_lo = 0;
	r[p.nrules].port_hi = 65535;
	p.rules = r;
	p.nrules++;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_assert_eq(dp_addr_parse("2001:db8:cafe::1", &web.a), 0);

	/* another port */
	found = false;
	for (uint32_t port = 1; port < 65536 && !found; port++) {
		k = web;
		k.port = (uint16_t)port;
		if (port == 80 || port == 443 || !same_slot(&k, &web))
			continue;
		found = true;
		run_key(&web, PASS, "web peer tcp/443");
		run_key(&k, DROP, "same peer, another port, same slot");
		run_key(&web, PASS, "web peer tcp/443 again");
	}
	cr_assert(found, "no port shares the slot");

	/* another protocol (udp), same port: search the peer's low bits */
	found = false;
	for (uint32_t i = 2; i < (1u << 20) && !found; i++) {
		struct ckey w = web;

		w.a.a[13] = (uint8_t)(i >> 16);
		w.a.a[14] = (uint8_t)(i >> 8);
		w.a.a[15] = (uint8_t)i;
		k = w;
		k.proto = IPPROTO_UDP;
		if (!same_slot(&k, &w))
			continue;
		found = true;
		run_key(&w, PASS, "web peer tcp/443");
		run_key(&k, DROP, "same peer, udp/443, same slot");
	}
	cr_assert(found, "no peer has tcp and udp in one slot");

	/* another upper half (outside the web /48), same lower half */
	found = false;
	for (uint32_t i = 0; i < (1u << 20) && !found; i++) {
		k = web;
		k.a.a[4] = 0xd0 | (uint8_t)(i >> 16 & 0x0f);
		k.a.a[5] = (uint8_t)(i >> 8);
		k.a.a[7] = (uint8_t)i;
		if (!same_slot(&k, &web))
			continue;
		found = true;
		run_key(&web, PASS, "web peer");
		run_key(&k, DROP, "other /48, same lower half, same slot");
	}
	cr_assert(found, "no upper half shares the slot");

	/* another lower half (the class-9 /65), same upper half */
	found = false;
	for (uint32_t i = 0; i < (1u << 20) && !found; i++) {
		k = web;
		k.a.a[8] = 0x80;
		k.a.a[13] = (uint8_t)(i >> 16);
		k.a.a[14] = (uint8_t)(i >> 8);
		k.a.a[15] = (uint8_t)i;
		if (!same_slot(&k, &web))
			continue;
		found = true;
		run_key(&web, PASS, "web peer");
		run_key(&k, DROP, "class-9 /65, same upper half, same slot");
		run_key(&web, PASS, "web peer again");
	}
	cr_assert(found, "no lower half shares the slot");
}

/* ---- L2 ---- */

Test(l2, arp_passes_and_other_non_ip_follows_the_policy,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = unknown_web;
	struct dp_policy p;

	f.ethertype = 0x0806;
	check("arp", A, false, &f, PASS, XCRS_R_NON_IP);
	f.ethertype = 0x88cc;
	check("lldp, non-ip pass", A, false, &f, PASS, XCRS_R_NON_IP);
	xt_policy(&p, XCRS_LEVEL_PASS);
	p.cfg.nonip_action = XCRS_NONIP_DROP;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	check("lldp, non-ip drop", A, false, &f, DROP, XCRS_R_NON_IP);
	f.ethertype = 0x0806;
	check("arp is never dropped", A, false, &f, PASS, XCRS_R_NON_IP);
}

/* Up to three tags are parsed here (the builder's limit); seven tags,
 * MPLS label stacks and PPPoE are in the evasion corpus. */
Test(l2, vlan_qinq_and_three_tags_are_parsed,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = {
		.ip = { .family = 4, .src = xt_sub_addr(4, L_QUARANTINED),
			.dst = XT_DNS4, .proto = IPPROTO_UDP, .dport = 53 }
	};

	for (int v = 0; v <= 3; v++) {
		f.vlans = v;
		f.ip.dst = XT_DNS4;
		check("allowed behind tags", A, false, &f, PASS,
		      XCRS_R_ALLOWED);
		f.ip.dst = XT_OTHER4;
		check("denied behind tags", A, false, &f, DROP, XCRS_R_LEVEL);
	}
}

Test(l2, ipv6_neighbour_discovery_passes_like_arp, .init = open_default_pass,
     .fini = close_dp)
{
	struct pb_frame f = {
		.ip = { .family = 6, .src = xt_sub_addr(6, L_BLOCKED),
			.dst = "ff02::1:ff00:1", .proto = IPPROTO_ICMPV6,
			.icmp_type = 135, .ttl = 255 }
	};

	for (uint8_t t = 133; t <= 137; t++) {
		f.ip.icmp_type = t;
		check("blocked terminal's ND", A, false, &f, PASS, XCRS_R_ND);
	}
	f.ip.ttl = 254;
	check("ND that crossed a router", A, false, &f, DROP, XCRS_R_LEVEL);
	f.ip.ttl = 255;
	f.ip.icmp_type = 128;
	check("echo request with hop limit 255", A, false, &f, DROP,
	      XCRS_R_LEVEL);
}

/* ---- IPv4 options and fragments, IPv6 extension headers ---- */

Test(ip, ipv4_options_are_skipped, .init = open_default_pass,
     .fini = close_dp)
{
	struct pb_frame f = {
		.ip = { .family = 4, .src = xt_sub_addr(4, L_QUARANTINED),
			.dst = XT_REMED4, .proto = IPPROTO_TCP, .dport = 443,
			.v4_opt_len = 40 }
	};

	check("40 option bytes to remediation", A, false, &f, PASS,
	      XCRS_R_ALLOWED);
	f.ip.dport = 22;
	check("40 option bytes to tcp/22", A, false, &f, DROP, XCRS_R_LEVEL);
}

/* A reacted terminal's later fragments get the verdict of their first
 * fragment (same source, destination, protocol and identification):
 * those of an allowed first pass, so its fragmented DNS reassembles; one
 * without a first, one of a first that was dropped, one overlapping what
 * the first held (it could rewrite its headers) stay closed. A normal
 * terminal's pass as before. */
Test(ip, later_fragments_follow_their_first_fragment,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = {
		.ip = { .family = 4, .src = xt_sub_addr(4, L_QUARANTINED),
			.dst = XT_DNS4, .proto = IPPROTO_UDP, .dport = 53,
			.more_frags = true, .payload = 64, .ident = 101 }
	};

	f.ip.frag_off = 9;
	check("v4 later fragment before any first", A, false, &f, DROP,
	      XCRS_R_UNCLASSIFIED);
	f.ip.frag_off = 0;
	check("v4 first fragment, allowed service", A, false, &f, PASS,
	      XCRS_R_ALLOWED);
	f.ip.frag_off = 9;
	check("v4 later fragment of it", A, false, &f, PASS, XCRS_R_ALLOWED);
	f.ip.more_frags = false;
	check("v4 last fragment of it", A, false, &f, PASS, XCRS_R_ALLOWED);
	f.ip.frag_off = 1;
	check("v4 fragment overlapping the first", A, false, &f, DROP,
	      XCRS_R_UNCLASSIFIED);
	f.ip.frag_off = 9;
	f.ip.ident = 102;
	check("v4 later fragment, another packet", A, false, &f, DROP,
	      XCRS_R_UNCLASSIFIED);
	/* a first fragment to a service the level does not allow */
	f.ip.ident = 103;
	f.ip.frag_off = 0;
	f.ip.more_frags = true;
	f.ip.dst = XT_OTHER4;
	f.ip.proto = IPPROTO_TCP;
	f.ip.dport = 445;
	check("v4 first fragment, not allowed", A, false, &f, DROP,
	      XCRS_R_LEVEL);
	f.ip.frag_off = 9;
	check("v4 later fragment of a dropped first", A, false, &f, DROP,
	      XCRS_R_UNCLASSIFIED);
	f.ip.src = xt_sub_addr(4, L_NORMAL);
	check("v4 later fragment, normal", A, false, &f, PASS,
	      XCRS_R_ALLOWED);

	f.ip = (struct pb_ip){ .family = 6,
			       .src = xt_sub_addr(6, L_QUARANTINED),
			       .dst = XT_DNS6, .proto = IPPROTO_UDP,
			       .dport = 53, .ext = { 44 }, .next = 1,
			       .more_frags = true, .payload = 64,
			       .ident = 0x10000201 };
	f.ip.frag_off = 9;
	check("v6 later fragment before any first", A, false, &f, DROP,
	      XCRS_R_UNCLASSIFIED);
	f.ip.frag_off = 0;
	check("v6 first fragment", A, false, &f, PASS, XCRS_R_ALLOWED);
	f.ip.frag_off = 9;
	check("v6 later fragment of it", A, false, &f, PASS, XCRS_R_ALLOWED);
	f.ip.ident = 0x10000202;
	check("v6 later fragment, another packet", A, false, &f, DROP,
	      XCRS_R_UNCLASSIFIED);
	f.ip.src = xt_sub_addr(6, L_NORMAL);
	check("v6 later fragment, normal", A, false, &f, PASS,
	      XCRS_R_ALLOWED);
}

/* Path-MTU discovery of a reacted terminal: a router's "fragmentation
 * needed" / "packet too big" about a packet the terminal sent on a flow
 * its level allows reaches it (core role); one about a flow it may not
 * have does not. */
static void icmp_to_sub(int fam, const char *qdst, uint8_t qproto,
			uint16_t qdport, int act, int why, const char *what)
{
	struct pb_frame f = {
		.ip = { .family = fam, .src = fam == 4 ? XT_OTHER4 : XT_OTHER6,
			.dst = xt_sub_addr(fam, L_QUARANTINED),
			.proto = fam == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
			.icmp_type = fam == 4 ? 3 : 2 }
	};
	struct pb_ip q = { .family = fam, .src = xt_sub_addr(fam, L_QUARANTINED),
			   .dst = qdst, .proto = qproto, .sport = 40000,
			   .dport = qdport };
	uint8_t b[PB_MAX], quoted[PB_MAX];
	size_t ql = pb_build_ip(&q, NULL, 0, quoted, sizeof(quoted), NULL),
	       hdr, n;

	f.ip.payload = ql;
	n = pb_build(&f, b, sizeof(b), &hdr);
	memcpy(b + hdr, quoted, ql);
	check_frame(what, C, false, b, n, act, why);
}

Test(ip, icmp_errors_about_an_allowed_flow_reach_a_reacted_terminal,
     .init = open_default_pass, .fini = close_dp)
{
	icmp_to_sub(4, XT_DNS4, IPPROTO_UDP, 53, PASS, XCRS_R_ALLOWED,
		    "v4 frag needed about its DNS");
	icmp_to_sub(4, XT_REMED4, IPPROTO_TCP, 443, PASS, XCRS_R_ALLOWED,
		    "v4 frag needed about its remediation flow");
	icmp_to_sub(4, XT_WEB4, IPPROTO_TCP, 80, DROP, XCRS_R_LEVEL,
		    "v4 frag needed about web (not allowed)");
	icmp_to_sub(6, XT_DNS6, IPPROTO_UDP, 53, PASS, XCRS_R_ALLOWED,
		    "v6 packet too big about its DNS");
	icmp_to_sub(6, XT_WEB6, IPPROTO_TCP, 443, DROP, XCRS_R_LEVEL,
		    "v6 packet too big about web (not allowed)");
}

/* A level that allows nothing drops before classification: also what
 * could never be classified. */
Test(ip, blocked_level_drops_what_cannot_be_classified,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = {
		.ip = { .family = 4, .src = xt_sub_addr(4, L_BLOCKED),
			.dst = XT_DNS4, .proto = IPPROTO_UDP, .dport = 53,
			.more_frags = true, .frag_off = 9, .payload = 64 }
	};

	check("v4 later fragment", A, false, &f, DROP, XCRS_R_LEVEL);
	f.ip.more_frags = false;
	f.ip.frag_off = 0;
	f.ip.proto = 99;
	check("unknown protocol", A, false, &f, DROP, XCRS_R_LEVEL);
}

Test(ip, ipv6_extension_headers_up_to_the_bound, .init = open_default_pass,
     .fini = close_dp)
{
	static const uint8_t chain[8] = { 0, 43, 51, 60, 60, 60, 60, 60 };
	struct pb_frame f = {
		.ip = { .family = 6, .src = xt_sub_addr(6, L_QUARANTINED),
			.dst = XT_REMED6, .proto = IPPROTO_TCP, .dport = 443 }
	};

	for (int n = 0; n <= XCRS_IPV6_EXT_MAX + 1; n++) {
		char what[64];

		memcpy(f.ip.ext, chain, sizeof(chain));
		f.ip.next = n;
		snprintf(what, sizeof(what), "%d extension headers", n);
		if (n <= XCRS_IPV6_EXT_MAX)
			check(what, A, false, &f, PASS, XCRS_R_ALLOWED);
		else
			check(what, A, false, &f, DROP, XCRS_R_UNCLASSIFIED);
	}
	f.ip.src = xt_sub_addr(6, L_NORMAL);
	check("over the bound, normal subscriber", A, false, &f, PASS,
	      XCRS_R_ALLOWED);
}

/* ---- GTP-U ---- */

static struct pb_frame gtp_frame(int level)
{
	struct pb_frame f = {
		.gtpu = true,
		.outer = { .family = 4, .src = XT_GNB4, .dst = XT_UPF4 },
		.ip = { .family = 4, .src = xt_sub_addr(4, level),
			.dst = XT_DNS4, .proto = IPPROTO_UDP, .dport = 53 },
	};

	return f;
}

Test(gtpu, extension_headers_up_to_the_bound, .init = open_default_pass,
     .fini = close_dp)
{
	struct pb_frame f = gtp_frame(L_QUARANTINED);

	for (int n = 0; n <= XCRS_GTPU_EXT_MAX + 1; n++) {
		char what[64];

		f.gtp_ext = n;
		snprintf(what, sizeof(what), "%d GTP-U extension headers", n);
		if (n <= XCRS_GTPU_EXT_MAX)
			check(what, A, true, &f, PASS, XCRS_R_ALLOWED);
		else
			check(what, A, true, &f, DROP, XCRS_R_GTPU_MALFORMED);
	}
}

Test(gtpu, bad_length_version_and_type, .init = open_default_pass,
     .fini = close_dp)
{
	struct pb_frame f = gtp_frame(L_NORMAL);

	f.gtp_len_delta = 1;
	check("length past the UDP payload", A, true, &f, DROP,
	      XCRS_R_GTPU_MALFORMED);
	f.gtp_len_delta = 0;
	f.gtp_version = 2;
	check("version 2", A, true, &f, DROP, XCRS_R_GTPU_MALFORMED);
	f.gtp_version = 0;
	f.gtp_type = 100;
	check("unknown message type", A, true, &f, DROP,
	      XCRS_R_GTPU_UNKNOWN_TYPE);
	f.gtp_type = 1;
	check("echo request", A, true, &f, PASS, XCRS_R_GTPU_SIGNALLING);
	f.gtp_type = 254;
	check("end marker", A, true, &f, PASS, XCRS_R_GTPU_SIGNALLING);
}

Test(gtpu, truncated_inner_packet, .init = open_default_pass,
     .fini = close_dp)
{
	struct pb_frame f = gtp_frame(L_NORMAL);
	uint8_t b[PB_MAX];
	size_t n = pb_build(&f, b, sizeof(b), NULL);

	/* GTP length and UDP length cover only 10 bytes of the inner IPv4
	 * header: the subscriber's address is not there. */
	size_t cut = 14 + 20 + 8 + 8 + 10;

	b[14 + 20 + 4] = 0;
	b[14 + 20 + 5] = (uint8_t)(8 + 8 + 10);
	b[14 + 20 + 6] = b[14 + 20 + 7] = 0; /* no UDP checksum */
	b[14 + 20 + 8 + 2] = 0;
	b[14 + 20 + 8 + 3] = 10;
	b[14 + 2] = 0;
	b[14 + 3] = (uint8_t)(cut - 14);
	(void)n;
	check_frame("inner header cut", A, true, b, cut, DROP,
		    XCRS_R_GTPU_MALFORMED);
}

Test(gtpu, instance_without_decapsulation_sees_the_outer_packet,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = gtp_frame(L_BLOCKED);

	check("blocked inner, decapsulated", A, true, &f, DROP, XCRS_R_LEVEL);
	check("blocked inner, not decapsulated", A, false, &f, PASS,
	      XCRS_R_UNKNOWN_PASS);
}

/* With the RAN named (a prefix with XCRS_POOL_F_RAN, XCRS_CFG_F_RAN), only
 * GTP-U from it is decapsulated; a UDP/2152 packet from anywhere else is a
 * plain packet of its outer source (the default level here: blocked), so
 * a terminal cannot spoof the RAN's tunnel or its signalling. The RAN's
 * addresses are no subscribers. */
Test(gtpu, only_the_ran_s_tunnel_is_decapsulated, .fini = close_dp)
{
	struct dp_policy p;
	struct dp_pool pools[8];
	struct pb_frame f;

	cr_assert_eq(xt_open(&dp, L_BLOCKED), 0);
	xt_policy(&p, L_BLOCKED);
	memcpy(pools, p.pools, 3 * sizeof(pools[0]));
	memset(&pools[3], 0, sizeof(pools[3]));
	cr_assert_eq(dp_prefix_parse(XT_GNB4 "/32", &pools[3].addr,
				     &pools[3].plen), 0);
	pools[3].ran = true;
	p.pools = pools;
	p.npools = 4;
	p.cfg.flags |= XCRS_CFG_F_RAN;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));

	f = gtp_frame(L_NORMAL);
	check("from the RAN, normal inner", A, true, &f, PASS, XCRS_R_ALLOWED);
	f = gtp_frame(L_QUARANTINED);
	f.ip.dport = 80;
	f.ip.dst = XT_WEB4;
	check("from the RAN, quarantined inner", A, true, &f, DROP,
	      XCRS_R_LEVEL);
	f = gtp_frame(L_NORMAL);
	f.outer.src = XT_OTHER4;
	check("from elsewhere: its outer source's level", A, true, &f, DROP,
	      XCRS_R_LEVEL);
	f.gtp_type = 1; /* echo request */
	check("signalling from elsewhere", A, true, &f, DROP, XCRS_R_LEVEL);
	f.outer.src = XT_GNB4;
	check("signalling from the RAN", A, true, &f, PASS,
	      XCRS_R_GTPU_SIGNALLING);
	/* the RAN node's own traffic: not a subscriber (the default) */
	f = (struct pb_frame){ .ip = { .family = 4, .src = XT_GNB4,
				       .dst = XT_WEB4, .proto = IPPROTO_TCP,
				       .dport = 80 } };
	check("the RAN's own packet", A, false, &f, DROP, XCRS_R_LEVEL);
	/* without RAN prefixes: any outer source but a subscriber */
	xt_policy(&p, L_BLOCKED);
	p.npools = 3; /* the subscribers' pools only */
	p.cfg.flags &= ~XCRS_CFG_F_RAN;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	f = gtp_frame(L_NORMAL);
	f.outer.src = XT_OTHER4;
	check("no RAN named: decapsulated", A, true, &f, PASS, XCRS_R_ALLOWED);
}

/* A G-PDU fragmented on the way from the RAN: the first outer fragment
 * shows the inner packet and is judged by it; the later ones follow that
 * verdict (they are not the RAN's own packets), or are dropped without
 * a first that passed. */
Test(gtpu, later_outer_fragments_from_the_ran_follow_the_g_pdu,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = gtp_frame(L_QUARANTINED); /* DNS: allowed */

	f.outer.more_frags = true;
	f.outer.ident = 301;
	f.ip.payload = 64;
	f.outer.frag_off = 12;
	check("later outer fragment before its first", A, true, &f, DROP,
	      XCRS_R_UNCLASSIFIED);
	f.outer.frag_off = 0;
	check("first outer fragment, allowed inner", A, true, &f, PASS,
	      XCRS_R_ALLOWED);
	f.outer.frag_off = 12; /* 96 bytes: inside what the first held */
	check("an outer fragment overlapping the first", A, true, &f, DROP,
	      XCRS_R_UNCLASSIFIED);
	f.outer.frag_off = 14;
	f.outer.more_frags = false;
	check("its later outer fragment", A, true, &f, PASS, XCRS_R_ALLOWED);
	/* a blocked terminal's G-PDU, fragmented */
	f = gtp_frame(L_BLOCKED);
	f.outer.more_frags = true;
	f.outer.ident = 302;
	f.ip.payload = 64;
	check("first outer fragment, blocked inner", A, true, &f, DROP,
	      XCRS_R_LEVEL);
	f.outer.frag_off = 14;
	check("its later outer fragment", A, true, &f, DROP,
	      XCRS_R_UNCLASSIFIED);
}

/* ---- fail closed: truncation at every header boundary ---- */

static void truncations(const char *what, int role, bool gtpu,
			const struct pb_frame *f)
{
	uint8_t b[PB_MAX];
	size_t hend, n = pb_build(f, b, sizeof(b), &hend);
	int bad = 0;

	cr_assert_eq(n, hend, "%s: the case must have no payload", what);
	if (!check_frame(what, role, gtpu, b, n, PASS, XCRS_R_ALLOWED))
		return;
	for (size_t cut = 14; cut < hend; cut++) {
		struct xt_result r;
		int e = xt_run(dp, role, gtpu, b, cut, &r);

		cr_assert_eq(e, 0, "%s: run at %zu bytes: %s", what, cut,
			     strerror(-e));
		if (r.xdp != XDP_DROP || r.action != DROP) {
			char hex[8192];

			pb_hexdump(b, cut, hex, sizeof(hex));
			cr_expect_fail("%s cut to %zu of %zu bytes: XDP %u %s"
				       "\n%s",
				       what, cut, hend, r.xdp,
				       slot_name(r.action, r.reason), hex);
			if (++bad > 3)
				return;
		}
	}
}

Test(failclosed, truncation_at_every_boundary, .init = open_default_pass,
     .fini = close_dp)
{
	const char *q4 = xt_sub_addr(4, L_QUARANTINED);
	const char *q6 = xt_sub_addr(6, L_QUARANTINED);
	struct pb_frame f;

	f = (struct pb_frame){ .ip = { .family = 4, .src = q4,
				       .dst = XT_DNS4, .proto = IPPROTO_UDP,
				       .dport = 53, .v4_opt_len = 8 } };
	truncations("v4 udp with options", A, false, &f);

	f = (struct pb_frame){ .vlans = 2,
			       .ip = { .family = 4, .src = XT_REMED4,
				       .dst = q4, .proto = IPPROTO_TCP,
				       .sport = 443, .tcp_flags = 0x12 } };
	truncations("QinQ v4 tcp downlink", C, false, &f);

	f = (struct pb_frame){ .vlans = 1,
			       .ip = { .family = 6, .src = q6,
				       .dst = XT_REMED6, .proto = IPPROTO_TCP,
				       .dport = 443, .ext = { 0, 44, 60 },
				       .next = 3 } };
	truncations("v6 tcp with extension headers", A, false, &f);

	f = (struct pb_frame){ .ip = { .family = 6, .src = XT_DNS6,
				       .dst = q6, .proto = IPPROTO_UDP,
				       .sport = 53 } };
	truncations("v6 udp downlink", C, false, &f);

	f = (struct pb_frame){
		.gtpu = true,
		.outer = { .family = 6, .src = "2001:db8:ff::250",
			   .dst = "2001:db8:ff::1", .ext = { 60 }, .next = 1 },
		.gtp_ext = 2,
		.ip = { .family = 4, .src = q4, .dst = XT_REMED4,
			.proto = IPPROTO_TCP, .dport = 443, .v4_opt_len = 4 },
	};
	truncations("GTP-U v6 outer, v4 inner", A, true, &f);

	f = (struct pb_frame){
		.gtpu = true,
		.outer = { .family = 4, .src = XT_UPF4, .dst = XT_GNB4 },
		.ip = { .family = 6, .src = XT_DNS6, .dst = q6,
			.proto = IPPROTO_UDP, .sport = 53, .ext = { 60 },
			.next = 1 },
	};
	truncations("GTP-U v4 outer, v6 inner, downlink", C, true, &f);
}

Test(failclosed, normal_level_passes_what_it_cannot_classify,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = {
		.ip = { .family = 4, .src = xt_sub_addr(4, L_NORMAL),
			.dst = XT_OTHER4, .proto = IPPROTO_TCP, .dport = 80 }
	};
	uint8_t b[PB_MAX];
	size_t n = pb_build(&f, b, sizeof(b), NULL);

	/* TCP header cut: a normal subscriber is not restricted, so there
	 * is nothing to fail closed on. */
	check_frame("normal, tcp cut", A, false, b, n - 4, PASS,
		    XCRS_R_ALLOWED);
	f.ip.src = xt_sub_addr(4, L_MONITORED);
	n = pb_build(&f, b, sizeof(b), NULL);
	check_frame("monitored, tcp cut", A, false, b, n - 4, DROP,
		    XCRS_R_UNCLASSIFIED);
}

/* ---- containment ---- */

static void contain(uint32_t scope, uint32_t mode, uint64_t allowed)
{
	struct xcrs_scope sc = { .mode = mode, .allowed = allowed };
	struct xcrs_scope got;

	cr_assert_eq(dp_scope_set(dp, scope, &sc), 0, "%s", dp_errmsg(dp));
	/* A released scope reads back as "none". */
	cr_assert_eq(dp_scope_get(dp, scope, &got), 0);
	cr_assert_eq(got.mode, mode);
}

Test(contain, isolate_allows_only_the_scope_services,
     .init = open_default_pass, .fini = close_dp)
{
	/* 192.0.2.130 and 2001:db8:2::5 are normal-level members of scope
	 * A's pools; 192.0.2.70 is in scope B. */
	struct pb_frame f;

	contain(XT_SCOPE_A, XCRS_CONTAIN_ISOLATE,
		XCRS_SVC_BIT(SVC_REMEDIATION));
	f = tcp(4, "192.0.2.130", XT_REMED4, 40000, 443);
	check("isolated to remediation", A, false, &f, PASS, XCRS_R_ALLOWED);
	f = tcp(4, "192.0.2.130", XT_WEB4, 40000, 80);
	check("isolated to web", A, false, &f, DROP, XCRS_R_ISOLATE);
	f = tcp(4, "192.0.2.130", "192.0.2.131", 40000, 80);
	check("isolated to its neighbour", A, false, &f, DROP,
	      XCRS_R_ISOLATE);
	f = tcp(6, "2001:db8:2::5", XT_OTHER6, 40000, 80);
	check("isolated v6 to other", A, false, &f, DROP, XCRS_R_ISOLATE);
	f = tcp(4, XT_OTHER4, "192.0.2.130", 80, 40000);
	check("downlink into the isolated scope", C, false, &f, DROP,
	      XCRS_R_ISOLATE);
	f = tcp(4, XT_REMED4, "192.0.2.130", 443, 40000);
	check("downlink from remediation", C, false, &f, PASS,
	      XCRS_R_ALLOWED);
	f = tcp(4, "192.0.2.70", XT_WEB4, 40000, 80);
	check("other scope unaffected", A, false, &f, PASS, XCRS_R_ALLOWED);

	contain(XT_SCOPE_A, XCRS_CONTAIN_NONE, 0);
	f = tcp(4, "192.0.2.130", XT_WEB4, 40000, 80);
	check("released", A, false, &f, PASS, XCRS_R_ALLOWED);
}

Test(contain, no_lateral_blocks_subscriber_to_subscriber,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f;

	contain(XT_SCOPE_A, XCRS_CONTAIN_NO_LATERAL, 0);
	f = tcp(4, "192.0.2.130", XT_OTHER4, 40000, 80);
	check("to the Internet", A, false, &f, PASS, XCRS_R_ALLOWED);
	f = tcp(4, "192.0.2.130", "192.0.2.131", 40000, 445);
	check("to a pool neighbour", A, false, &f, DROP, XCRS_R_NO_LATERAL);
	f = tcp(4, "192.0.2.130", "192.0.2.70", 40000, 445);
	check("to another scope's pool", A, false, &f, DROP,
	      XCRS_R_NO_LATERAL);
	f = tcp(4, "192.0.2.130", xt_sub_addr(4, L_NORMAL), 40000, 445);
	check("to a host subscriber", A, false, &f, DROP, XCRS_R_NO_LATERAL);
	f = tcp(6, "2001:db8:2::5", xt_sub_addr(6, L_NORMAL), 40000, 445);
	check("v6 to a host subscriber", A, false, &f, DROP,
	      XCRS_R_NO_LATERAL);
	f = tcp(4, "192.0.2.200", "192.0.2.130", 445, 40000);
	check("downlink from a subscriber", C, false, &f, DROP,
	      XCRS_R_NO_LATERAL);
	f = tcp(4, XT_OTHER4, "192.0.2.130", 80, 40000);
	check("downlink from the Internet", C, false, &f, PASS,
	      XCRS_R_ALLOWED);
	f = tcp(4, "192.0.2.70", "192.0.2.71", 40000, 445);
	check("other scope unaffected", A, false, &f, PASS, XCRS_R_ALLOWED);
	contain(XT_SCOPE_A, XCRS_CONTAIN_NONE, 0);
	f = tcp(4, "192.0.2.130", "192.0.2.131", 40000, 445);
	check("released", A, false, &f, PASS, XCRS_R_ALLOWED);
}

Test(contain, host_subscriber_scope_and_level_both_apply,
     .init = open_default_pass, .fini = close_dp)
{
	struct xcrs_sub s = { .scope = 9, .level = L_QUARANTINED,
			      .base_level = L_QUARANTINED };
	struct xcrs_addr a;
	struct pb_frame f;

	cr_assert_eq(dp_addr_parse("192.0.2.99", &a), 0);
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0);
	contain(9, XCRS_CONTAIN_ISOLATE,
		XCRS_SVC_BIT(SVC_REMEDIATION) | XCRS_SVC_BIT(SVC_WEB));
	f = tcp(4, "192.0.2.99", XT_WEB4, 40000, 80);
	check("scope allows web, level does not", A, false, &f, DROP,
	      XCRS_R_LEVEL);
	f = (struct pb_frame){ .ip = { .family = 4, .src = "192.0.2.99",
				       .dst = XT_DNS4, .proto = IPPROTO_UDP,
				       .dport = 53 } };
	check("level allows dns, scope does not", A, false, &f, DROP,
	      XCRS_R_ISOLATE);
	f = tcp(4, "192.0.2.99", XT_REMED4, 40000, 443);
	check("both allow remediation", A, false, &f, PASS, XCRS_R_ALLOWED);
}

/* ---- rate limiting ---- */

Test(rate, token_bucket_burst_then_refill, .init = open_default_pass,
     .fini = close_dp)
{
	/* Throttled: 1000 B/s, burst 3000 B. 1000-byte frames: three fit
	 * the burst, the fourth does not; a second later one more fits. */
	struct pb_frame f = {
		.ip = { .family = 4, .src = xt_sub_addr(4, L_THROTTLED),
			.dst = XT_OTHER4, .proto = IPPROTO_UDP, .dport = 9,
			.payload = 1000 - 14 - 20 - 8 }
	};
	struct pb_frame other = f;
	struct xcrs_sub_counters sc;
	struct xcrs_addr a;

	for (int i = 0; i < 3; i++)
		check("within burst", A, false, &f, PASS, XCRS_R_ALLOWED);
	check("over burst", A, false, &f, DROP, XCRS_R_RATE);
	check("still over", A, false, &f, DROP, XCRS_R_RATE);
	/* Buckets are per subscriber. */
	other.ip.family = 6;
	other.ip.src = xt_sub_addr(6, L_THROTTLED);
	other.ip.dst = XT_OTHER6;
	check("another subscriber's bucket", A, false, &other, PASS,
	      XCRS_R_ALLOWED);
	sleep_ms(1500);
	check("refilled", A, false, &f, PASS, XCRS_R_ALLOWED);
	check("empty again", A, false, &f, DROP, XCRS_R_RATE);

	cr_assert_eq(dp_addr_parse(xt_sub_addr(4, L_THROTTLED), &a), 0);
	cr_assert_eq(dp_sub_stats_read(dp, &a, &sc), 0);
	cr_expect_eq(sc.pass.packets, 4);
	cr_expect_eq(sc.pass.bytes, 4000);
	cr_expect_eq(sc.drop.packets, 3);
	cr_expect_eq(sc.drop.bytes, 3000);
}

/* ---- statistics ---- */

Test(stats, per_action_reason_and_per_subscriber_bytes,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = {
		.ip = { .family = 6, .src = xt_sub_addr(6, L_QUARANTINED),
			.dst = XT_DNS6, .proto = IPPROTO_UDP, .dport = 53,
			.payload = 100 }
	};
	uint8_t b[PB_MAX];
	size_t n1 = pb_build(&f, b, sizeof(b), NULL), n2;
	struct dp_stats before, after;
	struct xcrs_sub_counters sc;
	struct xcrs_addr a;

	cr_assert_eq(dp_stats_read(dp, &before), 0);
	check("dns", A, false, &f, PASS, XCRS_R_ALLOWED);
	check("dns", A, false, &f, PASS, XCRS_R_ALLOWED);
	f.ip.dst = XT_OTHER6;
	f.ip.payload = 10;
	n2 = pb_build(&f, b, sizeof(b), NULL);
	check("other", A, false, &f, DROP, XCRS_R_LEVEL);
	cr_assert_eq(dp_stats_read(dp, &after), 0);
	cr_expect_eq(after.c[PASS][XCRS_R_ALLOWED].packets -
			     before.c[PASS][XCRS_R_ALLOWED].packets, 2);
	cr_expect_eq(after.c[PASS][XCRS_R_ALLOWED].bytes -
			     before.c[PASS][XCRS_R_ALLOWED].bytes, 2 * n1);
	cr_expect_eq(after.c[DROP][XCRS_R_LEVEL].bytes -
			     before.c[DROP][XCRS_R_LEVEL].bytes, n2);

	cr_assert_eq(dp_addr_parse(xt_sub_addr(6, L_QUARANTINED), &a), 0);
	cr_assert_eq(dp_sub_stats_read(dp, &a, &sc), 0, "%s", dp_errmsg(dp));
	cr_expect_eq(sc.pass.packets, 2);
	cr_expect_eq(sc.pass.bytes, 2 * n1);
	cr_expect_eq(sc.drop.packets, 1);
	cr_expect_eq(sc.drop.bytes, n2);
}

/* Counter slots: a reacted host gets one while slots last, keeps it
 * while it has an entry, and gives it back (zeroed for the next) when
 * the entry goes; past the last slot a subscriber is still enforced. */
Test(stats, counter_slots_are_bounded_reused_and_zeroed, .fini = close_dp)
{
	struct dp_config cfg = { .max_subs = 64, .max_tracked = 2 };
	struct xcrs_sub q = { .level = L_QUARANTINED,
			      .base_level = L_QUARANTINED };
	struct xcrs_sub_counters sc;
	struct xcrs_addr a[3];
	struct dp_policy p;
	char err[256];
	const char *names[3] = { "192.0.2.20", "192.0.2.21", "192.0.2.22" };

	cr_assert_eq(dp_open(&cfg, &dp, err, sizeof(err)), 0, "%s", err);
	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	for (int i = 0; i < 3; i++) {
		struct pb_frame f = tcp(4, names[i], XT_OTHER4, 40000, 22);

		cr_assert_eq(dp_addr_parse(names[i], &a[i]), 0);
		cr_assert_eq(dp_sub_set(dp, &a[i], &q), 0, "%s",
			     dp_errmsg(dp));
		check(names[i], A, false, &f, DROP, XCRS_R_LEVEL);
	}
	cr_assert_eq(dp_sub_stats_read(dp, &a[0], &sc), 0);
	cr_expect_eq(sc.drop.packets, 1);
	cr_assert_eq(dp_sub_stats_read(dp, &a[1], &sc), 0);
	cr_expect_eq(sc.drop.packets, 1);
	cr_expect_eq(dp_sub_stats_read(dp, &a[2], &sc), -ENOENT,
		     "a third subscriber counted with two slots");

	/* A rewrite keeps the slot and the counts. */
	q.level = L_BLOCKED;
	cr_assert_eq(dp_sub_set(dp, &a[0], &q), 0);
	cr_assert_eq(dp_sub_stats_read(dp, &a[0], &sc), 0);
	cr_expect_eq(sc.drop.packets, 1);

	/* The first goes; the third now gets its slot, from zero. */
	cr_assert_eq(dp_sub_del(dp, &a[0]), 0);
	cr_expect_eq(dp_sub_stats_read(dp, &a[0], &sc), -ENOENT);
	cr_assert_eq(dp_sub_set(dp, &a[2], &q), 0);
	cr_assert_eq(dp_sub_stats_read(dp, &a[2], &sc), 0, "%s",
		     dp_errmsg(dp));
	cr_expect_eq(sc.drop.packets, 0, "a reused slot kept old counts");
	cr_expect_eq(sc.pass.packets, 0);
}

/* ---- fan-out detection ---- */

struct evlog {
	int n;
	struct xcrs_event ev[16];
};

static void on_event(void *ctx, const struct xcrs_event *ev)
{
	struct evlog *l = ctx;

	if (l->n < 16)
		l->ev[l->n] = *ev;
	l->n++;
}

static void fanout_policy(uint32_t threshold, uint64_t window_ns)
{
	struct dp_policy p;

	xt_policy(&p, XCRS_LEVEL_PASS);
	p.cfg.fanout_threshold = threshold;
	p.cfg.fanout_window_ns = window_ns;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
}

static void scan(const char *src, int first, int count, uint8_t flags,
		 int role)
{
	for (int i = first; i < first + count; i++) {
		char dst[32];
		struct pb_frame f;
		uint8_t b[PB_MAX];
		size_t n;
		struct xt_result r;

		snprintf(dst, sizeof(dst), "203.0.113.%d", i);
		f = tcp(4, src, dst, 40000, 445);
		f.ip.tcp_flags = flags;
		if (role == C) {
			f.ip.src = dst;
			f.ip.dst = src;
		}
		n = pb_build(&f, b, sizeof(b), NULL);
		cr_assert_eq(xt_run(dp, role, false, b, n, &r), 0);
	}
}

Test(fanout, reported_once_per_window_with_address_and_count,
     .init = open_default_pass, .fini = close_dp)
{
	struct evlog log = { 0 };
	struct xcrs_addr a;
	char buf[64];

	fanout_policy(5, 10ULL * 1000000000ULL);
	cr_assert_eq(dp_events_subscribe(dp, on_event, &log), 0, "%s",
		     dp_errmsg(dp));
	scan("192.0.2.10", 1, 5, 0, A);
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_expect_eq(log.n, 0, "5 peers do not exceed a threshold of 5");
	scan("192.0.2.10", 6, 20, 0, A);
	scan("192.0.2.10", 1, 25, 0, A);
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_assert_eq(log.n, 1, "one report per window, got %d", log.n);
	cr_expect_eq(log.ev[0].type, XCRS_EV_FANOUT);
	cr_expect_eq(log.ev[0].count, 6);
	cr_expect_eq(log.ev[0].window_ns, 10ULL * 1000000000ULL);
	dp_addr_format(&log.ev[0].addr, buf, sizeof(buf));
	cr_expect_str_eq(buf, "192.0.2.10");
	cr_assert_eq(dp_addr_parse("192.0.2.10", &a), 0);
}

Test(fanout, only_new_flows_on_access_count_and_blocked_scans_do,
     .init = open_default_pass, .fini = close_dp)
{
	struct evlog log = { 0 };
	char buf[64];

	fanout_policy(5, 10ULL * 1000000000ULL);
	cr_assert_eq(dp_events_subscribe(dp, on_event, &log), 0);
	scan("192.0.2.10", 1, 30, 0x10, A); /* ACKs: not new flows */
	scan("192.0.2.11", 1, 30, 0x12, C); /* downlink */
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_expect_eq(log.n, 0, "ACKs and downlink counted as fan-out");
	/* A blocked terminal's SYNs are dropped and still evidence. */
	scan(xt_sub_addr(4, L_BLOCKED), 1, 30, 0, A);
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_assert_eq(log.n, 1);
	dp_addr_format(&log.ev[0].addr, buf, sizeof(buf));
	cr_expect_str_eq(buf, xt_sub_addr(4, L_BLOCKED));
}

Test(fanout, a_new_window_reports_again, .init = open_default_pass,
     .fini = close_dp)
{
	struct evlog log = { 0 };

	fanout_policy(5, 300ULL * 1000000ULL);
	cr_assert_eq(dp_events_subscribe(dp, on_event, &log), 0);
	scan("192.0.2.10", 1, 10, 0, A);
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_assert_eq(log.n, 1);
	sleep_ms(400);
	scan("192.0.2.10", 1, 10, 0, A);
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_assert_eq(log.n, 2, "second window not reported");
	cr_expect_eq(log.ev[1].count, 6);
}

Test(fanout, off_when_threshold_is_zero, .init = open_default_pass,
     .fini = close_dp)
{
	struct evlog log = { 0 };

	cr_assert_eq(dp_events_subscribe(dp, on_event, &log), 0);
	scan("192.0.2.10", 1, 100, 0, A);
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_expect_eq(log.n, 0);
}

/* ---- MS connect detection (X.1125 11.1) ---- */

static void connect_policy(bool on)
{
	struct dp_policy p;

	xt_policy(&p, XCRS_LEVEL_PASS);
	p.cfg.flags = on ? XCRS_CFG_F_MS_DETECT : 0;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
}

static void one_packet(const char *src, int role)
{
	struct pb_frame f = tcp(4, src, "203.0.113.10", 40000, 80);
	uint8_t b[PB_MAX];
	size_t n;
	struct xt_result r;

	if (role == C) {
		f.ip.src = "203.0.113.10";
		f.ip.dst = src;
	}
	n = pb_build(&f, b, sizeof(b), NULL);
	cr_assert_eq(xt_run(dp, role, false, b, n, &r), 0);
}

static void one_packet6(const char *src)
{
	struct pb_frame f = tcp(6, src, "2001:db8:99::99", 40000, 80);
	uint8_t b[PB_MAX];
	size_t n;
	struct xt_result r;

	n = pb_build(&f, b, sizeof(b), NULL);
	cr_assert_eq(xt_run(dp, A, false, b, n, &r), 0);
}

static void seen_cb(void *ctx, const struct xcrs_addr *a,
		    const struct xcrs_seen *s)
{
	struct evlog *l = ctx;

	if (l->n < 16)
		l->ev[l->n].addr = *a;
	l->n++;
}

Test(connect, first_traffic_reported_once_then_aged_out,
     .init = open_default_pass, .fini = close_dp)
{
	const char *ms = xt_sub_addr(4, L_NORMAL);
	struct evlog log = { 0 }, left = { 0 };
	struct xcrs_addr a;
	struct xcrs_seen s;
	char buf[64];

	connect_policy(true);
	cr_assert_eq(dp_addr_parse(ms, &a), 0);
	cr_assert_eq(dp_events_subscribe(dp, on_event, &log), 0);
	for (int i = 0; i < 5; i++)
		one_packet(ms, A);
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_assert_eq(log.n, 1, "one connect for five packets, got %d", log.n);
	cr_expect_eq(log.ev[0].type, XCRS_EV_CONNECT);
	dp_addr_format(&log.ev[0].addr, buf, sizeof(buf));
	cr_expect_str_eq(buf, ms);
	cr_assert_eq(dp_seen_get(dp, &a, &s), 0, "%s", dp_errmsg(dp));
	cr_expect_geq(s.last_ns, s.first_ns);
	/* Not idle for an hour: stays. Idle for 0 ns: leaves. */
	cr_expect_eq(dp_seen_expire(dp, 3600ULL * 1000000000ULL, seen_cb,
				    &left), 0);
	cr_expect_eq(dp_seen_expire(dp, 1, seen_cb, &left), 1);
	cr_expect_eq(left.n, 1);
	cr_expect_eq(memcmp(&left.ev[0].addr, &a, sizeof(a)), 0);
	cr_expect_eq(dp_seen_get(dp, &a, &s), -ENOENT);
	/* Its next packet is a connect again. */
	one_packet(ms, A);
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_expect_eq(log.n, 2);
	cr_expect_eq(dp_seen_del(dp, &a), 0);
	cr_expect_eq(dp_seen_del(dp, &a), -ENOENT);
}

Test(connect, only_known_subscribers_on_access_and_only_when_on,
     .init = open_default_pass, .fini = close_dp)
{
	struct evlog log = { 0 };

	cr_assert_eq(dp_events_subscribe(dp, on_event, &log), 0);
	connect_policy(false);
	one_packet(xt_sub_addr(4, L_NORMAL), A);
	connect_policy(true);
	one_packet("198.51.100.99", A);		 /* not a subscriber */
	one_packet(xt_sub_addr(4, L_RESTRICTED), C); /* downlink */
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_expect_eq(log.n, 0, "got %d connects", log.n);
	/* A blocked MS connects too: its packets are dropped, it is there. */
	one_packet(xt_sub_addr(4, L_BLOCKED), A);
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_expect_eq(log.n, 1);
}

/* The connect-event budget at its limit: a burst of new MSs beyond it
 * within one second is reported, each with a later packet, not lost. */
Test(connect, over_the_budget_each_is_reported_with_a_later_packet,
     .fini = close_dp)
{
	enum { N = XCRS_CONNECT_EVENTS_PER_S + 100 };
	struct dp_config cfg = { .max_subs = 64, .max_tracked = 4096 };
	struct evlog log = { 0 };
	char err[256], ip[64];
	int late = 0;
	uint64_t t0, took;
	cpu_set_t one;
	struct xcrs_addr a;
	struct xcrs_seen sn;

	/* the budget is per CPU: stay on one */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	cr_assert_eq(dp_open(&cfg, &dp, err, sizeof(err)), 0, "%s", err);
	connect_policy(true);
	cr_assert_eq(dp_events_subscribe(dp, on_event, &log), 0);
	/* a new budget window first (it is one second) */
	sleep_ms(1100);
	t0 = now_mono();
	for (int i = 0; i < N; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:2:%x::1", i + 1);
		one_packet6(ip);
	}
	took = now_mono() - t0;
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	/* within one window exactly the budget (a slow machine, an emulated
	 * one, may take longer than the window: then at least it) */
	if (took < 900000000ull)
		cr_expect_eq(log.n, XCRS_CONNECT_EVENTS_PER_S,
			     "%d connects in one second (budget %d)", log.n,
			     XCRS_CONNECT_EVENTS_PER_S);
	else
		cr_expect_geq(log.n, XCRS_CONNECT_EVENTS_PER_S);
	/* the ones over the budget are not marked seen: not lost */
	for (int i = 0; i < N; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:2:%x::1", i + 1);
		cr_assert_eq(dp_addr_parse(ip, &a), 0);
		late += dp_seen_get(dp, &a, &sn) == -ENOENT;
	}
	cr_expect_eq(late, N - log.n, "%d not seen, %d reported of %d", late,
		     log.n, N);
	sleep_ms(1100);
	for (int i = 0; i < N; i++) {
		snprintf(ip, sizeof(ip), "2001:db8:2:%x::1", i + 1);
		one_packet6(ip);
	}
	cr_assert_geq(dp_events_poll(dp, 0), 0);
	cr_expect_eq(log.n, N, "%d of %d MSs reported after two windows",
		     log.n, N);
}

/* ---- never-react prefixes ---- */

/* A never-react prefix inside a scope's pool: no host entry can be
 * written there, and containing the scope leaves it alone. */
Test(never, refused_host_entries_and_never_contained,
     .init = open_default_pass, .fini = close_dp)
{
	struct dp_policy p;
	struct dp_pool pools[8] = { 0 };
	struct xcrs_sub q = { .level = L_QUARANTINED,
			      .base_level = L_QUARANTINED };
	struct xcrs_scope iso = { .mode = XCRS_CONTAIN_ISOLATE };
	struct xcrs_addr a;
	struct pb_frame f = tcp(4, "192.0.2.130", XT_OTHER4, 40000, 445);

	xt_policy(&p, XCRS_LEVEL_PASS);
	memcpy(pools, p.pools, p.npools * sizeof(pools[0]));
	pools[p.npools] = (struct dp_pool){ .level = L_NORMAL, .never = true };
	cr_assert_eq(dp_prefix_parse("192.0.2.128/28", &pools[p.npools].addr,
				     &pools[p.npools].plen), 0);
	p.pools = pools;
	p.npools++;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));

	cr_assert_eq(dp_addr_parse("192.0.2.130", &a), 0);
	cr_expect_eq(dp_sub_set(dp, &a, &q), -EPERM);
	cr_expect(strstr(dp_errmsg(dp), "never-react prefix 192.0.2.128/28"),
		  "%s", dp_errmsg(dp));
	/* right next to it, in the same scope's pool, it can */
	cr_assert_eq(dp_addr_parse("192.0.2.150", &a), 0);
	cr_expect_eq(dp_sub_set(dp, &a, &q), 0, "%s", dp_errmsg(dp));
	cr_expect_eq(dp_sub_del(dp, &a), 0);

	cr_assert_eq(dp_scope_set(dp, XT_SCOPE_A, &iso), 0);
	check("never-react address, scope isolated", A, false, &f, PASS,
	      XCRS_R_ALLOWED);
	f.ip.src = "192.0.2.150";
	check("its neighbour in the scope", A, false, &f, DROP,
	      XCRS_R_ISOLATE);
}

/* ---- decisions on prefixes ---- */

Test(prefix, enforced_as_a_prefix_longest_first_host_entries_win,
     .init = open_default_pass, .fini = close_dp)
{
	struct xcrs_sub q = { .level = L_QUARANTINED,
			      .base_level = L_QUARANTINED },
			b = { .level = L_BLOCKED, .base_level = L_BLOCKED },
			got;
	struct xcrs_addr p4, p6, p28, a;
	unsigned l4, l6, l28;
	__u32 rt;
	struct pb_frame f = tcp(4, "198.51.100.70", XT_OTHER4, 40000, 445);

	/* unknown addresses pass (default) before */
	check("unknown before", A, false, &f, PASS, XCRS_R_UNKNOWN_PASS);
	cr_assert_eq(dp_runtime_get(dp, &rt), 0);
	cr_expect_eq(rt & XCRS_RT_PREFIXES, 0);

	cr_assert_eq(dp_prefix_parse("198.51.100.0/24", &p4, &l4), 0);
	cr_assert_eq(dp_prefix_set(dp, &p4, l4, &q), 0, "%s", dp_errmsg(dp));
	cr_assert_eq(dp_runtime_get(dp, &rt), 0);
	cr_expect(rt & XCRS_RT_PREFIXES);
	check("inside the /24", A, false, &f, DROP, XCRS_R_LEVEL);
	f.ip.dst = XT_DNS4;
	f.ip.proto = IPPROTO_UDP;
	f.ip.dport = 53;
	check("its level's services", A, false, &f, PASS, XCRS_R_ALLOWED);
	f.ip.src = "198.51.101.1";
	check("outside the /24", A, false, &f, PASS, XCRS_R_UNKNOWN_PASS);

	/* the longer prefix wins */
	cr_assert_eq(dp_prefix_parse("198.51.100.64/28", &p28, &l28), 0);
	cr_assert_eq(dp_prefix_set(dp, &p28, l28, &b), 0);
	f.ip.src = "198.51.100.70";
	check("in the /28: blocked", A, false, &f, DROP, XCRS_R_LEVEL);
	f.ip.src = "198.51.100.90";
	check("in the /24 only: quarantined", A, false, &f, PASS,
	      XCRS_R_ALLOWED);
	/* a host entry wins over both */
	cr_assert_eq(dp_addr_parse("198.51.100.70", &a), 0);
	cr_assert_eq(dp_sub_set(dp, &a, &(struct xcrs_sub){ .level = L_NORMAL,
							   .base_level =
								   L_NORMAL }),
		     0);
	f.ip.src = "198.51.100.70";
	f.ip.dst = XT_OTHER4;
	f.ip.dport = 445;
	check("host entry inside", A, false, &f, PASS, XCRS_R_ALLOWED);

	/* IPv6, and the core role (the subscriber is the destination) */
	cr_assert_eq(dp_prefix_parse("2001:db8:77::/48", &p6, &l6), 0);
	cr_assert_eq(dp_prefix_set(dp, &p6, l6, &b), 0);
	{
		struct pb_frame g = tcp(6, "2001:db8:77:1::5", XT_OTHER6, 1, 80);

		check("IPv6 /48", A, false, &g, DROP, XCRS_R_LEVEL);
		g.ip.src = XT_OTHER6;
		g.ip.dst = "2001:db8:77:1::5";
		check("IPv6 /48, downlink", C, false, &g, DROP, XCRS_R_LEVEL);
	}
	cr_assert_eq(dp_prefix_get(dp, &p6, l6, &got), 0);
	cr_expect_eq(got.level, L_BLOCKED);

	/* host bits and bad lengths are refused */
	cr_assert_eq(dp_addr_parse("198.51.100.1", &a), 0);
	cr_expect_eq(dp_prefix_set(dp, &a, 96 + 24, &q), -EINVAL);
	cr_expect(strstr(dp_errmsg(dp), "host bits"), "%s", dp_errmsg(dp));

	/* gone again: the flag goes with the last one */
	cr_assert_eq(dp_prefix_del(dp, &p4, l4), 0);
	cr_assert_eq(dp_prefix_del(dp, &p28, l28), 0);
	cr_assert_eq(dp_prefix_del(dp, &p6, l6), 0);
	cr_assert_eq(dp_runtime_get(dp, &rt), 0);
	cr_expect_eq(rt & XCRS_RT_PREFIXES, 0);
	f.ip.src = "198.51.100.90";
	check("released", A, false, &f, PASS, XCRS_R_UNKNOWN_PASS);
}

/* An IPv6 subscriber's /64 (a session's prefix): every interface
 * identifier gets its level and scope, a host entry inside wins, the
 * neighbouring /64 is not covered, and the key must be a /64. */
Test(prefix64, every_address_of_the_prefix_and_only_those,
     .init = open_default_pass, .fini = close_dp)
{
	struct xcrs_sub q = { .scope = 9, .level = L_QUARANTINED,
			      .base_level = L_QUARANTINED,
			      .flags = XCRS_SUB_F_PREFIX64 },
			n = { .level = L_NORMAL, .base_level = L_NORMAL };
	struct xcrs_addr p64, host, bad;
	struct pb_frame f = tcp(6, "2001:db8:64:1::1", XT_OTHER6, 40000, 445);

	check("before", A, false, &f, PASS, XCRS_R_UNKNOWN_PASS);
	cr_assert_eq(dp_addr_parse("2001:db8:64:1::", &p64), 0);
	cr_assert_eq(dp_sub_set(dp, &p64, &q), 0, "%s", dp_errmsg(dp));
	check("::1 of the /64", A, false, &f, DROP, XCRS_R_LEVEL);
	f.ip.src = "2001:db8:64:1:a1b2:c3d4:e5f6:789";
	check("a privacy address of the /64", A, false, &f, DROP,
	      XCRS_R_LEVEL);
	f.ip.src = XT_OTHER6;
	f.ip.dst = "2001:db8:64:1:ffff:ffff:ffff:ffff";
	check("downlink to the /64", C, false, &f, DROP, XCRS_R_LEVEL);
	f.ip.src = "2001:db8:64:2::1";
	f.ip.dst = XT_OTHER6;
	check("the next /64", A, false, &f, PASS, XCRS_R_UNKNOWN_PASS);
	/* its scope comes with it */
	contain(9, XCRS_CONTAIN_ISOLATE, XCRS_SVC_BIT(SVC_REMEDIATION));
	q.level = q.base_level = L_NORMAL;
	cr_assert_eq(dp_sub_set(dp, &p64, &q), 0, "%s", dp_errmsg(dp));
	f.ip.src = "2001:db8:64:1::77";
	check("normal, but its scope is isolated", A, false, &f, DROP,
	      XCRS_R_ISOLATE);
	/* a host entry inside the prefix wins */
	cr_assert_eq(dp_addr_parse("2001:db8:64:1::77", &host), 0);
	cr_assert_eq(dp_sub_set(dp, &host, &n), 0);
	check("host entry inside", A, false, &f, PASS, XCRS_R_ALLOWED);
	/* only a /64 key, never IPv4, no unknown flags */
	cr_assert_eq(dp_addr_parse("2001:db8:64:1::1", &bad), 0);
	cr_expect_eq(dp_sub_set(dp, &bad, &q), -EINVAL);
	cr_expect(strstr(dp_errmsg(dp), "/64"), "%s", dp_errmsg(dp));
	cr_assert_eq(dp_addr_parse("192.0.2.0", &bad), 0);
	cr_expect_eq(dp_sub_set(dp, &bad, &q), -EINVAL);
	q.flags = 0x80;
	cr_expect_eq(dp_sub_set(dp, &p64, &q), -EINVAL);
	/* a host entry keyed like a prefix does not cover the /64 */
	cr_assert_eq(dp_sub_del(dp, &host), 0);
	q.flags = 0;
	q.level = q.base_level = L_BLOCKED;
	cr_assert_eq(dp_sub_set(dp, &p64, &q), 0);
	check("not a /64 entry any more", A, false, &f, PASS,
	      XCRS_R_UNKNOWN_PASS);
	cr_assert_eq(dp_sub_del(dp, &p64), 0);
}

Test(prefix, expires_by_itself_and_never_covers_a_never_pool,
     .init = open_default_pass, .fini = close_dp)
{
	struct dp_policy p;
	struct dp_pool pools[8] = { 0 };
	struct xcrs_sub q = { .level = L_QUARANTINED,
			      .base_level = XCRS_SUB_BASE_NONE };
	struct xcrs_addr a;
	unsigned l;
	struct pb_frame f = tcp(4, "198.51.100.70", XT_OTHER4, 40000, 445);

	cr_assert_eq(dp_prefix_parse("198.51.100.64/28", &a, &l), 0);
	q.expires_ns = coarse_now() + EXPIRY_NS;
	cr_assert_eq(dp_prefix_set(dp, &a, l, &q), 0);
	check("before expiry", A, false, &f, DROP, XCRS_R_LEVEL);
	/* a near end, then nothing more is written: the dataplane ends it */
	q.expires_ns = coarse_now() + SHORT_NS;
	cr_assert_eq(dp_prefix_set(dp, &a, l, &q), 0);
	sleep_past(q.expires_ns);
	check("after expiry", A, false, &f, PASS, XCRS_R_UNKNOWN_PASS);

	xt_policy(&p, XCRS_LEVEL_PASS);
	memcpy(pools, p.pools, p.npools * sizeof(pools[0]));
	pools[p.npools] = (struct dp_pool){ .level = L_NORMAL, .never = true };
	cr_assert_eq(dp_prefix_parse("198.51.100.72/29",
				     &pools[p.npools].addr,
				     &pools[p.npools].plen), 0);
	p.pools = pools;
	p.npools++;
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	q.expires_ns = 0;
	q.base_level = L_QUARANTINED;
	cr_expect_eq(dp_prefix_set(dp, &a, l, &q), -EPERM);
	cr_expect(strstr(dp_errmsg(dp), "overlaps never-react prefix "
					"198.51.100.72/29"),
		  "%s", dp_errmsg(dp));
}

/* The outer-address cache (per CPU) never answers for a changed
 * subscriber set: an endpoint that becomes a subscriber has its UDP/2152
 * packets judged as its own at once, and decapsulated again once it is
 * gone. */
Test(gtpu, outer_address_cache_follows_the_subscriber_set,
     .init = open_default_pass, .fini = close_dp)
{
	struct pb_frame f = gtp_frame(L_NORMAL);
	struct xcrs_sub b = { .level = L_BLOCKED, .base_level = L_BLOCKED };
	struct xcrs_addr gnb, pfx;
	unsigned plen;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	f.ip.dst = XT_OTHER4;
	f.ip.dport = 445;
	check("tunnel of a normal terminal", A, true, &f, PASS,
	      XCRS_R_ALLOWED);
	check("again (cached)", A, true, &f, PASS, XCRS_R_ALLOWED);
	cr_assert_eq(dp_addr_parse(XT_GNB4, &gnb), 0);
	cr_assert_eq(dp_sub_set(dp, &gnb, &b), 0);
	check("the endpoint is a blocked subscriber now", A, true, &f, DROP,
	      XCRS_R_LEVEL);
	cr_assert_eq(dp_sub_del(dp, &gnb), 0);
	check("and no more", A, true, &f, PASS, XCRS_R_ALLOWED);
	cr_assert_eq(dp_prefix_parse("198.51.100.248/29", &pfx, &plen), 0);
	cr_assert_eq(dp_prefix_set(dp, &pfx, plen, &b), 0);
	check("inside a prefix decision", A, true, &f, DROP, XCRS_R_LEVEL);
	cr_assert_eq(dp_prefix_del(dp, &pfx, plen), 0);
	check("prefix released", A, true, &f, PASS, XCRS_R_ALLOWED);
}
