// SPDX-License-Identifier: GPL-2.0-only
/* Client side of xcrs-authsrv (see authclient.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "authclient.h"
#include "bytes.h"
#include "scram.h"
#include "tlsutil.h"

#define REPLY_MAX 65536

__attribute__((format(printf, 3, 4))) static int
cerr(struct ac_conn *c, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return rc;
}

int ac_open(struct ac_conn *c, const char *server, const char *ca,
	    const char *cert, const char *key, const char *name)
{
	const char *colon = strrchr(server, ':');
	unsigned long port;
	char *end;

	memset(c, 0, sizeof(*c));
	c->timeout_s = 10;
	if (!colon || colon == server ||
	    (size_t)(colon - server) >= sizeof(c->host))
		return cerr(c, -EINVAL, "%s: expected HOST:PORT", server);
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535)
		return cerr(c, -EINVAL, "%s: bad port", server);
	snprintf(c->host, sizeof(c->host), "%.*s", (int)(colon - server),
		 server);
	if (c->host[0] == '[') { /* [::1] */
		memmove(c->host, c->host + 1, strlen(c->host));
		c->host[strlen(c->host) - 1] = '\0';
	}
	c->port = (uint16_t)port;
	snprintf(c->name, sizeof(c->name), "%s", name ? name : c->host);
	if (tls_ctx_new(false, cert, key, ca, (SSL_CTX **)&c->ctx, c->err,
			sizeof(c->err)))
		return -EINVAL;
	return 0;
}

void ac_close(struct ac_conn *c)
{
	SSL_CTX_free((SSL_CTX *)c->ctx);
	c->ctx = NULL;
}

/* ---- one HTTP exchange ---- */

struct reply {
	int code;
	char *body;
	char www_auth[1024];
	char auth_info[512];
	char tls_err[256];
	struct event_base *base;
};

static void copy_hdr(struct evhttp_request *req, const char *name, char *out,
		     size_t len)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req),
					   name);

	snprintf(out, len, "%s", v ? v : "");
}

static void on_reply(struct evhttp_request *req, void *arg)
{
	struct reply *r = arg;
	struct evhttp_connection *conn;
	struct bufferevent *bev;
	unsigned long e;

	if (req && evhttp_request_get_response_code(req)) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);

		r->code = evhttp_request_get_response_code(req);
		if (n > REPLY_MAX)
			n = REPLY_MAX;
		r->body = malloc(n + 1);
		if (r->body) {
			evbuffer_copyout(in, r->body, n);
			r->body[n] = '\0';
		}
		copy_hdr(req, "WWW-Authenticate", r->www_auth,
			 sizeof(r->www_auth));
		copy_hdr(req, "Authentication-Info", r->auth_info,
			 sizeof(r->auth_info));
	} else if (req) {
		conn = evhttp_request_get_connection(req);
		bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
		e = bev ? bufferevent_get_openssl_error(bev) : 0;
		if (e)
			ERR_error_string_n(e, r->tls_err, sizeof(r->tls_err));
	}
	event_base_loopexit(r->base, NULL);
}

