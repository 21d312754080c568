// SPDX-License-Identifier: GPL-2.0
/*
 * Client side of the object protocol in the kernel: connect and handshake,
 * send a request (header, name, then the payload straight from the block
 * request's pages), receive replies.
 */
#include <linux/blk-mq.h>
#include <linux/net.h>
#include <linux/sched/mm.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "blk_conn.h"
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
 * A READ payload lands in the request's pages with one receive per bio: a
 * receive per 4 KiB segment would take the socket lock 256 times for a
 * 1 MiB request.  The iterator starts where the bio's own iterator points,
 * as a split bio shares its parent's vector.
 */
int archip_conn_recv_rq(struct archip_conn *c, struct request *rq)
{
	unsigned int noreclaim;
	struct bvec_iter bi;
	struct bio_vec bv;
	struct bio *bio;
	int err;

	__rq_for_each_bio(bio, rq) {
		struct msghdr msg = { };
		unsigned int nr = 0;

		bio_for_each_bvec(bv, bio, bi)
			nr++;
		iov_iter_bvec(&msg.msg_iter, ITER_DEST,
			      __bvec_iter_bvec(bio->bi_io_vec, bio->bi_iter),
			      nr, bio->bi_iter.bi_size);
		msg.msg_iter.iov_offset = bio->bi_iter.bi_bvec_done;
		noreclaim = memalloc_noreclaim_save();
		err = archip_sock_recv(c->sock, &msg, bio->bi_iter.bi_size);
		memalloc_noreclaim_restore(noreclaim);
		if (err)
			return err;
	}
	return 0;
}

int archip_conn_send(struct archip_conn *c, u8 op, u16 flags, u64 tag,
		     const char *name, u64 off, u32 len, const void *data,
		     u32 data_len, struct request *rq)
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
	/* One send for all but page payloads: each send takes the socket lock. */
	struct kvec iov[3] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)name, .iov_len = nlen },
		{ .iov_base = (void *)data, .iov_len = data ? data_len : 0 },
	};
	bool pages = data_len && !data && rq;
	struct msghdr msg = {
		.msg_flags = MSG_NOSIGNAL | (pages ? MSG_MORE : 0),
	};
	struct req_iterator it;
	unsigned int noreclaim;
	struct bio_vec bv;
	int err;

	mutex_lock(&c->send_lock);
	noreclaim = memalloc_noreclaim_save();
	if (!c->sock) {
		err = -ENOTCONN;
		goto out;
	}
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, iov, ARRAY_SIZE(iov),
		      sizeof(h) + nlen + iov[2].iov_len);
	err = archip_sock_send(c->sock, &msg);
	if (!err && pages) {
		u32 left = data_len;

		rq_for_each_segment(bv, rq, it) {
			left -= bv.bv_len;
			err = archip_sock_send_page(c->sock, bv.bv_page,
						    bv.bv_offset, bv.bv_len,
						    left);
			if (err)
				break;
		}
	}
	memalloc_noreclaim_restore(noreclaim);
out:
	mutex_unlock(&c->send_lock);
	return err;
}

int archip_conn_call(struct archip_conn *c, u8 op, u16 flags, const char *name,
		     u64 off, u32 len, const void *data, u32 data_len,
		     void *out, u32 out_len, long timeout, int *err)
{
	struct archip_rep rep;
	u32 dlen;

	if (!c->sock) {
		*err = -ENOTCONN;
		return 0;
	}
	/* A server that stops answering costs this call, not the caller. */
	c->sock->sk->sk_rcvtimeo = timeout;
	c->sock->sk->sk_sndtimeo = timeout;

	*err = archip_conn_send(c, op, flags, 1, name, off, len, data, data_len,
				NULL);
	if (!*err)
		*err = archip_conn_recv(c, &rep, sizeof(rep));
	if (*err)
		return 0;
	dlen = le32_to_cpu(rep.data_len);
	if (le32_to_cpu(rep.magic) != ARCHIP_REP_MAGIC || dlen > out_len) {
		*err = -EPROTO;
		return 0;
	}
	if (dlen)
		*err = archip_conn_recv(c, out, dlen);
	return (s32)le32_to_cpu(rep.status);
}

int archip_conn_open(struct archip_conn *c, const struct sockaddr_in *addr,
		     u64 client_id, long timeout, const char **why)
{
	struct archip_hello h = {
		.magic = cpu_to_le32(ARCHIP_HELLO_MAGIC),
		.version = cpu_to_le16(ARCHIP_PROTO_VERSION),
		.len = cpu_to_le16(sizeof(h)),
		.features = cpu_to_le64(ARCHIP_FEAT_KNOWN),
		.required = cpu_to_le64(ARCHIP_FEAT_LOCKS | ARCHIP_FEAT_FENCE),
		.client_id = cpu_to_le64(client_id),
	};
	struct archip_hello_reply hr;
	struct socket *sock;
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
	err = kernel_connect(sock, (struct sockaddr *)addr, sizeof(*addr), 0);
	if (err)
		goto out;
	tcp_sock_set_nodelay(sock->sk);
	/*
	 * Close with a reset, dropping what is still queued: after a
	 * reconnect the requests are resent, and a stale copy of a write must
	 * not reach the old server behind our back.
	 */
	sock_no_linger(sock->sk);
	mutex_lock(&c->send_lock);
	mutex_lock(&c->sock_lock);
	c->sock = sock;
	mutex_unlock(&c->sock_lock);
	mutex_unlock(&c->send_lock);
	err = archip_sock_send_kvec(c->sock, &h, sizeof(h), false);
	if (!err)
		err = archip_conn_recv(c, &hr, sizeof(hr));
	if (err) {
		*why = "the object server did not answer the handshake";
		goto out;
	}
	if (le32_to_cpu(hr.magic) != ARCHIP_HELLO_MAGIC) {
		*why = "not an archip object server";
		err = -EPROTO;
		goto out;
	}
	if (le16_to_cpu(hr.status) != ARCHIP_HELLO_OK) {
		hr.reason[sizeof(hr.reason) - 1] = '\0';
		pr_warn("%pISpc refused us: %s\n", addr, hr.reason);
		*why = "the object server refused the connection (see dmesg)";
		err = -ECONNREFUSED;
		goto out;
	}
	c->max_io = le32_to_cpu(hr.max_io);
	c->max_inflight = le32_to_cpu(hr.max_inflight);
	c->epoch = 0;
	/* From now on, waits are bounded by the request timeout instead. */
	sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	sock->sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	return 0;
out:
	mutex_lock(&c->send_lock);
	mutex_lock(&c->sock_lock);
	c->sock = NULL;
	mutex_unlock(&c->sock_lock);
	mutex_unlock(&c->send_lock);
	sock_release(sock);
	return err;
}

void archip_conn_init(struct archip_conn *c)
{
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

/* Only by the connection's owner (its receiver), never concurrently with
 * archip_conn_open().
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
	if (sock)
		sock_release(sock);
}
