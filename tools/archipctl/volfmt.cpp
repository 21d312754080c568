// SPDX-License-Identifier: GPL-2.0
// The volume format as archipctl reads and writes it (<linux/archip-volume.h>,
// Documentation/block-driver.rst "Volume format"): object names, headers,
// maps and their checks, the chain of parents, the volume lock; the
// commands that use them are in volume.cpp and image.cpp.
#include "objclient.hpp"
#include "output.hpp"
#include "util.hpp"
#include "volume.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <new>
#include <random>

namespace archipctl {

std::string default_server()
{
	const char *s = std::getenv("ARCHIP_SERVER");
	return s && *s ? s : "127.0.0.1:7890";
}

void check_volume_name(const std::string &name)
{
	if (name.size() >= ARCHIP_VOL_NAME_MAX || name.find('\0') != std::string::npos ||
	    !archip_vol_name_valid(name.c_str(), name.size() + 1))
		throw Error("bad volume name '" + name + "': use 1-63 letters, digits, _ or -",
			    EXIT_USAGE);
	if (archip_vol_name_reserved(name.c_str()))
		throw Error("volume name '" + name + "' is reserved (lock files are named so): "
			    "choose another", EXIT_USAGE);
}

namespace {

// The names of <linux/archip-volume.h>, for a volume name that
// check_volume_name() accepted.
std::string vol_name(const char *fmt, const std::string &vol, uint64_t index = 0)
{
	char buf[ARCHIP_VOL_OBJ_NAME_MAX];
	snprintf(buf, sizeof(buf), fmt, vol.c_str(), static_cast<unsigned long long>(index));
	return buf;
}

} // namespace

std::string header_object(const std::string &vol) { return vol_name(ARCHIP_VOL_HDR_FMT, vol); }
std::string lock_name(const std::string &vol) { return vol_name(ARCHIP_VOL_LOCK_FMT, vol); }
std::string snaplock_name(const std::string &vol) { return vol_name(ARCHIP_VOL_SNAPLOCK_FMT, vol); }
std::string data_object(const std::string &oset, uint64_t index)
{
	return vol_name(ARCHIP_VOL_DATA_FMT, oset, index);
}
std::string map_object(const std::string &oset) { return vol_name(ARCHIP_VOL_MAP_FMT, oset); }
std::string snapreq_object(const std::string &vol)
{
	return vol_name(ARCHIP_VOL_SNAPREQ_FMT, vol);
}
std::string manifest_object(const std::string &oset)
{
	return vol_name(ARCHIP_VOL_MANIFEST_FMT, oset);
}
std::string content_object(const uint8_t digest[ARCHIP_VOL_DIGEST_SIZE])
{
	std::string hex;
	char b[3];

	for (unsigned int i = 0; i < ARCHIP_VOL_DIGEST_SIZE; i++) {
		snprintf(b, sizeof(b), "%02x", digest[i]);
		hex += b;
	}
	return vol_name(ARCHIP_VOL_CONTENT_FMT, hex);
}

std::string new_oset()
{
	std::random_device rd;
	uint64_t r = (static_cast<uint64_t>(rd()) << 32) | rd();
	char buf[17];

	snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(r));
	return buf;
}

Volume Volume::load(ObjClient &c, const std::string &name, bool with_map)
{
	Volume v;

	check_volume_name(name);
	if (!c.stat(header_object(name)))
		throw Error("volume '" + name + "' does not exist (see 'archipctl volume list')",
			    EXIT_NOT_FOUND);
	auto raw = c.read(header_object(name), 0, sizeof(v.hdr));
	v.hdr = {};	// a short header object reads as zeros past its end
	std::memcpy(&v.hdr, raw.data(), std::min(raw.size(), sizeof(v.hdr)));
	// Sizes and every name (NUL-terminated, valid): nothing below runs
	// off a field or builds an object name from what a corruption left.
	if (const char *why = archip_vol_hdr_invalid(&v.hdr)) {
		std::string msg = "volume '" + name + "': " + why;
		if (le16toh(v.hdr.version) != ARCHIP_VOL_VERSION &&
		    le16toh(v.hdr.version) != ARCHIP_VOL_VERSION_1)
			msg += " (its version is " + std::to_string(le16toh(v.hdr.version)) +
			       ", this archipctl knows " + std::to_string(ARCHIP_VOL_VERSION_1) +
			       " and " + std::to_string(ARCHIP_VOL_VERSION) + ")";
		else
			msg += " (header object " + header_object(name) + ")";
		throw Error(msg);
	}
	v.name = name;
	if (with_map)
		v.load_map(c);
	return v;
}

