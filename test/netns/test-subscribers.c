// SPDX-License-Identifier: GPL-2.0-only
/*
 * Subscribers, not addresses: the packet core's RADIUS accounting (sent by
 * FreeRADIUS's radclient, as a P-GW would) binds IMSIs to addresses, and
 * decisions follow the subscriber, with real frames:
 *
 *   gen (gen0) ──veth── edge (a1: xcrs, access) ─ xcrs-agent
 *                              radclient → 127.0.0.1:1813 (edge)
 *
 * A frame's fate is read from the dataplane's own counters (passed as
 * allowed, dropped for any reason) while live frames of one source run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "agentenv.h"
#include "dataplane.h"
#include "livetraffic.h"
#include "netns.h"
#include "pktbuild.h"
#include "radgen.h"
#include "radius.h"

static struct tn_ns gen, edge;
static struct agentenv env;
static struct dp *ro;

static const char POLICY[] =
	"version: 1\n"
	"agent:\n"
	"  pin_dir: %s\n"
	"  control_socket: %s/agent.sock\n"
	"  state_file: %s/state.json\n"
	"  audit_log: %s/audit.jsonl\n"
	"interfaces:\n"
	"  - {name: a1, role: access, mode: native}\n"
	"services:\n"
	"  - name: dns\n"
	"    rules: [{prefixes: [198.51.100.53, 2001:db8:53::53], "
	"protocol: udp, ports: 53}]\n"
	"  - name: remediation\n"
	"    remediation: true\n"
	"    rules: [{prefixes: [198.51.100.80], protocol: tcp, ports: 443}]\n"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: quarantined, allow: [dns]}\n"
	"scopes:\n"
	"  - {name: cell-7, id: 7, locations: [\"ecgi:001-01-0000007\"]}\n"
	"  - {name: iot, id: 8, apns: [iot.example], level: quarantined}\n"
	"  - {name: apn-internet, id: 1, pools: [192.0.2.0/24, "
	"2001:db8:1::/48], level: normal}\n"
	"rules:\n"
	"  - name: worm\n"
	"    on: ids\n"
	"    react: {level: quarantined, for: 1h}\n"
	"    escalate: {within: 1d, factor: 4}\n"
	"inputs:\n"
	"  events:\n"
	"    - socket: %s/events.sock\n"
	"  radius:\n"
	"    listen: 127.0.0.1:1813\n"
	"    clients:\n"
	"      - {address: 127.0.0.1, secret: testing123}\n"
	"  sessions:\n"
	"    - socket: %s/sessions.sock\n";

static void setup(void)
{
	char text[4096], err[8192] = "";

	tn_sweep();
	cr_assert_eq(agenv_init(&env, "subs"), 0);
	cr_assert_eq(lt_topology(&gen, &edge), 0);
	cr_assert_eq(tn_sh(&edge, "ip link set lo up"), 0);
	snprintf(text, sizeof(text), POLICY, env.pins, env.dir, env.dir,
		 env.dir, env.dir, env.dir);
	cr_assert_eq(agenv_policy(&env, text), 0);
	cr_assert_eq(agenv_start(&env, &edge, NULL, err, sizeof(err)), 0,
		     "the agent did not start:\n%s", err);
}

static void teardown(void)
{
	dp_close(ro);
	ro = NULL;
	agenv_cleanup(&env);
	tn_ns_destroy(&gen);
	tn_ns_destroy(&edge);
}

TestSuite(subscribers, .init = setup, .fini = teardown, .timeout = 240);

/* radclient in the edge namespace: its exit status (0: answered). The
 * request goes through a file (-f): a pipe would run radclient outside
 * the namespace. */
static int radacct(const char *secret, const char *attrs)
{
	char out[4096], path[300];
	FILE *f;
	int r;

	if (system("command -v radclient >/dev/null 2>&1"))
		cr_skip_test("radclient is not installed (freeradius-utils)");
	snprintf(path, sizeof(path), "%s/request.txt", env.dir);
	f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "%s\n", attrs);
	fclose(f);
	r = tn_run(&edge, out, sizeof(out),
		   "radclient -q -t 1 -r 1 -f %s 127.0.0.1:1813 acct %s 2>&1",
		   path, secret);
	if (r)
		fprintf(stderr, "radclient (%d): %s\n", r, out);
	return r;
}

#define IMSI_A "001010000000001"
#define IMSI_B "001010000000002"

