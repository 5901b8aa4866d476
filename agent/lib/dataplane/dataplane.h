/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dataplane control library: the only code that loads the XDP program,
 * attaches it, and reads or writes its maps. Everything above it (agent,
 * xcrsctl, tests) goes through these calls.
 *
 * Every function returning int returns 0 (or a count) on success and a
 * negative errno on failure; dp_errmsg() then names the interface, map or
 * file at fault. Out-parameters (ret_*) are written only on success.
 */
#ifndef XCRS_DATAPLANE_H
#define XCRS_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "abinames.h"
#include "xcrs_abi.h"

#define DP_PIN_DIR_DEFAULT "/sys/fs/bpf/xcrs"

struct dp;

struct dp_config {
	/* bpffs directory for the maps; NULL keeps them private to this
	 * process (tests). */
	const char *pin_dir;
	/* Map sizes; 0 takes the size of the pinned map if there is one,
	 * else the default given in brackets. Pinned maps keep the size
	 * they were created with: a different size given here is an
	 * error. */
	__u32 max_subs;		/* IPv4 subscriber hosts [65536] */
	__u32 max_subs6;	/* IPv6 subscribers: /64s [65536] */
	__u32 max_hosts6;	/* IPv6 hosts (entries of one address)
				 * [65536] */
	__u32 max_pools;	/* address pools per policy [1024] */
	__u32 max_svc_prefixes; /* service prefixes per policy [8192] */
	__u32 max_scopes;	/* scopes with containment [4096] */
	__u32 max_tracked;	/* rate, fan-out and MS presence state (LRU),
				 * and per-subscriber counter slots [65536] */
	__u32 max_prefixes;	/* decisions on prefixes [1024] */
};

/* Opens the dataplane: reuses the maps pinned under cfg->pin_dir, creating
 * (and pinning) those that are missing. Nothing is attached. On failure the
 * message goes to errbuf (if not NULL) and nothing stays pinned that the
 * call pinned. */
int dp_open(const struct dp_config *cfg, struct dp **ret_dp, char *errbuf,
	    size_t errlen);
/* Releases this process's handles; attached programs and pinned maps stay. */
void dp_close(struct dp *dp);
/* The message of the last failed call, or "" after a success. */
const char *dp_errmsg(const struct dp *dp);
/* Routes libbpf's output through the logger (common/log.h), one level down:
 * its warnings show with -v, the rest with -vv. */
void dp_log_hook(void);
/* True if dp_open found the maps already pinned (state from an earlier
 * process). */
bool dp_reused_pins(const struct dp *dp);
/* How dp_open learned the reused subscriber maps' counts and counter
 * slots: 1 from xcrs_slot_owners (the records the library keeps, each
 * checked against its entry: a reopen reads no host entry but those),
 * 0 by reading every entry (maps pinned by a version that kept no
 * records), -1 the maps were new. */
int dp_reopen_kept(const struct dp *dp);
/* Unpins every map under the pin directory and removes it (a full
 * teardown; enforcement of attached programs continues until detach). */
int dp_unpin(struct dp *dp);
/* Whether dir can be a pin directory (its parent on a bpf filesystem), as
 * dp_open checks it: 0, or -errno with the reason in err. */
int dp_pin_dir_check(const char *dir, char *err, size_t errlen);

/* Addresses. Text forms are IPv4 dotted quad or IPv6; both are stored as
 * 16-byte IPv6 (IPv4-mapped). Prefix lengths are always of the 128-bit
 * form: an IPv4 /24 is 120. */
int dp_addr_parse(const char *s, struct xcrs_addr *ret_addr);
int dp_prefix_parse(const char *s, struct xcrs_addr *ret_addr,
		    unsigned *ret_plen);
/* Writes the text form (IPv4 for mapped addresses); len >= 46. */
void dp_addr_format(const struct xcrs_addr *a, char *buf, size_t len);
bool dp_addr_is_v4(const struct xcrs_addr *a);

