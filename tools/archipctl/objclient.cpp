// SPDX-License-Identifier: GPL-2.0
#include "objclient.hpp"
#include "key.hpp"
#include "util.hpp"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace archipctl {

// How long an ACQUIRE waits for the writers bound at an older epoch.
constexpr uint32_t ACQUIRE_BARRIER_MS = 10000;

ObjClient::ObjClient(const std::string &server) : server_(server)
{
	HostPort hp = parse_hostport(server, ARCHIP_DEFAULT_PORT);

	use_client_key();
	if (archip_client_connect(&c_, hp.host.c_str(), hp.port,
				  static_cast<uint64_t>(getpid()), ARCHIP_FEAT_KNOWN))
		throw Error(std::string(c_.error) +
				    (std::strncmp(c_.error, "cannot", 6) ? "" :
				     " (name a running object server with --server HOST:PORT)"),
			    EXIT_ENV);
}

ObjClient::~ObjClient()
{
	archip_client_close(&c_);
}

int ObjClient::call(uint8_t op, uint16_t flags, const std::string &name, uint64_t off,
		    uint32_t len, const void *data, uint32_t dlen, void *out,
		    size_t outlen, const std::string &what)
{
	int st = archip_client_call(&c_, op, flags, name.empty() ? nullptr : name.c_str(),
				    off, len, data, dlen, out, outlen);
	if (st == -EPROTO && c_.error[0])
		throw Error(what + ": " + c_.error);
	return st;
}

static Error op_error(const std::string &what, int st)
{
	return Error(what + ": " + std::strerror(-st));
}

std::vector<uint8_t> ObjClient::read(const std::string &name, uint64_t off, uint64_t len)
{
	std::vector<uint8_t> buf(len);

	for (uint64_t done = 0; done < len;) {
		uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(len - done, c_.max_io));
		int st = call(ARCHIP_OP_READ, 0, name, off + done, n, nullptr, 0,
			      buf.data() + done, n, "read " + name);
		if (st)
			throw op_error("read " + name, st);
		done += n;
	}
	return buf;
}

void ObjClient::write(const std::string &name, uint64_t off, const void *data,
		      size_t len, bool fua)
{
	const auto *p = static_cast<const uint8_t *>(data);

	for (size_t done = 0; done < len;) {
		uint32_t n = static_cast<uint32_t>(std::min<size_t>(len - done, c_.max_io));
		int st = call(ARCHIP_OP_WRITE, fua ? ARCHIP_REQ_FUA : 0, name, off + done, n,
			      p + done, n, nullptr, 0, "write " + name);
		if (st)
			throw op_error("write " + name, st);
		done += n;
	}
}

bool ObjClient::stat(const std::string &name, uint64_t *size, uint64_t *allocated)
{
	struct archip_stat s;
	int st = call(ARCHIP_OP_STAT, 0, name, 0, 0, nullptr, 0, &s, sizeof(s),
		      "stat " + name);

	if (st)
		throw op_error("stat " + name, st);
	if (size)
		*size = le64toh(s.size);
	if (allocated)
		*allocated = le64toh(s.allocated);
	return le32toh(s.flags) & ARCHIP_STAT_EXISTS;
}

void ObjClient::remove(const std::string &name)
{
	int st = call(ARCHIP_OP_DELETE, 0, name, 0, 0, nullptr, 0, nullptr, 0,
		      "delete " + name);
	if (st)
		throw op_error("delete " + name, st);
}

bool ObjClient::copy(const std::string &src, const std::string &dst, bool *no_src)
{
	int st = call(ARCHIP_OP_COPY, 0, src, 0, 0, dst.data(), static_cast<uint32_t>(dst.size()),
		      nullptr, 0, "copy " + src + " to " + dst);

	if (no_src)
		*no_src = st == -ENOENT;
	if (st == -EEXIST || st == -EBUSY || (no_src && st == -ENOENT))
		return false;
	if (st)
		throw op_error("copy " + src + " to " + dst, st);
	return true;
}

std::vector<std::string> ObjClient::list(const std::string &prefix)
{
	std::vector<std::string> names;
	std::vector<char> buf(c_.max_io);
	uint64_t cursor = 0;

	while (cursor != ARCHIP_LIST_DONE) {
		struct archip_reply rep;
		struct archip_list_rep lr;
		uint64_t tag = c_.next_tag++;

		if (archip_client_send(&c_, ARCHIP_OP_LIST, 0, tag, prefix.c_str(), cursor,
				       c_.max_io, nullptr, 0) ||
		    archip_client_recv(&c_, &rep, buf.data(), buf.size()))
			throw Error("list: " + std::string(c_.error));
		if (rep.status)
			throw op_error("list", rep.status);
		if (rep.data_len < sizeof(lr))
			throw Error("list: short reply from the server");
		std::memcpy(&lr, buf.data(), sizeof(lr));
		cursor = le64toh(lr.cursor);
		for (size_t i = sizeof(lr); i < rep.data_len;) {
			std::string n(buf.data() + i, strnlen(buf.data() + i, rep.data_len - i));
			i += n.size() + 1;
			names.push_back(n);
		}
	}
	return names;
}

bool ObjClient::acquire(const std::string &lock)
{
	struct archip_acquire_rep ar;

	// Already ours: the connection writes under it already.
	for (const auto &h : held_)
		if (h.first == lock)
			return true;
	// A free lock may still have writers bound at an older epoch (an
	// import's connections that just ended): the barrier waits for them.
	int st = call(ARCHIP_OP_ACQUIRE, 0, lock, 0, ACQUIRE_BARRIER_MS, nullptr, 0, &ar,
		      sizeof(ar), "lock " + lock);
	if (st == -EAGAIN)
		return false;
	if (st == -EBUSY)
		throw Error("the volume's previous writers have not ended yet (a storage node "
			    "does not answer?): retry once the cluster has evicted it",
			    EXIT_ENV);
	if (st)
		throw op_error("lock " + lock, st);
	/* Writes under the lock carry its epoch. */
	c_.epoch = le32toh(ar.epoch);
	held_.emplace_back(lock, c_.epoch);
	return true;
}

void ObjClient::release(const std::string &lock)
{
	int st = call(ARCHIP_OP_RELEASE, 0, lock, 0, 0, nullptr, 0, nullptr, 0,
		      "unlock " + lock);
	if (st)
		throw op_error("unlock " + lock, st);
	for (auto it = held_.begin(); it != held_.end(); ++it)
		if (it->first == lock) {
			bool newest = c_.epoch == it->second;
			held_.erase(it);
			if (newest)
				c_.epoch = held_.empty() ? 0 : held_.back().second;
			break;
		}
}

void ObjClient::bind(const std::string &lock, uint32_t epoch, unsigned int slot)
{
	c_.epoch = epoch;
	int st = call(ARCHIP_OP_BIND, 0, lock, slot, 10000, nullptr, 0, nullptr, 0,
		      "bind to " + lock);
	if (st) {
		c_.epoch = 0;
		throw op_error("bind to " + lock + " (another command took the lock?)", st);
	}
}

} // namespace archipctl
