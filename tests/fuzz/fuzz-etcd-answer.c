/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the etcd backend does with the answer to a txn that read some ranges
 * (JSON from the gateway, or from whatever answers in its place: a broken
 * member, a proxy, anyone on a plain-http path): vifmac_etcd_parse_answer
 * parses it, takes its key-values (base64 keys and values) and parses every
 * value as a vifmac record. Built only when lib/vifmac-registry-etcd.c
 * exists. The first byte of the input picks how many ranges the txn asked
 * for (0-3); the rest is the answer.
 * Properties: no crash, no assertion inside json-c, no leak; the result is
 * 0, or a refusal with a message (-EPROTO for an answer of the wrong shape,
 * -EIO for a value that is no vifmac record) or -ENOMEM.
 */
#include "fuzz-common.h"

static struct vifmac_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ctx = fuzz_ctx_new();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int r;

	if (size < 1)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	vifmac_clear_error(ctx);
	r = vifmac_etcd_parse_answer(ctx, s, data[0] % 4);
	FUZZ_ASSERT(r == 0 || r == -EPROTO || r == -EIO || r == -ENOMEM);
	FUZZ_ASSERT(r == 0 || r == -ENOMEM || vifmac_ctx_last_error(ctx)[0]);
	free(s);
	return 0;
}
