// SPDX-License-Identifier: GPL-2.0
// Volume format helpers shared by the volume and map commands.
#pragma once

#include <cstdint>
#include <endian.h>
#include <string>
#include <vector>

#include <linux/archip-volume.h>

namespace archipctl {

class ObjClient;

std::string default_server();
void check_volume_name(const std::string &name);
std::string header_object(const std::string &vol);
std::string data_object(const std::string &oset, uint64_t index);
std::string map_object(const std::string &oset);
std::string lock_name(const std::string &vol);
// A fresh object set name: 16 random hex digits.
std::string new_oset();

struct Volume {
	std::string name;
	struct archip_vol_hdr hdr;
	std::vector<struct archip_map_entry> map;

	static Volume load(ObjClient &c, const std::string &name, bool with_map);
	void store_header(ObjClient &c);
	uint64_t size() const { return le64toh(hdr.size); }
	uint64_t nr_objs() const { return le64toh(hdr.nr_objs); }
	uint64_t obj_size() const { return 1ULL << le32toh(hdr.obj_shift); }
	uint64_t written() const;	// objects the volume itself has
	// v2: start on a fresh, empty object set that reads through @parent
	// below index @parent_objs (snapshot, clone, rollback).
	void new_set_on(const std::string &parent, uint64_t parent_objs);

	bool v1() const { return le16toh(hdr.version) == ARCHIP_VOL_VERSION_1; }
	uint32_t flags() const { return le32toh(hdr.flags); }
	bool snapshot() const { return flags() & ARCHIP_VOL_SNAPSHOT; }
	bool incomplete() const { return flags() & ARCHIP_VOL_INCOMPLETE; }
	// The object set: v1 volumes' is their name.
	std::string oset() const { return v1() ? name : std::string(hdr.v2.oset); }
	std::string parent() const { return v1() ? std::string() : std::string(hdr.v2.parent); }
	// Where the volume's own map entries are stored.
	std::string map_obj() const { return v1() ? header_object(name) : map_object(oset()); }
	uint64_t map_off() const { return v1() ? ARCHIP_VOL_HDR_SIZE : 0; }
	// Object @i is the volume's own (written, not a v1 parent's).
	bool owns(uint64_t i) const
	{
		return i < map.size() && (le16toh(map[i].flags) & ARCHIP_MAP_EXISTS) &&
		       !le16toh(map[i].source);
	}
};

} // namespace archipctl
