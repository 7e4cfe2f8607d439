/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The operator's IPv4 → MAC table for public bridges: one "IPv4 MAC" pair
 * per line, '#' starts a comment, blank lines are ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

void vifmac_table_free(struct vifmac_table *t)
{
	if (!t)
		return;
	free(t->path);
	free(t->entries);
	free(t);
}

static int table_line(struct vifmac_ctx *ctx, struct vifmac_table *t, char *line, int lineno)
{
	char *hash = strchr(line, '#'), *save = NULL, *ip_s, *mac_s, *extra;
	struct vifmac_table_entry e = { .line = lineno };
	char buf[VIFMAC_MAC_STRLEN];

	if (hash)
		*hash = '\0';
	ip_s = strtok_r(line, " \t\r", &save);
	if (!ip_s)
		return 0;
	mac_s = strtok_r(NULL, " \t\r", &save);
	extra = strtok_r(NULL, " \t\r", &save);
	if (!mac_s || extra)
		return vifmac_set_error(ctx, -EINVAL, "%s:%d: expected \"IPv4 MAC\"", t->path, lineno);
	if (vifmac_ipv4_parse(ip_s, &e.ip) < 0)
		return vifmac_set_error(ctx, -EINVAL, "%s:%d: \"%s\" is not an IPv4 address", t->path, lineno, ip_s);
	if (vifmac_mac_parse(mac_s, &e.mac) < 0)
		return vifmac_set_error(ctx, -EINVAL, "%s:%d: \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)", t->path,
					lineno, mac_s);
	if (vifmac_mac_is_multicast(&e.mac))
		return vifmac_set_error(ctx, -EINVAL, "%s:%d: %s is a multicast address", t->path, lineno,
					vifmac_mac_format(&e.mac, buf));
	if (vifmac_mac_is_xen_random(&e.mac))
		warn(ctx, "%s:%d: %s is inside Xen's random range 00:16:3e:00-7f, which libxl hands out", t->path,
		     lineno, vifmac_mac_format(&e.mac, buf));
	{
		struct vifmac_table_entry *ne = vifmac_array_grow(t->entries, t->n, sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		t->entries = ne;
		ne[t->n++] = e;
	}
	return 0;
}

static int cmp_entry_ip(const void *a, const void *b)
{
	return memcmp(((const struct vifmac_table_entry *)a)->ip.b, ((const struct vifmac_table_entry *)b)->ip.b, 4);
}

static int cmp_entry_mac(const void *a, const void *b)
{
	return memcmp(((const struct vifmac_table_entry *)a)->mac.b, ((const struct vifmac_table_entry *)b)->mac.b, 6);
}

/* Once every line is read: the first address or MAC given twice, in n log n. */
static int check_repeats(struct vifmac_ctx *ctx, const struct vifmac_table *t)
{
	size_t ip_dup = 0, ip_first = 0, mac_dup = 0, mac_first = 0;
	char buf[VIFMAC_MAC_STRLEN], ip[VIFMAC_IPV4_STRLEN];
	int i = vifmac_first_duplicate(t->entries, t->n, sizeof(*t->entries), cmp_entry_ip, &ip_dup, &ip_first);
	int m = i < 0 ? 0 : vifmac_first_duplicate(t->entries, t->n, sizeof(*t->entries), cmp_entry_mac, &mac_dup,
						   &mac_first);

	if (i < 0 || m < 0)
		return -ENOMEM;
	if (i > 0 && (m == 0 || ip_dup <= mac_dup))
		return vifmac_set_error(ctx, -EINVAL, "%s:%d: %s is listed twice (first at line %d)", t->path,
					t->entries[ip_dup].line, vifmac_ipv4_format(&t->entries[ip_dup].ip, ip),
					t->entries[ip_first].line);
	if (m > 0)
		return vifmac_set_error(ctx, -EINVAL, "%s:%d: MAC %s is given twice (first at line %d)", t->path,
					t->entries[mac_dup].line, vifmac_mac_format(&t->entries[mac_dup].mac, buf),
					t->entries[mac_first].line);
	return 0;
}

int vifmac_table_load(struct vifmac_ctx *ctx, const char *path, struct vifmac_table **ret_table)
{
	struct vifmac_table *t = calloc(1, sizeof(*t));
	char *data = NULL, *p, *nl;
	size_t len;
	int lineno = 0, r;

	if (!t)
		return -ENOMEM;
	t->path = strdup(path);
	if (!t->path) {
		r = -ENOMEM;
		goto out;
	}
	r = vifmac_read_file(path, &data, &len);
	if (r < 0) {
		vifmac_set_error(ctx, r, "cannot read %s: %s", path, vifmac_read_file_strerror(r));
		goto out;
	}
	if (memchr(data, '\0', len)) {
		r = vifmac_set_error(ctx, -EINVAL, "%s: not a text file (NUL byte)", path);
		goto out;
	}
	for (p = data; p && *p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		r = table_line(ctx, t, p, ++lineno);
		if (r < 0)
			goto out;
	}
	r = check_repeats(ctx, t);
	if (r < 0)
		goto out;
	*ret_table = t;
	t = NULL;
	r = 0;
out:
	free(data);
	vifmac_table_free(t);
	return r;
}

const struct vifmac_table_entry *vifmac_table_find(const struct vifmac_table *t, const struct vifmac_ipv4 *ip)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (memcmp(t->entries[i].ip.b, ip->b, 4) == 0)
			return &t->entries[i];
	return NULL;
}
