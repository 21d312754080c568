// SPDX-License-Identifier: GPL-2.0
/*
 * A mapped volume: a blk-mq disk whose hardware queues each own a TCP
 * connection to an object server, plus a control connection that holds
 * the volume's lock and updates its map.
 *
 * The block layer splits I/O at object boundaries (chunk_sectors), so a
 * request maps to one object.  Queues are BLK_MQ_F_BLOCKING: queue_rq
 * sends inline (as nvme-tcp does on the queue's CPU) and may sleep for
 * the rare map update of a first write, or while its connection is being
 * re-established.  Each queue's receive thread completes replies by tag,
 * in any order.
 *
 * Connection loss: the receive thread reconnects (same server first, then
 * the next listed), then requeues every request that was in flight on the
 * old connection, so nothing fails; only after loss_timeout without a
 * connection do requests fail with EIO.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <net/genetlink.h>

#include "blk_conn.h"
#include "blk_dev.h"

#define MINORS			16
#define DEFAULT_QUEUE_DEPTH	128
#define DEFAULT_LOSS_TIMEOUT	120
#define REQUEST_TIMEOUT		(30 * HZ)
#define KEEPALIVE		(5 * HZ)
#define MAX_OBJS		(1u << 26)
#define GEN_NONE		0

enum { Q_LIVE, Q_RECONNECTING, Q_DEAD };

struct bqueue {
	struct archip_dev *dev;
	unsigned int idx;
	struct archip_conn conn;
	struct task_struct *rx;
	int state;
	u32 gen;
	unsigned int server;	/* index in args.servers */
	wait_queue_head_t wait;
};

struct bcmd {
	u32 gen;
	blk_status_t status;
};

struct archip_dev {
	struct list_head node;
	int index;
	struct archip_map_args args;
	struct archip_vol_hdr hdr;
	u64 size;
	unsigned int obj_shift;
	u64 nr_objs;
	struct archip_map_entry *map;
	struct mutex map_lock;

	struct archip_conn ctrl;
	struct mutex ctrl_lock;
	unsigned int ctrl_server;
	struct delayed_work keepalive;

	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	struct bqueue *queues;
	unsigned int nr_queues;

	struct mutex open_lock;		/* openers, dying */
	unsigned int openers;
	bool dying;
	bool fenced;			/* lost the volume lock: no more I/O */

	atomic64_t reads, writes, zero_reads, map_updates, reconnects;
};

static DEFINE_MUTEX(devs_lock);
static LIST_HEAD(devs);
static DEFINE_IDA(index_ida);
static int archip_major;

static u64 client_id(struct archip_dev *dev)
{
	return ((u64)dev->index << 32) | (u32)get_random_u32();
}

static void obj_name(struct archip_dev *dev, u64 idx, char *buf, size_t len)
{
	unsigned int src = le16_to_cpu(READ_ONCE(dev->map[idx].source));
	const char *vol = dev->args.volume;

	if (src && src <= ARCHIP_VOL_MAX_SOURCES)
		vol = dev->hdr.sources[src - 1];
	snprintf(buf, len, "d.%s.%016llx", vol, idx);
}

/* ----------------------------------------------------------- control */

static int ctrl_connect(struct archip_dev *dev, const char **why)
{
	unsigned int i, s;
	int err = -ENOTCONN;

	for (i = 0; i < dev->args.nr_servers; i++) {
		s = (dev->ctrl_server + i) % dev->args.nr_servers;
		err = archip_conn_open(&dev->ctrl, &dev->args.servers[s],
				       client_id(dev), why);
		if (!err) {
			dev->ctrl_server = s;
			return 0;
		}
	}
	return err;
}

static int ctrl_lock_volume(struct archip_dev *dev, const char **why)
{
	char lock[ARCHIP_VOL_NAME_MAX + 8];
	int st, err;

	if (dev->args.read_only)
		return 0;
	snprintf(lock, sizeof(lock), "vol.%s", dev->args.volume);
	st = archip_conn_call(&dev->ctrl, ARCHIP_OP_ACQUIRE, 0, lock, 0, 0, NULL,
			      0, NULL, 0, &err);
	if (err) {
		*why = "lost the connection to the object server";
		return err;
	}
	if (st == -EAGAIN) {
		*why = "the volume is mapped elsewhere (another map holds its lock); map it --read-only or unmap it there";
		return -EBUSY;
	}
	if (st)
		*why = "the object server refused the volume lock";
	return st;
}

