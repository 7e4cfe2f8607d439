/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry, on real SQLite files in a temporary folder. The system seam
 * (clock, host name, running domains) is faked; SQLite is not.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "testutil.h"

/* ---------------------------------------------------------------- fixture */

struct fake_sys {
	int64_t now;
	char host[64];
	struct vifmac_domain_info domains[8];
	size_t n_domains;
	int list_error; /* list_domains fails with this when non-zero */
};

static int64_t fake_now(void *data)
{
	return ((struct fake_sys *)data)->now;
}

static int fake_hostname(void *data, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ((struct fake_sys *)data)->host);
	return 0;
}

static int fake_list_domains(void *data, struct vifmac_domain_info **ret, size_t *ret_n)
{
	struct fake_sys *f = data;

	if (f->list_error)
		return f->list_error;
	*ret = calloc(f->n_domains + 1, sizeof(**ret));
	assert_non_null(*ret);
	memcpy(*ret, f->domains, f->n_domains * sizeof(**ret));
	*ret_n = f->n_domains;
	return 0;
}

static const struct vifmac_sys_ops fake_ops = {
	.list_domains = fake_list_domains,
	.now = fake_now,
	.hostname = fake_hostname,
};

struct fixture {
	char dir[64];
	char path[128];
	char url[160];
	struct fake_sys sys;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
};

static struct fixture *fixture_new(const char *policy)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/vifmac-registry-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/reg/registry.db", f->dir);
	snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
	f->sys.now = 1000;
	strcpy(f->sys.host, "host-a");
	f->ctx = vifmac_ctx_new();
	assert_non_null(f->ctx);
	vifmac_ctx_set_log_fn(f->ctx, tu_quiet_log, NULL);
	if (policy) {
		char conf[128];
		FILE *file;

		snprintf(conf, sizeof(conf), "%s/vifmac.conf", f->dir);
		file = fopen(conf, "w");
		assert_non_null(file);
		fputs(policy, file);
		assert_int_equal(fclose(file), 0);
		if (vifmac_ctx_load_policy(f->ctx, conf) < 0)
			fail_msg("policy did not load: %s", vifmac_ctx_last_error(f->ctx));
	}
	vifmac_ctx_set_sys(f->ctx, &fake_ops, &f->sys);
	return f;
}

static struct vifmac_registry *fixture_open(struct fixture *f)
{
	int r = vifmac_registry_open(f->ctx, f->url, &f->reg);

	if (r < 0)
		fail_msg("open %s: %d %s", f->url, r, vifmac_ctx_last_error(f->ctx));
	return f->reg;
}

