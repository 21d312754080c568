/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archip_blk internals: a mapped volume, /dev/archipN, and its parts, one
 * concern per file, each calling only those listed after it:
 *
 *   blk_main.c     module init and exit
 *   blk_netlink.c  the archip_blk generic netlink family
 *   blk_sysfs.c    /sys/block/archipN/archip/
 *   blk_dev.c      the device's life: map, unmap, references, the list
 *   blk_mq.c       blk-mq: submission (a request becomes one part per
 *                  object it touches), completion, timeouts, the disk
 *   blk_ctrl.c     the control work: first writes' map updates (copy-up),
 *                  snapshot requests, the keepalive
 *   blk_queue.c    data connections: connect and bind, receive, reconnect,
 *                  resend or fail what was in flight
 *   blk_send.c     the send side of a data connection: a list per queue,
 *                  sent without waiting, by queue_rq or the queue's work
 *   blk_vmap.c     the volume header and map, copy-up, snapshot steps
 *   blk_vfmt.c     the volume format as stored, read and checked: headers,
 *                  maps, the chain of ancestors resolved at map time
 *   blk_lock.c     fencing: the control connection, volume lock and
 *                  epoch, reconnect and take back, BIND, fence
 *   blk_conn.c     one connection to an object server (the protocol)
 *   blk_hello.c    its handshake: hello, limits, mutual authentication
 *                  with the module's cluster key
 *
 * Object and lock names are built only by the archip_*_name() helpers
 * below, from the formats of <linux/archip-volume.h>.
 */
#ifndef _ARCHIP_BLK_H
#define _ARCHIP_BLK_H

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
	bool insecure;			/* never authenticate (blk_hello.c) */
	bool no_digest;			/* never ask for frame digests */
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
	u64 key_id;			/* the control connection's; 0: insecure */
	bool digest;			/* the control connection carries them */
	u64 digest_errors;		/* replies with a wrong digest, all
					 * connections of the device
					 */
};

enum archip_queue_state {
	ARCHIP_Q_LIVE,
	ARCHIP_Q_RECONNECTING,
	ARCHIP_Q_DEAD,
};

/*
 * A hardware queue and its connection.  Lifetime: an array in the device,
 * freed with it; its receive thread (the only one that connects, closes
 * and reconnects) is stopped by archip_queues_stop() first, and its send
 * work with it.
 */
struct archip_queue {
	struct archip_dev *dev;
	struct blk_mq_hw_ctx *hctx;
	unsigned int idx;
	struct archip_conn conn;
	struct task_struct *rx;
	int state;			/* ARCHIP_Q_*, written by the receive thread */
	u32 gen;			/* connection generation, in tags */
	unsigned int server;		/* index in args.servers */

	/* blk_send.c: requests to send, and the one being sent. */
	spinlock_t send_lock;		/* send_list */
	struct list_head send_list;
	struct mutex send_mutex;	/* cur and the socket's send side */
	struct archip_cmd *cur;
	struct work_struct send_work;
};

/*
 * Tags on the wire: the connection's generation (24 bits), the part of
 * the request (8 bits), blk-mq's unique tag (32 bits).
 */
#define ARCHIP_TAG_GEN_SHIFT	40
#define ARCHIP_TAG_GEN_MASK	((1U << 24) - 1)
#define ARCHIP_TAG_PART_SHIFT	32
#define ARCHIP_GEN_NONE		0

static inline u64 archip_tag(u32 gen, unsigned int part, u32 unique)
{
	return ((u64)gen << ARCHIP_TAG_GEN_SHIFT) |
	       ((u64)part << ARCHIP_TAG_PART_SHIFT) | unique;
}

/*
 * A request touches one object or more (the block layer splits reads and
 * writes at object boundaries, but on 6.1 never a discard or write-zeroes
 * by chunk_sectors): each object's share is a part, one request to the
 * server of its own.  At most ARCHIP_MAX_PARTS; the disk's limits keep
 * every request within two.
 */
#define ARCHIP_MAX_PARTS	64

/*
 * A READ whose reply keeps failing its data digest (memory that changes
 * under the transfer, a link that corrupts this request's bytes each
 * time) fails with EIO after so many resends instead of looping forever.
 */
#define ARCHIP_DIGEST_RETRIES	8

struct archip_part {
	u64 idx;			/* object */
	u64 off;			/* in the object */
	u32 len;
	u32 data_off;			/* in the request's data */
};

