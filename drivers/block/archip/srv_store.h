/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The object store: objects as files under a root directory on OCFS2.
 */
#ifndef _ARCHIP_SRV_STORE_H
#define _ARCHIP_SRV_STORE_H

#include <linux/bvec.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/path.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/archip.h>

#define ARCHIP_STORE_DIRS	256

struct archip_store {
	struct path root;
	struct path dirs[ARCHIP_STORE_DIRS];	/* objects, by name hash */
	struct path locks;			/* lock files (srv_lock.c) */
	int layout;				/* 1 or 2: see obj_hash() */
	bool reflink_ok;			/* cleared at the first refusal */
};

/* A payload: whole pages, so that the same buffer serves direct I/O. */
struct archip_buf {
	struct bio_vec *bvec;
	unsigned int nr_pages;
	u32 len;
};

/*
 * Drop a file the server opened.  Its I/O and lock workers are kthreads,
 * where fput() only queues the release (delayed_fput, one work
 * item for the whole system): under a burst of requests (a LIST opens all
 * 256 hash directories) tens of thousands of files waited for it, over
 * 100 MiB of a debug-kernel node, which a 100,000-frame fuzz run drove
 * out of memory.  A kthread releases its file at once (it holds no lock
 * the release could need); anyone else (netlink, in a process) defers.
 */
static inline void archip_store_fput(struct file *f)
{
	if (current->flags & PF_KTHREAD)
		__fput_sync(f);
	else
		fput(f);
}

int archip_buf_alloc(struct archip_buf *buf, u32 len);
void archip_buf_free(struct archip_buf *buf);

int archip_store_open(struct archip_store *st, const char *root,
		      const char **why);
void archip_store_close(struct archip_store *st);

int archip_store_read(struct archip_store *st, const char *name, u64 off,
		      struct archip_buf *buf);
int archip_store_write(struct archip_store *st, const char *name, u64 off,
		       struct archip_buf *buf);
int archip_store_flush(struct archip_store *st, const char *name);
int archip_store_punch(struct archip_store *st, const char *name, u64 off,
		       u64 len);
int archip_store_delete(struct archip_store *st, const char *name);
int archip_store_stat(struct archip_store *st, const char *name,
		      u64 *size, u64 *allocated, bool *exists);
int archip_store_copy(struct archip_store *st, const char *src,
		      const char *dst);
int archip_store_list(struct archip_store *st, const char *prefix, u64 cursor,
		      char *out, u32 cap, u32 *used, u64 *next);
int archip_store_flock(struct file *f, bool excl);
struct file *archip_store_create_open(const struct path *dir,
				      const char *name, int flags, umode_t mode);

/* The largest offset + length a request may name: the filesystem's. */
static inline u64 archip_store_max_bytes(const struct archip_store *st)
{
	return st->root.dentry->d_sb->s_maxbytes;
}

#endif
