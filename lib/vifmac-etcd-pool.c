/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd backend's pools: import, list and remove on the ps/ pe/ ph/
 * keys (vifmac-etcd-keys.c), and the allocation primitives: an attempt's
 * view is one revision (the pools' state, entries and history and the
 * owner's claims read in one txn, every later read at that revision), and
 * a claim is one txn that writes only if the pool's state key is still at
 * the mod_revision the view read and nothing the claim depends on changed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vifmac-etcd.h"

#define MAX_POOLS 16
#define SCAN_LIMIT 128 /* keys of m/ read per request while looking for a free range address */

struct pool_entry {
	struct vifmac_mac mac;
	bool has_ip;
	struct vifmac_ipv4 ip;
	char note[128];
};

/* One pool as read at the view's revision. */
struct pool_read {
	bool found;
	struct vifmac_pool_row row;
	char origin[256];
	int64_t imported;
	int64_t mod;                 /* of ps/NAME: the pool's version */
	struct pool_entry *entries;  /* table and recycled, ordered by MAC */
	size_t n_entries;
	struct etcd_history *history; /* ph/NAME/, ordered by MAC */
	size_t n_history;
};

struct pool_view {
	struct etcd_registry *e;
	int64_t rev;
	struct pool_read pools[MAX_POOLS];
	char names[MAX_POOLS][64];
	size_t n;
	struct etcd_snapshot owner;  /* o/UUID/DEVID/ of the allocating vif, at rev */
	bool known_free;             /* free_mac's m/ range was read empty at rev */
	struct vifmac_mac free_mac;
};

static struct etcd_registry *priv(struct vifmac_registry *reg)
{
	return reg->priv;
}

static int cmp_mac(const struct vifmac_mac *a, const struct vifmac_mac *b)
{
	return memcmp(a->b, b->b, sizeof(a->b));
}

static int cmp_entries(const void *a, const void *b)
{
	return cmp_mac(&((const struct pool_entry *)a)->mac, &((const struct pool_entry *)b)->mac);
}

static int cmp_history(const void *a, const void *b)
{
	return cmp_mac(&((const struct etcd_history *)a)->mac, &((const struct etcd_history *)b)->mac);
}

static void pool_read_dispose(struct pool_read *p)
{
	free(p->entries);
	free(p->history);
	memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- values */

static json_object *state_json(const struct pool_read *p)
{
	json_object *o = json_object_new_object();
	char m[VIFMAC_MAC_STRLEN];

	if (!o)
		return NULL;
	json_object_object_add(o, "kind", json_object_new_string(vifmac_pool_kind_name(p->row.kind)));
	json_object_object_add(o, "origin", json_object_new_string(p->origin));
	json_object_object_add(o, "imported", json_object_new_int64(p->imported));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)p->row.size));
	if (p->row.kind == VIFMAC_POOL_RANGE) {
		json_object_object_add(o, "start", json_object_new_string(vifmac_mac_format(&p->row.start, m)));
		json_object_object_add(o, "end", json_object_new_string(vifmac_mac_format(&p->row.end, m)));
		json_object_object_add(o, "next", json_object_new_string(vifmac_mac_format(&p->row.next, m)));
	}
	return o;
}

static int corrupt(struct etcd_registry *e, const char *key, const char *what)
{
	return vifmac_set_error(e->ctx, -EIO, "registry %s is corrupt: key %s holds no %s", e->url, key, what);
}

static bool json_mac(json_object *o, const char *name, struct vifmac_mac *ret)
{
	char m[VIFMAC_MAC_STRLEN];

	return etcd_json_text(o, name, m, sizeof(m)) && vifmac_mac_parse(m, ret) == 0;
}

