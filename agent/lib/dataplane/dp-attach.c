// SPDX-License-Identifier: GPL-2.0-only
/*
 * The dataplane library (see dataplane.h): Interfaces: a pinned BPF link per interface (replaced in place by the
 * next version), the program instances per role, GTP-U spreading.
 */
#include "dp-internal.h"

/* ---- addresses ---- */

bool dp_addr_is_v4(const struct xcrs_addr *a)
{
	return addr_is_v4(a);
}

int dp_addr_parse(const char *s, struct xcrs_addr *ret_addr)
{
	return addr_parse(s, ret_addr);
}

int dp_prefix_parse(const char *s, struct xcrs_addr *ret_addr,
		    unsigned *ret_plen)
{
	return addr_prefix_parse(s, ret_addr, ret_plen);
}

void dp_addr_format(const struct xcrs_addr *a, char *buf, size_t len)
{
	addr_format(a, buf, len);
}

static int ifindex_of(struct dp *dp, const char *ifname)
{
	unsigned idx = if_nametoindex(ifname);

	if (!idx)
		return dp_fail(dp, -ENODEV, "no interface named %s", ifname);
	return (int)idx;
}

/* Finds our program in the interface's dispatcher: 1 found (ret_mp set,
 * *ret_prog the program or NULL for a legacy single program), 0 not. */
/* Attachments are BPF links (BPF_LINK_TYPE_XDP), pinned as
 * <pin_dir>/link_<ifname> so that the next process finds them without
 * CAP_SYS_ADMIN (which enumerating programs by id would need) and can
 * swap the program in place with bpf_link_update(): no moment without a
 * program, no packet judged by none. */
static void link_path(const struct dp *dp, const char *ifname, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s/link_%s", dp->pin_dir, ifname);
}

static struct dp_attachment *att_of(struct dp *dp, const char *ifname)
{
	for (size_t i = 0; i < dp->natt; i++)
		if (!strcmp(dp->att[i].ifname, ifname))
			return &dp->att[i];
	return NULL;
}

static void att_remove(struct dp *dp, struct dp_attachment *a)
{
	if (a->link_fd >= 0)
		close(a->link_fd);
	disp_close(a->xp);
	xcrs_bpf__destroy(a->skel);
	*a = dp->att[--dp->natt];
}

/* Records what now runs on ifname (a link or a dispatcher's program),
 * in place of what this process had there. */
static int att_set(struct dp *dp, const char *ifname, struct xcrs_bpf *s,
		   int link_fd, struct xdp_program *xp)
{
	struct dp_attachment *a = att_of(dp, ifname);

	if (a) {
		if (a->link_fd >= 0 && a->link_fd != link_fd)
			close(a->link_fd);
		if (a->xp != xp)
			disp_close(a->xp);
		xcrs_bpf__destroy(a->skel);
	} else {
		a = realloc(dp->att, (dp->natt + 1) * sizeof(*a));
		if (!a)
			return -ENOMEM;
		dp->att = a;
		a = &dp->att[dp->natt++];
		snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	}
	a->skel = s;
	a->link_fd = link_fd;
	a->xp = xp;
	return 0;
}

/* The link attaching xcrs to ifindex: this process's, or the pinned one
 * of an earlier process. 1 with a new fd in *ret_fd, 0 if none, -errno.
 * A pin whose link no longer holds the interface (the interface went
 * away) is removed. */
static int find_link(struct dp *dp, const char *ifname, int ifindex,
		     int *ret_fd)
{
	struct dp_attachment *a = att_of(dp, ifname);
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	if (a && a->link_fd >= 0) {
		fd = dup(a->link_fd);
		if (fd < 0)
			return dp_fail(dp, -errno, "%s: link", ifname);
	} else {
		if (!dp->pin_dir)
			return 0;
		link_path(dp, ifname, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd < 0 && errno == ENOENT)
			return 0;
		if (fd < 0)
			return dp_fail(dp, -errno, "opening %s", path);
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int r = -errno;

		close(fd);
		return dp_fail(dp, r, "reading the link of %s", ifname);
	}
	if (info.type != BPF_LINK_TYPE_XDP ||
	    info.xdp.ifindex != (__u32)ifindex) {
		close(fd);
		if (a && a->link_fd >= 0) {
			att_remove(dp, a);
		} else {
			link_path(dp, ifname, path, sizeof(path));
			unlink(path);
		}
		return 0;
	}
	*ret_fd = fd;
	return 1;
}

