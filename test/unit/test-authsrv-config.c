// SPDX-License-Identifier: GPL-2.0-only
/* xcrs-authsrv's configuration through the policy library: the values an
 * operator writes, and each error with its file:line:col. */
#include <criterion/criterion.h>
#include <string.h>

#include "authsrv_config.h"

#define BASE                                                                   \
	"version: 1\n"                                                         \
	"authsrv:\n"                                                           \
	"  domain: home.example\n"                                             \
	"  listen: 192.0.2.1:8443\n"                                           \
	"  certificate: s.crt\n"                                               \
	"  private_key: s.key\n"                                               \
	"  database: a.db\n"                                                   \
	"  as_ca: ca.crt\n"

static struct authsrv_config *load_ok(const char *text)
{
	struct authsrv_config *c = NULL;
	struct policy_error e;

	cr_assert_eq(authsrv_config_load_string(text, strlen(text), "a.yaml", &c,
						&e),
		     0, "%s", e.msg);
	return c;
}

static void load_bad(const char *text, const char *want)
{
	struct authsrv_config *c = NULL;
	struct policy_error e;
	int r = authsrv_config_load_string(text, strlen(text), "a.yaml", &c, &e);

	cr_expect_neq(r, 0, "accepted, expected: %s", want);
	if (r)
		cr_expect_str_eq(e.msg, want);
	authsrv_config_free(c);
}

Test(authsrv_config, minimal_with_defaults)
{
	struct authsrv_config *c = load_ok(BASE);

	cr_expect_str_eq(c->domain, "home.example");
	cr_expect_str_eq(c->listen, "192.0.2.1:8443");
	cr_expect_str_eq(c->user_ca, "");
	cr_expect_eq(c->session_lifetime_ns, 12ull * 3600 * 1000000000ull);
	cr_expect_eq(c->challenge_lifetime_ns, 60ull * 1000000000ull);
	cr_expect_eq(c->assertion_lifetime_ns, 300ull * 1000000000ull);
	cr_expect_eq(c->n_as, 0);
	authsrv_config_free(c);
}

Test(authsrv_config, application_servers_and_peers)
{
	struct authsrv_config *c = load_ok(
		BASE "  session_lifetime: 2h\n"
		     "application_servers:\n"
		     "  - id: crs.home.example\n"
		     "    release_identity: true\n"
		     "  - id: shop.example\n"
		     "    realms: [home.example, partner.example]\n"
		     "peers:\n"
		     "  - {realm: partner.example, address: \"198.51.100.7:8443\", "
		     "ca: p.crt}\n");
	const struct authsrv_as *a;

	cr_expect_eq(c->session_lifetime_ns, 7200ull * 1000000000ull);
	cr_assert_eq(c->n_as, 2);
	a = authsrv_config_as(c, "crs.home.example");
	cr_assert_not_null(a);
	cr_expect(a->release_identity);
	cr_expect_eq(a->nrealms, 1);
	cr_expect_str_eq(a->realms[0], "home.example", "default: own domain");
	a = authsrv_config_as(c, "shop.example");
	cr_expect_not(a->release_identity);
	cr_expect_eq(a->nrealms, 2);
	cr_expect_str_eq(a->realms[1], "partner.example");
	cr_expect_null(authsrv_config_as(c, "bank.example"));
	cr_expect_eq(c->n_peers, 1);
	cr_expect_str_eq(c->peers[0].address, "198.51.100.7:8443");
	authsrv_config_free(c);
}

Test(authsrv_config, errors_name_the_place)
{
	load_bad("version: 1\n", "a.yaml:1:1: missing section 'authsrv'");
	load_bad(BASE "  colour: red\n",
		 "a.yaml:9:3: authsrv: unknown key 'colour' (expected domain, "
		 "listen, certificate, private_key, database, as_ca, user_ca, "
		 "as_crl, key_encryption_key, session_lifetime, "
		 "challenge_lifetime, assertion_lifetime, reauth_lifetime, "
		 "reauth_max_chain)");
	load_bad("version: 1\nauthsrv:\n  domain: home.example\n",
		 "a.yaml:3:3: authsrv: missing 'listen'");
	load_bad(BASE "  session_lifetime: soon\n",
		 "a.yaml:9:21: authsrv.session_lifetime: expected a duration "
		 "such as 30s, 10m, 1h30m or 2d, found 'soon'");
	load_bad(BASE "  challenge_lifetime: 500ms\n",
		 "a.yaml:9:23: authsrv.challenge_lifetime: at least 1s");
	load_bad("version: 1\nauthsrv:\n  domain: \"home example\"\n",
		 "a.yaml:3:11: authsrv.domain: expected a domain name (letters, "
		 "digits, '.', '-', '_'; at most 128), found 'home example'");
	load_bad("version: 1\nauthsrv:\n  domain: h\n  listen: 8443\n",
		 "a.yaml:4:11: authsrv.listen: expected HOST:PORT, found '8443'");
	load_bad("version: 1\nauthsrv:\n  domain: h\n  listen: a:99999\n",
		 "a.yaml:4:11: authsrv.listen: the port must be 1..65535, found "
		 "'99999'");
	load_bad(BASE "application_servers:\n  - id: a.example\n  - id: a.example\n",
		 "a.yaml:11:5: application server a.example is defined twice");
	load_bad(BASE "application_servers:\n  - id: a.example\n    realms: \"x y\"\n",
		 "a.yaml:11:13: application_servers.realms: expected a domain "
		 "name (letters, digits, '.', '-', '_'; at most 128), found 'x y'");
	load_bad(BASE "peers:\n  - {realm: home.example, address: \"a:1\", ca: c}\n",
		 "a.yaml:10:5: peers: realm home.example is this server's own "
		 "domain");
	load_bad(BASE "users: []\n",
		 "a.yaml:9:1: unknown section 'users' (expected version, "
		 "authsrv, application_servers, peers)");
	load_bad(BASE "authsrv: {}\n", "a.yaml:9:1: section 'authsrv' given twice");
	load_bad("authsrv: [\n", "a.yaml:2:1: did not find expected node content while parsing a flow node");
}

Test(authsrv_config, shipped_example)
{
	struct authsrv_config *c = NULL;
	struct policy_error e;

	cr_assert_eq(authsrv_config_load(XCRS_SRCDIR "/policy/examples/authsrv.yaml",
					 &c, &e),
		     0, "%s", e.msg);
	cr_expect_eq(c->n_as, 3);
	cr_expect_eq(c->n_peers, 1);
	authsrv_config_free(c);
}
