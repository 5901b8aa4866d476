/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xcrs dataplane ABI: the one definition of every map key, map value, enum
 * and flag shared by the XDP program (bpf/xcrs.bpf.c) and userspace
 * (agent/dataplane.c). Nothing here may be duplicated elsewhere.
 *
 * Addresses are 16 bytes in network byte order; IPv4 addresses are
 * IPv4-mapped (::ffff:a.b.c.d), so an IPv6 packet that spells a
 * subscriber's IPv4 address in mapped form finds the same entry. The one
 * exceptions are the keys of the subscriber maps, whose memory and hash are
 * paid per subscriber: xcrs_sub4 is keyed by the IPv4 address's 4 bytes,
 * xcrs_sub64 by the first 8 bytes of an IPv6 /64.
 * Fields without a byte-order comment are host byte order.
 */
#ifndef XCRS_ABI_H
#define XCRS_ABI_H

#include <linux/types.h>

/* 2: the subscriber map split by key (xcrs_sub4: IPv4 hosts, 4-byte keys;
 * xcrs_sub64: IPv6 /64s, 8-byte keys; xcrs_sub6: IPv6 hosts), 16-byte
 * values (struct xcrs_sub_ent). A pinned xcrs_subs of version 1 is
 * migrated by the library at open. Later in version 2, xcrs_slot_owners
 * (no program reads it): maps pinned without it are read once, entry by
 * entry, and the records written. */
#define XCRS_ABI_VERSION 2

/*
 * Every map the program instances share, pinned as <pin_dir>/<name>: the one
 * list that userspace expands (the map enum, names, what an error calls the
 * map, the skeleton's handles, the fill report). Order is the library's
 * index order, not a wire format; names never change. Columns:
 *   X(ID, name, what the operator calls it, fill)
 * fill: how xcrs_map_entries counts it: KEYS (walk the keys; the key type
 * follows), SUBS (kept by the library), SLOTS (counter slots given), or
 * NONE (not reported: arrays that are always full, the ring buffer).
 */
#define XCRS_MAPS(X)                                                          \
	X(SUB4, xcrs_sub4, "IPv4 subscriber map", SUBS, __u32)                \
	X(SUB64, xcrs_sub64, "IPv6 subscriber map", SUBS, __u64)              \
	X(SUB6, xcrs_sub6, "IPv6 host map", SUBS, struct xcrs_addr)           \
	X(POOLS, xcrs_pools, "address pool map", KEYS, struct xcrs_lpm_key)   \
	X(SVCS, xcrs_svcs, "service map", KEYS, struct xcrs_lpm_key)          \
	X(LEVELS, xcrs_levels, "level map", NONE, __u32)                      \
	X(CFG, xcrs_cfg, "settings map", NONE, __u32)                         \
	X(GEN, xcrs_gen, "generation map", NONE, __u32)                       \
	X(SCOPES, xcrs_scopes, "scope map", KEYS, __u32)                      \
	X(STATS, xcrs_stats, "statistics map", NONE, __u32)                   \
	X(SUB_STATS, xcrs_sub_stats, "subscriber statistics map", SLOTS,      \
	  __u32)                                                              \
	X(RATE, xcrs_rate, "rate state map", KEYS, struct xcrs_addr)          \
	X(FANOUT, xcrs_fanout, "fan-out state map", KEYS, struct xcrs_addr)   \
	X(SEEN, xcrs_seen, "MS presence map", KEYS, struct xcrs_addr)         \
	X(CONNECT_RL, xcrs_connect_rl, "connect event budget map", NONE,      \
	  __u32)                                                              \
	X(EVENTS, xcrs_events, "event ring buffer", NONE, __u32)              \
	X(SVC_CACHE, xcrs_svc_cache, "service-class cache", NONE, __u32)      \
	X(PREFIXES, xcrs_react_prefixes, "prefix decision map", KEYS,         \
	  struct xcrs_prefix_key)                                             \
	X(SLOT_OWNERS, xcrs_slot_owners, "counter slot owner map", NONE,      \
	  __u32)

/* Level table: index 0..XCRS_LEVELS_MAX-1 per generation. */
#define XCRS_LEVELS_MAX 16
/* Level index meaning "no enforcement at all" (only as the default for
 * unknown subscribers). */
#define XCRS_LEVEL_PASS 0xff
/* base_level of a subscriber host entry that ends at expires_ns: from then
 * on the address is looked up as if the entry did not exist (its pool, or
 * the default for unknown subscribers). */
