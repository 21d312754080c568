/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * archip: the volume format and the names of a volume's objects and lock,
 * defined once for the block driver and the tools
 * (Documentation/block-driver.rst, "Volume format").  All integers are
 * little-endian.
 */
#ifndef _UAPI_LINUX_ARCHIP_VOLUME_H
#define _UAPI_LINUX_ARCHIP_VOLUME_H

#include <linux/types.h>
#include <asm/byteorder.h>

/*
 * A volume is one header object "v.NAME": this header, padded to
 * ARCHIP_VOL_HDR_SIZE, then one struct archip_map_entry per object of the
 * volume.  Data object INDEX of volume NAME is "d.NAME.%016llx".  A map
 * entry with source 0 names the volume's own object; source k > 0 names
 * object INDEX of volume sources[k - 1] (a parent snapshot), read-only:
 * the first write copies it up (COPY) and sets source 0.
 * Entries past the end of the header object read as zeros: not allocated.
 * The volume's exclusive lock (ACQUIRE) is named "vol.NAME".
 */
#define ARCHIP_VOL_MAGIC	0x4c4f5641	/* "AVOL" */
#define ARCHIP_VOL_VERSION	1
#define ARCHIP_VOL_HDR_SIZE	4096
#define ARCHIP_VOL_NAME_MAX	64		/* including the NUL */
#define ARCHIP_VOL_MAX_SOURCES	16
#define ARCHIP_VOL_DEFAULT_OBJ_SHIFT	22	/* 4 MiB objects */
#define ARCHIP_VOL_MIN_OBJ_SHIFT	12
#define ARCHIP_VOL_MAX_OBJ_SHIFT	30
#define ARCHIP_VOL_MAX_OBJS	(1ULL << 26)	/* 512 MiB of map at most */

/* Object and lock names: printf formats of the volume name (and index). */
#define ARCHIP_VOL_HDR_PREFIX	"v."
#define ARCHIP_VOL_HDR_FMT	ARCHIP_VOL_HDR_PREFIX "%s"
#define ARCHIP_VOL_DATA_FMT	"d.%s.%016llx"
#define ARCHIP_VOL_LOCK_FMT	"vol.%s"
/* Room for the longest of them, NUL included. */
#define ARCHIP_VOL_OBJ_NAME_MAX	(ARCHIP_VOL_NAME_MAX + 20)

#define ARCHIP_VOL_SNAPSHOT	(1U << 0)	/* read-only, parent of clones */

struct archip_vol_hdr {
	__le32 magic;		/* ARCHIP_VOL_MAGIC */
	__le16 version;		/* ARCHIP_VOL_VERSION */
	__le16 hdr_size;	/* ARCHIP_VOL_HDR_SIZE: where entries start */
	__le64 size;		/* bytes */
	__le32 obj_shift;	/* log2 of the object size, 12..30 */
	__le32 flags;		/* ARCHIP_VOL_* */
	__le64 nr_objs;		/* DIV_ROUND_UP(size, object size) */
	__le64 created;		/* seconds since the epoch */
	__le32 nr_sources;
	__le32 pad;
	char name[ARCHIP_VOL_NAME_MAX];
	char sources[ARCHIP_VOL_MAX_SOURCES][ARCHIP_VOL_NAME_MAX];
};

#define ARCHIP_MAP_EXISTS	(1U << 0)	/* the object was written */

struct archip_map_entry {
	__le16 source;		/* 0: own object; k: sources[k - 1] */
	__le16 flags;		/* ARCHIP_MAP_* */
	__le32 pad;
};

/*
 * The one check of a volume header, for the driver and the tools alike:
 * NULL if @h can be used, else why not, in words for the user.  Does not
 * look at the names (the readers NUL-terminate them).
 */
static inline const char *archip_vol_hdr_invalid(const struct archip_vol_hdr *h)
{
	__u64 size = __le64_to_cpu(h->size);
	__u64 nr_objs = __le64_to_cpu(h->nr_objs);
	__u32 shift = __le32_to_cpu(h->obj_shift);

	if (__le32_to_cpu(h->magic) != ARCHIP_VOL_MAGIC ||
	    __le16_to_cpu(h->hdr_size) != ARCHIP_VOL_HDR_SIZE)
		return "the object is not an archip volume header";
	if (__le16_to_cpu(h->version) != ARCHIP_VOL_VERSION)
		return "the volume has a format version this archip does not know: upgrade archip";
	if (shift < ARCHIP_VOL_MIN_OBJ_SHIFT || shift > ARCHIP_VOL_MAX_OBJ_SHIFT ||
	    !size || size & 511 || nr_objs > ARCHIP_VOL_MAX_OBJS ||
	    nr_objs != (size >> shift) + !!(size & ((1ULL << shift) - 1)) ||
	    __le32_to_cpu(h->nr_sources) > ARCHIP_VOL_MAX_SOURCES)
		return "the volume header has impossible sizes";
	return 0;
}

#endif /* _UAPI_LINUX_ARCHIP_VOLUME_H */
