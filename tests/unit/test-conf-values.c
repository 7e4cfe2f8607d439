/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/vifmac-conf-values.c against libxlutil on the same texts: every policy
 * fixture and fuzz corpus file in the tree, every xl config fixture, and
 * generated policy files (strings, numbers, lists, "+=", repeats, comments,
 * and what leaves the subset: escapes, nested lists, '\r', odd numbers,
 * syntax errors). Each is read both ways (the subset parser with its
 * fallback; libxlutil alone), and must give the same result code, the same
 * error text and the same value for every getter and key; and loaded as a
 * policy both ways (VIFMAC_CONF_READER=xlutil), the same policy or the same
 * error. With VIFMAC_TEST_WRITE_GENERATED=DIR the generated files are also
 * written there (for the old-versus-new binary comparison, docs/performance.md).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <sys/stat.h>

#include "testutil.h"
#include "vifmac-internal.h"

/* libxlutil's own leak on a syntax error inside a list (see tests/unit/test-conffile.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:xlu__cfg_string_mk\nleak:xlu__cfgl_dequote\nleak:xlu__cfg_list_mk\n";
}

#define N_GENERATED 600

static const char *const policy_keys[] = {
	"prefix", "private_bridges", "public_bridges", "unlisted_bridges", "bridge_prefixes", "no_ipv4",
	"explicit_mac", "scope", "wire_check", "registry", "registry_timeout_ms", "etcd_cacert", "etcd_cert",
	"etcd_key", "etcd_password_file", "etcd_user", "etcd_prefix", "etcd_timeout_ms", "etcd_request_timeout_ms",
	"etcd_proxy", "etcd_max_answer_mb", "host_name", "enforce", "enforce_failure", "enforce_exempt_bridges",
	"enforce_exempt_domains", "chain_script", "bridge_chain", "bridge_pools", "pool_quarantine", "public_table",
};

/* ---------------------------------------------------------------- the getters, both ways */

static void append(char **out, const char *format, ...) VIFMAC_PRINTF(2, 3);
static void append(char **out, const char *format, ...)
{
	char *more, *joined;
	va_list args;

	va_start(args, format);
	assert_true(vasprintf(&more, format, args) >= 0);
	va_end(args);
	assert_true(asprintf(&joined, "%s%s", *out ? *out : "", more) >= 0);
	free(more);
	free(*out);
	*out = joined;
}

/* Every word of @text that libxlutil could take as a key, and the policy's keys. */
static void describe_key(struct vifmac_conf *c, const char *key, char **out)
{
	struct vifmac_conf_list list;
	const char *s;
	long v;
	int r;

	r = vifmac_conf_get_string(c, key, &s);
	append(out, "%s: string %d <%s>", key, r, r == 0 ? s : "");
	r = vifmac_conf_get_long(c, key, &v);
	append(out, " long %d <%ld>", r, r == 0 ? v : 0);
	r = vifmac_conf_get_list(c, key, &list);
	append(out, " list %d", r);
	for (int i = 0; r == 0 && i < list.n; i++)
		append(out, " [%s]", list.items[i] ? list.items[i] : "(not a string)");
	append(out, "\n");
}

/* All a reader gives for @text: its result, its error, every getter on every key. */
static char *describe_conf(const char *text, size_t len, enum vifmac_conf_reader reader, bool *ret_by_xlutil)
{
	struct vifmac_conf *c = NULL;
	char err[1024] = "", *out = NULL;
	int r = vifmac_conf_read("t.conf", text, len, reader, err, sizeof(err), &c);

	append(&out, "read %d <%s>\n", r, err);
	*ret_by_xlutil = true;
	if (r < 0)
		return out;
	*ret_by_xlutil = vifmac_conf_read_by_xlutil(c);
	for (size_t i = 0; i < ARRAY_SIZE(policy_keys); i++)
		describe_key(c, policy_keys[i], &out);
	for (size_t i = 0; i < len;) {
		if (text[i] >= 'a' && text[i] <= 'z' && (i == 0 || !strchr("._0123456789abcdefghijklmnopqrstuvwxyz", text[i - 1]))) {
			size_t j = i;
			char *key;

			while (j < len && text[j] && strchr("._0123456789abcdefghijklmnopqrstuvwxyz", text[j]))
				j++;
			key = strndup(text + i, j - i);
			assert_non_null(key);
			describe_key(c, key, &out);
			free(key);
			i = j;
		} else {
			i++;
		}
	}
	vifmac_conf_free(c);
	return out;
}