static int setup(void **state)
{
	struct fixture *f = fixture_new(NULL);

	fixture_open(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	vifmac_registry_close(f->reg);
	vifmac_ctx_unref(f->ctx);
	snprintf(cmd, sizeof(cmd), "%s/mnt", f->dir);
	umount2(cmd, MNT_DETACH); /* a test that mounted and failed */
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s 2>/dev/null; rm -rf %s", f->dir, f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct vifmac_mac mac_of(const char *s)
{
	struct vifmac_mac m;

	assert_int_equal(vifmac_mac_parse(s, &m), 0);
	return m;
}

static struct vifmac_record claim_rec(const char *mac, const char *scope, const char *domain, const char *uuid,
				      int devid, const char *ip)
{
	struct vifmac_record rec;

	vifmac_record_init(&rec);
	rec.mac = mac_of(mac);
	snprintf(rec.scope_key, sizeof(rec.scope_key), "%s", scope);
	snprintf(rec.domain, sizeof(rec.domain), "%s", domain);
	snprintf(rec.uuid, sizeof(rec.uuid), "%s", uuid);
	rec.devid = devid;
	snprintf(rec.bridge, sizeof(rec.bridge), "%s", strcmp(scope, "*") ? scope : "xenbr0");
	snprintf(rec.ip, sizeof(rec.ip), "%s", ip ? ip : "");
	snprintf(rec.source, sizeof(rec.source), "ip-derived");
	return rec;
}

#define UUID_A "11111111-1111-1111-1111-111111111111"
#define UUID_B "22222222-2222-2222-2222-222222222222"
#define UUID_C "33333333-3333-3333-3333-333333333333"

static int claim(struct fixture *f, const char *mac, const char *scope, const char *domain, const char *uuid,
		 int devid, struct vifmac_record *holder)
{
	struct vifmac_record rec = claim_rec(mac, scope, domain, uuid, devid, "192.0.2.10");

	return vifmac_registry_claim(f->reg, &rec, holder);
}

struct found {
	struct vifmac_record recs[16];
	size_t n;
};

static int collect(void *data, const struct vifmac_record *rec)
{
	struct found *found = data;

	assert_true(found->n < 16);
	found->recs[found->n++] = *rec;
	return 0;
}

static struct found by_mac(struct fixture *f, const char *mac)
{
	struct found found = { 0 };
	struct vifmac_mac m = mac_of(mac);

	assert_int_equal(vifmac_registry_lookup_mac(f->reg, &m, collect, &found), 0);
	return found;
}

static int count_cb(void *data, const struct vifmac_record *rec)
{
	(*(size_t *)data)++;
	return 0;
}

static size_t count(struct vifmac_registry *reg)
{
	size_t n = 0;

	assert_int_equal(vifmac_registry_list(reg, count_cb, &n), 0);
	return n;
}

/* Runs @sql on @path with the sqlite3 library directly; returns the first column of the first row as int. */
static int sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* ---------------------------------------------------------------- opening */

static void test_open_creates_folder_0750_and_file_0640_in_wal_mode(void **state)
{
	struct fixture *f = fixture_new(NULL);
	char folder[128];
	struct stat st;
	mode_t old = umask(022);

	fixture_open(f);
	umask(old);
	snprintf(folder, sizeof(folder), "%s/reg", f->dir);
	assert_int_equal(stat(folder, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	vifmac_registry_close(f->reg);
	f->reg = NULL;
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 3);
	assert_int_equal(sql_int(f->path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	*state = f;
	teardown(state);
}

static void test_unknown_url_scheme_is_refused_with_einval(void **state)
{
	struct fixture *f = *state;
	struct vifmac_registry *reg = NULL;

	assert_int_equal(vifmac_registry_open(f->ctx, "etcd://10.0.0.1:2379", &reg), -EINVAL);
	assert_null(reg);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "etcd://10.0.0.1:2379"));
	assert_int_equal(vifmac_registry_open(f->ctx, "/var/lib/vifmac/registry.db", &reg), -EINVAL);
	assert_int_equal(vifmac_registry_open(f->ctx, "sqlite:", &reg), -EINVAL);
	assert_null(reg);
}

static void test_url_is_kept(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(vifmac_registry_url(f->reg), f->url);
}

/* ---------------------------------------------------------------- claims */

static void test_claim_is_found_by_mac_ip_domain_and_uuid(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record rec = claim_rec("02:00:c0:00:02:0a", "*", "web1", UUID_A, 0,
					     "192.0.2.10 2001:db8::10/64");
	struct found found = { 0 };

	assert_int_equal(vifmac_registry_claim(f->reg, &rec, NULL), 0);
	found = by_mac(f, "02:00:c0:00:02:0a");
	assert_int_equal(found.n, 1);
	assert_string_equal(found.recs[0].domain, "web1");
	assert_string_equal(found.recs[0].uuid, UUID_A);
	assert_int_equal(found.recs[0].devid, 0);
	assert_string_equal(found.recs[0].host, "host-a");
	assert_int_equal(found.recs[0].created, 1000);
	assert_int_equal(found.recs[0].state, VIFMAC_STATE_ACTIVE);
	assert_string_equal(found.recs[0].source, "ip-derived");
	assert_string_equal(found.recs[0].ip, "192.0.2.10 2001:db8::10/64");

	memset(&found, 0, sizeof(found));
	assert_int_equal(vifmac_registry_lookup_ip(f->reg, "192.0.2.10", collect, &found), 0);
	assert_int_equal(found.n, 1);
	memset(&found, 0, sizeof(found));
	assert_int_equal(vifmac_registry_lookup_ip(f->reg, "2001:db8::10", collect, &found), 0);
	assert_int_equal(found.n, 1);
	memset(&found, 0, sizeof(found));
	assert_int_equal(vifmac_registry_lookup_ip(f->reg, "192.0.2.1", collect, &found), 0);
	assert_int_equal(found.n, 0);
	memset(&found, 0, sizeof(found));
	assert_int_equal(vifmac_registry_lookup_domain(f->reg, "web1", collect, &found), 0);
	assert_int_equal(found.n, 1);
	memset(&found, 0, sizeof(found));
	assert_int_equal(vifmac_registry_lookup_domain(f->reg, UUID_A, collect, &found), 0);
	assert_int_equal(found.n, 1);
	memset(&found, 0, sizeof(found));
	assert_int_equal(vifmac_registry_lookup_domain(f->reg, "web2", collect, &found), 0);
	assert_int_equal(found.n, 0);
}

static void test_same_owner_reclaim_succeeds_and_refreshes_host_and_time(void **state)
{
	struct fixture *f = *state;
	struct found found;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	f->sys.now = 2000;
	strcpy(f->sys.host, "host-b"); /* migrated in */
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	found = by_mac(f, "02:00:00:00:00:01");
	assert_int_equal(found.n, 1);
	assert_string_equal(found.recs[0].host, "host-b");
	assert_int_equal(found.recs[0].created, 1000);
	assert_int_equal(found.recs[0].updated, 2000);
}

static void test_other_owner_gets_eexist_with_the_holders_evidence(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record holder;
	struct found found;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	f->sys.now = 1500;
	strcpy(f->sys.host, "host-b");
	memset(&holder, 0, sizeof(holder));
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "db1", UUID_B, 0, &holder), -EEXIST);
	assert_string_equal(holder.domain, "web1");
	assert_string_equal(holder.uuid, UUID_A);
	assert_int_equal(holder.devid, 0);
	assert_string_equal(holder.host, "host-a");
	assert_int_equal(holder.created, 1000);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "web1"));
	found = by_mac(f, "02:00:00:00:00:01");
	assert_int_equal(found.n, 1);
	assert_string_equal(found.recs[0].uuid, UUID_A);
	assert_int_equal(found.recs[0].updated, 1000);
}

