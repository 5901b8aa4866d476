// SPDX-License-Identifier: GPL-2.0-only
/*
 * Running xcrs in production, with the real xcrs-agent and live traffic:
 *
 *   gen (gen0) ──veth── edge (a1: xcrs, access) ─ xcrs-agent
 *
 * least privilege (the agent as an unprivileged user with exactly the
 * capabilities it needs), upgrades without drops (a new agent replaces
 * the attached program in place under load), Prometheus metrics,
 * allowlists, escalation of repeat offenders, capacity, prefix decisions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include <criterion/criterion.h>

#include "agentenv.h"
#include "dataplane.h"
#include "livetraffic.h"
#include "netns.h"
#include "pktbuild.h"

static struct tn_ns gen, edge;
static struct agentenv env;
static struct dp *ro; /* read-only view of the pinned maps */

static const char POLICY[] =
	"version: 1\n"
	"agent:\n"
	"  pin_dir: %s\n"
	"  control_socket: %s/agent.sock\n"
	"  state_file: %s/state.json\n"
	"  audit_log: %s/audit.jsonl\n"
	"%s"
	"interfaces:\n"
	"  - {name: a1, role: access, mode: native%s}\n"
	"services:\n"
	"  - name: dns\n"
	"    rules: [{prefixes: 198.51.100.53, protocol: udp, ports: 53}]\n"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: quarantined, allow: [dns]}\n"
	"  - {name: blocked, allow: []}\n"
	"scopes:\n"
	"  - {name: cell, id: 1, pools: 192.0.2.0/24, level: normal,\n"
	"     containment: isolate, isolate_allow: [dns]}\n"
	"inputs:\n"
	"  eve:\n"
	"    - socket: %s/eve.sock\n"
	"%s"
	"rules:\n"
	"  - name: ids\n"
	"    on: ids\n"
	"    match: {severity_at_most: 1}\n"
	"    react: {level: quarantined, for: 10m}\n"
	"%s";

/* Extra keys of the interface a1 (", spread: teid"). */
static const char *iface_extra = "";

/* Extra lines: in the agent section, at the top level, in the ids
 * rule. */
static void write_policy(const char *agent_extra, const char *top_extra,
			 const char *rule_extra)
{
	char text[8192];

	snprintf(text, sizeof(text), POLICY, env.pins, env.dir, env.dir,
		 env.dir, agent_extra ? agent_extra : "", iface_extra, env.dir,
		 top_extra ? top_extra : "", rule_extra ? rule_extra : "");
	cr_assert_eq(agenv_policy(&env, text), 0);
}

static void start_agent(const char *const *wrapper)
{
	char err[8192] = "";

	cr_assert_eq(agenv_start(&env, &edge, wrapper, err, sizeof(err)), 0,
		     "the agent did not start:\n%s", err);
}

static void open_ro(void)
{
	struct dp_config cfg = { .pin_dir = env.pins };
	char err[512];

	if (!ro)
		cr_assert_eq(dp_open(&cfg, &ro, err, sizeof(err)), 0, "%s",
			     err);
}

static void setup(void)
{
	tn_sweep();
	cr_assert_eq(agenv_init(&env, "prod"), 0);
	cr_assert_eq(lt_topology(&gen, &edge), 0);
	write_policy(NULL, NULL, NULL);
}

static void teardown(void)
{
	dp_close(ro);
	ro = NULL;
	agenv_cleanup(&env); /* stops the agent, prints its log's end */
	tn_ns_destroy(&gen);
	tn_ns_destroy(&edge);
}

TestSuite(production, .init = setup, .fini = teardown, .timeout = 240);

static size_t frame(uint8_t *pkt, const char *src, const char *dst,
		    uint16_t dport)
{
	struct pb_frame f = { .ip = { .family = 4, .src = src, .dst = dst,
				      .proto = IPPROTO_UDP, .sport = 40000,
				      .dport = dport, .payload = 18 } };

	return pb_build(&f, pkt, PB_MAX, NULL);
}

/* Sends src's frames for ms milliseconds; returns how many, and what the
 * dataplane passed (as allowed) and dropped (by a level) meanwhile. */