static void start(const char *imsi, const char *sess, const char *v4,
		  const char *v6)
{
	char a[1024];
	int n = snprintf(a, sizeof(a),
			 "Acct-Status-Type = Start, Acct-Session-Id = \"%s\", "
			 "3GPP-IMSI = \"%s\", NAS-Identifier = \"pgw1\", "
			 "Called-Station-Id = \"internet\"",
			 sess, imsi);

	if (v4)
		n += snprintf(a + n, sizeof(a) - (size_t)n,
			      ", Framed-IP-Address = %s", v4);
	if (v6)
		snprintf(a + n, sizeof(a) - (size_t)n,
			 ", Framed-IPv6-Prefix = %s", v6);
	cr_assert_eq(radacct("testing123", a), 0, "Start %s not answered", sess);
}

static void stop(const char *sess)
{
	char a[256];

	snprintf(a, sizeof(a),
		 "Acct-Status-Type = Stop, Acct-Session-Id = \"%s\", "
		 "NAS-Identifier = \"pgw1\"",
		 sess);
	cr_assert_eq(radacct("testing123", a), 0, "Stop %s not answered", sess);
}

/* Frames from src to a web server for 150 ms: does any pass? */
static bool passes(const char *src)
{
	struct dp_config cfg = { .pin_dir = env.pins };
	bool v6 = strchr(src, ':') != NULL;
	struct pb_frame f = { .ip = { .family = v6 ? 6 : 4, .src = src,
				      .dst = v6 ? "2001:db8:80::80" :
						  "203.0.113.10",
				      .proto = IPPROTO_UDP, .sport = 40000,
				      .dport = 80, .payload = 18 } };
	uint8_t pkt[PB_MAX];
	size_t n = pb_build(&f, pkt, sizeof(pkt), NULL);
	struct livetraffic t;
	struct dp_stats a, b;
	uint64_t passed, dropped = 0;
	char err[512];
	int e;

	if (!ro)
		cr_assert_eq(dp_open(&cfg, &ro, err, sizeof(err)), 0, "%s",
			     err);
	cr_assert_eq(dp_stats_read(ro, &a), 0);
	cr_assert_eq(lt_start(&t, &gen, "gen0", pkt, n), 0);
	usleep(150000);
	lt_stop(&t, &e);
	cr_assert_eq(e, 0);
	cr_assert_eq(dp_stats_read(ro, &b), 0);
	passed = b.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets -
		 a.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets;
	for (int r = 0; r < XCRS_REASON_MAX; r++)
		dropped += b.c[XCRS_ACT_DROP][r].packets -
			   a.c[XCRS_ACT_DROP][r].packets;
	cr_assert(passed + dropped > 0, "no frame of %s was judged", src);
	cr_assert(!passed || !dropped, "%s: %llu passed and %llu dropped", src,
		  (unsigned long long)passed, (unsigned long long)dropped);
	return passed > 0;
}

static int sessions(char *out, size_t len)
{
	return agenv_ctl(&env, out, len, "sessions");
}

Test(subscribers, a_decision_follows_the_subscriber_to_its_next_addresses)
{
	char out[8192];

	start(IMSI_A, "s1", "192.0.2.10", "2001:db8:1:a::/64");
	cr_expect(passes("192.0.2.10"));
	cr_expect(passes("2001:db8:1:a::1"));
	/* the operator quarantines its IPv4 address: the subscriber's
	 * whole /64 follows */
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "react 192.0.2.10 --level quarantined"),
		     0, "%s", out);
	cr_expect_not(passes("192.0.2.10"));
	cr_expect_not(passes("2001:db8:1:a::1"));
	cr_expect_not(passes("2001:db8:1:a:1234:5678:9abc:def0"),
		      "another interface identifier of the /64 escapes");
	cr_expect(passes("2001:db8:1:b::1"), "a neighbour's /64 suffers");
	cr_assert_eq(sessions(out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "imsi:" IMSI_A) && strstr(out, "quarantined"),
		  "%s", out);

	/* it detaches and attaches again: new IPv4, new /64 */
	stop("s1");
	start(IMSI_A, "s2", "192.0.2.20", "2001:db8:1:b0::/64");
	cr_expect_not(passes("192.0.2.20"), "the new IPv4 escapes");
	cr_expect_not(passes("2001:db8:1:b0::77"), "the new /64 escapes");
	/* its old address goes to another subscriber, who starts clean */
	start(IMSI_B, "s3", "192.0.2.10", "2001:db8:1:a::/64");
	cr_expect(passes("192.0.2.10"),
		  "the next holder inherited the quarantine");
	cr_expect(passes("2001:db8:1:a::1"));

	/* released by the operator: every address of the subscriber */
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "release 192.0.2.20"),
		     0, "%s", out);
	cr_expect(passes("192.0.2.20"));
	cr_expect(passes("2001:db8:1:b0::77"));
}

