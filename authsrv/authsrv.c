// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-authsrv: the X.1124 security server (SS). One libevent loop serving
 * HTTP/1.1 over TLS 1.3 (evhttp + bufferevent_openssl); the store is
 * SQLite; every primitive is OpenSSL's. API and flows: authsrv/README.md.
 */
#include <arpa/inet.h>
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
#include "log.h"
#include "milenage.h"
#include "scram.h"
#include "signing.h"
#include "store.h"
#include "tlsutil.h"

#define BODY_MAX 8192
#define CLOCK_SKEW_S 300	/* assertion requests: allowed clock difference */

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
	struct event *sig_term, *sig_int, *sig_hup, *tick;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- replies ---- */

static void reply_json(struct evhttp_request *req, int code, const char *why,
		       json_object *o)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add_printf(b, "%s\n",
			    json_object_to_json_string_ext(o,
							   JSON_C_TO_STRING_PLAIN));
	evhttp_send_reply(req, code, why, b);
	evbuffer_free(b);
	json_object_put(o);
}

__attribute__((format(printf, 4, 5))) static void
reply_err(struct evhttp_request *req, int code, const char *why,
	  const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("%s %s: %d %s", evhttp_request_get_command(req) ==
					 EVHTTP_REQ_GET ? "GET" : "POST",
		 evhttp_request_get_uri(req), code, msg);
	json_object_object_add(o, "error", json_object_new_string(msg));
	reply_json(req, code, why, o);
}

/* The request's body as a JSON object, or NULL (a reply has been sent). */
static json_object *body_json(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct json_tokener *tok;
	json_object *o = NULL;
	char *buf;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_err(req, 405, "Method Not Allowed", "use POST");
		return NULL;
	}
	if (len == 0 || len > BODY_MAX) {
		reply_err(req, 400, "Bad Request",
			  "expected a JSON object of at most %d bytes",
			  BODY_MAX);
		return NULL;
	}
	buf = malloc(len);
	if (!buf) {
		reply_err(req, 500, "Internal Server Error", "out of memory");
		return NULL;
	}
	evbuffer_copyout(in, buf, len);
	tok = json_tokener_new_ex(8);
	if (tok) {
		o = json_tokener_parse_ex(tok, buf, (int)len);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(o);
			o = NULL;
		}
		json_tokener_free(tok);
	}
	free(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		reply_err(req, 400, "Bad Request", "the body is not a JSON object");
		return NULL;
	}
	return o;
}

/* A string member of at most max characters, or NULL. */
static const char *member(json_object *o, const char *key, size_t max)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return strlen(s) <= max ? s : NULL;
}

static SSL *req_ssl(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;

	return bev ? bufferevent_openssl_get_ssl(bev) : NULL;
}

static const char *peer_host(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	const char *host = "?";
	ev_uint16_t port;

	if (c)
		evhttp_connection_get_peer(c, (char **)&host, &port);
	return host;
}

/* ---- sessions ---- */

static int new_session(struct srv *s, const char *id, const uint8_t rand[16],
		       const uint8_t ks[GBA_KS], const char *method,
		       struct sess_rec *out)
{
	struct sess_rec r = { 0 };
	int rc;

	rc = gba_btid(rand, s->cfg->domain, r.btid, sizeof(r.btid));
	if (rc)
		return rc;
	snprintf(r.id, sizeof(r.id), "%s", id);
	memcpy(r.ks, ks, GBA_KS);
	memcpy(r.rand, rand, 16);
	snprintf(r.method, sizeof(r.method), "%s", method);
	r.created = now_s();
	r.expires = r.created +
		    (int64_t)(s->cfg->session_lifetime_ns / 1000000000ull);
	rc = store_sess_put(s->st, &r);
	if (!rc && out)
		*out = r;
	OPENSSL_cleanse(r.ks, sizeof(r.ks));
	return rc;
}

static void reply_session(struct evhttp_request *req, const struct sess_rec *r,
			  json_object *extra)
{
	json_object *o = extra ? extra : json_object_new_object();

	json_object_object_add(o, "btid", json_object_new_string(r->btid));
	json_object_object_add(o, "lifetime",
			       json_object_new_int64(r->expires - r->created));
	json_object_object_add(o, "expires", json_object_new_int64(r->expires));
	json_object_object_add(o, "method", json_object_new_string(r->method));
	log_info("bootstrap %s from %s: session %s (%s) until %lld", r->id,
		 peer_host(req), r->btid, r->method, (long long)r->expires);
	reply_json(req, 200, "OK", o);
}

/* ---- 1. bootstrap with AKA: HTTP Digest AKAv1-MD5 (RFC 3310) ---- */

