// SPDX-License-Identifier: GPL-2.0-only
/* authsrv's request bodies: what is a request and what is refused. */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>

#include "reqbody.h"

static int parse(const char *s, size_t n)
{
	json_object *o;
	int r = reqbody_parse(s, n, &o);

	json_object_put(o);
	return r;
}

#define P(lit) parse(lit, sizeof(lit) - 1)

Test(reqbody, one_flat_object_with_blanks_after_it)
{
	cr_expect_eq(P("{\"btid\":\"x@y\"}"), 0);
	cr_expect_eq(P("{\"btid\":\"x@y\"}\r\n"), 0, "a trailing newline");
}

Test(reqbody, anything_else_is_refused)
{
	cr_expect_eq(P(""), -EINVAL);
	cr_expect_eq(P("[1,2]"), -EINVAL, "not an object");
	cr_expect_eq(P("\"s\""), -EINVAL);
	cr_expect_eq(P("{\"a\":1} {\"b\":2}"), -EINVAL, "a second value");
	cr_expect_eq(P("{\"a\":1}x"), -EINVAL, "bytes after the object");
	cr_expect_eq(P("{\"a\":1"), -EINVAL, "cut");
	cr_expect_eq(P("{\"a\":1}\0"), -EINVAL, "a NUL");
	cr_expect_eq(P("{\"a\":[[[[[[[[[[1]]]]]]]]]]}"), -EINVAL, "too deep");
	{
		static char big[REQBODY_MAX + 2];

		memset(big, ' ', sizeof(big));
		big[0] = '{';
		big[sizeof(big) - 1] = '}';
		cr_expect_eq(parse(big, sizeof(big)), -EINVAL, "too long");
	}
}

Test(reqbody, members_are_strings_of_their_length_without_nul)
{
	static const char b[] = "{\"a\":\"abc\",\"n\":5,\"z\":\"ab\\u0000cd\"}";
	json_object *o;

	cr_assert_eq(reqbody_parse(b, sizeof(b) - 1, &o), 0);
	cr_expect_str_eq(reqbody_str(o, "a", 3), "abc");
	cr_expect_null(reqbody_str(o, "a", 2), "over its length");
	cr_expect_null(reqbody_str(o, "n", 10), "not a string");
	cr_expect_null(reqbody_str(o, "missing", 10));
	cr_expect_null(reqbody_str(o, "z", 10), "a NUL inside");
	json_object_put(o);
}
