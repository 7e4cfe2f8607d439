/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd backend's pool storage: vifmac pool import (one txn, written
 * only if no pool changed since the overlap check read them all), remove,
 * and list with each pool's use, on the ps/ pe/ ph/ keys of
 * vifmac-etcd-keys.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-etcd.h"

static struct etcd_registry *priv(struct vifmac_registry *reg)
{
	return reg->priv;
}


/* The pools of a snapshot of ps/ and pe/ (in that order of ranges), by name; @ret owned by the caller. */
static int pools_load(struct etcd_registry *e, const struct etcd_snapshot *s, struct etcd_pool **ret, size_t *ret_n)
{
	size_t ps_len = strlen(s->prefixes[0]), pe_len = strlen(s->prefixes[1]), n = 0;
	struct etcd_pool *v = calloc(s->n_kvs ? s->n_kvs : 1, sizeof(*v));
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_kvs && r == 0; i++)
		if (strncmp(s->kvs[i].key, s->prefixes[0], ps_len) == 0)
			r = etcd_pool_state_parse(e, &s->kvs[i], s->kvs[i].key + ps_len, &v[n++]);
	for (size_t i = 0; i < s->n_kvs && r == 0; i++) {
		if (strncmp(s->kvs[i].key, s->prefixes[1], pe_len) != 0)
			continue;
		for (size_t j = 0; j < n; j++)
			if (strcmp(v[j].row.name, s->kvs[i].key + pe_len) == 0 && !v[j].entries)
				r = etcd_pool_entries_parse(e, &s->kvs[i], &v[j]);
	}
	if (r < 0) {
		for (size_t j = 0; j < n; j++)
			etcd_pool_dispose(&v[j]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static void pools_free(struct etcd_pool *v, size_t n)
{
	for (size_t j = 0; v && j < n; j++)
		etcd_pool_dispose(&v[j]);
	free(v);
}

static bool pool_has(const struct etcd_pool *p, const struct vifmac_mac *mac)
{
	if (p->row.kind == VIFMAC_POOL_RANGE)
		return etcd_mac_cmp(mac, &p->row.start) >= 0 && etcd_mac_cmp(mac, &p->row.end) <= 0;
	for (size_t i = 0; i < p->n_entries; i++)
		if (vifmac_mac_equal(&p->entries[i].mac, mac))
			return true;
	return false;
}

/* The first MAC of @src another pool of @v holds: -EEXIST naming it, or 0. */
static int overlap(struct etcd_registry *e, const char *name, const struct vifmac_pool_source *src,
		   const struct etcd_pool *v, size_t n)
{
	char m[VIFMAC_MAC_STRLEN];

	for (size_t j = 0; j < n; j++) {
		const struct etcd_pool *o = &v[j];
		struct vifmac_mac first;
		bool found = false;

		if (strcmp(o->row.name, name) == 0)
			continue;
		if (src->kind == VIFMAC_POOL_RANGE && o->row.kind == VIFMAC_POOL_RANGE) {
			found = etcd_mac_cmp(&o->row.start, &src->end) <= 0 && etcd_mac_cmp(&o->row.end, &src->start) >= 0;
			first = etcd_mac_cmp(&o->row.start, &src->start) > 0 ? o->row.start : src->start;
		} else if (src->kind == VIFMAC_POOL_RANGE) {
			for (size_t i = 0; i < o->n_entries && !found; i++)
				if (etcd_mac_cmp(&o->entries[i].mac, &src->start) >= 0 && etcd_mac_cmp(&o->entries[i].mac, &src->end) <= 0) {
					first = o->entries[i].mac;
					found = true;
				}
		} else {
			for (size_t i = 0; i < src->n && !found; i++)
				if (pool_has(o, &src->entries[i].mac)) {
					first = src->entries[i].mac;
					found = true;
				}
		}
		if (found)
			return vifmac_set_error(e->ctx, -EEXIST, "%s overlaps pool %s: both hold %s", src->path,
						o->row.name, vifmac_mac_format(&first, m));
	}
	return 0;
}

static int snapshot_of(struct etcd_registry *e, struct etcd_snapshot *s, const char *const *kinds, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		struct vifmac_strbuf b = { 0 };

		vifmac_strbuf_add(&b, e->prefix);
		vifmac_strbuf_add(&b, kinds[i]);
		r = etcd_snapshot_add_prefix(s, &b);
	}
	return r;
}

int etcd_pool_import(struct vifmac_registry *reg, const char *name, const struct vifmac_pool_source *src,
		     int64_t now)
{
	static const char *const kinds[] = { "ps/", "pe/" };
	struct etcd_registry *e = priv(reg);
	struct etcd_snapshot s = { 0 };
	struct etcd_model m = { 0 };
	int r;

	etcd_call_begin(e);
	r = snapshot_of(e, &s, kinds, 2);
	if (r == 0)
		r = etcd_snapshot_read(e, &s);
	for (int attempt = 0; r == 0; attempt++) {
		struct etcd_pool *v = NULL, np = { 0 };
		size_t n = 0;
		json_object *ops, *answer = NULL;
		struct vifmac_strbuf b = { 0 };

		r = pools_load(e, &s, &v, &n);
		if (r == 0)
			r = overlap(e, name, src, v, n);
		if (r < 0) {
			pools_free(v, n);
			break;
		}
		vifmac_strscpy(np.row.name, name, sizeof(np.row.name));
		np.row.kind = src->kind;
		np.row.size = src->size;
		vifmac_strscpy(np.origin, src->path, sizeof(np.origin));
		np.imported = now;
		if (src->kind == VIFMAC_POOL_RANGE) {
			np.row.start = src->start;
			np.row.end = src->end;
			np.row.next = src->start;
			/* a range imported again keeps its high-water mark when its bounds are unchanged */
			for (size_t j = 0; j < n; j++)
				if (strcmp(v[j].row.name, name) == 0 && v[j].row.kind == VIFMAC_POOL_RANGE &&
				    vifmac_mac_equal(&v[j].row.start, &src->start) &&
				    vifmac_mac_equal(&v[j].row.end, &src->end))
					np.row.next = v[j].row.next;
		}
		pools_free(v, n);
		ops = json_object_new_array();
		if (!ops) {
			r = -ENOMEM;
			break;
		}
		etcd_key_pool(e, &b, "ps", name);
		json_object_array_add(ops, etcd_put_op(&b, etcd_pool_state_json(&np)));
		etcd_key_pool(e, &b, "pe", name);
		if (src->kind == VIFMAC_POOL_RANGE)
			json_object_array_add(ops, etcd_key_op("request_delete_range", &b));
		else
			json_object_array_add(ops, etcd_put_op(&b, etcd_pool_entries_json(src)));
		/* written only if no pool changed since the overlap check read them */
		r = etcd_commit(e, &s, &m, NULL, ops, &answer);
		if (r != 0) {
			r = r > 0 ? 0 : r;
			break;
		}
		r = etcd_snapshot_parse(e, &s, answer);
		json_object_put(answer);
		if (r == 0 && attempt >= 16)
			r = vifmac_set_error(e->ctx, -EBUSY, "registry %s: pools changed under the import %d times",
					     e->url, attempt + 1);
		if (r < 0)
			break;
	}
	etcd_snapshot_free(&s);
	free(m.v);
	return r;
}

int etcd_pool_remove(struct vifmac_registry *reg, const char *name)
{
	struct etcd_registry *e = priv(reg);
	json_object *txn = json_object_new_object(), *ops = json_object_new_array(), *answer = NULL, *res, *d, *n;
	struct vifmac_strbuf b = { 0 };
	int64_t deleted = 0;
	int r;

	if (!txn || !ops) {
		json_object_put(txn);
		json_object_put(ops);
		return -ENOMEM;
	}
	etcd_call_begin(e);
	/* the state and the entries; claims stay, and so does the history (as in SQLite) */
	etcd_key_pool(e, &b, "ps", name);
	json_object_array_add(ops, etcd_key_op("request_delete_range", &b));
	etcd_key_pool(e, &b, "pe", name);
	json_object_array_add(ops, etcd_key_op("request_delete_range", &b));
	json_object_object_add(txn, "success", ops);
	r = etcd_post(e, "/v3/kv/txn", txn, &answer);
	json_object_put(txn);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(answer, "responses", &res) && json_object_is_type(res, json_type_array) &&
	    json_object_array_length(res) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(res, 0), "response_delete_range", &d) &&
	    json_object_object_get_ex(d, "deleted", &n) && !etcd_json_int64(n, &deleted))
		deleted = 0;
	json_object_put(answer);
	return deleted > 0;
}

