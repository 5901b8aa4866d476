// SPDX-License-Identifier: GPL-2.0-only
/* The security evaluation policy: conditions, precedence, dates. */
#include <criterion/criterion.h>
#include <string.h>

#include "evaluate.h"

static const char POLICY[] =
	"version: 1\n"
	"levels:\n  - {name: normal, allow: all}\n"
	"evaluation:\n"
	"  - name: stale-signatures\n"
	"    result: outdated\n"
	"    when: {signatures_older_than: 7d}\n"
	"  - name: old-patches\n"
	"    result: outdated\n"
	"    when: {patch_older_than: 90d}\n"
	"  - name: severe-threat\n"
	"    result: infected\n"
	"    when: {threat_severity_at_most: 2}\n";

static struct policy *p;
/* 2026-11-24T00:00:00Z */
static const uint64_t NOW = 1795478400000ULL;

static void setup(void)
{
	struct policy_error e;

	cr_assert_eq(policy_load_string(POLICY, strlen(POLICY), "t.yaml", &p,
					&e),
		     0, "%s", e.msg);
	cr_assert_eq(p->nevals, 3);
}

static void teardown(void)
{
	policy_free(p);
}

TestSuite(evaluate, .init = setup, .fini = teardown);

static struct crsap_report fresh(void)
{
	struct crsap_report r = { .status = CRSAP_STATUS_CLEAN };

	strcpy(r.av_signatures, "2026-11-22");
	strcpy(r.patch_level, "2026-10-01");
	return r;
}

Test(evaluate, dates)
{
	cr_expect_eq(sci_date_ms("2026-11-24"), NOW);
	cr_expect_eq(sci_date_ms("2026-11-24T10:00:00Z"), NOW);
	cr_expect_eq(sci_date_ms("2026-02-31"), 0);
	cr_expect_eq(sci_date_ms("24.11.2026"), 0);
	cr_expect_eq(sci_date_ms(""), 0);
}

Test(evaluate, compliant_report_stays_clean)
{
	struct crsap_report r = fresh();
	const char *by;

	cr_expect_eq(sci_evaluate(p, &r, NOW, &by), CRSAP_STATUS_CLEAN);
	cr_expect_null(by);
}

Test(evaluate, old_signatures_or_patches_are_outdated)
{
	struct crsap_report r = fresh();
	const char *by;

	strcpy(r.av_signatures, "2026-11-01");
	cr_expect_eq(sci_evaluate(p, &r, NOW, &by), CRSAP_STATUS_OUTDATED);
	cr_expect_str_eq(by, "stale-signatures");
	r = fresh();
	strcpy(r.patch_level, "2026-01-01");
	cr_expect_eq(sci_evaluate(p, &r, NOW, &by), CRSAP_STATUS_OUTDATED);
	cr_expect_str_eq(by, "old-patches");
	/* What the terminal does not tell is not trusted. */
	r = fresh();
	r.av_signatures[0] = '\0';
	cr_expect_eq(sci_evaluate(p, &r, NOW, &by), CRSAP_STATUS_OUTDATED);
}

Test(evaluate, severe_threat_is_infected_and_nothing_lowers)
{
	struct crsap_report r = fresh();
	const char *by;

	r.nthreats = 1;
	r.threats[0].severity = 3;
	cr_expect_eq(sci_evaluate(p, &r, NOW, &by), CRSAP_STATUS_CLEAN,
		     "severity 3 is not at most 2");
	r.threats[0].severity = 2;
	strcpy(r.av_signatures, "2020-01-01");
	cr_expect_eq(sci_evaluate(p, &r, NOW, &by), CRSAP_STATUS_INFECTED);
	cr_expect_str_eq(by, "severe-threat");
	/* A report that says infected stays infected. */
	r = fresh();
	r.status = CRSAP_STATUS_INFECTED;
	cr_expect_eq(sci_evaluate(p, &r, NOW, &by), CRSAP_STATUS_INFECTED);
	cr_expect_null(by);
}

Test(evaluate, policy_errors)
{
	static const char bad[] =
		"version: 1\nlevels:\n  - {name: normal, allow: all}\n"
		"evaluation:\n  - {name: x, result: outdated, when: {}}\n";
	static const char bad2[] =
		"version: 1\nlevels:\n  - {name: normal, allow: all}\n"
		"evaluation:\n  - {name: x, result: unsure, when: "
		"{patch_older_than: 1d}}\n";
	struct policy *q = NULL;
	struct policy_error e;

	cr_expect_neq(policy_load_string(bad, strlen(bad), "t.yaml", &q, &e),
		      0);
	cr_expect_str_eq(e.msg, "t.yaml:5:39: evaluation.when: give at least "
				"one of threat_severity_at_most, "
				"signatures_older_than, patch_older_than");
	cr_expect_neq(policy_load_string(bad2, strlen(bad2), "t.yaml", &q, &e),
		      0);
	cr_expect_str_eq(e.msg, "t.yaml:5:23: evaluation.result: expected one "
				"of clean, outdated, infected, found 'unsure'");
}
