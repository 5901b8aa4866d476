// SPDX-License-Identifier: GPL-2.0-only
/* CRSAP (see crsap.h): probes, update instructions and NAC/SCS messages. */
#include "crsap-internal.h"

/* ---- probes, update instructions, NAC/SCS messages ------------------------ */

const char *crsap_root(const void *body, size_t len, char *buf, size_t buflen)
{
	xmlDocPtr doc = cx_xml_read(body, len, NULL, NULL, 0);
	xmlNodePtr r;

	if (!doc)
		return NULL;
	r = xmlDocGetRootElement(doc);
	snprintf(buf, buflen, "%s", (const char *)r->name);
	xmlFreeDoc(doc);
	return buf;
}

/* Runs fn over the element children of the root; 0 or -EBADMSG. */

int cx_children(xmlDocPtr doc, child_fn fn, void *obj, char *err,
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

	if (cx_is_el(n, "scs"))
		return cx_attr(n, "id", p->scs, sizeof(p->scs), true, err, errlen);
	if (cx_is_el(n, "reportTo"))
		return cx_attr(n, "address", p->report_to, sizeof(p->report_to),
			    true, err, errlen);
	if (cx_is_el(n, "reportInterval")) {
		ret = cx_u64_attr(n, "seconds", 86400 * 7, true, &v, err, errlen);
		p->report_interval_s = (uint32_t)v;
		return ret;
	}
	return cx_unknown_el(n, err, errlen);
}

