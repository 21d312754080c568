// SPDX-License-Identifier: GPL-2.0
/*
 * The data connections: one per hardware queue, each with a receive
 * thread that completes replies by tag, in any order, and that alone
 * connects, closes and reconnects its connection.
 *
 * Connection loss: the thread marks the queue reconnecting (blk-mq then
 * holds new requests back), waits until no queue_rq is still sending on
 * the old connection (a quiesce), stops the send work (blk_send.c),
 * closes the connection and connects again: the same server first, then
 * the next listed.  The new connection BINDs to the volume lock in the
 * queue's slot, which waits until the server of the old one has ended it:
 * a write still executing there lands before its resend, never after.
 * Then every request of the old connection is resent.  Only after
 * loss_timeout without a connection do they fail with EIO; a BIND refused
 * for a stale epoch fences the device at once.
 *
 * The thread runs in a memalloc_noio scope: what it allocates to get a
 * connection back (a socket, above all) must not wait for I/O to the very
 * device it is there to unblock.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/kthread.h>
#include <linux/net.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <net/sock.h>

#include "blk.h"

#define CONNECT_WAIT	(5 * HZ)

static u32 next_gen(u32 gen)
{
	gen = (gen + 1) & ARCHIP_TAG_GEN_MASK;
	return gen ?: 1;
}

static bool dev_stopping(struct archip_dev *dev)
{
	return READ_ONCE(dev->dying) || READ_ONCE(dev->fenced);
}

/* The receive thread only. */
static bool queue_stopping(struct archip_queue *q)
{
	return kthread_should_stop() || dev_stopping(q->dev);
}

/*
 * Connect, check the server can serve this disk's requests, bind.
 * -ESTALE: our lock epoch is not current (fenced).
 */
static int queue_connect(struct archip_queue *q)
{
	struct archip_dev *dev = q->dev;
	u32 need = dev->max_io;
	const char *why;
	unsigned int i, s;
	int err = -ENOTCONN;

	for (i = 0; i < dev->args.nr_servers && !dev_stopping(dev); i++) {
		s = (q->server + i) % dev->args.nr_servers;
		err = archip_conn_open(&q->conn, &dev->args.servers[s],
				       dev->client_id, !dev->args.insecure,
				       CONNECT_WAIT, &why);
		if (err)
			continue;
		if (q->conn.max_io < need) {
			pr_warn_ratelimited("%s: %pISpc takes requests up to %u bytes, this device sends %u: not using it\n",
					    dev->args.volume,
					    &dev->args.servers[s],
					    q->conn.max_io, need);
			archip_conn_close(&q->conn);
			err = -EINVAL;
			continue;
		}
		err = archip_lock_bind(dev, &q->conn, q->idx);
		if (err) {
			archip_conn_close(&q->conn);
			if (err == -ESTALE)
				return err;
			continue;
		}
		/* Replies may take long; the request timeout bounds them. */
		q->conn.sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
		q->conn.sock->sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
		q->server = s;
		return 0;
	}
	return err;
}

/* Requests held back while reconnecting (or to fail now): run them. */
static void queue_kick(struct archip_queue *q)
{
	blk_mq_kick_requeue_list(q->dev->disk->queue);
	if (q->hctx)
		blk_mq_run_hw_queue(q->hctx, true);
}

struct inflight_iter {
	int qidx;		/* -1: every queue */
	bool fail;		/* else requeue those of an older connection */
};

static bool inflight_one(struct request *rq, void *data)
{
	struct inflight_iter *it = data;
	struct archip_queue *q = rq->mq_hctx->driver_data;
	struct archip_cmd *cmd = blk_mq_rq_to_pdu(rq);
	u32 gen = READ_ONCE(cmd->gen);

	if ((it->qidx >= 0 && q->idx != it->qidx) || gen == ARCHIP_GEN_NONE ||
	    (!it->fail && gen == q->gen))
		return true;
	WRITE_ONCE(cmd->gen, ARCHIP_GEN_NONE);
	if (it->fail) {
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(rq);
	} else {
		cmd->requeued = true;
		blk_mq_requeue_request(rq, false);
	}
	return true;
}