static uint64_t send_for(const char *src, long ms, uint64_t *passed,
			 uint64_t *dropped)
{
	struct livetraffic t;
	struct dp_stats a, b;
	uint8_t pkt[PB_MAX];
	size_t n = frame(pkt, src, "203.0.113.10", 80);
	uint64_t sent;
	int err;

	open_ro();
	cr_assert_eq(dp_stats_read(ro, &a), 0);
	cr_assert_eq(lt_start(&t, &gen, "gen0", pkt, n), 0);
	usleep((useconds_t)ms * 1000);
	sent = lt_stop(&t, &err);
	cr_assert_eq(err, 0, "live frames: %s", strerror(-err));
	cr_assert_eq(dp_stats_read(ro, &b), 0);
	*passed = b.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets -
		  a.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets;
	*dropped = b.c[XCRS_ACT_DROP][XCRS_R_LEVEL].packets -
		   a.c[XCRS_ACT_DROP][XCRS_R_LEVEL].packets;
	return sent;
}

/* The xcrs program that runs on a1: the one its pinned link runs, or
 * the one in its libxdp dispatcher (which must hold exactly one). */
static __u32 attached_prog_id(void)
{
	char path[300];
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info), id = 0;
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	int fd, n = 0;

	snprintf(path, sizeof(path), "%s/link_a1", env.pins);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
		close(fd);
		return info.prog_id;
	}
	cr_assert_eq(errno, ENOENT, "%s: %s", path, strerror(errno));
	cr_assert_eq(tn_enter(&edge), 0);
	mp = xdp_multiprog__get_from_ifindex((int)if_nametoindex("a1"));
	tn_leave();
	cr_assert(!libxdp_get_error(mp) && mp &&
			  !xdp_multiprog__is_legacy(mp),
		  "a1 has neither xcrs's link nor libxdp's dispatcher");
	while ((p = xdp_multiprog__next_prog(p, mp)))
		if (!strcmp(xdp_program__name(p), "xcrs_xdp")) {
			id = xdp_program__id(p);
			n++;
		}
	xdp_multiprog__close(mp);
	cr_assert_eq(n, 1, "%d xcrs programs in a1's dispatcher", n);
	return id;
}

#define S "192.0.2.10"

/* ---- least privilege ---- */

static const char *const CAPS_OK[] = {
	"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
	"--clear-groups", "--inh-caps=-all,+bpf,+net_admin,+perfmon",
	"--ambient-caps=-all,+bpf,+net_admin,+perfmon",
	"--bounding-set=-all,+bpf,+net_admin,+perfmon", NULL
};
static const char *const CAPS_NO_PERFMON[] = {
	"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
	"--clear-groups", "--inh-caps=-all,+bpf,+net_admin",
	"--ambient-caps=-all,+bpf,+net_admin",
	"--bounding-set=-all,+bpf,+net_admin", NULL
};

/* What the service unit prepares: the agent's directories and its pin
 * directory belong to its user. */
static void give_to_nobody(void)
{
	cr_assert_eq(tn_sh(NULL, "mkdir -p %s && chown nobody:nogroup %s %s "
				 "%s/policy.yaml",
			   env.pins, env.pins, env.dir, env.dir),
		     0);
}

Test(production, agent_runs_unprivileged_with_bpf_net_admin_perfmon)
{
	uint64_t passed, dropped, sent;
	char out[4096];

	give_to_nobody();
	start_agent(CAPS_OK);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "ps -o user=,comm= -p %d",
			    (int)env.pid),
		     0);
	cr_expect(strstr(out, "nobody"), "the agent runs as: %s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "grep -E '^Cap(Eff|Prm)' /proc/%d/status",
			    (int)env.pid),
		     0);
	/* CAP_NET_ADMIN 12, CAP_PERFMON 38, CAP_BPF 39 */
	cr_expect(strstr(out, "CapPrm:\t000000c000001000") &&
			  strstr(out, "CapEff:\t000000c000001000"),
		  "capabilities:\n%s", out);
	cr_assert(agenv_ctl_until(&env, "attached", "status"));
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "react " S " --level quarantined"),
		     0, "%s", out);
	sent = send_for(S, 300, &passed, &dropped);
	cr_expect_eq(passed, 0);
	cr_expect_eq(dropped, sent, "sent %llu, dropped %llu",
		     (unsigned long long)sent, (unsigned long long)dropped);
	/* reacting from an EVE alert and releasing work too */
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "release " S), 0, "%s",
		     out);
	sent = send_for(S, 200, &passed, &dropped);
	cr_expect_eq(passed, sent);
}

