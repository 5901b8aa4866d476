// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-agent end to end, with real traffic. Each test builds:
 *
 *   t1 192.0.2.10 ─(a1)─┐
 *   t2 192.0.2.11 ─(a2)─┤ edge 192.0.2.1 ─(s0)── srv 203.0.113.10 (web)
 *   t3 192.0.2.12 ─(a3)─┘       xcrs-agent      198.51.100.80 (remediation)
 *
 * starts the real xcrs-agent in the edge namespace with the policy below,
 * drives it with xcrs-terminal, EVE lines, scans and xcrsctl, and checks
 * what gets through with TCP connections from the terminals' namespaces.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "authenv.h"
#include "netns.h"

#define AGENT XCRS_BUILDDIR "/agent/xcrs-agent"
#define CTL XCRS_BUILDDIR "/agent/xcrsctl"
#define TERMINAL XCRS_BUILDDIR "/agent/xcrs-terminal"

static struct tn_ns t[3], edge, srv;
static char dir[128], pins[256], policy_path[256], sock[256];
static pid_t agent = -1;
static int web_l = -1, rem_l = -1;
static const char *const taddr[3] = {"192.0.2.10", "192.0.2.11",
				     "192.0.2.12"};

static const char POLICY[] =
	"version: 1\n"
	"agent:\n"
	"  pin_dir: %s\n"
	"  control_socket: %s/agent.sock\n"
	"  state_file: %s/state.json\n"
	"  audit_log: %s/audit.jsonl\n"
	"interfaces:\n"
	"  - {name: a1, role: access, mode: native-or-generic}\n"
	"  - {name: a2, role: access, mode: native-or-generic}\n"
	"  - {name: a3, role: access, mode: native-or-generic}\n"
	"services:\n"
	"  - name: crs\n"
	"    rules: [{prefixes: 192.0.2.1, protocol: tcp, ports: 7443}]\n"
	"  - name: remediation\n"
	"    remediation: true\n"
	"    rules: [{prefixes: 198.51.100.80, protocol: tcp, ports: 80}]\n"
	"  - name: web\n"
	"    rules: [{prefixes: 203.0.113.0/24, protocol: tcp, ports: 80}]\n"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: restricted, allow: [crs, remediation, web]}\n"
	"  - {name: quarantined, allow: [crs, remediation]}\n"
	"scopes:\n"
	"  - {name: cell-a, id: 1, pools: 192.0.2.0/28, level: normal,\n"
	"     containment: isolate, isolate_allow: [crs, remediation]}\n"
	"inputs:\n"
	"  reports:\n"
	"    listen: \"192.0.2.1:7443\"\n"
	"    cert: %s/server.crt\n"
	"    key: %s/server.key\n"
	"    keys: %s/keys\n"
	"    max_skew: 60s\n"
	"%s"
	"  eve:\n"
	"    - file: %s/eve.json\n"
	"    - socket: %s/eve.sock\n"
	"  events:\n"
	"    - socket: %s/events.sock\n"
	"fanout: {threshold: 12, window: 10s}\n"
	"rules:\n"
	"  - name: infected-report\n"
	"    on: report\n"
	"    match: {status: infected}\n"
	"    react: {level: quarantined, for: 1h}\n"
	"    release_on_clean: true\n"
	"  - name: ids-repeated\n"
	"    on: ids\n"
	"    match: {severity_at_most: 2}\n"
	"    count: 2\n"
	"    within: 5m\n"
	"    react: {level: quarantined, for: 30m}\n"
	"  - name: outbreak\n"
	"    on: ids\n"
	"    match: {severity_at_most: 1}\n"
	"    terminals: 3\n"
	"    within: 10m\n"
	"    contain: {for: 1h}\n"
	"%s"
	"  - name: scanner\n"
	"    on: fanout\n"
	"    react: {level: quarantined, for: 30m}\n";

/* Lines added to inputs.reports (the authsrv section), to the outbreak
 * rule. */
static char reports_extra[1024], outbreak_extra[512];

static void write_policy(const char *extra)
{
	FILE *f = fopen(policy_path, "w");

	cr_assert(f);
	fprintf(f, POLICY, pins, dir, dir, dir, dir, dir, dir, reports_extra,
		dir, dir, dir, outbreak_extra);
	if (extra)
		fputs(extra, f);
	fclose(f);
}

static int ctl(char *out, size_t len, const char *args)
{
	return tn_run(NULL, out, len, CTL " -s %s %s", sock, args);
}

static void start_agent(void)
{
	char log[300];
	int fd;

	snprintf(log, sizeof(log), "%s/agent.log", dir);
	agent = fork();
	cr_assert_geq(agent, 0);
	if (agent == 0) {
		/* the agent outlives its parent by design; not in a test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || tn_enter(&edge))
			_exit(127);
		dup2(fd, 2);
		dup2(fd, 1);
		execl(AGENT, AGENT, "-c", policy_path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		int st;

		if (ctl(NULL, 0, "status") == 0)
			return;
		if (waitpid(agent, &st, WNOHANG) == agent) {
			char buf[4096] = "";

			tn_run(NULL, buf, sizeof(buf), "cat %s", log);
			agent = -1;
			cr_assert_fail("the agent exited at start:\n%s", buf);
		}
		usleep(50000);
	}
	cr_assert_fail("the agent did not answer on %s", sock);
}

static void stop_agent(int sig)
{
	if (agent > 0) {
		kill(agent, sig);
		waitpid(agent, NULL, 0);
	}
	agent = -1;
}

static int listener(const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	int one = 1,
	    fd = tn_socket(&srv, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "bind %s: %s", addr, strerror(errno));
	cr_assert_eq(listen(fd, 64), 0);
	return fd;
}

static void setup(void)
{
	static const char *const ifs[3] = {"a1", "a2", "a3"};
	char out[2048];

	tn_sweep();
	snprintf(dir, sizeof(dir), "/tmp/xcrs-t-%d-agent", getpid());
	tn_run(NULL, NULL, 0, "rm -rf %s", dir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	tn_pin_dir(pins, sizeof(pins), "agent");
	tn_rm_pins(pins);
	snprintf(policy_path, sizeof(policy_path), "%s/policy.yaml", dir);
	snprintf(sock, sizeof(sock), "%s/agent.sock", dir);

	cr_assert_eq(tn_ns_create(&edge, "edge"), 0);
	cr_assert_eq(tn_ns_create(&srv, "srv"), 0);
	cr_assert_eq(tn_sh(&edge, "sysctl -qw net.ipv4.ip_forward=1"), 0);
	for (int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "t%d", i + 1);
		cr_assert_eq(tn_ns_create(&t[i], name), 0);
		cr_assert_eq(tn_veth(&edge, ifs[i], &t[i], "eth0"), 0);
		cr_assert_eq(tn_sh(&edge,
				   "ip addr add 192.0.2.1/32 dev %s && "
				   "ip link set %s up && "
				   "ip route add %s/32 dev %s",
				   ifs[i], ifs[i], taddr[i], ifs[i]),
			     0);
		cr_assert_eq(tn_sh(&t[i],
				   "ip addr add %s/32 dev eth0 && "
				   "ip link set eth0 up && "
				   "ip route add 192.0.2.1/32 dev eth0 && "
				   "ip route add default via 192.0.2.1",
				   taddr[i]),
			     0);
	}
	cr_assert_eq(tn_veth(&edge, "s0", &srv, "eth0"), 0);
	cr_assert_eq(tn_sh(&edge, "ip addr add 198.51.100.1/24 dev s0 && "
				  "ip addr add 203.0.113.1/24 dev s0 && "
				  "ip link set s0 up"),
		     0);
	cr_assert_eq(tn_sh(&srv, "ip addr add 198.51.100.80/24 dev eth0 && "
				 "ip addr add 203.0.113.10/24 dev eth0 && "
				 "ip link set eth0 up && "
				 "ip route add default via 198.51.100.1"),
		     0);
	web_l = listener("203.0.113.10", 80);
	rem_l = listener("198.51.100.80", 80);

	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			 "openssl req -x509 -newkey ec -pkeyopt "
			 "ec_paramgen_curve:P-256 -nodes -keyout %s/server.key "
			 "-out %s/server.crt -days 1 -subj /CN=xcrs-test "
			 "-addext subjectAltName=IP:192.0.2.1",
			 dir, dir),
		     0, "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			 "sh -c 'umask 077; for i in 1 2 3; do "
			 "echo t$i 192.0.2.1$((i-1)) $(openssl rand -hex 32); "
			 "done > %s/keys'",
			 dir),
		     0, "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "touch %s/eve.json", dir), 0);
	write_policy(NULL);
	start_agent();
}

static struct authenv aenv;

static void teardown(void)
{
	char out[8192] = "";

	stop_agent(SIGTERM);
	if (aenv.dir[0])
		ae_teardown(&aenv);
	reports_extra[0] = '\0';
	outbreak_extra[0] = '\0';
	if (criterion_current_test->data) {
		/* nothing */
	}
	tn_run(NULL, out, sizeof(out), "tail -n 30 %s/agent.log", dir);
	cr_log_info("agent log:\n%s", out);
	if (web_l >= 0)
		close(web_l);
	if (rem_l >= 0)
		close(rem_l);
	web_l = rem_l = -1;
	for (int i = 0; i < 3; i++)
		tn_ns_destroy(&t[i]);
	tn_ns_destroy(&edge);
	tn_ns_destroy(&srv);
	tn_rm_pins(pins);
	tn_run(NULL, NULL, 0, "rm -rf %s", dir);
}

