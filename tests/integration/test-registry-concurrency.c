/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 64 processes claim overlapping MACs at once, as the hotplug scripts of
 * many simultaneous "xl create"s do. Each process claims every shared MAC
 * (in its own order) and one MAC of its own. Then:
 *  - exactly one winner per shared MAC, and it is the registry's holder;
 *  - every loser was told who won;
 *  - no process saw an error (no "busy", no I/O error);
 *  - no row is lost: every shared MAC and every own MAC is recorded.
 * Then the winners all re-claim at once (a restart): every one succeeds.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry-test.h"

#define N_PROCS 64
#define N_SHARED 32
#define OWN_BASE 1000

struct outcome {
	int result[N_SHARED];                      /* 0 won, 1 lost, <0 error */
	char told[N_SHARED][VIFMAC_UUID_STRLEN];   /* the holder a loser was told */
	int own_result;
	int reclaim_errors;
	char error[256];
};

static struct vifmac_record make_rec(unsigned proc, unsigned mac, int devid)
{
	struct vifmac_record rec;

	vifmac_record_init(&rec);
	rec.mac = rt_mac(mac);
	snprintf(rec.domain, sizeof(rec.domain), "dom%u", proc);
	rt_uuid(proc, rec.uuid);
	rec.devid = devid;
	snprintf(rec.bridge, sizeof(rec.bridge), "xenbr0");
	snprintf(rec.ip, sizeof(rec.ip), "10.0.%u.%u", proc, mac % 256);
	return rec;
}

