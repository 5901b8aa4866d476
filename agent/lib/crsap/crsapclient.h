/* SPDX-License-Identifier: GPL-2.0-only */
/* The client side of a CRSAP TLS connection (an SCA to its SCS, an SCS to
 * a peer SCS): connect with a timeout and check the server's certificate,
 * read one frame with a timeout. Blocking. */
#ifndef XCRS_CRSAPCLIENT_H
#define XCRS_CRSAPCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>

/* TLS 1.3 to server (HOST:PORT, [v6]:PORT) whose certificate chains to ca
 * and names name (NULL: the host). 0; -EINVAL (server not HOST:PORT),
 * -ECONNREFUSED, -EPROTO with the reason in err. */
int crsap_tls_connect(const char *server, const char *ca, const char *name,
		      int timeout_ms, SSL_CTX **rctx, SSL **rssl, int *rfd,
		      char *err, size_t errlen);
/* One frame into buf (cap bytes); *out and *len are its body after the
 * length prefix. 0, -1 EOF or error, -2 timeout. */
int crsap_read_frame(SSL *ssl, int fd, int timeout_ms, uint8_t *buf,
		     size_t cap, uint8_t **out, size_t *len);

#endif