static int http(struct ac_conn *c, enum evhttp_cmd_type cmd, const char *path,
		const char *auth, const char *body, struct reply *r)
{
	struct event_base *base = event_base_new();
	struct evhttp_connection *conn = NULL;
	struct evhttp_request *req;
	struct bufferevent *bev;
	struct evkeyvalq *h;
	SSL *ssl;
	struct in6_addr a6;
	char hostport[300];
	int rc = -ENOMEM;

	r->base = base;
	r->code = 0;
	r->body = NULL;
	r->tls_err[0] = '\0';
	if (!base)
		return cerr(c, -ENOMEM, "out of memory");
	ssl = SSL_new((SSL_CTX *)c->ctx);
	if (!ssl)
		goto out;
	SSL_set_tlsext_host_name(ssl, c->name);
	if (inet_pton(AF_INET, c->name, &a6) == 1 ||
	    inet_pton(AF_INET6, c->name, &a6) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->name);
	else
		SSL_set1_host(ssl, c->name);
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
					     BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		goto out;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	conn = evhttp_connection_base_bufferevent_new(base, NULL, bev, c->host,
						      c->port);
	if (!conn)
		goto out;
	evhttp_connection_set_timeout(conn, c->timeout_s);
	req = evhttp_request_new(on_reply, r);
	if (!req)
		goto out;
	h = evhttp_request_get_output_headers(req);
	snprintf(hostport, sizeof(hostport), "%s:%u", c->name, c->port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "Connection", "close");
	if (auth)
		evhttp_add_header(h, "Authorization", auth);
	if (body) {
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), body,
			     strlen(body));
	}
	if (evhttp_make_request(conn, req, cmd, path)) {
		rc = cerr(c, -EPROTO, "%s:%u: cannot send the request",
			  c->host, c->port);
		goto out;
	}
	event_base_dispatch(base);
	if (!r->code) {
		rc = cerr(c, r->tls_err[0] ? -EPROTO : -ECONNREFUSED,
			  "%s:%u: %s", c->host, c->port,
			  r->tls_err[0] ? r->tls_err
					: "no answer (connection refused, "
					  "timed out or TLS failed)");
		goto out;
	}
	rc = 0;
out:
	if (conn)
		evhttp_connection_free(conn);
	event_base_free(base);
	return rc;
}

/* The reply's JSON object (caller puts it), or NULL with the server's
 * error or a form error in c->err. */
static json_object *reply_json(struct ac_conn *c, struct reply *r, int want,
			       int *rc)
{
	json_object *o = r->body ? json_tokener_parse(r->body) : NULL, *e;

	if (r->code != want) {
		const char *msg = "";

		if (o && json_object_object_get_ex(o, "error", &e))
			msg = json_object_get_string(e);
		*rc = cerr(c, r->code == 403 || r->code == 401 ? -EACCES
			   : r->code == 404			 ? -ENOENT
			   : r->code == 503			 ? -EAGAIN
			   : r->code < 500			 ? -EINVAL
								 : -EREMOTEIO,
			   "server: %d %s", r->code, msg);
		json_object_put(o);
		return NULL;
	}
	if (!o || !json_object_is_type(o, json_type_object)) {
		*rc = cerr(c, -EBADMSG, "server: reply is not a JSON object");
		json_object_put(o);
		return NULL;
	}
	*rc = 0;
	return o;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) &&
			       json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v)
						   : 0;
}

/* Fills the session from a bootstrap reply. */
static int session_from(struct ac_conn *c, json_object *o, const char *id,
			struct ac_session *s)
{
	const char *btid = jstr(o, "btid"), *m = jstr(o, "method"), *dom;

	if (!btid || strlen(btid) >= sizeof(s->btid) ||
	    gba_btid_parse(btid, s->rand, &dom))
		return cerr(c, -EBADMSG, "server: reply without a valid btid");
	snprintf(s->btid, sizeof(s->btid), "%s", btid);
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->method, sizeof(s->method), "%s", m ? m : "");
	s->expires = jint(o, "expires");
	s->counter = 0; /* a new session: no re-authentication yet */
	return 0;
}

/* ---- AKA ---- */

static void cnonce_hex(char out[33])
{
	uint8_t b[16];

	if (getrandom(b, 16, 0) != 16)
		memset(b, 0, 16);
	hex_encode(b, 16, out);
}

int ac_bootstrap_aka(struct ac_conn *c, struct ac_usim *u,
		     struct ac_session *out)
{
	char auth[1024], realm[GBA_ID_MAX + 1], nonce[128], cn[33], resp[33],
		auts64[32], rsp[64];
	struct reply r = { 0 };
	struct digest_resp d;
	uint8_t nb[32], res[8], ck[16], ik[16], auts[MIL_AUTS];
	json_object *o;
	int rc, tries = 0;

