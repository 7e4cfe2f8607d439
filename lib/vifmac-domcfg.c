/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xl domain configuration files, read as xl 4.17 reads them (tools/xl/xl.c
 * parse_global_config, xl_parse.c parse_config_data): name, uuid, type, and
 * each vif with xl.conf's vif.default.* applied, its devid and its mac=.
 */
#include <errno.h>
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

#define XL_GLOBAL_CONFIG "/etc/xen/xl.conf"

/* xl.conf's vif.default.* (xl's set_default_nic_values). */
enum { DEF_BRIDGE, DEF_SCRIPT, DEF_GATEWAYDEV, DEF_BACKEND, N_DEFS };
static const char *const def_keys[N_DEFS] = { "bridge", "script", "gatewaydev", "backend" };

struct domcfg_vif {
	struct vifmac_vifspec *spec;
	int line;
	int devid;
	bool has_mac;
	struct vifmac_mac mac;
};

struct vifmac_domcfg {
	char *path;
	char *name;
	char *uuid;
	const char *type; /* "pv", "pvh", "hvm" */
	char *defaults[N_DEFS];
	struct domcfg_vif *vifs;
	size_t n_vifs;
};

VIFMAC_EXPORT void vifmac_domcfg_free(struct vifmac_domcfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->name);
	free(cfg->uuid);
	for (size_t i = 0; i < N_DEFS; i++)
		free(cfg->defaults[i]);
	for (size_t i = 0; i < cfg->n_vifs; i++)
		vifmac_vifspec_free(cfg->vifs[i].spec);
	free(cfg->vifs);
	free(cfg);
}

