/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vifmac derive, plan and xl-args: the policy applied, before any Xen machinery. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-cli.h"

static int exit_for_refusal(const struct vifmac_decision *d)
{
	return d->refusal.kind == VIFMAC_REFUSAL_INPUT ? EXIT_USAGE :
	       d->refusal.kind == VIFMAC_REFUSAL_UNAVAILABLE ? EXIT_SYSTEM :
							       EXIT_REFUSED;
}

int cmd_derive(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bridge", required_argument, NULL, 'b' }, { "ip", required_argument, NULL, 'i' },
		{ "domain", required_argument, NULL, 'd' }, { "uuid", required_argument, NULL, 'u' },
		{ "devid", required_argument, NULL, 'n' },  { "mac", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },      { "help", no_argument, NULL, 'h' },
		{},
	};
	struct vifmac_vif vif = { .devid = -1 };
	struct vifmac_mac mac;
	struct vifmac_decision d;
	char buf[VIFMAC_MAC_STRLEN];
	bool verbose = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "b:i:d:u:n:m:vh", opts, NULL)) >= 0) {
		switch (c) {
		case 'b':
			vif.bridge = optarg;
			break;
		case 'i':
			vif.ip = optarg;
			break;
		case 'd':
			vif.domain = optarg;
			break;
		case 'u':
			vif.uuid = optarg;
			break;
		case 'n':
			if (vifmac_devid_parse(optarg, &vif.devid) < 0) {
				cli_error("--devid \"%s\": not a device number (0-65535)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'm':
			if (vifmac_mac_parse(optarg, &mac) < 0) {
				cli_error("--mac \"%s\": not a MAC address (aa:bb:cc:dd:ee:ff)", optarg);
				return EXIT_USAGE;
			}
			vif.mac = &mac;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			printf("Usage: vifmac derive --bridge BRIDGE [--ip \"ADDRS\"] [--domain NAME] [--uuid UUID]\n"
			       "                     [--devid N] [--mac MAC] [--verbose]\n"
			       "\n"
			       "Prints the MAC the policy gives a vif, alone on standard output.\n"
			       "--ip takes a vif's ip= value: addresses separated by spaces; the first\n"
			       "IPv4 one is used. --verbose adds the rule and its evidence on stderr.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (cli_no_operands(argc, argv))
		return EXIT_USAGE;
	if (!vif.bridge) {
		cli_error("derive: --bridge is required");
		return EXIT_USAGE;
	}
	r = vifmac_decide(cli->ctx, &vif, &d);
	if (r < 0) {
		cli_error("refused (%s): bridge %s: %s", vifmac_refusal_kind_name(d.refusal.kind), vif.bridge,
			  d.refusal.message);
		return exit_for_refusal(&d);
	}
	printf("%s\n", vifmac_mac_format(&d.mac, buf));
	if (verbose)
		fprintf(stderr, "rule %s (%s bridge, scope %s): %s\n", vifmac_rule_name(d.rule),
			vifmac_bridge_class_name(d.bridge_class), strcmp(d.scope_key, "*") == 0 ? "global" : d.scope_key,
			d.evidence);
	return EXIT_OK;
}

/* A domain config with each vif's inputs and decision. */
struct plan {
	struct vifmac_ctx *ctx;
	struct vifmac_domcfg *cfg;
	size_t n;
	struct vifmac_vif *vifs;
	struct vifmac_mac *macs;
	struct vifmac_decision *decisions;
	int rc; /* the worst exit status */
};

static void plan_free(struct plan *p)
{
	vifmac_domcfg_free(p->cfg);
	free(p->vifs);
	free(p->macs);
	free(p->decisions);
}

/* Reads @path (with xl's global config @xl_conf) and decides every vif; returns 0 or an exit status (error printed). */
static int plan_make(struct cli *cli, const char *path, const char *xl_conf, struct plan *p)
{
	int r = vifmac_domcfg_read_xl(cli->ctx, path, xl_conf, &p->cfg);

	p->ctx = cli->ctx;
	if (r < 0)
		return cli_fail(cli, r, NULL);
	p->n = vifmac_domcfg_vif_count(p->cfg);
	p->vifs = calloc(p->n + 1, sizeof(*p->vifs));
	p->macs = calloc(p->n + 1, sizeof(*p->macs));
	p->decisions = calloc(p->n + 1, sizeof(*p->decisions));
	if (!p->vifs || !p->macs || !p->decisions) {
		cli_error("out of memory");
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < p->n; i++) {
		r = vifmac_domcfg_vif_input(cli->ctx, p->cfg, i, &p->vifs[i], &p->macs[i]);
		if (r < 0)
			return cli_fail(cli, r, NULL);
	}
	vifmac_decide_domain(cli->ctx, p->vifs, p->n, p->decisions);
	for (size_t i = 0; i < p->n; i++) {
		const struct vifmac_decision *d = &p->decisions[i];

		if (d->refusal.kind != VIFMAC_REFUSAL_NONE) {
			int rc = exit_for_refusal(d);

			if (rc > p->rc)
				p->rc = rc;
		}
	}
	return 0;
}

static const char *scope_name(const struct vifmac_decision *d)
{
	return strcmp(d->scope_key, "*") == 0 ? "global" : d->scope_key;
}

/* A refusal as plan --json gives it: {"kind": ..., "message": ...}. */
static void refusal_json(struct cli_json *j, const struct vifmac_refusal *refusal)
{
	cli_json_open(j, '{');
	cli_json_kstr(j, "kind", vifmac_refusal_kind_name(refusal->kind));
	cli_json_kstr(j, "message", refusal->message);
	cli_json_close(j);
}

static void plan_print_json(const struct plan *p, const char *path)
{
	const char *name = vifmac_domcfg_name(p->cfg);
	struct cli_json j;

	cli_json_start(&j, stdout, false);
	cli_json_open(&j, '{');
	cli_json_kstr(&j, "config", path);
	cli_json_kstr_or_null(&j, "domain", name);
	cli_json_kstr(&j, "type", vifmac_domcfg_type(p->cfg));
	cli_json_kbool(&j, "ok", p->rc == 0);
	cli_json_key(&j, "vifs");
	cli_json_open(&j, '[');
	for (size_t i = 0; i < p->n; i++) {
		const struct vifmac_decision *d = &p->decisions[i];
		const struct vifmac_vif *v = &p->vifs[i];
		char buf[VIFMAC_MAC_STRLEN], ll[48], why[256];

		cli_json_open(&j, '{');
		cli_json_kuint(&j, "index", i);
		cli_json_kint(&j, "devid", v->devid);
		cli_json_kint(&j, "line", vifmac_domcfg_vif_line(p->cfg, i));
		cli_json_kstr(&j, "bridge", v->bridge);
		cli_json_kstr(&j, "bridge_class", vifmac_bridge_class_name(d->bridge_class));
		cli_json_kstr(&j, "scope", scope_name(d));
		cli_json_kstr_or_null(&j, "ip", v->ip);
		cli_json_kstr_or_null(&j, "mac_given", v->mac ? vifmac_mac_format(v->mac, buf) : NULL);
		cli_json_key(&j, "mac");
		if (d->refusal.kind == VIFMAC_REFUSAL_NONE) {
			cli_json_str(&j, vifmac_mac_format(&d->mac, buf));
			cli_json_kstr(&j, "rule", vifmac_rule_name(d->rule));
			cli_json_kstr(&j, "evidence", d->evidence);
			cli_json_kstr(&j, "ipv6_link_local", vifmac_mac_eui64_link_local(&d->mac, ll));
			cli_json_kstr_or_null(&j, "enforce_exemption",
					      vifmac_enforce_applies(p->ctx, v->bridge, v->domain, v->uuid, why, sizeof(why)) ?
						      NULL : why);
			cli_json_knull(&j, "refusal");
		} else {
			cli_json_null(&j);
			cli_json_knull(&j, "rule");
			cli_json_key(&j, "refusal");
			refusal_json(&j, &d->refusal);
		}
		cli_json_close(&j);
	}
	cli_json_close(&j);
	cli_json_close(&j);
	cli_json_end(&j);
}

static void plan_print_text(const struct plan *p, const char *path)
{
	const char *name = vifmac_domcfg_name(p->cfg);

	printf("domain %s (%s, %s guest)\n", name ? name : "(no name)", path,
	       vifmac_domcfg_is_hvm(p->cfg)			  ? "HVM" :
	       strcmp(vifmac_domcfg_type(p->cfg), "pvh") == 0 ? "PVH" :
								  "PV");
	if (p->n == 0)
		printf("  no vifs\n");
	for (size_t i = 0; i < p->n; i++) {
		const struct vifmac_decision *d = &p->decisions[i];
		const struct vifmac_vif *v = &p->vifs[i];
		char buf[VIFMAC_MAC_STRLEN], ll[48], why[256];

		printf("  vif %d  bridge %s (%s, scope %s)  ip %s\n", v->devid, v->bridge,
		       vifmac_bridge_class_name(d->bridge_class), scope_name(d), v->ip ? v->ip : "-");
		if (d->refusal.kind == VIFMAC_REFUSAL_NONE) {
			printf("    mac %s  [%s: %s]\n", vifmac_mac_format(&d->mac, buf), vifmac_rule_name(d->rule),
			       d->evidence);
			printf("    ipv6 link-local %s (EUI-64, as SLAAC derives it)\n",
			       vifmac_mac_eui64_link_local(&d->mac, ll));
			if (vifmac_enforce_applies(p->ctx, v->bridge, v->domain, v->uuid, why, sizeof(why)))
				printf("    held to this MAC on the wire (enforce = \"mac\")\n");
			else
				printf("    NOT held to its MAC on the wire: %s\n", why);
		} else {
			printf("    REFUSED (%s): %s\n", vifmac_refusal_kind_name(d->refusal.kind), d->refusal.message);
		}
	}
}

static int one_config_arg(const char *cmd, int argc, char **argv, const char **ret_path)
{
	if (optind != argc - 1) {
		cli_error("%s: %s one DOMAIN.cfg", cmd, optind >= argc ? "needs" : "takes only");
		return EXIT_USAGE;
	}
	*ret_path = argv[optind];
	return 0;
}

/* vifmac plan --running: what each running vif has now, and what the policy gives it at its next start. */
static void running_print_text(const struct vifmac_running_vif *v, const struct vifmac_running_vif *prev,
			       const struct vifmac_decision *d, int r)
{
	char now[VIFMAC_MAC_STRLEN], next[VIFMAC_MAC_STRLEN], ll_now[48], ll_next[48];

	if (!prev || prev->domid != v->domid)
		printf("domain %s (domid %u, uuid %s)\n", v->dom.name[0] ? v->dom.name : "?", v->domid,
		       v->dom.uuid[0] ? v->dom.uuid : "?");
	printf("  vif %d  bridge %s (%s)  ip %s\n", v->devid, v->bridge[0] ? v->bridge : "-",
	       vifmac_bridge_class_name(d->bridge_class), v->ip[0] ? v->ip : "-");
	printf("    now   %s  ipv6 link-local %s%s\n", vifmac_mac_format(&v->mac, now),
	       vifmac_mac_eui64_link_local(&v->mac, ll_now),
	       vifmac_mac_is_xen_random(&v->mac) ? "  (libxl's random range)" : "");
	if (r < 0)
		printf("    next  REFUSED (%s): %s\n", vifmac_refusal_kind_name(d->refusal.kind), d->refusal.message);
	else if (d->rule == VIFMAC_RULE_POOL)
		printf("    next  allocated from %s when it starts (vifmac whois %s shows a sticky one)\n", d->evidence,
		       v->dom.uuid[0] ? v->dom.uuid : now);
	else
		printf("    next  %s  ipv6 link-local %s  [%s: %s]  %s\n", vifmac_mac_format(&d->mac, next),
		       vifmac_mac_eui64_link_local(&d->mac, ll_next), vifmac_rule_name(d->rule), d->evidence,
		       vifmac_mac_equal(&d->mac, &v->mac) ? "unchanged" : "CHANGES");
	if (r == 0 && strcmp(v->type, "vif_ioemu") == 0 && !vifmac_mac_equal(&d->mac, &v->mac))
		printf("    HVM emulated NIC: the MAC must be in the config (vifmac fix-config --set-mac)\n");
}

static void running_print_json(struct cli_json *j, const struct vifmac_running_vif *v,
			       const struct vifmac_decision *d, int r)
{
	char now[VIFMAC_MAC_STRLEN], next[VIFMAC_MAC_STRLEN], ll[48];
	bool decided = r == 0 && d->rule != VIFMAC_RULE_POOL;

	cli_json_open(j, '{');
	cli_json_kuint(j, "domid", v->domid);
	cli_json_kstr(j, "domain", v->dom.name);
	cli_json_kstr(j, "uuid", v->dom.uuid);
	cli_json_kint(j, "devid", v->devid);
	cli_json_kstr(j, "type", v->type);
	cli_json_kstr(j, "bridge", v->bridge);
	cli_json_kstr(j, "bridge_class", vifmac_bridge_class_name(d->bridge_class));
	cli_json_kstr(j, "ip", v->ip);
	cli_json_kstr(j, "mac", vifmac_mac_format(&v->mac, now));
	cli_json_kstr(j, "ipv6_link_local", vifmac_mac_eui64_link_local(&v->mac, ll));
	cli_json_kbool(j, "xen_random", vifmac_mac_is_xen_random(&v->mac));
	cli_json_key(j, "next");
	if (decided) {
		cli_json_open(j, '{');
		cli_json_kstr(j, "mac", vifmac_mac_format(&d->mac, next));
		cli_json_kstr(j, "ipv6_link_local", vifmac_mac_eui64_link_local(&d->mac, ll));
		cli_json_kstr(j, "rule", vifmac_rule_name(d->rule));
		cli_json_kstr(j, "evidence", d->evidence);
		cli_json_close(j);
	} else {
		cli_json_null(j);
	}
	cli_json_key(j, "changes");
	if (decided)
		cli_json_bool(j, !vifmac_mac_equal(&d->mac, &v->mac));
	else
		cli_json_null(j);
	cli_json_kstr_or_null(j, "pools", r == 0 && d->rule == VIFMAC_RULE_POOL ? d->evidence : NULL);
	cli_json_key(j, "refusal");
	if (r < 0)
		refusal_json(j, &d->refusal);
	else
		cli_json_null(j);
	cli_json_close(j);
}

static int plan_running(struct cli *cli, bool json)
{
	struct cli_json j;
	struct vifmac_running_vif *vifs = NULL;
	size_t n = 0;
	bool ok = true;
	int r = vifmac_running_vifs(cli->ctx, &vifs, &n);

	if (r < 0) {
		cli_error("plan --running: %s", vifmac_ctx_last_error(cli->ctx));
		return EXIT_SYSTEM;
	}
	if (json) {
		cli_json_start(&j, stdout, false);
		cli_json_open(&j, '{');
		cli_json_kbool(&j, "running", true);
		cli_json_key(&j, "vifs");
		cli_json_open(&j, '[');
	} else if (n == 0) {
		printf("no vifs running on this host\n");
	}
	for (size_t i = 0; i < n; i++) {
		struct vifmac_decision d;

		r = vifmac_decide_running(cli->ctx, &vifs[i], &d);
		ok = ok && r == 0;
		if (json)
			running_print_json(&j, &vifs[i], &d, r);
		else
			running_print_text(&vifs[i], i ? &vifs[i - 1] : NULL, &d, r);
	}
	if (json) {
		cli_json_close(&j);
		cli_json_kbool(&j, "ok", ok);
		cli_json_close(&j);
		cli_json_end(&j);
	}
	free(vifs);
	return ok ? EXIT_OK : EXIT_REFUSED;
}

int cmd_plan(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "xl-conf", required_argument, NULL, 'x' },
		{ "running", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct plan p = { 0 };
	const char *path, *xl_conf = NULL;
	bool json = false, running = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "jrx:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'x':
			xl_conf = optarg;
			break;
		case 'r':
			running = true;
			break;
		case 'h':
			printf("Usage: vifmac plan DOMAIN.cfg [--json] [--xl-conf FILE]\n"
			       "       vifmac plan --running [--json]\n"
			       "\n"
			       "Reads an xl domain config and prints each vif's decision: the MAC, the\n"
			       "rule and its evidence, and the IPv6 link-local address the MAC gives\n"
			       "the guest — or why it is refused. Exit 1 when any vif is refused.\n"
			       "A vif without bridge= is on xl.conf's vif.default.bridge: --xl-conf\n"
			       "(default $VIFMAC_XL_CONF, else /etc/xen/xl.conf; \"\" for none).\n"
			       "\n"
			       "--running: for every vif running on this host, its MAC now and the one\n"
			       "vif-vifmac gives it at the guest's next start, each with its IPv6\n"
			       "link-local address (guests with persistent-net rules or DHCP leases keyed\n"
			       "on the MAC notice the change); CHANGES marks those that change.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (running) {
		if (optind < argc) {
			cli_error("plan: --running takes no DOMAIN.cfg");
			return EXIT_USAGE;
		}
		return plan_running(cli, json);
	}
	rc = one_config_arg("plan", argc, argv, &path);
	if (rc)
		return rc;
	rc = plan_make(cli, path, xl_conf, &p);
	if (rc == 0) {
		if (json)
			plan_print_json(&p, path);
		else
			plan_print_text(&p, path);
		rc = p.rc;
	}
	plan_free(&p);
	return rc;
}

int cmd_xl_args(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "xl-conf", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct plan p = { 0 };
	const char *path, *xl_conf = NULL;
	char *out = NULL;
	size_t out_len = 0;
	FILE *f = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "x:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'x':
			xl_conf = optarg;
			break;
		case 'h':
			printf("Usage: vifmac xl-args DOMAIN.cfg [--xl-conf FILE]\n"
			       "\n"
			       "Prints the config's vif=[...] setting with each vif's mac= filled in:\n"
			       "  xl create DOMAIN.cfg \"$(vifmac xl-args DOMAIN.cfg)\"\n"
			       "hands libxl the policy MACs from the start (needed for HVM guests,\n"
			       "whose emulated NIC gets its MAC before any hotplug script runs).\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	rc = one_config_arg("xl-args", argc, argv, &path);
	if (rc)
		return rc;
	rc = plan_make(cli, path, xl_conf, &p);
	if (rc)
		goto out;
	for (size_t i = 0; i < p.n; i++) {
		const struct vifmac_decision *d = &p.decisions[i];

		if (d->refusal.kind != VIFMAC_REFUSAL_NONE) {
			cli_error("%s:%d: vif #%zu refused (%s): %s", path, vifmac_domcfg_vif_line(p.cfg, i), i,
				  vifmac_refusal_kind_name(d->refusal.kind), d->refusal.message);
			rc = p.rc;
		}
	}
	if (rc)
		goto out;
	f = open_memstream(&out, &out_len);
	if (!f) {
		rc = EXIT_SYSTEM;
		goto out;
	}
	fputs("vif=[", f);
	for (size_t i = 0; i < p.n; i++) {
		struct vifmac_vifspec *spec = vifmac_domcfg_vif(p.cfg, i);
		char buf[VIFMAC_MAC_STRLEN], *s;

		if (vifmac_vifspec_set(spec, "mac", vifmac_mac_format(&p.decisions[i].mac, buf)) < 0 ||
		    !(s = vifmac_vifspec_format(spec))) {
			cli_error("out of memory");
			rc = EXIT_SYSTEM;
			goto out;
		}
		fputs(i ? "," : "", f);
		cli_xl_string(f, s);
		free(s);
	}
	fputs("]", f);
	fclose(f);
	f = NULL;
	printf("%s\n", out);
out:
	if (f)
		fclose(f);
	free(out);
	plan_free(&p);
	return rc;
}
