/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The audit log: one JSON object a line, appended with one write(2) (the
 * file is opened O_APPEND, so lines stay whole), each with its "time". Every
 * decision, operator action, reload and MS lifecycle event is a record; the
 * record formats are part of the interface (README "Audit log").
 */
#ifndef XCRS_AUDIT_H
#define XCRS_AUDIT_H

#include <stdint.h>

#include <json-c/json.h>

struct audit;

/* Opens (creates, 0640) path for appending. 0 or -errno. */
int audit_open(const char *path, struct audit **ret_audit);
void audit_close(struct audit *au);
/* Opens the file of the path again (after a rotation: SIGHUP, the shipped
 * logrotate file): 0, or -errno with the old file kept. */
int audit_reopen(struct audit *au);
/* Adds "time" and appends rec; takes rec. au may be NULL (nothing is
 * written: tools and tests). */
void audit_write(struct audit *au, json_object *rec);
/* The errno of the last write if it failed (disk full), else 0; and how
 * many records could not be written so far. */
int audit_error(const struct audit *au);
uint64_t audit_failures(const struct audit *au);
/* rec[k] = v unless v is NULL or "". */
void audit_add_str(json_object *rec, const char *k, const char *v);
/* rec["until"] = RFC 3339 of a CLOCK_MONOTONIC time, unless it is 0. */
void audit_add_until(json_object *rec, uint64_t until_mono);

#endif
