// SPDX-License-Identifier: GPL-2.0-only
/*
 * Roaming between two SCS sites (X.1125 13), with real packets:
 *
 *   term 192.0.2.10 ─(ta)──(a1) edge A: xcrs-agent scs-a ─(pa)─┐
 *                  └(tb)──(b1) edge B: xcrs-agent scs-b ─(pb)─┘ 198.51.100.0/24
 *
 * Each edge answers "web" on 203.0.113.10:80 itself. The terminal is
 * quarantined at site A, moves to site B (its link to A goes down, the one
 * to B up), and stays quarantined there: B asks A, A hands the control
 * over and lets the terminal go. A clean report at B releases it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "netns.h"

#define AGENT XCRS_BUILDDIR "/agent/xcrs-agent"
#define CTL XCRS_BUILDDIR "/agent/xcrsctl"
#define TERMINAL XCRS_BUILDDIR "/agent/xcrs-terminal"
#define PEER_KEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static struct tn_ns term, edge[2];
static char dir[128], pins[2][256];
static pid_t agent[2] = { -1, -1 };
static int web[2] = { -1, -1 };
static const char *const sid[2] = { "scs-a", "scs-b" };
static const char *const acc[2] = { "a1", "b1" };
static const char *const tif[2] = { "ta", "tb" };
static const char *const inter[2] = { "198.51.100.1", "198.51.100.2" };

static const char POLICY[] =
	"version: 1\n"
	"agent:\n"
	"  pin_dir: %s\n"
	"  control_socket: %s/%s.sock\n"
	"  state_file: %s/%s.state.json\n"
	"  audit_log: %s/%s.audit.jsonl\n"
	"interfaces:\n"
	"  - {name: %s, role: access, mode: native-or-generic}\n"
	"services:\n"
	"  - name: crs\n"
	"    rules: [{prefixes: 192.0.2.1, protocol: tcp, ports: 7443}]\n"
	"  - name: web\n"
	"    rules: [{prefixes: 203.0.113.0/24, protocol: tcp, ports: 80}]\n"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: quarantined, allow: [crs]}\n"
	"scopes:\n"
	"  - {name: cell, id: 1, pools: 192.0.2.0/28, level: normal}\n"
	"inputs:\n"
	"  reports:\n"
	"    listen: \"*:7443\"\n"
	"    cert: %s/server.crt\n"
	"    key: %s/server.key\n"
	"    keys: %s/keys\n"
	"scs:\n"
	"  id: %s\n"
	"  ca: %s/server.crt\n"
	"  peers:\n"
	"    - {id: %s, address: \"%s:7443\", key: " PEER_KEY "}\n"
	"ms: {detect: true, idle_timeout: 1h}\n"
	"rules:\n"
	"  - name: infected-report\n"
	"    on: report\n"
	"    match: {status: infected}\n"
	"    react: {level: quarantined, for: 1h}\n"
	"    release_on_clean: true\n";

static int ctl(int s, char *out, size_t len, const char *args)
{
	return tn_run(NULL, out, len, CTL " -s %s/%s.sock %s", dir, sid[s],
		      args);
}

static void start(int s)
{
	char path[300], log[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.yaml", dir, sid[s]);
	f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, POLICY, pins[s], dir, sid[s], dir, sid[s], dir, sid[s],
		acc[s], dir, dir, dir, sid[s], dir, sid[!s], inter[!s]);
	fclose(f);
	snprintf(log, sizeof(log), "%s/%s.log", dir, sid[s]);
	agent[s] = fork();
	cr_assert_geq(agent[s], 0);
	if (agent[s] == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0 || tn_enter(&edge[s]))
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(AGENT, AGENT, "-c", path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		if (ctl(s, NULL, 0, "status") == 0)
			return;
		usleep(50000);
	}
	cr_assert_fail("agent %s did not start", sid[s]);
}

static void setup(void)
{
	char out[2048];

	tn_sweep();
	snprintf(dir, sizeof(dir), "/tmp/xcrs-t-%d-roam", getpid());
	tn_run(NULL, NULL, 0, "rm -rf %s", dir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(tn_ns_create(&term, "term"), 0);
	for (int s = 0; s < 2; s++) {
		char name[16];
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons(80) };
		int one = 1;

		snprintf(name, sizeof(name), "edge%d", s);
		tn_pin_dir(pins[s], sizeof(pins[s]), sid[s]);
		tn_rm_pins(pins[s]);
		cr_assert_eq(tn_ns_create(&edge[s], name), 0);
		cr_assert_eq(tn_veth(&edge[s], acc[s], &term, tif[s]), 0);
		cr_assert_eq(tn_sh(&edge[s],
				   "ip addr add 192.0.2.1/32 dev %s && "
				   "ip link set %s up && "
				   "ip route add 192.0.2.10/32 dev %s && "
				   "ip addr add 203.0.113.10/32 dev lo",
				   acc[s], acc[s], acc[s]),
			     0);
		web[s] = tn_socket(&edge[s], AF_INET,
				   SOCK_STREAM | SOCK_NONBLOCK, 0);
		cr_assert_geq(web[s], 0);
		inet_pton(AF_INET, "203.0.113.10", &sa.sin_addr);
		setsockopt(web[s], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		cr_assert_eq(bind(web[s], (struct sockaddr *)&sa, sizeof(sa)), 0);
		cr_assert_eq(listen(web[s], 64), 0);
	}
	cr_assert_eq(tn_veth(&edge[0], "pa", &edge[1], "pb"), 0);
	cr_assert_eq(tn_sh(&edge[0], "ip addr add 198.51.100.1/24 dev pa && "
				     "ip link set pa up"),
		     0);
	cr_assert_eq(tn_sh(&edge[1], "ip addr add 198.51.100.2/24 dev pb && "
				     "ip link set pb up"),
		     0);
	/* The terminal starts at site A. */
	cr_assert_eq(tn_sh(&term, "ip addr add 192.0.2.10/32 dev ta && "
				  "ip addr add 192.0.2.10/32 dev tb && "
				  "ip link set ta up && "
				  "ip route add 192.0.2.1/32 dev ta && "
				  "ip route add default via 192.0.2.1 dev ta"),
		     0);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "openssl req -x509 -newkey ec -pkeyopt "
			    "ec_paramgen_curve:P-256 -nodes -keyout "
			    "%s/server.key -out %s/server.crt -days 1 -subj "
			    "/CN=xcrs-test -addext subjectAltName=IP:192.0.2.1,"
			    "IP:198.51.100.1,IP:198.51.100.2",
			    dir, dir),
		     0, "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "sh -c 'umask 077; echo t1 192.0.2.10 "
			    "$(openssl rand -hex 32) > %s/keys'",
			    dir),
		     0, "%s", out);
	start(0);
	start(1);
}

