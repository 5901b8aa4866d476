// SPDX-License-Identifier: GPL-2.0-only
/*
 * Real packets through a real attachment. Three namespaces:
 *
 *   term (t0) ──veth── (e0) edge (e1) ──veth── (s0) srv
 *   192.0.2.10 .13 .14  192.0.2.1  198.51.100.1   198.51.100.53 .80 .99
 *   2001:db8:1::a ::d    2001:db8:1::1  2001:db8:ff::1  2001:db8:53::53 ...
 *   192.0.2.60 (gNB, outside the pools: a packet whose own
 *   address is a subscriber is never decapsulated)
 *
 * xcrs runs on e0 in the access role with the reference policy of
 * lib/xdptest.c (192.0.2.10 normal, .13 quarantined, .14 blocked). The test
 * holds sockets in every namespace and asserts what arrives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "netns.h"
#include "pktbuild.h"
#include "xdptest.h"

static struct tn_ns term, edge, srv;
static struct dp *dp;
static char pins[256];

#define T_NORMAL4 "192.0.2.10"
#define T_QUAR4	  "192.0.2.13"
#define T_BLOCK4  "192.0.2.14"
#define T_NORMAL6 "2001:db8:1::a"
#define T_QUAR6	  "2001:db8:1::d"
#define T_GNB4	  "192.0.2.60"
#define E_ACCESS4 "192.0.2.1"

static void topology(void)
{
	int r = 0;

	tn_sweep();
	tn_pin_dir(pins, sizeof(pins), "topo");
	tn_rm_pins(pins);
	cr_assert_eq(tn_ns_create(&term, "term"), 0);
	cr_assert_eq(tn_ns_create(&edge, "edge"), 0);
	cr_assert_eq(tn_ns_create(&srv, "srv"), 0);
	cr_assert_eq(tn_veth(&term, "t0", &edge, "e0"), 0);
	cr_assert_eq(tn_veth(&edge, "e1", &srv, "s0"), 0);

	r |= tn_sh(&term, "ip addr add 192.0.2.10/24 dev t0 && "
			  "ip addr add 192.0.2.13/24 dev t0 && "
			  "ip addr add 192.0.2.14/24 dev t0 && "
			  "ip addr add 192.0.2.60/24 dev t0 && "
			  "ip -6 addr add 2001:db8:1::a/64 dev t0 nodad && "
			  "ip -6 addr add 2001:db8:1::d/64 dev t0 nodad && "
			  "ip route add default via 192.0.2.1 && "
			  "ip -6 route add default via 2001:db8:1::1");
	r |= tn_sh(&edge, "ip addr add 192.0.2.1/24 dev e0 && "
			  "ip -6 addr add 2001:db8:1::1/64 dev e0 nodad && "
			  "ip addr add 198.51.100.1/24 dev e1 && "
			  "ip -6 addr add 2001:db8:ff::1/64 dev e1 nodad && "
			  "ip -6 route add 2001:db8:53::/48 via 2001:db8:ff::2 && "
			  "ip -6 route add 2001:db8:80::/48 via 2001:db8:ff::2 && "
			  "ip -6 route add 2001:db8:99::/48 via 2001:db8:ff::2 && "
			  "sysctl -qw net.ipv4.ip_forward=1 && "
			  "sysctl -qw net.ipv6.conf.all.forwarding=1");
	r |= tn_sh(&srv, "ip addr add 198.51.100.53/24 dev s0 && "
			 "ip addr add 198.51.100.80/24 dev s0 && "
			 "ip addr add 198.51.100.99/24 dev s0 && "
			 "ip -6 addr add 2001:db8:ff::2/64 dev s0 nodad && "
			 "ip -6 addr add 2001:db8:53::53/128 dev s0 nodad && "
			 "ip -6 addr add 2001:db8:80::80/128 dev s0 nodad && "
			 "ip -6 addr add 2001:db8:99::99/128 dev s0 nodad && "
			 "ip route add default via 198.51.100.1 && "
			 "ip -6 route add default via 2001:db8:ff::1");
	cr_assert_eq(r, 0, "configuring the topology");
}

/* The test's pinned dataplane with the reference policy and hosts. */
static struct dp_config pinned_cfg(void)
{
	struct dp_config cfg = { .pin_dir = pins, .max_subs = 1024,
				 .max_tracked = 1024 };

