/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cluster registry backend: etcd (v3). etcd gives the consistency
 * (Raft, one revision counter, compare-and-set transactions); this file
 * says what each registry call reads and plans, on the keys of
 * vifmac-etcd-keys.c, through the transactions of vifmac-etcd-txn.c, over
 * the transport of vifmac-etcd-transport.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vifmac-etcd.h"

static struct etcd_registry *priv(struct vifmac_registry *reg)
{
	return reg->priv;
}

/* ---------------------------------------------------------------- writes */

struct write_plan {
	const struct vifmac_record *recs;
	size_t n;
	enum vifmac_write_mode mode;
	vifmac_conflict_fn conflict_fn;
	void *data;
	struct vifmac_record holder;
	bool stopped;  /* the conflict callback asked to stop */
};

static int write_plan(struct etcd_registry *e, struct etcd_model *m, bool assumed, void *data)
{
	struct write_plan *w = data;
	size_t conflicts = 0;

	w->stopped = false;
	for (size_t i = 0; i < w->n; i++) {
		struct vifmac_record holder;
		int r = etcd_plan_one(m, &w->recs[i], w->mode, &holder);

		if (r == -EEXIST) {
			if (conflicts++ == 0 || !w->conflict_fn)
				w->holder = holder;
			if (!w->conflict_fn || assumed)
				return -EEXIST;
			if (w->conflict_fn(w->data, &w->recs[i], &holder) != 0) {
				w->stopped = true;
				return -EEXIST;
			}
			continue;
		}
		if (r < 0)
			return r;
	}
	return conflicts ? -EEXIST : 0;
}

static int etcd_write(struct vifmac_registry *reg, const struct vifmac_record *recs, size_t n,
		      enum vifmac_write_mode mode, vifmac_conflict_fn conflict_fn, void *data,
		      struct vifmac_record *ret_holder)
{
	struct etcd_registry *e = priv(reg);
	struct write_plan w = { .recs = recs, .n = n, .mode = mode, .conflict_fn = conflict_fn, .data = data };
	struct etcd_snapshot s = { 0 };
	int r = 0;

	etcd_call_begin(e);
	/* what the plan depends on: every scope of each MAC, and each vif's other claims */
	for (size_t i = 0; i < n && r == 0; i++) {
		struct vifmac_strbuf b = { 0 };

		etcd_key_mac_prefix(e, &b, &recs[i].mac);
		r = etcd_snapshot_add_prefix(&s, &b);
		if (r == 0 && recs[i].state == VIFMAC_STATE_ACTIVE) {
			memset(&b, 0, sizeof(b));
			etcd_key_owner_prefix(e, &b, recs[i].uuid, recs[i].devid);
			r = etcd_snapshot_add_prefix(&s, &b);
		}
	}
	if (r == 0)
		r = etcd_run(e, &s, true, write_plan, &w);
	etcd_snapshot_free(&s);
	if (r == -EEXIST) {
		const struct vifmac_record *h = &w.holder;

		if (ret_holder && !conflict_fn)
			*ret_holder = *h;
		return vifmac_registry_conflict_error(e->ctx, h);
	}
	if (r == -ENOMEM)
		return vifmac_set_error(e->ctx, r, "registry %s: out of memory", e->url);
	return r < 0 ? r : (int)n;
}

struct release_plan {
	const struct vifmac_mac *mac;
	const char *uuid;
	int devid;
	int64_t updated_max;
	const char *host; /* NULL: any */
	int released;
};

static int release_plan(struct etcd_registry *e, struct etcd_model *m, bool assumed, void *data)
{
	struct release_plan *p = data;

	p->released = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct etcd_slot *s = &m->v[i];

		if (!s->has || s->rec.state != VIFMAC_STATE_ACTIVE || strcasecmp(s->rec.uuid, p->uuid) != 0 ||
		    (p->devid >= 0 && s->rec.devid != p->devid) || (p->mac && !vifmac_mac_equal(p->mac, &s->rec.mac)) ||
		    s->rec.updated > p->updated_max || (p->host && strcmp(s->rec.host, p->host) != 0))
			continue;
		s->has = false;
		p->released++;
	}
	return p->released ? 0 : 1;
}