Test(production, without_perfmon_the_verifier_refuses_the_program)
{
	char err[16384] = "";

	give_to_nobody();
	cr_assert_neq(agenv_start(&env, &edge, CAPS_NO_PERFMON, err,
				  sizeof(err)),
		      0, "the agent started without CAP_PERFMON");
	cr_expect(strstr(err, "loading the XDP program") &&
			  strstr(err, "Permission denied"),
		  "%s", err);
}

/* ---- upgrades ---- */

/*
 * An agent (binary old: another release, or NULL: this build's) enforces a
 * quarantine under live traffic and this build's agent takes over its
 * pinned maps, state file and links: no frame of the quarantined terminal
 * passes, every one is judged, the program is replaced in place, and the
 * new agent knows the decision.
 */
static void upgrade_under_load(const char *old, const char *attach)
{
	struct livetraffic t;
	struct dp_stats a, b;
	uint8_t pkt[PB_MAX];
	size_t n = frame(pkt, S, "203.0.113.10", 80);
	uint64_t sent, passed, dropped, judged = 0;
	long long lost0, lost1;
	__u32 before, after;
	char out[4096];
	int err;

	if (attach) {
		static char extra[64];

		snprintf(extra, sizeof(extra), ", attach: %s", attach);
		iface_extra = extra;
		write_policy(NULL, NULL, NULL);
	}
	env.binary = old;
	start_agent(NULL);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "react " S " --level quarantined"),
		     0, "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "status"), 0, "%s", out);
	if (attach)
		cr_assert(strstr(out, attach), "not attached via %s:\n%s",
			  attach, out);
	before = attached_prog_id();
	open_ro();
	cr_assert_eq(dp_stats_read(ro, &a), 0);
	lost0 = tn_veth_xdp_lost(&gen, "gen0") + tn_veth_xdp_lost(&edge, "a1");
	cr_assert_geq(lost0, 0);
	cr_assert_eq(lt_start(&t, &gen, "gen0", pkt, n), 0);
	usleep(300000);
	/* the old agent stops (the program stays), the new one starts and
	 * swaps in its own program */
	agenv_stop(&env, SIGTERM);
	usleep(200000);
	env.binary = NULL;
	start_agent(NULL);
	usleep(300000);
	sent = lt_stop(&t, &err);
	cr_assert_eq(err, 0);
	cr_assert_eq(dp_stats_read(ro, &b), 0);
	lost1 = tn_veth_xdp_lost(&gen, "gen0") + tn_veth_xdp_lost(&edge, "a1");
	after = attached_prog_id();
	passed = b.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets -
		 a.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets;
	dropped = b.c[XCRS_ACT_DROP][XCRS_R_LEVEL].packets -
		  a.c[XCRS_ACT_DROP][XCRS_R_LEVEL].packets;
	for (int act = 0; act < XCRS_ACT_MAX; act++)
		for (int r = 0; r < XCRS_REASON_MAX; r++)
			judged += b.c[act][r].packets - a.c[act][r].packets;
	printf("production: upgrade from %s (%s) under load: program %u -> "
	       "%u, "
	       "%llu frames sent, %llu judged (%llu dropped), %llu "
	       "passed, %lld lost by the veth before XDP\n",
	       old ? old : "this build", attach ? attach : "auto", before,
	       after,
	       (unsigned long long)sent, (unsigned long long)judged,
	       (unsigned long long)dropped, (unsigned long long)passed,
	       lost1 - lost0);
	cr_expect_neq(before, after, "the program was not replaced");
	cr_expect_eq(passed, 0);
	cr_expect_eq(dropped, judged, "%llu judged frames were not dropped",
		     (unsigned long long)(judged - dropped));
	/* every frame sent was judged, but those the veth itself lost on
	 * the way (a slow receiver's full ring, as under emulation) */
	cr_expect_eq(judged + (uint64_t)(lost1 - lost0), sent,
		     "%lld of %llu frames were neither judged nor lost by the "
		     "veth", (long long)sent - (long long)judged -
			     (lost1 - lost0),
		     (unsigned long long)sent);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "grep -c 'replaced in "
				     "place' %s/agent.log", env.dir),
		     0);
	cr_expect_eq(atoi(out), 1, "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "terminals"), 0, "%s",
		     out);
	cr_expect(strstr(out, S) && strstr(out, "quarantined"),
		  "the new agent does not know the decision:\n%s", out);
	cr_expect_eq(agenv_ctl(&env, out, sizeof(out), "release " S), 0, "%s",
		     out);
}