Test(subscribers, refusals_retransmissions_and_accounting_on)
{
	char out[8192];

	/* a wrong secret: no answer, nothing recorded */
	cr_expect_neq(radacct("wrongsecret",
			   "Acct-Status-Type = Start, Acct-Session-Id = "
			   "\"x1\", 3GPP-IMSI = \"" IMSI_A "\", "
			   "Framed-IP-Address = 192.0.2.30"),
		      0);
	cr_assert_eq(sessions(out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "no session"), "%s", out);
	/* a Start sent again (another Acct-Delay-Time, so another
	 * Identifier and authenticator) is answered, recorded once */
	start(IMSI_A, "s1", "192.0.2.30", NULL);
	cr_expect_eq(radacct("testing123",
			  "Acct-Status-Type = Start, Acct-Session-Id = \"s1\", "
			  "3GPP-IMSI = \"" IMSI_A "\", NAS-Identifier = "
			  "\"pgw1\", Framed-IP-Address = 192.0.2.30, "
			  "Acct-Delay-Time = 5"),
		     0);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "--json sessions"), 0,
		     "%s", out);
	{
		int n = 0;

		for (const char *p = out; (p = strstr(p, "\"session\""));
		     p++)
			n++;
		cr_expect_eq(n, 1, "%s", out);
	}
	/* a Stop of a session nobody knows: answered (it is over) */
	stop("never-started");
	/* Accounting-On: the NAS restarted, its sessions are gone */
	start(IMSI_B, "s2", "192.0.2.31", NULL);
	cr_expect_eq(radacct("testing123", "Acct-Status-Type = Accounting-On, "
					"NAS-Identifier = \"pgw1\""),
		     0);
	cr_assert_eq(sessions(out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "no session"), "%s", out);
	/* a malformed request (no session id on a Start) gets no answer */
	cr_expect_neq(radacct("testing123",
			   "Acct-Status-Type = Start, 3GPP-IMSI = \"" IMSI_A
			   "\", Framed-IP-Address = 192.0.2.32"),
		      0);
}

/* The session feed with the same facts, for cores that export sessions
 * another way; the address-only form keeps working beside it. */
static void feed(const char *lines)
{
	char path[300];
	int r;

	snprintf(path, sizeof(path), "%s/sessions.sock", env.dir);
	r = tn_unix_write(path, lines);
	cr_assert_eq(r, 0, "%s: %s", path, strerror(-r));
}

