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
	close(a->link_fd);
	xcrs_bpf__destroy(a->skel);
	*a = dp->att[--dp->natt];
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

	if (a) {
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
		if (a) {
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

int dp_attached(struct dp *dp, const char *ifname)
{
	int idx = ifindex_of(dp, ifname), r, fd;

	if (idx < 0)
		return idx;
	r = find_link(dp, ifname, idx, &fd);
	if (r > 0)
		close(fd);
	if (r >= 0)
		dp_ok(dp);
	return r;
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

int dp_attach(struct dp *dp, const char *ifname,
	      const struct dp_attach_opts *o)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	struct dp_attachment *att, *old;
	enum dp_xdp_mode mode = o->mode;
	char path[PATH_MAX];
	struct xcrs_bpf *s = NULL;
	int idx, r, link, prog;

	idx = ifindex_of(dp, ifname);
	if (idx < 0)
		return idx;
	r = open_instance(dp, o->role, !o->no_gtpu, &s);
	if (!r)
		r = spread_config(dp, s, o, ifname);
	if (!r)
		r = load_instance(dp, s);
	if (!r)
		r = spread_fill(dp, s, ifname);
	if (r) {
		if (s)
			xcrs_bpf__destroy(s);
		return r;
	}
	prog = bpf_program__fd(s->progs.xcrs_xdp);
	r = find_link(dp, ifname, idx, &link);
	if (r < 0) {
		xcrs_bpf__destroy(s);
		return r;
	}
	if (r > 0) {
		/* In place: the interface never runs without xcrs. */
		if (bpf_link_update(link, prog, NULL)) {
			r = -errno;
			close(link);
			xcrs_bpf__destroy(s);
			return dp_fail(dp, r, "replacing the program on %s",
				       ifname);
		}
		old = att_of(dp, ifname);
		if (old) {
			close(link);
			xcrs_bpf__destroy(old->skel);
			old->skel = s;
		} else {
			att = realloc(dp->att, (dp->natt + 1) * sizeof(*att));
			if (!att) {
				close(link);
				xcrs_bpf__destroy(s);
				return dp_fail(dp, -ENOMEM, "attaching to %s",
					       ifname);
			}
			dp->att = att;
			att = &dp->att[dp->natt++];
			snprintf(att->ifname, sizeof(att->ifname), "%s",
				 ifname);
			att->skel = s;
			att->link_fd = link;
		}
		log_info("%s: program replaced in place (%s)", ifname,
			 abi_role_name(o->role));
		return dp_ok(dp);
	}
	att = realloc(dp->att, (dp->natt + 1) * sizeof(*att));
	if (!att) {
		xcrs_bpf__destroy(s);
		return dp_fail(dp, -ENOMEM, "attaching to %s", ifname);
	}
	dp->att = att;
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
				       "program is attached there",
				       ifname);
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
	att = &dp->att[dp->natt++];
	snprintf(att->ifname, sizeof(att->ifname), "%s", ifname);
	att->skel = s;
	att->link_fd = link;
	log_info("attached to %s as %s, %s mode", ifname,
		 abi_role_name(o->role), mode_name(mode));
	return dp_ok(dp);
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
	if (!r)
		return dp_fail(dp, -ENOENT, "xcrs is not attached to %s",
			       ifname);
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
