/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The decision engine: which rule the policy applies to a vif, and the MAC
 * it gives — or a refusal an admin can act on. Pure: no registry, no system.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"


static const struct vifmac_bridge_prefix *bridge_prefix(const struct vifmac_policy *p, const char *bridge)
{
	for (size_t i = 0; i < p->n_bridge_prefixes; i++)
		if (strcmp(p->bridge_prefixes[i].bridge, bridge) == 0)
			return &p->bridge_prefixes[i];
	return NULL;
}

static void prefix_format(const uint8_t *prefix, size_t len, char *buf, size_t size)
{
	if (len == 3)
		snprintf(buf, size, "%02x:%02x:%02x", prefix[0], prefix[1], prefix[2]);
	else
		snprintf(buf, size, "%02x:%02x", prefix[0], prefix[1]);
}

/*
 * FNV-1a, 64 bits, over "<uuid in lower case>/<devid>": stable across
 * versions and hosts (documented in vifmac.conf(5)); the first octet is
 * forced to locally administered unicast.
 */
static void hash_mac(const char *uuid, int devid, struct vifmac_mac *ret)
{
	char buf[VIFMAC_UUID_STRLEN + 16];
	uint64_t h = 1469598103934665603ULL;

	snprintf(buf, sizeof(buf), "%s/%d", uuid, devid);
	for (char *c = buf; *c; c++) {
		char lc = (*c >= 'A' && *c <= 'F') ? (char)(*c - 'A' + 'a') : *c;

		h ^= (uint8_t)lc;
		h *= 1099511628211ULL;
	}
	for (int i = 0; i < 6; i++)
		ret->b[i] = (uint8_t)(h >> (8 * i));
	ret->b[0] = (uint8_t)((ret->b[0] & 0xfc) | 0x02);
}

static bool uuid_ok(const char *s)
{
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* The MAC the policy gives, ignoring any mac= the admin wrote. */
static int policy_mac(struct vifmac_ctx *ctx, const struct vifmac_vif *vif, struct vifmac_decision *d)
{
	const struct vifmac_policy *p = ctx->policy;
	struct vifmac_ipv4 ip;
	char ipbuf[VIFMAC_IPV4_STRLEN], pbuf[16], *bad = NULL;
	int r = vifmac_iplist_first_ipv4(vif->ip, &ip, &bad);

	if (r == -EINVAL) {
		r = vifmac_refuse(d, VIFMAC_REFUSAL_INPUT, -EINVAL,
			   "ip=\"%s\": \"%s\" is not an IPv4 or IPv6 address", vif->ip, bad ? bad : "?");
		free(bad);
		return r;
	}
	if (d->bridge_class == VIFMAC_BRIDGE_PUBLIC) {
		const struct vifmac_table_entry *e;
		size_t n_pools = 0;
		const char *const *pools = vifmac_ctx_bridge_pools(ctx, vif->bridge, &n_pools);

		if (pools) {
			/* the operator's pools: the registry allocates when the vif is claimed */
			size_t used = (size_t)snprintf(d->evidence, sizeof(d->evidence), "pools ");

			for (size_t i = 0; i < n_pools && used < sizeof(d->evidence); i++)
				used += (size_t)snprintf(d->evidence + used, sizeof(d->evidence) - used, "%s%s", i ? "," : "",
							 pools[i]);
			d->rule = VIFMAC_RULE_POOL;
			return 0;
		}
		if (r == -ENOENT)
			return vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
				      "bridge %s is public: its MACs come from the operator's table by IPv4 address, and this vif has no IPv4 (ip=\"%s\")",
				      vif->bridge, vif->ip ? vif->ip : "");
		if (!p->public_table)
			return vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
				      "bridge %s is public but the policy sets no public_table: ask the network operator for the IP-to-MAC table",
				      vif->bridge);
		e = vifmac_table_find(p->public_table, &ip);
		if (!e)
			return vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
				      "bridge %s is public and %s is not in the operator's table %s: ask the operator for a MAC for this address",
				      vif->bridge, vifmac_ipv4_format(&ip, ipbuf), p->public_table->path);
		d->mac = e->mac;
		d->rule = VIFMAC_RULE_PUBLIC_TABLE;
		snprintf(d->evidence, sizeof(d->evidence), "public_table %s:%d for %s", p->public_table->path, e->line,
			 vifmac_ipv4_format(&ip, ipbuf));
		return 0;
	}
	if (r == -ENOENT) {
		if (p->no_ipv4 == VIFMAC_NO_IPV4_REFUSE)
			return vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
				      "no IPv4 address in ip=\"%s\" and the policy says no_ipv4 = \"refuse\": add ip=a.b.c.d to the vif",
				      vif->ip ? vif->ip : "");
		if (!uuid_ok(vif->uuid) || vif->devid < 0)
			return vifmac_refuse(d, VIFMAC_REFUSAL_INPUT, -EINVAL,
				      "no_ipv4 = \"hash\" needs the domain's UUID and the vif's devid");
		hash_mac(vif->uuid, vif->devid, &d->mac);
		d->rule = VIFMAC_RULE_HASH;
		snprintf(d->evidence, sizeof(d->evidence), "hash of %s/%d (no IPv4)", vif->uuid, vif->devid);
		return 0;
	} else {
		const struct vifmac_bridge_prefix *bp = bridge_prefix(p, vif->bridge);
		const uint8_t *prefix = bp ? bp->prefix : p->prefix;
		size_t len = bp ? bp->len : p->prefix_len;

		prefix_format(prefix, len, pbuf, sizeof(pbuf));
		vifmac_ipv4_format(&ip, ipbuf);
		if (len == 3) {
			if (ip.b[0] != prefix[2])
				return vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
					      "prefix %s%s keeps only the low 3 bytes of the address, so it serves %u.x.x.x only, not %s",
					      pbuf, bp ? " (bridge_prefixes)" : "", prefix[2], ipbuf);
			memcpy(d->mac.b, prefix, 3);
			memcpy(d->mac.b + 3, ip.b + 1, 3);
		} else {
			memcpy(d->mac.b, prefix, 2);
			memcpy(d->mac.b + 2, ip.b, 4);
		}
		d->rule = VIFMAC_RULE_IP_DERIVED;
		snprintf(d->evidence, sizeof(d->evidence), "prefix %s%s + %s", pbuf, bp ? " (bridge_prefixes)" : "",
			 ipbuf);
		return 0;
	}
}

