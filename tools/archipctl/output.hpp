// SPDX-License-Identifier: GPL-2.0
// All output goes through here: a small JSON value, printed either as
// JSON (--json) or as the human form each command chooses.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace archipctl {

class Json {
public:
	enum class Type { Null, Bool, Int, Uint, String, Array, Object };

	Json() = default;
	Json(bool b) : type_(Type::Bool), b_(b) {}
	Json(int v) : type_(Type::Int), i_(v) {}
	Json(int64_t v) : type_(Type::Int), i_(v) {}
	Json(uint32_t v) : type_(Type::Uint), u_(v) {}
	Json(uint64_t v) : type_(Type::Uint), u_(v) {}
	Json(const char *s) : type_(Type::String), s_(s) {}
	Json(std::string s) : type_(Type::String), s_(std::move(s)) {}

	static Json array() { Json j; j.type_ = Type::Array; return j; }
	static Json object() { Json j; j.type_ = Type::Object; return j; }

	Json &push(Json v);                         // arrays
	Json &set(const std::string &k, Json v);    // objects, keeps order
	const Json *get(const std::string &k) const;
	Type type() const { return type_; }
	const std::vector<Json> &items() const { return arr_; }

	std::string dump() const;                   // compact, one line
	std::string str() const;                    // scalar as plain text

private:
	Type type_ = Type::Null;
	bool b_ = false;
	int64_t i_ = 0;
	uint64_t u_ = 0;
	std::string s_;
	std::vector<Json> arr_;
	std::vector<std::pair<std::string, Json>> obj_;
};

std::string json_escape(const std::string &s);

// Print v as JSON if --json was given, else call human().
struct Output {
	bool json = false;
	void emit(const Json &v, void (*human)(const Json &)) const;
};

extern Output out;

} // namespace archipctl
