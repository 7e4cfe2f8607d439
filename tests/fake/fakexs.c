/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakexs: an LD_PRELOAD shim standing in for libxenstore and the few libxenctrl
 * calls vifmac makes, so that the REAL xenstore-read/-write/-exists/-rm/
 * -list/-ls/-chmod binaries, the stock hotplug scripts and the REAL vifmac
 * binary all work on one store kept in a text file (kmod's testsuite does
 * the same for the module syscalls).
 *
 * What a store is and does (owners, implicit parents, inherited owners,
 * transactions) is the tests' one model of xenstore, xsmodel.h, which the
 * unit and fuzz seams use too; this file is its libxenstore ABI, its file
 * and its locking.
 *
 * The store is the file named by $FAKEXS_STATE, one node per line:
 *
 *     <owner domid> TAB <absolute path> TAB <value>
 *
 * (value escaped: \\, \t, \n, \r and \xHH for other control bytes). Every
 * operation takes flock() on that file: shared to read, exclusive to change.
 * A path that is only a prefix of listed nodes exists too (value "", owner of
 * its nearest listed ancestor), so handwritten state files need not list
 * every parent. Relative paths resolve under /local/domain/0, as for a dom0
 * client of xenstored. A node created by a write inherits the owner of its
 * nearest existing ancestor, as xenstored does for writes by dom0; that is
 * how a guest-owned frontend directory stays guest-owned.
 *
 * Transactions buffer their writes, removals and permission changes and
 * apply them at commit, under the exclusive lock. Reads inside a transaction
 * see its own buffered changes. EAGAIN at commit, for transactions that
 * change something:
 *   FAKEXS_EAGAIN=N|always        the next N commits of this process fail;
 *   node /fakexs/eagain = N|always the next N commits of any process fail
 *                                  (decremented in the store), and, when the
 *                                  node /fakexs/eagain-match exists, only
 *                                  commits that change a path containing its
 *                                  value count.
 *
 * libxenctrl: xc_interface_open/close and xc_domain_getinfolist (the
 * hypervisor's domain records) read domains from
 * /fakexs/domain/<domid>/{uuid,paused,type}; a domain exists when its uuid
 * node does. paused defaults to 1 (a domain being created).
 *
 * Watches are not modelled: xs_watch fails with ENOSYS.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenstore.h>

#include "xsmodel.h"

#define FAKE_EXPORT __attribute__((visibility("default")))
#define HOME "/local/domain/0"

/* The store's rules are the tests' one model of xenstore (xsmodel.h); this file is its libxenstore ABI and file. */
struct xs_handle {
	struct xsm_txns txns;
};

/* ------------------------------------------------------------------ the state file */

static void fail_errno(int r)
{
	errno = -r;
}

static int unescape(const char *in, char **ret, unsigned *ret_len)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1);
	unsigned len = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == '\\' && i + 1 < n) {
			char e = in[++i];

			if (e == 'n')
				c = '\n';
			else if (e == 't')
				c = '\t';
			else if (e == 'r')
				c = '\r';
			else if (e == 'x' && i + 2 < n + 1 && isxdigit((unsigned char)in[i + 1]) &&
				 isxdigit((unsigned char)in[i + 2])) {
				char hex[3] = { in[i + 1], in[i + 2], 0 };

				c = (char)strtoul(hex, NULL, 16);
				i += 2;
			} else
				c = e;
		}
		out[len++] = c;
	}
	out[len] = '\0';
	*ret = out;
	*ret_len = len;
	return 0;
}

static void escape(FILE *f, const char *v, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* Opens and locks the state file; *ret_fd stays open until state_close. */
static int state_open(int lock, int *ret_fd)
{
	const char *path = getenv("FAKEXS_STATE");
	int fd;

	if (!path || !*path)
		return -ENOENT; /* never touch a real store by accident */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, lock) < 0) {
		if (errno != EINTR) {
			int r = -errno;

			close(fd);
			return r;
		}
	}
	*ret_fd = fd;
	return 0;
}

/*
 * The index of each path while a state file is read: an open-addressing
 * table of node indexes, so that reading N lines costs N lookups and not
 * N^2 comparisons (a store of a few thousand nodes, bench/hook's boot
 * storm, would otherwise cost milliseconds per operation).
 */
struct load_index {
	size_t *slots; /* node index + 1; 0: empty */
	size_t cap;    /* a power of two */
};

static size_t path_hash(const char *p)
{
	size_t h = 5381;

	while (*p)
		h = h * 33 + (unsigned char)*p++;
	return h;
}

