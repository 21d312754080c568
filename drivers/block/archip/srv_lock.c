// SPDX-License-Identifier: GPL-2.0
/*
 * Fencing, the server's half (Documentation/protocol.rst, "Fencing"): the
 * holder of a volume lock gets an epoch, stored in the lock file and grown
 * each time the lock is taken anew.  Each of its data connections BINDs
 * to the lock at that epoch, in a slot (its queue): it then holds a
 * shared "NAME.w" and an exclusive "NAME.qSLOT" (ARCHIP_LOCK_*_FMT) until
 * it ends, and every data-changing request must carry the epoch.
 *
 * The rules, which every change here must keep:
 *  1. A connection's locks are dropped only after its last request
 *     finished (srv_conn.c drops them in the last put).  So a new
 *     holder's ACQUIRE, which waits for "NAME.w" exclusively, returns only
 *     once every writer of an older epoch has ended on every node; and a
 *     BIND replacing a connection the client gave up waits for the old
 *     one's "NAME.qSLOT": its late writes land before the resend, never
 *     after.
 *  2. ACQUIRE grows the epoch (written and fsynced) before it waits for
 *     "NAME.w"; BIND takes "NAME.w" shared before it checks the epoch, and
 *     checks it again once it has its slot.  So either the new holder
 *     waits for a binder, or the binder sees the new epoch (-ESTALE).
 *  3. A request that changes data whose epoch is not its connection's is
 *     refused (-ESTALE) before it touches the store; one that changes an
 *     object of the volume format (archip_vol_obj_fenced()) with no epoch
 *     at all, -ENOLCK: every writer of a volume is fenced.
 *  4. A node that dies or hangs holding such locks loses them when the
 *     cluster evicts it (OCFS2 backs flock with the DLM).  A client that
 *     goes silent loses its connections after the lease (srv_conn.c sets
 *     TCP keepalive and user timeout), and with them its locks.
 *
 * Waits hold no worker.  A lock that is taken is tried again, after
 * LOCK_POLL_MIN_MS and then less often (to LOCK_POLL_MAX_MS: a trylock is
 * a DLM request), from a delayed work on the server's lock queue, until the
 * request's deadline (its len, in ms) or the end of its connection; in
 * between nothing runs, so any number of waiting ACQUIREs and BINDs (a
 * storage node's death makes every hypervisor's queues BIND at once)
 * costs no READ or WRITE a worker.  The lock requests of one connection
 * run one at a time, in the order they came (lock_q); the state of the
 * one running lives in its request (step, deadline, lk, lk2, held), and
 * only it touches the connection's locks, bound and epoch (the status
 * dump reads them with READ_ONCE; the last put, which frees them, runs
 * after every request).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/archip.h>
#include <linux/archip-volume.h>
#include <net/sock.h>

#include "srv.h"

/* A taken lock is tried again after 100 ms, then less often, up to 1 s. */
#define LOCK_POLL_MIN_MS	100
#define LOCK_POLL_MAX_MS	1000
#define CONN_MAX_LOCKS	64

/* A lock taken by ACQUIRE; owned by its connection. */
struct archip_srv_held {
	struct list_head node;		/* conn->locks */
	struct file *file;
	u32 epoch;
	char name[ARCHIP_NAME_MAX + 1];
};

enum { STEP_START, STEP_LOCK, STEP_BARRIER, STEP_SLOT };

/* --------------------------------------------------------- lock files */

/*
 * Lock NAME is the file locks/NAME of the store; its lock is a flock of
 * the open file (archip_store_flock()), held until the file is closed.
 */
static int lockfile_open(struct archip_store *st, const char *name,
			 struct file **f)
{
	*f = archip_store_create_open(&st->locks, name,
				      O_RDWR | O_LARGEFILE | O_NOATIME, 0600);
	if (!IS_ERR(*f))
		return 0;
	return PTR_ERR(xchg(f, NULL));
}

/* Synchronous close: the unlock must be done when the reply goes out. */
static void lockfile_close(struct file **f)
{
	if (*f)
		__fput_sync(*f);
	*f = NULL;
}

