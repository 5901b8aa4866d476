// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-auth-client: both client sides of xcrs-authsrv from the shell.
 * The terminal's: bootstrap (AKA with a USIM file, password, certificate),
 * Ks_AS, assertions. The application server's: fetch a user's key by
 * B-TID, verify an assertion offline against a JWK set.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

#include "assertion.h"
#include "authclient.h"
#include "bytes.h"
#include "config.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: xcrs-auth-client COMMAND [options]\n"
"terminal side:\n"
"  bootstrap --server H:P --ca FILE --session OUT\n"
"            (--usim FILE | --user ID --password-stdin | --cert F --key F --user ID)\n"
"  ks-as --session FILE --as FQDN [--ua report|assert|tls13|HEX10]\n"
"  reauth --server H:P --ca FILE --session FILE\n"
"            (a new session from the live one, no new AKA vector; FILE\n"
"            is rewritten)\n"
"  assertion --server H:P --ca FILE --session FILE --audience FQDN\n"
"application-server side:\n"
"  fetch-key --server H:P --ca FILE --cert F --key F --btid BTID --as FQDN\n"
"            [--ua report|assert|tls13|HEX10]\n"
"  jwks --server H:P --ca FILE\n"
"  verify --jwks FILE --audience FQDN --realm R [--realm R ...] TOKEN\n"
"options: --name NAME (server certificate name, default the host),\n"
"         --timeout SECONDS (default 10); -h, --help; -V, --version\n"
"Exit status: 0 done; 1 refused (the reason is printed); 2 usage;\n"
"3 the server could not be reached or TLS failed.\n");
}

static int ua_parse(const char *s, uint8_t ua[GBA_UA_ID])
{
	if (!s || !strcmp(s, "report"))
		memcpy(ua, GBA_UA_XCRS_REPORT, GBA_UA_ID);
	else if (!strcmp(s, "assert"))
		memcpy(ua, GBA_UA_XCRS_ASSERT, GBA_UA_ID);
	else if (!strcmp(s, "tls13"))
		memcpy(ua, GBA_UA_TLS13, GBA_UA_ID);
	else if (hex_decode(s, strlen(s), ua, GBA_UA_ID))
		return -1;
	return 0;
}

static int exit_of(int rc)
{
	return rc == -ECONNREFUSED || rc == -EPROTO || rc == -ETIMEDOUT ? 3 : 1;
}

