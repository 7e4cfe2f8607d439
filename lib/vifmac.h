/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvifmac — deterministic, unique and accountable MAC addresses for Xen vifs.
 *
 * Conventions (see README.md, "Library"):
 *  - functions return 0 or a negative errno; constructors return NULL on failure;
 *  - ret_ out-parameters come last and are written only on success;
 *  - the library never prints: it logs through the context's callback, and a
 *    failed call leaves a one-line explanation in vifmac_ctx_last_error().
 */
#ifndef VIFMAC_H
#define VIFMAC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIFMAC_MAC_STRLEN 18  /* "aa:bb:cc:dd:ee:ff" + NUL */
#define VIFMAC_IPV4_STRLEN 16 /* "255.255.255.255" + NUL */
#define VIFMAC_UUID_STRLEN 37

/* ---------------------------------------------------------------- addresses */

struct vifmac_mac {
	uint8_t b[6];
};

struct vifmac_ipv4 {
	uint8_t b[4];
};

/**
 * vifmac_mac_parse:
 * @s: "aa:bb:cc:dd:ee:ff", hex digits in either case, nothing else
 * @ret_mac: the result; untouched on error
 *
 * Returns: 0, or -EINVAL when @s is not exactly six ':'-separated hex pairs.
 */
int vifmac_mac_parse(const char *s, struct vifmac_mac *ret_mac);

/**
 * vifmac_mac_format:
 * @mac: the address
 * @buf: at least VIFMAC_MAC_STRLEN bytes; receives lower-case "aa:bb:cc:dd:ee:ff"
 *
 * Returns: @buf.
 */
char *vifmac_mac_format(const struct vifmac_mac *mac, char *buf);

/** vifmac_mac_is_multicast: true when the I/G bit (bit 0 of the first octet) is set. */
bool vifmac_mac_is_multicast(const struct vifmac_mac *mac);
/** vifmac_mac_is_local: true when the U/L bit (bit 1 of the first octet) is set. */
bool vifmac_mac_is_local(const struct vifmac_mac *mac);
/** vifmac_mac_is_xen_random: true inside libxl's random range 00:16:3e:00-7f:xx:xx. */
bool vifmac_mac_is_xen_random(const struct vifmac_mac *mac);
/** vifmac_mac_equal: byte equality. */
bool vifmac_mac_equal(const struct vifmac_mac *a, const struct vifmac_mac *b);

/**
 * vifmac_mac_eui64_link_local:
 * @mac: the address
 * @buf: at least 40 bytes; receives the fe80::/64 address SLAAC gives this MAC
 *       (RFC 4291 appendix A: U/L bit flipped, ff:fe inserted), compressed form.
 *
 * Returns: @buf.
 */
char *vifmac_mac_eui64_link_local(const struct vifmac_mac *mac, char *buf);

/**
 * vifmac_ipv4_parse:
 * @s: a dotted quad: four decimal octets 0-255, no leading zeros, no short
 *     forms ("10.1"), no octal or hex, nothing before or after
 * @ret_ip: the result; untouched on error
 *
 * Returns: 0, or -EINVAL.
 */
int vifmac_ipv4_parse(const char *s, struct vifmac_ipv4 *ret_ip);

/** vifmac_ipv4_format: writes the dotted quad into @buf (VIFMAC_IPV4_STRLEN); returns @buf. */
char *vifmac_ipv4_format(const struct vifmac_ipv4 *ip, char *buf);

/**
 * vifmac_iplist_first_ipv4:
 * @list: a vif's ip= value: addresses separated by spaces, IPv4 dotted quads
 *        or IPv6 addresses, each optionally followed by "/prefixlen"
 * @ret_ip: the first IPv4 address of the list; untouched on error
 * @ret_bad: on -EINVAL, set (when not NULL) to a malloc'd copy of the first
 *           malformed entry, owned by the caller
 *
 * Every entry must be well formed, whether or not it is the one used.
 *
 * Returns: 0; -ENOENT when the list is empty or holds only IPv6 addresses;
 * -EINVAL when an entry is malformed.
 */
int vifmac_iplist_first_ipv4(const char *list, struct vifmac_ipv4 *ret_ip, char **ret_bad);

/* ---------------------------------------------------------------- vif specs */

/*
 * A vif spec as xl writes it: "key=value,key=value,...", and the bare items
 * "trusted" and "untrusted". The parser keeps every item in order so that a
 * spec can be written back with one value changed (vifmac xl-args).
 */
struct vifmac_vifspec;

/**
 * vifmac_vifspec_parse:
 * @s: the spec (one item of a domain config's vif = [ ... ] list)
 * @ret_spec: the parsed spec, owned by the caller (vifmac_vifspec_free); untouched on error
 *
 * Items are split as xl splits them (',' separated, leading spaces skipped,
 * empty items ignored).
 *
 * Returns: 0; -EINVAL when an item is neither key=value with a key xl knows
 * nor "trusted"/"untrusted", or a key appears twice; -ENOMEM.
 */
int vifmac_vifspec_parse(const char *s, struct vifmac_vifspec **ret_spec);
/** vifmac_vifspec_free: frees @spec; NULL is allowed. */
void vifmac_vifspec_free(struct vifmac_vifspec *spec);
/** vifmac_vifspec_get: the value of @key, owned by @spec ("" for a bare "trusted"), or NULL when absent. */
const char *vifmac_vifspec_get(const struct vifmac_vifspec *spec, const char *key);
/** vifmac_vifspec_set: sets @key (appended when absent). Returns 0 or -ENOMEM. */
int vifmac_vifspec_set(struct vifmac_vifspec *spec, const char *key, const char *value);
/**
 * vifmac_vifspec_format: the spec as "k=v,k=v" in its original order.
 * Returns: a malloc'd string owned by the caller, or NULL on ENOMEM.
 */
char *vifmac_vifspec_format(const struct vifmac_vifspec *spec);

/* ---------------------------------------------------------------- context */

struct vifmac_ctx;

enum vifmac_log_priority {
	VIFMAC_LOG_ERR = 3,
	VIFMAC_LOG_WARNING = 4,
	VIFMAC_LOG_INFO = 6,
	VIFMAC_LOG_DEBUG = 7,
};

typedef void (*vifmac_log_fn)(void *data, int priority, const char *file, int line,
			      const char *fn, const char *format, va_list args);

/**
 * vifmac_ctx_new: a context with the built-in policy defaults, the production
 * system seam, the log priority from $VIFMAC_LOG ("err", "warning", "info",
 * "debug" or a number; default err) and a stderr logger.
 *
 * Returns: a context with one reference, or NULL on ENOMEM.
 */
struct vifmac_ctx *vifmac_ctx_new(void);
/** vifmac_ctx_ref: takes a reference; returns @ctx. */
struct vifmac_ctx *vifmac_ctx_ref(struct vifmac_ctx *ctx);
/** vifmac_ctx_unref: drops a reference, freeing on the last; NULL is allowed. Returns NULL. */
struct vifmac_ctx *vifmac_ctx_unref(struct vifmac_ctx *ctx);
void vifmac_ctx_set_log_fn(struct vifmac_ctx *ctx, vifmac_log_fn fn, void *data);
void vifmac_ctx_set_log_priority(struct vifmac_ctx *ctx, int priority);
int vifmac_ctx_get_log_priority(const struct vifmac_ctx *ctx);

/**
 * vifmac_ctx_last_error: a one-line explanation of the last failed call on
 * @ctx (naming the file and line, domain or vif involved), or "" when none.
 * Owned by @ctx; valid until the next call on @ctx.
 */
const char *vifmac_ctx_last_error(const struct vifmac_ctx *ctx);

/* ---------------------------------------------------------------- policy */

#define VIFMAC_DEFAULT_CONFIG "/etc/xen/vifmac.conf"
#define VIFMAC_DEFAULT_REGISTRY "sqlite:/var/lib/vifmac/registry.db"

enum vifmac_bridge_class {
	VIFMAC_BRIDGE_PRIVATE = 0,
	VIFMAC_BRIDGE_PUBLIC,
	VIFMAC_BRIDGE_REFUSE,
};

