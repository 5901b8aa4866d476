// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "addr.h"
#include "jsonline.h"
#include "lineproto.h"
#include "policy.h"

/* Lines are bounded by the reader; objects nest at most this deep. */
#define LINE_DEPTH 4

static json_object *parse_object(const char *line, size_t len)
{
	const char *why;

	return json_line_object(line, len, LINE_DEPTH, &why);
}

static const char *get_str(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A name argument (level, scope): required, printable, bounded. */
static int get_name(json_object *o, const char *k, char *out, char *err,
		    size_t errlen)
{
	const char *s = get_str(o, k);
	size_t n;

	if (!s)
		return fail(err, errlen, "\"%s\" is required", k);
	n = strlen(s);
	if (!n || n >= CTL_NAME_MAX)
		return fail(err, errlen, "\"%s\": 1 to %d characters", k,
			    CTL_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(err, errlen, "\"%s\": control character",
				    k);
	memcpy(out, s, n + 1);
	return 0;
}

/* An address, or (prefix_ok) a prefix: *plen 128 for one address. */
static int get_terminal(json_object *o, struct xcrs_addr *a, unsigned *plen,
			bool prefix_ok, char *err, size_t errlen)
{
	const char *s = get_str(o, "terminal");

	*plen = 128;
	if (!s)
		return fail(err, errlen,
			    "\"terminal\" (an address) is required");
	if (prefix_ok && strchr(s, '/')) {
		if (addr_prefix_parse(s, a, plen))
			return fail(err, errlen,
				    "\"%.64s\" is not an IPv4 or IPv6 prefix "
				    "(without host bits)", s);
		return 0;
	}
	if (addr_parse(s, a))
		return fail(err, errlen,
			    "\"%.64s\" is not an IPv4 or IPv6 address", s);
	return 0;
}

/* "for": a duration; absent = until released. */
static int get_for(json_object *o, uint64_t *ns, char *err, size_t errlen)
{
	const char *s = get_str(o, "for");

	*ns = 0;
	if (!s)
		return 0;
	if (policy_duration_parse(s, ns) || !*ns)
		return fail(err, errlen,
			    "\"%.64s\" is not a duration (e.g. 30s, 10m, "
			    "1h30m, 2d)", s);
	return 0;
}

static const struct {
	const char *name;
	enum ctl_cmd cmd;
} cmds[] = {
	{ "status", CTL_STATUS },	  { "terminals", CTL_TERMINALS },
	{ "show", CTL_SHOW },		  { "react", CTL_REACT },
	{ "release", CTL_RELEASE },	  { "scope-contain", CTL_CONTAIN },
	{ "scope-release", CTL_UNCONTAIN }, { "stats", CTL_STATS },
	{ "updates", CTL_UPDATES },	  { "ms", CTL_MS },
	{ "reload", CTL_RELOAD },
};

int ctl_parse(const char *line, size_t len, struct ctl_req *ret, char *err,
	      size_t errlen)
{
	json_object *o = parse_object(line, len);
	struct ctl_req r = { 0 };
	const char *cmd, *s;
	size_t i;
	int e = 0;

	if (!o || !(cmd = get_str(o, "cmd"))) {
		json_object_put(o);
		return fail(err, errlen,
			    "request is not a JSON object with \"cmd\"");
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		e = fail(err, errlen, "unknown command \"%.64s\"", cmd);
		goto out;
	}
	r.cmd = cmds[i].cmd;
	switch (r.cmd) {
	case CTL_SHOW:
		e = get_terminal(o, &r.terminal, &r.plen, false, err, errlen);
		break;
	case CTL_RELEASE:
		e = get_terminal(o, &r.terminal, &r.plen, true, err, errlen);
		break;
	case CTL_REACT:
		e = get_terminal(o, &r.terminal, &r.plen, true, err, errlen);
		if (!e)
			e = get_for(o, &r.for_ns, err, errlen);
		if (!e)
			e = get_name(o, "level", r.level, err, errlen);
		if (!e && (s = get_str(o, "reason")))
			snprintf(r.reason, sizeof(r.reason), "%s", s);
		break;
	case CTL_CONTAIN:
		e = get_name(o, "scope", r.scope, err, errlen);
		if (!e)
			e = get_for(o, &r.for_ns, err, errlen);
		s = get_str(o, "mode");
		if (!e && s && !strcmp(s, "isolate"))
			r.mode = XCRS_CONTAIN_ISOLATE;
		else if (!e && s && !strcmp(s, "no-lateral"))
			r.mode = XCRS_CONTAIN_NO_LATERAL;
		else if (!e && s)
			e = fail(err, errlen, "mode \"%.64s\": expected "
					      "isolate or no-lateral", s);
		break;
	case CTL_UNCONTAIN:
		e = get_name(o, "scope", r.scope, err, errlen);
		break;
	default:
		break;
	}
out:
	json_object_put(o);
	if (!e)
		*ret = r;
	return e;
}

int session_line_parse(const char *line, size_t len, bool *ret_connect,
		       struct xcrs_addr *ret_ms)
{
	json_object *o;
	const char *e, *m;
	struct xcrs_addr a;
	size_t n = len;
	int r = -EINVAL;

	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
		     line[n - 1] == '\n' || line[n - 1] == '\t'))
		n--;
	if (!n)
		return -ENODATA;
	o = parse_object(line, n);
	if (o && (e = get_str(o, "event")) && (m = get_str(o, "ms")) &&
	    !addr_parse(m, &a) && (!strcmp(e, "connect") ||
				   !strcmp(e, "leave"))) {
		*ret_connect = !strcmp(e, "connect");
		*ret_ms = a;
		r = 0;
	}
	json_object_put(o);
	return r;
}
