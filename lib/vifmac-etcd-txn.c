/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd backend's transactions: a call's ranges read at one revision (a
 * snapshot), the model a write is planned on (the SQLite backend's rules,
 * on the records read), and the txn that writes the plan if nothing read
 * has changed.
 *
 * A write is planned on a snapshot (the ranges it depends on, read at one
 * revision) exactly as the SQLite backend decides inside its transaction,
 * then sent as one txn whose compares say "nothing I read has changed":
 * every range mod_revision < snapshot + 1, every key read still at its
 * mod_revision. The failure branch reads the same ranges again, so a lost
 * race costs no extra round trip: the next plan uses that snapshot (and a
 * conflict found there names the holder from the very transaction that
 * failed). The first attempt of a claim assumes an empty snapshot ("MAC and
 * owner unknown to the registry"), so a new claim is one round trip.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vifmac-etcd.h"

#define MAX_ATTEMPTS 64

/* ---------------------------------------------------------------- requests */

json_object *etcd_b64_string(const char *s)
{
	char *b = vifmac_base64_encode(s, strlen(s));
	json_object *o = b ? json_object_new_string(b) : NULL;

	free(b);
	return o;
}

/* The end of the range of every key starting with @prefix (its last byte + 1; ours end in '/'). */
char *etcd_prefix_end(const char *prefix)
{
	char *end = strdup(prefix);
	size_t n = end ? strlen(end) : 0;

	if (n)
		end[n - 1]++;
	return end;
}

json_object *etcd_range_request(const char *prefix)
{
	json_object *r = json_object_new_object();
	char *end = etcd_prefix_end(prefix);

	if (r && end) {
		json_object_object_add(r, "key", etcd_b64_string(prefix));
		json_object_object_add(r, "range_end", etcd_b64_string(end));
	}
	free(end);
	return r;
}

json_object *etcd_op(const char *kind, json_object *req)
{
	json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, kind, req);
	return o;
}

json_object *etcd_compare_mod(const char *key, const char *range_end, const char *result, int64_t rev)
{
	json_object *c = json_object_new_object();
	char n[32];

	if (!c)
		return NULL;
	snprintf(n, sizeof(n), "%" PRId64, rev);
	json_object_object_add(c, "key", etcd_b64_string(key));
	if (range_end)
		json_object_object_add(c, "range_end", etcd_b64_string(range_end));
	json_object_object_add(c, "target", json_object_new_string("MOD"));
	json_object_object_add(c, "result", json_object_new_string(result));
	json_object_object_add(c, "mod_revision", json_object_new_string(n));
	return c;
}


static json_object *key_request(const char *key)
{
	json_object *r = json_object_new_object();

	if (r)
		json_object_object_add(r, "key", etcd_b64_string(key));
	return r;
}

json_object *etcd_key_op(const char *kind, struct vifmac_strbuf *b)
{
	json_object *o = b->oom ? NULL : etcd_op(kind, key_request(b->data));

	free(b->data);
	memset(b, 0, sizeof(*b));
	return o;
}

json_object *etcd_put_op(struct vifmac_strbuf *b, json_object *value)
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
int etcd_range_at(struct etcd_registry *e, const char *key, const char *range_end, int64_t rev, bool count_only,
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

/* ---------------------------------------------------------------- snapshots */

static void snapshot_clear(struct etcd_snapshot *s)
{
	for (size_t i = 0; i < s->n_kvs; i++) {
		free(s->kvs[i].key);
		free(s->kvs[i].value);
	}
	free(s->kvs);
	s->kvs = NULL;
	s->n_kvs = 0;
	s->rev = 0;
}

int etcd_snapshot_add_prefix(struct etcd_snapshot *s, struct vifmac_strbuf *b)
{
	char **v;

	if (b->oom)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_prefixes; i++)
		if (strcmp(s->prefixes[i], b->data) == 0) {
			free(b->data);
			return 0;
		}
	v = realloc(s->prefixes, (s->n_prefixes + 1) * sizeof(*v));
	if (!v) {
		free(b->data);
		return -ENOMEM;
	}
	s->prefixes = v;
	s->prefixes[s->n_prefixes++] = b->data;
	return 0;
}