Test(subscribers, the_json_session_feed_carries_the_same_facts)
{
	char out[8192];

	feed("{\"event\": \"start\", \"session\": \"j1\", \"nas\": "
	     "\"smf1\", \"imsi\": \"" IMSI_A "\", \"msisdn\": "
	     "\"491700000001\", \"ipv4\": \"192.0.2.40\", "
	     "\"ipv6_prefix\": \"2001:db8:1:40::/64\", \"apn\": \"ims\", "
	     "\"location\": \"tai:001-01-0001\"}\n"
	     "{\"event\": \"start\", \"session\": \"j2\", \"imsi\": "
	     "\"12x\", \"ipv4\": \"192.0.2.41\"}\n"
	     "{\"event\": \"connect\", \"ms\": \"192.0.2.42\"}\n");
	cr_assert(agenv_ctl_until(&env, agenv_stat_line("input_malformed", 1),
				  "stats"),
		  "the bad IMSI was not refused");
	cr_assert_eq(sessions(out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "imsi:" IMSI_A) && strstr(out, "192.0.2.40") &&
			  strstr(out, "2001:db8:1:40::/64") &&
			  strstr(out, "ims") && strstr(out, "tai:001-01-0001"),
		  "%s", out);
	cr_expect(!strstr(out, "192.0.2.41"), "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "sessions --apn ims"),
		     0, "%s", out);
	cr_expect(strstr(out, "192.0.2.40"), "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "sessions --apn internet"),
		     0, "%s", out);
	cr_expect(strstr(out, "no session"), "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "sessions --location tai:001-01"),
		     0, "%s", out);
	cr_expect(strstr(out, "192.0.2.40"), "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "sessions --location ecgi:"),
		     0, "%s", out);
	cr_expect(strstr(out, "no session"), "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "ms"), 0, "%s", out);
	cr_expect(strstr(out, "192.0.2.42") && strstr(out, "192.0.2.40"),
		  "the address-only line or the start: %s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "react 2001:db8:1:40::99 --level quarantined"),
		     0, "%s", out);
	cr_expect_not(passes("192.0.2.40"),
		      "a reaction on one IPv6 address did not reach the "
		      "subscriber's IPv4");
	cr_expect_not(passes("2001:db8:1:40::1"));
	feed("{\"event\": \"stop\", \"session\": \"j1\", \"nas\": "
	     "\"smf1\"}\n");
	cr_assert(agenv_ctl_until(&env, "no session", "sessions"));
	cr_expect(passes("192.0.2.40"), "its address is held after Stop");
}

/* The operator names the subscriber, attached or not. */
Test(subscribers, the_operator_reacts_on_a_subscriber_by_its_imsi)
{
	char out[8192];

	/* not attached yet: remembered, applied at its Start */
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "react imsi:" IMSI_B " --level quarantined "
			       "--reason lost-device"),
		     0, "%s", out);
	cr_expect(strstr(out, "not attached"), "%s", out);
	start(IMSI_B, "o1", "192.0.2.50", "2001:db8:1:50::/64");
	cr_expect_not(passes("192.0.2.50"));
	cr_expect_not(passes("2001:db8:1:50:aaaa::1"));
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show imsi:" IMSI_B), 0,
		     "%s", out);
	cr_expect(strstr(out, "quarantined") && strstr(out, "lost-device") &&
			  strstr(out, "192.0.2.50") &&
			  strstr(out, "2001:db8:1:50::/64"),
		  "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show 192.0.2.50"), 0,
		     "%s", out);
	cr_expect(strstr(out, "held by:     imsi:" IMSI_B), "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "release imsi:" IMSI_B),
		     0, "%s", out);
	cr_expect(passes("192.0.2.50"));
	cr_expect(passes("2001:db8:1:50:aaaa::1"));
	/* what the operator gets wrong is refused with the reason */
	cr_expect_neq(agenv_ctl(&env, out, sizeof(out),
				"release imsi:" IMSI_B),
		      0);
	cr_expect(strstr(out, "no decision"), "%s", out);
	cr_expect_neq(agenv_ctl(&env, out, sizeof(out),
				"react imsi:12ab --level quarantined"),
		      0);
	cr_expect(strstr(out, "digits only"), "%s", out);
	cr_expect_neq(agenv_ctl(&env, out, sizeof(out),
				"react imsi:" IMSI_B " --level nosuch"),
		      0);
	cr_expect(strstr(out, "no level"), "%s", out);
	cr_expect_neq(agenv_ctl(&env, out, sizeof(out), "show imsi:999999"),
		      0);
	cr_expect(strstr(out, "no subscriber"), "%s", out);
}

/* kill -9 after a Start: the dataplane entry is there before the first
 * packet, and a new agent knows the session and the subscriber from the
 * state file (its Stop still releases the addresses). */
