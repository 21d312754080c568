/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archip_srv internals: the running server, its connections and their
 * requests, one concern per file:
 *
 *   srv_main.c     module init and exit
 *   srv_netlink.c  the archip_srv generic netlink family (start, stop,
 *                  status)
 *   srv_server.c   the server's life: store, listener, accept, stop
 *   srv_conn.c     a connection's life: the receive loop that validates
 *                  frames (srv_frame.c) and hands requests to the
 *                  workqueues, replies, the reference count
 *   srv_hello.c    the handshake: hello, features, limits, authentication
 *                  with the server's keys; replacing the keys
 *   srv_frame.c    the one check of a request frame
 *   srv_io.c       executing a request on the store
 *   srv_lock.c     fencing: volume locks, epochs, BIND, lock files; waits
 *                  that hold no worker
 *   srv_store.c    objects as files on OCFS2 (srv_store.h)
 *   srv_fault.c    fault injection for the tests
 *
 * Calls go down this list only (netlink and server to conn and hello,
 * conn to hello, frame, io and lock, io to lock and store), never back up;
 * hello ends a connection through archip_srv_conn_end().
 */
#ifndef _ARCHIP_SRV_H
#define _ARCHIP_SRV_H

#include <linux/atomic.h>
#include <linux/in.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/limits.h>
#include <linux/archip.h>

#include "srv_store.h"
#include "auth.h"

struct socket;
struct sock;
struct sk_buff;
struct archip_srv_held;

/* Keys accepted at once: the current one and, during a rotation, the next. */
#define ARCHIP_SRV_MAX_KEYS	2

struct archip_srv_config {
	__be32 addr;
	u16 port;
	u32 max_conns;
	u32 max_io;
	u32 max_inflight;
	u32 lease;		/* seconds */
	char root[PATH_MAX];
};

struct archip_op_stats {
	atomic64_t count;
	atomic64_t errors;
	atomic64_t bytes;
};

/*
 * The running server.  Lifetime: created by START and freed by STOP (or
 * module exit), both under archip_srv_mutex; STOP ends every connection
 * and waits until each has released itself and its thread is reaped.
 */
struct archip_srv {
	struct archip_srv_config cfg;
	struct archip_store store;
	struct socket *listener;
	struct work_struct accept_work;
	void (*listener_data_ready)(struct sock *sk);

	/*
	 * Accepting; data requests; lock requests (srv_lock.c), which may
	 * wait long, in steps that hold no worker in between, on a queue of
	 * their own so that no number of them delays a READ or a WRITE.
	 */
	struct workqueue_struct *accept_wq;
	struct workqueue_struct *io_wq;
	struct workqueue_struct *lock_wq;

	struct mutex conns_mutex;	/* conns, rx_threads, nr_conns, stopping */
	struct list_head conns;
	struct list_head rx_threads;
	unsigned int nr_conns;
	wait_queue_head_t conns_wait;	/* nr_conns dropped */
	bool stopping;
	u64 server_id;

	/* srv_hello.c: the keys connections authenticate with; none:
	 * --insecure.  keys_gen grows with each new set.
	 */
	spinlock_t keys_lock;
	struct archip_key keys[ARCHIP_SRV_MAX_KEYS];
	unsigned int nr_keys;
	unsigned int keys_gen;

	struct archip_op_stats ops[ARCHIP_OP_MAX + 1];
	atomic64_t digest_errors;	/* frames received with a wrong digest */
};

/*
 * A connection's receive thread: one per connection, so that a receive
 * blocked in its socket never holds up another connection (a workqueue
 * would cap them at WQ_MAX_ACTIVE).  Lifetime: owned by the server's
 * rx_threads list; the thread marks itself done once it let go of its
 * connection, and is reaped, with kthread_stop() waiting until it has left
 * this module's code, at the next accept or at server stop.
 */
struct archip_srv_rx {
	struct list_head node;		/* srv->rx_threads */
	struct task_struct *task;
	bool done;
};

/*
 * One client connection.  Lifetime: the receive thread holds the first
 * reference and each request in flight (struct archip_srv_io) one more;
 * the last put (srv_conn.c) drops the connection's locks, so a lock
 * outlives every request made under it, then unlinks and frees it.
 */
struct archip_srv_conn {
	struct kref ref;
	struct archip_srv *srv;
	struct socket *sock;
	struct list_head node;		/* srv->conns */
	struct archip_srv_rx *rx;
	struct sockaddr_in peer;
	bool busy;			/* accepted over max_conns */
	bool closing;			/* the receive loop ended */

