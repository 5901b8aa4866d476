/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's line protocols, parsed without the agent: control-socket
 * requests (one JSON object per line, "cmd" and its arguments) and the
 * operator's session feed (MS connect/leave, JSON lines). What a request
 * means (a level or scope name of the policy) is for the caller; these
 * functions only say whether the line is well formed.
 */
#ifndef XCRS_LINEPROTO_H
#define XCRS_LINEPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xcrs_abi.h"

enum ctl_cmd {
	CTL_STATUS,
	CTL_TERMINALS,
	CTL_SHOW,
	CTL_REACT,
	CTL_RELEASE,
	CTL_CONTAIN,	/* "scope-contain" */
	CTL_UNCONTAIN,	/* "scope-release" */
	CTL_STATS,
	CTL_UPDATES,
	CTL_MS,
	CTL_RELOAD,
};

#define CTL_NAME_MAX 64
#define CTL_REASON_MAX 256

struct ctl_req {
	enum ctl_cmd cmd;
	struct xcrs_addr terminal;	/* show, react, release */
	unsigned plen;			/* react, release: 128 for one
					 * address, less for a prefix */
	char level[CTL_NAME_MAX];	/* react */
	char scope[CTL_NAME_MAX];	/* scope-contain, scope-release */
	char reason[CTL_REASON_MAX];	/* react: "" = none (longer: cut) */
	uint64_t for_ns;		/* react, scope-contain: 0 = until
					 * released */
	enum xcrs_contain_mode mode;	/* scope-contain: NONE = the policy's */
};

/* Parses one request line (len bytes, need not be NUL-terminated).
 * Returns 0, or -EINVAL with the reason for the client in err. */
int ctl_parse(const char *line, size_t len, struct ctl_req *ret, char *err,
	      size_t errlen);

/* One session-feed line: {"event": "connect"|"leave", "ms": ADDRESS}.
 * Returns 0, or -EINVAL. Blank lines are -ENODATA. */
int session_line_parse(const char *line, size_t len, bool *ret_connect,
		       struct xcrs_addr *ret_ms);

#endif
