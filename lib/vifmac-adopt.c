/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A host already in use: the vifs running on it, the MAC the policy will
 * give each at its next start, and adopting their current MACs into the
 * registry so that it knows the host's MACs from the day vifmac arrives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"
#include "vifmac-registry-internal.h"

static char *xs_get(struct vifmac_ctx *ctx, const char *dir, const char *key)
{
	char path[256], *v = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	if (ctx->sys.xs_read(ctx->sys_data, 0, path, &v) < 0)
		return NULL;
	return v;
}

static void copy_opt(char *dst, size_t size, char *v)
{
	vifmac_strscpy(dst, v ? v : "", size);
	free(v);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The vifs of one domain's backend folder, appended to @vifs. */
static int collect_domain(struct vifmac_ctx *ctx, const char *domid_s, struct vifmac_running_vif **vifs, size_t *n)
{
	char dir[128], **devs = NULL, *end;
	size_t n_devs = 0;
	unsigned long domid = strtoul(domid_s, &end, 10);
	int r = 0;

	snprintf(dir, sizeof(dir), "/local/domain/0/backend/vif/%s", domid_s);
	/* a folder that vanished meanwhile (a domain going away) is no vif of this host */
	if (*end || ctx->sys.xs_directory(ctx->sys_data, 0, dir, &devs, &n_devs) < 0)
		return 0;
	for (size_t j = 0; j < n_devs; j++) {
		char vdir[192], *mac;
		struct vifmac_running_vif *v, *nv;
		unsigned long devid = strtoul(devs[j], &end, 10);

		snprintf(vdir, sizeof(vdir), "%s/%s", dir, devs[j]);
		mac = *end || devid > 65535 ? NULL : xs_get(ctx, vdir, "mac");
		if (!mac)
			continue;
		nv = vifmac_array_grow(*vifs, *n, sizeof(*nv));
		if (!nv) {
			free(mac);
			r = -ENOMEM;
			break;
		}
		*vifs = nv;
		v = memset(&nv[*n], 0, sizeof(*v));
		r = vifmac_mac_parse(mac, &v->mac);
		free(mac);
		if (r < 0) {
			r = 0;
			continue;
		}
		v->domid = (unsigned)domid;
		v->devid = (int)devid;
		copy_opt(v->bridge, sizeof(v->bridge), xs_get(ctx, vdir, "bridge"));
		copy_opt(v->ip, sizeof(v->ip), xs_get(ctx, vdir, "ip"));
		copy_opt(v->type, sizeof(v->type), xs_get(ctx, vdir, "type"));
		copy_opt(v->ifname, sizeof(v->ifname), xs_get(ctx, vdir, "vifname"));
		if (!v->ifname[0])
			snprintf(v->ifname, sizeof(v->ifname), "vif%u.%d", v->domid, v->devid);
		mac = xs_get(ctx, vdir, "hotplug-status");
		v->connected = mac && strcmp(mac, "connected") == 0;
		free(mac);
		v->dom.domid = v->domid;
		if (ctx->sys.get_domain && ctx->sys.get_domain(ctx->sys_data, v->domid, &v->dom) < 0) {
			memset(&v->dom, 0, sizeof(v->dom));
			v->dom.domid = v->domid;
		}
		(*n)++;
	}
	free_names(devs, n_devs);
	return r;
}

VIFMAC_EXPORT int vifmac_running_vifs(struct vifmac_ctx *ctx, struct vifmac_running_vif **ret_vifs, size_t *ret_n)
{
	struct vifmac_running_vif *vifs = NULL;
	struct vifmac_domain_info *running = NULL;
	char **doms = NULL;
	size_t n_doms = 0, n = 0, n_running = 0;
	int r;

	if (!ctx->sys.xs_directory || !ctx->sys.xs_read || !ctx->sys.list_domains)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no xenstore or hypervisor in the system seam: cannot list the running vifs");
	/*
	 * Asking the hypervisor first tells "not a dom0" apart from "no vifs":
	 * xenstore answers both with ENOENT.
	 */
	r = ctx->sys.list_domains(ctx->sys_data, &running, &n_running);
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot list the running domains (is this a Xen dom0?): %s", strerror(-r));
	free(running);
	r = ctx->sys.xs_directory(ctx->sys_data, 0, "/local/domain/0/backend/vif", &doms, &n_doms);
	if (r == -ENOENT) {
		r = 0;
		n_doms = 0;
	} else if (r < 0) {
		return vifmac_set_error(ctx, r, "cannot list /local/domain/0/backend/vif: %s", strerror(-r));
	}
	for (size_t i = 0; i < n_doms && r == 0; i++)
		r = collect_domain(ctx, doms[i], &vifs, &n);
	free_names(doms, n_doms);
	if (r < 0) {
		free(vifs);
		return vifmac_set_error(ctx, r, "cannot read the running vifs: %s", strerror(-r));
	}
	*ret_vifs = vifs;
	*ret_n = n;
	return 0;
}

VIFMAC_EXPORT int vifmac_decide_running(struct vifmac_ctx *ctx, const struct vifmac_running_vif *vif,
					struct vifmac_decision *decision)
{
	/* what the hook sees at hotplug time: libxl's random range means "no mac=" */
	struct vifmac_vif in = {
		.bridge = vif->bridge,
		.ip = vif->ip[0] ? vif->ip : NULL,
		.domain = vif->dom.name,
		.uuid = vif->dom.uuid,
		.devid = vif->devid,
		.mac = vifmac_mac_is_xen_random(&vif->mac) ? NULL : &vif->mac,
	};

	return vifmac_decide(ctx, &in, decision);
}

VIFMAC_EXPORT const char *vifmac_adopt_result_name(enum vifmac_adopt_result result)
{
	switch (result) {
	case VIFMAC_ADOPT_RECORDED:
		return "adopted";
	case VIFMAC_ADOPT_ALREADY:
		return "already";
	case VIFMAC_ADOPT_CONFLICT:
		return "conflict";
	case VIFMAC_ADOPT_UNKNOWN_DOMAIN:
		return "unknown-domain";
	}
	return "conflict";
}

static const char *scope_of(const struct vifmac_ctx *ctx, const struct vifmac_running_vif *v)
{
	return ctx->policy->scope == VIFMAC_SCOPE_GLOBAL ? "*" : v->bridge;
}

static const char *vif_label(const struct vifmac_running_vif *v, char *buf, size_t size)
{
	if (v->dom.name[0])
		snprintf(buf, size, "vif %d of %s (domid %u)", v->devid, v->dom.name, v->domid);
	else
		snprintf(buf, size, "vif %d of domid %u", v->devid, v->domid);
	return buf;
}

/* What a registry lookup of the MAC found: our own record, or another owner's in an overlapping scope. */
struct lookup {
	const struct vifmac_record *want;
	bool mine;
	bool other;
	struct vifmac_record holder;
};

static int lookup_fn(void *data, const struct vifmac_record *rec)
{
	struct lookup *l = data;

	if (!vifmac_scopes_overlap(rec->scope_key, l->want->scope_key))
		return 0;
	if (vifmac_records_same_owner(rec, l->want)) {
		l->mine = true;
	} else if (!l->other) {
		l->other = true;
		l->holder = *rec;
	}
	return 0;
}

static void holder_message(struct vifmac_adoption *a)
{
	char mac[VIFMAC_MAC_STRLEN], who[200];
	const struct vifmac_record *h = &a->holder;

	vif_label(&a->vif, who, sizeof(who));
	vifmac_mac_format(&a->vif.mac, mac);
	if (h->state == VIFMAC_STATE_RESERVED)
		snprintf(a->message, sizeof(a->message), "%s of %.200s is reserved in the registry (%.200s): not recorded", mac,
			 who, h->note);
	else
		snprintf(a->message, sizeof(a->message),
			 "%s of %.150s is held in the registry by domain %.100s (uuid %s) vif %d on host %.100s: not recorded", mac, who,
			 h->domain[0] ? h->domain : "?", h->uuid, h->devid, h->host[0] ? h->host : "?");
}

/* Another running vif with the same MAC in an overlapping scope, or NULL. */
static const struct vifmac_running_vif *twin_of(struct vifmac_ctx *ctx, const struct vifmac_running_vif *vifs,
						size_t n, size_t i)
{
	for (size_t j = 0; j < n; j++)
		if (j != i && vifmac_mac_equal(&vifs[i].mac, &vifs[j].mac) &&
		    vifmac_scopes_overlap(scope_of(ctx, &vifs[i]), scope_of(ctx, &vifs[j])))
			return &vifs[j];
	return NULL;
}

static int adopt_one(struct vifmac_ctx *ctx, struct vifmac_registry *reg, unsigned flags,
		     const struct vifmac_running_vif *vifs, size_t n, size_t i, struct vifmac_adoption *a)
{
	const struct vifmac_running_vif *v = &vifs[i], *twin;
	struct vifmac_record *rec = &a->record;
	struct lookup l = { .want = rec };
	char mac[VIFMAC_MAC_STRLEN], who[200], other[200];
	int r;

	memset(a, 0, sizeof(*a));
	a->vif = *v;
	vifmac_record_init(&a->holder);
	vifmac_record_init(rec);
	rec->mac = v->mac;
	vifmac_strscpy(rec->scope_key, scope_of(ctx, v), sizeof(rec->scope_key));
	vifmac_strscpy(rec->domain, v->dom.name, sizeof(rec->domain));
	vifmac_strscpy(rec->uuid, v->dom.uuid, sizeof(rec->uuid));
	rec->devid = v->devid;
	vifmac_strscpy(rec->bridge, v->bridge, sizeof(rec->bridge));
	vifmac_strscpy(rec->ip, v->ip, sizeof(rec->ip));
	vifmac_strscpy(rec->source, "adopted", sizeof(rec->source));
	vifmac_mac_format(&v->mac, mac);
	vif_label(v, who, sizeof(who));

	if (!v->dom.uuid[0]) {
		a->result = VIFMAC_ADOPT_UNKNOWN_DOMAIN;
		snprintf(a->message, sizeof(a->message),
			 "%s of %.200s: the hypervisor knows no domain %u (gone meanwhile?): not recorded", mac, who, v->domid);
		return 0;
	}
	twin = twin_of(ctx, vifs, n, i);
	if (twin) {
		struct vifmac_record *h = &a->holder;

		a->result = VIFMAC_ADOPT_CONFLICT;
		h->mac = twin->mac;
		vifmac_strscpy(h->scope_key, scope_of(ctx, twin), sizeof(h->scope_key));
		vifmac_strscpy(h->domain, twin->dom.name, sizeof(h->domain));
		vifmac_strscpy(h->uuid, twin->dom.uuid, sizeof(h->uuid));
		h->devid = twin->devid;
		vifmac_strscpy(h->bridge, twin->bridge, sizeof(h->bridge));
		vifmac_strscpy(h->ip, twin->ip, sizeof(h->ip));
		vifmac_strscpy(h->source, "running", sizeof(h->source));
		snprintf(a->message, sizeof(a->message),
			 "%s is the MAC of %.180s and of %.180s: two running vifs, neither recorded (change one guest's MAC)", mac,
			 who, vif_label(twin, other, sizeof(other)));
		return 0;
	}
	r = vifmac_registry_lookup_mac(reg, &v->mac, lookup_fn, &l);
	if (r < 0)
		return r;
	if (l.other) {
		a->result = VIFMAC_ADOPT_CONFLICT;
		a->holder = l.holder;
		holder_message(a);
		return 0;
	}
	a->result = l.mine ? VIFMAC_ADOPT_ALREADY : VIFMAC_ADOPT_RECORDED;
	if (flags & VIFMAC_ADOPT_DRY_RUN)
		return 0;
	r = vifmac_registry_claim(reg, rec, &a->holder);
	if (r == -EEXIST) {
		/* another writer took it between the lookup and the claim */
		a->result = VIFMAC_ADOPT_CONFLICT;
		holder_message(a);
		return 0;
	}
	return r;
}

VIFMAC_EXPORT int vifmac_adopt(struct vifmac_ctx *ctx, struct vifmac_registry *reg, unsigned flags,
			       vifmac_adopt_fn fn, void *data)
{
	struct vifmac_running_vif *vifs = NULL;
	size_t n = 0;
	int r, not_recorded = 0;

	vifmac_clear_error(ctx);
	r = vifmac_running_vifs(ctx, &vifs, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct vifmac_adoption a;
		char mac[VIFMAC_MAC_STRLEN];

		r = adopt_one(ctx, reg, flags, vifs, n, i, &a);
		if (r < 0) {
			char why[sizeof(ctx->last_error)];

			vifmac_strscpy(why, ctx->last_error[0] ? ctx->last_error : strerror(-r), sizeof(why));
			vifmac_set_error(ctx, r, "registry %s: cannot record %s of vif %d of domid %u: %s",
					 vifmac_registry_url(reg), vifmac_mac_format(&vifs[i].mac, mac), vifs[i].devid,
					 vifs[i].domid, why);
			goto out;
		}
		if (a.result == VIFMAC_ADOPT_CONFLICT || a.result == VIFMAC_ADOPT_UNKNOWN_DOMAIN)
			not_recorded++;
		if (fn) {
			r = fn(data, &a);
			if (r != 0)
				goto out;
		}
	}
	r = not_recorded;
out:
	free(vifs);
	return r;
}
