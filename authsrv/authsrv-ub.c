// SPDX-License-Identifier: GPL-2.0-only
/* xcrs-authsrv (X.1124): the bootstrap methods (Ub): HTTP Digest AKA, SCRAM passwords, user certificates. */
#include "authsrv-internal.h"

/* ---- 1. bootstrap with AKA: HTTP Digest AKAv1-MD5 (RFC 3310) ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A token from the source's bucket (a table of SRC_BUCKETS by hash; a
 * source that lands on another's slot starts full). */
static bool src_allow(struct srv *s, const char *addr)
{
	uint32_t h = 2166136261u;
	struct src_bucket *b;
	int64_t now = mono_ms();

	for (const char *p = addr; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	b = &s->src[h % SRC_BUCKETS];
	if (strcmp(b->addr, addr)) {
		snprintf(b->addr, sizeof(b->addr), "%s", addr);
		b->tokens = SRC_BURST;
		b->last_ms = now;
	}
	b->tokens += (double)(now - b->last_ms) * SRC_RATE / 1000.0;
	if (b->tokens > SRC_BURST)
		b->tokens = SRC_BURST;
	b->last_ms = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

static void too_many(struct evhttp_request *req, const char *fmt,
		     const char *arg)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Retry-After", "1");
	reply_err(req, 429, "Too Many Requests", fmt, arg);
}

/* Stores challenge c; false if it could not be (the answer is sent:
 * 503 when the database is locked by another process). */
static bool chal_keep(struct srv *s, struct evhttp_request *req,
		      const struct chal_rec *c)
{
	int rc = store_chal_put(s->st, c);

	if (rc == -EBUSY)
		reply_busy(req);
	else if (rc)
		reply_err(req, 500, "Internal Server Error", "store: %s",
			  store_errmsg(s->st));
	return rc == 0;
}

/* A first request: a challenge. An identity that does not exist (or may
 * not use AKA) gets a decoy of the same form, stored and counted like a
 * real one, so that nothing in the answer, nor in the answer to the next
 * request, tells which identities exist. */
/* The two forms of the AKA bootstrap: this server's JSON API (POST
 * /v1/bootstrap, qop=auth, a JSON session) and TS 24.109's (GET /,
 * qop=auth-int, the XML BootstrappingInfo). */
struct ub_form {
	const char *uri, *method, *qop;
	bool xml;
};

static const struct ub_form form_json = { "/v1/bootstrap", "POST", "auth",
					  false };
static const struct ub_form form_3gpp = { "/", "GET", "auth-int", true };

static void challenge(struct srv *s, struct evhttp_request *req,
		      const char *id, const struct ub_form *f)
{
	struct sub_rec sub;
	struct mil_vector v = { 0 };
	struct chal_rec c = { 0 };
	uint8_t rand[16], nb[32];
	char hdr[1024];
	bool decoy = false;
	int rc;

	if (!src_allow(s, peer_host(req))) {
		too_many(req, "too many first requests from %s; try again",
			 peer_host(req));
		goto out;
	}
	rc = store_chal_pending(s->st, id, "aka", now_s());
	if (rc == -EBUSY) {
		reply_busy(req);
		goto out;
	}
	if (rc >= CHAL_PENDING_MAX) {
		too_many(req, "%s: too many challenges unanswered; answer one "
			 "or wait for them to expire", id);
		goto out;
	}
	rc = store_sqn_next(s->st, id, &sub);
	if (rc == -EBUSY) {
		reply_busy(req);
		goto out;
	}
	if (rc == -ENOENT || rc == -EPERM ||
	    (!rc && !(sub.methods & METHOD_AKA))) {
		decoy = true;
	} else if (rc) {
		reply_err(req, 500, "Internal Server Error", "store: %s",
			  store_errmsg(s->st));
		goto out;
	}
	if (decoy) {
		/* RAND, AUTN, XRES, CK, IK: random; no SQN moves */
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
			reply_err(req, 500, "Internal Server Error", "random");
			goto out;
		}
	} else if (getrandom(rand, 16, 0) != 16 ||
		   mil_vector(sub.k, sub.opc, sub.sqn, sub.amf, rand, &v)) {
		reply_err(req, 500, "Internal Server Error", "no vector");
		goto out;
	}
	memcpy(nb, v.rand, 16);
	memcpy(nb + 16, v.autn, 16);
	b64_encode(nb, 32, c.nonce, 0);
	snprintf(c.id, sizeof(c.id), "%s", id);
	strcpy(c.kind, decoy ? "aka-decoy" : "aka");
	memcpy(c.rand, v.rand, 16);
	memcpy(c.xres, v.xres, 8);
	memcpy(c.ck, v.ck, 16);
	memcpy(c.ik, v.ik, 16);
	c.expires = now_s() +
		    (int64_t)(s->cfg->challenge_lifetime_ns / 1000000000ull);
	if (!chal_keep(s, req, &c))
		goto out;
	snprintf(hdr, sizeof(hdr),
		 "Digest realm=\"%s\", nonce=\"%s\", algorithm=AKAv1-MD5, "
		 "qop=\"%s\"",
		 s->cfg->domain, c.nonce, f->qop);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "WWW-Authenticate", hdr);
	if (!decoy)
		log_debug("bootstrap %s: challenge with SQN %llu", id,
			  (unsigned long long)sub.sqn);
	if (f->xml)
		evhttp_send_reply(req, 401, "Unauthorized", NULL);
	else
		reply_json(req, 401, "Unauthorized", json_object_new_object());
