/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hotplug pipeline through the system seam: a fake xenstore that knows
 * node ownership, a real SQLite registry in a temporary folder.
 */
#include "testutil.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake-sys.h"

#define UUID_WEB1 "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
#define UUID_WEB2 "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3"
#define BE5 "/local/domain/0/backend/vif/5/0"
#define FE5 "/local/domain/5/device/vif/0"
#define POLICY_MAC "02:00:c0:00:02:0a"
#define UUID_OLD "9cf1a2b3-c4d5-4e6f-8a7b-8c9d0e1f2a3b" /* web1 before dom0 crashed */

struct env {
	struct fake_sys fake;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	char dir[64];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	fake_registry_env(&e->fake, &e->ctx, &e->reg, e->dir, sizeof(e->dir), "hotplug",
			  "private_bridges = [ \"xenbr0\", \"xenbr1\" ]\n");
	/* web1, domid 5, paused in xl create, random MAC from libxl */
	fake_add_domain(&e->fake, 5, "web1", UUID_WEB1, true);
	fake_add_vif(&e->fake, 5, 0, "00:16:3e:12:34:56", "xenbr0", "192.0.2.10", "vif");
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

static int count_fn(void *data, const struct vifmac_record *rec)
{
	(*(int *)data)++;
	return 0;
}

static int claims_of(struct env *e, const char *mac_s)
{
	struct vifmac_mac mac;
	int n = 0;

	assert_int_equal(vifmac_mac_parse(mac_s, &mac), 0);
	assert_int_equal(vifmac_registry_lookup_mac(e->reg, &mac, count_fn, &n), 0);
	return n;
}

static int online(struct env *e, const char *xenbus_path, struct vifmac_decision *d)
{
	struct vifmac_hotplug_vif vif;
	int r = vifmac_hotplug_read(e->ctx, xenbus_path, &vif);

	if (r < 0)
		return r;
	return vifmac_hotplug_online(e->ctx, e->reg, &vif, vifmac_hotplug_mode_for(&vif), d);
}

static void test_online_rewrites_backend_frontend_and_libxl_copy(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_string_equal(tu_mac(&d.mac), POLICY_MAC);
	assert_string_equal(fake_get(&e->fake, BE5 "/mac"), POLICY_MAC);
	assert_string_equal(fake_get(&e->fake, FE5 "/mac"), POLICY_MAC);
	assert_string_equal(fake_get(&e->fake, "/libxl/5/device/vif/0/mac"), POLICY_MAC);
	assert_string_equal(fake_get(&e->fake, BE5 "/vifmac-owner"), UUID_WEB1);
	/* all in one transaction */
	assert_int_equal(e->fake.xs.commits, 1);
	assert_int_equal(claims_of(e, POLICY_MAC), 1);
}

static void test_frontend_is_never_read_as_input(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	/* the guest plants values in its own frontend directory */
	fake_set(&e->fake, FE5 "/mac", "02:00:c0:00:02:63", 5);
	fake_set(&e->fake, FE5 "/ip", "192.0.2.99", 5);
	fake_set(&e->fake, FE5 "/bridge", "xenbr1", 5);
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_string_equal(tu_mac(&d.mac), POLICY_MAC);
	assert_false(fake_was_read_under(&e->fake, "/local/domain/5/"));
	/* it was written to, so the guest gets the MAC */
	assert_string_equal(fake_get(&e->fake, FE5 "/mac"), POLICY_MAC);
}

static void test_guest_owned_backend_node_is_refused(void **state)
{
	struct env *e = *state;
	struct vifmac_hotplug_vif vif;

	fake_set(&e->fake, BE5 "/ip", "192.0.2.77", 5);
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), BE5 "/ip is owned by domain 5"));
}

static void test_backend_for_another_frontend_is_refused(void **state)
{
	struct env *e = *state;
	struct vifmac_hotplug_vif vif;

	fake_set(&e->fake, BE5 "/frontend", "/local/domain/6/device/vif/0", 0);
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), "/frontend is"));
}

