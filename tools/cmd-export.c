/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vifmac export and import: the registry as JSON, for backups and moving
 * hosts. Written by the CLI's JSON writer, read back with json-c.
 *
 * json-c is linked here, not dlopen()ed as the etcd backend does with
 * libcurl: it is one small library that needs only libc, and the vifmac
 * process (the hotplug helper included) starts no slower with it linked
 * (docs/performance.md, "json-c in the CLI"); libcurl brings some 30 shared
 * objects.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vifmac-cli.h"

#define EXPORT_FORMAT "vifmac-registry"
#define EXPORT_VERSION 1
/* deeper than any export (3): anything nested further is not one */
#define IMPORT_MAX_DEPTH 16

/* ---------------------------------------------------------------- export */

static int export_record(void *data, const struct vifmac_record *rec)
{
	cli_record_json(data, rec);
	return 0;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
	struct vifmac_registry *reg;
	const struct vifmac_sys_ops *sys;
	struct cli_json j;
	void *sys_data;
	char host[256] = "";
	int r;

	r = cli_simple_options(argc, argv, NULL,
			       "Usage: vifmac export > FILE\n"
			       "\n"
			       "Writes every record of the registry as JSON on standard output, for backups\n"
			       "and moving hosts. vifmac import reads it back.\n");
	if (r != 0)
		return r < 0 ? EXIT_OK : r;
	r = cli_open_registry_only(cli, argc, argv, &reg);
	if (r != 0)
		return r;
	sys = vifmac_ctx_get_sys(cli->ctx, &sys_data);
	if (!sys->hostname || sys->hostname(sys_data, host, sizeof(host)) < 0)
		host[0] = '\0';
	cli_json_start(&j, stdout, true);
	cli_json_open(&j, '{');
	cli_json_kstr(&j, "format", EXPORT_FORMAT);
	cli_json_kint(&j, "version", EXPORT_VERSION);
	cli_json_kint(&j, "exported", (int64_t)time(NULL));
	cli_json_kstr(&j, "host", host);
	cli_json_key(&j, "records");
	cli_json_open(&j, '[');
	r = vifmac_registry_list(reg, export_record, &j);
	cli_json_close(&j);
	cli_json_close(&j);
	cli_json_end(&j);
	if (r < 0)
		r = cli_fail(cli, r, "export");
	vifmac_registry_close(reg);
	return r;
}

/* ---------------------------------------------------------------- import: reading the file */

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

/* Reads a whole stream of at most IMPORT_MAX_BYTES (else NULL, errno EFBIG); *@ret_len its length. */
static char *slurp(FILE *f, size_t *ret_len)
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
	*ret_len = len;
	return buf;
}

/* ---------------------------------------------------------------- import: what json-c does not check */

static int line_at(const char *text, size_t offset)
{
	int line = 1;

	for (size_t i = 0; i < offset && text[i]; i++)
		line += text[i] == '\n';
	return line;
}

/* The key that a string token (@start just after its quote, @end at the closing one) spells. */
static char *key_text(const char *start, const char *end, bool escaped)
{
	json_object *o;
	char *s;

	if (!escaped)
		return strndup(start, (size_t)(end - start));
	/* an escaped key: json-c decodes the token, quotes included */
	s = strndup(start - 1, (size_t)(end - start + 2));
	o = s ? json_tokener_parse(s) : NULL;
	free(s);
	s = o ? strdup(json_object_get_string(o)) : NULL;
	json_object_put(o);
	return s;
}

/*
 * json-c keeps the last of two equal keys, reads control characters in a
 * string as they are, "\u0000" as a NUL inside the string and 'keys' in
 * single quotes: JSON (RFC 8259) allows none of them but the first, and a
 * vifmac export holds none, so in a file json-c accepted they are refused
 * here, in one pass, naming the line. Returns 0, -EINVAL with @err, -ENOMEM.
 */
