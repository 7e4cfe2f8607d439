/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xsmodel: the tests' one model of xenstore with ownership, transactions and domains (see xsmodel.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsmodel.h"

static char *dup_bytes(const void *value, unsigned len)
{
	char *v = malloc((size_t)len + 1);

	if (!v)
		return NULL;
	if (len)
		memcpy(v, value, len);
	v[len] = '\0';
	return v;
}

void xsm_clear(struct xsm *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->nodes[i].path);
		free(m->nodes[i].value);
	}
	free(m->nodes);
	m->nodes = NULL;
	m->n = m->cap = 0;
	m->dirty = true;
}

void xsm_free(struct xsm *m)
{
	xsm_clear(m);
	xsm_txns_free(&m->txns);
	for (size_t i = 0; i < m->n_reads; i++)
		free(m->reads[i]);
	free(m->reads);
	free(m->domains);
	memset(m, 0, sizeof(*m));
}

struct xsm_node *xsm_find(const struct xsm *m, const char *path)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->nodes[i].path, path) == 0)
			return &m->nodes[i];
	return NULL;
}

/* @p is @path or below it. */
static bool under(const char *p, const char *path, size_t pl)
{
	return strncmp(p, path, pl) == 0 && (p[pl] == '\0' || p[pl] == '/');
}

bool xsm_exists(const struct xsm *m, const char *path)
{
	size_t pl = strlen(path);

	if (strcmp(path, "/") == 0)
		return true;
	for (size_t i = 0; i < m->n; i++)
		if (under(m->nodes[i].path, path, pl))
			return true;
	return false;
}

/* The owner of @path's nearest listed ancestor (or itself), 0 when none. */
static unsigned inherited_owner(const struct xsm *m, const char *path)
{
	char *p = strdup(path);
	unsigned owner = 0;

	if (!p)
		return 0;
	for (;;) {
		struct xsm_node *n = xsm_find(m, p);
		char *slash;

		if (n) {
			owner = n->owner;
			break;
		}
		slash = strrchr(p, '/');
		if (!slash || slash == p)
			break;
		*slash = '\0';
	}
	free(p);
	return owner;
}

int xsm_read(const struct xsm *m, const char *path, char **ret_value, unsigned *ret_len)
{
	struct xsm_node *n = xsm_find(m, path);
	char *v;

	if (!n && !xsm_exists(m, path))
		return -ENOENT;
	v = n ? dup_bytes(n->value, n->len) : dup_bytes("", 0);
	if (!v)
		return -ENOMEM;
	*ret_value = v;
	if (ret_len)
		*ret_len = n ? n->len : 0;
	return 0;
}

int xsm_owner(const struct xsm *m, const char *path, unsigned *ret_owner)
{
	if (!xsm_exists(m, path))
		return -ENOENT;
	*ret_owner = inherited_owner(m, path);
	return 0;
}

static int add_node(struct xsm *m, const char *path, const void *value, unsigned len, unsigned owner)
{
	struct xsm_node *n;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct xsm_node *nn = realloc(m->nodes, cap * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		m->nodes = nn;
		m->cap = cap;
	}
	n = &m->nodes[m->n];
	n->path = strdup(path);
	n->value = dup_bytes(value, len);
	if (!n->path || !n->value) {
		free(n->path);
		free(n->value);
		return -ENOMEM;
	}
	n->len = len;
	n->owner = owner;
	m->n++;
	m->dirty = true;
	return 0;
}

static int set_value(struct xsm *m, struct xsm_node *n, const void *value, unsigned len)
{
	char *v = dup_bytes(value, len);

	if (!v)
		return -ENOMEM;
	free(n->value);
	n->value = v;
	n->len = len;
	m->dirty = true;
	return 0;
}

int xsm_set(struct xsm *m, const char *path, const void *value, unsigned len, unsigned owner)
{
	struct xsm_node *n = xsm_find(m, path);
	int r;

	if (!n)
		return add_node(m, path, value, len, owner);
	r = set_value(m, n, value, len);
	if (r == 0)
		n->owner = owner;
	return r;
}

int xsm_append(struct xsm *m, const char *path, const void *value, unsigned len, unsigned owner)
{
	return add_node(m, path, value, len, owner);
}

