// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dataplane library (see dataplane.h): Subscriber hosts and their per-subscriber counter slots, and the MS
 * presence map.
 */
#include "dp-internal.h"
#include <pthread.h>


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

/* Slot slot's record in xcrs_slot_owners: map 0 (free), or 1 + the
 * family of the entry at a. 0, or -errno. */
static int slot_own(struct dp *dp, __u32 slot, int map,
		    const struct xcrs_addr *a)
{
	struct xcrs_slot_rec rec = { .map = (__u32)map };

	if (a)
		rec.addr = *a;
	if (bpf_map_update_elem(dp->fds[M_SLOT_OWNERS], &slot, &rec, BPF_ANY))
		return -errno;
	return 0;
}

/* A free slot for the entry of family fam at a, its counters zeroed and
 * its owner recorded (before the entry is written), or 0 when all are
 * given. */
static __u32 slot_alloc(struct dp *dp, int fam, const struct xcrs_addr *a)
{
	for (__u32 n = 1; n < dp->nslots; n++) {
		__u32 slot = 1 + (dp->slot_hint + n - 1) % (dp->nslots - 1);
		struct xcrs_sub_counters *z;

		if (slot_taken(dp, slot))
			continue;
		z = calloc(dp->ncpus, sizeof(*z));
		if (!z || bpf_map_update_elem(dp->fds[M_SUB_STATS], &slot, z,
					      BPF_ANY) ||
		    slot_own(dp, slot, 1 + fam, a)) {
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

/* After the entry that held slot let it go. A record left behind (this
 * write failing, or a crash before it) is found out at the next open. */
static void slot_free(struct dp *dp, __u32 slot)
{
	if (slot && slot < dp->nslots) {
		slot_mark(dp, slot, false);
		slot_own(dp, slot, 0, NULL);
	}
}

void counts_keep(struct dp *dp)
{
	struct xcrs_slot_rec rec = { .map = XCRS_SLOTS_KEPT };
	__u32 zero = 0;

	if (!memcmp(dp->nsubs, dp->nsubs_kept, sizeof(dp->nsubs)))
		return;
	for (int i = 0; i < 3; i++)
		rec.count[i] = (__u32)dp->nsubs[i];
	/* a failure leaves the old counts: the next change writes again */
	if (!bpf_map_update_elem(dp->fds[M_SLOT_OWNERS], &zero, &rec, BPF_ANY))
		memcpy(dp->nsubs_kept, dp->nsubs, sizeof(dp->nsubs));
}

/* ---- the host maps: xcrs_sub4, xcrs_sub64, xcrs_sub6 ---- */

/* Which map holds an entry (dp->nsubs[] too), its key's size and where
 * the key starts in the address. */
enum { FAM_V4, FAM_V64, FAM_V6, FAM_N };
static const enum dp_map fam_map[FAM_N] = { M_SUB4, M_SUB64, M_SUB6 };
_Static_assert(M_SUB64 == M_SUB4 + FAM_V64 && M_SUB6 == M_SUB4 + FAM_V6,
	       "dp->nsubs[] is indexed by map");
static const size_t fam_ksz[FAM_N] = { 4, 8, 16 };
static const size_t fam_koff[FAM_N] = { 12, 0, 0 };

static int fam_of(const struct xcrs_addr *a, const struct xcrs_sub *s)
{
	if (addr_is_v4(a))
		return FAM_V4;
	return (s->flags & XCRS_SUB_F_PREFIX64) ? FAM_V64 : FAM_V6;
}

static const void *fam_key(int fam, const struct xcrs_addr *a)
{
	return a->a + fam_koff[fam];
}

static void ent_of(const struct xcrs_sub *s, struct xcrs_sub_ent *e)
{
	*e = (struct xcrs_sub_ent){
		.expires_ns = s->expires_ns,
		.stats_slot = s->stats_slot,
		.scope = (__u16)s->scope,
		.level = s->level,
		.base_level = s->base_level,
	};
}

static void sub_of(int fam, const struct xcrs_sub_ent *e, struct xcrs_sub *s)
{
	*s = (struct xcrs_sub){
		.scope = e->scope,
		.level = e->level,
		.base_level = e->base_level,
		.flags = fam == FAM_V64 ? XCRS_SUB_F_PREFIX64 : 0,
		.expires_ns = e->expires_ns,
		.stats_slot = e->stats_slot,
	};
}

/* The maps an entry for address a may be in, as the caller names it: an
 * IPv6 address with interface identifier 0 is the /64's entry, or a
 * host's. */
static int fams_of_addr(const struct xcrs_addr *a, int ret_fam[2])
{
	static const uint8_t zero[8];

	if (addr_is_v4(a)) {
		ret_fam[0] = FAM_V4;
		return 1;
	}
	if (memcmp(a->a + 8, zero, 8)) {
		ret_fam[0] = FAM_V6;
		return 1;
	}
	ret_fam[0] = FAM_V64;
	ret_fam[1] = FAM_V6;
	return 2;
}

/* a's entry in the map of family fam: 0, or -errno. */
static int ent_read(struct dp *dp, int fam, const struct xcrs_addr *a,
		    struct xcrs_sub *ret)
{
	struct xcrs_sub_ent e;

	if (bpf_map_lookup_elem(dp->fds[fam_map[fam]], fam_key(fam, a), &e))
		return -errno;
	sub_of(fam, &e, ret);
	return 0;
}

/* a's entry and the map it is in (*ret_fam): 0, or -errno. */
static int sub_find(struct dp *dp, const struct xcrs_addr *a,
		    struct xcrs_sub *ret, int *ret_fam)
{
	int fams[2], n = fams_of_addr(a, fams), r = -ENOENT;

	for (int i = 0; i < n; i++) {
		r = ent_read(dp, fams[i], a, ret);
		if (r == -ENOENT)
			continue;
		if (!r && ret_fam)
			*ret_fam = fams[i];
		return r;
	}
	return r;
}

int sub_read(struct dp *dp, const struct xcrs_addr *a, struct xcrs_sub *ret)
{
	return sub_find(dp, a, ret, NULL);
}

static int ent_put(struct dp *dp, const struct xcrs_addr *a,
		   const struct xcrs_sub *s, __u64 flags)
{
	struct xcrs_sub_ent e;
	int fam = fam_of(a, s);

	ent_of(s, &e);
	if (bpf_map_update_elem(dp->fds[fam_map[fam]], fam_key(fam, a), &e,
				flags))
		return -errno;
	return 0;
}

static int each_step(struct dp *dp, struct dp_sub_cursor *c, size_t max,
		     bool one_map,
		     void (*fn)(void *ctx, const struct xcrs_addr *a,
				const struct xcrs_sub *s),
		     void *ctx);

/* Calls fn for every entry of family fam's map, read in batches; how
 * many, or -errno. */
static int ents_each(struct dp *dp, int fam,
		     void (*fn)(void *ctx, const struct xcrs_addr *a,
				const struct xcrs_sub *s),
		     void *ctx)
{
	struct dp_sub_cursor c = { .map = fam };

	return each_step(dp, &c, SIZE_MAX, true, fn, ctx);
}

/* dp_sub_each_step(); with one_map, the walk ends with c's map. */
static int each_step(struct dp *dp, struct dp_sub_cursor *c, size_t max,
		     bool one_map,
		     void (*fn)(void *ctx, const struct xcrs_addr *a,
				const struct xcrs_sub *s),
		     void *ctx)
{
	/* (a hash map's batch is whole buckets: a count too small for the
	 * next bucket is refused, ENOSPC, and then a whole chunk is read) */
	enum { CHUNK = 8192 };
	__u8 *keys = NULL, outb[sizeof(c->token)];
	struct xcrs_sub_ent *vals = NULL;
	size_t seen = 0;
	int r = 0;

	while (!c->done && seen < max) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		int fam = c->map;
		size_t ksz = fam_ksz[fam];
		__u32 want = (__u32)(max - seen < CHUNK ? max - seen : CHUNK),
		      n = want;
		int e;

		if (!keys) {
			keys = calloc(CHUNK, sizeof(struct xcrs_addr));
			vals = calloc(CHUNK, sizeof(*vals));
			if (!keys || !vals) {
				r = dp_fail(dp, -ENOMEM, "reading the "
					    "subscriber maps");
				break;
			}
		}
		e = bpf_map_lookup_batch(dp->fds[fam_map[fam]],
					 c->started ? c->token : NULL, outb,
					 keys, vals, &n, &o);
		e = e ? -errno : 0;
		if (e == -ENOSPC && want < CHUNK) {
			/* the next bucket holds more than was asked for */
			max = seen + CHUNK;
			continue;
		}
		if (e && e != -ENOENT) {
			r = dp_fail(dp, e, "reading the %s",
				    map_roles[fam_map[fam]]);
			break;
		}
		for (__u32 i = 0; i < n; i++) {
			struct xcrs_addr a = {};
			struct xcrs_sub sub;

			if (fam == FAM_V4)
				addr_from_v4(keys + i * ksz, &a);
			else
				memcpy(a.a, keys + i * ksz, ksz);
			sub_of(fam, &vals[i], &sub);
			fn(ctx, &a, &sub);
		}
		seen += n;
		if (e == -ENOENT) {
			c->started = false;
			if (one_map || ++c->map == FAM_N)
				c->done = true;
		} else {
			memcpy(c->token, outb, sizeof(c->token));
			c->started = true;
		}
		/* a batch short of what was asked (the buckets that fit)
		 * ends the step too: asking for the rest could be refused */
		if (n && one_map == false && seen < max && e != -ENOENT)
			break;
	}
	free(keys);
	free(vals);
	if (r)
		return r;
	dp_ok(dp);
	return (int)seen;
}

int dp_sub_each_step(struct dp *dp, struct dp_sub_cursor *c, size_t max,
		     void (*fn)(void *ctx, const struct xcrs_addr *a,
				const struct xcrs_sub *s),
		     void *ctx)
{
	if (c->done)
		return 0;
	if (c->map < 0 || c->map >= FAM_N)
		return dp_fail(dp, -EINVAL, "a subscriber map walk's cursor");
	return each_step(dp, c, max, false, fn, ctx);
}

int dp_sub_each(struct dp *dp,
		void (*fn)(void *ctx, const struct xcrs_addr *a,
			   const struct xcrs_sub *s),
		void *ctx)
{
	int n = 0;

	for (int fam = 0; fam < FAM_N; fam++) {
		int r = ents_each(dp, fam, fn, ctx);

		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

struct slot_walk {
	struct dp *dp;
	int fam;
	int err;
};

static void slot_of(void *ctx, const struct xcrs_addr *a,
		    const struct xcrs_sub *s)
{
	struct slot_walk *w = ctx;
	struct dp *dp = w->dp;

	dp->nsubs[w->fam]++;
	if (!s->stats_slot || s->stats_slot >= dp->nslots)
		return;
	slot_mark(dp, s->stats_slot, true);
	if (!w->err)
		w->err = slot_own(dp, s->stats_slot, 1 + w->fam, a);
}

/* Takes the kept records of xcrs_slot_owners: a slot is taken if its
 * record names an entry that holds it; any other record is cleared. The
 * counts come with them. 1 if the records were kept, 0 if not (maps of a
 * version that kept none), or -errno. */
static int slots_read(struct dp *dp, bool reused_subs)
{
	enum { CHUNK = 8192 };
	__u32 *keys = calloc(CHUNK, sizeof(*keys)), zero = 0;
	struct xcrs_slot_rec *recs = calloc(CHUNK, sizeof(*recs)), r0;
	__u32 in = 0, outb = 0;
	bool first = true;
	int r = 0;

	if (!keys || !recs) {
		r = dp_fail(dp, -ENOMEM, "reading the %s",
			    map_roles[M_SLOT_OWNERS]);
		goto out;
	}
	if (bpf_map_lookup_elem(dp->fds[M_SLOT_OWNERS], &zero, &r0) ||
	    r0.map != XCRS_SLOTS_KEPT)
		goto out; /* r = 0: not kept */
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 n = CHUNK;
		int e;

		e = bpf_map_lookup_batch(dp->fds[M_SLOT_OWNERS],
					 first ? NULL : &in, &outb, keys, recs,
					 &n, &o);
		e = e ? -errno : 0;
		if (e && e != -ENOENT) {
			r = dp_fail(dp, e, "reading the %s",
				    map_roles[M_SLOT_OWNERS]);
			goto out;
		}
		for (__u32 i = 0; i < n; i++) {
			struct xcrs_sub cur;
			__u32 slot = keys[i];
			int fam = (int)recs[i].map - 1;

			if (!slot || !recs[i].map)
				continue;
			if (slot < dp->nslots && fam >= 0 && fam < FAM_N &&
			    !ent_read(dp, fam, &recs[i].addr, &cur) &&
			    cur.stats_slot == slot)
				slot_mark(dp, slot, true);
			else /* the entry went, or never came: a crash */
				slot_own(dp, slot, 0, NULL);
		}
		if (e == -ENOENT)
			break;
		in = outb;
		first = false;
	}
	if (reused_subs)
		for (int i = 0; i < FAM_N; i++)
			dp->nsubs[i] = r0.count[i];
	r = 1;
out:
	free(keys);
	free(recs);
	return r;
}

/* Learns which slots the host entries of reused maps hold, and how many
 * entries each map has: from xcrs_slot_owners where the records are kept,
 * else (maps pinned by a version that kept none) from every entry, and
 * then the records are written. */
int slots_init(struct dp *dp, bool reused_subs, bool owners_new)
{
	int r = 0;

	dp->nslots = dp->max[M_SUB_STATS];
	dp->slot_used = calloc((dp->nslots + 63) / 64, sizeof(__u64));
	if (!dp->slot_used)
		return dp_fail(dp, -ENOMEM, "per-subscriber counter slots");
	slot_mark(dp, 0, true);
	dp->reopen_kept = -1;
	if (!owners_new) {
		r = slots_read(dp, reused_subs);
		if (r < 0)
			return r;
	}
	if (r == 1) {
		if (reused_subs)
			dp->reopen_kept = 1;
	} else {
		/* Records of unknown age go first; none of a new map. */
		for (__u32 slot = 1; !owners_new && slot < dp->nslots; slot++)
			if (slot_own(dp, slot, 0, NULL))
				return dp_fail(dp, -errno, "clearing the %s",
					       map_roles[M_SLOT_OWNERS]);
		for (int fam = 0; reused_subs && fam < FAM_N; fam++) {
			struct slot_walk sw = { dp, fam, 0 };

			dp->reopen_kept = 0;
			dp->nsubs[fam] = 0;
			r = ents_each(dp, fam, slot_of, &sw);
			if (r < 0)
				return r;
			if (sw.err)
				return dp_fail(dp, sw.err, "writing the %s",
					       map_roles[M_SLOT_OWNERS]);
		}
	}
	/* written even when unchanged: it says the records are kept */
	dp->nsubs_kept[0] = ~0ULL;
	counts_keep(dp);
	if (dp->nsubs_kept[0] == ~0ULL)
		return dp_fail(dp, -EIO, "writing the %s",
			       map_roles[M_SLOT_OWNERS]);
	return 0;
}

/* ABI version 1's subscriber map: struct xcrs_addr keys, 24-byte
 * struct xcrs_sub values, IPv4 mapped. */
int subs_migrate(struct dp *dp, int legacy_fd)
{
	enum { CHUNK = 8192 };
	struct xcrs_addr *keys = calloc(CHUNK, sizeof(*keys));
	struct xcrs_sub *vals = calloc(CHUNK, sizeof(*vals));
	struct xcrs_addr in, outb;
	bool first = true;
	int r = 0;

	if (!keys || !vals) {
		r = dp_fail(dp, -ENOMEM, "migrating the subscriber map");
		goto out;
	}
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		__u32 n = CHUNK;
		int e;

		e = bpf_map_lookup_batch(legacy_fd, first ? NULL : &in, &outb,
					 keys, vals, &n, &o);
		e = e ? -errno : 0;
		if (e && e != -ENOENT) {
			r = dp_fail(dp, e, "reading the subscriber map of "
				    "version 1");
			goto out;
		}
		for (__u32 i = 0; i < n; i++) {
			char t[INET6_ADDRSTRLEN];
			int fam = fam_of(&keys[i], &vals[i]);

			if (vals[i].scope > XCRS_SCOPE_ID_MAX)
				vals[i].scope = 0;
			if (vals[i].stats_slot >= dp->nslots)
				vals[i].stats_slot = 0;
			r = vals[i].stats_slot ?
				    slot_own(dp, vals[i].stats_slot, 1 + fam,
					     &keys[i]) : 0;
			if (r) {
				r = dp_fail(dp, r, "writing the %s",
					    map_roles[M_SLOT_OWNERS]);
				goto out;
			}
			r = ent_put(dp, &keys[i], &vals[i], BPF_NOEXIST);
			if (r) {
				dp_addr_format(&keys[i], t, sizeof(t));
				r = map_write_fail(dp, fam_map[fam], r, t);
				goto out;
			}
			dp->nsubs[fam]++;
			if (vals[i].stats_slot)
				slot_mark(dp, vals[i].stats_slot, true);
		}
		if (e == -ENOENT)
			break;
		in = outb;
		first = false;
	}
	r = 0;
out:
	counts_keep(dp);
	free(keys);
	free(vals);
	return r;
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
	if (s->scope > XCRS_SCOPE_ID_MAX) {
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, -EINVAL, "subscriber %s: scope id %u out of "
			       "range (at most %u)", t, s->scope,
			       XCRS_SCOPE_ID_MAX);
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
		v.stats_slot = slot_alloc(dp, fam_of(a, s), a);
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
		if (!ent_read(dp, fam_of(a, &v), a, &old) && old.stats_slot &&
		    old.stats_slot < dp->nslots) {
			if (fresh)
				slot_free(dp, v.stats_slot);
			fresh = false;
			v.stats_slot = old.stats_slot;
		}
		r = ent_put(dp, a, &v, BPF_ANY);
		if (!r)
			return dp_ok(dp);
	}
	if (fresh)
		slot_free(dp, v.stats_slot);
	dp_addr_format(a, t, sizeof(t));
	return map_write_fail(dp, fam_map[fam_of(a, &v)], r, t);
}

/* An IPv6 address with interface identifier 0 keys one entry, the /64's
 * or a host's, as when both lived in one map: writing one removes the
 * other. */
static int twin_drop(struct dp *dp, const struct xcrs_addr *a, int fam)
{
	int fams[2], twin;
	struct xcrs_sub old;
	char t[INET6_ADDRSTRLEN];

	if (fams_of_addr(a, fams) < 2)
		return 0;
	twin = fam == FAM_V64 ? FAM_V6 : FAM_V64;
	if (ent_read(dp, twin, a, &old))
		return 0;
	if (bpf_map_delete_elem(dp->fds[fam_map[twin]], fam_key(twin, a))) {
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, -errno, "replacing subscriber %s", t);
	}
	slot_free(dp, old.stats_slot);
	if (dp->nsubs[twin])
		dp->nsubs[twin]--;
	return 0;
}