/* Whether terminal i gets a TCP connection to addr:80 within 600 ms. */
static bool reach(int i, const char *addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
	int fd = tn_socket(&t[i], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int err = 0;
	socklen_t el = sizeof(err);
	bool ok;

	cr_assert_geq(fd, 0);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS)
		cr_assert_fail("connect: %s", strerror(errno));
	ok = poll(&p, 1, 600) == 1 &&
	     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && !err;
	close(fd);
	/* take the accepted connection away so the backlog never fills */
	for (int l = 0; l < 2; l++) {
		int a = accept(l ? rem_l : web_l, NULL, NULL);

		if (a >= 0)
			close(a);
	}
	return ok;
}

#define WEB "203.0.113.10"
#define REMEDIATION "198.51.100.80"

static int terminal(int i, char *out, size_t len, const char *args)
{
	return tn_run(&t[i], out, len,
		   TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
			    "--id t%d --key-file %s/keys %s",
		   dir, i + 1, dir, args);
}

/* Polls `xcrsctl cmd` until its output contains want (5 s). */
static bool ctl_until(const char *cmd, const char *want, char *out,
		      size_t len)
{
	for (int i = 0; i < 100; i++) {
		if (ctl(out, len, cmd) == 0 && strstr(out, want))
			return true;
		usleep(50000);
	}
	return false;
}

TestSuite(agent, .init = setup, .fini = teardown, .timeout = 120);

Test(agent, report_quarantines_then_clean_report_releases)
{
	char out[4096];

	cr_assert(reach(0, WEB), "t1 cannot reach the web before anything");
	cr_assert_eq(terminal(0, out, sizeof(out),
			      "threat Worm.X --severity 1 --signature 7"),
		     0, "%s", out);
	cr_expect(strstr(out, "response evaluation=infected level=quarantined"),
		  "%s", out);
	cr_expect(strstr(out, "remediation: remediation 198.51.100.80/32 tcp 80"),
		  "%s", out);
	cr_expect_not(reach(0, WEB), "quarantined t1 still reaches the web");
	cr_expect(reach(0, REMEDIATION), "t1 cannot reach remediation");
	cr_expect(reach(1, WEB), "t2 lost the web with t1");
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "192.0.2.10") && strstr(out, "quarantined") &&
			  strstr(out, "infected-report"),
		  "%s", out);

	cr_assert_eq(terminal(0, out, sizeof(out), "clean"), 0, "%s", out);
	cr_expect(strstr(out, "response evaluation=clean level=normal"), "%s",
		  out);
	cr_expect(reach(0, WEB), "t1 still blocked after its clean report");
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "no terminal has a reaction"), "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s/audit.jsonl", dir), 0);
	cr_expect(strstr(out, "\"event\":\"react\"") &&
			  strstr(out, "\"event\":\"release\""),
		  "%s", out);
}

Test(agent, forged_reports_change_nothing)
{
	char out[4096];

	cr_assert_eq(tn_run(&t[0], out, sizeof(out),
			 TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
				  "--id t1 --key %s threat Worm.X",
			 dir,
			 "00112233445566778899aabbccddeeff00112233445566778899"
			 "aabbccddeeff"),
		     1, "%s", out);
	cr_expect(strstr(out, "refused"), "%s", out);
	cr_expect(reach(0, WEB));
	cr_assert_eq(ctl(out, sizeof(out), "--json stats"), 0);
	cr_expect(strstr(out, "\"forged\":1,"), "%s", out);
	/* t2 claiming to be t1 with its own key: unknown MAC */
	cr_assert_eq(tn_run(&t[1], out, sizeof(out),
			 "sh -c 'k=$(awk \"/^t2 /{print \\$3}\" %s/keys); "
			 TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
				  "--id t1 --key $k threat Worm.X'",
			 dir, dir),
		     1, "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "no terminal has a reaction"), "%s", out);
}

static void eve_alert(const char *src, const char *dst)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/eve.json", dir);
	f = fopen(path, "a");
	cr_assert(f);
	fprintf(f,
		"{\"timestamp\":\"2026-11-24T10:00:00.000000+0000\","
		"\"event_type\":\"alert\",\"src_ip\":\"%s\",\"src_port\":4000,"
		"\"dest_ip\":\"%s\",\"dest_port\":445,\"proto\":\"TCP\","
		"\"alert\":{\"action\":\"allowed\",\"gid\":1,"
		"\"signature_id\":2100498,\"rev\":1,\"signature\":\"ET WORM "
		"test\",\"category\":\"x\",\"severity\":1}}\n",
		src, dst);
	fclose(f);
}

Test(agent, eve_alerts_from_three_terminals_contain_the_scope)
{
	char out[8192], path[256];

	eve_alert("192.0.2.10", "198.51.100.7");
	eve_alert("203.0.113.66", "192.0.2.11"); /* inbound: t2 is the end */
	/* a malformed line and a non-alert event change nothing */
	snprintf(path, sizeof(path), "%s/eve.json", dir);
	cr_assert_eq(tn_run(NULL, NULL, 0,
			 "sh -c 'echo \"{broken\" >> %s; "
			 "echo \"{\\\"event_type\\\":\\\"flow\\\"}\" >> %s'",
			 path, path),
		     0);
	cr_assert(ctl_until("status", "malformed", out, sizeof(out)));
	cr_expect(strstr(out, "cell-a           none"), "%s", out);
	cr_expect(reach(1, WEB));
	/* rotation: the file is renamed, a new one takes its place */
	cr_assert_eq(tn_run(NULL, NULL, 0, "sh -c 'mv %s %s.1 && touch %s'", path,
			 path, path),
		     0);
	usleep(100000);
	eve_alert("192.0.2.12", "198.51.100.7");
	cr_assert(ctl_until("status", "cell-a           isolate", out,
			    sizeof(out)),
		  "%s", out);
	cr_expect_not(reach(1, WEB), "t2 reaches the web from an isolated cell");
	cr_expect(reach(1, REMEDIATION), "isolated t2 lost remediation");
	cr_assert_eq(ctl(out, sizeof(out), "show 192.0.2.11"), 0, "%s", out);
	cr_expect(strstr(out, "; scope cell-a is contained"), "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "--json stats"), 0);
	cr_expect(strstr(out, "\"input_malformed\":1,"), "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "scope cell-a release"), 0, "%s",
		     out);
	cr_expect(reach(1, WEB));
}

Test(agent, fanout_scan_from_a_terminal_quarantines_it)
{
	char out[4096];
	int fd = tn_socket(&t[2], AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	for (int i = 1; i <= 40; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(445)};
		char a[32];

		snprintf(a, sizeof(a), "203.0.113.%d", 100 + i);
		inet_pton(AF_INET, a, &sa.sin_addr);
		sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof(sa));
	}
	close(fd);
	cr_assert(ctl_until("terminals", "scanner", out, sizeof(out)), "%s",
		  out);
	cr_expect(strstr(out, "192.0.2.12") && strstr(out, "quarantined"),
		  "%s", out);
	cr_expect_not(reach(2, WEB), "the scanner still reaches the web");
	cr_expect(reach(0, WEB), "t1 lost the web with the scanner");
}