#define XCRS_SUB_BASE_NONE 0xff

/* Service classes are bits of a 64-bit mask. Classes 0..62 are named by the
 * policy; class 63 is every peer that matches no service rule. */
#define XCRS_SVC_MAX   63
#define XCRS_SVC_OTHER 63
#define XCRS_SVC_BIT(s) (1ULL << (s))
#define XCRS_SVC_ALL   (~0ULL)

/* Service rules kept per LPM prefix (its own first, then those of the
 * enclosing prefixes, most specific first). */
#define XCRS_SVC_RULES_MAX 16

/* Extension headers walked before an IPv6 packet counts as unclassifiable. */
#define XCRS_IPV6_EXT_MAX 6
/* GTP-U extension headers walked before a G-PDU counts as malformed. */
#define XCRS_GTPU_EXT_MAX 4
#define XCRS_GTPU_PORT	  2152

/* Spreading G-PDUs over CPUs through a cpumap (load-time constant). */
enum xcrs_spread {
	XCRS_SPREAD_OFF = 0,
	XCRS_SPREAD_TEID = 1,  /* by the G-PDU's tunnel id */
	XCRS_SPREAD_INNER = 2, /* by the terminal's (inner) address */
};
#define XCRS_SPREAD_CPUS_MAX 64

/* Fan-out detection bitmap: distinct peers are counted as set bits. */
#define XCRS_FANOUT_BITS  1024
#define XCRS_FANOUT_WORDS (XCRS_FANOUT_BITS / 64)
/* The largest threshold that can be counted reliably in the bitmap. */
#define XCRS_FANOUT_THRESHOLD_MAX 512

/* Interface role, a load-time constant of each attached program instance. */
enum xcrs_role {
	XCRS_ROLE_ACCESS = 0, /* faces terminals: subscriber = source */
	XCRS_ROLE_CORE = 1,   /* faces the core/Internet: subscriber = dest */
};

/*
 * Enums that index a map or travel in one carry explicit values that are
 * never renumbered: a new value takes the next number (and, for
 * xcrs_reason, raises XCRS_REASON_MAX, which changes the statistics map's
 * size: a new XCRS_ABI_VERSION); a retired value keeps its number as a
 * placeholder (XCRS_R_RETIRED_<n>) that nothing produces any more.
 */
enum xcrs_action {
	XCRS_ACT_PASS = 0,
	XCRS_ACT_DROP = 1,
	XCRS_ACT_MAX = 2
};

/* Why a verdict was reached; the statistics map is indexed by
 * action * XCRS_REASON_MAX + reason. */
enum xcrs_reason {
	XCRS_R_ALLOWED = 0,	      /* the subscriber's level allows the
				       * service */
	XCRS_R_UNKNOWN_PASS = 1,      /* unknown subscriber, default is pass */
	XCRS_R_NON_IP = 2,	      /* not IPv4/IPv6 (e.g. ARP) */
	XCRS_R_GTPU_SIGNALLING = 3,   /* GTP-U echo, error indication, end
				       * marker */
	XCRS_R_MALFORMED = 4,	      /* cannot find the subscriber's address */
	XCRS_R_GTPU_MALFORMED = 5,    /* GTP-U bad version/length/extension */
	XCRS_R_GTPU_UNKNOWN_TYPE = 6, /* GTP-U message type not handled */
	XCRS_R_UNCLASSIFIED = 7,      /* fail closed: subscriber known, packet
				       * not fully classifiable */
	XCRS_R_LEVEL = 8,	      /* service not allowed at the level */
	XCRS_R_RATE = 9,	      /* over the level's token-bucket rate */
	XCRS_R_ISOLATE = 10,	      /* scope contained: isolate */
	XCRS_R_NO_LATERAL = 11,	      /* scope contained: no-lateral */
	XCRS_R_BAD_LEVEL = 12,	      /* level index with no definition */
	XCRS_R_VLAN_DEPTH = 13,	      /* more VLAN tags, PPPoE and MPLS
				       * headers than parsed (6) */
	XCRS_R_ND = 14,		      /* IPv6 neighbour discovery (hop limit
				       * 255): link-local like ARP, always
				       * passes */
	XCRS_REASON_MAX = 15
};

#define XCRS_STATS_SLOTS (XCRS_ACT_MAX * XCRS_REASON_MAX)

