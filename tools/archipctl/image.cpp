// SPDX-License-Identifier: GPL-2.0
// archipctl volume import|export|du: images stored by content, volumes
// written out as files, and what every volume occupies
// (Documentation/snapshots.rst, "Images").
#include "argcheck.hpp"
#include "commands.hpp"
#include "objclient.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "util.hpp"
#include "volume.hpp"

#include <CLI/CLI.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <iostream>
#include <linux/fs.h>
#include <map>
#include <set>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace archipctl {

namespace {

using Digest = std::array<uint8_t, ARCHIP_VOL_DIGEST_SIZE>;

Digest sha256(const uint8_t *p, size_t n)
{
	Digest d;
	unsigned int len = 0;

	if (!EVP_Digest(p, n, d.data(), &len, EVP_sha256(), nullptr) || len != d.size())
		throw Error("internal error: sha256 failed");
	return d;
}

bool all_zero(const uint8_t *p, size_t n)
{
	return !n || (p[0] == 0 && !std::memcmp(p, p + 1, n - 1));
}

std::string sys_error(const std::string &what)
{
	return what + ": " + std::strerror(errno);
}

// Reads up to @n bytes; fewer only at the end of the input.
size_t read_full(int fd, uint8_t *p, size_t n, const std::string &file)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = ::read(fd, p + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			throw Error(sys_error("read " + file));
		if (!r)
			break;
		done += r;
	}
	return done;
}

void write_full(int fd, const uint8_t *p, size_t n, off_t off, bool seekable,
		const std::string &file)
{
	while (n) {
		ssize_t r = seekable ? ::pwrite(fd, p, n, off) : ::write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			throw Error(sys_error("write " + file));
		p += r;
		n -= r;
		off += r;
	}
}

// One connection per object in flight: the object protocol answers a
// connection's requests in order.  Writers bind each to @lock, held by
// @holder (every change to a volume's objects carries a lock's epoch).
class Pool {
public:
	Pool(const std::string &server, unsigned int n, const ObjClient *holder = nullptr,
	     const std::string &lock = "")
	{
		for (unsigned int i = 0; i < std::max(1u, n); i++) {
			c_.push_back(std::make_unique<ObjClient>(server));
			if (holder)
				c_.back()->bind(lock, holder->epoch(), i);
		}
	}
	size_t size() const { return c_.size(); }
	ObjClient &operator[](size_t i) { return *c_[i % c_.size()]; }

private:
	std::vector<std::unique_ptr<ObjClient>> c_;
};

struct Stored {
	Digest digest{};
	bool zero = true;	// not stored at all
	bool fresh = false;	// its bytes were written (not found stored)
};

/*
 * Store object @i of @img (its @len bytes in @buf) by content: the bytes
 * go to "h.SHA256" once for all images, and the image's own data object
 * is a COPY (reflink) of it.  A content object is made only by COPY of a
 * whole, written data object, and COPY is atomic (the server links the
 * destination only once it is whole), so a content object that exists is
 * whole, and so is what is copied from it.  Its size, which the STAT that
 * finds it gives for free, is still compared: a store written by a server
 * from before atomic COPY may hold a short one.  An import never removes
 * a content object ("volume remove" prunes the ones no image lists).
 */
Stored store_object(ObjClient &c, const Volume &img, uint64_t i,
		    const std::vector<uint8_t> &buf, size_t len)
{
	Stored s;
	uint64_t have = 0;

	if (all_zero(buf.data(), len))
		return s;
	s.zero = false;
	s.digest = sha256(buf.data(), len);
	const std::string h = content_object(s.digest.data()), d = data_object(img.oset(), i);
	try {
		if (c.stat(h, &have) && have == len && c.copy(h, d))
			return s;
	} catch (const Error &) {
		// Removed meanwhile (the last image holding it went).
	}
	// New content (or not usable): store the bytes ourselves.
	if (c.stat(d))
		c.remove(d);
	c.write(d, 0, buf.data(), len, false);
	c.copy(d, h);	// false: an equal object in flight made it first
	s.fresh = true;
	return s;
}