/*
 * Per request.  gen: the connection generation it was sent on,
 * ARCHIP_GEN_NONE while not on any connection (not sent yet, or waiting
 * for its map update).  remote: the parts sent to a server (the others
 * were done in queue_rq: zeros read, or nothing to punch), answered: those
 * the server answered; pending counts the parts not answered yet, plus one
 * while the sender still has the request, so that it is completed by
 * whoever drops the count to zero, and only then freed.
 */
struct archip_cmd {
	u32 gen;
	blk_status_t status;
	atomic_t pending;
	u8 nr_parts;
	u8 digest_fails;		/* READ replies that failed their data
					 * digest, across resends
					 */
	bool requeued;			/* resent: keep digest_fails */
	u64 remote, answered;
	struct list_head alloc_node;	/* dev->alloc_list */
	struct list_head send_node;	/* queue->send_list */

	/* blk_send.c, under the queue's send_mutex: the part being sent. */
	u8 part;
	u16 hdr_len, hdr_sent;		/* of wire: header, its digest, name */
	u32 data_left;			/* payload bytes of the part still to send */
	struct bio *bio;		/* the payload's cursor */
	struct bvec_iter iter;
	u8 trl_len, trl_sent;		/* of trailer */
	__le32 trailer;			/* the data digest, with digests */
	u8 wire[sizeof(struct archip_req) + ARCHIP_DIGEST_LEN +
		ARCHIP_VOL_OBJ_NAME_MAX];
};

/*
 * A mapped volume.  Lifetime (kref): MAP holds the first reference until
 * UNMAP; every open of the disk holds one until its release.  UNMAP stops
 * the I/O paths and deletes the disk at once (even under a --force'd
 * mount: the holder's I/O then fails); the last put frees the tag set,
 * the disk and the memory (blk_dev.c).
 */
struct archip_dev {
	struct kref ref;
	struct list_head node;		/* devs, while mapped */
	int index;
	u64 client_id;			/* in every hello */
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

	/* blk_lock.c: the control connection is used by MAP, then only by
	 * the control work (keepalive, map updates, snapshots), one call at
	 * a time.
	 */
	struct archip_conn ctrl;
	unsigned int ctrl_server;
	u32 epoch;			/* of the volume lock; 0: read-only */

	/* blk_ctrl.c */
	struct delayed_work ctrl_work;
	spinlock_t alloc_lock;		/* alloc_list */
	struct list_head alloc_list;	/* first writes awaiting a map update */
	u64 snap_nonce;			/* of the last snapshot request answered */
	int snap_status;		/* and what it was answered */
	bool snap_answered;

	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	u32 max_io;			/* largest request the disk sends */
	struct archip_queue *queues;
	unsigned int nr_queues;

	unsigned int openers;		/* under blk_dev.c's devs_lock */
	bool dying;			/* unmapping: fail all I/O */
	bool fenced;			/* lost the volume lock: no more I/O */

	atomic64_t reads, writes, zero_reads, map_updates, reconnects;
};

/* The parts of a request (0 for a FLUSH). */
static inline unsigned int archip_rq_nr_parts(const struct archip_dev *dev,
					      struct request *rq)
{
	u64 pos = blk_rq_pos(rq) << SECTOR_SHIFT;
	u32 len = blk_rq_bytes(rq);

	if (!len)
		return 0;
	return ((pos + len - 1) >> dev->obj_shift) - (pos >> dev->obj_shift) + 1;
}

static inline void archip_rq_part(const struct archip_dev *dev,
				  struct request *rq, unsigned int k,
				  struct archip_part *p)
{
	u64 pos = blk_rq_pos(rq) << SECTOR_SHIFT;
	u64 end = pos + blk_rq_bytes(rq);
	u64 first = pos >> dev->obj_shift;
	u64 start = k ? (first + k) << dev->obj_shift : pos;
	u64 stop = min(end, (first + k + 1) << dev->obj_shift);

	p->idx = first + k;
	p->off = start - (p->idx << dev->obj_shift);
	p->len = stop - start;
	p->data_off = start - pos;
}

/* A part is answered (or the sender let go): complete at the last. */
static inline void archip_cmd_put(struct archip_cmd *cmd)
{
	if (atomic_dec_and_test(&cmd->pending)) {
		WRITE_ONCE(cmd->gen, ARCHIP_GEN_NONE);
		blk_mq_complete_request(blk_mq_rq_from_pdu(cmd));
	}
}

/* Object and lock names: the only places that build them. */
static inline void archip_hdr_name(char buf[ARCHIP_VOL_OBJ_NAME_MAX],
				   const char *vol)
{
	snprintf(buf, ARCHIP_VOL_OBJ_NAME_MAX, ARCHIP_VOL_HDR_FMT, vol);
}

