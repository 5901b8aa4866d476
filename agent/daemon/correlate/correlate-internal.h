/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The correlation engine's state, shared by correlate.c (events, decisions,
 * deadlines) and correlate-views.c (views, saving and restoring, policy
 * changes). Not an interface.
 */
#ifndef XCRS_CORRELATE_INTERNAL_H
#define XCRS_CORRELATE_INTERNAL_H

#include "correlate.h"

#define CORR_BUCKETS	   4096
#define CORR_MAX_REACTIONS 8
/* Past rule reactions remembered per terminal, for escalation. */
#define CORR_OFFENCES 32
#define OPERATOR	   "operator"

struct reaction {
	char rule[POLICY_NAME_MAX];
	unsigned level;
	uint64_t until; /* 0 = until released */
	bool release_on_clean;
	char why[400];
};

/* A term is keyed by an address (its reactions) or by an identity key
 * (corr_holder.who: evidence only, never reactions). An address without
 * a holder keeps its evidence on its own term. */
struct term {
	struct term *next;
	struct xcrs_addr a;
	struct reaction r[CORR_MAX_REACTIONS];
	size_t nr;
	uint64_t **hits;   /* per rule: ring of rule.count times */
	unsigned *nhits;   /* per rule: events stored (ring position) */
	bool emitted;	   /* the last decision was a SET */
	unsigned last_level;
	int last_then;
	uint64_t last_until;
	uint64_t last_seen;
	uint64_t offence[CORR_OFFENCES]; /* ring of rule reactions' times */
	unsigned noffence;		 /* ring position */
};

struct sighit {
	uint64_t signature;
	struct xcrs_addr terminal; /* its identity (corr_holder.who) */
	uint64_t ts;
};

struct scope_state {
	bool contained;
	uint64_t until;
	char rule[POLICY_NAME_MAX];
	char why[400];
	/* per rule: signature hits (outbreak rules only) */
	struct sighit **sig;
	size_t *nsig;
};

struct corr {
	const struct policy *p;
	corr_decide_fn fn;
	void *ctx;
	struct term *bucket[CORR_BUCKETS];
	size_t nterms;
	struct scope_state *scopes;
	uint64_t esc_keep_ns; /* the longest escalate.within of the policy */
	corr_holder_fn holder;
	void *holder_ctx;
	corr_note_fn note;
	void *note_ctx;
};

uint64_t ci_esc_keep(const struct policy *p);
void ci_term_free_evidence(struct term *t, size_t nrules);
struct term *ci_find(const struct corr *c, const struct xcrs_addr *a);
struct term *ci_find_or_add(struct corr *c, const struct xcrs_addr *a);
/* The holder of a (fills h and returns true), else false. */
bool ci_holder(const struct corr *c, const struct xcrs_addr *a,
	       struct corr_holder *h);
void ci_scopes_free(struct corr *c);
void ci_effective(const struct term *t, size_t *ret_top, int *ret_then);
int ci_emit_terminal(struct corr *c, struct term *t, const char *rule,
		     const char *why);
int ci_add_reaction(struct term *t, const char *rule, unsigned level,
		    uint64_t until, bool roc, const char *why);
void ci_remove_at(struct term *t, size_t i);
/* A note of reaction r of t (corr_set_notes); level is its name. */
void ci_note(const struct corr *c, const struct term *t,
	     const struct reaction *r, enum corr_rchange ch, const char *level,
	     const char *by, const char *why);
/* The same for the reaction of rule on t, FIRED, in c's policy. */
void ci_note_fired(const struct corr *c, const struct term *t,
		   const char *rule);

#endif
