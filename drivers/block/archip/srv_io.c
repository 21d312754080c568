// SPDX-License-Identifier: GPL-2.0
/*
 * Executing a request on the store (srv_store.c), or handing a lock
 * request to srv_lock.c.  The reply is left in the request (reply_buf, or
 * small_len bytes at small) for srv_conn.c to send.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/archip.h>

#include "srv.h"
#include "srv_fault.h"

static bool op_allowed(const struct archip_srv_conn *c, u8 op)
{
	switch (op) {
	case ARCHIP_OP_COPY:
		return c->features & ARCHIP_FEAT_COPY;
	case ARCHIP_OP_ACQUIRE:
	case ARCHIP_OP_RELEASE:
		return c->features & ARCHIP_FEAT_LOCKS;
	case ARCHIP_OP_LIST:
		return c->features & ARCHIP_FEAT_LIST;
	case ARCHIP_OP_BIND:
		return c->features & ARCHIP_FEAT_FENCE;
	default:
		return op >= ARCHIP_OP_READ && op <= ARCHIP_OP_MAX;
	}
}

static int do_stat(struct archip_store *st, struct archip_srv_io *io)
{
	struct archip_stat *stat = &io->rep.stat;
	u64 size, alloc;
	bool exists;
	int err;

	err = archip_store_stat(st, io->name, &size, &alloc, &exists);
	if (err)
		return err;
	stat->size = cpu_to_le64(size);
	stat->allocated = cpu_to_le64(alloc);
	stat->flags = cpu_to_le32(exists ? ARCHIP_STAT_EXISTS : 0);
	io->small = stat;
	io->small_len = sizeof(*stat);
	return 0;
}

static int do_list(struct archip_store *st, struct archip_srv_io *io)
{
	struct archip_list_rep *lr;
	char *names;
	u32 used;
	u64 next;
	int err;

	if (io->len <= sizeof(*lr))
		return -EINVAL;
	names = kvmalloc(io->len, GFP_KERNEL);
	if (!names)
		return -ENOMEM;
	io->to_free = names;
	lr = (struct archip_list_rep *)names;
	err = archip_store_list(st, io->name, io->off, names + sizeof(*lr),
				io->len - sizeof(*lr), &used, &next);
	if (err)
		return err;
	lr->cursor = cpu_to_le64(next);
	io->small = names;
	io->small_len = used + sizeof(*lr);
	return 0;
}

static int execute(struct archip_srv_io *io)
{
	struct archip_store *st = &io->conn->srv->store;
	int err;

	switch (io->op) {
	case ARCHIP_OP_READ:
		err = archip_store_read(st, io->name, io->off, &io->buf);
		if (!err)
			io->reply_buf = &io->buf;
		return err;
	case ARCHIP_OP_WRITE:
		return archip_store_write(st, io->name, io->off, &io->buf);
	case ARCHIP_OP_FLUSH:
		return archip_store_flush(st, io->name[0] ? io->name : NULL);
	case ARCHIP_OP_DISCARD:
	case ARCHIP_OP_WRITE_ZEROES:
		return archip_store_punch(st, io->name, io->off, io->len);
	case ARCHIP_OP_DELETE:
		return archip_store_delete(st, io->name);
	case ARCHIP_OP_STAT:
		return do_stat(st, io);
	case ARCHIP_OP_LIST:
		return do_list(st, io);
	case ARCHIP_OP_COPY:
		return archip_store_copy(st, io->name, io->name2);
	case ARCHIP_OP_ACQUIRE:
	case ARCHIP_OP_BIND:
	case ARCHIP_OP_RELEASE:
		return archip_srv_lock_execute(io);
	}
	return -EOPNOTSUPP;
}

int archip_srv_io_execute(struct archip_srv_io *io)
{
	bool delayed = false;
	int err;

	if (io->op == ARCHIP_OP_WRITE) {
		err = archip_fault_write(io->name, &delayed);
		if (err)
			goto out;
	}
	err = -EOPNOTSUPP;
	if (!op_allowed(io->conn, io->op))
		goto out;
	err = archip_srv_changing_start(io);
	if (err)
		goto out;
	err = execute(io);
	archip_srv_changing_end(io);
out:
	if (delayed)
		archip_fault_write_done(io->name, err);
	return err;
}