enum xcrs_contain_mode {
	XCRS_CONTAIN_NONE = 0,
	XCRS_CONTAIN_ISOLATE = 1,    /* only the scope's allowed services */
	XCRS_CONTAIN_NO_LATERAL = 2, /* no traffic to/from other subscribers */
	XCRS_CONTAIN_MAX = 3
};

enum xcrs_event_type {
	/* 0 is never sent */
	XCRS_EV_FANOUT = 1,
	XCRS_EV_CONNECT = 2, /* first traffic of an MS not in xcrs_seen */
};

/* MS connect detection (X.1125 11.1): at most this many connect events per
 * second per CPU go to the ring buffer; an MS over the limit is reported
 * with its next packet. */
#define XCRS_CONNECT_EVENTS_PER_S 1000
/* xcrs_seen.last_ns is refreshed at most this often per MS. */
#define XCRS_SEEN_REFRESH_NS 1000000000ull

/* Level definition flags. */
#define XCRS_LEVEL_F_DEFINED 0x1 /* the slot holds a level */
#define XCRS_LEVEL_F_REACTED 0x2 /* fail closed, per-subscriber stats */

/* Non-IP handling (struct xcrs_cfg.nonip_action). */
#define XCRS_NONIP_PASS 0
#define XCRS_NONIP_DROP 1

/* 16-byte address, network byte order, IPv4 mapped. Map key of xcrs_sub6,
 * xcrs_rate, xcrs_fanout, xcrs_seen. */
struct xcrs_addr {
	__u8 a[16]; /* big-endian */
};

/* LPM key of xcrs_pools and xcrs_svcs. prefixlen counts the 32 bits of gen
 * plus the address bits (an IPv4 /24 is 32 + 96 + 24). */
struct xcrs_lpm_key {
	__u32 prefixlen;
	__u32 gen;	/* policy generation, 0 or 1 */
	__u8 addr[16];	/* big-endian */
};

/* xcrs_sub.flags: the entry is an IPv6 subscriber's /64 (its key is the
 * prefix, interface identifier 0): every address of the prefix that has no
 * host entry of its own gets it. */
#define XCRS_SUB_F_PREFIX64 0x1

/* A subscriber host, or an IPv6 subscriber's /64, as the library's callers
 * see it (and the value of xcrs_react_prefixes). The host maps hold it as
 * struct xcrs_sub_ent. */
struct xcrs_sub {
	__u32 scope;	  /* scope id, 0 = none */
	__u8 level;	  /* level index while not expired */
	__u8 base_level;  /* level index after expires_ns, or
			   * XCRS_SUB_BASE_NONE */
	__u8 flags;	  /* XCRS_SUB_F_* */
	__u8 pad;
	__u64 expires_ns; /* CLOCK_MONOTONIC; 0 = never. The dataplane
			   * compares it with the coarse clock
			   * (bpf_ktime_get_coarse_ns, one tick behind at
			   * most). */
	__u32 stats_slot; /* index into xcrs_sub_stats, 0 = none; managed
			   * by the library (callers' values are ignored) */
	__u32 pad2;
};

/* Value of xcrs_sub4, xcrs_sub64 and xcrs_sub6: struct xcrs_sub in 16
 * bytes (a kernel hash element of 72 bytes with a 4- or 8-byte key, 80
 * with 16). The /64 flag is which map holds it. */
struct xcrs_sub_ent {
	__u64 expires_ns; /* as in struct xcrs_sub */
	__u32 stats_slot; /* as in struct xcrs_sub */
	__u16 scope;	  /* scope id, 0 = none (ids stay below 65536) */
	__u8 level;	  /* as in struct xcrs_sub */
	__u8 base_level;  /* as in struct xcrs_sub */
};
#define XCRS_SCOPE_ID_MAX 0xffff

/* Value of xcrs_slot_owners, an array as long as xcrs_sub_stats that only
 * the library reads and writes (no program touches it): which host entry
 * holds each counter slot, and how many entries each host map holds, so
 * that a restart over pinned maps learns both without reading every entry.
 * A slot's record is written before the entry that takes the slot and
 * cleared after the entry lets it go; a record whose entry is gone or
 * holds another slot (a crash between the two writes) is found out at the
 * next open, which checks every record against its entry. */
