/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durations as the policy, xcrsctl and the control protocol write them:
 * "30s", "10m", "1h30m", "2d", "500ms" (units d, h, m, s, ms, largest
 * first, each at most once).
 */
#ifndef XCRS_DURATION_H
#define XCRS_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* 0, -EINVAL (not a duration) or -ERANGE (too long). */
int duration_parse(const char *s, uint64_t *ret_ns);
/* Writes the shortest form ("1h30m", "0s"). */
void duration_format(uint64_t ns, char *buf, size_t len);

#endif
