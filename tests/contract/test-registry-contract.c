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
#include "testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "fake-sys.h"

#define P TEST_DATA_DIR "/pools/"
#define T0 1700000000
#define UUID_A "11111111-1111-1111-1111-111111111111"
#define UUID_B "22222222-2222-2222-2222-222222222222"
#define UUID_C "33333333-3333-3333-3333-333333333333"
#define UUID_D "44444444-4444-4444-4444-444444444444"
#define UUID_E "55555555-5555-5555-5555-555555555555"
#define POLICY_MAC "02:00:c0:00:02:0a" /* prefix 02:00 + 192.0.2.10 */

/* ---------------------------------------------------------------- the backend under test */

static const char *backend_url(void)
{
	const char *u = getenv("VIFMAC_CONTRACT_URL");

	return u && *u ? u : "sqlite";
}

static bool on_etcd(void)
{
	return strncmp(backend_url(), "etcd:", 5) == 0;
}

static unsigned racers(unsigned on_sqlite)
{
	const char *n = getenv("VIFMAC_CONTRACT_RACERS");

	if (n && *n)
		return (unsigned)atoi(n);
	return on_etcd() ? 8 : on_sqlite;
}

/* ---------------------------------------------------------------- fixture */

struct fixture {
	struct fake_sys sys; /* first: the fake seam's functions get the fixture as their fake_sys */
	int list_error;      /* list_domains fails with this when non-zero */
	char dir[64];
	char conf[128];
	char url[600]; /* the registry= of the policy */
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
};

static int failing_list_domains(void *data, struct vifmac_domain_info **ret, size_t *ret_n)
{
	struct fixture *f = data;

	if (f->list_error)
		return f->list_error;
	return fake_list_domains(data, ret, ret_n);
}

static struct vifmac_sys_ops contract_ops(void)
{
	struct vifmac_sys_ops ops = fake_sys_ops;

	ops.list_domains = failing_list_domains;
	return ops;
}

/*
 * Writes @f's policy: registry= the backend's (a fresh file, or a fresh
 * prefix named by @tag on etcd), then @extra.
 */
static void write_policy(struct fixture *f, const char *tag, const char *extra)
{
	static unsigned serial;
	FILE *file;

	snprintf(f->conf, sizeof(f->conf), "%s/%s.conf", f->dir, tag);
	file = fopen(f->conf, "w");
	assert_non_null(file);
	if (on_etcd()) {
		snprintf(f->url, sizeof(f->url), "%s", backend_url());
		fprintf(file, "registry = \"%s\"\netcd_prefix = \"/vifmac/contract-%d-%u-%s/\"\n", f->url, (int)getpid(),
			serial++, tag);
	} else {
		snprintf(f->url, sizeof(f->url), "sqlite:%s/%s.db", f->dir, tag);
		fprintf(file, "registry = \"%s\"\nregistry_timeout_ms = 20000\n", f->url);
	}
	fputs(extra ? extra : "", file);
	assert_int_equal(fclose(file), 0);
}

static struct vifmac_ctx *ctx_for(struct fixture *f)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct vifmac_sys_ops ops = contract_ops();

	assert_non_null(ctx);
	vifmac_ctx_set_log_fn(ctx, tu_quiet_log, NULL);
	if (vifmac_ctx_load_policy(ctx, f->conf) < 0)
		fail_msg("policy did not load: %s", vifmac_ctx_last_error(ctx));
	vifmac_ctx_set_sys(ctx, &ops, f);
	return ctx;
}

static struct vifmac_registry *open_reg(struct vifmac_ctx *ctx)
{
	struct vifmac_registry *reg = NULL;
	int r = vifmac_registry_open(ctx, NULL, &reg);

	if (r < 0)
		fail_msg("open: %d %s", r, vifmac_ctx_last_error(ctx));
	return reg;
}

static struct fixture *fixture_new(const char *extra)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vifmac-contract-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->sys.now = T0;
	snprintf(f->sys.hostname, sizeof(f->sys.hostname), "host-a");
	write_policy(f, "main", extra);
	f->ctx = ctx_for(f);
	f->reg = open_reg(f->ctx);
	return f;
}

static int setup(void **state)
{
	*state = fixture_new(NULL);
	return 0;
}

/* Pools named by bridge_pools for xenpub, quarantine one hour. */
#define POOL_POLICY                                   \
	"public_bridges = [ \"xenpub\" ]\n"           \
	"bridge_pools = [ \"xenpub=ipam,block\" ]\n" \
	"pool_quarantine = \"1h\"\n"

static int setup_pools(void **state)
{
	*state = fixture_new(POOL_POLICY);
	return 0;
}

