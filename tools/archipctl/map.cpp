// SPDX-License-Identifier: GPL-2.0
// archipctl map|unmap|list: volumes as /dev/archipN on this hypervisor.
#include "argcheck.hpp"
#include "commands.hpp"
#include "genl.hpp"
#include "key.hpp"
#include "output.hpp"
#include "util.hpp"
#include "volume.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <netdb.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/archip.h>
#include <linux/archip-netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

namespace archipctl {

namespace {

constexpr const char *MODULE = "archip_blk";

void need_root()
{
	if (geteuid() != 0)
		throw Error("mapping volumes needs root: rerun with sudo", EXIT_ENV);
}

// "host[:port],..." to "A.B.C.D:PORT,..." for the kernel.
std::string resolve_servers(const std::string &list)
{
	std::string outs;

	for (const HostPort &hp : parse_hostport_list(list, ARCHIP_DEFAULT_PORT)) {
		struct addrinfo hints = {}, *ai = nullptr;
		hints.ai_family = AF_INET;
		if (getaddrinfo(hp.host.c_str(), nullptr, &hints, &ai) || !ai)
			throw Error("cannot resolve server '" + hp.host + "' to an IPv4 address",
				    EXIT_USAGE);
		auto *sin = reinterpret_cast<struct sockaddr_in *>(ai->ai_addr);
		outs += (outs.empty() ? "" : ",") + format_ipv4(sin->sin_addr.s_addr) + ":" +
			std::to_string(hp.port);
		freeaddrinfo(ai);
	}
	return outs;
}

struct Dev {
	uint32_t index;
	std::string device, volume, server, state;
	uint64_t size;
	uint32_t epoch;
	uint64_t key_id;
	bool ro;
	bool digest;
	uint64_t digest_errors;
};

std::vector<Dev> list_devs()
{
	Genl nl(ARCHIP_BLK_GENL_NAME, MODULE);
	std::vector<Dev> devs;

	nl.call(nl.request(ARCHIP_BLK_CMD_LIST, true), "list", ARCHIP_BLK_A_MAX,
		[&](struct nlattr **a) {
			Dev d{};
			if (!a[ARCHIP_BLK_A_INDEX])
				return;
			d.index = nla_get_u32(a[ARCHIP_BLK_A_INDEX]);
			d.device = a[ARCHIP_BLK_A_DEVICE] ? nla_get_string(a[ARCHIP_BLK_A_DEVICE]) : "";
			d.volume = a[ARCHIP_BLK_A_VOLUME] ? nla_get_string(a[ARCHIP_BLK_A_VOLUME]) : "";
			d.server = a[ARCHIP_BLK_A_SERVER] ? nla_get_string(a[ARCHIP_BLK_A_SERVER]) : "";
			d.state = a[ARCHIP_BLK_A_STATE] ? nla_get_string(a[ARCHIP_BLK_A_STATE]) : "";
			d.size = a[ARCHIP_BLK_A_SIZE] ? nla_get_u64(a[ARCHIP_BLK_A_SIZE]) : 0;
			d.ro = a[ARCHIP_BLK_A_READ_ONLY] != nullptr;
			d.epoch = a[ARCHIP_BLK_A_EPOCH] ? nla_get_u32(a[ARCHIP_BLK_A_EPOCH]) : 0;
			d.key_id = a[ARCHIP_BLK_A_KEY_ID] ? nla_get_u64(a[ARCHIP_BLK_A_KEY_ID]) : 0;
			d.digest = a[ARCHIP_BLK_A_DIGEST] != nullptr;
			d.digest_errors = a[ARCHIP_BLK_A_DIGEST_ERRORS] ?
					  nla_get_u64(a[ARCHIP_BLK_A_DIGEST_ERRORS]) : 0;
			devs.push_back(d);
		});
	return devs;
}

struct MapOpts {
	std::string volume, servers = default_server(), target;
	bool ro = false, force = false, no_digest = false;
	uint32_t queues = 0, depth = 0, loss = 0, io_timeout = 0;
};

// Where udev runs, 60-archip.rules names the device (/dev/archip/NAME,
// which systemd then sees, and a read-write map keeps it over a read-only
// one); archipctl only waits for it.  Without udev (the lab's VMs) it
// makes the link itself.
bool udev_names()
{
	return access("/run/udev/control", F_OK) == 0;
}

void symlink_name(const std::string &vol, const std::string &dev)
{
	if (udev_names()) {
		if (std::system("udevadm settle --timeout=10 >/dev/null 2>&1"))
			std::cerr << "archipctl: warning: udev has not named /dev/" << dev
				  << " within 10 s\n";
		return;
	}
	mkdir("/dev/archip", 0755);
	std::string link = "/dev/archip/" + vol;
	unlink(link.c_str());
	if (symlink(("../" + dev).c_str(), link.c_str()))
		std::cerr << "archipctl: warning: cannot create " << link << "\n";
}

void map(const MapOpts &o)
{
	need_root();
	check_volume_name(o.volume);
	std::string servers = resolve_servers(o.servers);
	Genl nl(ARCHIP_BLK_GENL_NAME, MODULE);
	uint32_t index = UINT32_MAX;

	// The key first: the device's connections authenticate with it.
	if (!key_opts.insecure) {
		Key k = read_key(key_path());
		struct nl_msg *km = nl.request(ARCHIP_BLK_CMD_KEY);
		nla_put(km, ARCHIP_BLK_A_KEY, k.size(), k.data());
		k.fill(0);
		nl.call(km, "key load");
	}
	struct nl_msg *m = nl.request(ARCHIP_BLK_CMD_MAP);
	if (key_opts.insecure)
		nla_put_flag(m, ARCHIP_BLK_A_INSECURE);

	nla_put_string(m, ARCHIP_BLK_A_VOLUME, o.volume.c_str());
	nla_put_string(m, ARCHIP_BLK_A_SERVERS, servers.c_str());
	if (o.ro)
		nla_put_flag(m, ARCHIP_BLK_A_READ_ONLY);
	if (o.no_digest)
		nla_put_flag(m, ARCHIP_BLK_A_NO_DIGEST);
	if (o.queues)
		nla_put_u32(m, ARCHIP_BLK_A_NR_QUEUES, o.queues);
	if (o.depth)
		nla_put_u32(m, ARCHIP_BLK_A_QUEUE_DEPTH, o.depth);
	if (o.loss)
		nla_put_u32(m, ARCHIP_BLK_A_LOSS_TIMEOUT, o.loss);
	if (o.io_timeout)
		nla_put_u32(m, ARCHIP_BLK_A_IO_TIMEOUT, o.io_timeout);
	nl.call(m, "map " + o.volume, ARCHIP_BLK_A_MAX, [&](struct nlattr **a) {
		if (a[ARCHIP_BLK_A_INDEX])
			index = nla_get_u32(a[ARCHIP_BLK_A_INDEX]);
	});
	std::string dev = "archip" + std::to_string(index);
	symlink_name(o.volume, dev);
	Json j = Json::object();
	j["device"] = "/dev/" + dev;
	j["index"] = index;
	j["volume"] = o.volume;
	out.say(j, "/dev/" + dev + "\n");
}

void unmap(const MapOpts &o)
{
	need_root();
	const std::string &t = o.target;
	for (const auto &d : list_devs()) {
		if (t != d.volume && t != d.device && t != "/dev/" + d.device &&
		    t != std::to_string(d.index) && t != "/dev/archip/" + d.volume)
			continue;
		Genl nl(ARCHIP_BLK_GENL_NAME, MODULE);
		struct nl_msg *m = nl.request(ARCHIP_BLK_CMD_UNMAP);
		nla_put_u32(m, ARCHIP_BLK_A_INDEX, d.index);
		if (o.force)
			nla_put_flag(m, ARCHIP_BLK_A_FORCE);
		nl.call(m, "unmap " + t);
		std::string link = "/dev/archip/" + d.volume;
		if (!udev_names())
			unlink(link.c_str());
		out.say(Json{{"unmapped", "/dev/" + d.device}, {"volume", d.volume}},
			"unmapped /dev/" + d.device + " (" + d.volume + ")\n");
		return;
	}
	throw Error("'" + t + "' is not mapped here (see 'archipctl list')", EXIT_NOT_FOUND);
}

void list()
{
	need_root();
	Json arr = Json::array();
	for (const auto &d : list_devs()) {
		Json j = Json::object();
		j["device"] = "/dev/" + d.device;
		j["volume"] = d.volume;
		j["size"] = d.size;
		j["server"] = d.server;
		j["state"] = d.state;
		j["read_only"] = d.ro;
		j["epoch"] = d.epoch;
		j["key_id"] = d.key_id ? Json(key_id_hex(d.key_id)) : Json(nullptr);
		j["digest"] = d.digest;
		j["digest_errors"] = d.digest_errors;
		arr.push_back(j);
	}
	out.emit(arr, [](const Json &a) {
		std::printf("%-14s %-24s %14s %-21s %-12s %s\n", "DEVICE", "VOLUME", "SIZE",
			    "SERVER", "STATE", "MODE");
		for (const auto &j : a)
			std::printf("%-14s %-24s %14s %-21s %-12s %s\n",
				    text(j.at("device")).c_str(), text(j.at("volume")).c_str(),
				    text(j.at("size")).c_str(), text(j.at("server")).c_str(),
				    text(j.at("state")).c_str(),
				    text(j.at("read_only")) == "yes" ? "ro" : "rw");
	});
}

} // namespace

void setup_map(CLI::App &app)
{
	auto o = std::make_shared<MapOpts>();
	auto *m = app.add_subcommand("map", "map a volume as /dev/archipN (prints the device)");
	m->add_option("volume", o->volume, "volume name")->required();
	m->add_option("--server", o->servers,
		      "object servers HOST[:PORT][,HOST2[:PORT]...] (default $ARCHIP_SERVER)")
		->check(hostport_list_arg());
	m->add_flag("--read-only", o->ro, "map read-only (does not take the volume lock)");
	m->add_flag("--no-digest", o->no_digest,
		    "no crc32c digests on the device's frames (they are on by default)");
	// Ranges as the kernel's policy (blk_netlink.c), checked before anything.
	m->add_option("--queues", o->queues, "hardware queues/connections (default: CPUs, max 16)")
		->check(CLI::Range(1, 16));
	m->add_option("--queue-depth", o->depth, "requests per queue (default 128)")
		->check(CLI::Range(1, 1024));
	m->add_option("--loss-timeout", o->loss,
		      "seconds without a connection before I/O fails (default 120)")
		->check(CLI::Range(1, 3600));
	m->add_option("--io-timeout", o->io_timeout,
		      "seconds before an unanswered request moves to another connection "
		      "(default 30)")
		->check(CLI::Range(1, 3600));
	m->callback([o] { map(*o); });

	auto *u = app.add_subcommand("unmap", "unmap a device (refused while open)");
	u->add_option("device", o->target, "/dev/archipN, N, or the volume name")->required();
	u->add_flag("--force", o->force,
		    "unmap even while open: users of the device get I/O errors");
	u->callback([o] { unmap(*o); });

	app.add_subcommand("list", "list mapped volumes on this node")->callback(list);
}

} // namespace archipctl
