/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A throw-away xcrs-authsrv for tests: a directory with a CA, server,
 * application-server and user certificates, a configuration, a database
 * with subscribers, and server processes on loopback that die with the
 * test process (PR_SET_PDEATHSIG).
 */
#ifndef XCRS_TEST_AUTHENV_H
#define XCRS_TEST_AUTHENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define AE_SERVERS 2

struct authenv {
	char dir[128];
	char conf[AE_SERVERS][160];
	char addr[AE_SERVERS][64];	/* "127.0.0.1:PORT" */
	pid_t pid[AE_SERVERS];
	char ca[160];			/* CA of every server/AS certificate */
};

/* Makes the directory, certificates (server for listen_ip; ASs
 * crs.home.example, shop.example, partner-shop.example; user
 * cert-user@home.example from a user CA) and n configurations sharing one
 * database. extra_yaml is appended to each (application_servers: ...), NULL
 * for the default list. 0 or -1 (logged). */
int ae_setup(struct authenv *e, const char *listen_ip, int n,
	     const char *extra_yaml);
struct tn_ns;
/* Starts server i (inside ns, or here if NULL) and waits until it accepts
 * connections. */
int ae_start(struct authenv *e, int i, const struct tn_ns *ns);
/* Stops the servers and removes the directory. */
void ae_teardown(struct authenv *e);
/* Runs xcrs-authsrv-admin with args (and stdin_text on its stdin, may be
 * NULL); its exit status, output in out. */
int ae_admin(struct authenv *e, char *out, size_t len, const char *stdin_text,
	     const char *args);
/* A path inside the directory. */
const char *ae_path(struct authenv *e, const char *name);
/* The build directory's binaries. */
const char *ae_bin(const char *name);

#endif
