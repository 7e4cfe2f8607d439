/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pools on the etcd registry, against a real 3-member cluster on loopback
 * ports (tests/etcd/cluster.sh): every allocation rule tests/unit/test-pool.c
 * checks on SQLite (lowest free, table first, table conflicts, stickiness by
 * UUID and by name, quarantine, reservations, exhaustion, overlaps, unknown
 * pools, the hotplug path), each test under a key prefix of its own; then
 * 8 hosts (processes with their own host_name) allocating from one range at
 * once, round after round: 8 different addresses every round, and the
 * registry holds exactly those 8 claims.
 *
 * Exit 0 pass, 1 fail, 77 skip (etcd not installed or not starting).
 */
#include "../unit/testutil.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/fake-sys.h"

#define P TEST_DATA_DIR "/pools/"
#define UUID_A "aaaaaaaa-0000-4000-8000-000000000001"
#define UUID_B "bbbbbbbb-0000-4000-8000-000000000002"
#define UUID_C "cccccccc-0000-4000-8000-000000000003"
#define UUID_D "dddddddd-0000-4000-8000-000000000004"
#define UUID_E "eeeeeeee-0000-4000-8000-000000000005"

#define HOSTS 8
#define ROUNDS 6

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

static struct vifmac_pool_source *read_ok(struct vifmac_ctx *ctx, const char *path)
{
	struct vifmac_pool_source *src = NULL;

	if (vifmac_pool_source_read(ctx, path, &src) < 0)
		fail_msg("%s: %s", path, vifmac_ctx_last_error(ctx));
	return src;
}

static void import(struct env *e, const char *name, const char *file)
{
	struct vifmac_pool_source *src = read_ok(e->ctx, file);

	if (vifmac_registry_pool_import(e->reg, name, src) < 0)
		fail_msg("import %s: %s", name, vifmac_ctx_last_error(e->ctx));
	vifmac_pool_source_free(src);
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
	free(e);
	return 0;
}

/* Allocates for vif 0 of domain @name (may be "") @uuid on xenpub; the MAC (or the holder's) in @mac. */
static int alloc_named(struct env *e, const char *uuid, const char *name, const char *ip, char *mac)
{
	static const char *const pools[] = { "ipam", "block" };
	struct vifmac_record owner, rec, holder;
	struct vifmac_ipv4 a;
	int r;

	vifmac_record_init(&owner);
	snprintf(owner.uuid, sizeof(owner.uuid), "%s", uuid);
	snprintf(owner.domain, sizeof(owner.domain), "%s", name);
	owner.devid = 0;
	snprintf(owner.bridge, sizeof(owner.bridge), "xenpub");
	if (ip)
		assert_int_equal(vifmac_ipv4_parse(ip, &a), 0);
	r = vifmac_registry_pool_allocate(e->reg, pools, 2, &owner, ip ? &a : NULL, &rec, &holder);
	if (r == 0) {
		vifmac_mac_format(&rec.mac, mac);
		assert_string_equal(rec.source, strncmp(mac, "52:54", 5) == 0 ? "pool:ipam" : "pool:block");
	} else if (r == -EEXIST) {
		vifmac_mac_format(&holder.mac, mac);
	}
	return r;
}

