/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one JSON writer of the vifmac command: every --json output and the
 * export go through it, streamed (a registry of 150,000 records is never
 * built in memory), with the escaping and the separators written once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "vifmac-cli.h"

static void put_string(FILE *f, const char *s)
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

void cli_json_start(struct cli_json *j, FILE *f, bool spaced)
{
	*j = (struct cli_json){ .f = f, .spaced = spaced };
}

/* The separator before a value (none right after its key) or a key. */
static void next_item(struct cli_json *j)
{
	int d = j->depth - 1;

	if (j->keyed) {
		j->keyed = false;
		return;
	}
	if (d < 0)
		return;
	if (j->items[d])
		fputs(!j->spaced ? "," : j->array[d] ? ",\n  " : ", ", j->f);
	else if (j->spaced && j->array[d])
		fputs("\n  ", j->f);
	j->items[d] = true;
}

void cli_json_open(struct cli_json *j, char bracket)
{
	next_item(j);
	fputc(bracket, j->f);
	if (j->depth == CLI_JSON_MAX_DEPTH)
		abort(); /* the command's own documents are shallow: a bug here */
	j->array[j->depth] = bracket == '[';
	j->items[j->depth] = false;
	j->depth++;
}

void cli_json_close(struct cli_json *j)
{
	int d = --j->depth;

	if (j->spaced && j->array[d] && j->items[d])
		fputc('\n', j->f);
	fputc(j->array[d] ? ']' : '}', j->f);
}

void cli_json_key(struct cli_json *j, const char *key)
{
	next_item(j);
	put_string(j->f, key);
	fputs(j->spaced ? ": " : ":", j->f);
	j->keyed = true;
}

void cli_json_str(struct cli_json *j, const char *s)
{
	next_item(j);
	put_string(j->f, s);
}

void cli_json_str_or_null(struct cli_json *j, const char *s)
{
	if (s)
		cli_json_str(j, s);
	else
		cli_json_null(j);
}

void cli_json_int(struct cli_json *j, int64_t v)
{
	next_item(j);
	fprintf(j->f, "%" PRId64, v);
}

void cli_json_uint(struct cli_json *j, uint64_t v)
{
	next_item(j);
	fprintf(j->f, "%" PRIu64, v);
}

void cli_json_bool(struct cli_json *j, bool v)
{
	next_item(j);
	fputs(v ? "true" : "false", j->f);
}

void cli_json_null(struct cli_json *j)
{
	next_item(j);
	fputs("null", j->f);
}

void cli_json_kstr(struct cli_json *j, const char *key, const char *s)
{
	cli_json_key(j, key);
	cli_json_str(j, s);
}

void cli_json_kstr_or_null(struct cli_json *j, const char *key, const char *s)
{
	cli_json_key(j, key);
	cli_json_str_or_null(j, s);
}

void cli_json_kint(struct cli_json *j, const char *key, int64_t v)
{
	cli_json_key(j, key);
	cli_json_int(j, v);
}

void cli_json_kuint(struct cli_json *j, const char *key, uint64_t v)
{
	cli_json_key(j, key);
	cli_json_uint(j, v);
}

void cli_json_kbool(struct cli_json *j, const char *key, bool v)
{
	cli_json_key(j, key);
	cli_json_bool(j, v);
}

void cli_json_knull(struct cli_json *j, const char *key)
{
	cli_json_key(j, key);
	cli_json_null(j);
}

void cli_json_end(struct cli_json *j)
{
	fputc('\n', j->f);
}