int vifmac_refuse(struct vifmac_decision *d, enum vifmac_refusal_kind kind, int err, const char *format, ...)
{
	va_list args;

	d->refusal.kind = kind;
	va_start(args, format);
	vsnprintf(d->refusal.message, sizeof(d->refusal.message), format, args);
	va_end(args);
	return err;
}

VIFMAC_EXPORT int vifmac_decide(struct vifmac_ctx *ctx, const struct vifmac_vif *vif,
				struct vifmac_decision *decision)
{
	struct vifmac_decision *d = decision;
	const struct vifmac_policy *p = ctx->policy;
	char a[VIFMAC_MAC_STRLEN], b[VIFMAC_MAC_STRLEN];
	int r;

	memset(d, 0, sizeof(*d));
	if (!vif->bridge || !*vif->bridge)
		return vifmac_refuse(d, VIFMAC_REFUSAL_INPUT, -EINVAL, "the vif names no bridge (bridge=)");
	d->bridge_class = vifmac_ctx_bridge_class(ctx, vif->bridge);
	if (!vifmac_strscpy(d->scope_key, p->scope == VIFMAC_SCOPE_GLOBAL ? "*" : vif->bridge, sizeof(d->scope_key)))
		return vifmac_refuse(d, VIFMAC_REFUSAL_INPUT, -EINVAL, "bridge name \"%.64s...\" is too long", vif->bridge);
	if (vif->mac) {
		d->refusal.mac = *vif->mac;
		d->refusal.has_mac = true;
		if (vifmac_mac_is_multicast(vif->mac))
			return vifmac_refuse(d, VIFMAC_REFUSAL_INPUT, -EINVAL,
				      "mac=%s is a multicast address: a NIC needs a unicast one", vifmac_mac_format(vif->mac, a));
	}
	if (d->bridge_class == VIFMAC_BRIDGE_REFUSE)
		return vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
			      "bridge %s is in neither private_bridges nor public_bridges, and unlisted_bridges = \"refuse\"",
			      vif->bridge);
	if (vif->mac && p->explicit_mac == VIFMAC_EXPLICIT_HONOUR) {
		d->mac = *vif->mac;
		d->rule = VIFMAC_RULE_EXPLICIT;
		snprintf(d->evidence, sizeof(d->evidence), "mac= given by the admin (explicit_mac = \"honour\")");
		return 0;
	}
	r = policy_mac(ctx, vif, d);
	if (r < 0)
		return r;
	d->refusal.mac = d->mac;
	d->refusal.has_mac = true;
	if (d->rule == VIFMAC_RULE_POOL)
		return 0; /* the registry knows the MAC; a mac= given is checked against it there */
	if (vif->mac && p->explicit_mac == VIFMAC_EXPLICIT_VERIFY && !vifmac_mac_equal(vif->mac, &d->mac))
		return vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
			      "mac=%s differs from the policy's %s (%s): remove mac= or write mac=%s",
			      vifmac_mac_format(vif->mac, a), vifmac_mac_format(&d->mac, b), d->evidence, b);
	return 0;
}

