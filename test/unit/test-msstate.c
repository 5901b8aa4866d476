// SPDX-License-Identifier: GPL-2.0-only
/* The SCS's per-MS table: add, find, delete, growth past many MSs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "msstate.h"

static struct xcrs_addr addr(unsigned i)
{
	struct xcrs_addr a = { .a = { [10] = 0xff, [11] = 0xff } };

	a.a[12] = 10;
	a.a[13] = (uint8_t)(i >> 16);
	a.a[14] = (uint8_t)(i >> 8);
	a.a[15] = (uint8_t)i;
	return a;
}

static void count(struct ms_entry *e, void *ctx)
{
	(*(size_t *)ctx)++;
}

Test(msstate, add_get_delete_many)
{
	struct mstab t;
	bool created;
	size_t n = 0;

	cr_assert_eq(mstab_init(&t), 0);
	for (unsigned i = 0; i < 50000; i++) {
		struct xcrs_addr a = addr(i);
		struct ms_entry *e = mstab_add(&t, &a, &created);

		cr_assert_not_null(e);
		cr_assert(created);
		e->probes = i;
	}
	cr_expect_eq(t.n, 50000);
	cr_expect_gt(t.nb, 1024, "the table grew");
	for (unsigned i = 0; i < 50000; i += 7) {
		struct xcrs_addr a = addr(i);
		struct ms_entry *e = mstab_get(&t, &a);

		cr_assert_not_null(e);
		cr_expect_eq(e->probes, i);
		cr_expect_eq(mstab_add(&t, &a, &created), e);
		cr_expect_not(created);
	}
	for (unsigned i = 0; i < 50000; i += 2) {
		struct xcrs_addr a = addr(i);

		cr_expect_eq(mstab_del(&t, &a), 0);
		cr_expect_eq(mstab_del(&t, &a), -ENOENT);
		cr_expect_null(mstab_get(&t, &a));
	}
	mstab_each(&t, count, &n);
	cr_expect_eq(n, 25000);
	cr_expect_eq(t.n, 25000);
	mstab_free(&t);
}