static void test_malformed_xenstore_values_are_input_errors(void **state)
{
	struct env *e = *state;
	struct vifmac_hotplug_vif vif;
	struct vifmac_decision d;
	char big[300];

	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/x", &vif), -EINVAL);
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vbd/5/0", &vif), -EINVAL);
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/05/0", &vif), -EINVAL);
	assert_int_equal(vifmac_hotplug_read(e->ctx, NULL, &vif), -EINVAL);
	fake_set(&e->fake, BE5 "/mac", "00:16:3e:zz:34:56", 0);
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), "is not a MAC address"));
	fake_set(&e->fake, BE5 "/mac", "00:16:3e:12:34:56", 0);
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fake_set(&e->fake, BE5 "/bridge", big, 0);
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), "too long"));
	fake_set(&e->fake, BE5 "/bridge", "xenbr0", 0);
	fake_set(&e->fake, BE5 "/ip", "192.0.2.010", 0);
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EINVAL);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_INPUT);
	assert_int_equal(claims_of(e, POLICY_MAC), 0);
}

static void test_conflict_in_registry_names_the_holder_and_writes_nothing(void **state)
{
	struct env *e = *state;
	struct vifmac_record rec, holder;
	struct vifmac_decision d;
	char line[1024];

	vifmac_record_init(&rec);
	assert_int_equal(vifmac_mac_parse(POLICY_MAC, &rec.mac), 0);
	snprintf(rec.domain, sizeof(rec.domain), "web2");
	snprintf(rec.uuid, sizeof(rec.uuid), UUID_WEB2);
	rec.devid = 0;
	snprintf(rec.bridge, sizeof(rec.bridge), "xenbr1");
	assert_int_equal(vifmac_registry_claim(e->reg, &rec, &holder), 0);
	fake_add_domain(&e->fake, 3, "web2", UUID_WEB2, false); /* the holder runs: its claim is live */

	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_CONFLICT);
	assert_string_equal(d.refusal.holder.where, "registry");
	assert_string_equal(d.refusal.holder.domain, "web2");
	assert_string_equal(d.refusal.holder.uuid, UUID_WEB2);
	vifmac_refusal_format(&d.refusal, line, sizeof(line));
	assert_non_null(strstr(line, POLICY_MAC));
	assert_non_null(strstr(line, "domain web2"));
	assert_non_null(strstr(line, "host dom0-a"));
	assert_string_equal(fake_get(&e->fake, BE5 "/mac"), "00:16:3e:12:34:56");
	assert_int_equal(e->fake.xs.commits, 0);
}

static void test_conflict_with_a_vif_created_without_vifmac(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	fake_add_domain(&e->fake, 3, "old", UUID_WEB2, false);
	fake_add_vif(&e->fake, 3, 0, POLICY_MAC, "xenbr1", NULL, "vif");
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
	assert_string_equal(d.refusal.holder.where, "xenstore");
	assert_string_equal(d.refusal.holder.domain, "old");
	assert_non_null(strstr(d.refusal.holder.detail, "domain 3 vif 0 on bridge xenbr1"));
	assert_int_equal(claims_of(e, POLICY_MAC), 0);
}

static void test_conflict_with_a_dom0_link(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;
	char line[1024];

	fake_add_link(&e->fake, "dummy0", POLICY_MAC, NULL);
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
	assert_string_equal(d.refusal.holder.where, "dom0-link");
	vifmac_refusal_format(&d.refusal, line, sizeof(line));
	assert_non_null(strstr(line, "dom0 interface dummy0"));
}

static void test_own_dom0_interface_is_not_a_conflict(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	fake_add_link(&e->fake, "vif5.0", POLICY_MAC, "xenbr0");
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
}

static void test_bridge_scope_ignores_other_bridges(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	assert_int_equal(tu_load_policy_text(e->ctx, "scope = \"bridge\"\n"), 0);
	fake_add_domain(&e->fake, 3, "other", UUID_WEB2, false);
	fake_add_vif(&e->fake, 3, 0, POLICY_MAC, "xenbr1", NULL, "vif");
	fake_add_link(&e->fake, "dummy0", POLICY_MAC, "xenbr1");
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_string_equal(d.scope_key, "xenbr0");
	/* but the same bridge conflicts */
	fake_set(&e->fake, "/local/domain/0/backend/vif/3/0/bridge", "xenbr0", 0);
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_WEB1, -1), 1);
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
}

static void test_two_vifs_of_one_domain_conflict(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	fake_add_vif(&e->fake, 5, 1, "00:16:3e:12:34:57", "xenbr1", "192.0.2.10", "vif");
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_int_equal(online(e, "backend/vif/5/1", &d), -EEXIST);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_CONFLICT);
}

