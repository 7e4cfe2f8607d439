/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pool files: vifmac_pool_source_read on two files made of the input (split
 * at a "%%" line), then vifmac_pool_sources_overlap both ways.
 * Properties: a read source is one kind, its entries unicast and unique, a
 * range's ends in order within one first octet and its size right; overlap
 * is symmetric, agrees with a brute-force comparison, and a source always
 * overlaps itself.
 */
#include "fuzz-common.h"

static uint64_t u64(const struct vifmac_mac *m)
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | m->b[i];
	return v;
}

static bool holds(const struct vifmac_pool_source *s, const struct vifmac_mac *m)
{
	if (s->kind == VIFMAC_POOL_RANGE)
		return u64(m) >= u64(&s->start) && u64(m) <= u64(&s->end);
	for (size_t i = 0; i < s->n; i++)
		if (vifmac_mac_equal(&s->entries[i].mac, m))
			return true;
	return false;
}

static void check_source(const struct vifmac_pool_source *s)
{
	FUZZ_ASSERT(s->path && s->path[0]);
	if (s->kind == VIFMAC_POOL_RANGE) {
		FUZZ_ASSERT(s->n == 0);
		FUZZ_ASSERT(u64(&s->start) <= u64(&s->end));
		FUZZ_ASSERT(s->start.b[0] == s->end.b[0]);
		FUZZ_ASSERT(s->size == u64(&s->end) - u64(&s->start) + 1);
		FUZZ_ASSERT(s->size <= (1ULL << 24));
		FUZZ_ASSERT(!vifmac_mac_is_multicast(&s->start));
		FUZZ_ASSERT(s->range_line >= 1);
		return;
	}
	FUZZ_ASSERT(s->kind == VIFMAC_POOL_TABLE || s->kind == VIFMAC_POOL_RECYCLED);
	FUZZ_ASSERT(s->size == s->n && s->n > 0);
	for (size_t i = 0; i < s->n; i++) {
		FUZZ_ASSERT(!vifmac_mac_is_multicast(&s->entries[i].mac));
		FUZZ_ASSERT(s->entries[i].line >= 1);
		FUZZ_ASSERT(memchr(s->entries[i].note, '\0', sizeof(s->entries[i].note)));
		for (size_t j = 0; j < i; j++) {
			FUZZ_ASSERT(!vifmac_mac_equal(&s->entries[i].mac, &s->entries[j].mac));
			if (s->kind == VIFMAC_POOL_TABLE)
				FUZZ_ASSERT(memcmp(s->entries[i].ip.b, s->entries[j].ip.b, 4) != 0);
		}
	}
}

static bool brute_overlap(const struct vifmac_pool_source *a, const struct vifmac_pool_source *b)
{
	if (a->kind == VIFMAC_POOL_RANGE && b->kind == VIFMAC_POOL_RANGE)
		return !(u64(&a->end) < u64(&b->start) || u64(&b->end) < u64(&a->start));
	if (a->kind == VIFMAC_POOL_RANGE)
		return brute_overlap(b, a);
	for (size_t i = 0; i < a->n; i++)
		if (holds(b, &a->entries[i].mac))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vifmac_ctx *ctx = fuzz_ctx_new();
	struct vifmac_pool_source *a = NULL, *b = NULL;
	const uint8_t *pa, *pb;
	size_t na, nb;
	char path_a[128], path_b[128];
	int ra, rb;

	fuzz_split(data, size, &pa, &na, &pb, &nb);
	fuzz_write_file("a.pool", pa, na, path_a, sizeof(path_a));
	fuzz_write_file("b.pool", pb ? pb : (const uint8_t *)"", nb, path_b, sizeof(path_b));
	ra = vifmac_pool_source_read(ctx, path_a, &a);
	if (ra < 0) {
		FUZZ_ASSERT(ra == -EINVAL || ra == -ENOMEM || ra == -EFBIG);
		FUZZ_ASSERT(strstr(vifmac_ctx_last_error(ctx), path_a) != NULL);
	} else {
		check_source(a);
		FUZZ_ASSERT(vifmac_pool_sources_overlap(ctx, a, a) == -EEXIST);
	}
	rb = pb ? vifmac_pool_source_read(ctx, path_b, &b) : -EINVAL;
	if (rb == 0)
		check_source(b);
	if (ra == 0 && rb == 0) {
		int ab = vifmac_pool_sources_overlap(ctx, a, b), ba = vifmac_pool_sources_overlap(ctx, b, a);

		FUZZ_ASSERT(ab == 0 || ab == -EEXIST);
		FUZZ_ASSERT(ab == ba);
		FUZZ_ASSERT((ab == -EEXIST) == brute_overlap(a, b));
	}
	vifmac_pool_source_free(a);
	vifmac_pool_source_free(b);
	vifmac_ctx_unref(ctx);
	return 0;
}