static void challenge(struct srv *s, struct evhttp_request *req,
		      const char *id)
{
	struct sub_rec sub;
	struct mil_vector v;
	struct chal_rec c = { 0 };
	uint8_t rand[16], nb[32];
	char hdr[1024];
	int rc;

	rc = store_sqn_next(s->st, id, &sub);
	if (rc == -ENOENT || rc == -EPERM || (!rc && !(sub.methods & METHOD_AKA))) {
		reply_err(req, 403, "Forbidden",
			  "%s: no such subscriber, disabled, or AKA not allowed",
			  id);
		goto out;
	}
	if (rc) {
		reply_err(req, 500, "Internal Server Error", "store: %s",
			  store_errmsg(s->st));
		goto out;
	}
	if (getrandom(rand, 16, 0) != 16 ||
	    mil_vector(sub.k, sub.opc, sub.sqn, sub.amf, rand, &v)) {
		reply_err(req, 500, "Internal Server Error", "no vector");
		goto out;
	}
	memcpy(nb, v.rand, 16);
	memcpy(nb + 16, v.autn, 16);
	b64_encode(nb, 32, c.nonce, 0);
	snprintf(c.id, sizeof(c.id), "%s", id);
	strcpy(c.kind, "aka");
	memcpy(c.rand, v.rand, 16);
	memcpy(c.xres, v.xres, 8);
	memcpy(c.ck, v.ck, 16);
	memcpy(c.ik, v.ik, 16);
	c.expires = now_s() +
		    (int64_t)(s->cfg->challenge_lifetime_ns / 1000000000ull);
	if (store_chal_put(s->st, &c)) {
		reply_err(req, 500, "Internal Server Error", "store: %s",
			  store_errmsg(s->st));
		goto out;
	}
	snprintf(hdr, sizeof(hdr),
		 "Digest realm=\"%s\", nonce=\"%s\", algorithm=AKAv1-MD5, "
		 "qop=\"auth\"",
		 s->cfg->domain, c.nonce);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "WWW-Authenticate", hdr);
	log_debug("bootstrap %s: challenge with SQN %llu", id,
		  (unsigned long long)sub.sqn);
	reply_json(req, 401, "Unauthorized", json_object_new_object());
out:
	OPENSSL_cleanse(&sub, sizeof(sub));
	OPENSSL_cleanse(&v, sizeof(v));
	OPENSSL_cleanse(&c, sizeof(c));
}

static void on_bootstrap(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	const char *auth = evhttp_find_header(
		evhttp_request_get_input_headers(req), "Authorization");
	char user[GBA_ID_MAX + 1], nonce[256], resp[64], uri[64], qop[16],
		nc[16], cnonce[128], realm[GBA_ID_MAX + 1], auts64[64], want[33];
	struct digest_resp d;
	struct chal_rec c;
	struct sess_rec sess;
	uint8_t ks[GBA_KS];
	int rc;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_err(req, 405, "Method Not Allowed", "use POST");
		return;
	}
	if (!auth || digest_param(auth, "username", user, sizeof(user)) ||
	    !gba_id_valid(user)) {
		reply_err(req, 400, "Bad Request",
			  "expected Authorization: Digest username=\"IDENTITY\"");
		return;
	}
	if (digest_param(auth, "nonce", nonce, sizeof(nonce)) || !nonce[0]) {
		challenge(s, req, user); /* the first request */
		return;
	}
	rc = store_chal_take(s->st, nonce, now_s(), &c);
	if (rc || strcmp(c.kind, "aka") || strcmp(c.id, user)) {
		reply_err(req, 403, "Forbidden",
			  "%s: unknown, used or expired nonce", user);
		return;
	}
	/* Resynchronisation: the terminal sent AUTS instead of RES. */
	if (digest_param(auth, "auts", auts64, sizeof(auts64)) == 0) {
		struct sub_rec sub;
		uint8_t auts[MIL_AUTS];
		uint64_t sqn_ms;

		if (b64_decode(auts64, strlen(auts64), auts, sizeof(auts), 0) !=
			    MIL_AUTS ||
		    store_sub_get(s->st, user, &sub) ||
		    mil_auts_sqn(sub.k, sub.opc, c.rand, auts, &sqn_ms)) {
			OPENSSL_cleanse(&sub, sizeof(sub));
			reply_err(req, 403, "Forbidden",
				  "%s: resynchronisation refused (bad AUTS)",
				  user);
			return;
		}
		OPENSSL_cleanse(&sub, sizeof(sub));
		if (store_sqn_set(s->st, user, sqn_ms)) {
			reply_err(req, 500, "Internal Server Error", "store: %s",
				  store_errmsg(s->st));
			return;
		}
		log_info("bootstrap %s: SQN resynchronised to %llu", user,
			 (unsigned long long)sqn_ms);
		challenge(s, req, user);
		return;
	}
	if (digest_param(auth, "response", resp, sizeof(resp)) ||
	    digest_param(auth, "uri", uri, sizeof(uri)) ||
	    digest_param(auth, "qop", qop, sizeof(qop)) ||
	    digest_param(auth, "nc", nc, sizeof(nc)) ||
	    digest_param(auth, "cnonce", cnonce, sizeof(cnonce)) ||
	    digest_param(auth, "realm", realm, sizeof(realm)) ||
	    strcmp(qop, "auth") || strcmp(uri, "/v1/bootstrap") ||
	    strcmp(realm, s->cfg->domain)) {
		reply_err(req, 400, "Bad Request",
			  "Digest response needs realm, uri=/v1/bootstrap, "
			  "qop=auth, nc, cnonce, response");
		return;
	}
	d = (struct digest_resp){ .username = user, .realm = realm,
				  .nonce = nonce, .uri = uri, .qop = qop,
				  .nc = nc, .cnonce = cnonce, .method = "POST" };
	if (digest_response(&d, c.xres, MIL_RES, false, want) ||
	    strlen(resp) != 32 || CRYPTO_memcmp(want, resp, 32) != 0) {
		OPENSSL_cleanse(&c, sizeof(c));
		reply_err(req, 403, "Forbidden",
			  "%s: authentication failed (wrong RES)", user);
		return;
	}
	memcpy(ks, c.ck, 16);
	memcpy(ks + 16, c.ik, 16);
	rc = new_session(s, user, c.rand, ks, "aka", &sess);
	OPENSSL_cleanse(ks, sizeof(ks));
	if (rc) {
		OPENSSL_cleanse(&c, sizeof(c));
		reply_err(req, 500, "Internal Server Error", "store: %s",
			  store_errmsg(s->st));
		return;
	}
	/* Authentication-Info lets the terminal check the server knew XRES. */
	if (!digest_response(&d, c.xres, MIL_RES, true, want)) {
		char hdr[400];

		snprintf(hdr, sizeof(hdr),
			 "qop=auth, rspauth=\"%s\", cnonce=\"%s\", nc=%s", want,
			 cnonce, nc);
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Authentication-Info", hdr);
	}
	OPENSSL_cleanse(&c, sizeof(c));
	reply_session(req, &sess, NULL);
}