static int sub_set(struct dp *dp, const struct xcrs_addr *a,
		   const struct xcrs_sub *s);

int dp_sub_set(struct dp *dp, const struct xcrs_addr *a,
	       const struct xcrs_sub *s)
{
	int r = sub_set(dp, a, s);

	if (!dp->batch)
		counts_keep(dp);
	return r;
}

static int sub_set(struct dp *dp, const struct xcrs_addr *a,
		   const struct xcrs_sub *s)
{
	struct xcrs_sub v;
	bool fresh = false;
	int r = sub_prepare(dp, a, s, &v, &fresh);

	if (r)
		return r;
	r = twin_drop(dp, a, fam_of(a, &v));
	if (r) {
		if (fresh)
			slot_free(dp, v.stats_slot);
		return r;
	}
	r = ent_put(dp, a, &v, BPF_NOEXIST);
	if (!r) {
		dp->nsubs[fam_of(a, &v)]++;
		subset_bump(dp);
		return dp_ok(dp);
	}
	return sub_overwrite(dp, a, v, fresh, r);
}

/* The batches of dp_sub_set_many(): what one run of entries needs. */
struct sub_batch {
	struct xcrs_sub *v;	  /* prepared values */
	bool *fresh;		  /* v[i] has a slot of its own making */
	size_t *bi;		  /* the indices without a slot */
	__u8 *bk;		  /* their keys (4 or 16 bytes) */
	struct xcrs_sub_ent *be;  /* and values */
	/* the two halves of a batch written by two threads */
	struct batch_half {
		int fd;
		__u8 *k;
		struct xcrs_sub_ent *e;
		size_t *pos; /* index into bk/be */
		__u32 n, cnt;
		int err;
	} half[2];
};