/* Creates @path's missing ancestors (empty, inheriting owners), as xenstored does. */
static int make_parents(struct xsm *m, const char *path)
{
	char *p = strdup(path);
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (char *slash = strchr(p + 1, '/'); slash && r == 0; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (!xsm_find(m, p))
			r = add_node(m, p, "", 0, inherited_owner(m, p));
		*slash = '/';
	}
	free(p);
	return r;
}

static int write_node(struct xsm *m, const char *path, const void *value, unsigned len, bool keep_value)
{
	struct xsm_node *n = xsm_find(m, path);
	int r;

	if (n)
		return keep_value ? 0 : set_value(m, n, value, len);
	r = make_parents(m, path);
	if (r < 0)
		return r;
	return add_node(m, path, value, len, inherited_owner(m, path));
}

int xsm_write(struct xsm *m, const char *path, const void *value, unsigned len)
{
	return write_node(m, path, value, len, false);
}

int xsm_mkdir(struct xsm *m, const char *path)
{
	return write_node(m, path, "", 0, true);
}

int xsm_rm(struct xsm *m, const char *path)
{
	size_t pl = strlen(path), out = 0;

	if (strcmp(path, "/") == 0)
		return -EINVAL;
	if (!xsm_exists(m, path)) {
		char *parent = strdup(path), *slash;
		bool ok;

		if (!parent)
			return -ENOMEM;
		slash = strrchr(parent, '/');
		if (slash)
			*slash = '\0';
		ok = !parent[0] || xsm_exists(m, parent);
		free(parent);
		return ok ? 0 : -ENOENT;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (under(m->nodes[i].path, path, pl)) {
			free(m->nodes[i].path);
			free(m->nodes[i].value);
			continue;
		}
		m->nodes[out++] = m->nodes[i];
	}
	m->n = out;
	m->dirty = true;
	return 0;
}

int xsm_chown(struct xsm *m, const char *path, unsigned owner)
{
	struct xsm_node *n;
	int r;

	if (!xsm_exists(m, path))
		return -ENOENT;
	n = xsm_find(m, path);
	if (!n) {
		r = make_parents(m, path);
		return r < 0 ? r : add_node(m, path, "", 0, owner);
	}
	n->owner = owner;
	m->dirty = true;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int xsm_directory(const struct xsm *m, const char *path, char ***ret_names, size_t *ret_n)
{
	size_t pl = strcmp(path, "/") == 0 ? 0 : strlen(path), n = 0;
	char **names;

	if (!xsm_exists(m, path))
		return -ENOENT;
	names = calloc(m->n + 1, sizeof(char *));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		const char *p = m->nodes[i].path, *child;
		size_t cl;
		bool dup = false;

		if (strncmp(p, path, pl) != 0 || p[pl] != '/' || !p[pl + 1])
			continue;
		child = p + pl + 1;
		cl = strcspn(child, "/");
		for (size_t j = 0; j < n && !dup; j++)
			dup = strlen(names[j]) == cl && strncmp(names[j], child, cl) == 0;
		if (dup)
			continue;
		names[n] = strndup(child, cl);
		if (!names[n]) {
			for (size_t j = 0; j < n; j++)
				free(names[j]);
			free(names);
			return -ENOMEM;
		}
		n++;
	}
	qsort(names, n, sizeof(char *), cmp_names);
	*ret_names = names;
	*ret_n = n;
	return 0;
}

int xsm_copy(const struct xsm *m, struct xsm *ret_copy)
{
	struct xsm c = { 0 };

	for (size_t i = 0; i < m->n; i++) {
		int r = add_node(&c, m->nodes[i].path, m->nodes[i].value, m->nodes[i].len, m->nodes[i].owner);

		if (r < 0) {
			xsm_free(&c);
			return r;
		}
	}
	c.dirty = false;
	*ret_copy = c;
	return 0;
}

/* ------------------------------------------------------------------ transactions */

struct xsm_txn *xsm_txn_start(struct xsm_txns *txns)
{
	struct xsm_txn *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->id = ++txns->last_id;
	x->next = txns->head;
	txns->head = x;
	return x;
}

