/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Threat events from sensors, one JSON object per line: Suricata's EVE
 * JSON (only event_type "alert" is evidence; other types are ignored) and
 * the generic sensor format of xcrs:
 *
 *   {"terminal": "192.0.2.10", "severity": 1, "signature_id": 9000001,
 *    "signature": "text", "sensor": "name"}
 *
 * (terminal, severity 1..255 with 1 the most severe, signature_id
 * required; the rest optional). Pure: no I/O.
 */
#ifndef XCRS_EVENTS_H
#define XCRS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate.h"

#define EV_LINE_MAX 65536

struct ev_alert {
	struct xcrs_addr src, dst; /* generic: src is the terminal */
	bool has_dst;
	unsigned severity;
	uint64_t signature;
	char text[160];
	char sensor[48];
};

/* 1: *a holds an alert; 0: a well-formed event that is not evidence
 * (EVE flow, dns, stats, ...); -EBADMSG: malformed, err says why. */
int ev_parse_eve(const char *line, size_t len, struct ev_alert *a, char *err,
		 size_t errlen);
int ev_parse_generic(const char *line, size_t len, struct ev_alert *a,
		     char *err, size_t errlen);

/* Which end of the alert is a subscriber of ours: the source if it is one,
 * else the destination. Fills ev (kind IDS) and returns 0, or -ENOENT if
 * neither end is a subscriber. */
typedef bool (*ev_is_subscriber_fn)(void *ctx, const struct xcrs_addr *a);
int ev_to_corr(const struct ev_alert *a, ev_is_subscriber_fn is_sub,
	       void *ctx, const char *source, struct corr_event *ev);

#endif