void etcd_snapshot_free(struct etcd_snapshot *s)
{
	snapshot_clear(s);
	for (size_t i = 0; i < s->n_prefixes; i++)
		free(s->prefixes[i]);
	free(s->prefixes);
	s->prefixes = NULL;
	s->n_prefixes = 0;
}

/* Appends the key-values of a range answer's "kvs" (absent: none) to @s. */
int etcd_snapshot_add_kvs(struct etcd_registry *e, struct etcd_snapshot *s, json_object *rr)
{
	json_object *kvs;
	size_t m;
	struct etcd_kv *v;

	if (!json_object_object_get_ex(rr, "kvs", &kvs))
		return 0; /* none: the gateway leaves empty lists out */
	if (!json_object_is_type(kvs, json_type_array))
		return vifmac_set_error(e->ctx, -EPROTO, "registry %s: a range whose kvs is not a list", e->url);
	m = json_object_array_length(kvs);
	v = realloc(s->kvs, (s->n_kvs + m) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->kvs = v;
	for (size_t j = 0; j < m; j++) {
		json_object *kv = json_object_array_get_idx(kvs, j), *k = NULL, *val = NULL, *mod;
		struct etcd_kv *x = &s->kvs[s->n_kvs];

		memset(x, 0, sizeof(*x));
		if (!json_object_object_get_ex(kv, "key", &k) || !json_object_is_type(k, json_type_string))
			return vifmac_set_error(e->ctx, -EPROTO, "registry %s: a key-value without a key", e->url);
		if (json_object_object_get_ex(kv, "value", &val) && !json_object_is_type(val, json_type_string))
			return vifmac_set_error(e->ctx, -EPROTO, "registry %s: a value that is not a string", e->url);
		x->key = vifmac_base64_decode(json_object_get_string(k), NULL);
		x->value = val ? vifmac_base64_decode(json_object_get_string(val), NULL) : strdup("");
		if (json_object_object_get_ex(kv, "mod_revision", &mod) && !etcd_json_int64(mod, &x->mod))
			x->mod = -1; /* refused below, once the strings are freed */
		if (!x->key || !x->value || x->mod < 0) {
			bool bad_mod = x->mod < 0;

			free(x->key);
			free(x->value);
			if (bad_mod)
				return vifmac_set_error(e->ctx, -EPROTO,
							"registry %s: a key-value whose mod_revision is not a number", e->url);
			if (errno == ENOMEM)
				return -ENOMEM;
			return vifmac_set_error(e->ctx, -EPROTO, "registry %s: a key or value that is not base64",
						e->url);
		}
		s->n_kvs++;
	}
	return 0;
}

/* The revision of an answer's header: 0, or -EPROTO. */
int etcd_answer_revision(struct etcd_registry *e, json_object *answer, int64_t *ret_rev)
{
	json_object *header, *rev;

	if (!json_object_object_get_ex(answer, "header", &header) ||
	    !json_object_object_get_ex(header, "revision", &rev))
		return vifmac_set_error(e->ctx, -EPROTO, "registry %s: an answer without a revision", e->url);
	if (!etcd_json_int64(rev, ret_rev))
		return vifmac_set_error(e->ctx, -EPROTO, "registry %s: an answer whose revision is not a number",
					e->url);
	return 0;
}

/* Fills @s from a txn answer whose responses are the ranges of @s, in order. */
int etcd_snapshot_parse(struct etcd_registry *e, struct etcd_snapshot *s, json_object *answer)
{
	json_object *responses = NULL;
	size_t n;
	int r;

	/* json-c's array calls assert the type: every value is checked first (an
	 * answer from a broken member or proxy is refused, not a crash) */
	json_object_object_get_ex(answer, "responses", &responses);
	n = responses && json_object_is_type(responses, json_type_array) ? json_object_array_length(responses) : 0;
	snapshot_clear(s);
	if (n != s->n_prefixes)
		return vifmac_set_error(e->ctx, -EPROTO, "registry %s: an answer without the ranges asked for", e->url);
	r = etcd_answer_revision(e, answer, &s->rev);
	for (size_t i = 0; i < n && r == 0; i++) {
		json_object *rr;

		if (!json_object_object_get_ex(json_object_array_get_idx(responses, i), "response_range", &rr))
			return vifmac_set_error(e->ctx, -EPROTO, "registry %s: an answer without its range", e->url);
		r = etcd_snapshot_add_kvs(e, s, rr);
	}
	return r;
}

/* Reads every range of @s at one revision (a txn without compares). */
int etcd_snapshot_read(struct etcd_registry *e, struct etcd_snapshot *s)
{
	json_object *txn = json_object_new_object(), *ops = json_object_new_array(), *answer = NULL;
	int r;

	if (!txn || !ops) {
		json_object_put(txn);
		json_object_put(ops);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_prefixes; i++)
		json_object_array_add(ops, etcd_op("request_range", etcd_range_request(s->prefixes[i])));
	json_object_object_add(txn, "success", ops);
	r = etcd_post(e, "/v3/kv/txn", txn, &answer);
	json_object_put(txn);
	if (r < 0)
		return r;
	r = etcd_snapshot_parse(e, s, answer);
	json_object_put(answer);
	return r;
}

/* ---------------------------------------------------------------- the model a write is planned on */

bool etcd_same_key(const struct vifmac_record *a, const struct vifmac_record *b)
{
	return vifmac_mac_equal(&a->mac, &b->mac) && strcmp(a->scope_key, b->scope_key) == 0;
}

struct etcd_slot *etcd_model_find(struct etcd_model *m, const struct vifmac_record *rec)
{
	for (size_t i = 0; i < m->n; i++)
		if (etcd_same_key(&m->v[i].rec, rec) || (m->v[i].had && etcd_same_key(&m->v[i].old, rec)))
			return &m->v[i];
	return NULL;
}

struct etcd_slot *etcd_model_slot(struct etcd_model *m, const struct vifmac_record *rec)
{
	struct etcd_slot *s = etcd_model_find(m, rec);

	if (s)
		return s;
	if (m->n == m->size) {
		size_t size = m->size ? 2 * m->size : 16;
		struct etcd_slot *v = realloc(m->v, size * sizeof(*v));

		if (!v)
			return NULL;
		m->v = v;
		m->size = size;
	}
	s = &m->v[m->n++];
	memset(s, 0, sizeof(*s));
	s->rec = *rec;
	return s;
}

/* The records of a snapshot: m/ keys, and o/ d/ i/ keys (which hold the same records). */
int etcd_model_load(struct etcd_registry *e, struct etcd_model *m, const struct etcd_snapshot *s)
{
	m->n = 0;
	for (size_t i = 0; i < s->n_kvs; i++) {
		struct vifmac_record rec;
		struct etcd_slot *slot;
		int r = etcd_record_parse(e, s->kvs[i].key, s->kvs[i].value, &rec);

		if (r < 0)
			return r;
		slot = etcd_model_slot(m, &rec);
		if (!slot)
			return -ENOMEM;
		if (!slot->had) {
			slot->old = rec;
			slot->rec = rec;
			slot->had = slot->has = true;
			slot->mod = s->kvs[i].mod;
		}
	}
	return 0;
}

static bool same_owner_ci(const struct vifmac_record *a, const struct vifmac_record *b)
{
	return a->state == VIFMAC_STATE_ACTIVE && b->state == VIFMAC_STATE_ACTIVE && a->uuid[0] &&
	       strcasecmp(a->uuid, b->uuid) == 0 && a->devid == b->devid;
}

/*
 * The SQLite backend's write_one, on the model: 0, or -EEXIST with
 * @holder, or -ENOMEM.
 */
int etcd_plan_one(struct etcd_model *m, const struct vifmac_record *rec, enum vifmac_write_mode mode,
		    struct vifmac_record *holder)
{
	struct etcd_slot *mine = NULL, *target;
	int64_t created = rec->created;

	for (size_t i = 0; i < m->n; i++) {
		struct etcd_slot *s = &m->v[i];

		if (!s->has || !vifmac_mac_equal(&s->rec.mac, &rec->mac) ||
		    !vifmac_scopes_overlap(s->rec.scope_key, rec->scope_key))
			continue;
		/* a second reservation of a reserved MAC is a conflict; importing it again is not */
		if (!vifmac_records_same_owner(rec, &s->rec) ||
		    (mode == VIFMAC_WRITE_CLAIM && rec->state == VIFMAC_STATE_RESERVED)) {
			*holder = s->rec;
			return -EEXIST;
		}
	}
	for (size_t i = 0; i < m->n; i++) {
		struct etcd_slot *s = &m->v[i];

		if (!s->has)
			continue;
		if (vifmac_mac_equal(&s->rec.mac, &rec->mac)) {
			if (!vifmac_scopes_overlap(s->rec.scope_key, rec->scope_key))
				continue;
			/* the first record of the same owner is updated, the others merged into it */
			if (!mine) {
				mine = s;
				created = mode == VIFMAC_WRITE_CLAIM ? s->rec.created : rec->created;
			}
			s->has = false;
		} else if (rec->state == VIFMAC_STATE_ACTIVE && same_owner_ci(&s->rec, rec)) {
			/* a vif holds one MAC: its claim on another MAC (an older IP, say) is moved */
			s->has = false;
		}
	}
	target = etcd_model_slot(m, rec);
	if (!target)
		return -ENOMEM;
	target->rec = *rec;
	target->rec.created = created;
	target->has = true;
	return 0;
}

/* ---------------------------------------------------------------- the txn */

static bool records_equal(const struct vifmac_record *a, const struct vifmac_record *b)
{
	char ja[2048], jb[2048];
	json_object *oa = etcd_record_json(a), *ob = etcd_record_json(b);
	bool eq;

	snprintf(ja, sizeof(ja), "%s", oa ? json_object_to_json_string_ext(oa, JSON_C_TO_STRING_PLAIN) : "");
	snprintf(jb, sizeof(jb), "%s", ob ? json_object_to_json_string_ext(ob, JSON_C_TO_STRING_PLAIN) : "a");
	eq = strcmp(ja, jb) == 0;
	json_object_put(oa);
	json_object_put(ob);
	return eq;
}

static bool keys_has(const struct etcd_keys *k, const char *key)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], key) == 0)
			return true;
	return false;
}