/*
 * The map as stored: entries past the end of the map object read as zeros
 * (not written), so only what is stored is read, and map.size() may be
 * below nr_objs().  Every entry is checked.
 */
void Volume::load_map(ObjClient &c)
{
	const std::string obj = map_obj();
	uint64_t size = 0, n = 0;

	// Whole entries only: archip writes no less, so a part of one is
	// what a truncation left (and an image's map must hold them all).
	if (c.stat(obj, &size) && size > map_off())
		n = (size - map_off()) / sizeof(map[0]);
	if (const char *why = archip_vol_map_short(&hdr, n))
		throw Error("volume '" + name + "': its map object " + obj + " " + why +
			    ": it holds " + std::to_string(n) + " entries, not " +
			    std::to_string(nr_objs()) + " (corrupted?)");
	n = std::min<uint64_t>(n, nr_objs());
	auto m = c.read(obj, map_off(), n * sizeof(map[0]));
	map.resize(n);
	std::memcpy(map.data(), m.data(), m.size());
	for (uint64_t i = 0; i < n; i++)
		if (const char *why = archip_map_entry_invalid(&hdr, &map[i]))
			throw Error("volume '" + name + "': its map object " + obj +
				    " is damaged: entry " + std::to_string(i) + " " + why +
				    " (corrupted?)");
}

Volume Volume::fresh(const std::string &name, uint64_t size, unsigned int shift)
{
	Volume v;

	v.name = name;
	std::memset(&v.hdr, 0, sizeof(v.hdr));
	v.hdr.magic = htole32(ARCHIP_VOL_MAGIC);
	v.hdr.version = htole16(ARCHIP_VOL_VERSION);
	v.hdr.hdr_size = htole16(ARCHIP_VOL_HDR_SIZE);
	v.hdr.obj_shift = htole32(shift);
	v.hdr.created = htole64(static_cast<uint64_t>(time(nullptr)));
	v.set_size(size);
	std::strncpy(v.hdr.name, name.c_str(), sizeof(v.hdr.name) - 1);
	std::strncpy(v.hdr.v2.oset, new_oset().c_str(), sizeof(v.hdr.v2.oset) - 1);
	return v;
}

void Volume::set_size(uint64_t size)
{
	hdr.size = htole64(size);
	hdr.nr_objs = htole64(objects_for(size, le32toh(hdr.obj_shift)));
}

std::string Volume::source(const std::vector<Ancestor> &anc, uint64_t i) const
{
	if (i < map.size() && (le16toh(map[i].flags) & ARCHIP_MAP_EXISTS)) {
		unsigned int k = le16toh(map[i].source);	// v1: sources[k - 1]

		if (!k)
			return data_object(oset(), i);
		if (v1() && k <= le32toh(hdr.nr_sources))	// checked at load
			return data_object(hdr.sources[k - 1], i);
		throw Error("volume '" + name + "' maps object " + std::to_string(i) +
			    " to a source it does not name: its header is damaged");
	}
	for (const auto &a : anc)
		if (i < a.map.size() && (le16toh(a.map[i].flags) & ARCHIP_MAP_EXISTS))
			return data_object(a.oset, i);
	return "";
}

