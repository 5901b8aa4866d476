/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The statistics: per-CPU counters by action and reason, and per subscriber
 * (by the slot its host entry carries).
 */
#ifndef XCRS_BPF_STATS
#define XCRS_BPF_STATS

static __always_inline void count(__u32 action, __u32 reason, __u64 bytes)
{
	__u32 k = action * XCRS_REASON_MAX + reason;
	struct xcrs_counter *c = bpf_map_lookup_elem(&xcrs_stats, &k);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}


static __always_inline void count_sub(__u32 slot, int drop, __u64 bytes)
{
	struct xcrs_sub_counters *c = bpf_map_lookup_elem(&xcrs_sub_stats,
							  &slot);

	if (!c)
		return;
	if (drop) {
		c->drop.packets++;
		c->drop.bytes += bytes;
	} else {
		c->pass.packets++;
		c->pass.bytes += bytes;
	}
}

#endif
