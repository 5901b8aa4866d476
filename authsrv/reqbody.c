// SPDX-License-Identifier: GPL-2.0-only
/* Request bodies (see reqbody.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reqbody.h"

int reqbody_parse_err(const char *buf, size_t len, json_object **ret,
		      char *err, size_t errlen)
{
	struct json_tokener *tok;
	enum json_tokener_error e;
	json_object *o = NULL;
	const char *nul;
	size_t end, blanks;

	*ret = NULL;
	if (!len || len > REQBODY_MAX) {
		snprintf(err, errlen, "%zu bytes (1..%d)", len, REQBODY_MAX);
		return -EINVAL;
	}
	if ((nul = memchr(buf, '\0', len))) {
		snprintf(err, errlen, "a NUL byte at %zu", (size_t)(nul - buf));
		return -EINVAL;
	}
	tok = json_tokener_new_ex(REQBODY_DEPTH);
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (e != json_tokener_success) {
		snprintf(err, errlen, "%s at byte %zu",
			 e == json_tokener_continue ? "cut short" :
						      json_tokener_error_desc(e),
			 end);
		json_object_put(o);
		return -EINVAL;
	}
	/* the whole body is one value: only blanks may follow it */
	for (blanks = end; blanks < len && strchr(" \t\r\n", buf[blanks]);
	     blanks++)
		;
	if (blanks != len || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, blanks != len ? "bytes after the value "
			 "at %zu" : "not an object", blanks);
		json_object_put(o);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

int reqbody_parse(const char *buf, size_t len, json_object **ret)
{
	char err[96];

	return reqbody_parse_err(buf, len, ret, err, sizeof(err));
}

const char *reqbody_str(json_object *o, const char *key, size_t max)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	/* json-c keeps a "\u0000" inside the string: its C form would end
	 * early, so such a member is refused, not cut */
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return NULL;
	return strlen(s) <= max ? s : NULL;
}
