// SPDX-License-Identifier: GPL-2.0-only
/*
 * The decision and enforcement layers over a fake dataplane (no root, no
 * BPF): what each decision writes, what never_react refuses, that a
 * refused write reaches the caller and is written again once it fits, and
 * that consumers registered as ports hear of every change.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "addr.h"
#include "clock.h"
#include "correlate.h"
#include "decide.h"
#include "enforce.h"

#define S(x) ((uint64_t)(x) * 1000000000ULL)

/* ---- the fake dataplane ---------------------------------------------------- */

#define FAKE_MAX 64

struct fake {
	struct xcrs_addr subs[FAKE_MAX];
	struct xcrs_sub subv[FAKE_MAX];
	size_t nsubs;
	size_t cap;		/* sub_set beyond this: -E2BIG */
	struct {
		struct xcrs_addr a;
		unsigned plen;
		struct xcrs_sub v;
	} pfx[FAKE_MAX];
	size_t npfx;
	struct xcrs_scope scopes[16]; /* by scope id */
	int applies;		/* policy_apply calls */
	bool fail_closed;
	char err[128];
};

static struct fake fk;

static int find_sub(const struct xcrs_addr *a)
{
	for (size_t i = 0; i < fk.nsubs; i++)
		if (!memcmp(&fk.subs[i], a, sizeof(*a)))
			return (int)i;
	return -1;
}

static int f_policy(void *dp, const struct dp_policy *p)
{
	return 0;
}

static int f_apply(void *dp, const struct dp_policy *p)
{
	fk.applies++;
	return 0;
}

static int f_sub_set(void *dp, const struct xcrs_addr *a,
		     const struct xcrs_sub *v)
{
	int i = find_sub(a);

	if (i < 0) {
		if (fk.nsubs >= fk.cap) {
			snprintf(fk.err, sizeof(fk.err),
				 "subscriber map full (%zu entries)", fk.cap);
			return -E2BIG;
		}
		i = (int)fk.nsubs++;
		fk.subs[i] = *a;
	}
	fk.subv[i] = *v;
	return 0;
}

static int f_sub_del(void *dp, const struct xcrs_addr *a)
{
	int i = find_sub(a);

	if (i < 0)
		return -ENOENT;
	fk.subs[i] = fk.subs[fk.nsubs - 1];
	fk.subv[i] = fk.subv[--fk.nsubs];
	return 0;
}

static int f_scope_set(void *dp, uint32_t id, const struct xcrs_scope *v)
{
	cr_assert_lt(id, 16);
	fk.scopes[id] = *v;
	return 0;
}

static int f_prefix_set(void *dp, const struct xcrs_addr *a, unsigned plen,
			const struct xcrs_sub *v)
{
	for (size_t i = 0; i < fk.npfx; i++)
		if (fk.pfx[i].plen == plen && !memcmp(&fk.pfx[i].a, a, sizeof(*a))) {
			fk.pfx[i].v = *v;
			return 0;
		}
	fk.pfx[fk.npfx].a = *a;
	fk.pfx[fk.npfx].plen = plen;
	fk.pfx[fk.npfx++].v = *v;
	return 0;
}

static int f_prefix_del(void *dp, const struct xcrs_addr *a, unsigned plen)
{
	for (size_t i = 0; i < fk.npfx; i++)
		if (fk.pfx[i].plen == plen && !memcmp(&fk.pfx[i].a, a, sizeof(*a))) {
			fk.pfx[i] = fk.pfx[--fk.npfx];
			return 0;
		}
	return -ENOENT;
}

static int f_prefix_each(void *dp,
			 void (*fn)(void *ctx, const struct xcrs_addr *a,
				    unsigned plen, const struct xcrs_sub *s),
			 void *ctx)
{
	for (size_t i = 0; i < fk.npfx; i++)
		fn(ctx, &fk.pfx[i].a, fk.pfx[i].plen, &fk.pfx[i].v);
	return (int)fk.npfx;
}

static int f_fail_closed(void *dp, bool on)
{
	fk.fail_closed = on;
	return 0;
}

