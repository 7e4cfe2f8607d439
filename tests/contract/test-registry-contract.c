/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry contract: every rule of the public vifmac_registry_* API that
 * each backend must keep, run against the backend $VIFMAC_CONTRACT_URL names:
 * unset or "sqlite", a fresh SQLite file per case; "etcd:ENDPOINTS", the real
 * cluster tests/contract/test-registry-contract-etcd.sh starts, a fresh key
 * prefix per case. Only the public API and the fake system seam (clock, host
 * name, running domains, xenstore for the take-over cases) are used; the
 * registry itself is never faked.
 *
 * $VIFMAC_CONTRACT_RACERS sets how many processes race (default: 64 claimers
 * and 32 allocators on SQLite, 8 of each on etcd, as many as hosts share one).
 * Pool cases on a backend that answers -EOPNOTSUPP to pools are SKIPPED,
 * saying so; any other answer is judged.
 */
#include "contract.h"

/* ---------------------------------------------------------------- opening */

static void test_unknown_url_scheme_is_refused_with_einval(void **state)
{
	struct fixture *f = *state;
	struct vifmac_registry *reg = NULL;

	assert_int_equal(vifmac_registry_open(f->ctx, "etcd://10.0.0.1:2379", &reg), -EINVAL);
	assert_null(reg);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "etcd://10.0.0.1:2379"));
	assert_int_equal(vifmac_registry_open(f->ctx, "/var/lib/vifmac/registry.db", &reg), -EINVAL);
	assert_int_equal(vifmac_registry_open(f->ctx, "sqlite:", &reg), -EINVAL);
	assert_null(reg);
}

static void test_url_is_kept(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(vifmac_registry_url(f->reg), f->url);
}

/* ---------------------------------------------------------------- claims */

static void test_claim_is_found_by_mac_ip_domain_and_uuid(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record rec = tr_claim_rec("02:00:c0:00:02:0a", "*", "web1", UUID_A, 0,
					     "192.0.2.10 2001:db8::10/64");
	struct found *found;

	assert_int_equal(vifmac_registry_claim(f->reg, &rec, NULL), 0);
	found = by_mac(f, "02:00:c0:00:02:0a");
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].domain, "web1");
	assert_string_equal(found->recs[0].uuid, UUID_A);
	assert_int_equal(found->recs[0].devid, 0);
	assert_string_equal(found->recs[0].host, "host-a");
	assert_int_equal(found->recs[0].created, T0);
	assert_int_equal(found->recs[0].state, VIFMAC_STATE_ACTIVE);
	assert_string_equal(found->recs[0].source, "ip-derived");
	assert_string_equal(found->recs[0].ip, "192.0.2.10 2001:db8::10/64");
	assert_string_equal(found->recs[0].scope_key, "*");
	assert_string_equal(found->recs[0].bridge, "xenbr0");

	assert_int_equal(by_ip(f, "192.0.2.10"), 1);
	assert_int_equal(by_ip(f, "2001:db8::10"), 1);
	assert_int_equal(by_ip(f, "192.0.2.1"), 0);
	assert_int_equal(by_domain(f, "web1"), 1);
	assert_int_equal(by_domain(f, UUID_A), 1);
	assert_int_equal(by_domain(f, "web2"), 0);

	/* the vif's address and name change: the old ones are no longer indexed */
	rec = tr_claim_rec("02:00:c0:00:02:0a", "*", "web1-renamed", UUID_A, 0, "192.0.2.11");
	assert_int_equal(vifmac_registry_claim(f->reg, &rec, NULL), 0);
	assert_int_equal(by_ip(f, "192.0.2.10"), 0);
	assert_int_equal(by_ip(f, "2001:db8::10"), 0);
	assert_int_equal(by_domain(f, "web1"), 0);
	assert_int_equal(by_ip(f, "192.0.2.11"), 1);
	assert_int_equal(by_domain(f, "web1-renamed"), 1);
	assert_int_equal(count(f->reg), 1);
}

