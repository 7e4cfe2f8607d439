/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vif hotplug pipeline: read the vif from dom0-owned xenstore nodes,
 * decide, check (vifmac-checks.c), claim, and write the MAC where the guest
 * will read it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vifmac-internal.h"

#define XS_RETRIES 32

static void mac_and_evidence_format(const struct vifmac_refusal *refusal, char *buf, size_t size);
#define OWNER_NODE "vifmac-owner"


/* Reads @dir/@key, which must be owned by domain 0. *ret NULL when absent and !@required. */
static int read_dom0_node(struct vifmac_ctx *ctx, const char *dir, const char *key, bool required, char **ret)
{
	char path[256];
	unsigned owner;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (!ctx->sys.xs_read)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no xenstore access");
	r = ctx->sys.xs_read(ctx->sys_data, 0, path, ret);
	if (r == -ENOENT && !required) {
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot read %s from xenstore: %s", path, strerror(-r));
	if (ctx->sys.xs_owner) {
		r = ctx->sys.xs_owner(ctx->sys_data, 0, path, &owner);
		if (r < 0) {
			free(*ret);
			return vifmac_set_error(ctx, r, "cannot read the permissions of %s: %s", path, strerror(-r));
		}
		if (owner != 0) {
			free(*ret);
			return vifmac_set_error(ctx, -EINVAL,
						"%s is owned by domain %u, not dom0: a guest could have written it, refusing to use it",
						path, owner);
		}
	}
	return 0;
}

/* Copies a node's value into @buf, refusing values that do not fit. */
static int copy_value(struct vifmac_ctx *ctx, const char *dir, const char *key, char *value, char *buf, size_t size)
{
	bool ok;

	if (!value) {
		buf[0] = '\0';
		return 0;
	}
	ok = strlen(value) < size && !strpbrk(value, "\n\r");
	if (ok)
		memcpy(buf, value, strlen(value) + 1);
	free(value);
	if (!ok)
		return vifmac_set_error(ctx, -EINVAL, "%s/%s: value too long (%zu bytes at most) or not one line", dir,
					key, size - 1);
	return 0;
}

VIFMAC_EXPORT int vifmac_hotplug_read(struct vifmac_ctx *ctx, const char *xenbus_path,
				      struct vifmac_hotplug_vif *ret_vif)
{
	struct vifmac_hotplug_vif v;
	unsigned domid, devid;
	char *val = NULL, expect[128], buf[256];
	int r;

	vifmac_clear_error(ctx);
	memset(&v, 0, sizeof(v));
	if (vifmac_xenbus_path_parse(xenbus_path, &domid, &devid) < 0)
		return vifmac_set_error(ctx, -EINVAL, "XENBUS_PATH \"%s\" is not backend/vif/<domid>/<devid>",
					xenbus_path ? xenbus_path : "");
	v.domid = domid;
	v.devid = (int)devid;
	snprintf(v.backend, sizeof(v.backend), "/local/domain/0/backend/vif/%u/%u", domid, devid);

	/* the backend must say it serves this domain's vif: frontend-id and frontend path */
	r = read_dom0_node(ctx, v.backend, "frontend-id", true, &val);
	if (r < 0)
		return r;
	snprintf(expect, sizeof(expect), "%u", domid);
	if (strcmp(val, expect) != 0) {
		r = vifmac_set_error(ctx, -EINVAL, "%s/frontend-id is \"%.32s\", not %u", v.backend, val, domid);
		free(val);
		return r;
	}
	free(val);
	r = read_dom0_node(ctx, v.backend, "frontend", true, &val);
	if (r < 0)
		return r;
	snprintf(expect, sizeof(expect), "/local/domain/%u/device/vif/%u", domid, devid);
	if (strcmp(val, expect) != 0) {
		r = vifmac_set_error(ctx, -EINVAL, "%s/frontend is \"%.100s\", not %s", v.backend, val, expect);
		free(val);
		return r;
	}
	free(val);
	vifmac_strscpy(v.frontend, expect, sizeof(v.frontend));

	r = read_dom0_node(ctx, v.backend, "mac", true, &val);
	if (r < 0)
		return r;
	if (vifmac_mac_parse(val, &v.mac) < 0) {
		r = vifmac_set_error(ctx, -EINVAL, "%s/mac = \"%.40s\" is not a MAC address", v.backend, val);
		free(val);
		return r;
	}
	free(val);
	v.mac_generated = vifmac_mac_is_xen_random(&v.mac);

	if ((r = read_dom0_node(ctx, v.backend, "bridge", false, &val)) < 0 ||
	    (r = copy_value(ctx, v.backend, "bridge", val, v.bridge, sizeof(v.bridge))) < 0)
		return r;
	if ((r = read_dom0_node(ctx, v.backend, "ip", false, &val)) < 0 ||
	    (r = copy_value(ctx, v.backend, "ip", val, v.ip, sizeof(v.ip))) < 0)
		return r;
	if ((r = read_dom0_node(ctx, v.backend, "type", false, &val)) < 0 ||
	    (r = copy_value(ctx, v.backend, "type", val, v.type, sizeof(v.type))) < 0)
		return r;
	if (!v.type[0])
		vifmac_strscpy(v.type, "vif", sizeof(v.type));
	if ((r = read_dom0_node(ctx, v.backend, "vifname", false, &val)) < 0 ||
	    (r = copy_value(ctx, v.backend, "vifname", val, v.ifname, sizeof(v.ifname))) < 0)
		return r;
	if (!v.ifname[0])
		snprintf(v.ifname, sizeof(v.ifname), "vif%u.%u", domid, devid);
	if ((r = read_dom0_node(ctx, v.backend, OWNER_NODE, false, &val)) < 0 ||
	    (r = copy_value(ctx, v.backend, OWNER_NODE, val, v.claim_uuid, sizeof(v.claim_uuid))) < 0)
		return r;

	/* libxl's private copy, dom0 only; absent for toolstacks other than libxl */
	snprintf(buf, sizeof(buf), "/libxl/%u/device/vif/%u", domid, devid);
	r = read_dom0_node(ctx, buf, "mac", false, &val);
	if (r < 0)
		return r;
	if (val)
		vifmac_strscpy(v.libxl_path, buf, sizeof(v.libxl_path));
	free(val);

	/* the domain: UUID and paused state from the hypervisor, name from /vm/<uuid>/name */
	if (!ctx->sys.get_domain)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no access to the hypervisor's domain list");
	r = ctx->sys.get_domain(ctx->sys_data, domid, &v.dom);
	if (r == -ENOENT) {
		memset(&v.dom, 0, sizeof(v.dom)); /* gone: offline after a failed create */
		v.dom.domid = domid;
	} else if (r < 0) {
		return vifmac_set_error(ctx, r, "cannot get domain %u from the hypervisor: %s", domid, strerror(-r));
	}
	*ret_vif = v;
	return 0;
}

VIFMAC_EXPORT enum vifmac_hotplug_mode vifmac_hotplug_mode_for(const struct vifmac_hotplug_vif *vif)
{
	if (strcmp(vif->type, "vif") != 0 || !vif->dom.paused)
		return VIFMAC_HOTPLUG_VERIFY;
	return VIFMAC_HOTPLUG_REWRITE;
}


/* Copies a registry holder into a refusal's evidence. */
static void holder_from_record(struct vifmac_refusal *ref, const struct vifmac_record *h)
{
	vifmac_holder_set(ref, &h->mac, "registry");
	vifmac_strscpy(ref->holder.domain, h->domain, sizeof(ref->holder.domain));
	vifmac_strscpy(ref->holder.uuid, h->uuid, sizeof(ref->holder.uuid));
	vifmac_strscpy(ref->holder.host, h->host, sizeof(ref->holder.host));
	ref->holder.devid = h->devid;
	ref->holder.since = h->created;
	if (h->state == VIFMAC_STATE_RESERVED)
		snprintf(ref->holder.detail, sizeof(ref->holder.detail), "reserved: %.200s", h->note);
	else
		snprintf(ref->holder.detail, sizeof(ref->holder.detail), "claimed on bridge %s for ip %s", h->bridge,
			 h->ip[0] ? h->ip : "-");
}

/* Writes the MAC and the owner marker in one transaction, retrying on EAGAIN. */
static int apply(struct vifmac_ctx *ctx, const struct vifmac_hotplug_vif *vif, const struct vifmac_mac *mac,
		 bool rewrite)
{
	char buf[VIFMAC_MAC_STRLEN], path[192];
	int r = 0;

	if (!ctx->sys.xs_transaction_start || !ctx->sys.xs_transaction_end || !ctx->sys.xs_write)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no xenstore write access");
	vifmac_mac_format(mac, buf);
	for (int attempt = 0; attempt < XS_RETRIES; attempt++) {
		unsigned long t;

		r = ctx->sys.xs_transaction_start(ctx->sys_data, &t);
		if (r < 0)
			return vifmac_set_error(ctx, r, "cannot start a xenstore transaction: %s", strerror(-r));
		snprintf(path, sizeof(path), "%s/%s", vif->backend, OWNER_NODE);
		r = ctx->sys.xs_write(ctx->sys_data, t, path, vif->dom.uuid);
		if (r == 0 && rewrite) {
			snprintf(path, sizeof(path), "%s/mac", vif->backend);
			r = ctx->sys.xs_write(ctx->sys_data, t, path, buf);
			if (r == 0) {
				snprintf(path, sizeof(path), "%s/mac", vif->frontend);
				r = ctx->sys.xs_write(ctx->sys_data, t, path, buf);
			}
			if (r == 0 && vif->libxl_path[0]) {
				snprintf(path, sizeof(path), "%s/mac", vif->libxl_path);
				r = ctx->sys.xs_write(ctx->sys_data, t, path, buf);
			}
		}
		if (r < 0) {
			ctx->sys.xs_transaction_end(ctx->sys_data, t, true);
			return vifmac_set_error(ctx, r, "cannot write %s: %s", path, strerror(-r));
		}
		r = ctx->sys.xs_transaction_end(ctx->sys_data, t, false);
		if (r != -EAGAIN)
			break;
		dbg(ctx, "xenstore transaction conflict, retrying (%d)", attempt + 1);
	}
	if (r < 0)
		return vifmac_set_error(ctx, r, "xenstore transaction for %s failed%s: %s", vif->backend,
					r == -EAGAIN ? " after " "32 retries" : "", strerror(-r));
	return 0;
}

static const char *domain_label(const struct vifmac_hotplug_vif *vif, char *buf, size_t size)
{
	if (vif->dom.name[0])
		snprintf(buf, size, "%s (domid %u)", vif->dom.name, vif->domid);
	else
		snprintf(buf, size, "domid %u", vif->domid);
	return buf;
}

#define INCOMING "--incoming"
#define MIGRATEDAWAY "--migratedaway"

/* Does @name end with @suffix (and have something before it)? Its length without it in @ret_len. */
static bool has_suffix(const char *name, const char *suffix, size_t *ret_len)
{
	size_t n = strlen(name), k = strlen(suffix);

	if (n <= k || strcmp(name + n - k, suffix) != 0)
		return false;
	*ret_len = n - k;
	return true;
}

/*
 * Are @a and @b the two halves of one xl migration (tools/xl/xl_migrate.c):
 * the arriving "<name>--incoming" and the departing "<name>", renamed
 * "<name>--migratedaway" once the stream is through?
 */
static bool migration_halves(const char *a, const char *b)
{
	size_t n;

	if (has_suffix(b, INCOMING, &n)) {
		const char *t = a;

		a = b;
		b = t;
	}
	if (!has_suffix(a, INCOMING, &n) || strncmp(a, b, n) != 0)
		return false;
	return b[n] == '\0' || strcmp(b + n, MIGRATEDAWAY) == 0;
}

/* The claim a vif makes: everything but the MAC and its source. */
static void owner_record(const struct vifmac_hotplug_vif *vif, const struct vifmac_decision *d,
			 struct vifmac_record *rec)
{
	size_t n;

	vifmac_record_init(rec);
	vifmac_strscpy(rec->scope_key, d->scope_key, sizeof(rec->scope_key));
	/* the guest's own name: "--incoming" is xl's for the time of a migration */
	if (has_suffix(vif->dom.name, INCOMING, &n))
		snprintf(rec->domain, sizeof(rec->domain), "%.*s", (int)n, vif->dom.name);
	else
		vifmac_strscpy(rec->domain, vif->dom.name, sizeof(rec->domain));
	vifmac_strscpy(rec->uuid, vif->dom.uuid, sizeof(rec->uuid));
	rec->devid = vif->devid;
	vifmac_strscpy(rec->bridge, vif->bridge, sizeof(rec->bridge));
	vifmac_strscpy(rec->ip, vif->ip, sizeof(rec->ip));
}

/* A bridge with pools: the registry allocates (sticky per vif) and claims in one transaction. */
static int pool_allocate(struct vifmac_ctx *ctx, struct vifmac_registry *reg, const struct vifmac_hotplug_vif *vif,
			 struct vifmac_decision *d, const char *dom)
{
	struct vifmac_record owner, rec, holder;
	struct vifmac_ipv4 ip;
	size_t n = 0;
	const char *const *pools = vifmac_ctx_bridge_pools(ctx, vif->bridge, &n);
	char want[VIFMAC_MAC_STRLEN];
	bool has_ip = vifmac_iplist_first_ipv4(vif->ip, &ip, NULL) == 0;
	int r;

	owner_record(vif, d, &owner);
	memset(&holder, 0, sizeof(holder));
	r = vifmac_registry_pool_allocate(reg, pools, n, &owner, has_ip ? &ip : NULL, &rec, &holder);
	if (r == -EEXIST) {
		holder_from_record(&d->refusal, &holder);
		snprintf(d->refusal.message, sizeof(d->refusal.message),
			 "%s, the operator's MAC for vif %d of %s (%s), is already %s", vifmac_mac_format(&holder.mac, want),
			 vif->devid, dom, d->evidence, holder.state == VIFMAC_STATE_RESERVED ? "reserved" : "claimed");
		return r;
	}
	if (r == -ENOSPC || r == -ENOENT)
		return vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM, "vif %d of %s on bridge %s: %s", vif->devid, dom,
			      vif->bridge, vifmac_ctx_last_error(ctx));
	if (r < 0)
		return vifmac_refuse(d, VIFMAC_REFUSAL_UNAVAILABLE, r, "registry %s: cannot allocate for vif %d of %s: %s",
			      vifmac_registry_url(reg), vif->devid, dom, vifmac_ctx_last_error(ctx));
	d->mac = rec.mac;
	d->refusal.mac = rec.mac;
	d->refusal.has_mac = true;
	{
		char pools_s[sizeof(d->evidence)];

		vifmac_strscpy(pools_s, d->evidence, sizeof(pools_s));
		snprintf(d->evidence, sizeof(d->evidence), "%.64s (bridge %.20s: %.150s)", rec.source, vif->bridge,
			 pools_s);
	}
	return 0;
}

