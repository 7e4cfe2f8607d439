/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vifmac list, whois, reserve, release, gc, export and import: the registry for the admin. */
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

#define EXPORT_FORMAT "vifmac-registry"
#define EXPORT_VERSION 1

/* ---------------------------------------------------------------- output */

static const char *iso_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "-");
	return buf;
}

static const char *state_name(enum vifmac_record_state s)
{
	return s == VIFMAC_STATE_RESERVED ? "reserved" : "active";
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

/* One record as a JSON object (the export format, also used by --json). */
static void json_record(FILE *f, const struct vifmac_record *rec, const char *indent)
{
	char mac[VIFMAC_MAC_STRLEN];

	fprintf(f, "%s{\"mac\": \"%s\", \"scope\": ", indent, vifmac_mac_format(&rec->mac, mac));
	cli_json_string(f, rec->scope_key);
	fprintf(f, ", \"state\": \"%s\", \"domain\": ", state_name(rec->state));
	cli_json_string(f, rec->domain);
	fputs(", \"uuid\": ", f);
	cli_json_string(f, rec->uuid);
	fprintf(f, ", \"devid\": %d, \"bridge\": ", rec->devid);
	cli_json_string(f, rec->bridge);
	fputs(", \"ip\": ", f);
	cli_json_string(f, rec->ip);
	fputs(", \"host\": ", f);
	cli_json_string(f, rec->host);
	fprintf(f, ", \"created\": %" PRId64 ", \"updated\": %" PRId64 ", \"note\": ", rec->created, rec->updated);
	cli_json_string(f, rec->note);
	fputs(", \"source\": ", f);
	cli_json_string(f, rec->source);
	fputc('}', f);
}

/* One line an admin can read: who holds the MAC, where, since when. */
static void text_record(FILE *f, const struct vifmac_record *rec)
{
	char mac[VIFMAC_MAC_STRLEN], since[32];

	vifmac_mac_format(&rec->mac, mac);
	iso_time(rec->created, since);
	if (rec->state == VIFMAC_STATE_RESERVED) {
		cli_printf(f, "%s reserved: %s (host %s, since %s)\n", mac, dash(rec->note), dash(rec->host), since);
		return;
	}
	cli_printf(f, "%s domain %s uuid %s devid %d bridge %s ip %s host %s since %s scope %s source %s\n", mac,
		dash(rec->domain), dash(rec->uuid), rec->devid, dash(rec->bridge), dash(rec->ip), dash(rec->host),
		since, rec->scope_key, dash(rec->source));
}

struct printer {
	bool json;
	size_t n;
};

static int print_record(void *data, const struct vifmac_record *rec)
{
	struct printer *p = data;

	if (p->json) {
		fputs(p->n ? ",\n" : "\n", stdout);
		json_record(stdout, rec, "  ");
	} else {
		text_record(stdout, rec);
	}
	p->n++;
	return 0;
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
	       rec->scope_key, state_name(rec->state), dash(rec->domain), devid, dash(rec->bridge), dash(rec->ip),
	       dash(rec->host), iso_time(rec->created, since), rec->note);
	return 0;
}

