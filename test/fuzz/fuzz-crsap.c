// SPDX-License-Identifier: GPL-2.0-only
/* CRSAP as it arrives from a terminal, an SCA or a peer SCS: the frame
 * (length prefix, id, MAC, body) and every message codec on the body. */
#include <stdint.h>
#include <string.h>

#include "crsap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bodies(const uint8_t *b, size_t n)
{
	char err[256], root[64];
	struct crsap_report rep;
	struct crsap_response rsp;
	struct crsap_probe pr;
	struct crsap_probe_response prr;
	struct crsap_update up;
	struct crsap_nac nac;

	crsap_root(b, n, root, sizeof(root));
	crsap_report_parse(b, n, &rep, err, sizeof(err));
	crsap_response_parse(b, n, &rsp, err, sizeof(err));
	crsap_probe_parse(b, n, &pr, err, sizeof(err));
	crsap_probe_response_parse(b, n, &prr, err, sizeof(err));
	crsap_update_parse(b, n, &up, err, sizeof(err));
	crsap_nac_parse(b, n, &nac, err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = { 1, 2, 3 };
	struct crsap_frame f;
	char err[256];
	long fs = crsap_frame_size(data, size);

	/* A frame as read from a stream: prefix, then the rest. */
	if (fs > 4 && (size_t)fs <= size &&
	    crsap_frame_split(data + 4, (size_t)fs - 4, &f, err,
			      sizeof(err)) == 0) {
		crsap_frame_verify(&f, key, sizeof(key));
		crsap_id_valid(f.id);
		bodies(f.body, f.body_len);
	}
	/* And the input as a bare body. */
	bodies(data, size);
	return 0;
}
