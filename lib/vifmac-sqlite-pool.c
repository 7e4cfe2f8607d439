/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite backend's pools: the operator's pools (tables, ranges,
 * recycled addresses), what was released from them, and allocation
 * inside one write transaction.
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

/* What allocation knows of one pool. */
struct pool_row {
	char name[64];
	char kind[16];
	uint64_t size;
	char start[VIFMAC_MAC_STRLEN], end[VIFMAC_MAC_STRLEN], next[VIFMAC_MAC_STRLEN];
};

static int pool_row_read(struct sqlite_registry *s, const char *name, struct pool_row *row)
{
	sqlite3_stmt *st;
	int r = prep(s, "SELECT kind, size, range_start, range_end, next FROM pools WHERE name = ?1", &st), rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(row, 0, sizeof(*row));
		vifmac_strscpy(row->name, name, sizeof(row->name));
		sqlite_col_text(st, 0, row->kind, sizeof(row->kind));
		row->size = (uint64_t)sqlite3_column_int64(st, 1);
		sqlite_col_text(st, 2, row->start, sizeof(row->start));
		sqlite_col_text(st, 3, row->end, sizeof(row->end));
		sqlite_col_text(st, 4, row->next, sizeof(row->next));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return vifmac_set_error(s->ctx, -ENOENT, "the policy names pool \"%s\", which registry %s does not have"
					" (vifmac pool import %s FILE)", name, s->path, name);
	return sqlite_fail(s, rc, "read a pool");
}

/* Claims @mac for @owner from pool @pool inside the open transaction. */
static int pool_claim(struct sqlite_registry *s, const struct vifmac_record *owner, const char *pool, const char *mac,
		      struct vifmac_record *ret_rec, struct vifmac_record *ret_holder)
{
	struct vifmac_record rec = *owner;
	sqlite3_stmt *st;
	int r;