	snprintf(auth, sizeof(auth),
		 "Digest username=\"%s\", realm=\"\", nonce=\"\", "
		 "uri=\"/v1/bootstrap\", response=\"\"",
		 u->id);
again:
	free(r.body);
	rc = http(c, EVHTTP_REQ_POST, "/v1/bootstrap", auth, NULL, &r);
	if (rc)
		return rc;
	if (r.code != 401) {
		o = reply_json(c, &r, 401, &rc);
		json_object_put(o);
		free(r.body);
		return rc ? rc : cerr(c, -EBADMSG, "server: expected 401");
	}
	if (digest_param(r.www_auth, "realm", realm, sizeof(realm)) ||
	    digest_param(r.www_auth, "nonce", nonce, sizeof(nonce)) ||
	    b64_decode(nonce, strlen(nonce), nb, 32, 0) != 32) {
		free(r.body);
		return cerr(c, -EBADMSG, "server: malformed Digest challenge");
	}
	rc = mil_check_autn(u->k, u->opc, nb, nb + 16, &u->sqn_ms, res, ck, ik,
			    auts);
	cnonce_hex(cn);
	d = (struct digest_resp){ .username = u->id, .realm = realm,
				  .nonce = nonce, .uri = "/v1/bootstrap",
				  .qop = "auth", .nc = "00000001",
				  .cnonce = cn, .method = "POST" };
	if (rc == MIL_MAC_FAIL) {
		free(r.body);
		return cerr(c, -EACCES, "the network failed authentication "
					"(MAC-A of AUTN is wrong)");
	}
	if (rc == MIL_SYNC_FAIL) {
		if (tries++) {
			free(r.body);
			return cerr(c, -EACCES, "SQN still not fresh after "
						"resynchronisation");
		}
		b64_encode(auts, MIL_AUTS, auts64, 0);
		digest_response(&d, (const uint8_t *)"", 0, false, resp);
		snprintf(auth, sizeof(auth),
			 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
			 "uri=\"/v1/bootstrap\", qop=auth, nc=00000001, "
			 "cnonce=\"%s\", response=\"%s\", auts=\"%s\", "
			 "algorithm=AKAv1-MD5",
			 u->id, realm, nonce, cn, resp, auts64);
		goto again;
	}
	if (rc != MIL_OK) {
		free(r.body);
		return cerr(c, -EIO, "MILENAGE failed");
	}
	digest_response(&d, res, 8, false, resp);
	snprintf(auth, sizeof(auth),
		 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		 "uri=\"/v1/bootstrap\", qop=auth, nc=00000001, cnonce=\"%s\", "
		 "response=\"%s\", algorithm=AKAv1-MD5",
		 u->id, realm, nonce, cn, resp);
	free(r.body);
	r.body = NULL;
	rc = http(c, EVHTTP_REQ_POST, "/v1/bootstrap", auth, NULL, &r);
	if (rc)
		goto out;
	o = reply_json(c, &r, 200, &rc);
	if (!o)
		goto out;
	/* The server proves it knew XRES too. */
	digest_response(&d, res, 8, true, resp);
	if (digest_param_plain(r.auth_info, "rspauth", rsp, sizeof(rsp)) ||
	    CRYPTO_memcmp(rsp, resp, 32) != 0 || strlen(rsp) != 32) {
		json_object_put(o);
		rc = cerr(c, -EACCES, "server: Authentication-Info missing or "
				      "wrong (rspauth)");
		goto out;
	}
	rc = session_from(c, o, u->id, out);
	json_object_put(o);
	if (!rc) {
		memcpy(out->ks, ck, 16);
		memcpy(out->ks + 16, ik, 16);
	}
out:
	OPENSSL_cleanse(ck, sizeof(ck));
	OPENSSL_cleanse(ik, sizeof(ik));
	OPENSSL_cleanse(res, sizeof(res));
	free(r.body);
	return rc;
}

