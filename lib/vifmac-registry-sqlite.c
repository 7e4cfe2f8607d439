/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The embedded registry backend: one SQLite file in WAL mode.
 *
 * Writers are serialised by a queue of locks on a side file, "<db>.lock",
 * joined before BEGIN IMMEDIATE and left after COMMIT (see "the writer
 * lock" below). SQLite's own busy handler sleeps and retries, so a writer
 * that keeps committing can starve another one for seconds; the queue
 * serves writers in arrival order and wakes the next one as soon as the
 * previous one is done. The wait is bounded by the policy's
 * registry_timeout_ms. SQLite's own locking still guards the data; the
 * queue only decides who goes next.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "vifmac-registry-internal.h"

#define SCHEMA_VERSION 3
#define APPLICATION_ID 0x76666d63 /* "vfmc" */
#define DEFAULT_TIMEOUT_MS 5000

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

#define COLS "id, mac, scope_key, state, domain, uuid, devid, bridge, ip, host, created, updated, note, source"

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_BY_MAC,
	ST_INSERT,
	ST_UPDATE,
	ST_DELETE_ID,
	ST_DELETE_OWNER_OTHER_MAC,
	ST_IP_DELETE,
	ST_IP_INSERT,
	ST_RELEASE,
	ST_RELEASE_POOL,
	ST_MOVE_POOL,
	ST_TAKEOVER_DELETE,
	ST_UNRESERVE,
	ST_LIST,
	ST_BY_IP,
	ST_BY_DOMAIN,
	_ST_MAX,
};

static const char *const stmt_sql[_ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_BY_MAC] = "SELECT " COLS " FROM records WHERE mac = ?1 ORDER BY scope_key",
	[ST_INSERT] = "INSERT INTO records (mac, scope_key, state, domain, uuid, devid, bridge, ip, host, created,"
		      " updated, note, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_UPDATE] = "UPDATE records SET mac = ?1, scope_key = ?2, state = ?3, domain = ?4, uuid = ?5, devid = ?6,"
		      " bridge = ?7, ip = ?8, host = ?9, created = ?10, updated = ?11, note = ?12, source = ?13"
		      " WHERE id = ?14",
	[ST_DELETE_ID] = "DELETE FROM records WHERE id = ?1",
	[ST_DELETE_OWNER_OTHER_MAC] = "DELETE FROM records WHERE uuid = ?1 AND devid = ?2 AND state = 'active'"
				      " AND mac <> ?3",
	[ST_IP_DELETE] = "DELETE FROM record_ips WHERE record_id = ?1",
	[ST_IP_INSERT] = "INSERT OR IGNORE INTO record_ips (ip, record_id) VALUES (?1, ?2)",
	[ST_RELEASE] = "DELETE FROM records WHERE uuid = ?1 AND state = 'active' AND (?2 < 0 OR devid = ?2)"
		       " AND (?3 IS NULL OR mac = ?3) AND updated <= ?4 AND (?6 IS NULL OR host = ?6)",
	[ST_RELEASE_POOL] = "INSERT OR REPLACE INTO pool_released (mac, pool, uuid, devid, released, domain)"
			    " SELECT mac, substr(source, 6), uuid, devid, ?5, domain FROM records"
			    " WHERE uuid = ?1 AND state = 'active' AND (?2 < 0 OR devid = ?2)"
			    " AND (?3 IS NULL OR mac = ?3) AND updated <= ?4 AND (?6 IS NULL OR host = ?6)"
			    " AND source LIKE 'pool:%'",
	[ST_MOVE_POOL] = "INSERT OR REPLACE INTO pool_released (mac, pool, uuid, devid, released, domain)"
			 " SELECT mac, substr(source, 6), uuid, devid, ?4, domain FROM records"
			 " WHERE uuid = ?1 AND devid = ?2 AND state = 'active' AND mac <> ?3 AND source LIKE 'pool:%'",
	[ST_TAKEOVER_DELETE] = "DELETE FROM records WHERE mac = ?1 AND scope_key = ?2 AND state = 'active'"
			       " AND uuid = ?3 AND devid = ?4 AND host = ?5 AND updated = ?6",
	[ST_UNRESERVE] = "DELETE FROM records WHERE mac = ?1 AND state = 'reserved'",
	[ST_LIST] = "SELECT " COLS " FROM records ORDER BY mac, scope_key",
	[ST_BY_IP] = "SELECT " COLS " FROM records WHERE id IN (SELECT record_id FROM record_ips WHERE ip = ?1)"
		     " ORDER BY mac, scope_key",
	[ST_BY_DOMAIN] = "SELECT " COLS " FROM records WHERE domain = ?1 OR uuid = ?1 ORDER BY mac, scope_key",
};

struct sqlite_registry {
	struct vifmac_ctx *ctx;
	char *path;
	char *lock_path;
	int lock_fd;
	off_t slot;  /* the writer queue slot held, or -1 */
	int slot_fd; /* the descriptor holding it */
	sqlite3 *db;
	sqlite3_stmt *stmts[_ST_MAX];
};

static struct sqlite_registry *priv(struct vifmac_registry *reg)
{
	return reg->priv;
}

static int timeout_ms(const struct sqlite_registry *s)
{
	const struct vifmac_policy *p = s->ctx->policy;

	return p && p->registry_timeout_ms > 0 ? p->registry_timeout_ms : DEFAULT_TIMEOUT_MS;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- errors */

static bool read_only_fs(const char *path)
{
	struct statvfs st;

	return statvfs(path, &st) == 0 && (st.f_flag & ST_RDONLY);
}

/* Maps a SQLite failure to an errno and a one-line error naming the file. */
static int sql_fail(struct sqlite_registry *s, int rc, const char *what)
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
					s->path, timeout_ms(s), what);
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

/* ---------------------------------------------------------------- the writer lock */

