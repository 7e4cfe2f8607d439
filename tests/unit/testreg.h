/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the registry tests (cmocka): registry records to claim, pool
 * files to import, and an allocation from the two pools of the pool tests
 * (table "ipam" first, then range "block"). Needs testutil.h first.
 */
#ifndef VIFMAC_TESTREG_H
#define VIFMAC_TESTREG_H

#include <errno.h>

static inline struct vifmac_mac tr_mac(const char *s)
{
	struct vifmac_mac m;

	assert_int_equal(vifmac_mac_parse(s, &m), 0);
	return m;
}

/* A claim of @mac in @scope by vif @devid of @domain (@uuid), on xenbr0 for scope "*", else on the scope's bridge. */
static inline struct vifmac_record tr_claim_rec(const char *mac, const char *scope, const char *domain,
						const char *uuid, int devid, const char *ip)
{
	struct vifmac_record rec;

	vifmac_record_init(&rec);
	rec.mac = tr_mac(mac);
	snprintf(rec.scope_key, sizeof(rec.scope_key), "%s", scope);
	snprintf(rec.domain, sizeof(rec.domain), "%s", domain);
	snprintf(rec.uuid, sizeof(rec.uuid), "%s", uuid);
	rec.devid = devid;
	snprintf(rec.bridge, sizeof(rec.bridge), "%s", strcmp(scope, "*") ? scope : "xenbr0");
	snprintf(rec.ip, sizeof(rec.ip), "%s", ip ? ip : "");
	snprintf(rec.source, sizeof(rec.source), "ip-derived");
	return rec;
}

/* The pool file @path, read and validated (the test fails otherwise). */
static inline struct vifmac_pool_source *tr_pool_source(struct vifmac_ctx *ctx, const char *path)
{
	struct vifmac_pool_source *src = NULL;

	if (vifmac_pool_source_read(ctx, path, &src) < 0)
		fail_msg("%s: %s", path, vifmac_ctx_last_error(ctx));
	return src;
}

/* Imports the pool file @path as pool @name; returns what the import returned. */
static inline int tr_pool_import(struct vifmac_ctx *ctx, struct vifmac_registry *reg, const char *name,
				 const char *path)
{
	struct vifmac_pool_source *src = tr_pool_source(ctx, path);
	int r = vifmac_registry_pool_import(reg, name, src);

	vifmac_pool_source_free(src);
	return r;
}

/*
 * Allocates for vif @devid of domain @name (may be "") @uuid on xenpub from
 * "ipam" then "block"; returns the result, and the MAC given (on -EEXIST,
 * the holder's) in @mac. A MAC given is checked to be the owner's, from the
 * pool its source names.
 */
static inline int tr_pool_alloc(struct vifmac_registry *reg, const char *uuid, const char *name, int devid,
				const char *ip, char *mac)
{
	static const char *const pools[] = { "ipam", "block" };
	struct vifmac_record owner, rec, holder;
	struct vifmac_ipv4 a;
	int r;

	vifmac_record_init(&owner);
	snprintf(owner.uuid, sizeof(owner.uuid), "%s", uuid);
	snprintf(owner.domain, sizeof(owner.domain), "%s", name);
	owner.devid = devid;
	snprintf(owner.bridge, sizeof(owner.bridge), "xenpub");
	if (ip)
		assert_int_equal(vifmac_ipv4_parse(ip, &a), 0);
	r = vifmac_registry_pool_allocate(reg, pools, 2, &owner, ip ? &a : NULL, &rec, &holder);
	if (r == 0) {
		vifmac_mac_format(&rec.mac, mac);
		assert_string_equal(rec.source, strncmp(mac, "52:54", 5) == 0 ? "pool:ipam" : "pool:block");
		assert_string_equal(rec.uuid, uuid);
		assert_int_equal(rec.devid, devid);
	} else if (r == -EEXIST) {
		vifmac_mac_format(&holder.mac, mac);
	}
	return r;
}

#endif
