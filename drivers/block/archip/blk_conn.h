/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A client connection of the block driver to an object server.
 */
#ifndef _ARCHIP_BLK_CONN_H
#define _ARCHIP_BLK_CONN_H

#include <linux/in.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/archip.h>

struct socket;
struct request;

/*
 * Lifetime: embedded in its owner (a queue or the control channel of a
 * device); the socket is created by archip_conn_open() and released by
 * archip_conn_close(), both called by the owner only.  Anyone may
 * archip_conn_shutdown() it to wake a blocked sender or receiver.
 */
struct archip_conn {
	struct socket *sock;
	struct sockaddr_in addr;
	struct mutex send_lock;		/* one sender at a time */
	struct mutex sock_lock;		/* sock pointer vs shutdown */
	u32 max_io;
	u32 max_inflight;
	u32 epoch;			/* carried by every request sent */
};

void archip_conn_init(struct archip_conn *c);
int archip_conn_open(struct archip_conn *c, const struct sockaddr_in *addr,
		     u64 client_id, long timeout, const char **why);
void archip_conn_close(struct archip_conn *c);
void archip_conn_shutdown(struct archip_conn *c);

/* Send a request; data (a kvec) or the request's segments as payload. */
int archip_conn_send(struct archip_conn *c, u8 op, u16 flags, u64 tag,
		     const char *name, u64 off, u32 len, const void *data,
		     u32 data_len, struct request *rq);
int archip_conn_recv(struct archip_conn *c, void *buf, size_t len);
/* Receive a READ payload into the request's segments. */
int archip_conn_recv_rq(struct archip_conn *c, struct request *rq);
/* One synchronous call on a connection nobody else reads, within
 * @timeout: the reply's status, or a negative transport error in *err.
 */
int archip_conn_call(struct archip_conn *c, u8 op, u16 flags, const char *name,
		     u64 off, u32 len, const void *data, u32 data_len,
		     void *out, u32 out_len, long timeout, int *err);

#endif