struct same_owner {
	const char *uuid;
	int devid;
	bool found;
	struct vifmac_mac mac; /* the one found */
};

static int same_owner_fn(void *data, const struct vifmac_record *rec)
{
	struct same_owner *so = data;

	if (rec->state == VIFMAC_STATE_ACTIVE && rec->devid == so->devid && strcasecmp(rec->uuid, so->uuid) == 0) {
		so->found = true;
		so->mac = rec->mac;
	}
	return 0;
}

/* What this host runs, read once per hotplug run: the judge of stale claims and of shared UUIDs. */
struct host_view {
	struct vifmac_domain_info *doms;
	size_t n;
	bool known;     /* the hypervisor's list could be read */
	char host[256]; /* this host's name in the registry, "" when it cannot be told */
	int peer_domid; /* the other half of a migration of this vif's domain, or -1 */
	const struct vifmac_domain_info *twin; /* another domain with this UUID, outside a migration */
};

static void host_view_load(struct vifmac_ctx *ctx, const struct vifmac_hotplug_vif *vif, struct host_view *hv)
{
	memset(hv, 0, sizeof(*hv));
	hv->peer_domid = -1;
	/* every domain's UUID, and names only for those sharing this one's (xenstore reads per domain add up in a boot storm) */
	if (ctx->sys.list_domains_brief ? ctx->sys.list_domains_brief(ctx->sys_data, &hv->doms, &hv->n) == 0
					: ctx->sys.list_domains && ctx->sys.list_domains(ctx->sys_data, &hv->doms, &hv->n) == 0)
		hv->known = true;
	if (vifmac_hostname(ctx, hv->host, sizeof(hv->host)) < 0)
		hv->host[0] = '\0'; /* the claim itself then refuses, saying why */
	vifmac_clear_error(ctx);
	for (size_t i = 0; i < hv->n; i++) {
		struct vifmac_domain_info *o = &hv->doms[i], full;

		if (o->domid == vif->domid || strcasecmp(o->uuid, vif->dom.uuid) != 0)
			continue;
		if (!o->name[0] && ctx->sys.get_domain && ctx->sys.get_domain(ctx->sys_data, o->domid, &full) == 0)
			vifmac_strscpy(o->name, full.name, sizeof(o->name));
		if (hv->peer_domid < 0 && migration_halves(vif->dom.name, o->name))
			hv->peer_domid = (int)o->domid;
		else if (!hv->twin)
			hv->twin = o;
	}
}

