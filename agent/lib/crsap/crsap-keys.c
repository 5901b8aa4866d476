// SPDX-License-Identifier: GPL-2.0-only
/* CRSAP (see crsap.h): the terminal key file and the replay cache. */
#include "crsap-internal.h"

/* ---- keys ----------------------------------------------------------------- */

int crsap_keyring_load(const char *path, struct crsap_keyring **ret,
		       char *err, size_t errlen)
{
	struct crsap_keyring *kr;
	struct stat st;
	char line[512];
	unsigned lineno = 0;
	int fd, ret_err = 0;
	FILE *f;

	if (!path[0]) { /* no key file: an empty keyring */
		*ret = calloc(1, sizeof(**ret));
		return *ret ? 0 : -ENOMEM;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret_err = -errno;
		cx_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return ret_err;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077)) {
		cx_seterr(err, errlen,
		       "%s: readable or writable by group or others (mode "
		       "%03o); chmod 600 it", path, st.st_mode & 0777);
		close(fd);
		return -EPERM;
	}
	f = fdopen(fd, "r");
	kr = calloc(1, sizeof(*kr));
	if (!f || !kr) {
		if (f)
			fclose(f);
		else
			close(fd);
		free(kr);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		char *tok[4] = {0}, *save = NULL, *p;
		struct crsap_key k = {0};
		size_t ntok = 0, hexlen;
		void *grow;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			cx_seterr(err, errlen, "%s:%u: line too long", path,
			       lineno);
			ret_err = -EINVAL;
			break;
		}
		if ((p = strchr(line, '#')))
			*p = '\0';
		for (p = strtok_r(line, " \t\r\n", &save); p && ntok < 4;
		     p = strtok_r(NULL, " \t\r\n", &save))
			tok[ntok++] = p;
		if (!ntok)
			continue;
		if (ntok != 3 && ntok != 4) {
			cx_seterr(err, errlen,
			       "%s:%u: expected \"ID ADDRESS KEY [imsi:DIGITS]\"",
			       path, lineno);
			ret_err = -EINVAL;
			break;
		}
		if (ntok == 4) {
			size_t n = strlen(tok[3]);
			bool ok = !strncmp(tok[3], "imsi:", 5) && n >= 10 &&
				  n <= 20;

			for (size_t i = 5; ok && i < n; i++)
				ok = tok[3][i] >= '0' && tok[3][i] <= '9';
			if (!ok) {
				cx_seterr(err, errlen,
				       "%s:%u: \"%s\": the subscriber is "
				       "imsi: and 5 to 15 digits", path,
				       lineno, tok[3]);
				ret_err = -EINVAL;
				break;
			}
			snprintf(k.subscriber, sizeof(k.subscriber), "%s",
				 tok[3]);
		}
		if (!crsap_id_valid(tok[0])) {
			cx_seterr(err, errlen,
			       "%s:%u: terminal id \"%s\": 1-%d of "
			       "A-Z a-z 0-9 . _ : @ -", path, lineno, tok[0],
			       CRSAP_ID_MAX);
			ret_err = -EINVAL;
			break;
		}
		if (crsap_keyring_find(kr, tok[0])) {
			cx_seterr(err, errlen, "%s:%u: terminal \"%s\" listed twice",
			       path, lineno, tok[0]);
			ret_err = -EINVAL;
			break;
		}
		snprintf(k.id, sizeof(k.id), "%s", tok[0]);
		if (!strcmp(tok[1], "peer")) {
			k.peer = true;
		} else if (addr_parse(tok[1], &k.addr)) {
			cx_seterr(err, errlen,
			       "%s:%u: \"%s\" is not an address or \"peer\"",
			       path, lineno, tok[1]);
			ret_err = -EINVAL;
			break;
		}
		hexlen = strlen(tok[2]);
		k.keylen = hexlen / 2;
		if (hexlen % 2 || k.keylen < CRSAP_KEY_MIN ||
		    k.keylen > CRSAP_KEY_MAX ||
		    hex_decode(tok[2], hexlen, k.key, k.keylen)) {
			cx_seterr(err, errlen,
			       "%s:%u: key must be %d to %d hex digits", path,
			       lineno, 2 * CRSAP_KEY_MIN, 2 * CRSAP_KEY_MAX);
			ret_err = -EINVAL;
			break;
		}
		grow = realloc(kr->keys, (kr->nkeys + 1) * sizeof(k));
		if (!grow) {
			ret_err = -ENOMEM;
			break;
		}
		kr->keys = grow;
		kr->keys[kr->nkeys++] = k;
		OPENSSL_cleanse(&k, sizeof(k));
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	if (ret_err) {
		crsap_keyring_free(kr);
		return ret_err;
	}
	*ret = kr;
	return 0;
}

