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

/*
 * Reads @text as a domain config with xl.conf @xl_conf_text (NULL: none);
 * returns the result, *ret_cfg set on success.
 */
static int read_text(struct vifmac_ctx *ctx, const char *text, const char *xl_conf_text, struct vifmac_domcfg **ret_cfg)
{
	char *path = tu_write_temp("dom.cfg", text);
	char *xl = xl_conf_text ? tu_write_temp("xl.conf", xl_conf_text) : NULL;
	int r = vifmac_domcfg_read_xl(ctx, path, xl ? xl : "", ret_cfg);

	tu_remove_temp(path);
	if (xl)
		tu_remove_temp(xl);
	return r;
}

/* The error of a config that must be refused, which must contain @needle. */
static void assert_refused(const char *text, const char *xl_conf_text, const char *needle)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg = NULL;
	int r = read_text(ctx, text, xl_conf_text, &cfg);

	if (r != -EINVAL)
		fail_msg("config accepted (%d): %s", r, text);
	assert_null(cfg);
	if (!strstr(vifmac_ctx_last_error(ctx), needle))
		fail_msg("error \"%s\" lacks \"%s\"", vifmac_ctx_last_error(ctx), needle);
	vifmac_ctx_unref(ctx);
}

static void test_xl_conf_default_bridge_is_the_bridge_of_vifs_without_one(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg;

	/* vif.default.bridge wins over the older defaultbridge wherever it stands, as in xl.c */
	assert_int_equal(read_text(ctx, "vif = [ 'ip=192.0.2.1', 'bridge=xenbr1,ip=192.0.2.2' ]\n",
				   "vif.default.bridge = \"xenpub\"\ndefaultbridge = \"old\"\n"
				   "vif.default.script = \"vif-vifmac\"\n",
				   &cfg),
			 0);
	assert_string_equal(vifmac_domcfg_vif_bridge(cfg, 0), "xenpub");
	assert_string_equal(vifmac_domcfg_vif_bridge(cfg, 1), "xenbr1");
	assert_string_equal(vifmac_domcfg_vif_get(cfg, 1, "script"), "vif-vifmac");
	assert_null(vifmac_domcfg_vif_get(cfg, 1, "gatewaydev"));
	vifmac_domcfg_free(cfg);
	assert_int_equal(read_text(ctx, "vif = [ 'ip=192.0.2.1' ]\n", "defaultbridge = \"old\"\n", &cfg), 0);
	assert_string_equal(vifmac_domcfg_vif_bridge(cfg, 0), "old");
	vifmac_domcfg_free(cfg);
	/* without xl.conf: libxl's xenbr0 */
	assert_int_equal(read_text(ctx, "vif = [ 'ip=192.0.2.1' ]\n", NULL, &cfg), 0);
	assert_string_equal(vifmac_domcfg_vif_bridge(cfg, 0), "xenbr0");
	assert_null(vifmac_domcfg_vif_get(cfg, 0, "bridge"));
	vifmac_domcfg_free(cfg);
	vifmac_ctx_unref(ctx);
}

static void test_xl_conf_comes_from_the_env_variable_when_not_given(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	char *xl = tu_write_temp("xl.conf", "vif.default.bridge = 'xenenv'\n");
	char *dom = tu_write_temp("dom.cfg", "vif = [ 'ip=192.0.2.1' ]\n");
	struct vifmac_domcfg *cfg = NULL;

	assert_int_equal(setenv("VIFMAC_XL_CONF", xl, 1), 0);
	assert_int_equal(vifmac_domcfg_read(ctx, dom, &cfg), 0);
	assert_string_equal(vifmac_domcfg_vif_bridge(cfg, 0), "xenenv");
	vifmac_domcfg_free(cfg);
	cfg = NULL;
	/* one named but missing is an error, not silently none */
	assert_int_equal(setenv("VIFMAC_XL_CONF", "/nonexistent/xl.conf", 1), 0);
	assert_int_equal(vifmac_domcfg_read(ctx, dom, &cfg), -ENOENT);
	assert_null(cfg);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "/nonexistent/xl.conf"));
	assert_int_equal(setenv("VIFMAC_XL_CONF", "", 1), 0);
	tu_remove_temp(xl);
	tu_remove_temp(dom);
	vifmac_ctx_unref(ctx);
}

static void test_xl_conf_syntax_error_is_refused(void **state)
{
	/* xl exits on it for every command */
	assert_refused("vif = [ 'ip=192.0.2.1' ]\n", "vif.default.bridge = [ 'xenbr0'\n", "xl.conf:");
	assert_refused("vif = [ 'ip=192.0.2.1' ]\n", "vif.default.bridge = 'xen br'\n", "vif.default.bridge");
}

