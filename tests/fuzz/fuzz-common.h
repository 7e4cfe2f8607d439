/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the libFuzzer targets (tests/fuzz/build.sh builds them with the
 * library's sources compiled in, so private functions are reachable too).
 */
#ifndef VIFMAC_FUZZ_COMMON_H
#define VIFMAC_FUZZ_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vifmac-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property the target checks failed: abort, so libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as a NUL-terminated string (cut at its first NUL byte). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static inline void fuzz_quiet_log(void *data, int priority, const char *file, int line, const char *fn,
				  const char *format, va_list args)
{
}

/* A context with the built-in defaults, silent, no system seam at all. */
static inline struct vifmac_ctx *fuzz_ctx_new(void)
{
	static const struct vifmac_sys_ops none;
	struct vifmac_ctx *ctx = vifmac_ctx_new();

	if (!ctx)
		abort();
	vifmac_ctx_set_log_fn(ctx, fuzz_quiet_log, NULL);
	vifmac_ctx_set_sys(ctx, &none, NULL);
	return ctx;
}

/* A private folder for the files a target writes (in /dev/shm when there is one). */
static inline const char *fuzz_dir(void)
{
	static char dir[64];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/vifmac-fuzz-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

/* Writes @len bytes to @dir/@name (replacing it); returns the path in @path. */
static inline void fuzz_write_file(const char *name, const void *buf, size_t len, char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/%s", fuzz_dir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, buf, len) != (ssize_t)len) || close(fd) < 0)
		abort();
}

/* Splits the input at the first line "%%": *ret_a, *ret_b (b NULL when there is none). */
static inline void fuzz_split(const uint8_t *data, size_t size, const uint8_t **ret_a, size_t *ret_na,
			      const uint8_t **ret_b, size_t *ret_nb)
{
	*ret_a = data;
	*ret_na = size;
	*ret_b = NULL;
	*ret_nb = 0;
	for (size_t i = 0; i + 3 <= size; i++) {
		if ((i == 0 || data[i - 1] == '\n') && data[i] == '%' && data[i + 1] == '%' && data[i + 2] == '\n') {
			*ret_na = i;
			*ret_b = data + i + 3;
			*ret_nb = size - i - 3;
			return;
		}
	}
}

#endif
