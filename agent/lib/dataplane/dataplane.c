// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dataplane control library (see dataplane.h): loads bpf/xcrs.bpf.c
 * through its skeleton, pins and reuses its maps, attaches it with a
 * pinned BPF link per interface (replaced in place by the next version),
 * and performs every map read and write of xcrs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "dataplane.h"
#include "log.h"
#include "xcrs.skel.h"

/* The ABI's layouts, as the BPF side compiles them (no implicit padding). */
_Static_assert(sizeof(struct xcrs_addr) == 16, "ABI: xcrs_addr");
_Static_assert(sizeof(struct xcrs_lpm_key) == 24, "ABI: xcrs_lpm_key");
_Static_assert(sizeof(struct xcrs_sub) == 24, "ABI: xcrs_sub");
_Static_assert(sizeof(struct xcrs_pool) == 8, "ABI: xcrs_pool");
_Static_assert(sizeof(struct xcrs_svc_rule) == 8, "ABI: xcrs_svc_rule");
_Static_assert(sizeof(struct xcrs_svc_entry) == 8 + 8 * XCRS_SVC_RULES_MAX,
	       "ABI: xcrs_svc_entry");
_Static_assert(sizeof(struct xcrs_level) == 32, "ABI: xcrs_level");
_Static_assert(sizeof(struct xcrs_cfg) == 24, "ABI: xcrs_cfg");
_Static_assert(sizeof(struct xcrs_svc_cache_ent) == 24,
	       "ABI: xcrs_svc_cache_ent");
_Static_assert(sizeof(struct xcrs_scope) == 16, "ABI: xcrs_scope");
_Static_assert(sizeof(struct xcrs_counter) == 16, "ABI: xcrs_counter");
_Static_assert(sizeof(struct xcrs_bucket) == 16, "ABI: xcrs_bucket");
_Static_assert(sizeof(struct xcrs_fanout) == 16 + 8 * XCRS_FANOUT_WORDS,
	       "ABI: xcrs_fanout");
_Static_assert(sizeof(struct xcrs_event) == 40, "ABI: xcrs_event");
_Static_assert(sizeof(struct xcrs_seen) == 16, "ABI: xcrs_seen");
_Static_assert(sizeof(struct xcrs_rl) == 16, "ABI: xcrs_rl");

#define XCRS_PROG_NAME "xcrs_xdp"




/* The maps shared by every program instance (xcrs_abi.h's XCRS_MAPS). */
enum dp_map {
#define X(id, name, role, fill, key) M_##id,
	XCRS_MAPS(X)
#undef X
	M_COUNT
};

static const char *const map_names[M_COUNT] = {
#define X(id, name, role, fill, key) [M_##id] = #name,
	XCRS_MAPS(X)
#undef X
};

/* What the operator calls each map in an error. */
static const char *const map_roles[M_COUNT] = {
#define X(id, name, role, fill, key) [M_##id] = role,
	XCRS_MAPS(X)
#undef X
};

struct dp_attachment {
	char ifname[IF_NAMESIZE];
	struct xcrs_bpf *skel; /* the program instance the link runs */
	int link_fd;
};

struct dp {
	struct dp_config cfg;
	char *pin_dir;
	int fds[M_COUNT];
	__u32 max[M_COUNT];
	bool reused;
	int ncpus;
	int rcu_outer_fd, rcu_inner_fd;
	/* test instances: [role][gtpu] */
	struct xcrs_bpf *inst[2][2];
	struct dp_attachment *att;
	size_t natt;
	struct ring_buffer *rb;
	dp_event_fn ev_fn;
	void *ev_ctx;
	/* Per-subscriber counter slots (xcrs_sub_stats): a bit per slot,
	 * slot 0 never given. Rebuilt from xcrs_subs when the maps are
	 * reused. */
	__u64 *slot_used;
	__u32 nslots, slot_hint;
	bool slots_warned;
	__u64 nsubs; /* host entries in xcrs_subs */
	/* the active policy's never-react prefixes */
	struct dp_pool *never;
	size_t nnever;
	/* run-time flags: failing closed (agent), prefix decisions held */
	bool rt_full;
	__u64 nprefixes;
	__u32 subset; /* xcrs_gen[XCRS_GEN_SLOT_SUBSET], this process writes */
	/* Levels flagged XCRS_LEVEL_F_REACTED in the active policy: only
	 * host entries at such a level (or base level) get a slot. */
	__u32 reacted_levels;
	char err[512];
};