	return cfg;
}

static void open_reference(void)
{
	struct dp_config cfg = pinned_cfg();
	struct dp_policy p;
	char err[512];

	cr_assert_eq(dp_open(&cfg, &dp, err, sizeof(err)), 0, "%s", err);
	xt_policy(&p, XCRS_LEVEL_PASS);
	xt_policy_add_ran(&p, T_GNB4 "/32");
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_assert_eq(xt_add_subs(dp), 0, "%s", dp_errmsg(dp));
}

static void open_and_attach(void)
{
	struct dp_attach_opts ao = { .role = XCRS_ROLE_ACCESS,
				     .mode = DP_MODE_NATIVE };
	int r;

	open_reference();
	cr_assert_eq(tn_enter(&edge), 0);
	r = dp_attach(dp, "e0", &ao);
	tn_leave();
	cr_assert_eq(r, 0, "%s", dp_errmsg(dp));
}

static void setup_attached(void)
{
	topology();
	open_and_attach();
}

static void teardown(void)
{
	if (edge.fd > 0 && !tn_enter(&edge)) {
		struct dp *d = dp;
		char err[256];

		if (!d) {
			struct dp_config cfg = pinned_cfg();

			if (dp_open(&cfg, &d, err, sizeof(err)))
				d = NULL;
		}
		if (d) {
			if (dp_attached(d, "e0") > 0)
				dp_detach(d, "e0");
			dp_unpin(d);
			if (d != dp)
				dp_close(d);
		}
		tn_leave();
	}
	dp_close(dp);
	dp = NULL;
	tn_ns_destroy(&term);
	tn_ns_destroy(&edge);
	tn_ns_destroy(&srv);
	tn_rm_pins(pins);
	tn_sweep();
}

/* ---- socket helpers ---- */

static socklen_t sockaddr_of(const char *addr, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (void *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
	return sizeof(*s4);
}

static int bound(const struct tn_ns *ns, int type, const char *addr,
		 uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(addr, port, &ss);
	int one = 1;
	int fd = tn_socket(ns, ss.ss_family, type | SOCK_NONBLOCK, 0);

	cr_assert_geq(fd, 0, "socket in %s: %s", ns->name, strerror(-fd));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(fd, (void *)&ss, sl), 0, "bind %s:%u in %s: %s",
		     addr, port, ns->name, strerror(errno));
	return fd;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Does a UDP datagram from src reach dst:port? */
static bool udp_arrives(const char *src, const char *dst, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(dst, port, &ss);
	int s = bound(&srv, SOCK_DGRAM, dst, port);
	int c = bound(&term, SOCK_DGRAM, src, 0);
	char buf[64];
	bool got = false;

	cr_assert_eq(sendto(c, "xcrs", 4, 0, (void *)&ss, sl), 4);
	if (readable(s, 700))
		got = recv(s, buf, sizeof(buf), 0) == 4;
	close(c);
	close(s);
	return got;
}

/* Does a TCP connection from src to dst:port complete? */
static bool tcp_connects(const char *src, const char *dst, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(dst, port, &ss);
	int l = bound(&srv, SOCK_STREAM, dst, port);
	int c = bound(&term, SOCK_STREAM, src, 0);
	struct pollfd p = { .fd = c, .events = POLLOUT };
	int err = -1;
	socklen_t el = sizeof(err);
	bool ok = false;

	cr_assert_eq(listen(l, 4), 0);
	if (connect(c, (void *)&ss, sl) && errno != EINPROGRESS)
		cr_assert_fail("connect: %s", strerror(errno));
	/* The SYN is retransmitted after a second: 900 ms sees one try. */
	if (poll(&p, 1, 900) == 1 &&
	    !getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el) && !err)
		ok = true;
	close(c);
	close(l);
	return ok;
}

static uint16_t icmp_csum(const void *d, size_t n)
{
	return htons(pb_csum(d, n, 0));
}