static void test_same_domain_other_devid_is_another_owner(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 1, NULL), -EEXIST);
}

static void test_claim_without_uuid_is_einval(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", "", 0, NULL), -EINVAL);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, -1, NULL), -EINVAL);
	assert_int_equal(count(f->reg), 0);
}

static void test_bridge_scopes_do_not_conflict_with_each_other(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr0", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr1", "db1", UUID_B, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr1", "mail", UUID_C, 0, NULL), -EEXIST);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01").n, 2);
}

static void test_global_scope_conflicts_with_every_bridge_scope(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record holder;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr0", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "db1", UUID_B, 0, &holder), -EEXIST);
	assert_string_equal(holder.scope_key, "xenbr0");
	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "db1", UUID_B, 1, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:02", "xenbr7", "web1", UUID_A, 1, &holder), -EEXIST);
	assert_string_equal(holder.scope_key, "*");
}

static void test_claiming_another_mac_moves_the_vifs_claim(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:05", "*", "web1", UUID_A, 1, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01").n, 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:02").n, 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:05").n, 1); /* devid 1 keeps its own */
	/* a refused claim changes nothing */
	assert_int_equal(claim(f, "02:00:00:00:00:05", "*", "web1", UUID_A, 0, NULL), -EEXIST);
	assert_int_equal(by_mac(f, "02:00:00:00:00:02").n, 1);
}

/* ---------------------------------------------------------------- reservations */