Test(agent, operator_react_release_and_errors)
{
	char out[4096];

	cr_assert_eq(ctl(out, sizeof(out),
			 "react 192.0.2.11 --level restricted --for 10m "
			 "--reason ticket-42"),
		     0, "%s", out);
	cr_expect(strstr(out, "restricted"), "%s", out);
	cr_expect(reach(1, WEB), "restricted allows the web");
	cr_assert_eq(ctl(out, sizeof(out),
			 "react 192.0.2.11 --level quarantined"),
		     0, "%s", out);
	cr_expect_not(reach(1, WEB));
	cr_assert_eq(ctl(out, sizeof(out), "show 192.0.2.11"), 0);
	/* the operator's second reaction replaces the first */
	cr_expect(strstr(out, "reaction:    quarantined until - (rule operator: "
			      "operator; 1 in force)") &&
			  strstr(out, "dataplane:   level quarantined"),
		  "%s", out);
	cr_expect_eq(ctl(out, sizeof(out), "react 192.0.2.11 --level nope"), 1);
	cr_expect(strstr(out, "no level \"nope\""), "%s", out);
	cr_expect_eq(ctl(out, sizeof(out), "react 192.0.2.999 --level normal"),
		     1);
	cr_expect_eq(ctl(out, sizeof(out), "react 192.0.2.11 --level normal "
					   "--for soon"),
		     1);
	cr_expect(strstr(out, "not a duration"), "%s", out);
	cr_expect_eq(ctl(out, sizeof(out), "frobnicate"), 2);
	/* terminals by level, scope, rule */
	cr_assert_eq(ctl(out, sizeof(out), "react 192.0.2.12 --level restricted"),
		     0, "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "terminals --level quarantined"), 0);
	cr_expect(strstr(out, "192.0.2.11") && !strstr(out, "192.0.2.12"), "%s",
		  out);
	cr_assert_eq(ctl(out, sizeof(out), "--json terminals --level restricted "
					   "--scope cell-a --rule operator"),
		     0);
	cr_expect(strstr(out, "192.0.2.12") && !strstr(out, "192.0.2.11"), "%s",
		  out);
	cr_assert_eq(ctl(out, sizeof(out), "terminals --rule ids-repeated"), 0);
	cr_expect(strstr(out, "no terminal has a reaction"), "%s", out);
	cr_expect_eq(ctl(out, sizeof(out), "status --rule x"), 2, "%s", out);
	/* release --all: without --yes it only counts */
	cr_assert_eq(ctl(out, sizeof(out), "react 192.0.2.64/28 --level "
					   "restricted"),
		     0, "%s", out);
	cr_expect_eq(ctl(out, sizeof(out), "release --all"), 2, "%s", out);
	cr_expect(strstr(out, "3 terminals and prefixes: add --yes"), "%s",
		  out);
	cr_expect_not(reach(1, WEB), "release --all without --yes released");
	cr_expect_eq(ctl(out, sizeof(out), "release --all --yes"), 0, "%s", out);
	cr_expect(strstr(out, "3 released, 0 refused"), "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "no terminal has a reaction"), "%s", out);
	cr_expect(reach(1, WEB));
	cr_expect_eq(ctl(out, sizeof(out), "release 192.0.2.11"), 1);
	cr_expect(strstr(out, "has no reaction"), "%s", out);
	cr_expect_eq(tn_run(NULL, out, sizeof(out), CTL " -s %s/nope.sock status",
			 dir),
		     3);
}

/* The notifications of systemd's Type=notify, read from a socket of the
 * test's own as $NOTIFY_SOCKET: every message of the agent until one
 * holding want arrives (or 3 s pass), appended to log. */
static bool notified(int fd, const char *want, char *log, size_t len)
{
	for (int i = 0; i < 300; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char m[512];
		ssize_t n;

		if (poll(&p, 1, 10) <= 0)
			continue;
		n = recv(fd, m, sizeof(m) - 1, 0);
		if (n <= 0)
			continue;
		m[n] = '\0';
		snprintf(log + strlen(log), len - strlen(log), "[%s]", m);
		if (strstr(m, want))
			return true;
	}
	return false;
}

/* Type=notify: READY=1 once the program is on the interfaces and the
 * control socket answers, WATCHDOG=1 from the loop at half the period,
 * RELOADING=1 and READY=1 around a reload, STOPPING=1 at the end. */
Test(agent, systemd_hears_ready_watchdog_reload_and_stopping)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char out[4096], log[8192] = "";
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/notify.sock", dir);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	stop_agent(SIGTERM);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	start_agent();
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	cr_expect(notified(fd, "READY=1", log, sizeof(log)), "%s", log);
	cr_expect(strstr(log, "STATUS=enforcing"), "%s", log);
	cr_assert_eq(tn_run(&edge, out, sizeof(out), "ip link show a1"), 0);
	cr_expect(strstr(out, "xdp"), "ready before XDP was attached: %s", out);
	log[0] = '\0';
	cr_expect(notified(fd, "WATCHDOG=1", log, sizeof(log)) &&
			  notified(fd, "WATCHDOG=1", log, sizeof(log)),
		  "no watchdog pings: %s", log);
	log[0] = '\0';
	kill(agent, SIGHUP);
	cr_expect(notified(fd, "RELOADING=1", log, sizeof(log)), "%s", log);
	cr_expect(strstr(log, "MONOTONIC_USEC="), "%s", log);
	cr_expect(notified(fd, "READY=1", log, sizeof(log)), "%s", log);
	log[0] = '\0';
	kill(agent, SIGTERM);
	cr_expect(notified(fd, "STOPPING=1", log, sizeof(log)), "%s", log);
	waitpid(agent, NULL, 0);
	agent = -1;
	close(fd);
	start_agent();
}

/* Decisions exported, all released, imported again: the same levels with
 * what time they had left, enforced; a dry run and a bad file change
 * nothing. */
Test(agent, decisions_are_exported_and_imported)
{
	char out[8192], file[300], bad[300];
	FILE *f;

	snprintf(file, sizeof(file), "%s/decisions.json", dir);
	snprintf(bad, sizeof(bad), "%s/bad.json", dir);
	cr_assert_eq(ctl(out, sizeof(out), "react 192.0.2.11 --level "
					   "quarantined --for 1h"),
		     0, "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "react 192.0.2.12 --level restricted"),
		     0, "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "react 192.0.2.64/28 --level "
					   "restricted --for 2h"),
		     0, "%s", out);
	snprintf(out, sizeof(out), "export %s", file);
	cr_assert_eq(ctl(out, sizeof(out), out), 0, "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s", file), 0);
	cr_expect(strstr(out, "\"xcrs_decisions\":1") &&
			  strstr(out, "192.0.2.11") && strstr(out, "192.0.2.12") &&
			  strstr(out, "192.0.2.64/28"),
		  "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "release --all --yes"), 0, "%s", out);
	cr_expect(reach(1, WEB));
	/* a dry run imports nothing */
	snprintf(out, sizeof(out), "import --dry-run %s", file);
	cr_assert_eq(ctl(out, sizeof(out), out), 0, "%s", out);
	cr_expect(strstr(out, "3 would be imported (dry run)"), "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "no terminal has a reaction"), "%s", out);
	/* a document with a bad entry imports none of it */
	f = fopen(bad, "w");
	cr_assert_not_null(f);
	fprintf(f, "{\"xcrs_decisions\": 1, \"terminals\": [{\"terminal\": "
		   "\"192.0.2.11\", \"level\": \"quarantined\"}, "
		   "{\"terminal\": \"192.0.2.13\"}], \"prefixes\": []}\n");
	fclose(f);
	snprintf(out, sizeof(out), "import %s", bad);
	cr_expect_eq(ctl(out, sizeof(out), out), 2, "%s", out);
	cr_expect(strstr(out, "terminal 2 has no level"), "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "no terminal has a reaction"), "%s", out);
	snprintf(out, sizeof(out), "import %s/nothing.json", dir);
	cr_expect_eq(ctl(out, sizeof(out), out), 2, "%s", out);
	/* the import */
	snprintf(out, sizeof(out), "import %s", file);
	cr_assert_eq(ctl(out, sizeof(out), out), 0, "%s", out);
	cr_expect(strstr(out, "3 imported, 0 skipped, 0 refused"), "%s", out);
	cr_expect_not(reach(1, WEB), "192.0.2.12 imported but not enforced");
	cr_assert_eq(ctl(out, sizeof(out), "--json terminals"), 0);
	cr_expect(strstr(out, "imported (rule operator)"), "%s", out);
	cr_expect(strstr(out, "\"remaining_s\":35"), "the hour left: %s", out);
	cr_expect(strstr(out, "192.0.2.64/28"), "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "release --all --yes"), 0, "%s", out);
}

Test(agent, reload_with_a_bad_file_keeps_enforcement)
{
	char out[4096];

	cr_assert_eq(ctl(out, sizeof(out),
			 "react 192.0.2.10 --level quarantined"),
		     0, "%s", out);
	cr_assert_not(reach(0, WEB));
	/* an unknown key on line 60 */
	write_policy("bogus: 1\n");
	cr_expect_eq(ctl(out, sizeof(out), "reload"), 1);
	cr_expect(strstr(out, "policy.yaml:60:1: "), "%s", out);
	cr_expect_not(reach(0, WEB), "enforcement lost after a bad reload");
	cr_expect(reach(1, WEB));
	/* SIGHUP with the bad file: refused the same way, agent alive */
	kill(agent, SIGHUP);
	usleep(200000);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0, "%s", out);
	cr_expect(strstr(out, "quarantined"), "%s", out);
	cr_expect_not(reach(0, WEB));
	/* a good file that drops the web from "restricted" applies */
	write_policy(NULL);
	cr_assert_eq(tn_run(NULL, NULL, 0,
			 "sed -i 's/allow: \\[crs, remediation, web\\]/allow: "
			 "[crs, remediation]/' %s",
			 policy_path),
		     0);
	cr_assert_eq(ctl(out, sizeof(out), "reload"), 0, "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "react 192.0.2.11 --level restricted"),
		     0, "%s", out);
	cr_expect_not(reach(1, WEB), "the reloaded level is not in force");
	cr_expect_not(reach(0, WEB));
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s/audit.jsonl", dir), 0);
	cr_expect(strstr(out, "reload-refused") && strstr(out, "\"reload\""),
		  "%s", out);
}

/*
 * A reload that renames the level a terminal is held at would free it: it
 * is refused and the terminal stays held; --dry-run lists who would be
 * released and changes nothing; levels[].was carries the terminal to the
 * new name; --release ends what the new policy cannot hold, on purpose.
 */
Test(agent, a_reload_never_frees_a_terminal_unless_told)
{
	char out[4096];

	cr_assert_eq(ctl(out, sizeof(out),
			 "react 192.0.2.10 --level quarantined"),
		     0, "%s", out);
	cr_assert_not(reach(0, WEB));
	/* quarantined renamed to jailed, references and all */
	cr_assert_eq(tn_run(NULL, NULL, 0, "sed -i 's/quarantined/jailed/g' %s",
			    policy_path),
		     0);
	cr_expect_eq(ctl(out, sizeof(out), "reload"), 1, "%s", out);
	cr_expect(strstr(out, "would end 1 decision") &&
			  strstr(out, "192.0.2.10") && strstr(out, "levels[].was"),
		  "%s", out);
	cr_expect_not(reach(0, WEB), "a refused reload freed the terminal");
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0, "%s", out);
	cr_expect(strstr(out, "quarantined"), "%s", out);
	/* SIGHUP: refused the same way */
	kill(agent, SIGHUP);
	usleep(300000);
	cr_expect_not(reach(0, WEB), "SIGHUP freed the terminal");
	/* the dry run says what would happen and does nothing */
	cr_expect_eq(ctl(out, sizeof(out), "reload --dry-run"), 0, "%s", out);
	cr_expect(strstr(out, "192.0.2.10: released") &&
			  strstr(out, "level quarantined removed") &&
			  strstr(out, "level jailed added") &&
			  strstr(out, "dry run"),
		  "%s", out);
	cr_expect_not(reach(0, WEB), "the dry run freed the terminal");
	/* the level says what it was called: the terminal is carried */
	cr_assert_eq(tn_run(NULL, NULL, 0,
			    "sed -i 's/{name: jailed, /{name: jailed, was: "
			    "quarantined, /' %s",
			    policy_path),
		     0);
	cr_expect_eq(ctl(out, sizeof(out), "reload"), 0, "%s", out);
	cr_expect(strstr(out, "level quarantined renamed to jailed"), "%s",
		  out);
	cr_expect_not(reach(0, WEB), "the renamed level let it go");
	cr_assert_eq(ctl(out, sizeof(out), "show 192.0.2.10"), 0, "%s", out);
	cr_expect(strstr(out, "jailed"), "%s", out);
	/* a policy without the level at all: only --release applies it */
	cr_assert_eq(tn_run(NULL, NULL, 0,
			    "sed -i -e '/{name: jailed, /d' -e "
			    "'s/level: jailed/level: restricted/g' %s",
			    policy_path),
		     0);
	cr_expect_eq(ctl(out, sizeof(out), "reload"), 1, "%s", out);
	cr_expect_not(reach(0, WEB));
	cr_expect_eq(ctl(out, sizeof(out), "reload --release"), 0, "%s", out);
	cr_expect(strstr(out, "192.0.2.10: released"), "%s", out);
	cr_expect(reach(0, WEB), "--release did not end the reaction");
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "grep -c 'reload --release: 1 "
			    "decision ended: 192.0.2.10' %s/agent.log", dir),
		     0, "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s/audit.jsonl", dir),
		     0);
	cr_expect(strstr(out, "\"mode\":\"release\""), "%s", out);
	/* the operator's reaction names who made it */
	cr_expect(strstr(out, "\"event\":\"operator-react\",\"by\":\"uid 0 "
				"(root) pid "),
		  "%s", out);
	/* a rotated audit log (logrotate: rename, then SIGHUP) is reopened */
	cr_assert_eq(tn_run(NULL, NULL, 0, "mv %s/audit.jsonl %s/audit.jsonl.1",
			    dir, dir),
		     0);
	kill(agent, SIGHUP);
	usleep(300000);
	cr_assert_eq(ctl(out, sizeof(out), "react 192.0.2.11 --level restricted"),
		     0, "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s/audit.jsonl", dir), 0,
		     "%s", out);
	cr_expect(strstr(out, "192.0.2.11") && strstr(out, "\"reload\""),
		  "the new audit log lacks the reload or the reaction: %s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s/audit.jsonl.1", dir),
		     0);
	cr_expect_not(strstr(out, "192.0.2.11"),
		      "written to the rotated file: %s", out);
	/* agent.operator_for: how long a reaction without --for lasts */
	cr_assert_eq(tn_run(NULL, NULL, 0,
			    "sed -i 's/^agent:$/agent:\\n  operator_for: 2h/' %s",
			    policy_path),
		     0);
	cr_expect_eq(ctl(out, sizeof(out), "reload"), 0, "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "react 192.0.2.12 --level restricted"),
		     0, "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "--json show 192.0.2.12"), 0);
	cr_expect(strstr(out, "\"remaining_s\":71") ||
			  strstr(out, "\"remaining_s\":72"),
		  "no 2 h default: %s", out);
	/* status names the policy in force by its hash (sha256sum's) */
	{
		char sum[128], want[40];

		cr_assert_eq(tn_run(NULL, sum, sizeof(sum), "sha256sum %s",
				    policy_path),
			     0);
		snprintf(want, sizeof(want), "sha256 %.16s", sum);
		cr_assert_eq(ctl(out, sizeof(out), "status"), 0, "%s", out);
		cr_expect(strstr(out, want) && strstr(out, "loaded 20"),
			  "%s not in\n%s", want, out);
	}
}

