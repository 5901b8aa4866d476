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
 * interleave, and a busy agent makes one system call per line. */
static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[2048];
	int n, m;

	if (lvl > cur_level)
		return;
	if (lvl != LOG_LVL_INFO)
		n = snprintf(line, sizeof(line), "%s: %s: ", cur_ident,
			     level_names[lvl]);
	else
		n = snprintf(line, sizeof(line), "%s: ", cur_ident);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2; /* cut: the rest is lost */
	line[n++] = '\n';
	fflush(stderr);
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
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
