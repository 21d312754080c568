// SPDX-License-Identifier: GPL-2.0
/*
 * A client connection: the handshake, then a receive loop that validates
 * each request frame, reads its payload and hands it to the I/O workqueue,
 * so the requests of one connection run concurrently and complete in any
 * order.  Replies are sent by the worker that finished the request.
 *
 * Memory per connection is bounded: the receive loop stops reading the
 * socket while max_inflight requests, or CONN_BUDGET bytes of payload, are
 * in flight.  The client then sees TCP backpressure, never an error.
 *
 * A malformed frame closes its connection (and only it) with a logged
 * reason: after one, nothing that follows on the stream can be trusted.
 *
 * Fencing (Documentation/protocol.rst, "Fencing"): the holder of a volume
 * lock gets an epoch, stored in the lock file and grown each time the lock
 * is taken anew.  Each of its data connections BINDs to the lock at that
 * epoch, in a slot (its queue): it then holds a shared "NAME.w" and an
 * exclusive "NAME.qSLOT" lock until it ends, and every data-changing
 * request must carry the epoch.  A connection's locks are dropped only
 * after its last request finished, so:
 *  - a new holder's ACQUIRE, which waits for "NAME.w" exclusively, returns
 *    only once every writer of an older epoch has ended on every node;
 *  - a BIND replacing a connection the client gave up waits for the old
 *    one's "NAME.qSLOT": its late writes land before the resend, never
 *    after.
 * A node that dies or hangs holding such locks loses them when the cluster
 * evicts it.  A client that goes silent loses its connections after the
 * lease (TCP keepalive and user timeout), and with them its locks.
 */
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/sched/task.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/genetlink.h>
#include <linux/archip-netlink.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "srv.h"
#include "srv_conn.h"
#include "sockio.h"

#define CONN_BUDGET		(8u << 20)
#define CONN_MAX_LOCKS		64
#define HELLO_TIMEOUT		(10 * HZ)
#define HELLO_MAX_LEN		4096
#define LOCK_NAME_MAX		(ARCHIP_NAME_MAX + 8)

/* Fault injection, for the fault tests: WRITEs to objects whose name
 * contains fault_delay_match wait fault_delay_ms before they execute.
 */
static unsigned int fault_delay_ms;
module_param(fault_delay_ms, uint, 0644);
MODULE_PARM_DESC(fault_delay_ms, "delay matching WRITEs by this many ms (testing)");
static char fault_delay_match[ARCHIP_NAME_MAX + 1];
module_param_string(fault_delay_match, fault_delay_match,
		    sizeof(fault_delay_match), 0644);
MODULE_PARM_DESC(fault_delay_match, "object name substring of the WRITEs to delay");

/*
 * A connection's receive thread: one per connection, so that a receive
 * blocked in its socket never holds up another connection (a workqueue
 * would cap them at WQ_MAX_ACTIVE).  Lifetime: owned by the server's
 * rx_threads list; the thread marks itself done once it let go of its
 * connection, and is reaped, with kthread_stop() waiting until it has left
 * this module's code, at the next accept or at server stop.
 */
struct rx_thread {
	struct list_head node;		/* srv->rx_threads */
	struct task_struct *task;
	bool done;
};

/*
 * One client connection.  Lifetime: the receive thread holds the first
 * reference and each request in flight (struct io) one more; the last put
 * (conn_release) drops the connection's locks, so a lock outlives every
 * request made under it, then unlinks and frees the connection.
 */
struct conn {
	struct kref ref;
	struct archip_srv *srv;
	struct socket *sock;
	struct list_head node;		/* srv->conns */
	struct rx_thread *rx;
	struct sockaddr_in peer;
	bool busy;			/* accepted over max_conns */

	u64 client_id;
	u64 features;
	u32 max_io;
	u32 max_inflight;

	struct mutex send_lock;
	spinlock_t budget_lock;		/* inflight, inflight_bytes */
	u32 inflight;
	u32 inflight_bytes;
	wait_queue_head_t budget_wait;
	atomic64_t requests;

	struct mutex locks_lock;	/* locks, nr_locks, bind_* */
	struct list_head locks;
	unsigned int nr_locks;

	/* BIND: the lock this connection writes for, its two lock files. */
	char bound[ARCHIP_NAME_MAX + 1];
	struct file *bind_w, *bind_slot;
	u32 epoch;			/* bound or held epoch; 0: none */
};

/* A lock taken by ACQUIRE; owned by its connection. */
struct conn_lock {
	struct list_head node;
	struct file *file;
	u32 epoch;
	char name[ARCHIP_NAME_MAX + 1];
};