static int setup_hotplug(void **state)
{
	struct fixture *f = fixture_new("private_bridges = [ \"xenbr0\" ]\n");

	*state = f;
	/* web1, domid 5, paused in xl create, random MAC from libxl */
	fake_add_domain(&f->sys, 5, "web1", "aaaaaaaa-1111-4000-8000-000000000001", true);
	fake_add_vif(&f->sys, 5, 0, "00:16:3e:12:34:56", "xenbr0", "192.0.2.10", "vif");
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	vifmac_registry_close(f->reg);
	vifmac_ctx_unref(f->ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---------------------------------------------------------------- helpers */

static struct vifmac_mac mac_of(const char *s)
{
	struct vifmac_mac m;

	assert_int_equal(vifmac_mac_parse(s, &m), 0);
	return m;
}

static struct vifmac_record claim_rec(const char *mac, const char *scope, const char *domain, const char *uuid,
				      int devid, const char *ip)
{
	struct vifmac_record rec;

	vifmac_record_init(&rec);
	rec.mac = mac_of(mac);
	snprintf(rec.scope_key, sizeof(rec.scope_key), "%s", scope);
	snprintf(rec.domain, sizeof(rec.domain), "%s", domain);
	snprintf(rec.uuid, sizeof(rec.uuid), "%s", uuid);
	rec.devid = devid;
	snprintf(rec.bridge, sizeof(rec.bridge), "%s", strcmp(scope, "*") ? scope : "xenbr0");
	snprintf(rec.ip, sizeof(rec.ip), "%s", ip ? ip : "");
	snprintf(rec.source, sizeof(rec.source), "ip-derived");
	return rec;
}

static int claim(struct fixture *f, const char *mac, const char *scope, const char *domain, const char *uuid,
		 int devid, struct vifmac_record *holder)
{
	struct vifmac_record rec = claim_rec(mac, scope, domain, uuid, devid, "192.0.2.10");

	return vifmac_registry_claim(f->reg, &rec, holder);
}

#define FOUND_MAX 128

struct found {
	struct vifmac_record recs[FOUND_MAX];
	size_t n;
};

static int collect(void *data, const struct vifmac_record *rec)
{
	struct found *found = data;

	assert_true(found->n < FOUND_MAX);
	found->recs[found->n++] = *rec;
	return 0;
}

static struct found *by_mac_on(struct vifmac_registry *reg, const char *mac)
{
	static struct found found;
	struct vifmac_mac m = mac_of(mac);

	found.n = 0;
	assert_int_equal(vifmac_registry_lookup_mac(reg, &m, collect, &found), 0);
	return &found;
}

static struct found *by_mac(struct fixture *f, const char *mac)
{
	return by_mac_on(f->reg, mac);
}

static size_t by_ip(struct fixture *f, const char *ip)
{
	struct found found = { .n = 0 };

	assert_int_equal(vifmac_registry_lookup_ip(f->reg, ip, collect, &found), 0);
	return found.n;
}

static size_t by_domain(struct fixture *f, const char *domain)
{
	struct found found = { .n = 0 };

	assert_int_equal(vifmac_registry_lookup_domain(f->reg, domain, collect, &found), 0);
	return found.n;
}

static int count_cb(void *data, const struct vifmac_record *rec)
{
	(*(size_t *)data)++;
	return 0;
}

static size_t count(struct vifmac_registry *reg)
{
	size_t n = 0;

	assert_int_equal(vifmac_registry_list(reg, count_cb, &n), 0);
	return n;
}

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
	struct vifmac_record rec = claim_rec("02:00:c0:00:02:0a", "*", "web1", UUID_A, 0,
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
	rec = claim_rec("02:00:c0:00:02:0a", "*", "web1-renamed", UUID_A, 0, "192.0.2.11");
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
	struct vifmac_record rec = claim_rec("02:00:0a:00:00:07", "*", "web7", UUID_A, 0, "10.0.0.7"), holder;
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
	rec = claim_rec("02:00:0a:00:00:07", "*", "other", UUID_B, 0, "10.0.0.8");
	assert_int_equal(vifmac_registry_claim(f->reg, &rec, &holder), -EEXIST);
	assert_string_equal(holder.host, "dom0-b");
}

/* ---------------------------------------------------------------- reservations */

static void test_reservation_is_never_handed_out(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = mac_of("02:00:00:00:00:fe");
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
	struct vifmac_mac m = mac_of("02:00:00:00:00:01");
	struct vifmac_record holder;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr0", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_reserve(f->reg, &m, "router", &holder), -EEXIST);
	assert_string_equal(holder.uuid, UUID_A);
	assert_int_equal(count(f->reg), 1);
}

static void test_unreserve_frees_the_mac_once(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = mac_of("02:00:00:00:00:fe");

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
	struct vifmac_mac m = mac_of("02:00:00:00:00:01");

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
	struct vifmac_mac router = mac_of("02:00:00:00:00:fe");
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
	struct vifmac_mac router = mac_of("02:00:00:00:00:fe");
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
	struct vifmac_mac m = mac_of("02:00:00:00:00:01");
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
	struct vifmac_record rec = claim_rec("02:00:00:00:00:01", "*", "web1", UUID_A, 0, "192.0.2.1");
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
	rec = claim_rec("02:00:00:00:00:01", "*", "db1", UUID_B, 0, NULL);
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
	recs[0] = claim_rec("02:00:00:00:00:01", "*", "a", UUID_B, 0, NULL);
	recs[1] = claim_rec("02:00:00:00:00:02", "*", "b", UUID_B, 1, NULL); /* held by web1 */
	recs[2] = claim_rec("02:00:00:00:00:03", "*", "c", UUID_C, 0, NULL);
	recs[3] = claim_rec("02:00:00:00:00:03", "*", "d", UUID_C, 1, NULL); /* clashes with recs[2] */
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

	recs[0] = claim_rec("02:00:00:00:00:01", "*", "a", UUID_B, 0, NULL);
	recs[1] = claim_rec("02:00:00:00:00:02", "*", "b", UUID_B, 1, NULL);
	recs[1].state = VIFMAC_STATE_RESERVED; /* with a UUID and devid */
	assert_int_equal(vifmac_registry_import(f->reg, recs, 2, NULL, NULL), -EINVAL);
	assert_int_equal(count(f->reg), 0);
}

/* An export (the list, ordered by MAC) imported into a fresh registry of the same backend is the same registry. */
static void test_export_imported_elsewhere_gives_the_same_records(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac router = mac_of("02:00:00:00:00:fe");
	struct vifmac_record rec = claim_rec("02:00:00:00:00:09", "xenbr1", "web9", UUID_C, 3,
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
		struct vifmac_record other = claim_rec("02:00:00:00:00:fe", "*", "x", UUID_D, 0, NULL), holder;

		assert_int_equal(vifmac_registry_claim(reg2, &other, &holder), -EEXIST);
		assert_int_equal(holder.state, VIFMAC_STATE_RESERVED);
	}
	vifmac_registry_close(reg2);
	vifmac_ctx_unref(ctx2);
}

/* ---------------------------------------------------------------- concurrency */

#define N_SHARED 32
#define OWN_BASE 1000
#define MAX_RACERS 64

/* MAC number @i: 02:5e:00:xx:xx:xx; a UUID for owner @i. */
static struct vifmac_mac race_mac(unsigned i)
{
	struct vifmac_mac m = { { 0x02, 0x5e, 0x00, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i } };

	return m;
}

static void race_uuid(unsigned i, char buf[VIFMAC_UUID_STRLEN])
{
	snprintf(buf, VIFMAC_UUID_STRLEN, "%08x-0000-4000-8000-%012x", i, i * 7919u);
}

static struct vifmac_record race_rec(unsigned proc, unsigned mac, int devid)
{
	struct vifmac_record rec;

	vifmac_record_init(&rec);
	rec.mac = race_mac(mac);
	snprintf(rec.domain, sizeof(rec.domain), "dom%u", proc);
	race_uuid(proc, rec.uuid);
	rec.devid = devid;
	snprintf(rec.bridge, sizeof(rec.bridge), "xenbr0");
	snprintf(rec.ip, sizeof(rec.ip), "10.%u.%u.%u", proc, mac / 256, mac % 256);
	snprintf(rec.source, sizeof(rec.source), "test");
	return rec;
}

struct race_outcome {
	int result[N_SHARED]; /* 0 won, 1 lost, < 0 error */
	char told_uuid[N_SHARED][VIFMAC_UUID_STRLEN];
	char told_host[N_SHARED][256];
	int own_result;
	int reclaim_errors;
	char error[256];
};

/* Reads exactly one @size-byte outcome from @fd. */
static void read_outcome(int fd, void *buf, size_t size, unsigned who)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, (char *)buf + got, size - got);

		if (n <= 0)
			fail_msg("process %u sent no outcome", who);
		got += (size_t)n;
	}
}

