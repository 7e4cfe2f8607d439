/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy file: every key, and every malformed input refused with file:line. */
#include "testutil.h"

#include <errno.h>
#include <sys/stat.h>

static void test_defaults_without_a_file(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);

	assert_null(vifmac_ctx_policy_path(ctx));
	assert_int_equal(vifmac_ctx_bridge_class(ctx, "anything"), VIFMAC_BRIDGE_PRIVATE);
	assert_int_equal(vifmac_ctx_scope(ctx), VIFMAC_SCOPE_GLOBAL);
	assert_string_equal(vifmac_ctx_registry_url(ctx), VIFMAC_DEFAULT_REGISTRY);
	assert_string_equal(vifmac_ctx_bridge_chain(ctx, "xenbr0"), "vif-bridge");
	vifmac_ctx_unref(ctx);
}

/* The key table's defaults: what an unset key reads as, and written in the file's own syntax. */
static void test_defaults_read_back_the_same_when_written_out(void **state)
{
	static const struct {
		const char *key, *value;
	} defaults[] = {
		{ "registry", VIFMAC_DEFAULT_REGISTRY }, { "chain_script", "vif-bridge" },
		{ "unlisted_bridges", "private" },       { "no_ipv4", "refuse" },
		{ "explicit_mac", "verify" },            { "scope", "global" },
		{ "wire_check", "refuse" },              { "enforce", "mac" },
		{ "enforce_failure", "refuse" },         { "etcd_prefix", "/vifmac/" },
	};
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	char text[2048];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		assert_string_equal(vifmac_ctx_policy_string(ctx, defaults[i].key), defaults[i].value);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s = \"%s\"\n", defaults[i].key, defaults[i].value);
	}
	/* keys that are no string, unset ones and unknown ones read as NULL */
	assert_null(vifmac_ctx_policy_string(ctx, "prefix"));
	assert_null(vifmac_ctx_policy_string(ctx, "registry_timeout_ms"));
	assert_null(vifmac_ctx_policy_string(ctx, "etcd_user"));
	assert_null(vifmac_ctx_policy_string(ctx, "public_table"));
	assert_null(vifmac_ctx_policy_string(ctx, "nope"));
	assert_null(vifmac_ctx_policy_string(ctx, ""));
	snprintf(text + n, sizeof(text) - n, "prefix = \"02:00\"\nregistry_timeout_ms = 5000\npool_quarantine = \"24h\"\n");
	assert_int_equal(tu_load_policy_text(ctx, text), 0);
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		assert_string_equal(vifmac_ctx_policy_string(ctx, defaults[i].key), defaults[i].value);
	vifmac_ctx_unref(ctx);
}

static void test_example_policy_loads_every_key(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);

	assert_int_equal(vifmac_ctx_load_policy(ctx, TEST_DATA_DIR "/example.conf"), 0);
	assert_string_equal(vifmac_ctx_policy_path(ctx), TEST_DATA_DIR "/example.conf");
	assert_int_equal(vifmac_ctx_bridge_class(ctx, "xenbr0"), VIFMAC_BRIDGE_PRIVATE);
	assert_int_equal(vifmac_ctx_bridge_class(ctx, "xenpub"), VIFMAC_BRIDGE_PUBLIC);
	assert_string_equal(vifmac_ctx_policy_string(ctx, "public_table"), TEST_DATA_DIR "/example-table.txt");
	vifmac_ctx_unref(ctx);
}

static void test_strict_policy_sets_enums(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);

	assert_int_equal(vifmac_ctx_load_policy(ctx, TEST_DATA_DIR "/strict.conf"), 0);
	assert_int_equal(vifmac_ctx_bridge_class(ctx, "xenbr9"), VIFMAC_BRIDGE_REFUSE);
	assert_int_equal(vifmac_ctx_scope(ctx), VIFMAC_SCOPE_BRIDGE);
	assert_string_equal(vifmac_ctx_policy_string(ctx, "no_ipv4"), "hash");
	assert_string_equal(vifmac_ctx_policy_string(ctx, "explicit_mac"), "honour");
	vifmac_ctx_unref(ctx);
}

static void test_chain_scripts_per_bridge(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy("chain_script = \"vif-route\"\n"
						    "bridge_chain = [ \"ovsbr0=vif-openvswitch\" ]\n");

	assert_string_equal(vifmac_ctx_bridge_chain(ctx, "ovsbr0"), "vif-openvswitch");
	assert_string_equal(vifmac_ctx_bridge_chain(ctx, "xenbr0"), "vif-route");
	vifmac_ctx_unref(ctx);
}

