/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rewriting domain configs for the policy: mac= removed or set, every other byte kept. */
#include "testutil.h"

#include <errno.h>

/* The config @text rewritten with @flags under the default policy; the result's text (caller frees) or NULL. */
static char *fixed(const char *text, unsigned flags, int want)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	char *path = tu_write_temp("dom.cfg", text), *out = NULL;
	struct vifmac_fix fix;
	int r;

	vifmac_fix_init(&fix);
	r = vifmac_domcfg_fix(ctx, path, flags, &fix);
	if (r != want)
		fail_msg("vifmac_domcfg_fix returned %d, expected %d: %s", r, want, vifmac_ctx_last_error(ctx));
	if (r == 0) {
		assert_int_equal(strlen(fix.text), fix.len);
		out = strdup(fix.text);
	} else {
		assert_null(fix.text);
	}
	vifmac_fix_dispose(&fix);
	tu_remove_temp(path);
	vifmac_ctx_unref(ctx);
	return out;
}

static void expect_fixed(const char *text, unsigned flags, const char *want)
{
	char *got = fixed(text, flags, 0);

	assert_string_equal(got, want);
	free(got);
}

static void test_mac_is_removed_with_one_comma_wherever_it_stands(void **state)
{
	expect_fixed("vif = [ 'ip=192.0.2.10,mac=00:16:3E:AB:CD:EF' ]\n", 0, "vif = [ 'ip=192.0.2.10' ]\n");
	expect_fixed("vif = [ 'mac=00:16:3E:2B:11:22,bridge=xenbr0,ip=192.0.2.1' ]\n", 0,
		     "vif = [ 'bridge=xenbr0,ip=192.0.2.1' ]\n");
	expect_fixed("vif = [ 'bridge=xenbr0,mac=00:16:3e:01:02:03,ip=192.0.2.1' ]\n", 0,
		     "vif = [ 'bridge=xenbr0,ip=192.0.2.1' ]\n");
	/* xl skips the spaces before an item: so does the search for mac= */
	expect_fixed("vif = [ \"ip=192.0.2.1, mac=00:16:3e:01:02:03\" ]\n", 0, "vif = [ \"ip=192.0.2.1\" ]\n");
}

static void test_everything_outside_the_mac_item_is_kept_byte_for_byte(void **state)
{
	expect_fixed("# mac=00:16:3e:00:00:01 in a comment 'quoted'\nname='a' ;memory=  '512'\n"
		     "vif=[\t'ip=192.0.2.10 fd00::1,mac=00:16:3e:aa:bb:cc,vifname=x',  # one\n"
		     "      \"ip=192.0.2.11\" ,\n"
		     "]\n"
		     "extra = 'mac=keep'\n",
		     0,
		     "# mac=00:16:3e:00:00:01 in a comment 'quoted'\nname='a' ;memory=  '512'\n"
		     "vif=[\t'ip=192.0.2.10 fd00::1,vifname=x',  # one\n"
		     "      \"ip=192.0.2.11\" ,\n"
		     "]\n"
		     "extra = 'mac=keep'\n");
}

static void test_set_mac_replaces_the_value_or_appends_the_item(void **state)
{
	expect_fixed("vif = [ 'ip=192.0.2.10,mac=00:16:3E:AB:CD:EF,bridge=xenbr0' ]\n", VIFMAC_FIX_SET_MAC,
		     "vif = [ 'ip=192.0.2.10,mac=02:00:c0:00:02:0a,bridge=xenbr0' ]\n");
	expect_fixed("vif = [ 'ip=192.0.2.10', 'ip=192.0.2.11,' ]\n", VIFMAC_FIX_SET_MAC,
		     "vif = [ 'ip=192.0.2.10,mac=02:00:c0:00:02:0a', 'ip=192.0.2.11,mac=02:00:c0:00:02:0b' ]\n");
}

static void test_nothing_to_change_gives_the_same_text(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	const char *text = "name = 'a'\nvif = [ 'ip=192.0.2.10' ]\n";
	char *path = tu_write_temp("dom.cfg", text);
	struct vifmac_fix fix;

	vifmac_fix_init(&fix);
	assert_int_equal(vifmac_domcfg_fix(ctx, path, 0, &fix), 0);
	assert_false(fix.changed);
	assert_string_equal(fix.text, text);
	assert_int_equal(fix.n_vifs, 1);
	assert_false(fix.vifs[0].changed);
	assert_false(fix.vifs[0].had_mac);
	assert_string_equal(tu_mac(&fix.vifs[0].decision.mac), "02:00:c0:00:02:0a");
	vifmac_fix_dispose(&fix);
	vifmac_fix_dispose(&fix); /* an empty one is fine */
	tu_remove_temp(path);
	vifmac_ctx_unref(ctx);
}

static void test_vifs_the_policy_cannot_decide_are_refused_with_file_and_line(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	char *path = tu_write_temp("dhcp.cfg", "name = 'd'\n\nvif = [ 'ip=192.0.2.10',\n  'mac=00:16:3E:2B:11:22,bridge=xenbr0' ]\n");
	struct vifmac_fix fix;

	vifmac_fix_init(&fix);
	assert_int_equal(vifmac_domcfg_fix(ctx, path, 0, &fix), -EPERM);
	assert_null(fix.text);
	assert_int_equal(fix.n_vifs, 2);
	assert_int_equal(fix.vifs[0].decision.refusal.kind, VIFMAC_REFUSAL_NONE);
	assert_int_equal(fix.vifs[1].decision.refusal.kind, VIFMAC_REFUSAL_POLICY);
	assert_int_equal(fix.vifs[1].line, 4);
	assert_true(fix.vifs[1].had_mac);
	assert_string_equal(tu_mac(&fix.vifs[1].old_mac), "00:16:3e:2b:11:22");
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "dhcp.cfg:4: vif #1: no IPv4 address"));
	vifmac_fix_dispose(&fix);
	tu_remove_temp(path);
	vifmac_ctx_unref(ctx);
}

