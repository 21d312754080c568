// SPDX-License-Identifier: GPL-2.0
#include "output.hpp"

#include <iostream>

namespace archipctl {

Output out;

std::string text(const Json &v)
{
	if (v.is_null())
		return "-";
	if (v.is_boolean())
		return v.get<bool>() ? "yes" : "no";
	if (v.is_string())
		return v.get<std::string>();
	return to_json(v);
}

std::string to_json(const Json &v)
{
	return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void Output::emit(const Json &v, const std::function<void(const Json &)> &human) const
{
	if (json)
		std::cout << to_json(v) << std::endl;
	else
		human(v);
}

void Output::say(const Json &v, const std::string &text, std::ostream &to) const
{
	if (json)
		to << to_json(v) << std::endl;
	else
		to << text << std::flush;
}

} // namespace archipctl
