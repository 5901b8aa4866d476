// SPDX-License-Identifier: GPL-2.0-only
/* Per-MS state table (see msstate.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msstate.h"

static size_t hash(const struct xcrs_addr *a, size_t nb)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ a->a[i]) * 1099511628211ull;
	return (size_t)(h % nb);
}

int mstab_init(struct mstab *t)
{
	t->nb = 1024;
	t->n = 0;
	t->b = calloc(t->nb, sizeof(*t->b));
	return t->b ? 0 : -ENOMEM;
}

void mstab_free(struct mstab *t)
{
	for (size_t i = 0; t->b && i < t->nb; i++)
		for (struct ms_entry *e = t->b[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	free(t->b);
	t->b = NULL;
	t->n = t->nb = 0;
}

struct ms_entry *mstab_get(const struct mstab *t, const struct xcrs_addr *a)
{
	for (struct ms_entry *e = t->b[hash(a, t->nb)]; e; e = e->next)
		if (!memcmp(&e->addr, a, sizeof(*a)))
			return e;
	return NULL;
}

/* Doubles the bucket array when chains grow past two on average. */
static void grow(struct mstab *t)
{
	size_t nb = t->nb * 2;
	struct ms_entry **b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < t->nb; i++)
		for (struct ms_entry *e = t->b[i], *n; e; e = n) {
			size_t h = hash(&e->addr, nb);

			n = e->next;
			e->next = b[h];
			b[h] = e;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

struct ms_entry *mstab_add(struct mstab *t, const struct xcrs_addr *a,
			   bool *created)
{
	struct ms_entry *e = mstab_get(t, a);
	size_t h;

	*created = false;
	if (e)
		return e;
	if (t->n >= 2 * t->nb)
		grow(t);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->addr = *a;
	h = hash(a, t->nb);
	e->next = t->b[h];
	t->b[h] = e;
	t->n++;
	*created = true;
	return e;
}

int mstab_del(struct mstab *t, const struct xcrs_addr *a)
{
	for (struct ms_entry **p = &t->b[hash(a, t->nb)]; *p; p = &(*p)->next)
		if (!memcmp(&(*p)->addr, a, sizeof(*a))) {
			struct ms_entry *e = *p;

			*p = e->next;
			free(e);
			t->n--;
			return 0;
		}
	return -ENOENT;
}

void mstab_each(const struct mstab *t,
		void (*fn)(struct ms_entry *e, void *ctx), void *ctx)
{
	for (size_t i = 0; i < t->nb; i++)
		for (struct ms_entry *e = t->b[i]; e; e = e->next)
			fn(e, ctx);
}
