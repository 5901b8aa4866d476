// SPDX-License-Identifier: GPL-2.0-only
/* The store over SQLite (see store.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <sqlite3.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "store.h"

struct store {
	sqlite3 *db;
	char err[256];
	bool has_kek;		/* K and OPc sealed under it */
	uint8_t kek[32];
	unsigned busy_ms;	/* 0: SQLite's own 10 s wait */
	int64_t fast_until_ms;	/* after a wait in vain: no waiting until then */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A lock held by another process: wait busy_ms at most; when that was in
 * vain, do not wait at all for the next 50 ms (a lock held for long costs
 * the event loop busy_ms in every 50 ms, not busy_ms a request). */
static int on_busy(void *ctx, int n)
{
	struct store *st = ctx;
	int64_t now = mono_ms();

	if (now < st->fast_until_ms)
		return 0;
	if ((unsigned)n >= st->busy_ms) {
		st->fast_until_ms = now + 50;
		return 0;
	}
	sqlite3_sleep(1);
	return 1;
}

void store_set_busy_ms(struct store *st, unsigned ms)
{
	st->busy_ms = ms;
	if (ms)
		sqlite3_busy_handler(st->db, on_busy, st);
	else
		sqlite3_busy_timeout(st->db, 10000);
}

int store_begin(struct store *st)
{
	int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		snprintf(st->err, sizeof(st->err),
			 "the database is locked by another process");
		return -EBUSY;
	}
	snprintf(st->err, sizeof(st->err), "begin: %s",
		 sqlite3_errmsg(st->db));
	return -EIO;
}

int store_commit(struct store *st)
{
	if (sqlite3_get_autocommit(st->db))
		return 0; /* nothing open */
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	snprintf(st->err, sizeof(st->err), "commit: %s",
		 sqlite3_errmsg(st->db));
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

static const char SCHEMA[] =
	"PRAGMA journal_mode=WAL;"
	/* freed pages (consumed challenges: CK, IK, XRES) are overwritten */
	"PRAGMA secure_delete=ON;"
	"CREATE TABLE IF NOT EXISTS subscribers ("
	" id TEXT PRIMARY KEY, k BLOB NOT NULL, opc BLOB NOT NULL,"
	" amf BLOB NOT NULL, sqn INTEGER NOT NULL, methods INTEGER NOT NULL,"
	" disabled INTEGER NOT NULL DEFAULT 0, pw_salt BLOB, pw_iter INTEGER,"
	" pw_stored BLOB, pw_server BLOB, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS sessions ("
	" btid TEXT PRIMARY KEY, id TEXT NOT NULL, ks BLOB NOT NULL,"
	" rand BLOB NOT NULL, method TEXT NOT NULL, created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(expires);"
	"CREATE TABLE IF NOT EXISTS challenges ("
	" nonce TEXT PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL,"
	" rand BLOB, xres BLOB, ck BLOB, ik BLOB, client_first TEXT,"
	" server_first TEXT, expires INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS signing_keys ("
	" kid TEXT PRIMARY KEY, pem TEXT NOT NULL, created INTEGER NOT NULL,"
	" retired INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY,"
	" value BLOB NOT NULL);";

static int fail(struct store *st, const char *what)
{
	int rc = sqlite3_errcode(st->db);

	snprintf(st->err, sizeof(st->err), "%s: %s", what,
		 sqlite3_errmsg(st->db));
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY : -EIO;
}

const char *store_errmsg(struct store *st)
{
	return st->err;
}

/* The re-authentication columns of sessions, added to a database made
 * before them (their defaults: a full bootstrap, no chain). */
static int sessions_columns(struct store *st, char **msg)
{
	sqlite3_stmt *s = NULL;
	bool have = false;

	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM pragma_table_info("
				       "'sessions') WHERE name = 'root'",
			       -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	have = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	if (have)
		return 0;
	return sqlite3_exec(st->db,
			    "ALTER TABLE sessions ADD COLUMN root INTEGER NOT "
			    "NULL DEFAULT 0;"
			    "ALTER TABLE sessions ADD COLUMN chain INTEGER NOT "
			    "NULL DEFAULT 0;"
			    "ALTER TABLE sessions ADD COLUMN counter INTEGER "
			    "NOT NULL DEFAULT 0;",
			    NULL, NULL, msg) == SQLITE_OK ?
		       0 :
		       -EIO;
}

int store_open(const char *path, struct store **ret, char *err,
	       size_t errlen)
{
	struct store *st = calloc(1, sizeof(*st));
	char *msg = NULL;
	mode_t old;
	int rc;

	if (!st)
		return -ENOMEM;
	/* The file holds K and OPc: only the owner may read it. */
	old = umask(077);
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_FULLMUTEX,
			     NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "cannot open");
		sqlite3_close(st->db);
		free(st);
		return -EIO;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if (sqlite3_exec(st->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK ||
	    sessions_columns(st, &msg)) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : "schema");
		sqlite3_free(msg);
		sqlite3_close(st->db);
		free(st);
		return -EIO;
	}
	*ret = st;
	return 0;
}

