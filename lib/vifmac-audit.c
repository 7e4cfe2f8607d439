/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vifmac audit: one pass over this host comparing what runs (vif backends),
 * what dom0 carries (links), what the wire shows (bridge FDBs) and what the
 * registry says, reporting duplicates and anomalies.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vifmac-internal.h"

struct audit {
	struct vifmac_ctx *ctx;
	vifmac_finding_fn fn;
	void *data;
	int worst;
	int stop;
	struct vifmac_running_vif *vifs;
	size_t n_vifs;
	struct vifmac_record *claims;
	size_t n_claims;
	struct vifmac_domain_info *doms;
	size_t n_doms;
};

void vifmac_finding_vset(struct vifmac_finding *f, enum vifmac_severity sev, const char *kind,
			 const struct vifmac_mac *mac, const char *format, va_list args)
{
	memset(f, 0, sizeof(*f));
	f->severity = sev;
	f->mac = *mac;
	vifmac_strscpy(f->kind, kind, sizeof(f->kind));
	vsnprintf(f->message, sizeof(f->message), format, args);
}

static void report(struct audit *a, enum vifmac_severity sev, const char *kind, const struct vifmac_mac *mac,
		   const char *format, ...) VIFMAC_PRINTF(5, 6);
static void report(struct audit *a, enum vifmac_severity sev, const char *kind, const struct vifmac_mac *mac,
		   const char *format, ...)
{
	struct vifmac_finding f;
	va_list args;

	if (a->stop)
		return;
	va_start(args, format);
	vifmac_finding_vset(&f, sev, kind, mac, format, args);
	va_end(args);
	if ((int)sev > a->worst)
		a->worst = (int)sev;
	if (a->fn)
		a->stop = a->fn(a->data, &f);
}

static int claim_fn(void *data, const struct vifmac_record *rec)
{
	struct audit *a = data;
	struct vifmac_record *nc = vifmac_array_grow(a->claims, a->n_claims, sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	a->claims = nc;
	a->claims[a->n_claims++] = *rec;
	return 0;
}

static const char *vif_label(const struct vifmac_running_vif *v, char *buf, size_t size)
{
	snprintf(buf, size, "domain %s%s%u vif %d (%s, bridge %s)", v->dom.name[0] ? v->dom.name : "",
		 v->dom.name[0] ? " domid " : "domid ", v->domid, v->devid, v->ifname, v->bridge[0] ? v->bridge : "?");
	return buf;
}

static bool scopes_meet(const struct vifmac_ctx *ctx, const char *bridge_a, const char *bridge_b)
{
	return ctx->policy->scope == VIFMAC_SCOPE_GLOBAL || strcmp(bridge_a, bridge_b) == 0;
}

bool vifmac_audit_port_of(const struct vifmac_running_vif *v, const char *port)
{
	char emu[80];

	snprintf(emu, sizeof(emu), "%s-emu", v->ifname);
	return strcmp(port, v->ifname) == 0 || strcmp(port, emu) == 0;
}

static void audit_vifs(struct audit *a)
{
	char l1[400], l2[400], want[VIFMAC_MAC_STRLEN], have[VIFMAC_MAC_STRLEN];

	for (size_t i = 0; i < a->n_vifs; i++) {
		const struct vifmac_running_vif *v = &a->vifs[i];
		bool generated = vifmac_mac_is_xen_random(&v->mac);
		struct vifmac_decision d;

		for (size_t j = i + 1; j < a->n_vifs; j++)
			if (vifmac_mac_equal(&v->mac, &a->vifs[j].mac) && scopes_meet(a->ctx, v->bridge, a->vifs[j].bridge))
				report(a, VIFMAC_SEVERITY_CRITICAL, "duplicate-vif", &v->mac, "%s is the MAC of %s and of %s",
				       vifmac_mac_format(&v->mac, have), vif_label(v, l1, sizeof(l1)),
				       vif_label(&a->vifs[j], l2, sizeof(l2)));
		vifmac_mac_format(&v->mac, have);
		if (vifmac_decide_running(a->ctx, v, &d) < 0)
			report(a, VIFMAC_SEVERITY_WARNING, "outside-policy", &v->mac, "%s has %s%s, and the policy gives it none: %s",
			       vif_label(v, l1, sizeof(l1)), have, generated ? " (libxl's random range)" : "",
			       d.refusal.message);
		else if (d.rule != VIFMAC_RULE_POOL && !vifmac_mac_equal(&d.mac, &v->mac))
			/* a pool's MAC is the registry's to give: only the claims say which one is right */
			report(a, VIFMAC_SEVERITY_WARNING, "outside-policy", &v->mac, "%s has %s%s; the policy gives %s (%s)",
			       vif_label(v, l1, sizeof(l1)), have,
			       generated ? " (libxl's random range: started without vif-vifmac?)" : "",
			       vifmac_mac_format(&d.mac, want), d.evidence);
	}
}

static void audit_links(struct audit *a, const struct vifmac_link_info *links, size_t n)
{
	char l1[400], mac[VIFMAC_MAC_STRLEN];

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < a->n_vifs; j++) {
			const struct vifmac_running_vif *v = &a->vifs[j];

			if (vifmac_mac_equal(&links[i].mac, &v->mac) && !vifmac_audit_port_of(v, links[i].name))
				report(a, VIFMAC_SEVERITY_CRITICAL, "dom0-link", &v->mac,
				       "%s of %s is also carried by dom0 interface %s", vifmac_mac_format(&v->mac, mac),
				       vif_label(v, l1, sizeof(l1)), links[i].name);
		}
}

