/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small blocking client of the archip object protocol, for the tools,
 * the tests and the fuzzer.  Not thread-safe: one client per thread.
 */
#ifndef ARCHIP_CLIENT_H
#define ARCHIP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/archip.h>

#ifdef __cplusplus
extern "C" {
#endif

struct archip_client {
	int fd;
	uint64_t features;
	uint64_t server_id;
	uint32_t max_io;
	uint32_t max_inflight;
	uint64_t next_tag;
	uint32_t epoch;		/* sent with every request: the held lock's */
	int digest;		/* ARCHIP_FEAT_DIGEST granted: every frame
				 * carries crc32c digests (archip_client_send
				 * and _recv add and check them)
				 */
	char error[160];	/* why the last call failed, for humans */
};

struct archip_reply {
	uint64_t tag;
	int32_t status;
	uint32_t data_len;
};

/* "HOST:PORT" or "HOST" (default port); fills addr. 0 or -1 (error set). */
int archip_parse_server(const char *spec, char *host, size_t hostlen,
			uint16_t *port);

/*
 * The cluster key (Documentation/security.rst).  archip_key_read(): from
 * a key file (64 hex digits, mode 0600), 0 or -1 with err set and errno
 * (ENOENT: no such file).  archip_client_set_key(): every later connect
 * of this process authenticates with it (NULL: none, insecure servers
 * only).  archip_key_id(): the id a key is named by on the wire.
 */
int archip_key_read(const char *path, uint8_t key[ARCHIP_KEY_LEN],
		    char *err, size_t errlen);
void archip_client_set_key(const uint8_t key[ARCHIP_KEY_LEN]);
uint64_t archip_key_id(const uint8_t key[ARCHIP_KEY_LEN]);
/* The id of the key archip_client_set_key() set; 0: none. */
uint64_t archip_client_key_id(void);
#define ARCHIP_KEY_FILE_DEFAULT	"/etc/archip/archip.key"

/* Connect and handshake (authenticated once a key is set).  0, or -1 with
 * c->error set.
 */
int archip_client_connect(struct archip_client *c, const char *host,
			  uint16_t port, uint64_t client_id, uint64_t features);
void archip_client_close(struct archip_client *c);

/* Send one request frame (header, name, payload).  0 or -1. */
int archip_client_send(struct archip_client *c, uint8_t op, uint16_t flags,
		       uint64_t tag, const char *name, uint64_t off,
		       uint32_t len, const void *data, uint32_t data_len);
/* Receive one reply; its payload goes to buf (up to buflen, the rest is
 * an error).  0 or -1.
 */
int archip_client_recv(struct archip_client *c, struct archip_reply *rep,
		       void *buf, size_t buflen);
/* send + recv; returns the reply status (0 or -errno), or -EPROTO with
 * c->error set if the connection failed.
 */
int archip_client_call(struct archip_client *c, uint8_t op, uint16_t flags,
		       const char *name, uint64_t off, uint32_t len,
		       const void *data, uint32_t data_len,
		       void *out, size_t outlen);

/*
 * CRC-32C as the protocol's digests use it (<linux/archip.h>): start
 * with ARCHIP_CRC32C_INIT, update over the bytes, the digest is ~crc.
 * The CPU's crc32 instruction where it has one.
 */
#define ARCHIP_CRC32C_INIT	0xffffffffu
uint32_t archip_crc32c_update(uint32_t crc, const void *buf, size_t len);
static inline uint32_t archip_crc32c(const void *buf, size_t len)
{
	return ~archip_crc32c_update(ARCHIP_CRC32C_INIT, buf, len);
}

int archip_write_all(int fd, const void *buf, size_t len);
int archip_read_all(int fd, void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
