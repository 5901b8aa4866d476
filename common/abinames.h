/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The names of the dataplane ABI's values (bpf/xcrs_abi.h) as logs, the
 * audit log, the state file, xcrsctl and metric labels spell them. Each
 * returns "?" for a value it does not know.
 */
#ifndef XCRS_ABINAMES_H
#define XCRS_ABINAMES_H

#include <stdbool.h>

#include "xcrs_abi.h"

const char *abi_action_name(enum xcrs_action a);
const char *abi_reason_name(enum xcrs_reason r);
/* Whether the XDP program can reach a verdict of action a for reason r
 * (the statistics map has a slot for every pair; the metrics export only
 * these). */
bool abi_reason_possible(enum xcrs_action a, enum xcrs_reason r);
const char *abi_contain_name(enum xcrs_contain_mode m);
const char *abi_role_name(enum xcrs_role r);

#endif
