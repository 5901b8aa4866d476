// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fixture runner and reference policy (see xdptest.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "xdptest.h"

static struct dp_service_rule rules[16];
static struct dp_pool pools[12];

static void rule(size_t *n, const char *pfx, uint8_t proto, uint16_t lo,
		 uint16_t hi, uint8_t svc)
{
	struct dp_service_rule *r = &rules[(*n)++];

	if (dp_prefix_parse(pfx, &r->addr, &r->plen))
		fprintf(stderr, "xdptest: bad prefix %s\n", pfx);
	r->proto = proto;
	r->port_lo = lo;
	r->port_hi = hi;
	r->svc = svc;
}

void xt_policy(struct dp_policy *p, uint8_t default_level)
{
	size_t n = 0;
	const uint64_t dns = XCRS_SVC_BIT(SVC_DNS),
		       rem = XCRS_SVC_BIT(SVC_REMEDIATION),
		       web = XCRS_SVC_BIT(SVC_WEB);

	memset(p, 0, sizeof(*p));
	p->nlevels = L_COUNT;
	p->levels[L_NORMAL] = (struct xcrs_level){ .allowed = XCRS_SVC_ALL };
	p->levels[L_MONITORED] = (struct xcrs_level){
		.allowed = XCRS_SVC_ALL, .flags = XCRS_LEVEL_F_REACTED };
	p->levels[L_RESTRICTED] = (struct xcrs_level){
		.allowed = dns | rem | web, .flags = XCRS_LEVEL_F_REACTED };
	p->levels[L_QUARANTINED] = (struct xcrs_level){
		.allowed = dns | rem, .flags = XCRS_LEVEL_F_REACTED };
	p->levels[L_BLOCKED] = (struct xcrs_level){
		.allowed = 0, .flags = XCRS_LEVEL_F_REACTED };
	p->levels[L_THROTTLED] = (struct xcrs_level){
		.allowed = XCRS_SVC_ALL, .rate_Bps = 1000, .burst_B = 3000,
		.flags = XCRS_LEVEL_F_REACTED };

	rule(&n, XT_DNS4, IPPROTO_UDP, 53, 53, SVC_DNS);
	rule(&n, XT_DNS4, IPPROTO_TCP, 53, 53, SVC_DNS);
	rule(&n, XT_DNS6, IPPROTO_UDP, 53, 53, SVC_DNS);
	rule(&n, XT_REMED4, IPPROTO_TCP, 80, 80, SVC_REMEDIATION);
	rule(&n, XT_REMED4, IPPROTO_TCP, 443, 443, SVC_REMEDIATION);
	rule(&n, XT_REMED6, IPPROTO_TCP, 80, 80, SVC_REMEDIATION);
	rule(&n, XT_REMED6, IPPROTO_TCP, 443, 443, SVC_REMEDIATION);
	rule(&n, "203.0.113.0/24", IPPROTO_TCP, 80, 80, SVC_WEB);
	rule(&n, "203.0.113.0/24", IPPROTO_TCP, 443, 443, SVC_WEB);
	rule(&n, "2001:db8:cafe::/48", IPPROTO_TCP, 80, 80, SVC_WEB);
	rule(&n, "2001:db8:cafe::/48", IPPROTO_TCP, 443, 443, SVC_WEB);
	p->rules = rules;
	p->nrules = n;

	dp_prefix_parse(XT_POOL4, &pools[0].addr, &pools[0].plen);
	pools[0].scope = XT_SCOPE_A;
	dp_prefix_parse(XT_POOL6, &pools[1].addr, &pools[1].plen);
	pools[1].scope = XT_SCOPE_A;
	dp_prefix_parse(XT_POOL4B, &pools[2].addr, &pools[2].plen);
	pools[2].scope = XT_SCOPE_B;
	/* the RAN: only its GTP-U is decapsulated */
	dp_prefix_parse(XT_GNB4 "/32", &pools[3].addr, &pools[3].plen);
	pools[3].ran = true;
	dp_prefix_parse("2001:db8:ff::250/128", &pools[4].addr,
			&pools[4].plen);
	pools[4].ran = true;
	/* frames on core instances carry the tunnel the other way round in
	 * some cases: their RAN-side (destination) address is the UPF's */
	dp_prefix_parse(XT_UPF4 "/32", &pools[5].addr, &pools[5].plen);
	pools[5].ran = true;
	dp_prefix_parse("2001:db8:ff::1/128", &pools[6].addr, &pools[6].plen);
	pools[6].ran = true;
	p->pools = pools;
	p->npools = 7;
	p->cfg.flags |= XCRS_CFG_F_RAN;
	p->cfg.default_level = default_level;
	p->cfg.nonip_action = XCRS_NONIP_PASS;
}

