/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where things stand in an xl.conf-syntax file. libxlutil reads the values
 * but offers neither key iteration nor line numbers; this scanner follows
 * the same lexical rules (# comments, '...' and "..." strings, [ ] lists
 * spanning lines, ';' or newline between statements) to find every
 * top-level key and the line of each list item.
 */
#include <ctype.h>
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

int vifmac_conf_index_build(const char *data, size_t len, struct vifmac_conf_index *ret_idx)
{
	struct vifmac_conf_index idx = { 0 };
	int line = 1, depth = 0, r = 0;
	bool stmt_start = true;
	size_t i = 0;

	while (i < len) {
		char c = data[i];

		if (c == '\n') {
			line++;
			if (depth == 0)
				stmt_start = true;
			i++;
		} else if (c == '#') {
			while (i < len && data[i] != '\n')
				i++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			i++;
		} else if (c == ';' && depth == 0) {
			stmt_start = true;
			i++;
		} else if (c == '"' || c == '\'') {
			if (depth == 1 && idx.n > 0) {
				r = item_add(&idx.keys[idx.n - 1], line, i);
				if (r < 0)
					goto fail;
			}
			i++;
			while (i < len && data[i] != c) {
				/* libxlutil's lexer takes backslash escapes in '...' strings too */
				if (data[i] == '\\' && i + 1 < len)
					i++;
				if (data[i] == '\n')
					line++;
				i++;
			}
			i++;
			stmt_start = false;
		} else if (c == '[') {
			/* a list inside a list is one item of the outer one, as in libxlutil */
			if (depth == 1 && idx.n > 0) {
				r = item_add(&idx.keys[idx.n - 1], line, i);
				if (r < 0)
					goto fail;
			}
			depth++;
			i++;
		} else if (depth == 1 && isdigit((unsigned char)c)) {
			/* a number is an item too (libxlutil's NUMBER: [0-9][0-9a-fx]*) */
			if (idx.n > 0) {
				r = item_add(&idx.keys[idx.n - 1], line, i);
				if (r < 0)
					goto fail;
			}
			while (i < len && isalnum((unsigned char)data[i]))
				i++;
			stmt_start = false;
		} else if (c == ']') {
			if (depth > 0)
				depth--;
			i++;
		} else if (stmt_start && depth == 0 && (isalpha((unsigned char)c) || c == '_')) {
			size_t start = i, j;

			while (i < len && (isalnum((unsigned char)data[i]) || data[i] == '_' || data[i] == '.'))
				i++;
			j = i;
			while (j < len && (data[j] == ' ' || data[j] == '\t'))
				j++;
			if (j < len && (data[j] == '=' || (data[j] == '+' && j + 1 < len && data[j + 1] == '='))) {
				r = key_add(&idx, data + start, i - start, line, data[j] == '+');
				if (r < 0)
					goto fail;
				idx.keys[idx.n - 1].append = data[j] == '+';
			}
			stmt_start = false;
		} else {
			stmt_start = false;
			i++;
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
