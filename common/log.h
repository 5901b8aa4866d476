/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One diagnostic logger for every xcrs program: levels, -v/-vv, and the
 * lines of libraries (libbpf, libxdp) routed one level down. The audit log of
 * decisions is a separate API (agent/), not this.
 */
#ifndef XCRS_LOG_H
#define XCRS_LOG_H

#include <stdarg.h>
#include <stdbool.h>

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
/* A daemon's lines (xcrs-agent, xcrs-authsrv): where stderr is the
 * journal (systemd's $JOURNAL_STREAM names it), each line starts with its
 * syslog priority ("<4>" for a warning: `journalctl -p warning` finds
 * it) and the journal stamps it; elsewhere each line starts with the time
 * (UTC, ISO 8601 with milliseconds). Command-line tools leave it off. */
void log_set_daemon(bool on);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line of a library's own output (libbpf, libxdp: the line ends in
 * '\n' already), one level down: its warnings are our debug, the rest
 * verbose, so it shows with -v / -vv. Returns what vfprintf returns. */
int log_lib_vprint(const char *lib, bool warn, const char *fmt, va_list ap);
/* While loading BPF: drop the libraries' output entirely unless the level
 * is verbose (-vv), so a verifier log does not reach the operator unasked.
 * Returns the previous state for log_lib_restore(). */
int log_lib_silence(void);
void log_lib_restore(int prev);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_get_level() >= LOG_LVL_DEBUG)                          \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                   \
	} while (0)

#endif
