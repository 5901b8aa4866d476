/* SPDX-License-Identifier: GPL-2.0-only
 *
 * The fleet: edge nodes sharing one view over NATS JetStream (policy
 * cluster:). Absent from the policy, nothing here runs: a single node.
 *
 * What is shared, and who writes it (README "Fleet"):
 *  - bucket xcrs_decisions (key-value, cluster.replicas replicas):
 *      sub.<subscriber>.<node>  that node's decision on the subscriber;
 *                               only that node puts it; any node deletes
 *                               it for a fleet-wide release (an operator,
 *                               a clean report). One key per node, so one
 *                               node's expiry or release never lifts
 *                               another's decision.
 *      scope.<scope>            a containment: created (compare-and-set:
 *                               create only if absent) by the node that
 *                               reached it first; deleted by the operator
 *                               anywhere, or by its creator at its end.
 *      prefix.<prefix>          an operator's decision on a prefix: put by
 *                               the node it was made at (the last command
 *                               stands); deleted by a release anywhere, or
 *                               at its expiry by the node that put it, only
 *                               while the record is still that node's.
 *  - bucket xcrs_sessions: <subscriber>.<node> the sessions that node holds
 *    for the subscriber (addresses, APN, location); only that node writes it.
 *  - stream XCRS_EVENTS, subjects xcrs.events.<node>: every event a node
 *    ingests, with the scope and subscriber it belongs to, so that each
 *    node's outbreak rules count the terminals of a scope on every node.
 *    Every node counts the same events, so they contain a scope together;
 *    the bucket keeps one record of it.
 *
 * Threads: nats.c's own, one publisher (the async worker: every write, in
 * order, one at a time for a key) and one watcher per bucket (kvWatcher_Next
 * blocks). Everything they learn comes back to the loop through the async
 * queue's one descriptor; the sink's callbacks run on the loop only.
 */
#ifndef XCRS_FLEET_H
#define XCRS_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "policy.h"

struct fleet;
struct loop;

#define FLEET_ID_MAX 48
#define FLEET_NODE_MAX 33

/* A node's decision on a subscriber (the value of sub.<id>.<node>). */
struct fleet_decision {
	char id[FLEET_ID_MAX];
	char node[FLEET_NODE_MAX];
	char level[POLICY_NAME_MAX];
	uint64_t until_ms; /* Unix ms, 0: until released */
	uint64_t at_ms;	   /* when it was made */
	bool release_on_clean;
	char why[160];
};

/* A containment (the value of scope.<name>). */
struct fleet_scope {
	char scope[POLICY_NAME_MAX];
	char node[FLEET_NODE_MAX];
	char rule[POLICY_NAME_MAX];
	uint64_t until_ms; /* 0: until released */
	uint64_t at_ms;
	char why[200];
};

/* An operator's decision on a prefix (the value of prefix.<prefix>). */
struct fleet_prefix {
	char prefix[64]; /* 192.0.2.64/28, 2001:db8:1::/48 */
	char node[FLEET_NODE_MAX];
	char level[POLICY_NAME_MAX];
	uint64_t until_ms; /* 0: until released */
	uint64_t at_ms;
	char why[160];
};

/* An event as another node ingested it. */
struct fleet_event {
	char node[FLEET_NODE_MAX];
	char scope[POLICY_NAME_MAX]; /* "" : none */
	char who[FLEET_ID_MAX];	     /* its subscriber, else "" */
	int kind;		     /* enum corr_event_kind */
	char terminal[48];	     /* the address */
	int status;		     /* report */
	unsigned severity;
	uint64_t signature;
	char detail[160], source[48];
	uint64_t at_ms;
};

/* What the fleet tells the loop (all on the loop's thread). */
struct fleet_sink {
	/* Another node's decision on a subscriber, d NULL: it ended. */
	void (*decision)(void *ctx, const char *id, const char *node,
			 const struct fleet_decision *d);
	/* Our own decision on id was deleted by another node (a fleet-wide
	 * release): end it here, without writing again. */
	void (*own_released)(void *ctx, const char *id);
	/* A containment record, s NULL: it ended. */
	void (*scope)(void *ctx, const char *name,
		      const struct fleet_scope *s);
	/* A decision on a prefix (any node's, ours too: the sink compares),
	 * x NULL: it ended. */
	void (*prefix)(void *ctx, const char *prefix,
		       const struct fleet_prefix *x);
	void (*event)(void *ctx, const struct fleet_event *e);
	/* The first load of the buckets is complete (once), and each later
	 * resync after an outage (synced true each time). */
	void (*synced)(void *ctx, bool first);
	void *ctx;
};

