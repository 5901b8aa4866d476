// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fleet of two edge nodes on a 3-server NATS JetStream cluster, with
 * real frames and the packet core's RADIUS accounting (radclient):
 *
 *   genA (gen0) ── a1 edge A: xcrs-agent node a ─ na ─┐
 *                                                      ├─ nats: 3 nats-server
 *   genB (gen0) ── a1 edge B: xcrs-agent node b ─ nb ─┘  (198.51.100.1, .17)
 *
 * The servers are started by the test from the nats-server binary (never
 * Debian's service), each with its own store under the test's directory.
 * A frame's fate is read from each edge's dataplane counters while live
 * frames of one source run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "agentenv.h"
#include "dataplane.h"
#include "livetraffic.h"
#include "netns.h"
#include "pktbuild.h"

#define NSRV 3
#define IMSI1 "001010000000001"
#define IMSI2 "001010000000002"
#define IMSI3 "001010000000003"

static struct tn_ns gen[2], edge[2], nats;
static struct agentenv env[2];
static struct dp *ro[2];
static pid_t srv[NSRV] = { -1, -1, -1 };
static char ndir[160];
static const char *const node[2] = { "a", "b" };
static const char *const natsip[2] = { "198.51.100.1", "198.51.100.17" };

static const char POLICY[] =
	"version: 1\n"
	"agent:\n"
	"  pin_dir: %s\n"
	"  control_socket: %s/agent.sock\n"
	"  state_file: %s/state.json\n"
	"  audit_log: %s/audit.jsonl\n"
	"  metrics: \"off\"\n"
	"interfaces:\n"
	"  - {name: a1, role: access, mode: native}\n"
	"services:\n"
	"  - name: dns\n"
	"    rules: [{prefixes: 198.51.100.53, protocol: udp, ports: 53}]\n"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: quarantined, allow: [dns]}\n"
	"scopes:\n"
	"  - {name: cell-7, id: 7, locations: [\"ecgi:001-01-0000007\"], "
	"containment: isolate}\n"
	"  - {name: apn-internet, id: 1, pools: [192.0.2.0/24], "
	"level: normal}\n"
	"rules:\n"
	"  - name: worm\n"
	"    on: ids\n"
	"    match: {signatures: [4242]}\n"
	"    terminals: 2\n"
	"    within: 10m\n"
	"    contain: {for: 1h}\n"
	"inputs:\n"
	"  events:\n"
	"    - socket: %s/events.sock\n"
	"  radius:\n"
	"    listen: 127.0.0.1:1813\n"
	"    clients:\n"
	"      - {address: 127.0.0.1, secret: testing123}\n"
	"cluster:\n"
	"  node: %s\n"
	"  servers: [nats://%s:4301, nats://%s:4302, nats://%s:4303]\n"
	"  sync_timeout: 20s\n";

/* ---- the NATS servers ---- */

static void server_start(int i)
{
	char sd[200], log[200], port[8], cport[64], name[8];
	const char *routes = "nats://127.0.0.1:6301,nats://127.0.0.1:6302,"
			     "nats://127.0.0.1:6303";

	snprintf(sd, sizeof(sd), "%s/n%d", ndir, i + 1);
	mkdir(sd, 0700);
	snprintf(log, sizeof(log), "%s/n%d.log", ndir, i + 1);
	snprintf(port, sizeof(port), "%d", 4301 + i);
	snprintf(cport, sizeof(cport), "nats://127.0.0.1:%d", 6301 + i);
	snprintf(name, sizeof(name), "n%d", i + 1);
	srv[i] = fork();
	cr_assert_geq(srv[i], 0);
	if (srv[i] == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0 || tn_enter(&nats))
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("nats-server", "nats-server", "-a", "0.0.0.0", "-p",
		       port, "-n", name, "--cluster_name", "xcrs-test",
		       "-cluster", cport, "-routes", routes, "-js", "-sd", sd,
		       (char *)NULL);
		_exit(127);
	}
}

static void server_kill(int i)
{
	if (srv[i] > 0) {
		kill(srv[i], SIGKILL);
		waitpid(srv[i], NULL, 0);
	}
	srv[i] = -1;
}

/* ---- the edges ---- */

static void write_policy(int s)
{
	char text[8192];

	snprintf(text, sizeof(text), POLICY, env[s].pins, env[s].dir,
		 env[s].dir, env[s].dir, env[s].dir, node[s], natsip[s],
		 natsip[s], natsip[s]);
	cr_assert_eq(agenv_policy(&env[s], text), 0);
}

