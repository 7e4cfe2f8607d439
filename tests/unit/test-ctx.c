/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library context (lib/vifmac-ctx.c): references, the logging callback
 * and its threshold, the last error, the seam, the host name rules, and the
 * small helpers the context file carries.
 */
#include <errno.h>

#include "testutil.h"
#include "vifmac-internal.h"
#include "fake-sys.h"

struct logged {
	int n;
	int priority;
	char fn[64];
	char msg[256];
};

static void log_capture(void *data, int priority, const char *file, int line, const char *fn, const char *format,
			va_list args)
{
	struct logged *l = data;

	l->n++;
	l->priority = priority;
	snprintf(l->fn, sizeof(l->fn), "%s", fn);
	vsnprintf(l->msg, sizeof(l->msg), format, args);
}

static void test_refs_keep_the_context_until_the_last_unref(void **state)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct logged l = { 0 };

	assert_non_null(ctx);
	vifmac_ctx_set_log_fn(ctx, log_capture, &l);
	assert_ptr_equal(vifmac_ctx_ref(ctx), ctx);
	assert_null(vifmac_ctx_unref(ctx)); /* one reference left: still usable */
	vifmac_ctx_set_log_priority(ctx, VIFMAC_LOG_INFO);
	info(ctx, "still %s", "here");
	assert_int_equal(l.n, 1);
	assert_null(vifmac_ctx_unref(ctx));
	/* NULL is accepted by both */
	assert_null(vifmac_ctx_ref(NULL));
	assert_null(vifmac_ctx_unref(NULL));
}

static void test_log_threshold_and_callback(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct logged l = { 0 };

	vifmac_ctx_set_log_fn(ctx, log_capture, &l);
	vifmac_ctx_set_log_priority(ctx, VIFMAC_LOG_WARNING);
	assert_int_equal(vifmac_ctx_get_log_priority(ctx), VIFMAC_LOG_WARNING);
	info(ctx, "not shown");
	dbg(ctx, "not shown");
	assert_int_equal(l.n, 0);
	warn(ctx, "shown %d", 42);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.priority, VIFMAC_LOG_WARNING);
	assert_string_equal(l.msg, "shown 42");
	assert_string_equal(l.fn, __func__);
	/* errors are logged at debug level only: the library returns them, it does not print them */
	assert_int_equal(vifmac_set_error(ctx, -EINVAL, "bad %s", "thing"), -EINVAL);
	assert_int_equal(l.n, 1);
	vifmac_ctx_set_log_priority(ctx, VIFMAC_LOG_DEBUG);
	assert_int_equal(vifmac_set_error(ctx, -ENOENT, "gone"), -ENOENT);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.priority, VIFMAC_LOG_DEBUG);
	assert_non_null(strstr(l.msg, "gone"));
	/* no callback at all: nothing is called */
	vifmac_ctx_set_log_fn(ctx, NULL, NULL);
	warn(ctx, "to nobody");
	assert_int_equal(l.n, 2);
	vifmac_ctx_unref(ctx);
}

static void test_vifmac_log_env_sets_the_threshold(void **state)
{
	static const struct {
		const char *value;
		int prio;
	} cases[] = {
		{ "debug", VIFMAC_LOG_DEBUG }, { "INFO", VIFMAC_LOG_INFO }, { "warning", VIFMAC_LOG_WARNING },
		{ "err", VIFMAC_LOG_ERR },     { "error", VIFMAC_LOG_ERR }, { "5", 5 },
		{ "0", 0 },                    { "8", VIFMAC_LOG_ERR },     { "loud", VIFMAC_LOG_ERR },
		{ "6x", VIFMAC_LOG_ERR },      { "", VIFMAC_LOG_ERR },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vifmac_ctx *ctx;

		setenv("VIFMAC_LOG", cases[i].value, 1);
		ctx = vifmac_ctx_new();
		assert_non_null(ctx);
		if (vifmac_ctx_get_log_priority(ctx) != cases[i].prio)
			fail_msg("VIFMAC_LOG=%s: priority %d, expected %d", cases[i].value,
				 vifmac_ctx_get_log_priority(ctx), cases[i].prio);
		vifmac_ctx_unref(ctx);
	}
	unsetenv("VIFMAC_LOG");
}

