// SPDX-License-Identifier: GPL-2.0
/*
 * The server's life: open the store, listen, accept, and on stop end every
 * connection and wait until each has cleaned up after itself.
 *
 * Accepting follows nvmet-tcp: the listener's data_ready callback queues
 * a work that accepts without blocking, so stopping never has to wake a
 * thread stuck in accept().
 */
#include <linux/file.h>
#include <linux/in.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/sock.h>

#include "srv.h"

DEFINE_MUTEX(archip_srv_mutex);
struct archip_srv *archip_srv_running;

/* Accepted connections beyond this many over max_conns are dropped
 * without a handshake; those up to it are told "busy".
 */
#define CONN_GRACE	16

static void accept_work(struct work_struct *work)
{
	struct archip_srv *srv = container_of(work, struct archip_srv,
					      accept_work);
	struct socket *sock;
	bool drop;
	int err;

	archip_srv_conn_reap(srv, false);
	for (;;) {
		err = kernel_accept(srv->listener, &sock, O_NONBLOCK);
		if (err)
			break;
		mutex_lock(&srv->conns_mutex);
		drop = srv->stopping ||
		       srv->nr_conns >= srv->cfg.max_conns + CONN_GRACE;
		mutex_unlock(&srv->conns_mutex);
		if (drop || archip_srv_conn_create(srv, sock))
			sock_release(sock);
	}
	if (err != -EAGAIN)
		pr_warn_ratelimited("accept failed: %d\n", err);
}

static void listener_data_ready(struct sock *sk)
{
	struct archip_srv *srv;

	read_lock_bh(&sk->sk_callback_lock);
	srv = sk->sk_user_data;
	if (srv && sk->sk_state == TCP_LISTEN)
		queue_work(srv->accept_wq, &srv->accept_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static int listen_start(struct archip_srv *srv, const char **why)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = srv->cfg.addr,
		.sin_port = htons(srv->cfg.port),
	};
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err) {
		*why = "cannot create the listening socket";
		return err;
	}
	sock_set_reuseaddr(sock->sk);
	err = kernel_bind(sock, (struct sockaddr *)&sin, sizeof(sin));
	if (err) {
		*why = err == -EADDRINUSE ?
		       "the port is already in use: pick another with --listen ADDR:PORT" :
		       err == -EADDRNOTAVAIL ?
		       "the listen address is not one of this node's: use one of its addresses or 0.0.0.0" :
		       "cannot bind the listening socket";
		goto out;
	}
	write_lock_bh(&sock->sk->sk_callback_lock);
	sock->sk->sk_user_data = srv;
	srv->listener_data_ready = sock->sk->sk_data_ready;
	sock->sk->sk_data_ready = listener_data_ready;
	write_unlock_bh(&sock->sk->sk_callback_lock);
	err = kernel_listen(sock, 128);
	if (err) {
		*why = "cannot listen";
		goto out;
	}
	srv->listener = sock;
	return 0;
out:
	sock_release(sock);
	return err;
}

static void listen_stop(struct archip_srv *srv)
{
	struct sock *sk = srv->listener->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = srv->listener_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	cancel_work_sync(&srv->accept_work);
	sock_release(srv->listener);
	srv->listener = NULL;
}

int archip_srv_start(const struct archip_srv_config *cfg,
		     const struct archip_key *keys, unsigned int nr_keys,
		     const char **why)
{
	struct archip_srv *srv;
	int err;

	lockdep_assert_held(&archip_srv_mutex);
	if (archip_srv_running) {
		*why = "a server is already running on this node: stop it first";
		return -EBUSY;
	}
	srv = kzalloc(sizeof(*srv), GFP_KERNEL);
	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->server_id = get_random_u64();
	INIT_LIST_HEAD(&srv->conns);
	INIT_LIST_HEAD(&srv->rx_threads);
	mutex_init(&srv->conns_mutex);
	init_waitqueue_head(&srv->conns_wait);
	spin_lock_init(&srv->keys_lock);
	memcpy(srv->keys, keys, nr_keys * sizeof(*keys));
	srv->nr_keys = nr_keys;
	INIT_WORK(&srv->accept_work, accept_work);

	err = -ENOMEM;
	*why = "out of memory";
	/* Accepting never waits behind a connection's receive loop. */
	srv->accept_wq = alloc_ordered_workqueue("archip_srv_accept", WQ_HIGHPRI);
	if (!srv->accept_wq)
		goto err_free;
	srv->io_wq = alloc_workqueue("archip_srv_io", WQ_UNBOUND, 0);
	if (!srv->io_wq)
		goto err_accept_wq;
	srv->lock_wq = alloc_workqueue("archip_srv_lock", WQ_UNBOUND, 0);
	if (!srv->lock_wq)
		goto err_io_wq;
	err = archip_store_open(&srv->store, cfg->root, why);
	if (err)
		goto err_lock_wq;
	err = listen_start(srv, why);
	if (err)
		goto err_store;

	archip_srv_running = srv;
	if (nr_keys)
		pr_info("serving %s (store layout %d) on %pI4:%u, key %016llx%s\n",
			cfg->root, srv->store.layout, &cfg->addr, cfg->port,
			keys[0].id, nr_keys > 1 ? " and a second" : "");
	else
		pr_warn("serving %s (store layout %d) on %pI4:%u WITHOUT authentication (--insecure): anyone who reaches the port can read and overwrite every volume\n",
			cfg->root, srv->store.layout, &cfg->addr, cfg->port);
	return 0;

err_store:
	archip_store_close(&srv->store);
err_lock_wq:
	destroy_workqueue(srv->lock_wq);
err_io_wq:
	destroy_workqueue(srv->io_wq);
err_accept_wq:
	destroy_workqueue(srv->accept_wq);
err_free:
	kfree_sensitive(srv);
	return err;
}

void archip_srv_stop(void)
{
	struct archip_srv *srv = archip_srv_running;

	lockdep_assert_held(&archip_srv_mutex);
	if (!srv)
		return;
	mutex_lock(&srv->conns_mutex);
	srv->stopping = true;
	mutex_unlock(&srv->conns_mutex);
	listen_stop(srv);
	archip_srv_conn_shutdown_all(srv);
	wait_event(srv->conns_wait, !READ_ONCE(srv->nr_conns));
	/* The receive threads return right after they let go. */
	archip_srv_conn_reap(srv, true);
	destroy_workqueue(srv->accept_wq);
	destroy_workqueue(srv->io_wq);
	destroy_workqueue(srv->lock_wq);
	/* Workers release their files at once (archip_store_fput()), but an
	 * open that fails inside the VFS still queues its file: let those go
	 * too, so the filesystem can be unmounted right after.
	 */
	flush_delayed_fput();
	archip_store_close(&srv->store);
	archip_srv_running = NULL;
	pr_info("stopped\n");
	kfree_sensitive(srv);
}
