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
};

/* Gives ifname (in ns) the XDP program live-frame XDP_TX wants there.
 * 0 or -errno. */
int lt_prepare(const struct tn_ns *ns, const char *ifname);
/* Starts sending pkt out of ifname in ns. 0 or -errno. */
int lt_start(struct livetraffic *t, const struct tn_ns *ns,
	     const char *ifname, const uint8_t *pkt, size_t len);
/* Stops; returns the frames sent, *err 0 or the generator's -errno. */
uint64_t lt_stop(struct livetraffic *t, int *err);

#endif
