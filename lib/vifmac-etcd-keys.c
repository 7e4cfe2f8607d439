/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd backend's key layout and values: which keys a record and a pool
 * are stored under, and records, pools and released addresses as JSON. Keys, under the prefix (etcd_prefix);
 * every value is the record as JSON, so that each index answers a lookup
 * by itself:
 *   m/MAC/SCOPE                   the record
 *   o/UUID/DEVID/MAC/SCOPE        the owner index (active claims; uuid lower case)
 *   d/DOMAIN/MAC/SCOPE            the domain index
 *   i/IP/MAC/SCOPE                the address index, one per address of ip=
 * and the operator's pools (vifmac-etcd-pool.c):
 *   ps/NAME                       the pool's state: kind, origin, size, range and its
 *                                 high-water mark; every allocation from the pool
 *                                 rewrites it, so its mod_revision is the pool's version
 *   pe/NAME                       a table's or recycled list's entries, one JSON list
 *   ph/NAME/MAC                   an address released from the pool: when, and its last
 *                                 owner (uuid, devid, domain) -- quarantine and stickiness
 * Components are %-escaped ('/', '%', control bytes, space). A record and
 * its index keys are always written by the same transaction, so they share
 * one mod_revision.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-etcd.h"

/* ---------------------------------------------------------------- keys */

/* The full key "<prefix><kind>/<a>/<b>/..." of a record's key kind, for @rec. */
void etcd_key_record(struct etcd_registry *e, struct vifmac_strbuf *b, const struct vifmac_record *rec)
{
	char mac[VIFMAC_MAC_STRLEN];

	vifmac_strbuf_add(b, e->prefix);
	vifmac_strbuf_add(b, "m/");
	vifmac_strbuf_add(b, vifmac_mac_format(&rec->mac, mac));
	vifmac_strbuf_add(b, "/");
	vifmac_strbuf_add_escaped(b, rec->scope_key);
}

/* The "MAC/SCOPE" tail every key of a record ends with. */
static void key_tail(struct vifmac_strbuf *b, const struct vifmac_record *rec)
{
	char mac[VIFMAC_MAC_STRLEN];

	vifmac_strbuf_add(b, "/");
	vifmac_strbuf_add(b, vifmac_mac_format(&rec->mac, mac));
	vifmac_strbuf_add(b, "/");
	vifmac_strbuf_add_escaped(b, rec->scope_key);
}

static void add_lower_escaped(struct vifmac_strbuf *b, const char *s)
{
	char low[VIFMAC_UUID_STRLEN + 64];
	size_t i;

	for (i = 0; s[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = '\0';
	vifmac_strbuf_add_escaped(b, low);
}

/* Prefix "<prefix>o/UUID/" (devid < 0) or "<prefix>o/UUID/DEVID/" of an owner's claims. */
void etcd_key_owner_prefix(struct etcd_registry *e, struct vifmac_strbuf *b, const char *uuid, int devid)
{
	char d[16];

	vifmac_strbuf_add(b, e->prefix);
	vifmac_strbuf_add(b, "o/");
	add_lower_escaped(b, uuid);
	vifmac_strbuf_add(b, "/");
	if (devid >= 0) {
		snprintf(d, sizeof(d), "%d/", devid);
		vifmac_strbuf_add(b, d);
	}
}

void etcd_key_mac_prefix(struct etcd_registry *e, struct vifmac_strbuf *b, const struct vifmac_mac *mac)
{
	char m[VIFMAC_MAC_STRLEN];

	vifmac_strbuf_add(b, e->prefix);
	vifmac_strbuf_add(b, "m/");
	vifmac_strbuf_add(b, vifmac_mac_format(mac, m));
	vifmac_strbuf_add(b, "/");
}

void etcd_keys_add(struct etcd_keys *k, struct vifmac_strbuf *b)
{
	if (b->oom || k->oom) {
		k->oom = true;
		free(b->data);
		return;
	}
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], b->data) == 0) {
			free(b->data);
			return;
		}
	if (k->n == k->size) {
		size_t size = k->size ? 2 * k->size : 8;
		char **v = realloc(k->v, size * sizeof(*v));

		if (!v) {
			k->oom = true;
			free(b->data);
			return;
		}
		k->v = v;
		k->size = size;
	}
	k->v[k->n++] = b->data;
}