static int dp_fail(struct dp *dp, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int dp_fail(struct dp *dp, int r, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(dp->err, sizeof(dp->err), fmt, ap);
	va_end(ap);
	n = strlen(dp->err);
	if (r < 0 && n < sizeof(dp->err) - 1)
		snprintf(dp->err + n, sizeof(dp->err) - n, ": %s", strerror(-r));
	return r;
}

static int dp_ok(struct dp *dp)
{
	dp->err[0] = '\0';
	return 0;
}

const char *dp_errmsg(const struct dp *dp)
{
	return dp->err;
}

bool dp_reused_pins(const struct dp *dp)
{
	return dp->reused;
}

/* Translates a failed map write into operator language. */
static int map_write_fail(struct dp *dp, enum dp_map m, int r,
			  const char *what)
{
	if (r == -E2BIG || r == -ENOMEM || r == -ENOSPC)
		return dp_fail(dp, -E2BIG, "%s full (%u entries): cannot add %s",
			       map_roles[m], dp->max[m], what);
	return dp_fail(dp, r, "writing %s to %s", what, map_roles[m]);
}

static struct bpf_map *skel_map(struct xcrs_bpf *s, enum dp_map m)
{
	struct bpf_map *const maps[M_COUNT] = {
#define X(id, name, role, fill, key) [M_##id] = s->maps.name,
		XCRS_MAPS(X)
#undef X
	};

	return maps[m];
}

static void pin_path(const struct dp *dp, enum dp_map m, char *buf,
		     size_t len)
{
	snprintf(buf, len, "%s/%s", dp->pin_dir, map_names[m]);
}

/* Checks that a pinned map is the one this build would create. */
static int check_pinned(struct dp *dp, enum dp_map m, int fd,
			struct bpf_map *want, const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int r;

	r = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (r)
		return dp_fail(dp, -errno, "reading pinned map %s", path);
	if (info.type != bpf_map__type(want) ||
	    info.key_size != bpf_map__key_size(want) ||
	    info.value_size != bpf_map__value_size(want))
		return dp_fail(dp, -EINVAL,
			       "pinned map %s has another layout (from another "
			       "xcrs version?): remove %s to recreate it",
			       path, dp->pin_dir);
	if (info.max_entries != bpf_map__max_entries(want))
		return dp_fail(dp, -EINVAL,
			       "pinned %s %s holds %u entries, the configuration "
			       "asks for %u: remove %s (after detaching) to "
			       "resize",
			       map_roles[m], path, info.max_entries,
			       bpf_map__max_entries(want), dp->pin_dir);
	return 0;
}

static __u32 or_default(__u32 v, __u32 def)
{
	return v ? v : def;
}

static void size_maps(struct dp *dp)
{
	const struct dp_config *c = &dp->cfg;

	dp->max[M_SUBS] = or_default(c->max_subs, 65536);
	/* Two generations of the policy tables live side by side while one
	 * replaces the other. */
	dp->max[M_POOLS] = 2 * or_default(c->max_pools, 1024);
	dp->max[M_SVCS] = 2 * or_default(c->max_svc_prefixes, 8192);
	dp->max[M_LEVELS] = 2 * XCRS_LEVELS_MAX;
	dp->max[M_CFG] = 2;
	dp->max[M_GEN] = 3; /* generation, run-time flags, subscriber set */
	dp->max[M_SCOPES] = or_default(c->max_scopes, 4096);
	dp->max[M_STATS] = XCRS_STATS_SLOTS;
	/* slot 0 means "no counters" */
	dp->max[M_SUB_STATS] = or_default(c->max_tracked, 65536) + 1;
	dp->max[M_RATE] = or_default(c->max_tracked, 65536);
	dp->max[M_FANOUT] = or_default(c->max_tracked, 65536);
	dp->max[M_SEEN] = or_default(c->max_tracked, 65536);
	dp->max[M_CONNECT_RL] = 1;
	dp->max[M_EVENTS] = 256 * 1024;
	dp->max[M_SVC_CACHE] = XCRS_SVC_CACHE_SLOTS;
	dp->max[M_PREFIXES] = or_default(c->max_prefixes, 1024);
}

/* Whether map m's size was left to the default (0 in dp_config): then a
 * pinned map of another size is taken as it is (a reader such as
 * --detach or a test need not know the agent's sizes). */
static bool adopt_size(const struct dp *dp, enum dp_map m)
{
	const struct dp_config *c = &dp->cfg;

	switch (m) {
	case M_SUBS:
		return !c->max_subs;
	case M_POOLS:
		return !c->max_pools;
	case M_SVCS:
		return !c->max_svc_prefixes;
	case M_SCOPES:
		return !c->max_scopes;
	case M_PREFIXES:
		return !c->max_prefixes;
	case M_SUB_STATS:
	case M_RATE:
	case M_FANOUT:
	case M_SEEN:
		return !c->max_tracked;
	default:
		return false;
	}
}

/* Opens a skeleton whose maps are dp's; rodata set for role/gtpu. */
static int open_instance(struct dp *dp, enum xcrs_role role, bool gtpu,
			 struct xcrs_bpf **ret_skel)
{
	struct xcrs_bpf *s;
	int r;

	s = xcrs_bpf__open();
	if (!s)
		return dp_fail(dp, -errno, "opening the embedded XDP object");
	s->rodata->xcrs_role = role;
	s->rodata->xcrs_gtpu = gtpu;
	for (int m = 0; m < M_COUNT; m++) {
		r = bpf_map__set_max_entries(skel_map(s, m), dp->max[m]);
		if (r) {
			xcrs_bpf__destroy(s);
			return dp_fail(dp, r, "sizing %s", map_roles[m]);
		}
		if (dp->fds[m] < 0)
			continue;
		r = bpf_map__reuse_fd(skel_map(s, m), dp->fds[m]);
		if (r) {
			xcrs_bpf__destroy(s);
			return dp_fail(dp, r, "sharing %s", map_roles[m]);
		}
	}
	*ret_skel = s;
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	return log_lib_vprint("libbpf", level == LIBBPF_WARN, fmt, ap);
}

void dp_log_hook(void)
{
	libbpf_set_print(libbpf_print);
}

static int load_instance(struct dp *dp, struct xcrs_bpf *s)
{
	int prev = log_lib_silence();
	int r = xcrs_bpf__load(s);

	log_lib_restore(prev);
	if (r)
		return dp_fail(dp, r,
			       "loading the XDP program (run with -vv for the "
			       "verifier log)");
	return 0;
}

static int check_bpffs(struct dp *dp, const char *dir)
{
	char parent[PATH_MAX];
	struct statfs st;
	char *slash;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
	if (statfs(parent, &st))
		return dp_fail(dp, -errno, "pin directory parent %s", parent);
	if ((unsigned long)st.f_type != BPF_FS_MAGIC)
		return dp_fail(dp, -ENOTSUP,
			       "%s is not on a bpf filesystem (mount it: mount "
			       "-t bpf bpf /sys/fs/bpf)",
			       parent);
	return 0;
}

/* Holds an exclusive flock on the pin directory: every writer of pinned
 * state takes it, so two agents never interleave. Returns the fd. */
static int lock_pins(struct dp *dp)
{
	int fd;

	if (!dp->pin_dir)
		return -1;
	fd = open(dp->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return dp_fail(dp, -errno, "opening pin directory %s",
			       dp->pin_dir);
	if (flock(fd, LOCK_EX)) {
		int r = -errno;

		close(fd);
		return dp_fail(dp, r, "locking pin directory %s", dp->pin_dir);
	}
	return fd;
}

static void unlock_pins(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int rcu_sync_init(struct dp *dp)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);

	dp->rcu_inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xcrs_rcu_in", 4,
					  4, 1, NULL);
	if (dp->rcu_inner_fd < 0)
		return dp_fail(dp, -errno, "creating the RCU barrier map");
	o.inner_map_fd = dp->rcu_inner_fd;
	dp->rcu_outer_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS,
					  "xcrs_rcu", 4, 4, 1, &o);
	if (dp->rcu_outer_fd < 0)
		return dp_fail(dp, -errno, "creating the RCU barrier map");
	return 0;
}

/* Waits until every XDP program run that started before the call has
 * finished: the kernel calls synchronize_rcu() after an update of a
 * map-in-map from userspace. */
static int rcu_sync(struct dp *dp)
{
	__u32 k = 0;

	if (bpf_map_update_elem(dp->rcu_outer_fd, &k, &dp->rcu_inner_fd, 0))
		return dp_fail(dp, -errno, "waiting for running programs");
	return 0;
}

/* Creates map m as the skeleton defines it (with its BTF types), so that a
 * failure names the map rather than surfacing as a failed object load. */
static int create_map(struct dp *dp, struct xcrs_bpf *s, enum dp_map m,
		      struct btf **btf_copy)
{
	struct bpf_map *want = skel_map(s, m);
	const struct btf *btf = bpf_object__btf(s->obj);
	LIBBPF_OPTS(bpf_map_create_opts, o,
		    .map_flags = bpf_map__map_flags(want));
	int fd;

