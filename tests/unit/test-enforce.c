/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-vif filtering through the system seam: what the hotplug pipeline asks
 * the seam to install and remove, and what the policy exempts. The real
 * nftables rules are tested in network namespaces (tests/net/test-enforce.sh).
 */
#include "testutil.h"

#include <errno.h>

#include "fake-sys.h"

#define UUID_WEB1 "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
#define POLICY_MAC "02:00:c0:00:02:0a"

struct env {
	struct fake_sys fake;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	char dir[64];
};

static struct env *env_new(const char *policy)
{
	struct env *e = calloc(1, sizeof(*e));
	char text[1024];

	assert_non_null(e);
	snprintf(text, sizeof(text), "private_bridges = [ \"xenbr0\", \"xenbr1\" ]\n%s", policy ? policy : "");
	fake_registry_env(&e->fake, &e->ctx, &e->reg, e->dir, sizeof(e->dir), "enforce", text);
	fake_add_domain(&e->fake, 5, "web1", UUID_WEB1, true);
	fake_add_vif(&e->fake, 5, 0, "00:16:3e:12:34:56", "xenbr0", "192.0.2.10", "vif");
	return e;
}

static void env_free(struct env *e)
{
	fake_registry_env_free(e->ctx, e->reg, e->dir);
	fake_sys_free(&e->fake);
	free(e);
}

static int count_fn(void *data, const struct vifmac_record *rec)
{
	(*(int *)data)++;
	return 0;
}

static int claims(struct env *e)
{
	struct vifmac_mac mac;
	int n = 0;

	assert_int_equal(vifmac_mac_parse(POLICY_MAC, &mac), 0);
	assert_int_equal(vifmac_registry_lookup_mac(e->reg, &mac, count_fn, &n), 0);
	return n;
}

static int online(struct env *e, struct vifmac_decision *d)
{
	struct vifmac_hotplug_vif vif;

	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), 0);
	return vifmac_hotplug_online(e->ctx, e->reg, &vif, vifmac_hotplug_mode_for(&vif), d);
}

static int offline(struct env *e)
{
	struct vifmac_hotplug_vif vif;

	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), 0);
	return vifmac_hotplug_offline(e->ctx, e->reg, &vif);
}

static void test_online_holds_the_vif_to_the_mac_it_was_given(void **state)
{
	struct env *e = env_new(NULL);
	struct vifmac_decision d;
	struct vifmac_enforce_entry *r;

	assert_int_equal(online(e, &d), 0);
	assert_int_equal(e->fake.n_rules, 1);
	r = fake_rule(&e->fake, "vif5.0");
	assert_non_null(r);
	/* the MAC the policy gave, not libxl's random one */
	assert_string_equal(tu_mac(&r->mac), POLICY_MAC);
	env_free(e);
}

static void test_offline_removes_exactly_that_vifs_rules_and_is_idempotent(void **state)
{
	struct env *e = env_new(NULL);
	struct vifmac_decision d;
	struct vifmac_mac other;

	assert_int_equal(vifmac_mac_parse("02:00:c0:00:02:0b", &other), 0);
	assert_int_equal(vifmac_enforce_add(e->ctx, "vif6.0", &other), 0);
	assert_int_equal(online(e, &d), 0);
	assert_int_equal(e->fake.n_rules, 2);
	assert_int_equal(offline(e), 1);
	assert_null(fake_rule(&e->fake, "vif5.0"));
	assert_non_null(fake_rule(&e->fake, "vif6.0"));
	assert_int_equal(offline(e), 0);
	assert_int_equal(e->fake.n_rules, 1);
	env_free(e);
}

static void test_hvm_tap_gets_the_same_rules_as_the_pv_vif(void **state)
{
	struct env *e = env_new(NULL);
	struct vifmac_decision d;

	/* started with vifmac xl-args: the emulated NIC already has the policy's MAC */
	fake_set(&e->fake, "/local/domain/0/backend/vif/5/0/type", "vif_ioemu", 0);
	fake_set(&e->fake, "/local/domain/0/backend/vif/5/0/mac", POLICY_MAC, 0);
	assert_int_equal(online(e, &d), 0);
	assert_non_null(fake_rule(&e->fake, "vif5.0"));
	assert_non_null(fake_rule(&e->fake, "vif5.0-emu"));
	assert_string_equal(tu_mac(&fake_rule(&e->fake, "vif5.0-emu")->mac), POLICY_MAC);
	assert_int_equal(offline(e), 1);
	assert_int_equal(e->fake.n_rules, 0);
	env_free(e);
}

static void test_failure_refuses_the_vif_and_releases_the_claim(void **state)
{
	struct env *e = env_new(NULL);
	struct vifmac_decision d;

	e->fake.enforce_error = -EPERM;
	assert_int_equal(online(e, &d), -EPERM);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_UNAVAILABLE);
	assert_non_null(strstr(d.refusal.message, "vif 0 of web1 (domid 5)"));
	assert_non_null(strstr(d.refusal.message, "vif5.0"));
	assert_non_null(strstr(d.refusal.message, "enforce_failure"));
	assert_int_equal(claims(e), 0);
	env_free(e);
}