/*
 * A control call; on a broken connection, reconnect (and take the volume
 * lock again) once and retry.  Called with ctrl_lock held.
 */
static int ctrl_call(struct archip_dev *dev, u8 op, u16 flags, const char *name,
		     u64 off, u32 len, const void *data, u32 dlen, void *out,
		     u32 out_len)
{
	const char *why;
	int st, err, tries;

	for (tries = 0; tries < 2; tries++) {
		if (dev->ctrl.sock) {
			st = archip_conn_call(&dev->ctrl, op, flags, name, off, len,
					      data, dlen, out, out_len, &err);
			if (!err)
				return st;
			archip_conn_close(&dev->ctrl);
		}
		err = ctrl_connect(dev, &why);
		if (!err)
			err = ctrl_lock_volume(dev, &why);
		if (err == -EBUSY) {
			pr_err("%s: volume lock taken by another map: fencing /dev/%s\n",
			       dev->args.volume, dev->disk->disk_name);
			WRITE_ONCE(dev->fenced, true);
			return -EIO;
		}
		if (err)
			archip_conn_close(&dev->ctrl);
	}
	return -EIO;
}

/* Keep the control connection (and so the volume lock) alive. */
static void keepalive_work(struct work_struct *work)
{
	struct archip_dev *dev = container_of(to_delayed_work(work),
					      struct archip_dev, keepalive);
	char hdr_name[ARCHIP_VOL_NAME_MAX + 4];
	struct archip_stat stat;

	snprintf(hdr_name, sizeof(hdr_name), "v.%s", dev->args.volume);
	mutex_lock(&dev->ctrl_lock);
	ctrl_call(dev, ARCHIP_OP_STAT, 0, hdr_name, 0, 0, NULL, 0, &stat,
		  sizeof(stat));
	mutex_unlock(&dev->ctrl_lock);
	if (!READ_ONCE(dev->dying))
		schedule_delayed_work(&dev->keepalive, KEEPALIVE);
}

/* The map says object @idx was written (by this volume or its parent). */
static bool obj_exists(struct archip_dev *dev, u64 idx)
{
	return le16_to_cpu(READ_ONCE(dev->map[idx].flags)) & ARCHIP_MAP_EXISTS;
}

/* Written, and this volume's own: no copy-up needed before writing it. */
static bool obj_owned(struct archip_dev *dev, u64 idx)
{
	return obj_exists(dev, idx) && !READ_ONCE(dev->map[idx].source);
}

/*
 * Before the first write to an object, record it in the map, durably: a
 * crash after that but before the data write leaves an entry whose object
 * is missing, which reads as zeros, as it did before.
 */
static int ensure_allocated(struct archip_dev *dev, u64 idx)
{
	struct archip_map_entry e = { .flags = cpu_to_le16(ARCHIP_MAP_EXISTS) };
	char hdr_name[ARCHIP_VOL_NAME_MAX + 4];
	int st;

	if (obj_owned(dev, idx))
		return 0;
	snprintf(hdr_name, sizeof(hdr_name), "v.%s", dev->args.volume);
	mutex_lock(&dev->map_lock);
	if (obj_owned(dev, idx)) {
		mutex_unlock(&dev->map_lock);
		return 0;
	}
	mutex_lock(&dev->ctrl_lock);
	if (dev->map[idx].source) {
		/* Copy up the parent's read-only object first. */
		char src[ARCHIP_NAME_MAX + 1], dst[ARCHIP_NAME_MAX + 1];

		obj_name(dev, idx, src, sizeof(src));
		snprintf(dst, sizeof(dst), "d.%s.%016llx", dev->args.volume, idx);
		st = ctrl_call(dev, ARCHIP_OP_COPY, 0, src, 0, 0, dst, strlen(dst),
			       NULL, 0);
		if (st && st != -EEXIST)
			goto out;
	}
	st = ctrl_call(dev, ARCHIP_OP_WRITE, ARCHIP_REQ_FUA, hdr_name,
		       ARCHIP_VOL_HDR_SIZE + idx * sizeof(e), sizeof(e), &e,
		       sizeof(e), NULL, 0);
	if (!st) {
		WRITE_ONCE(dev->map[idx], e);
		atomic64_inc(&dev->map_updates);
	}
out:
	mutex_unlock(&dev->ctrl_lock);
	mutex_unlock(&dev->map_lock);
	return st;
}

