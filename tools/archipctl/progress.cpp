// SPDX-License-Identifier: GPL-2.0
#include "progress.hpp"

#include <cstdio>

namespace archipctl {

std::string human_bytes(uint64_t n)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = static_cast<double>(n);
	unsigned int u = 0;
	char buf[32];

	if (n < 1024)
		return std::to_string(n) + " B";
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
	return buf;
}

std::string human_duration(double secs)
{
	char buf[32];
	uint64_t s;

	if (secs < 0 || secs > 1e9)
		return "--:--";
	s = static_cast<uint64_t>(secs + 0.5);
	if (s >= 3600)
		std::snprintf(buf, sizeof(buf), "%llu:%02llu:%02llu",
			      static_cast<unsigned long long>(s / 3600),
			      static_cast<unsigned long long>(s / 60 % 60),
			      static_cast<unsigned long long>(s % 60));
	else
		std::snprintf(buf, sizeof(buf), "%llu:%02llu",
			      static_cast<unsigned long long>(s / 60),
			      static_cast<unsigned long long>(s % 60));
	return buf;
}

Progress::Progress(std::string what, uint64_t total, bool enabled)
	: what_(std::move(what)), total_(total), enabled_(enabled),
	  start_(std::chrono::steady_clock::now()), last_draw_(start_)
{
}

Progress::~Progress()
{
	// An exception unwinding past an unfinished bar: end its line so the
	// error message starts on a line of its own.
	if (enabled_ && !finished_ && last_len_)
		std::fputc('\n', stderr);
}

double Progress::elapsed() const
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::line(const std::string &what, uint64_t done, uint64_t total,
			   double secs)
{
	double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
	std::string s = what + "  " + human_bytes(done);

	if (total) {
		s += " / " + human_bytes(total);
		s += "  " + std::to_string(done >= total ? 100 : done * 100 / total) + "%";
	}
	s += "  " + human_bytes(static_cast<uint64_t>(rate)) + "/s";
	if (total && done < total)
		s += "  ETA " + human_duration(rate > 0 ? (total - done) / rate : -1);
	return s;
}

void Progress::draw()
{
	std::string s = line(what_, done_, total_, elapsed());
	size_t len = s.size();

	// Pad over what a longer previous line left on the terminal.
	if (len < last_len_)
		s.append(last_len_ - len, ' ');
	last_len_ = len;
	std::fprintf(stderr, "\r%s", s.c_str());
	std::fflush(stderr);
}

void Progress::add(uint64_t bytes)
{
	auto now = std::chrono::steady_clock::now();

	done_ += bytes;
	if (!enabled_ || now - last_draw_ < std::chrono::milliseconds(200))
		return;
	last_draw_ = now;
	draw();
}

void Progress::finish()
{
	if (finished_)
		return;
	finished_ = true;
	if (!enabled_)
		return;
	draw();
	std::fputc('\n', stderr);
}

} // namespace archipctl
