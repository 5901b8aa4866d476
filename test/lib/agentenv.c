// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentenv.h"

#define AGENT XCRS_BUILDDIR "/agent/xcrs-agent"
#define CTL XCRS_BUILDDIR "/agent/xcrsctl"

int agenv_init(struct agentenv *e, const char *name)
{
	memset(e, 0, sizeof(*e));
	e->pid = -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/xcrs-t-%d-%s", getpid(), name);
	tn_run(NULL, NULL, 0, "rm -rf %s", e->dir);
	if (mkdir(e->dir, 0700))
		return -errno;
	tn_pin_dir(e->pins, sizeof(e->pins), name);
	tn_rm_pins(e->pins);
	snprintf(e->policy, sizeof(e->policy), "%s/policy.yaml", e->dir);
	snprintf(e->sock, sizeof(e->sock), "%s/agent.sock", e->dir);
	return 0;
}

int agenv_policy(struct agentenv *e, const char *text)
{
	char tmp[300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", e->policy);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	if (fclose(f))
		return -errno;
	chmod(tmp, 0644);
	return rename(tmp, e->policy) ? -errno : 0;
}

int agenv_start(struct agentenv *e, const struct tn_ns *ns,
		const char *const *wrapper, char *err, size_t errlen)
{
	char log[300];

	snprintf(log, sizeof(log), "%s/agent.log", e->dir);
	e->pid = fork();
	if (e->pid < 0)
		return -1;
	if (e->pid == 0) {
		const char *argv[16];
		int n = 0, fd;

		/* the agent outlives its parent by design; not in a test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || (ns && tn_enter(ns)))
			_exit(127);
		dup2(fd, 2);
		dup2(fd, 1);
		for (; wrapper && wrapper[n] && n < 12; n++)
			argv[n] = wrapper[n];
		argv[n++] = e->binary ? e->binary : AGENT;
		argv[n++] = "-c";
		argv[n++] = e->policy;
		argv[n] = NULL;
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		int st;

		if (agenv_ctl(e, NULL, 0, "status") == 0)
			return 0;
		if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
			e->pid = -1;
			if (err)
				tn_run(NULL, err, errlen, "cat %s", log);
			return -1;
		}
		usleep(50000);
	}
	if (err)
		snprintf(err, errlen, "the agent did not answer on %s", e->sock);
	return -1;
}

void agenv_stop(struct agentenv *e, int sig)
{
	if (e->pid > 0) {
		kill(e->pid, sig);
		waitpid(e->pid, NULL, 0);
	}
	e->pid = -1;
}

void agenv_cleanup(struct agentenv *e)
{
	char out[8192] = "";

	agenv_stop(e, SIGTERM);
	/* what the agent said last, for a failed test's log */
	if (e->dir[0] &&
	    tn_run(NULL, out, sizeof(out), "tail -n 20 %s/agent.log",
		   e->dir) == 0 && out[0])
		fprintf(stderr, "agent log (last 20 lines):\n%s", out);
	if (e->pins[0])
		tn_rm_pins(e->pins);
	if (e->dir[0])
		tn_run(NULL, NULL, 0, "rm -rf %s", e->dir);
}

int agenv_ctl(const struct agentenv *e, char *out, size_t len,
	      const char *fmt, ...)
{
	char args[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return tn_run(NULL, out, len, CTL " -s %s %s", e->sock, args);
}

bool agenv_ctl_until(const struct agentenv *e, const char *want,
		     const char *fmt, ...)
{
	char args[1024], out[16384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	for (int i = 0; i < 100; i++) {
		if (agenv_ctl(e, out, sizeof(out), "%s", args) == 0 &&
		    strstr(out, want))
			return true;
		usleep(50000);
	}
	return false;
}

const char *agenv_stat_line(const char *name, long long v)
{
	static char buf[4][96];
	static int i;
	char *b = buf[i++ & 3];

	snprintf(b, 96, "%-26s %lld\n", name, v);
	return b;
}

double agenv_sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; (p = strstr(p, series)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}