/* ---- the password method: SCRAM-SHA-256 in two requests ---- */

static void on_password(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	json_object *in = body_json(req), *o;
	const char *msg;
	char user[GBA_ID_MAX + 1], cn[SCRAM_MSG_MAX], r[SCRAM_MSG_MAX],
		out[SCRAM_MSG_MAX];
	struct chal_rec c = { 0 };
	struct sub_rec sub = { 0 };
	struct scram_verifier v;

	if (!in)
		return;
	msg = member(in, "message", SCRAM_MSG_MAX - 1);
	if (!msg) {
		reply_err(req, 400, "Bad Request", "expected {\"message\": SCRAM}");
		goto out;
	}
	if (!strncmp(msg, "n,,", 3)) {
		/* client-first: answer with our nonce, the salt, iterations. */
		uint8_t sn[18];
		char sn64[32];

		if (scram_parse_client_first(msg, user, sizeof(user), cn,
					     sizeof(cn))) {
			reply_err(req, 400, "Bad Request",
				  "malformed SCRAM client-first message");
			goto out;
		}
		if (store_sub_get(s->st, user, &sub) || sub.disabled ||
		    !(sub.methods & METHOD_PASSWORD) || !sub.has_password) {
			/* Answer as if the user existed (a salt derived from
			 * the name), so the reply does not tell who exists. */
			memset(&v, 0, sizeof(v));
			gba_hmac(s->decoy_key, 32, user, strlen(user), v.salt);
			v.salt_len = 16;
			v.iter = SCRAM_ITER_MIN;
			strcpy(c.kind, "scram-decoy");
		} else {
			v = sub.pw;
			strcpy(c.kind, "scram");
		}
		if (getrandom(sn, sizeof(sn), 0) != sizeof(sn)) {
			reply_err(req, 500, "Internal Server Error", "random");
			goto out;
		}
		b64_encode(sn, sizeof(sn), sn64, 1);
		if (scram_server_first(cn, sn64, &v, out, sizeof(out))) {
			reply_err(req, 400, "Bad Request", "nonce too long");
			goto out;
		}
		snprintf(c.nonce, sizeof(c.nonce), "%s%s", cn, sn64);
		snprintf(c.id, sizeof(c.id), "%s", user);
		snprintf(c.client_first, sizeof(c.client_first), "%s", msg);
		snprintf(c.server_first, sizeof(c.server_first), "%s", out);
		c.expires = now_s() + (int64_t)(s->cfg->challenge_lifetime_ns /
						 1000000000ull);
		if (store_chal_put(s->st, &c)) {
			reply_err(req, 500, "Internal Server Error", "store: %s",
				  store_errmsg(s->st));
			goto out;
		}
		o = json_object_new_object();
		json_object_object_add(o, "message", json_object_new_string(out));
		reply_json(req, 200, "OK", o);
	} else if (!strncmp(msg, "c=", 2)) {
		/* client-final: verify the proof, make the session. */
		const char *rp = strstr(msg, ",r=");
		const char *re = rp ? strchr(rp + 3, ',') : NULL;
		uint8_t ck[32], ks[32], rand[16];
		struct sess_rec sess;
		int rc;

		if (!rp || !re || (size_t)(re - rp - 3) >= sizeof(r)) {
			reply_err(req, 400, "Bad Request",
				  "malformed SCRAM client-final message");
			goto out;
		}
		snprintf(r, sizeof(r), "%.*s", (int)(re - rp - 3), rp + 3);
		if (store_chal_take(s->st, r, now_s(), &c) ||
		    strncmp(c.kind, "scram", 5)) {
			reply_err(req, 403, "Forbidden",
				  "unknown, used or expired SCRAM exchange");
			goto out;
		}
		if (strcmp(c.kind, "scram") ||
		    store_sub_get(s->st, c.id, &sub) || sub.disabled ||
		    !sub.has_password ||
		    scram_server_final(&sub.pw, c.client_first, c.server_first,
				       msg, out, sizeof(out), ck)) {
			reply_err(req, 403, "Forbidden",
				  "%s: authentication failed", c.id);
			goto out;
		}
		rc = scram_session_key(ck, c.client_first, c.server_first, msg,
				       ks);
		OPENSSL_cleanse(ck, sizeof(ck));
		if (rc || getrandom(rand, 16, 0) != 16 ||
		    new_session(s, c.id, rand, ks, "password", &sess)) {
			OPENSSL_cleanse(ks, sizeof(ks));
			reply_err(req, 500, "Internal Server Error",
				  "cannot make the session");
			goto out;
		}
		OPENSSL_cleanse(ks, sizeof(ks));
		o = json_object_new_object();
		json_object_object_add(o, "message", json_object_new_string(out));
		reply_session(req, &sess, o);
	} else {
		reply_err(req, 400, "Bad Request",
			  "expected a SCRAM client-first or client-final message");
	}
out:
	OPENSSL_cleanse(&sub, sizeof(sub));
	json_object_put(in);
}