/*
 * A ticket queue in byte-range locks on "<db>.lock" (OFD locks: owned by
 * the open file, released by the kernel when a process dies). A writer
 * takes ticket t from the counter at offset 0 (under a short lock of byte
 * 0), locks its own slot byte, then waits until the slot of ticket t - 1 is
 * released: its predecessor finished or died. So writers go in arrival
 * order and a writer that just finished cannot cut in again, which a
 * single lock (SQLite's, or one flock) allows. A writer that gives up
 * breaks the chain for its successor only: that one then waits in
 * SQLite's busy handler; SQLite's own locks still guard the data.
 */
#define LOCK_SLOTS_OFFSET 4096
#define LOCK_SLOTS 65536

static off_t slot_of(uint64_t ticket)
{
	return LOCK_SLOTS_OFFSET + (off_t)(ticket % LOCK_SLOTS);
}

static int range_lock(int fd, int cmd, short type, off_t start)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = 1 };

	return fcntl(fd, cmd, &fl) < 0 ? -errno : 0;
}

static void range_unlock(int fd, off_t start)
{
	(void)range_lock(fd, F_OFD_SETLK, F_UNLCK, start);
}

/*
 * A blocking lock wait has no timeout of its own, so a contended wait
 * runs in a short-lived thread on a file description of its own, and the
 * caller waits for it with a deadline. A thread whose caller gave up stays
 * behind until the lock comes (or the process ends), then lets go at once.
 * Cancelling it instead would work too but defeats AddressSanitizer.
 */
struct range_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fd;
	short type;
	off_t start;
	int r;
	bool done;
	bool abandoned;
};

static void range_wait_free(struct range_wait *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static void *range_waiter(void *arg)
{
	struct range_wait *w = arg;
	int r = range_lock(w->fd, F_OFD_SETLKW, w->type, w->start);
	bool abandoned;

	pthread_mutex_lock(&w->lock);
	w->r = r;
	w->done = true;
	abandoned = w->abandoned;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (abandoned) {
		close(w->fd); /* releases the lock, if granted */
		range_wait_free(w);
	}
	return NULL;
}

/*
 * Locks one byte of @path (open as @fd) by @deadline (CLOCK_MONOTONIC, ms).
 * Returns 0 and, in @ret_fd, the descriptor that holds the lock: @fd, or a
 * new one the caller closes after unlocking; -EBUSY; another -errno.
 */
static int range_lock_until(int fd, const char *path, short type, off_t start, int64_t deadline, int *ret_fd)
{
	struct timespec ts = { .tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000 };
	struct range_wait *w;
	pthread_condattr_t attr;
	sigset_t all, old;
	pthread_t thread;
	bool done;
	int r;

	r = range_lock(fd, F_OFD_SETLK, type, start);
	if (r == 0)
		*ret_fd = fd;
	if (r != -EAGAIN && r != -EACCES)
		return r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->type = type;
	w->start = start;
	w->fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (w->fd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);

	/* the waiting thread must not run the application's signal handlers */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&thread, NULL, range_waiter, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		close(w->fd);
		range_wait_free(w);
		return -r;
	}
	pthread_detach(thread);

	pthread_mutex_lock(&w->lock);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT)
			break;
	done = w->done;
	if (!done)
		w->abandoned = true;
	pthread_mutex_unlock(&w->lock);
	if (!done)
		return -EBUSY; /* the thread frees @w */
	r = w->r;
	if (r == 0)
		*ret_fd = w->fd;
	else
		close(w->fd);
	range_wait_free(w);
	return r;
}

/* Unlocks a byte locked by range_lock_until(), closing its own descriptor. */
static void range_release(struct sqlite_registry *s, int fd, off_t start)
{
	range_unlock(fd, start);
	if (fd != s->lock_fd)
		close(fd);
}

static void gate_unlock(struct sqlite_registry *s)
{
	if (s->slot >= 0)
		range_release(s, s->slot_fd, s->slot);
	s->slot = -1;
	s->slot_fd = -1;
}

/* Takes the writer lock by @deadline (CLOCK_MONOTONIC, ms): 0, -EBUSY, or another -errno. */
static int gate_lock(struct sqlite_registry *s, int64_t deadline)
{
	uint64_t ticket = 0;
	int counter_fd, slot_fd = -1, prev_fd;
	off_t mine, prev;
	ssize_t n;
	int r;

	r = range_lock_until(s->lock_fd, s->lock_path, F_WRLCK, 0, deadline, &counter_fd);
	if (r < 0)
		return r;
	n = pread(s->lock_fd, &ticket, sizeof(ticket), 0);
	if (n != (ssize_t)sizeof(ticket))
		ticket = 0; /* a new (or torn) counter: any start will do */
	mine = slot_of(ticket);
	r = range_lock_until(s->lock_fd, s->lock_path, F_WRLCK, mine, deadline, &slot_fd);
	if (r == 0) {
		uint64_t next = ticket + 1;

		if (pwrite(s->lock_fd, &next, sizeof(next), 0) != (ssize_t)sizeof(next)) {
			r = errno ? -errno : -EIO;
			range_release(s, slot_fd, mine);
		}
	}
	range_release(s, counter_fd, 0);
	if (r < 0)
		return r;
	/* our turn comes when the previous ticket's holder lets go of its slot */
	prev = slot_of(ticket + LOCK_SLOTS - 1);
	r = range_lock_until(s->lock_fd, s->lock_path, F_RDLCK, prev, deadline, &prev_fd);
	if (r < 0) {
		range_release(s, slot_fd, mine);
		return r;
	}
	range_release(s, prev_fd, prev);
	s->slot = mine;
	s->slot_fd = slot_fd;
	return 0;
}

