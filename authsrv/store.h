/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The authentication server's store: subscribers (identity, K, OPc, AMF,
 * SQN, methods, password verifier, disabled), bootstrap sessions, pending
 * challenges, signing keys. One interface; this implementation is SQLite
 * (WAL, a busy timeout), so several xcrs-authsrv processes and the admin
 * tool can share one database file.
 *
 * Every function returns 0 (or a count) or a negative errno; -EIO with
 * store_errmsg() naming what SQLite said.
 */
#ifndef XCRS_STORE_H
#define XCRS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gba.h"
#include "scram.h"

enum {
	METHOD_AKA = 1,
	METHOD_PASSWORD = 2,
	METHOD_CERT = 4,
};
/* "aka,password" <-> bits. 0 or -EINVAL. */
int methods_parse(const char *s, unsigned *ret);
void methods_format(unsigned m, char *out, size_t len);

struct sub_rec {
	char id[GBA_ID_MAX + 1];
	uint8_t k[16], opc[16], amf[2];
	uint64_t sqn;	  /* highest SQN used in a vector */
	unsigned methods;
	bool disabled;
	bool has_password;
	struct scram_verifier pw;
	int64_t created;
};

struct sess_rec {
	char btid[GBA_BTID_MAX];
	char id[GBA_ID_MAX + 1];
	uint8_t ks[GBA_KS];
	uint8_t rand[16];
	char method[16];
	int64_t created, expires; /* Unix seconds */
	/* re-authentication: when the full bootstrap the session descends
	 * from was made (0: this session is one), how many re-authentications
	 * lead to it, and the highest counter the terminal used */
	int64_t root;
	unsigned chain;
	uint64_t counter;
};

/* A pending challenge: Digest AKA (vector) or SCRAM (messages). */
struct chal_rec {
	char nonce[SCRAM_MSG_MAX + 32]; /* Digest nonce, or SCRAM r= */
	char id[GBA_ID_MAX + 1];
	char kind[16];	  /* "aka", "scram" */
	uint8_t rand[16], xres[8], ck[16], ik[16];
	char client_first[SCRAM_MSG_MAX], server_first[SCRAM_MSG_MAX];
	int64_t expires;
};

struct key_rec {
	char kid[17];
	char *pem;	 /* private key, PKCS#8 PEM (malloc'd, list only) */
	int64_t created;
	bool active;	 /* the one that signs; others are still published */
};

struct store;

int store_open(const char *path, struct store **ret, char *err,
	       size_t errlen);
void store_close(struct store *st);
/* From now on K and OPc are written sealed under kek (AES-256-GCM, bound
 * to the subscriber and the column) and read back with it; rows written
 * before (plain) stay readable until store_seal_all(). Without a kek a
 * sealed row is refused (-EKEYREJECTED), never read as a wrong key. */
void store_set_kek(struct store *st, const uint8_t kek[32]);
/* The key-encryption key from path: 64 hex digits in a file no one but
 * its owner may read. 0, or -errno with err. */
int store_kek_load(const char *path, uint8_t kek[32], char *err,
		   size_t errlen);
/* Seals every subscriber's K and OPc still in clear: how many, or -errno. */
int store_seal_all(struct store *st);
/* The PBKDF2 iteration count most password verifiers have (ties: the
 * larger), or dflt when there is none: what an unknown user's decoy
 * challenge shows, so that it looks like a real one. */
uint32_t store_pw_iter_common(struct store *st, uint32_t dflt);
/* For a server's event loop: wait at most ms for a lock another process
 * holds (then -EBUSY), and not at all for 50 ms after such a wait was
 * in vain. 0: wait up to 10 s (the tools). */
void store_set_busy_ms(struct store *st, unsigned ms);
/* One transaction around a request (BEGIN IMMEDIATE: the write lock is
 * taken first, so a locked database is -EBUSY before anything is done);
 * commit ends it (a failed commit rolls back: -EIO). */
int store_begin(struct store *st);
int store_commit(struct store *st);
const char *store_errmsg(struct store *st);

int store_sub_add(struct store *st, const struct sub_rec *s);
int store_sub_get(struct store *st, const char *id, struct sub_rec *s);
int store_sub_set_disabled(struct store *st, const char *id, bool disabled);
int store_sub_set_methods(struct store *st, const char *id, unsigned m);
int store_sub_set_password(struct store *st, const char *id,
			   const struct scram_verifier *v);
int store_sub_list(struct store *st,
		   int (*fn)(const struct sub_rec *s, void *ctx), void *ctx);
/* Atomically: SQN := SQN + 1 of an enabled subscriber, returning the new
 * value and the record (one UPDATE ... RETURNING: concurrent requests,
 * from any process, never get the same SQN). -ENOENT, -EPERM (disabled). */
int store_sqn_next(struct store *st, const char *id, struct sub_rec *s);
/* After a resynchronisation: SQN := sqn_ms. */
int store_sqn_set(struct store *st, const char *id, uint64_t sqn_ms);

int store_sess_put(struct store *st, const struct sess_rec *s);
/* A session that exists, has not expired at now, and whose subscriber is
 * still enabled (revocation). -ENOENT otherwise. */
int store_sess_get(struct store *st, const char *btid, int64_t now,
		   struct sess_rec *s);
int store_sess_purge(struct store *st, int64_t now);
/* Revokes one session (-ENOENT: none), or every session of a subscriber
 * (how many, or -errno). */
int store_sess_revoke(struct store *st, const char *btid);
int store_sess_revoke_all(struct store *st, const char *id);
/* Calls fn for each live session of id (every subscriber's if id is NULL);
 * how many, or -errno. */
int store_sess_list(struct store *st, const char *id, int64_t now,
		    int (*fn)(const struct sess_rec *s, void *ctx), void *ctx);

int store_chal_put(struct store *st, const struct chal_rec *c);
/* Challenges of id of a kind ("aka" counts "aka-decoy" too) still
 * unanswered and not expired: how many, or -errno. */
int store_chal_pending(struct store *st, const char *id, const char *kind,
		       int64_t now);
/* Takes (reads and deletes: single use) a live challenge. -ENOENT. */
int store_chal_take(struct store *st, const char *nonce, int64_t now,
		    struct chal_rec *c);

int store_key_add(struct store *st, const char *kid, const char *pem,
		  int64_t created);
/* The keys not retired, newest first; the newest is the active one. *keys
 * is malloc'd, each pem too: store_keys_free. */
int store_key_list(struct store *st, struct key_rec **keys, size_t *n);
void store_keys_free(struct key_rec *keys, size_t n);
int store_key_retire(struct store *st, const char *kid);

/* A 32-byte server secret, made on first use (pseudonyms). */
int store_secret(struct store *st, const char *name, uint8_t out[32]);

#endif