	/* A kernel copy of the object's BTF (same type ids; libbpf loads
	 * its own later) lets bpftool show the maps with their types. */
	if (!*btf_copy && btf) {
		__u32 sz;
		const void *raw = btf__raw_data(btf, &sz);

		*btf_copy = raw ? btf__new(raw, sz) : NULL;
		if (libbpf_get_error(*btf_copy) ||
		    (*btf_copy && btf__load_into_kernel(*btf_copy))) {
			if (!libbpf_get_error(*btf_copy))
				btf__free(*btf_copy);
			*btf_copy = NULL;
		}
	}
	if (*btf_copy && bpf_map__btf_key_type_id(want)) {
		o.btf_fd = btf__fd(*btf_copy);
		o.btf_key_type_id = bpf_map__btf_key_type_id(want);
		o.btf_value_type_id = bpf_map__btf_value_type_id(want);
	}
	fd = bpf_map_create(bpf_map__type(want), map_names[m],
			    bpf_map__key_size(want),
			    bpf_map__value_size(want),
			    bpf_map__max_entries(want), &o);
	if (fd < 0 && o.btf_fd) {
		/* Kernels that refuse the BTF of a map type still take the
		 * map without it. */
		o.btf_fd = o.btf_key_type_id = o.btf_value_type_id = 0;
		fd = bpf_map_create(bpf_map__type(want), map_names[m],
				    bpf_map__key_size(want),
				    bpf_map__value_size(want),
				    bpf_map__max_entries(want), &o);
	}
	if (fd < 0)
		return dp_fail(dp, -errno, "creating the %s (%u entries)",
			       map_roles[m], bpf_map__max_entries(want));
	dp->fds[m] = fd;
	if (bpf_map__reuse_fd(want, fd))
		return dp_fail(dp, -EINVAL, "using the new %s", map_roles[m]);
	return 0;
}

/* Keys of a hash or LPM map, walked (bounded by its capacity). */
static __u64 count_keys(struct dp *dp, enum dp_map m, size_t key_size)
{
	__u8 k[2][64];
	__u64 n = 0;
	int cur = 0;

	if (key_size > sizeof(k[0]))
		return 0;
	if (bpf_map_get_next_key(dp->fds[m], NULL, k[cur]))
		return 0;
	do {
		n++;
		cur ^= 1;
	} while (n < dp->max[m] &&
		 !bpf_map_get_next_key(dp->fds[m], k[cur ^ 1], k[cur]));
	return n;
}

/* ---- per-subscriber counter slots ---- */

static bool slot_taken(const struct dp *dp, __u32 slot)
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

/* Learns which slots the host entries of reused maps hold. */
static int slots_init(struct dp *dp, bool reused_subs)
{
	enum { CHUNK = 4096 };
	struct xcrs_addr *keys = NULL;
	struct xcrs_sub *vals = NULL;
	__u8 in[sizeof(struct xcrs_addr)], outb[sizeof(struct xcrs_addr)];
	bool first = true;
	int r = 0;

	dp->nslots = dp->max[M_SUB_STATS];
	dp->slot_used = calloc((dp->nslots + 63) / 64, sizeof(__u64));
	if (!dp->slot_used)
		return dp_fail(dp, -ENOMEM, "per-subscriber counter slots");
	slot_mark(dp, 0, true);
	if (!reused_subs)
		return 0;
	keys = calloc(CHUNK, sizeof(*keys));
	vals = calloc(CHUNK, sizeof(*vals));
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
		dp->nsubs += n;
		for (__u32 i = 0; i < n; i++) {
			__u32 slot = vals[i].stats_slot;

			if (slot && slot < dp->nslots)
				slot_mark(dp, slot, true);
		}
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

/* dp->reacted_levels from the active generation's level table. */
static int read_reacted_levels(struct dp *dp)
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

int dp_open(const struct dp_config *cfg, struct dp **ret_dp, char *errbuf,
	    size_t errlen)
{
	struct xcrs_bpf *s = NULL;
	bool pinned_now[M_COUNT] = {}, created[M_COUNT] = {};
	struct btf *btf_copy = NULL;
	char path[PATH_MAX];
	struct dp *dp;
	int lock = -1, r, found = 0;
	bool made_dir = false;

	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	dp->cfg = *cfg;
	dp->rcu_outer_fd = dp->rcu_inner_fd = -1;
	for (int m = 0; m < M_COUNT; m++)
		dp->fds[m] = -1;
	size_maps(dp);
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus < 0) {
		r = dp_fail(dp, dp->ncpus, "counting possible CPUs");
		goto fail;
	}
	r = rcu_sync_init(dp);
	if (r)
		goto fail;

	if (cfg->pin_dir) {
		dp->pin_dir = strdup(cfg->pin_dir);
		if (!dp->pin_dir) {
			r = -ENOMEM;
			goto fail;
		}
		r = check_bpffs(dp, dp->pin_dir);
		if (r)
			goto fail;
		if (mkdir(dp->pin_dir, 0700) == 0) {
			made_dir = true;
		} else if (errno != EEXIST) {
			r = dp_fail(dp, -errno, "creating pin directory %s",
				    dp->pin_dir);
			goto fail;
		}
		lock = lock_pins(dp);
		if (lock < 0) {
			r = lock;
			goto fail;
		}
	}

	r = open_instance(dp, XCRS_ROLE_ACCESS, true, &s);
	if (r)
		goto fail;
	for (int m = 0; dp->pin_dir && m < M_COUNT; m++) {
		int fd;

		pin_path(dp, m, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			r = dp_fail(dp, -errno, "opening pinned map %s", path);
			goto fail;
		}
		dp->fds[m] = fd;
		if (adopt_size(dp, m)) {
			/* a size not configured: the pinned map's */
			struct bpf_map_info info = {};
			__u32 ilen = sizeof(info);

			if (!bpf_obj_get_info_by_fd(fd, &info, &ilen) &&
			    info.max_entries != dp->max[m]) {
				dp->max[m] = info.max_entries;
				bpf_map__set_max_entries(skel_map(s, m),
							 info.max_entries);
			}
		}
		r = check_pinned(dp, m, fd, skel_map(s, m), path);
		if (r)
			goto fail;
		r = bpf_map__reuse_fd(skel_map(s, m), fd);
		if (r) {
			r = dp_fail(dp, r, "reusing pinned map %s", path);
			goto fail;
		}
		found++;
	}
	dp->reused = found > 0;
	for (int m = 0; m < M_COUNT; m++) {
		if (dp->fds[m] >= 0)
			continue;
		r = create_map(dp, s, m, &btf_copy);
		if (r)
			goto fail;
		created[m] = true;
	}
	btf__free(btf_copy); /* the maps hold their own reference */
	btf_copy = NULL;

	r = load_instance(dp, s);
	if (r)
		goto fail;
	for (int m = 0; m < M_COUNT; m++) {
		if (!created[m] || !dp->pin_dir)
			continue;
		pin_path(dp, m, path, sizeof(path));
		if (bpf_obj_pin(dp->fds[m], path)) {
			r = dp_fail(dp, -errno, "pinning %s at %s",
				    map_roles[m], path);
			goto fail;
		}
		pinned_now[m] = true;
	}
	dp->inst[XCRS_ROLE_ACCESS][1] = s;
	r = slots_init(dp, !created[M_SUBS]);
	if (!r)
		r = read_reacted_levels(dp);
	if (!r) {
		__u32 k = XCRS_GEN_SLOT_RUNTIME, rt = 0;

		bpf_map_lookup_elem(dp->fds[M_GEN], &k, &rt);
		dp->rt_full = rt & XCRS_RT_SUBS_FULL;
		k = XCRS_GEN_SLOT_SUBSET;
		bpf_map_lookup_elem(dp->fds[M_GEN], &k, &dp->subset);
		dp->nprefixes = count_keys(dp, M_PREFIXES,
					   sizeof(struct xcrs_prefix_key));
	}
	if (r)
		goto fail_loaded;
	unlock_pins(lock);
	*ret_dp = dp;
	return dp_ok(dp);

fail_loaded:
	s = NULL; /* dp_close destroys the instance */

fail:
	/* Leave the pin directory as it was: unpin what this call pinned. */
	for (int m = 0; m < M_COUNT; m++) {
		if (pinned_now[m]) {
			pin_path(dp, m, path, sizeof(path));
			unlink(path);
		}
	}
	btf__free(btf_copy);
	if (made_dir)
		rmdir(dp->pin_dir);
	if (s)
		xcrs_bpf__destroy(s);
	unlock_pins(lock);
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", r == -ENOMEM && !dp->err[0] ?
			 "out of memory" : dp->err);
	dp_close(dp);
	return r;
}