/* Parses the options every command takes: --help, and --json where @json is not NULL. */
static int simple_options(int argc, char **argv, bool *json, const char *help)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 'j':
			if (!json) {
				cli_error("%s: unknown option --json", argv[0]);
				return EXIT_USAGE;
			}
			*json = true;
			break;
		case 'h':
			fputs(help, stdout);
			return -1;
		default:
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- list, whois */

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct vifmac_registry *reg;
	struct printer p = { 0 };
	int r;

	r = simple_options(argc, argv, &p.json,
			   "Usage: vifmac list [--json]\n"
			   "\n"
			   "Lists every claim and reservation of the registry, ordered by MAC.\n"
			   "  --json   one JSON array of records (the export record format)\n");
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	if (cli_no_operands(argc, argv))
		return EXIT_USAGE;
	r = cli_open_registry(cli, &reg);
	if (r != 0)
		return r;
	if (p.json)
		fputc('[', stdout);
	r = vifmac_registry_list(reg, p.json ? print_record : print_table_row, &p);
	if (p.json)
		fputs(p.n ? "\n]\n" : "]\n", stdout);
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

	r = simple_options(argc, argv, &p.json,
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
	if (p.json)
		fputc('[', stdout);
	if (vifmac_mac_parse(what, &mac) == 0)
		r = vifmac_registry_lookup_mac(reg, &mac, print_record, &p);
	else if (looks_like_ip(what))
		r = vifmac_registry_lookup_ip(reg, what, print_record, &p);
	else
		r = vifmac_registry_lookup_domain(reg, what, print_record, &p);
	if (p.json)
		fputs(p.n ? "\n]\n" : "]\n", stdout);
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
	iso_time(h->created, since);
	if (h->state == VIFMAC_STATE_RESERVED)
		cli_error("%s: %s is already reserved: %s (host %s, since %s)", what, mac, dash(h->note),
			  dash(h->host), since);
	else
		cli_error("%s: %s is held by domain %s (uuid %s, devid %d) on host %s since %s", what, mac,
			  dash(h->domain), dash(h->uuid), h->devid, dash(h->host), since);
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
			cli_printf(stdout, "released %s: domain %s (uuid %s, devid %d) on host %s\n", buf, dash(rec->domain),
			       rec->uuid, rec->devid, dash(rec->host));
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
	       vifmac_mac_format(&rec->mac, mac), dash(rec->domain), rec->uuid, rec->devid);
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

/* ---------------------------------------------------------------- export */

int cmd_export(struct cli *cli, int argc, char **argv)
{
	struct vifmac_registry *reg;
	struct printer p = { .json = true };
	const struct vifmac_sys_ops *sys;
	void *sys_data;
	char host[256] = "";
	int r;

	r = simple_options(argc, argv, NULL,
			   "Usage: vifmac export > FILE\n"
			   "\n"
			   "Writes every record of the registry as JSON on standard output, for backups\n"
			   "and moving hosts. vifmac import reads it back.\n");
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	if (cli_no_operands(argc, argv))
		return EXIT_USAGE;
	r = cli_open_registry(cli, &reg);
	if (r != 0)
		return r;
	sys = vifmac_ctx_get_sys(cli->ctx, &sys_data);
	if (!sys->hostname || sys->hostname(sys_data, host, sizeof(host)) < 0)
		host[0] = '\0';
	printf("{\"format\": \"%s\", \"version\": %d, \"exported\": %lld, \"host\": ", EXPORT_FORMAT, EXPORT_VERSION,
	       (long long)time(NULL));
	cli_json_string(stdout, host);
	fputs(", \"records\": [", stdout);
	r = vifmac_registry_list(reg, print_record, &p);
	fputs(p.n ? "\n]}\n" : "]}\n", stdout);
	if (r < 0)
		r = cli_fail(cli, r, "export");
	vifmac_registry_close(reg);
	return r;
}

/* ---------------------------------------------------------------- import: a small strict JSON reader */

enum jtype { J_NULL, J_BOOL, J_INT, J_STRING, J_ARRAY, J_OBJECT };

struct jvalue {
	enum jtype type;
	int64_t i;
	char *s;              /* J_STRING */
	struct jvalue *items; /* J_ARRAY values, J_OBJECT values */
	char **keys;          /* J_OBJECT */
	size_t n;
};

struct jparser {
	const char *p;
	const char *start;
	int line;
	char error[128];
	int depth;
};