uint32_t store_pw_iter_common(struct store *st, uint32_t dflt)
{
	sqlite3_stmt *s = NULL;
	uint32_t it = dflt;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT pw_iter FROM subscribers WHERE pw_iter "
			       "IS NOT NULL GROUP BY pw_iter ORDER BY COUNT(*) "
			       "DESC, pw_iter DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) > 0)
		it = (uint32_t)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return it;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st);
}

int methods_parse(const char *s, unsigned *ret)
{
	unsigned m = 0;
	char buf[128], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "aka"))
			m |= METHOD_AKA;
		else if (!strcmp(tok, "password"))
			m |= METHOD_PASSWORD;
		else if (!strcmp(tok, "certificate"))
			m |= METHOD_CERT;
		else
			return -EINVAL;
	}
	if (!m)
		return -EINVAL;
	*ret = m;
	return 0;
}

void methods_format(unsigned m, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s%s", m & METHOD_AKA ? "aka" : "",
		 (m & METHOD_AKA) && (m & (METHOD_PASSWORD | METHOD_CERT))
			 ? ","
			 : "",
		 m & METHOD_PASSWORD ? "password" : "",
		 (m & METHOD_PASSWORD) && (m & METHOD_CERT) ? "," : "",
		 m & METHOD_CERT ? "certificate" : "");
}

/* ---- statements ---- */

static sqlite3_stmt *prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		fail(st, "prepare");
		return NULL;
	}
	return s;
}

static void blob(sqlite3_stmt *s, int col, void *out, size_t n)
{
	const void *b = sqlite3_column_blob(s, col);

	if (b && (size_t)sqlite3_column_bytes(s, col) == n)
		memcpy(out, b, n);
	else
		memset(out, 0, n);
}

static void text(sqlite3_stmt *s, int col, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(out, n, "%s", t ? (const char *)t : "");
}

/* Runs a statement that returns no rows; -ENOENT if it changed none. */
static int run(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc;

	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return fail(st, what);
	return sqlite3_changes(st->db) ? 0 : -ENOENT;
}

#define SUB_COLS                                                               \
	"id, k, opc, amf, sqn, methods, disabled, pw_salt, pw_iter, "          \
	"pw_stored, pw_server, created"

/* A sealed secret: nonce (12) || AES-256-GCM ciphertext (as long as the
 * secret) || tag (16), bound to its owner (a subscriber, a B-TID, a
 * challenge's nonce) and column by the additional data. */
#define SEAL_OVER 28
#define SEALED (16 + SEAL_OVER) /* of K, OPc */

static int seal_aad(const char *id, const char *col, char *aad, size_t n)
{
	return snprintf(aad, n, "xcrs-authsrv|%s|%s", col, id);
}

