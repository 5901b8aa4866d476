// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinned state: the maps live under a bpffs directory so that a restarted
 * agent finds the enforcement it left. A second open reuses them; a size or
 * layout that does not match is refused with the path at fault and the
 * directory is left as it was; a failed first open leaves nothing behind.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <criterion/criterion.h>

#include "netns.h"
#include "pktbuild.h"
#include "xdptest.h"

/* every map of XCRS_MAPS */
#define NMAPS 19

static char pins[256];
static struct dp *dp;

static void setup(void)
{
	tn_sweep();
	tn_pin_dir(pins, sizeof(pins), "pins");
	tn_rm_pins(pins);
}

static void teardown(void)
{
	dp_close(dp);
	dp = NULL;
	tn_rm_pins(pins);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int open_pinned(struct dp **ret, __u32 max_subs, char *err,
		       size_t errlen)
{
	struct dp_config cfg = { .pin_dir = pins, .max_subs = max_subs,
				 .max_tracked = 1024 };

	return dp_open(&cfg, ret, err, errlen);
}

Test(pins, state_survives_a_reopen, .init = setup, .fini = teardown)
{
	struct xcrs_sub s = { .scope = 4, .level = L_BLOCKED,
			      .base_level = L_NORMAL };
	struct xcrs_scope sc = { .mode = XCRS_CONTAIN_NO_LATERAL }, got_sc;
	struct xcrs_sub got;
	struct xcrs_addr a;
	struct dp_policy p;
	struct pb_frame f = { .ip = { .family = 4, .src = "192.0.2.40",
				      .dst = XT_DNS4, .proto = IPPROTO_UDP,
				      .dport = 53 } };
	uint8_t b[PB_MAX];
	size_t n = pb_build(&f, b, sizeof(b), NULL);
	struct xt_result r;
	uint32_t gen0, gen1;
	char err[512];

	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	cr_expect_not(dp_reused_pins(dp));
	cr_expect_eq(count_entries(pins), NMAPS, "one pin per map");
	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_assert_eq(dp_addr_parse("192.0.2.40", &a), 0);
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0);
	cr_assert_eq(dp_scope_set(dp, 4, &sc), 0);
	cr_assert_eq(xt_run(dp, XCRS_ROLE_ACCESS, false, b, n, &r), 0);
	cr_assert_eq(r.xdp, XDP_DROP);
	cr_assert_eq(dp_policy_generation(dp, &gen0), 0);
	dp_close(dp);
	dp = NULL;

	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	cr_expect(dp_reused_pins(dp));
	/* the counts and slots came from the kept records, not from
	 * reading every entry */
	cr_expect_eq(dp_reopen_kept(dp), 1);
	cr_assert_eq(dp_sub_get(dp, &a, &got), 0);
	cr_expect_eq(got.level, L_BLOCKED);
	cr_expect_eq(got.base_level, L_NORMAL);
	cr_expect_eq(got.scope, 4);
	cr_assert_eq(dp_scope_get(dp, 4, &got_sc), 0);
	cr_expect_eq(got_sc.mode, XCRS_CONTAIN_NO_LATERAL);
	cr_assert_eq(dp_policy_generation(dp, &gen1), 0);
	cr_expect_eq(gen0, gen1);
	/* A fresh program instance of the new process sees the old state,
	 * counters included. */
	cr_assert_eq(xt_run(dp, XCRS_ROLE_ACCESS, false, b, n, &r), 0);
	cr_expect_eq(r.xdp, XDP_DROP);
	cr_expect_eq(r.reason, XCRS_R_LEVEL);
	{
		struct xcrs_sub_counters c;

		cr_assert_eq(dp_sub_stats_read(dp, &a, &c), 0);
		cr_expect_eq(c.drop.packets, 2);
	}
	/* The new process knows which counter slots are taken and which
	 * levels are reacted: a newly reacted host gets its own counters,
	 * the old host keeps its. */
	{
		struct xcrs_sub q = { .level = L_QUARANTINED,
				      .base_level = L_NORMAL };
		struct xcrs_sub_counters c;
		struct xcrs_addr a2;

		cr_assert_eq(dp_addr_parse("192.0.2.41", &a2), 0);
		cr_assert_eq(dp_sub_set(dp, &a2, &q), 0);
		cr_assert_eq(dp_sub_stats_read(dp, &a2, &c), 0, "%s",
			     dp_errmsg(dp));
		cr_expect_eq(c.drop.packets, 0);
		cr_assert_eq(dp_sub_stats_read(dp, &a, &c), 0);
		cr_expect_eq(c.drop.packets, 2, "the old host's slot was given "
			     "again");
	}

	cr_assert_eq(dp_unpin(dp), 0, "%s", dp_errmsg(dp));
	cr_expect_eq(count_entries(pins), -ENOENT, "pin directory remains");
}

