// SPDX-License-Identifier: GPL-2.0
/*
 * The object store: each object is a regular file under the store's root
 * on the shared OCFS2 mount, in one of 256 subdirectories picked by a hash
 * of its name (so no directory grows without bound, as the thesis' file
 * blocker groups by prefix; obj_hash() says which part of the name), and
 * each volume lock is a file under locks/.
 *
 * Durability, in syscall terms, each done before the reply is sent:
 *   WRITE           = pwrite + fdatasync(fd) over the written range,
 *   DISCARD, COPY   = the change + fsync(fd),
 *   FLUSH NAME      = fsync(fd of NAME),
 *   FLUSH (no name) = syncfs(store root).
 * On OCFS2 these commit the journal (the extents and size that find the
 * data) and issue a cache flush to the SAN disk, so an answered write
 * survives the death of this node: another node replays our journal.
 */
#include <linux/delay.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/cred.h>

#include <linux/archip.h>
#include <linux/archip-volume.h>

#include "compat.h"
#include "srv_fault.h"

#include "srv_store.h"

#define OBJ_FLAGS	(O_LARGEFILE | O_NOATIME)
#define DIO_ALIGN	4096

/* Measuring what durability costs (bench/block.sh) is all this is for. */
static bool sync_writes = true;
module_param(sync_writes, bool, 0644);
MODULE_PARM_DESC(sync_writes,
		 "N, for benchmarks only: answer WRITEs before they are stable; the death of this node then loses them");

/* FNV-1a of len bytes: stable across nodes, kernels and architectures. */
static u32 name_hash(const char *name, size_t len)
{
	u32 h = 2166136261u;

	while (len--)
		h = (h ^ (u8)*name++) * 16777619u;
	return h;
}

/*
 * The part of an object's name that picks its directory.  Layout 1: the
 * whole name.  Layout 2: archip_vol_dir_key_len(), which drops the last
 * two index digits of a data object so that a run of 256 consecutive
 * objects of one set (1 GiB of 4 MiB objects) shares a directory.
 * Creating an object takes its directory's cluster lock at EX: two
 * storage nodes filling different volumes then rarely create in one
 * directory, which under layout 1 they did about every other object, each
 * time making the other node give the lock up (a downconvert and a
 * journal checkpoint; bench/README.md measures it).  Runs are spread over
 * the directories by their hash, as single objects were, so directories
 * still grow evenly.
 */
static u32 obj_hash(const struct archip_store *st, const char *name)
{
	size_t len = strlen(name);

	if (st->layout >= 2)
		len = archip_vol_dir_key_len(name, len);
	return name_hash(name, len);
}

static const struct path *obj_dir(struct archip_store *st, const char *name)
{
	return &st->dirs[obj_hash(st, name) % ARCHIP_STORE_DIRS];
}

int archip_buf_alloc(struct archip_buf *buf, u32 len)
{
	unsigned int i, nr = DIV_ROUND_UP(len, PAGE_SIZE);

	/* Set only once it holds something: archip_buf_free() walks it. */
	buf->bvec = kvcalloc(nr, sizeof(*buf->bvec), GFP_KERNEL);
	if (!buf->bvec)
		return -ENOMEM;
	buf->len = len;
	buf->nr_pages = nr;
	for (i = 0; i < buf->nr_pages; i++) {
		struct page *page = alloc_page(GFP_KERNEL);

		if (!page) {
			buf->nr_pages = i;
			archip_buf_free(buf);
			return -ENOMEM;
		}
		buf->bvec[i].bv_page = page;
		buf->bvec[i].bv_offset = 0;
		buf->bvec[i].bv_len = min_t(u32, PAGE_SIZE, len - i * PAGE_SIZE);
	}
	return 0;
}

void archip_buf_free(struct archip_buf *buf)
{
	unsigned int i;

	for (i = 0; i < buf->nr_pages; i++)
		__free_page(buf->bvec[i].bv_page);
	kvfree(buf->bvec);
	buf->bvec = NULL;
	buf->nr_pages = 0;
}

