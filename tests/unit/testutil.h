/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the unit tests: temporary files and contexts with a given policy. */
#ifndef VIFMAC_TESTUTIL_H
#define VIFMAC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#endif
