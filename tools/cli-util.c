/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the vifmac subcommands. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vifmac-cli.h"

void cli_error(const char *format, ...)
{
	va_list args;

	fputs("vifmac: ", stderr);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
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

void cli_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
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