static void buf_zero(struct archip_buf *buf, u32 from)
{
	unsigned int i;

	for (i = from / PAGE_SIZE; i < buf->nr_pages; i++) {
		u32 start = i == from / PAGE_SIZE ? from % PAGE_SIZE : 0;

		memzero_page(buf->bvec[i].bv_page, start,
			     buf->bvec[i].bv_len - start);
	}
}

/*
 * Open @name in @dir, creating it if it is missing (O_CREAT, never
 * O_EXCL).  Two storage nodes may create one name at once: the loser's
 * lookup found no file before the winner took the directory's cluster
 * lock, and OCFS2's create then finds the winner's entry under that lock
 * and fails with -EEXIST.  The file exists now: open it again (the
 * loser's negative dentry went stale when its node gave the directory
 * lock up, so the next lookup finds the file).  Every O_CREAT open of the
 * store comes here; without it a write or ACQUIRE racing another node's
 * on a new name failed with "File exists".
 */
struct file *archip_store_create_open(const struct path *dir,
				      const char *name, int flags, umode_t mode)
{
	struct file *f;
	int tries = 0;

	do {
		f = file_open_root(dir, name, flags | O_CREAT, mode);
	} while (f == ERR_PTR(-EEXIST) && !(flags & O_EXCL) && ++tries < 4);
	return f;
}

/*
 * With O_CREAT: an existing object is opened without it first.  An O_CREAT
 * open takes the directory's i_rwsem exclusively even when the file is
 * there (fs/namei.c, open_last_lookups), and 256 objects of a volume share
 * a directory (layout 2): every WRITE to them queued on it.
 */
static struct file *obj_open(struct archip_store *st, const char *name,
			     int flags)
{
	const struct path *dir = obj_dir(st, name);
	struct file *f;

	f = file_open_root(dir, name, (flags & ~O_CREAT) | OBJ_FLAGS, 0);
	if (f != ERR_PTR(-ENOENT) || !(flags & O_CREAT))
		return f;
	return archip_store_create_open(dir, name, flags | OBJ_FLAGS, 0644);
}

/* -EEXIST if @dir holds @name, 0 if not, or another error. */
static int obj_exists(const struct path *dir, const char *name)
{
	struct dentry *d;

	d = lookup_positive_unlocked(name, dir->dentry, strlen(name));
	if (d == ERR_PTR(-ENOENT))
		return 0;
	if (IS_ERR(d))
		return PTR_ERR(d);
	dput(d);
	return -EEXIST;
}

static int mkdir_at(const struct path *parent, const char *name,
		    struct path *out)
{
	struct dentry *d;
	int err;

	/* Write access before the directory's lock, as the VFS takes them
	 * (filename_create(), and our unlink_at()): the other order is an
	 * ABBA deadlock against a filesystem freeze.
	 */
	err = mnt_want_write(parent->mnt);
	if (err)
		return err;
	inode_lock_nested(d_inode(parent->dentry), I_MUTEX_PARENT);
	d = lookup_one_len(name, parent->dentry, strlen(name));
	if (IS_ERR(d)) {
		inode_unlock(d_inode(parent->dentry));
		mnt_drop_write(parent->mnt);
		return PTR_ERR(d);
	}
	if (d_really_is_negative(d))
		err = vfs_mkdir(archip_mnt_idmap(parent->mnt), d_inode(parent->dentry),
				d, 0755);
	inode_unlock(d_inode(parent->dentry));
	mnt_drop_write(parent->mnt);
	if (!err && (d_really_is_negative(d) || !d_is_dir(d)))
		err = -ENOTDIR;
	if (err) {
		dput(d);
		return err;
	}
	out->mnt = mntget(parent->mnt);
	out->dentry = d;
	return 0;
}

