/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A throw-away xcrs-agent for namespace tests: its directory
 * (/tmp/xcrs-t-<pid>-<name>: policy, sockets, state, log), its pin
 * directory, the process (started inside a test namespace, optionally
 * through a wrapper such as setpriv) and xcrsctl against it.
 */
#ifndef XCRS_TEST_AGENTENV_H
#define XCRS_TEST_AGENTENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "netns.h"

struct agentenv {
	char dir[128];	  /* policy.yaml, agent.sock, state, audit, log */
	char pins[256];	  /* bpffs pin directory */
	char policy[256];
	char sock[256];
	pid_t pid;	  /* -1 when not running */
	const char *binary; /* the agent to start; NULL: this build's */
};

/* Makes the directories (removing leftovers). 0 or -errno. */
int agenv_init(struct agentenv *e, const char *name);
/* Writes the policy (atomically: a reload never sees half a file). */
int agenv_policy(struct agentenv *e, const char *text);
/* Starts the agent inside ns; wrapper (NULL-terminated argv, or NULL)
 * comes before the agent's own command line. Waits until it answers on
 * its control socket: 0, or -1 with the start of its log in err. */
int agenv_start(struct agentenv *e, const struct tn_ns *ns,
		const char *const *wrapper, char *err, size_t errlen);
/* Sends sig and waits for the process. */
void agenv_stop(struct agentenv *e, int sig);
/* Stops the agent (SIGTERM), prints the end of its log to stderr,
 * removes its directory and pins. */
void agenv_cleanup(struct agentenv *e);
/* Runs xcrsctl ARGS against it; returns its exit status. */
int agenv_ctl(const struct agentenv *e, char *out, size_t len,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Repeats `xcrsctl ARGS` (5 s) until its output contains want. */
bool agenv_ctl_until(const struct agentenv *e, const char *want,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The value of the sample "series" (a metric name with its labels) in a
 * Prometheus text exposition, or -1. */
double agenv_sample(const char *text, const char *series);
/* The line `xcrsctl stats` prints for an agent counter. */
const char *agenv_stat_line(const char *name, long long v);

#endif