static bool scopes_overlap(const char *a, const char *b)
{
	return strcmp(a, "*") == 0 || strcmp(b, "*") == 0 || strcmp(a, b) == 0;
}

VIFMAC_EXPORT int vifmac_decide_domain(struct vifmac_ctx *ctx, const struct vifmac_vif *vifs, size_t n,
				       struct vifmac_decision *decisions)
{
	int first = 0;

	for (size_t i = 0; i < n; i++) {
		int r = vifmac_decide(ctx, &vifs[i], &decisions[i]);

		if (r < 0 && first == 0)
			first = r;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			struct vifmac_decision *d = &decisions[i];
			const struct vifmac_decision *o = &decisions[j];
			char buf[VIFMAC_MAC_STRLEN];
			struct vifmac_holder *h = &d->refusal.holder;

			if (i == j || d->refusal.kind != VIFMAC_REFUSAL_NONE || o->rule == VIFMAC_RULE_NONE ||
			    o->rule == VIFMAC_RULE_POOL || d->rule == VIFMAC_RULE_POOL ||
			    !vifmac_mac_equal(&d->mac, &o->mac) || !scopes_overlap(d->scope_key, o->scope_key))
				continue;
			memset(h, 0, sizeof(*h));
			vifmac_strscpy(h->where, "domain-config", sizeof(h->where));
			vifmac_strscpy(h->domain, vifs[j].domain ? vifs[j].domain : "", sizeof(h->domain));
			vifmac_strscpy(h->uuid, vifs[j].uuid ? vifs[j].uuid : "", sizeof(h->uuid));
			h->devid = vifs[j].devid >= 0 ? vifs[j].devid : (int)j;
			snprintf(h->detail, sizeof(h->detail), "vif #%zu of the same domain", j);
			vifmac_refuse(d, VIFMAC_REFUSAL_CONFLICT, -EEXIST,
			       "%s is also the MAC of vif #%zu (bridge %s) of the same domain: two vifs cannot share a MAC in one scope",
			       vifmac_mac_format(&d->mac, buf), j, vifs[j].bridge);
			if (first == 0)
				first = -EEXIST;
		}
	}
	return first;
}

VIFMAC_EXPORT const char *vifmac_rule_name(enum vifmac_rule rule)
{
	switch (rule) {
	case VIFMAC_RULE_IP_DERIVED:
		return "ip-derived";
	case VIFMAC_RULE_PUBLIC_TABLE:
		return "public-table";
	case VIFMAC_RULE_HASH:
		return "hash";
	case VIFMAC_RULE_EXPLICIT:
		return "explicit";
	case VIFMAC_RULE_POOL:
		return "pool";
	case VIFMAC_RULE_NONE:
		break;
	}
	return "none";
}

VIFMAC_EXPORT const char *vifmac_bridge_class_name(enum vifmac_bridge_class c)
{
	switch (c) {
	case VIFMAC_BRIDGE_PRIVATE:
		return "private";
	case VIFMAC_BRIDGE_PUBLIC:
		return "public";
	case VIFMAC_BRIDGE_REFUSE:
		return "refuse";
	}
	return "refuse";
}

VIFMAC_EXPORT const char *vifmac_refusal_kind_name(enum vifmac_refusal_kind k)
{
	switch (k) {
	case VIFMAC_REFUSAL_POLICY:
		return "policy";
	case VIFMAC_REFUSAL_CONFLICT:
		return "conflict";
	case VIFMAC_REFUSAL_INPUT:
		return "input";
	case VIFMAC_REFUSAL_UNAVAILABLE:
		return "unavailable";
	case VIFMAC_REFUSAL_NONE:
		break;
	}
	return "none";
}
