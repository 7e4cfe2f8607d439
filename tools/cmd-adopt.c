/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vifmac adopt and fix-config: rolling vifmac out on a host in use. adopt
 * records the MACs guests run with; fix-config rewrites domain configs
 * (xen-tools writes a mac= of its own into each) for the policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vifmac-cli.h"

/* ------------------------------------------------------------------ adopt */

struct adopt_out {
	bool json;
	struct cli_json j;
	bool dry_run;
	size_t n, counts[4];
};

static void adopt_print_json(struct cli_json *j, const struct vifmac_adoption *a)
{
	const struct vifmac_running_vif *v = &a->vif;
	const struct vifmac_record *h = &a->holder;
	char mac[VIFMAC_MAC_STRLEN];

	cli_json_open(j, '{');
	cli_json_kuint(j, "domid", v->domid);
	cli_json_kstr(j, "domain", v->dom.name);
	cli_json_kstr(j, "uuid", v->dom.uuid);
	cli_json_kint(j, "devid", v->devid);
	cli_json_kstr(j, "mac", vifmac_mac_format(&v->mac, mac));
	cli_json_kstr(j, "bridge", v->bridge);
	cli_json_kstr(j, "ip", v->ip);
	cli_json_kstr(j, "result", vifmac_adopt_result_name(a->result));
	cli_json_kstr(j, "scope", a->record.scope_key);
	cli_json_kstr_or_null(j, "message", a->message[0] ? a->message : NULL);
	cli_json_key(j, "holder");
	if (a->result == VIFMAC_ADOPT_CONFLICT) {
		cli_json_open(j, '{');
		cli_json_kstr(j, "state", h->state == VIFMAC_STATE_RESERVED ? "reserved" : "active");
		cli_json_kstr(j, "domain", h->domain);
		cli_json_kstr(j, "uuid", h->uuid);
		cli_json_kint(j, "devid", h->devid);
		cli_json_kstr(j, "host", h->host);
		cli_json_kstr(j, "source", h->source);
		cli_json_close(j);
	} else {
		cli_json_null(j);
	}
	cli_json_close(j);
}

