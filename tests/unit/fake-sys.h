/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake system seam for unit tests: xenstore and the domain list are the
 * tests' one model (tests/fake/xsmodel.h: node owners, every path read,
 * transactions that buffer their writes, commits that fail with EAGAIN
 * f->xs.eagain times); dom0 links, FDB and neighbour tables, a settable
 * clock and host name, per-vif filtering are this file's.
 */
#ifndef VIFMAC_FAKE_SYS_H
#define VIFMAC_FAKE_SYS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac.h"
#include "xsmodel.h"

struct fake_sys {
	struct xsm xs; /* xenstore and the hypervisor's domains: tests/fake/xsmodel.h */
	struct vifmac_link_info links[8];
	size_t n_links;
	struct vifmac_fdb_entry fdb[8];
	size_t n_fdb;
	struct vifmac_neigh_entry neigh[8];
	size_t n_neigh;
	int64_t now;
	char hostname[64];
	/* per-vif filtering: the interfaces held to a MAC, and faults to inject */
	struct vifmac_enforce_entry rules[8];
	size_t n_rules;
	int enforce_error; /* enforce_add fails with this when set */
	int enforce_adds, enforce_removes;
};

/* Frees what the model holds; @f is an empty fake again. */
static __attribute__((unused)) void fake_sys_free(struct fake_sys *f)
{
	xsm_free(&f->xs);
}

/* Sets a node (creating it) with its owner, as a test states it. */
static __attribute__((unused)) void fake_set(struct fake_sys *f, const char *path, const char *value, unsigned owner)
{
	if (xsm_set(&f->xs, path, value, (unsigned)strlen(value), owner) < 0)
		abort();
}

static __attribute__((unused)) const char *fake_get(struct fake_sys *f, const char *path)
{
	struct xsm_node *n = xsm_find(&f->xs, path);

	return n ? n->value : NULL;
}

/* Removes @path and what is below it (a vif unplugged, a node never written). */
static __attribute__((unused)) void fake_rm(struct fake_sys *f, const char *path)
{
	if (xsm_rm(&f->xs, path) < 0)
		abort();
}

static __attribute__((unused)) bool fake_was_read_under(const struct fake_sys *f, const char *prefix)
{
	return xsm_was_read_under(&f->xs, prefix);
}

/* The model's seam, @data being the fake (tests that wrap these pass a struct starting with one). */
static __attribute__((unused)) int fake_xs_read(void *data, unsigned long t, const char *path, char **ret)
{
	return xsm_seam_read(&((struct fake_sys *)data)->xs, t, path, ret);
}

static __attribute__((unused)) int fake_xs_write(void *data, unsigned long t, const char *path, const char *value)
{
	return xsm_seam_write(&((struct fake_sys *)data)->xs, t, path, value);
}

static __attribute__((unused)) int fake_xs_directory(void *data, unsigned long t, const char *path, char ***ret_names,
						     size_t *ret_n)
{
	return xsm_seam_directory(&((struct fake_sys *)data)->xs, t, path, ret_names, ret_n);
}

static __attribute__((unused)) int fake_xs_owner(void *data, unsigned long t, const char *path, unsigned *ret_domid)
{
	return xsm_seam_owner(&((struct fake_sys *)data)->xs, t, path, ret_domid);
}

static __attribute__((unused)) int fake_xs_transaction_start(void *data, unsigned long *ret_t)
{
	return xsm_seam_transaction_start(&((struct fake_sys *)data)->xs, ret_t);
}

static __attribute__((unused)) int fake_xs_transaction_end(void *data, unsigned long t, bool abort)
{
	return xsm_seam_transaction_end(&((struct fake_sys *)data)->xs, t, abort);
}

static __attribute__((unused)) int fake_list_domains(void *data, struct vifmac_domain_info **ret, size_t *ret_n)
{
	return xsm_seam_list_domains(&((struct fake_sys *)data)->xs, ret, ret_n);
}

static __attribute__((unused)) int fake_get_domain(void *data, unsigned domid, struct vifmac_domain_info *ret)
{
	return xsm_seam_get_domain(&((struct fake_sys *)data)->xs, domid, ret);
}

