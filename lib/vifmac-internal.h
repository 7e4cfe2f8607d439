/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to libvifmac: not installed. */
#ifndef VIFMAC_INTERNAL_H
#define VIFMAC_INTERNAL_H

#include <libxlutil.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "vifmac.h"

#define VIFMAC_EXPORT __attribute__((visibility("default")))
#define VIFMAC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- policy */

struct vifmac_bridge_prefix {
	char bridge[64];
	uint8_t prefix[3];
	size_t len; /* 2 or 3 */
};

struct vifmac_bridge_chain {
	char bridge[64];
	char script[256];
};

/* One IPv4 → MAC row of the operator's public table. */
struct vifmac_table_entry {
	struct vifmac_ipv4 ip;
	struct vifmac_mac mac;
	int line;
};

struct vifmac_table {
	char *path;
	struct vifmac_table_entry *entries;
	size_t n;
};

struct vifmac_bridge_pools {
	char bridge[64];
	char **pools; /* NULL-terminated */
	size_t n;
};

/* The etcd registry backend's options (etcd_* keys); NULL or 0 when unset. */
struct vifmac_etcd_options {
	char *cacert;        /* CA file for https:// endpoints (else the system's) */
	char *cert, *key;    /* client certificate and key */
	char *user;          /* user for /v3/auth/authenticate, with the password read from: */
	char *password_file;
	char *prefix;        /* key prefix, "/vifmac/" when NULL */
	int timeout_ms;      /* a whole registry call, retries and failover included; 0: registry_timeout_ms */
	int request_timeout_ms; /* one HTTP request to one endpoint */
	char *proxy;         /* etcd_proxy: the only proxy used (none from the environment) */
	int max_answer_mb;   /* a larger answer is refused; 0: 4 MiB */
};

struct vifmac_policy {
	char *path;                  /* NULL: built-in defaults */
	uint8_t prefix[3];
	size_t prefix_len;           /* 2 or 3 */
	char **private_bridges;
	size_t n_private;
	char **public_bridges;
	size_t n_public;
	enum vifmac_bridge_class unlisted;
	struct vifmac_bridge_prefix *bridge_prefixes;
	size_t n_bridge_prefixes;
	struct vifmac_table *public_table; /* NULL when not set */
	enum vifmac_no_ipv4 no_ipv4;
	enum vifmac_explicit_mac explicit_mac;
	enum vifmac_scope scope;
	char *registry;
	char *chain_script;
	struct vifmac_bridge_chain *bridge_chains;
	size_t n_bridge_chains;
	int registry_timeout_ms;     /* bounded wait for the registry */
	enum vifmac_wire_check wire_check;
	struct vifmac_bridge_pools *bridge_pools;
	size_t n_bridge_pools;
	int64_t pool_quarantine; /* seconds */
	struct vifmac_etcd_options etcd;
	char *host_name;             /* host_name: this host's name in the registry; NULL: gethostname() */
	enum vifmac_enforce_mode enforce;
	enum vifmac_enforce_failure enforce_failure;
	char **enforce_exempt_bridges;
	size_t n_enforce_exempt_bridges;
	char **enforce_exempt_domains; /* names or UUIDs */
	size_t n_enforce_exempt_domains;
};

struct vifmac_policy *vifmac_policy_new_default(void);
/*
 * The table of policy keys (vifmac-policy-keys.c). keys_load: every key of
 * the parsed file @cfg (@idx: where each stands) into @p, after refusing
 * unknown keys and keys set twice; -EINVAL with "file:line: ..." as @ctx's
 * error. keys_default: the table's defaults into a zeroed @p. key_string:
 * @key's value as vifmac_ctx_policy_string() gives it (its default when
 * unset), or NULL.
 */
struct vifmac_conf_index;
struct vifmac_conf;
int vifmac_policy_keys_load(struct vifmac_ctx *ctx, const char *path, struct vifmac_conf *cfg,
			    const struct vifmac_conf_index *idx, struct vifmac_policy *p);
void vifmac_policy_keys_default(struct vifmac_policy *p);
const char *vifmac_policy_key_string(const struct vifmac_policy *p, const char *key);
enum vifmac_bridge_class vifmac_ctx_bridge_class_of(const struct vifmac_policy *p, const char *bridge);
void vifmac_policy_free(struct vifmac_policy *p);