static void test_hvm_emulated_nic_is_verified_not_rewritten(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	fake_set(&e->fake, BE5 "/type", "vif_ioemu", 0);
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EPERM);
	assert_non_null(strstr(d.refusal.message, "HVM emulated NIC"));
	assert_non_null(strstr(d.refusal.message, "vifmac xl-args"));
	assert_non_null(strstr(d.refusal.message, "mac=" POLICY_MAC));
	assert_string_equal(fake_get(&e->fake, BE5 "/mac"), "00:16:3e:12:34:56");
	assert_int_equal(claims_of(e, POLICY_MAC), 0);
	/* started with vifmac xl-args: the MAC is already right, and is claimed */
	fake_set(&e->fake, BE5 "/mac", POLICY_MAC, 0);
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_int_equal(claims_of(e, POLICY_MAC), 1);
}

static void test_hot_attach_to_running_guest_is_verified(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	e->fake.xs.domains[0].paused = false;
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EPERM);
	assert_non_null(strstr(d.refusal.message, "xl network-detach 5 0"));
	assert_non_null(strstr(d.refusal.message, "vifmac network-attach web1"));
	assert_string_equal(fake_get(&e->fake, FE5 "/mac"), "00:16:3e:12:34:56");
}

static void test_restore_reclaims_the_same_mac(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	/* xl restore: new domid, same UUID, libxl's saved random MAC again */
	fake_add_domain(&e->fake, 9, "web1", UUID_WEB1, true);
	fake_add_vif(&e->fake, 9, 0, "00:16:3e:12:34:56", "xenbr0", "192.0.2.10", "vif");
	fake_set(&e->fake, BE5 "/mac", "00:16:3e:00:00:01", 0); /* the old one is being torn down */
	fake_del_domain(&e->fake, 5);                              /* and is no longer a domain */
	assert_int_equal(online(e, "backend/vif/9/0", &d), 0);
	assert_string_equal(fake_get(&e->fake, "/local/domain/9/device/vif/0/mac"), POLICY_MAC);
	assert_int_equal(claims_of(e, POLICY_MAC), 1);
}

static void test_offline_releases_own_claim_even_when_domain_is_gone(void **state)
{
	struct env *e = *state;
	struct vifmac_hotplug_vif vif;
	struct vifmac_decision d;

	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	/* failed create: the domain is destroyed before offline runs */
	e->fake.xs.n_domains = 0;
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), 0);
	assert_string_equal(vif.dom.uuid, "");
	assert_int_equal(vifmac_hotplug_offline(e->ctx, e->reg, &vif), 1);
	assert_int_equal(claims_of(e, POLICY_MAC), 0);
	/* idempotent */
	assert_int_equal(vifmac_hotplug_offline(e->ctx, e->reg, &vif), 0);
}

static void test_offline_never_releases_another_owners_claim(void **state)
{
	struct env *e = *state;
	struct vifmac_record rec, holder;
	struct vifmac_hotplug_vif vif;
	struct vifmac_decision d;

	vifmac_record_init(&rec);
	assert_int_equal(vifmac_mac_parse(POLICY_MAC, &rec.mac), 0);
	snprintf(rec.uuid, sizeof(rec.uuid), UUID_WEB2);
	rec.devid = 0;
	assert_int_equal(vifmac_registry_claim(e->reg, &rec, &holder), 0);
	fake_add_domain(&e->fake, 3, "web2", UUID_WEB2, false);
	/* our create is refused; its offline run must leave web2's claim alone */
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_offline(e->ctx, e->reg, &vif), 0);
	assert_int_equal(claims_of(e, POLICY_MAC), 1);
}

static void test_eagain_storm_is_retried_then_refused_and_claim_released(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	e->fake.xs.eagain = 5;
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_string_equal(fake_get(&e->fake, BE5 "/mac"), POLICY_MAC);
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_WEB1, -1), 1);
	fake_set(&e->fake, BE5 "/mac", "00:16:3e:12:34:56", 0);
	e->fake.xs.eagain = 1000;
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EAGAIN);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_UNAVAILABLE);
	assert_string_equal(fake_get(&e->fake, BE5 "/mac"), "00:16:3e:12:34:56");
	assert_int_equal(claims_of(e, POLICY_MAC), 0);
}