Test(subscribers, kill9_after_a_start_keeps_enforcement_and_the_session)
{
	char out[8192], err[8192] = "", path[300], buf[16384];
	FILE *f;
	size_t n = 0;

	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "react imsi:" IMSI_A " --level quarantined"),
		     0, "%s", out);
	start(IMSI_A, "k1", "192.0.2.60", "2001:db8:1:60::/64");
	/* a session id and APN that JSON must escape, through the feed */
	feed("{\"event\": \"start\", \"session\": \"q\\\"1\\\\x\", "
	     "\"nas\": \"smf-2\", \"imsi\": \"" IMSI_B "\", \"ipv4\": "
	     "\"192.0.2.61\", \"apn\": \"odd\\\"apn\"}\n");
	snprintf(path, sizeof(path), "%s/state.json.sessions", env.dir);
	for (int i = 0; i < 50; i++) {
		f = fopen(path, "r");
		n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		if (strstr(buf, "\"k1\"") && strstr(buf, "smf-2"))
			break;
		usleep(100000);
	}
	cr_assert(strstr(buf, "\"k1\""), "the session never reached %s", path);
	agenv_stop(&env, SIGKILL);
	cr_expect_not(passes("192.0.2.60"), "no agent: enforcement lost");
	cr_expect_not(passes("2001:db8:1:60::5"));
	cr_assert_eq(agenv_start(&env, &edge, NULL, err, sizeof(err)), 0,
		     "the agent did not start again:\n%s", err);
	cr_assert_eq(sessions(out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "imsi:" IMSI_A) && strstr(out, "192.0.2.60") &&
			  strstr(out, "quarantined"),
		  "the session was forgotten:\n%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "--json sessions"), 0,
		     "%s", out);
	cr_expect(strstr(out, "\"q\\\"1\\\\x\"") &&
			  strstr(out, "\"odd\\\"apn\""),
		  "a session with characters to escape came back otherwise:"
		  "\n%s", out);
	cr_expect_not(passes("192.0.2.60"));
	stop("k1");
	cr_expect(passes("192.0.2.60"), "its Stop after the restart");
	cr_expect(passes("2001:db8:1:60::5"));
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show imsi:" IMSI_A),
		     0, "%s", out);
	cr_expect(strstr(out, "quarantined"), "the decision stays: %s", out);
}

/* An accounting request with the facts a P-GW sends: status ("Start",
 * "Interim-Update"), APN, addresses (NULL: none) and the cell as
 * 3GPP-User-Location-Info (ECGI of PLMN 001-01, NULL: none). */
static void acct_req(const char *status, const char *sess, const char *imsi,
		 const char *apn, const char *v4, const char *v6,
		 unsigned ecgi)
{
	char a[1024];
	int n = snprintf(a, sizeof(a),
			 "Acct-Status-Type = %s, Acct-Session-Id = \"%s\", "
			 "3GPP-IMSI = \"%s\", NAS-Identifier = \"pgw1\", "
			 "Called-Station-Id = \"%s\"",
			 status, sess, imsi, apn);

	if (v4)
		n += snprintf(a + n, sizeof(a) - (size_t)n,
			      ", Framed-IP-Address = %s", v4);
	if (v6)
		n += snprintf(a + n, sizeof(a) - (size_t)n,
			      ", Framed-IPv6-Prefix = %s", v6);
	if (ecgi)
		/* type 129 (ECGI), MCC 001 MNC 01 in BCD, 28-bit ECI */
		snprintf(a + n, sizeof(a) - (size_t)n,
			 ", 3GPP-User-Location-Info = 0x8100f110%08x", ecgi);
	cr_assert_eq(radacct("testing123", a), 0, "%s %s not answered", status,
		     sess);
}

/* A cell is a scope: contained, it holds whoever is in it now, and a
 * subscriber moving into it (Interim-Update) is held from then on, one
 * moving out is free again; the scope of a session, not of its address
 * pool (192.0.2.0/24 is apn-internet). */
Test(subscribers, a_cell_containment_follows_a_subscriber_moving_into_the_cell)
{
	char out[8192];

	acct_req("Start", "c1", IMSI_A, "internet", "192.0.2.70",
	     "2001:db8:1:70::/64", 8);
	acct_req("Start", "c2", IMSI_B, "internet", "192.0.2.71", NULL, 7);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "scope cell-7 contain"),
		     0, "%s", out);
	cr_expect_not(passes("192.0.2.71"), "the subscriber in the cell");
	cr_expect(passes("192.0.2.70"), "a subscriber of another cell");
	cr_expect(passes("2001:db8:1:70::9"));
	/* A moves into cell 7 */
	acct_req("Interim-Update", "c1", IMSI_A, "internet", "192.0.2.70",
	     "2001:db8:1:70::/64", 7);
	cr_expect_not(passes("192.0.2.70"), "it moved into the contained cell");
	cr_expect_not(passes("2001:db8:1:70::9"),
		      "its /64 moved into the contained cell");
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show imsi:" IMSI_A),
		     0, "%s", out);
	cr_expect(strstr(out, "ecgi:001-01-0000007"), "%s", out);
	/* and out again */
	acct_req("Interim-Update", "c1", IMSI_A, "internet", "192.0.2.70",
	     "2001:db8:1:70::/64", 9);
	cr_expect(passes("192.0.2.70"), "it left the cell");
	cr_expect(passes("2001:db8:1:70::9"));
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "scope cell-7 release"),
		     0, "%s", out);
	cr_expect(passes("192.0.2.71"));
}