/* A policy of one interface and a report listener, for start failures. */
static void write_bad(const char *path, const char *pin_dir,
		      const char *ifname, const char *listen)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	fprintf(f,
		"version: 1\n"
		"agent:\n"
		"  pin_dir: %s\n"
		"  control_socket: %s/bad.sock\n"
		"  state_file: %s/bad-state.json\n"
		"  audit_log: %s/bad-audit.jsonl\n"
		"  metrics: off\n"
		"interfaces:\n"
		"  - {name: %s, role: access, mode: generic}\n"
		"levels:\n"
		"  - {name: normal, allow: all}\n"
		"inputs:\n"
		"  reports:\n"
		"    listen: \"%s\"\n"
		"    cert: %s/server.crt\n"
		"    key: %s/server.key\n"
		"    keys: %s/keys\n",
		pin_dir, dir, dir, dir, ifname, listen, dir, dir, dir);
	fclose(f);
}

/*
 * --check finds what a start would refuse, and a start that fails leaves
 * nothing: a pin directory off bpffs and a missing interface are found by
 * --check (the interface as a warning: the file may be for another
 * machine); a start whose report listener cannot be bound fails before
 * the interface is touched and removes the maps it made.
 */
Test(agent, check_finds_what_start_refuses_and_a_failed_start_leaves_nothing)
{
	char bad[300], pdir[300], out[4096];

	snprintf(bad, sizeof(bad), "%s/bad.yaml", dir);
	snprintf(pdir, sizeof(pdir), "%s-bad", pins);
	cr_assert_eq(tn_run(&edge, NULL, 0,
			    "ip link add xt0 type veth peer name xt1"), 0);
	cr_assert_eq(tn_run(&edge, NULL, 0, "ip link set xt0 up"), 0);
	/* a pin directory off bpffs */
	write_bad(bad, "/tmp/xcrs-t-not-bpffs", "xt0", "192.0.2.1:7444");
	cr_expect_eq(tn_run(&edge, out, sizeof(out), AGENT " --check -c %s",
			    bad),
		     1, "%s", out);
	cr_expect(strstr(out, "not on a bpf filesystem"), "%s", out);
	/* a certificate that is not there: said in words */
	write_bad(bad, pdir, "xt0", "192.0.2.1:7444");
	cr_assert_eq(tn_run(NULL, NULL, 0, "sed -i 's|/server.crt|/none.crt|' %s",
			    bad),
		     0);
	cr_expect_eq(tn_run(&edge, out, sizeof(out), AGENT " --check -c %s",
			    bad),
		     1, "%s", out);
	cr_expect(strstr(out, "none.crt: No such file or directory") &&
			  !strstr(out, "error:8"),
		  "%s", out);
	/* an interface that is not there: a warning */
	write_bad(bad, pdir, "xt-none", "192.0.2.1:7444");
	cr_expect_eq(tn_run(&edge, out, sizeof(out), AGENT " --check -c %s",
			    bad),
		     0, "%s", out);
	cr_expect(strstr(out, "interface xt-none does not exist") &&
			  strstr(out, ": ok"),
		  "%s", out);
	cr_expect_eq(tn_run(&edge, out, sizeof(out), AGENT " -c %s", bad), 1,
		     "%s", out);
	cr_expect(strstr(out, "interface xt-none does not exist"), "%s", out);
	cr_expect_eq(access(pdir, F_OK), -1, "the failed start left %s", pdir);
	/* a report listener on an address this machine does not have */
	write_bad(bad, pdir, "xt0", "203.0.113.99:7444");
	cr_expect_eq(tn_run(&edge, out, sizeof(out), AGENT " -c %s", bad), 1,
		     "%s", out);
	cr_expect(strstr(out, "203.0.113.99"), "%s", out);
	cr_expect_eq(access(pdir, F_OK), -1, "the failed start left %s", pdir);
	cr_assert_eq(tn_run(&edge, out, sizeof(out), "ip link show xt0"), 0);
	cr_expect_not(strstr(out, "xdp"), "the failed start left XDP on xt0: %s",
		      out);
	/* a rule a clean report ends, at a level that cannot send one:
	 * a warning (README, step 2) */
	write_bad(bad, pdir, "xt0", "192.0.2.1:7444");
	cr_assert_eq(tn_run(NULL, NULL, 0,
			    "sed -i 's|  - {name: normal, allow: all}|"
			    "  - {name: normal, allow: all}\\n"
			    "  - {name: jail, allow: []}|' %s && printf "
			    "'rules:\\n  - {name: inf, on: report, match: "
			    "{status: infected}, react: {level: jail, for: 1h}, "
			    "release_on_clean: true}\\n' >> %s",
			    bad, bad),
		     0);
	cr_expect_eq(tn_run(&edge, out, sizeof(out), AGENT " --check -c %s",
			    bad),
		     0, "%s", out);
	cr_expect(strstr(out, "rule inf is released by a clean report, but a "
			      "terminal at level jail cannot reach the report "
			      "listener 192.0.2.1:7444"),
		  "%s", out);
	tn_run(&edge, NULL, 0, "ip link del xt0");
}

