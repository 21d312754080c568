/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * archip: the object protocol between hypervisors and storage nodes.
 * Shared, unchanged, by the kernel modules and the tools, as are
 * <linux/archip-volume.h> (the volume format and object names) and
 * <linux/archip-netlink.h> (the generic netlink families).
 * Documentation/protocol.rst describes every field; all integers are
 * little-endian, all structures are packed by construction (naturally
 * aligned, explicit padding).
 */
#ifndef _UAPI_LINUX_ARCHIP_H
#define _UAPI_LINUX_ARCHIP_H

#include <linux/types.h>

/* ------------------------------------------------------------------ wire */

#define ARCHIP_HELLO_MAGIC	0x50494843	/* "CHIP" */
#define ARCHIP_REQ_MAGIC	0x51504941	/* "AIPQ" */
#define ARCHIP_REP_MAGIC	0x52504941	/* "AIPR" */
#define ARCHIP_PROTO_VERSION	3	/* 3: authenticated handshake */
#define ARCHIP_DEFAULT_PORT	7890

/* Feature bits, negotiated in the handshake: the server grants the AND. */
#define ARCHIP_FEAT_COPY	(1ULL << 0)	/* server-side COPY */
#define ARCHIP_FEAT_LOCKS	(1ULL << 1)	/* ACQUIRE / RELEASE */
#define ARCHIP_FEAT_LIST	(1ULL << 2)	/* LIST */
#define ARCHIP_FEAT_FENCE	(1ULL << 3)	/* BIND, epochs on requests */
#define ARCHIP_FEAT_AUTH	(1ULL << 4)	/* the handshake authenticates
						 * both sides (granted, never
						 * asked for: see below)
						 */
#define ARCHIP_FEAT_DIGEST	(1ULL << 5)	/* crc32c digests on every
						 * frame after the handshake
						 */
#define ARCHIP_FEAT_KNOWN	(ARCHIP_FEAT_COPY | ARCHIP_FEAT_LOCKS | \
				 ARCHIP_FEAT_LIST | ARCHIP_FEAT_FENCE | \
				 ARCHIP_FEAT_AUTH | ARCHIP_FEAT_DIGEST)

/*
 * Digests (ARCHIP_FEAT_DIGEST granted; Documentation/protocol.rst,
 * "Digests"): each frame after the handshake carries the CRC-32C
 * (Castagnoli, as iSCSI and NVMe/TCP: initial value ~0, final ~, so
 * "123456789" gives 0xe3069283) of its header right after the header,
 * and of the rest of the frame (a request's name and payload, a reply's
 * payload) after it, if there is any rest:
 *
 *   request: archip_req, hdgst, name, payload, ddgst (if name or payload)
 *   reply:   archip_rep, hdgst, payload, ddgst (if payload)
 *
 * each digest an __le32.  A receiver that finds one wrong ends the
 * connection without acting on the frame.
 */
#define ARCHIP_DIGEST_LEN	4
#define ARCHIP_CRC32C_CHECK	0xe3069283	/* of "123456789" */

/*
 * Authentication (Documentation/security.rst): client and server share a
 * cluster key of ARCHIP_KEY_LEN random bytes; a key is named on the wire
 * by its id, the first 8 bytes (little-endian) of
 * HMAC-SHA256(key, ARCHIP_AUTH_KEY_ID_LABEL).  Each side proves it holds
 * the key by an HMAC-SHA256 over the other side's fresh nonce and the
 * whole exchange:
 *
 *   server proof = HMAC(key, ARCHIP_AUTH_SERVER_LABEL || hello ||
 *                            hello_reply up to its proof)
 *   client proof = HMAC(key, ARCHIP_AUTH_CLIENT_LABEL || hello ||
 *                            hello_reply)
 *
 * (labels without their NUL; hello and hello_reply as the structures
 * below, as sent).  The labels differ, so no proof of one side is ever
 * a proof of the other.
 */
#define ARCHIP_KEY_LEN			32
#define ARCHIP_NONCE_LEN		32
#define ARCHIP_PROOF_LEN		32
#define ARCHIP_AUTH_KEY_ID_LABEL	"archip-v3 key id"
#define ARCHIP_AUTH_SERVER_LABEL	"archip-v3 server proof"
#define ARCHIP_AUTH_CLIENT_LABEL	"archip-v3 client proof"
#define ARCHIP_AUTH_MAGIC		0x48545541	/* "AUTH" */