void Volume::new_set_on(const std::string &parent, uint64_t parent_objs)
{
	std::memset(&hdr.v2, 0, sizeof(hdr.v2));
	std::strncpy(hdr.v2.oset, new_oset().c_str(), sizeof(hdr.v2.oset) - 1);
	std::strncpy(hdr.v2.parent, parent.c_str(), sizeof(hdr.v2.parent) - 1);
	hdr.v2.parent_objs = htole64(parent_objs);
}

uint64_t Volume::written() const
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < map.size(); i++)
		n += owns(i);
	return n;
}

void Volume::store_header(ObjClient &c)
{
	std::vector<uint8_t> buf(ARCHIP_VOL_HDR_SIZE, 0);

	if (const char *why = archip_vol_hdr_invalid(&hdr))
		throw Error("internal error: would write an invalid header for volume '" + name +
			    "': " + why);
	std::memcpy(buf.data(), &hdr, sizeof(hdr));
	c.write(header_object(name), 0, buf.data(), buf.size(), true);
}

VolumeLock::VolumeLock(ObjClient &c, const std::string &vol, const std::string &doing,
		       bool must)
	: c_(c), name_(lock_name(vol))
{
	held_ = c_.acquire(name_);
	if (!held_ && must)
		throw Error("cannot " + doing + " volume '" + vol +
			    "': it is mapped on a hypervisor (unmap it there first: "
			    "archipctl unmap), or another archipctl command is changing "
			    "or reading it (let it finish)");
}

VolumeLock::VolumeLock(ObjClient &c, const Other &lock, const std::string &busy)
	: c_(c), name_(lock.lock)
{
	held_ = c_.acquire(name_);
	if (!held_)
		throw Error(busy);
}

VolumeLock::~VolumeLock()
{
	try {
		if (held_)
			c_.release(name_);
	} catch (...) {
	}
}

uint64_t objects_for(uint64_t size, unsigned int shift)
{
	return (size + (1ULL << shift) - 1) >> shift;
}

// A map larger than ARCHIP_VOL_MAX_OBJS entries is refused by the driver.
void check_objects(uint64_t size, unsigned int shift)
{
	if (objects_for(size, shift) > ARCHIP_VOL_MAX_OBJS)
		throw Error("a volume of " + std::to_string(size) + " bytes needs " +
			    std::to_string(objects_for(size, shift)) + " objects of " +
			    std::to_string(1ULL << shift) + " bytes, more than the " +
			    std::to_string(ARCHIP_VOL_MAX_OBJS) +
			    " a volume can have: use a larger --object-size",
			    EXIT_USAGE);
}

void check_size(uint64_t size)
{
	if (!size || size % 512 || size > (1ULL << 50))
		throw Error("bad volume size: a multiple of 512 bytes, at most 1P", EXIT_USAGE);
}

Json volume_json(const Volume &v, bool with_map)
{
	Json j = Json::object();
	j["name"] = v.name;
	j["size"] = v.size();
	j["object_size"] = v.obj_size();
	j["objects"] = v.nr_objs();
	if (with_map)
		j["objects_written"] = v.written();
	j["snapshot"] = v.snapshot();
	j["image"] = v.image();
	j["incomplete"] = v.incomplete();
	j["parent"] = v.parent();
	j["object_set"] = v.oset();
	j["format"] = le16toh(v.hdr.version);
	j["created"] = static_cast<uint64_t>(le64toh(v.hdr.created));
	return j;
}

std::string human_size(uint64_t b)
{
	const char *u[] = {"B", "K", "M", "G", "T", "P"};
	int i = 0;
	double d = b;
	while (d >= 1024 && i < 5) {
		d /= 1024;
		i++;
	}
	char buf[32];
	snprintf(buf, sizeof(buf), d == static_cast<uint64_t>(d) ? "%.0f%s" : "%.1f%s", d, u[i]);
	return buf;
}

