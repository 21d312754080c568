/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels archip builds for, in one place:
 * Debian 12's 6.1 (the lab's) and 6.12 LTS.  Each block names the upstream
 * change; the code elsewhere uses only what is defined here.
 */
#ifndef _ARCHIP_COMPAT_H
#define _ARCHIP_COMPAT_H

#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>

/* ARCHIP_KBUILD_VERSION: major << 8 | minor of the kernel built for (Kbuild). */
#ifndef ARCHIP_KBUILD_VERSION
#error "ARCHIP_KBUILD_VERSION comes from drivers/block/archip/Kbuild"
#endif
#define ARCHIP_KERNEL_AT_LEAST(major, minor) \
	(ARCHIP_KBUILD_VERSION >= ((major) << 8) + (minor))

/* 6.12: <asm/unaligned.h> moved to <linux/unaligned.h>. */
#if ARCHIP_KERNEL_AT_LEAST(6, 12)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * 6.5 removed ->sendpage: pages go by reference through sendmsg with
 * MSG_SPLICE_PAGES, and MSG_MORE alone says more follows.  On 6.1 a
 * sendmsg of pages would copy them, so kernel_sendpage stays there.
 */
#if ARCHIP_KERNEL_AT_LEAST(6, 5)
#define ARCHIP_MSG_NOTLAST	0
static inline int archip_compat_sendpage(struct socket *sock, struct page *page,
					 unsigned int off, size_t len, int flags)
{
	struct bio_vec bv;
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };

	bvec_set_page(&bv, page, len, off);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bv, 1, len);
	return sock_sendmsg(sock, &msg);
}
#else
#define ARCHIP_MSG_NOTLAST	MSG_SENDPAGE_NOTLAST
static inline int archip_compat_sendpage(struct socket *sock, struct page *page,
					 unsigned int off, size_t len, int flags)
{
	return kernel_sendpage(sock, page, off, len, flags);
}
#endif

/*
 * 6.5: block_device_operations' open takes the gendisk and a blk_mode_t,
 * release only the gendisk.  ARCHIP_BDEV_OPEN(fn) defines fn(disk, write).
 */
#if ARCHIP_KERNEL_AT_LEAST(6, 5)
#define ARCHIP_BDEV_OPEN(fn)						\
	static int fn(struct gendisk *disk, bool write);		\
	static int fn##_bdev(struct gendisk *disk, blk_mode_t mode)	\
	{								\
		return fn(disk, mode & BLK_OPEN_WRITE);			\
	}
#define ARCHIP_BDEV_RELEASE(fn)						\
	static void fn(struct gendisk *disk);				\
	static void fn##_bdev(struct gendisk *disk)			\
	{								\
		fn(disk);						\
	}
#else
#define ARCHIP_BDEV_OPEN(fn)						\
	static int fn(struct gendisk *disk, bool write);		\
	static int fn##_bdev(struct block_device *bdev, fmode_t mode)	\
	{								\
		return fn(bdev->bd_disk, mode & FMODE_WRITE);		\
	}
#define ARCHIP_BDEV_RELEASE(fn)						\
	static void fn(struct gendisk *disk);				\
	static void fn##_bdev(struct gendisk *disk, fmode_t mode)	\
	{								\
		fn(disk);						\
	}
#endif

/* What is built and tested: 6.1 and 6.12 (6.2-6.10 differ again). */
#if ARCHIP_KERNEL_AT_LEAST(6, 2) && !ARCHIP_KERNEL_AT_LEAST(6, 11)
#error "archip builds for Linux 6.1 and 6.11 or later (6.12 LTS)"
#endif

/*
 * 6.11: a disk's limits and features are given at allocation (struct
 * queue_limits, BLK_FEAT_*; the blk_queue_* setters and queue flags went).
 * @lim: the limits; @stable: pages must not change while written.  Write
 * cache off and non-rotational on both.
 */
static inline struct gendisk *
archip_compat_alloc_disk(struct blk_mq_tag_set *set,
			 const struct queue_limits *lim, bool stable, void *data)
{
#if ARCHIP_KERNEL_AT_LEAST(6, 11)
	struct queue_limits l = *lim;

	if (stable)
		l.features |= BLK_FEAT_STABLE_WRITES;
	return blk_mq_alloc_disk(set, &l, data);
#else
	struct gendisk *disk = blk_mq_alloc_disk(set, data);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, lim->logical_block_size);
	blk_queue_physical_block_size(q, lim->physical_block_size);
	blk_queue_io_min(q, lim->io_min);
	blk_queue_max_hw_sectors(q, lim->max_hw_sectors);
	blk_queue_max_segments(q, lim->max_segments);
	blk_queue_chunk_sectors(q, lim->chunk_sectors);
	blk_queue_write_cache(q, false, false);
	blk_queue_max_discard_sectors(q, lim->max_hw_discard_sectors);
	blk_queue_max_write_zeroes_sectors(q, lim->max_write_zeroes_sectors);
	q->limits.discard_granularity = lim->discard_granularity;
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	if (stable)
		blk_queue_flag_set(QUEUE_FLAG_STABLE_WRITES, q);
	return disk;
#endif
}

/* 6.3: the vfs_* namespace operations take the mount's idmap. */
#if ARCHIP_KERNEL_AT_LEAST(6, 3)
#define archip_mnt_idmap(mnt)	mnt_idmap(mnt)
#else
#define archip_mnt_idmap(mnt)	mnt_user_ns(mnt)
#endif

/*
 * 6.9: struct file_lock's common fields moved into ->c (file_lock_core),
 * declared in <linux/filelock.h> (6.8).  A whole-file flock of @f.
 */
#if ARCHIP_KERNEL_AT_LEAST(6, 9)
#include <linux/filelock.h>
static inline void archip_flock_init(struct file_lock *fl, struct file *f, bool excl)
{
	locks_init_lock(fl);
	fl->c.flc_file = f;
	fl->c.flc_owner = f;
	fl->c.flc_pid = current->tgid;
	fl->c.flc_flags = FL_FLOCK;
	fl->c.flc_type = excl ? F_WRLCK : F_RDLCK;
	fl->fl_end = OFFSET_MAX;
}
#else
static inline void archip_flock_init(struct file_lock *fl, struct file *f, bool excl)
{
	locks_init_lock(fl);
	fl->fl_file = f;
	fl->fl_owner = f;
	fl->fl_pid = current->tgid;
	fl->fl_flags = FL_FLOCK;
	fl->fl_type = excl ? F_WRLCK : F_RDLCK;
	fl->fl_end = OFFSET_MAX;
}
#endif

#endif /* _ARCHIP_COMPAT_H */