static void *half_write(void *arg)
{
	struct batch_half *h = arg;

	h->cnt = h->n;
	h->err = 0;
	if (h->n && bpf_map_update_batch(h->fd, h->k, h->e, &h->cnt, NULL)) {
		h->err = -errno;
		if (h->cnt > h->n)
			h->cnt = 0;
	}
	return NULL;
}

/* Writes the batch's nb entries (keys bk, values be, all new: the map was
 * empty) to map fd; how many in a row from the first are written (*cnt),
 * 0 or -errno. A large batch is split over two threads: the kernel's
 * update of a hash map scales with CPUs (per-bucket locks; 10M IPv4 hosts
 * on this machine's 2 CPUs load in half the time). Entries go to a half
 * by their key, in order, so that a host listed twice ends as its later
 * entry; after a failure the entries written past the first one not
 * written are removed again. */
static int batch_write(struct dp *dp, struct sub_batch *b, int fd, size_t ksz,
		       size_t nb, __u32 *cnt)
{
	static long ncpus;
	pthread_t t;
	size_t first;

	if (!ncpus)
		ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	*cnt = (__u32)nb;
	if (nb < 4096 || ncpus < 2 || !b->half[0].k) {
		if (nb && bpf_map_update_batch(fd, b->bk, b->be, cnt, NULL)) {
			int e = -errno;

			if (*cnt > nb)
				*cnt = 0; /* refused before it began */
			return e;
		}
		return 0;
	}
	b->half[0].n = b->half[1].n = 0;
	for (size_t j = 0; j < nb; j++) {
		const __u8 *k = b->bk + j * ksz;
		__u32 hsh = 0;
		struct batch_half *h;

		for (size_t x = 0; x < ksz; x++)
			hsh = hsh * 31 + k[x];
		h = &b->half[hsh & 1];
		memcpy(h->k + h->n * ksz, k, ksz);
		h->e[h->n] = b->be[j];
		h->pos[h->n++] = j;
	}
	b->half[0].fd = b->half[1].fd = fd;
	if (pthread_create(&t, NULL, half_write, &b->half[1])) {
		half_write(&b->half[1]);
		half_write(&b->half[0]);
	} else {
		half_write(&b->half[0]);
		pthread_join(t, NULL);
	}
	if (!b->half[0].err && !b->half[1].err)
		return 0;
	/* the first entry not written, and nothing after it */
	first = nb;
	for (int i = 0; i < 2; i++) {
		struct batch_half *h = &b->half[i];

		if (h->cnt < h->n && h->pos[h->cnt] < first)
			first = h->pos[h->cnt];
	}
	for (int i = 0; i < 2; i++) {
		struct batch_half *h = &b->half[i];

		for (__u32 j = 0; j < h->cnt; j++)
			if (h->pos[j] > first)
				bpf_map_delete_elem(fd, h->k + j * ksz);
	}
	*cnt = (__u32)first;
	(void)dp;
	return b->half[0].err ? b->half[0].err : b->half[1].err;
}

