// SPDX-License-Identifier: GPL-2.0
// Unit tests of archipctl's code that runs without a kernel; KTAP output.
#include "../argcheck.hpp"
#include "../output.hpp"
#include "../progress.hpp"
#include "../util.hpp"
#include "archip_client.h"

#include <algorithm>
#include <cstdio>
#include <cstddef>
#include <cstring>
#include <endian.h>
#include <functional>
#include <linux/archip-volume.h>
#include <linux/archip.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace archipctl;

static int n, failed;

static void ok(bool cond, const std::string &what)
{
	n++;
	if (!cond)
		failed++;
	std::printf("%sok %d - %s\n", cond ? "" : "not ", n, what.c_str());
}

static bool throws(const std::function<void()> &f, int code)
{
	try {
		f();
	} catch (const Error &e) {
		return e.code == code;
	}
	return false;
}

int main()
{
	std::printf("TAP version 13\n1..64\n");

	// The digests' CRC-32C: the standard's check value and RFC 3720's
	// vectors (B.4), whole and in pieces.
	{
		uint8_t z[32] = {}, f[32], inc[32];

		for (int i = 0; i < 32; i++) {
			f[i] = 0xff;
			inc[i] = i;
		}
		ok(archip_crc32c("123456789", 9) == ARCHIP_CRC32C_CHECK,
		   "crc32c of 123456789 is the standard's check value");
		ok(archip_crc32c(z, 32) == 0x8a9136aa && archip_crc32c(f, 32) == 0x62a8ab43 &&
		   archip_crc32c(inc, 32) == 0x46dd794e, "crc32c of RFC 3720's vectors");
		std::vector<uint8_t> big(100003);
		for (size_t i = 0; i < big.size(); i++)
			big[i] = i * 7919 >> 3;
		uint32_t c = ARCHIP_CRC32C_INIT;
		for (size_t at = 0; at < big.size(); at += 1 + at % 4099)
			c = archip_crc32c_update(c, &big[at],
						 std::min<size_t>(1 + at % 4099, big.size() - at));
		ok(~c == archip_crc32c(big.data(), big.size()),
		   "crc32c in unaligned pieces equals crc32c of the whole");
	}
	ok(archip_vol_name_reserved("w") && archip_vol_name_reserved("q7") &&
	   archip_vol_name_reserved("q1023") && !archip_vol_name_reserved("q") &&
	   !archip_vol_name_reserved("qa") && !archip_vol_name_reserved("wx") &&
	   !archip_vol_name_reserved("vm1"),
	   "volume names whose lock would read as a lock's helper file are reserved");

	auto hp = parse_hostport("10.0.0.1:7000", 7890);
	ok(hp.host == "10.0.0.1" && hp.port == 7000, "host:port parsed");
	hp = parse_hostport("storage1", 7890);
	ok(hp.host == "storage1" && hp.port == 7890, "host alone gets the default port");
	ok(throws([] { parse_hostport("h:0", 1); }, EXIT_USAGE), "port 0 refused");
	ok(throws([] { parse_hostport("h:65536", 1); }, EXIT_USAGE), "port 65536 refused");
	ok(throws([] { parse_hostport("h:12x", 1); }, EXIT_USAGE), "non-numeric port refused");
	ok(throws([] { parse_hostport(":80", 1); }, EXIT_USAGE), "missing host refused");

	ok(parse_size("4096") == 4096, "plain size");
	ok(parse_size("64K") == 65536, "K suffix");
	ok(parse_size("10G") == 10ULL << 30, "G suffix");
	ok(parse_size("1T") == 1ULL << 40, "T suffix");
	ok(throws([] { parse_size("10X"); }, EXIT_USAGE), "unknown unit refused");
	ok(throws([] { parse_size("99999999999999999999"); }, EXIT_USAGE), "overflowing number refused");
	ok(throws([] { parse_size("17179869184T"); }, EXIT_USAGE), "overflowing product refused");
	ok(throws([] { parse_size(""); }, EXIT_USAGE), "empty size refused");

	ok(format_ipv4(parse_ipv4("10.99.0.11")) == "10.99.0.11", "IPv4 round trip");
	ok(throws([] { parse_ipv4("10.99.0"); }, EXIT_USAGE), "bad IPv4 refused");

	ok(to_json(Json("a\"b\\c\n\x01")) == "\"a\\\"b\\\\c\\n\\u0001\"", "JSON escaping");
	Json j = Json::object();
	j["name"] = "vol\"1";
	j["size"] = uint64_t(1) << 40;
	j["list"] = Json::array();
	j["list"].push_back(true);
	ok(to_json(j) == "{\"name\":\"vol\\\"1\",\"size\":1099511627776,\"list\":[true]}",
	   "JSON object dump keeps order and escapes");
	j["size"] = 5;
	ok(to_json(j).find("\"size\":5,") != std::string::npos && text(j.at("size")) == "5",
	   "JSON set replaces a key in place");
	ok(text(Json()) == "-" && text(Json(true)) == "yes" && text(Json("x")) == "x" &&
	   to_json(Json("\xff")) == "\"\xef\xbf\xbd\"",
	   "human text of scalars; bytes that are not UTF-8 are replaced, not thrown");

	ok(sizeof(struct archip_hello) == 80 && sizeof(struct archip_hello_reply) == 160 &&
		   ARCHIP_HELLO_BASE_LEN == 40 && ARCHIP_HELLO_REPLY_BASE_LEN == 96 &&
		   offsetof(struct archip_hello_reply, proof) == 128,
	   "handshake structs have their documented sizes (protocol 3)");
	ok(sizeof(struct archip_auth) == 40 && sizeof(struct archip_auth_reply) == 72,
	   "authentication frames have their documented sizes");
	ok(sizeof(struct archip_req) == 40 && sizeof(struct archip_rep) == 24,
	   "request/reply headers have their documented sizes");
	ok(sizeof(struct archip_stat) == 24, "stat payload has its documented size");

	ok(sizeof(struct archip_vol_hdr) == 1136 && sizeof(struct archip_map_entry) == 8,
	   "volume header and map entry have their documented sizes");

	// The one volume-header check (<linux/archip-volume.h>), as the
	// driver runs it at map time.
	struct archip_vol_hdr good;
	std::memset(&good, 0, sizeof(good));
	good.magic = htole32(ARCHIP_VOL_MAGIC);
	good.version = htole16(ARCHIP_VOL_VERSION);
	good.hdr_size = htole16(ARCHIP_VOL_HDR_SIZE);
	good.size = htole64((10ULL << 20) + 512);
	good.obj_shift = htole32(22);
	good.nr_objs = htole64(3);
	std::strcpy(good.name, "vm1");
	std::strcpy(good.v2.oset, "0123456789abcdef");
	auto bad = [&good](const std::function<void(struct archip_vol_hdr &)> &f,
			   const char *word) {
		struct archip_vol_hdr h = good;
		f(h);
		const char *why = archip_vol_hdr_invalid(&h);
		return why && std::strstr(why, word);
	};
	ok(!archip_vol_hdr_invalid(&good), "a valid volume header passes the check");
	ok(bad([](auto &h) { h.magic = 0; }, "not an archip volume") &&
	   bad([](auto &h) { h.hdr_size = htole16(512); }, "not an archip volume"),
	   "bad magic or header size: not a volume header");
	ok(bad([](auto &h) { h.version = htole16(ARCHIP_VOL_VERSION + 1); }, "upgrade archip"),
	   "an unknown format version says to upgrade");
	ok(bad([](auto &h) { h.obj_shift = htole32(11); }, "impossible") &&
	   bad([](auto &h) { h.obj_shift = htole32(31); }, "impossible"),
	   "object size outside 4K..1G refused");
	ok(bad([](auto &h) { h.size = 0; }, "impossible") &&
	   bad([](auto &h) { h.size = htole64((10ULL << 20) + 100); }, "impossible"),
	   "size 0 or not a multiple of 512 refused");
	ok(bad([](auto &h) { h.nr_objs = htole64(2); }, "impossible") &&
	   bad([](auto &h) { h.nr_objs = htole64(4); }, "impossible"),
	   "object count must be size / object size, rounded up");
	ok(bad([](auto &h) {
		   h.obj_shift = htole32(30);
		   h.size = htole64(~0ULL - 511);
		   h.nr_objs = htole64(0);
	   }, "impossible"),
	   "a size near 2^64 does not wrap the object count to a small number");
	ok(bad([](auto &h) {
		   h.obj_shift = htole32(12);
		   h.size = htole64((ARCHIP_VOL_MAX_OBJS + 1) << 12);
		   h.nr_objs = htole64(ARCHIP_VOL_MAX_OBJS + 1);
	   }, "impossible"),
	   "more than ARCHIP_VOL_MAX_OBJS objects refused");
	ok(bad([](auto &h) {
		   h.version = htole16(ARCHIP_VOL_VERSION_1);
		   h.nr_sources = htole32(ARCHIP_VOL_MAX_SOURCES + 1);
	   }, "impossible"),
	   "v1: more than ARCHIP_VOL_MAX_SOURCES parents refused");
	ok(bad([](auto &h) { h.v2.oset[0] = 0; }, "no object set") &&
	   bad([](auto &h) { h.nr_sources = htole32(1); }, "no object set"),
	   "v2: an object set is required, v1's sources are not allowed");
	{
		struct archip_vol_hdr h = good;
		h.version = htole16(ARCHIP_VOL_VERSION_1);
		std::memset(h.sources, 0, sizeof(h.sources));
		ok(!archip_vol_hdr_invalid(&h), "v1 headers are still valid");
	}
	// Hostile storage: names that run off their fields or are not names,
	// impossible flags, more objects read through the parent than exist.
	ok(bad([](auto &h) { std::memset(h.name, 'a', sizeof(h.name)); }, "name field") &&
	   bad([](auto &h) { h.name[0] = 0; }, "name field") &&
	   bad([](auto &h) { std::strcpy(h.name, "a/b"); }, "name field"),
	   "a name without a NUL, empty, or with a '/' refused");
	ok(bad([](auto &h) { std::memset(h.v2.oset, 'f', sizeof(h.v2.oset)); }, "not a valid name") &&
	   bad([](auto &h) { std::strcpy(h.v2.oset, "../x"); }, "not a valid name") &&
	   bad([](auto &h) { std::memset(h.v2.parent, 'p', sizeof(h.v2.parent)); },
	       "not a valid name") &&
	   bad([](auto &h) { std::strcpy(h.v2.parent, "p.q"); }, "not a valid name"),
	   "v2: a set or parent name without a NUL or with illegal bytes refused");
	ok(bad([](auto &h) {
		   std::strcpy(h.v2.parent, "base");
		   h.v2.parent_objs = htole64(4);
	   }, "through its parent") && !bad([](auto &h) {
		   std::strcpy(h.v2.parent, "base");
		   h.v2.parent_objs = htole64(3);
	   }, ""),
	   "v2: parent_objs above nr_objs refused, equal accepted");
	ok(bad([](auto &h) { h.flags = htole32(ARCHIP_VOL_IMAGE); }, "impossible flags") &&
	   !bad([](auto &h) { h.flags = htole32(ARCHIP_VOL_IMAGE | ARCHIP_VOL_SNAPSHOT); }, ""),
	   "an image that is not a snapshot refused");
	{
		struct archip_vol_hdr h = good;
		h.version = htole16(ARCHIP_VOL_VERSION_1);
		std::memset(h.sources, 0, sizeof(h.sources));
		h.nr_sources = htole32(2);
		std::strcpy(h.sources[0], "a");
		std::strcpy(h.sources[1], "b");
		std::memset(h.sources[2], 'x', sizeof(h.sources[2]));	// unused
		bool valid = !archip_vol_hdr_invalid(&h);
		std::memset(h.sources[1], 'x', sizeof(h.sources[1]));
		ok(valid && archip_vol_hdr_invalid(&h),
		   "v1: the sources in use must be names, those past nr_sources are not read");

		struct archip_map_entry e = {};
		bool v1_ok = !archip_map_entry_invalid(&h, &e);
		e.flags = htole16(ARCHIP_MAP_EXISTS);
		e.source = htole16(2);
		v1_ok = v1_ok && !archip_map_entry_invalid(&h, &e);
		e.source = htole16(3);
		ok(v1_ok && archip_map_entry_invalid(&h, &e),
		   "v1 map entry: sources 0..nr_sources, none beyond");
	}
	{
		struct archip_map_entry e = {};
		e.flags = htole16(ARCHIP_MAP_EXISTS);
		bool fine = !archip_map_entry_invalid(&good, &e);
		e.source = htole16(1);
		bool src = archip_map_entry_invalid(&good, &e);
		e.source = 0;
		e.flags = htole16(ARCHIP_MAP_EXISTS | 4);
		bool flags = archip_map_entry_invalid(&good, &e);
		e.flags = htole16(ARCHIP_MAP_EXISTS);
		e.pad = htole32(1);
		ok(fine && src && flags && archip_map_entry_invalid(&good, &e),
		   "v2 map entry: EXISTS or nothing; a source, unknown flags or pad refused");
	}
	{
		struct archip_vol_hdr p = good;
		p.flags = htole32(ARCHIP_VOL_SNAPSHOT);
		bool fine = !archip_vol_parent_invalid(&good, &p);
		p.flags = 0;
		bool notsnap = archip_vol_parent_invalid(&good, &p);
		p.flags = htole32(ARCHIP_VOL_SNAPSHOT);
		p.obj_shift = htole32(20);
		bool shift = archip_vol_parent_invalid(&good, &p);
		p.obj_shift = good.obj_shift;
		p.version = htole16(ARCHIP_VOL_VERSION_1);
		ok(fine && notsnap && shift && archip_vol_parent_invalid(&good, &p),
		   "a parent must be a v2 snapshot of the same object size");
	}
	ok(offsetof(struct archip_vol_hdr, v2.parent_objs) + 8 <= 512,
	   "v2's set, parent and parent_objs sit in the first sector");

	char name[ARCHIP_VOL_OBJ_NAME_MAX];
	std::string longest(ARCHIP_VOL_NAME_MAX - 1, 'x');
	ok(snprintf(name, sizeof(name), ARCHIP_VOL_DATA_FMT, longest.c_str(), ~0ULL) <
		   (int)sizeof(name) &&
	   snprintf(name, sizeof(name), ARCHIP_VOL_LOCK_FMT, longest.c_str()) < (int)sizeof(name),
	   "ARCHIP_VOL_OBJ_NAME_MAX holds the longest object and lock names");
	snprintf(name, sizeof(name), ARCHIP_VOL_DATA_FMT, "vm1", 42ULL);
	ok(std::string(name) == "d.vm1.000000000000002a", "data object name format");

	ok(human_bytes(0) == "0 B" && human_bytes(512) == "512 B" &&
	   human_bytes(4096) == "4.0 KiB" && human_bytes(3ULL << 29) == "1.5 GiB",
	   "byte counts in binary units");
	ok(human_duration(7) == "0:07" && human_duration(245) == "4:05" &&
	   human_duration(3723) == "1:02:03" && human_duration(-1) == "--:--",
	   "durations as [H:]MM:SS, unknown as --:--");
	ok(Progress::line("import", 512ULL << 20, 1ULL << 30, 4.0) ==
	   "import  512.0 MiB / 1.0 GiB  50%  128.0 MiB/s  ETA 0:04",
	   "progress line: bytes, total, percent, rate, ETA");
	ok(Progress::line("export", 1ULL << 20, 0, 1.0) == "export  1.0 MiB  1.0 MiB/s",
	   "progress line of an unknown total: no percent, no ETA");
	ok(Progress::line("import", 1ULL << 30, 1ULL << 30, 2.0) ==
	   "import  1.0 GiB / 1.0 GiB  100%  512.0 MiB/s",
	   "finished progress line: 100 %, no ETA");
	ok(Progress::line("import", 0, 1ULL << 30, 0) ==
	   "import  0 B / 1.0 GiB  0%  0 B/s  ETA --:--",
	   "progress line before any byte: unknown ETA");
	{
		// Disabled (stderr not a terminal): not a byte on stderr.
		std::fflush(stderr);
		FILE *tmp = std::tmpfile();
		int saved = dup(STDERR_FILENO);
		dup2(fileno(tmp), STDERR_FILENO);
		{
			Progress p("import", 100, false);
			p.add(50);
			p.add(50);
			p.finish();
		}
		std::fflush(stderr);
		dup2(saved, STDERR_FILENO);
		close(saved);
		std::fseek(tmp, 0, SEEK_END);
		ok(std::ftell(tmp) == 0, "no progress output when not on a terminal");
		std::fclose(tmp);
	}

	// Option values checked while parsing: the error names the option,
	// and no command runs (its callback is where state is looked at).
	{
		auto parse = [](std::vector<std::string> args, std::string &err) {
			CLI::App app{"t"};
			std::string size, osz, maxio, listen, servers;
			bool ran = false;
			auto *c = app.add_subcommand("c");
			c->add_option("--size", size)->check(volume_size_arg());
			c->add_option("--object-size", osz)->check(size_arg(4096, 1ULL << 30, "4K-1G", true));
			c->add_option("--max-io", maxio)->check(size_arg(4096, 16ULL << 20, "4K-16M"));
			c->add_option("--listen", listen)->check(hostport_arg(true));
			c->add_option("--server", servers)->check(hostport_list_arg());
			c->callback([&] { ran = true; });
			args.insert(args.begin(), "c");
			std::reverse(args.begin(), args.end());
			err.clear();
			try {
				app.parse(args);
			} catch (const CLI::ParseError &e) {
				err = e.what();
			}
			return ran;
		};
		std::string err;
		ok(parse({"--size", "10G", "--object-size", "4M", "--max-io", "1M", "--listen",
			  "0.0.0.0:7890", "--server", "a,b:7000"}, err) && err.empty(),
		   "good sizes, addresses and server lists pass");
		ok(!parse({"--size", "10Q"}, err) && err.find("--size") != std::string::npos &&
		   err.find("bad size unit") != std::string::npos,
		   "--size 10Q: refused while parsing, naming --size and the units");
		ok(!parse({"--size", "1000"}, err) && err.find("multiple of 512") != std::string::npos,
		   "--size 1000: not a multiple of 512");
		ok(!parse({"--object-size", "3M"}, err) && err.find("--object-size") != std::string::npos &&
		   err.find("power of two in 4K-1G") != std::string::npos,
		   "--object-size 3M: not a power of two, the range named");
		ok(!parse({"--max-io", "32M"}, err) && err.find("--max-io") != std::string::npos &&
		   err.find("4K-16M") != std::string::npos &&
		   !parse({"--max-io", "5000"}, err) && err.find("multiple of 4K") != std::string::npos,
		   "--max-io 32M: out of 4K-16M; 5000: not a multiple of 4K");
		ok(!parse({"--listen", "storage1"}, err) && err.find("--listen") != std::string::npos &&
		   !parse({"--server", "a,b:99999"}, err) && err.find("--server") != std::string::npos &&
		   err.find("PORT 1-65535") != std::string::npos,
		   "--listen needs an IPv4 address; a bad port in a --server list is named");
	}

	std::printf("# %d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
