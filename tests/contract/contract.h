/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The registry contract suite's fixture (tests/contract/contract.c): the
 * backend under test, a fresh registry per case on it, the fake system seam,
 * and the helpers the cases share. The cases: test-registry-contract.c
 * (records), contract-races.c (racing processes, take-over), contract-pools.c.
 */
#ifndef VIFMAC_CONTRACT_H
#define VIFMAC_CONTRACT_H

#include "testutil.h"

#include <errno.h>
#include <stdbool.h>

#include "fake-sys.h"
#include "registry-test.h"
#include "testreg.h"

#define P TEST_DATA_DIR "/pools/"
#define T0 1700000000
#define UUID_A "11111111-1111-1111-1111-111111111111"
#define UUID_B "22222222-2222-2222-2222-222222222222"
#define UUID_C "33333333-3333-3333-3333-333333333333"
#define UUID_D "44444444-4444-4444-4444-444444444444"
#define UUID_E "55555555-5555-5555-5555-555555555555"
#define POLICY_MAC "02:00:c0:00:02:0a" /* prefix 02:00 + 192.0.2.10 */
#define MAX_RACERS 64

struct fixture {
	struct fake_sys sys; /* first: the fake seam's functions get the fixture as their fake_sys */
	int list_error;      /* list_domains fails with this when non-zero */
	char dir[64];
	char conf[128];
	char url[600]; /* the registry= of the policy */
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
};

/* Pools named by bridge_pools for xenpub, quarantine one hour. */
#define POOL_POLICY                                   \
	"public_bridges = [ \"xenpub\" ]\n"           \
	"bridge_pools = [ \"xenpub=ipam,block\" ]\n" \
	"pool_quarantine = \"1h\"\n"

#define FOUND_MAX 128

struct found {
	struct vifmac_record recs[FOUND_MAX];
	size_t n;
};

/* The backend: $VIFMAC_CONTRACT_URL, "sqlite" when unset. */
const char *backend_url(void);
bool on_etcd(void);
/* How many processes race: $VIFMAC_CONTRACT_RACERS, else @on_sqlite on SQLite, 8 on etcd. */
unsigned racers(unsigned on_sqlite);
/* The fake seam, whose list_domains fails with the fixture's list_error when set. */
struct vifmac_sys_ops contract_ops(void);
/* Writes the policy (registry= a fresh file, or a fresh etcd prefix, named by @tag; then @extra). */
void write_policy(struct fixture *f, const char *tag, const char *extra);
/* A context on @f's policy and seam; its registry. */
struct vifmac_ctx *ctx_for(struct fixture *f);
struct vifmac_registry *open_reg(struct vifmac_ctx *ctx);
struct fixture *fixture_new(const char *extra);
int setup(void **state);         /* the default policy */
int setup_pools(void **state);   /* POOL_POLICY */
int setup_hotplug(void **state); /* xenbr0 private; web1 (domid 5) with vif 0 being plugged */
int teardown(void **state);

/* Claims @mac for (@uuid, @devid) with ip 192.0.2.10. */
int claim(struct fixture *f, const char *mac, const char *scope, const char *domain, const char *uuid, int devid,
	  struct vifmac_record *holder);
int collect(void *data, const struct vifmac_record *rec);
/* The records of @mac (a static buffer, one at a time). */
struct found *by_mac_on(struct vifmac_registry *reg, const char *mac);
struct found *by_mac(struct fixture *f, const char *mac);
size_t by_ip(struct fixture *f, const char *ip);
size_t by_domain(struct fixture *f, const char *domain);
size_t count(struct vifmac_registry *reg);

/* The cases of each file, run by test-registry-contract.c's main. */
extern const struct CMUnitTest contract_race_tests[];
extern const size_t contract_race_tests_n;
extern const struct CMUnitTest contract_pool_tests[];
extern const size_t contract_pool_tests_n;

#endif
