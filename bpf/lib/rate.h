/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-subscriber token buckets (xcrs_rate).
 */
#ifndef XCRS_BPF_RATE
#define XCRS_BPF_RATE

/* Token bucket shared by all CPUs without a lock: refill is claimed by the
 * CPU that moves last_ns forward, the spend is an atomic add. Returns 1 if
 * the packet fits. */
HOT_FN int rate_ok(const struct xcrs_addr *a,
				       __u64 rate_Bps, __u64 burst_B, __u64 len)
{
	struct xcrs_bucket *b;
	/* The precise clock: at a tick's resolution the bucket could not
	 * refill in steps smaller than rate x tick. */
	__u64 now = bpf_ktime_get_ns(), last, el;
	__s64 burst = burst_B, old;

	if (!a)
		return 0;
	b = bpf_map_lookup_elem(&xcrs_rate, a);
	if (!b) {
		struct xcrs_bucket nb = { .last_ns = now, .tokens = burst };

		bpf_map_update_elem(&xcrs_rate, a, &nb, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&xcrs_rate, a);
		if (!b)
			return 0; /* fail closed */
	}
	last = b->last_ns;
	if (now > last) {
		el = now - last;
		if (el > 10000000000ULL)
			el = 10000000000ULL;
		if (__sync_val_compare_and_swap(&b->last_ns, last, now) ==
		    last) {
			__s64 add = (__s64)(el * rate_Bps / 1000000000ULL);

			if (add)
				__sync_fetch_and_add(&b->tokens, add);
			if (b->tokens > burst)
				b->tokens = burst;
		}
	}
	old = __sync_fetch_and_add(&b->tokens, -(__s64)len);
	if (old < (__s64)len) {
		__sync_fetch_and_add(&b->tokens, (__s64)len);
		return 0;
	}
	return 1;
}

#endif
