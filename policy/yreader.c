// SPDX-License-Identifier: GPL-2.0-only
/*
 * The YAML reader (see yreader.h): libyaml's node tree, scalars converted with
 * their checks, mappings walked against a table of keys, and every error
 * reported as "file:line:col: ..." through yerr(), the one choke point.
 */
#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "yreader.h"

int yerr(struct pctx *c, const node_t *n, const char *fmt, ...)
{
	struct policy_error *e = c->err;
	char what[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	e->line = n ? (unsigned)n->start_mark.line + 1 : 0;
	e->col = n ? (unsigned)n->start_mark.column + 1 : 0;
	if (n)
		snprintf(e->msg, sizeof(e->msg), "%.180s:%u:%u: %s", e->file,
			 e->line, e->col, what);
	else
		snprintf(e->msg, sizeof(e->msg), "%.180s: %s", e->file, what);
	return -EINVAL;
}

node_t *yget(struct pctx *c, int id)
{
	return yaml_document_get_node(&c->doc, id);
}

const char *ykind(const node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* ---- scalars ---- */

int ystr(struct pctx *c, const node_t *n, const char *what,
	       const char **ret)
{
	if (n->type != YAML_SCALAR_NODE)
		return yerr(c, n, "%s: expected a value, found %s", what,
			    ykind(n));
	*ret = (const char *)n->data.scalar.value;
	return 0;
}

int ystr_copy(struct pctx *c, const node_t *n, const char *what,
		    char *buf, size_t len)
{
	const char *s = NULL;
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	if (!*s)
		return yerr(c, n, "%s: must not be empty", what);
	if (strlen(s) >= len)
		return yerr(c, n, "%s: longer than %zu characters", what,
			    len - 1);
	snprintf(buf, len, "%s", s);
	return 0;
}

/* Names: letters, digits, '-', '_', '.'; starting with a letter. */
int yname(struct pctx *c, const node_t *n, const char *what, char *buf)
{
	const char *s = NULL;
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return yerr(c, n, "%s: expected a name starting with a letter, "
				  "found '%s'",
			    what, s);
	for (const char *q = s; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '-' || *q == '_' ||
		      *q == '.'))
			return yerr(c, n, "%s: '%c' is not allowed in a name "
					  "(letters, digits, '-', '_', '.')",
				    what, *q);
	if (strlen(s) >= POLICY_NAME_MAX)
		return yerr(c, n, "%s: name longer than %d characters", what,
			    POLICY_NAME_MAX - 1);
	snprintf(buf, POLICY_NAME_MAX, "%s", s);
	return 0;
}

int yuint(struct pctx *c, const node_t *n, const char *what,
		      unsigned long long lo, unsigned long long hi,
		      unsigned long long *ret)
{
	const char *s = NULL;
	unsigned long long v;
	char *end;
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	if (*s < '0' || *s > '9')
		return yerr(c, n, "%s: expected a whole number, found '%s'",
			    what, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return yerr(c, n, "%s: expected a whole number, found '%s'",
			    what, s);
	if (v < lo || v > hi)
		return yerr(c, n, "%s: %llu is out of range (%llu..%llu)", what,
			    v, lo, hi);
	*ret = v;
	return 0;
}

int ybool(struct pctx *c, const node_t *n, const char *what,
		   bool *ret)
{
	const char *s = NULL;
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	if (!strcmp(s, "true") || !strcmp(s, "yes")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "no")) {
		*ret = false;
		return 0;
	}
	return yerr(c, n, "%s: expected true or false, found '%s'", what, s);
}

/* One of names[] (NULL-terminated) → its index. */
int ychoice(struct pctx *c, const node_t *n, const char *what,
		  const char *const *names, int *ret)
{
	const char *s = NULL;
	char list[256] = "";
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*ret = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? ", " : "", names[i]);
	}
	return yerr(c, n, "%s: expected one of %s, found '%s'", what, list, s);
}

int ydur(struct pctx *c, const node_t *n, const char *what,
		    uint64_t *ret)
{
	const char *s = NULL;
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	if (duration_parse(s, ret))
		return yerr(c, n, "%s: expected a duration such as 30s, 10m, "
				  "1h30m or 2d, found '%s'",
			    what, s);
	return 0;
}

