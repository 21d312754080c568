// SPDX-License-Identifier: GPL-2.0
#include "genl.hpp"
#include "util.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

namespace archipctl {

namespace {

struct Ctx {
	bool done = false;
	int err = 0;
	std::string extack;
	int maxattr = 0;
	const std::function<void(struct nlattr **)> *on_reply = nullptr;
};

int valid_cb(struct nl_msg *msg, void *arg)
{
	auto *ctx = static_cast<Ctx *>(arg);
	std::vector<struct nlattr *> tb(ctx->maxattr + 1, nullptr);
	struct genlmsghdr *gh = static_cast<struct genlmsghdr *>(
		nlmsg_data(nlmsg_hdr(msg)));

	if (ctx->on_reply && *ctx->on_reply) {
		nla_parse(tb.data(), ctx->maxattr, genlmsg_attrdata(gh, 0),
			  genlmsg_attrlen(gh, 0), nullptr);
		(*ctx->on_reply)(tb.data());
	}
	return NL_OK;
}

int ack_cb(struct nl_msg *, void *arg)
{
	static_cast<Ctx *>(arg)->done = true;
	return NL_STOP;
}

// The kernel's error, with its extack message when it sent one.
int err_cb(struct sockaddr_nl *, struct nlmsgerr *err, void *arg)
{
	auto *ctx = static_cast<Ctx *>(arg);
	auto *nlh = reinterpret_cast<struct nlmsghdr *>(
		reinterpret_cast<char *>(err) - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = {};
	size_t off = sizeof(*err);

	ctx->err = err->error;
	ctx->done = true;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += err->msg.nlmsg_len - NLMSG_HDRLEN;
		if (nlh->nlmsg_len > NLMSG_HDRLEN + off &&
		    !nla_parse(tb, NLMSGERR_ATTR_MAX,
			       reinterpret_cast<struct nlattr *>(
				       reinterpret_cast<char *>(err) + off),
			       nlh->nlmsg_len - NLMSG_HDRLEN - off, nullptr) &&
		    tb[NLMSGERR_ATTR_MSG])
			ctx->extack = nla_get_string(tb[NLMSGERR_ATTR_MSG]);
	}
	return NL_STOP;
}

} // namespace

Genl::Genl(const std::string &family, const std::string &module) : module_(module)
{
	int one = 1;

	sk_ = nl_socket_alloc();
	if (!sk_)
		throw Error("out of memory");
	if (genl_connect(sk_))
		throw Error("cannot open a generic netlink socket", EXIT_ENV);
	setsockopt(nl_socket_get_fd(sk_), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sk_), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	family_ = genl_ctrl_resolve(sk_, family.c_str());
	if (family_ < 0)
		throw Error("the " + module + " module is not loaded: run 'modprobe " +
				    module + "' (as root)",
			    EXIT_ENV);
}

Genl::~Genl()
{
	if (sk_)
		nl_socket_free(sk_);
}

struct nl_msg *Genl::request(int cmd, bool dump)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family_, 0,
				 NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK), cmd, 1))
		throw Error("out of memory");
	return msg;
}

void Genl::call(struct nl_msg *msg, const std::string &what, int maxattr,
		const std::function<void(struct nlattr **)> &on_reply)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	Ctx ctx;
	int rc;

	ctx.maxattr = maxattr;
	ctx.on_reply = &on_reply;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &ctx);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &ctx);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, ack_cb, &ctx);	/* end of a dump */
	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, &ctx);
	rc = nl_send_auto(sk_, msg);
	nlmsg_free(msg);
	if (rc < 0) {
		nl_cb_put(cb);
		throw Error(what + ": cannot send the request: " + nl_geterror(rc));
	}
	while (!ctx.done) {
		rc = nl_recvmsgs(sk_, cb);
		if (rc < 0 && !ctx.done) {
			nl_cb_put(cb);
			throw Error(what + ": " + nl_geterror(rc));
		}
	}
	nl_cb_put(cb);
	if (!ctx.err)
		return;
	if (ctx.err == -EPERM)
		throw Error(what + ": permission denied: run archipctl as root", EXIT_ENV);
	std::string msgtext = ctx.extack.empty() ? strerror(-ctx.err) : ctx.extack;
	throw Error(what + ": " + msgtext,
		    ctx.err == -ENOENT ? EXIT_NOT_FOUND : EXIT_FAIL);
}

} // namespace archipctl
