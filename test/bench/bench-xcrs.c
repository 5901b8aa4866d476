// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-bench: what xcrs costs, each figure beside baselines measured in
 * the same run. Sections (all by default):
 *   cost     ns/packet from BPF_PROG_TEST_RUN (repeat) for representative
 *            packets, with the subscriber map filled at 1k, 100k, 1M and
 *            10M hosts and 10k service prefixes; baselines: a bare
 *            XDP_DROP program and xdp-filter's deny-by-IP object
 *   scale    time and kernel memory to load 1M and 10M subscribers
 *   ingest   EVE alerts parsed and correlated per second on one core;
 *            terminal reports authenticated and parsed per second
 *   latency  the real xcrs-agent: an EVE alert written to its socket ->
 *            the subscriber's map entry changed, and -> the first packet
 *            of that subscriber dropped (p50/p99/max over 1000)
 * Figures only: nothing passes or fails. --json prints one JSON object.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <linux/bpf.h>
#include <linux/if_link.h>

#include "addr.h"
#include "correlate.h"
#include "crsap.h"
#include "dataplane.h"
#include "events.h"
#include "livetraffic.h"
#include "netns.h"
#include "pktbuild.h"
#include "radgen.h"
#include "radius.h"
#include "xdptest.h"

static bool quick;
static uint32_t rate_frames; /* --frames: the rate section's per run */
static json_object *out;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, json_object_new_double(v));
}

/* ---- program cost ---- */

/* ns per run of prog on pkt (repeat runs, in-kernel timing). */
static double ns_per_packet(int prog, const uint8_t *pkt, size_t len,
			    unsigned repeat, int *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	uint8_t buf[512];

	o.data_in = pkt;
	o.data_size_in = (__u32)len;
	o.data_out = buf;
	o.data_size_out = sizeof(buf);
	o.repeat = repeat ? repeat : 1;
	if (bpf_prog_test_run_opts(prog, &o))
		return -1;
	if (verdict)
		*verdict = (int)o.retval;
	return (double)o.duration;
}

/* One measurement of a round-robin: a program and a frame, the best time
 * seen so far. */
struct probe {
	int prog;
	const uint8_t *pkt;
	size_t len;
	double best;
};

/* Measures every probe in ROUNDS rounds of repeat/ROUNDS runs each, in
 * turn, keeping each one's minimum. A virtual machine's neighbours and
 * the kernel's own work only ever add time, and they come in spells: the
 * minimum over interleaved rounds is the programs' cost, where one long
 * run per program moved by a third between runs. */
#define ROUNDS 25
static void measure(struct probe *p, size_t n, unsigned repeat)
{
	for (size_t i = 0; i < n; i++)
		p[i].best = -1;
	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < n; i++) {
			double t = ns_per_packet(p[i].prog, p[i].pkt, p[i].len,
						 repeat / ROUNDS, NULL);

			if (t >= 0 && (p[i].best < 0 || t < p[i].best))
				p[i].best = t;
		}
}

static int bare_drop(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_DROP },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_drop", "GPL", insns, 2,
			     NULL);
}

/* xdp-filter's IP filter from Debian's xdp-tools in its default-allow
 * mode (xdpfilt_alw_ip: matched addresses are dropped), with its deny sets
 * holding the reacted subscribers' addresses (source match): IPv4 in
 * filter_ipv4, IPv6 in filter_ipv6. Every step is checked: a baseline
 * that drops nothing would flatter xcrs. */
static struct bpf_object *xdpfilt;
static int xdp_filter(char deny[][64], size_t n)
{
	static const char path[] =
		"/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_ip.o";
	struct bpf_program *prog;
	struct bpf_map *m4, *m6;
	int ncpu = libbpf_num_possible_cpus();

	xdpfilt = bpf_object__open_file(path, NULL);
	if (!xdpfilt || libbpf_get_error(xdpfilt)) {
		xdpfilt = NULL;
		return -ENOENT;
	}
	bpf_object__for_each_map(m4, xdpfilt)
		bpf_map__set_pin_path(m4, NULL);
	if (bpf_object__load(xdpfilt))
		return -EINVAL;
	m4 = bpf_object__find_map_by_name(xdpfilt, "filter_ipv4");
	m6 = bpf_object__find_map_by_name(xdpfilt, "filter_ipv6");
	prog = bpf_object__next_program(xdpfilt, NULL);
	if (!m4 || !m6 || !prog || ncpu <= 0 || ncpu > 512)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		unsigned char key[16];
		uint64_t v[512] = { 0 };
		bool v6 = strchr(deny[i], ':') != NULL;
		struct bpf_map *m = v6 ? m6 : m4;
		bool percpu = bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_HASH ||
			      bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_ARRAY;

		if (inet_pton(v6 ? AF_INET6 : AF_INET, deny[i], key) != 1 ||
		    bpf_map__key_size(m) != (v6 ? 16u : 4u))
			return -EINVAL;
		for (int c = 0; c < (percpu ? ncpu : 1); c++)
			v[c] = 1; /* MAP_FLAG_SRC */
		if (bpf_map_update_elem(bpf_map__fd(m), key, v, BPF_ANY))
			return -errno;
	}
	return bpf_program__fd(prog);
}

struct kind {
	const char *name;
	int family, level;
	bool gtpu, drops;
};

static const struct kind kinds[] = {
	{ "ipv4 normal (pass)", 4, L_NORMAL, false, false },
	{ "ipv4 restricted web (pass)", 4, L_RESTRICTED, false, false },
	{ "ipv4 quarantined web (drop)", 4, L_QUARANTINED, false, true },
	{ "ipv4 blocked (drop)", 4, L_BLOCKED, false, true },
	{ "ipv6 normal (pass)", 6, L_NORMAL, false, false },
	{ "ipv6 quarantined web (drop)", 6, L_QUARANTINED, false, true },
	{ "gtpu ipv4 normal (pass)", 4, L_NORMAL, true, false },
	{ "gtpu ipv4 quarantined (drop)", 4, L_QUARANTINED, true, true },
	{ "gtpu ipv6 restricted web (pass)", 6, L_RESTRICTED, true, false },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
/* The rows the goals name (indices into kinds[]). */
enum { K_V4_NORMAL = 0, K_V4_QUAR = 2, K_V4_BLOCKED = 3, K_V6_QUAR = 5,
       K_GTPU_QUAR = 7 };

static size_t frame_of(const struct kind *k, uint8_t *buf)
{
	struct pb_frame f = {
		.ip = { .family = k->family, .src = xt_sub_addr(k->family, k->level),
			.dst = k->family == 4 ? XT_WEB4 : XT_WEB6,
			.proto = IPPROTO_TCP, .sport = 40000, .dport = 80,
			.payload = 18 },
	};

	if (k->gtpu) {
		f.gtpu = true;
		f.outer = (struct pb_ip){ .family = 4, .src = XT_GNB4,
					  .dst = XT_UPF4 };
	}
	return pb_build(&f, buf, PB_MAX, NULL);
}

/* The reference policy with nextra /64 prefixes added (a service each
 * class cycles through 3..62). */
static struct dp_service_rule *big_rules;
static void big_policy(struct dp_policy *p, size_t nextra)
{
	xt_policy(p, XCRS_LEVEL_PASS);
	big_rules = calloc(p->nrules + nextra, sizeof(*big_rules));
	memcpy(big_rules, p->rules, p->nrules * sizeof(*big_rules));
	for (size_t i = 0; i < nextra; i++) {
		struct dp_service_rule *r = &big_rules[p->nrules + i];
		char pfx[64];

		snprintf(pfx, sizeof(pfx), "2001:db8:f%03zx:%zx::/64", i / 4096,
			 i % 4096);
		dp_prefix_parse(pfx, &r->addr, &r->plen);
		r->proto = IPPROTO_TCP;
		r->svc = (uint8_t)(3 + i % 60);
		r->port_lo = 1;
		r->port_hi = 65535;
	}
	p->rules = big_rules;
	p->nrules += nextra;
}

/* Host i of the fill: 2001:db8:1000::/36 + i. */
/* The i-th filler subscriber: an IPv4 host from 10.0.0.0 up (family 4)
 * or an IPv6 /64 of 2001:db8:1000::/36 (6). Map entries only: no packet
 * is sent to them. */
static void fill_addr(uint64_t i, int family, struct xcrs_addr *a,
		      struct xcrs_sub *s)
{
	memset(a, 0, sizeof(*a));
	*s = (struct xcrs_sub){ .level = L_NORMAL, .base_level = L_NORMAL };
	if (family == 4) {
		uint32_t v4 = htonl(0x0a000000u + (uint32_t)i);

		addr_from_v4(&v4, a);
		return;
	}
	a->a[0] = 0x20; a->a[1] = 0x01; a->a[2] = 0x0d; a->a[3] = 0xb8;
	a->a[4] = 0x10 | (uint8_t)((i >> 24) & 0x0f);
	a->a[5] = (uint8_t)(i >> 16);
	a->a[6] = (uint8_t)(i >> 8);
	a->a[7] = (uint8_t)i;
	s->flags = XCRS_SUB_F_PREFIX64;
}

static int fill(struct dp *dp, int family, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		struct xcrs_addr a;
		struct xcrs_sub s;

		fill_addr(i, family, &a, &s);
		if (dp_sub_set(dp, &a, &s))
			return -1;
	}
	return 0;
}

