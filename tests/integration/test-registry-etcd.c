/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd backend's own promises, against a real 3-member cluster on
 * loopback ports (tests/etcd/cluster.sh; Debian's etcd-server). Hosts are
 * played by processes whose system seam gives another host name. The rules
 * every backend keeps (claims, scopes, reservations, gc, import, hosts
 * racing, pools) are in tests/contract/test-registry-contract.c, run on
 * etcd by tests/contract/test-registry-contract-etcd.sh.
 *
 *  1. one member killed while 8 hosts claim: every claim is recorded;
 *  2. two members killed: claims are refused within the budget, naming the
 *     endpoints; all endpoints down: the same, at once;
 *  3. members restarted: everything recorded before is there, indexes agree;
 *  4. TLS with a test CA and client certificates, user/password auth; a
 *     wrong password, a wrong CA, no client certificate: refused, clearly.
 *
 * Exit 0 pass, 1 fail, 77 skip (etcd not installed or not starting).
 */
#include <errno.h>
#include <signal.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry-test.h"

static char *cluster_dir, *tls_dir, *work_dir;
static char endpoints[512], tls_endpoints[512];
static const char *script;

/* ---------------------------------------------------------------- the cluster */

static int cluster(const char *args)
{
	char *cmd;
	int r;

	if (asprintf(&cmd, "%s %s", script, args) < 0)
		FAIL("out of memory");
	r = system(cmd);
	free(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : 128;
}

static void read_endpoints(const char *dir, char *buf, size_t size)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/endpoints", dir);
	f = fopen(path, "r");
	CHECK(f && fgets(buf, (int)size, f), "cannot read %s", path);
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void stop_clusters(void)
{
	char args[600];

	if (cluster_dir) {
		snprintf(args, sizeof(args), "stop %s", cluster_dir);
		cluster(args);
	}
	if (tls_dir) {
		snprintf(args, sizeof(args), "stop %s", tls_dir);
		cluster(args);
	}
}

static void on_exit_cleanup(void)
{
	stop_clusters();
	if (getenv("KEEP_ETCD_TEST"))
		return;
	if (cluster_dir)
		rt_rmdir(cluster_dir);
	if (tls_dir)
		rt_rmdir(tls_dir);
	if (work_dir)
		rt_rmdir(work_dir);
}

/* ---------------------------------------------------------------- a "host" */

struct host {
	char name[64];
	int64_t now;
	struct vifmac_domain_info domains[4];
	size_t n_domains;
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
};

static int64_t host_now(void *data)
{
	return ((struct host *)data)->now;
}

static int host_name(void *data, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ((struct host *)data)->name);
	return 0;
}

static int host_domains(void *data, struct vifmac_domain_info **ret, size_t *ret_n)
{
	struct host *h = data;

	*ret = calloc(h->n_domains + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, h->domains, h->n_domains * sizeof(**ret));
	*ret_n = h->n_domains;
	return 0;
}

static const struct vifmac_sys_ops host_ops = {
	.list_domains = host_domains,
	.now = host_now,
	.hostname = host_name,
};

/* Writes a policy for @url with @extra lines; returns its path (malloc'd). */
static char *write_policy(const char *tag, const char *url, const char *extra)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s.conf", work_dir, tag) < 0)
		FAIL("out of memory");
	f = fopen(path, "w");
	CHECK(f, "cannot write %s", path);
	fprintf(f, "registry = \"etcd:%s\"\n%s", url, extra ? extra : "");
	fclose(f);
	return path;
}

/* A host named @name on the registry the policy @conf names; 0 or the open's error. */
static int host_open(struct host *h, const char *name, const char *conf)
{
	int r;

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->now = 1000;
	h->ctx = vifmac_ctx_new();
	CHECK(h->ctx, "no context");
	vifmac_ctx_set_log_fn(h->ctx, rt_silent_log, NULL);
	r = vifmac_ctx_load_policy(h->ctx, conf);
	CHECK(r == 0, "policy %s: %s", conf, vifmac_ctx_last_error(h->ctx));
	vifmac_ctx_set_sys(h->ctx, &host_ops, h);
	return vifmac_registry_open(h->ctx, NULL, &h->reg);
}

static void host_close(struct host *h)
{
	vifmac_registry_close(h->reg);
	vifmac_ctx_unref(h->ctx);
	h->reg = NULL;
	h->ctx = NULL;
}

