// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dataplane library (see dataplane.h): Statistics, how full each map is, and the ring buffer of detections.
 */
#include "dp-internal.h"

int dp_fill(struct dp *dp, struct dp_map_fill *out)
{
	enum fill { FILL_NONE, FILL_KEYS, FILL_SUBS, FILL_SLOTS };
	static const struct {
		enum dp_map m;
		enum fill fill;
		size_t key;
	} maps[] = {
#define X(id, name, role, fill, key) { M_##id, FILL_##fill, sizeof(key) },
		XCRS_MAPS(X)
#undef X
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		struct dp_map_fill *f;

		if (maps[i].fill == FILL_NONE)
			continue;
		f = &out[n++];
		f->name = map_names[maps[i].m];
		f->role = map_roles[maps[i].m];
		f->capacity = dp->max[maps[i].m];
		if (maps[i].fill == FILL_SUBS) {
			f->entries = dp->nsubs[maps[i].m - M_SUB4];
		} else if (maps[i].fill == FILL_SLOTS) {
			/* counter slots given */
			f->entries = dp_slots_used(dp, &f->capacity);
		} else {
			f->entries = count_keys(dp, maps[i].m, maps[i].key);
		}
	}
	dp_ok(dp);
	return n;
}

/* ---- statistics ---- */

int dp_stats_read(struct dp *dp, struct dp_stats *ret_stats)
{
	struct xcrs_counter *v;
	struct dp_stats st = {};

	v = calloc(dp->ncpus, sizeof(*v));
	if (!v)
		return dp_fail(dp, -ENOMEM, "reading statistics");
	for (__u32 k = 0; k < XCRS_STATS_SLOTS; k++) {
		struct xcrs_counter *c = &st.c[k / XCRS_REASON_MAX]
					       [k % XCRS_REASON_MAX];

		if (bpf_map_lookup_elem(dp->fds[M_STATS], &k, v)) {
			int r = -errno;

			free(v);
			return dp_fail(dp, r, "reading statistics");
		}
		for (int c2 = 0; c2 < dp->ncpus; c2++) {
			c->packets += v[c2].packets;
			c->bytes += v[c2].bytes;
		}
	}
	free(v);
	*ret_stats = st;
	return dp_ok(dp);
}

int dp_sub_stats_read(struct dp *dp, const struct xcrs_addr *a,
		      struct xcrs_sub_counters *ret_counters)
{
	struct xcrs_sub_counters *v, sum = {};
	char t[INET6_ADDRSTRLEN];
	struct xcrs_sub s;
	int r;

	if (sub_read(dp, a, &s) || !s.stats_slot ||
	    s.stats_slot >= dp->nslots) {
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, -ENOENT, "statistics of subscriber %s", t);
	}
	v = calloc(dp->ncpus, sizeof(*v));
	if (!v)
		return dp_fail(dp, -ENOMEM, "reading subscriber statistics");
	if (bpf_map_lookup_elem(dp->fds[M_SUB_STATS], &s.stats_slot, v)) {
		r = -errno;
		free(v);
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, r, "statistics of subscriber %s", t);
	}
	for (int c = 0; c < dp->ncpus; c++) {
		sum.pass.packets += v[c].pass.packets;
		sum.pass.bytes += v[c].pass.bytes;
		sum.drop.packets += v[c].drop.packets;
		sum.drop.bytes += v[c].drop.bytes;
	}
	free(v);
	*ret_counters = sum;
	return dp_ok(dp);
}

_Static_assert(M_COUNT <= DP_MAPS_MAX, "dp_fill's out[] is too small");
_Static_assert(XCRS_ACT_MAX == 2 && XCRS_REASON_MAX == 15 &&
		       XCRS_STATS_SLOTS == 30,
	       "the statistics map's layout is ABI: a new reason is a new "
	       "XCRS_ABI_VERSION");

/* ---- events ---- */

static int on_event(void *ctx, void *data, size_t len)
{
	struct dp *dp = ctx;
	struct xcrs_event ev;

	if (len < sizeof(ev))
		return 0;
	memcpy(&ev, data, sizeof(ev));
	dp->ev_fn(dp->ev_ctx, &ev);
	return 0;
}

int dp_events_subscribe(struct dp *dp, dp_event_fn fn, void *ctx)
{
	if (dp->rb)
		return dp_fail(dp, -EBUSY, "already subscribed to events");
	dp->ev_fn = fn;
	dp->ev_ctx = ctx;
	dp->rb = ring_buffer__new(dp->fds[M_EVENTS], on_event, dp, NULL);
	if (!dp->rb)
		return dp_fail(dp, -errno, "opening the event ring buffer");
	return dp_ok(dp);
}

int dp_events_fd(struct dp *dp)
{
	if (!dp->rb)
		return dp_fail(dp, -EINVAL, "not subscribed to events");
	return ring_buffer__epoll_fd(dp->rb);
}

int dp_events_poll(struct dp *dp, int timeout_ms)
{
	int r;

	if (!dp->rb)
		return dp_fail(dp, -EINVAL, "not subscribed to events");
	r = ring_buffer__poll(dp->rb, timeout_ms);
	if (r < 0 && r != -EINTR)
		return dp_fail(dp, r, "reading the event ring buffer");
	dp_ok(dp);
	return r < 0 ? 0 : r;
}