static int state_parse(struct etcd_registry *e, const struct etcd_kv *kv, const char *name, struct pool_read *p)
{
	json_object *o = json_tokener_parse(kv->value), *v;
	char kind[16];
	int64_t size = 0;
	bool ok;

	memset(p, 0, sizeof(*p));
	vifmac_strscpy(p->row.name, name, sizeof(p->row.name));
	ok = o && json_object_is_type(o, json_type_object) && etcd_json_text(o, "kind", kind, sizeof(kind)) &&
	     etcd_json_text(o, "origin", p->origin, sizeof(p->origin)) &&
	     json_object_object_get_ex(o, "imported", &v) && etcd_json_int64(v, &p->imported) &&
	     json_object_object_get_ex(o, "size", &v) && etcd_json_int64(v, &size) && size >= 0;
	if (ok) {
		p->row.size = (uint64_t)size;
		p->row.kind = strcmp(kind, "range") == 0 ? VIFMAC_POOL_RANGE :
			      strcmp(kind, "recycled") == 0 ? VIFMAC_POOL_RECYCLED :
							       VIFMAC_POOL_TABLE;
		if (p->row.kind == VIFMAC_POOL_RANGE)
			ok = json_mac(o, "start", &p->row.start) && json_mac(o, "end", &p->row.end) &&
			     json_mac(o, "next", &p->row.next);
	}
	json_object_put(o);
	if (!ok)
		return corrupt(e, kv->key, "pool state");
	p->found = true;
	p->mod = kv->mod;
	return 0;
}

static json_object *entries_json(const struct vifmac_pool_source *src)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	char m[VIFMAC_MAC_STRLEN], ip[VIFMAC_IPV4_STRLEN];

	if (!o || !list) {
		json_object_put(o);
		json_object_put(list);
		return NULL;
	}
	for (size_t i = 0; i < src->n; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "mac", json_object_new_string(vifmac_mac_format(&src->entries[i].mac, m)));
		if (src->kind == VIFMAC_POOL_TABLE)
			json_object_object_add(x, "ip",
					       json_object_new_string(vifmac_ipv4_format(&src->entries[i].ip, ip)));
		json_object_object_add(x, "note", json_object_new_string(src->entries[i].note));
		json_object_array_add(list, x);
	}
	json_object_object_add(o, "entries", list);
	return o;
}

static int entries_parse(struct etcd_registry *e, const struct etcd_kv *kv, struct pool_read *p)
{
	json_object *o = json_tokener_parse(kv->value), *list = NULL;
	size_t n = 0;
	bool ok = o && json_object_object_get_ex(o, "entries", &list) && json_object_is_type(list, json_type_array);

	if (ok) {
		n = json_object_array_length(list);
		p->entries = calloc(n ? n : 1, sizeof(*p->entries));
		if (!p->entries) {
			json_object_put(o);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; ok && i < n; i++) {
		json_object *x = json_object_array_get_idx(list, i);
		struct pool_entry *pe = &p->entries[i];
		char ip[VIFMAC_IPV4_STRLEN];

		ok = json_object_is_type(x, json_type_object) && json_mac(x, "mac", &pe->mac) &&
		     etcd_json_text(x, "note", pe->note, sizeof(pe->note));
		if (ok && etcd_json_text(x, "ip", ip, sizeof(ip)))
			pe->has_ip = vifmac_ipv4_parse(ip, &pe->ip) == 0;
	}
	json_object_put(o);
	if (!ok)
		return corrupt(e, kv->key, "pool entries");
	p->n_entries = n;
	qsort(p->entries, n, sizeof(*p->entries), cmp_entries);
	return 0;
}

static int history_load(struct etcd_registry *e, const struct etcd_snapshot *s, size_t from, size_t to,
			struct pool_read *p)
{
	p->history = calloc(to > from ? to - from : 1, sizeof(*p->history));
	if (!p->history)
		return -ENOMEM;
	for (size_t i = from; i < to; i++) {
		int r = etcd_history_parse(e, &s->kvs[i], &p->history[p->n_history]);

		if (r < 0)
			return r;
		p->n_history++;
	}
	qsort(p->history, p->n_history, sizeof(*p->history), cmp_history);
	return 0;
}

/* ---------------------------------------------------------------- requests */

static json_object *key_request(const char *key)
{
	json_object *r = json_object_new_object();

	if (r)
		json_object_object_add(r, "key", etcd_b64_string(key));
	return r;
}

static json_object *key_op(const char *kind, struct vifmac_strbuf *b)
{
	json_object *o = b->oom ? NULL : etcd_op(kind, key_request(b->data));

	free(b->data);
	memset(b, 0, sizeof(*b));
	return o;
}

static json_object *put_op(struct vifmac_strbuf *b, json_object *value)
{
	json_object *p = json_object_new_object();

	if (p && !b->oom && value) {
		json_object_object_add(p, "key", etcd_b64_string(b->data));
		json_object_object_add(p, "value",
				       etcd_b64_string(json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN)));
	}
	json_object_put(value);
	free(b->data);
	memset(b, 0, sizeof(*b));
	return p ? etcd_op("request_put", p) : NULL;
}

