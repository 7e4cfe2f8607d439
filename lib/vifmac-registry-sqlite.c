/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The embedded registry backend: one SQLite file in WAL mode. This file
 * holds the records' statements (claims, releases, takeovers, reads) under
 * the scope and owner rules; vifmac-sqlite-schema.c opens the file,
 * vifmac-sqlite-queue.c orders the writers, vifmac-sqlite-pool.c keeps
 * the pools.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-sqlite.h"

#define COLS "id, mac, scope_key, state, domain, uuid, devid, bridge, ip, host, created, updated, note, source"


const char *const sqlite_stmt_sql[_ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_BY_MAC] = "SELECT " COLS " FROM records WHERE mac = ?1 ORDER BY scope_key",
	[ST_INSERT] = "INSERT INTO records (mac, scope_key, state, domain, uuid, devid, bridge, ip, host, created,"
		      " updated, note, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_UPDATE] = "UPDATE records SET mac = ?1, scope_key = ?2, state = ?3, domain = ?4, uuid = ?5, devid = ?6,"
		      " bridge = ?7, ip = ?8, host = ?9, created = ?10, updated = ?11, note = ?12, source = ?13"
		      " WHERE id = ?14",
	[ST_DELETE_ID] = "DELETE FROM records WHERE id = ?1",
	[ST_DELETE_OWNER_OTHER_MAC] = "DELETE FROM records WHERE uuid = ?1 AND devid = ?2 AND state = 'active'"
				      " AND mac <> ?3",
	[ST_IP_DELETE] = "DELETE FROM record_ips WHERE record_id = ?1",
	[ST_IP_INSERT] = "INSERT OR IGNORE INTO record_ips (ip, record_id) VALUES (?1, ?2)",
	[ST_RELEASE] = "DELETE FROM records WHERE uuid = ?1 AND state = 'active' AND (?2 < 0 OR devid = ?2)"
		       " AND (?3 IS NULL OR mac = ?3) AND updated <= ?4 AND (?6 IS NULL OR host = ?6)",
	[ST_RELEASE_POOL] = "INSERT OR REPLACE INTO pool_released (mac, pool, uuid, devid, released, domain)"
			    " SELECT mac, substr(source, 6), uuid, devid, ?5, domain FROM records"
			    " WHERE uuid = ?1 AND state = 'active' AND (?2 < 0 OR devid = ?2)"
			    " AND (?3 IS NULL OR mac = ?3) AND updated <= ?4 AND (?6 IS NULL OR host = ?6)"
			    " AND source LIKE 'pool:%'",
	[ST_MOVE_POOL] = "INSERT OR REPLACE INTO pool_released (mac, pool, uuid, devid, released, domain)"
			 " SELECT mac, substr(source, 6), uuid, devid, ?4, domain FROM records"
			 " WHERE uuid = ?1 AND devid = ?2 AND state = 'active' AND mac <> ?3 AND source LIKE 'pool:%'",
	[ST_TAKEOVER_DELETE] = "DELETE FROM records WHERE mac = ?1 AND scope_key = ?2 AND state = 'active'"
			       " AND uuid = ?3 AND devid = ?4 AND host = ?5 AND updated = ?6",
	[ST_UNRESERVE] = "DELETE FROM records WHERE mac = ?1 AND state = 'reserved'",
	[ST_LIST] = "SELECT " COLS " FROM records ORDER BY mac, scope_key",
	[ST_BY_IP] = "SELECT " COLS " FROM records WHERE id IN (SELECT record_id FROM record_ips WHERE ip = ?1)"
		     " ORDER BY mac, scope_key",
	[ST_BY_DOMAIN] = "SELECT " COLS " FROM records WHERE domain = ?1 OR uuid = ?1 ORDER BY mac, scope_key",
};

static struct sqlite_registry *priv(struct vifmac_registry *reg)
{
	return reg->priv;
}

/* ---------------------------------------------------------------- rows */

static const char *state_name(enum vifmac_record_state state)
{
	return state == VIFMAC_STATE_RESERVED ? "reserved" : "active";
}

void sqlite_col_text(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	vifmac_strscpy(buf, t ? (const char *)t : "", size);
}

