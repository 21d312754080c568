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
std::string data_object(const std::string &vol, uint64_t index);
std::string lock_name(const std::string &vol);

struct Volume {
	std::string name;
	struct archip_vol_hdr hdr;
	std::vector<struct archip_map_entry> map;

	static Volume load(ObjClient &c, const std::string &name, bool with_map);
	void store_header(ObjClient &c);
	uint64_t size() const { return le64toh(hdr.size); }
	uint64_t nr_objs() const { return le64toh(hdr.nr_objs); }
	uint64_t obj_size() const { return 1ULL << le32toh(hdr.obj_shift); }
	uint64_t written() const;
};

} // namespace archipctl