enum dp_xdp_mode {
	DP_MODE_NATIVE = 0, /* driver mode */
	DP_MODE_SKB,	    /* generic mode */
};

/* How xcrs goes onto an interface: a BPF link of its own (pinned; the
 * next version swaps the program in place), or libxdp's dispatcher (it
 * shares the interface with other XDP programs; the next version joins
 * it, then the old one leaves). AUTO: the dispatcher where it works (the
 * kernel allows freplace, the process has CAP_SYS_ADMIN), else a link.
 * An interface xcrs holds by a link stays on it. */
enum dp_attach_via { DP_VIA_AUTO = 0, DP_VIA_LINK, DP_VIA_DISPATCHER };

struct dp_attach_opts {
	enum xcrs_role role;
	enum dp_xdp_mode mode;
	enum dp_attach_via via;
	bool allow_fallback; /* native failed → try generic */
	bool no_gtpu;	     /* do not decapsulate UDP/2152 */
	/* spread G-PDUs over CPUs through a cpumap (by TEID or inner
	 * address); the CPUs (ids), or none for every online CPU */
	enum xcrs_spread spread;
	const unsigned *spread_cpus;
	unsigned nspread_cpus;
};

/* Attaches a program instance to ifname (opts->via): through a BPF link
 * pinned as <pin_dir>/link_<ifname>, or into libxdp's dispatcher (its
 * pins under /sys/fs/bpf/xdp). The program stays attached after this
 * process exits. Where xcrs is attached already, the new program takes
 * the old one's place with no moment without either. */
int dp_attach(struct dp *dp, const char *ifname,
	      const struct dp_attach_opts *opts);
/* Detaches xcrs from ifname (other XDP programs stay). -ENOENT if it is
 * not attached there. */
int dp_detach(struct dp *dp, const char *ifname);
/* Whether xcrs is attached to ifname: 1 yes, 0 no, or -errno. */
int dp_attached(struct dp *dp, const char *ifname);
/* How: DP_VIA_LINK, DP_VIA_DISPATCHER, 0 not attached, or -errno. */
int dp_attached_via(struct dp *dp, const char *ifname);
/* Whether libxdp's dispatcher can be used here (probed once: freplace in
 * this kernel, CAP_SYS_ADMIN); if not, *ret_why says why. */
int dp_dispatcher_usable(struct dp *dp, const char **ret_why);
/* A loaded, unattached instance of the program for the role, sharing this
 * dataplane's maps: for BPF_PROG_TEST_RUN and benchmarks. The fd belongs to
 * dp. */
int dp_prog_fd(struct dp *dp, enum xcrs_role role, bool gtpu);

/* One service rule: peers in addr/plen (128-bit form), protocol (0 = any)
 * and peer port range are service class svc (0..62). */
struct dp_service_rule {
	struct xcrs_addr addr;
	unsigned plen;
	__u8 proto;
	__u8 svc;
	__u16 port_lo, port_hi;
};

struct dp_pool {
	struct xcrs_addr addr;
	unsigned plen;
	__u32 scope;
	__u8 level;
	/* never to be reacted to: written with scope 0 (never contained),
	 * and the library refuses host entries inside it (-EPERM) */
	bool never;
	/* the RAN's prefix (XCRS_POOL_F_RAN): scope 0, level unused */
	bool ran;
};

/* Everything that must change together. Levels 0..nlevels-1 are defined;
 * the library sets XCRS_LEVEL_F_DEFINED itself. Rules earlier in the array
 * win over later ones for the same prefix; more specific prefixes win
 * over less specific ones. */
struct dp_policy {
	struct xcrs_level levels[XCRS_LEVELS_MAX];
	unsigned nlevels;
	const struct dp_service_rule *rules;
	size_t nrules;
	const struct dp_pool *pools;
	size_t npools;
	struct xcrs_cfg cfg;
};