/* ---------------------------------------------------------------- the policy, both ways */

static void describe_strv(char **out, const char *name, char **v, size_t n)
{
	append(out, "%s:", name);
	for (size_t i = 0; i < n; i++)
		append(out, " <%s>", v[i]);
	append(out, "\n");
}

static char *describe_policy(const char *path, const char *reader)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	const struct vifmac_policy *p;
	char *out = NULL;
	int r;

	assert_non_null(ctx);
	vifmac_ctx_set_log_fn(ctx, tu_quiet_log, NULL);
	if (reader)
		setenv("VIFMAC_CONF_READER", reader, 1);
	else
		unsetenv("VIFMAC_CONF_READER");
	r = vifmac_ctx_load_policy(ctx, path);
	unsetenv("VIFMAC_CONF_READER");
	append(&out, "load %d <%s>\n", r, r < 0 ? vifmac_ctx_last_error(ctx) : "");
	p = ctx->policy;
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(policy_keys); i++) {
		const char *s = vifmac_ctx_policy_string(ctx, policy_keys[i]);

		append(&out, "%s = <%s>\n", policy_keys[i], s ? s : "(none)");
	}
	if (r == 0) {
		append(&out, "prefix %zu %02x:%02x:%02x unlisted %d no_ipv4 %d explicit %d scope %d wire %d\n",
		       p->prefix_len, p->prefix[0], p->prefix[1], p->prefix[2], p->unlisted, p->no_ipv4, p->explicit_mac,
		       p->scope, p->wire_check);
		append(&out, "timeouts %d %d %d answer %d quarantine %lld enforce %d %d\n", p->registry_timeout_ms,
		       p->etcd.timeout_ms, p->etcd.request_timeout_ms, p->etcd.max_answer_mb,
		       (long long)p->pool_quarantine, p->enforce, p->enforce_failure);
		describe_strv(&out, "private", p->private_bridges, p->n_private);
		describe_strv(&out, "public", p->public_bridges, p->n_public);
		describe_strv(&out, "exempt bridges", p->enforce_exempt_bridges, p->n_enforce_exempt_bridges);
		describe_strv(&out, "exempt domains", p->enforce_exempt_domains, p->n_enforce_exempt_domains);
		for (size_t i = 0; i < p->n_bridge_prefixes; i++)
			append(&out, "bridge prefix %s %zu %02x%02x%02x\n", p->bridge_prefixes[i].bridge,
			       p->bridge_prefixes[i].len, p->bridge_prefixes[i].prefix[0],
			       p->bridge_prefixes[i].prefix[1], p->bridge_prefixes[i].prefix[2]);
		for (size_t i = 0; i < p->n_bridge_chains; i++)
			append(&out, "bridge chain %s %s\n", p->bridge_chains[i].bridge, p->bridge_chains[i].script);
		for (size_t i = 0; i < p->n_bridge_pools; i++)
			describe_strv(&out, p->bridge_pools[i].bridge, p->bridge_pools[i].pools, p->bridge_pools[i].n);
		if (p->public_table)
			for (size_t i = 0; i < p->public_table->n; i++)
				append(&out, "table %d.%d.%d.%d line %d\n", p->public_table->entries[i].ip.b[0],
				       p->public_table->entries[i].ip.b[1], p->public_table->entries[i].ip.b[2],
				       p->public_table->entries[i].ip.b[3], p->public_table->entries[i].line);
	}
	vifmac_ctx_unref(ctx);
	return out;
}

struct tally {
	int texts, by_subset, by_fallback, refused;
};

/*
 * @text read both ways and loaded as a policy both ways (a "%%" line starts
 * the public table written beside it as table.txt, as in tests/fuzz/).
 */
