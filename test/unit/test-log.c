// SPDX-License-Identifier: GPL-2.0-only
/* The logger: what a message carries cannot make a line of its own. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "log.h"

/* What log_msg writes for the message, as read from stderr. */
static void logged(enum log_level lvl, const char *text, char *out,
		   size_t len)
{
	int p[2], saved = dup(STDERR_FILENO);
	ssize_t n;

	cr_assert_eq(pipe(p), 0);
	dup2(p[1], STDERR_FILENO);
	log_msg(lvl, "%s", text);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
}

Test(log, control_characters_are_escaped_on_one_line)
{
	char out[512];

	log_set_ident("t");
	logged(LOG_LVL_WARN, "sig \"x\"\nxcrs: forged line\r\x01\tend", out,
	       sizeof(out));
	cr_expect_str_eq(out, "t: warning: sig \"x\"\\nxcrs: forged line\\r"
			      "\\x01 end\n");
	logged(LOG_LVL_INFO, "a caller's own line end\n", out, sizeof(out));
	cr_expect_str_eq(out, "t: a caller's own line end\n");
}

Test(log, an_overlong_message_is_cut_but_ends_its_line)
{
	static char big[4096], out[8192];

	memset(big, 'y', sizeof(big) - 1);
	logged(LOG_LVL_INFO, big, out, sizeof(out));
	cr_expect_lt(strlen(out), 2049);
	cr_expect_eq(out[strlen(out) - 1], '\n');
	cr_expect_null(strchr(out, '\n') == out + strlen(out) - 1 ? NULL : out,
		       "more than one line");
}

/* A daemon's line on the journal starts with its syslog priority; a
 * daemon's line elsewhere with the time; a tool's with neither. */
Test(log, daemon_lines_carry_priority_on_the_journal_and_time_elsewhere)
{
	int p[2], saved = dup(STDERR_FILENO);
	char env[64], out[512];
	struct stat st;
	ssize_t n;

	log_set_ident("t");
	cr_assert_eq(pipe(p), 0);
	dup2(p[1], STDERR_FILENO);
	cr_assert_eq(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_set_daemon(true);
	log_msg(LOG_LVL_WARN, "on the journal");
	log_msg(LOG_LVL_ERROR, "an error");
	log_msg(LOG_LVL_INFO, "news");
	unsetenv("JOURNAL_STREAM");
	log_set_daemon(true);
	log_msg(LOG_LVL_INFO, "stamped");
	log_set_daemon(false);
	log_msg(LOG_LVL_INFO, "plain");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	cr_expect(!strncmp(out, "<4>t: warning: on the journal\n<3>t: error: an "
			   "error\n<6>t: news\n", 56), "%s", out);
	{
		const char *s = strstr(out, "stamped");
		int y, mo, d, h, mi, se, ms;

		cr_assert(s, "%s", out);
		while (s > out && s[-1] != '\n')
			s--;
		cr_expect_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ t: stamped",
				    &y, &mo, &d, &h, &mi, &se, &ms), 7, "%s", s);
	}
	cr_expect(strstr(out, "\nt: plain\n"), "%s", out);
}