/*
 * A claim this host recorded for a domain the hypervisor does not have: it
 * can only be left over from a crash of dom0 or a teardown that never ran.
 * Another host's claim is never judged from here (that host may be alive).
 */
static bool stale_here(const struct host_view *hv, const struct vifmac_record *rec)
{
	if (!hv->known || !hv->host[0] || rec->state != VIFMAC_STATE_ACTIVE || strcmp(rec->host, hv->host) != 0)
		return false;
	for (size_t i = 0; i < hv->n; i++)
		if (strcasecmp(rec->uuid, hv->doms[i].uuid) == 0)
			return false;
	return true;
}

static void format_since(int64_t since, char *buf, size_t size)
{
	time_t t = (time_t)since;
	struct tm tm;

	buf[0] = '\0';
	if (since > 0 && gmtime_r(&t, &tm))
		strftime(buf, size, " since %Y-%m-%d %H:%M:%S UTC", &tm);
}

/* Adds what was taken over, and from whom, to the decision's warnings (the hook logs them). */
static void note_stale(struct vifmac_decision *d, const char *what, const struct vifmac_record *stale)
{
	char mac[VIFMAC_MAC_STRLEN], since[64];
	size_t n = strlen(d->warning);

	format_since(stale->created, since, sizeof(since));
	snprintf(d->warning + n, sizeof(d->warning) - n,
		 "%s%s the claim of %s by domain %s (uuid %s) vif %d, recorded by this host (%s)%s: no domain with that UUID exists here (left over from a crash or a lost teardown)",
		 n ? "; " : "", what, vifmac_mac_format(&stale->mac, mac), stale->domain[0] ? stale->domain : "?",
		 stale->uuid, stale->devid, stale->host, since);
}

