/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client side of xcrs-authsrv, for terminals (bootstrap with AKA, password
 * or certificate; Ks_AS; assertions) and for application servers (fetch a
 * user's Ks_AS by B-TID; verify assertions). Blocking calls, each over its
 * own TLS 1.3 connection (libevent's HTTP client on a private event base),
 * so a caller with an event loop runs them in a worker thread.
 *
 * Every function returns 0 or a negative errno, with a message in the
 * connection's err: -EACCES refused by the server (or the server failed
 * authentication), -ECONNREFUSED/-ETIMEDOUT/-EPROTO transport, -EBADMSG
 * a reply of the wrong form.
 */
#ifndef XCRS_AUTHCLIENT_H
#define XCRS_AUTHCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gba.h"
#include "milenage.h"

struct ssl_ctx_st;

struct ac_conn {
	char host[256];
	uint16_t port;
	char name[256];		/* the name the server certificate must have */
	struct ssl_ctx_st *ctx;
	int timeout_s;
	char err[512];
};

/* server is HOST:PORT; ca verifies the server; cert/key (may be NULL) are
 * this client's certificate (an AS, or a user of the certificate method);
 * name overrides the name checked in the server certificate (default: HOST). */
int ac_open(struct ac_conn *c, const char *server, const char *ca,
	    const char *cert, const char *key, const char *name);
void ac_close(struct ac_conn *c);

/* A bootstrap session as the terminal keeps it. */
struct ac_session {
	char btid[GBA_BTID_MAX];
	char id[GBA_ID_MAX + 1];
	uint8_t ks[GBA_KS];
	uint8_t rand[16];
	char method[16];
	int64_t expires;
	uint64_t counter; /* re-authentication: the last counter used */
};

/* The USIM's part: K, OPc and the highest SQN accepted. */
struct ac_usim {
	char id[GBA_ID_MAX + 1];
	uint8_t k[16], opc[16];
	uint64_t sqn_ms;
};

/* AKA over HTTP Digest AKAv1-MD5; resynchronises once if the server's SQN
 * is not fresh (usim->sqn_ms is updated: persist it). */
int ac_bootstrap_aka(struct ac_conn *c, struct ac_usim *usim,
		     struct ac_session *out);
int ac_bootstrap_password(struct ac_conn *c, const char *user,
			  const char *password, struct ac_session *out);
/* The connection must have been opened with the user's certificate; id is
 * the identity it names. */
int ac_bootstrap_certificate(struct ac_conn *c, const char *id,
			     struct ac_session *out);

/* Re-authentication (xcrs's X.1124 8.3, authsrv/README.md): a new
 * session (B-TID, Ks) from the live one s, without a new AKA vector; s is
 * replaced (its old Ks zeroed) once the server's answer proves it holds
 * Ks. 0, or -errno with c->err (-EACCES refused: bootstrap again). */
int ac_reauth(struct ac_conn *c, struct ac_session *s);

/* Ks_AS for an application server and protocol (gba_ks_as). */
int ac_ks_as(const struct ac_session *s, const char *as_fqdn,
	     const uint8_t ua[GBA_UA_ID], uint8_t key[GBA_KEY]);
/* An assertion for audience; *token is malloc'd. */
int ac_assertion(struct ac_conn *c, const struct ac_session *s,
		 const char *audience, char **token, int64_t *expires);

/* Application server side. */
struct ac_as_key {
	uint8_t ks_as[GBA_KEY];
	char subject[160];	/* identity or pseudonym */
	char method[16];
	int64_t expires;
};
int ac_fetch_key(struct ac_conn *c, const char *btid, const char *as_id,
		 const uint8_t ua[GBA_UA_ID], struct ac_as_key *out);
/* The server's JWK set (malloc'd). */
int ac_jwks(struct ac_conn *c, char **json);

/* Session and USIM files (JSON, written atomically with mode 0600). */
int ac_session_save(const char *path, const struct ac_session *s,
		    char *err, size_t errlen);
int ac_session_load(const char *path, struct ac_session *s, char *err,
		    size_t errlen);
int ac_usim_save(const char *path, const struct ac_usim *u, char *err,
		 size_t errlen);
int ac_usim_load(const char *path, struct ac_usim *u, char *err,
		 size_t errlen);

#endif