void etcd_keys_free(struct etcd_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

struct ip_keys {
	struct etcd_registry *e;
	struct etcd_keys *keys;
	const struct vifmac_record *rec;
};

static int add_ip_key(void *data, const char *ip)
{
	struct ip_keys *x = data;
	struct vifmac_strbuf b = { 0 };

	vifmac_strbuf_add(&b, x->e->prefix);
	vifmac_strbuf_add(&b, "i/");
	vifmac_strbuf_add_escaped(&b, ip);
	key_tail(&b, x->rec);
	etcd_keys_add(x->keys, &b);
	return 0;
}

/* Every key @rec is stored under: the record, then its indexes. */
void etcd_record_keys(struct etcd_registry *e, const struct vifmac_record *rec, struct etcd_keys *k)
{
	struct vifmac_strbuf b = { 0 };
	struct ip_keys x = { .e = e, .keys = k, .rec = rec };
	char d[16];

	etcd_key_record(e, &b, rec);
	etcd_keys_add(k, &b);
	if (rec->state == VIFMAC_STATE_ACTIVE) {
		memset(&b, 0, sizeof(b));
		vifmac_strbuf_add(&b, e->prefix);
		vifmac_strbuf_add(&b, "o/");
		add_lower_escaped(&b, rec->uuid);
		snprintf(d, sizeof(d), "/%d", rec->devid);
		vifmac_strbuf_add(&b, d);
		key_tail(&b, rec);
		etcd_keys_add(k, &b);
	}
	if (rec->domain[0]) {
		memset(&b, 0, sizeof(b));
		vifmac_strbuf_add(&b, e->prefix);
		vifmac_strbuf_add(&b, "d/");
		vifmac_strbuf_add_escaped(&b, rec->domain);
		key_tail(&b, rec);
		etcd_keys_add(k, &b);
	}
	vifmac_registry_ip_tokens(rec->ip, add_ip_key, &x);
}

/* ---------------------------------------------------------------- records as JSON */

json_object *etcd_record_json(const struct vifmac_record *rec)
{
	json_object *o = json_object_new_object();
	char mac[VIFMAC_MAC_STRLEN];

	if (!o)
		return NULL;
	json_object_object_add(o, "mac", json_object_new_string(vifmac_mac_format(&rec->mac, mac)));
	json_object_object_add(o, "scope", json_object_new_string(rec->scope_key));
	json_object_object_add(o, "state",
			       json_object_new_string(rec->state == VIFMAC_STATE_RESERVED ? "reserved" : "active"));
	json_object_object_add(o, "domain", json_object_new_string(rec->domain));
	json_object_object_add(o, "uuid", json_object_new_string(rec->uuid));
	json_object_object_add(o, "devid", json_object_new_int(rec->devid));
	json_object_object_add(o, "bridge", json_object_new_string(rec->bridge));
	json_object_object_add(o, "ip", json_object_new_string(rec->ip));
	json_object_object_add(o, "host", json_object_new_string(rec->host));
	json_object_object_add(o, "created", json_object_new_int64(rec->created));
	json_object_object_add(o, "updated", json_object_new_int64(rec->updated));
	json_object_object_add(o, "note", json_object_new_string(rec->note));
	json_object_object_add(o, "source", json_object_new_string(rec->source));
	return o;
}

bool etcd_json_text(json_object *o, const char *name, char *buf, size_t size)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return false;
	return vifmac_strscpy(buf, json_object_get_string(v), size);
}

int etcd_record_parse(struct etcd_registry *e, const char *key, const char *value, struct vifmac_record *rec)
{
	json_object *o = json_tokener_parse(value), *v;
	char mac[VIFMAC_MAC_STRLEN], state[16];
	bool ok;

	vifmac_record_init(rec);
	ok = o && json_object_is_type(o, json_type_object) && etcd_json_text(o, "mac", mac, sizeof(mac)) &&
	     vifmac_mac_parse(mac, &rec->mac) == 0 && etcd_json_text(o, "scope", rec->scope_key, sizeof(rec->scope_key)) &&
	     rec->scope_key[0] && etcd_json_text(o, "state", state, sizeof(state)) &&
	     etcd_json_text(o, "domain", rec->domain, sizeof(rec->domain)) &&
	     etcd_json_text(o, "uuid", rec->uuid, sizeof(rec->uuid)) &&
	     etcd_json_text(o, "bridge", rec->bridge, sizeof(rec->bridge)) && etcd_json_text(o, "ip", rec->ip, sizeof(rec->ip)) &&
	     etcd_json_text(o, "host", rec->host, sizeof(rec->host)) && etcd_json_text(o, "note", rec->note, sizeof(rec->note)) &&
	     etcd_json_text(o, "source", rec->source, sizeof(rec->source)) && json_object_object_get_ex(o, "devid", &v) &&
	     json_object_is_type(v, json_type_int);
	if (ok) {
		rec->devid = json_object_get_int(v);
		rec->state = strcmp(state, "reserved") == 0 ? VIFMAC_STATE_RESERVED : VIFMAC_STATE_ACTIVE;
		ok = strcmp(state, "reserved") == 0 || strcmp(state, "active") == 0;
	}
	if (ok && json_object_object_get_ex(o, "created", &v))
		ok = etcd_json_int64(v, &rec->created);
	if (ok && json_object_object_get_ex(o, "updated", &v))
		ok = etcd_json_int64(v, &rec->updated);
	json_object_put(o);
	if (!ok)
		return vifmac_set_error(e->ctx, -EIO, "registry %s is corrupt: key %s holds no vifmac record", e->url,
					key);
	return 0;
}

/* ---------------------------------------------------------------- pools */

