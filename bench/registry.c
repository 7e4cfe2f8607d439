/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/registry: the SQLite registry against its baseline, in one run.
 *
 * For each registry size: claim latency through vifmac_registry_claim()
 * against a raw "BEGIN IMMEDIATE; SELECT; INSERT; COMMIT" on the same
 * file (same table, same pragmas, interleaved one for one), and lookup
 * latency by MAC, IP and domain. Then N processes claiming at once: the
 * latency of each claim (its wait included), against the same raw
 * transaction that waits with SQLite's busy handler only.
 *
 * Prints a Markdown table. Not a test: build with "make bench".
 */
#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vifmac.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench/registry: %s: %s\n", what, detail);
	exit(1);
}

static void make_rec(unsigned i, struct vifmac_record *rec)
{
	vifmac_record_init(rec);
	rec->mac = (struct vifmac_mac){ { 0x02, 0x00, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
					  (uint8_t)i } };
	snprintf(rec->domain, sizeof(rec->domain), "dom-%u", i);
	snprintf(rec->uuid, sizeof(rec->uuid), "%08x-0000-4000-8000-%012x", i, i);
	rec->devid = 0;
	snprintf(rec->bridge, sizeof(rec->bridge), "xenbr0");
	snprintf(rec->ip, sizeof(rec->ip), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	snprintf(rec->host, sizeof(rec->host), "bench");
	rec->created = rec->updated = 1700000000;
	snprintf(rec->source, sizeof(rec->source), "ip-derived");
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double median_us, p99_us, max_us;
};

static struct stats stats_of(int64_t *ns, size_t n)
{
	struct stats s;

	qsort(ns, n, sizeof(*ns), cmp_i64);
	s.median_us = (double)ns[n / 2] / 1000.0;
	s.p99_us = (double)ns[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1000.0;
	s.max_us = (double)ns[n - 1] / 1000.0;
	return s;
}

/* ---------------------------------------------------------------- the raw baseline */

struct raw {
	sqlite3 *db;
	sqlite3_stmt *begin, *select, *insert, *commit;
};

static void raw_open(struct raw *raw, const char *path, int busy_ms)
{
	if (sqlite3_open_v2(path, &raw->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die("raw open", sqlite3_errmsg(raw->db));
	sqlite3_busy_timeout(raw->db, busy_ms);
	if (sqlite3_exec(raw->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(raw->db, "BEGIN IMMEDIATE", -1, &raw->begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(raw->db, "SELECT * FROM records WHERE mac = ?1", -1, &raw->select, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(raw->db,
			       "INSERT INTO records (mac, scope_key, state, domain, uuid, devid, bridge, ip, host,"
			       " created, updated, note, source) VALUES (?1, '*', 'active', ?2, ?3, 0, 'xenbr0', ?4,"
			       " 'bench', 1700000000, 1700000000, '', 'raw')",
			       -1, &raw->insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(raw->db, "COMMIT", -1, &raw->commit, NULL) != SQLITE_OK)
		die("raw prepare", sqlite3_errmsg(raw->db));
}

static void raw_close(struct raw *raw)
{
	sqlite3_finalize(raw->begin);
	sqlite3_finalize(raw->select);
	sqlite3_finalize(raw->insert);
	sqlite3_finalize(raw->commit);
	sqlite3_close(raw->db);
}

static int raw_step(struct raw *raw, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	return rc;
}

/* BEGIN IMMEDIATE; SELECT; INSERT; COMMIT for record @i. */
static int raw_claim(struct raw *raw, unsigned i)
{
	struct vifmac_record rec;
	char mac[VIFMAC_MAC_STRLEN];
	int rc;

	make_rec(i, &rec);
	vifmac_mac_format(&rec.mac, mac);
	rc = raw_step(raw, raw->begin);
	if (rc != SQLITE_DONE)
		return rc;
	sqlite3_bind_text(raw->select, 1, mac, -1, SQLITE_STATIC);
	raw_step(raw, raw->select);
	sqlite3_bind_text(raw->insert, 1, mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(raw->insert, 2, rec.domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(raw->insert, 3, rec.uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(raw->insert, 4, rec.ip, -1, SQLITE_STATIC);
	rc = raw_step(raw, raw->insert);
	if (rc != SQLITE_DONE) {
		sqlite3_exec(raw->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return raw_step(raw, raw->commit);
}

/* ---------------------------------------------------------------- sizes */

static int nop(void *data, const struct vifmac_record *rec)
{
	(*(int *)data)++;
	return 0;
}

static void fill(struct vifmac_registry *reg, struct vifmac_ctx *ctx, unsigned n)
{
	enum { BATCH = 10000 };
	struct vifmac_record *recs = calloc(BATCH, sizeof(*recs));

	if (!recs)
		die("fill", "out of memory");
	for (unsigned i = 0; i < n; i += BATCH) {
		unsigned k = n - i < BATCH ? n - i : BATCH;

		for (unsigned j = 0; j < k; j++)
			make_rec(i + j, &recs[j]);
		if (vifmac_registry_import(reg, recs, k, NULL, NULL) < 0)
			die("fill", vifmac_ctx_last_error(ctx));
	}
	free(recs);
}

static void bench_size(const char *dir, unsigned size, unsigned ops)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct vifmac_registry *reg;
	struct raw raw;
	char path[512], url[600], ip[64];
	int64_t *ours = calloc(ops, sizeof(int64_t)), *base = calloc(ops, sizeof(int64_t));
	int64_t *lk_mac = calloc(ops, sizeof(int64_t)), *lk_ip = calloc(ops, sizeof(int64_t));
	int64_t *lk_dom = calloc(ops, sizeof(int64_t));
	struct stats so, sb, sm, si, sd;
	int64_t t0;
	int found = 0;

	if (!ctx || !ours || !base || !lk_mac || !lk_ip || !lk_dom)
		die("bench", "out of memory");
	snprintf(path, sizeof(path), "%s/registry-%u.db", dir, size);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	unlink(path);
	if (vifmac_registry_open(ctx, url, &reg) < 0)
		die("open", vifmac_ctx_last_error(ctx));
	t0 = now_ns();
	fill(reg, ctx, size);
	fprintf(stderr, "filled %u records in %.1f s\n", size, (double)(now_ns() - t0) / 1e9);
	raw_open(&raw, path, 5000);
	srand(size);
	for (unsigned k = 0; k < ops; k++) {
		struct vifmac_record rec, rec2;
		unsigned i = size + 2 * k;

		/* interleaved, so that both see the same file and the same cache */
		make_rec(i, &rec);
		t0 = now_ns();
		if (vifmac_registry_claim(reg, &rec, NULL) < 0)
			die("claim", vifmac_ctx_last_error(ctx));
		ours[k] = now_ns() - t0;
		t0 = now_ns();
		if (raw_claim(&raw, i + 1) != SQLITE_DONE)
			die("raw claim", sqlite3_errmsg(raw.db));
		base[k] = now_ns() - t0;

		make_rec((unsigned)rand() % size, &rec2);
		t0 = now_ns();
		vifmac_registry_lookup_mac(reg, &rec2.mac, nop, &found);
		lk_mac[k] = now_ns() - t0;
		snprintf(ip, sizeof(ip), "%s", rec2.ip);
		t0 = now_ns();
		vifmac_registry_lookup_ip(reg, ip, nop, &found);
		lk_ip[k] = now_ns() - t0;
		t0 = now_ns();
		vifmac_registry_lookup_domain(reg, rec2.domain, nop, &found);
		lk_dom[k] = now_ns() - t0;
	}
	if (found != 3 * (int)ops)
		die("lookup", "a lookup did not find its record");
	so = stats_of(ours, ops);
	sb = stats_of(base, ops);
	sm = stats_of(lk_mac, ops);
	si = stats_of(lk_ip, ops);
	sd = stats_of(lk_dom, ops);
	printf("| %9u | %7.1f / %7.1f | %7.1f / %7.1f | %5.2fx | %5.1f / %5.1f | %5.1f / %5.1f | %5.1f / %5.1f |\n", size,
	       so.median_us, so.p99_us, sb.median_us, sb.p99_us, so.median_us / sb.median_us, sm.median_us, sm.p99_us,
	       si.median_us, si.p99_us, sd.median_us, sd.p99_us);
	fflush(stdout);
	raw_close(&raw);
	vifmac_registry_close(reg);
	vifmac_ctx_unref(ctx);
	free(ours);
	free(base);
	free(lk_mac);
	free(lk_ip);
	free(lk_dom);
}

/* ---------------------------------------------------------------- contention */

/* One of @procs processes: @per claims, each latency (ns) written to @out. */
static void contender(const char *path, bool raw_mode, unsigned proc, unsigned per, int start, int out)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct vifmac_registry *reg = NULL;
	struct raw raw;
	char url[600], c;
	int64_t *lat = calloc(per, sizeof(*lat));
	int errors = 0;

	snprintf(url, sizeof(url), "sqlite:%s", path);
	if (!ctx || !lat)
		_exit(3);
	if (raw_mode)
		raw_open(&raw, path, 5000);
	else if (vifmac_registry_open(ctx, url, &reg) < 0)
		_exit(3);
	if (read(start, &c, 1) != 0)
		_exit(3);
	for (unsigned k = 0; k < per; k++) {
		unsigned i = 10000000 + (raw_mode ? 5000000 : 0) + proc * per + k;
		struct vifmac_record rec;
		int64_t t0 = now_ns();

		if (raw_mode) {
			errors += raw_claim(&raw, i) != SQLITE_DONE;
		} else {
			make_rec(i, &rec);
			errors += vifmac_registry_claim(reg, &rec, NULL) < 0;
		}
		lat[k] = now_ns() - t0;
	}
	if (write(out, lat, per * sizeof(*lat)) != (ssize_t)(per * sizeof(*lat)))
		_exit(3);
	if (raw_mode)
		raw_close(&raw);
	vifmac_registry_close(reg);
	vifmac_ctx_unref(ctx);
	_exit(errors ? 4 : 0);
}

static void bench_contention(const char *dir, unsigned procs, unsigned per, bool raw_mode)
{
	char path[512];
	int start[2];
	int (*res)[2] = calloc(procs, sizeof(*res));
	pid_t *pids = calloc(procs, sizeof(*pids));
	int64_t *all = calloc((size_t)procs * per, sizeof(*all));
	int64_t t0;
	unsigned failed = 0;
	struct stats s;

	if (!res || !pids || !all)
		die("contention", "out of memory");
	/* a fresh registry of 1000 records for each run */
	snprintf(path, sizeof(path), "%s/contention-%s.db", dir, raw_mode ? "raw" : "queue");
	{
		struct vifmac_ctx *ctx = vifmac_ctx_new();
		struct vifmac_registry *reg;
		char url[600];

		snprintf(url, sizeof(url), "sqlite:%s", path);
		unlink(path);
		if (!ctx || vifmac_registry_open(ctx, url, &reg) < 0)
			die("open", ctx ? vifmac_ctx_last_error(ctx) : "out of memory");
		fill(reg, ctx, 1000);
		vifmac_registry_close(reg);
		vifmac_ctx_unref(ctx);
	}
	if (pipe(start) < 0)
		die("pipe", strerror(errno));
	for (unsigned p = 0; p < procs; p++) {
		if (pipe(res[p]) < 0)
			die("pipe", strerror(errno));
		pids[p] = fork();
		if (pids[p] == 0) {
			close(start[1]);
			close(res[p][0]);
			contender(path, raw_mode, p, per, start[0], res[p][1]);
		}
		close(res[p][1]);
	}
	close(start[0]);
	usleep(200000); /* all open */
	t0 = now_ns();
	close(start[1]);
	for (unsigned p = 0; p < procs; p++) {
		size_t want = per * sizeof(int64_t), got = 0;
		int status;

		while (got < want) {
			ssize_t n = read(res[p][0], (char *)(all + (size_t)p * per) + got, want - got);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
		close(res[p][0]);
		waitpid(pids[p], &status, 0);
		if (got < want || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	s = stats_of(all, (size_t)procs * per);
	printf("| %-44s | %3u x %3u | %8.2f | %8.2f | %8.2f | %6.2f s | %u |\n",
	       raw_mode ? "raw transaction, SQLite busy handler only" : "vifmac_registry_claim (writer queue)", procs,
	       per, s.median_us / 1000.0, s.p99_us / 1000.0, s.max_us / 1000.0, (double)(now_ns() - t0) / 1e9,
	       failed);
	fflush(stdout);
	free(res);
	free(pids);
	free(all);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sizes", required_argument, NULL, 's' }, { "ops", required_argument, NULL, 'o' },
		{ "procs", required_argument, NULL, 'p' }, { "per-proc", required_argument, NULL, 'k' },
		{ "dir", required_argument, NULL, 'd' },   { "help", no_argument, NULL, 'h' },
		{},
	};
	char sizes[256] = "1000,100000,1000000";
	char *dir = NULL, *tok, *save;
	unsigned ops = 2000, procs = 64, per = 50;
	bool made_dir = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 's':
			snprintf(sizes, sizeof(sizes), "%s", optarg);
			break;
		case 'o':
			ops = (unsigned)atoi(optarg);
			break;
		case 'p':
			procs = (unsigned)atoi(optarg);
			break;
		case 'k':
			per = (unsigned)atoi(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			printf("Usage: bench/registry [--sizes 1000,100000,1000000] [--ops 2000] [--procs 64]\n"
			       "                      [--per-proc 50] [--dir DIR]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (ops == 0 || procs == 0 || per == 0)
		die("usage", "--ops, --procs and --per-proc must be positive");
	if (!dir) {
		static char tmpl[] = "/var/tmp/vifmac-bench-XXXXXX";

		dir = mkdtemp(tmpl);
		if (!dir)
			die("mkdtemp", strerror(errno));
		made_dir = true;
	}
	printf("SQLite %s, %u claims and lookups per size (interleaved with the baseline)\n\n", sqlite3_libversion(),
	       ops);
	printf("| records   | claim median / p99 (µs) | raw txn median / p99 (µs) | ratio  | lookup MAC (µs) "
	       "| lookup IP (µs) | lookup domain (µs) |\n");
	printf("|-----------|-------------------------|---------------------------|--------|-----------------"
	       "|----------------|--------------------|\n");
	fflush(stdout);
	for (tok = strtok_r(sizes, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		bench_size(dir, (unsigned)atoi(tok), ops);

	printf("\n%u processes claiming at once on a 1000-record registry (latency of each claim, its wait "
	       "included)\n\n",
	       procs);
	printf("| writer                                       | procs x claims | median (ms) | p99 (ms) | max (ms) "
	       "| wall | failed procs |\n");
	printf("|----------------------------------------------|----------------|-------------|----------|----------"
	       "|------|--------------|\n");
	fflush(stdout);
	bench_contention(dir, procs, per, false);
	bench_contention(dir, procs, per, true);
	if (made_dir) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return 0;
}
