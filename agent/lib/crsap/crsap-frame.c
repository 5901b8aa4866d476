// SPDX-License-Identifier: GPL-2.0-only
/* CRSAP (see crsap.h): framing, the frame MAC and the verification of SCA messages. */
#include "crsap-internal.h"

void cx_seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

bool crsap_id_valid(const char *id)
{
	size_t n = 0;

	for (; id[n]; n++) {
		unsigned char ch = id[n];

		if (n >= CRSAP_ID_MAX)
			return false;
		if (!isalnum(ch) && !strchr("._:@-+/=", ch))
			return false;
	}
	return n > 0;
}

int crsap_nonce(char out[CRSAP_NONCE_HEX + 1])
{
	uint8_t b[CRSAP_NONCE_HEX / 2];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	hex_encode(b, sizeof(b), out);
	return 0;
}

bool cx_nonce_valid(const char *s)
{
	size_t n = strlen(s);

	if (n != CRSAP_NONCE_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (hex_digit(s[i]) < 0)
			return false;
	return true;
}

/* ---- framing ---------------------------------------------------------- */

long crsap_frame_size(const uint8_t *buf, size_t have)
{
	uint32_t n;

	if (have < 4)
		return 0;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	if (n == 0 || n > CRSAP_FRAME_MAX)
		return -EMSGSIZE;
	return (long)n + 4;
}

int crsap_frame_split(const uint8_t *buf, size_t len, struct crsap_frame *f,
		      char *err, size_t errlen)
{
	const uint8_t *p = buf, *end = buf + len, *sp, *nl;
	size_t idlen;

	memset(f, 0, sizeof(*f));
	if (len < strlen(MAGIC) || memcmp(p, MAGIC, strlen(MAGIC))) {
		cx_seterr(err, errlen, "frame does not start with \"XCRS1 \"");
		return -EBADMSG;
	}
	p += strlen(MAGIC);
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || (idlen = (size_t)(sp - p)) == 0 || idlen > CRSAP_ID_MAX) {
		cx_seterr(err, errlen, "frame header: bad terminal id");
		return -EBADMSG;
	}
	memcpy(f->id, p, idlen);
	f->id[idlen] = '\0';
	if (!crsap_id_valid(f->id)) {
		cx_seterr(err, errlen, "frame header: bad terminal id");
		return -EBADMSG;
	}
	p = sp + 1;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || hex_decode((const char *)p, (size_t)(nl - p), f->mac,
			 CRSAP_MAC_LEN)) {
		cx_seterr(err, errlen, "frame header: MAC is not 64 hex digits");
		return -EBADMSG;
	}
	f->body = nl + 1;
	f->body_len = (size_t)(end - f->body);
	if (!f->body_len) {
		cx_seterr(err, errlen, "frame has no body");
		return -EBADMSG;
	}
	return 0;
}

void cx_mac_of(const uint8_t *key, size_t keylen, const void *body,
		   size_t len, uint8_t out[CRSAP_MAC_LEN])
{
	unsigned int n = CRSAP_MAC_LEN;

	if (!HMAC(EVP_sha256(), key, (int)keylen, body, len, out, &n))
		memset(out, 0, CRSAP_MAC_LEN); /* never matches a real MAC */
}