/* Takes the writer lock, then BEGIN IMMEDIATE, both within the registry timeout. */
static int write_begin(struct sqlite_registry *s)
{
	int limit = timeout_ms(s);
	int64_t start = mono_ms();
	int64_t left;
	int r, rc;

	r = gate_lock(s, start + limit);
	if (r == -EBUSY)
		return vifmac_set_error(s->ctx, -EBUSY, "registry busy: %s locked by another writer for %d ms",
					s->path, limit);
	if (r < 0)
		return vifmac_set_error(s->ctx, r, "registry %s: cannot lock %s: %s", s->path, s->lock_path,
					strerror(-r));
	/* a writer that does not use the lock (the sqlite3 shell) gets the rest of the time */
	left = limit - (mono_ms() - start);
	sqlite3_busy_timeout(s->db, left > 0 ? (int)left : 1);
	rc = sqlite3_step(s->stmts[ST_BEGIN]);
	sqlite3_reset(s->stmts[ST_BEGIN]);
	if (rc != SQLITE_DONE) {
		r = sql_fail(s, rc, "begin");
		gate_unlock(s);
		return r;
	}
	return 0;
}

/* Commits (or rolls back) and lets the next writer in. A failed commit leaves nothing behind. */
static int write_end(struct sqlite_registry *s, bool commit)
{
	int r = 0, rc;

	if (commit) {
		rc = sqlite3_step(s->stmts[ST_COMMIT]);
		sqlite3_reset(s->stmts[ST_COMMIT]);
		if (rc != SQLITE_DONE)
			r = sql_fail(s, rc, "commit");
	}
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_step(s->stmts[ST_ROLLBACK]);
		sqlite3_reset(s->stmts[ST_ROLLBACK]);
	}
	gate_unlock(s);
	return r;
}

/* ---------------------------------------------------------------- rows */

static const char *state_name(enum vifmac_record_state state)
{
	return state == VIFMAC_STATE_RESERVED ? "reserved" : "active";
}

static void col_text(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	vifmac_strscpy(buf, t ? (const char *)t : "", size);
}

static int row_read(struct sqlite_registry *s, sqlite3_stmt *st, struct vifmac_record *rec, int64_t *ret_id)
{
	const unsigned char *mac = sqlite3_column_text(st, 1);
	const unsigned char *state = sqlite3_column_text(st, 3);

	vifmac_record_init(rec);
	if (!mac || vifmac_mac_parse((const char *)mac, &rec->mac) < 0 || !state)
		return vifmac_set_error(s->ctx, -EIO, "registry %s is corrupt: record %lld has MAC \"%s\"", s->path,
					(long long)sqlite3_column_int64(st, 0), mac ? (const char *)mac : "");
	col_text(st, 2, rec->scope_key, sizeof(rec->scope_key));
	rec->state = strcmp((const char *)state, "reserved") == 0 ? VIFMAC_STATE_RESERVED : VIFMAC_STATE_ACTIVE;
	col_text(st, 4, rec->domain, sizeof(rec->domain));
	col_text(st, 5, rec->uuid, sizeof(rec->uuid));
	rec->devid = sqlite3_column_int(st, 6);
	col_text(st, 7, rec->bridge, sizeof(rec->bridge));
	col_text(st, 8, rec->ip, sizeof(rec->ip));
	col_text(st, 9, rec->host, sizeof(rec->host));
	rec->created = sqlite3_column_int64(st, 10);
	rec->updated = sqlite3_column_int64(st, 11);
	col_text(st, 12, rec->note, sizeof(rec->note));
	col_text(st, 13, rec->source, sizeof(rec->source));
	if (ret_id)
		*ret_id = sqlite3_column_int64(st, 0);
	return 0;
}

/* Binds ?1..?13 of ST_INSERT / ST_UPDATE. */
static void bind_record(sqlite3_stmt *st, const struct vifmac_record *rec, const char *mac, int64_t created)
{
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rec->scope_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, state_name(rec->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rec->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rec->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, rec->devid);
	sqlite3_bind_text(st, 7, rec->bridge, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, rec->ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, rec->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, created);
	sqlite3_bind_int64(st, 11, rec->updated);
	sqlite3_bind_text(st, 12, rec->note, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, rec->source, -1, SQLITE_STATIC);
}

/* Runs a statement that returns no rows, then resets it. */
static int step_done(struct sqlite_registry *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : sql_fail(s, rc, what);
}

struct ip_insert {
	struct sqlite_registry *s;
	int64_t id;
};

static int ip_insert(void *data, const char *ip)
{
	struct ip_insert *x = data;
	sqlite3_stmt *st = x->s->stmts[ST_IP_INSERT];

	sqlite3_bind_text(st, 1, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, x->id);
	return step_done(x->s, st, "index addresses");
}

#define MAX_SAME_OWNER 16

/*
 * One record, inside the write transaction. Returns 0, -EEXIST with
 * @holder filled, or another negative errno.
 */
static int write_one(struct sqlite_registry *s, const struct vifmac_record *rec, enum vifmac_write_mode mode,
		     struct vifmac_record *holder)
{
	sqlite3_stmt *st = s->stmts[ST_BY_MAC];
	char mac[VIFMAC_MAC_STRLEN];
	int64_t mine = 0, mine_created = 0, extra[MAX_SAME_OWNER];
	size_t n_extra = 0;
	bool conflict = false;
	struct ip_insert x = { .s = s };
	int r = 0, rc;

	vifmac_mac_format(&rec->mac, mac);
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vifmac_record row;
		int64_t id;

		r = row_read(s, st, &row, &id);
		if (r < 0)
			break;
		if (!vifmac_scopes_overlap(row.scope_key, rec->scope_key))
			continue;
		/* a second reservation of a reserved MAC is a conflict; importing it again is not */
		if (!vifmac_records_same_owner(rec, &row) ||
		    (mode == VIFMAC_WRITE_CLAIM && rec->state == VIFMAC_STATE_RESERVED)) {
			*holder = row;
			conflict = true;
			break;
		}
		if (!mine) {
			mine = id;
			mine_created = row.created;
		} else if (n_extra < MAX_SAME_OWNER) {
			extra[n_extra++] = id;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r < 0)
		return r;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sql_fail(s, rc, "look up the MAC");
	if (conflict)
		return -EEXIST;