static int check_lexically(const char *text, char *err, size_t errsize)
{
	json_object *keys[IMPORT_MAX_DEPTH + 2] = { NULL }; /* per open container: an object's keys, NULL for an array */
	int depth = 0, line = 1, r = 0;

	for (const char *p = text; *p && r == 0; p++) {
		if (*p == '\n') {
			line++;
		} else if (*p == '\'') {
			/* json-c takes 'keys' even in strict mode */
			snprintf(err, errsize, "line %d: a string in single quotes", line);
			r = -EINVAL;
		} else if (*p == '{' || *p == '[') {
			if (depth == IMPORT_MAX_DEPTH + 1)
				break; /* json-c refused deeper ones already */
			keys[depth] = *p == '{' ? json_object_new_object() : NULL;
			if (*p == '{' && !keys[depth])
				r = -ENOMEM;
			depth++;
		} else if ((*p == '}' || *p == ']') && depth > 0) {
			json_object_put(keys[--depth]);
			keys[depth] = NULL;
		} else if (*p == '"') {
			const char *start = p + 1, *q;
			bool escaped = false;

			for (q = start; r == 0 && *q && *q != '"'; q++) {
				if ((unsigned char)*q < 0x20) {
					snprintf(err, errsize, "line %d: control character in a string", line);
					r = -EINVAL;
				} else if (*q == '\\') {
					escaped = true;
					if (strncmp(q + 1, "u0000", 5) == 0) {
						snprintf(err, errsize, "line %d: bad escape in a string (\\u0000)", line);
						r = -EINVAL;
					}
					q++;
				}
			}
			p = q;
			if (r == 0 && depth > 0 && keys[depth - 1]) {
				const char *c = q + 1;
				char *key;

				c += strspn(c, " \t\r\n");
				if (*c != ':')
					continue; /* a value, not a key */
				key = key_text(start, q, escaped);
				if (!key) {
					r = -ENOMEM;
				} else if (json_object_object_get_ex(keys[depth - 1], key, NULL)) {
					snprintf(err, errsize, "line %d: duplicate key \"%.64s\"", line, key);
					r = -EINVAL;
				} else if (json_object_object_add(keys[depth - 1], key, NULL) < 0) {
					r = -ENOMEM;
				}
				free(key);
			}
		}
	}
	while (depth > 0)
		json_object_put(keys[--depth]);
	return r;
}

/* Parses @text strictly (RFC 8259: no comments, no trailing text). Returns the document or NULL with @err. */
static json_object *parse_document(const char *text, size_t len, char *err, size_t errsize, int *ret_err)
{
	json_tokener *tok = json_tokener_new_ex(IMPORT_MAX_DEPTH);
	enum json_tokener_error e;
	json_object *doc;
	int r;

	if (!tok) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	doc = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	if (!doc || e != json_tokener_success) {
		/* "continue": the text ended inside the document */
		snprintf(err, errsize, "line %d: %s", line_at(text, json_tokener_get_parse_end(tok)),
			 e == json_tokener_continue ? "unexpected end of the document" : json_tokener_error_desc(e));
		json_object_put(doc);
		json_tokener_free(tok);
		*ret_err = -EINVAL;
		return NULL;
	}
	json_tokener_free(tok);
	r = check_lexically(text, err, errsize);
	if (r < 0) {
		json_object_put(doc);
		*ret_err = r;
		return NULL;
	}
	return doc;
}

/* ---------------------------------------------------------------- import: records */

static json_object *field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Record @idx's @key of json-c @type in *@ret: 0 (*@ret NULL when absent, not @required), or -EINVAL said. */
static int record_field(json_object *o, const char *key, enum json_type type, size_t idx, bool required,
			json_object **ret)
{
	json_object *v = field(o, key);

	*ret = v;
	if (!v && required) {
		cli_error("import: record %zu: \"%s\" is missing", idx, key);
		return -EINVAL;
	}
	/* an integer of 64 bits: json-c reads larger ones as unsigned */
	if (v && (!json_object_is_type(v, type) ||
		  (type == json_type_int && json_object_get_int64(v) == INT64_MAX &&
		   json_object_get_uint64(v) != (uint64_t)INT64_MAX))) {
		cli_error("import: record %zu: \"%s\" must be %s", idx, key,
			  type == json_type_int ? "an integer" : "a string");
		return -EINVAL;
	}
	return 0;
}

