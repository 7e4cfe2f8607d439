/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rewriting an xl domain config for the policy: each vif spec's mac=
 * removed or set to the policy's MAC, every other byte of the file kept.
 * xen-tools' xen-create-image writes a MAC of its own into every vif line,
 * which the hook (explicit_mac = "verify") refuses; this is the clean way out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

VIFMAC_EXPORT void vifmac_fix_init(struct vifmac_fix *fix)
{
	memset(fix, 0, sizeof(*fix));
}

VIFMAC_EXPORT void vifmac_fix_dispose(struct vifmac_fix *fix)
{
	free(fix->text);
	free(fix->vifs);
	vifmac_fix_init(fix);
}

/* The span [ret_start, ret_end) of the "mac=..." item of a raw spec; false when none. */
static bool find_mac_item(const char *raw, size_t len, size_t *ret_start, size_t *ret_end)
{
	size_t ts = 0;

	while (ts <= len) {
		size_t te = ts, k = ts;

		while (te < len && raw[te] != ',')
			te++;
		while (k < te && raw[k] == ' ')
			k++; /* xl skips leading spaces of an item */
		if (te - k >= 4 && memcmp(raw + k, "mac=", 4) == 0) {
			*ret_start = ts;
			*ret_end = te;
			return true;
		}
		ts = te + 1;
	}
	return false;
}

/*
 * @raw with mac= removed (@mac NULL) or set to @mac, in a malloc'd string:
 * the other items, their spacing and their order stay as they are.
 */
static char *rewrite_spec(const char *raw, size_t len, const char *mac)
{
	size_t s, e, cut_s, cut_e;
	char *out = NULL;
	bool has_item = false;

	if (!find_mac_item(raw, len, &s, &e)) {
		if (!mac)
			return strndup(raw, len);
		for (size_t i = 0; i < len; i++)
			has_item = has_item || (raw[i] != ' ' && raw[i] != ',');
		if (asprintf(&out, "%.*s%smac=%s", (int)len, raw, has_item && raw[len - 1] != ',' ? "," : "", mac) < 0)
			return NULL;
		return out;
	}
	if (mac) {
		size_t v = s;

		while (raw[v] != '=')
			v++;
		if (asprintf(&out, "%.*s%s%.*s", (int)(v + 1), raw, mac, (int)(len - e), raw + e) < 0)
			return NULL;
		return out;
	}
	/* the item and one comma next to it: the one before, else the one after */
	cut_s = s;
	cut_e = e;
	if (s > 0)
		cut_s = s - 1;
	else if (e < len)
		cut_e = e + 1;
	if (asprintf(&out, "%.*s%.*s", (int)cut_s, raw, (int)(len - cut_e), raw + cut_e) < 0)
		return NULL;
	return out;
}

/* True when @a and @b are the same spec once parsed (xl would read them alike). */
static bool same_spec(const char *a, const struct vifmac_vifspec *b)
{
	struct vifmac_vifspec *pa = NULL;
	char *fa = NULL, *fb = NULL;
	bool same;

	if (vifmac_vifspec_parse(a, &pa) < 0)
		return false;
	fa = vifmac_vifspec_format(pa);
	fb = vifmac_vifspec_format(b);
	same = fa && fb && strcmp(fa, fb) == 0;
	free(fa);
	free(fb);
	vifmac_vifspec_free(pa);
	return same;
}

