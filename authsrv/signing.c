// SPDX-License-Identifier: GPL-2.0-only
/* The assertion signing keys in the store (see signing.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "signing.h"
#include "tlsutil.h"

int signing_rotate(struct store *st, char kid[AS_KID], char *err,
		   size_t errlen)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	BIO *b = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long n;
	int rc = -EIO;

	if (!k || !b || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
						  NULL) ||
	    as_kid(k, kid)) {
		snprintf(err, errlen, "key generation: %s", tls_errstr());
		goto out;
	}
	n = BIO_get_mem_data(b, &pem);
	pem = strndup(pem, (size_t)n);
	if (!pem)
		goto out;
	rc = store_key_add(st, kid, pem, (int64_t)time(NULL));
	if (rc)
		snprintf(err, errlen, "%s", store_errmsg(st));
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
out:
	BIO_free(b);
	EVP_PKEY_free(k);
	return rc;
}

static EVP_PKEY *from_pem(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

int signing_load(struct signing *s, struct store *st, bool create, char *err,
		 size_t errlen)
{
	struct signing n = { 0 };
	struct key_rec *keys = NULL;
	size_t cnt = 0;
	int rc;

	err[0] = '\0';
	rc = store_key_list(st, &keys, &cnt);
	if (!rc && !cnt && create) {
		char kid[AS_KID];

		rc = signing_rotate(st, kid, err, errlen);
		if (!rc)
			rc = store_key_list(st, &keys, &cnt);
	}
	if (rc) {
		if (!err[0])
			snprintf(err, errlen, "%s", store_errmsg(st));
		return rc;
	}
	for (size_t i = 0; i < cnt && n.pub.n < AS_KEYS_MAX; i++) {
		EVP_PKEY *k = from_pem(keys[i].pem);

		if (!k) {
			snprintf(err, errlen, "signing key %s: unreadable",
				 keys[i].kid);
			rc = -EINVAL;
			break;
		}
		as_keyset_add(&n.pub, k);
		if (i == 0) {
			n.sign = k;
			snprintf(n.kid, sizeof(n.kid), "%s", keys[i].kid);
		} else {
			EVP_PKEY_free(k);
		}
	}
	store_keys_free(keys, cnt);
	if (rc) {
		signing_free(&n);
		return rc;
	}
	signing_free(s);
	*s = n;
	return 0;
}

void signing_free(struct signing *s)
{
	EVP_PKEY_free(s->sign);
	as_keyset_free(&s->pub);
	memset(s, 0, sizeof(*s));
}
