// SPDX-License-Identifier: GPL-2.0
/*
 * The volume as stored (<linux/archip-volume.h>, Documentation/snapshots.rst):
 * the header object "v.NAME", the object set's map and data objects, and
 * the ancestors a volume reads through.  At map time the chain's maps are
 * read, checked and resolved (blk_vfmt.c) into one map in memory: for each
 * object index, the set that has it (dev->osets[source], 0 = the volume's
 * own) or none.
 * Afterwards only the control work changes it (archip_vmap_allocate), and
 * blk-mq reads it.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "blk.h"

/* The map says object @idx was written (by this volume or an ancestor). */
bool archip_obj_exists(struct archip_dev *dev, u64 idx)
{
	return le16_to_cpu(READ_ONCE(dev->map[idx].flags)) & ARCHIP_MAP_EXISTS;
}

/* Written, and this volume's own: no copy-up needed before writing it. */
bool archip_obj_owned(struct archip_dev *dev, u64 idx)
{
	return archip_obj_exists(dev, idx) && !READ_ONCE(dev->map[idx].source);
}

void archip_obj_name(struct archip_dev *dev, u64 idx,
		     char buf[ARCHIP_VOL_OBJ_NAME_MAX])
{
	unsigned int src = le16_to_cpu(READ_ONCE(dev->map[idx].source));

	if (src >= dev->nr_osets)	/* checked at load; never */
		src = 0;
	archip_data_name(buf, dev->osets[src], idx);
}

/*
 * Read the header and resolve the map over the control connection
 * (blk_vfmt.c).  The map in memory is at most ARCHIP_VOL_MAX_OBJS entries
 * (512 MiB), and at most a quarter of the node's memory: a volume that
 * needs more is refused, and so is the allocation rather than make room
 * by the OOM killer.
 */
int archip_vmap_load(struct archip_dev *dev, const char **why)
{
	u32 flags;
	int st;

	st = archip_vfmt_read_hdr(dev, dev->args.volume, &dev->hdr, why);
	if (st == -ENOENT)
		*why = "no such volume (see 'archipctl volume list')";
	if (st)
		return st;
	flags = le32_to_cpu(dev->hdr.flags);
	if (flags & ARCHIP_VOL_INCOMPLETE) {
		*why = "the volume was cut short while it was made or removed: finish a snapshot with 'archipctl volume snapshot' again, else 'archipctl volume remove' it";
		return -EINVAL;
	}
	if ((flags & ARCHIP_VOL_SNAPSHOT) && !dev->args.read_only) {
		*why = "the volume is a snapshot, which never changes: map it --read-only, or clone it (archipctl volume clone)";
		return -EROFS;
	}
	dev->size = le64_to_cpu(dev->hdr.size);
	dev->obj_shift = le32_to_cpu(dev->hdr.obj_shift);
	dev->nr_objs = le64_to_cpu(dev->hdr.nr_objs);

	*why = "the volume's map would not fit in a quarter of this node's memory (its header says so: corrupted?)";
	if (dev->nr_objs * sizeof(*dev->map) >
	    ((u64)totalram_pages() << PAGE_SHIFT) / 4)
		return -ENOMEM;
	*why = "out of memory for the volume map";
	dev->map = kvcalloc(dev->nr_objs, sizeof(*dev->map),
			    GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!dev->map)
		return -ENOMEM;
	return archip_vfmt_resolve(dev, why);
}

void archip_vmap_free(struct archip_dev *dev)
{
	kvfree(dev->map);
	dev->map = NULL;
	kfree(dev->osets);
	dev->osets = NULL;
	dev->nr_osets = 0;
}

/*
 * Before the first write to an object, record it in the map, durably: a
 * crash after that but before the data write leaves an entry whose object
 * is missing, which reads as zeros, as it did before.  An ancestor's
 * object is copied up first (@copy), unless the write covers all of it:
 * COPY is atomic on the server, so a destination that exists (an earlier
 * copy-up whose map update was lost) is whole, and a source that is
 * missing (such an entry of the ancestor's) reads as zeros, as the copy
 * then does.  Control work only.
 */