enum vifmac_no_ipv4 { VIFMAC_NO_IPV4_REFUSE = 0, VIFMAC_NO_IPV4_HASH };
enum vifmac_explicit_mac { VIFMAC_EXPLICIT_VERIFY = 0, VIFMAC_EXPLICIT_HONOUR, VIFMAC_EXPLICIT_OVERRIDE };
enum vifmac_scope { VIFMAC_SCOPE_GLOBAL = 0, VIFMAC_SCOPE_BRIDGE };
enum vifmac_wire_check { VIFMAC_WIRE_REFUSE = 0, VIFMAC_WIRE_WARN, VIFMAC_WIRE_OFF };

/**
 * vifmac_ctx_load_policy:
 * @path: the policy file; NULL means $VIFMAC_CONFIG, else /etc/xen/vifmac.conf
 *
 * Reads and validates the whole file (xl.conf syntax, libxlutil) and the
 * public_table it names. On error the context keeps its previous policy.
 *
 * Returns: 0; -ENOENT when the file does not exist; -EINVAL when it is
 * malformed (vifmac_ctx_last_error() says "file:line: ..."); -EIO, -ENOMEM.
 */
int vifmac_ctx_load_policy(struct vifmac_ctx *ctx, const char *path);

/** vifmac_ctx_policy_path: the file the current policy came from, or NULL for built-in defaults. */
const char *vifmac_ctx_policy_path(const struct vifmac_ctx *ctx);
/** vifmac_ctx_bridge_class: how the policy classifies @bridge. */
enum vifmac_bridge_class vifmac_ctx_bridge_class(const struct vifmac_ctx *ctx, const char *bridge);
/** vifmac_ctx_scope: the policy's uniqueness scope. */
enum vifmac_scope vifmac_ctx_scope(const struct vifmac_ctx *ctx);
/** vifmac_ctx_registry_url: the policy's registry= (default VIFMAC_DEFAULT_REGISTRY), owned by @ctx. */
const char *vifmac_ctx_registry_url(const struct vifmac_ctx *ctx);
/** vifmac_ctx_policy_string: a policy key's string value as loaded (chain_script, ...), owned by @ctx, or NULL. */
const char *vifmac_ctx_policy_string(const struct vifmac_ctx *ctx, const char *key);
/**
 * vifmac_ctx_bridge_chain: the network script to chain to for @bridge:
 * bridge_chain's entry, else chain_script, else "vif-bridge". Owned by @ctx.
 */
const char *vifmac_ctx_bridge_chain(const struct vifmac_ctx *ctx, const char *bridge);

/* ---------------------------------------------------------------- decisions */

enum vifmac_rule {
	VIFMAC_RULE_NONE = 0,
	VIFMAC_RULE_IP_DERIVED,   /* prefix + IPv4 bytes */
	VIFMAC_RULE_PUBLIC_TABLE, /* operator's IP→MAC table */
	VIFMAC_RULE_HASH,         /* no IPv4: hash of domain UUID + devid */
	VIFMAC_RULE_EXPLICIT,     /* the admin's mac=, kept (explicit_mac = "honour") */
	VIFMAC_RULE_POOL,         /* allocated from the bridge's pools at claim time (no MAC yet) */
};

enum vifmac_refusal_kind {
	VIFMAC_REFUSAL_NONE = 0,
	VIFMAC_REFUSAL_POLICY,      /* the policy gives no MAC, or forbids the one asked */
	VIFMAC_REFUSAL_CONFLICT,    /* the MAC is held by someone else */
	VIFMAC_REFUSAL_INPUT,       /* malformed input (ip=, mac=, xenstore value, ...) */
	VIFMAC_REFUSAL_UNAVAILABLE, /* the registry or the system could not be asked */
};

/* Who holds a MAC, and where that was seen: the evidence of a conflict. */
struct vifmac_holder {
	char where[32];   /* "registry", "xenstore", "dom0-link", "domain-config", "fdb", "neighbour" */
	char domain[128]; /* holder's domain name, or "" */
	char uuid[VIFMAC_UUID_STRLEN];
	int devid;        /* -1 when not a vif */
	char host[256];
	char detail[256]; /* free text: link name, bridge port, reservation note, ... */
	int64_t since;    /* seconds since the epoch, 0 when unknown */
};

struct vifmac_refusal {
	enum vifmac_refusal_kind kind;
	struct vifmac_mac mac;      /* the MAC at stake, when has_mac */
	bool has_mac;
	struct vifmac_holder holder; /* filled for VIFMAC_REFUSAL_CONFLICT */
	char message[512];           /* one line an admin can act on */
};

/* What the decision engine is asked about. Strings are borrowed. */
struct vifmac_vif {
	const char *bridge;  /* required */
	const char *ip;      /* the vif's ip= value, or NULL */
	const char *domain;  /* domain name, for messages; may be NULL */
	const char *uuid;    /* domain UUID, needed by no_ipv4 = "hash"; may be NULL */
	int devid;           /* -1 when unknown */
	const struct vifmac_mac *mac; /* a mac= the admin wrote, or NULL */
};

struct vifmac_decision {
	struct vifmac_mac mac;
	enum vifmac_rule rule;
	enum vifmac_bridge_class bridge_class;
	char scope_key[64];    /* "*" for scope global, else the bridge name */
	char evidence[256];    /* how the MAC was obtained, e.g. "prefix 02:00 + 192.0.2.10" */
	struct vifmac_refusal refusal; /* kind NONE when the MAC is decided */
	char warning[512];     /* evidence let through by wire_check = "warn", or "" */
};

/**
 * vifmac_decide:
 * @ctx: the context and its policy
 * @vif: the vif
 * @decision: always written; on refusal @decision->refusal says why
 *
 * Applies the policy to one vif: no registry, no system access. For a
 * bridge with pools (bridge_pools), the rule is VIFMAC_RULE_POOL and
 * @decision->mac is not set: vifmac_registry_pool_allocate() gives it.
 *
 * Returns: 0 when a MAC is decided; -EPERM for a policy refusal, -EINVAL for
 * malformed input (both with @decision->refusal filled); -ENOMEM.
 */
int vifmac_decide(struct vifmac_ctx *ctx, const struct vifmac_vif *vif, struct vifmac_decision *decision);

/**
 * vifmac_decide_domain:
 * @ctx: the context
 * @vifs: the domain's vifs, @n of them
 * @decisions: @n decisions, always written
 *
 * vifmac_decide() for each vif, then: two vifs of the domain whose MACs are
 * equal in the same scope are a conflict (both refused, each naming the other).
 *
 * Returns: 0 when every vif has a MAC, else the first vif's error (-EPERM,
 * -EINVAL, -EEXIST).
 */
int vifmac_decide_domain(struct vifmac_ctx *ctx, const struct vifmac_vif *vifs, size_t n,
			 struct vifmac_decision *decisions);

/** vifmac_rule_name: "ip-derived", "public-table", "hash", "explicit", "pool" or "none". Static. */
const char *vifmac_rule_name(enum vifmac_rule rule);
/** vifmac_bridge_class_name: "private", "public" or "refuse". Static. */
const char *vifmac_bridge_class_name(enum vifmac_bridge_class c);
/** vifmac_refusal_kind_name: "policy", "conflict", "input", "unavailable" or "none". Static. */
const char *vifmac_refusal_kind_name(enum vifmac_refusal_kind k);

/* ---------------------------------------------------------------- domain configs */

/*
 * An xl domain configuration file, read as xl 4.17 reads it (libxlutil for
 * the file, xl's rules for type= and each vif spec, xl.conf's vif.default.*
 * for what a vif leaves out): its name, uuid, type and vif list. Where xl
 * would warn and go on, vifmac refuses (vifmac(8), "XL COMPATIBILITY").
 */
struct vifmac_domcfg;