/* Seals n bytes at in into out (n + SEAL_OVER), or opens out of in (n +
 * SEAL_OVER bytes) into out (n). */
static int gcm_n(const struct store *st, bool enc, const char *id,
		 const char *col, const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	char aad[512];
	int alen = seal_aad(id, col, aad, sizeof(aad)), l, ok;
	uint8_t *nonce = enc ? out : (uint8_t *)in;

	if (alen >= (int)sizeof(aad))
		alen = (int)sizeof(aad) - 1;
	if (!c)
		return -ENOMEM;
	if (enc && RAND_bytes(out, 12) != 1) {
		EVP_CIPHER_CTX_free(c);
		return -EIO;
	}
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, st->kek, nonce,
			       enc) == 1 &&
	     EVP_CipherUpdate(c, NULL, &l, (const uint8_t *)aad, alen) == 1;
	if (ok && enc)
		ok = EVP_CipherUpdate(c, out + 12, &l, in, (int)n) == 1 &&
		     EVP_CipherFinal_ex(c, out + 12 + n, &l) == 1 &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16,
					 out + 12 + n) == 1;
	else if (ok)
		ok = EVP_CipherUpdate(c, out, &l, in + 12, (int)n) == 1 &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16,
					 (void *)(in + 12 + n)) == 1 &&
		     EVP_CipherFinal_ex(c, out + n, &l) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok && !enc)
		OPENSSL_cleanse(out, n);
	return ok ? 0 : -EBADMSG;
}

static int gcm(const struct store *st, bool enc, const char *id,
	       const char *col, const uint8_t *in, uint8_t *out)
{
	return gcm_n(st, enc, id, col, in, 16, out);
}

/* Binds secret in (n bytes) of owner id to parameter idx: sealed into buf
 * (n + SEAL_OVER) under the key_encryption_key, plain without one. */
static int bind_secret(const struct store *st, sqlite3_stmt *s, int idx,
		       const char *id, const char *col, const uint8_t *in,
		       size_t n, uint8_t *buf)
{
	if (!st->has_kek)
		return sqlite3_bind_blob(s, idx, in, (int)n, SQLITE_STATIC) ==
				       SQLITE_OK ?
			       0 :
			       -EIO;
	if (gcm_n(st, true, id, col, in, n, buf))
		return -EIO;
	return sqlite3_bind_blob(s, idx, buf, (int)(n + SEAL_OVER),
				 SQLITE_TRANSIENT) == SQLITE_OK ?
		       0 :
		       -EIO;
}

/* A secret column (n bytes) of owner id into out: plain, or sealed.
 * -EKEYREJECTED: sealed and no key, or not under this key. */
static int secret_n(const struct store *st, sqlite3_stmt *s, int col,
		    const char *id, const char *name, uint8_t *out, size_t n)
{
	const void *b = sqlite3_column_blob(s, col);
	int len = sqlite3_column_bytes(s, col);

	if (b && (size_t)len == n) {
		memcpy(out, b, n);
		return 0;
	}
	if (!b || (size_t)len != n + SEAL_OVER || !st->has_kek ||
	    gcm_n(st, false, id, name, b, n, out)) {
		memset(out, 0, n);
		return -EKEYREJECTED;
	}
	return 0;
}

void store_set_kek(struct store *st, const uint8_t kek[32])
{
	memcpy(st->kek, kek, 32);
	st->has_kek = true;
}

/* A column of K or OPc into out[16] (plain in a database from before
 * sealing, or sealed). */
static int secret(const struct store *st, sqlite3_stmt *s, int col,
		  const char *id, const char *name, uint8_t out[16])
{
	return secret_n(st, s, col, id, name, out, 16);
}

