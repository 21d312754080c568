// SPDX-License-Identifier: GPL-2.0
/*
 * The control connection of a mapped volume: it holds the volume lock (its
 * epoch fences every older holder, see Documentation/protocol.rst), and
 * carries the map updates of first writes, a keepalive, and, for a
 * read-write map, the snapshots asked of it (Documentation/snapshots.rst).
 *
 * After MAP, one work item (ctrl_work) is its only user, so no lock is
 * needed around it and no I/O path ever waits on a control call: blk-mq
 * parks a first write on alloc_list and returns; the work updates the map
 * and requeues it.  Every call is bounded by the I/O timeout; a lost
 * connection is re-established (any listed server) and the lock taken back
 * at the same epoch, for at most loss_timeout.  A lock taken back by
 * someone else fences the device: all its I/O fails from then on.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/sched/signal.h>

#include "blk_dev.h"

/* Keepalive, and how often a read-write map looks for a snapshot request. */
#define KEEPALIVE	(1 * HZ)
#define CONNECT_WAIT	(5 * HZ)
/* ACQUIRE anew: how long the server waits for older writers to end. */
#define LOCK_WAIT_MS	60000
/* BIND, or ACQUIRE taking the lock back: how long to wait for the
 * previous connection (its server may be dead, not yet evicted) to end.
 */
#define BIND_WAIT_MS	30000

static long io_timeout(struct archip_dev *dev)
{
	return dev->args.io_timeout * HZ;
}

static void lock_name(struct archip_dev *dev, char *buf, size_t len)
{
	snprintf(buf, len, ARCHIP_VOL_LOCK_FMT, dev->args.volume);
}

static int ctrl_connect(struct archip_dev *dev, const char **why)
{
	unsigned int i, s;
	int err = -ENOTCONN;

	for (i = 0; i < dev->args.nr_servers; i++) {
		s = (dev->ctrl_server + i) % dev->args.nr_servers;
		err = archip_conn_open(&dev->ctrl, &dev->args.servers[s],
				       archip_dev_client_id(dev), CONNECT_WAIT,
				       why);
		if (!err) {
			dev->ctrl_server = s;
			return 0;
		}
	}
	return err;
}

/*
 * Take the volume lock: anew (@expect 0) at map time, the epoch growing,
 * or back at the epoch held after a lost connection.  -EINPROGRESS: our
 * own earlier connection still holds it (its server has not let go yet).
 */
static int ctrl_acquire(struct archip_dev *dev, u32 expect, const char **why)
{
	u32 wait = expect ? BIND_WAIT_MS : LOCK_WAIT_MS;
	struct archip_acquire_rep ar;
	char lock[ARCHIP_VOL_OBJ_NAME_MAX];
	int st, err;

	if (dev->args.read_only)
		return 0;
	lock_name(dev, lock, sizeof(lock));
	dev->ctrl.epoch = expect;
	st = archip_conn_call(&dev->ctrl, ARCHIP_OP_ACQUIRE, 0, lock, 0, wait,
			      NULL, 0, &ar, sizeof(ar),
			      msecs_to_jiffies(wait) + io_timeout(dev), &err);
	if (err) {
		*why = "lost the connection to the object server";
		return err;
	}
	switch (st) {
	case 0:
		break;
	case -EAGAIN:
		*why = "the volume is mapped elsewhere (another map holds its lock); map it --read-only or unmap it there";
		return -EBUSY;
	case -EBUSY:
		*why = "the volume's previous writers have not ended (a storage node does not answer): retry once the cluster has evicted it";
		return -EBUSY;
	case -ESTALE:
		*why = "another map took the volume lock";
		return -ESTALE;
	case -EINPROGRESS:
		*why = "the volume lock is still held by our previous connection";
		return -EINPROGRESS;
	default:
		*why = "the object server refused the volume lock";
		return st;
	}
	dev->epoch = le32_to_cpu(ar.epoch);
	dev->ctrl.epoch = dev->epoch;
	return 0;
}

/* MAP: connect and take the volume lock (read-write maps). */
int archip_ctrl_open(struct archip_dev *dev, const char **why)
{
	int err = ctrl_connect(dev, why);

	if (!err)
		err = ctrl_acquire(dev, 0, why);
	if (err)
		archip_conn_close(&dev->ctrl);
	return err;
}

void archip_dev_fence(struct archip_dev *dev, const char *why)
{
	unsigned int i;

	if (READ_ONCE(dev->fenced))
		return;
	WRITE_ONCE(dev->fenced, true);
	pr_err("%s: /dev/archip%d fenced: %s; its I/O fails from now on\n",
	       dev->args.volume, dev->index, why);
	/* Each receive thread then fails what it has in flight. */
	for (i = 0; dev->queues && i < dev->nr_queues; i++)
		archip_conn_shutdown(&dev->queues[i].conn);
}

