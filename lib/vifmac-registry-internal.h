/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to libvifmac: the registry backend interface.
 *
 * vifmac-registry.c owns the public vifmac_registry_* functions: it checks
 * arguments, fills what the registry decides (host name, times) and
 * dispatches on the URL scheme to one backend. A backend (vifmac-registry-sqlite.c
 * with vifmac-sqlite-*.c; vifmac-registry-etcd.c with vifmac-etcd-*.c)
 * implements the storage and the atomicity; it never sees a URL, only what
 * follows "<scheme>:".
 */
#ifndef VIFMAC_REGISTRY_INTERNAL_H
#define VIFMAC_REGISTRY_INTERNAL_H

#include <string.h>
#include <time.h>

#include "vifmac-internal.h"

struct vifmac_registry;

/* How a write treats an existing record of the same owner. */
enum vifmac_write_mode {
	VIFMAC_WRITE_CLAIM,  /* keep created, refresh host/updated and the vif's details */
	VIFMAC_WRITE_INSERT, /* write the record exactly as given (import) */
};

/* What allocation knows of one pool. */
struct vifmac_pool_row {
	char name[64];
	enum vifmac_pool_kind kind;
	uint64_t size;
	struct vifmac_mac start, end, next; /* a range's bounds and high-water mark */
};

/* The questions allocation asks of a backend about one pool. */
enum vifmac_pool_query {
	VIFMAC_POOL_HELD_NOW,      /* the owner's (uuid + devid) active claim from the pool */
	VIFMAC_POOL_LAST_BY_UUID,  /* the latest address released by the owner's uuid + devid */
	VIFMAC_POOL_LAST_BY_NAME,  /* the latest address released by the owner's domain name + devid */
	VIFMAC_POOL_TABLE_ENTRY,   /* a table's MAC for ask->ip */
	VIFMAC_POOL_RELEASED_FREE, /* the lowest released address nobody holds, released <= free_before */
	VIFMAC_POOL_RECYCLED_FREE, /* the lowest entry nobody holds, not released after free_before */
	VIFMAC_POOL_RANGE_FREE,    /* the lowest address nobody holds from a range's high-water mark on */
};

struct vifmac_pool_ask {
	const struct vifmac_record *owner;
	const struct vifmac_ipv4 *ip; /* VIFMAC_POOL_TABLE_ENTRY */
	int64_t free_before;          /* now - pool_quarantine */
};

struct vifmac_registry_backend {
	const char *scheme; /* "sqlite" */

	/* @location: what follows "<scheme>:"; sets reg->priv */
	int (*open)(struct vifmac_registry *reg, const char *location);
	void (*close)(struct vifmac_registry *reg);

	/*
	 * Writes @recs (n of them, fully filled: host and times included) in
	 * one transaction under the scope rule. A record conflicting with one
	 * of another owner is not written; @conflict (when not NULL) is told
	 * about it, and then nothing at all is written (-EEXIST). Without
	 * @conflict the first conflict stops, and its holder goes to
	 * @ret_holder. Returns the number of records written or a negative errno.
	 */
	int (*write)(struct vifmac_registry *reg, const struct vifmac_record *recs, size_t n,
		     enum vifmac_write_mode mode,
		     vifmac_conflict_fn conflict, void *data, struct vifmac_record *ret_holder);

	/*
	 * Deletes active claims of @uuid (+ @devid when >= 0) on @mac (any MAC
	 * when NULL) whose updated time is <= @updated_max (INT64_MAX: any),
	 * recorded by @host (NULL: any host).
	 * Returns the number deleted or a negative errno.
	 */
	int (*release)(struct vifmac_registry *reg, const struct vifmac_mac *mac, const char *uuid,
		       int devid, int64_t updated_max, const char *host);

	/*
	 * One transaction: deletes the claim @stale if it is still exactly as
	 * read (MAC, scope, owner, host and updated time), then writes @rec
	 * (fully filled) as a claim. Returns 0; -ESTALE when @stale is gone or
	 * changed (nothing written); -EEXIST with @ret_holder when another
	 * record holds the MAC (nothing written); a negative errno.
	 */
	int (*takeover)(struct vifmac_registry *reg, const struct vifmac_record *stale,
			const struct vifmac_record *rec, struct vifmac_record *ret_holder);

	/* Deletes the reservation of @mac: 1, 0 when none, or a negative errno. */
	int (*unreserve)(struct vifmac_registry *reg, const struct vifmac_mac *mac);

	/* Reads: a callback per record; a non-zero return stops and is returned. */
	int (*list)(struct vifmac_registry *reg, vifmac_record_fn fn, void *data);
	int (*lookup_mac)(struct vifmac_registry *reg, const struct vifmac_mac *mac, vifmac_record_fn fn,
			  void *data);
	int (*lookup_ip)(struct vifmac_registry *reg, const char *ip, vifmac_record_fn fn, void *data);
	int (*lookup_domain)(struct vifmac_registry *reg, const char *domain, vifmac_record_fn fn,
			     void *data);