/* Reads the public table; errors as "file:line: ..." into ctx's last error. */
int vifmac_table_load(struct vifmac_ctx *ctx, const char *path, struct vifmac_table **ret_table);
void vifmac_table_free(struct vifmac_table *t);
const struct vifmac_table_entry *vifmac_table_find(const struct vifmac_table *t, const struct vifmac_ipv4 *ip);

/* The policy's etcd_* options (never NULL), owned by @ctx. */
const struct vifmac_etcd_options *vifmac_ctx_etcd_options(const struct vifmac_ctx *ctx);

/*
 * The settings the registry backends read, each with its one default
 * (defined in vifmac-policy.c): registry_timeout_ms, pool_quarantine; etcd_prefix,
 * etcd_timeout_ms (else registry_timeout_ms), etcd_request_timeout_ms (at
 * most etcd_timeout_ms), etcd_max_answer_mb (in bytes here).
 */
int vifmac_ctx_registry_timeout_ms(const struct vifmac_ctx *ctx);
int64_t vifmac_ctx_pool_quarantine(const struct vifmac_ctx *ctx); /* seconds */
const char *vifmac_ctx_etcd_prefix(const struct vifmac_ctx *ctx);
int vifmac_ctx_etcd_timeout_ms(const struct vifmac_ctx *ctx);
int vifmac_ctx_etcd_request_timeout_ms(const struct vifmac_ctx *ctx);
size_t vifmac_ctx_etcd_max_answer(const struct vifmac_ctx *ctx);

/*
 * Splits what follows "etcd:" into endpoints: "http[s]://host:port", comma
 * separated, in the order they are tried. On success @ret_endpoints is a
 * NULL-terminated malloc'd array (free each, then it) when not NULL; on
 * -EINVAL @err says what is wrong.
 */
int vifmac_etcd_endpoints_parse(const char *list, char ***ret_endpoints, size_t *ret_n, char *err, size_t errsize);
/*
 * Refuses credentials (etcd_user, etcd_cert) with plain http:// endpoints
 * (@list as vifmac_etcd_endpoints_parse accepted it: one scheme for all).
 * Returns 0, or -EINVAL with the reason in @err.
 */
int vifmac_etcd_transport_check(const char *list, const struct vifmac_etcd_options *o, char *err, size_t errsize);
int vifmac_etcd_parse_answer(struct vifmac_ctx *ctx, const char *answer_text, size_t n_ranges);

/* ---------------------------------------------------------------- conf files */

/*
 * Where each top-level key and each item of a list stands in an xl.conf-syntax
 * text, so that errors can name file:line (libxlutil gives values but neither
 * key iteration nor line numbers); read with libxlutil's tokens (below).
 */
struct vifmac_conf_key {
	char name[64];
	int line;
	bool add;        /* "key += value" */
	int *item_lines; /* for list values: the line of each item */
	size_t *item_offsets; /* and the byte offset of its opening quote (or first byte: a number, a list) */
	size_t n_items;
	bool append;     /* set with "+=" */
};

struct vifmac_conf_index {
	struct vifmac_conf_key *keys;
	size_t n;
};

/*
 * The tokens of libxlutil 4.17's lexer (tools/libs/util/libxlu_cfg_l.l) for
 * the text it accepts; anything else is CONF_T_OTHER, one byte long (libxlutil
 * refuses it, or, for a '#' alone at the end, ignores it).
 */
enum vifmac_conf_token {
	CONF_T_END,     /* the end of the text */
	CONF_T_OTHER,
	CONF_T_IDENT,   /* [a-z][._0-9a-z]* */
	CONF_T_NUMBER,  /* [0-9][0-9a-fx]* */
	CONF_T_STRING,  /* '...' or "..." on one line */
	CONF_T_NEWLINE, /* a newline, or a comment and its newline */
	CONF_T_ASSIGN,
	CONF_T_ADD,     /* += */
	CONF_T_SEMI,
	CONF_T_COMMA,
	CONF_T_OPEN,
	CONF_T_CLOSE,
};
struct vifmac_conf_lexer {
	const char *data;
	size_t len, pos;
	int line; /* of the byte at pos */
	/* the last token: its line and first byte; its text (a string's between its quotes, escapes as written) */
	int tok_line;
	size_t tok_offset;
	const char *text;
	size_t text_len;
	bool escaped; /* a string with a backslash escape in it */
};
void vifmac_conf_lexer_init(struct vifmac_conf_lexer *lx, const char *data, size_t len);
enum vifmac_conf_token vifmac_conf_lex(struct vifmac_conf_lexer *lx);
int vifmac_conf_index_build(const char *data, size_t len, struct vifmac_conf_index *ret_idx);
void vifmac_conf_index_dispose(struct vifmac_conf_index *idx);
const struct vifmac_conf_key *vifmac_conf_index_find(const struct vifmac_conf_index *idx, const char *name);
/* The line of @name's @item'th list item ("key += [...]" chains followed), else of the key, else 0. */
int vifmac_conf_index_line(const struct vifmac_conf_index *idx, const char *name, int item);
/*
 * libxlutil, dlopen()ed on first use (vifmac-xlu-dl.c): it NEEDs libxenlight
 * and a dozen libraries behind it, which cost a hotplug run more than all its
 * own work, while the policy file's common case is read without it
 * (vifmac-conf-values.c). Calls go through this table, filled with
 * dlsym(RTLD_DEFAULT) after a RTLD_GLOBAL load, so that the first definition
 * in the process wins as with direct linking (an LD_PRELOAD interposer, or a
 * program that links libxlutil itself).
 */
