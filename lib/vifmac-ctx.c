/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context: configuration, logging, last error and the system seam. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vifmac-internal.h"

static void log_stderr(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	fprintf(stderr, "libvifmac: %s: ", fn);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
}

static int log_priority_parse(const char *s)
{
	static const struct {
		const char *name;
		int prio;
	} names[] = {
		{ "err", VIFMAC_LOG_ERR },   { "error", VIFMAC_LOG_ERR }, { "warning", VIFMAC_LOG_WARNING },
		{ "info", VIFMAC_LOG_INFO }, { "debug", VIFMAC_LOG_DEBUG },
	};
	char *end;
	long v = strtol(s, &end, 10);

	if (end != s && *end == '\0' && v >= 0 && v <= 7)
		return (int)v;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].prio;
	return VIFMAC_LOG_ERR;
}

VIFMAC_EXPORT struct vifmac_ctx *vifmac_ctx_new(void)
{
	struct vifmac_ctx *ctx = calloc(1, sizeof(*ctx));
	const char *env;

	if (!ctx)
		return NULL;
	ctx->refcount = 1;
	ctx->log_fn = log_stderr;
	ctx->log_priority = VIFMAC_LOG_ERR;
	/* secure_getenv: NULL when run set-uid, set-gid or with file capabilities */
	env = secure_getenv("VIFMAC_LOG");
	if (env && *env)
		ctx->log_priority = log_priority_parse(env);
	ctx->policy = vifmac_policy_new_default();
	if (!ctx->policy) {
		free(ctx);
		return NULL;
	}
	ctx->sys = vifmac_sys_production;
	ctx->sys_data = vifmac_sys_production_new();
	ctx->sys_owned = true;
	return ctx;
}

VIFMAC_EXPORT struct vifmac_ctx *vifmac_ctx_ref(struct vifmac_ctx *ctx)
{
	if (ctx)
		ctx->refcount++;
	return ctx;
}

VIFMAC_EXPORT struct vifmac_ctx *vifmac_ctx_unref(struct vifmac_ctx *ctx)
{
	if (!ctx || --ctx->refcount > 0)
		return NULL;
	vifmac_policy_free(ctx->policy);
	if (ctx->sys_owned)
		vifmac_sys_production_free(ctx->sys_data);
	free(ctx);
	return NULL;
}

VIFMAC_EXPORT void vifmac_ctx_set_log_fn(struct vifmac_ctx *ctx, vifmac_log_fn fn, void *data)
{
	ctx->log_fn = fn;
	ctx->log_data = data;
}

VIFMAC_EXPORT void vifmac_ctx_set_log_priority(struct vifmac_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

VIFMAC_EXPORT int vifmac_ctx_get_log_priority(const struct vifmac_ctx *ctx)
{
	return ctx->log_priority;
}

VIFMAC_EXPORT const char *vifmac_ctx_last_error(const struct vifmac_ctx *ctx)
{
	return ctx->last_error;
}

void vifmac_log(struct vifmac_ctx *ctx, int priority, const char *file, int line, const char *fn,
		const char *format, ...)
{
	va_list args;

	if (!ctx->log_fn)
		return;
	va_start(args, format);
	ctx->log_fn(ctx->log_data, priority, file, line, fn, format, args);
	va_end(args);
}

int vifmac_set_error(struct vifmac_ctx *ctx, int err, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	vsnprintf(ctx->last_error, sizeof(ctx->last_error), format, args);
	va_end(args);
	dbg(ctx, "error %d: %s", err, ctx->last_error);
	return err;
}

void vifmac_clear_error(struct vifmac_ctx *ctx)
{
	ctx->last_error[0] = '\0';
}

VIFMAC_EXPORT int vifmac_ctx_set_sys_sized(struct vifmac_ctx *ctx, const struct vifmac_sys_ops *ops, size_t size,
					  void *data)
{
	struct vifmac_sys_ops sys = { 0 };

	vifmac_clear_error(ctx);
	if (!ops)
		return vifmac_set_error(ctx, -EINVAL, "no system seam given");
	/* every member is a function pointer */
	if (size < VIFMAC_SYS_OPS_SIZE_0_1 || size % sizeof(ops->now) != 0)
		return vifmac_set_error(ctx, -EINVAL,
					"a system seam of %zu bytes: libvifmac takes %zu (0.1) to %zu, in whole members",
					size, (size_t)VIFMAC_SYS_OPS_SIZE_0_1, sizeof(sys));
	/* a newer caller's members beyond ours: only if unset, since we would not call them */
	for (size_t i = sizeof(sys); i < size; i++)
		if (((const unsigned char *)ops)[i])
			return vifmac_set_error(ctx, -EINVAL,
						"the system seam sets members this libvifmac does not have (it knows %zu bytes of %zu)",
						sizeof(sys), size);
	memcpy(&sys, ops, size < sizeof(sys) ? size : sizeof(sys));
	if (ctx->sys_owned)
		vifmac_sys_production_free(ctx->sys_data);
	ctx->sys = sys;
	ctx->sys_data = data;
	ctx->sys_owned = false;
	return 0;
}

/* What binaries built against libvifmac 0.1 call: the table as 0.1 had it. */
#undef vifmac_ctx_set_sys
VIFMAC_EXPORT void vifmac_ctx_set_sys(struct vifmac_ctx *ctx, const struct vifmac_sys_ops *ops, void *data)
{
	(void)vifmac_ctx_set_sys_sized(ctx, ops, VIFMAC_SYS_OPS_SIZE_0_1, data);
}

VIFMAC_EXPORT const struct vifmac_sys_ops *vifmac_ctx_get_sys(const struct vifmac_ctx *ctx, void **ret_data)
{
	if (ret_data)
		*ret_data = ctx->sys_data;
	return &ctx->sys;
}

int64_t vifmac_now(struct vifmac_ctx *ctx)
{
	return ctx->sys.now ? ctx->sys.now(ctx->sys_data) : 0;
}

/*
 * Names that many machines have: a claim recorded under one of them could be
 * any host's, so another host's live claim would look like this host's stale one.
 */
static bool host_name_shared(const char *name)
{
	static const char *const shared[] = { "localhost", "localhost.localdomain", "localhost6", "(none)" };

	if (!*name)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(shared); i++)
		if (strcasecmp(name, shared[i]) == 0)
			return true;
	return false;
}

int vifmac_hostname(struct vifmac_ctx *ctx, char *buf, size_t len)
{
	int r;

	if (ctx->policy->host_name) {
		if (!vifmac_strscpy(buf, ctx->policy->host_name, len))
			return vifmac_set_error(ctx, -ENAMETOOLONG, "host_name \"%s\" is too long", ctx->policy->host_name);
		return 0;
	}
	if (!ctx->sys.hostname)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "cannot tell this host's name (no system access)");
	r = ctx->sys.hostname(ctx->sys_data, buf, len);
	if (r < 0)
		return vifmac_set_error(ctx, r, "cannot tell this host's name: %s", strerror(-r));
	if (host_name_shared(buf))
		return vifmac_set_error(ctx, -EINVAL,
					"this host's name is \"%s\", which does not tell it from other hosts: set host_name = \"...\" in %s (every host of one registry needs a name of its own)",
					buf, ctx->policy->path ? ctx->policy->path : VIFMAC_DEFAULT_CONFIG);
	return 0;
}
