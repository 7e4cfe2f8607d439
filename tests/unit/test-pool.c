/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pools: the file formats and their validation; what the SQLite backend
 * keeps of pools (schema migrations, the released rows); the hotplug
 * pipeline on a pool bridge. The allocation rules every backend keeps
 * (stickiness, quarantine, exhaustion, reservations, table conflicts) are
 * in tests/contract/test-registry-contract.c.
 */
#include "testutil.h"

#include <errno.h>
#include <sqlite3.h>

#include "fake-sys.h"
#include "testreg.h"

#define P TEST_DATA_DIR "/pools/"
#define UUID_A "aaaaaaaa-0000-4000-8000-000000000001"
#define UUID_B "bbbbbbbb-0000-4000-8000-000000000002"
#define UUID_C "cccccccc-0000-4000-8000-000000000003"
#define UUID_D "dddddddd-0000-4000-8000-000000000004"
#define UUID_E "eeeeeeee-0000-4000-8000-000000000005"

/* ------------------------------------------------------------ files */

static void test_table_plain_and_csv(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_pool_source *t = tr_pool_source(ctx, P "table.txt");
	struct vifmac_pool_source *c = tr_pool_source(ctx, P "table.csv");

	assert_int_equal(t->kind, VIFMAC_POOL_TABLE);
	assert_int_equal(t->n, 2);
	assert_string_equal(tu_mac(&t->entries[0].mac), "52:54:00:aa:00:10");
	assert_string_equal(t->entries[0].note, "customer 17");
	assert_int_equal(t->entries[1].line, 3);
	assert_int_equal(c->kind, VIFMAC_POOL_TABLE);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->entries[0].ip.b[3], 20);
	assert_string_equal(c->entries[0].note, "customer 4");
	assert_int_equal(c->entries[1].line, 4);
	vifmac_pool_source_free(t);
	vifmac_pool_source_free(c);
	vifmac_ctx_unref(ctx);
}

static void test_ranges_start_end_and_prefix(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_pool_source *r = tr_pool_source(ctx, P "range4.pool");
	struct vifmac_pool_source *p = tr_pool_source(ctx, P "prefix.pool");

	assert_int_equal(r->kind, VIFMAC_POOL_RANGE);
	assert_int_equal(r->size, 4);
	assert_string_equal(tu_mac(&r->end), "06:00:00:00:10:03");
	assert_int_equal(p->size, 1 << 20);
	assert_string_equal(tu_mac(&p->end), "06:00:00:1f:ff:ff");
	vifmac_pool_source_free(r);
	vifmac_pool_source_free(p);
	vifmac_ctx_unref(ctx);
}

static void test_recycled_keeps_provenance_and_xen_range_warns(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_pool_source *r = tr_pool_source(ctx, P "recycled.pool");
	struct vifmac_pool_source *x = tr_pool_source(ctx, P "xen-range.txt");

	assert_int_equal(r->kind, VIFMAC_POOL_RECYCLED);
	assert_string_equal(r->entries[0].note, "Dell R610 #17, retired 2025-03 (rack B4)");
	assert_int_equal(r->warnings, 0);
	assert_int_equal(x->warnings, 1);
	vifmac_pool_source_free(r);
	vifmac_pool_source_free(x);
	vifmac_ctx_unref(ctx);
}

static void expect_bad(const char *file, const char *where, const char *words)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_pool_source *src = NULL;
	char path[512];

	snprintf(path, sizeof(path), P "bad/%s", file);
	if (vifmac_pool_source_read(ctx, path, &src) != -EINVAL)
		fail_msg("%s was accepted", file);
	assert_null(src);
	if (!strstr(vifmac_ctx_last_error(ctx), where) || !strstr(vifmac_ctx_last_error(ctx), words))
		fail_msg("%s: \"%s\" lacks \"%s\" or \"%s\"", file, vifmac_ctx_last_error(ctx), where, words);
	vifmac_ctx_unref(ctx);
}