/* POST /v3/kv/range of [@key, @range_end) at @rev (0: the latest), with @extra fields. */
static int range_at(struct etcd_registry *e, const char *key, const char *range_end, int64_t rev, bool count_only,
		    bool keys_only, int limit, json_object **ret)
{
	json_object *req = json_object_new_object();
	int r;

	if (!req)
		return -ENOMEM;
	json_object_object_add(req, "key", etcd_b64_string(key));
	json_object_object_add(req, "range_end", etcd_b64_string(range_end));
	if (rev > 0)
		json_object_object_add(req, "revision", json_object_new_int64(rev));
	if (count_only)
		json_object_object_add(req, "count_only", json_object_new_boolean(1));
	if (keys_only)
		json_object_object_add(req, "keys_only", json_object_new_boolean(1));
	if (limit > 0)
		json_object_object_add(req, "limit", json_object_new_int64(limit));
	r = etcd_post(e, "/v3/kv/range", req, ret);
	json_object_put(req);
	return r;
}

/* Whether any record (any scope, claim or reservation) holds @mac at the view's revision: 1, 0, -errno. */
static int held_at(struct pool_view *v, const struct vifmac_mac *mac)
{
	struct vifmac_strbuf b = { 0 };
	json_object *answer = NULL, *c;
	char *end;
	int64_t count = 0;
	int r;

	etcd_key_mac_prefix(v->e, &b, mac);
	end = b.oom ? NULL : etcd_prefix_end(b.data);
	r = end ? range_at(v->e, b.data, end, v->rev, true, false, 0, &answer) : -ENOMEM;
	free(b.data);
	free(end);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(answer, "count", &c) && !etcd_json_int64(c, &count))
		r = vifmac_set_error(v->e->ctx, -EPROTO, "registry %s: a count that is not a number", v->e->url);
	json_object_put(answer);
	if (r < 0)
		return r;
	if (count == 0) {
		v->known_free = true;
		v->free_mac = *mac;
	}
	return count > 0;
}

/* @mac into @ret_mac when nobody holds it at the view's revision: 1; 0 when held; -errno. */
static int take_if_free(struct pool_view *v, const struct vifmac_mac *mac, struct vifmac_mac *ret_mac)
{
	int r = held_at(v, mac);

	if (r == 0)
		*ret_mac = *mac;
	return r < 0 ? r : !r;
}

/* ---------------------------------------------------------------- the view */

static void view_free(struct pool_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		pool_read_dispose(&v->pools[i]);
	etcd_snapshot_free(&v->owner);
	free(v);
}

/*
 * Reads, in one txn: for each pool ps/NAME, pe/NAME and ph/NAME/, then the
 * owner's o/UUID/DEVID/. The answer's revision is the view's.
 */
