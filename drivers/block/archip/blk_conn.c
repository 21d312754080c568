// SPDX-License-Identifier: GPL-2.0
/*
 * Client side of the object protocol in the kernel: connect and handshake
 * (blk_hello.c), synchronous calls (control
 * connection, BIND), sends that never wait (the data path, blk_send.c),
 * and receives.
 */
#include <linux/blk-mq.h>
#include <linux/net.h>
#include <linux/sched/mm.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "blk_conn.h"
#include "digest.h"
#include "sockio.h"

/*
 * Socket I/O of a block device may run while the system reclaims memory
 * by writing to that very device: it must not recurse into reclaim, and
 * may dip into the reserves (as nbd and nvme-tcp do).
 */
int archip_conn_recv(struct archip_conn *c, void *buf, size_t len)
{
	unsigned int noreclaim = memalloc_noreclaim_save();
	int err = archip_sock_recv_kvec(c->sock, buf, len);

	memalloc_noreclaim_restore(noreclaim);
	return err;
}

/*
 * A READ payload lands in the request's pages, [off, off + len) of its
 * data, with one receive per bio: a receive per 4 KiB segment would take
 * the socket lock 256 times for a 1 MiB request.  The iterator starts
 * where the bio's own iterator points, as a split bio shares its parent's
 * vector.
 */
static int recv_rq(struct archip_conn *c, struct request *rq, u32 off, u32 len)
{
	unsigned int noreclaim;
	struct bvec_iter bi;
	struct bio_vec bv;
	struct bio *bio;
	int err = 0;

	__rq_for_each_bio(bio, rq) {
		struct msghdr msg = { };
		unsigned int nr = 0;
		u32 n;

		if (!len)
			break;
		if (off >= bio->bi_iter.bi_size) {
			off -= bio->bi_iter.bi_size;
			continue;
		}
		bio_for_each_bvec(bv, bio, bi)
			nr++;
		iov_iter_bvec(&msg.msg_iter, ITER_DEST,
			      __bvec_iter_bvec(bio->bi_io_vec, bio->bi_iter),
			      nr, bio->bi_iter.bi_size + bio->bi_iter.bi_bvec_done);
		iov_iter_advance(&msg.msg_iter, bio->bi_iter.bi_bvec_done + off);
		n = min(len, bio->bi_iter.bi_size - off);
		iov_iter_truncate(&msg.msg_iter, n);
		noreclaim = memalloc_noreclaim_save();
		err = archip_sock_recv(c->sock, &msg, n);
		memalloc_noreclaim_restore(noreclaim);
		if (err)
			return err;
		len -= n;
		off = 0;
	}
	return len ? -EIO : 0;
}

/* The digest that follows what @crc covered: 0, or -EBADMSG (counted). */
static int recv_digest(struct archip_conn *c, u32 crc, const char *what)
{
	__le32 d;
	int err;

	err = archip_conn_recv(c, &d, sizeof(d));
	if (err)
		return err;
	if (le32_to_cpu(d) == archip_crc_final(crc))
		return 0;
	atomic64_inc(&c->digest_errors);
	pr_err_ratelimited("%pISpc: %s digest mismatch (corrupted on the wire?): reconnecting\n",
			   &c->addr, what);
	return -EBADMSG;
}

/*
 * With digests, the payload is received one segment at a time and each
 * segment hashed as soon as it landed (nvme-tcp hashes as it copies): a
 * page the request lists twice (two iovecs on one buffer, a guest's
 * scratch page) is hashed with the bytes the wire put there for each
 * place, not with what a later segment left in it.  More receives than
 * recv_rq()'s one per bio: part of what digests cost.
 */
static int recv_rq_hashed(struct archip_conn *c, struct request *rq, u32 off,
			  u32 len, u32 *crc)
{
	unsigned int noreclaim;
	struct req_iterator it;
	struct bio_vec bv;
	int err;

	rq_for_each_segment(bv, rq, it) {
		struct msghdr msg = { };
		u32 n;

		if (!len)
			break;
		if (off >= bv.bv_len) {
			off -= bv.bv_len;
			continue;
		}
		n = min(len, bv.bv_len - off);
		bv.bv_offset += off;
		bv.bv_len = n;
		iov_iter_bvec(&msg.msg_iter, ITER_DEST, &bv, 1, n);
		noreclaim = memalloc_noreclaim_save();
		err = archip_sock_recv(c->sock, &msg, n);
		memalloc_noreclaim_restore(noreclaim);
		if (err)
			return err;
		*crc = archip_crc_page(*crc, bv.bv_page, bv.bv_offset, n);
		len -= n;
		off = 0;
	}
	return len ? -EIO : 0;
}