	/* a vif holds one MAC: its claim on another MAC (an older IP, say) is moved */
	if (rec->state == VIFMAC_STATE_ACTIVE) {
		st = s->stmts[ST_MOVE_POOL];
		sqlite3_bind_text(st, 1, rec->uuid, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, rec->devid);
		sqlite3_bind_text(st, 3, mac, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, rec->updated);
		r = step_done(s, st, "remember the vif's pool address");
		if (r < 0)
			return r;
		st = s->stmts[ST_DELETE_OWNER_OTHER_MAC];
		sqlite3_bind_text(st, 1, rec->uuid, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, rec->devid);
		sqlite3_bind_text(st, 3, mac, -1, SQLITE_STATIC);
		r = step_done(s, st, "move the vif's claim");
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_extra; i++) {
		sqlite3_bind_int64(s->stmts[ST_DELETE_ID], 1, extra[i]);
		r = step_done(s, s->stmts[ST_DELETE_ID], "merge the owner's records");
		if (r < 0)
			return r;
	}
	if (mine) {
		st = s->stmts[ST_UPDATE];
		bind_record(st, rec, mac, mode == VIFMAC_WRITE_CLAIM ? mine_created : rec->created);
		sqlite3_bind_int64(st, 14, mine);
		r = step_done(s, st, "update the record");
		if (r < 0)
			return r;
		sqlite3_bind_int64(s->stmts[ST_IP_DELETE], 1, mine);
		r = step_done(s, s->stmts[ST_IP_DELETE], "index addresses");
		if (r < 0)
			return r;
		x.id = mine;
	} else {
		st = s->stmts[ST_INSERT];
		bind_record(st, rec, mac, rec->created);
		r = step_done(s, st, "insert the record");
		if (r < 0)
			return r;
		x.id = sqlite3_last_insert_rowid(s->db);
	}
	return vifmac_registry_ip_tokens(rec->ip, ip_insert, &x);
}

static int sqlite_write(struct vifmac_registry *reg, const struct vifmac_record *recs, size_t n,
			enum vifmac_write_mode mode, vifmac_conflict_fn conflict_fn, void *data,
			struct vifmac_record *ret_holder)
{
	struct sqlite_registry *s = priv(reg);
	struct vifmac_record holder;
	size_t conflicts = 0;
	int r;

	r = write_begin(s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = write_one(s, &recs[i], mode, &holder);
		if (r == -EEXIST) {
			conflicts++;
			if (!conflict_fn)
				break;
			if (conflict_fn(data, &recs[i], &holder) != 0)
				break;
			r = 0;
			continue;
		}
		if (r < 0)
			break;
	}
	if (r < 0 || conflicts > 0) {
		write_end(s, false);
		if (r == -EEXIST || (r == 0 && conflicts > 0)) {
			if (ret_holder && !conflict_fn)
				*ret_holder = holder;
			return vifmac_registry_conflict_error(s->ctx, &holder);
		}
		return r;
	}
	r = write_end(s, true);
	return r < 0 ? r : (int)n;
}

static int sqlite_takeover(struct vifmac_registry *reg, const struct vifmac_record *stale,
			   const struct vifmac_record *rec, struct vifmac_record *ret_holder)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st = s->stmts[ST_TAKEOVER_DELETE];
	struct vifmac_record holder;
	char mac[VIFMAC_MAC_STRLEN];
	int r;

	r = write_begin(s);
	if (r < 0)
		return r;
	/* the stale claim goes only if it is still exactly the one judged stale */
	sqlite3_bind_text(st, 1, vifmac_mac_format(&stale->mac, mac), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, stale->scope_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, stale->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, stale->devid);
	sqlite3_bind_text(st, 5, stale->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, stale->updated);
	r = step_done(s, st, "take over the stale claim");
	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ESTALE;
	if (r == 0)
		r = write_one(s, rec, VIFMAC_WRITE_CLAIM, &holder);
	if (r < 0) {
		write_end(s, false);
		if (r == -EEXIST) {
			if (ret_holder)
				*ret_holder = holder;
			return vifmac_registry_conflict_error(s->ctx, &holder);
		}
		return r;
	}
	return write_end(s, true);
}

static int sqlite_release(struct vifmac_registry *reg, const struct vifmac_mac *mac, const char *uuid, int devid,
			  int64_t updated_max, const char *host)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st = s->stmts[ST_RELEASE];
	char buf[VIFMAC_MAC_STRLEN];
	int r, n;

	r = write_begin(s);
	if (r < 0)
		return r;
	/* pool addresses go into quarantine, remembering their last owner */
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *q = i == 0 ? s->stmts[ST_RELEASE_POOL] : st;

		sqlite3_bind_text(q, 1, uuid, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, devid);
		if (mac)
			sqlite3_bind_text(q, 3, vifmac_mac_format(mac, buf), -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(q, 3);
		sqlite3_bind_int64(q, 4, updated_max);
		if (host)
			sqlite3_bind_text(q, 6, host, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(q, 6);
		if (i == 0)
			sqlite3_bind_int64(q, 5, vifmac_now(s->ctx));
		r = step_done(s, q, i == 0 ? "quarantine pool addresses" : "release");
		if (r < 0)
			break;
	}
	n = sqlite3_changes(s->db);
	r = write_end(s, r == 0) ?: r;
	return r < 0 ? r : n;
}

static int sqlite_unreserve(struct vifmac_registry *reg, const struct vifmac_mac *mac)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st = s->stmts[ST_UNRESERVE];
	char buf[VIFMAC_MAC_STRLEN];
	int r, n;

	r = write_begin(s);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, vifmac_mac_format(mac, buf), -1, SQLITE_STATIC);
	r = step_done(s, st, "unreserve");
	n = sqlite3_changes(s->db);
	r = write_end(s, r == 0) ?: r;
	return r < 0 ? r : (n > 0 ? 1 : 0);
}

