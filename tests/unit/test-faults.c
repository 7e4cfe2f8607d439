/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection into the hotplug pipeline (issue 10): the system seam of
 * fake-sys.h with failures added, a real SQLite registry on real files (and
 * tmpfs mounts for a full or read-only disk), and a hook killed with SIGKILL
 * at random points. Every case ends in a clear refusal or a retry within
 * budget; nothing is lost and nothing is half-written: the xenstore writes
 * are one transaction, the registry claim is one SQLite transaction, and a
 * claim made before a later failure is released. docs/reliability.md lists
 * the cases with the registry-level ones of test-registry.c.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "fake-sys.h"

#define UUID_WEB1 "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b"
#define UUID_WEB2 "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3"
#define BE5 "/local/domain/0/backend/vif/5/0"
#define FE5 "/local/domain/5/device/vif/0"
#define RANDOM_MAC "00:16:3e:12:34:56"
#define POLICY_MAC "02:00:c0:00:02:0a"

/* fake-sys.h's seam, and failures on demand (the fake comes first: its ops take this too) */
struct faulty {
	struct fake_sys fake;
	int write_fails_at; /* the n-th write inside a transaction fails (0: never) */
	int write_error;
	int writes;
	int start_error;    /* xs_transaction_start fails with this */
	int owner_error;    /* xs_owner fails with this */
	int links_error;    /* list_links fails with this */
	int fdb_error;      /* list_fdb fails with this */
};

static int faulty_xs_write(void *data, unsigned long t, const char *path, const char *value)
{
	struct faulty *f = data;

	if (t != 0 && f->write_fails_at && ++f->writes == f->write_fails_at)
		return f->write_error;
	return fake_xs_write(data, t, path, value);
}

static int faulty_xs_transaction_start(void *data, unsigned long *ret_t)
{
	struct faulty *f = data;

	return f->start_error ? f->start_error : fake_xs_transaction_start(data, ret_t);
}

static int faulty_xs_owner(void *data, unsigned long t, const char *path, unsigned *ret_domid)
{
	struct faulty *f = data;

	return f->owner_error ? f->owner_error : fake_xs_owner(data, t, path, ret_domid);
}

static int faulty_list_links(void *data, struct vifmac_link_info **ret, size_t *ret_n)
{
	struct faulty *f = data;

	return f->links_error ? f->links_error : fake_list_links(data, ret, ret_n);
}

static int faulty_list_fdb(void *data, struct vifmac_fdb_entry **ret, size_t *ret_n)
{
	struct faulty *f = data;

	return f->fdb_error ? f->fdb_error : fake_list_fdb(data, ret, ret_n);
}

static const struct vifmac_sys_ops faulty_ops = {
	.xs_read = fake_xs_read,
	.xs_write = faulty_xs_write,
	.xs_directory = fake_xs_directory,
	.xs_owner = faulty_xs_owner,
	.xs_transaction_start = faulty_xs_transaction_start,
	.xs_transaction_end = fake_xs_transaction_end,
	.list_domains = fake_list_domains,
	.list_links = faulty_list_links,
	.now = fake_now,
	.hostname = fake_hostname,
	.get_domain = fake_get_domain,
	.list_fdb = faulty_list_fdb,
	.list_neigh = fake_list_neigh,
	.enforce_add = fake_enforce_add,
	.enforce_remove = fake_enforce_remove,
	.enforce_list = fake_enforce_list,
};

struct env {
	struct faulty sys;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	char dir[64];
	char path[160]; /* the registry file */
	char url[180];
	char mnt[128];  /* a tmpfs mounted by the test, or "" */
};

/* The xenstore of a paused PV guest as libxl leaves it for the hook: web1, domid 5. */
static void libxl_state(struct faulty *sys)
{
	fake_sys_free(&sys->fake);
	memset(sys, 0, sizeof(*sys));
	sys->fake.now = 1700000000;
	snprintf(sys->fake.hostname, sizeof(sys->fake.hostname), "dom0-a");
	fake_add_domain(&sys->fake, 5, "web1", UUID_WEB1, true);
	fake_add_vif(&sys->fake, 5, 0, RANDOM_MAC, "xenbr0", "192.0.2.10", "vif");
}

