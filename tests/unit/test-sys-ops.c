/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The system seam's table as callers hand it over: older (shorter) tables work, wrong sizes are refused. */
#include "testutil.h"

#include <errno.h>

/* struct vifmac_sys_ops as libvifmac 0.1's header had it: issue 15 appended enforce_add ... list_domains_brief. */
struct sys_ops_0_1 {
	int (*xs_read)(void *data, unsigned long t, const char *path, char **ret_value);
	int (*xs_write)(void *data, unsigned long t, const char *path, const char *value);
	int (*xs_directory)(void *data, unsigned long t, const char *path, char ***ret_names, size_t *ret_n);
	int (*xs_owner)(void *data, unsigned long t, const char *path, unsigned *ret_domid);
	int (*xs_transaction_start)(void *data, unsigned long *ret_t);
	int (*xs_transaction_end)(void *data, unsigned long t, bool abort);
	int (*list_domains)(void *data, struct vifmac_domain_info **ret_domains, size_t *ret_n);
	int (*list_links)(void *data, struct vifmac_link_info **ret_links, size_t *ret_n);
	int64_t (*now)(void *data);
	int (*hostname)(void *data, char *buf, size_t len);
	int (*get_domain)(void *data, unsigned domid, struct vifmac_domain_info *ret_info);
	int (*list_fdb)(void *data, struct vifmac_fdb_entry **ret_entries, size_t *ret_n);
	int (*list_neigh)(void *data, struct vifmac_neigh_entry **ret_entries, size_t *ret_n);
	int (*find_fdb)(void *data, const struct vifmac_mac *mac, struct vifmac_fdb_entry **ret_entries,
			size_t *ret_n);
};

static int64_t fixed_now(void *data)
{
	return *(const int64_t *)data;
}

static int named_host(void *data, char *buf, size_t len)
{
	(void)data;
	snprintf(buf, len, "dom0-old");
	return 0;
}

static int newer_member(void *data)
{
	(void)data;
	return 0;
}

static int enforce_list_none(void *data, struct vifmac_enforce_entry **ret_entries, size_t *ret_n)
{
	(void)data;
	*ret_entries = NULL;
	*ret_n = 0;
	return 0;
}

/* The old table in a heap block of exactly its size: reading past it is a fault under ASan and valgrind. */
static struct sys_ops_0_1 *old_table(void)
{
	struct sys_ops_0_1 *old = calloc(1, sizeof(*old));

	assert_non_null(old);
	old->now = fixed_now;
	old->hostname = named_host;
	return old;
}

static void test_the_0_1_table_is_the_prefix_the_library_takes_at_least(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct sys_ops_0_1), VIFMAC_SYS_OPS_SIZE_0_1);
	assert_true(sizeof(struct vifmac_sys_ops) > VIFMAC_SYS_OPS_SIZE_0_1);
}

/* What a binary built against the 0.1 header calls (the function, not the header's macro). */
static void test_a_caller_of_the_0_1_header_keeps_working(void **state)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct sys_ops_0_1 *old = old_table();
	struct vifmac_enforce_entry *entries = NULL;
	const struct vifmac_sys_ops *sys;
	int64_t now = 1700000000;
	size_t n = 0;
	void *data;
	char host[64];

	(void)state;
	(vifmac_ctx_set_sys)(ctx, (const struct vifmac_sys_ops *)(void *)old, &now);
	free(old); /* copied: the context must not keep the caller's table */
	sys = vifmac_ctx_get_sys(ctx, &data);
	assert_ptr_equal(data, &now);
	assert_int_equal(sys->now(data), 1700000000);
	assert_int_equal(sys->hostname(data, host, sizeof(host)), 0);
	assert_string_equal(host, "dom0-old");
	/* the members it never had (whatever they are named now) are "not available", and calls that need them say so */
	for (size_t i = VIFMAC_SYS_OPS_SIZE_0_1; i < sizeof(*sys); i++)
		assert_int_equal(((const unsigned char *)sys)[i], 0);
	assert_null(sys->enforce_list);
	assert_int_equal(vifmac_enforce_list(ctx, &entries, &n), -EOPNOTSUPP);
	vifmac_ctx_unref(ctx);
}