/*
 * The record at the start of a lock file.  Buffered I/O: it takes the
 * inode's cluster lock, so a node reads what another wrote; the writer
 * fsyncs before it answers.  A new (empty) lock file reads as epoch 0.
 */
static int rec_read(struct file *f, struct archip_lock_rec *rec)
{
	loff_t pos = 0;
	ssize_t n;

	memset(rec, 0, sizeof(*rec));
	n = kernel_read(f, rec, sizeof(*rec), &pos);
	if (n < 0)
		return n;
	if (n == 0)
		return 0;
	if (n != sizeof(*rec) || le32_to_cpu(rec->magic) != ARCHIP_LOCK_MAGIC)
		return -EUCLEAN;
	return 0;
}

static int rec_write(struct file *f, const struct archip_lock_rec *rec)
{
	loff_t pos = 0;
	ssize_t n;

	n = kernel_write(f, rec, sizeof(*rec), &pos);
	if (n < 0)
		return n;
	if (n != sizeof(*rec))
		return -EIO;
	return vfs_fsync(f, 0);
}

/* 0 if lock @name is at @epoch, -ESTALE if it moved on; without taking it. */
static int epoch_is(struct archip_store *st, const char *name, u32 epoch)
{
	struct archip_lock_rec rec;
	struct file *f;
	int err;

	f = file_open_root(&st->locks, name, O_RDONLY | O_LARGEFILE | O_NOATIME, 0);
	if (IS_ERR(f)) {
		if (PTR_ERR(f) != -ENOENT)
			return PTR_ERR(f);
		memset(&rec, 0, sizeof(rec));
		err = 0;
	} else {
		err = rec_read(f, &rec);
		archip_store_fput(f);
	}
	if (!err && le32_to_cpu(rec.epoch) != epoch)
		err = -ESTALE;
	return err;
}

static u32 next_epoch(u32 e)
{
	return e + 1 ?: 1;
}

/*
 * Take the flock of @f for @io, or go on later: 0; ARCHIP_SRV_PENDING
 * (the next try is queued); -EAGAIN once the deadline passed;
 * -ECONNRESET if the connection ended meanwhile.
 */
/*
 * The connection is gone, or going: its receive loop ended, or its
 * socket failed (a lease that ran out while the receive loop waits for
 * room in the budget, held by lock requests like this one).
 */
static bool conn_gone(struct archip_srv_conn *c)
{
	struct sock *sk = c->sock->sk;

	return READ_ONCE(c->closing) || READ_ONCE(sk->sk_err) ||
	       (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN);
}

static int wait_flock(struct archip_srv_io *io, struct file *f, bool excl)
{
	int err = archip_store_flock(f, excl);

	if (err != -EAGAIN)
		return err;
	if (conn_gone(io->conn))
		return -ECONNRESET;
	if (!time_before(jiffies, io->deadline))
		return -EAGAIN;
	queue_delayed_work(io->conn->srv->lock_wq, &io->work,
			   msecs_to_jiffies(min(LOCK_POLL_MIN_MS << min(io->polls, 4u),
						LOCK_POLL_MAX_MS)));
	io->polls++;
	return ARCHIP_SRV_PENDING;
}

/* -------------------------------------------------------------- the ops */

static struct archip_srv_held *find_held(struct archip_srv_conn *c,
					 const char *name)
{
	struct archip_srv_held *hl;

	list_for_each_entry(hl, &c->locks, node)
		if (!strcmp(hl->name, name))
			return hl;
	return NULL;
}

/* ACQUIRE done: the connection holds io->lk at @epoch. */
static int acquire_take(struct archip_srv_io *io, u32 epoch)
{
	struct archip_srv_conn *c = io->conn;
	struct archip_srv_held *hl = io->held;

	io->held = NULL;
	hl->file = io->lk;
	io->lk = NULL;
	hl->epoch = epoch;
	strscpy(hl->name, io->name, sizeof(hl->name));
	list_add_tail(&hl->node, &c->locks);
	WRITE_ONCE(c->nr_locks, c->nr_locks + 1);
	WRITE_ONCE(c->epoch, epoch);
	io->rep.acquire.epoch = cpu_to_le32(epoch);
	io->small = &io->rep.acquire;
	io->small_len = sizeof(io->rep.acquire);
	return 0;
}

