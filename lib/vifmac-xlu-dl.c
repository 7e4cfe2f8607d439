/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxlutil's dlopen shim: loaded when a text is first handed to libxlutil
 * (a domain config, a rate=, a policy file outside the subset that
 * vifmac-conf-values.c reads), not linked (vifmac-internal.h says why).
 */
#define VIFMAC_XLU_DL_LOADER 1 /* the table's own names, not the call macros */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "vifmac-internal.h"

struct vifmac_xlu_dl vifmac_xlu_dl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result;
static char load_error[256];

static void load(void)
{
	/* RTLD_GLOBAL, then the process-wide lookup: the definition a direct link would bind wins */
	if (!dlopen(XLUTIL_SONAME, RTLD_NOW | RTLD_GLOBAL)) {
		snprintf(load_error, sizeof(load_error), "cannot load %s (Debian package libxenmisc4.17): %s",
			 XLUTIL_SONAME, dlerror());
		load_result = -ELIBACC;
		return;
	}
#define X(name)                                                                                     \
	if (!(vifmac_xlu_dl.name = (typeof(name) *)dlsym(RTLD_DEFAULT, #name))) {                  \
		snprintf(load_error, sizeof(load_error), "%s has no %s: %s", XLUTIL_SONAME, #name, \
			 dlerror());                                                                \
		load_result = -ELIBACC;                                                             \
		return;                                                                             \
	}
	XLU_DL_SYMBOLS(X)
#undef X
}

/* Kept loaded once loaded: libxenlight and its libraries are not unloaded safely. */
int vifmac_xlu_dl_load(void)
{
	pthread_once(&load_once, load);
	return load_result;
}

const char *vifmac_xlu_dl_error(void)
{
	return load_error;
}