struct stale_scan {
	const struct host_view *hv;
	const struct vifmac_hotplug_vif *vif;
	const char *name;
	struct vifmac_record found[8];
	size_t n;
};

static int stale_of_name_fn(void *data, const struct vifmac_record *rec)
{
	struct stale_scan *sc = data;

	if (sc->n < ARRAY_SIZE(sc->found) && strcmp(rec->domain, sc->name) == 0 && rec->devid == sc->vif->devid &&
	    strcasecmp(rec->uuid, sc->vif->dom.uuid) != 0 && stale_here(sc->hv, rec))
		sc->found[sc->n++] = *rec;
	return 0;
}

/*
 * A pool vif of a domain created again after a crash (a new UUID: no uuid=
 * in its config) releases its stale claims of the same name and devid
 * first, so that the pool gives it the same address back (sticky by name).
 */
static void release_stale_of_name(struct vifmac_ctx *ctx, struct vifmac_registry *reg, const struct host_view *hv,
				  const struct vifmac_hotplug_vif *vif, const char *name, struct vifmac_decision *d)
{
	struct stale_scan sc = { .hv = hv, .vif = vif, .name = name };

	if (!name[0] || vifmac_registry_lookup_domain(reg, name, stale_of_name_fn, &sc) < 0)
		return;
	for (size_t i = 0; i < sc.n; i++) {
		const struct vifmac_record *rec = &sc.found[i];

		if (vifmac_registry_release_own(reg, &rec->mac, rec->uuid, rec->devid, rec->updated) > 0)
			note_stale(d, "released", rec);
	}
	vifmac_clear_error(ctx);
}

