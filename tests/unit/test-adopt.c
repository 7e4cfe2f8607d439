/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A host already in use: running vifs, their next decision, adoption into a real SQLite registry. */
#include "testutil.h"

#include <errno.h>

#include "fake-sys.h"

#define UUID_A "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
#define UUID_B "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3"
#define UUID_C "11111111-1111-4111-8111-111111111111"
#define UUID_OTHER "99999999-9999-4999-8999-999999999999"

struct env {
	struct fake_sys fake;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	char dir[64];
	struct vifmac_adoption seen[8];
	size_t n;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	fake_registry_env(&e->fake, &e->ctx, &e->reg, e->dir, sizeof(e->dir), "adopt", NULL);
	/* web1 started without the hook: libxl's random MAC */
	fake_add_domain(&e->fake, 5, "web1", UUID_A, false);
	fake_add_vif(&e->fake, 5, 0, "00:16:3e:11:22:33", "xenbr0", "192.0.2.10", "vif");
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

static int collect(void *data, const struct vifmac_adoption *a)
{
	struct env *e = data;

	if (e->n < 8)
		e->seen[e->n++] = *a;
	return 0;
}

static const struct vifmac_adoption *seen_for(struct env *e, const char *domain)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->seen[i].vif.dom.name, domain) == 0)
			return &e->seen[i];
	return NULL;
}

struct found {
	size_t n;
	struct vifmac_record rec;
};

static int found_fn(void *data, const struct vifmac_record *rec)
{
	struct found *f = data;

	f->rec = *rec;
	f->n++;
	return 0;
}

static struct found lookup(struct env *e, const char *mac_s)
{
	struct found f = { 0 };
	struct vifmac_mac mac;

	assert_int_equal(vifmac_mac_parse(mac_s, &mac), 0);
	assert_int_equal(vifmac_registry_lookup_mac(e->reg, &mac, found_fn, &f), 0);
	return f;
}

static void test_running_vifs_come_from_dom0_backends_with_the_hypervisors_uuid(void **state)
{
	struct env *e = *state;
	struct vifmac_running_vif *v = NULL;
	size_t n = 0;

	assert_int_equal(vifmac_running_vifs(e->ctx, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].domid, 5);
	assert_int_equal(v[0].devid, 0);
	assert_string_equal(tu_mac(&v[0].mac), "00:16:3e:11:22:33");
	assert_string_equal(v[0].bridge, "xenbr0");
	assert_string_equal(v[0].ip, "192.0.2.10");
	assert_string_equal(v[0].ifname, "vif5.0");
	assert_string_equal(v[0].dom.uuid, UUID_A);
	assert_string_equal(v[0].dom.name, "web1");
	/* the guest's own frontend directory is never read */
	assert_false(fake_was_read_under(&e->fake, "/local/domain/5/"));
	free(v);
}

static void test_running_vifs_need_the_hypervisor(void **state)
{
	struct env *e = *state;
	struct vifmac_sys_ops ops = fake_sys_ops;
	struct vifmac_running_vif *v = (void *)0x1;
	size_t n = 7;

	ops.list_domains = NULL;
	vifmac_ctx_set_sys(e->ctx, &ops, &e->fake);
	assert_int_equal(vifmac_running_vifs(e->ctx, &v, &n), -EOPNOTSUPP);
	assert_ptr_equal(v, (void *)0x1);
	assert_int_equal(n, 7);
}

