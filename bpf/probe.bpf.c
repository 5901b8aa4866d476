// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the dataplane library loads once to learn whether this kernel can
 * run libxdp's dispatcher: a program calling a global function, and a
 * replacement for that function (BPF_PROG_TYPE_EXT) that a second load
 * attaches to the first (freplace). That is what the dispatcher does with
 * every program in it; kernels or configurations that refuse it (6.18
 * here: EPERM) keep xcrs on its own BPF link.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__attribute__((noinline)) int xcrs_probe_slot(struct xdp_md *ctx)
{
	volatile int r = XDP_PASS;

	return ctx ? r : XDP_ABORTED;
}

SEC("xdp")
int xcrs_probe_main(struct xdp_md *ctx)
{
	return xcrs_probe_slot(ctx);
}

SEC("freplace/xcrs_probe_slot")
int xcrs_probe_ext(struct xdp_md *ctx)
{
	return XDP_PASS;
}