static int alloc(struct env *e, const char *uuid, const char *ip, char *mac)
{
	return alloc_named(e, uuid, "", ip, mac);
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

static int count_records(void *data, const struct vifmac_record *rec)
{
	(*(int *)data)++;
	return 0;
}

static int keep_info(void *data, const struct vifmac_pool_info *p)
{
	struct vifmac_pool_info *info = data;

	info[0] = *p;
	info[1].size++;
	return 0;
}

/* ------------------------------------------------------------ the rules, as on SQLite */

static void test_range_hands_out_the_lowest_free_address(void **state)
{
	struct env *e = *state;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc(e, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	assert_int_equal(alloc(e, UUID_B, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
}

static void test_table_wins_for_its_address(void **state)
{
	struct env *e = *state;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc(e, UUID_A, "198.51.100.11", m), 0);
	assert_string_equal(m, "52:54:00:aa:00:11");
	assert_int_equal(alloc(e, UUID_B, "198.51.100.99", m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
}

static void test_table_entry_held_by_another_owner_is_a_conflict(void **state)
{
	struct env *e = *state;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc(e, UUID_A, "198.51.100.10", m), 0);
	assert_int_equal(alloc(e, UUID_B, "198.51.100.10", m), -EEXIST);
	assert_string_equal(m, "52:54:00:aa:00:10");
}

static void test_same_vif_gets_the_same_mac_again_even_after_release(void **state)
{
	struct env *e = *state;
	char m1[VIFMAC_MAC_STRLEN], m2[VIFMAC_MAC_STRLEN], m3[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc(e, UUID_A, NULL, m1), 0);
	assert_int_equal(alloc(e, UUID_B, NULL, m2), 0);
	assert_int_equal(alloc(e, UUID_A, NULL, m3), 0);
	assert_string_equal(m1, m3);
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_A, 0), 1);
	assert_int_equal(keys_under(e->prefix, "ph/block/"), 1);
	e->fake.now += 3 * 86400;
	assert_int_equal(alloc(e, UUID_A, NULL, m3), 0);
	assert_string_equal(m1, m3);
	assert_int_equal(keys_under(e->prefix, "ph/block/"), 0);
}

static void test_domain_created_again_with_a_new_uuid_gets_its_address_by_name(void **state)
{
	struct env *e = *state;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc_named(e, UUID_A, "lima1", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	assert_int_equal(alloc_named(e, UUID_B, "lima2", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_A, 0), 1);
	assert_int_equal(alloc_named(e, UUID_C, "lima1", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	assert_int_equal(keys_under(e->prefix, "ph/"), 0);
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_B, 0), 1);
	assert_int_equal(alloc_named(e, UUID_D, "lima3", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:02");
	assert_int_equal(alloc_named(e, UUID_E, "", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:03");
	e->fake.now += 3 * 86400;
	assert_int_equal(alloc_named(e, "ffffffff-0000-4000-8000-000000000006", "lima2", NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
}

static void test_released_address_waits_out_its_quarantine(void **state)
{
	struct env *e = *state;
	char m1[VIFMAC_MAC_STRLEN], m2[VIFMAC_MAC_STRLEN];
	struct vifmac_pool_info info[2] = { 0 };

	assert_int_equal(alloc(e, UUID_A, NULL, m1), 0);
	assert_string_equal(m1, "06:00:00:00:10:00");
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_A, 0), 1);
	assert_int_equal(vifmac_registry_pool_list(e->reg, "block", keep_info, info), 0);
	assert_int_equal(info[0].quarantined, 1);
	assert_int_equal(info[0].used, 0);
	e->fake.now += 1800;
	assert_int_equal(alloc(e, UUID_B, NULL, m2), 0);
	assert_string_equal(m2, "06:00:00:00:10:01");
	e->fake.now += 1801;
	assert_int_equal(alloc(e, UUID_C, NULL, m2), 0);
	assert_string_equal(m2, "06:00:00:00:10:00");
}

static void test_a_vif_moving_to_another_mac_leaves_its_pool_address_in_quarantine(void **state)
{
	struct env *e = *state;
	struct vifmac_record rec;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(alloc(e, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	/* the vif claims another MAC (the policy changed): its pool address is let go, remembered */
	vifmac_record_init(&rec);
	assert_int_equal(vifmac_mac_parse("02:00:00:00:00:09", &rec.mac), 0);
	snprintf(rec.uuid, sizeof(rec.uuid), UUID_A);
	rec.devid = 0;
	snprintf(rec.bridge, sizeof(rec.bridge), "xenpub");
	assert_int_equal(vifmac_registry_claim(e->reg, &rec, NULL), 0);
	assert_int_equal(keys_under(e->prefix, "ph/block/06:00:00:00:10:00"), 1);
	assert_int_equal(alloc(e, UUID_B, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
}

static void test_reserved_addresses_are_never_allocated(void **state)
{
	struct env *e = *state;
	struct vifmac_mac r;
	char m[VIFMAC_MAC_STRLEN];
	struct vifmac_pool_info info[2] = { 0 };

	assert_int_equal(vifmac_mac_parse("06:00:00:00:10:00", &r), 0);
	assert_int_equal(vifmac_registry_reserve(e->reg, &r, "the router", NULL), 0);
	assert_int_equal(alloc(e, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
	assert_int_equal(vifmac_registry_pool_list(e->reg, "block", keep_info, info), 0);
	assert_int_equal(info[0].reserved, 1);
}

static void test_exhaustion_is_refused_naming_pool_and_size(void **state)
{
	struct env *e = *state;
	const char *uuids[] = { UUID_A, UUID_B, UUID_C, UUID_D };
	char m[VIFMAC_MAC_STRLEN];
	struct vifmac_pool_info info[2] = { 0 };

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(alloc(e, uuids[i], NULL, m), 0);
	assert_int_equal(alloc(e, UUID_E, NULL, m), -ENOSPC);
	assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), "block (range, 4 addresses)"));
	assert_int_equal(vifmac_registry_pool_list(e->reg, "block", keep_info, info), 0);
	assert_int_equal(info[1].size, 1);
	assert_int_equal(info[0].size, 4);
	assert_int_equal(info[0].used, 4);
}

static void test_import_refuses_overlap_with_another_pool(void **state)
{
	struct env *e = *state;
	struct vifmac_pool_source *src = read_ok(e->ctx, P "range4.pool");
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(vifmac_registry_pool_import(e->reg, "block2", src), -EEXIST);
	assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), "overlaps pool block: both hold 06:00:00:00:10:00"));
	/* the same name is a re-import, keeping the high-water mark of unchanged bounds */
	assert_int_equal(alloc(e, UUID_A, NULL, m), 0);
	assert_int_equal(vifmac_registry_pool_import(e->reg, "block", src), 0);
	assert_int_equal(alloc(e, UUID_B, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
	assert_int_equal(vifmac_registry_pool_import(e->reg, "bad name", src), -EINVAL);
	vifmac_pool_source_free(src);
	/* removed: gone for allocation, its claims stay */
	assert_int_equal(vifmac_registry_pool_remove(e->reg, "block"), 1);
	assert_int_equal(vifmac_registry_pool_remove(e->reg, "block"), 0);
	assert_int_equal(alloc(e, UUID_C, NULL, m), -ENOENT);
	assert_int_equal(keys_under(e->prefix, "m/06:00:00:00:10:0"), 2);
}

static void test_unknown_pool_is_enoent(void **state)
{
	struct env *e = *state;
	static const char *const pools[] = { "nosuch" };
	struct vifmac_record owner, rec;

	vifmac_record_init(&owner);
	snprintf(owner.uuid, sizeof(owner.uuid), UUID_A);
	owner.devid = 0;
	assert_int_equal(vifmac_registry_pool_allocate(e->reg, pools, 1, &owner, NULL, &rec, NULL), -ENOENT);
	assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), "vifmac pool import nosuch FILE"));
	assert_int_equal(vifmac_registry_pool_list(e->reg, "nosuch", NULL, NULL), -ENOENT);
}

static void test_hotplug_allocates_on_a_pool_bridge(void **state)
{
	struct env *e = *state;
	struct vifmac_hotplug_vif vif;
	struct vifmac_decision d;
	struct vifmac_mac m;
	int n = 0;

	fake_add_domain(&e->fake, 4, "pub1", UUID_A, true);
	fake_add_vif(&e->fake, 4, 0, "00:16:3e:01:01:01", "xenpub", "198.51.100.77", "vif");
	fake_add_domain(&e->fake, 6, "pub2", UUID_B, true);
	fake_add_vif(&e->fake, 6, 0, "00:16:3e:01:01:02", "xenpub", "198.51.100.10", "vif");
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/4/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_online(e->ctx, e->reg, &vif, VIFMAC_HOTPLUG_REWRITE, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "06:00:00:00:10:00");
	assert_int_equal(d.rule, VIFMAC_RULE_POOL);
	assert_string_equal(fake_get(&e->fake, "/local/domain/4/device/vif/0/mac"), "06:00:00:00:10:00");
	/* the table's address wins for its IP */
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/6/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_online(e->ctx, e->reg, &vif, VIFMAC_HOTPLUG_REWRITE, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "52:54:00:aa:00:10");
	/* offline releases it into quarantine: the registry keeps one claim, pub1's */
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_B, 0), 1);
	assert_int_equal(vifmac_mac_parse("06:00:00:00:10:00", &m), 0);
	assert_int_equal(vifmac_registry_lookup_mac(e->reg, &m, count_records, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(keys_under(e->prefix, "ph/ipam/52:54:00:aa:00:10"), 1);
}

/* ------------------------------------------------------------ 8 hosts at once */

struct child_host {
	char name[64];
	int64_t now;
};

static int64_t child_now(void *data)
{
	return ((struct child_host *)data)->now;
}

static int child_hostname(void *data, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ((struct child_host *)data)->name);
	return 0;
}

static const struct vifmac_sys_ops child_ops = {
	.now = child_now,
	.hostname = child_hostname,
};

/* Host @i allocates for its vif of round @round from "block"; writes "i MAC" (or "i error N") to @fd. */
static void host_child(const char *prefix, unsigned i, unsigned owner, int fd)
{
	static const char *const pools[] = { "block" };
	struct child_host h = { .now = 1700000000 };
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	struct vifmac_record o, rec;
	char line[160], mac[VIFMAC_MAC_STRLEN];
	int r;

	snprintf(h.name, sizeof(h.name), "dom0-%u", i);
	ctx = ctx_on(prefix, "0", NULL);
	vifmac_ctx_set_sys(ctx, &child_ops, &h);
	r = vifmac_registry_open(ctx, NULL, &reg);
	if (r == 0) {
		vifmac_record_init(&o);
		snprintf(o.uuid, sizeof(o.uuid), "%08x-0000-4000-8000-%012u", owner, i);
		snprintf(o.domain, sizeof(o.domain), "guest-%u-%u", owner, i);
		o.devid = 0;
		snprintf(o.bridge, sizeof(o.bridge), "xenpub");
		r = vifmac_registry_pool_allocate(reg, pools, 1, &o, NULL, &rec, NULL);
		if (r < 0)
			fprintf(stderr, "host %u: %s\n", i, vifmac_ctx_last_error(ctx));
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

/* HOSTS processes allocate at once for owners of @owner; their MACs in @macs. */
static void hosts_at_once(const char *prefix, unsigned owner, char macs[HOSTS][VIFMAC_MAC_STRLEN])
{
	int p[2], status, n = 0;
	char line[160];
	FILE *f;

	assert_int_equal(pipe(p), 0);
	for (unsigned i = 0; i < HOSTS; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			host_child(prefix, i, owner, p[1]);
		}
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned i;
		char mac[32];

		if (sscanf(line, "%u %31s", &i, mac) != 2 || i >= HOSTS || strcmp(mac, "error") == 0)
			fail_msg("a host failed: %s", line);
		if (strlen(mac) >= VIFMAC_MAC_STRLEN)
			fail_msg("not a MAC: %s", line);
		memcpy(macs[i], mac, strlen(mac) + 1);
		n++;
	}
	fclose(f);
	while (wait(&status) > 0)
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(n, HOSTS);
}

static int collect_claims(void *data, const struct vifmac_record *rec)
{
	char (*seen)[VIFMAC_MAC_STRLEN] = data;
	size_t i = 0;

	while (i < HOSTS * 2 && seen[i][0])
		i++;
	if (i < HOSTS * 2)
		vifmac_mac_format(&rec->mac, seen[i]);
	return 0;
}

static void test_8_hosts_allocating_at_once_get_8_different_addresses(void **state)
{
	struct env *e = *state;
	struct vifmac_pool_source *src;
	char macs[HOSTS][VIFMAC_MAC_STRLEN], again[HOSTS][VIFMAC_MAC_STRLEN];

	/* a range of 16 and no quarantine: every round reuses what the last one released */
	src = NULL;
	{
		char path[] = "/tmp/vifmac-pool16-XXXXXX";
		int fd = mkstemp(path);
		const char *text = "06:00:00:00:30:00-06:00:00:00:30:0f\n";

		assert_true(fd >= 0);
		assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
		close(fd);
		assert_int_equal(vifmac_pool_source_read(e->ctx, path, &src), 0);
		unlink(path);
	}
	assert_int_equal(vifmac_registry_pool_import(e->reg, "block", src), 0);
	vifmac_pool_source_free(src);
	for (unsigned round = 0; round < ROUNDS; round++) {
		char seen[HOSTS * 2][VIFMAC_MAC_STRLEN];
		struct vifmac_pool_info info[2] = { 0 };
		int n = 0;

		hosts_at_once(e->prefix, round + 1, macs);
		for (unsigned i = 0; i < HOSTS; i++)
			for (unsigned j = 0; j < i; j++)
				if (strcmp(macs[i], macs[j]) == 0)
					fail_msg("round %u: hosts %u and %u both got %s", round, j, i, macs[i]);
		/* the registry holds exactly those 8 claims */
		memset(seen, 0, sizeof(seen));
		assert_int_equal(vifmac_registry_list(e->reg, collect_claims, seen), 0);
		while (n < HOSTS * 2 && seen[n][0])
			n++;
		assert_int_equal(n, HOSTS);
		for (unsigned i = 0; i < HOSTS; i++) {
			bool found = false;

			for (int j = 0; j < n; j++)
				found = found || strcmp(seen[j], macs[i]) == 0;
			if (!found)
				fail_msg("round %u: host %u's %s is not in the registry", round, i, macs[i]);
		}
		assert_int_equal(vifmac_registry_pool_list(e->reg, "block", keep_info, info), 0);
		assert_int_equal(info[0].used, HOSTS);
		/* a restart of all 8 at once: each gets its own address back */
		hosts_at_once(e->prefix, round + 1, again);
		for (unsigned i = 0; i < HOSTS; i++)
			assert_string_equal(again[i], macs[i]);
		/* the guests go */
		for (unsigned i = 0; i < HOSTS; i++) {
			char uuid[VIFMAC_UUID_STRLEN];

			snprintf(uuid, sizeof(uuid), "%08x-0000-4000-8000-%012u", round + 1, i);
			assert_int_equal(vifmac_registry_release(e->reg, NULL, uuid, 0), 1);
		}
	}
}

int main(void)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[600];
	FILE *f;
	int r;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_range_hands_out_the_lowest_free_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_wins_for_its_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_entry_held_by_another_owner_is_a_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_vif_gets_the_same_mac_again_even_after_release, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_domain_created_again_with_a_new_uuid_gets_its_address_by_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_released_address_waits_out_its_quarantine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_vif_moving_to_another_mac_leaves_its_pool_address_in_quarantine,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_addresses_are_never_allocated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion_is_refused_naming_pool_and_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_refuses_overlap_with_another_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_pool_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hotplug_allocates_on_a_pool_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_8_hosts_allocating_at_once_get_8_different_addresses, setup,
						teardown),
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
