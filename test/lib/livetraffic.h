/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Live traffic for namespace tests: a thread that sends one frame over
 * and over out of an interface of a test namespace with XDP live frames
 * (BPF_PROG_TEST_RUN, BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX), until stopped.
 */
#ifndef XCRS_TEST_LIVETRAFFIC_H
#define XCRS_TEST_LIVETRAFFIC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "netns.h"

struct livetraffic {
	pthread_t th;
	const struct tn_ns *ns;
	int ifindex;
	uint8_t pkt[2048];
	size_t len;
	atomic_bool stop;
	atomic_ullong sent;
	int err;
	int cpu;	     /* >= 0: the sending thread runs there */
	unsigned rand_off;   /* > 0: a random 32-bit value is written at
			      * this offset of every frame (e.g. a TEID) */
};

/* The sender's topology: namespaces gen and edge without IPv6 (no MLD or
 * router solicitations in a test's counts), a veth gen0 (gen) — a1
 * (edge), gen0 ready for lt_start(). 0 or -errno. */
int lt_topology(struct tn_ns *gen, struct tn_ns *edge);
/* Gives ifname (in ns) the XDP program live-frame XDP_TX wants there.
 * 0 or -errno. */
int lt_prepare(const struct tn_ns *ns, const char *ifname);
/* Starts sending pkt out of ifname in ns. 0 or -errno. */
int lt_start(struct livetraffic *t, const struct tn_ns *ns,
	     const char *ifname, const uint8_t *pkt, size_t len);
/* The same with options: on one CPU (cpu >= 0), a random 32-bit value at
 * rand_off of every frame (rand_off > 0). */
int lt_start_opts(struct livetraffic *t, const struct tn_ns *ns,
		  const char *ifname, const uint8_t *pkt, size_t len, int cpu,
		  unsigned rand_off);
/* The generator's program: XDP_TX, writing a random 32-bit value at off
 * of every frame first if off > 0. An fd, or -errno. */
int lt_prog_tx(unsigned off);
/* Stops; returns the frames sent, *err 0 or the generator's -errno. */
uint64_t lt_stop(struct livetraffic *t, int *err);

#endif
