// SPDX-License-Identifier: GPL-2.0
// The object protocol from archipctl: a thin C++ face of tools/lib's
// archip_client that throws Error with a message naming the fix.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "archip_client.h"

namespace archipctl {

class ObjClient {
public:
	explicit ObjClient(const std::string &server); // HOST[:PORT]
	~ObjClient();
	ObjClient(const ObjClient &) = delete;
	ObjClient &operator=(const ObjClient &) = delete;

	std::vector<uint8_t> read(const std::string &name, uint64_t off, uint64_t len);
	void write(const std::string &name, uint64_t off, const void *data, size_t len,
		   bool fua);
	bool stat(const std::string &name, uint64_t *size = nullptr,
		  uint64_t *allocated = nullptr);
	void remove(const std::string &name);
	// COPY (a reflink on OCFS2; atomic: @dst appears whole or not at
	// all).  false if @dst exists already, or another COPY to it is
	// running; and, with @no_src, if @src does not exist (*no_src set).
	bool copy(const std::string &src, const std::string &dst, bool *no_src = nullptr);
	std::vector<std::string> list(const std::string &prefix);
	// Locks (Documentation/protocol.rst, "Fencing"): every change to a
	// volume's objects carries the epoch of a lock the connection holds
	// (acquire) or is bound to (bind), or the server refuses it.
	bool acquire(const std::string &lock); // false: held elsewhere
	void release(const std::string &lock);
	// Write for @lock, held by another connection at @epoch, in @slot.
	void bind(const std::string &lock, uint32_t epoch, unsigned int slot);
	uint32_t epoch() const { return c_.epoch; }
	const std::string &server() const { return server_; }

private:
	int call(uint8_t op, uint16_t flags, const std::string &name, uint64_t off,
		 uint32_t len, const void *data, uint32_t dlen, void *out, size_t outlen,
		 const std::string &what);
	struct archip_client c_;
	std::string server_;
	// The locks held, oldest first, with their epochs: the connection
	// writes under the newest one's (the server's rule, mirrored).
	std::vector<std::pair<std::string, uint32_t>> held_;
};

} // namespace archipctl
