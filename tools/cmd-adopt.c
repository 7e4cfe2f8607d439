/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vifmac adopt: rolling vifmac out on a host in use; adopt records the MACs
 * guests run with.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-cli.h"

/* ------------------------------------------------------------------ adopt */

struct adopt_out {
	bool json;
	bool dry_run;
	size_t n, counts[4];
};

static void adopt_print_json(const struct vifmac_adoption *a, bool first)
{
	const struct vifmac_running_vif *v = &a->vif;
	const struct vifmac_record *h = &a->holder;
	char mac[VIFMAC_MAC_STRLEN];

	printf("%s{\"domid\":%u,\"domain\":", first ? "" : ",", v->domid);
	cli_json_string(stdout, v->dom.name);
	printf(",\"uuid\":");
	cli_json_string(stdout, v->dom.uuid);
	printf(",\"devid\":%d,\"mac\":\"%s\",\"bridge\":", v->devid, vifmac_mac_format(&v->mac, mac));
	cli_json_string(stdout, v->bridge);
	printf(",\"ip\":");
	cli_json_string(stdout, v->ip);
	printf(",\"result\":\"%s\",\"scope\":", vifmac_adopt_result_name(a->result));
	cli_json_string(stdout, a->record.scope_key);
	printf(",\"message\":");
	if (a->message[0])
		cli_json_string(stdout, a->message);
	else
		printf("null");
	printf(",\"holder\":");
	if (a->result == VIFMAC_ADOPT_CONFLICT) {
		printf("{\"state\":\"%s\",\"domain\":", h->state == VIFMAC_STATE_RESERVED ? "reserved" : "active");
		cli_json_string(stdout, h->domain);
		printf(",\"uuid\":");
		cli_json_string(stdout, h->uuid);
		printf(",\"devid\":%d,\"host\":", h->devid);
		cli_json_string(stdout, h->host);
		printf(",\"source\":");
		cli_json_string(stdout, h->source);
		printf("}}");
	} else {
		printf("null}");
	}
}

static int adopt_fn(void *data, const struct vifmac_adoption *a)
{
	struct adopt_out *o = data;
	const struct vifmac_running_vif *v = &a->vif;
	char mac[VIFMAC_MAC_STRLEN];

	if (o->json) {
		adopt_print_json(a, o->n == 0);
	} else if (a->result == VIFMAC_ADOPT_RECORDED || a->result == VIFMAC_ADOPT_ALREADY) {
		printf("%-9s %s  %s (domid %u) vif %d  bridge %s  ip %s%s\n",
		       a->result == VIFMAC_ADOPT_RECORDED ? (o->dry_run ? "would-adopt" : "adopted") : "already",
		       vifmac_mac_format(&v->mac, mac), v->dom.name[0] ? v->dom.name : "?", v->domid, v->devid,
		       v->bridge[0] ? v->bridge : "-", v->ip[0] ? v->ip : "-",
		       vifmac_mac_is_xen_random(&v->mac) ? "  (libxl's random range)" : "");
	} else {
		printf("CONFLICT  %s\n", a->message);
	}
	o->counts[a->result]++;
	o->n++;
	return 0;
}

int cmd_adopt(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct adopt_out o = { 0 };
	struct vifmac_registry *reg = NULL;
	size_t not_recorded;
	int c, r, rc;

	while ((c = getopt_long(argc, argv, "njh", opts, NULL)) >= 0) {
		switch (c) {
		case 'n':
			o.dry_run = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			printf("Usage: vifmac adopt [--dry-run] [--json]\n"
			       "\n"
			       "Records every running vif's current MAC in the registry as its domain's\n"
			       "claim (domain UUID + devid, source \"adopted\"), so that the registry knows\n"
			       "the MACs of guests started before vifmac. A MAC another owner holds in the\n"
			       "registry, or that two running vifs share, is reported and not recorded.\n"
			       "Running it again claims the same MACs again (no change).\n"
			       "--dry-run only says what would be recorded.\n"
			       "\n"
			       "Exit status: 0 every vif recorded, 1 some not (conflicts), 3 the registry\n"
			       "or xenstore could not be used.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (cli_no_operands(argc, argv))
		return EXIT_USAGE;
	rc = cli_open_registry(cli, &reg);
	if (rc)
		return rc == EXIT_USAGE ? EXIT_USAGE : EXIT_SYSTEM;
	if (o.json)
		printf("{\"dry_run\":%s,\"vifs\":[", o.dry_run ? "true" : "false");
	r = vifmac_adopt(cli->ctx, reg, o.dry_run ? VIFMAC_ADOPT_DRY_RUN : 0, adopt_fn, &o);
	if (o.json)
		printf("],\"adopted\":%zu,\"already\":%zu,\"not_recorded\":%zu}\n", o.counts[VIFMAC_ADOPT_RECORDED],
		       o.counts[VIFMAC_ADOPT_ALREADY], o.counts[VIFMAC_ADOPT_CONFLICT] + o.counts[VIFMAC_ADOPT_UNKNOWN_DOMAIN]);
	vifmac_registry_close(reg);
	if (r < 0) {
		cli_error("adopt: %s", *vifmac_ctx_last_error(cli->ctx) ? vifmac_ctx_last_error(cli->ctx) : strerror(-r));
		return EXIT_SYSTEM;
	}
	not_recorded = (size_t)r;
	if (!o.json)
		printf("%zu vifs: %zu %s, %zu already recorded, %zu not recorded%s\n", o.n, o.counts[VIFMAC_ADOPT_RECORDED],
		       o.dry_run ? "would be adopted" : "adopted", o.counts[VIFMAC_ADOPT_ALREADY], not_recorded,
		       o.dry_run ? " (dry run: nothing written)" : "");
	if (not_recorded) {
		cli_error("adopt: %zu vif%s not recorded: resolve the conflicts above, then run adopt again", not_recorded,
			  not_recorded == 1 ? "" : "s");
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}
