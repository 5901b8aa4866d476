/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The CRSAP library's helpers shared by its files (crsap-frame.c: framing,
 * MAC and verification; crsap-xml.c: the hardened XML reader and writer,
 * reports and SCI responses; crsap-msgs.c: probes, update instructions and
 * NAC/SCS messages; crsap-keys.c: the key file and the replay cache). Not
 * an interface: the library's is crsap.h. Helpers return 0 or -errno and
 * say why in err.
 */
#ifndef XCRS_CRSAP_INTERNAL_H
#define XCRS_CRSAP_INTERNAL_H

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

struct xb {
	xmlDocPtr doc;
	xmlNodePtr root;
	xmlNsPtr ns;
	bool oom;
};

void cx_seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool cx_nonce_valid(const char *s);
void cx_mac_of(const uint8_t *key, size_t keylen, const void *body,
	size_t len, uint8_t out[CRSAP_MAC_LEN]);
xmlDocPtr cx_xml_read(const void *body, size_t len, const char *root,
	char *err, size_t errlen);
bool cx_is_el(xmlNodePtr n, const char *name);
int cx_copy_str(xmlChar *v, char *buf, size_t len, bool required,
	const char *what, char *err, size_t errlen);
int cx_attr(xmlNodePtr n, const char *name, char *buf, size_t len,
	bool required, char *err, size_t errlen);
int cx_text(xmlNodePtr n, char *buf, size_t len, char *err, size_t errlen);
int cx_parse_u64(const char *s, uint64_t max, uint64_t *out);
int cx_u64_attr(xmlNodePtr n, const char *name, uint64_t max,
	bool required, uint64_t *out, char *err, size_t errlen);
int cx_parse_head(xmlNodePtr r, const char *who, char *ms,
	uint64_t *time_ms, char *nonce, char *err, size_t errlen);
int cx_check_depth(xmlNodePtr n, int depth, char *err, size_t errlen);
int cx_unknown_el(xmlNodePtr n, char *err, size_t errlen);
xmlDocPtr cx_read_message_as(const void *body, size_t len,
	const char *root, const char *who, char *ms,
	uint64_t *time_ms, char *nonce, char *err,
	size_t errlen);
xmlDocPtr cx_read_message(const void *body, size_t len, const char *root,
	char *ms, uint64_t *time_ms, char *nonce,
	char *err, size_t errlen);
void xb_init(struct xb *b, const char *root);
xmlNodePtr xb_el(struct xb *b, const char *name, const char *content);
void xb_attr(struct xb *b, xmlNodePtr n, const char *name,
	const char *v);
void xb_attr_u64(struct xb *b, xmlNodePtr n, const char *name,
	uint64_t v);
int xb_done(struct xb *b, char **out, size_t *out_len);
void xb_head(struct xb *b, const char *ms, uint64_t time_ms,
	const char *nonce);
int cx_remediation_attrs(xmlNodePtr n, struct crsap_remediation *m,
	char *err, size_t errlen);
void cx_remediation_build(struct xb *b, const char *el,
	const struct crsap_remediation *m);
void cx_xml_init(void);
typedef int (*child_fn)(xmlNodePtr n, void *obj, char *err, size_t errlen);
int cx_children(xmlDocPtr doc, child_fn fn, void *obj, char *err,
	size_t errlen);

#endif