/**
 * vifmac_domcfg_read_xl:
 * @ctx: the context (errors in vifmac_ctx_last_error(), "file:line: ...")
 * @path: the xl config file
 * @xl_conf: xl's global config; NULL means $VIFMAC_XL_CONF (secure_getenv),
 *           else /etc/xen/xl.conf, which may be missing as it may for xl; "" means none
 * @ret_cfg: owned by the caller (vifmac_domcfg_free); untouched on error
 *
 * Returns: 0; -ENOENT (@path, or an @xl_conf given but missing); -EINVAL for a
 * syntax error (either file), a type xl refuses, a malformed vif spec or value,
 * two vifs with one devid; -ENOMEM.
 */
int vifmac_domcfg_read_xl(struct vifmac_ctx *ctx, const char *path, const char *xl_conf,
			  struct vifmac_domcfg **ret_cfg);
/** vifmac_domcfg_read: vifmac_domcfg_read_xl() with @xl_conf NULL. */
/**
 * vifmac_domcfg_from_nic_args:
 * @ctx: the context (errors in vifmac_ctx_last_error())
 * @domain: the domain named on the command line (vifmac_domcfg_name), or NULL
 * @args: xl network-attach's key=value arguments (and bare trusted/untrusted), @n of them
 * @xl_conf: as for vifmac_domcfg_read_xl()
 * @ret_cfg: a config with one vif, as xl network-attach builds it (xl.conf's
 *           vif.default.* then each argument); devid -1 unless devid= is given
 *
 * Returns: 0; -EINVAL for an argument xl refuses or a comma inside one; -ENOENT
 * (an @xl_conf given but missing); -ENOMEM.
 */
int vifmac_domcfg_from_nic_args(struct vifmac_ctx *ctx, const char *domain, char *const *args, size_t n,
				const char *xl_conf, struct vifmac_domcfg **ret_cfg);
int vifmac_domcfg_read(struct vifmac_ctx *ctx, const char *path, struct vifmac_domcfg **ret_cfg);
void vifmac_domcfg_free(struct vifmac_domcfg *cfg);
/** vifmac_domcfg_name: name= of the config, or NULL; owned by @cfg. */
const char *vifmac_domcfg_name(const struct vifmac_domcfg *cfg);
/** vifmac_domcfg_uuid: uuid= of the config, or NULL; owned by @cfg. */
const char *vifmac_domcfg_uuid(const struct vifmac_domcfg *cfg);
/** vifmac_domcfg_type: "pv", "pvh" or "hvm", from type= or builder= as xl matches them (a prefix). Static. */
const char *vifmac_domcfg_type(const struct vifmac_domcfg *cfg);
/** vifmac_domcfg_is_hvm: the type is "hvm". */
bool vifmac_domcfg_is_hvm(const struct vifmac_domcfg *cfg);
size_t vifmac_domcfg_vif_count(const struct vifmac_domcfg *cfg);
/** vifmac_domcfg_vif: the @i'th vif spec, owned by @cfg (it may be changed with vifmac_vifspec_set). */
struct vifmac_vifspec *vifmac_domcfg_vif(const struct vifmac_domcfg *cfg, size_t i);
/** vifmac_domcfg_vif_line: the line of the config file where the @i'th vif spec starts. */
int vifmac_domcfg_vif_line(const struct vifmac_domcfg *cfg, size_t i);
/** vifmac_domcfg_vif_devid: the @i'th vif's devid= as xl sets it (else its position in the list); -1 past the end. */
int vifmac_domcfg_vif_devid(const struct vifmac_domcfg *cfg, size_t i);
/**
 * vifmac_domcfg_vif_get: the value of @key for the @i'th vif as xl hands it
 * to libxl: the spec's, else for bridge, script, gatewaydev and backend
 * xl.conf's vif.default.* (or defaultbridge, vifscript); NULL when neither.
 * Owned by @cfg.
 */
const char *vifmac_domcfg_vif_get(const struct vifmac_domcfg *cfg, size_t i, const char *key);
/** vifmac_domcfg_vif_bridge: vifmac_domcfg_vif_get() of "bridge", else libxl's default "xenbr0". */
const char *vifmac_domcfg_vif_bridge(const struct vifmac_domcfg *cfg, size_t i);
/**
 * vifmac_domcfg_vif_mac:
 * @ret_mac: the @i'th vif's mac=; untouched on error
 *
 * Returns: 0; -ENOENT without mac= or with 00:00:00:00:00:00 (libxl's "unset":
 * it generates a MAC then).
 */
int vifmac_domcfg_vif_mac(const struct vifmac_domcfg *cfg, size_t i, struct vifmac_mac *ret_mac);

/* ---------------------------------------------------------------- registry */

enum vifmac_record_state { VIFMAC_STATE_ACTIVE = 0, VIFMAC_STATE_RESERVED };

/* One registry row: who holds which MAC. */
struct vifmac_record {
	struct vifmac_mac mac;
	char scope_key[64];  /* "*" (scope global) or a bridge name */
	char domain[128];
	char uuid[VIFMAC_UUID_STRLEN];
	int devid;           /* -1 for reservations */
	char bridge[64];
	char ip[64];
	char host[256];
	enum vifmac_record_state state;
	int64_t created;     /* seconds since the epoch */
	int64_t updated;
	char note[256];
	char source[64];     /* the rule or pool the MAC came from */
};

/** vifmac_record_init: zeroes @rec and sets devid = -1, scope_key = "*". */
void vifmac_record_init(struct vifmac_record *rec);

struct vifmac_registry;

/**
 * vifmac_registry_open:
 * @ctx: the context (its seam gives the host name and the clock)
 * @url: "sqlite:/path/to/file.db" or "etcd:https://h1:2379,https://h2:2379,..."
 *       (NULL: the policy's registry=; etcd_* policy keys give TLS, auth, prefix, timeouts)
 * @ret_reg: the open registry, owned by the caller (vifmac_registry_close); untouched on error
 *
 * Creates the file and its folder (0640 / 0750) when absent, migrates an
 * older schema.
 *
 * Returns: 0; -EINVAL for an unknown URL scheme; -EACCES, -EROFS, -ENOSPC,
 * -EIO (corrupt file), -EPROTO (a newer schema than this build knows). For etcd:
 * -EINVAL (a malformed endpoint list), -EACCES (a refused etcd user, an unreadable
 * certificate); the other calls then refuse with -EHOSTUNREACH when no member
 * answers within etcd_timeout_ms (the message names every endpoint and its error),
 * -EACCES (TLS or permission refused), -EBUSY (lost too many races), -E2BIG (a
 * transaction larger than the cluster allows).
 */
int vifmac_registry_open(struct vifmac_ctx *ctx, const char *url, struct vifmac_registry **ret_reg);
/** vifmac_registry_close: closes @reg; NULL is allowed. */
void vifmac_registry_close(struct vifmac_registry *reg);

/**
 * vifmac_registry_claim:
 * @reg: the registry
 * @rec: the claim (mac, scope_key, domain, uuid, devid, bridge, ip, source);
 *       host and times are filled by the registry
 * @ret_holder: on -EEXIST, the conflicting record (when not NULL)
 *
 * One atomic transaction. The same owner (uuid + devid) claiming again
 * succeeds and refreshes the record. A MAC conflicts with every record of
 * the same MAC whose scope is "*", or equal to @rec's, or when @rec's is "*".
 *
 * Returns: 0; -EEXIST (held by another owner or reserved); -EBUSY (waited
 * too long for other writers); -EROFS, -ENOSPC, -EIO.
 */
int vifmac_registry_claim(struct vifmac_registry *reg, const struct vifmac_record *rec,
			  struct vifmac_record *ret_holder);

/**
 * vifmac_registry_release:
 * @reg: the registry
 * @mac: the MAC; NULL releases every claim of @uuid (+ @devid when >= 0)
 * @uuid: the owner's domain UUID; a claim of another owner is never released
 * @devid: the owner's devid, or -1 for any
 *
 * Returns: the number of claims released (0 is not an error), or a negative errno.
 */
int vifmac_registry_release(struct vifmac_registry *reg, const struct vifmac_mac *mac,
			    const char *uuid, int devid);

