// SPDX-License-Identifier: GPL-2.0
/*
 * The volume format as stored, read and checked (<linux/archip-volume.h>,
 * Documentation/snapshots.rst): header objects, map objects, and the
 * chain of ancestors a volume reads through, resolved at map time into
 * the map in memory.  Nothing read from the store is trusted: a header
 * passes archip_vol_hdr_invalid() (sizes, names), every map object
 * archip_vol_map_short() and each of its entries
 * archip_map_entry_invalid(), every ancestor archip_vol_parent_invalid(),
 * and the chain is at most ARCHIP_VOL_MAX_DEPTH volumes, with no name
 * (a cycle) and no object set twice.  A map object is read only as far as
 * it is stored (past its end: not written), a bounded buffer at a time,
 * so a corrupted store costs neither unbounded memory nor reads.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "blk.h"

/* Map entries read per request: the buffer, whatever the map's size. */
#define MAP_CHUNK	(64 * 1024 / sizeof(struct archip_map_entry))

/* Read header object "v.@vol" into @h and check it; -ENOENT if none. */
int archip_vfmt_read_hdr(struct archip_dev *dev, const char *vol,
			 struct archip_vol_hdr *h, const char **why)
{
	char name[ARCHIP_VOL_OBJ_NAME_MAX];
	struct archip_stat stat;
	int st;

	archip_hdr_name(name, vol);
	*why = "cannot read a volume header";
	st = archip_lock_call(dev, ARCHIP_OP_STAT, 0, name, 0, 0, NULL, 0,
			      &stat, sizeof(stat));
	if (!st && !(le32_to_cpu(stat.flags) & ARCHIP_STAT_EXISTS))
		return -ENOENT;
	/* A short header object reads as zeros past its end. */
	if (!st)
		st = archip_lock_call(dev, ARCHIP_OP_READ, 0, name, 0,
				      sizeof(*h), NULL, 0, h, sizeof(*h));
	if (st)
		return st;
	*why = archip_vol_hdr_invalid(h);
	if (!*why)
		return 0;
	pr_warn("%s: header object %s: %s\n", dev->args.volume, name, *why);
	return -EINVAL;
}

/*
 * Merge map object @name (entries from byte @off) of the chain's volume
 * at @level (0: the volume itself), whose header is @h, into dev->map
 * below index @n: an index the map does not have yet takes the entry's
 * source (level 0: its own, v1's sources; else @level).  Each entry is
 * checked; only what is stored is read, through @buf.
 */
static int merge_map(struct archip_dev *dev, const struct archip_vol_hdr *h,
		     const char *name, u64 off, u64 n, unsigned int level,
		     struct archip_map_entry *buf, const char **why)
{
	struct archip_stat stat;
	u64 idx, i, k, size;
	const char *bad;
	int st;

	*why = "cannot read the volume's map (or a parent's)";
	st = archip_lock_call(dev, ARCHIP_OP_STAT, 0, name, 0, 0, NULL, 0,
			      &stat, sizeof(stat));
	if (st)
		return st;
	size = le32_to_cpu(stat.flags) & ARCHIP_STAT_EXISTS ?
	       le64_to_cpu(stat.size) : 0;
	/* Whole entries: a part of one is what a truncation left. */
	size = size > off ? div_u64(size - off, sizeof(*buf)) : 0;
	bad = archip_vol_map_short(h, size);
	if (bad) {
		pr_warn("%s: map object %s %s\n", dev->args.volume, name, bad);
		*why = "the map of the volume (or of an image it reads through) is truncated: see the kernel log";
		return -EINVAL;
	}
	n = min(n, size);
	for (idx = 0; idx < n; idx += k) {
		k = min3(n - idx, (u64)MAP_CHUNK,
			 (u64)dev->ctrl.max_io / sizeof(*buf));
		st = archip_lock_call(dev, ARCHIP_OP_READ, 0, name,
				      off + idx * sizeof(*buf), k * sizeof(*buf),
				      NULL, 0, buf, k * sizeof(*buf));
		if (st)
			return st;
		for (i = 0; i < k; i++) {
			bad = archip_map_entry_invalid(h, &buf[i]);
			if (bad) {
				pr_warn("%s: map object %s: entry %llu %s (corrupted?)\n",
					dev->args.volume, name, idx + i, bad);
				*why = "the volume's map (or a parent's) is damaged: see the kernel log";
				return -EINVAL;
			}
			if (!(le16_to_cpu(buf[i].flags) & ARCHIP_MAP_EXISTS) ||
			    (le16_to_cpu(dev->map[idx + i].flags) & ARCHIP_MAP_EXISTS))
				continue;
			dev->map[idx + i].flags = cpu_to_le16(ARCHIP_MAP_EXISTS);
			dev->map[idx + i].source = level ? cpu_to_le16(level) :
							   buf[i].source;
		}
	}
	return 0;
}