static int sub_row(struct store *st, sqlite3_stmt *s, struct sub_rec *r)
{
	int bad;

	memset(r, 0, sizeof(*r));
	text(s, 0, r->id, sizeof(r->id));
	bad = secret(st, s, 1, r->id, "k", r->k) |
	      secret(st, s, 2, r->id, "opc", r->opc);
	blob(s, 3, r->amf, 2);
	r->sqn = (uint64_t)sqlite3_column_int64(s, 4);
	r->methods = (unsigned)sqlite3_column_int(s, 5);
	r->disabled = sqlite3_column_int(s, 6) != 0;
	if (sqlite3_column_type(s, 7) == SQLITE_BLOB) {
		int n = sqlite3_column_bytes(s, 7);

		if (n > 0 && n <= SCRAM_SALT_MAX) {
			r->has_password = true;
			memcpy(r->pw.salt, sqlite3_column_blob(s, 7),
			       (size_t)n);
			r->pw.salt_len = (size_t)n;
			r->pw.iter = (uint32_t)sqlite3_column_int(s, 8);
			blob(s, 9, r->pw.stored_key, 32);
			blob(s, 10, r->pw.server_key, 32);
		}
	}
	r->created = sqlite3_column_int64(s, 11);
	if (bad) {
		snprintf(st->err, sizeof(st->err),
			 "%s: K/OPc %s", r->id,
			 st->has_kek ? "not sealed under this key_encryption_key" :
				       "sealed: key_encryption_key needed");
		return -EKEYREJECTED;
	}
	return 0;
}

int store_kek_load(const char *path, uint8_t kek[32], char *err,
		   size_t errlen)
{
	struct stat sb;
	char hex[80] = "";
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		snprintf(err, errlen, "key_encryption_key %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	if (fstat(fileno(f), &sb) || (sb.st_mode & 077)) {
		fclose(f);
		snprintf(err, errlen, "key_encryption_key %s: readable by "
			 "others (mode %04o); chmod 600 it", path,
			 (unsigned)(sb.st_mode & 07777));
		return -EPERM;
	}
	n = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	hex[n] = '\0';
	n = strcspn(hex, "\r\n");
	if (n != 64 || hex_decode(hex, 64, kek, 32)) {
		OPENSSL_cleanse(hex, sizeof(hex));
		snprintf(err, errlen, "key_encryption_key %s: expected 64 hex "
			 "digits (openssl rand -hex 32)", path);
		return -EINVAL;
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	return 0;
}

int store_seal_all(struct store *st)
{
	sqlite3_stmt *q, *u;
	int rc, n = 0;

	if (!st->has_kek) {
		snprintf(st->err, sizeof(st->err), "no key_encryption_key");
		return -EINVAL;
	}
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return fail(st, "begin");
	q = prep(st, "SELECT id, k, opc FROM subscribers WHERE length(k) = 16 "
		     "AND length(opc) = 16");
	u = prep(st, "UPDATE subscribers SET k = ?, opc = ? WHERE id = ?");
	if (!q || !u) {
		sqlite3_finalize(q);
		sqlite3_finalize(u);
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -EIO;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 0);
		uint8_t k[SEALED], opc[SEALED];

		if (!id || gcm(st, true, id, "k", sqlite3_column_blob(q, 1), k) ||
		    gcm(st, true, id, "opc", sqlite3_column_blob(q, 2), opc)) {
			rc = SQLITE_ERROR;
			break;
		}
		sqlite3_reset(u);
		sqlite3_bind_blob(u, 1, k, SEALED, SQLITE_TRANSIENT);
		sqlite3_bind_blob(u, 2, opc, SEALED, SQLITE_TRANSIENT);
		sqlite3_bind_text(u, 3, id, -1, SQLITE_TRANSIENT);
		OPENSSL_cleanse(k, sizeof(k));
		OPENSSL_cleanse(opc, sizeof(opc));
		if (sqlite3_step(u) != SQLITE_DONE) {
			rc = SQLITE_ERROR;
			break;
		}
		n++;
	}
	sqlite3_finalize(q);
	sqlite3_finalize(u);
	if (rc != SQLITE_DONE) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		snprintf(st->err, sizeof(st->err), "sealing: %s",
			 sqlite3_errmsg(st->db));
		return -EIO;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(st, "commit");
	return n;
}