/* A request, from its receipt to its reply; holds a connection reference. */
struct io {
	struct work_struct work;
	struct conn *conn;
	u8 op;
	u16 flags;
	u64 tag;
	u64 off;
	u32 len;
	u32 cost;
	u32 epoch;
	char name[ARCHIP_NAME_MAX + 1];
	char name2[ARCHIP_NAME_MAX + 1];
	struct archip_buf buf;
};

static int recv_all(struct conn *c, void *data, size_t len)
{
	return archip_sock_recv_kvec(c->sock, data, len);
}

static int recv_buf(struct conn *c, struct archip_buf *buf)
{
	struct msghdr msg = { };

	iov_iter_bvec(&msg.msg_iter, ITER_DEST, buf->bvec, buf->nr_pages,
		      buf->len);
	return archip_sock_recv(c->sock, &msg, buf->len);
}

/* Read and drop @len bytes: the payload of a request we refuse. */
static int recv_skip(struct conn *c, u32 len)
{
	char scratch[256];
	int err = 0;

	while (len && !err) {
		u32 n = min_t(u32, len, sizeof(scratch));

		err = recv_all(c, scratch, n);
		len -= n;
	}
	return err;
}

static int send_kvec(struct conn *c, const void *data, size_t len, bool more)
{
	return archip_sock_send_kvec(c->sock, data, len, more);
}

static void send_reply(struct conn *c, u64 tag, int status,
		       struct archip_buf *buf, const void *small, u32 small_len)
{
	u32 data_len = buf ? buf->len : small_len;
	struct archip_rep rep = {
		.magic = cpu_to_le32(ARCHIP_REP_MAGIC),
		.status = cpu_to_le32((u32)status),
		.tag = cpu_to_le64(tag),
		.data_len = cpu_to_le32(data_len),
	};
	/* The header and a small payload in one send; pages follow by reference. */
	struct kvec iov[2] = {
		{ .iov_base = &rep, .iov_len = sizeof(rep) },
		{ .iov_base = (void *)small, .iov_len = buf ? 0 : small_len },
	};
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | (buf ? MSG_MORE : 0) };
	unsigned int i;
	int err;

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, iov, ARRAY_SIZE(iov),
		      sizeof(rep) + iov[1].iov_len);
	mutex_lock(&c->send_lock);
	err = archip_sock_send(c->sock, &msg);
	/* Our references go with archip_buf_free(), TCP keeps its own. */
	for (i = 0; buf && i < buf->nr_pages && !err; i++)
		err = archip_sock_send_page(c->sock, buf->bvec[i].bv_page, 0,
					    buf->bvec[i].bv_len,
					    i + 1 < buf->nr_pages);
	mutex_unlock(&c->send_lock);
	/* The stream is broken: make the receive loop end the connection. */
	if (err)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
}

/* ---------------------------------------------------------------- locks */

static struct conn_lock *find_lock(struct conn *c, const char *name)
{
	struct conn_lock *hl;

	list_for_each_entry(hl, &c->locks, node)
		if (!strcmp(hl->name, name))
			return hl;
	return NULL;
}

static u32 next_epoch(u32 e)
{
	return e + 1 ?: 1;
}

/* 0 if lock @name is at @epoch, -ESTALE if it moved on. */
static int epoch_is(struct archip_store *st, const char *name, u32 epoch)
{
	struct archip_lock_rec rec;
	int err = archip_store_peek_lock_rec(st, name, &rec);

	if (!err && le32_to_cpu(rec.epoch) != epoch)
		err = -ESTALE;
	return err;
}

/*
 * Take lock @name for this connection.  @expect 0: take it anew, growing
 * its epoch, then wait (up to @wait_ms) until every connection bound to an
 * older epoch has ended.  @expect E: take back the lock held at epoch E
 * (after a lost connection), waiting up to @wait_ms for the old
 * connection to let go: -EINPROGRESS if it still holds it at E, -ESTALE if
 * the lock moved on.
 */
