/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vif specs: parse → format → parse is idempotent (same pairs, same order,
 * same text the second time), every key is found with its value, and
 * setting mac= (what vifmac xl-args does) keeps every other pair.
 */
#include "fuzz-common.h"

/* The keys of @spec in order, from its formatted text (keys hold no '=' or ','). */
static size_t count_pairs(const char *formatted)
{
	size_t n = 0;

	if (!*formatted)
		return 0;
	for (const char *p = formatted; *p; p++)
		n += *p == ',';
	return n + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size), *f1, *f2, *f3;
	struct vifmac_vifspec *a = NULL, *b = NULL, *c = NULL;

	if (vifmac_vifspec_parse(s, &a) < 0) {
		free(s);
		return 0;
	}
	f1 = vifmac_vifspec_format(a);
	FUZZ_ASSERT(f1);
	FUZZ_ASSERT(vifmac_vifspec_parse(f1, &b) == 0);
	f2 = vifmac_vifspec_format(b);
	FUZZ_ASSERT(f2 && strcmp(f1, f2) == 0);

	/* every pair of the text is found again, with its value */
	{
		char *copy = strdup(f1), *save = NULL;

		FUZZ_ASSERT(copy);
		for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(item, '=');
			const char *v;

			if (eq)
				*eq = '\0';
			else /* a bare "trusted" / "untrusted" reads as "" */
				FUZZ_ASSERT(strcmp(item, "trusted") == 0 || strcmp(item, "untrusted") == 0);
			v = vifmac_vifspec_get(b, item);
			FUZZ_ASSERT(v && strcmp(v, eq ? eq + 1 : "") == 0);
		}
		free(copy);
	}

	/* xl-args: mac= set (replaced or appended), the rest untouched */
	{
		const char *had = vifmac_vifspec_get(a, "mac");
		size_t n1 = count_pairs(f1);

		FUZZ_ASSERT(vifmac_vifspec_set(a, "mac", "02:00:c0:00:02:0a") == 0);
		f3 = vifmac_vifspec_format(a);
		FUZZ_ASSERT(f3);
		FUZZ_ASSERT(vifmac_vifspec_parse(f3, &c) == 0);
		FUZZ_ASSERT(strcmp(vifmac_vifspec_get(c, "mac"), "02:00:c0:00:02:0a") == 0);
		FUZZ_ASSERT(count_pairs(f3) == n1 + (had ? 0 : 1));
		free(f3);
	}
	free(f1);
	free(f2);
	vifmac_vifspec_free(a);
	vifmac_vifspec_free(b);
	vifmac_vifspec_free(c);
	free(s);
	return 0;
}
