/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vifmac watch: the bridges' forwarding databases followed as the kernel
 * learns, reporting our MACs learned on a port that is not their vif and
 * MACs moving between ports, as they happen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vifmac-internal.h"

/* Where the watch last saw a MAC learned. */
struct seen {
	struct vifmac_mac mac;
	int vlan;
	char bridge[64];
	char port[64];
};

struct watcher {
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	vifmac_finding_fn fn;
	void *data;
	struct vifmac_running_vif *vifs;
	size_t n_vifs;
	struct vifmac_record *claims;
	size_t n_claims;
	double refreshed; /* monotonic seconds; 0: never */
	struct seen *seen;
	size_t n_seen;
	int stop;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int claim_fn(void *data, const struct vifmac_record *rec)
{
	struct watcher *w = data;
	struct vifmac_record *nc = realloc(w->claims, (w->n_claims + 1) * sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	w->claims = nc;
	w->claims[w->n_claims++] = *rec;
	return 0;
}

/* The running vifs and the registry, read again when older than a second. */
static void refresh(struct watcher *w)
{
	struct vifmac_running_vif *vifs = NULL;
	size_t n = 0;
	double now = mono();

	if (w->refreshed > 0 && now - w->refreshed < 1.0)
		return;
	w->refreshed = now;
	if (vifmac_running_vifs(w->ctx, &vifs, &n) == 0) {
		free(w->vifs);
		w->vifs = vifs;
		w->n_vifs = n;
	}
	if (w->reg) {
		free(w->claims);
		w->claims = NULL;
		w->n_claims = 0;
		vifmac_registry_list(w->reg, claim_fn, w);
	}
}

static void emit(struct watcher *w, enum vifmac_severity sev, const char *kind, const struct vifmac_mac *mac,
		 const char *format, ...) VIFMAC_PRINTF(5, 6);
static void emit(struct watcher *w, enum vifmac_severity sev, const char *kind, const struct vifmac_mac *mac,
		 const char *format, ...)
{
	struct vifmac_finding f = { .severity = sev, .mac = *mac };
	va_list args;

	vifmac_strscpy(f.kind, kind, sizeof(f.kind));
	va_start(args, format);
	vsnprintf(f.message, sizeof(f.message), format, args);
	va_end(args);
	if (!w->stop)
		w->stop = w->fn(w->data, &f);
}

/* One of ours learned where it does not belong? */
static void check_owner(struct watcher *w, const struct vifmac_fdb_entry *e)
{
	char mac[VIFMAC_MAC_STRLEN];

	vifmac_mac_format(&e->mac, mac);
	for (size_t i = 0; i < w->n_vifs; i++) {
		const struct vifmac_running_vif *v = &w->vifs[i];

		if (!vifmac_mac_equal(&v->mac, &e->mac))
			continue;
		if (vifmac_audit_port_of(v, e->port))
			return;
		emit(w, VIFMAC_SEVERITY_CRITICAL, "foreign-use", &e->mac,
		     "%s, the MAC of domain %s (domid %u) vif %u (%s), learned on bridge %s port %s: someone else sends from it",
		     mac, v->dom.name[0] ? v->dom.name : "?", v->domid, v->devid, v->ifname, e->bridge, e->port);
		return;
	}
	for (size_t i = 0; i < w->n_claims; i++) {
		const struct vifmac_record *c = &w->claims[i];

		if (!vifmac_mac_equal(&c->mac, &e->mac))
			continue;
		if (c->state == VIFMAC_STATE_RESERVED)
			emit(w, VIFMAC_SEVERITY_CRITICAL, "foreign-use", &e->mac,
			     "%s, reserved in the registry (%s), learned on bridge %s port %s", mac, c->note, e->bridge,
			     e->port);
		else
			emit(w, VIFMAC_SEVERITY_CRITICAL, "foreign-use", &e->mac,
			     "%s, claimed by domain %s (uuid %s) vif %d on host %s and not running here, learned on bridge %s port %s",
			     mac, c->domain, c->uuid, c->devid, c->host, e->bridge, e->port);
		return;
	}
}

/* A MAC that was on another port of the same bridge (and VLAN) before. */
static void check_move(struct watcher *w, const struct vifmac_fdb_entry *e)
{
	char mac[VIFMAC_MAC_STRLEN];

	for (size_t i = 0; i < w->n_seen; i++) {
		struct seen *s = &w->seen[i];

		if (!vifmac_mac_equal(&s->mac, &e->mac) || s->vlan != e->vlan || strcmp(s->bridge, e->bridge) != 0)
			continue;
		if (strcmp(s->port, e->port) != 0) {
			emit(w, VIFMAC_SEVERITY_WARNING, "mac-move", &e->mac, "%s moved on bridge %s from port %s to port %s",
			     vifmac_mac_format(&e->mac, mac), e->bridge, s->port, e->port);
			vifmac_strscpy(s->port, e->port, sizeof(s->port));
		}
		return;
	}
	{
		struct seen *ns = realloc(w->seen, (w->n_seen + 1) * sizeof(*ns));

		if (!ns)
			return;
		w->seen = ns;
		memset(&ns[w->n_seen], 0, sizeof(*ns));
		ns[w->n_seen].mac = e->mac;
		ns[w->n_seen].vlan = e->vlan;
		vifmac_strscpy(ns[w->n_seen].bridge, e->bridge, sizeof(ns->bridge));
		vifmac_strscpy(ns[w->n_seen].port, e->port, sizeof(ns->port));
		w->n_seen++;
	}
}

static int on_fdb(void *data, const struct vifmac_fdb_entry *e)
{
	struct watcher *w = data;

	refresh(w);
	check_owner(w, e);
	check_move(w, e);
	return w->stop;
}

VIFMAC_EXPORT int vifmac_watch(struct vifmac_ctx *ctx, struct vifmac_registry *reg, vifmac_finding_fn fn, void *data)
{
	struct watcher w = { .ctx = ctx, .reg = reg, .fn = fn, .data = data };
	int r;

	vifmac_clear_error(ctx);
	if (!ctx->sys.watch_fdb)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no bridge notifications in this system seam");
	refresh(&w);
	r = ctx->sys.watch_fdb(ctx->sys_data, on_fdb, &w);
	if (r < 0)
		vifmac_set_error(ctx, r, "cannot follow the bridges' forwarding databases (rtnetlink): %s", strerror(-r));
	else
		r = w.stop;
	free(w.vifs);
	free(w.claims);
	free(w.seen);
	return r;
}
