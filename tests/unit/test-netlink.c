/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rtnetlink dumps (lib/vifmac-netlink.c) on real kernel links: the test
 * moves itself into a network namespace of its own (unshare), builds two
 * bridges (one VLAN-filtering), veth ports, FDB and neighbour entries with
 * ip(8) and bridge(8), and reads them back. Needs root (SKIP otherwise).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "testutil.h"
#include "vifmac-internal.h"

#define STATIC_MAC "02:aa:00:00:00:01"   /* static FDB entry of port v0 on br0 */
#define SELF_MAC "02:aa:00:00:00:02"     /* v0p's own address list: not a bridge's FDB */
#define VLAN_MAC "02:aa:00:00:00:03"     /* static entry of v1 on br1, VLAN 10 */
#define ABSENT_MAC "02:aa:00:00:00:99"

/* this kernel has VLAN-filtering bridges (CONFIG_BRIDGE_VLAN_FILTERING) */
static bool have_vlan;

static void sh(const char *cmd)
{
	char line[512];

	snprintf(line, sizeof(line), "%s >/dev/null 2>&1", cmd);
	if (system(line) != 0)
		fail_msg("set-up step failed: %s", cmd);
}

static int setup(void **state)
{
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -1;
	}
	sh("ip link set lo up");
	sh("ip link add br0 address 02:00:00:00:0b:00 type bridge");
	sh("ip link add v0 address 02:00:00:00:00:10 type veth peer name v0p address 02:00:00:00:00:11");
	sh("ip link set v0 master br0");
	sh("ip link set br0 up && ip link set v0 up && ip link set v0p up");
	sh("bridge fdb add " STATIC_MAC " dev v0 master static");
	sh("bridge fdb add " SELF_MAC " dev v0p self");
	have_vlan = system("ip link add br1 type bridge vlan_filtering 1 2>/dev/null") == 0;
	if (have_vlan) {
		sh("ip link add v1 type veth peer name v1p");
		sh("ip link set v1 master br1");
		sh("bridge vlan add vid 10 dev v1");
		sh("ip link set br1 up && ip link set v1 up && ip link set v1p up");
		sh("bridge fdb add " VLAN_MAC " dev v1 master static vlan 10");
	} else {
		printf("NOTE: this kernel has no VLAN-filtering bridges: their entries are not tested here\n");
	}
	sh("ip neigh add 192.0.2.5 lladdr 02:00:00:00:00:05 dev v0p nud permanent");
	sh("ip neigh add 192.0.2.6 lladdr 02:00:00:00:00:06 dev v0p nud stale");
	sh("ip neigh add 192.0.2.7 dev v0p nud failed");
	sh("ip -6 neigh add 2001:db8::8 lladdr 02:00:00:00:00:08 dev v0p nud noarp");
	return 0;
}

static struct vifmac_mac mac_of(const char *s)
{
	struct vifmac_mac m;

	assert_int_equal(vifmac_mac_parse(s, &m), 0);
	return m;
}

static const struct vifmac_link_info *link_named(const struct vifmac_link_info *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return &l[i];
	return NULL;
}

static void test_links_carry_mac_and_master_names(void **state)
{
	struct vifmac_link_info *links = NULL;
	const struct vifmac_link_info *l;
	size_t n = 0;
	struct vifmac_mac m = mac_of("02:00:00:00:00:10");

	assert_int_equal(vifmac_netlink_list_links(&links, &n), 0);
	/* exactly the namespace's links: lo, br0, v0, v0p (and br1, v1, v1p) */
	assert_int_equal(n, have_vlan ? 7 : 4);
	l = link_named(links, n, "v0");
	assert_non_null(l);
	assert_true(vifmac_mac_equal(&l->mac, &m));
	assert_string_equal(l->master, "br0"); /* the name, not "#ifindex" */
	if (have_vlan)
		assert_string_equal(link_named(links, n, "v1")->master, "br1");
	assert_string_equal(link_named(links, n, "v0p")->master, "");
	assert_string_equal(link_named(links, n, "br0")->master, "");
	m = mac_of("02:00:00:00:0b:00");
	assert_true(vifmac_mac_equal(&link_named(links, n, "br0")->mac, &m));
	assert_non_null(link_named(links, n, "lo"));
	free(links);
}

static const struct vifmac_fdb_entry *fdb_find(const struct vifmac_fdb_entry *e, size_t n, const char *mac)
{
	struct vifmac_mac m = mac_of(mac);

	for (size_t i = 0; i < n; i++)
		if (vifmac_mac_equal(&e[i].mac, &m))
			return &e[i];
	return NULL;
}

static void test_fdb_lists_the_bridges_entries_only(void **state)
{
	struct vifmac_fdb_entry *e = NULL;
	const struct vifmac_fdb_entry *s;
	size_t n = 0;

	assert_int_equal(vifmac_netlink_list_fdb(&e, &n), 0);
	s = fdb_find(e, n, STATIC_MAC);
	assert_non_null(s);
	assert_string_equal(s->bridge, "br0");
	assert_string_equal(s->port, "v0");
	assert_int_equal(s->vlan, 0);
	assert_false(s->local);
	assert_true(s->age >= 0);
	/* the port's own address is the bridge's too, and local */
	s = fdb_find(e, n, "02:00:00:00:00:10");
	assert_non_null(s);
	assert_true(s->local);
	assert_string_equal(s->bridge, "br0");
	if (have_vlan) {
		s = fdb_find(e, n, VLAN_MAC);
		assert_non_null(s);
		assert_string_equal(s->bridge, "br1");
		assert_string_equal(s->port, "v1");
		assert_int_equal(s->vlan, 10);
	}
	/* a device's own address list (no master) is not a forwarding database */
	assert_null(fdb_find(e, n, SELF_MAC));
	free(e);
}

