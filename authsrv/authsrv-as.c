// SPDX-License-Identifier: GPL-2.0-only
/* xcrs-authsrv (X.1124): what application servers ask: Ks_AS (Zn, also relayed for roaming users), assertions, the signing keys. */
#include "authsrv-internal.h"

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

void on_keys(struct evhttp_request *req, void *arg)
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
	int rc;

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
	} else if (as) {
		/* one of our own ASs: its key goes to that AS alone, never to
		 * a peer relaying "for" it (a partner would get the key the
		 * CRS agent checks our users' reports with) */
		reply_err(req, 403, "Forbidden",
			  "%s is an application server of ours: its keys go to "
			  "the server its certificate names, no one else",
			  as_id);
		goto out;
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
	if ((rc = store_sess_get(s->st, btid, now_s(), &sess)) == -EBUSY) {
		reply_busy(req);
		goto out;
	}
	if (rc) {
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
	OPENSSL_cleanse(&sess, sizeof(sess));
	OPENSSL_cleanse(key, sizeof(key));
	json_object_put(in);
}

/* ---- assertions for ASs in open networks ---- */

void on_assertion(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	json_object *in = body_json(req), *o;
	const char *btid, *aud, *mac_hex;
	struct sess_rec sess;
	int rc;
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
	if ((rc = store_sess_get(s->st, btid, now, &sess)) == -EBUSY) {
		reply_busy(req);
		goto out;
	}
	if (rc) {
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

void on_jwks(struct evhttp_request *req, void *arg)
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

void on_other(struct evhttp_request *req, void *arg)
{
	reply_err(req, 404, "Not Found", "no such endpoint");
}