static int etcd_release(struct vifmac_registry *reg, const struct vifmac_mac *mac, const char *uuid, int devid,
			int64_t updated_max, const char *host)
{
	struct etcd_registry *e = priv(reg);
	struct release_plan p = { .mac = mac, .uuid = uuid, .devid = devid, .updated_max = updated_max,
				  .host = host };
	struct etcd_snapshot s = { 0 };
	struct vifmac_strbuf b = { 0 };
	int r;

	etcd_call_begin(e);
	etcd_key_owner_prefix(e, &b, uuid, devid);
	r = etcd_snapshot_add_prefix(&s, &b);
	if (r == 0)
		r = etcd_run(e, &s, false, release_plan, &p);
	etcd_snapshot_free(&s);
	if (r == 1)
		return 0;
	return r < 0 ? r : p.released;
}

struct takeover_plan {
	const struct vifmac_record *stale, *rec;
	struct vifmac_record holder;
};

/* The stale claim goes only if it is still exactly the one judged stale; then the claim as a write. */
static int takeover_plan(struct etcd_registry *e, struct etcd_model *m, bool assumed, void *data)
{
	struct takeover_plan *p = data;
	const struct vifmac_record *st = p->stale;
	struct etcd_slot *s = etcd_model_find(m, st);

	if (!s || !s->has || s->rec.state != VIFMAC_STATE_ACTIVE || strcasecmp(s->rec.uuid, st->uuid) != 0 ||
	    s->rec.devid != st->devid || strcmp(s->rec.host, st->host) != 0 || s->rec.updated != st->updated)
		return -ESTALE;
	s->has = false;
	return etcd_plan_one(m, p->rec, VIFMAC_WRITE_CLAIM, &p->holder);
}

static int etcd_takeover(struct vifmac_registry *reg, const struct vifmac_record *stale,
			 const struct vifmac_record *rec, struct vifmac_record *ret_holder)
{
	struct etcd_registry *e = priv(reg);
	struct takeover_plan p = { .stale = stale, .rec = rec };
	struct etcd_snapshot s = { 0 };
	struct vifmac_strbuf b = { 0 };
	int r;

	etcd_call_begin(e);
	/* the MAC's every scope, and both owners' other claims */
	etcd_key_mac_prefix(e, &b, &rec->mac);
	r = etcd_snapshot_add_prefix(&s, &b);
	if (r == 0) {
		memset(&b, 0, sizeof(b));
		etcd_key_owner_prefix(e, &b, rec->uuid, rec->devid);
		r = etcd_snapshot_add_prefix(&s, &b);
	}
	if (r == 0 && !vifmac_mac_equal(&stale->mac, &rec->mac)) {
		memset(&b, 0, sizeof(b));
		etcd_key_mac_prefix(e, &b, &stale->mac);
		r = etcd_snapshot_add_prefix(&s, &b);
	}
	if (r == 0)
		r = etcd_run(e, &s, false, takeover_plan, &p);
	etcd_snapshot_free(&s);
	if (r == -EEXIST) {
		if (ret_holder)
			*ret_holder = p.holder;
		return vifmac_registry_conflict_error(e->ctx, &p.holder);
	}
	if (r == -ENOMEM)
		return vifmac_set_error(e->ctx, r, "registry %s: out of memory", e->url);
	return r;
}

static int unreserve_plan(struct etcd_registry *e, struct etcd_model *m, bool assumed, void *data)
{
	int *n = data;

	*n = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].has && m->v[i].rec.state == VIFMAC_STATE_RESERVED) {
			m->v[i].has = false;
			(*n)++;
		}
	return *n ? 0 : 1;
}

static int etcd_unreserve(struct vifmac_registry *reg, const struct vifmac_mac *mac)
{
	struct etcd_registry *e = priv(reg);
	struct etcd_snapshot s = { 0 };
	struct vifmac_strbuf b = { 0 };
	int n = 0, r;

	etcd_call_begin(e);
	etcd_key_mac_prefix(e, &b, mac);
	r = etcd_snapshot_add_prefix(&s, &b);
	if (r == 0)
		r = etcd_run(e, &s, false, unreserve_plan, &n);
	etcd_snapshot_free(&s);
	if (r == 1)
		return 0;
	return r < 0 ? r : 1;
}

