/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd backend's dlopen shim: libcurl and json-c are loaded when an
 * etcd: registry is opened, not linked (see vifmac-etcd.h for why).
 */
#define VIFMAC_ETCD_DL_LOADER 1 /* the table's own names, not the call macros */
#include <dlfcn.h>
#include <errno.h>

#include "vifmac-etcd.h"

struct vifmac_etcd_dl vifmac_etcd_dl;

/* Loads both libraries once per process (kept loaded: they are not unloaded safely). */
int etcd_dl_load(struct vifmac_ctx *ctx, const char *url)
{
	static const char *const sonames[] = { CURL_SONAME, JSONC_SONAME };
	static const char *const packages[] = { "libcurl4", "libjson-c5" };
	void *h[2];

	if (vifmac_etcd_dl.loaded)
		return 0;
	for (int i = 0; i < 2; i++) {
		h[i] = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (!h[i])
			return vifmac_set_error(ctx, -ELIBACC,
						"registry %s: the etcd backend needs %s (Debian package %s): %s", url,
						sonames[i], packages[i], dlerror());
	}
#define X(lib, name)                                                                                              \
	if (!(vifmac_etcd_dl.name = (typeof(name) *)dlsym(h[lib], #name)))                                                   \
		return vifmac_set_error(ctx, -ELIBACC, "registry %s: %s has no %s: %s", url, sonames[lib], #name, \
					dlerror());
	ETCD_DL_SYMBOLS(X)
#undef X
	vifmac_etcd_dl.loaded = true;
	return 0;
}

