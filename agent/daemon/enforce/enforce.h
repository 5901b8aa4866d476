/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Enforcement: the only caller of the dataplane library's writers. It turns
 * what the decision layer decided (a terminal's level until a time, a
 * scope's containment, a decision on a prefix) and a policy's tables into
 * dataplane entries; builds a static subscriber's entry (here, once); keeps
 * the capacity state (fill warnings, failing closed while a reaction does
 * not fit); attaches the policy's interfaces; and counts its errors.
 *
 * It reaches the dataplane through struct enf_dp_ops: the library
 * (enf_dp_library, over a struct dp) or, in unit tests, a fake. Every
 * function returning int returns 0 or a negative errno; enf_errmsg() then
 * says what the dataplane refused. The policy passed in must outlive the
 * module (or be replaced with enf_set_policy() first).
 */
#ifndef XCRS_ENFORCE_H
#define XCRS_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane.h"
#include "policy.h"

/* The dataplane as enforcement sees it: the writers of the library, and
 * the two counters it needs for capacity. Each returns what the library
 * returns; errmsg the library's dp_errmsg(). */
struct enf_dp_ops {
	int (*policy_check)(void *dp, const struct dp_policy *p);
	int (*policy_apply)(void *dp, const struct dp_policy *p);
	int (*sub_set)(void *dp, const struct xcrs_addr *a,
		       const struct xcrs_sub *v);
	int (*sub_del)(void *dp, const struct xcrs_addr *a);
	int (*scope_set)(void *dp, uint32_t id, const struct xcrs_scope *v);
	int (*prefix_set)(void *dp, const struct xcrs_addr *a, unsigned plen,
			  const struct xcrs_sub *v);
	int (*prefix_del)(void *dp, const struct xcrs_addr *a, unsigned plen);
	int (*prefix_each)(void *dp,
			   void (*fn)(void *ctx, const struct xcrs_addr *a,
				      unsigned plen, const struct xcrs_sub *s),
			   void *ctx);
	/* every host entry, in steps (NULL in a fake without it) */
	int (*sub_each_step)(void *dp, struct dp_sub_cursor *c, size_t max,
			     void (*fn)(void *ctx, const struct xcrs_addr *a,
					const struct xcrs_sub *s),
			     void *ctx);
	int (*fail_closed)(void *dp, bool on);
	/* dp_batch (NULL in a fake without it) */
	void (*batch)(void *dp, bool on);
	int (*runtime_get)(void *dp, uint32_t *ret_flags);
	uint64_t (*subs_count)(void *dp, uint64_t *ret_capacity);
	uint64_t (*slots_used)(void *dp, uint64_t *ret_capacity);
	int (*seen_del)(void *dp, const struct xcrs_addr *a);
	int (*seen_expire)(void *dp, uint64_t idle_ns,
			   void (*fn)(void *ctx, const struct xcrs_addr *a,
				      const struct xcrs_seen *s),
			   void *ctx);
	/* interfaces: NULL in a fake without them */
	int (*attach)(void *dp, const char *ifname,
		      const struct dp_attach_opts *o);
	int (*detach)(void *dp, const char *ifname);
	int (*attached)(void *dp, const char *ifname);
	const char *(*errmsg)(void *dp);
};

/* The library as the backend; its dp argument is a struct dp. */
extern const struct enf_dp_ops enf_dp_library;

struct enforce;

/* What metrics and xcrsctl stats read. */
struct enf_report {
	uint64_t errors;	/* dataplane writes refused */
	bool subs_full;		/* failing closed (agent.maps.when_full) */
	bool unenforced;	/* some reaction has no entry yet */
	bool subs_warned, slots_warned; /* past agent.maps.warn_at */
};

/* An address a session holds (the subscribers' sessions, through the
 * decision layer): the scope and the level its entry has without a
 * reaction. */
struct enf_hold {
	uint32_t scope_id;  /* 0 = none */
	int base_level;	    /* -1: none (no entry of its own) */
	bool by_prefix;	    /* held through its session's /64 entry: a host
			     * entry of its own only while it has a reaction */
};
typedef bool (*enf_holder_fn)(void *ctx, const struct xcrs_addr *a,
			      struct enf_hold *ret);

int enf_new(const struct enf_dp_ops *ops, void *dp, const struct policy *p,
	    struct enforce **ret_enf);
/* Who holds addresses (NULL: nobody, every address is the policy's). */
void enf_set_holder(struct enforce *e, enf_holder_fn fn, void *ctx);
void enf_free(struct enforce *e);
/* The dataplane, once it is open (enf_new may be given NULL: the decision
 * layer is set up and the state file read before the dataplane is
 * touched). */
void enf_set_dp(struct enforce *e, void *dp);
void enf_set_policy(struct enforce *e, const struct policy *p);
const struct enf_report *enf_report(const struct enforce *e);
/* The message of the last refused write. */
const char *enf_errmsg(const struct enforce *e);

/* An earlier agent left the dataplane failing closed: carry on (until every
 * reaction fits) if the policy still wants it, else end it. */
void enf_adopt_runtime(struct enforce *e);

/* The entry of a static subscriber of the policy (its own level, never
 * expiring), or false if a is none. */
bool enf_static_entry(const struct policy *p, const struct xcrs_addr *a,
		      struct xcrs_sub *ret_entry);

/* The tables of p (levels, services, pools, settings) as the library takes
 * them (arrays allocated; free with enf_tables_free). */
int enf_tables_build(const struct policy *p, struct dp_policy *out);
void enf_tables_free(struct dp_policy *out);

/* What writing p's tables would refuse, without writing anything; err says
 * why ("FILE: ..."). */
int enf_tables_check(struct enforce *e, const struct policy *p, char *err,
		     size_t errlen);
/* The policy in force (start: old NULL; reload: old is the one before):
 * its tables as one atomic change, then the entries of static subscribers
 * that reacted(ctx, a) says have no reaction: the policy's own, and those
 * old listed that the policy no longer does (their entries go). Reacted
 * terminals and scopes are the caller's to write next (enf_terminal,
 * enf_scope). On a table error the running tables stay and err says why. */
int enf_policy(struct enforce *e, const struct policy *old,
	       bool (*reacted)(void *ctx, const struct xcrs_addr *a),
	       void *ctx, char *err, size_t errlen);

/* A terminal with a reaction: level until `until` (0: until released),
 * then then_level (-1: back to its static entry, or none). The scope is the
 * terminal's (static entry, else longest pool). -E2BIG when the subscriber
 * map is full (then, with agent.maps.when_full, the dataplane fails
 * closed); the reaction is retried by enf_housekeeping(). */
int enf_terminal(struct enforce *e, const struct xcrs_addr *a,
		 unsigned level, uint64_t until, int then_level);
/* A terminal without reactions: its static entry, else its session's
 * (held, not by a prefix, with a base level), else no entry at all. */
int enf_base(struct enforce *e, const struct xcrs_addr *a);
/* An IPv6 session's /64 entry (prefix: interface identifier 0): level
 * until `until` (0: for good), then base (-1: no entry); decision: the
 * subscriber's (a refusal is logged every time; the session's own base
 * at most once a second). And its end. */
int enf_prefix64(struct enforce *e, const struct xcrs_addr *prefix,
		 uint32_t scope_id, unsigned level, uint64_t until, int base,
		 bool decision);
int enf_prefix64_del(struct enforce *e, const struct xcrs_addr *prefix);
/* A scope's containment (mode XCRS_CONTAIN_NONE: none). */
int enf_scope(struct enforce *e, int scope, enum xcrs_contain_mode mode);
/* A scope id that left the policy: no containment. */
int enf_scope_gone(struct enforce *e, uint32_t id);
/* A decision on a prefix (plen in the 128-bit form), and its end. */
int enf_prefix(struct enforce *e, const struct xcrs_addr *a, unsigned plen,
	       unsigned level, uint64_t until);
int enf_prefix_del(struct enforce *e, const struct xcrs_addr *a,
		   unsigned plen);
/* Calls fn for every prefix decision the dataplane holds. */
int enf_prefix_each(struct enforce *e,
		    void (*fn)(void *ctx, const struct xcrs_addr *a,
			       unsigned plen, const struct xcrs_sub *s),
		    void *ctx);

/* Calls fn for at most max further host entries the dataplane holds
 * (dp_sub_each_step: a zeroed cursor starts the walk); how many, 0 when
 * the walk is over, or -errno (-EOPNOTSUPP without the operation). */
int enf_sub_each_step(struct enforce *e, struct dp_sub_cursor *c, size_t max,
		      void (*fn)(void *ctx, const struct xcrs_addr *a,
				 const struct xcrs_sub *s),
		      void *ctx);

/* MS presence: forget one; expire those idle past idle_ns. */
int enf_seen_forget(struct enforce *e, const struct xcrs_addr *a);
int enf_seen_expire(struct enforce *e, uint64_t idle_ns,
		    void (*fn)(void *ctx, const struct xcrs_addr *a,
			       const struct xcrs_seen *s),
		    void *ctx);

/* Attaches the policy's interfaces (old: the policy before a reload, or
 * NULL at start): see attach_interfaces in enforce.c. */
int enf_interfaces(struct enforce *e, const struct policy *old, char *err,
		   size_t errlen);

/* A batch of entry writes (a wake-up's sessions): what they change is
 * announced to the programs once, at its end (dataplane.h, dp_batch). */
void enf_batch(struct enforce *e, bool on);

/* Every few seconds: fill warnings; while some reaction has no entry (or
 * the dataplane fails closed), resync() is asked to write every reaction
 * again (with enf_terminal), and failing closed ends once they all fit. */
void enf_housekeeping(struct enforce *e,
		      void (*resync)(void *ctx, struct enforce *e), void *ctx);

#endif
