// SPDX-License-Identifier: GPL-2.0
// Parsing helpers and the error type every subcommand throws.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace archipctl {

// Exit codes scripts can rely on.
enum Exit : int {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      // the operation failed (message says why)
	EXIT_USAGE = 2,     // bad command line
	EXIT_NOT_FOUND = 3, // the thing named does not exist / is not running
	EXIT_ENV = 4,       // environment: module not loaded, not root
};

// A user-facing failure: a message that names the fix, and an exit code.
struct Error : std::runtime_error {
	int code;
	Error(const std::string &msg, int code_ = EXIT_FAIL)
		: std::runtime_error(msg), code(code_) {}
};

struct HostPort {
	std::string host;
	uint16_t port;
};

// "HOST[:PORT]" (IPv4 address or name); throws Error(EXIT_USAGE).
HostPort parse_hostport(const std::string &s, uint16_t default_port);
// "HOST[:PORT],HOST[:PORT]...", each as parse_hostport.
std::vector<HostPort> parse_hostport_list(const std::string &s, uint16_t default_port);
// "4096", "64K", "1M", "10G" (binary units); throws Error(EXIT_USAGE).
uint64_t parse_size(const std::string &s);
// Dotted-quad IPv4 to network-order u32; throws Error(EXIT_USAGE).
uint32_t parse_ipv4(const std::string &s);
std::string format_ipv4(uint32_t be_addr);

} // namespace archipctl
