/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite backend's writer queue: writers are served in arrival order
 * by a ticket queue of byte-range locks on "<db>.lock", joined before BEGIN
 * IMMEDIATE and left after COMMIT. SQLite's own busy handler sleeps and
 * retries, so a writer that keeps committing can starve another one for
 * seconds; the queue wakes the next one as soon as the previous one is
 * done. The wait is bounded by the policy's registry_timeout_ms. SQLite's
 * own locking still guards the data; the queue only decides who goes next.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vifmac-sqlite.h"

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

void sqlite_gate_unlock(struct sqlite_registry *s)
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

int sqlite_gate_lock(struct sqlite_registry *s, int64_t start, int limit)
{
	int r = gate_lock(s, start + limit);

	if (r == -EBUSY)
		return vifmac_set_error(s->ctx, -EBUSY, "registry busy: %s locked by another writer for %d ms",
					s->path, limit);
	if (r < 0)
		return vifmac_set_error(s->ctx, r, "registry %s: cannot lock %s: %s", s->path, s->lock_path,
					strerror(-r));
	return 0;
}

int sqlite_write_begin(struct sqlite_registry *s)
{
	int limit = sqlite_timeout_ms(s);
	int64_t start = vifmac_mono_ms();
	int64_t left;
	int r;

	r = sqlite_gate_lock(s, start, limit);
	if (r < 0)
		return r;
	/* a writer that does not use the lock (the sqlite3 shell) gets the rest of the time */
	left = limit - (vifmac_mono_ms() - start);
	sqlite3_busy_timeout(s->db, left > 0 ? (int)left : 1);
	r = sqlite_run(s, ST_BEGIN, "begin");
	if (r < 0) {
		sqlite_gate_unlock(s);
		return r;
	}
	return 0;
}

int sqlite_write_end(struct sqlite_registry *s, bool commit)
{
	int r = 0;

	if (commit)
		r = sqlite_run(s, ST_COMMIT, "commit");
	if (!sqlite3_get_autocommit(s->db)) {
		/* not a prepared statement: a rollback must not depend on preparing one */
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	sqlite_gate_unlock(s);
	return r;
}
