// SPDX-License-Identifier: GPL-2.0
// All output goes through here: a JSON value (nlohmann::ordered_json, so
// keys keep the order the command set them in), printed either as JSON
// (--json) or as the human form each command chooses.
#pragma once

#include <nlohmann/json.hpp>
#include <functional>
#include <iostream>
#include <string>

namespace archipctl {

using Json = nlohmann::ordered_json;

// A scalar as the human forms print it: "-" for null, yes/no for
// booleans, numbers and strings as they are; anything else as JSON.
std::string text(const Json &v);

// v as one line of JSON; bytes that are not UTF-8 become U+FFFD instead
// of throwing.
std::string to_json(const Json &v);

// Every command's result goes out through one of these: v as JSON (one
// line) if --json was given, else its human form: what human() prints
// (emit), or @text as it is (say).
struct Output {
	bool json = false;
	void emit(const Json &v, const std::function<void(const Json &)> &human) const;
	void say(const Json &v, const std::string &text, std::ostream &to = std::cout) const;
};

extern Output out;

} // namespace archipctl