static void test_reservation_is_never_handed_out(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = mac_of("02:00:00:00:00:fe");
	struct vifmac_record holder;

	assert_int_equal(vifmac_registry_reserve(f->reg, &m, "router in rack 4", NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:fe", "*", "web1", UUID_A, 0, &holder), -EEXIST);
	assert_int_equal(holder.state, VIFMAC_STATE_RESERVED);
	assert_string_equal(holder.note, "router in rack 4");
	assert_int_equal(holder.devid, -1);
	assert_int_equal(claim(f, "02:00:00:00:00:fe", "xenbr0", "web1", UUID_A, 0, NULL), -EEXIST);
	assert_int_equal(vifmac_registry_reserve(f->reg, &m, "again", &holder), -EEXIST);
	assert_string_equal(holder.note, "router in rack 4");
	assert_int_equal(by_mac(f, "02:00:00:00:00:fe").n, 1);
}

static void test_reserving_a_claimed_mac_is_refused(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = mac_of("02:00:00:00:00:01");
	struct vifmac_record holder;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "xenbr0", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_reserve(f->reg, &m, "router", &holder), -EEXIST);
	assert_string_equal(holder.uuid, UUID_A);
}

static void test_unreserve_frees_the_mac_once(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = mac_of("02:00:00:00:00:fe");

	assert_int_equal(vifmac_registry_reserve(f->reg, &m, "router", NULL), 0);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_A, -1), 0); /* not a claim */
	assert_int_equal(vifmac_registry_unreserve(f->reg, &m), 1);
	assert_int_equal(vifmac_registry_unreserve(f->reg, &m), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:fe", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_unreserve(f->reg, &m), 0); /* a claim is not a reservation */
	assert_int_equal(count(f->reg), 1);
}

/* ---------------------------------------------------------------- release */

static void test_release_releases_only_the_callers_own_claim(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac m = mac_of("02:00:00:00:00:01");

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_B, 0), 0);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_A, 1), 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01").n, 1);
	assert_int_equal(vifmac_registry_release(f->reg, &m, NULL, 0), -EINVAL);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_A, 0), 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01").n, 0);
	assert_int_equal(vifmac_registry_release(f->reg, &m, UUID_A, 0), 0);
}

static void test_release_without_mac_releases_every_vif_of_the_domain(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "web1", UUID_A, 1, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:03", "*", "web1", UUID_A, 2, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:04", "*", "db1", UUID_B, 0, NULL), 0);
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_A, 2), 1);
	assert_int_equal(vifmac_registry_release(f->reg, NULL, UUID_A, -1), 2);
	assert_int_equal(count(f->reg), 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:04").n, 1);
}

/* ---------------------------------------------------------------- gc */

static void add_domain(struct fixture *f, const char *name, const char *uuid)
{
	struct vifmac_domain_info *d = &f->sys.domains[f->sys.n_domains++];

	d->domid = (unsigned)f->sys.n_domains;
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid);
}

static void test_gc_releases_only_this_hosts_claims_of_gone_domains(void **state)
{
	struct fixture *f = *state;
	struct vifmac_mac router = mac_of("02:00:00:00:00:fe");
	struct found released = { 0 };

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "running", UUID_A, 0, NULL), 0);
	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "gone", UUID_B, 0, NULL), 0);
	assert_int_equal(vifmac_registry_reserve(f->reg, &router, "router", NULL), 0);
	strcpy(f->sys.host, "host-b");
	assert_int_equal(claim(f, "02:00:00:00:00:03", "*", "elsewhere", UUID_C, 0, NULL), 0);
	strcpy(f->sys.host, "host-a");
	add_domain(f, "Domain-0", "00000000-0000-0000-0000-000000000000");
	add_domain(f, "running", UUID_A);
	f->sys.now = 2000;

	assert_int_equal(vifmac_registry_gc(f->reg, true, collect, &released), 1);
	assert_int_equal(released.n, 1);
	assert_string_equal(released.recs[0].domain, "gone");
	assert_int_equal(count(f->reg), 4);

	memset(&released, 0, sizeof(released));
	assert_int_equal(vifmac_registry_gc(f->reg, false, collect, &released), 1);
	assert_int_equal(released.n, 1);
	assert_string_equal(released.recs[0].domain, "gone");
	assert_int_equal(by_mac(f, "02:00:00:00:00:02").n, 0);
	assert_int_equal(by_mac(f, "02:00:00:00:00:01").n, 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:03").n, 1);
	assert_int_equal(by_mac(f, "02:00:00:00:00:fe").n, 1);
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), 0);
}