int etcd_pool_list(struct vifmac_registry *reg, const char *name, int64_t now, int64_t quarantine,
		   vifmac_pool_fn fn, void *data)
{
	static const char *const kinds[] = { "ps/", "pe/", "ph/", "m/" };
	struct etcd_registry *e = priv(reg);
	struct etcd_snapshot s = { 0 };
	struct etcd_pool *v = NULL;
	struct vifmac_record *recs = NULL;
	size_t n = 0, n_recs = 0, ph_len, m_len;
	int r, found = 0;

	etcd_call_begin(e);
	r = snapshot_of(e, &s, kinds, 4);
	if (r == 0)
		r = etcd_snapshot_read(e, &s);
	if (r == 0)
		r = pools_load(e, &s, &v, &n);
	ph_len = s.n_prefixes == 4 ? strlen(s.prefixes[2]) : 0;
	m_len = s.n_prefixes == 4 ? strlen(s.prefixes[3]) : 0;
	if (r == 0 && s.n_kvs) {
		recs = calloc(s.n_kvs, sizeof(*recs));
		if (!recs)
			r = -ENOMEM;
	}
	for (size_t i = 0; i < s.n_kvs && r == 0; i++)
		if (strncmp(s.kvs[i].key, s.prefixes[3], m_len) == 0)
			r = etcd_record_parse(e, s.kvs[i].key, s.kvs[i].value, &recs[n_recs++]);
	for (size_t j = 0; j < n && r == 0; j++) {
		struct vifmac_pool_info info = { 0 };
		const struct etcd_pool *p = &v[j];
		char source[80], hist[96];

		if (name && strcmp(p->row.name, name) != 0)
			continue;
		vifmac_strscpy(info.name, p->row.name, sizeof(info.name));
		info.kind = p->row.kind;
		vifmac_strscpy(info.origin, p->origin, sizeof(info.origin));
		info.imported = p->imported;
		info.size = p->row.size;
		snprintf(source, sizeof(source), "pool:%s", p->row.name);
		for (size_t i = 0; i < n_recs; i++) {
			if (recs[i].state == VIFMAC_STATE_ACTIVE && strcmp(recs[i].source, source) == 0)
				info.used++;
			if (recs[i].state == VIFMAC_STATE_RESERVED && pool_has(p, &recs[i].mac))
				info.reserved++;
		}
		snprintf(hist, sizeof(hist), "%s/", p->row.name);
		for (size_t i = 0; i < s.n_kvs && r == 0; i++) {
			struct etcd_history h;
			bool held = false;

			if (strncmp(s.kvs[i].key, s.prefixes[2], ph_len) != 0 ||
			    strncmp(s.kvs[i].key + ph_len, hist, strlen(hist)) != 0)
				continue;
			r = etcd_history_parse(e, &s.kvs[i], &h);
			for (size_t k = 0; r == 0 && k < n_recs && !held; k++)
				held = vifmac_mac_equal(&recs[k].mac, &h.mac);
			if (r == 0 && !held && h.released > now - quarantine)
				info.quarantined++;
		}
		found++;
		if (r == 0 && fn)
			r = fn(data, &info);
	}
	free(recs);
	pools_free(v, n);
	etcd_snapshot_free(&s);
	if (!r && name && !found)
		return vifmac_set_error(e->ctx, -ENOENT, "no pool \"%s\" in registry %s (vifmac pool list)", name,
					e->url);
	return r;
}

