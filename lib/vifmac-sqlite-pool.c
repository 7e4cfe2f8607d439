/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite backend's pools: the operator's pools (tables, ranges,
 * recycled addresses) and what was released from them, in tables of the
 * registry file, and the allocation primitives answered by SQL inside one
 * write transaction (the policy is vifmac-registry-pool.c's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-sqlite.h"

static struct sqlite_registry *priv(struct vifmac_registry *reg)
{
	return reg->priv;
}

/* Prepares @sql; the caller finalizes. */
static int prep(struct sqlite_registry *s, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);

	return rc == SQLITE_OK ? 0 : sqlite_fail(s, rc, "prepare a pool query");
}

/* Runs a one-shot statement returning no rows. */
static int exec_bound(struct sqlite_registry *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(s, rc, what);
}

/* A single text column of the first row into @buf: 1, 0 for no row, or -errno. */
static int first_text(struct sqlite_registry *s, sqlite3_stmt *st, char *buf, size_t size)
{
	int rc = sqlite3_step(st), r;

	if (rc == SQLITE_ROW) {
		sqlite_col_text(st, 0, buf, size);
		r = 1;
	} else {
		r = rc == SQLITE_DONE ? 0 : sqlite_fail(s, rc, "read a pool");
	}
	sqlite3_finalize(st);
	return r;
}

/* Whether any record (any scope, claim or reservation) holds @mac: 1, 0 or -errno. */
static int mac_held(struct sqlite_registry *s, const char *mac)
{
	sqlite3_stmt *st;
	char buf[8];
	int r = prep(s, "SELECT 1 FROM records WHERE mac = ?1 LIMIT 1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	return first_text(s, st, buf, sizeof(buf));
}

/* The first MAC in @src that another pool holds, with that pool's name: -EEXIST, or 0. */
static int pool_overlap(struct sqlite_registry *s, const char *name, const struct vifmac_pool_source *src)
{
	sqlite3_stmt *st;
	char other[64], mac[VIFMAC_MAC_STRLEN], lo[VIFMAC_MAC_STRLEN], hi[VIFMAC_MAC_STRLEN];
	int r;

	if (src->kind == VIFMAC_POOL_RANGE) {
		vifmac_mac_format(&src->start, lo);
		vifmac_mac_format(&src->end, hi);
		r = prep(s, "SELECT name || ' ' || max(range_start, ?1) FROM pools WHERE kind = 'range' AND name <> ?3"
			    " AND range_start <= ?2 AND range_end >= ?1"
			    " UNION ALL SELECT pool || ' ' || mac FROM pool_entries"
			    " WHERE mac BETWEEN ?1 AND ?2 AND pool <> ?3 LIMIT 1", &st);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		r = first_text(s, st, other, sizeof(other));
		if (r <= 0)
			return r;
		goto overlap;
	}
	for (size_t i = 0; i < src->n; i++) {
		vifmac_mac_format(&src->entries[i].mac, mac);
		r = prep(s, "SELECT name || ' ' || ?1 FROM pools WHERE kind = 'range' AND name <> ?2"
			    " AND range_start <= ?1 AND range_end >= ?1"
			    " UNION ALL SELECT pool || ' ' || mac FROM pool_entries WHERE mac = ?1 AND pool <> ?2 LIMIT 1",
			 &st);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		r = first_text(s, st, other, sizeof(other));
		if (r < 0)
			return r;
		if (r > 0)
			goto overlap;
	}
	return 0;
overlap: {
	char *sp = strchr(other, ' ');

	if (sp)
		*sp++ = '\0';
	return vifmac_set_error(s->ctx, -EEXIST, "%s overlaps pool %s: both hold %s", src->path, other,
				sp ? sp : "?");
}
}

int sqlite_pool_import(struct vifmac_registry *reg, const char *name, const struct vifmac_pool_source *src,
			      int64_t now)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st;
	char lo[VIFMAC_MAC_STRLEN], hi[VIFMAC_MAC_STRLEN], ip[VIFMAC_IPV4_STRLEN], mac[VIFMAC_MAC_STRLEN];
	int r;

	r = sqlite_write_begin(s);
	if (r < 0)
		return r;
	r = pool_overlap(s, name, src);
	if (r < 0)
		goto out;
	r = prep(s, "DELETE FROM pool_entries WHERE pool = ?1", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = exec_bound(s, st, "replace the pool");
	if (r < 0)
		goto out;
	/* a range imported again keeps its high-water mark when its bounds are unchanged */
	r = prep(s, "INSERT INTO pools (name, kind, origin, imported, size, range_start, range_end, next)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6) ON CONFLICT (name) DO UPDATE SET kind = ?2, origin = ?3,"
		    " imported = ?4, size = ?5, next = CASE WHEN range_start IS ?6 AND range_end IS ?7 THEN next"
		    " ELSE ?6 END, range_start = ?6, range_end = ?7", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vifmac_pool_kind_name(src->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, src->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)src->size);
	if (src->kind == VIFMAC_POOL_RANGE) {
		sqlite3_bind_text(st, 6, vifmac_mac_format(&src->start, lo), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, vifmac_mac_format(&src->end, hi), -1, SQLITE_STATIC);
	}
	r = exec_bound(s, st, "record the pool");
	if (r < 0)
		goto out;
	for (size_t i = 0; i < src->n; i++) {
		r = prep(s, "INSERT INTO pool_entries (pool, mac, ip, note) VALUES (?1, ?2, ?3, ?4)", &st);
		if (r < 0)
			goto out;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, vifmac_mac_format(&src->entries[i].mac, mac), -1, SQLITE_STATIC);
		if (src->kind == VIFMAC_POOL_TABLE)
			sqlite3_bind_text(st, 3, vifmac_ipv4_format(&src->entries[i].ip, ip), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, src->entries[i].note, -1, SQLITE_STATIC);
		r = exec_bound(s, st, "record the pool's addresses");
		if (r < 0)
			goto out;
	}
out:
	r = sqlite_write_end(s, r == 0) ?: r;
	return r;
}