/* ---------------------------------------------------------------- reads */

static int cmp_records(const void *a, const void *b)
{
	const struct vifmac_record *x = a, *y = b;
	int c = memcmp(x->mac.b, y->mac.b, sizeof(x->mac.b));

	return c ? c : strcmp(x->scope_key, y->scope_key);
}

/* By MAC and scope, then by content: copies that differ (a torn index) give the same pick in any order read. */
static int cmp_records_whole(const void *a, const void *b)
{
	int c = cmp_records(a, b);

	/* records come from vifmac_record_init + strscpy: every byte is set */
	return c ? c : memcmp(a, b, sizeof(struct vifmac_record));
}

/* Adds @n prefixes to the ranges @s reads. */
int etcd_snapshot_set_prefixes(struct etcd_snapshot *s, const char *const *prefixes, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		struct vifmac_strbuf b = { 0 };

		vifmac_strbuf_add(&b, prefixes[i]);
		r = etcd_snapshot_add_prefix(s, &b);
	}
	return r;
}

/* The records of @s's key-values, each once (an index key repeats its record), ordered. */
static int etcd_snapshot_records(struct etcd_registry *e, const struct etcd_snapshot *s, struct vifmac_record **ret_recs,
			    size_t *ret_n)
{
	struct vifmac_record *recs;
	size_t n_recs = 0;
	int r = 0;

	*ret_recs = NULL;
	*ret_n = 0;
	if (!s->n_kvs)
		return 0;
	recs = calloc(s->n_kvs, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_kvs && r == 0; i++)
		r = etcd_record_parse(e, s->kvs[i].key, s->kvs[i].value, &recs[i]);
	if (r < 0) {
		free(recs);
		return r;
	}
	/* sorted, the copies of one record (its index keys) are neighbours: one
	 * pass keeps one of each, n log n instead of comparing every pair */
	qsort(recs, s->n_kvs, sizeof(*recs), cmp_records_whole);
	for (size_t i = 0; i < s->n_kvs; i++)
		if (n_recs == 0 || !etcd_same_key(&recs[n_recs - 1], &recs[i]))
			recs[n_recs++] = recs[i];
	*ret_recs = recs;
	*ret_n = n_recs;
	return 0;
}

static int read_records(struct etcd_registry *e, const char *const *prefixes, size_t n, vifmac_record_fn fn,
			void *data)
{
	struct etcd_snapshot s = { 0 };
	struct vifmac_record *recs = NULL;
	size_t n_recs = 0;
	int r = 0;

	etcd_call_begin(e);
	r = etcd_snapshot_set_prefixes(&s, prefixes, n);
	if (r == 0)
		r = etcd_snapshot_read(e, &s);
	if (r == 0)
		r = etcd_snapshot_records(e, &s, &recs, &n_recs);
	etcd_snapshot_free(&s);
	for (size_t i = 0; i < n_recs && r == 0; i++)
		r = fn(data, &recs[i]);
	free(recs);
	return r;
}

/*
 * For tests/fuzz/fuzz-etcd-answer.c: what read_records does with the answer
 * to a txn that read @n_ranges ranges -- etcd_snapshot_parse, then
 * etcd_snapshot_records -- without a cluster. 0, or a negative errno with the
 * context's error set.
 */