static int f_runtime(void *dp, uint32_t *ret)
{
	*ret = fk.fail_closed ? XCRS_RT_SUBS_FULL : 0;
	return 0;
}

static uint64_t f_subs_count(void *dp, uint64_t *cap)
{
	*cap = fk.cap;
	return fk.nsubs;
}

static uint64_t f_slots(void *dp, uint64_t *cap)
{
	*cap = 0;
	return 0;
}

static int f_seen_del(void *dp, const struct xcrs_addr *a)
{
	return -ENOENT;
}

static const char *f_errmsg(void *dp)
{
	return fk.err;
}

static const struct enf_dp_ops fake_ops = {
	.policy_check = f_policy,
	.policy_apply = f_apply,
	.sub_set = f_sub_set,
	.sub_del = f_sub_del,
	.scope_set = f_scope_set,
	.prefix_set = f_prefix_set,
	.prefix_del = f_prefix_del,
	.prefix_each = f_prefix_each,
	.fail_closed = f_fail_closed,
	.runtime_get = f_runtime,
	.subs_count = f_subs_count,
	.slots_used = f_slots,
	.seen_del = f_seen_del,
	.errmsg = f_errmsg,
};

/* ---- the layers under test --------------------------------------------------- */

static const char policy_text[] =
	"version: 1\n"
	"agent:\n"
	"  maps: {when_full: quarantined}\n"
	"services:\n"
	"  - {name: crs, rules: [{prefixes: 198.51.100.1, protocol: tcp, "
	"ports: 7443}]}\n"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: quarantined, allow: [crs]}\n"
	"scopes:\n"
	"  - {name: cell-a, id: 1, pools: 192.0.2.0/27, containment: isolate,"
	" isolate_allow: [crs]}\n"
	"subscribers:\n"
	"  - {address: 192.0.2.30, level: normal, scope: cell-a}\n"
	"never_react:\n"
	"  - {name: noc, prefixes: [192.0.2.16/30]}\n"
	"rules:\n"
	"  - name: infected\n"
	"    on: report\n"
	"    match: {status: infected}\n"
	"    react: {level: quarantined, for: 1h}\n"
	"    release_on_clean: true\n";

static struct policy *pol;
static struct enforce *enf;
static struct decide *dec;
static struct xcrs_addr changed[16];
static int nchanged;

static void on_changed(void *ctx, const struct xcrs_addr *a)
{
	if (nchanged < 16)
		changed[nchanged] = *a;
	nchanged++;
}

static struct xcrs_addr A(const char *s)
{
	struct xcrs_addr a;

	cr_assert_eq(addr_parse(s, &a), 0, "%s", s);
	return a;
}

