/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the unit tests: temporary files and contexts with a given policy. */
#ifndef VIFMAC_TESTUTIL_H
#define VIFMAC_TESTUTIL_H

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vifmac.h"

/* Writes @text to a new file in a fresh temporary folder; returns its malloc'd path. */
static __attribute__((noinline)) char *tu_write_temp(const char *name, const char *text)
{
	char dir[] = "/tmp/vifmac-test-XXXXXX";
	char *path;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Removes a file written by tu_write_temp() and its folder. */
static __attribute__((noinline)) void tu_remove_temp(char *path)
{
	char *dir = strndup(path, (size_t)(strrchr(path, '/') - path));

	unlink(path);
	rmdir(dir);
	free(dir);
	free(path);
}

/* Silences the library's own logging in tests that provoke errors. */
static inline void tu_quiet_log(void *data, int priority, const char *file, int line, const char *fn,
				const char *format, va_list args)
{
}

/* A context whose policy is @text (NULL: built-in defaults). */
static inline struct vifmac_ctx *tu_ctx_with_policy(const char *text)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();

	assert_non_null(ctx);
	vifmac_ctx_set_log_fn(ctx, tu_quiet_log, NULL);
	if (text) {
		char *path = tu_write_temp("vifmac.conf", text);
		int r = vifmac_ctx_load_policy(ctx, path);

		if (r < 0)
			fail_msg("policy did not load: %s", vifmac_ctx_last_error(ctx));
		tu_remove_temp(path);
	}
	return ctx;
}

/* Loads @text as policy into @ctx and returns the result; the error is in last_error. */
static inline int tu_load_policy_text(struct vifmac_ctx *ctx, const char *text)
{
	char *path = tu_write_temp("vifmac.conf", text);
	int r = vifmac_ctx_load_policy(ctx, path);

	tu_remove_temp(path);
	return r;
}

/* The MAC as a string, in a static buffer (one at a time). */
static inline const char *tu_mac(const struct vifmac_mac *m)
{
	static char buf[VIFMAC_MAC_STRLEN];

	return vifmac_mac_format(m, buf);
}

/* Milliseconds of the monotonic clock. */
static inline int64_t tu_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Another process that takes a write lock (fcntl) on the whole of @path, as
 * a registry writer does on its .lock file, and holds it for @hold_ms (then
 * exits), or until killed when @hold_ms < 0. Returns its pid once the lock
 * is held; reap it with waitpid (tu_kill_holder for one that holds forever).
 */
static inline pid_t tu_hold_lock(const char *path, int hold_ms)
{
	int pipefd[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		struct timespec ts = { hold_ms / 1000, (long)(hold_ms % 1000) * 1000000 };
		int fd = open(path, O_RDWR);

		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		if (hold_ms < 0)
			pause();
		else
			nanosleep(&ts, NULL);
		_exit(0);
	}
	close(pipefd[1]);
	/* EOF instead of "x": the child could not take the lock */
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	return pid;
}

static inline void tu_kill_holder(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

#endif
