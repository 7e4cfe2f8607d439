/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where things stand in an xl.conf-syntax file: libxlutil's tokens (its
 * lexer's rules, shared with the values' parser, vifmac-conf-values.c), and
 * from them every top-level key and the line of each list item, which
 * libxlutil does not offer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vifmac-internal.h"

#define CONF_MAX_SIZE (4 * 1024 * 1024)

int vifmac_read_file(const char *path, char **ret_data, size_t *ret_len)
{
	/* O_NONBLOCK: a FIFO (or a device) in a file's place is refused below,
	 * rather than blocking the hook forever in open() */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st.st_size > CONF_MAX_SIZE) {
		r = -EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_data = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

const char *vifmac_read_file_strerror(int err)
{
	if (err == -EINVAL)
		return "not a regular file";
	if (err == -EFBIG)
		return "larger than 4 MiB";
	return strerror(-err);
}

static int key_add(struct vifmac_conf_index *idx, const char *name, size_t len, int line, bool add)
{
	struct vifmac_conf_key *nk = vifmac_array_grow(idx->keys, idx->n, sizeof(*nk));

	if (!nk)
		return -ENOMEM;
	idx->keys = nk;
	memset(&nk[idx->n], 0, sizeof(nk[idx->n]));
	if (len >= sizeof(nk[idx->n].name))
		len = sizeof(nk[idx->n].name) - 1;
	memcpy(nk[idx->n].name, name, len);
	nk[idx->n].line = line;
	nk[idx->n].add = add;
	idx->n++;
	return 0;
}

static int item_add(struct vifmac_conf_key *k, int line, size_t offset)
{
	int *ni = vifmac_array_grow(k->item_lines, k->n_items, sizeof(*ni));
	size_t *no;

	if (!ni)
		return -ENOMEM;
	k->item_lines = ni;
	no = vifmac_array_grow(k->item_offsets, k->n_items, sizeof(*no));
	if (!no)
		return -ENOMEM;
	k->item_offsets = no;
	ni[k->n_items] = line;
	no[k->n_items++] = offset;
	return 0;
}

int vifmac_xlu_open(struct vifmac_xlu *x, const char *source)
{
	int r = vifmac_xlu_dl_load();

	memset(x, 0, sizeof(*x));
	if (r < 0)
		return r;
	x->report_f = open_memstream(&x->report, &x->report_len);
	x->xc = x->report_f ? xlu_cfg_init(x->report_f, source) : NULL;
	if (!x->xc) {
		vifmac_xlu_close(x);
		return -ENOMEM;
	}
	return 0;
}

const char *vifmac_xlu_report(struct vifmac_xlu *x, const char *skip)
{
	char *msg, *nl;

	fflush(x->report_f);
	if (!x->report || !*x->report)
		return NULL;
	msg = skip ? strstr(x->report, skip) : NULL;
	msg = msg ? msg + strlen(skip) : x->report;
	nl = strchr(msg, '\n');
	if (nl)
		*nl = '\0';
	return msg;
}

void vifmac_xlu_close(struct vifmac_xlu *x)
{
	if (x->xc)
		xlu_cfg_destroy(x->xc);
	if (x->report_f)
		fclose(x->report_f);
	free(x->report);
	memset(x, 0, sizeof(*x));
}

void vifmac_conf_lexer_init(struct vifmac_conf_lexer *lx, const char *data, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->data = data;
	lx->len = len;
	lx->line = 1;
}

static bool ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

static bool number_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == 'x';
}

/* The token of the byte at @i and the run after it that @more accepts (flex takes the longest). */
static enum vifmac_conf_token lex_run(struct vifmac_conf_lexer *lx, size_t i, bool (*more)(char),
				      enum vifmac_conf_token t)
{
	size_t j = i + 1;

	while (j < lx->len && more(lx->data[j]))
		j++;
	lx->text = lx->data + i;
	lx->text_len = j - i;
	lx->pos = j;
	return t;
}

/* '...' or "...": ([^'\\\n]|\\.)* between the quotes, on one line. */
static enum vifmac_conf_token lex_string(struct vifmac_conf_lexer *lx, size_t i)
{
	const char *d = lx->data;
	size_t j = i + 1;

	lx->escaped = false;
	while (j < lx->len && d[j] != d[i] && d[j] != '\n') {
		if (d[j] == '\\') {
			if (j + 1 >= lx->len || d[j + 1] == '\n')
				return CONF_T_OTHER;
			lx->escaped = true;
			j++;
		}
		j++;
	}
	if (j >= lx->len || d[j] != d[i])
		return CONF_T_OTHER;
	lx->text = d + i + 1;
	lx->text_len = j - i - 1;
	lx->pos = j + 1;
	return CONF_T_STRING;
}

enum vifmac_conf_token vifmac_conf_lex(struct vifmac_conf_lexer *lx)
{
	const char *d = lx->data;
	size_t n = lx->len, i = lx->pos;