struct xsm_txn *xsm_txn_find(const struct xsm_txns *txns, unsigned long id)
{
	for (struct xsm_txn *x = txns->head; x; x = x->next)
		if (x->id == id)
			return x;
	return NULL;
}

void xsm_txn_drop(struct xsm_txns *txns, struct xsm_txn *x)
{
	for (struct xsm_txn **pp = &txns->head; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	for (size_t i = 0; i < x->n; i++) {
		free(x->ops[i].path);
		free(x->ops[i].value);
	}
	free(x->ops);
	free(x);
}

void xsm_txns_free(struct xsm_txns *txns)
{
	while (txns->head)
		xsm_txn_drop(txns, txns->head);
}

int xsm_txn_record(struct xsm_txn *x, enum xsm_op_kind kind, const char *path, const void *value, unsigned len,
		   unsigned owner)
{
	struct xsm_op o = { .kind = kind, .len = len, .owner = owner };

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 8;
		struct xsm_op *ops = realloc(x->ops, cap * sizeof(*ops));

		if (!ops)
			return -ENOMEM;
		x->ops = ops;
		x->cap = cap;
	}
	o.path = strdup(path);
	o.value = dup_bytes(value ? value : "", value ? len : 0);
	if (!o.path || !o.value) {
		free(o.path);
		free(o.value);
		return -ENOMEM;
	}
	x->ops[x->n++] = o;
	return 0;
}

int xsm_apply(struct xsm *m, const struct xsm_op *o)
{
	switch (o->kind) {
	case XSM_WRITE:
		return xsm_write(m, o->path, o->value, o->len);
	case XSM_MKDIR:
		return xsm_mkdir(m, o->path);
	case XSM_RM:
		return xsm_rm(m, o->path);
	case XSM_CHOWN:
		return xsm_chown(m, o->path, o->owner);
	}
	return -EINVAL;
}

