/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry: who holds which MAC. This file checks arguments, fills in
 * what only the registry decides (this host's name, the times) and hands
 * the work to the backend the URL names (vifmac-registry-<scheme>.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "vifmac-registry-internal.h"

static const struct vifmac_registry_backend *const backends[] = {
	&vifmac_registry_backend_sqlite,
	&vifmac_registry_backend_etcd,
};

VIFMAC_EXPORT void vifmac_record_init(struct vifmac_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->devid = -1;
	rec->scope_key[0] = '*';
	rec->state = VIFMAC_STATE_ACTIVE;
}

VIFMAC_EXPORT int vifmac_registry_open(struct vifmac_ctx *ctx, const char *url, struct vifmac_registry **ret_reg)
{
	const struct vifmac_registry_backend *backend = NULL;
	struct vifmac_registry *reg;
	const char *colon;
	size_t scheme_len;
	int r;

	if (!ctx || !ret_reg)
		return -EINVAL;
	if (!url)
		url = vifmac_ctx_registry_url(ctx);
	colon = strchr(url, ':');
	scheme_len = colon ? (size_t)(colon - url) : 0;
	for (size_t i = 0; colon && i < ARRAY_SIZE(backends); i++)
		if (strlen(backends[i]->scheme) == scheme_len && strncmp(url, backends[i]->scheme, scheme_len) == 0)
			backend = backends[i];
	if (!backend)
		return vifmac_set_error(ctx, -EINVAL, "registry \"%s\": unknown URL scheme (expected sqlite:/PATH or etcd:http(s)://HOST:PORT,...)",
					url);
	if (colon[1] == '\0')
		return vifmac_set_error(ctx, -EINVAL, "registry \"%s\": no path after \"%s:\"", url,
					backend->scheme);

	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	reg->url = strdup(url);
	if (!reg->url) {
		free(reg);
		return -ENOMEM;
	}
	reg->ctx = vifmac_ctx_ref(ctx);
	reg->backend = backend;
	r = backend->open(reg, colon + 1);
	if (r < 0) {
		vifmac_ctx_unref(reg->ctx);
		free(reg->url);
		free(reg);
		return r;
	}
	*ret_reg = reg;
	return 0;
}

VIFMAC_EXPORT void vifmac_registry_close(struct vifmac_registry *reg)
{
	if (!reg)
		return;
	reg->backend->close(reg);
	vifmac_ctx_unref(reg->ctx);
	free(reg->url);
	free(reg);
}

VIFMAC_EXPORT const char *vifmac_registry_url(const struct vifmac_registry *reg)
{
	return reg->url;
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

#define FIELD_OK(rec, f) terminated((rec)->f, sizeof((rec)->f))

/* A record as it may be stored: strings terminated, state and owner consistent. */
static int record_check(struct vifmac_ctx *ctx, const struct vifmac_record *rec)
{
	char mac[VIFMAC_MAC_STRLEN];

	if (!FIELD_OK(rec, scope_key) || !FIELD_OK(rec, domain) || !FIELD_OK(rec, uuid) || !FIELD_OK(rec, bridge) ||
	    !FIELD_OK(rec, ip) || !FIELD_OK(rec, host) || !FIELD_OK(rec, note) || !FIELD_OK(rec, source))
		return vifmac_set_error(ctx, -EINVAL, "registry record: a text field is not terminated");
	vifmac_mac_format(&rec->mac, mac);
	if (rec->scope_key[0] == '\0')
		return vifmac_set_error(ctx, -EINVAL, "registry record %s: empty scope key", mac);
	switch (rec->state) {
	case VIFMAC_STATE_ACTIVE:
		if (rec->uuid[0] == '\0' || rec->devid < 0)
			return vifmac_set_error(ctx, -EINVAL,
						"registry record %s: a claim needs the domain UUID and the devid", mac);
		break;
	case VIFMAC_STATE_RESERVED:
		if (rec->uuid[0] != '\0' || rec->devid != -1 || strcmp(rec->scope_key, "*") != 0)
			return vifmac_set_error(ctx, -EINVAL,
						"registry record %s: a reservation has no UUID, devid -1 and scope \"*\"",
						mac);
		break;
	default:
		return vifmac_set_error(ctx, -EINVAL, "registry record %s: unknown state %d", mac, (int)rec->state);
	}
	return 0;
}

/* This host's name and the time, as the registry records them. */
static int stamp(struct vifmac_registry *reg, struct vifmac_record *rec)
{
	int64_t now = vifmac_now(reg->ctx);
	int r = vifmac_hostname(reg->ctx, rec->host, sizeof(rec->host));

	if (r < 0)
		return r; /* the context's error says why */
	if (now <= 0)
		now = (int64_t)time(NULL);
	rec->created = now;
	rec->updated = now;
	return 0;
}

/* @rec as a claim is stored: active, checked, with this host and the time. */
static int claim_record(struct vifmac_registry *reg, const struct vifmac_record *rec, struct vifmac_record *ret)
{
	int r;

	*ret = *rec;
	ret->state = VIFMAC_STATE_ACTIVE;
	r = record_check(reg->ctx, ret);
	return r < 0 ? r : stamp(reg, ret);
}

VIFMAC_EXPORT int vifmac_registry_claim(struct vifmac_registry *reg, const struct vifmac_record *rec,
					struct vifmac_record *ret_holder)
{
	struct vifmac_record r;
	int n;

	if (!reg || !rec)
		return -EINVAL;
	n = claim_record(reg, rec, &r);
	if (n < 0)
		return n;
	n = reg->backend->write(reg, &r, 1, VIFMAC_WRITE_CLAIM, NULL, NULL, ret_holder);
	return n < 0 ? n : 0;
}

VIFMAC_EXPORT int vifmac_registry_insert(struct vifmac_registry *reg, const struct vifmac_record *rec,
					 struct vifmac_record *ret_holder)
{
	int n;

	if (!reg || !rec)
		return -EINVAL;
	n = record_check(reg->ctx, rec);
	if (n < 0)
		return n;
	n = reg->backend->write(reg, rec, 1, VIFMAC_WRITE_INSERT, NULL, NULL, ret_holder);
	return n < 0 ? n : 0;
}

VIFMAC_EXPORT int vifmac_registry_import(struct vifmac_registry *reg, const struct vifmac_record *recs, size_t n,
					 vifmac_conflict_fn fn, void *data)
{
	int r;

	if (!reg || (!recs && n > 0))
		return -EINVAL;
	if (n > INT32_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		r = record_check(reg->ctx, &recs[i]);
		if (r < 0)
			return r;
	}
	if (n == 0)
		return 0;
	if (!fn) {
		struct vifmac_record holder;

		r = reg->backend->write(reg, recs, n, VIFMAC_WRITE_INSERT, NULL, NULL, &holder);
	} else {
		r = reg->backend->write(reg, recs, n, VIFMAC_WRITE_INSERT, fn, data, NULL);
	}
	return r;
}

int vifmac_registry_conflict_error(struct vifmac_ctx *ctx, const struct vifmac_record *h)
{
	char mac[VIFMAC_MAC_STRLEN];

	vifmac_mac_format(&h->mac, mac);
	if (h->state == VIFMAC_STATE_RESERVED)
		return vifmac_set_error(ctx, -EEXIST, "%s is reserved: %s", mac, h->note);
	return vifmac_set_error(ctx, -EEXIST, "%s is held by domain %s (uuid %s, devid %d) on host %s since %lld", mac,
				h->domain[0] ? h->domain : "?", h->uuid, h->devid, h->host, (long long)h->created);
}

VIFMAC_EXPORT int vifmac_registry_release(struct vifmac_registry *reg, const struct vifmac_mac *mac,
					  const char *uuid, int devid)
{
	if (!reg)
		return -EINVAL;
	if (!uuid || !*uuid)
		return vifmac_set_error(reg->ctx, -EINVAL, "registry release: the owner's domain UUID is required");
	return reg->backend->release(reg, mac, uuid, devid < 0 ? -1 : devid, INT64_MAX, NULL);
}

int vifmac_registry_release_own(struct vifmac_registry *reg, const struct vifmac_mac *mac, const char *uuid,
				int devid, int64_t updated_max)
{
	char host[sizeof(((struct vifmac_record *)0)->host)];
	int r;

	if (!reg || !uuid || !*uuid)
		return -EINVAL;
	r = vifmac_hostname(reg->ctx, host, sizeof(host));
	if (r < 0)
		return r;
	return reg->backend->release(reg, mac, uuid, devid < 0 ? -1 : devid, updated_max, host);
}

int vifmac_registry_takeover(struct vifmac_registry *reg, const struct vifmac_record *stale,
			     const struct vifmac_record *rec, struct vifmac_record *ret_holder)
{
	struct vifmac_record r;
	int n;

	if (!reg || !stale || !rec || stale->state != VIFMAC_STATE_ACTIVE)
		return -EINVAL;
	n = claim_record(reg, rec, &r);
	if (n < 0)
		return n;
	/* a take-over is for what this host itself left behind, never another host's claim */
	if (strcmp(stale->host, r.host) != 0)
		return vifmac_set_error(reg->ctx, -EPERM, "the claim was recorded by host %s, not this host (%s)",
					stale->host, r.host);
	return reg->backend->takeover(reg, stale, &r, ret_holder);
}

VIFMAC_EXPORT int vifmac_registry_reserve(struct vifmac_registry *reg, const struct vifmac_mac *mac,
					  const char *note, struct vifmac_record *ret_holder)
{
	struct vifmac_record r;
	int n;

	if (!reg || !mac)
		return -EINVAL;
	vifmac_record_init(&r);
	r.mac = *mac;
	r.state = VIFMAC_STATE_RESERVED;
	if (note && !vifmac_strscpy(r.note, note, sizeof(r.note)))
		return vifmac_set_error(reg->ctx, -EINVAL, "reservation note longer than %zu bytes",
					sizeof(r.note) - 1);
	n = stamp(reg, &r);
	if (n < 0)
		return n;
	n = reg->backend->write(reg, &r, 1, VIFMAC_WRITE_CLAIM, NULL, NULL, ret_holder);
	return n < 0 ? n : 0;
}

VIFMAC_EXPORT int vifmac_registry_unreserve(struct vifmac_registry *reg, const struct vifmac_mac *mac)
{
	if (!reg || !mac)
		return -EINVAL;
	return reg->backend->unreserve(reg, mac);
}

VIFMAC_EXPORT int vifmac_registry_list(struct vifmac_registry *reg, vifmac_record_fn fn, void *data)
{
	if (!reg || !fn)
		return -EINVAL;
	return reg->backend->list(reg, fn, data);
}

VIFMAC_EXPORT int vifmac_registry_lookup_mac(struct vifmac_registry *reg, const struct vifmac_mac *mac,
					     vifmac_record_fn fn, void *data)
{
	if (!reg || !mac || !fn)
		return -EINVAL;
	return reg->backend->lookup_mac(reg, mac, fn, data);
}

VIFMAC_EXPORT int vifmac_registry_lookup_ip(struct vifmac_registry *reg, const char *ip, vifmac_record_fn fn,
					    void *data)
{
	char addr[64];
	size_t n;

	if (!reg || !ip || !fn)
		return -EINVAL;
	/* one address, with or without its /prefixlen */
	n = strcspn(ip, "/");
	if (n == 0 || n >= sizeof(addr) || strpbrk(ip, " \t"))
		return vifmac_set_error(reg->ctx, -EINVAL, "\"%s\" is not one IP address", ip);
	memcpy(addr, ip, n);
	addr[n] = '\0';
	return reg->backend->lookup_ip(reg, addr, fn, data);
}

VIFMAC_EXPORT int vifmac_registry_lookup_domain(struct vifmac_registry *reg, const char *domain,
						vifmac_record_fn fn, void *data)
{
	if (!reg || !domain || !*domain || !fn)
		return -EINVAL;
	return reg->backend->lookup_domain(reg, domain, fn, data);
}

int vifmac_registry_ip_tokens(const char *list, int (*fn)(void *data, const char *ip), void *data)
{
	const char *p = list;

	while (*p) {
		char ip[64];
		size_t len, addr_len;
		int r;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len == 0)
			break;
		addr_len = strcspn(p, "/");
		if (addr_len > len)
			addr_len = len;
		if (addr_len > 0 && addr_len < sizeof(ip)) {
			memcpy(ip, p, addr_len);
			ip[addr_len] = '\0';
			r = fn(data, ip);
			if (r != 0)
				return r;
		}
		p += len;
	}
	return 0;
}

/* ---------------------------------------------------------------- gc */

struct gc_scan {
	const char *host;
	bool any_domain; /* another host's claims: its domains cannot be listed from here */
	int64_t started;
	const struct vifmac_domain_info *domains;
	size_t n_domains;
	struct vifmac_record *stale;
	size_t n_stale, size_stale;
};

static bool domain_running(const struct gc_scan *g, const struct vifmac_record *rec)
{
	for (size_t i = 0; i < g->n_domains; i++) {
		if (rec->uuid[0] && strcasecmp(rec->uuid, g->domains[i].uuid) == 0)
			return true;
		if (!rec->uuid[0] && rec->domain[0] && strcmp(rec->domain, g->domains[i].name) == 0)
			return true;
	}
	return false;
}

static int gc_collect(void *data, const struct vifmac_record *rec)
{
	struct gc_scan *g = data;

	if (rec->state != VIFMAC_STATE_ACTIVE || strcmp(rec->host, g->host) != 0)
		return 0;
	/* claimed after the domain list was read: its domain may be starting right now */
	if (rec->updated >= g->started)
		return 0;
	if (!g->any_domain && domain_running(g, rec))
		return 0;
	if (g->n_stale == g->size_stale) {
		size_t size = g->size_stale ? 2 * g->size_stale : 16;
		struct vifmac_record *p = realloc(g->stale, size * sizeof(*p));

		if (!p)
			return -ENOMEM;
		g->stale = p;
		g->size_stale = size;
	}
	g->stale[g->n_stale++] = *rec;
	return 0;
}

VIFMAC_EXPORT int vifmac_registry_gc(struct vifmac_registry *reg, bool dry_run, vifmac_record_fn fn, void *data)
{
	return vifmac_registry_gc_host(reg, NULL, dry_run, fn, data);
}

VIFMAC_EXPORT int vifmac_registry_gc_host(struct vifmac_registry *reg, const char *other_host, bool dry_run,
					  vifmac_record_fn fn, void *data)
{
	struct vifmac_ctx *ctx;
	struct vifmac_domain_info *domains = NULL;
	char host[sizeof(((struct vifmac_record *)0)->host)];
	struct gc_scan g = { 0 };
	int released = 0;
	int r;

	if (!reg)
		return -EINVAL;
	ctx = reg->ctx;
	r = vifmac_hostname(ctx, host, sizeof(host));
	if (r < 0 && !other_host)
		return vifmac_set_error(ctx, r, "%s; nothing released", vifmac_ctx_last_error(ctx));
	if (other_host && (r < 0 || strcmp(other_host, host) != 0)) {
		if (!*other_host || strlen(other_host) >= sizeof(host))
			return vifmac_set_error(ctx, -EINVAL, "gc --host: \"%s\" is not a host name", other_host);
		vifmac_strscpy(host, other_host, sizeof(host));
		g.any_domain = true;
	}
	g.host = host;
	g.started = vifmac_now(ctx);
	if (g.started <= 0)
		g.started = (int64_t)time(NULL);
	if (g.any_domain)
		goto scan;
	if (!ctx->sys.list_domains)
		return vifmac_set_error(ctx, -EOPNOTSUPP,
					"cannot list the running domains (no xenstore access); nothing released");
	r = ctx->sys.list_domains(ctx->sys_data, &domains, &g.n_domains);
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot list the running domains (%s); nothing released",
					strerror(-r));
	g.domains = domains;
scan:
	r = reg->backend->list(reg, gc_collect, &g);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < g.n_stale; i++) {
		const struct vifmac_record *rec = &g.stale[i];
		int n = 1;

		if (!dry_run) {
			/* only if nobody re-claimed it since it was read */
			n = reg->backend->release(reg, &rec->mac, rec->uuid, rec->devid, rec->updated, rec->host);
			if (n < 0) {
				r = n;
				goto out;
			}
		}
		if (n > 0) {
			released += n;
			if (fn)
				fn(data, rec);
		}
	}
	r = released;
out:
	free(g.stale);
	free(domains);
	return r;
}

