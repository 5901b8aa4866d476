/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The YAML reader the policy and xcrs-authsrv's configuration are read
 * with: libyaml loads the document as a node tree (each node knows its line
 * and column); mappings are walked against a schema, a table with a row per
 * key (its type, range, default, unit, and what a reload must do when it
 * changes) or, for keys whose value is a structure of its own, a handler;
 * the first error becomes "file:line:col: what was expected" through
 * yerr(), the one point where errors are made. Functions return 0 or a
 * negative errno (-EINVAL with the message in the error).
 */
#ifndef XCRS_POLICY_YREADER_H
#define XCRS_POLICY_YREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

#include "policy.h"

typedef yaml_node_t node_t;

/* What is being read: the document, the error to fill, the model being
 * built (struct policy, struct authsrv_config) and a node kept for later. */
struct pctx {
	yaml_document_t doc;
	struct policy_error *err;
	void *model;
	node_t *aux;
};

int yerr(struct pctx *c, const node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
node_t *yget(struct pctx *c, int id);
/* "a value", "a list", "a mapping": what n is, in an error. */
const char *ykind(const node_t *n);

/* Scalars. what names the key in errors ("agent.pin_dir"). */
int ystr(struct pctx *c, const node_t *n, const char *what,
	 const char **ret);
/* A non-empty string that fits buf (len with its NUL). */
int ystr_copy(struct pctx *c, const node_t *n, const char *what, char *buf,
	      size_t len);
/* Letters, digits, '-', '_', '.', starting with a letter; POLICY_NAME_MAX. */
int yname(struct pctx *c, const node_t *n, const char *what, char *buf);
int yuint(struct pctx *c, const node_t *n, const char *what,
	  unsigned long long lo, unsigned long long hi,
	  unsigned long long *ret);
int ybool(struct pctx *c, const node_t *n, const char *what, bool *ret);
/* One of names[] (NULL-terminated) -> its index. */
int ychoice(struct pctx *c, const node_t *n, const char *what,
	    const char *const *names, int *ret);
int ydur(struct pctx *c, const node_t *n, const char *what, uint64_t *ret);
/* At least min_ns (min_text says it to the operator). */
int ydur_min(struct pctx *c, const node_t *n, const char *what,
	     uint64_t min_ns, const char *min_text, uint64_t *ret);
/* Bits per second ("10Mbit"), stored as bytes per second. */
int yrate(struct pctx *c, const node_t *n, const char *what,
	  uint64_t *ret_Bps);
/* "1500B", "64kB", "1MB". */
int ybytes(struct pctx *c, const node_t *n, const char *what, uint64_t *ret);
/* An address or prefix without host bits. */
int yprefix(struct pctx *c, const node_t *n, const char *what,
	    struct policy_prefix *ret);

/* ---- the schema -------------------------------------------------------------- */

typedef int (*field_fn)(struct pctx *c, node_t *val, void *obj);

enum ytype {
	Y_FN = 0,   /* fn converts (and checks) the value */
	Y_STR,	    /* a non-empty string into char[size] */
	Y_NAME,	    /* a name into char[POLICY_NAME_MAX] */
	Y_UINT,	    /* a whole number min..max into a size-byte integer */
	Y_BOOL,	    /* true/false, yes/no */
	Y_DURATION, /* a duration of at least min ns (unit: "1s") */
};

/* One key of a mapping. Typed rows convert into obj at off (size bytes);
 * a Y_FN row may name its field too (off, size) so that a reload can see
 * whether it changed. def is the default in the key's own notation,
 * applied by ydefaults() before the document is read (for a Y_FN row with
 * a member: a string written into it). */
struct field {
	const char *key;
	field_fn fn;
	bool required;
	enum ytype type;
	size_t off, size;
	unsigned long long min, max;
	const char *unit;
	const char *def;
	enum policy_reload reload;
};

/* Rows. T is the struct the mapping fills, m its member. */
#define Y_STRK(k, T, m, req, rl)                                               \
	{ .key = k, .type = Y_STR, .required = req, .reload = rl,              \
	  .off = offsetof(T, m), .size = sizeof(((T *)0)->m) }
#define Y_STRD(k, T, m, d, rl)                                                 \
	{ .key = k, .type = Y_STR, .def = d, .reload = rl,                     \
	  .off = offsetof(T, m), .size = sizeof(((T *)0)->m) }
#define Y_NAMEK(k, T, m, d, rl)                                                \
	{ .key = k, .type = Y_NAME, .def = d, .reload = rl,                    \
	  .off = offsetof(T, m), .size = sizeof(((T *)0)->m) }
#define Y_UINTK(k, T, m, lo, hi, d, req, rl)                                   \
	{ .key = k, .type = Y_UINT, .min = lo, .max = hi, .def = d,            \
	  .required = req, .reload = rl, .off = offsetof(T, m),                \
	  .size = sizeof(((T *)0)->m) }
#define Y_BOOLK(k, T, m, rl)                                                   \
	{ .key = k, .type = Y_BOOL, .reload = rl, .off = offsetof(T, m),       \
	  .size = sizeof(((T *)0)->m) }
#define Y_DURK(k, T, m, min_ns, min_text, d, req, rl)                          \
	{ .key = k, .type = Y_DURATION, .min = min_ns, .unit = min_text,       \
	  .def = d, .required = req, .reload = rl, .off = offsetof(T, m),      \
	  .size = sizeof(((T *)0)->m) }
#define Y_FNK(k, f, req, rl)                                                   \
	{ .key = k, .fn = f, .required = req, .reload = rl }
/* A handler whose result is one member (compared on reload). */
#define Y_FNM(k, f, T, m, req, rl)                                             \
	{ .key = k, .fn = f, .required = req, .reload = rl,                    \
	  .off = offsetof(T, m), .size = sizeof(((T *)0)->m) }
#define Y_N(rows) (sizeof(rows) / sizeof((rows)[0]))

/* Walks the mapping n: every key must be a row of f, at most once; required
 * keys must be present. */
int ywalk(struct pctx *c, node_t *n, const char *what, const struct field *f,
	  size_t nf, void *obj);
/* Writes the defaults of f's typed rows into obj. */
void ydefaults(const struct field *f, size_t nf, void *obj);
/* The key of the first row of class cls whose field differs between a and
 * b (two objects f describes), or NULL. */
const char *ychanged(const struct field *f, size_t nf, const void *a,
		     const void *b, enum policy_reload cls);

/* ---- structure -------------------------------------------------------------- */

/* A field handler that keeps the value's node, for values converted once
 * the whole mapping is known (they depend on each other). */
#define KEEP(fn, type, member)                                                 \
	static int fn(struct pctx *c, node_t *v, void *o)                      \
	{                                                                      \
		((type *)o)->member = v;                                       \
		return 0;                                                      \
	}

/* A list, or a single item standing for a list of one: an allocated
 * array of its nodes (free with yitems_free). */
int yitems(struct pctx *c, node_t *n, node_t ***ret, size_t *ret_n);
void yitems_free(node_t **v);
int ylist_only(struct pctx *c, node_t *n, const char *what);
/* Calls fn for every item of the list n, stopping at the first error. */
typedef int (*item_fn)(struct pctx *c, node_t *item, void *ctx);
int yeach(struct pctx *c, node_t *n, const char *what, item_fn fn,
	  void *ctx);
/* The last of n named entries (stride bytes apart, name first) must not
 * repeat an earlier name. */
int yunique_name(struct pctx *c, node_t *it, const char *what,
		 const void *arr, size_t stride, size_t n);
#define UNIQUE(c, it, what, arr, n)                                            \
	yunique_name(c, it, what, arr, sizeof(*(arr)), n)

/* Appends a zeroed element to arr (cnt elements): a pointer to it, or NULL
 * if out of memory. */
#define GROW(arr, cnt)                                                         \
	({                                                                     \
		void *np_ = realloc((arr), ((cnt) + 1) * sizeof(*(arr)));      \
		if (np_) {                                                     \
			(arr) = np_;                                           \
			memset(&(arr)[(cnt)], 0, sizeof(*(arr)));              \
		}                                                              \
		np_ ? &(arr)[(cnt)++] : NULL;                                  \
	})

/* ---- documents ---------------------------------------------------------------- */

/* Parses text as YAML and hands the document to root(); a YAML syntax
 * error becomes "file:line:col: ...". */
int yload_text(const char *text, size_t len, const char *fname,
	       struct pctx *c, int (*root)(struct pctx *));
/* The whole file in a malloc'd buffer (at most 16 MiB); err says why not. */
int yread_file(const char *path, char **ret, size_t *ret_len,
	       struct policy_error *err);

#endif
