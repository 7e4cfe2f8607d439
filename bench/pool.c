/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Allocation from a range of 1M addresses with 100k in use: the cost of
 * vifmac_registry_pool_allocate (new vifs, sticky restarts, reuse of
 * released addresses) against a raw SQLite write transaction
 * (BEGIN IMMEDIATE; SELECT; INSERT; COMMIT) on the same file, same run.
 *   bench/pool [USED [OPS]]      (defaults 100000 and 2000)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vifmac.h"
#include "bench.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void row(const char *name, double *v, int n, double base)
{
	bench_sort(v, (size_t)n);
	printf("| %-40s | %8.1f | %8.1f | %8.1f | %5.2fx |\n", name, v[n / 2], v[n * 99 / 100], v[n - 1],
	       base > 0 ? v[n / 2] / base : 1.0);
}

static void uuid_of(unsigned i, char *buf)
{
	snprintf(buf, VIFMAC_UUID_STRLEN, "%08x-0000-4000-8000-%012x", i, i * 2654435761u);
}

static int alloc(struct vifmac_registry *reg, unsigned i, struct vifmac_record *rec)
{
	static const char *const pools[] = { "big" };
	struct vifmac_record owner;

	vifmac_record_init(&owner);
	uuid_of(i, owner.uuid);
	owner.devid = 0;
	snprintf(owner.bridge, sizeof(owner.bridge), "xenpub");
	return vifmac_registry_pool_allocate(reg, pools, 1, &owner, NULL, rec, NULL);
}

int main(int argc, char **argv)
{
	unsigned used = argc > 1 ? (unsigned)atoi(argv[1]) : 100000;
	int ops = argc > 2 ? atoi(argv[2]) : 2000;
	char dir[] = "/var/tmp/vifmac-bench-pool-XXXXXX", conf[128], url[160], pool[128], path[128];
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct vifmac_registry *reg;
	struct vifmac_pool_source *src;
	struct vifmac_record rec;
	double *t_new = calloc((size_t)ops, sizeof(double)), *t_sticky = calloc((size_t)ops, sizeof(double));
	double *t_reuse = calloc((size_t)ops, sizeof(double)), *t_raw = calloc((size_t)ops, sizeof(double));
	double t0, base;
	sqlite3 *db;
	sqlite3_stmt *begin, *sel, *ins, *commit;
	FILE *f;

	if (!ctx || !mkdtemp(dir))
		return 1;
	snprintf(conf, sizeof(conf), "%s/vifmac.conf", dir);
	snprintf(pool, sizeof(pool), "%s/big.pool", dir);
	snprintf(path, sizeof(path), "%s/registry.db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	f = fopen(conf, "w");
	fprintf(f, "public_bridges = [ \"xenpub\" ]\nbridge_pools = [ \"xenpub=big\" ]\npool_quarantine = \"0\"\n");
	fclose(f);
	f = fopen(pool, "w");
	fprintf(f, "06:10:00:00:00:00/28\n"); /* 1,048,576 addresses */
	fclose(f);
	if (vifmac_ctx_load_policy(ctx, conf) < 0 || vifmac_registry_open(ctx, url, &reg) < 0 ||
	    vifmac_pool_source_read(ctx, pool, &src) < 0 || vifmac_registry_pool_import(reg, "big", src) < 0) {
		fprintf(stderr, "bench/pool: %s\n", vifmac_ctx_last_error(ctx));
		return 1;
	}
	printf("range of %llu addresses; filling %u ...\n", (unsigned long long)src->size, used);
	vifmac_pool_source_free(src);
	t0 = now_us();
	for (unsigned i = 0; i < used; i++)
		if (alloc(reg, i, &rec) < 0) {
			fprintf(stderr, "fill %u: %s\n", i, vifmac_ctx_last_error(ctx));
			return 1;
		}
	printf("filled in %.1f s\n\n", (now_us() - t0) / 1e6);

	/* the baseline: a raw write transaction on the same file */
	sqlite3_open(path, &db);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			 " CREATE TABLE bench_raw (mac TEXT PRIMARY KEY, uuid TEXT, created INTEGER)", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL);
	sqlite3_prepare_v2(db, "SELECT 1 FROM bench_raw WHERE mac = ?1", -1, &sel, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO bench_raw VALUES (?1, ?2, ?3)", -1, &ins, NULL);
	sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL);
	for (int i = 0; i < ops; i++) {
		char mac[32];
		struct vifmac_record r2;

		/* interleaved: one raw transaction, one new allocation, one sticky re-allocation */
		snprintf(mac, sizeof(mac), "0e:00:00:%02x:%02x:%02x", i >> 16 & 255, i >> 8 & 255, i & 255);
		t0 = now_us();
		sqlite3_step(begin);
		sqlite3_reset(begin);
		sqlite3_bind_text(sel, 1, mac, -1, SQLITE_STATIC);
		sqlite3_step(sel);
		sqlite3_reset(sel);
		sqlite3_bind_text(ins, 1, mac, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, "raw", -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, i);
		sqlite3_step(ins);
		sqlite3_reset(ins);
		sqlite3_step(commit);
		sqlite3_reset(commit);
		t_raw[i] = now_us() - t0;

		t0 = now_us();
		if (alloc(reg, used + (unsigned)i, &rec) < 0)
			return 1;
		t_new[i] = now_us() - t0;
		t0 = now_us();
		if (alloc(reg, used + (unsigned)i, &r2) < 0 || !vifmac_mac_equal(&rec.mac, &r2.mac)) {
			fprintf(stderr, "sticky allocation gave another MAC\n");
			return 1;
		}
		t_sticky[i] = now_us() - t0;
	}
	/* free 'ops' addresses spread over the used part, then allocate them again (lowest first) */
	for (int i = 0; i < ops; i++) {
		char uuid[VIFMAC_UUID_STRLEN];

		uuid_of((unsigned)i * (used / (unsigned)ops), uuid);
		vifmac_registry_release(reg, NULL, uuid, 0);
	}
	for (int i = 0; i < ops; i++) {
		t0 = now_us();
		if (alloc(reg, 10000000u + (unsigned)i, &rec) < 0)
			return 1;
		t_reuse[i] = now_us() - t0;
	}
	bench_sort(t_raw, (size_t)ops);
	base = t_raw[ops / 2];
	printf("| operation (%u of 1M used, %d each)       | median µs | p99 µs | max µs | vs raw |\n", used, ops);
	printf("|------------------------------------------|----------|----------|----------|--------|\n");
	row("raw txn: BEGIN IMMEDIATE; SELECT; INSERT", t_raw, ops, base);
	row("allocate, new vif (high-water mark)", t_new, ops, base);
	row("allocate, same vif again (sticky)", t_sticky, ops, base);
	row("allocate, reuse of released addresses", t_reuse, ops, base);
	sqlite3_finalize(begin);
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	vifmac_registry_close(reg);
	vifmac_ctx_unref(ctx);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