Test(pins, another_size_is_refused_and_nothing_changes, .init = setup,
     .fini = teardown)
{
	struct dp *dp2 = NULL;
	char err[512];
	int r;

	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	r = open_pinned(&dp2, 2048, err, sizeof(err));
	cr_assert_eq(r, -EINVAL, "got %d: %s", r, err);
	cr_expect(strstr(err, "subscriber map"), "%s", err);
	cr_expect(strstr(err, "holds 1024 entries"), "%s", err);
	cr_expect(strstr(err, "asks for 2048"), "%s", err);
	cr_expect(strstr(err, pins), "%s", err);
	cr_expect_eq(count_entries(pins), NMAPS);
	cr_assert_eq(open_pinned(&dp2, 1024, err, sizeof(err)), 0, "%s", err);
	dp_close(dp2);
}

Test(pins, foreign_map_is_refused_and_a_first_open_leaves_nothing,
     .init = setup, .fini = teardown)
{
	char path[300], err[512];
	int fd, r;

	/* Something else sits where the subscriber map belongs. */
	cr_assert_eq(mkdir(pins, 0700), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "foreign", 4, 4, 8, NULL);
	cr_assert_geq(fd, 0);
	snprintf(path, sizeof(path), "%s/xcrs_sub4", pins);
	cr_assert_eq(bpf_obj_pin(fd, path), 0);

	r = open_pinned(&dp, 0, err, sizeof(err));
	cr_assert_eq(r, -EINVAL, "got %d: %s", r, err);
	cr_expect(strstr(err, "another layout"), "%s", err);
	cr_expect(strstr(err, path), "%s", err);
	cr_expect_eq(count_entries(pins), 1, "the failed open left pins");
	/* and where version 1's subscriber map was */
	cr_assert_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/xcrs_subs", pins);
	cr_assert_eq(bpf_obj_pin(fd, path), 0);
	close(fd);
	r = open_pinned(&dp, 0, err, sizeof(err));
	cr_assert_eq(r, -EINVAL, "got %d: %s", r, err);
	cr_expect(strstr(err, "not the subscriber map of xcrs 1"), "%s", err);
	cr_expect(strstr(err, path), "%s", err);
	cr_expect_eq(count_entries(pins), 1, "the failed open left pins");
}

/*
 * The pins of the version before the split of the subscriber map (ABI 1:
 * one xcrs_subs, 16-byte keys, struct xcrs_sub values): a new agent's open
 * moves every entry to xcrs_sub4, xcrs_sub64 and xcrs_sub6, keeps the
 * counter slots taken, enforces them at once and removes the old pin.
 */