/*
 * One "host": its own context and registry handle; waits for EOF on @start,
 * claims every shared MAC in its own order and one of its own, waits for EOF
 * on @restart, re-claims what it won; writes its outcome to @out.
 */
static void claimer(struct fixture *f, unsigned id, int start, int restart, int out)
{
	struct race_outcome o;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg = NULL;
	unsigned order[N_SHARED];
	char c;
	int r;

	memset(&o, 0, sizeof(o));
	snprintf(f->sys.hostname, sizeof(f->sys.hostname), "host-%u", id);
	ctx = ctx_for(f);
	r = vifmac_registry_open(ctx, NULL, &reg);
	if (r < 0) {
		snprintf(o.error, sizeof(o.error), "open: %s", vifmac_ctx_last_error(ctx));
		o.own_result = r;
	}
	for (unsigned i = 0; i < N_SHARED; i++)
		order[i] = i;
	srand(id * 31 + 7);
	for (unsigned i = N_SHARED - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	if (read(start, &c, 1) != 0)
		_exit(3);
	for (unsigned i = 0; i < N_SHARED && reg; i++) {
		unsigned m = order[i];
		struct vifmac_record rec = race_rec(id, m, (int)m), holder;

		r = vifmac_registry_claim(reg, &rec, &holder);
		o.result[m] = r == 0 ? 0 : r == -EEXIST ? 1 : r;
		if (r == -EEXIST) {
			snprintf(o.told_uuid[m], sizeof(o.told_uuid[m]), "%s", holder.uuid);
			snprintf(o.told_host[m], sizeof(o.told_host[m]), "%s", holder.host);
		} else if (r < 0 && !o.error[0]) {
			snprintf(o.error, sizeof(o.error), "claim: %s", vifmac_ctx_last_error(ctx));
		}
	}
	if (reg) {
		struct vifmac_record rec = race_rec(id, OWN_BASE + id, 100);

		o.own_result = vifmac_registry_claim(reg, &rec, NULL);
		if (o.own_result < 0 && !o.error[0])
			snprintf(o.error, sizeof(o.error), "own claim: %s", vifmac_ctx_last_error(ctx));
	}
	/* a restart: everybody re-claims what it won, at once */
	if (read(restart, &c, 1) != 0)
		_exit(3);
	for (unsigned m = 0; m < N_SHARED && reg; m++) {
		struct vifmac_record rec = race_rec(id, m, (int)m);

		if (o.result[m] != 0)
			continue;
		r = vifmac_registry_claim(reg, &rec, NULL);
		if (r < 0) {
			o.reclaim_errors++;
			if (!o.error[0])
				snprintf(o.error, sizeof(o.error), "reclaim: %s", vifmac_ctx_last_error(ctx));
		}
	}
	vifmac_registry_close(reg);
	vifmac_ctx_unref(ctx);
	if (write(out, &o, sizeof(o)) != (ssize_t)sizeof(o))
		_exit(3);
	_exit(0);
}

static int note_race_record(void *data, const struct vifmac_record *rec)
{
	struct vifmac_record *table = data;
	unsigned i = ((unsigned)rec->mac.b[3] << 16) | ((unsigned)rec->mac.b[4] << 8) | rec->mac.b[5];

	if (i < N_SHARED)
		table[i] = *rec;
	else if (i >= OWN_BASE && i < OWN_BASE + MAX_RACERS)
		table[N_SHARED + i - OWN_BASE] = *rec;
	else
		fail_msg("unexpected record %u", i);
	return 0;
}

static void test_racing_hosts_have_one_winner_per_mac_named_to_every_loser(void **state)
{
	struct fixture *f = *state;
	unsigned n = racers(64);
	static struct race_outcome o[MAX_RACERS];
	static struct vifmac_record table[N_SHARED + MAX_RACERS];
	int start[2], restart[2], out[MAX_RACERS][2];
	pid_t pids[MAX_RACERS];
	int64_t t0;

	assert_true(n >= 2 && n <= MAX_RACERS);
	memset(table, 0, sizeof(table));
	assert_int_equal(pipe(start), 0);
	assert_int_equal(pipe(restart), 0);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(pipe(out[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(start[1]);
			close(restart[1]);
			close(out[i][0]);
			claimer(f, i, start[0], restart[0], out[i][1]);
		}
		close(out[i][1]);
	}
	close(start[0]);
	close(restart[0]);
	t0 = tu_mono_ms();
	close(start[1]); /* go */
	/* the restart signal may come while some still claim: the re-claims then race the first round */
	usleep(100 * 1000);
	close(restart[1]);
	for (unsigned i = 0; i < n; i++) {
		int st;

		read_outcome(out[i][0], &o[i], sizeof(o[i]), i);
		close(out[i][0]);
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	print_message("      %u hosts x %d claims + re-claims: %lld ms\n", n, N_SHARED + 1,
		      (long long)(tu_mono_ms() - t0));

	assert_int_equal(vifmac_registry_list(f->reg, note_race_record, table), 0);
	assert_int_equal(count(f->reg), N_SHARED + n);
	for (unsigned i = 0; i < n; i++) {
		char uuid[VIFMAC_UUID_STRLEN];

		if (o[i].error[0])
			fail_msg("host %u: %s", i, o[i].error);
		assert_int_equal(o[i].own_result, 0);
		assert_int_equal(o[i].reclaim_errors, 0);
		race_uuid(i, uuid);
		assert_string_equal(table[N_SHARED + i].uuid, uuid); /* its own MAC is recorded */
	}
	for (unsigned m = 0; m < N_SHARED; m++) {
		unsigned winners = 0, losers = 0;

		assert_true(table[m].uuid[0]);
		for (unsigned i = 0; i < n; i++) {
			char uuid[VIFMAC_UUID_STRLEN], host[32];

			race_uuid(i, uuid);
			snprintf(host, sizeof(host), "host-%u", i);
			if (o[i].result[m] == 0) {
				winners++;
				assert_string_equal(table[m].uuid, uuid);
				assert_string_equal(table[m].host, host);
			} else {
				assert_int_equal(o[i].result[m], 1);
				losers++;
				assert_string_equal(o[i].told_uuid[m], table[m].uuid);
				assert_string_equal(o[i].told_host[m], table[m].host);
			}
		}
		assert_int_equal(winners, 1);
		assert_int_equal(losers, n - 1);
	}
}

/* ---------------------------------------------------------------- take-over of stale claims */

/* A claim left by a domain that is gone (dom0 crashed), recorded by @host. */
static void leave_claim(struct fixture *f, const char *mac, const char *name, const char *uuid, const char *host)
{
	struct vifmac_record rec = claim_rec(mac, "*", name, uuid, 0, "192.0.2.10");

	snprintf(rec.host, sizeof(rec.host), "%s", host);
	rec.created = T0;
	rec.updated = T0;
	assert_int_equal(vifmac_registry_insert(f->reg, &rec, NULL), 0);
}

static int online(struct fixture *f, struct vifmac_registry *reg, const char *xenbus_path,
		  struct vifmac_decision *d)
{
	struct vifmac_hotplug_vif vif;
	int r = vifmac_hotplug_read(f->ctx, xenbus_path, &vif);

	if (r < 0)
		return r;
	return vifmac_hotplug_online(f->ctx, reg, &vif, vifmac_hotplug_mode_for(&vif), d);
}

#define UUID_OLD "9cf1a2b3-c4d5-4e6f-8a7b-8c9d0e1f2a3b" /* web1 before dom0 crashed */

static void test_stale_claim_of_this_host_is_taken_over_and_reported(void **state)
{
	struct fixture *f = *state;
	struct vifmac_decision d;
	struct found *found;

	/* dom0 crashed: web1 comes back from a config without uuid= (a new UUID) */
	strcpy(f->sys.hostname, "dom0-a");
	leave_claim(f, POLICY_MAC, "web1", UUID_OLD, "dom0-a");
	f->sys.now = T0 + 60;
	assert_int_equal(online(f, f->reg, "backend/vif/5/0", &d), 0);
	assert_string_equal(fake_get(&f->sys, "/local/domain/5/device/vif/0/mac"), POLICY_MAC);
	found = by_mac(f, POLICY_MAC);
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].uuid, "aaaaaaaa-1111-4000-8000-000000000001");
	assert_string_equal(found->recs[0].host, "dom0-a");
	assert_non_null(strstr(d.warning, "took over the claim of " POLICY_MAC " by domain web1 (uuid " UUID_OLD
					  ") vif 0, recorded by this host (dom0-a) since 2023-11-14 22:13:20 UTC"));
	assert_non_null(strstr(d.warning, "no domain with that UUID exists here"));
	assert_int_equal(by_domain(f, UUID_OLD), 0);
}

static void test_stale_claim_of_another_host_is_never_taken_over(void **state)
{
	struct fixture *f = *state;
	struct vifmac_decision d;
	struct found *found;
	char line[1024];

	strcpy(f->sys.hostname, "dom0-a");
	leave_claim(f, POLICY_MAC, "web1", UUID_OLD, "dom0-b");
	assert_int_equal(online(f, f->reg, "backend/vif/5/0", &d), -EEXIST);
	assert_string_equal(d.refusal.holder.host, "dom0-b");
	vifmac_refusal_format(&d.refusal, line, sizeof(line));
	assert_non_null(strstr(line, "on host dom0-b"));
	found = by_mac(f, POLICY_MAC);
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].uuid, UUID_OLD);
	assert_string_equal(d.warning, "");
	assert_string_equal(fake_get(&f->sys, "/local/domain/0/backend/vif/5/0/mac"), "00:16:3e:12:34:56");
}