/** vifmac_registry_reserve: records a reservation of @mac with @note (held by no domain). -EEXIST when held. */
int vifmac_registry_reserve(struct vifmac_registry *reg, const struct vifmac_mac *mac, const char *note,
			    struct vifmac_record *ret_holder);
/** vifmac_registry_unreserve: removes a reservation of @mac. Returns 1, or 0 when there was none. */
int vifmac_registry_unreserve(struct vifmac_registry *reg, const struct vifmac_mac *mac);

/* Callback for lookups and listings; return non-zero to stop (that value is returned). */
typedef int (*vifmac_record_fn)(void *data, const struct vifmac_record *rec);

/** vifmac_registry_list: every record, ordered by MAC. Returns 0, the callback's value, or -errno. */
int vifmac_registry_list(struct vifmac_registry *reg, vifmac_record_fn fn, void *data);
/** vifmac_registry_lookup_mac / _ip / _domain (name or UUID): matching records. Same returns. */
int vifmac_registry_lookup_mac(struct vifmac_registry *reg, const struct vifmac_mac *mac,
			       vifmac_record_fn fn, void *data);
int vifmac_registry_lookup_ip(struct vifmac_registry *reg, const char *ip, vifmac_record_fn fn, void *data);
int vifmac_registry_lookup_domain(struct vifmac_registry *reg, const char *domain, vifmac_record_fn fn,
				  void *data);
/**
 * vifmac_registry_insert: writes @rec as it is (import, migration between
 * backends), in the same transaction rules as a claim. -EEXIST with
 * @ret_holder when another owner holds the MAC.
 */
int vifmac_registry_insert(struct vifmac_registry *reg, const struct vifmac_record *rec,
			   struct vifmac_record *ret_holder);
/** vifmac_registry_url: the URL @reg was opened with; owned by @reg. */
const char *vifmac_registry_url(const struct vifmac_registry *reg);

/* Told about one record that cannot be imported and the record holding its MAC; non-zero stops. */
typedef int (*vifmac_conflict_fn)(void *data, const struct vifmac_record *rec,
				  const struct vifmac_record *holder);

/**
 * vifmac_registry_import:
 * @reg: the registry
 * @recs: @n records, written as they are (vifmac_registry_insert rules)
 * @fn: called for each record that conflicts with another owner's record
 *      (already in @reg, or earlier in @recs); may be NULL
 * @data: for @fn
 *
 * All or nothing, in one transaction: when any record conflicts, nothing
 * is written.
 *
 * Returns: the number of records written; -EEXIST after @fn was told about
 * every conflict; -EINVAL (a malformed record), -EBUSY, -EROFS, -ENOSPC, -EIO.
 */
int vifmac_registry_import(struct vifmac_registry *reg, const struct vifmac_record *recs, size_t n,
			   vifmac_conflict_fn fn, void *data);

/**
 * vifmac_registry_gc:
 * @reg: the registry
 * @dry_run: only tell which claims would be released
 * @fn: called with each claim released (or that would be); its result is
 *      ignored; may be NULL
 * @data: for @fn
 *
 * Releases the claims recorded by this host (the seam's host name) whose
 * domain (by UUID) is not among the seam's running domains. Claims of other
 * hosts, reservations and claims made or refreshed after the domain list
 * was read are kept; a claim re-claimed meanwhile is kept.
 *
 * Returns: the number of claims released (or that would be); when the
 * running domains or the host name cannot be had (no xenstore), the seam's
 * negative errno (-EOPNOTSUPP when unset) and nothing is released; -EBUSY,
 * -EROFS, -ENOSPC, -EIO.
 */
int vifmac_registry_gc(struct vifmac_registry *reg, bool dry_run, vifmac_record_fn fn, void *data);

/**
 * vifmac_registry_gc_host:
 * @reg: the registry
 * @host: a host of the registry that is gone for good (the admin's word:
 *        its domains cannot be listed from here); NULL or this host's own
 *        name: the same as vifmac_registry_gc()
 * @dry_run, @fn, @data: as for vifmac_registry_gc()
 *
 * Releases every claim recorded by @host, reservations excepted; a claim
 * made or refreshed after the call started is kept (the host was alive).
 *
 * Returns: the number of claims released (or that would be); -EINVAL for an
 * empty or overlong @host; the registry's errors as for vifmac_registry_gc().
 */
int vifmac_registry_gc_host(struct vifmac_registry *reg, const char *host, bool dry_run, vifmac_record_fn fn,
			    void *data);

/* ---------------------------------------------------------------- pools */

/*
 * Operator-assigned MACs for public bridges. A pool is imported into the
 * registry from a file (vifmac pool import NAME FILE) and named, in order,
 * by the policy's bridge_pools for a bridge. Three kinds of file:
 *   table     "IPv4 MAC [note]" per line, or CSV with a header naming the
 *             ip and mac columns (and optionally note): the MAC of an address
 *   range     one line "START-END" or "PREFIX/len" (a MAC and a bit count):
 *             the lowest free address is allocated
 *   recycled  "MAC note" per line, the note saying where the address comes
 *             from (retired hardware): allocated like a range
 * '#' starts a comment. Allocation is sticky per domain UUID + devid, and a
 * released address is not handed to another vif before the quarantine.
 */
enum vifmac_pool_kind { VIFMAC_POOL_TABLE = 0, VIFMAC_POOL_RANGE, VIFMAC_POOL_RECYCLED };

struct vifmac_pool_entry {
	struct vifmac_mac mac;
	struct vifmac_ipv4 ip; /* table entries */
	char note[128];
	int line;
};

/* A pool file, read and validated. */
struct vifmac_pool_source {
	enum vifmac_pool_kind kind;
	char *path;
	struct vifmac_pool_entry *entries; /* table and recycled */
	size_t n;
	struct vifmac_mac start, end;      /* range, inclusive */
	int range_line;
	uint64_t size;                     /* addresses in the pool */
	size_t warnings;                   /* lines that are fine but suspect (00:16:3e) */
};

/**
 * vifmac_pool_source_read:
 * @ctx: the context (errors "file:line: ..." in vifmac_ctx_last_error(),
 *       warnings through its log at warning level)
 * @path: the pool file
 * @ret_src: owned by the caller (vifmac_pool_source_free); untouched on error
 *
 * Refuses malformed lines, a MAC or an address given twice, multicast MACs,
 * a range whose ends are reversed or span first octets, mixed kinds.
 * Addresses inside libxl's random range 00:16:3e:00-7f are accepted with a
 * warning (counted in warnings).
 *
 * Returns: 0; -EINVAL; -ENOENT; -ENOMEM.
 */
int vifmac_pool_source_read(struct vifmac_ctx *ctx, const char *path, struct vifmac_pool_source **ret_src);
/** vifmac_pool_source_free: frees @src; NULL is allowed. */
void vifmac_pool_source_free(struct vifmac_pool_source *src);
/**
 * vifmac_pool_sources_overlap:
 * @ctx: the context
 * @a, @b: two pool sources
 *
 * Returns: 0 when no MAC is in both; -EEXIST naming the first MAC in both
 * and where (file:line) in vifmac_ctx_last_error().
 */
int vifmac_pool_sources_overlap(struct vifmac_ctx *ctx, const struct vifmac_pool_source *a,
				const struct vifmac_pool_source *b);
/** vifmac_pool_kind_name: "table", "range" or "recycled". Static. */
const char *vifmac_pool_kind_name(enum vifmac_pool_kind kind);

/* A pool in the registry, with its use. */
struct vifmac_pool_info {
	char name[64];
	enum vifmac_pool_kind kind;
	char origin[256];    /* the file it was imported from */
	int64_t imported;
	uint64_t size;
	uint64_t used;       /* active claims from the pool */
	uint64_t quarantined; /* released, still in quarantine */
	uint64_t reserved;   /* pool addresses held by reservations */
};

typedef int (*vifmac_pool_fn)(void *data, const struct vifmac_pool_info *info);