static int row_read(struct sqlite_registry *s, sqlite3_stmt *st, struct vifmac_record *rec, int64_t *ret_id)
{
	const unsigned char *mac = sqlite3_column_text(st, 1);
	const unsigned char *state = sqlite3_column_text(st, 3);

	vifmac_record_init(rec);
	if (!mac || vifmac_mac_parse((const char *)mac, &rec->mac) < 0 || !state)
		return vifmac_set_error(s->ctx, -EIO, "registry %s is corrupt: record %lld has MAC \"%s\"", s->path,
					(long long)sqlite3_column_int64(st, 0), mac ? (const char *)mac : "");
	sqlite_col_text(st, 2, rec->scope_key, sizeof(rec->scope_key));
	rec->state = strcmp((const char *)state, "reserved") == 0 ? VIFMAC_STATE_RESERVED : VIFMAC_STATE_ACTIVE;
	sqlite_col_text(st, 4, rec->domain, sizeof(rec->domain));
	sqlite_col_text(st, 5, rec->uuid, sizeof(rec->uuid));
	rec->devid = sqlite3_column_int(st, 6);
	sqlite_col_text(st, 7, rec->bridge, sizeof(rec->bridge));
	sqlite_col_text(st, 8, rec->ip, sizeof(rec->ip));
	sqlite_col_text(st, 9, rec->host, sizeof(rec->host));
	rec->created = sqlite3_column_int64(st, 10);
	rec->updated = sqlite3_column_int64(st, 11);
	sqlite_col_text(st, 12, rec->note, sizeof(rec->note));
	sqlite_col_text(st, 13, rec->source, sizeof(rec->source));
	if (ret_id)
		*ret_id = sqlite3_column_int64(st, 0);
	return 0;
}

/* Binds ?1..?13 of ST_INSERT / ST_UPDATE. */
static void bind_record(sqlite3_stmt *st, const struct vifmac_record *rec, const char *mac, int64_t created)
{
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rec->scope_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, state_name(rec->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rec->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rec->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, rec->devid);
	sqlite3_bind_text(st, 7, rec->bridge, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, rec->ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, rec->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, created);
	sqlite3_bind_int64(st, 11, rec->updated);
	sqlite3_bind_text(st, 12, rec->note, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, rec->source, -1, SQLITE_STATIC);
}

struct ip_insert {
	struct sqlite_registry *s;
	int64_t id;
};

static int ip_insert(void *data, const char *ip)
{
	struct ip_insert *x = data;
	sqlite3_stmt *st = sqlite_stmt(x->s, ST_IP_INSERT);

	if (!st)
		return x->s->prepare_r;
	sqlite3_bind_text(st, 1, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, x->id);
	return sqlite_step_done(x->s, st, "index addresses");
}

#define MAX_SAME_OWNER 16

int sqlite_write_one(struct sqlite_registry *s, const struct vifmac_record *rec, enum vifmac_write_mode mode,
		     struct vifmac_record *holder)
{
	sqlite3_stmt *st = sqlite_stmt(s, ST_BY_MAC);
	char mac[VIFMAC_MAC_STRLEN];
	int64_t mine = 0, mine_created = 0, extra[MAX_SAME_OWNER];
	size_t n_extra = 0;
	bool conflict = false;
	struct ip_insert x = { .s = s };
	int r = 0, rc;

	if (!st)
		return s->prepare_r;
	vifmac_mac_format(&rec->mac, mac);
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vifmac_record row;
		int64_t id;

