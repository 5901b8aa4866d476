/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The validated policy model: what policy_load() makes of a YAML file
 * (schema: policy/README.md). Everything in it has been checked: names
 * resolve, prefixes have no host bits, limits of the dataplane hold. It is
 * plain data; the agent turns it into dataplane calls. No I/O beyond
 * reading the one file.
 *
 * Functions return 0 or a negative errno; on a policy error the message is
 * in struct policy_error as "file:line:col: what was expected".
 */
#ifndef XCRS_POLICY_H
#define XCRS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crsap_status.h"
#include "duration.h"
#include "xcrs_abi.h"

#define POLICY_NAME_MAX 64

struct policy_error {
	char file[256];
	unsigned line, col; /* 1-based; 0 when the error has no position */
	char msg[512];	    /* "file:line:col: ..." */
};

enum policy_xdp_mode {
	POLICY_MODE_NATIVE = 0,	 /* native only: fail if the driver lacks it */
	POLICY_MODE_GENERIC,	 /* generic (skb) mode */
	POLICY_MODE_NATIVE_OR_GENERIC,
};

/* How xcrs goes onto the interface (dataplane.h, enum dp_attach_via). */
enum policy_attach {
	POLICY_ATTACH_AUTO = 0, /* libxdp's dispatcher where it works */
	POLICY_ATTACH_LINK,	/* a BPF link of its own */
	POLICY_ATTACH_DISPATCHER,
};

struct policy_interface {
	char name[16];
	enum xcrs_role role;
	enum policy_xdp_mode mode;
	enum policy_attach attach;
	bool gtpu; /* decapsulate GTP-U (default true) */
	/* spread G-PDUs over CPUs (XCRS_SPREAD_*), on these CPUs (none:
	 * every online CPU) */
	int spread;
	unsigned spread_cpus[XCRS_SPREAD_CPUS_MAX];
	unsigned nspread_cpus;
};

struct policy_prefix {
	struct xcrs_addr addr;
	unsigned plen; /* 128-bit form */
};

/* One (prefix, protocol, port range) of a service. */
struct policy_service_rule {
	struct policy_prefix prefix;
	uint8_t proto; /* 0 = any */
	uint16_t port_lo, port_hi;
};

struct policy_service {
	char name[POLICY_NAME_MAX];
	unsigned cls; /* service class 0..62, in declaration order */
	bool remediation;
	struct policy_service_rule *rules;
	size_t nrules;
};

#define POLICY_LEVEL_WAS_MAX 4

struct policy_level {
	char name[POLICY_NAME_MAX];
	uint64_t allowed;   /* service class bitmap (XCRS_SVC_ALL for "all") */
	uint64_t rate_Bps;  /* 0 = no limit */
	uint64_t burst_B;
	bool fail_closed;   /* XCRS_LEVEL_F_REACTED */
	/* names the level had in earlier policies (levels[].was): what a
	 * reload or a restart finds held at one of them is held here */
	char was[POLICY_LEVEL_WAS_MAX][POLICY_NAME_MAX];
	size_t nwas;
};

/* An APN (TS 23.003 9.1: labels of letters, digits and '-'), lower
 * case; a location as the sessions give it ("tai:001-01-0001",
 * "ecgi:001-01-0000101", …), or a prefix of one ending in '*'. */
#define POLICY_APN_MAX	    100
#define POLICY_LOCATION_MAX 63

struct policy_scope {
	char name[POLICY_NAME_MAX];
	uint32_t id;			/* > 0 */
	struct policy_prefix *pools;
	size_t npools;
	/* the sessions of these APNs / in these locations (cells, tracking
	 * areas) are members, wherever their addresses are */
	char (*apns)[POLICY_APN_MAX + 1];
	size_t napns;
	char (*locations)[POLICY_LOCATION_MAX + 1];
	size_t nlocations;
	unsigned pool_level;		/* level of pool members */
	enum xcrs_contain_mode containment; /* mode used when contained */
	uint64_t isolate_allowed;	/* classes reachable when isolated */
};

/* Addresses the policy marks as never to be reacted to (operator
 * networks, emergency services): a decision against them is refused. */
