// SPDX-License-Identifier: GPL-2.0-only
/* Client side of CRSAP over TLS (see crsapclient.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "crsap.h"
#include "crsapclient.h"

/* connect(2) that gives up after ms (a peer whose traffic the network
 * drops would otherwise wait for TCP's retries). */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t len,
			  int ms)
{
	int fl = fcntl(fd, F_GETFL), err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (connect(fd, sa, len) && errno != EINPROGRESS)
		return -1;
	if (poll(&p, 1, ms) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
		errno = err ? err : errno;
		return -1;
	}
	fcntl(fd, F_SETFL, fl);
	return 0;
}

int crsap_tls_connect(const char *server, const char *ca, const char *name,
		      int timeout_ms, SSL_CTX **rctx, SSL **rssl, int *rfd,
		      char *err, size_t errlen)
{
	char host[256], port[8];
	const char *colon = strrchr(server, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };
	unsigned char tmp[16];
	SSL_CTX *ctx;
	SSL *ssl;
	size_t hl;
	int fd = -1, e;

	if (!colon || (hl = (size_t)(colon - server)) >= sizeof(host) ||
	    strlen(colon + 1) >= sizeof(port)) {
		snprintf(err, errlen, "%s: expected HOST:PORT", server);
		return -EINVAL;
	}
	memcpy(host, server, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		memmove(host, host + 1, hl);
	}
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (!name)
		name = host;
	e = getaddrinfo(host, port, &hints, &ai);
	if (e) {
		snprintf(err, errlen, "%s: %s", server, gai_strerror(e));
		return -ECONNREFUSED;
	}
	for (struct addrinfo *p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect_within(fd, p->ai_addr, p->ai_addrlen,
					      timeout_ms) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		snprintf(err, errlen, "connecting to %s: %s", server,
			 strerror(errno));
		return -ECONNREFUSED;
	}
	/* the handshake too must not hang forever */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		unsigned long q = ERR_get_error();

		snprintf(err, errlen, "CA file %s: %s", ca,
			 q ? ERR_error_string(q, NULL) : "unreadable");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		close(fd);
		return -EPROTO;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	/* the certificate must name what we asked for */
	if (inet_pton(AF_INET, name, tmp) == 1 ||
	    inet_pton(AF_INET6, name, tmp) == 1)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
	else {
		SSL_set1_host(ssl, name);
		SSL_set_tlsext_host_name(ssl, name);
	}
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		unsigned long q = ERR_get_error();

		snprintf(err, errlen, "TLS with %s failed%s%s%s%s", server,
			 v != X509_V_OK ? ": " : "",
			 v != X509_V_OK ? X509_verify_cert_error_string(v) : "",
			 q ? ": " : "", q ? ERR_error_string(q, NULL) : "");
		ERR_clear_error();
		SSL_free(ssl);
		SSL_CTX_free(ctx);
		close(fd);
		return -EPROTO;
	}
	*rctx = ctx;
	*rssl = ssl;
	*rfd = fd;
	return 0;
}

int crsap_read_frame(SSL *ssl, int fd, int timeout_ms, uint8_t *buf,
		     size_t cap, uint8_t **out, size_t *len)
{
	size_t have = 0;
	long need = 0;

	for (;;) {
		int n;

		if (have >= 4) {
			need = crsap_frame_size(buf, have);
			if (need < 0 || (size_t)need > cap)
				return -1;
			if (have >= (size_t)need)
				break;
		}
		if (!SSL_pending(ssl)) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			int r = poll(&p, 1, timeout_ms);

			if (r == 0)
				return -2;
			if (r < 0)
				return -1;
		}
		n = SSL_read(ssl, buf + have,
			     (int)((have >= 4 ? (size_t)need : 4) - have));
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	*out = buf + 4;
	*len = (size_t)need - 4;
	return 0;
}