/* The slot for @path: where its node index is, or the empty slot it would take. */
static size_t *load_slot(struct load_index *x, struct xsm *s, const char *path)
{
	for (size_t i = path_hash(path) & (x->cap - 1);; i = (i + 1) & (x->cap - 1))
		if (!x->slots[i] || strcmp(s->nodes[x->slots[i] - 1].path, path) == 0)
			return &x->slots[i];
}

static int state_load(int fd, struct xsm *s)
{
	struct load_index x = { NULL, 64 };
	size_t lines = 1;
	struct stat st;
	char *buf, *line, *save = NULL;
	ssize_t got = 0;
	int r = 0;

	memset(s, 0, sizeof(*s));
	if (fstat(fd, &st) < 0)
		return -errno;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < st.st_size) {
		ssize_t k = pread(fd, buf + got, (size_t)(st.st_size - got), got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += k;
	}
	buf[got] = '\0';
	for (const char *c = buf; *c; c++)
		lines += *c == '\n';
	while (x.cap < 2 * lines) /* at most half full: every probe ends */
		x.cap *= 2;
	x.slots = calloc(x.cap, sizeof(*x.slots));
	if (!x.slots) {
		free(buf);
		return -ENOMEM;
	}
	for (line = strtok_r(buf, "\n", &save); line && r == 0; line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2, *end, *value;
		unsigned long owner;
		unsigned len;

		if (!t1 || line[0] == '#')
			continue;
		t2 = strchr(t1 + 1, '\t');
		*t1 = '\0';
		if (t2)
			*t2 = '\0';
		owner = strtoul(line, &end, 10);
		if (*end || t1[1] != '/')
			continue; /* not a node line */
		r = unescape(t2 ? t2 + 1 : "", &value, &len);
		if (r == 0) {
			size_t *slot = load_slot(&x, s, t1 + 1);

			if (*slot) { /* a later line wins */
				r = xsm_set(s, t1 + 1, value, len, (unsigned)owner);
			} else {
				r = xsm_append(s, t1 + 1, value, len, (unsigned)owner);
				if (r == 0)
					*slot = s->n;
			}
			free(value);
		}
	}
	free(x.slots);
	free(buf);
	s->dirty = false;
	if (r < 0)
		xsm_free(s);
	return r;
}

