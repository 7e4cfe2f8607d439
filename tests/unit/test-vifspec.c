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

static void test_bare_trusted_and_untrusted_are_items_kept_bare(void **state)
{
	struct vifmac_vifspec *s;
	char *out;

	assert_int_equal(vifmac_vifspec_parse("bridge=xenbr0,trusted,ip=192.0.2.10", &s), 0);
	assert_string_equal(vifmac_vifspec_get(s, "trusted"), "");
	assert_null(vifmac_vifspec_get(s, "untrusted"));
	assert_int_equal(vifmac_vifspec_set(s, "mac", "02:00:c0:00:02:0a"), 0);
	out = vifmac_vifspec_format(s);
	assert_string_equal(out, "bridge=xenbr0,trusted,ip=192.0.2.10,mac=02:00:c0:00:02:0a");
	free(out);
	vifmac_vifspec_free(s);
	assert_int_equal(vifmac_vifspec_parse("untrusted", &s), 0);
	assert_string_equal(vifmac_vifspec_get(s, "untrusted"), "");
	vifmac_vifspec_free(s);
}

/* xl drops these with "unrecognized argument" (or takes the last of two): refused */
static void test_items_xl_would_drop_are_refused(void **state)
{
	static const char *const bad[] = {
		"ip = 192.0.2.10",	 /* spaces around '=' */
		"bridge =xenbr0",	 "brdige=xenbr0", /* typo */
		"trusted,untrusted",	 "trusted,trusted",
		"TRUSTED",		 "ip=192.0.2.1, mac",
		"\tbridge=xenbr0", /* xl skips spaces only */
	};
	struct vifmac_vifspec *s = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vifmac_vifspec_parse(bad[i], &s) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_null(s);
}

/* every key xl 4.17's parse_nic_config matches, a few colo ones included */
static void test_every_xl_vif_key_is_known(void **state)
{
	struct vifmac_vifspec *s;

	assert_int_equal(vifmac_vifspec_parse("type=ioemu,mac=02:00:00:00:00:01,bridge=b,netdev=n,gatewaydev=g,"
					      "ip=192.0.2.1,script=s,backend=0,vifname=v,model=e1000,rate=1Mb/s,"
					      "forwarddev=f,accel=x,devid=3,mtu=1500,colo_sock_mirror_id=1,"
					      "colo_filter_sec_rewriter0_queue=q,colo_checkpoint_port=9",
					      &s),
			 0);
	assert_string_equal(vifmac_vifspec_get(s, "colo_checkpoint_port"), "9");
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
		cmocka_unit_test(test_bare_trusted_and_untrusted_are_items_kept_bare),
		cmocka_unit_test(test_items_xl_would_drop_are_refused),
		cmocka_unit_test(test_every_xl_vif_key_is_known),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
