// SPDX-License-Identifier: GPL-2.0
// archipctl: the command-line tool of archip.  Each subcommand group
// lives in its own file (CLI11's subcom_in_files pattern).
#include "commands.hpp"
#include "key.hpp"
#include "manpage.hpp"
#include "archip_client.h"
#include "output.hpp"
#include "util.hpp"
#include <linux/archip.h>
#include <linux/archip-netlink.h>
#include <linux/archip-volume.h>

#include <CLI/CLI.hpp>
#include <iostream>

using namespace archipctl;

int main(int argc, char **argv)
{
	CLI::App app{"archipctl: manage archip object servers, volumes and mappings", "archipctl"};

	app.require_subcommand(1);
	app.set_version_flag("--version",
			     "archipctl " ARCHIP_VERSION "\n"
			     "wire protocol " + std::to_string(ARCHIP_PROTO_VERSION) +
			     ", volume format " + std::to_string(ARCHIP_VOL_VERSION) +
			     " (reads " + std::to_string(ARCHIP_VOL_VERSION_1) + ")" +
			     ", netlink archip_srv " + std::to_string(ARCHIP_SRV_GENL_VERSION) +
			     " archip_blk " + std::to_string(ARCHIP_BLK_GENL_VERSION));
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

	// For the build (hidden): the man page's commands, the completion.
	if (argc == 2 && std::string(argv[1]) == "--man-commands") {
		write_man_commands(app, std::cout);
		return EXIT_OK;
	}
	if (argc == 2 && std::string(argv[1]) == "--bash-completion") {
		write_bash_completion(app, std::cout);
		return EXIT_OK;
	}
	try {
		app.parse(argc, argv);
	} catch (const CLI::Success &e) {	// --help, --version
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