static int state_save(int fd, struct xsm *s)
{
	char *buf = NULL;
	size_t size = 0, off = 0;
	FILE *f = open_memstream(&buf, &size);
	int r = 0;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		fprintf(f, "%u\t%s\t", s->nodes[i].owner, s->nodes[i].path);
		escape(f, s->nodes[i].value, s->nodes[i].len);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	while (off < size) {
		ssize_t k = pwrite(fd, buf + off, size - off, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		off += (size_t)k;
	}
	if (r == 0 && ftruncate(fd, (off_t)size) < 0)
		r = -errno;
	free(buf);
	return r;
}

/* ------------------------------------------------------------------ paths and transactions */

static char *abs_path(const char *path)
{
	char *p;
	size_t l;

	if (!path || !*path)
		return NULL;
	if (path[0] == '/')
		p = strdup(path);
	else if (asprintf(&p, HOME "/%s", path) < 0)
		p = NULL;
	if (!p)
		return NULL;
	l = strlen(p);
	while (l > 1 && p[l - 1] == '/')
		p[--l] = '\0';
	if (strstr(p, "//")) {
		free(p);
		return NULL;
	}
	return p;
}

static struct xsm_txn *txn_find(struct xs_handle *h, xs_transaction_t t)
{
	return h ? xsm_txn_find(&h->txns, t) : NULL;
}

/* Loads the store as transaction @t sees it. */
static int view(struct xs_handle *h, xs_transaction_t t, struct xsm *s)
{
	struct xsm_txn *x = NULL;
	struct xsm file;
	int fd, r;

	if (t != XBT_NULL) {
		x = txn_find(h, t);
		if (!x)
			return -ENOENT;
	}
	r = state_open(LOCK_SH, &fd);
	if (r < 0)
		return r;
	r = state_load(fd, &file);
	close(fd);
	if (r < 0)
		return r;
	if (!x || x->n == 0) {
		*s = file;
		return 0;
	}
	r = xsm_view(&file, x, s);
	xsm_free(&file);
	return r;
}

/* A change: buffered in transaction @t, or applied now under the exclusive lock. */
static bool change(struct xs_handle *h, xs_transaction_t t, enum xsm_op_kind kind, const char *path,
		   const void *value, unsigned len, unsigned owner)
{
	struct xsm_op o = { .kind = kind, .len = len, .owner = owner, .value = (char *)value };
	struct xsm s;
	int fd, r;

	if (!h) {
		errno = EINVAL;
		return false;
	}
	o.path = abs_path(path);
	if (!o.path) {
		errno = EINVAL;
		return false;
	}
	if (t != XBT_NULL) {
		struct xsm_txn *x = txn_find(h, t);

		r = x ? 0 : -ENOENT;
		if (r == 0 && kind == XSM_RM) {
			/* report a bad removal now, as xenstored would */
			struct xsm v;

			r = view(h, t, &v);
			if (r == 0) {
				r = xsm_rm(&v, o.path);
				xsm_free(&v);
			}
		}
		if (r == 0)
			r = xsm_txn_record(x, kind, o.path, value, len, owner);
	} else {
		r = state_open(LOCK_EX, &fd);
		if (r == 0) {
			r = state_load(fd, &s);
			if (r == 0) {
				r = xsm_apply(&s, &o);
				if (r == 0 && s.dirty)
					r = state_save(fd, &s);
				xsm_free(&s);
			}
			close(fd);
		}
	}
	free(o.path);
	if (r < 0) {
		fail_errno(r);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ libxenstore */

FAKE_EXPORT struct xs_handle *xs_open(unsigned long flags)
{
	const char *state = getenv("FAKEXS_STATE");
	struct xs_handle *h;

	if (!state || !*state) {
		fprintf(stderr, "fakexs: FAKEXS_STATE is not set\n");
		errno = ENOENT;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	return h;
}

FAKE_EXPORT void xs_close(struct xs_handle *h)
{
	if (!h)
		return;
	xsm_txns_free(&h->txns);
	free(h);
}

FAKE_EXPORT struct xs_handle *xs_daemon_open(void)
{
	return xs_open(0);
}

FAKE_EXPORT struct xs_handle *xs_daemon_open_readonly(void)
{
	return xs_open(0);
}

FAKE_EXPORT void xs_daemon_close(struct xs_handle *h)
{
	xs_close(h);
}

/*
 * The start of every read: @path made absolute, the store as transaction @t
 * sees it in @s. Returns the path (the caller frees it and xsm_free()s
 * @s), or NULL with errno set (EINVAL for a bad handle, path or @args_ok
 * false) and nothing to free.
 */
static char *read_view(struct xs_handle *h, xs_transaction_t t, const char *path, bool args_ok, struct xsm *s)
{
	char *p = abs_path(path);
	int r;

	if (!h || !p || !args_ok) {
		free(p);
		errno = EINVAL;
		return NULL;
	}
	r = view(h, t, s);
	if (r < 0) {
		free(p);
		fail_errno(r);
		return NULL;
	}
	return p;
}

FAKE_EXPORT void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len)
{
	char *p, *v = NULL;
	struct xsm s;
	int r;

	p = read_view(h, t, path, true, &s);
	if (!p)
		return NULL;
	r = xsm_read(&s, p, &v, len);
	if (r < 0)
		fail_errno(r);
	xsm_free(&s);
	free(p);
	return v;
}

FAKE_EXPORT bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
			  unsigned int len)
{
	return change(h, t, XSM_WRITE, path, data, len, 0);
}

FAKE_EXPORT bool xs_mkdir(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	return change(h, t, XSM_MKDIR, path, "", 0, 0);
}

FAKE_EXPORT bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	return change(h, t, XSM_RM, path, "", 0, 0);
}

/* One allocation: the pointer array followed by the strings, as libxenstore does. */
FAKE_EXPORT char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num)
{
	char *p, **names = NULL, **out = NULL, *dst;
	size_t n = 0, bytes = 0;
	struct xsm s;
	int r;

	p = read_view(h, t, path, num != NULL, &s);
	if (!p)
		return NULL;
	r = xsm_directory(&s, p, &names, &n);
	xsm_free(&s);
	free(p);
	if (r < 0) {
		fail_errno(r);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		bytes += strlen(names[i]) + 1;
	out = malloc((n + 1) * sizeof(char *) + bytes);
	if (out) {
		dst = (char *)(out + n + 1);
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(names[i]) + 1;

			memcpy(dst, names[i], l);
			out[i] = dst;
			dst += l;
		}
		out[n] = NULL;
		*num = (unsigned int)n;
	} else {
		errno = ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return out;
}

/* The owner first, as xenstored reports it; nobody else is modelled. */
FAKE_EXPORT struct xs_permissions *xs_get_permissions(struct xs_handle *h, xs_transaction_t t, const char *path,
						       unsigned int *num)
{
	struct xs_permissions *perms = NULL;
	struct xsm s;
	char *p = read_view(h, t, path, num != NULL, &s);
	unsigned owner;
	int r;

	if (!p)
		return NULL;
	r = xsm_owner(&s, p, &owner);
	if (r == 0) {
		perms = calloc(1, sizeof(*perms));
		r = perms ? 0 : -ENOMEM;
	}
	if (r == 0) {
		perms[0].id = owner;
		perms[0].perms = XS_PERM_NONE;
		*num = 1;
	} else {
		fail_errno(r);
	}
	xsm_free(&s);
	free(p);
	return perms;
}

FAKE_EXPORT bool xs_set_permissions(struct xs_handle *h, xs_transaction_t t, const char *path,
				    struct xs_permissions *perms, unsigned int num_perms)
{
	if (!perms || num_perms == 0) {
		errno = EINVAL;
		return false;
	}
	return change(h, t, XSM_CHOWN, path, "", 0, perms[0].id);
}

FAKE_EXPORT xs_transaction_t xs_transaction_start(struct xs_handle *h)
{
	struct xsm_txn *x;

	if (!h) {
		errno = EINVAL;
		return XBT_NULL;
	}
	x = xsm_txn_start(&h->txns);
	if (!x) {
		errno = ENOMEM;
		return XBT_NULL;
	}
	return (xs_transaction_t)x->id;
}

/* FAKEXS_EAGAIN: this process's own budget of failing commits. */
static long env_eagain = -2; /* -2: not read yet; -1: always */

static bool eagain_from_env(void)
{
	if (env_eagain == -2) {
		const char *e = getenv("FAKEXS_EAGAIN");

		if (!e || !*e)
			env_eagain = 0;
		else if (strcmp(e, "always") == 0)
			env_eagain = -1;
		else
			env_eagain = strtol(e, NULL, 10);
	}
	return xsm_eagain_take(&env_eagain);
}

/* /fakexs/eagain: a budget shared by every process, decremented in @s. */
static bool eagain_from_store(struct xsm *s, const struct xsm_txn *x)
{
	struct xsm_node *n = xsm_find(s, "/fakexs/eagain"), *m = xsm_find(s, "/fakexs/eagain-match");
	bool hit = !m || !m->value[0];
	long left;
	char buf[32];

	if (!n)
		return false;
	for (size_t i = 0; !hit && i < x->n; i++)
		hit = strstr(x->ops[i].path, m->value) != NULL;
	if (!hit)
		return false;
	left = strcmp(n->value, "always") == 0 ? -1 : strtol(n->value, NULL, 10);
	if (left < -1)
		left = 0;
	if (!xsm_eagain_take(&left))
		return false;
	if (left >= 0) {
		snprintf(buf, sizeof(buf), "%ld", left);
		xsm_write(s, "/fakexs/eagain", buf, (unsigned)strlen(buf));
	}
	return true;
}

FAKE_EXPORT bool xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abort)
{
	struct xsm_txn *x = txn_find(h, t);
	struct xsm s;
	int fd, r;

	if (!x) {
		errno = ENOENT;
		return false;
	}
	if (abort || x->n == 0) {
		xsm_txn_drop(&h->txns, x);
		return true;
	}
	r = state_open(LOCK_EX, &fd);
	if (r == 0) {
		r = state_load(fd, &s);
		if (r == 0) {
			if (eagain_from_env()) {
				r = -EAGAIN;
			} else if (eagain_from_store(&s, x)) {
				r = state_save(fd, &s); /* the decremented budget */
				if (r == 0)
					r = -EAGAIN;
			} else {
				/* all or nothing: the file is rewritten only when every change applied */
				r = xsm_commit(&s, x);
				if (r == 0 && s.dirty)
					r = state_save(fd, &s);
			}
			xsm_free(&s);
		}
		close(fd);
	}
	xsm_txn_drop(&h->txns, x);
	if (r < 0) {
		fail_errno(r);
		return false;
	}
	return true;
}