/*
 * A whole image's digests, ARCHIP_VOL_DIGEST_SIZE bytes per object index:
 * the import wrote exactly that many, and a digest for each object its
 * map has, none (zeros) for the others.  A manifest of any other size is
 * refused before anything is allocated for it, and (@check_map, the map
 * loaded) one that disagrees with the map.
 */
std::vector<uint8_t> read_manifest(ObjClient &c, const Volume &img, bool check_map)
{
	const std::string obj = manifest_object(img.oset());
	const uint64_t need = img.nr_objs() * ARCHIP_VOL_DIGEST_SIZE;
	uint64_t size = 0;

	if (!c.stat(obj, &size) || size != need)
		throw Error("image '" + img.name + "': its manifest " + obj + " holds " +
			    std::to_string(size) + " bytes, not the " + std::to_string(need) +
			    " its " + std::to_string(img.nr_objs()) + " objects need (" +
			    (size < need ? "missing or truncated" : "too long") + ": corrupted?)");
	auto m = c.read(obj, 0, need);
	for (uint64_t i = 0; check_map && i < img.nr_objs(); i++) {
		const bool has = i < img.map.size() &&
				 (le16toh(img.map[i].flags) & ARCHIP_MAP_EXISTS);
		if (has == all_zero(&m[i * ARCHIP_VOL_DIGEST_SIZE], ARCHIP_VOL_DIGEST_SIZE))
			throw Error("image '" + img.name + "': its map and its manifest " + obj +
				    " disagree about object " + std::to_string(i) + " (" +
				    (has ? "stored, but no digest" : "a digest, but not stored") +
				    "): corrupted?");
	}
	return m;
}

std::string seconds(double s)
{
	char b[32];
	snprintf(b, sizeof(b), "%.1f s", s);
	return b;
}

std::string rate(uint64_t bytes, double s)
{
	return s > 0 ? human_bytes(static_cast<uint64_t>(bytes / s)) + "/s" : "-";
}

/*
 * volume import FILE|- NAME: an immutable image stored by content.  The
 * header is written first, flagged incomplete (so a run cut short is
 * listed, and removed by "volume remove"), and whole last.
 */
