// SPDX-License-Identifier: GPL-2.0
/*
 * blk-mq for a mapped volume.  A request becomes one part per object it
 * touches (blk.h): the block layer splits reads and writes at object
 * boundaries (chunk_sectors), but on 6.1 a discard or write-zeroes only
 * by its max sectors, so one may span two objects; every part is a
 * request of its own to the server, inside its object, and the request
 * completes when the last part has.  Queues are BLK_MQ_F_BLOCKING, but
 * queue_rq never waits: it hands the parts to the send side (blk_send.c),
 * which sends without waiting; while the connection is being
 * re-established it hands the request back (BLK_STS_DEV_RESOURCE; the
 * receive thread reruns the queue); and the first write of an object is
 * parked for the control work, which records it in the map and requeues
 * it.
 *
 * No volatile cache: the server answers a write once it is on the SAN
 * (data and the metadata that finds it), so the disk has no write cache to
 * flush, and a completed write survives any storage node.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>

#include "blk.h"
#include "compat.h"

/*
 * The parts of @rq that need a server, in cmd->remote; the others are
 * done here: reads of objects never written read zeros (no round trip),
 * discards of them have nothing to punch.
 */
static unsigned int plan_parts(struct archip_dev *dev, struct request *rq,
			       struct archip_cmd *cmd)
{
	unsigned int k, remote = 0;
	struct archip_part p;
	struct bio_vec bv;
	struct req_iterator it;
	u64 first = blk_rq_pos(rq) << SECTOR_SHIFT;
	u32 pos = 0;

	cmd->remote = 0;
	for (k = 0; k < cmd->nr_parts; k++) {
		archip_rq_part(dev, rq, k, &p);
		if (req_op(rq) == REQ_OP_WRITE || archip_obj_exists(dev, p.idx)) {
			cmd->remote |= BIT_ULL(k);
			remote++;
		}
	}
	if (req_op(rq) != REQ_OP_READ || remote == cmd->nr_parts)
		return remote;
	/* Zero what the local parts read. */
	rq_for_each_segment(bv, rq, it) {
		u32 start = pos, end = pos + bv.bv_len;

		k = ((first + pos) >> dev->obj_shift) - (first >> dev->obj_shift);
		archip_rq_part(dev, rq, k, &p);
		while (pos < end) {
			u32 n = min(end, p.data_off + p.len) - pos;

			if (!(cmd->remote & BIT_ULL(k)))
				memzero_page(bv.bv_page, bv.bv_offset + pos - start, n);
			pos += n;
			if (pos < end)
				archip_rq_part(dev, rq, ++k, &p);
		}
	}
	atomic64_add(cmd->nr_parts - remote, &dev->zero_reads);
	return remote;
}

static blk_status_t queue_one(struct archip_queue *q, struct request *rq)
{
	struct archip_dev *dev = q->dev;
	struct archip_cmd *cmd = blk_mq_rq_to_pdu(rq);
	unsigned int n, remote;
	u64 last;

	WRITE_ONCE(cmd->gen, ARCHIP_GEN_NONE);
	/* A new request, or one resent after its connection was lost. */
	if (!cmd->requeued)
		cmd->digest_fails = 0;
	cmd->requeued = false;
	if (READ_ONCE(dev->fenced) || READ_ONCE(dev->dying))
		return BLK_STS_IOERR;
	switch (READ_ONCE(q->state)) {
	case ARCHIP_Q_DEAD:
		return BLK_STS_IOERR;
	case ARCHIP_Q_RECONNECTING:
		return BLK_STS_DEV_RESOURCE;
	}
	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		/* Nothing volatile to flush (no write cache is advertised). */
		blk_mq_start_request(rq);
		blk_mq_end_request(rq, BLK_STS_OK);
		return BLK_STS_OK;
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	/*
	 * A read-only map holds no lock and no epoch: nothing it sends may
	 * change data.  The block layer only warns about a write to a
	 * read-only disk (bio_check_ro()), so refuse it here.
	 */
	if (dev->args.read_only && req_op(rq) != REQ_OP_READ)
		return BLK_STS_IOERR;
	n = archip_rq_nr_parts(dev, rq);
	last = ((blk_rq_pos(rq) << SECTOR_SHIFT) + blk_rq_bytes(rq) - 1) >>
	       dev->obj_shift;
	if (!n || n > ARCHIP_MAX_PARTS || last >= dev->nr_objs)
		return BLK_STS_IOERR;
	blk_mq_start_request(rq);
	if (req_op(rq) == REQ_OP_READ)
		atomic64_inc(&dev->reads);
	else if (req_op(rq) == REQ_OP_WRITE)
		atomic64_inc(&dev->writes);

	/* First writes (and punches of a parent's objects) wait for the map. */
	if (req_op(rq) != REQ_OP_READ && archip_ctrl_needs_alloc(dev, rq)) {
		archip_ctrl_queue_alloc(dev, rq);
		return BLK_STS_OK;
	}
	cmd->nr_parts = n;
	cmd->answered = 0;
	cmd->status = BLK_STS_OK;
	remote = plan_parts(dev, rq, cmd);
	if (!remote) {
		blk_mq_end_request(rq, BLK_STS_OK);
		return BLK_STS_OK;
	}
	/* One per part to answer, one for the sender (blk_send.c). */
	atomic_set(&cmd->pending, remote + 1);
	WRITE_ONCE(cmd->gen, q->gen);
	/*
	 * A failed send leaves the request in flight with this generation:
	 * the receive thread sees the broken connection too, and resends it
	 * on the next one.
	 */
	archip_send_queue(q, rq);
	return BLK_STS_OK;
}