/* A new control connection, the lock taken back at our epoch. */
static int ctrl_reconnect(struct archip_dev *dev)
{
	const char *why = NULL;
	int err;

	dev->ctrl_server = (dev->ctrl_server + 1) % dev->args.nr_servers;
	err = ctrl_connect(dev, &why);
	if (!err)
		err = ctrl_acquire(dev, dev->epoch, &why);
	if (err == -ESTALE)
		archip_dev_fence(dev, why);
	if (err) {
		archip_conn_close(&dev->ctrl);
		return err;
	}
	pr_info("%s: control connection back, to %pISpc\n", dev->args.volume,
		&dev->args.servers[dev->ctrl_server]);
	return 0;
}

/*
 * One control call: the reply's status, or -EIO once the connection could
 * not be re-established within loss_timeout (or the device is fenced or
 * going away).  Single user: MAP, then the control work.
 */
int archip_ctrl_call(struct archip_dev *dev, u8 op, u16 flags,
		     const char *name, u64 off, u32 len, const void *data,
		     u32 dlen, void *out, u32 out_len)
{
	unsigned long deadline = jiffies + dev->args.loss_timeout * HZ;
	int st, err;

	for (;;) {
		if (READ_ONCE(dev->fenced) || READ_ONCE(dev->dying))
			return -EIO;
		if (dev->ctrl.sock) {
			st = archip_conn_call(&dev->ctrl, op, flags, name, off,
					      len, data, dlen, out, out_len,
					      io_timeout(dev), &err);
			if (!err) {
				if (st == -ESTALE && dev->epoch) {
					archip_dev_fence(dev, "the object server says our lock epoch is not current");
					return -EIO;
				}
				return st;
			}
			archip_conn_close(&dev->ctrl);
			pr_warn("%s: control connection lost (%d), reconnecting\n",
				dev->args.volume, err);
		}
		if (!time_before(jiffies, deadline))
			return -EIO;
		if (ctrl_reconnect(dev) && !READ_ONCE(dev->fenced))
			schedule_timeout_interruptible(HZ / 2);
	}
}

/* BIND a data connection to the volume lock at our epoch, in @slot. */
int archip_bind(struct archip_dev *dev, struct archip_conn *c,
		unsigned int slot)
{
	char lock[ARCHIP_VOL_OBJ_NAME_MAX];
	int st, err;

	if (dev->args.read_only)
		return 0;
	lock_name(dev, lock, sizeof(lock));
	c->epoch = dev->epoch;
	st = archip_conn_call(c, ARCHIP_OP_BIND, 0, lock, slot, BIND_WAIT_MS,
			      NULL, 0, NULL, 0,
			      msecs_to_jiffies(BIND_WAIT_MS) + io_timeout(dev),
			      &err);
	return err ?: st;
}

/* blk-mq: @rq is the first write to its object; the work maps it. */
void archip_ctrl_queue_alloc(struct archip_dev *dev, struct request *rq)
{
	struct bcmd *cmd = blk_mq_rq_to_pdu(rq);

	spin_lock(&dev->alloc_lock);
	list_add_tail(&cmd->alloc_node, &dev->alloc_list);
	spin_unlock(&dev->alloc_lock);
	mod_delayed_work(archip_blk_wq, &dev->ctrl_work, 0);
}

static struct bcmd *next_alloc(struct archip_dev *dev)
{
	struct bcmd *cmd;

	spin_lock(&dev->alloc_lock);
	cmd = list_first_entry_or_null(&dev->alloc_list, struct bcmd,
				       alloc_node);
	if (cmd)
		list_del_init(&cmd->alloc_node);
	spin_unlock(&dev->alloc_lock);
	return cmd;
}

/* Map the first writes blk-mq parked, and send them again. */
static void do_allocs(struct archip_dev *dev)
{
	bool requeued = false;
	struct request *rq;
	struct bcmd *cmd;
	int st;

	while ((cmd = next_alloc(dev)) != NULL) {
		rq = blk_mq_rq_from_pdu(cmd);
		st = archip_vmap_allocate(dev, (blk_rq_pos(rq) << SECTOR_SHIFT) >>
					       dev->obj_shift);
		if (st) {
			cmd->status = BLK_STS_IOERR;
			blk_mq_complete_request(rq);
		} else {
			blk_mq_requeue_request(rq, false);
			requeued = true;
		}
	}
	if (requeued)
		blk_mq_kick_requeue_list(dev->disk->queue);
}