void import(const VolumeOpts &o)
{
	check_volume_name(o.name);
	const uint64_t osz = parse_size(o.obj_size);
	if (osz < (1ULL << ARCHIP_VOL_MIN_OBJ_SHIFT) || osz > (1ULL << ARCHIP_VOL_MAX_OBJ_SHIFT) ||
	    (osz & (osz - 1)))
		throw Error("bad --object-size: a power of two from 4K to 1G", EXIT_USAGE);
	const unsigned int shift = __builtin_ctzll(osz);
	const bool from_stdin = o.file == "-";
	int fd = from_stdin ? STDIN_FILENO : ::open(o.file.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		throw Error(sys_error("open " + o.file), EXIT_NOT_FOUND);
	struct FdCloser {
		int fd;
		~FdCloser() { if (fd > STDIN_FILENO) ::close(fd); }
	} closer{fd};

	// The size, where the input has one (a pipe has not).
	uint64_t expect = 0;
	struct stat st = {};
	if (fstat(fd, &st) == 0) {
		if (S_ISREG(st.st_mode))
			expect = st.st_size;
		else if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &expect))
			expect = 0;
	}
	if (S_ISREG(st.st_mode) && !expect)
		throw Error("'" + o.file + "' is empty: nothing to import", EXIT_USAGE);
	check_objects(expect ? expect : osz, shift);

	// The first object before anything is stored: an empty input leaves
	// nothing behind.
	std::vector<uint8_t> first(osz);
	size_t n = read_full(fd, first.data(), osz, o.file);
	if (!n)
		throw Error("the input is empty: nothing to import", EXIT_USAGE);

	ObjClient c(o.server);
	VolumeLock lock(c, o.name, "create");
	check_new(c, o.name);
	Volume v = Volume::fresh(o.name, expect ? (expect + 511) / 512 * 512 : osz, shift);
	v.hdr.flags = htole32(ARCHIP_VOL_SNAPSHOT | ARCHIP_VOL_IMAGE | ARCHIP_VOL_INCOMPLETE);
	v.store_header(c);

	// Each object in flight holds a buffer: at most 1 GiB of them.
	Pool pool(o.server, std::max<uint64_t>(1, std::min<uint64_t>(o.jobs, (1ULL << 30) / osz)),
		  &c, lock_name(o.name));
	Progress bar("import " + o.name, expect, isatty(STDERR_FILENO) && !out.json);
	std::vector<std::future<Stored>> busy(pool.size());
	std::vector<Stored> objs;
	uint64_t total = 0, fresh = 0, dedup = 0, zero = 0;

	auto collect = [&](size_t slot, uint64_t i) {
		if (busy[slot].valid())
			objs[i] = busy[slot].get();
	};
	try {
		for (uint64_t i = 0; n; i++) {
			std::vector<uint8_t> buf(osz);
			if (i)
				n = read_full(fd, buf.data(), osz, o.file);
			else
				buf.swap(first);
			if (!n)
				break;
			// The last sector is padded with zeros: a volume is whole
			// sectors.
			size_t len = (n + 511) / 512 * 512;
			total += len;
			if (objects_for(total, shift) > ARCHIP_VOL_MAX_OBJS)
				throw Error("the image is larger than a volume of " + human_size(osz) +
					    " objects can be: use a larger --object-size", EXIT_USAGE);
			objs.emplace_back();
			size_t slot = i % pool.size();
			if (i >= pool.size())
				collect(slot, i - pool.size());
			busy[slot] = std::async(std::launch::async,
						[&c = pool[slot], &v, i, b = std::move(buf), len]() {
							return store_object(c, v, i, b, len);
						});
			bar.add(n);
			if (n < osz)
				break;
		}
		for (uint64_t i = objs.size() > pool.size() ? objs.size() - pool.size() : 0;
		     i < objs.size(); i++)
			collect(i % pool.size(), i);
		bar.finish();
		if (expect && total != (expect + 511) / 512 * 512)
			throw Error("'" + o.file + "' changed size while it was imported: import it "
				    "when nothing writes to it");

		// The map and the manifest, then the header: the image is whole.
		v.set_size(total);
		std::vector<struct archip_map_entry> map(objs.size());
		std::vector<uint8_t> manifest(objs.size() * ARCHIP_VOL_DIGEST_SIZE, 0);
		for (size_t i = 0; i < objs.size(); i++) {
			if (objs[i].zero) {
				zero++;
				continue;
			}
			(objs[i].fresh ? fresh : dedup)++;
			map[i].flags = htole16(ARCHIP_MAP_EXISTS);
			std::memcpy(&manifest[i * ARCHIP_VOL_DIGEST_SIZE], objs[i].digest.data(),
				    ARCHIP_VOL_DIGEST_SIZE);
		}
		c.write(v.map_obj(), 0, map.data(), map.size() * sizeof(map[0]), false);
		c.write(manifest_object(v.oset()), 0, manifest.data(), manifest.size(), false);
		v.hdr.flags = htole32(ARCHIP_VOL_SNAPSHOT | ARCHIP_VOL_IMAGE);
		v.store_header(c);
	} catch (const Error &e) {
		for (auto &f : busy)	// let the others end before we report
			if (f.valid())
				f.wait();
		throw Error(std::string(e.what()) + "; the image is left incomplete: " +
			    "'archipctl volume remove " + o.name + "' removes what it stored",
			    e.code);
	}

	const double secs = bar.elapsed();
	Json j = volume_json(v, false);
	j["objects_stored"] = fresh;
	j["objects_deduplicated"] = dedup;
	j["objects_zero"] = zero;
	j["seconds"] = secs;
	out.say(j, "imported image " + o.name + ": " + human_bytes(total) + " in " +
		seconds(secs) + " (" + rate(total, secs) + "), " + std::to_string(objs.size()) +
		" objects: " + std::to_string(fresh) + " stored, " + std::to_string(dedup) +
		" already stored (deduplicated), " + std::to_string(zero) + " all zeros\n");
}

/*
 * volume export NAME FILE|-: the volume's bytes, read through its
 * parents.  A volume (not a snapshot or an image) must not be mapped
 * read-write meanwhile.  An image's objects are checked against its
 * manifest.  A file is written sparse (zeros skipped) and synced.
 */
