/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vifmac hotplug: the C half of /etc/xen/scripts/vif-vifmac, run by libxl
 * through the hook with the hotplug environment (XENBUS_PATH, vif, INTERFACE).
 * vifmac network-attach: xl network-attach with the policy's mac= filled in.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "vifmac-cli.h"

static void hotplug_usage(void)
{
	printf("Usage: vifmac hotplug online|offline|add|remove [type_if=vif|tap]\n"
	       "\n"
	       "Run by /etc/xen/scripts/vif-vifmac with the toolstack's environment\n"
	       "(XENBUS_PATH for vif runs, INTERFACE for tap runs). On refusal it prints\n"
	       "one line for the admin on standard output and exits non-zero; details of\n"
	       "what it did go to standard error (the hotplug log).\n");
}

/* "vif<domid>.<devid>-emu" (or a vifname with -emu) → "backend/vif/<domid>/<devid>" */
static int tap_xenbus_path(const char *iface, char *buf, size_t size)
{
	unsigned domid, devid;
	char tail[8];

	if (!iface || sscanf(iface, "vif%u.%u%7s", &domid, &devid, tail) != 3 || strcmp(tail, "-emu") != 0)
		return -EINVAL;
	snprintf(buf, size, "backend/vif/%u/%u", domid, devid);
	return 0;
}

/* An unplug the library could not follow to the end: its rules go anyway (never fails). */
static void remove_rules(struct cli *cli, const char *ifname, const struct vifmac_mac *mac)
{
	char emu[80];

	if (!ifname || !*ifname)
		return;
	snprintf(emu, sizeof(emu), "%s-emu", ifname);
	if (vifmac_enforce_remove(cli->ctx, ifname, mac) < 0 || vifmac_enforce_remove(cli->ctx, emu, mac) < 0)
		fprintf(stderr, "vif-vifmac: offline %s: %s (left for vifmac audit)\n", ifname,
			vifmac_ctx_last_error(cli->ctx));
}

/* On success, stdout carries only the network script to chain to. */
static int chain(struct cli *cli, const char *bridge)
{
	printf("chain=%s\n", vifmac_ctx_bridge_chain(cli->ctx, bridge && *bridge ? bridge : NULL));
	return EXIT_OK;
}

/*
 * The last line of a refusal: the short form the hook writes to
 * <backend>/hotplug-error, which the guest can read. The line before it,
 * for xl, the log and syslog, may name another domain, its UUID and IP;
 * this one names only the kind and this vif's own MAC.
 */
static void guest_line(const char *kind, int devid, const struct vifmac_mac *mac)
{
	char buf[VIFMAC_MAC_STRLEN], what[48] = "";

	if (devid >= 0)
		snprintf(what, sizeof(what), " vif %d%s%s%s", devid, mac ? " (" : "", mac ? vifmac_mac_format(mac, buf) : "",
			 mac ? ")" : "");
	printf("guest: vif-vifmac: %s:%s refused; the reason is in dom0's xen-hotplug.log\n", kind, what);
}

static int exit_for_kind(enum vifmac_refusal_kind kind)
{
	switch (kind) {
	case VIFMAC_REFUSAL_INPUT:
		return EXIT_USAGE;
	case VIFMAC_REFUSAL_UNAVAILABLE:
		return EXIT_SYSTEM;
	default:
		return EXIT_REFUSED;
	}
}

