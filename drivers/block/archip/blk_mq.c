// SPDX-License-Identifier: GPL-2.0
/*
 * blk-mq for a mapped volume.  The block layer splits I/O at object
 * boundaries (chunk_sectors), so a request maps to one object.  Queues are
 * BLK_MQ_F_BLOCKING: queue_rq sends inline on its queue's connection, and
 * never waits for anything else: while the connection is being
 * re-established it hands the request back (BLK_STS_DEV_RESOURCE; the
 * receive thread reruns the queue), and the first write of an object is
 * parked for the control work, which records it in the map and requeues it.
 *
 * No volatile cache: the server answers a write once it is on the SAN
 * (data and the metadata that finds it), so the disk has no write cache to
 * flush, and a completed write survives any storage node.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>

#include "blk_dev.h"

static blk_status_t archip_queue_rq(struct blk_mq_hw_ctx *hctx,
				    const struct blk_mq_queue_data *bd)
{
	struct bqueue *q = hctx->driver_data;
	struct archip_dev *dev = q->dev;
	struct request *rq = bd->rq;
	struct bcmd *cmd = blk_mq_rq_to_pdu(rq);
	char name[ARCHIP_NAME_MAX + 1];
	u64 pos = blk_rq_pos(rq) << SECTOR_SHIFT, idx = pos >> dev->obj_shift;
	u32 len = blk_rq_bytes(rq), dlen = 0;
	u8 op;

	WRITE_ONCE(cmd->gen, GEN_NONE);
	if (READ_ONCE(dev->fenced) || READ_ONCE(dev->dying))
		return BLK_STS_IOERR;
	switch (READ_ONCE(q->state)) {
	case Q_DEAD:
		return BLK_STS_IOERR;
	case Q_RECONNECTING:
		return BLK_STS_DEV_RESOURCE;
	}
	if (req_op(rq) != REQ_OP_FLUSH && idx >= dev->nr_objs)
		return BLK_STS_IOERR;
	blk_mq_start_request(rq);

	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		/* Nothing volatile to flush (no write cache is advertised). */
		blk_mq_end_request(rq, BLK_STS_OK);
		return BLK_STS_OK;
	case REQ_OP_READ:
		atomic64_inc(&dev->reads);
		if (!archip_obj_exists(dev, idx)) {
			struct bio *bio;

			/* Never written: zeros, no round trip. */
			__rq_for_each_bio(bio, rq)
				zero_fill_bio(bio);
			atomic64_inc(&dev->zero_reads);
			blk_mq_end_request(rq, BLK_STS_OK);
			return BLK_STS_OK;
		}
		op = ARCHIP_OP_READ;
		break;
	case REQ_OP_WRITE:
		atomic64_inc(&dev->writes);
		if (!archip_obj_owned(dev, idx)) {
			archip_ctrl_queue_alloc(dev, rq);
			return BLK_STS_OK;
		}
		op = ARCHIP_OP_WRITE;
		dlen = len;
		break;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		if (!archip_obj_exists(dev, idx)) {
			blk_mq_end_request(rq, BLK_STS_OK);
			return BLK_STS_OK;
		}
		/* Punching a parent's object would change the parent. */
		if (!archip_obj_owned(dev, idx)) {
			archip_ctrl_queue_alloc(dev, rq);
			return BLK_STS_OK;
		}
		op = req_op(rq) == REQ_OP_DISCARD ? ARCHIP_OP_DISCARD :
						    ARCHIP_OP_WRITE_ZEROES;
		break;
	default:
		blk_mq_end_request(rq, BLK_STS_NOTSUPP);
		return BLK_STS_OK;
	}
	archip_obj_name(dev, idx, name, sizeof(name));
	pos &= (1ULL << dev->obj_shift) - 1;

	WRITE_ONCE(cmd->gen, q->gen);
	/*
	 * A failed send leaves the request in flight with this generation:
	 * the receive thread sees the broken connection too, and resends it
	 * on the next one.
	 */
	if (archip_conn_send(&q->conn, op, 0,
			     ((u64)cmd->gen << 32) | blk_mq_unique_tag(rq),
			     name, pos, len, NULL, dlen, rq))
		archip_conn_shutdown(&q->conn);
	return BLK_STS_OK;
}

static void archip_complete_rq(struct request *rq)
{
	struct bcmd *cmd = blk_mq_rq_to_pdu(rq);

	blk_mq_end_request(rq, cmd->status);
}

/*
 * A server that stopped answering without closing: cut the connection,
 * which the receive thread then re-establishes (and resends).  A request
 * parked for its map update belongs to the control work, bounded there.
 */
static enum blk_eh_timer_return archip_timeout(struct request *rq)
{
	struct bqueue *q = rq->mq_hctx->driver_data;
	struct bcmd *cmd = blk_mq_rq_to_pdu(rq);