static void test_last_error_is_kept_cleared_and_bounded(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	char big[3000];

	assert_string_equal(vifmac_ctx_last_error(ctx), "");
	assert_int_equal(vifmac_set_error(ctx, -EEXIST, "%s held by %s", "52:54:00:00:00:01", "web1"), -EEXIST);
	assert_string_equal(vifmac_ctx_last_error(ctx), "52:54:00:00:00:01 held by web1");
	vifmac_clear_error(ctx);
	assert_string_equal(vifmac_ctx_last_error(ctx), "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	vifmac_set_error(ctx, -EINVAL, "%s", big);
	assert_int_equal(strlen(vifmac_ctx_last_error(ctx)), 1023);
	vifmac_ctx_unref(ctx);
}

static void test_seam_is_the_callers_after_set_sys(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct fake_sys fake = { .now = 1234 };
	void *data = NULL;

	/* the production seam first (its data owned by the context) */
	assert_non_null(vifmac_ctx_get_sys(ctx, &data)->xs_read);
	vifmac_ctx_set_sys(ctx, &fake_sys_ops, &fake);
	assert_ptr_equal(vifmac_ctx_get_sys(ctx, &data)->xs_read, fake_xs_read);
	assert_ptr_equal(data, &fake);
	assert_int_equal(vifmac_now(ctx), 1234);
	/* a copy was taken: the caller's table may go */
	{
		struct vifmac_sys_ops ops = { .now = NULL };

		vifmac_ctx_set_sys(ctx, &ops, NULL);
		assert_int_equal(vifmac_now(ctx), 0); /* no clock: 0, not a crash */
	}
	assert_non_null(vifmac_ctx_get_sys(ctx, NULL));
	vifmac_ctx_unref(ctx);
	fake_sys_free(&fake);
}

static void test_host_name_rules(void **state)
{
	static const char *const shared[] = { "", "localhost", "LOCALHOST", "localhost.localdomain", "localhost6",
					      "(none)" };
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct fake_sys fake = { 0 };
	char buf[64];

	vifmac_ctx_set_sys(ctx, &fake_sys_ops, &fake);
	snprintf(fake.hostname, sizeof(fake.hostname), "dom0-a");
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vifmac_hostname(ctx, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "dom0-a");
	/* names many machines share do not tell hosts apart */
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		snprintf(fake.hostname, sizeof(fake.hostname), "%s", shared[i]);
		assert_int_equal(vifmac_hostname(ctx, buf, sizeof(buf)), -EINVAL);
		assert_non_null(strstr(vifmac_ctx_last_error(ctx), "set host_name"));
		assert_non_null(strstr(vifmac_ctx_last_error(ctx), VIFMAC_DEFAULT_CONFIG));
	}
	/* no system access at all */
	{
		struct vifmac_sys_ops none = { .now = NULL };

		vifmac_ctx_set_sys(ctx, &none, NULL);
		assert_int_equal(vifmac_hostname(ctx, buf, sizeof(buf)), -EOPNOTSUPP);
	}
	vifmac_ctx_unref(ctx);
	/* host_name in the policy wins over the system's name, even a shared one */
	ctx = tu_ctx_with_policy("host_name = \"dom0-b.example\"\n");
	vifmac_ctx_set_sys(ctx, &fake_sys_ops, &fake);
	snprintf(fake.hostname, sizeof(fake.hostname), "localhost");
	assert_int_equal(vifmac_hostname(ctx, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "dom0-b.example");
	/* too long for the caller's buffer: refused, not cut */
	assert_int_equal(vifmac_hostname(ctx, buf, 8), -ENAMETOOLONG);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "dom0-b.example"));
	vifmac_ctx_unref(ctx);
	fake_sys_free(&fake);
}