		r = row_read(s, st, &row, &id);
		if (r < 0)
			break;
		if (!vifmac_scopes_overlap(row.scope_key, rec->scope_key))
			continue;
		/* a second reservation of a reserved MAC is a conflict; importing it again is not */
		if (!vifmac_records_same_owner(rec, &row) ||
		    (mode == VIFMAC_WRITE_CLAIM && rec->state == VIFMAC_STATE_RESERVED)) {
			*holder = row;
			conflict = true;
			break;
		}
		if (!mine) {
			mine = id;
			mine_created = row.created;
		} else if (n_extra < MAX_SAME_OWNER) {
			extra[n_extra++] = id;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sqlite_fail(s, rc, "look up the MAC");
	if (conflict)
		return -EEXIST;

	/* a vif holds one MAC: its claim on another MAC (an older IP, say) is moved */
	if (rec->state == VIFMAC_STATE_ACTIVE) {
		if (!(st = sqlite_stmt(s, ST_MOVE_POOL)))
			return s->prepare_r;
		sqlite3_bind_text(st, 1, rec->uuid, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, rec->devid);
		sqlite3_bind_text(st, 3, mac, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, rec->updated);
		r = sqlite_step_done(s, st, "remember the vif's pool address");
		if (r < 0)
			return r;
		if (!(st = sqlite_stmt(s, ST_DELETE_OWNER_OTHER_MAC)))
			return s->prepare_r;
		sqlite3_bind_text(st, 1, rec->uuid, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, rec->devid);
		sqlite3_bind_text(st, 3, mac, -1, SQLITE_STATIC);
		r = sqlite_step_done(s, st, "move the vif's claim");
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_extra; i++) {
		if (!(st = sqlite_stmt(s, ST_DELETE_ID)))
			return s->prepare_r;
		sqlite3_bind_int64(st, 1, extra[i]);
		r = sqlite_step_done(s, st, "merge the owner's records");
		if (r < 0)
			return r;
	}
	if (mine) {
		if (!(st = sqlite_stmt(s, ST_UPDATE)))
			return s->prepare_r;
		bind_record(st, rec, mac, mode == VIFMAC_WRITE_CLAIM ? mine_created : rec->created);
		sqlite3_bind_int64(st, 14, mine);
		r = sqlite_step_done(s, st, "update the record");
		if (r < 0)
			return r;
		if (!(st = sqlite_stmt(s, ST_IP_DELETE)))
			return s->prepare_r;
		sqlite3_bind_int64(st, 1, mine);
		r = sqlite_step_done(s, st, "index addresses");
		if (r < 0)
			return r;
		x.id = mine;
	} else {
		if (!(st = sqlite_stmt(s, ST_INSERT)))
			return s->prepare_r;
		bind_record(st, rec, mac, rec->created);
		r = sqlite_step_done(s, st, "insert the record");
		if (r < 0)
			return r;
		x.id = sqlite3_last_insert_rowid(s->db);
	}
	return vifmac_registry_ip_tokens(rec->ip, ip_insert, &x);
}

static int sqlite_write(struct vifmac_registry *reg, const struct vifmac_record *recs, size_t n,
			enum vifmac_write_mode mode, vifmac_conflict_fn conflict_fn, void *data,
			struct vifmac_record *ret_holder)
{
	struct sqlite_registry *s = priv(reg);
	struct vifmac_record holder;
	size_t conflicts = 0;
	int r;

	r = sqlite_write_begin(s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = sqlite_write_one(s, &recs[i], mode, &holder);
		if (r == -EEXIST) {
			conflicts++;
			if (!conflict_fn)
				break;
			if (conflict_fn(data, &recs[i], &holder) != 0)
				break;
			r = 0;
			continue;
		}
		if (r < 0)
			break;
	}
	if (r < 0 || conflicts > 0) {
		sqlite_write_end(s, false);
		if (r == -EEXIST || (r == 0 && conflicts > 0)) {
			if (ret_holder && !conflict_fn)
				*ret_holder = holder;
			return vifmac_registry_conflict_error(s->ctx, &holder);
		}
		return r;
	}
	r = sqlite_write_end(s, true);
	return r < 0 ? r : (int)n;
}

static int sqlite_takeover(struct vifmac_registry *reg, const struct vifmac_record *stale,
			   const struct vifmac_record *rec, struct vifmac_record *ret_holder)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st = sqlite_stmt(s, ST_TAKEOVER_DELETE);
	struct vifmac_record holder;
	char mac[VIFMAC_MAC_STRLEN];
	int r;

	if (!st)
		return s->prepare_r;
	r = sqlite_write_begin(s);
	if (r < 0)
		return r;
	/* the stale claim goes only if it is still exactly the one judged stale */
	sqlite3_bind_text(st, 1, vifmac_mac_format(&stale->mac, mac), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, stale->scope_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, stale->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, stale->devid);
	sqlite3_bind_text(st, 5, stale->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, stale->updated);
	r = sqlite_step_done(s, st, "take over the stale claim");
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ESTALE;
	if (r == 0)
		r = sqlite_write_one(s, rec, VIFMAC_WRITE_CLAIM, &holder);
	if (r < 0) {
		sqlite_write_end(s, false);
		if (r == -EEXIST) {
			if (ret_holder)
				*ret_holder = holder;
			return vifmac_registry_conflict_error(s->ctx, &holder);
		}
		return r;
	}
	return sqlite_write_end(s, true);
}

