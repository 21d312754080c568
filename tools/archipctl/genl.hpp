// SPDX-License-Identifier: GPL-2.0
// Generic netlink requests to archip's kernel modules, with libnl-genl-3:
// a request, its reply (if any), and the kernel's extack message turned
// into an Error that names the fix.
#pragma once

#include <functional>
#include <string>

struct nl_sock;
struct nl_msg;
struct nlattr;

namespace archipctl {

class Genl {
public:
	// family: genl family name; module: the module that provides it.
	Genl(const std::string &family, const std::string &module);
	~Genl();
	Genl(const Genl &) = delete;
	Genl &operator=(const Genl &) = delete;

	// A new request for cmd; add attributes with libnl's nla_put_*().
	struct nl_msg *request(int cmd, bool dump = false);
	// Send msg (consumed), wait for the ack; each reply message's
	// attributes (parsed up to maxattr) go to on_reply.
	void call(struct nl_msg *msg, const std::string &what, int maxattr = 0,
		  const std::function<void(struct nlattr **)> &on_reply = nullptr);

private:
	struct nl_sock *sk_ = nullptr;
	int family_ = -1;
	std::string module_;
};

} // namespace archipctl
