// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/block/archipN/archip/: what a mapped volume is and how it fares.
 * The attributes go away in del_gendisk(), before the device is freed.
 */
#include <linux/blkdev.h>
#include <linux/device.h>

#include "blk.h"

static struct archip_dev *dev_of(struct device *d)
{
	return dev_to_disk(d)->private_data;
}

static ssize_t volume_show(struct device *d, struct device_attribute *a,
			   char *buf)
{
	return sysfs_emit(buf, "%s\n", dev_of(d)->args.volume);
}

static ssize_t server_show(struct device *d, struct device_attribute *a,
			   char *buf)
{
	struct archip_dev *dev = dev_of(d);

	return sysfs_emit(buf, "%pISpc\n",
			  &dev->args.servers[READ_ONCE(dev->queues[0].server)]);
}

static ssize_t state_show(struct device *d, struct device_attribute *a,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", archip_dev_state(dev_of(d)));
}

static ssize_t epoch_show(struct device *d, struct device_attribute *a,
			  char *buf)
{
	return sysfs_emit(buf, "%u\n", dev_of(d)->epoch);
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
static DEVICE_ATTR_RO(epoch);
static DEVICE_ATTR_RO(object_size);
static DEVICE_ATTR_RO(counters);

static struct attribute *archip_attrs[] = {
	&dev_attr_volume.attr,
	&dev_attr_server.attr,
	&dev_attr_state.attr,
	&dev_attr_epoch.attr,
	&dev_attr_object_size.attr,
	&dev_attr_counters.attr,
	NULL,
};

static const struct attribute_group archip_attr_group = {
	.name = "archip",
	.attrs = archip_attrs,
};

const struct attribute_group *archip_attr_groups[] = {
	&archip_attr_group,
	NULL,
};
