// SPDX-License-Identifier: GPL-2.0
#include "output.hpp"

#include <cstdio>
#include <iostream>

namespace archipctl {

Output out;

std::string json_escape(const std::string &s)
{
	std::string r;

	for (unsigned char c : s) {
		switch (c) {
		case '"': r += "\\\""; break;
		case '\\': r += "\\\\"; break;
		case '\n': r += "\\n"; break;
		case '\r': r += "\\r"; break;
		case '\t': r += "\\t"; break;
		default:
			if (c < 0x20) {
				char buf[8];
				snprintf(buf, sizeof(buf), "\\u%04x", c);
				r += buf;
			} else {
				r += static_cast<char>(c);
			}
		}
	}
	return r;
}

Json &Json::push(Json v)
{
	arr_.push_back(std::move(v));
	return arr_.back();
}

Json &Json::set(const std::string &k, Json v)
{
	for (auto &kv : obj_)
		if (kv.first == k) {
			kv.second = std::move(v);
			return kv.second;
		}
	obj_.emplace_back(k, std::move(v));
	return obj_.back().second;
}

const Json *Json::get(const std::string &k) const
{
	for (auto &kv : obj_)
		if (kv.first == k)
			return &kv.second;
	return nullptr;
}

std::string Json::str() const
{
	switch (type_) {
	case Type::Null: return "-";
	case Type::Bool: return b_ ? "yes" : "no";
	case Type::Int: return std::to_string(i_);
	case Type::Uint: return std::to_string(u_);
	case Type::String: return s_;
	default: return dump();
	}
}

std::string Json::dump() const
{
	std::string r;
	bool first = true;

	switch (type_) {
	case Type::Null: return "null";
	case Type::Bool: return b_ ? "true" : "false";
	case Type::Int: return std::to_string(i_);
	case Type::Uint: return std::to_string(u_);
	case Type::String: return "\"" + json_escape(s_) + "\"";
	case Type::Array:
		r = "[";
		for (auto &v : arr_) {
			r += (first ? "" : ",") + v.dump();
			first = false;
		}
		return r + "]";
	case Type::Object:
		r = "{";
		for (auto &kv : obj_) {
			r += (first ? "\"" : ",\"") + json_escape(kv.first) + "\":" +
			     kv.second.dump();
			first = false;
		}
		return r + "}";
	}
	return "null";
}

void Output::emit(const Json &v, void (*human)(const Json &)) const
{
	if (json)
		std::cout << v.dump() << std::endl;
	else
		human(v);
}

} // namespace archipctl