int archip_conn_recv_rq(struct archip_conn *c, struct request *rq, u32 off,
			u32 len)
{
	u32 crc = ARCHIP_CRC_INIT;
	int err;

	if (!c->digest)
		return recv_rq(c, rq, off, len);
	err = recv_rq_hashed(c, rq, off, len, &crc);
	return err ?: recv_digest(c, crc, "data");
}

int archip_conn_recv_rep(struct archip_conn *c, struct archip_rep *rep)
{
	int err = archip_conn_recv(c, rep, sizeof(*rep));

	if (!err && c->digest)
		err = recv_digest(c, archip_crc(ARCHIP_CRC_INIT, rep, sizeof(*rep)),
				  "reply header");
	return err;
}

/* A synchronous send of a whole request (control calls, BIND). */
static int conn_send(struct archip_conn *c, u8 op, u16 flags, u64 tag,
		     const char *name, u64 off, u32 len, const void *data,
		     u32 data_len)
{
	u16 nlen = name ? strlen(name) : 0;
	struct archip_req h = {
		.magic = cpu_to_le32(ARCHIP_REQ_MAGIC),
		.op = op,
		.flags = cpu_to_le16(flags),
		.tag = cpu_to_le64(tag),
		.off = cpu_to_le64(off),
		.len = cpu_to_le32(len),
		.name_len = cpu_to_le16(nlen),
		.data_len = cpu_to_le32(data_len),
		.epoch = cpu_to_le32(READ_ONCE(c->epoch)),
	};
	unsigned int dg = c->digest ? ARCHIP_DIGEST_LEN : 0;
	__le32 hdgst, ddgst;
	/* One send: each send takes the socket lock. */
	struct kvec iov[5] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = &hdgst, .iov_len = dg },
		{ .iov_base = (void *)name, .iov_len = nlen },
		{ .iov_base = (void *)data, .iov_len = data_len },
		{ .iov_base = &ddgst, .iov_len = nlen + data_len ? dg : 0 },
	};
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	unsigned int noreclaim, i;
	size_t total = 0;
	int err;

	if (dg) {
		hdgst = cpu_to_le32(archip_crc_final(archip_crc(ARCHIP_CRC_INIT,
								&h, sizeof(h))));
		ddgst = cpu_to_le32(archip_crc_final(archip_crc(archip_crc(ARCHIP_CRC_INIT,
						name, nlen), data, data_len)));
	}
	for (i = 0; i < ARRAY_SIZE(iov); i++)
		total += iov[i].iov_len;
	mutex_lock(&c->send_lock);
	noreclaim = memalloc_noreclaim_save();
	if (!c->sock) {
		err = -ENOTCONN;
		goto out;
	}
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, iov, ARRAY_SIZE(iov), total);
	err = archip_sock_send(c->sock, &msg);
out:
	memalloc_noreclaim_restore(noreclaim);
	mutex_unlock(&c->send_lock);
	return err;
}

/*
 * The data path's sends: as much as fits now.  The caller (blk_send.c)
 * is the connection's only sender and keeps its place; the socket stays
 * as long as the queue's send work may run (blk_queue.c stops it before
 * closing).
 */
int archip_conn_send_nowait(struct archip_conn *c, const void *data,
			    size_t len, bool more)
{
	struct kvec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0),
	};

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &iov, 1, len);
	return sock_sendmsg(c->sock, &msg) ?: -EPIPE;
}

/* A page of a WRITE payload, by reference (sockio.h), as nvme-tcp sends it. */
int archip_conn_sendpage_nowait(struct archip_conn *c, struct page *page,
				unsigned int off, size_t len, bool more)
{
	return archip_sock_sendpage_once(c->sock, page, off, len,
					 MSG_NOSIGNAL | MSG_DONTWAIT |
					 (more ? MSG_MORE | ARCHIP_MSG_NOTLAST : 0));
}

int archip_conn_call(struct archip_conn *c, u8 op, u16 flags, const char *name,
		     u64 off, u32 len, const void *data, u32 data_len,
		     void *out, u32 out_len, long timeout, int *err)
{
	struct archip_rep rep;
	u32 dlen;
	int st;

	if (!c->sock) {
		*err = -ENOTCONN;
		return 0;
	}
	/* A server that stops answering costs this call, not the caller. */
	c->sock->sk->sk_rcvtimeo = timeout;
	c->sock->sk->sk_sndtimeo = timeout;

	*err = conn_send(c, op, flags, 1, name, off, len, data, data_len);
	if (!*err)
		*err = archip_conn_recv_rep(c, &rep);
	if (*err)
		return 0;
	dlen = le32_to_cpu(rep.data_len);
	st = (s32)le32_to_cpu(rep.status);
	if (le32_to_cpu(rep.magic) != ARCHIP_REP_MAGIC ||
	    le64_to_cpu(rep.tag) != 1 || st > 0 ||
	    dlen != (st || !out ? 0 : out_len)) {
		pr_warn_ratelimited("%pISpc: malformed reply to op %u (status %d, %u bytes, %u expected)\n",
				    &c->addr, op, st, dlen, st || !out ? 0 : out_len);
		*err = -EPROTO;
		return 0;
	}
	if (dlen)
		*err = archip_conn_recv(c, out, dlen);
	if (dlen && !*err && c->digest)
		*err = recv_digest(c, archip_crc(ARCHIP_CRC_INIT, out, dlen), "data");
	return *err ? 0 : st;
}

