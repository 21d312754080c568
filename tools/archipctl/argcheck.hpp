// SPDX-License-Identifier: GPL-2.0
// Checks of option values that CLI11 runs while it parses the command
// line: a bad value is refused before any command looks at the system,
// with the option's name before the message, and exit status 2.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace archipctl {

// A size ("64K", "10G"; parse_size) from @min to @max bytes, a power of
// two if @pow2, else a multiple of @min; @range is how the message says
// the range ("4K-16M").
CLI::Validator size_arg(uint64_t min, uint64_t max, const std::string &range,
			bool pow2 = false);
// A volume's size: a multiple of 512 bytes, at most 1P (check_size).
CLI::Validator volume_size_arg();
// HOST[:PORT]; with @ipv4 the host must be a dotted-quad address.
CLI::Validator hostport_arg(bool ipv4 = false);
// HOST[:PORT][,HOST[:PORT]...].
CLI::Validator hostport_list_arg();

} // namespace archipctl
