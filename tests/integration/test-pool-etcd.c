/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the etcd backend keeps of pools, read with etcdctl (another client
 * than ours) from a real 3-member cluster on loopback ports
 * (tests/etcd/cluster.sh): the ph/NAME/MAC key of an address released from
 * a pool, written by the transaction that releases or moves the claim and
 * used up when the address is given back; claims' keys kept when their pool
 * goes. The allocation rules themselves (lowest free, table first,
 * stickiness, quarantine, reservations, exhaustion, overlaps, hosts at once,
 * the hotplug path) are the registry contract's
 * (tests/contract/test-registry-contract-etcd.sh runs them on etcd).
 *
 * Exit 0 pass, 1 fail, 77 skip (etcd not installed or not starting).
 */
#include "../unit/testutil.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/fake-sys.h"
#include "../unit/testreg.h"

#define P TEST_DATA_DIR "/pools/"
#define UUID_A "aaaaaaaa-0000-4000-8000-000000000001"
#define UUID_B "bbbbbbbb-0000-4000-8000-000000000002"
#define UUID_C "cccccccc-0000-4000-8000-000000000003"

static const char *script;
static char cluster_dir[128] = "/tmp/vifmac-pool-etcd-XXXXXX";
static char endpoints[512];
static int prefix_seq;

static int cluster(const char *verb)
{
	char cmd[1024];
	int r;

	snprintf(cmd, sizeof(cmd), "%s %s %s >/dev/null 2>&1", script, verb, cluster_dir);
	r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

/* ------------------------------------------------------------ one "host" on its own key prefix */

struct env {
	struct fake_sys fake;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	char prefix[64];
};

static void import(struct env *e, const char *name, const char *file)
{
	if (tr_pool_import(e->ctx, e->reg, name, file) < 0)
		fail_msg("import %s: %s", name, vifmac_ctx_last_error(e->ctx));
}

/* A context on the cluster under key prefix @prefix, with the fake seam @fake (NULL: the production one). */
static struct vifmac_ctx *ctx_on(const char *prefix, const char *quarantine, struct fake_sys *fake)
{
	char policy[1024];
	struct vifmac_ctx *ctx;

	snprintf(policy, sizeof(policy),
		 "registry = \"etcd:%s\"\n"
		 "etcd_prefix = \"%s\"\n"
		 "etcd_timeout_ms = 20000\n"
		 "registry_timeout_ms = 20000\n"
		 "public_bridges = [ \"xenpub\" ]\n"
		 "bridge_pools = [ \"xenpub=ipam,block\" ]\n"
		 "pool_quarantine = \"%s\"\n",
		 endpoints, prefix, quarantine);
	ctx = tu_ctx_with_policy(policy);
	if (fake)
		vifmac_ctx_set_sys(ctx, &fake_sys_ops, fake);
	return ctx;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	snprintf(e->prefix, sizeof(e->prefix), "/vifmac-pool-%d-%d/", (int)getpid(), ++prefix_seq);
	e->fake.now = 1700000000;
	snprintf(e->fake.hostname, sizeof(e->fake.hostname), "dom0-a");
	e->ctx = ctx_on(e->prefix, "1h", &e->fake);
	assert_int_equal(vifmac_registry_open(e->ctx, NULL, &e->reg), 0);
	import(e, "ipam", P "table.txt");
	import(e, "block", P "range4.pool");
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	vifmac_registry_close(e->reg);
	vifmac_ctx_unref(e->ctx);
	fake_sys_free(&e->fake);
	free(e);
	return 0;
}

static int alloc(struct env *e, const char *uuid, const char *ip, char *mac)
{
	return tr_pool_alloc(e->reg, uuid, "", 0, ip, mac);
}

/* How many keys the cluster holds under @prefix + @below (etcdctl, another client than ours). */
static int keys_under(const char *prefix, const char *below)
{
	char cmd[1024], line[512];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ETCDCTL_API=3 etcdctl --endpoints=%s get --prefix --keys-only '%s%s'", endpoints,
		 prefix, below);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			n++;
	assert_int_equal(pclose(f), 0);
	return n;
}

/* ------------------------------------------------------------ ph/: released pool addresses */

