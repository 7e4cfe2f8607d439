/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vifmac_watch through the fake seam: what it remembers of the bridges, and for how long. */
#include "testutil.h"

#include <errno.h>
#include <net/if.h>

#include "fake-sys.h"

/* The bound documented for vifmac_watch() (vifmac.h). */
#define MAX_SEEN 16384

/* One scripted notification: a MAC (by number) learned on or forgotten from a port of xenbr0. */
struct step {
	enum vifmac_watch_what what;
	unsigned mac;
	const char *port;
};

struct env {
	struct fake_sys fake; /* first: the fake seam's calls get this struct */
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	char dir[64];
	/* the script: filler MACs learned first (after @before), then @steps */
	const struct step *before;
	size_t n_before;
	unsigned fillers;
	const struct step *steps;
	size_t n_steps;
	size_t moves;
	char last_move[512];
};

static void event_of(const struct step *s, struct vifmac_watch_event *e)
{
	memset(e, 0, sizeof(*e));
	e->what = s->what;
	e->fdb.mac = (struct vifmac_mac){ { 0x02, 0x99, (uint8_t)(s->mac >> 16), (uint8_t)(s->mac >> 8), (uint8_t)s->mac, 0x01 } };
	snprintf(e->fdb.bridge, sizeof(e->fdb.bridge), "xenbr0");
	snprintf(e->fdb.port, sizeof(e->fdb.port), "%s", s->port);
	e->bridge_index = 3;
	e->port_index = s->port[strlen(s->port) - 1];
}

/* The kernel, scripted: what the test put in @env, then the end of the watch. */
static int replay(void *data, int (*fn)(void *fn_data, const struct vifmac_watch_event *e, int *wake_ms), void *fn_data)
{
	struct env *env = data;
	struct vifmac_watch_event e = { .what = VIFMAC_WATCH_START };
	int wake = -1;

	fn(fn_data, &e, &wake);
	for (size_t i = 0; i < env->n_before; i++) {
		event_of(&env->before[i], &e);
		fn(fn_data, &e, &wake);
	}
	for (unsigned i = 0; i < env->fillers; i++) {
		struct step s = { VIFMAC_WATCH_LEARNED, 1000 + i, "eth1" };

		event_of(&s, &e);
		fn(fn_data, &e, &wake);
	}
	for (size_t i = 0; i < env->n_steps; i++) {
		event_of(&env->steps[i], &e);
		fn(fn_data, &e, &wake);
	}
	return 0;
}

static int collect(void *data, const struct vifmac_finding *f)
{
	struct env *e = data;

	if (strcmp(f->kind, "mac-move") == 0) {
		e->moves++;
		snprintf(e->last_move, sizeof(e->last_move), "%s", f->message);
	}
	return 0;
}

static int setup(void **state)
{
	static struct vifmac_sys_ops ops;
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	fake_registry_env(&e->fake, &e->ctx, &e->reg, e->dir, sizeof(e->dir), "watch", NULL);
	ops = fake_sys_ops;
	ops.watch_bridges = replay;
	vifmac_ctx_set_sys(e->ctx, &ops, &e->fake);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fake_registry_env_free(e->ctx, e->reg, e->dir);
	free(e);
	return 0;
}

static const struct step first_on_eth0[] = { { VIFMAC_WATCH_LEARNED, 1, "eth0" } };
static const struct step then_on_eth2[] = { { VIFMAC_WATCH_LEARNED, 1, "eth2" } };

static void test_a_mac_learned_on_another_port_is_a_move(void **state)
{
	struct env *e = *state;

	e->before = first_on_eth0;
	e->n_before = 1;
	e->steps = then_on_eth2;
	e->n_steps = 1;
	assert_int_equal(vifmac_watch(e->ctx, e->reg, collect, e), 0);
	assert_int_equal(e->moves, 1);
	assert_non_null(strstr(e->last_move, "02:99:00:00:01:01 moved on bridge xenbr0 from port eth0 to port eth2"));
}

static void test_a_mac_the_bridge_forgot_is_forgotten(void **state)
{
	static const struct step forgotten[] = { { VIFMAC_WATCH_FORGOTTEN, 1, "eth0" },
						 { VIFMAC_WATCH_LEARNED, 1, "eth2" } };
	struct env *e = *state;

	e->before = first_on_eth0;
	e->n_before = 1;
	e->steps = forgotten;
	e->n_steps = 2;
	assert_int_equal(vifmac_watch(e->ctx, e->reg, collect, e), 0);
	assert_int_equal(e->moves, 0);
}