static int dup_string(XLU_Config *xc, const char *key, char **ret)
{
	const char *s;

	if (xlu_cfg_get_string(xc, key, &s, 1) != 0) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

/* The newer key wins over the older one whatever their order, as in xl.c. */
static int dup_string_either(XLU_Config *xc, const char *key, const char *old_key, char **ret)
{
	int r = dup_string(xc, key, ret);

	if (r == 0 && !*ret && old_key)
		r = dup_string(xc, old_key, ret);
	return r;
}

/* libxlutil on @data; its first report line (file:line: ...) becomes the error. */
static int parse_xl_syntax(struct vifmac_ctx *ctx, const char *path, const char *data, size_t len,
			   struct vifmac_xlu *ret_x)
{
	int r = vifmac_xlu_open(ret_x, path);

	if (r == -ELIBACC)
		return vifmac_set_error(ctx, r, "%s: %s", path, vifmac_xlu_dl_error());
	if (r < 0)
		return r;
	if (xlu_cfg_readdata(ret_x->xc, data, (int)len) != 0) {
		const char *msg = vifmac_xlu_report(ret_x, NULL);

		r = vifmac_set_error(ctx, -EINVAL, "%s", msg ? msg : "syntax error");
		vifmac_xlu_close(ret_x);
	}
	return r;
}

/* Reads @data, NUL-checked: -errno with the error set. */
static int read_text(struct vifmac_ctx *ctx, const char *path, const char *what, char **ret_data, size_t *ret_len)
{
	int r = vifmac_read_file(path, ret_data, ret_len);

	if (r < 0)
		return vifmac_set_error(ctx, r, "%s: cannot read %s: %s", path, what, vifmac_read_file_strerror(r));
	if (memchr(*ret_data, '\0', *ret_len)) {
		free(*ret_data);
		*ret_data = NULL;
		return vifmac_set_error(ctx, -EINVAL, "%s: not a text file (NUL byte)", path);
	}
	return 0;
}

/*
 * xl.conf: @path NULL means $VIFMAC_XL_CONF, else /etc/xen/xl.conf, which
 * may be missing (xl then goes on without it); "" means none. A syntax
 * error is refused: xl itself exits on it, for every command.
 */
static int read_xl_conf(struct vifmac_ctx *ctx, const char *path, struct vifmac_domcfg *cfg)
{
	bool optional = false;
	struct vifmac_xlu x = { 0 };
	char *data = NULL;
	size_t len = 0;
	int r;

	if (!path)
		path = secure_getenv("VIFMAC_XL_CONF");
	if (!path) {
		path = XL_GLOBAL_CONFIG;
		optional = true;
	}
	if (!*path)
		return 0;
	r = read_text(ctx, path, "xl's global config", &data, &len);
	if (r == -ENOENT && optional) {
		vifmac_clear_error(ctx);
		return 0;
	}
	if (r < 0)
		return r;
	r = parse_xl_syntax(ctx, path, data, len, &x);
	if (r < 0)
		goto out;
	if ((r = dup_string_either(x.xc, "vif.default.bridge", "defaultbridge", &cfg->defaults[DEF_BRIDGE])) < 0 ||
	    (r = dup_string_either(x.xc, "vif.default.script", "vifscript", &cfg->defaults[DEF_SCRIPT])) < 0 ||
	    (r = dup_string_either(x.xc, "vif.default.gatewaydev", NULL, &cfg->defaults[DEF_GATEWAYDEV])) < 0 ||
	    (r = dup_string_either(x.xc, "vif.default.backend", NULL, &cfg->defaults[DEF_BACKEND])) < 0)
		goto out;
	if (cfg->defaults[DEF_BRIDGE]) {
		char err[256];

		r = vifmac_bridge_name_check(cfg->defaults[DEF_BRIDGE], "vif.default.bridge", err, sizeof(err));
		if (r < 0) {
			vifmac_set_error(ctx, r, "%s: %s", path, err);
			goto out;
		}
	}
out:
	vifmac_xlu_close(&x);
	free(data);
	return r;
}

/*
 * type= and the older builder=, matched as xl does: the value is a PREFIX of
 * the type name (strncmp with the value's length), so "" and "h" are HVM.
 */
static int read_type(struct vifmac_ctx *ctx, const char *path, const struct vifmac_conf_index *idx, XLU_Config *xc,
		     struct vifmac_domcfg *cfg)
{
	char *type = NULL, *builder = NULL;
	const char *from_type = NULL, *from_builder = NULL;
	int r;

	if ((r = dup_string(xc, "type", &type)) < 0 || (r = dup_string(xc, "builder", &builder)) < 0)
		goto out;
	if (type) {
		size_t n = strlen(type);

		from_type = strncmp(type, "hvm", n) == 0 ? "hvm" :
			    strncmp(type, "pv", n) == 0	 ? "pv" :
			    strncmp(type, "pvh", n) == 0 ? "pvh" :
							   NULL;
		if (!from_type) {
			r = vifmac_set_error(ctx, -EINVAL, "%s:%d: type = \"%s\": xl refuses it (\"Invalid domain type\"): hvm, pv or pvh",
					     path, vifmac_conf_index_line(idx, "type", -1), type);
			goto out;
		}
	}
	if (builder) {
		size_t n = strlen(builder);

		from_builder = strncmp(builder, "hvm", n) == 0 ? "hvm" : strncmp(builder, "generic", n) == 0 ? "pv" : NULL;
		if (!from_builder) {
			r = vifmac_set_error(ctx, -EINVAL,
					     "%s:%d: builder = \"%s\": xl refuses it (\"Invalid domain type\"): hvm or generic",
					     path, vifmac_conf_index_line(idx, "builder", -1), builder);
			goto out;
		}
		if (from_type && strcmp(from_type, from_builder) != 0) {
			r = vifmac_set_error(ctx, -EINVAL,
					     "%s:%d: builder = \"%s\" contradicts type = \"%s\" (line %d): xl refuses "
					     "the config",
					     path, vifmac_conf_index_line(idx, "builder", -1), builder, type,
					     vifmac_conf_index_line(idx, "type", -1));
			goto out;
		}
	}
	cfg->type = from_type ? from_type : from_builder ? from_builder : "pv";
	r = 0;
out:
	free(type);
	free(builder);
	return r;
}

/*
 * The @i'th vif's mac= and devid (devid= overrides @position, xl's default:
 * the vif's place in the list, ARRAY_EXTEND_INIT; -1 where libxl picks it).
 */
static int vif_mac_and_devid(struct vifmac_ctx *ctx, struct vifmac_domcfg *cfg, size_t i, int position)
{
	struct domcfg_vif *v = &cfg->vifs[i];
	const char *mac = vifmac_vifspec_get(v->spec, "mac");
	const char *devid = vifmac_vifspec_get(v->spec, "devid");

	if (mac) {
		static const struct vifmac_mac zero;

		if (vifmac_mac_parse(mac, &v->mac) < 0) {
			if (v->line > 0)
				return vifmac_set_error(ctx, -EINVAL,
							"%s:%d: vif #%zu: mac=%s is not a MAC address (aa:bb:cc:dd:ee:ff)",
							cfg->path, v->line, i, mac);
			return vifmac_set_error(ctx, -EINVAL, "%s: mac=%s is not a MAC address (aa:bb:cc:dd:ee:ff)",
						cfg->path, mac);
		}
		/* libxl's "unset": it generates one, as without mac= */
		v->has_mac = memcmp(&v->mac, &zero, sizeof(zero)) != 0;
	}
	v->devid = devid ? atoi(devid) : position; /* devid= was checked (vifmac_vifspec_check_values) */
	return 0;
}

/* The vif list: each spec, its values, mac= and devid; devids unique. */
static int read_vifs(struct vifmac_ctx *ctx, const char *path, const struct vifmac_conf_index *idx, XLU_Config *xc,
		     struct vifmac_domcfg *cfg)
{
	XLU_ConfigList *list;
	int n = 0, r;

	r = xlu_cfg_get_list(xc, "vif", &list, &n, 1);
	if (r == ESRCH)
		return 0;
	if (r != 0)
		return vifmac_set_error(ctx, -EINVAL, "%s:%d: vif must be a list: vif = [ '...', ... ]", path,
					vifmac_conf_index_line(idx, "vif", -1));
	cfg->vifs = calloc((size_t)n + 1, sizeof(*cfg->vifs));
	if (!cfg->vifs)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const char *s = xlu_cfg_get_listitem(list, i);
		struct domcfg_vif *v = &cfg->vifs[i];
		char err[512];

		v->line = vifmac_conf_index_line(idx, "vif", i);
		if (!s)
			return vifmac_set_error(ctx, -EINVAL, "%s:%d: vif #%d must be a string in quotes", path, v->line, i);
		r = vifmac_vifspec_parse_explained(s, err, sizeof(err), &v->spec);
		if (r == 0)
			cfg->n_vifs++;
		if (r == 0)
			r = vifmac_vifspec_check_values(v->spec, err, sizeof(err));
		if (r == -EINVAL)
			return vifmac_set_error(ctx, r, "%s:%d: vif #%d \"%s\": %s", path, v->line, i, s, err);
		if (r < 0)
			return r;
		r = vif_mac_and_devid(ctx, cfg, (size_t)i, i);
		if (r < 0)
			return r;
		for (int j = 0; j < i; j++)
			if (cfg->vifs[j].devid == v->devid)
				return vifmac_set_error(ctx, -EINVAL,
							"%s:%d: vif #%d and vif #%d (line %d) both get devid %d (%s, %s): "
							"libxl refuses the second (\"device already exists\")",
							path, v->line, i, j, cfg->vifs[j].line, v->devid,
							vifmac_vifspec_get(v->spec, "devid") ? "devid=" : "its position in the list",
							vifmac_vifspec_get(cfg->vifs[j].spec, "devid") ? "devid=" :
													 "its position in the list");
	}
	return 0;
}

