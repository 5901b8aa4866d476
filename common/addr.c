// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address and prefix text forms (see addr.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

bool addr_is_v4(const struct xcrs_addr *a)
{
	static const __u8 pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a->a, pfx, sizeof(pfx));
}

void addr_from_v4(const void *v4, struct xcrs_addr *ret_addr)
{
	memset(ret_addr, 0, sizeof(*ret_addr));
	ret_addr->a[10] = ret_addr->a[11] = 0xff;
	memcpy(&ret_addr->a[12], v4, 4);
}

int addr_from_sockaddr(const struct sockaddr_storage *ss,
		       struct xcrs_addr *ret_addr)
{
	if (ss->ss_family == AF_INET)
		addr_from_v4(&((const struct sockaddr_in *)ss)->sin_addr,
			     ret_addr);
	else if (ss->ss_family == AF_INET6)
		memcpy(ret_addr->a,
		       &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	else
		return -EAFNOSUPPORT;
	return 0;
}

int addr_parse(const char *s, struct xcrs_addr *ret_addr)
{
	struct xcrs_addr a = { 0 };
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		addr_from_v4(&v4, &a);
	} else if (inet_pton(AF_INET6, s, a.a) != 1) {
		return -EINVAL;
	}
	*ret_addr = a;
	return 0;
}

void addr_mask(struct xcrs_addr *a, unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;

		if (bits >= 8)
			continue;
		a->a[i] &= (__u8)(0xff00 >> bits);
	}
}

int addr_prefix_parse(const char *s, struct xcrs_addr *ret_addr,
		      unsigned *ret_plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct xcrs_addr a, m;
	const char *slash;
	unsigned long plen;
	char *end;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	if (addr_parse(buf, &a))
		return -EINVAL;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (errno || *end)
			return -EINVAL;
	} else {
		plen = addr_is_v4(&a) ? 32 : 128;
	}
	if (addr_is_v4(&a) && !strchr(buf, ':')) {
		if (plen > 32)
			return -EINVAL;
		plen += 96;
	} else if (plen > 128) {
		return -EINVAL;
	}
	m = a;
	addr_mask(&m, plen);
	if (memcmp(&m, &a, sizeof(a)))
		return -EDOM; /* host bits set */
	*ret_addr = a;
	*ret_plen = plen;
	return 0;
}

bool addr_prefix_contains(const struct xcrs_addr *outer, unsigned oplen,
			  const struct xcrs_addr *inner, unsigned iplen)
{
	struct xcrs_addr m = *inner;

	if (oplen > iplen)
		return false;
	addr_mask(&m, oplen);
	return !memcmp(&m, outer, sizeof(m));
}

/* Dotted quad without printf (addresses are formatted on every session's
 * journal line and log); cut to len like inet_ntop would not, but never
 * past it. */
static void v4_format(const uint8_t *q, char *buf, size_t len)
{
	char t[16], *o = t;
	size_t n;

	for (int i = 0; i < 4; i++) {
		unsigned v = q[i];

		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = '.';
	}
	o[-1] = '\0';
	n = (size_t)(o - t);
	if (!len)
		return;
	if (n > len) {
		n = len;
		t[n - 1] = '\0';
	}
	memcpy(buf, t, n);
}

void addr_format(const struct xcrs_addr *a, char *buf, size_t len)
{
	if (addr_is_v4(a))
		v4_format(&a->a[12], buf, len);
	else
		inet_ntop(AF_INET6, a->a, buf, len);
}

void addr_prefix_format(const struct xcrs_addr *a, unsigned plen, char *buf,
			size_t len)
{
	char t[INET6_ADDRSTRLEN];

	addr_format(a, t, sizeof(t));
	snprintf(buf, len, "%s/%u", t,
		 addr_is_v4(a) && plen >= 96 ? plen - 96 : plen);
}

/* "192.0.2.1:7443", "[2001:db8::1]:7443", "*:7443". */
int addr_listen_parse(const char *s, struct sockaddr_storage *ss,
		      socklen_t *sl)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	unsigned long port;
	char *end;
	size_t hl;

	if (!colon)
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (*end || !port || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		memmove(host, host + 1, hl);
	}
	if (!strcmp(host, "*")) {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
	} else if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*s6);
	} else {
		return -EINVAL;
	}
	return 0;
}