struct policy_never {
	char name[POLICY_NAME_MAX];
	struct policy_prefix *prefixes;
	size_t nprefixes;
	unsigned level; /* the dataplane's level for them (no scope) */
};

struct policy_subscriber {
	struct xcrs_addr addr;
	int scope;	/* index into scopes, -1 = none */
	unsigned level; /* index into levels */
};

enum policy_input_kind {
	POLICY_IN_EVE_FILE,	/* Suricata EVE JSON, followed (rotation) */
	POLICY_IN_EVE_SOCKET,	/* EVE JSON lines on a unix socket */
	POLICY_IN_EVENT_SOCKET, /* generic JSON-lines events, unix socket */
	POLICY_IN_SESSION_SOCKET, /* MS connect/leave feed, unix socket */
};

struct policy_input {
	enum policy_input_kind kind;
	char path[256];
};

/* The X.1124 server the agent asks, as an application server, for the
 * key of a terminal that reports with a B-TID. */
struct policy_authsrv {
	bool enabled;
	char server[256];	/* host:port */
	char ca[256];		/* CA of authsrv's certificate */
	char cert[256], key[256]; /* the agent's AS certificate */
	char as_id[129];	/* the agent's AS identity (its cert names it) */
	char name[256];		/* name in authsrv's certificate ("" = host) */
};

struct policy_reports {
	bool enabled;
	char listen[128];   /* "address:port" */
	char cert[256], key[256];
	char keys_file[256]; /* per-terminal HMAC keys ("" = none) */
	uint64_t max_skew_ns;
	struct policy_authsrv authsrv;
};

/* A RADIUS accounting client (a P-GW/SMF): the requests from its
 * addresses are verified with its secret. */
#define POLICY_RADIUS_SECRET_MAX 128
struct policy_radius_client {
	struct policy_prefix prefix;
	char secret[POLICY_RADIUS_SECRET_MAX + 1];
	size_t secret_len;
	char secret_file[256]; /* where it came from ("" = the policy) */
};

/* inputs.radius: the packet core's accounting (TS 29.061 16) */
struct policy_radius {
	bool enabled;
	char listen[128]; /* "address:port" */
	struct policy_radius_client *clients;
	size_t nclients;
};

/* What a correlation rule listens to. */
enum policy_trigger {
	POLICY_ON_REPORT = 0, /* terminal SCI reports */
	POLICY_ON_IDS,	      /* IDS alerts (EVE, event sockets) */
	POLICY_ON_FANOUT,     /* the dataplane's fan-out detections */
};

struct policy_rule {
	char name[POLICY_NAME_MAX];
	enum policy_trigger on;
	/* match */
	uint32_t statuses;	/* report: bit per crsap_status */
	unsigned severity_max;	/* ids: alerts of severity <= this (1 is the
				 * most severe, as in Suricata); 0 = any */
	uint64_t *signatures;	/* ids: signature ids; none = any */
	size_t nsignatures;
	int *scopes;		/* group attributes: only terminals of these
				 * scopes (indices); none = any */
	size_t nmatch_scopes;
	/* threshold */
	unsigned count;		/* events of one terminal within window */
	unsigned terminals;	/* > 0: distinct terminals of one scope with
				 * the same signature within window */
	uint64_t window_ns;
	/* reaction */
	bool react;		/* set a level */
	unsigned level;
	bool contain;		/* contain the terminal's scope */
	uint64_t duration_ns;	/* 0 = until released */
	bool release_on_clean;	/* a clean report releases the reaction */
	/* large-scale updating (12.1): when this rule contains a scope, the
	 * SCS instructs the scope's MSs to update, each after a delay spread
	 * over update_window_ns, and tracks who complied */
	bool update;
	char update_what[32];	/* "signatures", "sca", "os", "patch" */
	uint64_t update_window_ns;
	uint64_t update_deadline_ns;
	int update_source;	/* service index (remediation), -1 = none */
	/* repeat offenders (react rules): a terminal this rule reacts to
	 * again within esc_within_ns of earlier reactions (of any rule)
	 * gets duration x esc_factor^(earlier ones), at most esc_max_ns;
	 * from its esc_after-th offence on, level esc_level */
	bool escalate;
	uint64_t esc_within_ns;
	unsigned esc_factor;	/* >= 1 */
	uint64_t esc_max_ns;	/* 0 = no cap */
	unsigned esc_after;	/* 0 = the level never changes */
	unsigned esc_level;
};

