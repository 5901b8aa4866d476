// SPDX-License-Identifier: GPL-2.0-only
/*
 * The RADIUS accounting codec against the real client: FreeRADIUS's
 * radclient (freeradius-utils, with its 3GPP dictionary) sends
 * Accounting-Requests on loopback to a server made of the codec (parse,
 * verify, respond); radclient accepts the response only if its
 * authenticator is right. Skipped where radclient is not installed
 * (ci/setup installs it).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <criterion/criterion.h>

#include "radius.h"

static const uint8_t SECRET[] = "testing123";

struct server {
	int fd;
	unsigned port;
	pthread_t th;
	int received, verified, refused;
	int last_verify;
	struct radius_acct last;
	char err[256];
};

static void *serve(void *arg)
{
	struct server *s = arg;
	uint8_t buf[RADIUS_MAX + 64], out[64];
	struct sockaddr_in from;
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	for (;;) {
		socklen_t fl = sizeof(from);
		struct radius_acct a;
		ssize_t n;
		int r;

		if (poll(&p, 1, 4000) <= 0)
			return NULL;
		n = recvfrom(s->fd, buf, sizeof(buf), 0, (void *)&from, &fl);
		if (n < 0)
			return NULL;
		if (n == 0)
			return NULL; /* the test's stop */
		s->received++;
		if (radius_parse(buf, (size_t)n, &a, s->err, sizeof(s->err))) {
			s->refused++;
			continue;
		}
		s->last = a;
		r = radius_verify(buf, &a, SECRET, sizeof(SECRET) - 1);
		s->last_verify = r;
		if (r) {
			s->refused++;
			continue;
		}
		s->verified++;
		r = radius_response(&a, SECRET, sizeof(SECRET) - 1, out,
				    sizeof(out));
		sendto(s->fd, out, (size_t)r, 0, (void *)&from, fl);
	}
}

static void start(struct server *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_geq(s->fd, 0);
	cr_assert_eq(bind(s->fd, (void *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(s->fd, (void *)&a, &l), 0);
	s->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&s->th, NULL, serve, s), 0);
}

static void stop(struct server *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)s->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int c = socket(AF_INET, SOCK_DGRAM, 0);

	sendto(c, "", 0, 0, (void *)&a, sizeof(a));
	close(c);
	pthread_join(s->th, NULL);
	close(s->fd);
}

/* radclient's exit status for one request (attribute list). */
static int radclient(const struct server *s, const char *secret,
		     const char *attrs)
{
	char cmd[2048];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "echo '%s' | radclient -q -t 1 -r 1 127.0.0.1:%u acct %s "
		 ">/dev/null 2>&1",
		 attrs, s->port, secret);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void need_radclient(void)
{
	if (system("command -v radclient >/dev/null 2>&1"))
		cr_skip_test("radclient is not installed (freeradius-utils)");
}

#define START3GPP                                                             \
	"Acct-Status-Type = Start, Acct-Session-Id = \"pgw1-0001\", "         \
	"3GPP-IMSI = \"001010123456789\", 3GPP-IMEISV = \"3534900698733101\", " \
	"3GPP-RAT-Type = EUTRAN, "                                            \
	"3GPP-User-Location-Info = 0x8200f110000100f11000000101, "            \
	"Framed-IP-Address = 192.0.2.10, "                                    \
	"Framed-IPv6-Prefix = 2001:db8:1:1::/64, "                            \
	"Calling-Station-Id = \"491700000001\", "                             \
	"Called-Station-Id = \"internet.example\", "                          \
	"NAS-IP-Address = 198.51.100.1, NAS-Identifier = \"pgw1\""

Test(radclient, a_3gpp_start_is_answered_and_decoded)
{
	struct server s;
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 1 };

	need_radclient();
	start(&s);
	cr_expect_eq(radclient(&s, "testing123", START3GPP), 0,
		     "radclient did not accept the response");
	stop(&s);
	cr_assert_eq(s.verified, 1, "received %d, refused %d (%s, verify %d)",
		     s.received, s.refused, s.err, s.last_verify);
	cr_expect_eq(s.last.status, RADIUS_START);
	cr_expect_str_eq(s.last.session, "pgw1-0001");
	cr_expect_str_eq(s.last.imsi, "001010123456789");
	cr_expect_str_eq(s.last.imeisv, "3534900698733101");
	cr_expect(s.last.has_rat && s.last.rat == 6);
	cr_expect_str_eq(s.last.location,
			 "tai:001-01-0001/ecgi:001-01-0000101");
	cr_expect(s.last.has_ipv4 &&
		  !memcmp(s.last.ipv4, "\xc0\x00\x02\x0a", 4));
	cr_expect(s.last.has_ipv6 && s.last.ipv6_plen == 64 &&
		  !memcmp(s.last.ipv6_prefix, v6, 16));
	cr_expect_str_eq(s.last.msisdn, "491700000001");
	cr_expect_str_eq(s.last.apn, "internet.example");
	cr_expect_str_eq(s.last.nas_id, "pgw1");
}

Test(radclient, message_authenticator_interim_stop_and_accounting_on)
{
	struct server s;

	need_radclient();
	start(&s);
	cr_expect_eq(radclient(&s, "testing123",
			       START3GPP ", Message-Authenticator = 0x00"),
		     0);
	cr_expect(s.last.has_msg_auth);
	cr_expect_eq(radclient(&s, "testing123",
			       "Acct-Status-Type = Interim-Update, "
			       "Acct-Session-Id = \"pgw1-0001\", "
			       "Acct-Delay-Time = 3, "
			       "3GPP-User-Location-Info = 0x8000f1100002"),
		     0);
	cr_expect_str_eq(s.last.location, "tai:001-01-0002");
	cr_expect(s.last.has_delay && s.last.delay == 3);
	cr_expect_eq(radclient(&s, "testing123",
			       "Acct-Status-Type = Stop, "
			       "Acct-Session-Id = \"pgw1-0001\""),
		     0);
	cr_expect_eq(s.last.status, RADIUS_STOP);
	cr_expect_eq(radclient(&s, "testing123",
			       "Acct-Status-Type = Accounting-On, "
			       "NAS-IP-Address = 198.51.100.1"),
		     0);
	cr_expect_eq(s.last.status, RADIUS_ACCT_ON);
	stop(&s);
	cr_expect_eq(s.verified, 4, "received %d, refused %d (%s, verify %d)",
		     s.received, s.refused, s.err, s.last_verify);
}

Test(radclient, a_wrong_secret_gets_no_answer)
{
	struct server s;

	need_radclient();
	start(&s);
	cr_expect_neq(radclient(&s, "wrongsecret", START3GPP), 0,
		      "radclient got an answer under the wrong secret");
	cr_expect_neq(radclient(&s, "wrongsecret",
				START3GPP ", Message-Authenticator = 0x00"),
		      0);
	stop(&s);
	cr_expect_eq(s.verified, 0);
	cr_expect_geq(s.refused, 2);
	cr_expect_eq(s.last_verify, -EACCES);
}
