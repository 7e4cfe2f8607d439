/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite backend's file: opening it safely (parents, ownership, no
 * links, its side files), the schema and its migrations, WAL mode, and
 * SQLite's failures as errno values with messages naming the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "vifmac-sqlite.h"

#define SCHEMA_VERSION 3
#define APPLICATION_ID 0x76666d63 /* "vfmc" */

/*
 * migrations[v] takes the schema from version v to v + 1. Append only:
 * a released step is never edited, a change is a new step.
 */
static const char *const migrations[SCHEMA_VERSION] = {
	/* 0 → 1: the first schema */
	"CREATE TABLE records ("
	"  id INTEGER PRIMARY KEY,"
	"  mac TEXT NOT NULL CHECK (length(mac) = 17),"
	"  scope_key TEXT NOT NULL CHECK (scope_key <> ''),"
	"  state TEXT NOT NULL CHECK (state IN ('active', 'reserved')),"
	"  domain TEXT NOT NULL,"
	"  uuid TEXT NOT NULL COLLATE NOCASE,"
	"  devid INTEGER NOT NULL,"
	"  bridge TEXT NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  host TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL,"
	"  note TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  UNIQUE (mac, scope_key)"
	");"
	"CREATE INDEX records_owner ON records (uuid, devid);"
	"CREATE INDEX records_domain ON records (domain);"
	/* every address of a record's ip= list, so that whois IP is one index lookup */
	"CREATE TABLE record_ips ("
	"  ip TEXT NOT NULL,"
	"  record_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,"
	"  PRIMARY KEY (ip, record_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX record_ips_record ON record_ips (record_id);",
	/* 1 → 2: operator pools (vifmac pool import), and what was released from them */
	"CREATE TABLE pools ("
	"  name TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('table', 'range', 'recycled')),"
	"  origin TEXT NOT NULL,"
	"  imported INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  range_start TEXT,"
	"  range_end TEXT,"
	"  next TEXT"
	");"
	"CREATE TABLE pool_entries ("
	"  pool TEXT NOT NULL REFERENCES pools (name) ON DELETE CASCADE,"
	"  mac TEXT NOT NULL CHECK (length(mac) = 17),"
	"  ip TEXT,"
	"  note TEXT NOT NULL,"
	"  PRIMARY KEY (pool, mac)"
	") WITHOUT ROWID;"
	"CREATE INDEX pool_entries_ip ON pool_entries (pool, ip);"
	"CREATE INDEX pool_entries_mac ON pool_entries (mac);"
	/* a released pool address: in quarantine until released + pool_quarantine, and its last owner's */
	"CREATE TABLE pool_released ("
	"  mac TEXT PRIMARY KEY,"
	"  pool TEXT NOT NULL,"
	"  uuid TEXT NOT NULL COLLATE NOCASE,"
	"  devid INTEGER NOT NULL,"
	"  released INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX pool_released_owner ON pool_released (uuid, devid);"
	"CREATE INDEX pool_released_pool ON pool_released (pool, mac);",
	/* 2 → 3: a released pool address also remembers its last owner's domain
	 * name: a domain created again from a config without uuid= has a new
	 * UUID, and should still get its address back */
	("ALTER TABLE pool_released ADD COLUMN domain TEXT NOT NULL DEFAULT '';"
	 "CREATE INDEX pool_released_domain ON pool_released (domain, devid);"),
};

/* ---------------------------------------------------------------- errors */

static bool read_only_fs(const char *path)
{
	struct statvfs st;

	return statvfs(path, &st) == 0 && (st.f_flag & ST_RDONLY);
}

