/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy file, /etc/xen/vifmac.conf, in xl.conf syntax: read with
 * libxlutil's semantics (vifmac-conf-values.c) and validated whole (every
 * key: vifmac-policy-keys.c), and what the rest of the library asks of the
 * policy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

/*
 * The two backend settings the key table leaves unset (policy-keys.c: a stored
 * default would change the "request timeout longer than timeout" check); every
 * other default is the table's, applied by vifmac_policy_new_default().
 */
#define DEFAULT_ETCD_REQUEST_TIMEOUT_MS 1500
#define DEFAULT_ETCD_MAX_ANSWER_MB 4

struct vifmac_policy *vifmac_policy_new_default(void)
{
	struct vifmac_policy *p = calloc(1, sizeof(*p));

	if (p)
		vifmac_policy_keys_default(p);
	return p;
}



void vifmac_policy_free(struct vifmac_policy *p)
{
	if (!p)
		return;
	free(p->path);
	vifmac_strv_free(p->private_bridges, p->n_private);
	vifmac_strv_free(p->public_bridges, p->n_public);
	free(p->bridge_prefixes);
	vifmac_table_free(p->public_table);
	free(p->registry);
	free(p->chain_script);
	free(p->host_name);
	free(p->bridge_chains);
	for (size_t i = 0; i < p->n_bridge_pools; i++)
		vifmac_strv_free(p->bridge_pools[i].pools, p->bridge_pools[i].n);
	free(p->bridge_pools);
	free(p->etcd.cacert);
	free(p->etcd.cert);
	free(p->etcd.key);
	free(p->etcd.user);
	free(p->etcd.password_file);
	free(p->etcd.prefix);
	free(p->etcd.proxy);
	vifmac_strv_free(p->enforce_exempt_bridges, p->n_enforce_exempt_bridges);
	vifmac_strv_free(p->enforce_exempt_domains, p->n_enforce_exempt_domains);
	free(p);
}


VIFMAC_EXPORT int vifmac_ctx_load_policy(struct vifmac_ctx *ctx, const char *path)
{
	struct vifmac_conf_index idx = { 0 };
	struct vifmac_policy *p = NULL;
	struct vifmac_conf *cfg = NULL;
	const char *reader_env = secure_getenv("VIFMAC_CONF_READER");
	char *data = NULL, report[sizeof(ctx->last_error)];
	size_t len = 0;
	int r;

	vifmac_clear_error(ctx);
	if (!path)
		path = secure_getenv("VIFMAC_CONFIG");
	if (!path || !*path)
		path = VIFMAC_DEFAULT_CONFIG;

	r = vifmac_read_file(path, &data, &len);
	if (r < 0) {
		vifmac_set_error(ctx, r, "%s: cannot read policy file: %s", path, vifmac_read_file_strerror(r));
		goto out;
	}
	if (memchr(data, '\0', len)) {
		r = vifmac_set_error(ctx, -EINVAL, "%s: not a text file (NUL byte)", path);
		goto out;
	}
	r = vifmac_conf_index_build(data, len, &idx);
	if (r < 0)
		goto out;
	/* VIFMAC_CONF_READER=xlutil: libxlutil reads every file (the tests compare both readers) */
	r = vifmac_conf_read(path, data, len,
			     reader_env && strcmp(reader_env, "xlutil") == 0 ? VIFMAC_CONF_XLUTIL : VIFMAC_CONF_AUTO,
			     report, sizeof(report), &cfg);
	if (r == -ELIBACC) {
		vifmac_set_error(ctx, r, "%s: %s", path, report);
		goto out;
	}
	if (r == -EINVAL) {
		vifmac_set_error(ctx, -EINVAL, "%s", *report ? report : "syntax error");
		if (!strstr(ctx->last_error, path))
			vifmac_set_error(ctx, -EINVAL, "%s: %s", path, *report ? report : "syntax error");
		goto out;
	}
	if (r < 0)
		goto out;
	p = vifmac_policy_new_default();
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	p->path = strdup(path);
	if (!p->path) {
		r = -ENOMEM;
		goto out;
	}
	r = vifmac_policy_keys_load(ctx, path, cfg, &idx, p);
	if (r < 0)
		goto out;
	vifmac_policy_free(ctx->policy);
	ctx->policy = p;
	p = NULL;
	r = 0;
out:
	vifmac_conf_free(cfg);
	vifmac_policy_free(p);
	vifmac_conf_index_dispose(&idx);
	free(data);
	return r;
}