/*
 * Which layout the store has.  The first node to open a new store makes
 * the marker directory LAYOUT2_MARKER before any object directory, so a
 * store with object directories and no marker was made by a server that
 * knew only layout 1 (and keeps it: moving its objects would need every
 * node stopped).  So look for the object directories first, and only
 * then for the marker: whoever made "00" made the marker before it, so
 * seeing "00" means the marker, if any, is seen too.  (Looking the other
 * way round, a node that found no marker could then find "00" made
 * meanwhile by a node starting the same new store, and pick layout 1
 * while the other picked 2.)  mkdir is atomic across the cluster, so a
 * new store's marker is made once, whoever makes it.
 */
#define LAYOUT2_MARKER	"layout.2"

/* 1 if the store root holds @name, 0 if not, or an error. */
static int store_has(struct archip_store *st, const char *name)
{
	struct dentry *d;

	d = lookup_positive_unlocked(name, st->root.dentry, strlen(name));
	if (d == ERR_PTR(-ENOENT))
		return 0;
	if (IS_ERR(d))
		return PTR_ERR(d);
	dput(d);
	return 1;
}

static int store_layout(struct archip_store *st)
{
	struct path p;
	int dirs, err;

	dirs = store_has(st, "00");
	if (dirs < 0)
		return dirs;
	archip_fault_layout();
	if (dirs) {
		err = store_has(st, LAYOUT2_MARKER);
		if (err < 0)
			return err;
		st->layout = err ? 2 : 1;
		return 0;
	}
	err = mkdir_at(&st->root, LAYOUT2_MARKER, &p);
	if (!err)
		path_put(&p);
	else if (err != -EEXIST)	/* -EEXIST: another node just made it */
		return err;
	st->layout = 2;
	return 0;
}

int archip_store_open(struct archip_store *st, const char *root,
		      const char **why)
{
	char name[4];
	int err, i;

	memset(st, 0, sizeof(*st));
	err = kern_path(root, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &st->root);
	if (err) {
		*why = "the store root does not exist or is not a directory";
		return err;
	}
	if (st->root.dentry->d_sb->s_magic != OCFS2_SUPER_MAGIC) {
		*why = "the store root is not on an OCFS2 filesystem: mount the SAN there first";
		err = -EXDEV;
		goto out_root;
	}
	if (__mnt_is_readonly(st->root.mnt)) {
		*why = "the store root is on a read-only mount";
		err = -EROFS;
		goto out_root;
	}
	err = store_layout(st);
	if (err) {
		*why = "cannot create or read the store's layout marker";
		goto out_root;
	}
	/* Any node may have made them already: the store is shared. */
	for (i = 0; i < ARCHIP_STORE_DIRS; i++) {
		snprintf(name, sizeof(name), "%02x", i);
		err = mkdir_at(&st->root, name, &st->dirs[i]);
		if (err) {
			*why = "cannot create the store's object directories";
			goto out_dirs;
		}
	}
	err = mkdir_at(&st->root, "locks", &st->locks);
	if (err) {
		*why = "cannot create the store's locks directory";
		goto out_dirs;
	}
	st->reflink_ok = true;
	return 0;

out_dirs:
	while (--i >= 0)
		path_put(&st->dirs[i]);
out_root:
	path_put(&st->root);
	return err;
}

void archip_store_close(struct archip_store *st)
{
	int i;

	path_put(&st->locks);
	for (i = 0; i < ARCHIP_STORE_DIRS; i++)
		path_put(&st->dirs[i]);
	path_put(&st->root);
}

/* Direct I/O when the range allows it: the data path must not pollute
 * (or be served stale from) the page cache of one node.
 */
static void obj_kiocb(struct kiocb *kio, struct file *f, u64 off, u32 len)
{
	init_sync_kiocb(kio, f);
	kio->ki_pos = off;
	if (!(off % DIO_ALIGN) && !(len % DIO_ALIGN))
		kio->ki_flags |= IOCB_DIRECT;
}

