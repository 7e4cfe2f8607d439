/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A system seam built from the fuzz input, for the hotplug target: xenstore
 * and the domain list are the tests' one model (tests/fake/xsmodel.h, as
 * under tests/unit/fake-sys.h and tests/fake/fakexs.c), filled from the
 * input; this adapter adds the links, FDB and neighbour tables and fails on
 * request. The input decides how many nodes there are and how long values are.
 *
 * One line per item:
 *   OWNER PATH VALUE          a xenstore node (VALUE: rest of the line; \n, \\ and \xHH escapes)
 *   @xenbus PATH              $XENBUS_PATH for vifmac_hotplug_read
 *   @domain DOMID PAUSED UUID NAME
 *   @link NAME MAC [MASTER]
 *   @fdb MAC BRIDGE PORT AGE
 *   @neigh MAC IP IFNAME
 *   @eagain N                 the next N transaction commits fail with EAGAIN
 *   @fail OP                  OP (read, owner, directory, links, fdb, neigh, domain) fails with EIO
 *   @policy N                 which of the target's policies to use
 */
#ifndef VIFMAC_FUZZ_SEAM_H
#define VIFMAC_FUZZ_SEAM_H

#include "fuzz-common.h"
#include "xsmodel.h"

struct seam {
	struct xsm xs; /* nodes, every path read, transactions, domains */
	struct vifmac_link_info *links;
	size_t n_links;
	struct vifmac_fdb_entry *fdb;
	size_t n_fdb;
	struct vifmac_neigh_entry *neigh;
	size_t n_neigh;
	char *xenbus;
	unsigned fail; /* SEAM_FAIL_* bits */
	int policy;
};

enum {
	SEAM_FAIL_READ = 1 << 0,
	SEAM_FAIL_OWNER = 1 << 1,
	SEAM_FAIL_DIRECTORY = 1 << 2,
	SEAM_FAIL_LINKS = 1 << 3,
	SEAM_FAIL_FDB = 1 << 4,
	SEAM_FAIL_NEIGH = 1 << 5,
	SEAM_FAIL_DOMAIN = 1 << 6,
};

#define SEAM_GROW(arr, n)                                                  \
	do {                                                               \
		void *np_ = realloc((arr), ((n) + 1) * sizeof(*(arr)));    \
		if (!np_)                                                  \
			abort();                                           \
		(arr) = np_;                                               \
		memset(&(arr)[(n)], 0, sizeof(*(arr)));                    \
	} while (0)

