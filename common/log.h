/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One diagnostic logger for every xcrs program: levels, -v/-vv, and the
 * libbpf/libxdp print hooks routed one level down. The audit log of
 * decisions is a separate API (agent/), not this.
 */
#ifndef XCRS_LOG_H
#define XCRS_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
	LOG_LVL_VERBOSE,
};

/* Sets the threshold; messages above it are not formatted at all. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Prefixes every line with "prog: ". */
void log_set_ident(const char *ident);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Routes libbpf's and libxdp's output through log_msg, one level down
 * (their warnings are our debug), so it shows with -v / -vv. */
void log_hook_libbpf(void);
/* While loading BPF: drop libbpf's and libxdp's output entirely unless the
 * level is verbose (-vv), so a verifier log does not reach the operator
 * unasked. Returns the previous state for log_libbpf_restore(). */
int log_libbpf_silence(void);
void log_libbpf_restore(int prev);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_get_level() >= LOG_LVL_DEBUG)                          \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                   \
	} while (0)

#endif
