/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event and session feeds (inputs:): Suricata EVE files followed across
 * rotation (inotify), unix sockets of EVE JSON, generic JSON-line events
 * and the operator's session feed. Alerts about subscribers go to the
 * decision layer, session lines to the MS lifecycle; a malformed line is
 * counted and logged and changes nothing. Changes to inputs take effect
 * when the agent restarts.
 */
#ifndef XCRS_FEEDS_H
#define XCRS_FEEDS_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "decide.h"
#include "lines.h"
#include "ms.h"
#include "subscribers.h"

struct feeds;
struct loop;

struct feeds_report {
	uint64_t eve_lines, event_lines, alerts;
	uint64_t malformed, not_subscriber;
	uint64_t overlong; /* in EVE files (sockets count in lines.h) */
	uint64_t session_facts; /* session lines with the core's facts */
};

/* Session sockets take both line forms: the address-only one goes to
 * the MS lifecycle, the one with the packet core's facts to the
 * subscribers (subs may be NULL: such lines are refused). */
int feeds_new(struct loop *l, const struct policy *p, struct decide *dec,
	      struct ms *m, struct subscribers *subs, struct lines *ls,
	      struct feeds **ret_feeds, char *err, size_t errlen);
/* Closes every input and removes its socket. f may be NULL. */
void feeds_free(struct feeds *f);
void feeds_set_policy(struct feeds *f, const struct policy *p);
const struct feeds_report *feeds_report(const struct feeds *f);
/* Appends one object per input (kind, path, lines, alerts, malformed);
 * returns how many. */
size_t feeds_describe(const struct feeds *f, json_object *arr);

#endif
