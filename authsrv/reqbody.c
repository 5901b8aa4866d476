// SPDX-License-Identifier: GPL-2.0-only
/* Request bodies (see reqbody.h). */
#include <errno.h>
#include <string.h>

#include "reqbody.h"

int reqbody_parse(const char *buf, size_t len, json_object **ret)
{
	struct json_tokener *tok;
	json_object *o = NULL;

	*ret = NULL;
	if (!len || len > REQBODY_MAX || memchr(buf, '\0', len))
		return -EINVAL;
	tok = json_tokener_new_ex(REQBODY_DEPTH);
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	/* the whole body is one value: only blanks may follow it */
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    strspn(buf + json_tokener_get_parse_end(tok), " \t\r\n") !=
		    len - json_tokener_get_parse_end(tok) ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	*ret = o;
	return 0;
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