int etcd_pool_begin(struct vifmac_registry *reg, const char *const *pools, size_t n,
		    const struct vifmac_record *owner, void **ret_view)
{
	struct etcd_registry *e = priv(reg);
	struct pool_view *v = calloc(1, sizeof(*v));
	json_object *txn = json_object_new_object(), *ops = json_object_new_array(), *answer = NULL, *responses;
	struct vifmac_strbuf b = { 0 };
	int r = 0;

	if (!v || !txn || !ops || n > MAX_POOLS) {
		free(v);
		json_object_put(txn);
		json_object_put(ops);
		return n > MAX_POOLS ? -EINVAL : -ENOMEM;
	}
	etcd_call_begin(e);
	v->e = e;
	v->n = n;
	for (size_t i = 0; i < n; i++) {
		vifmac_strscpy(v->names[i], pools[i], sizeof(v->names[i]));
		etcd_key_pool(e, &b, "ps", pools[i]);
		json_object_array_add(ops, key_op("request_range", &b));
		etcd_key_pool(e, &b, "pe", pools[i]);
		json_object_array_add(ops, key_op("request_range", &b));
		etcd_key_pool_history(e, &b, pools[i], NULL);
		json_object_array_add(ops, b.oom ? NULL : etcd_op("request_range", etcd_range_request(b.data)));
		free(b.data);
		memset(&b, 0, sizeof(b));
	}
	etcd_key_owner_prefix(e, &b, owner->uuid, owner->devid);
	r = etcd_snapshot_add_prefix(&v->owner, &b);
	if (r == 0) {
		json_object_array_add(ops, etcd_op("request_range", etcd_range_request(v->owner.prefixes[0])));
		json_object_object_add(txn, "success", ops);
		r = etcd_post(e, "/v3/kv/txn", txn, &answer);
	} else {
		json_object_put(ops);
	}
	json_object_put(txn);
	if (r == 0)
		r = etcd_answer_revision(e, answer, &v->rev);
	if (r == 0 && (!json_object_object_get_ex(answer, "responses", &responses) ||
		       !json_object_is_type(responses, json_type_array) ||
		       json_object_array_length(responses) != 3 * n + 1))
		r = vifmac_set_error(e->ctx, -EPROTO, "registry %s: an answer without the ranges asked for", e->url);
	for (size_t i = 0; r == 0 && i <= 3 * n; i++) {
		struct etcd_snapshot one = { 0 };
		json_object *rr;

		if (!json_object_object_get_ex(json_object_array_get_idx(responses, i), "response_range", &rr)) {
			r = vifmac_set_error(e->ctx, -EPROTO, "registry %s: an answer without its range", e->url);
			break;
		}
		r = etcd_snapshot_add_kvs(e, i == 3 * n ? &v->owner : &one, rr);
		if (r == 0 && i < 3 * n && one.n_kvs) {
			struct pool_read *p = &v->pools[i / 3];

			if (i % 3 == 0)
				r = state_parse(e, &one.kvs[0], pools[i / 3], p);
			else if (i % 3 == 1 && p->found)
				r = entries_parse(e, &one.kvs[0], p);
			else if (i % 3 == 2 && p->found)
				r = history_load(e, &one, 0, one.n_kvs, p);
		}
		etcd_snapshot_free(&one);
	}
	v->owner.rev = v->rev;
	json_object_put(answer);
	if (r < 0) {
		view_free(v);
		return r;
	}
	*ret_view = v;
	return 0;
}

int etcd_pool_end(struct vifmac_registry *reg, void *view, bool commit)
{
	view_free(view);
	return 0;
}

static struct pool_read *view_pool(struct pool_view *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->names[i], name) == 0)
			return &v->pools[i];
	return NULL;
}

int etcd_pool_row(struct vifmac_registry *reg, void *view, const char *name, struct vifmac_pool_row *ret_row)
{
	struct etcd_registry *e = priv(reg);
	struct pool_read *p = view_pool(view, name);

	if (!p || !p->found)
		return vifmac_set_error(e->ctx, -ENOENT, "the policy names pool \"%s\", which registry %s does not have"
					" (vifmac pool import %s FILE)", name, e->url, name);
	*ret_row = p->row;
	return 0;
}

/* The latest release of the owner's uuid (or domain name) + devid from @p. */
static int last_released(const struct pool_read *p, const struct vifmac_record *owner, bool by_name,
			 struct vifmac_mac *ret_mac)
{
	const struct etcd_history *best = NULL;

	for (size_t i = 0; i < p->n_history; i++) {
		const struct etcd_history *h = &p->history[i];

		if (h->devid != owner->devid ||
		    (by_name ? strcmp(h->domain, owner->domain) != 0 : strcasecmp(h->uuid, owner->uuid) != 0))
			continue;
		if (!best || h->released > best->released)
			best = h;
	}
	if (best)
		*ret_mac = best->mac;
	return best != NULL;
}

static bool in_quarantine(const struct pool_read *p, const struct vifmac_mac *mac, int64_t free_before)
{
	for (size_t i = 0; i < p->n_history; i++)
		if (vifmac_mac_equal(&p->history[i].mac, mac) && p->history[i].released > free_before)
			return true;
	return false;
}

/* The MAC of an m/ key ("<prefix>m/MAC/SCOPE") of a keys_only answer's @i-th key-value. */
static int held_key_mac(struct etcd_registry *e, json_object *kvs, size_t i, struct vifmac_mac *ret)
{
	size_t skip = strlen(e->prefix) + 2;
	char text[VIFMAC_MAC_STRLEN];
	json_object *k;
	char *key;
	int r = 0;

	if (!json_object_object_get_ex(json_object_array_get_idx(kvs, i), "key", &k) ||
	    !json_object_is_type(k, json_type_string) || !(key = vifmac_base64_decode(json_object_get_string(k), NULL)))
		return vifmac_set_error(e->ctx, -EPROTO, "registry %s: a key that is not base64", e->url);
	vifmac_strscpy(text, strlen(key) > skip ? key + skip : "", sizeof(text));
	if (vifmac_mac_parse(text, ret) < 0)
		r = corrupt(e, key, "record");
	free(key);
	return r;
}