/*
 * Eight new domains of one address each see the stale claim; one takes it
 * over, and the others' take-over finds it changed (-ESTALE), judge again
 * and meet the winner's live claim.
 */
static void test_vifs_racing_for_a_stale_claim_have_one_winner(void **state)
{
	enum { RACERS = 8 };
	struct fixture *f = *state;
	pid_t pids[RACERS];
	int gate[2], won = 0, lost = 0;
	struct found *found;

	strcpy(f->sys.hostname, "dom0-a");
	leave_claim(f, POLICY_MAC, "web1", UUID_OLD, "dom0-a");
	for (int i = 0; i < RACERS; i++) {
		char name[16], uuid[VIFMAC_UUID_STRLEN];

		snprintf(uuid, sizeof(uuid), "7e570000-0000-4000-8000-00000000%04x", (unsigned)i);
		snprintf(name, sizeof(name), "racer%d", i);
		fake_add_domain(&f->sys, 20 + (unsigned)i, name, uuid, true);
		fake_add_vif(&f->sys, 20 + (unsigned)i, 0, "00:16:3e:20:20:20", "xenbr0", "192.0.2.10", "vif");
	}
	assert_int_equal(pipe(gate), 0);
	for (int i = 0; i < RACERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct vifmac_registry *reg;
			struct vifmac_decision d;
			char path[64], c;
			int r;

			close(gate[1]);
			if (read(gate[0], &c, 1) != 0 || vifmac_registry_open(f->ctx, NULL, &reg) < 0)
				_exit(3);
			snprintf(path, sizeof(path), "backend/vif/%d/0", 20 + i);
			r = online(f, reg, path, &d);
			/* a loser is told the winner's live claim, never the stale one */
			if (r == -EEXIST && strcmp(d.refusal.holder.uuid, UUID_OLD) == 0)
				_exit(4);
			vifmac_registry_close(reg);
			_exit(r == 0 ? 0 : r == -EEXIST ? 1 : 2);
		}
	}
	close(gate[0]);
	close(gate[1]); /* all go */
	for (int i = 0; i < RACERS; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st) > 1)
			fail_msg("racer %d: exit %d", i, WEXITSTATUS(st));
		won += WEXITSTATUS(st) == 0;
		lost += WEXITSTATUS(st) == 1;
	}
	assert_int_equal(won, 1);
	assert_int_equal(lost, RACERS - 1);
	found = by_mac(f, POLICY_MAC);
	assert_int_equal(found->n, 1);
	assert_string_not_equal(found->recs[0].uuid, UUID_OLD);
	assert_non_null(strstr(found->recs[0].domain, "racer"));
}