void dp_close(struct dp *dp)
{
	if (!dp)
		return;
	ring_buffer__free(dp->rb);
	for (size_t i = 0; i < dp->natt; i++) {
		/* a pinned link stays; an unpinned one goes with its fd */
		close(dp->att[i].link_fd);
		xcrs_bpf__destroy(dp->att[i].skel);
	}
	free(dp->att);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			xcrs_bpf__destroy(dp->inst[i][j]);
	for (int m = 0; m < M_COUNT; m++)
		if (dp->fds[m] >= 0)
			close(dp->fds[m]);
	if (dp->rcu_outer_fd >= 0)
		close(dp->rcu_outer_fd);
	if (dp->rcu_inner_fd >= 0)
		close(dp->rcu_inner_fd);
	free(dp->slot_used);
	free(dp->never);
	free(dp->pin_dir);
	free(dp);
}

int dp_unpin(struct dp *dp)
{
	char path[PATH_MAX];
	int r = 0;

	if (!dp->pin_dir)
		return dp_ok(dp);
	for (int m = 0; m < M_COUNT; m++) {
		pin_path(dp, m, path, sizeof(path));
		if (unlink(path) && errno != ENOENT && !r)
			r = dp_fail(dp, -errno, "unpinning %s", path);
	}
	if (rmdir(dp->pin_dir) && errno != ENOENT && !r)
		r = dp_fail(dp, -errno,
			    errno == ENOTEMPTY ?
				    "removing %s (it still holds the links of "
				    "attached interfaces: detach first)" :
				    "removing %s",
			    dp->pin_dir);
	return r ? r : dp_ok(dp);
}

/* ---- addresses ---- */

bool dp_addr_is_v4(const struct xcrs_addr *a)
{
	return addr_is_v4(a);
}

int dp_addr_parse(const char *s, struct xcrs_addr *ret_addr)
{
	return addr_parse(s, ret_addr);
}

int dp_prefix_parse(const char *s, struct xcrs_addr *ret_addr,
		    unsigned *ret_plen)
{
	return addr_prefix_parse(s, ret_addr, ret_plen);
}

void dp_addr_format(const struct xcrs_addr *a, char *buf, size_t len)
{
	addr_format(a, buf, len);
}

static int ifindex_of(struct dp *dp, const char *ifname)
{
	unsigned idx = if_nametoindex(ifname);

	if (!idx)
		return dp_fail(dp, -ENODEV, "no interface named %s", ifname);
	return (int)idx;
}

/* Finds our program in the interface's dispatcher: 1 found (ret_mp set,
 * *ret_prog the program or NULL for a legacy single program), 0 not. */
/* Attachments are BPF links (BPF_LINK_TYPE_XDP), pinned as
 * <pin_dir>/link_<ifname> so that the next process finds them without
 * CAP_SYS_ADMIN (which enumerating programs by id would need) and can
 * swap the program in place with bpf_link_update(): no moment without a
 * program, no packet judged by none. */
static void link_path(const struct dp *dp, const char *ifname, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s/link_%s", dp->pin_dir, ifname);
}

static struct dp_attachment *att_of(struct dp *dp, const char *ifname)
{
	for (size_t i = 0; i < dp->natt; i++)
		if (!strcmp(dp->att[i].ifname, ifname))
			return &dp->att[i];
	return NULL;
}

static void att_remove(struct dp *dp, struct dp_attachment *a)
{
	close(a->link_fd);
	xcrs_bpf__destroy(a->skel);
	*a = dp->att[--dp->natt];
}

/* The link attaching xcrs to ifindex: this process's, or the pinned one
 * of an earlier process. 1 with a new fd in *ret_fd, 0 if none, -errno.
 * A pin whose link no longer holds the interface (the interface went
 * away) is removed. */
static int find_link(struct dp *dp, const char *ifname, int ifindex,
		     int *ret_fd)
{
	struct dp_attachment *a = att_of(dp, ifname);
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	if (a) {
		fd = dup(a->link_fd);
		if (fd < 0)
			return dp_fail(dp, -errno, "%s: link", ifname);
	} else {
		if (!dp->pin_dir)
			return 0;
		link_path(dp, ifname, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0 && errno == ENOENT)
			return 0;
		if (fd < 0)
			return dp_fail(dp, -errno, "opening %s", path);
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int r = -errno;

		close(fd);
		return dp_fail(dp, r, "reading the link of %s", ifname);
	}
	if (info.type != BPF_LINK_TYPE_XDP ||
	    info.xdp.ifindex != (__u32)ifindex) {
		close(fd);
		if (a) {
			att_remove(dp, a);
		} else {
			link_path(dp, ifname, path, sizeof(path));
			unlink(path);
		}
		return 0;
	}
	*ret_fd = fd;
	return 1;
}

int dp_attached(struct dp *dp, const char *ifname)
{
	int idx = ifindex_of(dp, ifname), r, fd;

	if (idx < 0)
		return idx;
	r = find_link(dp, ifname, idx, &fd);
	if (r > 0)
		close(fd);
	if (r >= 0)
		dp_ok(dp);
	return r;
}

/* The spreading CPUs into the instance's rodata (before load). */
static int spread_config(struct dp *dp, struct xcrs_bpf *s,
			 const struct dp_attach_opts *o, const char *ifname)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = 0;

	if (o->spread == XCRS_SPREAD_OFF)
		return 0;
	if (o->spread != XCRS_SPREAD_TEID && o->spread != XCRS_SPREAD_INNER)
		return dp_fail(dp, -EINVAL, "%s: spread mode %d", ifname,
			       (int)o->spread);
	if (o->nspread_cpus) {
		for (unsigned i = 0; i < o->nspread_cpus; i++) {
			if (n == XCRS_SPREAD_CPUS_MAX ||
			    o->spread_cpus[i] >= XCRS_SPREAD_CPUS_MAX ||
			    (online > 0 && o->spread_cpus[i] >= online))
				return dp_fail(dp, -EINVAL,
					       "%s: spread CPU %u: not one of "
					       "the %ld online CPUs (at most "
					       "%d)",
					       ifname, o->spread_cpus[i], online,
					       XCRS_SPREAD_CPUS_MAX);
			s->rodata->xcrs_spread_cpu[n++] = o->spread_cpus[i];
		}
	} else {
		for (long c = 0; c < online && n < XCRS_SPREAD_CPUS_MAX; c++)
			s->rodata->xcrs_spread_cpu[n++] = (__u32)c;
	}
	s->rodata->xcrs_spread = (__u8)o->spread;
	s->rodata->xcrs_spread_n = n;
	return 0;
}

