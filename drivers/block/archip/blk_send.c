// SPDX-License-Identifier: GPL-2.0
/*
 * The send side of a data connection, as nvme-tcp's: queue_rq puts a
 * request on its queue's send list; the last request of a batch (or
 * commit_rqs) sends the list right away when nobody is sending, every
 * frame but the last with MSG_MORE, so a batch leaves in full segments;
 * otherwise, and whenever the socket is full, the queue's send work goes
 * on where the last send stopped, once the socket has room again (its
 * write_space callback queues the work).  No send ever waits: a frozen
 * server whose socket stays full costs queue_rq nothing, and the I/O
 * timeout then cuts the connection (blk_mq.c).
 *
 * Rules:
 *  - One sender at a time per queue (send_mutex): queue_rq takes it only
 *    with a trylock, the work with a lock.  The part being sent and its
 *    place (header bytes, payload cursor) live in the request (struct
 *    archip_cmd), so a send cut short by a full socket resumes exactly.
 *  - The sender holds one count of the request's pending parts until its
 *    last byte is sent: the request cannot complete, and be freed, while
 *    the sender still looks at it.  Dropping that count is the last thing
 *    the sender does with it, after the mutex is dropped, so that no
 *    request completes (and no endio runs) under it.
 *  - A connection is given up by its receive thread (blk_queue.c), which
 *    stops the sends first (archip_send_stop()): afterwards nothing on
 *    the list or half sent is touched again; those requests are resent or
 *    failed from the in-flight set.
 *  - A send that fails breaks the connection (shutdown); the receive
 *    thread sees that too and recovers.
 *  - Sends run in a memalloc_noreclaim scope: this device may be what
 *    reclaim writes to.
 *  - MSG_MORE only when more is already there to send (another part of
 *    the request, or a request on the list): the sender that set it goes
 *    on with that next frame itself, or its work does, so no frame waits
 *    corked.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/sched/mm.h>
#include "compat.h"

#include "blk.h"
#include "digest.h"

/* How long the work sends before it lets others run (and comes back). */
#define SEND_BUDGET	msecs_to_jiffies(1)

static struct workqueue_struct *send_wq;	/* WQ_MEM_RECLAIM | WQ_HIGHPRI */

/* Off: every request sent on its own, as before batching (benchmarks). */
static bool batch_sends = true;
module_param(batch_sends, bool, 0644);
MODULE_PARM_DESC(batch_sends, "send a blk-mq batch together, frames joined by MSG_MORE (default Y; N: each request alone)");

/* The next part of @cmd to send after part @k (or the first: k = -1). */
static int next_part(struct archip_cmd *cmd, int k)
{
	for (k++; k < cmd->nr_parts; k++)
		if (cmd->remote & BIT_ULL(k))
			return k;
	return -1;
}

/*
 * The digest of @len payload bytes from @cmd's cursor on, which stays
 * where it is (the send moves it).
 */
static u32 payload_crc(struct archip_cmd *cmd, u32 crc, u32 len)
{
	struct bio *bio = cmd->bio;
	struct bvec_iter it = cmd->iter;
	struct bio_vec bv;

	while (len) {
		if (!it.bi_size) {
			bio = bio->bi_next;
			it = bio->bi_iter;
		}
		bv = bio_iter_iovec(bio, it);
		bv.bv_len = min(bv.bv_len, len);
		crc = archip_crc_page(crc, bv.bv_page, bv.bv_offset, bv.bv_len);
		bio_advance_iter_single(bio, &it, bv.bv_len);
		len -= bv.bv_len;
	}
	return crc;
}

/*
 * Set up @cmd to send its part @k: header (and its digest) and name,
 * payload, and with digests the trailer: the digest of name and payload,
 * taken before the first byte goes (the disk has stable pages then).
 */
