// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet's keys and values (fleet.h): pure, no I/O. Values are JSON
 * objects; a value that does not parse, or lacks what it must hold, is
 * refused whole (-EINVAL), never half taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"

static const char hexd[] = "0123456789abcdef";

bool fleet_key_enc(const char *in, char *out, size_t len)
{
	size_t o = 0;

	if (!*in)
		return false;
	for (const unsigned char *c = (const unsigned char *)in; *c; c++) {
		bool plain = (*c >= 'a' && *c <= 'z') ||
			     (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || *c == '-';

		if (o + (plain ? 1 : 3) >= len)
			return false;
		if (plain) {
			out[o++] = (char)*c;
		} else {
			out[o++] = '_';
			out[o++] = hexd[*c >> 4];
			out[o++] = hexd[*c & 15];
		}
	}
	out[o] = '\0';
	return true;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool fleet_key_dec(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (const char *c = in; *c; c++) {
		int v;

		if (o + 1 >= len)
			return false;
		if (*c != '_') {
			if (!((*c >= 'a' && *c <= 'z') ||
			      (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '-'))
				return false;
			out[o++] = *c;
			continue;
		}
		if (hexv(c[1]) < 0 || hexv(c[2]) < 0)
			return false;
		v = hexv(c[1]) << 4 | hexv(c[2]);
		if (!v)
			return false;
		out[o++] = (char)v;
		c += 2;
	}
	out[o] = '\0';
	return o > 0;
}

static char *dump(json_object *o)
{
	char *s = o ? strdup(json_object_to_json_string_ext(
			      o, JSON_C_TO_STRING_PLAIN)) :
		      NULL;

	json_object_put(o);
	return s;
}

static void add_s(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_u(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static json_object *parse(const char *s, size_t n)
{
	struct json_tokener *t = json_tokener_new();
	json_object *o;

	if (!t)
		return NULL;
	o = json_tokener_parse_ex(t, s, (int)n);
	if (o && (json_tokener_get_error(t) != json_tokener_success ||
		  t->char_offset != (int)n ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(t);
	return o;
}

/* A string member into buf: false if absent (and required), not a string,
 * or too long. */
static bool get_s(json_object *o, const char *k, char *buf, size_t len,
		  bool required)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, k, &v)) {
		buf[0] = '\0';
		return !required;
	}
	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	if (strlen(s) >= len)
		return false;
	memcpy(buf, s, strlen(s) + 1);
	return true;
}

static bool get_u(json_object *o, const char *k, uint64_t *ret,
		  bool required)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v)) {
		*ret = 0;
		return !required;
	}
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return false;
	*ret = (uint64_t)json_object_get_int64(v);
	return true;
}

char *fleet_decision_encode(const struct fleet_decision *d)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_s(o, "id", d->id);
	add_s(o, "node", d->node);
	add_s(o, "level", d->level);
	add_u(o, "until_ms", d->until_ms);
	add_u(o, "at_ms", d->at_ms);
	json_object_object_add(o, "release_on_clean",
			       json_object_new_boolean(d->release_on_clean));
	add_s(o, "why", d->why);
	return dump(o);
}

int fleet_decision_decode(const char *s, size_t n, struct fleet_decision *d)
{
	json_object *o = parse(s, n), *v;
	bool ok;

	if (!o)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	ok = get_s(o, "id", d->id, sizeof(d->id), true) && d->id[0] &&
	     get_s(o, "node", d->node, sizeof(d->node), true) && d->node[0] &&
	     get_s(o, "level", d->level, sizeof(d->level), true) &&
	     d->level[0] && get_u(o, "until_ms", &d->until_ms, true) &&
	     get_u(o, "at_ms", &d->at_ms, false) &&
	     get_s(o, "why", d->why, sizeof(d->why), false);
	if (ok && json_object_object_get_ex(o, "release_on_clean", &v)) {
		ok = json_object_is_type(v, json_type_boolean);
		d->release_on_clean = ok && json_object_get_boolean(v);
	}
	json_object_put(o);
	return ok ? 0 : -EINVAL;
}

