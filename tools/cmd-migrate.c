/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vifmac migrate-registry: copies every record of one registry into another
 * (a host's SQLite file into the cluster's etcd, or back), as they are:
 * hosts, times and notes kept. Refuses, naming each one, when a record
 * conflicts with one the destination already holds for another owner.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vifmac-cli.h"

#define BATCH 16

struct records {
	struct vifmac_record *v;
	size_t n, size;
};

static int collect(void *data, const struct vifmac_record *rec)
{
	struct records *r = data;

	if (r->n == r->size) {
		size_t size = r->size ? 2 * r->size : 64;
		struct vifmac_record *v = realloc(r->v, size * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->size = size;
	}
	r->v[r->n++] = *rec;
	return 0;
}

static void describe(char *buf, size_t size, const struct vifmac_record *rec)
{
	if (rec->state == VIFMAC_STATE_RESERVED)
		snprintf(buf, size, "a reservation (%s)", rec->note);
	else
		snprintf(buf, size, "domain %s (uuid %s, devid %d) on host %s", rec->domain[0] ? rec->domain : "?",
			 rec->uuid, rec->devid, rec->host);
}

struct report {
	const char *to;
	size_t n;
};

static int report_conflict(void *data, const struct vifmac_record *rec, const struct vifmac_record *holder)
{
	struct report *rep = data;
	char mac[VIFMAC_MAC_STRLEN], a[512], b[512];

	describe(a, sizeof(a), rec);
	describe(b, sizeof(b), holder);
	cli_printf(stdout, "conflict: %s (scope %s) of %s is held in %s by %s (scope %s)\n",
		   vifmac_mac_format(&rec->mac, mac),
	       rec->scope_key, a, rep->to, b, holder->scope_key);
	rep->n++;
	return 0;
}

/* The registries' rule, for the check before a migration in parts. */
static bool conflicts_with(const struct vifmac_record *rec, const struct vifmac_record *held)
{
	bool overlap = strcmp(rec->scope_key, "*") == 0 || strcmp(held->scope_key, "*") == 0 ||
		       strcmp(rec->scope_key, held->scope_key) == 0;

	if (!overlap)
		return false;
	if (rec->state != held->state)
		return true;
	if (rec->state == VIFMAC_STATE_RESERVED)
		return false;
	return strcasecmp(rec->uuid, held->uuid) != 0 || rec->devid != held->devid;
}

/* Every conflict of @src with @dst, told to report_conflict; returns their number or -errno. */
static int check_all(struct vifmac_registry *dst, const struct records *src, struct report *rep)
{
	for (size_t i = 0; i < src->n; i++) {
		struct records held = { 0 };
		int r = vifmac_registry_lookup_mac(dst, &src->v[i].mac, collect, &held);

		if (r < 0) {
			free(held.v);
			return r;
		}
		for (size_t j = 0; j < held.n; j++)
			if (conflicts_with(&src->v[i], &held.v[j]))
				report_conflict(rep, &src->v[i], &held.v[j]);
		free(held.v);
	}
	return (int)rep->n;
}

int cmd_migrate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *from = NULL, *to = NULL;
	struct vifmac_registry *src = NULL, *dst = NULL;
	struct records recs = { 0 };
	struct report rep = { 0 };
	bool dry_run = false;
	int c, r, status = EXIT_OK;

	while ((c = getopt_long(argc, argv, "f:t:nh", opts, NULL)) >= 0) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'h':
			printf("Usage: vifmac migrate-registry --from URL --to URL [--dry-run]\n"
			       "\n"
			       "Copies every record of the registry --from into the registry --to, as it is\n"
			       "(hosts, times, notes kept), e.g. a host's sqlite:/var/lib/vifmac/registry.db\n"
			       "into etcd:https://h1:2379,https://h2:2379,https://h3:2379, or back. Records the\n"
			       "destination already holds for the same owner are not conflicts. When a record\n"
			       "conflicts with another owner's in the destination, nothing is copied and each\n"
			       "conflict is listed (exit 1). --dry-run only lists the conflicts.\n"
			       "The etcd_* options of the policy (--config) apply to etcd: URLs.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!from || !to || optind != argc) {
		cli_error("migrate-registry: expected --from URL --to URL (see vifmac migrate-registry --help)");
		return EXIT_USAGE;
	}
	if (strcmp(from, to) == 0) {
		cli_error("migrate-registry: --from and --to are the same registry");
		return EXIT_USAGE;
	}
	rep.to = to;
	r = vifmac_registry_open(cli->ctx, from, &src);
	if (r < 0)
		return cli_fail(cli, r, "migrate-registry: --from");
	r = vifmac_registry_list(src, collect, &recs);
	if (r < 0) {
		status = cli_fail(cli, r, "migrate-registry: reading --from");
		goto out;
	}
	r = vifmac_registry_open(cli->ctx, to, &dst);
	if (r < 0) {
		status = cli_fail(cli, r, "migrate-registry: --to");
		goto out;
	}
	if (dry_run) {
		r = check_all(dst, &recs, &rep);
		if (r < 0) {
			status = cli_fail(cli, r, "migrate-registry: reading --to");
			goto out;
		}
		printf("%zu records in %s, %zu conflicts with %s\n", recs.n, from, rep.n, to);
		status = rep.n ? EXIT_REFUSED : EXIT_OK;
		goto out;
	}

	/* all or nothing, in one transaction, when the destination takes it */
	r = vifmac_registry_import(dst, recs.v, recs.n, report_conflict, &rep);
	if (r == -E2BIG) {
		/* too large for one etcd transaction: check everything first, then in parts */
		rep.n = 0;
		r = check_all(dst, &recs, &rep);
		if (r < 0) {
			status = cli_fail(cli, r, "migrate-registry: reading --to");
			goto out;
		}
		if (rep.n == 0) {
			size_t batch = BATCH;

			fprintf(stderr, "vifmac: migrate-registry: %zu records are too many for one transaction of %s: "
					"copying them in parts, each all or nothing (running this again is harmless)\n",
				recs.n, to);
			r = 0;
			for (size_t i = 0; i < recs.n && r >= 0;) {
				size_t n = recs.n - i < batch ? recs.n - i : batch;

				r = vifmac_registry_import(dst, recs.v + i, n, report_conflict, &rep);
				if (r == -E2BIG && batch > 1) {
					batch /= 2; /* the cluster's limit (etcd --max-txn-ops) is lower */
					r = 0;
					continue;
				}
				i += n;
			}
		} else {
			r = -EEXIST;
		}
	}
	if (r == -EEXIST) {
		cli_error("migrate-registry: %zu conflicts with %s; nothing copied", rep.n, to);
		status = EXIT_REFUSED;
		goto out;
	}
	if (r < 0) {
		status = cli_fail(cli, r, "migrate-registry: writing --to");
		goto out;
	}
	printf("copied %zu records from %s to %s\n", recs.n, from, to);
out:
	vifmac_registry_close(dst);
	vifmac_registry_close(src);
	free(recs.v);
	return status;
}