/* A duration of at least min_ns (min_text says it to the operator). */
int ydur_min(struct pctx *c, const node_t *n, const char *what,
			uint64_t min_ns, const char *min_text, uint64_t *ret)
{
	int r = ydur(c, n, what, ret);

	if (!r && *ret < min_ns)
		return yerr(c, n, "%s: at least %s", what, min_text);
	return r;
}

/* "<n>[k|M|G]<unit>" with a decimal multiplier. */
static int with_unit(const char *s, const char *const *units,
		     const uint64_t *mult, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (int i = 0; units[i]; i++) {
		if (strcmp(end, units[i]))
			continue;
		if (v && mult[i] > UINT64_MAX / v)
			return -ERANGE;
		*ret = v * mult[i];
		return 0;
	}
	return -EINVAL;
}

/* Rates are bits per second, stored as bytes per second. */
int yrate(struct pctx *c, const node_t *n, const char *what,
		uint64_t *ret_Bps)
{
	static const char *const u[] = { "bit", "kbit", "Mbit", "Gbit", NULL };
	static const uint64_t m[] = { 1, 1000, 1000000, 1000000000 };
	const char *s = NULL;
	uint64_t bits;
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	if (with_unit(s, u, m, &bits) || bits < 8)
		return yerr(c, n, "%s: expected a rate such as 64kbit, 10Mbit "
				  "or 1Gbit (at least 8bit), found '%s'",
			    what, s);
	*ret_Bps = bits / 8;
	return 0;
}

int ybytes(struct pctx *c, const node_t *n, const char *what,
		 uint64_t *ret)
{
	static const char *const u[] = { "B", "kB", "MB", "GB", NULL };
	static const uint64_t m[] = { 1, 1000, 1000000, 1000000000 };
	const char *s = NULL;
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	if (with_unit(s, u, m, ret) || !*ret)
		return yerr(c, n, "%s: expected a size such as 1500B, 64kB or "
				  "1MB, found '%s'",
			    what, s);
	return 0;
}

int yprefix(struct pctx *c, const node_t *n, const char *what,
		  struct policy_prefix *ret)
{
	const char *s = NULL;
	int r = ystr(c, n, what, &s);

	if (r)
		return r;
	r = addr_prefix_parse(s, &ret->addr, &ret->plen);
	if (r == -EDOM)
		return yerr(c, n, "%s: '%s' has host bits set past the prefix "
				  "length",
			    what, s);
	if (r)
		return yerr(c, n, "%s: expected an IPv4 or IPv6 address or "
				  "prefix (192.0.2.0/24, 2001:db8::/32), found "
				  "'%s'",
			    what, s);
	return 0;
}

/* ---- structure ---- */




/* A typed key of the schema: the value converted into obj at f->off. */
static int typed(struct pctx *c, const struct field *f, const char *what,
		 node_t *v, void *obj)
{
	char path[160];
	char *at = (char *)obj + f->off;
	unsigned long long x;
	uint64_t ns;
	int r;

	snprintf(path, sizeof(path), "%s.%s", what, f->key);
	switch (f->type) {
	case Y_STR:
		return ystr_copy(c, v, path, at, f->size);
	case Y_NAME:
		return yname(c, v, path, at);
	case Y_BOOL:
		return ybool(c, v, path, (bool *)at);
	case Y_UINT:
		r = yuint(c, v, path, f->min, f->max, &x);
		if (r)
			return r;
		switch (f->size) {
		case 1:
			*(uint8_t *)at = (uint8_t)x;
			break;
		case 2:
			*(uint16_t *)at = (uint16_t)x;
			break;
		case 4:
			*(uint32_t *)at = (uint32_t)x;
			break;
		default:
			*(uint64_t *)at = x;
		}
		return 0;
	case Y_DURATION:
		r = ydur(c, v, path, &ns);
		if (r)
			return r;
		if (ns < f->min)
			return yerr(c, v, "%s: %s", path,
				    f->unit ? f->unit : "too short");
		*(uint64_t *)at = ns;
		return 0;
	case Y_FN:
		break;
	}
	return f->fn(c, v, obj);
}

