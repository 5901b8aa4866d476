/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The configuration of xcrs-authsrv (X.1124 SS), read by the policy
 * library like every xcrs YAML file: unknown keys, missing keys and bad
 * values are refused with "file:line:col: what was expected". Schema:
 * authsrv/README.md.
 */
#ifndef XCRS_AUTHSRV_CONFIG_H
#define XCRS_AUTHSRV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define AUTHSRV_ID_MAX 128
#define AUTHSRV_PATH_MAX 256
#define AUTHSRV_AS_MAX 64
#define AUTHSRV_REALMS_MAX 8
#define AUTHSRV_PEERS_MAX 16

/* An application server (X.1124 SP) allowed to ask for keys. */
struct authsrv_as {
	char id[AUTHSRV_ID_MAX + 1];	 /* FQDN = its certificate's DNS name */
	bool release_identity;		 /* else it sees a pseudonym */
	size_t nrealms;			 /* realms of the users it serves */
	char realms[AUTHSRV_REALMS_MAX][AUTHSRV_ID_MAX + 1];
};

/* Another network's authsrv, asked for sessions of its realm. */
struct authsrv_peer {
	char realm[AUTHSRV_ID_MAX + 1];
	char address[AUTHSRV_PATH_MAX]; /* host:port */
	char ca[AUTHSRV_PATH_MAX];	/* CA of its server certificate */
};

struct authsrv_config {
	char file[AUTHSRV_PATH_MAX];
	char domain[AUTHSRV_ID_MAX + 1];	/* realm, B-TID suffix, issuer */
	char listen[AUTHSRV_PATH_MAX];		/* host:port */
	char certificate[AUTHSRV_PATH_MAX];	/* server certificate chain */
	char private_key[AUTHSRV_PATH_MAX];
	char database[AUTHSRV_PATH_MAX];
	char as_ca[AUTHSRV_PATH_MAX];		/* CA of AS/peer client certs */
	char user_ca[AUTHSRV_PATH_MAX];		/* certificate method; "" = off */
	/* revoked AS (and peer) certificates: PEM CRLs of as_ca; "" = none */
	char as_crl[AUTHSRV_PATH_MAX];
	/* subscribers' K and OPc sealed under it; "" = stored in clear */
	char key_encryption_key[AUTHSRV_PATH_MAX];
	uint64_t session_lifetime_ns;
	uint64_t challenge_lifetime_ns;
	uint64_t assertion_lifetime_ns;
	/* re-authentication: how long after the last full bootstrap a chain
	 * of re-authentications may run, and how many links it has (0: no
	 * re-authentication) */
	uint64_t reauth_lifetime_ns;
	unsigned reauth_max_chain;
	size_t n_as;
	struct authsrv_as as[AUTHSRV_AS_MAX];
	size_t n_peers;
	struct authsrv_peer peers[AUTHSRV_PEERS_MAX];
};

int authsrv_config_load(const char *path, struct authsrv_config **ret,
			struct policy_error *err);
int authsrv_config_load_string(const char *text, size_t len,
			       const char *fname, struct authsrv_config **ret,
			       struct policy_error *err);
void authsrv_config_free(struct authsrv_config *c);
/* The AS entry with this id, or NULL. */
const struct authsrv_as *authsrv_config_as(const struct authsrv_config *c,
					   const char *id);

#endif