int store_sub_add(struct store *st, const struct sub_rec *r)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO subscribers (" SUB_COLS
				   ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
	uint8_t k[SEALED], opc[SEALED];
	int kl = 16;

	if (!s)
		return -EIO;
	if (st->has_kek) {
		if (gcm(st, true, r->id, "k", r->k, k) ||
		    gcm(st, true, r->id, "opc", r->opc, opc)) {
			sqlite3_finalize(s);
			snprintf(st->err, sizeof(st->err), "sealing K/OPc");
			return -EIO;
		}
		kl = SEALED;
	} else {
		memcpy(k, r->k, 16);
		memcpy(opc, r->opc, 16);
	}
	sqlite3_bind_text(s, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, k, kl, SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 3, opc, kl, SQLITE_TRANSIENT);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(opc, sizeof(opc));
	sqlite3_bind_blob(s, 4, r->amf, 2, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)r->sqn);
	sqlite3_bind_int(s, 6, (int)r->methods);
	sqlite3_bind_int(s, 7, r->disabled);
	if (r->has_password) {
		sqlite3_bind_blob(s, 8, r->pw.salt, (int)r->pw.salt_len,
				  SQLITE_STATIC);
		sqlite3_bind_int(s, 9, (int)r->pw.iter);
		sqlite3_bind_blob(s, 10, r->pw.stored_key, 32, SQLITE_STATIC);
		sqlite3_bind_blob(s, 11, r->pw.server_key, 32, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 12, r->created);
	return run(st, s, "add subscriber");
}

/* Runs a one-row query into a subscriber record. */
static int sub_query(struct store *st, sqlite3_stmt *s, struct sub_rec *r,
		     const char *what)
{
	int rc;

	if (!s)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sub_row(st, s, r)) {
		/* unusable K/OPc: no vector (an SQN step may have been
		 * taken; the subscriber is served once the key is right) */
		sqlite3_finalize(s);
		OPENSSL_cleanse(r, sizeof(*r));
		return -EKEYREJECTED;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return fail(st, what);
}

int store_sub_get(struct store *st, const char *id, struct sub_rec *r)
{
	sqlite3_stmt *s =
		prep(st, "SELECT " SUB_COLS " FROM subscribers WHERE id = ?");

	if (s)
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return sub_query(st, s, r, "get subscriber");
}

int store_sub_set_disabled(struct store *st, const char *id, bool disabled)
{
	sqlite3_stmt *s =
		prep(st, "UPDATE subscribers SET disabled = ? WHERE id = ?");

	if (!s)
		return -EIO;
	sqlite3_bind_int(s, 1, disabled);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	return run(st, s, "disable subscriber");
}

int store_sub_set_methods(struct store *st, const char *id, unsigned m)
{
	sqlite3_stmt *s =
		prep(st, "UPDATE subscribers SET methods = ? WHERE id = ?");

	if (!s)
		return -EIO;
	sqlite3_bind_int(s, 1, (int)m);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	return run(st, s, "set methods");
}

int store_sub_set_password(struct store *st, const char *id,
			   const struct scram_verifier *v)
{
	sqlite3_stmt *s = prep(st, "UPDATE subscribers SET pw_salt = ?, "
				   "pw_iter = ?, pw_stored = ?, pw_server = ? "
				   "WHERE id = ?");

	if (!s)
		return -EIO;
	sqlite3_bind_blob(s, 1, v->salt, (int)v->salt_len, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)v->iter);
	sqlite3_bind_blob(s, 3, v->stored_key, 32, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, v->server_key, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, id, -1, SQLITE_STATIC);
	return run(st, s, "set password");
}

