// SPDX-License-Identifier: GPL-2.0-only
/*
 * xcrs-terminal: the reference SCA (the terminal's CRS function of
 * X.1125). Sends one SCI report over TLS, prints the SCI response and,
 * with --stay, the reaction notices the SCS sends afterwards. A model for
 * terminal vendors of the report protocol (README: "Report protocol").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "authclient.h"
#include "crsap.h"
#include "crsapclient.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3 };

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xcrs-terminal --server HOST:PORT --ca FILE\n"
"                     (--id ID (--key HEX | --key-file FILE) |\n"
"                      --session FILE --as-id FQDN) [options] COMMAND\n"
"\n"
"The reference SCA: sends one SCI report to the xcrs agent over TLS 1.3,\n"
"authenticated with the terminal's key (HMAC-SHA-256, timestamp, nonce),\n"
"and prints the agent's SCI response.\n"
"\n"
"Commands:\n"
"  status                 a status report (--status, default clean)\n"
"  threat NAME            an infection: status infected and threat NAME\n"
"                         (--severity, --signature)\n"
"  clean                  remediation done: status clean (--remedy, default\n"
"                         scan:done)\n"
"  sca                    run as a resident SCA: report once (--status;\n"
"                         not with --no-report), then answer the SCS's\n"
"                         probes on UDP --probe-port with a probe response\n"
"                         over TLS to --server, and carry out compulsory\n"
"                         update instructions (after their delay, report\n"
"                         clean with update: done), for --duration seconds\n"
"                         (0: until killed)\n"
"\n"
"Options:\n"
"  --server HOST:PORT     the agent's report listener ([v6]:port for IPv6)\n"
"  --ca FILE              CA certificate(s) the agent's certificate must\n"
"                         chain to; the certificate must name HOST\n"
"  --id ID                this terminal's id\n"
"  --key HEX              this terminal's key (32..128 hex digits), or\n"
"  --key-file FILE        a keys file (\"ID ADDRESS KEY\" lines) to take it\n"
"                         from\n"
"  --session FILE         an X.1124 bootstrap session (xcrs-auth-client\n"
"                         bootstrap --session FILE): the id is its B-TID and\n"
"                         the key Ks_AS derived for --as-id\n"
"  --as-id FQDN           the agent's application-server identity\n"
"  --status S             clean, outdated or infected (status command)\n"
"  --severity N           threat severity, 1 = most severe [1]\n"
"  --signature SID        threat signature id\n"
"  --remedy ACTION:RESULT remediation done (repeatable)\n"
"  --os NAME[:VERSION]    the terminal's OS for the report\n"
"  --patch-level DATE     its patch level (YYYY-MM-DD)\n"
"  --antivirus PRODUCT[:DATE]  its security software and signature date\n"
"  --stay SECONDS         keep the connection and print the agent's\n"
"                         reaction notices for that long\n"
"  -h, --help, -V, --version\n"
"\n"
"Output: one line per message, \"response\" or \"notice\", then its\n"
"fields. Exit status: 0 answered; 1 the agent refused the report (closed\n"
"the connection) or its answer failed authentication; 2 usage error;\n"
"3 cannot connect or TLS failed.\n");
}

static int fail_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "xcrs-terminal: %s%s\nTry 'xcrs-terminal --help'.\n",
		msg, arg ? arg : "");
	return EXIT_USAGE;
}

#define CONNECT_TIMEOUT_MS 10000

/* Connects to the agent; the exit status for a failure (printed). */
static int tls_connect(const char *server, const char *ca, SSL_CTX **rctx,
		       SSL **rssl, int *rfd)
{
	char err[512];
	int r = crsap_tls_connect(server, ca, NULL, CONNECT_TIMEOUT_MS, rctx,
				  rssl, rfd, err, sizeof(err));

	if (r == -EINVAL)
		return fail_usage("--server: expected HOST:PORT, not ", server);
	if (r) {
		fprintf(stderr, "xcrs-terminal: %s\n", err);
		return EXIT_CONNECT;
	}
	return 0;
}