/* Unescapes \n, \\, \xHH in place. */
static inline void seam_unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (*p == '\\' && p[1] == 'n') {
			*o++ = '\n';
			p++;
		} else if (*p == '\\' && p[1] == '\\') {
			*o++ = '\\';
			p++;
		} else if (*p == '\\' && p[1] == 'x' && p[2] && p[3]) {
			char hex[3] = { p[2], p[3], 0 }, *end;
			long v = strtol(hex, &end, 16);

			if (*end == '\0' && v != 0) {
				*o++ = (char)v;
				p += 3;
			} else {
				*o++ = *p;
			}
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

static inline void seam_mac(const char *s, struct vifmac_mac *m)
{
	if (!s || vifmac_mac_parse(s, m) < 0)
		memset(m, 0, sizeof(*m));
}

static inline void seam_line(struct seam *s, char *line)
{
	char *save = NULL, *w[6] = { 0 };
	size_t n = 0;

	if (line[0] != '@') {
		char *sp1 = strchr(line, ' '), *sp2;
		char *end;
		unsigned long owner;

		if (!sp1)
			return;
		*sp1 = '\0';
		owner = strtoul(line, &end, 10);
		if (*end || end == line)
			return;
		sp2 = strchr(sp1 + 1, ' ');
		if (sp2)
			*sp2 = '\0';
		seam_unescape(sp1 + 1);
		if (sp2)
			seam_unescape(sp2 + 1);
		if (xsm_set(&s->xs, sp1 + 1, sp2 ? sp2 + 1 : "", sp2 ? (unsigned)strlen(sp2 + 1) : 0,
			    (unsigned)owner) < 0)
			abort();
		return;
	}
	for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	if (n < 2)
		return;
	if (strcmp(w[0], "@xenbus") == 0) {
		free(s->xenbus);
		seam_unescape(w[1]);
		s->xenbus = strdup(w[1]);
	} else if (strcmp(w[0], "@domain") == 0 && n >= 4) {
		/* a later line for the same domid replaces the earlier one */
		if (xsm_domain_add(&s->xs, (unsigned)strtoul(w[1], NULL, 10), n >= 5 ? w[4] : "", w[3],
				   atoi(w[2]) != 0) < 0)
			abort();
	} else if (strcmp(w[0], "@link") == 0 && n >= 3) {
		struct vifmac_link_info *l;

		SEAM_GROW(s->links, s->n_links);
		l = &s->links[s->n_links++];
		vifmac_strscpy(l->name, w[1], sizeof(l->name));
		seam_mac(w[2], &l->mac);
		if (n >= 4)
			vifmac_strscpy(l->master, w[3], sizeof(l->master));
	} else if (strcmp(w[0], "@fdb") == 0 && n >= 4) {
		struct vifmac_fdb_entry *e;

		SEAM_GROW(s->fdb, s->n_fdb);
		e = &s->fdb[s->n_fdb++];
		seam_mac(w[1], &e->mac);
		vifmac_strscpy(e->bridge, w[2], sizeof(e->bridge));
		vifmac_strscpy(e->port, w[3], sizeof(e->port));
		e->age = n >= 5 ? strtoll(w[4], NULL, 10) : -1;
		e->local = n >= 6 && strcmp(w[5], "local") == 0;
	} else if (strcmp(w[0], "@neigh") == 0 && n >= 4) {
		struct vifmac_neigh_entry *e;

		SEAM_GROW(s->neigh, s->n_neigh);
		e = &s->neigh[s->n_neigh++];
		seam_mac(w[1], &e->mac);
		vifmac_strscpy(e->ip, w[2], sizeof(e->ip));
		vifmac_strscpy(e->ifname, w[3], sizeof(e->ifname));
		vifmac_strscpy(e->state, "reachable", sizeof(e->state));
	} else if (strcmp(w[0], "@eagain") == 0) {
		s->xs.eagain = atoi(w[1]) > 0 ? atoi(w[1]) : 0;
	} else if (strcmp(w[0], "@policy") == 0) {
		s->policy = atoi(w[1]);
	} else if (strcmp(w[0], "@fail") == 0) {
		static const char *const ops[] = { "read", "owner", "directory", "links", "fdb", "neigh", "domain" };

		for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
			if (strcmp(w[1], ops[i]) == 0)
				s->fail |= 1u << i;
	}
}

static inline void seam_load(struct seam *s, const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), *save = NULL;

	memset(s, 0, sizeof(*s));
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		seam_line(s, line);
	free(text);
}

static inline void seam_free(struct seam *s)
{
	xsm_free(&s->xs);
	free(s->links);
	free(s->fdb);
	free(s->neigh);
	free(s->xenbus);
}

static inline int seam_xs_read(void *data, unsigned long t, const char *path, char **ret)
{
	struct seam *s = data;

	if (s->fail & SEAM_FAIL_READ) {
		char *v = NULL;

		/* logged as a read all the same */
		if (xsm_seam_read(&s->xs, t, path, &v) == 0)
			free(v);
		return -EIO;
	}
	return xsm_seam_read(&s->xs, t, path, ret);
}

static inline int seam_xs_write(void *data, unsigned long t, const char *path, const char *value)
{
	return xsm_seam_write(&((struct seam *)data)->xs, t, path, value);
}