static void test_gc_refuses_when_the_running_domains_cannot_be_listed(void **state)
{
	struct fixture *f = *state;
	struct vifmac_sys_ops no_xenstore = fake_ops;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	f->sys.now = 2000;
	f->sys.list_error = -ENOENT;
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), -ENOENT);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "nothing released"));
	no_xenstore.list_domains = NULL;
	vifmac_ctx_set_sys(f->ctx, &no_xenstore, &f->sys);
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), -EOPNOTSUPP);
	assert_int_equal(count(f->reg), 1);
}

static void test_gc_keeps_a_claim_made_after_the_domain_list_was_read(void **state)
{
	struct fixture *f = *state;

	/* claimed in the same second gc runs: its domain may not be listed yet */
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "starting", UUID_A, 0, NULL), 0);
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), 0);
	assert_int_equal(count(f->reg), 1);
	f->sys.now = 1001;
	assert_int_equal(vifmac_registry_gc(f->reg, false, NULL, NULL), 1);
	assert_int_equal(count(f->reg), 0);
}

/* ---------------------------------------------------------------- insert, import */

struct conflicts {
	char macs[8][VIFMAC_MAC_STRLEN];
	size_t n;
};

static int note_conflict(void *data, const struct vifmac_record *rec, const struct vifmac_record *holder)
{
	struct conflicts *c = data;

	assert_true(c->n < 8);
	vifmac_mac_format(&rec->mac, c->macs[c->n++]);
	return 0;
}

static void test_insert_writes_the_record_as_given(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record rec = claim_rec("02:00:00:00:00:01", "*", "web1", UUID_A, 0, "192.0.2.1");
	struct vifmac_record holder;
	struct found found;

	strcpy(rec.host, "old-host");
	rec.created = 10;
	rec.updated = 20;
	assert_int_equal(vifmac_registry_insert(f->reg, &rec, NULL), 0);
	found = by_mac(f, "02:00:00:00:00:01");
	assert_int_equal(found.n, 1);
	assert_string_equal(found.recs[0].host, "old-host");
	assert_int_equal(found.recs[0].created, 10);
	assert_int_equal(found.recs[0].updated, 20);
	rec = claim_rec("02:00:00:00:00:01", "*", "db1", UUID_B, 0, NULL);
	assert_int_equal(vifmac_registry_insert(f->reg, &rec, &holder), -EEXIST);
	assert_string_equal(holder.host, "old-host");
}

static void test_import_is_all_or_nothing_and_names_every_conflict(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record recs[4];
	struct conflicts c = { 0 };

	assert_int_equal(claim(f, "02:00:00:00:00:02", "*", "web1", UUID_A, 0, NULL), 0);
	recs[0] = claim_rec("02:00:00:00:00:01", "*", "a", UUID_B, 0, NULL);
	recs[1] = claim_rec("02:00:00:00:00:02", "*", "b", UUID_B, 1, NULL);  /* held by web1 */
	recs[2] = claim_rec("02:00:00:00:00:03", "*", "c", UUID_C, 0, NULL);
	recs[3] = claim_rec("02:00:00:00:00:03", "*", "d", UUID_C, 1, NULL);  /* clashes with recs[2] */
	assert_int_equal(vifmac_registry_import(f->reg, recs, 4, note_conflict, &c), -EEXIST);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.macs[0], "02:00:00:00:00:02");
	assert_string_equal(c.macs[1], "02:00:00:00:00:03");
	assert_int_equal(count(f->reg), 1);

	assert_int_equal(vifmac_registry_import(f->reg, recs, 1, note_conflict, &c), 1);
	assert_int_equal(count(f->reg), 2);
	/* importing the same records again is not a conflict */
	assert_int_equal(vifmac_registry_import(f->reg, recs, 1, NULL, NULL), 1);
	assert_int_equal(count(f->reg), 2);
}

