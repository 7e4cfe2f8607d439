/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The decision engine: rules, refusals and their reasons. */
#include "testutil.h"

#include <errno.h>

static struct vifmac_ctx *example_ctx(void)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);

	assert_int_equal(vifmac_ctx_load_policy(ctx, TEST_DATA_DIR "/example.conf"), 0);
	return ctx;
}

static void test_private_bridge_gets_prefix_plus_ipv4(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_vif vif = { .bridge = "xenbr0", .ip = "192.0.2.10", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "02:00:c0:00:02:0a");
	assert_int_equal(d.rule, VIFMAC_RULE_IP_DERIVED);
	assert_string_equal(d.scope_key, "*");
	assert_non_null(strstr(d.evidence, "prefix 02:00 + 192.0.2.10"));
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_NONE);
	vifmac_ctx_unref(ctx);
}

static void test_default_policy_derives_without_a_file(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_vif vif = { .bridge = "anybr", .ip = "2001:db8::5 203.0.113.77", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "02:00:cb:00:71:4d");
	vifmac_ctx_unref(ctx);
}

static void test_bridge_prefix_two_bytes_hints_home_server(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_vif vif = { .bridge = "xenbr1", .ip = "192.0.2.10", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "02:13:c0:00:02:0a");
	vifmac_ctx_unref(ctx);
}

static void test_three_byte_prefix_keeps_low_three_address_bytes(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_vif vif = { .bridge = "xenlocal", .ip = "10.1.2.3", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "02:00:0a:01:02:03");
	vifmac_ctx_unref(ctx);
}

static void test_three_byte_prefix_with_other_high_byte_is_refused_not_truncated(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_vif vif = { .bridge = "xenlocal", .ip = "192.0.2.10", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EPERM);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_POLICY);
	assert_non_null(strstr(d.refusal.message, "10.x.x.x only, not 192.0.2.10"));
	vifmac_ctx_unref(ctx);
}

static void test_public_bridge_uses_operator_table(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_vif vif = { .bridge = "xenpub", .ip = "198.51.100.11", .devid = 1 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "52:54:00:aa:00:11");
	assert_int_equal(d.rule, VIFMAC_RULE_PUBLIC_TABLE);
	assert_non_null(strstr(d.evidence, "example-table.txt:3"));
	vifmac_ctx_unref(ctx);
}

static void test_public_bridge_refuses_ip_missing_from_table(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_vif vif = { .bridge = "xenpub", .ip = "198.51.100.99", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EPERM);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_POLICY);
	assert_non_null(strstr(d.refusal.message, "198.51.100.99 is not in the operator's table"));
	vifmac_ctx_unref(ctx);
}

static void test_public_bridge_without_table_is_refused(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy("public_bridges = [ \"xenpub\" ]\n");
	struct vifmac_vif vif = { .bridge = "xenpub", .ip = "198.51.100.10", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EPERM);
	assert_non_null(strstr(d.refusal.message, "no public_table"));
	vifmac_ctx_unref(ctx);
}

static void test_unlisted_bridge_refused_when_policy_says_so(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_vif vif = { .bridge = "xenbr7", .ip = "192.0.2.10", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_ctx_load_policy(ctx, TEST_DATA_DIR "/strict.conf"), 0);
	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EPERM);
	assert_non_null(strstr(d.refusal.message, "unlisted_bridges = \"refuse\""));
	vifmac_ctx_unref(ctx);
}

static void test_no_ipv4_refused_by_default(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_vif vif = { .bridge = "xenbr0", .ip = "2001:db8::1", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EPERM);
	assert_non_null(strstr(d.refusal.message, "no_ipv4 = \"refuse\""));
	vif.ip = NULL;
	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EPERM);
	vifmac_ctx_unref(ctx);
}

static void test_no_ipv4_hash_is_stable_local_unicast_and_per_devid(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy("no_ipv4 = \"hash\"\n");
	struct vifmac_vif vif = { .bridge = "xenbr0", .uuid = "6F1E2D3C-4B5A-4978-8A6B-5C4D3E2F1A0B", .devid = 0 };
	struct vifmac_decision d1, d2, d3;

	assert_int_equal(vifmac_decide(ctx, &vif, &d1), 0);
	assert_int_equal(d1.rule, VIFMAC_RULE_HASH);
	assert_true(vifmac_mac_is_local(&d1.mac));
	assert_false(vifmac_mac_is_multicast(&d1.mac));
	vif.uuid = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"; /* case does not matter */
	assert_int_equal(vifmac_decide(ctx, &vif, &d2), 0);
	assert_true(vifmac_mac_equal(&d1.mac, &d2.mac));
	vif.devid = 1;
	assert_int_equal(vifmac_decide(ctx, &vif, &d3), 0);
	assert_false(vifmac_mac_equal(&d1.mac, &d3.mac));
	/* no UUID: cannot hash */
	vif.uuid = NULL;
	assert_int_equal(vifmac_decide(ctx, &vif, &d3), -EINVAL);
	assert_int_equal(d3.refusal.kind, VIFMAC_REFUSAL_INPUT);
	vifmac_ctx_unref(ctx);
}

static void test_malformed_ip_is_input_refusal_naming_the_entry(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_vif vif = { .bridge = "xenbr0", .ip = "192.0.2.010", .devid = 0 };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EINVAL);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_INPUT);
	assert_non_null(strstr(d.refusal.message, "\"192.0.2.010\""));
	vifmac_ctx_unref(ctx);
}