/* The milliseconds since the epoch of the first "UNTIL" in xcrsctl's
 * terminals table (only the time of day counts here). */
static int until_ms(const char *table)
{
	const char *p = strstr(table, "T");
	int h, m, sec, ms;

	for (; p; p = strstr(p + 1, "T"))
		if (sscanf(p, "T%2d:%2d:%2d.%3dZ", &h, &m, &sec, &ms) == 4)
			return ((h * 60 + m) * 60 + sec) * 1000 + ms;
	cr_assert_fail("no UNTIL in\n%s", table);
	return 0;
}

Test(agent, kill9_keeps_enforcement_and_restart_resumes)
{
	char out[4096], before[4096];

	cr_assert_eq(ctl(out, sizeof(out),
			 "react 192.0.2.10 --level quarantined --for 1h"),
		     0, "%s", out);
	cr_assert_eq(ctl(before, sizeof(before), "terminals"), 0);
	cr_assert_not(reach(0, WEB));
	stop_agent(SIGKILL);
	cr_expect_not(reach(0, WEB), "enforcement lost when the agent died");
	cr_expect(reach(1, WEB));
	start_agent();
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	/* the same decision; its end may move by the millisecond the
	 * conversion through wall-clock time rounds away */
	cr_expect_lt(abs(until_ms(out) - until_ms(before)), 3,
		     "decisions changed across the restart:\n%s\n%s", before,
		     out);
	cr_expect(strstr(out, "192.0.2.10") && strstr(out, "quarantined") &&
			  strstr(out, "operator"),
		  "%s", out);
	cr_expect_not(reach(0, WEB));
	cr_assert_eq(ctl(out, sizeof(out), "status"), 0);
	cr_expect(strstr(out, "a1               access  attached"), "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "release 192.0.2.10"), 0, "%s", out);
	cr_expect(reach(0, WEB));
}

/* One line to a unix stream socket of the agent. */
static void send_line(const char *name, const char *line)
{
	char path[300];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = tn_unix_write(path, line);
	cr_assert_eq(r, 0, "%s: %s", path, strerror(-r));
}

Test(agent, socket_inputs_feed_the_rules)
{
	char out[8192];

	/* a generic sensor event and an EVE alert about t2, severity 2:
	 * two within the window -> ids-repeated quarantines t2 */
	send_line("events.sock", "{\"terminal\":\"192.0.2.11\",\"severity\":2,"
				 "\"signature_id\":9000001,\"signature\":\"dns "
				 "tunnel\",\"sensor\":\"dpi-1\"}\n"
				 "{\"terminal\": 5}\n");
	cr_assert(ctl_until("--json stats", "\"input_malformed\":1,", out,
			    sizeof(out)),
		  "%s", out);
	cr_expect(reach(1, WEB), "one event is below the rule's count");
	send_line("eve.sock",
		  "{\"event_type\":\"alert\",\"src_ip\":\"192.0.2.11\","
		  "\"dest_ip\":\"198.51.100.9\",\"alert\":{\"signature_id\":"
		  "2000001,\"signature\":\"x\",\"severity\":2}}\n");
	cr_assert(ctl_until("terminals", "ids-repeated", out, sizeof(out)),
		  "%s", out);
	cr_expect(strstr(out, "192.0.2.11"), "%s", out);
	cr_expect_not(reach(1, WEB));
}

Test(agent, a_reaction_ends_when_it_expires)
{
	char out[4096];

	cr_assert_eq(ctl(out, sizeof(out),
			 "react 192.0.2.12 --level quarantined --for 1s"),
		     0, "%s", out);
	cr_expect_not(reach(2, WEB));
	usleep(1100000);
	cr_assert(ctl_until("terminals", "no terminal has a reaction", out,
			    sizeof(out)),
		  "%s", out);
	cr_expect(reach(2, WEB), "t3 still blocked after its reaction ended");
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s/audit.jsonl", dir), 0);
	cr_expect(strstr(out, "\"event\":\"release\"") &&
			  strstr(out, "\"cause\":\"expired\""),
		  "%s", out);
	cr_expect(strstr(out, "\"event\":\"rule-ended\",\"terminal\":"
			      "\"192.0.2.12\",\"rule\":\"operator\""),
		  "the operator's reaction's end: %s", out);
}

Test(agent, connected_terminal_gets_reaction_notices)
{
	char cmd[1024], out[8192], o2[1024];
	size_t n;
	FILE *p;

	/* t1 reports and stays connected for 3 s */
	snprintf(cmd, sizeof(cmd),
		 "nsenter --net=/proc/%d/ns/net " TERMINAL
		 " --server 192.0.2.1:7443 --ca %s/server.crt --id t1 "
		 "--key-file %s/keys --stay 3 status 2>&1",
		 t[0].holder, dir, dir);
	p = popen(cmd, "r");
	cr_assert(p);
	cr_assert(ctl_until("status", "(1 connections", o2, sizeof(o2)), "%s",
		  o2);
	usleep(200000);
	cr_assert_eq(ctl(o2, sizeof(o2),
			 "react 192.0.2.10 --level quarantined --for 5m "
			 "--reason ticket-7"),
		     0, "%s", o2);
	cr_assert_eq(ctl(o2, sizeof(o2), "release 192.0.2.10"), 0, "%s", o2);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert_eq(WEXITSTATUS(pclose(p)), 0, "%s", out);
	cr_expect(strstr(out, "response evaluation=clean level=normal"), "%s",
		  out);
	cr_expect(strstr(out, "notice evaluation=reacted level=quarantined") &&
			  strstr(out, "reason: ticket-7") &&
			  strstr(out, "remediation: remediation 198.51.100.80/32"),
		  "%s", out);
	cr_expect(strstr(out, "notice evaluation=released level=normal"), "%s",
		  out);
}

Test(agent, stop_keeps_enforcement_and_detach_removes_it)
{
	char out[4096];

	cr_assert_eq(ctl(out, sizeof(out),
			 "react 192.0.2.10 --level quarantined"),
		     0, "%s", out);
	stop_agent(SIGTERM);
	cr_expect_not(reach(0, WEB), "a stopped agent took enforcement along");
	cr_assert_eq(tn_run(&edge, out, sizeof(out), AGENT " --detach -c %s",
			 policy_path),
		     0, "%s", out);
	cr_expect(strstr(out, "detached from a1"), "%s", out);
	cr_expect(reach(0, WEB), "still enforced after --detach");
}

/* A copy of file src at dst with the first character of the string value
 * of key changed (another key, another B-TID). */
static void copy_altered(const char *src, const char *dst, const char *key)
{
	char buf[4096], pat[64], *p;
	FILE *f = fopen(src, "r");
	size_t n;

	cr_assert(f, "%s", src);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(buf, pat);
	cr_assert(p, "%s has no %s", src, key);
	p += strlen(pat);
	/* another value: hex digits compare without case, base64 with; a
	 * base64 '/' is written escaped ("\/"): change a letter or digit */
	while (*p && !isalnum((unsigned char)*p))
		p++;
	cr_assert(*p, "%s: no letter or digit in %s", src, key);
	*p = *p == '0' ? '1' : '0';
	f = fopen(dst, "w");
	cr_assert(f);
	fputs(buf, f);
	fclose(f);
}

/* authsrv with one AKA subscriber (its USIM's K and OPc below), the
 * agent restarted as its application server (with more inputs after
 * the authsrv section: extra), and terminal t1 bootstrapped: its session
 * file in sess. */
static void with_authsrv(const char *impi, const char *extra, char *sess,
			 size_t slen)
{
	char out[4096], usim[300], cmd[300];
	FILE *f;

	cr_assert_eq(ae_setup(&aenv, "192.0.2.1", 1, NULL), 0);
	snprintf(cmd, sizeof(cmd),
		 "add %s --k 465b5ce8b199b49faa5f0a2ee238a6bc --opc "
		 "cd63cb71954a9f4e48a5994e37a02baf",
		 impi);
	cr_assert_eq(ae_admin(&aenv, out, sizeof(out), NULL, cmd), 0, "%s",
		     out);
	cr_assert_eq(ae_start(&aenv, 0, &edge), 0);
	snprintf(reports_extra, sizeof(reports_extra),
		 "    authsrv:\n"
		 "      server: %s\n"
		 "      ca: %s\n"
		 "      cert: %s/crs.crt\n"
		 "      key: %s/crs.key\n"
		 "      as_id: crs.home.example\n%s",
		 aenv.addr[0], aenv.ca, aenv.dir, aenv.dir, extra);
	stop_agent(SIGTERM);
	write_policy(NULL);
	start_agent();
	/* the terminal's side: its USIM, and a bootstrap from its own
	 * namespace */
	snprintf(usim, sizeof(usim), "%s/usim.json", dir);
	snprintf(sess, slen, "%s/session.json", dir);
	f = fopen(usim, "w");
	cr_assert(f);
	fprintf(f,
		"{\"id\": \"%s\", \"k\": \"465b5ce8b199b49faa5f0a2ee238a6bc\", "
		"\"opc\": \"cd63cb71954a9f4e48a5994e37a02baf\", \"sqn\": 0}\n",
		impi);
	fclose(f);
	cr_assert_eq(tn_run(&t[0], out, sizeof(out),
			    "%s bootstrap --server %s --ca %s --usim %s "
			    "--session %s",
			    ae_bin("xcrs-auth-client"), aenv.addr[0], aenv.ca,
			    usim, sess),
		     0, "%s", out);
}

/* X.1124: the terminal bootstraps with xcrs-authsrv (AKA), reports with
 * its B-TID and a key derived for the agent; the agent, as an application
 * server, fetches that key from authsrv over mutual TLS and believes the
 * report. A report with a key authsrv did not give is refused, and so is
 * one with a B-TID authsrv does not know. */
Test(agent, reports_authenticated_through_authsrv)
{
	char out[4096], sess[300], forged[300], ghost[300];

	with_authsrv("u1@home.example", "", sess, sizeof(sess));
	cr_assert(reach(0, WEB));

	/* An infection reported under the B-TID quarantines t1 (the peer
	 * address of the report). */
	cr_assert_eq(tn_run(&t[0], out, sizeof(out),
			    TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
			    "--session %s --as-id crs.home.example threat "
			    "Android.Worm.X",
			    dir, sess),
		     0, "%s", out);
	cr_expect(strstr(out, "level=quarantined") != NULL, "%s", out);
	cr_expect_not(reach(0, WEB), "quarantined after an authsrv-keyed report");
	cr_assert_eq(tn_run(&t[0], out, sizeof(out),
			    TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
			    "--session %s --as-id crs.home.example clean",
			    dir, sess),
		     0, "%s", out);
	cr_expect(reach(0, WEB), "released by the clean report");
	/* Re-authenticated (a new B-TID and Ks, no AKA vector): the next
	 * report goes under the new B-TID, and the agent fetches its key
	 * and believes it. */
	cr_assert_eq(tn_run(&t[0], out, sizeof(out),
			    "%s reauth --server %s --ca %s --session %s",
			    ae_bin("xcrs-auth-client"), aenv.addr[0], aenv.ca,
			    sess),
		     0, "%s", out);
	cr_assert_eq(tn_run(&t[0], out, sizeof(out),
			    TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
			    "--session %s --as-id crs.home.example clean",
			    dir, sess),
		     0, "the report after re-authentication was refused: %s",
		     out);
	cr_expect(strstr(out, "evaluation=clean"), "%s", out);

	/* The same B-TID with another key: forged. */
	snprintf(forged, sizeof(forged), "%s/forged.json", dir);
	copy_altered(sess, forged, "ks");
	cr_expect_eq(tn_run(&t[1], out, sizeof(out),
			    TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
			    "--session %s --as-id crs.home.example threat X",
			    dir, forged),
		     1, "%s", out);
	/* A B-TID authsrv never issued. */
	snprintf(ghost, sizeof(ghost), "%s/ghost.json", dir);
	copy_altered(sess, ghost, "btid");
	cr_expect_eq(tn_run(&t[2], out, sizeof(out),
			    TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
			    "--session %s --as-id crs.home.example threat X",
			    dir, ghost),
		     1, "%s", out);
	cr_expect(reach(1, WEB) && reach(2, WEB),
		  "refused reports changed nothing");
	cr_assert(ctl_until("stats", "forged", out, sizeof(out)));
	cr_expect(strstr(out, "unknown") != NULL, "%s", out);
}

/* X.1125 11.1/11.6: the dataplane reports an MS's first traffic, the agent
 * keeps its state, and when it has been idle past the timeout it leaves
 * and its control is released. The operator's session feed does the same
 * by message; a malformed feed line changes nothing. */
Test(agent, ms_connect_and_leave)
{
	char out[4096], line[256];

	snprintf(reports_extra, sizeof(reports_extra),
		 "  sessions:\n    - socket: %s/sessions.sock\n", dir);
	stop_agent(SIGTERM);
	write_policy("ms: {detect: true, idle_timeout: 2s}\n");
	start_agent();

	cr_assert(ctl_until("ms", "no MS is connected", out, sizeof(out)));
	cr_assert(reach(0, WEB));
	cr_assert(ctl_until("ms", "192.0.2.10", out, sizeof(out)), "%s", out);
	cr_expect(strstr(out, "first-traffic") != NULL, "%s", out);

	/* Under control, then silent: it leaves and the control goes. */
	cr_assert_eq(ctl(out, sizeof(out),
			 "react 192.0.2.10 --level quarantined --for 1h"),
		     0, "%s", out);
	cr_expect_not(reach(0, WEB));
	for (int i = 0; i < 300; i++) {
		if (ctl(out, sizeof(out), "ms") == 0 &&
		    !strstr(out, "192.0.2.10"))
			break;
		usleep(50000);
	}
	cr_expect(strstr(out, "192.0.2.10") == NULL, "still connected:\n%s",
		  out);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "192.0.2.10") == NULL,
		  "its control outlived the leave:\n%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s/audit.jsonl", dir), 0);
	cr_expect(strstr(out, "\"event\":\"ms-leave\",\"terminal\":\"192.0.2.10\","
			      "\"cause\":\"idle\"") != NULL,
		  "%s", out);
	/* It comes back as a new connect, without the old control. */
	cr_expect(reach(0, WEB));
	cr_expect(ctl_until("ms", "192.0.2.10", out, sizeof(out)));

	/* The feed: connect and leave by message. */
	send_line("sessions.sock", "{\"event\": \"connect\", \"ms\": \"192.0.2.11\"}");
	cr_expect(ctl_until("ms", "feed", out, sizeof(out)), "%s", out);
	cr_expect(strstr(out, "192.0.2.11") != NULL, "%s", out);
	send_line("sessions.sock", "{\"event\": \"teleport\", \"ms\": \"192.0.2.11\"}");
	snprintf(line, sizeof(line),
		 "{\"event\": \"leave\", \"ms\": \"192.0.2.11\"}");
	send_line("sessions.sock", line);
	for (int i = 0; i < 100; i++) {
		if (ctl(out, sizeof(out), "ms") == 0 &&
		    !strstr(out, "192.0.2.11"))
			break;
		usleep(50000);
	}
	cr_expect(strstr(out, "192.0.2.11") == NULL, "%s", out);
	/* Three lines read, the one with an unknown event refused. */
	cr_assert(ctl_until("--json stats", "\"session_lines\":3", out,
			    sizeof(out)),
		  "%s", out);
	cr_expect(strstr(out, "\"input_malformed\":1") != NULL, "%s", out);
}

