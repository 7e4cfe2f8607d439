/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd registry URL: vifmac_etcd_endpoints_parse (what follows "etcd:").
 * Built only when lib/vifmac-registry-etcd.c exists. The JSON answers of etcd
 * are fuzzed by fuzz-etcd-answer.c.
 * Properties: an accepted list has 1-32 endpoints, each http(s)://HOST[:PORT]
 * without path, query, user info, blanks or a trailing '/'; joined again with
 * ',' it parses to the same list; a refused one says why.
 */
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size), err[256] = "";
	char **v = NULL;
	size_t n = 0;
	int r = vifmac_etcd_endpoints_parse(s, &v, &n, err, sizeof(err));

	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM);
		FUZZ_ASSERT(r == -ENOMEM || err[0]);
		free(s);
		return 0;
	}
	FUZZ_ASSERT(n >= 1 && n <= 32 && v && !v[n]);
	{
		size_t len = 1;
		char *joined, **w = NULL;
		size_t m = 0;

		for (size_t i = 0; i < n; i++) {
			const char *host = strncmp(v[i], "https://", 8) == 0 ? v[i] + 8 : v[i] + 7;

			FUZZ_ASSERT(strncmp(v[i], "http://", 7) == 0 || strncmp(v[i], "https://", 8) == 0);
			FUZZ_ASSERT(*host && !strpbrk(host, "/?@ \t\r\n,"));
			len += strlen(v[i]) + 1;
		}
		joined = calloc(1, len);
		FUZZ_ASSERT(joined);
		for (size_t i = 0; i < n; i++) {
			if (i)
				strcat(joined, ",");
			strcat(joined, v[i]);
		}
		FUZZ_ASSERT(vifmac_etcd_endpoints_parse(joined, &w, &m, err, sizeof(err)) == 0);
		FUZZ_ASSERT(m == n);
		for (size_t i = 0; i < n; i++) {
			FUZZ_ASSERT(strcmp(v[i], w[i]) == 0);
			free(w[i]);
		}
		free(w);
		free(joined);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(s);
	return 0;
}
