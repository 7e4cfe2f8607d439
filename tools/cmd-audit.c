/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vifmac audit: duplicates and anomalies on this host, for people and for
 * monitoring. vifmac seen: where the wire and dom0 show one MAC.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "vifmac-cli.h"

struct findings {
	struct vifmac_finding *v;
	size_t n;
};

static int collect(void *data, const struct vifmac_finding *f)
{
	struct findings *fs = data;
	struct vifmac_finding *nv = realloc(fs->v, (fs->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	fs->v = nv;
	fs->v[fs->n++] = *f;
	return 0;
}

static const char *severity_name(enum vifmac_severity s)
{
	return s == VIFMAC_SEVERITY_CRITICAL ? "critical" : s == VIFMAC_SEVERITY_WARNING ? "warning" : "ok";
}

static const char *const kinds[] = { "duplicate-vif",  "dom0-link",     "foreign-use",  "duplicate-port",
				     "outside-policy", "stale-claim",   "missing-rules", "stale-rules",
				     "enforce-exempt", "mac-move" };
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

/* Adds @f to the per-kind counts (indexed like kinds[]). */
static void count_kind(size_t per_kind[N_KINDS], const struct vifmac_finding *f)
{
	for (size_t k = 0; k < N_KINDS; k++)
		per_kind[k] += strcmp(f->kind, kinds[k]) == 0;
}

struct prometheus_text {
	const size_t *per_kind; /* indexed like kinds[] */
	int status;
	const struct vifmac_audit_counts *c;
};

/* The node_exporter textfile's content (cli_replace_file makes it appear at once). */
static int print_prometheus(FILE *f, void *data)
{
	const struct prometheus_text *t = data;

	fprintf(f, "# HELP vifmac_audit_status Worst finding of the last audit: 0 ok, 1 warning, 2 critical.\n"
		   "# TYPE vifmac_audit_status gauge\n"
		   "vifmac_audit_status %d\n"
		   "# HELP vifmac_audit_findings Findings of the last audit, by kind.\n"
		   "# TYPE vifmac_audit_findings gauge\n",
		t->status);
	for (size_t k = 0; k < N_KINDS; k++)
		fprintf(f, "vifmac_audit_findings{kind=\"%s\"} %zu\n", kinds[k], t->per_kind[k]);
	fprintf(f, "# HELP vifmac_audit_checked What the last audit looked at.\n"
		   "# TYPE vifmac_audit_checked gauge\n"
		   "vifmac_audit_checked{what=\"vifs\"} %zu\n"
		   "vifmac_audit_checked{what=\"links\"} %zu\n"
		   "vifmac_audit_checked{what=\"fdb_entries\"} %zu\n"
		   "vifmac_audit_checked{what=\"neighbours\"} %zu\n"
		   "vifmac_audit_checked{what=\"registry_records\"} %zu\n"
		   "# HELP vifmac_audit_last_run_timestamp_seconds When the last audit ran.\n"
		   "# TYPE vifmac_audit_last_run_timestamp_seconds gauge\n"
		   "vifmac_audit_last_run_timestamp_seconds %lld\n",
		t->c->vifs, t->c->links, t->c->fdb_entries, t->c->neighbours, t->c->claims, (long long)time(NULL));
	return 0;
}

/* The textfile for audit and watch, replaced whole so that a scrape never sees half of it. */
static int write_prometheus(const char *path, const size_t per_kind[N_KINDS], int status,
			    const struct vifmac_audit_counts *c)
{
	struct prometheus_text t = { per_kind, status, c };

	return cli_replace_file(path, 0644, print_prometheus, &t);
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct findings fs = { 0 };
	struct vifmac_audit_counts counts = { 0 };
	struct vifmac_registry *reg = NULL;
	const char *prom = NULL;
	bool json = false;
	char mac[VIFMAC_MAC_STRLEN];
	int c, r, rc;

	while ((c = getopt_long(argc, argv, "jp:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			prom = optarg;
			break;
		case 'h':
			printf("Usage: vifmac audit [--json] [--prometheus FILE]\n"
			       "\n"
			       "One pass over this host: the same MAC on two vifs or ports, vif MACs on\n"
			       "dom0 links, our MACs learned on a port that is not their vif (critical);\n"
			       "vifs whose MAC is not the policy's and stale registry claims (warnings).\n"
			       "Exit 0 ok, 1 warning, 2 critical, 3 the host could not be read.\n"
			       "--prometheus writes a node_exporter textfile (atomically) as well.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	rc = cli_open_registry_only(cli, argc, argv, &reg);
	if (rc)
		return rc;
	r = vifmac_audit(cli->ctx, reg, collect, &fs, &counts);
	vifmac_registry_close(reg);
	if (r < 0) {
		free(fs.v);
		cli_error("audit: %s", vifmac_ctx_last_error(cli->ctx));
		return EXIT_SYSTEM;
	}
	if (json) {
		struct cli_json j;

		cli_json_start(&j, stdout, false);
		cli_json_open(&j, '{');
		cli_json_kstr(&j, "status", severity_name((enum vifmac_severity)r));
		cli_json_key(&j, "findings");
		cli_json_open(&j, '[');
		for (size_t i = 0; i < fs.n; i++) {
			cli_json_open(&j, '{');
			cli_json_kstr(&j, "severity", severity_name(fs.v[i].severity));
			cli_json_kstr(&j, "kind", fs.v[i].kind);
			cli_json_kstr(&j, "mac", vifmac_mac_format(&fs.v[i].mac, mac));
			cli_json_kstr(&j, "message", fs.v[i].message);
			cli_json_close(&j);
		}
		cli_json_close(&j);
		cli_json_key(&j, "checked");
		cli_json_open(&j, '{');
		cli_json_kuint(&j, "vifs", counts.vifs);
		cli_json_kuint(&j, "links", counts.links);
		cli_json_kuint(&j, "fdb_entries", counts.fdb_entries);
		cli_json_kuint(&j, "neighbours", counts.neighbours);
		cli_json_kuint(&j, "registry_records", counts.claims);
		cli_json_close(&j);
		cli_json_close(&j);
		cli_json_end(&j);
	} else {
		for (size_t i = 0; i < fs.n; i++)
			cli_printf(stdout, "%-8s %-14s %s\n",
			       fs.v[i].severity == VIFMAC_SEVERITY_CRITICAL ? "CRITICAL"
			       : fs.v[i].severity == VIFMAC_SEVERITY_WARNING ? "WARNING"
									: "INFO",
			       fs.v[i].kind, fs.v[i].message);
		printf("audit: %s (%zu findings; checked %zu vifs, %zu links, %zu FDB entries, %zu neighbours, %zu registry records)\n",
		       severity_name((enum vifmac_severity)r), fs.n, counts.vifs, counts.links, counts.fdb_entries,
		       counts.neighbours, counts.claims);
	}
	if (prom) {
		size_t per_kind[N_KINDS] = { 0 };
		int w;

		for (size_t i = 0; i < fs.n; i++)
			count_kind(per_kind, &fs.v[i]);
		w = write_prometheus(prom, per_kind, r, &counts);

		if (w < 0) {
			cli_error("audit: cannot write %s: %s", prom, strerror(-w));
			free(fs.v);
			return EXIT_SYSTEM;
		}
	}
	free(fs.v);
	return r; /* 0 ok, 1 warning, 2 critical */
}

int cmd_seen(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bridge", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const struct vifmac_sys_ops *sys;
	void *sd;
	struct vifmac_mac mac;
	struct vifmac_link_info *links = NULL;
	struct vifmac_fdb_entry *fdb = NULL;
	struct vifmac_neigh_entry *neigh = NULL;
	size_t n_links = 0, n_fdb = 0, n_neigh = 0, seen = 0;
	const char *bridge = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "b:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'b':
			bridge = optarg;
			break;
		case 'h':
			printf("Usage: vifmac seen MAC [--bridge BRIDGE]\n"
			       "\n"
			       "Where this host sees MAC: dom0 links carrying it, bridge forwarding\n"
			       "database entries (learned or local), dom0's neighbour entries. Reads\n"
			       "netlink only; needs no Xen. Exit 0 when not seen, 1 when seen.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || vifmac_mac_parse(argv[optind], &mac) < 0) {
		cli_error("seen: needs one MAC (aa:bb:cc:dd:ee:ff)");
		return EXIT_USAGE;
	}
	sys = vifmac_ctx_get_sys(cli->ctx, &sd);
	r = sys->list_links(sd, &links, &n_links);
	if (r == 0)
		r = sys->find_fdb ? sys->find_fdb(sd, &mac, &fdb, &n_fdb) : sys->list_fdb(sd, &fdb, &n_fdb);
	if (r == 0)
		r = sys->list_neigh(sd, &neigh, &n_neigh);
	if (r < 0) {
		cli_error("seen: cannot read netlink: %s", strerror(-r));
		free(links);
		free(fdb);
		return EXIT_SYSTEM;
	}
	for (size_t i = 0; i < n_links; i++)
		if (vifmac_mac_equal(&links[i].mac, &mac) &&
		    (!bridge || strcmp(links[i].master, bridge) == 0 || strcmp(links[i].name, bridge) == 0)) {
			printf("link %s%s%s\n", links[i].name, links[i].master[0] ? " master " : "", links[i].master);
			seen++;
		}
	for (size_t i = 0; i < n_fdb; i++)
		if (vifmac_mac_equal(&fdb[i].mac, &mac) && (!bridge || strcmp(fdb[i].bridge, bridge) == 0)) {
			printf("fdb bridge %s port %s", fdb[i].bridge, fdb[i].port);
			if (fdb[i].vlan)
				printf(" vlan %d", fdb[i].vlan);
			if (fdb[i].local)
				printf(" local\n");
			else if (fdb[i].age >= 0)
				printf(" learned %llds ago\n", (long long)fdb[i].age);
			else
				printf("\n");
			seen++;
		}
	for (size_t i = 0; i < n_neigh; i++)
		if (vifmac_mac_equal(&neigh[i].mac, &mac) && (!bridge || strcmp(neigh[i].ifname, bridge) == 0)) {
			printf("neighbour %s dev %s %s\n", neigh[i].ip, neigh[i].ifname, neigh[i].state);
			seen++;
		}
	free(links);
	free(fdb);
	free(neigh);
	return seen ? EXIT_REFUSED : EXIT_OK;
}

/* vifmac watch: what it has reported so far. */
struct watch_out {
	const char *prom;
	size_t per_kind[N_KINDS];
	int worst;
	struct vifmac_audit_counts counts;
};

static int watch_event(void *data, const struct vifmac_finding *f)
{
	struct watch_out *w = data;
	char mac[VIFMAC_MAC_STRLEN];

	printf("%-8s %-14s %s\n", f->severity == VIFMAC_SEVERITY_CRITICAL ? "CRITICAL" : "WARNING", f->kind, f->message);
	fflush(stdout);
	syslog(f->severity == VIFMAC_SEVERITY_CRITICAL ? LOG_CRIT : LOG_WARNING, "%s %s: %s", f->kind,
	       vifmac_mac_format(&f->mac, mac), f->message);
	count_kind(w->per_kind, f);
	if ((int)f->severity > w->worst)
		w->worst = (int)f->severity;
	w->counts.fdb_entries++;
	if (w->prom && write_prometheus(w->prom, w->per_kind, w->worst, &w->counts) < 0)
		cli_error("watch: cannot write %s: %s", w->prom, strerror(errno));
	return 0;
}

int cmd_watch(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prometheus", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct watch_out w = { 0 };
	struct vifmac_registry *reg = NULL;
	int c, r, rc;

	while ((c = getopt_long(argc, argv, "p:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'p':
			w.prom = optarg;
			break;
		case 'h':
			printf("Usage: vifmac watch [--prometheus FILE]\n"
			       "\n"
			       "Follows the bridges as the kernel changes them (rtnetlink, no polling) and\n"
			       "reports, one line each on standard output and to syslog: one of our MACs (a\n"
			       "running vif's, a registry claim's or reservation's) learned on a port that is\n"
			       "not its vif (critical, foreign-use), a MAC moving between ports (warning,\n"
			       "mac-move); when ports join or leave bridges, a vif without its rules\n"
			       "(critical, missing-rules) or rules without a vif (warning, stale-rules),\n"
			       "once two checks 2 s apart agree (a hotplug run in between is no anomaly).\n"
			       "--prometheus keeps a node_exporter textfile with the counts so far, under\n"
			       "the metric names of vifmac audit. Runs until killed.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	rc = cli_open_registry_only(cli, argc, argv, &reg);
	if (rc)
		return rc;
	openlog("vifmac-watch", LOG_PID, LOG_DAEMON);
	if (w.prom && write_prometheus(w.prom, w.per_kind, 0, &w.counts) < 0) {
		cli_error("watch: cannot write %s: %s", w.prom, strerror(errno));
		vifmac_registry_close(reg);
		return EXIT_SYSTEM;
	}
	r = vifmac_watch(cli->ctx, reg, watch_event, &w);
	vifmac_registry_close(reg);
	if (r < 0) {
		cli_error("watch: %s", vifmac_ctx_last_error(cli->ctx));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}