/*
 * ACQUIRE @io->name.  @io->epoch 0: take it anew, growing its epoch, then
 * wait (up to @io->len ms) until every connection bound to an older epoch
 * has ended.  @io->epoch E: take back the lock held at epoch E (after a
 * lost connection), waiting up to @io->len ms for the old connection to
 * let go: -EINPROGRESS if it still holds it at E, -ESTALE if the lock
 * moved on.
 */
static int do_acquire(struct archip_srv_io *io)
{
	struct archip_srv_conn *c = io->conn;
	struct archip_store *st = &c->srv->store;
	char wname[ARCHIP_LOCK_FILE_NAME_MAX];
	struct archip_srv_held *hl;
	struct archip_lock_rec rec;
	u32 epoch;
	int err;

	switch (io->step) {
	case STEP_START:
		hl = find_held(c, io->name);
		if (hl) {			/* already ours */
			io->rep.acquire.epoch = cpu_to_le32(hl->epoch);
			io->small = &io->rep.acquire;
			io->small_len = sizeof(io->rep.acquire);
			return 0;
		}
		/* One epoch per connection: a bound one holds no lock. */
		if (c->bound[0])
			return -EBUSY;
		if (c->nr_locks >= CONN_MAX_LOCKS)
			return -ENOSPC;
		/* Taking it back: a lock that moved on is refused at once. */
		if (io->epoch) {
			err = epoch_is(st, io->name, io->epoch);
			if (err)
				return err;
		}
		io->held = kzalloc(sizeof(*io->held), GFP_KERNEL);
		if (!io->held)
			return -ENOMEM;
		err = lockfile_open(st, io->name, &io->lk);
		if (err)
			return err;
		/* Anew, the lock is tried once: -EAGAIN if anyone holds it. */
		io->deadline = jiffies + (io->epoch ? msecs_to_jiffies(io->len) : 0);
		io->step = STEP_LOCK;
		fallthrough;
	case STEP_LOCK:
		err = wait_flock(io, io->lk, true);
		if (err == ARCHIP_SRV_PENDING)
			return err;
		if (err == -EAGAIN && io->epoch)
			err = epoch_is(st, io->name, io->epoch) ?: -EINPROGRESS;
		if (!err)
			err = rec_read(io->lk, &rec);
		if (err)
			return err;
		if (io->epoch)
			return le32_to_cpu(rec.epoch) == io->epoch ?
			       acquire_take(io, io->epoch) : -ESTALE;
		epoch = next_epoch(le32_to_cpu(rec.epoch));
		rec.magic = cpu_to_le32(ARCHIP_LOCK_MAGIC);
		rec.epoch = cpu_to_le32(epoch);
		rec.client_id = cpu_to_le64(c->client_id);
		rec.time = cpu_to_le64(ktime_get_real_seconds());
		err = rec_write(io->lk, &rec);
		if (err)
			return err;
		io->rep.acquire.epoch = rec.epoch;
		/* The barrier: no writer of an older epoch is left. */
		snprintf(wname, sizeof(wname), ARCHIP_LOCK_WRITERS_FMT, io->name);
		err = lockfile_open(st, wname, &io->lk2);
		if (err)
			return err;
		io->deadline = jiffies + msecs_to_jiffies(io->len);
		io->step = STEP_BARRIER;
		fallthrough;
	case STEP_BARRIER:
		err = wait_flock(io, io->lk2, true);
		if (err == ARCHIP_SRV_PENDING)
			return err;
		lockfile_close(&io->lk2);	/* held for no longer */
		if (err)
			return err == -EAGAIN ? -EBUSY : err;
		return acquire_take(io, le32_to_cpu(io->rep.acquire.epoch));
	}
	return -EINVAL;
}

/* A BIND's lock @f, then the epoch check: 0, a status, or pending. */
static int bind_wait(struct archip_srv_io *io, struct file *f, bool excl)
{
	int err = wait_flock(io, f, excl);

	if (err == -EAGAIN)
		return -ETIMEDOUT;
	return err ?: epoch_is(&io->conn->srv->store, io->name, io->epoch);
}

