/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd backend's pool allocation primitives: an attempt's view is one
 * revision (the pools' state, entries and history and the owner's claims
 * read in one txn, every later read at that revision), and a claim is one
 * txn that writes only if the pool's state key is still at the
 * mod_revision the view read and nothing the claim depends on changed.
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

struct pool_view {
	struct etcd_registry *e;
	int64_t rev;
	struct etcd_pool pools[MAX_POOLS];
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
	r = end ? etcd_range_at(v->e, b.data, end, v->rev, true, false, 0, &answer) : -ENOMEM;
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
		etcd_pool_dispose(&v->pools[i]);
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
		json_object_array_add(ops, etcd_key_op("request_range", &b));
		etcd_key_pool(e, &b, "pe", pools[i]);
		json_object_array_add(ops, etcd_key_op("request_range", &b));
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
			struct etcd_pool *p = &v->pools[i / 3];

			if (i % 3 == 0)
				r = etcd_pool_state_parse(e, &one.kvs[0], pools[i / 3], p);
			else if (i % 3 == 1 && p->found)
				r = etcd_pool_entries_parse(e, &one.kvs[0], p);
			else if (i % 3 == 2 && p->found)
				r = etcd_pool_history_load(e, &one, 0, one.n_kvs, p);
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

static struct etcd_pool *view_pool(struct pool_view *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->names[i], name) == 0)
			return &v->pools[i];
	return NULL;
}

int etcd_pool_row(struct vifmac_registry *reg, void *view, const char *name, struct vifmac_pool_row *ret_row)
{
	struct etcd_registry *e = priv(reg);
	struct etcd_pool *p = view_pool(view, name);

	if (!p || !p->found)
		return vifmac_set_error(e->ctx, -ENOENT, "the policy names pool \"%s\", which registry %s does not have"
					" (vifmac pool import %s FILE)", name, e->url, name);
	*ret_row = p->row;
	return 0;
}

/* The latest release of the owner's uuid (or domain name) + devid from @p. */
static int last_released(const struct etcd_pool *p, const struct vifmac_record *owner, bool by_name,
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

static bool in_quarantine(const struct etcd_pool *p, const struct vifmac_mac *mac, int64_t free_before)
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
		r = etcd_corrupt(e, key, "record");
	free(key);
	return r;
}

/*
 * The lowest address of the range from its high-water mark that no m/ key
 * holds at the view's revision: the m/ keys from there on are read in
 * pages (keys only), and the first gap is the answer.
 */
static int range_free(struct pool_view *v, const struct etcd_pool *p, struct vifmac_mac *ret_mac)
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
		r = b.oom ? -ENOMEM : etcd_range_at(e, b.data, last_end, v->rev, false, true, SCAN_LIMIT, &answer);
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
	struct etcd_pool *p = view_pool(v, pool->name);
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
	struct etcd_pool *p = view_pool(v, pool->name), next;
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

		r = end ? etcd_range_at(e, s.prefixes[0], end, v->rev, false, false, 0, &answer) : -ENOMEM;
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
			json_object_array_add(ops, etcd_put_op(&b, etcd_pool_state_json(&next)));
			etcd_key_pool_history(e, &b, pool->name, mac);
			json_object_array_add(ops, etcd_key_op("request_delete_range", &b));
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