/* Whether a record of the plan still holds @mac (a merge of scopes is no release). */
static bool model_holds(const struct etcd_model *m, const struct vifmac_mac *mac)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].has && vifmac_mac_equal(&m->v[i].rec.mac, mac))
			return true;
	return false;
}

/*
 * A pool address the plan lets go of (released, or the vif moved to another
 * MAC) goes into its pool's history: quarantine, and its last owner's for
 * stickiness -- the SQLite backend's pool_released. Returns the number of
 * operations added, or -ENOMEM.
 */
static int history_ops(struct etcd_registry *e, const struct etcd_model *m, json_object *ops)
{
	struct etcd_keys done = { 0 };
	int n = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct etcd_slot *s = &m->v[i];
		struct vifmac_strbuf b = { 0 };
		json_object *p, *value;

		if (!s->had || s->has || s->old.state != VIFMAC_STATE_ACTIVE || strncmp(s->old.source, "pool:", 5) != 0 ||
		    model_holds(m, &s->old.mac))
			continue;
		etcd_key_pool_history(e, &b, s->old.source + 5, &s->old.mac);
		if (b.oom) {
			free(b.data);
			n = -ENOMEM;
			break;
		}
		if (keys_has(&done, b.data)) {
			free(b.data);
			continue; /* two scopes of one MAC: one history */
		}
		value = etcd_history_json(&s->old, vifmac_now(e->ctx));
		p = json_object_new_object();
		if (!value || !p) {
			json_object_put(value);
			json_object_put(p);
			free(b.data);
			n = -ENOMEM;
			break;
		}
		json_object_object_add(p, "key", etcd_b64_string(b.data));
		json_object_object_add(p, "value",
				       etcd_b64_string(json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN)));
		json_object_put(value);
		json_object_array_add(ops, etcd_op("request_put", p));
		etcd_keys_add(&done, &b);
		n++;
	}
	etcd_keys_free(&done);
	return n;
}

