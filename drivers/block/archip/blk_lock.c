// SPDX-License-Identifier: GPL-2.0
/*
 * Fencing, the driver's half (Documentation/protocol.rst, "Fencing"): the
 * control connection holds the volume lock, whose epoch fences every
 * older holder; each data connection BINDs to it; losing it fences the
 * device.
 *
 * The rules, which every change here must keep:
 *  1. A read-write device writes only under the epoch its ACQUIRE got:
 *     every connection carries it (conn->epoch), set before the first
 *     request that changes data.
 *  2. A lost control connection is re-established (any listed server)
 *     and the lock taken back at the same epoch, for at most the loss
 *     timeout; a take-back refused because the lock moved on (-ESTALE),
 *     a BIND or a request refused so, fence the device at once: all its
 *     I/O fails from then on, and it never writes again.
 *  3. Every call is bounded: a control call by the I/O timeout, a BIND or
 *     take-back by BIND_WAIT_MS plus it, a new ACQUIRE by LOCK_WAIT_MS
 *     plus it; and a device being unmapped stops them at once
 *     (archip_lock_stop(), archip_conn_stop()).
 *  4. This file calls only blk_conn.c: nothing here waits for the map,
 *     the queues or the control work.
 *
 * Single user: MAP, then the control work (blk_ctrl.c), one call at a
 * time; BIND is called by the data connections' receive threads on
 * connections of their own.
 */
#include <linux/sched/signal.h>

#include "blk.h"

#define CONNECT_WAIT	(5 * HZ)
/* ACQUIRE anew: how long the server waits for older writers to end. */
#define LOCK_WAIT_MS	60000
/* BIND, or ACQUIRE taking the lock back: how long to wait for the
 * previous connection (its server may be dead, not yet evicted) to end.
 */
#define BIND_WAIT_MS	30000

static long io_timeout(struct archip_dev *dev)
{
	return dev->args.io_timeout * HZ;
}

static int vol_connect(struct archip_dev *dev, const char **why)
{
	unsigned int i, s;
	int err = -ENOTCONN;

	for (i = 0; i < dev->args.nr_servers; i++) {
		s = (dev->ctrl_server + i) % dev->args.nr_servers;
		err = archip_conn_open(&dev->ctrl, &dev->args.servers[s],
				       dev->client_id, !dev->args.insecure,
				       CONNECT_WAIT, why);
		if (!err) {
			dev->ctrl_server = s;
			return 0;
		}
		if (READ_ONCE(dev->dying))
			break;
	}
	return err;
}

/*
 * Take the volume lock: anew (@expect 0) at map time, the epoch growing,
 * or back at the epoch held after a lost connection.  -EINPROGRESS: our
 * own earlier connection still holds it (its server has not let go yet).
 */
static int vol_acquire(struct archip_dev *dev, u32 expect, const char **why)
{
	u32 wait = expect ? BIND_WAIT_MS : LOCK_WAIT_MS;
	struct archip_acquire_rep ar;
	char lock[ARCHIP_VOL_OBJ_NAME_MAX];
	int st, err;

	if (dev->args.read_only)
		return 0;
	archip_lock_name(lock, dev->args.volume);
	dev->ctrl.epoch = expect;
	st = archip_conn_call(&dev->ctrl, ARCHIP_OP_ACQUIRE, 0, lock, 0, wait,
			      NULL, 0, &ar, sizeof(ar),
			      msecs_to_jiffies(wait) + io_timeout(dev), &err);
	if (err) {
		*why = err == -EPROTO ?
		       "the object server sent a malformed reply (see dmesg)" :
		       "lost the connection to the object server";
		return err;
	}
	switch (st) {
	case 0:
		break;
	case -EAGAIN:
		*why = "the volume is mapped elsewhere (another map holds its lock); map it --read-only or unmap it there";
		return -EBUSY;
	case -EBUSY:
		*why = "the volume's previous writers have not ended (a storage node does not answer): retry once the cluster has evicted it";
		return -EBUSY;
	case -ESTALE:
		*why = "another map took the volume lock";
		return -ESTALE;
	case -EINPROGRESS:
		*why = "the volume lock is still held by our previous connection";
		return -EINPROGRESS;
	default:
		*why = "the object server refused the volume lock";
		return st;
	}
	dev->epoch = le32_to_cpu(ar.epoch);
	dev->ctrl.epoch = dev->epoch;
	return 0;
}

