// SPDX-License-Identifier: GPL-2.0-only
/* A throw-away xcrs-authsrv for tests (see authenv.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "authenv.h"
#include "netns.h"

const char *ae_bin(const char *name)
{
	static __thread char buf[4][512];
	static __thread int i;
	char *b = buf[i++ % 4];

	snprintf(b, 512, "%s/authsrv/%s", XCRS_BUILDDIR, name);
	return b;
}

const char *ae_path(struct authenv *e, const char *name)
{
	static __thread char buf[4][256];
	static __thread int i;
	char *b = buf[i++ % 4];

	snprintf(b, 256, "%s/%s", e->dir, name);
	return b;
}

/* A free TCP port on ip (the kernel picks one; it is free again when we
 * close, and the server binds it right after). */
static int free_port(const char *ip)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &sl))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static const char DEFAULT_AS[] =
	"application_servers:\n"
	"  - id: crs.home.example\n"
	"    release_identity: true\n"
	"  - id: shop.example\n"
	"  - id: partner-shop.example\n"
	"    realms: [partner.example]\n";

int ae_setup(struct authenv *e, const char *listen_ip, int n,
	     const char *extra_yaml)
{
	char d[sizeof(e->dir)];

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/xcrs-t-auth-%d-XXXXXX",
		 (int)getpid());
	if (!mkdtemp(e->dir)) {
		perror("mkdtemp");
		return -1;
	}
	memcpy(d, e->dir, sizeof(d));
	snprintf(e->ca, sizeof(e->ca), "%s/ca.crt", d);
	/* EC P-256 keys: quick to make. */
	if (tn_sh(NULL, "cd %s && openssl req -x509 -newkey ec -pkeyopt "
		  "ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt "
		  "-days 2 -subj /CN=xcrs-test-CA && openssl req -x509 -newkey "
		  "ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
		  "userca.key -out userca.crt -days 2 -subj "
		  "/CN=xcrs-test-user-CA", d))
		return -1;
	static const char *const certs[][4] = {
		{ "server", "authsrv", "subjectAltName=IP:%s,DNS:home.example,DNS:partner.example", "ca" },
		{ "crs", "crs.home.example", "subjectAltName=DNS:crs.home.example", "ca" },
		{ "shop", "shop.example", "subjectAltName=DNS:shop.example", "ca" },
		{ "pshop", "partner-shop.example", "subjectAltName=DNS:partner-shop.example", "ca" },
		{ "user", "cert-user@home.example", NULL, "userca" },
		{ "user2", "user1@home.example", NULL, "userca" },
	};
	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
		char san[256] = "", cmd[1024];

		if (certs[i][2])
			snprintf(san, sizeof(san), certs[i][2], listen_ip);
		snprintf(cmd, sizeof(cmd),
			 "cd %s && openssl req -x509 -newkey ec -pkeyopt "
			 "ec_paramgen_curve:P-256 -nodes -keyout %s.key -out "
			 "%s.crt -days 2 -subj /CN=%s %s%s%s -CA %s.crt -CAkey "
			 "%s.key",
			 d, certs[i][0], certs[i][0], certs[i][1],
			 san[0] ? "-addext \"" : "", san, san[0] ? "\"" : "",
			 certs[i][3], certs[i][3]);
		if (tn_sh(NULL, "%s", cmd))
			return -1;
	}
	for (int i = 0; i < n && i < AE_SERVERS; i++) {
		FILE *f;
		/* An address of another namespace cannot be probed here: that
		 * namespace is the test's own, nothing else listens there. */
		int port = free_port(listen_ip);

		if (port < 0)
			port = 20000 + (int)(getpid() % 20000) + i;

		snprintf(e->addr[i], sizeof(e->addr[i]), "%s:%d", listen_ip, port);
		snprintf(e->conf[i], sizeof(e->conf[i]), "%s/authsrv%d.yaml", d, i);
		f = fopen(e->conf[i], "w");
		if (!f || port < 0)
			return -1;
		fprintf(f,
			"version: 1\n"
			"authsrv:\n"
			"  domain: home.example\n"
			"  listen: %s\n"
			"  certificate: %s/server.crt\n"
			"  private_key: %s/server.key\n"
			"  database: %s/authsrv.db\n"
			"  as_ca: %s/ca.crt\n"
			"  user_ca: %s/userca.crt\n"
			"  session_lifetime: 1h\n"
			"  assertion_lifetime: 2m\n"
			"%s",
			e->addr[i], d, d, d, d, d,
			extra_yaml ? extra_yaml : DEFAULT_AS);
		fclose(f);
	}
	return 0;
}

int ae_start(struct authenv *e, int i, const struct tn_ns *ns)
{
	char log[256];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/authsrv%d.log", e->dir, i);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (ns && tn_enter(ns))
			_exit(126);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(ae_bin("xcrs-authsrv"), "xcrs-authsrv", "-v", "-c",
		      e->conf[i], (char *)NULL);
		_exit(127);
	}
	e->pid[i] = pid;
	/* Ready when the port accepts. */
	for (int t = 0; t < 200; t++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		char host[64];
		char *colon;
		int fd, ok;

		snprintf(host, sizeof(host), "%s", e->addr[i]);
		colon = strrchr(host, ':');
		*colon = '\0';
		inet_pton(AF_INET, host, &sa.sin_addr);
		sa.sin_port = htons((uint16_t)atoi(colon + 1));
		fd = ns ? tn_socket(ns, AF_INET, SOCK_STREAM, 0)
			: socket(AF_INET, SOCK_STREAM, 0);
		ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			fprintf(stderr, "xcrs-authsrv %d exited; log %s\n", i, log);
			tn_sh(NULL, "cat %s >&2", log);
			e->pid[i] = 0;
			return -1;
		}
		usleep(25000);
	}
	return -1;
}

void ae_teardown(struct authenv *e)
{
	for (int i = 0; i < AE_SERVERS; i++) {
		if (e->pid[i] > 0) {
			kill(e->pid[i], SIGTERM);
			waitpid(e->pid[i], NULL, 0);
			e->pid[i] = 0;
		}
	}
	if (e->dir[0] && strstr(e->dir, "/tmp/xcrs-t-auth-"))
		tn_sh(NULL, "rm -rf %s", e->dir);
	e->dir[0] = '\0';
}

int ae_admin(struct authenv *e, char *out, size_t len, const char *stdin_text,
	     const char *args)
{
	if (stdin_text)
		return tn_run(NULL, out, len, "sh -c 'printf \"%%s\\n\" \"%s\" | "
			      "%s -c %s %s'", stdin_text,
			      ae_bin("xcrs-authsrv-admin"), e->conf[0], args);
	return tn_run(NULL, out, len, "%s -c %s %s",
		      ae_bin("xcrs-authsrv-admin"), e->conf[0], args);
}
