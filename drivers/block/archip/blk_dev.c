// SPDX-License-Identifier: GPL-2.0
/*
 * The life of a mapped volume: MAP builds it (control connection and
 * volume lock, map, disk, data connections), UNMAP takes it apart, and the
 * last reference frees it (struct archip_dev in blk_dev.h says who holds
 * them).
 *
 * UNMAP of an open device (--force) follows rbd: mark the device dying and
 * the disk dead (new I/O fails), fail what is in flight, delete the disk;
 * the holder's later close drops the last reference.
 */
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "blk.h"
#include "compat.h"

#define DEFAULT_QUEUE_DEPTH	128
#define DEFAULT_LOSS_TIMEOUT	120
#define DEFAULT_IO_TIMEOUT	30

/* devs_lock: the list, each device's dying flag and openers. */
static DEFINE_MUTEX(devs_lock);
static LIST_HEAD(devs);
static DEFINE_IDA(index_ida);
static int archip_major;

static void archip_dev_get(struct archip_dev *dev)
{
	kref_get(&dev->ref);
}

static void archip_dev_release(struct kref *ref)
{
	struct archip_dev *dev = container_of(ref, struct archip_dev, ref);

	blk_mq_free_tag_set(&dev->tag_set);
	put_disk(dev->disk);
	kfree(dev->queues);
	archip_vmap_free(dev);
	ida_free(&index_ida, dev->index);
	kfree(dev);
}

static void archip_dev_put(struct archip_dev *dev)
{
	kref_put(&dev->ref, archip_dev_release);
}

const char *archip_dev_state(struct archip_dev *dev)
{
	unsigned int i;
	bool rec = false;

	if (READ_ONCE(dev->fenced))
		return "fenced";
	for (i = 0; i < dev->nr_queues; i++) {
		int st = READ_ONCE(dev->queues[i].state);

		if (st == ARCHIP_Q_DEAD)
			return "dead";
		rec |= st == ARCHIP_Q_RECONNECTING;
	}
	return rec ? "reconnecting" : "live";
}

ARCHIP_BDEV_OPEN(archip_open)
static int archip_open(struct gendisk *disk, bool write)
{
	struct archip_dev *dev = disk->private_data;
	int err = 0;

	mutex_lock(&devs_lock);
	if (dev->dying) {
		err = -ENXIO;
	} else if (write && dev->args.read_only) {
		err = -EROFS;
	} else {
		dev->openers++;
		archip_dev_get(dev);
	}
	mutex_unlock(&devs_lock);
	return err;
}

ARCHIP_BDEV_RELEASE(archip_release)
static void archip_release(struct gendisk *disk)
{
	struct archip_dev *dev = disk->private_data;

	mutex_lock(&devs_lock);
	dev->openers--;
	mutex_unlock(&devs_lock);
	archip_dev_put(dev);
}

const struct block_device_operations archip_fops = {
	.owner		= THIS_MODULE,
	.open		= archip_open_bdev,
	.release	= archip_release_bdev,
};

int archip_dev_map(const struct archip_map_args *args, int *index,
		   const char **why)
{
	struct archip_dev *dev, *other;
	int err;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	kref_init(&dev->ref);	/* the map's, dropped by UNMAP */
	dev->args = *args;
	if (!dev->args.queue_depth)
		dev->args.queue_depth = DEFAULT_QUEUE_DEPTH;
	if (!dev->args.loss_timeout)
		dev->args.loss_timeout = DEFAULT_LOSS_TIMEOUT;
	if (!dev->args.io_timeout)
		dev->args.io_timeout = DEFAULT_IO_TIMEOUT;
	dev->nr_queues = dev->args.nr_queues ?: min(num_online_cpus(), 16u);
	archip_ctrl_init(dev);

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

	err = ida_alloc_max(&index_ida, (1 << MINORBITS) / ARCHIP_BLK_MINORS - 1,
			    GFP_KERNEL);
	if (err < 0)
		goto err_free;
	dev->index = err;
	/* Shown by 'archipctl server status' for each of our connections. */
	dev->client_id = ((u64)dev->index << 32) | get_random_u32();

	err = archip_lock_open(dev, why);
	if (err)
		goto err_ida;
	err = archip_vmap_load(dev, why);
	if (err)
		goto err_ctrl;

	err = -ENOMEM;
	*why = "out of memory";
	dev->queues = kcalloc(dev->nr_queues, sizeof(*dev->queues), GFP_KERNEL);
	if (!dev->queues)
		goto err_ctrl;
	err = archip_mq_setup(dev, archip_major, dev->index * ARCHIP_BLK_MINORS);
	if (err)
		goto err_queues;
	err = archip_queues_start(dev, why);
	if (err)
		goto err_disk;
	err = device_add_disk(NULL, dev->disk, archip_attr_groups);
	if (err) {
		*why = "cannot add the disk";
		goto err_stop;
	}
	archip_ctrl_start(dev);

	mutex_lock(&devs_lock);
	list_add_tail(&dev->node, &devs);
	mutex_unlock(&devs_lock);
	*index = dev->index;
	pr_info("%s: mapped as /dev/%s (%llu bytes, %u queues, server %pISpc, %s)\n",
		dev->args.volume, dev->disk->disk_name, dev->size, dev->nr_queues,
		&dev->args.servers[dev->ctrl_server],
		dev->args.read_only ? "read-only" : "read-write");
	return 0;

err_stop:
	archip_queues_stop(dev, dev->nr_queues);
err_disk:
	put_disk(dev->disk);
	blk_mq_free_tag_set(&dev->tag_set);
err_queues:
	kfree(dev->queues);
err_ctrl:
	archip_lock_close(dev);		/* releases the lock, if taken */
	archip_vmap_free(dev);
err_ida:
	ida_free(&index_ida, dev->index);
err_free:
	kfree(dev);
	return err;
}