static int do_acquire(struct conn *c, const char *name, u32 expect,
		      u32 wait_ms, u32 *epoch)
{
	struct archip_store *st = &c->srv->store;
	char wname[LOCK_NAME_MAX];
	struct archip_lock_rec rec;
	struct conn_lock *hl;
	struct file *f, *w;
	int err = 0;

	mutex_lock(&c->locks_lock);
	hl = find_lock(c, name);
	if (hl) {
		*epoch = hl->epoch;	/* already ours */
		goto out;
	}
	err = -ENOSPC;
	if (c->nr_locks >= CONN_MAX_LOCKS)
		goto out;
	err = -ENOMEM;
	hl = kzalloc(sizeof(*hl), GFP_KERNEL);
	if (!hl)
		goto out;
	/*
	 * Taking it back: a lock that moved on is refused at once; else
	 * wait (bounded) for our old connection to let go.
	 */
	if (expect) {
		err = epoch_is(st, name, expect);
		if (err) {
			kfree(hl);
			goto out;
		}
	}
	f = archip_store_lock(st, name, true, expect ? wait_ms : 0);
	if (IS_ERR(f)) {
		kfree(hl);
		err = PTR_ERR(f);
		if (err == -EAGAIN && expect)
			err = epoch_is(st, name, expect) ?: -EINPROGRESS;
		goto out;
	}
	err = archip_store_lock_rec(f, &rec);
	if (err)
		goto unlock;
	if (expect) {
		err = -ESTALE;
		if (le32_to_cpu(rec.epoch) != expect)
			goto unlock;
		hl->epoch = expect;
	} else {
		hl->epoch = next_epoch(le32_to_cpu(rec.epoch));
		rec.magic = cpu_to_le32(ARCHIP_LOCK_MAGIC);
		rec.epoch = cpu_to_le32(hl->epoch);
		rec.client_id = cpu_to_le64(c->client_id);
		rec.time = cpu_to_le64(ktime_get_real_seconds());
		err = archip_store_set_lock_rec(f, &rec);
		if (err)
			goto unlock;
		/* The barrier: no writer of an older epoch is left. */
		snprintf(wname, sizeof(wname), "%s.w", name);
		w = archip_store_lock(st, wname, true, wait_ms);
		if (IS_ERR(w)) {
			err = PTR_ERR(w) == -EAGAIN ? -EBUSY : PTR_ERR(w);
			goto unlock;
		}
		archip_store_unlock(w);
	}
	hl->file = f;
	strscpy(hl->name, name, sizeof(hl->name));
	list_add_tail(&hl->node, &c->locks);
	c->nr_locks++;
	WRITE_ONCE(c->epoch, hl->epoch);
	*epoch = hl->epoch;
	err = 0;
	goto out;
unlock:
	archip_store_unlock(f);
	kfree(hl);
out:
	mutex_unlock(&c->locks_lock);
	return err;
}

/*
 * This connection writes for lock @name at @epoch, in @slot.  Shared
 * "NAME.w" first, then the epoch check: a new holder grows the epoch before
 * it waits for "NAME.w", so either it waits for us or we see its epoch.
 */
static int do_bind(struct conn *c, const char *name, u32 slot, u32 epoch,
		   u32 wait_ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(wait_ms);
	struct archip_store *st = &c->srv->store;
	char lname[LOCK_NAME_MAX];
	struct file *w, *q;
	long left;
	int err;

	if (!epoch)
		return -EINVAL;
	mutex_lock(&c->locks_lock);
	err = -EBUSY;
	if (c->bound[0] || c->nr_locks)
		goto out;
	snprintf(lname, sizeof(lname), "%s.w", name);
	w = archip_store_lock(st, lname, false, wait_ms);
	if (IS_ERR(w)) {
		err = PTR_ERR(w) == -EAGAIN ? -ETIMEDOUT : PTR_ERR(w);
		goto out;
	}
	/* A fenced client learns it now, not after waiting for a slot. */
	err = epoch_is(st, name, epoch);
	if (err)
		goto put_w;
	snprintf(lname, sizeof(lname), "%s.q%u", name, slot);
	left = max_t(long, deadline - jiffies, 0);
	q = archip_store_lock(st, lname, true, jiffies_to_msecs(left));
	if (IS_ERR(q)) {
		err = PTR_ERR(q) == -EAGAIN ? -ETIMEDOUT : PTR_ERR(q);
		goto put_w;
	}
	/* The check that counts: after both locks (see above). */
	err = epoch_is(st, name, epoch);
	if (err)
		goto put_q;
	c->bind_w = w;
	c->bind_slot = q;
	strscpy(c->bound, name, sizeof(c->bound));
	WRITE_ONCE(c->epoch, epoch);
	goto out;
put_q:
	archip_store_unlock(q);
put_w:
	archip_store_unlock(w);
out:
	mutex_unlock(&c->locks_lock);
	return err;
}

static int do_release(struct conn *c, const char *name)
{
	struct conn_lock *hl;

	mutex_lock(&c->locks_lock);
	hl = find_lock(c, name);
	if (hl) {
		list_del(&hl->node);
		c->nr_locks--;
		if (!c->nr_locks && !c->bound[0])
			WRITE_ONCE(c->epoch, 0);
	}
	mutex_unlock(&c->locks_lock);
	if (!hl)
		return -ENOENT;
	archip_store_unlock(hl->file);
	kfree(hl);
	return 0;
}