static int read_frame(SSL *ssl, int fd, int timeout_ms, uint8_t **out,
		      size_t *len)
{
	static uint8_t buf[CRSAP_FRAME_MAX + 4];

	return crsap_read_frame(ssl, fd, timeout_ms, buf, sizeof(buf), out,
				len);
}

static void print_response(const char *kind, const struct crsap_response *r)
{
	char until[40] = "released";

	if (r->until_ms) {
		time_t s = (time_t)(r->until_ms / 1000);
		struct tm tm;

		gmtime_r(&s, &tm);
		strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	printf("%s evaluation=%s level=%s until=%s rule=%s\n", kind,
	       r->evaluation, r->level, r->until_ms ? until : "-",
	       r->rule[0] ? r->rule : "-");
	printf("  allowed:");
	for (size_t i = 0; i < r->nallowed; i++)
		printf(" %s", r->allowed[i]);
	printf("\n");
	if (r->nactions) {
		printf("  actions:");
		for (size_t i = 0; i < r->nactions; i++)
			printf(" %s", r->actions[i]);
		printf("\n");
	}
	for (size_t i = 0; i < r->nremediation; i++)
		printf("  remediation: %s %s %s %s\n", r->remediation[i].service,
		       r->remediation[i].prefix, r->remediation[i].protocol,
		       r->remediation[i].ports[0] ? r->remediation[i].ports :
						    "any");
	if (r->reason[0])
		printf("  reason: %s\n", r->reason);
	fflush(stdout);
}

/* Checks and prints one frame from the agent. */
static int take_frame(const uint8_t *b, size_t len, const char *id,
		      const uint8_t *key, size_t keylen, const char *nonce,
		      bool *answered)
{
	struct crsap_frame f;
	struct crsap_response r;
	char err[256];

	if (crsap_frame_split(b, len, &f, err, sizeof(err)) ||
	    strcmp(f.id, id) || !crsap_frame_verify(&f, key, keylen)) {
		fprintf(stderr, "xcrs-terminal: a message from the agent "
				"failed authentication\n");
		return EXIT_REFUSED;
	}
	if (crsap_response_parse(f.body, f.body_len, &r, err, sizeof(err)) ||
	    strcmp(r.ms, id)) {
		fprintf(stderr, "xcrs-terminal: bad SCI response: %s\n", err);
		return EXIT_REFUSED;
	}
	if (!strcmp(r.in_response_to, nonce)) {
		*answered = true;
		print_response("response", &r);
	} else if (!r.in_response_to[0]) {
		print_response("notice", &r);
	}
	return 0;
}

/* Sends one frame to the agent and prints its answer (the message whose
 * inResponseTo is nonce), then notices for stay seconds. */
static int exchange(const char *server, const char *ca, const char *id,
		    const uint8_t *key, size_t keylen, const uint8_t *frame,
		    size_t flen, const char *nonce, unsigned long stay)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	uint8_t *in;
	size_t ilen;
	bool answered = false;
	int64_t stay_end = 0;
	int fd = -1, rc;

	rc = tls_connect(server, ca, &ctx, &ssl, &fd);
	if (rc)
		return rc;
	if (SSL_write(ssl, frame, (int)flen) != (int)flen) {
		fprintf(stderr, "xcrs-terminal: sending the message failed\n");
		rc = EXIT_CONNECT;
		goto out;
	}
	/* the answer first (notices may come before it), then notices */
	for (;;) {
		int r, wait = 30000;

		if (answered) {
			struct timespec ts;
			int64_t now_ms;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
			if (!stay_end)
				stay_end = now_ms + (int64_t)stay * 1000;
			wait = stay_end > now_ms ? (int)(stay_end - now_ms) : 0;
		}
		r = read_frame(ssl, fd, wait, &in, &ilen);

		if (r == -2 && answered)
			break; /* --stay is over */
		if (r) {
			if (!answered) {
				fprintf(stderr,
					"xcrs-terminal: the agent refused the "
					"message (connection closed; its log "
					"says why)\n");
				rc = EXIT_REFUSED;
			}
			break;
		}
		rc = take_frame(in, ilen, id, key, keylen, nonce, &answered);
		if (rc)
			break;
		if (answered && !stay)
			break;
	}
out:
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}

