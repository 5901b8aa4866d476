// SPDX-License-Identifier: GPL-2.0-only
/* Clocks (see clock.h). */
#include <stdio.h>
#include <time.h>

#include "clock.h"

uint64_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t mono_to_real_ms(uint64_t mono)
{
	int64_t d = (int64_t)mono - (int64_t)now_mono();

	return (uint64_t)((int64_t)now_real_ms() + d / 1000000);
}

uint64_t real_ms_to_mono(uint64_t real_ms)
{
	int64_t d = (int64_t)real_ms - (int64_t)now_real_ms();
	int64_t m = (int64_t)now_mono() + d * 1000000;

	return m > 0 ? (uint64_t)m : 1;
}

void fmt_time_ms(uint64_t real_ms, char *buf, size_t len)
{
	time_t s = (time_t)(real_ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(real_ms % 1000));
}