static void test_policy_refusal_claims_nothing(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	fake_set(&e->fake, BE5 "/ip", "2001:db8::1", 0);
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EPERM);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_POLICY);
	assert_int_equal(e->fake.xs.commits, 0);
}

static void test_mac_learned_on_a_foreign_port_is_refused_with_bridge_port_and_age(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;
	char line[1024];

	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr0", "eth0", 42);
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
	assert_string_equal(d.refusal.holder.where, "fdb");
	vifmac_refusal_format(&d.refusal, line, sizeof(line));
	assert_non_null(strstr(line, "bridge xenbr0 port eth0, learned 42s ago"));
	assert_int_equal(claims_of(e, POLICY_MAC), 0);
}

static void test_fdb_entries_on_own_and_other_vif_ports_are_not_wire_evidence(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr0", "vif5.0", 1);
	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr0", "vif9.0-emu", 1);
	fake_add_fdb(&e->fake, "02:00:c0:00:02:63", "xenbr0", "eth0", 1);
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
}

static void test_fdb_on_another_bridge_is_ignored_under_bridge_scope(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	assert_int_equal(tu_load_policy_text(e->ctx, "scope = \"bridge\"\n"), 0);
	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr1", "eth1", 3);
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	e->fake.fdb[0].bridge[5] = '0'; /* now on xenbr0 */
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_WEB1, -1), 1);
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
}

static void test_neighbour_with_another_ip_is_refused_own_ip_is_not(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	/* dom0 remembers this guest's own earlier life: same IP, same MAC */
	fake_add_neigh(&e->fake, POLICY_MAC, "192.0.2.10", "xenbr0");
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_WEB1, -1), 1);
	/* someone else answers ARP for another address with our MAC */
	fake_add_neigh(&e->fake, POLICY_MAC, "192.0.2.99", "xenbr0");
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
	assert_string_equal(d.refusal.holder.where, "neighbour");
	assert_non_null(strstr(d.refusal.holder.detail, "192.0.2.99 on xenbr0 (reachable)"));
}

static void test_wire_check_warn_lets_it_through_with_the_evidence(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	assert_int_equal(tu_load_policy_text(e->ctx, "wire_check = \"warn\"\n"), 0);
	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr0", "eth0", 7);
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_non_null(strstr(d.warning, "bridge xenbr0 port eth0"));
	assert_int_equal(claims_of(e, POLICY_MAC), 1);
}

static void test_wire_check_off_ignores_the_wire(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	assert_int_equal(tu_load_policy_text(e->ctx, "wire_check = \"off\"\n"), 0);
	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr0", "eth0", 7);
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_string_equal(d.warning, "");
}

static void test_reclaim_by_the_same_vif_ignores_its_own_wire_traces(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	/* reboot: the old port's entry lingers on the uplink */
	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr0", "eth0", 2);
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
}


/* A claim as a crash of dom0 leaves it: recorded by @host an hour ago for @uuid. */
static void leave_claim(struct env *e, const char *mac, const char *name, const char *uuid, const char *host)
{
	struct vifmac_record rec, holder;

	vifmac_record_init(&rec);
	assert_int_equal(vifmac_mac_parse(mac, &rec.mac), 0);
	snprintf(rec.domain, sizeof(rec.domain), "%s", name);
	snprintf(rec.uuid, sizeof(rec.uuid), "%s", uuid);
	rec.devid = 0;
	snprintf(rec.bridge, sizeof(rec.bridge), "xenbr0");
	snprintf(rec.ip, sizeof(rec.ip), "192.0.2.10");
	snprintf(rec.host, sizeof(rec.host), "%s", host);
	snprintf(rec.source, sizeof(rec.source), "ip-derived");
	rec.created = rec.updated = e->fake.now - 3600;
	assert_int_equal(vifmac_registry_insert(e->reg, &rec, &holder), 0);
}

struct holder_of {
	char uuid[VIFMAC_UUID_STRLEN];
	char domain[128];
	char host[256];
	int n;
};

static int holder_fn(void *data, const struct vifmac_record *rec)
{
	struct holder_of *h = data;

	snprintf(h->uuid, sizeof(h->uuid), "%s", rec->uuid);
	snprintf(h->domain, sizeof(h->domain), "%s", rec->domain);
	snprintf(h->host, sizeof(h->host), "%s", rec->host);
	h->n++;
	return 0;
}

