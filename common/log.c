// SPDX-License-Identifier: GPL-2.0-only
/*
 * The diagnostic logger: stderr, one line per message, level-filtered.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level cur_level = LOG_LVL_INFO;
static const char *cur_ident = "xcrs";
static int lib_silenced;
/* 0 a tool's lines; 1 a daemon's, stamped with the time; 2 a daemon's on
 * the journal, with the syslog priority */
static int daemon_mode;

/* syslog priorities (sd-daemon(3)'s "<N>" prefix) of the levels */
static const char level_prio[] = {
	[LOG_LVL_ERROR] = '3', [LOG_LVL_WARN] = '4', [LOG_LVL_INFO] = '6',
	[LOG_LVL_DEBUG] = '7', [LOG_LVL_VERBOSE] = '7',
};

void log_set_daemon(bool on)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	daemon_mode = 0;
	if (!on)
		return;
	daemon_mode = 1;
	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    !fstat(STDERR_FILENO, &st) && (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino)
		daemon_mode = 2;
}

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
	o = 0;
	if (daemon_mode == 2) {
		line[o++] = '<';
		line[o++] = level_prio[lvl];
		line[o++] = '>';
	} else if (daemon_mode == 1) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		o += strftime(line, 32, "%Y-%m-%dT%H:%M:%S", &tm);
		o += (size_t)snprintf(line + o, 16, ".%03ldZ ",
				      ts.tv_nsec / 1000000);
	}
	if (lvl != LOG_LVL_INFO)
		m = snprintf(line + o, sizeof(line) - o, "%s: %s: ", cur_ident,
			     level_names[lvl]);
	else
		m = snprintf(line + o, sizeof(line) - o, "%s: ", cur_ident);
	o += m > 0 && (size_t)m < sizeof(line) / 2 ? (size_t)m : 0;
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