static void test_same_owner_reclaim_succeeds_and_refreshes_host_and_time(void **state)
{
	struct fixture *f = *state;
	struct found *found;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	f->sys.now = T0 + 1000;
	strcpy(f->sys.hostname, "host-b"); /* migrated in */
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	found = by_mac(f, "02:00:00:00:00:01");
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].host, "host-b");
	assert_int_equal(found->recs[0].created, T0);
	assert_int_equal(found->recs[0].updated, T0 + 1000);
}

static void test_other_owner_gets_eexist_with_the_holders_evidence(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record holder;
	struct found *found;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	f->sys.now = T0 + 500;
	strcpy(f->sys.hostname, "host-b");
	memset(&holder, 0, sizeof(holder));
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "db1", UUID_B, 0, &holder), -EEXIST);
	assert_string_equal(holder.domain, "web1");
	assert_string_equal(holder.uuid, UUID_A);
	assert_int_equal(holder.devid, 0);
	assert_string_equal(holder.host, "host-a");
	assert_int_equal(holder.created, T0);
	assert_int_equal(holder.state, VIFMAC_STATE_ACTIVE);
	assert_string_equal(tu_mac(&holder.mac), "02:00:00:00:00:01");
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "web1"));
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "host-a"));
	found = by_mac(f, "02:00:00:00:00:01");
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].uuid, UUID_A);
	assert_int_equal(found->recs[0].updated, T0);
	/* without a holder to fill, the answer is the same */
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "db1", UUID_B, 0, NULL), -EEXIST);
}

static void test_same_domain_other_devid_is_another_owner(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 1, NULL), -EEXIST);
	assert_int_equal(count(f->reg), 1);
}

static void test_bridge_scopes_do_not_conflict_with_each_other(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr0", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr1", "db1", UUID_B, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr1", "mail", UUID_C, 0, NULL), -EEXIST);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01")->n, 2);
}

static void test_global_scope_conflicts_with_every_bridge_scope(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record holder;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr0", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "db1", UUID_B, 0, &holder), -EEXIST);
	assert_string_equal(holder.scope_key, "xenbr0");
	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "db1", UUID_B, 1, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:02", "xenbr7", "web1", UUID_A, 1, &holder), -EEXIST);
	assert_string_equal(holder.scope_key, "*");
	assert_int_equal(count(f->reg), 2);
}

static void test_claiming_another_mac_moves_the_vifs_claim(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:05", "*", "web1", UUID_A, 1, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01")->n, 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:02")->n, 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:05")->n, 1); /* devid 1 keeps its own */
	/* a refused claim changes nothing */
	assert_int_equal(claim(f, "02:00:00:00:00:05", "*", "web1", UUID_A, 0, NULL), -EEXIST);
	assert_int_equal(by_mac(f, "02:00:00:00:00:02")->n, 1);
	assert_int_equal(by_domain(f, UUID_A), 2); /* the owner index follows the move */
}

static void test_migration_the_destination_becomes_the_holder_and_the_source_gc_keeps_it(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record rec = tr_claim_rec("02:00:0a:00:00:07", "*", "web7", UUID_A, 0, "10.0.0.7"), holder;
	struct found *found;

	strcpy(f->sys.hostname, "dom0-a");
	assert_int_equal(vifmac_registry_claim(f->reg, &rec, NULL), 0);
	/* xl migrate: the domain (same UUID, same vif) starts on dom0-b, which claims the same MAC */
	f->sys.now = T0 + 4000;
	strcpy(f->sys.hostname, "dom0-b");
	assert_int_equal(vifmac_registry_claim(f->reg, &rec, &holder), 0);
	found = by_mac(f, "02:00:0a:00:00:07");
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].host, "dom0-b");
	assert_int_equal(found->recs[0].created, T0);
	assert_int_equal(found->recs[0].updated, T0 + 4000);
	/* the source host's gc does not take it away (its domain is not running there) */
	strcpy(f->sys.hostname, "dom0-a");
	f->sys.now = T0 + 8000;
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), 0);
	assert_int_equal(by_mac(f, "02:00:0a:00:00:07")->n, 1);
	/* another domain on the source cannot take it */
	rec = tr_claim_rec("02:00:0a:00:00:07", "*", "other", UUID_B, 0, "10.0.0.8");
	assert_int_equal(vifmac_registry_claim(f->reg, &rec, &holder), -EEXIST);
	assert_string_equal(holder.host, "dom0-b");
}

