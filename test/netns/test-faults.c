// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults under load, with the real xcrs-agent and live traffic:
 *
 *   gen (gen0) ──veth── edge (a1: xcrs, access) ─ xcrs-agent
 *
 * The test process sends frames from gen with XDP live frames (XDP_TX out
 * of gen0) while it (a) kills the agent with SIGKILL and restarts it,
 * (b) reloads the policy 100 times between two versions whose mix would
 * misclassify, (c) makes the agent react to more terminals than the
 * subscriber map holds, (d) floods the agent's event socket with
 * malformed and valid alerts. It reads the dataplane's own counters
 * through the pinned maps (read only) to count every packet.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <criterion/criterion.h>

#include "addr.h"
#include "agentenv.h"
#include "dataplane.h"
#include "livetraffic.h"
#include "netns.h"
#include "pktbuild.h"

static struct tn_ns gen, edge;
static struct agentenv env;
static struct dp *ro; /* the test's read-only view of the pinned maps */

#define MAX_SUBS 64

/* Service order is a parameter: class numbers follow it. */
static const char POLICY[] =
	"version: 1\n"
	"agent:\n"
	"  pin_dir: %s\n"
	"  control_socket: %s/agent.sock\n"
	"  state_file: %s/state.json\n"
	"  audit_log: %s/audit.jsonl\n"
	"  maps: {subscribers: %d, tracked: 256}\n"
	"interfaces:\n"
	"  - {name: a1, role: access, mode: native}\n"
	"services:\n"
	"%s"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: quarantined, allow: [dns]}\n"
	"  - {name: webonly, allow: [web]}\n"
	"scopes:\n"
	"  - {name: cell, id: 1, pools: 192.0.2.0/24, level: normal}\n"
	"inputs:\n"
	"  eve:\n"
	"    - socket: %s/eve.sock\n"
	"rules:\n"
	"  - name: ids\n"
	"    on: ids\n"
	"    match: {severity_at_most: 1}\n"
	"    react: {level: quarantined, for: 1h}\n";

static const char SVC_DNS[] =
	"  - name: dns\n"
	"    rules: [{prefixes: 198.51.100.53, protocol: udp, ports: 53}]\n";
static const char SVC_WEB[] =
	"  - name: web\n"
	"    rules: [{prefixes: 203.0.113.0/24, protocol: udp, ports: 80}]\n";

static void write_policy(bool web_first)
{
	char svcs[512], text[4096];

	snprintf(svcs, sizeof(svcs), "%s%s", web_first ? SVC_WEB : SVC_DNS,
		 web_first ? SVC_DNS : SVC_WEB);
	snprintf(text, sizeof(text), POLICY, env.pins, env.dir, env.dir,
		 env.dir, MAX_SUBS, svcs, env.dir);
	cr_assert_eq(agenv_policy(&env, text), 0);
}

static int ctl(char *out, size_t len, const char *args)
{
	return agenv_ctl(&env, out, len, "%s", args);
}

static void start_agent(void)
{
	char err[8192] = "";

	cr_assert_eq(agenv_start(&env, &edge, NULL, err, sizeof(err)), 0,
		     "the agent did not start:\n%s", err);
}

static void stop_agent(int sig)
{
	agenv_stop(&env, sig);
}

#define stat_line agenv_stat_line
#define ctl_until(args, want) agenv_ctl_until(&env, want, "%s", args)