/*
 * BIND: this connection writes for lock @io->name at @io->epoch, in slot
 * @io->off, waiting up to @io->len ms for the slot.  Shared "NAME.w"
 * first, then the epoch check (rule 2).
 */
static int do_bind(struct archip_srv_io *io)
{
	struct archip_srv_conn *c = io->conn;
	struct archip_store *st = &c->srv->store;
	char lname[ARCHIP_LOCK_FILE_NAME_MAX];
	int err;

	switch (io->step) {
	case STEP_START:
		if (!io->epoch)
			return -EINVAL;
		if (c->bound[0] || c->nr_locks)
			return -EBUSY;
		snprintf(lname, sizeof(lname), ARCHIP_LOCK_WRITERS_FMT, io->name);
		err = lockfile_open(st, lname, &io->lk);
		if (err)
			return err;
		snprintf(lname, sizeof(lname), ARCHIP_LOCK_SLOT_FMT, io->name,
			 (unsigned int)io->off);
		err = lockfile_open(st, lname, &io->lk2);
		if (err)
			return err;
		io->deadline = jiffies + msecs_to_jiffies(io->len);
		io->step = STEP_LOCK;
		fallthrough;
	case STEP_LOCK:
		/* A fenced client learns it now, not after waiting for a slot. */
		err = bind_wait(io, io->lk, false);
		if (err)
			return err;
		io->step = STEP_SLOT;
		fallthrough;
	case STEP_SLOT:
		/* The check that counts: after both locks (rule 2). */
		err = bind_wait(io, io->lk2, true);
		if (err)
			return err;
		c->bind_w = io->lk;
		c->bind_slot = io->lk2;
		io->lk = NULL;
		io->lk2 = NULL;
		strscpy(c->bound, io->name, sizeof(c->bound));
		/* For the status dump, which reads bound only after this. */
		smp_store_release(&c->bound_set, true);
		WRITE_ONCE(c->epoch, io->epoch);
		return 0;
	}
	return -EINVAL;
}

/*
 * RELEASE: from now on the connection writes under no epoch of this lock
 * (nor under any, if it was the latest held); the lock goes only once no
 * data request of the connection that may have passed its epoch check is
 * still executing (rule 1: the next holder's barrier does not wait for an
 * unbound connection).
 */
static int do_release(struct archip_srv_io *io)
{
	struct archip_srv_conn *c = io->conn;
	struct archip_srv_held *hl;

	if (io->step == STEP_START) {
		hl = find_held(c, io->name);
		if (!hl)
			return -ENOENT;
		list_del(&hl->node);
		WRITE_ONCE(c->nr_locks, c->nr_locks - 1);
		if (READ_ONCE(c->epoch) == hl->epoch) {
			struct archip_srv_held *last = list_empty(&c->locks) ? NULL :
				list_last_entry(&c->locks, struct archip_srv_held, node);

			WRITE_ONCE(c->epoch, last ? last->epoch : 0);
		}
		/* Pairs with archip_srv_changing_start(). */
		smp_mb();
		io->held = hl;
		io->step = STEP_LOCK;
	}
	if (atomic_read(&c->changing) && !conn_gone(c)) {
		queue_delayed_work(c->srv->lock_wq, &io->work, msecs_to_jiffies(10));
		return ARCHIP_SRV_PENDING;
	}
	/* archip_srv_lock_finish() closes and frees io->held. */
	return 0;
}

/*
 * A lock's name must not be one of the files behind another lock
 * (ARCHIP_LOCK_WRITERS_FMT, ARCHIP_LOCK_SLOT_FMT): taking "vol.X.w" would
 * block every BIND and ACQUIRE of vol.X.
 */
static bool lock_name_ok(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (!dot)
		return true;
	if (!strcmp(dot, ".w"))
		return false;
	if (dot[1] != 'q' || !dot[2])
		return true;
	for (i = 2; dot[i]; i++)
		if (dot[i] < '0' || dot[i] > '9')
			return true;
	return false;
}