/* Version 1: the map follows the header; sources[] are the other sets. */
static int resolve_v1(struct archip_dev *dev, struct archip_map_entry *buf,
		      const char **why)
{
	unsigned int i, n = le32_to_cpu(dev->hdr.nr_sources);

	*why = "out of memory";
	dev->osets = kcalloc(n + 1, sizeof(*dev->osets), GFP_KERNEL);
	if (!dev->osets)
		return -ENOMEM;
	dev->nr_osets = n + 1;
	strscpy(dev->osets[0], dev->args.volume, sizeof(dev->osets[0]));
	for (i = 0; i < n; i++)
		strscpy(dev->osets[i + 1], dev->hdr.sources[i], sizeof(dev->osets[0]));
	archip_hdr_name(dev->map_obj, dev->args.volume);
	dev->map_off = ARCHIP_VOL_HDR_SIZE;
	return merge_map(dev, &dev->hdr, dev->map_obj, dev->map_off,
			 dev->nr_objs, 0, buf, why);
}

/*
 * The chain's next volume @name, at @level, whose header is @ph: a valid
 * ancestor, neither a volume (@names) nor an object set (dev->osets)
 * the chain has already.  0, or why not.
 */
static int check_parent(struct archip_dev *dev, unsigned int level,
			const char *name, struct archip_vol_hdr *ph,
			char (*names)[ARCHIP_VOL_NAME_MAX], const char **why)
{
	const char *bad;
	unsigned int i;
	int st;

	for (i = 0; i < level; i++)
		if (!strcmp(names[i], name)) {
			pr_warn("%s: the chain of parents comes back to %s (corrupted headers?)\n",
				dev->args.volume, name);
			*why = "the volume's chain of parents loops back on itself (corrupted headers?): see the kernel log";
			return -ELOOP;
		}
	st = archip_vfmt_read_hdr(dev, name, ph, why);
	if (st == -ENOENT) {
		pr_warn("%s: its parent %s is missing\n", dev->args.volume, name);
		*why = "a parent of the volume is missing: see the kernel log";
		return st;
	}
	if (st == -EINVAL)
		*why = "a parent of the volume has a damaged header: see the kernel log";
	if (st)
		return st;
	bad = archip_vol_parent_invalid(&dev->hdr, ph);
	for (i = 0; !bad && i < level; i++)
		if (!strcmp(dev->osets[i], ph->v2.oset))
			bad = "names an object set the chain has already (corrupted headers?)";
	if (!bad)
		return 0;
	pr_warn("%s: parent %s: %s\n", dev->args.volume, name, bad);
	*why = "a parent of the volume cannot be read through: see the kernel log";
	return -EINVAL;
}

/*
 * Version 2: the volume's own map, then each ancestor's for the indices
 * still unresolved, below the parent_objs of every volume above it.
 */
static int resolve_v2(struct archip_dev *dev, struct archip_map_entry *buf,
		      const char **why)
{
	char (*names)[ARCHIP_VOL_NAME_MAX], mname[ARCHIP_VOL_OBJ_NAME_MAX];
	struct archip_vol_hdr *ph;
	unsigned int level;
	u64 limit;
	int st;

	*why = "out of memory";
	dev->osets = kcalloc(ARCHIP_VOL_MAX_DEPTH, sizeof(*dev->osets), GFP_KERNEL);
	names = kcalloc(ARCHIP_VOL_MAX_DEPTH, sizeof(*names), GFP_KERNEL);
	ph = kmalloc(sizeof(*ph), GFP_KERNEL);
	st = -ENOMEM;
	if (!dev->osets || !names || !ph)
		goto out;
	dev->nr_osets = 1;
	strscpy(dev->osets[0], dev->hdr.v2.oset, sizeof(dev->osets[0]));
	strscpy(names[0], dev->args.volume, sizeof(names[0]));
	archip_map_name(dev->map_obj, dev->osets[0]);
	dev->map_off = 0;
	st = merge_map(dev, &dev->hdr, dev->map_obj, 0, dev->nr_objs, 0, buf, why);

	*ph = dev->hdr;
	limit = le64_to_cpu(dev->hdr.v2.parent_objs);
	for (level = 1; !st && ph->v2.parent[0]; level++) {
		if (level >= ARCHIP_VOL_MAX_DEPTH) {
			*why = "the volume's chain of parents is too deep: flatten it (archipctl volume flatten)";
			st = -ELOOP;
			break;
		}
		strscpy(names[level], ph->v2.parent, sizeof(names[0]));
		st = check_parent(dev, level, names[level], ph, names, why);
		if (st)
			break;
		strscpy(dev->osets[level], ph->v2.oset, sizeof(dev->osets[0]));
		dev->nr_osets = level + 1;
		archip_map_name(mname, ph->v2.oset);
		st = merge_map(dev, ph, mname, 0,
			       min3(le64_to_cpu(ph->nr_objs), dev->nr_objs, limit),
			       level, buf, why);
		limit = min(limit, le64_to_cpu(ph->v2.parent_objs));
	}
out:
	kfree(ph);
	kfree(names);
	return st;
}

/*
 * Resolve the map of the volume whose header dev->hdr is (checked), into
 * dev->map (nr_objs entries, zeroed), over the control connection.
 */
int archip_vfmt_resolve(struct archip_dev *dev, const char **why)
{
	struct archip_map_entry *buf;
	int st;

	*why = "out of memory";
	buf = kvmalloc_array(MAP_CHUNK, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (le16_to_cpu(dev->hdr.version) == ARCHIP_VOL_VERSION_1)
		st = resolve_v1(dev, buf, why);
	else
		st = resolve_v2(dev, buf, why);
	kvfree(buf);
	return st;
}
