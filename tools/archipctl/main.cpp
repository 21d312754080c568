// SPDX-License-Identifier: GPL-2.0
// archipctl: the command-line tool of archip.  Each subcommand group
// lives in its own file (CLI11's subcom_in_files pattern).
#include "commands.hpp"
#include "key.hpp"
#include "archip_client.h"
#include "output.hpp"
#include "util.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

using namespace archipctl;

int main(int argc, char **argv)
{
	CLI::App app{"archipctl: manage archip object servers, volumes and mappings"};

	app.require_subcommand(1);
	// Global options may come anywhere on the command line.
	app.fallthrough();
	app.add_flag("--json", out.json, "machine-readable JSON output");
	app.add_option("--key-file", key_opts.file,
		       "the cluster key (default $ARCHIP_KEY_FILE, else " ARCHIP_KEY_FILE_DEFAULT ")");
	app.add_flag("--insecure", key_opts.insecure,
		     "no authentication: servers started so accept anyone, maps and "
		     "clients so reach only such servers");
	setup_server(app);
	setup_volume(app);
	setup_map(app);
	setup_key(app);

	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		app.exit(e);
		return EXIT_USAGE;
	} catch (const Error &e) {
		std::cerr << "archipctl: " << e.what() << "\n";
		return e.code;
	} catch (const std::exception &e) {
		std::cerr << "archipctl: internal error: " << e.what()
			  << " (please report it)\n";
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