	u64 client_id;
	u64 features;
	u64 key_id;			/* authenticated with; 0: insecure */
	bool auth_done;			/* under srv->keys_lock (srv_hello.c) */
	bool digest;			/* ARCHIP_FEAT_DIGEST granted */
	u32 max_io;
	u32 max_inflight;

	struct mutex send_lock;
	spinlock_t budget_lock;		/* inflight, inflight_bytes */
	u32 inflight;
	u32 inflight_bytes;
	wait_queue_head_t budget_wait;
	atomic64_t requests;

	/* srv_lock.c.  Lock requests run one at a time, in order. */
	spinlock_t lock_q_lock;		/* lock_q, lock_busy */
	struct list_head lock_q;	/* waiting behind the running one */
	bool lock_busy;
	struct list_head locks;		/* struct archip_srv_held */
	unsigned int nr_locks;
	/* BIND: the lock this connection writes for, its two lock files. */
	char bound[ARCHIP_NAME_MAX + 1];
	bool bound_set;			/* bound is written (release/acquire) */
	struct file *bind_w, *bind_slot;
	u32 epoch;			/* bound or held epoch; 0: none */
	atomic_t changing;		/* data-changing requests executing */
};

/* A request, from its receipt to its reply; holds a connection reference. */
struct archip_srv_io {
	struct delayed_work work;	/* execution; a lock wait's next step */
	struct archip_srv_conn *conn;
	u8 op;
	u16 flags;
	u64 tag;
	u64 off;
	u32 len;
	u32 cost;
	u32 epoch;
	char name[ARCHIP_NAME_MAX + 1];
	char name2[ARCHIP_NAME_MAX + 1];
	struct archip_buf buf;

	/* The reply: buf (READ), or small_len bytes at small. */
	struct archip_buf *reply_buf;
	void *small;
	u32 small_len;
	void *to_free;			/* kvfree()d with the request */
	union {
		struct archip_stat stat;
		struct archip_acquire_rep acquire;
	} rep;

	/* srv_lock.c: a lock request's progress through its waits. */
	struct list_head lock_node;	/* conn->lock_q */
	unsigned long deadline;
	int step;
	unsigned int polls;
	struct file *lk, *lk2;
	struct archip_srv_held *held;
};

/* What a step of a request returns when it goes on later (srv_lock.c). */
#define ARCHIP_SRV_PENDING	1

/* srv_server.c: the one server of this node, under archip_srv_mutex. */
extern struct mutex archip_srv_mutex;
extern struct archip_srv *archip_srv_running;
int archip_srv_start(const struct archip_srv_config *cfg,
		     const struct archip_key *keys, unsigned int nr_keys,
		     const char **why);
void archip_srv_stop(void);

/* srv_conn.c */
int archip_srv_conn_create(struct archip_srv *srv, struct socket *sock);
void archip_srv_conn_shutdown_all(struct archip_srv *srv);
void archip_srv_conn_reap(struct archip_srv *srv, bool all);
void archip_srv_conn_end(struct archip_srv_conn *c);

/* srv_hello.c */
int archip_srv_handshake(struct archip_srv_conn *c, bool busy);
unsigned int archip_srv_keys_set(struct archip_srv *srv,
				 const struct archip_key *keys,
				 unsigned int nr);

/* srv_frame.c */
int archip_srv_frame_check(const struct archip_srv_conn *c,
			   const struct archip_req *rq, struct archip_srv_io *io,
			   u32 *data_len, const char **why);
bool archip_srv_is_lock_op(u8 op);

/* srv_io.c: 0 or -errno (the reply's status), or ARCHIP_SRV_PENDING. */
int archip_srv_io_execute(struct archip_srv_io *io);

/* srv_lock.c */
int archip_srv_changing_start(struct archip_srv_io *io);
void archip_srv_changing_end(struct archip_srv_io *io);
int archip_srv_lock_execute(struct archip_srv_io *io);
void archip_srv_lock_submit(struct archip_srv_io *io);
void archip_srv_lock_finish(struct archip_srv_io *io);
void archip_srv_lock_next(struct archip_srv_io *io);
void archip_srv_lock_release_all(struct archip_srv_conn *c);

/* srv_netlink.c */
int archip_srv_netlink_init(void);
void archip_srv_netlink_uninit(void);

#endif
