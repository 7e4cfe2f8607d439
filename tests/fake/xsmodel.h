/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xsmodel: the one model of xenstore (and of the hypervisor's domain list)
 * that every fake of the tests is built on: the unit seam
 * (tests/unit/fake-sys.h), the fuzz seam (tests/fuzz/fuzz-seam.h) and the
 * LD_PRELOAD libxenstore/libxl (tests/fake/fakexs.c). Each of those is a thin
 * adapter: the sys_ops seam for the first two, the libxenstore ABI and a
 * state file for the third.
 *
 * What it models, as xenstored does it for a dom0 client:
 * - nodes: an absolute path, a value (bytes, may hold NULs) and an owner
 *   domid (the first entry of the node's permissions, the one that may write
 *   it; other permissions are not modelled);
 * - a path that is only a prefix of listed nodes exists too (value "", the
 *   owner of its nearest listed ancestor), so a test or a handwritten state
 *   file need not list every parent;
 * - a write by dom0 creates the missing parents, and a node it creates
 *   inherits the owner of its nearest existing ancestor (that is how a
 *   guest-owned frontend directory stays guest-owned); rewriting a node
 *   keeps its owner;
 * - removing a node removes its subtree; removing a missing node is fine
 *   when its parent exists;
 * - a directory lists the children's names, sorted; a node without children
 *   lists none;
 * - transactions buffer writes, mkdirs, removals and owner changes, see their
 *   own changes, and apply them all at commit; commits can be made to fail
 *   with EAGAIN a number of times;
 * - the domains the hypervisor runs (domid, name, UUID, paused), apart from
 *   the store as in Xen: a destroyed domain's nodes stay.
 *
 * Zeroed memory is an empty model. Functions return 0 or a negative errno;
 * ret_ arguments are written only on success.
 */
#ifndef VIFMAC_XSMODEL_H
#define VIFMAC_XSMODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "vifmac.h"

struct xsm_node {
	char *path;
	char *value; /* NUL-terminated after len bytes */
	unsigned len;
	unsigned owner;
};

enum xsm_op_kind { XSM_WRITE, XSM_MKDIR, XSM_RM, XSM_CHOWN };

struct xsm_op {
	enum xsm_op_kind kind;
	char *path;
	char *value;
	unsigned len;
	unsigned owner;
};

/* An open transaction: its buffered changes, in order. */
struct xsm_txn {
	unsigned long id;
	struct xsm_op *ops;
	size_t n, cap;
	struct xsm_txn *next;
};

/* The open transactions of one client (a handle, a seam). */
struct xsm_txns {
	struct xsm_txn *head;
	unsigned long last_id;
};

struct xsm {
	struct xsm_node *nodes;
	size_t n, cap;
	bool dirty; /* changed since loaded (for fakexs's state file) */
	/* the sys_ops adapter's state (xsm_seam_*) */
	struct xsm_txns txns;
	long eagain;  /* the next N commits fail with -EAGAIN; -1: every one */
	int commits;  /* commits that succeeded */
	char **reads; /* every path read through xsm_seam_read, in order */
	size_t n_reads;
	/* the hypervisor's domains */
	struct vifmac_domain_info *domains;
	size_t n_domains;
};

void xsm_free(struct xsm *m);
/* Empties the store (nodes only: transactions, reads and domains stay). */
void xsm_clear(struct xsm *m);

/* ---- the store */
struct xsm_node *xsm_find(const struct xsm *m, const char *path);
/* Listed, or the parent of a listed node. */
bool xsm_exists(const struct xsm *m, const char *path);
/* A node's value; -ENOENT when it does not exist. *ret_value (NUL-terminated) is the caller's. */
int xsm_read(const struct xsm *m, const char *path, char **ret_value, unsigned *ret_len);
/* The owner of @path (its nearest listed ancestor's for an unlisted one); -ENOENT when it does not exist. */
int xsm_owner(const struct xsm *m, const char *path, unsigned *ret_owner);
/* Sets a node as a test or a state file states it: value and owner given, no parents made. */
int xsm_set(struct xsm *m, const char *path, const void *value, unsigned len, unsigned owner);
/* xsm_set() of a @path the caller knows is absent (a loader with its own index): no search. */
int xsm_append(struct xsm *m, const char *path, const void *value, unsigned len, unsigned owner);
/* dom0's write: parents made, a new node inherits its ancestor's owner, an existing one keeps its own. */
int xsm_write(struct xsm *m, const char *path, const void *value, unsigned len);
int xsm_mkdir(struct xsm *m, const char *path);
int xsm_rm(struct xsm *m, const char *path);
/* Gives @path (made when it only exists as a prefix) to @owner; -ENOENT when it does not exist. */
int xsm_chown(struct xsm *m, const char *path, unsigned owner);
/* The sorted names of @path's children, a NULL-terminated array of separately allocated strings. */
int xsm_directory(const struct xsm *m, const char *path, char ***ret_names, size_t *ret_n);
/* A deep copy (the store only). */
int xsm_copy(const struct xsm *m, struct xsm *ret_copy);

/* ---- transactions */
struct xsm_txn *xsm_txn_start(struct xsm_txns *txns);
struct xsm_txn *xsm_txn_find(const struct xsm_txns *txns, unsigned long id);
void xsm_txn_drop(struct xsm_txns *txns, struct xsm_txn *x);
void xsm_txns_free(struct xsm_txns *txns);
/* Buffers a change (copied) in @x. */
int xsm_txn_record(struct xsm_txn *x, enum xsm_op_kind kind, const char *path, const void *value, unsigned len,
		   unsigned owner);
int xsm_apply(struct xsm *m, const struct xsm_op *o);
/* Applies @x's changes in order; the first failure stops it (the store may then hold a part). */
int xsm_commit(struct xsm *m, const struct xsm_txn *x);
/* The store as @x sees it (@x NULL: as it is), a copy to xsm_free. */
int xsm_view(const struct xsm *m, const struct xsm_txn *x, struct xsm *ret_view);
/* Takes one failure from an EAGAIN budget (N, or -1 for always): true when this commit fails. */
bool xsm_eagain_take(long *budget);

/* ---- the hypervisor's domains */
/* Adds @domid or replaces it; -ENOMEM. */
int xsm_domain_add(struct xsm *m, unsigned domid, const char *name, const char *uuid, bool paused);
struct vifmac_domain_info *xsm_domain_find(const struct xsm *m, unsigned domid);
/* The hypervisor no longer has @domid; its nodes stay. */
void xsm_domain_del(struct xsm *m, unsigned domid);

/*
 * ---- the sys_ops seam (struct vifmac_sys_ops's signatures, @m as data):
 * paths are taken as given (the library always passes absolute ones); reads
 * are logged; a transaction id is one of @m->txns; commits obey @m->eagain.
 */
int xsm_seam_read(void *m, unsigned long t, const char *path, char **ret_value);
int xsm_seam_write(void *m, unsigned long t, const char *path, const char *value);
int xsm_seam_directory(void *m, unsigned long t, const char *path, char ***ret_names, size_t *ret_n);
int xsm_seam_owner(void *m, unsigned long t, const char *path, unsigned *ret_domid);
int xsm_seam_transaction_start(void *m, unsigned long *ret_t);
int xsm_seam_transaction_end(void *m, unsigned long t, bool abort);
int xsm_seam_list_domains(void *m, struct vifmac_domain_info **ret_domains, size_t *ret_n);
int xsm_seam_get_domain(void *m, unsigned domid, struct vifmac_domain_info *ret_info);
/* Some path read through the seam starts with @prefix. */
bool xsm_was_read_under(const struct xsm *m, const char *prefix);

#endif