const struct crsap_key *crsap_keyring_find(const struct crsap_keyring *kr,
					   const char *id)
{
	for (size_t i = 0; kr && i < kr->nkeys; i++)
		if (!strcmp(kr->keys[i].id, id))
			return &kr->keys[i];
	return NULL;
}

void crsap_keyring_free(struct crsap_keyring *kr)
{
	if (!kr)
		return;
	if (kr->keys)
		OPENSSL_cleanse(kr->keys, kr->nkeys * sizeof(*kr->keys));
	free(kr->keys);
	free(kr);
}

/* ---- replay cache ------------------------------------------------------- */

/* Open addressing on the first 16 bytes of SHA-256(id NUL nonce); an
 * entry whose expiry has passed is free. */
struct replay_slot {
	uint8_t h[16];
	uint64_t expire_ms; /* 0 = never used */
};

struct crsap_replay {
	struct replay_slot *slots;
	size_t cap; /* power of two, twice the capacity asked for */
	size_t live, limit;
};

int crsap_replay_new(size_t capacity, struct crsap_replay **ret)
{
	struct crsap_replay *rp = calloc(1, sizeof(*rp));
	size_t cap = 16;

	if (!rp)
		return -ENOMEM;
	while (cap < 2 * capacity)
		cap <<= 1;
	rp->slots = calloc(cap, sizeof(*rp->slots));
	if (!rp->slots) {
		free(rp);
		return -ENOMEM;
	}
	rp->cap = cap;
	rp->limit = capacity;
	*ret = rp;
	return 0;
}

void crsap_replay_free(struct crsap_replay *rp)
{
	if (!rp)
		return;
	free(rp->slots);
	free(rp);
}

size_t crsap_replay_count(const struct crsap_replay *rp)
{
	return rp->live;
}

/* Rebuilds the table without expired entries (linear probing cannot
 * delete in place). */
static void replay_purge(struct crsap_replay *rp, uint64_t now_ms)
{
	size_t cap = rp->cap;
	struct replay_slot *old = rp->slots;
	struct replay_slot *fresh = calloc(cap, sizeof(*fresh));

	if (!fresh)
		return;
	rp->live = 0;
	for (size_t i = 0; i < cap; i++) {
		size_t j;

		if (old[i].expire_ms <= now_ms)
			continue;
		memcpy(&j, old[i].h, sizeof(j));
		for (j &= cap - 1; fresh[j].expire_ms; j = (j + 1) & (cap - 1))
			;
		fresh[j] = old[i];
		rp->live++;
	}
	free(old);
	rp->slots = fresh;
}

int crsap_replay_add(struct crsap_replay *rp, const char *id,
		     const char *nonce, uint64_t expire_ms, uint64_t now_ms)
{
	uint8_t d[SHA256_DIGEST_LENGTH];
	size_t idl = strlen(id), nl = strlen(nonce), j;
	char buf[CRSAP_ID_MAX + 2 + CRSAP_NONCE_HEX + 1];
	EVP_MD_CTX *md;
	unsigned int dl = 0;

	if (idl > CRSAP_ID_MAX || nl > CRSAP_NONCE_HEX)
		return -EINVAL;
	memcpy(buf, id, idl + 1);
	memcpy(buf + idl + 1, nonce, nl);
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
	    !EVP_DigestUpdate(md, buf, idl + 1 + nl) ||
	    !EVP_DigestFinal_ex(md, d, &dl)) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	EVP_MD_CTX_free(md);
	memcpy(&j, d, sizeof(j));
	for (j &= rp->cap - 1; rp->slots[j].expire_ms;
	     j = (j + 1) & (rp->cap - 1)) {
		if (!memcmp(rp->slots[j].h, d, 16) &&
		    rp->slots[j].expire_ms > now_ms)
			return -EALREADY;
	}
	if (rp->live >= rp->limit) {
		replay_purge(rp, now_ms);
		if (rp->live >= rp->limit)
			return -ENOSPC;
		/* positions moved: probe again */
		memcpy(&j, d, sizeof(j));
		for (j &= rp->cap - 1; rp->slots[j].expire_ms;
		     j = (j + 1) & (rp->cap - 1))
			;
	}
	memcpy(rp->slots[j].h, d, 16);
	rp->slots[j].expire_ms = expire_ms;
	rp->live++;
	return 0;
}
