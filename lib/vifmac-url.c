/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd registry URL grammar: what follows "etcd:" (a list of
 * http[s]://HOST:PORT endpoints), and the rule that credentials never go
 * over plain http://. Read by the policy loader and by the etcd backend.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

int vifmac_etcd_endpoints_parse(const char *list, char ***ret_endpoints, size_t *ret_n, char *err, size_t errsize)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = list;
	int r = 0;

	if (!*list) {
		snprintf(err, errsize, "no endpoint after \"etcd:\"");
		return -EINVAL;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *host;
		size_t host_len;
		char **nv;

		if (len == 0) {
			snprintf(err, errsize, "an empty endpoint in the list");
			r = -EINVAL;
			break;
		}
		if (strncmp(p, "https://", 8) == 0)
			host = p + 8;
		else if (strncmp(p, "http://", 7) == 0)
			host = p + 7;
		else
			host = NULL;
		if (host && n > 0 && (host - p == 8) != (strncmp(list, "https://", 8) == 0)) {
			/* a plain member after TLS ones would be the fallback that leaks */
			snprintf(err, errsize, "endpoint \"%.*s\" mixes http:// and https:// in one list", (int)len, p);
			r = -EINVAL;
			break;
		}
		if (!host) {
			snprintf(err, errsize, "endpoint \"%.*s\" is not http(s)://HOST:PORT", (int)len, p);
			r = -EINVAL;
			break;
		}
		host_len = len - (size_t)(host - p);
		if (host_len > 0 && host[host_len - 1] == '/')
			host_len--;
		if (host_len == 0 || memchr(host, '/', host_len) || memchr(host, '?', host_len) ||
		    memchr(host, '@', host_len)) {
			snprintf(err, errsize, "endpoint \"%.*s\" is not http(s)://HOST:PORT", (int)len, p);
			r = -EINVAL;
			break;
		}
		for (size_t i = 0; i < len; i++)
			if (isspace((unsigned char)p[i]) || !isprint((unsigned char)p[i])) {
				snprintf(err, errsize, "endpoint \"%.*s\" has white space or control bytes", (int)len, p);
				r = -EINVAL;
			}
		if (r < 0)
			break;
		if (n >= 32) {
			snprintf(err, errsize, "more than 32 endpoints");
			r = -EINVAL;
			break;
		}
		if (ret_endpoints) {
			nv = realloc(v, (n + 2) * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			/* without a trailing '/': paths are appended */
			v[n] = strndup(p, (size_t)(host - p) + host_len);
			if (!v[n]) {
				r = -ENOMEM;
				break;
			}
			v[n + 1] = NULL;
		}
		n++;
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	if (r < 0) {
		for (size_t i = 0; v && v[i]; i++)
			free(v[i]);
		free(v);
		return r;
	}
	if (ret_endpoints)
		*ret_endpoints = v;
	if (ret_n)
		*ret_n = n;
	return 0;
}

int vifmac_etcd_transport_check(const char *list, const struct vifmac_etcd_options *o, char *err, size_t errsize)
{
	if (strncmp(list, "http://", 7) != 0 || (!o->user && !o->cert))
		return 0;
	snprintf(err, errsize, "credentials (%s) are never sent over plain http://: use https:// endpoints",
		 o->user && o->cert ? "etcd_user, etcd_cert" : o->user ? "etcd_user" : "etcd_cert");
	return -EINVAL;
}