/* Does dst answer an ICMP echo from src? */
static bool ping4(const char *src, const char *dst)
{
	struct sockaddr_storage ss, from;
	int fd = tn_socket(&term, AF_INET, SOCK_RAW | SOCK_NONBLOCK,
			   IPPROTO_ICMP);
	struct icmphdr req = { .type = ICMP_ECHO };
	uint8_t buf[512];
	socklen_t fl;
	struct timespec t0, t;

	cr_assert_geq(fd, 0);
	sockaddr_of(src, 0, &ss);
	cr_assert_eq(bind(fd, (void *)&ss, sizeof(struct sockaddr_in)), 0);
	req.un.echo.id = htons(0x5843);
	req.un.echo.sequence = htons(1);
	req.checksum = icmp_csum(&req, sizeof(req));
	sockaddr_of(dst, 0, &ss);
	cr_assert_eq(sendto(fd, &req, sizeof(req), 0, (void *)&ss,
			    sizeof(struct sockaddr_in)),
		     (ssize_t)sizeof(req));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t n;
		long left;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = 700 - ((t.tv_sec - t0.tv_sec) * 1000 +
			      (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || !readable(fd, (int)left))
			break;
		fl = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (void *)&from, &fl);
		if (n >= 28) {
			struct icmphdr *rep = (void *)(buf + (buf[0] & 15) * 4);

			if (rep->type == ICMP_ECHOREPLY &&
			    rep->un.echo.id == req.un.echo.id) {
				close(fd);
				return true;
			}
		}
	}
	close(fd);
	return false;
}

static uint64_t dropped(enum xcrs_reason why)
{
	struct dp_stats st;

	cr_assert_eq(dp_stats_read(dp, &st), 0);
	return st.c[XCRS_ACT_DROP][why].packets;
}

/* ---- tests ---- */

TestSuite(topology, .init = setup_attached, .fini = teardown,
	  .timeout = 120);

Test(topology, normal_terminal_reaches_everything)
{
	cr_expect(udp_arrives(T_NORMAL4, XT_DNS4, 53), "udp v4");
	cr_expect(udp_arrives(T_NORMAL4, XT_OTHER4, 9999), "udp v4 other");
	cr_expect(tcp_connects(T_NORMAL4, XT_OTHER4, 80), "tcp v4");
	cr_expect(ping4(T_NORMAL4, XT_OTHER4), "icmp v4");
	cr_expect(udp_arrives(T_NORMAL6, XT_DNS6, 53), "udp v6");
	cr_expect(tcp_connects(T_NORMAL6, XT_OTHER6, 80), "tcp v6");
}

Test(topology, quarantined_terminal_reaches_only_its_services)
{
	uint64_t d0 = dropped(XCRS_R_LEVEL);

	cr_expect(udp_arrives(T_QUAR4, XT_DNS4, 53), "dns");
	cr_expect(tcp_connects(T_QUAR4, XT_REMED4, 443), "remediation");
	cr_expect_not(tcp_connects(T_QUAR4, XT_OTHER4, 80), "tcp other");
	cr_expect_not(udp_arrives(T_QUAR4, XT_OTHER4, 9999), "udp other");
	cr_expect_not(ping4(T_QUAR4, XT_OTHER4), "icmp other");
	cr_expect(udp_arrives(T_QUAR6, XT_DNS6, 53), "dns v6");
	cr_expect_not(tcp_connects(T_QUAR6, XT_OTHER6, 80), "tcp v6 other");
	cr_expect_geq(dropped(XCRS_R_LEVEL) - d0, 4,
		      "drops not counted as level");
	/* The blocked terminal reaches nothing. */
	cr_expect_not(udp_arrives(T_BLOCK4, XT_DNS4, 53), "blocked dns");
}

/* Sends numbered datagrams from T_NORMAL4 while the level changes; a
 * datagram sent after a change returned must obey it. */
