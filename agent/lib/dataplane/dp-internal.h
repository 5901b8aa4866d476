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
#include <xdp/libxdp.h>

#include "addr.h"
#include "dataplane.h"
#include "log.h"
#include "xcrs.skel.h"

#define XCRS_PROG_NAME "xcrs_xdp"
/* Where xcrs runs among the programs of a libxdp dispatcher (lower runs
 * first; libxdp's default is 50, xdp-filter's 10): after the others, so
 * that its XDP_REDIRECT of spread G-PDUs (which ends the chain) skips
 * none of them, and none of its drops depend on what runs before. */
#define XCRS_DISPATCH_PRIO 60
#define XCRS_DISPATCH_MAX 10 /* libxdp's MAX_DISPATCHER_ACTIONS */

/* The maps shared by every program instance (xcrs_abi.h's XCRS_MAPS). */
enum dp_map {
#define X(id, name, role, fill, key) M_##id,
	XCRS_MAPS(X)
#undef X
	M_COUNT
};

/* "xcrs_sub4", ...; what the operator calls each map in an error. */
extern const char *const map_names[M_COUNT];
extern const char *const map_roles[M_COUNT];

struct dp_attachment {
	char ifname[IF_NAMESIZE];
	struct xcrs_bpf *skel; /* the program instance the link runs */
	int link_fd;		/* the BPF link, or -1 in a dispatcher */
	struct xdp_program *xp; /* the program in libxdp's dispatcher */
};

struct dp {
	struct dp_config cfg;
	char *pin_dir;
	int fds[M_COUNT];
	__u32 max[M_COUNT];
	bool reused;
	int reopen_kept; /* dp_reopen_kept() */
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
	 * slot 0 never given; their owners are kept in xcrs_slot_owners
	 * (read back, and checked, when the maps are reused). */
	__u64 *slot_used;
	__u32 nslots, slot_hint;
	bool slots_warned;
	/* host entries, by map: [m - M_SUB4] for M_SUB4, M_SUB64, M_SUB6 */
	__u64 nsubs[3];
	__u64 nsubs_kept[3]; /* as xcrs_slot_owners[0] holds them */
	/* the active policy's never-react prefixes */
	struct dp_pool *never;
	size_t nnever;
	/* run-time flags: failing closed (agent), prefix decisions held */
	bool rt_full;
	__u64 nprefixes;
	__u32 subset; /* xcrs_gen[XCRS_GEN_SLOT_SUBSET], this process writes */
	bool batch, subset_pending; /* dp_batch */
	/* Levels flagged XCRS_LEVEL_F_REACTED in the active policy: only
	 * host entries at such a level (or base level) get a slot. */
	__u32 reacted_levels;
	/* libxdp's dispatcher: 0 not probed yet, 1 usable, -1 not (why) */
	int disp_state;
	char disp_why[160];
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
int slots_init(struct dp *dp, bool reused_subs, bool owners_new);
/* Writes dp->nsubs[] to xcrs_slot_owners[0] where it changed. */
void counts_keep(struct dp *dp);
/* A pinned xcrs_subs of ABI version 1 (one map, 24-byte values) copied
 * into the host maps, which are new: 0, or -errno. */
int subs_migrate(struct dp *dp, int legacy_fd);
/* a's host entry: 0, or -errno (-ENOENT: none). dp->err untouched. */
int sub_read(struct dp *dp, const struct xcrs_addr *a, struct xcrs_sub *ret);
bool slot_taken(const struct dp *dp, __u32 slot);
int read_reacted_levels(struct dp *dp);
void subset_bump(struct dp *dp);
int rt_write(struct dp *dp);

/* dp-dispatch.c */
bool disp_usable(struct dp *dp);
const char *disp_why(const struct dp *dp);
/* The interface's XDP program: 0 none, 1 a libxdp dispatcher (*ret_mp,
 * the caller closes it), 2 another program alone, or -errno. */
int disp_find(struct dp *dp, const char *ifname, int ifindex,
	      struct xdp_multiprog **ret_mp);
int disp_count_xcrs(struct xdp_multiprog *mp);
/* Adds instance s (opened, not loaded: libxdp loads it) to the
 * interface's dispatcher (made when there is none). After a failure s
 * is spent (loaded against a dispatcher that is gone): open another. */
int disp_attach(struct dp *dp, const char *ifname, int ifindex,
		struct xcrs_bpf *s, enum dp_xdp_mode mode,
		struct xdp_program **ret_xp);
/* Removes every xcrs program but keep_id (0: all) from the interface's
 * dispatcher: how many, or -errno. */
int disp_detach_xcrs(struct dp *dp, const char *ifname, int ifindex,
		     __u32 keep_id);
__u32 disp_prog_id(struct xdp_program *xp);
void disp_close(struct xdp_program *xp);
void disp_log_hook(void);

#endif
