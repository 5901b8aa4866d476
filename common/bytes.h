/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Byte-string text forms every xcrs program shares: hex, base64 (RFC 4648
 * §4) and base64url without padding (§5). Pure functions.
 */
#ifndef XCRS_BYTES_H
#define XCRS_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit, or -1. */
int hex_digit(int ch);
/* Decodes exactly 2*n hex digits of s (slen long) into out. 0 or -EINVAL. */
int hex_decode(const char *s, size_t slen, uint8_t *out, size_t n);
/* Lower-case hex of in, NUL-terminated: out holds 2*n + 1. */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Base64 (url = 0: standard alphabet with '=' padding; url = 1: URL-safe
 * alphabet, no padding). b64_len is the text length for n bytes. */
size_t b64_len(size_t n, int url);
/* Writes b64_len(n, url) characters and a NUL into out. */
void b64_encode(const uint8_t *in, size_t n, char *out, int url);
/* Decodes slen characters into out (room for cap bytes); returns the byte
 * count, or -EINVAL for a bad character, length or padding, -ENOSPC. */
long b64_decode(const char *s, size_t slen, uint8_t *out, size_t cap, int url);

#endif
