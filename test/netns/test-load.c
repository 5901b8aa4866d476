// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent's listeners under floods of idle and slow connections, with the
 * real xcrs-agent:
 *
 *   term (eth0: 192.0.2.11 terminal, 192.0.2.10 attacker) ──veth── edge
 *   (a1: 192.0.2.1, xcrs, access; xcrs-agent; metrics on 127.0.0.1:9477)
 *
 * One source holds more connections than the report listener has slots;
 * the terminal beside it still reports. The TLS handshake and a frame have
 * their deadlines. An idle flood of the EVE socket leaves the control
 * socket and Suricata's next connection working; a control request over
 * its limit is answered; slow, reconnecting clients of /metrics do not
 * starve a scrape; a NUL in a request is answered at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include <criterion/criterion.h>

#include "agentenv.h"
#include "netns.h"

#define TERMINAL XCRS_BUILDDIR "/agent/xcrs-terminal"
#define FLOOD 1100 /* more than the report listener's 1024 slots */

static struct tn_ns term, edge;
static struct agentenv env;
static int flood[FLOOD];
static int nflood;

static const char POLICY[] =
	"version: 1\n"
	"agent:\n"
	"  pin_dir: %s\n"
	"  control_socket: %s/agent.sock\n"
	"  state_file: %s/state.json\n"
	"  audit_log: %s/audit.jsonl\n"
	"  metrics: 127.0.0.1:9477\n"
	"interfaces:\n"
	"  - {name: a1, role: access, mode: native-or-generic}\n"
	"services:\n"
	"  - name: crs\n"
	"    rules: [{prefixes: 192.0.2.1, protocol: tcp, ports: 7443}]\n"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: quarantined, allow: [crs]}\n"
	"scopes:\n"
	"  - {name: cell, id: 1, pools: 192.0.2.0/24, level: normal}\n"
	"inputs:\n"
	"  reports:\n"
	"    listen: \"192.0.2.1:7443\"\n"
	"    cert: %s/server.crt\n"
	"    key: %s/server.key\n"
	"    keys: %s/keys\n"
	"    max_skew: 60s\n"
	"  eve:\n"
	"    - socket: %s/eve.sock\n"
	"rules:\n"
	"  - name: infected-report\n"
	"    on: report\n"
	"    match: {status: infected}\n"
	"    react: {level: quarantined, for: 1h}\n"
	"  - name: ids\n"
	"    on: ids\n"
	"    match: {severity_at_most: 1}\n"
	"    react: {level: quarantined, for: 1h}\n";

static void setup(void)
{
	char text[4096], out[2048], err[8192] = "";
	struct rlimit rl;

	/* the test's own descriptors: the flood and the slow clients */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < FLOOD; i++)
		flood[i] = -1;
	tn_sweep();
	cr_assert_eq(agenv_init(&env, "load"), 0);
	cr_assert_eq(tn_ns_create(&term, "term"), 0);
	cr_assert_eq(tn_ns_create(&edge, "edge"), 0);
	cr_assert_eq(tn_veth(&edge, "a1", &term, "eth0"), 0);
	cr_assert_eq(tn_sh(&edge, "ip addr add 192.0.2.1/24 dev a1 && "
				  "ip link set a1 up"),
		     0);
	/* .11 first: the terminal's connections leave from it */
	cr_assert_eq(tn_sh(&term, "ip addr add 192.0.2.11/24 dev eth0 && "
				  "ip addr add 192.0.2.10/24 dev eth0 && "
				  "ip link set eth0 up"),
		     0);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "openssl req -x509 -newkey ec -pkeyopt "
			    "ec_paramgen_curve:P-256 -nodes -keyout "
			    "%s/server.key -out %s/server.crt -days 1 -subj "
			    "/CN=xcrs-test -addext subjectAltName=IP:192.0.2.1",
			    env.dir, env.dir),
		     0, "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "sh -c 'umask 077; echo t1 192.0.2.11 "
			    "$(openssl rand -hex 32) > %s/keys'",
			    env.dir),
		     0, "%s", out);
	snprintf(text, sizeof(text), POLICY, env.pins, env.dir, env.dir,
		 env.dir, env.dir, env.dir, env.dir, env.dir);
	cr_assert_eq(agenv_policy(&env, text), 0);
	cr_assert_eq(agenv_start(&env, &edge, NULL, err, sizeof(err)), 0,
		     "the agent did not start:\n%s", err);
}