static void release_all_locks(struct conn *c)
{
	struct conn_lock *hl, *tmp;

	list_for_each_entry_safe(hl, tmp, &c->locks, node) {
		archip_store_unlock(hl->file);
		kfree(hl);
	}
	INIT_LIST_HEAD(&c->locks);
	c->nr_locks = 0;
	if (c->bind_slot)
		archip_store_unlock(c->bind_slot);
	if (c->bind_w)
		archip_store_unlock(c->bind_w);
	c->bind_slot = NULL;
	c->bind_w = NULL;
}

/* ------------------------------------------------------------ execution */

static bool op_allowed(struct conn *c, u8 op)
{
	switch (op) {
	case ARCHIP_OP_COPY:
		return c->features & ARCHIP_FEAT_COPY;
	case ARCHIP_OP_ACQUIRE:
	case ARCHIP_OP_RELEASE:
		return c->features & ARCHIP_FEAT_LOCKS;
	case ARCHIP_OP_LIST:
		return c->features & ARCHIP_FEAT_LIST;
	case ARCHIP_OP_BIND:
		return c->features & ARCHIP_FEAT_FENCE;
	default:
		return op >= ARCHIP_OP_READ && op <= ARCHIP_OP_MAX;
	}
}

static void conn_put(struct conn *c);

static void io_done(struct io *io)
{
	struct conn *c = io->conn;

	archip_buf_free(&io->buf);
	spin_lock(&c->budget_lock);
	c->inflight--;
	c->inflight_bytes -= io->cost;
	spin_unlock(&c->budget_lock);
	wake_up(&c->budget_wait);
	kfree(io);
	conn_put(c);
}

/* Requests that change data must come at the connection's epoch. */
static bool changes_data(u8 op)
{
	return op == ARCHIP_OP_WRITE || op == ARCHIP_OP_DISCARD ||
	       op == ARCHIP_OP_WRITE_ZEROES || op == ARCHIP_OP_COPY ||
	       op == ARCHIP_OP_DELETE;
}

static void fault_delay(struct io *io)
{
	unsigned int ms = READ_ONCE(fault_delay_ms);
	char match[sizeof(fault_delay_match)];

	if (!ms || io->op != ARCHIP_OP_WRITE)
		return;
	/* As written to sysfs: maybe with a newline. */
	strscpy(match, fault_delay_match, sizeof(match));
	match[strcspn(match, "\n")] = '\0';
	if (match[0] && strstr(io->name, match)) {
		pr_info("fault injection: delaying WRITE %s by %u ms\n",
			io->name, ms);
		msleep(ms);
	}
}

