// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-authsrv-admin: subscribers and signing keys in xcrs-authsrv's
 * database. Works on the database file directly (SQLite, safe while the
 * server runs).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <openssl/crypto.h>

#include "authsrv_config.h"
#include "bytes.h"
#include "config.h"
#include "milenage.h"
#include "signing.h"
#include "store.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: xcrs-authsrv-admin (-c CONFIG | -d DATABASE) COMMAND\n"
"  add ID (--k HEX32 (--opc HEX32 | --op HEX32)) [--amf HEX4] [--sqn N]\n"
"         [--methods aka,password,certificate] [--password-stdin]\n"
"  list | show ID | disable ID | enable ID\n"
"  sessions list [ID] | sessions revoke B-TID\n"
"  seal                   seal every K and OPc still in clear under the\n"
"                         configuration's key_encryption_key (-c)\n"
"                         disable revokes every session of ID (enable does\n"
"                         not bring them back); revoke ends one\n"
"  methods ID LIST        set the methods allowed (aka,password,certificate)\n"
"  password ID            set the password verifier (password on stdin)\n"
"  keys list | keys rotate | keys retire KID\n"
"  --iterations N         PBKDF2 iterations of a new verifier (default 100000)\n"
"  -h, --help; -V, --version\n"
"Exit status: 0 done, 1 refused or failed (the reason is printed), 2 usage.\n");
}

static int hexarg(const char *what, const char *s, uint8_t *out, size_t n)
{
	if (!s || hex_decode(s, strlen(s), out, n)) {
		fprintf(stderr, "xcrs-authsrv-admin: %s: expected %zu hex digits\n",
			what, 2 * n);
		return -1;
	}
	return 0;
}

static int read_password(char *buf, size_t len)
{
	size_t n;

	if (!fgets(buf, (int)len, stdin)) {
		fprintf(stderr, "xcrs-authsrv-admin: no password on stdin\n");
		return -1;
	}
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (!n) {
		fprintf(stderr, "xcrs-authsrv-admin: empty password\n");
		return -1;
	}
	return 0;
}

static int make_verifier(const char *pw, uint32_t iter,
			 struct scram_verifier *v)
{
	uint8_t salt[16];

	if (getrandom(salt, sizeof(salt), 0) != sizeof(salt) ||
	    scram_make_verifier(pw, salt, sizeof(salt), iter, v)) {
		fprintf(stderr, "xcrs-authsrv-admin: cannot make the verifier "
				"(iterations %u..%u)\n",
			SCRAM_ITER_MIN, SCRAM_ITER_MAX);
		return -1;
	}
	return 0;
}

static int print_sess(const struct sess_rec *s, void *ctx)
{
	printf("%s %s method=%s created=%lld expires=%lld\n", s->btid, s->id,
	       s->method, (long long)s->created, (long long)s->expires);
	return 0;
}

static int print_sub(const struct sub_rec *s, void *ctx)
{
	char m[64];

	methods_format(s->methods, m, sizeof(m));
	printf("%-40s %-8s sqn=%-8llu methods=%s%s\n", s->id,
	       s->disabled ? "disabled" : "enabled",
	       (unsigned long long)s->sqn, m,
	       s->has_password ? " password-set" : "");
	return 0;
}

static int fail(struct store *st, const char *what, const char *id, int rc)
{
	if (rc == -ENOENT)
		fprintf(stderr, "xcrs-authsrv-admin: %s: no such %s\n", id, what);
	else if (rc == -EEXIST)
		fprintf(stderr, "xcrs-authsrv-admin: %s: already exists\n", id);
	else
		fprintf(stderr, "xcrs-authsrv-admin: %s: %s\n", id,
			store_errmsg(st));
	return 1;
}