Test(production, a_new_agent_replaces_the_program_in_place_on_its_link)
{
	upgrade_under_load(NULL, "link");
}

/* The same through libxdp's dispatcher, where it works (Debian 12's 6.1:
 * ci/kernel-test): the new program joins, the old one leaves. */
Test(production, a_new_agent_replaces_the_program_in_place_in_the_dispatcher)
{
	struct dp_config cfg = { 0 };
	const char *why = NULL;
	struct dp *d;
	char err[256];
	int ok;

	cr_assert_eq(dp_open(&cfg, &d, err, sizeof(err)), 0, "%s", err);
	ok = dp_dispatcher_usable(d, &why);
	if (!ok) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", why);
		dp_close(d);
		cr_skip_test("libxdp's dispatcher does not work here: %s", msg);
	}
	dp_close(d);
	upgrade_under_load(NULL, "dispatcher");
}

/* The upgrade an operator makes: from the previous release
 * (ci/previous-version, built by ci/prev-agent, named by $XCRS_PREV_AGENT). */
Test(production, the_previous_release_is_replaced_in_place_under_load)
{
	const char *prev = getenv("XCRS_PREV_AGENT");

	if (!prev || !*prev || access(prev, X_OK))
		cr_skip_test("no agent of the previous release "
			     "($XCRS_PREV_AGENT; ci/prev-agent builds it)");
	upgrade_under_load(prev, NULL);
}

/* ---- metrics ---- */