/* X.1125 11.1/11.3: the SCS probes a newly connected MS for its SCA; an MS
 * that leaves the probes unanswered is held at the SCA download service
 * (only the report listener and remediation reachable); its SCA, once
 * running, answers the probes (still held) and its first valid report ends
 * the hold. */
Test(agent, discovery_probe_redirect_then_release_on_report)
{
	char out[8192];

	stop_agent(SIGTERM);
	write_policy("scs: {id: scs-edge}\n"
		     "ms:\n  detect: true\n  idle_timeout: 1h\n"
		     "  probe: {port: 7444, interval: 300ms, attempts: 2, "
		     "redirect: quarantined}\n");
	start_agent();

	/* t2 appears; nobody answers on its probe port. */
	cr_assert(reach(1, WEB));
	cr_assert(ctl_until("ms", "192.0.2.11", out, sizeof(out)), "%s", out);
	for (int i = 0; i < 100; i++) {
		if (ctl(out, sizeof(out), "terminals") == 0 &&
		    strstr(out, "no-sca"))
			break;
		usleep(50000);
	}
	cr_assert(strstr(out, "192.0.2.11") && strstr(out, "no-sca"),
		  "not held after unanswered probes:\n%s", out);
	cr_expect_not(reach(1, WEB), "held: the web is out of reach");
	cr_expect(reach(1, REMEDIATION), "held: the download service is not");
	cr_assert_eq(ctl(out, sizeof(out), "ms"), 0);
	cr_expect(strstr(out, "yes") != NULL, "REDIRECTED column:\n%s", out);

	/* Its SCA starts but only answers probes: still held. */
	cr_assert_eq(tn_run(&t[1], out, sizeof(out),
			    "timeout 10 " TERMINAL " --server 192.0.2.1:7443 "
			    "--ca %s/server.crt --id t2 --key-file %s/keys sca "
			    "--probe-port 7444 --no-report --duration 2",
			    dir, dir),
		     0, "%s", out);
	cr_expect(strstr(out, "probe from scs-edge") != NULL, "%s", out);
	cr_expect(strstr(out, "evaluation=probe level=quarantined") != NULL,
		  "%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "--json ms"), 0);
	cr_expect(strstr(out, "\"sca\":true") != NULL, "%s", out);
	cr_expect_not(reach(1, WEB), "a probe answer alone ends no hold");

	/* Its first valid report ends the hold. */
	cr_assert_eq(terminal(1, out, sizeof(out), "status"), 0, "%s", out);
	cr_expect(reach(1, WEB), "released by the report");
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "no-sca") == NULL, "%s", out);
	/* An MS whose SCA reports first is never probed into a hold. */
	cr_assert_eq(terminal(2, out, sizeof(out), "status"), 0, "%s", out);
	usleep(1200000);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "192.0.2.12") == NULL, "%s", out);
}