int archip_store_read(struct archip_store *st, const char *name, u64 off,
		      struct archip_buf *buf)
{
	struct iov_iter iter;
	struct kiocb kio;
	struct file *f;
	u32 done = 0;
	ssize_t n;

	f = obj_open(st, name, O_RDONLY);
	if (IS_ERR(f)) {
		if (PTR_ERR(f) != -ENOENT)
			return PTR_ERR(f);
		buf_zero(buf, 0);	/* a missing object reads as zeros */
		return 0;
	}
	obj_kiocb(&kio, f, off, buf->len);
	iov_iter_bvec(&iter, ITER_DEST, buf->bvec, buf->nr_pages, buf->len);
	while (done < buf->len) {
		n = vfs_iocb_iter_read(f, &kio, &iter);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0) {
			archip_store_fput(f);
			return n;
		}
		if (!n)
			break;		/* end of file: the rest is zeros */
		done += n;
		/* A short direct read: finish the tail buffered. */
		kio.ki_flags &= ~IOCB_DIRECT;
	}
	archip_store_fput(f);
	if (done < buf->len)
		buf_zero(buf, done);
	return 0;
}

int archip_store_write(struct archip_store *st, const char *name, u64 off,
		       struct archip_buf *buf)
{
	struct iov_iter iter;
	struct kiocb kio;
	struct file *f;
	u32 done = 0;
	ssize_t n;
	int err = 0;

	f = obj_open(st, name, O_WRONLY | O_CREAT);
	if (IS_ERR(f))
		return PTR_ERR(f);
	obj_kiocb(&kio, f, off, buf->len);
	iov_iter_bvec(&iter, ITER_SOURCE, buf->bvec, buf->nr_pages, buf->len);
	while (done < buf->len) {
		n = vfs_iocb_iter_write(f, &kio, &iter);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n <= 0) {
			err = n ? n : -EIO;
			goto out;
		}
		done += n;
		kio.ki_flags &= ~IOCB_DIRECT;
	}
	if (READ_ONCE(sync_writes))
		err = vfs_fsync_range(f, off, off + buf->len - 1, 1);
out:
	archip_store_fput(f);
	return err;
}

int archip_store_flush(struct archip_store *st, const char *name)
{
	struct super_block *sb;
	struct file *f;
	int err;

	if (name) {
		f = obj_open(st, name, O_RDONLY);
		if (IS_ERR(f))
			return PTR_ERR(f) == -ENOENT ? 0 : PTR_ERR(f);
		err = vfs_fsync(f, 0);
		archip_store_fput(f);
		return err;
	}
	sb = st->root.dentry->d_sb;
	down_read(&sb->s_umount);
	err = sync_filesystem(sb);
	up_read(&sb->s_umount);
	return err;
}

/* OCFS2 has no ZERO_RANGE; a punched hole reads as zeros, which is all
 * WRITE_ZEROES promises.  A missing object already reads as zeros.
 */
int archip_store_punch(struct archip_store *st, const char *name, u64 off,
		       u64 len)
{
	struct file *f;
	u64 size;
	int err;

	f = obj_open(st, name, O_WRONLY);
	if (IS_ERR(f))
		return PTR_ERR(f) == -ENOENT ? 0 : PTR_ERR(f);
	/* Past the end of the object reads as zeros already: punch only
	 * what it holds (OCFS2 refuses a range past the end of a file
	 * smaller than a block).
	 */
	size = i_size_read(file_inode(f));
	if (off >= size) {
		archip_store_fput(f);
		return 0;
	}
	len = min(len, size - off);
	err = vfs_fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			    off, len);
	if (!err)
		err = vfs_fsync(f, 0);
	archip_store_fput(f);
	return err;
}

/*
 * Run @op on the dentry of @name in @dir, with write access and the
 * directory's lock taken as the VFS takes them (filename_create(): write
 * access first, then the lock).
 */