int sqlite_pool_remove(struct vifmac_registry *reg, const char *name)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st;
	int r, n = 0;

	r = sqlite_write_begin(s);
	if (r < 0)
		return r;
	r = prep(s, "DELETE FROM pools WHERE name = ?1", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		r = exec_bound(s, st, "remove the pool");
		n = sqlite3_changes(s->db);
	}
	r = sqlite_write_end(s, r == 0) ?: r;
	return r < 0 ? r : (n > 0);
}

int sqlite_pool_list(struct vifmac_registry *reg, const char *name, int64_t now, int64_t quarantine,
			    vifmac_pool_fn fn, void *data)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st;
	int r, rc, found = 0;

	r = prep(s, "SELECT p.name, p.kind, p.origin, p.imported, p.size,"
		    " (SELECT count(*) FROM records r WHERE r.source = 'pool:' || p.name AND r.state = 'active'),"
		    " (SELECT count(*) FROM pool_released q WHERE q.pool = p.name AND q.released > ?2"
		    "  AND NOT EXISTS (SELECT 1 FROM records r WHERE r.mac = q.mac)),"
		    " CASE p.kind WHEN 'range' THEN (SELECT count(*) FROM records r WHERE r.state = 'reserved'"
		    "  AND r.mac BETWEEN p.range_start AND p.range_end)"
		    " ELSE (SELECT count(*) FROM records r JOIN pool_entries e ON e.mac = r.mac"
		    "  WHERE e.pool = p.name AND r.state = 'reserved') END"
		    " FROM pools p WHERE ?1 IS NULL OR p.name = ?1 ORDER BY p.name", &st);
	if (r < 0)
		return r;
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now - quarantine);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vifmac_pool_info info = { 0 };
		char kind[16];

		sqlite_col_text(st, 0, info.name, sizeof(info.name));
		sqlite_col_text(st, 1, kind, sizeof(kind));
		info.kind = strcmp(kind, "range") == 0 ? VIFMAC_POOL_RANGE :
			    strcmp(kind, "recycled") == 0 ? VIFMAC_POOL_RECYCLED :
							     VIFMAC_POOL_TABLE;
		sqlite_col_text(st, 2, info.origin, sizeof(info.origin));
		info.imported = sqlite3_column_int64(st, 3);
		info.size = (uint64_t)sqlite3_column_int64(st, 4);
		info.used = (uint64_t)sqlite3_column_int64(st, 5);
		info.quarantined = (uint64_t)sqlite3_column_int64(st, 6);
		info.reserved = (uint64_t)sqlite3_column_int64(st, 7);
		found++;
		r = fn ? fn(data, &info) : 0;
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = sqlite_fail(s, rc, "list pools");
	sqlite3_finalize(st);
	if (!r && name && !found)
		return vifmac_set_error(s->ctx, -ENOENT, "no pool \"%s\" in registry %s (vifmac pool list)", name,
					s->path);
	return r;
}