/* ------------------------------------------------------------- queues */

static int queue_connect(struct bqueue *q)
{
	struct archip_dev *dev = q->dev;
	const char *why;
	unsigned int i, s;
	int err = -ENOTCONN;

	for (i = 0; i < dev->args.nr_servers; i++) {
		s = (q->server + i) % dev->args.nr_servers;
		err = archip_conn_open(&q->conn, &dev->args.servers[s],
				       client_id(dev), &why);
		if (!err) {
			q->server = s;
			return 0;
		}
	}
	return err;
}

struct requeue_ctx {
	struct bqueue *q;
	bool fail;
};

static bool requeue_old(struct request *rq, void *data)
{
	struct requeue_ctx *ctx = data;
	struct bcmd *cmd = blk_mq_rq_to_pdu(rq);

	if (rq->mq_hctx->queue_num != ctx->q->idx || cmd->gen == GEN_NONE ||
	    cmd->gen == ctx->q->gen)
		return true;
	cmd->gen = GEN_NONE;
	if (ctx->fail) {
		cmd->status = BLK_STS_IOERR;
		blk_mq_complete_request(rq);
	} else {
		blk_mq_requeue_request(rq, false);
	}
	return true;
}

/* Lost the connection: get a new one, then resend what was in flight. */
static void queue_recover(struct bqueue *q)
{
	struct archip_dev *dev = q->dev;
	unsigned long deadline = jiffies + dev->args.loss_timeout * HZ;
	struct requeue_ctx ctx = { .q = q };

	WRITE_ONCE(q->state, Q_RECONNECTING);
	archip_conn_close(&q->conn);
	atomic64_inc(&dev->reconnects);
	pr_warn("%s: connection %u to %pISpc lost, reconnecting\n",
		dev->args.volume, q->idx, &dev->args.servers[q->server]);
	while (!kthread_should_stop() && time_before(jiffies, deadline)) {
		if (!queue_connect(q)) {
			q->gen = q->gen + 1 ?: 1;
			WRITE_ONCE(q->state, Q_LIVE);
			pr_info("%s: connection %u back, to %pISpc\n",
				dev->args.volume, q->idx,
				&dev->args.servers[q->server]);
			blk_mq_tagset_busy_iter(&dev->tag_set, requeue_old, &ctx);
			blk_mq_kick_requeue_list(dev->disk->queue);
			wake_up_all(&q->wait);
			return;
		}
		/* Next time, try the next server first. */
		q->server = (q->server + 1) % dev->args.nr_servers;
		schedule_timeout_interruptible(HZ / 2);
	}
	pr_err("%s: connection %u not back within %us: failing its I/O\n",
	       dev->args.volume, q->idx, dev->args.loss_timeout);
	q->gen = q->gen + 1 ?: 1;
	WRITE_ONCE(q->state, Q_DEAD);
	ctx.fail = true;
	blk_mq_tagset_busy_iter(&dev->tag_set, requeue_old, &ctx);
	wake_up_all(&q->wait);
}

static int recv_reply(struct bqueue *q)
{
	struct archip_dev *dev = q->dev;
	struct archip_rep rep;
	struct request *rq;
	struct bcmd *cmd;
	u32 utag, dlen;
	u64 tag;
	int err, st;

	err = archip_conn_recv(&q->conn, &rep, sizeof(rep));
	if (err)
		return err;
	tag = le64_to_cpu(rep.tag);
	utag = (u32)tag;
	dlen = le32_to_cpu(rep.data_len);
	st = (s32)le32_to_cpu(rep.status);
	if (le32_to_cpu(rep.magic) != ARCHIP_REP_MAGIC ||
	    blk_mq_unique_tag_to_hwq(utag) != q->idx || tag >> 32 != q->gen)
		goto bad;
	rq = blk_mq_tag_to_rq(dev->tag_set.tags[q->idx],
			      blk_mq_unique_tag_to_tag(utag));
	if (!rq || !blk_mq_request_started(rq))
		goto bad;
	cmd = blk_mq_rq_to_pdu(rq);
	if (cmd->gen != q->gen)
		goto bad;
	if (!st && req_op(rq) == REQ_OP_READ) {
		if (dlen != blk_rq_bytes(rq))
			goto bad;
		err = archip_conn_recv_rq(&q->conn, rq);
		if (err)
			return err;
	} else if (dlen) {
		goto bad;
	}
	cmd->gen = GEN_NONE;
	cmd->status = errno_to_blk_status(st);
	blk_mq_complete_request(rq);
	return 0;
bad:
	pr_err_ratelimited("%s: bad reply on connection %u, reconnecting\n",
			   dev->args.volume, q->idx);
	return -EPROTO;
}

