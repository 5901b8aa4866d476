/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent's line protocols, for both ends: control-socket requests (one
 * JSON object per line, "cmd" and its arguments), built by xcrsctl and
 * parsed by the agent from one command table, and the operator's session
 * feed (MS connect/leave, JSON lines). What a request means (a level or
 * scope name of the policy) is for the agent; these functions only say
 * whether a line is well formed.
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
	CTL_SESSIONS,
	CTL_RELOAD,
	CTL_FORGET,
};

/* The arguments a command takes, as bits. */
#define CTL_A_TERMINAL 0x01 /* "terminal": an address, or a subscriber
			     * ("imsi:…", "msisdn:…", "user:…") */
#define CTL_A_PREFIX   0x02 /* ... or a prefix (with CTL_A_TERMINAL) */
#define CTL_A_SCOPE    0x04 /* "scope": a scope name */
#define CTL_A_FOR      0x08 /* "for": a duration */
#define CTL_A_LEVEL    0x10 /* "level": a level name */
#define CTL_A_REASON   0x20 /* "reason": text */
#define CTL_A_MODE     0x40 /* "mode": isolate | no-lateral */
#define CTL_A_APN      0x80 /* "apn": an APN (a filter) */
#define CTL_A_LOCATION 0x100 /* "location": a location prefix (a filter) */
#define CTL_A_ACTION   0x200 /* "action": reload's "dry-run" | "release" */

/* ctl_req.reload */
enum ctl_reload { CTL_RELOAD_APPLY, CTL_RELOAD_DRY_RUN, CTL_RELOAD_RELEASE };

/* The command table: every command of the control socket. */
struct ctl_cmd_def {
	const char *name;  /* on the wire: {"cmd": name} */
	enum ctl_cmd cmd;
	unsigned args;	   /* CTL_A_* it takes */
	unsigned required; /* those it needs */
};
extern const struct ctl_cmd_def ctl_cmds[];
extern const size_t ctl_ncmds;
/* The command named name, or NULL. */
const struct ctl_cmd_def *ctl_cmd_find(const char *name);

/* A request as a client writes it; NULL: not given. */
struct ctl_args {
	const char *terminal, *scope, *duration, *level, *reason, *mode;
	const char *apn, *location, *action;
};
/* The request line (malloc'd, without '\n') of command name with args.
 * Refuses (-EINVAL, err says why) an unknown command, an argument the
 * command does not take, and a missing one it needs; the values are the
 * agent's to judge. */
int ctl_build(const char *name, const struct ctl_args *a, char **ret_line,
	      char *err, size_t errlen);

#define CTL_NAME_MAX 64
#define CTL_SUBSCRIBER_MAX 48
#define CTL_REASON_MAX 256

struct ctl_req {
	enum ctl_cmd cmd;
	struct xcrs_addr terminal;	/* show, react, release */
	char subscriber[CTL_SUBSCRIBER_MAX]; /* ... or "imsi:…" ("" = an
					 * address) */
	unsigned plen;			/* react, release: 128 for one
					 * address, less for a prefix */
	char level[CTL_NAME_MAX];	/* react */
	char scope[CTL_NAME_MAX];	/* scope-contain, scope-release */
	char reason[CTL_REASON_MAX];	/* react: "" = none (longer: cut) */
	uint64_t for_ns;		/* react, scope-contain: 0 = until
					 * released */
	enum xcrs_contain_mode mode;	/* scope-contain: NONE = the policy's */
	char apn[101];			/* sessions: "" = any */
	char location[64];		/* sessions: a prefix, "" = any */
	enum ctl_reload reload;		/* reload */
};

/* Parses one request line (len bytes, need not be NUL-terminated).
 * Returns 0, or -EINVAL with the reason for the client in err. */
int ctl_parse(const char *line, size_t len, struct ctl_req *ret, char *err,
	      size_t errlen);

/* A session-feed line with the packet core's facts (the JSON twin of a
 * RADIUS Accounting-Request): {"event": "start"|"interim"|"stop"|
 * "accounting-on", "session": ID, "nas": NAME, "imsi": DIGITS,
 * "msisdn": DIGITS, "ipv4": ADDRESS, "ipv6_prefix": PREFIX, "apn": APN,
 * "location": TEXT}. Values as radius.h decodes them. */
struct session_fact {
	int status; /* enum radius_status's values: 1 start, 2 stop, 3
		     * interim, 7 accounting-on */
	char session[65], nas[65], imsi[16], msisdn[24], apn[101];
	char location[64];
	bool has_ipv4, has_ipv6;
	struct xcrs_addr ipv4, ipv6;
	unsigned ipv6_plen; /* 0..128, IPv6 numbering */
};
/* 0, -ENOENT for a line without "session" (the address-only form:
 * session_line_parse), -ENODATA blank, -EINVAL with err. */
int session_fact_parse(const char *line, size_t len,
		       struct session_fact *ret, char *err, size_t errlen);

/* One session-feed line: {"event": "connect"|"leave", "ms": ADDRESS}.
 * Returns 0, or -EINVAL. Blank lines are -ENODATA. */
int session_line_parse(const char *line, size_t len, bool *ret_connect,
		       struct xcrs_addr *ret_ms);

#endif