FAKE_EXPORT bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	errno = ENOSYS;
	return false;
}

FAKE_EXPORT bool xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	errno = ENOSYS;
	return false;
}

FAKE_EXPORT char **xs_read_watch(struct xs_handle *h, unsigned int *num)
{
	errno = ENOSYS;
	return NULL;
}

FAKE_EXPORT int xs_fileno(struct xs_handle *h)
{
	errno = ENOSYS;
	return -1;
}

FAKE_EXPORT char *xs_get_domain_path(struct xs_handle *h, unsigned int domid)
{
	char *p;

	if (asprintf(&p, "/local/domain/%u", domid) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

/* ------------------------------------------------------------- libxenctrl */

struct fake_xc {
	struct xs_handle *xs;
};

FAKE_EXPORT xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
					    unsigned open_flags)
{
	struct fake_xc *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->xs = xs_open(0);
	if (!c->xs) {
		free(c);
		return NULL;
	}
	return (xc_interface *)c;
}

FAKE_EXPORT int xc_interface_close(xc_interface *xch)
{
	struct fake_xc *c = (struct fake_xc *)xch;

	if (!c)
		return 0;
	xs_close(c->xs);
	free(c);
	return 0;
}

/* /fakexs/domain/<domid>/<key> in a store read once (NULL: no such node), owned by @s. */
static const char *domain_node(struct xsm *s, unsigned domid, const char *key)
{
	char path[96];
	const struct xsm_node *n;

	snprintf(path, sizeof(path), "/fakexs/domain/%u/%s", domid, key);
	n = xsm_find(s, path);
	return n ? n->value : NULL;
}

static int parse_uuid(const char *s, uint8_t out[16])
{
	int k = 0;

	for (const char *p = s; *p && k < 16; p++) {
		char hex[3];

		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return -EINVAL;
		hex[0] = p[0];
		hex[1] = p[1];
		hex[2] = '\0';
		out[k++] = (uint8_t)strtoul(hex, NULL, 16);
		p++;
	}
	return k == 16 ? 0 : -EINVAL;
}

static int fill_dominfo(struct xsm *s, unsigned domid, xc_domaininfo_t *info)
{
	const char *uuid = domain_node(s, domid, "uuid"), *paused, *type;
	uint8_t bytes[16];

	if (!uuid)
		return -ENOENT;
	if (parse_uuid(uuid, bytes) < 0)
		return -EINVAL;
	paused = domain_node(s, domid, "paused");
	type = domain_node(s, domid, "type");
	memset(info, 0, sizeof(*info));
	_Static_assert(sizeof(info->handle) == 16, "a domain handle is 16 bytes");
	memcpy(info->handle, bytes, 16);
	info->domain = (domid_t)domid;
	info->flags = !paused || strcmp(paused, "0") != 0 ? XEN_DOMINF_paused : XEN_DOMINF_running;
	if (type && (strcmp(type, "hvm") == 0 || strcmp(type, "pvh") == 0))
		info->flags |= XEN_DOMINF_hvm_guest;
	return 0;
}

/*
 * The whole store, read once under the shared lock: the hypervisor answers
 * a domain list in one call, and so does the fake (not 3 store reads per
 * domain, which made a host of many domains cost the fake, not vifmac).
 */
static int domains_view(struct xs_handle *xs, struct xsm *s)
{
	int r = view(xs, XBT_NULL, s);

	if (r < 0)
		fail_errno(r);
	return r;
}

static int cmp_domid(const void *a, const void *b)
{
	unsigned long x = strtoul(*(char *const *)a, NULL, 10), y = strtoul(*(char *const *)b, NULL, 10);

	return x < y ? -1 : x > y;
}

/* As the hypervisor answers: up to @max domains from @first on, in domid order. */
FAKE_EXPORT int xc_domain_getinfolist(xc_interface *xch, uint32_t first, unsigned int max, xc_domaininfo_t *info)
{
	struct fake_xc *c = (struct fake_xc *)xch;
	unsigned int n = 0, k = 0;
	char **ids;
	struct xsm s;

	if (!c || !info) {
		errno = EINVAL;
		return -1;
	}
	ids = xs_directory(c->xs, XBT_NULL, "/fakexs/domain", &n);
	if (domains_view(c->xs, &s) < 0) {
		free(ids);
		return -1;
	}
	if (!ids)
		n = 0;
	else
		qsort(ids, n, sizeof(char *), cmp_domid);
	for (unsigned int i = 0; i < n && k < max; i++) {
		unsigned long d = strtoul(ids[i], NULL, 10);

		if (d >= first && fill_dominfo(&s, (unsigned)d, &info[k]) == 0)
			k++;
	}
	free(ids);
	xsm_free(&s);
	return (int)k;
}
