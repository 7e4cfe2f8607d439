/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vifmac_audit through the fake seam and a real SQLite registry. */
#include "testutil.h"

#include <errno.h>

#include "fake-sys.h"

#define UUID_A "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
#define UUID_B "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3"
#define UUID_GONE "99999999-9999-4999-8999-999999999999"

struct env {
	struct fake_sys fake;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	char dir[64];
	struct vifmac_finding found[16];
	size_t n;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	fake_registry_env(&e->fake, &e->ctx, &e->reg, e->dir, sizeof(e->dir), "audit", NULL);
	/* a healthy host: web1 with its policy MAC, learned on its own port */
	fake_add_domain(&e->fake, 5, "web1", UUID_A, false);
	fake_add_vif(&e->fake, 5, 0, "02:00:c0:00:02:0a", "xenbr0", "192.0.2.10", "vif");
	fake_add_fdb(&e->fake, "02:00:c0:00:02:0a", "xenbr0", "vif5.0", 3);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fake_registry_env_free(e->ctx, e->reg, e->dir);
	fake_sys_free(&e->fake);
	free(e);
	return 0;
}

static int collect(void *data, const struct vifmac_finding *f)
{
	struct env *e = data;

	if (e->n < 16)
		e->found[e->n++] = *f;
	return 0;
}

static const struct vifmac_finding *finding(struct env *e, const char *kind)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->found[i].kind, kind) == 0)
			return &e->found[i];
	return NULL;
}

static void claim(struct env *e, const char *mac, const char *uuid, const char *domain)
{
	struct vifmac_record rec, holder;

	vifmac_record_init(&rec);
	assert_int_equal(vifmac_mac_parse(mac, &rec.mac), 0);
	snprintf(rec.uuid, sizeof(rec.uuid), "%s", uuid);
	snprintf(rec.domain, sizeof(rec.domain), "%s", domain);
	rec.devid = 0;
	assert_int_equal(vifmac_registry_claim(e->reg, &rec, &holder), 0);
}

static void test_healthy_host_is_ok(void **state)
{
	struct env *e = *state;
	struct vifmac_audit_counts c;

	claim(e, "02:00:c0:00:02:0a", UUID_A, "web1");
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, &c), 0);
	assert_int_equal(e->n, 0);
	assert_int_equal(c.vifs, 1);
	assert_int_equal(c.fdb_entries, 1);
	assert_int_equal(c.claims, 1);
}

static void test_duplicate_vifs_are_critical(void **state)
{
	struct env *e = *state;
	const struct vifmac_finding *f;

	fake_add_domain(&e->fake, 6, "web2", UUID_B, false);
	fake_add_vif(&e->fake, 6, 0, "02:00:c0:00:02:0a", "xenbr1", "192.0.2.10", "vif");
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_CRITICAL);
	f = finding(e, "duplicate-vif");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "domain web1 domid 5 vif 0"));
	assert_non_null(strstr(f->message, "domain web2 domid 6 vif 0"));
}

static void test_random_mac_without_the_hook_is_outside_policy(void **state)
{
	struct env *e = *state;
	const struct vifmac_finding *f;

	fake_add_domain(&e->fake, 7, "old", UUID_B, false);
	fake_add_vif(&e->fake, 7, 0, "00:16:3e:11:22:33", "xenbr0", "192.0.2.20", "vif");
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_WARNING);
	f = finding(e, "outside-policy");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "00:16:3e:11:22:33 (libxl's random range"));
	assert_non_null(strstr(f->message, "the policy gives 02:00:c0:00:02:14"));
}

static void test_our_mac_on_a_foreign_port_is_critical(void **state)
{
	struct env *e = *state;
	const struct vifmac_finding *f;

	fake_add_fdb(&e->fake, "02:00:c0:00:02:0a", "xenbr0", "eth0", 9);
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_CRITICAL);
	f = finding(e, "foreign-use");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "bridge xenbr0 port eth0 (learned 9s ago)"));
}

static void test_stale_claim_is_a_warning_and_seen_claim_is_critical(void **state)
{
	struct env *e = *state;
	const struct vifmac_finding *f;

	claim(e, "02:00:c0:00:02:0a", UUID_A, "web1");
	claim(e, "02:00:c0:00:02:63", UUID_GONE, "gone");
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_WARNING);
	f = finding(e, "stale-claim");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "domain gone"));
	/* and if someone else now uses that claimed MAC on the wire */
	e->n = 0;
	fake_add_fdb(&e->fake, "02:00:c0:00:02:63", "xenbr0", "eth0", 1);
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_CRITICAL);
	assert_non_null(finding(e, "foreign-use"));
}