static void test_next_start_treats_libxl_random_range_as_no_mac(void **state)
{
	struct env *e = *state;
	struct vifmac_running_vif v = { .devid = 0 };
	struct vifmac_decision d;

	snprintf(v.bridge, sizeof(v.bridge), "xenbr0");
	snprintf(v.ip, sizeof(v.ip), "192.0.2.10");
	assert_int_equal(vifmac_mac_parse("00:16:3e:11:22:33", &v.mac), 0);
	assert_int_equal(vifmac_decide_running(e->ctx, &v, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "02:00:c0:00:02:0a");
	/* 00:16:3e with a 4th byte >= 0x80 is outside libxl's range: an admin's (or xen-tools') mac= */
	assert_int_equal(vifmac_mac_parse("00:16:3e:ab:cd:ef", &v.mac), 0);
	assert_int_equal(vifmac_decide_running(e->ctx, &v, &d), -EPERM);
	assert_non_null(strstr(d.refusal.message, "mac=00:16:3e:ab:cd:ef differs from the policy's 02:00:c0:00:02:0a"));
}

static void test_adopt_records_the_current_mac_as_the_domains_claim(void **state)
{
	struct env *e = *state;
	struct found f;

	assert_int_equal(vifmac_adopt(e->ctx, e->reg, 0, collect, e), 0);
	assert_int_equal(e->n, 1);
	assert_int_equal(e->seen[0].result, VIFMAC_ADOPT_RECORDED);
	f = lookup(e, "00:16:3e:11:22:33");
	assert_int_equal(f.n, 1);
	assert_string_equal(f.rec.uuid, UUID_A);
	assert_string_equal(f.rec.domain, "web1");
	assert_int_equal(f.rec.devid, 0);
	assert_string_equal(f.rec.source, "adopted");
	assert_string_equal(f.rec.host, "dom0-a");
	assert_string_equal(f.rec.scope_key, "*");
	assert_string_equal(f.rec.ip, "192.0.2.10");
}

static void test_adopt_again_is_the_same_owner_claiming_again(void **state)
{
	struct env *e = *state;

	assert_int_equal(vifmac_adopt(e->ctx, e->reg, 0, NULL, NULL), 0);
	assert_int_equal(vifmac_adopt(e->ctx, e->reg, 0, collect, e), 0);
	assert_int_equal(e->seen[0].result, VIFMAC_ADOPT_ALREADY);
	assert_int_equal(lookup(e, "00:16:3e:11:22:33").n, 1);
}

static void test_dry_run_writes_nothing(void **state)
{
	struct env *e = *state;

	assert_int_equal(vifmac_adopt(e->ctx, e->reg, VIFMAC_ADOPT_DRY_RUN, collect, e), 0);
	assert_int_equal(e->seen[0].result, VIFMAC_ADOPT_RECORDED);
	assert_string_equal(e->seen[0].record.source, "adopted");
	assert_int_equal(lookup(e, "00:16:3e:11:22:33").n, 0);
}

static void test_mac_held_by_another_owner_is_reported_not_recorded(void **state)
{
	struct env *e = *state;
	struct vifmac_record rec, holder;
	const struct vifmac_adoption *a;
	struct found f;

	vifmac_record_init(&rec);
	assert_int_equal(vifmac_mac_parse("00:16:3e:11:22:33", &rec.mac), 0);
	snprintf(rec.uuid, sizeof(rec.uuid), UUID_OTHER);
	snprintf(rec.domain, sizeof(rec.domain), "elsewhere");
	rec.devid = 0;
	assert_int_equal(vifmac_registry_claim(e->reg, &rec, &holder), 0);
	for (int dry = 0; dry < 2; dry++) {
		e->n = 0;
		assert_int_equal(vifmac_adopt(e->ctx, e->reg, dry ? VIFMAC_ADOPT_DRY_RUN : 0, collect, e), 1);
		a = seen_for(e, "web1");
		assert_non_null(a);
		assert_int_equal(a->result, VIFMAC_ADOPT_CONFLICT);
		assert_string_equal(a->holder.uuid, UUID_OTHER);
		assert_non_null(strstr(a->message, "held in the registry by domain elsewhere"));
	}
	f = lookup(e, "00:16:3e:11:22:33");
	assert_int_equal(f.n, 1);
	assert_string_equal(f.rec.uuid, UUID_OTHER);
}

static void test_two_running_vifs_with_one_mac_are_both_left_out(void **state)
{
	struct env *e = *state;

	fake_add_domain(&e->fake, 6, "web2", UUID_B, false);
	fake_add_vif(&e->fake, 6, 0, "00:16:3e:11:22:33", "xenbr1", "192.0.2.11", "vif");
	fake_add_domain(&e->fake, 7, "db1", UUID_C, false);
	fake_add_vif(&e->fake, 7, 0, "00:16:3e:44:55:66", "xenbr0", NULL, "vif");
	assert_int_equal(vifmac_adopt(e->ctx, e->reg, 0, collect, e), 2);
	assert_int_equal(seen_for(e, "web1")->result, VIFMAC_ADOPT_CONFLICT);
	assert_int_equal(seen_for(e, "web2")->result, VIFMAC_ADOPT_CONFLICT);
	assert_string_equal(seen_for(e, "web1")->holder.domain, "web2");
	assert_string_equal(seen_for(e, "web1")->holder.source, "running");
	assert_int_equal(seen_for(e, "db1")->result, VIFMAC_ADOPT_RECORDED);
	assert_int_equal(lookup(e, "00:16:3e:11:22:33").n, 0);
	assert_int_equal(lookup(e, "00:16:3e:44:55:66").n, 1);
}

static void test_same_mac_on_two_bridges_is_fine_with_scope_bridge(void **state)
{
	struct env *e = *state;

	assert_int_equal(tu_load_policy_text(e->ctx, "scope = \"bridge\"\n"), 0);
	fake_add_domain(&e->fake, 6, "web2", UUID_B, false);
	fake_add_vif(&e->fake, 6, 0, "00:16:3e:11:22:33", "xenbr1", "192.0.2.11", "vif");
	assert_int_equal(vifmac_adopt(e->ctx, e->reg, 0, collect, e), 0);
	assert_string_equal(seen_for(e, "web2")->record.scope_key, "xenbr1");
	assert_int_equal(lookup(e, "00:16:3e:11:22:33").n, 2);
}

static void test_vif_of_a_domain_the_hypervisor_does_not_know_is_not_recorded(void **state)
{
	struct env *e = *state;

	fake_add_vif(&e->fake, 9, 0, "00:16:3e:77:77:77", "xenbr0", "192.0.2.77", "vif");
	assert_int_equal(vifmac_adopt(e->ctx, e->reg, 0, collect, e), 1);
	assert_int_equal(e->n, 2);
	for (size_t i = 0; i < e->n; i++)
		if (e->seen[i].vif.domid == 9) {
			assert_int_equal(e->seen[i].result, VIFMAC_ADOPT_UNKNOWN_DOMAIN);
			assert_non_null(strstr(e->seen[i].message, "knows no domain 9"));
		}
	assert_int_equal(lookup(e, "00:16:3e:77:77:77").n, 0);
}

static int stop_fn(void *data, const struct vifmac_adoption *a)
{
	return 42;
}

static void test_callback_result_stops_adoption(void **state)
{
	struct env *e = *state;

	fake_add_domain(&e->fake, 6, "web2", UUID_B, false);
	fake_add_vif(&e->fake, 6, 0, "00:16:3e:44:55:66", "xenbr0", "192.0.2.11", "vif");
	assert_int_equal(vifmac_adopt(e->ctx, e->reg, 0, stop_fn, NULL), 42);
	assert_int_equal(lookup(e, "00:16:3e:44:55:66").n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_running_vifs_come_from_dom0_backends_with_the_hypervisors_uuid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_running_vifs_need_the_hypervisor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_start_treats_libxl_random_range_as_no_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_records_the_current_mac_as_the_domains_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt_again_is_the_same_owner_claiming_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_held_by_another_owner_is_reported_not_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_running_vifs_with_one_mac_are_both_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_mac_on_two_bridges_is_fine_with_scope_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vif_of_a_domain_the_hypervisor_does_not_know_is_not_recorded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_callback_result_stops_adoption, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