static int field_string(json_object *o, const char *key, char *buf, size_t size, size_t idx, bool required)
{
	json_object *v;

	if (record_field(o, key, json_type_string, idx, required, &v) < 0)
		return -EINVAL;
	if (!v)
		return 0;
	if ((size_t)json_object_get_string_len(v) >= size) {
		cli_error("import: record %zu: \"%s\" is longer than %zu bytes", idx, key, size - 1);
		return -EINVAL;
	}
	strcpy(buf, json_object_get_string(v));
	return 0;
}

static int field_int(json_object *o, const char *key, int64_t *ret, size_t idx, bool required)
{
	json_object *v;

	if (record_field(o, key, json_type_int, idx, required, &v) < 0)
		return -EINVAL;
	if (v)
		*ret = json_object_get_int64(v);
	return 0;
}

static int record_from_json(json_object *o, size_t idx, struct vifmac_record *rec)
{
	static const char *const known[] = { "mac",  "scope", "state",   "domain",  "uuid", "devid",  "bridge",
					     "ip",   "host",  "created", "updated", "note", "source" };
	char mac[VIFMAC_MAC_STRLEN], state[16] = "active";
	int64_t devid = -1;
	bool reserved;

	if (!json_object_is_type(o, json_type_object)) {
		cli_error("import: record %zu is not an object", idx);
		return -EINVAL;
	}
	json_object_object_foreach(o, key, val) {
		bool ok = false;

		(void)val;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			ok = ok || strcmp(key, known[k]) == 0;
		if (!ok) {
			cli_error("import: record %zu: unknown key \"%s\"", idx, key);
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
	cli_iso_time(h->created, since);
	if (h->state == VIFMAC_STATE_RESERVED)
		cli_error("import: %s (scope %s) conflicts: reserved in the registry: %s (host %s, since %s)", mac,
			  rec->scope_key, cli_dash(h->note), cli_dash(h->host), since);
	else
		cli_error("import: %s (scope %s) conflicts: held by domain %s (uuid %s, devid %d, scope %s) on host %s "
			  "since %s",
			  mac, rec->scope_key, cli_dash(h->domain), cli_dash(h->uuid), h->devid, h->scope_key,
			  cli_dash(h->host), since);
	return 0;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	struct vifmac_registry *reg = NULL;
	struct vifmac_record *recs = NULL;
	json_object *doc = NULL, *v, *list;
	const char *path = "-";
	size_t conflicts = 0, n = 0, len = 0, n_list;
	char *text, err[160];
	FILE *f;
	int r;

	r = cli_simple_options(argc, argv, NULL,
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
	text = slurp(f, &len);
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
	doc = parse_document(text, len, err, sizeof(err), &r);
	if (!doc) {
		cli_error("import: %s: %s", strcmp(path, "-") == 0 ? "<stdin>" : path, r == -EINVAL ? err : strerror(-r));
		r = r == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE;
		goto out;
	}
	r = EXIT_USAGE;
	if (!json_object_is_type(doc, json_type_object) || !(v = field(doc, "format")) ||
	    !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), EXPORT_FORMAT) != 0) {
		cli_error("import: %s is not a vifmac export (no \"format\": \"%s\")", path, EXPORT_FORMAT);
		goto out;
	}
	v = field(doc, "version");
	if (!v || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) != EXPORT_VERSION) {
		cli_error("import: %s: export version %lld, this vifmac reads version %d", path,
			  v && json_object_is_type(v, json_type_int) ? (long long)json_object_get_int64(v) : -1LL,
			  EXPORT_VERSION);
		goto out;
	}
	list = field(doc, "records");
	if (!list || !json_object_is_type(list, json_type_array)) {
		cli_error("import: %s: \"records\" must be an array", path);
		goto out;
	}
	n_list = json_object_array_length(list);
	recs = calloc(n_list ? n_list : 1, sizeof(*recs));
	if (!recs) {
		cli_error("import: out of memory");
		r = EXIT_SYSTEM;
		goto out;
	}
	for (n = 0; n < n_list; n++)
		if (record_from_json(json_object_array_get_idx(list, n), n, &recs[n]) < 0)
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
	json_object_put(doc);
	free(text);
	return r;
}