/* After an update: a clean report saying so (remediation update: done). */
static int report_update_done(const char *server, const char *ca,
			      const char *id, const uint8_t *key,
			      size_t keylen)
{
	struct crsap_report rep = { .status = CRSAP_STATUS_CLEAN,
				    .nremedies = 1 };
	struct timespec ts;
	uint8_t *frame = NULL;
	char *xml = NULL;
	size_t xlen, flen;
	int rc;

	snprintf(rep.ms, sizeof(rep.ms), "%s", id);
	snprintf(rep.sca_version, sizeof(rep.sca_version), "xcrs-terminal %s",
		 XCRS_VERSION);
	snprintf(rep.remedies[0].action, sizeof(rep.remedies[0].action),
		 "update");
	snprintf(rep.remedies[0].result, sizeof(rep.remedies[0].result),
		 "done");
	clock_gettime(CLOCK_REALTIME, &ts);
	rep.time_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (crsap_nonce(rep.nonce) || crsap_report_build(&rep, &xml, &xlen) ||
	    crsap_frame_build(id, key, keylen, xml, xlen, &frame, &flen)) {
		free(xml);
		return EXIT_USAGE;
	}
	rc = exchange(server, ca, id, key, keylen, frame, flen, rep.nonce, 0);
	free(xml);
	free(frame);
	return rc;
}

/* The reference SCA as a resident agent (X.1125 11.1, 11.3): reports once
 * at start (unless no_report), then answers the SCS's probes on UDP
 * probe_port with a probe response over TLS, for duration seconds (0 =
 * until killed). */
