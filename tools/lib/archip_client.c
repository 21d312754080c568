// SPDX-License-Identifier: GPL-2.0
/*
 * A small blocking client of the archip object protocol.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "archip_client.h"

/* The process's cluster key (archip_client_set_key): every connect after
 * it authenticates with it.
 */
static uint8_t client_key[ARCHIP_KEY_LEN];
static int client_key_set;

/* ------------------------------------------------------------ crc32c */

static uint32_t crc_table[8][256];

__attribute__((constructor)) static void crc_table_init(void)
{
	uint32_t c;
	int i, j;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
					  crc_table[0][crc_table[j - 1][i] & 0xff];
}

static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t v;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v, p, 8);
		v = le64toh(v) ^ crc;
		crc = crc_table[7][v & 0xff] ^ crc_table[6][(v >> 8) & 0xff] ^
		      crc_table[5][(v >> 16) & 0xff] ^ crc_table[4][(v >> 24) & 0xff] ^
		      crc_table[3][(v >> 32) & 0xff] ^ crc_table[2][(v >> 40) & 0xff] ^
		      crc_table[1][(v >> 48) & 0xff] ^ crc_table[0][v >> 56];
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c, v;

	for (; len && ((uintptr_t)p & 7); len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	c = crc;
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}
#endif

uint32_t archip_crc32c_update(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return crc_hw(crc, buf, len);
#endif
	return crc_sw(crc, buf, len);
}

/* ------------------------------------------------------------ client */

static int fail(struct archip_client *c, const char *fmt, const char *arg)
{
	snprintf(c->error, sizeof(c->error), fmt, arg);
	return -1;
}

int archip_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int archip_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = ECONNRESET;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int archip_parse_server(const char *spec, char *host, size_t hostlen,
			uint16_t *port)
{
	const char *colon = strrchr(spec, ':');
	size_t hl = colon ? (size_t)(colon - spec) : strlen(spec);
	char *end;
	long p;

	if (!hl || hl >= hostlen)
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	*port = ARCHIP_DEFAULT_PORT;
	if (colon) {
		errno = 0;
		p = strtol(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || p < 1 || p > 65535)
			return -1;
		*port = (uint16_t)p;
	}
	return 0;
}

/* HMAC-SHA256(key, label || a || b), as the kernel's auth.h computes it. */
static int auth_hmac(const uint8_t *key, const char *label, const void *a,
		     size_t alen, const void *b, size_t blen,
		     uint8_t out[ARCHIP_PROOF_LEN])
{
	uint8_t buf[512];
	size_t llen = strlen(label);
	unsigned int olen = 0;
	int ok;

	if (llen + alen + blen > sizeof(buf))
		return -1;
	memcpy(buf, label, llen);
	if (alen)
		memcpy(buf + llen, a, alen);
	if (blen)
		memcpy(buf + llen + alen, b, blen);
	ok = HMAC(EVP_sha256(), key, ARCHIP_KEY_LEN, buf, llen + alen + blen,
		  out, &olen) && olen == ARCHIP_PROOF_LEN;
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok ? 0 : -1;
}

uint64_t archip_key_id(const uint8_t key[ARCHIP_KEY_LEN])
{
	uint8_t mac[ARCHIP_PROOF_LEN];
	uint64_t id;

	if (auth_hmac(key, ARCHIP_AUTH_KEY_ID_LABEL, NULL, 0, NULL, 0, mac))
		return 0;
	memcpy(&id, mac, sizeof(id));
	return le64toh(id);
}