int xsm_commit(struct xsm *m, const struct xsm_txn *x)
{
	for (size_t i = 0; i < x->n; i++) {
		int r = xsm_apply(m, &x->ops[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

int xsm_view(const struct xsm *m, const struct xsm_txn *x, struct xsm *ret_view)
{
	struct xsm v;
	int r = xsm_copy(m, &v);

	if (r < 0)
		return r;
	/* a change that fails here fails again at commit, where it is reported */
	for (size_t i = 0; x && i < x->n; i++)
		(void)xsm_apply(&v, &x->ops[i]);
	*ret_view = v;
	return 0;
}

bool xsm_eagain_take(long *budget)
{
	if (*budget < 0)
		return true;
	if (*budget > 0) {
		(*budget)--;
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ domains */

struct vifmac_domain_info *xsm_domain_find(const struct xsm *m, unsigned domid)
{
	for (size_t i = 0; i < m->n_domains; i++)
		if (m->domains[i].domid == domid)
			return &m->domains[i];
	return NULL;
}

int xsm_domain_add(struct xsm *m, unsigned domid, const char *name, const char *uuid, bool paused)
{
	struct vifmac_domain_info *d = xsm_domain_find(m, domid);

	if (!d) {
		struct vifmac_domain_info *nd = realloc(m->domains, (m->n_domains + 1) * sizeof(*nd));

		if (!nd)
			return -ENOMEM;
		m->domains = nd;
		d = &m->domains[m->n_domains++];
	}
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	d->paused = paused;
	snprintf(d->name, sizeof(d->name), "%s", name ? name : "");
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid ? uuid : "");
	return 0;
}

void xsm_domain_del(struct xsm *m, unsigned domid)
{
	struct vifmac_domain_info *d = xsm_domain_find(m, domid);

	if (d)
		*d = m->domains[--m->n_domains];
}

/* ------------------------------------------------------------------ the sys_ops seam */

/* The store as transaction @t of @m sees it: @m itself, or a view in @tmp. */
static int seam_view(struct xsm *m, unsigned long t, struct xsm *tmp, const struct xsm **ret)
{
	struct xsm_txn *x = NULL;
	int r;

	if (t != 0) {
		x = xsm_txn_find(&m->txns, t);
		if (!x)
			return -ENOENT;
	}
	if (!x || x->n == 0) {
		*ret = m;
		return 0;
	}
	r = xsm_view(m, x, tmp);
	if (r == 0)
		*ret = tmp;
	return r;
}

int xsm_seam_read(void *data, unsigned long t, const char *path, char **ret_value)
{
	struct xsm *m = data, tmp = { 0 };
	const struct xsm *v;
	char **reads = realloc(m->reads, (m->n_reads + 1) * sizeof(char *));
	int r;

	if (!reads || !(reads[m->n_reads] = strdup(path))) {
		if (reads)
			m->reads = reads;
		return -ENOMEM;
	}
	m->reads = reads;
	m->n_reads++;
	r = seam_view(m, t, &tmp, &v);
	if (r == 0)
		r = xsm_read(v, path, ret_value, NULL);
	xsm_free(&tmp);
	return r;
}

bool xsm_was_read_under(const struct xsm *m, const char *prefix)
{
	for (size_t i = 0; i < m->n_reads; i++)
		if (strncmp(m->reads[i], prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

int xsm_seam_write(void *data, unsigned long t, const char *path, const char *value)
{
	struct xsm *m = data;
	struct xsm_txn *x;

	if (t == 0)
		return xsm_write(m, path, value, (unsigned)strlen(value));
	x = xsm_txn_find(&m->txns, t);
	if (!x)
		return -ENOENT;
	return xsm_txn_record(x, XSM_WRITE, path, value, (unsigned)strlen(value), 0);
}

int xsm_seam_directory(void *data, unsigned long t, const char *path, char ***ret_names, size_t *ret_n)
{
	struct xsm *m = data, tmp = { 0 };
	const struct xsm *v;
	int r = seam_view(m, t, &tmp, &v);

	if (r == 0)
		r = xsm_directory(v, path, ret_names, ret_n);
	xsm_free(&tmp);
	return r;
}

int xsm_seam_owner(void *data, unsigned long t, const char *path, unsigned *ret_domid)
{
	struct xsm *m = data, tmp = { 0 };
	const struct xsm *v;
	int r = seam_view(m, t, &tmp, &v);

	if (r == 0)
		r = xsm_owner(v, path, ret_domid);
	xsm_free(&tmp);
	return r;
}

int xsm_seam_transaction_start(void *data, unsigned long *ret_t)
{
	struct xsm *m = data;
	struct xsm_txn *x = xsm_txn_start(&m->txns);

	if (!x)
		return -ENOMEM;
	*ret_t = x->id;
	return 0;
}

int xsm_seam_transaction_end(void *data, unsigned long t, bool abort)
{
	struct xsm *m = data;
	struct xsm_txn *x = xsm_txn_find(&m->txns, t);
	int r = 0;

	if (!x)
		return -ENOENT;
	if (abort) {
		xsm_txn_drop(&m->txns, x);
		return 0;
	}
	if (xsm_eagain_take(&m->eagain)) {
		r = -EAGAIN;
	} else {
		/* all or nothing: the changes go to a copy that replaces the store */
		struct xsm v;

		r = xsm_view(m, NULL, &v);
		if (r == 0)
			r = xsm_commit(&v, x);
		if (r == 0) {
			xsm_clear(m);
			m->nodes = v.nodes;
			m->n = v.n;
			m->cap = v.cap;
			m->commits++;
		} else {
			xsm_free(&v);
		}
	}
	xsm_txn_drop(&m->txns, x);
	return r;
}

int xsm_seam_list_domains(void *data, struct vifmac_domain_info **ret_domains, size_t *ret_n)
{
	struct xsm *m = data;
	struct vifmac_domain_info *d = calloc(m->n_domains + 1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	if (m->n_domains)
		memcpy(d, m->domains, m->n_domains * sizeof(*d));
	*ret_domains = d;
	*ret_n = m->n_domains;
	return 0;
}

int xsm_seam_get_domain(void *data, unsigned domid, struct vifmac_domain_info *ret_info)
{
	struct vifmac_domain_info *d = xsm_domain_find(data, domid);

	if (!d)
		return -ENOENT;
	*ret_info = *d;
	return 0;
}