int sqlite_fail(struct sqlite_registry *s, int rc, const char *what)
{
	int sys = s->db ? sqlite3_system_errno(s->db) : 0;
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	int err;

	switch (rc & 0xff) {
	case SQLITE_FULL:
		err = -ENOSPC;
		break;
	case SQLITE_IOERR:
		err = sys == ENOSPC || sys == EDQUOT ? -ENOSPC : -EIO;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_FORMAT:
		return vifmac_set_error(s->ctx, -EIO, "registry %s is corrupt or not a registry (%s: %s)", s->path,
					what, msg);
	case SQLITE_READONLY:
		err = read_only_fs(s->path) ? -EROFS : -EACCES;
		break;
	case SQLITE_CANTOPEN:
		err = sys == EROFS || sys == ENOSPC || sys == ENOENT ? -sys : -EACCES;
		break;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		err = -EACCES;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return vifmac_set_error(s->ctx, -EBUSY, "registry busy: %s locked by another writer for %d ms (%s)",
					s->path, sqlite_timeout_ms(s), what);
	case SQLITE_NOMEM:
		err = -ENOMEM;
		break;
	default:
		err = -EIO;
		break;
	}
	if (err == -ENOSPC)
		return vifmac_set_error(s->ctx, err, "registry %s: no space left on device (%s: %s); nothing recorded",
					s->path, what, msg);
	if (err == -EACCES || err == -EROFS)
		return vifmac_set_error(s->ctx, err, "registry %s is not writable: %s (%s: %s)", s->path,
					strerror(-err), what, msg);
	return vifmac_set_error(s->ctx, err, "registry %s: %s: %s", s->path, what, msg);
}

/* ---------------------------------------------------------------- open / close */

/* Root's files, or the caller's own (a user's registry in their home). */
static bool owner_is_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Refuses a file that is not a regular file of a trusted owner (@st from fstat or lstat). */
static int check_own_file(struct sqlite_registry *s, const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return vifmac_set_error(s->ctx, -EACCES, "registry %s: %s is not a regular file", s->path, path);
	if (!owner_is_trusted(st->st_uid))
		return vifmac_set_error(s->ctx, -EACCES, "registry %s: %s belongs to uid %u, not root", s->path,
					path, (unsigned)st->st_uid);
	return 0;
}

/* SQLite creates and follows "<db>-wal" and "<db>-shm" itself: refuse planted ones first. */
static int check_sqlite_side_files(struct sqlite_registry *s)
{
	static const char *const suffixes[] = { "-wal", "-shm" };
	struct stat st;
	char *side;
	int r = 0;

	for (size_t i = 0; i < 2 && r == 0; i++) {
		if (asprintf(&side, "%s%s", s->path, suffixes[i]) < 0)
			return -ENOMEM;
		if (lstat(side, &st) == 0)
			r = check_own_file(s, side, &st);
		else if (errno != ENOENT)
			r = vifmac_set_error(s->ctx, -errno, "registry %s: cannot stat %s: %m", s->path, side);
		free(side);
	}
	return r;
}

/* Creates the folders of @path that are missing, 0750; an existing one must be root's, 0755 at most. */
static int make_parents(struct sqlite_registry *s)
{
	char *dir = strdup(s->path);
	char *slash;
	struct stat st;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		goto out;
	*slash = '\0';
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			r = vifmac_set_error(s->ctx, -ENOTDIR, "registry %s: %s is not a folder", s->path, dir);
		/* whoever may write the folder may replace the registry's files,
		 * or plant a symlink where the lock file is about to be created */
		else if (!owner_is_trusted(st.st_uid) || (st.st_mode & (S_IWGRP | S_IWOTH)))
			r = vifmac_set_error(s->ctx, -EACCES,
					     "registry %s: unsafe folder %s (owner uid %u, mode %04o): it must be "
					     "root's and not writable by group or others",
					     s->path, dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	for (char *p = dir + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
			r = vifmac_set_error(s->ctx, -errno, "registry %s: cannot create folder %s: %m", s->path, dir);
			goto out;
		}
		if (last)
			break;
		*p = '/';
	}
out:
	free(dir);
	return r;
}

/* Opens (creating, 0640) @path for writing, as a check that the registry is
 * writable; never through a symlink, and only a regular file of ours. */