/* The cpumap entries: each spreading CPU runs the instance's second
 * stage. */
static int spread_fill(struct dp *dp, struct xcrs_bpf *s, const char *ifname)
{
	int fd = bpf_map__fd(s->maps.xcrs_cpus);

	for (__u32 i = 0; i < s->rodata->xcrs_spread_n; i++) {
		__u32 cpu = s->rodata->xcrs_spread_cpu[i];
		struct bpf_cpumap_val v = {
			.qsize = 2048,
			.bpf_prog.fd = bpf_program__fd(s->progs.xcrs_xdp_cpumap),
		};

		if (bpf_map_update_elem(fd, &cpu, &v, 0))
			return dp_fail(dp, -errno, "%s: spreading to CPU %u",
				       ifname, cpu);
	}
	if (s->rodata->xcrs_spread_n)
		log_info("%s: G-PDUs spread over %u CPUs by %s", ifname,
			 s->rodata->xcrs_spread_n,
			 s->rodata->xcrs_spread == XCRS_SPREAD_TEID ? "TEID" :
								      "inner address");
	return 0;
}

static const char *mode_name(enum dp_xdp_mode m)
{
	return m == DP_MODE_NATIVE ? "native" : "generic";
}

int dp_attach(struct dp *dp, const char *ifname,
	      const struct dp_attach_opts *o)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	struct dp_attachment *att, *old;
	enum dp_xdp_mode mode = o->mode;
	char path[PATH_MAX];
	struct xcrs_bpf *s = NULL;
	int idx, r, link, prog;

	idx = ifindex_of(dp, ifname);
	if (idx < 0)
		return idx;
	r = open_instance(dp, o->role, !o->no_gtpu, &s);
	if (!r)
		r = spread_config(dp, s, o, ifname);
	if (!r)
		r = load_instance(dp, s);
	if (!r)
		r = spread_fill(dp, s, ifname);
	if (r) {
		if (s)
			xcrs_bpf__destroy(s);
		return r;
	}
	prog = bpf_program__fd(s->progs.xcrs_xdp);
	r = find_link(dp, ifname, idx, &link);
	if (r < 0) {
		xcrs_bpf__destroy(s);
		return r;
	}
	if (r > 0) {
		/* In place: the interface never runs without xcrs. */
		if (bpf_link_update(link, prog, NULL)) {
			r = -errno;
			close(link);
			xcrs_bpf__destroy(s);
			return dp_fail(dp, r, "replacing the program on %s",
				       ifname);
		}
		old = att_of(dp, ifname);
		if (old) {
			close(link);
			xcrs_bpf__destroy(old->skel);
			old->skel = s;
		} else {
			att = realloc(dp->att, (dp->natt + 1) * sizeof(*att));
			if (!att) {
				close(link);
				xcrs_bpf__destroy(s);
				return dp_fail(dp, -ENOMEM, "attaching to %s",
					       ifname);
			}
			dp->att = att;
			att = &dp->att[dp->natt++];
			snprintf(att->ifname, sizeof(att->ifname), "%s",
				 ifname);
			att->skel = s;
			att->link_fd = link;
		}
		log_info("%s: program replaced in place (%s)", ifname,
			 abi_role_name(o->role));
		return dp_ok(dp);
	}
	att = realloc(dp->att, (dp->natt + 1) * sizeof(*att));
	if (!att) {
		xcrs_bpf__destroy(s);
		return dp_fail(dp, -ENOMEM, "attaching to %s", ifname);
	}
	dp->att = att;
	lo.flags = mode == DP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE :
					    XDP_FLAGS_SKB_MODE;
	link = bpf_link_create(prog, idx, BPF_XDP, &lo);
	if (link < 0 && mode == DP_MODE_NATIVE && o->allow_fallback &&
	    errno != EBUSY) {
		log_warn("%s: native XDP failed (%s), falling back to generic "
			 "mode",
			 ifname, strerror(errno));
		mode = DP_MODE_SKB;
		lo.flags = XDP_FLAGS_SKB_MODE;
		link = bpf_link_create(prog, idx, BPF_XDP, &lo);
	}
	if (link < 0) {
		r = -errno;
		xcrs_bpf__destroy(s);
		if (r == -EBUSY)
			return dp_fail(dp, r,
				       "attaching xcrs to %s: another XDP "
				       "program is attached there",
				       ifname);
		return dp_fail(dp, r, "attaching xcrs to %s in %s mode",
			       ifname, mode_name(mode));
	}
	if (dp->pin_dir) {
		link_path(dp, ifname, path, sizeof(path));
		if (bpf_obj_pin(link, path)) {
			r = -errno;
			close(link); /* detaches: nothing half done */
			xcrs_bpf__destroy(s);
			return dp_fail(dp, r, "pinning the link of %s at %s",
				       ifname, path);
		}
	}
	att = &dp->att[dp->natt++];
	snprintf(att->ifname, sizeof(att->ifname), "%s", ifname);
	att->skel = s;
	att->link_fd = link;
	log_info("attached to %s as %s, %s mode", ifname,
		 abi_role_name(o->role), mode_name(mode));
	return dp_ok(dp);
}

int dp_detach(struct dp *dp, const char *ifname)
{
	struct dp_attachment *a;
	char path[PATH_MAX];
	int idx, r, link;

	idx = ifindex_of(dp, ifname);
	if (idx < 0)
		return idx;
	r = find_link(dp, ifname, idx, &link);
	if (r < 0)
		return r;
	if (!r)
		return dp_fail(dp, -ENOENT, "xcrs is not attached to %s",
			       ifname);
	r = bpf_link_detach(link) ? -errno : 0;
	close(link);
	if (r)
		return dp_fail(dp, r, "detaching xcrs from %s", ifname);
	if (dp->pin_dir) {
		link_path(dp, ifname, path, sizeof(path));
		unlink(path);
	}
	a = att_of(dp, ifname);
	if (a)
		att_remove(dp, a);
	log_info("detached from %s", ifname);
	return dp_ok(dp);
}

int dp_prog_fd(struct dp *dp, enum xcrs_role role, bool gtpu)
{
	struct xcrs_bpf **slot;
	int r;

	if (role != XCRS_ROLE_ACCESS && role != XCRS_ROLE_CORE)
		return dp_fail(dp, -EINVAL, "unknown role %d", role);
	slot = &dp->inst[role][gtpu ? 1 : 0];
	if (!*slot) {
		struct xcrs_bpf *s;

		r = open_instance(dp, role, gtpu, &s);
		if (r)
			return r;
		r = load_instance(dp, s);
		if (r) {
			xcrs_bpf__destroy(s);
			return r;
		}
		*slot = s;
	}
	dp_ok(dp);
	return bpf_program__fd((*slot)->progs.xcrs_xdp);
}

/* ---- policy ---- */