static int in_dir(const struct path *dir, const char *name,
		  int (*op)(const struct path *dir, struct dentry *d, void *arg),
		  void *arg)
{
	struct inode *dinode = d_inode(dir->dentry);
	struct dentry *d;
	int err;

	err = mnt_want_write(dir->mnt);
	if (err)
		return err;
	inode_lock_nested(dinode, I_MUTEX_PARENT);
	d = lookup_one_len(name, dir->dentry, strlen(name));
	if (IS_ERR(d)) {
		err = PTR_ERR(d);
	} else {
		err = op(dir, d, arg);
		dput(d);
	}
	inode_unlock(dinode);
	mnt_drop_write(dir->mnt);
	return err;
}

static int unlink_op(const struct path *dir, struct dentry *d, void *arg)
{
	/* Deleting what is not there is done already. */
	if (d_is_negative(d))
		return 0;
	return vfs_unlink(archip_mnt_idmap(dir->mnt), d_inode(dir->dentry), d, NULL);
}

static int unlink_at(const struct path *dir, const char *name)
{
	return in_dir(dir, name, unlink_op, NULL);
}

/*
 * A COPY in progress fills ".t.DST" in DST's directory (COPY_TMP_FMT: a
 * name no client can use, as none may start with '.'), and links it as
 * DST only once it is whole.  A node that dies during a COPY leaves it
 * behind; the retry reuses it, and deleting DST removes it too.
 */
#define COPY_TMP_FMT	".t.%s"

int archip_store_delete(struct archip_store *st, const char *name)
{
	char tmp[ARCHIP_NAME_MAX + 4];
	int err;

	err = unlink_at(obj_dir(st, name), name);
	snprintf(tmp, sizeof(tmp), COPY_TMP_FMT, name);
	return unlink_at(obj_dir(st, name), tmp) ?: err;
}

int archip_store_stat(struct archip_store *st, const char *name,
		      u64 *size, u64 *allocated, bool *exists)
{
	struct kstat ks;
	struct file *f;
	int err;

	*size = 0;
	*allocated = 0;
	*exists = false;
	f = obj_open(st, name, O_RDONLY);
	if (IS_ERR(f))
		return PTR_ERR(f) == -ENOENT ? 0 : PTR_ERR(f);
	err = vfs_getattr(&f->f_path, &ks, STATX_SIZE | STATX_BLOCKS,
			  AT_STATX_SYNC_AS_STAT);
	archip_store_fput(f);
	if (err)
		return err;
	*size = ks.size;
	*allocated = ks.blocks << 9;
	*exists = true;
	return 0;
}

static int copy_data(struct file *in, struct file *out, loff_t size)
{
	loff_t pos = 0;
	ssize_t n;

	while (pos < size) {
		n = vfs_copy_file_range(in, pos, out, pos,
					min_t(loff_t, size - pos, SZ_1G), 0);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0)
			return n;
		if (!n)
			return -EIO;
		pos += n;
	}
	return 0;
}

static int link_op(const struct path *dir, struct dentry *d, void *arg)
{
	struct file *f = arg;

	if (d_is_positive(d))
		return -EEXIST;
	return vfs_link(f->f_path.dentry, archip_mnt_idmap(dir->mnt),
			d_inode(dir->dentry), d, NULL);
}

/* 0 if @name in @dir is @f's inode and its only link, else -EBUSY. */
static int tmp_is_ours(const struct path *dir, const char *name, struct file *f)
{
	struct kstat ks;
	struct dentry *d;
	int err;

	/* Refreshed from the cluster (OCFS2 takes the inode's lock). */
	err = vfs_getattr(&f->f_path, &ks, STATX_NLINK, AT_STATX_SYNC_AS_STAT);
	if (err)
		return err;
	d = lookup_positive_unlocked(name, dir->dentry, strlen(name));
	if (IS_ERR(d))
		return PTR_ERR(d) == -ENOENT ? -EBUSY : PTR_ERR(d);
	err = d_inode(d) == file_inode(f) && ks.nlink == 1 ? 0 : -EBUSY;
	dput(d);
	return err;
}