Test(pins, a_version_1_subscriber_map_is_migrated, .init = setup,
     .fini = teardown)
{
	struct {
		const char *addr;
		struct xcrs_sub s;
	} old[] = {
		{ "192.0.2.40", { .scope = 3, .level = L_BLOCKED,
				  .base_level = L_NORMAL, .stats_slot = 7 } },
		{ "2001:db8:64:1::", { .level = L_QUARANTINED,
				       .base_level = L_QUARANTINED,
				       .flags = XCRS_SUB_F_PREFIX64,
				       .stats_slot = 8 } },
		{ "2001:db8:7::5", { .level = L_NORMAL,
				     .base_level = XCRS_SUB_BASE_NONE,
				     .expires_ns = 1ULL << 62 } },
	};
	struct pb_frame f = { .ip = { .family = 4, .src = "192.0.2.40",
				      .dst = XT_DNS4, .proto = IPPROTO_UDP,
				      .dport = 53 } };
	uint8_t b[PB_MAX];
	size_t n = pb_build(&f, b, sizeof(b), NULL);
	struct xt_result r;
	struct dp_policy p;
	char path[300], err[512];
	int fd;

	cr_assert_eq(mkdir(pins, 0700), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "xcrs_subs",
			    sizeof(struct xcrs_addr), sizeof(struct xcrs_sub),
			    4096, NULL);
	cr_assert_geq(fd, 0);
	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		struct xcrs_addr a;

		cr_assert_eq(dp_addr_parse(old[i].addr, &a), 0);
		cr_assert_eq(bpf_map_update_elem(fd, &a, &old[i].s, BPF_ANY),
			     0);
	}
	snprintf(path, sizeof(path), "%s/xcrs_subs", pins);
	cr_assert_eq(bpf_obj_pin(fd, path), 0);
	close(fd);

	cr_assert_eq(open_pinned(&dp, 0, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(access(path, F_OK), -1, "the version 1 pin stays");
	cr_expect_eq(count_entries(pins), NMAPS);
	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		struct xcrs_addr a;
		struct xcrs_sub got;

		cr_assert_eq(dp_addr_parse(old[i].addr, &a), 0);
		cr_assert_eq(dp_sub_get(dp, &a, &got), 0, "%s: %s",
			     old[i].addr, dp_errmsg(dp));
		cr_expect_eq(got.level, old[i].s.level, "%s", old[i].addr);
		cr_expect_eq(got.base_level, old[i].s.base_level, "%s",
			     old[i].addr);
		cr_expect_eq(got.scope, old[i].s.scope, "%s", old[i].addr);
		cr_expect_eq(got.flags, old[i].s.flags, "%s", old[i].addr);
		cr_expect_eq(got.expires_ns, old[i].s.expires_ns, "%s",
			     old[i].addr);
		cr_expect_eq(got.stats_slot, old[i].s.stats_slot, "%s",
			     old[i].addr);
	}
	{
		__u64 cap, used = dp_slots_used(dp, &cap);

		cr_expect_eq(used, 2, "the migrated slots are not taken");
	}
	cr_expect_eq(dp_subs_count(dp, NULL), 1);
	/* the map's size was adopted: 4096 */
	{
		struct dp_map_fill fill[DP_MAPS_MAX];
		int nf = dp_fill(dp, fill);
		bool seen = false;

		for (int i = 0; i < nf; i++)
			if (!strcmp(fill[i].name, "xcrs_sub4")) {
				seen = true;
				cr_expect_eq(fill[i].capacity, 4096);
				cr_expect_eq(fill[i].entries, 1);
			}
		cr_expect(seen);
	}
	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_assert_eq(xt_run(dp, XCRS_ROLE_ACCESS, false, b, n, &r), 0);
	cr_expect_eq(r.xdp, XDP_DROP);
	cr_expect_eq(r.reason, XCRS_R_LEVEL);
	f.ip.family = 6;
	f.ip.src = "2001:db8:64:1:a:b:c:d";
	f.ip.dst = XT_OTHER6;
	f.ip.dport = 445;
	n = pb_build(&f, b, sizeof(b), NULL);
	cr_assert_eq(xt_run(dp, XCRS_ROLE_ACCESS, false, b, n, &r), 0);
	cr_expect_eq(r.xdp, XDP_DROP, "the migrated /64 is not enforced");
	/* a second open finds the new maps only */
	dp_close(dp);
	dp = NULL;
	cr_assert_eq(open_pinned(&dp, 0, err, sizeof(err)), 0, "%s", err);
	cr_expect(dp_reused_pins(dp));
	cr_expect_eq(dp_reopen_kept(dp), 1, "the migration kept no records");
	cr_expect_eq(dp_slots_used(dp, NULL), 2);
}

