/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dlopen shim of libnftables: loaded when per-vif filtering creates or
 * lists its table, not linked (see vifmac-nft.h for why).
 */
#define VIFMAC_NFT_DL_LOADER 1 /* the table's own names, not the call macros */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "vifmac-nft.h"

struct vifmac_nft_dl vifmac_nft_dl;

/* Kept loaded once loaded: libnftables is not unloaded safely (its libraries keep global state). */
int vifmac_nft_dl_load(char *why, size_t size)
{
	void *h;

	if (vifmac_nft_dl.loaded)
		return 0;
	h = dlopen(NFTABLES_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, size, "%s (Debian package %s) cannot be loaded: %s", NFTABLES_SONAME, NFTABLES_PACKAGE,
			 dlerror());
		return -ELIBACC;
	}
#define X(name)                                                                                            \
	if (!(vifmac_nft_dl.name = (typeof(name) *)dlsym(h, #name))) {                                     \
		snprintf(why, size, "%s (Debian package %s) has no %s: %s", NFTABLES_SONAME, NFTABLES_PACKAGE, \
			 #name, dlerror());                                                                \
		dlclose(h);                                                                                \
		return -ELIBACC;                                                                           \
	}
	NFT_DL_SYMBOLS(X)
#undef X
	vifmac_nft_dl.loaded = true;
	return 0;
}
