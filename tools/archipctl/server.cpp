// SPDX-License-Identifier: GPL-2.0
// archipctl server start|stop|status: the object server of this node.
#include "argcheck.hpp"
#include "commands.hpp"
#include "genl.hpp"
#include "key.hpp"
#include "output.hpp"
#include "util.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/archip.h>
#include <linux/archip-netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

namespace archipctl {

namespace {

constexpr const char *MODULE = "archip_srv";
constexpr long OCFS2_MAGIC = 0x7461636f;

const char *const op_names[ARCHIP_OP_MAX + 1] = {
	"", "read", "write", "flush", "discard", "write_zeroes", "delete",
	"stat", "copy", "acquire", "release", "list", "bind",
};

struct StartOpts {
	std::string root;
	std::string listen = "0.0.0.0";
	uint32_t max_conns = 0;
	std::string max_io;
	uint32_t max_inflight = 0;
	uint32_t lease = 0;
	bool any_fs = false;
	std::vector<std::string> accept;	// key files; none: the --key-file
};

// START's or KEYS's keys: the --accept files (1-2), else the key file.
void put_keys(struct nl_msg *m, const std::vector<std::string> &files)
{
	std::vector<std::string> f = files.empty() ? std::vector<std::string>{key_path()} : files;

	if (f.size() > 2)
		throw Error("--accept takes at most two key files (the current and the next)",
			    EXIT_USAGE);
	for (size_t i = 0; i < f.size(); i++) {
		Key k = read_key(f[i]);
		nla_put(m, i ? ARCHIP_SRV_A_KEY2 : ARCHIP_SRV_A_KEY, k.size(), k.data());
		k.fill(0);
	}
}

void need_root()
{
	if (geteuid() != 0)
		throw Error("the object server is managed by root: rerun with sudo", EXIT_ENV);
}

// The kernel checks all of this too; here we can say more precisely
// what to do about it.
void check_root_dir(const std::string &root)
{
	struct stat st;
	struct statfs sfs;

	if (root.empty() || root[0] != '/')
		throw Error("--root must be an absolute path", EXIT_USAGE);
	if (stat(root.c_str(), &st) || !S_ISDIR(st.st_mode))
		throw Error("store root " + root +
			    " is not a directory: create it on the OCFS2 mount (mkdir -p " +
			    root + ")");
	if (statfs(root.c_str(), &sfs) == 0 && sfs.f_type != OCFS2_MAGIC)
		throw Error("store root " + root +
			    " is not on an OCFS2 filesystem: mount the SAN first "
			    "(mount -t ocfs2 -o noopenlocks,nowritelocks DEV MNT)");
}

void start(const StartOpts &o)
{
	need_root();
	check_root_dir(o.root);
	HostPort hp = parse_hostport(o.listen, ARCHIP_DEFAULT_PORT);
	uint32_t addr = parse_ipv4(hp.host);

	Genl nl(ARCHIP_SRV_GENL_NAME, MODULE);
	struct nl_msg *m = nl.request(ARCHIP_SRV_CMD_START);
	nla_put_u32(m, ARCHIP_SRV_A_ADDR, addr);
	nla_put_u16(m, ARCHIP_SRV_A_PORT, hp.port);
	nla_put_string(m, ARCHIP_SRV_A_ROOT, o.root.c_str());
	if (o.max_conns)
		nla_put_u32(m, ARCHIP_SRV_A_MAX_CONNS, o.max_conns);
	if (!o.max_io.empty()) {
		uint64_t v = parse_size(o.max_io);
		if (v > UINT32_MAX)
			throw Error("--max-io is at most 16M", EXIT_USAGE);
		nla_put_u32(m, ARCHIP_SRV_A_MAX_IO, static_cast<uint32_t>(v));
	}
	if (o.max_inflight)
		nla_put_u32(m, ARCHIP_SRV_A_MAX_INFLIGHT, o.max_inflight);
	if (o.lease)
		nla_put_u32(m, ARCHIP_SRV_A_LEASE, o.lease);
	if (key_opts.insecure) {
		if (!o.accept.empty())
			throw Error("--insecure and --accept exclude each other", EXIT_USAGE);
		nla_put_flag(m, ARCHIP_SRV_A_INSECURE);
		std::cerr << "archipctl: warning: --insecure: anyone who can reach "
			  << hp.host << ":" << hp.port
			  << " can read, overwrite and delete every volume\n";
	} else {
		put_keys(m, o.accept);
	}
	nl.call(m, "server start");
	const std::string at = hp.host + ":" + std::to_string(hp.port);

	out.say(Json{{"listening", at}, {"root", o.root}},
		"archip object server listening on " + at + ", store " + o.root + "\n");
}

void stop()
{
	need_root();
	Genl nl(ARCHIP_SRV_GENL_NAME, MODULE);
	nl.call(nl.request(ARCHIP_SRV_CMD_STOP), "server stop");
	out.say(Json{{"stopped", true}}, "archip object server stopped\n");
}

void keys(const std::vector<std::string> &files)
{
	need_root();
	if (key_opts.insecure)
		throw Error("server keys installs keys: --insecure makes no sense here", EXIT_USAGE);
	Genl nl(ARCHIP_SRV_GENL_NAME, MODULE);
	struct nl_msg *m = nl.request(ARCHIP_SRV_CMD_KEYS);
	uint32_t ended = 0;

	put_keys(m, files);
	nl.call(m, "server keys", ARCHIP_SRV_A_MAX, [&](struct nlattr **a) {
		if (a[ARCHIP_SRV_A_ENDED])
			ended = nla_get_u32(a[ARCHIP_SRV_A_ENDED]);
	});
	out.say(Json{{"ended", ended}},
		"keys replaced; " + std::to_string(ended) +
			" connection(s) with a removed key ended (their clients reconnect)\n");
}

uint64_t u64(struct nlattr *a) { return a ? nla_get_u64(a) : 0; }
uint32_t u32(struct nlattr *a) { return a ? nla_get_u32(a) : 0; }

Json status_json(struct nlattr **a)
{
	Json j = Json::object();
	bool running = a[ARCHIP_SRV_A_RUNNING] && nla_get_u8(a[ARCHIP_SRV_A_RUNNING]);

	j["running"] = running;
	if (!running)
		return j;
	j["address"] = format_ipv4(u32(a[ARCHIP_SRV_A_ADDR]));
	j["port"] = static_cast<uint32_t>(a[ARCHIP_SRV_A_PORT] ?
					  nla_get_u16(a[ARCHIP_SRV_A_PORT]) : 0);
	j["root"] = a[ARCHIP_SRV_A_ROOT] ? nla_get_string(a[ARCHIP_SRV_A_ROOT]) : "";
	j["max_conns"] = u32(a[ARCHIP_SRV_A_MAX_CONNS]);
	j["max_io"] = u32(a[ARCHIP_SRV_A_MAX_IO]);
	j["max_inflight"] = u32(a[ARCHIP_SRV_A_MAX_INFLIGHT]);
	j["lease"] = u32(a[ARCHIP_SRV_A_LEASE]);
	Json keys = Json::array();
	if (a[ARCHIP_SRV_A_KEY_ID])
		keys.push_back(key_id_hex(u64(a[ARCHIP_SRV_A_KEY_ID])));
	if (a[ARCHIP_SRV_A_KEY2_ID])
		keys.push_back(key_id_hex(u64(a[ARCHIP_SRV_A_KEY2_ID])));
	j["insecure"] = a[ARCHIP_SRV_A_INSECURE] != nullptr;
	j["keys"] = keys;
	j["digest_errors"] = u64(a[ARCHIP_SRV_A_DIGEST_ERRORS]);

	Json conns = Json::array();
	if (a[ARCHIP_SRV_A_CONNS]) {
		struct nlattr *c;
		int rem;

		nla_for_each_nested(c, a[ARCHIP_SRV_A_CONNS], rem) {
			struct nlattr *t[ARCHIP_CONN_A_MAX + 1] = {};
			Json cj = Json::object();

			nla_parse_nested(t, ARCHIP_CONN_A_MAX, c, nullptr);
			cj["peer"] = format_ipv4(u32(t[ARCHIP_CONN_A_PEER_ADDR])) + ":" +
				     std::to_string(t[ARCHIP_CONN_A_PEER_PORT] ?
						    nla_get_u16(t[ARCHIP_CONN_A_PEER_PORT]) : 0);
			cj["client_id"] = u64(t[ARCHIP_CONN_A_CLIENT_ID]);
			cj["inflight"] = u32(t[ARCHIP_CONN_A_INFLIGHT]);
			cj["requests"] = u64(t[ARCHIP_CONN_A_REQUESTS]);
			cj["locks"] = u32(t[ARCHIP_CONN_A_LOCKS]);
			cj["epoch"] = u32(t[ARCHIP_CONN_A_EPOCH]);
			cj["bound"] = t[ARCHIP_CONN_A_BOUND] ?
				      nla_get_string(t[ARCHIP_CONN_A_BOUND]) : "";
			cj["key_id"] = t[ARCHIP_CONN_A_KEY_ID] ?
				       Json(key_id_hex(u64(t[ARCHIP_CONN_A_KEY_ID]))) : Json(nullptr);
			cj["digest"] = t[ARCHIP_CONN_A_DIGEST] != nullptr;
			conns.push_back(cj);
		}
	}
	j["connections"] = conns;

	Json ops = Json::object();
	if (a[ARCHIP_SRV_A_OPS]) {
		struct nlattr *o;
		int rem;

		nla_for_each_nested(o, a[ARCHIP_SRV_A_OPS], rem) {
			struct nlattr *t[ARCHIP_OPS_A_MAX + 1] = {};
			int op = nla_type(o);
			Json oj = Json::object();

			if (op < 1 || op > ARCHIP_OP_MAX)
				continue;
			nla_parse_nested(t, ARCHIP_OPS_A_MAX, o, nullptr);
			oj["count"] = u64(t[ARCHIP_OPS_A_COUNT]);
			oj["errors"] = u64(t[ARCHIP_OPS_A_ERRORS]);
			oj["bytes"] = u64(t[ARCHIP_OPS_A_BYTES]);
			ops[op_names[op]] = oj;
		}
	}
	j["ops"] = ops;
	return j;
}

void status_human(const Json &j)
{
	if (text(j.at("running")) != "yes") {
		std::cout << "archip object server: not running\n";
		return;
	}
	std::cout << "archip object server: running on " << text(j.at("address")) << ":"
		  << text(j.at("port")) << ", store " << text(j.at("root")) << "\n"
		  << "limits: max_conns " << text(j.at("max_conns")) << ", max_io "
		  << text(j.at("max_io")) << " bytes, max_inflight "
		  << text(j.at("max_inflight")) << " per connection, lease "
		  << text(j.at("lease")) << " s\n";
	if (text(j.at("insecure")) == "yes") {
		std::cout << "authentication: NONE (--insecure)\n";
	} else {
		std::cout << "authentication: key";
		for (const auto &k : j.at("keys"))
			std::cout << " " << text(k);
		std::cout << "\n";
	}
	std::cout << "frames with a wrong digest: " << text(j.at("digest_errors")) << "\n";
	const auto &conns = j.at("connections");
	std::cout << "connections: " << conns.size() << "\n";
	for (const auto &c : conns)
		std::printf("  %-21s client %-20s key %-16s digest %-3s inflight %-4s requests %-10s"
			    " locks %s epoch %s%s%s\n",
			    text(c.at("peer")).c_str(), text(c.at("client_id")).c_str(),
			    text(c.at("key_id")).c_str(), text(c.at("digest")).c_str(),
			    text(c.at("inflight")).c_str(), text(c.at("requests")).c_str(),
			    text(c.at("locks")).c_str(), text(c.at("epoch")).c_str(),
			    text(c.at("bound")).empty() ? "" : " bound ",
			    text(c.at("bound")).c_str());
	std::printf("%-14s %12s %8s %16s\n", "op", "count", "errors", "bytes");
	for (int op = 1; op <= ARCHIP_OP_MAX; op++) {
		const Json &ops = j.at("ops");
		if (ops.contains(op_names[op])) {
			const Json &o = ops.at(op_names[op]);
			std::printf("%-14s %12s %8s %16s\n", op_names[op],
				    text(o.at("count")).c_str(), text(o.at("errors")).c_str(),
				    text(o.at("bytes")).c_str());
		}
	}
}

void status()
{
	need_root();
	Genl nl(ARCHIP_SRV_GENL_NAME, MODULE);
	Json j;

	nl.call(nl.request(ARCHIP_SRV_CMD_STATUS), "server status", ARCHIP_SRV_A_MAX,
		[&](struct nlattr **a) { j = status_json(a); });
	out.emit(j, status_human);
}

} // namespace

void setup_server(CLI::App &app)
{
	auto *srv = app.add_subcommand("server", "the object server of this storage node");
	srv->require_subcommand(1);

	auto o = std::make_shared<StartOpts>();
	auto *st = srv->add_subcommand("start", "start serving objects stored under --root");
	st->add_option("--root", o->root, "store directory on the OCFS2 mount")->required();
	st->add_option("--listen", o->listen, "IPv4 ADDR[:PORT] to listen on (default 0.0.0.0:7890)")
		->check(hostport_arg(true));
	// Ranges as the kernel's policy (srv_netlink.c), checked before anything.
	st->add_option("--max-conns", o->max_conns, "connection limit (1-4096, default 1024)")
		->check(CLI::Range(1, 4096));
	st->add_option("--max-io", o->max_io, "largest request payload (4K-16M, default 1M)")
		->check(size_arg(4096, 16ULL << 20, "4K-16M"));
	st->add_option("--max-inflight", o->max_inflight,
		       "requests in flight per connection (1-1024, default 128)")
		->check(CLI::Range(1, 1024));
	st->add_option("--lease", o->lease,
		       "seconds after which a silent client's connections and locks end "
		       "(3-3600, default 20)")
		->check(CLI::Range(3, 3600));
	st->add_option("--accept", o->accept,
		       "key files to accept (at most two: during a rotation, the current and "
		       "the next; default: the --key-file)");
	st->callback([o] { start(*o); });

	auto acc = std::make_shared<std::vector<std::string>>();
	auto *ks = srv->add_subcommand("keys", "replace the keys of the running server: "
					       "connections with a removed key end");
	ks->add_option("--accept", *acc, "key files to accept (one or two)")->expected(1, 2);
	ks->callback([acc] { keys(*acc); });

	srv->add_subcommand("stop", "stop the server; connected clients are disconnected")
		->callback(stop);
	srv->add_subcommand("status", "show the server, its connections and per-op counters")
		->callback(status);
}

} // namespace archipctl