int archip_vmap_allocate(struct archip_dev *dev, u64 idx, bool copy)
{
	struct archip_map_entry e = { .flags = cpu_to_le16(ARCHIP_MAP_EXISTS) };
	int st;

	if (archip_obj_owned(dev, idx))
		return 0;
	if (archip_obj_exists(dev, idx) && copy) {
		char src[ARCHIP_VOL_OBJ_NAME_MAX], dst[ARCHIP_VOL_OBJ_NAME_MAX];

		archip_obj_name(dev, idx, src);
		archip_data_name(dst, dev->osets[0], idx);
		st = archip_lock_call(dev, ARCHIP_OP_COPY, 0, src, 0, 0, dst,
				      strlen(dst), NULL, 0);
		if (st && st != -EEXIST && st != -ENOENT)
			return st;
	}
	st = archip_lock_call(dev, ARCHIP_OP_WRITE, 0, dev->map_obj,
			      dev->map_off + idx * sizeof(e), sizeof(e),
			      &e, sizeof(e), NULL, 0);
	if (!st) {
		WRITE_ONCE(dev->map[idx], e);
		atomic64_inc(&dev->map_updates);
	}
	return st;
}

/* Write @h as header object "v.@vol", padded to ARCHIP_VOL_HDR_SIZE. */
static int write_hdr(struct archip_dev *dev, const char *vol,
		     const struct archip_vol_hdr *h, void *page)
{
	char name[ARCHIP_VOL_OBJ_NAME_MAX];

	archip_hdr_name(name, vol);
	memset(page, 0, ARCHIP_VOL_HDR_SIZE);
	memcpy(page, h, sizeof(*h));
	return archip_lock_call(dev, ARCHIP_OP_WRITE, ARCHIP_REQ_FUA, name, 0,
				ARCHIP_VOL_HDR_SIZE, page, ARCHIP_VOL_HDR_SIZE,
				NULL, 0);
}

/*
 * What a snapshot request may ask: a snapshot name that is a volume name
 * of its own, and a new object set that is fresh: a valid name, none of
 * the chain's sets, no map stored under it.  0, or why not.
 */
static int snapshot_check(struct archip_dev *dev, const char *snap,
			  const char *oset, const char **why)
{
	char name[ARCHIP_VOL_OBJ_NAME_MAX];
	struct archip_stat stat;
	unsigned int i;
	int st;

	*why = "format version 1 volumes have no snapshots";
	if (le16_to_cpu(dev->hdr.version) != ARCHIP_VOL_VERSION)
		return -EOPNOTSUPP;
	*why = "bad snapshot request: the snapshot's name is not a volume name of its own";
	if (!archip_vol_name_valid(snap, ARCHIP_VOL_NAME_MAX) ||
	    !strcmp(snap, dev->args.volume))
		return -EINVAL;
	*why = "bad snapshot request: the new object set is not a fresh set name";
	if (!archip_vol_name_valid(oset, ARCHIP_VOL_NAME_MAX))
		return -EINVAL;
	for (i = 0; i < dev->nr_osets; i++)
		if (!strcmp(oset, dev->osets[i]))
			return -EINVAL;
	archip_map_name(name, oset);
	st = archip_lock_call(dev, ARCHIP_OP_STAT, 0, name, 0, 0, NULL, 0,
			      &stat, sizeof(stat));
	if (!st && (le32_to_cpu(stat.flags) & ARCHIP_STAT_EXISTS))
		st = -EEXIST;
	return st;
}

/* The device writes to the new, empty set @oset from now on. */
static int shift_map(struct archip_dev *dev, const struct archip_vol_hdr *vh,
		     const char *oset)
{
	char (*osets)[ARCHIP_VOL_NAME_MAX];
	unsigned int i;
	u64 idx;

	osets = kcalloc(dev->nr_osets + 1, sizeof(*osets), GFP_KERNEL);
	if (!osets)
		return -ENOMEM;
	strscpy(osets[0], oset, sizeof(osets[0]));
	for (i = 0; i < dev->nr_osets; i++)
		memcpy(osets[i + 1], dev->osets[i], sizeof(osets[0]));
	for (idx = 0; idx < dev->nr_objs; idx++)
		if (archip_obj_exists(dev, idx))
			dev->map[idx].source =
				cpu_to_le16(le16_to_cpu(dev->map[idx].source) + 1);
	swap(dev->osets, osets);
	kfree(osets);
	dev->nr_osets++;
	dev->hdr = *vh;
	archip_map_name(dev->map_obj, oset);
	dev->map_off = 0;
	return 0;
}