int cmd_hotplug(struct cli *cli, int argc, char **argv)
{
	const char *command, *type_if = "vif", *xenbus_path;
	struct vifmac_hotplug_vif vif;
	struct vifmac_registry *reg = NULL;
	struct vifmac_decision d;
	char path[64], line[1024], mac[VIFMAC_MAC_STRLEN];
	bool online;
	int r, rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		hotplug_usage();
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	command = argv[1];
	for (int i = 2; i < argc; i++)
		if (strncmp(argv[i], "type_if=", 8) == 0)
			type_if = argv[i] + 8;
	if (strcmp(command, "online") == 0 || strcmp(command, "add") == 0)
		online = true;
	else if (strcmp(command, "offline") == 0 || strcmp(command, "remove") == 0)
		online = false;
	else {
		cli_printf(stdout, "vif-vifmac: unknown command \"%s\"\n", command);
		return EXIT_USAGE;
	}
	/* as vif-common.sh: online/offline serve vifs, add/remove serve taps */
	if (strcmp(type_if, "vif") != 0 && strcmp(type_if, "tap") != 0) {
		cli_printf(stdout, "vif-vifmac: unknown type_if=%s\n", type_if);
		return EXIT_USAGE;
	}
	if ((command[0] == 'o') != (strcmp(type_if, "vif") == 0))
		return chain(cli, NULL); /* not ours to handle; the network script decides */
	if (strcmp(type_if, "tap") == 0) {
		if (tap_xenbus_path(secure_getenv("INTERFACE"), path, sizeof(path)) < 0) {
			cli_printf(stdout, "vif-vifmac: INTERFACE=\"%s\" is not vif<domid>.<devid>-emu\n",
			       secure_getenv("INTERFACE") ? secure_getenv("INTERFACE") : "");
			return EXIT_USAGE;
		}
		xenbus_path = path;
	} else {
		xenbus_path = secure_getenv("XENBUS_PATH");
	}

	r = vifmac_hotplug_read(cli->ctx, xenbus_path, &vif);
	if (r < 0) {
		if (!online) {
			/* the backend is already gone: nothing we can do, nothing to block */
			cli_printf(stderr, "vif-vifmac: %s %s: %s\n", command, xenbus_path ? xenbus_path : "?",
				vifmac_ctx_last_error(cli->ctx));
			if (strcmp(type_if, "vif") == 0)
				remove_rules(cli, secure_getenv("vif"), NULL);
			return chain(cli, NULL);
		}
		cli_printf(stdout, "vif-vifmac: %s\n", vifmac_ctx_last_error(cli->ctx));
		guest_line("input", -1, NULL);
		return cli_exit_for(r) == EXIT_REFUSED ? EXIT_USAGE : cli_exit_for(r);
	}
	if (!online && strcmp(type_if, "tap") == 0)
		return chain(cli, vif.bridge); /* the vif's offline run releases the claim */
	r = vifmac_registry_open(cli->ctx, cli->registry ? cli->registry : vifmac_ctx_registry_url(cli->ctx), &reg);
	if (r < 0) {
		if (!online) {
			cli_printf(stderr, "vif-vifmac: offline domain %u vif %d: registry: %s (claim left for vifmac gc)\n",
				vif.domid, vif.devid, vifmac_ctx_last_error(cli->ctx));
			remove_rules(cli, vif.ifname, &vif.mac);
			return chain(cli, vif.bridge);
		}
		cli_printf(stdout, "vif-vifmac: domain %u vif %d: registry unavailable, refusing to start with an unrecorded MAC: %s\n",
		       vif.domid, vif.devid, vifmac_ctx_last_error(cli->ctx));
		guest_line("unavailable", vif.devid, NULL);
		return EXIT_SYSTEM;
	}
	if (!online) {
		r = vifmac_hotplug_offline(cli->ctx, reg, &vif);
		if (r < 0)
			cli_printf(stderr, "vif-vifmac: offline domain %u vif %d: cannot release the claim: %s\n", vif.domid,
				vif.devid, vifmac_ctx_last_error(cli->ctx));
		else
			cli_printf(stderr, "vif-vifmac: offline domain %u vif %d: released %d claim(s)\n", vif.domid,
				vif.devid, r);
		vifmac_registry_close(reg);
		return chain(cli, vif.bridge);
	}
	r = vifmac_hotplug_online(cli->ctx, reg, &vif, vifmac_hotplug_mode_for(&vif), &d);
	vifmac_registry_close(reg);
	if (r < 0) {
		cli_printf(stdout, "vif-vifmac: %s: %s\n", vifmac_refusal_kind_name(d.refusal.kind),
		       vifmac_refusal_format(&d.refusal, line, sizeof(line)));
		guest_line(vifmac_refusal_kind_name(d.refusal.kind), vif.devid, d.refusal.has_mac ? &d.refusal.mac : NULL);
		rc = exit_for_kind(d.refusal.kind);
		return rc;
	}
	if (!vifmac_enforce_applies(cli->ctx, vif.bridge, vif.dom.name, vif.dom.uuid, line, sizeof(line)))
		cli_printf(stderr, "vif-vifmac: domain %u vif %d (%s) is not held to its MAC: %s\n", vif.domid,
			   vif.devid, vif.ifname, line);
	if (d.warning[0]) {
		/* what was let through or taken over goes to the hotplug log and to syslog */
		cli_printf(stderr, "vif-vifmac: warning: domain %u vif %d: %s\n", vif.domid, vif.devid, d.warning);
		openlog("vif-vifmac", LOG_PID, LOG_DAEMON);
		syslog(LOG_WARNING, "domain %s (%u) vif %d: %s", vif.dom.name[0] ? vif.dom.name : "?", vif.domid,
		       vif.devid, d.warning);
		closelog();
	}
	cli_printf(stderr, "vif-vifmac: domain %s (%u) vif %d on %s: %s %s [%s: %s]\n",
		vif.dom.name[0] ? vif.dom.name : "?", vif.domid, vif.devid, vif.bridge,
		vifmac_hotplug_mode_for(&vif) == VIFMAC_HOTPLUG_REWRITE ? "assigned" : "verified",
		vifmac_mac_format(&d.mac, mac), vifmac_rule_name(d.rule), d.evidence);
	return chain(cli, vif.bridge);
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
		return exit_for_kind(d.refusal.kind);
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
