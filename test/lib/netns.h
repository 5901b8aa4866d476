/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Throw-away network namespaces and bpffs pin directories for tests.
 *
 * A namespace is held by a child process that dies with the test process
 * (PR_SET_PDEATHSIG), so a crashed test leaves no namespace, veth or XDP
 * attachment behind: the kernel removes them with the last reference.
 * Pin directories are /sys/fs/bpf/xcrs-t-<pid>-<name>; tn_sweep() removes
 * those of dead test processes and libxdp's pins of programs that no
 * longer exist.
 */
#ifndef XCRS_TEST_NETNS_H
#define XCRS_TEST_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct tn_ns {
	char name[32];
	pid_t holder;
	int fd; /* /proc/<holder>/ns/net */
};

/* Creates a namespace with loopback up. 0 or -errno. */
int tn_ns_create(struct tn_ns *ns, const char *name);
/* Kills the holder and waits: the namespace goes with it. Idempotent. */
void tn_ns_destroy(struct tn_ns *ns);
/* Moves the calling thread into ns / back to the namespace it started in. */
int tn_enter(const struct tn_ns *ns);
int tn_leave(void);
/* Runs a shell command line inside ns (nsenter --net): 0 if it exited 0.
 * NULL ns runs it where the test runs. The command and its output are
 * logged on failure. */
int tn_sh(const struct tn_ns *ns, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Runs a command line inside ns (here if NULL) with its stdout and stderr
 * in out (may be NULL); returns its exit status (128: did not exit). */
/* Connects to the unix stream socket at path, writes text, closes: 0 or
 * -errno. */
int tn_unix_write(const char *path, const char *text);
int tn_run(const struct tn_ns *ns, char *out, size_t len, const char *fmt,
	   ...) __attribute__((format(printf, 4, 5)));
/* A socket created inside ns (it stays there). */
int tn_socket(const struct tn_ns *ns, int domain, int type, int proto);
/* A veth pair a (in na) — b (in nb). */
int tn_veth(const struct tn_ns *na, const char *a, const struct tn_ns *nb,
	    const char *b);
/* Interface index / MAC address of ifname inside ns. */
int tn_ifindex(const struct tn_ns *ns, const char *ifname);
int tn_mac(const struct tn_ns *ns, const char *ifname, unsigned char mac[6]);

/* "/sys/fs/bpf/xcrs-t-<pid>-<name>" into buf. */
void tn_pin_dir(char *buf, size_t len, const char *name);
/* Removes a pin directory and everything in it. 0 if gone. */
int tn_rm_pins(const char *dir);
/* Frames a veth in ns lost on the XDP path, as its driver counts them
 * (ethtool statistics: *_xdp_xmit_errors, *_xdp_tx_errors, rx_queue_*_drops:
 * a full ring of a slow receiver, not a verdict). -errno on failure. */
long long tn_veth_xdp_lost(const struct tn_ns *ns, const char *ifname);
/* Mounts bpffs if needed, removes pin directories of dead test processes
 * and libxdp dispatcher pins whose program is gone. */
void tn_sweep(void);

#endif