/**
 * vifmac_registry_pool_import:
 * @reg: the registry
 * @name: the pool's name ([A-Za-z0-9_.-], 1-63 bytes)
 * @src: the validated source
 *
 * Replaces a pool of the same name (claims already made stay); refuses
 * (-EEXIST) a source overlapping another pool, naming the MAC and the pool.
 *
 * Returns: 0 or a negative errno.
 */
int vifmac_registry_pool_import(struct vifmac_registry *reg, const char *name, const struct vifmac_pool_source *src);
/** vifmac_registry_pool_remove: forgets pool @name (claims stay). 1, 0 when no such pool, or -errno. */
int vifmac_registry_pool_remove(struct vifmac_registry *reg, const char *name);
/** vifmac_registry_pool_list: every pool with its use (@name NULL), or one. 0, -ENOENT, fn's value, -errno. */
int vifmac_registry_pool_list(struct vifmac_registry *reg, const char *name, vifmac_pool_fn fn, void *data);

/**
 * vifmac_registry_pool_allocate:
 * @reg: the registry
 * @pools: pool names, tried in order; @n of them
 * @owner: the claim to make (uuid, devid, domain, bridge, ip, scope_key); its mac is ignored
 * @ip: the vif's IPv4 address, for table pools (NULL: tables are skipped)
 * @ret_rec: the claim made (mac, and source "pool:NAME")
 * @ret_holder: on -EEXIST, who holds the table's MAC for @ip
 *
 * One transaction: the MAC this owner already holds from these pools, or
 * held last (within its quarantine: it is theirs); else the table's MAC for
 * @ip; else the lowest address of a range or recycled pool that nobody
 * holds, no reservation covers and no quarantine keeps (quarantine from the
 * policy's pool_quarantine).
 *
 * Returns: 0; -EEXIST (a table's MAC held by another owner); -ENOSPC (every
 * pool is exhausted: vifmac_ctx_last_error() names them and their sizes);
 * -ENOENT (a named pool does not exist, or no table has @ip and no pool
 * allocates); -EBUSY, -EIO, ...
 */
int vifmac_registry_pool_allocate(struct vifmac_registry *reg, const char *const *pools, size_t n,
				  const struct vifmac_record *owner, const struct vifmac_ipv4 *ip,
				  struct vifmac_record *ret_rec, struct vifmac_record *ret_holder);

/**
 * vifmac_ctx_bridge_pools: the pools the policy's bridge_pools names for
 * @bridge, in order (owned by @ctx), their count in @ret_n; NULL when none.
 */
const char *const *vifmac_ctx_bridge_pools(const struct vifmac_ctx *ctx, const char *bridge, size_t *ret_n);

/* ---------------------------------------------------------------- system seam */

/* A running domain, as the system seam reports it. */
struct vifmac_domain_info {
	unsigned domid;
	char name[128];               /* from /vm/<uuid>/name (dom0-owned), or "" */
	char uuid[VIFMAC_UUID_STRLEN]; /* the hypervisor's handle for the domain */
	bool paused;                  /* no vCPU runs: a vif's MAC can still be rewritten */
};

/* A network interface of dom0 (or a bridge port), as the system seam reports it. */
struct vifmac_link_info {
	char name[64];
	struct vifmac_mac mac;
	char master[64]; /* the bridge it is a port of, or "" */
};

/* A bridge forwarding database entry: a MAC the bridge has seen on a port. */
struct vifmac_fdb_entry {
	struct vifmac_mac mac;
	char bridge[64];
	char port[64];  /* the port it was learned on (the bridge itself for its own address) */
	int vlan;       /* 0 when none */
	int64_t age;    /* seconds since the bridge last saw it, -1 when unknown */
	bool local;     /* the bridge's or a port's own address, not learned */
};

/* A neighbour (ARP/NDP) table entry of dom0. */
struct vifmac_neigh_entry {
	struct vifmac_mac mac;
	char ip[64];
	char ifname[64];
	char state[16]; /* "reachable", "stale", "delay", "probe", "permanent", "noarp" */
};

/* An interface vifmac filters: frames from it must carry @mac (vifmac_enforce_list()). */
struct vifmac_enforce_entry {
	char ifname[64];
	struct vifmac_mac mac;
};

/* What a watch of the bridges hears (vifmac_sys_ops.watch_bridges). */
enum vifmac_watch_what {
	VIFMAC_WATCH_START,     /* once, when following has begun (nothing after it is missed) */
	VIFMAC_WATCH_LEARNED,   /* @fdb: a bridge learned a MAC on a port, or moved it to another */
	VIFMAC_WATCH_FORGOTTEN, /* @fdb: the entry was deleted or aged out; names "" when already gone */
	VIFMAC_WATCH_LINK,      /* @fdb.port: a link appeared or changed; @fdb.bridge its master ("" none) */
	VIFMAC_WATCH_LINK_GONE, /* @fdb.port (when still known): the link was deleted */
	VIFMAC_WATCH_TIMEOUT,   /* the wake-up the last call asked for */
	VIFMAC_WATCH_OVERRUN,   /* notifications were lost (a burst filled the socket): state must be read again */
};

struct vifmac_watch_event {
	enum vifmac_watch_what what;
	struct vifmac_fdb_entry fdb; /* age 0, local false */
	int port_index;              /* ifindexes: the names of a deleted link cannot be asked any more */
	int bridge_index;            /* 0: no bridge */
};

/*
 * Everything outside the process that a unit test cannot have. Production
 * fills it with libxenstore and the kernel; tests with fakes. Unset members
 * (NULL) mean "not available" and make the calls that need them fail with
 * -EOPNOTSUPP. Strings returned through ret_ are malloc'd, owned by the caller.
 */
struct vifmac_sys_ops {
	/* xenstore; @t is a transaction handle from xs_transaction_start, or 0 */
	int (*xs_read)(void *data, unsigned long t, const char *path, char **ret_value);
	int (*xs_write)(void *data, unsigned long t, const char *path, const char *value);
	int (*xs_directory)(void *data, unsigned long t, const char *path, char ***ret_names, size_t *ret_n);
	/* the domain id that owns (and so may write) @path */
	int (*xs_owner)(void *data, unsigned long t, const char *path, unsigned *ret_domid);
	int (*xs_transaction_start)(void *data, unsigned long *ret_t);
	/* commit (abort = false) or abort; -EAGAIN means "retry the transaction" */
	int (*xs_transaction_end)(void *data, unsigned long t, bool abort);
	/* the domains running on this host */
	int (*list_domains)(void *data, struct vifmac_domain_info **ret_domains, size_t *ret_n);
	/* dom0's network links */
	int (*list_links)(void *data, struct vifmac_link_info **ret_links, size_t *ret_n);
	/* seconds since the epoch */
	int64_t (*now)(void *data);
	/* this host's name */
	int (*hostname)(void *data, char *buf, size_t len);
	/* one domain, from the hypervisor (uuid, paused) and dom0-owned xenstore (name); -ENOENT when gone */
	int (*get_domain)(void *data, unsigned domid, struct vifmac_domain_info *ret_info);
	/* every bridge's forwarding database, and dom0's neighbour tables */
	int (*list_fdb)(void *data, struct vifmac_fdb_entry **ret_entries, size_t *ret_n);
	int (*list_neigh)(void *data, struct vifmac_neigh_entry **ret_entries, size_t *ret_n);
	/* the FDB entries of one MAC on every bridge (what a check needs, without a full dump); optional */
	int (*find_fdb)(void *data, const struct vifmac_mac *mac, struct vifmac_fdb_entry **ret_entries,
			size_t *ret_n);
	/*
	 * Per-vif filtering (nftables, table bridge vifmac): hold @ifname to
	 * @mac, replacing any rules @ifname had, in one atomic step; remove
	 * @ifname's rules (0 when it had none; @hint, when not NULL, the MAC it
	 * is most likely held to: a seam may use it, production looks the
	 * interface up anyway, which costs less than a deletion that finds
	 * nothing); list every filtered interface.
	 */
	int (*enforce_add)(void *data, const char *ifname, const struct vifmac_mac *mac);
	int (*enforce_remove)(void *data, const char *ifname, const struct vifmac_mac *hint);
	int (*enforce_list)(void *data, struct vifmac_enforce_entry **ret_entries, size_t *ret_n);
	/*
	 * Calls @fn for what the kernel says about bridge FDBs and links from
	 * now on, until @fn returns non-zero; @fn may set *@wake_ms (-1: never)
	 * to be called with VIFMAC_WATCH_TIMEOUT after that long without news.
	 */
	int (*watch_bridges)(void *data, int (*fn)(void *fn_data, const struct vifmac_watch_event *e, int *wake_ms),
			     void *fn_data);
	/*
	 * The running domains as list_domains gives them, names left "": no
	 * xenstore read per domain, for what needs only every domain's UUID
	 * (a hotplug run). Optional: list_domains stands in.
	 */
	int (*list_domains_brief)(void *data, struct vifmac_domain_info **ret_domains, size_t *ret_n);
};

