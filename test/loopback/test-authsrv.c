// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-authsrv end to end on loopback: the real server processes, the
 * client library on the terminal's and the application server's side.
 * Every flow of X.1124 as xcrs implements it, every refusal an operator
 * relies on, and SQN uniqueness under hundreds of parallel bootstraps
 * served by two servers sharing one database.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/ssl.h>

#include "assertion.h"
#include "authclient.h"
#include "authenv.h"
#include "bytes.h"
#include "milenage.h"
#include "netns.h"

/* TS 35.208 set 1's K and OPc. */
#define K1 "465b5ce8b199b49faa5f0a2ee238a6bc"
#define OPC1 "cd63cb71954a9f4e48a5994e37a02baf"

static struct authenv env;
static int raw_post(const char *path, const char *auth, char *out,
		    size_t len);

static void setup(void)
{
	char out[1024];

	cr_assert_eq(ae_setup(&env, "127.0.0.1", 2, NULL), 0);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL,
			      "add user1@home.example --k " K1 " --opc " OPC1),
		     0, "%s", out);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), "pencil",
			      "add pw@home.example --methods password "
			      "--password-stdin --iterations 4096"),
		     0, "%s", out);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL,
			      "add cert-user@home.example --methods certificate"),
		     0, "%s", out);
	cr_assert_eq(ae_start(&env, 0, NULL), 0);
}

static void teardown(void)
{
	ae_teardown(&env);
}

TestSuite(authsrv, .init = setup, .fini = teardown, .timeout = 120);

static void conn(struct ac_conn *c, int server, const char *who)
{
	char cert[256], key[256];

	if (who) {
		snprintf(cert, sizeof(cert), "%s", ae_path(&env, who));
		snprintf(key, sizeof(key), "%s", cert);
		strcpy(cert + strlen(cert), ".crt");
		strcpy(key + strlen(key), ".key");
	}
	cr_assert_eq(ac_open(c, env.addr[server], env.ca, who ? cert : NULL,
			     who ? key : NULL, NULL),
		     0, "%s", c->err);
}

static void usim1(struct ac_usim *u, uint64_t sqn_ms)
{
	memset(u, 0, sizeof(*u));
	strcpy(u->id, "user1@home.example");
	hex_decode(K1, 32, u->k, 16);
	hex_decode(OPC1, 32, u->opc, 16);
	u->sqn_ms = sqn_ms;
}

/* Bootstrap with AKA; the AS fetches the key the terminal derives. */
Test(authsrv, aka_bootstrap_and_key_for_as)
{
	struct ac_conn t, as, shop;
	struct ac_usim u;
	struct ac_session s;
	struct ac_as_key k, k2;
	uint8_t mine[GBA_KEY];

	conn(&t, 0, NULL);
	usim1(&u, 0);
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	cr_expect_eq(u.sqn_ms, 1, "the USIM accepted SQN 1");
	cr_expect_str_eq(s.method, "aka");
	cr_expect(strstr(s.btid, "@home.example") != NULL);

	conn(&as, 0, "crs");
	cr_assert_eq(ac_fetch_key(&as, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", as.err);
	cr_assert_eq(ac_ks_as(&s, "crs.home.example", GBA_UA_XCRS_REPORT, mine),
		     0);
	cr_expect_eq(memcmp(mine, k.ks_as, GBA_KEY), 0,
		     "terminal and AS hold the same Ks_AS");
	cr_expect_str_eq(k.subject, "user1@home.example",
			 "release_identity: the AS sees the identity");
	/* Another AS: another key, and a pseudonym. */
	conn(&shop, 0, "shop");
	cr_assert_eq(ac_fetch_key(&shop, s.btid, "shop.example",
				  GBA_UA_XCRS_REPORT, &k2),
		     0, "%s", shop.err);
	cr_expect_neq(memcmp(k.ks_as, k2.ks_as, GBA_KEY), 0);
	cr_expect(strncmp(k2.subject, "anon-", 5) == 0, "%s", k2.subject);
	/* Another protocol id: another key. */
	cr_assert_eq(ac_fetch_key(&as, s.btid, "crs.home.example",
				  GBA_UA_TLS13, &k2),
		     0);
	cr_expect_neq(memcmp(k.ks_as, k2.ks_as, GBA_KEY), 0);
	ac_close(&t);
	ac_close(&as);
	ac_close(&shop);
}

Test(authsrv, aka_resynchronises_sqn)
{
	struct ac_conn t;
	struct ac_usim u;
	struct ac_session s;
	char out[512];

	conn(&t, 0, NULL);
	/* The terminal is far ahead of the network (a restored database). */
	usim1(&u, 5000);
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	cr_expect_eq(u.sqn_ms, 5001);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL,
			      "show user1@home.example"),
		     0);
	cr_expect(strstr(out, "sqn=5001") != NULL, "%s", out);
	/* And the next bootstrap needs no resync. */
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	cr_expect_eq(u.sqn_ms, 5002);
	ac_close(&t);
}

Test(authsrv, aka_network_without_k_is_not_trusted)
{
	struct ac_conn t;
	struct ac_usim u;
	struct ac_session s;

	conn(&t, 0, NULL);
	usim1(&u, 0);
	u.k[0] ^= 1; /* the terminal's K differs from the network's */
	cr_expect_eq(ac_bootstrap_aka(&t, &u, &s), -EACCES);
	cr_expect(strstr(t.err, "MAC-A") != NULL, "%s", t.err);
	cr_expect_eq(u.sqn_ms, 0);
	ac_close(&t);
}

Test(authsrv, aka_unknown_subscriber_refused)
{
	struct ac_conn t;
	struct ac_usim u;
	struct ac_session s;

	char out[4096], out2[4096], *a, *b;

	conn(&t, 0, NULL);
	usim1(&u, 0);
	strcpy(u.id, "nobody@home.example");
	/* the server's challenge is a decoy: the terminal's USIM finds the
	 * network unauthentic (no one learns from the server that the
	 * identity does not exist) */
	cr_expect_neq(ac_bootstrap_aka(&t, &u, &s), 0);
	cr_expect(strstr(t.err, "MAC"), "%s", t.err);
	ac_close(&t);
	/* a known and an unknown identity: the same status, the same form */
	cr_assert_eq(raw_post("/v1/bootstrap",
			      "Digest username=\"user1@home.example\"", out,
			      sizeof(out)),
		     401);
	cr_assert_eq(raw_post("/v1/bootstrap",
			      "Digest username=\"ghost@home.example\"", out2,
			      sizeof(out2)),
		     401, "%.300s", out2);
	a = strstr(out, "WWW-Authenticate:");
	b = strstr(out2, "WWW-Authenticate:");
	cr_assert(a && b, "%.300s / %.300s", out, out2);
	cr_expect_eq(strcspn(a, "\r\n"), strcspn(b, "\r\n"),
		     "challenges of different length: %.200s / %.200s", a, b);
}