/* ---------------------------------------------------------------- pools */

/*
 * Pools are part of the contract; a backend built without them answers
 * -EOPNOTSUPP, and only then is the case skipped (it runs by itself once
 * the backend has them).
 */
static void skip_without_pools(int r)
{
	if (r == -EOPNOTSUPP && on_etcd()) {
		print_message("      SKIPPED: pools on etcd: not in this build\n");
		skip();
	}
}

static struct vifmac_pool_source *read_source(struct vifmac_ctx *ctx, const char *path)
{
	struct vifmac_pool_source *src = NULL;

	if (vifmac_pool_source_read(ctx, path, &src) < 0)
		fail_msg("%s: %s", path, vifmac_ctx_last_error(ctx));
	return src;
}

static void import(struct fixture *f, const char *name, const char *file)
{
	struct vifmac_pool_source *src = read_source(f->ctx, file);
	int r = vifmac_registry_pool_import(f->reg, name, src);

	vifmac_pool_source_free(src);
	skip_without_pools(r);
	if (r < 0)
		fail_msg("import %s: %d %s", name, r, vifmac_ctx_last_error(f->ctx));
}

/* The pools of POOL_POLICY: a table (ipam) and a range of four (block). */
static void import_pools(struct fixture *f)
{
	import(f, "ipam", P "table.txt");
	import(f, "block", P "range4.pool");
}

/*
 * Allocates for vif @devid of domain @name (may be "") @uuid on xenpub from
 * ipam then block; returns the result, the MAC given (or, on -EEXIST, the
 * holder's) in @mac.
 */
static int alloc_vif(struct fixture *f, const char *uuid, const char *name, int devid, const char *ip, char *mac)
{
	static const char *const pools[] = { "ipam", "block" };
	struct vifmac_record owner, rec, holder;
	struct vifmac_ipv4 a;
	int r;

	vifmac_record_init(&owner);
	snprintf(owner.uuid, sizeof(owner.uuid), "%s", uuid);
	snprintf(owner.domain, sizeof(owner.domain), "%s", name);
	owner.devid = devid;
	snprintf(owner.bridge, sizeof(owner.bridge), "xenpub");
	if (ip)
		assert_int_equal(vifmac_ipv4_parse(ip, &a), 0);
	r = vifmac_registry_pool_allocate(f->reg, pools, 2, &owner, ip ? &a : NULL, &rec, &holder);
	if (r == 0) {
		vifmac_mac_format(&rec.mac, mac);
		assert_string_equal(rec.source, strncmp(mac, "52:54", 5) == 0 ? "pool:ipam" : "pool:block");
		assert_string_equal(rec.uuid, uuid);
		assert_int_equal(rec.devid, devid);
	} else if (r == -EEXIST) {
		vifmac_mac_format(&holder.mac, mac);
	}
	return r;
}

static int alloc(struct fixture *f, const char *uuid, const char *ip, char *mac)
{
	return alloc_vif(f, uuid, "", 0, ip, mac);
}

static int alloc_named(struct fixture *f, const char *uuid, const char *name, const char *ip, char *mac)
{
	return alloc_vif(f, uuid, name, 0, ip, mac);
}

