// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test namespaces and pin directories (see netns.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/ethtool.h>
#include <linux/magic.h>
#include <linux/sockios.h>

#include "netns.h"

static int home_fd = -1;

static int home(void)
{
	if (home_fd < 0)
		home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return home_fd;
}

int tn_ns_create(struct tn_ns *ns, const char *name)
{
	int ready[2];
	char path[64], c;
	pid_t parent = getpid();

	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	snprintf(ns->name, sizeof(ns->name), "%s", name);
	if (home() < 0 || pipe2(ready, O_CLOEXEC))
		return -errno;
	ns->holder = fork();
	if (ns->holder < 0) {
		int r = -errno;

		close(ready[0]);
		close(ready[1]);
		return r;
	}
	if (ns->holder == 0) {
		/* Holder: dies with the test process, keeps the namespace. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (unshare(CLONE_NEWNET))
			_exit(2);
		c = 'y';
		if (write(ready[1], &c, 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		tn_ns_destroy(ns);
		return -ECHILD;
	}
	close(ready[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", ns->holder);
	ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->fd < 0) {
		int r = -errno;

		tn_ns_destroy(ns);
		return r;
	}
	/* No duplicate address detection: addresses (link-local ones too)
	 * are usable at once, and nothing else shares these links. */
	return tn_sh(ns, "ip link set lo up && "
			 "sysctl -qw net.ipv6.conf.all.accept_dad=0 && "
			 "sysctl -qw net.ipv6.conf.default.accept_dad=0") ?
		       -EIO :
		       0;
}

void tn_ns_destroy(struct tn_ns *ns)
{
	if (ns->fd >= 0)
		close(ns->fd);
	ns->fd = -1;
	if (ns->holder > 0) {
		kill(ns->holder, SIGKILL);
		while (waitpid(ns->holder, NULL, 0) < 0 && errno == EINTR)
			;
	}
	ns->holder = 0;
}

int tn_enter(const struct tn_ns *ns)
{
	if (home() < 0)
		return -errno;
	return setns(ns->fd, CLONE_NEWNET) ? -errno : 0;
}

int tn_leave(void)
{
	return setns(home(), CLONE_NEWNET) ? -errno : 0;
}

static int vrun(const struct tn_ns *ns, char *out, size_t len,
		const char *fmt, va_list ap)
{
	char cmd[2048], line[2300];
	FILE *p;
	int st;

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	if (ns)
		snprintf(line, sizeof(line),
			 "nsenter --net=/proc/%d/ns/net %s 2>&1", ns->holder,
			 cmd);
	else
		snprintf(line, sizeof(line), "%s 2>&1", cmd);
	p = popen(line, "r");
	if (!p)
		return 128;
	if (out && len) {
		size_t n = fread(out, 1, len - 1, p);

		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int tn_unix_write(const char *path, const char *text)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(text);
	int fd, r = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, text, n) != (ssize_t)n)
		r = -errno;
	close(fd);
	return r ? r : 0;
}

int tn_run(const struct tn_ns *ns, char *out, size_t len, const char *fmt,
	   ...)
{
	va_list ap;
	int st;

	va_start(ap, fmt);
	st = vrun(ns, out, len, fmt, ap);
	va_end(ap);
	return st;
}

int tn_sh(const struct tn_ns *ns, const char *fmt, ...)
{
	char cmd[1024], out[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = tn_run(ns, out, sizeof(out), "sh -c '%s'", cmd);
	if (st) {
		fprintf(stderr, "netns: [%s] %s: failed (status %d)\n%s",
			ns ? ns->name : "test", cmd, st, out);
		return -EIO;
	}
	return 0;
}

int tn_socket(const struct tn_ns *ns, int domain, int type, int proto)
{
	int fd, r;

	r = tn_enter(ns);
	if (r)
		return r;
	fd = socket(domain, type | SOCK_CLOEXEC, proto);
	r = fd < 0 ? -errno : fd;
	if (tn_leave() && fd >= 0) {
		close(fd);
		return -EIO;
	}
	return r;
}

int tn_veth(const struct tn_ns *na, const char *a, const struct tn_ns *nb,
	    const char *b)
{
	/* Made inside na, so no name is ever visible where the test runs;
	 * the peer moves to nb. */
	return tn_sh(na, "ip link add %s type veth peer name %s netns %d && "
			 "ip link set %s up && "
			 "nsenter --net=/proc/%d/ns/net ip link set %s up",
		     a, b, nb->holder, a, nb->holder, b);
}

int tn_ifindex(const struct tn_ns *ns, const char *ifname)
{
	int r = tn_enter(ns), idx;

	if (r)
		return r;
	idx = (int)if_nametoindex(ifname);
	r = idx ? idx : -errno;
	tn_leave();
	return r;
}

int tn_mac(const struct tn_ns *ns, const char *ifname, unsigned char mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = tn_socket(ns, AF_INET, SOCK_DGRAM, 0), r = 0;

	if (fd < 0)
		return fd;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		r = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return r;
}

void tn_pin_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/sys/fs/bpf/xcrs-t-%d-%s", getpid(), name);
}

