/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Clocks: CLOCK_MONOTONIC nanoseconds (what the engine, the dataplane and
 * every deadline use) and Unix milliseconds (reports, the state file, the
 * audit log), with conversions between the two at the present moment.
 */
#ifndef XCRS_CLOCK_H
#define XCRS_CLOCK_H

#include <stddef.h>
#include <stdint.h>

uint64_t now_mono(void);
uint64_t now_real_ms(void);
uint64_t mono_to_real_ms(uint64_t mono);
/* Never 0 (0 means "no time" to callers). */
uint64_t real_ms_to_mono(uint64_t real_ms);
/* RFC 3339 UTC with milliseconds ("2026-12-01T07:00:00.000Z"). */
void fmt_time_ms(uint64_t real_ms, char *buf, size_t len);

#endif
