/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One client connection to the object server.
 */
#ifndef _ARCHIP_SRV_CONN_H
#define _ARCHIP_SRV_CONN_H

#include <linux/in.h>
#include <linux/types.h>

struct archip_srv;
struct socket;
struct sk_buff;

int archip_srv_conn_create(struct archip_srv *srv, struct socket *sock);
void archip_srv_conn_shutdown_all(struct archip_srv *srv);
void archip_srv_conn_reap(struct archip_srv *srv, bool all);
int archip_srv_conn_fill_status(struct archip_srv *srv, struct sk_buff *skb);

#endif
