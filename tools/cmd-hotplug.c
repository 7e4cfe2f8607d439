/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vifmac hotplug: the hook's decision (tools/cli-hotplug.c) as a command, its
 * outcome on standard output: for trying a policy, and for scripts of one's own.
 * vifmac network-attach: xl network-attach with the policy's mac= filled in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vifmac-cli.h"

static void hotplug_usage(void)
{
	printf("Usage: vifmac hotplug online|offline|add|remove [type_if=vif|tap]\n"
	       "\n"
	       "The decision of /etc/xen/scripts/vif-vifmac (which takes it in its own\n"
	       "process), from the toolstack's environment (XENBUS_PATH for vif runs,\n"
	       "INTERFACE for tap runs). Prints chain=SCRIPT on success; on refusal one\n"
	       "line for the admin and its short form after \"guest: \" on standard\n"
	       "output, and exits non-zero; details of what it did go to standard error.\n");
}

int cmd_hotplug(struct cli *cli, int argc, char **argv)
{
	struct cli_hotplug_outcome out;
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		hotplug_usage();
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	rc = cli_hotplug(cli, argc, argv, &out);
	/* success: stdout carries only the network script to chain to; a
	 * refusal: the admin's line, then the guest's after "guest: " */
	if (rc == EXIT_OK)
		printf("chain=%s\n", out.chain);
	else if (out.guest[0])
		printf("%s\nguest: %s\n", out.line, out.guest);
	else
		printf("%s\n", out.line);
	return rc;
}

int cmd_network_attach(struct cli *cli, int argc, char **argv)
{
	struct vifmac_domcfg *cfg = NULL;
	struct vifmac_vif vif;
	struct vifmac_mac given;
	struct vifmac_decision d;
	char mac[VIFMAC_MAC_STRLEN], macarg[32], line[1024];
	const char *xl = secure_getenv("VIFMAC_XL"), *xl_conf = NULL;
	char **xlargv;
	int first = 1, n = 0, r;

	if (argc >= 3 && strcmp(argv[1], "--xl-conf") == 0) {
		xl_conf = argv[2];
		first = 3;
	}
	if (argc <= first || strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
		printf("Usage: vifmac network-attach [--xl-conf FILE] DOMAIN key=value...\n"
		       "\n"
		       "Runs \"xl network-attach DOMAIN key=value... mac=MAC\" with the MAC the\n"
		       "policy gives. The arguments are read as xl reads them (one vif spec item\n"
		       "each, bare trusted/untrusted included) on top of xl.conf's vif.default.*\n"
		       "(--xl-conf FILE, else $VIFMAC_XL_CONF, else /etc/xen/xl.conf), so a vif\n"
		       "without bridge= is on vif.default.bridge as xl puts it there. A running\n"
		       "guest connects its new vif before any hotplug script runs, so the MAC\n"
		       "must be right from the start.\n");
		return argc <= first ? EXIT_USAGE : EXIT_OK;
	}
	r = vifmac_domcfg_from_nic_args(cli->ctx, argv[first], argv + first + 1, (size_t)(argc - first - 1), xl_conf,
					&cfg);
	if (r < 0) {
		cli_error("network-attach: %s", vifmac_ctx_last_error(cli->ctx));
		return r == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE;
	}
	vifmac_domcfg_vif_input(cli->ctx, cfg, 0, &vif, &given);
	r = vifmac_decide(cli->ctx, &vif, &d);
	if (r < 0) {
		cli_error("refused (%s): domain %s bridge %s: %s", vifmac_refusal_kind_name(d.refusal.kind), vif.domain,
			  vif.bridge, vifmac_refusal_format(&d.refusal, line, sizeof(line)));
		vifmac_domcfg_free(cfg);
		return cli_exit_for_refusal(d.refusal.kind);
	}
	if (d.rule == VIFMAC_RULE_POOL) {
		/* the pool hands out the MAC at online, for the vif's UUID and devid; the guest would see another first */
		cli_error("refused (policy): domain %s bridge %s: the bridge takes its MACs from pools (bridge_pools), "
			  "which vifmac network-attach cannot allocate ahead of the hotplug; hot-plug on a "
			  "bridge with a policy rule, or attach the vif in the domain's config",
			  vif.domain, vif.bridge);
		vifmac_domcfg_free(cfg);
		return EXIT_REFUSED;
	}
	snprintf(macarg, sizeof(macarg), "mac=%s", vifmac_mac_format(&d.mac, mac));
	xlargv = calloc((size_t)argc + 4, sizeof(char *));
	if (!xlargv)
		return EXIT_SYSTEM;
	xlargv[n++] = (char *)(xl && *xl ? xl : "xl");
	xlargv[n++] = (char *)"network-attach";
	xlargv[n++] = argv[first];
	for (int i = first + 1; i < argc; i++)
		if (strncmp(argv[i], "mac=", 4) != 0)
			xlargv[n++] = argv[i];
	xlargv[n++] = macarg;
	xlargv[n] = NULL;
	cli_printf(stderr, "vifmac: %s gets %s on %s [%s: %s]\n", vif.domain, mac, vif.bridge, vifmac_rule_name(d.rule),
		   d.evidence);
	vifmac_domcfg_free(cfg);
	fflush(NULL);
	execvp(xlargv[0], xlargv);
	cli_error("cannot run %s: %s", xlargv[0], strerror(errno));
	free(xlargv);
	return EXIT_SYSTEM;
}
