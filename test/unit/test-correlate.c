// SPDX-License-Identifier: GPL-2.0-only
/*
 * The correlation engine driven by synthetic event streams and a fake
 * clock: which decision each stream produces, when reactions end, how
 * outbreaks contain a scope, and what survives a policy reload.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "addr.h"
#include "correlate.h"

#define S(x) ((uint64_t)(x) * 1000000000ULL)

static const char policy_text[] =
	"version: 1\n"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: restricted, allow: []}\n"
	"  - {name: quarantined, allow: []}\n"
	"scopes:\n"
	"  - {name: cell-a, pools: 192.0.2.0/27}\n"
	"  - {name: cell-b, pools: 192.0.2.32/27}\n"
	"rules:\n"
	"  - name: infected\n"
	"    on: report\n"
	"    match: {status: infected}\n"
	"    react: {level: quarantined, for: 1h}\n"
	"    release_on_clean: true\n"
	"  - name: ids-repeated\n"
	"    on: ids\n"
	"    match: {severity_at_most: 2}\n"
	"    count: 3\n"
	"    within: 5m\n"
	"    react: {level: restricted, for: 30m}\n"
	"  - name: outbreak\n"
	"    on: ids\n"
	"    match: {severity_at_most: 1}\n"
	"    terminals: 3\n"
	"    within: 10m\n"
	"    contain: {for: 1h}\n"
	"  - name: scanner\n"
	"    on: fanout\n"
	"    react: {level: quarantined}\n";

static struct policy *pol;
static struct corr *corr;
static struct corr_decision log_[32];
static char rules_[32][64];
static int nlog;

static char causes_[32][64];
/* reaction notes, as "fired RULE LEVEL" / "ended RULE LEVEL BY" */
static char notes_[32][128];
static int nnotes;

static void on_decision(void *ctx, const struct corr_decision *d)
{
	cr_assert_lt(nlog, 32);
	log_[nlog] = *d;
	snprintf(rules_[nlog], sizeof(rules_[0]), "%s", d->rule);
	log_[nlog].rule = rules_[nlog];
	snprintf(causes_[nlog], sizeof(causes_[0]), "%s",
		 d->cause ? d->cause : "-");
	log_[nlog].cause = causes_[nlog];
	log_[nlog].why = NULL;
	nlog++;
}

static void on_note(void *ctx, const struct corr_reaction_note *n)
{
	cr_assert_lt(nnotes, 32);
	if (n->change == CORR_R_FIRED)
		snprintf(notes_[nnotes], sizeof(notes_[0]), "fired %s %s",
			 n->rule, n->level);
	else
		snprintf(notes_[nnotes], sizeof(notes_[0]), "ended %s %s %s",
			 n->rule, n->level, n->by);
	nnotes++;
}

static void setup(void)
{
	struct policy_error e;

	cr_assert_eq(policy_load_string(policy_text, sizeof(policy_text) - 1,
					"p.yaml", &pol, &e),
		     0, "%s", e.msg);
	cr_assert_eq(corr_new(pol, on_decision, NULL, &corr), 0);
	corr_set_notes(corr, on_note, NULL);
	nlog = 0;
	nnotes = 0;
}

static void teardown(void)
{
	corr_free(corr);
	policy_free(pol);
}

static struct corr_event ev(enum corr_event_kind k, const char *addr)
{
	struct corr_event e = { .kind = k };

	cr_assert_eq(addr_parse(addr, &e.terminal), 0);
	snprintf(e.source, sizeof(e.source), "test");
	return e;
}

static struct corr_event report(const char *addr, enum crsap_status s)
{
	struct corr_event e = ev(CORR_EV_REPORT, addr);

	e.status = s;
	return e;
}

static struct corr_event alert(const char *addr, unsigned sev, uint64_t sig)
{
	struct corr_event e = ev(CORR_EV_IDS, addr);

	e.severity = sev;
	e.signature = sig;
	return e;
}

TestSuite(corr, .init = setup, .fini = teardown);

