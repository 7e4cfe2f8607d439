/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/etcd: claim latency through vifmac against a raw etcd transaction,
 * on the same cluster in the same run (bench/etcd.sh starts one).
 *
 *   bench/etcd ENDPOINTS [-n CLAIMS] [-p PREFIX]
 *
 * raw        one /v3/kv/txn per claim with libcurl on a kept-alive
 *            connection: "key absent → put it, else get it" — the least
 *            a compare-and-set claim costs over the JSON gateway
 * raw-curl   the same txn with the curl command (a process per claim)
 * vifmac     vifmac_registry_claim() of a new MAC (open registry)
 * reclaim    vifmac_registry_claim() of a MAC the vif already holds
 *            (a migration or a restart: two round trips)
 * open+claim vifmac_registry_open() + claim + close, as the hotplug helper does
 * 8 hosts    8 processes with their own host names claiming at once
 * pool       vifmac_registry_pool_allocate() for a new vif from a range pool
 *            (the pools at one revision, the high-water mark's m/ keys, one
 *            txn compared on the pool's state key)
 * pool-again the same vifs allocate again (sticky: their current claim)
 * 8 hosts pool  8 processes allocating from the one range at once (lost
 *            races are tried again on a fresh view)
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vifmac.h"

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, int64_t *us, size_t n, int64_t wall_us)
{
	double sum = 0;

	qsort(us, n, sizeof(*us), cmp64);
	for (size_t i = 0; i < n; i++)
		sum += (double)us[i];
	printf("%-12s n=%-5zu median %7.3f ms  mean %7.3f ms  p99 %7.3f ms", what, n, us[n / 2] / 1000.0,
	       sum / (double)n / 1000.0, us[n * 99 / 100] / 1000.0);
	if (wall_us > 0)
		printf("  %8.0f claims/s", (double)n * 1e6 / (double)wall_us);
	printf("\n");
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(const char *s, char *out)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)(unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		*out++ = b64[(v >> 18) & 63];
		*out++ = b64[(v >> 12) & 63];
		*out++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*out++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*out = '\0';
}

static size_t sink(char *p, size_t size, size_t n, void *data)
{
	return size * n;
}

/* The raw claim's body: a record-sized value, put when the key is absent. */
static void raw_body(char *buf, size_t size, const char *prefix, unsigned i)
{
	char key[256], value[512], k64[400], v64[800];

	snprintf(key, sizeof(key), "%sraw/02:5e:%02x:%02x:%02x:%02x/*", prefix, (i >> 24) & 255, (i >> 16) & 255,
		 (i >> 8) & 255, i & 255);
	snprintf(value, sizeof(value),
		 "{\"mac\":\"02:5e:00:00:00:00\",\"scope\":\"*\",\"state\":\"active\",\"domain\":\"dom%u\","
		 "\"uuid\":\"%08x-0000-4000-8000-000000000000\",\"devid\":0,\"bridge\":\"xenbr0\",\"ip\":\"10.0.0.1\","
		 "\"host\":\"bench\",\"created\":1,\"updated\":1,\"note\":\"\",\"source\":\"bench\"}",
		 i, i);
	b64_encode(key, k64);
	b64_encode(value, v64);
	snprintf(buf, size,
		 "{\"compare\":[{\"key\":\"%s\",\"target\":\"VERSION\",\"result\":\"EQUAL\",\"version\":\"0\"}],"
		 "\"success\":[{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\"}}],"
		 "\"failure\":[{\"request_range\":{\"key\":\"%s\"}}]}",
		 k64, k64, v64, k64);
}

static void bench_raw(const char *endpoint, const char *prefix, unsigned base, size_t n)
{
	CURL *c = curl_easy_init();
	int64_t *us = calloc(n, sizeof(*us)), t0 = now_us();
	char url[600], body[4096];

	snprintf(url, sizeof(url), "%s/v3/kv/txn", endpoint);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	for (size_t i = 0; i < n; i++) {
		int64_t t = now_us();
		long status = 0;

		raw_body(body, sizeof(body), prefix, base + (unsigned)i);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		if (curl_easy_perform(c) != CURLE_OK) {
			fprintf(stderr, "bench/etcd: raw txn failed\n");
			exit(1);
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			fprintf(stderr, "bench/etcd: raw txn: HTTP %ld\n", status);
			exit(1);
		}
		us[i] = now_us() - t;
	}
	report("raw", us, n, now_us() - t0);
	curl_easy_cleanup(c);
	free(us);
}

static void bench_raw_curl(const char *endpoint, const char *prefix, unsigned base, size_t n)
{
	int64_t *us = calloc(n, sizeof(*us));
	char body[4096], cmd[5000];

	for (size_t i = 0; i < n; i++) {
		int64_t t;

		raw_body(body, sizeof(body), prefix, base + (unsigned)i);
		snprintf(cmd, sizeof(cmd), "curl -sf -o /dev/null %s/v3/kv/txn -d '%s'", endpoint, body);
		t = now_us();
		if (system(cmd) != 0) {
			fprintf(stderr, "bench/etcd: curl failed\n");
			exit(1);
		}
		us[i] = now_us() - t;
	}
	report("raw-curl", us, n, 0);
	free(us);
}