static void test_a_released_address_is_remembered_under_ph_until_given_back(void **state)
{
	struct env *e = *state;
	char m1[VIFMAC_MAC_STRLEN], m2[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc(e, UUID_A, NULL, m1), 0);
	assert_int_equal(alloc(e, UUID_B, NULL, m2), 0);
	assert_int_equal(keys_under(e->prefix, "ph/"), 0);
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_A, 0), 1);
	assert_int_equal(keys_under(e->prefix, "ph/block/"), 1);
	e->fake.now += 3 * 86400;
	assert_int_equal(alloc(e, UUID_A, NULL, m2), 0);
	assert_string_equal(m1, m2);
	assert_int_equal(keys_under(e->prefix, "ph/block/"), 0);
}

static void test_an_address_given_back_by_name_uses_up_its_ph_key(void **state)
{
	struct env *e = *state;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(tr_pool_alloc(e->reg, UUID_A, "lima1", 0, NULL, m), 0);
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_A, 0), 1);
	assert_int_equal(keys_under(e->prefix, "ph/"), 1);
	assert_int_equal(tr_pool_alloc(e->reg, UUID_C, "lima1", 0, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	assert_int_equal(keys_under(e->prefix, "ph/"), 0);
}

static void test_a_vif_moving_to_another_mac_writes_ph_with_the_move(void **state)
{
	struct env *e = *state;
	struct vifmac_record rec;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc(e, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	rec = tr_claim_rec("02:00:00:00:00:09", "*", "", UUID_A, 0, NULL);
	snprintf(rec.bridge, sizeof(rec.bridge), "xenpub");
	assert_int_equal(vifmac_registry_claim(e->reg, &rec, NULL), 0);
	assert_int_equal(keys_under(e->prefix, "ph/block/06:00:00:00:10:00"), 1);
}

static void test_a_released_table_address_is_remembered_under_its_pool(void **state)
{
	struct env *e = *state;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc(e, UUID_B, "198.51.100.10", m), 0);
	assert_string_equal(m, "52:54:00:aa:00:10");
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_B, 0), 1);
	assert_int_equal(keys_under(e->prefix, "ph/ipam/52:54:00:aa:00:10"), 1);
}

static void test_a_removed_pools_claims_keep_their_keys(void **state)
{
	struct env *e = *state;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc(e, UUID_A, NULL, m), 0);
	assert_int_equal(alloc(e, UUID_B, NULL, m), 0);
	assert_int_equal(vifmac_registry_pool_remove(e->reg, "block"), 1);
	assert_int_equal(keys_under(e->prefix, "m/06:00:00:00:10:0"), 2);
}

int main(void)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[600];
	FILE *f;
	int r;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_released_address_is_remembered_under_ph_until_given_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_address_given_back_by_name_uses_up_its_ph_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_vif_moving_to_another_mac_writes_ph_with_the_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_released_table_address_is_remembered_under_its_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_removed_pools_claims_keep_their_keys, setup, teardown),
	};

	if (asprintf((char **)&script, "%s/tests/etcd/cluster.sh", top && *top ? top : ".") < 0)
		return 1;
	if (!mkdtemp(cluster_dir))
		return 1;
	r = cluster("start");
	if (r != 0) {
		fprintf(stderr, "*** SKIP: test-pool-etcd: cannot start a 3-member etcd cluster (%s) ***\n",
			r == 77 ? "etcd is not installed" : "etcd did not start");
		rmdir(cluster_dir);
		return 77;
	}
	snprintf(path, sizeof(path), "%s/endpoints", cluster_dir);
	f = fopen(path, "r");
	if (!f || !fgets(endpoints, sizeof(endpoints), f)) {
		cluster("stop");
		return 1;
	}
	fclose(f);
	endpoints[strcspn(endpoints, "\n")] = '\0';
	r = cmocka_run_group_tests(tests, NULL, NULL);
	cluster("stop");
	snprintf(path, sizeof(path), "rm -rf %s", cluster_dir);
	if (system(path) != 0)
		fprintf(stderr, "test-pool-etcd: could not remove %s\n", cluster_dir);
	return r ? 1 : 0;
}
