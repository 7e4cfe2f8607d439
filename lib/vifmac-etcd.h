/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the etcd backend: what its files share -- the dlopen shim's
 * table (vifmac-etcd-dl.c), the transport (vifmac-etcd-transport.c), the
 * key layout (vifmac-etcd-keys.c), the snapshots and transactions
 * (vifmac-etcd-txn.c), the pools (vifmac-etcd-pool.c); the backend itself is vifmac-registry-etcd.c.
 */
#ifndef VIFMAC_ETCD_H
#define VIFMAC_ETCD_H

#define CURL_DISABLE_TYPECHECK 1 /* curl_easy_setopt is called through a pointer */
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vifmac-registry-internal.h"
#include "vifmac-text.h"

/*
 * libcurl and json-c are loaded with dlopen when an etcd: registry is opened,
 * not linked: they bring ~30 shared objects (TLS, Kerberos, LDAP, ssh, ...)
 * whose loading cost every vifmac process ~6 ms, every vif hotplug included,
 * on hosts that use the SQLite default (docs/performance.md). The calls below
 * go through these pointers (the macros after the table), with the types of
 * the libraries' own declarations.
 */
#define CURL_SONAME "libcurl.so.4"
#define JSONC_SONAME "libjson-c.so.5"
#define ETCD_DL_SYMBOLS(X)                                                                                       \
	X(0, curl_easy_cleanup) X(0, curl_easy_getinfo) X(0, curl_easy_init) X(0, curl_easy_perform)             \
	X(0, curl_easy_setopt) X(0, curl_easy_strerror) X(0, curl_global_cleanup) X(0, curl_global_init)         \
	X(0, curl_slist_append) X(0, curl_slist_free_all)                                                        \
	X(1, json_object_array_add) X(1, json_object_array_get_idx) X(1, json_object_array_length)               \
	X(1, json_object_get_boolean) X(1, json_object_get_int) X(1, json_object_get_int64)                     \
	X(1, json_object_get_string) X(1, json_object_new_int64)                                                 \
	X(1, json_object_is_type) X(1, json_object_new_array) X(1, json_object_new_int)                          \
	X(1, json_object_new_object) X(1, json_object_new_string) X(1, json_object_object_add)                   \
	X(1, json_object_object_get_ex) X(1, json_object_put) X(1, json_object_to_json_string_ext)               \
	X(1, json_tokener_parse) X(1, json_object_get) X(1, json_object_new_boolean)

struct vifmac_etcd_dl {
	bool loaded;
#define X(lib, name) typeof(name) *name;
	ETCD_DL_SYMBOLS(X)
#undef X
};
extern struct vifmac_etcd_dl vifmac_etcd_dl;

#ifndef VIFMAC_ETCD_DL_LOADER
#undef curl_easy_getinfo /* curl.h's own pass-through macros */
#undef curl_easy_setopt
#define curl_easy_cleanup (*vifmac_etcd_dl.curl_easy_cleanup)
#define curl_easy_getinfo (*vifmac_etcd_dl.curl_easy_getinfo)
#define curl_easy_init (*vifmac_etcd_dl.curl_easy_init)
#define curl_easy_perform (*vifmac_etcd_dl.curl_easy_perform)
#define curl_easy_setopt (*vifmac_etcd_dl.curl_easy_setopt)
#define curl_easy_strerror (*vifmac_etcd_dl.curl_easy_strerror)
#define curl_global_cleanup (*vifmac_etcd_dl.curl_global_cleanup)
#define curl_global_init (*vifmac_etcd_dl.curl_global_init)
#define curl_slist_append (*vifmac_etcd_dl.curl_slist_append)
#define curl_slist_free_all (*vifmac_etcd_dl.curl_slist_free_all)
#define json_object_array_add (*vifmac_etcd_dl.json_object_array_add)
#define json_object_array_get_idx (*vifmac_etcd_dl.json_object_array_get_idx)
#define json_object_array_length (*vifmac_etcd_dl.json_object_array_length)
#define json_object_get_boolean (*vifmac_etcd_dl.json_object_get_boolean)
#define json_object_get_int (*vifmac_etcd_dl.json_object_get_int)
#define json_object_get_int64 (*vifmac_etcd_dl.json_object_get_int64)
#define json_object_get_string (*vifmac_etcd_dl.json_object_get_string)
#define json_object_new_int64 (*vifmac_etcd_dl.json_object_new_int64)
#define json_object_is_type (*vifmac_etcd_dl.json_object_is_type)
#define json_object_new_array (*vifmac_etcd_dl.json_object_new_array)
#define json_object_new_int (*vifmac_etcd_dl.json_object_new_int)
#define json_object_new_object (*vifmac_etcd_dl.json_object_new_object)
#define json_object_new_string (*vifmac_etcd_dl.json_object_new_string)
#define json_object_object_add (*vifmac_etcd_dl.json_object_object_add)
#define json_object_object_get_ex (*vifmac_etcd_dl.json_object_object_get_ex)
#define json_object_put (*vifmac_etcd_dl.json_object_put)
#define json_object_to_json_string_ext (*vifmac_etcd_dl.json_object_to_json_string_ext)
#define json_tokener_parse (*vifmac_etcd_dl.json_tokener_parse)
#define json_object_get (*vifmac_etcd_dl.json_object_get)
#define json_object_new_boolean (*vifmac_etcd_dl.json_object_new_boolean)
#endif