static void test_hvm_keeps_its_mac_unless_set_to_the_policys(void **state)
{
	const char *hvm = "type = 'hvm'\nvif = [ 'model=e1000,mac=00:16:3e:c1:c2:c3,ip=192.0.2.21' ]\n";

	free(fixed(hvm, 0, -EPERM));
	expect_fixed(hvm, VIFMAC_FIX_SET_MAC, "type = 'hvm'\nvif = [ 'model=e1000,mac=02:00:c0:00:02:15,ip=192.0.2.21' ]\n");
}

static void test_forms_it_cannot_rewrite_safely_are_refused(void **state)
{
	free(fixed("vif = [ 'ip=192.0.2.10,mac=00:16:3e:00:00:01' ]\nvif += [ 'ip=192.0.2.11' ]\n", 0, -EINVAL));
	free(fixed("vif = [ 'ip=192.0.2.10' ]\nvif = [ 'ip=192.0.2.11' ]\n", 0, -EINVAL));
	free(fixed("vif = [ ]\nvif += [ ]\n", 0, -EINVAL));
	free(fixed("vif = [ 'ip=192.0.2.10,mac=00:16:3e:00:00:01,vifname=a\\\\b' ]\n", 0, -EINVAL));
	/* a backslash in a spec that needs no change is copied as it is */
	expect_fixed("vif = [ 'ip=192.0.2.10,mac=00:16:3e:00:00:01', 'ip=192.0.2.11,vifname=a\\\\b' ]\n", 0,
		     "vif = [ 'ip=192.0.2.10', 'ip=192.0.2.11,vifname=a\\\\b' ]\n");
}

static void test_two_vifs_given_one_mac_are_a_conflict(void **state)
{
	free(fixed("vif = [ 'ip=192.0.2.10,mac=00:16:3e:00:00:01', 'ip=192.0.2.10,bridge=xenbr1' ]\n", 0, -EPERM));
}

static void test_vif_input_takes_devid_and_mac_from_the_spec_devids_as_xl_takes_them(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	char *bad = tu_write_temp("bad.cfg", "name = 'n'\nvif = [ 'ip=192.0.2.10',\n 'devid=07' ]\n");
	char *path = tu_write_temp("dom.cfg", "name = 'n'\nvif = [ 'ip=192.0.2.10,devid=3,mac=00:16:3E:01:02:03', 'ip=192.0.2.11' ]\n");
	struct vifmac_domcfg *cfg;
	struct vifmac_vif v;
	struct vifmac_mac mac;

	/* a devid xl would misread is refused when the config is read, before any vif is looked at */
	assert_int_equal(vifmac_domcfg_read(ctx, bad, &cfg), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "bad.cfg:3:"));
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "devid=07"));
	tu_remove_temp(bad);
	assert_int_equal(vifmac_domcfg_read(ctx, path, &cfg), 0);
	assert_int_equal(vifmac_domcfg_vif_input(ctx, cfg, 0, &v, &mac), 0);
	assert_int_equal(v.devid, 3);
	assert_ptr_equal(v.mac, &mac);
	assert_string_equal(tu_mac(&mac), "00:16:3e:01:02:03");
	assert_string_equal(v.bridge, "xenbr0");
	assert_string_equal(v.domain, "n");
	assert_int_equal(vifmac_domcfg_vif_input(ctx, cfg, 1, &v, &mac), 0);
	assert_int_equal(v.devid, 1);
	assert_null(v.mac);
	assert_int_equal(vifmac_domcfg_vif_input(ctx, cfg, 2, &v, &mac), -ENOENT);
	{
		int devid = -7;

		assert_int_equal(vifmac_devid_parse("65535", &devid), 0);
		assert_int_equal(devid, 65535);
		assert_int_equal(vifmac_devid_parse("65536", &devid), -EINVAL);
		assert_int_equal(vifmac_devid_parse("-1", &devid), -EINVAL);
		assert_int_equal(vifmac_devid_parse("1x", &devid), -EINVAL);
		assert_int_equal(vifmac_devid_parse("", &devid), -EINVAL);
		assert_int_equal(devid, 65535);
	}
	vifmac_domcfg_free(cfg);
	tu_remove_temp(path);
	vifmac_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_is_removed_with_one_comma_wherever_it_stands),
		cmocka_unit_test(test_everything_outside_the_mac_item_is_kept_byte_for_byte),
		cmocka_unit_test(test_set_mac_replaces_the_value_or_appends_the_item),
		cmocka_unit_test(test_nothing_to_change_gives_the_same_text),
		cmocka_unit_test(test_vifs_the_policy_cannot_decide_are_refused_with_file_and_line),
		cmocka_unit_test(test_hvm_keeps_its_mac_unless_set_to_the_policys),
		cmocka_unit_test(test_forms_it_cannot_rewrite_safely_are_refused),
		cmocka_unit_test(test_two_vifs_given_one_mac_are_a_conflict),
		cmocka_unit_test(test_vif_input_takes_devid_and_mac_from_the_spec_devids_as_xl_takes_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