/* Deletes every LPM entry of generation gen. */
static int lpm_clear_gen(struct dp *dp, enum dp_map m, __u32 gen)
{
	struct xcrs_lpm_key k, next, *del = NULL;
	size_t ndel = 0, cap = 0;
	void *prev = NULL;
	int r = 0;

	while (!bpf_map_get_next_key(dp->fds[m], prev, &next)) {
		if (next.gen == gen) {
			if (ndel == cap) {
				struct xcrs_lpm_key *n;

				cap = cap ? 2 * cap : 64;
				n = realloc(del, cap * sizeof(*n));
				if (!n) {
					free(del);
					return dp_fail(dp, -ENOMEM,
						       "clearing %s",
						       map_roles[m]);
				}
				del = n;
			}
			del[ndel++] = next;
		}
		k = next;
		prev = &k;
	}
	for (size_t i = 0; i < ndel; i++) {
		if (bpf_map_delete_elem(dp->fds[m], &del[i]) && errno != ENOENT) {
			r = dp_fail(dp, -errno, "clearing %s", map_roles[m]);
			break;
		}
	}
	free(del);
	return r;
}

/* Whether rule i is the first rule of its prefix (one LPM entry each). */
static bool first_of_prefix(const struct dp_policy *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (p->rules[j].plen == p->rules[i].plen &&
		    !memcmp(&p->rules[j].addr, &p->rules[i].addr,
			    sizeof(p->rules[i].addr)))
			return false;
	return true;
}

static int validate_policy(struct dp *dp, const struct dp_policy *p);

int dp_policy_check(struct dp *dp, const struct dp_policy *p)
{
	return validate_policy(dp, p);
}

static int validate_policy(struct dp *dp, const struct dp_policy *p)
{
	size_t nprefixes;
	char t[64];

	if (p->nlevels < 1 || p->nlevels > XCRS_LEVELS_MAX)
		return dp_fail(dp, -EINVAL, "policy has %u levels (1..%d)",
			       p->nlevels, XCRS_LEVELS_MAX);
	if (p->cfg.default_level != XCRS_LEVEL_PASS &&
	    p->cfg.default_level >= p->nlevels)
		return dp_fail(dp, -EINVAL,
			       "default level %u is not defined (%u levels)",
			       p->cfg.default_level, p->nlevels);
	if (p->cfg.nonip_action > XCRS_NONIP_DROP)
		return dp_fail(dp, -EINVAL, "unknown non-IP action %u",
			       p->cfg.nonip_action);
	if (p->cfg.fanout_threshold > XCRS_FANOUT_THRESHOLD_MAX)
		return dp_fail(dp, -ERANGE,
			       "fan-out threshold %u is over the maximum %d",
			       p->cfg.fanout_threshold,
			       XCRS_FANOUT_THRESHOLD_MAX);
	if (p->cfg.fanout_threshold && !p->cfg.fanout_window_ns)
		return dp_fail(dp, -EINVAL,
			       "fan-out detection needs a window");
	for (unsigned i = 0; i < p->nlevels; i++)
		if (p->levels[i].rate_Bps && !p->levels[i].burst_B)
			return dp_fail(dp, -EINVAL,
				       "level %u has a rate but no burst", i);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct dp_service_rule *r = &p->rules[i];
		struct xcrs_addr m = r->addr;

		addr_prefix_format(&r->addr, r->plen, t, sizeof(t));
		addr_mask(&m, r->plen);
		if (r->plen > 128 || memcmp(&m, &r->addr, sizeof(m)))
			return dp_fail(dp, -EINVAL,
				       "service rule %zu: %s is not a prefix",
				       i + 1, t);
		if (r->svc > XCRS_SVC_MAX - 1)
			return dp_fail(dp, -EINVAL,
				       "service rule %zu (%s): class %u is "
				       "over %d",
				       i + 1, t, r->svc, XCRS_SVC_MAX - 1);
		if (r->port_lo > r->port_hi)
			return dp_fail(dp, -EINVAL,
				       "service rule %zu (%s): port range "
				       "%u-%u is empty",
				       i + 1, t, r->port_lo, r->port_hi);
	}
	if (p->npools > dp->max[M_POOLS] / 2)
		return dp_fail(dp, -E2BIG,
			       "policy has %zu address pools; the dataplane "
			       "holds at most %u (max_pools)",
			       p->npools, dp->max[M_POOLS] / 2);
	nprefixes = 0;
	for (size_t i = 0; i < p->nrules; i++)
		nprefixes += first_of_prefix(p, i);
	if (nprefixes > dp->max[M_SVCS] / 2)
		return dp_fail(dp, -E2BIG,
			       "policy has %zu service prefixes; the "
			       "dataplane holds at most %u (max_svc_prefixes)",
			       nprefixes, dp->max[M_SVCS] / 2);
	for (size_t i = 0; i < p->npools; i++) {
		struct xcrs_addr m = p->pools[i].addr;

		addr_prefix_format(&m, p->pools[i].plen, t, sizeof(t));
		addr_mask(&m, p->pools[i].plen);
		if (p->pools[i].plen > 128 ||
		    memcmp(&m, &p->pools[i].addr, sizeof(m)))
			return dp_fail(dp, -EINVAL, "pool %zu: %s is not a prefix",
				       i + 1, t);
		if (p->pools[i].level >= p->nlevels)
			return dp_fail(dp, -EINVAL,
				       "pool %s: level %u is not defined", t,
				       p->pools[i].level);
	}
	return 0;
}

/* Service rules of one LPM prefix: its own rules in policy order, then
 * those of each enclosing prefix, longer prefixes first. */
static int build_svc_entry(struct dp *dp, const struct dp_policy *p,
			   const struct dp_service_rule *pfx,
			   struct xcrs_svc_entry *e)
{
	char t[64];

	memset(e, 0, sizeof(*e));
	for (int plen = (int)pfx->plen; plen >= 0; plen--) {
		for (size_t i = 0; i < p->nrules; i++) {
			const struct dp_service_rule *r = &p->rules[i];

			if (r->plen != (unsigned)plen ||
			    !addr_prefix_contains(&r->addr, r->plen, &pfx->addr,
					     pfx->plen))
				continue;
			if (e->nrules == XCRS_SVC_RULES_MAX) {
				addr_prefix_format(&pfx->addr, pfx->plen, t,
					      sizeof(t));
				return dp_fail(dp, -E2BIG,
					       "peer prefix %s is covered by "
					       "more than %d service rules",
					       t, XCRS_SVC_RULES_MAX);
			}
			e->rules[e->nrules++] = (struct xcrs_svc_rule){
				.proto = r->proto,
				.svc = r->svc,
				.port_lo = r->port_lo,
				.port_hi = r->port_hi,
			};
		}
	}
	return 0;
}

static struct xcrs_lpm_key lpm_key(__u32 gen, const struct xcrs_addr *a,
				   unsigned plen)
{
	struct xcrs_lpm_key k = { .prefixlen = 32 + plen, .gen = gen };

	memcpy(k.addr, a->a, 16);
	return k;
}

