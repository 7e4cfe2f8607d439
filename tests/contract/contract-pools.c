/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry contract, pools: import, list, show, remove, allocation
 * (table first, then the lowest free; sticky by UUID + devid and by name +
 * devid; quarantine; reservations never handed out; exhaustion), and hosts
 * allocating at once. Pools are part of the contract; a backend built
 * without them answers -EOPNOTSUPP, and only then is a case skipped (it runs
 * by itself once the backend has them).
 */
#include "contract.h"

#include <sys/wait.h>

/* Skips the case, saying why, when the backend has no pools (and only then). */
static void skip_without_pools(int r)
{
	if (r == -EOPNOTSUPP && on_etcd()) {
		print_message("      SKIPPED: pools on etcd: not in this build\n");
		skip();
	}
}

static void import(struct fixture *f, const char *name, const char *file)
{
	int r = tr_pool_import(f->ctx, f->reg, name, file);

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

static int alloc(struct fixture *f, const char *uuid, const char *ip, char *mac)
{
	return tr_pool_alloc(f->reg, uuid, "", 0, ip, mac);
}

static int alloc_named(struct fixture *f, const char *uuid, const char *name, const char *ip, char *mac)
{
	return tr_pool_alloc(f->reg, uuid, name, 0, ip, mac);
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
	assert_int_equal(tr_pool_alloc(f->reg, UUID_A, "", 1, NULL, m3), 0);
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
	struct pool_infos infos = { .n = 0 };

	import_pools(f);
	assert_int_equal(alloc(f, UUID_A, NULL, m1), 0);
	assert_string_equal(m1, "06:00:00:00:10:00");
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_A, 0), 1);
	assert_int_equal(vifmac_registry_pool_list(f->reg, "block", keep_info, &infos), 0);
	assert_int_equal(infos.p[0].quarantined, 1);
	assert_int_equal(infos.p[0].used, 0);
	f->sys.now += 1800; /* half the quarantine */
	assert_int_equal(alloc(f, UUID_B, NULL, m2), 0);
	assert_string_equal(m2, "06:00:00:00:10:01");
	f->sys.now += 1801; /* past it: the lowest free is the released one */
	assert_int_equal(alloc(f, UUID_C, NULL, m2), 0);
	assert_string_equal(m2, "06:00:00:00:10:00");
}