/* ---- the certificate method: TLS client certificate of the user ---- */

static void on_certificate(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	SSL *ssl = req_ssl(req);
	char cn[GBA_ID_MAX + 1], pub64[64];
	struct sub_rec sub;
	struct sess_rec sess;
	uint8_t rand[16], ks[GBA_KS], peer[32], pub[32];
	EVP_PKEY *eph = NULL;
	json_object *in, *o;
	const char *x;
	int rc;

	if (!s->user_store) {
		reply_err(req, 404, "Not Found",
			  "the certificate method is not configured (user_ca)");
		return;
	}
	if (!ssl || !tls_peer_verified_by(ssl, s->user_store) ||
	    tls_peer_cn(ssl, cn, sizeof(cn)) || !gba_id_valid(cn)) {
		reply_err(req, 403, "Forbidden",
			  "no client certificate from the user CA");
		return;
	}
	in = body_json(req);
	if (!in)
		return;
	x = member(in, "x25519", 64);
	if (!x || b64_decode(x, strlen(x), peer, 32, 1) != 32) {
		reply_err(req, 400, "Bad Request",
			  "expected {\"x25519\": base64url public key}");
		goto out;
	}
	rc = store_sub_get(s->st, cn, &sub);
	OPENSSL_cleanse(&sub.k, sizeof(sub.k));
	if (rc || sub.disabled || !(sub.methods & METHOD_CERT)) {
		reply_err(req, 403, "Forbidden",
			  "%s: no such subscriber, disabled, or certificate "
			  "method not allowed", cn);
		goto out;
	}
	/* The key arrived inside the TLS session the certificate
	 * authenticated: an X25519 exchange in it gives both ends Ks. */
	if (getrandom(rand, 16, 0) != 16 || cert_ks_keypair(&eph, pub) ||
	    cert_ks_derive(eph, peer, rand, cn, ks) ||
	    new_session(s, cn, rand, ks, "certificate", &sess)) {
		OPENSSL_cleanse(ks, sizeof(ks));
		reply_err(req, 500, "Internal Server Error",
			  "cannot make the session");
		goto out;
	}
	OPENSSL_cleanse(ks, sizeof(ks));
	b64_encode(pub, 32, pub64, 1);
	o = json_object_new_object();
	json_object_object_add(o, "x25519", json_object_new_string(pub64));
	reply_session(req, &sess, o);
out:
	EVP_PKEY_free(eph);
	json_object_put(in);
}

/* ---- 3. inquiry with key generation (Zn): an AS fetches Ks_AS ---- */

static void pseudonym(struct srv *s, const char *id, const char *as,
		      char out[AS_STR])
{
	uint8_t h[32];
	char buf[2 * GBA_ID_MAX + 2], hex[65];

	snprintf(buf, sizeof(buf), "%s|%s", id, as);
	gba_hmac(s->pseudo_key, 32, buf, strlen(buf), h);
	hex_encode(h, 10, hex);
	snprintf(out, AS_STR, "anon-%s", hex);
}

/* ---- roaming: the sessions of another realm are its authsrv's ---- */

struct proxy {
	struct srv *s;
	struct evhttp_request *req;	/* the AS's, answered when the peer has */
	struct evhttp_connection *conn;
	char realm[AUTHSRV_ID_MAX + 1];
};

static void proxy_free_conn(evutil_socket_t fd, short what, void *arg)
{
	struct evhttp_connection *c = arg;

	evhttp_connection_free(c);
}