#define XLU_DL_SYMBOLS(X)                 \
	X(xlu_cfg_init)                   \
	X(xlu_cfg_readdata)               \
	X(xlu_cfg_destroy)                \
	X(xlu_cfg_get_string)             \
	X(xlu_cfg_get_long)               \
	X(xlu_cfg_get_list)               \
	X(xlu_cfg_get_listitem)           \
	X(xlu_vif_parse_rate)

struct vifmac_xlu_dl {
#define X(name) typeof(name) *name;
	XLU_DL_SYMBOLS(X)
#undef X
};
extern struct vifmac_xlu_dl vifmac_xlu_dl;

/* Loads libxlutil once per process: 0, or -ELIBACC (vifmac_xlu_dl_error() says why). */
int vifmac_xlu_dl_load(void);
const char *vifmac_xlu_dl_error(void);

#ifndef VIFMAC_XLU_DL_LOADER
#define xlu_cfg_init (*vifmac_xlu_dl.xlu_cfg_init)
#define xlu_cfg_readdata (*vifmac_xlu_dl.xlu_cfg_readdata)
#define xlu_cfg_destroy (*vifmac_xlu_dl.xlu_cfg_destroy)
#define xlu_cfg_get_string (*vifmac_xlu_dl.xlu_cfg_get_string)
#define xlu_cfg_get_long (*vifmac_xlu_dl.xlu_cfg_get_long)
#define xlu_cfg_get_list (*vifmac_xlu_dl.xlu_cfg_get_list)
#define xlu_cfg_get_listitem (*vifmac_xlu_dl.xlu_cfg_get_listitem)
#define xlu_vif_parse_rate (*vifmac_xlu_dl.xlu_vif_parse_rate)
#endif

/* A libxlutil config whose report (its error messages) goes to memory. */
struct vifmac_xlu {
	XLU_Config *xc;
	FILE *report_f;
	char *report;
	size_t report_len;
};
/*
 * Loads libxlutil if need be; returns 0, -ENOMEM, or -ELIBACC (then
 * vifmac_xlu_dl_error() says why); @source names the text in libxlutil's messages.
 */
int vifmac_xlu_open(struct vifmac_xlu *x, const char *source);
/* The first line libxlutil reported after @skip (a prefix to drop when present), or NULL. */
const char *vifmac_xlu_report(struct vifmac_xlu *x, const char *skip);
void vifmac_xlu_close(struct vifmac_xlu *x);

/*
 * The values of an xl.conf-syntax file, as libxlutil gives them
 * (vifmac-conf-values.c): read by a parser of the common subset (plain
 * strings, numbers, flat lists, comments, "=" and "+="), and by libxlutil
 * for the whole file whenever the text leaves that subset, so that values
 * and error messages are libxlutil's own in every case.
 */
struct vifmac_conf;
/* A list's items; NULL where an item is not a string (a list in the list). Owned by the vifmac_conf. */
struct vifmac_conf_list {
	int n;
	const char *const *items;
};
enum vifmac_conf_reader {
	VIFMAC_CONF_AUTO,    /* the subset parser, libxlutil when the text leaves it */
	VIFMAC_CONF_XLUTIL,  /* libxlutil for everything (tests compare the two) */
};
/*
 * Reads @data (@len bytes, NUL-free) named @source in messages. Returns 0
 * and *@ret_conf; -EINVAL when libxlutil refuses the text, with @err its
 * first report line ("" when it reported nothing); -ELIBACC (libxlutil
 * cannot be loaded, @err says why); -ENOMEM.
 */