static void test_type_is_matched_as_a_prefix_like_xl(void **state)
{
	static const struct {
		const char *cfg, *type;
	} cases[] = {
		{ "type = \"\"\n", "hvm" },		 { "type = \"h\"\n", "hvm" },
		{ "type = \"hvm\"\n", "hvm" },	 { "type = \"p\"\n", "pv" },
		{ "type = \"pv\"\n", "pv" },		 { "type = \"pvh\"\n", "pvh" },
		{ "builder = \"hvm\"\n", "hvm" },	 { "builder = \"gen\"\n", "pv" },
		{ "builder = \"\"\n", "hvm" },	 { "name = \"x\"\n", "pv" },
		{ "type = \"pv\"\nbuilder = \"generic\"\n", "pv" },
	};
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vifmac_domcfg *cfg;

		assert_int_equal(read_text(ctx, cases[i].cfg, NULL, &cfg), 0);
		if (strcmp(vifmac_domcfg_type(cfg), cases[i].type) != 0)
			fail_msg("%s: type %s, want %s", cases[i].cfg, vifmac_domcfg_type(cfg), cases[i].type);
		assert_int_equal(vifmac_domcfg_is_hvm(cfg), strcmp(cases[i].type, "hvm") == 0);
		vifmac_domcfg_free(cfg);
	}
	vifmac_ctx_unref(ctx);
}

static void test_types_xl_exits_on_are_refused(void **state)
{
	assert_refused("name = 'x'\ntype = \"hvm\"\nbuilder = \"generic\"\n", NULL, "dom.cfg:3: builder = \"generic\" contradicts");
	assert_refused("type = \"xen\"\n", NULL, "dom.cfg:1: type = \"xen\": xl refuses it");
	assert_refused("type = \"hvmx\"\n", NULL, "Invalid domain type");
	assert_refused("builder = \"linux\"\n", NULL, "builder");
}

static void test_values_xl_exits_on_are_refused_with_file_line(void **state)
{
	assert_refused("name = 'x'\nvif = [ 'ip=192.0.2.1,mtu=jumbo' ]\n", NULL, "dom.cfg:2: vif #0");
	assert_refused("vif = [ 'ip=192.0.2.1,mtu=jumbo' ]\n", NULL, "mtu=jumbo: xl refuses it");
	assert_refused("vif = [ 'ip=192.0.2.1,rate=fast' ]\n", NULL, "rate=fast: xl refuses it (invalid rate");
	assert_refused("vif = [ 'ip=192.0.2.1,rate=0Mb/s' ]\n", NULL, "rate overflow");
	assert_refused("vif = [ 'ip=192.0.2.1,devid=one' ]\n", NULL, "devid=one: xl refuses it");
	/* xl would read 7 and 1500: a typo, refused */
	assert_refused("vif = [ 'ip=192.0.2.1,devid=7x' ]\n", NULL, "xl would read 7");
	assert_refused("vif = [ 'ip=192.0.2.1,mtu=1500 ' ]\n", NULL, "xl would read 1500");
	assert_refused("vif = [ 'ip=192.0.2.1,type=pv' ]\n", NULL, "Invalid parameter `type'");
}

static void test_values_xl_takes_are_read(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg;

	assert_int_equal(read_text(ctx,
				   "vif = [ 'ip=192.0.2.1,rate=10Mb/s@20ms,mtu=9000,type=ioemu,untrusted',"
				   " 'rate=100KB/s,trusted,bridge=xenbr1' ]\n",
				   NULL, &cfg),
			 0);
	assert_int_equal(vifmac_domcfg_vif_count(cfg), 2);
	assert_string_equal(vifmac_domcfg_vif_get(cfg, 1, "trusted"), "");
	vifmac_domcfg_free(cfg);
	vifmac_ctx_unref(ctx);
}

static void test_devid_is_the_list_position_unless_given(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg;

	assert_int_equal(read_text(ctx, "vif = [ 'ip=192.0.2.1', 'ip=192.0.2.2,devid=7', 'ip=192.0.2.3' ]\n", NULL, &cfg), 0);
	assert_int_equal(vifmac_domcfg_vif_devid(cfg, 0), 0);
	assert_int_equal(vifmac_domcfg_vif_devid(cfg, 1), 7);
	assert_int_equal(vifmac_domcfg_vif_devid(cfg, 2), 2);
	assert_int_equal(vifmac_domcfg_vif_devid(cfg, 3), -1);
	vifmac_domcfg_free(cfg);
	vifmac_ctx_unref(ctx);
	/* a mix that gives two vifs one devid: libxl refuses the second at create */
	assert_refused("vif = [ 'ip=192.0.2.1,devid=1', 'ip=192.0.2.2' ]\n", NULL,
		       "vif #1 and vif #0 (line 1) both get devid 1 (its position in the list, devid=)");
	assert_refused("vif = [ 'ip=192.0.2.1,devid=4',\n 'ip=192.0.2.2,devid=4' ]\n", NULL, "dom.cfg:2: vif #1 and vif #0");
}

