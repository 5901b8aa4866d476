// SPDX-License-Identifier: GPL-2.0-only
/* xcrs-authsrv (X.1124): replies, request bodies and the sessions they create. */
#include "authsrv-internal.h"

int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- replies ---- */

void reply_json(struct evhttp_request *req, int code, const char *why,
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

void reply_err(struct evhttp_request *req, int code, const char *why,
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

void reply_busy(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Retry-After", "1");
	reply_err(req, 503, "Service Unavailable",
		  "the database is locked by another process; try again");
}

/* The request's body as a JSON object, or NULL (a reply has been sent). */
json_object *body_json(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_object *o = NULL;
	char *buf, why[96] = "";
	int r;

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
	r = reqbody_parse_err(buf, len, &o, why, sizeof(why));
	free(buf);
	if (r == -ENOMEM) {
		reply_err(req, 500, "Internal Server Error", "out of memory");
		return NULL;
	}
	if (r) {
		reply_err(req, 400, "Bad Request",
			  "the body is not a JSON object (%s)", why);
		return NULL;
	}
	return o;
}

/* A string member of at most max characters, or NULL. */
const char *member(json_object *o, const char *key, size_t max)
{
	return reqbody_str(o, key, max);
}

SSL *req_ssl(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;

	return bev ? bufferevent_openssl_get_ssl(bev) : NULL;
}

const char *peer_host(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	const char *host = "?";
	ev_uint16_t port;

	if (c)
		evhttp_connection_get_peer(c, (char **)&host, &port);
	return host;
}

/* ---- sessions ---- */

int new_session(struct srv *s, const char *id, const uint8_t rand[16],
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

void reply_session(struct evhttp_request *req, const struct sess_rec *r,
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
