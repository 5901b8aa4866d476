// SPDX-License-Identifier: GPL-2.0-only
/* CRSAP framing, authentication and XML codec (see crsap.h). */
#include "crsap.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "addr.h"
#include "bytes.h"

#define MAGIC "XCRS1 "
#define XML_DEPTH_MAX 4

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
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

static bool nonce_valid(const char *s)
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
		seterr(err, errlen, "frame does not start with \"XCRS1 \"");
		return -EBADMSG;
	}
	p += strlen(MAGIC);
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || (idlen = (size_t)(sp - p)) == 0 || idlen > CRSAP_ID_MAX) {
		seterr(err, errlen, "frame header: bad terminal id");
		return -EBADMSG;
	}
	memcpy(f->id, p, idlen);
	f->id[idlen] = '\0';
	if (!crsap_id_valid(f->id)) {
		seterr(err, errlen, "frame header: bad terminal id");
		return -EBADMSG;
	}
	p = sp + 1;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || hex_decode((const char *)p, (size_t)(nl - p), f->mac,
			 CRSAP_MAC_LEN)) {
		seterr(err, errlen, "frame header: MAC is not 64 hex digits");
		return -EBADMSG;
	}
	f->body = nl + 1;
	f->body_len = (size_t)(end - f->body);
	if (!f->body_len) {
		seterr(err, errlen, "frame has no body");
		return -EBADMSG;
	}
	return 0;
}

static void mac_of(const uint8_t *key, size_t keylen, const void *body,
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

	mac_of(key, keylen, f->body, f->body_len, want);
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
	mac_of(key, keylen, body, body_len, mac);
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

/* ---- XML -------------------------------------------------------------- */

static void xml_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void xml_init(void)
{
	static bool done;

	if (done)
		return;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, xml_quiet);
	done = true;
}