/* GET /metrics from the agent (127.0.0.1:9477 in the edge namespace). */
static void scrape(char *out, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(9477) };
	const char req[] = "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n";
	int fd = tn_socket(&edge, AF_INET, SOCK_STREAM, 0);
	size_t got = 0;
	ssize_t n;

	cr_assert_geq(fd, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "connect: %s", strerror(errno));
	cr_assert_eq(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	while (got + 1 < len && (n = read(fd, out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	cr_assert(strstr(out, "HTTP/1.0 200 OK"), "%.300s", out);
}

/* The value of the sample "series" (name with its labels) or -1. */
#define sample agenv_sample

Test(production, metrics_follow_traffic_decisions_and_inputs)
{
	static char a[262144], b[262144];
	const char *dropped_series =
		"xcrs_dataplane_packets_total{action=\"drop\",reason=\"level\"}";
	uint64_t sent, passed, dropped;
	char line[512];
	int fd;

	start_agent(NULL);
	scrape(a, sizeof(a));
	cr_expect(strstr(a, "# TYPE xcrs_dataplane_packets_total counter"),
		  "%.500s", a);
	/* Prometheus' own lint, where it is installed (ci/setup does) */
	if (!access("/usr/bin/promtool", X_OK)) {
		char path[300], out[4096];
		const char *body = strstr(a, "\r\n\r\n");
		FILE *f;

		snprintf(path, sizeof(path), "%s/metrics.txt", env.dir);
		f = fopen(path, "w");
		cr_assert(f && body);
		fputs(body + 4, f);
		fclose(f);
		cr_expect_eq(tn_run(NULL, out, sizeof(out),
				    "promtool check metrics < %s", path),
			     0, "promtool: %s", out);
		cr_expect_eq(out[0], '\0', "promtool: %s", out);
	}
	cr_expect(strstr(a, "xcrs_build_info{version=\""), "%.300s", a);
	cr_expect_eq(sample(a, "xcrs_reacted_terminals{level=\"quarantined\"}"),
		     0);
	cr_expect_eq(sample(a, "xcrs_map_entries{map=\"xcrs_sub4\"}"), 0);
	cr_expect_eq(sample(a, "xcrs_map_capacity{map=\"xcrs_sub4\"}"), 65536);
	cr_expect_eq(sample(a, "xcrs_reaction_latency_seconds_count"), 0);

	/* an IDS alert on the EVE socket quarantines S */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int n = snprintf(line, sizeof(line),
				 "{\"event_type\":\"alert\",\"src_ip\":\"" S
				 "\",\"dest_ip\":\"203.0.113.10\",\"alert\":"
				 "{\"signature_id\":1,\"signature\":\"w\","
				 "\"severity\":1}}\n");

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/eve.sock",
			 env.dir);
		cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)),
			     0);
		cr_assert_eq(write(fd, line, (size_t)n), n);
		/* and a malformed line */
		cr_assert_eq(write(fd, "nonsense\n", 9), 9);
		close(fd);
	}
	cr_assert(agenv_ctl_until(&env, "quarantined", "show " S));
	sent = send_for(S, 300, &passed, &dropped);
	cr_assert_eq(dropped, sent);
	scrape(b, sizeof(b));
	cr_expect_eq(sample(b, dropped_series) - sample(a, dropped_series),
		     (double)sent, "dropped: %g -> %g, sent %llu",
		     sample(a, dropped_series), sample(b, dropped_series),
		     (unsigned long long)sent);
	cr_expect_eq(sample(b, "xcrs_reacted_terminals{level=\"quarantined\"}"),
		     1);
	cr_expect_eq(sample(b, "xcrs_reactions_total"), 1);
	cr_expect_eq(sample(b, "xcrs_map_entries{map=\"xcrs_sub4\"}"), 1);
	cr_expect_eq(sample(b, "xcrs_reaction_latency_seconds_count"), 1);
	cr_expect_eq(sample(b, "xcrs_reaction_latency_seconds_bucket{le=\"+Inf\"}"),
		     1);
	snprintf(line, sizeof(line),
		 "xcrs_input_accepted_total{input=\"eve-socket\",path=\"%s/eve.sock\"}",
		 env.dir);
	cr_expect_eq(sample(b, line), 1, "%s", line);
	snprintf(line, sizeof(line),
		 "xcrs_input_refused_total{input=\"eve-socket\",path=\"%s/eve.sock\","
		 "reason=\"malformed\"}",
		 env.dir);
	cr_expect_eq(sample(b, line), 1, "%s", line);
	/* every series the shipped Grafana dashboard asks for exists */
	{
		FILE *f = fopen(XCRS_SRCDIR "/dist/grafana/xcrs-dashboard.json",
				"r");
		static char dash[65536];
		size_t n;
		int names = 0;

		cr_assert(f);
		n = fread(dash, 1, sizeof(dash) - 1, f);
		fclose(f);
		dash[n] = '\0';
		for (char *p = dash; (p = strstr(p, "xcrs_")); names++) {
			char name[96], type[128];
			size_t k = 0;

			while (k + 1 < sizeof(name) &&
			       (p[k] == '_' || (p[k] >= 'a' && p[k] <= 'z')))
				name[k] = p[k], k++;
			name[k] = '\0';
			p += k;
			if (k > 7 && !strcmp(name + k - 7, "_bucket"))
				name[k - 7] = '\0';
			snprintf(type, sizeof(type), "# TYPE %s ", name);
			cr_expect(strstr(b, type), "the dashboard uses %s, "
				  "which the agent does not export", name);
		}
		cr_expect_gt(names, 10);
	}
	/* the release shows too */
	cr_assert_eq(agenv_ctl(&env, NULL, 0, "release " S), 0);
	scrape(b, sizeof(b));
	cr_expect_eq(sample(b, "xcrs_releases_total"), 1);
	cr_expect_eq(sample(b, "xcrs_reacted_terminals{level=\"quarantined\"}"),
		     0);
	cr_expect_eq(sample(b, "xcrs_map_entries{map=\"xcrs_sub4\"}"), 0);
}