/* ---------------------------------------------------------------- shared state and structures */

struct etcd_registry {
	struct vifmac_ctx *ctx;
	char *url;           /* "etcd:..." for messages */
	char **endpoints;
	size_t n_endpoints;
	size_t current;      /* the endpoint that answered last: tried first */
	char *prefix;
	int timeout_ms, request_timeout_ms;
	CURL *curl;
	struct curl_slist *headers;
	char *token;         /* auth token, when a user is set */
	char *user, *password;
	int64_t deadline;    /* of the registry call under way (CLOCK_MONOTONIC ms) */
	size_t max_answer;   /* bytes: a larger answer is refused, never buffered */
	char **last_errors;  /* per endpoint, of the call under way */
	struct vifmac_strbuf errors;  /* errors_of()'s text */
};

/* A list of keys (full, with the prefix). */
struct etcd_keys {
	char **v;
	size_t n, size;
	bool oom;
};

/* One key as read. */
struct etcd_kv {
	char *key;
	char *value;
	int64_t mod;
};

/* The ranges a call depends on, as read at one revision. */
struct etcd_snapshot {
	int64_t rev;        /* 0: assumed empty, nothing read yet */
	char **prefixes;    /* of the ranges */
	size_t n_prefixes;
	struct etcd_kv *kvs;     /* of every range, in order */
	size_t n_kvs;
};

/* One record key (m/MAC/SCOPE): as read, and as the plan leaves it. */
struct etcd_slot {
	struct vifmac_record old, rec;
	bool had, has;
	int64_t mod;  /* of the key read (0: not read) */
};

struct etcd_model {
	struct etcd_slot *v;
	size_t n, size;
};

/*
 * Decides a call on a snapshot: fills the model, returns 0 (write it),
 * 1 (nothing to write: done) or a negative errno (done: refused).
 */
typedef int (*etcd_plan_fn)(struct etcd_registry *e, struct etcd_model *m, bool assumed, void *data);


/* ---------------------------------------------------------------- vifmac-etcd-dl.c */

/* Loads both libraries once per process (kept loaded: they are not unloaded safely). */
int etcd_dl_load(struct vifmac_ctx *ctx, const char *url);

/* ---------------------------------------------------------------- vifmac-etcd-transport.c */

/* Opens the transport of @location (what follows "etcd:"): sets reg->priv to a struct etcd_registry. */
int etcd_transport_open(struct vifmac_registry *reg, const char *location);
void etcd_transport_close(struct vifmac_registry *reg);
/* Starts a registry call: its deadline (etcd_timeout_ms), and no endpoint errors yet. */
void etcd_call_begin(struct etcd_registry *e);
/*
 * POSTs @body to @path: endpoints in order from the one that answered last,
 * rounds again (a leader election, a member restarting) until the call's
 * deadline. Returns 0 with the answer in @ret (the caller puts it), or a
 * negative errno with the registry's last error naming every endpoint's.
 */
int etcd_post(struct etcd_registry *e, const char *path, json_object *body, json_object **ret);
/* An int64 of an answer: the gateway writes them as strings of digits; a number is fine too. */
bool etcd_json_int64(json_object *o, int64_t *ret);

/* ---------------------------------------------------------------- vifmac-etcd-keys.c */