static void agent_start(int s)
{
	char err[8192] = "";

	cr_assert_eq(agenv_start(&env[s], &edge[s], NULL, err, sizeof(err)), 0,
		     "agent %s did not start:\n%s", node[s], err);
}

static void setup(void)
{
	if (system("command -v nats-server >/dev/null 2>&1") ||
	    system("command -v radclient >/dev/null 2>&1"))
		cr_skip_test("nats-server or radclient is not installed");
	tn_sweep();
	snprintf(ndir, sizeof(ndir), "/tmp/xcrs-t-%d-nats", getpid());
	tn_run(NULL, NULL, 0, "rm -rf %s", ndir);
	cr_assert_eq(mkdir(ndir, 0700), 0);
	cr_assert_eq(tn_ns_create(&nats, "nats"), 0);
	for (int s = 0; s < 2; s++) {
		char gname[8], ename[8], nif[4];

		snprintf(gname, sizeof(gname), "gen%s", node[s]);
		snprintf(ename, sizeof(ename), "edge%s", node[s]);
		snprintf(nif, sizeof(nif), "n%s", node[s]);
		cr_assert_eq(tn_ns_create(&gen[s], gname), 0);
		cr_assert_eq(tn_ns_create(&edge[s], ename), 0);
		for (int k = 0; k < 2; k++)
			cr_assert_eq(tn_sh(k ? &edge[s] : &gen[s],
					   "sysctl -qw "
					   "net.ipv6.conf.all.disable_ipv6=1 "
					   "net.ipv6.conf.default."
					   "disable_ipv6=1"),
				     0);
		cr_assert_eq(tn_veth(&gen[s], "gen0", &edge[s], "a1"), 0);
		cr_assert_eq(lt_prepare(&gen[s], "gen0"), 0);
		/* the edge's link to the servers */
		cr_assert_eq(tn_veth(&edge[s], "nl", &nats, nif), 0);
		cr_assert_eq(tn_sh(&nats, "ip addr add %s/28 dev %s && ip link "
				   "set %s up",
				   natsip[s], nif, nif),
			     0);
		cr_assert_eq(tn_sh(&edge[s], "ip addr add 198.51.100.%d/28 dev "
				   "nl && ip link set nl up",
				   s ? 18 : 2),
			     0);
		cr_assert_eq(agenv_init(&env[s], s ? "fleetb" : "fleeta"), 0);
		write_policy(s);
	}
	for (int i = 0; i < NSRV; i++)
		server_start(i);
	for (int s = 0; s < 2; s++)
		agent_start(s);
}

static pid_t tls_srv = -1; /* the TLS test's server */

static void tls_server_stop(void)
{
	if (tls_srv > 0) {
		kill(tls_srv, SIGKILL);
		waitpid(tls_srv, NULL, 0);
	}
	tls_srv = -1;
}

static void teardown(void)
{
	tls_server_stop();
	for (int s = 0; s < 2; s++) {
		dp_close(ro[s]);
		ro[s] = NULL;
		agenv_cleanup(&env[s]);
	}
	for (int i = 0; i < NSRV; i++) {
		if (srv[i] > 0)
			tn_run(NULL, NULL, 0, "tail -n 5 %s/n%d.log >&2",
			       ndir, i + 1);
		server_kill(i);
	}
	for (int s = 0; s < 2; s++) {
		tn_ns_destroy(&gen[s]);
		tn_ns_destroy(&edge[s]);
	}
	tn_ns_destroy(&nats);
	if (ndir[0])
		tn_run(NULL, NULL, 0, "rm -rf %s", ndir);
}

TestSuite(fleet, .init = setup, .fini = teardown, .timeout = 300);

/* radclient in edge s: Start (or Stop) of a session. */
static void radacct(int s, const char *attrs)
{
	char out[4096], path[300];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/request.txt", env[s].dir);
	f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "%s\n", attrs);
	fclose(f);
	r = tn_run(&edge[s], out, sizeof(out),
		   "radclient -q -t 1 -r 2 -f %s 127.0.0.1:1813 acct "
		   "testing123 2>&1",
		   path);
	cr_assert_eq(r, 0, "radclient at %s (%d): %s", node[s], r, out);
}

static void start(int s, const char *imsi, const char *sess, const char *v4)
{
	char a[1024];

	snprintf(a, sizeof(a),
		 "Acct-Status-Type = Start, Acct-Session-Id = \"%s\", "
		 "3GPP-IMSI = \"%s\", NAS-Identifier = \"pgw-%s\", "
		 "Called-Station-Id = \"internet\", Framed-IP-Address = %s, "
		 "3GPP-User-Location-Info = 0x8100f11000000007",
		 sess, imsi, node[s], v4);
	radacct(s, a);
}