/*
 * Sent first by the client.  max_io and max_inflight are what the client
 * would like; the server answers with the limits that apply (never more).
 */
struct archip_hello {
	__le32 magic;		/* ARCHIP_HELLO_MAGIC */
	__le16 version;		/* ARCHIP_PROTO_VERSION */
	__le16 len;		/* sizeof(struct archip_hello) */
	__le64 features;	/* what the client wants */
	__le64 required;	/* features the client cannot work without */
	__le64 client_id;	/* chosen by the client, shown by the server */
	__le32 max_io;		/* max payload of one request, bytes */
	__le32 max_inflight;	/* max requests in flight on this connection */
	/* Protocol 3 */
	__u8 nonce[ARCHIP_NONCE_LEN];	/* fresh random bytes */
	__le64 key_id;		/* the client's key; 0: it has none */
};

/* The part of a hello every version shares: what a server reads first. */
#define ARCHIP_HELLO_BASE_LEN	40

enum archip_hello_status {
	ARCHIP_HELLO_OK = 0,
	ARCHIP_HELLO_BAD_MAGIC,
	ARCHIP_HELLO_BAD_VERSION,
	ARCHIP_HELLO_BAD_FEATURES,	/* a required feature is missing */
	ARCHIP_HELLO_BAD_LIMITS,
	ARCHIP_HELLO_BUSY,		/* too many connections */
	ARCHIP_HELLO_NEED_KEY,		/* the server authenticates: the
					 * client has no key
					 */
	ARCHIP_HELLO_UNKNOWN_KEY,	/* not one of the server's keys */
	ARCHIP_HELLO_BAD_PROOF,		/* struct archip_auth: wrong proof */
};

#define ARCHIP_REASON_LEN	64

struct archip_hello_reply {
	__le32 magic;		/* ARCHIP_HELLO_MAGIC */
	__le16 version;		/* the server's ARCHIP_PROTO_VERSION */
	__le16 status;		/* enum archip_hello_status */
	__le64 features;	/* granted */
	__le64 server_id;
	__le32 max_io;		/* limits that apply from now on */
	__le32 max_inflight;
	char reason[ARCHIP_REASON_LEN];	/* NUL-terminated, for humans */
	/* Protocol 3; zeros unless ARCHIP_FEAT_AUTH is granted */
	__u8 nonce[ARCHIP_NONCE_LEN];	/* fresh random bytes */
	__u8 proof[ARCHIP_PROOF_LEN];	/* the server's proof */
};

/* The part of a hello reply every version shares. */
#define ARCHIP_HELLO_REPLY_BASE_LEN	96

/*
 * With ARCHIP_FEAT_AUTH granted, the client then sends its proof and the
 * server answers; only after an OK may requests follow.
 */
struct archip_auth {
	__le32 magic;		/* ARCHIP_AUTH_MAGIC */
	__le32 pad;		/* 0 */
	__u8 proof[ARCHIP_PROOF_LEN];
};

struct archip_auth_reply {
	__le32 magic;		/* ARCHIP_AUTH_MAGIC */
	__le16 status;		/* ARCHIP_HELLO_OK or ARCHIP_HELLO_BAD_PROOF */
	__le16 pad;
	char reason[ARCHIP_REASON_LEN];	/* NUL-terminated, for humans */
};

enum archip_op {
	ARCHIP_OP_READ = 1,	/* read len bytes at off; missing data reads 0 */
	ARCHIP_OP_WRITE,	/* write the payload at off; creates the object;
				 * stable (data and metadata) before the reply
				 */
	ARCHIP_OP_FLUSH,	/* name: fsync it; no name: sync the store */
	ARCHIP_OP_DISCARD,	/* punch [off, off+len): reads as zeros */
	ARCHIP_OP_WRITE_ZEROES,	/* same result as DISCARD on this store */
	ARCHIP_OP_DELETE,	/* remove the object; missing is not an error */
	ARCHIP_OP_STAT,		/* reply payload: struct archip_stat */
	ARCHIP_OP_COPY,		/* payload: destination name; reflink or copy */
	ARCHIP_OP_ACQUIRE,	/* exclusive cluster-wide lock named name;
				 * epoch: 0 to take it anew (the epoch grows),
				 * or the epoch held, to take it back after a
				 * lost connection; reply: archip_acquire_rep
				 */
	ARCHIP_OP_RELEASE,
	ARCHIP_OP_LIST,		/* names starting with name, from cursor off;
				 * reply: archip_list_rep, then the names
				 */
	ARCHIP_OP_BIND,		/* this connection writes for lock name at
				 * epoch, in slot off; len: ms to wait for the
				 * slot's previous connection to end
				 */
	ARCHIP_OP_MAX = ARCHIP_OP_BIND,
	/* 13-127 reserved for future ops, 128-255 for experiments */
};

