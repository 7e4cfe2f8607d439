/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the SQLite backend: what its files share -- the open registry
 * (vifmac-sqlite-schema.c opens it), the writer queue (vifmac-sqlite-queue.c),
 * the record statements (vifmac-registry-sqlite.c) and pool storage
 * (vifmac-sqlite-pool.c).
 */
#ifndef VIFMAC_SQLITE_H
#define VIFMAC_SQLITE_H

#include <sqlite3.h>
#include <sys/types.h>

#include "vifmac-registry-internal.h"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_BY_MAC,
	ST_INSERT,
	ST_UPDATE,
	ST_DELETE_ID,
	ST_DELETE_OWNER_OTHER_MAC,
	ST_IP_DELETE,
	ST_IP_INSERT,
	ST_RELEASE,
	ST_RELEASE_POOL,
	ST_MOVE_POOL,
	ST_TAKEOVER_DELETE,
	ST_UNRESERVE,
	ST_LIST,
	ST_BY_IP,
	ST_BY_DOMAIN,
	_ST_MAX,
};

/* The SQL of each prepared statement (vifmac-registry-sqlite.c), prepared on first use. */
extern const char *const sqlite_stmt_sql[_ST_MAX];

struct sqlite_registry {
	struct vifmac_ctx *ctx;
	char *path;
	char *lock_path;
	int lock_fd;
	off_t slot;  /* the writer queue slot held, or -1 */
	int slot_fd; /* the descriptor holding it */
	sqlite3 *db;
	sqlite3_stmt *stmts[_ST_MAX]; /* NULL until first used: sqlite_stmt() */
	int prepare_r;                /* the -errno of the last statement that could not be prepared */
};

/*
 * Statement @id, prepared on first use. A hotplug run uses a handful of the
 * eighteen, and preparing all of them at open cost more than the claim
 * itself (perf: a tenth of the helper's CPU in SQLite's parser). NULL when
 * SQLite cannot prepare it: the error is set and s->prepare_r holds it.
 */
sqlite3_stmt *sqlite_stmt(struct sqlite_registry *s, enum stmt_id id);

/* Runs a statement that returns no rows, then resets it: 0, or the error (set). */
int sqlite_step_done(struct sqlite_registry *s, sqlite3_stmt *st, const char *what);
/* sqlite_step_done on statement @id (BEGIN, COMMIT: no parameters). */
int sqlite_run(struct sqlite_registry *s, enum stmt_id id, const char *what);

/* registry_timeout_ms: how long a writer waits for its turn. */
static inline int sqlite_timeout_ms(const struct sqlite_registry *s)
{
	return vifmac_ctx_registry_timeout_ms(s->ctx);
}

/* vifmac-sqlite-schema.c: open and close (sets/clears reg->priv), and SQLite's errors. */
int sqlite_open(struct vifmac_registry *reg, const char *path);
void sqlite_close(struct vifmac_registry *reg);
/* Maps a SQLite failure to an errno and a one-line error naming the file. */
int sqlite_fail(struct sqlite_registry *s, int rc, const char *what);

/* vifmac-sqlite-queue.c: the writer queue. */
/*
 * Waits for this writer's turn, @limit ms from @start (CLOCK_MONOTONIC ms):
 * 0, or -EBUSY or another -errno with the context's error naming the file.
 */
int sqlite_gate_lock(struct sqlite_registry *s, int64_t start, int limit);
/* Lets the next writer in (nothing when not holding the turn). */
void sqlite_gate_unlock(struct sqlite_registry *s);
/* Takes the writer lock, then BEGIN IMMEDIATE, both within the registry timeout. */
int sqlite_write_begin(struct sqlite_registry *s);
/* Commits (or rolls back) and lets the next writer in. A failed commit leaves nothing behind. */
int sqlite_write_end(struct sqlite_registry *s, bool commit);

/* vifmac-registry-sqlite.c: records. */
void sqlite_col_text(sqlite3_stmt *st, int col, char *buf, size_t size);
/*
 * One record, inside the write transaction. Returns 0, -EEXIST with
 * @holder filled, or another negative errno.
 */
int sqlite_write_one(struct sqlite_registry *s, const struct vifmac_record *rec, enum vifmac_write_mode mode,
		     struct vifmac_record *holder);

/* vifmac-sqlite-pool.c: the backend's pool operations (struct vifmac_registry_backend). */
int sqlite_pool_import(struct vifmac_registry *reg, const char *name, const struct vifmac_pool_source *src,
		       int64_t now);
int sqlite_pool_remove(struct vifmac_registry *reg, const char *name);
int sqlite_pool_list(struct vifmac_registry *reg, const char *name, int64_t now, int64_t quarantine,
		     vifmac_pool_fn fn, void *data);
int sqlite_pool_begin(struct vifmac_registry *reg, const char *const *pools, size_t n,
		      const struct vifmac_record *owner, void **ret_view);
int sqlite_pool_row(struct vifmac_registry *reg, void *view, const char *name, struct vifmac_pool_row *ret_row);
int sqlite_pool_find(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
		     enum vifmac_pool_query q, const struct vifmac_pool_ask *ask, struct vifmac_mac *ret_mac);
int sqlite_pool_claim(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
		      const struct vifmac_record *owner, const struct vifmac_mac *mac, bool advance,
		      struct vifmac_record *ret_rec, struct vifmac_record *ret_holder);
int sqlite_pool_end(struct vifmac_registry *reg, void *view, bool commit);

#endif
