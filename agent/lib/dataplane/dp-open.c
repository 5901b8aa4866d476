// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dataplane library (see dataplane.h): The maps: created or reused from the pin directory (sized by the
 * configuration or adopting the pinned size), locked, and the library's
 * handle around them.
 */
#include "dp-internal.h"

/* The ABI's layouts, as the BPF side compiles them (no implicit padding). */
_Static_assert(sizeof(struct xcrs_addr) == 16, "ABI: xcrs_addr");
_Static_assert(sizeof(struct xcrs_lpm_key) == 24, "ABI: xcrs_lpm_key");
_Static_assert(sizeof(struct xcrs_sub) == 24, "ABI: xcrs_sub");
_Static_assert(sizeof(struct xcrs_sub_ent) == 16, "ABI: xcrs_sub_ent");
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

const char *const map_names[M_COUNT] = {
#define X(id, name, role, fill, key) [M_##id] = #name,
	XCRS_MAPS(X)
#undef X
};

/* What the operator calls each map in an error. */
const char *const map_roles[M_COUNT] = {
#define X(id, name, role, fill, key) [M_##id] = role,
	XCRS_MAPS(X)
#undef X
};

int dp_fail(struct dp *dp, int r, const char *fmt, ...)
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

int dp_ok(struct dp *dp)
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

int dp_reopen_kept(const struct dp *dp)
{
	return dp->reopen_kept;
}

/* Translates a failed map write into operator language. */
int map_write_fail(struct dp *dp, enum dp_map m, int r,
			  const char *what)
{
	if (r == -E2BIG || r == -ENOMEM || r == -ENOSPC)
		return dp_fail(dp, -E2BIG, "%s full (%u entries): cannot add %s",
			       map_roles[m], dp->max[m], what);
	return dp_fail(dp, r, "writing %s to %s", what, map_roles[m]);
}

struct bpf_map *skel_map(struct xcrs_bpf *s, enum dp_map m)
{
	struct bpf_map *const maps[M_COUNT] = {
#define X(id, name, role, fill, key) [M_##id] = s->maps.name,
		XCRS_MAPS(X)
#undef X
	};

	return maps[m];
}

void pin_path(const struct dp *dp, enum dp_map m, char *buf,
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

	dp->max[M_SUB4] = or_default(c->max_subs, 65536);
	dp->max[M_SUB64] = or_default(c->max_subs6, 65536);
	dp->max[M_SUB6] = or_default(c->max_hosts6, 65536);
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
	dp->max[M_SLOT_OWNERS] = dp->max[M_SUB_STATS];
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
	case M_SUB4:
		return !c->max_subs;
	case M_SUB64:
		return !c->max_subs6;
	case M_SUB6:
		return !c->max_hosts6;
	case M_POOLS:
		return !c->max_pools;
	case M_SVCS:
		return !c->max_svc_prefixes;
	case M_SCOPES:
		return !c->max_scopes;
	case M_PREFIXES:
		return !c->max_prefixes;
	case M_SUB_STATS:
	case M_SLOT_OWNERS:
	case M_RATE:
	case M_FANOUT:
	case M_SEEN:
		return !c->max_tracked;
	default:
		return false;
	}
}

/* Opens a skeleton whose maps are dp's; rodata set for role/gtpu. */
int open_instance(struct dp *dp, enum xcrs_role role, bool gtpu,
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
	disp_log_hook();
}