/* The next step of a lock request: its status, or ARCHIP_SRV_PENDING. */
int archip_srv_lock_execute(struct archip_srv_io *io)
{
	if (io->step == STEP_START) {
		/* Queued behind others of a client that is gone: don't. */
		if (conn_gone(io->conn))
			return -ECONNRESET;
		if (!lock_name_ok(io->name))
			return -EINVAL;
	}
	switch (io->op) {
	case ARCHIP_OP_ACQUIRE:
		return do_acquire(io);
	case ARCHIP_OP_BIND:
		return do_bind(io);
	case ARCHIP_OP_RELEASE:
		return do_release(io);
	}
	return -EOPNOTSUPP;
}

static bool changes_data(u8 op)
{
	return op == ARCHIP_OP_WRITE || op == ARCHIP_OP_DISCARD ||
	       op == ARCHIP_OP_WRITE_ZEROES || op == ARCHIP_OP_COPY ||
	       op == ARCHIP_OP_DELETE;
}

/*
 * Rule 3: may @io, of its connection, change data?  0 if it may: it then
 * counts as executing until archip_srv_changing_end() (a RELEASE waits
 * for it).  -ENOLCK: it changes an object of the volume format without a
 * lock epoch (fencing for everyone); -ESTALE: its epoch is not the
 * connection's (fenced, or not bound yet).
 */
int archip_srv_changing_start(struct archip_srv_io *io)
{
	struct archip_srv_conn *c = io->conn;

	if (!changes_data(io->op))
		return 0;
	if (!io->epoch &&
	    archip_vol_obj_fenced(io->op == ARCHIP_OP_COPY ? io->name2 : io->name))
		return -ENOLCK;
	atomic_inc(&c->changing);
	/* Counted before the epoch is read: pairs with do_release(). */
	smp_mb__after_atomic();
	if (io->epoch == READ_ONCE(c->epoch))
		return 0;
	atomic_dec(&c->changing);
	return -ESTALE;
}

void archip_srv_changing_end(struct archip_srv_io *io)
{
	if (changes_data(io->op))
		atomic_dec(&io->conn->changing);
}

/* A lock request has arrived: run it now, or once those before it end. */
void archip_srv_lock_submit(struct archip_srv_io *io)
{
	struct archip_srv_conn *c = io->conn;
	bool run;

	spin_lock(&c->lock_q_lock);
	run = !c->lock_busy;
	if (run)
		c->lock_busy = true;
	else
		list_add_tail(&io->lock_node, &c->lock_q);
	spin_unlock(&c->lock_q_lock);
	if (run)
		queue_delayed_work(c->srv->lock_wq, &io->work, 0);
}

/*
 * A lock request is done: let go of what it still has, before its answer
 * goes out (a client that retries at once finds the lock as the answer
 * says it is).
 */
void archip_srv_lock_finish(struct archip_srv_io *io)
{
	lockfile_close(&io->lk2);
	lockfile_close(&io->lk);
	if (io->held)
		lockfile_close(&io->held->file);
	kfree(io->held);
	io->held = NULL;
}

/* ... and once it is answered, run the next one of its connection. */
void archip_srv_lock_next(struct archip_srv_io *io)
{
	struct archip_srv_conn *c = io->conn;
	struct archip_srv_io *next;

	spin_lock(&c->lock_q_lock);
	next = list_first_entry_or_null(&c->lock_q, struct archip_srv_io,
					lock_node);
	if (next)
		list_del(&next->lock_node);
	else
		c->lock_busy = false;
	spin_unlock(&c->lock_q_lock);
	if (next)
		queue_delayed_work(c->srv->lock_wq, &next->work, 0);
}

/* The connection's last put: every request is done, its locks may go. */
void archip_srv_lock_release_all(struct archip_srv_conn *c)
{
	struct archip_srv_held *hl, *tmp;

	list_for_each_entry_safe(hl, tmp, &c->locks, node) {
		lockfile_close(&hl->file);
		kfree(hl);
	}
	INIT_LIST_HEAD(&c->locks);
	WRITE_ONCE(c->nr_locks, 0);
	lockfile_close(&c->bind_slot);
	lockfile_close(&c->bind_w);
}