/* One claimer: waits for the start signal (EOF on @start), claims, writes its outcome to @out. */
static int claimer(const char *url, unsigned proc, int start, int out, int restart)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct vifmac_registry *reg;
	struct outcome o;
	unsigned order[N_SHARED];
	char c;
	int r;

	memset(&o, 0, sizeof(o));
	if (!ctx)
		return 3;
	vifmac_ctx_set_log_fn(ctx, rt_silent_log, NULL);
	r = vifmac_registry_open(ctx, url, &reg);
	if (r < 0) {
		snprintf(o.error, sizeof(o.error), "open: %s", vifmac_ctx_last_error(ctx));
		o.own_result = r;
		goto out;
	}
	for (unsigned i = 0; i < N_SHARED; i++)
		order[i] = i;
	srand(proc * 7 + 1);
	for (unsigned i = N_SHARED - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	if (read(start, &c, 1) != 0)
		return 3;
	for (unsigned i = 0; i < N_SHARED; i++) {
		unsigned m = order[i];
		struct vifmac_record rec = make_rec(proc, m, (int)m), holder;

		r = vifmac_registry_claim(reg, &rec, &holder);
		o.result[m] = r == 0 ? 0 : r == -EEXIST ? 1 : r;
		if (r == -EEXIST)
			memcpy(o.told[m], holder.uuid, sizeof(o.told[m]));
		else if (r < 0 && !o.error[0])
			snprintf(o.error, sizeof(o.error), "claim: %s", vifmac_ctx_last_error(ctx));
	}
	{
		struct vifmac_record rec = make_rec(proc, OWN_BASE + proc, 100);

		o.own_result = vifmac_registry_claim(reg, &rec, NULL);
		if (o.own_result < 0 && !o.error[0])
			snprintf(o.error, sizeof(o.error), "own claim: %s", vifmac_ctx_last_error(ctx));
	}
	/* second round: a restart, everybody re-claims what it won */
	if (read(restart, &c, 1) != 0)
		return 3;
	for (unsigned m = 0; m < N_SHARED; m++) {
		struct vifmac_record rec = make_rec(proc, m, (int)m);

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
out:
	vifmac_ctx_unref(ctx);
	if (write(out, &o, sizeof(o)) != (ssize_t)sizeof(o))
		return 3;
	return 0;
}

static int note(void *data, const struct vifmac_record *rec)
{
	struct vifmac_record *table = data;
	unsigned i = ((unsigned)rec->mac.b[3] << 16) | ((unsigned)rec->mac.b[4] << 8) | rec->mac.b[5];

	if (i < N_SHARED)
		table[i] = *rec;
	else if (i >= OWN_BASE && i < OWN_BASE + N_PROCS)
		table[N_SHARED + i - OWN_BASE] = *rec;
	else
		FAIL("unexpected record %u", i);
	return 0;
}

static int count_cb(void *data, const struct vifmac_record *rec)
{
	(*(size_t *)data)++;
	return 0;
}

int main(void)
{
	static struct outcome outcomes[N_PROCS];
	static struct vifmac_record table[N_SHARED + N_PROCS];
	char *dir = rt_tempdir("vifmac-concurrency");
	char url[512];
	int start[2], restart[2], results[N_PROCS][2];
	pid_t pids[N_PROCS];
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	size_t rows = 0;
	int64_t t0;
	int status;

	snprintf(url, sizeof(url), "sqlite:%s/registry.db", dir);
	CHECK(pipe(start) == 0 && pipe(restart) == 0, "pipe");
	signal(SIGPIPE, SIG_IGN);
	for (unsigned p = 0; p < N_PROCS; p++) {
		CHECK(pipe(results[p]) == 0, "pipe");
		pids[p] = fork();
		CHECK(pids[p] >= 0, "fork");
		if (pids[p] == 0) {
			close(start[1]);
			close(restart[1]);
			close(results[p][0]);
			_exit(claimer(url, p, start[0], results[p][1], restart[0]));
		}
		close(results[p][1]);
	}
	close(start[0]);
	close(restart[0]);
	t0 = rt_mono_ms();
	close(start[1]); /* go */
	/* the first round's outcome arrives after the restart signal: wait for all first claims by time */
	usleep(100 * 1000);
	close(restart[1]);
	for (unsigned p = 0; p < N_PROCS; p++) {
		size_t got = 0;

		while (got < sizeof(outcomes[p])) {
			ssize_t n = read(results[p][0], (char *)&outcomes[p] + got, sizeof(outcomes[p]) - got);

			CHECK(n > 0, "process %u sent no outcome", p);
			got += (size_t)n;
		}
		close(results[p][0]);
		CHECK(waitpid(pids[p], &status, 0) == pids[p], "waitpid");
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %u failed (status %d)", p, status);
	}
	printf("64 processes x %d claims + reclaims: %lld ms\n", N_SHARED + 1, (long long)(rt_mono_ms() - t0));

	ctx = vifmac_ctx_new();
	CHECK(ctx, "ctx");
	CHECK(vifmac_registry_open(ctx, url, &reg) == 0, "open: %s", vifmac_ctx_last_error(ctx));
	CHECK(vifmac_registry_list(reg, note, table) == 0, "list");
	CHECK(vifmac_registry_list(reg, count_cb, &rows) == 0, "list");
	CHECK(rows == N_SHARED + N_PROCS, "%zu rows, expected %d", rows, N_SHARED + N_PROCS);

	for (unsigned p = 0; p < N_PROCS; p++) {
		CHECK(!outcomes[p].error[0], "process %u: %s", p, outcomes[p].error);
		CHECK(outcomes[p].own_result == 0, "process %u: own claim %d", p, outcomes[p].own_result);
		CHECK(outcomes[p].reclaim_errors == 0, "process %u: %d failed reclaims", p,
		      outcomes[p].reclaim_errors);
		{
			char uuid[VIFMAC_UUID_STRLEN];

			rt_uuid(p, uuid);
			CHECK(strcmp(table[N_SHARED + p].uuid, uuid) == 0, "own MAC of process %u lost", p);
		}
	}
	for (unsigned m = 0; m < N_SHARED; m++) {
		unsigned winners = 0, losers = 0;

		CHECK(table[m].uuid[0], "shared MAC %u not recorded", m);
		for (unsigned p = 0; p < N_PROCS; p++) {
			char uuid[VIFMAC_UUID_STRLEN];

			rt_uuid(p, uuid);
			if (outcomes[p].result[m] == 0) {
				winners++;
				CHECK(strcmp(table[m].uuid, uuid) == 0, "MAC %u: process %u won but %s holds it", m, p,
				      table[m].uuid);
			} else {
				CHECK(outcomes[p].result[m] == 1, "MAC %u: process %u got %d", m, p,
				      outcomes[p].result[m]);
				losers++;
				CHECK(strcmp(outcomes[p].told[m], table[m].uuid) == 0,
				      "MAC %u: process %u was told %s, holder is %s", m, p, outcomes[p].told[m],
				      table[m].uuid);
			}
		}
		CHECK(winners == 1, "MAC %u: %u winners", m, winners);
		CHECK(losers == N_PROCS - 1, "MAC %u: %u losers", m, losers);
	}
	vifmac_registry_close(reg);
	vifmac_ctx_unref(ctx);
	rt_rmdir(dir);
	free(dir);
	printf("PASS: one winner per MAC, every loser told the winner, no errors, no lost rows\n");
	return 0;
}