struct xcrs_slot_rec {
	union {
		struct xcrs_addr addr; /* slots 1..: the entry's address */
		__u32 count[4];	       /* slot 0: entries of xcrs_sub4,
					* xcrs_sub64, xcrs_sub6 */
	};
	__u32 map; /* slots 1..: 0 free, else 1 + the map (1 xcrs_sub4,
		    * 2 xcrs_sub64, 3 xcrs_sub6); slot 0: XCRS_SLOTS_KEPT
		    * once the records and counts are kept */
	__u32 pad;
};
#define XCRS_SLOTS_KEPT 0x736c6f74 /* "slot" */

/* xcrs_pool.flags: the prefix is the RAN's (gNB/eNB addresses that send
 * GTP-U), not subscribers: its addresses are not found as subscribers,
 * and with XCRS_CFG_F_RAN only they are decapsulated. */
#define XCRS_POOL_F_RAN 0x1

/* Value of xcrs_pools: a subscriber address pool, or a RAN prefix. */
struct xcrs_pool {
	__u32 scope;
	__u8 level;
	__u8 flags; /* XCRS_POOL_F_* */
	__u8 pad[2];
};

struct xcrs_svc_rule {
	__u8 proto;	/* IPPROTO_*, 0 = any */
	__u8 svc;	/* service class 0..62 */
	__u16 port_lo;	/* peer port range, inclusive */
	__u16 port_hi;
	__u16 pad;
};

/* Value of xcrs_svcs: the service rules that apply to a peer prefix, first
 * match wins. */
struct xcrs_svc_entry {
	__u32 nrules;
	__u32 pad;
	struct xcrs_svc_rule rules[XCRS_SVC_RULES_MAX];
};

/* Value of xcrs_levels[gen * XCRS_LEVELS_MAX + level]. */
struct xcrs_level {
	__u64 allowed;	  /* service class bitmap */
	__u64 rate_Bps;	  /* token-bucket rate, bytes/s; 0 = unlimited */
	__u64 burst_B;	  /* bucket depth, bytes */
	__u32 flags;	  /* XCRS_LEVEL_F_* */
	__u32 pad;
};

/* Value of xcrs_cfg[gen]: policy-wide settings. */
#define XCRS_CFG_F_MS_DETECT 0x1 /* report MS connects, keep xcrs_seen */
/* the policy names the RAN (XCRS_POOL_F_RAN prefixes): a UDP/2152 packet
 * is decapsulated only when its RAN-side address is one of them; else
 * when that address is no subscriber */
#define XCRS_CFG_F_RAN 0x2

struct xcrs_cfg {
	__u8 default_level;	/* for unknown subscribers, or LEVEL_PASS */
	__u8 nonip_action;	/* XCRS_NONIP_* */
	__u16 flags;		/* XCRS_CFG_F_* */
	__u32 fanout_threshold; /* distinct peers per window; 0 = off */
	__u64 fanout_window_ns;
	__u32 epoch;		/* set by the library: a new value with every
				 * policy applied (never 0); keys the
				 * service-class cache */
	__u8 full_level;	/* while XCRS_RT_SUBS_FULL: the level of every
				 * terminal without a host entry */
	__u8 pad[3];
};

/* xcrs_gen[1]: run-time flags the agent sets between policy changes. */
#define XCRS_GEN_SLOT_RUNTIME 1
/* xcrs_gen[2]: bumped by the library whenever the set of subscriber
 * addresses changes outside a policy change (a host entry or a prefix
 * decision added or removed); keys the outer-address cache. */
#define XCRS_GEN_SLOT_SUBSET 2

/* Fragments (xcrs_frags, one LRU per program instance): a first fragment
 * that passed is remembered by (source, destination, protocol,
 * identification); a later fragment of it that starts at or after the end
 * of what the first one held gets its verdict for XCRS_FRAG_NS. Any other
 * later fragment (no first seen, out of order, overlapping the first,
 * too late) of a terminal that cannot be judged without its headers is
 * dropped. */
#define XCRS_FRAG_NS	 (30ULL * 1000000000ULL)
#define XCRS_FRAG_SLOTS 8192

struct xcrs_frag_key {
	__u8 src[16];
	__u8 dst[16];
	__u32 id;
	__u8 proto;
	__u8 pad[3];
};

struct xcrs_frag {
	__u64 at_ns; /* coarse clock: when the first fragment passed */
	__u32 end;   /* bytes of the fragmentable part the first one held */
	__u32 pad;
};

