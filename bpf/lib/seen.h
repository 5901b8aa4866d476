/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MS presence (X.1125 11.1): first and last seen per MS, and the connect
 * events of new ones under a per-CPU budget.
 */
#ifndef XCRS_BPF_SEEN
#define XCRS_BPF_SEEN

/* MS connect detection: the first packet of a subscriber not in
 * xcrs_seen is reported (within the per-CPU budget), later ones refresh
 * its last-seen time at most once a second. The agent ages entries out
 * (MS leave). */
static __always_inline void ms_seen(const struct xcrs_addr *sub, __u64 now)
{
	struct xcrs_seen *s = bpf_map_lookup_elem(&xcrs_seen, sub);
	struct xcrs_seen ns = { .first_ns = now, .last_ns = now };
	struct xcrs_event *ev;
	struct xcrs_rl *rl;
	__u32 zero = 0;

	if (s) {
		if (now - s->last_ns >= XCRS_SEEN_REFRESH_NS)
			s->last_ns = now;
		return;
	}
	rl = bpf_map_lookup_elem(&xcrs_connect_rl, &zero);
	if (!rl)
		return;
	if (now - rl->window_start_ns >= 1000000000ull) {
		rl->window_start_ns = now;
		rl->count = 0;
	}
	if (rl->count >= XCRS_CONNECT_EVENTS_PER_S)
		return; /* over budget: reported with a later packet */
	if (bpf_map_update_elem(&xcrs_seen, sub, &ns, BPF_NOEXIST))
		return; /* another CPU was first */
	rl->count++;
	ev = bpf_ringbuf_reserve(&xcrs_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->type = XCRS_EV_CONNECT;
	ev->count = 0;
	ev->window_ns = 0;
	ev->ts_ns = now;
	ev->addr = *sub;
	bpf_ringbuf_submit(ev, 0);
}

#endif