int store_sub_list(struct store *st,
		   int (*fn)(const struct sub_rec *s, void *ctx), void *ctx)
{
	sqlite3_stmt *s =
		prep(st, "SELECT " SUB_COLS " FROM subscribers ORDER BY id");
	struct sub_rec r;
	int rc, n = 0;

	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		sub_row(st, s, &r); /* listed even when its K cannot be read */
		n++;
		if (fn(&r, ctx))
			break;
	}
	OPENSSL_cleanse(&r, sizeof(r));
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(st, "list subscribers");
	return n;
}

int store_sqn_next(struct store *st, const char *id, struct sub_rec *r)
{
	sqlite3_stmt *s;
	int rc;

	s = prep(st, "UPDATE subscribers SET sqn = sqn + 1 WHERE id = ? AND "
		     "disabled = 0 AND sqn < 281474976710655 RETURNING " SUB_COLS);
	if (s)
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sub_query(st, s, r, "next SQN");
	if (rc == -ENOENT && store_sub_get(st, id, r) == 0)
		return -EPERM; /* exists: disabled (or SQN exhausted) */
	return rc;
}

int store_sqn_set(struct store *st, const char *id, uint64_t sqn_ms)
{
	sqlite3_stmt *s = prep(st, "UPDATE subscribers SET sqn = ? WHERE id = ?");

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)sqn_ms);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	return run(st, s, "resynchronise SQN");
}

int store_sess_put(struct store *st, const struct sess_rec *r)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO sessions (btid, id, ks, rand, "
				   "method, created, expires, root, chain, "
				   "counter) VALUES (?,?,?,?,?,?,?,?,?,?)");

	uint8_t sealed[GBA_KS + SEAL_OVER];
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, r->btid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, r->id, -1, SQLITE_STATIC);
	if (bind_secret(st, s, 3, r->btid, "ks", r->ks, GBA_KS, sealed)) {
		sqlite3_finalize(s);
		snprintf(st->err, sizeof(st->err), "sealing Ks");
		return -EIO;
	}
	sqlite3_bind_blob(s, 4, r->rand, 16, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->method, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, r->created);
	sqlite3_bind_int64(s, 7, r->expires);
	sqlite3_bind_int64(s, 8, r->root);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)r->chain);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)r->counter);
	rc = run(st, s, "store session");
	OPENSSL_cleanse(sealed, sizeof(sealed));
	return rc;
}

int store_sess_get(struct store *st, const char *btid, int64_t now,
		   struct sess_rec *r)
{
	sqlite3_stmt *s = prep(
		st, "SELECT s.btid, s.id, s.ks, s.rand, s.method, s.created, "
		    "s.expires, s.root, s.chain, s.counter FROM sessions s "
		    "JOIN subscribers u ON u.id = "
		    "s.id WHERE s.btid = ? AND s.expires > ? AND u.disabled = 0");
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, btid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		text(s, 0, r->btid, sizeof(r->btid));
		text(s, 1, r->id, sizeof(r->id));
		if (secret_n(st, s, 2, r->btid, "ks", r->ks, GBA_KS))
			rc = SQLITE_NOTADB; /* below: a key we cannot open */
		blob(s, 3, r->rand, 16);
		text(s, 4, r->method, sizeof(r->method));
		r->created = sqlite3_column_int64(s, 5);
		r->expires = sqlite3_column_int64(s, 6);
		r->root = sqlite3_column_int64(s, 7);
		r->chain = (unsigned)sqlite3_column_int64(s, 8);
		r->counter = (uint64_t)sqlite3_column_int64(s, 9);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc == SQLITE_NOTADB) {
		OPENSSL_cleanse(r->ks, sizeof(r->ks));
		snprintf(st->err, sizeof(st->err), "session %s: Ks %s", btid,
			 st->has_kek ? "not sealed under this "
				       "key_encryption_key" :
				       "sealed: key_encryption_key needed");
		return -EKEYREJECTED;
	}
	return fail(st, "get session");
}

