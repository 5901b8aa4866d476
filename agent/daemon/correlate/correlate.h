/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The correlation engine (the SCS's evaluation and control policies of
 * X.1125 clause 8): terminal reports, IDS alerts and dataplane detections
 * in, decisions out. Pure logic: no I/O, no clock. Time comes in as a
 * CLOCK_MONOTONIC "now" with every call, so tests step a fake clock.
 *
 * A terminal may hold several reactions at once (one per rule, plus the
 * operator's); its effective level is the most restrictive of them (levels
 * are ordered from least to most restricted, as the policy lists them).
 * Every change of a terminal's effective level or of a scope's containment
 * is one decision, passed to the callback before the call returns.
 * Functions return 0 (or a count) or a negative errno.
 */
#ifndef XCRS_CORRELATE_H
#define XCRS_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "xcrs_abi.h"

struct corr;

enum corr_event_kind {
	CORR_EV_REPORT = 0, /* a terminal's SCI report */
	CORR_EV_IDS,	    /* an IDS alert or sensor event */
	CORR_EV_FANOUT,	    /* the dataplane saw the terminal fan out */
};

struct corr_event {
	enum corr_event_kind kind;
	struct xcrs_addr terminal;
	enum crsap_status status; /* report */
	unsigned severity;		  /* ids: 1 = most severe */
	uint64_t signature;		  /* ids: signature id */
	char detail[160];		  /* signature text, counts: evidence */
	char source[48];		  /* where it came from */
};

enum corr_change {
	CORR_TERMINAL_SET = 0,	/* new effective level */
	CORR_TERMINAL_RELEASED, /* no reaction left */
	CORR_SCOPE_CONTAINED,
	CORR_SCOPE_RELEASED,
};

struct corr_decision {
	enum corr_change change;
	struct xcrs_addr terminal; /* terminal changes */
	int scope;		   /* policy scope index, -1 = none */
	unsigned level;		   /* SET: the effective level */
	uint64_t until_ns;	   /* SET/CONTAINED: end, 0 = until released */
	int then_level;		   /* SET: level once until_ns passes, -1 = no
				    * reaction left */
	const char *rule;	   /* SET: the rule of the reaction that holds
				    * the level (a rule's name, "operator");
				    * RELEASED and scopes: what ended it (a
				    * rule, "operator", "expired", "clean",
				    * "reload") */
	const char *why;	   /* evidence, in words */
	const char *cause;	   /* SET: what moved the level when it was not
				    * the holding reaction's own firing
				    * ("clean", "expired", "reload", a
				    * released rule), else NULL */
};

typedef void (*corr_decide_fn)(void *ctx, const struct corr_decision *d);

/* Every reaction's own changes, also those that leave the effective level
 * as it is (a rule firing under a stronger reaction, a hidden one
 * expiring): one note each, before the decision they lead to, if any. */
enum corr_rchange {
	CORR_R_FIRED = 0, /* added, or renewed by its rule firing again */
	CORR_R_ENDED,
};
struct corr_reaction_note {
	enum corr_rchange change;
	struct xcrs_addr terminal;
	const char *rule;
	const char *level; /* the reaction's own level (its name) */
	uint64_t until_ns;
	const char *why;  /* FIRED: the evidence; ENDED: in words */
	const char *by;	  /* ENDED: "expired", "clean", "operator",
			   * "released", "reload", "replaced" */
};
typedef void (*corr_note_fn)(void *ctx, const struct corr_reaction_note *n);
/* Sets (fn NULL: clears) the receiver of reaction notes. */
void corr_set_notes(struct corr *c, corr_note_fn fn, void *ctx);

/* The engine keeps a pointer to p: it must outlive the engine (or be
 * replaced with corr_set_policy first). */
int corr_new(const struct policy *p, corr_decide_fn fn, void *ctx,
	     struct corr **ret_corr);
void corr_free(struct corr *c);
/* Swaps the policy (reload). Reactions keep their level by name; those
 * whose level is gone end (released); evidence is dropped. */
int corr_set_policy(struct corr *c, const struct policy *p, uint64_t now);

/* One event at now. Returns the number of decisions made. Whether the
 * terminal may be reacted to at all (never_react) is the caller's to check
 * first (decide.h): the engine correlates whatever it is given. */
int corr_ingest(struct corr *c, const struct corr_event *ev, uint64_t now);
/* An event another node of the fleet ingested at `at` (CLOCK_MONOTONIC
 * here), of a terminal of scope (index) whose identity key is who: it
 * counts only towards outbreak rules that contain (the terminal itself is
 * that node's to react to). Returns the number of decisions. */
int corr_ingest_remote(struct corr *c, const struct corr_event *ev,
		       int scope, const struct xcrs_addr *who, uint64_t at,
		       uint64_t now);