static void section_cost(void)
{
	static const uint64_t points[] = { 1000, 100000, 1000000, 10000000 };
	const unsigned repeat = 1000000;
	size_t npoints = quick ? 3 : 4;
	struct dp_config cfg = { .max_subs = quick ? 1100000 : 10100000,
				 .max_svc_prefixes = 16384,
				 .max_tracked = 65536 };
	json_object *sec = json_object_new_object(),
		    *rows = json_object_new_array();
	/* xt_sub_addr() rotates four static buffers: copied at once */
	char deny[4][64];
	struct dp_policy p;
	struct dp *dp;
	char err[512];
	uint8_t pkt[NKINDS][PB_MAX];
	size_t len[NKINDS];
	double drop_ns = -1, filt_pass = -1, filt_drop = -1, ns[NKINDS][4];
	int drop_fd, filt_fd;
	uint64_t have = 0;

	printf("\n== cost: ns/packet (BPF_PROG_TEST_RUN, best of %d interleaved "
	       "rounds of %u, one CPU)\n", ROUNDS, repeat / ROUNDS);
	if (dp_open(&cfg, &dp, err, sizeof(err))) {
		printf("   cannot open the dataplane: %s\n", err);
		return;
	}
	big_policy(&p, 10000);
	if (dp_policy_apply(dp, &p) || xt_add_subs(dp)) {
		printf("   policy: %s\n", dp_errmsg(dp));
		dp_close(dp);
		return;
	}
	for (size_t k = 0; k < NKINDS; k++)
		len[k] = frame_of(&kinds[k], pkt[k]);
	snprintf(deny[0], 64, "%s", xt_sub_addr(4, L_QUARANTINED));
	snprintf(deny[1], 64, "%s", xt_sub_addr(4, L_BLOCKED));
	snprintf(deny[2], 64, "%s", xt_sub_addr(6, L_QUARANTINED));
	snprintf(deny[3], 64, "%s", xt_sub_addr(6, L_BLOCKED));
	drop_fd = bare_drop();
	filt_fd = xdp_filter(deny, 4);
	if (filt_fd >= 0) {
		int vp = -1, vd = -1, v6 = -1;

		ns_per_packet(filt_fd, pkt[K_V4_NORMAL], len[K_V4_NORMAL], 1,
			      &vp);
		ns_per_packet(filt_fd, pkt[K_V4_QUAR], len[K_V4_QUAR], 1, &vd);
		ns_per_packet(filt_fd, pkt[K_V6_QUAR], len[K_V6_QUAR], 1, &v6);
		if (vp != XDP_PASS || vd != XDP_DROP || v6 != XDP_DROP) {
			printf("   xdp-filter's deny set does not work (pass %d, "
			       "drop %d, IPv6 drop %d): no baseline\n",
			       vp, vd, v6);
			filt_fd = -1;
		}
	} else {
		printf("   xdp-filter: %s\n", filt_fd == -ENOENT ?
			"its object is not installed" : strerror(-filt_fd));
	}
	for (size_t pi = 0; pi < npoints; pi++) {
		if (fill(dp, 4, have, points[pi])) {
			printf("   filling to %lu: %s\n", (unsigned long)points[pi],
			       dp_errmsg(dp));
			npoints = pi;
			break;
		}
		have = points[pi];
		/* the baselines in the same rounds as xcrs */
		struct probe pr[NKINDS + 3];
		size_t np = 0;

		for (size_t k = 0; k < NKINDS; k++)
			pr[np++] = (struct probe){
				dp_prog_fd(dp, XCRS_ROLE_ACCESS, kinds[k].gtpu),
				pkt[k], len[k], -1 };
		pr[np++] = (struct probe){ drop_fd, pkt[0], len[0], -1 };
		if (filt_fd >= 0) {
			pr[np++] = (struct probe){ filt_fd, pkt[K_V4_NORMAL],
						   len[K_V4_NORMAL], -1 };
			pr[np++] = (struct probe){ filt_fd, pkt[K_V4_QUAR],
						   len[K_V4_QUAR], -1 };
		}
		measure(pr, np, repeat);
		for (size_t k = 0; k < NKINDS; k++)
			ns[k][pi] = pr[k].best;
		if (pi == 0) {
			drop_ns = pr[NKINDS].best;
			if (filt_fd >= 0) {
				filt_pass = pr[NKINDS + 1].best;
				filt_drop = pr[NKINDS + 2].best;
			}
		}
	}
	printf("   10000 service prefixes; the IPv4 subscriber map filled "
	       "with hosts from 10.0.0.0 up (the measured ones are extra)\n");
	printf("   %-34s", "packet");
	for (size_t pi = 0; pi < npoints; pi++)
		printf(" %8luk", (unsigned long)(points[pi] / 1000));
	printf("   x bare  x xdp-filter\n");
	for (size_t k = 0; k < NKINDS; k++) {
		json_object *r = json_object_new_object();
		double f = kinds[k].drops ? filt_drop : filt_pass;

		printf("   %-34s", kinds[k].name);
		for (size_t pi = 0; pi < npoints; pi++)
			printf(" %9.1f", ns[k][pi]);
		printf("   %6.2f", ns[k][0] / drop_ns);
		if (filt_fd >= 0)
			printf("  %6.2f (%s)", ns[k][0] / f,
			       kinds[k].drops ? "drop" : "pass");
		printf("\n");
		json_object_object_add(r, "packet",
				       json_object_new_string(kinds[k].name));
		for (size_t pi = 0; pi < npoints; pi++) {
			char key[32];

			snprintf(key, sizeof(key), "ns_at_%lu",
				 (unsigned long)points[pi]);
			put(r, key, ns[k][pi]);
		}
		if (filt_fd >= 0)
			put(r, "x_xdp_filter", ns[k][0] / f);
		json_object_array_add(rows, r);
	}
	printf("   %-34s %9.1f\n", "baseline: bare XDP_DROP", drop_ns);
	if (filt_fd >= 0)
		printf("   %-34s %9.1f pass  %9.1f drop (deny set: the 4 "
		       "reacted hosts, IPv4 and IPv6)\n",
		       "baseline: xdp-filter alw_ip", filt_pass, filt_drop);
	if (filt_fd >= 0) {
		/* issue 17's goals, as ratios of this run */
		static const struct {
			const char *what;
			int kind;
			double goal;
		} goals[] = {
			{ "ipv4 blocked drop / xdp-filter drop", K_V4_BLOCKED,
			  1.0 },
			{ "ipv4 quarantined / xdp-filter drop", K_V4_QUAR, 1.25 },
			{ "ipv6 quarantined / xdp-filter drop", K_V6_QUAR, 1.25 },
			{ "ipv4 normal pass / xdp-filter pass", K_V4_NORMAL,
			  1.25 },
			{ "gtpu quarantined / xdp-filter drop", K_GTPU_QUAR,
			  1.7 },
		};
		json_object *g = json_object_new_object();

		printf("   goals (at 1k subscribers)          %9s %7s\n",
		       "measured", "goal");
		for (size_t i = 0; i < sizeof(goals) / sizeof(goals[0]); i++) {
			double f = kinds[goals[i].kind].drops ? filt_drop :
								 filt_pass,
			       x = ns[goals[i].kind][0] / f;

			printf("   %-36s %7.2f  <= %.2f  %s\n", goals[i].what, x,
			       goals[i].goal, x <= goals[i].goal ? "met" :
								   "not met");
			put(g, goals[i].what, x);
		}
		json_object_object_add(sec, "goals", g);
	}
	if (npoints > 1) {
		double fl = ns[K_V4_QUAR][npoints - 1] / ns[K_V4_QUAR][0];

		printf("   flatness: ns at %luk / ns at 1k (ipv4 quarantined): "
		       "%.2f  <= 1.10  %s\n",
		       (unsigned long)(points[npoints - 1] / 1000), fl,
		       fl <= 1.1 ? "met" : "not met");
		put(sec, "flatness", fl);
	}
	put(sec, "bare_drop_ns", drop_ns);
	put(sec, "xdp_filter_pass_ns", filt_pass);
	put(sec, "xdp_filter_drop_ns", filt_drop);
	json_object_object_add(sec, "packets", rows);
	json_object_object_add(out, "cost", sec);
	dp_close(dp);
	if (xdpfilt)
		bpf_object__close(xdpfilt);
	close(drop_fd);
	free(big_rules);
}