/*
 * The writes that take the snapshot to the model: for each changed record,
 * its old keys it no longer has are deleted and all its keys are put.
 * Returns the number of operations added to @ops, or -ENOMEM.
 */
static int model_ops(struct etcd_registry *e, const struct etcd_model *m, json_object *ops)
{
	int n = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct etcd_slot *s = &m->v[i];
		struct etcd_keys old = { 0 }, now = { 0 };
		json_object *value = NULL;
		const char *text = NULL;

		if (s->had == s->has && (!s->has || records_equal(&s->old, &s->rec)))
			continue;
		if (s->had)
			etcd_record_keys(e, &s->old, &old);
		if (s->has) {
			etcd_record_keys(e, &s->rec, &now);
			value = etcd_record_json(&s->rec);
			text = value ? json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN) : NULL;
		}
		if (old.oom || now.oom || (s->has && !text)) {
			etcd_keys_free(&old);
			etcd_keys_free(&now);
			json_object_put(value);
			return -ENOMEM;
		}
		for (size_t k = 0; k < old.n; k++) {
			json_object *d;

			if (keys_has(&now, old.v[k]))
				continue;
			d = json_object_new_object();
			json_object_object_add(d, "key", etcd_b64_string(old.v[k]));
			json_object_array_add(ops, etcd_op("request_delete_range", d));
			n++;
		}
		for (size_t k = 0; k < now.n; k++) {
			json_object *p = json_object_new_object();

			json_object_object_add(p, "key", etcd_b64_string(now.v[k]));
			json_object_object_add(p, "value", etcd_b64_string(text));
			json_object_array_add(ops, etcd_op("request_put", p));
			n++;
		}
		etcd_keys_free(&old);
		etcd_keys_free(&now);
		json_object_put(value);
	}
	{
		int h = history_ops(e, m, ops);

		return h < 0 ? h : n + h;
	}
}