static void io_work(struct work_struct *work)
{
	struct io *io = container_of(work, struct io, work);
	struct conn *c = io->conn;
	struct archip_store *st = &c->srv->store;
	struct archip_op_stats *stats;
	struct archip_buf *reply_buf = NULL;
	struct archip_stat stat = { };
	struct archip_acquire_rep ar = { };
	void *small = &stat;
	u32 small_len = 0, epoch;
	char *names = NULL;
	int status;

	fault_delay(io);
	if (changes_data(io->op) && io->epoch != READ_ONCE(c->epoch)) {
		/* A writer of another epoch: fenced, or not bound yet. */
		status = -ESTALE;
		goto reply;
	}
	switch (op_allowed(c, io->op) ? io->op : 0) {
	case ARCHIP_OP_READ:
		status = archip_store_read(st, io->name, io->off, &io->buf);
		if (!status)
			reply_buf = &io->buf;
		break;
	case ARCHIP_OP_WRITE:
		status = archip_store_write(st, io->name, io->off, &io->buf);
		break;
	case ARCHIP_OP_FLUSH:
		status = archip_store_flush(st, io->name[0] ? io->name : NULL);
		break;
	case ARCHIP_OP_DISCARD:
	case ARCHIP_OP_WRITE_ZEROES:
		status = archip_store_punch(st, io->name, io->off, io->len);
		break;
	case ARCHIP_OP_DELETE:
		status = archip_store_delete(st, io->name);
		break;
	case ARCHIP_OP_STAT: {
		u64 size, alloc;
		bool exists;

		status = archip_store_stat(st, io->name, &size, &alloc, &exists);
		stat.size = cpu_to_le64(size);
		stat.allocated = cpu_to_le64(alloc);
		stat.flags = cpu_to_le32(exists ? ARCHIP_STAT_EXISTS : 0);
		if (!status)
			small_len = sizeof(stat);
		break;
	}
	case ARCHIP_OP_LIST: {
		struct archip_list_rep *lr;
		u64 next;

		status = -EINVAL;
		if (io->len <= sizeof(*lr))
			break;
		status = -ENOMEM;
		names = kvmalloc(io->len, GFP_KERNEL);
		if (!names)
			break;
		lr = (struct archip_list_rep *)names;
		status = archip_store_list(st, io->name, io->off,
					   names + sizeof(*lr),
					   io->len - sizeof(*lr), &small_len,
					   &next);
		lr->cursor = cpu_to_le64(next);
		small = names;
		small_len = status ? 0 : small_len + sizeof(*lr);
		break;
	}
	case ARCHIP_OP_COPY:
		status = archip_store_copy(st, io->name, io->name2);
		break;
	case ARCHIP_OP_ACQUIRE:
		status = do_acquire(c, io->name, io->epoch, io->len, &epoch);
		ar.epoch = cpu_to_le32(epoch);
		small = &ar;
		if (!status)
			small_len = sizeof(ar);
		break;
	case ARCHIP_OP_BIND:
		status = do_bind(c, io->name, io->off, io->epoch, io->len);
		break;
	case ARCHIP_OP_RELEASE:
		status = do_release(c, io->name);
		break;
	default:
		status = -EOPNOTSUPP;
		break;
	}

reply:
	if (io->op <= ARCHIP_OP_MAX) {
		stats = &c->srv->ops[io->op];
		atomic64_inc(&stats->count);
		if (status < 0)
			atomic64_inc(&stats->errors);
		else if (io->op == ARCHIP_OP_READ || io->op == ARCHIP_OP_WRITE)
			atomic64_add(io->len, &stats->bytes);
	}
	send_reply(c, io->tag, status, reply_buf, small, small_len);
	kvfree(names);
	io_done(io);
}

/* ---------------------------------------------------------- the stream */

static int bad_frame(struct conn *c, const char *why)
{
	pr_warn_ratelimited("%pISpc: closing connection: %s\n", &c->peer, why);
	return -EPROTO;
}

/* Validate a request header; on success fill io (except names, payload). */
static int check_req(struct conn *c, const struct archip_req *rq,
		     struct io *io, u32 *data_len, const char **why)
{
	u32 len = le32_to_cpu(rq->len), dlen = le32_to_cpu(rq->data_len);
	u16 nlen = le16_to_cpu(rq->name_len), flags = le16_to_cpu(rq->flags);
	u64 off = le64_to_cpu(rq->off), end;
	u8 op = rq->op;

	*why = "bad request magic";
	if (le32_to_cpu(rq->magic) != ARCHIP_REQ_MAGIC)
		return -EPROTO;
	*why = "reserved request field not zero";
	if (rq->pad || rq->pad2)
		return -EPROTO;
	*why = "unknown request flag";
	if (flags & ~ARCHIP_REQ_FLAGS_KNOWN)
		return -EPROTO;
	*why = "FUA on a request other than WRITE";
	if ((flags & ARCHIP_REQ_FUA) && op != ARCHIP_OP_WRITE)
		return -EPROTO;
	*why = "object name too long";
	if (nlen > ARCHIP_NAME_MAX)
		return -EPROTO;
	*why = "payload larger than the negotiated max_io";
	if (dlen > c->max_io)
		return -EPROTO;
	*why = "offset + length overflows";
	if (check_add_overflow(off, (u64)len, &end) || end > MAX_LFS_FILESIZE)
		return -EPROTO;