static void test_failure_with_warn_lets_the_vif_run_and_says_so(void **state)
{
	struct env *e = env_new("enforce_failure = \"warn\"\n");
	struct vifmac_decision d;

	e->fake.enforce_error = -EOPNOTSUPP;
	assert_int_equal(online(e, &d), 0);
	assert_non_null(strstr(d.warning, "unfiltered"));
	assert_non_null(strstr(d.warning, "enforce_failure = \"warn\""));
	assert_int_equal(claims(e), 1);
	env_free(e);
}

static void test_enforce_off_installs_nothing(void **state)
{
	struct env *e = env_new("enforce = \"off\"\n");
	struct vifmac_decision d;

	assert_int_equal(online(e, &d), 0);
	assert_int_equal(e->fake.enforce_adds, 0);
	assert_int_equal(e->fake.n_rules, 0);
	env_free(e);
}

static void test_exempt_bridge_is_not_filtered_and_stale_rules_go(void **state)
{
	struct env *e = env_new("enforce_exempt_bridges = [ \"xenbr0\" ]\n");
	struct vifmac_decision d;
	struct vifmac_mac old;
	char why[256];

	/* an earlier life of the name vif5.0 held it to another MAC */
	assert_int_equal(vifmac_mac_parse("02:00:c0:00:02:63", &old), 0);
	assert_int_equal(vifmac_enforce_add(e->ctx, "vif5.0", &old), 0);
	assert_int_equal(online(e, &d), 0);
	assert_null(fake_rule(&e->fake, "vif5.0"));
	assert_false(vifmac_enforce_applies(e->ctx, "xenbr0", "web1", UUID_WEB1, why, sizeof(why)));
	assert_string_equal(why, "bridge xenbr0 is in enforce_exempt_bridges");
	assert_true(vifmac_enforce_applies(e->ctx, "xenbr1", "web1", UUID_WEB1, why, sizeof(why)));
	assert_string_equal(why, "");
	env_free(e);
}

static void test_exempt_domain_by_name_uuid_and_while_migrating_in(void **state)
{
	struct env *e = env_new("enforce_exempt_domains = [ \"router1\", \"" UUID_WEB1 "\" ]\n");
	struct vifmac_decision d;
	char why[256];

	assert_int_equal(online(e, &d), 0);
	assert_int_equal(e->fake.n_rules, 0);
	assert_false(vifmac_enforce_applies(e->ctx, "xenbr0", "router1", NULL, why, sizeof(why)));
	assert_string_equal(why, "domain router1 is in enforce_exempt_domains");
	assert_false(vifmac_enforce_applies(e->ctx, "xenbr0", "router1--incoming", NULL, NULL, 0));
	/* UUIDs in either case */
	assert_false(vifmac_enforce_applies(e->ctx, "xenbr0", "x", "6F1E2D3C-4B5A-4978-8A6B-5C4D3E2F1A0B", NULL, 0));
	assert_true(vifmac_enforce_applies(e->ctx, "xenbr0", "router10", NULL, NULL, 0));
	assert_true(vifmac_enforce_applies(e->ctx, "xenbr0", "router", NULL, NULL, 0));
	env_free(e);
}

static void test_interface_names_nftables_must_not_see_are_refused(void **state)
{
	struct env *e = env_new(NULL);
	struct vifmac_mac mac;

	assert_int_equal(vifmac_mac_parse(POLICY_MAC, &mac), 0);
	assert_int_equal(vifmac_enforce_add(e->ctx, "vif5.0; flush ruleset", &mac), -EINVAL);
	assert_int_equal(vifmac_enforce_add(e->ctx, "\"vif", &mac), -EINVAL);
	assert_int_equal(vifmac_enforce_add(e->ctx, "0vif", &mac), -EINVAL);
	assert_int_equal(vifmac_enforce_add(e->ctx, "vif12345.123456789", &mac), -EINVAL);
	assert_int_equal(vifmac_enforce_remove(e->ctx, "a b", NULL), -EINVAL);
	assert_int_equal(e->fake.enforce_adds, 0);
	assert_int_equal(vifmac_enforce_add(e->ctx, "vif5.0-emu", &mac), 0);
	env_free(e);
}

static void test_a_seam_without_filtering_fails_closed(void **state)
{
	struct env *e = env_new(NULL);
	struct vifmac_sys_ops ops = fake_sys_ops;
	struct vifmac_decision d;

	ops.enforce_add = NULL;
	vifmac_ctx_set_sys(e->ctx, &ops, &e->fake);
	assert_int_equal(online(e, &d), -EOPNOTSUPP);
	assert_non_null(strstr(d.refusal.message, "no per-vif filtering"));
	assert_int_equal(claims(e), 0);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_online_holds_the_vif_to_the_mac_it_was_given),
		cmocka_unit_test(test_offline_removes_exactly_that_vifs_rules_and_is_idempotent),
		cmocka_unit_test(test_hvm_tap_gets_the_same_rules_as_the_pv_vif),
		cmocka_unit_test(test_failure_refuses_the_vif_and_releases_the_claim),
		cmocka_unit_test(test_failure_with_warn_lets_the_vif_run_and_says_so),
		cmocka_unit_test(test_enforce_off_installs_nothing),
		cmocka_unit_test(test_exempt_bridge_is_not_filtered_and_stale_rules_go),
		cmocka_unit_test(test_exempt_domain_by_name_uuid_and_while_migrating_in),
		cmocka_unit_test(test_interface_names_nftables_must_not_see_are_refused),
		cmocka_unit_test(test_a_seam_without_filtering_fails_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