static inline void archip_data_name(char buf[ARCHIP_VOL_OBJ_NAME_MAX],
				    const char *oset, u64 idx)
{
	snprintf(buf, ARCHIP_VOL_OBJ_NAME_MAX, ARCHIP_VOL_DATA_FMT, oset, idx);
}

static inline void archip_map_name(char buf[ARCHIP_VOL_OBJ_NAME_MAX],
				   const char *oset)
{
	snprintf(buf, ARCHIP_VOL_OBJ_NAME_MAX, ARCHIP_VOL_MAP_FMT, oset);
}

static inline void archip_lock_name(char buf[ARCHIP_VOL_OBJ_NAME_MAX],
				    const char *vol)
{
	snprintf(buf, ARCHIP_VOL_OBJ_NAME_MAX, ARCHIP_VOL_LOCK_FMT, vol);
}

static inline void archip_snapreq_name(char buf[ARCHIP_VOL_OBJ_NAME_MAX],
				       const char *vol)
{
	snprintf(buf, ARCHIP_VOL_OBJ_NAME_MAX, ARCHIP_VOL_SNAPREQ_FMT, vol);
}

/* blk_dev.c */
int archip_dev_map(const struct archip_map_args *args, int *index,
		   const char **why);
int archip_dev_unmap(int index, bool force, const char **why);
int archip_dev_info(int pos, struct archip_dev_info *info);
const char *archip_dev_state(struct archip_dev *dev);
int archip_dev_init(void);
void archip_dev_uninit(void);

/* blk_mq.c */
int archip_mq_setup(struct archip_dev *dev, int major, int first_minor);
extern const struct block_device_operations archip_fops;

/* blk_ctrl.c */
void archip_ctrl_init(struct archip_dev *dev);
void archip_ctrl_start(struct archip_dev *dev);
void archip_ctrl_stop(struct archip_dev *dev);
void archip_ctrl_queue_alloc(struct archip_dev *dev, struct request *rq);
bool archip_ctrl_needs_alloc(struct archip_dev *dev, struct request *rq);
int archip_ctrl_module_init(void);
void archip_ctrl_module_exit(void);

/* blk_queue.c */
int archip_queues_start(struct archip_dev *dev, const char **why);
void archip_queues_stop(struct archip_dev *dev, unsigned int n);
void archip_queues_fail_inflight(struct archip_dev *dev);

/* blk_send.c */
void archip_send_init(struct archip_queue *q);
void archip_send_queue(struct archip_queue *q, struct request *rq);
void archip_send_commit(struct archip_queue *q);
void archip_send_stop(struct archip_queue *q);
int archip_send_module_init(void);
void archip_send_module_exit(void);

/* blk_vmap.c */
int archip_vmap_load(struct archip_dev *dev, const char **why);
void archip_vmap_free(struct archip_dev *dev);
bool archip_obj_exists(struct archip_dev *dev, u64 idx);
bool archip_obj_owned(struct archip_dev *dev, u64 idx);
void archip_obj_name(struct archip_dev *dev, u64 idx,
		     char buf[ARCHIP_VOL_OBJ_NAME_MAX]);
int archip_vmap_allocate(struct archip_dev *dev, u64 idx, bool copy);
int archip_vmap_snapshot(struct archip_dev *dev, const char *snap,
			 const char *oset, const char **why);

/* blk_vfmt.c */
int archip_vfmt_read_hdr(struct archip_dev *dev, const char *vol,
			 struct archip_vol_hdr *h, const char **why);
int archip_vfmt_resolve(struct archip_dev *dev, const char **why);

/* blk_lock.c */
void archip_lock_init(struct archip_dev *dev);
int archip_lock_open(struct archip_dev *dev, const char **why);
void archip_lock_stop(struct archip_dev *dev);
void archip_lock_close(struct archip_dev *dev);
int archip_lock_call(struct archip_dev *dev, u8 op, u16 flags,
		     const char *name, u64 off, u32 len, const void *data,
		     u32 dlen, void *out, u32 out_len);
int archip_lock_bind(struct archip_dev *dev, struct archip_conn *c,
		     unsigned int slot);
void archip_lock_fence(struct archip_dev *dev, const char *why);

/* blk_sysfs.c */
extern const struct attribute_group *archip_attr_groups[];

/* blk_netlink.c */
int archip_blk_netlink_init(void);
void archip_blk_netlink_uninit(void);

#endif
