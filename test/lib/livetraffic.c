// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>

#include "livetraffic.h"

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

static void *run(void *arg)
{
	struct livetraffic *t = arg;
	int prog = prog_ret(XDP_TX);
	sigset_t all;

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
	memset(t, 0, sizeof(*t));
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
