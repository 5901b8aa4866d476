/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Addresses and prefixes in the form every xcrs map key uses: 16 bytes,
 * network order, IPv4 mapped (::ffff:a.b.c.d). Prefix lengths are always
 * of the 128-bit form (an IPv4 /24 is 120). Pure functions, no I/O.
 * Parsers return 0 or -EINVAL (-EDOM for host bits set in a prefix) and
 * write their out-parameters only on success.
 */
#ifndef XCRS_ADDR_H
#define XCRS_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>

#include "xcrs_abi.h"

/* Text long enough for any address or prefix addr_format() writes. */
#define ADDR_STRLEN 52

int addr_parse(const char *s, struct xcrs_addr *ret_addr);
/* An IPv4 address (4 bytes, network order) in the 128-bit form. */
void addr_from_v4(const void *v4, struct xcrs_addr *ret_addr);
/* The address of an AF_INET or AF_INET6 socket address. */
int addr_from_sockaddr(const struct sockaddr_storage *ss,
		       struct xcrs_addr *ret_addr);
/* "a/len"; a bare address is a host prefix. */
int addr_prefix_parse(const char *s, struct xcrs_addr *ret_addr,
		      unsigned *ret_plen);
bool addr_is_v4(const struct xcrs_addr *a);
/* Clears the bits past plen. */
void addr_mask(struct xcrs_addr *a, unsigned plen);
/* Whether inner/iplen lies within outer/oplen. */
bool addr_prefix_contains(const struct xcrs_addr *outer, unsigned oplen,
			  const struct xcrs_addr *inner, unsigned iplen);
/* IPv4 for mapped addresses, else IPv6; len >= ADDR_STRLEN. */
void addr_format(const struct xcrs_addr *a, char *buf, size_t len);
/* "a/len" with an IPv4 length for mapped prefixes. */
void addr_prefix_format(const struct xcrs_addr *a, unsigned plen, char *buf,
			size_t len);

/* A listening address: "192.0.2.1:7443", "[2001:db8::1]:7443" or
 * "*:7443" (every address, IPv6 and IPv4). 0 or -EINVAL. */
int addr_listen_parse(const char *s, struct sockaddr_storage *ss,
		      socklen_t *sl);

#endif
