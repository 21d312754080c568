/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One mapped volume: /dev/archipN.
 */
#ifndef _ARCHIP_BLK_DEV_H
#define _ARCHIP_BLK_DEV_H

#include <linux/in.h>
#include <linux/types.h>
#include <linux/archip.h>

struct sk_buff;
struct netlink_callback;

#define ARCHIP_BLK_MAX_SERVERS	8

struct archip_map_args {
	char volume[ARCHIP_VOL_NAME_MAX];
	struct sockaddr_in servers[ARCHIP_BLK_MAX_SERVERS];
	unsigned int nr_servers;
	bool read_only;
	unsigned int nr_queues;
	unsigned int queue_depth;
	unsigned int loss_timeout;	/* seconds */
};

int archip_dev_map(const struct archip_map_args *args, int *index,
		   const char **why);
int archip_dev_unmap(int index, bool force, const char **why);
int archip_dev_dump(struct sk_buff *skb, struct netlink_callback *cb);
void archip_dev_unmap_all(void);

int archip_dev_init(void);
void archip_dev_uninit(void);

/* blk_netlink.c */
int archip_blk_netlink_init(void);
void archip_blk_netlink_uninit(void);
int archip_blk_fill_dev(struct sk_buff *skb, u32 portid, u32 seq, int flags,
			int index, const char *volume, u64 size,
			const struct sockaddr_in *server, const char *state,
			bool read_only);

#endif