/*
 * Requests sent on a connection that is gone (queue @qidx, or all).  Only
 * by the queue's receive thread, with its sends stopped, or once both are
 * stopped: it alone completes the requests it has sent then.
 */
static void requeue_inflight(struct archip_dev *dev, int qidx)
{
	struct inflight_iter it = { .qidx = qidx };

	blk_mq_tagset_busy_iter(&dev->tag_set, inflight_one, &it);
}

static void fail_inflight(struct archip_dev *dev, int qidx)
{
	struct inflight_iter it = { .qidx = qidx, .fail = true };

	blk_mq_tagset_busy_iter(&dev->tag_set, inflight_one, &it);
}

/* UNMAP, every queue stopped: fail what any of them had in flight. */
void archip_queues_fail_inflight(struct archip_dev *dev)
{
	fail_inflight(dev, -1);
}

/* Lost the connection: get a new one, then resend what was in flight. */
static void queue_recover(struct archip_queue *q)
{
	struct archip_dev *dev = q->dev;
	unsigned long deadline = jiffies + dev->args.loss_timeout * HZ;
	int err = 0;

	WRITE_ONCE(q->state, ARCHIP_Q_RECONNECTING);
	archip_conn_shutdown(&q->conn);
	/* After this no queue_rq sends on the old connection any more. */
	blk_mq_quiesce_queue(dev->disk->queue);
	WRITE_ONCE(q->gen, next_gen(q->gen));
	blk_mq_unquiesce_queue(dev->disk->queue);
	archip_send_stop(q);
	archip_conn_close(&q->conn);
	/*
	 * A write_space callback between the stop and the close may have
	 * queued the work again: let it run out here, on no socket, not
	 * later on the connection this recovery makes.
	 */
	cancel_work_sync(&q->send_work);
	if (queue_stopping(q))
		goto dead;
	atomic64_inc(&dev->reconnects);
	pr_warn("%s: connection %u to %pISpc lost, reconnecting\n",
		dev->args.volume, q->idx, &dev->args.servers[q->server]);
	while (!queue_stopping(q) && time_before(jiffies, deadline)) {
		err = queue_connect(q);
		if (!err) {
			WRITE_ONCE(q->state, ARCHIP_Q_LIVE);
			pr_info("%s: connection %u back, to %pISpc\n",
				dev->args.volume, q->idx,
				&dev->args.servers[q->server]);
			requeue_inflight(dev, q->idx);
			queue_kick(q);
			return;
		}
		if (err == -ESTALE) {
			archip_lock_fence(dev, "another map took the volume lock");
			break;
		}
		/* Next time, try the next server first. */
		q->server = (q->server + 1) % dev->args.nr_servers;
		schedule_timeout_interruptible(HZ / 2);
	}
	if (!queue_stopping(q))
		pr_err("%s: connection %u not back within %us (%d): failing its I/O\n",
		       dev->args.volume, q->idx, dev->args.loss_timeout, err);
dead:
	WRITE_ONCE(q->state, ARCHIP_Q_DEAD);
	fail_inflight(dev, q->idx);
	queue_kick(q);
}

/* The request a reply is for, and which of its parts; NULL if none. */
static struct archip_cmd *reply_cmd(struct archip_queue *q, u64 tag,
				    unsigned int *part)
{
	u32 utag = (u32)tag;
	struct archip_cmd *cmd;
	struct request *rq;

	*part = (tag >> ARCHIP_TAG_PART_SHIFT) & 0xff;
	if (blk_mq_unique_tag_to_hwq(utag) != q->idx ||
	    tag >> ARCHIP_TAG_GEN_SHIFT != q->gen)
		return NULL;
	rq = blk_mq_tag_to_rq(q->dev->tag_set.tags[q->idx],
			      blk_mq_unique_tag_to_tag(utag));
	if (!rq || !blk_mq_request_started(rq))
		return NULL;
	cmd = blk_mq_rq_to_pdu(rq);
	/* Sent on this connection, this part, not answered yet. */
	if (READ_ONCE(cmd->gen) != q->gen || *part >= cmd->nr_parts ||
	    !(cmd->remote & BIT_ULL(*part)) || (cmd->answered & BIT_ULL(*part)))
		return NULL;
	return cmd;
}