static int write_svcs(struct dp *dp, const struct dp_policy *p, __u32 gen)
{
	struct xcrs_svc_entry e;
	char t[64];
	int r;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct dp_service_rule *ri = &p->rules[i];
		struct xcrs_lpm_key k;

		if (!first_of_prefix(p, i))
			continue; /* one entry per distinct prefix */
		r = build_svc_entry(dp, p, ri, &e);
		if (r)
			return r;
		k = lpm_key(gen, &ri->addr, ri->plen);
		if (bpf_map_update_elem(dp->fds[M_SVCS], &k, &e, BPF_ANY)) {
			addr_prefix_format(&ri->addr, ri->plen, t, sizeof(t));
			return map_write_fail(dp, M_SVCS, -errno, t);
		}
	}
	return 0;
}

static int write_pools(struct dp *dp, const struct dp_policy *p, __u32 gen)
{
	char t[64];

	for (size_t i = 0; i < p->npools; i++) {
		const struct dp_pool *pl = &p->pools[i];
		struct xcrs_lpm_key k = lpm_key(gen, &pl->addr, pl->plen);
		struct xcrs_pool v = { .scope = pl->never ? 0 : pl->scope,
				       .level = pl->level };

		if (bpf_map_update_elem(dp->fds[M_POOLS], &k, &v, BPF_ANY)) {
			addr_prefix_format(&pl->addr, pl->plen, t, sizeof(t));
			return map_write_fail(dp, M_POOLS, -errno, t);
		}
	}
	return 0;
}

int dp_policy_generation(struct dp *dp, __u32 *ret_gen)
{
	__u32 k = 0, g;

	if (bpf_map_lookup_elem(dp->fds[M_GEN], &k, &g))
		return dp_fail(dp, -errno, "reading the policy generation");
	*ret_gen = g & 1;
	return dp_ok(dp);
}

