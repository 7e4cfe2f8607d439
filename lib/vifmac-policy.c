/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy file, /etc/xen/vifmac.conf, in xl.conf syntax: read with
 * libxlutil, validated whole, every error naming file:line.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

/* The defaults of settings a backend reads (through the accessors at the end). */
#define DEFAULT_REGISTRY_TIMEOUT_MS 5000
#define DEFAULT_POOL_QUARANTINE (24 * 3600)
#define DEFAULT_ETCD_PREFIX "/vifmac/"
#define DEFAULT_ETCD_REQUEST_TIMEOUT_MS 1500
#define DEFAULT_ETCD_MAX_ANSWER_MB 4

struct vifmac_policy *vifmac_policy_new_default(void)
{
	struct vifmac_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->prefix[0] = 0x02;
	p->prefix[1] = 0x00;
	p->prefix_len = 2;
	p->unlisted = VIFMAC_BRIDGE_PRIVATE;
	p->no_ipv4 = VIFMAC_NO_IPV4_REFUSE;
	p->explicit_mac = VIFMAC_EXPLICIT_VERIFY;
	p->scope = VIFMAC_SCOPE_GLOBAL;
	p->registry_timeout_ms = DEFAULT_REGISTRY_TIMEOUT_MS;
	p->pool_quarantine = DEFAULT_POOL_QUARANTINE;
	return p;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void vifmac_policy_free(struct vifmac_policy *p)
{
	if (!p)
		return;
	free(p->path);
	strv_free(p->private_bridges, p->n_private);
	strv_free(p->public_bridges, p->n_public);
	free(p->bridge_prefixes);
	vifmac_table_free(p->public_table);
	free(p->registry);
	free(p->chain_script);
	free(p->host_name);
	free(p->bridge_chains);
	for (size_t i = 0; i < p->n_bridge_pools; i++)
		strv_free(p->bridge_pools[i].pools, p->bridge_pools[i].n);
	free(p->bridge_pools);
	free(p->etcd.cacert);
	free(p->etcd.cert);
	free(p->etcd.key);
	free(p->etcd.user);
	free(p->etcd.password_file);
	free(p->etcd.prefix);
	free(p->etcd.proxy);
	strv_free(p->enforce_exempt_bridges, p->n_enforce_exempt_bridges);
	strv_free(p->enforce_exempt_domains, p->n_enforce_exempt_domains);
	free(p);
}

/* What a policy load works with. */
struct loader {
	struct vifmac_ctx *ctx;
	const char *path;
	XLU_Config *cfg;
	struct vifmac_conf_index idx;
	struct vifmac_policy *p;
};

static int fail(struct loader *l, const char *key, int item, const char *format, ...) VIFMAC_PRINTF(4, 5);
static int fail(struct loader *l, const char *key, int item, const char *format, ...)
{
	char msg[512];
	va_list args;

	va_start(args, format);
	vsnprintf(msg, sizeof(msg), format, args);
	va_end(args);
	return vifmac_set_error(l->ctx, -EINVAL, "%s:%d: %s", l->path, vifmac_conf_index_line(&l->idx, key, item),
				msg);
}

/* A string key: 0 and *ret (owned by the config) set, 0 and *ret NULL when absent, or -EINVAL. */
static int get_string(struct loader *l, const char *key, const char **ret)
{
	int e = xlu_cfg_get_string(l->cfg, key, ret, 1);

	if (e == ESRCH) {
		*ret = NULL;
		return 0;
	}
	if (e)
		return fail(l, key, -1, "%s must be a string in quotes", key);
	return 0;
}

/* A list of strings: *ret_list NULL and *ret_n 0 when absent. */
static int get_list(struct loader *l, const char *key, XLU_ConfigList **ret_list, int *ret_n)
{
	int e = xlu_cfg_get_list(l->cfg, key, ret_list, ret_n, 1);

	if (e == ESRCH) {
		*ret_list = NULL;
		*ret_n = 0;
		return 0;
	}
	if (e)
		return fail(l, key, -1, "%s must be a list: %s = [ \"...\", ... ]", key, key);
	for (int i = 0; i < *ret_n; i++)
		if (!xlu_cfg_get_listitem(*ret_list, i))
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
	XLU_ConfigList *list;
	int n, r = get_list(l, key, &list, &n);
	size_t dup, first;
	char **v;

	if (r < 0)
		return r;
	v = calloc((size_t)n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *b = xlu_cfg_get_listitem(list, i);

		if (!ok(b)) {
			strv_free(v, (size_t)i);
			return fail(l, key, i, "%s: \"%s\" is not %s", key, b, what);
		}
		v[i] = strdup(b);
		if (!v[i]) {
			strv_free(v, (size_t)i);
			return -ENOMEM;
		}
	}
	r = vifmac_first_duplicate(v, (size_t)n, sizeof(*v), cmp_names, &dup, &first);
	if (r != 0) {
		if (r > 0)
			r = fail(l, key, (int)dup, "%s: %s\"%s\" is listed twice", key, ok == bridge_name_ok ? "bridge " : "",
				 v[dup]);
		strv_free(v, (size_t)n);
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
static int check_public_not_private(struct loader *l)
{
	struct vifmac_policy *p = l->p;
	size_t pub, priv;
	int r = vifmac_first_shared(p->private_bridges, p->n_private, p->public_bridges, p->n_public,
				    sizeof(char *), cmp_names, &pub, &priv);

	if (r <= 0)
		return r;
	return fail(l, "public_bridges", (int)pub, "bridge \"%s\" is in both public_bridges and private_bridges (line %d)",
		    p->public_bridges[pub], vifmac_conf_index_line(&l->idx, "private_bridges", (int)priv));
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

static int load_bridge_prefixes(struct loader *l)
{
	XLU_ConfigList *list;
	int n, r = get_list(l, "bridge_prefixes", &list, &n);
	struct vifmac_policy *p = l->p;

	if (r < 0 || n == 0)
		return r;
	p->bridge_prefixes = calloc((size_t)n, sizeof(*p->bridge_prefixes));
	if (!p->bridge_prefixes)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *item = xlu_cfg_get_listitem(list, i);
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

static int load_bridge_chains(struct loader *l)
{
	XLU_ConfigList *list;
	int n, r = get_list(l, "bridge_chain", &list, &n);
	struct vifmac_policy *p = l->p;

	if (r < 0 || n == 0)
		return r;
	p->bridge_chains = calloc((size_t)n, sizeof(*p->bridge_chains));
	if (!p->bridge_chains)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *item = xlu_cfg_get_listitem(list, i);
		struct vifmac_bridge_chain *bc = &p->bridge_chains[i];
		const char *val = vifmac_split_pair(item, bc->bridge, sizeof(bc->bridge));

		if (!val || !*val || !bridge_name_ok(bc->bridge))
			return fail(l, "bridge_chain", i, "bridge_chain: \"%s\" is not BRIDGE=SCRIPT", item);
		if (strpbrk(val, " \t\n'\"\\$`;&|<>") || strstr(val, ".."))
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
static int load_bridge_pools(struct loader *l)
{
	XLU_ConfigList *list;
	int n, r = get_list(l, "bridge_pools", &list, &n);
	struct vifmac_policy *p = l->p;

	if (r < 0 || n == 0)
		return r;
	p->bridge_pools = calloc((size_t)n, sizeof(*p->bridge_pools));
	if (!p->bridge_pools)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *item = xlu_cfg_get_listitem(list, i);
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

static const char *const known_keys[] = {
	"prefix", "private_bridges", "public_bridges", "unlisted_bridges", "bridge_prefixes", "public_table",
	"no_ipv4", "explicit_mac", "scope", "registry", "registry_timeout_ms", "chain_script", "bridge_chain",
	"wire_check", "bridge_pools", "pool_quarantine", "host_name",
	"enforce", "enforce_failure", "enforce_exempt_bridges", "enforce_exempt_domains",
	"etcd_cacert", "etcd_cert", "etcd_key", "etcd_user", "etcd_password_file", "etcd_prefix", "etcd_timeout_ms",
	"etcd_request_timeout_ms", "etcd_proxy", "etcd_max_answer_mb",
};

static int check_keys(struct loader *l)
{
	for (size_t i = 0; i < l->idx.n; i++) {
		const struct vifmac_conf_key *k = &l->idx.keys[i];
		bool known = false;

		for (size_t j = 0; j < ARRAY_SIZE(known_keys); j++)
			known = known || strcmp(k->name, known_keys[j]) == 0;
		if (!known)
			return vifmac_set_error(l->ctx, -EINVAL, "%s:%d: unknown key \"%s\" (see vifmac.conf(5))", l->path,
						k->line, k->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(l->idx.keys[j].name, k->name) == 0)
				return vifmac_set_error(l->ctx, -EINVAL, "%s:%d: \"%s\" is set twice (first at line %d)",
							l->path, k->line, k->name, l->idx.keys[j].line);
	}
	return 0;
}

/* An etcd_* file name: absolute (it is read by root, from wherever the hook runs). */
static int load_etcd_path(struct loader *l, const char *key, char **ret)
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
static int load_etcd_number(struct loader *l, const char *key, long min, long max, const char *unit, int *ret)
{
	long t;

	if (!vifmac_conf_index_find(&l->idx, key))
		return 0;
	if (xlu_cfg_get_long(l->cfg, key, &t, 1) != 0 || t < min || t > max)
		return fail(l, key, -1, "%s must be a number of %s from %ld to %ld", key, unit, min, max);
	*ret = (int)t;
	return 0;
}

/* The etcd backend's options; only checked here, used when the registry is etcd:. */
static int load_etcd(struct loader *l)
{
	struct vifmac_etcd_options *o = &l->p->etcd;
	const char *s;
	int r;

	if ((r = load_etcd_path(l, "etcd_cacert", &o->cacert)) < 0 ||
	    (r = load_etcd_path(l, "etcd_cert", &o->cert)) < 0 ||
	    (r = load_etcd_path(l, "etcd_key", &o->key)) < 0 ||
	    (r = load_etcd_path(l, "etcd_password_file", &o->password_file)) < 0)
		return r;
	if (!o->cert != !o->key)
		return fail(l, o->cert ? "etcd_cert" : "etcd_key", -1,
			    "etcd_cert and etcd_key go together: set both or neither");
	r = get_string(l, "etcd_user", &s);
	if (r < 0)
		return r;
	if (s) {
		if (!*s || strpbrk(s, " \t\n\"\\"))
			return fail(l, "etcd_user", -1, "etcd_user: \"%s\" is not a user name", s);
		o->user = strdup(s);
		if (!o->user)
			return -ENOMEM;
	}
	if (!o->user != !o->password_file)
		return fail(l, o->user ? "etcd_user" : "etcd_password_file", -1,
			    "etcd_user and etcd_password_file go together: set both or neither");
	r = get_string(l, "etcd_prefix", &s);
	if (r < 0)
		return r;
	if (s) {
		size_t n = strlen(s);

		if (n < 2 || n > 128 || s[0] != '/' || s[n - 1] != '/' || strpbrk(s, " \t\n"))
			return fail(l, "etcd_prefix", -1,
				    "etcd_prefix: \"%s\" must start and end with '/', 2-128 bytes, no white space", s);
		o->prefix = strdup(s);
		if (!o->prefix)
			return -ENOMEM;
	}
	if ((r = load_etcd_number(l, "etcd_timeout_ms", 100, 30000, "milliseconds", &o->timeout_ms)) < 0 ||
	    (r = load_etcd_number(l, "etcd_request_timeout_ms", 50, 30000, "milliseconds", &o->request_timeout_ms)) < 0)
		return r;
	if (o->timeout_ms && o->request_timeout_ms > o->timeout_ms)
		return fail(l, "etcd_request_timeout_ms", -1,
			    "etcd_request_timeout_ms (%d) is longer than etcd_timeout_ms (%d)", o->request_timeout_ms,
			    o->timeout_ms);
	r = get_string(l, "etcd_proxy", &s);
	if (r < 0)
		return r;
	if (s) {
		/* scheme://HOST:PORT, no user info (it would be a credential in the policy's clear text) */
		size_t scheme = strncmp(s, "http://", 7) == 0 ? 7 : strncmp(s, "https://", 8) == 0 ? 8 :
				strncmp(s, "socks5h://", 10) == 0 ? 10 : strncmp(s, "socks5://", 9) == 0 ? 9 : 0;

		if (!scheme || !s[scheme] || strpbrk(s + scheme, "/?@ \t\n\r\"\\"))
			return fail(l, "etcd_proxy", -1,
				    "etcd_proxy: \"%s\" is not http[s]://HOST:PORT or socks5[h]://HOST:PORT", s);
		o->proxy = strdup(s);
		if (!o->proxy)
			return -ENOMEM;
	}
	return load_etcd_number(l, "etcd_max_answer_mb", 1, 256, "MiB", &o->max_answer_mb);
}

/* A domain name (as xl's name=) or a UUID. */
static bool domain_name_ok(const char *s)
{
	return *s && strlen(s) <= 127 && !strpbrk(s, " \t\n\"'/");
}

/* enforce, enforce_failure and the exemptions (per-vif filtering, vifmac-enforce.c). */
static int load_enforce(struct loader *l)
{
	static const char *const modes[] = { "mac", "off" };
	static const char *const failures[] = { "refuse", "warn" };
	struct vifmac_policy *p = l->p;
	int v, r;

	v = (int)p->enforce;
	r = load_enum(l, "enforce", modes, ARRAY_SIZE(modes), &v);
	if (r < 0)
		return r;
	p->enforce = (enum vifmac_enforce_mode)v;
	v = (int)p->enforce_failure;
	r = load_enum(l, "enforce_failure", failures, ARRAY_SIZE(failures), &v);
	if (r < 0)
		return r;
	p->enforce_failure = (enum vifmac_enforce_failure)v;
	r = load_bridge_list(l, "enforce_exempt_bridges", &p->enforce_exempt_bridges, &p->n_enforce_exempt_bridges);
	if (r < 0)
		return r;
	return load_name_list(l, "enforce_exempt_domains", domain_name_ok, "a domain name or UUID",
			      &p->enforce_exempt_domains, &p->n_enforce_exempt_domains);
}

static int load_all(struct loader *l)
{
	static const char *const classes[] = { "private", "public", "refuse" };
	static const char *const no_ipv4[] = { "refuse", "hash" };
	static const char *const explicit[] = { "verify", "honour", "override" };
	static const char *const scopes[] = { "global", "bridge" };
	static const char *const wire[] = { "refuse", "warn", "off" };
	struct vifmac_policy *p = l->p;
	const char *s;
	int v, r;

	r = check_keys(l);
	if (r < 0)
		return r;
	r = get_string(l, "prefix", &s);
	if (r < 0)
		return r;
	if (s) {
		r = check_prefix(l, "prefix", -1, s, p->prefix, &p->prefix_len);
		if (r < 0)
			return r;
	}
	r = load_bridge_list(l, "private_bridges", &p->private_bridges, &p->n_private);
	if (r < 0)
		return r;
	r = load_bridge_list(l, "public_bridges", &p->public_bridges, &p->n_public);
	if (r < 0)
		return r;
	r = check_public_not_private(l);
	if (r < 0)
		return r;
	v = (int)p->unlisted;
	r = load_enum(l, "unlisted_bridges", classes, ARRAY_SIZE(classes), &v);
	if (r < 0)
		return r;
	p->unlisted = (enum vifmac_bridge_class)v;
	r = load_bridge_prefixes(l);
	if (r < 0)
		return r;
	v = (int)p->no_ipv4;
	r = load_enum(l, "no_ipv4", no_ipv4, ARRAY_SIZE(no_ipv4), &v);
	if (r < 0)
		return r;
	p->no_ipv4 = (enum vifmac_no_ipv4)v;
	v = (int)p->explicit_mac;
	r = load_enum(l, "explicit_mac", explicit, ARRAY_SIZE(explicit), &v);
	if (r < 0)
		return r;
	p->explicit_mac = (enum vifmac_explicit_mac)v;
	v = (int)p->scope;
	r = load_enum(l, "scope", scopes, ARRAY_SIZE(scopes), &v);
	if (r < 0)
		return r;
	p->scope = (enum vifmac_scope)v;
	v = (int)p->wire_check;
	r = load_enum(l, "wire_check", wire, ARRAY_SIZE(wire), &v);
	if (r < 0)
		return r;
	p->wire_check = (enum vifmac_wire_check)v;

	r = get_string(l, "registry", &s);
	if (r < 0)
		return r;
	if (s) {
		if (strncmp(s, "etcd:", 5) == 0) {
			char err[256];

			if (vifmac_etcd_endpoints_parse(s + 5, NULL, NULL, err, sizeof(err)) < 0)
				return fail(l, "registry", -1, "registry: \"%s\": %s", s, err);
		} else if (strncmp(s, "sqlite:", 7) != 0 || s[7] != '/') {
			return fail(l, "registry", -1,
				    "registry: \"%s\" is not sqlite:/ABSOLUTE/PATH or etcd:https://HOST:PORT,...", s);
		}
		p->registry = strdup(s);
		if (!p->registry)
			return -ENOMEM;
	}
	if (vifmac_conf_index_find(&l->idx, "registry_timeout_ms")) {
		long t;

		if (xlu_cfg_get_long(l->cfg, "registry_timeout_ms", &t, 1) != 0 || t < 10 || t > 30000)
			return fail(l, "registry_timeout_ms", -1,
				    "registry_timeout_ms must be a number of milliseconds from 10 to 30000");
		p->registry_timeout_ms = (int)t;
	}
	r = load_etcd(l);
	if (r < 0)
		return r;
	r = get_string(l, "host_name", &s);
	if (r < 0)
		return r;
	if (s) {
		size_t n = strlen(s);
		bool ok = n > 0 && n < 64 && s[0] != '-' && s[0] != '.';

		for (size_t i = 0; ok && i < n; i++)
			ok = isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '.' || s[i] == '_';
		if (!ok)
			return fail(l, "host_name", -1,
				    "host_name: \"%s\" is not a host name (letters, digits, '-', '.', '_'; 63 at most)", s);
		p->host_name = strdup(s);
		if (!p->host_name)
			return -ENOMEM;
	}
	if (p->registry && strncmp(p->registry, "etcd:", 5) == 0) {
		char err[256];

		if (vifmac_etcd_transport_check(p->registry + 5, &p->etcd, err, sizeof(err)) < 0)
			return fail(l, "registry", -1, "registry: \"%s\": %s", p->registry, err);
	}
	r = load_enforce(l);
	if (r < 0)
		return r;
	r = get_string(l, "chain_script", &s);
	if (r < 0)
		return r;
	if (s) {
		if (!*s || strpbrk(s, " \t\n'\"\\$`;&|<>") || strstr(s, ".."))
			return fail(l, "chain_script", -1, "chain_script: \"%s\" is not a script name", s);
		if (strstr(s, "vif-vifmac"))
			return fail(l, "chain_script", -1, "chain_script: \"%s\" would call vif-vifmac again", s);
		p->chain_script = strdup(s);
		if (!p->chain_script)
			return -ENOMEM;
	}
	r = load_bridge_chains(l);
	if (r < 0)
		return r;
	r = load_bridge_pools(l);
	if (r < 0)
		return r;
	r = get_string(l, "pool_quarantine", &s);
	if (r < 0)
		return r;
	if (s && parse_duration(s, &p->pool_quarantine) < 0)
		return fail(l, "pool_quarantine", -1,
			    "pool_quarantine: \"%s\" is not a duration such as \"24h\", \"90m\", \"3600s\" or \"2d\" (one year at the most)",
			    s);

	r = get_string(l, "public_table", &s);
	if (r < 0)
		return r;
	if (s) {
		char *table_path;

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
		r = vifmac_table_load(l->ctx, table_path, &p->public_table);
		if (r < 0) {
			char inner[sizeof(l->ctx->last_error)];

			vifmac_strscpy(inner, l->ctx->last_error, sizeof(inner));
			free(table_path);
			if (r == -EINVAL)
				return vifmac_set_error(l->ctx, r, "%s", inner);
			return fail(l, "public_table", -1, "public_table: %s", inner);
		}
		free(table_path);
	}
	return 0;
}

VIFMAC_EXPORT int vifmac_ctx_load_policy(struct vifmac_ctx *ctx, const char *path)
{
	struct loader l = { .ctx = ctx };
	char *data = NULL, *report = NULL;
	size_t len = 0, report_len = 0;
	FILE *report_f = NULL;
	int r;

	vifmac_clear_error(ctx);
	if (!path)
		path = secure_getenv("VIFMAC_CONFIG");
	if (!path || !*path)
		path = VIFMAC_DEFAULT_CONFIG;
	l.path = path;

	r = vifmac_read_file(path, &data, &len);
	if (r < 0) {
		vifmac_set_error(ctx, r, "%s: cannot read policy file: %s", path, vifmac_read_file_strerror(r));
		goto out;
	}
	if (memchr(data, '\0', len)) {
		r = vifmac_set_error(ctx, -EINVAL, "%s: not a text file (NUL byte)", path);
		goto out;
	}
	r = vifmac_conf_index_build(data, len, &l.idx);
	if (r < 0)
		goto out;
	report_f = open_memstream(&report, &report_len);
	if (!report_f) {
		r = -ENOMEM;
		goto out;
	}
	l.cfg = xlu_cfg_init(report_f, path);
	if (!l.cfg) {
		r = -ENOMEM;
		goto out;
	}
	if (xlu_cfg_readdata(l.cfg, data, (int)len) != 0) {
		char *nl;

		fflush(report_f);
		nl = report ? strchr(report, '\n') : NULL;
		if (nl)
			*nl = '\0';
		r = vifmac_set_error(ctx, -EINVAL, "%s", report && *report ? report : "syntax error");
		if (!strstr(ctx->last_error, path))
			vifmac_set_error(ctx, -EINVAL, "%s: %s", path, report && *report ? report : "syntax error");
		goto out;
	}
	l.p = vifmac_policy_new_default();
	if (!l.p) {
		r = -ENOMEM;
		goto out;
	}
	l.p->path = strdup(path);
	if (!l.p->path) {
		r = -ENOMEM;
		goto out;
	}
	r = load_all(&l);
	if (r < 0)
		goto out;
	vifmac_policy_free(ctx->policy);
	ctx->policy = l.p;
	l.p = NULL;
	r = 0;
out:
	if (l.cfg)
		xlu_cfg_destroy(l.cfg);
	if (report_f)
		fclose(report_f);
	free(report);
	vifmac_policy_free(l.p);
	vifmac_conf_index_dispose(&l.idx);
	free(data);
	return r;
}

VIFMAC_EXPORT const char *vifmac_ctx_policy_path(const struct vifmac_ctx *ctx)
{
	return ctx->policy->path;
}

bool vifmac_strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

VIFMAC_EXPORT enum vifmac_bridge_class vifmac_ctx_bridge_class(const struct vifmac_ctx *ctx, const char *bridge)
{
	return vifmac_ctx_bridge_class_of(ctx->policy, bridge);
}

enum vifmac_bridge_class vifmac_ctx_bridge_class_of(const struct vifmac_policy *p, const char *bridge)
{
	if (vifmac_strv_has(p->private_bridges, p->n_private, bridge))
		return VIFMAC_BRIDGE_PRIVATE;
	if (vifmac_strv_has(p->public_bridges, p->n_public, bridge))
		return VIFMAC_BRIDGE_PUBLIC;
	return p->unlisted;
}

VIFMAC_EXPORT enum vifmac_scope vifmac_ctx_scope(const struct vifmac_ctx *ctx)
{
	return ctx->policy->scope;
}

VIFMAC_EXPORT const char *vifmac_ctx_registry_url(const struct vifmac_ctx *ctx)
{
	return ctx->policy->registry ? ctx->policy->registry : VIFMAC_DEFAULT_REGISTRY;
}

VIFMAC_EXPORT const char *vifmac_ctx_policy_string(const struct vifmac_ctx *ctx, const char *key)
{
	static const char *const classes[] = { "private", "public", "refuse" };
	static const char *const no_ipv4[] = { "refuse", "hash" };
	static const char *const explicit[] = { "verify", "honour", "override" };
	static const char *const scopes[] = { "global", "bridge" };
	const struct vifmac_policy *p = ctx->policy;

	if (strcmp(key, "registry") == 0)
		return vifmac_ctx_registry_url(ctx);
	if (strcmp(key, "chain_script") == 0)
		return p->chain_script ? p->chain_script : "vif-bridge";
	if (strcmp(key, "unlisted_bridges") == 0)
		return classes[p->unlisted];
	if (strcmp(key, "no_ipv4") == 0)
		return no_ipv4[p->no_ipv4];
	if (strcmp(key, "explicit_mac") == 0)
		return explicit[p->explicit_mac];
	if (strcmp(key, "scope") == 0)
		return scopes[p->scope];
	if (strcmp(key, "wire_check") == 0)
		return (const char *const[]){ "refuse", "warn", "off" }[p->wire_check];
	if (strcmp(key, "enforce") == 0)
		return (const char *const[]){ "mac", "off" }[p->enforce];
	if (strcmp(key, "enforce_failure") == 0)
		return (const char *const[]){ "refuse", "warn" }[p->enforce_failure];
	if (strcmp(key, "public_table") == 0)
		return p->public_table ? p->public_table->path : NULL;
	if (strcmp(key, "etcd_cacert") == 0)
		return p->etcd.cacert;
	if (strcmp(key, "etcd_cert") == 0)
		return p->etcd.cert;
	if (strcmp(key, "etcd_key") == 0)
		return p->etcd.key;
	if (strcmp(key, "etcd_user") == 0)
		return p->etcd.user;
	if (strcmp(key, "etcd_password_file") == 0)
		return p->etcd.password_file;
	if (strcmp(key, "host_name") == 0)
		return p->host_name;
	if (strcmp(key, "etcd_prefix") == 0)
		return vifmac_ctx_etcd_prefix(ctx);
	if (strcmp(key, "etcd_proxy") == 0)
		return p->etcd.proxy;
	return NULL;
}

const struct vifmac_etcd_options *vifmac_ctx_etcd_options(const struct vifmac_ctx *ctx)
{
	return &ctx->policy->etcd;
}

int vifmac_ctx_registry_timeout_ms(const struct vifmac_ctx *ctx)
{
	const struct vifmac_policy *p = ctx->policy;

	return p && p->registry_timeout_ms > 0 ? p->registry_timeout_ms : DEFAULT_REGISTRY_TIMEOUT_MS;
}

int64_t vifmac_ctx_pool_quarantine(const struct vifmac_ctx *ctx)
{
	return ctx->policy ? ctx->policy->pool_quarantine : DEFAULT_POOL_QUARANTINE;
}

const char *vifmac_ctx_etcd_prefix(const struct vifmac_ctx *ctx)
{
	return ctx->policy && ctx->policy->etcd.prefix ? ctx->policy->etcd.prefix : DEFAULT_ETCD_PREFIX;
}

int vifmac_ctx_etcd_timeout_ms(const struct vifmac_ctx *ctx)
{
	const struct vifmac_etcd_options *o = &ctx->policy->etcd;

	return o->timeout_ms > 0 ? o->timeout_ms : vifmac_ctx_registry_timeout_ms(ctx);
}

int vifmac_ctx_etcd_request_timeout_ms(const struct vifmac_ctx *ctx)
{
	const struct vifmac_etcd_options *o = &ctx->policy->etcd;
	int whole = vifmac_ctx_etcd_timeout_ms(ctx);
	int t = o->request_timeout_ms > 0 ? o->request_timeout_ms : DEFAULT_ETCD_REQUEST_TIMEOUT_MS;

	return t > whole ? whole : t;
}

size_t vifmac_ctx_etcd_max_answer(const struct vifmac_ctx *ctx)
{
	const struct vifmac_etcd_options *o = &ctx->policy->etcd;

	return (size_t)(o->max_answer_mb > 0 ? o->max_answer_mb : DEFAULT_ETCD_MAX_ANSWER_MB) << 20;
}

VIFMAC_EXPORT const char *const *vifmac_ctx_bridge_pools(const struct vifmac_ctx *ctx, const char *bridge,
							  size_t *ret_n)
{
	const struct vifmac_policy *p = ctx->policy;

	for (size_t i = 0; bridge && i < p->n_bridge_pools; i++)
		if (strcmp(p->bridge_pools[i].bridge, bridge) == 0) {
			*ret_n = p->bridge_pools[i].n;
			return (const char *const *)p->bridge_pools[i].pools;
		}
	*ret_n = 0;
	return NULL;
}

VIFMAC_EXPORT const char *vifmac_ctx_bridge_chain(const struct vifmac_ctx *ctx, const char *bridge)
{
	const struct vifmac_policy *p = ctx->policy;

	for (size_t i = 0; bridge && i < p->n_bridge_chains; i++)
		if (strcmp(p->bridge_chains[i].bridge, bridge) == 0)
			return p->bridge_chains[i].script;
	return p->chain_script ? p->chain_script : "vif-bridge";
}
