// SPDX-License-Identifier: GPL-2.0-only
/* Sensor events: Suricata EVE JSON and the generic JSON-lines alert, as
 * read from a socket or a followed file, into correlation events. */
#include <stdbool.h>
#include <stdint.h>

#include "events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool any(void *ctx, const struct xcrs_addr *a)
{
	return a->a[15] & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_alert a;
	struct corr_event ev;
	char err[256];

	if (size > EV_LINE_MAX)
		return 0; /* the readers cut longer lines */
	if (ev_parse_eve((const char *)data, size, &a, err, sizeof(err)) == 1)
		ev_to_corr(&a, any, NULL, "eve", &ev);
	if (ev_parse_generic((const char *)data, size, &a, err,
			     sizeof(err)) == 1)
		ev_to_corr(&a, any, NULL, "generic", &ev);
	return 0;
}