static struct env *env_new(const char *policy)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/vifmac-faults-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->path, sizeof(e->path), "%s/registry.db", e->dir);
	snprintf(e->url, sizeof(e->url), "sqlite:%s", e->path);
	libxl_state(&e->sys);
	e->ctx = tu_ctx_with_policy(policy ? policy : "private_bridges = [ \"xenbr0\" ]\n");
	vifmac_ctx_set_sys(e->ctx, &faulty_ops, &e->sys);
	return e;
}

static void env_open(struct env *e)
{
	int r = vifmac_registry_open(e->ctx, e->url, &e->reg);

	if (r < 0)
		fail_msg("open %s: %s", e->url, vifmac_ctx_last_error(e->ctx));
}

static int setup(void **state)
{
	struct env *e = env_new(NULL);

	env_open(e);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[200];

	vifmac_registry_close(e->reg);
	vifmac_ctx_unref(e->ctx);
	if (e->mnt[0])
		umount2(e->mnt, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	assert_int_equal(system(cmd), 0);
	fake_sys_free(&e->sys.fake);
	free(e);
	return 0;
}

/* Mounts a tmpfs of @size and moves the registry there; false (skip) when not allowed. */
static bool env_on_tmpfs(struct env *e, const char *size)
{
	char opts[64];

	snprintf(e->mnt, sizeof(e->mnt), "%s/mnt", e->dir);
	assert_int_equal(mkdir(e->mnt, 0750), 0);
	snprintf(opts, sizeof(opts), "size=%s,mode=0750", size);
	if (mount("vifmac-faults", e->mnt, "tmpfs", 0, opts) < 0) {
		e->mnt[0] = '\0';
		return false;
	}
	snprintf(e->path, sizeof(e->path), "%s/registry.db", e->mnt);
	snprintf(e->url, sizeof(e->url), "sqlite:%s", e->path);
	return true;
}

static int count_fn(void *data, const struct vifmac_record *rec)
{
	(*(int *)data)++;
	return 0;
}

static int claims_of(struct vifmac_registry *reg, const char *mac_s)
{
	struct vifmac_mac mac;
	int n = 0;

	assert_int_equal(vifmac_mac_parse(mac_s, &mac), 0);
	assert_int_equal(vifmac_registry_lookup_mac(reg, &mac, count_fn, &n), 0);
	return n;
}

static int online(struct env *e, struct vifmac_decision *d)
{
	struct vifmac_hotplug_vif vif;
	int r = vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif);

	memset(d, 0, sizeof(*d));
	if (r < 0)
		return r;
	return vifmac_hotplug_online(e->ctx, e->reg, &vif, vifmac_hotplug_mode_for(&vif), d);
}

/* Nothing of the vif was changed in xenstore: the MAC is libxl's, no owner marker, no commit. */
static void assert_xenstore_untouched(struct env *e)
{
	assert_string_equal(fake_get(&e->sys.fake, BE5 "/mac"), RANDOM_MAC);
	assert_string_equal(fake_get(&e->sys.fake, FE5 "/mac"), RANDOM_MAC);
	assert_string_equal(fake_get(&e->sys.fake, "/libxl/5/device/vif/0/mac"), RANDOM_MAC);
	assert_null(fake_get(&e->sys.fake, BE5 "/vifmac-owner"));
	assert_int_equal(e->sys.fake.xs.commits, 0);
}

/* The refusal is one line an admin can act on. */
static void assert_clear_refusal(const struct vifmac_decision *d, enum vifmac_refusal_kind kind)
{
	char line[1024];

	assert_int_equal(d->refusal.kind, kind);
	vifmac_refusal_format(&d->refusal, line, sizeof(line));
	assert_true(line[0] != '\0');
	assert_null(strchr(line, '\n'));
}

/* ---------------------------------------------------------------- xenstore */

static void test_missing_backend_nodes_are_refused_before_any_claim(void **state)
{
	static const char *const required[] = { "frontend-id", "frontend", "mac" };
	struct env *e = *state;
	struct vifmac_decision d;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		char path[192];
		libxl_state(&e->sys);
		snprintf(path, sizeof(path), BE5 "/%s", required[i]);
		assert_non_null(fake_get(&e->sys.fake, path));
		fake_rm(&e->sys.fake, path); /* gone */
		assert_int_equal(online(e, &d), -ENOENT);
		assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), path));
		assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
	}
	/* no ip=: a policy refusal (no IPv4 to derive from), nothing claimed or written */
	libxl_state(&e->sys);
	fake_rm(&e->sys.fake, BE5 "/ip");
	assert_int_equal(online(e, &d), -EPERM);
	assert_clear_refusal(&d, VIFMAC_REFUSAL_POLICY);
	assert_xenstore_untouched(e);
	/* the whole backend gone (a vif unplugged meanwhile) */
	libxl_state(&e->sys);
	xsm_clear(&e->sys.fake.xs);
	assert_int_equal(online(e, &d), -ENOENT);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
}

