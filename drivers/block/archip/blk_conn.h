/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A client connection of the block driver to an object server.
 */
#ifndef _ARCHIP_BLK_CONN_H
#define _ARCHIP_BLK_CONN_H

#include <linux/atomic.h>
#include <linux/in.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/archip.h>

struct socket;
struct sock;
struct archip_key;
struct request;
struct page;

/*
 * Lifetime: embedded in its owner (a queue or the control channel of a
 * device); the socket is created by archip_conn_open() and released by
 * archip_conn_close(), both called by the owner only.  Anyone may
 * archip_conn_shutdown() it to wake a blocked sender or receiver, and
 * archip_conn_stop() it for good (unmap): no open succeeds after that.
 */
struct archip_conn {
	struct socket *sock;
	struct sockaddr_in addr;
	struct mutex send_lock;		/* one synchronous sender at a time */
	struct mutex sock_lock;		/* sock pointer vs shutdown */
	bool stopped;			/* under sock_lock */
	u32 max_io;
	u32 max_inflight;
	u32 epoch;			/* carried by every request sent */
	u64 key_id;			/* authenticated with; 0: insecure */
	bool want_digest;		/* ask for digests (set by the owner) */
	bool digest;			/* granted: every frame carries them */
	atomic64_t digest_errors;	/* replies that failed their digest */
	/* Called (softirq) when a full socket has room again; set once. */
	void (*writable)(struct archip_conn *c);
	void (*saved_write_space)(struct sock *sk);
};

/* @want_digest: ask servers for frame digests (ARCHIP_FEAT_DIGEST). */
void archip_conn_init(struct archip_conn *c, bool want_digest);
/* @auth: prove the module's key (blk_auth.c) and have the server prove it;
 * false: a device mapped --insecure.
 */
int archip_conn_open(struct archip_conn *c, const struct sockaddr_in *addr,
		     u64 client_id, bool auth, long timeout, const char **why);
void archip_conn_close(struct archip_conn *c);
void archip_conn_shutdown(struct archip_conn *c);
void archip_conn_stop(struct archip_conn *c);

/* Without waiting: bytes sent (> 0), -EAGAIN if none fit, or an error. */
int archip_conn_send_nowait(struct archip_conn *c, const void *data,
			    size_t len, bool more);
int archip_conn_sendpage_nowait(struct archip_conn *c, struct page *page,
				unsigned int off, size_t len, bool more);

int archip_conn_recv(struct archip_conn *c, void *buf, size_t len);
/* Receive @len bytes of a READ payload into the request's data at @off
 * (and, with digests, check them against the digest that follows).
 */
int archip_conn_recv_rq(struct archip_conn *c, struct request *rq, u32 off,
			u32 len);
/* A reply's header and, with digests, its digest: 0 or -EBADMSG. */
int archip_conn_recv_rep(struct archip_conn *c, struct archip_rep *rep);
/* One synchronous call on a connection nobody else reads, within
 * @timeout: the reply's status, or a negative transport error in *err.
 * A reply to a call with @out must carry exactly @out_len bytes if it
 * succeeds, and none if not.
 */
int archip_conn_call(struct archip_conn *c, u8 op, u16 flags, const char *name,
		     u64 off, u32 len, const void *data, u32 data_len,
		     void *out, u32 out_len, long timeout, int *err);

/* blk_hello.c: the handshake and the module's cluster key (its id only
 * ever leaves it).  The handshake fills c->max_io, max_inflight, key_id.
 */
int archip_blk_handshake(struct archip_conn *c, struct socket *sock,
			 u64 client_id, bool auth, const char **why);
int archip_blk_key_set(const u8 *key, u64 *id);
bool archip_blk_key_get(struct archip_key *out);
u64 archip_blk_key_id(void);
void archip_blk_key_wipe(void);

#endif