static void test_pool_a_vif_moving_to_another_mac_leaves_its_pool_address_in_quarantine(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record rec;
	char m[VIFMAC_MAC_STRLEN];

	import_pools(f);
	assert_int_equal(alloc(f, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	/* the vif claims another MAC (the policy changed): its pool address is let go, remembered */
	rec = tr_claim_rec("02:00:00:00:00:09", "*", "", UUID_A, 0, NULL);
	snprintf(rec.bridge, sizeof(rec.bridge), "xenpub");
	assert_int_equal(vifmac_registry_claim(f->reg, &rec, NULL), 0);
	assert_int_equal(by_mac(f, "06:00:00:00:10:00")->n, 0);
	assert_int_equal(alloc(f, UUID_B, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
	/* and it is still the vif's own: back to its pool address, it gets it */
	assert_int_equal(alloc(f, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
	assert_int_equal(by_mac(f, "02:00:00:00:00:09")->n, 0);
}

static void test_pool_reserved_addresses_are_never_allocated(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac r = tr_mac("06:00:00:00:10:00"), t = tr_mac("52:54:00:aa:00:10");
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
	char m[VIFMAC_MAC_STRLEN];

	import_pools(f);
	src = tr_pool_source(f->ctx, P "range4.pool");
	assert_int_equal(vifmac_registry_pool_import(f->reg, "block2", src), -EEXIST);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "overlaps pool block: both hold 06:00:00:00:10:00"));
	assert_int_equal(vifmac_registry_pool_list(f->reg, "block2", keep_info, &infos), -ENOENT);
	/* the same name is a re-import: what was allocated stays allocated */
	assert_int_equal(alloc(f, UUID_A, NULL, m), 0);
	assert_int_equal(vifmac_registry_pool_import(f->reg, "block", src), 0);
	assert_int_equal(alloc(f, UUID_B, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:01");
	assert_int_equal(alloc(f, UUID_A, NULL, m), 0);
	assert_string_equal(m, "06:00:00:00:10:00");
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
	assert_int_equal(vifmac_registry_pool_list(f->reg, "nosuch", NULL, NULL), -ENOENT);
}

static void test_pool_list_show_and_remove(void **state)
{
	struct fixture *f = *state;
	struct pool_infos infos = { .n = 0 };
	struct vifmac_mac r = tr_mac("06:00:00:00:10:03");
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

/*
 * One allocating "host" (host-@i): allocates for vif 0 of owner @base + @i
 * from pool @pool, writes "i MAC" or "i error N" to @fd.
 */
static void allocator(struct fixture *f, const char *pool, unsigned base, unsigned i, int fd)
{
	const char *const pools[] = { pool };
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
		rt_uuid(base + i, owner.uuid);
		snprintf(owner.domain, sizeof(owner.domain), "guest-%u", base + i);
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

/* Runs @n allocators at once; fills macs[i] for owner @base + i. */
static void allocation_round(struct fixture *f, const char *pool, unsigned base, unsigned n,
			     char macs[][VIFMAC_MAC_STRLEN])
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
			allocator(f, pool, base, i, p[1]);
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

	allocation_round(f, "small", 0, n, first);
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
	allocation_round(f, "small", 0, n, again);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(first[i], again[i]);
	assert_int_equal(vifmac_registry_pool_list(f->reg, "small", keep_info, &infos), 0);
	assert_int_equal(infos.p[0].used, n);
	assert_int_equal(infos.p[0].size, 40);
	assert_int_equal(count(f->reg), n);
}

/* The MACs of every record, in @seen (up to 64). */
struct macs_seen {
	char mac[64][VIFMAC_MAC_STRLEN];
	size_t n;
};

static int note_mac(void *data, const struct vifmac_record *rec)
{
	struct macs_seen *seen = data;

	assert_true(seen->n < 64);
	vifmac_mac_format(&rec->mac, seen->mac[seen->n++]);
	return 0;
}

/*
 * Without quarantine every round reuses what the one before released: 8
 * hosts at once get 8 different addresses, the registry holds exactly
 * those, and all 8 restarting at once get theirs back.
 */
static void test_pool_hosts_allocating_round_after_round_never_share_an_address(void **state)
{
	enum { ROUNDS = 6 };
	struct fixture *f = *state;
	unsigned n = racers(8) < 8 ? racers(8) : 8;
	char macs[8][VIFMAC_MAC_STRLEN], again[8][VIFMAC_MAC_STRLEN], path[128];
	FILE *file;

	/* the same registry, with pool_quarantine 0 */
	vifmac_registry_close(f->reg);
	vifmac_ctx_unref(f->ctx);
	write_policy(f, "rounds", "public_bridges = [ \"xenpub\" ]\npool_quarantine = \"0\"\n");
	f->ctx = ctx_for(f);
	f->reg = open_reg(f->ctx);
	snprintf(path, sizeof(path), "%s/sixteen.pool", f->dir);
	file = fopen(path, "w");
	assert_non_null(file);
	fputs("06:00:00:00:30:00-06:00:00:00:30:0f\n", file);
	assert_int_equal(fclose(file), 0);
	import(f, "sixteen", path);
	for (unsigned round = 0; round < ROUNDS; round++) {
		unsigned base = 100 * (round + 1);
		struct macs_seen seen = { .n = 0 };
		struct pool_infos infos = { .n = 0 };

		allocation_round(f, "sixteen", base, n, macs);
		for (unsigned i = 0; i < n; i++)
			for (unsigned j = 0; j < i; j++)
				if (strcmp(macs[i], macs[j]) == 0)
					fail_msg("round %u: hosts %u and %u both got %s", round, j, i, macs[i]);
		/* the registry holds exactly those claims */
		assert_int_equal(vifmac_registry_list(f->reg, note_mac, &seen), 0);
		assert_int_equal(seen.n, n);
		for (unsigned i = 0; i < n; i++) {
			bool found = false;

			for (size_t j = 0; j < seen.n; j++)
				found = found || strcmp(seen.mac[j], macs[i]) == 0;
			if (!found)
				fail_msg("round %u: host %u's %s is not in the registry", round, i, macs[i]);
		}
		assert_int_equal(vifmac_registry_pool_list(f->reg, "sixteen", keep_info, &infos), 0);
		assert_int_equal(infos.p[0].used, n);
		/* a restart of all at once: each gets its own address back */
		allocation_round(f, "sixteen", base, n, again);
		for (unsigned i = 0; i < n; i++)
			assert_string_equal(again[i], macs[i]);
		/* the guests go */
		for (unsigned i = 0; i < n; i++) {
			char uuid[VIFMAC_UUID_STRLEN];

			rt_uuid(base + i, uuid);
			assert_int_equal(vifmac_registry_release(f->reg, NULL, uuid, 0), 1);
		}
	}
}

static int setup_pool_hotplug(void **state)
{
	struct fixture *f = fixture_new(POOL_POLICY);

	*state = f;
	fake_add_domain(&f->sys, 4, "pub1", UUID_A, true);
	fake_add_vif(&f->sys, 4, 0, "00:16:3e:01:01:01", "xenpub", "198.51.100.77", "vif");
	fake_add_domain(&f->sys, 6, "pub2", UUID_B, true);
	fake_add_vif(&f->sys, 6, 0, "00:16:3e:01:01:02", "xenpub", "198.51.100.10", "vif");
	return 0;
}

static void test_pool_hotplug_allocates_on_a_pool_bridge(void **state)
{
	struct fixture *f = *state;
	struct vifmac_hotplug_vif vif;
	struct vifmac_decision d;
	struct found *found;

	import_pools(f);
	assert_int_equal(vifmac_hotplug_read(f->ctx, "backend/vif/4/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_online(f->ctx, f->reg, &vif, VIFMAC_HOTPLUG_REWRITE, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "06:00:00:00:10:00");
	assert_int_equal(d.rule, VIFMAC_RULE_POOL);
	assert_string_equal(fake_get(&f->sys, "/local/domain/4/device/vif/0/mac"), "06:00:00:00:10:00");
	/* the table's address wins for its IP */
	assert_int_equal(vifmac_hotplug_read(f->ctx, "backend/vif/6/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_online(f->ctx, f->reg, &vif, VIFMAC_HOTPLUG_REWRITE, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "52:54:00:aa:00:10");
	found = by_mac(f, "52:54:00:aa:00:10");
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].uuid, UUID_B);
	assert_string_equal(found->recs[0].source, "pool:ipam");
	/* offline releases it into quarantine: the registry keeps one claim, pub1's */
	assert_int_equal(vifmac_hotplug_offline(f->ctx, f->reg, &vif), 1);
	assert_int_equal(by_mac(f, "52:54:00:aa:00:10")->n, 0);
	assert_int_equal(by_mac(f, "06:00:00:00:10:00")->n, 1);
	assert_int_equal(count(f->reg), 1);
}

static void test_pool_vif_after_a_crash_gets_its_address_back(void **state)
{
	struct fixture *f = *state;
	struct vifmac_hotplug_vif vif;
	struct vifmac_decision d;

	import_pools(f);
	assert_int_equal(vifmac_hotplug_read(f->ctx, "backend/vif/4/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_online(f->ctx, f->reg, &vif, VIFMAC_HOTPLUG_REWRITE, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "06:00:00:00:10:00");
	/* dom0 crashes (no offline); at boot pub1 is created again, with a new UUID */
	fake_del_domain(&f->sys, 4);
	fake_set(&f->sys, "/local/domain/0/backend/vif/4/0/mac", "00:16:3e:01:01:01", 0); /* xenstore is new */
	f->sys.now += 60;
	fake_add_domain(&f->sys, 1, "pub1", UUID_D, true);
	fake_add_vif(&f->sys, 1, 0, "00:16:3e:01:01:09", "xenpub", "198.51.100.77", "vif");
	assert_int_equal(vifmac_hotplug_read(f->ctx, "backend/vif/1/0", &vif), 0);
	assert_int_equal(vifmac_hotplug_online(f->ctx, f->reg, &vif, VIFMAC_HOTPLUG_REWRITE, &d), 0);
	assert_string_equal(tu_mac(&d.mac), "06:00:00:00:10:00");
	assert_non_null(strstr(d.warning, "released the claim of 06:00:00:00:10:00 by domain pub1 (uuid " UUID_A ")"));
	/* one claim, the new domain's */
	assert_int_equal(by_domain(f, UUID_D), 1);
	assert_int_equal(by_domain(f, UUID_A), 0);
	assert_int_equal(by_mac(f, "06:00:00:00:10:00")->n, 1);
}

#define POOL_CASE(t) cmocka_unit_test_setup_teardown(t, setup_pools, teardown)

const struct CMUnitTest contract_pool_tests[] = {
	POOL_CASE(test_pool_range_hands_out_the_lowest_free_address),
	POOL_CASE(test_pool_table_wins_for_its_address),
	POOL_CASE(test_pool_table_entry_held_by_another_owner_is_a_conflict),
	POOL_CASE(test_pool_same_vif_gets_the_same_mac_again_even_after_release),
	POOL_CASE(test_pool_domain_created_again_with_a_new_uuid_gets_its_address_by_name),
	POOL_CASE(test_pool_released_address_waits_out_its_quarantine),
	POOL_CASE(test_pool_a_vif_moving_to_another_mac_leaves_its_pool_address_in_quarantine),
	POOL_CASE(test_pool_reserved_addresses_are_never_allocated),
	POOL_CASE(test_pool_exhaustion_is_refused_naming_pool_and_size),
	POOL_CASE(test_pool_import_refuses_overlap_with_another_pool),
	POOL_CASE(test_unknown_pool_is_enoent),
	POOL_CASE(test_pool_list_show_and_remove),
	POOL_CASE(test_pool_allocating_hosts_at_once_get_different_addresses_and_keep_them),
	POOL_CASE(test_pool_hosts_allocating_round_after_round_never_share_an_address),
	cmocka_unit_test_setup_teardown(test_pool_hotplug_allocates_on_a_pool_bridge, setup_pool_hotplug, teardown),
	cmocka_unit_test_setup_teardown(test_pool_vif_after_a_crash_gets_its_address_back, setup_pool_hotplug,
					teardown),
};
const size_t contract_pool_tests_n = sizeof(contract_pool_tests) / sizeof(contract_pool_tests[0]);