/* Replaces levels, service rules, pools and settings as one atomic change:
 * the new set is written beside the running one and a generation index
 * flips. Packets see the old set or the new one, never a mix. On failure
 * the running set stays. */
int dp_policy_apply(struct dp *dp, const struct dp_policy *p);
/* What dp_policy_apply() would refuse, without changing anything. */
int dp_policy_check(struct dp *dp, const struct dp_policy *p);
/* The active generation (0 or 1). */
int dp_policy_generation(struct dp *dp, __u32 *ret_gen);

/* Subscriber hosts. expires_ns is CLOCK_MONOTONIC (dp_now_ns()); at that
 * time (read from the coarse clock: up to one tick later) the dataplane
 * applies base_level by itself, or, for base_level XCRS_SUB_BASE_NONE,
 * treats the address as if it had no entry. s->stats_slot is ignored:
 * the library gives a host whose level or base level is reacted in the
 * active policy a per-subscriber counter slot (while max_tracked last;
 * past that it is enforced, not counted, and a warning is logged once),
 * and the host keeps it until dp_sub_del(). This process must be the only
 * one writing subscriber hosts to the maps. */
int dp_sub_set(struct dp *dp, const struct xcrs_addr *a,
	       const struct xcrs_sub *s);
/* -EPERM from dp_sub_set: a is inside a pool marked never. */
/* dp_sub_set() for n hosts a[i] with entries s[i]. Into an empty map
 * (a fresh start, a load) the entries without a counter slot are written
 * in batches (bpf_map_update_batch: one system call per 8192 instead of
 * one each); otherwise one by one. Stops at the first entry refused;
 * *ret_done (may be NULL) is how many, from the start, are written, and
 * nothing after them is. */
int dp_sub_set_many(struct dp *dp, const struct xcrs_addr *a,
		    const struct xcrs_sub *s, size_t n, size_t *ret_done);
int dp_sub_get(struct dp *dp, const struct xcrs_addr *a,
	       struct xcrs_sub *ret_sub);
int dp_sub_del(struct dp *dp, const struct xcrs_addr *a);
/* Calls fn for every host entry of the subscriber maps (read in batches);
 * how many, or -errno. */
int dp_sub_each(struct dp *dp,
		void (*fn)(void *ctx, const struct xcrs_addr *a,
			   const struct xcrs_sub *s),
		void *ctx);
/* The same walk in steps, for a caller that must not stop for 10M
 * entries at once: a zeroed cursor starts it (its fields are the
 * library's). Calls fn for at most max entries from where c stopped
 * (fewer where a kernel hash bucket would not fit; more only when the next
 * bucket alone holds more than max: up to 8192); returns how many it
 * visited, 0 when the walk is over (and at every later call), or -errno.
 * Entries written or removed between two steps may be visited twice or
 * not at all. */
struct dp_sub_cursor {
	int map;
	bool started, done;
	__u8 token[16];
};
int dp_sub_each_step(struct dp *dp, struct dp_sub_cursor *c, size_t max,
		     void (*fn)(void *ctx, const struct xcrs_addr *a,
				const struct xcrs_sub *s),
		     void *ctx);
/* Between dp_batch(dp, true) and dp_batch(dp, false), the programs' note
 * that the set of subscriber addresses changed (their GTP-U outer-address
 * caches start over) is written once, at the end, instead of after every
 * new or removed entry. End a batch before the changes must be seen. */
void dp_batch(struct dp *dp, bool on);

/* MSs the access side has seen (settings flag XCRS_CFG_F_MS_DETECT): the
 * first packet of one not in the map is a XCRS_EV_CONNECT event. */
int dp_seen_get(struct dp *dp, const struct xcrs_addr *a,
		struct xcrs_seen *ret_seen);
/* Forgets an MS (its next packet is a connect again); -ENOENT if absent. */
int dp_seen_del(struct dp *dp, const struct xcrs_addr *a);
/* Removes every MS not seen since now - idle_ns and calls fn for each
 * (MS leave). Returns how many, or -errno. */
