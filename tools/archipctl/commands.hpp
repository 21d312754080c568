// SPDX-License-Identifier: GPL-2.0
// One setup function per subcommand group, each in its own file.
#pragma once

namespace CLI {
class App;
}

namespace archipctl {
void setup_server(CLI::App &app);
void setup_volume(CLI::App &app);
void setup_map(CLI::App &app);
void setup_key(CLI::App &app);
}