Test(topology, level_change_takes_effect_while_traffic_flows)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(XT_OTHER4, 7000, &ss);
	int s = bound(&srv, SOCK_DGRAM, XT_OTHER4, 7000);
	int c = bound(&term, SOCK_DGRAM, T_NORMAL4, 0);
	struct xcrs_sub sub = { .level = L_BLOCKED, .base_level = L_NORMAL };
	struct xcrs_addr a;
	uint32_t seq = 0, blocked_from = 0, open_from = 0;
	int got_before = 0, got_blocked = 0, got_after = 0;
	struct timespec gap = { 0, 2000000 };

	cr_assert_eq(dp_addr_parse(T_NORMAL4, &a), 0);
	for (int phase = 0; phase < 3; phase++) {
		if (phase == 1) {
			cr_assert_eq(dp_sub_set(dp, &a, &sub), 0);
			blocked_from = seq;
		} else if (phase == 2) {
			sub.level = L_NORMAL;
			cr_assert_eq(dp_sub_set(dp, &a, &sub), 0);
			open_from = seq;
		}
		for (int i = 0; i < 100; i++, seq++) {
			uint32_t v = htonl(seq), r;

			cr_assert_eq(sendto(c, &v, 4, 0, (void *)&ss, sl), 4);
			nanosleep(&gap, NULL);
			while (recv(s, &r, 4, 0) == 4) {
				r = ntohl(r);
				if (r < blocked_from || !blocked_from)
					got_before++;
				else if (r < open_from || !open_from)
					got_blocked++;
				else
					got_after++;
			}
		}
	}
	while (readable(s, 300)) {
		uint32_t r;

		if (recv(s, &r, 4, 0) != 4)
			break;
		r = ntohl(r);
		if (r >= open_from)
			got_after++;
		else if (r >= blocked_from)
			got_blocked++;
	}
	close(c);
	close(s);
	cr_expect_geq(got_before, 95, "before: %d of 100 arrived", got_before);
	cr_expect_eq(got_blocked, 0, "%d datagrams passed a blocked level",
		     got_blocked);
	cr_expect_eq(got_after, 100, "after release: %d of 100 arrived",
		     got_after);
}

Test(topology, scope_isolation_and_release)
{
	struct xcrs_sub sub = { .scope = 42, .level = L_NORMAL,
				.base_level = L_NORMAL };
	struct xcrs_scope sc = { .mode = XCRS_CONTAIN_ISOLATE,
				 .allowed = XCRS_SVC_BIT(SVC_REMEDIATION) };
	struct xcrs_addr a;

	cr_assert_eq(dp_addr_parse(T_NORMAL4, &a), 0);
	cr_assert_eq(dp_sub_set(dp, &a, &sub), 0);
	cr_assert_eq(dp_scope_set(dp, 42, &sc), 0);
	cr_expect_not(udp_arrives(T_NORMAL4, XT_DNS4, 53), "isolated dns");
	cr_expect(tcp_connects(T_NORMAL4, XT_REMED4, 443), "remediation");
	sc.mode = XCRS_CONTAIN_NONE;
	cr_assert_eq(dp_scope_set(dp, 42, &sc), 0);
	cr_expect(udp_arrives(T_NORMAL4, XT_DNS4, 53), "released");
}

/* GTP-U frames, as a gNB on the terminal side would send them to a UPF
 * on the edge, injected with AF_PACKET; the edge's UDP socket on 2152
 * sees what xcrs let through. */
static bool gtpu_arrives(struct pb_frame *f, int raw, int sink)
{
	uint8_t b[PB_MAX], got[PB_MAX];
	size_t n = pb_build(f, b, sizeof(b), NULL);
	unsigned char dmac[6], smac[6];
	ssize_t k;

	cr_assert_eq(tn_mac(&edge, "e0", dmac), 0);
	cr_assert_eq(tn_mac(&term, "t0", smac), 0);
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	cr_assert_eq(send(raw, b, n, 0), (ssize_t)n, "%s", strerror(errno));
	if (!readable(sink, 700))
		return false;
	k = recv(sink, got, sizeof(got), 0);
	/* The UDP payload is the whole GTP-U message. */
	cr_assert_eq((size_t)k, n - 14 - 20 - 8);
	return true;
}