/* A reacted host at addr, and the counter slot it was given. */
static __u32 react_at(const char *addr)
{
	struct xcrs_sub s = { .level = L_BLOCKED, .base_level = L_NORMAL },
			got;
	struct xcrs_addr a;

	cr_assert_eq(dp_addr_parse(addr, &a), 0);
	cr_assert_eq(dp_sub_set(dp, &a, &s), 0, "%s", dp_errmsg(dp));
	cr_assert_eq(dp_sub_get(dp, &a, &got), 0);
	return got.stats_slot;
}

static __u32 slot_of_host(const char *addr)
{
	struct xcrs_sub got;
	struct xcrs_addr a;

	cr_assert_eq(dp_addr_parse(addr, &a), 0);
	cr_assert_eq(dp_sub_get(dp, &a, &got), 0, "%s", addr);
	return got.stats_slot;
}

static __u64 fill_of(const char *map)
{
	struct dp_map_fill fill[DP_MAPS_MAX];
	int nf = dp_fill(dp, fill);

	for (int i = 0; i < nf; i++)
		if (!strcmp(fill[i].name, map))
			return fill[i].entries;
	cr_assert_fail("no map %s", map);
	return 0;
}

static int pinned_fd(const char *name)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pins, name);
	fd = bpf_obj_get(path);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	return fd;
}

/* A restart over pinned maps reads the slot records, not the entries:
 * each record is checked against its entry, so that what a crash between
 * two writes left (a record whose entry is gone, or was never written)
 * frees its slot, and the counts come back as they were kept. */
Test(pins, a_reopen_takes_the_kept_slot_records_and_checks_each,
     .init = setup, .fini = teardown)
{
	struct xcrs_sub plain = { .level = L_NORMAL,
				  .base_level = L_NORMAL };
	struct xcrs_slot_rec stale = { .map = 1 };
	struct xcrs_addr a;
	struct dp_policy p;
	char err[512];
	__u32 k, gone;
	int fd;

	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_expect_eq(react_at("192.0.2.1"), 1);
	cr_expect_eq(gone = react_at("192.0.2.2"), 2);
	cr_expect_eq(react_at("192.0.2.3"), 3);
	cr_expect_eq(react_at("2001:db8:5::1"), 4);
	for (int i = 10; i < 20; i++) {
		char t[32];

		snprintf(t, sizeof(t), "192.0.2.%d", i);
		cr_assert_eq(dp_addr_parse(t, &a), 0);
		cr_assert_eq(dp_sub_set(dp, &a, &plain), 0);
	}
	cr_expect_eq(fill_of("xcrs_sub4"), 13);
	cr_expect_eq(fill_of("xcrs_sub6"), 1);
	dp_close(dp);
	dp = NULL;
	/* what a crash leaves: 192.0.2.2's entry removed but its record
	 * not cleared; a record written for 192.0.2.99 whose entry never
	 * came */
	fd = pinned_fd("xcrs_sub4");
	k = 0x020200c0; /* 192.0.2.2, network order */
	cr_assert_eq(bpf_map_delete_elem(fd, &k), 0);
	close(fd);
	fd = pinned_fd("xcrs_slot_owners");
	cr_assert_eq(dp_addr_parse("192.0.2.99", &stale.addr), 0);
	k = 6;
	cr_assert_eq(bpf_map_update_elem(fd, &k, &stale, BPF_ANY), 0);
	/* and slot 8 recorded for 192.0.2.3, which holds slot 3 (a fresh
	 * slot given back when the entry turned out to have one) */
	cr_assert_eq(dp_addr_parse("192.0.2.3", &stale.addr), 0);
	k = 8;
	cr_assert_eq(bpf_map_update_elem(fd, &k, &stale, BPF_ANY), 0);
	close(fd);

	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(dp_reopen_kept(dp), 1);
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	/* counts as kept (the entry removed behind the library's back is
	 * not seen: the count lags it, as after a crash) */
	cr_expect_eq(fill_of("xcrs_sub4"), 13);
	cr_expect_eq(fill_of("xcrs_sub6"), 1);
	cr_expect_eq(dp_slots_used(dp, NULL), 3, "slots 1, 3 and 4 are held");
	cr_expect_eq(slot_of_host("192.0.2.1"), 1);
	cr_expect_eq(slot_of_host("192.0.2.3"), 3);
	cr_expect_eq(slot_of_host("2001:db8:5::1"), 4);
	/* the freed slots are given again, the held ones never */
	cr_expect_eq(react_at("192.0.2.50"), gone);
	cr_expect_eq(react_at("192.0.2.51"), 5);
	cr_expect_eq(react_at("192.0.2.52"), 6, "the stale record kept slot 6");
	cr_expect_eq(react_at("192.0.2.53"), 7);
	cr_expect_eq(react_at("192.0.2.54"), 8, "the mismatched record kept "
		     "slot 8");
	/* a removal clears its record: after the next reopen the slot is
	 * free without any check failing */
	cr_assert_eq(dp_addr_parse("192.0.2.1", &a), 0);
	cr_assert_eq(dp_sub_del(dp, &a), 0);
	dp_close(dp);
	dp = NULL;
	fd = pinned_fd("xcrs_slot_owners");
	k = 1;
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, &stale), 0);
	cr_expect_eq(stale.map, 0, "the removed entry's record stays");
	k = 0;
	cr_assert_eq(bpf_map_lookup_elem(fd, &k, &stale), 0);
	cr_expect_eq(stale.map, XCRS_SLOTS_KEPT);
	cr_expect_eq(stale.count[0], 17, "IPv4 entries kept");
	cr_expect_eq(stale.count[2], 1, "IPv6 host entries kept");
	close(fd);
	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(dp_slots_used(dp, NULL), 7);
}