static int adopt_fn(void *data, const struct vifmac_adoption *a)
{
	struct adopt_out *o = data;
	const struct vifmac_running_vif *v = &a->vif;
	char mac[VIFMAC_MAC_STRLEN];

	if (o->json) {
		adopt_print_json(&o->j, a);
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
	rc = cli_open_registry_only(cli, argc, argv, &reg);
	if (rc)
		return rc == EXIT_USAGE ? EXIT_USAGE : EXIT_SYSTEM;
	if (o.json) {
		cli_json_start(&o.j, stdout, false);
		cli_json_open(&o.j, '{');
		cli_json_kbool(&o.j, "dry_run", o.dry_run);
		cli_json_key(&o.j, "vifs");
		cli_json_open(&o.j, '[');
	}
	r = vifmac_adopt(cli->ctx, reg, o.dry_run ? VIFMAC_ADOPT_DRY_RUN : 0, adopt_fn, &o);
	if (o.json) {
		cli_json_close(&o.j);
		cli_json_kuint(&o.j, "adopted", o.counts[VIFMAC_ADOPT_RECORDED]);
		cli_json_kuint(&o.j, "already", o.counts[VIFMAC_ADOPT_ALREADY]);
		cli_json_kuint(&o.j, "not_recorded", o.counts[VIFMAC_ADOPT_CONFLICT] + o.counts[VIFMAC_ADOPT_UNKNOWN_DOMAIN]);
		cli_json_close(&o.j);
		cli_json_end(&o.j);
	}
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

/* ------------------------------------------------------------------ fix-config */

struct line {
	const char *p;
	size_t len; /* with its '\n', when it has one */
};

static size_t split_lines(const char *text, size_t len, struct line **ret)
{
	size_t n = 0, cap = 64;
	struct line *l = malloc(cap * sizeof(*l));

	for (size_t i = 0; l && i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) + 1 : len;

		if (n == cap) {
			struct line *nlp = realloc(l, (cap *= 2) * sizeof(*l));

			if (!nlp) {
				free(l);
				l = NULL;
				break;
			}
			l = nlp;
		}
		l[n].p = text + i;
		l[n++].len = e - i;
		i = e;
	}
	*ret = l;
	return l ? n : 0;
}

static void diff_line(FILE *f, char mark, const struct line *l)
{
	fputc(mark, f);
	fwrite(l->p, 1, l->len, f);
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		fputs("\n\\ No newline at end of file\n", f);
}

static bool line_equal(const struct line *a, const struct line *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/*
 * A unified diff (3 lines of context). fix-config only rewrites inside a
 * vif string, which never spans lines, so both sides have the same lines
 * and each line is either kept or replaced.
 */
static int print_diff(FILE *f, const char *label, const char *a, size_t alen, const char *b, size_t blen)
{
	struct line *la = NULL, *lb = NULL;
	size_t na = split_lines(a, alen, &la), nb = split_lines(b, blen, &lb);
	int r = 0;

	if (!la || !lb || na != nb) {
		r = -EINVAL;
		goto out;
	}
	fprintf(f, "--- %s\n+++ %s\n", label, label);
	for (size_t i = 0; i < na;) {
		size_t first, last, start, end;

		while (i < na && line_equal(&la[i], &lb[i]))
			i++;
		if (i == na)
			break;
		first = last = i;
		/* changes less than 7 lines apart share a hunk */
		for (size_t j = i + 1; j < na && j <= last + 6; j++)
			if (!line_equal(&la[j], &lb[j]))
				last = j;
		start = first >= 3 ? first - 3 : 0;
		end = last + 4 < na ? last + 4 : na;
		fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", start + 1, end - start, start + 1, end - start);
		for (size_t j = start; j < end;) {
			size_t k = j;

			if (line_equal(&la[j], &lb[j])) {
				diff_line(f, ' ', &la[j++]);
				continue;
			}
			while (k < end && !line_equal(&la[k], &lb[k]))
				k++;
			for (size_t m = j; m < k; m++)
				diff_line(f, '-', &la[m]);
			for (size_t m = j; m < k; m++)
				diff_line(f, '+', &lb[m]);
			j = k;
		}
		i = end;
	}
out:
	free(la);
	free(lb);
	return r;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A backup of @path beside it, as it is now: a hard link (the original
 * inode, mode, owner and times unchanged), else a copy. CFG.vifmac-bak, or
 * the first free CFG.vifmac-bak.N: an existing backup is never replaced.
 */
static int make_backup(const char *path, const char *data, size_t len, const struct stat *st, char *ret_name,
		       size_t size)
{
	for (int n = 0; n < 100; n++) {
		int fd, r;

		if (n == 0)
			snprintf(ret_name, size, "%s.vifmac-bak", path);
		else
			snprintf(ret_name, size, "%s.vifmac-bak.%d", path, n);
		if (link(path, ret_name) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EPERM && errno != EXDEV && errno != EOPNOTSUPP && errno != EMLINK)
			return -errno;
		fd = open(ret_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		r = write_all(fd, data, len);
		if (r == 0 && (st->st_uid != geteuid() || st->st_gid != getegid()) && fchown(fd, st->st_uid, st->st_gid) < 0)
			r = -errno;
		if (r == 0 && fsync(fd) < 0)
			r = -errno;
		close(fd);
		if (r < 0)
			unlink(ret_name);
		return r;
	}
	return -EEXIST;
}

/* Replaces @path by @text atomically: a temporary file in the same folder with @st's mode and owner, renamed over it. */
static int write_atomic(const char *path, const char *text, size_t len, const struct stat *st)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *d;
	int fd, r = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	d = dirname(dir);
	if (snprintf(tmp, sizeof(tmp), "%s/.vifmac-fix-XXXXXX", d) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, len);
	if (r == 0 && fchmod(fd, st->st_mode & 07777) < 0)
		r = -errno;
	if (r == 0 && (st->st_uid != geteuid() || st->st_gid != getegid()) && fchown(fd, st->st_uid, st->st_gid) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd); /* the rename itself on disk; a failure here loses nothing already written */
		close(fd);
	}
	return 0;
}

/* What became of each vif, on stderr: one line per changed vif. */
static void print_changes(const char *path, const struct vifmac_fix *fix, bool set_mac)
{
	for (size_t i = 0; i < fix->n_vifs; i++) {
		const struct vifmac_fix_vif *v = &fix->vifs[i];
		char old[VIFMAC_MAC_STRLEN], want[VIFMAC_MAC_STRLEN];

		if (!v->changed)
			continue;
		if (v->decision.rule == VIFMAC_RULE_POOL)
			fprintf(stderr, "%s:%d: vif #%zu: mac=%s removed: the hook allocates from %s\n", path, v->line, i,
				vifmac_mac_format(&v->old_mac, old), v->decision.evidence);
		else if (set_mac && v->had_mac)
			fprintf(stderr, "%s:%d: vif #%zu: mac=%s becomes mac=%s (%s)\n", path, v->line, i,
				vifmac_mac_format(&v->old_mac, old), vifmac_mac_format(&v->decision.mac, want),
				v->decision.evidence);
		else if (set_mac)
			fprintf(stderr, "%s:%d: vif #%zu: mac=%s added (%s)\n", path, v->line, i,
				vifmac_mac_format(&v->decision.mac, want), v->decision.evidence);
		else
			fprintf(stderr, "%s:%d: vif #%zu: mac=%s removed: the hook gives %s (%s)\n", path, v->line, i,
				vifmac_mac_format(&v->old_mac, old), vifmac_mac_format(&v->decision.mac, want),
				v->decision.evidence);
	}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int fix_one(struct cli *cli, const char *path, unsigned flags, bool dry_run)
{
	struct vifmac_fix fix;
	struct stat before, after;
	char real[PATH_MAX], backup[PATH_MAX + 32];
	char *orig = NULL;
	size_t orig_len = 0;
	int r, rc = EXIT_OK;

	vifmac_fix_init(&fix);
	if (!realpath(path, real) || stat(real, &before) < 0) {
		int err = errno;

		cli_error("%s: %s", path, strerror(err));
		return err == ENOENT ? EXIT_USAGE : EXIT_SYSTEM;
	}
	r = vifmac_domcfg_fix(cli->ctx, path, flags, &fix);
	if (r == -EPERM) {
		for (size_t i = 0; i < fix.n_vifs; i++)
			if (fix.vifs[i].decision.refusal.kind != VIFMAC_REFUSAL_NONE)
				cli_error("%s:%d: vif #%zu refused (%s): %s", path, fix.vifs[i].line, i,
					  vifmac_refusal_kind_name(fix.vifs[i].decision.refusal.kind),
					  fix.vifs[i].decision.refusal.message);
		cli_error("%s: not changed", path);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (r < 0) {
		rc = cli_fail(cli, r, NULL);
		goto out;
	}
	if (!fix.changed) {
		fprintf(stderr, "%s: nothing to change\n", path);
		goto out;
	}
	{
		FILE *f = fopen(real, "re");

		if (f) {
			orig = malloc((size_t)before.st_size + 1);
			orig_len = orig ? fread(orig, 1, (size_t)before.st_size, f) : 0;
			fclose(f);
		}
		if (!orig || orig_len != (size_t)before.st_size) {
			cli_error("%s: cannot read it again", path);
			rc = EXIT_SYSTEM;
			goto out;
		}
	}
	if (print_diff(stdout, path, orig, orig_len, fix.text, fix.len) < 0) {
		cli_error("%s: the rewrite changed the number of lines: not written", path);
		rc = EXIT_SYSTEM;
		goto out;
	}
	print_changes(path, &fix, flags & VIFMAC_FIX_SET_MAC);
	if (dry_run)
		goto out;
	if (stat(real, &after) < 0 || !same_file(&before, &after)) {
		cli_error("%s: changed while it was being read: not written (run fix-config again)", path);
		rc = EXIT_SYSTEM;
		goto out;
	}
	r = make_backup(real, orig, orig_len, &before, backup, sizeof(backup));
	if (r < 0) {
		cli_error("%s: cannot make a backup%s: %s (not written)", path, r == -EEXIST ? " (100 backups exist)" : "",
			  strerror(-r));
		rc = EXIT_SYSTEM;
		goto out;
	}
	r = write_atomic(real, fix.text, fix.len, &before);
	if (r < 0) {
		cli_error("%s: cannot write: %s (unchanged; backup %s)", path, strerror(-r), backup);
		rc = EXIT_SYSTEM;
		goto out;
	}
	fprintf(stderr, "%s: written (backup %s)\n", path, backup);
out:
	free(orig);
	vifmac_fix_dispose(&fix);
	return rc;
}

int cmd_fix_config(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "set-mac", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned flags = 0;
	bool dry_run = false;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "nsh", opts, NULL)) >= 0) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 's':
			flags |= VIFMAC_FIX_SET_MAC;
			break;
		case 'h':
			printf("Usage: vifmac fix-config [--dry-run] [--set-mac] DOMAIN.cfg...\n"
			       "\n"
			       "Rewrites xl domain configs for the policy: each vif's mac= is removed, so\n"
			       "that vif-vifmac gives the policy's MAC (with --set-mac: set to the policy's\n"
			       "MAC, added where absent; needed for HVM guests, whose emulated NIC gets its\n"
			       "MAC from the config). Every other byte of the file stays. Prints a unified\n"
			       "diff; the original is kept as DOMAIN.cfg.vifmac-bak (or .vifmac-bak.N: an\n"
			       "existing backup is never replaced), the new file replaces it atomically with\n"
			       "the same mode and owner. --dry-run prints the diff and writes nothing.\n"
			       "A config it cannot decide for is refused, naming file:line and why.\n"
			       "\n"
			       "Exit status: 0 every config fixed (or nothing to change), 1 some refused,\n"
			       "2 bad usage or a malformed config, 3 a file could not be written.\n");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("fix-config: needs at least one DOMAIN.cfg");
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		int one = fix_one(cli, argv[i], flags, dry_run);

		if (one > rc)
			rc = one;
	}
	return rc;
}