static blk_status_t archip_queue_rq(struct blk_mq_hw_ctx *hctx,
				    const struct blk_mq_queue_data *bd)
{
	struct archip_queue *q = hctx->driver_data;
	blk_status_t st = queue_one(q, bd->rq);

	/*
	 * The last request of a batch sends what the batch put on the list
	 * (blk-mq calls commit_rqs instead when a batch ends early).
	 */
	if (bd->last)
		archip_send_commit(q);
	return st;
}

static void archip_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	archip_send_commit(hctx->driver_data);
}

static void archip_complete_rq(struct request *rq)
{
	struct archip_cmd *cmd = blk_mq_rq_to_pdu(rq);

	blk_mq_end_request(rq, cmd->status);
}

/*
 * A server that stopped answering without closing: cut the connection,
 * which the receive thread then re-establishes (and resends).  A request
 * parked for its map update belongs to the control work, bounded there.
 */
static enum blk_eh_timer_return archip_timeout(struct request *rq)
{
	struct archip_queue *q = rq->mq_hctx->driver_data;
	struct archip_cmd *cmd = blk_mq_rq_to_pdu(rq);

	if (READ_ONCE(cmd->gen) == ARCHIP_GEN_NONE)
		return BLK_EH_RESET_TIMER;
	/*
	 * Sent on a connection already given up: the receive thread resends
	 * it once it has a new one (or fails it after the loss timeout).  The
	 * connection now is that new one, still connecting or binding:
	 * cutting it would only start the reconnect over, until the loss
	 * timeout ran out.
	 */
	if (READ_ONCE(cmd->gen) != READ_ONCE(q->gen) ||
	    READ_ONCE(q->state) != ARCHIP_Q_LIVE)
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
	.commit_rqs	= archip_commit_rqs,
	.complete	= archip_complete_rq,
	.timeout	= archip_timeout,
	.init_hctx	= archip_init_hctx,
};

int archip_mq_setup(struct archip_dev *dev, int major, int first_minor)
{
	u32 obj_sectors = (1U << dev->obj_shift) >> SECTOR_SHIFT;
	struct queue_limits lim = {
		.logical_block_size = 512,
		.physical_block_size = 4096,
		.io_min = 4096,
		.max_segments = USHRT_MAX,
		/* Reads and writes split at objects (discards: see the top). */
		.chunk_sectors = obj_sectors,
		.max_hw_discard_sectors = obj_sectors,
		.max_write_zeroes_sectors = obj_sectors,
		.discard_granularity = 4096,
	};
	int err;

	dev->max_io = min(dev->ctrl.max_io, 1U << dev->obj_shift);
	lim.max_hw_sectors = dev->max_io >> SECTOR_SHIFT;
	dev->tag_set.ops = &archip_mq_ops;
	dev->tag_set.nr_hw_queues = dev->nr_queues;
	dev->tag_set.queue_depth = min_t(u32, dev->args.queue_depth,
					 dev->ctrl.max_inflight);
	dev->tag_set.numa_node = NUMA_NO_NODE;
	dev->tag_set.cmd_size = sizeof(struct archip_cmd);
	dev->tag_set.flags = BLK_MQ_F_SHOULD_MERGE | BLK_MQ_F_BLOCKING;
	dev->tag_set.timeout = dev->args.io_timeout * HZ;
	dev->tag_set.driver_data = dev;
	err = blk_mq_alloc_tag_set(&dev->tag_set);
	if (err)
		return err;
	/* With digests a page must not change between its digest and its send. */
	dev->disk = archip_compat_alloc_disk(&dev->tag_set, &lim,
					     !dev->args.no_digest, dev);
	if (IS_ERR(dev->disk)) {
		err = PTR_ERR(dev->disk);
		dev->disk = NULL;
		blk_mq_free_tag_set(&dev->tag_set);
		return err;
	}
	dev->disk->major = major;
	dev->disk->first_minor = first_minor;
	dev->disk->minors = ARCHIP_BLK_MINORS;
	dev->disk->fops = &archip_fops;
	dev->disk->private_data = dev;
	snprintf(dev->disk->disk_name, DISK_NAME_LEN, "archip%d", dev->index);
	set_capacity(dev->disk, dev->size >> SECTOR_SHIFT);
	set_disk_ro(dev->disk, dev->args.read_only);
	return 0;
}
