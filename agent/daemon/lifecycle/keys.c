// SPDX-License-Identifier: GPL-2.0-only
/* Terminal keys (see keys.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "keys.h"

struct keys {
	struct loop *loop;
	struct crsap_keyring *file; /* NULL: reports are off */
	struct gbakeys *gba;	    /* NULL: no authsrv */
	gbakeys_ready_fn ready;
	void *ready_ctx;
};

static const struct crsap_keyring no_keys;

static void on_ready(void *ctx, const char *id, bool ok)
{
	struct keys *k = ctx;

	if (k->ready)
		k->ready(k->ready_ctx, id, ok);
}

int keys_load(const struct policy *np, struct crsap_keyring **ret_ring,
	      char *err, size_t errlen)
{
	*ret_ring = NULL;
	if (!np->reports.enabled)
		return 0;
	return crsap_keyring_load(np->reports.keys_file, ret_ring, err,
				  errlen);
}

void keys_take(struct keys *k, struct crsap_keyring *ring)
{
	crsap_keyring_free(k->file);
	k->file = ring;
}

int keys_new(struct loop *l, const struct policy *p, struct keys **ret_keys,
	     char *err, size_t errlen)
{
	struct keys *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	k->loop = l;
	r = keys_load(p, &k->file, err, errlen);
	if (!r && p->reports.enabled && p->reports.authsrv.enabled)
		r = gbakeys_open(l, &p->reports.authsrv, on_ready, k, &k->gba,
				 err, errlen);
	if (r) {
		keys_free(k);
		return r;
	}
	*ret_keys = k;
	return 0;
}

void keys_free(struct keys *k)
{
	if (!k)
		return;
	gbakeys_close(k->gba);
	crsap_keyring_free(k->file);
	free(k);
}

void keys_on_ready(struct keys *k, gbakeys_ready_fn fn, void *ctx)
{
	k->ready = fn;
	k->ready_ctx = ctx;
}

const struct crsap_keyring *keys_file(const struct keys *k)
{
	return k->file ? k->file : &no_keys;
}

bool keys_authsrv(const struct keys *k)
{
	return k->gba != NULL;
}

const struct crsap_key *keys_find(const struct keys *k, const char *id)
{
	const struct crsap_key *key = crsap_keyring_find(k->file, id);

	return key ? key : gbakeys_find(k->gba, id);
}

const struct crsap_keyring *keys_cached_ring(const struct keys *k,
					     const char *id)
{
	return gbakeys_find(k->gba, id) ? gbakeys_ring(k->gba) : NULL;
}

int keys_request(struct keys *k, const char *id)
{
	return k->gba ? gbakeys_request(k->gba, id) : -ENOKEY;
}