void export_volume(const VolumeOpts &o)
{
	ObjClient c(o.server);
	check_volume_name(o.name);
	VolumeLock lock(c, o.name, "export", false);
	Volume v = Volume::load(c, o.name, true);

	if (!v.snapshot() && !lock.held())
		throw Error("volume '" + o.name + "' is mapped read-write, so its data is changing: "
			    "snapshot it (archipctl volume snapshot) and export the snapshot");
	if (v.incomplete())
		throw Error("'" + o.name + "' was cut short while it was made: remove it "
			    "(archipctl volume remove) and make it again");
	const bool to_stdout = o.file == "-";
	if (to_stdout && isatty(STDOUT_FILENO))
		throw Error("will not write a volume to a terminal: redirect the output or "
			    "name a file", EXIT_USAGE);
	auto anc = ancestors(c, v);
	std::vector<uint8_t> manifest;
	if (v.image())
		manifest = read_manifest(c, v, true);

	// A file is written as FILE.part and renamed when whole; a device
	// (or stdout) is written in place.
	struct stat st = {};
	const bool sparse = !to_stdout && (stat(o.file.c_str(), &st) ? errno == ENOENT
								       : S_ISREG(st.st_mode));
	const std::string path = sparse ? o.file + ".part" : o.file;
	int fd = to_stdout ? STDOUT_FILENO
			   : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		throw Error(sys_error("create " + path), EXIT_NOT_FOUND);
	struct OutFile {
		int fd;
		std::string part;	// removed unless renamed
		~OutFile()
		{
			if (fd > STDERR_FILENO)
				::close(fd);
			if (!part.empty())
				::unlink(part.c_str());
		}
	} output{to_stdout ? -1 : fd, sparse ? path : std::string()};

	Pool pool(o.server, o.jobs);
	Progress bar("export " + o.name, v.size(), isatty(STDERR_FILENO) && !out.json);
	std::vector<std::future<std::vector<uint8_t>>> busy(pool.size());
	uint64_t read_objs = 0;

	auto len_of = [&](uint64_t i) { return std::min(v.obj_size(), v.size() - i * v.obj_size()); };
	auto start = [&](uint64_t i) {
		std::string src = v.source(anc, i);
		if (src.empty())
			return;
		read_objs++;
		busy[i % pool.size()] = std::async(std::launch::async,
			[&c = pool[i % pool.size()], src, len = len_of(i)]() {
				return c.read(src, 0, len);
			});
	};
	for (uint64_t i = 0; i < std::min<uint64_t>(pool.size(), v.nr_objs()); i++)
		start(i);
	std::vector<uint8_t> zeros;
	for (uint64_t i = 0; i < v.nr_objs(); i++) {
		const uint64_t len = len_of(i);
		auto &f = busy[i % pool.size()];
		std::vector<uint8_t> buf;
		if (f.valid())
			buf = f.get();
		if (i + pool.size() < v.nr_objs())
			start(i + pool.size());
		if (buf.empty()) {
			zeros.resize(len);
			if (!sparse)
				write_full(fd, zeros.data(), len, 0, false, o.file);
			bar.add(len);
			continue;
		}
		if (!manifest.empty()) {
			Digest d = sha256(buf.data(), buf.size());
			if (std::memcmp(d.data(), &manifest[i * ARCHIP_VOL_DIGEST_SIZE], d.size()))
				throw Error("object " + std::to_string(i) + " of image '" + o.name +
					    "' does not hold the content it was imported with (the "
					    "SAN returned other data); the export stopped: import "
					    "the image again from its source");
		}
		if (!sparse || !all_zero(buf.data(), len))
			write_full(fd, buf.data(), len, i * v.obj_size(), sparse, o.file);
		bar.add(len);
	}
	if ((sparse && ftruncate(fd, v.size())) || (!to_stdout && fsync(fd)))
		throw Error(sys_error("write " + path));
	if (sparse) {
		if (::close(fd) || ::rename(path.c_str(), o.file.c_str()))
			throw Error(sys_error("rename " + path + " to " + o.file));
		output.fd = -1;
		output.part.clear();
	}
	bar.finish();

	const double secs = bar.elapsed();
	Json j = Json::object();
	j["name"] = v.name;
	j["file"] = o.file;
	j["size"] = v.size();
	j["objects_read"] = read_objs;
	j["verified"] = !manifest.empty();
	j["seconds"] = secs;
	// On stderr when the volume went to stdout; the human line always.
	out.say(j, "exported " + o.name + ": " + human_bytes(v.size()) + " in " + seconds(secs) +
		" (" + rate(v.size(), secs) + ")" +
		(manifest.empty() ? "" : ", every object checked against its digest") + "\n",
		to_stdout || !out.json ? std::cerr : std::cout);
}