/* ---------------------------------------------------------------- reads */

/*
 * Runs a bound query, calling @fn per row. The statement is one read
 * transaction (a snapshot); @fn must not write to the registry.
 */
static int query(struct sqlite_registry *s, sqlite3_stmt *st, vifmac_record_fn fn, void *data)
{
	int r = 0, rc;

	sqlite3_busy_timeout(s->db, timeout_ms(s));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vifmac_record rec;

		r = row_read(s, st, &rec, NULL);
		if (r < 0)
			break;
		r = fn(data, &rec);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = sql_fail(s, rc, "read");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int sqlite_list(struct vifmac_registry *reg, vifmac_record_fn fn, void *data)
{
	return query(priv(reg), priv(reg)->stmts[ST_LIST], fn, data);
}

static int sqlite_lookup_mac(struct vifmac_registry *reg, const struct vifmac_mac *mac, vifmac_record_fn fn,
			     void *data)
{
	struct sqlite_registry *s = priv(reg);
	char buf[VIFMAC_MAC_STRLEN];

	sqlite3_bind_text(s->stmts[ST_BY_MAC], 1, vifmac_mac_format(mac, buf), -1, SQLITE_STATIC);
	return query(s, s->stmts[ST_BY_MAC], fn, data);
}

static int sqlite_lookup_ip(struct vifmac_registry *reg, const char *ip, vifmac_record_fn fn, void *data)
{
	struct sqlite_registry *s = priv(reg);

	sqlite3_bind_text(s->stmts[ST_BY_IP], 1, ip, -1, SQLITE_STATIC);
	return query(s, s->stmts[ST_BY_IP], fn, data);
}

static int sqlite_lookup_domain(struct vifmac_registry *reg, const char *domain, vifmac_record_fn fn, void *data)
{
	struct sqlite_registry *s = priv(reg);

	sqlite3_bind_text(s->stmts[ST_BY_DOMAIN], 1, domain, -1, SQLITE_STATIC);
	return query(s, s->stmts[ST_BY_DOMAIN], fn, data);
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
		return sql_fail(s, rc, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (ret_int)
			*ret_int = sqlite3_column_int(st, 0);
		if (ret_text)
			col_text(st, 0, ret_text, size);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : sql_fail(s, rc, sql);
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

	return rc == SQLITE_OK ? 0 : sql_fail(s, rc, what);
}

/* Under the writer lock: WAL mode, then the schema brought up to date in one transaction. */
static int migrate(struct sqlite_registry *s)
{
	int limit = timeout_ms(s);
	int version = 0, app_id = 0, n_tables = 0;
	bool wal = false;
	char sql[64];
	int r;

	r = gate_lock(s, mono_ms() + limit);
	if (r == -EBUSY)
		return vifmac_set_error(s->ctx, -EBUSY, "registry busy: %s locked by another writer for %d ms",
					s->path, limit);
	if (r < 0)
		return vifmac_set_error(s->ctx, r, "registry %s: cannot lock %s: %s", s->path, s->lock_path,
					strerror(-r));
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
	gate_unlock(s);
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

static int sqlite_open(struct vifmac_registry *reg, const char *path)
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
		r = sql_fail(s, rc, "open");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, timeout_ms(s));
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
	for (size_t i = 0; i < _ST_MAX; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[i], NULL);
		if (rc != SQLITE_OK) {
			r = sql_fail(s, rc, "prepare");
			goto fail;
		}
	}
	reg->priv = s;
	return 0;
fail:
	sqlite_free(s);
	return r;
}

static void sqlite_close(struct vifmac_registry *reg)
{
	sqlite_free(priv(reg));
	reg->priv = NULL;
}

/* ---------------------------------------------------------------- pools */


/* Prepares @sql; the caller finalizes. */
static int prep(struct sqlite_registry *s, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);

	return rc == SQLITE_OK ? 0 : sql_fail(s, rc, "prepare a pool query");
}

/* Runs a one-shot statement returning no rows. */
static int exec_bound(struct sqlite_registry *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sql_fail(s, rc, what);
}

/* A single text column of the first row into @buf: 1, 0 for no row, or -errno. */
static int first_text(struct sqlite_registry *s, sqlite3_stmt *st, char *buf, size_t size)
{
	int rc = sqlite3_step(st), r;

	if (rc == SQLITE_ROW) {
		col_text(st, 0, buf, size);
		r = 1;
	} else {
		r = rc == SQLITE_DONE ? 0 : sql_fail(s, rc, "read a pool");
	}
	sqlite3_finalize(st);
	return r;
}

