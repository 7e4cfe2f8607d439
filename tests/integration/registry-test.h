/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the registry integration tests (plain C, exit 0 pass, 1 fail,
 * 77 skip) and the contract suite's racing processes: MACs, UUIDs and
 * records numbered by host and MAC.
 */
#ifndef VIFMAC_REGISTRY_TEST_H
#define VIFMAC_REGISTRY_TEST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vifmac.h"

#define FAIL(...)                                                        \
	do {                                                             \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);     \
		fprintf(stderr, __VA_ARGS__);                            \
		fputc('\n', stderr);                                     \
		exit(1);                                                 \
	} while (0)

#define CHECK(cond, ...)                \
	do {                            \
		if (!(cond))            \
			FAIL(__VA_ARGS__); \
	} while (0)

static inline int64_t rt_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* MAC number @i: 02:5e:00:xx:xx:xx. */
static inline struct vifmac_mac rt_mac(unsigned i)
{
	struct vifmac_mac m = { { 0x02, 0x5e, 0x00, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i } };

	return m;
}

/* A UUID for owner @i. */
static inline void rt_uuid(unsigned i, char buf[VIFMAC_UUID_STRLEN])
{
	snprintf(buf, VIFMAC_UUID_STRLEN, "%08x-0000-4000-8000-%012x", i, i * 7919u);
}

/* A claim by host @host's domain "dom@host" (UUID rt_uuid(@host)) of MAC rt_mac(@mac) for its vif @devid. */
static inline struct vifmac_record rt_rec(unsigned host, unsigned mac, int devid)
{
	struct vifmac_record rec;

	vifmac_record_init(&rec);
	rec.mac = rt_mac(mac);
	snprintf(rec.domain, sizeof(rec.domain), "dom%u", host);
	rt_uuid(host, rec.uuid);
	rec.devid = devid;
	snprintf(rec.bridge, sizeof(rec.bridge), "xenbr0");
	snprintf(rec.ip, sizeof(rec.ip), "10.%u.%u.%u", host, mac / 256, mac % 256);
	snprintf(rec.source, sizeof(rec.source), "test");
	return rec;
}

static inline void rt_silent_log(void *data, int priority, const char *file, int line, const char *fn,
				 const char *format, va_list args)
{
}

/* A fresh folder under $TMPDIR (or /tmp); the path is malloc'd. */
static inline char *rt_tempdir(const char *name)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (asprintf(&dir, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name) < 0 || !mkdtemp(dir))
		FAIL("cannot create a temporary folder");
	return dir;
}

static inline void rt_rmdir(const char *dir)
{
	char *cmd;

	if (asprintf(&cmd, "rm -rf '%s'", dir) > 0) {
		if (system(cmd) != 0)
			fprintf(stderr, "warning: could not remove %s\n", dir);
		free(cmd);
	}
}

#endif
