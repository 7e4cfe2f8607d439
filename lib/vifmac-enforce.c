/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-vif filtering: which vifs the policy holds to their MAC, the calls
 * that add, remove and list the rules through the system seam (nftables in
 * production: vifmac-nft.c, where the table is described), and the hotplug
 * steps that install and remove them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vifmac-internal.h"

#define TABLE VIFMAC_NFT_TABLE

/* ---------------------------------------------------------------- the library's calls */

/* Clears the last error; -EINVAL for a name nftables must not see, -EOPNOTSUPP without @have_op. */
static int can_filter(struct vifmac_ctx *ctx, const char *ifname, bool have_op)
{
	vifmac_clear_error(ctx);
	if (!vifmac_nft_ifname_ok(ifname))
		return vifmac_set_error(ctx, -EINVAL, "interface name \"%.64s\" cannot be filtered (letters, digits, _.- only)",
					ifname ? ifname : "");
	if (!have_op)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no per-vif filtering in this system seam");
	return 0;
}

VIFMAC_EXPORT int vifmac_enforce_add(struct vifmac_ctx *ctx, const char *ifname, const struct vifmac_mac *mac)
{
	char m[VIFMAC_MAC_STRLEN];
	int r;

	r = can_filter(ctx, ifname, ctx->sys.enforce_add != NULL);
	if (r < 0)
		return r;
	r = ctx->sys.enforce_add(ctx->sys_data, ifname, mac);
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot install the rules holding %s to %s (nftables, table " TABLE "): %s",
					ifname, vifmac_mac_format(mac, m), vifmac_sys_enforce_error(ctx, r));
	return 0;
}

VIFMAC_EXPORT int vifmac_enforce_remove(struct vifmac_ctx *ctx, const char *ifname, const struct vifmac_mac *hint)
{
	int r = can_filter(ctx, ifname, ctx->sys.enforce_remove != NULL);

	if (r < 0)
		return r;
	r = ctx->sys.enforce_remove(ctx->sys_data, ifname, hint);
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot remove the rules of %s (nftables, table " TABLE "): %s", ifname,
					vifmac_sys_enforce_error(ctx, r));
	return 0;
}

VIFMAC_EXPORT int vifmac_enforce_list(struct vifmac_ctx *ctx, struct vifmac_enforce_entry **ret_entries,
				      size_t *ret_n)
{
	int r;

	vifmac_clear_error(ctx);
	if (!ctx->sys.enforce_list)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no per-vif filtering in this system seam");
	r = ctx->sys.enforce_list(ctx->sys_data, ret_entries, ret_n);
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot list the rules (nftables, table " TABLE "): %s",
					vifmac_sys_enforce_error(ctx, r));
	return 0;
}

/* A domain name as the policy knows it: a migration's receiving side is "NAME--incoming". */
static bool domain_listed(char *const *list, size_t n, const char *name, const char *uuid)
{
	size_t len = name ? strlen(name) : 0;

	if (len > 10 && strcmp(name + len - 10, "--incoming") == 0)
		len -= 10;
	for (size_t i = 0; i < n; i++) {
		if (uuid && *uuid && strcasecmp(list[i], uuid) == 0)
			return true;
		if (len && strlen(list[i]) == len && strncmp(list[i], name, len) == 0)
			return true;
	}
	return false;
}

VIFMAC_EXPORT bool vifmac_enforce_applies(const struct vifmac_ctx *ctx, const char *bridge, const char *domain,
					  const char *uuid, char *why, size_t size)
{
	const struct vifmac_policy *p = ctx->policy;
	char buf[256];

	buf[0] = '\0';
	if (p->enforce == VIFMAC_ENFORCE_OFF)
		snprintf(buf, sizeof(buf), "enforce = \"off\"");
	else if (bridge && vifmac_strv_has(p->enforce_exempt_bridges, p->n_enforce_exempt_bridges, bridge))
		snprintf(buf, sizeof(buf), "bridge %.64s is in enforce_exempt_bridges", bridge);
	else if (domain_listed(p->enforce_exempt_domains, p->n_enforce_exempt_domains, domain, uuid))
		snprintf(buf, sizeof(buf), "domain %.100s is in enforce_exempt_domains",
			 domain && *domain ? domain : uuid ? uuid : "?");
	if (why && size)
		vifmac_strscpy(why, buf, size);
	return buf[0] == '\0';
}

