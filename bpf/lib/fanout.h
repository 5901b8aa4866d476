/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fan-out detection: distinct new-flow peers per window, reported through
 * the ring buffer (the signature of a scanning worm).
 */
#ifndef XCRS_BPF_FANOUT
#define XCRS_BPF_FANOUT

static __always_inline __u32 addr_hash(const struct xcrs_addr *a)
{
	const xw32 *w = (const xw32 *)a->a;
	__u32 h = 0x9e3779b9;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		h ^= w[i];
		h *= 0x85ebca6b;
		h ^= h >> 13;
		h *= 0xc2b2ae35;
		h ^= h >> 16;
	}
	return h;
}

/* Counts distinct peers a subscriber opens flows to; reports once per
 * window when the count exceeds the threshold. Races between CPUs can
 * lose a bit or a window reset: the count is a lower bound. */
static __always_inline void fanout(const struct xcrs_addr *sub,
				   const struct xcrs_addr *peer,
				   const struct xcrs_cfg *cfg, __u64 now)
{
	struct xcrs_fanout *f = bpf_map_lookup_elem(&xcrs_fanout, sub);
	struct xcrs_event *ev;
	__u32 h, bit, word;
	__u64 old, start;

	if (!f) {
		/* a new entry starts from zeros (off the stack, which is
		 * full): its window starts over below */
		__u32 z = 0;
		struct xcrs_fanout *nf = bpf_map_lookup_elem(&xcrs_fanout_zero,
							     &z);

		if (!nf)
			return;
		bpf_map_update_elem(&xcrs_fanout, sub, nf, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&xcrs_fanout, sub);
		if (!f)
			return;
	}
	start = f->window_start_ns;
	if (now - start >= cfg->fanout_window_ns &&
	    __sync_val_compare_and_swap(&f->window_start_ns, start, now) ==
		    start) {
#pragma unroll
		for (int i = 0; i < XCRS_FANOUT_WORDS; i++)
			f->bits[i] = 0;
		f->count = 0;
		f->reported = 0;
	}
	h = addr_hash(peer);
	bit = h & (XCRS_FANOUT_BITS - 1);
	word = bit / 64;
	if (word >= XCRS_FANOUT_WORDS)
		return;
	old = __sync_fetch_and_or(&f->bits[word], 1ULL << (bit & 63));
	if (old & (1ULL << (bit & 63)))
		return;
	if (__sync_fetch_and_add(&f->count, 1) + 1 <= cfg->fanout_threshold)
		return;
	if (__sync_val_compare_and_swap(&f->reported, 0, 1) != 0)
		return;
	ev = bpf_ringbuf_reserve(&xcrs_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->type = XCRS_EV_FANOUT;
	ev->count = f->count;
	ev->window_ns = cfg->fanout_window_ns;
	ev->ts_ns = now;
	ev->addr = *sub;
	bpf_ringbuf_submit(ev, 0);
}

#endif