Test(corr, infected_report_quarantines_and_expires)
{
	struct corr_event e = report("192.0.2.5", CRSAP_STATUS_INFECTED);

	cr_assert_eq(corr_ingest(corr, &e, S(100)), 1);
	cr_expect_eq(log_[0].change, CORR_TERMINAL_SET);
	cr_expect_eq(log_[0].level, 2);
	cr_expect_eq(log_[0].until_ns, S(100 + 3600));
	cr_expect_eq(log_[0].then_level, -1);
	cr_expect_eq(log_[0].scope, 0);
	cr_expect_str_eq(log_[0].rule, "infected");
	cr_expect_eq(corr_next_deadline(corr), S(3700));

	cr_expect_eq(corr_tick(corr, S(3699)), 0, "released early");
	cr_assert_eq(corr_tick(corr, S(3700)), 1);
	cr_expect_eq(log_[1].change, CORR_TERMINAL_RELEASED);
	cr_expect_str_eq(log_[1].rule, "expired");
	cr_expect_eq(corr_next_deadline(corr), 0);
}

Test(corr, clean_report_releases_only_what_allows_it)
{
	struct corr_event inf = report("192.0.2.5", CRSAP_STATUS_INFECTED);
	struct corr_event clean = report("192.0.2.5", CRSAP_STATUS_CLEAN);
	struct corr_event scan = ev(CORR_EV_FANOUT, "192.0.2.6");
	struct corr_event clean6 = report("192.0.2.6", CRSAP_STATUS_CLEAN);

	corr_ingest(corr, &inf, S(1));
	cr_assert_eq(corr_ingest(corr, &clean, S(2)), 1);
	cr_expect_eq(log_[1].change, CORR_TERMINAL_RELEASED);
	cr_expect_str_eq(log_[1].rule, "clean");
	/* The scanner rule has no release_on_clean. */
	cr_assert_eq(corr_ingest(corr, &scan, S(3)), 1);
	cr_expect_eq(corr_ingest(corr, &clean6, S(4)), 0);
	cr_expect_eq(log_[2].until_ns, 0, "scanner: until released");
}

Test(corr, repeated_alerts_within_the_window_only)
{
	struct corr_event a = alert("192.0.2.7", 2, 2001);

	/* Three alerts, but spread over more than 5 minutes. */
	cr_expect_eq(corr_ingest(corr, &a, S(0)), 0);
	cr_expect_eq(corr_ingest(corr, &a, S(200)), 0);
	cr_expect_eq(corr_ingest(corr, &a, S(400)), 0, "window ignored");
	/* The last three are within 5 minutes. */
	cr_assert_eq(corr_ingest(corr, &a, S(500)), 1);
	cr_expect_eq(log_[0].level, 1);
	cr_expect_str_eq(log_[0].rule, "ids-repeated");
	/* Severity 3 is not matched. */
	a.severity = 3;
	a.terminal.a[15] = 8;
	for (int i = 0; i < 5; i++)
		cr_expect_eq(corr_ingest(corr, &a, S(600 + i)), 0);
}

Test(corr, most_restrictive_reaction_wins_and_the_next_takes_over)
{
	struct corr_event a = alert("192.0.2.9", 2, 1);
	struct corr_event inf = report("192.0.2.9", CRSAP_STATUS_INFECTED);

	for (int i = 0; i < 3; i++)
		corr_ingest(corr, &a, S(10 + i));
	cr_assert_eq(nlog, 1);
	cr_expect_eq(log_[0].level, 1); /* restricted, until 10+2+1800 */
	/* Quarantine for 1h on top; restricted remains underneath? No: it
	 * ends before the quarantine, so nothing is left after it. */
	cr_assert_eq(corr_ingest(corr, &inf, S(20)), 1);
	cr_expect_eq(log_[1].level, 2);
	cr_expect_eq(log_[1].then_level, -1);
	/* A manual restriction without end stays under the quarantine. */
	cr_assert_eq(corr_react(corr, &inf.terminal, 1, 0, "hold", S(30)), 1);
	cr_expect_eq(log_[2].level, 2);
	cr_expect_eq(log_[2].then_level, 1);
	cr_assert_eq(corr_tick(corr, S(20 + 3600)), 1);
	cr_expect_eq(log_[3].change, CORR_TERMINAL_SET);
	cr_expect_eq(log_[3].level, 1);
	cr_expect_str_eq(log_[3].rule, "operator");
	cr_assert_eq(corr_release(corr, &inf.terminal, S(4000)), 1);
	cr_expect_eq(log_[4].change, CORR_TERMINAL_RELEASED);
	cr_expect_eq(corr_release(corr, &inf.terminal, S(4001)), -ENOENT);
}