/* ---- password (SCRAM-SHA-256) ---- */

/* POSTs body (which it frees) to path and expects 200 with a JSON object
 * in *o (the caller puts it; r->body is the caller's to free). */
static int post_json(struct ac_conn *c, const char *path, json_object *body,
		     struct reply *r, json_object **o)
{
	int rc = http(c, EVHTTP_REQ_POST, path, NULL,
		      json_object_to_json_string(body), r);

	json_object_put(body);
	*o = NULL;
	if (rc)
		return rc;
	*o = reply_json(c, r, 200, &rc);
	return rc;
}

static int scram_post(struct ac_conn *c, const char *msg, struct reply *r,
		      json_object **o)
{
	json_object *b = json_object_new_object();

	json_object_object_add(b, "message", json_object_new_string(msg));
	return post_json(c, "/v1/bootstrap/password", b, r, o);
}

int ac_bootstrap_password(struct ac_conn *c, const char *user,
			  const char *password, struct ac_session *out)
{
	char cf[SCRAM_MSG_MAX], sf[SCRAM_MSG_MAX], cfin[SCRAM_MSG_MAX],
		cn[33];
	uint8_t ssig[32], ck[32];
	struct reply r = { 0 };
	json_object *o = NULL;
	const char *m;
	int rc;

	cnonce_hex(cn);
	if (scram_client_first(user, cn, cf, sizeof(cf)))
		return cerr(c, -EINVAL, "%s: not a valid identity", user);
	rc = scram_post(c, cf, &r, &o);
	if (rc)
		goto out;
	m = jstr(o, "message");
	if (!m || strlen(m) >= sizeof(sf)) {
		rc = cerr(c, -EBADMSG, "server: no SCRAM server-first message");
		goto out;
	}
	strcpy(sf, m);
	json_object_put(o);
	o = NULL;
	free(r.body);
	r.body = NULL;
	if (scram_client_final(password, cf, sf, cfin, sizeof(cfin), ssig, ck)) {
		rc = cerr(c, -EBADMSG, "server: SCRAM server-first refused "
				       "(nonce, salt or iteration count)");
		goto out;
	}
	rc = scram_post(c, cfin, &r, &o);
	if (rc)
		goto out;
	m = jstr(o, "message");
	if (!m || scram_client_check(m, ssig)) {
		rc = cerr(c, -EACCES, "server: SCRAM server signature wrong");
		goto out;
	}
	rc = session_from(c, o, user, out);
	if (!rc)
		rc = scram_session_key(ck, cf, sf, cfin, out->ks);
out:
	OPENSSL_cleanse(ck, sizeof(ck));
	json_object_put(o);
	free(r.body);
	return rc;
}

/* ---- re-authentication ---- */