struct fleet_report {
	bool connected, synced;
	uint64_t disconnects, resyncs;
	uint64_t puts, deletes, put_errors; /* bucket writes */
	uint64_t events_out, events_in, events_dropped;
	uint64_t applied;		   /* entries of other nodes taken */
	uint64_t refused;		   /* entries that did not parse */
	size_t pending;			   /* writes waiting (cut off) */
	size_t queued_events;
	uint64_t decisions, sessions;	   /* keys known */
	uint64_t last_rev;		   /* of the decisions bucket */
	char server[256];		   /* the one connected to */
};

/* Connects (retrying in the background), makes the buckets and the stream
 * if they are missing, and starts watching. Returns at once: the loop
 * learns of the first load through sink.synced. */
int fleet_open(struct loop *l, const struct policy *p,
	       const struct fleet_sink *sink, struct fleet **ret, char *err,
	       size_t errlen);
void fleet_close(struct fleet *f);
/* Runs the loop until the first load is complete, or cluster.sync_timeout
 * passed (-ETIMEDOUT, err says what is missing). */
int fleet_wait_synced(struct fleet *f, char *err, size_t errlen);
const char *fleet_node(const struct fleet *f);
const struct fleet_report *fleet_report(struct fleet *f);
json_object *fleet_status_json(struct fleet *f);

/* ---- writes (queued; kept while cut off, written on reconnect) ---- */

/* Our decision on a subscriber (d NULL: it ended). Nothing is written
 * when the bucket holds it already. */
void fleet_put_decision(struct fleet *f, const char *id,
			const struct fleet_decision *d);
/* A fleet-wide release of a subscriber: every node's key of it. */
void fleet_release(struct fleet *f, const char *id);
/* Our sessions of a subscriber (JSON array; NULL or empty: none). */
void fleet_put_sessions(struct fleet *f, const char *id, json_object *arr);
/* A containment we made (created only if absent), or its end (deleted
 * only when the record is ours, or by_operator). */
void fleet_contain(struct fleet *f, const struct fleet_scope *s);
void fleet_uncontain(struct fleet *f, const char *scope, bool by_operator);
/* An event we ingested. */
void fleet_event(struct fleet *f, const struct fleet_event *e);
/* This node's decision on a prefix to the bucket; its end (by_operator:
 * a release, deleted whoever's it is; else an expiry, deleted only while
 * the record is still this node's). */
void fleet_put_prefix(struct fleet *f, const struct fleet_prefix *x);
void fleet_end_prefix(struct fleet *f, const char *prefix, bool by_operator);
/* The bucket's record of a prefix (false: none). */
bool fleet_get_prefix(struct fleet *f, const char *prefix,
		      struct fleet_prefix *x);

/* ---- reads (the loop's copy of the buckets) ---- */

/* Every node's decisions and sessions of a subscriber, as JSON, or NULL if
 * the fleet knows none. */
json_object *fleet_show_json(struct fleet *f, const char *id);
/* The decision of every other node on a subscriber: fn for each. */
void fleet_each_decision(struct fleet *f, const char *id,
			 void (*fn)(void *ctx, const struct fleet_decision *d),
			 void *ctx);
/* Every subscriber id we hold a key of in the decisions bucket (after the
 * first load): fn for each, with whether its value is a delete marker
 * and when (Unix ms) that entry was written. */
void fleet_each_own(struct fleet *f,
		    void (*fn)(void *ctx, const char *id, bool deleted,
			       uint64_t at_ms),
		    void *ctx);

/* Every subscriber of which we hold a key in the sessions bucket. */
void fleet_each_own_sessions(struct fleet *f,
			     void (*fn)(void *ctx, const char *id),
			     void *ctx);

/* ---- the codec (fleet-codec.c; no I/O) ---- */

/* A subscriber id or scope name as one key token: letters, digits and '-'
 * as they are, every other byte as _XX (hex). false if it does not fit. */
bool fleet_key_enc(const char *in, char *out, size_t len);
bool fleet_key_dec(const char *in, char *out, size_t len);
char *fleet_decision_encode(const struct fleet_decision *d);
int fleet_decision_decode(const char *s, size_t n, struct fleet_decision *d);
char *fleet_scope_encode(const struct fleet_scope *s);
int fleet_scope_decode(const char *t, size_t n, struct fleet_scope *s);
char *fleet_event_encode(const struct fleet_event *e);
int fleet_event_decode(const char *t, size_t n, struct fleet_event *e);
char *fleet_prefix_encode(const struct fleet_prefix *x);
int fleet_prefix_decode(const char *t, size_t n, struct fleet_prefix *x);
/* The "node" member of a record (false: none, or not a record). */
bool fleet_value_node(const char *t, size_t n, char node[FLEET_NODE_MAX]);

#endif
