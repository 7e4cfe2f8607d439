/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry contract, racing processes: hosts claiming the same MACs at
 * once (one winner each, named to every loser, nothing lost), and vifs taking
 * over a stale claim of this host through the hotplug pipeline (the -ESTALE
 * race: one winner, the losers told the winner's live claim).
 */
#include "contract.h"

#include <sys/wait.h>

/* ---------------------------------------------------------------- concurrency */

#define N_SHARED 32
#define OWN_BASE 1000

struct race_outcome {
	int result[N_SHARED]; /* 0 won, 1 lost, < 0 error */
	char told_uuid[N_SHARED][VIFMAC_UUID_STRLEN];
	char told_host[N_SHARED][256];
	int own_result;
	int reclaim_errors;
	char error[256];
};

/* Reads exactly one @size-byte outcome from @fd. */
static void read_outcome(int fd, void *buf, size_t size, unsigned who)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, (char *)buf + got, size - got);

		if (n <= 0)
			fail_msg("process %u sent no outcome", who);
		got += (size_t)n;
	}
}

/*
 * One "host": its own context and registry handle; waits for EOF on @start,
 * claims every shared MAC in its own order and one of its own, waits for EOF
 * on @restart, re-claims what it won; writes its outcome to @out.
 */
static void claimer(struct fixture *f, unsigned id, int start, int restart, int out)
{
	struct race_outcome o;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg = NULL;
	unsigned order[N_SHARED];
	char c;
	int r;

	memset(&o, 0, sizeof(o));
	snprintf(f->sys.hostname, sizeof(f->sys.hostname), "host-%u", id);
	ctx = ctx_for(f);
	r = vifmac_registry_open(ctx, NULL, &reg);
	if (r < 0) {
		snprintf(o.error, sizeof(o.error), "open: %s", vifmac_ctx_last_error(ctx));
		o.own_result = r;
	}
	for (unsigned i = 0; i < N_SHARED; i++)
		order[i] = i;
	srand(id * 31 + 7);
	for (unsigned i = N_SHARED - 1; i > 0; i--) {
		unsigned j = (unsigned)rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	if (read(start, &c, 1) != 0)
		_exit(3);
	for (unsigned i = 0; i < N_SHARED && reg; i++) {
		unsigned m = order[i];
		struct vifmac_record rec = rt_rec(id, m, (int)m), holder;

		r = vifmac_registry_claim(reg, &rec, &holder);
		o.result[m] = r == 0 ? 0 : r == -EEXIST ? 1 : r;
		if (r == -EEXIST) {
			snprintf(o.told_uuid[m], sizeof(o.told_uuid[m]), "%s", holder.uuid);
			snprintf(o.told_host[m], sizeof(o.told_host[m]), "%s", holder.host);
		} else if (r < 0 && !o.error[0]) {
			snprintf(o.error, sizeof(o.error), "claim: %s", vifmac_ctx_last_error(ctx));
		}
	}
	if (reg) {
		struct vifmac_record rec = rt_rec(id, OWN_BASE + id, 100);

		o.own_result = vifmac_registry_claim(reg, &rec, NULL);
		if (o.own_result < 0 && !o.error[0])
			snprintf(o.error, sizeof(o.error), "own claim: %s", vifmac_ctx_last_error(ctx));
	}
	/* a restart: everybody re-claims what it won, at once */
	if (read(restart, &c, 1) != 0)
		_exit(3);
	for (unsigned m = 0; m < N_SHARED && reg; m++) {
		struct vifmac_record rec = rt_rec(id, m, (int)m);

		if (o.result[m] != 0)
			continue;
		r = vifmac_registry_claim(reg, &rec, NULL);
		if (r < 0) {
			o.reclaim_errors++;
			if (!o.error[0])
				snprintf(o.error, sizeof(o.error), "reclaim: %s", vifmac_ctx_last_error(ctx));
		}
	}
	vifmac_registry_close(reg);
	vifmac_ctx_unref(ctx);
	if (write(out, &o, sizeof(o)) != (ssize_t)sizeof(o))
		_exit(3);
	_exit(0);
}

static int note_race_record(void *data, const struct vifmac_record *rec)
{
	struct vifmac_record *table = data;
	unsigned i = ((unsigned)rec->mac.b[3] << 16) | ((unsigned)rec->mac.b[4] << 8) | rec->mac.b[5];

	if (i < N_SHARED)
		table[i] = *rec;
	else if (i >= OWN_BASE && i < OWN_BASE + MAX_RACERS)
		table[N_SHARED + i - OWN_BASE] = *rec;
	else
		fail_msg("unexpected record %u", i);
	return 0;
}

static void test_racing_hosts_have_one_winner_per_mac_named_to_every_loser(void **state)
{
	struct fixture *f = *state;
	unsigned n = racers(64);
	static struct race_outcome o[MAX_RACERS];
	static struct vifmac_record table[N_SHARED + MAX_RACERS];
	int start[2], restart[2], out[MAX_RACERS][2];
	pid_t pids[MAX_RACERS];
	int64_t t0;

	assert_true(n >= 2 && n <= MAX_RACERS);
	memset(table, 0, sizeof(table));
	assert_int_equal(pipe(start), 0);
	assert_int_equal(pipe(restart), 0);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(pipe(out[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(start[1]);
			close(restart[1]);
			close(out[i][0]);
			claimer(f, i, start[0], restart[0], out[i][1]);
		}
		close(out[i][1]);
	}
	close(start[0]);
	close(restart[0]);
	t0 = tu_mono_ms();
	close(start[1]); /* go */
	/* the restart signal may come while some still claim: the re-claims then race the first round */
	usleep(100 * 1000);
	close(restart[1]);
	for (unsigned i = 0; i < n; i++) {
		int st;

		read_outcome(out[i][0], &o[i], sizeof(o[i]), i);
		close(out[i][0]);
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	print_message("      %u hosts x %d claims + re-claims: %lld ms\n", n, N_SHARED + 1,
		      (long long)(tu_mono_ms() - t0));

	assert_int_equal(vifmac_registry_list(f->reg, note_race_record, table), 0);
	assert_int_equal(count(f->reg), N_SHARED + n);
	for (unsigned i = 0; i < n; i++) {
		char uuid[VIFMAC_UUID_STRLEN];

		if (o[i].error[0])
			fail_msg("host %u: %s", i, o[i].error);
		assert_int_equal(o[i].own_result, 0);
		assert_int_equal(o[i].reclaim_errors, 0);
		rt_uuid(i, uuid);
		assert_string_equal(table[N_SHARED + i].uuid, uuid); /* its own MAC is recorded */
	}
	for (unsigned m = 0; m < N_SHARED; m++) {
		unsigned winners = 0, losers = 0;

		assert_true(table[m].uuid[0]);
		for (unsigned i = 0; i < n; i++) {
			char uuid[VIFMAC_UUID_STRLEN], host[32];

			rt_uuid(i, uuid);
			snprintf(host, sizeof(host), "host-%u", i);
			if (o[i].result[m] == 0) {
				winners++;
				assert_string_equal(table[m].uuid, uuid);
				assert_string_equal(table[m].host, host);
			} else {
				assert_int_equal(o[i].result[m], 1);
				losers++;
				assert_string_equal(o[i].told_uuid[m], table[m].uuid);
				assert_string_equal(o[i].told_host[m], table[m].host);
			}
		}
		assert_int_equal(winners, 1);
		assert_int_equal(losers, n - 1);
	}
}

/* ---------------------------------------------------------------- take-over of stale claims */

/* A claim left by a domain that is gone (dom0 crashed), recorded by @host. */
static void leave_claim(struct fixture *f, const char *mac, const char *name, const char *uuid, const char *host)
{
	struct vifmac_record rec = tr_claim_rec(mac, "*", name, uuid, 0, "192.0.2.10");

	snprintf(rec.host, sizeof(rec.host), "%s", host);
	rec.created = T0;
	rec.updated = T0;
	assert_int_equal(vifmac_registry_insert(f->reg, &rec, NULL), 0);
}

static int online(struct fixture *f, struct vifmac_registry *reg, const char *xenbus_path,
		  struct vifmac_decision *d)
{
	struct vifmac_hotplug_vif vif;
	int r = vifmac_hotplug_read(f->ctx, xenbus_path, &vif);

	if (r < 0)
		return r;
	return vifmac_hotplug_online(f->ctx, reg, &vif, vifmac_hotplug_mode_for(&vif), d);
}

#define UUID_OLD "9cf1a2b3-c4d5-4e6f-8a7b-8c9d0e1f2a3b" /* web1 before dom0 crashed */

static void test_stale_claim_of_this_host_is_taken_over_and_reported(void **state)
{
	struct fixture *f = *state;
	struct vifmac_decision d;
	struct found *found;

	/* dom0 crashed: web1 comes back from a config without uuid= (a new UUID) */
	strcpy(f->sys.hostname, "dom0-a");
	leave_claim(f, POLICY_MAC, "web1", UUID_OLD, "dom0-a");
	f->sys.now = T0 + 60;
	assert_int_equal(online(f, f->reg, "backend/vif/5/0", &d), 0);
	assert_string_equal(fake_get(&f->sys, "/local/domain/5/device/vif/0/mac"), POLICY_MAC);
	found = by_mac(f, POLICY_MAC);
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].uuid, "aaaaaaaa-1111-4000-8000-000000000001");
	assert_string_equal(found->recs[0].host, "dom0-a");
	assert_non_null(strstr(d.warning, "took over the claim of " POLICY_MAC " by domain web1 (uuid " UUID_OLD
					  ") vif 0, recorded by this host (dom0-a) since 2023-11-14 22:13:20 UTC"));
	assert_non_null(strstr(d.warning, "no domain with that UUID exists here"));
	assert_int_equal(by_domain(f, UUID_OLD), 0);
}

static void test_stale_claim_of_another_host_is_never_taken_over(void **state)
{
	struct fixture *f = *state;
	struct vifmac_decision d;
	struct found *found;
	char line[1024];

	strcpy(f->sys.hostname, "dom0-a");
	leave_claim(f, POLICY_MAC, "web1", UUID_OLD, "dom0-b");
	assert_int_equal(online(f, f->reg, "backend/vif/5/0", &d), -EEXIST);
	assert_string_equal(d.refusal.holder.host, "dom0-b");
	vifmac_refusal_format(&d.refusal, line, sizeof(line));
	assert_non_null(strstr(line, "on host dom0-b"));
	found = by_mac(f, POLICY_MAC);
	assert_int_equal(found->n, 1);
	assert_string_equal(found->recs[0].uuid, UUID_OLD);
	assert_string_equal(d.warning, "");
	assert_string_equal(fake_get(&f->sys, "/local/domain/0/backend/vif/5/0/mac"), "00:16:3e:12:34:56");
}

/*
 * Eight new domains of one address each see the stale claim; one takes it
 * over, and the others' take-over finds it changed (-ESTALE), judge again
 * and meet the winner's live claim.
 */
static void test_vifs_racing_for_a_stale_claim_have_one_winner(void **state)
{
	enum { RACERS = 8 };
	struct fixture *f = *state;
	pid_t pids[RACERS];
	int gate[2], won = 0, lost = 0;
	struct found *found;

	strcpy(f->sys.hostname, "dom0-a");
	leave_claim(f, POLICY_MAC, "web1", UUID_OLD, "dom0-a");
	for (int i = 0; i < RACERS; i++) {
		char name[16], uuid[VIFMAC_UUID_STRLEN];

		snprintf(uuid, sizeof(uuid), "7e570000-0000-4000-8000-00000000%04x", (unsigned)i);
		snprintf(name, sizeof(name), "racer%d", i);
		fake_add_domain(&f->sys, 20 + (unsigned)i, name, uuid, true);
		fake_add_vif(&f->sys, 20 + (unsigned)i, 0, "00:16:3e:20:20:20", "xenbr0", "192.0.2.10", "vif");
	}
	assert_int_equal(pipe(gate), 0);
	for (int i = 0; i < RACERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct vifmac_registry *reg;
			struct vifmac_decision d;
			char path[64], c;
			int r;

			close(gate[1]);
			if (read(gate[0], &c, 1) != 0 || vifmac_registry_open(f->ctx, NULL, &reg) < 0)
				_exit(3);
			snprintf(path, sizeof(path), "backend/vif/%d/0", 20 + i);
			r = online(f, reg, path, &d);
			/* a loser is told the winner's live claim, never the stale one */
			if (r == -EEXIST && strcmp(d.refusal.holder.uuid, UUID_OLD) == 0)
				_exit(4);
			vifmac_registry_close(reg);
			_exit(r == 0 ? 0 : r == -EEXIST ? 1 : 2);
		}
	}
	close(gate[0]);
	close(gate[1]); /* all go */
	for (int i = 0; i < RACERS; i++) {
		int st;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st) > 1)
			fail_msg("racer %d: exit %d", i, WEXITSTATUS(st));
		won += WEXITSTATUS(st) == 0;
		lost += WEXITSTATUS(st) == 1;
	}
	assert_int_equal(won, 1);
	assert_int_equal(lost, RACERS - 1);
	found = by_mac(f, POLICY_MAC);
	assert_int_equal(found->n, 1);
	assert_string_not_equal(found->recs[0].uuid, UUID_OLD);
	assert_non_null(strstr(found->recs[0].domain, "racer"));
}

#define HOTPLUG_CASE(t) cmocka_unit_test_setup_teardown(t, setup_hotplug, teardown)

const struct CMUnitTest contract_race_tests[] = {
	cmocka_unit_test_setup_teardown(test_racing_hosts_have_one_winner_per_mac_named_to_every_loser, setup, teardown),
	HOTPLUG_CASE(test_stale_claim_of_this_host_is_taken_over_and_reported),
	HOTPLUG_CASE(test_stale_claim_of_another_host_is_never_taken_over),
	HOTPLUG_CASE(test_vifs_racing_for_a_stale_claim_have_one_winner),
};
const size_t contract_race_tests_n = sizeof(contract_race_tests) / sizeof(contract_race_tests[0]);