static void setup(void)
{
	char err[512];
	struct dp_config cfg = { .max_subs = MAX_SUBS, .max_tracked = 256 };

	tn_sweep();
	cr_assert_eq(agenv_init(&env, "faults"), 0);
	cr_assert_eq(lt_topology(&gen, &edge), 0);
	write_policy(false);
	start_agent();
	cfg.pin_dir = env.pins;
	cr_assert_eq(dp_open(&cfg, &ro, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	dp_close(ro);
	ro = NULL;
	agenv_cleanup(&env); /* stops the agent, prints its log's end */
	tn_ns_destroy(&gen);
	tn_ns_destroy(&edge);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 240);

/* ---- live traffic ---- */

#define traffic livetraffic

static void traffic_start(struct traffic *t, const char *src, const char *dst,
			  uint16_t dport)
{
	struct pb_frame f = { .ip = { .family = 4, .src = src, .dst = dst,
				      .proto = IPPROTO_UDP, .sport = 40000,
				      .dport = dport, .payload = 18 } };
	uint8_t pkt[PB_MAX];
	size_t n = pb_build(&f, pkt, sizeof(pkt), NULL);

	cr_assert_eq(lt_start(t, &gen, "gen0", pkt, n), 0);
}

static uint64_t traffic_stop(struct traffic *t)
{
	int err;
	uint64_t n = lt_stop(t, &err);

	cr_assert_eq(err, 0, "live frames: %s", strerror(-err));
	return n;
}

/* Packets the dataplane passed as allowed (or unknown) / dropped by a
 * level, so far. */
static void counts(uint64_t *passed, uint64_t *dropped)
{
	struct dp_stats st;

	cr_assert_eq(dp_stats_read(ro, &st), 0, "%s", dp_errmsg(ro));
	/* the terminals are pool members: what passes of theirs passes as
	 * allowed */
	*passed = st.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets;
	*dropped = st.c[XCRS_ACT_DROP][XCRS_R_LEVEL].packets;
}

static void sleep_ms(long ms)
{
	usleep((useconds_t)ms * 1000);
}

#define S "192.0.2.10"	 /* the reacted terminal */
#define WEB "203.0.113.10"

/* (a) SIGKILL and restart under load: not one packet of the quarantined
 * terminal passes before, while the agent is dead, or after it is back. */
Test(faults, kill9_under_load_leaks_nothing)
{
	struct traffic t;
	uint64_t p0, d0, p1, d1, sent;
	char out[4096];

	cr_assert_eq(ctl(out, sizeof(out),
			 "react " S " --level quarantined --for 1h"),
		     0, "%s", out);
	counts(&p0, &d0);
	traffic_start(&t, S, WEB, 80);
	sleep_ms(500);
	for (int round = 0; round < 3; round++) {
		stop_agent(SIGKILL);
		sleep_ms(300);
		start_agent();
		sleep_ms(300);
	}
	sent = traffic_stop(&t);
	counts(&p1, &d1);
	cr_log_info("kill -9 x3 under load: %llu frames sent, %llu dropped, "
		    "%llu passed",
		    (unsigned long long)sent, (unsigned long long)(d1 - d0),
		    (unsigned long long)(p1 - p0));
	printf("faults: kill -9 x3: %llu frames, %llu passed\n",
	       (unsigned long long)sent, (unsigned long long)(p1 - p0));
	cr_expect_eq(p1 - p0, 0, "%llu packets of the quarantined terminal "
		     "passed", (unsigned long long)(p1 - p0));
	cr_expect_eq(d1 - d0, sent, "sent %llu, dropped %llu",
		     (unsigned long long)sent, (unsigned long long)(d1 - d0));
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, S) && strstr(out, "quarantined"), "%s", out);
}

/* (b) 100 reloads under load between two policies that order the
 * services differently (so class numbers differ): the terminal at level
 * webonly sends web traffic; a packet classified with one version's
 * services and the other's levels would be dropped. */
Test(faults, hundred_reloads_under_load_never_half_applied)
{
	struct traffic t;
	uint64_t p0, d0, p1, d1, sent;
	char out[4096];
	int failed = 0;

	cr_assert_eq(ctl(out, sizeof(out), "react " S " --level webonly"), 0,
		     "%s", out);
	counts(&p0, &d0);
	traffic_start(&t, S, WEB, 80);
	for (int i = 0; i < 100; i++) {
		write_policy(i % 2 == 0);
		if (ctl(out, sizeof(out), "reload"))
			failed++;
	}
	sent = traffic_stop(&t);
	counts(&p1, &d1);
	printf("faults: 100 reloads: %llu frames, %llu dropped\n",
	       (unsigned long long)sent, (unsigned long long)(d1 - d0));
	cr_expect_eq(failed, 0, "%d reloads refused (last: %s)", failed, out);
	cr_expect_eq(d1 - d0, 0, "%llu packets dropped: a half-applied policy",
		     (unsigned long long)(d1 - d0));
	cr_expect_eq(p1 - p0, sent, "sent %llu, passed %llu",
		     (unsigned long long)sent, (unsigned long long)(p1 - p0));
	cr_assert_eq(ctl(out, sizeof(out), "stats"), 0);
	cr_expect(strstr(out, stat_line("reloads", 100)), "%s", out);
}

static void eve_send(int fd, const char *src, const char *dst)
{
	char line[512];
	int n = snprintf(line, sizeof(line),
			 "{\"event_type\":\"alert\",\"src_ip\":\"%s\","
			 "\"src_port\":4000,\"dest_ip\":\"%s\",\"dest_port\":"
			 "445,\"proto\":\"TCP\",\"alert\":{\"signature_id\":1,"
			 "\"signature\":\"worm\",\"severity\":1}}\n",
			 src, dst);

	cr_assert_eq(write(fd, line, (size_t)n), n);
}