/* Maps pinned by a version that kept no records (no xcrs_slot_owners):
 * the first reopen reads every entry and writes the records, the next
 * one reads the records. */
Test(pins, maps_without_slot_records_are_read_once_then_kept,
     .init = setup, .fini = teardown)
{
	struct dp_policy p;
	char path[300], err[512];

	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	xt_policy(&p, XCRS_LEVEL_PASS);
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_expect_eq(react_at("192.0.2.1"), 1);
	cr_expect_eq(react_at("192.0.2.2"), 2);
	cr_expect_eq(react_at("2001:db8:5::1"), 3);
	dp_close(dp);
	dp = NULL;
	snprintf(path, sizeof(path), "%s/xcrs_slot_owners", pins);
	cr_assert_eq(unlink(path), 0);

	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(dp_reopen_kept(dp), 0, "the entries were not read");
	cr_expect_eq(dp_slots_used(dp, NULL), 3);
	cr_expect_eq(fill_of("xcrs_sub4"), 2);
	cr_expect_eq(fill_of("xcrs_sub6"), 1);
	dp_close(dp);
	dp = NULL;
	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(dp_reopen_kept(dp), 1);
	cr_expect_eq(dp_slots_used(dp, NULL), 3);
	cr_expect_eq(fill_of("xcrs_sub4"), 2);
	cr_assert_eq(dp_policy_apply(dp, &p), 0, "%s", dp_errmsg(dp));
	cr_expect_eq(react_at("192.0.2.3"), 4);
}

Test(pins, directory_not_on_bpffs_is_refused, .init = setup,
     .fini = teardown)
{
	struct dp_config cfg = { .pin_dir = "/tmp/xcrs-t-not-bpffs/x" };
	char err[512];
	int r;

	mkdir("/tmp/xcrs-t-not-bpffs", 0700);
	r = dp_open(&cfg, &dp, err, sizeof(err));
	rmdir("/tmp/xcrs-t-not-bpffs");
	cr_assert_eq(r, -ENOTSUP, "got %d: %s", r, err);
	cr_expect(strstr(err, "/tmp/xcrs-t-not-bpffs is not on a bpf "
			      "filesystem"),
		  "%s", err);
}

