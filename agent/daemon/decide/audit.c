// SPDX-License-Identifier: GPL-2.0-only
/* The audit log (see audit.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "log.h"

struct audit {
	char path[256];
	int fd;
	int err;	   /* errno of the last write, 0 if it succeeded */
	uint64_t failures;
};

int audit_open(const char *path, struct audit **ret_audit)
{
	struct audit *au = calloc(1, sizeof(*au));
	int r;

	if (!au)
		return -ENOMEM;
	snprintf(au->path, sizeof(au->path), "%s", path);
	au->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (au->fd < 0) {
		r = -errno;
		free(au);
		return r;
	}
	*ret_audit = au;
	return 0;
}

int audit_reopen(struct audit *au)
{
	int fd = open(au->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		      0640);

	if (fd < 0)
		return -errno; /* the old file goes on */
	close(au->fd);
	au->fd = fd;
	return 0;
}

void audit_close(struct audit *au)
{
	if (!au)
		return;
	close(au->fd);
	free(au);
}

void audit_write(struct audit *au, json_object *rec)
{
	char ts[40];
	const char *s;
	size_t n;
	char *line;

	fmt_time_ms(now_real_ms(), ts, sizeof(ts));
	json_object_object_add(rec, "time", json_object_new_string(ts));
	s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(s);
	line = malloc(n + 2);
	if (line) {
		memcpy(line, s, n);
		line[n] = '\n';
		ssize_t w = au ? write(au->fd, line, n + 1) : (ssize_t)n + 1;

		if (w != (ssize_t)(n + 1)) {
			int e = w < 0 ? errno : ENOSPC;

			au->failures++;
			if (au->err != e)
				log_error("audit log: write failed: %s (records "
					  "are lost until it works again)",
					  strerror(e));
			au->err = e;
		} else if (au && au->err) {
			log_info("audit log: written again (%llu records "
				 "lost)", (unsigned long long)au->failures);
			au->err = 0;
		}
		free(line);
	}
	json_object_put(rec);
}

int audit_error(const struct audit *au)
{
	return au ? au->err : 0;
}

uint64_t audit_failures(const struct audit *au)
{
	return au ? au->failures : 0;
}

void audit_add_str(json_object *rec, const char *k, const char *v)
{
	if (v && *v)
		json_object_object_add(rec, k, json_object_new_string(v));
}

void audit_add_until(json_object *rec, uint64_t until_mono)
{
	char ts[40];

	if (!until_mono)
		return;
	fmt_time_ms(mono_to_real_ms(until_mono), ts, sizeof(ts));
	json_object_object_add(rec, "until", json_object_new_string(ts));
}