/* ---------------------------------------------------------------- reservations */

static void test_reservation_is_never_handed_out(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = tr_mac("02:00:00:00:00:fe");
	struct vifmac_record holder;

	assert_int_equal(vifmac_registry_reserve(f->reg, &m, "router in rack 4", NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:fe", "*", "web1", UUID_A, 0, &holder), -EEXIST);
	assert_int_equal(holder.state, VIFMAC_STATE_RESERVED);
	assert_string_equal(holder.note, "router in rack 4");
	assert_int_equal(holder.devid, -1);
	assert_int_equal(claim(f, "02:00:00:00:00:fe", "xenbr0", "web1", UUID_A, 0, NULL), -EEXIST);
	assert_int_equal(vifmac_registry_reserve(f->reg, &m, "again", &holder), -EEXIST);
	assert_string_equal(holder.note, "router in rack 4");
	assert_int_equal(by_mac(f, "02:00:00:00:00:fe")->n, 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:fe")->recs[0].state, VIFMAC_STATE_RESERVED);
}

static void test_reserving_a_claimed_mac_is_refused(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = tr_mac("02:00:00:00:00:01");
	struct vifmac_record holder;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr0", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_reserve(f->reg, &m, "router", &holder), -EEXIST);
	assert_string_equal(holder.uuid, UUID_A);
	assert_int_equal(count(f->reg), 1);
}

static void test_unreserve_frees_the_mac_once(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = tr_mac("02:00:00:00:00:fe");

	assert_int_equal(vifmac_registry_reserve(f->reg, &m, "router", NULL), 0);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_A, -1), 0); /* not a claim */
	assert_int_equal(vifmac_registry_unreserve(f->reg, &m), 1);
	assert_int_equal(vifmac_registry_unreserve(f->reg, &m), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:fe", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_unreserve(f->reg, &m), 0); /* a claim is not a reservation */
	assert_int_equal(count(f->reg), 1);
}

/* ---------------------------------------------------------------- release */

static void test_release_releases_only_the_callers_own_claim(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = tr_mac("02:00:00:00:00:01");

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_B, 0), 0);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_A, 1), 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01")->n, 1);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_A, 0), 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01")->n, 0);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_A, 0), 0);
	/* the indexes forget it too */
	assert_int_equal(by_ip(f, "192.0.2.10"), 0);
	assert_int_equal(by_domain(f, UUID_A), 0);
}

static void test_release_without_mac_releases_every_vif_of_the_domain(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "web1", UUID_A, 1, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:03", "*", "web1", UUID_A, 2, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:04", "*", "db1", UUID_B, 0, NULL), 0);
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_A, 2), 1);
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_A, -1), 2);
	assert_int_equal(count(f->reg), 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:04")->n, 1);
	/* the address index keeps the record that was not released (db1's, same address) */
	assert_int_equal(by_ip(f, "192.0.2.10"), 1);
}

/* ---------------------------------------------------------------- gc */