/*
 * The table grows at its end (issue 15 appended enforce_add ... list_domains_brief),
 * so the library is told how much of it the caller has: the members before
 * enforce_add are the table of libvifmac 0.1, the least it takes.
 */
#define VIFMAC_SYS_OPS_SIZE_0_1 offsetof(struct vifmac_sys_ops, enforce_add)

/**
 * vifmac_ctx_set_sys_sized:
 * @ops: the table, of which the caller's build knows @size bytes
 * @size: sizeof(struct vifmac_sys_ops) as the caller was built
 * @data: passed to every call; stays owned by the caller
 *
 * Replaces the system seam (the table is copied). Members past @size, which
 * the caller's header did not have, are NULL ("not available"); members past
 * this library's table must be NULL.
 *
 * Returns: 0, or -EINVAL (the seam unchanged, the context's error says why)
 * when @ops is NULL, @size is below VIFMAC_SYS_OPS_SIZE_0_1 or not a whole
 * number of members, or a member this library does not know is set.
 */
int vifmac_ctx_set_sys_sized(struct vifmac_ctx *ctx, const struct vifmac_sys_ops *ops, size_t size, void *data);
/**
 * vifmac_ctx_set_sys: vifmac_ctx_set_sys_sized() with the size of the
 * caller's table. (Binaries built against libvifmac 0.1 call the function of
 * this name, which takes the 0.1 table.)
 */
#define vifmac_ctx_set_sys(ctx, ops, data) \
	((void)vifmac_ctx_set_sys_sized((ctx), (ops), sizeof(*(ops)), (data)))
void(vifmac_ctx_set_sys)(struct vifmac_ctx *ctx, const struct vifmac_sys_ops *ops, void *data);
/** vifmac_ctx_get_sys: the seam in use (owned by @ctx) and its data in @ret_data when not NULL. */
const struct vifmac_sys_ops *vifmac_ctx_get_sys(const struct vifmac_ctx *ctx, void **ret_data);

/* ---------------------------------------------------------------- enforcement */

/*
 * Holding a running guest to its MAC: nftables rules on the bridge
 * (table bridge vifmac) drop what a vif port sends from another MAC, ARP
 * with another sender hardware address, and IPv6 neighbour discovery with
 * another link-layer address option. vifmac_hotplug_online() installs them
 * and vifmac_hotplug_offline() removes them; these calls are the pieces.
 */

enum vifmac_enforce_mode { VIFMAC_ENFORCE_MAC = 0, VIFMAC_ENFORCE_OFF };
enum vifmac_enforce_failure { VIFMAC_ENFORCE_FAILURE_REFUSE = 0, VIFMAC_ENFORCE_FAILURE_WARN };

/**
 * vifmac_enforce_applies:
 * @ctx: the context and its policy (enforce, enforce_exempt_bridges, enforce_exempt_domains)
 * @bridge: the vif's bridge, or NULL
 * @domain: the domain's name, or NULL (a migrating "NAME--incoming" counts as NAME)
 * @uuid: the domain's UUID, or NULL
 * @why: when not NULL, receives why a vif is not filtered ("" when it is)
 * @size: size of @why
 *
 * Returns: true when the policy filters this vif; false for enforce = "off"
 * or an exemption (@why names the key that exempts it).
 */
bool vifmac_enforce_applies(const struct vifmac_ctx *ctx, const char *bridge, const char *domain, const char *uuid,
			    char *why, size_t size);

/**
 * vifmac_enforce_add:
 * @ctx: the context and its system seam
 * @ifname: the vif's dom0 interface ([A-Za-z0-9_.-], 1-15 bytes, a letter first)
 * @mac: the only source MAC the interface may send
 *
 * Installs (or replaces) the interface's rules in one atomic step.
 *
 * Returns: 0; -EINVAL for a bad @ifname; -EOPNOTSUPP when the seam cannot
 * filter; -EPERM, -ENOENT, ... from nftables (vifmac_ctx_last_error() says which).
 */
int vifmac_enforce_add(struct vifmac_ctx *ctx, const char *ifname, const struct vifmac_mac *mac);

/**
 * vifmac_enforce_remove:
 * @ctx: the context and its system seam
 * @ifname: the interface
 * @mac: the MAC it is held to, when known, or NULL: the production seam
 *       looks the interface's MAC up in one element read either way (the
 *       same time with 1 or 1000 vifs), and deletes only what it finds
 *
 * Removes the interface's rules, and only those; idempotent.
 *
 * Returns: 0 (also when there were none), or a negative errno.
 */
int vifmac_enforce_remove(struct vifmac_ctx *ctx, const char *ifname, const struct vifmac_mac *mac);

/**
 * vifmac_enforce_list:
 * @ctx: the context and its system seam
 * @ret_entries: every filtered interface, malloc'd, owned by the caller; untouched on error
 * @ret_n: their number
 *
 * Returns: 0 (no table yet is an empty list), or a negative errno.
 */
int vifmac_enforce_list(struct vifmac_ctx *ctx, struct vifmac_enforce_entry **ret_entries, size_t *ret_n);

/* ---------------------------------------------------------------- audit */

enum vifmac_severity { VIFMAC_SEVERITY_OK = 0, VIFMAC_SEVERITY_WARNING = 1, VIFMAC_SEVERITY_CRITICAL = 2 };

/* One anomaly found by vifmac_audit(). */
struct vifmac_finding {
	enum vifmac_severity severity;
	/*
	 * "duplicate-vif", "dom0-link", "foreign-use", "duplicate-port", "outside-policy", "stale-claim",
	 * "missing-rules", "stale-rules"; "enforce-exempt" (severity OK: shown, not an anomaly)
	 */
	char kind[32];
	struct vifmac_mac mac;
	char message[512];
};

typedef int (*vifmac_finding_fn)(void *data, const struct vifmac_finding *finding);

/* What one audit pass looked at. */
struct vifmac_audit_counts {
	size_t vifs, links, fdb_entries, neighbours, claims;
};

/**
 * vifmac_audit:
 * @ctx: the context (policy, system seam)
 * @reg: the open registry
 * @fn: called for each finding; a non-zero result stops the audit
 * @data: passed to @fn
 * @ret_counts: what was looked at (when not NULL); written only on success
 *
 * One pass over this host: the same MAC on two vifs, a vif's MAC on a dom0
 * link, our MACs (running vifs' and registry claims') learned on a bridge
 * port that is not their vif, one unknown MAC learned on two ports (all
 * critical); running vifs whose MAC is not the policy's, e.g. libxl's random
 * 00:16:3e ones from domains started without the hook, and registry claims
 * of this host whose domain is not running (warnings). With per-vif
 * filtering in the seam: a running vif the policy filters without its rules,
 * or held to another MAC (critical); rules for an interface no vif has
 * (warning); vifs the policy exempts (severity OK, to show them).
 *
 * Returns: the worst severity found (0, 1 or 2), or a negative errno when
 * the host or the registry could not be read.
 */
int vifmac_audit(struct vifmac_ctx *ctx, struct vifmac_registry *reg, vifmac_finding_fn fn, void *data,
		 struct vifmac_audit_counts *ret_counts);