static void test_oversized_backend_values_are_refused_not_truncated(void **state)
{
	static const struct {
		const char *key;
		size_t len; /* one more than the vif's field holds */
	} cases[] = { { "bridge", 64 }, { "ip", 256 }, { "type", 16 }, { "vifname", 64 }, { "vifmac-owner", 37 } };
	struct env *e = *state;
	struct vifmac_decision d;
	char big[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[192];

		libxl_state(&e->sys);
		memset(big, 'a', cases[i].len);
		big[cases[i].len] = '\0';
		if (strcmp(cases[i].key, "ip") == 0)
			for (size_t j = 0; j + 11 <= cases[i].len; j += 11)
				memcpy(big + j, "192.0.2.10 ", 11);
		snprintf(path, sizeof(path), BE5 "/%s", cases[i].key);
		fake_set(&e->sys.fake, path, big, 0);
		assert_int_equal(online(e, &d), -EINVAL);
		assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), "too long"));
		assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), cases[i].key));
		assert_string_equal(fake_get(&e->sys.fake, BE5 "/mac"), RANDOM_MAC);
		assert_string_equal(fake_get(&e->sys.fake, FE5 "/mac"), RANDOM_MAC);
		assert_int_equal(e->sys.fake.xs.commits, 0);
		assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
		/* one byte less fits (and is then judged on its merits) */
		big[cases[i].len - 1] = '\0';
		fake_set(&e->sys.fake, path, big, 0);
		(void)online(e, &d);
		assert_null(strstr(vifmac_ctx_last_error(e->ctx), "too long"));
		assert_true(vifmac_registry_release(e->reg, NULL, UUID_WEB1, -1) >= 0);
	}
	/* a value of two lines is refused too */
	libxl_state(&e->sys);
	fake_set(&e->sys.fake, BE5 "/bridge", "xenbr0\nxenbr1", 0);
	assert_int_equal(online(e, &d), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), "not one line"));
	assert_xenstore_untouched(e);
}

static void test_unreadable_permissions_refuse_the_vif(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	e->sys.owner_error = -EACCES;
	assert_int_equal(online(e, &d), -EACCES);
	assert_non_null(strstr(vifmac_ctx_last_error(e->ctx), "permissions"));
	assert_xenstore_untouched(e);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
}

static void test_eagain_storm_within_the_budget_succeeds_beyond_it_refuses(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	/* 32 attempts: 31 conflicts and the last commit goes through */
	e->sys.fake.xs.eagain = 31;
	assert_int_equal(online(e, &d), 0);
	assert_int_equal(e->sys.fake.xs.commits, 1);
	assert_string_equal(fake_get(&e->sys.fake, BE5 "/mac"), POLICY_MAC);
	assert_string_equal(fake_get(&e->sys.fake, FE5 "/mac"), POLICY_MAC);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 1);
	assert_int_equal(vifmac_registry_release(e->reg, NULL, UUID_WEB1, -1), 1);
	/* 32 conflicts: refused, nothing written, the claim released */
	libxl_state(&e->sys);
	e->sys.fake.xs.eagain = 32;
	assert_int_equal(online(e, &d), -EAGAIN);
	assert_clear_refusal(&d, VIFMAC_REFUSAL_UNAVAILABLE);
	assert_non_null(strstr(d.refusal.message, "32 retries"));
	assert_xenstore_untouched(e);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
}

static void test_write_failing_mid_transaction_writes_nothing_and_releases_the_claim(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	/* 1: owner marker, 2: backend mac, 3: frontend mac, 4: libxl's copy */
	for (int at = 1; at <= 4; at++) {
		libxl_state(&e->sys);
		e->sys.write_fails_at = at;
		e->sys.write_error = -ENOSPC; /* xenstore quota */
		assert_int_equal(online(e, &d), -ENOSPC);
		assert_clear_refusal(&d, VIFMAC_REFUSAL_UNAVAILABLE);
		assert_xenstore_untouched(e);
		assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
	}
	/* and the next attempt goes through */
	libxl_state(&e->sys);
	assert_int_equal(online(e, &d), 0);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 1);
}

