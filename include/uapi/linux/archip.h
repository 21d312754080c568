/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * archip: the object protocol between hypervisors and storage nodes, and
 * the generic netlink family of the object server.  Shared, unchanged, by
 * the kernel modules and the tools.  Documentation/protocol.rst describes
 * every field; all integers are little-endian, all structures are packed
 * by construction (naturally aligned, explicit padding).
 */
#ifndef _UAPI_LINUX_ARCHIP_H
#define _UAPI_LINUX_ARCHIP_H

#include <linux/types.h>

/* ------------------------------------------------------------------ wire */

#define ARCHIP_HELLO_MAGIC	0x50494843	/* "CHIP" */
#define ARCHIP_REQ_MAGIC	0x51504941	/* "AIPQ" */
#define ARCHIP_REP_MAGIC	0x52504941	/* "AIPR" */
#define ARCHIP_PROTO_VERSION	2
#define ARCHIP_DEFAULT_PORT	7890

/* Feature bits, negotiated in the handshake: the server grants the AND. */
#define ARCHIP_FEAT_COPY	(1ULL << 0)	/* server-side COPY */
#define ARCHIP_FEAT_LOCKS	(1ULL << 1)	/* ACQUIRE / RELEASE */
#define ARCHIP_FEAT_LIST	(1ULL << 2)	/* LIST */
#define ARCHIP_FEAT_FENCE	(1ULL << 3)	/* BIND, epochs on requests */
#define ARCHIP_FEAT_KNOWN	(ARCHIP_FEAT_COPY | ARCHIP_FEAT_LOCKS | \
				 ARCHIP_FEAT_LIST | ARCHIP_FEAT_FENCE)

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
};