static int recv_reply(struct archip_queue *q)
{
	struct archip_dev *dev = q->dev;
	struct archip_part p;
	struct archip_rep rep;
	struct archip_cmd *cmd;
	struct request *rq;
	unsigned int part;
	u32 dlen;
	int err, st;

	err = archip_conn_recv_rep(&q->conn, &rep);
	if (err)
		return err;
	dlen = le32_to_cpu(rep.data_len);
	st = (s32)le32_to_cpu(rep.status);
	if (le32_to_cpu(rep.magic) != ARCHIP_REP_MAGIC || st > 0)
		goto bad;
	cmd = reply_cmd(q, le64_to_cpu(rep.tag), &part);
	if (!cmd)
		goto bad;
	rq = blk_mq_rq_from_pdu(cmd);
	archip_rq_part(dev, rq, part, &p);
	if (!st && req_op(rq) == REQ_OP_READ) {
		if (dlen != p.len)
			goto bad;
		err = archip_conn_recv_rq(&q->conn, rq, p.data_off, p.len);
		/* The stream is whole: this part can fail alone. */
		if (err == -EBADMSG && ++cmd->digest_fails > ARCHIP_DIGEST_RETRIES) {
			pr_err_ratelimited("%s: a READ failed its data digest %u times: failing it\n",
					   dev->args.volume, cmd->digest_fails);
			st = -EIO;
			err = 0;
		}
		if (err)
			return err;
	} else if (dlen) {
		goto bad;
	}
	if (st == -ESTALE && dev->epoch)
		archip_lock_fence(dev, "the object server says our lock epoch is not current");
	cmd->answered |= BIT_ULL(part);
	if (st && cmd->status == BLK_STS_OK)
		cmd->status = errno_to_blk_status(st);
	archip_cmd_put(cmd);
	return 0;
bad:
	pr_err_ratelimited("%s: bad reply on connection %u, reconnecting\n",
			   dev->args.volume, q->idx);
	return -EPROTO;
}

static int rx_thread(void *data)
{
	struct archip_queue *q = data;
	unsigned int noio = memalloc_noio_save();

	while (!kthread_should_stop()) {
		if (READ_ONCE(q->state) == ARCHIP_Q_DEAD) {
			set_current_state(TASK_INTERRUPTIBLE);
			if (!kthread_should_stop())
				schedule();
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (recv_reply(q) && !kthread_should_stop())
			queue_recover(q);
	}
	memalloc_noio_restore(noio);
	return 0;
}

/*
 * Stop queues [0, n): first every connection for good (a connect or BIND
 * in progress ends at once), then each receive thread and send work.
 */
void archip_queues_stop(struct archip_dev *dev, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		archip_conn_stop(&dev->queues[i].conn);
	for (i = 0; i < n; i++) {
		struct archip_queue *q = &dev->queues[i];

		if (q->rx)
			kthread_stop(q->rx);
		q->rx = NULL;
		WRITE_ONCE(q->state, ARCHIP_Q_DEAD);
		archip_send_stop(q);
		archip_conn_close(&q->conn);
		/* A write_space callback before the close may have queued it. */
		cancel_work_sync(&q->send_work);
	}
}

int archip_queues_start(struct archip_dev *dev, const char **why)
{
	unsigned int i;
	int err;

	for (i = 0; i < dev->nr_queues; i++) {
		struct archip_queue *q = &dev->queues[i];

		q->dev = dev;
		q->idx = i;
		q->gen = 1;
		q->server = dev->ctrl_server;
		archip_conn_init(&q->conn, !dev->args.no_digest);
		archip_send_init(q);
		err = queue_connect(q);
		if (err) {
			*why = err == -ESTALE ?
			       "another map took the volume lock" :
			       "cannot open the data connections to the object servers (see dmesg)";
			goto err;
		}
		q->rx = kthread_run(rx_thread, q, "archip%d-rx%u", dev->index, i);
		if (IS_ERR(q->rx)) {
			err = PTR_ERR(q->rx);
			q->rx = NULL;
			archip_conn_close(&q->conn);
			goto err;
		}
	}
	return 0;
err:
	archip_queues_stop(dev, i);
	return err;
}