/* The full key "<prefix>m/MAC/SCOPE" of @rec. */
void etcd_key_record(struct etcd_registry *e, struct vifmac_strbuf *b, const struct vifmac_record *rec);
/* Prefix "<prefix>o/UUID/" (devid < 0) or "<prefix>o/UUID/DEVID/" of an owner's claims. */
void etcd_key_owner_prefix(struct etcd_registry *e, struct vifmac_strbuf *b, const char *uuid, int devid);
/* Prefix "<prefix>m/MAC/" of every scope of @mac. */
void etcd_key_mac_prefix(struct etcd_registry *e, struct vifmac_strbuf *b, const struct vifmac_mac *mac);
/* Adds @b's text to @k (taking it; a duplicate is dropped). */
void etcd_keys_add(struct etcd_keys *k, struct vifmac_strbuf *b);
void etcd_keys_free(struct etcd_keys *k);
/* Every key @rec is stored under: the record, then its indexes. */
void etcd_record_keys(struct etcd_registry *e, const struct vifmac_record *rec, struct etcd_keys *k);
json_object *etcd_record_json(const struct vifmac_record *rec);
/* The string member @name of @o into @buf: false when missing, not a string, or too long. */
bool etcd_json_text(json_object *o, const char *name, char *buf, size_t size);
/* @value (of @key, for the message) as a record: 0, or -EIO naming the key. */
int etcd_record_parse(struct etcd_registry *e, const char *key, const char *value, struct vifmac_record *rec);

/* MACs in the order of their keys (lower-case hex: byte order). */
static inline int etcd_mac_cmp(const struct vifmac_mac *a, const struct vifmac_mac *b)
{
	return memcmp(a->b, b->b, sizeof(a->b));
}

/* An address released from a pool (ph/NAME/MAC). */
struct etcd_history {
	struct vifmac_mac mac;
	char uuid[VIFMAC_UUID_STRLEN];
	int devid;
	char domain[128];
	int64_t released;
};

struct etcd_pool_entry {
	struct vifmac_mac mac;
	bool has_ip;
	struct vifmac_ipv4 ip;
	char note[128];
};

/* One pool as read at the view's revision. */
struct etcd_pool {
	bool found;
	struct vifmac_pool_row row;
	char origin[256];
	int64_t imported;
	int64_t mod;                 /* of ps/NAME: the pool's version */
	struct etcd_pool_entry *entries;  /* table and recycled, ordered by MAC */
	size_t n_entries;
	struct etcd_history *history; /* ph/NAME/, ordered by MAC */
	size_t n_history;
};

/* "<prefix>KIND/NAME": a pool's state (ps) or entries (pe). */
void etcd_key_pool(struct etcd_registry *e, struct vifmac_strbuf *b, const char *kind, const char *name);
/* "<prefix>ph/NAME/MAC", or the prefix "<prefix>ph/NAME/" of the pool's history when @mac is NULL. */
void etcd_key_pool_history(struct etcd_registry *e, struct vifmac_strbuf *b, const char *name,
			   const struct vifmac_mac *mac);
json_object *etcd_history_json(const struct vifmac_record *rec, int64_t released);
int etcd_history_parse(struct etcd_registry *e, const struct etcd_kv *kv, struct etcd_history *h);
/* -EIO: "registry URL is corrupt: key KEY holds no WHAT". */
int etcd_corrupt(struct etcd_registry *e, const char *key, const char *what);
void etcd_pool_dispose(struct etcd_pool *p);
/* ps/NAME's value; NULL on ENOMEM. */
json_object *etcd_pool_state_json(const struct etcd_pool *p);
/* @kv (ps/@name) into @p (found, row, origin, imported, mod): 0, or -EIO. */
int etcd_pool_state_parse(struct etcd_registry *e, const struct etcd_kv *kv, const char *name, struct etcd_pool *p);
/* pe/NAME's value for @src; NULL on ENOMEM. */
json_object *etcd_pool_entries_json(const struct vifmac_pool_source *src);
/* @kv (pe/NAME) into @p's entries, ordered by MAC: 0, -EIO, -ENOMEM. */
int etcd_pool_entries_parse(struct etcd_registry *e, const struct etcd_kv *kv, struct etcd_pool *p);
/* The history key-values @from..@to of @s into @p's history, ordered by MAC: 0, -EIO, -ENOMEM. */
int etcd_pool_history_load(struct etcd_registry *e, const struct etcd_snapshot *s, size_t from, size_t to,
			   struct etcd_pool *p);

/* ---------------------------------------------------------------- vifmac-etcd-txn.c */

/* A JSON string of @s in base64. */
json_object *etcd_b64_string(const char *s);
/* The end of the range of every key starting with @prefix (its last byte + 1; ours end in '/'). */
char *etcd_prefix_end(const char *prefix);
json_object *etcd_range_request(const char *prefix);
/* {"@kind": @req}, an operation of a txn. */
json_object *etcd_op(const char *kind, json_object *req);
/* A compare of the mod_revision of @key (or of the range up to @range_end) with @rev. */
json_object *etcd_compare_mod(const char *key, const char *range_end, const char *result, int64_t rev);

