/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A growing string buffer, and %-escaping into it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-text.h"

void vifmac_strbuf_addn(struct vifmac_strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->size) {
		size_t size = b->size ? b->size : 128;
		char *p;

		while (size < b->len + n + 1)
			size *= 2;
		p = realloc(b->data, size);
		if (!p) {
			b->oom = true;
			return;
		}
		b->data = p;
		b->size = size;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void vifmac_strbuf_add(struct vifmac_strbuf *b, const char *s)
{
	vifmac_strbuf_addn(b, s, strlen(s));
}

void vifmac_strbuf_add_escaped(struct vifmac_strbuf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char hex[4];

		if (*p <= 0x20 || *p >= 0x7f || *p == '/' || *p == '%') {
			snprintf(hex, sizeof(hex), "%%%02X", *p);
			vifmac_strbuf_add(b, hex);
		} else {
			vifmac_strbuf_addn(b, (const char *)p, 1);
		}
	}
}