static void test_all_zero_mac_is_unset_as_for_libxl(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg;
	struct vifmac_mac mac = { { 1, 2, 3, 4, 5, 6 } };

	assert_int_equal(read_text(ctx, "vif = [ 'ip=192.0.2.1,mac=00:00:00:00:00:00', 'mac=02:00:00:00:00:01' ]\n",
				   NULL, &cfg),
			 0);
	assert_int_equal(vifmac_domcfg_vif_mac(cfg, 0, &mac), -ENOENT);
	assert_string_equal(tu_mac(&mac), "01:02:03:04:05:06"); /* untouched */
	assert_int_equal(vifmac_domcfg_vif_mac(cfg, 1, &mac), 0);
	assert_string_equal(tu_mac(&mac), "02:00:00:00:00:01");
	vifmac_domcfg_free(cfg);
	vifmac_ctx_unref(ctx);
}

static void test_bridge_names_nothing_can_use_are_refused(void **state)
{
	assert_refused("vif = [ 'bridge=xenbr1 ,ip=192.0.2.10' ]\n", NULL,
		       "bridge \"xenbr1 \": a bridge name has no white space");
	assert_refused("vif = [ 'bridge=,ip=192.0.2.10' ]\n", NULL, "bridge is empty");
	assert_refused("vif = [ 'bridge=abcdefghijklmnop' ]\n", NULL, "15 characters");
}

static void test_messages_say_what_xl_does_with_the_item(void **state)
{
	assert_refused("vif = [ 'ip = 192.0.2.10' ]\n", NULL,
		       "item \"ip = 192.0.2.10\": xl ignores it (\"unrecognized argument\"): no spaces around '='");
	assert_refused("vif = [ 'a_key_of_seventy_characters_is_not_a_vif_key_that_xl_knows_0123456789=1' ]\n",
		       NULL, "no vif key \"a_key_of_seventy_characters");
	assert_refused("vif = [ 'bridge=xenbr0,trust' ]\n", NULL, "not key=value, \"trusted\" or \"untrusted\"");
	assert_refused("vif = [ 'bridge=xenbr0,bridge=xenbr1' ]\n", NULL, "given twice (xl takes the last)");
}

static void test_plus_equals_appends_and_keeps_item_lines(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	struct vifmac_domcfg *cfg;

	assert_int_equal(read_text(ctx, "vif = [ 'ip=192.0.2.1' ]\nname = 'p'\nvif += [ 'ip=192.0.2.2',\n  'ip=192.0.2.3' ]\n",
				   NULL, &cfg),
			 0);
	assert_int_equal(vifmac_domcfg_vif_count(cfg), 3);
	assert_string_equal(vifmac_domcfg_vif_get(cfg, 2, "ip"), "192.0.2.3");
	assert_int_equal(vifmac_domcfg_vif_line(cfg, 0), 1);
	assert_int_equal(vifmac_domcfg_vif_line(cfg, 1), 3);
	assert_int_equal(vifmac_domcfg_vif_line(cfg, 2), 4);
	vifmac_domcfg_free(cfg);
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
		cmocka_unit_test(test_xl_conf_default_bridge_is_the_bridge_of_vifs_without_one),
		cmocka_unit_test(test_xl_conf_comes_from_the_env_variable_when_not_given),
		cmocka_unit_test(test_xl_conf_syntax_error_is_refused),
		cmocka_unit_test(test_type_is_matched_as_a_prefix_like_xl),
		cmocka_unit_test(test_types_xl_exits_on_are_refused),
		cmocka_unit_test(test_values_xl_exits_on_are_refused_with_file_line),
		cmocka_unit_test(test_values_xl_takes_are_read),
		cmocka_unit_test(test_devid_is_the_list_position_unless_given),
		cmocka_unit_test(test_all_zero_mac_is_unset_as_for_libxl),
		cmocka_unit_test(test_bridge_names_nothing_can_use_are_refused),
		cmocka_unit_test(test_messages_say_what_xl_does_with_the_item),
		cmocka_unit_test(test_plus_equals_appends_and_keeps_item_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