/*
 * Snapshot @snap of the mapped volume, whose I/O the caller has quiesced
 * (queue frozen, no map update pending): the three steps of
 * Documentation/snapshots.rst, each one atomic write, then the map in
 * memory moves one level down: what the volume had is @snap's now, and
 * the volume starts on the empty set @oset.  An existing @snap is refused
 * unless it is what a request cut short left: flagged INCOMPLETE and
 * naming the volume's set (after step 1: redo from there) or the volume
 * reading through it already (after step 2: only step 3 is left).
 * Control work only.
 */
int archip_vmap_snapshot(struct archip_dev *dev, const char *snap,
			 const char *oset, const char **why)
{
	struct archip_vol_hdr *sh = NULL, *vh = NULL;
	bool switched = false;
	void *page = NULL;
	int st;

	st = -ENOMEM;
	*why = "out of memory";
	sh = kmalloc(sizeof(*sh), GFP_KERNEL);
	vh = kmalloc(sizeof(*vh), GFP_KERNEL);
	page = kmalloc(ARCHIP_VOL_HDR_SIZE, GFP_KERNEL);
	if (!sh || !vh || !page)
		goto out;

	st = archip_vfmt_read_hdr(dev, snap, sh, why);
	if (!st) {
		*why = "a volume of the snapshot's name exists";
		st = -EEXIST;
		if (!(le32_to_cpu(sh->flags) & ARCHIP_VOL_INCOMPLETE))
			goto out;
		if (!strcmp(dev->hdr.v2.parent, snap))
			switched = true;
		else if (le16_to_cpu(sh->version) != ARCHIP_VOL_VERSION ||
			 strcmp(sh->v2.oset, dev->hdr.v2.oset))
			goto out;
	} else if (st != -ENOENT) {
		goto out;
	}
	if (!switched) {
		st = snapshot_check(dev, snap, oset, why);
		if (st)
			goto out;
		*why = "the volume's chain of parents is too deep for another snapshot: flatten it";
		st = -ELOOP;
		if (dev->nr_osets >= ARCHIP_VOL_MAX_DEPTH)
			goto out;

		/* 1. The snapshot: the volume's header, its set and parent. */
		*sh = dev->hdr;
		memset(sh->name, 0, sizeof(sh->name));
		strscpy(sh->name, snap, sizeof(sh->name));
		sh->flags |= cpu_to_le32(ARCHIP_VOL_SNAPSHOT | ARCHIP_VOL_INCOMPLETE);
		sh->created = cpu_to_le64(ktime_get_real_seconds());
		*why = "cannot write the snapshot's header";
		st = write_hdr(dev, snap, sh, page);
		if (st)
			goto out;

		/* 2. The volume: a new, empty set on top of the snapshot. */
		*vh = dev->hdr;
		memset(&vh->v2, 0, sizeof(vh->v2));
		strscpy(vh->v2.oset, oset, sizeof(vh->v2.oset));
		strscpy(vh->v2.parent, snap, sizeof(vh->v2.parent));
		vh->v2.parent_objs = vh->nr_objs;
		/*
		 * A failed call may still have written it: then the volume's
		 * header names a set we would not write to.  Stop writing at
		 * all: the next map reads whichever header is there.
		 */
		st = write_hdr(dev, dev->args.volume, vh, page);
		if (!st)
			st = shift_map(dev, vh, oset);
		if (st) {
			*why = "cannot write the volume's header";
			archip_lock_fence(dev, "a snapshot's switch of the volume header may have failed halfway: map the volume again");
			goto out;
		}
	}

	/* 3. The snapshot is whole. */
	sh->flags &= ~cpu_to_le32(ARCHIP_VOL_INCOMPLETE);
	st = write_hdr(dev, snap, sh, page);
	*why = st ? "the snapshot is made but still flagged incomplete: run 'archipctl volume snapshot' again to finish it" : NULL;
out:
	kfree(page);
	kfree(vh);
	kfree(sh);
	return st;
}