/* Outer-address cache (xcrs_outer_cache, per CPU, direct-mapped):
 * whether a GTP-U packet's own (outer) address is a subscriber, as found
 * under one policy epoch and one subscriber-set version. A tunnel
 * endpoint (gNB) address repeats on every G-PDU: the lookups it saves
 * are a hash and an LPM per packet. */
#define XCRS_OUTER_CACHE_SLOTS 256

struct xcrs_outer_cache_ent {
	__u8 addr[16];
	__u32 epoch;  /* 0 = empty */
	__u32 subset;
	__u32 is_sub;
	__u32 pad;
};
/* The subscriber map was full when a reaction had to be written, and the
 * policy fails closed: terminals without a host entry get
 * xcrs_cfg.full_level until every reaction fits again. */
#define XCRS_RT_SUBS_FULL 0x1
/* xcrs_react_prefixes holds at least one decision: look it up. */
#define XCRS_RT_PREFIXES 0x2

/* Key of xcrs_react_prefixes (LPM): a decision on a prefix. prefixlen is
 * the 128-bit form (an IPv4 /24 is 96 + 24). The value is a struct
 * xcrs_sub (stats_slot 0: no per-subscriber counters). */
struct xcrs_prefix_key {
	__u32 prefixlen;
	__u8 addr[16]; /* big-endian */
};

/* Value of xcrs_scopes (key: __u32 scope id). */
struct xcrs_scope {
	__u32 mode;	  /* enum xcrs_contain_mode */
	__u32 pad;
	__u64 allowed;	  /* isolate: services still reachable */
};

/* Service-class cache (xcrs_svc_cache, per CPU, direct-mapped): the
 * class of (peer, protocol, peer port) as the service LPM gave it under
 * one policy epoch. Only a performance device: a miss or a collision
 * costs one LPM lookup, never a different class. */
#define XCRS_SVC_CACHE_BITS 12
#define XCRS_SVC_CACHE_SLOTS (1u << XCRS_SVC_CACHE_BITS)

/* The slot of (peer, protocol, port): one definition for the program
 * and for tests that need keys sharing a slot. */
static inline __u32 xcrs_svc_cache_slot(const __u8 addr[16], __u8 proto,
					__u16 port)
{
	__u32 w[4], h;

	__builtin_memcpy(w, addr, 16);
	h = (w[0] ^ w[1] ^ w[2] ^ w[3] ^ ((__u32)port << 8 | proto)) *
	    0x9e3779b1u;
	h ^= h >> 15;
	h *= 0x85ebca6bu;
	return h >> (32 - XCRS_SVC_CACHE_BITS);
}

struct xcrs_svc_cache_ent {
	__u8 addr[16];	/* the peer, big-endian */
	__u32 epoch;	/* xcrs_cfg.epoch the class was found under; 0 = empty */
	__u16 port;
	__u8 proto;
	__u8 svc;
};

/* Per-CPU value of xcrs_stats and (as pairs) of xcrs_sub_stats, the
 * per-CPU array indexed by xcrs_sub.stats_slot. */
struct xcrs_counter {
	__u64 packets;
	__u64 bytes;
};

struct xcrs_sub_counters {
	struct xcrs_counter pass;
	struct xcrs_counter drop;
};

/* Value of xcrs_rate (LRU): updated with atomics, no lock. */
struct xcrs_bucket {
	__u64 last_ns;
	__s64 tokens; /* bytes */
};

/* Value of xcrs_fanout (LRU): distinct new-flow peers in the window. */
struct xcrs_fanout {
	__u64 window_start_ns;
	__u32 count;
	__u32 reported;
	__u64 bits[XCRS_FANOUT_WORDS];
};

/* Value of xcrs_seen (key: the MS's address): when the access side saw it
 * first and last. */
struct xcrs_seen {
	__u64 first_ns;
	__u64 last_ns;
};

/* Per-CPU connect-event budget (xcrs_connect_rl, one slot). */
struct xcrs_rl {
	__u64 window_start_ns;
	__u64 count;
};

/* Ring-buffer record of xcrs_events. */
struct xcrs_event {
	__u32 type;	  /* enum xcrs_event_type */
	__u32 count;	  /* distinct peers seen so far in the window */
	__u64 window_ns;  /* the window length */
	__u64 ts_ns;	  /* CLOCK_MONOTONIC of the report */
	struct xcrs_addr addr;
};

#endif