out:
	OPENSSL_cleanse(&sub, sizeof(sub));
	OPENSSL_cleanse(&v, sizeof(v));
	OPENSSL_cleanse(&c, sizeof(c));
}

/* RFC 2617 3.2.2: nc is 8 hex digits. */
static bool nc_valid(const char *nc)
{
	if (strlen(nc) != 8)
		return false;
	for (int i = 0; i < 8; i++)
		if (!isxdigit((unsigned char)nc[i]))
			return false;
	return true;
}

/* The cnonce is echoed in Authentication-Info: visible ASCII without a
 * quote or backslash, so that it stays one quoted string there. */
static bool cnonce_valid(const char *cn)
{
	if (!*cn)
		return false;
	for (; *cn; cn++)
		if (*cn < 0x21 || *cn > 0x7e || *cn == '"' || *cn == '\\')
			return false;
	return true;
}

/* The 200 of TS 24.109 (annex C): the BootstrappingInfo document, with
 * the key's lifetime in UTC, and Authentication-Info over its body
 * (qop=auth-int: HA2 takes the MD5 of the entity body). */
static void reply_bootstrapping_info(struct evhttp_request *req,
				     const struct sess_rec *r,
				     struct digest_resp *d, const uint8_t *res,
				     const char *cnonce, const char *nc)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();
	char life[32], exp[64], body[GBA_BTID_MAX + 256], bh[33], rsp[33],
		hdr[400];
	time_t t = (time_t)r->expires;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(life, sizeof(life), "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(exp, sizeof(exp), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(body, sizeof(body),
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<BootstrappingInfo xmlns=\"uri:3gpp-gba\">\n"
		 "  <btid>%s</btid>\n"
		 "  <lifetime>%s</lifetime>\n"
		 "</BootstrappingInfo>\n",
		 r->btid, life);
	if (!b || digest_body_md5(body, strlen(body), bh)) {
		if (b)
			evbuffer_free(b);
		reply_err(req, 500, "Internal Server Error", "no memory");
		return;
	}
	d->body_md5 = bh;
	if (!digest_response(d, res, MIL_RES, true, rsp)) {
		snprintf(hdr, sizeof(hdr),
			 "qop=auth-int, rspauth=\"%s\", cnonce=\"%s\", nc=%s",
			 rsp, cnonce, nc);
		evhttp_add_header(h, "Authentication-Info", hdr);
	}
	evhttp_add_header(h, "Content-Type", "application/vnd.3gpp.bsf+xml");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Expires", exp);
	evbuffer_add(b, body, strlen(body));
	log_info("bootstrap %s from %s: session %s (%s, TS 24.109) until %lld",
		 r->id, peer_host(req), r->btid, r->method,
		 (long long)r->expires);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void aka_bootstrap(struct evhttp_request *req, struct srv *s,
			  const struct ub_form *f)
{
	const char *auth = evhttp_find_header(
		evhttp_request_get_input_headers(req), "Authorization");
	char user[GBA_ID_MAX + 1], nonce[256], resp[64], uri[64], qop[16],
		nc[16], cnonce[128], realm[GBA_ID_MAX + 1], auts64[64], want[33];
	struct digest_resp d;
	struct chal_rec c;
	struct sess_rec sess;
	uint8_t ks[GBA_KS], nb[33];
	int rc;

	char bodyh[33];

	if (evhttp_request_get_command(req) !=
	    (f->xml ? EVHTTP_REQ_GET : EVHTTP_REQ_POST)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Allow", f->method);
		reply_err(req, 405, "Method Not Allowed", "use %s", f->method);
		return;
	}
	if (!auth || digest_param(auth, "username", user, sizeof(user)) ||
	    !gba_id_valid(user)) {
		reply_err(req, 400, "Bad Request",
			  "expected Authorization: Digest username=\"IDENTITY\"");
		return;
	}
	/* the whole header well formed (a key never matched walks it all) */
	if (digest_param(auth, "", want, 1) != -ENOENT) {
		reply_err(req, 400, "Bad Request",
			  "the Authorization header is not a Digest parameter "
			  "list (an unterminated quote, a bad parameter)");
		return;
	}
	/* only an absent or empty nonce is a first request: a bad one is
	 * an error, not a new challenge (and an SQN step) */
	rc = digest_param(auth, "nonce", nonce, sizeof(nonce));
	if (rc == -ENOENT || (!rc && !nonce[0])) {
		challenge(s, req, user, f); /* the first request */
		return;
	}
	if (rc || strlen(nonce) != 44 ||
	    b64_decode(nonce, 44, nb, sizeof(nb), 0) != 32) {
		reply_err(req, 400, "Bad Request",
			  "%s: the nonce is not one of ours (44 base64 "
			  "characters)", user);
		return;
	}
	rc = store_chal_take(s->st, nonce, now_s(), &c);
	if (rc == -EBUSY) {
		reply_busy(req);
		return;
	}
	if (rc || (strcmp(c.kind, "aka") && strcmp(c.kind, "aka-decoy")) ||
	    strcmp(c.id, user)) {
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
		/* TS 33.102 6.3.5: SQN_HE is reset only when the next one
		 * would not be accepted by the USIM (SQN_MS < SQN <= SQN_MS +
		 * delta); otherwise the new challenge carries SQN_HE + 1 */
		if (sub.sqn + 1 > sqn_ms &&
		    sub.sqn + 1 - sqn_ms <= MIL_SQN_DELTA) {
			log_info("bootstrap %s: resynchronisation: SQN_HE %llu "
				 "is in range of SQN_MS %llu, kept", user,
				 (unsigned long long)sub.sqn,
				 (unsigned long long)sqn_ms);
			OPENSSL_cleanse(&sub, sizeof(sub));
			challenge(s, req, user, f);
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
		challenge(s, req, user, f);
		return;
	}
	if (digest_param(auth, "response", resp, sizeof(resp)) ||
	    digest_param(auth, "uri", uri, sizeof(uri)) ||
	    digest_param(auth, "qop", qop, sizeof(qop)) ||
	    digest_param(auth, "nc", nc, sizeof(nc)) ||
	    digest_param(auth, "cnonce", cnonce, sizeof(cnonce)) ||
	    digest_param(auth, "realm", realm, sizeof(realm)) ||
	    strcmp(qop, f->qop) || strcmp(uri, f->uri) ||
	    strcmp(realm, s->cfg->domain) || !nc_valid(nc) ||
	    !cnonce_valid(cnonce)) {
		OPENSSL_cleanse(&c, sizeof(c));
		reply_err(req, 400, "Bad Request",
			  "Digest response needs realm=\"%s\", uri=%s, qop=%s, "
			  "nc (8 hex digits), cnonce (printable, no quote or "
			  "backslash), response",
			  s->cfg->domain, f->uri, f->qop);
		return;
	}
	d = (struct digest_resp){ .username = user, .realm = realm,
				  .nonce = nonce, .uri = uri, .qop = qop,
				  .nc = nc, .cnonce = cnonce,
				  .method = f->method };
	if (f->xml) {
		/* auth-int: the request's entity body (empty for a GET,
		 * whatever came) */
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		const unsigned char *bp = len ? evbuffer_pullup(in, -1) : NULL;

		if (digest_body_md5((const char *)bp, len, bodyh)) {
			OPENSSL_cleanse(&c, sizeof(c));
			reply_err(req, 500, "Internal Server Error", "md5");
			return;
		}
		d.body_md5 = bodyh;
	}
	/* a decoy's answer fails like a wrong RES, with the same words */
	if (digest_response(&d, c.xres, MIL_RES, false, want) ||
	    strlen(resp) != 32 || CRYPTO_memcmp(want, resp, 32) != 0 ||
	    strcmp(c.kind, "aka")) {
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
	if (f->xml) {
		reply_bootstrapping_info(req, &sess, &d, c.xres, cnonce, nc);
		OPENSSL_cleanse(&c, sizeof(c));
		OPENSSL_cleanse(&sess, sizeof(sess));
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
	OPENSSL_cleanse(&sess, sizeof(sess));
}

void on_bootstrap(struct evhttp_request *req, void *arg)
{
	aka_bootstrap(req, arg, &form_json);
}

void on_bootstrap_3gpp(struct evhttp_request *req, void *arg)
{
	aka_bootstrap(req, arg, &form_3gpp);
}

/* ---- the password method: SCRAM-SHA-256 in two requests ---- */

void on_password(struct evhttp_request *req, void *arg)
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
			v.iter = s->decoy_iter;
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
		OPENSSL_cleanse(&sess, sizeof(sess));
	} else {
		reply_err(req, 400, "Bad Request",
			  "expected a SCRAM client-first or client-final message");
	}
out:
	OPENSSL_cleanse(&sub, sizeof(sub));
	OPENSSL_cleanse(&c, sizeof(c));
	json_object_put(in);
}

/* ---- the certificate method: TLS client certificate of the user ---- */

void on_certificate(struct evhttp_request *req, void *arg)
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
	if (getrandom(rand, 16, 0) != 16 || cert_ks_keypair(&eph, pub)) {
		reply_err(req, 500, "Internal Server Error",
			  "cannot make a key pair");
		goto out;
	}
	/* a low-order point (all zero, …) gives no shared secret: the
	 * client's error, not ours */
	if (cert_ks_derive(eph, peer, rand, cn, ks)) {
		OPENSSL_cleanse(ks, sizeof(ks));
		reply_err(req, 400, "Bad Request",
			  "x25519: not a usable public key");
		goto out;
	}
	if (new_session(s, cn, rand, ks, "certificate", &sess)) {
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
	OPENSSL_cleanse(&sess, sizeof(sess));
	OPENSSL_cleanse(&sub, sizeof(sub));
	OPENSSL_cleanse(ks, sizeof(ks));
	OPENSSL_cleanse(peer, sizeof(peer));
	EVP_PKEY_free(eph);
	json_object_put(in);
}

/* ---- re-authentication (X.1124 8.3, as xcrs designs it) ---- */

/* The Recommendation's text of 8.3 is not public: this is xcrs's own
 * design, an extension of the GBA session (authsrv/README.md, "Re-
 * authentication"); its keys and proofs are gba_reauth_*(). */

/* Whether session r may be re-authenticated now; if not, the answer is
 * sent. */
static bool reauth_allowed(struct srv *s, struct evhttp_request *req,
			   const struct sess_rec *r, int64_t now)
{
	int64_t root = r->root ? r->root : r->created;

	if (!s->cfg->reauth_max_chain) {
		reply_err(req, 403, "Forbidden", "re-authentication is off "
			  "(reauth_max_chain: 0): bootstrap again");
		return false;
	}
	if (r->chain >= s->cfg->reauth_max_chain) {
		reply_err(req, 403, "Forbidden", "%s: %u re-authentications "
			  "since the last bootstrap, the most allowed: "
			  "bootstrap again", r->btid, r->chain);
		return false;
	}
	if (now >= root + (int64_t)(s->cfg->reauth_lifetime_ns /
				   1000000000ull)) {
		reply_err(req, 403, "Forbidden", "%s: the last bootstrap is "
			  "older than reauth_lifetime: bootstrap again",
			  r->btid);
		return false;
	}
	return true;
}

void on_reauth(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	json_object *in = body_json(req), *o, *v;
	const char *btid, *nonce, *cnonce, *mac_hex;
	struct sess_rec r = { 0 }, nr = { 0 };
	struct chal_rec c = { 0 };
	uint8_t ns[18], nc[18], mac[32], want[32], kre[32], ks[32], rand[16];
	char hex[65];
	int64_t now = now_s(), root;
	uint64_t n;
	int rc;

	if (!in)
		return;
	btid = member(in, "btid", GBA_BTID_MAX - 1);
	nonce = member(in, "nonce", 64);
	if (!btid) {
		reply_err(req, 400, "Bad Request", "expected {\"btid\"} or "
			  "{\"btid\", \"nonce\", \"cnonce\", \"counter\", "
			  "\"mac\"}");
		goto out;
	}
	rc = store_sess_get(s->st, btid, now, &r);
	if (rc == -EBUSY) {
		reply_busy(req);
		goto out;
	}
	if (rc) {
		reply_err(req, 404, "Not Found", "%s: no such session "
			  "(expired, revoked, unknown or its subscriber "
			  "disabled)", btid);
		goto out;
	}
	if (!nonce) {
		/* 1: a single-use nonce bound to the B-TID */
		if (!src_allow(s, peer_host(req))) {
			too_many(req, "too many first requests from %s; try "
				 "again", peer_host(req));
			goto out;
		}
		if (!reauth_allowed(s, req, &r, now))
			goto out;
		rc = store_chal_pending(s->st, r.id, "reauth", now);
		if (rc >= CHAL_PENDING_MAX) {
			too_many(req, "%s: too many re-authentications "
				 "unanswered", r.id);
			goto out;
		}
		if (getrandom(ns, 16, 0) != 16) {
			reply_err(req, 500, "Internal Server Error", "random");
			goto out;
		}
		b64_encode(ns, 16, c.nonce, 0);
		snprintf(c.id, sizeof(c.id), "%s", r.id);
		strcpy(c.kind, "reauth");
		snprintf(c.client_first, sizeof(c.client_first), "%s", btid);
		c.expires = now + (int64_t)(s->cfg->challenge_lifetime_ns /
					    1000000000ull);
		if (!chal_keep(s, req, &c))
			goto out;
		o = json_object_new_object();
		json_object_object_add(o, "nonce",
				       json_object_new_string(c.nonce));
		json_object_object_add(o, "counter",
				       json_object_new_int64((int64_t)r.counter));
		json_object_object_add(o, "expires",
				       json_object_new_int64(c.expires));
		reply_json(req, 200, "OK", o);
		goto out;
	}
	/* 2: the terminal's proof */
	cnonce = member(in, "cnonce", 64);
	mac_hex = member(in, "mac", 64);
	if (!cnonce || !mac_hex || strlen(mac_hex) != 64 ||
	    hex_decode(mac_hex, 64, mac, 32) ||
	    b64_decode(cnonce, strlen(cnonce), nc, sizeof(nc), 0) != 16 ||
	    b64_decode(nonce, strlen(nonce), ns, sizeof(ns), 0) != 16 ||
	    !json_object_object_get_ex(in, "counter", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 0) {
		reply_err(req, 400, "Bad Request", "expected {\"btid\", \"nonce\", "
			  "\"cnonce\": 16 octets in base64, \"counter\": a "
			  "positive number, \"mac\": 64 hex digits}");
		goto out;
	}
	n = (uint64_t)json_object_get_int64(v);
	rc = store_chal_take(s->st, nonce, now, &c);
	if (rc == -EBUSY) {
		reply_busy(req);
		goto out;
	}
	if (rc || strcmp(c.kind, "reauth") || strcmp(c.client_first, btid)) {
		reply_err(req, 403, "Forbidden", "%s: unknown, used or expired "
			  "nonce", btid);
		goto out;
	}
	if (!reauth_allowed(s, req, &r, now))
		goto out;
	if (gba_reauth_key(r.ks, r.rand, r.id, kre) ||
	    gba_reauth_mac(kre, "client", ns, nc, n, btid, want)) {
		reply_err(req, 500, "Internal Server Error", "KDF");
		goto out;
	}
	if (CRYPTO_memcmp(want, mac, 32)) {
		reply_err(req, 403, "Forbidden", "%s: re-authentication failed "
			  "(wrong mac)", btid);
		goto out;
	}
	if (n <= r.counter) {
		reply_err(req, 403, "Forbidden", "%s: counter %llu is not above "
			  "%llu (a replay?)", btid, (unsigned long long)n,
			  (unsigned long long)r.counter);
		goto out;
	}
	/* Ks' and a new B-TID; the old session goes */
	if (gba_reauth_ks(r.ks, ns, nc, n, ks) || getrandom(rand, 16, 0) != 16 ||
	    gba_btid(rand, s->cfg->domain, nr.btid, sizeof(nr.btid))) {
		reply_err(req, 500, "Internal Server Error", "KDF");
		goto out;
	}
	root = r.root ? r.root : r.created;
	snprintf(nr.id, sizeof(nr.id), "%s", r.id);
	memcpy(nr.ks, ks, GBA_KS);
	memcpy(nr.rand, rand, 16);
	snprintf(nr.method, sizeof(nr.method), "%s", r.method);
	nr.created = now;
	nr.expires = now + (int64_t)(s->cfg->session_lifetime_ns / 1000000000ull);
	if (nr.expires > root + (int64_t)(s->cfg->reauth_lifetime_ns /
					  1000000000ull))
		nr.expires = root + (int64_t)(s->cfg->reauth_lifetime_ns /
					      1000000000ull);
	nr.root = root;
	nr.chain = r.chain + 1;
	nr.counter = n;
	if ((rc = store_sess_put(s->st, &nr)) ||
	    (rc = store_sess_revoke(s->st, btid))) {
		if (rc == -EBUSY)
			reply_busy(req);
		else
			reply_err(req, 500, "Internal Server Error", "store: %s",
				  store_errmsg(s->st));
		goto out;
	}
	if (gba_reauth_mac(kre, "server", ns, nc, n, nr.btid, want)) {
		reply_err(req, 500, "Internal Server Error", "KDF");
		goto out;
	}
	hex_encode(want, 32, hex);
	o = json_object_new_object();
	json_object_object_add(o, "rspauth", json_object_new_string(hex));
	json_object_object_add(o, "chain", json_object_new_int((int)nr.chain));
	log_info("re-authentication of %s: %s replaced by %s (link %u of %u)",
		 r.id, btid, nr.btid, nr.chain, s->cfg->reauth_max_chain);
	reply_session(req, &nr, o);
out:
	OPENSSL_cleanse(&r, sizeof(r));
	OPENSSL_cleanse(&nr, sizeof(nr));
	OPENSSL_cleanse(&c, sizeof(c));
	OPENSSL_cleanse(kre, sizeof(kre));
	OPENSSL_cleanse(ks, sizeof(ks));
	OPENSSL_cleanse(want, sizeof(want));
	json_object_put(in);
}
