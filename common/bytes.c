// SPDX-License-Identifier: GPL-2.0-only
/* Hex and base64 forms (see bytes.h). */
#include <errno.h>
#include <string.h>

#include "bytes.h"

int hex_digit(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64_len(size_t n, int url)
{
	return url ? (n * 4 + 2) / 3 : (n + 2) / 3 * 4;
}

void b64_encode(const uint8_t *in, size_t n, char *out, int url)
{
	const char *a = url ? b64_url : b64_std;
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 |
			     (i + 1 < n ? in[i + 1] << 8 : 0);

		out[o++] = a[v >> 18];
		out[o++] = a[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = a[v >> 6 & 63];
		else if (!url)
			out[o++] = '=';
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
}

static int b64_val(int ch, int url)
{
	const char *a = url ? b64_url : b64_std;
	const char *p = ch ? strchr(a, ch) : NULL;

	return p ? (int)(p - a) : -1;
}

long b64_decode(const char *s, size_t slen, uint8_t *out, size_t cap, int url)
{
	size_t pad = 0, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (!url) {
		if (slen % 4)
			return -EINVAL;
		while (pad < 2 && slen > pad && s[slen - 1 - pad] == '=')
			pad++;
		slen -= pad;
	} else if (slen % 4 == 1) {
		return -EINVAL;
	}
	for (size_t i = 0; i < slen; i++) {
		int v = b64_val((unsigned char)s[i], url);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -ENOSPC;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (canonical encoding only). */
	if (bits && (acc & ((1u << bits) - 1)))
		return -EINVAL;
	return (long)o;
}
