// SPDX-License-Identifier: GPL-2.0-only
/* CRSAP (see crsap.h): the hardened XML reader and writer, SCI reports and responses. */
#include "crsap-internal.h"

/* ---- XML -------------------------------------------------------------- */

static void xml_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

void cx_xml_init(void)
{
	static bool done;

	if (done)
		return;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, xml_quiet);
	done = true;
}

/* Parses with every loader off; refuses DOCTYPEs and deep trees. */
xmlDocPtr cx_xml_read(const void *body, size_t len, const char *root,
			  char *err, size_t errlen)
{
	static const char doctype[] = "<!DOCTYPE";
	const char *b = body;
	xmlDocPtr doc;
	xmlNodePtr r;

	cx_xml_init();
	if (len > CRSAP_FRAME_MAX) {
		cx_seterr(err, errlen, "document too large");
		return NULL;
	}
	for (size_t i = 0; i + sizeof(doctype) - 1 <= len; i++)
		if (b[i] == '<' && !strncasecmp(b + i, doctype,
						sizeof(doctype) - 1)) {
			cx_seterr(err, errlen, "document has a DOCTYPE");
			return NULL;
		}
	doc = xmlReadMemory(b, (int)len, "crsap", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOBLANKS |
				    XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();

		cx_seterr(err, errlen, "not well-formed XML%s%s",
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
		cx_seterr(err, errlen, "root element is not {%s}%s", CRSAP_NS,
		       root ? root : "(a CRSAP message)");
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

bool cx_is_el(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       !xmlStrcmp(n->name, (const xmlChar *)name);
}

/* Copies attribute or text content into buf; -E2BIG if it does not fit. */
int cx_copy_str(xmlChar *v, char *buf, size_t len, bool required,
		    const char *what, char *err, size_t errlen)
{
	int ret = 0;

	if (!v) {
		if (required) {
			cx_seterr(err, errlen, "%s is missing", what);
			return -EBADMSG;
		}
		buf[0] = '\0';
		return 0;
	}
	if (strlen((char *)v) >= len) {
		cx_seterr(err, errlen, "%s is longer than %zu bytes", what,
		       len - 1);
		ret = -EBADMSG;
	} else {
		strcpy(buf, (char *)v);
	}
	xmlFree(v);
	return ret;
}

int cx_attr(xmlNodePtr n, const char *name, char *buf, size_t len,
		bool required, char *err, size_t errlen)
{
	char what[96];

	snprintf(what, sizeof(what), "%s/@%s", (const char *)n->name, name);
	return cx_copy_str(xmlGetNoNsProp(n, (const xmlChar *)name), buf, len,
			required, what, err, errlen);
}

int cx_text(xmlNodePtr n, char *buf, size_t len, char *err, size_t errlen)
{
	return cx_copy_str(xmlNodeGetContent(n), buf, len, true,
			(const char *)n->name, err, errlen);
}

int cx_parse_u64(const char *s, uint64_t max, uint64_t *out)
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

int cx_u64_attr(xmlNodePtr n, const char *name, uint64_t max,
		    bool required, uint64_t *out, char *err, size_t errlen)
{
	char buf[24];
	int ret = cx_attr(n, name, buf, sizeof(buf), required, err, errlen);

	if (ret)
		return ret;
	if (!buf[0]) {
		*out = 0;
		return 0;
	}
	if (cx_parse_u64(buf, max, out)) {
		cx_seterr(err, errlen, "%s/@%s: not a number up to %" PRIu64,
		       (const char *)n->name, name, max);
		return -EBADMSG;
	}
	return 0;
}

/* The sender (attribute who: "ms" or "node"), time and nonce of a
 * message root. */
int cx_parse_head(xmlNodePtr r, const char *who, char *ms,
		      uint64_t *time_ms, char *nonce, char *err, size_t errlen)
{
	int ret;

	if ((ret = cx_attr(r, who, ms, CRSAP_ID_MAX + 1, true, err, errlen)) ||
	    (ret = cx_u64_attr(r, "time", UINT64_MAX / 2, true, time_ms, err,
			    errlen)) ||
	    (ret = cx_attr(r, "nonce", nonce, CRSAP_NONCE_HEX + 1, true, err,
			errlen)))
		return ret;
	if (!crsap_id_valid(ms)) {
		cx_seterr(err, errlen, "%s is not a valid id", who);
		return -EBADMSG;
	}
	if (!cx_nonce_valid(nonce)) {
		cx_seterr(err, errlen, "nonce is not %d hex digits",
		       CRSAP_NONCE_HEX);
		return -EBADMSG;
	}
	return 0;
}

int cx_check_depth(xmlNodePtr n, int depth, char *err, size_t errlen)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (depth > XML_DEPTH_MAX) {
			cx_seterr(err, errlen, "elements nested deeper than %d",
			       XML_DEPTH_MAX);
			return -EBADMSG;
		}
		if (cx_check_depth(n->children, depth + 1, err, errlen))
			return -EBADMSG;
	}
	return 0;
}

int cx_unknown_el(xmlNodePtr n, char *err, size_t errlen)
{
	cx_seterr(err, errlen, "unexpected element <%s>", (const char *)n->name);
	return -EBADMSG;
}

static int report_child(xmlNodePtr n, struct crsap_report *r, bool *status,
			char *err, size_t errlen)
{
	char buf[32];
	int ret;

	if (cx_is_el(n, "status")) {
		if ((ret = cx_text(n, buf, sizeof(buf), err, errlen)))
			return ret;
		ret = crsap_status_parse(buf);
		if (ret < 0) {
			cx_seterr(err, errlen,
			       "status \"%s\" is not clean, outdated or "
			       "infected", buf);
			return -EBADMSG;
		}
		r->status = ret;
		*status = true;
		return 0;
	}
	if (cx_is_el(n, "os"))
		return cx_attr(n, "name", r->os_name, sizeof(r->os_name), true,
			    err, errlen) ?:
		       cx_attr(n, "version", r->os_version,
			    sizeof(r->os_version), false, err, errlen);
	if (cx_is_el(n, "patchLevel"))
		return cx_text(n, r->patch_level, sizeof(r->patch_level), err,
			    errlen);
	if (cx_is_el(n, "antivirus"))
		return cx_attr(n, "product", r->av_product,
			    sizeof(r->av_product), true, err, errlen) ?:
		       cx_attr(n, "signatures", r->av_signatures,
			    sizeof(r->av_signatures), false, err, errlen);
	if (cx_is_el(n, "sca"))
		return cx_attr(n, "version", r->sca_version,
			    sizeof(r->sca_version), true, err, errlen);
	if (cx_is_el(n, "threat")) {
		struct crsap_threat *t;
		uint64_t sev;

		if (r->nthreats == CRSAP_THREATS_MAX) {
			cx_seterr(err, errlen, "more than %d threats",
			       CRSAP_THREATS_MAX);
			return -EBADMSG;
		}
		t = &r->threats[r->nthreats++];
		if ((ret = cx_attr(n, "name", t->name, sizeof(t->name), true, err,
				errlen)) ||
		    (ret = cx_u64_attr(n, "severity", 255, true, &sev, err,
				    errlen)) ||
		    (ret = cx_u64_attr(n, "signature", UINT32_MAX, false,
				    &t->signature, err, errlen)) ||
		    (ret = cx_attr(n, "evidence", t->evidence,
				sizeof(t->evidence), false, err, errlen)))
			return ret;
		if (!sev) {
			cx_seterr(err, errlen, "threat/@severity must be >= 1");
			return -EBADMSG;
		}
		t->severity = (unsigned)sev;
		return 0;
	}
	if (cx_is_el(n, "remediation")) {
		struct crsap_remedy *m;

		if (r->nremedies == CRSAP_LIST_MAX) {
			cx_seterr(err, errlen, "more than %d remediations",
			       CRSAP_LIST_MAX);
			return -EBADMSG;
		}
		m = &r->remedies[r->nremedies++];
		return cx_attr(n, "action", m->action, sizeof(m->action), true,
			    err, errlen) ?:
		       cx_attr(n, "result", m->result, sizeof(m->result), false,
			    err, errlen);
	}
	return cx_unknown_el(n, err, errlen);
}

/* A message's document with its root checked (name, namespace, depth)
 * and its head (ms, time, nonce) parsed; NULL with err set otherwise. */
xmlDocPtr cx_read_message_as(const void *body, size_t len,
				 const char *root, const char *who, char *ms,
				 uint64_t *time_ms, char *nonce, char *err,
				 size_t errlen)
{
	xmlDocPtr doc = cx_xml_read(body, len, root, err, errlen);
	xmlNodePtr r;

	if (!doc)
		return NULL;
	r = xmlDocGetRootElement(doc);
	if (cx_check_depth(r, 1, err, errlen) ||
	    cx_parse_head(r, who, ms, time_ms, nonce, err, errlen)) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

xmlDocPtr cx_read_message(const void *body, size_t len, const char *root,
			      char *ms, uint64_t *time_ms, char *nonce,
			      char *err, size_t errlen)
{
	return cx_read_message_as(body, len, root, "ms", ms, time_ms, nonce, err,
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
	doc = cx_read_message(body, len, "sciReport", r->ms, &r->time_ms,
			   r->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	for (xmlNodePtr n = root->children; !ret && n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			ret = report_child(n, r, &status, err, errlen);
	if (!ret && !status) {
		cx_seterr(err, errlen, "<status> is missing");
		ret = -EBADMSG;
	}
	xmlFreeDoc(doc);
	return ret ? -EBADMSG : 0;
}

/* ---- building ----------------------------------------------------------- */


void xb_init(struct xb *b, const char *root)
{
	memset(b, 0, sizeof(*b));
	cx_xml_init();
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

xmlNodePtr xb_el(struct xb *b, const char *name, const char *content)
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

void xb_attr(struct xb *b, xmlNodePtr n, const char *name,
		    const char *v)
{
	if (b->oom || !n || !v || !*v)
		return;
	if (!xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)v))
		b->oom = true;
}

void xb_attr_u64(struct xb *b, xmlNodePtr n, const char *name,
			uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	xb_attr(b, n, name, buf);
}

int xb_done(struct xb *b, char **out, size_t *out_len)
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

void xb_head(struct xb *b, const char *ms, uint64_t time_ms,
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

	if (!crsap_id_valid(r->ms) || !cx_nonce_valid(r->nonce) ||
	    r->status >= CRSAP_STATUS_MAX ||
	    r->nthreats > CRSAP_THREATS_MAX || r->nremedies > CRSAP_LIST_MAX)
		return -EINVAL;
	xb_init(&b, "sciReport");
	xb_head(&b, r->ms, r->time_ms, r->nonce);
	xb_el(&b, "status", crsap_status_name(r->status));
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

int cx_remediation_attrs(xmlNodePtr n, struct crsap_remediation *m,
			     char *err, size_t errlen)
{
	return cx_attr(n, "service", m->service, sizeof(m->service), true, err,
		    errlen) ?:
	       cx_attr(n, "prefix", m->prefix, sizeof(m->prefix), true, err,
		    errlen) ?:
	       cx_attr(n, "protocol", m->protocol, sizeof(m->protocol), false,
		    err, errlen) ?:
	       cx_attr(n, "ports", m->ports, sizeof(m->ports), false, err,
		    errlen);
}

void cx_remediation_build(struct xb *b, const char *el,
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

	if (!crsap_id_valid(r->ms) || !cx_nonce_valid(r->nonce) ||
	    (r->in_response_to[0] && !cx_nonce_valid(r->in_response_to)) ||
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
		cx_remediation_build(&b, "remediation", &r->remediation[i]);
	if (r->reason[0])
		xb_el(&b, "reason", r->reason);
	return xb_done(&b, out, out_len);
}

static int response_child(xmlNodePtr n, struct crsap_response *r,
			  bool *control, char *err, size_t errlen)
{
	if (cx_is_el(n, "evaluation"))
		return cx_text(n, r->evaluation, sizeof(r->evaluation), err,
			    errlen);
	if (cx_is_el(n, "control")) {
		*control = true;
		return cx_attr(n, "level", r->level, sizeof(r->level), true, err,
			    errlen) ?:
		       cx_u64_attr(n, "until", UINT64_MAX / 2, false,
				&r->until_ms, err, errlen) ?:
		       cx_attr(n, "rule", r->rule, sizeof(r->rule), false, err,
			    errlen);
	}
	if (cx_is_el(n, "allowed")) {
		if (r->nallowed == CRSAP_LIST_MAX)
			return cx_unknown_el(n, err, errlen);
		return cx_attr(n, "service", r->allowed[r->nallowed++],
			    CRSAP_NAME_MAX, true, err, errlen);
	}
	if (cx_is_el(n, "action")) {
		if (r->nactions == CRSAP_LIST_MAX)
			return cx_unknown_el(n, err, errlen);
		return cx_text(n, r->actions[r->nactions++], 64, err, errlen);
	}
	if (cx_is_el(n, "remediation")) {
		if (r->nremediation == CRSAP_LIST_MAX)
			return cx_unknown_el(n, err, errlen);
		return cx_remediation_attrs(n, &r->remediation[r->nremediation++],
					 err, errlen);
	}
	if (cx_is_el(n, "reason"))
		return cx_text(n, r->reason, sizeof(r->reason), err, errlen);
	return cx_unknown_el(n, err, errlen);
}

int crsap_response_parse(const void *body, size_t len,
			 struct crsap_response *r, char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	bool control = false;
	int ret;

	memset(r, 0, sizeof(*r));
	doc = cx_read_message(body, len, "sciResponse", r->ms, &r->time_ms,
			   r->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	root = xmlDocGetRootElement(doc);
	ret = cx_attr(root, "inResponseTo", r->in_response_to,
		   sizeof(r->in_response_to), false, err, errlen);
	for (xmlNodePtr n = root->children; !ret && n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			ret = response_child(n, r, &control, err, errlen);
	if (!ret && (!control || !r->evaluation[0])) {
		cx_seterr(err, errlen, "<evaluation> or <control> is missing");
		ret = -EBADMSG;
	}
	xmlFreeDoc(doc);
	return ret ? -EBADMSG : 0;
}