VIFMAC_EXPORT const char *vifmac_ctx_policy_path(const struct vifmac_ctx *ctx)
{
	return ctx->policy->path;
}

VIFMAC_EXPORT enum vifmac_bridge_class vifmac_ctx_bridge_class(const struct vifmac_ctx *ctx, const char *bridge)
{
	return vifmac_ctx_bridge_class_of(ctx->policy, bridge);
}

enum vifmac_bridge_class vifmac_ctx_bridge_class_of(const struct vifmac_policy *p, const char *bridge)
{
	if (vifmac_strv_has(p->private_bridges, p->n_private, bridge))
		return VIFMAC_BRIDGE_PRIVATE;
	if (vifmac_strv_has(p->public_bridges, p->n_public, bridge))
		return VIFMAC_BRIDGE_PUBLIC;
	return p->unlisted;
}

VIFMAC_EXPORT enum vifmac_scope vifmac_ctx_scope(const struct vifmac_ctx *ctx)
{
	return ctx->policy->scope;
}

VIFMAC_EXPORT const char *vifmac_ctx_registry_url(const struct vifmac_ctx *ctx)
{
	return ctx->policy->registry ? ctx->policy->registry : VIFMAC_DEFAULT_REGISTRY;
}

VIFMAC_EXPORT const char *vifmac_ctx_policy_string(const struct vifmac_ctx *ctx, const char *key)
{
	return vifmac_policy_key_string(ctx->policy, key);
}

const struct vifmac_etcd_options *vifmac_ctx_etcd_options(const struct vifmac_ctx *ctx)
{
	return &ctx->policy->etcd;
}

/* The backends' settings, one accessor each; the key table's defaults are already applied. */
int vifmac_ctx_registry_timeout_ms(const struct vifmac_ctx *ctx)
{
	return ctx->policy->registry_timeout_ms;
}

int64_t vifmac_ctx_pool_quarantine(const struct vifmac_ctx *ctx)
{
	return ctx->policy->pool_quarantine;
}

const char *vifmac_ctx_etcd_prefix(const struct vifmac_ctx *ctx)
{
	return vifmac_policy_key_string(ctx->policy, "etcd_prefix");
}

int vifmac_ctx_etcd_timeout_ms(const struct vifmac_ctx *ctx)
{
	const struct vifmac_etcd_options *o = &ctx->policy->etcd;

	return o->timeout_ms > 0 ? o->timeout_ms : vifmac_ctx_registry_timeout_ms(ctx);
}

int vifmac_ctx_etcd_request_timeout_ms(const struct vifmac_ctx *ctx)
{
	const struct vifmac_etcd_options *o = &ctx->policy->etcd;
	int whole = vifmac_ctx_etcd_timeout_ms(ctx);
	int t = o->request_timeout_ms > 0 ? o->request_timeout_ms : DEFAULT_ETCD_REQUEST_TIMEOUT_MS;

	return t > whole ? whole : t;
}

size_t vifmac_ctx_etcd_max_answer(const struct vifmac_ctx *ctx)
{
	const struct vifmac_etcd_options *o = &ctx->policy->etcd;

	return (size_t)(o->max_answer_mb > 0 ? o->max_answer_mb : DEFAULT_ETCD_MAX_ANSWER_MB) << 20;
}

VIFMAC_EXPORT const char *const *vifmac_ctx_bridge_pools(const struct vifmac_ctx *ctx, const char *bridge,
							  size_t *ret_n)
{
	const struct vifmac_policy *p = ctx->policy;

	for (size_t i = 0; bridge && i < p->n_bridge_pools; i++)
		if (strcmp(p->bridge_pools[i].bridge, bridge) == 0) {
			*ret_n = p->bridge_pools[i].n;
			return (const char *const *)p->bridge_pools[i].pools;
		}
	*ret_n = 0;
	return NULL;
}

VIFMAC_EXPORT const char *vifmac_ctx_bridge_chain(const struct vifmac_ctx *ctx, const char *bridge)
{
	const struct vifmac_policy *p = ctx->policy;

	for (size_t i = 0; bridge && i < p->n_bridge_chains; i++)
		if (strcmp(p->bridge_chains[i].bridge, bridge) == 0)
			return p->bridge_chains[i].script;
	return vifmac_policy_key_string(p, "chain_script");
}
