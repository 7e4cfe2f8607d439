/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tests' one model of xenstore (tests/fake/xsmodel.c): the rules of
 * xenstored that the unit seam, the fuzz seam and the LD_PRELOAD fake all
 * rely on — owners, implicit parents, inherited owners, removal, sorted
 * directories, transactions that see their own changes and commit all or
 * nothing, the EAGAIN budget, the domain list.
 */
#include <errno.h>

#include "testutil.h"
#include "xsmodel.h"

#define FE "/local/domain/5/device/vif/0"
#define BE "/local/domain/0/backend/vif/5/0"

static void set(struct xsm *m, const char *path, const char *value, unsigned owner)
{
	assert_int_equal(xsm_set(m, path, value, (unsigned)strlen(value), owner), 0);
}

static unsigned owner_of(const struct xsm *m, const char *path)
{
	unsigned o = 12345;

	assert_int_equal(xsm_owner(m, path, &o), 0);
	return o;
}

static char *read_ok(const struct xsm *m, const char *path)
{
	char *v = NULL;

	assert_int_equal(xsm_read(m, path, &v, NULL), 0);
	return v;
}

static void test_parents_exist_with_the_nearest_listed_owner(void **state)
{
	struct xsm m = { 0 };
	char *v = (char *)"untouched";
	unsigned o = 777;

	set(&m, "/local/domain/5", "", 5);
	set(&m, FE "/mac", "00:16:3e:00:00:01", 5);
	/* an unlisted parent exists, empty, with its nearest listed ancestor's owner */
	assert_true(xsm_exists(&m, FE));
	v = read_ok(&m, FE);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(owner_of(&m, FE), 5);
	assert_int_equal(owner_of(&m, "/local/domain"), 0); /* nothing listed above: dom0 */
	/* a prefix that is not a path component is no parent */
	assert_false(xsm_exists(&m, FE "/ma"));
	v = (char *)"untouched";
	assert_int_equal(xsm_read(&m, FE "/ma", &v, NULL), -ENOENT);
	assert_string_equal(v, "untouched");
	assert_int_equal(xsm_owner(&m, "/nowhere", &o), -ENOENT);
	assert_int_equal(o, 777);
	assert_true(xsm_exists(&m, "/"));
	xsm_free(&m);
}

static void test_dom0_writes_make_parents_and_inherit_owners(void **state)
{
	struct xsm m = { 0 };
	char *v;

	set(&m, "/local/domain/5", "", 5);
	set(&m, FE "/mac", "00:16:3e:00:00:01", 5);
	/* a new node under the guest's tree stays the guest's */
	assert_int_equal(xsm_write(&m, FE "/new/deep", "x", 1), 0);
	assert_int_equal(owner_of(&m, FE "/new/deep"), 5);
	assert_non_null(xsm_find(&m, FE "/new")); /* the parents were made, listed */
	/* rewriting keeps the owner (only permissions change it) */
	assert_int_equal(xsm_write(&m, FE "/mac", "02:00:00:00:00:01", 17), 0);
	assert_int_equal(owner_of(&m, FE "/mac"), 5);
	v = read_ok(&m, FE "/mac");
	assert_string_equal(v, "02:00:00:00:00:01");
	free(v);
	/* a value's bytes are kept as given (the length, not the first NUL) */
	assert_int_equal(xsm_write(&m, BE "/bin", "a\0b", 3), 0);
	{
		unsigned len = 0;

		assert_int_equal(xsm_read(&m, BE "/bin", &v, &len), 0);
		assert_int_equal(len, 3);
		assert_memory_equal(v, "a\0b", 3);
		free(v);
	}
	/* mkdir leaves a value alone */
	assert_int_equal(xsm_mkdir(&m, FE "/mac"), 0);
	assert_string_equal(xsm_find(&m, FE "/mac")->value, "02:00:00:00:00:01");
	/* chown, also of a node that only existed as a parent */
	assert_int_equal(xsm_chown(&m, FE "/mac", 0), 0);
	assert_int_equal(owner_of(&m, FE "/mac"), 0);
	assert_int_equal(xsm_chown(&m, "/local/domain/5/device", 9), 0);
	assert_int_equal(owner_of(&m, "/local/domain/5/device"), 9);
	assert_int_equal(xsm_chown(&m, "/nowhere", 1), -ENOENT);
	xsm_free(&m);
}