	switch (op) {
	case ARCHIP_OP_READ:
	case ARCHIP_OP_WRITE:
		*why = "READ/WRITE length is 0 or over max_io";
		if (!len || len > c->max_io)
			return -EPROTO;
		*why = "WRITE payload length differs from its length";
		if (op == ARCHIP_OP_WRITE ? dlen != len : dlen)
			return -EPROTO;
		break;
	case ARCHIP_OP_LIST:
		*why = "LIST answer size is 0 or over max_io, or with a payload";
		if (!len || len > c->max_io || dlen)
			return -EPROTO;
		/* off is a cursor, not a byte offset: any value */
		break;
	case ARCHIP_OP_DISCARD:
	case ARCHIP_OP_WRITE_ZEROES:
		*why = "DISCARD/WRITE_ZEROES of 0 bytes or with a payload";
		if (!len || dlen)
			return -EPROTO;
		break;
	case ARCHIP_OP_COPY:
		*why = "COPY without a valid destination name";
		if (!dlen || dlen > ARCHIP_NAME_MAX || len || off)
			return -EPROTO;
		break;
	case ARCHIP_OP_ACQUIRE:
	case ARCHIP_OP_BIND:
		*why = "ACQUIRE/BIND wait over the limit, bad slot, or a payload";
		if (len > ARCHIP_BIND_MAX_WAIT_MS || dlen ||
		    off > (op == ARCHIP_OP_BIND ? ARCHIP_BIND_MAX_SLOT : 0))
			return -EPROTO;
		break;
	case ARCHIP_OP_FLUSH:
	case ARCHIP_OP_DELETE:
	case ARCHIP_OP_STAT:
	case ARCHIP_OP_RELEASE:
		*why = "offset, length or payload on a request that takes none";
		if (len || off || dlen)
			return -EPROTO;
		break;
	default:
		/* Unknown op: well framed, so answer EOPNOTSUPP and go on. */
		break;
	}
	*why = "missing object name";
	if (!nlen && op != ARCHIP_OP_FLUSH)
		return -EPROTO;

	io->op = op;
	io->flags = flags;
	io->tag = le64_to_cpu(rq->tag);
	io->off = off;
	io->len = len;
	io->epoch = le32_to_cpu(rq->epoch);
	*data_len = dlen;
	return 0;
}

static int recv_name(struct conn *c, char *name, u16 len)
{
	int err;

	if (!len) {
		name[0] = '\0';
		return 0;
	}
	err = recv_all(c, name, len);
	if (err)
		return err;
	name[len] = '\0';
	if (!archip_store_name_ok(name, len))
		return bad_frame(c, "invalid object name");
	return 0;
}

static bool budget_ok(struct conn *c, u32 cost)
{
	bool ok;

	spin_lock(&c->budget_lock);
	ok = c->inflight < c->max_inflight &&
	     (c->inflight_bytes + cost <= CONN_BUDGET || !c->inflight);
	if (ok) {
		c->inflight++;
		c->inflight_bytes += cost;
	}
	spin_unlock(&c->budget_lock);
	return ok;
}

static int recv_request(struct conn *c)
{
	struct archip_req rq;
	const char *why;
	struct io *io;
	u32 dlen;
	int err;

	err = recv_all(c, &rq, sizeof(rq));
	if (err)
		return err;
	io = kzalloc(sizeof(*io), GFP_KERNEL);
	if (!io)
		return -ENOMEM;
	io->conn = c;	/* its reference is taken once it counts in flight */
	INIT_WORK(&io->work, io_work);
	err = check_req(c, &rq, io, &dlen, &why);
	if (err) {
		kfree(io);
		return bad_frame(c, why);
	}
	err = recv_name(c, io->name, le16_to_cpu(rq.name_len));
	if (err) {
		kfree(io);
		return err;
	}

	/* Payload memory, and a LIST's answer buffer, count in the budget. */
	if (io->op == ARCHIP_OP_READ || io->op == ARCHIP_OP_WRITE ||
	    io->op == ARCHIP_OP_LIST)
		io->cost = io->len;
	/* Backpressure: stop reading the socket until there is room. */
	wait_event(c->budget_wait, budget_ok(c, io->cost));

	kref_get(&c->ref);	/* dropped by io_done() */
	if (io->cost && io->op != ARCHIP_OP_LIST) {
		err = archip_buf_alloc(&io->buf, io->len);
		if (!err && io->op == ARCHIP_OP_WRITE)
			err = recv_buf(c, &io->buf);
	} else if (io->op == ARCHIP_OP_COPY) {
		err = recv_name(c, io->name2, dlen);
	} else {
		err = recv_skip(c, dlen);
	}
	if (err) {
		io_done(io);
		return err;
	}
	atomic64_inc(&c->requests);
	queue_work(c->srv->io_wq, &io->work);
	return 0;
}

static int hello_reply(struct conn *c, u16 status, const char *reason)
{
	struct archip_srv *srv = c->srv;
	struct archip_hello_reply hr = {
		.magic = cpu_to_le32(ARCHIP_HELLO_MAGIC),
		.version = cpu_to_le16(ARCHIP_PROTO_VERSION),
		.status = cpu_to_le16(status),
		.features = cpu_to_le64(c->features),
		.server_id = cpu_to_le64(srv->server_id),
		.max_io = cpu_to_le32(c->max_io),
		.max_inflight = cpu_to_le32(c->max_inflight),
	};

	strscpy(hr.reason, reason, sizeof(hr.reason));
	if (status != ARCHIP_HELLO_OK)
		pr_info_ratelimited("%pISpc: refused: %s\n", &c->peer, reason);
	return send_kvec(c, &hr, sizeof(hr), false) ?: (status ? -EPROTO : 0);
}

