// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dataplane library (see dataplane.h): Subscriber hosts and their per-subscriber counter slots, and the MS
 * presence map.
 */
#include "dp-internal.h"

/* ---- per-subscriber counter slots ---- */

bool slot_taken(const struct dp *dp, __u32 slot)
{
	return dp->slot_used[slot / 64] & (1ULL << (slot % 64));
}

static void slot_mark(struct dp *dp, __u32 slot, bool used)
{
	if (used)
		dp->slot_used[slot / 64] |= 1ULL << (slot % 64);
	else
		dp->slot_used[slot / 64] &= ~(1ULL << (slot % 64));
}

/* A free slot with its counters zeroed, or 0 when all are given. */
static __u32 slot_alloc(struct dp *dp)
{
	for (__u32 n = 1; n < dp->nslots; n++) {
		__u32 slot = 1 + (dp->slot_hint + n - 1) % (dp->nslots - 1);
		struct xcrs_sub_counters *z;

		if (slot_taken(dp, slot))
			continue;
		z = calloc(dp->ncpus, sizeof(*z));
		if (!z || bpf_map_update_elem(dp->fds[M_SUB_STATS], &slot, z,
					      BPF_ANY)) {
			free(z);
			return 0;
		}
		free(z);
		slot_mark(dp, slot, true);
		dp->slot_hint = slot;
		return slot;
	}
	return 0;
}

static void slot_free(struct dp *dp, __u32 slot)
{
	if (slot && slot < dp->nslots)
		slot_mark(dp, slot, false);
}

int dp_sub_each(struct dp *dp,
		void (*fn)(void *ctx, const struct xcrs_addr *a,
			   const struct xcrs_sub *s),
		void *ctx)
{
	enum { CHUNK = 4096 };
	struct xcrs_addr *keys = calloc(CHUNK, sizeof(*keys));
	struct xcrs_sub *vals = calloc(CHUNK, sizeof(*vals));
	__u8 in[sizeof(struct xcrs_addr)], outb[sizeof(struct xcrs_addr)];
	bool first = true;
	int r = 0;

	if (!keys || !vals) {
		r = dp_fail(dp, -ENOMEM, "reading the subscriber map");
		goto out;
	}
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 n = CHUNK;
		int e;

		e = bpf_map_lookup_batch(dp->fds[M_SUBS], first ? NULL : in,
					 outb, keys, vals, &n, &o);
		e = e ? -errno : 0;
		if (e && e != -ENOENT) {
			r = dp_fail(dp, e, "reading the %s", map_roles[M_SUBS]);
			goto out;
		}
		for (__u32 i = 0; i < n; i++)
			fn(ctx, &keys[i], &vals[i]);
		r += (int)n;
		if (e == -ENOENT)
			break;
		memcpy(in, outb, sizeof(in));
		first = false;
	}
out:
	free(keys);
	free(vals);
	return r;
}

static void slot_of(void *ctx, const struct xcrs_addr *a,
		    const struct xcrs_sub *s)
{
	struct dp *dp = ctx;

	dp->nsubs++;
	if (s->stats_slot && s->stats_slot < dp->nslots)
		slot_mark(dp, s->stats_slot, true);
}

/* Learns which slots the host entries of reused maps hold. */
int slots_init(struct dp *dp, bool reused_subs)
{
	int r;

	dp->nslots = dp->max[M_SUB_STATS];
	dp->slot_used = calloc((dp->nslots + 63) / 64, sizeof(__u64));
	if (!dp->slot_used)
		return dp_fail(dp, -ENOMEM, "per-subscriber counter slots");
	slot_mark(dp, 0, true);
	if (!reused_subs)
		return 0;
	r = dp_sub_each(dp, slot_of, dp);
	return r < 0 ? r : 0;
}

/* dp->reacted_levels from the active generation's level table. */
int read_reacted_levels(struct dp *dp)
{
	__u32 gen = 0, k = 0;

	dp->reacted_levels = 0;
	if (bpf_map_lookup_elem(dp->fds[M_GEN], &k, &gen))
		return dp_fail(dp, -errno, "reading the %s", map_roles[M_GEN]);
	gen &= 1;
	for (__u32 i = 0; i < XCRS_LEVELS_MAX; i++) {
		__u32 slot = gen * XCRS_LEVELS_MAX + i;
		struct xcrs_level lv;

		if (bpf_map_lookup_elem(dp->fds[M_LEVELS], &slot, &lv))
			return dp_fail(dp, -errno, "reading the %s",
				       map_roles[M_LEVELS]);
		if (lv.flags & XCRS_LEVEL_F_REACTED)
			dp->reacted_levels |= 1u << i;
	}
	return 0;
}

/* ---- subscribers and scopes ---- */