/* Writes a[0..m) (all of family fam, its map empty before the call):
 * those without a counter slot in one batch, the others one by one.
 * Sets *ret_done to how many of a are written (all before the first
 * refused, none after it); 0 or -errno. */
static int sub_run(struct dp *dp, struct sub_batch *b, int fam,
		   const struct xcrs_addr *a, const struct xcrs_sub *s,
		   size_t m, size_t *ret_done)
{
	enum dp_map map = fam_map[fam];
	size_t ksz = fam_ksz[fam], nb = 0, upto;
	__u32 cnt;
	int r = 0, e = 0;

	*ret_done = 0;
	for (size_t i = 0; i < m; i++) {
		r = sub_prepare(dp, &a[i], &s[i], &b->v[i], &b->fresh[i]);
		if (r) {
			m = i; /* those before it are written */
			break;
		}
		if (b->v[i].stats_slot)
			continue;
		b->bi[nb] = i;
		memcpy(b->bk + nb * ksz, fam_key(fam, &a[i]), ksz);
		ent_of(&b->v[i], &b->be[nb]);
		nb++;
	}
	e = batch_write(dp, b, dp->fds[map], ksz, nb, &cnt);
	/* written: the batch's first cnt; the entries with a slot go one by
	 * one up to the first the batch did not write */
	upto = cnt < nb ? b->bi[cnt] : m;
	dp->nsubs[fam] += cnt;
	for (size_t i = 0; i < upto; i++) {
		int w;

		if (!b->v[i].stats_slot)
			continue;
		w = ent_put(dp, &a[i], &b->v[i], BPF_NOEXIST);
		if (w) {
			/* a host listed twice: overwritten as dp_sub_set()
			 * does, else refused */
			w = sub_overwrite(dp, &a[i], b->v[i], b->fresh[i], w);
			if (!w)
				continue;
			/* undo what the batch wrote after it (all new: the
			 * map was empty) */
			for (size_t j = 0; j < cnt; j++)
				if (b->bi[j] > i &&
				    !bpf_map_delete_elem(dp->fds[map],
							 fam_key(fam,
								 &a[b->bi[j]])))
					dp->nsubs[fam]--;
			for (size_t j = i + 1; j < m; j++)
				if (b->fresh[j])
					slot_free(dp, b->v[j].stats_slot);
			*ret_done = i;
			return w;
		}
		dp->nsubs[fam]++;
	}
	for (size_t i = upto; i < m; i++)
		if (b->fresh[i])
			slot_free(dp, b->v[i].stats_slot);
	*ret_done = upto;
	if (upto < m) {
		char t[INET6_ADDRSTRLEN];

		dp_addr_format(&a[upto], t, sizeof(t));
		return map_write_fail(dp, map, e, t);
	}
	return r;
}