static int handshake(struct conn *c, bool busy)
{
	struct archip_srv *srv = c->srv;
	struct archip_hello h;
	u64 required;
	u32 len, io, inflight;
	int err;

	c->sock->sk->sk_rcvtimeo = HELLO_TIMEOUT;
	err = recv_all(c, &h, sizeof(h));
	if (err)
		return err;
	if (le32_to_cpu(h.magic) != ARCHIP_HELLO_MAGIC)
		return hello_reply(c, ARCHIP_HELLO_BAD_MAGIC,
				   "not an archip client (bad magic)");
	if (le16_to_cpu(h.version) != ARCHIP_PROTO_VERSION)
		return hello_reply(c, ARCHIP_HELLO_BAD_VERSION,
				   "protocol version not supported (server speaks 2): update archip");
	len = le16_to_cpu(h.len);
	if (len < sizeof(h) || len > HELLO_MAX_LEN)
		return hello_reply(c, ARCHIP_HELLO_BAD_LIMITS, "bad hello length");
	/* A newer client's longer hello: the extra fields are not for us. */
	err = recv_skip(c, len - sizeof(h));
	if (err)
		return err;
	c->sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;

	c->client_id = le64_to_cpu(h.client_id);
	c->features = le64_to_cpu(h.features) & ARCHIP_FEAT_KNOWN;
	required = le64_to_cpu(h.required);
	if (required & ~ARCHIP_FEAT_KNOWN)
		return hello_reply(c, ARCHIP_HELLO_BAD_FEATURES,
				   "client requires features this server lacks");
	c->features |= required;

	io = le32_to_cpu(h.max_io);
	inflight = le32_to_cpu(h.max_inflight);
	c->max_io = io ? min(io, srv->cfg.max_io) : srv->cfg.max_io;
	c->max_inflight = inflight ? min(inflight, srv->cfg.max_inflight) :
				     srv->cfg.max_inflight;
	if (c->max_io < 4096)
		return hello_reply(c, ARCHIP_HELLO_BAD_LIMITS,
				   "max_io below 4096 bytes");
	if (busy)
		return hello_reply(c, ARCHIP_HELLO_BUSY,
				   "server at its connection limit");
	return hello_reply(c, ARCHIP_HELLO_OK, "ok");
}

static void conn_release(struct kref *ref)
{
	struct conn *c = container_of(ref, struct conn, ref);
	struct archip_srv *srv = c->srv;

	/* Every request of this connection is done: now its locks may go. */
	release_all_locks(c);
	mutex_lock(&srv->conns_mutex);
	list_del(&c->node);
	srv->nr_conns--;
	mutex_unlock(&srv->conns_mutex);
	sock_release(c->sock);
	kfree(c);
	wake_up(&srv->conns_wait);
}

static void conn_put(struct conn *c)
{
	kref_put(&c->ref, conn_release);
}

static int rx_main(void *data)
{
	struct conn *c = data;
	struct rx_thread *rx = c->rx;
	int err;

	err = handshake(c, c->busy);
	while (!err)
		err = recv_request(c);

	/* The last request to finish (or we) releases the connection. */
	kernel_sock_shutdown(c->sock, SHUT_RDWR);
	conn_put(c);
	WRITE_ONCE(rx->done, true);
	return 0;
}

/* Stop and free the receive threads that are done (@all: every one, at
 * server stop, once no connection is left).
 */
void archip_srv_conn_reap(struct archip_srv *srv, bool all)
{
	struct rx_thread *rx, *tmp;
	LIST_HEAD(dead);

	mutex_lock(&srv->conns_mutex);
	list_for_each_entry_safe(rx, tmp, &srv->rx_threads, node)
		if (all || READ_ONCE(rx->done))
			list_move(&rx->node, &dead);
	mutex_unlock(&srv->conns_mutex);
	list_for_each_entry_safe(rx, tmp, &dead, node) {
		kthread_stop(rx->task);
		put_task_struct(rx->task);
		kfree(rx);
	}
}

