/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archip_blk internals: a mapped volume, /dev/archipN, and its parts, one
 * concern per file:
 *
 *   blk_dev.c      the device's life: map, unmap, references, the list
 *   blk_mq.c       blk-mq: submission, completion, timeouts, the disk
 *   blk_queue.c    data connections: connect and bind, receive, reconnect
 *   blk_ctrl.c     the control connection: volume lock, epoch, keepalive,
 *                  first writes' map updates, fencing
 *   blk_vmap.c     the volume header and map, object names
 *   blk_sysfs.c    /sys/block/archipN/archip/
 *   blk_netlink.c  the archip_blk generic netlink family (calls into
 *                  blk_dev.c; nothing here calls back into it)
 *   blk_conn.c     one connection to an object server (the protocol)
 */
#ifndef _ARCHIP_BLK_DEV_H
#define _ARCHIP_BLK_DEV_H

#include <linux/blk-mq.h>
#include <linux/in.h>
#include <linux/kref.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/archip.h>
#include <linux/archip-volume.h>

#include "blk_conn.h"

#define ARCHIP_BLK_MAX_SERVERS	8
#define ARCHIP_BLK_MINORS	16

/* What MAP asked for; defaults filled in by archip_dev_map(). */
struct archip_map_args {
	char volume[ARCHIP_VOL_NAME_MAX];
	struct sockaddr_in servers[ARCHIP_BLK_MAX_SERVERS];
	unsigned int nr_servers;
	bool read_only;
	unsigned int nr_queues;
	unsigned int queue_depth;
	unsigned int loss_timeout;	/* seconds */
	unsigned int io_timeout;	/* seconds */
};

/* What LIST shows of a device (a copy: no reference held). */
struct archip_dev_info {
	int index;
	char volume[ARCHIP_VOL_NAME_MAX];
	u64 size;
	struct sockaddr_in server;
	const char *state;
	bool read_only;
	u32 epoch;
};

enum { Q_LIVE, Q_RECONNECTING, Q_DEAD };

/*
 * A hardware queue and its connection.  Lifetime: an array in the device,
 * freed with it; its receive thread (the only one that connects, closes
 * and reconnects) is stopped by archip_queues_stop() first.
 */
struct bqueue {
	struct archip_dev *dev;
	struct blk_mq_hw_ctx *hctx;
	unsigned int idx;
	struct archip_conn conn;
	struct task_struct *rx;
	int state;			/* Q_*, written by the receive thread */
	u32 gen;			/* connection generation, in tags */
	unsigned int server;		/* index in args.servers */
};

/* Per request.  gen: the connection generation it was sent on, GEN_NONE
 * while not on any connection (not sent yet, or waiting for its map update).
 */
struct bcmd {
	u32 gen;
	blk_status_t status;
	struct list_head alloc_node;	/* dev->alloc_list */
};

#define GEN_NONE	0

/*
 * A mapped volume.  Lifetime (kref): MAP holds the first reference until
 * UNMAP; every open of the disk holds one until its release.  UNMAP stops
 * the I/O paths and deletes the disk at once (even under a --force'd
 * mount: the holder's I/O then fails); the last put frees the tag set,
 * the disk and the memory (archip_dev_release).
 */
struct archip_dev {
	struct kref ref;
	struct list_head node;		/* devs, while mapped */
	int index;
	struct archip_map_args args;

	/* blk_vmap.c: the header, read at map time; the map, one entry per
	 * object, resolved through the volume's ancestors (source: the index
	 * in osets of the set that has the object, 0 = the volume's own),
	 * changed only by the control work; where the volume's own entries
	 * are stored (map_obj at map_off).
	 */
	struct archip_vol_hdr hdr;
	u64 size;
	unsigned int obj_shift;
	u64 nr_objs;
	struct archip_map_entry *map;
	char (*osets)[ARCHIP_VOL_NAME_MAX];
	unsigned int nr_osets;
	char map_obj[ARCHIP_VOL_OBJ_NAME_MAX];
	u64 map_off;

	/* blk_ctrl.c: the control connection is used by MAP, then only by
	 * the control work (keepalive and map updates), one call at a time.
	 */
	struct archip_conn ctrl;
	unsigned int ctrl_server;
	u32 epoch;			/* of the volume lock; 0: read-only */
	struct delayed_work ctrl_work;
	spinlock_t alloc_lock;		/* alloc_list */
	struct list_head alloc_list;	/* first writes awaiting a map update */

	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	u32 max_io;			/* largest request the disk sends */
	struct bqueue *queues;
	unsigned int nr_queues;

	unsigned int openers;		/* under blk_dev.c's devs_lock */
	bool dying;			/* unmapping: fail all I/O */
	bool fenced;			/* lost the volume lock: no more I/O */

	atomic64_t reads, writes, zero_reads, map_updates, reconnects;
};

/* blk_dev.c */
extern struct workqueue_struct *archip_blk_wq;	/* WQ_MEM_RECLAIM */
int archip_dev_map(const struct archip_map_args *args, int *index,
		   const char **why);
int archip_dev_unmap(int index, bool force, const char **why);
int archip_dev_info(int pos, struct archip_dev_info *info);
void archip_dev_put(struct archip_dev *dev);
const char *archip_dev_state(struct archip_dev *dev);
u64 archip_dev_client_id(struct archip_dev *dev);
int archip_dev_init(void);
void archip_dev_uninit(void);

/* blk_mq.c */
int archip_mq_setup(struct archip_dev *dev, int major, int first_minor);
void archip_mq_fail_inflight(struct archip_dev *dev, int qidx);
void archip_mq_requeue_inflight(struct archip_dev *dev, int qidx);
extern const struct block_device_operations archip_fops;

/* blk_queue.c */
int archip_queues_start(struct archip_dev *dev, const char **why);
void archip_queues_stop(struct archip_dev *dev, unsigned int n);
void archip_queue_kick(struct bqueue *q);

/* blk_ctrl.c */
void archip_ctrl_init(struct archip_dev *dev);
int archip_ctrl_open(struct archip_dev *dev, const char **why);
void archip_ctrl_start(struct archip_dev *dev);
void archip_ctrl_stop(struct archip_dev *dev);
int archip_ctrl_call(struct archip_dev *dev, u8 op, u16 flags,
		     const char *name, u64 off, u32 len, const void *data,
		     u32 dlen, void *out, u32 out_len);
void archip_ctrl_queue_alloc(struct archip_dev *dev, struct request *rq);
void archip_dev_fence(struct archip_dev *dev, const char *why);
int archip_bind(struct archip_dev *dev, struct archip_conn *c,
		unsigned int slot);

/* blk_vmap.c */
int archip_vmap_load(struct archip_dev *dev, const char **why);
void archip_vmap_free(struct archip_dev *dev);
bool archip_obj_exists(struct archip_dev *dev, u64 idx);
bool archip_obj_owned(struct archip_dev *dev, u64 idx);
void archip_obj_name(struct archip_dev *dev, u64 idx, char *buf, size_t len);
void archip_vmap_hdr_name(struct archip_dev *dev, char *buf, size_t len);
int archip_vmap_allocate(struct archip_dev *dev, u64 idx);
int archip_vmap_snapshot(struct archip_dev *dev, const char *snap,
			 const char *oset, const char **why);

/* blk_sysfs.c */
extern const struct attribute_group *archip_attr_groups[];

/* blk_netlink.c */
int archip_blk_netlink_init(void);
void archip_blk_netlink_uninit(void);

#endif