int store_sess_revoke(struct store *st, const char *btid)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM sessions WHERE btid = ?");

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, btid, -1, SQLITE_STATIC);
	return run(st, s, "revoke session");
}

int store_sess_revoke_all(struct store *st, const char *id)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM sessions WHERE id = ?");
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = run(st, s, "revoke sessions");
	if (rc == -ENOENT)
		return 0;
	return rc ? rc : sqlite3_changes(st->db);
}

int store_sess_list(struct store *st, const char *id, int64_t now,
		    int (*fn)(const struct sess_rec *s, void *ctx), void *ctx)
{
	sqlite3_stmt *s = prep(
		st, id ? "SELECT btid, id, method, created, expires FROM "
			 "sessions WHERE expires > ? AND id = ? ORDER BY created" :
			 "SELECT btid, id, method, created, expires FROM "
			 "sessions WHERE expires > ? ORDER BY created");
	struct sess_rec r;
	int rc, n = 0;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, now);
	if (id)
		sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r)); /* no key leaves the store here */
		text(s, 0, r.btid, sizeof(r.btid));
		text(s, 1, r.id, sizeof(r.id));
		text(s, 2, r.method, sizeof(r.method));
		r.created = sqlite3_column_int64(s, 3);
		r.expires = sqlite3_column_int64(s, 4);
		n++;
		if (fn(&r, ctx))
			break;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(st, "list sessions");
	return n;
}

int store_sess_purge(struct store *st, int64_t now)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM sessions WHERE expires <= ?");
	sqlite3_stmt *c;
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_int64(s, 1, now);
	rc = run(st, s, "purge sessions");
	if (rc && rc != -ENOENT)
		return rc;
	c = prep(st, "DELETE FROM challenges WHERE expires <= ?");
	if (!c)
		return -EIO;
	sqlite3_bind_int64(c, 1, now);
	rc = run(st, c, "purge challenges");
	return rc == -ENOENT ? 0 : rc;
}

int store_chal_put(struct store *st, const struct chal_rec *c)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO challenges (nonce, id, kind, "
				   "rand, xres, ck, ik, client_first, "
				   "server_first, expires) VALUES "
				   "(?,?,?,?,?,?,?,?,?,?)");

	uint8_t sx[8 + SEAL_OVER], sc[16 + SEAL_OVER], si[16 + SEAL_OVER];
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, c->nonce, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c->kind, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, c->rand, 16, SQLITE_STATIC);
	/* the vector's secrets sealed like K (bound to the nonce) */
	if (bind_secret(st, s, 5, c->nonce, "xres", c->xres, 8, sx) ||
	    bind_secret(st, s, 6, c->nonce, "ck", c->ck, 16, sc) ||
	    bind_secret(st, s, 7, c->nonce, "ik", c->ik, 16, si)) {
		sqlite3_finalize(s);
		snprintf(st->err, sizeof(st->err), "sealing a challenge");
		return -EIO;
	}
	sqlite3_bind_text(s, 8, c->client_first, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, c->server_first, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, c->expires);
	rc = run(st, s, "store challenge");
	OPENSSL_cleanse(sx, sizeof(sx));
	OPENSSL_cleanse(sc, sizeof(sc));
	OPENSSL_cleanse(si, sizeof(si));
	return rc;
}

int store_chal_pending(struct store *st, const char *id, const char *kind,
		       int64_t now)
{
	sqlite3_stmt *s = prep(st, "SELECT COUNT(*) FROM challenges WHERE "
				   "id = ? AND (kind = ? OR kind = ? || "
				   "'-decoy') AND expires > ?");
	int rc, n = 0;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? n : fail(st, "count challenges");
}

