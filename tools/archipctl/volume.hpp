// SPDX-License-Identifier: GPL-2.0
// Volume format helpers shared by the volume and map commands.
#pragma once

#include <algorithm>
#include <cstdint>
#include <endian.h>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <linux/archip-volume.h>

#include "output.hpp"

namespace CLI {
class App;
}

namespace archipctl {

class ObjClient;

std::string default_server();
void check_volume_name(const std::string &name);
std::string header_object(const std::string &vol);
std::string data_object(const std::string &oset, uint64_t index);
std::string map_object(const std::string &oset);
std::string lock_name(const std::string &vol);
std::string snaplock_name(const std::string &vol); // one snapshot request at a time
std::string snapreq_object(const std::string &vol);
std::string manifest_object(const std::string &oset);
std::string content_object(const uint8_t digest[ARCHIP_VOL_DIGEST_SIZE]);
// A fresh object set name: 16 random hex digits.
std::string new_oset();

// The options of the volume commands (one set, shared by the subcommands).
struct VolumeOpts {
	std::string server = default_server();
	std::string name;
	std::string size;
	std::string obj_size = "4M";
	std::string target;	// snapshot, clone: the new volume
	std::string file;	// import, export: the image file, "-": stdin/stdout
	unsigned int timeout = 30;	// snapshot of a mapped volume: seconds
	unsigned int jobs = 4;		// import, export: objects in flight
	bool force = false;
};

// An ancestor's object set, with its map limited to the indices the
// volume below reads through it (ancestors()).
struct Ancestor {
	std::string oset;
	std::vector<struct archip_map_entry> map;
};

// The indices below which @anc may have an object: past it, none has.
inline uint64_t reach(const std::vector<Ancestor> &anc)
{
	uint64_t n = 0;

	for (const auto &a : anc)
		n = std::max<uint64_t>(n, a.map.size());
	return n;
}

struct Volume {
	std::string name;
	struct archip_vol_hdr hdr;
	std::vector<struct archip_map_entry> map;

	// Read and check the header "v.NAME" (and the map: load_map()).
	static Volume load(ObjClient &c, const std::string &name, bool with_map);
	// Read and check the map: only the entries stored, so map.size() may
	// be below nr_objs() (the rest are not written).
	void load_map(ObjClient &c);
	// A new, empty v2 volume (not stored yet).
	static Volume fresh(const std::string &name, uint64_t size, unsigned int shift);
	void set_size(uint64_t size);	// and nr_objs
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
	bool image() const { return flags() & ARCHIP_VOL_IMAGE; }
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
	// The object that holds index @i, read through @anc (its
	// ancestors()); "" if it reads as zeros.
	std::string source(const std::vector<Ancestor> &anc, uint64_t i) const;
};

// The volume's lock keeps hypervisors from mapping it while we change it.
class VolumeLock {
public:
	// @must false: a lock held elsewhere is no error; see held().
	VolumeLock(ObjClient &c, const std::string &vol, const std::string &doing,
		   bool must = true);
	// Another of a volume's locks (snaplock_name()); @busy: the error if
	// it is held elsewhere.
	struct Other {
		std::string lock;
	};
	VolumeLock(ObjClient &c, const Other &lock, const std::string &busy);
	~VolumeLock();
	VolumeLock(const VolumeLock &) = delete;
	VolumeLock &operator=(const VolumeLock &) = delete;
	bool held() const { return held_; }

private:
	ObjClient &c_;
	std::string name_;
	bool held_;
};

uint64_t objects_for(uint64_t size, unsigned int shift);
// Throw if a volume of @size needs more objects than a map can hold.
void check_objects(uint64_t size, unsigned int shift);
void check_size(uint64_t size);
void check_new(ObjClient &c, const std::string &name); // must not exist yet
std::string human_size(uint64_t b);	// "1.5G"
Json volume_json(const Volume &v, bool with_map);
// Calls @fn with every volume on the store (its map too if @with_map).  A
// header removed meanwhile is skipped; one that cannot be read (damaged,
// or of a format this archipctl does not know) throws, naming it: what
// depends on what must never be guessed (remove, prune).  @lenient (list,
// du): skip it with a warning instead.
void for_each_volume(ObjClient &c, bool with_map, const std::function<void(Volume &)> &fn,
		     bool lenient = false);
// @v's ancestors, nearest first (their maps too if @with_maps), checked as
// the driver checks them: each exists, is valid and a v2 snapshot of @v's
// object size; at most ARCHIP_VOL_MAX_DEPTH volumes with @v; no volume
// (a cycle) or object set twice.  Throws, naming what is wrong.
std::vector<Volume> chain(ObjClient &c, const Volume &v, bool with_maps);
// How many volumes @v reads through, itself included.
unsigned int chain_depth(ObjClient &c, const Volume &v);
// @v's ancestors, nearest first, their maps limited to what @v reads
// through them.
std::vector<Ancestor> ancestors(ObjClient &c, const Volume &v);
// Remove the content objects no image lists; returns how many
// (image.cpp).  Removes none while an image is incomplete (an import
// running, or cut short: its contents are listed nowhere yet), naming it
// in @busy.
uint64_t prune_content(ObjClient &c, std::string *busy);
// volume import|export|du (image.cpp), on the volume command @vol.
void setup_image(CLI::App *vol, const std::shared_ptr<VolumeOpts> &o);

} // namespace archipctl