Test(corr, outbreak_contains_the_scope_of_the_terminals)
{
	struct corr_event a = alert("192.0.2.1", 1, 777);

	cr_expect_eq(corr_ingest(corr, &a, S(0)), 0);
	cr_expect_eq(corr_ingest(corr, &a, S(1)), 0, "one terminal twice");
	a.terminal.a[15] = 2;
	cr_expect_eq(corr_ingest(corr, &a, S(2)), 0);
	/* A terminal of another scope does not count for cell-a. */
	a.terminal.a[15] = 40;
	cr_expect_eq(corr_ingest(corr, &a, S(3)), 0);
	/* Another signature does not count. */
	a.terminal.a[15] = 3;
	a.signature = 778;
	cr_expect_eq(corr_ingest(corr, &a, S(4)), 0);
	a.signature = 777;
	cr_assert_eq(corr_ingest(corr, &a, S(5)), 1);
	cr_expect_eq(log_[0].change, CORR_SCOPE_CONTAINED);
	cr_expect_eq(log_[0].scope, 0);
	cr_expect_eq(log_[0].until_ns, S(5 + 3600));
	cr_expect_str_eq(log_[0].rule, "outbreak");
	cr_expect_eq(corr_scope_state(corr, 0, NULL, NULL), 1);
	cr_expect_eq(corr_scope_state(corr, 1, NULL, NULL), 0);
	cr_assert_eq(corr_tick(corr, S(3605)), 1);
	cr_expect_eq(log_[1].change, CORR_SCOPE_RELEASED);
}

Test(corr, outbreak_evidence_leaves_the_window)
{
	struct corr_event a = alert("192.0.2.1", 1, 777);

	corr_ingest(corr, &a, S(0));
	a.terminal.a[15] = 2;
	corr_ingest(corr, &a, S(1));
	a.terminal.a[15] = 3;
	cr_expect_eq(corr_ingest(corr, &a, S(601)), 0,
		     "the first alert left the 10 min window");
	a.terminal.a[15] = 4;
	cr_expect_eq(corr_ingest(corr, &a, S(601)), 1);
}

Test(corr, operator_containment_and_release)
{
	cr_assert_eq(corr_contain(corr, 1, 0, "test", S(1)), 1);
	cr_expect_eq(log_[0].change, CORR_SCOPE_CONTAINED);
	cr_expect_str_eq(log_[0].rule, "operator");
	cr_assert_eq(corr_uncontain(corr, 1, S(2)), 1);
	cr_expect_eq(corr_uncontain(corr, 1, S(3)), -ENOENT);
	cr_expect_eq(corr_contain(corr, 9, 0, NULL, S(3)), -EINVAL);
}

Test(corr, terminal_without_scope_still_reacts)
{
	struct corr_event inf = report("203.0.113.5", CRSAP_STATUS_INFECTED);

	cr_assert_eq(corr_ingest(corr, &inf, S(1)), 1);
	cr_expect_eq(log_[0].scope, -1);
}

Test(corr, restore_then_views)
{
	struct xcrs_addr a;
	struct corr_view v;

	cr_assert_eq(addr_parse("192.0.2.33", &a), 0);
	cr_assert_eq(corr_restore(corr, &a, "infected", 2, S(500), true,
				  "saved"),
		     0);
	cr_expect_eq(nlog, 0, "restore must not decide");
	cr_assert_eq(corr_terminal(corr, &a, &v), 0);
	cr_expect_eq(v.level, 2);
	cr_expect_eq(v.scope, 1);
	cr_expect_str_eq(v.rule, "infected");
	/* It ends as any other reaction. */
	cr_assert_eq(corr_tick(corr, S(500)), 1);
	cr_expect_eq(log_[0].change, CORR_TERMINAL_RELEASED);
}

