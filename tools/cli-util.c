/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the vifmac subcommands. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vifmac-cli.h"

/* @format with @args, control bytes shown as \xNN but for a final newline:
 * a malloc'd string, or NULL when out of memory. */
static char *escaped(const char *format, va_list args)
{
	char *text, *out, *o;
	int n = vasprintf(&text, format, args);

	if (n < 0)
		return NULL;
	out = malloc((size_t)n * 4 + 1);
	if (!out) {
		free(text);
		return NULL;
	}
	/* text from the registry (notes, imported or etcd records) or xenstore
	 * must not move a terminal's cursor, set its title or forge lines */
	o = out;
	for (int i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if ((c < 0x20 && !(c == '\n' && i == n - 1)) || c == 0x7f)
			o += sprintf(o, "\\x%02x", c);
		else
			*o++ = (char)c;
	}
	*o = '\0';
	free(text);
	return out;
}

static int print_escaped(FILE *f, const char *format, va_list args)
{
	char *text = escaped(format, args);
	int n;

	if (!text)
		return -1;
	n = fputs(text, f) < 0 ? -1 : (int)strlen(text);
	free(text);
	return n;
}

int cli_printf(FILE *f, const char *format, ...)
{
	va_list args;
	int n;

	va_start(args, format);
	n = print_escaped(f, format, args);
	va_end(args);
	return n;
}

void cli_snprintf(char *buf, size_t size, const char *format, ...)
{
	va_list args;
	char *text;

	va_start(args, format);
	text = escaped(format, args);
	va_end(args);
	snprintf(buf, size, "%s", text ? text : "(out of memory)");
	free(text);
}

void cli_error(const char *format, ...)
{
	va_list args;

	fputs("vifmac: ", stderr);
	va_start(args, format);
	print_escaped(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
}

int cli_load_policy(struct cli *cli)
{
	const char *path = cli->config ? cli->config : secure_getenv("VIFMAC_CONFIG");
	int r;

	if (path && !*path)
		path = NULL;
	r = vifmac_ctx_load_policy(cli->ctx, path);
	if (r == -ENOENT && !path) {
		/* no /etc/xen/vifmac.conf: the built-in defaults apply */
		return 0;
	}
	if (r < 0)
		return r == -EINVAL || r == -ENOENT ? EXIT_USAGE : EXIT_SYSTEM;
	return 0;
}

int cli_exit_for(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -EPERM:
	case -EEXIST:
		return EXIT_REFUSED;
	case -EINVAL:
	case -ENOENT:
	case -E2BIG:
	case -EFBIG:
		return EXIT_USAGE;
	default:
		return EXIT_SYSTEM;
	}
}

int cli_exit_for_refusal(enum vifmac_refusal_kind kind)
{
	switch (kind) {
	case VIFMAC_REFUSAL_INPUT:
		return EXIT_USAGE;
	case VIFMAC_REFUSAL_UNAVAILABLE:
		return EXIT_SYSTEM;
	default:
		return EXIT_REFUSED;
	}
}

int cli_fail(struct cli *cli, int err, const char *what)
{
	const char *detail = vifmac_ctx_last_error(cli->ctx);

	if (detail && *detail)
		cli_error("%s%s%s", what ? what : "", what ? ": " : "", detail);
	else
		cli_error("%s%s%s", what ? what : "", what ? ": " : "", strerror(-err));
	return cli_exit_for(err);
}

void cli_xl_string(FILE *f, const char *s)
{
	/* the escapes xlu__cfgl_dequote knows; its \x and octal ones are broken in 4.17 (nothing is stored) */
	static const char raw[] = "\\'\"\a\b\f\n\r\t\v", esc[] = "\\'\"abfnrtv";

	fputc('\'', f);
	for (const char *p = s; *p; p++) {
		const char *e = strchr(raw, *p);

		if (e)
			fprintf(f, "\\%c", esc[e - raw]);
		else
			fputc(*p, f);
	}
	fputc('\'', f);
}

int cli_no_operands(int argc, char **argv)
{
	if (optind >= argc)
		return 0;
	cli_error("%s: unexpected argument \"%s\"", argv[0], argv[optind]);
	return EXIT_USAGE;
}

int cli_open_registry(struct cli *cli, struct vifmac_registry **ret_reg)
{
	const char *url = cli->registry ? cli->registry : vifmac_ctx_registry_url(cli->ctx);
	int r = vifmac_registry_open(cli->ctx, url, ret_reg);

	if (r < 0)
		return cli_fail(cli, r, "registry");
	return 0;
}

int cli_open_registry_only(struct cli *cli, int argc, char **argv, struct vifmac_registry **ret_reg)
{
	if (cli_no_operands(argc, argv))
		return EXIT_USAGE;
	return cli_open_registry(cli, ret_reg);
}

int cli_replace_file(const char *path, mode_t mode, int (*print)(FILE *f, void *data), void *data)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path) + 1 : 0;
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, r;

	/* The folder may belong to someone else (node-exporter's textfile folder):
	 * a predictable temporary name there could be a planted symlink, so the
	 * name is random and created with O_EXCL (mkostemp), and only rename()
	 * touches @path, replacing whatever entry is there without following it.
	 * The name starts with "." and does not end in ".prom", so node_exporter's
	 * textfile collector never reads a half-written file. */
	if (asprintf(&tmp, "%.*s.%s.XXXXXX", dirlen, path, base) < 0) {
		tmp = NULL;
		r = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, mode) < 0 || !(f = fdopen(fd, "w"))) {
		r = -errno;
		goto out;
	}
	fd = -1;
	r = print(f, data);
	if (r < 0)
		goto out;
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	r = fclose(f);
	f = NULL;
	if (r != 0 || rename(tmp, path) < 0) {
		r = -errno;
		goto out;
	}
	free(tmp);
	tmp = NULL;
	r = 0;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return r;
}

const char *cli_iso_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "-");
	return buf;
}

const char *cli_dash(const char *s)
{
	return s && *s ? s : "-";
}

int cli_simple_options(int argc, char **argv, bool *json, const char *help)
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