static void test_import_rejects_a_malformed_record_before_writing(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record recs[2];

	recs[0] = claim_rec("02:00:00:00:00:01", "*", "a", UUID_B, 0, NULL);
	recs[1] = claim_rec("02:00:00:00:00:02", "*", "b", UUID_B, 1, NULL);
	recs[1].state = VIFMAC_STATE_RESERVED; /* with a UUID and devid */
	assert_int_equal(vifmac_registry_import(f->reg, recs, 2, NULL, NULL), -EINVAL);
	assert_int_equal(count(f->reg), 0);
}

/* ---------------------------------------------------------------- failing closed */

static void test_newer_schema_is_eproto_naming_the_file(void **state)
{
	struct fixture *f = *state;
	struct vifmac_registry *reg = NULL;

	vifmac_registry_close(f->reg);
	f->reg = NULL;
	sql_exec(f->path, "PRAGMA user_version = 99");
	assert_int_equal(vifmac_registry_open(f->ctx, f->url, &reg), -EPROTO);
	assert_null(reg);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), f->path));
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "99"));
}

static void test_random_bytes_are_eio_naming_the_file(void **state)
{
	struct fixture *f = fixture_new(NULL);
	struct vifmac_registry *reg = NULL;
	char folder[128];
	unsigned char junk[8192];
	int fd;

	*state = f;
	snprintf(folder, sizeof(folder), "%s/reg", f->dir);
	assert_int_equal(mkdir(folder, 0750), 0);
	srand(42);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand();
	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(vifmac_registry_open(f->ctx, f->url, &reg), -EIO);
	assert_null(reg);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), f->path));
	teardown(state);
}

static void test_corrupt_pages_are_eio(void **state)
{
	struct fixture *f = *state;
	struct vifmac_registry *reg = NULL;
	char junk[4096];
	int fd, r;

	for (int i = 0; i < 200; i++) {
		char mac[32];

		snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x", i / 256, i % 256);
		assert_int_equal(claim(f, mac, "*", "web", UUID_A, i, NULL), 0);
	}
	vifmac_registry_close(f->reg);
	f->reg = NULL;
	memset(junk, 0x5a, sizeof(junk));
	fd = open(f->path, O_WRONLY);
	assert_true(fd >= 0);
	for (off_t off = 4096; off < 6 * 4096; off += 4096)
		assert_int_equal(pwrite(fd, junk, sizeof(junk), off), (ssize_t)sizeof(junk));
	close(fd);
	r = vifmac_registry_open(f->ctx, f->url, &reg);
	if (r == 0) {
		size_t n = 0;

		r = vifmac_registry_list(reg, count_cb, &n);
		vifmac_registry_close(reg);
	}
	assert_int_equal(r, -EIO);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), f->path));
}

static void test_another_programs_database_is_refused(void **state)
{
	struct fixture *f = fixture_new(NULL);
	struct vifmac_registry *reg = NULL;
	char folder[128];

	*state = f;
	snprintf(folder, sizeof(folder), "%s/reg", f->dir);
	assert_int_equal(mkdir(folder, 0750), 0);
	sql_exec(f->path, "CREATE TABLE photos (id INTEGER)");
	assert_int_equal(vifmac_registry_open(f->ctx, f->url, &reg), -EPROTO);
	assert_null(reg);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master"), 1);
	teardown(state);
}

/*
 * Runs @fn in a child without root's override of file permissions (as
 * nobody when root), and returns what it returned.
 */
static int as_unprivileged(struct fixture *f, int (*fn)(struct fixture *f))
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
			_exit(100);
		_exit(-fn(f));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 100);
	return -WEXITSTATUS(status);
}