int ac_reauth(struct ac_conn *c, struct ac_session *s)
{
	struct reply r = { 0 };
	json_object *o = NULL, *b = json_object_new_object(), *v;
	struct ac_session ns_ = *s;
	uint8_t ns[18], nc[16], kre[32], mac[32], want[32], ks[32];
	char nc64[32], hex[65];
	const char *nonce, *rsp;
	uint64_t n;
	int rc;

	json_object_object_add(b, "btid", json_object_new_string(s->btid));
	rc = post_json(c, "/v1/reauth", b, &r, &o);
	if (rc)
		goto out;
	nonce = jstr(o, "nonce");
	if (!nonce || b64_decode(nonce, strlen(nonce), ns, sizeof(ns), 0) != 16) {
		rc = cerr(c, -EBADMSG, "server: no re-authentication nonce");
		goto out;
	}
	/* the counter only grows: past ours and the server's */
	n = s->counter;
	if (json_object_object_get_ex(o, "counter", &v) &&
	    (uint64_t)json_object_get_int64(v) > n)
		n = (uint64_t)json_object_get_int64(v);
	n++;
	if (getrandom(nc, 16, 0) != 16 ||
	    gba_reauth_key(s->ks, s->rand, s->id, kre) ||
	    gba_reauth_mac(kre, "client", ns, nc, n, s->btid, mac)) {
		rc = cerr(c, -EIO, "random or KDF");
		goto out;
	}
	b64_encode(nc, 16, nc64, 0);
	hex_encode(mac, 32, hex);
	b = json_object_new_object();
	json_object_object_add(b, "btid", json_object_new_string(s->btid));
	json_object_object_add(b, "nonce", json_object_new_string(nonce));
	json_object_object_add(b, "cnonce", json_object_new_string(nc64));
	json_object_object_add(b, "counter", json_object_new_int64((int64_t)n));
	json_object_object_add(b, "mac", json_object_new_string(hex));
	json_object_put(o);
	o = NULL;
	free(r.body);
	r.body = NULL;
	rc = post_json(c, "/v1/reauth", b, &r, &o);
	if (rc)
		goto out;
	rc = session_from(c, o, s->id, &ns_);
	if (rc)
		goto out;
	rsp = jstr(o, "rspauth");
	if (!rsp || strlen(rsp) != 64 || hex_decode(rsp, 64, mac, 32) ||
	    gba_reauth_mac(kre, "server", ns, nc, n, ns_.btid, want) ||
	    CRYPTO_memcmp(mac, want, 32)) {
		rc = cerr(c, -EACCES, "server: its proof (rspauth) is wrong: "
				      "it does not hold this session's Ks");
		goto out;
	}
	if (gba_reauth_ks(s->ks, ns, nc, n, ks)) {
		rc = cerr(c, -EIO, "KDF");
		goto out;
	}
	memcpy(ns_.ks, ks, GBA_KS);
	ns_.counter = n;
	OPENSSL_cleanse(s, sizeof(*s));
	*s = ns_;
out:
	OPENSSL_cleanse(&ns_, sizeof(ns_));
	OPENSSL_cleanse(kre, sizeof(kre));
	OPENSSL_cleanse(ks, sizeof(ks));
	json_object_put(o);
	free(r.body);
	return rc;
}

/* ---- certificate ---- */

int ac_bootstrap_certificate(struct ac_conn *c, const char *id,
			     struct ac_session *out)
{
	struct reply r = { 0 };
	EVP_PKEY *eph = NULL;
	uint8_t pub[32], peer[32];
	char pub64[64];
	const char *sp;
	json_object *b, *o;
	int rc;

	/* The request travels inside the TLS session the user's certificate
	 * authenticated: an ephemeral X25519 exchange in it gives both ends
	 * Ks without exporting anything from TLS. */
	if (cert_ks_keypair(&eph, pub))
		return cerr(c, -EIO, "X25519 key generation failed");
	b64_encode(pub, 32, pub64, 1);
	b = json_object_new_object();
	json_object_object_add(b, "x25519", json_object_new_string(pub64));
	rc = post_json(c, "/v1/bootstrap/certificate", b, &r, &o);
	if (!o)
		goto out;
	sp = jstr(o, "x25519");
	rc = session_from(c, o, id, out);
	if (!rc && (!sp || b64_decode(sp, strlen(sp), peer, 32, 1) != 32 ||
		    cert_ks_derive(eph, peer, out->rand, id, out->ks)))
		rc = cerr(c, -EBADMSG, "server: no usable x25519 key in reply");
	json_object_put(o);
out:
	EVP_PKEY_free(eph);
	free(r.body);
	return rc;
}

int ac_ks_as(const struct ac_session *s, const char *as_fqdn,
	     const uint8_t ua[GBA_UA_ID], uint8_t key[GBA_KEY])
{
	return gba_ks_as(s->ks, s->rand, s->id, as_fqdn, ua, key);
}