Test(authsrv, password_method)
{
	struct ac_conn t, as;
	struct ac_session s;
	struct ac_as_key k;
	uint8_t mine[GBA_KEY];
	char e1[512];

	conn(&t, 0, NULL);
	cr_assert_eq(ac_bootstrap_password(&t, "pw@home.example", "pencil", &s),
		     0, "%s", t.err);
	cr_expect_str_eq(s.method, "password");
	conn(&as, 0, "crs");
	cr_assert_eq(ac_fetch_key(&as, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", as.err);
	ac_ks_as(&s, "crs.home.example", GBA_UA_XCRS_REPORT, mine);
	cr_expect_eq(memcmp(mine, k.ks_as, GBA_KEY), 0);
	cr_expect_str_eq(k.method, "password");
	/* A wrong password and an unknown user get the same answer. */
	cr_expect_eq(ac_bootstrap_password(&t, "pw@home.example", "pencil2", &s),
		     -EACCES);
	snprintf(e1, sizeof(e1), "%s", t.err);
	cr_expect_eq(ac_bootstrap_password(&t, "ghost@home.example", "pencil",
					   &s),
		     -EACCES);
	cr_expect(strstr(e1, "authentication failed") &&
			  strstr(t.err, "authentication failed"),
		  "%s / %s", e1, t.err);
	/* The AKA subscriber has no password method. */
	cr_expect_eq(ac_bootstrap_password(&t, "user1@home.example", "x", &s),
		     -EACCES);
	ac_close(&t);
	ac_close(&as);
}

Test(authsrv, certificate_method)
{
	struct ac_conn t, t2, plain, as;
	struct ac_session s;
	struct ac_as_key k;
	uint8_t mine[GBA_KEY];

	conn(&t, 0, "user");
	cr_assert_eq(ac_bootstrap_certificate(&t, "cert-user@home.example", &s),
		     0, "%s", t.err);
	cr_expect_str_eq(s.method, "certificate");
	conn(&as, 0, "crs");
	cr_assert_eq(ac_fetch_key(&as, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", as.err);
	ac_ks_as(&s, "crs.home.example", GBA_UA_XCRS_REPORT, mine);
	cr_expect_eq(memcmp(mine, k.ks_as, GBA_KEY), 0);
	/* No certificate: refused. */
	conn(&plain, 0, NULL);
	cr_expect_eq(ac_bootstrap_certificate(&plain, "cert-user@home.example",
					      &s),
		     -EACCES);
	/* A user certificate for a subscriber without the method. */
	conn(&t2, 0, "user2");
	cr_expect_eq(ac_bootstrap_certificate(&t2, "user1@home.example", &s),
		     -EACCES);
	/* An AS certificate is not a user certificate. */
	ac_close(&as);
	conn(&as, 0, "crs");
	cr_expect_eq(ac_bootstrap_certificate(&as, "crs.home.example", &s),
		     -EACCES);
	ac_close(&t);
	ac_close(&t2);
	ac_close(&plain);
	ac_close(&as);
}

/* The SS gives a key only to the AS its certificate names, for realms the
 * AS serves, for a live session. */
Test(authsrv, key_release_checks)
{
	struct ac_conn t, crs, shop, pshop, none, user;
	struct ac_usim u;
	struct ac_session s;
	struct ac_as_key k;

	conn(&t, 0, NULL);
	usim1(&u, 0);
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	conn(&shop, 0, "shop");
	cr_expect_eq(ac_fetch_key(&shop, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -EACCES, "shop asked for crs's key");
	conn(&none, 0, NULL);
	cr_expect_eq(ac_fetch_key(&none, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -EACCES, "no client certificate");
	conn(&user, 0, "user");
	cr_expect_eq(ac_fetch_key(&user, s.btid, "cert-user@home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -EACCES, "a user certificate");
	conn(&pshop, 0, "pshop");
	cr_expect_eq(ac_fetch_key(&pshop, s.btid, "partner-shop.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -EACCES, "an AS that serves only partner.example");
	conn(&crs, 0, "crs");
	cr_expect_eq(ac_fetch_key(&crs, "AAAAAAAAAAAAAAAAAAAAAA==@home.example",
				  "crs.home.example", GBA_UA_XCRS_REPORT, &k),
		     -ENOENT, "unknown session");
	cr_expect_eq(ac_fetch_key(&crs, "not-a-btid", "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -EINVAL);
	cr_expect_eq(ac_fetch_key(&crs, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", crs.err);
	ac_close(&t);
	ac_close(&crs);
	ac_close(&shop);
	ac_close(&pshop);
	ac_close(&none);
	ac_close(&user);
}

Test(authsrv, disabling_revokes)
{
	struct ac_conn t, crs;
	struct ac_usim u;
	struct ac_session s, s2, old;
	struct ac_as_key k;
	char out[2048], cmd[256], *tok = NULL;

	conn(&t, 0, NULL);
	conn(&crs, 0, "crs");
	usim1(&u, 0);
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	old = s;
	cr_assert_eq(ac_fetch_key(&crs, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL,
			      "disable user1@home.example"),
		     0, "%s", out);
	cr_expect_eq(ac_fetch_key(&crs, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -ENOENT, "a disabled subscriber's session is gone");
	cr_expect_eq(ac_assertion(&t, &s, "shop.example", &tok, NULL), -EACCES);
	cr_expect_eq(ac_bootstrap_aka(&t, &u, &s), -EACCES);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL,
			      "enable user1@home.example"),
		     0, "%s", out);
	/* disabling revoked: the old session does not come back */
	cr_expect_eq(ac_fetch_key(&crs, old.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -ENOENT, "enable brought a revoked session back");
	cr_expect_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	/* one session revoked by its B-TID, the next one untouched */
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s2), 0, "%s", t.err);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL,
			      "sessions list user1@home.example"),
		     0, "%s", out);
	cr_expect(strstr(out, s.btid) && strstr(out, s2.btid), "%s", out);
	snprintf(cmd, sizeof(cmd), "sessions revoke %s", s.btid);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL, cmd), 0, "%s",
		     out);
	cr_expect_eq(ac_fetch_key(&crs, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -ENOENT, "a revoked session still releases keys");
	cr_expect_eq(ac_fetch_key(&crs, s2.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", crs.err);
	cr_expect_neq(ae_admin(&env, out, sizeof(out), NULL, cmd), 0,
		      "revoking twice: %s", out);
	ac_close(&t);
	ac_close(&crs);
}

static void fetch_keyset(struct as_keyset *ks)
{
	struct ac_conn c;
	char *j = NULL;

	conn(&c, 0, NULL);
	cr_assert_eq(ac_jwks(&c, &j), 0, "%s", c.err);
	cr_assert_eq(as_keyset_from_jwks(j, ks), 0, "%s", j);
	free(j);
	ac_close(&c);
}

Test(authsrv, assertions_verify_offline_and_survive_rotation)
{
	static const char *const realms[] = { "home.example" };
	struct ac_conn t;
	struct ac_session s;
	struct as_keyset ks;
	struct as_claims cl;
	char *tok = NULL, *tok2 = NULL, out[512], kid[32];
	int64_t exp = 0, now = (int64_t)time(NULL);

	conn(&t, 0, NULL);
	cr_assert_eq(ac_bootstrap_password(&t, "pw@home.example", "pencil", &s),
		     0, "%s", t.err);
	cr_assert_eq(ac_assertion(&t, &s, "shop.example", &tok, &exp), 0, "%s",
		     t.err);
	cr_expect_leq(exp, now + 125, "assertion_lifetime 2m");
	fetch_keyset(&ks);
	cr_assert_eq(as_verify(tok, &ks, "shop.example", realms, 1, now, NULL,
			       &cl),
		     AS_OK);
	cr_expect_str_eq(cl.amr, "password");
	cr_expect(strncmp(cl.sub, "anon-", 5) == 0);
	cr_expect_eq(as_verify(tok, &ks, "bank.example", realms, 1, now, NULL,
			       NULL),
		     AS_WRONG_AUDIENCE);
	as_keyset_free(&ks);
	/* A session proof for another session does not get an assertion. */
	s.ks[0] ^= 1;
	cr_expect_eq(ac_assertion(&t, &s, "shop.example", &tok2, NULL), -EACCES);
	s.ks[0] ^= 1;

	/* Rotation: the new key signs, the old one is still published. */
	snprintf(kid, sizeof(kid), "%.16s", ks.k[0].kid);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL, "keys rotate"), 0,
		     "%s", out);
	kill(env.pid[0], SIGHUP);
	usleep(300000);
	cr_assert_eq(ac_assertion(&t, &s, "shop.example", &tok2, NULL), 0, "%s",
		     t.err);
	fetch_keyset(&ks);
	cr_expect_eq(ks.n, 2);
	cr_expect_eq(as_verify(tok, &ks, "shop.example", realms, 1, now, NULL,
			       NULL),
		     AS_OK, "signed before the rotation");
	cr_expect_eq(as_verify(tok2, &ks, "shop.example", realms, 1, now, NULL,
			       NULL),
		     AS_OK);
	as_keyset_free(&ks);
	/* Retiring the old key withdraws what it signed. */
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "keys retire %s", kid);
		cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL, cmd), 0,
			     "%s", out);
	}
	kill(env.pid[0], SIGHUP);
	usleep(300000);
	fetch_keyset(&ks);
	cr_expect_eq(as_verify(tok, &ks, "shop.example", realms, 1, now, NULL,
			       NULL),
		     AS_UNKNOWN_KEY);
	cr_expect_eq(as_verify(tok2, &ks, "shop.example", realms, 1, now, NULL,
			       NULL),
		     AS_OK);
	as_keyset_free(&ks);
	free(tok);
	free(tok2);
	ac_close(&t);
}

/* ---- concurrency: no SQN is ever used twice ---- */

#define PARALLEL 240
/* identities: each gets PARALLEL / IDS at once, the most challenges an
 * identity may have unanswered (CHAL_PENDING_MAX) */
#define IDS 30

struct worker {
	int server;
	int who;
	int rc;
	uint64_t sqn;
	char err[512];
};

static void *bootstrap_one(void *arg)
{
	struct worker *w = arg;
	struct ac_conn c;
	struct ac_usim u;
	struct ac_session s;

	if (ac_open(&c, env.addr[w->server], env.ca, NULL, NULL, NULL)) {
		w->rc = -1;
		return NULL;
	}
	c.timeout_s = 60;
	/* Each terminal copy starts at 0: any fresh SQN is accepted, so the
	 * SQN each one accepted is the one the network chose for it. */
	usim1(&u, 0);
	snprintf(u.id, sizeof(u.id), "par%d@home.example", w->who);
	w->rc = ac_bootstrap_aka(&c, &u, &s);
	w->sqn = u.sqn_ms;
	snprintf(w->err, sizeof(w->err), "%s", c.err);
	ac_close(&c);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

Test(authsrv, parallel_bootstraps_never_reuse_sqn, .timeout = 300)
{
	static struct worker w[PARALLEL];
	static pthread_t th[PARALLEL];
	static uint64_t sqns[IDS][PARALLEL / IDS];
	char out[512], want[64], cmd[128];
	int ok = 0, n[IDS] = { 0 };

	for (int i = 0; i < IDS; i++) {
		snprintf(cmd, sizeof(cmd),
			 "add par%d@home.example --k " K1 " --opc " OPC1, i);
		cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL, cmd), 0,
			     "%s", out);
	}
	/* A second server on the same database. */
	cr_assert_eq(ae_start(&env, 1, NULL), 0);
	for (int i = 0; i < PARALLEL; i++) {
		w[i].server = i % 2;
		w[i].who = i % IDS;
		cr_assert_eq(pthread_create(&th[i], NULL, bootstrap_one, &w[i]),
			     0);
	}
	for (int i = 0; i < PARALLEL; i++) {
		pthread_join(th[i], NULL);
		if (w[i].rc == 0) {
			sqns[w[i].who][n[w[i].who]++] = w[i].sqn;
			ok++;
		} else {
			cr_log_warn("bootstrap %d failed: %s", i, w[i].err);
		}
	}
	cr_expect_eq(ok, PARALLEL, "every bootstrap succeeded");
	for (int id = 0; id < IDS; id++) {
		qsort(sqns[id], (size_t)n[id], sizeof(sqns[id][0]), cmp_u64);
		for (int i = 1; i < n[id]; i++)
			cr_expect_neq(sqns[id][i], sqns[id][i - 1],
				      "par%d: SQN %llu used twice", id,
				      (unsigned long long)sqns[id][i]);
		snprintf(cmd, sizeof(cmd), "show par%d@home.example", id);
		cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL, cmd), 0);
		snprintf(want, sizeof(want), "sqn=%d ", PARALLEL / IDS);
		cr_expect(strstr(out, want) != NULL, "%s", out);
	}
}

/* Roaming: a user of partner.example bootstraps at its home network's
 * authsrv; an AS that serves partner.example users asks *our* authsrv,
 * which asks the partner's (its certificate names our realm) and relays
 * the key. */
Test(authsrv, roaming_key_through_the_peer)
{
	char conf2[160], out[1024], cmd[1024];
	struct ac_conn t, pshop, crs;
	struct ac_usim u;
	struct ac_session s;
	struct ac_as_key k;
	uint8_t mine[GBA_KEY];
	int port2 = 20000 + (int)(getpid() % 20000) + 7;
	FILE *f;

	/* The partner's authsrv: its own domain and database, our server as
	 * its peer. */
	snprintf(conf2, sizeof(conf2), "%s", ae_path(&env, "partner.yaml"));
	f = fopen(conf2, "w");
	cr_assert(f);
	fprintf(f,
		"version: 1\n"
		"authsrv:\n"
		"  domain: partner.example\n"
		"  listen: 127.0.0.1:%d\n"
		"  certificate: %s/server.crt\n"
		"  private_key: %s/server.key\n"
		"  database: %s/partner.db\n"
		"  as_ca: %s/ca.crt\n"
		"peers:\n"
		"  - {realm: home.example, address: \"%s\", ca: %s/ca.crt}\n",
		port2, env.dir, env.dir, env.dir, env.dir, env.addr[0], env.dir);
	fclose(f);
	snprintf(env.conf[1], sizeof(env.conf[1]), "%s", conf2);
	snprintf(env.addr[1], sizeof(env.addr[1]), "127.0.0.1:%d", port2);
	snprintf(cmd, sizeof(cmd),
		 "%s -c %s add roam@partner.example --k " K1 " --opc " OPC1,
		 ae_bin("xcrs-authsrv-admin"), conf2);
	cr_assert_eq(tn_run(NULL, out, sizeof(out), "%s", cmd), 0, "%s", out);
	cr_assert_eq(ae_start(&env, 1, NULL), 0);
	/* Ours learns of the partner: restart with a peers section. */
	kill(env.pid[0], SIGTERM);
	waitpid(env.pid[0], NULL, 0);
	f = fopen(env.conf[0], "a");
	cr_assert(f);
	fprintf(f, "peers:\n  - {realm: partner.example, address: \"%s\", "
		   "ca: %s/ca.crt}\n", env.addr[1], env.dir);
	fclose(f);
	cr_assert_eq(ae_start(&env, 0, NULL), 0);

	/* The roaming user bootstraps with its home network. */
	conn(&t, 1, NULL);
	usim1(&u, 0);
	strcpy(u.id, "roam@partner.example");
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	cr_assert(strstr(s.btid, "@partner.example") != NULL, "%s", s.btid);

	/* An AS here that serves partner users asks our authsrv. */
	conn(&pshop, 0, "pshop");
	cr_assert_eq(ac_fetch_key(&pshop, s.btid, "partner-shop.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", pshop.err);
	ac_ks_as(&s, "partner-shop.example", GBA_UA_XCRS_REPORT, mine);
	cr_expect_eq(memcmp(mine, k.ks_as, GBA_KEY), 0,
		     "the key relayed from the partner is the terminal's");
	cr_expect(strncmp(k.subject, "anon-", 5) == 0,
		  "the partner releases a pseudonym: %s", k.subject);
	/* An AS that does not serve partner users is refused here. */
	conn(&crs, 0, "crs");
	cr_expect_eq(ac_fetch_key(&crs, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -EACCES);
	/* A realm that is neither ours nor a peer's. */
	cr_expect_eq(ac_fetch_key(&pshop, "AAAAAAAAAAAAAAAAAAAAAA==@elsewhere.example",
				  "partner-shop.example", GBA_UA_XCRS_REPORT, &k),
		     -EACCES, "partner-shop serves only partner.example");
	/* The partner itself does not hand keys to our ASs directly. */
	ac_close(&crs);
	conn(&crs, 1, "pshop");
	cr_expect_eq(ac_fetch_key(&crs, s.btid, "partner-shop.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -EACCES);
	/* An unknown session at the partner comes back as not found. */
	cr_expect_eq(ac_fetch_key(&pshop, "AAAAAAAAAAAAAAAAAAAAAA==@partner.example",
				  "partner-shop.example", GBA_UA_XCRS_REPORT, &k),
		     -ENOENT, "%s", pshop.err);
	ac_close(&t);
	ac_close(&pshop);
	ac_close(&crs);
}

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Another process holds the database's write lock (authsrv's README
 * invites several processes on one database): what needs no database is
 * served at once, a bootstrap is told to come back (503, Retry-After), and
 * once the lock is gone it succeeds. */
Test(authsrv, a_locked_database_never_stalls_the_server)
{
	struct ac_conn c, t;
	struct ac_usim u;
	struct ac_session s;
	struct timespec t0;
	sqlite3 *db;
	char *j = NULL;
	long long jwks_ms, boot_ms;
	int rc;

	cr_assert_eq(sqlite3_open(ae_path(&env, "authsrv.db"), &db),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(db));
	conn(&t, 0, NULL);
	usim1(&u, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = ac_bootstrap_aka(&t, &u, &s);
	boot_ms = ms_since(&t0);
	cr_expect_eq(rc, -EAGAIN, "a bootstrap on a locked database: %d %s",
		     rc, t.err);
	cr_expect(strstr(t.err, "503") && strstr(t.err, "locked"), "%s",
		  t.err);
	conn(&c, 0, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(ac_jwks(&c, &j), 0, "%s", c.err);
	jwks_ms = ms_since(&t0);
	free(j);
	ac_close(&c);
	cr_log_info("locked database: bootstrap refused in %lld ms, JWKS in "
		    "%lld ms", boot_ms, jwks_ms);
	/* behaviour, not speed: SQLite's own wait would be 10 s */
	cr_expect_lt(boot_ms, 5000, "the bootstrap waited for the lock");
	cr_expect_lt(jwks_ms, 5000, "JWKS waited for the database");
	cr_assert_eq(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* the fast-fail second is over after a second */
	usleep(1100000);
	cr_expect_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	ac_close(&t);
}

/* X.1124 8.5: a key is released to the AS it is derived for and to no one
 * else. A roaming partner's authsrv (its certificate chains to as_ca and
 * names its realm) relays for its own ASs; asking for one of ours, it gets
 * nothing. */
Test(authsrv, a_peer_never_gets_a_home_servers_key)
{
	struct ac_conn t, peer, crs;
	struct ac_usim u;
	struct ac_session s;
	struct ac_as_key k;
	FILE *f;

	kill(env.pid[0], SIGTERM);
	waitpid(env.pid[0], NULL, 0);
	f = fopen(env.conf[0], "a");
	cr_assert(f);
	fprintf(f, "peers:\n  - {realm: partner.example, address: "
		   "\"127.0.0.1:9\", ca: %s/ca.crt}\n", env.dir);
	fclose(f);
	cr_assert_eq(ae_start(&env, 0, NULL), 0);
	conn(&t, 0, NULL);
	usim1(&u, 0);
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	/* the partner (server.crt names partner.example) asks for the CRS
	 * agent's key of our user */
	conn(&peer, 0, "server");
	cr_expect_eq(ac_fetch_key(&peer, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -EACCES, "a peer got a home AS's key: %s", peer.err);
	/* for an AS of its own it still gets one (roaming) */
	cr_expect_eq(ac_fetch_key(&peer, s.btid, "shop.partner.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", peer.err);
	/* and the CRS agent itself, of course */
	conn(&crs, 0, "crs");
	cr_expect_eq(ac_fetch_key(&crs, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", crs.err);
	ac_close(&t);
	ac_close(&peer);
	ac_close(&crs);
}

/* One raw HTTPS request to server 0 (the test's own client, so that
 * malformed headers reach the server as written): the status code, the
 * whole answer in out. */
static int raw_post_body(const char *path, const char *auth,
			 const char *body, char *out, size_t len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[4096], host[64], *colon;
	int fd = socket(AF_INET, SOCK_STREAM, 0), n, code = -1;
	size_t got = 0;
	SSL *ssl;

	snprintf(host, sizeof(host), "%s", env.addr[0]);
	colon = strchr(host, ':');
	*colon = '\0';
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, host, &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	cr_assert_eq(SSL_connect(ssl), 1);
	n = snprintf(req, sizeof(req),
		     "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     path, auth, strlen(body), body);
	cr_assert_eq(SSL_write(ssl, req, n), n);
	while (got + 1 < len && (n = SSL_read(ssl, out + got,
					      (int)(len - 1 - got))) > 0)
		got += (size_t)n;
	out[got] = '\0';
	sscanf(out, "HTTP/1.%*d %d", &code);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return code;
}

static int raw_post(const char *path, const char *auth, char *out,
		    size_t len)
{
	return raw_post_body(path, auth, "", out, len);
}

static long long sqn_of(const char *user)
{
	char out[1024], cmd[128];
	const char *p;

	snprintf(cmd, sizeof(cmd), "show %s", user);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL, cmd), 0, "%s", out);
	p = strstr(out, "sqn=");
	cr_assert(p, "%s", out);
	return atoll(p + 4);
}

/* A request that is not a well-formed first request or answer is 400: it
 * neither gets a challenge nor moves the SQN; an answer's nc must be 8 hex
 * digits and its cnonce cannot carry a quote into Authentication-Info. */
Test(authsrv, malformed_digest_requests_are_refused_without_an_sqn_step)
{
	static const char *const bad[] = {
		"Digest username=\"user1@home.example\", nonce=\"abc",
		"Digest username=\"user1@home.example\", nonce=\"zzzz\"",
		"Digest username=\"user1@home.example\", nonce=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
		"Digest username=\"user1@home.example\", bad param",
		"Digest username=\"user1@home.example\", realm=\"x",
	};
	char out[4096], auth[1024], nonce[128];
	long long sqn = sqn_of("user1@home.example");
	const char *p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(raw_post("/v1/bootstrap", bad[i], out,
				      sizeof(out)),
			     400, "%s: %.200s", bad[i], out);
	}
	cr_expect_eq(sqn_of("user1@home.example"), sqn,
		     "malformed requests moved the SQN");
	/* a first request: a challenge, one step */
	cr_assert_eq(raw_post("/v1/bootstrap",
			      "Digest username=\"user1@home.example\"", out,
			      sizeof(out)),
		     401, "%.300s", out);
	cr_expect_eq(sqn_of("user1@home.example"), sqn + 1);
	p = strstr(out, "nonce=\"");
	cr_assert(p, "%.300s", out);
	cr_assert_eq(sscanf(p + 7, "%127[^\"]", nonce), 1);
	/* an answer with nc that is not 8 hex digits and a cnonce carrying an
	 * (escaped) quote */
	snprintf(auth, sizeof(auth),
		 "Digest username=\"user1@home.example\", realm=\"home.example\", "
		 "nonce=\"%s\", uri=\"/v1/bootstrap\", qop=auth, nc=1, "
		 "cnonce=\"a\\\"b\", response=\"00000000000000000000000000000000\"",
		 nonce);
	cr_expect_eq(raw_post("/v1/bootstrap", auth, out, sizeof(out)), 400,
		     "%.300s", out);
	cr_expect_null(strstr(out, "Authentication-Info"), "%.300s", out);
	cr_expect_eq(sqn_of("user1@home.example"), sqn + 1);
}

/* SCRAM's first answer (salt, iterations) for a user who does not exist
 * looks like a real user's: the same iteration count (the one the
 * verifiers have) and a salt of the same length. */
static void server_first(const char *user, char *out, size_t len)
{
	char body[256], ans[4096];
	const char *p;

	snprintf(body, sizeof(body),
		 "{\"message\":\"n,,n=%s,r=abcdefghijklmnop\"}", user);
	cr_assert_eq(raw_post_body("/v1/bootstrap/password", "none", body, ans,
				   sizeof(ans)),
		     200, "%.300s", ans);
	p = strstr(ans, "r=abcdefghijklmnop");
	cr_assert(p, "%.300s", ans);
	snprintf(out, len, "%s", p);
}

Test(authsrv, scram_decoys_look_like_real_users)
{
	char real[512], ghost[512], out[512];
	const char *ri, *gi, *rs, *gs;

	/* a user with the admin's default iterations (100 000; the other
	 * password user has 4096): the larger of the usual counts wins a
	 * tie; the server learns of it at SIGHUP */
	cr_assert_eq(ae_admin(&env, out, sizeof(out), "pencil",
			      "add pw2@home.example --methods password "
			      "--password-stdin"),
		     0, "%s", out);
	kill(env.pid[0], SIGHUP);
	server_first("pw2@home.example", real, sizeof(real));
	ri = strstr(real, ",i=");
	cr_assert(ri, "%s", real);
	/* the signal is handled between requests: give it 5 s */
	for (int i = 0; i < 50; i++) {
		server_first("ghost@home.example", ghost, sizeof(ghost));
		gi = strstr(ghost, ",i=");
		if (gi && atoi(gi + 3) == atoi(ri + 3))
			break;
		usleep(100000);
	}
	rs = strstr(real, ",s=");
	gs = strstr(ghost, ",s=");
	cr_assert(ri && gi && rs && gs, "%s / %s", real, ghost);
	cr_expect_eq(atoi(ri + 3), atoi(gi + 3),
		     "iterations tell who exists: %s / %s", real, ghost);
	/* (JSON escapes "/" as "\/": count the base64 characters) */
	{
		int rn = 0, gn = 0;

		for (const char *p = rs + 3; p < ri; p++)
			rn += *p != '\\';
		for (const char *p = gs + 3; p < gi; p++)
			gn += *p != '\\';
		cr_expect_eq(rn, gn, "salt lengths differ: %s / %s", real,
			     ghost);
	}
}

/* Knowing an IMPI is not enough to move its SQN at will: first requests
 * that are never answered stop making vectors after CHAL_PENDING_MAX (8)
 * per identity (429 with Retry-After), and an unknown identity is answered
 * exactly alike. */
Test(authsrv, unanswered_first_requests_move_the_sqn_a_bounded_amount)
{
	const char *const who[2] = { "user1@home.example",
				     "ghost@home.example" };
	char out[4096], auth[128];
	long long sqn = sqn_of("user1@home.example");
	int codes[2][3] = { { 0 } };

	for (int k = 0; k < 2; k++) {
		snprintf(auth, sizeof(auth), "Digest username=\"%s\"", who[k]);
		for (int i = 0; i < 30; i++) {
			int c = raw_post("/v1/bootstrap", auth, out,
					 sizeof(out));

			codes[k][c == 401 ? 0 : c == 429 ? 1 : 2]++;
			if (c == 429)
				cr_expect(strstr(out, "Retry-After:"), "%.300s",
					  out);
		}
	}
	cr_expect_eq(codes[0][0], 8, "challenges for a known IMPI");
	cr_expect_eq(codes[0][1], 22);
	cr_expect_eq(sqn_of("user1@home.example"), sqn + 8,
		     "30 unanswered requests moved the SQN by %lld",
		     sqn_of("user1@home.example") - sqn);
	cr_expect_eq(codes[1][0], codes[0][0], "an unknown IMPI is told apart");
	cr_expect_eq(codes[1][1], codes[0][1]);
	cr_expect_eq(codes[0][2] + codes[1][2], 0);
}

static int db_len_k(const char *id)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int n = -1;

	cr_assert_eq(sqlite3_open(ae_path(&env, "authsrv.db"), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT length(k), length(opc) "
					    "FROM subscribers WHERE id = ?",
					-1, &s, NULL),
		     SQLITE_OK);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_int(s, 0) == sqlite3_column_int(s, 1))
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* The length of one blob column of one row, and whether it holds want
 * (n bytes): -1 without the row. */
static int db_blob(const char *sql, const char *arg, const void *want,
		   size_t n, bool *same)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int len = -1;

	cr_assert_eq(sqlite3_open(ae_path(&env, "authsrv.db"), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	*same = false;
	if (sqlite3_step(s) == SQLITE_ROW) {
		len = sqlite3_column_bytes(s, 0);
		*same = want && (size_t)len == n &&
			!memcmp(sqlite3_column_blob(s, 0), want, n);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return len;
}

/* K and OPc at rest: sealed under a key-encryption key from a file only
 * its owner reads; rows from before stay usable and `seal` seals them; a
 * sealed row is refused, never misread, without the key. */
Test(authsrv, subscriber_keys_sealed_at_rest)
{
	char out[2048], cmd[1024];
	struct ac_conn t;
	struct ac_usim u;
	struct ac_session s;

	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "sh -c 'umask 077; openssl rand -hex 32 > %s/kek && "
			    "sed -i \"s|^  database: |  key_encryption_key: "
			    "%s/kek\\n  database: |\" %s'",
			    env.dir, env.dir, env.conf[0]),
		     0, "%s", out);
	kill(env.pid[0], SIGTERM);
	waitpid(env.pid[0], NULL, 0);
	cr_assert_eq(ae_start(&env, 0, NULL), 0);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL,
			      "add sealed@home.example --k " K1 " --opc " OPC1),
		     0, "%s", out);
	cr_expect_eq(db_len_k("sealed@home.example"), 44, "K stored in clear");
	cr_expect_eq(db_len_k("user1@home.example"), 16);
	/* both serve: the sealed one and the one from before */
	conn(&t, 0, NULL);
	usim1(&u, 0);
	strcpy(u.id, "sealed@home.example");
	cr_expect_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	usim1(&u, 0);
	cr_expect_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL, "seal"), 0, "%s",
		     out);
	cr_expect_eq(db_len_k("user1@home.example"), 44, "seal left K in clear");
	cr_expect_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	ac_close(&t);
	/* the session's Ks sealed too (32 + 28 bytes, not the terminal's
	 * Ks), and usable: the AS gets its key */
	{
		bool same;
		struct ac_conn as;
		struct ac_as_key k;
		uint8_t mine[GBA_KEY];

		cr_expect_eq(db_blob("SELECT ks FROM sessions WHERE btid = ?",
				     s.btid, s.ks, GBA_KS, &same),
			     GBA_KS + 28, "Ks stored in clear");
		cr_expect_not(same);
		conn(&as, 0, "crs");
		cr_assert_eq(ac_fetch_key(&as, s.btid, "crs.home.example",
					  GBA_UA_XCRS_REPORT, &k),
			     0, "%s", as.err);
		ac_ks_as(&s, "crs.home.example", GBA_UA_XCRS_REPORT, mine);
		cr_expect_eq(memcmp(mine, k.ks_as, GBA_KEY), 0);
		ac_close(&as);
		/* a pending challenge's XRES, CK and IK as well */
		cr_assert_eq(tn_run(NULL, out, sizeof(out),
				    "curl -s -o /dev/null --cacert %s -H "
				    "'Authorization: Digest username=\"user1@"
				    "home.example\", realm=\"home.example\", "
				    "nonce=\"\", uri=\"/\", response=\"\"' "
				    "https://%s/",
				    env.ca, env.addr[0]),
			     0, "%s", out);
		cr_expect_eq(db_blob("SELECT xres FROM challenges WHERE id = ? "
				     "AND kind = 'aka'",
				     "user1@home.example", NULL, 0, &same),
			     8 + 28, "XRES stored in clear");
		cr_expect_eq(db_blob("SELECT ck FROM challenges WHERE id = ? "
				     "AND kind = 'aka'",
				     "user1@home.example", NULL, 0, &same),
			     16 + 28, "CK stored in clear");
	}
	/* without the key: refused and said so */
	snprintf(cmd, sizeof(cmd), "%s -d %s show user1@home.example",
		 ae_bin("xcrs-authsrv-admin"), ae_path(&env, "authsrv.db"));
	cr_expect_neq(tn_run(NULL, out, sizeof(out), "%s", cmd), 0, "%s", out);
	cr_expect(strstr(out, "key_encryption_key"), "%s", out);
	/* a key file others may read stops the start */
	snprintf(cmd, sizeof(cmd), "chmod 644 %s/kek", env.dir);
	cr_assert_eq(tn_run(NULL, NULL, 0, "%s", cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s -c %s --check", ae_bin("xcrs-authsrv"),
		 env.conf[0]);
	cr_expect_neq(tn_run(NULL, out, sizeof(out), "%s", cmd), 0, "%s", out);
	cr_expect(strstr(out, "chmod 600"), "%s", out);
}

/* A revoked application server (as_crl) gets no key; the others do. */
Test(authsrv, a_revoked_application_server_gets_no_key)
{
	char out[4096];
	struct ac_conn t, shop, crs;
	struct ac_usim u;
	struct ac_session s;
	struct ac_as_key k;

	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "sh -c 'cd %s && touch index.txt && echo 01 > "
			    "crlnumber && printf \"[ca]\\ndefault_ca=d\\n[d]\\n"
			    "database=index.txt\\ncrlnumber=crlnumber\\n"
			    "default_md=sha256\\ndefault_crl_days=1\\n"
			    "certificate=ca.crt\\nprivate_key=ca.key\\n\" > "
			    "ca.cnf && openssl ca -config ca.cnf -revoke "
			    "shop.crt && openssl ca -config ca.cnf -gencrl "
			    "-out as.crl'",
			    env.dir),
		     0, "%s", out);
	kill(env.pid[0], SIGTERM);
	waitpid(env.pid[0], NULL, 0);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "sed -i \"s|^  database: |  as_crl: %s/as.crl\\n  "
			    "database: |\" %s",
			    env.dir, env.conf[0]),
		     0, "%s", out);
	cr_assert_eq(ae_start(&env, 0, NULL), 0);
	conn(&t, 0, NULL);
	usim1(&u, 0);
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	conn(&shop, 0, "shop");
	cr_expect_eq(ac_fetch_key(&shop, s.btid, "shop.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -EACCES, "a revoked AS got a key: %s", shop.err);
	conn(&crs, 0, "crs");
	cr_expect_eq(ac_fetch_key(&crs, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", crs.err);
	ac_close(&t);
	ac_close(&shop);
	ac_close(&crs);
}

/* TS 33.102 6.3.5: a resynchronisation resets SQN_HE only when the next
 * SQN would not be accepted by the USIM. Here the network has issued two
 * more challenges since the one the USIM refuses: SQN_HE + 1 is fresh for
 * the USIM, so SQN_HE stays (a reset would hand out SQNs again that went
 * out in those challenges). */
Test(authsrv, resynchronisation_keeps_an_sqn_that_is_in_range)
{
	char out[4096], auth[1024], nonce[128], a64[64];
	long long sqn0 = sqn_of("user1@home.example");
	uint8_t nb[33], k[16], opc[16], res[8], ck[16], ik[16], auts[14];
	uint64_t sqn_ms;
	const char *p;

	cr_assert_eq(raw_post("/v1/bootstrap",
			      "Digest username=\"user1@home.example\"", out,
			      sizeof(out)),
		     401);
	p = strstr(out, "nonce=\"");
	cr_assert(p && sscanf(p + 7, "%127[^\"]", nonce) == 1, "%.300s", out);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(raw_post("/v1/bootstrap",
				      "Digest username=\"user1@home.example\"",
				      out, sizeof(out)),
			     401);
	cr_assert_eq(sqn_of("user1@home.example"), sqn0 + 3);
	/* the USIM has seen the first challenge's SQN already: sync failure */
	hex_decode(K1, 32, k, 16);
	hex_decode(OPC1, 32, opc, 16);
	cr_assert_eq(b64_decode(nonce, strlen(nonce), nb, sizeof(nb), 0), 32);
	sqn_ms = (uint64_t)sqn0 + 1;
	cr_assert_eq(mil_check_autn(k, opc, nb, nb + 16, &sqn_ms, res, ck, ik,
				    auts),
		     MIL_SYNC_FAIL);
	b64_encode(auts, sizeof(auts), a64, 0);
	snprintf(auth, sizeof(auth),
		 "Digest username=\"user1@home.example\", realm=\"home.example\", "
		 "nonce=\"%s\", uri=\"/v1/bootstrap\", auts=\"%s\"", nonce, a64);
	cr_assert_eq(raw_post("/v1/bootstrap", auth, out, sizeof(out)), 401,
		     "%.300s", out);
	cr_expect_eq(sqn_of("user1@home.example"), sqn0 + 4,
		     "SQN_HE was reset (SQNs handed out again)");
}

/* ---- TS 24.109's own form: GET /, qop=auth-int, BootstrappingInfo ---- */

/* The terminal of test/loopback/ts24109-ue.py, written from TS 24.109,
 * RFC 3310/2617, TS 35.206 and TS 33.220 without this project's code:
 * its JSON line in out, its exit status returned. */
static int ue_3gpp(char *out, size_t len, uint64_t sqn_ms, const char *more)
{
	char ua[GBA_UA_ID * 2 + 1];

	hex_encode(GBA_UA_XCRS_REPORT, GBA_UA_ID, ua);
	return tn_run(NULL, out, len,
		      "python3 %s/test/loopback/ts24109-ue.py --bsf %s --ca %s "
		      "--impi user1@home.example --k %s --opc %s --sqn-ms %llu "
		      "--naf crs.home.example --ua %s %s",
		      XCRS_SRCDIR, env.addr[0], env.ca, K1, OPC1,
		      (unsigned long long)sqn_ms, ua, more ? more : "");
}

static void json_str(const char *js, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(js, pat);
	cr_assert_not_null(p, "no %s in %s", key, js);
	p += strlen(pat);
	e = strchr(p, '"');
	cr_assert_not_null(e);
	snprintf(out, len, "%.*s", (int)(e - p), p);
}

Test(authsrv, a_ts24109_terminal_bootstraps_with_get_and_auth_int)
{
	char out[4096], btid[GBA_BTID_MAX], ksn[2 * GBA_KEY + 1],
		mine[2 * GBA_KEY + 1];
	struct ac_conn as;
	struct ac_as_key k;
	int rc = ue_3gpp(out, sizeof(out), 0, NULL);

	cr_assert_eq(rc, 0, "the TS 24.109 terminal failed: %s", out);
	json_str(out, "btid", btid, sizeof(btid));
	json_str(out, "ks_naf", ksn, sizeof(ksn));
	cr_expect(strstr(btid, "@home.example"), "%s", btid);
	cr_expect(strstr(out, "\"sqn\": 1"), "the first SQN: %s", out);
	cr_expect(strstr(out, "GMT"), "no Expires header: %s", out);
	/* the session it made is the one the application server gets */
	conn(&as, 0, "crs");
	cr_assert_eq(ac_fetch_key(&as, btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", as.err);
	hex_encode(k.ks_as, GBA_KEY, mine);
	cr_expect_str_eq(mine, ksn, "the terminal's Ks_NAF and the AS's differ");
	cr_expect_str_eq(k.method, "aka");
	ac_close(&as);
	/* a body in the GET is covered by auth-int too */
	rc = ue_3gpp(out, sizeof(out), 1, "--body 'x=1'");
	cr_expect_eq(rc, 0, "with a body: %s", out);
	/* a body other than the one the response covers: refused */
	rc = ue_3gpp(out, sizeof(out), 2, "--body 'x=1' --sent-body 'x=2'");
	cr_expect_eq(rc, 1, "%s", out);
	cr_expect(strstr(out, "GET with RES: 403"), "%s", out);
	/* the terminal's USIM refuses a replayed SQN: the BSF's next one
	 * is fresh */
	rc = ue_3gpp(out, sizeof(out), 3, NULL);
	cr_expect_eq(rc, 0, "%s", out);
	cr_expect(strstr(out, "\"sqn\": 4"), "%s", out);
	cr_expect(strstr(out, "\"resyncs\": 0"), "%s", out);
	/* A.4: a USIM ahead of the BSF (SQN_MS 1000) sends AUTS; the BSF
	 * resynchronises and its next challenge is fresh */
	rc = ue_3gpp(out, sizeof(out), 1000, NULL);
	cr_expect_eq(rc, 0, "%s", out);
	cr_expect(strstr(out, "\"resyncs\": 1"), "%s", out);
	cr_expect(strstr(out, "\"sqn\": 1001"), "%s", out);
}

/* Raw requests of the 3GPP form: the wrong method, and the challenge's
 * qop (auth-int there, auth on the JSON API). */
Test(authsrv, the_ts24109_form_refuses_what_its_clauses_do_not_allow)
{
	char out[4096];

	/* POST / is not the Ub bootstrap */
	cr_expect_eq(tn_run(NULL, out, sizeof(out),
			    "curl -s -o /dev/null -w '%%{http_code}' --cacert %s "
			    "-X POST -H 'Authorization: Digest "
			    "username=\"user1@home.example\", realm=\"home.example\", "
			    "nonce=\"\", uri=\"/\", response=\"\"' https://%s/",
			    env.ca, env.addr[0]),
		     0, "%s", out);
	cr_expect_str_eq(out, "405", "POST /: %s", out);
	/* the challenge of GET / asks for auth-int */
	cr_expect_eq(tn_run(NULL, out, sizeof(out),
			    "curl -s -D - -o /dev/null --cacert %s -H "
			    "'Authorization: Digest username=\"user1@home.example\", "
			    "realm=\"home.example\", nonce=\"\", uri=\"/\", "
			    "response=\"\"' https://%s/",
			    env.ca, env.addr[0]),
		     0, "%s", out);
	cr_expect(strstr(out, " 401 "), "%s", out);
	cr_expect(strstr(out, "qop=\"auth-int\""), "%s", out);
	cr_expect(strstr(out, "algorithm=AKAv1-MD5"), "%s", out);
	/* the JSON API's challenge stays qop=auth */
	cr_expect_eq(tn_run(NULL, out, sizeof(out),
			    "curl -s -D - -o /dev/null --cacert %s -X POST -H "
			    "'Authorization: Digest username=\"user1@home.example\"' "
			    "https://%s/v1/bootstrap",
			    env.ca, env.addr[0]),
		     0, "%s", out);
	cr_expect(strstr(out, "qop=\"auth\""), "%s", out);
}

/* ---- re-authentication (xcrs's X.1124 8.3) ---- */

/* From a live session, a new one (B-TID, Ks) without a new AKA vector:
 * the SQN does not move, the AS gets the key the terminal derives from
 * the new Ks, the old B-TID is gone, a wrong Ks is refused and changes
 * nothing, the chain has its length limit, and a disabled subscriber's
 * sessions cannot be renewed. */
Test(authsrv, reauthentication_renews_a_session_without_a_vector)
{
	char out[1024];
	struct ac_conn t, as;
	struct ac_usim u;
	struct ac_session s0, s, bad;
	struct ac_as_key k;
	uint8_t mine[GBA_KEY];
	long long sqn;
	int n;

	conn(&t, 0, NULL);
	usim1(&u, 0);
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s0), 0, "%s", t.err);
	sqn = sqn_of("user1@home.example");
	s = s0;
	cr_assert_eq(ac_reauth(&t, &s), 0, "%s", t.err);
	cr_expect_str_neq(s.btid, s0.btid);
	cr_expect_neq(memcmp(s.ks, s0.ks, GBA_KS), 0, "the same Ks");
	cr_expect_eq(s.counter, 1);
	cr_expect_str_eq(s.method, "aka");
	cr_expect_eq(sqn_of("user1@home.example"), sqn,
		     "re-authentication used an AKA vector");
	conn(&as, 0, "crs");
	cr_assert_eq(ac_fetch_key(&as, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "%s", as.err);
	cr_assert_eq(ac_ks_as(&s, "crs.home.example", GBA_UA_XCRS_REPORT, mine),
		     0);
	cr_expect_eq(memcmp(mine, k.ks_as, GBA_KEY), 0,
		     "terminal and AS hold different keys after reauth");
	cr_expect_eq(ac_fetch_key(&as, s0.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     -ENOENT, "the old session is still there");
	/* the old session cannot be renewed again */
	bad = s0;
	cr_expect_eq(ac_reauth(&t, &bad), -ENOENT, "%s", t.err);
	/* a terminal without the session's Ks is refused; the session
	 * stays as it was */
	bad = s;
	bad.ks[0] ^= 1;
	cr_expect_eq(ac_reauth(&t, &bad), -EACCES, "%s", t.err);
	cr_expect(strstr(t.err, "wrong mac"), "%s", t.err);
	cr_expect_str_eq(bad.btid, s.btid, "a refused reauth changed the file");
	cr_assert_eq(ac_fetch_key(&as, s.btid, "crs.home.example",
				  GBA_UA_XCRS_REPORT, &k),
		     0, "a refused reauth ended the session: %s", as.err);
	/* the chain: 8 links (reauth_max_chain's default), then a bootstrap */
	for (n = 1; n < 8; n++)
		cr_assert_eq(ac_reauth(&t, &s), 0, "link %d: %s", n + 1, t.err);
	cr_expect_eq(s.counter, 8);
	cr_expect_eq(ac_reauth(&t, &s), -EACCES, "a 9th link");
	cr_expect(strstr(t.err, "bootstrap again"), "%s", t.err);
	/* disabled: its sessions go, and none is renewed */
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	cr_assert_eq(ae_admin(&env, out, sizeof(out), NULL,
			      "disable user1@home.example"),
		     0, "%s", out);
	cr_expect_eq(ac_reauth(&t, &s), -ENOENT, "%s", t.err);
	ac_close(&t);
	ac_close(&as);
}

/* reauth_lifetime bounds a chain from its last full bootstrap: a renewed
 * session ends by then, and past it a bootstrap is needed. The tool saves
 * the renewed session with its counter. */
Test(authsrv, reauthentication_ends_with_reauth_lifetime)
{
	char out[2048], sess[300], usim[300];
	struct ac_conn t;
	struct ac_usim u;
	struct ac_session s;
	int64_t t0 = (int64_t)time(NULL);

	kill(env.pid[0], SIGTERM);
	waitpid(env.pid[0], NULL, 0);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "sed -i \"s|^  database: |  reauth_lifetime: 3s\\n"
			    "  database: |\" %s",
			    env.conf[0]),
		     0, "%s", out);
	cr_assert_eq(ae_start(&env, 0, NULL), 0);
	/* the command-line tool, as a terminal uses it */
	snprintf(sess, sizeof(sess), "%s", ae_path(&env, "s.json"));
	snprintf(usim, sizeof(usim), "%s", ae_path(&env, "usim.json"));
	usim1(&u, 0);
	cr_assert_eq(ac_usim_save(usim, &u, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "%s bootstrap --server %s --ca %s --usim %s "
			    "--session %s",
			    ae_bin("xcrs-auth-client"), env.addr[0], env.ca,
			    usim, sess),
		     0, "%s", out);
	cr_assert_eq(tn_run(NULL, out, sizeof(out),
			    "%s reauth --server %s --ca %s --session %s",
			    ae_bin("xcrs-auth-client"), env.addr[0], env.ca,
			    sess),
		     0, "%s", out);
	cr_expect(strstr(out, "counter=1"), "%s", out);
	cr_assert_eq(ac_session_load(sess, &s, out, sizeof(out)), 0, "%s", out);
	cr_expect_eq(s.counter, 1);
	cr_expect_leq(s.expires, t0 + 4, "the renewed session outlives "
		      "reauth_lifetime: %lld", (long long)(s.expires - t0));
	sleep(4);
	conn(&t, 0, NULL);
	cr_assert_eq(ac_bootstrap_aka(&t, &u, &s), 0, "%s", t.err);
	sleep(4);
	cr_expect_neq(ac_reauth(&t, &s), 0, "renewed past reauth_lifetime");
	ac_close(&t);
}
