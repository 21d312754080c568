// SPDX-License-Identifier: GPL-2.0
/*
 * A client connection: the handshake (srv_hello.c), then a receive loop that validates
 * each request frame (srv_frame.c), reads its payload and hands it to a
 * workqueue (lock requests to srv_lock.c's, in order; the others to the
 * I/O workqueue), so the requests of one connection run concurrently and
 * complete in any order.  Replies are sent by the worker that finished
 * the request.
 *
 * Memory per connection is bounded: the receive loop stops reading the
 * socket while max_inflight requests, or CONN_BUDGET bytes of payload, are
 * in flight.  The client then sees TCP backpressure, never an error.
 *
 * A malformed frame closes its connection (and only it) with a logged
 * reason: after one, nothing that follows on the stream can be trusted.
 *
 * The lease (srv_lock.c, rule 4): every connection has TCP keepalive and
 * a user timeout, so a client that went silent is dropped within lease
 * seconds, idle or not; the last put of the connection (after its last
 * request) drops its locks.
 */
#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/sched/task.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "srv.h"
#include "srv_fault.h"
#include "digest.h"
#include "sockio.h"

#define CONN_BUDGET		(8u << 20)

static int recv_all(struct archip_srv_conn *c, void *data, size_t len)
{
	return archip_sock_recv_kvec(c->sock, data, len);
}

static int recv_buf(struct archip_srv_conn *c, struct archip_buf *buf)
{
	struct msghdr msg = { };

	iov_iter_bvec(&msg.msg_iter, ITER_DEST, buf->bvec, buf->nr_pages,
		      buf->len);
	return archip_sock_recv(c->sock, &msg, buf->len);
}

/* ------------------------------------------------------------ digests */

static u32 buf_crc(u32 crc, const struct archip_buf *buf)
{
	unsigned int i;

	for (i = 0; i < buf->nr_pages; i++)
		crc = archip_crc_page(crc, buf->bvec[i].bv_page,
				      buf->bvec[i].bv_offset, buf->bvec[i].bv_len);
	return crc;
}

/* The fault knobs' "byte flipped on the wire": one bit of a payload. */
static void buf_flip(struct archip_buf *buf)
{
	struct bio_vec *bv = &buf->bvec[buf->nr_pages / 2];
	u8 *v = kmap_local_page(bv->bv_page);

	v[bv->bv_offset + bv->bv_len / 2] ^= 0x20;
	kunmap_local(v);
}

/* The digest after a frame's header or its rest: @crc's, or we close. */
static int recv_digest(struct archip_srv_conn *c, u32 crc, const char *what)
{
	__le32 d;
	int err;

	err = recv_all(c, &d, sizeof(d));
	if (err)
		return err;
	if (le32_to_cpu(d) == archip_crc_final(crc))
		return 0;
	atomic64_inc(&c->srv->digest_errors);
	pr_warn_ratelimited("%pISpc: closing connection: %s digest mismatch (corrupted on the wire?)\n",
			    &c->peer, what);
	return -EBADMSG;
}

/* A payload nobody reads (an unknown op's), through the data digest. */
static int recv_skip(struct archip_srv_conn *c, u32 len, u32 *crc)
{
	char scratch[256];
	int err = 0;

	while (len && !err) {
		u32 n = min_t(u32, len, sizeof(scratch));

		err = recv_all(c, scratch, n);
		*crc = archip_crc(*crc, scratch, n);
		len -= n;
	}
	return err;
}

/* ------------------------------------------------------------ replies */

/*
 * The reply: header, then the payload (pages by reference, or @small),
 * each followed by its digest if the connection has them.  @flip: the
 * fault knob's bit flipped in the payload after its digest was taken.
 */