struct found {
	struct vifmac_record recs[64];
	size_t n;
};

static int collect(void *data, const struct vifmac_record *rec)
{
	struct found *f = data;

	if (f->n < 64)
		f->recs[f->n] = *rec;
	f->n++;
	return 0;
}

static size_t count(struct host *h)
{
	struct found f = { .n = 0 };
	int r = vifmac_registry_list(h->reg, collect, &f);

	CHECK(r == 0, "list: %d %s", r, vifmac_ctx_last_error(h->ctx));
	return f.n;
}

static char *prefixed_policy(const char *tag)
{
	char extra[256];

	snprintf(extra, sizeof(extra), "etcd_prefix = \"/vifmac/%s/\"\n", tag);
	return write_policy(tag, endpoints, extra);
}

/* ---------------------------------------------------------------- 1-3. faults */

#define N_FAULT_HOSTS 8
#define FAULT_CLAIMS 40

struct fault_outcome {
	int done, refused_other, errors;
	int64_t worst_ms;
	char error[300];
};

/* Claims FAULT_CLAIMS MACs of its own, one after the other. */
static void fault_claimer(const char *conf, unsigned id, unsigned base, int start, int out)
{
	struct host h;
	struct fault_outcome o;
	char name[32], c;

	memset(&o, 0, sizeof(o));
	snprintf(name, sizeof(name), "host-%u", id);
	if (host_open(&h, name, conf) < 0) {
		snprintf(o.error, sizeof(o.error), "open: %s", vifmac_ctx_last_error(h.ctx));
		o.errors++;
	}
	if (read(start, &c, 1) != 0)
		_exit(3);
	for (unsigned i = 0; i < FAULT_CLAIMS && h.reg; i++) {
		struct vifmac_record rec = rt_rec(id, base + id * 1000 + i, (int)i);
		int64_t t0 = rt_mono_ms(), dt;
		int r = vifmac_registry_claim(h.reg, &rec, NULL);

		dt = rt_mono_ms() - t0;
		if (dt > o.worst_ms)
			o.worst_ms = dt;
		if (r == 0)
			o.done++;
		else if (r == -EEXIST)
			o.refused_other++;
		else {
			o.errors++;
			if (!o.error[0])
				snprintf(o.error, sizeof(o.error), "%s", vifmac_ctx_last_error(h.ctx));
		}
		usleep(10000);
	}
	if (write(out, &o, sizeof(o)) != (ssize_t)sizeof(o))
		_exit(3);
	host_close(&h);
	_exit(0);
}

/* Runs the claimers; calls @during (when not NULL) after @delay_ms; collects. */
static void run_claimers(const char *conf, unsigned base, void (*during)(void), int delay_ms,
			 struct fault_outcome *o)
{
	int start[2], out[N_FAULT_HOSTS][2];
	pid_t pids[N_FAULT_HOSTS];

	CHECK(pipe(start) == 0, "pipe");
	for (unsigned i = 0; i < N_FAULT_HOSTS; i++) {
		CHECK(pipe(out[i]) == 0, "pipe");
		pids[i] = fork();
		CHECK(pids[i] >= 0, "fork");
		if (pids[i] == 0) {
			close(start[1]);
			fault_claimer(conf, i, base, start[0], out[i][1]);
		}
		close(out[i][1]);
	}
	close(start[0]);
	close(start[1]);
	if (during) {
		usleep((useconds_t)delay_ms * 1000);
		during();
	}
	for (unsigned i = 0; i < N_FAULT_HOSTS; i++) {
		int status;

		CHECK(read(out[i][0], &o[i], sizeof(o[i])) == (ssize_t)sizeof(o[i]), "claimer %u gave no outcome", i);
		close(out[i][0]);
		waitpid(pids[i], &status, 0);
	}
}

static void kill_member(int n)
{
	char args[600];

	snprintf(args, sizeof(args), "kill %s %d", cluster_dir, n);
	CHECK(cluster(args) == 0, "cannot kill member %d", n);
}

static void restart_member(int n)
{
	char args[600];

	snprintf(args, sizeof(args), "restart %s %d", cluster_dir, n);
	CHECK(cluster(args) == 0, "cannot restart member %d", n);
}

static void kill_first_member(void)
{
	kill_member(1); /* the one every client talks to first */
}

