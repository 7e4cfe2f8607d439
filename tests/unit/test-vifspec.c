/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vif specs: split as xl does, strict about keys, written back in order. */
#include "testutil.h"

#include <errno.h>

static void test_vifspec_splits_like_xl(void **state)
{
	struct vifmac_vifspec *s;

	assert_int_equal(vifmac_vifspec_parse("bridge=xenbr0, ip=192.0.2.10 2001:db8::1,,script=vif-vifmac", &s), 0);
	assert_string_equal(vifmac_vifspec_get(s, "bridge"), "xenbr0");
	assert_string_equal(vifmac_vifspec_get(s, "ip"), "192.0.2.10 2001:db8::1");
	assert_string_equal(vifmac_vifspec_get(s, "script"), "vif-vifmac");
	assert_null(vifmac_vifspec_get(s, "mac"));
	vifmac_vifspec_free(s);
}

static void test_vifspec_value_may_hold_equals(void **state)
{
	struct vifmac_vifspec *s;

	assert_int_equal(vifmac_vifspec_parse("rate=10Mb/s@20ms,vifname=a=b", &s), 0);
	assert_string_equal(vifmac_vifspec_get(s, "vifname"), "a=b");
	vifmac_vifspec_free(s);
}

static void test_vifspec_rejects_items_without_key_or_twice(void **state)
{
	static const char *const bad[] = { "bridge=xenbr0,ip192.0.2.1", "=xenbr0", "bridge=a,bridge=b", "mac" };
	struct vifmac_vifspec *s = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vifmac_vifspec_parse(bad[i], &s) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_null(s);
}

static void test_vifspec_set_replaces_in_place_and_appends(void **state)
{
	struct vifmac_vifspec *s;
	char *out;

	assert_int_equal(vifmac_vifspec_parse("mac=00:16:3e:01:02:03,bridge=xenbr0,ip=192.0.2.10", &s), 0);
	assert_int_equal(vifmac_vifspec_set(s, "mac", "02:00:c0:00:02:0a"), 0);
	assert_int_equal(vifmac_vifspec_set(s, "script", "vif-vifmac"), 0);
	out = vifmac_vifspec_format(s);
	assert_string_equal(out, "mac=02:00:c0:00:02:0a,bridge=xenbr0,ip=192.0.2.10,script=vif-vifmac");
	free(out);
	vifmac_vifspec_free(s);
}

static void test_empty_vifspec_is_valid_and_formats_empty(void **state)
{
	struct vifmac_vifspec *s;
	char *out;

	assert_int_equal(vifmac_vifspec_parse("", &s), 0);
	out = vifmac_vifspec_format(s);
	assert_string_equal(out, "");
	free(out);
	vifmac_vifspec_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vifspec_splits_like_xl),
		cmocka_unit_test(test_vifspec_value_may_hold_equals),
		cmocka_unit_test(test_vifspec_rejects_items_without_key_or_twice),
		cmocka_unit_test(test_vifspec_set_replaces_in_place_and_appends),
		cmocka_unit_test(test_empty_vifspec_is_valid_and_formats_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
