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

// What this archipctl speaks: its release and the versions of the wire
// protocol, the volume format and the two netlink families.
static Json version_json()
{
	return Json{{"archipctl", ARCHIP_VERSION},
		    {"wire_protocol", ARCHIP_PROTO_VERSION},
		    {"volume_format", ARCHIP_VOL_VERSION},
		    {"volume_formats_read", Json::array({ARCHIP_VOL_VERSION_1, ARCHIP_VOL_VERSION})},
		    {"netlink", {{"archip_srv", ARCHIP_SRV_GENL_VERSION},
				 {"archip_blk", ARCHIP_BLK_GENL_VERSION}}}};
}

static std::string version_text(const Json &v)
{
	return "archipctl " + v["archipctl"].get<std::string>() + "\n" +
	       "wire protocol " + text(v["wire_protocol"]) +
	       ", volume format " + text(v["volume_format"]) +
	       " (reads " + text(v["volume_formats_read"][0]) + ")" +
	       ", netlink archip_srv " + text(v["netlink"]["archip_srv"]) +
	       " archip_blk " + text(v["netlink"]["archip_blk"]);
}

int main(int argc, char **argv)
{
	CLI::App app{"archipctl: manage archip object servers, volumes and mappings", "archipctl"};

	app.require_subcommand(1);
	app.set_version_flag("--version", version_text(version_json()));
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
	} catch (const CLI::CallForVersion &e) {
		// --version as CLI11 meets it, with --json anywhere on the line
		// (CLI11 stops before it has set the flag).
		for (int i = 1; i < argc; i++)
			out.json |= std::string(argv[i]) == "--json";
		out.emit(version_json(), [](const Json &v) { std::cout << version_text(v) << "\n"; });
		return EXIT_OK;
	} catch (const CLI::Success &e) {	// --help
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