/* X.1125 11.2/11.4 with the security evaluation policy: a report that says
 * "clean" with signatures older than the policy allows is evaluated
 * outdated; the control policy (the rules) restricts the MS and the SCI
 * response says so with the actions required; a compliant report (fresh
 * signatures) releases it. */
Test(agent, evaluation_policy_drives_response_and_control)
{
	char out[4096], cmd[256], today[16];
	time_t now = time(NULL);

	strftime(today, sizeof(today), "%Y-%m-%d", gmtime(&now));
	stop_agent(SIGTERM);
	write_policy("  - name: outdated-report\n"
		     "    on: report\n"
		     "    match: {status: outdated}\n"
		     "    react: {level: restricted, for: 1h}\n"
		     "    release_on_clean: true\n"
		     "evaluation:\n"
		     "  - name: stale-signatures\n"
		     "    result: outdated\n"
		     "    when: {signatures_older_than: 7d}\n");
	start_agent();

	cr_assert_eq(terminal(0, out, sizeof(out),
			      "--antivirus AV:2020-01-01 status"),
		     0, "%s", out);
	cr_expect(strstr(out, "evaluation=outdated level=restricted") != NULL,
		  "%s", out);
	cr_expect(strstr(out, "update") != NULL, "actions required:\n%s", out);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "outdated-report") != NULL, "%s", out);
	cr_expect(strstr(out, "stale-signatures") != NULL,
		  "the evidence names the evaluation entry:\n%s", out);

	snprintf(cmd, sizeof(cmd), "--antivirus AV:%s status", today);
	cr_assert_eq(terminal(0, out, sizeof(out), cmd), 0, "%s", out);
	cr_expect(strstr(out, "evaluation=clean level=normal") != NULL, "%s",
		  out);
	cr_assert_eq(ctl(out, sizeof(out), "terminals"), 0);
	cr_expect(strstr(out, "192.0.2.10") == NULL, "%s", out);
}