/* Ends what is due at now; returns the number of decisions. */
int corr_tick(struct corr *c, uint64_t now);
/* The earliest time something is due, or 0 if nothing is. */
uint64_t corr_next_deadline(const struct corr *c);

/* The operator's reactions (rule "operator"). until 0 = until released.
 * corr_release ends every reaction of the terminal: -ENOENT if none. */
int corr_react(struct corr *c, const struct xcrs_addr *t, unsigned level,
	       uint64_t until, const char *reason, uint64_t now);
int corr_release(struct corr *c, const struct xcrs_addr *t, uint64_t now);
/* The same under another name than "operator" (e.g. "no-sca": the SCS
 * holds an MS without an SCA at the download service); releasing by name
 * ends only that one (-ENOENT if there is none). */
int corr_react_rule(struct corr *c, const struct xcrs_addr *t,
		    const char *rule, unsigned level, uint64_t until,
		    bool release_on_clean, const char *reason, uint64_t now);
int corr_release_rule(struct corr *c, const struct xcrs_addr *t,
		      const char *rule, const char *reason, uint64_t now);
int corr_contain(struct corr *c, int scope, uint64_t until,
		 const char *reason, uint64_t now);
int corr_uncontain(struct corr *c, int scope, uint64_t now);
/* A containment under a rule's name (another node's record of its rule):
 * kept if the scope is contained at least as long already. */
int corr_contain_rule(struct corr *c, int scope, uint64_t until,
		      const char *rule, const char *reason, uint64_t now);

/* Who holds an address, as the packet core says (a session): the
 * subscriber's identity key and the session's scope. Evidence (rule hit
 * counts, escalation offences, outbreak counts) belongs to the identity,
 * so one terminal that changes address is one terminal; reactions stay on
 * the address they were made on. */
struct corr_holder {
	struct xcrs_addr who; /* opaque identity key (never a unicast
			       * terminal address: ff00::/8) */
	int scope;	      /* the session's scope (index), -1: its
			       * address's */
};
/* true and ret filled when a session holds a; p is the engine's policy
 * (during a reload the new one). */
typedef bool (*corr_holder_fn)(void *ctx, const struct policy *p,
			       const struct xcrs_addr *a,
			       struct corr_holder *ret);
void corr_set_holder(struct corr *c, corr_holder_fn fn, void *ctx);

/* The scope a terminal belongs to (its session's, else its static entry's,
 * else the longest pool's), or -1. */
int corr_scope_of(const struct corr *c, const struct xcrs_addr *t);

/* The escalation history (times of rule reactions, CLOCK_MONOTONIC ns,
 * oldest first) of an identity key (a holder's who, or an address): how
 * many, at most max. corr_set_offences replaces it (a restart). */
size_t corr_offences(const struct corr *c, const struct xcrs_addr *who,
		     uint64_t *out, size_t max);
int corr_set_offences(struct corr *c, const struct xcrs_addr *who,
		      const uint64_t *in, size_t n);

/* A reacted terminal as the state file and xcrsctl see it. */
struct corr_view {
	struct xcrs_addr terminal;
	int scope;
	unsigned level;	      /* effective */
	uint64_t until_ns;    /* of the reaction holding that level */
	const char *rule;     /* of that reaction */
	const char *why;
	int then_level;	      /* once until_ns passes, -1 = none left */
	size_t nreactions;
};
typedef void (*corr_view_fn)(void *ctx, const struct corr_view *v);
/* Calls fn for every terminal with a reaction; returns how many. */
size_t corr_each_terminal(const struct corr *c, corr_view_fn fn, void *ctx);
/* Fills v for t: 0, or -ENOENT if it has no reaction. */
int corr_terminal(const struct corr *c, const struct xcrs_addr *t,
		  struct corr_view *ret_view);
/* Containment of a scope: 1 contained (until/rule set), 0 not. */
int corr_scope_state(const struct corr *c, int scope, uint64_t *ret_until,
		     const char **ret_rule);

/* State restore after a restart: one reaction as it was saved. No
 * decision is emitted; the caller re-applies the effective levels. */
int corr_restore(struct corr *c, const struct xcrs_addr *t, const char *rule,
		 unsigned level, uint64_t until, bool release_on_clean,
		 const char *why);
int corr_restore_scope(struct corr *c, int scope, const char *rule,
		       uint64_t until);

/* Every reaction, for saving. */
struct corr_saved {
	struct xcrs_addr terminal;
	const char *rule;
	unsigned level;
	uint64_t until_ns;
	bool release_on_clean;
	const char *why;
};
typedef void (*corr_save_fn)(void *ctx, const struct corr_saved *s);
void corr_each_reaction(const struct corr *c, corr_save_fn fn, void *ctx);
/* The reactions of one terminal (for the decision journal); how many. */
size_t corr_each_reaction_of(const struct corr *c, const struct xcrs_addr *a,
			     corr_save_fn fn, void *ctx);

#endif