static void stop(int s, const char *sess)
{
	char a[256];

	snprintf(a, sizeof(a),
		 "Acct-Status-Type = Stop, Acct-Session-Id = \"%s\", "
		 "NAS-Identifier = \"pgw-%s\"",
		 sess, node[s]);
	radacct(s, a);
}

/* Frames from src through edge s for 150 ms: how many passed and how
 * many were dropped. */
static void judge(int s, const char *src, uint64_t *ret_passed,
		  uint64_t *ret_dropped)
{
	struct dp_config cfg = { .pin_dir = env[s].pins };
	struct pb_frame f = { .ip = { .family = 4, .src = src,
				      .dst = "203.0.113.10",
				      .proto = IPPROTO_UDP, .sport = 40000,
				      .dport = 80, .payload = 18 } };
	uint8_t pkt[PB_MAX];
	size_t n = pb_build(&f, pkt, sizeof(pkt), NULL);
	struct livetraffic t;
	struct dp_stats a, b;
	uint64_t passed, dropped = 0;
	char err[512];
	int e;

	if (!ro[s])
		cr_assert_eq(dp_open(&cfg, &ro[s], err, sizeof(err)), 0, "%s",
			     err);
	cr_assert_eq(dp_stats_read(ro[s], &a), 0);
	cr_assert_eq(lt_start(&t, &gen[s], "gen0", pkt, n), 0);
	usleep(150000);
	lt_stop(&t, &e);
	cr_assert_eq(e, 0);
	cr_assert_eq(dp_stats_read(ro[s], &b), 0);
	passed = b.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets -
		 a.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets;
	for (int r = 0; r < XCRS_REASON_MAX; r++)
		dropped += b.c[XCRS_ACT_DROP][r].packets -
			   a.c[XCRS_ACT_DROP][r].packets;
	cr_assert(passed + dropped > 0, "no frame of %s was judged at %s", src,
		  node[s]);
	*ret_passed = passed;
	*ret_dropped = dropped;
}

/* Does any pass? All frames of the window share one fate. */
static bool passes(int s, const char *src)
{
	uint64_t passed, dropped;

	judge(s, src, &passed, &dropped);
	cr_assert(!passed || !dropped, "%s at %s: %llu passed, %llu dropped",
		  src, node[s], (unsigned long long)passed,
		  (unsigned long long)dropped);
	return passed > 0;
}

/* Polls (up to ms) until src's frames at edge s pass (want) or not. */
static bool becomes(int s, const char *src, bool want, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		uint64_t passed, dropped;

		/* a window may hold the change itself: then both */
		judge(s, src, &passed, &dropped);
		if (!(passed && dropped) && (passed > 0) == want)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
			    (t.tv_nsec - t0.tv_nsec) / 1000000 >
		    ms)
			return false;
		usleep(50000);
	}
}

static void react(int s, const char *imsi)
{
	char out[2048];

	cr_assert_eq(agenv_ctl(&env[s], out, sizeof(out),
			       "react imsi:%s --level quarantined --for 1h",
			       imsi),
		     0, "react at %s: %s", node[s], out);
}

static const char *fleet_line(int s, char *out, size_t len)
{
	char *l;

	agenv_ctl(&env[s], out, len, "status");
	l = strstr(out, "fleet:");
	return l ? l : "(no fleet line)";
}

Test(fleet, a_decision_at_a_is_enforced_at_b)
{
	char out[4096];

	start(0, IMSI1, "s1", "192.0.2.10");
	start(1, IMSI2, "s2", "192.0.2.20");
	cr_assert(passes(1, "192.0.2.20"));
	react(0, IMSI2); /* A decides on a subscriber B holds */
	cr_assert(becomes(1, "192.0.2.20", false, 3000),
		  "B does not enforce A's decision: %s",
		  fleet_line(1, out, sizeof(out)));
	cr_assert(passes(0, "192.0.2.10"), "A's own subscriber is normal");
	/* xcrsctl show at B answers for a subscriber A holds */
	cr_assert_eq(agenv_ctl(&env[1], out, sizeof(out), "show imsi:%s",
			       IMSI1),
		     0, "%s", out);
	cr_assert(strstr(out, "node a holds session s1"), "%s", out);
	/* released at B: ended on every node */
	cr_assert_eq(agenv_ctl(&env[1], out, sizeof(out), "release imsi:%s",
			       IMSI2),
		     0, "%s", out);
	cr_assert(becomes(1, "192.0.2.20", true, 3000));
	cr_assert(agenv_ctl_until(&env[0], "decision:    none",
				  "show imsi:%s", IMSI2));
	cr_assert_eq(agenv_ctl(&env[0], out, sizeof(out), "show imsi:%s",
			       IMSI2),
		     0);
	cr_assert_null(strstr(out, "fleet:       node a:"), "%s", out);
}