static void send_reply(struct archip_srv_conn *c, u64 tag, int status,
		       struct archip_buf *buf, const void *small, u32 small_len,
		       bool flip)
{
	u32 data_len = buf ? buf->len : small_len;
	struct archip_rep rep = {
		.magic = cpu_to_le32(ARCHIP_REP_MAGIC),
		.status = cpu_to_le32((u32)status),
		.tag = cpu_to_le64(tag),
		.data_len = cpu_to_le32(data_len),
	};
	__le32 hdgst, ddgst;
	unsigned int dg = c->digest ? ARCHIP_DIGEST_LEN : 0;
	/* Header and a small payload in one send; pages follow by reference. */
	struct kvec iov[4] = {
		{ .iov_base = &rep, .iov_len = sizeof(rep) },
		{ .iov_base = &hdgst, .iov_len = dg },
		{ .iov_base = (void *)small, .iov_len = buf ? 0 : small_len },
		{ .iov_base = &ddgst, .iov_len = !buf && small_len ? dg : 0 },
	};
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | (buf ? MSG_MORE : 0) };
	unsigned int i;
	int err;

	if (dg) {
		hdgst = cpu_to_le32(archip_crc_final(archip_crc(ARCHIP_CRC_INIT,
								&rep, sizeof(rep))));
		ddgst = cpu_to_le32(archip_crc_final(buf ? buf_crc(ARCHIP_CRC_INIT, buf) :
					archip_crc(ARCHIP_CRC_INIT, small, small_len)));
	}
	if (flip && buf)
		buf_flip(buf);
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, iov, ARRAY_SIZE(iov),
		      iov[0].iov_len + iov[1].iov_len + iov[2].iov_len + iov[3].iov_len);
	mutex_lock(&c->send_lock);
	err = archip_sock_send(c->sock, &msg);
	/* Our references go with archip_buf_free(), TCP keeps its own. */
	for (i = 0; buf && i < buf->nr_pages && !err; i++)
		err = archip_sock_send_page(c->sock, buf->bvec[i].bv_page, 0,
					    buf->bvec[i].bv_len,
					    i + 1 < buf->nr_pages || dg);
	if (buf && dg && !err)
		err = archip_sock_send_kvec(c->sock, &ddgst, sizeof(ddgst), false);
	mutex_unlock(&c->send_lock);
	/* The stream is broken: make the receive loop end the connection. */
	if (err) {
		WRITE_ONCE(c->closing, true);
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
	}
}

static void conn_put(struct archip_srv_conn *c);

static void io_done(struct archip_srv_io *io)
{
	struct archip_srv_conn *c = io->conn;

	archip_buf_free(&io->buf);
	kvfree(io->to_free);
	spin_lock(&c->budget_lock);
	c->inflight--;
	c->inflight_bytes -= io->cost;
	spin_unlock(&c->budget_lock);
	wake_up(&c->budget_wait);
	kfree(io);
	conn_put(c);
}

/* Execute a request (or its next step), then answer it. */
static void io_work(struct work_struct *work)
{
	struct archip_srv_io *io = container_of(to_delayed_work(work),
						struct archip_srv_io, work);
	struct archip_srv_conn *c = io->conn;
	struct archip_op_stats *stats;
	int status;

	status = archip_srv_io_execute(io);
	if (status == ARCHIP_SRV_PENDING)
		return;		/* a lock wait: its next step is queued */
	if (io->op <= ARCHIP_OP_MAX) {
		stats = &c->srv->ops[io->op];
		atomic64_inc(&stats->count);
		if (status < 0)
			atomic64_inc(&stats->errors);
		else if (io->op == ARCHIP_OP_READ || io->op == ARCHIP_OP_WRITE)
			atomic64_add(io->len, &stats->bytes);
	}
	if (archip_srv_is_lock_op(io->op))
		archip_srv_lock_finish(io);
	send_reply(c, io->tag, status, status ? NULL : io->reply_buf,
		   io->small, status ? 0 : io->small_len,
		   !status && io->op == ARCHIP_OP_READ && archip_fault_flip_tx(io->name));
	if (archip_srv_is_lock_op(io->op))
		archip_srv_lock_next(io);
	io_done(io);
}

/* ---------------------------------------------------------- the stream */

static int bad_frame(struct archip_srv_conn *c, const char *why)
{
	pr_warn_ratelimited("%pISpc: closing connection: %s\n", &c->peer, why);
	return -EPROTO;
}

static int recv_name(struct archip_srv_conn *c, char *name, u16 len)
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
	if (!archip_name_valid(name, len))
		return bad_frame(c, "invalid object name");
	return 0;
}

static bool budget_ok(struct archip_srv_conn *c, u32 cost)
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

/* Room in the budget (then counted), or the connection is closing. */
static bool budget_wait_done(struct archip_srv_conn *c, u32 cost, bool *counted)
{
	*counted = budget_ok(c, cost);
	return *counted || READ_ONCE(c->closing);
}