/* Kernel memory of this process's BPF maps with max_entries n (fdinfo
 * "memlock"), in bytes: each map once, however many of the process's
 * descriptors refer to it (the library and libbpf's object each hold one
 * of the subscriber map). */
static uint64_t maps_memlock(uint64_t n)
{
	unsigned ids[64];
	size_t nids = 0;
	uint64_t sum = 0;

	for (int fd = 3; fd < 4096; fd++) {
		char path[64], line[128];
		unsigned long me = 0, ml = 0, id = 0;
		bool seen = false;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "max_entries: %lu", &me);
			sscanf(line, "memlock: %lu", &ml);
			sscanf(line, "map_id: %lu", &id);
		}
		fclose(f);
		if (me != n || !id)
			continue;
		for (size_t i = 0; i < nids; i++)
			seen |= ids[i] == id;
		if (seen || nids >= sizeof(ids) / sizeof(ids[0]))
			continue;
		ids[nids++] = (unsigned)id;
		sum += ml;
	}
	return sum;
}

static pid_t start_agent(const char *builddir, const char *path,
			 const char *wait_for);
static int ctl_line(const char *path, const char *line);

/* The real agent started over the pinned maps at pins (size entries of
 * family): seconds from its start to its first answer to `status` (it
 * answers once it is ready), or a negative value if it did not come up. */