static void compare(const char *name, const char *text, size_t len, struct tally *t)
{
	char dir[] = "/tmp/vifmac-conf-XXXXXX", path[256], tpath[256];
	const char *split = NULL;
	size_t plen = len;
	bool auto_xlu, forced_xlu;
	char *a, *b;
	FILE *f;

	for (size_t i = 0; i + 3 <= len; i++)
		if ((i == 0 || text[i - 1] == '\n') && strncmp(text + i, "%%\n", 3) == 0) {
			split = text + i + 3;
			plen = i;
			break;
		}
	a = describe_conf(text, plen, VIFMAC_CONF_AUTO, &auto_xlu);
	b = describe_conf(text, plen, VIFMAC_CONF_XLUTIL, &forced_xlu);
	if (strcmp(a, b) != 0)
		fail_msg("%s: the subset parser and libxlutil differ\n--- subset:\n%s--- libxlutil:\n%s", name, a, b);
	assert_true(forced_xlu);
	t->texts++;
	if (strncmp(a, "read 0 ", 7) != 0)
		t->refused++;
	else if (auto_xlu)
		t->by_fallback++;
	else
		t->by_subset++;
	free(a);
	free(b);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vifmac.conf", dir);
	snprintf(tpath, sizeof(tpath), "%s/table.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, plen, f), plen);
	assert_int_equal(fclose(f), 0);
	f = fopen(tpath, "w");
	assert_non_null(f);
	if (split)
		assert_int_equal(fwrite(split, 1, len - (size_t)(split - text), f), len - (size_t)(split - text));
	assert_int_equal(fclose(f), 0);
	a = describe_policy(path, NULL);
	b = describe_policy(path, "xlutil");
	if (strcmp(a, b) != 0)
		fail_msg("%s: the policy differs\n--- subset:\n%s--- libxlutil:\n%s", name, a, b);
	free(a);
	free(b);
	unlink(path);
	unlink(tpath);
	rmdir(dir);
}

static void compare_folder(const char *folder, struct tally *t)
{
	DIR *d = opendir(folder);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[1024], *data;
		size_t len;
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", folder, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		assert_int_equal(vifmac_read_file(path, &data, &len), 0);
		if (!memchr(data, '\0', len))
			compare(path, data, len, t);
		free(data);
	}
	closedir(d);
}

static void test_common_policy_files_do_not_load_libxlutil(void **state)
{
	static const char text[] = "# the common case\nprefix = \"02:00\"\nprivate_bridges = [ \"xenbr0\",\n"
				   "  'xenlocal', # a comment\n]\nregistry_timeout_ms = 3000; scope = \"bridge\"\n";
	struct vifmac_ctx *ctx = tu_ctx_with_policy(text);
	struct vifmac_conf *c;
	char err[256];

	/* this test runs first: nothing has handed a text to libxlutil yet */
	assert_string_equal(vifmac_ctx_policy_string(ctx, "scope"), "bridge");
	assert_null(dlopen(XLUTIL_SONAME, RTLD_NOW | RTLD_NOLOAD));
	vifmac_ctx_unref(ctx);
	assert_int_equal(vifmac_conf_read("t", text, sizeof(text) - 1, VIFMAC_CONF_AUTO, err, sizeof(err), &c), 0);
	assert_false(vifmac_conf_read_by_xlutil(c));
	vifmac_conf_free(c);
	/* an escape leaves the subset: libxlutil reads the file, and is loaded for it */
	assert_int_equal(vifmac_conf_read("t", "a = \"x\\ty\"\n", 11, VIFMAC_CONF_AUTO, err, sizeof(err), &c), 0);
	assert_true(vifmac_conf_read_by_xlutil(c));
	vifmac_conf_free(c);
	assert_non_null(dlopen(XLUTIL_SONAME, RTLD_NOW | RTLD_NOLOAD));
}

static void test_fixtures_and_corpus_read_as_libxlutil_reads_them(void **state)
{
	static const char *const folders[] = { "", "/bad", "/xl", "/domains", "/fix-config", "/../fuzz/corpus/policy",
					       "/../fuzz/corpus/domcfg" };
	struct tally t = { 0 };

	for (size_t i = 0; i < ARRAY_SIZE(folders); i++) {
		char folder[512];

		snprintf(folder, sizeof(folder), "%s%s", TEST_DATA_DIR, folders[i]);
		compare_folder(folder, &t);
	}
	print_message("fixtures and corpus: %d texts, %d by the subset parser, %d handed to libxlutil, %d refused\n",
		      t.texts, t.by_subset, t.by_fallback, t.refused);
	assert_true(t.texts >= 59);
	/* both paths are exercised */
	assert_true(t.by_subset > 0 && t.by_fallback > 0 && t.refused > 0);
}

