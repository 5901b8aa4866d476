// SPDX-License-Identifier: GPL-2.0-only
/* RADIUS accounting requests (the packet core's session feed): the
 * strict codec, the authenticator checks and the response. */
#include <stdint.h>

#include "radius.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t secret[] = "testing123";
	struct radius_acct a;
	uint8_t out[RADIUS_MAX];
	char err[256];

	if (radius_parse(data, size, &a, err, sizeof(err)))
		return 0;
	if (!radius_verify(data, &a, secret, sizeof(secret) - 1))
		radius_response(&a, secret, sizeof(secret) - 1, out,
				sizeof(out));
	return 0;
}