Test(corr, reload_keeps_reactions_by_level_name)
{
	static const char next_text[] =
		"version: 1\n"
		"levels:\n"
		"  - {name: normal, allow: all}\n"
		"  - {name: quarantined, allow: []}\n"
		"scopes:\n"
		"  - {name: cell-b, pools: 192.0.2.32/27}\n";
	struct corr_event inf = report("192.0.2.5", CRSAP_STATUS_INFECTED);
	struct corr_event a = alert("192.0.2.6", 2, 1);
	struct policy *np;
	struct policy_error e;
	struct corr_view v;

	corr_ingest(corr, &inf, S(1));
	for (int i = 0; i < 3; i++)
		corr_ingest(corr, &a, S(2 + i));
	cr_assert_eq(nlog, 2);
	cr_assert_eq(policy_load_string(next_text, sizeof(next_text) - 1,
					"n.yaml", &np, &e),
		     0, "%s", e.msg);
	/* restricted is gone: 192.0.2.6 is released; quarantined moved from
	 * index 2 to 1 without changing meaning: no decision. */
	cr_assert_eq(corr_set_policy(corr, np, S(10)), 1);
	cr_expect_eq(log_[2].change, CORR_TERMINAL_RELEASED);
	cr_assert_eq(corr_terminal(corr, &inf.terminal, &v), 0);
	cr_expect_eq(v.level, 1);
	cr_expect_eq(v.scope, -1, "cell-a is gone");
	corr_free(corr);
	corr = NULL;
	policy_free(np);
}

/* Group attributes: a rule can be for some scopes only (here, outdated
 * terminals of cell-b are restricted, those of cell-a are not). */
Test(correlate, rule_for_some_scopes_only)
{
	static const char text[] =
		"version: 1\n"
		"levels:\n  - {name: normal, allow: all}\n"
		"  - {name: restricted, allow: []}\n"
		"scopes:\n"
		"  - {name: cell-a, pools: 192.0.2.0/27}\n"
		"  - {name: cell-b, pools: 192.0.2.32/27}\n"
		"rules:\n"
		"  - name: outdated-in-b\n"
		"    on: report\n"
		"    match: {status: outdated, scopes: [cell-b]}\n"
		"    react: {level: restricted, for: 1h}\n";
	struct policy *p;
	struct corr *c;
	struct policy_error e;
	struct corr_event a = report("192.0.2.10", CRSAP_STATUS_OUTDATED),
			  b = report("192.0.2.40", CRSAP_STATUS_OUTDATED);

	cr_assert_eq(policy_load_string(text, sizeof(text) - 1, "p.yaml", &p,
					&e),
		     0, "%s", e.msg);
	cr_assert_eq(corr_new(p, on_decision, NULL, &c), 0);
	nlog = 0;
	cr_expect_eq(corr_ingest(c, &a, S(1)), 0, "cell-a is not in the rule");
	cr_expect_eq(corr_ingest(c, &b, S(2)), 1);
	cr_expect_str_eq(rules_[0], "outdated-in-b");
	corr_free(c);
	policy_free(p);
	{
		static const char bad[] =
			"version: 1\nlevels:\n  - {name: n, allow: all}\n"
			"rules:\n  - {name: r, on: report, match: {status: "
			"outdated, scopes: [nowhere]}, react: {level: n}}\n";

		cr_expect_neq(policy_load_string(bad, sizeof(bad) - 1,
						 "p.yaml", &p, &e),
			      0);
	}
	cr_expect(strstr(e.msg, "match.scopes: no scope named 'nowhere'") !=
			  NULL,
		  "%s", e.msg);
}

/* ---- escalation of repeat offenders ---- */

static const char esc_text[] =
	"version: 1\n"
	"levels:\n"
	"  - {name: normal, allow: all}\n"
	"  - {name: quarantined, allow: []}\n"
	"  - {name: blocked, allow: []}\n"
	"rules:\n"
	"  - name: worm\n"
	"    on: ids\n"
	"    react: {level: quarantined, for: 1h}\n"
	"    escalate: {within: 1d, factor: 4, max: 10h, after: 3, "
	"level: blocked}\n";

