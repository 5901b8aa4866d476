/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcrs-authsrv's own state and the helpers its files share (authsrv.c: TLS,
 * events, start-up; authsrv-http.c: replies, request bodies, sessions;
 * authsrv-ub.c: the bootstrap methods, Ub; authsrv-as.c: what application
 * servers ask, Zn and assertions). Not an interface.
 */
#ifndef XCRS_AUTHSRV_INTERNAL_H
#define XCRS_AUTHSRV_INTERNAL_H

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "assertion.h"
#include "authsrv_config.h"
#include "bytes.h"
#include "config.h"
#include "gba.h"
#include "reqbody.h"
#include "log.h"
#include "milenage.h"
#include "scram.h"
#include "signing.h"
#include "store.h"
#include "tlsutil.h"

#define BODY_MAX REQBODY_MAX
#define CLOCK_SKEW_S 300	/* assertion requests: allowed clock difference */

/* First AKA requests: per source address a bucket of SRC_BURST refilled
 * at SRC_RATE a second; per identity at most CHAL_PENDING_MAX challenges
 * unanswered (so an attacker who knows an IMPI moves its SQN by that
 * many per challenge lifetime, not by one a request). */
#define SRC_BUCKETS 1024
#define SRC_RATE 100.0
#define SRC_BURST 200.0
#define CHAL_PENDING_MAX 8

struct srv {
	struct authsrv_config *cfg;
	struct store *st;
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ssl;
	SSL_CTX *peer_ssl[AUTHSRV_PEERS_MAX]; /* client side, per peer */
	X509_STORE *as_store, *user_store;
	struct signing keys;
	uint8_t pseudo_key[32];	/* pseudonyms of users towards ASs */
	uint8_t decoy_key[32];	/* SCRAM salts of unknown users */
	uint32_t decoy_iter;	/* and their iterations: the usual count */
	/* first requests (each a vector and an SQN step) per source */
	struct src_bucket {
		char addr[48];
		double tokens;
		int64_t last_ms;
	} src[SRC_BUCKETS];
	struct event *sig_term, *sig_int, *sig_hup, *tick;
	/* requests waiting for the database lock, in order */
	struct parked *parked, *parked_tail;
	struct event *retry;
};

int64_t now_s(void);
void reply_json(struct evhttp_request *req, int code, const char *why,
		json_object *o);
void reply_err(struct evhttp_request *req, int code, const char *why,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
json_object *body_json(struct evhttp_request *req);
/* 503 with Retry-After: the database is locked by another process (the
 * event loop does not wait for it). */
void reply_busy(struct evhttp_request *req);
const char *member(json_object *o, const char *key, size_t max);
SSL *req_ssl(struct evhttp_request *req);
const char *peer_host(struct evhttp_request *req);
int new_session(struct srv *s, const char *id, const uint8_t rand[16],
		const uint8_t ks[GBA_KS], const char *method,
		struct sess_rec *out);
void reply_session(struct evhttp_request *req, const struct sess_rec *r,
		   json_object *extra);
void on_bootstrap(struct evhttp_request *req, void *arg);
/* TS 24.109's form of it: GET / with qop=auth-int, the XML
 * BootstrappingInfo in the 200. */
void on_bootstrap_3gpp(struct evhttp_request *req, void *arg);
/* POST /v1/reauth: a new session from a live one, without a new AKA
 * vector (xcrs's design of X.1124 8.3; authsrv/README.md). */
void on_reauth(struct evhttp_request *req, void *arg);
void on_password(struct evhttp_request *req, void *arg);
void on_certificate(struct evhttp_request *req, void *arg);
void on_keys(struct evhttp_request *req, void *arg);
void on_assertion(struct evhttp_request *req, void *arg);
void on_jwks(struct evhttp_request *req, void *arg);
void on_other(struct evhttp_request *req, void *arg);

#endif
