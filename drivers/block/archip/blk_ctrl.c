// SPDX-License-Identifier: GPL-2.0
/*
 * The control work of a mapped volume: one work item (ctrl_work) that
 * records first writes in the map (copying objects up from the ancestor
 * that has them), makes the snapshots asked of a read-write map
 * (Documentation/snapshots.rst), and keeps the control connection, and
 * with it the volume lock, alive.  Its calls go over blk_lock.c's
 * control connection, one at a time.
 *
 * No I/O path ever waits on a control call: blk-mq parks a first write on
 * alloc_list and returns; the work updates the map and requeues it.
 *
 * The work may run while the device is frozen (a snapshot) or while the
 * system reclaims memory by writing to this very device, so all of it
 * runs in a memalloc_noio scope: no allocation of it waits for I/O.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "blk.h"

/* Keepalive, and how often a read-write map looks for a snapshot request. */
#define KEEPALIVE	(1 * HZ)

static struct workqueue_struct *ctrl_wq;	/* WQ_MEM_RECLAIM */

static long io_timeout(struct archip_dev *dev)
{
	return dev->args.io_timeout * HZ;
}

/*
 * Does @rq need the map changed first?  A write to an object the volume
 * does not own (never written, or an ancestor's), and a discard or
 * write-zeroes of an ancestor's object (punching it would change the
 * ancestor).
 */
bool archip_ctrl_needs_alloc(struct archip_dev *dev, struct request *rq)
{
	unsigned int k, n = archip_rq_nr_parts(dev, rq);
	struct archip_part p;

	for (k = 0; k < n; k++) {
		archip_rq_part(dev, rq, k, &p);
		if (archip_obj_owned(dev, p.idx))
			continue;
		if (req_op(rq) == REQ_OP_WRITE || archip_obj_exists(dev, p.idx))
			return true;
	}
	return false;
}

/* blk-mq: @rq is the first write to an object; the work maps it. */
void archip_ctrl_queue_alloc(struct archip_dev *dev, struct request *rq)
{
	struct archip_cmd *cmd = blk_mq_rq_to_pdu(rq);

	spin_lock(&dev->alloc_lock);
	list_add_tail(&cmd->alloc_node, &dev->alloc_list);
	spin_unlock(&dev->alloc_lock);
	mod_delayed_work(ctrl_wq, &dev->ctrl_work, 0);
}

static struct archip_cmd *next_alloc(struct archip_dev *dev)
{
	struct archip_cmd *cmd;

	spin_lock(&dev->alloc_lock);
	cmd = list_first_entry_or_null(&dev->alloc_list, struct archip_cmd,
				       alloc_node);
	if (cmd)
		list_del_init(&cmd->alloc_node);
	spin_unlock(&dev->alloc_lock);
	return cmd;
}

/*
 * Map every object @rq needs: an object the request covers whole needs
 * no copy-up, as nothing of the ancestor's data is left in it.
 */
static int alloc_rq(struct archip_dev *dev, struct request *rq)
{
	unsigned int k, n = archip_rq_nr_parts(dev, rq);
	struct archip_part p;
	u64 osize;
	int st;

	for (k = 0; k < n; k++) {
		archip_rq_part(dev, rq, k, &p);
		if (archip_obj_owned(dev, p.idx) ||
		    (req_op(rq) != REQ_OP_WRITE && !archip_obj_exists(dev, p.idx)))
			continue;
		osize = min(1ULL << dev->obj_shift,
			    dev->size - (p.idx << dev->obj_shift));
		st = archip_vmap_allocate(dev, p.idx, p.off || p.len < osize);
		if (st)
			return st;
	}
	return 0;
}