static int rx_thread(void *data)
{
	struct bqueue *q = data;

	while (!kthread_should_stop()) {
		if (READ_ONCE(q->state) == Q_DEAD) {
			set_current_state(TASK_INTERRUPTIBLE);
			if (!kthread_should_stop())
				schedule();
			__set_current_state(TASK_RUNNING);
			continue;
		}
		if (recv_reply(q) && !kthread_should_stop())
			queue_recover(q);
	}
	return 0;
}

/* ------------------------------------------------------------ blk-mq */

static blk_status_t archip_queue_rq(struct blk_mq_hw_ctx *hctx,
				    const struct blk_mq_queue_data *bd)
{
	struct bqueue *q = hctx->driver_data;
	struct archip_dev *dev = q->dev;
	struct request *rq = bd->rq;
	struct bcmd *cmd = blk_mq_rq_to_pdu(rq);
	char name[ARCHIP_NAME_MAX + 1] = "";
	u64 pos = blk_rq_pos(rq) << SECTOR_SHIFT, idx = pos >> dev->obj_shift;
	u32 len = blk_rq_bytes(rq), dlen = 0;
	u16 flags = 0;
	u8 op;

	cmd->gen = GEN_NONE;
	blk_mq_start_request(rq);
	if (READ_ONCE(dev->fenced))
		return BLK_STS_IOERR;
	if (req_op(rq) != REQ_OP_FLUSH && idx >= dev->nr_objs)
		return BLK_STS_IOERR;

	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		op = ARCHIP_OP_FLUSH;
		len = 0;
		pos = 0;
		break;
	case REQ_OP_READ:
		atomic64_inc(&dev->reads);
		if (!obj_exists(dev, idx)) {
			struct bio *bio;

			/* Never written: zeros, no round trip. */
			__rq_for_each_bio(bio, rq)
				zero_fill_bio(bio);
			atomic64_inc(&dev->zero_reads);
			blk_mq_end_request(rq, BLK_STS_OK);
			return BLK_STS_OK;
		}
		op = ARCHIP_OP_READ;
		break;
	case REQ_OP_WRITE:
		atomic64_inc(&dev->writes);
		if (ensure_allocated(dev, idx))
			return BLK_STS_IOERR;
		op = ARCHIP_OP_WRITE;
		dlen = len;
		if (rq->cmd_flags & REQ_FUA)
			flags |= ARCHIP_REQ_FUA;
		break;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		if (!obj_exists(dev, idx)) {
			blk_mq_end_request(rq, BLK_STS_OK);
			return BLK_STS_OK;
		}
		/* Punching a parent's object would change the parent. */
		if (READ_ONCE(dev->map[idx].source) && ensure_allocated(dev, idx))
			return BLK_STS_IOERR;
		op = req_op(rq) == REQ_OP_DISCARD ? ARCHIP_OP_DISCARD :
						    ARCHIP_OP_WRITE_ZEROES;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	if (op != ARCHIP_OP_FLUSH) {
		obj_name(dev, idx, name, sizeof(name));
		pos &= (1ULL << dev->obj_shift) - 1;
	}

	if (READ_ONCE(q->state) != Q_LIVE)
		wait_event_timeout(q->wait, READ_ONCE(q->state) != Q_RECONNECTING,
				   dev->args.loss_timeout * HZ);
	if (READ_ONCE(q->state) != Q_LIVE)
		return BLK_STS_IOERR;

	cmd->gen = q->gen;
	/*
	 * A failed send leaves the request in flight with this generation:
	 * the receive thread sees the broken connection too, and resends it
	 * on the next one.
	 */
	if (archip_conn_send(&q->conn, op, flags,
			     ((u64)cmd->gen << 32) | blk_mq_unique_tag(rq),
			     op == ARCHIP_OP_FLUSH ? NULL : name, pos, len, NULL,
			     dlen, rq))
		archip_conn_shutdown(&q->conn);
	return BLK_STS_OK;
}