enum archip_hello_status {
	ARCHIP_HELLO_OK = 0,
	ARCHIP_HELLO_BAD_MAGIC,
	ARCHIP_HELLO_BAD_VERSION,
	ARCHIP_HELLO_BAD_FEATURES,	/* a required feature is missing */
	ARCHIP_HELLO_BAD_LIMITS,
	ARCHIP_HELLO_BUSY,		/* too many connections */
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

/* --------------------------------------------------------------- volumes */

/*
 * A volume is one header object "v.NAME": this header, padded to
 * ARCHIP_VOL_HDR_SIZE, then one struct archip_map_entry per object of the
 * volume.  Data object INDEX of volume NAME is "d.NAME.%016llx".  A map
 * entry with source 0 names the volume's own object; source k > 0 names
 * object INDEX of volume sources[k - 1] (a parent snapshot), read-only:
 * the first write copies it up (COPY) and sets source 0.
 * Entries past the end of the header object read as zeros: not allocated.
 */
#define ARCHIP_VOL_MAGIC	0x4c4f5641	/* "AVOL" */
#define ARCHIP_VOL_VERSION	1
#define ARCHIP_VOL_HDR_SIZE	4096
#define ARCHIP_VOL_NAME_MAX	64		/* including the NUL */
#define ARCHIP_VOL_MAX_SOURCES	16
#define ARCHIP_VOL_DEFAULT_OBJ_SHIFT	22	/* 4 MiB objects */

#define ARCHIP_VOL_SNAPSHOT	(1U << 0)	/* read-only, parent of clones */

struct archip_vol_hdr {
	__le32 magic;		/* ARCHIP_VOL_MAGIC */
	__le16 version;		/* ARCHIP_VOL_VERSION */
	__le16 hdr_size;	/* ARCHIP_VOL_HDR_SIZE: where entries start */
	__le64 size;		/* bytes */
	__le32 obj_shift;	/* log2 of the object size, 12..30 */
	__le32 flags;		/* ARCHIP_VOL_* */
	__le64 nr_objs;		/* DIV_ROUND_UP(size, object size) */
	__le64 created;		/* seconds since the epoch */
	__le32 nr_sources;
	__le32 pad;
	char name[ARCHIP_VOL_NAME_MAX];
	char sources[ARCHIP_VOL_MAX_SOURCES][ARCHIP_VOL_NAME_MAX];
};

#define ARCHIP_MAP_EXISTS	(1U << 0)	/* the object was written */

struct archip_map_entry {
	__le16 source;		/* 0: own object; k: sources[k - 1] */
	__le16 flags;		/* ARCHIP_MAP_* */
	__le32 pad;
};

/* --------------------------------------------------- netlink (server) */

#define ARCHIP_SRV_GENL_NAME	"archip_srv"
#define ARCHIP_SRV_GENL_VERSION	1

enum archip_srv_cmd {
	ARCHIP_SRV_CMD_UNSPEC,
	ARCHIP_SRV_CMD_START,
	ARCHIP_SRV_CMD_STOP,
	ARCHIP_SRV_CMD_STATUS,
	__ARCHIP_SRV_CMD_MAX,
};
#define ARCHIP_SRV_CMD_MAX (__ARCHIP_SRV_CMD_MAX - 1)

enum archip_srv_attr {
	ARCHIP_SRV_A_UNSPEC,
	ARCHIP_SRV_A_ADDR,		/* u32, IPv4, network order */
	ARCHIP_SRV_A_PORT,		/* u16 */
	ARCHIP_SRV_A_ROOT,		/* string: directory of the store */
	ARCHIP_SRV_A_MAX_CONNS,		/* u32 */
	ARCHIP_SRV_A_MAX_IO,		/* u32, bytes */
	ARCHIP_SRV_A_MAX_INFLIGHT,	/* u32, per connection */
	ARCHIP_SRV_A_RUNNING,		/* u8 (status) */
	ARCHIP_SRV_A_CONNS,		/* nest of ARCHIP_SRV_A_CONN (status) */
	ARCHIP_SRV_A_CONN,		/* nest of ARCHIP_CONN_A_* */
	ARCHIP_SRV_A_OPS,		/* nest: per-op counters, ARCHIP_OPS_A_* */
	ARCHIP_SRV_A_ERROR_MSG,		/* string, why START failed */
	ARCHIP_SRV_A_LEASE,		/* u32 seconds: a silent client's
					 * connections (and locks) end
					 */
	__ARCHIP_SRV_A_MAX,
};
#define ARCHIP_SRV_A_MAX (__ARCHIP_SRV_A_MAX - 1)

enum archip_conn_attr {
	ARCHIP_CONN_A_UNSPEC,
	ARCHIP_CONN_A_PEER_ADDR,	/* u32, network order */
	ARCHIP_CONN_A_PEER_PORT,	/* u16 */
	ARCHIP_CONN_A_CLIENT_ID,	/* u64 */
	ARCHIP_CONN_A_INFLIGHT,		/* u32 */
	ARCHIP_CONN_A_REQUESTS,		/* u64 */
	ARCHIP_CONN_A_LOCKS,		/* u32, locks held */
	ARCHIP_CONN_A_PAD,
	ARCHIP_CONN_A_BOUND,		/* string: lock the connection writes for */
	ARCHIP_CONN_A_EPOCH,		/* u32: its epoch */
	__ARCHIP_CONN_A_MAX,
};
#define ARCHIP_CONN_A_MAX (__ARCHIP_CONN_A_MAX - 1)

/* Per-op counters: a nest with one nest per op (attr type = op number). */
enum archip_ops_attr {
	ARCHIP_OPS_A_UNSPEC,
	ARCHIP_OPS_A_COUNT,		/* u64 requests */
	ARCHIP_OPS_A_ERRORS,		/* u64 failed requests */
	ARCHIP_OPS_A_BYTES,		/* u64 payload bytes */
	ARCHIP_OPS_A_PAD,
	__ARCHIP_OPS_A_MAX,
};
#define ARCHIP_OPS_A_MAX (__ARCHIP_OPS_A_MAX - 1)

/* -------------------------------------------------- netlink (block) */

#define ARCHIP_BLK_GENL_NAME	"archip_blk"
#define ARCHIP_BLK_GENL_VERSION	1

enum archip_blk_cmd {
	ARCHIP_BLK_CMD_UNSPEC,
	ARCHIP_BLK_CMD_MAP,	/* reply: INDEX, DEVICE */
	ARCHIP_BLK_CMD_UNMAP,	/* INDEX, optional FORCE */
	ARCHIP_BLK_CMD_LIST,	/* dump: one message per device */
	__ARCHIP_BLK_CMD_MAX,
};
#define ARCHIP_BLK_CMD_MAX (__ARCHIP_BLK_CMD_MAX - 1)

enum archip_blk_attr {
	ARCHIP_BLK_A_UNSPEC,
	ARCHIP_BLK_A_INDEX,		/* u32: N of /dev/archipN */
	ARCHIP_BLK_A_VOLUME,		/* string */
	ARCHIP_BLK_A_SERVERS,		/* string "A.B.C.D:PORT[,...]" */
	ARCHIP_BLK_A_READ_ONLY,		/* flag */
	ARCHIP_BLK_A_NR_QUEUES,		/* u32, 0: one per CPU (max 16) */
	ARCHIP_BLK_A_QUEUE_DEPTH,	/* u32, default 128 */
	ARCHIP_BLK_A_LOSS_TIMEOUT,	/* u32 seconds, default 120 */
	ARCHIP_BLK_A_FORCE,		/* flag (UNMAP while open) */
	ARCHIP_BLK_A_DEVICE,		/* string "archipN" */
	ARCHIP_BLK_A_SIZE,		/* u64 bytes */
	ARCHIP_BLK_A_SERVER,		/* string: the server in use */
	ARCHIP_BLK_A_STATE,		/* string: live, reconnecting, fenced, dead */
	ARCHIP_BLK_A_PAD,
	ARCHIP_BLK_A_IO_TIMEOUT,	/* u32 seconds, default 30 */
	ARCHIP_BLK_A_EPOCH,		/* u32: lock epoch held (LIST) */
	__ARCHIP_BLK_A_MAX,
};
#define ARCHIP_BLK_A_MAX (__ARCHIP_BLK_A_MAX - 1)

#endif /* _UAPI_LINUX_ARCHIP_H */
