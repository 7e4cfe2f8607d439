/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The values of an xl.conf-syntax file, with libxlutil's semantics: a parser
 * of the common subset, and libxlutil itself (dlopen()ed) for the whole file
 * as soon as the text leaves that subset.
 *
 * The subset follows Xen 4.17's grammar (tools/libs/util/libxlu_cfg_l.l,
 * libxlu_cfg_y.y, libxlu_cfg.c) exactly, on libxlutil's tokens
 * (vifmac_conf_lex, vifmac-conffile.c): IDENT, NUMBER (kept as text, like
 * libxlutil), '...' and "..." strings without a backslash, '#' comments
 * ended by a newline, blanks ' ' and '\t', statements ended by a newline
 * or ';' (the last one may end the file),
 * "key = value", "key += value" (string or list concatenated to the last
 * assignment of the key), flat lists with newlines between their tokens and
 * one trailing ','. Everything else (a backslash escape, a list in a list,
 * "+=" across types, '\r', a comment at the end of the file without a
 * newline, any syntax or lexical error) goes to libxlutil, so that its value
 * and its error message are the ones given, byte for byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

struct setting {
	char *name;
	bool add;       /* "+=": libxlutil's get_long refuses it */
	bool is_list;
	char *string;   /* !is_list */
	char **items;   /* is_list */
	int n_items;
};

struct vifmac_conf {
	/* the subset parser's result, in the file's order (the last one of a name wins) */
	struct setting *sets;
	size_t n_sets;
	/* or libxlutil's */
	struct vifmac_xlu x;
	/* the item arrays handed out for libxlutil's lists */
	const char ***lists;
	size_t n_lists;
};

/* ---------------------------------------------------------------- tokens, with one of lookahead */

struct lexer {
	struct vifmac_conf_lexer lx;
	enum vifmac_conf_token peeked;
	bool has_peeked;
};

/* A token of the subset: an escaped string is libxlutil's to dequote, a byte outside its lexer libxlutil's to refuse. */
static enum vifmac_conf_token lex(struct lexer *l)
{
	enum vifmac_conf_token t;

	if (l->has_peeked) {
		l->has_peeked = false;
		return l->peeked;
	}
	t = vifmac_conf_lex(&l->lx);
	return t == CONF_T_STRING && l->lx.escaped ? CONF_T_OTHER : t;
}

static enum vifmac_conf_token peek(struct lexer *l)
{
	if (!l->has_peeked) {
		l->peeked = lex(l);
		l->has_peeked = true;
	}
	return l->peeked;
}

/* nlok: any number of newlines */
static enum vifmac_conf_token lex_skipping_newlines(struct lexer *lx)
{
	enum vifmac_conf_token t;

	while ((t = lex(lx)) == CONF_T_NEWLINE)
		;
	return t;
}

/* ---------------------------------------------------------------- the subset's parser */

/* What a parse step gives: done, not in the subset (libxlutil reads the file), out of memory. */
enum { PARSED = 0, OUTSIDE = 1 };

static void setting_dispose(struct setting *s)
{
	free(s->name);
	free(s->string);
	vifmac_strv_free(s->items, (size_t)s->n_items);
	memset(s, 0, sizeof(*s));
}

static int item_append(struct setting *s, const char *text, size_t len)
{
	char **ni = vifmac_array_grow(s->items, (size_t)s->n_items, sizeof(*ni));

	if (!ni)
		return -ENOMEM;
	s->items = ni;
	ni[s->n_items] = strndup(text, len);
	if (!ni[s->n_items])
		return -ENOMEM;
	s->n_items++;
	return PARSED;
}