/* Refusals that are particular to rewriting a config (the policy's own are in the decision already). */
static void refuse_what_cannot_be_written(struct vifmac_ctx *ctx, const struct vifmac_domcfg *cfg,
					  const struct vifmac_vif *in, unsigned flags, struct vifmac_fix_vif *fv)
{
	struct vifmac_decision *d = &fv->decision;
	char mac[VIFMAC_MAC_STRLEN];
	struct vifmac_ipv4 ip;

	if (d->refusal.kind == VIFMAC_REFUSAL_INPUT && !vifmac_domcfg_uuid(cfg) &&
	    ctx->policy->no_ipv4 == VIFMAC_NO_IPV4_HASH && vifmac_iplist_first_ipv4(in->ip, &ip, NULL) == -ENOENT) {
		vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
			      "no IPv4 address in ip=, and no_ipv4 = \"hash\" derives the MAC from the domain's UUID, which this config does not set (xl gives a new UUID at every create, so the MAC would change): add uuid= (e.g. from 'xl list -v') or ip=");
		return;
	}
	if (d->refusal.kind != VIFMAC_REFUSAL_NONE)
		return;
	if (vifmac_domcfg_is_hvm(cfg) && !(flags & VIFMAC_FIX_SET_MAC)) {
		if (d->rule == VIFMAC_RULE_POOL)
			vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
				      "HVM guest: QEMU takes the emulated NIC's MAC from the config before any hotplug script runs, so mac= must be in it; bridge %s takes its MACs from pools: write the one 'vifmac pool allocate --bridge %s --uuid UUID --devid %d' gives",
				      in->bridge, in->bridge, fv->devid);
		else
			vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
				      "HVM guest: QEMU takes the emulated NIC's MAC from the config before any hotplug script runs, so mac= must stay: use --set-mac to write the policy's mac=%s instead",
				      vifmac_mac_format(&d->mac, mac));
		return;
	}
	if ((flags & VIFMAC_FIX_SET_MAC) && d->rule == VIFMAC_RULE_POOL)
		vifmac_refuse(d, VIFMAC_REFUSAL_POLICY, -EPERM,
			      "bridge %s takes its MACs from pools (%s), allocated when the vif is claimed: there is no MAC to write yet (remove mac= instead for a PV guest, or write the one 'vifmac pool allocate --bridge %s --uuid UUID --devid %d' gives)",
			      in->bridge, d->evidence, in->bridge, fv->devid);
}

/* The vif list's one assignment in the file, or NULL with the error set. */
static const struct vifmac_conf_key *vif_key(struct vifmac_ctx *ctx, const char *path,
					     const struct vifmac_conf_index *idx, size_t n_vifs)
{
	const struct vifmac_conf_key *k = NULL;

	for (size_t i = 0; i < idx->n; i++) {
		if (strcmp(idx->keys[i].name, "vif") != 0)
			continue;
		if (k || idx->keys[i].append) {
			vifmac_set_error(ctx, -EINVAL,
					 "%s:%d: the vif list is %s: fix-config rewrites one 'vif = [ ... ]' only (edit this one by hand, or merge it into one list first)",
					 path, idx->keys[i].line,
					 idx->keys[i].append ? "extended with +=" : "set more than once");
			return NULL;
		}
		k = &idx->keys[i];
	}
	if (k && k->n_items != n_vifs) {
		vifmac_set_error(ctx, -EINVAL, "%s:%d: vif holds %zu strings but xl reads %zu vifs: not rewritten", path,
				 k->line, k->n_items, n_vifs);
		return NULL;
	}
	return k;
}

/* Builds the new text into @fix; the vifs' decisions are already made. */
static int rewrite(struct vifmac_ctx *ctx, const char *path, const char *data, size_t len,
		   const struct vifmac_domcfg *cfg, const struct vifmac_conf_key *k, unsigned flags,
		   struct vifmac_fix *fix)
{
	char *out = NULL;
	size_t out_len = 0, done = 0;
	FILE *f = open_memstream(&out, &out_len);
	int r = 0;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < fix->n_vifs && k; i++) {
		size_t start = k->item_offsets[i], end = start + 1;
		char q = data[start], mac[VIFMAC_MAC_STRLEN], *spec, *raw;
		bool same;

		if (!(flags & VIFMAC_FIX_SET_MAC) && !fix->vifs[i].had_mac)
			continue; /* nothing to change: its bytes are copied as they are */
		while (end < len && data[end] != q && data[end] != '\\' && data[end] != '\n')
			end++;
		if (end >= len || data[end] != q) {
			r = vifmac_set_error(ctx, -EINVAL,
					     "%s:%d: vif #%zu uses a backslash escape or spans lines: not rewritten (write it as a plain '...' string)",
					     path, fix->vifs[i].line, i);
			goto out;
		}
		raw = strndup(data + start + 1, end - start - 1);
		if (!raw) {
			r = -ENOMEM;
			goto out;
		}
		same = same_spec(raw, vifmac_domcfg_vif(cfg, i));
		free(raw);
		if (!same) {
			r = vifmac_set_error(ctx, -EINVAL, "%s:%d: vif #%zu: the file does not read as xl reads it: not rewritten",
					     path, fix->vifs[i].line, i);
			goto out;
		}
		spec = rewrite_spec(data + start + 1, end - start - 1,
				    flags & VIFMAC_FIX_SET_MAC ? vifmac_mac_format(&fix->vifs[i].decision.mac, mac) : NULL);
		if (!spec) {
			r = -ENOMEM;
			goto out;
		}
		fix->vifs[i].changed = strlen(spec) != end - start - 1 || memcmp(spec, data + start + 1, end - start - 1) != 0;
		fwrite(data + done, 1, start + 1 - done, f);
		fputs(spec, f);
		free(spec);
		done = end;
	}
	fwrite(data + done, 1, len - done, f);