int ac_assertion(struct ac_conn *c, const struct ac_session *s,
		 const char *audience, char **token, int64_t *expires)
{
	uint8_t key[GBA_KEY], mac[32];
	char msg[GBA_BTID_MAX + GBA_ID_MAX + 64], mhex[65];
	int64_t t = (int64_t)time(NULL);
	struct reply r = { 0 };
	json_object *b, *o;
	const char *tok;
	int rc;

	snprintf(msg, sizeof(msg), "xcrs-assert|%s|%s|%lld", s->btid, audience,
		 (long long)t);
	if (ac_ks_as(s, audience, GBA_UA_XCRS_ASSERT, key) ||
	    gba_hmac(key, GBA_KEY, msg, strlen(msg), mac)) {
		OPENSSL_cleanse(key, sizeof(key));
		return cerr(c, -EINVAL, "%s: not a valid audience", audience);
	}
	OPENSSL_cleanse(key, sizeof(key));
	hex_encode(mac, 32, mhex);
	b = json_object_new_object();
	json_object_object_add(b, "btid", json_object_new_string(s->btid));
	json_object_object_add(b, "audience", json_object_new_string(audience));
	json_object_object_add(b, "time", json_object_new_int64(t));
	json_object_object_add(b, "mac", json_object_new_string(mhex));
	rc = post_json(c, "/v1/assertion", b, &r, &o);
	if (o) {
		tok = jstr(o, "assertion");
		if (!tok)
			rc = cerr(c, -EBADMSG, "server: no assertion");
		else if (!(*token = strdup(tok)))
			rc = -ENOMEM;
		if (expires)
			*expires = jint(o, "expires");
		json_object_put(o);
	}
	free(r.body);
	return rc;
}

int ac_fetch_key(struct ac_conn *c, const char *btid, const char *as_id,
		 const uint8_t ua[GBA_UA_ID], struct ac_as_key *out)
{
	struct reply r = { 0 };
	json_object *b, *o;
	char uah[2 * GBA_UA_ID + 1];
	const char *k, *sub, *m;
	int rc;

	hex_encode(ua, GBA_UA_ID, uah);
	b = json_object_new_object();
	json_object_object_add(b, "btid", json_object_new_string(btid));
	json_object_object_add(b, "as_id", json_object_new_string(as_id));
	json_object_object_add(b, "ua", json_object_new_string(uah));
	rc = post_json(c, "/v1/keys", b, &r, &o);
	if (o) {
		k = jstr(o, "ks_as");
		sub = jstr(o, "subject");
		m = jstr(o, "method");
		if (!k || !sub ||
		    b64_decode(k, strlen(k), out->ks_as, GBA_KEY, 0) != GBA_KEY)
			rc = cerr(c, -EBADMSG, "server: reply without ks_as");
		else {
			snprintf(out->subject, sizeof(out->subject), "%s", sub);
			snprintf(out->method, sizeof(out->method), "%s",
				 m ? m : "");
			out->expires = jint(o, "expires");
		}
		json_object_put(o);
	}
	if (r.body)
		OPENSSL_cleanse(r.body, strlen(r.body));
	free(r.body);
	return rc;
}

int ac_jwks(struct ac_conn *c, char **json)
{
	struct reply r = { 0 };
	int rc = http(c, EVHTTP_REQ_GET, "/v1/jwks", NULL, NULL, &r);

	if (rc)
		return rc;
	if (r.code != 200 || !r.body) {
		free(r.body);
		return cerr(c, -EPROTO, "server: %d", r.code);
	}
	*json = r.body;
	return 0;
}

/* ---- files ---- */

static int write_atomic(const char *path, const char *text, char *err,
			size_t errlen)
{
	char tmp[4096];
	int fd, rc = 0;
	size_t n = strlen(text);

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -errno;
	}
	if (write(fd, text, n) != (ssize_t)n || fsync(fd)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	}
	close(fd);
	if (!rc && rename(tmp, path)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (rc)
		unlink(tmp);
	return rc;
}

