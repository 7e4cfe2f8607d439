/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/vifmac-conffile.c against libxlutil on the same inputs. The scanner
 * (vifmac_conf_index_*) must find exactly the keys libxlutil defines, the
 * items of each list in libxlutil's order, and the lines libxlutil itself
 * counts: a line is checked by planting a syntax error where the index says
 * a key or an item stands and reading the line libxlutil reports. Inputs
 * libxlutil refuses are refused through vifmac_xlu with libxlutil's line.
 * Also the file reader (regular files only, 4 MiB at most).
 */
#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>

#include "testutil.h"
#include "vifmac-internal.h"

/*
 * Under ASan: libxlutil's own leak on a syntax error inside a list (the
 * parser's strings and lists; see tests/fuzz/lsan.supp and
 * tests/valgrind/xlutil.supp), which this test provokes on purpose.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:xlu__cfg_string_mk\nleak:xlu__cfgl_dequote\nleak:xlu__cfg_list_mk\n";
}

/* Inputs libxlutil accepts: every feature of the syntax the scanner has to follow. */
static const char *const good[] = {
	"a = \"x\"\nb = 1\n",
	"# a comment\na = \"x\" # trailing\n\n# b = \"in a comment\"\nb = 'y'\n",
	"a = \"x\"; b = \"y\"\nc=3;\n",
	"   indented = \"x\"\n\t\ttabbed\t=\t'y'\n",
	"l = [ \"a\",\n  \"b\", # comment inside\n\n \"c\" ]\nafter = \"z\"\n",
	"s = \"a\\\"b\\\\c\\n\"\nt = 'it\\'s'\nu = \"x\"\n",
	"n = 0x1f\nm = 010\nk = \"3.5\"\n",
	"l = [ 1, \"a\", 2 ]\nnext = \"b\"\n",
	"a = \"1\"\nb = \"2\"\na = \"3\"\n",
	"l = [ \"a\" ]\nl += [ \"b\",\n \"c\" ]\nother = [ \"d\" ]\n",
	"l = [ \"x\" ]\nl = [ \"a\" ]\nl += [ \"b\" ]\n",
	"vif.default.script = \"vif-bridge\"\nvif.default.bridge = 'xenbr0'\n",
	"e = []\nt = [ \"a\", ]\nq = [ [ \"x\", \"y\" ], \"z\" ]\nr = \"w\"\n",
	"a = \"#[x\" ; b = \"]\" ; c = ';'\n",
	"a = \"x\"",
	"\n\n\n\na = \"late\"\n",
	"s += \"x\"\n",
	"a_1 = \"x\"\nb2 = [ 'p', \"q\" ]\n",
	"l = [\n\"a\"\n,\n\"b\"\n]\nz = 1\n",
};

/* Inputs libxlutil refuses, and the line it names. */
static const struct {
	const char *text;
	int line;
} bad[] = {
	{ "a = \"x\" \"y\"\n", 1 },
	{ "a = \"x\"\n\nb = ]\n", 3 },
	{ "a = \"x\"\n@b = 1\n", 2 },
	{ "l = [ \"a\",\n \"b\"\n", 2 },
	{ "a = \"unterminated\nb = 1\n", 1 },
	{ "Upper = \"x\"\n", 1 },
	{ "k = 3.5\n", 1 },
	{ "a = \"x\"\r\nb = \"y\"\r\n", 1 },
	{ "a = \"x\"\nl = [ \"a\" \"b\" ]\n", 2 },
	{ "ok = 1\n_b = \"y\"\n", 2 },
};

struct xlu_run {
	struct vifmac_xlu x;
	int rc;
	int line; /* the line libxlutil reported, or -1 */
};

static void xlu_run(const char *text, size_t len, struct xlu_run *ret)
{
	const char *msg;

	assert_int_equal(vifmac_xlu_open(&ret->x, "corpus"), 0);
	ret->rc = xlu_cfg_readdata(ret->x.xc, text, (int)len);
	ret->line = -1;
	msg = vifmac_xlu_report(&ret->x, NULL);
	/* "corpus:LINE: config parsing error near ..." (warnings come first on their own lines) */
	for (const char *p = ret->x.report; p && (p = strstr(p, "corpus:")); p++)
		if (sscanf(p, "corpus:%d:", &ret->line) == 1)
			break;
	(void)msg;
}

