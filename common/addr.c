// SPDX-License-Identifier: GPL-2.0-only
/*
 * Address and prefix text forms (see addr.h).
 */
#include <arpa/inet.h>
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

int addr_parse(const char *s, struct xcrs_addr *ret_addr)
{
	struct xcrs_addr a = { 0 };
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		a.a[10] = a.a[11] = 0xff;
		memcpy(&a.a[12], &v4, 4);
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

void addr_format(const struct xcrs_addr *a, char *buf, size_t len)
{
	if (addr_is_v4(a))
		inet_ntop(AF_INET, &a->a[12], buf, len);
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
