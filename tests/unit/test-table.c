/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The operator's IPv4 → MAC table (lib/vifmac-table.c): what it reads, what it refuses and where. */
#include <errno.h>

#include "testutil.h"
#include "vifmac-internal.h"

struct logged {
	int warnings;
	char last[512];
};

static void log_capture(void *data, int priority, const char *file, int line, const char *fn, const char *format,
			va_list args)
{
	struct logged *l = data;

	if (priority == VIFMAC_LOG_WARNING)
		l->warnings++;
	vsnprintf(l->last, sizeof(l->last), format, args);
}

/* Loads @text as a table; the table or NULL, the result in @ret_r, the error in ctx's last error. */
static struct vifmac_table *load(struct vifmac_ctx *ctx, const char *text, int *ret_r, char **ret_path)
{
	char *path = tu_write_temp("table.txt", text);
	struct vifmac_table *t = (struct vifmac_table *)0x1; /* must stay untouched on error */

	*ret_r = vifmac_table_load(ctx, path, &t);
	if (*ret_r < 0)
		assert_ptr_equal(t, (struct vifmac_table *)0x1);
	if (ret_path)
		*ret_path = path;
	else
		tu_remove_temp(path);
	return *ret_r < 0 ? NULL : t;
}

static struct vifmac_ctx *quiet_ctx(struct logged *l)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();

	assert_non_null(ctx);
	vifmac_ctx_set_log_fn(ctx, log_capture, l);
	vifmac_ctx_set_log_priority(ctx, VIFMAC_LOG_WARNING);
	return ctx;
}

static void test_pairs_comments_and_blank_lines(void **state)
{
	struct logged l = { 0 };
	struct vifmac_ctx *ctx = quiet_ctx(&l);
	struct vifmac_table *t;
	struct vifmac_ipv4 ip;
	char buf[VIFMAC_MAC_STRLEN];
	int r;

	t = load(ctx,
		 "# IPv4 MAC\n"
		 "\n"
		 "198.51.100.10 52:54:00:aa:00:10\n"
		 "   \t\n"
		 "198.51.100.11\t52:54:00:AA:00:11   # customer 17\r\n"
		 "192.0.2.10 52:54:00:aa:00:20#no space before the comment\n"
		 "10.0.0.1 52:54:00:aa:00:30", /* no final newline */
		 &r, NULL);
	assert_int_equal(r, 0);
	assert_int_equal(t->n, 4);
	/* each entry keeps its line, for messages */
	assert_int_equal(t->entries[0].line, 3);
	assert_int_equal(t->entries[1].line, 5);
	assert_int_equal(t->entries[3].line, 7);
	assert_int_equal(vifmac_ipv4_parse("198.51.100.11", &ip), 0);
	assert_non_null(vifmac_table_find(t, &ip));
	assert_string_equal(vifmac_mac_format(&vifmac_table_find(t, &ip)->mac, buf), "52:54:00:aa:00:11");
	assert_int_equal(vifmac_ipv4_parse("192.0.2.10", &ip), 0);
	assert_string_equal(vifmac_mac_format(&vifmac_table_find(t, &ip)->mac, buf), "52:54:00:aa:00:20");
	assert_int_equal(vifmac_ipv4_parse("192.0.2.11", &ip), 0);
	assert_null(vifmac_table_find(t, &ip));
	assert_null(vifmac_table_find(NULL, &ip));
	assert_int_equal(l.warnings, 0);
	vifmac_table_free(t);
	vifmac_table_free(NULL);
	vifmac_ctx_unref(ctx);
}