static int recv_request(struct archip_srv_conn *c)
{
	bool counted;
	struct archip_req rq;
	const char *why;
	struct archip_srv_io *io;
	u32 dlen, crc = ARCHIP_CRC_INIT;
	u16 nlen;
	int err;

	err = recv_all(c, &rq, sizeof(rq));
	if (!err && c->digest)
		err = recv_digest(c, archip_crc(ARCHIP_CRC_INIT, &rq, sizeof(rq)),
				  "header");
	if (err)
		return err;
	io = kzalloc(sizeof(*io), GFP_KERNEL);
	if (!io)
		return -ENOMEM;
	io->conn = c;	/* its reference is taken once it counts in flight */
	INIT_DELAYED_WORK(&io->work, io_work);
	err = archip_srv_frame_check(c, &rq, io, &dlen, &why);
	if (err) {
		kfree(io);
		return bad_frame(c, why);
	}
	nlen = le16_to_cpu(rq.name_len);
	err = recv_name(c, io->name, nlen);
	if (err) {
		kfree(io);
		return err;
	}
	if (c->digest)
		crc = archip_crc(crc, io->name, nlen);

	/* Payload memory, and a LIST's answer buffer, count in the budget. */
	if (io->op == ARCHIP_OP_READ || io->op == ARCHIP_OP_WRITE ||
	    io->op == ARCHIP_OP_LIST)
		io->cost = io->len;
	/* Backpressure: stop reading the socket until there is room. */
	wait_event(c->budget_wait, budget_wait_done(c, io->cost, &counted));
	if (!counted) {			/* the server is stopping */
		kfree(io);
		return -ECONNRESET;
	}

	kref_get(&c->ref);	/* dropped by io_done() */
	if (io->cost && io->op != ARCHIP_OP_LIST) {
		err = archip_buf_alloc(&io->buf, io->len);
		if (!err && io->op == ARCHIP_OP_WRITE) {
			err = recv_buf(c, &io->buf);
			if (!err && archip_fault_flip_rx(io->name))
				buf_flip(&io->buf);
			if (c->digest)
				crc = buf_crc(crc, &io->buf);
		}
	} else if (io->op == ARCHIP_OP_COPY) {
		err = recv_name(c, io->name2, dlen);
		if (c->digest)
			crc = archip_crc(crc, io->name2, dlen);
	} else {
		err = recv_skip(c, dlen, &crc);
	}
	/* Nothing acts on a frame before its whole digest is checked. */
	if (!err && c->digest && (nlen || dlen))
		err = recv_digest(c, crc, "data");
	if (err) {
		io_done(io);
		return err;
	}
	atomic64_inc(&c->requests);
	if (archip_srv_is_lock_op(io->op))
		archip_srv_lock_submit(io);
	else
		queue_delayed_work(c->srv->io_wq, &io->work, 0);
	return 0;
}

static void conn_release(struct kref *ref)
{
	struct archip_srv_conn *c = container_of(ref, struct archip_srv_conn, ref);
	struct archip_srv *srv = c->srv;

	/* Every request of this connection is done: now its locks may go. */
	archip_srv_lock_release_all(c);
	mutex_lock(&srv->conns_mutex);
	list_del(&c->node);
	srv->nr_conns--;
	mutex_unlock(&srv->conns_mutex);
	sock_release(c->sock);
	kfree(c);
	wake_up(&srv->conns_wait);
}

static void conn_put(struct archip_srv_conn *c)
{
	kref_put(&c->ref, conn_release);
}

static int rx_main(void *data)
{
	struct archip_srv_conn *c = data;
	struct archip_srv_rx *rx = c->rx;
	int err;

	err = archip_srv_handshake(c, c->busy);
	while (!err)
		err = recv_request(c);

	/* Lock waits in progress give up at their next try. */
	WRITE_ONCE(c->closing, true);
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
	struct archip_srv_rx *rx, *tmp;
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
	struct archip_srv_conn *c;
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
	spin_lock_init(&c->budget_lock);
	init_waitqueue_head(&c->budget_wait);
	spin_lock_init(&c->lock_q_lock);
	INIT_LIST_HEAD(&c->lock_q);
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
	 * within lease seconds, idle or not, and its locks with it.  Idle:
	 * keepalive probes after lease/3, three of them lease/6 apart; with
	 * data unacknowledged: the user timeout.
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
	struct archip_srv_conn *c;

	mutex_lock(&srv->conns_mutex);
	list_for_each_entry(c, &srv->conns, node)
		archip_srv_conn_end(c);
	mutex_unlock(&srv->conns_mutex);
}

/* End one connection (under conns_mutex); it cleans itself up. */
void archip_srv_conn_end(struct archip_srv_conn *c)
{
	lockdep_assert_held(&c->srv->conns_mutex);
	/* Lock waits give up at their next try; so does the budget. */
	WRITE_ONCE(c->closing, true);
	kernel_sock_shutdown(c->sock, SHUT_RDWR);
	wake_up(&c->budget_wait);
}