/*
 * The lowest address of the range from its high-water mark that no m/ key
 * holds at the view's revision: the m/ keys from there on are read in
 * pages (keys only), and the first gap is the answer.
 */
static int range_free(struct pool_view *v, const struct pool_read *p, struct vifmac_mac *ret_mac)
{
	struct etcd_registry *e = v->e;
	uint64_t cur = vifmac_mac_to_u64(&p->row.next), end = vifmac_mac_to_u64(&p->row.end);
	struct vifmac_strbuf lastb = { 0 };
	char *last_end;
	bool gap = false, more = true;
	int r = 0;

	etcd_key_mac_prefix(e, &lastb, &p->row.end);
	last_end = lastb.oom ? NULL : etcd_prefix_end(lastb.data);
	free(lastb.data);
	if (!last_end)
		return -ENOMEM;
	while (cur <= end && more && !gap) {
		struct vifmac_strbuf b = { 0 };
		struct vifmac_mac m;
		json_object *answer = NULL, *kvs, *mo;
		size_t n;

		vifmac_mac_from_u64(cur, &m);
		etcd_key_mac_prefix(e, &b, &m);
		r = b.oom ? -ENOMEM : range_at(e, b.data, last_end, v->rev, false, true, SCAN_LIMIT, &answer);
		free(b.data);
		if (r < 0)
			break;
		n = json_object_object_get_ex(answer, "kvs", &kvs) && json_object_is_type(kvs, json_type_array) ?
			    json_object_array_length(kvs) : 0;
		for (size_t i = 0; i < n && !gap && r == 0; i++) {
			struct vifmac_mac held;

			r = held_key_mac(e, kvs, i, &held);
			if (r < 0)
				break;
			if (vifmac_mac_to_u64(&held) > cur)
				gap = true; /* cur is free */
			else if (vifmac_mac_to_u64(&held) == cur)
				cur++; /* held: a reservation, or a claim made outside the pool */
		}
		more = json_object_object_get_ex(answer, "more", &mo) && json_object_is_type(mo, json_type_boolean) &&
		       json_object_get_boolean(mo);
		json_object_put(answer);
	}
	free(last_end);
	if (r < 0 || cur > end)
		return r;
	vifmac_mac_from_u64(cur, ret_mac);
	v->known_free = true;
	v->free_mac = *ret_mac;
	return 1;
}

int etcd_pool_find(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
		   enum vifmac_pool_query q, const struct vifmac_pool_ask *ask, struct vifmac_mac *ret_mac)
{
	struct pool_view *v = view;
	struct etcd_registry *e = v->e;
	struct pool_read *p = view_pool(v, pool->name);
	int r;

	if (!p)
		return -ENOENT;
	switch (q) {
	case VIFMAC_POOL_HELD_NOW:
		for (size_t i = 0; i < v->owner.n_kvs; i++) {
			struct vifmac_record rec;
			char source[80];

			r = etcd_record_parse(e, v->owner.kvs[i].key, v->owner.kvs[i].value, &rec);
			if (r < 0)
				return r;
			snprintf(source, sizeof(source), "pool:%s", pool->name);
			if (rec.state == VIFMAC_STATE_ACTIVE && strcmp(rec.source, source) == 0) {
				*ret_mac = rec.mac;
				return 1;
			}
		}
		return 0;
	case VIFMAC_POOL_LAST_BY_UUID:
	case VIFMAC_POOL_LAST_BY_NAME:
		return last_released(p, ask->owner, q == VIFMAC_POOL_LAST_BY_NAME, ret_mac);
	case VIFMAC_POOL_TABLE_ENTRY:
		for (size_t i = 0; ask->ip && i < p->n_entries; i++)
			if (p->entries[i].has_ip && memcmp(p->entries[i].ip.b, ask->ip->b, 4) == 0) {
				*ret_mac = p->entries[i].mac;
				return 1;
			}
		return 0;
	case VIFMAC_POOL_RELEASED_FREE:
		for (size_t i = 0; i < p->n_history; i++)
			if (p->history[i].released <= ask->free_before &&
			    (r = take_if_free(v, &p->history[i].mac, ret_mac)) != 0)
				return r;
		return 0;
	case VIFMAC_POOL_RECYCLED_FREE:
		for (size_t i = 0; i < p->n_entries; i++)
			if (!in_quarantine(p, &p->entries[i].mac, ask->free_before) &&
			    (r = take_if_free(v, &p->entries[i].mac, ret_mac)) != 0)
				return r;
		return 0;
	case VIFMAC_POOL_RANGE_FREE:
		return range_free(v, p, ret_mac);
	}
	return -EINVAL;
}