int main(int argc, char **argv)
{
	enum { O_K = 256, O_OPC, O_OP, O_AMF, O_SQN, O_METHODS, O_PWSTDIN,
	       O_ITER };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "database", required_argument, NULL, 'd' },
		{ "k", required_argument, NULL, O_K },
		{ "opc", required_argument, NULL, O_OPC },
		{ "op", required_argument, NULL, O_OP },
		{ "amf", required_argument, NULL, O_AMF },
		{ "sqn", required_argument, NULL, O_SQN },
		{ "methods", required_argument, NULL, O_METHODS },
		{ "password-stdin", no_argument, NULL, O_PWSTDIN },
		{ "iterations", required_argument, NULL, O_ITER },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgfile = NULL, *db = NULL, *k = NULL, *opc = NULL,
		   *op = NULL, *amf = "8000", *methods = NULL, *cmd, *id;
	unsigned long long sqn = 0;
	unsigned long iter = SCRAM_ITER_DEFAULT;
	bool pwstdin = false;
	struct authsrv_config *cfg = NULL;
	struct policy_error perr;
	struct store *st = NULL;
	char err[512], *end;
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "c:d:hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfgfile = optarg; break;
		case 'd': db = optarg; break;
		case O_K: k = optarg; break;
		case O_OPC: opc = optarg; break;
		case O_OP: op = optarg; break;
		case O_AMF: amf = optarg; break;
		case O_SQN:
			sqn = strtoull(optarg, &end, 10);
			if (*end || !*optarg) {
				fprintf(stderr, "xcrs-authsrv-admin: --sqn: a "
						"number, not '%s'\n", optarg);
				return 2;
			}
			break;
		case O_METHODS: methods = optarg; break;
		case O_PWSTDIN: pwstdin = true; break;
		case O_ITER:
			iter = strtoul(optarg, &end, 10);
			if (*end || iter < SCRAM_ITER_MIN || iter > SCRAM_ITER_MAX) {
				fprintf(stderr, "xcrs-authsrv-admin: --iterations: "
						"%u..%u, not '%s'\n", SCRAM_ITER_MIN,
					SCRAM_ITER_MAX, optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("xcrs-authsrv-admin %s\n", XCRS_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((!cfgfile == !db) || optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	id = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (cfgfile) {
		if (authsrv_config_load(cfgfile, &cfg, &perr)) {
			fprintf(stderr, "xcrs-authsrv-admin: %s\n", perr.msg);
			return 1;
		}
		db = cfg->database;
	}
	if (store_open(db, &st, err, sizeof(err))) {
		fprintf(stderr, "xcrs-authsrv-admin: %s\n", err);
		goto out;
	}
	if (cfg && cfg->key_encryption_key[0]) {
		uint8_t kek[32];

		if (store_kek_load(cfg->key_encryption_key, kek, err,
				   sizeof(err))) {
			fprintf(stderr, "xcrs-authsrv-admin: %s\n", err);
			goto out;
		}
		store_set_kek(st, kek);
		OPENSSL_cleanse(kek, sizeof(kek));
	}
	if (!strcmp(cmd, "add") && id && optind + 2 == argc) {
		struct sub_rec s = { 0 };
		uint8_t opb[16];
		char pw[1024];

		if (!gba_id_valid(id)) {
			fprintf(stderr, "xcrs-authsrv-admin: %s: not a valid "
					"identity ([A-Za-z0-9.@_+-], at most %d)\n",
				id, GBA_ID_MAX);
			goto out;
		}
		snprintf(s.id, sizeof(s.id), "%s", id);
		s.methods = METHOD_AKA;
		if (methods && methods_parse(methods, &s.methods)) {
			fprintf(stderr, "xcrs-authsrv-admin: --methods: expected "
					"aka, password, certificate\n");
			goto out;
		}
		if (k || (s.methods & METHOD_AKA)) {
			if (hexarg("--k", k, s.k, 16) || hexarg("--amf", amf, s.amf, 2))
				goto out;
			if (opc ? hexarg("--opc", opc, s.opc, 16)
				: (hexarg("--op", op, opb, 16) ||
				   mil_opc(s.k, opb, s.opc)))
				goto out;
		}
		if (sqn > MIL_SQN_MAX) {
			fprintf(stderr, "xcrs-authsrv-admin: --sqn: at most 2^48-1\n");
			goto out;
		}
		s.sqn = sqn;
		if (pwstdin) {
			if (read_password(pw, sizeof(pw)) ||
			    make_verifier(pw, (uint32_t)iter, &s.pw))
				goto out;
			OPENSSL_cleanse(pw, sizeof(pw));
			s.has_password = true;
		}
		if ((s.methods & METHOD_PASSWORD) && !s.has_password) {
			fprintf(stderr, "xcrs-authsrv-admin: the password method "
					"needs --password-stdin\n");
			goto out;
		}
		s.created = (int64_t)time(NULL);
		rc = store_sub_add(st, &s);
		OPENSSL_cleanse(&s, sizeof(s));
		if (rc) {
			rc = fail(st, "subscriber", id, rc);
			goto out;
		}
		printf("added %s\n", id);
	} else if (!strcmp(cmd, "list") && !id) {
		if (store_sub_list(st, print_sub, NULL) < 0) {
			fprintf(stderr, "xcrs-authsrv-admin: %s\n", store_errmsg(st));
			goto out;
		}
	} else if (!strcmp(cmd, "show") && id && optind + 2 == argc) {
		struct sub_rec s;

		rc = store_sub_get(st, id, &s);
		if (rc) {
			rc = fail(st, "subscriber", id, rc);
			goto out;
		}
		print_sub(&s, NULL);
		OPENSSL_cleanse(&s, sizeof(s));
	} else if ((!strcmp(cmd, "disable") || !strcmp(cmd, "enable")) && id &&
		   optind + 2 == argc) {
		int revoked = 0;

		rc = store_sub_set_disabled(st, id, cmd[0] == 'd');
		/* disabling revokes: an enable later does not bring old
		 * sessions back */
		if (!rc && cmd[0] == 'd' &&
		    (revoked = store_sess_revoke_all(st, id)) < 0)
			rc = revoked;
		if (rc) {
			rc = fail(st, "subscriber", id, rc);
			goto out;
		}
		if (cmd[0] == 'd')
			printf("disabled %s (%d session(s) revoked)\n", id,
			       revoked);
		else
			printf("enabled %s\n", id);
	} else if (!strcmp(cmd, "seal") && !id) {
		int n = store_seal_all(st);

		if (n < 0) {
			fprintf(stderr, "xcrs-authsrv-admin: %s\n",
				store_errmsg(st));
			goto out;
		}
		printf("sealed the K and OPc of %d subscriber(s)\n", n);
	} else if (!strcmp(cmd, "sessions") && id &&
		   ((!strcmp(id, "list") && optind + 3 >= argc) ||
		    (!strcmp(id, "revoke") && optind + 3 == argc))) {
		const char *arg = optind + 2 < argc ? argv[optind + 2] : NULL;

		if (id[0] == 'l') {
			rc = store_sess_list(st, arg, (int64_t)time(NULL),
					     print_sess, NULL);
			if (rc < 0) {
				fprintf(stderr, "xcrs-authsrv-admin: %s\n",
					store_errmsg(st));
				rc = 1;
				goto out;
			}
		} else {
			rc = store_sess_revoke(st, arg);
			if (rc) {
				rc = fail(st, "session", arg, rc);
				goto out;
			}
			printf("revoked %s\n", arg);
		}
	} else if (!strcmp(cmd, "methods") && id && optind + 3 == argc) {
		unsigned m;

		if (methods_parse(argv[optind + 2], &m)) {
			fprintf(stderr, "xcrs-authsrv-admin: %s: expected aka, "
					"password, certificate\n", argv[optind + 2]);
			goto out;
		}
		rc = store_sub_set_methods(st, id, m);
		if (rc) {
			rc = fail(st, "subscriber", id, rc);
			goto out;
		}
		printf("%s: methods %s\n", id, argv[optind + 2]);
	} else if (!strcmp(cmd, "password") && id && optind + 2 == argc) {
		struct scram_verifier v;
		char pw[1024];

		if (read_password(pw, sizeof(pw)) ||
		    make_verifier(pw, (uint32_t)iter, &v))
			goto out;
		OPENSSL_cleanse(pw, sizeof(pw));
		rc = store_sub_set_password(st, id, &v);
		if (rc) {
			rc = fail(st, "subscriber", id, rc);
			goto out;
		}
		printf("%s: password verifier set (%lu iterations)\n", id, iter);
	} else if (!strcmp(cmd, "keys") && id) {
		if (!strcmp(id, "list") && optind + 2 == argc) {
			struct key_rec *keys;
			size_t n;

			if (store_key_list(st, &keys, &n)) {
				fprintf(stderr, "xcrs-authsrv-admin: %s\n",
					store_errmsg(st));
				goto out;
			}
			for (size_t i = 0; i < n; i++)
				printf("%s created=%lld %s\n", keys[i].kid,
				       (long long)keys[i].created,
				       keys[i].active ? "signing" : "published");
			store_keys_free(keys, n);
		} else if (!strcmp(id, "rotate") && optind + 2 == argc) {
			char kid[AS_KID];

			if (signing_rotate(st, kid, err, sizeof(err))) {
				fprintf(stderr, "xcrs-authsrv-admin: %s\n", err);
				goto out;
			}
			printf("new signing key %s (servers pick it up within 5 s "
			       "or at SIGHUP; older keys stay published)\n", kid);
		} else if (!strcmp(id, "retire") && optind + 3 == argc) {
			rc = store_key_retire(st, argv[optind + 2]);
			if (rc) {
				rc = fail(st, "signing key", argv[optind + 2], rc);
				goto out;
			}
			printf("retired %s (assertions it signed no longer "
			       "verify)\n", argv[optind + 2]);
		} else {
			usage(stderr);
			rc = 2;
			goto out;
		}
	} else {
		usage(stderr);
		rc = 2;
		goto out;
	}
	rc = 0;
out:
	store_close(st);
	authsrv_config_free(cfg);
	return rc;
}