static void setup(void)
{
	struct policy_error e;
	struct decide_port port = { .terminal_changed = on_changed };
	char err[512];

	memset(&fk, 0, sizeof(fk));
	fk.cap = FAKE_MAX;
	nchanged = 0;
	cr_assert_eq(policy_load_string(policy_text, sizeof(policy_text) - 1,
					"p.yaml", &pol, &e),
		     0, "%s", e.msg);
	cr_assert_eq(enf_new(&fake_ops, &fk, pol, &enf), 0);
	cr_assert_eq(decide_new(pol, enf, NULL, &dec), 0);
	cr_assert_eq(decide_add_port(dec, &port), 0);
	cr_assert_eq(decide_apply(dec, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	decide_free(dec);
	enf_free(enf);
	policy_free(pol);
}

static const struct xcrs_sub *entry(const char *s)
{
	struct xcrs_addr a = A(s);
	int i = find_sub(&a);

	return i < 0 ? NULL : &fk.subv[i];
}

static int react(const char *s, const char *level, char *err, size_t len)
{
	struct xcrs_addr a = A(s);

	return decide_react(dec, &a, 128, level, 0, "test", "test", 0,
			    now_mono(), err, len);
}

TestSuite(decide, .init = setup, .fini = teardown);

Test(decide, start_writes_tables_and_the_static_entry_once)
{
	const struct xcrs_sub *st = entry("192.0.2.30");

	cr_expect_eq(fk.applies, 1);
	cr_assert(st, "no entry for the static subscriber");
	cr_expect_eq(st->level, 0);
	cr_expect_eq(st->base_level, 0);
	cr_expect_eq(st->scope, 1);
	cr_expect_eq(fk.nsubs, 1, "only the static subscriber has an entry");
}

Test(decide, operator_react_and_release_write_and_remove_the_entry)
{
	char err[512];
	const struct xcrs_sub *v;

	cr_assert_eq(react("192.0.2.5", "quarantined", err, sizeof(err)), 0,
		     "%s", err);
	v = entry("192.0.2.5");
	cr_assert(v);
	cr_expect_eq(v->level, 1);
	cr_expect_eq(v->base_level, 1, "no end: the level stays");
	cr_expect_eq(v->scope, 1, "the pool's scope");
	cr_expect_eq(nchanged, 1, "the notice port heard of it");
	cr_expect_eq(decide_report(dec)->reactions, 1);
	{
		struct xcrs_addr a = A("192.0.2.5");

		cr_assert_eq(decide_release(dec, &a, 128, "test", now_mono(),
					    err, sizeof(err)),
			     0, "%s", err);
		cr_expect_eq(decide_release(dec, &a, 128, "test", now_mono(),
					    err, sizeof(err)),
			     -ENOENT);
		cr_expect(strstr(err, "no reaction to release"), "%s", err);
	}
	cr_expect_null(entry("192.0.2.5"), "the entry stayed after release");
	cr_expect_eq(nchanged, 2);
}

Test(decide, a_released_static_subscriber_gets_its_static_entry_back)
{
	char err[512];
	struct xcrs_addr a = A("192.0.2.30");

	cr_assert_eq(react("192.0.2.30", "quarantined", err, sizeof(err)), 0);
	cr_expect_eq(entry("192.0.2.30")->level, 1);
	cr_assert_eq(decide_release(dec, &a, 128, "t", now_mono(), err,
				    sizeof(err)),
		     0);
	cr_assert(entry("192.0.2.30"));
	cr_expect_eq(entry("192.0.2.30")->level, 0);
	cr_expect_eq(entry("192.0.2.30")->scope, 1);
}

Test(decide, never_react_is_refused_before_the_engine_and_the_dataplane)
{
	char err[512];
	struct corr_event ev = { .kind = CORR_EV_REPORT,
				 .status = CRSAP_STATUS_INFECTED };
	struct xcrs_addr pf = A("192.0.2.0");

	cr_expect_eq(react("192.0.2.17", "quarantined", err, sizeof(err)),
		     -EPERM);
	cr_expect(strstr(err, "never_react") && strstr(err, "noc"), "%s", err);
	ev.terminal = A("192.0.2.18");
	cr_expect_eq(decide_ingest(dec, &ev, now_mono(), 0), -EPERM);
	cr_expect_eq(decide_react(dec, &pf, 96 + 24, "quarantined", 0, "t",
				  "t", 0, now_mono(), err, sizeof(err)),
		     -EPERM, "a prefix holding a never_react one");
	cr_expect_eq(decide_report(dec)->never_refused, 3);
	cr_expect_eq(fk.nsubs, 1);
	cr_expect_eq(fk.npfx, 0);
	cr_expect_eq(decide_report(dec)->decisions, 0);
	cr_expect_eq(nchanged, 0);
}

Test(decide, a_refused_write_reaches_the_operator_and_is_written_later)
{
	char err[512];
	const struct enf_report *er = enf_report(enf);

	fk.cap = 1; /* the static subscriber fills the map */
	cr_expect_eq(react("192.0.2.5", "quarantined", err, sizeof(err)),
		     -E2BIG);
	cr_expect(strstr(err, "192.0.2.5") && strstr(err, "subscriber map full"),
		  "%s", err);
	cr_expect(er->unenforced);
	cr_expect(er->subs_full, "agent.maps.when_full: failing closed");
	cr_expect(fk.fail_closed);
	cr_expect_eq(er->errors, 1);
	/* the reaction is kept: retried while it does not fit, quietly */
	decide_housekeeping(dec, now_mono());
	cr_expect(er->unenforced);
	cr_expect(fk.fail_closed);
	cr_expect_eq(er->errors, 1, "a retry is not a new error");
	/* room again */
	fk.cap = FAKE_MAX;
	decide_housekeeping(dec, now_mono());
	cr_assert(entry("192.0.2.5"), "never written after room came back");
	cr_expect_eq(entry("192.0.2.5")->level, 1);
	cr_expect_not(er->unenforced);
	cr_expect_not(er->subs_full);
	cr_expect_not(fk.fail_closed, "still failing closed");
}

Test(decide, a_report_reacts_through_the_engine_with_its_latency)
{
	struct corr_event ev = { .kind = CORR_EV_REPORT,
				 .status = CRSAP_STATUS_INFECTED };
	uint64_t now = now_mono();
	const struct xcrs_sub *v;

	ev.terminal = A("192.0.2.6");
	cr_expect_eq(decide_ingest(dec, &ev, now, now), 1);
	v = entry("192.0.2.6");
	cr_assert(v);
	cr_expect_eq(v->level, 1);
	cr_expect_gt(v->expires_ns, now + S(3500), "1h from the rule");
	cr_expect_eq(v->base_level, XCRS_SUB_BASE_NONE,
		     "pool member: no entry once it ends");
	cr_expect_eq(decide_report(dec)->lat_count, 1);
	/* a clean report releases it */
	ev.status = CRSAP_STATUS_CLEAN;
	cr_expect_eq(decide_ingest(dec, &ev, now, 0), 1);
	cr_expect_null(entry("192.0.2.6"));
	cr_expect_eq(decide_report(dec)->lat_count, 1);
}

Test(decide, containment_writes_the_scope_in_its_mode)
{
	char err[512];

	cr_assert_eq(decide_contain(dec, 0, XCRS_CONTAIN_NONE, 0, "t", "t",
				    now_mono(), err, sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(fk.scopes[1].mode, XCRS_CONTAIN_ISOLATE);
	cr_expect_neq(fk.scopes[1].allowed, 0, "isolate_allow");
	cr_assert_eq(decide_contain(dec, 0, XCRS_CONTAIN_NO_LATERAL, 0, "t",
				    "t", now_mono(), err, sizeof(err)),
		     0);
	cr_expect_eq(fk.scopes[1].mode, XCRS_CONTAIN_NO_LATERAL,
		     "a new mode on a contained scope");
	cr_assert_eq(decide_uncontain(dec, 0, "t", now_mono(), err,
				      sizeof(err)),
		     0);
	cr_expect_eq(fk.scopes[1].mode, XCRS_CONTAIN_NONE);
	cr_expect_eq(decide_uncontain(dec, 0, "t", now_mono(), err,
				      sizeof(err)),
		     -ENOENT);
}

Test(decide, prefix_decisions_are_written_and_expire)
{
	char err[512];
	struct xcrs_addr a = A("203.0.113.0");
	uint64_t now = now_mono();

	cr_assert_eq(decide_react(dec, &a, 96 + 28, "quarantined", now + S(60),
				  "t", "t", 0, now, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(fk.npfx, 1);
	cr_expect_eq(fk.pfx[0].v.level, 1);
	cr_expect_eq(fk.pfx[0].v.expires_ns, now + S(60));
	cr_expect_eq(decide_report(dec)->prefixes, 1);
	decide_housekeeping(dec, now + S(61));
	cr_expect_eq(fk.npfx, 0, "an expired prefix decision stayed");
	cr_expect_eq(decide_report(dec)->prefixes, 0);
	cr_expect_eq(decide_release(dec, &a, 96 + 28, "t", now, err,
				    sizeof(err)),
		     -ENOENT);
}

/* What the fleet's port hears of prefix decisions. */
static struct {
	unsigned n;
	char level[32]; /* "" : ended */
	bool by_operator;
	uint64_t until;
} told;

static void on_prefix(void *ctx, const struct xcrs_addr *a, unsigned plen,
		      const char *level, uint64_t until, const char *why,
		      bool by_operator)
{
	(void)ctx;
	(void)a;
	(void)plen;
	(void)why;
	told.n++;
	snprintf(told.level, sizeof(told.level), "%s", level ? level : "");
	told.by_operator = by_operator;
	told.until = until;
}

Test(decide, prefix_decisions_here_are_told_the_fleet_s_are_not)
{
	struct decide_port port = { .prefix_changed = on_prefix };
	struct xcrs_addr a = A("203.0.113.0"), b = A("198.51.100.0");
	uint64_t now = now_mono();
	char err[512];

	memset(&told, 0, sizeof(told));
	cr_assert_eq(decide_add_port(dec, &port), 0);
	/* the operator here: told, with its expiry */
	cr_assert_eq(decide_react(dec, &a, 124, "quarantined", now + S(60),
				  "t", "t", 0, now, err, sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(told.n, 1);
	cr_expect_str_eq(told.level, "quarantined");
	cr_expect_eq(told.until, now + S(60));
	/* another node's: enforced, not told back; the same again and the
	 * same a millisecond off change nothing */
	cr_assert_eq(decide_remote_prefix(dec, &b, 120, "quarantined",
					  now + S(30), "x", "b", err,
					  sizeof(err)),
		     0, "%s", err);
	cr_expect_eq(fk.npfx, 2);
	cr_expect_eq(told.n, 1);
	cr_assert_eq(decide_remote_prefix(dec, &b, 120, "quarantined",
					  now + S(30) + 1000000, "x", "b",
					  err, sizeof(err)),
		     0);
	cr_expect_eq(decide_report(dec)->reactions, 2);
	/* its expiry is its node's to write: not told */
	decide_housekeeping(dec, now + S(31));
	cr_expect_eq(fk.npfx, 1);
	cr_expect_eq(told.n, 1);
	/* ours expires: told, not as the operator's */
	decide_housekeeping(dec, now + S(61));
	cr_expect_eq(told.n, 2);
	cr_expect_str_eq(told.level, "");
	cr_expect_not(told.by_operator);
	/* an operator's release here of another node's: told, fleet-wide */
	cr_assert_eq(decide_remote_prefix(dec, &b, 120, "quarantined", 0, "x",
					  "b", err, sizeof(err)),
		     0);
	cr_assert_eq(decide_release(dec, &b, 120, "t", now, err, sizeof(err)),
		     0);
	cr_expect_eq(told.n, 3);
	cr_expect(told.by_operator);
	/* the fleet's release: not told back */
	cr_assert_eq(decide_remote_prefix(dec, &b, 120, "quarantined", 0, "x",
					  "b", err, sizeof(err)),
		     0);
	cr_assert_eq(decide_remote_prefix_end(dec, &b, 120), 0);
	cr_expect_eq(told.n, 3);
	cr_expect_eq(fk.npfx, 0);
	/* a level this node lacks is refused */
	cr_expect_eq(decide_remote_prefix(dec, &b, 120, "nosuch", 0, "x", "b",
					  err, sizeof(err)),
		     -ENOENT);
}

Test(decide, an_unknown_level_is_refused)
{
	char err[512];

	cr_expect_eq(react("192.0.2.5", "jailed", err, sizeof(err)), -ENOENT);
	cr_expect(strstr(err, "jailed"), "%s", err);
	cr_expect_eq(fk.nsubs, 1);
}

/* ---- the state file and the decision journal ----------------------------- */

static char sdir[64], spath[128], jpath[160];
static struct policy *spol;

static void state_setup(void)
{
	struct policy_error e;
	char text[sizeof(policy_text) + 256];
	const char *agent = "agent:\n";
	const char *at = strstr(policy_text, agent) + strlen(agent);

	setup();
	snprintf(sdir, sizeof(sdir), "/tmp/xcrs-decide-XXXXXX");
	cr_assert(mkdtemp(sdir));
	snprintf(spath, sizeof(spath), "%s/state.json", sdir);
	snprintf(jpath, sizeof(jpath), "%s.journal", spath);
	snprintf(text, sizeof(text), "%.*s  state_file: %s\n%s",
		 (int)(at - policy_text), policy_text, spath, at);
	cr_assert_eq(policy_load_string(text, strlen(text), "p.yaml", &spol,
					&e),
		     0, "%s", e.msg);
	/* the layers again, on the policy with a state file */
	decide_free(dec);
	cr_assert_eq(decide_new(spol, enf, NULL, &dec), 0);
}

static void state_teardown(void)
{
	char cmd[128];
	struct rlimit rl;

	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_FSIZE, &rl);
	teardown();
	policy_free(spol);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", sdir);
	cr_expect_eq(system(cmd), 0);
}

/* The agent after a restart: a new decision layer loads what is on disk. */
static struct decide *restart(char *err, size_t len)
{
	struct decide *d;

	cr_assert_eq(decide_new(spol, enf, NULL, &d), 0);
	if (decide_load(d, err, len)) {
		decide_free(d);
		return NULL;
	}
	return d;
}

static bool known(struct decide *d, const char *s)
{
	struct xcrs_addr a = A(s);
	struct corr_view v;

	return corr_terminal(decide_engine(d), &a, &v) == 0;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	fputs(text, f);
	fclose(f);
}

TestSuite(state, .init = state_setup, .fini = state_teardown);

Test(state, decisions_never_saved_come_back_from_the_journal)
{
	char err[512];
	struct decide *d2;
	struct xcrs_addr pfx = A("203.0.113.0");
	uint64_t now = now_mono(), until;
	const char *rule;

	cr_assert_eq(decide_load(dec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(react("192.0.2.5", "quarantined", err, sizeof(err)), 0);
	cr_assert_eq(react("192.0.2.6", "quarantined", err, sizeof(err)), 0);
	cr_assert_eq(decide_save(dec), 0);
	/* after the last snapshot: two more, one release, a containment and
	 * a prefix; then the agent dies (no flush, no save) */
	cr_assert_eq(react("192.0.2.7", "quarantined", err, sizeof(err)), 0);
	cr_assert_eq(react("192.0.2.8", "quarantined", err, sizeof(err)), 0);
	{
		/* a record with what JSON must escape */
		struct xcrs_addr a = A("192.0.2.9");

		cr_assert_eq(decide_react(dec, &a, 128, "quarantined", 0,
					  "say \"why\"\\\n\ttab", "t", 0, now,
					  err, sizeof(err)),
			     0, "%s", err);
	}
	{
		struct xcrs_addr a = A("192.0.2.5");

		cr_assert_eq(decide_release(dec, &a, 128, "t", now, err,
					    sizeof(err)),
			     0, "%s", err);
	}
	cr_assert_eq(decide_contain(dec, 0, XCRS_CONTAIN_NONE, 0, "worm", "t",
				    now, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(decide_react(dec, &pfx, 96 + 28, "quarantined", 0, "t",
				  "t", 0, now, err, sizeof(err)),
		     0, "%s", err);
	d2 = restart(err, sizeof(err));
	cr_assert(d2, "%s", err);
	cr_expect(!known(d2, "192.0.2.5"), "a release was forgotten");
	cr_expect(known(d2, "192.0.2.6"), "the snapshot's decision is gone");
	cr_expect(known(d2, "192.0.2.7") && known(d2, "192.0.2.8"),
		  "decisions after the snapshot were lost");
	{
		struct xcrs_addr a = A("192.0.2.9");
		struct corr_view v;

		cr_assert_eq(corr_terminal(decide_engine(d2), &a, &v), 0);
		cr_expect_str_eq(v.why, "say \"why\"\\\n\ttab");
	}
	cr_expect_eq(corr_scope_state(decide_engine(d2), 0, &until, &rule), 1,
		     "the containment was lost");
	{
		json_object *p = decide_prefixes_json(d2, false);

		cr_expect_eq(json_object_array_length(p), 1,
			     "the prefix decision was lost");
		json_object_put(p);
	}
	/* restarted twice: replaying again changes nothing */
	decide_free(d2);
	d2 = restart(err, sizeof(err));
	cr_assert(d2, "%s", err);
	cr_expect(!known(d2, "192.0.2.5") && known(d2, "192.0.2.7"));
	decide_free(d2);
}

Test(state, a_journal_older_than_the_state_file_is_not_replayed)
{
	char err[512], text[512];
	struct decide *d2;

	cr_assert_eq(decide_load(dec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(react("192.0.2.6", "quarantined", err, sizeof(err)), 0);
	cr_assert_eq(decide_save(dec), 0);
	/* a crash between the rename and the journal's new start: the old
	 * journal (generation 0) says 192.0.2.9 is quarantined, which the
	 * state file (generation 1) has already taken into account */
	snprintf(text, sizeof(text),
		 "{\"journal\":0}\n{\"terminal\":\"192.0.2.9\",\"reactions\":"
		 "[{\"rule\":\"x\",\"level\":\"quarantined\",\"until_ms\":0,"
		 "\"release_on_clean\":false,\"why\":\"old\"}]}\n");
	put(jpath, text);
	d2 = restart(err, sizeof(err));
	cr_assert(d2, "%s", err);
	cr_expect(known(d2, "192.0.2.6"));
	cr_expect(!known(d2, "192.0.2.9"), "a stale journal was replayed");
	decide_free(d2);
}

Test(state, a_torn_last_record_is_ignored_a_damaged_one_stops_the_start)
{
	char err[512];
	struct decide *d2;
	FILE *f;

	cr_assert_eq(decide_load(dec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(react("192.0.2.6", "quarantined", err, sizeof(err)), 0);
	/* a crash inside a write: half a record at the end */
	f = fopen(jpath, "a");
	fputs("{\"terminal\":\"192.0.2.9\",\"reac", f);
	fclose(f);
	d2 = restart(err, sizeof(err));
	cr_assert(d2, "a torn last record stopped the start: %s", err);
	cr_expect(known(d2, "192.0.2.6") && !known(d2, "192.0.2.9"));
	decide_free(d2);
	/* garbage before the end is damage: the start stops and says so */
	f = fopen(jpath, "a");
	fputs("\nnot json\n{\"terminal\":\"192.0.2.10\",\"reactions\":[]}\n", f);
	fclose(f);
	err[0] = '\0';
	cr_expect_null(restart(err, sizeof(err)));
	cr_expect(strstr(err, "damaged") && strstr(err, jpath), "%s", err);
}

Test(state, a_full_disk_keeps_decisions_and_saves_them_when_space_returns)
{
	char err[512];
	struct decide *d2;
	struct rlimit rl;
	char ip[32];

	signal(SIGXFSZ, SIG_IGN); /* writes past the limit fail with EFBIG */
	cr_assert_eq(decide_load(dec, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(decide_save(dec), 0);
	/* the disk fills: no file may grow past 600 bytes */
	getrlimit(RLIMIT_FSIZE, &rl);
	rl.rlim_cur = 600;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	for (int i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", 1 + i);
		cr_assert_eq(react(ip, "quarantined", err, sizeof(err)), 0,
			     "a full disk refused a decision: %s", err);
	}
	cr_expect_neq(decide_save_error(dec), 0, "a failed write unseen");
	cr_expect_neq(decide_flush(dec), 0);
	cr_expect_geq(decide_save_failures(dec), 1);
	cr_expect_geq(decide_retry_ns(dec), 100000000ull);
	cr_expect(decide_dirty(dec), "a failed save is not retried");
	/* space returns: the next try saves everything */
	rl.rlim_cur = rl.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	/* not before the backoff says */
	cr_expect_neq(decide_flush(dec), 0, "a retry before its time");
	usleep((useconds_t)(decide_retry_ns(dec) / 1000) + 1000);
	cr_expect_eq(decide_flush(dec), 0);
	cr_expect_eq(decide_save_error(dec), 0);
	cr_expect(!decide_dirty(dec));
	d2 = restart(err, sizeof(err));
	cr_assert(d2, "%s", err);
	for (int i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", 1 + i);
		cr_expect(known(d2, ip), "%s was lost", ip);
	}
	decide_free(d2);
}