static void test_removal_takes_the_subtree(void **state)
{
	struct xsm m = { 0 };

	set(&m, BE "/mac", "m", 0);
	set(&m, BE "/bridge", "b", 0);
	set(&m, BE "x/other", "o", 0); /* a sibling whose name starts the same */
	assert_int_equal(xsm_rm(&m, BE), 0);
	assert_false(xsm_exists(&m, BE "/mac"));
	assert_false(xsm_exists(&m, BE));
	assert_true(xsm_exists(&m, BE "x/other"));
	/* a missing node whose parent exists: fine; whose parent does not: ENOENT */
	assert_int_equal(xsm_rm(&m, BE "x/none"), 0);
	assert_int_equal(xsm_rm(&m, "/no/such/parent"), -ENOENT);
	assert_int_equal(xsm_rm(&m, "/"), -EINVAL);
	xsm_free(&m);
}

static void test_directory_lists_children_sorted(void **state)
{
	struct xsm m = { 0 };
	char **names = NULL;
	size_t n = 99;

	set(&m, "/local/domain/0/backend/vif/7/0/mac", "", 0);
	set(&m, "/local/domain/0/backend/vif/10/0/mac", "", 0);
	set(&m, "/local/domain/0/backend/vif/10/1/mac", "", 0);
	set(&m, "/local/domain/0/backend/vif/2", "", 0);
	assert_int_equal(xsm_directory(&m, "/local/domain/0/backend/vif", &names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "10");
	assert_string_equal(names[1], "2");
	assert_string_equal(names[2], "7");
	assert_null(names[3]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* a node without children lists none; a missing one is ENOENT */
	assert_int_equal(xsm_directory(&m, "/local/domain/0/backend/vif/2", &names, &n), 0);
	assert_int_equal(n, 0);
	free(names);
	assert_int_equal(xsm_directory(&m, "/local/domain/9", &names, &n), -ENOENT);
	assert_int_equal(xsm_directory(&m, "/", &names, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "local");
	free(names[0]);
	free(names);
	xsm_free(&m);
}

static void test_transactions_see_their_changes_and_commit_all_or_nothing(void **state)
{
	struct xsm m = { 0 };
	unsigned long t = 0, t2 = 0;
	char *v = NULL;

	set(&m, BE "/mac", "old", 0);
	assert_int_equal(xsm_seam_transaction_start(&m, &t), 0);
	assert_int_equal(xsm_seam_write(&m, t, BE "/mac", "new"), 0);
	/* inside: the new value; outside: the old one until the commit */
	assert_int_equal(xsm_seam_read(&m, t, BE "/mac", &v), 0);
	assert_string_equal(v, "new");
	free(v);
	assert_int_equal(xsm_seam_read(&m, 0, BE "/mac", &v), 0);
	assert_string_equal(v, "old");
	free(v);
	assert_int_equal(xsm_seam_transaction_end(&m, t, false), 0);
	assert_string_equal(xsm_find(&m, BE "/mac")->value, "new");
	assert_int_equal(m.commits, 1);
	assert_int_equal(xsm_seam_transaction_end(&m, t, false), -ENOENT); /* ended */
	/* aborted: nothing applied */
	assert_int_equal(xsm_seam_transaction_start(&m, &t), 0);
	assert_int_equal(xsm_seam_write(&m, t, BE "/mac", "aborted"), 0);
	assert_int_equal(xsm_seam_transaction_end(&m, t, true), 0);
	assert_string_equal(xsm_find(&m, BE "/mac")->value, "new");
	/* EAGAIN: nothing applied, the budget spent, then commits go through */
	m.eagain = 2;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(xsm_seam_transaction_start(&m, &t), 0);
		assert_int_equal(xsm_seam_write(&m, t, BE "/mac", "retried"), 0);
		assert_int_equal(xsm_seam_transaction_end(&m, t, false), i < 2 ? -EAGAIN : 0);
		assert_string_equal(xsm_find(&m, BE "/mac")->value, i < 2 ? "new" : "retried");
	}
	assert_int_equal(m.eagain, 0);
	assert_int_equal(m.commits, 2);
	/* a change that fails at commit leaves the store as it was (no half commit) */
	{
		struct xsm_txn *x;

		assert_int_equal(xsm_seam_transaction_start(&m, &t), 0);
		assert_int_equal(xsm_seam_write(&m, t, BE "/mac", "half"), 0);
		x = xsm_txn_find(&m.txns, t);
		assert_non_null(x);
		assert_int_equal(xsm_txn_record(x, XSM_CHOWN, "/nowhere", NULL, 0, 3), 0);
		assert_int_equal(xsm_seam_transaction_end(&m, t, false), -ENOENT);
		assert_string_equal(xsm_find(&m, BE "/mac")->value, "retried");
	}
	/* two open transactions do not see each other */
	assert_int_equal(xsm_seam_transaction_start(&m, &t), 0);
	assert_int_equal(xsm_seam_transaction_start(&m, &t2), 0);
	assert_int_not_equal(t, t2);
	assert_int_equal(xsm_seam_write(&m, t, BE "/only-t", "1"), 0);
	assert_int_equal(xsm_seam_read(&m, t2, BE "/only-t", &v), -ENOENT);
	assert_int_equal(xsm_seam_write(&m, 0, BE "/unknown-t", "1"), 0);
	assert_int_equal(xsm_seam_write(&m, 999, BE "/x", "1"), -ENOENT);
	xsm_free(&m); /* open transactions go with the model */
}

static void test_reads_are_logged_and_domains_listed(void **state)
{
	struct xsm m = { 0 };
	struct vifmac_domain_info *list = NULL, d;
	size_t n = 0;
	char *v = NULL;

	assert_int_equal(xsm_seam_read(&m, 0, "/vm/abc/name", &v), -ENOENT);
	assert_true(xsm_was_read_under(&m, "/vm/"));
	assert_false(xsm_was_read_under(&m, "/local/"));
	assert_int_equal(xsm_domain_add(&m, 5, "web1", "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", true), 0);
	assert_int_equal(xsm_domain_add(&m, 6, "db1", "7f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", false), 0);
	assert_int_equal(xsm_domain_add(&m, 5, "web1--incoming", "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", false), 0);
	assert_int_equal(xsm_seam_list_domains(&m, &list, &n), 0);
	assert_int_equal(n, 2); /* the same domid replaced, not added */
	free(list);
	assert_int_equal(xsm_seam_get_domain(&m, 5, &d), 0);
	assert_string_equal(d.name, "web1--incoming");
	assert_false(d.paused);
	xsm_domain_del(&m, 5);
	assert_int_equal(xsm_seam_get_domain(&m, 5, &d), -ENOENT);
	assert_int_equal(xsm_seam_get_domain(&m, 6, &d), 0);
	xsm_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parents_exist_with_the_nearest_listed_owner),
		cmocka_unit_test(test_dom0_writes_make_parents_and_inherit_owners),
		cmocka_unit_test(test_removal_takes_the_subtree),
		cmocka_unit_test(test_directory_lists_children_sorted),
		cmocka_unit_test(test_transactions_see_their_changes_and_commit_all_or_nothing),
		cmocka_unit_test(test_reads_are_logged_and_domains_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
