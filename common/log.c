// SPDX-License-Identifier: GPL-2.0-only
/*
 * The diagnostic logger: stderr, one line per message, level-filtered.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdarg.h>
#include <unistd.h>

#include "log.h"

static enum log_level cur_level = LOG_LVL_INFO;
static const char *cur_ident = "xcrs";
static int lib_silenced;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",   [LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",     [LOG_LVL_DEBUG] = "debug",
	[LOG_LVL_VERBOSE] = "debug",
};

void log_set_level(enum log_level lvl)
{
	cur_level = lvl;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

void log_set_ident(const char *ident)
{
	cur_ident = ident;
}

/* One line, one write: lines of several processes on one stderr do not
 * interleave, and a busy agent makes one system call per line. What the
 * message carries from outside (an event's signature text, an operator's
 * reason) cannot start a line of its own: a line break or another control
 * character in it is written as an escape (\n, \r, \xNN). */
static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char hex[] = "0123456789abcdef";
	char msg[2048], line[2048];
	size_t n, o;
	int m;

	if (lvl > cur_level)
		return;
	m = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (m < 0)
		m = 0;
	n = (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1;
	if (n && msg[n - 1] == '\n')
		n--; /* a caller's own line end */
	if (lvl != LOG_LVL_INFO)
		m = snprintf(line, sizeof(line), "%s: %s: ", cur_ident,
			     level_names[lvl]);
	else
		m = snprintf(line, sizeof(line), "%s: ", cur_ident);
	o = m > 0 && (size_t)m < sizeof(line) / 2 ? (size_t)m : 0;
	for (size_t i = 0; i < n && o + 5 < sizeof(line); i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c >= 0x20 && c != 0x7f) {
			line[o++] = (char)c;
		} else if (c == '\t') {
			line[o++] = ' ';
		} else {
			line[o++] = '\\';
			if (c == '\n' || c == '\r') {
				line[o++] = c == '\n' ? 'n' : 'r';
			} else {
				line[o++] = 'x';
				line[o++] = hex[c >> 4];
				line[o++] = hex[c & 15];
			}
		}
	}
	line[o++] = '\n'; /* a cut message loses its tail, not its end */
	fflush(stderr);
	if (write(STDERR_FILENO, line, o) < 0)
		return; /* nowhere to say it */
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

int log_lib_vprint(const char *lib, bool warn, const char *fmt, va_list ap)
{
	enum log_level lvl;

	if (lib_silenced && cur_level < LOG_LVL_VERBOSE)
		return 0;
	lvl = warn ? LOG_LVL_DEBUG : LOG_LVL_VERBOSE;
	if (lvl > cur_level)
		return 0;
	fprintf(stderr, "%s: %s: ", cur_ident, lib);
	return vfprintf(stderr, fmt, ap);
}

int log_lib_silence(void)
{
	int prev = lib_silenced;

	lib_silenced = 1;
	return prev;
}

void log_lib_restore(int prev)
{
	lib_silenced = prev;
}