/* value: atom | '[' nlok valuelist ']', with atoms only in the list */
static int parse_value(struct lexer *lx, struct setting *s)
{
	enum vifmac_conf_token t = lex(lx);
	int r;

	if (t == CONF_T_STRING || t == CONF_T_NUMBER) {
		s->string = strndup(lx->lx.text, lx->lx.text_len);
		return s->string ? PARSED : -ENOMEM;
	}
	if (t != CONF_T_OPEN)
		return OUTSIDE;
	s->is_list = true;
	t = lex_skipping_newlines(lx);
	if (t == CONF_T_CLOSE)
		return PARSED;
	for (;;) {
		if (t != CONF_T_STRING && t != CONF_T_NUMBER)
			return OUTSIDE; /* a list in the list too */
		r = item_append(s, lx->lx.text, lx->lx.text_len);
		if (r != PARSED)
			return r;
		t = lex_skipping_newlines(lx);
		if (t == CONF_T_CLOSE)
			return PARSED;
		if (t != CONF_T_COMMA)
			return OUTSIDE;
		t = lex_skipping_newlines(lx);
		if (t == CONF_T_CLOSE)
			return PARSED; /* values ',' nlok */
	}
}

static const struct setting *find(const struct vifmac_conf *c, const char *name)
{
	for (size_t i = c->n_sets; i-- > 0;)
		if (strcmp(c->sets[i].name, name) == 0)
			return &c->sets[i];
	return NULL;
}