static __attribute__((unused)) int fake_list_links(void *data, struct vifmac_link_info **ret, size_t *ret_n)
{
	struct fake_sys *f = data;

	*ret = calloc(f->n_links + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, f->links, f->n_links * sizeof(**ret));
	*ret_n = f->n_links;
	return 0;
}

static __attribute__((unused)) int fake_list_fdb(void *data, struct vifmac_fdb_entry **ret, size_t *ret_n)
{
	struct fake_sys *f = data;

	*ret = calloc(f->n_fdb + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, f->fdb, f->n_fdb * sizeof(**ret));
	*ret_n = f->n_fdb;
	return 0;
}

static __attribute__((unused)) int fake_list_neigh(void *data, struct vifmac_neigh_entry **ret, size_t *ret_n)
{
	struct fake_sys *f = data;

	*ret = calloc(f->n_neigh + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, f->neigh, f->n_neigh * sizeof(**ret));
	*ret_n = f->n_neigh;
	return 0;
}

static __attribute__((unused)) int64_t fake_now(void *data)
{
	return ((struct fake_sys *)data)->now;
}

static __attribute__((unused)) int fake_hostname(void *data, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ((struct fake_sys *)data)->hostname);
	return 0;
}

static __attribute__((unused)) struct vifmac_enforce_entry *fake_rule(struct fake_sys *f, const char *ifname)
{
	for (size_t i = 0; i < f->n_rules; i++)
		if (strcmp(f->rules[i].ifname, ifname) == 0)
			return &f->rules[i];
	return NULL;
}

static __attribute__((unused)) int fake_enforce_add(void *data, const char *ifname, const struct vifmac_mac *mac)
{
	struct fake_sys *f = data;
	struct vifmac_enforce_entry *e = fake_rule(f, ifname);

	if (f->enforce_error)
		return f->enforce_error;
	f->enforce_adds++;
	if (!e) {
		e = &f->rules[f->n_rules++];
		memset(e, 0, sizeof(*e));
		snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	}
	e->mac = *mac;
	return 0;
}

static __attribute__((unused)) int fake_enforce_remove(void *data, const char *ifname, const struct vifmac_mac *hint)
{
	struct fake_sys *f = data;
	struct vifmac_enforce_entry *e = fake_rule(f, ifname);

	f->enforce_removes++;
	if (e)
		*e = f->rules[--f->n_rules];
	return 0;
}

static __attribute__((unused)) int fake_enforce_list(void *data, struct vifmac_enforce_entry **ret, size_t *ret_n)
{
	struct fake_sys *f = data;

	*ret = calloc(f->n_rules + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, f->rules, f->n_rules * sizeof(**ret));
	*ret_n = f->n_rules;
	return 0;
}

static const struct vifmac_sys_ops fake_sys_ops = {
	.xs_read = fake_xs_read,
	.xs_write = fake_xs_write,
	.xs_directory = fake_xs_directory,
	.xs_owner = fake_xs_owner,
	.xs_transaction_start = fake_xs_transaction_start,
	.xs_transaction_end = fake_xs_transaction_end,
	.list_domains = fake_list_domains,
	.list_links = fake_list_links,
	.now = fake_now,
	.hostname = fake_hostname,
	.get_domain = fake_get_domain,
	.list_fdb = fake_list_fdb,
	.list_neigh = fake_list_neigh,
	.enforce_add = fake_enforce_add,
	.enforce_remove = fake_enforce_remove,
	.enforce_list = fake_enforce_list,
};

/* A MAC the bridge learned on a port, @age seconds ago. */
static __attribute__((unused)) void fake_add_fdb(struct fake_sys *f, const char *mac, const char *bridge, const char *port, int64_t age)
{
	struct vifmac_fdb_entry *e = &f->fdb[f->n_fdb++];

	memset(e, 0, sizeof(*e));
	snprintf(e->bridge, sizeof(e->bridge), "%s", bridge);
	snprintf(e->port, sizeof(e->port), "%s", port);
	e->age = age;
	if (vifmac_mac_parse(mac, &e->mac) < 0)
		abort();
}

static __attribute__((unused)) void fake_add_neigh(struct fake_sys *f, const char *mac, const char *ip, const char *ifname)
{
	struct vifmac_neigh_entry *e = &f->neigh[f->n_neigh++];

	memset(e, 0, sizeof(*e));
	snprintf(e->ip, sizeof(e->ip), "%s", ip);
	snprintf(e->ifname, sizeof(e->ifname), "%s", ifname);
	snprintf(e->state, sizeof(e->state), "reachable");
	if (vifmac_mac_parse(mac, &e->mac) < 0)
		abort();
}