int vifmac_conf_read(const char *source, const char *data, size_t len, enum vifmac_conf_reader reader, char *err,
		     size_t errsize, struct vifmac_conf **ret_conf);
void vifmac_conf_free(struct vifmac_conf *c);
/* True when libxlutil read this one. */
bool vifmac_conf_read_by_xlutil(const struct vifmac_conf *c);
/* As xlu_cfg_get_string: 0 and *@ret (owned by @c); -ESRCH unset; -EINVAL a list. */
int vifmac_conf_get_string(const struct vifmac_conf *c, const char *key, const char **ret);
/* As xlu_cfg_get_long: 0 and *@ret; -ESRCH; -EINVAL (a list, "+=", not a strtol(,,0) number); -ERANGE. */
int vifmac_conf_get_long(const struct vifmac_conf *c, const char *key, long *ret);
/* As xlu_cfg_get_list (+ xlu_cfg_get_listitem): 0 and *@ret; -ESRCH; -EINVAL not a list; -ENOMEM. */
int vifmac_conf_get_list(struct vifmac_conf *c, const char *key, struct vifmac_conf_list *ret);
/* Reads a whole file into a NUL-terminated buffer. */
int vifmac_read_file(const char *path, char **ret_data, size_t *ret_len);
/* What vifmac_read_file()'s error means, for a message ("not a regular file", ...). */
const char *vifmac_read_file_strerror(int err);

/* ---------------------------------------------------------------- vif specs */

/* vifmac_vifspec_parse, and on -EINVAL @err says which item and what xl does with it. */
int vifmac_vifspec_parse_explained(const char *s, char *err, size_t errsize, struct vifmac_vifspec **ret_spec);
/*
 * The values xl refuses (devid, mtu, rate: xl exits), ignores (type) or keeps
 * but nothing can use (a bridge name with white space, an empty one).
 * Returns 0, or -EINVAL with @err saying why; -ENOMEM.
 */
int vifmac_vifspec_check_values(const struct vifmac_vifspec *spec, char *err, size_t errsize);
/* A bridge name vif-bridge can use (not empty, no white space, <= 15 bytes); @what names it in @err. */
int vifmac_bridge_name_check(const char *v, const char *what, char *err, size_t errsize);

/* ---------------------------------------------------------------- context */

struct vifmac_ctx {
	int refcount;
	vifmac_log_fn log_fn;
	void *log_data;
	int log_priority;
	struct vifmac_policy *policy;
	struct vifmac_sys_ops sys;
	void *sys_data;
	bool sys_owned; /* sys_data is the production seam's, freed with the context */
	char last_error[1024];
};

void vifmac_log(struct vifmac_ctx *ctx, int priority, const char *file, int line, const char *fn,
		const char *format, ...) VIFMAC_PRINTF(6, 7);

#define vifmac_log_cond(ctx, prio, ...)                                                     \
	do {                                                                                \
		if ((ctx)->log_priority >= (prio))                                          \
			vifmac_log((ctx), (prio), __FILE__, __LINE__, __func__, __VA_ARGS__); \
	} while (0)

#define dbg(ctx, ...) vifmac_log_cond(ctx, VIFMAC_LOG_DEBUG, __VA_ARGS__)
#define info(ctx, ...) vifmac_log_cond(ctx, VIFMAC_LOG_INFO, __VA_ARGS__)
#define warn(ctx, ...) vifmac_log_cond(ctx, VIFMAC_LOG_WARNING, __VA_ARGS__)

/* Sets the context's last error and returns @err (a negative errno) for tail calls. */
int vifmac_set_error(struct vifmac_ctx *ctx, int err, const char *format, ...) VIFMAC_PRINTF(3, 4);
void vifmac_clear_error(struct vifmac_ctx *ctx);

/* The production seam (libxenstore, libxl, rtnetlink, nftables, clock, uname: vifmac-sys.c). */
extern const struct vifmac_sys_ops vifmac_sys_production;
void *vifmac_sys_production_new(void);
void vifmac_sys_production_free(void *data);

/* rtnetlink dumps (vifmac-netlink.c); arrays owned by the caller */
int vifmac_netlink_list_links(struct vifmac_link_info **ret_links, size_t *ret_n);
int vifmac_netlink_list_fdb(struct vifmac_fdb_entry **ret_entries, size_t *ret_n);
int vifmac_netlink_find_fdb(const struct vifmac_mac *mac, struct vifmac_fdb_entry **ret_entries, size_t *ret_n);
int vifmac_netlink_list_neigh(struct vifmac_neigh_entry **ret_entries, size_t *ret_n);