static int unlink_ours_op(const struct path *dir, struct dentry *d, void *arg)
{
	struct file *f = arg;

	if (d_is_negative(d) || d_inode(d) != file_inode(f))
		return 0;
	return vfs_unlink(archip_mnt_idmap(dir->mnt), d_inode(dir->dentry), d, NULL);
}

/* Unlink @name in @dir if it is still @f's inode (a COPY's own temp). */
static int unlink_ours_at(const struct path *dir, const char *name,
			  struct file *f)
{
	return in_dir(dir, name, unlink_ours_op, f);
}

/* Link @f's inode into @dir as @name; -EEXIST if the name is taken. */
static int link_at(const struct path *dir, struct file *f, const char *name)
{
	return in_dir(dir, name, link_op, f);
}

/* Fill @out, empty, with @in's data: a reflink if the filesystem can. */
static int copy_into(struct archip_store *st, struct file *in,
		     struct file *out, const char *dst)
{
	loff_t size = i_size_read(file_inode(in)), n = -EOPNOTSUPP;
	int err;

	if (archip_fault_copy_hold(dst)) {
		/* Half of it on the SAN, as a node dying mid-copy leaves it. */
		err = copy_data(in, out, size / 2) ?: vfs_fsync(out, 0);
		if (err)
			return err;
		archip_fault_copy_wait(dst);
	}
	if (size && READ_ONCE(st->reflink_ok)) {
		n = vfs_clone_file_range(in, 0, out, 0, 0, 0);
		if (n == -EOPNOTSUPP || n == -EINVAL || n == -EXDEV) {
			pr_info("reflink refused (%lld); COPY copies data\n", n);
			WRITE_ONCE(st->reflink_ok, false);
		}
	}
	if (n != size && size)
		return copy_data(in, out, size);
	return 0;
}

/*
 * Server-side copy to a new object: a reflink where OCFS2 has the
 * refcount feature (shared extents, copy-on-write: what clones need), a
 * data copy otherwise.  Atomic: the destination appears only whole, and
 * stable, or not at all, whatever node dies when; -EEXIST if it exists,
 * -EBUSY while another COPY to it runs.  The copy fills a temporary file
 * (COPY_TMP_FMT) under a cluster-wide flock, so that a second COPY to the
 * same name never fills it at once, and a dead node's half-filled one is
 * emptied and reused; fsync, then link it as DST (a link fails if DST
 * exists: no COPY ever replaces an object), then fsync again: the link is
 * in the inode's transaction (fs/ocfs2 patch 0010).
 */
int archip_store_copy(struct archip_store *st, const char *src,
		      const char *dst)
{
	const struct path *dir = obj_dir(st, dst);
	char tmp[ARCHIP_NAME_MAX + 4];
	struct file *in, *out;
	int err;

	in = obj_open(st, src, O_RDONLY);
	if (IS_ERR(in))
		return PTR_ERR(in);
	err = obj_exists(dir, dst);
	if (err) {
		archip_store_fput(in);
		return err;
	}
	snprintf(tmp, sizeof(tmp), COPY_TMP_FMT, dst);
	out = archip_store_create_open(dir, tmp, O_RDWR | OBJ_FLAGS, 0644);
	if (IS_ERR(out)) {
		archip_store_fput(in);
		return PTR_ERR(out);
	}
	err = archip_store_flock(out, true);
	if (err) {
		err = err == -EAGAIN ? -EBUSY : err;
		goto out;
	}
	/*
	 * We opened it before we held it: another node may have filled,
	 * linked and unlinked it meanwhile, and it is DST now.  Every COPY
	 * links and unlinks it only while holding its flock, so under ours
	 * this holds still: it must still be the temporary name's, and only
	 * its (one link), and DST must still be missing.
	 */
	err = tmp_is_ours(dir, tmp, out) ?: obj_exists(dir, dst);
	if (err)
		goto out;
	err = vfs_truncate(&out->f_path, 0) ?: copy_into(st, in, out, dst) ?:
	      vfs_fsync(out, 0) ?: link_at(dir, out, dst);
	unlink_ours_at(dir, tmp, out);
	if (!err)
		err = vfs_fsync(out, 0);
out:
	archip_store_fput(in);
	__fput_sync(out);	/* drops the flock */
	return err;
}

