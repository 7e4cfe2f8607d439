/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite backend's own promises, on real SQLite files in a temporary
 * folder: file and folder modes, WAL, schema versions, corrupt or foreign
 * files, read-only files, folders and mounts, a full disk, the writer lock.
 * The rules every backend keeps are in tests/contract/test-registry-contract.c.
 * The system seam (clock, host name) is faked; SQLite is not.
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
#include "testreg.h"

/* ---------------------------------------------------------------- fixture */

struct fake_sys {
	int64_t now;
	char host[64];
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

static const struct vifmac_sys_ops fake_ops = {
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

#define UUID_A "11111111-1111-1111-1111-111111111111"
#define UUID_C "33333333-3333-3333-3333-333333333333"

static int claim(struct fixture *f, const char *mac, const char *scope, const char *domain, const char *uuid,
		 int devid, struct vifmac_record *holder)
{
	struct vifmac_record rec = tr_claim_rec(mac, scope, domain, uuid, devid, "192.0.2.10");

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
	struct vifmac_mac m = tr_mac(mac);

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
	struct vifmac_record rec = tr_claim_rec("02:00:00:00:00:09", "*", "web9", UUID_C, 0, NULL);
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
		rec = tr_claim_rec(mac, "*", "a-domain-with-a-long-name-to-fill-pages", UUID_A, i, "192.0.2.1");
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