/* nftables for the production seam (vifmac-nft.c) */
#define VIFMAC_NFT_TABLE "bridge vifmac"
/* Interface names go into nftables commands: only what a chain name can carry. */
bool vifmac_nft_ifname_ok(const char *s);
struct vifmac_nft;
struct vifmac_nft *vifmac_nft_new(void);
void vifmac_nft_free(struct vifmac_nft *n);
/* what nftables said about the last failure, "" when none */
const char *vifmac_nft_error(const struct vifmac_nft *n);
int vifmac_nft_add(struct vifmac_nft *n, const char *ifname, const struct vifmac_mac *mac);
int vifmac_nft_remove(struct vifmac_nft *n, const char *ifname, const struct vifmac_mac *hint);
int vifmac_nft_list(struct vifmac_nft *n, struct vifmac_enforce_entry **ret_entries, size_t *ret_n);
/* nftables' own words for the production seam's last failure, else strerror(-@err) */
const char *vifmac_sys_enforce_error(const struct vifmac_ctx *ctx, int err);

/*
 * The hotplug pipeline's last step (vifmac-enforce.c): hold the vif (and an
 * HVM NIC's tap) to @d->mac as the policy says. On a refusal the claim is
 * released and @d->refusal filled; with enforce_failure = "warn" the failure
 * goes to @d->warning and 0 is returned.
 */
int vifmac_hotplug_enforce(struct vifmac_ctx *ctx, struct vifmac_registry *reg, const struct vifmac_hotplug_vif *vif,
			   struct vifmac_decision *d);
/* Removes the vif's (and its tap's) rules; never fails, a failure is logged. */
void vifmac_hotplug_unenforce(struct vifmac_ctx *ctx, const struct vifmac_hotplug_vif *vif);

/* Fills @f whole: what audit and watch report (vifmac-audit.c). */
void vifmac_finding_vset(struct vifmac_finding *f, enum vifmac_severity sev, const char *kind,
			 const struct vifmac_mac *mac, const char *format, va_list args);
/* @port is the vif's interface or its HVM tap (NAME-emu) (vifmac-audit.c). */
bool vifmac_audit_port_of(const struct vifmac_running_vif *v, const char *port);
/*
 * The rules against the vifs (vifmac-audit.c), for audit and watch: each
 * connected vif the policy filters without its rules or held to another
 * MAC ("missing-rules", critical), each exempt one ("enforce-exempt", ok),
 * rules no vif of this host owns ("stale-rules", warning). @need_link (the
 * watch, which follows links as they come and go): a vif's interface is
 * judged only once dom0 has it, and rules for a name dom0 has no link of
 * are stale too.
 */
void vifmac_audit_rules(struct vifmac_ctx *ctx, const struct vifmac_running_vif *vifs, size_t n_vifs,
			const struct vifmac_link_info *links, size_t n_links, const struct vifmac_enforce_entry *rules,
			size_t n, bool need_link, vifmac_finding_fn fn, void *data);

/*
 * vifmac watch's bounds (vifmac-watch.c): MACs whose last port it keeps
 * (the oldest go first beyond it), and how long a rules finding must last
 * to be reported (a hotplug run's window between rules and port is shorter).
 */
#define VIFMAC_WATCH_MAX_SEEN 16384
#define VIFMAC_WATCH_SETTLE_S 2.0

/* The production watch_bridges: RTNLGRP_NEIGH and RTNLGRP_LINK notifications, until @fn returns non-zero. */
int vifmac_netlink_watch(int (*fn)(void *data, const struct vifmac_watch_event *e, int *wake_ms), void *data);

/* Seam helpers: -EOPNOTSUPP when the member is unset. */
int64_t vifmac_now(struct vifmac_ctx *ctx);
/*
 * This host's name as the registry records it: the policy's host_name, else
 * the seam's. -EINVAL (with the context's error) for a name that does not
 * tell hosts apart ("", "localhost", "(none)").
 */
int vifmac_hostname(struct vifmac_ctx *ctx, char *buf, size_t len);

/*
 * Registry calls for the hotplug pipeline (vifmac-registry.c).
 * release_own: like vifmac_registry_release, but only claims recorded by this
 * host and updated at or before @updated_max (INT64_MAX: any).
 * takeover: replaces @stale, a claim recorded by this host whose domain is
 * gone, by the claim @rec (host and times filled here) in one transaction:
 * 0; -ESTALE when @stale is no longer as read; -EEXIST with @ret_holder;
 * -EPERM when @stale is another host's.
 */