static void archip_complete_rq(struct request *rq)
{
	struct bcmd *cmd = blk_mq_rq_to_pdu(rq);

	blk_mq_end_request(rq, cmd->status);
}

/* A server that stopped answering without closing: cut the connection,
 * which the receive thread then re-establishes (and resends).
 */
static enum blk_eh_timer_return archip_timeout(struct request *rq)
{
	struct bqueue *q = rq->mq_hctx->driver_data;

	pr_warn_ratelimited("%s: request timed out on connection %u\n",
			    q->dev->args.volume, q->idx);
	archip_conn_shutdown(&q->conn);
	return BLK_EH_RESET_TIMER;
}

static int archip_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			    unsigned int idx)
{
	struct archip_dev *dev = data;

	hctx->driver_data = &dev->queues[idx];
	return 0;
}

static const struct blk_mq_ops archip_mq_ops = {
	.queue_rq	= archip_queue_rq,
	.complete	= archip_complete_rq,
	.timeout	= archip_timeout,
	.init_hctx	= archip_init_hctx,
};

static int archip_open(struct block_device *bdev, fmode_t mode)
{
	struct archip_dev *dev = bdev->bd_disk->private_data;
	int err = 0;

	mutex_lock(&dev->open_lock);
	if (dev->dying)
		err = -ENXIO;
	else if ((mode & FMODE_WRITE) && dev->args.read_only)
		err = -EROFS;
	else
		dev->openers++;
	mutex_unlock(&dev->open_lock);
	return err;
}

static void archip_release(struct gendisk *disk, fmode_t mode)
{
	struct archip_dev *dev = disk->private_data;

	mutex_lock(&dev->open_lock);
	dev->openers--;
	mutex_unlock(&dev->open_lock);
}

static const struct block_device_operations archip_fops = {
	.owner		= THIS_MODULE,
	.open		= archip_open,
	.release	= archip_release,
};

/* -------------------------------------------------------------- sysfs */

static struct archip_dev *dev_of(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

static ssize_t volume_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s\n", dev_of(d)->args.volume);
}

static ssize_t server_show(struct device *d, struct device_attribute *a, char *buf)
{
	struct archip_dev *dev = dev_of(d);

	return sysfs_emit(buf, "%pISpc\n", &dev->args.servers[dev->queues[0].server]);
}

static const char *dev_state(struct archip_dev *dev)
{
	unsigned int i;
	bool rec = false;

	if (READ_ONCE(dev->fenced))
		return "fenced";
	for (i = 0; i < dev->nr_queues; i++) {
		int st = READ_ONCE(dev->queues[i].state);

		if (st == Q_DEAD)
			return "dead";
		rec |= st == Q_RECONNECTING;
	}
	return rec ? "reconnecting" : "live";
}

static ssize_t state_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s\n", dev_state(dev_of(d)));
}

static ssize_t object_size_show(struct device *d, struct device_attribute *a,
				char *buf)
{
	return sysfs_emit(buf, "%llu\n", 1ULL << dev_of(d)->obj_shift);
}

static ssize_t counters_show(struct device *d, struct device_attribute *a,
			     char *buf)
{
	struct archip_dev *dev = dev_of(d);

	return sysfs_emit(buf,
			  "reads %lld\nwrites %lld\nzero_reads %lld\nmap_updates %lld\nreconnects %lld\n",
			  atomic64_read(&dev->reads), atomic64_read(&dev->writes),
			  atomic64_read(&dev->zero_reads),
			  atomic64_read(&dev->map_updates),
			  atomic64_read(&dev->reconnects));
}

static DEVICE_ATTR_RO(volume);
static DEVICE_ATTR_RO(server);
static DEVICE_ATTR_RO(state);
static DEVICE_ATTR_RO(object_size);
static DEVICE_ATTR_RO(counters);

static struct attribute *archip_attrs[] = {
	&dev_attr_volume.attr,
	&dev_attr_server.attr,
	&dev_attr_state.attr,
	&dev_attr_object_size.attr,
	&dev_attr_counters.attr,
	NULL,
};

static const struct attribute_group archip_attr_group = {
	.name = "archip",
	.attrs = archip_attrs,
};