static void test_gc_releases_only_this_hosts_claims_of_gone_domains(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac router = tr_mac("02:00:00:00:00:fe");
	struct found released = { .n = 0 };

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "running", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "gone", UUID_B, 0, NULL), 0);
	assert_int_equal(vifmac_registry_reserve(f->reg, &router, "router", NULL), 0);
	strcpy(f->sys.hostname, "host-b");
	assert_int_equal(claim(f, "02:00:00:00:00:03", "*", "elsewhere", UUID_C, 0, NULL), 0);
	strcpy(f->sys.hostname, "host-a");
	fake_add_domain(&f->sys, 0, "Domain-0", "00000000-0000-0000-0000-000000000000", false);
	fake_add_domain(&f->sys, 1, "running", UUID_A, false);
	f->sys.now = T0 + 1000;

	assert_int_equal(vifmac_registry_gc(f->reg, true, collect, &released), 1);
	assert_int_equal(released.n, 1);
	assert_string_equal(released.recs[0].domain, "gone");
	assert_int_equal(count(f->reg), 4);

	released.n = 0;
	assert_int_equal(vifmac_registry_gc(f->reg, false, collect, &released), 1);
	assert_int_equal(released.n, 1);
	assert_string_equal(released.recs[0].domain, "gone");
	assert_int_equal(by_mac(f, "02:00:00:00:00:02")->n, 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01")->n, 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:03")->n, 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:fe")->n, 1);
	assert_int_equal(count(f->reg), 3);
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), 0);
}

static void test_gc_refuses_when_the_running_domains_cannot_be_listed(void **state)
{
	struct fixture *f = *state;
	struct vifmac_sys_ops no_xenstore = contract_ops();

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	f->sys.now = T0 + 1000;
	f->list_error = -ENOENT;
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), -ENOENT);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "nothing released"));
	no_xenstore.list_domains = NULL;
	vifmac_ctx_set_sys(f->ctx, &no_xenstore, f);
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), -EOPNOTSUPP);
	assert_int_equal(count(f->reg), 1);
}

static void test_gc_keeps_a_claim_made_after_the_domain_list_was_read(void **state)
{
	struct fixture *f = *state;

	/* claimed in the same second gc runs: its domain may not be listed yet */
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "starting", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), 0);
	assert_int_equal(count(f->reg), 1);
	f->sys.now = T0 + 1;
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), 1);
	assert_int_equal(count(f->reg), 0);
}

static void test_gc_host_releases_every_claim_of_a_dead_host_but_its_reservations(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac router = tr_mac("02:00:00:00:00:fe");
	struct found released = { .n = 0 };

	strcpy(f->sys.hostname, "dom0-b");
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "b1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "b2", UUID_B, 0, NULL), 0);
	assert_int_equal(vifmac_registry_reserve(f->reg, &router, "router", NULL), 0);
	strcpy(f->sys.hostname, "dom0-a");
	assert_int_equal(claim(f, "02:00:00:00:00:03", "*", "a1", UUID_C, 0, NULL), 0);
	/* this host runs b1's UUID too: the dead host's claims are released whatever runs here */
	fake_add_domain(&f->sys, 3, "b1", UUID_A, false);
	f->sys.now = T0 + 100;
	strcpy(f->sys.hostname, "dom0-b");
	assert_int_equal(claim(f, "02:00:00:00:00:04", "*", "b3", UUID_D, 0, NULL), 0); /* the host was alive */
	strcpy(f->sys.hostname, "dom0-a");

	assert_int_equal(vifmac_registry_gc_host(f->reg, "dom0-b", true, collect, &released), 2);
	assert_int_equal(released.n, 2);
	assert_int_equal(count(f->reg), 5);
	released.n = 0;
	assert_int_equal(vifmac_registry_gc_host(f->reg, "dom0-b", false, collect, &released), 2);
	assert_int_equal(released.n, 2);
	for (size_t i = 0; i < released.n; i++)
		assert_string_equal(released.recs[i].host, "dom0-b");
	assert_int_equal(by_mac(f, "02:00:00:00:00:01")->n, 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:02")->n, 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:03")->n, 1); /* this host's */
	assert_int_equal(by_mac(f, "02:00:00:00:00:04")->n, 1); /* claimed as the call started */
	assert_int_equal(by_mac(f, "02:00:00:00:00:fe")->n, 1); /* a reservation */
	/* this host's own name is an ordinary gc: a1 is not running, but claimed long ago */
	f->sys.now = T0 + 200;
	released.n = 0;
	assert_int_equal(vifmac_registry_gc_host(f->reg, "dom0-a", false, collect, &released), 1);
	assert_string_equal(released.recs[0].domain, "a1");
	assert_int_equal(vifmac_registry_gc_host(f->reg, NULL, false, NULL, NULL), 0);
	assert_int_equal(count(f->reg), 2);
}

