/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vifmac list, whois, reserve, release and gc: the registry for the admin (export, import: cmd-export.c). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vifmac-cli.h"

/* ---------------------------------------------------------------- output */

static const char *state_name(enum vifmac_record_state s)
{
	return s == VIFMAC_STATE_RESERVED ? "reserved" : "active";
}

/* One record as a JSON object (the export format, also used by --json). */
void cli_record_json(struct cli_json *j, const struct vifmac_record *rec)
{
	char mac[VIFMAC_MAC_STRLEN];

	cli_json_open(j, '{');
	cli_json_kstr(j, "mac", vifmac_mac_format(&rec->mac, mac));
	cli_json_kstr(j, "scope", rec->scope_key);
	cli_json_kstr(j, "state", state_name(rec->state));
	cli_json_kstr(j, "domain", rec->domain);
	cli_json_kstr(j, "uuid", rec->uuid);
	cli_json_kint(j, "devid", rec->devid);
	cli_json_kstr(j, "bridge", rec->bridge);
	cli_json_kstr(j, "ip", rec->ip);
	cli_json_kstr(j, "host", rec->host);
	cli_json_kint(j, "created", rec->created);
	cli_json_kint(j, "updated", rec->updated);
	cli_json_kstr(j, "note", rec->note);
	cli_json_kstr(j, "source", rec->source);
	cli_json_close(j);
}

/* One line an admin can read: who holds the MAC, where, since when. */
static void text_record(FILE *f, const struct vifmac_record *rec)
{
	char mac[VIFMAC_MAC_STRLEN], since[32];

	vifmac_mac_format(&rec->mac, mac);
	cli_iso_time(rec->created, since);
	if (rec->state == VIFMAC_STATE_RESERVED) {
		cli_printf(f, "%s reserved: %s (host %s, since %s)\n", mac, cli_dash(rec->note), cli_dash(rec->host), since);
		return;
	}
	cli_printf(f, "%s domain %s uuid %s devid %d bridge %s ip %s host %s since %s scope %s source %s\n", mac,
		cli_dash(rec->domain), cli_dash(rec->uuid), rec->devid, cli_dash(rec->bridge), cli_dash(rec->ip), cli_dash(rec->host),
		since, rec->scope_key, cli_dash(rec->source));
}

struct printer {
	bool json;
	struct cli_json j; /* when json */
	size_t n;
};

static int print_record(void *data, const struct vifmac_record *rec)
{
	struct printer *p = data;

	if (p->json)
		cli_record_json(&p->j, rec);
	else
		text_record(stdout, rec);
	p->n++;
	return 0;
}

/* list and whois --json: one array of records, one a line. */
static void json_list_start(struct printer *p)
{
	if (!p->json)
		return;
	cli_json_start(&p->j, stdout, true);
	cli_json_open(&p->j, '[');
}

static void json_list_end(struct printer *p)
{
	if (!p->json)
		return;
	cli_json_close(&p->j);
	cli_json_end(&p->j);
}

static int print_table_row(void *data, const struct vifmac_record *rec)
{
	struct printer *p = data;
	char mac[VIFMAC_MAC_STRLEN], since[32], devid[16];

	if (p->n++ == 0)
		printf("%-17s  %-8s  %-8s  %-16s  %5s  %-10s  %-15s  %-12s  %-20s  %s\n", "MAC", "SCOPE", "STATE",
		       "DOMAIN", "DEVID", "BRIDGE", "IP", "HOST", "SINCE", "NOTE");
	if (rec->devid >= 0)
		snprintf(devid, sizeof(devid), "%d", rec->devid);
	else
		snprintf(devid, sizeof(devid), "-");
	cli_printf(stdout, "%-17s  %-8s  %-8s  %-16s  %5s  %-10s  %-15s  %-12s  %-20s  %s\n",
		   vifmac_mac_format(&rec->mac, mac),
	       rec->scope_key, state_name(rec->state), cli_dash(rec->domain), devid, cli_dash(rec->bridge), cli_dash(rec->ip),
	       cli_dash(rec->host), cli_iso_time(rec->created, since), rec->note);
	return 0;
}

/* ---------------------------------------------------------------- list, whois */

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct vifmac_registry *reg;
	struct printer p = { 0 };
	int r;

	r = cli_simple_options(argc, argv, &p.json,
			   "Usage: vifmac list [--json]\n"
			   "\n"
			   "Lists every claim and reservation of the registry, ordered by MAC.\n"
			   "  --json   one JSON array of records (the export record format)\n");
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	r = cli_open_registry_only(cli, argc, argv, &reg);
	if (r != 0)
		return r;
	json_list_start(&p);
	r = vifmac_registry_list(reg, p.json ? print_record : print_table_row, &p);
	json_list_end(&p);
	if (r < 0)
		r = cli_fail(cli, r, "list");
	vifmac_registry_close(reg);
	return r;
}

