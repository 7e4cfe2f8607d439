/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake system seam for unit tests: an in-memory xenstore that knows who
 * owns each node and records every path read, a domain table, dom0 links,
 * a settable clock and host name. Transactions buffer their writes; commits
 * can be made to fail with EAGAIN a given number of times.
 */
#ifndef VIFMAC_FAKE_SYS_H
#define VIFMAC_FAKE_SYS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac.h"

#define FAKE_MAX_NODES 256
#define FAKE_MAX_READS 512

struct fake_node {
	char path[192];
	char value[300];
	unsigned owner;
};

struct fake_sys {
	struct fake_node nodes[FAKE_MAX_NODES];
	size_t n_nodes;
	/* the open transaction's writes */
	struct fake_node pending[32];
	size_t n_pending;
	unsigned long next_t;
	int commit_eagain;  /* fail this many commits with -EAGAIN */
	int commits;        /* successful commits */
	char reads[FAKE_MAX_READS][192];
	size_t n_reads;
	struct vifmac_domain_info domains[16];
	size_t n_domains;
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

static __attribute__((unused)) struct fake_node *fake_find(struct fake_sys *f, const char *path)
{
	for (size_t i = 0; i < f->n_nodes; i++)
		if (strcmp(f->nodes[i].path, path) == 0)
			return &f->nodes[i];
	return NULL;
}

/* Sets a node (creating it) with its owner. */
static __attribute__((unused)) void fake_set(struct fake_sys *f, const char *path, const char *value, unsigned owner)
{
	struct fake_node *n = fake_find(f, path);

	if (!n) {
		n = &f->nodes[f->n_nodes++];
		snprintf(n->path, sizeof(n->path), "%s", path);
	}
	snprintf(n->value, sizeof(n->value), "%s", value);
	n->owner = owner;
}

static __attribute__((unused)) const char *fake_get(struct fake_sys *f, const char *path)
{
	struct fake_node *n = fake_find(f, path);

	return n ? n->value : NULL;
}

static __attribute__((unused)) bool fake_was_read_under(const struct fake_sys *f, const char *prefix)
{
	for (size_t i = 0; i < f->n_reads; i++)
		if (strncmp(f->reads[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static __attribute__((unused)) int fake_xs_read(void *data, unsigned long t, const char *path, char **ret)
{
	struct fake_sys *f = data;
	struct fake_node *n = fake_find(f, path);

	if (f->n_reads < FAKE_MAX_READS)
		snprintf(f->reads[f->n_reads++], sizeof(f->reads[0]), "%s", path);
	if (!n)
		return -ENOENT;
	*ret = strdup(n->value);
	return *ret ? 0 : -ENOMEM;
}

static __attribute__((unused)) int fake_xs_write(void *data, unsigned long t, const char *path, const char *value)
{
	struct fake_sys *f = data;

	if (t == 0) {
		fake_set(f, path, value, 0);
		return 0;
	}
	snprintf(f->pending[f->n_pending].path, sizeof(f->pending[0].path), "%s", path);
	snprintf(f->pending[f->n_pending].value, sizeof(f->pending[0].value), "%s", value);
	f->n_pending++;
	return 0;
}

static __attribute__((unused)) int fake_xs_directory(void *data, unsigned long t, const char *path, char ***ret_names, size_t *ret_n)
{
	struct fake_sys *f = data;
	size_t len = strlen(path), n = 0;
	char **names = calloc(FAKE_MAX_NODES + 1, sizeof(char *));

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < f->n_nodes; i++) {
		const char *p = f->nodes[i].path, *rest, *slash;
		bool dup = false;

		if (strncmp(p, path, len) != 0 || p[len] != '/')
			continue;
		rest = p + len + 1;
		slash = strchr(rest, '/');
		for (size_t j = 0; j < n; j++)
			dup = dup || (strncmp(names[j], rest, slash ? (size_t)(slash - rest) : strlen(rest)) == 0 &&
				      strlen(names[j]) == (slash ? (size_t)(slash - rest) : strlen(rest)));
		if (!dup)
			names[n++] = slash ? strndup(rest, (size_t)(slash - rest)) : strdup(rest);
	}
	if (n == 0) {
		free(names);
		return -ENOENT;
	}
	*ret_names = names;
	*ret_n = n;
	return 0;
}

static __attribute__((unused)) int fake_xs_owner(void *data, unsigned long t, const char *path, unsigned *ret_domid)
{
	struct fake_node *n = fake_find(data, path);

	if (!n)
		return -ENOENT;
	*ret_domid = n->owner;
	return 0;
}

static __attribute__((unused)) int fake_xs_transaction_start(void *data, unsigned long *ret_t)
{
	struct fake_sys *f = data;

	f->n_pending = 0;
	*ret_t = ++f->next_t;
	return 0;
}

static __attribute__((unused)) int fake_xs_transaction_end(void *data, unsigned long t, bool abort)
{
	struct fake_sys *f = data;

	if (abort) {
		f->n_pending = 0;
		return 0;
	}
	if (f->commit_eagain > 0) {
		f->commit_eagain--;
		f->n_pending = 0;
		return -EAGAIN;
	}
	for (size_t i = 0; i < f->n_pending; i++) {
		struct fake_node *n = fake_find(f, f->pending[i].path);

		fake_set(f, f->pending[i].path, f->pending[i].value, n ? n->owner : 0);
	}
	f->n_pending = 0;
	f->commits++;
	return 0;
}

static __attribute__((unused)) int fake_list_domains(void *data, struct vifmac_domain_info **ret, size_t *ret_n)
{
	struct fake_sys *f = data;

	*ret = calloc(f->n_domains + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, f->domains, f->n_domains * sizeof(**ret));
	*ret_n = f->n_domains;
	return 0;
}

static __attribute__((unused)) int fake_get_domain(void *data, unsigned domid, struct vifmac_domain_info *ret)
{
	struct fake_sys *f = data;

	for (size_t i = 0; i < f->n_domains; i++)
		if (f->domains[i].domid == domid) {
			*ret = f->domains[i];
			return 0;
		}
	return -ENOENT;
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
	struct vifmac_domain_info *d;

	if (f->n_domains == sizeof(f->domains) / sizeof(f->domains[0]))
		abort(); /* a test with more domains than the fake holds */
	d = &f->domains[f->n_domains++];

	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->paused = paused;
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
}

/* The hypervisor no longer has @domid (destroyed); its xenstore nodes stay as they are. */
static __attribute__((unused)) void fake_del_domain(struct fake_sys *f, unsigned domid)
{
	for (size_t i = 0; i < f->n_domains; i++)
		if (f->domains[i].domid == domid) {
			f->domains[i] = f->domains[--f->n_domains];
			return;
		}
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