static void test_a_short_table_with_its_size_keeps_working(void **state)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct sys_ops_0_1 *old = old_table();
	int64_t now = 42;
	void *data;

	(void)state;
	assert_int_equal(vifmac_ctx_set_sys_sized(ctx, (const struct vifmac_sys_ops *)(void *)old, sizeof(*old), &now), 0);
	free(old);
	assert_int_equal(vifmac_ctx_get_sys(ctx, &data)->now(data), 42);
	assert_null(vifmac_ctx_get_sys(ctx, NULL)->enforce_list);
	vifmac_ctx_unref(ctx);
}

static void test_the_header_macro_passes_the_whole_table(void **state)
{
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct vifmac_sys_ops ops = { .now = fixed_now, .enforce_list = enforce_list_none };
	struct vifmac_enforce_entry *entries = NULL;
	int64_t now = 7;
	size_t n = 1;

	(void)state;
	vifmac_ctx_set_sys(ctx, &ops, &now);
	assert_ptr_equal(vifmac_ctx_get_sys(ctx, NULL)->enforce_list, enforce_list_none);
	assert_int_equal(vifmac_enforce_list(ctx, &entries, &n), 0);
	assert_int_equal(n, 0);
	vifmac_ctx_unref(ctx);
}

static void test_too_short_or_odd_sizes_are_refused_and_change_nothing(void **state)
{
	static const size_t bad[] = { 0, 1, sizeof(void *), VIFMAC_SYS_OPS_SIZE_0_1 - sizeof(void *),
				      VIFMAC_SYS_OPS_SIZE_0_1 + 1, sizeof(struct vifmac_sys_ops) - 1 };
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	struct vifmac_sys_ops before = { .now = fixed_now }, other = { .hostname = named_host };
	int64_t now = 5, other_data = 6;
	void *data;

	(void)state;
	assert_int_equal(vifmac_ctx_set_sys_sized(ctx, &before, sizeof(before), &now), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vifmac_ctx_set_sys_sized(ctx, &other, bad[i], &other_data), -EINVAL);
		assert_non_null(strstr(vifmac_ctx_last_error(ctx), "system seam of"));
		assert_ptr_equal(vifmac_ctx_get_sys(ctx, &data)->now, fixed_now);
		assert_null(vifmac_ctx_get_sys(ctx, NULL)->hostname);
		assert_ptr_equal(data, &now);
	}
	assert_int_equal(vifmac_ctx_set_sys_sized(ctx, NULL, sizeof(before), &now), -EINVAL);
	vifmac_ctx_unref(ctx);
}

/* A newer caller's table: members this library does not have are fine unset, refused when set. */
static void test_a_longer_table_is_taken_only_without_members_we_lack(void **state)
{
	struct {
		struct vifmac_sys_ops ops;
		int (*newer)(void *data);
	} *longer = calloc(1, sizeof(*longer));
	struct vifmac_ctx *ctx = vifmac_ctx_new();
	int64_t now = 9;

	(void)state;
	assert_non_null(longer);
	longer->ops.now = fixed_now;
	assert_int_equal(vifmac_ctx_set_sys_sized(ctx, &longer->ops, sizeof(*longer), &now), 0);
	longer->newer = newer_member;
	longer->ops.now = NULL;
	assert_int_equal(vifmac_ctx_set_sys_sized(ctx, &longer->ops, sizeof(*longer), &now), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "does not have"));
	assert_ptr_equal(vifmac_ctx_get_sys(ctx, NULL)->now, fixed_now);
	free(longer);
	vifmac_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_0_1_table_is_the_prefix_the_library_takes_at_least),
		cmocka_unit_test(test_a_caller_of_the_0_1_header_keeps_working),
		cmocka_unit_test(test_a_short_table_with_its_size_keeps_working),
		cmocka_unit_test(test_the_header_macro_passes_the_whole_table),
		cmocka_unit_test(test_too_short_or_odd_sizes_are_refused_and_change_nothing),
		cmocka_unit_test(test_a_longer_table_is_taken_only_without_members_we_lack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
