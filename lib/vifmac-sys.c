/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The production system seam: xenstore through libxenstore, domains from
 * the hypervisor (libxenctrl), dom0 links, FDBs and neighbours from rtnetlink, the
 * clock and the host name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenstore.h>

#include "vifmac-internal.h"

struct sys_production {
	struct xs_handle *xs;
	xc_interface *xc;
	xentoollog_logger_stdiostream *xc_logger;
	struct vifmac_nft *nft;
};

void *vifmac_sys_production_new(void)
{
	struct sys_production *p = calloc(1, sizeof(struct sys_production));

	if (p)
		p->nft = vifmac_nft_new();
	if (p && !p->nft) {
		free(p);
		return NULL;
	}
	return p;
}

void vifmac_sys_production_free(void *data)
{
	struct sys_production *p = data;

	if (!p)
		return;
	xs_close(p->xs);
	vifmac_nft_free(p->nft);
	if (p->xc)
		xc_interface_close(p->xc);
	if (p->xc_logger)
		xtl_logger_destroy((xentoollog_logger *)p->xc_logger);
	free(p);
}

static int xs_get(struct sys_production *p, struct xs_handle **ret_xs)
{
	if (!p)
		return -ENOMEM;
	if (!p->xs) {
		p->xs = xs_open(0);
		if (!p->xs)
			return errno ? -errno : -ENOENT;
	}
	*ret_xs = p->xs;
	return 0;
}

static int prod_xs_read(void *data, unsigned long t, const char *path, char **ret_value)
{
	struct xs_handle *xs = NULL;
	unsigned int len;
	char *v;
	int r = xs_get(data, &xs);

	if (r < 0)
		return r;
	v = xs_read(xs, (xs_transaction_t)t, path, &len);
	if (!v)
		return errno ? -errno : -EIO;
	*ret_value = v;
	return 0;
}

static int prod_xs_write(void *data, unsigned long t, const char *path, const char *value)
{
	struct xs_handle *xs = NULL;
	int r = xs_get(data, &xs);

	if (r < 0)
		return r;
	if (!xs_write(xs, (xs_transaction_t)t, path, value, (unsigned int)strlen(value)))
		return errno ? -errno : -EIO;
	return 0;
}

static int prod_xs_directory(void *data, unsigned long t, const char *path, char ***ret_names, size_t *ret_n)
{
	struct xs_handle *xs = NULL;
	unsigned int n;
	char **list, **copy;
	int r = xs_get(data, &xs);

	if (r < 0)
		return r;
	list = xs_directory(xs, (xs_transaction_t)t, path, &n);
	if (!list)
		return errno ? -errno : -EIO;
	/* xs_directory returns one allocation; hand out separately freeable strings */
	copy = calloc(n + 1, sizeof(char *));
	if (!copy) {
		free(list);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++) {
		copy[i] = strdup(list[i]);
		if (!copy[i]) {
			for (unsigned int j = 0; j < i; j++)
				free(copy[j]);
			free(copy);
			free(list);
			return -ENOMEM;
		}
	}
	free(list);
	*ret_names = copy;
	*ret_n = n;
	return 0;
}

static int prod_xs_owner(void *data, unsigned long t, const char *path, unsigned *ret_domid)
{
	struct xs_handle *xs = NULL;
	struct xs_permissions *perms;
	unsigned int n;
	int r = xs_get(data, &xs);

	if (r < 0)
		return r;
	perms = xs_get_permissions(xs, (xs_transaction_t)t, path, &n);
	if (!perms)
		return errno ? -errno : -EIO;
	if (n == 0) {
		free(perms);
		return -EIO;
	}
	*ret_domid = perms[0].id;
	free(perms);
	return 0;
}

static int prod_xs_transaction_start(void *data, unsigned long *ret_t)
{
	struct xs_handle *xs = NULL;
	xs_transaction_t t;
	int r = xs_get(data, &xs);

	if (r < 0)
		return r;
	t = xs_transaction_start(xs);
	if (t == XBT_NULL)
		return errno ? -errno : -EIO;
	*ret_t = (unsigned long)t;
	return 0;
}

static int prod_xs_transaction_end(void *data, unsigned long t, bool abort)
{
	struct xs_handle *xs = NULL;
	int r = xs_get(data, &xs);

	if (r < 0)
		return r;
	if (!xs_transaction_end(xs, (xs_transaction_t)t, abort))
		return errno ? -errno : -EIO;
	return 0;
}