/* Whether an xcrs program runs in ifname's libxdp dispatcher: 1 yes, 0
 * no (or no dispatcher is used here), -errno. */
static int in_dispatcher(struct dp *dp, const char *ifname, int ifindex)
{
	struct xdp_multiprog *mp;
	int r;

	if (!disp_usable(dp))
		return 0;
	r = disp_find(dp, ifname, ifindex, &mp);
	if (r != 1)
		return r < 0 ? r : 0;
	r = disp_count_xcrs(mp) > 0;
	xdp_multiprog__close(mp);
	return r;
}

int dp_attached_via(struct dp *dp, const char *ifname)
{
	int idx = ifindex_of(dp, ifname), r, fd;

	if (idx < 0)
		return idx;
	r = find_link(dp, ifname, idx, &fd);
	if (r > 0) {
		close(fd);
		r = DP_VIA_LINK;
	} else if (r == 0) {
		r = in_dispatcher(dp, ifname, idx);
		if (r > 0)
			r = DP_VIA_DISPATCHER;
	}
	if (r >= 0)
		dp_ok(dp);
	return r;
}

int dp_attached(struct dp *dp, const char *ifname)
{
	int r = dp_attached_via(dp, ifname);

	return r > 0 ? 1 : r;
}

int dp_dispatcher_usable(struct dp *dp, const char **ret_why)
{
	bool ok = disp_usable(dp);

	if (ret_why)
		*ret_why = ok ? NULL : disp_why(dp);
	return ok;
}

/* The spreading CPUs into the instance's rodata (before load). */
static int spread_config(struct dp *dp, struct xcrs_bpf *s,
			 const struct dp_attach_opts *o, const char *ifname)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = 0;

	if (o->spread == XCRS_SPREAD_OFF)
		return 0;
	if (o->spread != XCRS_SPREAD_TEID && o->spread != XCRS_SPREAD_INNER)
		return dp_fail(dp, -EINVAL, "%s: spread mode %d", ifname,
			       (int)o->spread);
	if (o->nspread_cpus) {
		for (unsigned i = 0; i < o->nspread_cpus; i++) {
			if (n == XCRS_SPREAD_CPUS_MAX ||
			    o->spread_cpus[i] >= XCRS_SPREAD_CPUS_MAX ||
			    (online > 0 && o->spread_cpus[i] >= online))
				return dp_fail(dp, -EINVAL,
					       "%s: spread CPU %u: not one of "
					       "the %ld online CPUs (at most "
					       "%d)",
					       ifname, o->spread_cpus[i], online,
					       XCRS_SPREAD_CPUS_MAX);
			s->rodata->xcrs_spread_cpu[n++] = o->spread_cpus[i];
		}
	} else {
		for (long c = 0; c < online && n < XCRS_SPREAD_CPUS_MAX; c++)
			s->rodata->xcrs_spread_cpu[n++] = (__u32)c;
	}
	s->rodata->xcrs_spread = (__u8)o->spread;
	s->rodata->xcrs_spread_n = n;
	return 0;
}

/* The cpumap entries: each spreading CPU runs the instance's second
 * stage. */
