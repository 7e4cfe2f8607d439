/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MAC, IPv4 and ip= list parsing and formatting. */
#include "testutil.h"

#include <errno.h>

static void test_mac_parses_either_case(void **state)
{
	struct vifmac_mac m;

	assert_int_equal(vifmac_mac_parse("02:00:C0:00:02:0a", &m), 0);
	assert_string_equal(tu_mac(&m), "02:00:c0:00:02:0a");
	assert_int_equal(vifmac_mac_parse("ff:FF:fF:00:01:9B", &m), 0);
	assert_string_equal(tu_mac(&m), "ff:ff:ff:00:01:9b");
}

static void test_mac_rejects_anything_but_six_colon_pairs(void **state)
{
	static const char *const bad[] = {
		"",  "02:00:c0:00:02",  "02:00:c0:00:02:0a:", "02:00:c0:00:02:0a:11", "02-00-c0-00-02-0a",
		"0200.c000.020a",   "2:0:c0:0:2:a",    "02:00:c0:00:02:0g",  " 02:00:c0:00:02:0a", "02:00:c0:00:02:0a ",
		"02:00:c0:00:02:a", "02::c0:00:02:0a", "020:0c0:00:02:0a",   "02:00:c0:00:02:0a\n",
	};
	struct vifmac_mac m = { { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa } };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vifmac_mac_parse(bad[i], &m) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(vifmac_mac_parse(NULL, &m), -EINVAL);
	/* untouched on error */
	assert_string_equal(tu_mac(&m), "aa:aa:aa:aa:aa:aa");
}

static void test_mac_bits(void **state)
{
	struct vifmac_mac m;

	assert_int_equal(vifmac_mac_parse("02:00:00:00:00:01", &m), 0);
	assert_true(vifmac_mac_is_local(&m));
	assert_false(vifmac_mac_is_multicast(&m));
	assert_int_equal(vifmac_mac_parse("01:00:5e:00:00:01", &m), 0);
	assert_true(vifmac_mac_is_multicast(&m));
	assert_false(vifmac_mac_is_local(&m));
	assert_int_equal(vifmac_mac_parse("00:16:3e:7f:ff:ff", &m), 0);
	assert_true(vifmac_mac_is_xen_random(&m));
	assert_int_equal(vifmac_mac_parse("00:16:3e:80:00:00", &m), 0);
	assert_false(vifmac_mac_is_xen_random(&m));
}

static void test_eui64_link_local_flips_the_local_bit(void **state)
{
	struct vifmac_mac m;
	char buf[48];

	assert_int_equal(vifmac_mac_parse("02:00:c0:00:02:0a", &m), 0);
	assert_string_equal(vifmac_mac_eui64_link_local(&m, buf), "fe80::c0ff:fe00:20a");
	assert_int_equal(vifmac_mac_parse("52:54:00:12:34:56", &m), 0);
	assert_string_equal(vifmac_mac_eui64_link_local(&m, buf), "fe80::5054:ff:fe12:3456");
}

static void test_ipv4_parses_dotted_quads(void **state)
{
	struct vifmac_ipv4 ip;
	char buf[VIFMAC_IPV4_STRLEN];

	assert_int_equal(vifmac_ipv4_parse("192.0.2.10", &ip), 0);
	assert_int_equal(ip.b[0], 192);
	assert_int_equal(ip.b[3], 10);
	assert_int_equal(vifmac_ipv4_parse("0.0.0.0", &ip), 0);
	assert_int_equal(vifmac_ipv4_parse("255.255.255.255", &ip), 0);
	assert_string_equal(vifmac_ipv4_format(&ip, buf), "255.255.255.255");
}

static void test_ipv4_rejects_short_octal_hex_junk_and_range(void **state)
{
	static const char *const bad[] = {
		"",          "10.1",         "10.1.2",        "10",        "192.0.2.010", "010.0.2.1",  "0x0a.0.0.1",
		"0xc0000201", "192.0.2.256", "192.0.2.1000", "192.0.2.-1", "192.0.2.1 ", " 192.0.2.1", "192.0.2.1x",
		"192.0.2.1.", "192..2.1",     "192.0.2.1/24", "1.2.3.4.5", "3232235777",  "00.0.0.0",
	};
	struct vifmac_ipv4 ip = { { 9, 9, 9, 9 } };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vifmac_ipv4_parse(bad[i], &ip) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(ip.b[0], 9);
}

static void test_iplist_uses_the_first_ipv4(void **state)
{
	struct vifmac_ipv4 ip;

	assert_int_equal(vifmac_iplist_first_ipv4("2001:db8::1 192.0.2.10 198.51.100.1", &ip, NULL), 0);
	assert_int_equal(ip.b[0], 192);
	assert_int_equal(ip.b[3], 10);
	assert_int_equal(vifmac_iplist_first_ipv4("  10.0.0.1/24   fe80::1/64 ", &ip, NULL), 0);
	assert_int_equal(ip.b[0], 10);
}

static void test_iplist_without_ipv4_is_enoent(void **state)
{
	struct vifmac_ipv4 ip;

	assert_int_equal(vifmac_iplist_first_ipv4("", &ip, NULL), -ENOENT);
	assert_int_equal(vifmac_iplist_first_ipv4("   ", &ip, NULL), -ENOENT);
	assert_int_equal(vifmac_iplist_first_ipv4(NULL, &ip, NULL), -ENOENT);
	assert_int_equal(vifmac_iplist_first_ipv4("2001:db8::1 fd00::2/64", &ip, NULL), -ENOENT);
}

static void test_iplist_rejects_any_malformed_entry_and_names_it(void **state)
{
	static const char *const bad[][2] = {
		{ "192.0.2.10 192.0.2.010", "192.0.2.010" }, { "192.0.2.1/33", "192.0.2.1/33" },
		{ "2001:db8::1/129 10.0.0.1", "2001:db8::1/129" }, { "10.0.0.1,10.0.0.2", "10.0.0.1,10.0.0.2" },
		{ "fe80::zz", "fe80::zz" }, { "10.0.0.1/", "10.0.0.1/" }, { "10.0.0.1/08", "10.0.0.1/08" },
		{ "host.example", "host.example" },
	};
	struct vifmac_ipv4 ip;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *what = NULL;

		if (vifmac_iplist_first_ipv4(bad[i][0], &ip, &what) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i][0]);
		assert_non_null(what);
		assert_string_equal(what, bad[i][1]);
		free(what);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_parses_either_case),
		cmocka_unit_test(test_mac_rejects_anything_but_six_colon_pairs),
		cmocka_unit_test(test_mac_bits),
		cmocka_unit_test(test_eui64_link_local_flips_the_local_bit),
		cmocka_unit_test(test_ipv4_parses_dotted_quads),
		cmocka_unit_test(test_ipv4_rejects_short_octal_hex_junk_and_range),
		cmocka_unit_test(test_iplist_uses_the_first_ipv4),
		cmocka_unit_test(test_iplist_without_ipv4_is_enoent),
		cmocka_unit_test(test_iplist_rejects_any_malformed_entry_and_names_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
