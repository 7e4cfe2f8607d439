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
	 * Pools (optional: a backend without them leaves these NULL, and the
	 * public functions answer -EOPNOTSUPP). @now and @quarantine in seconds;
	 * @owner of pool_allocate is fully filled but for mac and source.
	 */
	int (*pool_import)(struct vifmac_registry *reg, const char *name, const struct vifmac_pool_source *src,
			   int64_t now);
	int (*pool_remove)(struct vifmac_registry *reg, const char *name);
	int (*pool_list)(struct vifmac_registry *reg, const char *name, int64_t now, int64_t quarantine,
			 vifmac_pool_fn fn, void *data);
	int (*pool_allocate)(struct vifmac_registry *reg, const char *const *pools, size_t n,
			     const struct vifmac_record *owner, const struct vifmac_ipv4 *ip, int64_t now,
			     int64_t quarantine, struct vifmac_record *ret_rec, struct vifmac_record *ret_holder);
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

/* Sets the context's error for a write refused by @holder, and returns -EEXIST. */
int vifmac_registry_conflict_error(struct vifmac_ctx *ctx, const struct vifmac_record *holder);

/*
 * Splits a vif's ip= value into addresses without their "/prefixlen":
 * calls @fn for each. Used to index a record by each of its addresses.
 */
int vifmac_registry_ip_tokens(const char *list, int (*fn)(void *data, const char *ip), void *data);

#endif