static double agent_ready_s(const char *builddir, const char *pins,
			    int family, uint64_t size)
{
	char dir[64], policy[300], ctl[100];
	double t0 = now_s(), t = -1;
	pid_t pid;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/xcrs-bench-s%d", getpid());
	mkdir(dir, 0700);
	snprintf(policy, sizeof(policy), "%s/policy.yaml", dir);
	snprintf(ctl, sizeof(ctl), "%s/ctl.sock", dir);
	f = fopen(policy, "w");
	if (!f)
		return -1;
	/* the hosts are at the level their pool gives them: nothing for
	 * the comparison with the decisions to adopt */
	fprintf(f,
		"version: 1\n"
		"agent: {pin_dir: %s, control_socket: %s, "
		"state_file: %s/state.json, audit_log: %s/audit.jsonl, "
		"metrics: off, maps: {%s: %llu}}\n"
		"levels:\n  - {name: normal, allow: all}\n"
		"  - {name: blocked, allow: []}\n"
		"scopes:\n  - {name: bench, pools: [10.0.0.0/8, "
		"\"2001:db8:1000::/36\"]}\n",
		pins, ctl, dir, dir,
		family == 4 ? "subscribers" : "subscribers6",
		(unsigned long long)size);
	fclose(f);
	unlink(ctl);
	pid = start_agent(builddir, policy, ctl);
	for (int i = 0; pid > 0 && i < 6000; i++) {
		if (!ctl_line(ctl, "{\"cmd\":\"status\"}\n")) {
			t = now_s() - t0;
			break;
		}
		usleep(5000);
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	unlink(policy);
	unlink(ctl);
	snprintf(policy, sizeof(policy), "%s/state.json", dir);
	unlink(policy);
	snprintf(policy, sizeof(policy), "%s/state.json.journal", dir);
	unlink(policy);
	snprintf(policy, sizeof(policy), "%s/audit.jsonl", dir);
	unlink(policy);
	rmdir(dir);
	return t;
}

static void section_scale(const char *builddir)
{
	static const uint64_t sizes[] = { 1000000, 10000000 };
	json_object *sec = json_object_new_array();

	printf("\n== scale: loading subscribers, one bpf(2) update each "
	       "(dp_sub_set) and in batches (dp_sub_set_many), and reopening "
	       "the pinned maps; IPv4 hosts (xcrs_sub4) and IPv6 /64s "
	       "(xcrs_sub64)\n");
	for (size_t x = 0; x < 2 * (quick ? 1u : 2u); x++) {
		int family = x % 2 ? 6 : 4;
		uint64_t size = sizes[x / 2];
		char pins[256];
		struct dp_config cfg = { .pin_dir = pins };
		/* one call for the whole load: batches go into a map that
		 * is empty when the call starts */
		struct xcrs_addr *ka = calloc(size, sizeof(*ka));
		struct xcrs_sub *kv = calloc(size, sizeof(*kv));
		struct dp *dp;
		char err[512];
		double t0, t1, t2, t3, t4, t5, t6, mem;
		json_object *o = json_object_new_object();
		bool ok = ka && kv;

		if (family == 4)
			cfg.max_subs = (uint32_t)size;
		else
			cfg.max_subs6 = (uint32_t)size;
		tn_pin_dir(pins, sizeof(pins), "bench-scale");
		tn_rm_pins(pins);
		cfg.pin_dir = NULL;
		t0 = now_s();
		if (!ok || dp_open(&cfg, &dp, err, sizeof(err))) {
			printf("   %lu: %s\n", (unsigned long)size,
			       ok ? err : "out of memory");
			free(ka);
			free(kv);
			continue;
		}
		t1 = now_s();
		if (fill(dp, family, 0, size))
			printf("   %lu: %s\n", (unsigned long)size,
			       dp_errmsg(dp));
		t2 = now_s();
		mem = (double)maps_memlock(size);
		dp_close(dp);
		/* the same hosts in batches, into pinned maps */
		cfg.pin_dir = pins;
		if (dp_open(&cfg, &dp, err, sizeof(err))) {
			printf("   %lu (pinned): %s\n", (unsigned long)size,
			       err);
			free(ka);
			free(kv);
			continue;
		}
		for (size_t j = 0; j < size; j++)
			fill_addr(j, family, &ka[j], &kv[j]);
		t3 = now_s();
		if (dp_sub_set_many(dp, ka, kv, size, NULL))
			printf("   %lu (batches): %s\n", (unsigned long)size,
			       dp_errmsg(dp));
		t4 = now_s();
		dp_close(dp);
		/* a restart: the pinned maps opened again, counter slots
		 * read back from every entry */
		t5 = now_s();
		if (dp_open(&cfg, &dp, err, sizeof(err)))
			printf("   %lu (reopen): %s\n", (unsigned long)size,
			       err);
		else
			dp_close(dp);
		t5 = now_s() - t5;
		t6 = agent_ready_s(builddir, pins, family, size);
		tn_rm_pins(pins);
		printf("   %9lu %s: map created in %.2f s; one by one %.2f s "
		       "(%.0f /s), in batches %.2f s (%.0f /s, %.1fx); pinned "
		       "maps reopened in %.2f s, the agent ready over them in "
		       "%.2f s; map %.0f MiB (%.0f B each)\n",
		       (unsigned long)size,
		       family == 4 ? "IPv4 hosts" : "IPv6 /64s ", t1 - t0,
		       t2 - t1, (double)size / (t2 - t1), t4 - t3,
		       (double)size / (t4 - t3), (t2 - t1) / (t4 - t3), t5,
		       t6, mem / 1048576, mem / (double)size);
		put(o, "hosts", (double)size);
		json_object_object_add(o, "family",
				       json_object_new_int(family));
		put(o, "create_s", t1 - t0);
		put(o, "fill_s", t2 - t1);
		put(o, "fill_batch_s", t4 - t3);
		put(o, "reopen_s", t5);
		put(o, "agent_ready_s", t6);
		put(o, "memory_mib", mem / 1048576);
		put(o, "bytes_per_host", mem / (double)size);
		json_object_array_add(sec, o);
		free(ka);
		free(kv);
	}
	json_object_object_add(out, "scale", sec);
}

/* ---- agent ingest ---- */

static bool is_sub(void *ctx, const struct xcrs_addr *a)
{
	return a->a[12] == 192 && a->a[13] == 0 && a->a[14] == 2;
}

static void on_decide(void *ctx, const struct corr_decision *d)
{
	(*(unsigned long *)ctx)++;
}

static void section_ingest(void)
{
	static const char text[] =
		"version: 1\n"
		"levels:\n  - {name: normal, allow: all}\n"
		"  - {name: restricted, allow: []}\n"
		"scopes:\n  - {name: cell, pools: 192.0.2.0/24}\n"
		"rules:\n"
		"  - {name: repeated, on: ids, match: {severity_at_most: 2}, "
		"count: 3, within: 5m, react: {level: restricted, for: 10m}}\n"
		"  - {name: outbreak, on: ids, match: {severity_at_most: 1}, "
		"terminals: 50, within: 10m, contain: {for: 1h}}\n";
	struct policy *p;
	struct policy_error e;
	struct corr *c;
	unsigned long decisions = 0, n = 0;
	char line[1024];
	double t0, t;
	json_object *sec = json_object_new_object();
	uint8_t key[32] = { 7 };
	struct crsap_keyring kr = { 0 };
	struct crsap_key k = { .id = "t1", .peer = true, .keylen = 32 };
	struct crsap_replay *rp;

	printf("\n== ingest (one core)\n");
	if (policy_load_string(text, sizeof(text) - 1, "bench.yaml", &p, &e) ||
	    corr_new(p, on_decide, &decisions, &c)) {
		printf("   policy: %s\n", e.msg);
		return;
	}
	t0 = now_s();
	do {
		for (int i = 0; i < 1000; i++, n++) {
			struct ev_alert a;
			struct corr_event ev;
			char err[128];
			int len = snprintf(
				line, sizeof(line),
				"{\"timestamp\":\"2026-11-24T10:00:00.000000+0000\","
				"\"event_type\":\"alert\",\"src_ip\":\"192.0.2.%lu\","
				"\"src_port\":40000,\"dest_ip\":\"203.0.113.10\","
				"\"dest_port\":445,\"proto\":\"TCP\",\"alert\":{"
				"\"action\":\"allowed\",\"gid\":1,\"signature_id\":"
				"%lu,\"rev\":1,\"signature\":\"ET WORM bench\","
				"\"category\":\"x\",\"severity\":%d}}",
				n % 250 + 1, 2100000 + n % 64, (int)(n % 3) + 1);

			if (ev_parse_eve(line, (size_t)len, &a, err,
					 sizeof(err)) > 0 &&
			    !ev_to_corr(&a, is_sub, NULL, "eve", &ev))
				corr_ingest(c, &ev, (uint64_t)(now_s() * 1e9));
		}
		t = now_s() - t0;
	} while (t < (quick ? 1.0 : 2.0));
	printf("   EVE alerts parsed and correlated: %.0f /s (%lu alerts, %lu "
	       "decisions; 250 terminals, 2 rules)\n",
	       (double)n / t, n, decisions);
	put(sec, "eve_alerts_per_s", (double)n / t);
	corr_free(c);
	policy_free(p);

	/* Reports: frame, MAC, XML, freshness, replay cache. */
	memcpy(k.key, key, 32);
	kr.keys = &k;
	kr.nkeys = 1;
	crsap_replay_new(1u << 20, &rp);
	n = 0;
	t0 = now_s();
	do {
		struct crsap_report r = { .ms = "t1", .status = CRSAP_STATUS_CLEAN,
					  .os_name = "Android", .os_version = "14",
					  .sca_version = "1" }, out_r;
		const struct crsap_key *kk;
		char *xml, err[128];
		uint8_t *frame;
		size_t xlen, flen;

		r.time_ms = (uint64_t)(time(NULL)) * 1000;
		crsap_nonce(r.nonce);
		crsap_report_build(&r, &xml, &xlen);
		crsap_frame_build("t1", key, 32, xml, xlen, &frame, &flen);
		if (crsap_verify_report(&kr, rp, frame + 4, flen - 4, r.time_ms,
					60000, &out_r, &kk, err,
					sizeof(err)) == CRSAP_OK)
			n++;
		free(xml);
		free(frame);
		t = now_s() - t0;
	} while (t < (quick ? 1.0 : 2.0));
	printf("   reports built, framed, authenticated and parsed: %.0f /s\n",
	       (double)n / t);
	put(sec, "reports_per_s", (double)n / t);
	crsap_replay_free(rp);
	json_object_object_add(out, "ingest", sec);
}

/* ---- reaction latency through the real agent ---- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void pct(const char *what, double *v, size_t n, json_object *o)
{
	qsort(v, n, sizeof(*v), cmp_d);
	printf("   %-44s p50 %7.1f us  p99 %7.1f us  max %7.1f us\n", what,
	       v[n / 2] * 1e6, v[n * 99 / 100] * 1e6, v[n - 1] * 1e6);
	put(o, "p50_us", v[n / 2] * 1e6);
	put(o, "p99_us", v[n * 99 / 100] * 1e6);
	put(o, "max_us", v[n - 1] * 1e6);
}

/* The real agent on the policy at path, quiet, killed with this
 * process; waits (5 s) until wait_for exists. Its pid, or -1 if it did
 * not come up. */
static pid_t start_agent(const char *builddir, const char *path,
			 const char *wait_for)
{
	char bin[512];
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/agent/xcrs-agent", builddir);
	pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(nul, 1);
		dup2(nul, 2);
		execl(bin, bin, "-q", "-c", path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 100 && access(wait_for, F_OK); i++)
		usleep(50000);
	if (pid > 0 && access(wait_for, F_OK)) {
		printf("   the agent did not start (%s)\n", bin);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static void section_latency(const char *builddir)
{
	enum { N = 1000 };
	static double to_map[N], to_drop[N];
	char dir[64], pins[256], policy[300], sock[100];
	json_object *sec = json_object_new_object(), *a = json_object_new_object(),
		    *b = json_object_new_object();
	struct dp_config cfg = { 0 };
	struct dp *dp = NULL;
	char err[512];
	pid_t pid;
	int fd, prog, n = 0;
	FILE *f;

	printf("\n== latency: EVE alert -> reaction (the real xcrs-agent, %d "
	       "reactions)\n", N);
	snprintf(dir, sizeof(dir), "/tmp/xcrs-bench-%d", getpid());
	mkdir(dir, 0700);
	tn_pin_dir(pins, sizeof(pins), "bench");
	tn_rm_pins(pins);
	snprintf(policy, sizeof(policy), "%s/policy.yaml", dir);
	snprintf(sock, sizeof(sock), "%s/eve.sock", dir);
	f = fopen(policy, "w");
	fprintf(f,
		"version: 1\n"
		"agent: {pin_dir: %s, control_socket: %s/ctl.sock, "
		"state_file: %s/state.json, audit_log: %s/audit.jsonl}\n"
		"services:\n  - {name: web, rules: [{prefixes: 203.0.113.0/24}]}\n"
		"levels:\n  - {name: normal, allow: all}\n"
		"  - {name: blocked, allow: []}\n"
		"scopes:\n  - {name: cell, pools: \"2001:db8:100::/40\"}\n"
		"inputs:\n  eve:\n    - socket: %s\n"
		"rules:\n  - {name: at-once, on: ids, match: {severity_at_most: 1}, "
		"react: {level: blocked, for: 1h}}\n",
		pins, dir, dir, dir, sock);
	fclose(f);
	pid = start_agent(builddir, policy, sock);
	cfg.pin_dir = pins;
	if (pid < 0)
		goto out;
	if (dp_open(&cfg, &dp, err, sizeof(err))) {
		printf("   the dataplane: %s\n", err);
		goto out;
	}
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			printf("   cannot connect to %s\n", sock);
			goto out;
		}
	}
	prog = dp_prog_fd(dp, XCRS_ROLE_ACCESS, false);
	for (int i = 0; i < N; i++) {
		char addr[64], line[512];
		struct xcrs_addr xa;
		struct xcrs_sub s;
		struct pb_frame fr = { .ip = { .family = 6, .src = addr,
					       .dst = "2001:db8:cafe::10",
					       .proto = IPPROTO_TCP,
					       .sport = 40000, .dport = 80 } };
		uint8_t pkt[PB_MAX];
		size_t len;
		double t0, t1 = 0, t2 = 0;
		int len2, v = XDP_PASS;

		snprintf(addr, sizeof(addr), "2001:db8:100::%x", i + 1);
		inet_pton(AF_INET6, addr, xa.a);
		len = pb_build(&fr, pkt, sizeof(pkt), NULL);
		len2 = snprintf(line, sizeof(line),
				"{\"event_type\":\"alert\",\"src_ip\":\"%s\","
				"\"dest_ip\":\"2001:db8:cafe::10\",\"proto\":\"TCP\","
				"\"alert\":{\"signature_id\":1,\"signature\":\"x\","
				"\"severity\":1}}\n", addr);
		t0 = now_s();
		if (write(fd, line, (size_t)len2) != len2)
			break;
		/* Polls the map and a packet of the subscriber until each
		 * shows the reaction (5 s at most). */
		while ((!t1 || !t2) && now_s() - t0 < 5) {
			if (!t1 && !dp_sub_get(dp, &xa, &s))
				t1 = now_s();
			if (!t2) {
				ns_per_packet(prog, pkt, len, 1, &v);
				if (v == XDP_DROP)
					t2 = now_s();
			}
		}
		if (!t1 || !t2)
			break;
		to_map[n] = t1 - t0;
		to_drop[n] = t2 - t0;
		n++;
	}
	if (n < N) {
		printf("   only %d of %d reactions seen\n", n, N);
		goto out;
	}
	pct("alert written -> map entry changed", to_map, (size_t)n, a);
	pct("alert written -> first packet dropped", to_drop, (size_t)n, b);
	json_object_object_add(sec, "to_map", a);
	json_object_object_add(sec, "to_first_drop", b);
	json_object_object_add(out, "latency", sec);
out:
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	if (dp) {
		dp_unpin(dp);
		dp_close(dp);
	}
	tn_rm_pins(pins);
	tn_run(NULL, NULL, 0, "rm -rf %s", dir);
}


/* ---- packet rate through a veth pair ---- */

/* XDP programs written as instructions (no object file needed). */
#define INSN(c, d, sr, o, i)                                                   \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (sr),      \
			    .off = (o), .imm = (i) })