int crsap_probe_parse(const void *body, size_t len, struct crsap_probe *p,
		      char *err, size_t errlen)
{
	xmlDocPtr doc;
	int ret;

	memset(p, 0, sizeof(*p));
	doc = cx_read_message(body, len, "scaProbeRequest", p->ms, &p->time_ms,
			   p->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	ret = cx_children(doc, probe_child, p, err, errlen);
	if (!ret && !p->scs[0]) {
		cx_seterr(err, errlen, "<scs> is missing");
		ret = -EBADMSG;
	}
	return ret;
}

int crsap_probe_build(const struct crsap_probe *p, char **out,
		      size_t *out_len)
{
	struct xb b;
	xmlNodePtr n;

	if (!crsap_id_valid(p->ms) || !cx_nonce_valid(p->nonce) || !p->scs[0])
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

	if (cx_is_el(n, "sca"))
		return cx_attr(n, "version", p->sca_version,
			    sizeof(p->sca_version), true, err, errlen);
	if (cx_is_el(n, "os"))
		return cx_attr(n, "name", p->os_name, sizeof(p->os_name), true,
			    err, errlen) ?:
		       cx_attr(n, "version", p->os_version,
			    sizeof(p->os_version), false, err, errlen);
	return cx_unknown_el(n, err, errlen);
}

int crsap_probe_response_parse(const void *body, size_t len,
			       struct crsap_probe_response *p, char *err,
			       size_t errlen)
{
	xmlDocPtr doc;
	int ret;

	memset(p, 0, sizeof(*p));
	doc = cx_read_message(body, len, "scaProbeResponse", p->ms, &p->time_ms,
			   p->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	if (cx_attr(xmlDocGetRootElement(doc), "inResponseTo", p->in_response_to,
		 sizeof(p->in_response_to), true, err, errlen) ||
	    !cx_nonce_valid(p->in_response_to)) {
		if (!err || !*err)
			cx_seterr(err, errlen, "inResponseTo is not a nonce");
		xmlFreeDoc(doc);
		return -EBADMSG;
	}
	ret = cx_children(doc, probe_resp_child, p, err, errlen);
	if (!ret && !p->sca_version[0]) {
		cx_seterr(err, errlen, "<sca> is missing");
		ret = -EBADMSG;
	}
	return ret;
}

int crsap_probe_response_build(const struct crsap_probe_response *p,
			       char **out, size_t *out_len)
{
	struct xb b;
	xmlNodePtr n;

	if (!crsap_id_valid(p->ms) || !cx_nonce_valid(p->nonce) ||
	    !cx_nonce_valid(p->in_response_to) || !p->sca_version[0])
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

	if (cx_is_el(n, "update"))
		return cx_attr(n, "what", u->what, sizeof(u->what), true, err,
			    errlen) ?:
		       cx_attr(n, "campaign", u->campaign, sizeof(u->campaign),
			    false, err, errlen);
	if (cx_is_el(n, "delay"))
		return cx_u64_attr(n, "ms", UINT64_MAX / 2, true, &u->delay_ms,
				err, errlen);
	if (cx_is_el(n, "deadline"))
		return cx_u64_attr(n, "time", UINT64_MAX / 2, true,
				&u->deadline_ms, err, errlen);
	if (cx_is_el(n, "source"))
		return cx_remediation_attrs(n, &u->source, err, errlen);
	if (cx_is_el(n, "reason"))
		return cx_text(n, u->reason, sizeof(u->reason), err, errlen);
	return cx_unknown_el(n, err, errlen);
}

int crsap_update_parse(const void *body, size_t len, struct crsap_update *u,
		       char *err, size_t errlen)
{
	xmlDocPtr doc;
	int ret;

	memset(u, 0, sizeof(*u));
	doc = cx_read_message(body, len, "updateInstruction", u->ms, &u->time_ms,
			   u->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	ret = cx_children(doc, update_child, u, err, errlen);
	if (!ret && !u->what[0]) {
		cx_seterr(err, errlen, "<update> is missing");
		ret = -EBADMSG;
	}
	return ret;
}

int crsap_update_build(const struct crsap_update *u, char **out,
		       size_t *out_len)
{
	struct xb b;
	xmlNodePtr n;

	if (!crsap_id_valid(u->ms) || !cx_nonce_valid(u->nonce) || !u->what[0])
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
		cx_remediation_build(&b, "source", &u->source);
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

	if (cx_is_el(n, "ms")) {
		struct xcrs_addr a;
		int ret = cx_attr(n, "address", m->address, sizeof(m->address),
			       true, err, errlen) ?:
			  cx_attr(n, "scope", m->scope, sizeof(m->scope), false,
			       err, errlen);

		if (!ret && addr_parse(m->address, &a)) {
			cx_seterr(err, errlen, "ms/@address \"%s\" is not an "
					    "address", m->address);
			ret = -EBADMSG;
		}
		return ret;
	}
	if (cx_is_el(n, "cause") && m->kind != CRSAP_CONTROL_POLICY)
		return cx_text(n, m->cause, sizeof(m->cause), err, errlen);
	if (m->kind != CRSAP_CONTROL_POLICY)
		return cx_unknown_el(n, err, errlen);
	if (cx_is_el(n, "evaluation"))
		return cx_text(n, m->evaluation, sizeof(m->evaluation), err,
			    errlen);
	if (cx_is_el(n, "control"))
		return cx_attr(n, "level", m->level, sizeof(m->level), true, err,
			    errlen) ?:
		       cx_u64_attr(n, "until", UINT64_MAX / 2, false,
				&m->until_ms, err, errlen) ?:
		       cx_attr(n, "rule", m->rule, sizeof(m->rule), false, err,
			    errlen);
	if (cx_is_el(n, "reason"))
		return cx_text(n, m->reason, sizeof(m->reason), err, errlen);
	return cx_unknown_el(n, err, errlen);
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
		doc = cx_xml_read(body, len, NULL, err, errlen);
		if (doc)
			xmlFreeDoc(doc);
		return -EBADMSG;
	}
	for (m->kind = 0; m->kind <= CRSAP_CONTROL_POLICY; m->kind++)
		if (!strcmp(root, nac_roots[m->kind]))
			break;
	if (m->kind > CRSAP_CONTROL_POLICY) {
		cx_seterr(err, errlen, "<%s> is not a NAC/SCS message", root);
		return -EBADMSG;
	}
	doc = cx_read_message_as(body, len, root, "node", m->node, &m->time_ms,
			      m->nonce, err, errlen);
	if (!doc)
		return -EBADMSG;
	ret = cx_children(doc, nac_child, m, err, errlen);
	if (!ret && !m->address[0]) {
		cx_seterr(err, errlen, "<ms> is missing");
		ret = -EBADMSG;
	}
	if (!ret && m->kind == CRSAP_CONTROL_POLICY &&
	    (!m->level[0] || !m->evaluation[0])) {
		cx_seterr(err, errlen, "<evaluation> or <control> is missing");
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
	    !crsap_id_valid(m->node) || !cx_nonce_valid(m->nonce) ||
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