/* A session's entry is written at Start with its scope's level, before
 * its first packet (the iot APN is held at quarantined); at Stop it goes,
 * and the next holder of the address has its own. */
Test(subscribers, an_undecided_session_gets_its_scope_s_level_at_start_and_loses_it_at_stop)
{
	acct_req("Start", "i1", IMSI_A, "iot.example", "192.0.2.80",
	     "2001:db8:1:80::/64", 0);
	cr_expect_not(passes("192.0.2.80"), "the iot APN's level");
	cr_expect_not(passes("2001:db8:1:80::abcd"));
	stop("i1");
	cr_expect(passes("192.0.2.80"), "its entry outlived its session");
	cr_expect(passes("2001:db8:1:80::abcd"));
	acct_req("Start", "i2", IMSI_B, "IOT.EXAMPLE", "192.0.2.80", NULL, 0);
	cr_expect_not(passes("192.0.2.80"), "APNs compare in any case");
	stop("i2");
	acct_req("Start", "i3", IMSI_B, "internet", "192.0.2.80", NULL, 0);
	cr_expect(passes("192.0.2.80"));
}

static void alert(const char *terminal)
{
	char path[300], line[256];
	int r;

	snprintf(path, sizeof(path), "%s/events.sock", env.dir);
	snprintf(line, sizeof(line),
		 "{\"terminal\":\"%s\",\"severity\":1,\"signature_id\":"
		 "9000002,\"signature\":\"worm\"}\n",
		 terminal);
	r = tn_unix_write(path, line);
	cr_assert_eq(r, 0, "%s: %s", path, strerror(-r));
}

/* The until of the subscriber's decision, seconds from now (show --json),
 * waiting for it to appear. */
static long decision_in(const char *imsi)
{
	char out[8192], cmd[128];

	snprintf(cmd, sizeof(cmd), "--json show imsi:%s", imsi);
	for (int i = 0; i < 50; i++) {
		const char *u;
		struct tm tm = { 0 };

		cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "%s", cmd), 0,
			     "%s", out);
		u = strstr(out, "\"until\": \"");
		if (!u)
			u = strstr(out, "\"until\":\"");
		if (u && strptime(strchr(u + 8, '"') + 1, "%Y-%m-%dT%H:%M:%S",
				  &tm))
			return (long)(timegm(&tm) - time(NULL));
		usleep(100000);
	}
	cr_assert_fail("no decision with an end for imsi:%s: %s", imsi, out);
	return 0;
}

/* Escalation is the subscriber's: a second offence from its next address
 * (after a detach) is a second offence (4 h, not 1 h), and the history
 * survives a restart of the agent. */
Test(subscribers, repeat_offences_escalate_across_addresses_and_restarts)
{
	char out[8192], err[8192] = "";
	long in;

	acct_req("Start", "e1", IMSI_A, "internet", "192.0.2.90", NULL, 0);
	alert("192.0.2.90");
	in = decision_in(IMSI_A);
	cr_expect(in > 3500 && in <= 3600, "1st offence: %ld s", in);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "release imsi:" IMSI_A), 0, "%s", out);
	stop("e1");
	acct_req("Start", "e2", IMSI_A, "internet", "192.0.2.91", NULL, 0);
	cr_expect(passes("192.0.2.91"));
	alert("192.0.2.91");
	in = decision_in(IMSI_A);
	cr_expect(in > 4 * 3600 - 100 && in <= 4 * 3600,
		  "2nd offence from its next address: %ld s", in);
	cr_expect_not(passes("192.0.2.91"));
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show imsi:" IMSI_A),
		     0, "%s", out);
	cr_expect(strstr(out, "offence"), "the history is not shown: %s", out);
	/* a restart keeps the history: the 3rd offence is 16 h */
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "release imsi:" IMSI_A), 0, "%s", out);
	agenv_stop(&env, SIGTERM);
	cr_assert_eq(agenv_start(&env, &edge, NULL, err, sizeof(err)), 0,
		     "the agent did not start again:\n%s", err);
	alert("192.0.2.91");
	in = decision_in(IMSI_A);
	cr_expect(in > 16 * 3600 - 100 && in <= 16 * 3600,
		  "3rd offence after a restart: %ld s", in);
	/* the operator forgets the history: the next offence is a first
	 * one again, also after a restart */
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "forget 192.0.2.91"),
		     0, "%s", out);
	cr_expect(strstr(out, "3 offences forgotten"), "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show imsi:" IMSI_A),
		     0, "%s", out);
	cr_expect_null(strstr(out, "offence:"), "%s", out);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out),
			       "release imsi:" IMSI_A), 0, "%s", out);
	agenv_stop(&env, SIGTERM);
	cr_assert_eq(agenv_start(&env, &edge, NULL, err, sizeof(err)), 0,
		     "the agent did not start again:\n%s", err);
	alert("192.0.2.91");
	in = decision_in(IMSI_A);
	cr_expect(in > 3500 && in <= 3600, "after forget: %ld s", in);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "forget imsi:00101"
			       "9999999999"), 1, "%s", out);
}

