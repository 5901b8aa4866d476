// SPDX-License-Identifier: GPL-2.0-only
/* A RADIUS accounting load generator (see radgen.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/evp.h>

#include "radgen.h"
#include "radius.h"

static uint64_t mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static size_t put(uint8_t *p, uint8_t t, const void *v, size_t n)
{
	p[0] = t;
	p[1] = (uint8_t)(n + 2);
	memcpy(p + 2, v, n);
	return n + 2;
}

static size_t attrs(uint8_t *p, int status, uint32_t i)
{
	uint8_t st[4] = { 0, 0, 0, (uint8_t)status }, v4[4], v6[10] = { 0, 64 },
		vsa[4 + 2 + 15] = { 0, 0, 0x28, 0xaf, 1, 17 };
	char sess[24], imsi[16];
	size_t n = 0;
	uint32_t a = (198u << 24 | 18u << 16) + (i & 0x1ffff);

	snprintf(sess, sizeof(sess), "g%u", i);
	snprintf(imsi, sizeof(imsi), "00101%010u", i);
	v4[0] = (uint8_t)(a >> 24);
	v4[1] = (uint8_t)(a >> 16);
	v4[2] = (uint8_t)(a >> 8);
	v4[3] = (uint8_t)a;
	v6[2] = 0x20, v6[3] = 0x01, v6[4] = 0x0d, v6[5] = 0xb8;
	v6[6] = (uint8_t)(i >> 24), v6[7] = (uint8_t)(i >> 16);
	v6[8] = (uint8_t)(i >> 8), v6[9] = (uint8_t)i;
	memcpy(vsa + 6, imsi, 15);
	n += put(p + n, RADIUS_A_STATUS_TYPE, st, 4);
	n += put(p + n, RADIUS_A_SESSION_ID, sess, strlen(sess));
	n += put(p + n, RADIUS_A_NAS_ID, "radgen", 6);
	n += put(p + n, RADIUS_A_VENDOR, vsa, sizeof(vsa));
	if (status == RADIUS_START) {
		n += put(p + n, RADIUS_A_FRAMED_IP, v4, 4);
		n += put(p + n, RADIUS_A_FRAMED_IPV6_PREFIX, v6, sizeof(v6));
		n += put(p + n, RADIUS_A_CALLED_STATION, "internet", 8);
	}
	return n;
}

struct slot {
	uint32_t req; /* request number, UINT32_MAX free */
	uint64_t sent;
	uint8_t pkt[512];
	size_t len;
};

int radgen_run(const struct tn_ns *ns, unsigned port, const char *secret,
	       int status, uint32_t first, uint32_t n, unsigned window,
	       struct radgen_result *res)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct slot *sl;
	uint64_t t0, done = 0, next = 0;
	size_t slen = strlen(secret);
	int fd, r = 0;

	if (window < 1 || window > 256)
		return -EINVAL;
	sl = calloc(256, sizeof(*sl));
	if (!sl)
		return -ENOMEM;
	for (int i = 0; i < 256; i++)
		sl[i].req = UINT32_MAX;
	if (ns && tn_enter(ns)) {
		free(sl);
		return -EIO;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (ns)
		tn_leave();
	if (fd < 0) {
		free(sl);
		return -errno;
	}
	t0 = mono();
	while (done < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t buf[256];
		ssize_t got;

		/* fill the window: Identifier = slot */
		while (next < n && next - done < window) {
			uint8_t a[400];
			int id = -1;

			for (int k = 0; k < 256; k++)
				if (sl[(next + (uint64_t)k) & 255].req ==
				    UINT32_MAX) {
					id = (int)((next + (uint64_t)k) & 255);
					break;
				}
			if (id < 0)
				break;
			sl[id].len = (size_t)radius_build_request(
				(uint8_t)id, a,
				attrs(a, status, first + (uint32_t)next), false,
				(const uint8_t *)secret, slen, sl[id].pkt,
				sizeof(sl[id].pkt));
			sl[id].req = (uint32_t)next;
			sl[id].sent = mono();
			sendto(fd, sl[id].pkt, sl[id].len, 0, (void *)&to,
			       sizeof(to));
			res->sent++;
			next++;
		}
		if (poll(&p, 1, 1000) <= 0) {
			/* lost (a full socket buffer): send again */
			int any = 0;

			for (int k = 0; k < 256; k++)
				if (sl[k].req != UINT32_MAX) {
					sendto(fd, sl[k].pkt, sl[k].len, 0,
					       (void *)&to, sizeof(to));
					res->resent++;
					any = 1;
				}
			if (!any || res->resent > n) {
				r = -ETIMEDOUT;
				break;
			}
			continue;
		}
		got = recv(fd, buf, sizeof(buf), 0);
		if (got == RADIUS_HDR && buf[0] == RADIUS_ACCT_RESPONSE &&
		    sl[buf[1]].req != UINT32_MAX) {
			struct slot *s = &sl[buf[1]];
			uint8_t want[16], tmp[RADIUS_HDR + 128];
			EVP_MD_CTX *c = EVP_MD_CTX_new();
			unsigned ml = 16;

			/* the Response Authenticator (RFC 2866 3) */
			memcpy(tmp, buf, 4);
			memcpy(tmp + 4, s->pkt + 4, 16);
			memcpy(tmp + RADIUS_HDR, secret, slen);
			EVP_DigestInit_ex(c, EVP_md5(), NULL);
			EVP_DigestUpdate(c, tmp, RADIUS_HDR + slen);
			EVP_DigestFinal_ex(c, want, &ml);
			EVP_MD_CTX_free(c);
			if (memcmp(want, buf + 4, 16))
				continue;
			if (res->lat)
				res->lat[s->req] = mono() - s->sent;
			s->req = UINT32_MAX;
			res->answered++;
			done++;
		}
	}
	res->secs = (double)(mono() - t0) / 1e9;
	close(fd);
	free(sl);
	return r;
}