static const struct attribute_group *archip_attr_groups[] = {
	&archip_attr_group,
	NULL,
};

/* -------------------------------------------------------- map, unmap */

static int load_volume(struct archip_dev *dev, const char **why)
{
	char hdr_name[ARCHIP_VOL_NAME_MAX + 4];
	struct archip_vol_hdr *h = &dev->hdr;
	struct archip_stat stat;
	u64 bytes, done;
	int st;

	snprintf(hdr_name, sizeof(hdr_name), "v.%s", dev->args.volume);
	mutex_lock(&dev->ctrl_lock);
	st = ctrl_call(dev, ARCHIP_OP_STAT, 0, hdr_name, 0, 0, NULL, 0, &stat,
		       sizeof(stat));
	if (!st && !(le32_to_cpu(stat.flags) & ARCHIP_STAT_EXISTS)) {
		*why = "no such volume (see 'archipctl volume list')";
		st = -ENOENT;
	}
	if (!st)
		st = ctrl_call(dev, ARCHIP_OP_READ, 0, hdr_name, 0, sizeof(*h),
			       NULL, 0, h, sizeof(*h));
	if (st)
		goto out;
	dev->size = le64_to_cpu(h->size);
	dev->obj_shift = le32_to_cpu(h->obj_shift);
	dev->nr_objs = le64_to_cpu(h->nr_objs);
	*why = "the volume header is invalid";
	st = -EINVAL;
	if (le32_to_cpu(h->magic) != ARCHIP_VOL_MAGIC ||
	    le16_to_cpu(h->hdr_size) != ARCHIP_VOL_HDR_SIZE)
		goto out;
	*why = "the volume has a newer format version: upgrade archip";
	if (le16_to_cpu(h->version) != ARCHIP_VOL_VERSION)
		goto out;
	*why = "the volume header has impossible sizes";
	if (dev->obj_shift < 12 || dev->obj_shift > 30 || !dev->size ||
	    dev->size & 511 || dev->nr_objs > MAX_OBJS ||
	    dev->nr_objs != DIV_ROUND_UP_ULL(dev->size, 1ULL << dev->obj_shift) ||
	    le32_to_cpu(h->nr_sources) > ARCHIP_VOL_MAX_SOURCES)
		goto out;
	h->name[sizeof(h->name) - 1] = '\0';
	for (st = 0; st < ARCHIP_VOL_MAX_SOURCES; st++)
		h->sources[st][ARCHIP_VOL_NAME_MAX - 1] = '\0';

	bytes = dev->nr_objs * sizeof(*dev->map);
	dev->map = kvzalloc(bytes, GFP_KERNEL);
	st = -ENOMEM;
	if (!dev->map)
		goto out;
	for (done = 0, st = 0; done < bytes && !st; done += dev->ctrl.max_io) {
		u32 n = min_t(u64, bytes - done, dev->ctrl.max_io);

		st = ctrl_call(dev, ARCHIP_OP_READ, 0, hdr_name,
			       ARCHIP_VOL_HDR_SIZE + done, n, NULL, 0,
			       (char *)dev->map + done, n);
	}
	*why = "cannot read the volume map";
out:
	mutex_unlock(&dev->ctrl_lock);
	return st;
}

static void stop_queues(struct archip_dev *dev, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct bqueue *q = &dev->queues[i];

		archip_conn_shutdown(&q->conn);
		if (q->rx)
			kthread_stop(q->rx);
		archip_conn_close(&q->conn);
	}
}

static int start_queues(struct archip_dev *dev, const char **why)
{
	unsigned int i;
	int err;

	for (i = 0; i < dev->nr_queues; i++) {
		struct bqueue *q = &dev->queues[i];

		q->dev = dev;
		q->idx = i;
		q->gen = 1;
		q->server = dev->ctrl_server;
		init_waitqueue_head(&q->wait);
		archip_conn_init(&q->conn);
		err = queue_connect(q);
		if (err) {
			*why = "cannot open the data connections to the object server";
			goto err;
		}
		q->rx = kthread_run(rx_thread, q, "archip%d-rx%u", dev->index, i);
		if (IS_ERR(q->rx)) {
			err = PTR_ERR(q->rx);
			q->rx = NULL;
			archip_conn_close(&q->conn);
			goto err;
		}
	}
	return 0;
err:
	stop_queues(dev, i);
	return err;
}

