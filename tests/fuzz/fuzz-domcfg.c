/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xl domain configs: vifmac_domcfg_read on a file made of the input, then
 * what "vifmac plan" and "vifmac xl-args" do with it: each vif spec's
 * bridge=, ip= and mac= decided (vifmac_decide_domain) under the example
 * policy, mac= set and the spec written back.
 * Properties: a refused config has an error naming the file; every vif of a
 * read config has a line number >= 1 and formats back to a spec that parses.
 */
#include "fuzz-common.h"

static struct vifmac_ctx *policy_ctx;

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
	vifmac_domcfg_free(cfg);
	vifmac_ctx_unref(ctx);
	return 0;
}