/* One entry of the security evaluation policy (X.1125 clause 8): when all
 * its conditions hold for an SCI report, the evaluation is at least
 * result. Conditions left 0 are not checked. */
struct policy_eval {
	char name[POLICY_NAME_MAX];
	enum crsap_status result;
	unsigned threat_severity_max;	/* a threat of severity <= this */
	uint64_t signatures_older_ns;	/* AV signatures older (or none) */
	uint64_t patch_older_ns;	/* patch level older (or none) */
};

/* Another SCS (roaming, X.1125 13): its id, its report listener, and the
 * key both sides MAC their CRSAP messages with. */
struct policy_peer {
	char id[65];
	char address[128];	/* host:port of its report listener */
	char name[128];		/* name in its certificate ("" = host) */
	uint8_t key[64];
	size_t keylen;
};

/* Dataplane map sizes (agent.maps); 0 = the library's default. */
struct policy_maps {
	uint32_t subscribers;	   /* IPv4 host entries */
	uint32_t subscribers6;	   /* IPv6 /64 entries */
	uint32_t hosts6;	   /* IPv6 host entries */
	uint32_t pools;		   /* address pools per policy */
	uint32_t service_prefixes; /* per policy */
	uint32_t scopes;	   /* contained scopes */
	uint32_t prefixes;	   /* decisions on prefixes */
	uint32_t tracked;	   /* per-subscriber state (rate, fan-out,
				    * presence, counters) */
	unsigned warn_at;	   /* percent of fill that is warned about */
	int when_full;		   /* level for terminals without a host
				    * entry while reactions do not fit, or -1:
				    * their own level (fail open) */
};

struct policy_agent {
	char pin_dir[256];
	char control_socket[256];
	char state_file[256];
	char audit_log[256];
	char metrics[128]; /* Prometheus listener "address:port", or "" */
	uint64_t operator_for_ns; /* an operator reaction's length without
				   * --for; 0: until released */
	struct policy_maps maps;
};

/* The fleet (cluster:): edge nodes that share decisions, sessions and
 * events over NATS JetStream. Absent: a single node, no server. */
#define POLICY_CLUSTER_SERVERS_MAX 16
struct policy_cluster {
	bool enabled;
	char node[33];	/* this node's name: letters, digits, - and _ */
	char servers[POLICY_CLUSTER_SERVERS_MAX][256]; /* nats:// or tls:// */
	size_t nservers;
	char ca[256], cert[256], key[256]; /* TLS (cert and key together) */
	char credentials[256];		   /* a NATS .creds file */
	unsigned replicas;		   /* of the buckets and the stream */
	uint64_t sync_timeout_ns;	   /* a start waits so long for the
					    * buckets, then fails */
	uint64_t events_keep_ns;	   /* events kept on the stream */
};

struct policy {
	char file[256];
	/* the text it was read from: its SHA-256 (hex, as sha256sum prints
	 * it), and when it was read (CLOCK_REALTIME, ms) */
	char sha256[65];
	uint64_t loaded_ms;
	struct policy_agent agent;
	struct policy_cluster cluster;
	struct policy_interface *interfaces;
	size_t ninterfaces;
	struct policy_service *services;
	size_t nservices;
	struct policy_level *levels;
	size_t nlevels;
	int default_level; /* index, or -1: unknown subscribers pass */
	/* index, or -1: a pool address that no session holds (the packet
	 * core says who holds which) gets this level, not the pool's */
	int unassigned_level;
	/* the RAN's GTP-U addresses (gNB, eNB): with any, only UDP/2152 from
	 * them is decapsulated */
	struct policy_prefix *ran;
	size_t nran;
	bool nonip_drop;
	struct policy_scope *scopes;
	size_t nscopes;
	struct policy_subscriber *subscribers;
	size_t nsubscribers;
	struct policy_never *never;
	size_t nnever;
	struct policy_input *inputs;
	size_t ninputs;
	struct policy_reports reports;
	struct policy_radius radius;
	/* MS lifecycle (X.1125 11.1, 11.6) */
	bool ms_detect;		   /* the dataplane reports first traffic */
	uint64_t ms_idle_ns;	   /* an MS silent this long has left */
	/* discovery and SCA installation (11.1, 11.3): probe a connected MS's
	 * SCA on UDP probe_port; after probe_attempts unanswered probes hold
	 * it at probe_redirect (the SCA download service) until it reports */
	bool probe;
	uint16_t probe_port;
	uint64_t probe_interval_ns;
	unsigned probe_attempts;
	unsigned probe_redirect;   /* level index */
	char scs_id[65];	   /* this SCS's id in CRSAP messages */
	uint32_t fanout_threshold; /* 0 = off */
	uint64_t fanout_window_ns;
	struct policy_rule *rules;
	size_t nrules;
	struct policy_eval *evals;	/* security evaluation policy */
	size_t nevals;
	/* SCS peers (roaming): their certificates chain to peer_ca */
	char peer_ca[256];
	struct policy_peer *peers;
	size_t npeers;
};