/* The line libxlutil reports for @text with @insert put in at @offset. */
static int line_with(const char *text, size_t offset, const char *insert)
{
	size_t len = strlen(text), il = strlen(insert);
	char *t = malloc(len + il + 1);
	struct xlu_run run;

	assert_non_null(t);
	memcpy(t, text, offset);
	memcpy(t + offset, insert, il);
	memcpy(t + offset + il, text + offset, len - offset + 1);
	xlu_run(t, len + il, &run);
	assert_int_not_equal(run.rc, 0);
	vifmac_xlu_close(&run.x);
	free(t);
	return run.line;
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* The offset of key @k's name in @text (on its line, where an assignment follows). */
static size_t key_offset(const char *text, const struct vifmac_conf_key *k)
{
	const char *p = text;
	size_t nl = strlen(k->name);

	for (int line = 1; line < k->line; line++) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	for (const char *q = p; *q && *q != '\n'; q++) {
		const char *r = q + nl;

		if (strncmp(q, k->name, nl) != 0 || (q > text && name_char(q[-1])) || name_char(*r))
			continue;
		while (*r == ' ' || *r == '\t')
			r++;
		if (*r == '=' || (r[0] == '+' && r[1] == '='))
			return (size_t)(q - text);
	}
	fail_msg("key %s not found on line %d", k->name, k->line);
	return 0;
}

/* The value of the item token at @offset as libxlutil reads it alone ("v = TOKEN"); NULL for a nested list. */
static char *token_value(const char *text, size_t offset)
{
	const char *s = text + offset, *e = s;
	struct xlu_run run;
	const char *v = NULL;
	char *doc, *out;

	if (*s == '[')
		return NULL;
	if (*s == '"' || *s == '\'') {
		for (e = s + 1; *e && *e != *s; e++)
			if (*e == '\\' && e[1])
				e++;
		e++;
	} else {
		while (isalnum((unsigned char)*e))
			e++;
	}
	assert_true(asprintf(&doc, "v = %.*s\n", (int)(e - s), s) > 0);
	xlu_run(doc, strlen(doc), &run);
	assert_int_equal(run.rc, 0);
	assert_int_equal(xlu_cfg_get_string(run.x.xc, "v", &v, 0), 0);
	out = strdup(v);
	vifmac_xlu_close(&run.x);
	free(doc);
	return out;
}

/* Every word of @text that could be a key name: libxlutil defines it exactly when the index has it. */
static void check_key_set(const char *text, const struct vifmac_conf_index *idx, const XLU_Config *xc)
{
	for (const char *p = text; *p;) {
		const char *v;
		char name[64];
		size_t n = 0;

		if (!isalpha((unsigned char)*p) && *p != '_') {
			p++;
			continue;
		}
		while (name_char(*p) && n + 1 < sizeof(name))
			name[n++] = *p++;
		name[n] = '\0';
		if (vifmac_conf_index_find(idx, name))
			assert_int_not_equal(xlu_cfg_get_string(xc, name, &v, 1), ESRCH);
		else if (xlu_cfg_get_string(xc, name, &v, 1) != ESRCH)
			fail_msg("libxlutil defines %s, the index does not", name);
	}
}

/* The items of @name as libxlutil sees them ("+=" chains followed): their offsets, in order. */
static size_t chain_offsets(const struct vifmac_conf_index *idx, const char *name, size_t *offsets, size_t max)
{
	size_t first = 0, n = 0;

	for (size_t i = 0; i < idx->n; i++)
		if (strcmp(idx->keys[i].name, name) == 0 && !idx->keys[i].add)
			first = i;
	for (size_t i = first; i < idx->n; i++) {
		if (strcmp(idx->keys[i].name, name) != 0)
			continue;
		for (size_t j = 0; j < idx->keys[i].n_items && n < max; j++)
			offsets[n++] = idx->keys[i].item_offsets[j];
	}
	return n;
}

static void check_good(const char *text)
{
	struct vifmac_conf_index idx;
	struct xlu_run run;

	xlu_run(text, strlen(text), &run);
	if (run.rc != 0)
		fail_msg("libxlutil refuses the good input <%s>: %s", text, run.x.report);
	assert_int_equal(vifmac_conf_index_build(text, strlen(text), &idx), 0);
	check_key_set(text, &idx, run.x.xc);
	for (size_t i = 0; i < idx.n; i++) {
		const struct vifmac_conf_key *k = &idx.keys[i];
		XLU_ConfigList *list;
		size_t offsets[16], n;
		int count;

		/* the line of every assignment, as libxlutil counts lines */
		assert_int_equal(line_with(text, key_offset(text, k), "] "), k->line);
		if (vifmac_conf_index_find(&idx, k->name) != k)
			continue; /* libxlutil keeps the last one */
		if (xlu_cfg_get_list(run.x.xc, k->name, &list, &count, 1) != 0) {
			assert_int_equal(vifmac_conf_index_line(&idx, k->name, -1), k->line);
			continue;
		}
		n = chain_offsets(&idx, k->name, offsets, 16);
		if (n != (size_t)count)
			fail_msg("<%s>: %s has %d items for libxlutil, %zu for the index", text, k->name, count, n);
		for (int j = 0; j < count; j++) {
			const char *want = xlu_cfg_get_listitem(list, j);
			char *got = token_value(text, offsets[j]);

			/* the same value, at the line libxlutil counts */
			if (want || got)
				assert_string_equal(got, want);
			free(got);
			assert_int_equal(line_with(text, offsets[j], "= "), vifmac_conf_index_line(&idx, k->name, j));
		}
	}
	vifmac_conf_index_dispose(&idx);
	vifmac_xlu_close(&run.x);
}

static void test_index_agrees_with_libxlutil_on_good_inputs(void **state)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		check_good(good[i]);
}

