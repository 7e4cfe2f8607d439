/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vifmac pool: the operator's MACs for public bridges. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vifmac-cli.h"

static void pool_usage(FILE *f)
{
	fprintf(f, "Usage: vifmac pool check FILE...\n"
		   "       vifmac pool import NAME FILE\n"
		   "       vifmac pool list [--json]\n"
		   "       vifmac pool show NAME [--json]\n"
		   "       vifmac pool remove NAME\n"
		   "       vifmac pool allocate --bridge BRIDGE --uuid UUID --devid N [--domain NAME] [--ip ADDRS]\n"
		   "\n"
		   "Pool files: an IP-to-MAC table (\"IPv4 MAC [note]\" per line, or CSV with a\n"
		   "header naming ip and mac columns), a range (one line \"START-END\" or\n"
		   "\"PREFIX/len\"), or recycled addresses (\"MAC note\" per line). '#' comments.\n"
		   "check validates files and their overlaps; import validates one and records\n"
		   "it in the registry as pool NAME (refusing overlaps with other pools);\n"
		   "bridge_pools in vifmac.conf(5) says which bridges use which pools.\n");
}

static int pool_check(struct cli *cli, int argc, char **argv)
{
	struct vifmac_pool_source **srcs;
	int rc = EXIT_OK, n = argc - 1;

	if (n < 1) {
		cli_error("pool check: needs at least one FILE");
		return EXIT_USAGE;
	}
	srcs = calloc((size_t)n, sizeof(*srcs));
	if (!srcs)
		return EXIT_SYSTEM;
	for (int i = 0; i < n; i++) {
		int r = vifmac_pool_source_read(cli->ctx, argv[i + 1], &srcs[i]);

		if (r < 0) {
			cli_error("%s", vifmac_ctx_last_error(cli->ctx));
			rc = r == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE;
			continue;
		}
		printf("%s: %s pool, %llu addresses, %zu warning%s\n", argv[i + 1], vifmac_pool_kind_name(srcs[i]->kind),
		       (unsigned long long)srcs[i]->size, srcs[i]->warnings, srcs[i]->warnings == 1 ? "" : "s");
	}
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (srcs[i] && srcs[j] && vifmac_pool_sources_overlap(cli->ctx, srcs[i], srcs[j]) < 0) {
				cli_error("%s", vifmac_ctx_last_error(cli->ctx));
				rc = EXIT_USAGE;
			}
	for (int i = 0; i < n; i++)
		vifmac_pool_source_free(srcs[i]);
	free(srcs);
	return rc;
}

static int pool_import(struct cli *cli, int argc, char **argv)
{
	struct vifmac_pool_source *src;
	struct vifmac_registry *reg;
	int r, rc;

	if (argc != 3) {
		cli_error("pool import: needs NAME FILE");
		return EXIT_USAGE;
	}
	r = vifmac_pool_source_read(cli->ctx, argv[2], &src);
	if (r < 0) {
		cli_error("%s", vifmac_ctx_last_error(cli->ctx));
		return r == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE;
	}
	rc = cli_open_registry(cli, &reg);
	if (rc) {
		vifmac_pool_source_free(src);
		return rc;
	}
	r = vifmac_registry_pool_import(reg, argv[1], src);
	if (r == 0)
		printf("pool %s: %s, %llu addresses from %s\n", argv[1], vifmac_pool_kind_name(src->kind),
		       (unsigned long long)src->size, argv[2]);
	else
		rc = cli_fail(cli, r, "pool import");
	vifmac_registry_close(reg);
	vifmac_pool_source_free(src);
	return rc;
}

struct pool_print {
	bool json;
	struct cli_json j;
	size_t n;
};

static int print_pool(void *data, const struct vifmac_pool_info *p)
{
	struct pool_print *pp = data;
	uint64_t busy = p->used + p->quarantined + p->reserved;
	uint64_t free_n = p->size > busy ? p->size - busy : 0;

	if (pp->json) {
		struct cli_json *j = &pp->j;

		cli_json_open(j, '{');
		cli_json_kstr(j, "name", p->name);
		cli_json_kstr(j, "kind", vifmac_pool_kind_name(p->kind));
		cli_json_kstr(j, "origin", p->origin);
		cli_json_kint(j, "imported", p->imported);
		cli_json_kuint(j, "size", p->size);
		cli_json_kuint(j, "used", p->used);
		cli_json_kuint(j, "quarantined", p->quarantined);
		cli_json_kuint(j, "reserved", p->reserved);
		cli_json_kuint(j, "free", free_n);
		cli_json_close(j);
	} else {
		printf("%-16s %-9s %10llu %10llu %11llu %9llu %10llu  %s\n", p->name, vifmac_pool_kind_name(p->kind),
		       (unsigned long long)p->size, (unsigned long long)p->used, (unsigned long long)p->quarantined,
		       (unsigned long long)p->reserved, (unsigned long long)free_n, p->origin);
	}
	pp->n++;
	return 0;
}

