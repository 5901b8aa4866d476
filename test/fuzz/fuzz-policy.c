// SPDX-License-Identifier: GPL-2.0-only
/* The policy YAML loader (the agent's policy and authsrv's config). */
#include <stdint.h>
#include <stdlib.h>

#include "authsrv_config.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_error err;
	struct policy *p = NULL;
	struct authsrv_config *c = NULL;

	if (policy_load_string((const char *)data, size, "fuzz.yaml", &p,
			       &err) == 0)
		policy_free(p);
	if (authsrv_config_load_string((const char *)data, size, "fuzz.yaml",
				       &c, &err) == 0)
		authsrv_config_free(c);
	return 0;
}