Test(topology, gtpu_frames_are_decapsulated_and_enforced)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL) };
	int raw = tn_socket(&term, AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	int sink = bound(&edge, SOCK_DGRAM, "0.0.0.0", 2152);
	struct pb_frame f = {
		.gtpu = true,
		.outer = { .family = 4, .src = T_GNB4, .dst = E_ACCESS4 },
		.gtp_ext = 1,
		.ip = { .family = 4, .src = T_NORMAL4, .dst = XT_OTHER4,
			.proto = IPPROTO_TCP, .dport = 80 },
	};

	cr_assert_geq(raw, 0);
	ll.sll_ifindex = tn_ifindex(&term, "t0");
	cr_assert_gt(ll.sll_ifindex, 0);
	cr_assert_eq(bind(raw, (void *)&ll, sizeof(ll)), 0);
	/* Resolve the edge's MAC path once (ARP) with a plain datagram. */
	cr_assert(udp_arrives(T_GNB4, XT_OTHER4, 9));

	cr_expect(gtpu_arrives(&f, raw, sink), "normal inner");
	f.ip.src = T_BLOCK4;
	cr_expect_not(gtpu_arrives(&f, raw, sink), "blocked inner");
	f.ip.src = T_QUAR4;
	cr_expect_not(gtpu_arrives(&f, raw, sink), "quarantined inner web");
	f.ip.dst = XT_REMED4;
	f.ip.dport = 443;
	cr_expect(gtpu_arrives(&f, raw, sink), "quarantined inner remediation");
	f.ip = (struct pb_ip){ .family = 6, .src = T_QUAR6, .dst = XT_DNS6,
			       .proto = IPPROTO_UDP, .dport = 53 };
	cr_expect(gtpu_arrives(&f, raw, sink), "quarantined v6 inner dns");
	f.ip.dst = XT_OTHER6;
	cr_expect_not(gtpu_arrives(&f, raw, sink), "quarantined v6 inner other");
	f.gtp_type = 100;
	cr_expect_not(gtpu_arrives(&f, raw, sink), "unknown message type");
	f.gtp_type = 1;
	f.gtp_ext = 0;
	cr_expect(gtpu_arrives(&f, raw, sink), "echo request");
	close(raw);
	close(sink);
}

/* The loader is another process that exits; the state stays. */
static void setup_topology_only(void)
{
	topology();
}

Test(persistence, enforcement_outlives_the_loader_and_is_reused,
     .init = setup_topology_only, .fini = teardown, .timeout = 120)
{
	pid_t pid = fork();
	int st;
	char err[512];
	struct dp_config cfg = pinned_cfg();
	struct xcrs_sub sub = { .level = L_BLOCKED, .base_level = L_BLOCKED };
	struct xcrs_addr a;
	int r;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* The loader: opens, applies, attaches, and exits without
		 * cleaning up, as an agent would on restart. */
		struct dp *d;
		struct dp_policy p;
		struct dp_attach_opts ao = { .role = XCRS_ROLE_ACCESS };

		if (dp_open(&cfg, &d, err, sizeof(err)))
			_exit(10);
		xt_policy(&p, XCRS_LEVEL_PASS);
		xt_policy_add_ran(&p, T_GNB4 "/32");
		if (dp_policy_apply(d, &p) || xt_add_subs(d))
			_exit(11);
		if (tn_enter(&edge) || dp_attach(d, "e0", &ao))
			_exit(12);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "loader status %d",
		  st);

	cr_expect(udp_arrives(T_NORMAL4, XT_OTHER4, 9999), "normal");
	cr_expect_not(udp_arrives(T_QUAR4, XT_OTHER4, 9999), "quarantined");

	cr_assert_eq(dp_open(&cfg, &dp, err, sizeof(err)), 0, "%s", err);
	cr_expect(dp_reused_pins(dp));
	cr_assert_eq(tn_enter(&edge), 0);
	r = dp_attached(dp, "e0");
	tn_leave();
	cr_expect_eq(r, 1, "program not attached after the loader exited");
	/* This process's map writes reach the program the loader attached. */
	cr_assert_eq(dp_addr_parse(T_NORMAL4, &a), 0);
	cr_assert_eq(dp_sub_set(dp, &a, &sub), 0);
	cr_expect_not(udp_arrives(T_NORMAL4, XT_OTHER4, 9999),
		      "level set by the new process ignored");
	/* Detach by a process that did not attach. */
	cr_assert_eq(tn_enter(&edge), 0);
	r = dp_detach(dp, "e0");
	tn_leave();
	cr_assert_eq(r, 0, "%s", dp_errmsg(dp));
	cr_expect(udp_arrives(T_NORMAL4, XT_OTHER4, 9999), "after detach");
}

/* Attach modes and the errors an operator sees. An ifb interface has no
 * native XDP support. */