out:
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(out);
		return r;
	}
	fix->text = out;
	fix->len = out_len;
	fix->changed = out_len != len || memcmp(out, data, len) != 0;
	return 0;
}

VIFMAC_EXPORT int vifmac_domcfg_fix(struct vifmac_ctx *ctx, const char *path, unsigned flags, struct vifmac_fix *fix)
{
	struct vifmac_domcfg *cfg = NULL;
	struct vifmac_conf_index idx = { 0 };
	const struct vifmac_conf_key *k;
	struct vifmac_vif *in = NULL;
	struct vifmac_decision *decisions = NULL;
	struct vifmac_mac *macs = NULL;
	char *data = NULL;
	size_t len = 0, n;
	int r, first_refused = -1;

	vifmac_fix_dispose(fix);
	vifmac_clear_error(ctx);
	r = vifmac_domcfg_read(ctx, path, &cfg);
	if (r < 0)
		return r;
	r = vifmac_read_file(path, &data, &len);
	if (r < 0) {
		vifmac_set_error(ctx, r, "%s: cannot read domain config: %s", path, strerror(-r));
		goto out;
	}
	r = vifmac_conf_index_build(data, len, &idx);
	if (r < 0)
		goto out;
	n = vifmac_domcfg_vif_count(cfg);
	fix->vifs = calloc(n + 1, sizeof(*fix->vifs));
	in = calloc(n + 1, sizeof(*in));
	macs = calloc(n + 1, sizeof(*macs));
	decisions = calloc(n + 1, sizeof(*decisions));
	if (!fix->vifs || !in || !macs || !decisions) {
		r = -ENOMEM;
		goto out;
	}
	k = vif_key(ctx, path, &idx, n);
	if (!k && (n > 0 || *vifmac_ctx_last_error(ctx))) {
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct vifmac_fix_vif *fv = &fix->vifs[i];

		r = vifmac_domcfg_vif_input(ctx, cfg, i, &in[i], &macs[i]);
		if (r < 0)
			goto out;
		fix->n_vifs++;
		fv->line = vifmac_domcfg_vif_line(cfg, i);
		fv->devid = in[i].devid;
		fv->had_mac = in[i].mac != NULL;
		if (fv->had_mac)
			fv->old_mac = macs[i];
		in[i].mac = NULL; /* what the policy gives once mac= is gone */
	}
	vifmac_decide_domain(ctx, in, n, decisions);
	for (size_t i = 0; i < n; i++) {
		fix->vifs[i].decision = decisions[i];
		refuse_what_cannot_be_written(ctx, cfg, &in[i], flags, &fix->vifs[i]);
		if (fix->vifs[i].decision.refusal.kind != VIFMAC_REFUSAL_NONE && first_refused < 0)
			first_refused = (int)i;
	}
	if (first_refused >= 0) {
		const struct vifmac_fix_vif *fv = &fix->vifs[first_refused];

		r = vifmac_set_error(ctx, -EPERM, "%s:%d: vif #%d: %s", path, fv->line, first_refused,
				     fv->decision.refusal.message);
		goto out;
	}
	r = rewrite(ctx, path, data, len, cfg, k, flags, fix);
out:
	free(in);
	free(macs);
	free(decisions);
	free(data);
	vifmac_conf_index_dispose(&idx);
	vifmac_domcfg_free(cfg);
	return r;
}