static void test_registry_url_from_policy(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy("registry = \"sqlite:/tmp/x/registry.db\"\n");

	assert_string_equal(vifmac_ctx_registry_url(ctx), "sqlite:/tmp/x/registry.db");
	vifmac_ctx_unref(ctx);
}

/* Each bad file in tests/data/bad is refused, with the expected "file:line:" and words. */
static void expect_refused(const char *file, int err, const char *line_tag, const char *words)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	char path[512], tag[600];
	int r;

	snprintf(path, sizeof(path), TEST_DATA_DIR "/bad/%s", file);
	r = vifmac_ctx_load_policy(ctx, path);
	if (r != err)
		fail_msg("%s: got %d, want %d (%s)", file, r, err, vifmac_ctx_last_error(ctx));
	if (line_tag) {
		snprintf(tag, sizeof(tag), "%s%s", line_tag[0] == ':' ? path : "", line_tag);
		if (!strstr(vifmac_ctx_last_error(ctx), tag))
			fail_msg("%s: error \"%s\" lacks \"%s\"", file, vifmac_ctx_last_error(ctx), tag);
	}
	if (!strstr(vifmac_ctx_last_error(ctx), words))
		fail_msg("%s: error \"%s\" lacks \"%s\"", file, vifmac_ctx_last_error(ctx), words);
	/* the previous (default) policy is kept */
	assert_null(vifmac_ctx_policy_path(ctx));
	vifmac_ctx_unref(ctx);
}

static void test_private_prefix_must_be_unicast_and_locally_administered(void **state)
{
	expect_refused("prefix-multicast.conf", -EINVAL, ":1:", "multicast");
	expect_refused("prefix-global.conf", -EINVAL, ":2:", "not locally administered");
	expect_refused("prefix-03.conf", -EINVAL, ":3:", "multicast");
	expect_refused("bridge-prefix-multicast.conf", -EINVAL, ":3:", "multicast");
}

static void test_malformed_prefixes_are_refused(void **state)
{
	expect_refused("prefix-long.conf", -EINVAL, ":1:", "not a MAC prefix");
	expect_refused("prefix-dash.conf", -EINVAL, ":1:", "not a MAC prefix");
	expect_refused("prefix-list.conf", -EINVAL, ":1:", "must be a string");
	expect_refused("bridge-prefix-no-eq.conf", -EINVAL, ":1:", "not BRIDGE=PREFIX");
}

static void test_bridge_in_both_lists_is_refused(void **state)
{
	expect_refused("both-lists.conf", -EINVAL, ":3:", "both public_bridges and private_bridges (line 1)");
}

static void test_unknown_and_repeated_keys_are_refused(void **state)
{
	expect_refused("unknown-key.conf", -EINVAL, ":2:", "unknown key \"privat_bridges\"");
	expect_refused("twice.conf", -EINVAL, ":2:", "set twice (first at line 1)");
}

static void test_bad_enum_values_are_refused(void **state)
{
	expect_refused("bad-scope.conf", -EINVAL, ":1:", "\"vlan\" is not one of \"global\", \"bridge\"");
	expect_refused("bad-unlisted.conf", -EINVAL, ":1:", "\"maybe\"");
	expect_refused("bad-no-ipv4.conf", -EINVAL, ":1:", "\"random\"");
	expect_refused("bad-explicit.conf", -EINVAL, ":1:", "\"ignore\"");
	expect_refused("bridges-string.conf", -EINVAL, ":1:", "must be a list");
	expect_refused("bad-registry.conf", -EINVAL, ":1:", "sqlite:");
	expect_refused("bad-bridge-name.conf", -EINVAL, ":1:", "not a bridge name");
}

/*
 * A policy given as text is refused with -EINVAL, its error naming
 * "vifmac.conf:LINE:" and holding @words; the previous policy is kept.
 */
static void expect_text_refused(const char *text, int line, const char *words)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	char tag[32];
	int r = tu_load_policy_text(ctx, text);

	if (r != -EINVAL)
		fail_msg("\"%s\": got %d, want -EINVAL (%s)", text, r, vifmac_ctx_last_error(ctx));
	snprintf(tag, sizeof(tag), "vifmac.conf:%d: ", line);
	if (!strstr(vifmac_ctx_last_error(ctx), tag) || !strstr(vifmac_ctx_last_error(ctx), words))
		fail_msg("\"%s\": error \"%s\" lacks \"%s\" or \"%s\"", text, vifmac_ctx_last_error(ctx), tag, words);
	assert_null(vifmac_ctx_policy_path(ctx));
	vifmac_ctx_unref(ctx);
}

