// SPDX-License-Identifier: GPL-2.0-only
/*
 * The subscriber maps' walk at a restart over pinned maps: a BPF map
 * element iterator that counts a map's entries and writes out the counter
 * slots they hold (one __u32 each), so that reopening 10M entries reads
 * back only the reacted ones instead of copying every entry to userspace.
 * Attached by the dataplane library to one of xcrs_sub4, xcrs_sub64,
 * xcrs_sub6 at a time; read to its end; the count is in .bss.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xcrs_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* The kernel's iterator context, as much of it as the walk reads
 * (relocated against the kernel's BTF). */
struct seq_file;
struct bpf_map;
struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));
struct bpf_iter__bpf_map_elem {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
	void *key;
	void *value;
} __attribute__((preserve_access_index));

__u64 xcrs_walk_entries = 0;

SEC("iter/bpf_map_elem")
int xcrs_sub_walk(struct bpf_iter__bpf_map_elem *ctx)
{
	struct xcrs_sub_ent *v = ctx->value;
	__u32 slot;

	if (!v)
		return 0; /* the end */
	/* An entry whose slot does not fit the read's buffer is shown again
	 * at the next read: it counts once, when written. */
	slot = v->stats_slot;
	if (slot && bpf_seq_write(ctx->meta->seq, &slot, sizeof(slot)))
		return 0;
	xcrs_walk_entries++;
	return 0;
}
