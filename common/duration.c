// SPDX-License-Identifier: GPL-2.0-only
/* Durations in text (see duration.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

static const struct {
	const char *unit;
	uint64_t ns;
} units[] = {
	{ "d", 86400ULL * 1000000000ULL }, { "h", 3600ULL * 1000000000ULL },
	{ "m", 60ULL * 1000000000ULL },	   { "s", 1000000000ULL },
	{ "ms", 1000000ULL },
};

int duration_parse(const char *s, uint64_t *ret_ns)
{
	uint64_t total = 0;
	int last = -1;

	if (!*s)
		return -EINVAL;
	while (*s) {
		uint64_t v = 0;
		int u = -1;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			v = v * 10 + (uint64_t)(*s++ - '0');
		}
		/* Longest unit name first: "ms" before "m". */
		for (int i = 0; i < 5; i++) {
			size_t l = strlen(units[i].unit);

			if (!strncmp(s, units[i].unit, l) &&
			    (u < 0 || l > strlen(units[u].unit)))
				u = i;
		}
		if (u < 0 || u <= last)
			return -EINVAL; /* no unit, or units out of order */
		s += strlen(units[u].unit);
		if (v > UINT64_MAX / units[u].ns ||
		    total > UINT64_MAX - v * units[u].ns)
			return -ERANGE;
		total += v * units[u].ns;
		last = u;
	}
	*ret_ns = total;
	return 0;
}

void duration_format(uint64_t ns, char *buf, size_t len)
{
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	if (!ns) {
		snprintf(buf, len, "0s");
		return;
	}
	for (int i = 0; i < 5 && n < len; i++) {
		uint64_t v = ns / units[i].ns;

		if (!v)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%llu%s",
				      (unsigned long long)v, units[i].unit);
		ns -= v * units[i].ns;
	}
	if (ns && n < len)
		snprintf(buf + n, len - n, "%lluns", (unsigned long long)ns);
}