Test(attach, modes_fallback_and_errors, .init = setup_topology_only,
     .fini = teardown)
{
	struct dp_attach_opts ao = { .role = XCRS_ROLE_CORE,
				     .mode = DP_MODE_NATIVE };
	int r;

	open_reference();
	cr_assert_eq(tn_sh(&edge, "ip link add dum0 type ifb && "
				  "ip link set dum0 up"), 0);
	cr_assert_eq(tn_enter(&edge), 0);

	r = dp_attach(dp, "nosuch0", &ao);
	cr_expect_eq(r, -ENODEV, "%d", r);
	cr_expect(strstr(dp_errmsg(dp), "nosuch0"), "%s", dp_errmsg(dp));

	r = dp_attach(dp, "dum0", &ao);
	cr_expect_lt(r, 0, "native XDP on a dummy interface?");
	cr_expect(strstr(dp_errmsg(dp), "dum0") &&
			  strstr(dp_errmsg(dp), "native"),
		  "%s", dp_errmsg(dp));
	cr_expect_eq(dp_attached(dp, "dum0"), 0);

	ao.allow_fallback = true;
	r = dp_attach(dp, "dum0", &ao);
	cr_expect_eq(r, 0, "fallback: %s", dp_errmsg(dp));
	cr_expect_eq(dp_attached(dp, "dum0"), 1);
	/* attaching again replaces the program in place */
	r = dp_attach(dp, "dum0", &ao);
	cr_expect_eq(r, 0, "%s", dp_errmsg(dp));
	cr_expect_eq(dp_attached(dp, "dum0"), 1);

	ao.mode = DP_MODE_SKB;
	ao.allow_fallback = false;
	cr_expect_eq(dp_detach(dp, "dum0"), 0, "%s", dp_errmsg(dp));
	cr_expect_eq(dp_attached(dp, "dum0"), 0);
	r = dp_detach(dp, "dum0");
	cr_expect_eq(r, -ENOENT, "%d", r);
	cr_expect(strstr(dp_errmsg(dp), "not attached to dum0"), "%s",
		  dp_errmsg(dp));
	cr_expect_eq(dp_attach(dp, "dum0", &ao), 0, "generic: %s",
		     dp_errmsg(dp));
	cr_expect_eq(dp_detach(dp, "dum0"), 0);
	tn_leave();
}

/* ---- libxdp's dispatcher: xcrs beside another XDP program ---- */

static bool filter_loaded;