static void test_faults(void)
{
	char *conf = prefixed_policy("faults");
	struct fault_outcome o[N_FAULT_HOSTS];
	struct host h;
	int64_t t0, dt;
	int r, total = 0;
	char *down_conf;

	/* 1. one member killed mid-run: every claim still recorded */
	run_claimers(conf, 0, kill_first_member, 150, o);
	for (unsigned i = 0; i < N_FAULT_HOSTS; i++) {
		CHECK(o[i].errors == 0 && o[i].refused_other == 0,
		      "host %u with one member down: %d errors (%s)", i, o[i].errors, o[i].error);
		CHECK(o[i].done == FAULT_CLAIMS, "host %u: %d claims done", i, o[i].done);
		total += o[i].done;
	}
	CHECK(host_open(&h, "checker", conf) == 0, "open");
	CHECK(count(&h) == (size_t)total, "recorded %zu of %d", count(&h), total);
	printf("ok 1 - member 1 killed while %d hosts claimed: all %d claims recorded\n", N_FAULT_HOSTS, total);

	/* 2. two members down: no quorum; refused within the budget, naming the endpoints */
	kill_member(2);
	{
		struct vifmac_record rec = rt_rec(99, 50000, 0);

		t0 = rt_mono_ms();
		r = vifmac_registry_claim(h.reg, &rec, NULL);
		dt = rt_mono_ms() - t0;
		CHECK(r < 0 && r != -EEXIST, "a claim without quorum returned %d", r);
		CHECK(dt < 6500, "a claim without quorum took %lld ms", (long long)dt);
		CHECK(strstr(vifmac_ctx_last_error(h.ctx), "127.0.0.1"),
		      "the refusal does not name the endpoints: %s", vifmac_ctx_last_error(h.ctx));
		printf("# no quorum: refused in %lld ms: %s\n", (long long)dt, vifmac_ctx_last_error(h.ctx));
		t0 = rt_mono_ms();
		r = vifmac_registry_list(h.reg, collect, &(struct found){ .n = 0 });
		dt = rt_mono_ms() - t0;
		CHECK(r < 0 && dt < 6500, "a read without quorum returned %d after %lld ms", r, (long long)dt);
	}
	host_close(&h);
	/* all endpoints down (ports nobody listens on): refused at once */
	{
		char url[600], *p;
		struct vifmac_record rec = rt_rec(98, 50001, 0);

		snprintf(url, sizeof(url), "%s", endpoints);
		/* member 1 and 2 are dead: keep only theirs */
		p = strrchr(url, ',');
		if (p)
			*p = '\0';
		down_conf = write_policy("down", url, "etcd_prefix = \"/vifmac/faults/\"\n");
		CHECK(host_open(&h, "host-x", down_conf) == 0, "open on dead endpoints");
		t0 = rt_mono_ms();
		r = vifmac_registry_claim(h.reg, &rec, NULL);
		dt = rt_mono_ms() - t0;
		CHECK(r == -EHOSTUNREACH, "all endpoints down: %d (%s)", r, vifmac_ctx_last_error(h.ctx));
		CHECK(dt < 6000, "all endpoints down took %lld ms", (long long)dt);
		CHECK(strstr(vifmac_ctx_last_error(h.ctx), "refused") || strstr(vifmac_ctx_last_error(h.ctx), "onnect"),
		      "the refusal does not say why: %s", vifmac_ctx_last_error(h.ctx));
		printf("# all endpoints down: refused in %lld ms: %s\n", (long long)dt, vifmac_ctx_last_error(h.ctx));
		host_close(&h);
		free(down_conf);
	}
	printf("ok 2 - without quorum, and with every endpoint down, claims are refused within the budget\n");

	/* 3. restart them: nothing lost, indexes agree, claims go on */
	restart_member(1);
	restart_member(2);
	CHECK(host_open(&h, "checker", conf) == 0, "open");
	{
		struct found all = { .n = 0 };
		size_t n;

		CHECK(vifmac_registry_list(h.reg, collect, &all) == 0, "list: %s", vifmac_ctx_last_error(h.ctx));
		n = all.n;
		/* the refused claim is absent, or (sent before the cluster lost quorum) its own claimer's */
		CHECK(n == (size_t)total || n == (size_t)total + 1, "after the restart %zu records, %d expected", n,
		      total);
		for (unsigned i = 0; i < N_FAULT_HOSTS; i++)
			for (unsigned k = 0; k < FAULT_CLAIMS; k++) {
				struct vifmac_record want = rt_rec(i, i * 1000 + k, (int)k);
				struct found f = { .n = 0 }, g = { .n = 0 };

				CHECK(vifmac_registry_lookup_mac(h.reg, &want.mac, collect, &f) == 0 && f.n == 1 &&
					      strcmp(f.recs[0].uuid, want.uuid) == 0,
				      "host %u claim %u lost", i, k);
				CHECK(vifmac_registry_lookup_ip(h.reg, want.ip, collect, &g) == 0 && g.n == 1,
				      "address index of %s: %zu", want.ip, g.n);
			}
		for (unsigned i = 0; i < N_FAULT_HOSTS; i++) {
			struct found f = { .n = 0 };
			char uuid[VIFMAC_UUID_STRLEN];

			rt_uuid(i, uuid);
			CHECK(vifmac_registry_lookup_domain(h.reg, uuid, collect, &f) == 0 && f.n == FAULT_CLAIMS,
			      "owner index of host %u: %zu", i, f.n);
		}
	}
	run_claimers(conf, 100000, NULL, 0, o);
	for (unsigned i = 0; i < N_FAULT_HOSTS; i++)
		CHECK(o[i].errors == 0 && o[i].done == FAULT_CLAIMS, "after the restart host %u: %d errors (%s)", i,
		      o[i].errors, o[i].error);
	host_close(&h);
	free(conf);
	printf("ok 3 - members restarted: every record there, indexes agree, claims go on\n");
}