static void test_bad_lines_are_refused_naming_file_and_line(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *says;
	} cases[] = {
		{ "198.51.100.10\n", 1, "expected \"IPv4 MAC\"" },
		{ "# ok\n198.51.100.10 52:54:00:aa:00:10 extra\n", 2, "expected \"IPv4 MAC\"" },
		{ "\n\n198.51.100.256 52:54:00:aa:00:10\n", 3, "\"198.51.100.256\" is not an IPv4 address" },
		{ "198.51.100.10 52:54:00:aa:00\n", 1, "\"52:54:00:aa:00\" is not a MAC address" },
		{ "198.51.100.10 52-54-00-aa-00-10\n", 1, "is not a MAC address" },
		{ "198.51.100.10 01:00:5e:00:00:01\n", 1, "01:00:5e:00:00:01 is a multicast address" },
		{ "198.51.100.10 52:54:00:aa:00:10\n198.51.100.10 52:54:00:aa:00:11\n", 2,
		  "198.51.100.10 is listed twice (first at line 1)" },
		{ "198.51.100.10 52:54:00:aa:00:10\n# x\n198.51.100.11 52:54:00:AA:00:10\n", 3,
		  "MAC 52:54:00:aa:00:10 is given twice (first at line 1)" },
		/* two repeats: the earlier line is named */
		{ "1.1.1.1 52:54:00:00:00:01\n2.2.2.2 52:54:00:00:00:02\n3.3.3.3 52:54:00:00:00:02\n"
		  "1.1.1.1 52:54:00:00:00:04\n",
		  3, "MAC 52:54:00:00:00:02 is given twice (first at line 2)" },
		{ "1.1.1.1 52:54:00:00:00:01\n2.2.2.2 52:54:00:00:00:02\n2.2.2.2 52:54:00:00:00:03\n"
		  "4.4.4.4 52:54:00:00:00:01\n",
		  3, "2.2.2.2 is listed twice (first at line 2)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct logged l = { 0 };
		struct vifmac_ctx *ctx = quiet_ctx(&l);
		char *path, want[512];
		int r;

		assert_null(load(ctx, cases[i].text, &r, &path));
		assert_int_equal(r, -EINVAL);
		snprintf(want, sizeof(want), "%s:%d: ", path, cases[i].line);
		if (strncmp(vifmac_ctx_last_error(ctx), want, strlen(want)) != 0 ||
		    !strstr(vifmac_ctx_last_error(ctx), cases[i].says))
			fail_msg("case %zu: \"%s\", expected \"%s...%s\"", i, vifmac_ctx_last_error(ctx), want,
				 cases[i].says);
		tu_remove_temp(path);
		vifmac_ctx_unref(ctx);
	}
}

static void test_xen_random_mac_is_taken_with_a_warning(void **state)
{
	struct logged l = { 0 };
	struct vifmac_ctx *ctx = quiet_ctx(&l);
	struct vifmac_table *t;
	char *path;
	int r;

	t = load(ctx, "198.51.100.10 00:16:3e:12:34:56\n198.51.100.11 00:16:3e:80:00:01\n", &r, &path);
	assert_int_equal(r, 0);
	assert_int_equal(t->n, 2);
	/* only the first is in libxl's range (4th byte below 0x80) */
	assert_int_equal(l.warnings, 1);
	assert_non_null(strstr(l.last, ":1: 00:16:3e:12:34:56 is inside Xen's random range"));
	assert_non_null(strstr(l.last, path));
	vifmac_table_free(t);
	tu_remove_temp(path);
	vifmac_ctx_unref(ctx);
}

static void test_unreadable_and_non_text_files_are_refused(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_table *t = NULL;
	char *path = tu_write_temp("table.txt", "");
	char *dir = strndup(path, (size_t)(strrchr(path, '/') - path));
	FILE *f;
	int r;

	/* empty: a table with no entries */
	assert_int_equal(vifmac_table_load(ctx, path, &t), 0);
	assert_int_equal(t->n, 0);
	vifmac_table_free(t);
	t = NULL;
	/* a NUL byte */
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite("1.1.1.1 52:54:00:00:00:01\n\0\n", 1, 28, f);
	fclose(f);
	assert_int_equal(vifmac_table_load(ctx, path, &t), -EINVAL);
	assert_null(t);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "not a text file (NUL byte)"));
	/* a folder, and nothing at all */
	assert_int_equal(vifmac_table_load(ctx, dir, &t), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "not a regular file"));
	{
		char *gone = strdup(path);

		tu_remove_temp(path);
		r = vifmac_table_load(ctx, gone, &t);
		free(gone);
	}
	assert_int_equal(r, -ENOENT);
	assert_null(t);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "cannot read"));
	free(dir);
	vifmac_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs_comments_and_blank_lines),
		cmocka_unit_test(test_bad_lines_are_refused_naming_file_and_line),
		cmocka_unit_test(test_xen_random_mac_is_taken_with_a_warning),
		cmocka_unit_test(test_unreadable_and_non_text_files_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