/* ---------------------------------------------------------------- allocation primitives */

/* The view of an attempt is the write transaction itself. */
int sqlite_pool_begin(struct vifmac_registry *reg, const char *const *pools, size_t n,
		      const struct vifmac_record *owner, void **ret_view)
{
	struct sqlite_registry *s = priv(reg);
	int r = sqlite_write_begin(s);

	if (r < 0)
		return r;
	*ret_view = s;
	return 0;
}

int sqlite_pool_end(struct vifmac_registry *reg, void *view, bool commit)
{
	return sqlite_write_end(priv(reg), commit);
}

static int mac_text_parse(struct sqlite_registry *s, const char *pool, const char *text, struct vifmac_mac *ret)
{
	if (vifmac_mac_parse(text, ret) < 0)
		return vifmac_set_error(s->ctx, -EIO, "registry %s is corrupt: pool %s holds \"%s\"", s->path, pool,
					text);
	return 0;
}

int sqlite_pool_row(struct vifmac_registry *reg, void *view, const char *name, struct vifmac_pool_row *row)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st;
	char kind[16], start[VIFMAC_MAC_STRLEN], end[VIFMAC_MAC_STRLEN], next[VIFMAC_MAC_STRLEN];
	int r = prep(s, "SELECT kind, size, range_start, range_end, next FROM pools WHERE name = ?1", &st), rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(row, 0, sizeof(*row));
		vifmac_strscpy(row->name, name, sizeof(row->name));
		sqlite_col_text(st, 0, kind, sizeof(kind));
		row->kind = strcmp(kind, "range") == 0 ? VIFMAC_POOL_RANGE :
			    strcmp(kind, "recycled") == 0 ? VIFMAC_POOL_RECYCLED :
							     VIFMAC_POOL_TABLE;
		row->size = (uint64_t)sqlite3_column_int64(st, 1);
		sqlite_col_text(st, 2, start, sizeof(start));
		sqlite_col_text(st, 3, end, sizeof(end));
		sqlite_col_text(st, 4, next, sizeof(next));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return vifmac_set_error(s->ctx, -ENOENT, "the policy names pool \"%s\", which registry %s does not have"
					" (vifmac pool import %s FILE)", name, s->path, name);
	if (rc != SQLITE_ROW)
		return sqlite_fail(s, rc, "read a pool");
	if (row->kind == VIFMAC_POOL_RANGE &&
	    (vifmac_mac_parse(start, &row->start) < 0 || vifmac_mac_parse(end, &row->end) < 0 ||
	     vifmac_mac_parse(next, &row->next) < 0))
		return vifmac_set_error(s->ctx, -EIO, "registry %s is corrupt: pool %s has no range", s->path, name);
	return 0;
}

/* The lowest address from the high-water mark that no record holds; reserved or claimed outside the pool: skipped. */
static int range_free(struct sqlite_registry *s, const struct vifmac_pool_row *p, char *ret_mac)
{
	uint64_t end = vifmac_mac_to_u64(&p->end);

	for (uint64_t cur = vifmac_mac_to_u64(&p->next); cur <= end; cur++) {
		struct vifmac_mac m;
		int r;

		vifmac_mac_from_u64(cur, &m);
		vifmac_mac_format(&m, ret_mac);
		r = mac_held(s, ret_mac);
		if (r <= 0)
			return r < 0 ? r : 1;
	}
	return 0;
}