static int count_of(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void teardown_filter(void)
{
	/* xdp-filter's maps are pinned under /sys/fs/bpf/xdp-filter: its
	 * unload of the last interface removes them */
	if (filter_loaded)
		tn_sh(&edge, "xdp-filter unload e0 >/dev/null 2>&1");
	filter_loaded = false;
	teardown();
}

/* What an operator runs beside xcrs: xdp-filter (libxdp) on the same
 * interface, joining the dispatcher xcrs made, xcrs replaced in place
 * there, and xcrs leaving it again; each program enforces its own rules
 * throughout. Where the dispatcher cannot work (6.18 here refuses
 * freplace) xcrs keeps its own link; this runs on Debian 12's 6.1
 * (ci/kernel-test). */
Test(attach, shares_an_interface_with_xdp_filter_through_libxdps_dispatcher,
     .init = setup_topology_only, .fini = teardown_filter, .timeout = 180)
{
	struct dp_attach_opts ao = { .role = XCRS_ROLE_ACCESS,
				     .mode = DP_MODE_NATIVE };
	const char *why = NULL;
	char out[4096];
	int r;

	open_reference();
	if (!dp_dispatcher_usable(dp, &why))
		cr_skip_test("libxdp's dispatcher does not work here: %s", why);
	cr_assert_eq(tn_enter(&edge), 0);
	r = dp_attach(dp, "e0", &ao);
	cr_assert_eq(r, 0, "%s", dp_errmsg(dp));
	cr_expect_eq(dp_attached_via(dp, "e0"), DP_VIA_DISPATCHER);
	tn_leave();
	cr_expect(udp_arrives(T_NORMAL4, XT_OTHER4, 9999), "normal");
	cr_expect_not(udp_arrives(T_QUAR4, XT_OTHER4, 9999), "quarantined");

	/* xdp-filter joins; it drops what it lists, xcrs what it decided */
	cr_assert_eq(tn_run(&edge, out, sizeof(out),
			    "xdp-filter load -m native e0 2>&1"),
		     0, "xdp-filter load: %s", out);
	filter_loaded = true;
	cr_assert_eq(tn_run(&edge, out, sizeof(out),
			    "xdp-filter ip -m src " T_NORMAL4 " 2>&1"),
		     0, "%s", out);
	cr_expect_not(udp_arrives(T_NORMAL4, XT_OTHER4, 9999),
		      "xdp-filter does not enforce beside xcrs");
	cr_expect_not(udp_arrives(T_QUAR4, XT_OTHER4, 9999),
		      "xcrs does not enforce beside xdp-filter");
	cr_assert_eq(tn_run(&edge, out, sizeof(out),
			    "xdp-filter ip -r -m src " T_NORMAL4 " 2>&1"),
		     0, "%s", out);
	cr_expect(udp_arrives(T_NORMAL4, XT_OTHER4, 9999), "normal again");
	cr_assert_eq(tn_run(&edge, out, sizeof(out), "xdp-loader status e0"),
		     0, "%s", out);
	cr_expect(strstr(out, "xdp_dispatcher") &&
			  count_of(out, "xcrs_xdp") == 1 &&
			  strstr(out, "xdpfilt"),
		  "not one dispatcher with both programs:\n%s", out);

	/* a new xcrs program replaces the old one in the dispatcher;
	 * xdp-filter stays */
	cr_assert_eq(tn_enter(&edge), 0);
	r = dp_attach(dp, "e0", &ao);
	tn_leave();
	cr_assert_eq(r, 0, "%s", dp_errmsg(dp));
	cr_assert_eq(tn_run(&edge, out, sizeof(out), "xdp-loader status e0"),
		     0, "%s", out);
	cr_expect(count_of(out, "xcrs_xdp") == 1 && strstr(out, "xdpfilt"),
		  "after the replacement, not one xcrs and xdp-filter:\n%s",
		  out);
	cr_expect_not(udp_arrives(T_QUAR4, XT_OTHER4, 9999),
		      "quarantined, after the replacement");
	cr_assert_eq(tn_run(&edge, out, sizeof(out),
			    "xdp-filter ip -m src " T_NORMAL4 " 2>&1"),
		     0, "%s", out);
	cr_expect_not(udp_arrives(T_NORMAL4, XT_OTHER4, 9999),
		      "xdp-filter, after the replacement");
	cr_assert_eq(tn_run(&edge, out, sizeof(out),
			    "xdp-filter ip -r -m src " T_NORMAL4 " 2>&1"),
		     0, "%s", out);

	/* xcrs leaves; xdp-filter keeps the interface */
	cr_assert_eq(tn_enter(&edge), 0);
	r = dp_detach(dp, "e0");
	cr_expect_eq(dp_attached(dp, "e0"), 0);
	tn_leave();
	cr_assert_eq(r, 0, "%s", dp_errmsg(dp));
	cr_expect(udp_arrives(T_QUAR4, XT_OTHER4, 9999),
		  "xcrs still enforces after its detach");
	cr_assert_eq(tn_run(&edge, out, sizeof(out),
			    "xdp-filter ip -m src " T_QUAR4 " 2>&1"),
		     0, "%s", out);
	cr_expect_not(udp_arrives(T_QUAR4, XT_OTHER4, 9999),
		      "xdp-filter lost its program with xcrs's detach");
}

/* Where the dispatcher does not work, asking for it is an error that
 * says why, and nothing is attached. */
Test(attach, dispatcher_where_it_cannot_work_is_refused_with_the_reason,
     .init = setup_topology_only, .fini = teardown)
{
	struct dp_attach_opts ao = { .role = XCRS_ROLE_ACCESS,
				     .mode = DP_MODE_NATIVE,
				     .via = DP_VIA_DISPATCHER };
	const char *why = NULL;
	int r;

	open_reference();
	if (dp_dispatcher_usable(dp, &why))
		cr_skip_test("libxdp's dispatcher works here");
	cr_assert_eq(tn_enter(&edge), 0);
	r = dp_attach(dp, "e0", &ao);
	cr_expect_eq(r, -EOPNOTSUPP, "%d", r);
	cr_expect(strstr(dp_errmsg(dp), "e0") && strstr(dp_errmsg(dp), why),
		  "%s", dp_errmsg(dp));
	cr_expect_eq(dp_attached(dp, "e0"), 0);
	ao.via = DP_VIA_AUTO;
	r = dp_attach(dp, "e0", &ao);
	cr_expect_eq(r, 0, "%s", dp_errmsg(dp));
	cr_expect_eq(dp_attached_via(dp, "e0"), DP_VIA_LINK);
	tn_leave();
	cr_expect_not(udp_arrives(T_QUAR4, XT_OTHER4, 9999), "quarantined");
}