/* ---------------------------------------------------------------- pools */

static bool pool_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '.' || name[i] == '-'))
			return false;
	return true;
}

static int64_t registry_now(struct vifmac_registry *reg)
{
	int64_t now = vifmac_now(reg->ctx);

	return now > 0 ? now : (int64_t)time(NULL);
}

VIFMAC_EXPORT int vifmac_registry_pool_import(struct vifmac_registry *reg, const char *name,
					      const struct vifmac_pool_source *src)
{
	if (!reg || !src)
		return -EINVAL;
	vifmac_clear_error(reg->ctx);
	if (!pool_name_valid(name))
		return vifmac_set_error(reg->ctx, -EINVAL, "\"%s\" is not a pool name: 1-63 of A-Z a-z 0-9 _ . -",
					name ? name : "");
	return reg->backend->pool_import(reg, name, src, registry_now(reg));
}

VIFMAC_EXPORT int vifmac_registry_pool_remove(struct vifmac_registry *reg, const char *name)
{
	if (!reg || !pool_name_valid(name))
		return -EINVAL;
	vifmac_clear_error(reg->ctx);
	return reg->backend->pool_remove(reg, name);
}

VIFMAC_EXPORT int vifmac_registry_pool_list(struct vifmac_registry *reg, const char *name, vifmac_pool_fn fn,
					    void *data)
{
	if (!reg || (name && !pool_name_valid(name)))
		return -EINVAL;
	vifmac_clear_error(reg->ctx);
	return reg->backend->pool_list(reg, name, registry_now(reg), vifmac_ctx_pool_quarantine(reg->ctx), fn, data);
}

VIFMAC_EXPORT int vifmac_registry_pool_allocate(struct vifmac_registry *reg, const char *const *pools, size_t n,
						const struct vifmac_record *owner, const struct vifmac_ipv4 *ip,
						struct vifmac_record *ret_rec, struct vifmac_record *ret_holder)
{
	struct vifmac_record r;
	int rc;

	if (!reg || !pools || !owner)
		return -EINVAL;
	vifmac_clear_error(reg->ctx);
	for (size_t i = 0; i < n; i++)
		if (!pool_name_valid(pools[i]))
			return vifmac_set_error(reg->ctx, -EINVAL, "\"%s\" is not a pool name", pools[i]);
	r = *owner;
	r.state = VIFMAC_STATE_ACTIVE;
	memset(&r.mac, 0, sizeof(r.mac));
	rc = record_check(reg->ctx, &r);
	if (rc < 0)
		return rc;
	rc = stamp(reg, &r);
	if (rc < 0)
		return rc;
	return vifmac_registry_pool_allocate_policy(reg, pools, n, &r, ip, r.updated,
						    vifmac_ctx_pool_quarantine(reg->ctx), ret_rec, ret_holder);
}
