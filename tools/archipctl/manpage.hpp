// SPDX-License-Identifier: GPL-2.0
// The man page's command reference and the bash completion, both written
// from the CLI11 definitions themselves, so neither can drift from what
// archipctl accepts.  The build runs archipctl --man-commands and
// --bash-completion (hidden: not in --help) and installs the results.
#pragma once

#include <iosfwd>

namespace CLI {
class App;
}

namespace archipctl {
// Every command, with its arguments and options, as man(7) sections.
void write_man_commands(const CLI::App &app, std::ostream &out);
// A bash completion script for archipctl (subcommands and options).
void write_bash_completion(const CLI::App &app, std::ostream &out);
} // namespace archipctl
