/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy's keys: one table (name, type, default, loader, printer) from
 * which loading, the unknown-key check and vifmac_ctx_policy_string() come.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

/* What a policy load works with. */
struct loader {
	struct vifmac_ctx *ctx;
	const char *path;
	struct vifmac_conf *cfg;
	const struct vifmac_conf_index *idx;
	struct vifmac_policy *p;
};

/* A row of the table (at the end of the file). */
enum key_type {
	KEY_STRING,   /* "..." */
	KEY_FILE,     /* "/absolute/file" (public_table: relative to the policy file) */
	KEY_ENUM,     /* one of the row's values */
	KEY_NUMBER,   /* a number from min to max */
	KEY_DURATION, /* "24h", "90m", "3600s", "2d" */
	KEY_PREFIX,   /* "02:00" or "02:00:0a" */
	KEY_LIST,     /* [ "...", ... ] */
	KEY_CHECK,    /* not a key: a check across the keys above it */
};

struct policy_key {
	const char *name;
	enum key_type type;
	/* the default in the file's syntax, applied by vifmac_policy_keys_default() or printed; NULL: unset */
	const char *def;
	int (*load)(struct loader *l, const struct policy_key *k);
	/* the value as vifmac_ctx_policy_string() gives it; NULL: not given as a string */
	const char *(*print)(const struct vifmac_policy *p, const struct policy_key *k);
	size_t offset, offset_n;   /* the value (and a list's length) in struct vifmac_policy */
	const char *const *values; /* KEY_ENUM: the names in enum order, NULL-terminated */
	long min, max;             /* KEY_NUMBER */
	const char *unit;          /* KEY_NUMBER, for the message */
};

static int fail(struct loader *l, const char *key, int item, const char *format, ...) VIFMAC_PRINTF(4, 5);
static int fail(struct loader *l, const char *key, int item, const char *format, ...)
{
	char msg[512];
	va_list args;

	va_start(args, format);
	vsnprintf(msg, sizeof(msg), format, args);
	va_end(args);
	return vifmac_set_error(l->ctx, -EINVAL, "%s:%d: %s", l->path, vifmac_conf_index_line(l->idx, key, item),
				msg);
}

/* A string key: 0 and *ret (owned by the config) set, 0 and *ret NULL when absent, or -EINVAL. */
static int get_string(struct loader *l, const char *key, const char **ret)
{
	int e = vifmac_conf_get_string(l->cfg, key, ret);

	if (e == -ESRCH) {
		*ret = NULL;
		return 0;
	}
	if (e)
		return fail(l, key, -1, "%s must be a string in quotes", key);
	return 0;
}

/* A list of strings: *ret_list NULL and *ret_n 0 when absent. */
static int get_list(struct loader *l, const char *key, struct vifmac_conf_list *ret_list, int *ret_n)
{
	int e = vifmac_conf_get_list(l->cfg, key, ret_list);

	if (e == -ESRCH) {
		ret_list->items = NULL;
		*ret_n = 0;
		return 0;
	}
	if (e == -ENOMEM)
		return e;
	if (e)
		return fail(l, key, -1, "%s must be a list: %s = [ \"...\", ... ]", key, key);
	*ret_n = ret_list->n;
	for (int i = 0; i < *ret_n; i++)
		if (!ret_list->items[i])
			return fail(l, key, i, "%s: item %d must be a string in quotes", key, i + 1);
	return 0;
}

/* Linux interface names: 1-15 bytes, no '/', ':', '=', ',' or white space. */
static bool bridge_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strpbrk(s, "/:=, \t\n\"'") == NULL;
}