static const char *const find_sql[] = {
	[VIFMAC_POOL_HELD_NOW] = "SELECT mac FROM records WHERE uuid = ?1 AND devid = ?2 AND state = 'active'"
				 " AND source = 'pool:' || ?3 LIMIT 1",
	[VIFMAC_POOL_LAST_BY_UUID] = "SELECT mac FROM pool_released WHERE uuid = ?1 AND devid = ?2 AND pool = ?3"
				     " ORDER BY released DESC LIMIT 1",
	[VIFMAC_POOL_LAST_BY_NAME] = "SELECT mac FROM pool_released WHERE domain = ?1 AND devid = ?2 AND pool = ?3"
				     " ORDER BY released DESC LIMIT 1",
	[VIFMAC_POOL_TABLE_ENTRY] = "SELECT mac FROM pool_entries WHERE pool = ?3 AND ip = ?4",
	[VIFMAC_POOL_RELEASED_FREE] = "SELECT q.mac FROM pool_released q WHERE q.pool = ?3 AND q.released <= ?5"
				      " AND NOT EXISTS (SELECT 1 FROM records r WHERE r.mac = q.mac)"
				      " ORDER BY q.mac LIMIT 1",
	[VIFMAC_POOL_RECYCLED_FREE] = "SELECT e.mac FROM pool_entries e WHERE e.pool = ?3"
				      " AND NOT EXISTS (SELECT 1 FROM records r WHERE r.mac = e.mac)"
				      " AND NOT EXISTS (SELECT 1 FROM pool_released q WHERE q.mac = e.mac"
				      " AND q.released > ?5) ORDER BY e.mac LIMIT 1",
};

int sqlite_pool_find(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
		     enum vifmac_pool_query q, const struct vifmac_pool_ask *ask, struct vifmac_mac *ret_mac)
{
	struct sqlite_registry *s = priv(reg);
	char mac[VIFMAC_MAC_STRLEN], ip[VIFMAC_IPV4_STRLEN];
	sqlite3_stmt *st;
	int r;

	if (q == VIFMAC_POOL_RANGE_FREE)
		r = range_free(s, pool, mac);
	else {
		r = prep(s, find_sql[q], &st);
		if (r < 0)
			return r;
		/* every query names the parameters it uses; the others stay NULL */
		sqlite3_bind_text(st, 1, q == VIFMAC_POOL_LAST_BY_NAME ? ask->owner->domain : ask->owner->uuid, -1,
				  SQLITE_STATIC);
		sqlite3_bind_int(st, 2, ask->owner->devid);
		sqlite3_bind_text(st, 3, pool->name, -1, SQLITE_STATIC);
		if (ask->ip)
			sqlite3_bind_text(st, 4, vifmac_ipv4_format(ask->ip, ip), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, ask->free_before);
		r = first_text(s, st, mac, sizeof(mac));
	}
	if (r <= 0)
		return r;
	r = mac_text_parse(s, pool->name, mac, ret_mac);
	return r < 0 ? r : 1;
}

/* Inside the view's transaction: nobody else writes, so the pool cannot have changed (never -EAGAIN). */
int sqlite_pool_claim(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
		      const struct vifmac_record *owner, const struct vifmac_mac *mac, bool advance,
		      struct vifmac_record *ret_rec, struct vifmac_record *ret_holder)
{
	struct sqlite_registry *s = priv(reg);
	struct vifmac_record rec = *owner;
	char text[VIFMAC_MAC_STRLEN];
	sqlite3_stmt *st;
	int r;

	rec.mac = *mac;
	vifmac_pool_source_set(&rec, pool->name);
	r = sqlite_write_one(s, &rec, VIFMAC_WRITE_CLAIM, ret_holder);
	if (r < 0)
		return r;
	r = prep(s, "DELETE FROM pool_released WHERE mac = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, vifmac_mac_format(mac, text), -1, SQLITE_STATIC);
	r = exec_bound(s, st, "take the address out of quarantine");
	if (r == 0 && advance) {
		struct vifmac_mac next;

		vifmac_mac_from_u64(vifmac_mac_to_u64(mac) + 1, &next);
		r = prep(s, "UPDATE pools SET next = ?2 WHERE name = ?1", &st);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, pool->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, vifmac_mac_format(&next, text), -1, SQLITE_STATIC);
		r = exec_bound(s, st, "move the pool's high-water mark");
	}
	if (r < 0)
		return r;
	*ret_rec = rec;
	return 0;
}