static void jfree(struct jvalue *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jfree(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
}

static int jerror(struct jparser *jp, const char *msg)
{
	if (!jp->error[0])
		snprintf(jp->error, sizeof(jp->error), "line %d: %s", jp->line, msg);
	return -EINVAL;
}

static void jspace(struct jparser *jp)
{
	for (; *jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'; jp->p++)
		if (*jp->p == '\n')
			jp->line++;
}

static int hex4(const char *p, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];

		if (!isxdigit(c))
			return -EINVAL;
		v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	*ret = v;
	return 0;
}

static size_t utf8_put(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int jstring(struct jparser *jp, char **ret)
{
	const char *p = jp->p + 1; /* after the quote */
	size_t len = 0;
	char *out;

	/* the decoded string is never longer than its source */
	for (const char *q = p; *q && *q != '"'; q++, len++)
		if (*q == '\\' && q[1])
			q++, len++;
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	len = 0;
	for (;;) {
		unsigned char c = (unsigned char)*p;
		unsigned cp, lo;

		if (c == '"')
			break;
		if (c == '\0' || c < 0x20) {
			free(out);
			return jerror(jp, c ? "control character in a string" : "unterminated string");
		}
		if (c != '\\') {
			out[len++] = (char)c;
			p++;
			continue;
		}
		p++;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			out[len++] = *p++;
			break;
		case 'b':
			out[len++] = '\b', p++;
			break;
		case 'f':
			out[len++] = '\f', p++;
			break;
		case 'n':
			out[len++] = '\n', p++;
			break;
		case 'r':
			out[len++] = '\r', p++;
			break;
		case 't':
			out[len++] = '\t', p++;
			break;
		case 'u':
			if (hex4(p + 1, &cp) < 0)
				goto bad_escape;
			p += 5;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					goto bad_escape;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				goto bad_escape;
			}
			if (cp == 0)
				goto bad_escape;
			len += utf8_put(out + len, cp);
			break;
		default:
			goto bad_escape;
		}
	}
	out[len] = '\0';
	jp->p = p + 1;
	*ret = out;
	return 0;
bad_escape:
	free(out);
	return jerror(jp, "bad escape in a string");
}

static int jvalue_parse(struct jparser *jp, struct jvalue *v);

static int jappend(struct jvalue *v, char *key, struct jvalue *item)
{
	struct jvalue *items = realloc(v->items, (v->n + 1) * sizeof(*items));

	if (!items)
		return -ENOMEM;
	v->items = items;
	if (v->type == J_OBJECT) {
		char **keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		v->keys = keys;
		keys[v->n] = key;
	}
	items[v->n++] = *item;
	return 0;
}