/*
 * The hypervisor's domain records, through libxenctrl: the domid, UUID and
 * paused/dying flags are all a hotplug run asks of it, and libxenlight,
 * which answers the same from the same call (xc_domain_getinfolist), cost
 * every run the loading of fifteen shared objects (docs/performance.md).
 */
static int xc_get(struct sys_production *p, xc_interface **ret_xc)
{
	if (!p)
		return -ENOMEM;
	if (!p->xc) {
		p->xc_logger = xtl_createlogger_stdiostream(stderr, XTL_CRITICAL, 0);
		if (!p->xc_logger)
			return -ENOMEM;
		p->xc = xc_interface_open((xentoollog_logger *)p->xc_logger, (xentoollog_logger *)p->xc_logger, 0);
		if (!p->xc)
			return -ENXIO; /* not a Xen dom0, or no privcmd */
	}
	*ret_xc = p->xc;
	return 0;
}

/*
 * Reads a domain's name into @info from @path when dom0 owns the node: only
 * the toolstack can have written it.
 */
static bool name_from(struct sys_production *p, const char *path, struct vifmac_domain_info *info)
{
	char *name = NULL;
	unsigned owner = 1;
	bool ok;

	if (prod_xs_read(p, 0, path, &name) < 0)
		return false;
	ok = prod_xs_owner(p, 0, path, &owner) == 0 && owner == 0;
	if (ok)
		vifmac_strscpy(info->name, name, sizeof(info->name));
	free(name);
	return ok;
}

/*
 * Fills @info from the hypervisor's record and the domain's name: libxl
 * writes /local/domain/<domid>/name (dom0 owns it: libxl makes the domain's
 * directory dom0's, the guest may only read it) and /vm/<uuid>/name, which
 * is one node per UUID, so two domains with one UUID (a migration's two
 * halves) would show one name. The latter is the fall-back.
 */
static void uuid_format(const xen_domain_handle_t h, char *buf, size_t size)
{
	snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2],
		 h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

static void domain_info_from_xc(struct sys_production *p, const xc_domaininfo_t *xi, bool names,
				struct vifmac_domain_info *info)
{
	char path[128];

	memset(info, 0, sizeof(*info));
	info->domid = xi->domain;
	info->paused = (xi->flags & XEN_DOMINF_paused) != 0;
	uuid_format(xi->handle, info->uuid, sizeof(info->uuid));
	if (!names)
		return;
	snprintf(path, sizeof(path), "/local/domain/%u/name", info->domid);
	if (!name_from(p, path, info)) {
		snprintf(path, sizeof(path), "/vm/%s/name", info->uuid);
		name_from(p, path, info);
	}
}

static int prod_get_domain(void *data, unsigned domid, struct vifmac_domain_info *ret_info)
{
	xc_interface *xc;
	xc_domaininfo_t xi;
	int n, r = xc_get(data, &xc);

	if (r < 0)
		return r;
	if (domid >= DOMID_FIRST_RESERVED)
		return -ENOENT;
	/* the first domain from @domid on: another one when @domid is gone */
	n = xc_domain_getinfolist(xc, domid, 1, &xi);
	if (n < 0)
		return errno ? -errno : -EIO;
	if (n == 0 || xi.domain != domid)
		return -ENOENT;
	domain_info_from_xc(data, &xi, true, ret_info);
	return 0;
}

/* Running domains, from the hypervisor; their names from xenstore when @names. */
/* Running domains, from the hypervisor; their names from xenstore when @names. */
static int list_domains(void *data, bool names, struct vifmac_domain_info **ret_domains, size_t *ret_n)
{
	enum { BATCH = 256 };
	xc_interface *xc;
	xc_domaininfo_t *batch;
	struct vifmac_domain_info *doms = NULL;
	size_t k = 0;
	uint32_t next = 0;
	int r = xc_get(data, &xc);

	if (r < 0)
		return r;
	batch = calloc(BATCH, sizeof(*batch));
	if (!batch)
		return -ENOMEM;
	/* in batches, as libxl_list_domain asks: domids are sparse up to 32751 */
	for (;;) {
		int n = xc_domain_getinfolist(xc, next, BATCH, batch);

		if (n < 0) {
			r = errno ? -errno : -EIO;
			goto fail;
		}
		for (int i = 0; i < n; i++) {
			struct vifmac_domain_info *nd;

			/*
			 * A dying domain (destroyed, its pages not yet given back:
			 * reboot's old half, a "(null)" zombie) runs nothing and
			 * holds no vif any more.
			 */
			if (batch[i].flags & XEN_DOMINF_dying)
				continue;
			nd = vifmac_array_grow(doms, k, sizeof(*doms));
			if (!nd) {
				r = -ENOMEM;
				goto fail;
			}
			doms = nd;
			domain_info_from_xc(data, &batch[i], names, &doms[k++]);
		}
		if (n < BATCH)
			break;
		next = (uint32_t)batch[n - 1].domain + 1;
	}
	free(batch);
	if (!doms && !(doms = calloc(1, sizeof(*doms))))
		return -ENOMEM;
	*ret_domains = doms;
	*ret_n = k;
	return 0;
fail:
	free(batch);
	free(doms);
	return r;
}