/*
 * One txn: the claim (planned on m/MAC/ and the owner's claims, both at the
 * view's revision, as every claim is), ps/NAME rewritten (the high-water
 * mark moved when @advance) under the compare that it is still at the
 * view's mod_revision, and ph/NAME/MAC deleted.
 */
int etcd_pool_claim(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
		    const struct vifmac_record *owner, const struct vifmac_mac *mac, bool advance,
		    struct vifmac_record *ret_rec, struct vifmac_record *ret_holder)
{
	struct pool_view *v = view;
	struct etcd_registry *e = v->e;
	struct pool_read *p = view_pool(v, pool->name), next;
	struct etcd_snapshot s = { 0 };
	struct etcd_model m = { 0 };
	struct vifmac_record rec = *owner, holder;
	struct vifmac_strbuf b = { 0 };
	json_object *compares = NULL, *ops = NULL, *answer = NULL;
	int r;

	if (!p)
		return -ENOENT;
	rec.mac = *mac;
	vifmac_pool_source_set(&rec, pool->name);
	/* the snapshot: m/MAC/ (read now, at the view's revision, unless just seen empty) and the owner's claims */
	etcd_key_mac_prefix(e, &b, mac);
	r = etcd_snapshot_add_prefix(&s, &b); /* takes b's text */
	memset(&b, 0, sizeof(b));
	if (r == 0)
		r = etcd_snapshot_set_prefixes(&s, (const char *const *)v->owner.prefixes, 1);
	s.rev = v->rev;
	if (r == 0 && !(v->known_free && vifmac_mac_equal(&v->free_mac, mac))) {
		char *end = etcd_prefix_end(s.prefixes[0]);

		r = end ? range_at(e, s.prefixes[0], end, v->rev, false, false, 0, &answer) : -ENOMEM;
		free(end);
		if (r == 0)
			r = etcd_snapshot_add_kvs(e, &s, answer);
		json_object_put(answer);
		answer = NULL;
	}
	for (size_t i = 0; r == 0 && i < v->owner.n_kvs; i++) {
		struct etcd_kv *kv = realloc(s.kvs, (s.n_kvs + 1) * sizeof(*kv));

		if (!kv) {
			r = -ENOMEM;
			break;
		}
		s.kvs = kv;
		kv[s.n_kvs].key = strdup(v->owner.kvs[i].key);
		kv[s.n_kvs].value = strdup(v->owner.kvs[i].value);
		kv[s.n_kvs].mod = v->owner.kvs[i].mod;
		if (!kv[s.n_kvs].key || !kv[s.n_kvs].value) {
			free(kv[s.n_kvs].key);
			free(kv[s.n_kvs].value);
			r = -ENOMEM;
			break;
		}
		s.n_kvs++;
	}
	if (r == 0)
		r = etcd_model_load(e, &m, &s);
	if (r == 0) {
		r = etcd_plan_one(&m, &rec, VIFMAC_WRITE_CLAIM, &holder);
		if (r == -EEXIST && ret_holder)
			*ret_holder = holder;
	}
	if (r == 0) {
		compares = json_object_new_array();
		ops = json_object_new_array();
		next = *p;
		if (advance)
			vifmac_mac_from_u64(vifmac_mac_to_u64(mac) + 1, &next.row.next);
		etcd_key_pool(e, &b, "ps", pool->name);
		if (!compares || !ops || b.oom) {
			r = -ENOMEM;
		} else {
			json_object_array_add(compares, etcd_compare_mod(b.data, NULL, "EQUAL", p->mod));
			json_object_array_add(ops, put_op(&b, state_json(&next)));
			etcd_key_pool_history(e, &b, pool->name, mac);
			json_object_array_add(ops, key_op("request_delete_range", &b));
			r = etcd_commit(e, &s, &m, compares, ops, NULL);
			compares = ops = NULL;
			/* 1 written; 0 another writer was first: the pool or the address moved on */
			r = r == 1 ? 0 : r == 0 ? -EAGAIN : r;
		}
		json_object_put(compares);
		json_object_put(ops);
		free(b.data);
	}
	free(m.v);
	etcd_snapshot_free(&s);
	if (r == -ENOMEM)
		return vifmac_set_error(e->ctx, r, "registry %s: out of memory", e->url);
	if (r == 0) {
		*ret_rec = rec;
		if (advance)
			p->row.next = next.row.next;
	}
	return r;
}