/* ---------------------------------------------------------------- generated policy files */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned pick(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

#define PICK(a) ((a)[pick(ARRAY_SIZE(a))])

static const char *const gen_keys[] = {
	"prefix", "private_bridges", "public_bridges", "unlisted_bridges", "bridge_prefixes", "no_ipv4",
	"explicit_mac", "scope", "wire_check", "registry", "registry_timeout_ms", "etcd_timeout_ms",
	"etcd_request_timeout_ms", "etcd_max_answer_mb", "etcd_prefix", "enforce", "enforce_failure",
	"enforce_exempt_bridges", "enforce_exempt_domains", "chain_script", "bridge_chain", "bridge_pools",
	"pool_quarantine", "host_name", "prefix", "scope", "private_bridges", "registry_timeout_ms",
	/* outside the table, or outside the syntax */
#define N_CLEAN_KEYS 30
	"vif.default.bridge", "unknown_key", "Prefix", "_x", "9key",
};

static const char *const gen_atoms[] = {
	"\"02:00\"", "'02:00:0a'", "\"06:00\"", "\"03:00\"", "\"xenbr0\"", "'xenbr1'", "\"xenpub\"", "\"private\"",
	"\"public\"", "\"refuse\"", "\"hash\"", "\"verify\"", "\"honour\"", "\"override\"", "\"global\"",
	"\"bridge\"", "\"warn\"", "\"off\"", "\"mac\"", "\"24h\"", "'90m'", "\"0\"", "\"sqlite:/var/lib/v.db\"",
	"\"etcd:https://192.0.2.1:2379\"", "\"/vifmac/\"", "\"vif-bridge\"", "\"host-1\"", "\"\"", "3000", "0x400",
	"010", "08", "0", "1a", "0x", "99999999999999999999", "\"5000\"", "\" 200\"", "\"-1\"", "\"+300\"",
	"\"12abc\"", "\"xen br\"", "\"a\\tb\"", "'it\\'s'", "\"\\x41\"", "\"\\101\"", "\"q\\\"\"", "\"caf\xc3\xa9\"",
	"\"xenpub=pool1,pool2\"", "\"xenbr0=02:00:0a\"", "\"xenbr0=vif-route\"", "\"web1\"",
	"\"00000000-0000-0000-0000-000000000001\"",
};

static const char *const gen_blanks[] = { " ", "", "\t", "  " };
#define N_CLEAN_ENDS 7 /* then '\r' (a lexical error) and nothing (a syntax error) */
static const char *const gen_ends[] = { "\n", "\n", "\n", ";", " ; ", "\n\n", " # a comment\n", "\r\n", "" };

/* Three files in four keep to valid syntax (values and policy errors still vary); the fourth may break it. */
static bool gen_clean;

#define PICK_CLEAN(a, n_clean) ((a)[pick(gen_clean ? (n_clean) : ARRAY_SIZE(a))])

static void gen_value(char **out, int depth)
{
	unsigned kind = pick(10);

	if (kind < 5 || depth > 1) {
		append(out, "%s", PICK(gen_atoms));
		return;
	}
	append(out, "[%s", pick(3) ? " " : "\n  ");
	for (unsigned i = 0, n = pick(4); i < n; i++) {
		if (!gen_clean && pick(12) == 0)
			gen_value(out, depth + 1); /* a list in the list, now and then */
		else
			append(out, "%s", PICK(gen_atoms));
		if (i + 1 < n || pick(3) == 0)
			append(out, "%s", pick(8) ? ", " : ",\n # inside\n  ");
		else if (pick(6) == 0)
			append(out, "\n");
	}
	append(out, "%s", gen_clean || pick(15) ? " ]" : " ,, ]");
}

static char *gen_policy(void)
{
	char *out = NULL;

	gen_clean = pick(4) != 0;
	append(&out, "%s", pick(4) ? "" : "# generated\n");
	for (unsigned i = 0, n = pick(7); i < n; i++) {
		append(&out, "%s%s%s", PICK(gen_blanks), PICK_CLEAN(gen_keys, N_CLEAN_KEYS), PICK(gen_blanks));
		append(&out, "%s", pick(6) ? "=" : gen_clean || pick(4) ? "+=" : "=+");
		append(&out, "%s", PICK(gen_blanks));
		gen_value(&out, 0);
		append(&out, "%s", i + 1 < n ? PICK_CLEAN(gen_ends, N_CLEAN_ENDS) : pick(4) ? "\n" : gen_clean || pick(2) ? "" : " # no newline");
	}
	return out ? out : strdup("");
}

static void test_generated_policies_read_as_libxlutil_reads_them(void **state)
{
	const char *write_dir = getenv("VIFMAC_TEST_WRITE_GENERATED");
	struct tally t = { 0 };

	for (int i = 0; i < N_GENERATED; i++) {
		char *text = gen_policy(), name[64];

		snprintf(name, sizeof(name), "generated-%03d.conf", i);
		if (write_dir) {
			char path[512];
			FILE *f;

			snprintf(path, sizeof(path), "%s/%s", write_dir, name);
			f = fopen(path, "w");
			assert_non_null(f);
			fputs(text, f);
			assert_int_equal(fclose(f), 0);
		}
		compare(name, text, strlen(text), &t);
		free(text);
	}
	print_message("generated: %d texts, %d by the subset parser, %d handed to libxlutil, %d refused\n", t.texts,
		      t.by_subset, t.by_fallback, t.refused);
	assert_true(t.by_subset >= N_GENERATED / 10 && t.by_fallback > 0 && t.refused > 0);
}

/* The semantics the subset parser reproduces, spelled out (the comparisons above cover them too). */
static void test_subset_semantics(void **state)
{
	static const char text[] = "a = 1\na = \"2\"\ns = 'x'; s += \"y\"\nl = [ \"p\" ]\nl += [ 'q', ]\nn += 5\n"
				   "h = 0x10\no = 010\nsp = \" 7\"\n";
	struct vifmac_conf *c;
	struct vifmac_conf_list list;
	const char *s;
	char err[256];
	long v;

	assert_int_equal(vifmac_conf_read("t", text, sizeof(text) - 1, VIFMAC_CONF_AUTO, err, sizeof(err), &c), 0);
	assert_false(vifmac_conf_read_by_xlutil(c));
	assert_int_equal(vifmac_conf_get_long(c, "a", &v), 0); /* the last assignment wins */
	assert_int_equal(v, 2);
	assert_int_equal(vifmac_conf_get_string(c, "s", &s), 0);
	assert_string_equal(s, "xy");
	assert_int_equal(vifmac_conf_get_list(c, "l", &list), 0);
	assert_int_equal(list.n, 2);
	assert_string_equal(list.items[1], "q");
	assert_int_equal(vifmac_conf_get_string(c, "l", &s), -EINVAL);
	assert_int_equal(vifmac_conf_get_list(c, "s", &list), -EINVAL);
	assert_int_equal(vifmac_conf_get_long(c, "n", &v), -EINVAL); /* libxlutil: "can't use += with numbers" */
	assert_int_equal(vifmac_conf_get_string(c, "n", &s), 0);
	assert_int_equal(vifmac_conf_get_long(c, "h", &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(vifmac_conf_get_long(c, "o", &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(vifmac_conf_get_long(c, "sp", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(vifmac_conf_get_string(c, "missing", &s), -ESRCH);
	vifmac_conf_free(c);
	/* a syntax error: libxlutil's message, whole */
	assert_int_equal(vifmac_conf_read("t", "a = = 1\n", 8, VIFMAC_CONF_AUTO, err, sizeof(err), &c), -EINVAL);
	assert_string_equal(err, "t:1: config parsing error near `=': syntax error, unexpected '=', expecting STRING or NUMBER or '['");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_policy_files_do_not_load_libxlutil),
		cmocka_unit_test(test_subset_semantics),
		cmocka_unit_test(test_fixtures_and_corpus_read_as_libxlutil_reads_them),
		cmocka_unit_test(test_generated_policies_read_as_libxlutil_reads_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