static int prod_list_domains(void *data, struct vifmac_domain_info **ret_domains, size_t *ret_n)
{
	return list_domains(data, true, ret_domains, ret_n);
}

static int prod_list_domains_brief(void *data, struct vifmac_domain_info **ret_domains, size_t *ret_n)
{
	return list_domains(data, false, ret_domains, ret_n);
}

static int prod_list_links(void *data, struct vifmac_link_info **ret_links, size_t *ret_n)
{
	return vifmac_netlink_list_links(ret_links, ret_n);
}

static int prod_list_fdb(void *data, struct vifmac_fdb_entry **ret_entries, size_t *ret_n)
{
	return vifmac_netlink_list_fdb(ret_entries, ret_n);
}

static int prod_find_fdb(void *data, const struct vifmac_mac *mac, struct vifmac_fdb_entry **ret_entries,
			 size_t *ret_n)
{
	return vifmac_netlink_find_fdb(mac, ret_entries, ret_n);
}

static int prod_list_neigh(void *data, struct vifmac_neigh_entry **ret_entries, size_t *ret_n)
{
	return vifmac_netlink_list_neigh(ret_entries, ret_n);
}

static int64_t prod_now(void *data)
{
	return (int64_t)time(NULL);
}

static int prod_hostname(void *data, char *buf, size_t len)
{
	if (gethostname(buf, len) < 0)
		return -errno;
	buf[len - 1] = '\0';
	return 0;
}

static int prod_enforce_add(void *data, const char *ifname, const struct vifmac_mac *mac)
{
	return vifmac_nft_add(((struct sys_production *)data)->nft, ifname, mac);
}

static int prod_enforce_remove(void *data, const char *ifname, const struct vifmac_mac *hint)
{
	return vifmac_nft_remove(((struct sys_production *)data)->nft, ifname, hint);
}

static int prod_enforce_list(void *data, struct vifmac_enforce_entry **ret_entries, size_t *ret_n)
{
	return vifmac_nft_list(((struct sys_production *)data)->nft, ret_entries, ret_n);
}

const char *vifmac_sys_enforce_error(const struct vifmac_ctx *ctx, int err)
{
	const char *said = "";

	if (ctx->sys_owned && ctx->sys.enforce_add == prod_enforce_add)
		said = vifmac_nft_error(((struct sys_production *)ctx->sys_data)->nft);
	return *said ? said : strerror(-err);
}

static int prod_watch_bridges(void *data, int (*fn)(void *fn_data, const struct vifmac_watch_event *e, int *wake_ms),
			      void *fn_data)
{
	return vifmac_netlink_watch(fn, fn_data);
}

const struct vifmac_sys_ops vifmac_sys_production = {
	.xs_read = prod_xs_read,
	.xs_write = prod_xs_write,
	.xs_directory = prod_xs_directory,
	.xs_owner = prod_xs_owner,
	.xs_transaction_start = prod_xs_transaction_start,
	.xs_transaction_end = prod_xs_transaction_end,
	.list_domains = prod_list_domains,
	.list_links = prod_list_links,
	.now = prod_now,
	.hostname = prod_hostname,
	.get_domain = prod_get_domain,
	.list_fdb = prod_list_fdb,
	.list_neigh = prod_list_neigh,
	.find_fdb = prod_find_fdb,
	.enforce_add = prod_enforce_add,
	.enforce_remove = prod_enforce_remove,
	.enforce_list = prod_enforce_list,
	.watch_bridges = prod_watch_bridges,
	.list_domains_brief = prod_list_domains_brief,
};