static void teardown(void)
{
	char out[8192] = "";

	for (int s = 0; s < 2; s++) {
		if (agent[s] > 0) {
			kill(agent[s], SIGTERM);
			waitpid(agent[s], NULL, 0);
		}
		agent[s] = -1;
		tn_run(NULL, out, sizeof(out), "tail -n 15 %s/%s.log", dir,
		       sid[s]);
		cr_log_info("%s log:\n%s", sid[s], out);
		if (web[s] >= 0)
			close(web[s]);
		web[s] = -1;
		tn_ns_destroy(&edge[s]);
		tn_rm_pins(pins[s]);
	}
	tn_ns_destroy(&term);
	tn_run(NULL, NULL, 0, "rm -rf %s", dir);
}

/* Whether the terminal gets a TCP connection to the web within 500 ms. */
static bool reach(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
	int fd = tn_socket(&term, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t el = sizeof(err);
	bool ok;

	cr_assert_geq(fd, 0);
	inet_pton(AF_INET, "203.0.113.10", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS)
		cr_assert_fail("connect: %s", strerror(errno));
	ok = poll(&p, 1, 500) == 1 &&
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err;
	close(fd);
	for (int s = 0; s < 2; s++) {
		int a = accept(web[s], NULL, NULL);

		if (a >= 0)
			close(a);
	}
	return ok;
}

static int report(const char *args, char *out, size_t len)
{
	return tn_run(&term, out, len,
		      TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
			       "--id t1 --key-file %s/keys %s",
		      dir, dir, args);
}

TestSuite(roaming, .init = setup, .fini = teardown, .timeout = 120);

Test(roaming, quarantine_follows_the_ms_to_the_other_site)
{
	char out[4096];
	bool blocked = false;

	cr_assert(reach(), "the terminal cannot reach the web at site A");
	cr_assert_eq(report("threat Android.Worm.X", out, sizeof(out)), 0, "%s",
		     out);
	cr_expect(strstr(out, "level=quarantined"), "%s", out);
	cr_expect_not(reach(), "quarantined at A");

	/* The move: the link to A goes down, the one to B comes up. */
	cr_assert_eq(tn_sh(&term, "ip link set ta down && "
				  "ip link set tb up && "
				  "ip route add 192.0.2.1/32 dev tb && "
				  "ip route add default via 192.0.2.1 dev tb"),
		     0);
	/* Its first packets at B make B ask A; from then on it is held. */
	for (int i = 0; i < 20 && !blocked; i++) {
		blocked = !reach();
		if (!blocked)
			usleep(100000);
	}
	cr_assert(blocked, "the quarantine did not follow the MS to B");
	usleep(300000);
	cr_expect_not(reach(), "still quarantined at B");
	cr_assert_eq(ctl(1, out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "192.0.2.10") && strstr(out, "handover"), "%s",
		  out);
	cr_assert_eq(ctl(0, out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "192.0.2.10") == NULL,
		  "A still controls the MS that left:\n%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s/scs-a.audit.jsonl",
			    dir),
		     0);
	cr_expect(strstr(out, "\"cause\":\"moved\"") != NULL, "%s", out);

	/* At B its clean report releases it. */
	cr_assert_eq(report("clean", out, sizeof(out)), 0, "%s", out);
	cr_expect(reach(), "released at B by a clean report");
}

