/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xl domain configs: name, type and vif list, with line numbers for errors. */
#include "testutil.h"

#include <errno.h>

static void test_reads_name_uuid_type_and_vifs(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg;

	assert_int_equal(vifmac_domcfg_read(ctx, TEST_DATA_DIR "/domains/web1.cfg", &cfg), 0);
	assert_string_equal(vifmac_domcfg_name(cfg), "web1");
	assert_string_equal(vifmac_domcfg_uuid(cfg), "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b");
	assert_false(vifmac_domcfg_is_hvm(cfg));
	assert_int_equal(vifmac_domcfg_vif_count(cfg), 1);
	assert_string_equal(vifmac_vifspec_get(vifmac_domcfg_vif(cfg, 0), "ip"), "192.0.2.10");
	assert_int_equal(vifmac_domcfg_vif_line(cfg, 0), 6);
	vifmac_domcfg_free(cfg);
	vifmac_ctx_unref(ctx);
}

static void test_vif_lines_follow_multi_line_lists(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg;

	assert_int_equal(vifmac_domcfg_read(ctx, TEST_DATA_DIR "/domains/two-vifs.cfg", &cfg), 0);
	assert_int_equal(vifmac_domcfg_vif_count(cfg), 2);
	assert_int_equal(vifmac_domcfg_vif_line(cfg, 0), 5);
	assert_int_equal(vifmac_domcfg_vif_line(cfg, 1), 6);
	vifmac_domcfg_free(cfg);
	vifmac_ctx_unref(ctx);
}

static void test_hvm_type_is_detected(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg;

	assert_int_equal(vifmac_domcfg_read(ctx, TEST_DATA_DIR "/domains/hvm.cfg", &cfg), 0);
	assert_true(vifmac_domcfg_is_hvm(cfg));
	vifmac_domcfg_free(cfg);
	vifmac_ctx_unref(ctx);
}

static void test_malformed_vif_spec_names_file_and_line(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg = NULL;

	assert_int_equal(vifmac_domcfg_read(ctx, TEST_DATA_DIR "/domains/bad-spec.cfg", &cfg), -EINVAL);
	assert_null(cfg);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "bad-spec.cfg:2: vif #0"));
	vifmac_ctx_unref(ctx);
}

static void test_syntax_error_names_the_file(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg = NULL;

	assert_int_equal(vifmac_domcfg_read(ctx, TEST_DATA_DIR "/domains/syntax.cfg", &cfg), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "syntax.cfg"));
	vifmac_ctx_unref(ctx);
}

static void test_missing_config_is_enoent(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg = NULL;

	assert_int_equal(vifmac_domcfg_read(ctx, "/nonexistent.cfg", &cfg), -ENOENT);
	vifmac_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_name_uuid_type_and_vifs),
		cmocka_unit_test(test_vif_lines_follow_multi_line_lists),
		cmocka_unit_test(test_hvm_type_is_detected),
		cmocka_unit_test(test_malformed_vif_spec_names_file_and_line),
		cmocka_unit_test(test_syntax_error_names_the_file),
		cmocka_unit_test(test_missing_config_is_enoent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