/* WRITE: stable before the reply.  Every WRITE is, since protocol 2; the
 * flag is kept for clients that say so.
 */
#define ARCHIP_REQ_FUA		(1U << 0)
#define ARCHIP_REQ_FLAGS_KNOWN	ARCHIP_REQ_FUA

#define ARCHIP_NAME_MAX		200

/*
 * The one check of an object (or lock) name, for the server and the
 * tools alike: 1 to ARCHIP_NAME_MAX bytes of [A-Za-z0-9._-] (ASCII only),
 * not starting with '.': one path component, never "..", never hidden.
 */
static inline int archip_name_valid(const char *name, unsigned long len)
{
	unsigned long i;

	if (!len || len > ARCHIP_NAME_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/*
 * A request: this header, then name_len bytes of object name, then
 * data_len bytes of payload (WRITE data, COPY destination name).
 */
struct archip_req {
	__le32 magic;		/* ARCHIP_REQ_MAGIC */
	__u8 op;		/* enum archip_op */
	__u8 pad;		/* 0 */
	__le16 flags;		/* ARCHIP_REQ_* */
	__le64 tag;		/* echoed in the reply */
	__le64 off;
	__le32 len;		/* READ/DISCARD/WRITE_ZEROES: range; WRITE: data_len */
	__le16 name_len;	/* 1..ARCHIP_NAME_MAX; 0 only for FLUSH */
	__le16 pad2;		/* 0 */
	__le32 data_len;	/* payload bytes after the name */
	__le32 epoch;		/* the lock epoch the connection is bound to
				 * (BIND, ACQUIRE), 0 on an unbound one
				 */
};

/* A reply: this header, then data_len bytes (READ data, STAT). */
struct archip_rep {
	__le32 magic;		/* ARCHIP_REP_MAGIC */
	__le32 status;		/* 0 or a negative errno, as s32 */
	__le64 tag;
	__le32 data_len;
	__le32 pad;
};

/* The start of a LIST reply; NUL-terminated names follow. */
#define ARCHIP_LIST_DONE	(~0ULL)

struct archip_list_rep {
	__le64 cursor;		/* off of the next LIST; ARCHIP_LIST_DONE: no more */
};

/* The reply to ACQUIRE. */
struct archip_acquire_rep {
	__le32 epoch;		/* the lock's epoch, held from now on */
	__le32 pad;
};

#define ARCHIP_BIND_MAX_SLOT	1023
#define ARCHIP_BIND_MAX_WAIT_MS	120000

/*
 * A lock file's record (its first bytes, on the SAN): the epoch of the
 * lock's current or last holder, grown by each ACQUIRE that takes it anew.
 */
#define ARCHIP_LOCK_MAGIC	0x4b434c41	/* "ALCK" */

/*
 * The lock files behind lock NAME (Documentation/protocol.rst, "Fencing"):
 * NAME itself (the record below), NAME.w (shared by every bound
 * connection, taken exclusively by a new holder as a barrier) and
 * NAME.qSLOT (one per BIND slot).
 */
#define ARCHIP_LOCK_WRITERS_FMT	"%s.w"
#define ARCHIP_LOCK_SLOT_FMT	"%s.q%u"
#define ARCHIP_LOCK_FILE_NAME_MAX	(ARCHIP_NAME_MAX + 8)

struct archip_lock_rec {
	__le32 magic;		/* ARCHIP_LOCK_MAGIC */
	__le32 epoch;
	__le64 client_id;	/* of the holder that took this epoch */
	__le64 time;		/* when, seconds since the epoch */
};

#define ARCHIP_STAT_EXISTS	(1U << 0)

struct archip_stat {
	__le64 size;		/* bytes */
	__le64 allocated;	/* bytes of storage used */
	__le32 flags;		/* ARCHIP_STAT_* */
	__le32 pad;
};

#endif /* _UAPI_LINUX_ARCHIP_H */