void etcd_key_pool(struct etcd_registry *e, struct vifmac_strbuf *b, const char *kind, const char *name)
{
	vifmac_strbuf_add(b, e->prefix);
	vifmac_strbuf_add(b, kind);
	vifmac_strbuf_add(b, "/");
	vifmac_strbuf_add_escaped(b, name);
}

void etcd_key_pool_history(struct etcd_registry *e, struct vifmac_strbuf *b, const char *name,
			   const struct vifmac_mac *mac)
{
	char m[VIFMAC_MAC_STRLEN];

	etcd_key_pool(e, b, "ph", name);
	vifmac_strbuf_add(b, "/");
	if (mac)
		vifmac_strbuf_add(b, vifmac_mac_format(mac, m));
}

json_object *etcd_history_json(const struct vifmac_record *rec, int64_t released)
{
	json_object *o = json_object_new_object();
	char mac[VIFMAC_MAC_STRLEN];

	if (!o)
		return NULL;
	json_object_object_add(o, "mac", json_object_new_string(vifmac_mac_format(&rec->mac, mac)));
	json_object_object_add(o, "uuid", json_object_new_string(rec->uuid));
	json_object_object_add(o, "devid", json_object_new_int(rec->devid));
	json_object_object_add(o, "domain", json_object_new_string(rec->domain));
	json_object_object_add(o, "released", json_object_new_int64(released));
	return o;
}

int etcd_history_parse(struct etcd_registry *e, const struct etcd_kv *kv, struct etcd_history *h)
{
	json_object *o = json_tokener_parse(kv->value), *v;
	char mac[VIFMAC_MAC_STRLEN];
	bool ok;

	memset(h, 0, sizeof(*h));
	ok = o && json_object_is_type(o, json_type_object) && etcd_json_text(o, "mac", mac, sizeof(mac)) &&
	     vifmac_mac_parse(mac, &h->mac) == 0 && etcd_json_text(o, "uuid", h->uuid, sizeof(h->uuid)) &&
	     etcd_json_text(o, "domain", h->domain, sizeof(h->domain)) && json_object_object_get_ex(o, "devid", &v) &&
	     json_object_is_type(v, json_type_int);
	if (ok) {
		h->devid = json_object_get_int(v);
		ok = json_object_object_get_ex(o, "released", &v) && etcd_json_int64(v, &h->released);
	}
	json_object_put(o);
	if (!ok)
		return vifmac_set_error(e->ctx, -EIO, "registry %s is corrupt: key %s holds no released pool address",
					e->url, kv->key);
	return 0;
}

static int cmp_entries(const void *a, const void *b)
{
	return etcd_mac_cmp(&((const struct etcd_pool_entry *)a)->mac, &((const struct etcd_pool_entry *)b)->mac);
}

static int cmp_history(const void *a, const void *b)
{
	return etcd_mac_cmp(&((const struct etcd_history *)a)->mac, &((const struct etcd_history *)b)->mac);
}

void etcd_pool_dispose(struct etcd_pool *p)
{
	free(p->entries);
	free(p->history);
	memset(p, 0, sizeof(*p));
}


json_object *etcd_pool_state_json(const struct etcd_pool *p)
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

int etcd_corrupt(struct etcd_registry *e, const char *key, const char *what)
{
	return vifmac_set_error(e->ctx, -EIO, "registry %s is corrupt: key %s holds no %s", e->url, key, what);
}

static bool json_mac(json_object *o, const char *name, struct vifmac_mac *ret)
{
	char m[VIFMAC_MAC_STRLEN];

	return etcd_json_text(o, name, m, sizeof(m)) && vifmac_mac_parse(m, ret) == 0;
}

int etcd_pool_state_parse(struct etcd_registry *e, const struct etcd_kv *kv, const char *name, struct etcd_pool *p)
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
		return etcd_corrupt(e, kv->key, "pool state");
	p->found = true;
	p->mod = kv->mod;
	return 0;
}

json_object *etcd_pool_entries_json(const struct vifmac_pool_source *src)
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

int etcd_pool_entries_parse(struct etcd_registry *e, const struct etcd_kv *kv, struct etcd_pool *p)
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
		struct etcd_pool_entry *pe = &p->entries[i];
		char ip[VIFMAC_IPV4_STRLEN];

		ok = json_object_is_type(x, json_type_object) && json_mac(x, "mac", &pe->mac) &&
		     etcd_json_text(x, "note", pe->note, sizeof(pe->note));
		if (ok && etcd_json_text(x, "ip", ip, sizeof(ip)))
			pe->has_ip = vifmac_ipv4_parse(ip, &pe->ip) == 0;
	}
	json_object_put(o);
	if (!ok)
		return etcd_corrupt(e, kv->key, "pool entries");
	p->n_entries = n;
	qsort(p->entries, n, sizeof(*p->entries), cmp_entries);
	return 0;
}

int etcd_pool_history_load(struct etcd_registry *e, const struct etcd_snapshot *s, size_t from, size_t to,
			struct etcd_pool *p)
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