struct list_ctx {
	struct dir_context ctx;
	const char *prefix;
	size_t plen;
	char *out;
	u32 cap;
	u32 used;
	bool full;
};

static bool list_actor(struct dir_context *ctx, const char *name, int len,
		       loff_t pos, u64 ino, unsigned int type)
{
	struct list_ctx *lc = container_of(ctx, struct list_ctx, ctx);

	if (type != DT_REG || len < lc->plen || memcmp(name, lc->prefix, lc->plen))
		return true;
	if (lc->used + len + 1 > lc->cap) {
		lc->full = true;	/* ctx->pos stays on this entry */
		return false;
	}
	memcpy(lc->out + lc->used, name, len);
	lc->out[lc->used + len] = '\0';
	lc->used += len + 1;
	return true;
}

#define CURSOR_DIR_SHIFT	48
#define CURSOR_POS_MASK		((1ULL << CURSOR_DIR_SHIFT) - 1)

/*
 * Names of objects starting with @prefix, NUL-terminated, as many as fit
 * in @cap bytes, from @cursor (0: the start).  *@next is where the next
 * call goes on: the hash directory in its top 16 bits, the position in it
 * (readdir's, stable on OCFS2) below; ARCHIP_LIST_DONE after the last
 * name.  Each name is read once over all calls: a listing is O(N).
 */
int archip_store_list(struct archip_store *st, const char *prefix, u64 cursor,
		      char *out, u32 cap, u32 *used, u64 *next)
{
	struct list_ctx lc = {
		.ctx.actor = list_actor,
		.prefix = prefix,
		.plen = strlen(prefix),
		.out = out,
		.cap = cap,
	};
	u64 i = cursor >> CURSOR_DIR_SHIFT;
	struct file *dir;
	int err = 0;

	*used = 0;
	*next = ARCHIP_LIST_DONE;
	if (cursor == ARCHIP_LIST_DONE)
		return 0;
	for (; i < ARCHIP_STORE_DIRS && !err; i++) {
		dir = dentry_open(&st->dirs[i], O_RDONLY | O_DIRECTORY,
				  current_cred());
		if (IS_ERR(dir))
			return PTR_ERR(dir);
		lc.ctx.pos = i == cursor >> CURSOR_DIR_SHIFT ?
			     cursor & CURSOR_POS_MASK : 0;
		err = iterate_dir(dir, &lc.ctx);
		archip_store_fput(dir);
		if (lc.full) {
			if (!lc.used)
				return -EOVERFLOW;	/* one name over cap */
			*next = (i << CURSOR_DIR_SHIFT) |
				(lc.ctx.pos & CURSOR_POS_MASK);
			break;
		}
	}
	*used = lc.used;
	return err;
}

/*
 * A cluster-wide flock on @f, without waiting: 0, or -EAGAIN if another
 * holder (on any storage node) has it.  OCFS2 takes a DLM lock for it,
 * so across all storage nodes one exclusive holder wins, or any number of
 * shared ones; a node that dies loses its flocks when the cluster evicts
 * it.  Released when the last reference to @f goes (__fput_sync() to be
 * sure it is gone on return).
 */
int archip_store_flock(struct file *f, bool excl)
{
	struct file_lock fl;
	int err;

	archip_flock_init(&fl, f, excl);
	if (f->f_op->flock)
		err = f->f_op->flock(f, F_SETLK, &fl);	/* never waits */
	else
		err = locks_lock_file_wait(f, &fl);
	if (fl.fl_ops && fl.fl_ops->fl_release_private)
		fl.fl_ops->fl_release_private(&fl);
	return err == -EWOULDBLOCK ? -EAGAIN : err;
}