/* ---------------------------------------------------------------- bad input */

static void test_bad_input_is_einval_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = tr_mac("02:00:00:00:00:01");
	char long_host[300];

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", "", 0, NULL), -EINVAL);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, -1, NULL), -EINVAL);
	assert_int_equal(count(f->reg), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_release(f->reg, &m, NULL, 0), -EINVAL);
	assert_int_equal(vifmac_registry_gc_host(f->reg, "", false, NULL, NULL), -EINVAL);
	memset(long_host, 'h', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	assert_int_equal(vifmac_registry_gc_host(f->reg, long_host, false, NULL, NULL), -EINVAL);
	assert_int_equal(count(f->reg), 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01")->n, 1);
}

/* ---------------------------------------------------------------- insert, import, export */

struct conflicts {
	char macs[8][VIFMAC_MAC_STRLEN];
	char holders[8][VIFMAC_UUID_STRLEN];
	size_t n;
};

static int note_conflict(void *data, const struct vifmac_record *rec, const struct vifmac_record *holder)
{
	struct conflicts *c = data;

	assert_true(c->n < 8);
	snprintf(c->holders[c->n], sizeof(c->holders[c->n]), "%s", holder->uuid);
	vifmac_mac_format(&rec->mac, c->macs[c->n++]);
	return 0;
}

static void test_insert_writes_the_record_as_given(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record rec = tr_claim_rec("02:00:00:00:00:01", "*", "web1", UUID_A, 0, "192.0.2.1");
	struct vifmac_record holder;
	struct found *found;

	strcpy(rec.host, "old-host");
	rec.created = 10;
	rec.updated = 20;
	assert_int_equal(vifmac_registry_insert(f->reg, &rec, NULL), 0);
	found = by_mac(f, "02:00:00:00:00:01");
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].host, "old-host");
	assert_int_equal(found->recs[0].created, 10);
	assert_int_equal(found->recs[0].updated, 20);
	rec = tr_claim_rec("02:00:00:00:00:01", "*", "db1", UUID_B, 0, NULL);
	assert_int_equal(vifmac_registry_insert(f->reg, &rec, &holder), -EEXIST);
	assert_string_equal(holder.host, "old-host");
}

static void test_import_is_all_or_nothing_and_names_every_conflict(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record recs[4];
	struct conflicts c = { .n = 0 };
	struct found *found;

	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "web1", UUID_A, 0, NULL), 0);
	recs[0] = tr_claim_rec("02:00:00:00:00:01", "*", "a", UUID_B, 0, NULL);
	recs[1] = tr_claim_rec("02:00:00:00:00:02", "*", "b", UUID_B, 1, NULL); /* held by web1 */
	recs[2] = tr_claim_rec("02:00:00:00:00:03", "*", "c", UUID_C, 0, NULL);
	recs[3] = tr_claim_rec("02:00:00:00:00:03", "*", "d", UUID_C, 1, NULL); /* clashes with recs[2] */
	for (int i = 0; i < 4; i++) {
		strcpy(recs[i].host, "old-host");
		recs[i].created = 10;
		recs[i].updated = 20;
	}
	assert_int_equal(vifmac_registry_import(f->reg, recs, 4, note_conflict, &c), -EEXIST);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.macs[0], "02:00:00:00:00:02");
	assert_string_equal(c.holders[0], UUID_A);
	assert_string_equal(c.macs[1], "02:00:00:00:00:03");
	assert_string_equal(c.holders[1], UUID_C);
	assert_int_equal(count(f->reg), 1);

	assert_int_equal(vifmac_registry_import(f->reg, recs, 1, note_conflict, &c), 1);
	assert_int_equal(count(f->reg), 2);
	/* importing the same records again is not a conflict */
	assert_int_equal(vifmac_registry_import(f->reg, recs, 1, NULL, NULL), 1);
	assert_int_equal(count(f->reg), 2);
	found = by_mac(f, "02:00:00:00:00:01");
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].host, "old-host");
	assert_int_equal(found->recs[0].created, 10);
	assert_int_equal(found->recs[0].updated, 20);
}