static void start_part(struct archip_queue *q, struct archip_cmd *cmd, int k)
{
	struct request *rq = blk_mq_rq_from_pdu(cmd);
	struct archip_req *h = (struct archip_req *)cmd->wire;
	unsigned int dg = q->conn.digest ? ARCHIP_DIGEST_LEN : 0;
	char *name = (char *)(h + 1) + dg;
	struct archip_part p;
	u16 nlen;
	u32 crc;
	u8 op;

	archip_rq_part(q->dev, rq, k, &p);
	archip_obj_name(q->dev, p.idx, name);
	nlen = strlen(name);
	switch (req_op(rq)) {
	case REQ_OP_READ:
		op = ARCHIP_OP_READ;
		break;
	case REQ_OP_WRITE:
		op = ARCHIP_OP_WRITE;
		break;
	case REQ_OP_DISCARD:
		op = ARCHIP_OP_DISCARD;
		break;
	default:
		op = ARCHIP_OP_WRITE_ZEROES;
		break;
	}
	*h = (struct archip_req) {
		.magic = cpu_to_le32(ARCHIP_REQ_MAGIC),
		.op = op,
		.tag = cpu_to_le64(archip_tag(cmd->gen, k, blk_mq_unique_tag(rq))),
		.off = cpu_to_le64(p.off),
		.len = cpu_to_le32(p.len),
		.name_len = cpu_to_le16(nlen),
		.data_len = cpu_to_le32(op == ARCHIP_OP_WRITE ? p.len : 0),
		.epoch = cpu_to_le32(READ_ONCE(q->conn.epoch)),
	};
	cmd->part = k;
	cmd->hdr_len = sizeof(*h) + dg + nlen;
	cmd->hdr_sent = 0;
	cmd->data_left = op == ARCHIP_OP_WRITE ? p.len : 0;
	cmd->trl_len = dg;
	cmd->trl_sent = 0;
	if (dg) {
		put_unaligned_le32(archip_crc_final(archip_crc(ARCHIP_CRC_INIT, h,
							       sizeof(*h))), h + 1);
		crc = archip_crc(ARCHIP_CRC_INIT, name, nlen);
		crc = payload_crc(cmd, crc, cmd->data_left);
		cmd->trailer = cpu_to_le32(archip_crc_final(crc));
	}
}

/*
 * Send what is left of q->cur: 0 once all of it is sent (then it goes on
 * @sent, q->cur is cleared), -EAGAIN when the socket is full, or an error.
 */
static int send_cur(struct archip_queue *q, struct list_head *sent)
{
	struct archip_cmd *cmd = q->cur;
	struct bio_vec bv;
	bool more;
	int n, k;

	for (;;) {
		/* Is more queued behind this part's last byte? */
		more = next_part(cmd, cmd->part) >= 0 ||
		       (READ_ONCE(batch_sends) && !list_empty(&q->send_list));
		if (cmd->hdr_sent < cmd->hdr_len) {
			n = archip_conn_send_nowait(&q->conn,
						    cmd->wire + cmd->hdr_sent,
						    cmd->hdr_len - cmd->hdr_sent,
						    cmd->data_left || cmd->trl_len ||
						    more);
			if (n < 0)
				return n;
			cmd->hdr_sent += n;
			continue;
		}
		if (cmd->data_left) {
			/* A part that starts where a bio ended: the next bio. */
			if (!cmd->iter.bi_size) {
				cmd->bio = cmd->bio->bi_next;
				cmd->iter = cmd->bio->bi_iter;
			}
			bv = bio_iter_iovec(cmd->bio, cmd->iter);
			bv.bv_len = min(bv.bv_len, cmd->data_left);
			n = archip_conn_sendpage_nowait(&q->conn, bv.bv_page,
							bv.bv_offset, bv.bv_len,
							cmd->data_left > bv.bv_len ||
							cmd->trl_len || more);
			if (n < 0)
				return n;
			cmd->data_left -= n;
			bio_advance_iter_single(cmd->bio, &cmd->iter, n);
			continue;
		}
		if (cmd->trl_sent < cmd->trl_len) {
			n = archip_conn_send_nowait(&q->conn,
						    (u8 *)&cmd->trailer + cmd->trl_sent,
						    cmd->trl_len - cmd->trl_sent,
						    more);
			if (n < 0)
				return n;
			cmd->trl_sent += n;
			continue;
		}
		k = next_part(cmd, cmd->part);
		if (k >= 0) {
			start_part(q, cmd, k);
			continue;
		}
		q->cur = NULL;
		list_add_tail(&cmd->send_node, sent);
		return 0;
	}
}

static struct archip_cmd *pop(struct archip_queue *q)
{
	struct archip_cmd *cmd;

	spin_lock(&q->send_lock);
	cmd = list_first_entry_or_null(&q->send_list, struct archip_cmd,
				       send_node);
	if (cmd)
		list_del(&cmd->send_node);
	spin_unlock(&q->send_lock);
	return cmd;
}

/*
 * Send until the list is empty, the socket full or @budget over; what was
 * sent whole goes on @sent, for send_done() to let go of once the mutex
 * is dropped (as nvme-tcp, no request completes under it).
 */
