/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * archip: the generic netlink families of the object server (archip_srv)
 * and the block driver (archip_blk), shared by the kernel modules and
 * archipctl.  Their specs are the YAML files in Documentation/netlink/.
 */
#ifndef _UAPI_LINUX_ARCHIP_NETLINK_H
#define _UAPI_LINUX_ARCHIP_NETLINK_H

/* --------------------------------------------------- netlink (server) */

#define ARCHIP_SRV_GENL_NAME	"archip_srv"
#define ARCHIP_SRV_GENL_VERSION	1

enum archip_srv_cmd {
	ARCHIP_SRV_CMD_UNSPEC,
	ARCHIP_SRV_CMD_START,
	ARCHIP_SRV_CMD_STOP,
	ARCHIP_SRV_CMD_STATUS,
	ARCHIP_SRV_CMD_KEYS,	/* replace the keys: KEY, optional KEY2 */
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
	ARCHIP_SRV_A_KEY,		/* binary, ARCHIP_KEY_LEN: the cluster
					 * key (START, KEYS); never reported
					 */
	ARCHIP_SRV_A_KEY2,		/* binary: a second key accepted too
					 * (a rotation)
					 */
	ARCHIP_SRV_A_INSECURE,		/* flag: START without keys; STATUS:
					 * the server runs so
					 */
	ARCHIP_SRV_A_KEY_ID,		/* u64 (STATUS): the key's id */
	ARCHIP_SRV_A_KEY2_ID,		/* u64 (STATUS) */
	ARCHIP_SRV_A_PAD,
	ARCHIP_SRV_A_ENDED,		/* u32 (KEYS reply): connections ended
					 * because their key was removed
					 */
	ARCHIP_SRV_A_DIGEST_ERRORS,	/* u64 (STATUS): frames received with
					 * a wrong digest (their connections
					 * were closed)
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
	ARCHIP_CONN_A_KEY_ID,		/* u64: the key it authenticated
					 * with (absent: insecure)
					 */
	ARCHIP_CONN_A_DIGEST,		/* flag: its frames carry digests */
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
	ARCHIP_BLK_CMD_KEY,	/* KEY: the key every later connection
				 * authenticates with; reply: KEY_ID
				 */
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
	ARCHIP_BLK_A_KEY,		/* binary, ARCHIP_KEY_LEN (KEY) */
	ARCHIP_BLK_A_KEY_ID,		/* u64: the module's key (KEY reply,
					 * LIST: the key of a device's
					 * connections; absent: insecure)
					 */
	ARCHIP_BLK_A_INSECURE,		/* flag (MAP): never authenticate */
	ARCHIP_BLK_A_NO_DIGEST,		/* flag (MAP): no frame digests */
	ARCHIP_BLK_A_DIGEST,		/* flag (LIST): the device's
					 * connections carry digests
					 */
	ARCHIP_BLK_A_DIGEST_ERRORS,	/* u64 (LIST): replies received with
					 * a wrong digest (each cost a
					 * reconnect and a resend)
					 */
	__ARCHIP_BLK_A_MAX,
};
#define ARCHIP_BLK_A_MAX (__ARCHIP_BLK_A_MAX - 1)

#endif /* _UAPI_LINUX_ARCHIP_NETLINK_H */
