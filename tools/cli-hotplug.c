/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One hotplug run for a vif or its emulated NIC's tap, from the toolstack's
 * environment (XENBUS_PATH, vif, INTERFACE): the decision of both
 * `vifmac hotplug` (tools/cmd-hotplug.c) and the hook itself
 * (hook/vif-vifmac.c). What it did goes to standard error, the hotplug log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "vifmac-cli.h"

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

/* Success: the network script to chain to, the policy's for @bridge. */
static int chain(struct cli *cli, const char *bridge, struct cli_hotplug_outcome *out)
{
	out->chain = vifmac_ctx_bridge_chain(cli->ctx, bridge && *bridge ? bridge : NULL);
	return EXIT_OK;
}

/*
 * The short form of a refusal that the hook writes to <backend>/hotplug-error,
 * which the guest can read. The admin's line may name another domain, its
 * UUID and IP; this one names only the kind and this vif's own MAC.
 */
static void guest_line(const char *kind, int devid, const struct vifmac_mac *mac, struct cli_hotplug_outcome *out)
{
	char buf[VIFMAC_MAC_STRLEN], what[48] = "";

	if (devid >= 0)
		snprintf(what, sizeof(what), " vif %d%s%s%s", devid, mac ? " (" : "", mac ? vifmac_mac_format(mac, buf) : "",
			 mac ? ")" : "");
	snprintf(out->guest, sizeof(out->guest), "vif-vifmac: %s:%s refused; the reason is in dom0's xen-hotplug.log",
		 kind, what);
}

int cli_hotplug(struct cli *cli, int argc, char **argv, struct cli_hotplug_outcome *out)
{
	const char *command, *type_if = "vif", *xenbus_path;
	struct vifmac_hotplug_vif vif;
	struct vifmac_registry *reg = NULL;
	struct vifmac_decision d;
	char path[64], line[1024], mac[VIFMAC_MAC_STRLEN];
	bool online;
	int r;

	out->chain = NULL;
	out->line[0] = out->guest[0] = '\0';
	if (argc < 2) {
		snprintf(out->line, sizeof(out->line), "vif-vifmac: no command (online, offline, add or remove)");
		return EXIT_USAGE;
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
		cli_snprintf(out->line, sizeof(out->line), "vif-vifmac: unknown command \"%s\"", command);
		return EXIT_USAGE;
	}
	/* as vif-common.sh: online/offline serve vifs, add/remove serve taps */
	if (strcmp(type_if, "vif") != 0 && strcmp(type_if, "tap") != 0) {
		cli_snprintf(out->line, sizeof(out->line), "vif-vifmac: unknown type_if=%s", type_if);
		return EXIT_USAGE;
	}
	if ((command[0] == 'o') != (strcmp(type_if, "vif") == 0))
		return chain(cli, NULL, out); /* not ours to handle; the network script decides */
	if (strcmp(type_if, "tap") == 0) {
		if (tap_xenbus_path(secure_getenv("INTERFACE"), path, sizeof(path)) < 0) {
			cli_snprintf(out->line, sizeof(out->line), "vif-vifmac: INTERFACE=\"%s\" is not vif<domid>.<devid>-emu",
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
			return chain(cli, NULL, out);
		}
		cli_snprintf(out->line, sizeof(out->line), "vif-vifmac: %s", vifmac_ctx_last_error(cli->ctx));
		guest_line("input", -1, NULL, out);
		return cli_exit_for(r) == EXIT_REFUSED ? EXIT_USAGE : cli_exit_for(r);
	}
	if (!online && strcmp(type_if, "tap") == 0)
		return chain(cli, vif.bridge, out); /* the vif's offline run releases the claim */
	r = vifmac_registry_open(cli->ctx, cli->registry ? cli->registry : vifmac_ctx_registry_url(cli->ctx), &reg);
	if (r < 0) {
		if (!online) {
			cli_printf(stderr, "vif-vifmac: offline domain %u vif %d: registry: %s (claim left for vifmac gc)\n",
				vif.domid, vif.devid, vifmac_ctx_last_error(cli->ctx));
			remove_rules(cli, vif.ifname, &vif.mac);
			return chain(cli, vif.bridge, out);
		}
		cli_snprintf(out->line, sizeof(out->line), "vif-vifmac: domain %u vif %d: registry unavailable, refusing to start with an unrecorded MAC: %s",
		       vif.domid, vif.devid, vifmac_ctx_last_error(cli->ctx));
		guest_line("unavailable", vif.devid, NULL, out);
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
		return chain(cli, vif.bridge, out);
	}
	r = vifmac_hotplug_online(cli->ctx, reg, &vif, vifmac_hotplug_mode_for(&vif), &d);
	vifmac_registry_close(reg);
	if (r < 0) {
		cli_snprintf(out->line, sizeof(out->line), "vif-vifmac: %s: %s", vifmac_refusal_kind_name(d.refusal.kind),
		       vifmac_refusal_format(&d.refusal, line, sizeof(line)));
		guest_line(vifmac_refusal_kind_name(d.refusal.kind), vif.devid, d.refusal.has_mac ? &d.refusal.mac : NULL, out);
		return cli_exit_for_refusal(d.refusal.kind);
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
	return chain(cli, vif.bridge, out);
}