static json_object *read_json(const char *path, char *err, size_t errlen)
{
	json_object *o = json_object_from_file(path);

	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "%s: not readable as a JSON object",
			 path);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int hex_member(json_object *o, const char *k, uint8_t *out, size_t n)
{
	const char *s = jstr(o, k);

	return s ? hex_decode(s, strlen(s), out, n) : -EINVAL;
}

int ac_session_save(const char *path, const struct ac_session *s, char *err,
		    size_t errlen)
{
	json_object *o = json_object_new_object();
	char ks[2 * GBA_KS + 1];
	int rc;

	hex_encode(s->ks, GBA_KS, ks);
	json_object_object_add(o, "btid", json_object_new_string(s->btid));
	json_object_object_add(o, "id", json_object_new_string(s->id));
	json_object_object_add(o, "ks", json_object_new_string(ks));
	json_object_object_add(o, "method", json_object_new_string(s->method));
	json_object_object_add(o, "expires", json_object_new_int64(s->expires));
	json_object_object_add(o, "counter",
			       json_object_new_int64((int64_t)s->counter));
	rc = write_atomic(path, json_object_to_json_string_ext(
					o, JSON_C_TO_STRING_PRETTY),
			  err, errlen);
	OPENSSL_cleanse(ks, sizeof(ks));
	json_object_put(o);
	return rc;
}

int ac_session_load(const char *path, struct ac_session *s, char *err,
		    size_t errlen)
{
	json_object *o = read_json(path, err, errlen);
	const char *btid, *id, *m, *dom;
	int rc = -EINVAL;

	if (!o)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	btid = jstr(o, "btid");
	id = jstr(o, "id");
	m = jstr(o, "method");
	if (!btid || !id || strlen(btid) >= sizeof(s->btid) ||
	    !gba_id_valid(id) || gba_btid_parse(btid, s->rand, &dom) ||
	    hex_member(o, "ks", s->ks, GBA_KS)) {
		snprintf(err, errlen, "%s: not a session file", path);
		goto out;
	}
	strcpy(s->btid, btid);
	strcpy(s->id, id);
	snprintf(s->method, sizeof(s->method), "%s", m ? m : "");
	s->expires = jint(o, "expires");
	s->counter = (uint64_t)jint(o, "counter");
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

int ac_usim_save(const char *path, const struct ac_usim *u, char *err,
		 size_t errlen)
{
	json_object *o = json_object_new_object();
	char k[33], opc[33];
	int rc;

	hex_encode(u->k, 16, k);
	hex_encode(u->opc, 16, opc);
	json_object_object_add(o, "id", json_object_new_string(u->id));
	json_object_object_add(o, "k", json_object_new_string(k));
	json_object_object_add(o, "opc", json_object_new_string(opc));
	json_object_object_add(o, "sqn", json_object_new_int64((int64_t)u->sqn_ms));
	rc = write_atomic(path, json_object_to_json_string_ext(
					o, JSON_C_TO_STRING_PRETTY),
			  err, errlen);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(opc, sizeof(opc));
	json_object_put(o);
	return rc;
}

int ac_usim_load(const char *path, struct ac_usim *u, char *err,
		 size_t errlen)
{
	json_object *o = read_json(path, err, errlen);
	const char *id;
	int rc = -EINVAL;

	if (!o)
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	id = jstr(o, "id");
	if (!id || !gba_id_valid(id) || hex_member(o, "k", u->k, 16) ||
	    hex_member(o, "opc", u->opc, 16) || jint(o, "sqn") < 0) {
		snprintf(err, errlen,
			 "%s: expected {\"id\", \"k\": 32 hex, \"opc\": 32 hex, "
			 "\"sqn\"}", path);
		goto out;
	}
	strcpy(u->id, id);
	u->sqn_ms = (uint64_t)jint(o, "sqn");
	rc = 0;
out:
	json_object_put(o);
	return rc;
}
