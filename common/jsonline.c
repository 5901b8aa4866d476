// SPDX-License-Identifier: GPL-2.0-only
/* One JSON object on a line, bounded in depth (see jsonline.h). */
#include <stdint.h>
#include <json-c/json.h>

#include "jsonline.h"

json_object *json_line_object(const char *line, size_t len, int depth,
			      const char **why)
{
	struct json_tokener *tok;
	enum json_tokener_error je;
	json_object *o;
	size_t end;

	if (len > (size_t)INT32_MAX) {
		*why = "line too long";
		return NULL;
	}
	tok = json_tokener_new_ex(depth);
	if (!tok) {
		*why = "out of memory";
		return NULL;
	}
	o = json_tokener_parse_ex(tok, line, (int)len);
	je = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	while (o && end < len && (line[end] == ' ' || line[end] == '\t' ||
				  line[end] == '\r' || line[end] == '\n'))
		end++;
	if (!o || je != json_tokener_success) {
		*why = je != json_tokener_success ? json_tokener_error_desc(je) :
						    "empty";
		json_object_put(o);
		o = NULL;
	} else if (end != len) {
		*why = "trailing data";
		json_object_put(o);
		o = NULL;
	} else if (!json_object_is_type(o, json_type_object)) {
		*why = "not an object";
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}