struct host {
	char name[64];
};

static int host_name(void *data, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ((struct host *)data)->name);
	return 0;
}

static int64_t host_now(void *data)
{
	return (int64_t)time(NULL);
}

static const struct vifmac_sys_ops ops = { .hostname = host_name, .now = host_now };

static struct vifmac_ctx *ctx_for(const char *conf, struct host *h)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();

	if (!ctx || vifmac_ctx_load_policy(ctx, conf) < 0) {
		fprintf(stderr, "bench/etcd: policy %s: %s\n", conf, ctx ? vifmac_ctx_last_error(ctx) : "");
		exit(1);
	}
	vifmac_ctx_set_sys(ctx, &ops, h);
	return ctx;
}

static struct vifmac_record rec_for(unsigned i, unsigned owner)
{
	struct vifmac_record rec;

	vifmac_record_init(&rec);
	rec.mac.b[0] = 0x02;
	rec.mac.b[1] = 0x5f;
	rec.mac.b[2] = (uint8_t)(i >> 24);
	rec.mac.b[3] = (uint8_t)(i >> 16);
	rec.mac.b[4] = (uint8_t)(i >> 8);
	rec.mac.b[5] = (uint8_t)i;
	snprintf(rec.domain, sizeof(rec.domain), "dom%u", owner);
	snprintf(rec.uuid, sizeof(rec.uuid), "%08x-0000-4000-8000-%012x", owner, i);
	rec.devid = 0;
	snprintf(rec.bridge, sizeof(rec.bridge), "xenbr0");
	snprintf(rec.ip, sizeof(rec.ip), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	snprintf(rec.source, sizeof(rec.source), "bench");
	return rec;
}

/* Allocates for n new vifs (owners @base...) from pool "bench"; returns the latencies. */
static int64_t *allocs(struct vifmac_registry *reg, struct vifmac_ctx *ctx, unsigned base, size_t n)
{
	static const char *const pools[] = { "bench" };
	int64_t *us = calloc(n, sizeof(*us));

	for (size_t i = 0; i < n; i++) {
		struct vifmac_record owner = rec_for(base + (unsigned)i, base + (unsigned)i), rec;
		int64_t t = now_us();
		int r = vifmac_registry_pool_allocate(reg, pools, 1, &owner, NULL, &rec, NULL);

		if (r < 0) {
			fprintf(stderr, "bench/etcd: pool allocate: %s\n", vifmac_ctx_last_error(ctx));
			exit(1);
		}
		us[i] = now_us() - t;
	}
	return us;
}

/* Imports pool "bench", a range of 2^24 addresses (every run's vifs fit). */
static void import_pool(struct vifmac_registry *reg, struct vifmac_ctx *ctx)
{
	char path[] = "/tmp/vifmac-bench-pool-XXXXXX";
	const char *text = "02:60:00:00:00:00-02:60:00:ff:ff:ff\n";
	struct vifmac_pool_source *src = NULL;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		fprintf(stderr, "bench/etcd: cannot write %s\n", path);
		exit(1);
	}
	close(fd);
	if (vifmac_pool_source_read(ctx, path, &src) < 0 || vifmac_registry_pool_import(reg, "bench", src) < 0) {
		fprintf(stderr, "bench/etcd: pool import: %s\n", vifmac_ctx_last_error(ctx));
		exit(1);
	}
	vifmac_pool_source_free(src);
	unlink(path);
}

/* Claims n MACs from @base (reclaim: again, as the same owners); returns the latencies. */
static int64_t *claims(struct vifmac_registry *reg, struct vifmac_ctx *ctx, unsigned base, size_t n)
{
	int64_t *us = calloc(n, sizeof(*us));

	for (size_t i = 0; i < n; i++) {
		struct vifmac_record rec = rec_for(base + (unsigned)i, base + (unsigned)i);
		int64_t t = now_us();
		int r = vifmac_registry_claim(reg, &rec, NULL);

		if (r < 0) {
			fprintf(stderr, "bench/etcd: claim: %s\n", vifmac_ctx_last_error(ctx));
			exit(1);
		}
		us[i] = now_us() - t;
	}
	return us;
}

typedef int64_t *(*ops_fn)(struct vifmac_registry *reg, struct vifmac_ctx *ctx, unsigned base, size_t n);

/* One row: @fn's n operations from @base, their latencies and rate. */
static void timed(const char *what, ops_fn fn, struct vifmac_registry *reg, struct vifmac_ctx *ctx, unsigned base,
		  size_t n)
{
	int64_t t0 = now_us(), *us = fn(reg, ctx, base, n);

	report(what, us, n, now_us() - t0);
	free(us);
}

