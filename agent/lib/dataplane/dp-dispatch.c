// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dataplane library (see dataplane.h): libxdp's multi-program
 * dispatcher, the second way onto an interface (dp-attach.c has the
 * first, a pinned BPF link). Through the dispatcher xcrs shares the
 * interface with other XDP programs (xdp-filter, a load balancer): each
 * runs in turn, by priority, and the next one runs while a program
 * returns XDP_PASS.
 *
 * The dispatcher rests on freplace (BPF_PROG_TYPE_EXT programs attached
 * to the dispatcher's slots, re-attached to every new dispatcher libxdp
 * builds when a program joins or leaves). Whether this kernel allows that
 * is probed once with a program of our own (probe.bpf.c): Debian 12's 6.1
 * does; 6.18 here refuses it (EPERM), and there xcrs keeps its link.
 * libxdp finds the dispatcher of an interface by program id, which needs
 * CAP_SYS_ADMIN: without it the dispatcher is not used either.
 *
 * An upgrade on this path adds the new program to the dispatcher (both
 * run, with the same maps, while libxdp replaces the dispatcher
 * atomically), then removes the old one: no moment without xcrs.
 */
#include "dp-internal.h"
#include "probe.skel.h"

/* Effective capabilities of this process: CAP_SYS_ADMIN (21). */
static bool cap_sys_admin(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long long eff = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	if (f)
		fclose(f);
	return eff & (1ULL << 21);
}

/* Loads the probe's main program (its replacement left out). */
static struct xcrs_probe *probe_target(void)
{
	struct xcrs_probe *p = xcrs_probe__open();

	if (!p)
		return NULL;
	bpf_program__set_autoload(p->progs.xcrs_probe_ext, false);
	if (xcrs_probe__load(p)) {
		xcrs_probe__destroy(p);
		return NULL;
	}
	return p;
}

/* The probe: a replacement loaded against one program, attached to it
 * and then to a second one (libxdp re-attaches every program to each new
 * dispatcher). 0, or -errno with why[] set. */
static int probe_freplace(char *why, size_t len)
{
	struct xcrs_probe *t1 = NULL, *t2 = NULL, *ext = NULL;
	struct bpf_link *l1 = NULL, *l2 = NULL;
	int r = 0, prev = log_lib_silence();

	t1 = probe_target();
	t2 = t1 ? probe_target() : NULL;
	if (!t1 || !t2) {
		r = -errno;
		snprintf(why, len, "cannot load an XDP program with a global "
				   "function: %s", strerror(-r));
		goto out;
	}
	ext = xcrs_probe__open();
	if (!ext) {
		r = -errno;
		snprintf(why, len, "opening the probe: %s", strerror(-r));
		goto out;
	}
	bpf_program__set_autoload(ext->progs.xcrs_probe_main, false);
	r = bpf_program__set_attach_target(
		ext->progs.xcrs_probe_ext,
		bpf_program__fd(t1->progs.xcrs_probe_main), "xcrs_probe_slot");
	if (!r)
		r = xcrs_probe__load(ext);
	if (r) {
		snprintf(why, len, "the kernel refuses a BPF_PROG_TYPE_EXT "
				   "program: %s", strerror(-r));
		goto out;
	}
	l1 = bpf_program__attach_freplace(
		ext->progs.xcrs_probe_ext,
		bpf_program__fd(t1->progs.xcrs_probe_main), "xcrs_probe_slot");
	r = l1 ? 0 : -errno;
	if (r) {
		snprintf(why, len, "the kernel refuses freplace: %s",
			 strerror(-r));
		goto out;
	}
	l2 = bpf_program__attach_freplace(
		ext->progs.xcrs_probe_ext,
		bpf_program__fd(t2->progs.xcrs_probe_main), "xcrs_probe_slot");
	r = l2 ? 0 : -errno;
	if (r)
		snprintf(why, len, "the kernel does not attach a loaded "
				   "freplace program to a second target: %s",
			 strerror(-r));
out:
	bpf_link__destroy(l2);
	bpf_link__destroy(l1);
	xcrs_probe__destroy(ext);
	xcrs_probe__destroy(t2);
	xcrs_probe__destroy(t1);
	log_lib_restore(prev);
	return r;
}

bool disp_usable(struct dp *dp)
{
	if (dp->disp_state)
		return dp->disp_state > 0;
	if (getenv("XCRS_NO_DISPATCHER")) {
		snprintf(dp->disp_why, sizeof(dp->disp_why),
			 "XCRS_NO_DISPATCHER is set");
		dp->disp_state = -1;
	} else if (!cap_sys_admin()) {
		snprintf(dp->disp_why, sizeof(dp->disp_why),
			 "no CAP_SYS_ADMIN (libxdp finds an interface's "
			 "dispatcher by program id)");
		dp->disp_state = -1;
	} else if (probe_freplace(dp->disp_why, sizeof(dp->disp_why))) {
		dp->disp_state = -1;
	} else {
		dp->disp_state = 1;
	}
	if (dp->disp_state > 0)
		log_info("libxdp's dispatcher works on this kernel: xcrs "
			 "attaches through it (interfaces[].attach: link "
			 "keeps a BPF link of its own)");
	else
		log_info("libxdp's dispatcher is not used: %s; xcrs attaches "
			 "through a BPF link of its own",
			 dp->disp_why);
	return dp->disp_state > 0;
}