int dp_seen_expire(struct dp *dp, __u64 idle_ns,
		   void (*fn)(void *ctx, const struct xcrs_addr *a,
			      const struct xcrs_seen *s),
		   void *ctx);
__u64 dp_now_ns(void);

/* Scope containment. Setting mode XCRS_CONTAIN_NONE deletes the entry. */
int dp_scope_set(struct dp *dp, __u32 scope, const struct xcrs_scope *sc);
int dp_scope_get(struct dp *dp, __u32 scope, struct xcrs_scope *ret_scope);

/* Statistics, summed over CPUs. */
struct dp_stats {
	struct xcrs_counter c[XCRS_ACT_MAX][XCRS_REASON_MAX];
};
int dp_stats_read(struct dp *dp, struct dp_stats *ret_stats);
/* -ENOENT if the subscriber has no counters: no host entry, or never at a
 * reacted level since its entry was made, or no slot was free. */
int dp_sub_stats_read(struct dp *dp, const struct xcrs_addr *a,
		      struct xcrs_sub_counters *ret_counters);

/* How full each map is: entries in use (for arrays: every slot) and
 * capacity. Counting walks the keys of hash and LPM maps (the subscriber
 * map's count is kept by the library instead): a few ms per 10 000
 * entries. */
struct dp_map_fill {
	const char *name; /* "xcrs_sub4", ... */
	const char *role; /* "IPv4 subscriber map", ... */
	__u64 entries, capacity;
};
#define DP_MAPS_MAX 20
/* Fills out[] (DP_MAPS_MAX); returns how many, or -errno. */
int dp_fill(struct dp *dp, struct dp_map_fill *out);
/* Host entries in the fullest of the subscriber maps (IPv4, IPv6 /64s,
 * IPv6 hosts; kept by the library) and its capacity; per-subscriber counter slots given and their number. */
__u64 dp_subs_count(const struct dp *dp, __u64 *ret_capacity);
__u64 dp_slots_used(const struct dp *dp, __u64 *ret_capacity);

/* Run-time flags (XCRS_RT_*), kept apart from the policy generations.
 * dp_fail_closed(true) sets XCRS_RT_SUBS_FULL: the program holds every
 * terminal without an entry of its own at the policy's
 * xcrs_cfg.full_level. XCRS_RT_PREFIXES is the library's (set while a
 * prefix decision exists). */
int dp_fail_closed(struct dp *dp, bool on);
int dp_runtime_get(struct dp *dp, __u32 *ret_flags);

/* Decisions on prefixes (plen in the 128-bit form, host bits clear):
 * like host entries (level, base level, expiry) for every address of the
 * prefix that has no host entry; the longest prefix wins. -EPERM if it
 * overlaps a never-react pool of the policy. */
int dp_prefix_set(struct dp *dp, const struct xcrs_addr *a, unsigned plen,
		  const struct xcrs_sub *s);
int dp_prefix_get(struct dp *dp, const struct xcrs_addr *a, unsigned plen,
		  struct xcrs_sub *ret_sub);
int dp_prefix_del(struct dp *dp, const struct xcrs_addr *a, unsigned plen);
/* Calls fn for every prefix decision in the map; returns how many. */
int dp_prefix_each(struct dp *dp,
		   void (*fn)(void *ctx, const struct xcrs_addr *a,
			      unsigned plen, const struct xcrs_sub *s),
		   void *ctx);

/* Ring-buffer detections. fn is called from dp_events_poll(). */
typedef void (*dp_event_fn)(void *ctx, const struct xcrs_event *ev);
int dp_events_subscribe(struct dp *dp, dp_event_fn fn, void *ctx);
/* An fd to wait on (epoll) once subscribed. */
int dp_events_fd(struct dp *dp);
/* Consumes pending events; returns how many, or -errno. */
int dp_events_poll(struct dp *dp, int timeout_ms);

#endif