static void test_find_fdb_asks_for_one_mac(void **state)
{
	struct vifmac_fdb_entry *e = NULL;
	size_t n = 99;
	struct vifmac_mac m = mac_of(STATIC_MAC);

	assert_int_equal(vifmac_netlink_find_fdb(&m, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].bridge, "br0");
	assert_string_equal(e[0].port, "v0");
	free(e);
	/* on the VLAN-filtering bridge (entries per VLAN: found through a dump) */
	if (have_vlan) {
		m = mac_of(VLAN_MAC);
		e = NULL;
		assert_int_equal(vifmac_netlink_find_fdb(&m, &e, &n), 0);
		assert_int_equal(n, 1);
		assert_string_equal(e[0].bridge, "br1");
		assert_int_equal(e[0].vlan, 10);
		free(e);
	}
	/* the port's own address: found too, marked local */
	m = mac_of("02:00:00:00:00:10");
	e = NULL;
	assert_int_equal(vifmac_netlink_find_fdb(&m, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_true(e[0].local);
	free(e);
	m = mac_of(ABSENT_MAC);
	e = NULL;
	assert_int_equal(vifmac_netlink_find_fdb(&m, &e, &n), 0);
	assert_int_equal(n, 0);
	free(e);
}

static const struct vifmac_neigh_entry *neigh_find(const struct vifmac_neigh_entry *e, size_t n, const char *ip)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].ip, ip) == 0)
			return &e[i];
	return NULL;
}

static void test_neighbours_with_a_usable_address(void **state)
{
	struct vifmac_neigh_entry *e = NULL;
	const struct vifmac_neigh_entry *x;
	size_t n = 0;
	struct vifmac_mac m = mac_of("02:00:00:00:00:05");

	assert_int_equal(vifmac_netlink_list_neigh(&e, &n), 0);
	x = neigh_find(e, n, "192.0.2.5");
	assert_non_null(x);
	assert_true(vifmac_mac_equal(&x->mac, &m));
	assert_string_equal(x->ifname, "v0p");
	assert_string_equal(x->state, "permanent");
	assert_string_equal(neigh_find(e, n, "192.0.2.6")->state, "stale");
	x = neigh_find(e, n, "2001:db8::8");
	assert_non_null(x);
	assert_string_equal(x->state, "noarp");
	/* failed: no address to compare */
	assert_null(neigh_find(e, n, "192.0.2.7"));
	free(e);
}

struct watched {
	struct vifmac_fdb_entry first;
	int r;
};

/* The first FDB entry learned; links coming and going are other events. */
static int stop_at_first(void *data, const struct vifmac_watch_event *e, int *wake_ms)
{
	(void)wake_ms;
	if (e->what != VIFMAC_WATCH_LEARNED)
		return 0;
	((struct watched *)data)->first = e->fdb;
	return 1;
}

static void *watcher(void *data)
{
	struct watched *w = data;

	w->r = vifmac_netlink_watch(stop_at_first, w);
	return NULL;
}

static void test_watch_reports_learned_entries_not_permanent_ones(void **state)
{
	struct watched w = { .r = 1 };
	pthread_t t;
	void *ret;
	int tries;

	assert_int_equal(pthread_create(&t, NULL, watcher, &w), 0);
	/*
	 * The watcher subscribes at some point after the thread starts: add a
	 * permanent entry, then a static one, again with new MACs until it has
	 * reported something. If permanent entries were not skipped, the
	 * first report would be a permanent one.
	 */
	for (tries = 0; tries < 500; tries++) {
		char cmd[160];

		if (pthread_tryjoin_np(t, &ret) == 0)
			break;
		snprintf(cmd, sizeof(cmd), "bridge fdb add 02:bb:00:00:%02x:%02x dev v0 master permanent", tries / 256,
			 tries % 256);
		sh(cmd);
		snprintf(cmd, sizeof(cmd), "bridge fdb add 02:cc:00:00:%02x:%02x dev v0 master static", tries / 256,
			 tries % 256);
		sh(cmd);
	}
	if (tries == 500)
		fail_msg("no FDB notification after 500 static entries");
	assert_int_equal(w.r, 0);
	assert_int_equal(w.first.mac.b[0], 0x02);
	assert_int_equal(w.first.mac.b[1], 0xcc);
	assert_string_equal(w.first.bridge, "br0");
	assert_string_equal(w.first.port, "v0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_carry_mac_and_master_names),
		cmocka_unit_test(test_fdb_lists_the_bridges_entries_only),
		cmocka_unit_test(test_find_fdb_asks_for_one_mac),
		cmocka_unit_test(test_neighbours_with_a_usable_address),
		cmocka_unit_test(test_watch_reports_learned_entries_not_permanent_ones),
	};

	if (geteuid() != 0) {
		printf("SKIP: test-netlink needs root to create its network namespace (CI runs as root)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, NULL);
}