/* X.1125 12.1: an outbreak in a cell contains it and sends compulsory
 * update instructions to its MSs, each with its own delay within the
 * window; each resident SCA updates after its delay and reports, and the
 * SCS counts who complied. */
Test(agent, outbreak_staggered_updates_and_compliance)
{
	char out[8192], path[300];
	int delays[3];

	snprintf(outbreak_extra, sizeof(outbreak_extra),
		 "    update: {what: signatures, window: 1500ms, deadline: 10m, "
		 "source: remediation}\n");
	stop_agent(SIGTERM);
	write_policy("ms:\n  detect: true\n  idle_timeout: 1h\n"
		     "  probe: {port: 7444, interval: 10s, attempts: 100, "
		     "redirect: quarantined}\n");
	start_agent();

	/* Three resident SCAs, one per terminal, for 8 s. */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(tn_run(&t[i], NULL, 0,
				    "sh -c '" TERMINAL " --server 192.0.2.1:7443 "
				    "--ca %s/server.crt --id t%d --key-file "
				    "%s/keys sca --probe-port 7444 --duration 8 "
				    "> %s/sca%d.log 2>&1 &'",
				    dir, i + 1, dir, dir, i + 1),
			     0);
	/* Listed is not enough (first traffic lists an MS before its report
	 * is read): wait until all three SCAs have reported. */
	for (int i = 0; i < 100; i++) {
		const char *p = out;
		int n = 0;

		if (ctl(out, sizeof(out), "--json ms") == 0)
			while ((p = strstr(p, "\"sca\":true"))) {
				n++;
				p++;
			}
		if (n == 3)
			break;
		usleep(50000);
	}
	cr_assert(strstr(out, "192.0.2.12"), "the SCAs did not report:\n%s",
		  out);

	/* The outbreak. */
	eve_alert("192.0.2.10", "198.51.100.7");
	eve_alert("192.0.2.11", "198.51.100.7");
	eve_alert("192.0.2.12", "198.51.100.7");
	cr_assert(ctl_until("updates", "cell-a", out, sizeof(out)), "%s", out);
	cr_expect(strstr(out, "signatures") != NULL, "%s", out);
	for (int i = 0; i < 100; i++) {
		if (ctl(out, sizeof(out), "--json updates") == 0 &&
		    strstr(out, "\"complied\":3"))
			break;
		usleep(100000);
	}
	cr_expect(strstr(out, "\"instructed\":3") != NULL, "%s", out);
	cr_expect(strstr(out, "\"complied\":3") != NULL, "%s", out);

	/* Each SCA got its own delay: 0, 500 and 1000 ms, in some order. */
	for (int i = 0; i < 3; i++) {
		char *p;

		snprintf(path, sizeof(path), "%s/sca%d.log", dir, i + 1);
		cr_assert_eq(tn_run(NULL, out, sizeof(out), "cat %s", path), 0);
		p = strstr(out, "update signatures in ");
		cr_assert(p, "SCA %d was not instructed:\n%s", i + 1, out);
		delays[i] = atoi(p + strlen("update signatures in "));
	}
	cr_expect_eq(delays[0] + delays[1] + delays[2], 1500,
		     "delays %d %d %d", delays[0], delays[1], delays[2]);
	cr_expect(delays[0] != delays[1] && delays[1] != delays[2] &&
			  delays[0] != delays[2],
		  "delays %d %d %d", delays[0], delays[1], delays[2]);
}

/* X.1124 meets the packet core: a report whose key names a subscriber
 * (the key file's fourth column here; authsrv's released identity for a
 * B-TID) is about the address it covers only while that subscriber's
 * session holds it; under another subscriber's session it is refused
 * and counted. */
Test(agent, a_report_must_come_from_the_subscriber_holding_the_address)
{
	char out[8192];

	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "sed -i 's/^t1 .*/& imsi:001010000000011/' %s/keys",
			    dir),
		     0, "%s", out);
	stop_agent(SIGTERM);
	snprintf(reports_extra, sizeof(reports_extra),
		 "  sessions:\n    - socket: %s/sessions.sock\n", dir);
	write_policy(NULL);
	start_agent();
	/* no session: the key alone decides, as before */
	cr_assert_eq(terminal(0, out, sizeof(out), "status"), 0, "%s", out);
	/* the packet core gives 192.0.2.10 to another subscriber */
	send_line("sessions.sock",
		  "{\"event\": \"start\", \"session\": \"x1\", \"imsi\": "
		  "\"001010000000099\", \"ipv4\": \"192.0.2.10\"}\n");
	cr_assert(ctl_until("sessions", "001010000000099", out, sizeof(out)),
		  "%s", out);
	cr_expect_neq(terminal(0, out, sizeof(out), "status"), 0,
		      "a report under another subscriber's session: %s", out);
	cr_assert(ctl_until("--json stats", "\"subscriber-mismatch\":1", out,
			    sizeof(out)),
		  "%s", out);
	/* its own session: accepted again */
	send_line("sessions.sock",
		  "{\"event\": \"stop\", \"session\": \"x1\"}\n"
		  "{\"event\": \"start\", \"session\": \"x2\", \"imsi\": "
		  "\"001010000000011\", \"ipv4\": \"192.0.2.10\"}\n");
	cr_assert(ctl_until("sessions", "001010000000011", out, sizeof(out)),
		  "%s", out);
	cr_expect_eq(terminal(0, out, sizeof(out), "status"), 0, "%s", out);
	/* a key file line naming no IMSI stays as it was; a bad one is
	 * refused with its line */
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "sed -i 's/^t2 .*/& imsi:12x/' %s/keys", dir),
		     0, "%s", out);
	cr_expect_neq(ctl(out, sizeof(out), "reload"), 0);
	cr_expect(strstr(out, "keys:2:") && strstr(out, "imsi:12x"), "%s",
		  out);
}

/* The same through authsrv: a terminal bootstrapped as an IMSI-based IMPI
 * reports with its B-TID; authsrv releases that identity with the key.
 * Under another subscriber's session the report is refused. */
Test(agent, a_btid_report_must_come_from_the_subscriber_holding_the_address)
{
	char out[4096], sess[300], extra[300];

	snprintf(extra, sizeof(extra),
		 "  sessions:\n    - socket: %s/sessions.sock\n", dir);
	with_authsrv("001010000000011@ims.mnc001.mcc001.3gppnetwork.org",
		     extra, sess, sizeof(sess));
	send_line("sessions.sock",
		  "{\"event\": \"start\", \"session\": \"y1\", \"imsi\": "
		  "\"001010000000099\", \"ipv4\": \"192.0.2.10\"}\n");
	cr_assert(ctl_until("sessions", "001010000000099", out, sizeof(out)),
		  "%s", out);
	cr_expect_neq(tn_run(&t[0], out, sizeof(out),
			     TERMINAL " --server 192.0.2.1:7443 --ca "
			     "%s/server.crt --session %s --as-id "
			     "crs.home.example status",
			     dir, sess),
		      0, "accepted under another subscriber's session: %s",
		      out);
	cr_assert(ctl_until("--json stats", "\"subscriber-mismatch\":1", out,
			    sizeof(out)),
		  "%s", out);
	send_line("sessions.sock",
		  "{\"event\": \"stop\", \"session\": \"y1\"}\n"
		  "{\"event\": \"start\", \"session\": \"y2\", \"imsi\": "
		  "\"001010000000011\", \"ipv4\": \"192.0.2.10\"}\n");
	cr_assert(ctl_until("sessions", "001010000000011", out, sizeof(out)),
		  "%s", out);
	cr_expect_eq(tn_run(&t[0], out, sizeof(out),
			    TERMINAL " --server 192.0.2.1:7443 --ca "
			    "%s/server.crt --session %s --as-id "
			    "crs.home.example status",
			    dir, sess),
		     0, "refused under its own session: %s", out);
}
