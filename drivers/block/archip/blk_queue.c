// SPDX-License-Identifier: GPL-2.0
/*
 * The data connections: one per hardware queue, each with a receive
 * thread that completes replies by tag, in any order, and that alone
 * connects, closes and reconnects its connection.
 *
 * Connection loss: the thread marks the queue reconnecting (blk-mq then
 * holds new requests back), waits until no queue_rq is still sending on
 * the old connection (a quiesce), closes it and connects again: the same
 * server first, then the next listed.  The new connection BINDs to the
 * volume lock in the queue's slot, which waits until the server of the old
 * one has ended it: a write still executing there lands before its resend,
 * never after.  Then every request of the old connection is resent.  Only
 * after loss_timeout without a connection do they fail with EIO; a BIND
 * refused for a stale epoch fences the device at once.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/kthread.h>
#include <linux/net.h>
#include <net/sock.h>
#include <linux/sched/signal.h>

#include "blk_dev.h"

#define CONNECT_WAIT	(5 * HZ)

static u32 next_gen(u32 gen)
{
	return gen + 1 ?: 1;
}

/*
 * Connect, check the server can serve this disk's requests, bind.
 * -ESTALE: our lock epoch is not current (fenced).
 */
static int queue_connect(struct bqueue *q)
{
	struct archip_dev *dev = q->dev;
	u32 need = dev->max_io;
	const char *why;
	unsigned int i, s;
	int err = -ENOTCONN;

	for (i = 0; i < dev->args.nr_servers; i++) {
		s = (q->server + i) % dev->args.nr_servers;
		err = archip_conn_open(&q->conn, &dev->args.servers[s],
				       archip_dev_client_id(dev), CONNECT_WAIT,
				       &why);
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
		err = archip_bind(dev, &q->conn, q->idx);
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
void archip_queue_kick(struct bqueue *q)
{
	blk_mq_kick_requeue_list(q->dev->disk->queue);
	if (q->hctx)
		blk_mq_run_hw_queue(q->hctx, true);
}

static bool queue_stopping(struct bqueue *q)
{
	return kthread_should_stop() || READ_ONCE(q->dev->dying) ||
	       READ_ONCE(q->dev->fenced);
}

/* Lost the connection: get a new one, then resend what was in flight. */
static void queue_recover(struct bqueue *q)
{
	struct archip_dev *dev = q->dev;
	unsigned long deadline = jiffies + dev->args.loss_timeout * HZ;
	int err = 0;

	WRITE_ONCE(q->state, Q_RECONNECTING);
	archip_conn_shutdown(&q->conn);
	/* After this no queue_rq sends on the old connection any more. */
	blk_mq_quiesce_queue(dev->disk->queue);
	q->gen = next_gen(q->gen);
	blk_mq_unquiesce_queue(dev->disk->queue);
	archip_conn_close(&q->conn);
	if (queue_stopping(q))
		goto dead;
	atomic64_inc(&dev->reconnects);
	pr_warn("%s: connection %u to %pISpc lost, reconnecting\n",
		dev->args.volume, q->idx, &dev->args.servers[q->server]);
	while (!queue_stopping(q) && time_before(jiffies, deadline)) {
		err = queue_connect(q);
		if (!err) {
			WRITE_ONCE(q->state, Q_LIVE);
			pr_info("%s: connection %u back, to %pISpc\n",
				dev->args.volume, q->idx,
				&dev->args.servers[q->server]);
			archip_mq_requeue_inflight(dev, q->idx);
			archip_queue_kick(q);
			return;
		}
		if (err == -ESTALE) {
			archip_dev_fence(dev, "another map took the volume lock");
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
	WRITE_ONCE(q->state, Q_DEAD);
	archip_mq_fail_inflight(dev, q->idx);
	archip_queue_kick(q);
}

static int recv_reply(struct bqueue *q)
{
	struct archip_dev *dev = q->dev;
	struct archip_rep rep;
	struct request *rq;
	struct bcmd *cmd;
	u32 utag, dlen;
	u64 tag;
	int err, st;

	err = archip_conn_recv(&q->conn, &rep, sizeof(rep));
	if (err)
		return err;
	tag = le64_to_cpu(rep.tag);
	utag = (u32)tag;
	dlen = le32_to_cpu(rep.data_len);
	st = (s32)le32_to_cpu(rep.status);
	if (le32_to_cpu(rep.magic) != ARCHIP_REP_MAGIC ||
	    blk_mq_unique_tag_to_hwq(utag) != q->idx || tag >> 32 != q->gen)
		goto bad;
	rq = blk_mq_tag_to_rq(dev->tag_set.tags[q->idx],
			      blk_mq_unique_tag_to_tag(utag));
	if (!rq || !blk_mq_request_started(rq))
		goto bad;
	cmd = blk_mq_rq_to_pdu(rq);
	if (READ_ONCE(cmd->gen) != q->gen)
		goto bad;
	if (!st && req_op(rq) == REQ_OP_READ) {
		if (dlen != blk_rq_bytes(rq))
			goto bad;
		err = archip_conn_recv_rq(&q->conn, rq);
		if (err)
			return err;
	} else if (dlen) {
		goto bad;
	}
	if (st == -ESTALE && dev->epoch)
		archip_dev_fence(dev, "the object server says our lock epoch is not current");
	WRITE_ONCE(cmd->gen, GEN_NONE);
	cmd->status = errno_to_blk_status(st);
	blk_mq_complete_request(rq);
	return 0;
bad:
	pr_err_ratelimited("%s: bad reply on connection %u, reconnecting\n",
			   dev->args.volume, q->idx);
	return -EPROTO;
}

static int rx_thread(void *data)
{
	struct bqueue *q = data;

	while (!kthread_should_stop()) {
		if (READ_ONCE(q->state) == Q_DEAD) {
			set_current_state(TASK_INTERRUPTIBLE);
			if (!kthread_should_stop())
				schedule();
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (recv_reply(q) && !kthread_should_stop())
			queue_recover(q);
	}
	return 0;
}

void archip_queues_stop(struct archip_dev *dev, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct bqueue *q = &dev->queues[i];

		archip_conn_shutdown(&q->conn);
		if (q->rx)
			kthread_stop(q->rx);
		q->rx = NULL;
		WRITE_ONCE(q->state, Q_DEAD);
		archip_conn_close(&q->conn);
	}
}

int archip_queues_start(struct archip_dev *dev, const char **why)
{
	unsigned int i;
	int err;

	for (i = 0; i < dev->nr_queues; i++) {
		struct bqueue *q = &dev->queues[i];

		q->dev = dev;
		q->idx = i;
		q->gen = 1;
		q->server = dev->ctrl_server;
		archip_conn_init(&q->conn);
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