char *fleet_scope_encode(const struct fleet_scope *s)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_s(o, "scope", s->scope);
	add_s(o, "node", s->node);
	add_s(o, "rule", s->rule);
	add_u(o, "until_ms", s->until_ms);
	add_u(o, "at_ms", s->at_ms);
	add_s(o, "why", s->why);
	return dump(o);
}

int fleet_scope_decode(const char *t, size_t n, struct fleet_scope *s)
{
	json_object *o = parse(t, n);
	bool ok;

	if (!o)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	ok = get_s(o, "scope", s->scope, sizeof(s->scope), true) &&
	     s->scope[0] && get_s(o, "node", s->node, sizeof(s->node), true) &&
	     s->node[0] && get_s(o, "rule", s->rule, sizeof(s->rule), false) &&
	     get_u(o, "until_ms", &s->until_ms, true) &&
	     get_u(o, "at_ms", &s->at_ms, false) &&
	     get_s(o, "why", s->why, sizeof(s->why), false);
	json_object_put(o);
	return ok ? 0 : -EINVAL;
}

char *fleet_prefix_encode(const struct fleet_prefix *x)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_s(o, "prefix", x->prefix);
	add_s(o, "node", x->node);
	add_s(o, "level", x->level);
	add_u(o, "until_ms", x->until_ms);
	add_u(o, "at_ms", x->at_ms);
	add_s(o, "why", x->why);
	return dump(o);
}

int fleet_prefix_decode(const char *t, size_t n, struct fleet_prefix *x)
{
	json_object *o = parse(t, n);
	bool ok;

	if (!o)
		return -EINVAL;
	memset(x, 0, sizeof(*x));
	ok = get_s(o, "prefix", x->prefix, sizeof(x->prefix), true) &&
	     x->prefix[0] && get_s(o, "node", x->node, sizeof(x->node), true) &&
	     x->node[0] && get_s(o, "level", x->level, sizeof(x->level), true) &&
	     x->level[0] && get_u(o, "until_ms", &x->until_ms, true) &&
	     get_u(o, "at_ms", &x->at_ms, false) &&
	     get_s(o, "why", x->why, sizeof(x->why), false);
	json_object_put(o);
	return ok ? 0 : -EINVAL;
}

bool fleet_value_node(const char *t, size_t n, char node[FLEET_NODE_MAX])
{
	json_object *o = parse(t, n);
	bool ok;

	if (!o)
		return false;
	ok = get_s(o, "node", node, FLEET_NODE_MAX, true) && node[0];
	json_object_put(o);
	return ok;
}

char *fleet_event_encode(const struct fleet_event *e)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_s(o, "node", e->node);
	add_s(o, "scope", e->scope);
	add_s(o, "who", e->who);
	add_u(o, "kind", (uint64_t)e->kind);
	add_s(o, "terminal", e->terminal);
	add_u(o, "status", (uint64_t)e->status);
	add_u(o, "severity", e->severity);
	add_u(o, "signature", e->signature);
	add_s(o, "detail", e->detail);
	add_s(o, "source", e->source);
	add_u(o, "at_ms", e->at_ms);
	return dump(o);
}

int fleet_event_decode(const char *t, size_t n, struct fleet_event *e)
{
	json_object *o = parse(t, n);
	uint64_t kind = 0, status = 0, sev = 0;
	bool ok;

	if (!o)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	ok = get_s(o, "node", e->node, sizeof(e->node), true) && e->node[0] &&
	     get_s(o, "scope", e->scope, sizeof(e->scope), false) &&
	     get_s(o, "who", e->who, sizeof(e->who), false) &&
	     get_u(o, "kind", &kind, true) && kind <= 2 &&
	     get_s(o, "terminal", e->terminal, sizeof(e->terminal), true) &&
	     get_u(o, "status", &status, false) && status < 256 &&
	     get_u(o, "severity", &sev, false) && sev < 256 &&
	     get_u(o, "signature", &e->signature, false) &&
	     get_s(o, "detail", e->detail, sizeof(e->detail), false) &&
	     get_s(o, "source", e->source, sizeof(e->source), false) &&
	     get_u(o, "at_ms", &e->at_ms, false);
	e->kind = (int)kind;
	e->status = (int)status;
	e->severity = (unsigned)sev;
	json_object_put(o);
	return ok ? 0 : -EINVAL;
}