/**
 * vifmac_watch:
 * @ctx: the context (policy, system seam)
 * @reg: the open registry (claims and reservations are our MACs too)
 * @fn: called for each event, as a finding: "foreign-use" (critical) when
 *      one of our MACs (a running vif's, a claim's, a reservation's) is
 *      learned on a port that is not its vif, "mac-move" (warning) when a MAC
 *      moves between ports of a bridge; "missing-rules" (critical) for a
 *      running vif the policy filters whose interface has no rules (or
 *      rules for another MAC), "stale-rules" (warning) for rules whose
 *      interface is gone or belongs to no vif; a non-zero result stops the watch
 * @data: passed to @fn
 *
 * Follows the bridges' forwarding databases and links as the kernel changes
 * them (rtnetlink notifications, no polling); bridges and vifs may come and
 * go. The running vifs and the registry are read again at most once a
 * second, and only when an entry is learned. The rules are compared with
 * the vifs when a port joins or leaves a bridge or a link goes, and a
 * finding is reported once a second comparison two seconds later agrees
 * (during a hotplug run the rules come before the port, and go around its
 * removal). Where each MAC was last seen is forgotten when the bridge
 * forgets the entry, and kept for at most 16384 MACs.
 *
 * Returns: @fn's non-zero value, or a negative errno when the kernel cannot
 * be followed.
 */
int vifmac_watch(struct vifmac_ctx *ctx, struct vifmac_registry *reg, vifmac_finding_fn fn, void *data);

/* ---------------------------------------------------------------- hotplug */

/*
 * What the vif hotplug helper knows about the vif being plugged, read only
 * from dom0-owned xenstore nodes (the backend directory, /vm/<uuid>) and
 * the hypervisor. The frontend directory belongs to the guest: its path is
 * kept to write the MAC there, never to read anything from it.
 */
struct vifmac_hotplug_vif {
	unsigned domid;
	int devid;
	char backend[128];     /* /local/domain/0/backend/vif/<domid>/<devid> */
	char frontend[128];    /* /local/domain/<domid>/device/vif/<devid> */
	char libxl_path[128];  /* /libxl/<domid>/device/vif/<devid>, "" when absent */
	char bridge[64];
	char ip[256];
	char type[16];         /* "vif" (PV) or "vif_ioemu" (HVM emulated NIC) */
	char ifname[64];       /* the dom0 interface: vifname=, else vif<domid>.<devid> */
	struct vifmac_mac mac; /* <backend>/mac as libxl wrote it */
	bool mac_generated;    /* inside libxl's random range: no mac= from the admin */
	char claim_uuid[VIFMAC_UUID_STRLEN]; /* <backend>/vifmac-owner from an earlier online, or "" */
	struct vifmac_domain_info dom; /* dom.uuid "" when the domain is gone (offline) */
};

enum vifmac_hotplug_mode {
	VIFMAC_HOTPLUG_REWRITE = 0, /* paused PV guest: the MAC can still be changed */
	VIFMAC_HOTPLUG_VERIFY,      /* HVM emulated NIC or hot-attach: only checked */
};

/**
 * vifmac_hotplug_read:
 * @ctx: the context and its system seam
 * @xenbus_path: $XENBUS_PATH, "backend/vif/<domid>/<devid>" (relative to
 *               /local/domain/0) or the absolute form
 * @ret_vif: the vif; untouched on error
 *
 * Every node read must be owned by domain 0; one that the guest could write
 * is refused.
 *
 * Returns: 0; -EINVAL for a malformed path or value, or a node not owned by
 * dom0 (vifmac_ctx_last_error() names it); -ENOENT when the backend is gone;
 * other negative errnos from xenstore.
 */
int vifmac_hotplug_read(struct vifmac_ctx *ctx, const char *xenbus_path, struct vifmac_hotplug_vif *ret_vif);

/** vifmac_hotplug_mode_for: REWRITE for a paused PV guest's vif, VERIFY otherwise. */
enum vifmac_hotplug_mode vifmac_hotplug_mode_for(const struct vifmac_hotplug_vif *vif);

/**
 * vifmac_check_mac:
 * @ctx: the context
 * @mac: the candidate MAC
 * @scope_key: "*" or a bridge name
 * @self: the vif asking (its own backend and dom0 interface are not conflicts), or NULL
 * @ret_refusal: on -EEXIST, the evidence
 *
 * Looks for @mac outside the registry: every vif backend of this host
 * (vifs created without vifmac count too), every dom0 link, and what the
 * wire has shown (as the policy's wire_check says): a bridge FDB entry
 * learned on a port that is not one of this host's vifs (every bridge for
 * scope global, @scope_key's bridge otherwise), or a neighbour entry whose
 * IP is not one of @self's. @self's own port and interfaces never count.
 * With wire_check = "warn", wire evidence is logged and not a conflict: the
 * call returns 0 and fills @ret_refusal (kind NONE) with the evidence.
 *
 * Returns: 0 when free; -EEXIST; a negative errno when the system could not be asked.
 */
int vifmac_check_mac(struct vifmac_ctx *ctx, const struct vifmac_mac *mac, const char *scope_key,
		     const struct vifmac_hotplug_vif *self, unsigned flags, struct vifmac_refusal *ret_refusal);

/* vifmac_check_mac() flags */
#define VIFMAC_CHECK_NO_WIRE (1u << 0) /* skip the bridge FDB and neighbour evidence */

/**
 * vifmac_hotplug_online:
 * @ctx: the context
 * @reg: the open registry
 * @vif: from vifmac_hotplug_read()
 * @mode: REWRITE or VERIFY (vifmac_hotplug_mode_for())
 * @decision: always written; on refusal, the refusal with its evidence
 *
 * The whole pipeline for one vif: decide, check, claim, and (REWRITE) write
 * the MAC to the backend, the frontend and libxl's copy in one xenstore
 * transaction. On any refusal after the claim, the claim is released.
 *
 * Returns: 0; -EPERM (policy), -EEXIST (conflict), -EINVAL (input),
 * -EAGAIN/-EIO/... (unavailable), each with @decision->refusal filled.
 */
int vifmac_hotplug_online(struct vifmac_ctx *ctx, struct vifmac_registry *reg, const struct vifmac_hotplug_vif *vif,
			  enum vifmac_hotplug_mode mode, struct vifmac_decision *decision);

/**
 * vifmac_hotplug_offline:
 * @ctx: the context
 * @reg: the open registry
 * @vif: from vifmac_hotplug_read()
 *
 * Releases this vif's own claim (owner from <backend>/vifmac-owner, else the
 * domain's UUID); never another owner's. Idempotent.
 *
 * Returns: the number of claims released (0 is fine), or a negative errno.
 */
int vifmac_hotplug_offline(struct vifmac_ctx *ctx, struct vifmac_registry *reg, const struct vifmac_hotplug_vif *vif);

/**
 * vifmac_refusal_format:
 * @refusal: a refusal
 * @buf: receives one line an admin can act on: the message, and for a
 *       conflict the holder and where it was seen
 * @size: size of @buf
 *
 * Returns: @buf.
 */
char *vifmac_refusal_format(const struct vifmac_refusal *refusal, char *buf, size_t size);

/* ---------------------------------------------------------------- a host already in use (LIBVIFMAC_0.2) */

/* A vif running on this host, read from its dom0-owned backend directory. */
struct vifmac_running_vif {
	unsigned domid;
	int devid;
	struct vifmac_mac mac;         /* <backend>/mac: the MAC the guest uses now */
	char bridge[64];
	char ip[256];                  /* <backend>/ip, "" when unset */
	char type[16];                 /* "vif" (PV) or "vif_ioemu" (HVM emulated NIC) */
	char ifname[64];               /* vifname=, else vif<domid>.<devid> */
	struct vifmac_domain_info dom; /* from the hypervisor; dom.uuid "" when it does not know the domid */
	bool connected;                /* <backend>/hotplug-status = connected: the hotplug online ran to its end */
};