/* An MS that no peer holds control of arrives as a new one. */
Test(roaming, unknown_ms_arrives_uncontrolled)
{
	char out[4096];

	cr_assert_eq(tn_sh(&term, "ip link set ta down && "
				  "ip link set tb up && "
				  "ip route add 192.0.2.1/32 dev tb && "
				  "ip route add default via 192.0.2.1 dev tb"),
		     0);
	cr_assert(reach());
	usleep(500000);
	cr_expect(reach());
	cr_assert_eq(ctl(1, out, sizeof(out), "ms"), 0);
	cr_expect(strstr(out, "192.0.2.10") != NULL, "%s", out);
	cr_assert_eq(ctl(1, out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "no terminal has a reaction") != NULL, "%s", out);
}

/*
 * A reload that removes the peer list while a question to a peer is in
 * flight (the peer is stopped, so the question waits for its timeout): the
 * question ends with the copy of the peer it was sent with, and the agent
 * goes on. Before the questions carried copies, the worker read the freed
 * policy and the loop indexed the new, empty peer list.
 */
Test(roaming, reload_removing_peers_while_a_question_is_in_flight)
{
	char out[8192], path[300];
	bool asked = false;

	snprintf(path, sizeof(path), "%s/%s.yaml", dir, sid[1]);
	/* A accepts TCP (the kernel does) but never answers TLS. */
	cr_assert_eq(kill(agent[0], SIGSTOP), 0);
	cr_assert_eq(tn_sh(&term, "ip link set ta down && "
				  "ip link set tb up && "
				  "ip route add 192.0.2.1/32 dev tb && "
				  "ip route add default via 192.0.2.1 dev tb"),
		     0);
	reach(); /* B sees the MS and asks A */
	for (int i = 0; i < 40 && !asked; i++) {
		reach();
		asked = tn_run(NULL, NULL, 0,
			       "grep -q 'MS 192.0.2.10 connected' %s/%s.log",
			       dir, sid[1]) == 0;
		if (!asked)
			usleep(50000);
	}
	cr_assert(asked, "B did not see the MS");
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "sed -i '/^  peers:/{N;d}' %s", path),
		     0, "%s", out);
	cr_assert_eq(ctl(1, out, sizeof(out), "reload"), 0, "%s", out);
	/* The question times out (3 s) and comes back to the loop. */
	sleep(4);
	kill(agent[0], SIGCONT);
	cr_assert_eq(ctl(1, out, sizeof(out), "status"), 0,
		     "agent B is gone after the reload: %s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "grep -c 'peer scs-a not asked' %s/%s.log", dir,
			    sid[1]),
		     0, "the question in flight never ended: %s", out);
	/* The new policy has no peers: a second MS connect asks nobody. */
	cr_assert_eq(ctl(1, out, sizeof(out), "ms"), 0);
	cr_expect(strstr(out, "192.0.2.10") != NULL, "%s", out);
}