	while (i < n && (d[i] == ' ' || d[i] == '\t'))
		i++;
	lx->tok_line = lx->line;
	lx->tok_offset = i;
	lx->pos = i + 1;
	if (i >= n) {
		lx->pos = n;
		return CONF_T_END;
	}
	switch (d[i]) {
	case '\n':
		lx->line++;
		return CONF_T_NEWLINE;
	case '#': {
		const char *nl = memchr(d + i, '\n', n - i);

		if (!nl)
			return CONF_T_OTHER; /* \#.*\n needs its newline */
		lx->pos = (size_t)(nl - d) + 1;
		lx->line++;
		return CONF_T_NEWLINE;
	}
	case '=':
		return CONF_T_ASSIGN;
	case ';':
		return CONF_T_SEMI;
	case ',':
		return CONF_T_COMMA;
	case '[':
		return CONF_T_OPEN;
	case ']':
		return CONF_T_CLOSE;
	case '+':
		if (i + 1 < n && d[i + 1] == '=') {
			lx->pos = i + 2;
			return CONF_T_ADD;
		}
		return CONF_T_OTHER;
	case '\'':
	case '"':
		return lex_string(lx, i);
	default:
		break;
	}
	if (d[i] >= 'a' && d[i] <= 'z')
		return lex_run(lx, i, ident_char, CONF_T_IDENT);
	if (d[i] >= '0' && d[i] <= '9')
		return lex_run(lx, i, number_char, CONF_T_NUMBER);
	return CONF_T_OTHER;
}

/*
 * Runs on any text: on one libxlutil refuses, the keys found are not used
 * (its callers report libxlutil's error), and the walk goes on byte by byte.
 */
int vifmac_conf_index_build(const char *data, size_t len, struct vifmac_conf_index *ret_idx)
{
	struct vifmac_conf_index idx = { 0 };
	struct vifmac_conf_lexer lx;
	enum vifmac_conf_token t;
	bool stmt_start = true;
	int depth = 0, r = 0;

	vifmac_conf_lexer_init(&lx, data, len);
	while ((t = vifmac_conf_lex(&lx)) != CONF_T_END) {
		switch (t) {
		case CONF_T_NEWLINE:
		case CONF_T_SEMI:
			if (depth == 0)
				stmt_start = true;
			break;
		case CONF_T_STRING:
		case CONF_T_NUMBER:
		case CONF_T_OPEN:
			/* an item of the list (a list inside a list is one item of the outer one, as in libxlutil) */
			if (depth == 1 && idx.n > 0) {
				r = item_add(&idx.keys[idx.n - 1], lx.tok_line, lx.tok_offset);
				if (r < 0)
					goto fail;
			}
			if (t == CONF_T_OPEN)
				depth++;
			else
				stmt_start = false;
			break;
		case CONF_T_CLOSE:
			if (depth > 0)
				depth--;
			break;
		case CONF_T_IDENT:
			if (stmt_start && depth == 0) {
				struct vifmac_conf_lexer after = lx;
				enum vifmac_conf_token op = vifmac_conf_lex(&after);

				if (op == CONF_T_ASSIGN || op == CONF_T_ADD) {
					r = key_add(&idx, lx.text, lx.text_len, lx.tok_line, op == CONF_T_ADD);
					if (r < 0)
						goto fail;
					idx.keys[idx.n - 1].append = op == CONF_T_ADD;
				}
			}
			stmt_start = false;
			break;
		default:
			stmt_start = false;
			break;
		}
	}
	*ret_idx = idx;
	return 0;
fail:
	vifmac_conf_index_dispose(&idx);
	return r;
}

void vifmac_conf_index_dispose(struct vifmac_conf_index *idx)
{
	for (size_t i = 0; i < idx->n; i++) {
		free(idx->keys[i].item_lines);
		free(idx->keys[i].item_offsets);
	}
	free(idx->keys);
	idx->keys = NULL;
	idx->n = 0;
}

const struct vifmac_conf_key *vifmac_conf_index_find(const struct vifmac_conf_index *idx, const char *name)
{
	const struct vifmac_conf_key *found = NULL;

	/* the last assignment wins, as in libxlutil */
	for (size_t i = 0; i < idx->n; i++)
		if (strcmp(idx->keys[i].name, name) == 0)
			found = &idx->keys[i];
	return found;
}

int vifmac_conf_index_line(const struct vifmac_conf_index *idx, const char *name, int item)
{
	const struct vifmac_conf_key *k = vifmac_conf_index_find(idx, name);
	size_t first = 0, n = 0;

	if (!k)
		return 0;
	if (item < 0)
		return k->line;
	/* "key += [...]" appends to the list before it (libxlutil's
	 * xlu__cfg_concat_vals): items run from the last plain '=' on */
	for (size_t i = 0; i < idx->n; i++)
		if (strcmp(idx->keys[i].name, name) == 0 && !idx->keys[i].add)
			first = i;
	for (size_t i = first; i < idx->n && &idx->keys[i] <= k; i++) {
		if (strcmp(idx->keys[i].name, name) != 0)
			continue;
		if ((size_t)item < n + idx->keys[i].n_items)
			return idx->keys[i].item_lines[(size_t)item - n];
		n += idx->keys[i].n_items;
	}
	return k->line;
}
