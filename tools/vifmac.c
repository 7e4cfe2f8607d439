/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vifmac: the admin's command. Global options are accepted anywhere before "--". */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vifmac-cli.h"

static const struct {
	const char *name;
	cli_cmd_fn fn;
	bool needs_policy;
	const char *summary;
} commands[] = {
	{ "derive", cmd_derive, true, "print the MAC the policy gives one vif" },
	{ "plan", cmd_plan, true, "show each vif's decision for an xl domain config, or --running guests" },
	{ "xl-args", cmd_xl_args, true, "print vif=[...] with mac= filled in, for xl create" },
	{ "list", cmd_list, true, "list the registry" },
	{ "whois", cmd_whois, true, "who holds a MAC, an IP or a domain's MACs" },
	{ "reserve", cmd_reserve, true, "reserve a MAC for no domain (routers, hardware)" },
	{ "release", cmd_release, true, "release a claim or reservation" },
	{ "gc", cmd_gc, true, "release claims of domains no longer running on this host" },
	{ "export", cmd_export, true, "write the registry as JSON" },
	{ "import", cmd_import, true, "read registry records from JSON" },
	{ "migrate-registry", cmd_migrate, true, "copy every record of one registry into another (SQLite, etcd)" },
	{ "pool", cmd_pool, true, "operator pools: check, import, list, show, remove, allocate" },
	{ "audit", cmd_audit, true, "report duplicate and out-of-policy MACs on this host" },
	{ "seen", cmd_seen, false, "where dom0 and the wire show one MAC" },
	{ "adopt", cmd_adopt, true, "record the MACs running vifs use now (a host already in use)" },
	{ "fix-config", cmd_fix_config, true, "rewrite domain configs' mac= for the policy (xen-tools guests)" },
	{ "watch", cmd_watch, true, "follow the bridges and report our MACs on foreign ports as it happens" },
	{ "enforce", cmd_enforce, false, "list, add or remove the rules holding vif ports to their MAC" },
	{ "network-attach", cmd_network_attach, true, "xl network-attach with the policy's mac=" },
	{ "hotplug", cmd_hotplug, true, "the vif hotplug helper, run by vif-vifmac" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: vifmac [--config FILE] [--registry URL] COMMAND [OPTIONS]\n"
		   "\n"
		   "Deterministic, unique and accountable MAC addresses for Xen vifs.\n"
		   "\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n"
		   "Options:\n"
		   "  -c, --config FILE    policy file (default $VIFMAC_CONFIG, else %s)\n"
		   "      --registry URL   registry to use instead of the policy's registry=\n"
		   "  -h, --help           this help; COMMAND --help for a command's\n"
		   "  -V, --version        print the version\n"
		   "\n"
		   "Exit status: 0 success, 1 refused (policy or conflict), 2 bad usage or input,\n"
		   "3 the registry or the system could not be used. See vifmac(8), vifmac.conf(5).\n",
		VIFMAC_DEFAULT_CONFIG);
}

/* Takes --config/--registry out of argv (anywhere before "--"); returns the new argc or -1. */
static int take_global_options(struct cli *cli, int argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		const char *val = NULL;

		if (strcmp(a, "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0)
			slot = &cli->config;
		else if (strcmp(a, "--registry") == 0)
			slot = &cli->registry;
		else if (strncmp(a, "--config=", 9) == 0)
			slot = &cli->config, val = a + 9;
		else if (strncmp(a, "--registry=", 11) == 0)
			slot = &cli->registry, val = a + 11;
		if (!slot) {
			argv[out++] = argv[i];
			continue;
		}
		if (!val) {
			if (i + 1 >= argc) {
				cli_error("%s needs a value", a);
				return -1;
			}
			val = argv[++i];
		}
		if (!*val) {
			cli_error("%s needs a non-empty value", a);
			return -1;
		}
		*slot = val;
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	struct cli cli = { .progname = "vifmac" };
	const char *name;
	int rc;

	argc = take_global_options(&cli, argc, argv);
	if (argc < 0)
		return EXIT_USAGE;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("vifmac %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		bool wants_help = false;

		if (strcmp(commands[i].name, name) != 0)
			continue;
		for (int j = 2; j < argc && strcmp(argv[j], "--") != 0; j++)
			wants_help = wants_help || strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0;
		cli.ctx = vifmac_ctx_new();
		if (!cli.ctx) {
			cli_error("out of memory");
			return EXIT_SYSTEM;
		}
		rc = commands[i].needs_policy && !wants_help ? cli_load_policy(&cli) : 0;
		if (rc)
			cli_error("%s", vifmac_ctx_last_error(cli.ctx));
		if (rc == 0) {
			optind = 0;
			rc = commands[i].fn(&cli, argc - 1, argv + 1);
		}
		vifmac_ctx_unref(cli.ctx);
		fflush(stdout);
		if (ferror(stdout)) {
			cli_error("write error on standard output");
			return EXIT_SYSTEM;
		}
		return rc;
	}
	cli_error("unknown command \"%s\" (see vifmac --help)", name);
	return EXIT_USAGE;
}