bool crsap_frame_verify(const struct crsap_frame *f, const uint8_t *key,
			size_t keylen)
{
	uint8_t want[CRSAP_MAC_LEN];
	bool ok;

	cx_mac_of(key, keylen, f->body, f->body_len, want);
	ok = CRYPTO_memcmp(want, f->mac, CRSAP_MAC_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

int crsap_frame_build(const char *id, const uint8_t *key, size_t keylen,
		      const void *body, size_t body_len, uint8_t **out,
		      size_t *out_len)
{
	uint8_t mac[CRSAP_MAC_LEN];
	char hex[2 * CRSAP_MAC_LEN + 1];
	size_t hdr, n;
	uint8_t *b;

	if (!crsap_id_valid(id) || !body_len)
		return -EINVAL;
	hdr = strlen(MAGIC) + strlen(id) + 1 + 2 * CRSAP_MAC_LEN + 1;
	n = hdr + body_len;
	if (n > CRSAP_FRAME_MAX)
		return -EMSGSIZE;
	b = malloc(n + 4);
	if (!b)
		return -ENOMEM;
	cx_mac_of(key, keylen, body, body_len, mac);
	hex_encode(mac, sizeof(mac), hex);
	b[0] = (uint8_t)(n >> 24);
	b[1] = (uint8_t)(n >> 16);
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	snprintf((char *)b + 4, hdr + 1, "%s%s %s\n", MAGIC, id, hex);
	memcpy(b + 4 + hdr, body, body_len);
	*out = b;
	*out_len = n + 4;
	return 0;
}

/* ---- verification --------------------------------------------------------- */

const char *crsap_verdict_to_string(enum crsap_verdict v)
{
	static const char *const names[CRSAP_VERDICT_MAX] = {
		[CRSAP_OK] = "ok",
		[CRSAP_MALFORMED] = "malformed",
		[CRSAP_UNKNOWN] = "unknown-terminal",
		[CRSAP_FORGED] = "forged",
		[CRSAP_STALE] = "stale",
		[CRSAP_REPLAYED] = "replayed",
		[CRSAP_BUSY] = "busy",
		[CRSAP_MISMATCH] = "subscriber-mismatch",
	};

	return v < CRSAP_VERDICT_MAX ? names[v] : "?";
}

enum crsap_verdict crsap_verify_sca(const struct crsap_keyring *kr,
				    struct crsap_replay *rp, const uint8_t *buf,
				    size_t len, uint64_t now_ms,
				    uint64_t max_skew_ms, struct crsap_sca_msg *m,
				    const struct crsap_key **ret_key, char *err,
				    size_t errlen)
{
	struct crsap_frame f;
	const struct crsap_key *k;
	const char *ms, *nonce;
	char root[32];
	uint64_t lo, hi, t;
	int ret;

	if (crsap_frame_split(buf, len, &f, err, errlen))
		return CRSAP_MALFORMED;
	k = crsap_keyring_find(kr, f.id);
	if (!k) {
		cx_seterr(err, errlen, "no key for terminal \"%s\"", f.id);
		return CRSAP_UNKNOWN;
	}
	if (!crsap_frame_verify(&f, k->key, k->keylen)) {
		cx_seterr(err, errlen, "MAC of terminal \"%s\" does not match",
		       f.id);
		return CRSAP_FORGED;
	}
	/* Authentic: now the body may be parsed. */
	if (crsap_root(f.body, f.body_len, root, sizeof(root)) &&
	    !strcmp(root, "scaProbeResponse")) {
		m->kind = CRSAP_SCA_PROBE_RESPONSE;
		if (crsap_probe_response_parse(f.body, f.body_len, &m->probe,
					       err, errlen))
			return CRSAP_MALFORMED;
		ms = m->probe.ms;
		t = m->probe.time_ms;
		nonce = m->probe.nonce;
	} else {
		m->kind = CRSAP_SCA_REPORT;
		if (crsap_report_parse(f.body, f.body_len, &m->report, err,
				       errlen))
			return CRSAP_MALFORMED;
		ms = m->report.ms;
		t = m->report.time_ms;
		nonce = m->report.nonce;
	}
	if (strcmp(ms, f.id)) {
		cx_seterr(err, errlen,
		       "message of \"%s\" sent under the key of \"%s\"", ms,
		       f.id);
		return CRSAP_FORGED;
	}
	lo = now_ms > max_skew_ms ? now_ms - max_skew_ms : 0;
	hi = now_ms + max_skew_ms;
	if (t < lo || t > hi) {
		cx_seterr(err, errlen,
		       "timestamp %" PRIu64 " is %s than the allowed skew "
		       "of %" PRIu64 " ms", t, t < lo ? "older" : "newer",
		       max_skew_ms);
		return CRSAP_STALE;
	}
	/* A nonce must be remembered as long as its timestamp passes. */
	ret = crsap_replay_add(rp, ms, nonce, t + max_skew_ms + 1, now_ms);
	if (ret == -EALREADY) {
		cx_seterr(err, errlen, "nonce %s of \"%s\" seen before", nonce,
		       ms);
		return CRSAP_REPLAYED;
	}
	if (ret) {
		cx_seterr(err, errlen, "replay cache full (%zu live nonces)",
		       crsap_replay_count(rp));
		return CRSAP_BUSY;
	}
	*ret_key = k;
	return CRSAP_OK;
}

enum crsap_verdict crsap_verify_report(const struct crsap_keyring *kr,
				       struct crsap_replay *rp,
				       const uint8_t *buf, size_t len,
				       uint64_t now_ms, uint64_t max_skew_ms,
				       struct crsap_report *r,
				       const struct crsap_key **ret_key,
				       char *err, size_t errlen)
{
	static __thread struct crsap_sca_msg m;
	enum crsap_verdict v = crsap_verify_sca(kr, rp, buf, len, now_ms,
						max_skew_ms, &m, ret_key, err,
						errlen);

	if (v == CRSAP_OK && m.kind != CRSAP_SCA_REPORT) {
		cx_seterr(err, errlen, "not an SCI report");
		return CRSAP_MALFORMED;
	}
	if (v == CRSAP_OK)
		*r = m.report;
	return v;
}

void crsap_probe_key(uint8_t key[CRSAP_MAC_LEN])
{
	SHA256((const uint8_t *)CRSAP_PROBE_KEY_LABEL,
	       strlen(CRSAP_PROBE_KEY_LABEL), key);
}