static struct holder_of holder_of(struct env *e, const char *mac_s)
{
	struct holder_of h = { .n = 0 };
	struct vifmac_mac mac;

	assert_int_equal(vifmac_mac_parse(mac_s, &mac), 0);
	assert_int_equal(vifmac_registry_lookup_mac(e->reg, &mac, holder_fn, &h), 0);
	return h;
}

static void test_a_claim_without_a_dependable_host_name_is_refused(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;
	struct holder_of h;

	snprintf(e->fake.hostname, sizeof(e->fake.hostname), "localhost");
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EINVAL);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_UNAVAILABLE);
	assert_non_null(strstr(d.refusal.message, "this host's name is \"localhost\""));
	assert_non_null(strstr(d.refusal.message, "host_name"));
	assert_int_equal(claims_of(e, POLICY_MAC), 0);
	snprintf(e->fake.hostname, sizeof(e->fake.hostname), "(none)");
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EINVAL);
	/* the policy names the host */
	assert_int_equal(tu_load_policy_text(e->ctx, "private_bridges = [ \"xenbr0\" ]\nhost_name = \"dom0-x\"\n"), 0);
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	h = holder_of(e, POLICY_MAC);
	assert_string_equal(h.host, "dom0-x");
}

static void test_same_uuid_outside_a_migration_is_refused(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;
	char line[1024];

	/* a config copied with its uuid= line */
	fake_add_domain(&e->fake, 6, "web1-copy", UUID_WEB1, false);
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
	assert_int_equal(d.refusal.kind, VIFMAC_REFUSAL_CONFLICT);
	vifmac_refusal_format(&d.refusal, line, sizeof(line));
	assert_non_null(strstr(line, "the domain's UUID " UUID_WEB1 " is not its own"));
	assert_non_null(strstr(line, "domain web1-copy (domid 6) runs with the same UUID"));
	assert_int_equal(claims_of(e, POLICY_MAC), 0);
}

/* The hand-over of xl migrate on one host, step by step (tools/xl/xl_migrate.c). */
static void test_migration_hand_over_is_accepted_and_keeps_the_claim(void **state)
{
	struct env *e = *state;
	struct vifmac_hotplug_vif src;
	struct vifmac_decision d;
	struct holder_of h;

	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	e->fake.xs.domains[0].paused = false; /* web1 runs */
	/* the receiver: the same UUID, paused, named --incoming, its MAC from the stream; web1 still runs */
	fake_add_domain(&e->fake, 6, "web1--incoming", UUID_WEB1, true);
	fake_add_vif(&e->fake, 6, 0, POLICY_MAC, "xenbr0", "192.0.2.10", "vif");
	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr0", "vif5.0", 1); /* the source sends meanwhile */
	assert_int_equal(online(e, "backend/vif/6/0", &d), 0);
	h = holder_of(e, POLICY_MAC);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.domain, "web1"); /* the guest's own name, not xl's --incoming */
	assert_string_equal(fake_get(&e->fake, "/local/domain/0/backend/vif/6/0/vifmac-owner"), UUID_WEB1);
	/* the stream is through: the source is renamed, destroyed, its vif goes offline */
	snprintf(e->fake.xs.domains[0].name, sizeof(e->fake.xs.domains[0].name), "web1--migratedaway");
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &src), 0);
	fake_del_domain(&e->fake, 5);
	assert_int_equal(vifmac_hotplug_offline(e->ctx, e->reg, &src), 0);
	/* the receiver is renamed web1 and unpaused: the claim is still there */
	assert_int_equal(holder_of(e, POLICY_MAC).n, 1);
}

static void test_failed_migration_leaves_the_sources_claim(void **state)
{
	struct env *e = *state;
	struct vifmac_hotplug_vif in;
	struct vifmac_decision d;

	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	e->fake.xs.domains[0].paused = false;
	fake_add_domain(&e->fake, 6, "web1--incoming", UUID_WEB1, true);
	fake_add_vif(&e->fake, 6, 0, POLICY_MAC, "xenbr0", "192.0.2.10", "vif");
	assert_int_equal(online(e, "backend/vif/6/0", &d), 0);
	/* the stream broke: the receiver is destroyed, web1 runs on */
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/6/0", &in), 0);
	fake_del_domain(&e->fake, 6);
	assert_int_equal(vifmac_hotplug_offline(e->ctx, e->reg, &in), 0);
	assert_int_equal(holder_of(e, POLICY_MAC).n, 1);
}