static int spread_fill(struct dp *dp, struct xcrs_bpf *s, const char *ifname)
{
	int fd = bpf_map__fd(s->maps.xcrs_cpus);

	for (__u32 i = 0; i < s->rodata->xcrs_spread_n; i++) {
		__u32 cpu = s->rodata->xcrs_spread_cpu[i];
		struct bpf_cpumap_val v = {
			.qsize = 2048,
			.bpf_prog.fd = bpf_program__fd(s->progs.xcrs_xdp_cpumap),
		};

		if (bpf_map_update_elem(fd, &cpu, &v, 0))
			return dp_fail(dp, -errno, "%s: spreading to CPU %u",
				       ifname, cpu);
	}
	if (s->rodata->xcrs_spread_n)
		log_info("%s: G-PDUs spread over %u CPUs by %s", ifname,
			 s->rodata->xcrs_spread_n,
			 s->rodata->xcrs_spread == XCRS_SPREAD_TEID ? "TEID" :
								      "inner address");
	return 0;
}

static const char *mode_name(enum dp_xdp_mode m)
{
	return m == DP_MODE_NATIVE ? "native" : "generic";
}

/* Which way onto the interface, when xcrs is not there by a link yet:
 * 1 libxdp's dispatcher, 0 a link of its own, -errno. */
static int choose_dispatcher(struct dp *dp, const char *ifname, int idx,
			     enum dp_attach_via via)
{
	struct xdp_multiprog *mp;
	int r;

	if (via == DP_VIA_LINK)
		return 0;
	if (!disp_usable(dp)) {
		if (via == DP_VIA_DISPATCHER)
			return dp_fail(dp, -EOPNOTSUPP,
				       "%s: attach: dispatcher, but libxdp's "
				       "dispatcher cannot be used here (%s)",
				       ifname, disp_why(dp));
		return 0;
	}
	r = disp_find(dp, ifname, idx, &mp);
	if (r == 1)
		xdp_multiprog__close(mp);
	if (r == 2)
		return dp_fail(dp, -EBUSY,
			       "attaching xcrs to %s: another XDP program is "
			       "attached there alone (not through libxdp's "
			       "dispatcher): detach it, or attach it with "
			       "libxdp (xdp-loader) to share the interface",
			       ifname);
	return r < 0 ? r : 1;
}

/* The link path: a new link, or the program of the existing one replaced
 * in place (link >= 0). */
static int attach_link(struct dp *dp, const char *ifname, int idx,
		       struct xcrs_bpf *s, int link,
		       const struct dp_attach_opts *o)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	enum dp_xdp_mode mode = o->mode;
	char path[PATH_MAX];
	int r, prog;

	r = load_instance(dp, s);
	if (!r)
		r = spread_fill(dp, s, ifname);
	if (r) {
		if (link >= 0)
			close(link);
		xcrs_bpf__destroy(s);
		return r;
	}
	prog = bpf_program__fd(s->progs.xcrs_xdp);
	if (link >= 0) {
		/* In place: the interface never runs without xcrs. */
		if (bpf_link_update(link, prog, NULL)) {
			r = -errno;
			close(link);
			xcrs_bpf__destroy(s);
			return dp_fail(dp, r, "replacing the program on %s",
				       ifname);
		}
		if (att_of(dp, ifname) && att_of(dp, ifname)->link_fd >= 0) {
			close(link); /* this process holds it already */
			link = att_of(dp, ifname)->link_fd;
		}
		if (att_set(dp, ifname, s, link, NULL)) {
			close(link);
			xcrs_bpf__destroy(s);
			return dp_fail(dp, -ENOMEM, "attaching to %s", ifname);
		}
		log_info("%s: program replaced in place (%s)", ifname,
			 abi_role_name(o->role));
		return dp_ok(dp);
	}
	lo.flags = mode == DP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE :
					    XDP_FLAGS_SKB_MODE;
	link = bpf_link_create(prog, idx, BPF_XDP, &lo);
	if (link < 0 && mode == DP_MODE_NATIVE && o->allow_fallback &&
	    errno != EBUSY) {
		log_warn("%s: native XDP failed (%s), falling back to generic "
			 "mode",
			 ifname, strerror(errno));
		mode = DP_MODE_SKB;
		lo.flags = XDP_FLAGS_SKB_MODE;
		link = bpf_link_create(prog, idx, BPF_XDP, &lo);
	}
	if (link < 0) {
		r = -errno;
		xcrs_bpf__destroy(s);
		if (r == -EBUSY)
			return dp_fail(dp, r,
				       "attaching xcrs to %s: another XDP "
				       "program is attached there%s",
				       ifname,
				       disp_usable(dp) ?
					       "" :
					       " (a libxdp dispatcher can "
					       "only be joined where it "
					       "works: see the log)");
		return dp_fail(dp, r, "attaching xcrs to %s in %s mode",
			       ifname, mode_name(mode));
	}
	if (dp->pin_dir) {
		link_path(dp, ifname, path, sizeof(path));
		if (bpf_obj_pin(link, path)) {
			r = -errno;
			close(link); /* detaches: nothing half done */
			xcrs_bpf__destroy(s);
			return dp_fail(dp, r, "pinning the link of %s at %s",
				       ifname, path);
		}
	}
	if (att_set(dp, ifname, s, link, NULL)) {
		close(link);
		xcrs_bpf__destroy(s);
		return dp_fail(dp, -ENOMEM, "attaching to %s", ifname);
	}
	log_info("attached to %s as %s, %s mode", ifname,
		 abi_role_name(o->role), mode_name(mode));
	return dp_ok(dp);
}

