/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Leaf helpers every file of the library may use: bounded strings, string
 * lists, "key=value" pairs, arrays that grow by doubling, and repeats found
 * in n log n. They know no context, policy or system.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

bool vifmac_strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

void vifmac_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

bool vifmac_strscpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size == 0)
		return false;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

const char *vifmac_split_pair(const char *s, char *key, size_t keysize)
{
	const char *eq = strchr(s, '=');
	size_t n;

	if (!eq)
		return NULL;
	n = (size_t)(eq - s);
	if (n >= keysize)
		n = keysize - 1;
	memcpy(key, s, n);
	key[n] = '\0';
	return eq + 1;
}

struct dup_order {
	const char *base;
	size_t size;
	int (*cmp)(const void *a, const void *b);
};

static int dup_cmp(const void *a, const void *b, void *data)
{
	const struct dup_order *d = data;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = d->cmp(d->base + i * d->size, d->base + j * d->size);

	return c ? c : (i > j) - (i < j);
}

int vifmac_first_duplicate(const void *base, size_t n, size_t size, int (*cmp)(const void *a, const void *b),
			   size_t *ret_dup, size_t *ret_first)
{
	struct dup_order d = { base, size, cmp };
	size_t *order, run = 0, dup = SIZE_MAX, first = 0;

	if (n < 2)
		return 0;
	order = malloc(n * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	/* equal items end up next to each other, each run in the order given:
	 * the second of a run is the first item that repeats an earlier one */
	qsort_r(order, n, sizeof(*order), dup_cmp, &d);
	for (size_t k = 1; k < n; k++) {
		if (cmp(d.base + order[run] * size, d.base + order[k] * size) != 0) {
			run = k;
			continue;
		}
		if (k == run + 1 && order[k] < dup) {
			dup = order[k];
			first = order[run];
		}
	}
	free(order);
	if (dup == SIZE_MAX)
		return 0;
	*ret_dup = dup;
	*ret_first = first;
	return 1;
}

int vifmac_first_shared(const void *a, size_t na, const void *b, size_t nb, size_t size,
			int (*cmp)(const void *x, const void *y), size_t *ret_b, size_t *ret_a)
{
	char *both = malloc((na + nb) * size + 1);
	size_t dup, first;
	int r;

	if (!both)
		return -ENOMEM;
	/* @a first: a repeat found in the two joined is then the first item of @b that @a holds */
	if (na)
		memcpy(both, a, na * size);
	if (nb)
		memcpy(both + na * size, b, nb * size);
	r = vifmac_first_duplicate(both, na + nb, size, cmp, &dup, &first);
	free(both);
	if (r <= 0)
		return r;
	*ret_b = dup - na;
	*ret_a = first;
	return 1;
}

void *vifmac_array_grow(void *array, size_t n, size_t size)
{
	/* n items fill a capacity of the next power of two: full at 0, 1, 2, 4, ... */
	if (n != 0 && (n & (n - 1)) != 0)
		return array;
	if (n > SIZE_MAX / 2 / size)
		return NULL;
	return realloc(array, (n ? 2 * n : 1) * size);
}