/* {"@kind": {"key": @b's text}} (@b freed and emptied); NULL on ENOMEM. */
json_object *etcd_key_op(const char *kind, struct vifmac_strbuf *b);
/* A put of @b's text (freed and emptied) = @value (put); NULL on ENOMEM. */
json_object *etcd_put_op(struct vifmac_strbuf *b, json_object *value);
/* POST /v3/kv/range of [@key, @range_end) at @rev (0: the latest); @limit 0: no limit. */
int etcd_range_at(struct etcd_registry *e, const char *key, const char *range_end, int64_t rev, bool count_only,
		  bool keys_only, int limit, json_object **ret);

/* Adds @b's text (taken) to the ranges @s reads; a duplicate is dropped. */
int etcd_snapshot_add_prefix(struct etcd_snapshot *s, struct vifmac_strbuf *b);
/* Adds @n prefixes (copied) to the ranges @s reads. */
int etcd_snapshot_set_prefixes(struct etcd_snapshot *s, const char *const *prefixes, size_t n);
void etcd_snapshot_free(struct etcd_snapshot *s);
/* Fills @s from a txn answer whose responses are the ranges of @s, in order. */
int etcd_snapshot_parse(struct etcd_registry *e, struct etcd_snapshot *s, json_object *answer);
/* Appends the key-values of a range answer (@rr: its "kvs", absent when none) to @s. */
int etcd_snapshot_add_kvs(struct etcd_registry *e, struct etcd_snapshot *s, json_object *rr);
/* The revision of an answer's header: 0, or -EPROTO. */
int etcd_answer_revision(struct etcd_registry *e, json_object *answer, int64_t *ret_rev);
/* Reads every range of @s at one revision (a txn without compares). */
int etcd_snapshot_read(struct etcd_registry *e, struct etcd_snapshot *s);

bool etcd_same_key(const struct vifmac_record *a, const struct vifmac_record *b);
struct etcd_slot *etcd_model_find(struct etcd_model *m, const struct vifmac_record *rec);
struct etcd_slot *etcd_model_slot(struct etcd_model *m, const struct vifmac_record *rec);
/* The records of a snapshot: m/ keys, and o/ d/ i/ keys (which hold the same records). */
int etcd_model_load(struct etcd_registry *e, struct etcd_model *m, const struct etcd_snapshot *s);
/* The SQLite backend's write_one, on the model: 0, or -EEXIST with @holder, or -ENOMEM. */
int etcd_plan_one(struct etcd_model *m, const struct vifmac_record *rec, enum vifmac_write_mode mode,
		  struct vifmac_record *holder);
/*
 * One txn: if nothing of @s changed (and @extra_compares, taken, hold),
 * the writes that take @s to @m, then @extra_ops (taken). Returns 1 when
 * written; 0 when something changed (with the failure branch's reads of
 * @s's ranges in @ret_answer, when not NULL, for the caller to put); a
 * negative errno.
 */
int etcd_commit(struct etcd_registry *e, const struct etcd_snapshot *s, const struct etcd_model *m,
		json_object *extra_compares, json_object *extra_ops, json_object **ret_answer);
/*
 * Plans on @s (read first unless @assume_empty) and sends the txn; on a
 * lost race, plans again on the snapshot the failure branch returned.
 * Returns what the plan returned (0 when written), or a negative errno.
 */
int etcd_run(struct etcd_registry *e, struct etcd_snapshot *s, bool assume_empty, etcd_plan_fn plan, void *data);

/* ---------------------------------------------------------------- vifmac-etcd-pool-store.c, vifmac-etcd-pool.c */

int etcd_pool_import(struct vifmac_registry *reg, const char *name, const struct vifmac_pool_source *src,
		     int64_t now);
int etcd_pool_remove(struct vifmac_registry *reg, const char *name);
int etcd_pool_list(struct vifmac_registry *reg, const char *name, int64_t now, int64_t quarantine,
		   vifmac_pool_fn fn, void *data);
int etcd_pool_begin(struct vifmac_registry *reg, const char *const *pools, size_t n,
		    const struct vifmac_record *owner, void **ret_view);
int etcd_pool_row(struct vifmac_registry *reg, void *view, const char *name, struct vifmac_pool_row *ret_row);
int etcd_pool_find(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
		   enum vifmac_pool_query q, const struct vifmac_pool_ask *ask, struct vifmac_mac *ret_mac);
int etcd_pool_claim(struct vifmac_registry *reg, void *view, const struct vifmac_pool_row *pool,
		    const struct vifmac_record *owner, const struct vifmac_mac *mac, bool advance,
		    struct vifmac_record *ret_rec, struct vifmac_record *ret_holder);
int etcd_pool_end(struct vifmac_registry *reg, void *view, bool commit);

#endif