static void test_pool_range_hands_out_the_lowest_free_address(void **state)
{
	struct fixture *f = *state;
	char m[VIFMAC_MAC_STRLEN];
	struct found *found;

	import_pools(f);
	assert_int_equal(alloc(f, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	assert_int_equal(alloc(f, UUID_B, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
	/* the allocation is a claim like any other */
	found = by_mac(f, "06:00:00:00:10:01");
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].uuid, UUID_B);
	assert_string_equal(found->recs[0].source, "pool:block");
	assert_string_equal(found->recs[0].host, "host-a");
	assert_int_equal(found->recs[0].state, VIFMAC_STATE_ACTIVE);
	assert_int_equal(claim(f, "06:00:00:00:10:01", "*", "x", UUID_C, 0, NULL), -EEXIST);
}

static void test_pool_table_wins_for_its_address(void **state)
{
	struct fixture *f = *state;
	char m[VIFMAC_MAC_STRLEN];

	import_pools(f);
	assert_int_equal(alloc(f, UUID_A, "198.51.100.11", m), 0);
	assert_string_equal(m, "52:54:00:aa:00:11");
	/* an address not in the table falls through to the range */
	assert_int_equal(alloc(f, UUID_B, "198.51.100.99", m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
}

static void test_pool_table_entry_held_by_another_owner_is_a_conflict(void **state)
{
	struct fixture *f = *state;
	char m[VIFMAC_MAC_STRLEN];

	import_pools(f);
	assert_int_equal(alloc(f, UUID_A, "198.51.100.10", m), 0);
	assert_int_equal(alloc(f, UUID_B, "198.51.100.10", m), -EEXIST);
	assert_string_equal(m, "52:54:00:aa:00:10");
	assert_int_equal(by_domain(f, UUID_B), 0);
}

static void test_pool_same_vif_gets_the_same_mac_again_even_after_release(void **state)
{
	struct fixture *f = *state;
	char m1[VIFMAC_MAC_STRLEN], m2[VIFMAC_MAC_STRLEN], m3[VIFMAC_MAC_STRLEN];

	import_pools(f);
	assert_int_equal(alloc(f, UUID_A, NULL, m1), 0);
	assert_int_equal(alloc(f, UUID_B, NULL, m2), 0);
	/* restart: still held */
	assert_int_equal(alloc(f, UUID_A, NULL, m3), 0);
	assert_string_equal(m1, m3);
	assert_int_equal(by_domain(f, UUID_A), 1);
	/* another vif of the same domain is another owner */
	assert_int_equal(alloc_vif(f, UUID_A, "", 1, NULL, m3), 0);
	assert_string_not_equal(m1, m3);
	assert_string_not_equal(m2, m3);
	/* destroy, then create days later: it comes back to its owner */
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_A, 0), 1);
	f->sys.now += 3 * 86400;
	assert_int_equal(alloc(f, UUID_A, NULL, m3), 0);
	assert_string_equal(m1, m3);
}

static void test_pool_domain_created_again_with_a_new_uuid_gets_its_address_by_name(void **state)
{
	struct fixture *f = *state;
	char m[VIFMAC_MAC_STRLEN];

	import_pools(f);
	assert_int_equal(alloc_named(f, UUID_A, "lima1", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	assert_int_equal(alloc_named(f, UUID_B, "lima2", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
	/* xl destroy lima1; xl create lima1.cfg (no uuid=): a new UUID, the same guest */
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_A, 0), 1);
	assert_int_equal(alloc_named(f, UUID_C, "lima1", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	/* lima2's address stays in quarantine for other names (and nameless owners) */
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_B, 0), 1);
	assert_int_equal(alloc_named(f, UUID_D, "lima3", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:02");
	assert_int_equal(alloc_named(f, UUID_E, "", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:03");
	/* and comes back to lima2, under any UUID, after days */
	f->sys.now += 3 * 86400;
	assert_int_equal(alloc_named(f, "ffffffff-0000-4000-8000-000000000006", "lima2", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
}

static void test_pool_released_address_waits_out_its_quarantine(void **state)
{
	struct fixture *f = *state;
	char m1[VIFMAC_MAC_STRLEN], m2[VIFMAC_MAC_STRLEN];

	import_pools(f);
	assert_int_equal(alloc(f, UUID_A, NULL, m1), 0);
	assert_string_equal(m1, "06:00:00:00:10:00");
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_A, 0), 1);
	f->sys.now += 1800; /* half the quarantine */
	assert_int_equal(alloc(f, UUID_B, NULL, m2), 0);
	assert_string_equal(m2, "06:00:00:00:10:01");
	f->sys.now += 1801; /* past it: the lowest free is the released one */
	assert_int_equal(alloc(f, UUID_C, NULL, m2), 0);
	assert_string_equal(m2, "06:00:00:00:10:00");
}

static void test_pool_reserved_addresses_are_never_allocated(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac r = mac_of("06:00:00:00:10:00"), t = mac_of("52:54:00:aa:00:10");
	struct vifmac_record holder;
	char m[VIFMAC_MAC_STRLEN];
	int n;

	import_pools(f);
	assert_int_equal(vifmac_registry_reserve(f->reg, &r, "the router", NULL), 0);
	assert_int_equal(alloc(f, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
	/* a reserved table entry is a conflict naming the reservation, never allocated */
	assert_int_equal(vifmac_registry_reserve(f->reg, &t, "kept for the switch", NULL), 0);
	{
		static const char *const pools[] = { "ipam", "block" };
		struct vifmac_record owner, rec;
		struct vifmac_ipv4 a;

		vifmac_record_init(&owner);
		snprintf(owner.uuid, sizeof(owner.uuid), UUID_B);
		owner.devid = 0;
		snprintf(owner.bridge, sizeof(owner.bridge), "xenpub");
		assert_int_equal(vifmac_ipv4_parse("198.51.100.10", &a), 0);
		assert_int_equal(vifmac_registry_pool_allocate(f->reg, pools, 2, &owner, &a, &rec, &holder), -EEXIST);
		assert_int_equal(holder.state, VIFMAC_STATE_RESERVED);
		assert_string_equal(holder.note, "kept for the switch");
	}
	/* the rest of the range is handed out, the reservation never */
	assert_int_equal(alloc(f, UUID_C, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:02");
	assert_int_equal(alloc(f, UUID_D, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:03");
	n = alloc(f, UUID_E, NULL, m);
	assert_int_equal(n, -ENOSPC);
	assert_int_equal(by_mac(f, "06:00:00:00:10:00")->recs[0].state, VIFMAC_STATE_RESERVED);
}

struct pool_infos {
	struct vifmac_pool_info p[8];
	size_t n;
};

static int keep_info(void *data, const struct vifmac_pool_info *p)
{
	struct pool_infos *infos = data;

	assert_true(infos->n < 8);
	infos->p[infos->n++] = *p;
	return 0;
}

static void test_pool_exhaustion_is_refused_naming_pool_and_size(void **state)
{
	struct fixture *f = *state;
	const char *uuids[] = { UUID_A, UUID_B, UUID_C, UUID_D };
	struct pool_infos infos = { .n = 0 };
	char m[VIFMAC_MAC_STRLEN];

	import_pools(f);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(alloc(f, uuids[i], NULL, m), 0);
	assert_int_equal(alloc(f, UUID_E, NULL, m), -ENOSPC);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "block (range, 4 addresses)"));
	assert_int_equal(by_domain(f, UUID_E), 0);
	/* and the pool's use says so */
	assert_int_equal(vifmac_registry_pool_list(f->reg, "block", keep_info, &infos), 0);
	assert_int_equal(infos.n, 1);
	assert_int_equal(infos.p[0].size, 4);
	assert_int_equal(infos.p[0].used, 4);
}

static void test_pool_import_refuses_overlap_with_another_pool(void **state)
{
	struct fixture *f = *state;
	struct vifmac_pool_source *src;
	struct pool_infos infos = { .n = 0 };

	import_pools(f);
	src = read_source(f->ctx, P "range4.pool");
	assert_int_equal(vifmac_registry_pool_import(f->reg, "block2", src), -EEXIST);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "overlaps pool block"));
	assert_int_equal(vifmac_registry_pool_list(f->reg, "block2", keep_info, &infos), -ENOENT);
	/* the same name is a re-import */
	assert_int_equal(vifmac_registry_pool_import(f->reg, "block", src), 0);
	assert_int_equal(vifmac_registry_pool_import(f->reg, "bad name", src), -EINVAL);
	assert_int_equal(vifmac_registry_pool_import(f->reg, "", src), -EINVAL);
	vifmac_pool_source_free(src);
	assert_int_equal(vifmac_registry_pool_list(f->reg, NULL, keep_info, &infos), 0);
	assert_int_equal(infos.n, 2);
}

static void test_unknown_pool_is_enoent(void **state)
{
	struct fixture *f = *state;
	static const char *const pools[] = { "nosuch" };
	struct vifmac_record owner, rec;
	int r;

	vifmac_record_init(&owner);
	snprintf(owner.uuid, sizeof(owner.uuid), UUID_A);
	owner.devid = 0;
	r = vifmac_registry_pool_allocate(f->reg, pools, 1, &owner, NULL, &rec, NULL);
	skip_without_pools(r);
	assert_int_equal(r, -ENOENT);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "vifmac pool import nosuch FILE"));
	assert_int_equal(count(f->reg), 0);
}

static void test_pool_list_show_and_remove(void **state)
{
	struct fixture *f = *state;
	struct pool_infos infos = { .n = 0 };
	struct vifmac_mac r = mac_of("06:00:00:00:10:03");
	char m[VIFMAC_MAC_STRLEN];

	import_pools(f);
	import(f, "old", P "recycled.pool");
	assert_int_equal(alloc(f, UUID_A, NULL, m), 0);
	assert_int_equal(alloc(f, UUID_B, NULL, m), 0);
	assert_int_equal(alloc(f, UUID_C, "198.51.100.10", m), 0);
	assert_int_equal(vifmac_registry_reserve(f->reg, &r, "spare", NULL), 0);
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_B, 0), 1);
	f->sys.now += 60;

	/* every pool, ordered by name, with its use */
	assert_int_equal(vifmac_registry_pool_list(f->reg, NULL, keep_info, &infos), 0);
	assert_int_equal(infos.n, 3);
	assert_string_equal(infos.p[0].name, "block");
	assert_int_equal(infos.p[0].kind, VIFMAC_POOL_RANGE);
	assert_string_equal(infos.p[0].origin, P "range4.pool");
	assert_int_equal(infos.p[0].imported, T0);
	assert_int_equal(infos.p[0].size, 4);
	assert_int_equal(infos.p[0].used, 1);
	assert_int_equal(infos.p[0].quarantined, 1);
	assert_int_equal(infos.p[0].reserved, 1);
	assert_string_equal(infos.p[1].name, "ipam");
	assert_int_equal(infos.p[1].kind, VIFMAC_POOL_TABLE);
	assert_int_equal(infos.p[1].size, 2);
	assert_int_equal(infos.p[1].used, 1);
	assert_int_equal(infos.p[1].quarantined, 0);
	assert_int_equal(infos.p[1].reserved, 0);
	assert_string_equal(infos.p[2].name, "old");
	assert_int_equal(infos.p[2].kind, VIFMAC_POOL_RECYCLED);
	assert_int_equal(infos.p[2].size, 2);
	assert_int_equal(infos.p[2].used, 0);

	/* past the quarantine the released address no longer counts */
	f->sys.now += 3600;
	infos.n = 0;
	assert_int_equal(vifmac_registry_pool_list(f->reg, "block", keep_info, &infos), 0);
	assert_int_equal(infos.n, 1);
	assert_int_equal(infos.p[0].quarantined, 0);

	/* one pool (show), an unknown one */
	infos.n = 0;
	assert_int_equal(vifmac_registry_pool_list(f->reg, "nosuch", keep_info, &infos), -ENOENT);
	assert_int_equal(infos.n, 0);

	/* remove: the pool goes, its claims stay */
	assert_int_equal(vifmac_registry_pool_remove(f->reg, "ipam"), 1);
	assert_int_equal(vifmac_registry_pool_remove(f->reg, "ipam"), 0);
	assert_int_equal(vifmac_registry_pool_list(f->reg, "ipam", keep_info, &infos), -ENOENT);
	assert_int_equal(by_mac(f, "52:54:00:aa:00:10")->n, 1);
	infos.n = 0;
	assert_int_equal(vifmac_registry_pool_list(f->reg, NULL, keep_info, &infos), 0);
	assert_int_equal(infos.n, 2);
	/* an allocation naming it is told it is gone */
	assert_int_equal(alloc(f, UUID_D, "198.51.100.11", m), -ENOENT);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "ipam"));
}

/* One allocating "host": allocates for owner @i from "small", writes "i MAC" or "i error N" to @fd. */
static void allocator(struct fixture *f, unsigned i, int fd)
{
	static const char *const pools[] = { "small" };
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	struct vifmac_record owner, rec;
	char line[64], mac[VIFMAC_MAC_STRLEN];
	int r;

	snprintf(f->sys.hostname, sizeof(f->sys.hostname), "host-%u", i);
	ctx = ctx_for(f);
	r = vifmac_registry_open(ctx, NULL, &reg);
	if (r == 0) {
		vifmac_record_init(&owner);
		race_uuid(i, owner.uuid);
		owner.devid = 0;
		snprintf(owner.bridge, sizeof(owner.bridge), "xenpub");
		r = vifmac_registry_pool_allocate(reg, pools, 1, &owner, NULL, &rec, NULL);
		vifmac_registry_close(reg);
	}
	if (r < 0)
		snprintf(line, sizeof(line), "%u error %d\n", i, r);
	else
		snprintf(line, sizeof(line), "%u %s\n", i, vifmac_mac_format(&rec.mac, mac));
	if (write(fd, line, strlen(line)) < 0)
		_exit(2);
	vifmac_ctx_unref(ctx);
	_exit(r < 0 ? 1 : 0);
}

/* Runs @n allocators at once; fills macs[i] for owner i. */
static void allocation_round(struct fixture *f, unsigned n, char macs[][VIFMAC_MAC_STRLEN])
{
	int p[2];
	FILE *file;
	char line[128];
	unsigned got = 0;

	assert_int_equal(pipe(p), 0);
	for (unsigned i = 0; i < n; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			allocator(f, i, p[1]);
		}
	}
	close(p[1]);
	file = fdopen(p[0], "r");
	assert_non_null(file);
	while (fgets(line, sizeof(line), file)) {
		unsigned i;
		char mac[32];

		if (sscanf(line, "%u %31s", &i, mac) != 2 || i >= n)
			fail_msg("bad allocator line: %s", line);
		if (strcmp(mac, "error") == 0)
			fail_msg("owner %u: %s", i, line);
		snprintf(macs[i], VIFMAC_MAC_STRLEN, "%.17s", mac);
		got++;
	}
	fclose(file);
	for (unsigned i = 0; i < n; i++) {
		int st;

		assert_true(wait(&st) > 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(got, n);
}

static void test_pool_allocating_hosts_at_once_get_different_addresses_and_keep_them(void **state)
{
	struct fixture *f = *state;
	unsigned n = racers(32);
	static char first[MAX_RACERS][VIFMAC_MAC_STRLEN], again[MAX_RACERS][VIFMAC_MAC_STRLEN];
	struct pool_infos infos = { .n = 0 };
	char path[128];
	FILE *file;

	assert_true(n >= 2 && n <= 40);
	snprintf(path, sizeof(path), "%s/small.pool", f->dir);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs("06:00:00:00:20:00-06:00:00:00:20:27\n", file); /* 40 addresses */
	assert_int_equal(fclose(file), 0);
	import(f, "small", path);

	allocation_round(f, n, first);
	/* no duplicates, and the n lowest addresses: none lost */
	for (unsigned i = 0; i < n; i++) {
		unsigned last;

		if (strncmp(first[i], "06:00:00:00:20:", 15) != 0 || sscanf(first[i] + 15, "%x", &last) != 1)
			fail_msg("owner %u got %s, outside the range", i, first[i]);
		if (last >= n)
			fail_msg("owner %u got %s: an address above the %u lowest was handed out", i, first[i], n);
		for (unsigned j = 0; j < i; j++)
			if (strcmp(first[i], first[j]) == 0)
				fail_msg("owners %u and %u both got %s", i, j, first[i]);
	}
	/* all again at once (a restart of every domain): each keeps its own */
	allocation_round(f, n, again);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(first[i], again[i]);
	assert_int_equal(vifmac_registry_pool_list(f->reg, "small", keep_info, &infos), 0);
	assert_int_equal(infos.p[0].used, n);
	assert_int_equal(infos.p[0].size, 40);
	assert_int_equal(count(f->reg), n);
}

int main(int argc, char **argv)
{
#define CASE(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
#define POOL_CASE(t) cmocka_unit_test_setup_teardown(t, setup_pools, teardown)
#define HOTPLUG_CASE(t) cmocka_unit_test_setup_teardown(t, setup_hotplug, teardown)
	const struct CMUnitTest tests[] = {
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
		CASE(test_racing_hosts_have_one_winner_per_mac_named_to_every_loser),
		HOTPLUG_CASE(test_stale_claim_of_this_host_is_taken_over_and_reported),
		HOTPLUG_CASE(test_stale_claim_of_another_host_is_never_taken_over),
		HOTPLUG_CASE(test_vifs_racing_for_a_stale_claim_have_one_winner),
		POOL_CASE(test_pool_range_hands_out_the_lowest_free_address),
		POOL_CASE(test_pool_table_wins_for_its_address),
		POOL_CASE(test_pool_table_entry_held_by_another_owner_is_a_conflict),
		POOL_CASE(test_pool_same_vif_gets_the_same_mac_again_even_after_release),
		POOL_CASE(test_pool_domain_created_again_with_a_new_uuid_gets_its_address_by_name),
		POOL_CASE(test_pool_released_address_waits_out_its_quarantine),
		POOL_CASE(test_pool_reserved_addresses_are_never_allocated),
		POOL_CASE(test_pool_exhaustion_is_refused_naming_pool_and_size),
		POOL_CASE(test_pool_import_refuses_overlap_with_another_pool),
		POOL_CASE(test_unknown_pool_is_enoent),
		POOL_CASE(test_pool_list_show_and_remove),
		POOL_CASE(test_pool_allocating_hosts_at_once_get_different_addresses_and_keep_them),
	};

	if (argc > 1)
		setenv("VIFMAC_CONTRACT_URL", argv[1], 1);
	print_message("registry contract on %s\n", backend_url());
	return cmocka_run_group_tests_name(on_etcd() ? "registry contract (etcd)" : "registry contract (sqlite)", tests,
					   NULL, NULL);
}
