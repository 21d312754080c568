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
 * A volume is one header object "v.NAME" (struct archip_vol_hdr, padded to
 * ARCHIP_VOL_HDR_SIZE) and an object set: data object INDEX of set OSET is
 * "d.OSET.%016llx" and its map, one struct archip_map_entry per object
 * index, is "m.OSET" (Documentation/snapshots.rst).  A map entry with
 * ARCHIP_MAP_EXISTS names the set's own object; any other index is read
 * from the parent volume (v2.parent, a snapshot), recursively up to
 * ARCHIP_VOL_MAX_DEPTH volumes, and past the last one reads as zeros.
 * Entries past the end of a map object read as zeros: not written (but
 * a whole image's map has them all: archip_vol_map_short()).
 * The first write to an object the volume does not own copies it up from
 * the ancestor that has it (COPY).  The volume's exclusive lock (ACQUIRE)
 * is named "vol.NAME".
 *
 * An image (ARCHIP_VOL_IMAGE, made by "archipctl volume import") is a
 * snapshot whose objects are stored by content: object INDEX's bytes are
 * first stored as "h.SHA256" (ARCHIP_VOL_CONTENT_FMT, the lowercase hex
 * sha256 of the object), once for all images, and the image's own
 * "d.OSET.INDEX" is a COPY of it (a reflink: the same extents, no data
 * stored twice).  "i.OSET" (ARCHIP_VOL_MANIFEST_FMT) lists each index's
 * digest (ARCHIP_VOL_DIGEST_SIZE bytes; all zeros: an all-zero object,
 * not stored).  The driver reads an image like any snapshot; the content
 * objects are only the index that finds equal objects.
 *
 * Version 1, still read and written in place: the set is the volume's
 * name, the map follows the header in "v.NAME", and a map entry's source
 * k > 0 names object INDEX of set sources[k - 1].  No command makes
 * version 1 volumes any more.
 */
#define ARCHIP_VOL_MAGIC	0x4c4f5641	/* "AVOL" */
#define ARCHIP_VOL_VERSION	2	/* what new volumes get */
#define ARCHIP_VOL_VERSION_1	1	/* still read */
#define ARCHIP_VOL_HDR_SIZE	4096
#define ARCHIP_VOL_NAME_MAX	64		/* including the NUL */
#define ARCHIP_VOL_MAX_SOURCES	16		/* version 1 */
#define ARCHIP_VOL_MAX_DEPTH	16		/* a volume and its ancestors */
#define ARCHIP_VOL_DEFAULT_OBJ_SHIFT	22	/* 4 MiB objects */
#define ARCHIP_VOL_MIN_OBJ_SHIFT	12
#define ARCHIP_VOL_MAX_OBJ_SHIFT	30
#define ARCHIP_VOL_MAX_OBJS	(1ULL << 26)	/* 512 MiB of map at most */

/* Object and lock names: printf formats of the volume or set name (and
 * index).
 */
#define ARCHIP_VOL_HDR_PREFIX	"v."
#define ARCHIP_VOL_HDR_FMT	ARCHIP_VOL_HDR_PREFIX "%s"
#define ARCHIP_VOL_DATA_PREFIX	"d."
#define ARCHIP_VOL_DATA_FMT	ARCHIP_VOL_DATA_PREFIX "%s.%016llx"
#define ARCHIP_VOL_MAP_PREFIX	"m."
#define ARCHIP_VOL_MAP_FMT	ARCHIP_VOL_MAP_PREFIX "%s"
#define ARCHIP_VOL_LOCK_PREFIX	"vol."
#define ARCHIP_VOL_LOCK_FMT	ARCHIP_VOL_LOCK_PREFIX "%s"
#define ARCHIP_VOL_SNAPREQ_PREFIX "s."
#define ARCHIP_VOL_SNAPREQ_FMT	ARCHIP_VOL_SNAPREQ_PREFIX "%s"	/* a snapshot request to the holder */
/* The lock a snapshot request is written under (one requester at a time) */
#define ARCHIP_VOL_SNAPLOCK_FMT	ARCHIP_VOL_LOCK_PREFIX "%s.snap"
#define ARCHIP_VOL_MANIFEST_PREFIX "i."
#define ARCHIP_VOL_MANIFEST_FMT	ARCHIP_VOL_MANIFEST_PREFIX "%s"	/* an image's digests, by set */
#define ARCHIP_VOL_CONTENT_PREFIX "h."
#define ARCHIP_VOL_CONTENT_FMT	ARCHIP_VOL_CONTENT_PREFIX "%s"	/* by hex digest */
#define ARCHIP_VOL_DIGEST_SIZE	32	/* sha256 */
/* Room for the longest of them, NUL included. */
#define ARCHIP_VOL_OBJ_NAME_MAX	(ARCHIP_VOL_NAME_MAX + 20)

/*
 * The one check of a volume name, and of a version 2 object set name
 * (16 hex digits where archip makes it): 1 to ARCHIP_VOL_NAME_MAX - 1
 * bytes of [A-Za-z0-9_-], then a NUL within @size bytes.  Every object
 * name built from such a name by the formats above is a valid object name
 * (archip_name_valid() of <linux/archip.h>).
 */
static inline int archip_vol_name_valid(const char *name, unsigned long size)
{
	unsigned long i;

	for (i = 0; i < size && i < ARCHIP_VOL_NAME_MAX && name[i]; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return i > 0 && i < size && i < ARCHIP_VOL_NAME_MAX;
}

/*
 * Volume names that a new volume cannot take: its lock ("vol." NAME) would
 * read as a file behind lock "vol" (ARCHIP_LOCK_WRITERS_FMT "%s.w",
 * ARCHIP_LOCK_SLOT_FMT "%s.q%u" of <linux/archip.h>), which no ACQUIRE
 * may take.  "w", and "q" followed by digits only.
 */
static inline int archip_vol_name_reserved(const char *name)
{
	unsigned long i;

	if (name[0] == 'w' && !name[1])
		return 1;
	if (name[0] != 'q' || !name[1])
		return 0;
	for (i = 1; name[i]; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	return 1;
}

/*
 * Store layout 2 (Documentation/protocol.rst, "Storage layout"): the part
 * of an object's name that picks its directory.  A data object
 * (ARCHIP_VOL_DATA_FMT: "d.", the set, '.', 16 hex digits) drops the last
 * two digits of its index, so that 256 consecutive objects of a set share
 * a directory; any other name is its own key.  Defined here, beside the
 * format it reads, so the object server needs to know no volume format.
 */
static inline unsigned long archip_vol_dir_key_len(const char *name,
						   unsigned long len)
{
	unsigned long dot = len;

	while (dot && name[dot - 1] != '.')
		dot--;
	if (len > 2 && name[0] == ARCHIP_VOL_DATA_PREFIX[0] &&
	    name[1] == ARCHIP_VOL_DATA_PREFIX[1] && dot > 2 &&
	    len - dot == 16)
		return len - 2;
	return len;
}

/*
 * Fencing for everyone (Documentation/protocol.rst, "Fencing"): is @name
 * (NUL-terminated) one of the names above, an object of the volume format
 * or a lock's name?  The object server refuses a request that changes
 * such an object (WRITE, DISCARD, WRITE_ZEROES, DELETE, the destination of
 * a COPY) unless it carries a lock epoch: its connection's, which it got
 * by ACQUIRE or BIND.  Any other object stays free for tools and tests.
 */
static inline int archip_vol_obj_fenced(const char *name)
{
	static const char *const prefixes[] = {
		ARCHIP_VOL_HDR_PREFIX, ARCHIP_VOL_DATA_PREFIX,
		ARCHIP_VOL_MAP_PREFIX, ARCHIP_VOL_SNAPREQ_PREFIX,
		ARCHIP_VOL_MANIFEST_PREFIX, ARCHIP_VOL_CONTENT_PREFIX,
		ARCHIP_VOL_LOCK_PREFIX, 0
	};
	const char *const *p;
	unsigned long k;

	for (p = prefixes; *p; p++) {
		for (k = 0; (*p)[k] && name[k] == (*p)[k]; k++)
			;
		if (!(*p)[k])
			return 1;
	}
	return 0;
}

#define ARCHIP_VOL_SNAPSHOT	(1U << 0)	/* immutable, parent of clones */
#define ARCHIP_VOL_INCOMPLETE	(1U << 1)	/* a snapshot or import cut short */
#define ARCHIP_VOL_IMAGE	(1U << 2)	/* a snapshot stored by content */

struct archip_vol_hdr {
	__le32 magic;		/* ARCHIP_VOL_MAGIC */
	__le16 version;		/* ARCHIP_VOL_VERSION or ARCHIP_VOL_VERSION_1 */
	__le16 hdr_size;	/* ARCHIP_VOL_HDR_SIZE (v1: where entries start) */
	__le64 size;		/* bytes */
	__le32 obj_shift;	/* log2 of the object size, 12..30 */
	__le32 flags;		/* ARCHIP_VOL_* */
	__le64 nr_objs;		/* DIV_ROUND_UP(size, object size) */
	__le64 created;		/* seconds since the epoch */
	__le32 nr_sources;	/* v1; 0 in v2 */
	__le32 pad;
	char name[ARCHIP_VOL_NAME_MAX];
	union {
		/* v1: the sets that map entries with source k > 0 name */
		char sources[ARCHIP_VOL_MAX_SOURCES][ARCHIP_VOL_NAME_MAX];
		/* v2: within the first 512 bytes, so one sector write
		 * replaces them together (a snapshot's switch)
		 */
		struct {
			char oset[ARCHIP_VOL_NAME_MAX];	  /* the object set */
			char parent[ARCHIP_VOL_NAME_MAX]; /* "": none */
			/* indices below it read through the parent: a
			 * shrink lowers it, so data cut off stays gone
			 */
			__le64 parent_objs;
		} v2;
	};
};

#define ARCHIP_MAP_EXISTS	(1U << 0)	/* the object was written */

struct archip_map_entry {
	__le16 source;		/* 0: own object; k: sources[k - 1] */
	__le16 flags;		/* ARCHIP_MAP_* */
	__le32 pad;
};

/*
 * A snapshot of a volume mapped read-write is made by the holder of its
 * lock (Documentation/snapshots.rst): archipctl writes this request as
 * "s.VOL" and polls it; the holder's driver, which STATs it each second,
 * freezes the device, makes the snapshot, and writes back state DONE or
 * FAILED (error: -errno) with the same nonce.
 */
#define ARCHIP_SNAPREQ_MAGIC	0x51524e53	/* "SNRQ" */
enum {
	ARCHIP_SNAPREQ_PENDING = 0,
	ARCHIP_SNAPREQ_DONE,
	ARCHIP_SNAPREQ_FAILED,
};

struct archip_snap_req {
	__le32 magic;		/* ARCHIP_SNAPREQ_MAGIC */
	__le32 state;		/* ARCHIP_SNAPREQ_* */
	__le64 nonce;		/* the requester's, echoed */
	__le32 error;		/* FAILED: -errno, as an s32 */
	__le32 pad;
	char snap[ARCHIP_VOL_NAME_MAX];	/* the snapshot to make */
	char oset[ARCHIP_VOL_NAME_MAX];	/* the volume's new set */
};

/*
 * The one check of a volume header, for the driver and the tools alike:
 * NULL if @h can be used, else why not, in words for the user.  Besides
 * the sizes, every name the header holds must be a valid name,
 * NUL-terminated within its field (archip_vol_name_valid()): the
 * volume's own, and (v2) its object set and parent, or (v1) its first
 * nr_sources sources, so that no reader runs off a field or builds an
 * object name from bytes a corruption left there.
 */
static inline const char *archip_vol_hdr_invalid(const struct archip_vol_hdr *h)
{
	__u64 size = __le64_to_cpu(h->size);
	__u64 nr_objs = __le64_to_cpu(h->nr_objs);
	__u32 shift = __le32_to_cpu(h->obj_shift);
	__u32 flags = __le32_to_cpu(h->flags);
	__u32 i, nr_sources = __le32_to_cpu(h->nr_sources);
	__u16 version = __le16_to_cpu(h->version);

	if (__le32_to_cpu(h->magic) != ARCHIP_VOL_MAGIC ||
	    __le16_to_cpu(h->hdr_size) != ARCHIP_VOL_HDR_SIZE)
		return "the object is not an archip volume header";
	if (version != ARCHIP_VOL_VERSION && version != ARCHIP_VOL_VERSION_1)
		return "the volume has a format version this archip does not know: upgrade archip";
	if (shift < ARCHIP_VOL_MIN_OBJ_SHIFT || shift > ARCHIP_VOL_MAX_OBJ_SHIFT ||
	    !size || size & 511 || nr_objs > ARCHIP_VOL_MAX_OBJS ||
	    nr_objs != (size >> shift) + !!(size & ((1ULL << shift) - 1)) ||
	    nr_sources > ARCHIP_VOL_MAX_SOURCES)
		return "the volume header has impossible sizes";
	if ((flags & ARCHIP_VOL_IMAGE) && !(flags & ARCHIP_VOL_SNAPSHOT))
		return "the volume header has impossible flags (an image that is not a snapshot)";
	if (!archip_vol_name_valid(h->name, sizeof(h->name)))
		return "the volume header's name field is not a volume name (corrupted?)";
	if (version == ARCHIP_VOL_VERSION_1) {
		for (i = 0; i < nr_sources; i++)
			if (!archip_vol_name_valid(h->sources[i], sizeof(h->sources[i])))
				return "the volume header names a source set that is not a valid name (corrupted?)";
		return 0;
	}
	if (nr_sources || !h->v2.oset[0])
		return "the volume header has no object set";
	if (!archip_vol_name_valid(h->v2.oset, sizeof(h->v2.oset)) ||
	    (h->v2.parent[0] &&
	     !archip_vol_name_valid(h->v2.parent, sizeof(h->v2.parent))))
		return "the volume header names an object set or parent that is not a valid name (corrupted?)";
	if (__le64_to_cpu(h->v2.parent_objs) > nr_objs)
		return "the volume header reads more objects through its parent than it has (corrupted?)";
	return 0;
}

/*
 * The one check of a map entry (struct archip_map_entry) of the volume
 * whose header is @h, its own map's or, for an ancestor's map, the
 * ancestor's: NULL, or why not.  No writer sets a flag but EXISTS, a pad
 * or, in version 2, a source; a version 1 source names one of the
 * header's nr_sources sets.  Why not completes "entry N ...".
 */
static inline const char *archip_map_entry_invalid(const struct archip_vol_hdr *h,
						   const struct archip_map_entry *e)
{
	__u16 source = __le16_to_cpu(e->source);

	if ((__le16_to_cpu(e->flags) & ~ARCHIP_MAP_EXISTS) || e->pad)
		return "has bits no archip writes";
	if (source && (__le16_to_cpu(h->version) != ARCHIP_VOL_VERSION_1 ||
		       source > __le32_to_cpu(h->nr_sources)))
		return "names a source set the header does not have";
	return 0;
}

/*
 * Is a map object of @entries entries (what it stores) too short for
 * the volume whose header is @h?  Only a whole image's: its import writes
 * all nr_objs entries, so a shorter map was truncated (its objects would
 * read as zeros).  Any other map may end early: past its end, not
 * written (a thin volume).  NULL, or why.
 */
static inline const char *archip_vol_map_short(const struct archip_vol_hdr *h,
					       __u64 entries)
{
	__u32 flags = __le32_to_cpu(h->flags);

	if ((flags & ARCHIP_VOL_IMAGE) && !(flags & ARCHIP_VOL_INCOMPLETE) &&
	    entries < __le64_to_cpu(h->nr_objs))
		return "is shorter than the image's objects need (missing or truncated)";
	return 0;
}

/*
 * May the volume whose header is @h read through @parent, one of its
 * ancestors (v2.parent, recursively)?  It must be a version 2 snapshot
 * with the same object size; it may still be flagged INCOMPLETE (a
 * snapshot cut short after its second step is whole once a volume reads
 * through it).  NULL, or why not.  The chain's readers check the rest:
 * at most ARCHIP_VOL_MAX_DEPTH volumes, no name twice (a cycle), no
 * object set twice.
 */
static inline const char *archip_vol_parent_invalid(const struct archip_vol_hdr *h,
						    const struct archip_vol_hdr *parent)
{
	if (__le16_to_cpu(parent->version) != ARCHIP_VOL_VERSION ||
	    !(__le32_to_cpu(parent->flags) & ARCHIP_VOL_SNAPSHOT) ||
	    parent->obj_shift != h->obj_shift)
		return "a parent of the volume is not a snapshot of the same object size";
	return 0;
}

#endif /* _UAPI_LINUX_ARCHIP_VOLUME_H */