/* Whether any record (any scope, claim or reservation) holds @mac: 1, 0 or -errno. */
static int mac_held(struct sqlite_registry *s, const char *mac)
{
	sqlite3_stmt *st;
	char buf[8];
	int r = prep(s, "SELECT 1 FROM records WHERE mac = ?1 LIMIT 1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	return first_text(s, st, buf, sizeof(buf));
}

/* The first MAC in @src that another pool holds, with that pool's name: -EEXIST, or 0. */
static int pool_overlap(struct sqlite_registry *s, const char *name, const struct vifmac_pool_source *src)
{
	sqlite3_stmt *st;
	char other[64], mac[VIFMAC_MAC_STRLEN], lo[VIFMAC_MAC_STRLEN], hi[VIFMAC_MAC_STRLEN];
	int r;

	if (src->kind == VIFMAC_POOL_RANGE) {
		vifmac_mac_format(&src->start, lo);
		vifmac_mac_format(&src->end, hi);
		r = prep(s, "SELECT name || ' ' || max(range_start, ?1) FROM pools WHERE kind = 'range' AND name <> ?3"
			    " AND range_start <= ?2 AND range_end >= ?1"
			    " UNION ALL SELECT pool || ' ' || mac FROM pool_entries"
			    " WHERE mac BETWEEN ?1 AND ?2 AND pool <> ?3 LIMIT 1", &st);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		r = first_text(s, st, other, sizeof(other));
		if (r <= 0)
			return r;
		goto overlap;
	}
	for (size_t i = 0; i < src->n; i++) {
		vifmac_mac_format(&src->entries[i].mac, mac);
		r = prep(s, "SELECT name || ' ' || ?1 FROM pools WHERE kind = 'range' AND name <> ?2"
			    " AND range_start <= ?1 AND range_end >= ?1"
			    " UNION ALL SELECT pool || ' ' || mac FROM pool_entries WHERE mac = ?1 AND pool <> ?2 LIMIT 1",
			 &st);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		r = first_text(s, st, other, sizeof(other));
		if (r < 0)
			return r;
		if (r > 0)
			goto overlap;
	}
	return 0;
overlap: {
	char *sp = strchr(other, ' ');

	if (sp)
		*sp++ = '\0';
	return vifmac_set_error(s->ctx, -EEXIST, "%s overlaps pool %s: both hold %s", src->path, other,
				sp ? sp : "?");
}
}

static int sqlite_pool_import(struct vifmac_registry *reg, const char *name, const struct vifmac_pool_source *src,
			      int64_t now)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st;
	char lo[VIFMAC_MAC_STRLEN], hi[VIFMAC_MAC_STRLEN], ip[VIFMAC_IPV4_STRLEN], mac[VIFMAC_MAC_STRLEN];
	int r;

	r = write_begin(s);
	if (r < 0)
		return r;
	r = pool_overlap(s, name, src);
	if (r < 0)
		goto out;
	r = prep(s, "DELETE FROM pool_entries WHERE pool = ?1", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = exec_bound(s, st, "replace the pool");
	if (r < 0)
		goto out;
	/* a range imported again keeps its high-water mark when its bounds are unchanged */
	r = prep(s, "INSERT INTO pools (name, kind, origin, imported, size, range_start, range_end, next)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6) ON CONFLICT (name) DO UPDATE SET kind = ?2, origin = ?3,"
		    " imported = ?4, size = ?5, next = CASE WHEN range_start IS ?6 AND range_end IS ?7 THEN next"
		    " ELSE ?6 END, range_start = ?6, range_end = ?7", &st);
	if (r < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vifmac_pool_kind_name(src->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, src->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)src->size);
	if (src->kind == VIFMAC_POOL_RANGE) {
		sqlite3_bind_text(st, 6, vifmac_mac_format(&src->start, lo), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, vifmac_mac_format(&src->end, hi), -1, SQLITE_STATIC);
	}
	r = exec_bound(s, st, "record the pool");
	if (r < 0)
		goto out;
	for (size_t i = 0; i < src->n; i++) {
		r = prep(s, "INSERT INTO pool_entries (pool, mac, ip, note) VALUES (?1, ?2, ?3, ?4)", &st);
		if (r < 0)
			goto out;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, vifmac_mac_format(&src->entries[i].mac, mac), -1, SQLITE_STATIC);
		if (src->kind == VIFMAC_POOL_TABLE)
			sqlite3_bind_text(st, 3, vifmac_ipv4_format(&src->entries[i].ip, ip), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, src->entries[i].note, -1, SQLITE_STATIC);
		r = exec_bound(s, st, "record the pool's addresses");
		if (r < 0)
			goto out;
	}
out:
	r = write_end(s, r == 0) ?: r;
	return r;
}

static int sqlite_pool_remove(struct vifmac_registry *reg, const char *name)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st;
	int r, n = 0;

	r = write_begin(s);
	if (r < 0)
		return r;
	r = prep(s, "DELETE FROM pools WHERE name = ?1", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		r = exec_bound(s, st, "remove the pool");
		n = sqlite3_changes(s->db);
	}
	r = write_end(s, r == 0) ?: r;
	return r < 0 ? r : (n > 0);
}

static int sqlite_pool_list(struct vifmac_registry *reg, const char *name, int64_t now, int64_t quarantine,
			    vifmac_pool_fn fn, void *data)
{
	struct sqlite_registry *s = priv(reg);
	sqlite3_stmt *st;
	int r, rc, found = 0;

	r = prep(s, "SELECT p.name, p.kind, p.origin, p.imported, p.size,"
		    " (SELECT count(*) FROM records r WHERE r.source = 'pool:' || p.name AND r.state = 'active'),"
		    " (SELECT count(*) FROM pool_released q WHERE q.pool = p.name AND q.released > ?2"
		    "  AND NOT EXISTS (SELECT 1 FROM records r WHERE r.mac = q.mac)),"
		    " CASE p.kind WHEN 'range' THEN (SELECT count(*) FROM records r WHERE r.state = 'reserved'"
		    "  AND r.mac BETWEEN p.range_start AND p.range_end)"
		    " ELSE (SELECT count(*) FROM records r JOIN pool_entries e ON e.mac = r.mac"
		    "  WHERE e.pool = p.name AND r.state = 'reserved') END"
		    " FROM pools p WHERE ?1 IS NULL OR p.name = ?1 ORDER BY p.name", &st);
	if (r < 0)
		return r;
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now - quarantine);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vifmac_pool_info info = { 0 };
		char kind[16];

		col_text(st, 0, info.name, sizeof(info.name));
		col_text(st, 1, kind, sizeof(kind));
		info.kind = strcmp(kind, "range") == 0 ? VIFMAC_POOL_RANGE :
			    strcmp(kind, "recycled") == 0 ? VIFMAC_POOL_RECYCLED :
							     VIFMAC_POOL_TABLE;
		col_text(st, 2, info.origin, sizeof(info.origin));
		info.imported = sqlite3_column_int64(st, 3);
		info.size = (uint64_t)sqlite3_column_int64(st, 4);
		info.used = (uint64_t)sqlite3_column_int64(st, 5);
		info.quarantined = (uint64_t)sqlite3_column_int64(st, 6);
		info.reserved = (uint64_t)sqlite3_column_int64(st, 7);
		found++;
		r = fn ? fn(data, &info) : 0;
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = sql_fail(s, rc, "list pools");
	sqlite3_finalize(st);
	if (!r && name && !found)
		return vifmac_set_error(s->ctx, -ENOENT, "no pool \"%s\" in registry %s (vifmac pool list)", name,
					s->path);
	return r;
}