int ywalk(struct pctx *c, node_t *n, const char *what, const struct field *f,
	  size_t nf, void *obj)
{
	bool seen[32] = { false };
	yaml_node_pair_t *pair;
	int r;

	if (n->type != YAML_MAPPING_NODE)
		return yerr(c, n, "%s: expected a mapping of keys, found %s",
			    what, ykind(n));
	for (pair = n->data.mapping.pairs.start;
	     pair < n->data.mapping.pairs.top; pair++) {
		node_t *k = yget(c, pair->key), *v = yget(c, pair->value);
		const char *ks = NULL;
		size_t i;

		r = ystr(c, k, what, &ks);
		if (r)
			return r;
		for (i = 0; i < nf && strcmp(f[i].key, ks); i++)
			;
		if (i == nf) {
			char list[384] = "";

			for (size_t j = 0; j < nf; j++)
				snprintf(list + strlen(list),
					 sizeof(list) - strlen(list), "%s%s",
					 j ? ", " : "", f[j].key);
			return yerr(c, k, "%s: unknown key '%s' (expected %s)",
				    what, ks, list);
		}
		if (seen[i])
			return yerr(c, k, "%s: '%s' given twice", what, ks);
		seen[i] = true;
		r = typed(c, &f[i], what, v, obj);
		if (r)
			return r;
	}
	for (size_t i = 0; i < nf; i++)
		if (f[i].required && !seen[i])
			return yerr(c, n, "%s: missing '%s'", what, f[i].key);
	return 0;
}

void ydefaults(const struct field *f, size_t nf, void *obj)
{
	for (size_t i = 0; i < nf; i++) {
		char *at = (char *)obj + f[i].off;

		if (!f[i].def)
			continue;
		if (f[i].type == Y_STR || f[i].type == Y_NAME ||
		    (f[i].type == Y_FN && f[i].size))
			snprintf(at, f[i].size, "%s", f[i].def);
		else if (f[i].type == Y_DURATION)
			duration_parse(f[i].def, (uint64_t *)at);
		else if (f[i].type == Y_UINT) {
			unsigned long long x = strtoull(f[i].def, NULL, 10);

			if (f[i].size == 1)
				*(uint8_t *)at = (uint8_t)x;
			else if (f[i].size == 2)
				*(uint16_t *)at = (uint16_t)x;
			else if (f[i].size == 4)
				*(uint32_t *)at = (uint32_t)x;
			else
				*(uint64_t *)at = x;
		} else if (f[i].type == Y_BOOL) {
			*(bool *)at = !strcmp(f[i].def, "true");
		}
	}
}

const char *ychanged(const struct field *f, size_t nf, const void *a,
		     const void *b, enum policy_reload cls)
{
	for (size_t i = 0; i < nf; i++)
		if (f[i].reload == cls && f[i].size &&
		    memcmp((const char *)a + f[i].off,
			   (const char *)b + f[i].off, f[i].size))
			return f[i].key;
	return NULL;
}

/* A list, or a single item standing for a list of one: an allocated
 * array of its nodes (free with items_free). Returns 0 or -ENOMEM. */
int yitems(struct pctx *c, node_t *n, node_t ***ret, size_t *ret_n)
{
	size_t cnt = 1;
	node_t **v;

	if (n->type == YAML_SEQUENCE_NODE)
		cnt = (size_t)(n->data.sequence.items.top -
			       n->data.sequence.items.start);
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (n->type == YAML_SEQUENCE_NODE)
		for (size_t i = 0; i < cnt; i++)
			v[i] = yget(c, n->data.sequence.items.start[i]);
	else
		v[0] = n;
	*ret = v;
	*ret_n = cnt;
	return 0;
}

void yitems_free(node_t **v)
{
	free(v);
}

int ylist_only(struct pctx *c, node_t *n, const char *what)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return yerr(c, n, "%s: expected a list, found %s", what,
			    ykind(n));
	return 0;
}

int yeach(struct pctx *c, node_t *n, const char *what, item_fn fn,
		void *ctx)
{
	int r = ylist_only(c, n, what);

	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     !r && i < n->data.sequence.items.top; i++)
		r = fn(c, yget(c, *i), ctx);
	return r;
}

/* The last of n named entries (stride bytes apart, name first) must not
 * repeat an earlier name. */
