// SPDX-License-Identifier: GPL-2.0
/*
 * The volume as stored: header object "v.NAME" (struct archip_vol_hdr,
 * then one struct archip_map_entry per object), data objects
 * "d.NAME.INDEX".  The map is read whole at map time; afterwards only the
 * control work changes it (archip_vmap_allocate), and blk-mq reads it.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "blk_dev.h"

void archip_vmap_hdr_name(struct archip_dev *dev, char *buf, size_t len)
{
	snprintf(buf, len, ARCHIP_VOL_HDR_FMT, dev->args.volume);
}

static void data_name(const char *vol, u64 idx, char *buf, size_t len)
{
	snprintf(buf, len, ARCHIP_VOL_DATA_FMT, vol, idx);
}

/* The map says object @idx was written (by this volume or its parent). */
bool archip_obj_exists(struct archip_dev *dev, u64 idx)
{
	return le16_to_cpu(READ_ONCE(dev->map[idx].flags)) & ARCHIP_MAP_EXISTS;
}

/* Written, and this volume's own: no copy-up needed before writing it. */
bool archip_obj_owned(struct archip_dev *dev, u64 idx)
{
	return archip_obj_exists(dev, idx) && !READ_ONCE(dev->map[idx].source);
}

void archip_obj_name(struct archip_dev *dev, u64 idx, char *buf, size_t len)
{
	unsigned int src = le16_to_cpu(READ_ONCE(dev->map[idx].source));
	const char *vol = dev->args.volume;

	if (src && src <= ARCHIP_VOL_MAX_SOURCES)
		vol = dev->hdr.sources[src - 1];
	data_name(vol, idx, buf, len);
}

static int check_hdr(struct archip_dev *dev, const char **why)
{
	struct archip_vol_hdr *h = &dev->hdr;
	int i;

	*why = archip_vol_hdr_invalid(h);
	if (*why)
		return -EINVAL;
	dev->size = le64_to_cpu(h->size);
	dev->obj_shift = le32_to_cpu(h->obj_shift);
	dev->nr_objs = le64_to_cpu(h->nr_objs);
	h->name[sizeof(h->name) - 1] = '\0';
	for (i = 0; i < ARCHIP_VOL_MAX_SOURCES; i++)
		h->sources[i][ARCHIP_VOL_NAME_MAX - 1] = '\0';
	return 0;
}

/* Read the header and the whole map over the control connection. */
int archip_vmap_load(struct archip_dev *dev, const char **why)
{
	char name[ARCHIP_VOL_OBJ_NAME_MAX];
	struct archip_stat stat;
	u64 bytes, done;
	int st;

	archip_vmap_hdr_name(dev, name, sizeof(name));
	*why = "cannot read the volume header";
	st = archip_ctrl_call(dev, ARCHIP_OP_STAT, 0, name, 0, 0, NULL, 0,
			      &stat, sizeof(stat));
	if (!st && !(le32_to_cpu(stat.flags) & ARCHIP_STAT_EXISTS)) {
		*why = "no such volume (see 'archipctl volume list')";
		return -ENOENT;
	}
	if (!st)
		st = archip_ctrl_call(dev, ARCHIP_OP_READ, 0, name, 0,
				      sizeof(dev->hdr), NULL, 0, &dev->hdr,
				      sizeof(dev->hdr));
	if (st)
		return st;
	st = check_hdr(dev, why);
	if (st)
		return st;

	bytes = dev->nr_objs * sizeof(*dev->map);
	*why = "out of memory for the volume map";
	dev->map = kvzalloc(bytes, GFP_KERNEL);
	if (!dev->map)
		return -ENOMEM;
	*why = "cannot read the volume map";
	for (done = 0, st = 0; done < bytes && !st; done += dev->ctrl.max_io) {
		u32 n = min_t(u64, bytes - done, dev->ctrl.max_io);

		st = archip_ctrl_call(dev, ARCHIP_OP_READ, 0, name,
				      ARCHIP_VOL_HDR_SIZE + done, n, NULL, 0,
				      (char *)dev->map + done, n);
	}
	return st;
}

void archip_vmap_free(struct archip_dev *dev)
{
	kvfree(dev->map);
	dev->map = NULL;
}

/*
 * Before the first write to an object, record it in the map, durably: a
 * crash after that but before the data write leaves an entry whose object
 * is missing, which reads as zeros, as it did before.  A parent's object is
 * copied up first.  Control work only.
 */
int archip_vmap_allocate(struct archip_dev *dev, u64 idx)
{
	struct archip_map_entry e = { .flags = cpu_to_le16(ARCHIP_MAP_EXISTS) };
	char name[ARCHIP_VOL_OBJ_NAME_MAX];
	int st;

	if (archip_obj_owned(dev, idx))
		return 0;
	if (dev->map[idx].source) {
		char src[ARCHIP_NAME_MAX + 1], dst[ARCHIP_NAME_MAX + 1];

		archip_obj_name(dev, idx, src, sizeof(src));
		data_name(dev->args.volume, idx, dst, sizeof(dst));
		st = archip_ctrl_call(dev, ARCHIP_OP_COPY, 0, src, 0, 0, dst,
				      strlen(dst), NULL, 0);
		if (st && st != -EEXIST)
			return st;
	}
	archip_vmap_hdr_name(dev, name, sizeof(name));
	st = archip_ctrl_call(dev, ARCHIP_OP_WRITE, 0, name,
			      ARCHIP_VOL_HDR_SIZE + idx * sizeof(e), sizeof(e),
			      &e, sizeof(e), NULL, 0);
	if (!st) {
		WRITE_ONCE(dev->map[idx], e);
		atomic64_inc(&dev->map_updates);
	}
	return st;
}