int archip_key_read(const char *path, uint8_t key[ARCHIP_KEY_LEN],
		    char *err, size_t errlen)
{
	char text[ARCHIP_KEY_LEN * 2 + 8];
	struct stat st;
	size_t n, i;
	FILE *f;
	int e;

	f = fopen(path, "re");
	if (!f) {
		e = errno;
		snprintf(err, errlen, "cannot read the key file %s: %s%s", path,
			 strerror(e), e == ENOENT ?
			 " (archipctl key generate makes one; copy it to every node)" : "");
		errno = e;
		return -1;
	}
	if (fstat(fileno(f), &st) || (st.st_mode & 077)) {
		fclose(f);
		snprintf(err, errlen, "the key file %s is readable by others: chmod 600 %s",
			 path, path);
		errno = EPERM;
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	for (i = 0; n == ARCHIP_KEY_LEN * 2 && i < ARCHIP_KEY_LEN; i++) {
		unsigned int v;

		if (sscanf(text + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", text[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", text[2 * i + 1]))
			break;
		key[i] = (uint8_t)v;
	}
	OPENSSL_cleanse(text, sizeof(text));
	if (i != ARCHIP_KEY_LEN) {
		OPENSSL_cleanse(key, ARCHIP_KEY_LEN);
		snprintf(err, errlen, "the key file %s does not hold a key (%d hex digits): make one with archipctl key generate",
			 path, ARCHIP_KEY_LEN * 2);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void archip_client_set_key(const uint8_t key[ARCHIP_KEY_LEN])
{
	if (key)
		memcpy(client_key, key, ARCHIP_KEY_LEN);
	else
		OPENSSL_cleanse(client_key, ARCHIP_KEY_LEN);
	client_key_set = !!key;
}

uint64_t archip_client_key_id(void)
{
	return client_key_set ? archip_key_id(client_key) : 0;
}

static const char *refusal(uint16_t status)
{
	switch (status) {
	case ARCHIP_HELLO_NEED_KEY:
		return " (this server needs the cluster key: --key-file)";
	case ARCHIP_HELLO_UNKNOWN_KEY:
		return " (a different cluster key: use the cluster's key file)";
	default:
		return "";
	}
}

/* Our proof after the server's; 0 or -1 with c->error set. */
static int client_auth(struct archip_client *c, const struct archip_hello *h,
		       const struct archip_hello_reply *hr)
{
	struct archip_auth a = { .magic = htole32(ARCHIP_AUTH_MAGIC) };
	uint8_t want[ARCHIP_PROOF_LEN];
	struct archip_auth_reply ar;
	int bad;

	if (!(le64toh(hr->features) & ARCHIP_FEAT_AUTH))
		return fail(c, "%s", "the server did not authenticate (it runs --insecure)");
	if (auth_hmac(client_key, ARCHIP_AUTH_SERVER_LABEL, h, sizeof(*h), hr,
		      offsetof(struct archip_hello_reply, proof), want))
		return fail(c, "%s", "cannot compute HMAC-SHA256");
	bad = CRYPTO_memcmp(want, hr->proof, sizeof(want));
	if (bad)
		return fail(c, "%s", "the server failed to prove the cluster key: not ours (an impostor?)");
	if (auth_hmac(client_key, ARCHIP_AUTH_CLIENT_LABEL, h, sizeof(*h), hr,
		      sizeof(*hr), a.proof))
		return fail(c, "%s", "cannot compute HMAC-SHA256");
	if (archip_write_all(c->fd, &a, sizeof(a)) ||
	    archip_read_all(c->fd, &ar, sizeof(ar)))
		return fail(c, "authentication failed: %s", strerror(errno));
	ar.reason[sizeof(ar.reason) - 1] = '\0';
	if (le32toh(ar.magic) != ARCHIP_AUTH_MAGIC)
		return fail(c, "%s", "the server sent no authentication verdict");
	if (le16toh(ar.status) != ARCHIP_HELLO_OK)
		return fail(c, "server refused our proof of the cluster key: %s", ar.reason);
	return 0;
}

int archip_client_connect(struct archip_client *c, const char *host,
			  uint16_t port, uint64_t client_id, uint64_t features)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	struct archip_hello h = { 0 };
	struct archip_hello_reply hr = { 0 };
	struct addrinfo *ai;
	char portstr[8];
	int one = 1, rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(host, portstr, &hints, &ai);
	if (rc)
		return fail(c, "cannot resolve server address: %s", gai_strerror(rc));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0) {
		freeaddrinfo(ai);
		return fail(c, "socket: %s", strerror(errno));
	}
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen)) {
		rc = errno;
		freeaddrinfo(ai);
		close(c->fd);
		c->fd = -1;
		snprintf(c->error, sizeof(c->error),
			 "cannot connect to %s:%u: %s%s", host, port, strerror(rc),
			 rc == ECONNREFUSED ? " (is 'archipctl server start' running there?)" : "");
		return -1;
	}
	freeaddrinfo(ai);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	h.magic = htole32(ARCHIP_HELLO_MAGIC);
	h.version = htole16(ARCHIP_PROTO_VERSION);
	h.len = htole16(sizeof(h));
	h.features = htole64(features);
	h.required = htole64(client_key_set ? ARCHIP_FEAT_AUTH : 0);
	h.client_id = htole64(client_id);
	h.key_id = htole64(client_key_set ? archip_key_id(client_key) : 0);
	if (getrandom(h.nonce, sizeof(h.nonce), 0) != sizeof(h.nonce)) {
		fail(c, "getrandom: %s", strerror(errno));
		archip_client_close(c);
		return -1;
	}
	/* The part every version sends first: a refusal may end there. */
	if (archip_write_all(c->fd, &h, sizeof(h)) ||
	    archip_read_all(c->fd, &hr, ARCHIP_HELLO_REPLY_BASE_LEN)) {
		fail(c, "handshake failed: %s", strerror(errno));
		archip_client_close(c);
		return -1;
	}
	hr.reason[sizeof(hr.reason) - 1] = '\0';
	if (le32toh(hr.magic) != ARCHIP_HELLO_MAGIC) {
		fail(c, "%s", "the server is not an archip server (bad magic)");
		archip_client_close(c);
		return -1;
	}
	if (le16toh(hr.status) != ARCHIP_HELLO_OK) {
		snprintf(c->error, sizeof(c->error), "server refused the connection: %s%s",
			 hr.reason, refusal(le16toh(hr.status)));
		archip_client_close(c);
		return -1;
	}
	if (archip_read_all(c->fd, (uint8_t *)&hr + ARCHIP_HELLO_REPLY_BASE_LEN,
			    sizeof(hr) - ARCHIP_HELLO_REPLY_BASE_LEN)) {
		fail(c, "handshake failed: %s", strerror(errno));
		archip_client_close(c);
		return -1;
	}
	if (client_key_set && client_auth(c, &h, &hr)) {
		archip_client_close(c);
		return -1;
	}
	c->features = le64toh(hr.features);
	c->digest = !!(features & c->features & ARCHIP_FEAT_DIGEST);
	c->server_id = le64toh(hr.server_id);
	c->max_io = le32toh(hr.max_io);
	c->max_inflight = le32toh(hr.max_inflight);
	c->next_tag = 1;
	return 0;
}