static int prog_ret(int verdict, const char *name)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insns, 2, NULL);
}

/* Returns verdict after counting in slot 0 of a per-CPU array. */
static int prog_count(int map_fd, int verdict)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0,
		     map_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 3, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_0, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, 1),
		INSN(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_1, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_count", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

static uint64_t percpu_sum(int map_fd, uint32_t key)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[512] = { 0 }, sum = 0;

	if (bpf_map_lookup_elem(map_fd, &key, v))
		return 0;
	for (int c = 0; c < ncpu; c++)
		sum += v[c];
	return sum;
}

struct gen {
	struct tn_ns *ns;
	int ifindex, prog, cpu;
	const uint8_t *pkt;
	size_t len;
	uint32_t repeat;
	const char *src; /* pktgen: the sending subscriber */
	double secs;
	double pg_pps; /* pktgen: the rate it reports itself */
	int err;
};

/* Live frames: the generator program returns XDP_TX, so each frame leaves
 * gen0 and arrives at its peer, where the program under test runs. */
static void generate(struct gen *g)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	/* the kernel wants data_end = the frame's length */
	struct xdp_md ctx = { .data_end = (uint32_t)g->len,
			      .ingress_ifindex = (uint32_t)g->ifindex };
	double t0;

	o.data_in = g->pkt;
	o.data_size_in = (uint32_t)g->len;
	o.ctx_in = &ctx;
	o.ctx_size_in = sizeof(ctx);
	o.repeat = g->repeat;
	o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	o.batch_size = 64;
	if (tn_enter(g->ns)) {
		g->err = -1;
		return;
	}
	t0 = now_s();
	g->err = bpf_prog_test_run_opts(g->prog, &o) ? -errno : 0;
	g->secs = now_s() - t0;
	tn_leave();
}

/* One pktgen command into a /proc/net/pktgen file (of the calling
 * thread's namespace). */
static int pg_write(const char *file, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int pg_write(const char *file, const char *fmt, ...)
{
	char path[128], cmd[256];
	va_list ap;
	FILE *f;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "/proc/net/pktgen/%s", file);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	r = fprintf(f, "%s\n", cmd) < 0 ? -EIO : 0;
	if (fclose(f))
		r = -errno;
	return r;
}