Test(pins, failed_first_open_removes_the_directory_it_made, .init = setup,
     .fini = teardown)
{
	struct dp_config cfg = { .pin_dir = pins, .max_subs = 1U << 31,
				 .max_tracked = 1024 };
	char err[512];
	int r;

	/* A subscriber map of 2^31 entries cannot be created. */
	r = dp_open(&cfg, &dp, err, sizeof(err));
	cr_assert_lt(r, 0, "opened a 2^31-entry map?");
	cr_expect(strstr(err, "subscriber map") || strstr(err, "xcrs_subs"), "message: %s", err);
	cr_expect_eq(count_entries(pins), -ENOENT, "pin directory left: %s",
		     err);
}

struct walk_seen {
	int v4, v64, v6;
};

static void walk_count(void *ctx, const struct xcrs_addr *a,
		       const struct xcrs_sub *s)
{
	struct walk_seen *w = ctx;

	if (a->a[0] == 0 && a->a[10] == 0xff)
		w->v4++;
	else if (s->flags & XCRS_SUB_F_PREFIX64)
		w->v64++;
	else
		w->v6++;
}

/* The walk the agent compares the pinned maps with its decisions by:
 * every entry of the three maps once, in steps of at most the count
 * asked for (the loop runs between them), then 0 for good. */
Test(pins, the_subscriber_maps_are_walked_in_steps, .init = setup,
     .fini = teardown)
{
	struct xcrs_sub plain = { .level = L_NORMAL, .base_level = L_NORMAL };
	struct dp_sub_cursor c = { 0 };
	struct walk_seen w = { 0 };
	char err[512], t[64];
	struct xcrs_addr a;
	int r, total = 0, steps = 0;

	cr_assert_eq(open_pinned(&dp, 1024, err, sizeof(err)), 0, "%s", err);
	for (int i = 0; i < 300; i++) {
		snprintf(t, sizeof(t), "198.51.%d.%d", 100 + i / 200, i % 200);
		cr_assert_eq(dp_addr_parse(t, &a), 0);
		cr_assert_eq(dp_sub_set(dp, &a, &plain), 0, "%s", dp_errmsg(dp));
	}
	plain.flags = XCRS_SUB_F_PREFIX64;
	for (int i = 0; i < 5; i++) {
		snprintf(t, sizeof(t), "2001:db8:%x::", 0x100 + i);
		cr_assert_eq(dp_addr_parse(t, &a), 0);
		cr_assert_eq(dp_sub_set(dp, &a, &plain), 0, "%s", dp_errmsg(dp));
	}
	plain.flags = 0;
	for (int i = 0; i < 4; i++) {
		snprintf(t, sizeof(t), "2001:db8:9::%x", 1 + i);
		cr_assert_eq(dp_addr_parse(t, &a), 0);
		cr_assert_eq(dp_sub_set(dp, &a, &plain), 0, "%s", dp_errmsg(dp));
	}
	while ((r = dp_sub_each_step(dp, &c, 64, walk_count, &w)) > 0) {
		cr_expect_leq(r, 64, "a step read %d", r);
		total += r;
		cr_assert_lt(++steps, 100, "the walk does not end");
	}
	cr_expect_eq(r, 0, "%s", dp_errmsg(dp));
	cr_expect_eq(total, 309);
	cr_expect_eq(w.v4, 300);
	cr_expect_eq(w.v64, 5);
	cr_expect_eq(w.v6, 4);
	cr_expect_geq(steps, 5, "in steps");
	cr_expect_eq(dp_sub_each_step(dp, &c, 64, walk_count, &w), 0,
		     "a walk that is over stays over: %s", dp_errmsg(dp));
}
