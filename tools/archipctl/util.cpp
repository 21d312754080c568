// SPDX-License-Identifier: GPL-2.0
#include "util.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <limits>

namespace archipctl {

HostPort parse_hostport(const std::string &s, uint16_t default_port)
{
	HostPort hp{s, default_port};
	auto colon = s.rfind(':');

	if (colon != std::string::npos) {
		std::string p = s.substr(colon + 1);
		hp.host = s.substr(0, colon);
		if (p.empty() || p.size() > 5 ||
		    p.find_first_not_of("0123456789") != std::string::npos ||
		    std::stoul(p) < 1 || std::stoul(p) > 65535)
			throw Error("bad port in '" + s + "': use HOST:PORT, PORT 1-65535",
				    EXIT_USAGE);
		hp.port = static_cast<uint16_t>(std::stoul(p));
	}
	if (hp.host.empty())
		throw Error("missing host in '" + s + "': use HOST[:PORT]", EXIT_USAGE);
	return hp;
}

std::vector<HostPort> parse_hostport_list(const std::string &s, uint16_t default_port)
{
	std::vector<HostPort> v;
	size_t start = 0;

	for (;;) {
		size_t comma = s.find(',', start);
		v.push_back(parse_hostport(s.substr(start, comma == std::string::npos ?
							   std::string::npos : comma - start),
					   default_port));
		if (comma == std::string::npos)
			return v;
		start = comma + 1;
	}
}

uint64_t parse_size(const std::string &s)
{
	size_t i = 0;
	uint64_t v = 0, mult = 1;

	while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
		uint64_t d = s[i] - '0';
		if (v > (std::numeric_limits<uint64_t>::max() - d) / 10)
			throw Error("size '" + s + "' is too large", EXIT_USAGE);
		v = v * 10 + d;
		i++;
	}
	if (i == 0)
		throw Error("bad size '" + s + "': use a number with an optional K, M, G, T or P",
			    EXIT_USAGE);
	std::string unit = s.substr(i);
	if (unit == "" || unit == "B")
		mult = 1;
	else if (unit == "K" || unit == "k" || unit == "KiB")
		mult = 1ULL << 10;
	else if (unit == "M" || unit == "MiB")
		mult = 1ULL << 20;
	else if (unit == "G" || unit == "GiB")
		mult = 1ULL << 30;
	else if (unit == "T" || unit == "TiB")
		mult = 1ULL << 40;
	else if (unit == "P" || unit == "PiB")
		mult = 1ULL << 50;
	else
		throw Error("bad size unit in '" + s + "': use K, M, G, T or P", EXIT_USAGE);
	if (v > std::numeric_limits<uint64_t>::max() / mult)
		throw Error("size '" + s + "' is too large", EXIT_USAGE);
	return v * mult;
}

uint32_t parse_ipv4(const std::string &s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s.c_str(), &a) != 1)
		throw Error("'" + s + "' is not an IPv4 address", EXIT_USAGE);
	return a.s_addr;
}

std::string format_ipv4(uint32_t be_addr)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a{be_addr};

	return inet_ntop(AF_INET, &a, buf, sizeof(buf)) ? buf : "?";
}

} // namespace archipctl