/* unassigned_source: with the packet core saying who holds which
 * address, a pool address no session holds is not the pool's terminal:
 * it gets the level the policy names (a terminal spoofing a free
 * address); a session's address has the pool's level, and at Stop the
 * address is unassigned again. A reload turns it on and off. */
Test(subscribers, a_pool_address_no_session_holds_gets_the_unassigned_level)
{
	char text[4096], out[8192];

	snprintf(text, sizeof(text), POLICY, env.pins, env.dir, env.dir,
		 env.dir, env.dir, env.dir);
	strncat(text, "unassigned_source: quarantined\n",
		sizeof(text) - strlen(text) - 1);
	cr_assert_eq(agenv_policy(&env, text), 0);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "reload"), 0, "%s",
		     out);
	cr_expect_not(passes("192.0.2.101"), "a free pool address");
	cr_expect_not(passes("2001:db8:1:101::1"));
	acct_req("Start", "u1", IMSI_A, "internet", "192.0.2.101",
		 "2001:db8:1:101::/64", 0);
	cr_expect(passes("192.0.2.101"), "its session's address");
	cr_expect(passes("2001:db8:1:101::1"));
	cr_expect_not(passes("192.0.2.102"), "a neighbour without a session");
	stop("u1");
	cr_expect_not(passes("192.0.2.101"), "unassigned again after Stop");
	cr_expect_not(passes("2001:db8:1:101::1"));
	/* off again: the pool's level for every pool address */
	snprintf(text, sizeof(text), POLICY, env.pins, env.dir, env.dir,
		 env.dir, env.dir, env.dir);
	cr_assert_eq(agenv_policy(&env, text), 0);
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "reload"), 0, "%s",
		     out);
	cr_expect(passes("192.0.2.101"));
}

/* 100 000 sessions from one NAS, 64 requests outstanding: every Start
 * answered (its response authenticator right), every session recorded;
 * a Stop of all of them leaves none. */
Test(subscribers, a_hundred_thousand_sessions, .timeout = 600)
{
	struct radgen_result res = { 0 };
	char out[8192];
	int r;

	r = radgen_run(&edge, 1813, "testing123", RADIUS_START, 0, 100000, 64,
		       &res);
	cr_assert_eq(r, 0, "%s: %llu of %llu answered", strerror(-r),
		     (unsigned long long)res.answered,
		     (unsigned long long)res.sent);
	printf("subscribers: 100000 Starts in %.2f s (%.0f/s), %llu sent "
	       "again\n",
	       res.secs, 100000 / res.secs, (unsigned long long)res.resent);
	cr_assert_eq(res.answered, 100000);
	cr_assert(agenv_ctl_until(&env, agenv_stat_line("session_starts",
							 100000),
				  "stats"),
		  "not every Start was recorded");
	cr_assert_eq(agenv_ctl(&env, out, sizeof(out), "show imsi:00101%010u",
			       77777u),
		     0, "%s", out);
	cr_expect(strstr(out, "g77777") && strstr(out, "198.19.47.209") &&
			  strstr(out, "2001:db8:1:2fd1::/64"),
		  "%s", out);
	memset(&res, 0, sizeof(res));
	r = radgen_run(&edge, 1813, "testing123", RADIUS_STOP, 0, 100000, 64,
		       &res);
	cr_assert_eq(r, 0, "%s", strerror(-r));
	cr_assert(agenv_ctl_until(&env, agenv_stat_line("session_stops",
							 100000),
				  "stats"));
	cr_assert_eq(sessions(out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "no session"), "%.300s", out);
}
