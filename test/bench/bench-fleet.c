// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-bench-fleet (xcrs-bench fleet): two agents on a 3-server NATS
 * JetStream cluster on loopback (started here from the nats-server
 * binary), figures beside nats.c's own in the same run:
 *
 *  - a decision at A -> the map entry at B: p50/p99 over 200 decisions,
 *    beside a bare kvStore_Put -> kvWatcher_Next of the same size;
 *  - decisions per second into the fleet and taken by B (N decisions of a
 *    third node published at once);
 *  - a restart of B over N decisions: start -> ready (the bucket loaded),
 *    beside a bare kvStore_WatchAll of the bucket to its end.
 *
 * Root (bpffs). No pass/fail: figures only.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "addr.h"
#include "dataplane.h"
#include "fleet.h"
#include "lineproto.h"

#define NSRV 3
#define NLAT 200

static char dir[64];
static pid_t srv[NSRV] = { -1, -1, -1 }, ag[2] = { -1, -1 };
static const char *const node[2] = { "a", "b" };
static const char *builddir = XCRS_BUILDDIR;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void server_start(int i)
{
	char sd[200], log[200], port[8], cport[64], name[8];
	const char *routes = "nats://127.0.0.1:16301,nats://127.0.0.1:16302,"
			     "nats://127.0.0.1:16303";

	snprintf(sd, sizeof(sd), "%s/n%d", dir, i + 1);
	mkdir(sd, 0700);
	snprintf(log, sizeof(log), "%s/n%d.log", dir, i + 1);
	snprintf(port, sizeof(port), "%d", 14301 + i);
	snprintf(cport, sizeof(cport), "nats://127.0.0.1:%d", 16301 + i);
	snprintf(name, sizeof(name), "n%d", i + 1);
	srv[i] = fork();
	if (srv[i] == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p",
		       port, "-n", name, "--cluster_name", "xcrs-bench",
		       "-cluster", cport, "-routes", routes, "-js", "-sd", sd,
		       (char *)NULL);
		_exit(127);
	}
}

static int ctl(int s, const char *line, char *out, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t n = 0;
	ssize_t r;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", dir,
		 node[s]);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		return -1;
	}
	while (n + 1 < len && (r = read(fd, out + n, len - n - 1)) > 0) {
		n += (size_t)r;
		if (memchr(out, '\n', n))
			break;
	}
	out[n] = '\0';
	close(fd);
	return n ? 0 : -1;
}