static int try_open_and_claim(struct fixture *f)
{
	struct vifmac_registry *reg;
	struct vifmac_record rec = claim_rec("02:00:00:00:00:09", "*", "web9", UUID_C, 0, NULL);
	int r = vifmac_registry_open(f->ctx, f->url, &reg);

	if (r < 0)
		return r;
	r = vifmac_registry_claim(reg, &rec, NULL);
	vifmac_registry_close(reg);
	return r;
}

static void make_world_reachable(struct fixture *f)
{
	char folder[128];

	snprintf(folder, sizeof(folder), "%s/reg", f->dir);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(folder, 0755), 0);
}

static void test_read_only_file_is_eacces_and_records_nothing(void **state)
{
	struct fixture *f = *state;
	char lock[160];

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	vifmac_registry_close(f->reg);
	f->reg = NULL;
	make_world_reachable(f);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	assert_int_equal(chmod(f->path, 0444), 0);
	assert_int_equal(chmod(lock, 0666), 0);
	assert_int_equal(as_unprivileged(f, try_open_and_claim), -EACCES);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM records"), 1);
}

static void test_read_only_folder_is_refused_and_records_nothing(void **state)
{
	struct fixture *f = *state;
	char folder[128], lock[160];
	int r;

	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	vifmac_registry_close(f->reg);
	f->reg = NULL;
	make_world_reachable(f);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	snprintf(folder, sizeof(folder), "%s/reg", f->dir);
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(chmod(lock, 0666), 0);
	assert_int_equal(chmod(folder, 0555), 0); /* no room for the -wal and -shm files */
	r = as_unprivileged(f, try_open_and_claim);
	assert_int_equal(r, -EACCES);
	assert_int_equal(chmod(folder, 0755), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM records"), 1);
}

/* Mounts a tmpfs of @size on a fresh folder; false (test skipped) when not allowed. */
static bool mount_tmpfs(struct fixture *f, const char *size, char *mnt, size_t len)
{
	char opts[64];

	snprintf(mnt, len, "%s/mnt", f->dir);
	assert_int_equal(mkdir(mnt, 0750), 0);
	snprintf(opts, sizeof(opts), "size=%s,mode=0750", size);
	if (mount("vifmac-test", mnt, "tmpfs", 0, opts) < 0)
		return false;
	snprintf(f->path, sizeof(f->path), "%s/registry.db", mnt);
	snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
	return true;
}

static void test_read_only_mount_is_erofs(void **state)
{
	struct fixture *f = *state;
	struct vifmac_registry *reg = NULL;
	char mnt[128];

	vifmac_registry_close(f->reg);
	f->reg = NULL;
	if (!mount_tmpfs(f, "1m", mnt, sizeof(mnt)))
		skip();
	fixture_open(f);
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	vifmac_registry_close(f->reg);
	f->reg = NULL;
	assert_int_equal(mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);
	assert_int_equal(vifmac_registry_open(f->ctx, f->url, &reg), -EROFS);
	assert_null(reg);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), f->path));
	assert_int_equal(umount(mnt), 0);
}

static void test_disk_full_is_enospc_and_leaves_no_partial_record(void **state)
{
	struct fixture *f = *state;
	struct vifmac_record rec;
	char mnt[128], filler[160], mac[32];
	char block[4096];
	int fd, r = 0, ok = 0;

	vifmac_registry_close(f->reg);
	f->reg = NULL;
	if (!mount_tmpfs(f, "512k", mnt, sizeof(mnt)))
		skip();
	fixture_open(f);
	/* leave almost no room */
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	memset(block, 'x', sizeof(block));
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		;
	/* then give back room for a few claims, not many */
	assert_int_equal(ftruncate(fd, lseek(fd, 0, SEEK_END) - 48 * 1024), 0);
	close(fd);
	for (int i = 0; i < 5000; i++) {
		snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x", i / 256, i % 256);
		rec = claim_rec(mac, "*", "a-domain-with-a-long-name-to-fill-pages", UUID_A, i, "192.0.2.1");
		memset(rec.source, 's', sizeof(rec.source) - 1);
		r = vifmac_registry_claim(f->reg, &rec, NULL);
		if (r < 0)
			break;
		ok++;
	}
	assert_int_equal(r, -ENOSPC);
	assert_true(ok > 0);
	print_message("      %d claims fitted, then: %s\n", ok, vifmac_ctx_last_error(f->ctx));
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), f->path));
	assert_int_equal(by_mac(f, mac).n, 0);
	vifmac_registry_close(f->reg);
	f->reg = NULL;
	assert_int_equal(unlink(filler), 0);
	fixture_open(f);
	assert_int_equal(count(f->reg), (size_t)ok);
	assert_int_equal(by_mac(f, mac).n, 0);
	vifmac_registry_close(f->reg);
	f->reg = NULL;
	assert_int_equal(sql_int(f->path, "SELECT integrity_check = 'ok' FROM pragma_integrity_check"), 1);
	assert_int_equal(umount(mnt), 0);
}