static void test_bad_inputs_are_refused_with_libxlutils_line(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vifmac_conf_index idx;
		struct xlu_run run;
		const char *msg;

		xlu_run(bad[i].text, strlen(bad[i].text), &run);
		assert_int_not_equal(run.rc, 0);
		if (run.line != bad[i].line)
			fail_msg("<%s>: libxlutil names line %d, expected %d", bad[i].text, run.line, bad[i].line);
		/* vifmac_xlu_report hands on libxlutil's message whole (first line) */
		msg = vifmac_xlu_report(&run.x, NULL);
		assert_non_null(msg);
		assert_non_null(strstr(msg, "config parsing error"));
		/* the scanner still runs on text libxlutil refuses (its callers report libxlutil's error) */
		assert_int_equal(vifmac_conf_index_build(bad[i].text, strlen(bad[i].text), &idx), 0);
		vifmac_conf_index_dispose(&idx);
		vifmac_xlu_close(&run.x);
	}
}

static void test_report_drops_the_given_prefix(void **state)
{
	struct vifmac_xlu x;

	assert_int_equal(vifmac_xlu_open(&x, "vif"), 0);
	assert_null(vifmac_xlu_report(&x, NULL)); /* nothing reported yet */
	assert_int_not_equal(xlu_cfg_readdata(x.xc, "a = = 1\n", 8), 0);
	assert_non_null(strstr(vifmac_xlu_report(&x, NULL), "vif:1: config parsing error"));
	vifmac_xlu_close(&x);
	assert_int_equal(vifmac_xlu_open(&x, "vif"), 0);
	assert_int_not_equal(xlu_cfg_readdata(x.xc, "a = = 1\n", 8), 0);
	assert_int_equal(strncmp(vifmac_xlu_report(&x, "vif:1: "), "config parsing error", 20), 0);
	vifmac_xlu_close(&x);
}

static void test_lookups_missing_keys_and_items(void **state)
{
	static const char text[] = "a = [ \"x\",\n\"y\" ]\nb = 2\n";
	struct vifmac_conf_index idx;

	assert_int_equal(vifmac_conf_index_build(text, sizeof(text) - 1, &idx), 0);
	assert_null(vifmac_conf_index_find(&idx, "c"));
	assert_int_equal(vifmac_conf_index_line(&idx, "c", -1), 0);
	assert_int_equal(vifmac_conf_index_line(&idx, "a", 1), 2);
	/* an item past the end falls back to the key's line */
	assert_int_equal(vifmac_conf_index_line(&idx, "a", 5), 1);
	assert_int_equal(vifmac_conf_index_line(&idx, "b", -1), 3);
	vifmac_conf_index_dispose(&idx);
	vifmac_conf_index_dispose(&idx); /* disposing twice is harmless */
}

static void test_read_file_takes_regular_files_only(void **state)
{
	char *path = tu_write_temp("f.conf", "a = 1\n"), *data = (char *)"untouched", *dir, fifo[256];
	size_t len = 99;
	int fd;

	assert_int_equal(vifmac_read_file(path, &data, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(data, "a = 1\n");
	free(data);
	dir = strndup(path, (size_t)(strrchr(path, '/') - path));
	/* a FIFO in a file's place: refused at once, not waited on */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	data = (char *)"untouched";
	assert_int_equal(vifmac_read_file(fifo, &data, &len), -EINVAL);
	assert_string_equal(data, "untouched");
	assert_string_equal(vifmac_read_file_strerror(-EINVAL), "not a regular file");
	unlink(fifo);
	assert_int_equal(vifmac_read_file(dir, &data, &len), -EINVAL);
	/* past 4 MiB (sparse) */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 * 1024 * 1024 + 1), 0);
	close(fd);
	assert_int_equal(vifmac_read_file(path, &data, &len), -EFBIG);
	assert_string_equal(vifmac_read_file_strerror(-EFBIG), "larger than 4 MiB");
	/* exactly 4 MiB is fine, NULs and all */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(ftruncate(fd, 4 * 1024 * 1024), 0);
	close(fd);
	assert_int_equal(vifmac_read_file(path, &data, &len), 0);
	assert_int_equal(len, 4 * 1024 * 1024);
	assert_int_equal(data[len], '\0');
	free(data);
	tu_remove_temp(path);
	assert_int_equal(vifmac_read_file(fifo, &data, &len), -ENOENT);
	assert_string_equal(vifmac_read_file_strerror(-ENOENT), strerror(ENOENT));
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_agrees_with_libxlutil_on_good_inputs),
		cmocka_unit_test(test_bad_inputs_are_refused_with_libxlutils_line),
		cmocka_unit_test(test_report_drops_the_given_prefix),
		cmocka_unit_test(test_lookups_missing_keys_and_items),
		cmocka_unit_test(test_read_file_takes_regular_files_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