static int setup_disk(struct archip_dev *dev)
{
	struct request_queue *rq;
	u32 obj_sectors = (1U << dev->obj_shift) >> SECTOR_SHIFT;
	u32 io_sectors = min(dev->ctrl.max_io, 1U << dev->obj_shift) >> SECTOR_SHIFT;
	int err;

	dev->tag_set.ops = &archip_mq_ops;
	dev->tag_set.nr_hw_queues = dev->nr_queues;
	dev->tag_set.queue_depth = min_t(u32, dev->args.queue_depth,
					 dev->ctrl.max_inflight);
	dev->tag_set.numa_node = NUMA_NO_NODE;
	dev->tag_set.cmd_size = sizeof(struct bcmd);
	dev->tag_set.flags = BLK_MQ_F_SHOULD_MERGE | BLK_MQ_F_BLOCKING;
	dev->tag_set.timeout = REQUEST_TIMEOUT;
	dev->tag_set.driver_data = dev;
	err = blk_mq_alloc_tag_set(&dev->tag_set);
	if (err)
		return err;
	dev->disk = blk_mq_alloc_disk(&dev->tag_set, dev);
	if (IS_ERR(dev->disk)) {
		err = PTR_ERR(dev->disk);
		dev->disk = NULL;
		blk_mq_free_tag_set(&dev->tag_set);
		return err;
	}
	rq = dev->disk->queue;
	dev->disk->major = archip_major;
	dev->disk->first_minor = dev->index * MINORS;
	dev->disk->minors = MINORS;
	dev->disk->fops = &archip_fops;
	dev->disk->private_data = dev;
	snprintf(dev->disk->disk_name, DISK_NAME_LEN, "archip%d", dev->index);
	set_capacity(dev->disk, dev->size >> SECTOR_SHIFT);
	blk_queue_logical_block_size(rq, 512);
	blk_queue_physical_block_size(rq, 4096);
	blk_queue_io_min(rq, 4096);
	blk_queue_max_hw_sectors(rq, io_sectors);
	blk_queue_max_segments(rq, USHRT_MAX);
	blk_queue_chunk_sectors(rq, obj_sectors);
	blk_queue_write_cache(rq, true, true);
	blk_queue_max_discard_sectors(rq, obj_sectors);
	blk_queue_max_write_zeroes_sectors(rq, obj_sectors);
	rq->limits.discard_granularity = 4096;
	blk_queue_flag_set(QUEUE_FLAG_NONROT, rq);
	set_disk_ro(dev->disk, dev->args.read_only);
	return 0;
}

int archip_dev_map(const struct archip_map_args *args, int *index,
		   const char **why)
{
	struct archip_dev *dev, *other;
	int err;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->args = *args;
	if (!dev->args.queue_depth)
		dev->args.queue_depth = DEFAULT_QUEUE_DEPTH;
	if (!dev->args.loss_timeout)
		dev->args.loss_timeout = DEFAULT_LOSS_TIMEOUT;
	dev->nr_queues = dev->args.nr_queues ?: min(num_online_cpus(), 16u);
	mutex_init(&dev->map_lock);
	mutex_init(&dev->ctrl_lock);
	mutex_init(&dev->open_lock);
	INIT_DELAYED_WORK(&dev->keepalive, keepalive_work);
	archip_conn_init(&dev->ctrl);

	/* The same volume twice on this node would also fail on its lock,
	 * but say it plainly.
	 */
	mutex_lock(&devs_lock);
	list_for_each_entry(other, &devs, node)
		if (!strcmp(other->args.volume, args->volume) && !args->read_only &&
		    !other->args.read_only) {
			mutex_unlock(&devs_lock);
			*why = "the volume is already mapped on this node";
			kfree(dev);
			return -EBUSY;
		}
	mutex_unlock(&devs_lock);

	err = ida_alloc_max(&index_ida, (1 << MINORBITS) / MINORS - 1, GFP_KERNEL);
	if (err < 0)
		goto err_free;
	dev->index = err;

	mutex_lock(&dev->ctrl_lock);
	err = ctrl_connect(dev, why);
	if (!err)
		err = ctrl_lock_volume(dev, why);
	mutex_unlock(&dev->ctrl_lock);
	if (err)
		goto err_ctrl;
	err = load_volume(dev, why);
	if (err)
		goto err_ctrl;

	err = -ENOMEM;
	*why = "out of memory";
	dev->queues = kcalloc(dev->nr_queues, sizeof(*dev->queues), GFP_KERNEL);
	if (!dev->queues)
		goto err_ctrl;
	err = setup_disk(dev);
	if (err)
		goto err_queues;
	err = start_queues(dev, why);
	if (err)
		goto err_disk;
	err = device_add_disk(NULL, dev->disk, archip_attr_groups);
	if (err) {
		*why = "cannot add the disk";
		goto err_stop;
	}
	schedule_delayed_work(&dev->keepalive, KEEPALIVE);

	mutex_lock(&devs_lock);
	list_add_tail(&dev->node, &devs);
	mutex_unlock(&devs_lock);
	*index = dev->index;
	pr_info("%s: mapped as /dev/%s (%llu bytes, %u queues, server %pISpc%s)\n",
		dev->args.volume, dev->disk->disk_name, dev->size, dev->nr_queues,
		&dev->args.servers[dev->ctrl_server],
		dev->args.read_only ? ", read-only" : "");
	return 0;

err_stop:
	stop_queues(dev, dev->nr_queues);
err_disk:
	put_disk(dev->disk);
	blk_mq_free_tag_set(&dev->tag_set);
err_queues:
	kfree(dev->queues);
err_ctrl:
	archip_conn_close(&dev->ctrl);	/* releases the lock, if taken */
	kvfree(dev->map);
	ida_free(&index_ida, dev->index);
err_free:
	kfree(dev);
	return err;
}

