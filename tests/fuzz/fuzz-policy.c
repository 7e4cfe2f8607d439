/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy files: vifmac_ctx_load_policy on a file made of the input (before a
 * "%%" line; what follows is written beside it as "table.txt", so that
 * public_table = "table.txt" loads it too), then vifmac_decide and
 * vifmac_decide_domain on a few vifs, and the policy accessors.
 * Properties: a refused policy leaves the previous one in place with an
 * error naming the file; a decided MAC is unicast, and IP-derived MACs end
 * with the address bytes; every refusal has a message.
 */
#include "fuzz-common.h"

static const char *const bridges[] = { "xenbr0", "xenbr1", "xenbr2", "xenlocal", "xenpub", "ovsbr0", "br-x" };
static const char *const ips[] = { "192.0.2.10", "198.51.100.11", "10.1.2.3", "2001:db8::1 192.0.2.11/24",
				   "", "2001:db8::5", "192.0.2.010", NULL };

static void check_decision(const struct vifmac_vif *v, int r, const struct vifmac_decision *d)
{
	if (r == 0) {
		FUZZ_ASSERT(d->refusal.kind == VIFMAC_REFUSAL_NONE);
		if (d->rule != VIFMAC_RULE_POOL)
			FUZZ_ASSERT(!vifmac_mac_is_multicast(&d->mac));
		if (d->rule == VIFMAC_RULE_IP_DERIVED) {
			struct vifmac_ipv4 ip;

			FUZZ_ASSERT(vifmac_iplist_first_ipv4(v->ip, &ip, NULL) == 0);
			FUZZ_ASSERT(memcmp(&d->mac.b[3], &ip.b[1], 3) == 0);
		}
		FUZZ_ASSERT(d->scope_key[0]);
	} else {
		FUZZ_ASSERT(r == -EPERM || r == -EINVAL || r == -ENOMEM || r == -EEXIST);
		FUZZ_ASSERT(d->refusal.kind != VIFMAC_REFUSAL_NONE);
		FUZZ_ASSERT(d->refusal.message[0]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *pol, *tab;
	size_t npol, ntab;
	char path[128], tpath[128];
	struct vifmac_ctx *ctx = fuzz_ctx_new();
	struct vifmac_mac given = { { 0x02, 0x00, 0xc0, 0x00, 0x02, 0x0a } };
	int r;

	fuzz_split(data, size, &pol, &npol, &tab, &ntab);
	fuzz_write_file("table.txt", tab ? tab : (const uint8_t *)"", ntab, tpath, sizeof(tpath));
	fuzz_write_file("vifmac.conf", pol, npol, path, sizeof(path));
	r = vifmac_ctx_load_policy(ctx, path);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOENT || r == -EIO || r == -ENOMEM || r == -EFBIG || r == -EACCES);
		FUZZ_ASSERT(vifmac_ctx_last_error(ctx)[0]);
		/* the defaults stay */
		FUZZ_ASSERT(vifmac_ctx_policy_path(ctx) == NULL);
		vifmac_ctx_unref(ctx);
		return 0;
	}
	FUZZ_ASSERT(strcmp(vifmac_ctx_policy_path(ctx), path) == 0);
	(void)vifmac_ctx_registry_url(ctx);
	(void)vifmac_ctx_scope(ctx);
	static const char *const keys[] = { "chain_script", "public_table", "registry", "prefix", "nope" };
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		(void)vifmac_ctx_policy_string(ctx, keys[k]);

	for (size_t b = 0; b < ARRAY_SIZE(bridges); b++) {
		struct vifmac_vif vifs[ARRAY_SIZE(ips)];
		struct vifmac_decision ds[ARRAY_SIZE(ips)];
		size_t n = 0, npools = 0;
		const char *const *pools = vifmac_ctx_bridge_pools(ctx, bridges[b], &npools);

		for (size_t i = 0; i < npools; i++)
			FUZZ_ASSERT(pools[i] && pools[i][0]);
		FUZZ_ASSERT(vifmac_ctx_bridge_chain(ctx, bridges[b])[0]);
		(void)vifmac_ctx_bridge_class(ctx, bridges[b]);
		for (size_t i = 0; i < ARRAY_SIZE(ips); i++) {
			struct vifmac_decision d;
			struct vifmac_vif v = {
				.bridge = bridges[b],
				.ip = ips[i],
				.domain = "web1",
				.uuid = i & 1 ? "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b" : NULL,
				.devid = (int)i,
				.mac = i == 2 ? &given : NULL,
			};

			r = vifmac_decide(ctx, &v, &d);
			check_decision(&v, r, &d);
			vifs[n++] = v;
		}
		r = vifmac_decide_domain(ctx, vifs, n, ds);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(ds[i].refusal.kind == VIFMAC_REFUSAL_NONE || ds[i].refusal.message[0]);
		(void)r;
	}
	vifmac_ctx_unref(ctx);
	return 0;
}