static int touch_file(struct sqlite_registry *s, const char *path, int *ret_fd)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0640);
	struct stat st;
	int r;

	if (fd < 0 && errno == ELOOP)
		return vifmac_set_error(s->ctx, -EACCES, "registry %s: %s is a symbolic link", s->path, path);
	if (fd < 0) {
		int err = errno;

		if (err == EACCES || err == EROFS || err == EPERM)
			return vifmac_set_error(s->ctx, err == EPERM ? -EACCES : -err,
						"registry %s is not writable: cannot open %s: %s", s->path, path,
						strerror(err));
		return vifmac_set_error(s->ctx, -err, "registry %s: cannot open %s: %s", s->path, path,
					strerror(err));
	}
	r = fstat(fd, &st) < 0 ? vifmac_set_error(s->ctx, -errno, "registry %s: cannot stat %s: %m", s->path, path)
				: check_own_file(s, path, &st);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (ret_fd)
		*ret_fd = fd;
	else
		close(fd);
	return 0;
}

/* Runs @sql; its first row's first column as an int into @ret_int and/or as text into @ret_text. */
static int first_column(struct sqlite_registry *s, const char *sql, int *ret_int, char *ret_text, size_t size)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sqlite_fail(s, rc, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (ret_int)
			*ret_int = sqlite3_column_int(st, 0);
		if (ret_text)
			sqlite_col_text(st, 0, ret_text, size);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : sqlite_fail(s, rc, sql);
}

static int pragma_int(struct sqlite_registry *s, const char *sql, int *ret)
{
	return first_column(s, sql, ret, NULL, 0);
}

static int journal_is_wal(struct sqlite_registry *s, const char *sql, bool *ret)
{
	char mode[16] = "";
	int r = first_column(s, sql, NULL, mode, sizeof(mode));

	if (r == 0)
		*ret = strcmp(mode, "wal") == 0;
	return r;
}

static int check_version(struct sqlite_registry *s, int version)
{
	if (version > SCHEMA_VERSION)
		return vifmac_set_error(s->ctx, -EPROTO,
					"registry %s has schema version %d, newer than this vifmac knows (%d): "
					"use the vifmac that wrote it",
					s->path, version, SCHEMA_VERSION);
	return 0;
}

static int exec(struct sqlite_registry *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sqlite_fail(s, rc, what);
}

/* Under the writer lock: WAL mode, then the schema brought up to date in one transaction. */
static int migrate(struct sqlite_registry *s)
{
	int limit = sqlite_timeout_ms(s);
	int version = 0, app_id = 0, n_tables = 0;
	bool wal = false;
	char sql[64];
	int r;

	r = sqlite_gate_lock(s, vifmac_mono_ms(), limit);
	if (r < 0)
		return r;
	sqlite3_busy_timeout(s->db, limit);
	r = journal_is_wal(s, "PRAGMA journal_mode = WAL", &wal);
	if (r < 0)
		goto out;
	if (!wal) {
		r = vifmac_set_error(s->ctx, -EIO, "registry %s: the file system does not allow SQLite's WAL mode",
				     s->path);
		goto out;
	}
	r = exec(s, "BEGIN IMMEDIATE", "begin");
	if (r < 0)
		goto out;
	if ((r = pragma_int(s, "PRAGMA user_version", &version)) < 0 ||
	    (r = pragma_int(s, "PRAGMA application_id", &app_id)) < 0 ||
	    (r = pragma_int(s, "SELECT count(*) FROM sqlite_master", &n_tables)) < 0)
		goto rollback;
	if ((app_id != 0 && app_id != APPLICATION_ID) || (app_id == 0 && version == 0 && n_tables > 0)) {
		r = vifmac_set_error(s->ctx, -EPROTO, "registry %s is a SQLite database of another program", s->path);
		goto rollback;
	}
	r = check_version(s, version);
	if (r < 0)
		goto rollback;
	for (int v = version; v < SCHEMA_VERSION; v++) {
		snprintf(sql, sizeof(sql), "migrate the schema from version %d", v);
		r = exec(s, migrations[v], sql);
		if (r < 0)
			goto rollback;
	}
	if (version < SCHEMA_VERSION) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
		r = exec(s, sql, "set the schema version");
		if (r < 0)
			goto rollback;
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", APPLICATION_ID);
		r = exec(s, sql, "set the application id");
		if (r < 0)
			goto rollback;
	}
	r = exec(s, "COMMIT", "commit the schema");
	if (r == 0)
		goto out;