int main(int argc, char **argv)
{
	enum { O_SERVER = 256, O_CA, O_SESSION, O_USIM, O_USER, O_PWSTDIN,
	       O_CERT, O_KEY, O_AS, O_UA, O_AUD, O_BTID, O_JWKS, O_REALM,
	       O_NAME, O_TIMEOUT };
	static const struct option opts[] = {
		{ "server", required_argument, NULL, O_SERVER },
		{ "ca", required_argument, NULL, O_CA },
		{ "session", required_argument, NULL, O_SESSION },
		{ "usim", required_argument, NULL, O_USIM },
		{ "user", required_argument, NULL, O_USER },
		{ "password-stdin", no_argument, NULL, O_PWSTDIN },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "as", required_argument, NULL, O_AS },
		{ "ua", required_argument, NULL, O_UA },
		{ "audience", required_argument, NULL, O_AUD },
		{ "btid", required_argument, NULL, O_BTID },
		{ "jwks", required_argument, NULL, O_JWKS },
		{ "realm", required_argument, NULL, O_REALM },
		{ "name", required_argument, NULL, O_NAME },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *server = NULL, *ca = NULL, *session = NULL, *usim = NULL,
		   *user = NULL, *cert = NULL, *key = NULL, *as = NULL,
		   *uas = NULL, *aud = NULL, *btid = NULL, *jwks = NULL,
		   *name = NULL, *cmd;
	const char *realms[8];
	size_t nrealms = 0;
	bool pwstdin = false;
	int timeout = 10, opt, rc;
	struct ac_conn c = { 0 };
	struct ac_session s;
	char err[512];
	uint8_t ua[GBA_UA_ID];

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("xcrs-auth-client %s\n", XCRS_VERSION);
		return 0;
	}
	cmd = argv[1];
	if (cmd[0] == '-') {
		fprintf(stderr, "xcrs-auth-client: unrecognized option '%s' "
				"(the command comes first)\nTry "
				"'xcrs-auth-client --help'.\n",
			cmd);
		return 2;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (opt) {
		case O_SERVER: server = optarg; break;
		case O_CA: ca = optarg; break;
		case O_SESSION: session = optarg; break;
		case O_USIM: usim = optarg; break;
		case O_USER: user = optarg; break;
		case O_PWSTDIN: pwstdin = true; break;
		case O_CERT: cert = optarg; break;
		case O_KEY: key = optarg; break;
		case O_AS: as = optarg; break;
		case O_UA: uas = optarg; break;
		case O_AUD: aud = optarg; break;
		case O_BTID: btid = optarg; break;
		case O_JWKS: jwks = optarg; break;
		case O_NAME: name = optarg; break;
		case O_TIMEOUT:
			timeout = atoi(optarg);
			if (timeout <= 0 || timeout > 3600) {
				fprintf(stderr, "xcrs-auth-client: --timeout: 1..3600 "
						"seconds\n");
				return 2;
			}
			break;
		case O_REALM:
			if (nrealms == 8) {
				fprintf(stderr, "xcrs-auth-client: at most 8 --realm\n");
				return 2;
			}
			realms[nrealms++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("xcrs-auth-client %s\n", XCRS_VERSION); return 0;
		default:
			fprintf(stderr, "Try 'xcrs-auth-client --help'.\n");
			return 2;
		}
	}
	if (ua_parse(uas, ua)) {
		fprintf(stderr, "xcrs-auth-client: --ua: report, assert, tls13 "
				"or 10 hex digits\n");
		return 2;
	}

	{
		static const char *const cmds[] = { "bootstrap", "ks-as",
						    "assertion", "fetch-key",
						    "verify", "jwks", "reauth" };
		bool known = false;

		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			known |= !strcmp(cmd, cmds[i]);
		if (!known) {
			fprintf(stderr, "xcrs-auth-client: unknown command "
					"\"%s\"\nTry 'xcrs-auth-client "
					"--help'.\n",
				cmd);
			return 2;
		}
	}
	if (!strcmp(cmd, "verify")) {
		struct as_keyset ks;
		struct as_claims cl;
		enum as_result r;
		FILE *f;
		char buf[65536];
		size_t n;

		if (!jwks || !aud || !nrealms || optind + 1 != argc) {
			usage(stderr);
			return 2;
		}
		f = fopen(jwks, "r");
		n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		if (!f || as_keyset_from_jwks(buf, &ks)) {
			fprintf(stderr, "xcrs-auth-client: %s: not a JWK set\n",
				jwks);
			return 1;
		}
		r = as_verify(argv[optind], &ks, aud, realms, nrealms,
			      (int64_t)time(NULL), NULL, &cl);
		as_keyset_free(&ks);
		if (r != AS_OK) {
			fprintf(stderr, "xcrs-auth-client: assertion refused: %s\n",
				as_result_str(r));
			return 1;
		}
		printf("subject=%s realm=%s audience=%s method=%s expires=%lld\n",
		       cl.sub, cl.realm, cl.aud, cl.amr, (long long)cl.exp);
		return 0;
	}
	if (!strcmp(cmd, "ks-as")) {
		uint8_t k[GBA_KEY];
		char h[2 * GBA_KEY + 1];

		if (!session || !as || optind != argc) {
			usage(stderr);
			return 2;
		}
		if (ac_session_load(session, &s, err, sizeof(err))) {
			fprintf(stderr, "xcrs-auth-client: %s\n", err);
			return 1;
		}
		if (ac_ks_as(&s, as, ua, k)) {
			fprintf(stderr, "xcrs-auth-client: %s: not a valid AS "
					"identity\n", as);
			return 1;
		}
		hex_encode(k, GBA_KEY, h);
		printf("%s %s\n", s.btid, h);
		OPENSSL_cleanse(k, sizeof(k));
		OPENSSL_cleanse(&s, sizeof(s));
		return 0;
	}
	if (!server || !ca || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (ac_open(&c, server, ca, cert, key, name)) {
		fprintf(stderr, "xcrs-auth-client: %s\n", c.err);
		return 1;
	}
	c.timeout_s = timeout > 0 ? timeout : 10;
	memset(&s, 0, sizeof(s));
	if (!strcmp(cmd, "bootstrap") && session) {
		if (usim) {
			struct ac_usim u;

			if (ac_usim_load(usim, &u, err, sizeof(err))) {
				fprintf(stderr, "xcrs-auth-client: %s\n", err);
				rc = 1;
				goto out;
			}
			rc = ac_bootstrap_aka(&c, &u, &s);
			/* The USIM's SQN moved (or was resynchronised): keep it
			 * even when the bootstrap failed later. */
			if (ac_usim_save(usim, &u, err, sizeof(err)))
				fprintf(stderr, "xcrs-auth-client: %s\n", err);
			OPENSSL_cleanse(&u, sizeof(u));
		} else if (user && pwstdin) {
			char pw[1024];

			if (!fgets(pw, sizeof(pw), stdin)) {
				fprintf(stderr, "xcrs-auth-client: no password on "
						"stdin\n");
				rc = 2;
				goto out;
			}
			pw[strcspn(pw, "\r\n")] = '\0';
			rc = ac_bootstrap_password(&c, user, pw, &s);
			OPENSSL_cleanse(pw, sizeof(pw));
		} else if (user && cert && key) {
			rc = ac_bootstrap_certificate(&c, user, &s);
		} else {
			usage(stderr);
			rc = 2;
			goto out;
		}
		if (rc) {
			fprintf(stderr, "xcrs-auth-client: bootstrap: %s\n", c.err);
			rc = exit_of(rc);
			goto out;
		}
		if (ac_session_save(session, &s, err, sizeof(err))) {
			fprintf(stderr, "xcrs-auth-client: %s\n", err);
			rc = 1;
			goto out;
		}
		printf("btid=%s method=%s expires=%lld\n", s.btid, s.method,
		       (long long)s.expires);
	} else if (!strcmp(cmd, "reauth") && session) {
		if (ac_session_load(session, &s, err, sizeof(err))) {
			fprintf(stderr, "xcrs-auth-client: %s\n", err);
			rc = 1;
			goto out;
		}
		rc = ac_reauth(&c, &s);
		if (rc) {
			fprintf(stderr, "xcrs-auth-client: reauth: %s\n", c.err);
			rc = exit_of(rc);
			goto out;
		}
		if (ac_session_save(session, &s, err, sizeof(err))) {
			fprintf(stderr, "xcrs-auth-client: %s\n", err);
			rc = 1;
			goto out;
		}
		printf("btid=%s method=%s expires=%lld counter=%llu\n", s.btid,
		       s.method, (long long)s.expires,
		       (unsigned long long)s.counter);
	} else if (!strcmp(cmd, "assertion") && session && aud) {
		char *tok = NULL;
		int64_t exp = 0;

		if (ac_session_load(session, &s, err, sizeof(err))) {
			fprintf(stderr, "xcrs-auth-client: %s\n", err);
			rc = 1;
			goto out;
		}
		rc = ac_assertion(&c, &s, aud, &tok, &exp);
		if (rc) {
			fprintf(stderr, "xcrs-auth-client: assertion: %s\n", c.err);
			rc = exit_of(rc);
			goto out;
		}
		printf("%s\n", tok);
		free(tok);
	} else if (!strcmp(cmd, "fetch-key") && btid && as && cert && key) {
		struct ac_as_key k;
		char h[2 * GBA_KEY + 1];

		rc = ac_fetch_key(&c, btid, as, ua, &k);
		if (rc) {
			fprintf(stderr, "xcrs-auth-client: fetch-key: %s\n", c.err);
			rc = exit_of(rc);
			goto out;
		}
		hex_encode(k.ks_as, GBA_KEY, h);
		printf("ks_as=%s subject=%s method=%s expires=%lld\n", h,
		       k.subject, k.method, (long long)k.expires);
		OPENSSL_cleanse(&k, sizeof(k));
		OPENSSL_cleanse(h, sizeof(h));
	} else if (!strcmp(cmd, "jwks")) {
		char *j = NULL;

		rc = ac_jwks(&c, &j);
		if (rc) {
			fprintf(stderr, "xcrs-auth-client: jwks: %s\n", c.err);
			rc = exit_of(rc);
			goto out;
		}
		fputs(j, stdout);
		free(j);
	} else {
		fprintf(stderr, "xcrs-auth-client: unknown command \"%s\"\nTry "
				"'xcrs-auth-client --help'.\n",
			cmd);
		rc = 2;
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(&s, sizeof(s));
	ac_close(&c);
	return rc;
}