static const struct vifmac_running_vif *vif_with_mac(const struct audit *a, const struct vifmac_mac *mac)
{
	for (size_t i = 0; i < a->n_vifs; i++)
		if (vifmac_mac_equal(&a->vifs[i].mac, mac))
			return &a->vifs[i];
	return NULL;
}

static const struct vifmac_record *claim_of(const struct audit *a, const struct vifmac_mac *mac)
{
	for (size_t i = 0; i < a->n_claims; i++)
		if (vifmac_mac_equal(&a->claims[i].mac, mac))
			return &a->claims[i];
	return NULL;
}

static void audit_fdb(struct audit *a, const struct vifmac_fdb_entry *fdb, size_t n)
{
	char l1[400], mac[VIFMAC_MAC_STRLEN];

	for (size_t i = 0; i < n; i++) {
		const struct vifmac_fdb_entry *e = &fdb[i];
		const struct vifmac_running_vif *v;
		const struct vifmac_record *c;
		bool first = true;

		if (e->local)
			continue;
		vifmac_mac_format(&e->mac, mac);
		v = vif_with_mac(a, &e->mac);
		if (v) {
			bool own = false;

			for (size_t j = 0; j < a->n_vifs; j++)
				own = own || (vifmac_mac_equal(&a->vifs[j].mac, &e->mac) && vifmac_audit_port_of(&a->vifs[j], e->port));
			if (!own)
				report(a, VIFMAC_SEVERITY_CRITICAL, "foreign-use", &e->mac,
				       "%s of %s is seen on bridge %s port %s (learned %llds ago): someone else uses it", mac,
				       vif_label(v, l1, sizeof(l1)), e->bridge, e->port, (long long)e->age);
			continue;
		}
		c = claim_of(a, &e->mac);
		if (c && c->state == VIFMAC_STATE_ACTIVE) {
			report(a, VIFMAC_SEVERITY_CRITICAL, "foreign-use", &e->mac,
			       "%s is claimed by domain %s (uuid %s) vif %d, which is not running here, but is seen on bridge %s port %s (learned %llds ago)",
			       mac, c->domain, c->uuid, c->devid, e->bridge, e->port, (long long)e->age);
			continue;
		}
		if (c) {
			report(a, VIFMAC_SEVERITY_CRITICAL, "foreign-use", &e->mac,
			       "%s is reserved in the registry (%s) but is seen on bridge %s port %s", mac, c->note, e->bridge,
			       e->port);
			continue;
		}
		/* an unknown MAC on two ports (report each pair once, from its first entry) */
		for (size_t j = 0; j < i; j++)
			first = first && !(!fdb[j].local && vifmac_mac_equal(&fdb[j].mac, &e->mac));
		for (size_t j = i + 1; first && j < n; j++) {
			const struct vifmac_fdb_entry *o = &fdb[j];

			if (o->local || !vifmac_mac_equal(&o->mac, &e->mac) ||
			    (strcmp(o->bridge, e->bridge) == 0 && strcmp(o->port, e->port) == 0) ||
			    !scopes_meet(a->ctx, o->bridge, e->bridge))
				continue;
			report(a, VIFMAC_SEVERITY_CRITICAL, "duplicate-port", &e->mac,
			       "%s is learned on bridge %s port %s and on bridge %s port %s", mac, e->bridge, e->port,
			       o->bridge, o->port);
			break;
		}
	}
}

static bool link_exists(const struct vifmac_link_info *links, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(links[i].name, name) == 0)
			return true;
	return false;
}

