/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The values of an xl.conf-syntax file, with libxlutil's semantics: a parser
 * of the common subset, and libxlutil itself (dlopen()ed) for the whole file
 * as soon as the text leaves that subset.
 *
 * The subset follows Xen 4.17's grammar (tools/libs/util/libxlu_cfg_l.l,
 * libxlu_cfg_y.y, libxlu_cfg.c) exactly: IDENT [a-z][._0-9a-z]*, NUMBER
 * [0-9][0-9a-fx]* (kept as text, like libxlutil), '...' and "..." strings
 * without a backslash, '#' comments ended by a newline, blanks ' ' and '\t',
 * statements ended by a newline or ';' (the last one may end the file),
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

/* ---------------------------------------------------------------- the subset's lexer */

enum token {
	T_END,     /* the end of the text */
	T_OUTSIDE, /* not in the subset: libxlutil decides */
	T_IDENT,
	T_NUMBER,
	T_STRING,
	T_NEWLINE, /* a newline, or a comment with its newline */
	T_ASSIGN,
	T_ADD,
	T_SEMI,
	T_COMMA,
	T_OPEN,
	T_CLOSE,
};

struct lexer {
	const char *data;
	size_t len, pos;
	const char *text; /* T_IDENT, T_NUMBER, T_STRING: the token's value */
	size_t text_len;
	enum token peeked;
	bool has_peeked;
};

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

static bool number_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == 'x';
}

/* A token made of the byte at @i and the run of bytes after it that @more accepts. */
static enum token lex_run(struct lexer *lx, size_t i, bool (*more)(char), enum token t)
{
	size_t j = i + 1;

	while (j < lx->len && more(lx->data[j]))
		j++;
	lx->text = lx->data + i;
	lx->text_len = j - i;
	lx->pos = j;
	return t;
}

static enum token lex(struct lexer *lx)
{
	const char *d = lx->data;
	size_t n = lx->len, i = lx->pos;

	if (lx->has_peeked) {
		lx->has_peeked = false;
		return lx->peeked;
	}
	while (i < n && (d[i] == ' ' || d[i] == '\t'))
		i++;
	lx->pos = i + 1;
	if (i >= n) {
		lx->pos = n;
		return T_END;
	}
	switch (d[i]) {
	case '\n':
		return T_NEWLINE;
	case '#': {
		const char *nl = memchr(d + i, '\n', n - i);

		if (!nl)
			return T_OUTSIDE; /* libxlutil: "#" alone is a lexical error */
		lx->pos = (size_t)(nl - d) + 1;
		return T_NEWLINE;
	}
	case '=':
		return T_ASSIGN;
	case ';':
		return T_SEMI;
	case ',':
		return T_COMMA;
	case '[':
		return T_OPEN;
	case ']':
		return T_CLOSE;
	case '+':
		if (i + 1 < n && d[i + 1] == '=') {
			lx->pos = i + 2;
			return T_ADD;
		}
		return T_OUTSIDE;
	case '\'':
	case '"': {
		size_t j = i + 1;

		while (j < n && d[j] != d[i] && d[j] != '\\' && d[j] != '\n')
			j++;
		if (j >= n || d[j] != d[i])
			return T_OUTSIDE; /* an escape (dequoted by libxlutil), or not closed on its line */
		lx->text = d + i + 1;
		lx->text_len = j - i - 1;
		lx->pos = j + 1;
		return T_STRING;
	}
	default:
		break;
	}
	if (d[i] >= 'a' && d[i] <= 'z')
		return lex_run(lx, i, ident_char, T_IDENT);
	if (d[i] >= '0' && d[i] <= '9')
		return lex_run(lx, i, number_char, T_NUMBER);
	return T_OUTSIDE;
}

static enum token peek(struct lexer *lx)
{
	if (!lx->has_peeked) {
		lx->peeked = lex(lx);
		lx->has_peeked = true;
	}
	return lx->peeked;
}

/* nlok: any number of newlines */
static enum token lex_skipping_newlines(struct lexer *lx)
{
	enum token t;

	while ((t = lex(lx)) == T_NEWLINE)
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
	enum token t = lex(lx);
	int r;

	if (t == T_STRING || t == T_NUMBER) {
		s->string = strndup(lx->text, lx->text_len);
		return s->string ? PARSED : -ENOMEM;
	}
	if (t != T_OPEN)
		return OUTSIDE;
	s->is_list = true;
	t = lex_skipping_newlines(lx);
	if (t == T_CLOSE)
		return PARSED;
	for (;;) {
		if (t != T_STRING && t != T_NUMBER)
			return OUTSIDE; /* a list in the list too */
		r = item_append(s, lx->text, lx->text_len);
		if (r != PARSED)
			return r;
		t = lex_skipping_newlines(lx);
		if (t == T_CLOSE)
			return PARSED;
		if (t != T_COMMA)
			return OUTSIDE;
		t = lex_skipping_newlines(lx);
		if (t == T_CLOSE)
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
	enum token op;
	int r;

	s.name = strndup(lx->text, lx->text_len);
	if (!s.name)
		return -ENOMEM;
	op = lex(lx);
	if (op != T_ASSIGN && op != T_ADD) {
		r = OUTSIDE;
		goto fail;
	}
	s.add = op == T_ADD;
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
	struct lexer lx = { .data = data, .len = len };

	for (;;) {
		enum token t = lex(&lx);
		int r;

		if (t == T_END)
			return PARSED;
		if (t == T_NEWLINE || t == T_SEMI)
			continue;
		if (t != T_IDENT)
			return OUTSIDE;
		r = parse_assignment(&lx, c);
		if (r != PARSED)
			return r;
		t = peek(&lx);
		if (t != T_NEWLINE && t != T_SEMI && t != T_END)
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