static void test_etcd_endpoint_lists_are_checked_when_the_policy_loads(void **state)
{
	expect_text_refused("registry = \"etcd:ftp://h1:2379\"\n", 1,
			    "registry: \"etcd:ftp://h1:2379\": endpoint \"ftp://h1:2379\" is not http(s)://HOST:PORT");
	expect_text_refused("registry = \"etcd:https://h1:2379,,https://h2:2379\"\n", 1, "empty endpoint");
	expect_text_refused("registry = \"etcd:https://127.0.0.1:1,http://127.0.0.1:2\"\n", 1,
			    "endpoint \"http://127.0.0.1:2\" mixes http:// and https:// in one list");
}

static void test_etcd_keys_are_checked_and_name_their_line(void **state)
{
	expect_text_refused("registry = \"etcd:https://h1:2379\"\netcd_cert = \"/etc/vifmac/c.pem\"\n", 2,
			    "etcd_cert and etcd_key go together");
	expect_text_refused("registry = \"etcd:https://h1:2379\"\n\netcd_password_file = \"/etc/vifmac/pw\"\n", 3,
			    "etcd_user and etcd_password_file go together");
	expect_text_refused("registry = \"etcd:https://h1:2379\"\netcd_prefix = \"vifmac\"\n", 2,
			    "etcd_prefix: \"vifmac\" must start and end with '/'");
	expect_text_refused("etcd_timeout_ms = 1000\netcd_request_timeout_ms = 2000\n", 2,
			    "etcd_request_timeout_ms (2000) is longer than etcd_timeout_ms (1000)");
	expect_text_refused("etcd_cacert = \"ca.pem\"\n", 1, "etcd_cacert: \"ca.pem\" is not an absolute file name");
	expect_text_refused("etcd_proxy = \"http://user:pw@proxy:3128\"\n", 1, "is not http[s]://HOST:PORT");
	expect_text_refused("etcd_max_answer_mb = 0\n", 1, "etcd_max_answer_mb must be a number of MiB from 1 to 256");
}

static void test_etcd_credentials_are_never_sent_over_plain_http(void **state)
{
	char *pw = tu_write_temp("pw", "secret\n");
	char text[512];

	chmod(pw, 0600);
	snprintf(text, sizeof(text),
		 "registry = \"etcd:http://127.0.0.1:2379\"\netcd_user = \"vifmac\"\netcd_password_file = \"%s\"\n", pw);
	expect_text_refused(text, 1, "registry: ");
	expect_text_refused(text, 1, "credentials (etcd_user) are never sent over plain http://");
	expect_text_refused("registry = \"etcd:http://127.0.0.1:2379\"\netcd_cert = \"/etc/c.pem\"\n"
			    "etcd_key = \"/etc/k.pem\"\n",
			    1, "credentials (etcd_cert) are never sent over plain http://");
	tu_remove_temp(pw);
}

static void test_etcd_keys_are_kept_as_loaded(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy("registry = \"etcd:https://h1:2379,https://h2:2379\"\n"
						    "etcd_prefix = \"/vifmac/site-a/\"\n");

	assert_string_equal(vifmac_ctx_registry_url(ctx), "etcd:https://h1:2379,https://h2:2379");
	assert_string_equal(vifmac_ctx_policy_string(ctx, "etcd_prefix"), "/vifmac/site-a/");
	vifmac_ctx_unref(ctx);
}

static void test_syntax_errors_name_the_file(void **state)
{
	expect_refused("syntax.conf", -EINVAL, NULL, "syntax.conf");
}

static void test_public_table_errors_name_the_table_line(void **state)
{
	expect_refused("table-bad.conf", -EINVAL, "bad-table.txt:3:", "52:54:00:aa:00:1");
	expect_refused("table-dup.conf", -EINVAL, "dup-table.txt:3:", "listed twice (first at line 1)");
	expect_refused("table-multicast.conf", -EINVAL, "mc-table.txt:1:", "multicast");
	expect_refused("table-missing.conf", -EINVAL, ":1:", "missing-table.txt");
}