void for_each_volume(ObjClient &c, bool with_map, const std::function<void(Volume &)> &fn,
		     bool lenient)
{
	const std::string prefix = ARCHIP_VOL_HDR_PREFIX;

	for (const auto &obj : c.list(prefix)) {
		Volume v;
		std::string why;
		try {
			v = Volume::load(c, obj.substr(prefix.size()), with_map);
		} catch (const Error &e) {
			if (e.code == EXIT_NOT_FOUND)
				continue;	// removed meanwhile
			why = e.what();
		} catch (const std::bad_alloc &) {
			why = "volume '" + obj.substr(prefix.size()) + "': its map does not fit in memory";
		}
		if (why.empty()) {
			fn(v);
			continue;
		}
		if (!lenient)
			throw Error("cannot read every volume on the store, so cannot tell "
				    "what depends on what: " + why +
				    " (upgrade archipctl if the volume is of a newer "
				    "format, or remove its header object " + obj + ")");
		std::cerr << "archipctl: skipping " << obj << ": " << why << "\n";
	}
}

/*
 * @v's ancestors, nearest first, each checked as the driver checks them:
 * a volume header that exists and is valid, a v2 snapshot of @v's object
 * size, at most ARCHIP_VOL_MAX_DEPTH volumes with @v, no name twice (a
 * cycle: without this check, walking it would never end) and no object
 * set twice.
 */
std::vector<Volume> chain(ObjClient &c, const Volume &v, bool with_maps)
{
	std::vector<Volume> up;
	std::string path = v.name;

	for (std::string p = v.parent(); !p.empty(); p = up.back().parent()) {
		path += " -> " + p;
		if (p == v.name || std::any_of(up.begin(), up.end(),
					       [&](const Volume &a) { return a.name == p; }))
			throw Error("volume '" + v.name + "': its chain of parents loops (" + path +
				    "): a volume header is corrupted");
		if (up.size() + 1 >= ARCHIP_VOL_MAX_DEPTH)
			throw Error("volume '" + v.name + "' reads through more than " +
				    std::to_string(ARCHIP_VOL_MAX_DEPTH - 1) + " parents (" + path +
				    "), more than archip allows: flatten it (archipctl volume "
				    "flatten " + v.name + ")");
		Volume pv;
		try {
			pv = Volume::load(c, p, with_maps);
		} catch (const Error &e) {
			if (e.code == EXIT_NOT_FOUND)
				throw Error("volume '" + v.name + "' reads through '" + p +
					    "', which does not exist (" + path + "): removed by hand, "
					    "or a volume header is corrupted");
			throw Error("volume '" + v.name + "' reads through '" + p +
				    "', which cannot be read: " + e.what());
		}
		if (const char *why = archip_vol_parent_invalid(&v.hdr, &pv.hdr))
			throw Error("volume '" + v.name + "' reads through '" + p + "': " + why +
				    " (" + path + "; a volume header is corrupted?)");
		const std::string &set = pv.oset();
		std::string other = set == v.oset() ? v.name : std::string();
		for (const auto &a : up)
			if (a.oset() == set)
				other = a.name;
		if (!other.empty())
			throw Error("volume '" + v.name + "': '" + p + "' and '" + other + "' in its "
				    "chain (" + path + ") name the same object set " + set +
				    ": a volume header is corrupted");
		up.push_back(std::move(pv));
	}
	return up;
}

unsigned int chain_depth(ObjClient &c, const Volume &v)
{
	return 1 + chain(c, v, false).size();
}

std::vector<Ancestor> ancestors(ObjClient &c, const Volume &v)
{
	std::vector<Ancestor> a;
	uint64_t limit = v.v1() ? 0 : le64toh(v.hdr.v2.parent_objs);

	for (auto &pv : chain(c, v, true)) {
		pv.map.resize(std::min<uint64_t>({pv.map.size(), v.nr_objs(), limit}));
		limit = std::min<uint64_t>(limit, le64toh(pv.hdr.v2.parent_objs));
		a.push_back({pv.oset(), std::move(pv.map)});
	}
	return a;
}

} // namespace archipctl