static int check_prefix(struct loader *l, const char *key, int item, const char *s, uint8_t out[3], size_t *len)
{
	if (vifmac_prefix_parse(s, out, len) < 0)
		return fail(l, key, item, "%s: \"%s\" is not a MAC prefix: 2 or 3 hex bytes, e.g. \"02:00\" or \"02:00:0a\"",
			    key, s);
	if (out[0] & 0x01)
		return fail(l, key, item, "%s: \"%s\" is a multicast prefix (bit 0 of the first octet is set); use a locally administered unicast one such as 02:..",
			    key, s);
	if (!(out[0] & 0x02))
		return fail(l, key, item, "%s: \"%s\" is not locally administered (bit 1 of the first octet is clear): private bridges need 02, 06, 0a, 0e, ... fe as first octet",
			    key, s);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* For structs that start with their bridge name (char bridge[64]). */
static int cmp_names_inline(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The first entry of a BRIDGE=... list whose bridge an earlier one names: 1 (and fail() said so), 0, -ENOMEM. */
static int bridge_listed_twice(struct loader *l, const char *key, const void *entries, size_t n, size_t size,
			       const char *what)
{
	size_t dup, first;
	int r = vifmac_first_duplicate(entries, n, size, cmp_names_inline, &dup, &first);

	if (r <= 0)
		return r;
	return fail(l, key, (int)dup, "%s: bridge \"%s\" %s", key, (const char *)entries + dup * size, what);
}

/*
 * A list of names, each accepted by @ok (@what says what it must be), none
 * twice: bridges, exempt domains.
 */
static int load_name_list(struct loader *l, const char *key, bool (*ok)(const char *), const char *what,
			  char ***ret_v, size_t *ret_n)
{
	struct vifmac_conf_list list;
	int n, r = get_list(l, key, &list, &n);
	size_t dup, first;
	char **v;

	if (r < 0)
		return r;
	v = calloc((size_t)n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *b = list.items[i];

		if (!ok(b)) {
			vifmac_strv_free(v, (size_t)i);
			return fail(l, key, i, "%s: \"%s\" is not %s", key, b, what);
		}
		v[i] = strdup(b);
		if (!v[i]) {
			vifmac_strv_free(v, (size_t)i);
			return -ENOMEM;
		}
	}
	r = vifmac_first_duplicate(v, (size_t)n, sizeof(*v), cmp_names, &dup, &first);
	if (r != 0) {
		if (r > 0)
			r = fail(l, key, (int)dup, "%s: %s\"%s\" is listed twice", key, ok == bridge_name_ok ? "bridge " : "",
				 v[dup]);
		vifmac_strv_free(v, (size_t)n);
		return r;
	}
	*ret_v = v;
	*ret_n = (size_t)n;
	return 0;
}

static int load_bridge_list(struct loader *l, const char *key, char ***ret_v, size_t *ret_n)
{
	return load_name_list(l, key, bridge_name_ok, "a bridge name", ret_v, ret_n);
}

/* No bridge in both lists. */
static int check_public_not_private(struct loader *l, const struct policy_key *k)
{
	struct vifmac_policy *p = l->p;
	size_t pub, priv;
	int r = vifmac_first_shared(p->private_bridges, p->n_private, p->public_bridges, p->n_public,
				    sizeof(char *), cmp_names, &pub, &priv);

	(void)k;
	if (r <= 0)
		return r;
	return fail(l, "public_bridges", (int)pub, "bridge \"%s\" is in both public_bridges and private_bridges (line %d)",
		    p->public_bridges[pub], vifmac_conf_index_line(l->idx, "private_bridges", (int)priv));
}

static int load_enum(struct loader *l, const char *key, const char *const *names, size_t n, int *ret)
{
	const char *s;
	int r = get_string(l, key, &s);

	if (r < 0 || !s)
		return r;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (int)i;
			return 0;
		}
	if (n == 2)
		return fail(l, key, -1, "%s: \"%s\" is not one of \"%s\", \"%s\"", key, s, names[0], names[1]);
	return fail(l, key, -1, "%s: \"%s\" is not one of \"%s\", \"%s\", \"%s\"", key, s, names[0], names[1],
		    names[2]);
}

static int load_bridge_prefixes(struct loader *l, const struct policy_key *k)
{
	struct vifmac_conf_list list;
	int n, r = get_list(l, k->name, &list, &n);
	struct vifmac_policy *p = l->p;

	if (r < 0 || n == 0)
		return r;
	p->bridge_prefixes = calloc((size_t)n, sizeof(*p->bridge_prefixes));
	if (!p->bridge_prefixes)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *item = list.items[i];
		struct vifmac_bridge_prefix *bp = &p->bridge_prefixes[i];
		const char *val = vifmac_split_pair(item, bp->bridge, sizeof(bp->bridge));

		if (!val)
			return fail(l, "bridge_prefixes", i, "bridge_prefixes: \"%s\" is not BRIDGE=PREFIX", item);
		if (!bridge_name_ok(bp->bridge))
			return fail(l, "bridge_prefixes", i, "bridge_prefixes: \"%s\" is not a bridge name", bp->bridge);
		r = check_prefix(l, "bridge_prefixes", i, val, bp->prefix, &bp->len);
		if (r < 0)
			return r;
		p->n_bridge_prefixes++;
	}
	return bridge_listed_twice(l, "bridge_prefixes", p->bridge_prefixes, p->n_bridge_prefixes,
				   sizeof(*p->bridge_prefixes), "has two prefixes");
}

