/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every map of the program and the load-time configuration of an instance (the
 * skeleton's rodata). Names and pins are ABI (xcrs_abi.h, XCRS_MAPS): never
 * renamed.
 */
#ifndef XCRS_BPF_MAPS
#define XCRS_BPF_MAPS

/* Load-time configuration of one program instance (one per interface). */
const volatile __u8 xcrs_role = XCRS_ROLE_ACCESS;
const volatile __u8 xcrs_gtpu = 1; /* decapsulate UDP/2152 G-PDUs */
/* Spreading G-PDUs over CPUs (XCRS_SPREAD_*): a NIC's receive hash sees
 * only the outer header, so one cell's tunnel lands on one core. The
 * G-PDU goes through the instance's cpumap to xcrs_spread_cpu[hash % n],
 * where xcrs_xdp_cpumap judges it. */
const volatile __u8 xcrs_spread = XCRS_SPREAD_OFF;
const volatile __u32 xcrs_spread_n = 0;
const volatile __u32 xcrs_spread_cpu[XCRS_SPREAD_CPUS_MAX] = { 0 };

/* This instance's CPUs for spreading (not shared: each instance's entries
 * run its own second stage). Sized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct bpf_cpumap_val));
	__uint(max_entries, XCRS_SPREAD_CPUS_MAX);
} xcrs_cpus SEC(".maps");

/* Sizes are set by the loader from its configuration before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32); /* the IPv4 address, network byte order */
	__type(value, struct xcrs_sub_ent);
	__uint(max_entries, 65536);
} xcrs_sub4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64); /* an IPv6 /64: the address's first 8 bytes */
	__type(value, struct xcrs_sub_ent);
	__uint(max_entries, 65536);
} xcrs_sub64 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct xcrs_addr);
	__type(value, struct xcrs_sub_ent);
	__uint(max_entries, 65536);
} xcrs_sub6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct xcrs_lpm_key);
	__type(value, struct xcrs_pool);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xcrs_pools SEC(".maps");

/* Decisions on prefixes (not per generation: decisions, not policy). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct xcrs_prefix_key);
	__type(value, struct xcrs_sub);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xcrs_react_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct xcrs_lpm_key);
	__type(value, struct xcrs_svc_entry);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xcrs_svcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_level);
	__uint(max_entries, 2 * XCRS_LEVELS_MAX);
} xcrs_levels SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_cfg);
	__uint(max_entries, 2);
} xcrs_cfg SEC(".maps");

/* xcrs_gen[0]: the active policy generation (0 or 1); [1]: run-time flags
 * (XCRS_RT_*). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 3);
} xcrs_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_outer_cache_ent);
	__uint(max_entries, XCRS_OUTER_CACHE_SLOTS);
} xcrs_outer_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct xcrs_scope);
	__uint(max_entries, 4096);
} xcrs_scopes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_counter);
	__uint(max_entries, XCRS_STATS_SLOTS);
} xcrs_stats SEC(".maps");

/* Per-subscriber counters of reacted subscribers, by the slot the library
 * gave the host entry (slot 0 is never given). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_sub_counters);
	__uint(max_entries, 65537);
} xcrs_sub_stats SEC(".maps");

/* The owner of each slot of xcrs_sub_stats (struct xcrs_slot_rec): the
 * library's, read at a restart; no program uses it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_slot_rec);
	__uint(max_entries, 65537);
} xcrs_slot_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_svc_cache_ent);
	__uint(max_entries, XCRS_SVC_CACHE_SLOTS);
} xcrs_svc_cache SEC(".maps");

/* Per-CPU scratch for fragment keys (slot 0: a G-PDU's outer first
 * fragment, slot 1: the packet's own): off the program's stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_frag_key);
	__uint(max_entries, 2);
} xcrs_frag_scratch SEC(".maps");

/* Instance-local (not pinned): fragments are judged where they arrive. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xcrs_frag_key);
	__type(value, struct xcrs_frag);
	__uint(max_entries, XCRS_FRAG_SLOTS);
} xcrs_frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xcrs_addr);
	__type(value, struct xcrs_bucket);
	__uint(max_entries, 65536);
} xcrs_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xcrs_addr);
	__type(value, struct xcrs_fanout);
	__uint(max_entries, 65536);
} xcrs_fanout SEC(".maps");

/* Never written: the zeros a new fan-out entry starts from. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_fanout);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_RDONLY_PROG);
} xcrs_fanout_zero SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct xcrs_addr);
	__type(value, struct xcrs_seen);
	__uint(max_entries, 65536);
} xcrs_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct xcrs_rl);
	__uint(max_entries, 1);
} xcrs_connect_rl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} xcrs_events SEC(".maps");

/* libxdp dispatcher: run early, let later programs see what we pass. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xcrs_xdp);

#endif