static void test_a_writer_holding_the_lock_makes_a_claim_ebusy_within_the_bound(void **state)
{
	struct fixture *f = fixture_new("registry_timeout_ms = 300\n");
	char lock[160];
	int64_t start, took;
	pid_t pid;

	*state = f;
	fixture_open(f);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	pid = tu_hold_lock(lock, -1);
	start = tu_mono_ms();
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), -EBUSY);
	took = tu_mono_ms() - start;
	assert_true(took >= 290);
	assert_true(took < 1500);
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), "registry busy"));
	assert_non_null(strstr(vifmac_ctx_last_error(f->ctx), f->path));
	assert_int_equal(count(f->reg), 0); /* readers are not held up */
	tu_kill_holder(pid);
	/* the holder died: its lock went with it */
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	teardown(state);
}

static void test_a_waiting_writer_gets_the_lock_when_the_holder_lets_go(void **state)
{
	struct fixture *f = *state;
	char lock[160];
	int64_t start, took;
	int status;
	pid_t pid;

	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	pid = tu_hold_lock(lock, 200);
	start = tu_mono_ms();
	assert_int_equal(claim(f, "02:00:00:00:00:01", "*", "web1", UUID_A, 0, NULL), 0);
	took = tu_mono_ms() - start;
	assert_true(took >= 100);
	assert_true(took < 2000);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_creates_folder_0750_and_file_0640_in_wal_mode),
		cmocka_unit_test_setup_teardown(test_unknown_url_scheme_is_refused_with_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_url_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_is_found_by_mac_ip_domain_and_uuid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_owner_reclaim_succeeds_and_refreshes_host_and_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_owner_gets_eexist_with_the_holders_evidence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_same_domain_other_devid_is_another_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_without_uuid_is_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bridge_scopes_do_not_conflict_with_each_other, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_scope_conflicts_with_every_bridge_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claiming_another_mac_moves_the_vifs_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reservation_is_never_handed_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserving_a_claimed_mac_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreserve_frees_the_mac_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_releases_only_the_callers_own_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_without_mac_releases_every_vif_of_the_domain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gc_releases_only_this_hosts_claims_of_gone_domains, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gc_refuses_when_the_running_domains_cannot_be_listed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gc_keeps_a_claim_made_after_the_domain_list_was_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_insert_writes_the_record_as_given, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_is_all_or_nothing_and_names_every_conflict, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_import_rejects_a_malformed_record_before_writing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_is_eproto_naming_the_file, setup, teardown),
		cmocka_unit_test(test_random_bytes_are_eio_naming_the_file),
		cmocka_unit_test_setup_teardown(test_corrupt_pages_are_eio, setup, teardown),
		cmocka_unit_test(test_another_programs_database_is_refused),
		cmocka_unit_test_setup_teardown(test_read_only_file_is_eacces_and_records_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_folder_is_refused_and_records_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_mount_is_erofs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_is_enospc_and_leaves_no_partial_record, setup, teardown),
		cmocka_unit_test(test_a_writer_holding_the_lock_makes_a_claim_ebusy_within_the_bound),
		cmocka_unit_test_setup_teardown(test_a_waiting_writer_gets_the_lock_when_the_holder_lets_go, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