static void test_transaction_that_cannot_start_releases_the_claim(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	e->sys.start_error = -EIO;
	assert_int_equal(online(e, &d), -EIO);
	assert_clear_refusal(&d, VIFMAC_REFUSAL_UNAVAILABLE);
	assert_xenstore_untouched(e);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
}

static void test_links_or_fdb_unreadable_refuse_rather_than_guess(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;

	e->sys.links_error = -EIO;
	assert_int_equal(online(e, &d), -EIO);
	assert_clear_refusal(&d, VIFMAC_REFUSAL_UNAVAILABLE);
	assert_non_null(strstr(d.refusal.message, "links"));
	assert_xenstore_untouched(e);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
	libxl_state(&e->sys);
	e->sys.fdb_error = -EIO;
	assert_int_equal(online(e, &d), -EIO);
	assert_clear_refusal(&d, VIFMAC_REFUSAL_UNAVAILABLE);
	assert_non_null(strstr(d.refusal.message, "forwarding"));
	assert_xenstore_untouched(e);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
}

/* ---------------------------------------------------------------- trust (docs/security.md) */

static void test_guest_writable_name_and_vm_nodes_are_never_read(void **state)
{
	struct env *e = *state;
	struct vifmac_decision d;
	int n = 0;

	/* the guest owns /local/domain/5 and writes what it likes there */
	fake_set(&e->sys.fake, "/local/domain/5/name", "web2", 5);
	fake_set(&e->sys.fake, "/local/domain/5/vm", "/vm/" UUID_WEB2, 5);
	fake_set(&e->sys.fake, "/local/domain/5/domid", "7", 5);
	fake_set(&e->sys.fake, "/local/domain/5/device/vif/0/backend", "/local/domain/0/backend/vif/7/0", 5);
	fake_set(&e->sys.fake, "/local/domain/5/device/vif/0/vifmac-owner", UUID_WEB2, 5);
	fake_set(&e->sys.fake, "/vm/" UUID_WEB2 "/name", "web2", 0);
	assert_int_equal(online(e, &d), 0);
	assert_false(fake_was_read_under(&e->sys.fake, "/local/domain/5"));
	assert_false(fake_was_read_under(&e->sys.fake, "/vm/"));
	/* the claim carries the hypervisor's UUID and the dom0-owned name */
	assert_int_equal(vifmac_registry_lookup_domain(e->reg, UUID_WEB1, count_fn, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(vifmac_registry_lookup_domain(e->reg, "web2", count_fn, &n), 0);
	assert_int_equal(n, 0);
	n = 0;
	assert_int_equal(vifmac_registry_lookup_domain(e->reg, "web1", count_fn, &n), 0);
	assert_int_equal(n, 1);
	/* offline: the owner comes from the dom0-owned backend marker, never the frontend */
	{
		struct vifmac_hotplug_vif vif;

		assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), 0);
		assert_string_equal(vif.claim_uuid, UUID_WEB1);
		fake_set(&e->sys.fake, BE5 "/vifmac-owner", UUID_WEB2, 5); /* planted by the guest */
		assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), -EINVAL);
	}
}

static void test_chain_script_comes_from_the_policy_never_from_xenstore(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy("chain_script = \"vif-route\"\n"
						    "bridge_chain = [ \"ovsbr0=vif-openvswitch\" ]\n");

	/* a bridge name only selects among the policy's scripts */
	assert_string_equal(vifmac_ctx_bridge_chain(ctx, "ovsbr0"), "vif-openvswitch");
	assert_string_equal(vifmac_ctx_bridge_chain(ctx, "$(touch /tmp/pwned)"), "vif-route");
	assert_string_equal(vifmac_ctx_bridge_chain(ctx, "ovsbr0;reboot"), "vif-route");
	assert_string_equal(vifmac_ctx_bridge_chain(ctx, NULL), "vif-route");
	vifmac_ctx_unref(ctx);
	(void)state;
}

/* ---------------------------------------------------------------- registry */


