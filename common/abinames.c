// SPDX-License-Identifier: GPL-2.0-only
/* The names of the dataplane ABI's values (see abinames.h). */
#include "abinames.h"

const char *abi_action_name(enum xcrs_action a)
{
	static const char *const n[XCRS_ACT_MAX] = {
		[XCRS_ACT_PASS] = "pass",
		[XCRS_ACT_DROP] = "drop",
	};

	return (unsigned)a < XCRS_ACT_MAX ? n[a] : "?";
}

const char *abi_reason_name(enum xcrs_reason r)
{
	static const char *const n[XCRS_REASON_MAX] = {
		[XCRS_R_ALLOWED] = "allowed",
		[XCRS_R_UNKNOWN_PASS] = "unknown-pass",
		[XCRS_R_NON_IP] = "non-ip",
		[XCRS_R_GTPU_SIGNALLING] = "gtpu-signalling",
		[XCRS_R_MALFORMED] = "malformed",
		[XCRS_R_GTPU_MALFORMED] = "gtpu-malformed",
		[XCRS_R_GTPU_UNKNOWN_TYPE] = "gtpu-unknown-type",
		[XCRS_R_UNCLASSIFIED] = "unclassified",
		[XCRS_R_LEVEL] = "level",
		[XCRS_R_RATE] = "rate",
		[XCRS_R_ISOLATE] = "isolate",
		[XCRS_R_NO_LATERAL] = "no-lateral",
		[XCRS_R_BAD_LEVEL] = "bad-level",
		[XCRS_R_VLAN_DEPTH] = "vlan-depth",
		[XCRS_R_ND] = "neighbour-discovery",
	};

	return (unsigned)r < XCRS_REASON_MAX ? n[r] : "?";
}

bool abi_reason_possible(enum xcrs_action a, enum xcrs_reason r)
{
	/* what bpf/xcrs.bpf.c's verdicts pair (a reason outside the table
	 * is counted as malformed, a drop) */
	static const unsigned char pass = 1, drop = 2;
	static const unsigned char can[XCRS_REASON_MAX] = {
		[XCRS_R_ALLOWED] = pass,
		[XCRS_R_UNKNOWN_PASS] = pass,
		[XCRS_R_NON_IP] = pass | drop,
		[XCRS_R_GTPU_SIGNALLING] = pass,
		[XCRS_R_MALFORMED] = drop,
		[XCRS_R_GTPU_MALFORMED] = drop,
		[XCRS_R_GTPU_UNKNOWN_TYPE] = drop,
		[XCRS_R_UNCLASSIFIED] = drop,
		[XCRS_R_LEVEL] = drop,
		[XCRS_R_RATE] = drop,
		[XCRS_R_ISOLATE] = drop,
		[XCRS_R_NO_LATERAL] = drop,
		[XCRS_R_BAD_LEVEL] = drop,
		[XCRS_R_VLAN_DEPTH] = drop,
		[XCRS_R_ND] = pass,
	};

	if ((unsigned)a >= XCRS_ACT_MAX || (unsigned)r >= XCRS_REASON_MAX)
		return false;
	return can[r] & (a == XCRS_ACT_PASS ? pass : drop);
}

const char *abi_contain_name(enum xcrs_contain_mode m)
{
	static const char *const n[XCRS_CONTAIN_MAX] = {
		[XCRS_CONTAIN_NONE] = "none",
		[XCRS_CONTAIN_ISOLATE] = "isolate",
		[XCRS_CONTAIN_NO_LATERAL] = "no-lateral",
	};

	return (unsigned)m < XCRS_CONTAIN_MAX ? n[m] : "?";
}

const char *abi_role_name(enum xcrs_role r)
{
	return r == XCRS_ROLE_ACCESS ? "access" :
	       r == XCRS_ROLE_CORE   ? "core" :
				       "?";
}
