/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whole-message socket I/O shared by the server and the block driver:
 * send all of a message, or receive exactly a given length.  Payload pages
 * go to TCP by reference (sendpage, or MSG_SPLICE_PAGES: compat.h), as
 * nvme-tcp sends them: a copy per
 * byte is what a large request costs most, above all in an emulated VM.
 */
#ifndef _ARCHIP_SOCKIO_H
#define _ARCHIP_SOCKIO_H

#include <linux/net.h>
#include <linux/socket.h>
#include <linux/bvec.h>
#include <linux/mm.h>
#include <linux/uio.h>

#include "compat.h"

static inline int archip_sock_send(struct socket *sock, struct msghdr *msg)
{
	int n;

	while (msg_data_left(msg)) {
		n = sock_sendmsg(sock, msg);
		if (n <= 0)
			return n ? n : -EPIPE;
	}
	return 0;
}

static inline int archip_sock_send_kvec(struct socket *sock, const void *data,
					size_t len, bool more)
{
	struct kvec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0) };

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &iov, 1, len);
	return archip_sock_send(sock, &msg);
}

/*
 * One send of a page range without copying it: the bytes sent, or an
 * error (-EAGAIN with MSG_DONTWAIT when none fit).  TCP takes its own
 * reference to the page, so the caller may drop its own on return; the
 * contents must stay unchanged until the peer has answered for them (a
 * block request is completed, or a server buffer freed, only after that).
 * Slab pages cannot be referenced so and are copied.  @flags: MSG_*; with
 * MSG_MORE more of this message follows.
 */
static inline int archip_sock_sendpage_once(struct socket *sock,
					    struct page *page, unsigned int off,
					    size_t len, int flags)
{
	int n;

	if (!sendpage_ok(page)) {
		struct bio_vec bv = { .bv_page = page, .bv_offset = off,
				      .bv_len = len };
		struct msghdr msg = { .msg_flags = flags & ~ARCHIP_MSG_NOTLAST };

		iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bv, 1, len);
		n = sock_sendmsg(sock, &msg);
	} else {
		n = archip_compat_sendpage(sock, page, off, len, flags);
	}
	return n ?: -EPIPE;
}

/* All of a page range, waiting as the socket's timeouts allow. */
static inline int archip_sock_send_page(struct socket *sock, struct page *page,
					unsigned int off, unsigned int len,
					bool more)
{
	int flags = MSG_NOSIGNAL | (more ? MSG_MORE | ARCHIP_MSG_NOTLAST : 0);
	int n;

	while (len) {
		n = archip_sock_sendpage_once(sock, page, off, len, flags);
		if (n < 0)
			return n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Exactly @len bytes, or an error: -ECONNRESET for a stream cut short. */
static inline int archip_sock_recv(struct socket *sock, struct msghdr *msg,
				   size_t len)
{
	int n = sock_recvmsg(sock, msg, MSG_WAITALL | MSG_NOSIGNAL);

	if (n == len)
		return 0;
	return n < 0 ? n : -ECONNRESET;
}

static inline int archip_sock_recv_kvec(struct socket *sock, void *data,
					size_t len)
{
	struct kvec iov = { .iov_base = data, .iov_len = len };
	struct msghdr msg = { };

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &iov, 1, len);
	return archip_sock_recv(sock, &msg, len);
}

/* Read and drop @len bytes (what a refused frame still carries). */
static inline int archip_sock_recv_skip(struct socket *sock, u32 len)
{
	char scratch[256];
	int err = 0;

	while (len && !err) {
		u32 n = min_t(u32, len, sizeof(scratch));

		err = archip_sock_recv_kvec(sock, scratch, n);
		len -= n;
	}
	return err;
}

#endif