/* ---------------------------------------------------------------- hotplug */

/* The dom0 interfaces of a vif: the PV one, and for an HVM emulated NIC its tap too. */
static size_t vif_ifnames(const struct vifmac_hotplug_vif *vif, char names[2][80])
{
	snprintf(names[0], sizeof(names[0]), "%s", vif->ifname);
	if (strcmp(vif->type, "vif") == 0)
		return 1;
	snprintf(names[1], sizeof(names[1]), "%s-emu", vif->ifname);
	return 2;
}

int vifmac_hotplug_enforce(struct vifmac_ctx *ctx, struct vifmac_registry *reg, const struct vifmac_hotplug_vif *vif,
			   struct vifmac_decision *d)
{
	char names[2][80], why[256], dom[160], mac[VIFMAC_MAC_STRLEN], err[sizeof(ctx->last_error)];
	size_t n = vif_ifnames(vif, names);
	int r = 0;

	if (vif->dom.name[0])
		snprintf(dom, sizeof(dom), "%s (domid %u)", vif->dom.name, vif->domid);
	else
		snprintf(dom, sizeof(dom), "domid %u", vif->domid);
	if (!vifmac_enforce_applies(ctx, vif->bridge, vif->dom.name, vif->dom.uuid, why, sizeof(why))) {
		info(ctx, "vif %d of %s (%s) is not filtered: %s", vif->devid, dom, vif->ifname, why);
		/* rules an earlier life of this interface name left must not hold it to another MAC */
		for (size_t i = 0; i < n; i++)
			vifmac_enforce_remove(ctx, names[i], &d->mac);
		vifmac_clear_error(ctx);
		return 0;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = vifmac_enforce_add(ctx, names[i], &d->mac);
	if (r == 0)
		return 0;
	vifmac_strscpy(err, ctx->last_error, sizeof(err));
	vifmac_mac_format(&d->mac, mac);
	if (ctx->policy->enforce_failure == VIFMAC_ENFORCE_FAILURE_WARN) {
		size_t len = strlen(d->warning);

		warn(ctx, "vif %d of %s: %s (enforce_failure = \"warn\": the vif runs unfiltered)", vif->devid, dom, err);
		snprintf(d->warning + len, sizeof(d->warning) - len, "%sunfiltered: %s (enforce_failure = \"warn\")",
			 len ? "; " : "", err);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		vifmac_enforce_remove(ctx, names[i], &d->mac);
	vifmac_registry_release(reg, &d->mac, vif->dom.uuid, vif->devid);
	return vifmac_refuse(d, VIFMAC_REFUSAL_UNAVAILABLE, r,
			     "vif %d of %s cannot be held to its MAC %s: %s; refusing to run it unfiltered (enforce_failure = \"refuse\"; see vifmac.conf(5))",
			     vif->devid, dom, mac, err);
}

void vifmac_hotplug_unenforce(struct vifmac_ctx *ctx, const struct vifmac_hotplug_vif *vif)
{
	char names[2][80];
	size_t n = vif_ifnames(vif, names);

	/* whatever the policy says now: it may have been on when the vif came online */
	for (size_t i = 0; i < n; i++)
		if (vifmac_enforce_remove(ctx, names[i], &vif->mac) < 0)
			warn(ctx, "offline vif %d of domid %u: %s (left for vifmac audit)", vif->devid, vif->domid,
			     ctx->last_error);
	vifmac_clear_error(ctx);
}