static int pool_list(struct cli *cli, const char *name, bool json)
{
	struct vifmac_registry *reg;
	struct pool_print pp = { .json = json };
	int r, rc = cli_open_registry(cli, &reg);

	if (rc)
		return rc;
	cli_json_start(&pp.j, stdout, false);
	if (json && !name)
		cli_json_open(&pp.j, '[');
	else if (!json)
		printf("%-16s %-9s %10s %10s %11s %9s %10s  %s\n", "POOL", "KIND", "SIZE", "USED", "QUARANTINED",
		       "RESERVED", "FREE", "FROM");
	r = vifmac_registry_pool_list(reg, name, print_pool, &pp);
	if (json && !name)
		cli_json_close(&pp.j);
	if (json)
		cli_json_end(&pp.j);
	vifmac_registry_close(reg);
	if (r < 0)
		return cli_fail(cli, r, "pool");
	return EXIT_OK;
}

static int pool_allocate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bridge", required_argument, NULL, 'b' }, { "uuid", required_argument, NULL, 'u' },
		{ "devid", required_argument, NULL, 'n' },  { "domain", required_argument, NULL, 'd' },
		{ "ip", required_argument, NULL, 'i' },     {},
	};
	struct vifmac_record owner, rec, holder;
	struct vifmac_registry *reg;
	struct vifmac_ipv4 ip;
	const char *bridge = NULL, *ips = NULL;
	const char *const *pools;
	size_t n = 0;
	char mac[VIFMAC_MAC_STRLEN];
	int c, r, rc;

	vifmac_record_init(&owner);
	owner.devid = -1;
	optind = 0;
	while ((c = getopt_long(argc, argv, "b:u:n:d:i:", opts, NULL)) >= 0) {
		switch (c) {
		case 'b':
			bridge = optarg;
			break;
		case 'u':
			snprintf(owner.uuid, sizeof(owner.uuid), "%s", optarg);
			break;
		case 'n':
			owner.devid = atoi(optarg);
			break;
		case 'd':
			snprintf(owner.domain, sizeof(owner.domain), "%s", optarg);
			break;
		case 'i':
			ips = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (!bridge || !owner.uuid[0] || owner.devid < 0) {
		cli_error("pool allocate: needs --bridge, --uuid and --devid");
		return EXIT_USAGE;
	}
	pools = vifmac_ctx_bridge_pools(cli->ctx, bridge, &n);
	if (!pools) {
		cli_error("pool allocate: the policy gives bridge %s no pools (bridge_pools)", bridge);
		return EXIT_REFUSED;
	}
	snprintf(owner.bridge, sizeof(owner.bridge), "%s", bridge);
	snprintf(owner.ip, sizeof(owner.ip), "%s", ips ? ips : "");
	snprintf(owner.scope_key, sizeof(owner.scope_key), "%s",
		 vifmac_ctx_scope(cli->ctx) == VIFMAC_SCOPE_GLOBAL ? "*" : bridge);
	rc = cli_open_registry(cli, &reg);
	if (rc)
		return rc;
	r = vifmac_registry_pool_allocate(reg, pools, n, &owner,
					  ips && vifmac_iplist_first_ipv4(ips, &ip, NULL) == 0 ? &ip : NULL, &rec, &holder);
	vifmac_registry_close(reg);
	if (r == -EEXIST) {
		cli_error("pool allocate: %s is held by domain %s (uuid %s) vif %d on host %s",
			  vifmac_mac_format(&holder.mac, mac), holder.domain, holder.uuid, holder.devid, holder.host);
		return EXIT_REFUSED;
	}
	if (r == -ENOSPC || r == -ENOENT) {
		cli_error("pool allocate: %s", vifmac_ctx_last_error(cli->ctx));
		return EXIT_REFUSED;
	}
	if (r < 0)
		return cli_fail(cli, r, "pool allocate");
	printf("%s\n", vifmac_mac_format(&rec.mac, mac));
	return EXIT_OK;
}

int cmd_pool(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	bool json = false;
	int rest = 0;
	char *args[8];

	if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		pool_usage(sub ? stdout : stderr);
		return sub ? EXIT_OK : EXIT_USAGE;
	}
	if (strcmp(sub, "check") == 0)
		return pool_check(cli, argc - 1, argv + 1);
	if (strcmp(sub, "import") == 0)
		return pool_import(cli, argc - 1, argv + 1);
	if (strcmp(sub, "allocate") == 0)
		return pool_allocate(cli, argc - 1, argv + 1);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (rest < 8)
			args[rest++] = argv[i];
	}
	if (strcmp(sub, "list") == 0 && rest == 0)
		return pool_list(cli, NULL, json);
	if (strcmp(sub, "show") == 0 && rest == 1)
		return pool_list(cli, args[0], json);
	if (strcmp(sub, "remove") == 0 && rest == 1) {
		struct vifmac_registry *reg;
		int r, rc = cli_open_registry(cli, &reg);

		if (rc)
			return rc;
		r = vifmac_registry_pool_remove(reg, args[0]);
		vifmac_registry_close(reg);
		if (r < 0)
			return cli_fail(cli, r, "pool remove");
		if (r == 0) {
			cli_error("pool remove: no pool \"%s\"", args[0]);
			return EXIT_REFUSED;
		}
		printf("pool %s removed (its claims stay until released)\n", args[0]);
		return EXIT_OK;
	}
	cli_error("pool: unknown or incomplete subcommand \"%s\" (see vifmac pool --help)", sub);
	return EXIT_USAGE;
}