/* A network script's name, run by the hook from Xen's scripts folder. */
static bool script_name_ok(const char *s)
{
	return *s && !strpbrk(s, " \t\n'\"\\$`;&|<>") && !strstr(s, "..");
}

static int load_bridge_chains(struct loader *l, const struct policy_key *k)
{
	struct vifmac_conf_list list;
	int n, r = get_list(l, k->name, &list, &n);
	struct vifmac_policy *p = l->p;

	if (r < 0 || n == 0)
		return r;
	p->bridge_chains = calloc((size_t)n, sizeof(*p->bridge_chains));
	if (!p->bridge_chains)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *item = list.items[i];
		struct vifmac_bridge_chain *bc = &p->bridge_chains[i];
		const char *val = vifmac_split_pair(item, bc->bridge, sizeof(bc->bridge));

		if (!val || !*val || !bridge_name_ok(bc->bridge))
			return fail(l, "bridge_chain", i, "bridge_chain: \"%s\" is not BRIDGE=SCRIPT", item);
		if (!script_name_ok(val))
			return fail(l, "bridge_chain", i, "bridge_chain: \"%s\" is not a script name", val);
		if (strstr(val, "vif-vifmac"))
			return fail(l, "bridge_chain", i, "bridge_chain: \"%s\" would call vif-vifmac again", val);
		if (!vifmac_strscpy(bc->script, val, sizeof(bc->script)))
			return fail(l, "bridge_chain", i, "bridge_chain: script name too long");
		p->n_bridge_chains++;
	}
	return bridge_listed_twice(l, "bridge_chain", p->bridge_chains, p->n_bridge_chains, sizeof(*p->bridge_chains),
				   "is listed twice");
}