static const struct vifmac_enforce_entry *rule_of(const struct vifmac_enforce_entry *rules, size_t n,
						  const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rules[i].ifname, ifname) == 0)
			return &rules[i];
	return NULL;
}

/* Where the rule checks send what they find: the same finding as audit's report() builds. */
struct rules_sink {
	vifmac_finding_fn fn;
	void *data;
};

static void rules_report(const struct rules_sink *k, enum vifmac_severity sev, const char *kind,
			 const struct vifmac_mac *mac, const char *format, ...) VIFMAC_PRINTF(5, 6);
static void rules_report(const struct rules_sink *k, enum vifmac_severity sev, const char *kind,
			 const struct vifmac_mac *mac, const char *format, ...)
{
	struct vifmac_finding f;
	va_list args;

	va_start(args, format);
	vifmac_finding_vset(&f, sev, kind, mac, format, args);
	va_end(args);
	k->fn(k->data, &f);
}

/* One interface of a running vif that the policy filters: its rules, with its MAC. */
static void audit_port_rules(const struct rules_sink *k, const struct vifmac_running_vif *v, const char *ifname,
			     const struct vifmac_enforce_entry *rules, size_t n)
{
	const struct vifmac_enforce_entry *e = rule_of(rules, n, ifname);
	char l[400], want[VIFMAC_MAC_STRLEN], have[VIFMAC_MAC_STRLEN];

	if (!e)
		rules_report(k, VIFMAC_SEVERITY_CRITICAL, "missing-rules", &v->mac,
			     "%s: %s has no rules holding it to %s: the guest can send from any MAC (vifmac enforce add %s %s)",
			     vif_label(v, l, sizeof(l)), ifname, vifmac_mac_format(&v->mac, want), ifname, want);
	else if (!vifmac_mac_equal(&e->mac, &v->mac))
		rules_report(k, VIFMAC_SEVERITY_CRITICAL, "missing-rules", &v->mac,
			     "%s: %s is held to %s, not to its MAC %s", vif_label(v, l, sizeof(l)), ifname,
			     vifmac_mac_format(&e->mac, have), vifmac_mac_format(&v->mac, want));
}

void vifmac_audit_rules(struct vifmac_ctx *ctx, const struct vifmac_running_vif *vifs, size_t n_vifs,
			const struct vifmac_link_info *links, size_t n_links, const struct vifmac_enforce_entry *rules,
			size_t n, bool need_link, vifmac_finding_fn fn, void *data)
{
	const struct rules_sink k = { fn, data };
	char l[400], why[256];

	for (size_t i = 0; i < n_vifs; i++) {
		const struct vifmac_running_vif *v = &vifs[i];
		char emu[80];

		if (!v->dom.uuid[0] || !v->connected)
			continue; /* not (yet, or any more) running */
		if (!vifmac_enforce_applies(ctx, v->bridge, v->dom.name, v->dom.uuid, why, sizeof(why))) {
			if (ctx->policy->enforce != VIFMAC_ENFORCE_OFF)
				rules_report(&k, VIFMAC_SEVERITY_OK, "enforce-exempt", &v->mac, "%s is not held to its MAC: %s",
					     vif_label(v, l, sizeof(l)), why);
			continue;
		}
		if (!need_link || link_exists(links, n_links, v->ifname))
			audit_port_rules(&k, v, v->ifname, rules, n);
		snprintf(emu, sizeof(emu), "%s-emu", v->ifname);
		if (strcmp(v->type, "vif") != 0 && link_exists(links, n_links, emu))
			audit_port_rules(&k, v, emu, rules, n);
	}
	for (size_t i = 0; i < n; i++) {
		bool owned = false;
		char mac[VIFMAC_MAC_STRLEN];

		for (size_t j = 0; j < n_vifs && !owned; j++)
			owned = vifmac_audit_port_of(&vifs[j], rules[i].ifname);
		if (!owned)
			rules_report(&k, VIFMAC_SEVERITY_WARNING, "stale-rules", &rules[i].mac,
				     "rules hold %s to %s, and no vif of this host has that interface (vifmac enforce remove %s)",
				     rules[i].ifname, vifmac_mac_format(&rules[i].mac, mac), rules[i].ifname);
		else if (need_link && !link_exists(links, n_links, rules[i].ifname))
			rules_report(&k, VIFMAC_SEVERITY_WARNING, "stale-rules", &rules[i].mac,
				     "rules hold %s to %s, and dom0 has no interface of that name any more (vifmac enforce remove %s)",
				     rules[i].ifname, vifmac_mac_format(&rules[i].mac, mac), rules[i].ifname);
	}
}