static void dev_destroy(struct archip_dev *dev)
{
	cancel_delayed_work_sync(&dev->keepalive);
	del_gendisk(dev->disk);
	stop_queues(dev, dev->nr_queues);
	put_disk(dev->disk);
	blk_mq_free_tag_set(&dev->tag_set);
	kfree(dev->queues);
	/* Closing the control connection releases the volume lock. */
	archip_conn_close(&dev->ctrl);
	kvfree(dev->map);
	pr_info("%s: unmapped /dev/archip%d\n", dev->args.volume, dev->index);
	ida_free(&index_ida, dev->index);
	kfree(dev);
}

int archip_dev_unmap(int index, bool force, const char **why)
{
	struct archip_dev *dev = NULL, *d;

	mutex_lock(&devs_lock);
	list_for_each_entry(d, &devs, node)
		if (d->index == index)
			dev = d;
	if (!dev) {
		mutex_unlock(&devs_lock);
		*why = "no such device (see 'archipctl list')";
		return -ENOENT;
	}
	mutex_lock(&dev->open_lock);
	if (dev->openers && !force) {
		mutex_unlock(&dev->open_lock);
		mutex_unlock(&devs_lock);
		*why = "the device is open (mounted or in use); close it first, or --force";
		return -EBUSY;
	}
	dev->dying = true;
	mutex_unlock(&dev->open_lock);
	list_del(&dev->node);
	mutex_unlock(&devs_lock);
	dev_destroy(dev);
	return 0;
}

void archip_dev_unmap_all(void)
{
	struct archip_dev *dev, *tmp;
	LIST_HEAD(all);

	mutex_lock(&devs_lock);
	list_splice_init(&devs, &all);
	mutex_unlock(&devs_lock);
	list_for_each_entry_safe(dev, tmp, &all, node) {
		WRITE_ONCE(dev->dying, true);
		dev_destroy(dev);
	}
}

int archip_dev_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct archip_dev *dev;
	int i = 0, err = 0;

	mutex_lock(&devs_lock);
	list_for_each_entry(dev, &devs, node) {
		if (i++ < cb->args[0])
			continue;
		err = archip_blk_fill_dev(skb, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, NLM_F_MULTI,
					  dev->index, dev->args.volume, dev->size,
					  &dev->args.servers[dev->queues[0].server],
					  dev_state(dev), dev->args.read_only);
		if (err)
			break;
		cb->args[0] = i;
	}
	mutex_unlock(&devs_lock);
	return err && !skb->len ? err : skb->len;
}

int archip_dev_init(void)
{
	archip_major = register_blkdev(0, "archip");
	return archip_major < 0 ? archip_major : 0;
}

void archip_dev_uninit(void)
{
	archip_dev_unmap_all();
	unregister_blkdev(archip_major, "archip");
}