	/*
	 * Pools: the storage. @now in seconds; pool_list counts as quarantined
	 * what was released after @now - @quarantine.
	 */
	int (*pool_import)(struct vifmac_registry *reg, const char *name, const struct vifmac_pool_source *src,
			   int64_t now);
	int (*pool_remove)(struct vifmac_registry *reg, const char *name);
	int (*pool_list)(struct vifmac_registry *reg, const char *name, int64_t now, int64_t quarantine,
			 vifmac_pool_fn fn, void *data);

	/*
	 * Pools: the primitives allocation (vifmac-registry-pool.c) is written
	 * on. An attempt is pool_begin, questions, at most one successful
	 * pool_claim, pool_end; every answer of one attempt comes from one
	 * consistent view (SQLite: one BEGIN IMMEDIATE transaction; etcd: one
	 * revision).
	 */
	/* Opens an attempt for @owner over @pools (n of them); *ret_view is the backend's. */
	int (*pool_begin)(struct vifmac_registry *reg, const char *const *pools, size_t n,
			  const struct vifmac_record *owner, void **ret_view);
	/* Pool @name as the view has it: 0, or -ENOENT (error set: the policy names a pool not imported). */
	int (*pool_row)(struct vifmac_registry *reg, void *view, const char *name, struct vifmac_pool_row *ret_row);
	/* Answers @q about @pool: 1 with @ret_mac, 0 (no such address), or a negative errno. */
	int (*pool_find)(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
			 enum vifmac_pool_query q, const struct vifmac_pool_ask *ask, struct vifmac_mac *ret_mac);
	/*
	 * Claims @mac from @pool for @owner (fully filled but for mac and
	 * source) if the pool is still at the version the view read, takes
	 * @mac out of the pool's history, and moves a range's high-water mark
	 * past @mac when @advance. Returns 0 with @ret_rec; -EEXIST with
	 * @ret_holder (another owner holds @mac; nothing written); -EAGAIN (the
	 * pool or @mac changed since the view: nothing written, try again);
	 * another negative errno.
	 */
	int (*pool_claim)(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
			  const struct vifmac_record *owner, const struct vifmac_mac *mac, bool advance,
			  struct vifmac_record *ret_rec, struct vifmac_record *ret_holder);
	/* Ends the attempt (@commit: what pool_claim did stays) and frees the view. */
	int (*pool_end)(struct vifmac_registry *reg, void *view, bool commit);
};

struct vifmac_registry {
	struct vifmac_ctx *ctx; /* a reference */
	const struct vifmac_registry_backend *backend;
	char *url;
	void *priv; /* the backend's */
};

extern const struct vifmac_registry_backend vifmac_registry_backend_sqlite;
extern const struct vifmac_registry_backend vifmac_registry_backend_etcd;

/* The scope rule, shared by every backend: two records of one MAC conflict when this is true. */
static inline bool vifmac_scopes_overlap(const char *a, const char *b)
{
	return strcmp(a, "*") == 0 || strcmp(b, "*") == 0 || strcmp(a, b) == 0;
}

/*
 * The owner rule, shared by every backend: a claim of one vif (domain UUID +
 * devid), or a reservation (held by no domain).
 */
static inline bool vifmac_records_same_owner(const struct vifmac_record *a, const struct vifmac_record *b)
{
	if (a->state != b->state)
		return false;
	if (a->state == VIFMAC_STATE_RESERVED)
		return true;
	return a->uuid[0] && strcmp(a->uuid, b->uuid) == 0 && a->devid == b->devid;
}

/* CLOCK_MONOTONIC in milliseconds: the deadlines of registry calls. */
static inline int64_t vifmac_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A claim from pool @name says so in its source: "pool:NAME" (what releases read to keep its history). */
static inline void vifmac_pool_source_set(struct vifmac_record *rec, const char *name)
{
	memcpy(rec->source, "pool:", 6);
	vifmac_strscpy(rec->source + 5, name, sizeof(rec->source) - 5);
}

/*
 * Allocates from @pools in order for @owner (fully filled but for mac and
 * source): the allocation policy, on the backend's pool primitives.
 * vifmac_registry_pool_allocate's contract, @now and @quarantine in seconds.
 */
int vifmac_registry_pool_allocate_policy(struct vifmac_registry *reg, const char *const *pools, size_t n,
					 const struct vifmac_record *owner, const struct vifmac_ipv4 *ip, int64_t now,
					 int64_t quarantine, struct vifmac_record *ret_rec,
					 struct vifmac_record *ret_holder);

/* Sets the context's error for a write refused by @holder, and returns -EEXIST. */
int vifmac_registry_conflict_error(struct vifmac_ctx *ctx, const struct vifmac_record *holder);

/*
 * Splits a vif's ip= value into addresses without their "/prefixlen":
 * calls @fn for each. Used to index a record by each of its addresses.
 */
int vifmac_registry_ip_tokens(const char *list, int (*fn)(void *data, const char *ip), void *data);

#endif