rollback:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite_gate_unlock(s);
	return r;
}

static void sqlite_free(struct sqlite_registry *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < _ST_MAX; i++)
		sqlite3_finalize(s->stmts[i]);
	sqlite3_close_v2(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->lock_path);
	free(s->path);
	free(s);
}

int sqlite_open(struct vifmac_registry *reg, const char *path)
{
	struct sqlite_registry *s = calloc(1, sizeof(*s));
	int version = 0;
	bool wal = false;
	int r, rc;

	if (!s)
		return -ENOMEM;
	s->ctx = reg->ctx;
	s->lock_fd = -1;
	s->slot = -1;
	s->slot_fd = -1;
	s->path = strdup(path);
	if (!s->path || asprintf(&s->lock_path, "%s.lock", path) < 0) {
		s->lock_path = NULL;
		r = -ENOMEM;
		goto fail;
	}
	r = make_parents(s);
	if (r < 0)
		goto fail;
	r = touch_file(s, s->path, NULL);
	if (r < 0)
		goto fail;
	r = touch_file(s, s->lock_path, &s->lock_fd);
	if (r < 0)
		goto fail;
	r = check_sqlite_side_files(s);
	if (r < 0)
		goto fail;

	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		r = sqlite_fail(s, rc, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, sqlite_timeout_ms(s));
	/*
	 * The last connection's close checkpoints the WAL and deletes it. Not
	 * skipped (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE): every hotplug run is a
	 * process of its own, the first connection of a process rebuilds the
	 * WAL index by reading the whole WAL, and a WAL that is kept grows to
	 * the auto-checkpoint size -- measured, the helper went from 5 to 18 ms
	 * of CPU after 400 vifs (docs/performance.md).
	 */
	r = exec(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", "set up");
	if (r < 0)
		goto fail;
	/* the common case reads only: WAL already on, schema up to date */
	r = pragma_int(s, "PRAGMA user_version", &version);
	if (r < 0)
		goto fail;
	r = check_version(s, version);
	if (r < 0)
		goto fail;
	r = journal_is_wal(s, "PRAGMA journal_mode", &wal);
	if (r < 0)
		goto fail;
	if (version < SCHEMA_VERSION || !wal) {
		r = migrate(s);
		if (r < 0)
			goto fail;
	}
	reg->priv = s;
	return 0;
fail:
	sqlite_free(s);
	return r;
}

sqlite3_stmt *sqlite_stmt(struct sqlite_registry *s, enum stmt_id id)
{
	int rc;

	if (s->stmts[id])
		return s->stmts[id];
	rc = sqlite3_prepare_v3(s->db, sqlite_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[id], NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s->stmts[id]);
		s->stmts[id] = NULL;
		s->prepare_r = sqlite_fail(s, rc, "prepare");
	}
	return s->stmts[id];
}

int sqlite_step_done(struct sqlite_registry *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(s, rc, what);
}

int sqlite_run(struct sqlite_registry *s, enum stmt_id id, const char *what)
{
	sqlite3_stmt *st = sqlite_stmt(s, id);

	return st ? sqlite_step_done(s, st, what) : s->prepare_r;
}

void sqlite_close(struct vifmac_registry *reg)
{
	sqlite_free(reg->priv);
	reg->priv = NULL;
}