/*
 * volume du [NAME]: per volume, what it was given (provisioned), what its
 * own objects occupy on the SAN (used: header, map and data objects as
 * the filesystem allocates them), and how much of that other volumes
 * also use (shared): objects of a snapshot that a volume on top of it
 * still reads, and objects of an image whose content another image holds
 * too (stored once).  The total counts shared content once.
 */
void du(const VolumeOpts &o)
{
	ObjClient c(o.server);
	std::vector<Volume> vols;
	std::map<std::string, size_t> by_name;

	for_each_volume(c, true, [&](Volume &v) {
		by_name[v.name] = vols.size();
		vols.push_back(std::move(v));
	}, true);
	if (!o.name.empty() && !by_name.count(o.name))
		throw Error("volume '" + o.name + "' does not exist (see 'archipctl volume list')",
			    EXIT_NOT_FOUND);

	// The objects some volume reads through its parents (or, v1, its
	// sources): shared by their owner.
	std::set<std::string> read_through;
	for (const auto &v : vols) {
		try {
			auto anc = ancestors(c, v);
			// Past both maps, nothing is read through (v1: its own map
			// names its sources).
			const uint64_t end = std::min<uint64_t>(v.nr_objs(),
								std::max<uint64_t>(v.map.size(), reach(anc)));
			for (uint64_t i = 0; i < end; i++)
				if (!v.owns(i))
					read_through.insert(v.source(anc, i));
		} catch (const Error &e) {
			// A parent missing or damaged: nothing read through it.
			std::cerr << "archipctl: " << e.what() << "\n";
			continue;
		}
	}
	// How many images hold each content.
	std::map<std::string, std::vector<uint8_t>> manifests;
	std::map<Digest, unsigned int> holders;
	for (const auto &v : vols) {
		if (!v.image() || v.incomplete())
			continue;
		std::vector<uint8_t> m;
		try {
			m = read_manifest(c, v, true);
		} catch (const Error &e) {
			std::cerr << "archipctl: " << e.what() << "; its contents are counted "
				  << "as its own\n";
			continue;
		}
		std::set<Digest> mine;
		for (uint64_t i = 0; i < v.map.size(); i++) {
			Digest d;
			std::memcpy(d.data(), &m[i * d.size()], d.size());
			if (v.owns(i))
				mine.insert(d);
		}
		for (const auto &d : mine)
			holders[d]++;
		manifests[v.name] = std::move(m);
	}

	Json arr = Json::array();
	uint64_t t_prov = 0, t_used = 0, t_once = 0;
	std::set<Digest> counted;
	for (const auto &v : vols) {
		uint64_t used = 0, shared = 0, a = 0, once = 0;
		if (c.stat(header_object(v.name), nullptr, &a))
			used += a;
		if (!v.v1() && c.stat(v.map_obj(), nullptr, &a))
			used += a;
		if (v.image() && c.stat(manifest_object(v.oset()), nullptr, &a))
			used += a;
		once = used;
		const auto m = manifests.find(v.name);
		for (uint64_t i = 0; i < v.map.size(); i++) {
			if (!v.owns(i) || !c.stat(data_object(v.oset(), i), nullptr, &a))
				continue;
			used += a;
			bool sh = read_through.count(data_object(v.oset(), i));
			bool first = true;
			if (m != manifests.end()) {
				Digest d;
				std::memcpy(d.data(), &m->second[i * d.size()], d.size());
				sh = sh || holders[d] > 1;
				first = counted.insert(d).second;
			}
			if (sh)
				shared += a;
			if (first)
				once += a;
		}
		t_prov += v.size();
		t_used += used;
		t_once += once;
		if (!o.name.empty() && v.name != o.name)
			continue;
		Json j = Json::object();
		j["name"] = v.name;
		j["kind"] = v.image() ? "image" : v.snapshot() ? "snapshot" : "volume";
		j["provisioned"] = v.size();
		j["used"] = used;
		j["shared"] = shared;
		arr.push_back(j);
	}
	Json r = Json::object();
	r["volumes"] = arr;
	if (o.name.empty()) {
		r["total_provisioned"] = t_prov;
		r["total_used"] = t_used;
		r["total_stored"] = t_once;	// shared content counted once
	}
	out.emit(r, [](const Json &r) {
		std::printf("%-24s %-8s %12s %12s %12s\n", "NAME", "KIND", "PROVISIONED", "USED",
			    "SHARED");
		for (const auto &j : r.at("volumes"))
			std::printf("%-24s %-8s %12s %12s %12s\n", text(j.at("name")).c_str(),
				    text(j.at("kind")).c_str(),
				    human_bytes(j.at("provisioned").get<uint64_t>()).c_str(),
				    human_bytes(j.at("used").get<uint64_t>()).c_str(),
				    human_bytes(j.at("shared").get<uint64_t>()).c_str());
		if (r.contains("total_used"))
			std::printf("%-24s %-8s %12s %12s  (%s stored: shared content once)\n",
				    "TOTAL", "",
				    human_bytes(r.at("total_provisioned").get<uint64_t>()).c_str(),
				    human_bytes(r.at("total_used").get<uint64_t>()).c_str(),
				    human_bytes(r.at("total_stored").get<uint64_t>()).c_str());
	});
}

} // namespace