static void test_every_validation_error_names_file_and_line(void **state)
{
	expect_bad("malformed.txt", "malformed.txt:2:", "52:54:00:aa:00:1");
	expect_bad("dup-mac.txt", "dup-mac.txt:3:", "given twice (first at line 1)");
	expect_bad("dup-ip.txt", "dup-ip.txt:2:", "198.51.100.10 is given twice");
	expect_bad("multicast.txt", "multicast.txt:1:", "multicast");
	expect_bad("mixed.txt", "mixed.txt:2:", "one file holds one kind");
	expect_bad("reversed.pool", "reversed.pool:1:", "ends before it starts");
	expect_bad("span.pool", "span.pool:1:", "more than one first octet");
	expect_bad("no-note.pool", "no-note.pool:1:", "needs a note");
	expect_bad("no-mac-column.csv", "no-mac-column.csv:1:", "must name an ip and a mac column");
	expect_bad("short-row.csv", "short-row.csv:2:", "columns");
	expect_bad("prefix-short.pool", "prefix-short.pool:1:", "24 <= len <= 48");
	expect_bad("empty.pool", "empty.pool", "no pool in it");
	expect_bad("two-ranges.pool", "two-ranges.pool:2:", "one range");
}

static void test_overlaps_between_sources_are_named(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_pool_source *a = tr_pool_source(ctx, P "recycled.pool");
	struct vifmac_pool_source *b = tr_pool_source(ctx, P "recycled-overlap.pool");
	struct vifmac_pool_source *r = tr_pool_source(ctx, P "range4.pool");
	struct vifmac_pool_source *t = tr_pool_source(ctx, P "table.txt");

	assert_int_equal(vifmac_pool_sources_overlap(ctx, a, b), -EEXIST);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "recycled.pool:2 and"));
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "00:1b:21:0a:0b:0d"));
	assert_int_equal(vifmac_pool_sources_overlap(ctx, r, t), 0);
	vifmac_pool_source_free(a);
	vifmac_pool_source_free(b);
	vifmac_pool_source_free(r);
	vifmac_pool_source_free(t);
	vifmac_ctx_unref(ctx);
}

/* ------------------------------------------------------------ registry */

struct env {
	struct fake_sys fake;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	char dir[64];
	char path[128];
};