/* ---------------------------------------------------------------- 4. TLS and auth */

static void test_tls_and_auth(void)
{
	char extra[2048], *conf;
	struct host h;
	int r;
	struct vifmac_record rec = rt_rec(7, 0x0701, 0);
	char bad_password[600];
	FILE *f;

	/* everything right */
	snprintf(extra, sizeof(extra),
		 "etcd_cacert = \"%1$s/ca.pem\"\netcd_cert = \"%1$s/client.pem\"\netcd_key = \"%1$s/client-key.pem\"\n"
		 "etcd_user = \"vifmac\"\netcd_password_file = \"%1$s/password\"\n",
		 tls_dir);
	conf = write_policy("tls", tls_endpoints, extra);
	r = host_open(&h, "host-tls", conf);
	CHECK(r == 0, "open with TLS and auth: %s", vifmac_ctx_last_error(h.ctx));
	r = vifmac_registry_claim(h.reg, &rec, NULL);
	CHECK(r == 0, "claim with TLS and auth: %s", vifmac_ctx_last_error(h.ctx));
	CHECK(count(&h) == 1, "TLS list");
	host_close(&h);
	free(conf);

	/* a wrong password: refused when opening, naming the user */
	snprintf(bad_password, sizeof(bad_password), "%s/bad-password", work_dir);
	f = fopen(bad_password, "w");
	CHECK(f, "write %s", bad_password);
	fputs("not-the-password\n", f);
	fclose(f);
	snprintf(extra, sizeof(extra),
		 "etcd_cacert = \"%1$s/ca.pem\"\netcd_cert = \"%1$s/client.pem\"\netcd_key = \"%1$s/client-key.pem\"\n"
		 "etcd_user = \"vifmac\"\netcd_password_file = \"%2$s\"\n",
		 tls_dir, bad_password);
	conf = write_policy("badpw", tls_endpoints, extra);
	r = host_open(&h, "host-tls", conf);
	CHECK(r == -EACCES, "a wrong password: %d (%s)", r, vifmac_ctx_last_error(h.ctx));
	CHECK(strstr(vifmac_ctx_last_error(h.ctx), "vifmac") &&
		      strstr(vifmac_ctx_last_error(h.ctx), "authentication failed"),
	      "a wrong password is not told clearly: %s", vifmac_ctx_last_error(h.ctx));
	printf("# wrong password: %s\n", vifmac_ctx_last_error(h.ctx));
	host_close(&h);
	free(conf);

	/* no user: the cluster refuses the request, clearly and at once */
	snprintf(extra, sizeof(extra),
		 "etcd_cacert = \"%1$s/ca.pem\"\netcd_cert = \"%1$s/client.pem\"\netcd_key = \"%1$s/client-key.pem\"\n",
		 tls_dir);
	conf = write_policy("nouser", tls_endpoints, extra);
	CHECK(host_open(&h, "host-tls", conf) == 0, "open without a user");
	r = vifmac_registry_claim(h.reg, &rec, NULL);
	CHECK(r == -EACCES, "a claim without a user: %d (%s)", r, vifmac_ctx_last_error(h.ctx));
	printf("# no user: %s\n", vifmac_ctx_last_error(h.ctx));
	host_close(&h);
	free(conf);

	/* a CA that did not sign the members' certificates */
	snprintf(extra, sizeof(extra),
		 "etcd_cacert = \"%1$s/other-ca.pem\"\netcd_cert = \"%1$s/client.pem\"\n"
		 "etcd_key = \"%1$s/client-key.pem\"\netcd_user = \"vifmac\"\netcd_password_file = \"%1$s/password\"\n",
		 tls_dir);
	conf = write_policy("badca", tls_endpoints, extra);
	CHECK(host_open(&h, "host-tls", conf) == 0, "open with another CA");
	{
		int64_t t0 = rt_mono_ms();

		r = vifmac_registry_claim(h.reg, &rec, NULL);
		CHECK(r == -EACCES && rt_mono_ms() - t0 < 2000, "a wrong CA: %d after %lld ms (%s)", r,
		      (long long)(rt_mono_ms() - t0), vifmac_ctx_last_error(h.ctx));
	}
	CHECK(strstr(vifmac_ctx_last_error(h.ctx), "certificate"), "a wrong CA is not told clearly: %s",
	      vifmac_ctx_last_error(h.ctx));
	printf("# wrong CA: %s\n", vifmac_ctx_last_error(h.ctx));
	host_close(&h);
	free(conf);

	/* no client certificate, which the cluster requires */
	snprintf(extra, sizeof(extra),
		 "etcd_cacert = \"%1$s/ca.pem\"\netcd_user = \"vifmac\"\netcd_password_file = \"%1$s/password\"\n",
		 tls_dir);
	conf = write_policy("nocert", tls_endpoints, extra);
	CHECK(host_open(&h, "host-tls", conf) == 0, "open without a client certificate");
	{
		int64_t t0 = rt_mono_ms();

		r = vifmac_registry_claim(h.reg, &rec, NULL);
		CHECK(r == -EACCES && rt_mono_ms() - t0 < 2000, "no client certificate: %d after %lld ms", r,
		      (long long)(rt_mono_ms() - t0));
	}
	printf("# no client certificate: %s\n", vifmac_ctx_last_error(h.ctx));
	host_close(&h);
	free(conf);
	printf("ok 4 - TLS with a test CA, client certificates and auth; wrong credentials refused clearly\n");
}