int vifmac_etcd_parse_answer(struct vifmac_ctx *ctx, const char *answer_text, size_t n_ranges)
{
	struct etcd_registry e = { .ctx = ctx, .url = (char *)"etcd:answer" };
	struct etcd_snapshot s = { 0 };
	struct vifmac_record *recs = NULL;
	size_t n_recs = 0;
	char names[8][16];
	const char *p[8];
	json_object *answer;
	int r = etcd_dl_load(ctx, e.url);

	if (r < 0)
		return r;
	if (n_ranges > 8)
		return vifmac_set_error(ctx, -EINVAL, "at most 8 ranges");
	for (size_t i = 0; i < n_ranges; i++) {
		snprintf(names[i], sizeof(names[i]), "/vifmac/r%zu/", i);
		p[i] = names[i];
	}
	r = etcd_snapshot_set_prefixes(&s, p, n_ranges);
	if (r < 0) {
		etcd_snapshot_free(&s);
		return r;
	}
	answer = json_tokener_parse(answer_text);
	if (!answer) {
		etcd_snapshot_free(&s);
		return vifmac_set_error(ctx, -EPROTO, "registry %s: an answer that is not JSON", e.url);
	}
	r = etcd_snapshot_parse(&e, &s, answer);
	if (r == 0)
		r = etcd_snapshot_records(&e, &s, &recs, &n_recs);
	json_object_put(answer);
	etcd_snapshot_free(&s);
	free(recs);
	return r;
}

static int read_one_prefix(struct etcd_registry *e, struct vifmac_strbuf *b, vifmac_record_fn fn, void *data)
{
	const char *p[1] = { b->data };
	int r = b->oom ? -ENOMEM : read_records(e, p, 1, fn, data);

	free(b->data);
	return r;
}

static int etcd_list(struct vifmac_registry *reg, vifmac_record_fn fn, void *data)
{
	struct etcd_registry *e = priv(reg);
	struct vifmac_strbuf b = { 0 };

	vifmac_strbuf_add(&b, e->prefix);
	vifmac_strbuf_add(&b, "m/");
	return read_one_prefix(e, &b, fn, data);
}

static int etcd_lookup_mac(struct vifmac_registry *reg, const struct vifmac_mac *mac, vifmac_record_fn fn,
			   void *data)
{
	struct etcd_registry *e = priv(reg);
	struct vifmac_strbuf b = { 0 };

	etcd_key_mac_prefix(e, &b, mac);
	return read_one_prefix(e, &b, fn, data);
}

static int etcd_lookup_ip(struct vifmac_registry *reg, const char *ip, vifmac_record_fn fn, void *data)
{
	struct etcd_registry *e = priv(reg);
	struct vifmac_strbuf b = { 0 };

	vifmac_strbuf_add(&b, e->prefix);
	vifmac_strbuf_add(&b, "i/");
	vifmac_strbuf_add_escaped(&b, ip);
	vifmac_strbuf_add(&b, "/");
	return read_one_prefix(e, &b, fn, data);
}

static int etcd_lookup_domain(struct vifmac_registry *reg, const char *domain, vifmac_record_fn fn, void *data)
{
	struct etcd_registry *e = priv(reg);
	struct vifmac_strbuf d = { 0 }, o = { 0 };
	const char *p[2];
	int r;

	/* by name, or by UUID (the owner index) */
	vifmac_strbuf_add(&d, e->prefix);
	vifmac_strbuf_add(&d, "d/");
	vifmac_strbuf_add_escaped(&d, domain);
	vifmac_strbuf_add(&d, "/");
	etcd_key_owner_prefix(e, &o, domain, -1);
	p[0] = d.data;
	p[1] = o.data;
	r = d.oom || o.oom ? -ENOMEM : read_records(e, p, 2, fn, data);
	free(d.data);
	free(o.data);
	return r;
}

const struct vifmac_registry_backend vifmac_registry_backend_etcd = {
	.scheme = "etcd",
	.open = etcd_transport_open,
	.close = etcd_transport_close,
	.write = etcd_write,
	.release = etcd_release,
	.takeover = etcd_takeover,
	.unreserve = etcd_unreserve,
	.list = etcd_list,
	.lookup_mac = etcd_lookup_mac,
	.lookup_ip = etcd_lookup_ip,
	.lookup_domain = etcd_lookup_domain,
	.pool_import = etcd_pool_import,
	.pool_remove = etcd_pool_remove,
	.pool_list = etcd_pool_list,
	.pool_begin = etcd_pool_begin,
	.pool_row = etcd_pool_row,
	.pool_find = etcd_pool_find,
	.pool_claim = etcd_pool_claim,
	.pool_end = etcd_pool_end,
};