/*
 * The content objects no whole image lists any more (after an image is
 * removed), removed; returns how many.  Content objects are only an
 * index (each image's data objects hold their own reference to the
 * extents), so one removed under an import that just found it costs that
 * import a write, not data: store_object() stores the bytes again.
 */
uint64_t prune_content(ObjClient &c, std::string *busy)
{
	std::set<std::string> live;
	uint64_t n = 0;

	busy->clear();
	for_each_volume(c, false, [&](Volume &v) {
		if (!v.image())
			return;
		if (v.incomplete()) {
			*busy = v.name;
			return;
		}
		auto m = read_manifest(c, v, false);
		for (uint64_t i = 0; i < v.nr_objs(); i++)
			if (!all_zero(&m[i * ARCHIP_VOL_DIGEST_SIZE], ARCHIP_VOL_DIGEST_SIZE))
				live.insert(content_object(&m[i * ARCHIP_VOL_DIGEST_SIZE]));
	});
	if (!busy->empty())
		return 0;
	for (const auto &h : c.list(ARCHIP_VOL_CONTENT_PREFIX))
		if (!live.count(h)) {
			c.remove(h);
			n++;
		}
	return n;
}

void setup_image(CLI::App *vol, const std::shared_ptr<VolumeOpts> &o)
{
	auto *im = vol->add_subcommand("import", "store an image file as an immutable volume, "
				       "each distinct object once for all images");
	im->add_option("file", o->file, "the image (raw), or - for stdin")->required();
	im->add_option("name", o->name, "name of the new image")->required();
	im->add_option("--object-size", o->obj_size, "object size, a power of two (default 4M)")
		->check(size_arg(4096, 1ULL << 30, "4K-1G", true));
	im->add_option("--jobs", o->jobs, "objects in flight (default 4)")
		->check(CLI::Range(1, 64));
	im->callback([o] { import(*o); });

	auto *ex = vol->add_subcommand("export", "write a volume, snapshot or image out as a raw "
				       "file");
	ex->add_option("name", o->name, "volume name")->required();
	ex->add_option("file", o->file, "the file to write, or - for stdout")->required();
	ex->add_option("--jobs", o->jobs, "objects in flight (default 4)")
		->check(CLI::Range(1, 64));
	ex->callback([o] { export_volume(*o); });

	auto *d = vol->add_subcommand("du", "space provisioned, used and shared, per volume");
	d->add_option("name", o->name, "only this volume");
	d->callback([o] { du(*o); });
}

} // namespace archipctl