static void test_import_rejects_a_malformed_record_before_writing(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record recs[2];

	recs[0] = tr_claim_rec("02:00:00:00:00:01", "*", "a", UUID_B, 0, NULL);
	recs[1] = tr_claim_rec("02:00:00:00:00:02", "*", "b", UUID_B, 1, NULL);
	recs[1].state = VIFMAC_STATE_RESERVED; /* with a UUID and devid */
	assert_int_equal(vifmac_registry_import(f->reg, recs, 2, NULL, NULL), -EINVAL);
	assert_int_equal(count(f->reg), 0);
}

/* An export (the list, ordered by MAC) imported into a fresh registry of the same backend is the same registry. */
static void test_export_imported_elsewhere_gives_the_same_records(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac router = tr_mac("02:00:00:00:00:fe");
	struct vifmac_record rec = tr_claim_rec("02:00:00:00:00:09", "xenbr1", "web9", UUID_C, 3,
					     "192.0.2.9 2001:db8::9/64");
	struct found all = { .n = 0 }, again = { .n = 0 };
	struct vifmac_ctx *ctx2;
	struct vifmac_registry *reg2;
	char first[VIFMAC_MAC_STRLEN];

	assert_int_equal(claim(f, "02:00:00:00:00:05", "*", "web1", UUID_A, 0, NULL), 0);
	f->sys.now = T0 + 60;
	strcpy(f->sys.hostname, "host-b");
	assert_int_equal(vifmac_registry_claim(f->reg, &rec, NULL), 0);
	assert_int_equal(vifmac_registry_reserve(f->reg, &router, "router in rack 4", NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "db1", UUID_B, 0, NULL), 0);
	assert_int_equal(vifmac_registry_list(f->reg, collect, &all), 0);
	assert_int_equal(all.n, 4);
	/* ordered by MAC */
	snprintf(first, sizeof(first), "%s", tu_mac(&all.recs[0].mac));
	assert_string_equal(first, "02:00:00:00:00:01");
	assert_string_equal(tu_mac(&all.recs[1].mac), "02:00:00:00:00:05");
	assert_string_equal(tu_mac(&all.recs[2].mac), "02:00:00:00:00:09");
	assert_string_equal(tu_mac(&all.recs[3].mac), "02:00:00:00:00:fe");

	write_policy(f, "copy", NULL);
	ctx2 = ctx_for(f);
	reg2 = open_reg(ctx2);
	f->sys.now = T0 + 5000; /* an import keeps the records' own times */
	assert_int_equal(vifmac_registry_import(reg2, all.recs, all.n, NULL, NULL), 4);
	assert_int_equal(vifmac_registry_list(reg2, collect, &again), 0);
	assert_int_equal(again.n, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct vifmac_record *a = &all.recs[i], *b = &again.recs[i];

		assert_true(vifmac_mac_equal(&a->mac, &b->mac));
		assert_string_equal(a->scope_key, b->scope_key);
		assert_string_equal(a->domain, b->domain);
		assert_string_equal(a->uuid, b->uuid);
		assert_int_equal(a->devid, b->devid);
		assert_string_equal(a->bridge, b->bridge);
		assert_string_equal(a->ip, b->ip);
		assert_string_equal(a->host, b->host);
		assert_int_equal(a->state, b->state);
		assert_int_equal(a->created, b->created);
		assert_int_equal(a->updated, b->updated);
		assert_string_equal(a->note, b->note);
		assert_string_equal(a->source, b->source);
	}
	assert_string_equal(again.recs[3].note, "router in rack 4");
	assert_string_equal(again.recs[2].host, "host-b");
	assert_int_equal(again.recs[2].created, T0 + 60);
	/* and its rules hold there: the reservation and the claims are enforced */
	assert_int_equal(by_mac_on(reg2, "02:00:00:00:00:09")->n, 1);
	{
		struct vifmac_record other = tr_claim_rec("02:00:00:00:00:fe", "*", "x", UUID_D, 0, NULL), holder;

		assert_int_equal(vifmac_registry_claim(reg2, &other, &holder), -EEXIST);
		assert_int_equal(holder.state, VIFMAC_STATE_RESERVED);
	}
	vifmac_registry_close(reg2);
	vifmac_ctx_unref(ctx2);
}