	if (READ_ONCE(cmd->gen) == GEN_NONE)
		return BLK_EH_RESET_TIMER;
	pr_warn_ratelimited("%s: request timed out on connection %u\n",
			    q->dev->args.volume, q->idx);
	archip_conn_shutdown(&q->conn);
	return BLK_EH_RESET_TIMER;
}

static int archip_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			    unsigned int idx)
{
	struct archip_dev *dev = data;

	hctx->driver_data = &dev->queues[idx];
	dev->queues[idx].hctx = hctx;
	return 0;
}

static const struct blk_mq_ops archip_mq_ops = {
	.queue_rq	= archip_queue_rq,
	.complete	= archip_complete_rq,
	.timeout	= archip_timeout,
	.init_hctx	= archip_init_hctx,
};

struct inflight_iter {
	int qidx;		/* -1: every queue */
	bool fail;		/* else requeue those of an older connection */
};

static bool inflight_one(struct request *rq, void *data)
{
	struct inflight_iter *it = data;
	struct bqueue *q = rq->mq_hctx->driver_data;
	struct bcmd *cmd = blk_mq_rq_to_pdu(rq);
	u32 gen = READ_ONCE(cmd->gen);

	if ((it->qidx >= 0 && q->idx != it->qidx) || gen == GEN_NONE ||
	    (!it->fail && gen == q->gen))
		return true;
	WRITE_ONCE(cmd->gen, GEN_NONE);
	if (it->fail) {
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(rq);
	} else {
		blk_mq_requeue_request(rq, false);
	}
	return true;
}

/*
 * Requests sent on a connection that is gone (queue @qidx, or all).  Only
 * by the queue's receive thread, or once it is stopped: it alone
 * completes the requests it has sent.
 */
void archip_mq_requeue_inflight(struct archip_dev *dev, int qidx)
{
	struct inflight_iter it = { .qidx = qidx };

	blk_mq_tagset_busy_iter(&dev->tag_set, inflight_one, &it);
}

void archip_mq_fail_inflight(struct archip_dev *dev, int qidx)
{
	struct inflight_iter it = { .qidx = qidx, .fail = true };

	blk_mq_tagset_busy_iter(&dev->tag_set, inflight_one, &it);
}

int archip_mq_setup(struct archip_dev *dev, int major, int first_minor)
{
	struct request_queue *rq;
	u32 obj_sectors = (1U << dev->obj_shift) >> SECTOR_SHIFT;
	int err;

	dev->max_io = min(dev->ctrl.max_io, 1U << dev->obj_shift);
	dev->tag_set.ops = &archip_mq_ops;
	dev->tag_set.nr_hw_queues = dev->nr_queues;
	dev->tag_set.queue_depth = min_t(u32, dev->args.queue_depth,
					 dev->ctrl.max_inflight);
	dev->tag_set.numa_node = NUMA_NO_NODE;
	dev->tag_set.cmd_size = sizeof(struct bcmd);
	dev->tag_set.flags = BLK_MQ_F_SHOULD_MERGE | BLK_MQ_F_BLOCKING;
	dev->tag_set.timeout = dev->args.io_timeout * HZ;
	dev->tag_set.driver_data = dev;
	err = blk_mq_alloc_tag_set(&dev->tag_set);
	if (err)
		return err;
	dev->disk = blk_mq_alloc_disk(&dev->tag_set, dev);
	if (IS_ERR(dev->disk)) {
		err = PTR_ERR(dev->disk);
		dev->disk = NULL;
		blk_mq_free_tag_set(&dev->tag_set);
		return err;
	}
	rq = dev->disk->queue;
	dev->disk->major = major;
	dev->disk->first_minor = first_minor;
	dev->disk->minors = ARCHIP_BLK_MINORS;
	dev->disk->fops = &archip_fops;
	dev->disk->private_data = dev;
	snprintf(dev->disk->disk_name, DISK_NAME_LEN, "archip%d", dev->index);
	set_capacity(dev->disk, dev->size >> SECTOR_SHIFT);
	blk_queue_logical_block_size(rq, 512);
	blk_queue_physical_block_size(rq, 4096);
	blk_queue_io_min(rq, 4096);
	blk_queue_max_hw_sectors(rq, dev->max_io >> SECTOR_SHIFT);
	blk_queue_max_segments(rq, USHRT_MAX);
	blk_queue_chunk_sectors(rq, obj_sectors);
	blk_queue_write_cache(rq, false, false);
	blk_queue_max_discard_sectors(rq, obj_sectors);
	blk_queue_max_write_zeroes_sectors(rq, obj_sectors);
	rq->limits.discard_granularity = 4096;
	blk_queue_flag_set(QUEUE_FLAG_NONROT, rq);
	set_disk_ro(dev->disk, dev->args.read_only);
	return 0;
}
