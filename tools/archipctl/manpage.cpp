// SPDX-License-Identifier: GPL-2.0
#include "manpage.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace archipctl {

namespace {

// Text as man(7) prints it: backslashes escaped, minus signs as \-, and
// no line starting with a control character.
std::string roff(const std::string &s)
{
	std::string r;
	for (char ch : s) {
		if (ch == '\\')
			r += "\\e";
		else if (ch == '-')
			r += "\\-";
		else
			r += ch;
	}
	if (!r.empty() && (r[0] == '.' || r[0] == '\''))
		r = "\\&" + r;
	return r;
}

std::string upper(std::string s)
{
	for (auto &ch : s)
		ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
	return s;
}

// Descriptions are written for --help, in lower case; a man page's
// paragraphs start with a capital.
std::string sentence(std::string s)
{
	if (!s.empty())
		s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
	return s;
}

bool is_flag(const CLI::Option *o)
{
	return o->get_expected_max() == 0;
}

// What the option takes: the CLI's type name, or for free text the
// option's own name (--size SIZE reads better than --size TEXT); N for
// a number (its range is in the description).
std::string metavar(const CLI::Option *o)
{
	std::string t = o->get_type_name();
	if (t.rfind("UINT", 0) == 0 || t.rfind("INT", 0) == 0 || t.rfind("FLOAT", 0) == 0)
		return "N";
	if (o->get_lnames().empty())
		return t;
	return upper(o->get_lnames().front());
}

bool shown(const CLI::Option *o)
{
	return !o->get_group().empty() && o->get_name() != "--help" &&
	       o->get_name() != "--version";
}

std::vector<const CLI::App *> subcommands(const CLI::App &app)
{
	return app.get_subcommands([](const CLI::App *a) { return !a->get_group().empty(); });
}

std::vector<const CLI::Option *> options(const CLI::App &app)
{
	return app.get_options([](const CLI::Option *o) { return shown(o); });
}

void man_options(const CLI::App &app, std::ostream &out)
{
	for (const auto *o : options(app)) {
		out << ".TP\n";
		if (o->get_positional())
			out << ".I " << upper(o->get_name(true)) << "\n";
		else if (is_flag(o))
			out << ".B " << roff(o->get_name()) << "\n";
		else
			out << ".BI \"" << roff(o->get_name()) << " \" " << roff(metavar(o)) << "\n";
		std::string d = o->get_description();
		if (o->get_required() && !o->get_positional())
			d += " (required)";
		out << roff(sentence(d)) << "\n";
	}
}

void man_command(const CLI::App &app, const std::string &path, std::ostream &out)
{
	const auto subs = subcommands(app);

	out << ".SS \"" << roff(path);
	for (const auto *o : options(app))
		if (o->get_positional())
			out << " \\fI" << upper(o->get_name(true)) << "\\fR";
	if (!subs.empty())
		out << " \\fICOMMAND\\fR";
	out << "\"\n" << roff(sentence(app.get_description())) << ".\n";
	if (!subs.empty() && !options(app).empty())
		out << "Options for all its commands, given before or after the command:\n";
	man_options(app, out);
	for (const auto *s : subs)
		man_command(*s, path + " " + s->get_name(), out);
}

void bash_paths(const CLI::App &app, const std::string &path, std::ostream &words,
		std::ostream &steps, std::vector<std::string> &valued)
{
	words << "\t\"" << path << "\") words=\"";
	const char *sep = "";
	for (const auto *s : subcommands(app)) {
		words << sep << s->get_name();
		sep = " ";
	}
	for (const auto *o : options(app)) {
		if (o->get_positional())
			continue;
		for (const auto &l : o->get_lnames()) {
			words << sep << "--" << l;
			sep = " ";
			if (!is_flag(o) && std::find(valued.begin(), valued.end(), "--" + l) ==
						   valued.end())
				valued.push_back("--" + l);
		}
	}
	words << "\" ;;\n";
	for (const auto *s : subcommands(app)) {
		std::string next = path + " " + s->get_name();
		steps << "\t\t\"" << next << "\") path=\"" << next << "\" ;;\n";
		bash_paths(*s, next, words, steps, valued);
	}
}

} // namespace

void write_man_commands(const CLI::App &app, std::ostream &out)
{
	out << ".SH OPTIONS\n"
	       "These may come anywhere on the command line.\n";
	man_options(app, out);
	out << ".TP\n.B \\-\\-help\nPrint the help of the command it follows, and exit.\n"
	       ".TP\n.B \\-\\-version\n"
	       "Print archipctl's release and the wire protocol, volume format and netlink "
	       "versions it speaks, and exit.\n"
	       ".SH COMMANDS\n";
	for (const auto *s : subcommands(app))
		man_command(*s, app.get_name() + " " + s->get_name(), out);
}

void write_bash_completion(const CLI::App &app, std::ostream &out)
{
	std::ostringstream words, steps;
	std::vector<std::string> valued;
	std::string globals;

	for (const auto *o : options(app))
		for (const auto &l : o->get_lnames())
			globals += " --" + l;
	bash_paths(app, app.get_name(), words, steps, valued);
	out << "# bash completion for archipctl (written by archipctl --bash-completion)\n"
	       "_archipctl() {\n"
	       "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	       "\tlocal path=" << app.get_name() << " words i\n"
	       "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	       "\t\tcase \"$path ${COMP_WORDS[i]}\" in\n"
	    << steps.str()
	    << "\t\tesac\n"
	       "\tdone\n"
	       "\tcase $prev in\n\t";
	const char *sep = "";
	for (const auto &v : valued) {
		out << sep << v;
		sep = "|";
	}
	out << ")\n"
	       "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	       "\t\treturn ;;\n"
	       "\tesac\n"
	       "\tcase $path in\n"
	    << words.str()
	    << "\tesac\n"
	       "\t[ \"$path\" = " << app.get_name() << " ] || words=\"$words" << globals << "\"\n"
	       "\tCOMPREPLY=($(compgen -W \"$words --help\" -- \"$cur\"))\n"
	       "}\n"
	       "complete -F _archipctl " << app.get_name() << "\n";
}

} // namespace archipctl
