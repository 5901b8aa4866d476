// SPDX-License-Identifier: GPL-2.0-only
/* The control protocol and the session feed (see lineproto.h). */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "addr.h"
#include "jsonline.h"
#include "lineproto.h"
#include "duration.h"

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
/* "imsi:DIGITS", "msisdn:DIGITS", "user:NAME": a subscriber. 1 if s is
 * one (copied into sub), 0 if it is not, -EINVAL if it is a bad one. */
static int get_subscriber(const char *s, char *sub, char *err,
			  size_t errlen)
{
	static const char *const kinds[] = { "imsi:", "msisdn:", "user:" };
	size_t n = strlen(s);

	for (size_t k = 0; k < 3; k++) {
		size_t kl = strlen(kinds[k]);

		if (strncmp(s, kinds[k], kl))
			continue;
		if (n == kl || n >= CTL_SUBSCRIBER_MAX)
			return fail(err, errlen, "\"%.64s\": a subscriber "
						 "needs its identity (at most "
						 "%d characters)",
				    s, CTL_SUBSCRIBER_MAX - 1);
		for (size_t i = kl; i < n; i++)
			if (k < 2 ? (s[i] < '0' || s[i] > '9') :
				    ((unsigned char)s[i] <= 0x20 ||
				     s[i] == 0x7f))
				return fail(err, errlen,
					    "\"%.64s\": %s", s,
					    k < 2 ? "digits only after the "
						    "colon" :
						    "no spaces or control "
						    "characters");
		memcpy(sub, s, n + 1);
		return 1;
	}
	return 0;
}