struct vifmac_registry;
int vifmac_registry_release_own(struct vifmac_registry *reg, const struct vifmac_mac *mac, const char *uuid,
				int devid, int64_t updated_max);
int vifmac_registry_takeover(struct vifmac_registry *reg, const struct vifmac_record *stale,
			     const struct vifmac_record *rec, struct vifmac_record *ret_holder);

/* ---------------------------------------------------------------- checks (vifmac-checks.c) */

/* "backend/vif/<domid>/<devid>", optionally under /local/domain/0/: 0 or -EINVAL. */
int vifmac_xenbus_path_parse(const char *p, unsigned *ret_domid, unsigned *ret_devid);
/* Resets @ref to a conflict over @mac whose holder was seen in @where ("xenstore", "registry", ...). */
void vifmac_holder_set(struct vifmac_refusal *ref, const struct vifmac_mac *mac, const char *where);
/*
 * vifmac_check_mac during a migration's hand-over: the vif of the same devid
 * of @peer_domid (the other half of the migration, or -1) is the same guest
 * moving, not a conflict.
 */
int vifmac_check_mac_migrating(struct vifmac_ctx *ctx, const struct vifmac_mac *mac, const char *scope_key,
			       const struct vifmac_hotplug_vif *self, int peer_domid, unsigned flags,
			       struct vifmac_refusal *ret_refusal);

/* ---------------------------------------------------------------- decisions (vifmac-derive.c) */

/* Fills @d's refusal (kind and message) and returns @err, for tail calls. */
int vifmac_refuse(struct vifmac_decision *d, enum vifmac_refusal_kind kind, int err, const char *format, ...)
	VIFMAC_PRINTF(4, 5);

/* ---------------------------------------------------------------- leaf helpers (vifmac-util.c) */

/* A MAC as a 48-bit number and back (ranges, pools). */
static inline uint64_t vifmac_mac_to_u64(const struct vifmac_mac *m)
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | m->b[i];
	return v;
}

static inline void vifmac_mac_from_u64(uint64_t v, struct vifmac_mac *m)
{
	for (int i = 5; i >= 0; i--) {
		m->b[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* @s is one of the @n strings of @v */
bool vifmac_strv_has(char *const *v, size_t n, const char *s);
/* Frees the @n strings of @v, then @v (NULL with 0 is fine). */
void vifmac_strv_free(char **v, size_t n);
/* strlcpy semantics; returns true when @src fitted. */
bool vifmac_strscpy(char *dst, const char *src, size_t size);
/*
 * The first of @n items (of @size bytes at @base) equal under @cmp to an
 * earlier one, found in n log n (a policy list or a pool file may hold
 * hundreds of thousands). Returns 1 with its index in @ret_dup and the
 * earlier one's in @ret_first, 0 when all differ (outputs untouched), -ENOMEM.
 */
int vifmac_first_duplicate(const void *base, size_t n, size_t size, int (*cmp)(const void *a, const void *b),
			   size_t *ret_dup, size_t *ret_first);
/*
 * Makes room for one more item after the @n items of @size bytes of @array
 * (NULL when @n is 0) by doubling, so that appending n items costs O(n) even
 * with allocators that copy on every realloc: the capacity is implied by @n,
 * so the array must only ever grow through this. Returns the array to use
 * (@array itself, or a new one as realloc gives), or NULL (out of memory,
 * @array unchanged).
 */
void *vifmac_array_grow(void *array, size_t n, size_t size);
/*
 * The first item of @b (in its order) equal to an item of @a, where neither
 * array repeats itself: n log n. Returns 1 with the indexes in @ret_b and
 * @ret_a, 0 when none (outputs untouched), -ENOMEM.
 */
int vifmac_first_shared(const void *a, size_t na, const void *b, size_t nb, size_t size,
			int (*cmp)(const void *x, const void *y), size_t *ret_b, size_t *ret_a);
/* splits "key=value"; @key gets up to @keysize-1 bytes; returns the value or NULL when no '=' */
const char *vifmac_split_pair(const char *s, char *key, size_t keysize);
/* hex prefix "02:00" or "02:00:0a" into @ret (2 or 3 bytes); -EINVAL otherwise */
int vifmac_prefix_parse(const char *s, uint8_t ret[3], size_t *ret_len);

#endif