static __attribute__((unused)) void fake_add_domain(struct fake_sys *f, unsigned domid, const char *name, const char *uuid, bool paused)
{
	if (xsm_domain_add(&f->xs, domid, name, uuid, paused) < 0)
		abort();
}

/* The hypervisor no longer has @domid (destroyed); its xenstore nodes stay as they are. */
static __attribute__((unused)) void fake_del_domain(struct fake_sys *f, unsigned domid)
{
	xsm_domain_del(&f->xs, domid);
}

static __attribute__((unused)) void fake_add_link(struct fake_sys *f, const char *name, const char *mac, const char *master)
{
	struct vifmac_link_info *l = &f->links[f->n_links++];

	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->master, sizeof(l->master), "%s", master ? master : "");
	if (vifmac_mac_parse(mac, &l->mac) < 0)
		abort();
}

/*
 * A vif as libxl leaves it when it runs the hotplug script: backend nodes
 * owned by dom0, frontend nodes owned by the guest, libxl's private copy.
 */
static __attribute__((unused)) void fake_add_vif(struct fake_sys *f, unsigned domid, unsigned devid, const char *mac, const char *bridge,
			 const char *ip, const char *type)
{
	char be[128], fe[128], p[192], v[32];

	snprintf(be, sizeof(be), "/local/domain/0/backend/vif/%u/%u", domid, devid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%u", domid, devid);
	snprintf(v, sizeof(v), "%u", domid);
	snprintf(p, sizeof(p), "%s/frontend-id", be);
	fake_set(f, p, v, 0);
	snprintf(p, sizeof(p), "%s/frontend", be);
	fake_set(f, p, fe, 0);
	snprintf(p, sizeof(p), "%s/mac", be);
	fake_set(f, p, mac, 0);
	snprintf(p, sizeof(p), "%s/bridge", be);
	fake_set(f, p, bridge, 0);
	if (ip) {
		snprintf(p, sizeof(p), "%s/ip", be);
		fake_set(f, p, ip, 0);
	}
	snprintf(p, sizeof(p), "%s/type", be);
	fake_set(f, p, type ? type : "vif", 0);
	snprintf(p, sizeof(p), "%s/state", be);
	fake_set(f, p, "2", 0);
	snprintf(p, sizeof(p), "%s/mac", fe);
	fake_set(f, p, mac, domid);
	snprintf(p, sizeof(p), "%s/state", fe);
	fake_set(f, p, "1", domid);
	snprintf(p, sizeof(p), "/libxl/%u/device/vif/%u/mac", domid, devid);
	fake_set(f, p, mac, 0);
}

/*
 * The registry tests' set-up, on the fake system (the clock at 1700000000,
 * host "dom0-a"): a temporary folder @dir ("/tmp/vifmac-TAG-XXXXXX"), a
 * context with @policy (NULL: the defaults) and the SQLite registry
 * @dir/registry.db. Needs testutil.h (cmocka, tu_ctx_with_policy) first.
 */
static inline void fake_registry_env(struct fake_sys *fake, struct vifmac_ctx **ctx, struct vifmac_registry **reg,
				     char *dir, size_t dir_size, const char *tag, const char *policy)
{
	char url[160];

	snprintf(dir, dir_size, "/tmp/vifmac-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(dir));
	fake->now = 1700000000;
	snprintf(fake->hostname, sizeof(fake->hostname), "dom0-a");
	*ctx = tu_ctx_with_policy(policy);
	vifmac_ctx_set_sys(*ctx, &fake_sys_ops, fake);
	snprintf(url, sizeof(url), "sqlite:%s/registry.db", dir);
	assert_int_equal(vifmac_registry_open(*ctx, url, reg), 0);
}

/* Undoes fake_registry_env: closes, frees and removes the folder. */
static inline void fake_registry_env_free(struct vifmac_ctx *ctx, struct vifmac_registry *reg, const char *dir)
{
	char cmd[128];

	vifmac_registry_close(reg);
	vifmac_ctx_unref(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

#endif