VIFMAC_EXPORT int vifmac_domcfg_read_xl(struct vifmac_ctx *ctx, const char *path, const char *xl_conf,
					struct vifmac_domcfg **ret_cfg)
{
	struct vifmac_domcfg *cfg = NULL;
	struct vifmac_conf_index idx = { 0 };
	struct vifmac_xlu x = { 0 };
	char *data = NULL;
	size_t len = 0;
	int r;

	vifmac_clear_error(ctx);
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg) {
		r = -ENOMEM;
		goto out;
	}
	cfg->path = strdup(path);
	if (!cfg->path) {
		r = -ENOMEM;
		goto out;
	}
	r = read_xl_conf(ctx, xl_conf, cfg);
	if (r < 0)
		goto out;
	r = read_text(ctx, path, "domain config", &data, &len);
	if (r < 0)
		goto out;
	r = vifmac_conf_index_build(data, len, &idx);
	if (r < 0)
		goto out;
	r = parse_xl_syntax(ctx, path, data, len, &x);
	if (r < 0)
		goto out;
	if ((r = dup_string(x.xc, "name", &cfg->name)) < 0 || (r = dup_string(x.xc, "uuid", &cfg->uuid)) < 0)
		goto out;
	r = read_type(ctx, path, &idx, x.xc, cfg);
	if (r < 0)
		goto out;
	r = read_vifs(ctx, path, &idx, x.xc, cfg);
	if (r < 0)
		goto out;
	*ret_cfg = cfg;
	cfg = NULL;