static void test_offline_after_a_migration_to_another_host_keeps_that_hosts_claim(void **state)
{
	struct env *e = *state;
	struct vifmac_hotplug_vif vif;
	struct holder_of h;

	/* a shared registry: dom0-b re-claimed web1's MAC when the guest arrived there */
	leave_claim(e, POLICY_MAC, "web1", UUID_WEB1, "dom0-b");
	fake_set(&e->fake, BE5 "/vifmac-owner", UUID_WEB1, 0);
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), 0);
	fake_del_domain(&e->fake, 5);
	assert_int_equal(vifmac_hotplug_offline(e->ctx, e->reg, &vif), 0);
	h = holder_of(e, POLICY_MAC);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.host, "dom0-b");
}

static void test_arriving_domain_is_not_refused_for_the_source_on_the_wire(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	/* per-host registries: the source still runs on the other host and is learned on the uplink */
	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr0", "eth0", 1);
	snprintf(e->fake.xs.domains[0].name, sizeof(e->fake.xs.domains[0].name), "web1--incoming");
	fake_set(&e->fake, BE5 "/mac", POLICY_MAC, 0);
	assert_int_equal(online(e, "backend/vif/5/0", &d), 0);
	assert_int_equal(claims_of(e, POLICY_MAC), 1);
	/* a domain of another name is refused for the same trace */
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_WEB1, -1), 1);
	snprintf(e->fake.xs.domains[0].name, sizeof(e->fake.xs.domains[0].name), "web1");
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
	assert_string_equal(d.refusal.holder.where, "fdb");
}

static void test_wire_evidence_from_another_guests_port_names_that_guest(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;
	char line[1024];

	/* without enforce = "mac": guest squat (domid 7) sent an ARP from web1's MAC */
	fake_add_domain(&e->fake, 7, "squat", UUID_WEB2, false);
	fake_add_fdb(&e->fake, POLICY_MAC, "xenbr0", "vif7.0", 2);
	fake_add_neigh(&e->fake, POLICY_MAC, "192.0.2.99", "xenbr0");
	assert_int_equal(online(e, "backend/vif/5/0", &d), -EEXIST);
	assert_string_equal(d.refusal.holder.where, "guest-wire");
	vifmac_refusal_format(&d.refusal, line, sizeof(line));
	assert_non_null(strstr(line, "sent from vif port vif7.0 of domain squat (domid 7)"));
	assert_non_null(strstr(line, "a guest sends from this MAC"));
	assert_null(strstr(line, "someone else"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_online_rewrites_backend_frontend_and_libxl_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frontend_is_never_read_as_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_owned_backend_node_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_for_another_frontend_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_xenstore_values_are_input_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_in_registry_names_the_holder_and_writes_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_conflict_with_a_vif_created_without_vifmac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_with_a_dom0_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_dom0_interface_is_not_a_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge_scope_ignores_other_bridges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_vifs_of_one_domain_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hvm_emulated_nic_is_verified_not_rewritten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hot_attach_to_running_guest_is_verified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_reclaims_the_same_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_releases_own_claim_even_when_domain_is_gone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_offline_never_releases_another_owners_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eagain_storm_is_retried_then_refused_and_claim_released, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_refusal_claims_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_claim_without_a_dependable_host_name_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_uuid_outside_a_migration_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_hand_over_is_accepted_and_keeps_the_claim, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_migration_leaves_the_sources_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_after_a_migration_to_another_host_keeps_that_hosts_claim,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_arriving_domain_is_not_refused_for_the_source_on_the_wire, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wire_evidence_from_another_guests_port_names_that_guest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mac_learned_on_a_foreign_port_is_refused_with_bridge_port_and_age,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fdb_entries_on_own_and_other_vif_ports_are_not_wire_evidence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fdb_on_another_bridge_is_ignored_under_bridge_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_neighbour_with_another_ip_is_refused_own_ip_is_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wire_check_warn_lets_it_through_with_the_evidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wire_check_off_ignores_the_wire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_by_the_same_vif_ignores_its_own_wire_traces, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
