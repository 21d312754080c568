// SPDX-License-Identifier: GPL-2.0
#include "argcheck.hpp"
#include "util.hpp"

#include <linux/archip.h>

namespace archipctl {

namespace {

// What a check inside the validator threw, as CLI11 wants it: a message.
template <typename F> std::string refused(F &&check)
{
	try {
		check();
	} catch (const Error &e) {
		return e.what();
	}
	return "";
}

} // namespace

CLI::Validator size_arg(uint64_t min, uint64_t max, const std::string &range, bool pow2)
{
	return CLI::Validator(
		[=](std::string &s) {
			return refused([&] {
				uint64_t v = parse_size(s);
				if (v < min || v > max || (pow2 && (v & (v - 1))))
					throw Error("'" + s + "' is not " +
						    (pow2 ? "a power of two " : "") + "in " + range);
				if (!pow2 && v % min)
					throw Error("'" + s + "' is not a multiple of " +
						    range.substr(0, range.find('-')) + " in " + range);
			});
		},
		"SIZE");
}

CLI::Validator volume_size_arg()
{
	return CLI::Validator(
		[](std::string &s) {
			return refused([&] {
				uint64_t v = parse_size(s);
				if (!v || v % 512 || v > (1ULL << 50))
					throw Error("'" + s + "': a volume's size is a multiple of "
						    "512 bytes, at most 1P");
			});
		},
		"SIZE");
}

CLI::Validator hostport_arg(bool ipv4)
{
	return CLI::Validator(
		[=](std::string &s) {
			return refused([&] {
				HostPort hp = parse_hostport(s, ARCHIP_DEFAULT_PORT);
				if (ipv4)
					parse_ipv4(hp.host);
			});
		},
		ipv4 ? "ADDR[:PORT]" : "HOST[:PORT]");
}

CLI::Validator hostport_list_arg()
{
	return CLI::Validator(
		[](std::string &s) {
			return refused([&] { parse_hostport_list(s, ARCHIP_DEFAULT_PORT); });
		},
		"HOST[:PORT],...");
}

} // namespace archipctl