/* What allocation knows of one pool. */
struct pool_row {
	char name[64];
	char kind[16];
	uint64_t size;
	char start[VIFMAC_MAC_STRLEN], end[VIFMAC_MAC_STRLEN], next[VIFMAC_MAC_STRLEN];
};

static int pool_row_read(struct sqlite_registry *s, const char *name, struct pool_row *row)
{
	sqlite3_stmt *st;
	int r = prep(s, "SELECT kind, size, range_start, range_end, next FROM pools WHERE name = ?1", &st), rc;

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(row, 0, sizeof(*row));
		vifmac_strscpy(row->name, name, sizeof(row->name));
		col_text(st, 0, row->kind, sizeof(row->kind));
		row->size = (uint64_t)sqlite3_column_int64(st, 1);
		col_text(st, 2, row->start, sizeof(row->start));
		col_text(st, 3, row->end, sizeof(row->end));
		col_text(st, 4, row->next, sizeof(row->next));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return vifmac_set_error(s->ctx, -ENOENT, "the policy names pool \"%s\", which registry %s does not have"
					" (vifmac pool import %s FILE)", name, s->path, name);
	return sql_fail(s, rc, "read a pool");
}

/* Claims @mac for @owner from pool @pool inside the open transaction. */
static int pool_claim(struct sqlite_registry *s, const struct vifmac_record *owner, const char *pool, const char *mac,
		      struct vifmac_record *ret_rec, struct vifmac_record *ret_holder)
{
	struct vifmac_record rec = *owner;
	sqlite3_stmt *st;
	int r;

