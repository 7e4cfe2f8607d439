/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xl domain configs: vifmac_domcfg_read on a file made of the input, then
 * what "vifmac plan" and "vifmac xl-args" do with it: each vif spec's
 * bridge=, ip= and mac= decided (vifmac_decide_domain) under the example
 * policy, mac= set and the spec written back.
 * Then what "vifmac fix-config" does with it (mac= removed, and set).
 * Properties: a refused config has an error naming the file; every vif of a
 * read config has a line number >= 1 and formats back to a spec that parses;
 * a rewritten config has the same lines, reads back with as many vifs, none
 * with a mac= (removed) or each with the policy's (set).
 */
#include "fuzz-common.h"

static struct vifmac_ctx *policy_ctx;

static size_t count_lines(const char *p, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

/* fix-config on @path in both modes; @cfg is the config as read, with @n vifs */
static void fix_config(const char *path, const uint8_t *data, size_t size, size_t n)
{
	for (unsigned flags = 0; flags <= VIFMAC_FIX_SET_MAC; flags += VIFMAC_FIX_SET_MAC) {
		struct vifmac_fix fix;
		struct vifmac_domcfg *again = NULL;
		char fixed[128];
		int r;

		vifmac_fix_init(&fix);
		r = vifmac_domcfg_fix(policy_ctx, path, flags, &fix);
		if (r < 0) {
			FUZZ_ASSERT(r == -EPERM || r == -EINVAL || r == -ENOMEM);
			FUZZ_ASSERT(fix.text == NULL && strstr(vifmac_ctx_last_error(policy_ctx), path) != NULL);
			vifmac_fix_dispose(&fix);
			continue;
		}
		FUZZ_ASSERT(fix.text && fix.n_vifs == n);
		FUZZ_ASSERT(count_lines(fix.text, fix.len) == count_lines((const char *)data, size));
		FUZZ_ASSERT(fix.changed == (fix.len != size || memcmp(fix.text, data, size) != 0));
		fuzz_write_file("fixed.cfg", fix.text, fix.len, fixed, sizeof(fixed));
		FUZZ_ASSERT(vifmac_domcfg_read(policy_ctx, fixed, &again) == 0);
		FUZZ_ASSERT(vifmac_domcfg_vif_count(again) == n);
		for (size_t i = 0; i < n; i++) {
			const char *m = vifmac_vifspec_get(vifmac_domcfg_vif(again, i), "mac");
			char want[VIFMAC_MAC_STRLEN];

			if (flags & VIFMAC_FIX_SET_MAC)
				FUZZ_ASSERT(m && strcmp(m, vifmac_mac_format(&fix.vifs[i].decision.mac, want)) == 0);
			else
				FUZZ_ASSERT(m == NULL);
		}
		vifmac_domcfg_free(again);
		vifmac_fix_dispose(&fix);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("VIFMAC_XL_CONF", "", 1); /* never the host's xl.conf */
	policy_ctx = fuzz_ctx_new();
	/* the README's example policy (public table and all); defaults when absent */
	(void)vifmac_ctx_load_policy(policy_ctx, FUZZ_DATA_DIR "/example.conf");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vifmac_ctx *ctx = fuzz_ctx_new();
	struct vifmac_domcfg *cfg = NULL;
	char path[128];
	size_t n;
	int r;

	fuzz_write_file("web1.cfg", data, size, path, sizeof(path));
	r = vifmac_domcfg_read(ctx, path, &cfg);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM || r == -EFBIG);
		FUZZ_ASSERT(strstr(vifmac_ctx_last_error(ctx), path) != NULL);
		vifmac_ctx_unref(ctx);
		return 0;
	}
	(void)vifmac_domcfg_name(cfg);
	(void)vifmac_domcfg_uuid(cfg);
	FUZZ_ASSERT(vifmac_domcfg_is_hvm(cfg) == (strcmp(vifmac_domcfg_type(cfg), "hvm") == 0));
	n = vifmac_domcfg_vif_count(cfg);
	FUZZ_ASSERT(vifmac_domcfg_vif(cfg, n) == NULL);
	if (n > 0) {
		struct vifmac_vif *vifs = calloc(n, sizeof(*vifs));
		struct vifmac_mac *macs = calloc(n, sizeof(*macs));
		struct vifmac_decision *ds = calloc(n, sizeof(*ds));

		FUZZ_ASSERT(vifs && macs && ds);
		for (size_t i = 0; i < n; i++) {
			FUZZ_ASSERT(vifmac_domcfg_vif(cfg, i));
			FUZZ_ASSERT(vifmac_domcfg_vif_line(cfg, i) >= 1);
			vifs[i].bridge = vifmac_domcfg_vif_bridge(cfg, i);
			FUZZ_ASSERT(*vifs[i].bridge);
			vifs[i].ip = vifmac_domcfg_vif_get(cfg, i, "ip");
			vifs[i].domain = vifmac_domcfg_name(cfg);
			vifs[i].uuid = vifmac_domcfg_uuid(cfg);
			vifs[i].devid = vifmac_domcfg_vif_devid(cfg, i);
			FUZZ_ASSERT(vifs[i].devid >= 0 && vifs[i].devid <= 65535);
			/* devids are unique in a config that was read */
			for (size_t j = 0; j < i; j++)
				FUZZ_ASSERT(vifs[j].devid != vifs[i].devid);
			if (vifmac_domcfg_vif_mac(cfg, i, &macs[i]) == 0)
				vifs[i].mac = &macs[i];
		}
		r = vifmac_decide_domain(policy_ctx, vifs, n, ds);
		for (size_t i = 0; i < n; i++) {
			char buf[VIFMAC_MAC_STRLEN], *f;
			struct vifmac_vifspec *again = NULL;

			if (ds[i].refusal.kind != VIFMAC_REFUSAL_NONE) {
				char line[1024];

				FUZZ_ASSERT(ds[i].refusal.message[0]);
				vifmac_refusal_format(&ds[i].refusal, line, sizeof(line));
				continue;
			}
			if (ds[i].rule == VIFMAC_RULE_POOL)
				continue;
			/* xl-args */
			FUZZ_ASSERT(vifmac_vifspec_set(vifmac_domcfg_vif(cfg, i), "mac",
						       vifmac_mac_format(&ds[i].mac, buf)) == 0);
			f = vifmac_vifspec_format(vifmac_domcfg_vif(cfg, i));
			FUZZ_ASSERT(f && vifmac_vifspec_parse(f, &again) == 0);
			vifmac_vifspec_free(again);
			free(f);
		}
		free(vifs);
		free(macs);
		free(ds);
	}
	fix_config(path, data, size, n);
	vifmac_domcfg_free(cfg);
	vifmac_ctx_unref(ctx);
	return 0;
}
