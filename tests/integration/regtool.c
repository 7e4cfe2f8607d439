/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * regtool: claims and releases through the library, for the shell tests
 * (the CLI has no claim command: claims come from the hotplug helper).
 *
 *   regtool URL claim MAC SCOPE DOMAIN UUID DEVID BRIDGE IP
 *   regtool URL release MAC UUID DEVID
 *
 * Exit 0 done, 1 conflict (the holder on stdout), 3 error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac.h"

static void copy(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size) {
		fprintf(stderr, "regtool: \"%s\" is too long\n", src);
		exit(2);
	}
	strcpy(dst, src);
}

int main(int argc, char **argv)
{
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	struct vifmac_record rec, holder;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: regtool URL claim|release ...\n");
		return 2;
	}
	ctx = vifmac_ctx_new();
	if (!ctx)
		return 3;
	r = vifmac_registry_open(ctx, argv[1], &reg);
	if (r < 0) {
		fprintf(stderr, "regtool: %s\n", vifmac_ctx_last_error(ctx));
		return 3;
	}
	vifmac_record_init(&rec);
	if (strcmp(argv[2], "claim") == 0 && argc == 10) {
		if (vifmac_mac_parse(argv[3], &rec.mac) < 0)
			return 2;
		copy(rec.scope_key, sizeof(rec.scope_key), argv[4]);
		copy(rec.domain, sizeof(rec.domain), argv[5]);
		copy(rec.uuid, sizeof(rec.uuid), argv[6]);
		rec.devid = atoi(argv[7]);
		copy(rec.bridge, sizeof(rec.bridge), argv[8]);
		copy(rec.ip, sizeof(rec.ip), argv[9]);
		copy(rec.source, sizeof(rec.source), "regtool");
		r = vifmac_registry_claim(reg, &rec, &holder);
		if (r == -EEXIST)
			printf("held by %s %s %d\n", holder.domain, holder.uuid, holder.devid);
	} else if (strcmp(argv[2], "release") == 0 && argc == 6) {
		if (vifmac_mac_parse(argv[3], &rec.mac) < 0)
			return 2;
		r = vifmac_registry_release(reg, &rec.mac, argv[4], atoi(argv[5]));
		if (r >= 0)
			printf("%d\n", r);
	} else {
		fprintf(stderr, "usage: regtool URL claim MAC SCOPE DOMAIN UUID DEVID BRIDGE IP\n"
				"       regtool URL release MAC UUID DEVID\n");
		r = -EINVAL;
	}
	if (r < 0 && r != -EEXIST)
		fprintf(stderr, "regtool: %s\n", vifmac_ctx_last_error(ctx));
	vifmac_registry_close(reg);
	vifmac_ctx_unref(ctx);
	return r >= 0 ? 0 : r == -EEXIST ? 1 : 3;
}
