/* SPDX-License-Identifier: GPL-2.0-only */
/* One JSON object on a line, as every JSON-lines input of the agent takes
 * it (sensor events, session feed, control requests). */
#ifndef XCRS_JSONLINE_H
#define XCRS_JSONLINE_H

#include <stddef.h>

struct json_object;

/* Parses line[0..len) (no NUL needed) as exactly one JSON object, nested
 * at most depth deep, followed by nothing but blanks. Returns the object
 * (the caller puts it) or NULL with *why saying what is wrong. */
struct json_object *json_line_object(const char *line, size_t len,
				     int depth, const char **why);

#endif