/* ---------------------------------------------------------------- import, remove, list */

/* The pools of a snapshot of ps/ and pe/ (in that order of ranges), by name; @ret owned by the caller. */
static int pools_load(struct etcd_registry *e, const struct etcd_snapshot *s, struct pool_read **ret, size_t *ret_n)
{
	size_t ps_len = strlen(s->prefixes[0]), pe_len = strlen(s->prefixes[1]), n = 0;
	struct pool_read *v = calloc(s->n_kvs ? s->n_kvs : 1, sizeof(*v));
	int r = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_kvs && r == 0; i++)
		if (strncmp(s->kvs[i].key, s->prefixes[0], ps_len) == 0)
			r = state_parse(e, &s->kvs[i], s->kvs[i].key + ps_len, &v[n++]);
	for (size_t i = 0; i < s->n_kvs && r == 0; i++) {
		if (strncmp(s->kvs[i].key, s->prefixes[1], pe_len) != 0)
			continue;
		for (size_t j = 0; j < n; j++)
			if (strcmp(v[j].row.name, s->kvs[i].key + pe_len) == 0 && !v[j].entries)
				r = entries_parse(e, &s->kvs[i], &v[j]);
	}
	if (r < 0) {
		for (size_t j = 0; j < n; j++)
			pool_read_dispose(&v[j]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static void pools_free(struct pool_read *v, size_t n)
{
	for (size_t j = 0; v && j < n; j++)
		pool_read_dispose(&v[j]);
	free(v);
}

static bool pool_has(const struct pool_read *p, const struct vifmac_mac *mac)
{
	if (p->row.kind == VIFMAC_POOL_RANGE)
		return cmp_mac(mac, &p->row.start) >= 0 && cmp_mac(mac, &p->row.end) <= 0;
	for (size_t i = 0; i < p->n_entries; i++)
		if (vifmac_mac_equal(&p->entries[i].mac, mac))
			return true;
	return false;
}

/* The first MAC of @src another pool of @v holds: -EEXIST naming it, or 0. */
static int overlap(struct etcd_registry *e, const char *name, const struct vifmac_pool_source *src,
		   const struct pool_read *v, size_t n)
{
	char m[VIFMAC_MAC_STRLEN];

	for (size_t j = 0; j < n; j++) {
		const struct pool_read *o = &v[j];
		struct vifmac_mac first;
		bool found = false;

		if (strcmp(o->row.name, name) == 0)
			continue;
		if (src->kind == VIFMAC_POOL_RANGE && o->row.kind == VIFMAC_POOL_RANGE) {
			found = cmp_mac(&o->row.start, &src->end) <= 0 && cmp_mac(&o->row.end, &src->start) >= 0;
			first = cmp_mac(&o->row.start, &src->start) > 0 ? o->row.start : src->start;
		} else if (src->kind == VIFMAC_POOL_RANGE) {
			for (size_t i = 0; i < o->n_entries && !found; i++)
				if (cmp_mac(&o->entries[i].mac, &src->start) >= 0 && cmp_mac(&o->entries[i].mac, &src->end) <= 0) {
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
		struct pool_read *v = NULL, np = { 0 };
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
		json_object_array_add(ops, put_op(&b, state_json(&np)));
		etcd_key_pool(e, &b, "pe", name);
		if (src->kind == VIFMAC_POOL_RANGE)
			json_object_array_add(ops, key_op("request_delete_range", &b));
		else
			json_object_array_add(ops, put_op(&b, entries_json(src)));
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
	json_object_array_add(ops, key_op("request_delete_range", &b));
	etcd_key_pool(e, &b, "pe", name);
	json_object_array_add(ops, key_op("request_delete_range", &b));
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
	struct pool_read *v = NULL;
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
		const struct pool_read *p = &v[j];
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
