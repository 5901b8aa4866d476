/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-MS state of the SCS from MS connect to MS leave (X.1125 11.1-11.6):
 * a hash table keyed by the MS's address. Pure data structure, no I/O.
 */
#ifndef XCRS_MSSTATE_H
#define XCRS_MSSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crsap.h"
#include "xcrs_abi.h"

struct ms_entry {
	struct xcrs_addr addr;
	uint64_t since_ms;	 /* Unix ms of the connect */
	char source[16];	 /* "first-traffic", "feed", "report" */
	/* discovery and SCA installation (11.1, 11.3) */
	unsigned probes;	 /* probes sent and not answered */
	uint64_t next_probe;	 /* CLOCK_MONOTONIC ns of the next, 0 none */
	bool sca;		 /* its SCA answered or reported */
	bool redirected;	 /* held at the SCA download service */
	char sca_id[CRSAP_ID_MAX + 1]; /* the id its SCA reports with */
	struct ms_entry *next;	 /* hash chain */
};

struct mstab {
	struct ms_entry **b;
	size_t nb, n;
};

/* 0 or -ENOMEM. */
int mstab_init(struct mstab *t);
void mstab_free(struct mstab *t);
struct ms_entry *mstab_get(const struct mstab *t, const struct xcrs_addr *a);
/* The entry of a, made (zeroed but for addr) if absent; *created says
 * which. NULL if out of memory. */
struct ms_entry *mstab_add(struct mstab *t, const struct xcrs_addr *a,
			   bool *created);
/* 0 or -ENOENT. */
int mstab_del(struct mstab *t, const struct xcrs_addr *a);
/* Calls fn for every entry (fn must not add or delete). */
void mstab_each(const struct mstab *t,
		void (*fn)(struct ms_entry *e, void *ctx), void *ctx);

#endif