static int sqlite_release(struct vifmac_registry *reg, const struct vifmac_mac *mac, const char *uuid, int devid,
			  int64_t updated_max, const char *host)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st = sqlite_stmt(s, ST_RELEASE), *pool = sqlite_stmt(s, ST_RELEASE_POOL);
	char buf[VIFMAC_MAC_STRLEN];
	int r, n;

	if (!st || !pool)
		return s->prepare_r;
	r = sqlite_write_begin(s);
	if (r < 0)
		return r;
	/* pool addresses go into quarantine, remembering their last owner */
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *q = i == 0 ? pool : st;

		sqlite3_bind_text(q, 1, uuid, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, devid);
		if (mac)
			sqlite3_bind_text(q, 3, vifmac_mac_format(mac, buf), -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(q, 3);
		sqlite3_bind_int64(q, 4, updated_max);
		if (host)
			sqlite3_bind_text(q, 6, host, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(q, 6);
		if (i == 0)
			sqlite3_bind_int64(q, 5, vifmac_now(s->ctx));
		r = sqlite_step_done(s, q, i == 0 ? "quarantine pool addresses" : "release");
		if (r < 0)
			break;
	}
	n = sqlite3_changes(s->db);
	r = sqlite_write_end(s, r == 0) ?: r;
	return r < 0 ? r : n;
}

static int sqlite_unreserve(struct vifmac_registry *reg, const struct vifmac_mac *mac)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st = sqlite_stmt(s, ST_UNRESERVE);
	char buf[VIFMAC_MAC_STRLEN];
	int r, n;

	if (!st)
		return s->prepare_r;
	r = sqlite_write_begin(s);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, vifmac_mac_format(mac, buf), -1, SQLITE_STATIC);
	r = sqlite_step_done(s, st, "unreserve");
	n = sqlite3_changes(s->db);
	r = sqlite_write_end(s, r == 0) ?: r;
	return r < 0 ? r : (n > 0 ? 1 : 0);
}

/* ---------------------------------------------------------------- reads */

/*
 * Runs a bound query, calling @fn per row. The statement is one read
 * transaction (a snapshot); @fn must not write to the registry.
 */
static int query(struct sqlite_registry *s, sqlite3_stmt *st, vifmac_record_fn fn, void *data)
{
	int r = 0, rc;

	if (!st)
		return s->prepare_r;
	sqlite3_busy_timeout(s->db, sqlite_timeout_ms(s));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vifmac_record rec;

		r = row_read(s, st, &rec, NULL);
		if (r < 0)
			break;
		r = fn(data, &rec);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sqlite_fail(s, rc, "read");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int sqlite_list(struct vifmac_registry *reg, vifmac_record_fn fn, void *data)
{
	return query(priv(reg), sqlite_stmt(priv(reg), ST_LIST), fn, data);
}

static int sqlite_lookup_mac(struct vifmac_registry *reg, const struct vifmac_mac *mac, vifmac_record_fn fn,
			     void *data)
{
	struct sqlite_registry *s = priv(reg);
	char buf[VIFMAC_MAC_STRLEN];

	sqlite3_stmt *st = sqlite_stmt(s, ST_BY_MAC);

	if (st)
		sqlite3_bind_text(st, 1, vifmac_mac_format(mac, buf), -1, SQLITE_STATIC);
	return query(s, st, fn, data);
}

static int sqlite_lookup_ip(struct vifmac_registry *reg, const char *ip, vifmac_record_fn fn, void *data)
{
	struct sqlite_registry *s = priv(reg);

	sqlite3_stmt *st = sqlite_stmt(s, ST_BY_IP);

	if (st)
		sqlite3_bind_text(st, 1, ip, -1, SQLITE_STATIC);
	return query(s, st, fn, data);
}

static int sqlite_lookup_domain(struct vifmac_registry *reg, const char *domain, vifmac_record_fn fn, void *data)
{
	struct sqlite_registry *s = priv(reg);

	sqlite3_stmt *st = sqlite_stmt(s, ST_BY_DOMAIN);

	if (st)
		sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	return query(s, st, fn, data);
}

const struct vifmac_registry_backend vifmac_registry_backend_sqlite = {
	.scheme = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.write = sqlite_write,
	.release = sqlite_release,
	.takeover = sqlite_takeover,
	.unreserve = sqlite_unreserve,
	.list = sqlite_list,
	.lookup_mac = sqlite_lookup_mac,
	.lookup_ip = sqlite_lookup_ip,
	.lookup_domain = sqlite_lookup_domain,
	.pool_import = sqlite_pool_import,
	.pool_remove = sqlite_pool_remove,
	.pool_list = sqlite_pool_list,
	.pool_begin = sqlite_pool_begin,
	.pool_row = sqlite_pool_row,
	.pool_find = sqlite_pool_find,
	.pool_claim = sqlite_pool_claim,
	.pool_end = sqlite_pool_end,
};