out:
	vifmac_xlu_close(&x);
	vifmac_conf_index_dispose(&idx);
	vifmac_domcfg_free(cfg);
	free(data);
	return r;
}

/*
 * xl network-attach DOMAIN key=value...: xl starts from xl.conf's
 * vif.default.* (set_default_nic_values) and hands each argument to
 * parse_nic_config as one token of a vif spec, so the arguments joined by
 * commas are the spec a config file would have written. A comma inside an
 * argument would be part of a value for xl but two items here: refused.
 */
VIFMAC_EXPORT int vifmac_domcfg_from_nic_args(struct vifmac_ctx *ctx, const char *domain, char *const *args, size_t n,
					      const char *xl_conf, struct vifmac_domcfg **ret_cfg)
{
	struct vifmac_domcfg *cfg = NULL;
	char *spec = NULL, err[512];
	size_t len = 1;
	int r;

	vifmac_clear_error(ctx);
	for (size_t i = 0; i < n; i++) {
		if (strchr(args[i], ','))
			return vifmac_set_error(ctx, -EINVAL,
						"command line: \"%s\": a comma in a network-attach argument (xl takes "
						"it as part of the value; give each key=value as its own argument)",
						args[i]);
		len += strlen(args[i]) + 1;
	}
	cfg = calloc(1, sizeof(*cfg));
	spec = calloc(1, len);
	if (!cfg || !spec || !(cfg->path = strdup("command line")) || (domain && !(cfg->name = strdup(domain))) ||
	    !(cfg->vifs = calloc(1, sizeof(*cfg->vifs)))) {
		r = -ENOMEM;
		goto out;
	}
	cfg->type = "pv"; /* network-attach reads no type=; the hook learns the real one */
	r = read_xl_conf(ctx, xl_conf, cfg);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(spec, ",");
		strcat(spec, args[i]);
	}
	r = vifmac_vifspec_parse_explained(spec, err, sizeof(err), &cfg->vifs[0].spec);
	if (r == 0) {
		cfg->n_vifs = 1;
		r = vifmac_vifspec_check_values(cfg->vifs[0].spec, err, sizeof(err));
	}
	if (r == -EINVAL) {
		vifmac_set_error(ctx, r, "command line: %s", err);
		goto out;
	}
	if (r < 0)
		goto out;
	r = vif_mac_and_devid(ctx, cfg, 0, -1); /* libxl gives the next free devid */
	if (r < 0)
		goto out;
	*ret_cfg = cfg;
	cfg = NULL;
out:
	vifmac_domcfg_free(cfg);
	free(spec);
	return r;
}

VIFMAC_EXPORT int vifmac_domcfg_read(struct vifmac_ctx *ctx, const char *path, struct vifmac_domcfg **ret_cfg)
{
	return vifmac_domcfg_read_xl(ctx, path, NULL, ret_cfg);
}