static int rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (!lstat(p, &st) && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	return rmdir(dir) && errno != ENOENT ? -errno : 0;
}

int tn_rm_pins(const char *dir)
{
	return rm_tree(dir);
}

void tn_sweep(void)
{
	struct statfs st;
	DIR *d;
	struct dirent *e;
	char p[PATH_MAX];

	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)
		mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL);
	d = opendir("/sys/fs/bpf");
	if (d) {
		while ((e = readdir(d))) {
			int pid;

			if (sscanf(e->d_name, "xcrs-t-%d-", &pid) != 1)
				continue;
			if (pid == getpid() || !kill(pid, 0) || errno != ESRCH)
				continue;
			snprintf(p, sizeof(p), "/sys/fs/bpf/%s", e->d_name);
			rm_tree(p);
		}
		closedir(d);
	}
	/* libxdp pins each dispatcher under xdp/dispatch-<ifindex>-<id>; a
	 * namespace that died took the program with it. */
	d = opendir("/sys/fs/bpf/xdp");
	if (d) {
		while ((e = readdir(d))) {
			int ifindex, fd;
			unsigned id;

			if (sscanf(e->d_name, "dispatch-%d-%u", &ifindex,
				   &id) != 2)
				continue;
			fd = bpf_prog_get_fd_by_id(id);
			if (fd >= 0) {
				close(fd);
				continue;
			}
			snprintf(p, sizeof(p), "/sys/fs/bpf/xdp/%s",
				 e->d_name);
			rm_tree(p);
		}
		closedir(d);
	}
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

long long tn_veth_xdp_lost(const struct tn_ns *ns, const char *ifname)
{
	struct {
		struct ethtool_sset_info h;
		__u32 n;
	} si = { .h = { .cmd = ETHTOOL_GSSET_INFO,
			.sset_mask = 1ULL << ETH_SS_STATS } };
	struct ethtool_gstrings *gs = NULL;
	struct ethtool_stats *st = NULL;
	struct ifreq ifr = { 0 };
	long long lost = 0;
	int fd = tn_socket(ns, AF_INET, SOCK_DGRAM, 0), r = 0;

	if (fd < 0)
		return fd;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&si;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		r = -errno;
		goto out;
	}
	gs = calloc(1, sizeof(*gs) + (size_t)si.n * ETH_GSTRING_LEN);
	st = calloc(1, sizeof(*st) + (size_t)si.n * sizeof(__u64));
	if (!gs || !st) {
		r = -ENOMEM;
		goto out;
	}
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_STATS;
	gs->len = si.n;
	st->cmd = ETHTOOL_GSTATS;
	st->n_stats = si.n;
	ifr.ifr_data = (void *)gs;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		r = -errno;
		goto out;
	}
	ifr.ifr_data = (void *)st;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		r = -errno;
		goto out;
	}
	for (__u32 i = 0; i < si.n; i++) {
		char name[ETH_GSTRING_LEN + 1];

		memcpy(name, gs->data + (size_t)i * ETH_GSTRING_LEN,
		       ETH_GSTRING_LEN);
		name[ETH_GSTRING_LEN] = '\0';
		if (ends_with(name, "xdp_xmit_errors") ||
		    ends_with(name, "xdp_tx_errors") ||
		    (!strncmp(name, "rx_queue_", 9) &&
		     ends_with(name, "_drops") && !ends_with(name, "xdp_drops")))
			lost += (long long)st->data[i];
	}
out:
	free(gs);
	free(st);
	close(fd);
	return r ? r : lost;
}