int main(void)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[600], args[700];
	int r;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (asprintf((char **)&script, "%s/tests/etcd/cluster.sh", top && *top ? top : ".") < 0)
		return 1;
	if (access(script, X_OK) < 0) {
		fprintf(stderr, "FAIL: %s not found (set TOP_SRCDIR)\n", script);
		return 1;
	}
	work_dir = rt_tempdir("vifmac-etcd-test");
	cluster_dir = rt_tempdir("vifmac-etcd-cluster");
	atexit(on_exit_cleanup);
	snprintf(args, sizeof(args), "start %s", cluster_dir);
	r = cluster(args);
	if (r != 0) {
		fprintf(stderr, "\n*** SKIP: test-registry-etcd: cannot start a 3-member etcd cluster (%s) ***\n"
				"*** install etcd-server (scripts/install-deps --tests) to run the cluster tests ***\n\n",
			r == 77 ? "etcd is not installed" : "etcd did not start; see the log above");
		return 77;
	}
	read_endpoints(cluster_dir, endpoints, sizeof(endpoints));
	printf("# cluster: %s\n", endpoints);

	test_faults();

	tls_dir = rt_tempdir("vifmac-etcd-tls");
	snprintf(args, sizeof(args), "start %s --tls --auth", tls_dir);
	r = cluster(args);
	CHECK(r == 0, "the TLS cluster did not start (%d)", r);
	snprintf(path, sizeof(path), "%s", tls_dir);
	read_endpoints(path, tls_endpoints, sizeof(tls_endpoints));
	printf("# TLS cluster: %s\n", tls_endpoints);
	test_tls_and_auth();
	return 0;
}