/* Does edge s's export of its decisions hold text (within ms)? */
static bool export_has(int s, const char *text, bool want, int ms)
{
	char out[8192];

	for (int t = 0; t <= ms; t += 100) {
		cr_assert_eq(agenv_ctl(&env[s], out, sizeof(out), "export"), 0,
			     "%s", out);
		if (!!strstr(out, text) == want)
			return true;
		usleep(100000);
	}
	return false;
}

Test(fleet, an_operator_s_prefix_decision_holds_at_every_node)
{
	char out[4096];

	start(1, IMSI2, "s2", "192.0.2.20");
	cr_assert(passes(1, "192.0.2.100"));
	cr_assert_eq(agenv_ctl(&env[0], out, sizeof(out),
			       "react 192.0.2.96/28 --level quarantined "
			       "--for 1h --reason 'a botnet range'"),
		     0, "%s", out);
	/* B holds every address of it without an entry of its own */
	cr_assert(becomes(1, "192.0.2.100", false, 3000),
		  "B does not enforce A's prefix decision: %s",
		  fleet_line(1, out, sizeof(out)));
	cr_assert(passes(1, "192.0.2.20"), "a session outside it is normal");
	cr_assert(export_has(1, "\"node\":\"a\"", true, 0));
	/* released at B: ended at A too */
	cr_assert_eq(agenv_ctl(&env[1], out, sizeof(out),
			       "release 192.0.2.96/28"),
		     0, "%s", out);
	cr_assert(becomes(1, "192.0.2.100", true, 3000));
	cr_assert(export_has(0, "192.0.2.96/28", false, 3000),
		  "A still holds the prefix decision B released");
	/* and one made at B reaches A */
	cr_assert_eq(agenv_ctl(&env[1], out, sizeof(out),
			       "react 192.0.2.96/28 --level quarantined"),
		     0, "%s", out);
	cr_assert(becomes(0, "192.0.2.100", false, 3000));
}

Test(fleet, a_subscriber_quarantined_at_a_is_dropped_at_b_from_its_first_packet)
{
	start(0, IMSI1, "s1", "192.0.2.10");
	react(0, IMSI1);
	cr_assert(becomes(0, "192.0.2.10", false, 2000));
	/* B learns of the decision before the subscriber arrives */
	cr_assert(agenv_ctl_until(&env[1], "node a: quarantined", "show imsi:%s",
				  IMSI1));
	/* it moves: Stop at A, Start at B with another address */
	stop(0, "s1");
	start(1, IMSI1, "s1b", "192.0.2.30");
	cr_assert(!passes(1, "192.0.2.30"),
		  "its first packets at B passed");
	/* and A's address is someone else's now: it starts clean */
	start(0, IMSI3, "s3", "192.0.2.10");
	cr_assert(passes(0, "192.0.2.10"));
}

static void alert(int s, const char *src)
{
	char path[300], line[256];

	snprintf(path, sizeof(path), "%s/events.sock", env[s].dir);
	snprintf(line, sizeof(line),
		 "{\"terminal\": \"%s\", \"severity\": 1, \"signature_id\": "
		 "4242, \"signature\": \"worm\"}\n",
		 src);
	cr_assert_eq(tn_unix_write(path, line), 0);
}

Test(fleet, terminals_of_one_cell_at_two_nodes_contain_it_at_both)
{
	char out[4096];

	start(0, IMSI1, "s1", "192.0.2.10");
	start(1, IMSI2, "s2", "192.0.2.20");
	alert(0, "192.0.2.10");
	/* one terminal of cell-7: below the threshold everywhere */
	usleep(500000);
	cr_assert_eq(agenv_ctl(&env[1], out, sizeof(out), "status"), 0);
	cr_assert(strstr(out, "cell-7           none"), "%s", out);
	alert(1, "192.0.2.20");
	for (int s = 0; s < 2; s++)
		cr_assert(agenv_ctl_until(&env[s], "cell-7           isolate",
					  "status"),
			  "cell-7 not contained at %s", node[s]);
	/* one record of it in the bucket, the same rule at both */
	for (int s = 0; s < 2; s++) {
		cr_assert_eq(agenv_ctl(&env[s], out, sizeof(out), "status"), 0);
		cr_assert(strstr(out, "(worm)"), "%s", out);
	}
}

