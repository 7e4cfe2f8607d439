/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to libvifmac: leaf text helpers that know nothing of MACs or
 * registries -- a growing string (vifmac-strbuf.c) and base64
 * (vifmac-base64.c).
 */
#ifndef VIFMAC_TEXT_H
#define VIFMAC_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* A growing string. On ENOMEM it stays NULL-data and fails every later call. */
struct vifmac_strbuf {
	char *data;
	size_t len, size;
	bool oom;
};

void vifmac_strbuf_addn(struct vifmac_strbuf *b, const char *s, size_t n);
void vifmac_strbuf_add(struct vifmac_strbuf *b, const char *s);
/* One key component, %-escaped so that it holds no '/' (and sorts like the plain text). */
void vifmac_strbuf_add_escaped(struct vifmac_strbuf *b, const char *s);

/* A malloc'd NUL-terminated base64 text of @n bytes of @s, or NULL (ENOMEM). */
char *vifmac_base64_encode(const char *s, size_t n);
/* Decodes @s into a malloc'd NUL-terminated string; NULL with errno EINVAL when malformed, ENOMEM. */
char *vifmac_base64_decode(const char *s, size_t *ret_len);

#endif
