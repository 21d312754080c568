// SPDX-License-Identifier: GPL-2.0
// The cluster key (Documentation/security.rst): where it is read from
// (--key-file, $ARCHIP_KEY_FILE, /etc/archip/archip.key), --insecure, and
// archipctl key generate|load|id.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <linux/archip.h>

namespace archipctl {

struct KeyOpts {
	std::string file;	// --key-file (global)
	bool insecure = false;	// --insecure (global): no key at all
};
extern KeyOpts key_opts;

using Key = std::array<uint8_t, ARCHIP_KEY_LEN>;

// The key file in effect: --key-file, else $ARCHIP_KEY_FILE, else the default.
std::string key_path();
// A key file's key; throws an Error that says how to make or fix one.
Key read_key(const std::string &path);
// "0123456789abcdef": how a key is named everywhere it is shown.
std::string key_id_hex(uint64_t id);
// Object-protocol clients: authenticate with the key unless --insecure.
void use_client_key();

} // namespace archipctl