Test(fleet, a_nats_server_killed_under_traffic_changes_nothing)
{
	struct pb_frame f = { .ip = { .family = 4, .src = "192.0.2.20",
				      .dst = "203.0.113.10",
				      .proto = IPPROTO_UDP, .sport = 40000,
				      .dport = 80, .payload = 18 } };
	uint8_t pkt[PB_MAX];
	size_t n = pb_build(&f, pkt, sizeof(pkt), NULL);
	struct livetraffic t;
	char out[4096];
	int e;

	start(0, IMSI1, "s1", "192.0.2.10");
	start(1, IMSI2, "s2", "192.0.2.20");
	react(0, IMSI2);
	cr_assert(becomes(1, "192.0.2.20", false, 3000));
	/* traffic of the quarantined subscriber runs while a server dies */
	cr_assert_eq(lt_start(&t, &gen[1], "gen0", pkt, n), 0);
	server_kill(0);
	usleep(300000);
	lt_stop(&t, &e);
	cr_assert_eq(e, 0);
	cr_assert(!passes(1, "192.0.2.20"));
	/* the two left keep the fleet: a new decision still gets across */
	react(1, IMSI1);
	/* the servers elect new leaders for what the dead one led, and the
	 * node's watcher is made again: seconds */
	cr_assert(becomes(0, "192.0.2.10", false, 20000),
		  "A does not enforce B's decision after a server was lost: "
		  "%s",
		  fleet_line(0, out, sizeof(out)));
	cr_assert(!passes(1, "192.0.2.20"));
}

Test(fleet, a_node_restarted_loads_the_bucket_before_it_is_ready)
{
	char out[2048];

	start(0, IMSI1, "s1", "192.0.2.10");
	start(1, IMSI2, "s2", "192.0.2.20");
	cr_assert(passes(1, "192.0.2.20"));
	cr_assert_eq(agenv_ctl(&env[0], out, sizeof(out),
			       "react 192.0.2.96/28 --level quarantined"),
		     0, "%s", out);
	cr_assert(becomes(1, "192.0.2.100", false, 3000));
	agenv_stop(&env[1], SIGTERM);
	/* decided and released while B is down (its state file still
	 * holds the prefix decision) */
	react(0, IMSI2);
	cr_assert_eq(agenv_ctl(&env[0], out, sizeof(out),
			       "release 192.0.2.96/28"),
		     0, "%s", out);
	agent_start(1);
	/* ready means loaded: no waiting */
	cr_assert(!passes(1, "192.0.2.20"), "B passed it after its restart");
	cr_assert(passes(1, "192.0.2.100"),
		  "B kept a prefix decision released while it was down");
}

Test(fleet, a_node_cut_off_keeps_enforcing_and_catches_up)
{
	char out[4096];

	start(0, IMSI1, "s1", "192.0.2.10");
	start(1, IMSI2, "s2", "192.0.2.20");
	react(0, IMSI2);
	cr_assert(becomes(1, "192.0.2.20", false, 3000));
	cr_assert_eq(tn_sh(&edge[1], "ip link set nl down"), 0);
	/* B keeps what it has (fail closed) and decides on its own */
	react(1, IMSI1);
	react(0, IMSI3);
	usleep(500000);
	cr_assert(!passes(1, "192.0.2.20"));
	cr_assert(passes(0, "192.0.2.10"), "B's decision reached A cut off");
	cr_assert_eq(tn_sh(&edge[1], "ip link set nl up"), 0);
	/* reconnected: B's decision goes out, A's comes in */
	cr_assert(becomes(0, "192.0.2.10", false, 15000),
		  "B's decision did not reach A after the cut: %s",
		  fleet_line(1, out, sizeof(out)));
	cr_assert(agenv_ctl_until(&env[1], "node a: quarantined",
				  "show imsi:%s", IMSI3),
		  "A's decision did not reach B after the cut: %s",
		  fleet_line(1, out, sizeof(out)));
	cr_assert(!passes(1, "192.0.2.20"));
}

/* ---- TLS: a server that asks for a client certificate ---- */

