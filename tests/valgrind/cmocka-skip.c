/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Preloaded into the cmocka unit tests under valgrind (tests/valgrind/run.sh):
 * skips the tests whose name matches $VIFMAC_CMOCKA_SKIP (cmocka's glob),
 * without changing the tests. valgrind 3.19 does not know that
 * fcntl(F_OFD_SETLKW) blocks, so a test where one process waits for the
 * registry's writer lock held by another hangs the whole process under it
 * (the waiting thread keeps valgrind's big lock). Those tests run everywhere
 * else (make check, the sanitizer build).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

struct CMUnitTest;
typedef void (*fixture_fn)(void **);
void cmocka_set_skip_filter(const char *pattern);
int _cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests, const size_t num_tests,
			    void *group_setup, void *group_teardown);

int _cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests, const size_t num_tests,
			    void *group_setup, void *group_teardown)
{
	int (*next)(const char *, const struct CMUnitTest *const, const size_t, void *, void *) =
		(int (*)(const char *, const struct CMUnitTest *const, const size_t, void *, void *))dlsym(
			RTLD_NEXT, "_cmocka_run_group_tests");
	const char *skip = getenv("VIFMAC_CMOCKA_SKIP");

	if (!next)
		abort();
	if (skip && *skip) {
		fprintf(stderr, "cmocka-skip: not running tests matching \"%s\" under valgrind\n", skip);
		cmocka_set_skip_filter(skip);
	}
	return next(group_name, tests, num_tests, group_setup, group_teardown);
}
