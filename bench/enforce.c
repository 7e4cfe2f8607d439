/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What holding a vif to its MAC costs: install then remove one vif's rules
 * through the production seam (one nfnetlink batch each, libmnl), with 1,
 * 100 and 1000 vifs already filtered, against the same rules loaded by one
 * `nft -f` process per vif (what a shell hook would do), in the same run.
 * Run it in a fresh network namespace: bench/enforce.sh does.
 *
 * Usage: enforce [RUNS [SIZES]]    e.g. enforce 200 1,100,1000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vifmac.h"
#include "bench.h"

static void mac_of(int i, struct vifmac_mac *m)
{
	char s[VIFMAC_MAC_STRLEN];

	snprintf(s, sizeof(s), "02:00:c6:33:%02x:%02x", (i >> 8) & 255, i & 255);
	vifmac_mac_parse(s, m);
}

static void row(const char *what, int filtered, double *v, int n)
{
	bench_sort(v, (size_t)n);
	printf("| %-45s | %5d | %8.3f | %8.3f | %8.3f |\n", what, filtered, v[n / 2], v[n * 9 / 10], v[n - 1]);
}

/* The same elements vifmac adds, by one `nft -f` process (what a shell hook would run). */
static int nft_process(const char *ifname, int i, bool add)
{
	char cmd[2048], m[VIFMAC_MAC_STRLEN];
	struct vifmac_mac mac;

	mac_of(i, &mac);
	vifmac_mac_format(&mac, m);
	snprintf(cmd, sizeof(cmd),
		 "nft -f - <<'E'\n"
		 "%1$s element bridge vifmac owner { \"%2$s\" : %3$s }\n"
		 "%1$s element bridge vifmac ports { \"%2$s\" }\n"
		 "%1$s element bridge vifmac macs { \"%2$s\" . %3$s }\n"
		 "E\n",
		 add ? "add" : "delete", ifname, m);
	return system(cmd);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 100;
	char sizes_s[256];
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	double *add_t, *rm_t, *nadd_t, *nrm_t;
	int filtered = 0;

	snprintf(sizes_s, sizeof(sizes_s), "%s", argc > 2 ? argv[2] : "1,100,1000");
	if (!ctx || runs < 1) {
		fprintf(stderr, "usage: enforce [RUNS [SIZES]]\n");
		return 2;
	}
	add_t = calloc((size_t)runs, sizeof(double));
	rm_t = calloc((size_t)runs, sizeof(double));
	nadd_t = calloc((size_t)runs, sizeof(double));
	nrm_t = calloc((size_t)runs, sizeof(double));
	printf("runs per row: %d (install then remove one vif; ms)\n\n", runs);
	printf("| %-45s | %5s | %8s | %8s | %8s |\n", "operation", "vifs", "median", "p90", "max");
	printf("|-----------------------------------------------|-------|----------|----------|----------|\n");
	for (char *tok = strtok(sizes_s, ","); tok; tok = strtok(NULL, ",")) {
		int size = atoi(tok);

		for (; filtered < size; filtered++) {
			char name[32];
			struct vifmac_mac m;

			snprintf(name, sizeof(name), "vif%d.0", 1000 + filtered);
			mac_of(filtered, &m);
			if (vifmac_enforce_add(ctx, name, &m) < 0) {
				fprintf(stderr, "enforce: prefill %s: %s\n", name, vifmac_ctx_last_error(ctx));
				return 1;
			}
		}
		for (int i = 0; i < runs; i++) {
			struct vifmac_mac m;
			double t0, t1, t2;

			mac_of(60000 + i, &m);
			t0 = bench_now_ms();
			if (vifmac_enforce_add(ctx, "vif9.0", &m) < 0) {
				fprintf(stderr, "enforce: %s\n", vifmac_ctx_last_error(ctx));
				return 1;
			}
			t1 = bench_now_ms();
			if (vifmac_enforce_remove(ctx, "vif9.0", &m) < 0) {
				fprintf(stderr, "enforce: %s\n", vifmac_ctx_last_error(ctx));
				return 1;
			}
			t2 = bench_now_ms();
			add_t[i] = t1 - t0;
			rm_t[i] = t2 - t1;
			t0 = bench_now_ms();
			if (nft_process("vif8.0", i, true) != 0)
				return 1;
			t1 = bench_now_ms();
			if (nft_process("vif8.0", i, false) != 0)
				return 1;
			t2 = bench_now_ms();
			nadd_t[i] = t1 - t0;
			nrm_t[i] = t2 - t1;
		}
		row("vifmac_enforce_add (nfnetlink batch, libmnl)", filtered, add_t, runs);
		row("vifmac_enforce_remove (MAC known, as offline)", filtered, rm_t, runs);
		row("baseline: nft -f process, add (3 elements)", filtered, nadd_t, runs);
		row("baseline: nft -f process, remove", filtered, nrm_t, runs);
	}
	vifmac_ctx_unref(ctx);
	return 0;
}
