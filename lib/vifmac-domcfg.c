/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xl domain configuration files: the parts vifmac needs (name, uuid, type, vif list). */
#include <errno.h>
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

struct vifmac_domcfg {
	char *path;
	char *name;
	char *uuid;
	bool hvm;
	struct vifmac_vifspec **vifs;
	int *vif_lines;
	size_t n_vifs;
};

VIFMAC_EXPORT void vifmac_domcfg_free(struct vifmac_domcfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->name);
	free(cfg->uuid);
	for (size_t i = 0; i < cfg->n_vifs; i++)
		vifmac_vifspec_free(cfg->vifs[i]);
	free(cfg->vifs);
	free(cfg->vif_lines);
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

VIFMAC_EXPORT int vifmac_domcfg_read(struct vifmac_ctx *ctx, const char *path, struct vifmac_domcfg **ret_cfg)
{
	struct vifmac_domcfg *cfg = NULL;
	struct vifmac_conf_index idx = { 0 };
	XLU_Config *xc = NULL;
	XLU_ConfigList *list;
	char *data = NULL, *report = NULL, *type = NULL, *builder = NULL;
	size_t len = 0, report_len = 0;
	FILE *report_f = NULL;
	int n = 0, r;

	vifmac_clear_error(ctx);
	r = vifmac_read_file(path, &data, &len);
	if (r < 0) {
		vifmac_set_error(ctx, r, "%s: cannot read domain config: %s", path, strerror(-r));
		goto out;
	}
	if (memchr(data, '\0', len)) {
		r = vifmac_set_error(ctx, -EINVAL, "%s: not a text file (NUL byte)", path);
		goto out;
	}
	r = vifmac_conf_index_build(data, len, &idx);
	if (r < 0)
		goto out;
	report_f = open_memstream(&report, &report_len);
	if (!report_f) {
		r = -ENOMEM;
		goto out;
	}
	xc = xlu_cfg_init(report_f, path);
	if (!xc) {
		r = -ENOMEM;
		goto out;
	}
	if (xlu_cfg_readdata(xc, data, (int)len) != 0) {
		char *nl;

		fflush(report_f);
		nl = report ? strchr(report, '\n') : NULL;
		if (nl)
			*nl = '\0';
		r = vifmac_set_error(ctx, -EINVAL, "%s", report && *report ? report : "syntax error");
		goto out;
	}
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
	if ((r = dup_string(xc, "name", &cfg->name)) < 0 || (r = dup_string(xc, "uuid", &cfg->uuid)) < 0 ||
	    (r = dup_string(xc, "type", &type)) < 0 || (r = dup_string(xc, "builder", &builder)) < 0)
		goto out;
	cfg->hvm = (type && strcmp(type, "hvm") == 0) || (builder && strcmp(builder, "hvm") == 0);
	r = xlu_cfg_get_list(xc, "vif", &list, &n, 1);
	if (r == ESRCH) {
		n = 0;
	} else if (r != 0) {
		r = vifmac_set_error(ctx, -EINVAL, "%s:%d: vif must be a list: vif = [ '...', ... ]", path,
				     vifmac_conf_index_line(&idx, "vif", -1));
		goto out;
	}
	cfg->vifs = calloc((size_t)n + 1, sizeof(*cfg->vifs));
	cfg->vif_lines = calloc((size_t)n + 1, sizeof(int));
	if (!cfg->vifs || !cfg->vif_lines) {
		r = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *s = xlu_cfg_get_listitem(list, i);
		int line = vifmac_conf_index_line(&idx, "vif", i);

		if (!s) {
			r = vifmac_set_error(ctx, -EINVAL, "%s:%d: vif #%d must be a string in quotes", path, line, i);
			goto out;
		}
		r = vifmac_vifspec_parse(s, &cfg->vifs[i]);
		if (r < 0) {
			if (r == -EINVAL)
				vifmac_set_error(ctx, r,
						 "%s:%d: vif #%d \"%s\": every item must be key=value, each key once", path,
						 line, i, s);
			goto out;
		}
		cfg->vif_lines[i] = line;
		cfg->n_vifs++;
	}
	*ret_cfg = cfg;
	cfg = NULL;
	r = 0;
out:
	if (xc)
		xlu_cfg_destroy(xc);
	if (report_f)
		fclose(report_f);
	free(report);
	free(type);
	free(builder);
	vifmac_conf_index_dispose(&idx);
	vifmac_domcfg_free(cfg);
	free(data);
	return r;
}

VIFMAC_EXPORT const char *vifmac_domcfg_name(const struct vifmac_domcfg *cfg)
{
	return cfg->name;
}

VIFMAC_EXPORT const char *vifmac_domcfg_uuid(const struct vifmac_domcfg *cfg)
{
	return cfg->uuid;
}

VIFMAC_EXPORT bool vifmac_domcfg_is_hvm(const struct vifmac_domcfg *cfg)
{
	return cfg->hvm;
}

VIFMAC_EXPORT size_t vifmac_domcfg_vif_count(const struct vifmac_domcfg *cfg)
{
	return cfg->n_vifs;
}

VIFMAC_EXPORT struct vifmac_vifspec *vifmac_domcfg_vif(const struct vifmac_domcfg *cfg, size_t i)
{
	return i < cfg->n_vifs ? cfg->vifs[i] : NULL;
}

VIFMAC_EXPORT int vifmac_domcfg_vif_line(const struct vifmac_domcfg *cfg, size_t i)
{
	return i < cfg->n_vifs ? cfg->vif_lines[i] : 0;
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
	const struct vifmac_vifspec *spec = vifmac_domcfg_vif(cfg, i);
	struct vifmac_vif v = { 0 };
	struct vifmac_mac mac;
	const char *mac_s, *devid;

	if (!spec)
		return vifmac_set_error(ctx, -ENOENT, "%s: no vif #%zu", cfg->path, i);
	mac_s = vifmac_vifspec_get(spec, "mac");
	devid = vifmac_vifspec_get(spec, "devid");
	v.bridge = vifmac_vifspec_get(spec, "bridge");
	if (!v.bridge)
		v.bridge = "xenbr0"; /* libxl's default */
	v.ip = vifmac_vifspec_get(spec, "ip");
	v.domain = cfg->name;
	v.uuid = cfg->uuid;
	v.devid = (int)i;
	if (devid && vifmac_devid_parse(devid, &v.devid) < 0)
		return vifmac_set_error(ctx, -EINVAL, "%s:%d: vif #%zu: devid=%s is not a device number", cfg->path,
					cfg->vif_lines[i], i, devid);
	if (mac_s) {
		if (vifmac_mac_parse(mac_s, &mac) < 0)
			return vifmac_set_error(ctx, -EINVAL, "%s:%d: vif #%zu: mac=%s is not a MAC address (aa:bb:cc:dd:ee:ff)",
						cfg->path, cfg->vif_lines[i], i, mac_s);
		*ret_mac = mac;
		v.mac = ret_mac;
	}
	*ret_vif = v;
	return 0;
}
