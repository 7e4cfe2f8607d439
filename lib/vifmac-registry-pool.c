/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pool allocation policy, written once for every backend: which
 * address of the operator's pools a vif gets -- the one it holds, then the
 * one it held last (by UUID + devid, then by domain name + devid), then its
 * table entry, then the lowest free one (never reserved, never in
 * quarantine) -- asked of the backend's pool primitives
 * (vifmac-registry-internal.h) one attempt at a time, and attempted again
 * when another writer changed the pool in between.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vifmac-registry-internal.h"

#define MAX_POOLS 16
#define MAX_ATTEMPTS 64

/*
 * Sticky first: what this vif holds from these pools, or held last (its
 * own, quarantine or not), or what a vif of the same devid of a domain of
 * the same name held last: `xl create` of a config without uuid= gives the
 * domain a new UUID each time, and it is still the same guest.
 */
static const enum vifmac_pool_query sticky[] = {
	VIFMAC_POOL_HELD_NOW,
	VIFMAC_POOL_LAST_BY_UUID,
	VIFMAC_POOL_LAST_BY_NAME,
};

static bool sticky_applies(enum vifmac_pool_query q, const struct vifmac_record *owner)
{
	if (q == VIFMAC_POOL_LAST_BY_NAME)
		return owner->domain[0] && strcmp(owner->domain, "-") != 0;
	return owner->uuid[0];
}

/* One attempt inside the backend's view: 0, -EEXIST, -EAGAIN (try again), -ENOSPC, -ENOENT, -errno. */
static int allocate_once(struct vifmac_registry *reg, void *view, const char *const *pools, size_t n,
			 const struct vifmac_pool_ask *ask, struct vifmac_record *ret_rec,
			 struct vifmac_record *ret_holder)
{
	const struct vifmac_registry_backend *b = reg->backend;
	struct vifmac_pool_row rows[MAX_POOLS];
	char summary[512] = "";
	size_t used = 0;
	struct vifmac_mac mac;
	int r;

	for (size_t i = 0; i < n; i++) {
		r = b->pool_row(reg, view, pools[i], &rows[i]);
		if (r < 0)
			return r;
	}
	for (size_t pass = 0; pass < ARRAY_SIZE(sticky); pass++) {
		if (!sticky_applies(sticky[pass], ask->owner))
			continue;
		for (size_t i = 0; i < n; i++) {
			r = b->pool_find(reg, view, &rows[i], sticky[pass], ask, &mac);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			r = b->pool_claim(reg, view, &rows[i], ask->owner, &mac, false, ret_rec, ret_holder);
			if (r != -EEXIST)
				return r; /* 0, -EAGAIN, or a failure */
			/* taken meanwhile by someone else (released, then reserved...): allocate anew */
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct vifmac_pool_row *p = &rows[i];
		bool from_hwm = false;

		switch (p->kind) {
		case VIFMAC_POOL_TABLE:
			if (!ask->ip)
				continue;
			r = b->pool_find(reg, view, p, VIFMAC_POOL_TABLE_ENTRY, ask, &mac);
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			/* the operator's table says which MAC: held by another owner is a conflict */
			return b->pool_claim(reg, view, p, ask->owner, &mac, false, ret_rec, ret_holder);
		case VIFMAC_POOL_RANGE:
			/* released ones past quarantine first, then the high-water mark */
			r = b->pool_find(reg, view, p, VIFMAC_POOL_RELEASED_FREE, ask, &mac);
			if (r == 0) {
				r = b->pool_find(reg, view, p, VIFMAC_POOL_RANGE_FREE, ask, &mac);
				from_hwm = true;
			}
			break;
		case VIFMAC_POOL_RECYCLED:
			r = b->pool_find(reg, view, p, VIFMAC_POOL_RECYCLED_FREE, ask, &mac);
			break;
		}
		if (r < 0)
			return r;
		if (r > 0)
			return b->pool_claim(reg, view, p, ask->owner, &mac, from_hwm, ret_rec, ret_holder);
		used += (size_t)snprintf(summary + used, used < sizeof(summary) ? sizeof(summary) - used : 0,
					 "%s%s (%s, %llu addresses)", used ? ", " : "", p->name,
					 vifmac_pool_kind_name(p->kind), (unsigned long long)p->size);
		if (used >= sizeof(summary))
			used = sizeof(summary) - 1;
	}
	if (!summary[0])
		return vifmac_set_error(reg->ctx, -ENOENT, "no table of pools %s%s has an entry for this vif's address",
					pools[0], n > 1 ? ",..." : "");
	return vifmac_set_error(reg->ctx, -ENOSPC,
				"pool exhausted: %s: every address is in use, reserved or in quarantine (pool_quarantine)",
				summary);
}

int vifmac_registry_pool_allocate_policy(struct vifmac_registry *reg, const char *const *pools, size_t n,
					 const struct vifmac_record *owner, const struct vifmac_ipv4 *ip, int64_t now,
					 int64_t quarantine, struct vifmac_record *ret_rec,
					 struct vifmac_record *ret_holder)
{
	const struct vifmac_registry_backend *b = reg->backend;
	struct vifmac_pool_ask ask = { .owner = owner, .ip = ip, .free_before = now - quarantine };
	int64_t start = vifmac_mono_ms();
	int limit = vifmac_ctx_registry_timeout_ms(reg->ctx);
	int attempt, r;

	if (n == 0 || n > MAX_POOLS)
		return vifmac_set_error(reg->ctx, -EINVAL, "between 1 and %d pools per bridge", MAX_POOLS);
	for (attempt = 1;; attempt++) {
		struct vifmac_record rec, holder;
		void *view = NULL;
		int end;

		memset(&holder, 0, sizeof(holder));
		r = b->pool_begin(reg, pools, n, owner, &view);
		if (r < 0)
			return r;
		r = allocate_once(reg, view, pools, n, &ask, &rec, &holder);
		end = b->pool_end(reg, view, r == 0);
		r = end < 0 ? end : r;
		if (r == 0) {
			*ret_rec = rec;
			return 0;
		}
		if (r == -EEXIST) {
			if (ret_holder)
				*ret_holder = holder;
			return r;
		}
		if (r != -EAGAIN)
			return r;
		if (attempt >= MAX_ATTEMPTS || vifmac_mono_ms() - start >= limit)
			break;
		/* another host allocated from the same pool in between: its
		 * claim is there now, and a fresh view sees it. A short pause
		 * that grows with the attempts and differs between processes
		 * keeps contending hosts from meeting again in lock step. */
		usleep((useconds_t)((getpid() % 7 + 1) * 100 * (attempt < 10 ? attempt : 10)));
	}
	return vifmac_set_error(reg->ctx, -EBUSY,
				"pool %s%s: lost the race to other writers %d times in %lld ms (registry_timeout_ms); "
				"nothing recorded",
				pools[0], n > 1 ? ",..." : "", attempt, (long long)(vifmac_mono_ms() - start));
}