static int jcontainer(struct jparser *jp, struct jvalue *v, char close)
{
	bool object = close == '}';
	int r;

	v->type = object ? J_OBJECT : J_ARRAY;
	jp->p++;
	jspace(jp);
	if (*jp->p == close) {
		jp->p++;
		return 0;
	}
	for (;;) {
		struct jvalue item = { 0 };
		char *key = NULL;

		jspace(jp);
		if (object) {
			if (*jp->p != '"')
				return jerror(jp, "expected a key");
			r = jstring(jp, &key);
			if (r < 0)
				return r;
			for (size_t i = 0; i < v->n; i++)
				if (strcmp(v->keys[i], key) == 0) {
					free(key);
					return jerror(jp, "duplicate key");
				}
			jspace(jp);
			if (*jp->p != ':') {
				free(key);
				return jerror(jp, "expected ':'");
			}
			jp->p++;
		}
		r = jvalue_parse(jp, &item);
		if (r == 0)
			r = jappend(v, key, &item);
		if (r < 0) {
			jfree(&item);
			free(key);
			return r;
		}
		jspace(jp);
		if (*jp->p == ',') {
			jp->p++;
			continue;
		}
		if (*jp->p == close) {
			jp->p++;
			return 0;
		}
		return jerror(jp, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int jvalue_parse(struct jparser *jp, struct jvalue *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	jspace(jp);
	if (++jp->depth > 16)
		return jerror(jp, "nested too deeply");
	switch (*jp->p) {
	case '{':
		r = jcontainer(jp, v, '}');
		break;
	case '[':
		r = jcontainer(jp, v, ']');
		break;
	case '"':
		v->type = J_STRING;
		r = jstring(jp, &v->s);
		break;
	case 't':
	case 'f':
	case 'n': {
		static const struct {
			const char *word;
			enum jtype type;
			int64_t i;
		} words[] = { { "true", J_BOOL, 1 }, { "false", J_BOOL, 0 }, { "null", J_NULL, 0 } };

		size_t i;

		for (i = 0; i < 3; i++)
			if (strncmp(jp->p, words[i].word, strlen(words[i].word)) == 0)
				break;
		if (i == 3) {
			r = jerror(jp, "unexpected word");
			break;
		}
		v->type = words[i].type;
		v->i = words[i].i;
		jp->p += strlen(words[i].word);
		r = 0;
		break;
	}
	default: {
		const char *q = jp->p;
		char *end;

		if (*q == '-')
			q++;
		if (!isdigit((unsigned char)*q) || (q[0] == '0' && isdigit((unsigned char)q[1]))) {
			r = jerror(jp, "unexpected character");
			break;
		}
		errno = 0;
		v->type = J_INT;
		v->i = strtoll(jp->p, &end, 10);
		if (errno || *end == '.' || *end == 'e' || *end == 'E') {
			r = jerror(jp, "numbers must be integers");
			break;
		}
		jp->p = end;
		r = 0;
	}
	}
	jp->depth--;
	return r;
}

static const struct jvalue *jget(const struct jvalue *obj, const char *key)
{
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}

/* Opens @path for reading if it is a regular file (else NULL, errno EINVAL): a FIFO does not block. */
static FILE *open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	FILE *f;

	int err;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	else if ((f = fdopen(fd, "r")))
		return f;
	else
		err = errno;
	close(fd);
	errno = err;
	return NULL;
}

/* An export takes about 0.4 KiB per record: 64 MiB hold some 150,000; larger is refused before parsing. */
#define IMPORT_MAX_BYTES (64u << 20)

/* Reads a whole stream of at most IMPORT_MAX_BYTES (else NULL, errno EFBIG). */
static char *slurp(FILE *f)
{
	size_t len = 0, size = 65536;
	char *buf = malloc(size);

	while (buf) {
		size_t n = fread(buf + len, 1, size - len - 1, f);

		len += n;
		if (n == 0)
			break;
		if (len >= IMPORT_MAX_BYTES) {
			free(buf);
			errno = EFBIG;
			return NULL;
		}
		if (len + 1 == size) {
			char *p = realloc(buf, size * 2);

			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
			size *= 2;
		}
	}
	if (!buf || ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		errno = EINVAL;
		return NULL;
	}
	return buf;
}

static int field_string(const struct jvalue *o, const char *key, char *buf, size_t size, size_t idx, bool required)
{
	const struct jvalue *v = jget(o, key);

	if (!v) {
		if (!required)
			return 0;
		cli_error("import: record %zu: \"%s\" is missing", idx, key);
		return -EINVAL;
	}
	if (v->type != J_STRING) {
		cli_error("import: record %zu: \"%s\" must be a string", idx, key);
		return -EINVAL;
	}
	if (strlen(v->s) >= size) {
		cli_error("import: record %zu: \"%s\" is longer than %zu bytes", idx, key, size - 1);
		return -EINVAL;
	}
	strcpy(buf, v->s);
	return 0;
}

static int field_int(const struct jvalue *o, const char *key, int64_t *ret, size_t idx, bool required)
{
	const struct jvalue *v = jget(o, key);

	if (!v) {
		if (!required)
			return 0;
		cli_error("import: record %zu: \"%s\" is missing", idx, key);
		return -EINVAL;
	}
	if (v->type != J_INT) {
		cli_error("import: record %zu: \"%s\" must be an integer", idx, key);
		return -EINVAL;
	}
	*ret = v->i;
	return 0;
}

static int record_from_json(const struct jvalue *o, size_t idx, struct vifmac_record *rec)
{
	static const char *const known[] = { "mac",  "scope", "state",   "domain",  "uuid", "devid",  "bridge",
					     "ip",   "host",  "created", "updated", "note", "source" };
	char mac[VIFMAC_MAC_STRLEN], state[16] = "active";
	int64_t devid = -1;
	bool reserved;

	if (o->type != J_OBJECT) {
		cli_error("import: record %zu is not an object", idx);
		return -EINVAL;
	}
	for (size_t i = 0; i < o->n; i++) {
		bool ok = false;

		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			ok = ok || strcmp(o->keys[i], known[k]) == 0;
		if (!ok) {
			cli_error("import: record %zu: unknown key \"%s\"", idx, o->keys[i]);
			return -EINVAL;
		}
	}
	vifmac_record_init(rec);
	if (field_string(o, "mac", mac, sizeof(mac), idx, true) < 0 ||
	    field_string(o, "state", state, sizeof(state), idx, false) < 0)
		return -EINVAL;
	if (vifmac_mac_parse(mac, &rec->mac) < 0) {
		cli_error("import: record %zu: \"%s\" is not a MAC address", idx, mac);
		return -EINVAL;
	}
	if (strcmp(state, "active") != 0 && strcmp(state, "reserved") != 0) {
		cli_error("import: record %zu (%s): state must be \"active\" or \"reserved\"", idx, mac);
		return -EINVAL;
	}
	reserved = strcmp(state, "reserved") == 0;
	rec->state = reserved ? VIFMAC_STATE_RESERVED : VIFMAC_STATE_ACTIVE;
	if (field_string(o, "scope", rec->scope_key, sizeof(rec->scope_key), idx, false) < 0 ||
	    field_string(o, "domain", rec->domain, sizeof(rec->domain), idx, false) < 0 ||
	    field_string(o, "uuid", rec->uuid, sizeof(rec->uuid), idx, !reserved) < 0 ||
	    field_int(o, "devid", &devid, idx, !reserved) < 0 ||
	    field_string(o, "bridge", rec->bridge, sizeof(rec->bridge), idx, false) < 0 ||
	    field_string(o, "ip", rec->ip, sizeof(rec->ip), idx, false) < 0 ||
	    field_string(o, "host", rec->host, sizeof(rec->host), idx, false) < 0 ||
	    field_int(o, "created", &rec->created, idx, false) < 0 ||
	    field_int(o, "updated", &rec->updated, idx, false) < 0 ||
	    field_string(o, "note", rec->note, sizeof(rec->note), idx, false) < 0 ||
	    field_string(o, "source", rec->source, sizeof(rec->source), idx, false) < 0)
		return -EINVAL;
	if (devid < -1 || devid > 65535 || (!reserved && devid < 0)) {
		cli_error("import: record %zu (%s): devid %lld is not a device number", idx, mac, (long long)devid);
		return -EINVAL;
	}
	rec->devid = (int)devid;
	if (rec->updated < rec->created)
		rec->updated = rec->created;
	return 0;
}

static int print_conflict(void *data, const struct vifmac_record *rec, const struct vifmac_record *h)
{
	char mac[VIFMAC_MAC_STRLEN], since[32];
	size_t *n = data;

	(*n)++;
	vifmac_mac_format(&rec->mac, mac);
	iso_time(h->created, since);
	if (h->state == VIFMAC_STATE_RESERVED)
		cli_error("import: %s (scope %s) conflicts: reserved in the registry: %s (host %s, since %s)", mac,
			  rec->scope_key, dash(h->note), dash(h->host), since);
	else
		cli_error("import: %s (scope %s) conflicts: held by domain %s (uuid %s, devid %d, scope %s) on host %s "
			  "since %s",
			  mac, rec->scope_key, dash(h->domain), dash(h->uuid), h->devid, h->scope_key, dash(h->host),
			  since);
	return 0;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	struct vifmac_registry *reg = NULL;
	struct vifmac_record *recs = NULL;
	struct jvalue doc = { 0 };
	struct jparser jp = { .line = 1 };
	const struct jvalue *v, *list;
	const char *path = "-";
	size_t conflicts = 0, n = 0;
	char *text;
	FILE *f;
	int r;

	r = simple_options(argc, argv, NULL,
			   "Usage: vifmac import [FILE]\n"
			   "\n"
			   "Reads records written by vifmac export (from FILE, or standard input) into\n"
			   "the registry, all or nothing: when a record conflicts with one already held\n"
			   "by another owner, nothing is imported and each conflict is named (exit 1).\n");
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	if (optind + 1 < argc) {
		cli_error("import: expected at most one FILE");
		return EXIT_USAGE;
	}
	if (optind < argc)
		path = argv[optind];
	f = strcmp(path, "-") == 0 ? stdin : open_regular(path);
	if (!f) {
		cli_error("import: cannot open %s: %s", path, errno == EINVAL ? "not a regular file" : strerror(errno));
		return EXIT_USAGE;
	}
	text = slurp(f);
	if (f != stdin)
		fclose(f);
	if (!text && errno == EFBIG) {
		cli_error("import: %s is larger than %u MiB: split the export", path, IMPORT_MAX_BYTES >> 20);
		return EXIT_USAGE;
	}
	if (!text) {
		cli_error("import: cannot read %s: %m", path);
		return EXIT_SYSTEM;
	}
	jp.p = jp.start = text;
	r = jvalue_parse(&jp, &doc);
	if (r == 0) {
		jspace(&jp);
		if (*jp.p)
			r = jerror(&jp, "text after the document");
	}
	if (r < 0) {
		cli_error("import: %s: %s", strcmp(path, "-") == 0 ? "<stdin>" : path,
			  jp.error[0] ? jp.error : strerror(-r));
		r = r == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE;
		goto out;
	}
	r = EXIT_USAGE;
	if (doc.type != J_OBJECT || !(v = jget(&doc, "format")) || v->type != J_STRING ||
	    strcmp(v->s, EXPORT_FORMAT) != 0) {
		cli_error("import: %s is not a vifmac export (no \"format\": \"%s\")", path, EXPORT_FORMAT);
		goto out;
	}
	v = jget(&doc, "version");
	if (!v || v->type != J_INT || v->i != EXPORT_VERSION) {
		cli_error("import: %s: export version %lld, this vifmac reads version %d", path,
			  v && v->type == J_INT ? (long long)v->i : -1LL, EXPORT_VERSION);
		goto out;
	}
	list = jget(&doc, "records");
	if (!list || list->type != J_ARRAY) {
		cli_error("import: %s: \"records\" must be an array", path);
		goto out;
	}
	recs = calloc(list->n ? list->n : 1, sizeof(*recs));
	if (!recs) {
		cli_error("import: out of memory");
		r = EXIT_SYSTEM;
		goto out;
	}
	for (n = 0; n < list->n; n++)
		if (record_from_json(&list->items[n], n, &recs[n]) < 0)
			goto out;

	r = cli_open_registry(cli, &reg);
	if (r != 0)
		goto out;
	r = vifmac_registry_import(reg, recs, n, print_conflict, &conflicts);
	if (r == -EEXIST) {
		cli_error("import: %zu conflict%s: nothing imported", conflicts, conflicts == 1 ? "" : "s");
		r = EXIT_REFUSED;
	} else if (r < 0) {
		r = cli_fail(cli, r, "import");
	} else {
		printf("imported %d record%s into %s\n", r, r == 1 ? "" : "s", vifmac_registry_url(reg));
		r = EXIT_OK;
	}
out:
	vifmac_registry_close(reg);
	free(recs);
	jfree(&doc);
	free(text);
	return r;
}