__u64 dp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* The set of subscriber addresses changed: the programs' outer-address
 * caches start over. */
void subset_bump(struct dp *dp)
{
	__u32 k = XCRS_GEN_SLOT_SUBSET, v;

	if (dp->batch) {
		dp->subset_pending = true;
		return;
	}
	v = ++dp->subset;

	if (bpf_map_update_elem(dp->fds[M_GEN], &k, &v, 0))
		log_warn("dataplane: bumping the subscriber-set version: %s",
			 strerror(errno));
}

static bool level_reacted(const struct dp *dp, __u8 level, __u8 base)
{
	return (level < XCRS_LEVELS_MAX &&
		(dp->reacted_levels & (1u << level))) ||
	       (base < XCRS_LEVELS_MAX && (dp->reacted_levels & (1u << base)));
}

/* Checks entry s for a and makes the value to write (*v, with a fresh
 * counter slot when it needs one: *fresh). */
static int sub_prepare(struct dp *dp, const struct xcrs_addr *a,
		       const struct xcrs_sub *s, struct xcrs_sub *ret_v,
		       bool *ret_fresh)
{
	char t[INET6_ADDRSTRLEN];
	struct xcrs_sub v;
	bool fresh = false;
	unsigned plen = 128;

	if (s->level >= XCRS_LEVELS_MAX ||
	    (s->base_level >= XCRS_LEVELS_MAX &&
	     !(s->base_level == XCRS_SUB_BASE_NONE && s->expires_ns))) {
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, -EINVAL, "subscriber %s: level %u/%u out of "
			       "range", t, s->level, s->base_level);
	}
	if (s->flags & ~XCRS_SUB_F_PREFIX64) {
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, -EINVAL, "subscriber %s: unknown flags %#x",
			       t, s->flags);
	}
	if (s->flags & XCRS_SUB_F_PREFIX64) {
		static const uint8_t zero[8];

		plen = 64;
		if (addr_is_v4(a) || memcmp(a->a + 8, zero, 8)) {
			dp_addr_format(a, t, sizeof(t));
			return dp_fail(dp, -EINVAL, "subscriber %s: a /64 entry "
				       "needs an IPv6 prefix with interface "
				       "identifier 0", t);
		}
	}
	for (size_t i = 0; i < dp->nnever; i++)
		if (addr_prefix_contains(&dp->never[i].addr, dp->never[i].plen,
					 a, plen) ||
		    addr_prefix_contains(a, plen, &dp->never[i].addr,
					 dp->never[i].plen)) {
			char pf[64];

			dp_addr_format(a, t, sizeof(t));
			addr_prefix_format(&dp->never[i].addr,
					   dp->never[i].plen, pf, sizeof(pf));
			return dp_fail(dp, -EPERM,
				       "subscriber %s: inside never-react "
				       "prefix %s",
				       t, pf);
		}
	v = *s;
	v.stats_slot = 0;
	v.pad2 = 0;
	/* A host at a reacted level (now or after expiry) gets a counter
	 * slot, and keeps the one it has for as long as it has an entry. A
	 * new entry is one system call; an existing one is read first. */
	if (level_reacted(dp, s->level, s->base_level)) {
		v.stats_slot = slot_alloc(dp);
		fresh = v.stats_slot != 0;
		if (!fresh && !dp->slots_warned) {
			dp_addr_format(a, t, sizeof(t));
			log_warn("all %u per-subscriber counter slots are in use: "
				 "%s and later reacted subscribers are enforced "
				 "but not counted one by one (raise max_tracked)",
				 dp->nslots - 1, t);
			dp->slots_warned = true;
		}
	}
	*ret_v = v;
	*ret_fresh = fresh;
	return 0;
}

/* An entry for a that exists (or failed with r): keep its counter slot. */
static int sub_overwrite(struct dp *dp, const struct xcrs_addr *a,
			 struct xcrs_sub v, bool fresh, int r)
{
	char t[INET6_ADDRSTRLEN];
	struct xcrs_sub old;

	if (r == -EEXIST) {
		if (!bpf_map_lookup_elem(dp->fds[M_SUBS], a, &old) &&
		    old.stats_slot && old.stats_slot < dp->nslots) {
			if (fresh)
				slot_free(dp, v.stats_slot);
			fresh = false;
			v.stats_slot = old.stats_slot;
		}
		if (!bpf_map_update_elem(dp->fds[M_SUBS], a, &v, BPF_ANY))
			return dp_ok(dp);
		r = -errno;
	}
	if (fresh)
		slot_free(dp, v.stats_slot);
	dp_addr_format(a, t, sizeof(t));
	return map_write_fail(dp, M_SUBS, r, t);
}