/* Restore the socket's own write_space before it goes (sk_callback_lock). */
static void conn_unhook(struct archip_conn *c, struct socket *sock)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data == c) {
		sk->sk_user_data = NULL;
		sk->sk_write_space = c->saved_write_space;
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

/* As nvme-tcp: a socket that was full has room again: resume sending. */
static void conn_write_space(struct sock *sk)
{
	struct archip_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = sk->sk_user_data;
	if (c)
		c->saved_write_space(sk);	/* a blocking sender (BIND) */
	if (c && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		c->writable(c);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void conn_publish(struct archip_conn *c, struct socket *sock)
{
	mutex_lock(&c->send_lock);
	mutex_lock(&c->sock_lock);
	c->sock = sock;
	mutex_unlock(&c->sock_lock);
	mutex_unlock(&c->send_lock);
}

int archip_conn_open(struct archip_conn *c, const struct sockaddr_in *addr,
		     u64 client_id, bool auth, long timeout, const char **why)
{
	struct socket *sock;
	bool stopped;
	int err;

	c->addr = *addr;
	*why = "cannot connect to the object server";
	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP, &sock);
	if (err)
		return err;
	sock->sk->sk_sndtimeo = timeout;
	sock->sk->sk_rcvtimeo = timeout;
	sock->sk->sk_allocation = GFP_NOIO | __GFP_MEMALLOC;
	sock->sk->sk_use_task_frag = false;
	sk_set_memalloc(sock->sk);
	/*
	 * Close with a reset, dropping what is still queued: after a
	 * reconnect the requests are resent, and a stale copy of a write must
	 * not reach the old server behind our back.
	 */
	sock_no_linger(sock->sk);
	if (c->writable) {
		write_lock_bh(&sock->sk->sk_callback_lock);
		sock->sk->sk_user_data = c;
		c->saved_write_space = sock->sk->sk_write_space;
		sock->sk->sk_write_space = conn_write_space;
		write_unlock_bh(&sock->sk->sk_callback_lock);
	}
	/* Published before connecting, so that a stop aborts the connect. */
	mutex_lock(&c->send_lock);
	mutex_lock(&c->sock_lock);
	stopped = c->stopped;
	if (!stopped)
		c->sock = sock;
	mutex_unlock(&c->sock_lock);
	mutex_unlock(&c->send_lock);
	if (stopped) {
		err = -ESHUTDOWN;
		goto out_release;
	}
	err = kernel_connect(sock, (struct sockaddr *)addr, sizeof(*addr), 0);
	if (err)
		goto out;
	tcp_sock_set_nodelay(sock->sk);
	err = archip_blk_handshake(c, sock, client_id, auth, why);
	if (err)
		goto out;
	c->epoch = 0;
	/* From now on, waits are bounded by the request timeout instead. */
	sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	sock->sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	return 0;
out:
	conn_publish(c, NULL);
out_release:
	conn_unhook(c, sock);
	sock_release(sock);
	return err;
}

void archip_conn_init(struct archip_conn *c, bool want_digest)
{
	c->want_digest = want_digest;
	atomic64_set(&c->digest_errors, 0);
	mutex_init(&c->send_lock);
	mutex_init(&c->sock_lock);
}

/* Break the connection: wakes its sender and receiver.  Any context that
 * may sleep; the socket stays allocated until archip_conn_close().
 */
void archip_conn_shutdown(struct archip_conn *c)
{
	mutex_lock(&c->sock_lock);
	if (c->sock)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
	mutex_unlock(&c->sock_lock);
}

/* For good: this connection opens no more (unmap, fencing). */
void archip_conn_stop(struct archip_conn *c)
{
	mutex_lock(&c->sock_lock);
	c->stopped = true;
	if (c->sock)
		kernel_sock_shutdown(c->sock, SHUT_RDWR);
	mutex_unlock(&c->sock_lock);
}

/* Only by the connection's owner, never concurrently with
 * archip_conn_open(), and (a data connection) with its send work stopped.
 */
void archip_conn_close(struct archip_conn *c)
{
	struct socket *sock;

	archip_conn_shutdown(c);	/* a blocked sender lets go */
	mutex_lock(&c->send_lock);
	mutex_lock(&c->sock_lock);
	sock = c->sock;
	c->sock = NULL;
	mutex_unlock(&c->sock_lock);
	mutex_unlock(&c->send_lock);
	if (sock) {
		conn_unhook(c, sock);
		sock_release(sock);
	}
}