static void agent_start(int s)
{
	char path[256], log[256], out[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.yaml", dir, node[s]);
	f = fopen(path, "w");
	fprintf(f,
		"version: 1\n"
		"agent:\n"
		"  pin_dir: /sys/fs/bpf/xcrs-bench-fleet-%s\n"
		"  control_socket: %s/%s.sock\n"
		"  state_file: %s/%s.state.json\n"
		"  audit_log: %s/%s.audit.jsonl\n"
		"  metrics: \"off\"\n"
		"  maps: {subscribers: 2000000}\n"
		"services:\n"
		"  - {name: dns, rules: [{prefixes: 198.51.100.53, "
		"protocol: udp, ports: 53}]}\n"
		"levels:\n"
		"  - {name: normal, allow: all}\n"
		"  - {name: quarantined, allow: [dns]}\n"
		"inputs:\n"
		"  sessions: [{socket: %s/%s.feed}]\n"
		"cluster:\n"
		"  node: %s\n"
		"  servers: [nats://127.0.0.1:14301, nats://127.0.0.1:14302, "
		"nats://127.0.0.1:14303]\n"
		"  sync_timeout: 120s\n",
		node[s], dir, node[s], dir, node[s], dir, node[s], dir, node[s],
		node[s]);
	fclose(f);
	snprintf(log, sizeof(log), "%s/%s.log", dir, node[s]);
	ag[s] = fork();
	if (ag[s] == 0) {
		char bin[300];
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		snprintf(bin, sizeof(bin), "%s/agent/xcrs-agent", builddir);
		execl(bin, bin, "-c", path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 3000; i++) {
		if (!ctl(s, "{\"cmd\": \"status\"}", out, sizeof(out)))
			return;
		usleep(10000);
	}
	fprintf(stderr, "xcrs-bench-fleet: agent %s did not start (%s)\n",
		node[s], log);
	exit(1);
}

static void agent_stop(int s)
{
	if (ag[s] > 0) {
		kill(ag[s], SIGTERM);
		waitpid(ag[s], NULL, 0);
	}
	ag[s] = -1;
}

static void cleanup(void)
{
	char cmd[300];

	for (int s = 0; s < 2; s++)
		agent_stop(s);
	for (int i = 0; i < NSRV; i++)
		if (srv[i] > 0) {
			kill(srv[i], SIGKILL);
			waitpid(srv[i], NULL, 0);
		}
	snprintf(cmd, sizeof(cmd),
		 "rm -rf %s /sys/fs/bpf/xcrs-bench-fleet-a "
		 "/sys/fs/bpf/xcrs-bench-fleet-b",
		 dir);
	if (system(cmd)) {
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void pct(uint64_t *v, size_t n, double *p50, double *p99)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	*p50 = (double)v[n / 2] / 1e6;
	*p99 = (double)v[(n * 99) / 100] / 1e6;
}

static void feed(int s, const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.feed", dir,
		 node[s]);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    write(fd, line, strlen(line)) < 0) {
	}
	if (fd >= 0)
		close(fd);
}

/* B's count of decision keys (its status). */
static long long b_keys(void)
{
	char out[8192];
	const char *k;

	if (ctl(1, "{\"cmd\": \"status\"}", out, sizeof(out)))
		return -1;
	k = strstr(out, "\"decision_keys\":");
	return k ? atoll(k + 16) : -1;
}

/* The bare client: put -> the watcher's entry, and a whole-bucket watch. */
static void baseline_latency(natsConnection *nc, double *p50, double *p99)
{
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	kvWatcher *w = NULL;
	kvConfig kc;
	uint64_t lat[NLAT];
	kvEntry *e;
	char val[256];

	natsConnection_JetStream(&js, nc, NULL);
	kvConfig_Init(&kc);
	kc.Bucket = "bench_baseline";
	kc.Replicas = 3;
	kc.History = 1;
	js_CreateKeyValue(&kv, js, &kc);
	kvStore_Watch(&w, kv, "k.>", NULL);
	while (kvWatcher_Next(&e, w, 1000) == NATS_OK && e)
		kvEntry_Destroy(e);
	memset(val, 'x', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (int i = 0; i < NLAT; i++) {
		uint64_t t0 = now_ns(), rev;
		char key[32];

		snprintf(key, sizeof(key), "k.%d", i);
		kvStore_PutString(&rev, kv, key, val);
		if (kvWatcher_Next(&e, w, 5000) == NATS_OK && e)
			kvEntry_Destroy(e);
		lat[i] = now_ns() - t0;
	}
	pct(lat, NLAT, p50, p99);
	kvWatcher_Destroy(w);
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
}

static double baseline_watch_all(natsConnection *nc, long long want)
{
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	kvWatcher *w = NULL;
	kvEntry *e;
	long long n = 0;
	uint64_t t0 = now_ns();

	kvWatchOptions o;

	/* as the agent asks (every entry from the start: one revision per
	 * key), so that the ratio compares the same request */
	kvWatchOptions_Init(&o);
	o.IncludeHistory = true;
	natsConnection_JetStream(&js, nc, NULL);
	js_KeyValue(&kv, js, "xcrs_decisions");
	if (kv && kvStore_WatchAll(&w, kv, &o) == NATS_OK) {
		while (kvWatcher_Next(&e, w, 10000) == NATS_OK && e) {
			kvEntry_Destroy(e);
			n++;
		}
		kvWatcher_Destroy(w);
	}
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	if (n < want)
		fprintf(stderr, "baseline watch: %lld of %lld keys\n", n,
			want);
	return (double)(now_ns() - t0) / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "decisions", required_argument, NULL, 'n' },
		{ "build", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long n = 1000000;
	uint64_t lat[NLAT];
	double p50, p99, b50, b99, secs, t_pub, t_take, t_ready, t_base;
	struct dp *ro = NULL;
	struct dp_config cfg = { .pin_dir = "/sys/fs/bpf/xcrs-bench-fleet-b" };
	natsConnection *nc = NULL;
	natsOptions *no = NULL;
	jsCtx *js = NULL;
	char err[512], out[4096];
	long long base_keys;
	uint64_t t0;
	int c;

	while ((c = getopt_long(argc, argv, "n:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtol(optarg, NULL, 10);
			if (n < 1000 || n > 10000000) {
				fprintf(stderr, "--decisions: 1000..10000000\n");
				return 2;
			}
			break;
		case 'b':
			builddir = optarg;
			break;
		case 'h':
			printf("usage: xcrs-bench-fleet [--decisions N] "
			       "[--build DIR]\n"
			       "Two agents on a 3-server NATS JetStream "
			       "cluster on loopback (root): decision latency "
			       "A -> B, decisions per second, a restart over "
			       "N decisions (default 1000000).\n");
			return 0;
		default:
			return 2;
		}
	}
	if (system("command -v nats-server >/dev/null 2>&1")) {
		fprintf(stderr, "xcrs-bench-fleet: nats-server is not "
				"installed\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (system("mountpoint -q /sys/fs/bpf || mount -t bpf bpf "
		   "/sys/fs/bpf")) {
	}
	snprintf(dir, sizeof(dir), "/tmp/xcrs-bench-fleet-%d", getpid());
	mkdir(dir, 0700);
	atexit(cleanup);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < NSRV; i++)
		server_start(i);
	usleep(500000);
	agent_start(0);
	agent_start(1);

	/* bare nats.c beside it */
	natsOptions_Create(&no);
	natsOptions_SetURL(no, "nats://127.0.0.1:14301");
	natsOptions_SetTimeout(no, 5000);
	if (natsConnection_Connect(&nc, no) != NATS_OK) {
		fprintf(stderr, "xcrs-bench-fleet: no NATS server\n");
		return 1;
	}
	natsConnection_JetStream(&js, nc, NULL);
	baseline_latency(nc, &b50, &b99);

	/* decision at A -> entry at B */
	for (int i = 0; i < NLAT; i++) {
		char line[300];

		snprintf(line, sizeof(line),
			 "{\"event\": \"start\", \"session\": \"s%d\", "
			 "\"nas\": \"upf-b\", \"imsi\": \"0010100000%05d\", "
			 "\"ipv4\": \"192.0.2.%d\"}\n",
			 i, i, i + 1);
		feed(1, line);
	}
	usleep(500000);
	if (dp_open(&cfg, &ro, err, sizeof(err))) {
		fprintf(stderr, "xcrs-bench-fleet: %s\n", err);
		return 1;
	}
	for (int i = 0; i < NLAT; i++) {
		struct ctl_args a = { .level = "quarantined",
				      .duration = "1h" };
		char id[32], *line = NULL, ip[32];
		struct xcrs_addr x;
		struct xcrs_sub sub;

		snprintf(id, sizeof(id), "imsi:0010100000%05d", i);
		a.terminal = id;
		if (ctl_build("react", &a, &line, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		snprintf(ip, sizeof(ip), "192.0.2.%d", i + 1);
		addr_parse(ip, &x);
		t0 = now_ns();
		ctl(0, line, out, sizeof(out));
		free(line);
		for (;;) {
			if (!dp_sub_get(ro, &x, &sub) && sub.level == 1)
				break;
			if (now_ns() - t0 > 5000000000ULL) {
				fprintf(stderr, "decision %d never reached B\n",
					i);
				break;
			}
		}
		lat[i] = now_ns() - t0;
	}
	pct(lat, NLAT, &p50, &p99);
	printf("fleet: decision at A -> B's map entry (%d decisions, 3 "
	       "servers on loopback)\n",
	       NLAT);
	printf("  xcrs        p50 %.2f ms  p99 %.2f ms   (goal p99 <= 5 "
	       "ms: %s)\n",
	       p50, p99, p99 <= 5.0 ? "met" : "not met");
	printf("  nats.c put -> watcher entry, bare: p50 %.2f ms  p99 "
	       "%.2f ms   (xcrs/bare p99 %.2fx)\n",
	       b50, b99, b99 > 0 ? p99 / b99 : 0);

	/* N decisions of a third node, published at once */
	base_keys = b_keys();
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		struct fleet_decision d = { .node = "x",
					    .level = "quarantined",
					    .until_ms = 0,
					    .why = "bench" };
		char enc[96], subj[160], *v;

		snprintf(d.id, sizeof(d.id), "imsi:00102%010ld", i);
		fleet_key_enc(d.id, enc, sizeof(enc));
		snprintf(subj, sizeof(subj), "$KV.xcrs_decisions.sub.%s.x",
			 enc);
		v = fleet_decision_encode(&d);
		while (js_PublishAsync(js, subj, v, (int)strlen(v), NULL) !=
		       NATS_OK)
			usleep(1000);
		free(v);
	}
	js_PublishAsyncComplete(js, NULL);
	t_pub = (double)(now_ns() - t0) / 1e9;
	while (b_keys() < base_keys + n &&
	       now_ns() - t0 < 600000000000ULL)
		usleep(100000);
	t_take = (double)(now_ns() - t0) / 1e9;
	printf("fleet: %ld decisions of another node into the bucket\n", n);
	printf("  published (nats.c async, bare): %.2f s, %.0f/s\n", t_pub,
	       (double)n / t_pub);
	printf("  taken by B (in its copy, applied): %.2f s, %.0f/s   "
	       "(xcrs/bare %.2fx)\n",
	       t_take, (double)n / t_take, t_take / t_pub);

	/* B restarts over the whole bucket */
	agent_stop(1);
	t0 = now_ns();
	agent_start(1);
	t_ready = (double)(now_ns() - t0) / 1e9;
	t_base = baseline_watch_all(nc, base_keys + n);
	printf("fleet: B restarted over %lld decision keys\n",
	       base_keys + n);
	printf("  start -> ready (bucket loaded): %.2f s   (goal for 1M <= "
	       "10 s: %s)\n",
	       t_ready, n >= 1000000 ? (t_ready <= 10.0 ? "met" : "not met") :
				       "n/a, fewer decisions");
	printf("  nats.c watch of the whole bucket, bare: %.2f s   "
	       "(xcrs/bare %.2fx)\n",
	       t_base, t_ready / t_base);
	secs = 0;
	(void)secs;
	dp_close(ro);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(no);
	return 0;
}