int yunique_name(struct pctx *c, node_t *it, const char *what,
		       const void *arr, size_t stride, size_t n)
{
	const char *last = (const char *)arr + (n - 1) * stride;

	for (size_t j = 0; j + 1 < n; j++)
		if (!strcmp((const char *)arr + j * stride, last))
			return yerr(c, it, "%s %s is defined twice", what,
				    last);
	return 0;
}

/* The word of hex digits, colons, dots and slashes around text[off], into
 * out, if it looks like an IPv6 address (two colons at least): what a
 * YAML error there is about. */
static bool ipv6_token(const char *text, size_t len, size_t off, char *out,
		       size_t outlen)
{
	size_t st = off, en = off, colons = 0;

#define V6CH(ch) (isxdigit((unsigned char)(ch)) || (ch) == ':' || \
		  (ch) == '.' || (ch) == '/')
	if (off >= len || !V6CH(text[off]))
		return false;
	while (st > 0 && V6CH(text[st - 1]))
		st--;
	while (en < len && V6CH(text[en]))
		en++;
#undef V6CH
	for (size_t i = st; i < en; i++)
		colons += text[i] == ':';
	if (colons < 2 || en - st >= outlen)
		return false;
	memcpy(out, text + st, en - st);
	out[en - st] = '\0';
	return true;
}

/* Parses text as YAML and hands the document to root(); the one place a
 * YAML syntax error becomes "file:line:col: ...". */
int yload_text(const char *text, size_t len, const char *fname,
		     struct pctx *c, int (*root)(struct pctx *))
{
	yaml_parser_t parser;
	char tok[64];
	int r;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     len);
	if (!yaml_parser_load(&parser, &c->doc)) {
		struct policy_error *err = c->err;

		err->line = (unsigned)parser.problem_mark.line + 1;
		err->col = (unsigned)parser.problem_mark.column + 1;
		size_t off = parser.problem_mark.index;

		/* libyaml's words for a tab where indentation goes */
		if (off < len && text[off] == '\t')
			snprintf(err->msg, sizeof(err->msg),
				 "%s:%u:%u: a tab character: YAML indents with "
				 "spaces only", fname, err->line, err->col);
		/* an IPv6 address in a flow list ([::1], [2001:db8::]):
		 * YAML reads a colon before ']', ',' or another colon as a
		 * key's end */
		else if (ipv6_token(text, len, off, tok, sizeof(tok)))
			snprintf(err->msg, sizeof(err->msg),
				 "%s:%u:%u: quote the IPv6 address %s in a flow "
				 "list or mapping (\"%s\"): YAML reads its "
				 "colons as a key's end",
				 fname, err->line, err->col, tok, tok);
		else
			snprintf(err->msg, sizeof(err->msg), "%s:%u:%u: %s%s%s",
				 fname, err->line, err->col,
				 parser.problem ? parser.problem : "YAML error",
				 parser.context ? " " : "",
				 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	r = root(c);
	yaml_document_delete(&c->doc);
	yaml_parser_delete(&parser);
	if (r == -ENOMEM && !c->err->msg[0])
		snprintf(c->err->msg, sizeof(c->err->msg), "%s: out of memory",
			 fname);
	return r;
}

/* The whole file in a malloc'd buffer (at most 16 MiB). */
int yread_file(const char *path, char **ret, size_t *ret_len,
		    struct policy_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", path);
	if (!f) {
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path,
			 strerror(-r));
		return r;
	}
	{
		struct stat st;

		if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
			fclose(f);
			snprintf(err->msg, sizeof(err->msg),
				 "%s: is a directory, not a YAML file", path);
			return -EISDIR;
		}
	}
	for (;;) {
		size_t n;

		if (len + 4096 > cap) {
			char *nb;

			if (cap > (16u << 20)) {
				fclose(f);
				free(buf);
				snprintf(err->msg, sizeof(err->msg),
					 "%s: larger than 16 MiB", path);
				return -EFBIG;
			}
			nb = realloc(buf, cap = cap * 2 + 8192);
			if (!nb) {
				fclose(f);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err->msg, sizeof(err->msg), "%s: read error", path);
		fclose(f);
		free(buf);
		return -EIO;
	}
	fclose(f);
	*ret = buf;
	*ret_len = len;
	return 0;
}