int archip_srv_conn_create(struct archip_srv *srv, struct socket *sock)
{
	struct conn *c;
	int len;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->rx = kzalloc(sizeof(*c->rx), GFP_KERNEL);
	if (!c->rx) {
		kfree(c);
		return -ENOMEM;
	}
	c->rx->task = kthread_create(rx_main, c, "archip_srv_rx");
	if (IS_ERR(c->rx->task)) {
		len = PTR_ERR(c->rx->task);
		kfree(c->rx);
		kfree(c);
		return len;
	}
	get_task_struct(c->rx->task);	/* for kthread_stop() after it ended */
	kref_init(&c->ref);	/* the receive thread's */
	c->srv = srv;
	c->sock = sock;
	mutex_init(&c->send_lock);
	mutex_init(&c->locks_lock);
	spin_lock_init(&c->budget_lock);
	init_waitqueue_head(&c->budget_wait);
	INIT_LIST_HEAD(&c->locks);
	len = kernel_getpeername(sock, (struct sockaddr *)&c->peer);
	if (len < 0)
		memset(&c->peer, 0, sizeof(c->peer));
	/*
	 * An accepted socket inherits the listener's callbacks: give it back
	 * the stock data_ready, or a blocked receive would never wake.
	 */
	write_lock_bh(&sock->sk->sk_callback_lock);
	sock->sk->sk_user_data = NULL;
	sock->sk->sk_data_ready = srv->listener_data_ready;
	write_unlock_bh(&sock->sk->sk_callback_lock);
	tcp_sock_set_nodelay(sock->sk);
	sock->sk->sk_allocation = GFP_NOIO;
	/*
	 * The lease: a client that went silent (dead, cut off) is dropped
	 * within lease seconds, idle or not, and its locks with it.
	 */
	sock_set_keepalive(sock->sk);
	tcp_sock_set_keepidle(sock->sk, max(srv->cfg.lease / 3, 1u));
	tcp_sock_set_keepintvl(sock->sk, max(srv->cfg.lease / 6, 1u));
	tcp_sock_set_keepcnt(sock->sk, 3);
	tcp_sock_set_user_timeout(sock->sk, srv->cfg.lease * MSEC_PER_SEC);

	mutex_lock(&srv->conns_mutex);
	/* Over the limit (in accept order): told so in the handshake. */
	c->busy = srv->nr_conns >= srv->cfg.max_conns;
	list_add_tail(&c->node, &srv->conns);
	list_add_tail(&c->rx->node, &srv->rx_threads);
	srv->nr_conns++;
	mutex_unlock(&srv->conns_mutex);
	wake_up_process(c->rx->task);
	return 0;
}

/* Server stop: end every connection; each cleans itself up. */
void archip_srv_conn_shutdown_all(struct archip_srv *srv)
{
	struct conn *c;

	mutex_lock(&srv->conns_mutex);
	list_for_each_entry(c, &srv->conns, node)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
	mutex_unlock(&srv->conns_mutex);
}

int archip_srv_conn_fill_status(struct archip_srv *srv, struct sk_buff *skb)
{
	struct nlattr *conns, *nest;
	struct conn *c;
	int err = 0;

	conns = nla_nest_start(skb, ARCHIP_SRV_A_CONNS);
	if (!conns)
		return -EMSGSIZE;
	mutex_lock(&srv->conns_mutex);
	list_for_each_entry(c, &srv->conns, node) {
		nest = nla_nest_start(skb, ARCHIP_SRV_A_CONN);
		if (!nest ||
		    nla_put_in_addr(skb, ARCHIP_CONN_A_PEER_ADDR,
				    c->peer.sin_addr.s_addr) ||
		    nla_put_u16(skb, ARCHIP_CONN_A_PEER_PORT,
				ntohs(c->peer.sin_port)) ||
		    nla_put_u64_64bit(skb, ARCHIP_CONN_A_CLIENT_ID,
				      c->client_id, ARCHIP_CONN_A_PAD) ||
		    nla_put_u32(skb, ARCHIP_CONN_A_INFLIGHT,
				READ_ONCE(c->inflight)) ||
		    nla_put_u64_64bit(skb, ARCHIP_CONN_A_REQUESTS,
				      atomic64_read(&c->requests),
				      ARCHIP_CONN_A_PAD) ||
		    nla_put_u32(skb, ARCHIP_CONN_A_LOCKS,
				READ_ONCE(c->nr_locks)) ||
		    nla_put_u32(skb, ARCHIP_CONN_A_EPOCH, READ_ONCE(c->epoch)) ||
		    (c->bound[0] &&
		     nla_put_string(skb, ARCHIP_CONN_A_BOUND, c->bound))) {
			err = -EMSGSIZE;
			break;
		}
		nla_nest_end(skb, nest);
	}
	mutex_unlock(&srv->conns_mutex);
	if (err)
		return err;
	nla_nest_end(skb, conns);
	return 0;
}