static void close_flood(void)
{
	for (int i = 0; i < nflood; i++)
		if (flood[i] >= 0)
			close(flood[i]);
	nflood = 0;
}

static void teardown(void)
{
	close_flood();
	agenv_cleanup(&env);
	tn_ns_destroy(&term);
	tn_ns_destroy(&edge);
}

TestSuite(load, .init = setup, .fini = teardown, .timeout = 240);

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A TCP connection from the attacker's address (term) or from the edge's
 * loopback to addr:port; connected when it returns. */
static int tcp_from(const struct tn_ns *ns, const char *src, const char *dst,
		    int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = tn_socket(ns, AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
	if (src) {
		inet_pton(AF_INET, src, &sa.sin_addr);
		cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
			     "bind %s: %s", src, strerror(errno));
	}
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, dst, &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "connect %s:%d: %s", dst, port, strerror(errno));
	return fd;
}

/* Whether the peer closes fd within ms (reads until EOF or reset). */
static bool closed_within(int fd, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;
	char buf[4096];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(end - ms_now());

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return false;
		if (read(fd, buf, sizeof(buf)) <= 0)
			return true;
	}
}

static int terminal(char *out, size_t len, const char *args)
{
	return tn_run(&term, out, len,
		      TERMINAL " --server 192.0.2.1:7443 --ca %s/server.crt "
			       "--id t1 --key-file %s/keys %s",
		      env.dir, env.dir, args);
}

/* GET path from the agent's metrics listener: the whole answer in out. */
static int http_get(const char *req, size_t reqlen, char *out, size_t len)
{
	int fd = tcp_from(&edge, NULL, "127.0.0.1", 9477);
	size_t got = 0;
	ssize_t n;

	cr_assert_eq(write(fd, req, reqlen), (ssize_t)reqlen);
	while (got + 1 < len && (n = read(fd, out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	return (int)got;
}

#define sample agenv_sample

static double metric(const char *series)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	static char out[1 << 17];

	http_get(req, sizeof(req) - 1, out, sizeof(out));
	cr_assert(strstr(out, " 200 OK"), "%.300s", out);
	return sample(out, series);
}

Test(load, one_source_with_more_connections_than_slots_locks_no_one_out)
{
	char out[4096];

	/* more idle connections than the listener has slots, all from one
	 * address (the kernel completes them; the agent sees each) */
	for (nflood = 0; nflood < FLOOD; nflood++)
		flood[nflood] = tcp_from(&term, "192.0.2.10", "192.0.2.1",
					 7443);
	cr_assert_eq(terminal(out, sizeof(out),
			      "threat Worm.X --severity 1 --signature 7"),
		     0,
		     "a report beside an idle flood: %s", out);
	cr_expect(strstr(out, "quarantined"), "%s", out);
	/* the flood was refused at its source's share, counted */
	cr_expect_geq(metric("xcrs_connections_closed_total{listener="
			     "\"reports\",reason=\"source-limit\"}"),
		      FLOOD - 16);
	/* the attacker's connections that got in are closed at the
	 * handshake deadline, so the source is served again */
	close_flood();
	cr_assert_eq(terminal(out, sizeof(out), "clean"), 0, "%s", out);
}

Test(load, idle_and_stalled_report_connections_meet_their_deadlines)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int idle = tcp_from(&term, "192.0.2.10", "192.0.2.1", 7443);
	int fd = tcp_from(&term, "192.0.2.10", "192.0.2.1", 7443);
	/* a frame that announces 64 KiB and sends 10 bytes */
	static const unsigned char part[14] = { 0, 1, 0, 0, '<', 'x', 'm',
						'l', ' ', 'v', 'e', 'r' };
	SSL *ssl;

	cr_assert(ctx);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	cr_assert_eq(SSL_connect(ssl), 1, "TLS handshake with the agent");
	cr_assert_eq(SSL_write(ssl, part, sizeof(part)), (int)sizeof(part));
	/* no handshake: closed at 3 s (was: housekeeping, 10-15 s) */
	cr_expect(closed_within(idle, 6000),
		  "a silent connection was not closed at its deadline");
	/* the frame has 5 s from its first byte */
	cr_expect(closed_within(fd, 5000),
		  "a stalled frame was not closed at its deadline");
	cr_expect_geq(metric("xcrs_connections_closed_total{listener="
			     "\"reports\",reason=\"deadline\"}"),
		      2);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(idle);
	close(fd);
}

static int unix_connect(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.90s/%s", env.dir, name);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0,
		     "%s: %s", sa.sun_path, strerror(errno));
	return fd;
}