static void test_unknown_mac_on_two_ports_and_vif_mac_on_dom0_link(void **state)
{
	struct env *e = *state;

	fake_add_fdb(&e->fake, "52:54:00:00:00:01", "xenbr0", "eth0", 1);
	fake_add_fdb(&e->fake, "52:54:00:00:00:01", "xenbr0", "eth1", 1);
	fake_add_link(&e->fake, "dummy0", "02:00:c0:00:02:0a", NULL);
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_CRITICAL);
	assert_non_null(finding(e, "duplicate-port"));
	assert_non_null(finding(e, "dom0-link"));
}

static void test_vif_on_a_pool_bridge_is_not_outside_policy(void **state)
{
	struct env *e = *state;

	assert_int_equal(tu_load_policy_text(e->ctx, "public_bridges = [ \"xenpool\" ]\n"
						     "bridge_pools = [ \"xenpool=block\" ]\n"), 0);
	fake_add_domain(&e->fake, 7, "pooled", UUID_B, false);
	fake_add_vif(&e->fake, 7, 0, "52:54:00:bb:00:00", "xenpool", "203.0.113.21", "vif");
	claim(e, "02:00:c0:00:02:0a", UUID_A, "web1");
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), 0);
	assert_null(finding(e, "outside-policy"));
}

static void test_audit_fails_when_domains_cannot_be_listed(void **state)
{
	struct env *e = *state;
	struct vifmac_sys_ops ops = fake_sys_ops;

	ops.list_domains = NULL;
	vifmac_ctx_set_sys(e->ctx, &ops, &e->fake);
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), -EOPNOTSUPP);
}

static void test_running_vif_without_its_rules_is_critical_leftover_rules_a_warning(void **state)
{
	struct env *e = *state;
	struct vifmac_mac mac;

	fake_set(&e->fake, "/local/domain/0/backend/vif/5/0/hotplug-status", "connected", 0);
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_CRITICAL);
	assert_non_null(finding(e, "missing-rules"));
	assert_non_null(strstr(finding(e, "missing-rules")->message, "vif5.0 has no rules holding it to 02:00:c0:00:02:0a"));
	/* its rules installed: healthy again */
	e->n = 0;
	assert_int_equal(vifmac_mac_parse("02:00:c0:00:02:0a", &mac), 0);
	assert_int_equal(vifmac_enforce_add(e->ctx, "vif5.0", &mac), 0);
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_OK);
	assert_int_equal(e->n, 0);
	/* held to another MAC: as bad as none */
	assert_int_equal(vifmac_mac_parse("02:00:c0:00:02:0b", &mac), 0);
	assert_int_equal(vifmac_enforce_add(e->ctx, "vif5.0", &mac), 0);
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_CRITICAL);
	assert_non_null(strstr(finding(e, "missing-rules")->message, "held to 02:00:c0:00:02:0b, not to its MAC"));
	/* rules for an interface no vif has */
	e->n = 0;
	assert_int_equal(vifmac_mac_parse("02:00:c0:00:02:0a", &mac), 0);
	assert_int_equal(vifmac_enforce_add(e->ctx, "vif5.0", &mac), 0);
	assert_int_equal(vifmac_enforce_add(e->ctx, "vif77.0", &mac), 0);
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_WARNING);
	assert_non_null(finding(e, "stale-rules"));
	assert_non_null(strstr(finding(e, "stale-rules")->message, "vif77.0"));
}

static void test_exempt_vif_is_shown_not_reported(void **state)
{
	struct env *e = *state;

	fake_set(&e->fake, "/local/domain/0/backend/vif/5/0/hotplug-status", "connected", 0);
	assert_int_equal(tu_load_policy_text(e->ctx, "enforce_exempt_domains = [ \"web1\" ]\n"), 0);
	assert_int_equal(vifmac_audit(e->ctx, e->reg, collect, e, NULL), VIFMAC_SEVERITY_OK);
	assert_null(finding(e, "missing-rules"));
	assert_non_null(finding(e, "enforce-exempt"));
	assert_int_equal(finding(e, "enforce-exempt")->severity, VIFMAC_SEVERITY_OK);
	assert_non_null(strstr(finding(e, "enforce-exempt")->message, "domain web1 is in enforce_exempt_domains"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_healthy_host_is_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_vifs_are_critical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_mac_without_the_hook_is_outside_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_our_mac_on_a_foreign_port_is_critical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_claim_is_a_warning_and_seen_claim_is_critical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_mac_on_two_ports_and_vif_mac_on_dom0_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vif_on_a_pool_bridge_is_not_outside_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_fails_when_domains_cannot_be_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_running_vif_without_its_rules_is_critical_leftover_rules_a_warning, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exempt_vif_is_shown_not_reported, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
