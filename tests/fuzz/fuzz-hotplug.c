/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenstore as the hotplug helper reads it: a seam built from the input
 * (fuzz-seam.h), vifmac_hotplug_read on its $XENBUS_PATH, then what
 * vifmac_hotplug_online decides before it touches the registry:
 * vifmac_decide and vifmac_check_mac (with and without wire evidence).
 * Properties (the trust boundary of docs/security.md):
 *  - nothing under a guest's /local/domain/<domid>/ is ever read;
 *  - a vif that was read came only from dom0-owned nodes, its strings are one
 *    line and fit, and its paths are the ones its XENBUS_PATH names;
 *  - a refused read or check explains itself.
 */
#include "fuzz-seam.h"

static struct vifmac_ctx *ctxs[3];

static const char *const policies[] = {
	"private_bridges = [ \"xenbr0\", \"xenbr1\" ]\n",
	("private_bridges = [ \"xenbr0\" ]\nunlisted_bridges = \"private\"\nbridge_prefixes = [ \"xenbr1=02:13\", "
	"\"xenlocal=02:00:0a\" ]\nno_ipv4 = \"hash\"\nexplicit_mac = \"honour\"\nscope = \"bridge\"\nwire_check = "
	 "\"warn\"\n"),
	("public_bridges = [ \"xenpub\" ]\npublic_table = \"table.txt\"\nexplicit_mac = \"override\"\nwire_check = "
	 "\"off\"\n"),
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char table[] = "198.51.100.11 52:54:00:aa:00:11\n192.0.2.10 52:54:00:aa:00:10\n";
	char path[128];

	fuzz_write_file("table.txt", table, sizeof(table) - 1, path, sizeof(path));
	for (size_t i = 0; i < ARRAY_SIZE(ctxs); i++) {
		char name[32];

		ctxs[i] = fuzz_ctx_new();
		snprintf(name, sizeof(name), "policy%zu.conf", i);
		fuzz_write_file(name, policies[i], strlen(policies[i]), path, sizeof(path));
		if (vifmac_ctx_load_policy(ctxs[i], path) < 0) {
			fprintf(stderr, "fuzz-hotplug: policy %zu: %s\n", i, vifmac_ctx_last_error(ctxs[i]));
			abort();
		}
	}
	return 0;
}

static bool one_line(const char *s, size_t size)
{
	return memchr(s, '\0', size) && !strpbrk(s, "\r\n");
}

static void check_vif(struct seam *s, const struct vifmac_hotplug_vif *v)
{
	static const char *const keys[] = { "frontend-id", "frontend", "mac", "bridge", "ip", "type", "vifname",
					    "vifmac-owner" };
	char expect[128];

	snprintf(expect, sizeof(expect), "/local/domain/0/backend/vif/%u/%d", v->domid, v->devid);
	FUZZ_ASSERT(strcmp(v->backend, expect) == 0);
	snprintf(expect, sizeof(expect), "/local/domain/%u/device/vif/%d", v->domid, v->devid);
	FUZZ_ASSERT(strcmp(v->frontend, expect) == 0);
	FUZZ_ASSERT(v->devid >= 0 && v->devid <= 65535);
	FUZZ_ASSERT(one_line(v->bridge, sizeof(v->bridge)) && one_line(v->ip, sizeof(v->ip)) &&
		    one_line(v->type, sizeof(v->type)) && one_line(v->ifname, sizeof(v->ifname)) &&
		    one_line(v->claim_uuid, sizeof(v->claim_uuid)));
	/* every backend node it used is dom0's (as the model answers: a node may exist only as a parent) */
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char path[300];
		unsigned owner;

		snprintf(path, sizeof(path), "%s/%s", v->backend, keys[i]);
		if (xsm_owner(&s->xs, path, &owner) == 0)
			FUZZ_ASSERT(owner == 0);
	}
	if (v->libxl_path[0]) {
		char path[300];
		unsigned owner;

		snprintf(path, sizeof(path), "%s/mac", v->libxl_path);
		FUZZ_ASSERT(xsm_owner(&s->xs, path, &owner) == 0 && owner == 0);
	}
	{
		char buf[VIFMAC_MAC_STRLEN], path[300], *value = NULL;

		snprintf(path, sizeof(path), "%s/mac", v->backend);
		FUZZ_ASSERT(xsm_read(&s->xs, path, &value, NULL) == 0);
		FUZZ_ASSERT(strcasecmp(value, vifmac_mac_format(&v->mac, buf)) == 0);
		free(value);
	}
}

/* Reads only ever go to dom0's own tree, libxl's private one and /vm. */
static void check_reads(const struct seam *s)
{
	for (size_t i = 0; i < s->xs.n_reads; i++) {
		const char *p = s->xs.reads[i];

		if (!p)
			continue;
		FUZZ_ASSERT(strncmp(p, "/local/domain/0/", 16) == 0 || strncmp(p, "/libxl/", 7) == 0 ||
			    strncmp(p, "/vm/", 4) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seam s;
	struct vifmac_ctx *ctx;
	struct vifmac_hotplug_vif v;
	struct vifmac_decision d;
	int r;

	seam_load(&s, data, size);
	ctx = ctxs[(unsigned)s.policy % ARRAY_SIZE(ctxs)];
	vifmac_ctx_set_sys(ctx, &seam_ops, &s);
	r = vifmac_hotplug_read(ctx, s.xenbus ? s.xenbus : "backend/vif/5/0", &v);
	if (r < 0) {
		FUZZ_ASSERT(vifmac_ctx_last_error(ctx)[0]);
		check_reads(&s);
		goto out;
	}
	check_vif(&s, &v);
	(void)vifmac_hotplug_mode_for(&v);
	{
		struct vifmac_vif in = {
			.bridge = v.bridge[0] ? v.bridge : NULL,
			.ip = v.ip[0] ? v.ip : NULL,
			.domain = v.dom.name,
			.uuid = v.dom.uuid,
			.devid = v.devid,
			.mac = v.mac_generated ? NULL : &v.mac,
		};
		char line[1024];

		r = vifmac_decide(ctx, &in, &d);
		if (r < 0) {
			FUZZ_ASSERT(d.refusal.kind != VIFMAC_REFUSAL_NONE && d.refusal.message[0]);
			vifmac_refusal_format(&d.refusal, line, sizeof(line));
		} else if (d.rule != VIFMAC_RULE_POOL) {
			struct vifmac_refusal ref;
			int flags[] = { 0, VIFMAC_CHECK_NO_WIRE };

			for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
				memset(&ref, 0, sizeof(ref));
				r = vifmac_check_mac(ctx, &d.mac, d.scope_key, &v, (unsigned)flags[i], &ref);
				if (r == -EEXIST) {
					FUZZ_ASSERT(ref.kind == VIFMAC_REFUSAL_CONFLICT && ref.has_mac &&
						    vifmac_mac_equal(&ref.mac, &d.mac) && ref.holder.where[0]);
					vifmac_refusal_format(&ref, line, sizeof(line));
				} else if (r < 0) {
					FUZZ_ASSERT(vifmac_ctx_last_error(ctx)[0]);
				}
			}
			/* as another vif would see it (no self) */
			memset(&ref, 0, sizeof(ref));
			(void)vifmac_check_mac(ctx, &d.mac, d.scope_key, NULL, 0, &ref);
		}
	}
	check_reads(&s);
out:
	vifmac_ctx_set_sys(ctx, &seam_ops, NULL);
	seam_free(&s);
	return 0;
}