/* ---- never_react ---- */

static void eve_alert(const char *src)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[512];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0),
	    n = snprintf(line, sizeof(line),
			 "{\"event_type\":\"alert\",\"src_ip\":\"%s\","
			 "\"dest_ip\":\"203.0.113.10\",\"alert\":"
			 "{\"signature_id\":1,\"signature\":\"w\","
			 "\"severity\":1}}\n",
			 src);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/eve.sock", env.dir);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(write(fd, line, (size_t)n), n);
	close(fd);
}

#define NOC "192.0.2.241"

Test(production, never_react_addresses_are_refused_and_never_contained)
{
	uint64_t sent, passed, dropped;
	char out[8192];

	write_policy(NULL,
		     "never_react:\n"
		     "  - {name: noc, prefixes: [192.0.2.240/28]}\n",
		     NULL);
	start_agent(NULL);
	/* an IDS alert: refused, said and counted */
	eve_alert(NOC);
	eve_alert(S);
	cr_assert(agenv_ctl_until(&env, "quarantined", "show " S));
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show " NOC), 0);
	cr_expect_null(strstr(out, "quarantined"), "%s", out);
	cr_assert(agenv_ctl_until(&env, agenv_stat_line("never_react_refused",
							 1),
				  "stats"));
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "grep 'never_react' %s/agent.log %s/audit.jsonl",
			    env.dir, env.dir),
		     0);
	cr_expect(strstr(out, NOC ": eve") && strstr(out, "(noc)"), "%s",
		  out);
	cr_expect(strstr(out, "\"event\":\"refused\""), "%s", out);
	/* an operator reaction: refused with the reason */
	cr_expect_neq(agenv_ctl(&env, out, sizeof(out),
				"react " NOC " --level blocked"),
		      0);
	cr_expect(strstr(out, "never_react list (noc)"), "%s", out);
	/* the scope contained: its members isolated, the NOC not */
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "release " S), 0, "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "scope cell contain"), 0, "%s", out);
	sent = send_for(NOC, 200, &passed, &dropped);
	cr_expect_eq(passed, sent, "never-react address: %llu of %llu passed",
		     (unsigned long long)passed, (unsigned long long)sent);
	sent = send_for("192.0.2.20", 200, &passed, &dropped);
	cr_expect_eq(passed, 0, "contained member passed");
}

/* ---- capacity ---- */

static bool log_has(const char *want, int seconds)
{
	char out[8192];

	for (int i = 0; i < seconds * 10; i++) {
		tn_run(NULL, out, sizeof(out), "cat %s/agent.log", env.dir);
		if (strstr(out, want))
			return true;
		usleep(100000);
	}
	return false;
}

Test(production, full_subscriber_map_warns_then_fails_closed_then_recovers)
{
	uint64_t sent, passed, dropped;
	char addr[32], out[4096];

	write_policy("  maps: {subscribers: 16, tracked: 64, warn_at: 50%, "
		     "when_full: blocked}\n",
		     NULL, NULL);
	start_agent(NULL);
	sent = send_for("192.0.2.50", 200, &passed, &dropped);
	cr_expect_eq(passed, sent, "before: an unreacted terminal passes");
	for (int i = 100; i < 120; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i);
		eve_alert(addr);
	}
	cr_assert(agenv_ctl_until(&env, "quarantined", "show 192.0.2.119"));
	cr_expect(log_has("subscriber map 100% full (16 of 16 entries; "
			  "agent.maps.warn_at 50%)", 8),
		  "no fill warning");
	cr_expect(log_has("subscriber map full (16 entries): failing closed: "
			  "every terminal without its own entry is held at "
			  "blocked", 2));
	sent = send_for("192.0.2.50", 200, &passed, &dropped);
	cr_expect_eq(passed, 0, "failing closed: %llu of %llu passed",
		     (unsigned long long)passed, (unsigned long long)sent);
	cr_expect_eq(dropped, sent);
	/* the operator is told when the dataplane refuses a reaction; it is
	 * kept and written once it fits */
	cr_expect_eq(agenv_ctl(&env, out, sizeof(out),
			       "react 192.0.2.130 --level quarantined"),
		     1, "a refused reaction answered: %s", out);
	cr_expect(strstr(out, "the dataplane refused it") &&
		  strstr(out, "subscriber map full"), "%s", out);
	/* room again: every reaction fits, failing closed ends */
	for (int i = 100; i < 110; i++) {
		cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
				       "release 192.0.2.%d", i),
			     0, "%s", out);
	}
	cr_expect(log_has("every reaction fits the subscriber map again", 8));
	sent = send_for("192.0.2.50", 200, &passed, &dropped);
	cr_expect_eq(passed, sent, "after: %llu of %llu passed",
		     (unsigned long long)passed, (unsigned long long)sent);
	/* the reactions that did not fit at first are enforced now */
	sent = send_for("192.0.2.119", 200, &passed, &dropped);
	cr_expect_eq(passed, 0);
	sent = send_for("192.0.2.130", 200, &passed, &dropped);
	cr_expect_eq(passed, 0, "the refused operator reaction was never "
		     "written: %llu of %llu passed",
		     (unsigned long long)passed, (unsigned long long)sent);
}

