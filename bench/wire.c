/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The wire check's cost: list every bridge FDB entry through the production
 * seam (rtnetlink) and look for one MAC, against running `bridge fdb show`
 * and parsing its text for the same MAC, in the same run, on the same FDB.
 * Run it inside the namespace bench/wire.sh prepares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vifmac.h"
#include "bench.h"

static void stats(const char *name, double *v, int n, size_t entries, int found)
{
	bench_sort(v, (size_t)n);
	printf("| %-44s | %6zu | %8.2f | %8.2f | %8.2f | %s |\n", name, entries, v[n / 2], v[n * 9 / 10], v[n - 1],
	       found ? "yes" : "no");
}

int main(int argc, char **argv)
{
	const char *mac_s = argc > 1 ? argv[1] : "02:00:c0:00:02:0a";
	int runs = argc > 2 ? atoi(argv[2]) : 50;
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	const struct vifmac_sys_ops *sys;
	void *sd;
	struct vifmac_mac mac;
	double *t0s, *t1, *t2;
	size_t found_n = 0;
	int found0 = 0;
	size_t entries = 0, lines = 0;
	int found1 = 0, found2 = 0;

	if (!ctx || vifmac_mac_parse(mac_s, &mac) < 0 || runs < 1) {
		fprintf(stderr, "usage: wire [MAC [RUNS]]\n");
		return 2;
	}
	t0s = calloc((size_t)runs, sizeof(double));
	t1 = calloc((size_t)runs, sizeof(double));
	t2 = calloc((size_t)runs, sizeof(double));
	sys = vifmac_ctx_get_sys(ctx, &sd);
	for (int i = 0; i < runs; i++) {
		struct vifmac_fdb_entry *fdb = NULL;
		size_t n = 0;
		double t0 = bench_now_ms();

		found0 = 0;
		if (sys->find_fdb(sd, &mac, &fdb, &n) < 0) {
			fprintf(stderr, "wire: cannot look the MAC up\n");
			return 1;
		}
		for (size_t j = 0; j < n; j++)
			found0 |= !fdb[j].local && vifmac_mac_equal(&fdb[j].mac, &mac);
		t0s[i] = bench_now_ms() - t0;
		found_n = n;
		free(fdb);
	}
	for (int i = 0; i < runs; i++) {
		struct vifmac_fdb_entry *fdb = NULL;
		size_t n = 0;
		double t0 = bench_now_ms();

		found1 = 0;
		if (sys->list_fdb(sd, &fdb, &n) < 0) {
			fprintf(stderr, "wire: cannot dump the FDB\n");
			return 1;
		}
		for (size_t j = 0; j < n; j++)
			found1 |= !fdb[j].local && vifmac_mac_equal(&fdb[j].mac, &mac);
		t1[i] = bench_now_ms() - t0;
		entries = n;
		free(fdb);
	}
	for (int i = 0; i < runs; i++) {
		char line[512];
		double t0 = bench_now_ms();
		FILE *p = popen("bridge fdb show", "r");

		found2 = 0;
		lines = 0;
		while (p && fgets(line, sizeof(line), p)) {
			char m[32];

			lines++;
			/* "MAC dev PORT [vlan N] master BR ..." without "permanent" */
			if (sscanf(line, "%31s", m) == 1 && strcasecmp(m, mac_s) == 0 && strstr(line, " master ") &&
			    !strstr(line, "permanent"))
				found2 = 1;
		}
		if (!p || pclose(p) != 0) {
			fprintf(stderr, "wire: bridge fdb show failed\n");
			return 1;
		}
		t2[i] = bench_now_ms() - t0;
	}
	printf("| check                                        | FDB    | median ms | p90 ms   | max ms   | found |\n");
	printf("|----------------------------------------------|--------|----------|----------|----------|-------|\n");
	stats("vifmac check: per-bridge FDB get (find_fdb)", t0s, runs, entries, found0);
	stats("vifmac audit: full rtnetlink dump (list_fdb)", t1, runs, entries, found1);
	stats("baseline: `bridge fdb show` parsed", t2, runs, lines, found2);
	free(t0s);
	free(t1);
	(void)found_n;
	free(t2);
	vifmac_ctx_unref(ctx);
	return found0 == found1 && found1 == found2 ? 0 : 1;
}