void xt_policy_add_ran(struct dp_policy *p, const char *prefix)
{
	struct dp_pool *r = &pools[p->npools];

	if (p->pools != pools || p->npools >= sizeof(pools) / sizeof(pools[0]))
		abort();
	memset(r, 0, sizeof(*r));
	if (dp_prefix_parse(prefix, &r->addr, &r->plen))
		abort();
	r->ran = true;
	p->npools++;
	p->cfg.flags |= XCRS_CFG_F_RAN;
}

const char *xt_sub_addr(int family, int level)
{
	static char buf[4][64];
	static int i;
	char *b = buf[i++ & 3];

	if (family == 4)
		snprintf(b, 64, "192.0.2.%d", 10 + level);
	else
		snprintf(b, 64, "2001:db8:1::%x", 10 + level);
	return b;
}

int xt_add_subs(struct dp *dp)
{
	for (int l = 0; l < L_COUNT; l++) {
		for (int fam = 4; fam <= 6; fam += 2) {
			struct xcrs_sub s = { .level = l, .base_level = l };
			struct xcrs_addr a;
			int r;

			r = dp_addr_parse(xt_sub_addr(fam, l), &a);
			if (!r)
				r = dp_sub_set(dp, &a, &s);
			if (r)
				return r;
		}
	}
	return 0;
}

int xt_open(struct dp **ret_dp, uint8_t default_level)
{
	struct dp_config cfg = { .max_subs = 1024, .max_tracked = 1024 };
	struct dp_policy p;
	char err[512];
	struct dp *dp;
	int r;

	r = dp_open(&cfg, &dp, err, sizeof(err));
	if (r) {
		fprintf(stderr, "xt_open: %s\n", err);
		return r;
	}
	xt_policy(&p, default_level);
	r = dp_policy_apply(dp, &p);
	if (!r)
		r = xt_add_subs(dp);
	if (r) {
		fprintf(stderr, "xt_open: %s\n", dp_errmsg(dp));
		dp_close(dp);
		return r;
	}
	*ret_dp = dp;
	return 0;
}

int xt_run(struct dp *dp, int role, bool gtpu, const uint8_t *pkt, size_t len,
	   struct xt_result *ret)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct dp_stats before, after;
	struct xt_result res = { .action = -1, .reason = -1 };
	uint8_t out[4096];
	int fd, r, moved = 0;

	fd = dp_prog_fd(dp, role, gtpu);
	if (fd < 0)
		return fd;
	r = dp_stats_read(dp, &before);
	if (r)
		return r;
	o.data_in = pkt;
	o.data_size_in = (__u32)len;
	o.data_out = out;
	o.data_size_out = sizeof(out);
	o.repeat = 1;
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	res.xdp = o.retval;
	r = dp_stats_read(dp, &after);
	if (r)
		return r;
	for (int a = 0; a < XCRS_ACT_MAX; a++) {
		for (int q = 0; q < XCRS_REASON_MAX; q++) {
			uint64_t dp_ = after.c[a][q].packets -
				       before.c[a][q].packets;

			if (!dp_)
				continue;
			moved++;
			if (dp_ == 1) {
				res.action = a;
				res.reason = q;
				res.bytes = after.c[a][q].bytes -
					    before.c[a][q].bytes;
			}
		}
	}
	if (moved != 1)
		res.action = res.reason = -1;
	*ret = res;
	return 0;
}