/* A MAC, an IP address (v4 or v6, with or without /prefixlen) or else a domain name or UUID. */
static bool looks_like_ip(const char *s)
{
	struct vifmac_ipv4 ip;
	char addr[64];
	size_t n = strcspn(s, "/");

	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (vifmac_ipv4_parse(addr, &ip) == 0)
		return true;
	if (!strchr(addr, ':'))
		return false;
	for (const char *p = addr; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return false;
	return true;
}

int cmd_whois(struct cli *cli, int argc, char **argv)
{
	struct vifmac_registry *reg;
	struct printer p = { 0 };
	struct vifmac_mac mac;
	const char *what;
	int r;

	r = cli_simple_options(argc, argv, &p.json,
			   "Usage: vifmac whois MAC|IP|DOMAIN [--json]\n"
			   "\n"
			   "Tells who holds a MAC, which MACs are recorded for an IP address, or which\n"
			   "MACs a domain (name or UUID) holds. Exit status 1 when nothing is recorded.\n"
			   "  --json   one JSON array of records\n");
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	if (optind + 1 != argc) {
		cli_error("whois: expected one MAC, IP address or domain (see vifmac whois --help)");
		return EXIT_USAGE;
	}
	what = argv[optind];
	if (!*what) {
		cli_error("whois: empty argument");
		return EXIT_USAGE;
	}
	r = cli_open_registry(cli, &reg);
	if (r != 0)
		return r;
	json_list_start(&p);
	if (vifmac_mac_parse(what, &mac) == 0)
		r = vifmac_registry_lookup_mac(reg, &mac, print_record, &p);
	else if (looks_like_ip(what))
		r = vifmac_registry_lookup_ip(reg, what, print_record, &p);
	else
		r = vifmac_registry_lookup_domain(reg, what, print_record, &p);
	json_list_end(&p);
	if (r < 0) {
		r = cli_fail(cli, r, "whois");
	} else if (p.n == 0) {
		cli_error("whois: nothing recorded for %s in %s", what, vifmac_registry_url(reg));
		r = EXIT_REFUSED;
	}
	vifmac_registry_close(reg);
	return r;
}

/* ---------------------------------------------------------------- reserve, release */

static void print_holder(const char *what, const struct vifmac_record *h)
{
	char mac[VIFMAC_MAC_STRLEN], since[32];

	vifmac_mac_format(&h->mac, mac);
	cli_iso_time(h->created, since);
	if (h->state == VIFMAC_STATE_RESERVED)
		cli_error("%s: %s is already reserved: %s (host %s, since %s)", what, mac, cli_dash(h->note),
			  cli_dash(h->host), since);
	else
		cli_error("%s: %s is held by domain %s (uuid %s, devid %d) on host %s since %s", what, mac,
			  cli_dash(h->domain), cli_dash(h->uuid), h->devid, cli_dash(h->host), since);
}

int cmd_reserve(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "note", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct vifmac_registry *reg;
	struct vifmac_record holder;
	struct vifmac_mac mac;
	const char *note = NULL;
	char buf[VIFMAC_MAC_STRLEN];
	int c, r;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'n':
			note = optarg;
			break;
		case 'h':
			printf("Usage: vifmac reserve MAC --note TEXT\n"
			       "\n"
			       "Holds MAC for no domain (a router, a physical box, retired hardware) so\n"
			       "that it is never handed out. The note says why; it is required.\n"
			       "Undo with vifmac release MAC.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		cli_error("reserve: expected one MAC (see vifmac reserve --help)");
		return EXIT_USAGE;
	}
	if (vifmac_mac_parse(argv[optind], &mac) < 0) {
		cli_error("reserve: \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)", argv[optind]);
		return EXIT_USAGE;
	}
	if (!note || !*note) {
		cli_error("reserve: --note TEXT is required: say what holds %s", argv[optind]);
		return EXIT_USAGE;
	}
	r = cli_open_registry(cli, &reg);
	if (r != 0)
		return r;
	r = vifmac_registry_reserve(reg, &mac, note, &holder);
	if (r == -EEXIST) {
		print_holder("reserve", &holder);
		r = EXIT_REFUSED;
	} else if (r < 0) {
		r = cli_fail(cli, r, "reserve");
	} else {
		cli_printf(stdout, "reserved %s: %s\n", vifmac_mac_format(&mac, buf), note);
	}
	vifmac_registry_close(reg);
	return r;
}

struct collected {
	struct vifmac_record *recs;
	size_t n, size;
	int devid; /* keep only this devid when >= 0 */
};

static int collect(void *data, const struct vifmac_record *rec)
{
	struct collected *c = data;

	if (c->devid >= 0 && rec->devid != c->devid)
		return 0;
	if (c->n == c->size) {
		size_t size = c->size ? 2 * c->size : 8;
		struct vifmac_record *p = realloc(c->recs, size * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->recs = p;
		c->size = size;
	}
	c->recs[c->n++] = *rec;
	return 0;
}

static int parse_devid(const char *s, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

int cmd_release(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "devid", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct vifmac_registry *reg;
	struct collected found = { .devid = -1 };
	const char *domain = NULL;
	struct vifmac_mac mac;
	char buf[VIFMAC_MAC_STRLEN];
	size_t released = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "d:n:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'd':
			domain = optarg;
			break;
		case 'n':
			if (parse_devid(optarg, &found.devid) < 0) {
				cli_error("release: --devid \"%s\": not a device number (0-65535)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			printf("Usage: vifmac release MAC\n"
			       "       vifmac release --domain NAME|UUID [--devid N]\n"
			       "\n"
			       "Removes the claims (and the reservation) of MAC, or the claims of a\n"
			       "domain's vifs (only vif N with --devid). Exit status 1 when nothing matched.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (domain ? optind != argc : optind + 1 != argc) {
		cli_error("release: expected one MAC or --domain NAME (see vifmac release --help)");
		return EXIT_USAGE;
	}
	if (!domain && found.devid >= 0) {
		cli_error("release: --devid goes with --domain");
		return EXIT_USAGE;
	}
	if (!domain && vifmac_mac_parse(argv[optind], &mac) < 0) {
		cli_error("release: \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)", argv[optind]);
		return EXIT_USAGE;
	}
	r = cli_open_registry(cli, &reg);
	if (r != 0)
		return r;
	r = domain ? vifmac_registry_lookup_domain(reg, domain, collect, &found) :
		     vifmac_registry_lookup_mac(reg, &mac, collect, &found);
	if (r < 0) {
		r = cli_fail(cli, r, "release");
		goto out;
	}
	for (size_t i = 0; i < found.n; i++) {
		const struct vifmac_record *rec = &found.recs[i];

		vifmac_mac_format(&rec->mac, buf);
		if (rec->state == VIFMAC_STATE_RESERVED) {
			if (domain)
				continue;
			r = vifmac_registry_unreserve(reg, &rec->mac);
		} else {
			r = vifmac_registry_release(reg, &rec->mac, rec->uuid, rec->devid);
		}
		if (r < 0) {
			r = cli_fail(cli, r, "release");
			goto out;
		}
		if (r == 0)
			continue; /* gone meanwhile */
		released++;
		if (rec->state == VIFMAC_STATE_RESERVED)
			cli_printf(stdout, "released %s: reservation \"%s\"\n", buf, rec->note);
		else
			cli_printf(stdout, "released %s: domain %s (uuid %s, devid %d) on host %s\n", buf, cli_dash(rec->domain),
			       rec->uuid, rec->devid, cli_dash(rec->host));
	}
	r = EXIT_OK;
	if (released == 0) {
		cli_error("release: nothing recorded for %s in %s", domain ? domain : argv[optind],
			  vifmac_registry_url(reg));
		r = EXIT_REFUSED;
	}
out:
	free(found.recs);
	vifmac_registry_close(reg);
	return r;
}

/* ---------------------------------------------------------------- gc */

struct gc_print {
	bool dry_run;
	const char *host; /* --host, or NULL */
};

static int print_gc(void *data, const struct vifmac_record *rec)
{
	const struct gc_print *g = data;
	char mac[VIFMAC_MAC_STRLEN];

	cli_printf(stdout, "%s %s: domain %s (uuid %s, devid %d) ", g->dry_run ? "would release" : "released",
	       vifmac_mac_format(&rec->mac, mac), cli_dash(rec->domain), rec->uuid, rec->devid);
	if (g->host)
		cli_printf(stdout, "claimed on host %s\n", rec->host);
	else
		printf("is not running\n");
	return 0;
}

int cmd_gc(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "host", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct vifmac_registry *reg;
	struct gc_print g = { 0 };
	int c, r;

	while ((c = getopt_long(argc, argv, "nH:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'n':
			g.dry_run = true;
			break;
		case 'H':
			g.host = optarg;
			break;
		case 'h':
			printf("Usage: vifmac gc [--dry-run] [--host NAME]\n"
			       "\n"
			       "Releases the claims this host recorded for domains that no longer run\n"
			       "here. Claims of other hosts and reservations are kept. When the running\n"
			       "domains cannot be listed (no xenstore), nothing is released (exit 3).\n"
			       "  --dry-run     only print what would be released\n"
			       "  --host NAME   release every claim recorded by host NAME instead: a host of\n"
			       "                a shared registry that is gone for good (its domains cannot\n"
			       "                be listed from here, so this is the admin's word)\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (cli_no_operands(argc, argv))
		return EXIT_USAGE;
	if (g.host && !*g.host) {
		fprintf(stderr, "vifmac: gc --host: empty host name\n");
		return EXIT_USAGE;
	}
	r = cli_open_registry(cli, &reg);
	if (r != 0)
		return r;
	r = vifmac_registry_gc_host(reg, g.host, g.dry_run, print_gc, &g);
	if (r < 0) {
		/* no domain list (-ENOENT, -EOPNOTSUPP, ...) is the system's failure, not a usage error */
		cli_fail(cli, r, "gc");
		r = r == -EINVAL && g.host ? EXIT_USAGE : EXIT_SYSTEM;
	} else {
		printf("%s %d claim%s%s%s\n", g.dry_run ? "would release" : "released", r, r == 1 ? "" : "s",
		       g.host ? " of host " : "", g.host ? g.host : "");
		r = EXIT_OK;
	}
	vifmac_registry_close(reg);
	return r;
}
