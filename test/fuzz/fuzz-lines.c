// SPDX-License-Identifier: GPL-2.0-only
/* The agent's line protocols: control requests, session-feed lines. */
#include <stdint.h>

#include "lineproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_req r;
	struct xcrs_addr a;
	bool connect;
	char err[256];

	ctl_parse((const char *)data, size, &r, err, sizeof(err));
	session_line_parse((const char *)data, size, &connect, &a);
	{
		struct session_fact f;

		session_fact_parse((const char *)data, size, &f, err,
				   sizeof(err));
	}
	return 0;
}