const char *disp_why(const struct dp *dp)
{
	return dp->disp_why;
}

static enum xdp_attach_mode xmode(enum dp_xdp_mode m)
{
	return m == DP_MODE_NATIVE ? XDP_MODE_NATIVE : XDP_MODE_SKB;
}

int disp_find(struct dp *dp, const char *ifname, int ifindex,
	      struct xdp_multiprog **ret_mp)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct xdp_multiprog *mp;
	int r;

	*ret_mp = NULL;
	if (bpf_xdp_query(ifindex, 0, &q))
		return dp_fail(dp, -errno, "%s: reading its XDP program",
			       ifname);
	if (!q.prog_id && !q.drv_prog_id && !q.skb_prog_id)
		return 0;
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	r = (int)libxdp_get_error(mp);
	if (r || !mp)
		return dp_fail(dp, r ? r : -ENOENT,
			       "%s: reading its XDP program", ifname);
	if (xdp_multiprog__is_legacy(mp)) {
		xdp_multiprog__close(mp);
		return 2;
	}
	*ret_mp = mp;
	return 1;
}

/* The xcrs programs in mp other than keep_id: at most n into out. */
static size_t xcrs_progs(struct xdp_multiprog *mp, __u32 keep_id,
			 struct xdp_program **out, size_t n)
{
	struct xdp_program *p = NULL;
	size_t k = 0;

	while ((p = xdp_multiprog__next_prog(p, mp)) && k < n)
		if (!strcmp(xdp_program__name(p), XCRS_PROG_NAME) &&
		    xdp_program__id(p) != keep_id)
			out[k++] = p;
	return k;
}

int disp_count_xcrs(struct xdp_multiprog *mp)
{
	struct xdp_program *p[XCRS_DISPATCH_MAX];

	return (int)xcrs_progs(mp, 0, p, XCRS_DISPATCH_MAX);
}

int disp_attach(struct dp *dp, const char *ifname, int ifindex,
		struct xcrs_bpf *s, enum dp_xdp_mode mode,
		struct xdp_program **ret_xp)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xo, .obj = s->obj,
			    .prog_name = XCRS_PROG_NAME);
	struct xdp_multiprog *mp;
	struct xdp_program *xp;
	char msg[128];
	int r, prev;

	xp = xdp_program__create(&xo);
	r = (int)libxdp_get_error(xp);
	if (r || !xp)
		return dp_fail(dp, r ? r : -ENOMEM, "%s: preparing the program "
				"for libxdp's dispatcher", ifname);
	xdp_program__set_run_prio(xp, XCRS_DISPATCH_PRIO);
	xdp_program__set_chain_call_enabled(xp, XDP_PASS, true);
	/* libxdp loads the object (as BPF_PROG_TYPE_EXT) and attaches it */
	prev = log_lib_silence();
	r = xdp_program__attach(xp, ifindex, xmode(mode), 0);
	log_lib_restore(prev);
	if (r) {
		xdp_program__close(xp);
		libxdp_strerror(r, msg, sizeof(msg));
		return dp_fail(dp, r < 0 ? r : -EINVAL,
			       "attaching xcrs to %s through libxdp's "
			       "dispatcher in %s mode (%s; run with -vv for "
			       "libxdp's and the verifier's messages)",
			       ifname,
			       mode == DP_MODE_NATIVE ? "native" : "generic",
			       msg);
	}
	/* libxdp falls back to attaching the program alone where its own
	 * check of the kernel fails: that is not a dispatcher */
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp) || !mp || xdp_multiprog__is_legacy(mp)) {
		if (!libxdp_get_error(mp))
			xdp_multiprog__close(mp);
		xdp_program__detach(xp, ifindex, xmode(mode), 0);
		xdp_program__close(xp);
		return dp_fail(dp, -EOPNOTSUPP,
			       "%s: libxdp attached xcrs without its "
			       "dispatcher (its check of this kernel failed)",
			       ifname);
	}
	xdp_multiprog__close(mp);
	*ret_xp = xp;
	return 0;
}

int disp_detach_xcrs(struct dp *dp, const char *ifname, int ifindex,
		     __u32 keep_id)
{
	struct xdp_program *old[XCRS_DISPATCH_MAX];
	struct xdp_multiprog *mp;
	size_t n;
	int r = disp_find(dp, ifname, ifindex, &mp);

	if (r != 1)
		return r < 0 ? r : 0;
	n = xcrs_progs(mp, keep_id, old, XCRS_DISPATCH_MAX);
	r = n ? xdp_program__detach_multi(old, n, ifindex,
					  xdp_multiprog__attach_mode(mp), 0) :
		0;
	xdp_multiprog__close(mp);
	if (r)
		return dp_fail(dp, r, "%s: removing xcrs from libxdp's "
				"dispatcher", ifname);
	return (int)n;
}

__u32 disp_prog_id(struct xdp_program *xp)
{
	return xdp_program__id(xp);
}

void disp_close(struct xdp_program *xp)
{
	if (xp)
		xdp_program__close(xp);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	return log_lib_vprint("libxdp", level == LIBXDP_WARN, fmt, ap);
}

void disp_log_hook(void)
{
	libxdp_set_print(libxdp_print);
}