/* Parses with every loader off; refuses DOCTYPEs and deep trees. */
static xmlDocPtr xml_read(const void *body, size_t len, const char *root,
			  char *err, size_t errlen)
{
	static const char doctype[] = "<!DOCTYPE";
	const char *b = body;
	xmlDocPtr doc;
	xmlNodePtr r;

	xml_init();
	if (len > CRSAP_FRAME_MAX) {
		seterr(err, errlen, "document too large");
		return NULL;
	}
	for (size_t i = 0; i + sizeof(doctype) - 1 <= len; i++)
		if (b[i] == '<' && !strncasecmp(b + i, doctype,
						sizeof(doctype) - 1)) {
			seterr(err, errlen, "document has a DOCTYPE");
			return NULL;
		}
	doc = xmlReadMemory(b, (int)len, "crsap", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOBLANKS |
				    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();

		seterr(err, errlen, "not well-formed XML%s%s",
		       e && e->message ? ": " : "",
		       e && e->message ? e->message : "");
		/* libxml2's messages end in a newline */
		if (err && *err && err[strlen(err) - 1] == '\n')
			err[strlen(err) - 1] = '\0';
		return NULL;
	}
	r = xmlDocGetRootElement(doc);
	if (doc->intSubset || doc->extSubset || !r ||
	    (root && xmlStrcmp(r->name, (const xmlChar *)root)) || !r->ns ||
	    xmlStrcmp(r->ns->href, (const xmlChar *)CRSAP_NS)) {
		seterr(err, errlen, "root element is not {%s}%s", CRSAP_NS,
		       root ? root : "(a CRSAP message)");
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static bool is_el(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       !xmlStrcmp(n->name, (const xmlChar *)name);
}

/* Copies attribute or text content into buf; -E2BIG if it does not fit. */
static int copy_str(xmlChar *v, char *buf, size_t len, bool required,
		    const char *what, char *err, size_t errlen)
{
	int ret = 0;

	if (!v) {
		if (required) {
			seterr(err, errlen, "%s is missing", what);
			return -EBADMSG;
		}
		buf[0] = '\0';
		return 0;
	}
	if (strlen((char *)v) >= len) {
		seterr(err, errlen, "%s is longer than %zu bytes", what,
		       len - 1);
		ret = -EBADMSG;
	} else {
		strcpy(buf, (char *)v);
	}
	xmlFree(v);
	return ret;
}

static int attr(xmlNodePtr n, const char *name, char *buf, size_t len,
		bool required, char *err, size_t errlen)
{
	char what[96];

	snprintf(what, sizeof(what), "%s/@%s", (const char *)n->name, name);
	return copy_str(xmlGetNoNsProp(n, (const xmlChar *)name), buf, len,
			required, what, err, errlen);
}

static int text(xmlNodePtr n, char *buf, size_t len, char *err, size_t errlen)
{
	return copy_str(xmlNodeGetContent(n), buf, len, true,
			(const char *)n->name, err, errlen);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int u64_attr(xmlNodePtr n, const char *name, uint64_t max,
		    bool required, uint64_t *out, char *err, size_t errlen)
{
	char buf[24];
	int ret = attr(n, name, buf, sizeof(buf), required, err, errlen);

	if (ret)
		return ret;
	if (!buf[0]) {
		*out = 0;
		return 0;
	}
	if (parse_u64(buf, max, out)) {
		seterr(err, errlen, "%s/@%s: not a number up to %" PRIu64,
		       (const char *)n->name, name, max);
		return -EBADMSG;
	}
	return 0;
}

/* The sender (attribute who: "ms" or "node"), time and nonce of a
 * message root. */
static int parse_head(xmlNodePtr r, const char *who, char *ms,
		      uint64_t *time_ms, char *nonce, char *err, size_t errlen)
{
	int ret;

	if ((ret = attr(r, who, ms, CRSAP_ID_MAX + 1, true, err, errlen)) ||
	    (ret = u64_attr(r, "time", UINT64_MAX / 2, true, time_ms, err,
			    errlen)) ||
	    (ret = attr(r, "nonce", nonce, CRSAP_NONCE_HEX + 1, true, err,
			errlen)))
		return ret;
	if (!crsap_id_valid(ms)) {
		seterr(err, errlen, "%s is not a valid id", who);
		return -EBADMSG;
	}
	if (!nonce_valid(nonce)) {
		seterr(err, errlen, "nonce is not %d hex digits",
		       CRSAP_NONCE_HEX);
		return -EBADMSG;
	}
	return 0;
}

static int check_depth(xmlNodePtr n, int depth, char *err, size_t errlen)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (depth > XML_DEPTH_MAX) {
			seterr(err, errlen, "elements nested deeper than %d",
			       XML_DEPTH_MAX);
			return -EBADMSG;
		}
		if (check_depth(n->children, depth + 1, err, errlen))
			return -EBADMSG;
	}
	return 0;
}

static int unknown_el(xmlNodePtr n, char *err, size_t errlen)
{
	seterr(err, errlen, "unexpected element <%s>", (const char *)n->name);
	return -EBADMSG;
}

static int report_child(xmlNodePtr n, struct crsap_report *r, bool *status,
			char *err, size_t errlen)
{
	char buf[32];
	int ret;

	if (is_el(n, "status")) {
		if ((ret = text(n, buf, sizeof(buf), err, errlen)))
			return ret;
		ret = policy_report_status_parse(buf);
		if (ret < 0) {
			seterr(err, errlen,
			       "status \"%s\" is not clean, outdated or "
			       "infected", buf);
			return -EBADMSG;
		}
		r->status = ret;
		*status = true;
		return 0;
	}
	if (is_el(n, "os"))
		return attr(n, "name", r->os_name, sizeof(r->os_name), true,
			    err, errlen) ?:
		       attr(n, "version", r->os_version,
			    sizeof(r->os_version), false, err, errlen);
	if (is_el(n, "patchLevel"))
		return text(n, r->patch_level, sizeof(r->patch_level), err,
			    errlen);
	if (is_el(n, "antivirus"))
		return attr(n, "product", r->av_product,
			    sizeof(r->av_product), true, err, errlen) ?:
		       attr(n, "signatures", r->av_signatures,
			    sizeof(r->av_signatures), false, err, errlen);
	if (is_el(n, "sca"))
		return attr(n, "version", r->sca_version,
			    sizeof(r->sca_version), true, err, errlen);
	if (is_el(n, "threat")) {
		struct crsap_threat *t;
		uint64_t sev;

		if (r->nthreats == CRSAP_THREATS_MAX) {
			seterr(err, errlen, "more than %d threats",
			       CRSAP_THREATS_MAX);
			return -EBADMSG;
		}
		t = &r->threats[r->nthreats++];
		if ((ret = attr(n, "name", t->name, sizeof(t->name), true, err,
				errlen)) ||
		    (ret = u64_attr(n, "severity", 255, true, &sev, err,
				    errlen)) ||
		    (ret = u64_attr(n, "signature", UINT32_MAX, false,
				    &t->signature, err, errlen)) ||
		    (ret = attr(n, "evidence", t->evidence,
				sizeof(t->evidence), false, err, errlen)))
			return ret;
		if (!sev) {
			seterr(err, errlen, "threat/@severity must be >= 1");
			return -EBADMSG;
		}
		t->severity = (unsigned)sev;
		return 0;
	}
	if (is_el(n, "remediation")) {
		struct crsap_remedy *m;

		if (r->nremedies == CRSAP_LIST_MAX) {
			seterr(err, errlen, "more than %d remediations",
			       CRSAP_LIST_MAX);
			return -EBADMSG;
		}
		m = &r->remedies[r->nremedies++];
		return attr(n, "action", m->action, sizeof(m->action), true,
			    err, errlen) ?:
		       attr(n, "result", m->result, sizeof(m->result), false,
			    err, errlen);
	}
	return unknown_el(n, err, errlen);
}

/* A message's document with its root checked (name, namespace, depth)
 * and its head (ms, time, nonce) parsed; NULL with err set otherwise. */
static xmlDocPtr read_message_as(const void *body, size_t len,
				 const char *root, const char *who, char *ms,
				 uint64_t *time_ms, char *nonce, char *err,
				 size_t errlen)
{
	xmlDocPtr doc = xml_read(body, len, root, err, errlen);
	xmlNodePtr r;

	if (!doc)
		return NULL;
	r = xmlDocGetRootElement(doc);
	if (check_depth(r, 1, err, errlen) ||
	    parse_head(r, who, ms, time_ms, nonce, err, errlen)) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static xmlDocPtr read_message(const void *body, size_t len, const char *root,
			      char *ms, uint64_t *time_ms, char *nonce,
			      char *err, size_t errlen)
{
	return read_message_as(body, len, root, "ms", ms, time_ms, nonce, err,
			       errlen);
}

int crsap_report_parse(const void *body, size_t len, struct crsap_report *r,
		       char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	bool status = false;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	doc = read_message(body, len, "sciReport", r->ms, &r->time_ms,
			   r->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	for (xmlNodePtr n = root->children; !ret && n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			ret = report_child(n, r, &status, err, errlen);
	if (!ret && !status) {
		seterr(err, errlen, "<status> is missing");
		ret = -EBADMSG;
	}
	xmlFreeDoc(doc);
	return ret ? -EBADMSG : 0;
}

/* ---- building ----------------------------------------------------------- */

struct xb {
	xmlDocPtr doc;
	xmlNodePtr root;
	xmlNsPtr ns;
	bool oom;
};

static void xb_init(struct xb *b, const char *root)
{
	memset(b, 0, sizeof(*b));
	xml_init();
	b->doc = xmlNewDoc((const xmlChar *)"1.0");
	if (!b->doc) {
		b->oom = true;
		return;
	}
	b->root = xmlNewNode(NULL, (const xmlChar *)root);
	if (!b->root) {
		b->oom = true;
		return;
	}
	xmlDocSetRootElement(b->doc, b->root);
	b->ns = xmlNewNs(b->root, (const xmlChar *)CRSAP_NS, NULL);
	xmlSetNs(b->root, b->ns);
}

static xmlNodePtr xb_el(struct xb *b, const char *name, const char *content)
{
	xmlNodePtr n;

	if (b->oom)
		return NULL;
	n = xmlNewChild(b->root, b->ns, (const xmlChar *)name, NULL);
	if (!n) {
		b->oom = true;
		return NULL;
	}
	if (content)
		xmlNodeAddContent(n, (const xmlChar *)content);
	return n;
}

static void xb_attr(struct xb *b, xmlNodePtr n, const char *name,
		    const char *v)
{
	if (b->oom || !n || !v || !*v)
		return;
	if (!xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)v))
		b->oom = true;
}

static void xb_attr_u64(struct xb *b, xmlNodePtr n, const char *name,
			uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	xb_attr(b, n, name, buf);
}

static int xb_done(struct xb *b, char **out, size_t *out_len)
{
	xmlChar *mem = NULL;
	int n = 0;

	if (!b->oom)
		xmlDocDumpMemoryEnc(b->doc, &mem, &n, "UTF-8");
	if (b->doc)
		xmlFreeDoc(b->doc);
	if (!mem)
		return -ENOMEM;
	*out = malloc((size_t)n + 1);
	if (!*out) {
		xmlFree(mem);
		return -ENOMEM;
	}
	memcpy(*out, mem, (size_t)n + 1);
	*out_len = (size_t)n;
	xmlFree(mem);
	return 0;
}

static void xb_head(struct xb *b, const char *ms, uint64_t time_ms,
		    const char *nonce)
{
	xb_attr(b, b->root, "ms", ms);
	xb_attr_u64(b, b->root, "time", time_ms);
	xb_attr(b, b->root, "nonce", nonce);
}

int crsap_report_build(const struct crsap_report *r, char **out,
		       size_t *out_len)
{
	struct xb b;
	xmlNodePtr n;

	if (!crsap_id_valid(r->ms) || !nonce_valid(r->nonce) ||
	    r->status >= POLICY_REPORT_STATUS_MAX ||
	    r->nthreats > CRSAP_THREATS_MAX || r->nremedies > CRSAP_LIST_MAX)
		return -EINVAL;
	xb_init(&b, "sciReport");
	xb_head(&b, r->ms, r->time_ms, r->nonce);
	xb_el(&b, "status", policy_report_status_to_string(r->status));
	if (r->os_name[0]) {
		n = xb_el(&b, "os", NULL);
		xb_attr(&b, n, "name", r->os_name);
		xb_attr(&b, n, "version", r->os_version);
	}
	if (r->patch_level[0])
		xb_el(&b, "patchLevel", r->patch_level);
	if (r->av_product[0]) {
		n = xb_el(&b, "antivirus", NULL);
		xb_attr(&b, n, "product", r->av_product);
		xb_attr(&b, n, "signatures", r->av_signatures);
	}
	if (r->sca_version[0]) {
		n = xb_el(&b, "sca", NULL);
		xb_attr(&b, n, "version", r->sca_version);
	}
	for (size_t i = 0; i < r->nthreats; i++) {
		const struct crsap_threat *t = &r->threats[i];

		if (!t->name[0] || !t->severity)
			continue;
		n = xb_el(&b, "threat", NULL);
		xb_attr(&b, n, "name", t->name);
		xb_attr_u64(&b, n, "severity", t->severity);
		if (t->signature)
			xb_attr_u64(&b, n, "signature", t->signature);
		xb_attr(&b, n, "evidence", t->evidence);
	}
	for (size_t i = 0; i < r->nremedies; i++) {
		n = xb_el(&b, "remediation", NULL);
		xb_attr(&b, n, "action", r->remedies[i].action);
		xb_attr(&b, n, "result", r->remedies[i].result);
	}
	return xb_done(&b, out, out_len);
}

static int remediation_attrs(xmlNodePtr n, struct crsap_remediation *m,
			     char *err, size_t errlen)
{
	return attr(n, "service", m->service, sizeof(m->service), true, err,
		    errlen) ?:
	       attr(n, "prefix", m->prefix, sizeof(m->prefix), true, err,
		    errlen) ?:
	       attr(n, "protocol", m->protocol, sizeof(m->protocol), false,
		    err, errlen) ?:
	       attr(n, "ports", m->ports, sizeof(m->ports), false, err,
		    errlen);
}

static void remediation_build(struct xb *b, const char *el,
			      const struct crsap_remediation *m)
{
	xmlNodePtr n = xb_el(b, el, NULL);

	xb_attr(b, n, "service", m->service);
	xb_attr(b, n, "prefix", m->prefix);
	xb_attr(b, n, "protocol", m->protocol);
	xb_attr(b, n, "ports", m->ports);
}

int crsap_response_build(const struct crsap_response *r, char **out,
			 size_t *out_len)
{
	struct xb b;
	xmlNodePtr n;

	if (!crsap_id_valid(r->ms) || !nonce_valid(r->nonce) ||
	    (r->in_response_to[0] && !nonce_valid(r->in_response_to)) ||
	    !r->evaluation[0] || !r->level[0] ||
	    r->nallowed > CRSAP_LIST_MAX || r->nactions > CRSAP_LIST_MAX ||
	    r->nremediation > CRSAP_LIST_MAX)
		return -EINVAL;
	xb_init(&b, "sciResponse");
	xb_head(&b, r->ms, r->time_ms, r->nonce);
	xb_attr(&b, b.root, "inResponseTo", r->in_response_to);
	xb_el(&b, "evaluation", r->evaluation);
	n = xb_el(&b, "control", NULL);
	xb_attr(&b, n, "level", r->level);
	if (r->until_ms)
		xb_attr_u64(&b, n, "until", r->until_ms);
	xb_attr(&b, n, "rule", r->rule);
	for (size_t i = 0; i < r->nallowed; i++) {
		n = xb_el(&b, "allowed", NULL);
		xb_attr(&b, n, "service", r->allowed[i]);
	}
	for (size_t i = 0; i < r->nactions; i++)
		xb_el(&b, "action", r->actions[i]);
	for (size_t i = 0; i < r->nremediation; i++)
		remediation_build(&b, "remediation", &r->remediation[i]);
	if (r->reason[0])
		xb_el(&b, "reason", r->reason);
	return xb_done(&b, out, out_len);
}

static int response_child(xmlNodePtr n, struct crsap_response *r,
			  bool *control, char *err, size_t errlen)
{
	if (is_el(n, "evaluation"))
		return text(n, r->evaluation, sizeof(r->evaluation), err,
			    errlen);
	if (is_el(n, "control")) {
		*control = true;
		return attr(n, "level", r->level, sizeof(r->level), true, err,
			    errlen) ?:
		       u64_attr(n, "until", UINT64_MAX / 2, false,
				&r->until_ms, err, errlen) ?:
		       attr(n, "rule", r->rule, sizeof(r->rule), false, err,
			    errlen);
	}
	if (is_el(n, "allowed")) {
		if (r->nallowed == CRSAP_LIST_MAX)
			return unknown_el(n, err, errlen);
		return attr(n, "service", r->allowed[r->nallowed++],
			    POLICY_NAME_MAX, true, err, errlen);
	}
	if (is_el(n, "action")) {
		if (r->nactions == CRSAP_LIST_MAX)
			return unknown_el(n, err, errlen);
		return text(n, r->actions[r->nactions++], 64, err, errlen);
	}
	if (is_el(n, "remediation")) {
		if (r->nremediation == CRSAP_LIST_MAX)
			return unknown_el(n, err, errlen);
		return remediation_attrs(n, &r->remediation[r->nremediation++],
					 err, errlen);
	}
	if (is_el(n, "reason"))
		return text(n, r->reason, sizeof(r->reason), err, errlen);
	return unknown_el(n, err, errlen);
}

int crsap_response_parse(const void *body, size_t len,
			 struct crsap_response *r, char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	bool control = false;
	int ret;

	memset(r, 0, sizeof(*r));
	doc = read_message(body, len, "sciResponse", r->ms, &r->time_ms,
			   r->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	ret = attr(root, "inResponseTo", r->in_response_to,
		   sizeof(r->in_response_to), false, err, errlen);
	for (xmlNodePtr n = root->children; !ret && n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			ret = response_child(n, r, &control, err, errlen);
	if (!ret && (!control || !r->evaluation[0])) {
		seterr(err, errlen, "<evaluation> or <control> is missing");
		ret = -EBADMSG;
	}
	xmlFreeDoc(doc);
	return ret ? -EBADMSG : 0;
}

/* ---- probes, update instructions, NAC/SCS messages ------------------------ */

const char *crsap_root(const void *body, size_t len, char *buf, size_t buflen)
{
	xmlDocPtr doc = xml_read(body, len, NULL, NULL, 0);
	xmlNodePtr r;

	if (!doc)
		return NULL;
	r = xmlDocGetRootElement(doc);
	snprintf(buf, buflen, "%s", (const char *)r->name);
	xmlFreeDoc(doc);
	return buf;
}

/* Runs fn over the element children of the root; 0 or -EBADMSG. */
typedef int (*child_fn)(xmlNodePtr n, void *obj, char *err, size_t errlen);

static int children(xmlDocPtr doc, child_fn fn, void *obj, char *err,
		    size_t errlen)
{
	int ret = 0;

	for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; !ret && n;
	     n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			ret = fn(n, obj, err, errlen);
	xmlFreeDoc(doc);
	return ret ? -EBADMSG : 0;
}

static int probe_child(xmlNodePtr n, void *obj, char *err, size_t errlen)
{
	struct crsap_probe *p = obj;
	uint64_t v;
	int ret;

	if (is_el(n, "scs"))
		return attr(n, "id", p->scs, sizeof(p->scs), true, err, errlen);
	if (is_el(n, "reportTo"))
		return attr(n, "address", p->report_to, sizeof(p->report_to),
			    true, err, errlen);
	if (is_el(n, "reportInterval")) {
		ret = u64_attr(n, "seconds", 86400 * 7, true, &v, err, errlen);
		p->report_interval_s = (uint32_t)v;
		return ret;
	}
	return unknown_el(n, err, errlen);
}

int crsap_probe_parse(const void *body, size_t len, struct crsap_probe *p,
		      char *err, size_t errlen)
{
	xmlDocPtr doc;
	int ret;

	memset(p, 0, sizeof(*p));
	doc = read_message(body, len, "scaProbeRequest", p->ms, &p->time_ms,
			   p->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	ret = children(doc, probe_child, p, err, errlen);
	if (!ret && !p->scs[0]) {
		seterr(err, errlen, "<scs> is missing");
		ret = -EBADMSG;
	}
	return ret;
}

int crsap_probe_build(const struct crsap_probe *p, char **out,
		      size_t *out_len)
{
	struct xb b;
	xmlNodePtr n;

	if (!crsap_id_valid(p->ms) || !nonce_valid(p->nonce) || !p->scs[0])
		return -EINVAL;
	xb_init(&b, "scaProbeRequest");
	xb_head(&b, p->ms, p->time_ms, p->nonce);
	n = xb_el(&b, "scs", NULL);
	xb_attr(&b, n, "id", p->scs);
	if (p->report_to[0]) {
		n = xb_el(&b, "reportTo", NULL);
		xb_attr(&b, n, "address", p->report_to);
	}
	if (p->report_interval_s) {
		n = xb_el(&b, "reportInterval", NULL);
		xb_attr_u64(&b, n, "seconds", p->report_interval_s);
	}
	return xb_done(&b, out, out_len);
}

static int probe_resp_child(xmlNodePtr n, void *obj, char *err, size_t errlen)
{
	struct crsap_probe_response *p = obj;

	if (is_el(n, "sca"))
		return attr(n, "version", p->sca_version,
			    sizeof(p->sca_version), true, err, errlen);
	if (is_el(n, "os"))
		return attr(n, "name", p->os_name, sizeof(p->os_name), true,
			    err, errlen) ?:
		       attr(n, "version", p->os_version,
			    sizeof(p->os_version), false, err, errlen);
	return unknown_el(n, err, errlen);
}

int crsap_probe_response_parse(const void *body, size_t len,
			       struct crsap_probe_response *p, char *err,
			       size_t errlen)
{
	xmlDocPtr doc;
	int ret;

	memset(p, 0, sizeof(*p));
	doc = read_message(body, len, "scaProbeResponse", p->ms, &p->time_ms,
			   p->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	if (attr(xmlDocGetRootElement(doc), "inResponseTo", p->in_response_to,
		 sizeof(p->in_response_to), true, err, errlen) ||
	    !nonce_valid(p->in_response_to)) {
		if (!err || !*err)
			seterr(err, errlen, "inResponseTo is not a nonce");
		xmlFreeDoc(doc);
		return -EBADMSG;
	}
	ret = children(doc, probe_resp_child, p, err, errlen);
	if (!ret && !p->sca_version[0]) {
		seterr(err, errlen, "<sca> is missing");
		ret = -EBADMSG;
	}
	return ret;
}

int crsap_probe_response_build(const struct crsap_probe_response *p,
			       char **out, size_t *out_len)
{
	struct xb b;
	xmlNodePtr n;

	if (!crsap_id_valid(p->ms) || !nonce_valid(p->nonce) ||
	    !nonce_valid(p->in_response_to) || !p->sca_version[0])
		return -EINVAL;
	xb_init(&b, "scaProbeResponse");
	xb_head(&b, p->ms, p->time_ms, p->nonce);
	xb_attr(&b, b.root, "inResponseTo", p->in_response_to);
	n = xb_el(&b, "sca", NULL);
	xb_attr(&b, n, "version", p->sca_version);
	if (p->os_name[0]) {
		n = xb_el(&b, "os", NULL);
		xb_attr(&b, n, "name", p->os_name);
		xb_attr(&b, n, "version", p->os_version);
	}
	return xb_done(&b, out, out_len);
}

static int update_child(xmlNodePtr n, void *obj, char *err, size_t errlen)
{
	struct crsap_update *u = obj;

	if (is_el(n, "update"))
		return attr(n, "what", u->what, sizeof(u->what), true, err,
			    errlen) ?:
		       attr(n, "campaign", u->campaign, sizeof(u->campaign),
			    false, err, errlen);
	if (is_el(n, "delay"))
		return u64_attr(n, "ms", UINT64_MAX / 2, true, &u->delay_ms,
				err, errlen);
	if (is_el(n, "deadline"))
		return u64_attr(n, "time", UINT64_MAX / 2, true,
				&u->deadline_ms, err, errlen);
	if (is_el(n, "source"))
		return remediation_attrs(n, &u->source, err, errlen);
	if (is_el(n, "reason"))
		return text(n, u->reason, sizeof(u->reason), err, errlen);
	return unknown_el(n, err, errlen);
}

int crsap_update_parse(const void *body, size_t len, struct crsap_update *u,
		       char *err, size_t errlen)
{
	xmlDocPtr doc;
	int ret;

	memset(u, 0, sizeof(*u));
	doc = read_message(body, len, "updateInstruction", u->ms, &u->time_ms,
			   u->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	ret = children(doc, update_child, u, err, errlen);
	if (!ret && !u->what[0]) {
		seterr(err, errlen, "<update> is missing");
		ret = -EBADMSG;
	}
	return ret;
}

int crsap_update_build(const struct crsap_update *u, char **out,
		       size_t *out_len)
{
	struct xb b;
	xmlNodePtr n;

	if (!crsap_id_valid(u->ms) || !nonce_valid(u->nonce) || !u->what[0])
		return -EINVAL;
	xb_init(&b, "updateInstruction");
	xb_head(&b, u->ms, u->time_ms, u->nonce);
	n = xb_el(&b, "update", NULL);
	xb_attr(&b, n, "what", u->what);
	xb_attr(&b, n, "campaign", u->campaign);
	n = xb_el(&b, "delay", NULL);
	xb_attr_u64(&b, n, "ms", u->delay_ms);
	if (u->deadline_ms) {
		n = xb_el(&b, "deadline", NULL);
		xb_attr_u64(&b, n, "time", u->deadline_ms);
	}
	if (u->source.service[0])
		remediation_build(&b, "source", &u->source);
	if (u->reason[0])
		xb_el(&b, "reason", u->reason);
	return xb_done(&b, out, out_len);
}

static const char *const nac_roots[] = {
	[CRSAP_MS_CONNECT] = "msConnectReport",
	[CRSAP_MS_LEAVE] = "msLeave",
	[CRSAP_CONTROL_POLICY] = "controlPolicy",
};

static int nac_child(xmlNodePtr n, void *obj, char *err, size_t errlen)
{
	struct crsap_nac *m = obj;

	if (is_el(n, "ms")) {
		struct xcrs_addr a;
		int ret = attr(n, "address", m->address, sizeof(m->address),
			       true, err, errlen) ?:
			  attr(n, "scope", m->scope, sizeof(m->scope), false,
			       err, errlen);

		if (!ret && addr_parse(m->address, &a)) {
			seterr(err, errlen, "ms/@address \"%s\" is not an "
					    "address", m->address);
			ret = -EBADMSG;
		}
		return ret;
	}
	if (is_el(n, "cause") && m->kind != CRSAP_CONTROL_POLICY)
		return text(n, m->cause, sizeof(m->cause), err, errlen);
	if (m->kind != CRSAP_CONTROL_POLICY)
		return unknown_el(n, err, errlen);
	if (is_el(n, "evaluation"))
		return text(n, m->evaluation, sizeof(m->evaluation), err,
			    errlen);
	if (is_el(n, "control"))
		return attr(n, "level", m->level, sizeof(m->level), true, err,
			    errlen) ?:
		       u64_attr(n, "until", UINT64_MAX / 2, false,
				&m->until_ms, err, errlen) ?:
		       attr(n, "rule", m->rule, sizeof(m->rule), false, err,
			    errlen);
	if (is_el(n, "reason"))
		return text(n, m->reason, sizeof(m->reason), err, errlen);
	return unknown_el(n, err, errlen);
}

int crsap_nac_parse(const void *body, size_t len, struct crsap_nac *m,
		    char *err, size_t errlen)
{
	char root[32];
	xmlDocPtr doc;
	int ret;

	memset(m, 0, sizeof(*m));
	if (!crsap_root(body, len, root, sizeof(root))) {
		/* the full reason */
		doc = xml_read(body, len, NULL, err, errlen);
		if (doc)
			xmlFreeDoc(doc);
		return -EBADMSG;
	}
	for (m->kind = 0; m->kind <= CRSAP_CONTROL_POLICY; m->kind++)
		if (!strcmp(root, nac_roots[m->kind]))
			break;
	if (m->kind > CRSAP_CONTROL_POLICY) {
		seterr(err, errlen, "<%s> is not a NAC/SCS message", root);
		return -EBADMSG;
	}
	doc = read_message_as(body, len, root, "node", m->node, &m->time_ms,
			      m->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	ret = children(doc, nac_child, m, err, errlen);
	if (!ret && !m->address[0]) {
		seterr(err, errlen, "<ms> is missing");
		ret = -EBADMSG;
	}
	if (!ret && m->kind == CRSAP_CONTROL_POLICY &&
	    (!m->level[0] || !m->evaluation[0])) {
		seterr(err, errlen, "<evaluation> or <control> is missing");
		ret = -EBADMSG;
	}
	return ret;
}

int crsap_nac_build(const struct crsap_nac *m, char **out, size_t *out_len)
{
	struct xcrs_addr a;
	struct xb b;
	xmlNodePtr n;

	if ((unsigned)m->kind > CRSAP_CONTROL_POLICY ||
	    !crsap_id_valid(m->node) || !nonce_valid(m->nonce) ||
	    addr_parse(m->address, &a) ||
	    (m->kind == CRSAP_CONTROL_POLICY &&
	     (!m->level[0] || !m->evaluation[0])))
		return -EINVAL;
	xb_init(&b, nac_roots[m->kind]);
	xb_attr(&b, b.root, "node", m->node);
	xb_attr_u64(&b, b.root, "time", m->time_ms);
	xb_attr(&b, b.root, "nonce", m->nonce);
	n = xb_el(&b, "ms", NULL);
	xb_attr(&b, n, "address", m->address);
	xb_attr(&b, n, "scope", m->scope);
	if (m->kind != CRSAP_CONTROL_POLICY) {
		if (m->cause[0])
			xb_el(&b, "cause", m->cause);
		return xb_done(&b, out, out_len);
	}
	xb_el(&b, "evaluation", m->evaluation);
	n = xb_el(&b, "control", NULL);
	xb_attr(&b, n, "level", m->level);
	if (m->until_ms)
		xb_attr_u64(&b, n, "until", m->until_ms);
	xb_attr(&b, n, "rule", m->rule);
	if (m->reason[0])
		xb_el(&b, "reason", m->reason);
	return xb_done(&b, out, out_len);
}

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
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return ret_err;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077)) {
		seterr(err, errlen,
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
			seterr(err, errlen, "%s:%u: line too long", path,
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
		if (ntok != 3) {
			seterr(err, errlen,
			       "%s:%u: expected \"ID ADDRESS KEY\"", path,
			       lineno);
			ret_err = -EINVAL;
			break;
		}
		if (!crsap_id_valid(tok[0])) {
			seterr(err, errlen,
			       "%s:%u: terminal id \"%s\": 1-%d of "
			       "A-Z a-z 0-9 . _ : @ -", path, lineno, tok[0],
			       CRSAP_ID_MAX);
			ret_err = -EINVAL;
			break;
		}
		if (crsap_keyring_find(kr, tok[0])) {
			seterr(err, errlen, "%s:%u: terminal \"%s\" listed twice",
			       path, lineno, tok[0]);
			ret_err = -EINVAL;
			break;
		}
		snprintf(k.id, sizeof(k.id), "%s", tok[0]);
		if (!strcmp(tok[1], "peer")) {
			k.peer = true;
		} else if (addr_parse(tok[1], &k.addr)) {
			seterr(err, errlen,
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
			seterr(err, errlen,
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
		seterr(err, errlen, "no key for terminal \"%s\"", f.id);
		return CRSAP_UNKNOWN;
	}
	if (!crsap_frame_verify(&f, k->key, k->keylen)) {
		seterr(err, errlen, "MAC of terminal \"%s\" does not match",
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
		seterr(err, errlen,
		       "message of \"%s\" sent under the key of \"%s\"", ms,
		       f.id);
		return CRSAP_FORGED;
	}
	lo = now_ms > max_skew_ms ? now_ms - max_skew_ms : 0;
	hi = now_ms + max_skew_ms;
	if (t < lo || t > hi) {
		seterr(err, errlen,
		       "timestamp %" PRIu64 " is %s than the allowed skew "
		       "of %" PRIu64 " ms", t, t < lo ? "older" : "newer",
		       max_skew_ms);
		return CRSAP_STALE;
	}
	/* A nonce must be remembered as long as its timestamp passes. */
	ret = crsap_replay_add(rp, ms, nonce, t + max_skew_ms + 1, now_ms);
	if (ret == -EALREADY) {
		seterr(err, errlen, "nonce %s of \"%s\" seen before", nonce,
		       ms);
		return CRSAP_REPLAYED;
	}
	if (ret) {
		seterr(err, errlen, "replay cache full (%zu live nonces)",
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
		seterr(err, errlen, "not an SCI report");
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
