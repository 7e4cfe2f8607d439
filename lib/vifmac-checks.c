/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The conflict checks: is a MAC free of every other vif backend of this host
 * (xenstore), of dom0's links, and of the wire (bridge FDBs, neighbour
 * tables)? A conflict comes back as a refusal carrying its evidence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

static int parse_uint(const char *s, size_t n, unsigned max, unsigned *ret)
{
	unsigned v = 0;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "backend/vif/<domid>/<devid>", optionally under /local/domain/0/. */
int vifmac_xenbus_path_parse(const char *p, unsigned *ret_domid, unsigned *ret_devid)
{
	const char *slash;

	if (!p)
		return -EINVAL;
	if (strncmp(p, "/local/domain/0/", 16) == 0)
		p += 16;
	if (strncmp(p, "backend/vif/", 12) != 0)
		return -EINVAL;
	p += 12;
	slash = strchr(p, '/');
	if (!slash || parse_uint(p, (size_t)(slash - p), 0x7ff0, ret_domid) < 0)
		return -EINVAL;
	p = slash + 1;
	return parse_uint(p, strlen(p), 65535, ret_devid);
}

/* A MAC in use on @bridge counts against a claim of @scope_key ("*": every bridge). */
static bool scope_covers(const char *scope_key, const char *bridge)
{
	return strcmp(scope_key, "*") == 0 || strcmp(scope_key, bridge) == 0;
}

void vifmac_holder_set(struct vifmac_refusal *ref, const struct vifmac_mac *mac, const char *where)
{
	memset(ref, 0, sizeof(*ref));
	ref->kind = VIFMAC_REFUSAL_CONFLICT;
	ref->mac = *mac;
	ref->has_mac = true;
	ref->holder.devid = -1;
	vifmac_strscpy(ref->holder.where, where, sizeof(ref->holder.where));
}

/*
 * Every vif backend of this host other than @self and, during a migration's
 * hand-over, other than the same vif (devid) of the domain it comes from
 * (@peer_domid, or -1): that is the same guest, moving.
 */
static int check_xenstore(struct vifmac_ctx *ctx, const struct vifmac_mac *mac, const char *scope_key,
			  const struct vifmac_hotplug_vif *self, int peer_domid, struct vifmac_refusal *ref)
{
	char **doms = NULL;
	size_t n_doms = 0;
	int r = ctx->sys.xs_directory(ctx->sys_data, 0, "/local/domain/0/backend/vif", &doms, &n_doms);
	int found = 0;

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot list /local/domain/0/backend/vif: %s", strerror(-r));
	for (size_t i = 0; i < n_doms && !found; i++) {
		char dir[128], **devs = NULL;
		size_t n_devs = 0;

		snprintf(dir, sizeof(dir), "/local/domain/0/backend/vif/%s", doms[i]);
		if (ctx->sys.xs_directory(ctx->sys_data, 0, dir, &devs, &n_devs) < 0)
			continue; /* went away meanwhile */
		for (size_t j = 0; j < n_devs && !found; j++) {
			char path[192], *val = NULL, *bridge = NULL;
			struct vifmac_mac other;
			unsigned domid, devid;

			snprintf(path, sizeof(path), "backend/vif/%s/%s", doms[i], devs[j]);
			if (vifmac_xenbus_path_parse(path, &domid, &devid) < 0)
				continue;
			if (self && (domid == self->domid || (int)domid == peer_domid) && (int)devid == self->devid)
				continue;
			snprintf(path, sizeof(path), "%s/%s/mac", dir, devs[j]);
			if (ctx->sys.xs_read(ctx->sys_data, 0, path, &val) < 0)
				continue;
			if (vifmac_mac_parse(val, &other) == 0 && vifmac_mac_equal(&other, mac)) {
				snprintf(path, sizeof(path), "%s/%s/bridge", dir, devs[j]);
				if (ctx->sys.xs_read(ctx->sys_data, 0, path, &bridge) < 0)
					bridge = NULL;
				if (scope_covers(scope_key, bridge ? bridge : "")) {
					struct vifmac_domain_info info = { 0 };

					vifmac_holder_set(ref, mac, "xenstore");
					if (ctx->sys.get_domain && ctx->sys.get_domain(ctx->sys_data, domid, &info) == 0) {
						vifmac_strscpy(ref->holder.domain, info.name, sizeof(ref->holder.domain));
						vifmac_strscpy(ref->holder.uuid, info.uuid, sizeof(ref->holder.uuid));
					}
					ref->holder.devid = (int)devid;
					snprintf(ref->holder.detail, sizeof(ref->holder.detail),
						 "domain %u vif %u on bridge %s (backend/vif/%u/%u)", domid, devid,
						 bridge ? bridge : "?", domid, devid);
					found = 1;
				}
				free(bridge);
			}
			free(val);
		}
		for (size_t j = 0; j < n_devs; j++)
			free(devs[j]);
		free(devs);
	}
	for (size_t i = 0; i < n_doms; i++)
		free(doms[i]);
	free(doms);
	return found ? -EEXIST : 0;
}

static bool is_self_link(const struct vifmac_hotplug_vif *self, const char *name)
{
	char buf[80];

	if (!self)
		return false;
	snprintf(buf, sizeof(buf), "vif%u.%d", self->domid, self->devid);
	if (strcmp(name, buf) == 0 || strcmp(name, self->ifname) == 0)
		return true;
	snprintf(buf, sizeof(buf), "vif%u.%d-emu", self->domid, self->devid);
	if (strcmp(name, buf) == 0)
		return true;
	snprintf(buf, sizeof(buf), "%s-emu", self->ifname);
	return strcmp(name, buf) == 0;
}

static int check_links(struct vifmac_ctx *ctx, const struct vifmac_mac *mac, const char *scope_key,
		       const struct vifmac_hotplug_vif *self, struct vifmac_refusal *ref)
{
	struct vifmac_link_info *links = NULL;
	size_t n = 0;
	int r = ctx->sys.list_links(ctx->sys_data, &links, &n);

	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot list dom0's network links: %s", strerror(-r));
	r = 0;
	for (size_t i = 0; i < n; i++) {
		const struct vifmac_link_info *l = &links[i];

		if (!vifmac_mac_equal(&l->mac, mac) || is_self_link(self, l->name))
			continue;
		if (strcmp(scope_key, "*") != 0 && strcmp(l->master, scope_key) != 0 && strcmp(l->name, scope_key) != 0)
			continue;
		vifmac_holder_set(ref, mac, "dom0-link");
		if (l->master[0])
			snprintf(ref->holder.detail, sizeof(ref->holder.detail), "dom0 interface %s (port of %s)", l->name,
				 l->master);
		else
			snprintf(ref->holder.detail, sizeof(ref->holder.detail), "dom0 interface %s", l->name);
		r = -EEXIST;
		break;
	}
	free(links);
	return r;
}

/* A dom0 interface that is (or will be) a vif of some domain of this host. */
static bool is_vif_port(struct vifmac_ctx *ctx, const char *name)
{
	unsigned d, n;
	char tail[8] = "";
	char **doms = NULL;
	size_t n_doms = 0;
	bool found = false;

	if (sscanf(name, "vif%u.%u%7s", &d, &n, tail) >= 2 && (!tail[0] || strcmp(tail, "-emu") == 0))
		return true;
	/* vifname= renames: look them up in the backends */
	if (ctx->sys.xs_directory(ctx->sys_data, 0, "/local/domain/0/backend/vif", &doms, &n_doms) < 0)
		return false;
	for (size_t i = 0; i < n_doms; i++) {
		char dir[128], **devs = NULL;
		size_t n_devs = 0;

		snprintf(dir, sizeof(dir), "/local/domain/0/backend/vif/%s", doms[i]);
		if (!found && ctx->sys.xs_directory(ctx->sys_data, 0, dir, &devs, &n_devs) == 0) {
			for (size_t j = 0; j < n_devs; j++) {
				char path[192], *v = NULL, emu[80];

				snprintf(path, sizeof(path), "%s/%s/vifname", dir, devs[j]);
				if (!found && ctx->sys.xs_read(ctx->sys_data, 0, path, &v) == 0) {
					snprintf(emu, sizeof(emu), "%s-emu", v);
					found = strcmp(v, name) == 0 || strcmp(emu, name) == 0;
					free(v);
				}
				free(devs[j]);
			}
			free(devs);
		}
		free(doms[i]);
	}
	free(doms);
	return found;
}

/* Is @ip (a neighbour's address) one of the vif's own ip= entries? */
static bool is_own_ip(const struct vifmac_hotplug_vif *self, const char *ip)
{
	const char *p;
	size_t n = strlen(ip);

	if (!self || !*ip)
		return false;
	for (p = self->ip; (p = strstr(p, ip)); p += n) {
		bool starts = p == self->ip || p[-1] == ' ';
		bool ends = p[n] == '\0' || p[n] == ' ' || p[n] == '/';

		if (starts && ends)
			return true;
	}
	return false;
}

/* Bridge FDB and neighbour tables: the MAC seen on the wire by someone not ours. */
static int check_wire(struct vifmac_ctx *ctx, const struct vifmac_mac *mac, const char *scope_key,
		      const struct vifmac_hotplug_vif *self, struct vifmac_refusal *ref)
{
	struct vifmac_fdb_entry *fdb = NULL;
	struct vifmac_neigh_entry *neigh = NULL;
	size_t n_fdb = 0, n_neigh = 0;
	char sender[64] = "";
	int r;

	if (!ctx->sys.list_fdb || !ctx->sys.list_neigh)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no access to the bridges' forwarding databases");
	if (ctx->sys.find_fdb)
		r = ctx->sys.find_fdb(ctx->sys_data, mac, &fdb, &n_fdb);
	else
		r = ctx->sys.list_fdb(ctx->sys_data, &fdb, &n_fdb);
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot read the bridges' forwarding databases: %s", strerror(-r));
	r = 0;
	for (size_t i = 0; i < n_fdb && r == 0; i++) {
		const struct vifmac_fdb_entry *e = &fdb[i];

		if (e->local || !vifmac_mac_equal(&e->mac, mac) || !scope_covers(scope_key, e->bridge) ||
		    is_self_link(self, e->port))
			continue;
		if (is_vif_port(ctx, e->port)) {
			/* another guest sends from it (without enforce = "mac"): not a machine out there */
			if (!sender[0])
				vifmac_strscpy(sender, e->port, sizeof(sender));
			continue;
		}
		vifmac_holder_set(ref, mac, "fdb");
		if (e->age >= 0)
			snprintf(ref->holder.detail, sizeof(ref->holder.detail),
				 "bridge %s port %s%s%.0d, learned %llds ago", e->bridge, e->port, e->vlan ? " vlan " : "",
				 e->vlan, (long long)e->age);
		else
			snprintf(ref->holder.detail, sizeof(ref->holder.detail), "bridge %s port %s", e->bridge, e->port);
		r = -EEXIST;
	}
	free(fdb);
	if (r)
		return r;
	r = ctx->sys.list_neigh(ctx->sys_data, &neigh, &n_neigh);
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot read dom0's neighbour tables: %s", strerror(-r));
	for (size_t i = 0; i < n_neigh && r == 0; i++) {
		const struct vifmac_neigh_entry *e = &neigh[i];

		if (!vifmac_mac_equal(&e->mac, mac) || is_own_ip(self, e->ip) || is_self_link(self, e->ifname) ||
		    is_vif_port(ctx, e->ifname))
			continue;
		if (strcmp(scope_key, "*") != 0 && strcmp(scope_key, e->ifname) != 0)
			continue;
		r = -EEXIST;
		if (sender[0]) {
			/* the bridge learned the MAC on a vif port: that guest planted the entry */
			struct vifmac_domain_info info = { 0 };
			unsigned d, n;
			char who[160] = "";

			if (sscanf(sender, "vif%u.%u", &d, &n) == 2 && ctx->sys.get_domain &&
			    ctx->sys.get_domain(ctx->sys_data, d, &info) == 0)
				snprintf(who, sizeof(who), " of domain %s (domid %u)", info.name[0] ? info.name : "?", d);
			vifmac_holder_set(ref, mac, "guest-wire");
			snprintf(ref->holder.detail, sizeof(ref->holder.detail),
				 "dom0's neighbour %s on %s (%s), sent from vif port %s%s", e->ip, e->ifname, e->state,
				 sender, who);
			continue;
		}
		vifmac_holder_set(ref, mac, "neighbour");
		snprintf(ref->holder.detail, sizeof(ref->holder.detail), "dom0's neighbour %s on %s (%s)", e->ip,
			 e->ifname, e->state);
	}
	free(neigh);
	return r;
}

/* The checks in order: xenstore, dom0 links, then (as wire_check says) the wire. */
int vifmac_check_mac_migrating(struct vifmac_ctx *ctx, const struct vifmac_mac *mac, const char *scope_key,
			       const struct vifmac_hotplug_vif *self, int peer_domid, unsigned flags,
			       struct vifmac_refusal *ret_refusal)
{
	struct vifmac_refusal ref;
	enum vifmac_wire_check wire = ctx->policy->wire_check;
	int r;

	if (!ctx->sys.xs_directory || !ctx->sys.xs_read || !ctx->sys.list_links)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no xenstore or link access to check for conflicts");
	r = check_xenstore(ctx, mac, scope_key, self, peer_domid, &ref);
	if (r == 0)
		r = check_links(ctx, mac, scope_key, self, &ref);
	if (r == 0 && wire != VIFMAC_WIRE_OFF && !(flags & VIFMAC_CHECK_NO_WIRE)) {
		r = check_wire(ctx, mac, scope_key, self, &ref);
		if (r == -EEXIST && wire == VIFMAC_WIRE_WARN) {
			char buf[VIFMAC_MAC_STRLEN];

			warn(ctx, "%s is seen on the wire: %s (wire_check = \"warn\")", vifmac_mac_format(mac, buf),
			     ref.holder.detail);
			ref.kind = VIFMAC_REFUSAL_NONE;
			if (ret_refusal)
				*ret_refusal = ref;
			return 0;
		}
	}
	if (r == -EEXIST && ret_refusal)
		*ret_refusal = ref;
	return r;
}

VIFMAC_EXPORT int vifmac_check_mac(struct vifmac_ctx *ctx, const struct vifmac_mac *mac, const char *scope_key,
				   const struct vifmac_hotplug_vif *self, unsigned flags,
				   struct vifmac_refusal *ret_refusal)
{
	return vifmac_check_mac_migrating(ctx, mac, scope_key, self, -1, flags, ret_refusal);
}