/* What pktgen says it sent: "Result: OK: ... (...) \n  NNNpps ...". */
static double pg_result_pps(const char *dev)
{
	char path[128], buf[4096], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/net/pktgen/%s", dev);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, "Result: OK:");
	p = p ? strstr(p, "pps") : NULL;
	if (!p)
		return 0;
	while (p > buf && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return strtod(p, NULL);
}

/* The kernel's pktgen, where it exists: the classic scripts' parameters
 * (one thread, gen0, UDP, fixed addresses, clone_skb and burst where the
 * device takes them) with the same frame as the live-frame generator. Run
 * in ci/kernel-test --bench (Debian's 6.1 has pktgen; this machine's
 * kernel does not). */
static void generate_pktgen(struct gen *g, const char *dst_mac)
{
	double t0;

	if (tn_enter(g->ns)) {
		g->err = -1;
		return;
	}
	g->err = pg_write("kpktgend_0", "rem_device_all") ?:
		 pg_write("kpktgend_0", "add_device gen0") ?:
		 pg_write("gen0", "count %u", g->repeat) ?:
		 pg_write("gen0", "pkt_size %zu", g->len + 4);
	/* a veth shares no skb (no IFF_TX_SKB_SHARING): pktgen refuses
	 * clones and bursts there (ENOTSUPP), so it sends without them */
	if (!g->err && pg_write("gen0", "clone_skb 1000"))
		g->err = pg_write("gen0", "clone_skb 0");
	if (!g->err && pg_write("gen0", "burst 32"))
		g->err = pg_write("gen0", "burst 1");
	if (!g->err)
		g->err = pg_write("gen0", "delay 0") ?:
			 pg_write("gen0", "src_min %s", g->src) ?:
			 pg_write("gen0", "src_max %s", g->src) ?:
			 pg_write("gen0", "dst %s", XT_WEB4) ?:
			 pg_write("gen0", "dst_mac %s", dst_mac) ?:
			 pg_write("gen0", "udp_dst_min 80") ?:
			 pg_write("gen0", "udp_dst_max 80");
	if (!g->err) {
		t0 = now_s();
		g->err = pg_write("pgctrl", "start"); /* returns when done */
		g->secs = now_s() - t0;
		g->pg_pps = pg_result_pps("gen0");
		pg_write("kpktgend_0", "rem_device_all");
	}
	tn_leave();
}

static uint64_t nft_count(struct tn_ns *ns)
{
	char buf[8192], *p;
	uint64_t n = 0;

	if (tn_run(ns, buf, sizeof(buf), "nft list chain netdev xb in") == 0 &&
	    (p = strstr(buf, "counter packets ")))
		n = strtoull(p + strlen("counter packets "), NULL, 10);
	return n;
}

/* One receiver configuration of the rate section. */
enum rconf { R_BARE, R_FILTER, R_NFT, R_XCRS_BLOCKED, R_XCRS_QUAR,
	     R_BARE_PASS, R_XCRS_PASS, R_GTPU, R_GTPU_SPREAD, R_GTPU_PASS,
	     R_GTPU_PASS_SPREAD, R_XCRS_DISP, R_NCONF };

static const struct {
	const char *name;
	int level;	/* the sending subscriber's level */
	bool passes;	/* the traffic passes (to the namespace's stack) */
} rconfs[R_NCONF] = {
	[R_BARE] = { "bare XDP_DROP (counting)", L_BLOCKED, false },
	[R_FILTER] = { "xdp-filter alw_ip, address denied", L_BLOCKED, false },
	[R_NFT] = { "nftables netdev ingress set", L_BLOCKED, false },
	[R_XCRS_BLOCKED] = { "xcrs, blocked subscriber", L_BLOCKED, false },
	[R_XCRS_QUAR] = { "xcrs, quarantined (classified)", L_QUARANTINED,
			  false },
	[R_BARE_PASS] = { "bare XDP_PASS (pass traffic)", L_NORMAL, true },
	[R_XCRS_PASS] = { "xcrs, normal subscriber (pass)", L_NORMAL, true },
	[R_GTPU] = { "xcrs, GTP-U (random TEIDs), one CPU judges",
		     L_QUARANTINED, false },
	[R_GTPU_SPREAD] = { "xcrs, GTP-U spread by TEID to CPU 1",
			    L_QUARANTINED, false },
	[R_GTPU_PASS] = { "xcrs, GTP-U passing, one CPU", L_NORMAL, true },
	[R_GTPU_PASS_SPREAD] = { "xcrs, GTP-U passing, spread to CPU 1",
				 L_NORMAL, true },
	[R_XCRS_DISP] = { "xcrs, blocked, in libxdp's dispatcher",
			  L_BLOCKED, false },
};

/* Sends g->repeat frames from each of nthreads threads, thread i on
 * CPU i (so receive queue i of the veth: its NAPI runs there too). */
static void *gen_thread(void *arg)
{
	struct gen *g = arg;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(g->cpu, &one);
	pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	generate(g);
	return NULL;
}

/* Frames the receiver's program counted (or nftables' counter). */
static uint64_t rate_count(enum rconf c, struct tn_ns *dut, struct dp *dp,
			   int map)
{
	struct dp_stats st;

	switch (c) {
	case R_BARE:
	case R_BARE_PASS:
		return percpu_sum(map, 0);
	case R_FILTER: {
		struct bpf_map *m =
			bpf_object__find_map_by_name(xdpfilt, "xdp_stats_map");
		/* its records: {rx_packets, rx_bytes} per action */
		int ncpu = libbpf_num_possible_cpus();
		uint64_t v[1024] = { 0 }, n = 0;
		uint32_t k = XDP_DROP;

		if (m && !bpf_map_lookup_elem(bpf_map__fd(m), &k, v))
			for (int i = 0; i < ncpu; i++)
				n += v[2 * i];
		return n;
	}
	case R_NFT:
		return nft_count(dut);
	default:
		if (!dp || dp_stats_read(dp, &st))
			return 0;
		return c == R_XCRS_PASS || c == R_GTPU_PASS ||
				       c == R_GTPU_PASS_SPREAD ?
			       st.c[XCRS_ACT_PASS][XCRS_R_ALLOWED].packets :
			       st.c[XCRS_ACT_DROP][XCRS_R_LEVEL].packets;
	}
}

/* One configuration at one CPU count: Mpps, or a negative errno. */
static double rate_run(enum rconf c, int ncpus, struct tn_ns *gen,
		       struct tn_ns *dut, int gen_prog, uint32_t repeat,
		       bool use_pktgen, const char *dut_mac)
{
	uint8_t pkt[PB_MAX];
	struct pb_frame fr = { .ip = { .family = 4,
				       .src = xt_sub_addr(4, rconfs[c].level),
				       .dst = XT_WEB4, .proto = IPPROTO_UDP,
				       .sport = 40000, .dport = 80,
				       .payload = 18 } };
	size_t len;
	int dut_if = tn_ifindex(dut, "dut0"), prog = -1, map = -1, err = 0,
	    gprog = gen_prog;
	bool gtpu = c == R_GTPU || c == R_GTPU_SPREAD || c == R_GTPU_PASS ||
		    c == R_GTPU_PASS_SPREAD;
	struct gen g[2];
	pthread_t th[2];
	struct dp *dp = NULL;
	uint64_t before, got;
	double secs = 0;

	if (gtpu) {
		fr.gtpu = true;
		fr.outer = (struct pb_ip){ .family = 4, .src = XT_GNB4,
					   .dst = XT_UPF4 };
		/* a random TEID per frame: Ethernet + IPv4 + UDP + 4 */
		gprog = lt_prog_tx(14 + 20 + 8 + 4);
	}
	len = pb_build(&fr, pkt, sizeof(pkt), NULL);
	if (c == R_BARE || c == R_BARE_PASS) {
		map = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "bench_cnt", 4,
				     8, 1, NULL);
		prog = prog_count(map, c == R_BARE ? XDP_DROP : XDP_PASS);
	} else if (c == R_FILTER) {
		char deny[1][64];

		snprintf(deny[0], 64, "%s", xt_sub_addr(4, L_BLOCKED));
		prog = xdp_filter(deny, 1);
	} else if (c == R_NFT) {
		prog = prog_ret(XDP_PASS, "bench_pass");
		if (tn_sh(dut, "nft add table netdev xb && nft add set "
			       "netdev xb deny { type ipv4_addr \\; } && "
			       "nft add element netdev xb deny { %s } && "
			       "nft add chain netdev xb in { type filter hook "
			       "ingress device dut0 priority 0 \\; } && nft add "
			       "rule netdev xb in ip saddr @deny counter drop",
			  xt_sub_addr(4, L_BLOCKED)))
			return -ENOENT;
	} else {
		struct dp_config cfg = { 0 };
		struct dp_policy p;
		char e[256];

		if (dp_open(&cfg, &dp, e, sizeof(e)))
			return -EINVAL;
		xt_policy(&p, XCRS_LEVEL_PASS);
		if (dp_policy_apply(dp, &p) || xt_add_subs(dp)) {
			dp_close(dp);
			return -EINVAL;
		}
	}
	tn_enter(dut);
	if (dp) {
		/* attached directly, as the baselines are; one row through
		 * the dispatcher where it works */
		struct dp_attach_opts ao = {
			.role = XCRS_ROLE_ACCESS,
			.mode = DP_MODE_NATIVE,
			.via = c == R_XCRS_DISP ? DP_VIA_DISPATCHER :
						  DP_VIA_LINK,
		};

		static const unsigned others[] = { 1 };

		if (c == R_GTPU_SPREAD || c == R_GTPU_PASS_SPREAD) {
			/* the CPUs other than the receiving one (0) */
			ao.spread = XCRS_SPREAD_TEID;
			ao.spread_cpus = others;
			ao.nspread_cpus = 1;
		}
		err = dp_attach(dp, "dut0", &ao);
	} else if (prog >= 0) {
		err = bpf_xdp_attach(dut_if, prog, XDP_FLAGS_DRV_MODE, NULL);
	} else {
		err = -EINVAL;
	}
	tn_leave();
	before = err ? 0 : rate_count(c, dut, dp, map);
	for (int i = 0; !err && i < ncpus; i++) {
		g[i] = (struct gen){ .ns = gen, .prog = gprog, .pkt = pkt,
				     .len = len, .repeat = repeat / ncpus,
				     .cpu = i,
				     .src = xt_sub_addr(4, rconfs[c].level),
				     .ifindex = tn_ifindex(gen, "gen0") };
		if (use_pktgen) {
			generate_pktgen(&g[i], dut_mac);
			break; /* one pktgen thread */
		}
		if (pthread_create(&th[i], NULL, gen_thread, &g[i]))
			err = -EAGAIN;
	}
	for (int i = 0; !use_pktgen && i < ncpus; i++) {
		pthread_join(th[i], NULL);
		if (g[i].err)
			err = g[i].err;
		if (g[i].secs > secs)
			secs = g[i].secs;
	}
	if (use_pktgen) {
		secs = g[0].secs, err = err ? err : g[0].err;
		if (!err && g[0].pg_pps > 0)
			printf("   %-36s pktgen reports %.3f Mpps sent\n",
			       rconfs[c].name, g[0].pg_pps / 1e6);
	}
	got = err ? 0 : rate_count(c, dut, dp, map) - before;
	tn_enter(dut);
	if (dp)
		dp_detach(dp, "dut0");
	else
		bpf_xdp_detach(dut_if, XDP_FLAGS_DRV_MODE, NULL);
	tn_leave();
	if (c == R_NFT)
		tn_sh(dut, "nft delete table netdev xb");
	if (c == R_FILTER && xdpfilt) {
		bpf_object__close(xdpfilt);
		xdpfilt = NULL;
	} else if (prog >= 0) {
		close(prog);
	}
	if (map >= 0)
		close(map);
	if (gprog != gen_prog)
		close(gprog);
	dp_close(dp);
	if (err)
		return err < 0 ? err : -EINVAL;
	/* a router solicitation or two may count too */
	if (got > repeat)
		got = repeat;
	printf("   %-36s %d CPU%s  sent %9u  received %9lu  lost %8lu  "
	       "%7.3f Mpps\n",
	       rconfs[c].name, ncpus, ncpus > 1 ? "s" : " ", repeat,
	       (unsigned long)got, (unsigned long)(repeat - got),
	       (double)got / secs / 1e6);
	return (double)got / secs / 1e6;
}