/* The dispatcher path: the new program joins the dispatcher (made when
 * there is none), then the xcrs programs that were there leave it. */
static int attach_dispatcher(struct dp *dp, const char *ifname, int idx,
			     struct xcrs_bpf *s,
			     const struct dp_attach_opts *o)
{
	enum dp_xdp_mode mode = o->mode;
	struct xdp_multiprog *mp;
	struct xdp_program *xp;
	int r, old;

	/* a dispatcher already there has its mode: xcrs joins it in that
	 * one (native asked, generic there: only with the fallback) */
	r = disp_find(dp, ifname, idx, &mp);
	if (r == 1) {
		enum dp_xdp_mode there =
			xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ?
				DP_MODE_SKB :
				DP_MODE_NATIVE;

		xdp_multiprog__close(mp);
		if (there != mode && !(there == DP_MODE_SKB && o->allow_fallback)) {
			xcrs_bpf__destroy(s);
			return dp_fail(dp, -EBUSY,
				       "%s: libxdp's dispatcher there runs in "
				       "%s mode; xcrs is asked for %s mode",
				       ifname, mode_name(there),
				       mode_name(mode));
		}
		mode = there;
	} else if (r < 0) {
		xcrs_bpf__destroy(s);
		return r;
	}
	r = disp_attach(dp, ifname, idx, s, mode, &xp);
	if (r && mode == DP_MODE_NATIVE && o->allow_fallback && r != -EBUSY) {
		log_warn("%s: native XDP through the dispatcher failed (%s), "
			 "falling back to generic mode",
			 ifname, dp->err);
		xcrs_bpf__destroy(s);
		s = NULL;
		mode = DP_MODE_SKB;
		r = open_instance(dp, o->role, !o->no_gtpu, &s);
		if (!r)
			r = spread_config(dp, s, o, ifname);
		if (!r)
			r = disp_attach(dp, ifname, idx, s, mode, &xp);
	}
	if (r) {
		if (s)
			xcrs_bpf__destroy(s);
		return r;
	}
	/* until the cpumap is filled, G-PDUs are judged where they
	 * arrive (a redirect to an empty slot fails) */
	r = spread_fill(dp, s, ifname);
	old = r ? 0 : disp_detach_xcrs(dp, ifname, idx, disp_prog_id(xp));
	if (r || old < 0) {
		/* the new program leaves again; the old ones stay */
		char err[sizeof(dp->err)];

		snprintf(err, sizeof(err), "%s", dp->err);
		xdp_program__detach(xp, idx,
				    mode == DP_MODE_NATIVE ? XDP_MODE_NATIVE :
							     XDP_MODE_SKB,
				    0);
		disp_close(xp);
		xcrs_bpf__destroy(s);
		snprintf(dp->err, sizeof(dp->err), "%s", err);
		return r ? r : old;
	}
	if (att_set(dp, ifname, s, -1, xp)) {
		/* it runs; this process just does not hold it */
		disp_close(xp);
		xcrs_bpf__destroy(s);
		return dp_fail(dp, -ENOMEM, "attaching to %s", ifname);
	}
	if (old)
		log_info("%s: program replaced in place in libxdp's "
			 "dispatcher (%s; the new one ran beside the old one "
			 "until that left)",
			 ifname, abi_role_name(o->role));
	else
		log_info("attached to %s as %s through libxdp's dispatcher "
			 "(priority %d), %s mode",
			 ifname, abi_role_name(o->role), XCRS_DISPATCH_PRIO,
			 mode_name(mode));
	return dp_ok(dp);
}

