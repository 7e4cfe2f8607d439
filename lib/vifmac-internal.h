/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to libvifmac: not installed. */
#ifndef VIFMAC_INTERNAL_H
#define VIFMAC_INTERNAL_H

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
	enum vifmac_enforce_mode enforce;
	enum vifmac_enforce_failure enforce_failure;
	char **enforce_exempt_bridges;
	size_t n_enforce_exempt_bridges;
	char **enforce_exempt_domains; /* names or UUIDs */
	size_t n_enforce_exempt_domains;
};

struct vifmac_policy *vifmac_policy_new_default(void);
enum vifmac_bridge_class vifmac_ctx_bridge_class_of(const struct vifmac_policy *p, const char *bridge);
void vifmac_policy_free(struct vifmac_policy *p);

/* Reads the public table; errors as "file:line: ..." into ctx's last error. */
int vifmac_table_load(struct vifmac_ctx *ctx, const char *path, struct vifmac_table **ret_table);
void vifmac_table_free(struct vifmac_table *t);
const struct vifmac_table_entry *vifmac_table_find(const struct vifmac_table *t, const struct vifmac_ipv4 *ip);

/* The policy's etcd_* options (never NULL), owned by @ctx. */
const struct vifmac_etcd_options *vifmac_ctx_etcd_options(const struct vifmac_ctx *ctx);

/*
 * Splits what follows "etcd:" into endpoints: "http[s]://host:port", comma
 * separated, in the order they are tried. On success @ret_endpoints is a
 * NULL-terminated malloc'd array (free each, then it) when not NULL; on
 * -EINVAL @err says what is wrong.
 */
int vifmac_etcd_endpoints_parse(const char *list, char ***ret_endpoints, size_t *ret_n, char *err, size_t errsize);
int vifmac_etcd_parse_answer(struct vifmac_ctx *ctx, const char *answer_text, size_t n_ranges);

/* ---------------------------------------------------------------- conf files */

/*
 * A light scanner over xl.conf syntax that records where each top-level key
 * and each string of a list stands, so that errors can name file:line
 * (libxlutil gives values but neither key iteration nor line numbers).
 */
struct vifmac_conf_key {
	char name[64];
	int line;
	int *item_lines; /* for list values: the line of each item */
	size_t n_items;
};

struct vifmac_conf_index {
	struct vifmac_conf_key *keys;
	size_t n;
};

int vifmac_conf_index_build(const char *data, size_t len, struct vifmac_conf_index *ret_idx);
void vifmac_conf_index_dispose(struct vifmac_conf_index *idx);
const struct vifmac_conf_key *vifmac_conf_index_find(const struct vifmac_conf_index *idx, const char *name);
/* The line of @name's @item'th list item, else of the key, else 0. */
int vifmac_conf_index_line(const struct vifmac_conf_index *idx, const char *name, int item);
/* Reads a whole file into a NUL-terminated buffer. */
int vifmac_read_file(const char *path, char **ret_data, size_t *ret_len);

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

/* The production seam (libxenstore, /sys/class/net, clock, uname). */
extern const struct vifmac_sys_ops vifmac_sys_production;
void *vifmac_sys_production_new(void);
void vifmac_sys_production_free(void *data);

/* rtnetlink dumps (vifmac-netlink.c); arrays owned by the caller */
int vifmac_netlink_list_links(struct vifmac_link_info **ret_links, size_t *ret_n);
int vifmac_netlink_list_fdb(struct vifmac_fdb_entry **ret_entries, size_t *ret_n);
int vifmac_netlink_find_fdb(const struct vifmac_mac *mac, struct vifmac_fdb_entry **ret_entries, size_t *ret_n);
int vifmac_netlink_list_neigh(struct vifmac_neigh_entry **ret_entries, size_t *ret_n);

/* nftables for the production seam (vifmac-enforce.c) */
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

/* A vif backend of this host, as the audit and the watch read it (vifmac-audit.c). */
struct audit_vif {
	unsigned domid;
	unsigned devid;
	struct vifmac_mac mac;
	char bridge[64];
	char ip[256];
	char ifname[64];
	char type[16];
	bool connected; /* hotplug-status = connected: the hotplug online ran to its end */
	struct vifmac_domain_info dom;
};


/* Every vif backend of this host; the array is owned by the caller. */
int vifmac_audit_running_vifs(struct vifmac_ctx *ctx, struct audit_vif **ret_vifs, size_t *ret_n);
/* @port is the vif's interface or its HVM tap (NAME-emu). */
bool vifmac_audit_port_of(const struct audit_vif *v, const char *port);

/* Calls @fn for each bridge FDB entry the kernel learns (RTNLGRP_NEIGH) until @fn returns non-zero. */
int vifmac_netlink_watch_fdb(int (*fn)(void *data, const struct vifmac_fdb_entry *e), void *data);

/* Seam helpers: -EOPNOTSUPP when the member is unset. */
int64_t vifmac_now(struct vifmac_ctx *ctx);
int vifmac_hostname(struct vifmac_ctx *ctx, char *buf, size_t len);

/* ---------------------------------------------------------------- small helpers */

/* Fills @d's refusal (kind and message) and returns @err, for tail calls. */
int vifmac_refuse(struct vifmac_decision *d, enum vifmac_refusal_kind kind, int err, const char *format, ...)
	VIFMAC_PRINTF(4, 5);

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
/* strlcpy semantics; returns true when @src fitted. */
bool vifmac_strscpy(char *dst, const char *src, size_t size);
/* splits "key=value"; @key gets up to @keysize-1 bytes; returns the value or NULL when no '=' */
const char *vifmac_split_pair(const char *s, char *key, size_t keysize);
/* hex prefix "02:00" or "02:00:0a" into @ret (2 or 3 bytes); -EINVAL otherwise */
int vifmac_prefix_parse(const char *s, uint8_t ret[3], size_t *ret_len);

#endif