VIFMAC_EXPORT const char *vifmac_domcfg_name(const struct vifmac_domcfg *cfg)
{
	return cfg->name;
}

VIFMAC_EXPORT const char *vifmac_domcfg_uuid(const struct vifmac_domcfg *cfg)
{
	return cfg->uuid;
}

VIFMAC_EXPORT const char *vifmac_domcfg_type(const struct vifmac_domcfg *cfg)
{
	return cfg->type;
}

VIFMAC_EXPORT bool vifmac_domcfg_is_hvm(const struct vifmac_domcfg *cfg)
{
	return strcmp(cfg->type, "hvm") == 0;
}

VIFMAC_EXPORT size_t vifmac_domcfg_vif_count(const struct vifmac_domcfg *cfg)
{
	return cfg->n_vifs;
}

VIFMAC_EXPORT struct vifmac_vifspec *vifmac_domcfg_vif(const struct vifmac_domcfg *cfg, size_t i)
{
	return i < cfg->n_vifs ? cfg->vifs[i].spec : NULL;
}

VIFMAC_EXPORT int vifmac_domcfg_vif_line(const struct vifmac_domcfg *cfg, size_t i)
{
	return i < cfg->n_vifs ? cfg->vifs[i].line : 0;
}

VIFMAC_EXPORT int vifmac_domcfg_vif_devid(const struct vifmac_domcfg *cfg, size_t i)
{
	return i < cfg->n_vifs ? cfg->vifs[i].devid : -1;
}

VIFMAC_EXPORT const char *vifmac_domcfg_vif_get(const struct vifmac_domcfg *cfg, size_t i, const char *key)
{
	const char *v;

	if (i >= cfg->n_vifs)
		return NULL;
	v = vifmac_vifspec_get(cfg->vifs[i].spec, key);
	if (!v && strcmp(key, "gatewaydev") == 0)
		v = vifmac_vifspec_get(cfg->vifs[i].spec, "netdev"); /* xl's deprecated alias */
	for (size_t k = 0; !v && k < N_DEFS; k++)
		if (strcmp(key, def_keys[k]) == 0)
			v = cfg->defaults[k];
	return v;
}

VIFMAC_EXPORT const char *vifmac_domcfg_vif_bridge(const struct vifmac_domcfg *cfg, size_t i)
{
	const char *b = vifmac_domcfg_vif_get(cfg, i, "bridge");

	return b ? b : "xenbr0"; /* libxl__device_nic_setdefault */
}

VIFMAC_EXPORT int vifmac_domcfg_vif_mac(const struct vifmac_domcfg *cfg, size_t i, struct vifmac_mac *ret_mac)
{
	if (i >= cfg->n_vifs || !cfg->vifs[i].has_mac)
		return -ENOENT;
	*ret_mac = cfg->vifs[i].mac;
	return 0;
}

VIFMAC_EXPORT int vifmac_devid_parse(const char *s, int *ret_devid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535 || (s[0] == '0' && s[1]))
		return -EINVAL;
	*ret_devid = (int)v;
	return 0;
}

VIFMAC_EXPORT int vifmac_domcfg_vif_input(struct vifmac_ctx *ctx, const struct vifmac_domcfg *cfg, size_t i,
					  struct vifmac_vif *ret_vif, struct vifmac_mac *ret_mac)
{
	struct vifmac_vif v = { 0 };

	/* what xl gives the vif: read and checked when the config was (vifmac_domcfg_read_xl) */
	if (i >= cfg->n_vifs)
		return vifmac_set_error(ctx, -ENOENT, "%s: no vif #%zu", cfg->path, i);
	v.bridge = vifmac_domcfg_vif_bridge(cfg, i);
	v.ip = vifmac_domcfg_vif_get(cfg, i, "ip");
	v.domain = cfg->name;
	v.uuid = cfg->uuid;
	v.devid = vifmac_domcfg_vif_devid(cfg, i);
	if (vifmac_domcfg_vif_mac(cfg, i, ret_mac) == 0)
		v.mac = ret_mac;
	*ret_vif = v;
	return 0;
}