	if (vifmac_mac_parse(mac, &rec.mac) < 0)
		return vifmac_set_error(s->ctx, -EIO, "registry %s is corrupt: pool %s holds \"%s\"", s->path, pool, mac);
	snprintf(rec.source, sizeof(rec.source), "pool:%s", pool);
	r = sqlite_write_one(s, &rec, VIFMAC_WRITE_CLAIM, ret_holder);
	if (r < 0)
		return r;
	r = prep(s, "DELETE FROM pool_released WHERE mac = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	r = exec_bound(s, st, "take the address out of quarantine");
	if (r < 0)
		return r;
	*ret_rec = rec;
	return 0;
}

/* The lowest free address of a range: released ones past quarantine first, then the high-water mark. */
static int range_next(struct sqlite_registry *s, const struct pool_row *p, int64_t free_before, char *ret_mac,
		      bool *ret_from_hwm)
{
	sqlite3_stmt *st;
	struct vifmac_mac m;
	uint64_t cur, end;
	int r = prep(s, "SELECT q.mac FROM pool_released q WHERE q.pool = ?1 AND q.released <= ?2"
			" AND NOT EXISTS (SELECT 1 FROM records r WHERE r.mac = q.mac) ORDER BY q.mac LIMIT 1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, free_before);
	r = first_text(s, st, ret_mac, VIFMAC_MAC_STRLEN);
	if (r != 0) {
		*ret_from_hwm = false;
		return r;
	}
	if (vifmac_mac_parse(p->next, &m) < 0 || vifmac_mac_parse(p->end, &m) < 0)
		return vifmac_set_error(s->ctx, -EIO, "registry %s is corrupt: pool %s has no range", s->path, p->name);
	vifmac_mac_parse(p->next, &m);
	cur = vifmac_mac_to_u64(&m);
	vifmac_mac_parse(p->end, &m);
	end = vifmac_mac_to_u64(&m);
	for (; cur <= end; cur++) {
		/* held by a reservation, or claimed outside the pool: skip it for good */
		vifmac_mac_from_u64(cur, &m);
		vifmac_mac_format(&m, ret_mac);
		r = mac_held(s, ret_mac);
		if (r < 0)
			return r;
		if (r == 0) {
			*ret_from_hwm = true;
			return 1;
		}
	}
	return 0;
}

static int recycled_next(struct sqlite_registry *s, const struct pool_row *p, int64_t free_before, char *ret_mac)
{
	sqlite3_stmt *st;
	int r = prep(s, "SELECT e.mac FROM pool_entries e WHERE e.pool = ?1"
			" AND NOT EXISTS (SELECT 1 FROM records r WHERE r.mac = e.mac)"
			" AND NOT EXISTS (SELECT 1 FROM pool_released q WHERE q.mac = e.mac AND q.released > ?2)"
			" ORDER BY e.mac LIMIT 1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, free_before);
	return first_text(s, st, ret_mac, VIFMAC_MAC_STRLEN);
}

static int set_next(struct sqlite_registry *s, const struct pool_row *p, const char *mac)
{
	sqlite3_stmt *st;
	struct vifmac_mac m;
	char next[VIFMAC_MAC_STRLEN];
	int r;

	vifmac_mac_parse(mac, &m);
	vifmac_mac_from_u64(vifmac_mac_to_u64(&m) + 1, &m);
	r = prep(s, "UPDATE pools SET next = ?2 WHERE name = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vifmac_mac_format(&m, next), -1, SQLITE_STATIC);
	return exec_bound(s, st, "move the pool's high-water mark");
}

static int allocate_in(struct sqlite_registry *s, const char *const *pools, size_t n,
		       const struct vifmac_record *owner, const struct vifmac_ipv4 *ip, int64_t now, int64_t quarantine,
		       struct vifmac_record *ret_rec, struct vifmac_record *ret_holder)
{
	struct pool_row rows[16];
	char mac[VIFMAC_MAC_STRLEN], pool[64], summary[512] = "";
	size_t used = 0;
	int r;

	if (n == 0 || n > 16)
		return vifmac_set_error(s->ctx, -EINVAL, "between 1 and 16 pools per bridge");
	for (size_t i = 0; i < n; i++) {
		r = pool_row_read(s, pools[i], &rows[i]);
		if (r < 0)
			return r;
	}
	/*
	 * sticky: what this vif holds from these pools, or held last (its own,
	 * quarantine or not), or what a vif of the same devid of a domain of
	 * the same name held last: `xl create` of a config without uuid= gives
	 * the domain a new UUID each time, and it is still the same guest.
	 * (Names are unique among a host's domains, and a pool registry is
	 * one host's.)
	 */
	static const char *const sticky[] = {
		"SELECT mac FROM records WHERE uuid = ?1 AND devid = ?2 AND state = 'active'"
		" AND source = 'pool:' || ?3 LIMIT 1",
		"SELECT mac FROM pool_released WHERE uuid = ?1 AND devid = ?2 AND pool = ?3"
		" ORDER BY released DESC LIMIT 1",
		"SELECT mac FROM pool_released WHERE domain = ?1 AND devid = ?2 AND pool = ?3"
		" ORDER BY released DESC LIMIT 1",
	};
	for (size_t pass = 0; pass < ARRAY_SIZE(sticky); pass++) {
		const char *key = pass < 2 ? owner->uuid : owner->domain;

		if (!key[0] || (pass == 2 && strcmp(key, "-") == 0))
			continue;
		for (size_t i = 0; i < n; i++) {
			sqlite3_stmt *st;

			r = prep(s, sticky[pass], &st);
			if (r < 0)
				return r;
			sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 2, owner->devid);
			sqlite3_bind_text(st, 3, pools[i], -1, SQLITE_STATIC);
			r = first_text(s, st, mac, sizeof(mac));
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			r = pool_claim(s, owner, pools[i], mac, ret_rec, ret_holder);
			if (r != -EEXIST)
				return r; /* 0, or a failure */
			/* taken meanwhile by someone else (released, then reserved...): allocate anew */
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct pool_row *p = &rows[i];
		bool from_hwm = false;

		vifmac_strscpy(pool, p->name, sizeof(pool));
		if (strcmp(p->kind, "table") == 0) {
			sqlite3_stmt *st;
			char ipbuf[VIFMAC_IPV4_STRLEN];

			if (!ip)
				continue;
			r = prep(s, "SELECT mac FROM pool_entries WHERE pool = ?1 AND ip = ?2", &st);
			if (r < 0)
				return r;
			sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, vifmac_ipv4_format(ip, ipbuf), -1, SQLITE_STATIC);
			r = first_text(s, st, mac, sizeof(mac));
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			/* the operator's table says which MAC: held by another owner is a conflict */
			return pool_claim(s, owner, pool, mac, ret_rec, ret_holder);
		}
		r = strcmp(p->kind, "range") == 0 ? range_next(s, p, now - quarantine, mac, &from_hwm) :
						    recycled_next(s, p, now - quarantine, mac);
		if (r < 0)
			return r;
		if (r > 0) {
			r = pool_claim(s, owner, pool, mac, ret_rec, ret_holder);
			if (r == 0 && from_hwm)
				r = set_next(s, p, mac);
			return r;
		}
		used += (size_t)snprintf(summary + used, used < sizeof(summary) ? sizeof(summary) - used : 0,
					 "%s%s (%s, %llu addresses)", used ? ", " : "", p->name, p->kind,
					 (unsigned long long)p->size);
		if (used >= sizeof(summary))
			used = sizeof(summary) - 1;
	}
	if (!summary[0])
		return vifmac_set_error(s->ctx, -ENOENT, "no table of pools %s%s has an entry for this vif's address",
					pools[0], n > 1 ? ",..." : "");
	return vifmac_set_error(s->ctx, -ENOSPC,
				"pool exhausted: %s: every address is in use, reserved or in quarantine (pool_quarantine)",
				summary);
}

int sqlite_pool_allocate(struct vifmac_registry *reg, const char *const *pools, size_t n,
				const struct vifmac_record *owner, const struct vifmac_ipv4 *ip, int64_t now,
				int64_t quarantine, struct vifmac_record *ret_rec, struct vifmac_record *ret_holder)
{
	struct sqlite_registry *s = priv(reg);
	struct vifmac_record rec, holder;
	int r = sqlite_write_begin(s);

	if (r < 0)
		return r;
	memset(&holder, 0, sizeof(holder));
	r = allocate_in(s, pools, n, owner, ip, now, quarantine, &rec, &holder);
	r = sqlite_write_end(s, r == 0) ?: r;
	if (r == -EEXIST && ret_holder)
		*ret_holder = holder;
	if (r == 0)
		*ret_rec = rec;
	return r;
}