static bool pool_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* "xenpub=ipam,blockA" */
static int load_bridge_pools(struct loader *l, const struct policy_key *k)
{
	struct vifmac_conf_list list;
	int n, r = get_list(l, k->name, &list, &n);
	struct vifmac_policy *p = l->p;

	if (r < 0 || n == 0)
		return r;
	p->bridge_pools = calloc((size_t)n, sizeof(*p->bridge_pools));
	if (!p->bridge_pools)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *item = list.items[i];
		struct vifmac_bridge_pools *bp = &p->bridge_pools[i];
		const char *val = vifmac_split_pair(item, bp->bridge, sizeof(bp->bridge));
		const char *c;

		if (!val || !*val || !bridge_name_ok(bp->bridge))
			return fail(l, "bridge_pools", i, "bridge_pools: \"%s\" is not BRIDGE=POOL[,POOL...]", item);
		if (vifmac_ctx_bridge_class_of(p, bp->bridge) != VIFMAC_BRIDGE_PUBLIC)
			return fail(l, "bridge_pools", i,
				    "bridge_pools: bridge \"%s\" is not public: pools serve public bridges (public_bridges)",
				    bp->bridge);
		bp->pools = calloc(strlen(val) + 1, sizeof(char *));
		if (!bp->pools)
			return -ENOMEM;
		p->n_bridge_pools++;
		for (c = val;;) {
			const char *comma = strchr(c, ',');
			size_t len = comma ? (size_t)(comma - c) : strlen(c);

			if (!pool_name_ok(c, len))
				return fail(l, "bridge_pools", i, "bridge_pools: \"%.*s\" is not a pool name ([A-Za-z0-9_.-])",
					    (int)len, c);
			bp->pools[bp->n] = strndup(c, len);
			if (!bp->pools[bp->n])
				return -ENOMEM;
			bp->n++;
			if (!comma)
				break;
			c = comma + 1;
		}
	}
	return bridge_listed_twice(l, "bridge_pools", p->bridge_pools, p->n_bridge_pools, sizeof(*p->bridge_pools),
				   "is listed twice");
}

/* "24h", "90m", "3600s", "2d", "0" */
static int parse_duration(const char *s, int64_t *ret)
{
	char *end;
	long long v;
	int64_t unit = 1;

	v = strtoll(s, &end, 10);
	if (end == s || v < 0 || (end[0] && end[1]))
		return -EINVAL;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -EINVAL;
	}
	if (v > 366LL * 86400 / unit)
		return -ERANGE;
	*ret = v * unit;
	return 0;
}