static void test_explicit_mac_verify_accepts_equal_refuses_different(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_mac m;
	struct vifmac_vif vif = { .bridge = "xenbr0", .ip = "192.0.2.10", .devid = 0, .mac = &m };
	struct vifmac_decision d;

	assert_int_equal(vifmac_mac_parse("02:00:c0:00:02:0a", &m), 0);
	assert_int_equal(vifmac_decide(ctx, &vif, &d), 0);
	assert_int_equal(d.rule, VIFMAC_RULE_IP_DERIVED);
	assert_int_equal(vifmac_mac_parse("00:16:3e:12:34:56", &m), 0);
	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EPERM);
	assert_non_null(strstr(d.refusal.message, "mac=00:16:3e:12:34:56 differs from the policy's 02:00:c0:00:02:0a"));
	vifmac_ctx_unref(ctx);
}

static void test_explicit_mac_honour_keeps_admins_mac(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy("explicit_mac = \"honour\"\n");
	struct vifmac_mac m;
	struct vifmac_vif vif = { .bridge = "xenbr0", .ip = "192.0.2.10", .devid = 0, .mac = &m };
	struct vifmac_decision d;

	assert_int_equal(vifmac_mac_parse("52:54:00:01:02:03", &m), 0);
	assert_int_equal(vifmac_decide(ctx, &vif, &d), 0);
	assert_int_equal(d.rule, VIFMAC_RULE_EXPLICIT);
	assert_string_equal(tu_mac(&d.mac), "52:54:00:01:02:03");
	/* multicast is never honoured */
	assert_int_equal(vifmac_mac_parse("01:00:5e:01:02:03", &m), 0);
	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EINVAL);
	vifmac_ctx_unref(ctx);
}

static void test_explicit_mac_override_replaces_admins_mac(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy("explicit_mac = \"override\"\n");
	struct vifmac_mac m;
	struct vifmac_vif vif = { .bridge = "xenbr0", .ip = "192.0.2.10", .devid = 0, .mac = &m };
	struct vifmac_decision d;

	assert_int_equal(vifmac_mac_parse("00:16:3e:12:34:56", &m), 0);
	assert_int_equal(vifmac_decide(ctx, &vif, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "02:00:c0:00:02:0a");
	vifmac_ctx_unref(ctx);
}

static void test_two_vifs_of_one_domain_with_one_mac_conflict(void **state)
{
	struct vifmac_ctx *ctx = example_ctx();
	struct vifmac_vif vifs[3] = {
		{ .bridge = "xenbr0", .ip = "192.0.2.30", .devid = 0 },
		{ .bridge = "xenlocal", .ip = "10.0.2.30", .devid = 1 },
		{ .bridge = "xenbr0", .ip = "192.0.2.30", .devid = 2 },
	};
	struct vifmac_decision d[3];

	assert_int_equal(vifmac_decide_domain(ctx, vifs, 3, d), -EEXIST);
	assert_int_equal(d[0].refusal.kind, VIFMAC_REFUSAL_CONFLICT);
	assert_int_equal(d[1].refusal.kind, VIFMAC_REFUSAL_NONE);
	assert_int_equal(d[2].refusal.kind, VIFMAC_REFUSAL_CONFLICT);
	assert_string_equal(d[0].refusal.holder.where, "domain-config");
	assert_int_equal(d[0].refusal.holder.devid, 2);
	assert_int_equal(d[2].refusal.holder.devid, 0);
	vifmac_ctx_unref(ctx);
}

static void test_same_mac_on_two_bridges_is_fine_under_bridge_scope(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy("scope = \"bridge\"\n");
	struct vifmac_vif vifs[2] = {
		{ .bridge = "xenbr0", .ip = "192.0.2.30", .devid = 0 },
		{ .bridge = "xenbr1", .ip = "192.0.2.30", .devid = 1 },
	};
	struct vifmac_decision d[2];

	assert_int_equal(vifmac_decide_domain(ctx, vifs, 2, d), 0);
	assert_string_equal(d[1].scope_key, "xenbr1");
	assert_true(vifmac_mac_equal(&d[0].mac, &d[1].mac));
	vifmac_ctx_unref(ctx);
}

static void test_vif_without_bridge_is_input_refusal(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_vif vif = { .ip = "192.0.2.10" };
	struct vifmac_decision d;

	assert_int_equal(vifmac_decide(ctx, &vif, &d), -EINVAL);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_INPUT);
	vifmac_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_bridge_gets_prefix_plus_ipv4),
		cmocka_unit_test(test_default_policy_derives_without_a_file),
		cmocka_unit_test(test_bridge_prefix_two_bytes_hints_home_server),
		cmocka_unit_test(test_three_byte_prefix_keeps_low_three_address_bytes),
		cmocka_unit_test(test_three_byte_prefix_with_other_high_byte_is_refused_not_truncated),
		cmocka_unit_test(test_public_bridge_uses_operator_table),
		cmocka_unit_test(test_public_bridge_refuses_ip_missing_from_table),
		cmocka_unit_test(test_public_bridge_without_table_is_refused),
		cmocka_unit_test(test_unlisted_bridge_refused_when_policy_says_so),
		cmocka_unit_test(test_no_ipv4_refused_by_default),
		cmocka_unit_test(test_no_ipv4_hash_is_stable_local_unicast_and_per_devid),
		cmocka_unit_test(test_malformed_ip_is_input_refusal_naming_the_entry),
		cmocka_unit_test(test_explicit_mac_verify_accepts_equal_refuses_different),
		cmocka_unit_test(test_explicit_mac_honour_keeps_admins_mac),
		cmocka_unit_test(test_explicit_mac_override_replaces_admins_mac),
		cmocka_unit_test(test_two_vifs_of_one_domain_with_one_mac_conflict),
		cmocka_unit_test(test_same_mac_on_two_bridges_is_fine_under_bridge_scope),
		cmocka_unit_test(test_vif_without_bridge_is_input_refusal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