static int eve_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/eve.sock", env.dir);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "%s: %s", sa.sun_path, strerror(errno));
	return fd;
}

/* (c) More reacted terminals than the subscriber map holds: the agent
 * says so, and what is in the map stays enforced. */
Test(faults, full_subscriber_map_is_reported_and_enforcement_kept)
{
	struct traffic t;
	uint64_t p0, d0, p1, d1, sent;
	char out[16384], addr[32];
	int fd = eve_connect();

	/* the first terminal, then 99 more: 100 > 64 entries */
	eve_send(fd, S, WEB);
	cr_assert(ctl_until("show " S, "quarantined"));
	for (int i = 100; i < 199; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		eve_send(fd, addr, WEB);
	}
	close(fd);
	/* the agent tells: an error per entry that did not fit */
	for (int i = 0; i < 100; i++) {
		tn_run(NULL, out, sizeof(out), "grep -c 'subscriber map full' "
			       "%s/agent.log", env.dir);
		if (atoi(out) >= 100 - MAX_SUBS)
			break;
		sleep_ms(50);
	}
	cr_expect_geq(atoi(out), 100 - MAX_SUBS, "log lines: %s", out);
	tn_run(NULL, out, sizeof(out), "grep -m1 'subscriber map full' "
		       "%s/agent.log", env.dir);
	cr_expect(strstr(out, "(64 entries): cannot add 192.0.2."), "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "stats"), 0);
	cr_expect(strstr(out, "dataplane_errors"), "%s", out);
	cr_expect_not(strstr(out, stat_line("dataplane_errors", 0)), "%s",
		      out);
	/* the agent is alive and S's traffic is still dropped */
	counts(&p0, &d0);
	traffic_start(&t, S, WEB, 80);
	sleep_ms(300);
	sent = traffic_stop(&t);
	counts(&p1, &d1);
	cr_expect_eq(p1 - p0, 0, "%llu passed",
		     (unsigned long long)(p1 - p0));
	cr_expect_eq(d1 - d0, sent, "sent %llu, dropped %llu",
		     (unsigned long long)sent, (unsigned long long)(d1 - d0));
	cr_expect_eq(ctl(out, sizeof(out), "status"), 0, "the agent died");
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* Sends one round of the flood: n lines, most malformed in some way,
 * every 25th a valid alert of one of 40 terminals, the rest alerts about
 * nobody's addresses. Returns how many malformed lines it sent. */
static int flood_round(int fd, int n)
{
	static char huge[70000];
	int bad = 0;

	memset(huge, 'A', sizeof(huge) - 2);
	huge[sizeof(huge) - 2] = '\n';
	for (int i = 0; i < n; i++) {
		char addr[32], line[256];
		int k;

		switch (i % 5) {
		case 0:
			if (i % 25 == 0) {
				snprintf(addr, sizeof(addr), "192.0.2.%d",
					 20 + (i / 25) % 40);
				eve_send(fd, addr, WEB);
				continue;
			}
			snprintf(addr, sizeof(addr), "198.51.%d.%d",
				 (i >> 8) & 255, i & 255);
			eve_send(fd, addr, "198.51.100.1");
			continue;
		case 1:
			k = snprintf(line, sizeof(line), "garbage %d\n", i);
			break;
		case 2:
			k = snprintf(line, sizeof(line),
				     "{\"event_type\":\"alert\",\"src_ip\":"
				     "\"192.0.2.%d\"\n", i & 255);
			break;
		case 3:
			k = snprintf(line, sizeof(line), "%.*s\n", 100,
				     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
				     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
				     "[[[[[[[[[[[[[[[[[[[[");
			break;
		default:
			if (i % 1000 == 4) {
				/* longer than any line the agent takes */
				cr_assert_eq(write(fd, huge, sizeof(huge) - 1),
					     (ssize_t)sizeof(huge) - 1);
				continue;
			}
			k = snprintf(line, sizeof(line),
				     "{\"event_type\":\"alert\",\"src_ip\":7,"
				     "\"alert\":{\"severity\":\"x\"}}\n");
			break;
		}
		cr_assert_eq(write(fd, line, (size_t)k), k);
		bad++;
	}
	return bad;
}

/* (d) A flood of malformed and valid events: memory stays bounded (the
 * second round adds next to nothing), every valid alert is acted on,
 * every malformed line is counted. */
Test(faults, flood_of_events_keeps_memory_bounded_and_reactions_right)
{
	const int n = 100000;
	long r0, r1, r2;
	char out[65536];
	int fd = eve_connect(), bad = 0;

	r0 = rss_kib(env.pid);
	bad += flood_round(fd, n);
	cr_assert(ctl_until("stats", "eve_lines"));
	sleep_ms(500);
	r1 = rss_kib(env.pid);
	bad += flood_round(fd, n);
	close(fd);
	/* wait until the agent has read everything: the overlong lines
	 * are counted apart from the malformed */
	for (int i = 0; i < 200; i++) {
		if (ctl(out, sizeof(out), "stats") == 0 &&
		    strstr(out, stat_line("input_malformed", bad)) &&
		    strstr(out, stat_line("input_overlong", 2 * (n / 1000))))
			break;
		sleep_ms(50);
	}
	r2 = rss_kib(env.pid);
	printf("faults: flood 2 x %d lines (%d malformed, %d overlong): agent "
	       "RSS %ld -> %ld -> %ld KiB\n", n, bad, 2 * (n / 1000), r0, r1,
	       r2);
	cr_expect(strstr(out, stat_line("input_malformed", bad)), "want %s",
		  out);
	cr_expect(strstr(out, stat_line("input_overlong", 2 * (n / 1000))),
		  "%s", out);
	cr_expect_lt(r2 - r1, 2048, "RSS grew %ld KiB in the second round",
		     r2 - r1);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	for (int i = 20; i < 60; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "192.0.2.%d ", i);
		cr_expect(strstr(out, addr), "%s not reacted:\n%s", addr, out);
	}
	cr_expect_null(strstr(out, "198.51."), "a non-subscriber reacted");
}

/* (e) kill -9 inside a burst of decisions: the dataplane holds each one as
 * soon as it is made; the state file is written in batches. Whatever the
 * dataplane holds, the restarted agent knows (shows and can release). */
Test(faults, kill9_inside_a_burst_of_decisions_leaves_none_unknown)
{
	enum { N = 40 };
	char out[16384], ip[32];
	int fd = eve_connect(), known = 0, got = -1;
	struct xcrs_addr last;
	struct xcrs_sub v;

	addr_parse("192.0.2.139", &last);
	for (int i = 0; i < N; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", 100 + i);
		eve_send(fd, ip, "198.51.100.9");
	}
	/* killed the moment the last entry is in the dataplane: the batch
	 * save (20 ms) has not run */
	for (int i = 0; i < 20000 && got; i++) {
		got = dp_sub_get(ro, &last, &v);
		if (got)
			usleep(100);
	}
	stop_agent(SIGKILL);
	close(fd);
	cr_assert_eq(got, 0, "the burst did not reach the dataplane");
	start_agent();
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0, "%s", out);
	for (int i = 0; i < N; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d ", 100 + i);
		known += strstr(out, ip) != NULL;
	}
	cr_expect_eq(known, N, "%d of %d decisions in the dataplane are "
		     "known to the restarted agent", known, N);
	/* and each can be released */
	cr_expect_eq(ctl(out, sizeof(out), "release 192.0.2.139"), 0, "%s",
		     out);
}