/* Map the first writes blk-mq parked, and send them again. */
static void do_allocs(struct archip_dev *dev)
{
	bool requeued = false;
	struct archip_cmd *cmd;
	struct request *rq;

	while ((cmd = next_alloc(dev)) != NULL) {
		rq = blk_mq_rq_from_pdu(cmd);
		if (alloc_rq(dev, rq)) {
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
 * The request's names are valid names, NUL-terminated within their
 * fields: whatever the store holds, nothing is frozen or read for a
 * request that could never be made.
 */
static bool snapreq_ok(struct archip_snap_req *req)
{
	return le32_to_cpu(req->magic) == ARCHIP_SNAPREQ_MAGIC &&
	       archip_vol_name_valid(req->snap, sizeof(req->snap)) &&
	       archip_vol_name_valid(req->oset, sizeof(req->oset)) && !req->pad;
}

/* Freeze the device, map what waits, make the snapshot, unfreeze. */
static int snapshot_frozen(struct archip_dev *dev, struct archip_snap_req *req,
			   const char **why)
{
	struct request_queue *q = dev->disk->queue;
	unsigned long deadline;
	int st = 0;

	blk_freeze_queue_start(q);
	deadline = jiffies + io_timeout(dev);
	while (!blk_mq_freeze_queue_wait_timeout(q, HZ / 10)) {
		do_allocs(dev);
		if (time_after(jiffies, deadline) || READ_ONCE(dev->dying) ||
		    READ_ONCE(dev->fenced)) {
			st = -ETIMEDOUT;
			*why = "the device's I/O did not drain within the I/O timeout";
			break;
		}
	}
	if (!st)
		st = archip_vmap_snapshot(dev, req->snap, req->oset, why);
	blk_mq_unfreeze_queue(q);
	return st;
}

/*
 * A snapshot request ("s.VOL") from archipctl: with every write the device
 * completed on the SAN and none in flight (queue frozen, first writes
 * mapped meanwhile), make the snapshot, then answer in the request.
 * Bounded: the freeze waits at most the I/O timeout.  Idempotent: a
 * request already answered (its nonce) is answered again, never made
 * twice, so a lost answer (the write-back failed) costs nothing but its
 * retry.  The STAT doubles as the keepalive.
 */
static void ctrl_snapshot(struct archip_dev *dev)
{
	char name[ARCHIP_VOL_OBJ_NAME_MAX];
	struct archip_snap_req *req;
	struct archip_stat stat;
	const char *why = NULL;
	u64 nonce;
	int st;

	archip_snapreq_name(name, dev->args.volume);
	st = archip_lock_call(dev, ARCHIP_OP_STAT, 0, name, 0, 0, NULL, 0,
			      &stat, sizeof(stat));
	if (st || !(le32_to_cpu(stat.flags) & ARCHIP_STAT_EXISTS) ||
	    le64_to_cpu(stat.size) != sizeof(*req))
		return;
	req = kzalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return;
	st = archip_lock_call(dev, ARCHIP_OP_READ, 0, name, 0, sizeof(*req),
			      NULL, 0, req, sizeof(*req));
	if (st || le32_to_cpu(req->magic) != ARCHIP_SNAPREQ_MAGIC ||
	    le32_to_cpu(req->state) != ARCHIP_SNAPREQ_PENDING)
		goto out;
	nonce = le64_to_cpu(req->nonce);
	if (dev->snap_answered && nonce == dev->snap_nonce) {
		st = dev->snap_status;		/* answered; the answer was lost */
	} else {
		if (!snapreq_ok(req)) {
			st = -EINVAL;
			why = "bad snapshot request";
		} else {
			st = snapshot_frozen(dev, req, &why);
		}
		if (st)	/* the name as stored: escaped, it may be anything */
			pr_warn("%s: snapshot %*pE failed: %s (%d)\n",
				dev->args.volume,
				(int)strnlen(req->snap, sizeof(req->snap)),
				req->snap, why, st);
		else
			pr_info("%s: snapshot %s made\n", dev->args.volume,
				req->snap);
		dev->snap_nonce = nonce;
		dev->snap_status = st;
		dev->snap_answered = true;
	}
	req->state = cpu_to_le32(st ? ARCHIP_SNAPREQ_FAILED : ARCHIP_SNAPREQ_DONE);
	req->error = cpu_to_le32((u32)st);
	archip_lock_call(dev, ARCHIP_OP_WRITE, ARCHIP_REQ_FUA, name, 0,
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
	unsigned int noio = memalloc_noio_save();

	do_allocs(dev);
	if (READ_ONCE(dev->dying))
		goto out;
	/* Keep the control connection, and so the volume lock, alive. */
	if (dev->epoch) {
		ctrl_snapshot(dev);
	} else {
		archip_hdr_name(name, dev->args.volume);
		archip_lock_call(dev, ARCHIP_OP_STAT, 0, name, 0, 0, NULL, 0,
				 &stat, sizeof(stat));
	}
	if (!READ_ONCE(dev->dying))
		queue_delayed_work(ctrl_wq, &dev->ctrl_work,
				   list_empty(&dev->alloc_list) ? KEEPALIVE : 0);
out:
	memalloc_noio_restore(noio);
}

void archip_ctrl_start(struct archip_dev *dev)
{
	queue_delayed_work(ctrl_wq, &dev->ctrl_work, KEEPALIVE);
}

/*
 * UNMAP (dev->dying is set): stop the work, failing the first writes it
 * had not done.  Closing the connection afterwards releases the lock.
 */
void archip_ctrl_stop(struct archip_dev *dev)
{
	struct archip_cmd *cmd;

	archip_lock_stop(dev);		/* a call in progress ends */
	cancel_delayed_work_sync(&dev->ctrl_work);
	while ((cmd = next_alloc(dev)) != NULL) {
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(blk_mq_rq_from_pdu(cmd));
	}
	archip_lock_close(dev);
}

void archip_ctrl_init(struct archip_dev *dev)
{
	archip_lock_init(dev);
	spin_lock_init(&dev->alloc_lock);
	INIT_LIST_HEAD(&dev->alloc_list);
	INIT_DELAYED_WORK(&dev->ctrl_work, ctrl_work);
}

int archip_ctrl_module_init(void)
{
	ctrl_wq = alloc_workqueue("archip_ctrl", WQ_MEM_RECLAIM, 0);
	return ctrl_wq ? 0 : -ENOMEM;
}

void archip_ctrl_module_exit(void)
{
	destroy_workqueue(ctrl_wq);
}