static int sca_loop(const char *server, const char *ca, const char *id,
		    const uint8_t *key, size_t keylen, const uint8_t *frame,
		    size_t flen, const char *nonce, unsigned long port,
		    unsigned long duration, bool no_report)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	uint8_t probe_key[CRSAP_MAC_LEN], buf[CRSAP_FRAME_MAX];
	struct timespec t0, now;
	int fd, zero = 0, rc;

	crsap_probe_key(probe_key);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "xcrs-terminal: probe port %lu: %s\n", port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_CONNECT;
	}
	printf("sca: listening for probes on udp/%lu\n", port);
	fflush(stdout);
	if (!no_report) {
		rc = exchange(server, ca, id, key, keylen, frame, flen, nonce, 0);
		fflush(stdout);
		if (rc) {
			close(fd);
			return rc;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct crsap_frame f;
		struct crsap_probe pr;
		struct crsap_probe_response resp = { 0 };
		char err[256] = "", *xml = NULL, root[32];
		uint8_t *out = NULL;
		size_t xlen, olen;
		long left = 1000;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (duration) {
			left = (long)duration * 1000 -
			       ((now.tv_sec - t0.tv_sec) * 1000 +
				(now.tv_nsec - t0.tv_nsec) / 1000000);
			if (left <= 0)
				break;
		}
		if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			continue;
		/* A compulsory update instruction (12.1) must come under our
		 * own key: carry it out after its delay and report. */
		if (!crsap_frame_split(buf, (size_t)n, &f, err, sizeof(err)) &&
		    crsap_root(f.body, f.body_len, root, sizeof(root)) &&
		    !strcmp(root, "updateInstruction")) {
			struct crsap_update u;

			if (!crsap_frame_verify(&f, key, keylen) ||
			    crsap_update_parse(f.body, f.body_len, &u, err,
					       sizeof(err))) {
				fprintf(stderr, "xcrs-terminal: an update "
						"instruction was dropped: %s\n",
					err[0] ? err : "not under our key");
				continue;
			}
			printf("update %s in %" PRIu64 " ms (campaign %s)\n",
			       u.what, u.delay_ms, u.campaign);
			fflush(stdout);
			usleep((useconds_t)(u.delay_ms > 600000 ? 600000
								: u.delay_ms) *
			       1000);
			rc = report_update_done(server, ca, id, key, keylen);
			fflush(stdout);
			continue;
		}
		/* From the SCS: MAC'd with our key, or with the public probe
		 * key by an SCS that does not know us yet. */
		if (crsap_frame_split(buf, (size_t)n, &f, err, sizeof(err)) ||
		    (!crsap_frame_verify(&f, key, keylen) &&
		     !crsap_frame_verify(&f, probe_key, sizeof(probe_key))) ||
		    crsap_probe_parse(f.body, f.body_len, &pr, err,
				      sizeof(err))) {
			fprintf(stderr, "xcrs-terminal: a probe was dropped: "
					"%s\n", err[0] ? err : "bad MAC");
			continue;
		}
		printf("probe from %s\n", pr.scs);
		snprintf(resp.ms, sizeof(resp.ms), "%s", id);
		clock_gettime(CLOCK_REALTIME, &now);
		resp.time_ms = (uint64_t)now.tv_sec * 1000 +
			       (uint64_t)now.tv_nsec / 1000000;
		memcpy(resp.in_response_to, pr.nonce, sizeof(pr.nonce));
		snprintf(resp.sca_version, sizeof(resp.sca_version),
			 "xcrs-terminal %s", XCRS_VERSION);
		/* The answer goes to our own SCS (--server), never to an
		 * address the probe names. */
		if (crsap_nonce(resp.nonce) ||
		    crsap_probe_response_build(&resp, &xml, &xlen) ||
		    crsap_frame_build(id, key, keylen, xml, xlen, &out, &olen)) {
			free(xml);
			continue;
		}
		exchange(server, ca, id, key, keylen, out, olen, resp.nonce, 0);
		fflush(stdout);
		free(xml);
		free(out);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", required_argument, NULL, 'S'},
		{"ca", required_argument, NULL, 'C'},
		{"id", required_argument, NULL, 'i'},
		{"key", required_argument, NULL, 'k'},
		{"key-file", required_argument, NULL, 'K'},
		{"status", required_argument, NULL, 's'},
		{"session", required_argument, NULL, 'B'},
		{"probe-port", required_argument, NULL, 'P'},
		{"patch-level", required_argument, NULL, 'L'},
		{"antivirus", required_argument, NULL, 'a'},
		{"duration", required_argument, NULL, 'D'},
		{"no-report", no_argument, NULL, 'N'},
		{"as-id", required_argument, NULL, 'A'},
		{"severity", required_argument, NULL, 'e'},
		{"signature", required_argument, NULL, 'g'},
		{"remedy", required_argument, NULL, 'r'},
		{"os", required_argument, NULL, 'o'},
		{"stay", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	const char *server = NULL, *ca = NULL, *id = NULL, *keyhex = NULL,
		   *keyfile = NULL, *status = NULL, *session = NULL,
		   *as_id = NULL, *cmd;
	struct ac_session sess;
	unsigned long severity = 1, stay = 0, probe_port = 0, duration = 0;
	bool sca = false, no_report = false;
	uint64_t signature = 0;
	struct crsap_report rep = {0};
	uint8_t key[CRSAP_KEY_MAX];
	size_t keylen = 0;
	char err[512], *xml = NULL, *end;
	uint8_t *frame = NULL;
	size_t xlen, flen;
	int c, rc, st;

	while ((c = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (c) {
		case 'S': server = optarg; break;
		case 'C': ca = optarg; break;
		case 'i': id = optarg; break;
		case 'k': keyhex = optarg; break;
		case 'K': keyfile = optarg; break;
		case 'B': session = optarg; break;
		case 'P':
			probe_port = strtoul(optarg, &end, 10);
			if (*end || !probe_port || probe_port > 65535)
				return fail_usage("--probe-port: 1..65535, not ",
						  optarg);
			break;
		case 'D':
			duration = strtoul(optarg, &end, 10);
			if (*end || duration > 864000)
				return fail_usage("--duration: seconds, not ",
						  optarg);
			break;
		case 'N': no_report = true; break;
		case 'L':
			snprintf(rep.patch_level, sizeof(rep.patch_level), "%s",
				 optarg);
			break;
		case 'a': {
			const char *colon = strchr(optarg, ':');

			snprintf(rep.av_product, sizeof(rep.av_product), "%.*s",
				 colon ? (int)(colon - optarg) : (int)strlen(optarg),
				 optarg);
			if (colon)
				snprintf(rep.av_signatures,
					 sizeof(rep.av_signatures), "%s",
					 colon + 1);
			break;
		}
		case 'A': as_id = optarg; break;
		case 's': status = optarg; break;
		case 'e':
			severity = strtoul(optarg, &end, 10);
			if (*end || !severity || severity > 255)
				return fail_usage("--severity: 1..255, not ",
						  optarg);
			break;
		case 'g':
			signature = strtoull(optarg, &end, 10);
			if (*end || signature > UINT32_MAX)
				return fail_usage("--signature: a number, not ",
						  optarg);
			break;
		case 'r': {
			struct crsap_remedy *m;
			const char *colon = strchr(optarg, ':');

			if (rep.nremedies == CRSAP_LIST_MAX)
				return fail_usage("too many --remedy", NULL);
			m = &rep.remedies[rep.nremedies++];
			snprintf(m->action, sizeof(m->action), "%.*s",
				 colon ? (int)(colon - optarg) : (int)strlen(optarg),
				 optarg);
			snprintf(m->result, sizeof(m->result), "%s",
				 colon ? colon + 1 : "done");
			break;
		}
		case 'o': {
			const char *colon = strchr(optarg, ':');

			snprintf(rep.os_name, sizeof(rep.os_name), "%.*s",
				 colon ? (int)(colon - optarg) : (int)strlen(optarg),
				 optarg);
			if (colon)
				snprintf(rep.os_version, sizeof(rep.os_version),
					 "%s", colon + 1);
			break;
		}
		case 'w':
			stay = strtoul(optarg, &end, 10);
			if (*end || stay > 86400)
				return fail_usage("--stay: seconds, not ",
						  optarg);
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("xcrs-terminal %s\n", XCRS_VERSION); return 0;
		default: return fail_usage("bad option", NULL);
		}
	}
	if (session) {
		if (!as_id || id || keyhex || keyfile)
			return fail_usage("--session goes with --as-id and "
					  "without --id, --key, --key-file",
					  NULL);
		if (ac_session_load(session, &sess, err, sizeof(err))) {
			fprintf(stderr, "xcrs-terminal: %s\n", err);
			return EXIT_USAGE;
		}
		if (ac_ks_as(&sess, as_id, GBA_UA_XCRS_REPORT, key))
			return fail_usage("--as-id: not a valid identity: ",
					  as_id);
		keylen = GBA_KEY;
		if (strlen(sess.btid) > CRSAP_ID_MAX)
			return fail_usage("the session's B-TID is too long for "
					  "a terminal id: ", sess.btid);
		id = sess.btid;
	}
	if (!server || !ca || !id || (!session && !keyhex == !keyfile))
		return fail_usage("--server, --ca, and --id with one of --key or "
				  "--key-file (or --session with --as-id) are "
				  "required", NULL);
	if (!crsap_id_valid(id))
		return fail_usage("--id: not a valid terminal id: ", id);
	if (optind >= argc)
		return fail_usage("a command is required", NULL);
	cmd = argv[optind++];
	if (session) {
		/* key and id come from the session */
	} else if (keyfile) {
		struct crsap_keyring *kr;
		const struct crsap_key *k;

		if (crsap_keyring_load(keyfile, &kr, err, sizeof(err))) {
			fprintf(stderr, "xcrs-terminal: %s\n", err);
			return EXIT_USAGE;
		}
		k = crsap_keyring_find(kr, id);
		if (!k) {
			crsap_keyring_free(kr);
			return fail_usage("no key for this --id in ", keyfile);
		}
		memcpy(key, k->key, k->keylen);
		keylen = k->keylen;
		crsap_keyring_free(kr);
	} else {
		size_t n = strlen(keyhex);

		keylen = n / 2;
		if (n % 2 || keylen < CRSAP_KEY_MIN || keylen > CRSAP_KEY_MAX)
			return fail_usage("--key: 32..128 hex digits", NULL);
		for (size_t i = 0; i < keylen; i++) {
			unsigned v;

			if (sscanf(keyhex + 2 * i, "%2x", &v) != 1)
				return fail_usage("--key: not hex", NULL);
			key[i] = (uint8_t)v;
		}
	}

	snprintf(rep.ms, sizeof(rep.ms), "%s", id);
	snprintf(rep.sca_version, sizeof(rep.sca_version), "xcrs-terminal %s",
		 XCRS_VERSION);
	if (!strcmp(cmd, "sca")) {
		if (argc != optind)
			return fail_usage("sca takes no argument", NULL);
		if (!probe_port)
			return fail_usage("sca needs --probe-port", NULL);
		sca = true;
		cmd = "status";
	}
	if (!strcmp(cmd, "status")) {
		if (argc != optind)
			return fail_usage("status takes no argument", NULL);
		st = crsap_status_parse(status ? status : "clean");
		if (st < 0)
			return fail_usage("--status: clean, outdated or "
					  "infected, not ", status);
		rep.status = st;
	} else if (!strcmp(cmd, "threat")) {
		struct crsap_threat *t = &rep.threats[0];

		if (argc != optind + 1)
			return fail_usage("threat takes one NAME", NULL);
		rep.status = CRSAP_STATUS_INFECTED;
		snprintf(t->name, sizeof(t->name), "%s", argv[optind]);
		t->severity = (unsigned)severity;
		t->signature = signature;
		rep.nthreats = 1;
	} else if (!strcmp(cmd, "clean")) {
		if (argc != optind)
			return fail_usage("clean takes no argument", NULL);
		rep.status = CRSAP_STATUS_CLEAN;
		if (!rep.nremedies) {
			snprintf(rep.remedies[0].action,
				 sizeof(rep.remedies[0].action), "scan");
			snprintf(rep.remedies[0].result,
				 sizeof(rep.remedies[0].result), "done");
			rep.nremedies = 1;
		}
	} else {
		return fail_usage("unknown command ", cmd);
	}
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		rep.time_ms = (uint64_t)ts.tv_sec * 1000 +
			      (uint64_t)ts.tv_nsec / 1000000;
	}
	if (crsap_nonce(rep.nonce) ||
	    crsap_report_build(&rep, &xml, &xlen) ||
	    crsap_frame_build(id, key, keylen, xml, xlen, &frame, &flen)) {
		fprintf(stderr, "xcrs-terminal: cannot build the report\n");
		return EXIT_USAGE;
	}
	free(xml);
	if (sca)
		rc = sca_loop(server, ca, id, key, keylen, frame, flen, rep.nonce,
			      probe_port, duration, no_report);
	else
		rc = exchange(server, ca, id, key, keylen, frame, flen,
			      rep.nonce, stay);
	free(frame);
	return rc;
}