/* A CA, a certificate for the server (198.51.100.1) and one for node a,
 * in ndir; then a standalone JetStream server on 4310 that verifies
 * clients against the CA. */
static void tls_server_start(void)
{
	char out[4096], sd[200], log[200], crt[200], key[200], ca[200];

	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "cd %s && "
			    "openssl req -x509 -newkey ec -pkeyopt "
			    "ec_paramgen_curve:P-256 -nodes -keyout ca.key "
			    "-out ca.crt -days 1 -subj /CN=xcrs-test-ca && "
			    "printf 'subjectAltName=IP:198.51.100.1,"
			    "DNS:198.51.100.1\\n' > srv.ext && "
			    "for n in srv a; do "
			    "openssl req -newkey ec -pkeyopt "
			    "ec_paramgen_curve:P-256 -nodes -keyout $n.key "
			    "-out $n.csr -subj /CN=$n && "
			    "openssl x509 -req -in $n.csr -CA ca.crt -CAkey "
			    "ca.key -CAcreateserial -days 1 -out $n.crt "
			    "$( [ $n = srv ] && echo -extfile srv.ext ) "
			    "|| exit 1; done 2>&1",
			    ndir),
		     0, "%s", out);
	snprintf(sd, sizeof(sd), "%s/tls", ndir);
	snprintf(log, sizeof(log), "%s/tls.log", ndir);
	snprintf(crt, sizeof(crt), "%s/srv.crt", ndir);
	snprintf(key, sizeof(key), "%s/srv.key", ndir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", ndir);
	mkdir(sd, 0700);
	tls_srv = fork();
	cr_assert_geq(tls_srv, 0);
	if (tls_srv == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0 || tn_enter(&nats))
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("nats-server", "nats-server", "-a", "0.0.0.0", "-p",
		       "4310", "-n", "tls1", "-js", "-sd", sd, "--tls",
		       "--tlscert", crt, "--tlskey", key, "--tlscacert", ca,
		       "--tlsverify", (char *)NULL);
		_exit(127);
	}
}

/* Node a's policy with the TLS server only (with its own certificate or
 * without one), a short wait for the buckets. */
static void tls_policy(bool with_cert, int replicas)
{
	char text[8192], *c;
	int n;

	snprintf(text, sizeof(text), POLICY, env[0].pins, env[0].dir,
		 env[0].dir, env[0].dir, env[0].dir, node[0], natsip[0],
		 natsip[0], natsip[0]);
	c = strstr(text, "cluster:\n");
	cr_assert(c);
	n = snprintf(c, sizeof(text) - (size_t)(c - text),
		     "cluster:\n"
		     "  node: a\n"
		     "  servers: [tls://198.51.100.1:4310]\n"
		     "  ca: %s/ca.crt\n"
		     "  replicas: %d\n"
		     "  sync_timeout: 5s\n",
		     ndir, replicas);
	if (with_cert)
		snprintf(c + n, sizeof(text) - (size_t)(c - text) - (size_t)n,
			 "  cert: %s/a.crt\n  key: %s/a.key\n", ndir, ndir);
	cr_assert_eq(agenv_policy(&env[0], text), 0);
}

Test(fleet, a_node_joins_over_tls_with_its_certificate_and_not_without)
{
	char out[4096], err[8192] = "";

	tls_server_start();
	agenv_stop(&env[0], SIGTERM);
	/* no client certificate: the server refuses it, the start fails
	 * after sync_timeout and says why */
	tls_policy(false, 1);
	cr_assert_neq(agenv_start(&env[0], &edge[0], NULL, err, sizeof(err)),
		      0, "a node without a certificate joined");
	cr_assert(strstr(err, "cluster: no server answered"), "%s", err);
	/* with it, but 3 replicas asked of a single server: refused, and
	 * the start says why */
	tls_policy(true, 3);
	cr_assert_neq(agenv_start(&env[0], &edge[0], NULL, err, sizeof(err)),
		      0, "3 replicas on one server");
	cr_assert(strstr(err, "replicas > 1 not supported"), "%s", err);
	/* with it: joined, loaded, and its decisions written there */
	tls_policy(true, 1);
	agent_start(0);
	cr_assert(strstr(fleet_line(0, out, sizeof(out)), "synced"), "%s",
		  out);
	start(0, IMSI1, "s1", "192.0.2.10");
	react(0, IMSI1);
	cr_assert(agenv_ctl_until(&env[0], "1 decision key(s)", "status"),
		  "%s", fleet_line(0, out, sizeof(out)));
	tls_server_stop();
}
