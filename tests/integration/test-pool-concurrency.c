/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * 32 processes allocate from one small range at once (40 addresses), each
 * for its own vif, then again (a restart): no address twice, none lost, and
 * every vif keeps its address.
 */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry-test.h"

#define PROCS 32
#define RANGE "06:00:00:00:20:00-06:00:00:00:20:27"

static struct vifmac_ctx *ctx_for(const char *conf)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();

	CHECK(ctx, "no context");
	vifmac_ctx_set_log_fn(ctx, rt_silent_log, NULL);
	CHECK(vifmac_ctx_load_policy(ctx, conf) == 0, "policy: %s", vifmac_ctx_last_error(ctx));
	return ctx;
}

/* One child: allocate for owner @i, write the MAC to @fd. */
static void child(const char *conf, const char *url, unsigned i, int fd)
{
	static const char *const pools[] = { "small" };
	struct vifmac_ctx *ctx = ctx_for(conf);
	struct vifmac_registry *reg;
	struct vifmac_record owner, rec;
	char line[64], mac[VIFMAC_MAC_STRLEN];
	int r;

	r = vifmac_registry_open(ctx, url, &reg);
	if (r == 0) {
		vifmac_record_init(&owner);
		rt_uuid(i, owner.uuid);
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

static int keep(void *data, const struct vifmac_pool_info *p)
{
	*(struct vifmac_pool_info *)data = *p;
	return 0;
}

/* Runs PROCS children at once; fills macs[i] for owner i. */
static void round_of(const char *conf, const char *url, char macs[PROCS][VIFMAC_MAC_STRLEN])
{
	int p[2];
	FILE *f;
	char line[128];
	int n = 0;

	CHECK(pipe(p) == 0, "pipe");
	for (unsigned i = 0; i < PROCS; i++) {
		pid_t pid = fork();

		CHECK(pid >= 0, "fork");
		if (pid == 0) {
			close(p[0]);
			child(conf, url, i, p[1]);
		}
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (fgets(line, sizeof(line), f)) {
		unsigned i;
		char mac[32];

		CHECK(sscanf(line, "%u %31s", &i, mac) == 2 && i < PROCS, "bad child line: %s", line);
		CHECK(strcmp(mac, "error") != 0, "owner %u: %s", i, line);
		snprintf(macs[i], VIFMAC_MAC_STRLEN, "%.17s", mac);
		n++;
	}
	fclose(f);
	for (int i = 0; i < PROCS; i++) {
		int st;

		CHECK(wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "a child failed");
	}
	CHECK(n == PROCS, "%d answers for %d children", n, PROCS);
}

int main(void)
{
	char *dir = rt_tempdir("vifmac-pool-conc");
	char conf[512], url[512], pool[512], first[PROCS][VIFMAC_MAC_STRLEN], again[PROCS][VIFMAC_MAC_STRLEN];
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	struct vifmac_pool_source *src;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/vifmac.conf", dir);
	snprintf(url, sizeof(url), "sqlite:%s/registry.db", dir);
	snprintf(pool, sizeof(pool), "%s/small.pool", dir);
	f = fopen(conf, "w");
	fprintf(f, "public_bridges = [ \"xenpub\" ]\nbridge_pools = [ \"xenpub=small\" ]\nregistry_timeout_ms = 20000\n");
	fclose(f);
	f = fopen(pool, "w");
	fprintf(f, "%s\n", RANGE);
	fclose(f);
	ctx = ctx_for(conf);
	CHECK(vifmac_registry_open(ctx, url, &reg) == 0, "open: %s", vifmac_ctx_last_error(ctx));
	CHECK(vifmac_pool_source_read(ctx, pool, &src) == 0, "pool: %s", vifmac_ctx_last_error(ctx));
	CHECK(vifmac_registry_pool_import(reg, "small", src) == 0, "import: %s", vifmac_ctx_last_error(ctx));
	vifmac_pool_source_free(src);
	vifmac_registry_close(reg);

	round_of(conf, url, first);
	/* no duplicates, and the 32 lowest addresses: none lost */
	for (int i = 0; i < PROCS; i++) {
		unsigned last;

		CHECK(strncmp(first[i], "06:00:00:00:20:", 15) == 0 && sscanf(first[i] + 15, "%x", &last) == 1,
		      "owner %d got %s, outside the range", i, first[i]);
		CHECK(last < PROCS, "owner %d got %s: an address above the %d lowest was handed out", i, first[i], PROCS);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(first[i], first[j]) != 0, "owners %d and %d both got %s", i, j, first[i]);
	}
	/* all again at once (a restart of every domain): each keeps its own */
	round_of(conf, url, again);
	for (int i = 0; i < PROCS; i++)
		CHECK(strcmp(first[i], again[i]) == 0, "owner %d had %s, now %s", i, first[i], again[i]);
	CHECK(vifmac_registry_open(ctx, url, &reg) == 0, "reopen");
	{
		struct vifmac_pool_info info;

		CHECK(vifmac_registry_pool_list(reg, "small", keep, &info) == 0, "pool list");
		CHECK(info.used == PROCS && info.size == 40, "pool says %llu used of %llu", (unsigned long long)info.used,
		      (unsigned long long)info.size);
	}
	vifmac_registry_close(reg);
	vifmac_ctx_unref(ctx);
	rt_rmdir(dir);
	free(dir);
	printf("test-pool-concurrency: %d processes x 2 rounds: no duplicates, none lost, all sticky\n", PROCS);
	return 0;
}