/* MAP: connect and take the volume lock (read-write maps). */
int archip_lock_open(struct archip_dev *dev, const char **why)
{
	int err = vol_connect(dev, why);

	if (!err)
		err = vol_acquire(dev, 0, why);
	if (err)
		archip_conn_close(&dev->ctrl);
	return err;
}

void archip_lock_fence(struct archip_dev *dev, const char *why)
{
	unsigned int i;

	if (READ_ONCE(dev->fenced))
		return;
	WRITE_ONCE(dev->fenced, true);
	pr_err("%s: /dev/archip%d fenced: %s; its I/O fails from now on\n",
	       dev->args.volume, dev->index, why);
	/* Each receive thread then fails what it has in flight. */
	for (i = 0; dev->queues && i < dev->nr_queues; i++)
		archip_conn_shutdown(&dev->queues[i].conn);
}

/* A new control connection, the lock taken back at our epoch. */
static int vol_reconnect(struct archip_dev *dev)
{
	const char *why = NULL;
	int err;

	dev->ctrl_server = (dev->ctrl_server + 1) % dev->args.nr_servers;
	err = vol_connect(dev, &why);
	if (!err)
		err = vol_acquire(dev, dev->epoch, &why);
	if (err == -ESTALE)
		archip_lock_fence(dev, why);
	if (err) {
		archip_conn_close(&dev->ctrl);
		return err;
	}
	pr_info("%s: control connection back, to %pISpc\n", dev->args.volume,
		&dev->args.servers[dev->ctrl_server]);
	return 0;
}

/*
 * One control call: the reply's status, or -EIO once the connection could
 * not be re-established within loss_timeout (or the device is fenced or
 * going away).
 */
int archip_lock_call(struct archip_dev *dev, u8 op, u16 flags,
		     const char *name, u64 off, u32 len, const void *data,
		     u32 dlen, void *out, u32 out_len)
{
	unsigned long deadline = jiffies + dev->args.loss_timeout * HZ;
	int st, err;

	for (;;) {
		if (READ_ONCE(dev->fenced) || READ_ONCE(dev->dying))
			return -EIO;
		if (dev->ctrl.sock) {
			st = archip_conn_call(&dev->ctrl, op, flags, name, off,
					      len, data, dlen, out, out_len,
					      io_timeout(dev), &err);
			if (!err) {
				if (st == -ESTALE && dev->epoch) {
					archip_lock_fence(dev, "the object server says our lock epoch is not current");
					return -EIO;
				}
				return st;
			}
			archip_conn_close(&dev->ctrl);
			pr_warn("%s: control connection lost (%d), reconnecting\n",
				dev->args.volume, err);
		}
		if (!time_before(jiffies, deadline))
			return -EIO;
		if (vol_reconnect(dev) && !READ_ONCE(dev->fenced) &&
		    !READ_ONCE(dev->dying))
			schedule_timeout_interruptible(HZ / 2);
	}
}

/* BIND a data connection to the volume lock at our epoch, in @slot. */
int archip_lock_bind(struct archip_dev *dev, struct archip_conn *c,
		     unsigned int slot)
{
	char lock[ARCHIP_VOL_OBJ_NAME_MAX];
	int st, err;

	if (dev->args.read_only)
		return 0;
	archip_lock_name(lock, dev->args.volume);
	c->epoch = dev->epoch;
	st = archip_conn_call(c, ARCHIP_OP_BIND, 0, lock, slot, BIND_WAIT_MS,
			      NULL, 0, NULL, 0,
			      msecs_to_jiffies(BIND_WAIT_MS) + io_timeout(dev),
			      &err);
	return err ?: st;
}

void archip_lock_init(struct archip_dev *dev)
{
	archip_conn_init(&dev->ctrl, !dev->args.no_digest);
}

/* UNMAP: a call in progress ends, and no reconnect succeeds any more. */
void archip_lock_stop(struct archip_dev *dev)
{
	archip_conn_stop(&dev->ctrl);
}

/* After the control work stopped: closing the connection releases the lock. */
void archip_lock_close(struct archip_dev *dev)
{
	archip_conn_close(&dev->ctrl);
}