/*
 * "Nothing I read has changed": no key of a range written after the
 * snapshot (created or modified), no key read deleted since.
 */
static int snapshot_compares(struct etcd_registry *e, const struct etcd_snapshot *s, const struct etcd_model *m,
			     json_object *compares)
{
	for (size_t i = 0; i < s->n_prefixes; i++) {
		char *end = etcd_prefix_end(s->prefixes[i]);

		if (!end)
			return -ENOMEM;
		json_object_array_add(compares, etcd_compare_mod(s->prefixes[i], end, "LESS", s->rev + 1));
		free(end);
	}
	for (size_t i = 0; i < m->n; i++) {
		struct vifmac_strbuf b = { 0 };

		if (!m->v[i].had)
			continue;
		etcd_key_record(e, &b, &m->v[i].old);
		if (b.oom)
			return -ENOMEM;
		json_object_array_add(compares, etcd_compare_mod(b.data, NULL, "EQUAL", m->v[i].mod));
		free(b.data);
	}
	return 0;
}

int etcd_commit(struct etcd_registry *e, const struct etcd_snapshot *s, const struct etcd_model *m,
		json_object *extra_compares, json_object *extra_ops, json_object **ret_answer)
{
	json_object *txn = json_object_new_object(), *compares = json_object_new_array(),
		    *success = json_object_new_array(), *failure = json_object_new_array(), *answer = NULL, *ok;
	size_t n;
	int r;

	if (!txn || !compares || !success || !failure) {
		json_object_put(txn);
		json_object_put(compares);
		json_object_put(success);
		json_object_put(failure);
		json_object_put(extra_compares);
		json_object_put(extra_ops);
		return -ENOMEM;
	}
	json_object_object_add(txn, "compare", compares);
	json_object_object_add(txn, "success", success);
	json_object_object_add(txn, "failure", failure);
	r = snapshot_compares(e, s, m, compares);
	if (r == 0)
		r = model_ops(e, m, success);
	n = extra_compares ? json_object_array_length(extra_compares) : 0;
	for (size_t i = 0; i < n; i++)
		json_object_array_add(compares, json_object_get(json_object_array_get_idx(extra_compares, i)));
	n = extra_ops ? json_object_array_length(extra_ops) : 0;
	for (size_t i = 0; i < n; i++)
		json_object_array_add(success, json_object_get(json_object_array_get_idx(extra_ops, i)));
	json_object_put(extra_compares);
	json_object_put(extra_ops);
	if (r < 0) {
		json_object_put(txn);
		return r;
	}
	for (size_t i = 0; i < s->n_prefixes; i++)
		json_object_array_add(failure, etcd_op("request_range", etcd_range_request(s->prefixes[i])));
	r = etcd_post(e, "/v3/kv/txn", txn, &answer);
	json_object_put(txn);
	if (r < 0)
		return r;
	/* etcd leaves "succeeded" out when false; anything but a JSON boolean is not etcd's */
	ok = NULL;
	json_object_object_get_ex(answer, "succeeded", &ok);
	if (ok && !json_object_is_type(ok, json_type_boolean)) {
		json_object_put(answer);
		return vifmac_set_error(e->ctx, -EPROTO,
					"registry %s: a transaction answer whose \"succeeded\" is not true or false; "
					"nothing is known to be recorded", e->url);
	}
	if (ok && json_object_get_boolean(ok)) {
		json_object_put(answer);
		return 1;
	}
	if (ret_answer)
		*ret_answer = answer;
	else
		json_object_put(answer);
	return 0;
}