Test(load, idle_flood_of_the_eve_socket_cuts_off_neither_operator_nor_ids)
{
	static const char alert[] =
		"{\"event_type\":\"alert\",\"src_ip\":\"192.0.2.11\","
		"\"src_port\":4000,\"dest_ip\":\"192.0.2.99\",\"dest_port\":"
		"445,\"proto\":\"TCP\",\"alert\":{\"signature_id\":1,"
		"\"signature\":\"worm\",\"severity\":1}}\n";
	char out[4096];
	int eve;

	for (nflood = 0; nflood < 300; nflood++)
		flood[nflood] = unix_connect("eve.sock");
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "status"), 0,
		     "xcrsctl status beside 300 idle EVE clients: %s", out);
	/* Suricata connecting now gets in (an idle one makes room) */
	eve = unix_connect("eve.sock");
	cr_assert_eq(write(eve, alert, sizeof(alert) - 1),
		     (ssize_t)sizeof(alert) - 1);
	cr_assert(agenv_ctl_until(&env, "quarantined", "show 192.0.2.11"),
		  "the alert of a new EVE client was not acted on");
	close(eve);
	cr_expect_geq(metric("xcrs_connections_closed_total{listener="
			     "\"unix\",reason=\"evicted\"}"),
		      300 - 64);
}

Test(load, control_request_over_its_limit_is_answered)
{
	static char big[70000];
	char out[512];
	int fd = unix_connect("agent.sock");
	size_t got = 0;
	ssize_t n;

	memset(big, 'x', sizeof(big));
	cr_assert_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	while (got + 1 < sizeof(out) &&
	       (n = read(fd, out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	cr_expect(strstr(out, "\"ok\":false") && strstr(out, "longer than"),
		  "an over-long control request: \"%s\"", out);
	/* a client that says nothing is closed at its deadline */
	fd = unix_connect("agent.sock");
	cr_expect(closed_within(fd, 8000),
		  "a silent control client was not closed");
	close(fd);
}

Test(load, reconnecting_slow_clients_do_not_starve_a_scrape)
{
	static const char nul[] = "GET /metrics\0 HTTP/1.0\r\n\r\n";
	char out[256];
	int ok = 0;

	/* 40 slow clients (more than the 32 slots): each sends half a
	 * request line and waits; between them a scraper asks */
	for (nflood = 0; nflood < 40; nflood++) {
		flood[nflood] = tcp_from(&edge, NULL, "127.0.0.1", 9477);
		cr_assert_eq(write(flood[nflood], "GET /met", 8), 8);
	}
	for (int i = 0; i < 20; i++) {
		/* one of them reconnects */
		close(flood[i]);
		flood[i] = tcp_from(&edge, NULL, "127.0.0.1", 9477);
		cr_assert_eq(write(flood[i], "GET /met", 8), 8);
		ok += metric("xcrs_up") == 1;
	}
	cr_expect_eq(ok, 20, "%d of 20 scrapes beside slow clients", ok);
	/* a NUL byte: answered at once, not at the deadline */
	{
		uint64_t t0 = ms_now();

		http_get(nul, sizeof(nul) - 1, out, sizeof(out));
		cr_expect(strstr(out, " 400 "), "%s", out);
		cr_expect_lt(ms_now() - t0, 4000,
			     "a request with a NUL waited for the deadline");
	}
}