/* ---- decisions on prefixes ---- */

Test(production, prefix_decisions_are_enforced_as_prefixes_and_kept)
{
	uint64_t sent, passed, dropped;
	char out[8192];

	write_policy(NULL,
		     "never_react:\n"
		     "  - {name: noc, prefixes: [192.0.2.240/28]}\n",
		     NULL);
	start_agent(NULL);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "react 192.0.2.64/28 --level quarantined "
			       "--reason 'infected lab'"),
		     0, "%s", out);
	sent = send_for("192.0.2.70", 200, &passed, &dropped);
	cr_expect_eq(dropped, sent, "inside: %llu of %llu dropped",
		     (unsigned long long)dropped, (unsigned long long)sent);
	sent = send_for("192.0.2.90", 200, &passed, &dropped);
	cr_expect_eq(passed, sent, "outside: %llu of %llu passed",
		     (unsigned long long)passed, (unsigned long long)sent);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "192.0.2.64/28") && strstr(out, "quarantined") &&
			  strstr(out, "infected lab"),
		  "%s", out);
	/* show names what holds an address: the prefix decision, the
	 * never_react list, the pool or the default */
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show 192.0.2.70"), 0);
	cr_expect(strstr(out, "verdict:     quarantined, by a decision on a "
			      "prefix (192.0.2.64/28)"),
		  "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show 192.0.2.241"), 0);
	cr_expect(strstr(out, "by never reacted to (never_react list noc)"),
		  "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show 192.0.2.90"), 0);
	cr_expect(strstr(out, "verdict:") && !strstr(out, "prefix"), "%s", out);
	/* covering the NOC: refused */
	cr_expect_neq(agenv_ctl(&env, out, sizeof(out),
				"react 192.0.2.0/24 --level blocked"),
		      0);
	cr_expect(strstr(out, "overlaps the never_react list (noc)"), "%s",
		  out);
	/* host bits: refused */
	cr_expect_neq(agenv_ctl(&env, out, sizeof(out),
				"react 192.0.2.65/28 --level blocked"),
		      0);
	cr_expect(strstr(out, "without host bits"), "%s", out);
	/* kept across a restart (state file) */
	agenv_stop(&env, SIGKILL);
	start_agent(NULL);
	sent = send_for("192.0.2.70", 200, &passed, &dropped);
	cr_expect_eq(dropped, sent, "after restart: %llu of %llu dropped",
		     (unsigned long long)dropped, (unsigned long long)sent);
	/* released */
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "release 192.0.2.64/28"),
		     0, "%s", out);
	sent = send_for("192.0.2.70", 200, &passed, &dropped);
	cr_expect_eq(passed, sent);
	cr_expect_neq(agenv_ctl(&env, out, sizeof(out),
				"release 192.0.2.64/28"),
		      0, "released twice");
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "grep -c prefix %s/audit.jsonl",
			    env.dir),
		     0);
	cr_expect_geq(atoi(out), 2, "audit: %s", out);
}

/* ---- GTP-U across CPUs ---- */