void archip_client_close(struct archip_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int archip_client_send(struct archip_client *c, uint8_t op, uint16_t flags,
		       uint64_t tag, const char *name, uint64_t off,
		       uint32_t len, const void *data, uint32_t data_len)
{
	size_t nlen = name ? strlen(name) : 0;
	struct archip_req rq = { 0 };
	uint32_t hdgst, ddgst;
	size_t dg = c->digest ? ARCHIP_DIGEST_LEN : 0;
	struct iovec iov[5];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 5 };
	size_t total;
	ssize_t n;

	rq.magic = htole32(ARCHIP_REQ_MAGIC);
	rq.op = op;
	rq.flags = htole16(flags);
	rq.tag = htole64(tag);
	rq.off = htole64(off);
	rq.len = htole32(len);
	rq.name_len = htole16((uint16_t)nlen);
	rq.data_len = htole32(data_len);
	rq.epoch = htole32(c->epoch);
	if (dg) {
		hdgst = htole32(archip_crc32c(&rq, sizeof(rq)));
		ddgst = htole32(~archip_crc32c_update(archip_crc32c_update(ARCHIP_CRC32C_INIT,
									   name, nlen),
						      data, data_len));
	}
	iov[0] = (struct iovec){ &rq, sizeof(rq) };
	iov[1] = (struct iovec){ &hdgst, dg };
	iov[2] = (struct iovec){ (void *)name, nlen };
	iov[3] = (struct iovec){ (void *)data, data_len };
	iov[4] = (struct iovec){ &ddgst, nlen + data_len ? dg : 0 };
	total = sizeof(rq) + nlen + data_len + (nlen + data_len ? 2 : 1) * dg;
	while (total) {
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(c, "send failed: %s", strerror(errno));
		total -= n;
		while (msg.msg_iovlen && (size_t)n >= msg.msg_iov[0].iov_len) {
			n -= msg.msg_iov[0].iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov[0].iov_base = (char *)msg.msg_iov[0].iov_base + n;
			msg.msg_iov[0].iov_len -= n;
		}
	}
	return 0;
}

int archip_client_recv(struct archip_client *c, struct archip_reply *rep,
		       void *buf, size_t buflen)
{
	struct archip_rep r;
	uint32_t d;

	if (archip_read_all(c->fd, &r, sizeof(r)) ||
	    (c->digest && archip_read_all(c->fd, &d, sizeof(d))))
		return fail(c, "connection lost: %s", strerror(errno));
	if (c->digest && le32toh(d) != archip_crc32c(&r, sizeof(r)))
		return fail(c, "%s", "reply header digest mismatch (corrupted on the wire?)");
	if (le32toh(r.magic) != ARCHIP_REP_MAGIC)
		return fail(c, "%s", "bad reply magic from the server");
	rep->tag = le64toh(r.tag);
	rep->status = (int32_t)le32toh(r.status);
	rep->data_len = le32toh(r.data_len);
	if (rep->data_len > buflen)
		return fail(c, "%s", "reply payload larger than expected");
	if (rep->data_len && archip_read_all(c->fd, buf, rep->data_len))
		return fail(c, "connection lost: %s", strerror(errno));
	if (c->digest && rep->data_len) {
		if (archip_read_all(c->fd, &d, sizeof(d)))
			return fail(c, "connection lost: %s", strerror(errno));
		if (le32toh(d) != archip_crc32c(buf, rep->data_len))
			return fail(c, "%s", "reply data digest mismatch (corrupted on the wire?)");
	}
	return 0;
}

int archip_client_call(struct archip_client *c, uint8_t op, uint16_t flags,
		       const char *name, uint64_t off, uint32_t len,
		       const void *data, uint32_t data_len,
		       void *out, size_t outlen)
{
	struct archip_reply rep;
	uint64_t tag = c->next_tag++;

	if (archip_client_send(c, op, flags, tag, name, off, len, data, data_len) ||
	    archip_client_recv(c, &rep, out, outlen))
		return -EPROTO;
	if (rep.tag != tag) {
		fail(c, "%s", "reply tag does not match the request");
		return -EPROTO;
	}
	return rep.status;
}