static void on_proxy_reply(struct evhttp_request *preq, void *arg)
{
	struct proxy *p = arg;
	int code = preq ? evhttp_request_get_response_code(preq) : 0;

	if (!code) {
		reply_err(p->req, 502, "Bad Gateway",
			  "the authsrv of realm %s did not answer", p->realm);
	} else {
		struct evbuffer *in = evhttp_request_get_input_buffer(preq);
		struct evbuffer *b = evbuffer_new();

		evbuffer_add_buffer(b, in);
		evhttp_add_header(evhttp_request_get_output_headers(p->req),
				  "Content-Type", "application/json");
		evhttp_add_header(evhttp_request_get_output_headers(p->req),
				  "Cache-Control", "no-store");
		log_info("key request relayed to the authsrv of %s: %d", p->realm,
			 code);
		evhttp_send_reply(p->req, code,
				  code == 200 ? "OK" : "Relayed", b);
		evbuffer_free(b);
	}
	/* The connection cannot be freed inside its own callback. */
	event_base_once(p->s->base, -1, EV_TIMEOUT, proxy_free_conn, p->conn,
			NULL);
	free(p);
}

/* Asks peer i for the key, as a proxy for the AS (GBA Zn-Proxy): over TLS
 * with this server's certificate, which must name this server's domain. */
