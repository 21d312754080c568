// SPDX-License-Identifier: GPL-2.0
// archipctl key generate|load|id, and the key every other command uses.
#include "commands.hpp"
#include "genl.hpp"
#include "key.hpp"
#include "output.hpp"
#include "util.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/archip-netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "archip_client.h"

namespace archipctl {

KeyOpts key_opts;

std::string key_path()
{
	if (!key_opts.file.empty())
		return key_opts.file;
	const char *env = std::getenv("ARCHIP_KEY_FILE");
	return env && *env ? env : ARCHIP_KEY_FILE_DEFAULT;
}

Key read_key(const std::string &path)
{
	Key k{};
	char err[512];

	if (archip_key_read(path.c_str(), k.data(), err, sizeof(err)))
		throw Error(std::string(err) + (errno == ENOENT ? ", or pass --insecure" : ""),
			    errno == ENOENT || errno == EPERM ? EXIT_ENV : EXIT_FAIL);
	return k;
}

std::string key_id_hex(uint64_t id)
{
	char buf[17];

	std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
	return buf;
}

void use_client_key()
{
	static bool done;

	if (done || key_opts.insecure)
		return;
	Key k = read_key(key_path());
	archip_client_set_key(k.data());
	k.fill(0);
	done = true;
}

namespace {

struct GenOpts {
	std::string out;
	bool force = false;
};

void generate(const GenOpts &o)
{
	const std::string path = o.out.empty() ? key_path() : o.out;
	Key k{};
	char hex[ARCHIP_KEY_LEN * 2 + 2];

	if (getrandom(k.data(), k.size(), 0) != static_cast<ssize_t>(k.size()))
		throw Error(std::string("getrandom: ") + std::strerror(errno));
	for (size_t i = 0; i < k.size(); i++)
		std::snprintf(hex + 2 * i, 3, "%02x", k[i]);
	hex[k.size() * 2] = '\n';
	hex[k.size() * 2 + 1] = '\0';

	size_t slash = path.rfind('/');
	if (slash != std::string::npos && slash > 0)
		mkdir(path.substr(0, slash).c_str(), 0755);	// e.g. /etc/archip
	int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC |
				    (o.force ? O_TRUNC : O_EXCL), 0600);
	if (fd < 0)
		throw Error("cannot create " + path + ": " + std::strerror(errno) +
			    (errno == EEXIST ? " (a key is there: keep it, or --force to replace it)"
					     : ""));
	bool ok = fchmod(fd, 0600) == 0 &&
		  write(fd, hex, std::strlen(hex)) == static_cast<ssize_t>(std::strlen(hex));
	ok = close(fd) == 0 && ok;
	std::memset(hex, 0, sizeof(hex));
	if (!ok)
		throw Error("cannot write " + path + ": " + std::strerror(errno));
	std::string id = key_id_hex(archip_key_id(k.data()));
	k.fill(0);
	out.say(Json{{"key_file", path}, {"key_id", id}},
		"cluster key " + id + " written to " + path +
			" (mode 600): copy it to every storage node and hypervisor\n");
}

void load()
{
	if (geteuid() != 0)
		throw Error("loading the key needs root: rerun with sudo", EXIT_ENV);
	Key k = read_key(key_path());
	Genl nl(ARCHIP_BLK_GENL_NAME, "archip_blk");
	struct nl_msg *m = nl.request(ARCHIP_BLK_CMD_KEY);
	uint64_t id = 0;

	nla_put(m, ARCHIP_BLK_A_KEY, k.size(), k.data());
	k.fill(0);
	nl.call(m, "key load", ARCHIP_BLK_A_MAX, [&](struct nlattr **a) {
		if (a[ARCHIP_BLK_A_KEY_ID])
			id = nla_get_u64(a[ARCHIP_BLK_A_KEY_ID]);
	});
	out.say(Json{{"key_id", key_id_hex(id)}},
		"cluster key " + key_id_hex(id) +
			" loaded: every new connection of archip_blk authenticates with it\n");
}

void show_id()
{
	Key k = read_key(key_path());
	std::string id = key_id_hex(archip_key_id(k.data()));

	k.fill(0);
	out.say(Json{{"key_file", key_path()}, {"key_id", id}}, id + "\n");
}

} // namespace

void setup_key(CLI::App &app)
{
	auto *key = app.add_subcommand("key", "the cluster key every node authenticates with");
	key->require_subcommand(1);

	auto o = std::make_shared<GenOpts>();
	auto *g = key->add_subcommand("generate",
				      "write a new random key (default: the --key-file path)");
	g->add_option("--out", o->out, "file to write (mode 600)");
	g->add_flag("--force", o->force, "replace an existing key file");
	g->callback([o] { generate(*o); });

	key->add_subcommand("load", "give the key to archip_blk (map does it too); "
				    "later connections, reconnects included, use it")
		->callback(load);
	key->add_subcommand("id", "print the id of the key (what status and logs show)")
		->callback(show_id);
}

} // namespace archipctl