/*
 * Claims @rec; a holder that is a stale claim of this host is taken over in
 * one registry transaction. Two vifs racing for one stale claim: the
 * take-over of the second finds it changed (-ESTALE), judges again, and
 * meets the winner's live claim.
 */
static int claim_or_take_over(struct vifmac_registry *reg, const struct host_view *hv,
			      const struct vifmac_record *rec, struct vifmac_record *holder, struct vifmac_decision *d)
{
	int r = vifmac_registry_claim(reg, rec, holder);

	for (int attempt = 0; r == -EEXIST && stale_here(hv, holder) && attempt < 8; attempt++) {
		struct vifmac_record stale = *holder;

		r = vifmac_registry_takeover(reg, &stale, rec, holder);
		if (r == 0)
			note_stale(d, "took over", &stale);
		else if (r == -ESTALE)
			r = vifmac_registry_claim(reg, rec, holder);
	}
	return r;
}

VIFMAC_EXPORT int vifmac_hotplug_online(struct vifmac_ctx *ctx, struct vifmac_registry *reg,
					const struct vifmac_hotplug_vif *vif, enum vifmac_hotplug_mode mode,
					struct vifmac_decision *decision)
{
	struct vifmac_decision *d = decision;
	struct vifmac_vif in = {
		.bridge = vif->bridge[0] ? vif->bridge : NULL,
		.ip = vif->ip[0] ? vif->ip : NULL,
		.domain = vif->dom.name,
		.uuid = vif->dom.uuid,
		.devid = vif->devid,
		.mac = vif->mac_generated ? NULL : &vif->mac,
	};
	struct vifmac_record rec, holder;
	char cur[VIFMAC_MAC_STRLEN], want[VIFMAC_MAC_STRLEN], dom[160];
	bool pooled = false;
	struct vifmac_mac held_before = { { 0 } };
	struct host_view hv;
	unsigned check_flags = 0;
	size_t n;
	int r;