static inline int seam_xs_directory(void *data, unsigned long t, const char *path, char ***ret_names, size_t *ret_n)
{
	struct seam *s = data;

	if (s->fail & SEAM_FAIL_DIRECTORY)
		return -EIO;
	return xsm_seam_directory(&s->xs, t, path, ret_names, ret_n);
}

static inline int seam_xs_owner(void *data, unsigned long t, const char *path, unsigned *ret_domid)
{
	struct seam *s = data;

	if (s->fail & SEAM_FAIL_OWNER)
		return -EIO;
	return xsm_seam_owner(&s->xs, t, path, ret_domid);
}

static inline int seam_xs_transaction_start(void *data, unsigned long *ret_t)
{
	return xsm_seam_transaction_start(&((struct seam *)data)->xs, ret_t);
}

static inline int seam_xs_transaction_end(void *data, unsigned long t, bool abort_)
{
	return xsm_seam_transaction_end(&((struct seam *)data)->xs, t, abort_);
}

#define SEAM_LIST(name, member, count, flag, type)                                  \
	static inline int name(void *data, type **ret, size_t *ret_n)               \
	{                                                                           \
		struct seam *s = data;                                              \
		if (s->fail & (flag))                                               \
			return -EIO;                                                \
		*ret = calloc(s->count + 1, sizeof(**ret));                         \
		if (!*ret)                                                          \
			return -ENOMEM;                                             \
		if (s->count)                                                       \
			memcpy(*ret, s->member, s->count * sizeof(**ret));          \
		*ret_n = s->count;                                                  \
		return 0;                                                           \
	}

SEAM_LIST(seam_list_links, links, n_links, SEAM_FAIL_LINKS, struct vifmac_link_info)
SEAM_LIST(seam_list_fdb, fdb, n_fdb, SEAM_FAIL_FDB, struct vifmac_fdb_entry)
SEAM_LIST(seam_list_neigh, neigh, n_neigh, SEAM_FAIL_NEIGH, struct vifmac_neigh_entry)

static inline int seam_list_domains(void *data, struct vifmac_domain_info **ret, size_t *ret_n)
{
	struct seam *s = data;

	if (s->fail & SEAM_FAIL_DOMAIN)
		return -EIO;
	return xsm_seam_list_domains(&s->xs, ret, ret_n);
}

static inline int seam_get_domain(void *data, unsigned domid, struct vifmac_domain_info *ret)
{
	struct seam *s = data;

	if (s->fail & SEAM_FAIL_DOMAIN)
		return -EIO;
	return xsm_seam_get_domain(&s->xs, domid, ret);
}

static inline int64_t seam_now(void *data)
{
	return 1700000000;
}

static inline int seam_hostname(void *data, char *buf, size_t len)
{
	snprintf(buf, len, "dom0-fuzz");
	return 0;
}

/* Filtering always succeeds: the fuzzed inputs are xenstore's, not nftables'. */
static inline int seam_enforce_add(void *data, const char *ifname, const struct vifmac_mac *mac)
{
	return 0;
}

static inline int seam_enforce_remove(void *data, const char *ifname, const struct vifmac_mac *hint)
{
	return 0;
}

static const struct vifmac_sys_ops seam_ops = {
	.xs_read = seam_xs_read,
	.xs_write = seam_xs_write,
	.xs_directory = seam_xs_directory,
	.xs_owner = seam_xs_owner,
	.xs_transaction_start = seam_xs_transaction_start,
	.xs_transaction_end = seam_xs_transaction_end,
	.list_domains = seam_list_domains,
	.list_links = seam_list_links,
	.now = seam_now,
	.hostname = seam_hostname,
	.get_domain = seam_get_domain,
	.list_fdb = seam_list_fdb,
	.list_neigh = seam_list_neigh,
	.enforce_add = seam_enforce_add,
	.enforce_remove = seam_enforce_remove,
};

#endif