static void section_rate(void)
{
	const uint32_t repeat = rate_frames ? rate_frames :
				quick ? 5000000 : 20000000;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
	struct tn_ns gen, dut;
	json_object *sec = json_object_new_array();
	double rate[R_NCONF][3] = { { 0 } };
	int gen_prog = prog_ret(XDP_TX, "bench_tx");
	bool use_pktgen = access("/proc/net/pktgen/pgctrl", F_OK) == 0 &&
			  !getenv("XCRS_BENCH_LIVE_FRAMES");
	char dut_mac[32] = "";
	bool disp_ok = false;
	const char *why = "?";

	printf("\n== rate: packets through a veth pair (%u frames of 60 "
	       "bytes, IPv4 UDP to port 80, per configuration and CPU "
	       "count)\n", repeat);
	if (use_pktgen)
		printf("   generator: the kernel's pktgen (/proc/net/pktgen), "
		       "one thread\n");
	else
		printf("   generator: XDP live frames (no /proc/net/pktgen "
		       "here), XDP_TX from gen0, one thread per CPU; each "
		       "CPU also runs the receive queue it feeds\n");
	{
		struct dp_config cfg = { 0 };
		char e[256];
		struct dp *d;

		if (!dp_open(&cfg, &d, e, sizeof(e))) {
			disp_ok = dp_dispatcher_usable(d, &why) == 1;
			if (!disp_ok)
				printf("   libxdp's dispatcher: not measured "
				       "(%s)\n", why);
			dp_close(d);
		}
	}
	if (tn_ns_create(&gen, "bgen") || tn_ns_create(&dut, "bdut") ||
	    tn_sh(&gen, "ip link add gen0 numtxqueues 2 numrxqueues 2 type "
			"veth peer name dut0 numtxqueues 2 numrxqueues 2 "
			"netns %d && ip link set gen0 up && nsenter "
			"--net=/proc/%d/ns/net ip link set dut0 up",
		  dut.holder, dut.holder)) {
		printf("   cannot build the veth pair\n");
		return;
	}
	{
		unsigned char m[6];

		if (!tn_mac(&dut, "dut0", m))
			snprintf(dut_mac, sizeof(dut_mac),
				 "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
				 m[2], m[3], m[4], m[5]);
	}
	/* gen0 needs an XDP program of its own for live-frame XDP_TX */
	{
		int pass = prog_ret(XDP_PASS, "bench_pass"),
		    idx = tn_ifindex(&gen, "gen0"); /* it leaves the namespace */

		tn_enter(&gen);
		if (bpf_xdp_attach(idx, pass, XDP_FLAGS_DRV_MODE, NULL))
			printf("   gen0: cannot attach XDP: %s\n",
			       strerror(errno));
		tn_leave();
	}
	for (int n = 1; n <= (use_pktgen ? 1 : ncpu); n++) {
		for (int c = 0; c < R_NCONF; c++) {
			double r;
			json_object *o;

			/* spreading shows with one receive queue: one
			 * generator thread (CPU 0), the cpumap moves work to
			 * the other CPUs */
			if (c >= R_GTPU && c <= R_GTPU_PASS_SPREAD &&
			    (n != 1 || use_pktgen || ncpu < 2))
				continue;
			if (c == R_XCRS_DISP && !disp_ok)
				continue;
			r = rate_run(c, n, &gen, &dut, gen_prog, repeat,
				     use_pktgen, dut_mac);

			if (r < 0) {
				printf("   %-36s %d CPU%s  failed: %s\n",
				       rconfs[c].name, n, n > 1 ? "s" : " ",
				       strerror((int)-r));
				continue;
			}
			rate[c][n] = r;
			o = json_object_new_object();
			json_object_object_add(
				o, "config",
				json_object_new_string(rconfs[c].name));
			put(o, "cpus", n);
			put(o, "sent", repeat);
			put(o, "mpps", r);
			json_object_array_add(sec, o);
		}
		if (rate[R_BARE][n] > 0 && rate[R_FILTER][n] > 0 &&
		    rate[R_NFT][n] > 0)
			for (int c = R_XCRS_BLOCKED; c <= R_XCRS_QUAR; c++)
				printf("   %d CPU%s: %-30s / bare %.2f   / "
				       "xdp-filter %.2f   / nftables %.2f\n",
				       n, n > 1 ? "s" : "", rconfs[c].name,
				       rate[c][n] / rate[R_BARE][n],
				       rate[c][n] / rate[R_FILTER][n],
				       rate[c][n] / rate[R_NFT][n]);
		if (rate[R_XCRS_DISP][n] > 0 && rate[R_XCRS_BLOCKED][n] > 0)
			printf("   %d CPU%s: xcrs blocked in libxdp's dispatcher / "
			       "on its own link %.2f\n",
			       n, n > 1 ? "s" : "",
			       rate[R_XCRS_DISP][n] / rate[R_XCRS_BLOCKED][n]);
		if (rate[R_BARE_PASS][n] > 0)
			printf("   %d CPU%s: xcrs pass / bare XDP_PASS %.2f\n", n,
			       n > 1 ? "s" : "",
			       rate[R_XCRS_PASS][n] / rate[R_BARE_PASS][n]);
		if (rate[R_GTPU][n] > 0 && rate[R_GTPU_SPREAD][n] > 0)
			printf("   GTP-U arriving on one CPU, dropped: spread "
			       "by TEID / not spread %.2f\n",
			       rate[R_GTPU_SPREAD][n] / rate[R_GTPU][n]);
		if (rate[R_GTPU_PASS][n] > 0 && rate[R_GTPU_PASS_SPREAD][n] > 0)
			printf("   GTP-U arriving on one CPU, passing to the "
			       "stack: spread / not spread %.2f\n",
			       rate[R_GTPU_PASS_SPREAD][n] /
				       rate[R_GTPU_PASS][n]);
	}
	json_object_object_add(out, "rate", sec);
	tn_ns_destroy(&dut);
	tn_ns_destroy(&gen);
	close(gen_prog);
}

/* ---- radius: the packet core's accounting into the agent ---- */

#define RB_SECRET "bench-secret"

struct codec_server {
	int fd;
	pthread_t th;
	volatile int stop;
};

/* The baseline: the codec alone on a socket (parse, verify, respond), no
 * agent, no recording. */
static void *codec_serve(void *arg)
{
	struct codec_server *cs = arg;
	uint8_t buf[RADIUS_MAX + 1], resp[RADIUS_HDR];

	while (!cs->stop) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		struct radius_acct a;
		ssize_t n = recvfrom(cs->fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &fl);

		if (n <= 0)
			continue;
		if (radius_parse(buf, (size_t)n, &a, NULL, 0) ||
		    radius_verify(buf, &a, (const uint8_t *)RB_SECRET,
				  strlen(RB_SECRET)))
			continue;
		radius_response(&a, (const uint8_t *)RB_SECRET,
				strlen(RB_SECRET), resp, sizeof(resp));
		sendto(cs->fd, resp, sizeof(resp), 0, (struct sockaddr *)&from,
		       fl);
	}
	return NULL;
}

static int codec_start(struct codec_server *cs, unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_usec = 200000 };

	memset(cs, 0, sizeof(*cs));
	cs->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (cs->fd < 0 || bind(cs->fd, (void *)&a, sizeof(a)))
		return -errno;
	setsockopt(cs->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return pthread_create(&cs->th, NULL, codec_serve, cs) ? -EAGAIN : 0;
}

static void codec_stop(struct codec_server *cs)
{
	cs->stop = 1;
	pthread_join(cs->th, NULL);
	close(cs->fd);
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* p50 and p99 of the n answered latencies in lat (ns), in µs. */
static void lat_pct(uint64_t *lat, uint32_t n, double *p50, double *p99)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++)
		if (lat[i])
			lat[k++] = lat[i];
	qsort(lat, k, sizeof(*lat), cmp_u64);
	*p50 = k ? (double)lat[k / 2] / 1e3 : 0;
	*p99 = k ? (double)lat[(uint32_t)((k - 1) * 0.99)] / 1e3 : 0;
}

/* One JSON request line to the agent's control socket (a connection a
 * request); 0 if it said ok. */
static int ctl_line(const char *path, const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[8192];
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return strstr(buf, "\"ok\":true") || strstr(buf, "\"ok\": true") ? 0 :
									      -EINVAL;
}