int store_chal_take(struct store *st, const char *nonce, int64_t now,
		    struct chal_rec *c)
{
	/* DELETE ... RETURNING: two requests with the same nonce cannot both
	 * get it. */
	sqlite3_stmt *s = prep(st, "DELETE FROM challenges WHERE nonce = ? "
				   "RETURNING nonce, id, kind, rand, xres, ck, "
				   "ik, client_first, server_first, expires");
	int rc;

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, nonce, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		text(s, 0, c->nonce, sizeof(c->nonce));
		text(s, 1, c->id, sizeof(c->id));
		text(s, 2, c->kind, sizeof(c->kind));
		blob(s, 3, c->rand, 16);
		/* a vector that does not open is a challenge that fails:
		 * its secrets zero (no RES matches a zero XRES by chance
		 * that the decoy path does not already give) */
		if (secret_n(st, s, 4, c->nonce, "xres", c->xres, 8) |
		    secret_n(st, s, 5, c->nonce, "ck", c->ck, 16) |
		    secret_n(st, s, 6, c->nonce, "ik", c->ik, 16))
			snprintf(c->kind, sizeof(c->kind), "unsealable");
		text(s, 7, c->client_first, sizeof(c->client_first));
		text(s, 8, c->server_first, sizeof(c->server_first));
		c->expires = sqlite3_column_int64(s, 9);
		/* A RETURNING statement deletes when it runs to completion. */
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_ROW : SQLITE_ERROR;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return c->expires > now ? 0 : -ENOENT;
	if (rc == SQLITE_DONE)
		return -ENOENT;
	return fail(st, "take challenge");
}

int store_key_add(struct store *st, const char *kid, const char *pem,
		  int64_t created)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO signing_keys (kid, pem, "
				   "created) VALUES (?,?,?)");

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, kid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, pem, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, created);
	return run(st, s, "add signing key");
}

int store_key_list(struct store *st, struct key_rec **keys, size_t *n)
{
	sqlite3_stmt *s = prep(st, "SELECT kid, pem, created FROM signing_keys "
				   "WHERE retired = 0 ORDER BY created DESC, "
				   "rowid DESC");
	struct key_rec *v = NULL;
	size_t cnt = 0;
	int rc;

	if (!s)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct key_rec *nv = realloc(v, (cnt + 1) * sizeof(*v));

		if (!nv) {
			rc = SQLITE_NOMEM;
			break;
		}
		v = nv;
		text(s, 0, v[cnt].kid, sizeof(v[cnt].kid));
		v[cnt].pem = strdup((const char *)sqlite3_column_text(s, 1));
		v[cnt].created = sqlite3_column_int64(s, 2);
		v[cnt].active = cnt == 0;
		cnt++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_keys_free(v, cnt);
		return fail(st, "list signing keys");
	}
	*keys = v;
	*n = cnt;
	return 0;
}

void store_keys_free(struct key_rec *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (keys[i].pem) {
			OPENSSL_cleanse(keys[i].pem, strlen(keys[i].pem));
			free(keys[i].pem);
		}
	}
	free(keys);
}

int store_key_retire(struct store *st, const char *kid)
{
	sqlite3_stmt *s =
		prep(st, "UPDATE signing_keys SET retired = 1 WHERE kid = ?");

	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, kid, -1, SQLITE_STATIC);
	return run(st, s, "retire signing key");
}

int store_secret(struct store *st, const char *name, uint8_t out[32])
{
	sqlite3_stmt *s;
	uint8_t fresh[32];
	int rc;

	if (getrandom(fresh, 32, 0) != 32)
		return -EIO;
	/* Insert if absent, then read: whoever came first wins. */
	s = prep(st, "INSERT OR IGNORE INTO secrets (name, value) VALUES (?,?)");
	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, fresh, 32, SQLITE_STATIC);
	rc = run(st, s, "make secret");
	OPENSSL_cleanse(fresh, 32);
	if (rc && rc != -ENOENT)
		return rc;
	s = prep(st, "SELECT value FROM secrets WHERE name = ?");
	if (!s)
		return -EIO;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		blob(s, 0, out, 32);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : fail(st, "read secret");
}