Test(escalate, longer_then_stricter_within_the_window_then_forgiven)
{
	struct policy *p;
	struct policy_error e;
	struct corr_event ev = { .kind = CORR_EV_IDS, .severity = 1,
				 .signature = 7 };
	struct corr *cc;
	uint64_t t0 = S(1000);

	cr_assert_eq(policy_load_string(esc_text, sizeof(esc_text) - 1,
					"e.yaml", &p, &e),
		     0, "%s", e.msg);
	cr_assert_eq(corr_new(p, on_decision, NULL, &cc), 0);
	nlog = 0;
	cr_assert_eq(addr_parse("192.0.2.7", &ev.terminal), 0);

	/* 1st: 1 h quarantine */
	cr_assert_eq(corr_ingest(cc, &ev, t0), 1);
	cr_expect_eq(log_[0].level, 1);
	cr_expect_eq(log_[0].until_ns, t0 + S(3600));
	/* an alert while still quarantined renews (1 h from now), it is no
	 * new offence */
	nlog = 0;
	cr_expect_eq(corr_ingest(cc, &ev, t0 + S(60)), 1);
	cr_expect_eq(log_[0].until_ns, t0 + S(60) + S(3600));
	corr_tick(cc, t0 + S(3661)); /* released */
	/* 2nd, within the day: 4 h */
	nlog = 0;
	cr_assert_eq(corr_ingest(cc, &ev, t0 + S(7200)), 1);
	cr_expect_eq(log_[0].level, 1);
	cr_expect_eq(log_[0].until_ns, t0 + S(7200) + S(4 * 3600));
	corr_tick(cc, t0 + S(7200 + 4 * 3600 + 1));
	/* 3rd: blocked, 16 h capped at 10 h */
	nlog = 0;
	cr_assert_eq(corr_ingest(cc, &ev, t0 + S(30000)), 1);
	cr_expect_eq(log_[0].level, 2, "not escalated to blocked");
	cr_expect_eq(log_[0].until_ns, t0 + S(30000) + S(36000));
	corr_tick(cc, t0 + S(30000 + 36000 + 1));
	/* two days on, the window has forgotten them: 1 h again */
	nlog = 0;
	cr_assert_eq(corr_ingest(cc, &ev, t0 + S(30000 + 2 * 86400)), 1);
	cr_expect_eq(log_[0].level, 1);
	cr_expect_eq(log_[0].until_ns, t0 + S(30000 + 2 * 86400) + S(3600));
	corr_free(cc);
	policy_free(p);
}

