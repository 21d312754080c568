// SPDX-License-Identifier: GPL-2.0
/*
 * The one check of a request frame (Documentation/protocol.rst,
 * "Validation"): every field of the header before anything uses it.  A
 * frame that fails closes its connection (srv_conn.c): after one, nothing
 * that follows on the stream can be trusted.
 */
#include <linux/overflow.h>
#include <linux/archip.h>

#include "srv.h"

bool archip_srv_is_lock_op(u8 op)
{
	return op == ARCHIP_OP_ACQUIRE || op == ARCHIP_OP_BIND ||
	       op == ARCHIP_OP_RELEASE;
}

/* Validate a request header; on success fill io (except names, payload). */
int archip_srv_frame_check(const struct archip_srv_conn *c,
			   const struct archip_req *rq, struct archip_srv_io *io,
			   u32 *data_len, const char **why)
{
	u32 len = le32_to_cpu(rq->len), dlen = le32_to_cpu(rq->data_len);
	u16 nlen = le16_to_cpu(rq->name_len), flags = le16_to_cpu(rq->flags);
	u64 off = le64_to_cpu(rq->off), end;
	u8 op = rq->op;

	*why = "bad request magic";
	if (le32_to_cpu(rq->magic) != ARCHIP_REQ_MAGIC)
		return -EPROTO;
	*why = "reserved request field not zero";
	if (rq->pad || rq->pad2)
		return -EPROTO;
	*why = "unknown request flag";
	if (flags & ~ARCHIP_REQ_FLAGS_KNOWN)
		return -EPROTO;
	*why = "FUA on a request other than WRITE";
	if ((flags & ARCHIP_REQ_FUA) && op != ARCHIP_OP_WRITE)
		return -EPROTO;
	*why = "object name too long";
	if (nlen > ARCHIP_NAME_MAX)
		return -EPROTO;
	*why = "payload larger than the negotiated max_io";
	if (dlen > c->max_io)
		return -EPROTO;

	switch (op) {
	case ARCHIP_OP_READ:
	case ARCHIP_OP_WRITE:
		*why = "READ/WRITE length is 0 or over max_io";
		if (!len || len > c->max_io)
			return -EPROTO;
		*why = "WRITE payload length differs from its length";
		if (op == ARCHIP_OP_WRITE ? dlen != len : dlen)
			return -EPROTO;
		break;
	case ARCHIP_OP_LIST:
		*why = "LIST answer size is 0 or over max_io, or with a payload";
		if (!len || len > c->max_io || dlen)
			return -EPROTO;
		/* off is a cursor, not a byte offset: any value */
		break;
	case ARCHIP_OP_DISCARD:
	case ARCHIP_OP_WRITE_ZEROES:
		*why = "DISCARD/WRITE_ZEROES of 0 bytes or with a payload";
		if (!len || dlen)
			return -EPROTO;
		break;
	case ARCHIP_OP_COPY:
		*why = "COPY without a valid destination name";
		if (!dlen || dlen > ARCHIP_NAME_MAX || len || off)
			return -EPROTO;
		break;
	case ARCHIP_OP_ACQUIRE:
	case ARCHIP_OP_BIND:
		*why = "ACQUIRE/BIND wait over the limit, bad slot, or a payload";
		if (len > ARCHIP_BIND_MAX_WAIT_MS || dlen ||
		    off > (op == ARCHIP_OP_BIND ? ARCHIP_BIND_MAX_SLOT : 0))
			return -EPROTO;
		break;
	case ARCHIP_OP_FLUSH:
	case ARCHIP_OP_DELETE:
	case ARCHIP_OP_STAT:
	case ARCHIP_OP_RELEASE:
		*why = "offset, length or payload on a request that takes none";
		if (len || off || dlen)
			return -EPROTO;
		break;
	default:
		/* Unknown op: well framed, so answer EOPNOTSUPP and go on. */
		break;
	}
	/*
	 * A byte range must lie within the largest file the store's
	 * filesystem can hold (its s_maxbytes).  LIST's off is a cursor.
	 */
	*why = "offset + length overflows or is past the store's largest file size";
	if (op != ARCHIP_OP_LIST &&
	    (check_add_overflow(off, (u64)len, &end) ||
	     end > archip_store_max_bytes(&c->srv->store)))
		return -EPROTO;
	*why = "missing object name";
	if (!nlen && op != ARCHIP_OP_FLUSH)
		return -EPROTO;

	io->op = op;
	io->flags = flags;
	io->tag = le64_to_cpu(rq->tag);
	io->off = off;
	io->len = len;
	io->epoch = le32_to_cpu(rq->epoch);
	*data_len = dlen;
	return 0;
}