/* The kernel, scripted: a MAC learned on eth0 of "lo", then notifications lost. */
static int replay_overrun(void *data, int (*fn)(void *fn_data, const struct vifmac_watch_event *e, int *wake_ms),
			  void *fn_data)
{
	struct vifmac_watch_event e = { .what = VIFMAC_WATCH_START };
	struct step s = { VIFMAC_WATCH_LEARNED, 1, "eth0" };
	int wake = -1;

	(void)data;
	fn(fn_data, &e, &wake);
	event_of(&s, &e);
	/* a bridge that exists here, so that the FDB's names give the index events carry */
	snprintf(e.fdb.bridge, sizeof(e.fdb.bridge), "lo");
	e.bridge_index = (int)if_nametoindex("lo");
	fn(fn_data, &e, &wake);
	e = (struct vifmac_watch_event){ .what = VIFMAC_WATCH_OVERRUN };
	fn(fn_data, &e, &wake);
	return 0;
}

static int collect_lost(void *data, const struct vifmac_finding *f)
{
	struct env *e = data;

	if (strcmp(f->kind, "notifications-lost") == 0)
		e->fillers++; /* counts the reports here */
	return collect(data, f);
}

/* Lost notifications: the FDB is read again, and a move made meanwhile is reported. */
static void test_lost_notifications_read_the_fdb_again(void **state)
{
	struct env *e = *state;
	struct vifmac_sys_ops ops = fake_sys_ops;

	ops.watch_bridges = replay_overrun;
	vifmac_ctx_set_sys(e->ctx, &ops, &e->fake);
	/* what the bridge says after the burst: the MAC is on eth2 now, another one is new */
	fake_add_fdb(&e->fake, "02:99:00:00:01:01", "lo", "eth2", 0);
	fake_add_fdb(&e->fake, "02:99:00:00:02:01", "lo", "eth3", 0);
	assert_int_equal(vifmac_watch(e->ctx, e->reg, collect_lost, e), 0);
	assert_int_equal(e->fillers, 1);
	assert_int_equal(e->moves, 1);
	assert_non_null(strstr(e->last_move, "02:99:00:00:01:01 moved on bridge lo from port eth0 to port eth2"));
}

/* Below the bound every MAC is remembered: the oldest one's move is still seen. */
static void test_the_oldest_mac_is_kept_up_to_the_bound(void **state)
{
	struct env *e = *state;

	e->before = first_on_eth0;
	e->n_before = 1;
	e->fillers = MAX_SEEN - 1;
	e->steps = then_on_eth2;
	e->n_steps = 1;
	assert_int_equal(vifmac_watch(e->ctx, e->reg, collect, e), 0);
	assert_int_equal(e->moves, 1);
}

/* One more MAC than the bound: the least recently learned one goes. */
static void test_beyond_the_bound_the_least_recently_learned_mac_goes(void **state)
{
	struct env *e = *state;

	e->before = first_on_eth0;
	e->n_before = 1;
	e->fillers = MAX_SEEN;
	e->steps = then_on_eth2;
	e->n_steps = 1;
	assert_int_equal(vifmac_watch(e->ctx, e->reg, collect, e), 0);
	assert_int_equal(e->moves, 0);
}

/* Learned again (it is in use), a MAC is the most recent: the bound takes another. */
static void test_a_mac_learned_again_outlives_the_bound(void **state)
{
	static const struct step twice[] = { { VIFMAC_WATCH_LEARNED, 1, "eth0" }, { VIFMAC_WATCH_LEARNED, 2, "eth0" },
					     { VIFMAC_WATCH_LEARNED, 1, "eth0" } };
	static const struct step both_move[] = { { VIFMAC_WATCH_LEARNED, 1, "eth2" }, { VIFMAC_WATCH_LEARNED, 2, "eth2" } };
	struct env *e = *state;

	e->before = twice;
	e->n_before = 3;
	e->fillers = MAX_SEEN - 1; /* MAC 2 was the least recently learned */
	e->steps = both_move;
	e->n_steps = 2;
	assert_int_equal(vifmac_watch(e->ctx, e->reg, collect, e), 0);
	assert_int_equal(e->moves, 1);
	assert_non_null(strstr(e->last_move, "02:99:00:00:01:01 moved"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_mac_learned_on_another_port_is_a_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_mac_the_bridge_forgot_is_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_notifications_read_the_fdb_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_oldest_mac_is_kept_up_to_the_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_beyond_the_bound_the_least_recently_learned_mac_goes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_mac_learned_again_outlives_the_bound, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