/* (f) An entry in the pinned map that no saved decision explains (a
 * decision never written, then a crash: the journal makes that rare, a
 * full disk makes it possible): the restarted agent adopts it, so it is
 * shown and can be released, instead of staying enforced unseen. */
Test(faults, an_entry_without_a_decision_is_adopted_at_start)
{
	char out[16384];
	struct xcrs_addr a;
	struct xcrs_sub q = { .scope = 1, .level = 1, .base_level = 1 }, got;

	stop_agent(SIGKILL);
	addr_parse("192.0.2.77", &a);
	cr_assert_eq(dp_sub_set(ro, &a, &q), 0, "%s", dp_errmsg(ro));
	start_agent();
	/* the maps are compared after the agent is ready, in steps */
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0, "%s", out);
		if (strstr(out, "192.0.2.77 "))
			break;
		usleep(10000);
	}
	cr_expect(strstr(out, "192.0.2.77 ") && strstr(out, "recovered"),
		  "the orphan entry is not shown: %s", out);
	cr_assert_eq(ctl(out, sizeof(out), "release 192.0.2.77"), 0, "%s",
		     out);
	cr_expect(dp_sub_get(ro, &a, &got) != 0 || got.level == 0,
		  "released, the entry still holds level %u", got.level);
	/* released, it is gone from the list too */
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0, "%s", out);
	cr_expect_null(strstr(out, "192.0.2.77 "), "%s", out);
}
