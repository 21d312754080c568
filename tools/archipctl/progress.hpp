// SPDX-License-Identifier: GPL-2.0
// Progress of a long transfer (volume import/export): a one-line bar on
// stderr when stderr is a terminal, nothing otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace archipctl {

// "0 B", "512 B", "4.0 KiB", "1.5 GiB": binary units, one decimal.
std::string human_bytes(uint64_t n);
// "0:07", "4:05", "1:02:03"; "--:--" when unknown (negative).
std::string human_duration(double secs);

class Progress {
public:
	// @total 0: unknown size (no percentage, no ETA).  @enabled false:
	// print nothing (use isatty(STDERR_FILENO)).
	Progress(std::string what, uint64_t total, bool enabled);
	~Progress();
	Progress(const Progress &) = delete;
	Progress &operator=(const Progress &) = delete;

	void add(uint64_t bytes);	// redraws at most 5 times a second
	void finish();			// last redraw, then a newline
	uint64_t done() const { return done_; }
	double elapsed() const;	// seconds since construction

	// The line drawn (without the leading '\r'), for tests:
	// "import  512.0 MiB / 1.0 GiB  50%  128.0 MiB/s  ETA 0:04".
	static std::string line(const std::string &what, uint64_t done,
				uint64_t total, double secs);

private:
	void draw();

	std::string what_;
	uint64_t total_, done_ = 0;
	bool enabled_, finished_ = false;
	size_t last_len_ = 0;
	std::chrono::steady_clock::time_point start_, last_draw_;
};

} // namespace archipctl
