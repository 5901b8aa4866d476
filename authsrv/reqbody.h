/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The JSON bodies of xcrs-authsrv's requests (POST /v1/bootstrap…,
 * /v1/keys, /v1/assertion): the attacker's bytes, parsed before anything
 * else looks at them. Pure (no I/O); fuzzed (test/fuzz/fuzz-authmsg.c).
 */
#ifndef XCRS_AUTHSRV_REQBODY_H
#define XCRS_AUTHSRV_REQBODY_H

#include <stddef.h>
#include <json-c/json.h>

/* Largest body accepted. */
#define REQBODY_MAX 8192
/* Nesting accepted (objects and arrays): a body is a flat object. */
#define REQBODY_DEPTH 8

/* buf[0..len) as one JSON object (not NUL-terminated; a NUL inside, a
 * nesting past REQBODY_DEPTH, anything but blanks after the object, a value
 * other than an object: refused). 0 with *ret (the caller puts it), or
 * -EINVAL. */
int reqbody_parse(const char *buf, size_t len, json_object **ret);
/* The same, saying why in err when it is refused. */
int reqbody_parse_err(const char *buf, size_t len, json_object **ret,
		      char *err, size_t errlen);
/* A string member of at most max characters (and no NUL), or NULL. */
const char *reqbody_str(json_object *o, const char *key, size_t max);

#endif