int load_instance(struct dp *dp, struct xcrs_bpf *s)
{
	int prev, r;

	/* The second stage of spread G-PDUs is loaded only where spreading
	 * is on: the verifier's work (and a start's time) halves without. */
	if (!s->rodata->xcrs_spread_n)
		bpf_program__set_autoload(s->progs.xcrs_xdp_cpumap, false);
	prev = log_lib_silence();
	r = xcrs_bpf__load(s);

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

int dp_pin_dir_check(const char *dir, char *err, size_t errlen)
{
	struct dp *tmp = calloc(1, sizeof(*tmp));
	int r;

	if (!tmp)
		return -ENOMEM;
	r = check_bpffs(tmp, dir);
	if (r && err && errlen)
		snprintf(err, errlen, "%s", tmp->err);
	free(tmp);
	return r;
}

/* Holds an exclusive flock on the pin directory: every writer of pinned
 * state takes it, so two agents never interleave. Returns the fd. */
int lock_pins(struct dp *dp)
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

void unlock_pins(int fd)
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
int rcu_sync(struct dp *dp)
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
__u64 count_keys(struct dp *dp, enum dp_map m, size_t key_size)
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

/* Opens <pin_dir>/xcrs_subs, the subscriber map of ABI version 1, if it is
 * there (*ret_fd -1 if not), and sizes the host maps that are not
 * configured as it is. */
static int legacy_open(struct dp *dp, int *ret_fd)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	char path[PATH_MAX];
	int fd;

	*ret_fd = -1;
	snprintf(path, sizeof(path), "%s/xcrs_subs", dp->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 :
		       dp_fail(dp, -errno, "opening pinned map %s", path);
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen) ||
	    info.type != BPF_MAP_TYPE_HASH ||
	    info.key_size != sizeof(struct xcrs_addr) ||
	    info.value_size != sizeof(struct xcrs_sub)) {
		close(fd);
		return dp_fail(dp, -EINVAL,
			       "pinned map %s is not the subscriber map of "
			       "xcrs 1: remove %s to recreate it",
			       path, dp->pin_dir);
	}
	if (adopt_size(dp, M_SUB4))
		dp->max[M_SUB4] = info.max_entries;
	if (adopt_size(dp, M_SUB64))
		dp->max[M_SUB64] = info.max_entries;
	if (adopt_size(dp, M_SUB6))
		dp->max[M_SUB6] = info.max_entries;
	*ret_fd = fd;
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
	int lock = -1, legacy_fd = -1, r, found = 0;
	bool made_dir = false, subs_new;

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

	if (dp->max[M_SCOPES] > XCRS_SCOPE_ID_MAX + 1) {
		r = dp_fail(dp, -EINVAL, "%u scopes asked for, at most %u",
			    dp->max[M_SCOPES], XCRS_SCOPE_ID_MAX + 1);
		goto fail;
	}
	/* The subscriber map of ABI version 1 (before the split by family):
	 * migrated once the new maps exist, sized as it was where no size
	 * is configured. */
	if (dp->pin_dir) {
		r = legacy_open(dp, &legacy_fd);
		if (r)
			goto fail;
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
	subs_new = created[M_SUB4] && created[M_SUB64] && created[M_SUB6];
	if (legacy_fd >= 0 && !subs_new) {
		/* an interrupted migration: the new maps are the truth */
		close(legacy_fd);
		legacy_fd = -1;
	}
	r = slots_init(dp, !subs_new, created[M_SLOT_OWNERS]);
	if (!r && legacy_fd >= 0) {
		r = subs_migrate(dp, legacy_fd);
		if (!r) {
			snprintf(path, sizeof(path), "%s/xcrs_subs",
				 dp->pin_dir);
			if (unlink(path))
				log_warn("dataplane: removing %s after its "
					 "migration: %s", path,
					 strerror(errno));
			log_info("dataplane: %llu IPv4, %llu IPv6 /64 and "
				 "%llu IPv6 host entries migrated from %s (ABI "
				 "version 1) to xcrs_sub4, xcrs_sub64 and "
				 "xcrs_sub6",
				 (unsigned long long)dp->nsubs[0],
				 (unsigned long long)dp->nsubs[1],
				 (unsigned long long)dp->nsubs[2], path);
		}
	}
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
	if (legacy_fd >= 0)
		close(legacy_fd);
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
	if (legacy_fd >= 0)
		close(legacy_fd);
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
		if (dp->att[i].link_fd >= 0)
			close(dp->att[i].link_fd);
		disp_close(dp->att[i].xp); /* the dispatcher keeps it */
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
	for (int m = 0; m <= M_COUNT; m++) {
		if (m < M_COUNT)
			pin_path(dp, m, path, sizeof(path));
		else /* ABI version 1's subscriber map, not migrated */
			snprintf(path, sizeof(path), "%s/xcrs_subs",
				 dp->pin_dir);
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