	vifmac_clear_error(ctx);
	domain_label(vif, dom, sizeof(dom));
	if (!vif->dom.uuid[0]) {
		memset(d, 0, sizeof(*d));
		return vifmac_refuse(d, VIFMAC_REFUSAL_UNAVAILABLE, -ENOENT, "domain %u no longer exists", vif->domid);
	}
	r = vifmac_decide(ctx, &in, d);
	if (r < 0)
		return r;
	host_view_load(ctx, vif, &hv);
	if (hv.twin) {
		/* two guests cannot be one registry owner: a copied config with its uuid= line */
		vifmac_holder_set(&d->refusal, &d->mac, "uuid");
		d->refusal.has_mac = d->rule != VIFMAC_RULE_POOL;
		vifmac_strscpy(d->refusal.holder.domain, hv.twin->name, sizeof(d->refusal.holder.domain));
		vifmac_strscpy(d->refusal.holder.uuid, hv.twin->uuid, sizeof(d->refusal.holder.uuid));
		snprintf(d->refusal.holder.detail, sizeof(d->refusal.holder.detail), "domain %s (domid %u)",
			 hv.twin->name[0] ? hv.twin->name : "?", hv.twin->domid);
		snprintf(d->refusal.message, sizeof(d->refusal.message),
			 "vif %d of %s: the domain's UUID %s is not its own", vif->devid, dom, vif->dom.uuid);
		r = -EEXIST;
		goto out;
	}
	/* the arriving half of a migration: its MAC came with it, and the departing guest may still send from it */
	if (has_suffix(vif->dom.name, INCOMING, &n))
		check_flags |= VIFMAC_CHECK_NO_WIRE;
	if (d->rule == VIFMAC_RULE_POOL) {
		struct same_owner before = { .uuid = vif->dom.uuid, .devid = vif->devid };
		struct vifmac_record self;

		owner_record(vif, d, &self);
		release_stale_of_name(ctx, reg, &hv, vif, self.domain, d);
		/* what this vif held before asking: its own wire traces do not count (below) */
		if (vifmac_registry_lookup_domain(reg, vif->dom.uuid, same_owner_fn, &before) == 0 && before.found)
			held_before = before.mac;
		/* allocated (and so claimed) first: the checks below then see the pool's MAC */
		r = pool_allocate(ctx, reg, vif, d, dom);
		if (r < 0)
			goto out;
		pooled = true;
	}
	vifmac_mac_format(&vif->mac, cur);
	vifmac_mac_format(&d->mac, want);
	if (mode == VIFMAC_HOTPLUG_VERIFY && !vifmac_mac_equal(&vif->mac, &d->mac)) {
		if (pooled)
			vifmac_registry_release(reg, &d->mac, vif->dom.uuid, vif->devid);
		if (strcmp(vif->type, "vif") != 0)
			r = vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
				      "vif %d of %s is an HVM emulated NIC: QEMU got MAC %s before any hotplug script ran, and the policy gives %s (%s); start it with mac=%s: xl create CFG \"$(vifmac xl-args CFG)\"",
				      vif->devid, dom, cur, want, d->evidence, want);
		else
			r = vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
				      "vif %d of running %s came with MAC %s and the guest already uses it; the policy gives %s (%s); remove it with \"xl network-detach %u %d\" and attach with \"vifmac network-attach %s ...\" (or pass mac=%s)",
				      vif->devid, dom, cur, want, d->evidence, vif->domid, vif->devid,
				      vif->dom.name[0] ? vif->dom.name : "DOMAIN", want);
		goto out;
	}

	{
		struct same_owner so = { .uuid = vif->dom.uuid, .devid = vif->devid };
		struct vifmac_refusal seen;

		/*
		 * A MAC this very vif already holds (restart, reboot, restore,
		 * migrate-in with a shared registry) may still be in FDBs and ARP
		 * caches from its previous life: that is not a foreign machine.
		 */
		if (pooled)
			so.found = vifmac_mac_equal(&held_before, &d->mac);
		else if (vifmac_registry_lookup_mac(reg, &d->mac, same_owner_fn, &so) < 0)
			so.found = false;
		memset(&seen, 0, sizeof(seen));
		r = vifmac_check_mac_migrating(ctx, &d->mac, d->scope_key, vif, hv.peer_domid,
			      check_flags | (so.found ? VIFMAC_CHECK_NO_WIRE : 0), &seen);
		if (r == 0 && seen.holder.where[0]) {
			size_t k = strlen(d->warning);

			mac_and_evidence_format(&seen, d->warning + k, sizeof(d->warning) - k);
			k = strlen(d->warning);
			snprintf(d->warning + k, sizeof(d->warning) - k, " (wire_check = \"warn\")");
		}
		if (r == -EEXIST)
			d->refusal = seen;
	}
	if (r < 0 && pooled)
		vifmac_registry_release(reg, &d->mac, vif->dom.uuid, vif->devid);
	if (r == -EEXIST) {
		d->refusal.kind = VIFMAC_REFUSAL_CONFLICT;
		snprintf(d->refusal.message, sizeof(d->refusal.message), "%s for vif %d of %s is already in use%s", want,
			 vif->devid, dom,
			 pooled ? " (a pool address: \"vifmac reserve\" it so that the pool skips it)" : "");
		goto out;
	}
	if (r < 0) {
		r = vifmac_refuse(d, VIFMAC_REFUSAL_UNAVAILABLE, r, "cannot check %s for conflicts: %s", want,
			      vifmac_ctx_last_error(ctx));
		goto out;
	}

	owner_record(vif, d, &rec);
	rec.mac = d->mac;
	vifmac_strscpy(rec.source, vifmac_rule_name(d->rule), sizeof(rec.source));
	memset(&holder, 0, sizeof(holder));
	r = pooled ? 0 : claim_or_take_over(reg, &hv, &rec, &holder, d);
	if (r == -EEXIST) {
		holder_from_record(&d->refusal, &holder);
		snprintf(d->refusal.message, sizeof(d->refusal.message), "%s for vif %d of %s is already %s", want,
			 vif->devid, dom, holder.state == VIFMAC_STATE_RESERVED ? "reserved" : "claimed");
		goto out;
	}
	if (r < 0) {
		r = vifmac_refuse(d, VIFMAC_REFUSAL_UNAVAILABLE, r, "registry %s: cannot record %s for vif %d of %s: %s",
			      vifmac_registry_url(reg), want, vif->devid, dom, vifmac_ctx_last_error(ctx));
		goto out;
	}

	r = apply(ctx, vif, &d->mac, mode == VIFMAC_HOTPLUG_REWRITE && !vifmac_mac_equal(&vif->mac, &d->mac));
	if (r < 0) {
		char why[sizeof(ctx->last_error)];

		vifmac_strscpy(why, ctx->last_error, sizeof(why));
		vifmac_registry_release(reg, &d->mac, vif->dom.uuid, vif->devid);
		r = vifmac_refuse(d, VIFMAC_REFUSAL_UNAVAILABLE, r, "cannot give vif %d of %s its MAC %s: %s", vif->devid,
			      dom, want, why);
	}
	if (r == 0)
		r = vifmac_hotplug_enforce(ctx, reg, vif, d);