int dp_policy_apply(struct dp *dp, const struct dp_policy *p)
{
	__u32 cur, next, k = 0;
	int lock, r;

	r = validate_policy(dp, p);
	if (r)
		return r;
	lock = lock_pins(dp);
	if (dp->pin_dir && lock < 0)
		return lock;
	r = dp_policy_generation(dp, &cur);
	if (r)
		goto out;
	next = cur ^ 1;
	/* A packet that read the generation before the last flip may still be
	 * looking at `next`: let it finish before we overwrite it. */
	r = rcu_sync(dp);
	if (r)
		goto out;
	r = lpm_clear_gen(dp, M_SVCS, next);
	if (!r)
		r = lpm_clear_gen(dp, M_POOLS, next);
	if (r)
		goto out;
	for (unsigned i = 0; i < XCRS_LEVELS_MAX; i++) {
		struct xcrs_level lv = {};
		__u32 slot = next * XCRS_LEVELS_MAX + i;

		if (i < p->nlevels) {
			lv = p->levels[i];
			lv.flags |= XCRS_LEVEL_F_DEFINED;
		}
		if (bpf_map_update_elem(dp->fds[M_LEVELS], &slot, &lv, 0)) {
			r = dp_fail(dp, -errno, "writing level %u", i);
			goto undo;
		}
	}
	r = write_svcs(dp, p, next);
	if (!r)
		r = write_pools(dp, p, next);
	if (r)
		goto undo;
	{
		/* A new epoch: the service-class caches start empty for it. */
		struct xcrs_cfg old = {}, c = p->cfg;

		bpf_map_lookup_elem(dp->fds[M_CFG], &cur, &old);
		c.epoch = old.epoch + 1 ? old.epoch + 1 : 1;
		memset(c.pad, 0, sizeof(c.pad));
		if (bpf_map_update_elem(dp->fds[M_CFG], &next, &c, 0)) {
			r = dp_fail(dp, -errno, "writing the policy settings");
			goto undo;
		}
	}
	if (bpf_map_update_elem(dp->fds[M_GEN], &k, &next, 0)) {
		r = dp_fail(dp, -errno, "switching to the new policy");
		goto undo;
	}
	/* The old generation is unreachable once running programs finish:
	 * free its entries so the maps hold one policy at rest. */
	if (!rcu_sync(dp)) {
		lpm_clear_gen(dp, M_SVCS, cur);
		lpm_clear_gen(dp, M_POOLS, cur);
	}
	{
		size_t n = 0;
		struct dp_pool *nv;

		for (size_t i = 0; i < p->npools; i++)
			n += p->pools[i].never;
		nv = calloc(n ? n : 1, sizeof(*nv));
		if (nv) {
			n = 0;
			for (size_t i = 0; i < p->npools; i++)
				if (p->pools[i].never)
					nv[n++] = p->pools[i];
			free(dp->never);
			dp->never = nv;
			dp->nnever = n;
		}
	}
	dp->reacted_levels = 0;
	for (unsigned i = 0; i < p->nlevels; i++)
		if (p->levels[i].flags & XCRS_LEVEL_F_REACTED)
			dp->reacted_levels |= 1u << i;
	unlock_pins(lock);
	log_debug("policy generation %u active: %u levels, %zu service rules, "
		  "%zu pools",
		  next, p->nlevels, p->nrules, p->npools);
	return dp_ok(dp);

undo:
	{
		/* The running generation was never touched; drop the partial
		 * one, keeping the first error's message. */
		char msg[sizeof(dp->err)];

		memcpy(msg, dp->err, sizeof(msg));
		lpm_clear_gen(dp, M_SVCS, next);
		lpm_clear_gen(dp, M_POOLS, next);
		memcpy(dp->err, msg, sizeof(msg));
	}
out:
	unlock_pins(lock);
	return r;
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
static void subset_bump(struct dp *dp)
{
	__u32 k = XCRS_GEN_SLOT_SUBSET, v = ++dp->subset;

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

int dp_sub_set(struct dp *dp, const struct xcrs_addr *a,
	       const struct xcrs_sub *s)
{
	char t[INET6_ADDRSTRLEN];
	struct xcrs_sub v, old;
	bool fresh = false, exists;

	dp_addr_format(a, t, sizeof(t));
	if (s->level >= XCRS_LEVELS_MAX ||
	    (s->base_level >= XCRS_LEVELS_MAX &&
	     !(s->base_level == XCRS_SUB_BASE_NONE && s->expires_ns)))
		return dp_fail(dp, -EINVAL, "subscriber %s: level %u/%u out of "
			       "range", t, s->level, s->base_level);
	for (size_t i = 0; i < dp->nnever; i++)
		if (addr_prefix_contains(&dp->never[i].addr, dp->never[i].plen,
					 a, 128)) {
			char pf[64];

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
	/* A host keeps its counter slot for as long as it has an entry; a
	 * host at a reacted level (now or after expiry) gets one. */
	exists = !bpf_map_lookup_elem(dp->fds[M_SUBS], a, &old);
	if (exists && old.stats_slot < dp->nslots)
		v.stats_slot = old.stats_slot;
	if (!v.stats_slot && level_reacted(dp, s->level, s->base_level)) {
		v.stats_slot = slot_alloc(dp);
		fresh = v.stats_slot != 0;
		if (!fresh && !dp->slots_warned) {
			log_warn("all %u per-subscriber counter slots are in use: "
				 "%s and later reacted subscribers are enforced "
				 "but not counted one by one (raise max_tracked)",
				 dp->nslots - 1, t);
			dp->slots_warned = true;
		}
	}
	if (bpf_map_update_elem(dp->fds[M_SUBS], a, &v, BPF_ANY)) {
		int r = -errno;

		if (fresh)
			slot_free(dp, v.stats_slot);
		return map_write_fail(dp, M_SUBS, r, t);
	}
	if (!exists) {
		dp->nsubs++;
		subset_bump(dp);
	}
	return dp_ok(dp);
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

static int rt_write(struct dp *dp)
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

/* ---- decisions on prefixes ---- */

static int prefix_key(struct dp *dp, const struct xcrs_addr *a, unsigned plen,
		      struct xcrs_prefix_key *k, char *t, size_t tlen)
{
	struct xcrs_addr m = *a;

	addr_prefix_format(a, plen, t, tlen);
	if (plen > 128)
		return dp_fail(dp, -EINVAL, "prefix %s: length", t);
	addr_mask(&m, plen);
	if (memcmp(&m, a, sizeof(m)))
		return dp_fail(dp, -EINVAL, "prefix %s: host bits set", t);
	k->prefixlen = plen;
	memcpy(k->addr, a->a, 16);
	return 0;
}

int dp_prefix_set(struct dp *dp, const struct xcrs_addr *a, unsigned plen,
		  const struct xcrs_sub *s)
{
	struct xcrs_prefix_key k;
	struct xcrs_sub v = *s, old;
	char t[64];
	bool exists;
	int r = prefix_key(dp, a, plen, &k, t, sizeof(t));

	if (r)
		return r;
	if (s->level >= XCRS_LEVELS_MAX ||
	    (s->base_level >= XCRS_LEVELS_MAX &&
	     !(s->base_level == XCRS_SUB_BASE_NONE && s->expires_ns)))
		return dp_fail(dp, -EINVAL, "prefix %s: level %u/%u out of "
			       "range", t, s->level, s->base_level);
	for (size_t i = 0; i < dp->nnever; i++) {
		const struct dp_pool *n = &dp->never[i];

		if (addr_prefix_contains(&n->addr, n->plen, a, plen) ||
		    addr_prefix_contains(a, plen, &n->addr, n->plen)) {
			char pf[64];

			addr_prefix_format(&n->addr, n->plen, pf, sizeof(pf));
			return dp_fail(dp, -EPERM, "prefix %s: overlaps "
				       "never-react prefix %s", t, pf);
		}
	}
	v.stats_slot = 0;
	v.pad2 = 0;
	exists = !bpf_map_lookup_elem(dp->fds[M_PREFIXES], &k, &old);
	if (bpf_map_update_elem(dp->fds[M_PREFIXES], &k, &v, BPF_ANY))
		return map_write_fail(dp, M_PREFIXES, -errno, t);
	if (!exists)
		subset_bump(dp);
	if (!exists && dp->nprefixes++ == 0 && (r = rt_write(dp)))
		return r;
	return dp_ok(dp);
}

int dp_prefix_get(struct dp *dp, const struct xcrs_addr *a, unsigned plen,
		  struct xcrs_sub *ret_sub)
{
	struct xcrs_prefix_key k;
	struct xcrs_sub v;
	char t[64];
	int r = prefix_key(dp, a, plen, &k, t, sizeof(t));

	if (r)
		return r;
	if (bpf_map_lookup_elem(dp->fds[M_PREFIXES], &k, &v))
		return dp_fail(dp, -errno, "prefix %s", t);
	*ret_sub = v;
	return dp_ok(dp);
}

int dp_prefix_del(struct dp *dp, const struct xcrs_addr *a, unsigned plen)
{
	struct xcrs_prefix_key k;
	char t[64];
	int r = prefix_key(dp, a, plen, &k, t, sizeof(t));

	if (r)
		return r;
	if (bpf_map_delete_elem(dp->fds[M_PREFIXES], &k))
		return dp_fail(dp, -errno, "removing prefix %s", t);
	subset_bump(dp);
	if (dp->nprefixes && --dp->nprefixes == 0 && (r = rt_write(dp)))
		return r;
	return dp_ok(dp);
}

int dp_prefix_each(struct dp *dp,
		   void (*fn)(void *ctx, const struct xcrs_addr *a,
			      unsigned plen, const struct xcrs_sub *s),
		   void *ctx)
{
	struct xcrs_prefix_key k, next;
	struct xcrs_sub v;
	int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(dp->fds[M_PREFIXES], prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(dp->fds[M_PREFIXES], &k, &v))
			continue;
		{
			struct xcrs_addr a;

			memcpy(a.a, k.addr, 16);
			fn(ctx, &a, k.prefixlen, &v);
		}
		n++;
	}
	return n;
}

int dp_runtime_get(struct dp *dp, __u32 *ret_flags)
{
	__u32 k = XCRS_GEN_SLOT_RUNTIME, v;

	if (bpf_map_lookup_elem(dp->fds[M_GEN], &k, &v))
		return dp_fail(dp, -errno, "reading the run-time flags");
	*ret_flags = v;
	return dp_ok(dp);
}

__u64 dp_slots_used(const struct dp *dp, __u64 *ret_capacity)
{
	__u64 used = 0;

	for (__u32 s = 1; s < dp->nslots; s++)
		used += slot_taken(dp, s);
	if (ret_capacity)
		*ret_capacity = dp->nslots - 1;
	return used;
}

__u64 dp_subs_count(const struct dp *dp, __u64 *ret_capacity)
{
	if (ret_capacity)
		*ret_capacity = dp->max[M_SUBS];
	return dp->nsubs;
}

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
			f->entries = dp->nsubs;
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

int dp_scope_set(struct dp *dp, __u32 scope, const struct xcrs_scope *sc)
{
	if (!scope)
		return dp_fail(dp, -EINVAL, "scope id 0 means no scope");
	if (sc->mode >= XCRS_CONTAIN_MAX)
		return dp_fail(dp, -EINVAL, "scope %u: unknown containment %u",
			       scope, sc->mode);
	if (sc->mode == XCRS_CONTAIN_NONE) {
		if (bpf_map_delete_elem(dp->fds[M_SCOPES], &scope) &&
		    errno != ENOENT)
			return dp_fail(dp, -errno, "releasing scope %u", scope);
		return dp_ok(dp);
	}
	if (bpf_map_update_elem(dp->fds[M_SCOPES], &scope, sc, BPF_ANY)) {
		char t[32];

		snprintf(t, sizeof(t), "scope %u", scope);
		return map_write_fail(dp, M_SCOPES, -errno, t);
	}
	return dp_ok(dp);
}

int dp_scope_get(struct dp *dp, __u32 scope, struct xcrs_scope *ret_scope)
{
	struct xcrs_scope sc;

	if (bpf_map_lookup_elem(dp->fds[M_SCOPES], &scope, &sc)) {
		if (errno != ENOENT)
			return dp_fail(dp, -errno, "reading scope %u", scope);
		memset(&sc, 0, sizeof(sc));
	}
	*ret_scope = sc;
	return dp_ok(dp);
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

	if (bpf_map_lookup_elem(dp->fds[M_SUBS], a, &s) || !s.stats_slot ||
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
