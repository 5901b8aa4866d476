// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-authsrv: the X.1124 security server (SS). One libevent loop serving
 * HTTP/1.1 over TLS 1.3 (evhttp + bufferevent_openssl); the store is
 * SQLite; every primitive is OpenSSL's. API and flows: authsrv/README.md.
 */#include "authsrv-internal.h"

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
	if (s->cfg->as_crl[0] &&
	    tls_store_add_crl(s->as_store, s->cfg->as_crl, err, errlen))
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

/* A bootstrap writes (SQN, challenges, sessions): it runs in one
 * transaction whose write lock is taken first. When another process holds
 * the lock, the request is parked and the lock tried again every few
 * milliseconds, up to TX_WAIT_MS, while the event loop serves everything
 * else (JWKS, other requests); then 503 with Retry-After. Nothing has been
 * done before the lock is taken, so trying again is safe. */
#define TX_WAIT_MS 3000
#define TX_RETRY_MS 2

struct parked {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	void (*fn)(struct evhttp_request *req, void *arg);
	int64_t deadline_ms;
	struct parked *next;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs fn in a transaction; 1: the lock is held elsewhere (not run). */
static int run_tx(struct evhttp_request *req, struct srv *s,
		  void (*fn)(struct evhttp_request *req, void *arg))
{
	int r = store_begin(s->st);

	if (r == -EBUSY)
		return 1;
	if (r) {
		reply_err(req, 500, "Internal Server Error", "store: %s",
			  store_errmsg(s->st));
		return 0;
	}
	fn(req, s);
	if (store_commit(s->st))
		log_error("store: %s", store_errmsg(s->st));
	return 0;
}

static void pop(struct srv *s)
{
	struct parked *p = s->parked;

	s->parked = p->next;
	if (!s->parked)
		s->parked_tail = NULL;
	free(p);
}

/* The parked requests in their order: as many as the lock lets through
 * now; those past their time get 503. */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;
	struct timeval tv = { 0, TX_RETRY_MS * 1000 };
	int64_t now = mono_ms();

	while (s->parked) {
		struct parked *p = s->parked;

		if (!run_tx(p->req, s, p->fn)) {
			pop(s);
			continue;
		}
		/* still locked: the late ones are told to come back */
		while (s->parked && s->parked->deadline_ms <= now) {
			reply_busy(s->parked->req);
			pop(s);
		}
		break;
	}
	if (s->parked)
		evtimer_add(s->retry, &tv);
}

/* The client went away while its request waited: forget it (libevent
 * frees the request with the connection). */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	struct srv *s = arg;

	for (struct parked **pp = &s->parked; *pp;) {
		struct parked *p = *pp;

		if (p->evcon != evcon) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		free(p);
	}
	s->parked_tail = NULL;
	for (struct parked *p = s->parked; p; p = p->next)
		s->parked_tail = p;
}

static void in_tx(struct evhttp_request *req, struct srv *s,
		  void (*fn)(struct evhttp_request *req, void *arg))
{
	struct timeval tv = { 0, TX_RETRY_MS * 1000 };
	struct parked *p;

	/* behind those already waiting, not before them */
	if (!s->parked && !run_tx(req, s, fn))
		return;
	p = s->retry ? calloc(1, sizeof(*p)) : NULL;
	if (!p || !(p->evcon = evhttp_request_get_connection(req))) {
		free(p);
		reply_busy(req);
		return;
	}
	p->req = req;
	p->fn = fn;
	p->deadline_ms = mono_ms() + TX_WAIT_MS;
	if (s->parked_tail)
		s->parked_tail->next = p;
	else
		s->parked = p;
	s->parked_tail = p;
	evhttp_connection_set_closecb(p->evcon, on_conn_close, s);
	if (!evtimer_pending(s->retry, NULL))
		evtimer_add(s->retry, &tv);
}

static void tx_bootstrap(struct evhttp_request *req, void *arg)
{
	in_tx(req, arg, on_bootstrap);
}

static void tx_bootstrap_3gpp(struct evhttp_request *req, void *arg)
{
	in_tx(req, arg, on_bootstrap_3gpp);
}

static void tx_reauth(struct evhttp_request *req, void *arg)
{
	in_tx(req, arg, on_reauth);
}

static void tx_password(struct evhttp_request *req, void *arg)
{
	in_tx(req, arg, on_password);
}

static void tx_certificate(struct evhttp_request *req, void *arg)
{
	in_tx(req, arg, on_certificate);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct srv *s = arg;

	if (sig == SIGHUP) {
		char err[256];

		/* a new CRL (operators refresh them): the AS store again */
		if (s->cfg->as_crl[0]) {
			X509_STORE *n = tls_store_load(s->cfg->as_ca, err,
						       sizeof(err));

			if (n && !tls_store_add_crl(n, s->cfg->as_crl, err,
						    sizeof(err))) {
				X509_STORE_free(s->as_store);
				s->as_store = n;
				log_info("CRL %s reloaded", s->cfg->as_crl);
			} else {
				X509_STORE_free(n);
				log_error("reload CRL (the old one stays): %s",
					  err);
			}
		}
		/* decoys follow the verifiers xcrs-authsrv-admin wrote */
		s->decoy_iter = store_pw_iter_common(s->st, SCRAM_ITER_DEFAULT);
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
		"                     and the database (and as_crl,\n"
		"                     key_encryption_key); print 'FILE: ok'\n"
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
	log_set_daemon(!check);
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
	if (s.cfg->key_encryption_key[0]) {
		uint8_t kek[32];

		if (store_kek_load(s.cfg->key_encryption_key, kek, err,
				   sizeof(err))) {
			log_error("%s", err);
			goto out;
		}
		store_set_kek(s.st, kek);
		OPENSSL_cleanse(kek, sizeof(kek));
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
	/* serving: a lock another process holds costs the loop 10 ms at a
	 * time (a bootstrap then waits parked, in_tx), not SQLite's 10 s */
	store_set_busy_ms(s.st, 10);
	s.decoy_iter = store_pw_iter_common(s.st, SCRAM_ITER_DEFAULT);
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
	evhttp_set_cb(s.http, "/v1/bootstrap", tx_bootstrap, &s);
	evhttp_set_cb(s.http, "/", tx_bootstrap_3gpp, &s);
	evhttp_set_cb(s.http, "/v1/reauth", tx_reauth, &s);
	evhttp_set_cb(s.http, "/v1/bootstrap/password", tx_password, &s);
	evhttp_set_cb(s.http, "/v1/bootstrap/certificate", tx_certificate,
		      &s);
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
	s.retry = evtimer_new(s.base, on_retry, &s);
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
	while (s.parked) /* their connections go with evhttp_free */
		pop(&s);
	if (s.retry)
		event_free(s.retry);
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