/* A file name: absolute (it is read by root, from wherever the hook runs). */
static int load_absolute_path(struct loader *l, const char *key, char **ret)
{
	const char *s;
	int r = get_string(l, key, &s);

	if (r < 0 || !s)
		return r;
	if (s[0] != '/' || strpbrk(s, "\n"))
		return fail(l, key, -1, "%s: \"%s\" is not an absolute file name", key, s);
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* A number from @min to @max (@unit names it in the message); @ret untouched when unset. */
static int load_number(struct loader *l, const char *key, long min, long max, const char *unit, int *ret)
{
	long t;

	if (!vifmac_conf_index_find(l->idx, key))
		return 0;
	if (vifmac_conf_get_long(l->cfg, key, &t) != 0 || t < min || t > max)
		return fail(l, key, -1, "%s must be a number of %s from %ld to %ld", key, unit, min, max);
	*ret = (int)t;
	return 0;
}


/* A domain name (as xl's name=) or a UUID. */
static bool domain_name_ok(const char *s)
{
	return *s && strlen(s) <= 127 && !strpbrk(s, " \t\n\"'/");
}


/* ---------------------------------------------------------------- the table */

#define FIELD(p, k, type) ((type *)(void *)((char *)(p) + (k)->offset))
#define CFIELD(p, k, type) ((const type *)(const void *)((const char *)(p) + (k)->offset))

static size_t count_values(const char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

static int load_enum_key(struct loader *l, const struct policy_key *k)
{
	int v = *FIELD(l->p, k, int);
	int r = load_enum(l, k->name, k->values, count_values(k->values), &v);

	if (r == 0)
		*FIELD(l->p, k, int) = v;
	return r;
}

static int load_number_key(struct loader *l, const struct policy_key *k)
{
	return load_number(l, k->name, k->min, k->max, k->unit, FIELD(l->p, k, int));
}

static int load_file_key(struct loader *l, const struct policy_key *k)
{
	return load_absolute_path(l, k->name, FIELD(l->p, k, char *));
}

static int load_bridges_key(struct loader *l, const struct policy_key *k)
{
	return load_bridge_list(l, k->name, FIELD(l->p, k, char **), (size_t *)(void *)((char *)l->p + k->offset_n));
}

static const char *print_enum(const struct vifmac_policy *p, const struct policy_key *k)
{
	return k->values[*CFIELD(p, k, int)];
}

static const char *print_string(const struct vifmac_policy *p, const struct policy_key *k)
{
	const char *s = *CFIELD(p, k, char *);

	return s ? s : k->def;
}

/* A string @ok accepts (else @what, with %s for the value, is the message); *@ret its copy. */
static int load_checked_string(struct loader *l, const char *key, bool (*ok)(const char *), const char *what,
			       char **ret)
{
	const char *s;
	int r = get_string(l, key, &s);

	if (r < 0 || !s)
		return r;
	if (!ok(s))
		return fail(l, key, -1, what, s);
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int load_prefix(struct loader *l, const struct policy_key *k)
{
	const char *s;
	int r = get_string(l, k->name, &s);

	if (r < 0 || !s)
		return r;
	return check_prefix(l, k->name, -1, s, l->p->prefix, &l->p->prefix_len);
}

static int load_registry(struct loader *l, const struct policy_key *k)
{
	const char *s;
	int r = get_string(l, k->name, &s);

	if (r < 0 || !s)
		return r;
	if (strncmp(s, "etcd:", 5) == 0) {
		char err[256];

		if (vifmac_etcd_endpoints_parse(s + 5, NULL, NULL, err, sizeof(err)) < 0)
			return fail(l, "registry", -1, "registry: \"%s\": %s", s, err);
	} else if (strncmp(s, "sqlite:", 7) != 0 || s[7] != '/') {
		return fail(l, "registry", -1, "registry: \"%s\" is not sqlite:/ABSOLUTE/PATH or etcd:https://HOST:PORT,...",
			    s);
	}
	l->p->registry = strdup(s);
	return l->p->registry ? 0 : -ENOMEM;
}

static int check_etcd_cert_key(struct loader *l, const struct policy_key *k)
{
	const struct vifmac_etcd_options *o = &l->p->etcd;

	(void)k;
	if (!o->cert != !o->key)
		return fail(l, o->cert ? "etcd_cert" : "etcd_key", -1,
			    "etcd_cert and etcd_key go together: set both or neither");
	return 0;
}

static bool etcd_user_ok(const char *s)
{
	return *s && !strpbrk(s, " \t\n\"\\");
}

static int load_etcd_user(struct loader *l, const struct policy_key *k)
{
	return load_checked_string(l, k->name, etcd_user_ok, "etcd_user: \"%s\" is not a user name", &l->p->etcd.user);
}

static int check_etcd_user_password(struct loader *l, const struct policy_key *k)
{
	const struct vifmac_etcd_options *o = &l->p->etcd;

	(void)k;
	if (!o->user != !o->password_file)
		return fail(l, o->user ? "etcd_user" : "etcd_password_file", -1,
			    "etcd_user and etcd_password_file go together: set both or neither");
	return 0;
}

static bool etcd_prefix_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= 128 && s[0] == '/' && s[n - 1] == '/' && !strpbrk(s, " \t\n");
}

static int load_etcd_prefix(struct loader *l, const struct policy_key *k)
{
	return load_checked_string(l, k->name, etcd_prefix_ok,
				   "etcd_prefix: \"%s\" must start and end with '/', 2-128 bytes, no white space",
				   &l->p->etcd.prefix);
}

static int check_etcd_timeouts(struct loader *l, const struct policy_key *k)
{
	const struct vifmac_etcd_options *o = &l->p->etcd;

	(void)k;
	if (o->timeout_ms && o->request_timeout_ms > o->timeout_ms)
		return fail(l, "etcd_request_timeout_ms", -1,
			    "etcd_request_timeout_ms (%d) is longer than etcd_timeout_ms (%d)", o->request_timeout_ms,
			    o->timeout_ms);
	return 0;
}

/* scheme://HOST:PORT, no user info (it would be a credential in the policy's clear text) */
static bool etcd_proxy_ok(const char *s)
{
	size_t scheme = strncmp(s, "http://", 7) == 0 ? 7 : strncmp(s, "https://", 8) == 0 ? 8 :
			strncmp(s, "socks5h://", 10) == 0 ? 10 : strncmp(s, "socks5://", 9) == 0 ? 9 : 0;

	return scheme && s[scheme] && !strpbrk(s + scheme, "/?@ \t\n\r\"\\");
}

static int load_etcd_proxy(struct loader *l, const struct policy_key *k)
{
	return load_checked_string(l, k->name, etcd_proxy_ok,
				   "etcd_proxy: \"%s\" is not http[s]://HOST:PORT or socks5[h]://HOST:PORT",
				   &l->p->etcd.proxy);
}

static bool host_name_ok(const char *s)
{
	size_t n = strlen(s);
	bool ok = n > 0 && n < 64 && s[0] != '-' && s[0] != '.';

	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_';
	return ok;
}

static int load_host_name(struct loader *l, const struct policy_key *k)
{
	return load_checked_string(l, k->name, host_name_ok,
				   "host_name: \"%s\" is not a host name (letters, digits, '-', '.', '_'; 63 at most)",
				   &l->p->host_name);
}

static int check_etcd_transport(struct loader *l, const struct policy_key *k)
{
	struct vifmac_policy *p = l->p;
	char err[256];

	(void)k;
	if (p->registry && strncmp(p->registry, "etcd:", 5) == 0 &&
	    vifmac_etcd_transport_check(p->registry + 5, &p->etcd, err, sizeof(err)) < 0)
		return fail(l, "registry", -1, "registry: \"%s\": %s", p->registry, err);
	return 0;
}

static int load_exempt_domains(struct loader *l, const struct policy_key *k)
{
	return load_name_list(l, k->name, domain_name_ok, "a domain name or UUID", &l->p->enforce_exempt_domains,
			      &l->p->n_enforce_exempt_domains);
}

static int load_chain_script(struct loader *l, const struct policy_key *k)
{
	const char *s;
	int r = get_string(l, k->name, &s);

	if (r < 0 || !s)
		return r;
	if (!script_name_ok(s))
		return fail(l, "chain_script", -1, "chain_script: \"%s\" is not a script name", s);
	if (strstr(s, "vif-vifmac"))
		return fail(l, "chain_script", -1, "chain_script: \"%s\" would call vif-vifmac again", s);
	l->p->chain_script = strdup(s);
	return l->p->chain_script ? 0 : -ENOMEM;
}

static int load_duration(struct loader *l, const struct policy_key *k)
{
	const char *s;
	int r = get_string(l, k->name, &s);

	if (r < 0)
		return r;
	if (s && parse_duration(s, FIELD(l->p, k, int64_t)) < 0)
		return fail(l, k->name, -1,
			    "%s: \"%s\" is not a duration such as \"24h\", \"90m\", \"3600s\" or \"2d\" (one year at the most)",
			    k->name, s);
	return 0;
}

static int load_public_table(struct loader *l, const struct policy_key *k)
{
	const char *s;
	char *table_path;
	int r = get_string(l, k->name, &s);

	if (r < 0 || !s)
		return r;
	if (!*s)
		return fail(l, "public_table", -1, "public_table: empty file name");
	if (s[0] == '/') {
		table_path = strdup(s);
	} else {
		/* relative to the policy file's folder */
		char *copy = strdup(l->path);

		if (!copy)
			return -ENOMEM;
		if (asprintf(&table_path, "%s/%s", dirname(copy), s) < 0)
			table_path = NULL;
		free(copy);
	}
	if (!table_path)
		return -ENOMEM;
	r = vifmac_table_load(l->ctx, table_path, &l->p->public_table);
	if (r < 0) {
		char inner[sizeof(l->ctx->last_error)];

		vifmac_strscpy(inner, l->ctx->last_error, sizeof(inner));
		free(table_path);
		if (r == -EINVAL)
			return vifmac_set_error(l->ctx, r, "%s", inner);
		return fail(l, "public_table", -1, "public_table: %s", inner);
	}
	free(table_path);
	return 0;
}

static const char *print_public_table(const struct vifmac_policy *p, const struct policy_key *k)
{
	(void)k;
	return p->public_table ? p->public_table->path : NULL;
}

#define AT(member) .offset = offsetof(struct vifmac_policy, member)
#define KEY(n, t, d, l, p, ...) { .name = (n), .type = (t), .def = (d), .load = (l), .print = (p), __VA_ARGS__ }
#define CHECK(fn) { .type = KEY_CHECK, .load = (fn) }
#define ENUM(n, d, member, ...) \
	KEY(n, KEY_ENUM, d, load_enum_key, print_enum, AT(member), .values = (const char *const[]){ __VA_ARGS__, NULL })
#define NUMBER(n, d, member, lo, hi, u) \
	KEY(n, KEY_NUMBER, d, load_number_key, NULL, AT(member), .min = (lo), .max = (hi), .unit = (u))
#define LIST(member, n) AT(member), .offset_n = offsetof(struct vifmac_policy, n)

/*
 * Every key of vifmac.conf(5), in the order they are loaded: a key may use
 * the ones above it (bridge_pools the public bridges), and the checks across
 * keys stand where they run, so that of several errors in a file the same
 * one is reported as before the table.
 */
static const struct policy_key keys[] = {
	KEY("prefix", KEY_PREFIX, "02:00", load_prefix, NULL),
	KEY("private_bridges", KEY_LIST, NULL, load_bridges_key, NULL, LIST(private_bridges, n_private)),
	KEY("public_bridges", KEY_LIST, NULL, load_bridges_key, NULL, LIST(public_bridges, n_public)),
	CHECK(check_public_not_private),
	ENUM("unlisted_bridges", "private", unlisted, "private", "public", "refuse"),
	KEY("bridge_prefixes", KEY_LIST, NULL, load_bridge_prefixes, NULL),
	ENUM("no_ipv4", "refuse", no_ipv4, "refuse", "hash"),
	ENUM("explicit_mac", "verify", explicit_mac, "verify", "honour", "override"),
	ENUM("scope", "global", scope, "global", "bridge"),
	ENUM("wire_check", "refuse", wire_check, "refuse", "warn", "off"),
	/*
	 * The registry and its backends' settings: policy checks them and
	 * knows no backend; the backends read them through accessors whose
	 * defaults are these (vifmac_ctx_policy_string(ctx, "etcd_prefix")
	 * gives "/vifmac/" when unset; registry_timeout_ms is stored with its
	 * 5000). The etcd_* numbers stay 0 when unset: the backend then takes
	 * registry_timeout_ms, and its own per-request timeout and answer limit.
	 */
	KEY("registry", KEY_STRING, VIFMAC_DEFAULT_REGISTRY, load_registry, print_string, AT(registry)),
	NUMBER("registry_timeout_ms", "5000", registry_timeout_ms, 10, 30000, "milliseconds"),
	KEY("etcd_cacert", KEY_FILE, NULL, load_file_key, print_string, AT(etcd.cacert)),
	KEY("etcd_cert", KEY_FILE, NULL, load_file_key, print_string, AT(etcd.cert)),
	KEY("etcd_key", KEY_FILE, NULL, load_file_key, print_string, AT(etcd.key)),
	KEY("etcd_password_file", KEY_FILE, NULL, load_file_key, print_string, AT(etcd.password_file)),
	CHECK(check_etcd_cert_key),
	KEY("etcd_user", KEY_STRING, NULL, load_etcd_user, print_string, AT(etcd.user)),
	CHECK(check_etcd_user_password),
	KEY("etcd_prefix", KEY_STRING, "/vifmac/", load_etcd_prefix, print_string, AT(etcd.prefix)),
	NUMBER("etcd_timeout_ms", NULL, etcd.timeout_ms, 100, 30000, "milliseconds"),
	NUMBER("etcd_request_timeout_ms", NULL, etcd.request_timeout_ms, 50, 30000, "milliseconds"),
	CHECK(check_etcd_timeouts),
	KEY("etcd_proxy", KEY_STRING, NULL, load_etcd_proxy, print_string, AT(etcd.proxy)),
	NUMBER("etcd_max_answer_mb", NULL, etcd.max_answer_mb, 1, 256, "MiB"),
	KEY("host_name", KEY_STRING, NULL, load_host_name, print_string, AT(host_name)),
	CHECK(check_etcd_transport),
	ENUM("enforce", "mac", enforce, "mac", "off"),
	ENUM("enforce_failure", "refuse", enforce_failure, "refuse", "warn"),
	KEY("enforce_exempt_bridges", KEY_LIST, NULL, load_bridges_key, NULL,
	    LIST(enforce_exempt_bridges, n_enforce_exempt_bridges)),
	KEY("enforce_exempt_domains", KEY_LIST, NULL, load_exempt_domains, NULL),
	KEY("chain_script", KEY_STRING, "vif-bridge", load_chain_script, print_string, AT(chain_script)),
	KEY("bridge_chain", KEY_LIST, NULL, load_bridge_chains, NULL),
	KEY("bridge_pools", KEY_LIST, NULL, load_bridge_pools, NULL),
	KEY("pool_quarantine", KEY_DURATION, "24h", load_duration, NULL, AT(pool_quarantine)),
	KEY("public_table", KEY_FILE, NULL, load_public_table, print_public_table),
};

static const struct policy_key *key_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(keys); i++)
		if (keys[i].name && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Unknown keys and keys set twice, in the file's order. */
static int check_keys(struct loader *l)
{
	for (size_t i = 0; i < l->idx->n; i++) {
		const struct vifmac_conf_key *k = &l->idx->keys[i];

		if (!key_find(k->name))
			return vifmac_set_error(l->ctx, -EINVAL, "%s:%d: unknown key \"%s\" (see vifmac.conf(5))", l->path,
						k->line, k->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(l->idx->keys[j].name, k->name) == 0)
				return vifmac_set_error(l->ctx, -EINVAL, "%s:%d: \"%s\" is set twice (first at line %d)",
							l->path, k->line, k->name, l->idx->keys[j].line);
	}
	return 0;
}

int vifmac_policy_keys_load(struct vifmac_ctx *ctx, const char *path, struct vifmac_conf *cfg,
			    const struct vifmac_conf_index *idx, struct vifmac_policy *p)
{
	struct loader l = { .ctx = ctx, .path = path, .cfg = cfg, .idx = idx, .p = p };
	int r = check_keys(&l);

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(keys); i++)
		r = keys[i].load(&l, &keys[i]);
	return r;
}

void vifmac_policy_keys_default(struct vifmac_policy *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct policy_key *k = &keys[i];
		int r = 0;

		if (!k->def)
			continue;
		switch (k->type) {
		case KEY_ENUM:
			for (int v = 0; k->values[v]; v++)
				if (strcmp(k->values[v], k->def) == 0)
					*FIELD(p, k, int) = v;
			break;
		case KEY_NUMBER:
			*FIELD(p, k, int) = atoi(k->def);
			break;
		case KEY_DURATION:
			r = parse_duration(k->def, FIELD(p, k, int64_t));
			break;
		case KEY_PREFIX:
			r = vifmac_prefix_parse(k->def, p->prefix, &p->prefix_len);
			break;
		default:
			break; /* strings stay NULL: "unset", printed as the default */
		}
		(void)r; /* the table's own defaults parse (tests/unit/test-policy.c) */
	}
}

const char *vifmac_policy_key_string(const struct vifmac_policy *p, const char *key)
{
	const struct policy_key *k = key_find(key);

	return k && k->print ? k->print(p, k) : NULL;
}
