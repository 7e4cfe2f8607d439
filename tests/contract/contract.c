/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry contract suite's fixture: which backend, a fresh registry per
 * case on it (a new SQLite file, or a new etcd key prefix), the fake system
 * seam, and the lookups the cases share.
 */
#include "contract.h"

/* ---------------------------------------------------------------- the backend under test */

const char *backend_url(void)
{
	const char *u = getenv("VIFMAC_CONTRACT_URL");

	return u && *u ? u : "sqlite";
}

bool on_etcd(void)
{
	return strncmp(backend_url(), "etcd:", 5) == 0;
}

unsigned racers(unsigned on_sqlite)
{
	const char *n = getenv("VIFMAC_CONTRACT_RACERS");

	if (n && *n)
		return (unsigned)atoi(n);
	return on_etcd() ? 8 : on_sqlite;
}

/* ---------------------------------------------------------------- fixture */

static int failing_list_domains(void *data, struct vifmac_domain_info **ret, size_t *ret_n)
{
	struct fixture *f = data;

	if (f->list_error)
		return f->list_error;
	return fake_list_domains(data, ret, ret_n);
}

struct vifmac_sys_ops contract_ops(void)
{
	struct vifmac_sys_ops ops = fake_sys_ops;

	ops.list_domains = failing_list_domains;
	return ops;
}

/*
 * Writes @f's policy: registry= the backend's (a fresh file, or a fresh
 * prefix named by @tag on etcd), then @extra.
 */
void write_policy(struct fixture *f, const char *tag, const char *extra)
{
	static unsigned serial;
	FILE *file;

	snprintf(f->conf, sizeof(f->conf), "%s/%s.conf", f->dir, tag);
	file = fopen(f->conf, "w");
	assert_non_null(file);
	if (on_etcd()) {
		snprintf(f->url, sizeof(f->url), "%s", backend_url());
		fprintf(file, "registry = \"%s\"\netcd_prefix = \"/vifmac/contract-%d-%u-%s/\"\n", f->url, (int)getpid(),
			serial++, tag);
	} else {
		/* 64 racing writers queue on one file: room to wait, not a refusal */
		snprintf(f->url, sizeof(f->url), "sqlite:%s/%s.db", f->dir, tag);
		fprintf(file, "registry = \"%s\"\nregistry_timeout_ms = 20000\n", f->url);
	}
	fputs(extra ? extra : "", file);
	assert_int_equal(fclose(file), 0);
}

struct vifmac_ctx *ctx_for(struct fixture *f)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct vifmac_sys_ops ops = contract_ops();

	assert_non_null(ctx);
	vifmac_ctx_set_log_fn(ctx, tu_quiet_log, NULL);
	if (vifmac_ctx_load_policy(ctx, f->conf) < 0)
		fail_msg("policy did not load: %s", vifmac_ctx_last_error(ctx));
	vifmac_ctx_set_sys(ctx, &ops, f);
	return ctx;
}

struct vifmac_registry *open_reg(struct vifmac_ctx *ctx)
{
	struct vifmac_registry *reg = NULL;
	int r = vifmac_registry_open(ctx, NULL, &reg);

	if (r < 0)
		fail_msg("open: %d %s", r, vifmac_ctx_last_error(ctx));
	return reg;
}

struct fixture *fixture_new(const char *extra)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vifmac-contract-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->sys.now = T0;
	snprintf(f->sys.hostname, sizeof(f->sys.hostname), "host-a");
	write_policy(f, "main", extra);
	f->ctx = ctx_for(f);
	f->reg = open_reg(f->ctx);
	return f;
}

int setup(void **state)
{
	*state = fixture_new(NULL);
	return 0;
}

int setup_pools(void **state)
{
	*state = fixture_new(POOL_POLICY);
	return 0;
}

int setup_hotplug(void **state)
{
	struct fixture *f = fixture_new("private_bridges = [ \"xenbr0\" ]\n");

	*state = f;
	/* web1, domid 5, paused in xl create, random MAC from libxl */
	fake_add_domain(&f->sys, 5, "web1", "aaaaaaaa-1111-4000-8000-000000000001", true);
	fake_add_vif(&f->sys, 5, 0, "00:16:3e:12:34:56", "xenbr0", "192.0.2.10", "vif");
	return 0;
}

int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	vifmac_registry_close(f->reg);
	vifmac_ctx_unref(f->ctx);
	fake_sys_free(&f->sys);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---------------------------------------------------------------- helpers */

int claim(struct fixture *f, const char *mac, const char *scope, const char *domain, const char *uuid, int devid,
	  struct vifmac_record *holder)
{
	struct vifmac_record rec = tr_claim_rec(mac, scope, domain, uuid, devid, "192.0.2.10");

	return vifmac_registry_claim(f->reg, &rec, holder);
}

int collect(void *data, const struct vifmac_record *rec)
{
	struct found *found = data;

	assert_true(found->n < FOUND_MAX);
	found->recs[found->n++] = *rec;
	return 0;
}

struct found *by_mac_on(struct vifmac_registry *reg, const char *mac)
{
	static struct found found;
	struct vifmac_mac m = tr_mac(mac);

	found.n = 0;
	assert_int_equal(vifmac_registry_lookup_mac(reg, &m, collect, &found), 0);
	return &found;
}

struct found *by_mac(struct fixture *f, const char *mac)
{
	return by_mac_on(f->reg, mac);
}

size_t by_ip(struct fixture *f, const char *ip)
{
	struct found found = { .n = 0 };

	assert_int_equal(vifmac_registry_lookup_ip(f->reg, ip, collect, &found), 0);
	return found.n;
}

size_t by_domain(struct fixture *f, const char *domain)
{
	struct found found = { .n = 0 };

	assert_int_equal(vifmac_registry_lookup_domain(f->reg, domain, collect, &found), 0);
	return found.n;
}

static int count_cb(void *data, const struct vifmac_record *rec)
{
	(*(size_t *)data)++;
	return 0;
}

size_t count(struct vifmac_registry *reg)
{
	size_t n = 0;

	assert_int_equal(vifmac_registry_list(reg, count_cb, &n), 0);
	return n;
}