static int send_some(struct archip_queue *q, unsigned long budget,
		     struct list_head *sent)
{
	unsigned int noreclaim = memalloc_noreclaim_save();
	int err = 0;

	lockdep_assert_held(&q->send_mutex);
	while (!err) {
		if (!q->cur) {
			q->cur = pop(q);
			if (!q->cur)
				break;
			start_part(q, q->cur, next_part(q->cur, -1));
		}
		err = send_cur(q, sent);
		if (!err && time_after(jiffies, budget))
			err = -EBUSY;
	}
	memalloc_noreclaim_restore(noreclaim);
	return err;
}

static void send_done(struct archip_queue *q, int err, struct list_head *sent)
{
	struct archip_cmd *cmd, *tmp;

	/* The sender's count: the last touch of each (it may complete). */
	list_for_each_entry_safe(cmd, tmp, sent, send_node)
		archip_cmd_put(cmd);
	if (err == -EBUSY)
		queue_work(send_wq, &q->send_work);	/* budget spent */
	else if (err && err != -EAGAIN)
		archip_conn_shutdown(&q->conn);	/* the receive thread recovers */
}

/* Send one budget's worth with send_mutex held; drops it. */
static void send_locked(struct archip_queue *q)
	__releases(&q->send_mutex)
{
	LIST_HEAD(sent);
	int err;

	err = READ_ONCE(q->conn.sock) ? send_some(q, jiffies + SEND_BUDGET, &sent) : 0;
	mutex_unlock(&q->send_mutex);
	send_done(q, err, &sent);
}

static void send_work(struct work_struct *work)
{
	struct archip_queue *q = container_of(work, struct archip_queue,
					      send_work);

	mutex_lock(&q->send_mutex);
	send_locked(q);
}

/* The socket has room again (softirq). */
static void send_writable(struct archip_conn *c)
{
	struct archip_queue *q = container_of(c, struct archip_queue, conn);

	queue_work(send_wq, &q->send_work);
}

/*
 * Put @rq, whose remote parts, generation and pending count queue_rq has
 * set, on the send list; archip_send_commit() sends it.
 */
void archip_send_queue(struct archip_queue *q, struct request *rq)
{
	struct archip_cmd *cmd = blk_mq_rq_to_pdu(rq);

	cmd->bio = rq->bio;
	if (rq->bio)
		cmd->iter = rq->bio->bi_iter;
	spin_lock(&q->send_lock);
	list_add_tail(&cmd->send_node, &q->send_list);
	spin_unlock(&q->send_lock);
	if (!READ_ONCE(batch_sends))
		archip_send_commit(q);
}

/*
 * The end of a batch (queue_rq's last request, or commit_rqs): send what
 * is on the list now if nobody is sending, else by the work.
 */
void archip_send_commit(struct archip_queue *q)
{
	/*
	 * Not on a connection being given up, nor on a dying device: a
	 * commit may come after queue_rq refused its request, or after the
	 * recovery's quiesce; what is left on the list is resent (or failed)
	 * from the in-flight set.
	 */
	if (READ_ONCE(q->state) != ARCHIP_Q_LIVE || READ_ONCE(q->dev->dying))
		return;
	if (list_empty(&q->send_list))
		return;
	if (mutex_trylock(&q->send_mutex))
		send_locked(q);
	else
		queue_work(send_wq, &q->send_work);
}

/*
 * The connection is given up (its receive thread, queue_rq quiesced):
 * after this nothing is sent, and nothing on the list or half sent is
 * touched again.
 */
void archip_send_stop(struct archip_queue *q)
{
	cancel_work_sync(&q->send_work);
	mutex_lock(&q->send_mutex);
	q->cur = NULL;
	spin_lock(&q->send_lock);
	INIT_LIST_HEAD(&q->send_list);
	spin_unlock(&q->send_lock);
	mutex_unlock(&q->send_mutex);
}

void archip_send_init(struct archip_queue *q)
{
	spin_lock_init(&q->send_lock);
	INIT_LIST_HEAD(&q->send_list);
	mutex_init(&q->send_mutex);
	INIT_WORK(&q->send_work, send_work);
	q->conn.writable = send_writable;
}

int archip_send_module_init(void)
{
	send_wq = alloc_workqueue("archip_send", WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	return send_wq ? 0 : -ENOMEM;
}

void archip_send_module_exit(void)
{
	destroy_workqueue(send_wq);
}