/* Frames of one tunnel endpoint pair with a random TEID each, from the
 * quarantined terminal inside; the sender and the receive queue on CPU 0.
 * Returns what each CPU's dataplane counted as dropped by the level. */
static uint64_t spread_run(uint64_t per_cpu[2], uint64_t *sent)
{
	struct pb_frame f = {
		.gtpu = true,
		.outer = { .family = 4, .src = "198.51.100.250",
			   .dst = "198.51.100.1" },
		.ip = { .family = 4, .src = S, .dst = "203.0.113.10",
			.proto = IPPROTO_UDP, .sport = 40000, .dport = 80,
			.payload = 18 },
	};
	uint8_t pkt[PB_MAX];
	size_t n = pb_build(&f, pkt, sizeof(pkt), NULL);
	struct livetraffic t;
	char path[300];
	uint64_t before[512] = { 0 }, after[512] = { 0 }, total = 0;
	__u32 k = XCRS_ACT_DROP * XCRS_REASON_MAX + XCRS_R_LEVEL;
	int fd, err;

	snprintf(path, sizeof(path), "%s/xcrs_stats", env.pins);
	fd = bpf_obj_get(path);
	cr_assert_geq(fd, 0, "%s", path);
	/* per CPU: {packets, bytes} */
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, before), 0);
	/* TEID: Ethernet 14 + IPv4 20 + UDP 8 + 4 */
	cr_assert_eq(lt_start_opts(&t, &gen, "gen0", pkt, n, 0, 14 + 20 + 8 + 4),
		     0);
	usleep(400000);
	*sent = lt_stop(&t, &err);
	cr_assert_eq(err, 0);
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, after), 0);
	close(fd);
	for (int c = 0; c < 2; c++) {
		per_cpu[c] = after[2 * c] - before[2 * c];
		total += per_cpu[c];
	}
	return total;
}

Test(production, gtpu_spread_by_teid_judges_on_every_cpu)
{
	uint64_t cpu[2], sent, total;
	char out[4096];

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("one CPU: nothing to spread over");
	/* first without spreading: everything judged where it arrives */
	start_agent(NULL);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "react " S " --level quarantined"), 0, "%s", out);
	total = spread_run(cpu, &sent);
	printf("production: GTP-U not spread: %llu frames, judged on CPU0 "
	       "%llu, CPU1 %llu\n",
	       (unsigned long long)sent, (unsigned long long)cpu[0],
	       (unsigned long long)cpu[1]);
	cr_expect_eq(total, sent);
	cr_expect_eq(cpu[1], 0);
	/* then spread by TEID (replaced in place by a reload) */
	iface_extra = ", spread: teid";
	write_policy(NULL, NULL, NULL);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "reload"), 0, "%s", out);
	total = spread_run(cpu, &sent);
	printf("production: GTP-U spread by TEID: %llu frames, judged on CPU0 "
	       "%llu, CPU1 %llu\n",
	       (unsigned long long)sent, (unsigned long long)cpu[0],
	       (unsigned long long)cpu[1]);
	iface_extra = "";
	/* the sender outruns the second stage: what its cpumap queue cannot
	 * take is dropped there, unjudged but never passed */
	cr_expect_leq(total, sent);
	cr_expect_geq(total, sent / 2, "judged %llu of %llu",
		      (unsigned long long)total, (unsigned long long)sent);
	cr_expect_gt(cpu[0], total / 5, "CPU0 judged %llu of %llu",
		     (unsigned long long)cpu[0], (unsigned long long)total);
	cr_expect_gt(cpu[1], total / 5, "CPU1 judged %llu of %llu",
		     (unsigned long long)cpu[1], (unsigned long long)total);
	{
		struct dp_stats st;
		uint64_t p = 0;

		open_ro();
		cr_assert_eq(dp_stats_read(ro, &st), 0);
		for (int r = 0; r < XCRS_REASON_MAX; r++)
			if (r != XCRS_R_NON_IP && r != XCRS_R_ND)
				p += st.c[XCRS_ACT_PASS][r].packets;
		cr_expect_eq(p, 0, "%llu frames passed",
			     (unsigned long long)p);
	}
}