int dp_sub_set(struct dp *dp, const struct xcrs_addr *a,
	       const struct xcrs_sub *s)
{
	struct xcrs_sub v;
	bool fresh;
	int r = sub_prepare(dp, a, s, &v, &fresh);

	if (r)
		return r;
	if (!bpf_map_update_elem(dp->fds[M_SUBS], a, &v, BPF_NOEXIST)) {
		dp->nsubs++;
		subset_bump(dp);
		return dp_ok(dp);
	}
	return sub_overwrite(dp, a, v, fresh, -errno);
}

int dp_sub_set_many(struct dp *dp, const struct xcrs_addr *a,
		    const struct xcrs_sub *s, size_t n, size_t *ret_done)
{
	enum { CHUNK = 8192 };
	struct xcrs_addr *bk = NULL;
	struct xcrs_sub *v = NULL, *bv = NULL;
	size_t *bi = NULL, done = 0;
	bool *fresh = NULL;
	int r = 0;

	/* Batches (bpf_map_update_batch) only overwrite: the kernel takes no
	 * BPF_NOEXIST there. Into an empty map every entry is new, and those
	 * without a counter slot go in batches; the rest, and every entry
	 * once the map holds any, go one by one (an existing entry keeps
	 * its counter slot). */
	if (dp->nsubs == 0 && n > 1) {
		v = calloc(n < CHUNK ? n : CHUNK, sizeof(*v));
		bv = calloc(n < CHUNK ? n : CHUNK, sizeof(*bv));
		bk = calloc(n < CHUNK ? n : CHUNK, sizeof(*bk));
		bi = calloc(n < CHUNK ? n : CHUNK, sizeof(*bi));
		fresh = calloc(n < CHUNK ? n : CHUNK, sizeof(*fresh));
		if (!v || !bv || !bk || !bi || !fresh) {
			r = dp_fail(dp, -ENOMEM, "loading %zu subscribers", n);
			goto out;
		}
	}
	while (done < n && v) {
		size_t m = n - done < CHUNK ? n - done : CHUNK, nb = 0, upto;
		__u32 cnt;
		int e = 0;

		for (size_t i = 0; i < m; i++) {
			r = sub_prepare(dp, &a[done + i], &s[done + i], &v[i],
					&fresh[i]);
			if (r) {
				m = i; /* those before it are written */
				break;
			}
			if (!v[i].stats_slot)
				bi[nb++] = i;
		}
		/* the batch's own copy only when some have a slot */
		for (size_t j = 0; nb != m && j < nb; j++) {
			bk[j] = a[done + bi[j]];
			bv[j] = v[bi[j]];
		}
		cnt = (__u32)nb;
		/* all of them without a slot (the common load): written
		 * from the caller's keys, no copy */
		if (nb && bpf_map_update_batch(dp->fds[M_SUBS],
					       nb == m ? &a[done] : bk,
					       nb == m ? v : bv, &cnt, NULL)) {
			e = -errno;
			if (cnt > nb)
				cnt = 0; /* refused before it began */
		}
		/* written: the batch's first cnt; the entries with a slot go
		 * one by one up to the first the batch did not write */
		upto = cnt < nb ? bi[cnt] : m;
		dp->nsubs += cnt;
		for (size_t i = 0; i < upto; i++) {
			if (!v[i].stats_slot)
				continue;
			if (bpf_map_update_elem(dp->fds[M_SUBS], &a[done + i],
						&v[i], BPF_NOEXIST)) {
				/* a host listed twice: overwritten as
				 * dp_sub_set() does, else refused */
				r = sub_overwrite(dp, &a[done + i], v[i],
						  fresh[i], -errno);
				if (!r)
					continue;
				/* undo what the batch wrote after it (all
				 * new: the map was empty) */
				for (size_t j = 0; j < cnt; j++)
					if (bi[j] > i &&
					    !bpf_map_delete_elem(dp->fds[M_SUBS],
								 &a[done +
								    bi[j]]))
						dp->nsubs--;
				for (size_t j = i + 1; j < m; j++)
					if (fresh[j])
						slot_free(dp, v[j].stats_slot);
				done += i;
				goto bump;
			}
			dp->nsubs++;
		}
		for (size_t i = upto; i < m; i++)
			if (fresh[i])
				slot_free(dp, v[i].stats_slot);
		if (upto < m) {
			char t[INET6_ADDRSTRLEN];

			done += upto;
			dp_addr_format(&a[done], t, sizeof(t));
			r = map_write_fail(dp, M_SUBS, e, t);
			goto bump;
		}
		done += m;
		if (r)
			goto bump;
	}
	/* one by one: the map held entries */
	for (; done < n; done++) {
		bool was = dp->batch;

		dp->batch = true; /* one bump at the end */
		r = dp_sub_set(dp, &a[done], &s[done]);
		dp->batch = was;
		if (r)
			break;
	}
bump:
	if (done) {
		if (!dp->batch)
			dp->subset_pending = false;
		subset_bump(dp);
	}
	if (!r)
		r = dp_ok(dp);
out:
	free(v);
	free(bv);
	free(bk);
	free(bi);
	free(fresh);
	if (ret_done)
		*ret_done = done;
	return r;
}

