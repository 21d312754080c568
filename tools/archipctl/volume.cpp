// SPDX-License-Identifier: GPL-2.0
// archipctl volume create|list|info|resize|remove|snapshot|clone|flatten|
// rollback: volumes as objects, through any object server (--server, or
// $ARCHIP_SERVER); the format they read and write is volfmt.cpp's.
#include "argcheck.hpp"
#include "commands.hpp"
#include "objclient.hpp"
#include "output.hpp"
#include "util.hpp"
#include "volume.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <iostream>
#include <memory>
#include <new>
#include <chrono>
#include <random>
#include <thread>

namespace archipctl {
namespace {

using Opts = VolumeOpts;

void create(const Opts &o)
{
	check_volume_name(o.name);
	uint64_t size = parse_size(o.size), osz = parse_size(o.obj_size);
	check_size(size);
	if (osz < (1ULL << ARCHIP_VOL_MIN_OBJ_SHIFT) || osz > (1ULL << ARCHIP_VOL_MAX_OBJ_SHIFT) ||
	    (osz & (osz - 1)))
		throw Error("bad --object-size: a power of two from 4K to 1G", EXIT_USAGE);
	check_objects(size, __builtin_ctzll(osz));
	ObjClient c(o.server);
	VolumeLock lock(c, o.name, "create");
	if (c.stat(header_object(o.name)))
		throw Error("volume '" + o.name + "' already exists");

	Volume v = Volume::fresh(o.name, size, __builtin_ctzll(osz));
	v.store_header(c);
	out.say(volume_json(v, false), "created volume " + o.name + ": " + human_size(size) + ", " +
		std::to_string(v.nr_objs()) + " objects of " + human_size(osz) + "\n");
}

} // namespace

namespace {

std::string kind(const Json &v)
{
	std::string k = v.at("image").get<bool>() ? "image" :
			 v.at("snapshot").get<bool>() ? "snapshot" : "volume";

	return v.at("incomplete").get<bool>() ? k + " (incomplete)" : k;
}

void list(const Opts &o)
{
	ObjClient c(o.server);
	Json arr = Json::array();

	for_each_volume(c, true, [&](Volume &v) { arr.push_back(volume_json(v, true)); }, true);
	out.emit(arr, [](const Json &a) {
		std::printf("%-24s %10s %8s %16s  %-24s %s\n", "NAME", "SIZE", "OBJSIZE",
			    "WRITTEN/OBJECTS", "PARENT", "KIND");
		for (const auto &v : a) {
			std::string parent = text(v.at("parent"));
			std::printf("%-24s %10s %8s %16s  %-24s %s\n", text(v.at("name")).c_str(),
				    human_size(std::stoull(text(v.at("size")))).c_str(),
				    human_size(std::stoull(text(v.at("object_size")))).c_str(),
				    (text(v.at("objects_written")) + "/" +
				     text(v.at("objects"))).c_str(),
				    parent.empty() ? "-" : parent.c_str(),
				    kind(v).c_str());
		}
	});
}

void info(const Opts &o)
{
	ObjClient c(o.server);
	Volume v = Volume::load(c, o.name, true);
	uint64_t total = 0, a = 0;

	chain(c, v, false);	// a parent missing or damaged: say so

	// What the volume really occupies on the SAN: its header object and
	// every object it owns, as the filesystem reports them.
	c.stat(header_object(o.name), nullptr, &total);
	if (!v.v1() && c.stat(v.map_obj(), nullptr, &a))
		total += a;
	for (uint64_t i = 0; i < v.map.size(); i++)	// past it: none written
		if (v.owns(i) && c.stat(data_object(v.oset(), i), nullptr, &a))
			total += a;
	Json j = volume_json(v, true);
	j["allocated"] = total;
	out.emit(j, [](const Json &j) {
		for (const char *k : {"name", "size", "object_size", "objects",
				      "objects_written", "allocated", "snapshot", "image", "parent",
				      "object_set", "format", "created"})
			std::printf("%-16s %s\n", k, text(j.at(k)).c_str());
	});
}

void resize(const Opts &o)
{
	uint64_t size = parse_size(o.size);
	check_size(size);
	ObjClient c(o.server);
	check_volume_name(o.name);
	VolumeLock lock(c, o.name, "resize");
	Volume v = Volume::load(c, o.name, true);
	unsigned shift = le32toh(v.hdr.obj_shift);
	uint64_t objs = objects_for(size, shift);

	check_objects(size, shift);
	if (v.snapshot())
		throw Error("'" + o.name + "' is a snapshot, which never changes: "
			    "clone it (archipctl volume clone) and resize the clone");

	if (size < v.size() && !o.force)
		throw Error("shrinking volume '" + o.name + "' from " + human_size(v.size()) +
			    " to " + human_size(size) +
			    " destroys the data past the new end: add --force if you mean it");
	if (objs < v.nr_objs()) {
		// Drop the objects past the new end, then their map entries.
		for (uint64_t i = objs; i < v.map.size(); i++)
			if (v.owns(i))
				c.remove(data_object(v.oset(), i));
		// Only those stored: past the map object's end, none is written.
		if (v.map.size() > objs) {
			std::vector<uint8_t> zero((v.map.size() - objs) *
						  sizeof(struct archip_map_entry));
			c.write(v.map_obj(), v.map_off() + objs * sizeof(struct archip_map_entry),
				zero.data(), zero.size(), true);
		}
	}
	v.hdr.size = htole64(size);
	v.hdr.nr_objs = htole64(objs);
	// What a shrink cut off must not come back from the parent.
	if (!v.v1() && objs < le64toh(v.hdr.v2.parent_objs))
		v.hdr.v2.parent_objs = htole64(objs);
	v.store_header(c);
	out.say(volume_json(v, false), "resized volume " + o.name + " to " + human_size(size) + "\n");
}

// The volumes whose parent is @v (@kids), and the others that name @v's
// object set (@sharers): a snapshot cut short after its first step, or a
// header corrupted or copied by hand.  One look at every volume.
void dependents(ObjClient &c, const Volume &v, std::vector<std::string> *kids,
		std::vector<Volume> *sharers)
{
	for_each_volume(c, false, [&](Volume &o) {
		if (o.parent() == v.name && o.name != v.name)	// itself: damaged
			kids->push_back(o.name);
		if (o.name != v.name && o.oset() == v.oset())
			sharers->push_back(o);
	});
	std::sort(kids->begin(), kids->end());
}

std::string join(const std::vector<std::string> &v)
{
	std::string s;
	for (const auto &x : v)
		s += (s.empty() ? "" : ", ") + x;
	return s;
}

void remove(const Opts &o)
{
	ObjClient c(o.server);
	check_volume_name(o.name);
	VolumeLock lock(c, o.name, "remove");
	Volume v = Volume::load(c, o.name, false);
	uint64_t n = 0;
	// A damaged map does not keep a volume: its objects are found by
	// name ("d.OSET." and the index), as an import cut short's are.
	std::string damaged;
	try {
		v.load_map(c);
	} catch (const Error &e) {
		damaged = e.what();
		v.map.clear();
	}

	std::vector<std::string> kids;
	std::vector<Volume> sharers;
	dependents(c, v, &kids, &sharers);
	if (!kids.empty())
		throw Error("cannot remove '" + o.name + "': " + join(kids) +
			    (kids.size() > 1 ? " read" : " reads") +
			    " through it; remove or flatten " +
			    (kids.size() > 1 ? "them" : "it") + " first");
	// A snapshot cut short after its first step shares the volume's set:
	// only its header goes.
	if (v.incomplete() && !sharers.empty()) {
		c.remove(header_object(o.name));
		out.say(Json{{"removed", o.name}, {"objects", 0}},
			"removed the unfinished snapshot " + o.name +
			" (its objects are volume " + sharers[0].name + "'s)\n");
		return;
	}
	// No two whole volumes share a set: one header is corrupted, and
	// removing the set would take the other's data with it.
	for (const auto &s : sharers)
		if (!s.incomplete())
			throw Error("cannot remove '" + o.name + "': its object set " + v.oset() +
				    " is also volume '" + s.name + "'s, so one of their headers is "
				    "corrupted (or was copied by hand), and removing the set would "
				    "destroy '" + s.name + "' too; nothing removed (to drop only '" +
				    o.name + "', remove its header object " +
				    header_object(o.name) + " with archip-obj)");
	if (!v.v1() && !v.incomplete()) {
		// Flagged first: a remove cut short leaves a volume nobody maps
		// or clones, which a second remove finishes.
		v.hdr.flags = htole32(v.flags() | ARCHIP_VOL_INCOMPLETE);
		v.store_header(c);
	}
	for (uint64_t i = 0; i < v.nr_objs(); i++)
		if (v.owns(i)) {
			c.remove(data_object(v.oset(), i));
			n++;
		}
	if (v.image() || !damaged.empty()) {
		// An import cut short wrote no map: its objects are found by
		// name ("d.OSET." and the index).
		std::string prefix = data_object(v.oset(), 0);
		prefix.resize(prefix.size() - 16);
		for (const auto &d : c.list(prefix)) {
			c.remove(d);
			n++;
		}
	}
	if (!v.v1() && c.stat(v.map_obj()))
		c.remove(v.map_obj());
	if (v.image() && c.stat(manifest_object(v.oset())))
		c.remove(manifest_object(v.oset()));
	c.remove(header_object(o.name));
	std::string busy, unpruned;
	uint64_t pruned = 0;
	try {
		pruned = v.image() ? prune_content(c, &busy) : 0;
	} catch (const Error &e) {
		unpruned = e.what();	// removed all the same: say so below
	}
	out.say(Json{{"removed", o.name}, {"objects", n}, {"contents_pruned", pruned}},
		"removed " + std::string(v.image() ? "image " : "volume ") + o.name + " (" +
		std::to_string(n) + " objects" + (pruned ? ", " + std::to_string(pruned) +
		" contents no other image holds" : std::string()) + ")\n");
	if (!damaged.empty())
		std::cerr << "archipctl: " << damaged << ": its objects were found by name\n";
	if (!unpruned.empty())
		std::cerr << "archipctl: the contents no image holds any more are kept: "
			  << unpruned << "\n";
	if (!busy.empty())
		std::cerr << "archipctl: the contents no image holds any more are kept while image '"
			  << busy << "' is incomplete (being imported, or cut short: "
			  << "'archipctl volume remove " << busy << "' removes it)\n";
}

} // namespace

// The header object of @name must not exist yet.
void check_new(ObjClient &c, const std::string &name)
{
	if (c.stat(header_object(name)))
		throw Error("volume '" + name + "' already exists");
}

namespace {

/*
 * VOL is mapped read-write: its holder's driver makes the snapshot, asked
 * through the request object "s.VOL" (Documentation/snapshots.rst), which
 * it looks for each second.  We wait for its answer at most @o.timeout.
 */
void snapshot_mapped(ObjClient &c, const Volume &v, const Opts &o)
{
	// One requester at a time, and its writes of "s.VOL" (and of SNAP's
	// header below) fenced by this lock's epoch.
	VolumeLock req_lock(c, VolumeLock::Other{snaplock_name(o.name)},
			    "another snapshot of volume '" + o.name + "' is being made by its "
			    "holder: let that command finish, then try again");
	if (c.stat(header_object(o.target))) {
		Volume s = Volume::load(c, o.target, false);
		if (!s.incomplete() || (s.oset() != v.oset() && v.parent() != o.target))
			throw Error("volume '" + o.target + "' already exists");
		if (v.parent() == o.target) {
			// Cut short after its second step: only the flag is left.
			s.hdr.flags = htole32(s.flags() & ~ARCHIP_VOL_INCOMPLETE);
			s.store_header(c);
			out.say(volume_json(s, false), "finished snapshot " + o.target +
				" of volume " + o.name + "\n");
			return;
		}
	}

	struct archip_snap_req r = {};
	std::random_device rd;
	const uint64_t nonce = (static_cast<uint64_t>(rd()) << 32) | rd();
	const std::string req = snapreq_object(o.name);

	r.magic = htole32(ARCHIP_SNAPREQ_MAGIC);
	r.state = htole32(ARCHIP_SNAPREQ_PENDING);
	r.nonce = htole64(nonce);
	std::strncpy(r.snap, o.target.c_str(), sizeof(r.snap) - 1);
	std::strncpy(r.oset, new_oset().c_str(), sizeof(r.oset) - 1);
	c.write(req, 0, &r, sizeof(r), true);

	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout);
	for (unsigned int odd = 0;;) {
		auto raw = c.read(req, 0, sizeof(r));
		std::memcpy(&r, raw.data(), sizeof(r));
		const uint32_t state = le32toh(r.state);
		const bool ours = le32toh(r.magic) == ARCHIP_SNAPREQ_MAGIC &&
				  le64toh(r.nonce) == nonce;
		if (ours && (state == ARCHIP_SNAPREQ_DONE || state == ARCHIP_SNAPREQ_FAILED))
			break;
		// Only we write the request (its lock) and the holder answers
		// it: anything else, twice in a row (not a read that raced the
		// answer), is a request corrupted or removed on the store.
		odd = ours && state == ARCHIP_SNAPREQ_PENDING ? 0 : odd + 1;
		if (odd >= 2) {
			try {
				c.remove(req);
			} catch (const Error &) {
			}
			throw Error("volume '" + o.name + "': its snapshot request " + req +
				    " changed on the store while we waited for the holder's answer (" +
				    (!ours ? "not our request any more" : "an unknown state") +
				    "): corrupted or removed?  The holder may or may not have made "
				    "snapshot '" + o.target + "': see 'archipctl volume list', and "
				    "run the command again");
		}
		if (std::chrono::steady_clock::now() > deadline) {
			c.remove(req);
			throw Error("volume '" + o.name + "' is mapped read-write, and its holder did "
				    "not answer the snapshot request within " +
				    std::to_string(o.timeout) + " s (is the hypervisor up?); if it "
				    "answers late the snapshot is made anyway: see "
				    "'archipctl volume list'");
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
	c.remove(req);
	if (le32toh(r.state) != ARCHIP_SNAPREQ_DONE) {
		const int32_t err = static_cast<int32_t>(le32toh(r.error));
		throw Error("the hypervisor holding volume '" + o.name +
			    "' could not make the snapshot: " +
			    (err < 0 && err > -4096 ? std::strerror(-err) : "an impossible error code") +
			    " (its kernel log says why)");
	}
	Volume s = Volume::load(c, o.target, false);
	out.say(volume_json(s, false), "created snapshot " + o.target + " of volume " + o.name +
		" (made by the hypervisor that has it mapped)\n");
}

/*
 * Snapshot (Documentation/snapshots.rst): hand VOL's object set to SNAP and
 * start VOL on an empty one on top of it.  Three writes, each atomic:
 * SNAP marked incomplete, VOL's first sector, SNAP complete.  A run cut
 * short after the first leaves an incomplete SNAP that a second run
 * finishes.
 */
void snapshot(const Opts &o)
{
	ObjClient c(o.server);
	check_volume_name(o.name);
	check_volume_name(o.target);
	if (o.name == o.target)
		throw Error("a snapshot needs a name of its own", EXIT_USAGE);
	VolumeLock lock(c, o.name, "snapshot", false);
	// The new name's lock keeps a concurrent create of it out.  On a
	// connection of its own: a connection writes under one lock's epoch.
	ObjClient c2(o.server);
	VolumeLock slock(c2, o.target, "create");
	// The map too: SNAP would take over a damaged one.
	Volume v = Volume::load(c, o.name, true);

	if (v.v1())
		throw Error("volume '" + o.name + "' has format version 1, which has no snapshots; "
			    "copy it into a new volume to snapshot it");
	if (v.snapshot())
		throw Error("'" + o.name + "' is a snapshot already: clone it (archipctl volume clone)");
	// A new snapshot puts one more parent under the volume (one cut short
	// and run again has it already).
	unsigned int depth = chain_depth(c, v);
	if (depth >= ARCHIP_VOL_MAX_DEPTH && !c.stat(header_object(o.target)))
		throw Error("a snapshot would make '" + o.name + "' read through " +
			    std::to_string(depth) + " parents, and at most " +
			    std::to_string(ARCHIP_VOL_MAX_DEPTH - 1) +
			    " are allowed: flatten it first (archipctl volume flatten " +
			    o.name + ")");
	if (!lock.held()) {
		snapshot_mapped(c, v, o);
		return;
	}

	Volume s;
	bool resume = false, switched = false;
	if (c.stat(header_object(o.target))) {
		s = Volume::load(c, o.target, false);
		// A run cut short after step 1 (SNAP still has VOL's set: redo
		// from step 1, VOL may have changed since) or after step 2 (VOL
		// already reads through SNAP: only step 3 is left).
		switched = s.incomplete() && v.parent() == o.target;
		resume = switched || (s.incomplete() && s.oset() == v.oset());
		if (!resume)
			throw Error("volume '" + o.target + "' already exists");
	}
	if (!switched) {
		// 1. SNAP: VOL's header (set, parent, size), marked incomplete.
		s.name = o.target;
		s.hdr = v.hdr;
		std::memset(s.hdr.name, 0, sizeof(s.hdr.name));
		std::strncpy(s.hdr.name, o.target.c_str(), sizeof(s.hdr.name) - 1);
		s.hdr.flags = htole32(v.flags() | ARCHIP_VOL_SNAPSHOT | ARCHIP_VOL_INCOMPLETE);
		s.hdr.created = htole64(static_cast<uint64_t>(time(nullptr)));
		s.store_header(c);

		// 2. VOL: a fresh, empty set on top of SNAP.
		v.new_set_on(o.target, le64toh(v.hdr.nr_objs));
		v.store_header(c);
	}

	// 3. SNAP is whole.
	s.hdr.flags = htole32(s.flags() & ~ARCHIP_VOL_INCOMPLETE);
	s.store_header(c);
	out.say(volume_json(s, false), (resume ? "finished snapshot " : "created snapshot ") +
		o.target + " of volume " + o.name + "\n");
}

// A clone: one header, reading through SNAP until written.
void clone(const Opts &o)
{
	ObjClient c(o.server);
	check_volume_name(o.name);
	check_volume_name(o.target);
	VolumeLock lock(c, o.target, "create");
	// With the maps: a clone of a damaged snapshot or chain would only be
	// refused later, by the driver.
	Volume s = Volume::load(c, o.name, true);
	unsigned int depth;

	if (!s.snapshot() || s.incomplete())
		throw Error("'" + o.name + "' is not a " + (s.snapshot() ? "whole " : "") +
			    "snapshot: clone a snapshot (archipctl volume snapshot " + o.name +
			    " SNAP makes one)");
	depth = 1 + chain(c, s, true).size();
	if (depth >= ARCHIP_VOL_MAX_DEPTH)
		throw Error("a clone of '" + o.name + "' would read through " +
			    std::to_string(depth) + " parents, and at most " +
			    std::to_string(ARCHIP_VOL_MAX_DEPTH - 1) +
			    " are allowed: copy the data into a new volume and clone that");
	check_new(c, o.target);

	Volume v;
	v.name = o.target;
	v.hdr = s.hdr;
	v.hdr.flags = 0;
	v.hdr.created = htole64(static_cast<uint64_t>(time(nullptr)));
	std::memset(v.hdr.name, 0, sizeof(v.hdr.name));
	std::strncpy(v.hdr.name, o.target.c_str(), sizeof(v.hdr.name) - 1);
	v.new_set_on(o.name, le64toh(s.hdr.nr_objs));
	v.store_header(c);
	out.say(volume_json(v, false), "created volume " + o.target + ", a clone of " + o.name + "\n");
}

} // namespace

namespace {

// Record object @i in @v's own map, durably.
void own(ObjClient &c, Volume &v, uint64_t i)
{
	struct archip_map_entry e = {};

	e.flags = htole16(ARCHIP_MAP_EXISTS);
	c.write(v.map_obj(), v.map_off() + i * sizeof(e), &e, sizeof(e), true);
	if (i >= v.map.size())	// past the stored map: not written yet
		v.map.resize(v.nr_objs());
	v.map[i] = e;
}

/*
 * Flatten: copy up (COPY, a reflink) every object the volume reads from
 * its ancestors, then drop the parent.  Each step can be repeated, so a
 * run cut short is finished by running it again.
 */
void flatten(const Opts &o)
{
	ObjClient c(o.server);
	check_volume_name(o.name);
	VolumeLock lock(c, o.name, "flatten");
	Volume v = Volume::load(c, o.name, true);
	uint64_t n = 0;

	if (v.parent().empty())
		throw Error("volume '" + o.name + "' has no parent: nothing to flatten");
	if (v.snapshot())
		throw Error("'" + o.name + "' is a snapshot, which never changes: flatten a clone of it");
	auto anc = ancestors(c, v);
	for (uint64_t i = 0; i < std::min(v.nr_objs(), reach(anc)); i++) {
		if (v.owns(i))
			continue;
		for (const auto &a : anc) {
			if (i >= a.map.size() || !(le16toh(a.map[i].flags) & ARCHIP_MAP_EXISTS))
				continue;
			// Exists already: a flatten cut short copied it, whole
			// (COPY is atomic).  No source: an entry whose object
			// is missing reads as zeros, and so does the copy.
			bool no_src;
			c.copy(data_object(a.oset, i), data_object(v.oset(), i), &no_src);
			own(c, v, i);
			n++;
			break;
		}
	}
	std::memset(v.hdr.v2.parent, 0, sizeof(v.hdr.v2.parent));
	v.hdr.v2.parent_objs = 0;
	v.store_header(c);
	out.say(Json{{"flattened", o.name}, {"objects_copied", n}},
		"flattened volume " + o.name + " (" + std::to_string(n) + " objects copied up)\n");
}

/*
 * Rollback VOL to SNAP, one of its ancestors: VOL starts again on a new,
 * empty set on top of SNAP, and its old set is removed.  The header
 * switch is one atomic write; a run cut short after it leaves only
 * unreferenced objects behind.
 */
void rollback(const Opts &o)
{
	ObjClient c(o.server);
	check_volume_name(o.name);
	check_volume_name(o.target);
	VolumeLock lock(c, o.name, "roll back");
	Volume v = Volume::load(c, o.name, true);
	bool found = false;

	if (v.snapshot())
		throw Error("'" + o.name + "' is a snapshot, which never changes");
	Volume s;
	for (auto &a : chain(c, v, false))
		if (a.name == o.target) {
			s = std::move(a);
			found = true;
			break;
		}
	if (!found)
		throw Error("'" + o.target + "' is not a snapshot '" + o.name +
			    "' reads through (see 'archipctl volume list')");
	Volume old = v;

	v.hdr.size = s.hdr.size;
	v.hdr.nr_objs = s.hdr.nr_objs;
	v.new_set_on(o.target, le64toh(s.hdr.nr_objs));
	v.store_header(c);
	// The old set: nobody reads it any more (a snapshot of VOL would have
	// taken it over, and VOL was not a snapshot's parent).
	for (uint64_t i = 0; i < old.map.size(); i++)
		if (old.owns(i))
			c.remove(data_object(old.oset(), i));
	c.remove(old.map_obj());
	out.say(Json{{"rolled_back", o.name}, {"to", o.target}},
		"rolled volume " + o.name + " back to " + o.target + "\n");
}

} // namespace

void setup_volume(CLI::App &app)
{
	auto *vol = app.add_subcommand("volume", "create, list, inspect, resize and remove volumes");
	vol->require_subcommand(1);
	vol->fallthrough(); // --server may come after the subcommand too
	auto o = std::make_shared<VolumeOpts>();
	vol->add_option("--server", o->server,
			"object server HOST[:PORT] (default $ARCHIP_SERVER or 127.0.0.1:7890)")
		->check(hostport_arg());

	auto *c = vol->add_subcommand("create", "create a thin volume");
	c->add_option("name", o->name, "volume name")->required();
	c->add_option("--size", o->size, "size, e.g. 10G")->required()->check(volume_size_arg());
	c->add_option("--object-size", o->obj_size, "object size, a power of two (default 4M)")
		->check(size_arg(4096, 1ULL << 30, "4K-1G", true));
	c->callback([o] { create(*o); });

	vol->add_subcommand("list", "list volumes")->callback([o] { list(*o); });

	auto *i = vol->add_subcommand("info", "show one volume");
	i->add_option("name", o->name, "volume name")->required();
	i->callback([o] { info(*o); });

	auto *r = vol->add_subcommand("resize", "grow a volume (shrink needs --force)");
	r->add_option("name", o->name, "volume name")->required();
	r->add_option("--size", o->size, "new size")->required()->check(volume_size_arg());
	r->add_flag("--force", o->force, "allow shrinking, destroying data past the new end");
	r->callback([o] { resize(*o); });

	auto *rm = vol->add_subcommand("remove", "remove a volume and its objects (not while mapped)");
	rm->add_option("name", o->name, "volume name")->required();
	rm->callback([o] { remove(*o); });

	auto *sn = vol->add_subcommand("snapshot", "make an immutable, crash-consistent snapshot "
				       "of a volume, mapped or not");
	sn->add_option("volume", o->name, "volume name")->required();
	sn->add_option("snapshot", o->target, "name of the new snapshot")->required();
	sn->add_option("--timeout", o->timeout,
		       "a mapped volume: how long to wait for its hypervisor (default 30 s)");
	sn->callback([o] { snapshot(*o); });

	auto *cl = vol->add_subcommand("clone", "make a thin volume that reads through a snapshot "
				       "until written");
	cl->add_option("snapshot", o->name, "snapshot name")->required();
	cl->add_option("volume", o->target, "name of the new volume")->required();
	cl->callback([o] { clone(*o); });

	auto *fl = vol->add_subcommand("flatten", "copy into a clone what it reads from its "
				       "parents, and cut it loose from them");
	fl->add_option("volume", o->name, "volume name")->required();
	fl->callback([o] { flatten(*o); });

	auto *rb = vol->add_subcommand("rollback", "return a volume to one of its snapshots "
				       "(not while mapped)");
	rb->add_option("volume", o->name, "volume name")->required();
	rb->add_option("snapshot", o->target, "a snapshot the volume reads through")->required();
	rb->callback([o] { rollback(*o); });

	setup_image(vol, o);
}

} // namespace archipctl