out:
	free(hv.doms);
	return r;
}

/*
 * Another vif backend of this host, of another domain, that carries the
 * claim of @uuid/@devid (its owner marker): the other half of a migration
 * on this host re-claimed it, and it is theirs now.
 */
static int claim_carrier(struct vifmac_ctx *ctx, const struct vifmac_hotplug_vif *vif, const char *uuid)
{
	char **doms = NULL;
	size_t n_doms = 0;
	int found = -1;

	if (!ctx->sys.xs_directory ||
	    ctx->sys.xs_directory(ctx->sys_data, 0, "/local/domain/0/backend/vif", &doms, &n_doms) < 0)
		return -1;
	for (size_t i = 0; i < n_doms; i++) {
		char dir[128], *owner = NULL;
		unsigned domid, devid;

		snprintf(dir, sizeof(dir), "backend/vif/%s/%d", doms[i], vif->devid);
		if (found < 0 && vifmac_xenbus_path_parse(dir, &domid, &devid) == 0 && domid != vif->domid) {
			snprintf(dir, sizeof(dir), "/local/domain/0/backend/vif/%u/%u", domid, devid);
			if (read_dom0_node(ctx, dir, OWNER_NODE, false, &owner) == 0 && owner &&
			    strcasecmp(owner, uuid) == 0)
				found = (int)domid;
			free(owner);
		}
		free(doms[i]);
	}
	free(doms);
	vifmac_clear_error(ctx);
	return found;
}