/* audit's report() behind the rule checks' sink */
static int audit_finding(void *data, const struct vifmac_finding *f)
{
	report(data, f->severity, f->kind, &f->mac, "%s", f->message);
	return 0;
}

/* Every running vif has its rules (exemptions are shown), and no rules are left without a vif. */
static void audit_rules(struct audit *a, const struct vifmac_link_info *links, size_t n_links)
{
	struct vifmac_ctx *ctx = a->ctx;
	struct vifmac_enforce_entry *rules = NULL;
	size_t n = 0;
	int r;

	if (!ctx->sys.enforce_list)
		return; /* a seam without filtering: nothing to compare */
	r = ctx->sys.enforce_list(ctx->sys_data, &rules, &n);
	if (r < 0) {
		struct vifmac_mac none = { { 0 } };

		report(a, VIFMAC_SEVERITY_WARNING, "missing-rules", &none,
		       "cannot read the rules (nftables, table bridge vifmac): %s", vifmac_sys_enforce_error(ctx, r));
		return;
	}
	vifmac_audit_rules(ctx, a->vifs, a->n_vifs, links, n_links, rules, n, false, audit_finding, a);
	free(rules);
}

static void audit_claims(struct audit *a, const char *host)
{
	char mac[VIFMAC_MAC_STRLEN];

	for (size_t i = 0; i < a->n_claims; i++) {
		const struct vifmac_record *c = &a->claims[i];
		bool running = false;

		if (c->state != VIFMAC_STATE_ACTIVE || strcmp(c->host, host) != 0)
			continue;
		for (size_t j = 0; j < a->n_doms && !running; j++)
			running = strcasecmp(a->doms[j].uuid, c->uuid) == 0;
		if (!running)
			report(a, VIFMAC_SEVERITY_WARNING, "stale-claim", &c->mac,
			       "%s is claimed by domain %s (uuid %s) vif %d, which is not running on this host (vifmac gc releases it)",
			       vifmac_mac_format(&c->mac, mac), c->domain, c->uuid, c->devid);
	}
}

VIFMAC_EXPORT int vifmac_audit(struct vifmac_ctx *ctx, struct vifmac_registry *reg, vifmac_finding_fn fn, void *data,
			       struct vifmac_audit_counts *ret_counts)
{
	struct audit a = { .ctx = ctx, .fn = fn, .data = data };
	struct vifmac_link_info *links = NULL;
	struct vifmac_fdb_entry *fdb = NULL;
	struct vifmac_neigh_entry *neigh = NULL;
	size_t n_links = 0, n_fdb = 0, n_neigh = 0;
	char host[256];
	int r;

	vifmac_clear_error(ctx);
	if (!ctx->sys.xs_directory || !ctx->sys.xs_read || !ctx->sys.list_links || !ctx->sys.list_fdb ||
	    !ctx->sys.list_neigh || !ctx->sys.list_domains)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "the system seam lacks what an audit reads");
	r = vifmac_hostname(ctx, host, sizeof(host));
	if (r < 0)
		return r; /* the context's error says why */
	r = ctx->sys.list_domains(ctx->sys_data, &a.doms, &a.n_doms);
	if (r < 0) {
		vifmac_set_error(ctx, r, "cannot list the running domains (is this a Xen dom0?): %s", strerror(-r));
		goto out;
	}
	r = vifmac_running_vifs(ctx, &a.vifs, &a.n_vifs);
	if (r < 0)
		goto out;
	r = vifmac_registry_list(reg, claim_fn, &a);
	if (r < 0)
		goto out;
	r = ctx->sys.list_links(ctx->sys_data, &links, &n_links);
	if (r == 0)
		r = ctx->sys.list_fdb(ctx->sys_data, &fdb, &n_fdb);
	if (r == 0)
		r = ctx->sys.list_neigh(ctx->sys_data, &neigh, &n_neigh);
	if (r < 0) {
		vifmac_set_error(ctx, r, "cannot read dom0's links, bridge FDBs or neighbours: %s", strerror(-r));
		goto out;
	}
	audit_vifs(&a);
	audit_links(&a, links, n_links);
	audit_fdb(&a, fdb, n_fdb);
	audit_rules(&a, links, n_links);
	audit_claims(&a, host);
	if (ret_counts) {
		ret_counts->vifs = a.n_vifs;
		ret_counts->links = n_links;
		ret_counts->fdb_entries = n_fdb;
		ret_counts->neighbours = n_neigh;
		ret_counts->claims = a.n_claims;
	}
	r = a.worst;
out:
	free(links);
	free(fdb);
	free(neigh);
	free(a.vifs);
	free(a.claims);
	free(a.doms);
	return r;
}
