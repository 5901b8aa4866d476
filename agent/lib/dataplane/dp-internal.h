/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dataplane library's own state, shared by its files (one per map
 * family: dp-open.c the maps and pins, dp-attach.c interfaces and program
 * instances, dp-tables.c the policy generations, dp-subs.c subscriber hosts,
 * counter slots and MS presence, dp-prefixes.c prefix decisions, scopes and
 * run-time flags, dp-stats.c statistics, fill and events). Not an
 * interface: the library's is dataplane.h. Helpers return what the public
 * calls return (0 or -errno, with dp->err set by dp_fail).
 */
#ifndef XCRS_DP_INTERNAL_H
#define XCRS_DP_INTERNAL_H

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

#define XCRS_PROG_NAME "xcrs_xdp"

/* The maps shared by every program instance (xcrs_abi.h's XCRS_MAPS). */
enum dp_map {
#define X(id, name, role, fill, key) M_##id,
	XCRS_MAPS(X)
#undef X
	M_COUNT
};

/* "xcrs_subs", ...; what the operator calls each map in an error. */
extern const char *const map_names[M_COUNT];
extern const char *const map_roles[M_COUNT];

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

/* dp-open.c */
int dp_fail(struct dp *dp, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int dp_ok(struct dp *dp);
int map_write_fail(struct dp *dp, enum dp_map m, int r, const char *what);
struct bpf_map *skel_map(struct xcrs_bpf *s, enum dp_map m);
void pin_path(const struct dp *dp, enum dp_map m, char *buf, size_t len);
int open_instance(struct dp *dp, enum xcrs_role role, bool gtpu,
		  struct xcrs_bpf **ret_skel);
int load_instance(struct dp *dp, struct xcrs_bpf *s);
int rcu_sync(struct dp *dp);
/* An flock on the pin directory while a policy is applied: the fd, or
 * -errno. */
int lock_pins(struct dp *dp);
void unlock_pins(int fd);
__u64 count_keys(struct dp *dp, enum dp_map m, size_t key_size);
/* dp-subs.c */
int slots_init(struct dp *dp, bool reused_subs);
bool slot_taken(const struct dp *dp, __u32 slot);
int read_reacted_levels(struct dp *dp);
void subset_bump(struct dp *dp);
int rt_write(struct dp *dp);

#endif