#define CASE(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

static const struct CMUnitTest record_tests[] = {
	CASE(test_unknown_url_scheme_is_refused_with_einval),
	CASE(test_url_is_kept),
	CASE(test_claim_is_found_by_mac_ip_domain_and_uuid),
	CASE(test_same_owner_reclaim_succeeds_and_refreshes_host_and_time),
	CASE(test_other_owner_gets_eexist_with_the_holders_evidence),
	CASE(test_same_domain_other_devid_is_another_owner),
	CASE(test_bridge_scopes_do_not_conflict_with_each_other),
	CASE(test_global_scope_conflicts_with_every_bridge_scope),
	CASE(test_claiming_another_mac_moves_the_vifs_claim),
	CASE(test_migration_the_destination_becomes_the_holder_and_the_source_gc_keeps_it),
	CASE(test_reservation_is_never_handed_out),
	CASE(test_reserving_a_claimed_mac_is_refused),
	CASE(test_unreserve_frees_the_mac_once),
	CASE(test_release_releases_only_the_callers_own_claim),
	CASE(test_release_without_mac_releases_every_vif_of_the_domain),
	CASE(test_gc_releases_only_this_hosts_claims_of_gone_domains),
	CASE(test_gc_refuses_when_the_running_domains_cannot_be_listed),
	CASE(test_gc_keeps_a_claim_made_after_the_domain_list_was_read),
	CASE(test_gc_host_releases_every_claim_of_a_dead_host_but_its_reservations),
	CASE(test_bad_input_is_einval_and_writes_nothing),
	CASE(test_insert_writes_the_record_as_given),
	CASE(test_import_is_all_or_nothing_and_names_every_conflict),
	CASE(test_import_rejects_a_malformed_record_before_writing),
	CASE(test_export_imported_elsewhere_gives_the_same_records),
};

/* test-registry-contract [URL]: URL (else $VIFMAC_CONTRACT_URL, else a fresh SQLite file per case). */
int main(int argc, char **argv)
{
	size_t n_records = sizeof(record_tests) / sizeof(record_tests[0]);
	size_t n = n_records + contract_race_tests_n + contract_pool_tests_n;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	int failed;

	assert_non_null(tests);
	memcpy(tests, record_tests, sizeof(record_tests));
	memcpy(tests + n_records, contract_race_tests, contract_race_tests_n * sizeof(*tests));
	memcpy(tests + n_records + contract_race_tests_n, contract_pool_tests, contract_pool_tests_n * sizeof(*tests));
	if (argc > 1)
		setenv("VIFMAC_CONTRACT_URL", argv[1], 1);
	print_message("registry contract on %s\n", backend_url());
	failed = _cmocka_run_group_tests(on_etcd() ? "registry contract (etcd)" : "registry contract (sqlite)", tests,
					 n, NULL, NULL);
	free(tests);
	return failed;
}