static void import(struct env *e, const char *name, const char *file)
{
	if (tr_pool_import(e->ctx, e->reg, name, file) < 0)
		fail_msg("import %s: %s", name, vifmac_ctx_last_error(e->ctx));
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	fake_registry_env(&e->fake, &e->ctx, &e->reg, e->dir, sizeof(e->dir), "pool",
			  "public_bridges = [ \"xenpub\" ]\n"
			  "bridge_pools = [ \"xenpub=ipam,block\" ]\n"
			  "pool_quarantine = \"1h\"\n");
	snprintf(e->path, sizeof(e->path), "%s/registry.db", e->dir);
	import(e, "ipam", P "table.txt");
	import(e, "block", P "range4.pool");
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

/* The first column of the first row of @sql on the registry file (read in a connection of its own). */
static int sql_count(struct env *e, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n;

	assert_int_equal(sqlite3_open_v2(e->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static int alloc(struct env *e, const char *uuid, const char *ip, char *mac)
{
	return tr_pool_alloc(e->reg, uuid, "", 0, ip, mac);
}

/*
 * The rule (an address comes back to its name under a new UUID) is in the
 * registry contract; here, what SQLite keeps of it: the released row is
 * used up, so the address is not in quarantine a second time.
 */
static void test_an_address_given_back_by_name_leaves_no_released_row(void **state)
{
	struct env *e = *state;
	char m[VIFMAC_MAC_STRLEN];

	assert_int_equal(tr_pool_alloc(e->reg, UUID_A, "lima1", 0, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_A, 0), 1);
	assert_int_equal(sql_count(e, "SELECT count(*) FROM pool_released"), 1);
	assert_int_equal(tr_pool_alloc(e->reg, UUID_C, "lima1", 0, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	assert_int_equal(sql_count(e, "SELECT count(*) FROM pool_released"), 0);
}

static int count_records(void *data, const struct vifmac_record *rec)
{
	(*(int *)data)++;
	return 0;
}

static void test_schema_1_registry_is_migrated_keeping_its_records(void **state)
{
	struct env *e = *state;
	struct vifmac_mac r;
	sqlite3 *db;
	char url[160];
	int n = 0;

	assert_int_equal(vifmac_mac_parse("02:00:00:00:00:01", &r), 0);
	assert_int_equal(vifmac_registry_reserve(e->reg, &r, "kept", NULL), 0);
	vifmac_registry_close(e->reg);
	/* back to what version 1 of the schema was */
	assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE pool_entries; DROP TABLE pool_released; DROP TABLE pools;"
					  " PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	snprintf(url, sizeof(url), "sqlite:%s", e->path);
	assert_int_equal(vifmac_registry_open(e->ctx, url, &e->reg), 0);
	assert_int_equal(vifmac_registry_lookup_mac(e->reg, &r, count_records, &n), 0);
	assert_int_equal(n, 1);
	import(e, "block", P "range4.pool");
}

static void test_schema_2_registry_is_migrated_keeping_released_addresses(void **state)
{
	struct env *e = *state;
	char m[VIFMAC_MAC_STRLEN];
	sqlite3 *db;
	char url[160];

	assert_int_equal(tr_pool_alloc(e->reg, UUID_A, "lima1", 0, NULL, m), 0);
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_A, 0), 1);
	vifmac_registry_close(e->reg);
	/* back to what version 2 of the schema was: no domain in pool_released */
	assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP INDEX pool_released_domain;"
					  " ALTER TABLE pool_released DROP COLUMN domain; PRAGMA user_version = 2",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	snprintf(url, sizeof(url), "sqlite:%s", e->path);
	assert_int_equal(vifmac_registry_open(e->ctx, url, &e->reg), 0);
	assert_int_equal(sql_count(e, "PRAGMA user_version"), 3);
	assert_int_equal(sql_count(e, "SELECT count(*) FROM pool_released WHERE domain = ''"), 1);
	/* the address released under version 2 is still in quarantine, and still its owner's */
	assert_int_equal(alloc(e, UUID_B, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
	assert_int_equal(alloc(e, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
}

static void test_hotplug_allocates_on_a_pool_bridge(void **state)
{
	struct env *e = *state;
	struct vifmac_hotplug_vif vif;
	struct vifmac_decision d;

	fake_add_domain(&e->fake, 4, "pub1", UUID_A, true);
	fake_add_vif(&e->fake, 4, 0, "00:16:3e:01:01:01", "xenpub", "198.51.100.77", "vif");
	fake_add_domain(&e->fake, 6, "pub2", UUID_B, true);
	fake_add_vif(&e->fake, 6, 0, "00:16:3e:01:01:02", "xenpub", "198.51.100.78", "vif");
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/4/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_online(e->ctx, e->reg, &vif, VIFMAC_HOTPLUG_REWRITE, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "06:00:00:00:10:00");
	assert_int_equal(d.rule, VIFMAC_RULE_POOL);
	assert_string_equal(fake_get(&e->fake, "/local/domain/4/device/vif/0/mac"), "06:00:00:00:10:00");
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/6/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_online(e->ctx, e->reg, &vif, VIFMAC_HOTPLUG_REWRITE, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "06:00:00:00:10:01");
	/* pub2 goes; past the quarantine a new domain would get its address, but a squatter uses it */
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_B, 0), 1);
	fake_set(&e->fake, "/local/domain/0/backend/vif/6/0/mac", "00:16:3e:01:01:02", 0); /* torn down */
	e->fake.now += 7200;
	fake_add_fdb(&e->fake, "06:00:00:00:10:01", "xenpub", "eth0", 5);
	fake_add_domain(&e->fake, 7, "pub3", UUID_C, true);
	fake_add_vif(&e->fake, 7, 0, "00:16:3e:01:01:03", "xenpub", "198.51.100.79", "vif");
	assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/7/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_online(e->ctx, e->reg, &vif, VIFMAC_HOTPLUG_REWRITE, &d), -EEXIST);
	assert_non_null(strstr(d.refusal.message, "vifmac reserve"));
	assert_string_equal(d.refusal.holder.where, "fdb");
	/* the allocation was undone: nobody holds it */
	{
		struct vifmac_mac m;
		int n = 0;

		assert_int_equal(vifmac_mac_parse("06:00:00:00:10:01", &m), 0);
		assert_int_equal(vifmac_registry_lookup_mac(e->reg, &m, count_records, &n), 0);
		assert_int_equal(n, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_plain_and_csv),
		cmocka_unit_test(test_ranges_start_end_and_prefix),
		cmocka_unit_test(test_recycled_keeps_provenance_and_xen_range_warns),
		cmocka_unit_test(test_every_validation_error_names_file_and_line),
		cmocka_unit_test(test_overlaps_between_sources_are_named),
		cmocka_unit_test_setup_teardown(test_an_address_given_back_by_name_leaves_no_released_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_1_registry_is_migrated_keeping_its_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_2_registry_is_migrated_keeping_released_addresses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hotplug_allocates_on_a_pool_bridge, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