	if (vifmac_mac_parse(mac, &rec.mac) < 0)
		return vifmac_set_error(s->ctx, -EIO, "registry %s is corrupt: pool %s holds \"%s\"", s->path, pool, mac);
	snprintf(rec.source, sizeof(rec.source), "pool:%s", pool);
	r = write_one(s, &rec, VIFMAC_WRITE_CLAIM, ret_holder);
	if (r < 0)
		return r;
	r = prep(s, "DELETE FROM pool_released WHERE mac = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	r = exec_bound(s, st, "take the address out of quarantine");
	if (r < 0)
		return r;
	*ret_rec = rec;
	return 0;
}

/* The lowest free address of a range: released ones past quarantine first, then the high-water mark. */
static int range_next(struct sqlite_registry *s, const struct pool_row *p, int64_t free_before, char *ret_mac,
		      bool *ret_from_hwm)
{
	sqlite3_stmt *st;
	struct vifmac_mac m;
	uint64_t cur, end;
	int r = prep(s, "SELECT q.mac FROM pool_released q WHERE q.pool = ?1 AND q.released <= ?2"
			" AND NOT EXISTS (SELECT 1 FROM records r WHERE r.mac = q.mac) ORDER BY q.mac LIMIT 1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, free_before);
	r = first_text(s, st, ret_mac, VIFMAC_MAC_STRLEN);
	if (r != 0) {
		*ret_from_hwm = false;
		return r;
	}
	if (vifmac_mac_parse(p->next, &m) < 0 || vifmac_mac_parse(p->end, &m) < 0)
		return vifmac_set_error(s->ctx, -EIO, "registry %s is corrupt: pool %s has no range", s->path, p->name);
	vifmac_mac_parse(p->next, &m);
	cur = vifmac_mac_to_u64(&m);
	vifmac_mac_parse(p->end, &m);
	end = vifmac_mac_to_u64(&m);
	for (; cur <= end; cur++) {
		/* held by a reservation, or claimed outside the pool: skip it for good */
		vifmac_mac_from_u64(cur, &m);
		vifmac_mac_format(&m, ret_mac);
		r = mac_held(s, ret_mac);
		if (r < 0)
			return r;
		if (r == 0) {
			*ret_from_hwm = true;
			return 1;
		}
	}
	return 0;
}

static int recycled_next(struct sqlite_registry *s, const struct pool_row *p, int64_t free_before, char *ret_mac)
{
	sqlite3_stmt *st;
	int r = prep(s, "SELECT e.mac FROM pool_entries e WHERE e.pool = ?1"
			" AND NOT EXISTS (SELECT 1 FROM records r WHERE r.mac = e.mac)"
			" AND NOT EXISTS (SELECT 1 FROM pool_released q WHERE q.mac = e.mac AND q.released > ?2)"
			" ORDER BY e.mac LIMIT 1", &st);

	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, free_before);
	return first_text(s, st, ret_mac, VIFMAC_MAC_STRLEN);
}

static int set_next(struct sqlite_registry *s, const struct pool_row *p, const char *mac)
{
	sqlite3_stmt *st;
	struct vifmac_mac m;
	char next[VIFMAC_MAC_STRLEN];
	int r;

	vifmac_mac_parse(mac, &m);
	vifmac_mac_from_u64(vifmac_mac_to_u64(&m) + 1, &m);
	r = prep(s, "UPDATE pools SET next = ?2 WHERE name = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, vifmac_mac_format(&m, next), -1, SQLITE_STATIC);
	return exec_bound(s, st, "move the pool's high-water mark");
}

static int allocate_in(struct sqlite_registry *s, const char *const *pools, size_t n,
		       const struct vifmac_record *owner, const struct vifmac_ipv4 *ip, int64_t now, int64_t quarantine,
		       struct vifmac_record *ret_rec, struct vifmac_record *ret_holder)
{
	struct pool_row rows[16];
	char mac[VIFMAC_MAC_STRLEN], pool[64], summary[512] = "";
	size_t used = 0;
	int r;

	if (n == 0 || n > 16)
		return vifmac_set_error(s->ctx, -EINVAL, "between 1 and 16 pools per bridge");
	for (size_t i = 0; i < n; i++) {
		r = pool_row_read(s, pools[i], &rows[i]);
		if (r < 0)
			return r;
	}
	/*
	 * sticky: what this vif holds from these pools, or held last (its own,
	 * quarantine or not), or what a vif of the same devid of a domain of
	 * the same name held last: `xl create` of a config without uuid= gives
	 * the domain a new UUID each time, and it is still the same guest.
	 * (Names are unique among a host's domains, and a pool registry is
	 * one host's.)
	 */
	static const char *const sticky[] = {
		"SELECT mac FROM records WHERE uuid = ?1 AND devid = ?2 AND state = 'active'"
		" AND source = 'pool:' || ?3 LIMIT 1",
		"SELECT mac FROM pool_released WHERE uuid = ?1 AND devid = ?2 AND pool = ?3"
		" ORDER BY released DESC LIMIT 1",
		"SELECT mac FROM pool_released WHERE domain = ?1 AND devid = ?2 AND pool = ?3"
		" ORDER BY released DESC LIMIT 1",
	};
	for (size_t pass = 0; pass < ARRAY_SIZE(sticky); pass++) {
		const char *key = pass < 2 ? owner->uuid : owner->domain;

		if (!key[0] || (pass == 2 && strcmp(key, "-") == 0))
			continue;
		for (size_t i = 0; i < n; i++) {
			sqlite3_stmt *st;

			r = prep(s, sticky[pass], &st);
			if (r < 0)
				return r;
			sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 2, owner->devid);
			sqlite3_bind_text(st, 3, pools[i], -1, SQLITE_STATIC);
			r = first_text(s, st, mac, sizeof(mac));
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			r = pool_claim(s, owner, pools[i], mac, ret_rec, ret_holder);
			if (r != -EEXIST)
				return r; /* 0, or a failure */
			/* taken meanwhile by someone else (released, then reserved...): allocate anew */
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct pool_row *p = &rows[i];
		bool from_hwm = false;

		vifmac_strscpy(pool, p->name, sizeof(pool));
		if (strcmp(p->kind, "table") == 0) {
			sqlite3_stmt *st;
			char ipbuf[VIFMAC_IPV4_STRLEN];

			if (!ip)
				continue;
			r = prep(s, "SELECT mac FROM pool_entries WHERE pool = ?1 AND ip = ?2", &st);
			if (r < 0)
				return r;
			sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, vifmac_ipv4_format(ip, ipbuf), -1, SQLITE_STATIC);
			r = first_text(s, st, mac, sizeof(mac));
			if (r < 0)
				return r;
			if (r == 0)
				continue;
			/* the operator's table says which MAC: held by another owner is a conflict */
			return pool_claim(s, owner, pool, mac, ret_rec, ret_holder);
		}
		r = strcmp(p->kind, "range") == 0 ? range_next(s, p, now - quarantine, mac, &from_hwm) :
						    recycled_next(s, p, now - quarantine, mac);
		if (r < 0)
			return r;
		if (r > 0) {
			r = pool_claim(s, owner, pool, mac, ret_rec, ret_holder);
			if (r == 0 && from_hwm)
				r = set_next(s, p, mac);
			return r;
		}
		used += (size_t)snprintf(summary + used, used < sizeof(summary) ? sizeof(summary) - used : 0,
					 "%s%s (%s, %llu addresses)", used ? ", " : "", p->name, p->kind,
					 (unsigned long long)p->size);
		if (used >= sizeof(summary))
			used = sizeof(summary) - 1;
	}
	if (!summary[0])
		return vifmac_set_error(s->ctx, -ENOENT, "no table of pools %s%s has an entry for this vif's address",
					pools[0], n > 1 ? ",..." : "");
	return vifmac_set_error(s->ctx, -ENOSPC,
				"pool exhausted: %s: every address is in use, reserved or in quarantine (pool_quarantine)",
				summary);
}

static int sqlite_pool_allocate(struct vifmac_registry *reg, const char *const *pools, size_t n,
				const struct vifmac_record *owner, const struct vifmac_ipv4 *ip, int64_t now,
				int64_t quarantine, struct vifmac_record *ret_rec, struct vifmac_record *ret_holder)
{
	struct sqlite_registry *s = priv(reg);
	struct vifmac_record rec, holder;
	int r = write_begin(s);

	if (r < 0)
		return r;
	memset(&holder, 0, sizeof(holder));
	r = allocate_in(s, pools, n, owner, ip, now, quarantine, &rec, &holder);
	r = write_end(s, r == 0) ?: r;
	if (r == -EEXIST && ret_holder)
		*ret_holder = holder;
	if (r == 0)
		*ret_rec = rec;
	return r;
}

const struct vifmac_registry_backend vifmac_registry_backend_sqlite = {
	.scheme = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.write = sqlite_write,
	.release = sqlite_release,
	.takeover = sqlite_takeover,
	.unreserve = sqlite_unreserve,
	.list = sqlite_list,
	.lookup_mac = sqlite_lookup_mac,
	.lookup_ip = sqlite_lookup_ip,
	.lookup_domain = sqlite_lookup_domain,
	.pool_import = sqlite_pool_import,
	.pool_remove = sqlite_pool_remove,
	.pool_list = sqlite_pool_list,
	.pool_allocate = sqlite_pool_allocate,
};
