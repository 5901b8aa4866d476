// SPDX-License-Identifier: GPL-2.0-only
/* The dataplane library as enforcement's backend (see enforce.h). */
#include "enforce.h"

static int policy_check(void *dp, const struct dp_policy *p)
{
	return dp_policy_check(dp, p);
}

static int policy_apply(void *dp, const struct dp_policy *p)
{
	return dp_policy_apply(dp, p);
}

static int sub_set(void *dp, const struct xcrs_addr *a,
		   const struct xcrs_sub *v)
{
	return dp_sub_set(dp, a, v);
}

static void batch(void *dp, bool on)
{
	dp_batch(dp, on);
}

static int sub_del(void *dp, const struct xcrs_addr *a)
{
	return dp_sub_del(dp, a);
}

static int scope_set(void *dp, uint32_t id, const struct xcrs_scope *v)
{
	return dp_scope_set(dp, id, v);
}

static int prefix_set(void *dp, const struct xcrs_addr *a, unsigned plen,
		      const struct xcrs_sub *v)
{
	return dp_prefix_set(dp, a, plen, v);
}

static int prefix_del(void *dp, const struct xcrs_addr *a, unsigned plen)
{
	return dp_prefix_del(dp, a, plen);
}

static int sub_each_step(void *dp, struct dp_sub_cursor *c, size_t max,
			 void (*fn)(void *ctx, const struct xcrs_addr *a,
				    const struct xcrs_sub *s),
			 void *ctx)
{
	return dp_sub_each_step(dp, c, max, fn, ctx);
}

static int prefix_each(void *dp,
		       void (*fn)(void *ctx, const struct xcrs_addr *a,
				  unsigned plen, const struct xcrs_sub *s),
		       void *ctx)
{
	return dp_prefix_each(dp, fn, ctx);
}

static int fail_closed(void *dp, bool on)
{
	return dp_fail_closed(dp, on);
}

static int runtime_get(void *dp, uint32_t *ret_flags)
{
	return dp_runtime_get(dp, ret_flags);
}

static uint64_t subs_count(void *dp, uint64_t *ret_capacity)
{
	__u64 cap = 0, n = dp_subs_count(dp, &cap);

	*ret_capacity = cap;
	return n;
}

static uint64_t slots_used(void *dp, uint64_t *ret_capacity)
{
	__u64 cap = 0, n = dp_slots_used(dp, &cap);

	*ret_capacity = cap;
	return n;
}

static int seen_del(void *dp, const struct xcrs_addr *a)
{
	return dp_seen_del(dp, a);
}

static int seen_expire(void *dp, uint64_t idle_ns,
		       void (*fn)(void *ctx, const struct xcrs_addr *a,
				  const struct xcrs_seen *s),
		       void *ctx)
{
	return dp_seen_expire(dp, idle_ns, fn, ctx);
}

static int attach(void *dp, const char *ifname,
		  const struct dp_attach_opts *o)
{
	return dp_attach(dp, ifname, o);
}

static int detach(void *dp, const char *ifname)
{
	return dp_detach(dp, ifname);
}

static int attached(void *dp, const char *ifname)
{
	return dp_attached(dp, ifname);
}

static const char *errmsg(void *dp)
{
	return dp_errmsg(dp);
}

const struct enf_dp_ops enf_dp_library = {
	.policy_check = policy_check,
	.policy_apply = policy_apply,
	.sub_set = sub_set,
	.sub_del = sub_del,
	.batch = batch,
	.scope_set = scope_set,
	.prefix_set = prefix_set,
	.prefix_del = prefix_del,
	.prefix_each = prefix_each,
	.sub_each_step = sub_each_step,
	.fail_closed = fail_closed,
	.runtime_get = runtime_get,
	.subs_count = subs_count,
	.slots_used = slots_used,
	.seen_del = seen_del,
	.seen_expire = seen_expire,
	.attach = attach,
	.detach = detach,
	.attached = attached,
	.errmsg = errmsg,
};