static void section_radius(const char *builddir)
{
	const uint32_t N = quick ? 20000 : 100000, L = 1000;
	const unsigned port = 18813, bport = 18814;
	char dir[64], pins[256], policy[300], ctl[100];
	json_object *sec = json_object_new_object();
	struct radgen_result base = { 0 }, st = { 0 }, sp = { 0 },
			     lb = { 0 }, la = { 0 };
	struct codec_server cs;
	uint64_t *lat = calloc(L, sizeof(uint64_t)),
		 *latb = calloc(L, sizeof(uint64_t));
	double b50, b99, a50, a99;
	long rss0, rss1;
	pid_t pid;
	FILE *f;

	printf("\n== radius: Accounting-Requests into the real xcrs-agent "
	       "(loopback, 64 outstanding; %u sessions)\n", N);
	snprintf(dir, sizeof(dir), "/tmp/xcrs-bench-r%d", getpid());
	mkdir(dir, 0700);
	tn_pin_dir(pins, sizeof(pins), "bench-r");
	tn_rm_pins(pins);
	snprintf(policy, sizeof(policy), "%s/policy.yaml", dir);
	snprintf(ctl, sizeof(ctl), "%s/ctl.sock", dir);
	f = fopen(policy, "w");
	fprintf(f,
		"version: 1\n"
		"agent: {pin_dir: %s, control_socket: %s, "
		"state_file: %s/state.json, audit_log: %s/audit.jsonl, "
		"metrics: off, maps: {subscribers: 262144}}\n"
		"levels:\n  - {name: normal, allow: all}\n"
		"  - {name: blocked, allow: []}\n"
		"scopes:\n  - {name: apn, pools: [198.18.0.0/15, "
		"\"2001:db8::/32\"]}\n"
		"inputs:\n  radius:\n    listen: 127.0.0.1:%u\n"
		"    clients: [{address: 127.0.0.1, secret: %s}]\n",
		pins, ctl, dir, dir, port, RB_SECRET);
	fclose(f);
	pid = start_agent(builddir, policy, ctl);
	if (pid < 0)
		goto out;
	if (codec_start(&cs, bport)) {
		printf("   cannot start the codec baseline\n");
		goto out;
	}
	radgen_run(NULL, bport, RB_SECRET, RADIUS_START, 0, N, 64, &base);
	lb.lat = latb;
	radgen_run(NULL, bport, RB_SECRET, RADIUS_START, 0, L, 1, &lb);
	codec_stop(&cs);
	rss0 = rss_kib(pid);
	if (radgen_run(NULL, port, RB_SECRET, RADIUS_START, 0, N, 64, &st) ||
	    st.answered != N) {
		printf("   Starts: %llu of %u answered\n",
		       (unsigned long long)st.answered, N);
		goto out;
	}
	rss1 = rss_kib(pid);
	radgen_run(NULL, port, RB_SECRET, RADIUS_STOP, 0, N, 64, &sp);
	/* Start -> response for subscribers with a decision: the entries
	 * (the host and the /64) are written before the response */
	for (uint32_t i = 0; i < L; i++) {
		char line[160];

		snprintf(line, sizeof(line),
			 "{\"cmd\":\"react\",\"terminal\":\"imsi:00101%010u\","
			 "\"level\":\"blocked\"}\n",
			 N + i);
		if (ctl_line(ctl, line)) {
			printf("   react imsi:00101%010u failed\n", N + i);
			goto out;
		}
	}
	la.lat = lat;
	radgen_run(NULL, port, RB_SECRET, RADIUS_START, N, L, 1, &la);
	lat_pct(latb, L, &b50, &b99);
	lat_pct(lat, L, &a50, &a99);
	printf("   codec alone (parse, verify, respond) %9.0f requests/s\n",
	       base.answered / base.secs);
	printf("   xcrs-agent, Start (recorded, journaled) %7.0f requests/s  "
	       "/ codec alone %.2f\n",
	       N / st.secs, (N / st.secs) / (base.answered / base.secs));
	printf("   xcrs-agent, Stop (addresses released)  %7.0f requests/s\n",
	       sp.answered / sp.secs);
	printf("   memory per session (agent RSS)          %7.0f bytes\n",
	       rss0 > 0 && rss1 > rss0 ? (double)(rss1 - rss0) * 1024 / N : 0);
	printf("   Start -> response, subscriber with a decision (host and "
	       "/64 entries written first): p50 %.0f µs, p99 %.0f µs; codec "
	       "alone p50 %.0f µs, p99 %.0f µs\n",
	       a50, a99, b50, b99);
	put(sec, "codec_rps", base.answered / base.secs);
	put(sec, "start_rps", N / st.secs);
	put(sec, "stop_rps", sp.answered / sp.secs);
	put(sec, "bytes_per_session",
	    rss0 > 0 && rss1 > rss0 ? (double)(rss1 - rss0) * 1024 / N : 0);
	put(sec, "decided_start_p50_us", a50);
	put(sec, "decided_start_p99_us", a99);
	put(sec, "codec_p50_us", b50);
	put(sec, "codec_p99_us", b99);
out:
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	free(lat);
	free(latb);
	tn_rm_pins(pins);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			printf("   cannot remove %s\n", dir);
	}
	json_object_object_add(out, "radius", sec);
}

static void header(void)
{
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256], cpu[256] = "?";

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "model name : %255[^\n]", cpu) == 1)
			break;
	if (f)
		fclose(f);
	uname(&u);
	printf("xcrs-bench: Linux %s, %s, %ld CPUs%s\n", u.release, cpu,
	       sysconf(_SC_NPROCESSORS_ONLN), quick ? ", --quick" : "");
	json_object_object_add(out, "kernel", json_object_new_string(u.release));
	json_object_object_add(out, "cpu", json_object_new_string(cpu));
}

/* libbpf's messages go to stderr, apart from the tables on stdout; its
 * note that the objects' .xdp_run_config section (libxdp's, for the
 * dispatcher) is not its own is harmless and dropped. */
static int bench_libbpf_print(enum libbpf_print_level level, const char *fmt,
			      va_list ap)
{
	char line[1024];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (strstr(line, "skipping unrecognized data section"))
		return 0;
	return fprintf(stderr, "xcrs-bench: %s", line);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "build", required_argument, NULL, 'b' },
		{ "frames", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *builddir = XCRS_BUILDDIR;
	bool json = false, all;
	int c;

	libbpf_set_print(bench_libbpf_print);
	while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'q': quick = true; break;
		case 'b': builddir = optarg; break;
		case 'f': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*optarg < '0' || *optarg > '9' || *end ||
			    v < 1000 || v > 100000000) {
				fprintf(stderr, "xcrs-bench: --frames %s: a "
					"count from 1000 to 100000000\n",
					optarg);
				return 2;
			}
			rate_frames = (uint32_t)v;
			break;
		}
		case 'h':
			printf("usage: xcrs-bench [--json] [--quick] [--build DIR] "
			       "[--frames N] [cost] [scale] [ingest] [latency] "
			       "[rate] [radius] [fleet]\n"
			       "Figures of xcrs beside baselines measured in the "
			       "same run (root: BPF, the agent).\n"
			       "--quick stops the fills at 1M subscribers and "
			       "sends 5M frames per rate run (20M without).\n"
			       "--frames N sends N frames per rate run "
			       "(an emulated guest: ci/kernel-test --bench).\n");
			return 0;
		default:
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	/* each figure as soon as it is measured (a console, a pipe) */
	setvbuf(stdout, NULL, _IOLBF, 0);
	out = json_object_new_object();
	if (json) /* the tables go to stderr, the object to stdout */
		stdout = stderr;
	header();
	tn_sweep();
	all = optind == argc;
	for (int i = optind; i < argc || all; i++) {
		const char *s = all ? NULL : argv[i];

		if (all || !strcmp(s, "cost"))
			section_cost();
		if (all || !strcmp(s, "scale"))
			section_scale(builddir);
		if (all || !strcmp(s, "ingest"))
			section_ingest();
		if (all || !strcmp(s, "latency"))
			section_latency(builddir);
		if (all || !strcmp(s, "rate"))
			section_rate();
		if (all || !strcmp(s, "radius"))
			section_radius(builddir);
		if (!all && !strcmp(s, "fleet")) {
			/* its own program (nats.c, nats-server) */
			char cmd[600];

			fflush(stdout);
			snprintf(cmd, sizeof(cmd), "%s/test/xcrs-bench-fleet "
				 "--build %s%s",
				 builddir, builddir,
				 quick ? " --decisions 100000" : "");
			if (system(cmd))
				fprintf(stderr, "xcrs-bench: fleet failed\n");
		}
		if (all)
			break;
	}
	if (json)
		fprintf(fdopen(1, "w"), "%s\n",
			json_object_to_json_string_ext(out,
						       JSON_C_TO_STRING_PRETTY));
	json_object_put(out);
	return 0;
}