/**
 * vifmac_running_vifs:
 * @ctx: the context and its system seam
 * @ret_vifs: every vif backend of this host with a readable MAC, ordered as
 *            xenstore lists them; a malloc'd array owned by the caller (free());
 *            untouched on error
 * @ret_n: their number
 *
 * Reads only dom0-owned nodes under /local/domain/0/backend/vif; the domain's
 * name and UUID come from the seam's get_domain (the hypervisor).
 *
 * Returns: 0 (no vifs is fine); -EOPNOTSUPP when the seam has no xenstore or
 * no list_domains; the seam's negative errno when the hypervisor's domain
 * list or the backend folder cannot be read (not a dom0); -ENOMEM.
 */
int vifmac_running_vifs(struct vifmac_ctx *ctx, struct vifmac_running_vif **ret_vifs, size_t *ret_n);

/**
 * vifmac_decide_running:
 * @ctx: the context and its policy
 * @vif: a running vif
 * @decision: always written, as by vifmac_decide()
 *
 * The decision the hook will make for this vif at the domain's next start:
 * a MAC inside libxl's random range counts as no mac= (as the hook sees it),
 * any other MAC as the admin's mac=.
 *
 * Returns: as vifmac_decide().
 */
int vifmac_decide_running(struct vifmac_ctx *ctx, const struct vifmac_running_vif *vif,
			  struct vifmac_decision *decision);

enum vifmac_adopt_result {
	VIFMAC_ADOPT_RECORDED = 0,   /* claimed now (with VIFMAC_ADOPT_DRY_RUN: would be) */
	VIFMAC_ADOPT_ALREADY,        /* the registry already held it for this vif: claimed again */
	VIFMAC_ADOPT_CONFLICT,       /* not recorded: another owner holds it, or another running vif has it */
	VIFMAC_ADOPT_UNKNOWN_DOMAIN, /* not recorded: the hypervisor gives no UUID for the domid */
};

/* What vifmac_adopt() did with one running vif. */
struct vifmac_adoption {
	struct vifmac_running_vif vif;
	enum vifmac_adopt_result result;
	struct vifmac_record record; /* the claim (source "adopted"), as recorded or as it would be */
	/* CONFLICT: the registry's record of the other owner, or the other running vif
	 * (then state active, host "" and source "running") */
	struct vifmac_record holder;
	char message[512];           /* CONFLICT and UNKNOWN_DOMAIN: one line an admin can act on */
};

/* Told about each running vif; a non-zero result stops vifmac_adopt() (that value is returned). */
typedef int (*vifmac_adopt_fn)(void *data, const struct vifmac_adoption *adoption);

/* vifmac_adopt() flags */
#define VIFMAC_ADOPT_DRY_RUN (1u << 0) /* look up the registry, write nothing */

/**
 * vifmac_adopt:
 * @ctx: the context (policy scope, system seam)
 * @reg: the open registry
 * @flags: VIFMAC_ADOPT_DRY_RUN or 0
 * @fn: called with each running vif and what was done; may be NULL
 * @data: for @fn
 *
 * Records every running vif's current MAC in the registry as its domain's
 * claim (UUID + devid, source "adopted", this host), so that the registry
 * knows a host's MACs from the day vifmac is switched on there. MACs that
 * cannot be recorded are reported, never forced: one another owner holds
 * in the registry (in an overlapping scope), or one two running vifs share
 * (neither is recorded). Running it again is harmless: the same owner
 * claims its MAC again.
 *
 * Returns: the number of vifs not recorded (0: every vif is in the
 * registry); a negative errno when the vifs or the registry could not be
 * read or written (vifmac_ctx_last_error() says which); @fn's value.
 */
int vifmac_adopt(struct vifmac_ctx *ctx, struct vifmac_registry *reg, unsigned flags, vifmac_adopt_fn fn,
		 void *data);

/** vifmac_adopt_result_name: "adopted", "already", "conflict" or "unknown-domain". Static. */
const char *vifmac_adopt_result_name(enum vifmac_adopt_result result);

/**
 * vifmac_devid_parse:
 * @s: a vif's devid= as xl takes it: decimal 0-65535, no sign, no leading zero
 * @ret_devid: the number; untouched on error
 *
 * Returns: 0, or -EINVAL.
 */
int vifmac_devid_parse(const char *s, int *ret_devid);

/**
 * vifmac_domcfg_vif_input:
 * @ctx: the context (errors in vifmac_ctx_last_error())
 * @cfg: a domain config
 * @i: the vif's index
 * @ret_vif: the decision engine's input for it (strings owned by @cfg; its
 *           mac points to @ret_mac when the vif has mac=); devid from devid=,
 *           else the index (libxl's numbering); bridge xenbr0 when unset
 * @ret_mac: storage for the parsed mac=
 *
 * Returns: 0; -EINVAL when devid= or mac= is malformed (the context's last
 * error says "file:line: vif #i: ..."), nothing written then; -ENOENT for no
 * such vif.
 */
int vifmac_domcfg_vif_input(struct vifmac_ctx *ctx, const struct vifmac_domcfg *cfg, size_t i,
			    struct vifmac_vif *ret_vif, struct vifmac_mac *ret_mac);

/* vifmac_domcfg_fix() flags */
#define VIFMAC_FIX_SET_MAC (1u << 0) /* write the policy's MAC into mac= (added when absent) instead of removing it */

/* One vif of a config, as vifmac_domcfg_fix() treats it. */
struct vifmac_fix_vif {
	int line;                        /* where its spec starts in the file */
	int devid;
	bool had_mac;                    /* the config gave mac= */
	struct vifmac_mac old_mac;       /* that MAC, when had_mac */
	bool changed;                    /* its spec is rewritten */
	struct vifmac_decision decision; /* the policy's decision without the config's mac=, or the refusal */
};

/* The result of vifmac_domcfg_fix(). */
struct vifmac_fix {
	char *text;                  /* the rewritten file, NUL-terminated; NULL unless the call returned 0 */
	size_t len;
	bool changed;                /* text differs from the file */
	struct vifmac_fix_vif *vifs; /* one per vif of the config */
	size_t n_vifs;
};

/** vifmac_fix_init: an empty result. */
void vifmac_fix_init(struct vifmac_fix *fix);
/** vifmac_fix_dispose: frees what @fix holds and empties it; an empty one is fine. */
void vifmac_fix_dispose(struct vifmac_fix *fix);

/**
 * vifmac_domcfg_fix:
 * @ctx: the context and its policy
 * @path: an xl domain config
 * @flags: VIFMAC_FIX_SET_MAC or 0
 * @fix: emptied first (vifmac_fix_dispose), then filled: the vifs as far as
 *       they were looked at, and on success the rewritten text
 *
 * Rewrites the config for the policy: in each vif spec, mac= is removed (so
 * that the hook gives the policy's MAC) or, with VIFMAC_FIX_SET_MAC, set to
 * the policy's MAC. Every other byte of the file is kept: comments, spacing,
 * quoting, other keys, other items of each spec and their order. Nothing is
 * written to disk.
 *
 * Refused, with each refused vif's decision.refusal saying why: a vif the
 * policy gives no MAC (e.g. no ip= with no_ipv4 = "refuse"); with
 * no_ipv4 = "hash", a config without uuid=; an HVM guest without
 * VIFMAC_FIX_SET_MAC (QEMU gets the MAC from the config, before any hook
 * runs); VIFMAC_FIX_SET_MAC on a bridge with pools (the MAC is only known
 * when the registry allocates it).
 *
 * Returns: 0; -EPERM when a vif is refused (the context's last error names
 * the first, "file:line: vif #i: ..."); -EINVAL for a syntax error, a
 * malformed vif, or a form it cannot rewrite safely (a vif list set more
 * than once or with +=, a spec with backslash escapes); -ENOENT; -ENOMEM.
 */
int vifmac_domcfg_fix(struct vifmac_ctx *ctx, const char *path, unsigned flags, struct vifmac_fix *fix);

#ifdef __cplusplus
}
#endif

#endif