/* What a reload does when a key changes (each key's class is in the
 * schema of its section). */
enum policy_reload {
	POLICY_RELOAD_LIVE = 0,	/* taken at once */
	POLICY_RELOAD_RESTART,	/* refused: the agent must restart for it */
	POLICY_RELOAD_AT_RESTART, /* taken, in force once the agent restarts */
};

/* Whether a key of class cls differs between a and b: 1 with its path in
 * what ("agent.pin_dir", "inputs"), else 0. */
int policy_reload_changes(const struct policy *a, const struct policy *b,
			  enum policy_reload cls, char *what, size_t len);

/* Reads and validates path. On failure *err says where and why and
 * nothing is returned. */
int policy_load(const char *path, struct policy **ret_policy,
		struct policy_error *err);
/* The same from a string (name is used in messages). */
int policy_load_string(const char *text, size_t len, const char *name,
		       struct policy **ret_policy, struct policy_error *err);
void policy_free(struct policy *p);

/* The never_react entry holding a (index), or -1. */
int policy_never_react(const struct policy *p, const struct xcrs_addr *a);
/* The first never_react entry that overlaps a/plen (128-bit form), or
 * -1. */
int policy_never_overlaps(const struct policy *p, const struct xcrs_addr *a,
			  unsigned plen);

/* Subscribers of the policy. The static entry of a, or NULL; the level of
 * the longest pool holding a, or -1; the level a falls back to without
 * reactions (its static entry's, else its pool's, else -1: the default
 * for unknown subscribers); the scope a belongs to (static entry, else the
 * longest pool), or -1. */
const struct policy_subscriber *policy_static_sub(const struct policy *p,
					       const struct xcrs_addr *a);
int policy_pool_level(const struct policy *p, const struct xcrs_addr *a);
int policy_base_level(const struct policy *p, const struct xcrs_addr *a);
int policy_scope_of(const struct policy *p, const struct xcrs_addr *a);
/* The scope of a session by its APN and location (text as the session
 * gives it; a location may have parts joined by '/', "tai:…/ecgi:…"):
 * the first scope, in the policy's order, that lists the APN (any case)
 * or one of the location's parts (exactly, or a listed prefix ending in
 * '*'); -1 if none does (the session's addresses then decide, as
 * policy_scope_of). */
int policy_session_scope(const struct policy *p, const char *apn,
			 const char *location);

/* Lookups by name: index or -1. */
/* Whether a terminal at level may send to a:port over proto (its allowed
 * services name it), as the dataplane would judge it: 1 or 0. */
int policy_level_reaches(const struct policy *p, unsigned level,
			 const struct xcrs_addr *a, uint8_t proto,
			 uint16_t port);
int policy_level_index(const struct policy *p, const char *name);
/* The level a decision saved under name (by an earlier policy) is held at
 * now: the level of that name, or the one that names it in its was list;
 * -1 if none. */
int policy_level_carry(const struct policy *p, const char *name);
int policy_scope_index(const struct policy *p, const char *name);
int policy_scope_by_id(const struct policy *p, uint32_t id);


const char *policy_trigger_to_string(enum policy_trigger t);

#endif
