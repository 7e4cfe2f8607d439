/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vifmac enforce: the per-vif filtering rules by hand (list, add, remove),
 * for the admin and the tests; the hotplug helper installs them itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-cli.h"

static void enforce_usage(void)
{
	printf("Usage: vifmac enforce list\n"
	       "       vifmac enforce add IFNAME MAC\n"
	       "       vifmac enforce remove IFNAME [MAC]\n"
	       "\n"
	       "The rules in nftables' table bridge vifmac that hold a vif port to its MAC:\n"
	       "list prints each filtered interface and its MAC (nft list chain bridge vifmac\n"
	       "check shows what was dropped); "
	       "add installs (or replaces) one interface's rules; remove takes them away\n"
	       "(given the MAC they hold it to, without looking it up).\n");
}

int cmd_enforce(struct cli *cli, int argc, char **argv)
{
	struct vifmac_mac mac;
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		enforce_usage();
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		struct vifmac_enforce_entry *v = NULL;
		size_t n = 0;
		char buf[VIFMAC_MAC_STRLEN];

		r = vifmac_enforce_list(cli->ctx, &v, &n);
		if (r < 0)
			return cli_fail(cli, r, "enforce list");
		for (size_t i = 0; i < n; i++)
			printf("%-16s %s\n", v[i].ifname, vifmac_mac_format(&v[i].mac, buf));
		free(v);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "add") == 0 && argc == 4) {
		if (vifmac_mac_parse(argv[3], &mac) < 0) {
			cli_error("enforce add: \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)", argv[3]);
			return EXIT_USAGE;
		}
		r = vifmac_enforce_add(cli->ctx, argv[2], &mac);
		return r < 0 ? cli_fail(cli, r, "enforce add") : EXIT_OK;
	}
	if (strcmp(argv[1], "remove") == 0 && (argc == 3 || argc == 4)) {
		if (argc == 4 && vifmac_mac_parse(argv[3], &mac) < 0) {
			cli_error("enforce remove: \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)", argv[3]);
			return EXIT_USAGE;
		}
		r = vifmac_enforce_remove(cli->ctx, argv[2], argc == 4 ? &mac : NULL);
		return r < 0 ? cli_fail(cli, r, "enforce remove") : EXIT_OK;
	}
	enforce_usage();
	return EXIT_USAGE;
}