static void test_registry_locked_by_a_hung_process_refuses_within_the_bound(void **state)
{
	struct env *e = env_new("private_bridges = [ \"xenbr0\" ]\nregistry_timeout_ms = 300\n");
	struct vifmac_decision d;
	char lock[200];
	int64_t start, took;
	pid_t pid;

	*state = e;
	env_open(e);
	snprintf(lock, sizeof(lock), "%s.lock", e->path);
	pid = tu_hold_lock(lock, -1); /* a writer that took the lock and hangs */
	start = tu_mono_ms();
	assert_int_equal(online(e, &d), -EBUSY);
	took = tu_mono_ms() - start;
	assert_clear_refusal(&d, VIFMAC_REFUSAL_UNAVAILABLE);
	assert_non_null(strstr(d.refusal.message, "busy"));
	assert_true(took >= 290);
	assert_true(took < 3000);
	assert_xenstore_untouched(e);
	tu_kill_holder(pid);
	/* the hung writer is gone: the same vif now goes through */
	assert_int_equal(online(e, &d), 0);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 1);
}

static void test_registry_full_disk_refuses_and_writes_nothing(void **state)
{
	struct env *e = env_new(NULL);
	struct vifmac_decision d;
	char filler[200], block[4096];
	int fd;

	*state = e;
	if (!env_on_tmpfs(e, "256k"))
		skip();
	env_open(e);
	snprintf(filler, sizeof(filler), "%s/filler", e->mnt);
	fd = open(filler, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	memset(block, 'x', sizeof(block));
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		;
	close(fd);
	assert_int_equal(online(e, &d), -ENOSPC);
	assert_clear_refusal(&d, VIFMAC_REFUSAL_UNAVAILABLE);
	assert_xenstore_untouched(e);
	/* room again: nothing half-written stands in the way */
	assert_int_equal(unlink(filler), 0);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
	assert_int_equal(online(e, &d), 0);
	assert_int_equal(claims_of(e->reg, POLICY_MAC), 1);
}

/* ---------------------------------------------------------------- the hook killed mid-way */

/* Checks the registry file with SQLite itself: whole, and no half-written claim. */
static void assert_registry_consistent(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT integrity_check FROM pragma_integrity_check", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	/* every claim whole: owner, vif, bridge, ip, host, time, source; its ip indexed */
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM records WHERE state = 'active' AND (uuid = '' OR "
					    "devid < 0 OR bridge = '' OR ip = '' OR host = '' OR created <= 0 OR "
					    "source = '' OR id NOT IN (SELECT record_id FROM record_ips))",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	/* one holder per MAC at the most */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM records GROUP BY mac HAVING count(*) > 1", -1,
					    &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Where the killed hook was (shared with the parent): to show the kills land everywhere. */
enum phase { PHASE_READ, PHASE_OPEN, PHASE_ONLINE, PHASE_OFFLINE, PHASE_CLOSE, PHASE_N };
static const char *const phase_names[PHASE_N] = { "reading xenstore", "opening the registry", "online (decide, check, claim, write)",
						  "offline (release)", "closing the registry" };
static volatile int *phase;

/* What one hook run does, over and over, until it is killed: read, open, online, offline. */
static void __attribute__((noreturn)) hook_loop(const char *policy_url, int ready_fd)
{
	struct env e = { 0 };
	bool told = false;

	e.ctx = tu_ctx_with_policy("private_bridges = [ \"xenbr0\" ]\nregistry_timeout_ms = 2000\n");
	for (;;) {
		struct vifmac_hotplug_vif vif;
		struct vifmac_decision d;

		libxl_state(&e.sys);
		vifmac_ctx_set_sys(e.ctx, &faulty_ops, &e.sys);
		*phase = PHASE_READ;
		if (vifmac_hotplug_read(e.ctx, "backend/vif/5/0", &vif) < 0)
			_exit(2);
		*phase = PHASE_OPEN;
		if (vifmac_registry_open(e.ctx, policy_url, &e.reg) < 0)
			_exit(2);
		if (!told) {
			if (write(ready_fd, "x", 1) != 1)
				_exit(2);
			told = true;
		}
		*phase = PHASE_ONLINE;
		if (vifmac_hotplug_online(e.ctx, e.reg, &vif, vifmac_hotplug_mode_for(&vif), &d) < 0)
			_exit(3);
		*phase = PHASE_OFFLINE;
		if (vifmac_hotplug_offline(e.ctx, e.reg, &vif) < 0)
			_exit(4);
		*phase = PHASE_CLOSE;
		vifmac_registry_close(e.reg);
	}
}

static void test_hook_killed_at_random_points_leaves_a_consistent_registry(void **state)
{
	struct env *e = *state;
	const char *env_kills = getenv("VIFMAC_FAULT_KILLS");
	int kills = env_kills ? atoi(env_kills) : 150, relaunched = 0, released = 0, where[PHASE_N] = { 0 };
	unsigned seed = (unsigned)time(NULL);

	phase = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(phase != MAP_FAILED);

	print_message("      %d kills, seed %u (VIFMAC_FAULT_KILLS to change the count)\n", kills, seed);
	srand(seed);
	vifmac_registry_close(e->reg);
	e->reg = NULL;
	for (int i = 0; i < kills; i++) {
		struct vifmac_decision d;
		struct timespec ts = { 0, (long)(rand() % 20000) * 1000 }; /* 0-20 ms after it is ready */
		int pipefd[2], status;
		char c;
		pid_t pid;

		assert_int_equal(pipe(pipefd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pipefd[0]);
			hook_loop(e->url, pipefd[1]);
		}
		close(pipefd[1]);
		assert_int_equal(read(pipefd[0], &c, 1), 1);
		close(pipefd[0]);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (*phase >= 0 && *phase < PHASE_N)
			where[*phase]++;
		/* killed, never failed on its own */
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		assert_registry_consistent(e->path);

		/* then what libxl does next: a new run of the same vif, or offline */
		libxl_state(&e->sys);
		env_open(e);
		if (rand() % 2) {
			assert_int_equal(online(e, &d), 0);
			assert_string_equal(tu_mac(&d.mac), POLICY_MAC);
			assert_int_equal(claims_of(e->reg, POLICY_MAC), 1);
			relaunched++;
		} else {
			struct vifmac_hotplug_vif vif;

			assert_int_equal(vifmac_hotplug_read(e->ctx, "backend/vif/5/0", &vif), 0);
			assert_true(vifmac_hotplug_offline(e->ctx, e->reg, &vif) >= 0);
			assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
			released++;
		}
		/* leave it free for the next round */
		assert_true(vifmac_registry_release(e->reg, NULL, UUID_WEB1, -1) >= 0);
		assert_int_equal(claims_of(e->reg, POLICY_MAC), 0);
		vifmac_registry_close(e->reg);
		e->reg = NULL;
	}
	for (int p = 0; p < PHASE_N; p++)
		print_message("      killed while %s: %d\n", phase_names[p], where[p]);
	print_message("      afterwards: %d runs of the same vif went through, %d offlines released\n", relaunched,
		      released);
	munmap((void *)phase, sizeof(int));
	/* and another domain can take the MAC: nothing half-held stays behind */
	env_open(e);
	{
		struct vifmac_record rec;

		vifmac_record_init(&rec);
		assert_int_equal(vifmac_mac_parse(POLICY_MAC, &rec.mac), 0);
		snprintf(rec.domain, sizeof(rec.domain), "web2");
		snprintf(rec.uuid, sizeof(rec.uuid), UUID_WEB2);
		rec.devid = 0;
		snprintf(rec.bridge, sizeof(rec.bridge), "xenbr0");
		snprintf(rec.ip, sizeof(rec.ip), "192.0.2.10");
		snprintf(rec.source, sizeof(rec.source), "ip-derived");
		assert_int_equal(vifmac_registry_claim(e->reg, &rec, NULL), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_backend_nodes_are_refused_before_any_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_backend_values_are_refused_not_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_permissions_refuse_the_vif, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eagain_storm_within_the_budget_succeeds_beyond_it_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_failing_mid_transaction_writes_nothing_and_releases_the_claim,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_that_cannot_start_releases_the_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_or_fdb_unreadable_refuse_rather_than_guess, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_writable_name_and_vm_nodes_are_never_read, setup, teardown),
		cmocka_unit_test(test_chain_script_comes_from_the_policy_never_from_xenstore),
		cmocka_unit_test_teardown(test_registry_locked_by_a_hung_process_refuses_within_the_bound, teardown),
		cmocka_unit_test_teardown(test_registry_full_disk_refuses_and_writes_nothing, teardown),
		cmocka_unit_test_setup_teardown(test_hook_killed_at_random_points_leaves_a_consistent_registry, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
