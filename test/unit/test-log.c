// SPDX-License-Identifier: GPL-2.0-only
/* The logger: what a message carries cannot make a line of its own. */
#include <fcntl.h>
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