/* Stop all I/O paths and delete the disk; dev->dying is set. */
static void dev_kill(struct archip_dev *dev)
{
	struct request_queue *q = dev->disk->queue;
	unsigned int i;

	/* Every queue_rq from now on sees dying: it fails, parks nothing. */
	blk_mq_quiesce_queue(q);
	blk_mq_unquiesce_queue(q);
	blk_mark_disk_dead(dev->disk);
	archip_queues_stop(dev, dev->nr_queues);
	archip_queues_fail_inflight(dev);
	archip_ctrl_stop(dev);		/* closing it releases the lock */
	/* What waits in the requeue list or was handed back: run, fail. */
	blk_mq_kick_requeue_list(q);
	blk_mq_run_hw_queues(q, true);
	del_gendisk(dev->disk);
	/* No dispatch runs now: no commit can queue a send work any more. */
	for (i = 0; i < dev->nr_queues; i++)
		archip_send_stop(&dev->queues[i]);
	pr_info("%s: unmapped /dev/archip%d\n", dev->args.volume, dev->index);
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
	if (dev->openers && !force) {
		mutex_unlock(&devs_lock);
		*why = "the device is open (mounted or in use); close it first, or --force";
		return -EBUSY;
	}
	WRITE_ONCE(dev->dying, true);
	list_del(&dev->node);
	mutex_unlock(&devs_lock);
	dev_kill(dev);
	archip_dev_put(dev);
	return 0;
}

static u64 archip_dev_digest_errors(struct archip_dev *dev)
{
	u64 n = atomic64_read(&dev->ctrl.digest_errors);
	unsigned int i;

	for (i = 0; dev->queues && i < dev->nr_queues; i++)
		n += atomic64_read(&dev->queues[i].conn.digest_errors);
	return n;
}

/* The @pos-th mapped device, copied; -ENOENT past the last. */
int archip_dev_info(int pos, struct archip_dev_info *info)
{
	struct archip_dev *dev;
	int i = 0;

	mutex_lock(&devs_lock);
	list_for_each_entry(dev, &devs, node) {
		if (i++ < pos)
			continue;
		info->index = dev->index;
		strscpy(info->volume, dev->args.volume, sizeof(info->volume));
		info->size = dev->size;
		info->server = dev->args.servers[READ_ONCE(dev->queues[0].server)];
		info->state = archip_dev_state(dev);
		info->read_only = dev->args.read_only;
		info->epoch = dev->epoch;
		info->key_id = READ_ONCE(dev->ctrl.key_id);
		info->digest = READ_ONCE(dev->ctrl.digest);
		info->digest_errors = archip_dev_digest_errors(dev);
		mutex_unlock(&devs_lock);
		return 0;
	}
	mutex_unlock(&devs_lock);
	return -ENOENT;
}

int archip_dev_init(void)
{
	int err;

	err = archip_ctrl_module_init();
	if (err)
		return err;
	err = archip_send_module_init();
	if (err)
		goto err_ctrl;
	archip_major = register_blkdev(0, "archip");
	if (archip_major < 0) {
		err = archip_major;
		goto err_send;
	}
	return 0;

err_send:
	archip_send_module_exit();
err_ctrl:
	archip_ctrl_module_exit();
	return err;
}

/* Module exit: no device is open (each open pins the module). */
void archip_dev_uninit(void)
{
	struct archip_dev *dev, *tmp;
	LIST_HEAD(all);

	mutex_lock(&devs_lock);
	list_for_each_entry(dev, &devs, node)
		WRITE_ONCE(dev->dying, true);
	list_splice_init(&devs, &all);
	mutex_unlock(&devs_lock);
	list_for_each_entry_safe(dev, tmp, &all, node) {
		dev_kill(dev);
		archip_dev_put(dev);
	}
	unregister_blkdev(archip_major, "archip");
	archip_send_module_exit();
	archip_ctrl_module_exit();
}
