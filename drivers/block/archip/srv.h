/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The archip object server: shared state of one running server.
 */
#ifndef _ARCHIP_SRV_H
#define _ARCHIP_SRV_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/limits.h>
#include <linux/archip.h>

#include "srv_store.h"

struct socket;
struct sock;

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

	/* Accepting, request execution (receive: a thread per connection). */
	struct workqueue_struct *accept_wq;
	struct workqueue_struct *io_wq;

	struct mutex conns_mutex;	/* conns, rx_threads, nr_conns, stopping */
	struct list_head conns;
	struct list_head rx_threads;
	unsigned int nr_conns;
	wait_queue_head_t conns_wait;	/* nr_conns dropped */
	bool stopping;
	u64 server_id;

	struct archip_op_stats ops[ARCHIP_OP_MAX + 1];
};

/* srv_server.c: the one server of this node, under archip_srv_mutex. */
extern struct mutex archip_srv_mutex;
extern struct archip_srv *archip_srv_running;
int archip_srv_start(const struct archip_srv_config *cfg, const char **why);
void archip_srv_stop(void);

/* srv_netlink.c */
int archip_srv_netlink_init(void);
void archip_srv_netlink_uninit(void);

#endif