void dp_batch(struct dp *dp, bool on)
{
	dp->batch = on;
	if (!on && dp->subset_pending) {
		dp->subset_pending = false;
		subset_bump(dp);
	}
}

int dp_sub_get(struct dp *dp, const struct xcrs_addr *a,
	       struct xcrs_sub *ret_sub)
{
	struct xcrs_sub s;
	char t[INET6_ADDRSTRLEN];

	if (bpf_map_lookup_elem(dp->fds[M_SUBS], a, &s)) {
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, -errno, "subscriber %s", t);
	}
	*ret_sub = s;
	return dp_ok(dp);
}

int dp_sub_del(struct dp *dp, const struct xcrs_addr *a)
{
	char t[INET6_ADDRSTRLEN];
	struct xcrs_sub old;
	bool had = !bpf_map_lookup_elem(dp->fds[M_SUBS], a, &old);

	if (bpf_map_delete_elem(dp->fds[M_SUBS], a)) {
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, -errno, "removing subscriber %s", t);
	}
	if (had) {
		slot_free(dp, old.stats_slot);
		if (dp->nsubs)
			dp->nsubs--;
		subset_bump(dp);
	}
	return dp_ok(dp);
}

int rt_write(struct dp *dp)
{
	__u32 k = XCRS_GEN_SLOT_RUNTIME,
	      v = (dp->rt_full ? XCRS_RT_SUBS_FULL : 0) |
		  (dp->nprefixes ? XCRS_RT_PREFIXES : 0);

	if (bpf_map_update_elem(dp->fds[M_GEN], &k, &v, 0))
		return dp_fail(dp, -errno, "writing the run-time flags");
	return 0;
}

int dp_fail_closed(struct dp *dp, bool on)
{
	bool was = dp->rt_full;
	int r;

	dp->rt_full = on;
	r = rt_write(dp);
	if (r) {
		dp->rt_full = was;
		return r;
	}
	return dp_ok(dp);
}

int dp_seen_get(struct dp *dp, const struct xcrs_addr *a,
		struct xcrs_seen *ret_seen)
{
	char t[INET6_ADDRSTRLEN];
	struct xcrs_seen s;

	if (bpf_map_lookup_elem(dp->fds[M_SEEN], a, &s)) {
		int r = -errno;

		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, r, "MS %s not seen", t);
	}
	*ret_seen = s;
	return dp_ok(dp);
}

int dp_seen_del(struct dp *dp, const struct xcrs_addr *a)
{
	char t[INET6_ADDRSTRLEN];

	if (bpf_map_delete_elem(dp->fds[M_SEEN], a)) {
		int r = -errno;

		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, r, "forgetting MS %s", t);
	}
	return dp_ok(dp);
}

int dp_seen_expire(struct dp *dp, __u64 idle_ns,
		   void (*fn)(void *ctx, const struct xcrs_addr *a,
			      const struct xcrs_seen *s),
		   void *ctx)
{
	struct xcrs_addr key, next, *prev = NULL;
	__u64 now = dp_now_ns();
	struct xcrs_seen s;
	int n = 0;

	/* Deleting the current key restarts the walk's position at the
	 * next one, so collect first: walk, remember idle keys, delete. */
	struct xcrs_addr *idle = NULL;
	size_t nidle = 0, cap = 0;

	while (!bpf_map_get_next_key(dp->fds[M_SEEN], prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(dp->fds[M_SEEN], &key, &s))
			continue;
		if (s.last_ns >= now || now - s.last_ns < idle_ns)
			continue;
		if (nidle == cap) {
			struct xcrs_addr *ni =
				realloc(idle, (cap = cap ? 2 * cap : 64) *
						      sizeof(*ni));

			if (!ni) {
				free(idle);
				return dp_fail(dp, -ENOMEM, "expiring MSs");
			}
			idle = ni;
		}
		idle[nidle++] = key;
	}
	for (size_t i = 0; i < nidle; i++) {
		/* seen again since the walk? then it stays */
		if (bpf_map_lookup_elem(dp->fds[M_SEEN], &idle[i], &s) ||
		    s.last_ns >= now || now - s.last_ns < idle_ns ||
		    bpf_map_delete_elem(dp->fds[M_SEEN], &idle[i]))
			continue;
		n++;
		if (fn)
			fn(ctx, &idle[i], &s);
	}
	free(idle);
	dp_ok(dp);
	return n;
}