static void proxy_keys(struct srv *s, struct evhttp_request *req, size_t i,
		       const char *body)
{
	const struct authsrv_peer *pe = &s->cfg->peers[i];
	char host[AUTHSRV_PATH_MAX], *colon;
	struct proxy *p = calloc(1, sizeof(*p));
	struct evhttp_request *preq;
	struct bufferevent *bev;
	struct in6_addr a6;
	SSL *ssl;

	snprintf(host, sizeof(host), "%s", pe->address);
	colon = strrchr(host, ':');
	*colon = '\0';
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	ssl = p ? SSL_new(s->peer_ssl[i]) : NULL;
	if (!ssl) {
		free(p);
		reply_err(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	SSL_set_tlsext_host_name(ssl, host);
	if (inet_pton(AF_INET, host, &a6) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	else
		SSL_set1_host(ssl, host);
	bev = bufferevent_openssl_socket_new(s->base, -1, ssl,
					     BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		free(p);
		reply_err(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	p->s = s;
	p->req = req;
	snprintf(p->realm, sizeof(p->realm), "%s", pe->realm);
	p->conn = evhttp_connection_base_bufferevent_new(
		s->base, NULL, bev, host, (ev_uint16_t)atoi(colon + 1));
	preq = p->conn ? evhttp_request_new(on_proxy_reply, p) : NULL;
	if (!preq) {
		if (p->conn)
			evhttp_connection_free(p->conn);
		free(p);
		reply_err(req, 500, "Internal Server Error", "out of memory");
		return;
	}
	evhttp_connection_set_timeout(p->conn, 10);
	evhttp_add_header(evhttp_request_get_output_headers(preq), "Host",
			  pe->address);
	evhttp_add_header(evhttp_request_get_output_headers(preq),
			  "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(preq), "Connection",
			  "close");
	evbuffer_add(evhttp_request_get_output_buffer(preq), body, strlen(body));
	if (evhttp_make_request(p->conn, preq, EVHTTP_REQ_POST, "/v1/keys")) {
		evhttp_connection_free(p->conn);
		free(p);
		reply_err(req, 502, "Bad Gateway", "cannot reach the authsrv of %s",
			  pe->realm);
	}
}

/* The configured peer whose realm this is, or -1. */
static int peer_of(const struct srv *s, const char *realm)
{
	for (size_t i = 0; i < s->cfg->n_peers; i++)
		if (!strcmp(s->cfg->peers[i].realm, realm))
			return (int)i;
	return -1;
}

/* ---- 3. inquiry with key generation (Zn): an AS fetches Ks_AS ---- */

static void on_keys(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	SSL *ssl = req_ssl(req);
	json_object *in, *o;
	const char *btid, *as_id, *ua_hex, *dom;
	const struct authsrv_as *as;
	const char *via_peer = NULL;
	uint8_t ua[GBA_UA_ID], rand[16], key[GBA_KEY];
	char sub[AS_STR], k64[64];
	struct sess_rec sess;
	bool realm_ok = false;

	if (!ssl || !tls_peer_verified_by(ssl, s->as_store)) {
		reply_err(req, 403, "Forbidden",
			  "an application server certificate is required");
		return;
	}
	in = body_json(req);
	if (!in)
		return;
	btid = member(in, "btid", GBA_BTID_MAX - 1);
	as_id = member(in, "as_id", GBA_ID_MAX);
	ua_hex = member(in, "ua", 2 * GBA_UA_ID);
	if (!btid || !as_id || !ua_hex || !gba_id_valid(as_id) ||
	    hex_decode(ua_hex, strlen(ua_hex), ua, GBA_UA_ID) ||
	    gba_btid_parse(btid, rand, &dom)) {
		reply_err(req, 400, "Bad Request",
			  "expected {\"btid\", \"as_id\", \"ua\": 10 hex digits}");
		goto out;
	}
	/* The SS releases a key only to the AS whose certificate names the
	 * AS_Id of the request (X.1124 8.5), or to a peer SS (its certificate
	 * names its realm) asking for one of its ASs, for users of ours. */
	as = authsrv_config_as(s->cfg, as_id);
	if (as && tls_peer_has_name(ssl, as_id)) {
		for (size_t i = 0; i < as->nrealms; i++)
			realm_ok |= !strcmp(as->realms[i], dom);
		if (!realm_ok) {
			reply_err(req, 403, "Forbidden",
				  "%s does not serve users of realm %s", as_id,
				  dom);
			goto out;
		}
	} else {
		for (size_t i = 0; i < s->cfg->n_peers && !via_peer; i++)
			if (tls_peer_has_name(ssl, s->cfg->peers[i].realm))
				via_peer = s->cfg->peers[i].realm;
		if (!via_peer || strcmp(dom, s->cfg->domain)) {
			reply_err(req, 403, "Forbidden",
				  "%s: not a configured application server, or "
				  "its certificate does not name it", as_id);
			goto out;
		}
	}
	if (strcmp(dom, s->cfg->domain)) {
		int pi = peer_of(s, dom);

		if (pi < 0) {
			reply_err(req, 404, "Not Found",
				  "%s: realm %s is neither ours nor a peer's",
				  btid, dom);
			goto out;
		}
		proxy_keys(s, req, (size_t)pi,
			   json_object_to_json_string_ext(
				   in, JSON_C_TO_STRING_PLAIN));
		goto out;
	}
	if (store_sess_get(s->st, btid, now_s(), &sess)) {
		reply_err(req, 404, "Not Found",
			  "%s: no such session (expired, revoked or unknown)",
			  btid);
		goto out;
	}
	if (gba_ks_as(sess.ks, sess.rand, sess.id, as_id, ua, key)) {
		reply_err(req, 500, "Internal Server Error", "KDF");
		goto out;
	}
	b64_encode(key, GBA_KEY, k64, 0);
	OPENSSL_cleanse(key, sizeof(key));
	if (as && as->release_identity && !via_peer)
		snprintf(sub, sizeof(sub), "%s", sess.id);
	else
		pseudonym(s, sess.id, as_id, sub);
	o = json_object_new_object();
	json_object_object_add(o, "btid", json_object_new_string(btid));
	json_object_object_add(o, "ks_as", json_object_new_string(k64));
	json_object_object_add(o, "subject", json_object_new_string(sub));
	json_object_object_add(o, "method", json_object_new_string(sess.method));
	json_object_object_add(o, "boot_time", json_object_new_int64(sess.created));
	json_object_object_add(o, "expires", json_object_new_int64(sess.expires));
	OPENSSL_cleanse(k64, sizeof(k64));
	OPENSSL_cleanse(&sess, sizeof(sess));
	log_info("key for %s on %s (session %s%s%s)", as_id, sub, btid,
		 via_peer ? ", asked by the authsrv of " : "",
		 via_peer ? via_peer : "");
	reply_json(req, 200, "OK", o);
out:
	json_object_put(in);
}

/* ---- assertions for ASs in open networks ---- */

static void on_assertion(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	json_object *in = body_json(req), *o;
	const char *btid, *aud, *mac_hex;
	struct sess_rec sess;
	struct as_claims c = { 0 };
	const struct authsrv_as *as;
	uint8_t key[GBA_KEY], mac[32], want[32], j[16];
	char msg[GBA_BTID_MAX + GBA_ID_MAX + 64], *tok = NULL;
	int64_t t, now = now_s();
	json_object *tv;

	if (!in)
		return;
	btid = member(in, "btid", GBA_BTID_MAX - 1);
	aud = member(in, "audience", GBA_ID_MAX);
	mac_hex = member(in, "mac", 64);
	if (!btid || !aud || !gba_id_valid(aud) || !mac_hex ||
	    !json_object_object_get_ex(in, "time", &tv) ||
	    !json_object_is_type(tv, json_type_int) ||
	    hex_decode(mac_hex, strlen(mac_hex), mac, 32)) {
		reply_err(req, 400, "Bad Request",
			  "expected {\"btid\", \"audience\", \"time\", \"mac\"}");
		goto out;
	}
	t = json_object_get_int64(tv);
	if (t < now - CLOCK_SKEW_S || t > now + CLOCK_SKEW_S) {
		reply_err(req, 403, "Forbidden", "request time off by more than %ds",
			  CLOCK_SKEW_S);
		goto out;
	}
	if (store_sess_get(s->st, btid, now, &sess)) {
		reply_err(req, 403, "Forbidden",
			  "%s: no such session (expired, revoked or unknown)",
			  btid);
		goto out;
	}
	/* The terminal proves it holds the session: a MAC with the key it
	 * derives for this audience. */
	snprintf(msg, sizeof(msg), "xcrs-assert|%s|%s|%lld", btid, aud,
		 (long long)t);
	if (gba_ks_as(sess.ks, sess.rand, sess.id, aud, GBA_UA_XCRS_ASSERT,
		      key) ||
	    gba_hmac(key, GBA_KEY, msg, strlen(msg), want) ||
	    CRYPTO_memcmp(want, mac, 32) != 0) {
		OPENSSL_cleanse(key, sizeof(key));
		reply_err(req, 403, "Forbidden",
			  "%s: proof of the session failed", btid);
		goto out;
	}
	OPENSSL_cleanse(key, sizeof(key));
	as = authsrv_config_as(s->cfg, aud);
	if (as && as->release_identity)
		snprintf(c.sub, sizeof(c.sub), "%s", sess.id);
	else
		pseudonym(s, sess.id, aud, c.sub);
	snprintf(c.iss, sizeof(c.iss), "%s", s->cfg->domain);
	snprintf(c.aud, sizeof(c.aud), "%s", aud);
	snprintf(c.realm, sizeof(c.realm), "%s", s->cfg->domain);
	snprintf(c.amr, sizeof(c.amr), "%s", sess.method);
	if (getrandom(j, sizeof(j), 0) != sizeof(j)) {
		reply_err(req, 500, "Internal Server Error", "random");
		goto out;
	}
	hex_encode(j, sizeof(j), c.jti);
	c.iat = now;
	c.exp = now + (int64_t)(s->cfg->assertion_lifetime_ns / 1000000000ull);
	if (c.exp > sess.expires)
		c.exp = sess.expires;
	if (!s->keys.sign || as_sign(s->keys.sign, &c, &tok)) {
		reply_err(req, 500, "Internal Server Error", "cannot sign");
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "assertion", json_object_new_string(tok));
	json_object_object_add(o, "expires", json_object_new_int64(c.exp));
	free(tok);
	log_info("assertion for %s to %s (session %s)", c.sub, aud, btid);
	reply_json(req, 200, "OK", o);
out:
	OPENSSL_cleanse(&sess, sizeof(sess));
	json_object_put(in);
}

static void on_jwks(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	char *j = as_keyset_to_jwks(&s->keys.pub);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "application/jwk-set+json");
	evbuffer_add_printf(b, "%s\n", j ? j : "{\"keys\":[]}");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
	free(j);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	reply_err(req, 404, "Not Found", "no such endpoint");
}

/* ---- TLS per connection ---- */

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct srv *s = arg;
	SSL *ssl = SSL_new(s->ssl);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl,
					      BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

/* Client certificates are asked for and checked against both CAs in the
 * handshake; each endpoint then checks the one it needs. */
static int setup_tls(struct srv *s, char *err, size_t errlen)
{
	X509_STORE *both;
	int rc;

	rc = tls_ctx_new(true, s->cfg->certificate, s->cfg->private_key, NULL,
			 &s->ssl, err, errlen);
	if (rc)
		return rc;
	s->as_store = tls_store_load(s->cfg->as_ca, err, errlen);
	if (!s->as_store)
		return -EINVAL;
	if (s->cfg->user_ca[0]) {
		s->user_store = tls_store_load(s->cfg->user_ca, err, errlen);
		if (!s->user_store)
			return -EINVAL;
	}
	both = SSL_CTX_get_cert_store(s->ssl);
	if (X509_STORE_load_file(both, s->cfg->as_ca) != 1 ||
	    (s->cfg->user_ca[0] &&
	     X509_STORE_load_file(both, s->cfg->user_ca) != 1)) {
		snprintf(err, errlen, "client CAs: %s", tls_errstr());
		return -EINVAL;
	}
	SSL_CTX_set_verify(s->ssl, SSL_VERIFY_PEER, NULL);
	/* Towards each peer: its CA, and our certificate as the client's. */
	for (size_t i = 0; i < s->cfg->n_peers; i++) {
		rc = tls_ctx_new(false, s->cfg->certificate,
				 s->cfg->private_key, s->cfg->peers[i].ca,
				 &s->peer_ssl[i], err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- events ---- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct srv *s = arg;

	if (sig == SIGHUP) {
		char err[256];

		if (signing_load(&s->keys, s->st, false, err, sizeof(err)))
			log_error("reload signing keys: %s", err);
		else
			log_info("signing keys reloaded: %zu published, %s signs",
				 s->keys.pub.n, s->keys.kid);
		return;
	}
	log_info("signal %d: stopping", (int)sig);
	event_base_loopexit(s->base, NULL);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	char err[256];

	if (store_sess_purge(s->st, now_s()))
		log_warn("purge: %s", store_errmsg(s->st));
	/* Pick up keys rotated by xcrs-authsrv-admin (or another instance). */
	if (signing_load(&s->keys, s->st, false, err, sizeof(err)))
		log_warn("signing keys: %s", err);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xcrs-authsrv -c FILE [-v|-q] [--check]\n"
		"  -c, --config FILE  the configuration (YAML)\n"
		"  -t, --check        validate the configuration, the certificates\n"
		"                     and the database; print 'FILE: ok'\n"
		"  -v, -vv / -q       more log / only warnings and errors\n"
		"  -h, --help         this text;  -V, --version\n"
		"The X.1124 authentication server of xcrs: bootstrap (AKA, password,\n"
		"certificate), per-application-server keys, assertions. See\n"
		"authsrv/README.md for the API.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct srv s = { 0 };
	struct policy_error perrv;
	const char *file = NULL;
	char err[512], host[256], *colon;
	bool check = false;
	int opt, verbose = 0, quiet = 0, rc = 1;
	unsigned long port;

	log_set_ident("xcrs-authsrv");
	while ((opt = getopt_long(argc, argv, "c:tvqhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xcrs-authsrv %s\n", XCRS_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!file || optind != argc) {
		usage(stderr);
		return 2;
	}
	log_set_level(quiet ? LOG_LVL_WARN
			    : verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	if (authsrv_config_load(file, &s.cfg, &perrv)) {
		log_error("%s", perrv.msg);
		return 1;
	}
	if (setup_tls(&s, err, sizeof(err))) {
		log_error("%s", err);
		goto out;
	}
	if (store_open(s.cfg->database, &s.st, err, sizeof(err))) {
		log_error("database %s", err);
		goto out;
	}
	if (store_secret(s.st, "pseudonym", s.pseudo_key) ||
	    store_secret(s.st, "decoy-salt", s.decoy_key) ||
	    signing_load(&s.keys, s.st, !check, err, sizeof(err))) {
		log_error("database %s: %s", s.cfg->database,
			  err[0] ? err : store_errmsg(s.st));
		goto out;
	}
	if (check) {
		printf("%s: ok\n", file);
		rc = 0;
		goto out;
	}
	snprintf(host, sizeof(host), "%s", s.cfg->listen);
	colon = strrchr(host, ':');
	*colon = '\0';
	port = strtoul(colon + 1, NULL, 10);
	if (host[0] == '[') { /* [::1]:8443 */
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	s.base = event_base_new();
	s.http = s.base ? evhttp_new(s.base) : NULL;
	if (!s.http) {
		log_error("libevent: cannot start");
		goto out;
	}
	evhttp_set_bevcb(s.http, make_bev, &s);
	evhttp_set_max_body_size(s.http, BODY_MAX);
	evhttp_set_max_headers_size(s.http, 16384);
	evhttp_set_timeout(s.http, 30);
	evhttp_set_allowed_methods(s.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_cb(s.http, "/v1/bootstrap", on_bootstrap, &s);
	evhttp_set_cb(s.http, "/v1/bootstrap/password", on_password, &s);
	evhttp_set_cb(s.http, "/v1/bootstrap/certificate", on_certificate, &s);
	evhttp_set_cb(s.http, "/v1/keys", on_keys, &s);
	evhttp_set_cb(s.http, "/v1/assertion", on_assertion, &s);
	evhttp_set_cb(s.http, "/v1/jwks", on_jwks, &s);
	evhttp_set_gencb(s.http, on_other, &s);
	if (!evhttp_bind_socket_with_handle(s.http, host, (ev_uint16_t)port)) {
		log_error("listen %s: %s", s.cfg->listen, strerror(errno));
		goto out;
	}
	s.sig_term = evsignal_new(s.base, SIGTERM, on_signal, &s);
	s.sig_int = evsignal_new(s.base, SIGINT, on_signal, &s);
	s.sig_hup = evsignal_new(s.base, SIGHUP, on_signal, &s);
	s.tick = event_new(s.base, -1, EV_PERSIST, on_tick, &s);
	evsignal_add(s.sig_term, NULL);
	evsignal_add(s.sig_int, NULL);
	evsignal_add(s.sig_hup, NULL);
	event_add(s.tick, &(struct timeval){ .tv_sec = 5 });
	log_info("listening on %s (domain %s, %zu application servers, "
		 "signing key %s)",
		 s.cfg->listen, s.cfg->domain, s.cfg->n_as, s.keys.kid);
	event_base_dispatch(s.base);
	rc = 0;
out:
	if (s.tick)
		event_free(s.tick);
	if (s.sig_term)
		event_free(s.sig_term);
	if (s.sig_int)
		event_free(s.sig_int);
	if (s.sig_hup)
		event_free(s.sig_hup);
	if (s.http)
		evhttp_free(s.http);
	if (s.base)
		event_base_free(s.base);
	signing_free(&s.keys);
	SSL_CTX_free(s.ssl);
	for (size_t i = 0; i < AUTHSRV_PEERS_MAX; i++)
		SSL_CTX_free(s.peer_ssl[i]);
	X509_STORE_free(s.as_store);
	X509_STORE_free(s.user_store);
	store_close(s.st);
	authsrv_config_free(s.cfg);
	OPENSSL_cleanse(s.pseudo_key, sizeof(s.pseudo_key));
	OPENSSL_cleanse(s.decoy_key, sizeof(s.decoy_key));
	return rc;
}