/*
 * A snapshot request ("s.VOL") from archipctl: with every write the device
 * completed on the SAN and none in flight (queue frozen, first writes
 * mapped meanwhile), make the snapshot, then answer in the request.
 * Bounded: the freeze waits at most the I/O timeout.  The STAT doubles
 * as the keepalive.
 */
static void ctrl_snapshot(struct archip_dev *dev)
{
	struct request_queue *q = dev->disk->queue;
	char name[ARCHIP_VOL_OBJ_NAME_MAX];
	struct archip_snap_req *req;
	struct archip_stat stat;
	unsigned long deadline;
	const char *why;
	int st;

	snprintf(name, sizeof(name), ARCHIP_VOL_SNAPREQ_FMT, dev->args.volume);
	st = archip_ctrl_call(dev, ARCHIP_OP_STAT, 0, name, 0, 0, NULL, 0,
			      &stat, sizeof(stat));
	if (st || !(le32_to_cpu(stat.flags) & ARCHIP_STAT_EXISTS))
		return;
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return;
	st = archip_ctrl_call(dev, ARCHIP_OP_READ, 0, name, 0, sizeof(*req),
			      NULL, 0, req, sizeof(*req));
	if (st || le32_to_cpu(req->magic) != ARCHIP_SNAPREQ_MAGIC ||
	    le32_to_cpu(req->state) != ARCHIP_SNAPREQ_PENDING)
		goto out;
	req->snap[sizeof(req->snap) - 1] = '\0';
	req->oset[sizeof(req->oset) - 1] = '\0';

	blk_freeze_queue_start(q);
	deadline = jiffies + io_timeout(dev);
	while (!blk_mq_freeze_queue_wait_timeout(q, HZ / 10)) {
		do_allocs(dev);
		if (time_after(jiffies, deadline) || READ_ONCE(dev->dying) ||
		    READ_ONCE(dev->fenced)) {
			st = -ETIMEDOUT;
			why = "the device's I/O did not drain within the I/O timeout";
			break;
		}
	}
	if (!st)
		st = archip_vmap_snapshot(dev, req->snap, req->oset, &why);
	blk_mq_unfreeze_queue(q);

	if (st)
		pr_warn("%s: snapshot %s failed: %s (%d)\n", dev->args.volume,
			req->snap, why, st);
	else
		pr_info("%s: snapshot %s made\n", dev->args.volume, req->snap);
	req->state = cpu_to_le32(st ? ARCHIP_SNAPREQ_FAILED : ARCHIP_SNAPREQ_DONE);
	req->error = cpu_to_le32((u32)st);
	archip_ctrl_call(dev, ARCHIP_OP_WRITE, ARCHIP_REQ_FUA, name, 0,
			 sizeof(*req), req, sizeof(*req), NULL, 0);
out:
	kfree(req);
}

static void ctrl_work(struct work_struct *work)
{
	struct archip_dev *dev = container_of(to_delayed_work(work),
					      struct archip_dev, ctrl_work);
	char name[ARCHIP_VOL_OBJ_NAME_MAX];
	struct archip_stat stat;

	do_allocs(dev);
	if (READ_ONCE(dev->dying))
		return;
	/* Keep the control connection, and so the volume lock, alive. */
	if (dev->epoch) {
		ctrl_snapshot(dev);
	} else {
		archip_vmap_hdr_name(dev, name, sizeof(name));
		archip_ctrl_call(dev, ARCHIP_OP_STAT, 0, name, 0, 0, NULL, 0,
				 &stat, sizeof(stat));
	}
	if (!READ_ONCE(dev->dying))
		queue_delayed_work(archip_blk_wq, &dev->ctrl_work,
				   list_empty(&dev->alloc_list) ? KEEPALIVE : 0);
}

void archip_ctrl_start(struct archip_dev *dev)
{
	queue_delayed_work(archip_blk_wq, &dev->ctrl_work, KEEPALIVE);
}

/*
 * UNMAP (dev->dying is set): stop the work, failing the first writes it
 * had not done.  Closing the connection afterwards releases the lock.
 */
void archip_ctrl_stop(struct archip_dev *dev)
{
	struct bcmd *cmd;

	archip_conn_shutdown(&dev->ctrl);	/* a call in progress ends */
	cancel_delayed_work_sync(&dev->ctrl_work);
	while ((cmd = next_alloc(dev)) != NULL) {
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(blk_mq_rq_from_pdu(cmd));
	}
	archip_conn_close(&dev->ctrl);
}

void archip_ctrl_init(struct archip_dev *dev)
{
	archip_conn_init(&dev->ctrl);
	spin_lock_init(&dev->alloc_lock);
	INIT_LIST_HEAD(&dev->alloc_list);
	INIT_DELAYED_WORK(&dev->ctrl_work, ctrl_work);
}
