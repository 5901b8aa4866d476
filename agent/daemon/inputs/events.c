// SPDX-License-Identifier: GPL-2.0-only
/* EVE JSON and generic sensor events (see events.h). */
#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "addr.h"
#include "jsonline.h"

static int bad(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static json_object *parse_object(const char *line, size_t len, char *err,
				 size_t errlen)
{
	const char *why;
	json_object *o;

	if (len > EV_LINE_MAX) {
		bad(err, errlen, "line longer than %d bytes", EV_LINE_MAX);
		return NULL;
	}
	o = json_line_object(line, len, 16, &why);
	if (!o)
		bad(err, errlen, "not a JSON object: %s", why);
	return o;
}

static int get_str(json_object *o, const char *key, bool required,
		   const char **out, char *err, size_t errlen)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null)) {
		if (required)
			return bad(err, errlen, "\"%s\" is missing", key);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return bad(err, errlen, "\"%s\" is not a string", key);
	*out = json_object_get_string(v);
	return 0;
}

static int get_uint(json_object *o, const char *key, uint64_t min,
		    uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return bad(err, errlen, "\"%s\" is missing", key);
	if (!json_object_is_type(v, json_type_int))
		return bad(err, errlen, "\"%s\" is not an integer", key);
	errno = 0;
	n = json_object_get_int64(v);
	if (errno || n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return bad(err, errlen, "\"%s\" is not in %" PRIu64 "..%" PRIu64,
			   key, min, max);
	*out = (uint64_t)n;
	return 0;
}

static int get_addr(json_object *o, const char *key, bool required,
		    struct xcrs_addr *a, bool *present, char *err,
		    size_t errlen)
{
	const char *s;
	int ret = get_str(o, key, required, &s, err, errlen);

	if (ret)
		return ret;
	if (present)
		*present = s != NULL;
	if (s && addr_parse(s, a))
		return bad(err, errlen, "\"%s\": \"%.60s\" is not an address",
			   key, s);
	return 0;
}

static void copy(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s ? s : "");
}

int ev_parse_eve(const char *line, size_t len, struct ev_alert *a, char *err,
		 size_t errlen)
{
	json_object *o, *alert;
	const char *type, *text;
	uint64_t v;
	int ret;

	memset(a, 0, sizeof(*a));
	o = parse_object(line, len, err, errlen);
	if (!o)
		return -EBADMSG;
	ret = get_str(o, "event_type", true, &type, err, errlen);
	if (ret || strcmp(type, "alert"))
		goto out;
	ret = get_addr(o, "src_ip", true, &a->src, NULL, err, errlen) ?:
	      get_addr(o, "dest_ip", true, &a->dst, &a->has_dst, err, errlen);
	if (ret)
		goto out;
	if (!json_object_object_get_ex(o, "alert", &alert) ||
	    !json_object_is_type(alert, json_type_object)) {
		ret = bad(err, errlen, "\"alert\" is missing or not an object");
		goto out;
	}
	ret = get_uint(alert, "signature_id", 0, UINT32_MAX, &a->signature,
		       err, errlen) ?:
	      get_uint(alert, "severity", 1, 255, &v, err, errlen) ?:
	      get_str(alert, "signature", false, &text, err, errlen);
	if (ret)
		goto out;
	a->severity = (unsigned)v;
	copy(a->text, sizeof(a->text), text);
	ret = get_str(o, "host", false, &text, err, errlen);
	if (ret)
		goto out;
	copy(a->sensor, sizeof(a->sensor), text ? text : "suricata");
	ret = 1;
out:
	json_object_put(o);
	return ret;
}

int ev_parse_generic(const char *line, size_t len, struct ev_alert *a,
		     char *err, size_t errlen)
{
	json_object *o;
	const char *text = NULL, *sensor = NULL;
	uint64_t v = 0;
	int ret;

	memset(a, 0, sizeof(*a));
	o = parse_object(line, len, err, errlen);
	if (!o)
		return -EBADMSG;
	ret = get_addr(o, "terminal", true, &a->src, NULL, err, errlen) ?:
	      get_uint(o, "severity", 1, 255, &v, err, errlen) ?:
	      get_uint(o, "signature_id", 0, UINT32_MAX, &a->signature, err,
		       errlen) ?:
	      get_str(o, "signature", false, &text, err, errlen) ?:
	      get_str(o, "sensor", false, &sensor, err, errlen);
	if (!ret) {
		a->severity = (unsigned)v;
		copy(a->text, sizeof(a->text), text);
		copy(a->sensor, sizeof(a->sensor), sensor ? sensor : "sensor");
		ret = 1;
	}
	json_object_put(o);
	return ret;
}

int ev_to_corr(const struct ev_alert *a, ev_is_subscriber_fn is_sub,
	       void *ctx, const char *source, struct corr_event *ev)
{
	const struct xcrs_addr *t;

	if (is_sub(ctx, &a->src))
		t = &a->src;
	else if (a->has_dst && is_sub(ctx, &a->dst))
		t = &a->dst;
	else
		return -ENOENT;
	memset(ev, 0, sizeof(*ev));
	ev->kind = CORR_EV_IDS;
	ev->terminal = *t;
	ev->severity = a->severity;
	ev->signature = a->signature;
	snprintf(ev->detail, sizeof(ev->detail), "%s", a->text);
	snprintf(ev->source, sizeof(ev->source), "%.8s:%.38s", source, a->sensor);
	return 0;
}