VIFMAC_EXPORT int vifmac_hotplug_offline(struct vifmac_ctx *ctx, struct vifmac_registry *reg,
					 const struct vifmac_hotplug_vif *vif)
{
	const char *uuid = vif->claim_uuid[0] ? vif->claim_uuid : vif->dom.uuid;
	int carrier;

	vifmac_clear_error(ctx);
	vifmac_hotplug_unenforce(ctx, vif);
	if (!uuid[0])
		return 0; /* never claimed, and the domain is gone: nothing of ours to release */
	carrier = claim_carrier(ctx, vif, uuid);
	if (carrier >= 0) {
		info(ctx, "vif %d of domain %u: the claim of %s stays: domain %d carries it now (migration)", vif->devid,
		     vif->domid, uuid, carrier);
		return 0;
	}
	/* only this host's claim: after a migration to another host, the claim is that host's */
	return vifmac_registry_release_own(reg, NULL, uuid, vif->devid, INT64_MAX);
}

/* The holder part of a conflict: ": held ... (seen in ...)". */
static void holder_evidence_format(const struct vifmac_refusal *refusal, char *buf, size_t size)
{
	const struct vifmac_holder *h = &refusal->holder;
	char since[64];
	size_t n = 0;

	format_since(h->since, since, sizeof(since));
	if (strcmp(h->where, "uuid") == 0)
		snprintf(buf + n, size - n,
			 ": %s runs with the same UUID (a config copied with its uuid= line? give each domain its own uuid=, or none)",
			 h->detail);
	else if (strcmp(h->where, "registry") == 0 && h->devid < 0)
		snprintf(buf + n, size - n, ": held by a reservation in the registry (%s)%s", h->detail, since);
	else if (strcmp(h->where, "registry") == 0)
		snprintf(buf + n, size - n, ": held in the registry by domain %s (uuid %s) vif %d on host %s, %s%s",
			 h->domain[0] ? h->domain : "?", h->uuid, h->devid, h->host[0] ? h->host : "?", h->detail, since);
	else if (strcmp(h->where, "xenstore") == 0)
		snprintf(buf + n, size - n, ": used by %s%s%s (seen in xenstore)", h->detail,
			 h->domain[0] ? ", domain " : "", h->domain);
	else if (strcmp(h->where, "fdb") == 0)
		snprintf(buf + n, size - n, ": seen on the wire by %s (someone else uses it)", h->detail);
	else if (strcmp(h->where, "guest-wire") == 0)
		snprintf(buf + n, size - n,
			 ": seen on the wire as %s: a guest sends from this MAC (enforce = \"mac\" holds every guest to its own)",
			 h->detail);
	else if (strcmp(h->where, "neighbour") == 0)
		snprintf(buf + n, size - n, ": seen on the wire as %s (someone else uses it)", h->detail);
	else
		snprintf(buf + n, size - n, ": carried by %s (seen in %s)", h->detail, h->where);
}

static void mac_and_evidence_format(const struct vifmac_refusal *refusal, char *buf, size_t size)
{
	char mac[VIFMAC_MAC_STRLEN];
	size_t n = (size_t)snprintf(buf, size, "%s", vifmac_mac_format(&refusal->mac, mac));

	if (n < size)
		holder_evidence_format(refusal, buf + n, size - n);
}

VIFMAC_EXPORT char *vifmac_refusal_format(const struct vifmac_refusal *refusal, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "%s", refusal->message);

	if (refusal->kind == VIFMAC_REFUSAL_CONFLICT && n < size)
		holder_evidence_format(refusal, buf + n, size - n);
	return buf;
}