static int get_terminal(json_object *o, struct xcrs_addr *a, unsigned *plen,
			bool prefix_ok, char *sub, char *err, size_t errlen)
{
	const char *s = get_str(o, "terminal");
	int r;

	*plen = 128;
	if (!s)
		return fail(err, errlen,
			    "\"terminal\" (an address) is required");
	r = get_subscriber(s, sub, err, errlen);
	if (r)
		return r < 0 ? r : 0;
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

/* An optional text argument that must fit buf; absent leaves it "". */
static int get_text(json_object *o, const char *k, char *buf, size_t len,
		    char *err, size_t errlen)
{
	const char *s = get_str(o, k);

	if (!s)
		return 0;
	if (!*s || strlen(s) >= len)
		return fail(err, errlen, "%s: 1 to %zu characters", k, len - 1);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* "for": a duration; absent = until released. */
static int get_for(json_object *o, uint64_t *ns, char *err, size_t errlen)
{
	const char *s = get_str(o, "for");

	*ns = 0;
	if (!s)
		return 0;
	if (duration_parse(s, ns) || !*ns)
		return fail(err, errlen,
			    "\"%.64s\" is not a duration (e.g. 30s, 10m, "
			    "1h30m, 2d)", s);
	return 0;
}

const struct ctl_cmd_def ctl_cmds[] = {
	{ "status", CTL_STATUS, 0, 0 },
	{ "terminals", CTL_TERMINALS, 0, 0 },
	{ "show", CTL_SHOW, CTL_A_TERMINAL, CTL_A_TERMINAL },
	{ "react", CTL_REACT,
	  CTL_A_TERMINAL | CTL_A_PREFIX | CTL_A_FOR | CTL_A_LEVEL |
		  CTL_A_REASON,
	  CTL_A_TERMINAL | CTL_A_LEVEL },
	{ "release", CTL_RELEASE, CTL_A_TERMINAL | CTL_A_PREFIX,
	  CTL_A_TERMINAL },
	{ "scope-contain", CTL_CONTAIN, CTL_A_SCOPE | CTL_A_FOR | CTL_A_MODE,
	  CTL_A_SCOPE },
	{ "scope-release", CTL_UNCONTAIN, CTL_A_SCOPE, CTL_A_SCOPE },
	{ "stats", CTL_STATS, 0, 0 },
	{ "updates", CTL_UPDATES, 0, 0 },
	{ "ms", CTL_MS, 0, 0 },
	{ "sessions", CTL_SESSIONS, CTL_A_APN | CTL_A_LOCATION, 0 },
	{ "reload", CTL_RELOAD, CTL_A_ACTION, 0 },
	{ "forget", CTL_FORGET, CTL_A_TERMINAL, CTL_A_TERMINAL },
};
const size_t ctl_ncmds = sizeof(ctl_cmds) / sizeof(ctl_cmds[0]);

const struct ctl_cmd_def *ctl_cmd_find(const char *name)
{
	for (size_t i = 0; i < ctl_ncmds; i++)
		if (!strcmp(name, ctl_cmds[i].name))
			return &ctl_cmds[i];
	return NULL;
}

/* The JSON member of each argument bit, and the client's value. */
static const struct {
	unsigned bit;
	const char *key;
	size_t off; /* in struct ctl_args */
} arg_keys[] = {
	{ CTL_A_TERMINAL, "terminal", offsetof(struct ctl_args, terminal) },
	{ CTL_A_SCOPE, "scope", offsetof(struct ctl_args, scope) },
	{ CTL_A_FOR, "for", offsetof(struct ctl_args, duration) },
	{ CTL_A_LEVEL, "level", offsetof(struct ctl_args, level) },
	{ CTL_A_REASON, "reason", offsetof(struct ctl_args, reason) },
	{ CTL_A_MODE, "mode", offsetof(struct ctl_args, mode) },
	{ CTL_A_APN, "apn", offsetof(struct ctl_args, apn) },
	{ CTL_A_LOCATION, "location", offsetof(struct ctl_args, location) },
	{ CTL_A_ACTION, "action", offsetof(struct ctl_args, action) },
};

int ctl_build(const char *name, const struct ctl_args *a, char **ret_line,
	      char *err, size_t errlen)
{
	const struct ctl_cmd_def *d = ctl_cmd_find(name);
	json_object *o;
	char *line;

	if (!d)
		return fail(err, errlen, "unknown command \"%s\"", name);
	o = json_object_new_object();
	json_object_object_add(o, "cmd", json_object_new_string(name));
	for (size_t i = 0; i < sizeof(arg_keys) / sizeof(arg_keys[0]); i++) {
		const char *v =
			*(const char *const *)((const char *)a + arg_keys[i].off);

		if (v && !(d->args & arg_keys[i].bit)) {
			json_object_put(o);
			return fail(err, errlen, "\"%s\" does not apply to %s",
				    arg_keys[i].key, name);
		}
		if (!v && (d->required & arg_keys[i].bit)) {
			json_object_put(o);
			return fail(err, errlen, "%s needs \"%s\"", name,
				    arg_keys[i].key);
		}
		if (v)
			json_object_object_add(o, arg_keys[i].key,
					       json_object_new_string(v));
	}
	line = strdup(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if (!line)
		return -ENOMEM;
	*ret_line = line;
	return 0;
}

int ctl_parse(const char *line, size_t len, struct ctl_req *ret, char *err,
	      size_t errlen)
{
	json_object *o = parse_object(line, len);
	const struct ctl_cmd_def *d;
	struct ctl_req r = { 0 };
	const char *cmd, *s;
	int e = 0;

	if (!o || !(cmd = get_str(o, "cmd"))) {
		json_object_put(o);
		return fail(err, errlen,
			    "request is not a JSON object with \"cmd\"");
	}
	d = ctl_cmd_find(cmd);
	if (!d) {
		e = fail(err, errlen, "unknown command \"%.64s\"", cmd);
		goto out;
	}
	r.cmd = d->cmd;
	r.plen = 128;
	/* in the order of arg_keys: terminal or scope first, then for,
	 * level, reason, mode */
	if (d->args & CTL_A_TERMINAL)
		e = get_terminal(o, &r.terminal, &r.plen,
				 d->args & CTL_A_PREFIX, r.subscriber, err,
				 errlen);
	if (!e && (d->args & CTL_A_SCOPE))
		e = get_name(o, "scope", r.scope, err, errlen);
	if (!e && (d->args & CTL_A_FOR))
		e = get_for(o, &r.for_ns, err, errlen);
	if (!e && (d->args & CTL_A_LEVEL))
		e = get_name(o, "level", r.level, err, errlen);
	if (!e && (d->args & CTL_A_REASON) && (s = get_str(o, "reason")))
		snprintf(r.reason, sizeof(r.reason), "%s", s);
	if (!e && (d->args & CTL_A_APN))
		e = get_text(o, "apn", r.apn, sizeof(r.apn), err, errlen);
	if (!e && (d->args & CTL_A_LOCATION))
		e = get_text(o, "location", r.location, sizeof(r.location), err,
			     errlen);
	if (!e && (d->args & CTL_A_MODE) && (s = get_str(o, "mode"))) {
		if (!strcmp(s, "isolate"))
			r.mode = XCRS_CONTAIN_ISOLATE;
		else if (!strcmp(s, "no-lateral"))
			r.mode = XCRS_CONTAIN_NO_LATERAL;
		else
			e = fail(err, errlen, "mode \"%.64s\": expected "
					      "isolate or no-lateral", s);
	}
	if (!e && (d->args & CTL_A_ACTION) && (s = get_str(o, "action"))) {
		if (!strcmp(s, "dry-run"))
			r.reload = CTL_RELOAD_DRY_RUN;
		else if (!strcmp(s, "release"))
			r.reload = CTL_RELOAD_RELEASE;
		else
			e = fail(err, errlen, "action \"%.64s\": expected "
					      "dry-run or release", s);
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

static int fact_str(json_object *o, const char *k, char *buf, size_t cap,
		    bool digits, char *err, size_t errlen)
{
	json_object *v;
	const char *x;
	size_t n;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, k, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, "\"%s\" is not a string", k);
	x = json_object_get_string(v);
	n = strlen(x);
	if (!n || n >= cap)
		return fail(err, errlen, "\"%s\": 1 to %zu characters", k,
			    cap - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)x[i] < 0x20 || x[i] == 0x7f ||
		    (digits && (x[i] < '0' || x[i] > '9') &&
		     !(i == 0 && x[i] == '+' && !strcmp(k, "msisdn"))))
			return fail(err, errlen, "\"%s\": %s", k,
				    digits ? "digits only" :
					     "no control characters");
	memcpy(buf, x, n + 1);
	return 0;
}

int session_fact_parse(const char *line, size_t len,
		       struct session_fact *ret, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		int status;
	} ev[] = { { "start", 1 }, { "stop", 2 }, { "interim", 3 },
		   { "accounting-on", 7 } };
	struct session_fact f;
	json_object *o, *v;
	const char *e, *x;
	size_t n = len;
	char ip[64];
	int r = 0;

	while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
		     line[n - 1] == '\n' || line[n - 1] == '\t'))
		n--;
	if (!n)
		return -ENODATA;
	o = parse_object(line, n);
	if (!o)
		return fail(err, errlen, "not one JSON object");
	if (!json_object_object_get_ex(o, "session", &v) &&
	    !(json_object_object_get_ex(o, "event", &v) &&
	      json_object_is_type(v, json_type_string) &&
	      !strcmp(json_object_get_string(v), "accounting-on"))) {
		json_object_put(o);
		return -ENOENT;
	}
	memset(&f, 0, sizeof(f));
	e = get_str(o, "event");
	for (size_t i = 0; e && i < sizeof(ev) / sizeof(ev[0]); i++)
		if (!strcmp(e, ev[i].name))
			f.status = ev[i].status;
	if (!f.status)
		r = fail(err, errlen, "\"event\": start, interim, stop or "
				      "accounting-on");
	if (!r)
		r = fact_str(o, "session", f.session, sizeof(f.session), false,
			     err, errlen) ?:
		    fact_str(o, "nas", f.nas, sizeof(f.nas), false, err,
			     errlen) ?:
		    fact_str(o, "imsi", f.imsi, sizeof(f.imsi), true, err,
			     errlen) ?:
		    fact_str(o, "msisdn", f.msisdn, sizeof(f.msisdn), true, err,
			     errlen) ?:
		    fact_str(o, "apn", f.apn, sizeof(f.apn), false, err,
			     errlen) ?:
		    fact_str(o, "location", f.location, sizeof(f.location),
			     false, err, errlen);
	if (!r && f.imsi[0] && strlen(f.imsi) < 5)
		r = fail(err, errlen, "\"imsi\": 5 to 15 digits");
	if (!r && f.status != 7 && !f.session[0])
		r = fail(err, errlen, "\"session\" is required");
	if (!r && (x = get_str(o, "ipv4"))) {
		if (addr_parse(x, &f.ipv4) || !addr_is_v4(&f.ipv4))
			r = fail(err, errlen, "\"ipv4\": not an IPv4 address");
		f.has_ipv4 = true;
	}
	if (!r && (x = get_str(o, "ipv6_prefix"))) {
		unsigned plen;

		snprintf(ip, sizeof(ip), "%s", x);
		if (addr_prefix_parse(ip, &f.ipv6, &plen) ||
		    addr_is_v4(&f.ipv6))
			r = fail(err, errlen, "\"ipv6_prefix\": not an IPv6 "
					      "prefix without host bits");
		f.ipv6_plen = plen;
		f.has_ipv6 = true;
	}
	json_object_put(o);
	if (!r)
		*ret = f;
	return r;
}