/* Whether family fam's map holds no entry. The count says so, checked
 * against the map: a count kept across a crash may lag a write. */
static bool map_empty(struct dp *dp, int fam)
{
	__u8 k[sizeof(struct xcrs_addr)];

	if (dp->nsubs[fam])
		return false;
	return bpf_map_get_next_key(dp->fds[fam_map[fam]], NULL, k) != 0;
}

int dp_sub_set_many(struct dp *dp, const struct xcrs_addr *a,
		    const struct xcrs_sub *s, size_t n, size_t *ret_done)
{
	enum { CHUNK = 65536 };
	size_t cap = n < CHUNK ? n : CHUNK, done = 0;
	/* Batches (bpf_map_update_batch) only overwrite: the kernel takes no
	 * BPF_NOEXIST there. Into an empty map every entry is new, and those
	 * without a counter slot go in batches; the rest, and every entry of
	 * a family whose map held any, go one by one (an existing entry
	 * keeps its counter slot). A run is entries of one family in a row,
	 * CHUNK at most. */
	bool empty[FAM_N], any = false;
	struct sub_batch b = {};
	int r = 0;

	for (int f = 0; f < FAM_N; f++)
		any |= empty[f] = map_empty(dp, f);
	if (any && n > 1) {
		b.v = calloc(cap, sizeof(*b.v));
		b.fresh = calloc(cap, sizeof(*b.fresh));
		b.bi = calloc(cap, sizeof(*b.bi));
		b.bk = calloc(cap, sizeof(struct xcrs_addr));
		b.be = calloc(cap, sizeof(*b.be));
		for (int i = 0; i < 2 && cap >= 4096; i++) {
			b.half[i].k = calloc(cap, sizeof(struct xcrs_addr));
			b.half[i].e = calloc(cap, sizeof(*b.half[i].e));
			b.half[i].pos = calloc(cap, sizeof(*b.half[i].pos));
			if (!b.half[i].k || !b.half[i].e || !b.half[i].pos) {
				r = dp_fail(dp, -ENOMEM, "loading %zu "
					    "subscribers", n);
				goto out;
			}
		}
		if (!b.v || !b.fresh || !b.bi || !b.bk || !b.be) {
			r = dp_fail(dp, -ENOMEM, "loading %zu subscribers", n);
			goto out;
		}
	}
	while (done < n) {
		int fam = fam_of(&a[done], &s[done]);
		size_t m = 1, w = 0;

		while (done + m < n && m < CHUNK &&
		       fam_of(&a[done + m], &s[done + m]) == fam)
			m++;
		/* (the two IPv6 maps share keys: twin_drop()) */
		if (b.v && empty[fam] &&
		    (fam == FAM_V4 || (empty[FAM_V64] && empty[FAM_V6]))) {
			r = sub_run(dp, &b, fam, &a[done], &s[done], m, &w);
			done += w;
			if (r)
				break;
			continue;
		}
		/* one by one: the map held entries */
		for (; w < m; w++) {
			bool was = dp->batch;

			dp->batch = true; /* one bump at the end */
			r = sub_set(dp, &a[done], &s[done]);
			dp->batch = was;
			if (r)
				break;
			done++;
		}
		if (r)
			break;
	}
	if (done) {
		if (!dp->batch)
			dp->subset_pending = false;
		subset_bump(dp);
	}
	counts_keep(dp);
	if (!r)
		r = dp_ok(dp);
out:
	free(b.v);
	free(b.fresh);
	free(b.bi);
	free(b.bk);
	free(b.be);
	for (int i = 0; i < 2; i++) {
		free(b.half[i].k);
		free(b.half[i].e);
		free(b.half[i].pos);
	}
	if (ret_done)
		*ret_done = done;
	return r;
}

void dp_batch(struct dp *dp, bool on)
{
	dp->batch = on;
	if (!on)
		counts_keep(dp);
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
	int r = sub_read(dp, a, &s);

	if (r) {
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, r, "subscriber %s", t);
	}
	*ret_sub = s;
	return dp_ok(dp);
}

int dp_sub_del(struct dp *dp, const struct xcrs_addr *a)
{
	char t[INET6_ADDRSTRLEN];
	struct xcrs_sub old;
	int fam, r = sub_find(dp, a, &old, &fam);

	if (r) {
		dp_addr_format(a, t, sizeof(t));
		return dp_fail(dp, r, "removing subscriber %s", t);
	}
	if (bpf_map_delete_elem(dp->fds[fam_map[fam]], fam_key(fam, a))) {
		r = -errno;
		if (r != -ENOENT) {
			dp_addr_format(a, t, sizeof(t));
			return dp_fail(dp, r, "removing subscriber %s", t);
		}
	} else {
		slot_free(dp, old.stats_slot);
		if (dp->nsubs[fam])
			dp->nsubs[fam]--;
		if (!dp->batch)
			counts_keep(dp);
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
