// SPDX-License-Identifier: GPL-2.0-only
/*
 * The diagnostic logger: stderr, one line per message, level-filtered.
 */
#include <stdio.h>
#include <stdarg.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum log_level cur_level = LOG_LVL_INFO;
static const char *cur_ident = "xcrs";
static int libbpf_silenced;

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

static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	if (lvl > cur_level)
		return;
	if (lvl != LOG_LVL_INFO)
		fprintf(stderr, "%s: %s: ", cur_ident, level_names[lvl]);
	else
		fprintf(stderr, "%s: ", cur_ident);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

/* libbpf and libxdp end their lines with '\n' themselves. */
static int lib_print(int lib_level, const char *fmt, va_list ap)
{
	enum log_level lvl;

	if (libbpf_silenced && cur_level < LOG_LVL_VERBOSE)
		return 0;
	/* LIBBPF_WARN → debug, INFO and DEBUG → verbose. */
	lvl = lib_level == LIBBPF_WARN ? LOG_LVL_DEBUG : LOG_LVL_VERBOSE;
	if (lvl > cur_level)
		return 0;
	fprintf(stderr, "%s: libbpf: ", cur_ident);
	return vfprintf(stderr, fmt, ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	return lib_print(level, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	return lib_print(level, fmt, ap);
}

void log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

int log_libbpf_silence(void)
{
	int prev = libbpf_silenced;

	libbpf_silenced = 1;
	return prev;
}

void log_libbpf_restore(int prev)
{
	libbpf_silenced = prev;
}