int dp_attach(struct dp *dp, const char *ifname,
	      const struct dp_attach_opts *o)
{
	struct xcrs_bpf *s = NULL;
	int idx, r, link = -1;

	idx = ifindex_of(dp, ifname);
	if (idx < 0)
		return idx;
	r = open_instance(dp, o->role, !o->no_gtpu, &s);
	if (!r)
		r = spread_config(dp, s, o, ifname);
	if (!r)
		r = find_link(dp, ifname, idx, &link);
	if (r < 0) {
		if (s)
			xcrs_bpf__destroy(s);
		return r;
	}
	/* xcrs holds the interface by a link (this version or an earlier
	 * one): it stays on it, replaced in place */
	if (r > 0) {
		if (o->via == DP_VIA_DISPATCHER)
			log_warn("%s: xcrs is attached by a BPF link: it stays "
				 "on it (detach it to move into libxdp's "
				 "dispatcher)",
				 ifname);
		return attach_link(dp, ifname, idx, s, link, o);
	}
	r = choose_dispatcher(dp, ifname, idx, o->via);
	if (r < 0) {
		xcrs_bpf__destroy(s);
		return r;
	}
	return r ? attach_dispatcher(dp, ifname, idx, s, o) :
		   attach_link(dp, ifname, idx, s, -1, o);
}

int dp_detach(struct dp *dp, const char *ifname)
{
	struct dp_attachment *a;
	char path[PATH_MAX];
	int idx, r, link;

	idx = ifindex_of(dp, ifname);
	if (idx < 0)
		return idx;
	r = find_link(dp, ifname, idx, &link);
	if (r < 0)
		return r;
	if (!r) {
		r = in_dispatcher(dp, ifname, idx);
		if (r < 0)
			return r;
		if (!r)
			return dp_fail(dp, -ENOENT,
				       "xcrs is not attached to %s", ifname);
		r = disp_detach_xcrs(dp, ifname, idx, 0);
		if (r < 0)
			return r;
		a = att_of(dp, ifname);
		if (a)
			att_remove(dp, a);
		log_info("detached from %s (libxdp's dispatcher)", ifname);
		return dp_ok(dp);
	}
	r = bpf_link_detach(link) ? -errno : 0;
	close(link);
	if (r)
		return dp_fail(dp, r, "detaching xcrs from %s", ifname);
	if (dp->pin_dir) {
		link_path(dp, ifname, path, sizeof(path));
		unlink(path);
	}
	a = att_of(dp, ifname);
	if (a)
		att_remove(dp, a);
	log_info("detached from %s", ifname);
	return dp_ok(dp);
}

int dp_prog_fd(struct dp *dp, enum xcrs_role role, bool gtpu)
{
	struct xcrs_bpf **slot;
	int r;

	if (role != XCRS_ROLE_ACCESS && role != XCRS_ROLE_CORE)
		return dp_fail(dp, -EINVAL, "unknown role %d", role);
	slot = &dp->inst[role][gtpu ? 1 : 0];
	if (!*slot) {
		struct xcrs_bpf *s;

		r = open_instance(dp, role, gtpu, &s);
		if (r)
			return r;
		r = load_instance(dp, s);
		if (r) {
			xcrs_bpf__destroy(s);
			return r;
		}
		*slot = s;
	}
	dp_ok(dp);
	return bpf_program__fd((*slot)->progs.xcrs_xdp);
}