static void test_strscpy_and_split_pair(void **state)
{
	char small[4], key[4];
	const char *v;

	assert_true(vifmac_strscpy(small, "abc", sizeof(small)));
	assert_string_equal(small, "abc");
	assert_false(vifmac_strscpy(small, "abcd", sizeof(small)));
	assert_string_equal(small, "abc"); /* cut, terminated, and said so */
	assert_false(vifmac_strscpy(small, "x", 0));
	v = vifmac_split_pair("mac=52:54:00:00:00:01", key, sizeof(key));
	assert_string_equal(key, "mac");
	assert_string_equal(v, "52:54:00:00:00:01");
	assert_null(vifmac_split_pair("novalue", key, sizeof(key)));
	v = vifmac_split_pair("bridge=xenbr0", key, sizeof(key));
	assert_string_equal(key, "bri"); /* a key longer than the buffer is cut */
	assert_string_equal(v, "xenbr0");
}

static int cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static void test_first_duplicate_and_first_shared(void **state)
{
	const int none[] = { 5, 3, 9, 1 }, two[] = { 7, 3, 9, 3, 7, 7 }, other[] = { 4, 9, 1 };
	size_t dup = 99, first = 99, b = 99, a = 99;

	assert_int_equal(vifmac_first_duplicate(none, 4, sizeof(int), cmp_int, &dup, &first), 0);
	assert_int_equal(dup, 99); /* untouched when there is none */
	assert_int_equal(vifmac_first_duplicate(none, 1, sizeof(int), cmp_int, &dup, &first), 0);
	/* the first item that repeats an earlier one (index 3, repeating index 1), not the first value seen twice */
	assert_int_equal(vifmac_first_duplicate(two, 6, sizeof(int), cmp_int, &dup, &first), 1);
	assert_int_equal(dup, 3);
	assert_int_equal(first, 1);
	/* the first item of @b that @a holds: other[1] = 9 = none[2] */
	assert_int_equal(vifmac_first_shared(none, 4, other, 3, sizeof(int), cmp_int, &b, &a), 1);
	assert_int_equal(b, 1);
	assert_int_equal(a, 2);
	b = 99;
	assert_int_equal(vifmac_first_shared(none, 4, (const int[]){ 2, 4 }, 2, sizeof(int), cmp_int, &b, &a), 0);
	assert_int_equal(b, 99);
	assert_int_equal(vifmac_first_shared(NULL, 0, NULL, 0, sizeof(int), cmp_int, &b, &a), 0);
}

static void test_array_grow_doubles_at_powers_of_two(void **state)
{
	int *v = NULL;

	for (size_t n = 0; n < 100; n++) {
		int *nv = vifmac_array_grow(v, n, sizeof(*v));

		assert_non_null(nv);
		v = nv;
		v[n] = (int)n; /* room for one more, always (ASan/valgrind would see an overflow) */
	}
	for (size_t n = 0; n < 100; n++)
		assert_int_equal(v[n], (int)n);
	free(v);
	/* a count whose doubled size overflows: NULL, the array unchanged */
	v = malloc(sizeof(*v));
	assert_null(vifmac_array_grow(v, (size_t)1 << (sizeof(size_t) * 8 - 2), sizeof(*v)));
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs_keep_the_context_until_the_last_unref),
		cmocka_unit_test(test_log_threshold_and_callback),
		cmocka_unit_test(test_vifmac_log_env_sets_the_threshold),
		cmocka_unit_test(test_last_error_is_kept_cleared_and_bounded),
		cmocka_unit_test(test_seam_is_the_callers_after_set_sys),
		cmocka_unit_test(test_host_name_rules),
		cmocka_unit_test(test_strscpy_and_split_pair),
		cmocka_unit_test(test_first_duplicate_and_first_shared),
		cmocka_unit_test(test_array_grow_doubles_at_powers_of_two),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