/* 8 processes with their own host names at once, @per each: claims of their own MACs, or pool allocations. */
static void eight_hosts(const char *conf, unsigned base, size_t per, bool pool)
{
	int fds[8][2];
	pid_t pids[8];
	int64_t *all = calloc(per * 8, sizeof(*all)), t0 = now_us();

	for (int k = 0; k < 8; k++) {
		if (pipe(fds[k]) < 0)
			exit(1);
		pids[k] = fork();
		if (pids[k] == 0) {
			struct host hk;
			struct vifmac_ctx *ctx;
			struct vifmac_registry *reg;
			int64_t *v;

			snprintf(hk.name, sizeof(hk.name), "bench-host-%d", k);
			ctx = ctx_for(conf, &hk);
			if (vifmac_registry_open(ctx, NULL, &reg) < 0)
				_exit(1);
			v = pool ? allocs(reg, ctx, base + (unsigned)k * 0x200, per) :
				   claims(reg, ctx, base + (unsigned)k * 0x200, per);
			if (write(fds[k][1], v, per * sizeof(*v)) != (ssize_t)(per * sizeof(*v)))
				_exit(1);
			_exit(0);
		}
		close(fds[k][1]);
	}
	for (int k = 0; k < 8; k++) {
		int status;

		if (read(fds[k][0], all + (size_t)k * per, per * sizeof(*all)) != (ssize_t)(per * sizeof(*all))) {
			fprintf(stderr, "bench/etcd: host %d failed\n", k);
			exit(1);
		}
		waitpid(pids[k], &status, 0);
	}
	report(pool ? "8 hosts pool" : "8 hosts", all, per * 8, now_us() - t0);
	free(all);
}

int main(int argc, char **argv)
{
	const char *endpoints, *prefix = "/vifmac-bench/";
	size_t n = 500;
	char conf[256], first[512];
	unsigned run_id = (unsigned)time(NULL) & 0xffff;
	struct host h = { "bench-host" };
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	FILE *f;
	int c;

	while ((c = getopt(argc, argv, "n:p:")) >= 0) {
		if (c == 'n')
			n = (size_t)atoi(optarg);
		else if (c == 'p')
			prefix = optarg;
		else
			return 2;
	}
	if (optind + 1 != argc || n < 16) {
		fprintf(stderr, "usage: bench/etcd ENDPOINTS [-n CLAIMS >= 16] [-p PREFIX]\n");
		return 2;
	}
	endpoints = argv[optind];
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(endpoints, ","), endpoints);
	snprintf(conf, sizeof(conf), "/tmp/vifmac-bench-etcd-%d.conf", (int)getpid());
	f = fopen(conf, "w");
	if (!f)
		return 1;
	fprintf(f, "registry = \"etcd:%s\"\netcd_prefix = \"%s\"\n", endpoints, prefix);
	fclose(f);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	printf("etcd cluster %s, %zu claims each; the first endpoint answers\n", endpoints, n);

	/* interleaved, so that both see the same cluster state */
	for (int round = 0; round < 2; round++) {
		unsigned base = (run_id << 16) + (unsigned)round * 0x8000;

		if (round == 1)
			printf("-- again --\n");
		bench_raw(first, prefix, base, n);
		ctx = ctx_for(conf, &h);
		if (vifmac_registry_open(ctx, NULL, &reg) < 0) {
			fprintf(stderr, "bench/etcd: open: %s\n", vifmac_ctx_last_error(ctx));
			return 1;
		}
		timed("vifmac", claims, reg, ctx, base, n);
		timed("reclaim", claims, reg, ctx, base, n);
		if (round == 0)
			import_pool(reg, ctx);
		timed("pool", allocs, reg, ctx, base, n);
		timed("pool-again", allocs, reg, ctx, base, n);
		vifmac_registry_close(reg);
		vifmac_ctx_unref(ctx);
	}
	bench_raw_curl(first, prefix, (run_id << 16) + 0xf000, n / 10);

	/* open + claim + close, as one hotplug run does */
	{
		int64_t *v = calloc(n / 5, sizeof(*v));

		for (size_t i = 0; i < n / 5; i++) {
			struct vifmac_record rec = rec_for((run_id << 16) + 0xe000 + (unsigned)i, 7);
			int64_t t = now_us();

			ctx = ctx_for(conf, &h);
			if (vifmac_registry_open(ctx, NULL, &reg) < 0 || vifmac_registry_claim(reg, &rec, NULL) < 0) {
				fprintf(stderr, "bench/etcd: %s\n", vifmac_ctx_last_error(ctx));
				return 1;
			}
			vifmac_registry_close(reg);
			vifmac_ctx_unref(ctx);
			v[i] = now_us() - t;
		}
		report("open+claim", v, n / 5, 0);
		free(v);
	}

	eight_hosts(conf, (run_id << 16) + 0xc000, n / 8, false);
	eight_hosts(conf, (run_id << 16) + 0xd000, n / 8, true);
	unlink(conf);
	curl_global_cleanup();
	return 0;
}
