// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>

#include "livetraffic.h"

static int prog_tx_rand(unsigned off);

static int prog_ret(int verdict)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = verdict },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "t_ret", "GPL", insns, 2,
			     NULL);
}

int lt_topology(struct tn_ns *gen, struct tn_ns *edge)
{
	int r = tn_ns_create(gen, "gen");

	if (!r)
		r = tn_ns_create(edge, "edge");
	for (int i = 0; !r && i < 2; i++)
		r = tn_sh(i ? edge : gen,
			  "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
			  "net.ipv6.conf.default.disable_ipv6=1") ? -EIO : 0;
	if (!r)
		r = tn_veth(gen, "gen0", edge, "a1") ? -EIO : 0;
	if (!r)
		r = lt_prepare(gen, "gen0");
	return r;
}

int lt_prepare(const struct tn_ns *ns, const char *ifname)
{
	int fd = prog_ret(XDP_PASS), idx = tn_ifindex(ns, ifname), r;

	if (fd < 0)
		return -errno;
	if (idx <= 0) {
		close(fd);
		return idx < 0 ? idx : -ENODEV;
	}
	r = tn_enter(ns);
	if (!r)
		r = bpf_xdp_attach(idx, fd, XDP_FLAGS_DRV_MODE, NULL);
	tn_leave();
	close(fd);
	return r;
}

/* XDP_TX after writing bpf_get_prandom_u32() at off (if the frame is
 * long enough). */
int lt_prog_tx(unsigned off)
{
	return off ? prog_tx_rand(off) : prog_ret(XDP_TX);
}

static int prog_tx_rand(unsigned off)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6,
		  .src_reg = BPF_REG_1 },
		{ .code = BPF_JMP | BPF_CALL,
		  .imm = BPF_FUNC_get_prandom_u32 },
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_6, .off = 0 },
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_3,
		  .src_reg = BPF_REG_6, .off = 4 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_4,
		  .src_reg = BPF_REG_2 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_4,
		  .imm = (int)off + 4 },
		{ .code = BPF_JMP | BPF_JGT | BPF_X, .dst_reg = BPF_REG_4,
		  .src_reg = BPF_REG_3, .off = 1 },
		{ .code = BPF_STX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_0, .off = (short)off },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_TX },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "t_txrand", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

static void *run(void *arg)
{
	struct livetraffic *t = arg;
	int prog = t->rand_off ? prog_tx_rand(t->rand_off) : prog_ret(XDP_TX);
	sigset_t all;

	if (t->cpu >= 0) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(t->cpu, &one);
		pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	}
	/* a signal (SIGCHLD of a killed daemon) would end a run early */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (prog < 0 || tn_enter(t->ns)) {
		t->err = -errno;
		if (prog >= 0)
			close(prog);
		return NULL;
	}
	while (!atomic_load(&t->stop)) {
		LIBBPF_OPTS(bpf_test_run_opts, o);
		struct xdp_md ctx = { .data_end = (uint32_t)t->len,
				      .ingress_ifindex = (uint32_t)t->ifindex };

		o.data_in = t->pkt;
		o.data_size_in = (uint32_t)t->len;
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
		o.repeat = 20000;
		o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
		o.batch_size = 64;
		if (bpf_prog_test_run_opts(prog, &o)) {
			t->err = -errno;
			break;
		}
		atomic_fetch_add(&t->sent, o.repeat);
	}
	tn_leave();
	close(prog);
	return NULL;
}

int lt_start(struct livetraffic *t, const struct tn_ns *ns,
	     const char *ifname, const uint8_t *pkt, size_t len)
{
	return lt_start_opts(t, ns, ifname, pkt, len, -1, 0);
}

int lt_start_opts(struct livetraffic *t, const struct tn_ns *ns,
		  const char *ifname, const uint8_t *pkt, size_t len, int cpu,
		  unsigned rand_off)
{
	memset(t, 0, sizeof(*t));
	t->cpu = cpu;
	t->rand_off = rand_off;
	if (len > sizeof(t->pkt))
		return -EINVAL;
	t->ns = ns;
	/* before the thread enters: tn_ifindex leaves the namespace */
	t->ifindex = tn_ifindex(ns, ifname);
	if (t->ifindex <= 0)
		return t->ifindex < 0 ? t->ifindex : -ENODEV;
	memcpy(t->pkt, pkt, len);
	t->len = len;
	return pthread_create(&t->th, NULL, run, t) ? -EAGAIN : 0;
}

uint64_t lt_stop(struct livetraffic *t, int *err)
{
	atomic_store(&t->stop, true);
	pthread_join(t->th, NULL);
	*err = t->err;
	return atomic_load(&t->sent);
}
