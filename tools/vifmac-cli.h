/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The vifmac command: shared by the subcommand files. */
#ifndef VIFMAC_CLI_H
#define VIFMAC_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "vifmac.h"

/* Exit statuses (vifmac(8), "EXIT STATUS"). */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,   /* policy refusal or conflict */
	EXIT_USAGE = 2,     /* bad usage or bad input */
	EXIT_SYSTEM = 3,    /* the registry or the system could not be used */
};

/* What every subcommand gets: the context with the policy loaded. */
struct cli {
	struct vifmac_ctx *ctx;
	const char *progname;   /* "vifmac" */
	const char *config;     /* --config, or NULL */
	const char *registry;   /* --registry URL, or NULL (the policy's) */
};

/* A subcommand: argv[0] is its name; getopt state is reset before the call. */
typedef int (*cli_cmd_fn)(struct cli *cli, int argc, char **argv);

/* Errors and warnings for the admin: "vifmac: <msg>" on stderr, control bytes escaped (cli_printf). */
void cli_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Human output holding text from the registry, xenstore or files: printf, but
 * every control byte (below 0x20, and DEL) but a final newline is written as
 * \xNN, so no ESC sequence or line break of theirs reaches a terminal or a log. */
int cli_printf(FILE *f, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* cli_printf into @buf (truncated to @size, always terminated). */
void cli_snprintf(char *buf, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
/*
 * Loads the policy: --config, else $VIFMAC_CONFIG, else the default file
 * (whose absence means the built-in defaults). Returns 0, or the exit status
 * with the reason in vifmac_ctx_last_error().
 */
int cli_load_policy(struct cli *cli);
/* Maps a negative errno from the library to an exit status. */
int cli_exit_for(int err);
/* The exit status of a refusal of this kind (vifmac(8), "EXIT STATUS"). */
int cli_exit_for_refusal(enum vifmac_refusal_kind kind);
/* Prints a library failure ("vifmac: <what>: <last error or strerror>") and returns the exit status. */
int cli_fail(struct cli *cli, int err, const char *what);
/*
 * Writes @s to @f as an xl config string in single quotes that libxlutil's
 * lexer reads back as @s: backslash, both quotes and control characters
 * escaped (a raw newline would end the statement; libxlutil reads "\\b" as
 * a backspace).
 */
void cli_xl_string(FILE *f, const char *s);
/*
 * The JSON writer (cli-json.c): streamed, one value after another, the
 * separators its own business. @spaced: ", " and ": " and each array item on
 * a line of its own (list, whois, export); else compact (plan, audit, ...).
 * A string written as NULL is "" (cli_json_str_or_null: null); cli_json_end
 * ends the document with a newline.
 */
#define CLI_JSON_MAX_DEPTH 8
struct cli_json {
	FILE *f;
	bool spaced;
	int depth;
	bool array[CLI_JSON_MAX_DEPTH], items[CLI_JSON_MAX_DEPTH];
	bool keyed; /* a key was written: its value follows without a separator */
};
void cli_json_start(struct cli_json *j, FILE *f, bool spaced);
void cli_json_open(struct cli_json *j, char bracket); /* '{' or '[' */
void cli_json_close(struct cli_json *j);
void cli_json_key(struct cli_json *j, const char *key);
void cli_json_str(struct cli_json *j, const char *s);
void cli_json_str_or_null(struct cli_json *j, const char *s);
void cli_json_int(struct cli_json *j, int64_t v);
void cli_json_uint(struct cli_json *j, uint64_t v);
void cli_json_bool(struct cli_json *j, bool v);
void cli_json_null(struct cli_json *j);
/* A member: its key, then its value. */
void cli_json_kstr(struct cli_json *j, const char *key, const char *s);
void cli_json_kstr_or_null(struct cli_json *j, const char *key, const char *s);
void cli_json_kint(struct cli_json *j, const char *key, int64_t v);
void cli_json_kuint(struct cli_json *j, const char *key, uint64_t v);
void cli_json_kbool(struct cli_json *j, const char *key, bool v);
void cli_json_knull(struct cli_json *j, const char *key);
void cli_json_end(struct cli_json *j);
/* After getopt: 0 when no operand follows the options, else EXIT_USAGE naming
 * the first one ("CMD: unexpected argument", CMD being argv[0]). */
int cli_no_operands(int argc, char **argv);
/* Opens the registry named by --registry or the policy. Returns 0, or the exit
 * status to return (the error has been printed). */
int cli_open_registry(struct cli *cli, struct vifmac_registry **ret_reg);
/* A command that takes no operands: EXIT_USAGE (said) when there are some, else cli_open_registry(). */
int cli_open_registry_only(struct cli *cli, int argc, char **argv, struct vifmac_registry **ret_reg);

/* Replaces @path at once with what @print writes (a negative errno from it
 * aborts): a new file of @mode under a random name in @path's folder, synced,
 * then renamed over @path. Symlinks planted in the folder are never followed.
 * Returns 0 or a negative errno; on error @path is unchanged. */
int cli_replace_file(const char *path, mode_t mode, int (*print)(FILE *f, void *data), void *data);

/* A time as "2026-11-23T20:01:07Z" in @buf, or "-" for none. Returns @buf. */
const char *cli_iso_time(int64_t t, char buf[32]);
/* @s, or "-" when NULL or empty (text output). */
const char *cli_dash(const char *s);
/*
 * The options of the commands that take no other: --help (prints @help:
 * returns -1) and --json where @json is not NULL. Returns 0, -1, or
 * EXIT_USAGE.
 */
int cli_simple_options(int argc, char **argv, bool *json, const char *help);

/* cmd-policy.c */
int cmd_derive(struct cli *cli, int argc, char **argv);
int cmd_plan(struct cli *cli, int argc, char **argv);
int cmd_xl_args(struct cli *cli, int argc, char **argv);

/* cmd-registry.c */
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_whois(struct cli *cli, int argc, char **argv);
int cmd_reserve(struct cli *cli, int argc, char **argv);
int cmd_release(struct cli *cli, int argc, char **argv);
int cmd_gc(struct cli *cli, int argc, char **argv);
/* One record as a JSON object: the export's record format, and list --json's. */
void cli_record_json(struct cli_json *j, const struct vifmac_record *rec);

/* cmd-export.c */
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);

/* cmd-migrate.c */
int cmd_migrate(struct cli *cli, int argc, char **argv);

/* cmd-pool.c */
int cmd_pool(struct cli *cli, int argc, char **argv);

/* cmd-audit.c */
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_seen(struct cli *cli, int argc, char **argv);
int cmd_watch(struct cli *cli, int argc, char **argv);

/* cmd-enforce.c */
int cmd_enforce(struct cli *cli, int argc, char **argv);
/* cmd-adopt.c */
int cmd_adopt(struct cli *cli, int argc, char **argv);
int cmd_fix_config(struct cli *cli, int argc, char **argv);

/* cli-hotplug.c: one hotplug run (online|offline|add|remove [type_if=vif|tap]) */
struct cli_hotplug_outcome {
	const char *chain; /* EXIT_OK: the network script to chain to (the policy's, owned by cli->ctx) */
	char line[1536];   /* a refusal: the admin's line (xl's output, the hotplug log, syslog), escaped */
	char guest[256];   /* a refusal: its short form for <backend>/hotplug-error, "" when it has none */
};
/*
 * Runs the decision for argv[1] (online, offline, add, remove) and its
 * type_if=, reading the toolstack's environment; what it did goes to stderr.
 * Returns EXIT_OK with @out->chain set, or the refusal's exit status with
 * @out->line (and @out->guest) set. An unplug (offline, remove) is refused
 * only for bad input: what it cannot do is logged, and it chains.
 */
int cli_hotplug(struct cli *cli, int argc, char **argv, struct cli_hotplug_outcome *out);

/* cmd-hotplug.c */
int cmd_hotplug(struct cli *cli, int argc, char **argv);
int cmd_network_attach(struct cli *cli, int argc, char **argv);

#endif