/*
 * Plans on @s (read first unless @assume_empty) and sends the txn; on a
 * lost race, plans again on the snapshot the failure branch returned.
 * Returns what the plan returned (0 when written), or a negative errno.
 */
int etcd_run(struct etcd_registry *e, struct etcd_snapshot *s, bool assume_empty, etcd_plan_fn plan, void *data)
{
	struct etcd_model m = { 0 };
	int r;

	if (!assume_empty) {
		r = etcd_snapshot_read(e, s);
		if (r < 0)
			return r;
	}
	for (int attempt = 0;; attempt++) {
		json_object *answer = NULL;

		r = etcd_model_load(e, &m, s);
		if (r < 0)
			break;
		r = plan(e, &m, s->rev == 0, data);
		if (r == -EEXIST && s->rev == 0) {
			/* a conflict inside the batch: tell it with the registry's, read for real */
			r = etcd_snapshot_read(e, s);
			if (r < 0)
				break;
			continue;
		}
		if (r != 0)
			break;
		r = etcd_commit(e, s, &m, NULL, NULL, &answer);
		if (r != 0) {
			r = r > 0 ? 0 : r;
			break;
		}
		/* someone wrote in between: what they left is in the answer */
		r = etcd_snapshot_parse(e, s, answer);
		json_object_put(answer);
		if (r < 0)
			break;
		if (attempt + 1 >= MAX_ATTEMPTS || vifmac_mono_ms() >= e->deadline) {
			r = vifmac_set_error(e->ctx, -EBUSY,
					     "registry %s: lost the race to other writers %d times in %d ms; nothing recorded",
					     e->url, attempt + 1, e->timeout_ms);
			break;
		}
	}
	free(m.v);
	return r;
}