/* xlu__cfg_concat_vals: the previous value in front of the new one. */
static int concat(const struct setting *prev, struct setting *s)
{
	if (prev->is_list != s->is_list)
		return OUTSIDE; /* libxlutil's "can't add [list] to "string" or vice versa" */
	if (!s->is_list) {
		char *joined;

		if (asprintf(&joined, "%s%s", prev->string, s->string) < 0)
			return -ENOMEM;
		free(s->string);
		s->string = joined;
		return PARSED;
	}
	if (prev->n_items > 0) {
		char **v = calloc((size_t)(prev->n_items + s->n_items) + 1, sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (int i = 0; i < prev->n_items; i++) {
			v[i] = strdup(prev->items[i]);
			if (!v[i]) {
				vifmac_strv_free(v, (size_t)i);
				return -ENOMEM;
			}
		}
		memcpy(v + prev->n_items, s->items, (size_t)s->n_items * sizeof(*v));
		free(s->items);
		s->items = v;
		s->n_items += prev->n_items;
	}
	return PARSED;
}

/* assignment: IDENT '=' value | IDENT "+=" value */
static int parse_assignment(struct lexer *lx, struct vifmac_conf *c)
{
	struct setting s = { 0 }, *ns;
	const struct setting *prev;
	enum vifmac_conf_token op;
	int r;

	s.name = strndup(lx->lx.text, lx->lx.text_len);
	if (!s.name)
		return -ENOMEM;
	op = lex(lx);
	if (op != CONF_T_ASSIGN && op != CONF_T_ADD) {
		r = OUTSIDE;
		goto fail;
	}
	s.add = op == CONF_T_ADD;
	r = parse_value(lx, &s);
	if (r != PARSED)
		goto fail;
	prev = s.add ? find(c, s.name) : NULL;
	if (prev) {
		r = concat(prev, &s);
		if (r != PARSED)
			goto fail;
	}
	ns = vifmac_array_grow(c->sets, c->n_sets, sizeof(*ns));
	if (!ns) {
		r = -ENOMEM;
		goto fail;
	}
	c->sets = ns;
	ns[c->n_sets++] = s;
	return PARSED;
fail:
	setting_dispose(&s);
	return r;
}

/* file: stmts | stmts assignment; stmt: assignment endstmt | endstmt */
static int parse_subset(const char *data, size_t len, struct vifmac_conf *c)
{
	struct lexer lx = { 0 };

	vifmac_conf_lexer_init(&lx.lx, data, len);

	for (;;) {
		enum vifmac_conf_token t = lex(&lx);
		int r;

		if (t == CONF_T_END)
			return PARSED;
		if (t == CONF_T_NEWLINE || t == CONF_T_SEMI)
			continue;
		if (t != CONF_T_IDENT)
			return OUTSIDE;
		r = parse_assignment(&lx, c);
		if (r != PARSED)
			return r;
		t = peek(&lx);
		if (t != CONF_T_NEWLINE && t != CONF_T_SEMI && t != CONF_T_END)
			return OUTSIDE;
	}
}

/* ---------------------------------------------------------------- reading, and the getters */

static void sets_dispose(struct vifmac_conf *c)
{
	for (size_t i = 0; i < c->n_sets; i++)
		setting_dispose(&c->sets[i]);
	free(c->sets);
	c->sets = NULL;
	c->n_sets = 0;
}

static int read_by_xlutil(struct vifmac_conf *c, const char *source, const char *data, size_t len, char *err,
			  size_t errsize)
{
	int r = vifmac_xlu_open(&c->x, source);

	if (r == -ELIBACC)
		snprintf(err, errsize, "%s", vifmac_xlu_dl_error());
	if (r < 0)
		return r;
	if (xlu_cfg_readdata(c->x.xc, data, (int)len) != 0) {
		const char *msg = vifmac_xlu_report(&c->x, NULL);

		snprintf(err, errsize, "%s", msg ? msg : "");
		return -EINVAL;
	}
	return 0;
}

int vifmac_conf_read(const char *source, const char *data, size_t len, enum vifmac_conf_reader reader, char *err,
		     size_t errsize, struct vifmac_conf **ret_conf)
{
	struct vifmac_conf *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = reader == VIFMAC_CONF_XLUTIL || memchr(data, '\0', len) ? OUTSIDE : parse_subset(data, len, c);
	if (r == OUTSIDE) {
		sets_dispose(c);
		r = read_by_xlutil(c, source, data, len, err, errsize);
	}
	if (r < 0) {
		vifmac_conf_free(c);
		return r;
	}
	*ret_conf = c;
	return 0;
}

void vifmac_conf_free(struct vifmac_conf *c)
{
	if (!c)
		return;
	sets_dispose(c);
	vifmac_xlu_close(&c->x);
	for (size_t i = 0; i < c->n_lists; i++)
		free(c->lists[i]);
	free(c->lists);
	free(c);
}

bool vifmac_conf_read_by_xlutil(const struct vifmac_conf *c)
{
	return c->x.xc != NULL;
}

int vifmac_conf_get_string(const struct vifmac_conf *c, const char *key, const char **ret)
{
	const struct setting *s;

	if (c->x.xc)
		return -xlu_cfg_get_string(c->x.xc, key, ret, 1);
	s = find(c, key);
	if (!s)
		return -ESRCH;
	if (s->is_list)
		return -EINVAL;
	*ret = s->string;
	return 0;
}

int vifmac_conf_get_long(const struct vifmac_conf *c, const char *key, long *ret)
{
	const struct setting *s;
	char *end;
	long v;

	if (c->x.xc)
		return -xlu_cfg_get_long(c->x.xc, key, ret, 1);
	s = find(c, key);
	if (!s)
		return -ESRCH;
	if (s->is_list || s->add)
		return -EINVAL;
	/* xlu_cfg_get_bounded_long's reading, so that "0x10", "010", " 7" and "-1" mean what they mean there */
	errno = 0;
	v = strtol(s->string, &end, 0);
	if (errno)
		return -errno;
	if (*end || end == s->string)
		return -EINVAL;
	*ret = v;
	return 0;
}

int vifmac_conf_get_list(struct vifmac_conf *c, const char *key, struct vifmac_conf_list *ret)
{
	const struct setting *s;

	if (c->x.xc) {
		XLU_ConfigList *list;
		const char ***nl, **items;
		int n, e = xlu_cfg_get_list(c->x.xc, key, &list, &n, 1);

		if (e)
			return -e;
		nl = vifmac_array_grow(c->lists, c->n_lists, sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		c->lists = nl;
		items = calloc((size_t)n + 1, sizeof(*items));
		if (!items)
			return -ENOMEM;
		nl[c->n_lists++] = items;
		for (int i = 0; i < n; i++)
			items[i] = xlu_cfg_get_listitem(list, i);
		ret->n = n;
		ret->items = items;
		return 0;
	}
	s = find(c, key);
	if (!s)
		return -ESRCH;
	if (!s->is_list)
		return -EINVAL;
	ret->n = s->n_items;
	ret->items = (const char *const *)s->items;
	return 0;
}