static void test_missing_policy_file_is_enoent(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);

	assert_int_equal(vifmac_ctx_load_policy(ctx, "/nonexistent/vifmac.conf"), -ENOENT);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "/nonexistent/vifmac.conf"));
	vifmac_ctx_unref(ctx);
}

static void test_nul_bytes_are_refused(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);
	char *path = tu_write_temp("nul.conf", "prefix = \"02:00\"\n");
	FILE *f = fopen(path, "a");

	fputc('\0', f);
	fclose(f);
	assert_int_equal(vifmac_ctx_load_policy(ctx, path), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "NUL"));
	tu_remove_temp(path);
	vifmac_ctx_unref(ctx);
}

static void test_vifmac_config_env_is_used_when_path_is_null(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);

	setenv("VIFMAC_CONFIG", TEST_DATA_DIR "/strict.conf", 1);
	assert_int_equal(vifmac_ctx_load_policy(ctx, NULL), 0);
	unsetenv("VIFMAC_CONFIG");
	assert_int_equal(vifmac_ctx_scope(ctx), VIFMAC_SCOPE_BRIDGE);
	vifmac_ctx_unref(ctx);
}

static void test_enforcement_keys_default_to_mac_and_refuse_and_name_their_line(void **state)
{
	struct vifmac_ctx *ctx = tu_ctx_with_policy(NULL);

	assert_string_equal(vifmac_ctx_policy_string(ctx, "enforce"), "mac");
	assert_string_equal(vifmac_ctx_policy_string(ctx, "enforce_failure"), "refuse");
	assert_int_equal(tu_load_policy_text(ctx, "enforce = \"off\"\nenforce_failure = \"warn\"\n"), 0);
	assert_string_equal(vifmac_ctx_policy_string(ctx, "enforce"), "off");
	assert_string_equal(vifmac_ctx_policy_string(ctx, "enforce_failure"), "warn");
	assert_int_equal(tu_load_policy_text(ctx, "\nenforce = \"ip\"\n"), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), ":2: enforce: \"ip\" is not one of \"mac\", \"off\""));
	assert_int_equal(tu_load_policy_text(ctx, "enforce_exempt_domains = [ \"r1\",\n \"r1\" ]\n"), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), ":2: enforce_exempt_domains: \"r1\" is listed twice"));
	assert_int_equal(tu_load_policy_text(ctx, "enforce_exempt_domains = [ \"a b\" ]\n"), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), "is not a domain name or UUID"));
	assert_int_equal(tu_load_policy_text(ctx, "enforce_exempt_bridges = [ \"br/0\" ]\n"), -EINVAL);
	assert_non_null(strstr(vifmac_ctx_last_error(ctx), ":1: enforce_exempt_bridges: \"br/0\" is not a bridge name"));
	/* a refused file leaves the policy loaded before it */
	assert_string_equal(vifmac_ctx_policy_string(ctx, "enforce"), "off");
	vifmac_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_without_a_file),
		cmocka_unit_test(test_defaults_read_back_the_same_when_written_out),
		cmocka_unit_test(test_example_policy_loads_every_key),
		cmocka_unit_test(test_strict_policy_sets_enums),
		cmocka_unit_test(test_chain_scripts_per_bridge),
		cmocka_unit_test(test_registry_url_from_policy),
		cmocka_unit_test(test_private_prefix_must_be_unicast_and_locally_administered),
		cmocka_unit_test(test_malformed_prefixes_are_refused),
		cmocka_unit_test(test_bridge_in_both_lists_is_refused),
		cmocka_unit_test(test_unknown_and_repeated_keys_are_refused),
		cmocka_unit_test(test_bad_enum_values_are_refused),
		cmocka_unit_test(test_etcd_endpoint_lists_are_checked_when_the_policy_loads),
		cmocka_unit_test(test_etcd_keys_are_checked_and_name_their_line),
		cmocka_unit_test(test_etcd_credentials_are_never_sent_over_plain_http),
		cmocka_unit_test(test_etcd_keys_are_kept_as_loaded),
		cmocka_unit_test(test_syntax_errors_name_the_file),
		cmocka_unit_test(test_public_table_errors_name_the_table_line),
		cmocka_unit_test(test_missing_policy_file_is_enoent),
		cmocka_unit_test(test_nul_bytes_are_refused),
		cmocka_unit_test(test_vifmac_config_env_is_used_when_path_is_null),
		cmocka_unit_test(test_enforcement_keys_default_to_mac_and_refuse_and_name_their_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