Test(escalate, policy_errors)
{
	static const char *const bad[][2] = {
		{ "    escalate: {factor: 2}\n", "missing 'within'" },
		{ "    escalate: {within: 1d, after: 3}\n",
		  "'after' and 'level' go together" },
		{ "    escalate: {within: 1d, factor: 0}\n",
		  "escalate.factor: 0 is out of range" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[1024];
		struct policy *p = NULL;
		struct policy_error e;

		snprintf(text, sizeof(text),
			 "version: 1\nlevels:\n  - {name: normal, allow: all}\n"
			 "rules:\n  - name: r\n    on: ids\n"
			 "    react: {level: normal, for: 1h}\n%s",
			 bad[i][0]);
		cr_expect_neq(policy_load_string(text, strlen(text), "e.yaml",
						 &p, &e),
			      0, "accepted: %s", bad[i][0]);
		cr_expect(strstr(e.msg, bad[i][1]), "%s", e.msg);
	}
}

/* ---- the subscriber behind an address (corr_holder) ---- */

/* 192.0.2.1 and 192.0.2.40 (two pools, two scopes) are one subscriber's
 * addresses, one after the other; its session is in cell-b whatever the
 * pools say. 192.0.2.2 and .3 are other subscribers in no session. */
static bool fake_holder(void *ctx, const struct policy *p,
			const struct xcrs_addr *a, struct corr_holder *h)
{
	struct xcrs_addr x, y;

	(void)ctx;
	addr_parse("192.0.2.1", &x);
	addr_parse("192.0.2.40", &y);
	if (memcmp(a, &x, 16) && memcmp(a, &y, 16))
		return false;
	memset(h, 0, sizeof(*h));
	h->who.a[0] = 0xff;
	h->who.a[15] = 1;
	h->scope = policy_scope_index(p, "cell-b");
	return true;
}

Test(corr, evidence_and_outbreaks_count_the_subscriber_not_its_addresses)
{
	struct corr_event e;

	corr_set_holder(corr, fake_holder, NULL);
	/* its scope is its session's */
	{
		struct xcrs_addr a;

		cr_assert_eq(addr_parse("192.0.2.1", &a), 0);
		cr_expect_eq(corr_scope_of(corr, &a), 1);
	}
	/* three alerts from two of its addresses are three of one terminal */
	e = alert("192.0.2.1", 2, 5);
	cr_expect_eq(corr_ingest(corr, &e, S(10)), 0);
	cr_expect_eq(corr_ingest(corr, &e, S(20)), 0);
	e = alert("192.0.2.40", 2, 5);
	cr_assert_eq(corr_ingest(corr, &e, S(30)), 1);
	cr_expect_eq(log_[0].change, CORR_TERMINAL_SET);
	cr_expect_eq(log_[0].level, 1);
	cr_expect_str_eq(log_[0].rule, "ids-repeated");
	/* outbreak (3 terminals): its two addresses are one terminal */
	nlog = 0;
	e = alert("192.0.2.1", 1, 99);
	corr_ingest(corr, &e, S(100));
	e = alert("192.0.2.40", 1, 99);
	corr_ingest(corr, &e, S(110));
	e = alert("192.0.2.34", 1, 99);
	corr_ingest(corr, &e, S(120));
	for (int i = 0; i < nlog; i++)
		cr_expect_neq(log_[i].change, CORR_SCOPE_CONTAINED,
			      "two terminals counted as three");
	/* a third subscriber of cell-b: contained (its session's scope) */
	nlog = 0;
	e = alert("192.0.2.35", 1, 99);
	corr_ingest(corr, &e, S(130));
	{
		bool contained = false;

		for (int i = 0; i < nlog; i++)
			if (log_[i].change == CORR_SCOPE_CONTAINED) {
				contained = true;
				cr_expect_eq(log_[i].scope, 1);
			}
		cr_expect(contained, "three subscribers of cell-b");
	}
}

Test(escalate, the_history_is_the_subscribers_and_can_be_restored)
{
	struct policy *p;
	struct policy_error e;
	struct corr_event ev = { .kind = CORR_EV_IDS, .severity = 1,
				 .signature = 7 };
	struct corr *cc;
	struct corr_holder h;
	struct xcrs_addr who;
	uint64_t t0 = S(1000), got[40];

	cr_assert_eq(policy_load_string(esc_text, sizeof(esc_text) - 1,
					"e.yaml", &p, &e),
		     0, "%s", e.msg);
	cr_assert_eq(corr_new(p, on_decision, NULL, &cc), 0);
	corr_set_holder(cc, fake_holder, NULL);
	nlog = 0;
	/* 1st offence at 192.0.2.1: 1 h */
	cr_assert_eq(addr_parse("192.0.2.1", &ev.terminal), 0);
	cr_assert_eq(corr_ingest(cc, &ev, t0), 1);
	cr_expect_eq(log_[0].until_ns, t0 + S(3600));
	corr_tick(cc, t0 + S(3601));
	/* it re-attached at 192.0.2.40: its 2nd offence, 4 h */
	nlog = 0;
	cr_assert_eq(addr_parse("192.0.2.40", &ev.terminal), 0);
	cr_assert_eq(corr_ingest(cc, &ev, t0 + S(7200)), 1);
	cr_expect_eq(log_[0].until_ns, t0 + S(7200) + S(4 * 3600),
		     "the offence at its earlier address was forgotten");
	/* its history, oldest first, and a restart restoring it */
	fake_holder(NULL, p, &ev.terminal, &h);
	who = h.who;
	cr_assert_eq(corr_offences(cc, &who, got, 40), 2);
	cr_expect_eq(got[0], t0);
	cr_expect_eq(got[1], t0 + S(7200));
	corr_free(cc);
	cr_assert_eq(corr_new(p, on_decision, NULL, &cc), 0);
	corr_set_holder(cc, fake_holder, NULL);
	cr_assert_eq(corr_set_offences(cc, &who, got, 2), 0);
	nlog = 0;
	cr_assert_eq(corr_ingest(cc, &ev, t0 + S(30000)), 1);
	cr_expect_eq(log_[0].level, 2, "3rd offence after the restart: "
				       "blocked");
	corr_free(cc);
	policy_free(p);
}

/* Every reaction's start and end is a note, also when the effective level
 * does not move; a level that falls back names the reaction that holds it
 * now, and what ended the one above as the cause. */
Test(corr, stacked_reactions_each_have_their_notes)
{
	struct corr_event inf = report("192.0.2.7", CRSAP_STATUS_INFECTED);
	struct corr_event clean = report("192.0.2.7", CRSAP_STATUS_CLEAN);
	struct corr_event a = alert("192.0.2.7", 2, 1);

	for (int i = 0; i < 3; i++)
		corr_ingest(corr, &a, S(1 + i));
	cr_assert_eq(nlog, 1);
	cr_expect_str_eq(log_[0].rule, "ids-repeated");
	cr_expect_str_eq(log_[0].cause, "-");
	cr_assert_eq(nnotes, 1);
	cr_expect_str_eq(notes_[0], "fired ids-repeated restricted");
	/* infected on top */
	cr_assert_eq(corr_ingest(corr, &inf, S(10)), 1);
	cr_expect_str_eq(log_[1].rule, "infected");
	cr_expect_str_eq(notes_[1], "fired infected quarantined");
	/* the clean report ends infected: back at restricted, held by
	 * ids-repeated (not by a rule named "clean") */
	cr_assert_eq(corr_ingest(corr, &clean, S(20)), 1);
	cr_expect_eq(log_[2].change, CORR_TERMINAL_SET);
	cr_expect_eq(log_[2].level, 1);
	cr_expect_str_eq(log_[2].rule, "ids-repeated");
	cr_expect_str_eq(log_[2].cause, "clean");
	cr_assert_eq(nnotes, 3);
	cr_expect_str_eq(notes_[2], "ended infected quarantined clean");

	/* hidden: infected over ids-repeated, and ids-repeated (30 min)
	 * ends first, under the stronger one: a note, no decision */
	{
		struct corr_event inf8 = report("192.0.2.8", CRSAP_STATUS_INFECTED);
		struct corr_event a8 = alert("192.0.2.8", 2, 1);
		int n0;

		corr_ingest(corr, &inf8, S(100));
		for (int i = 0; i < 3; i++)
			corr_ingest(corr, &a8, S(101 + i));
		cr_expect_str_eq(notes_[nnotes - 1],
				 "fired ids-repeated restricted",
				 "a rule firing under a stronger reaction");
		corr_tick(corr, S(3 + 1800)); /* 192.0.2.7's ends */
		n0 = nlog;
		nnotes = 0;
		corr_tick(corr, S(103 + 1800));
		cr_expect_eq(nlog, n0, "the level did not move");
		cr_assert_geq(nnotes, 1);
		cr_expect_str_eq(notes_[nnotes - 1],
				 "ended ids-repeated restricted expired");
	}
	/* the operator's release ends each reaction with a note */
	nnotes = 0;
	{
		struct xcrs_addr t8;

		cr_assert_eq(addr_parse("192.0.2.8", &t8), 0);
		cr_assert_eq(corr_release(corr, &t8, S(4000)), 1);
	}
	cr_assert_eq(nnotes, 1);
	cr_expect_str_eq(notes_[0], "ended infected quarantined operator");
	cr_expect_str_eq(log_[nlog - 1].rule, "operator");
}
