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
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "archip_client.h"

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

int archip_client_connect(struct archip_client *c, const char *host,
			  uint16_t port, uint64_t client_id, uint64_t features)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
	struct archip_hello h = { 0 };
	struct archip_hello_reply hr;
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
	h.client_id = htole64(client_id);
	if (archip_write_all(c->fd, &h, sizeof(h)) ||
	    archip_read_all(c->fd, &hr, sizeof(hr))) {
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
		fail(c, "server refused the connection: %s", hr.reason);
		archip_client_close(c);
		return -1;
	}
	c->features = le64toh(hr.features);
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
	struct iovec iov[3];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };
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
	iov[0] = (struct iovec){ &rq, sizeof(rq) };
	iov[1] = (struct iovec){ (void *)name, nlen };
	iov[2] = (struct iovec){ (void *)data, data_len };
	total = sizeof(rq) + nlen + data_len;
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

	if (archip_read_all(c->fd, &r, sizeof(r)))
		return fail(c, "connection lost: %s", strerror(errno));
	if (le32toh(r.magic) != ARCHIP_REP_MAGIC)
		return fail(c, "%s", "bad reply magic from the server");
	rep->tag = le64toh(r.tag);
	rep->status = (int32_t)le32toh(r.status);
	rep->data_len = le32toh(r.data_len);
	if (rep->data_len > buflen)
		return fail(c, "%s", "reply payload larger than expected");
	if (rep->data_len && archip_read_all(c->fd, buf, rep->data_len))
		return fail(c, "connection lost: %s", strerror(errno));
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
