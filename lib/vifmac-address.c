/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MAC and IPv4 addresses, and a vif's ip= list: strict parsers and formatters. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses exactly @n ':'-separated hex pairs from @s, which must end there. */
static int hexpairs_parse(const char *s, uint8_t *out, size_t n)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[0]), lo;

		if (hi < 0)
			return -EINVAL;
		lo = hexval(s[1]);
		if (lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i + 1 < n) {
			if (*s != ':')
				return -EINVAL;
			s++;
		}
	}
	return *s == '\0' ? 0 : -EINVAL;
}

VIFMAC_EXPORT int vifmac_mac_parse(const char *s, struct vifmac_mac *ret_mac)
{
	struct vifmac_mac m;
	int r = hexpairs_parse(s, m.b, 6);

	if (r < 0)
		return r;
	*ret_mac = m;
	return 0;
}

int vifmac_prefix_parse(const char *s, uint8_t ret[3], size_t *ret_len)
{
	uint8_t b[3];
	size_t len;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len == 5 && hexpairs_parse(s, b, 2) == 0) {
		memcpy(ret, b, 2);
		*ret_len = 2;
		return 0;
	}
	if (len == 8 && hexpairs_parse(s, b, 3) == 0) {
		memcpy(ret, b, 3);
		*ret_len = 3;
		return 0;
	}
	return -EINVAL;
}

VIFMAC_EXPORT char *vifmac_mac_format(const struct vifmac_mac *mac, char *buf)
{
	snprintf(buf, VIFMAC_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac->b[0], mac->b[1], mac->b[2],
		 mac->b[3], mac->b[4], mac->b[5]);
	return buf;
}

VIFMAC_EXPORT bool vifmac_mac_is_multicast(const struct vifmac_mac *mac)
{
	return mac->b[0] & 0x01;
}

VIFMAC_EXPORT bool vifmac_mac_is_local(const struct vifmac_mac *mac)
{
	return mac->b[0] & 0x02;
}

VIFMAC_EXPORT bool vifmac_mac_is_xen_random(const struct vifmac_mac *mac)
{
	return mac->b[0] == 0x00 && mac->b[1] == 0x16 && mac->b[2] == 0x3e && mac->b[3] < 0x80;
}

VIFMAC_EXPORT bool vifmac_mac_equal(const struct vifmac_mac *a, const struct vifmac_mac *b)
{
	return memcmp(a->b, b->b, 6) == 0;
}

VIFMAC_EXPORT char *vifmac_mac_eui64_link_local(const struct vifmac_mac *mac, char *buf)
{
	struct in6_addr a;

	memset(&a, 0, sizeof(a));
	a.s6_addr[0] = 0xfe;
	a.s6_addr[1] = 0x80;
	a.s6_addr[8] = mac->b[0] ^ 0x02;
	a.s6_addr[9] = mac->b[1];
	a.s6_addr[10] = mac->b[2];
	a.s6_addr[11] = 0xff;
	a.s6_addr[12] = 0xfe;
	a.s6_addr[13] = mac->b[3];
	a.s6_addr[14] = mac->b[4];
	a.s6_addr[15] = mac->b[5];
	inet_ntop(AF_INET6, &a, buf, 40);
	return buf;
}

/* Parses one decimal octet at *s (no leading zero unless "0"), advancing *s. */
static int octet_parse(const char **s, uint8_t *ret)
{
	const char *p = *s;
	unsigned v = 0;
	size_t n = 0;

	while (p[n] >= '0' && p[n] <= '9') {
		v = v * 10 + (unsigned)(p[n] - '0');
		n++;
		if (n > 3)
			return -EINVAL;
	}
	if (n == 0 || (n > 1 && p[0] == '0') || v > 255)
		return -EINVAL;
	*ret = (uint8_t)v;
	*s = p + n;
	return 0;
}

/* Parses a dotted quad at the start of @s; *ret_end points after it. */
static int ipv4_parse_prefix(const char *s, struct vifmac_ipv4 *ret_ip, const char **ret_end)
{
	struct vifmac_ipv4 ip;

	if (!s)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (octet_parse(&s, &ip.b[i]) < 0)
			return -EINVAL;
		if (i < 3) {
			if (*s != '.')
				return -EINVAL;
			s++;
		}
	}
	*ret_ip = ip;
	*ret_end = s;
	return 0;
}

VIFMAC_EXPORT int vifmac_ipv4_parse(const char *s, struct vifmac_ipv4 *ret_ip)
{
	struct vifmac_ipv4 ip;
	const char *end;

	if (ipv4_parse_prefix(s, &ip, &end) < 0 || *end != '\0')
		return -EINVAL;
	*ret_ip = ip;
	return 0;
}

VIFMAC_EXPORT char *vifmac_ipv4_format(const struct vifmac_ipv4 *ip, char *buf)
{
	snprintf(buf, VIFMAC_IPV4_STRLEN, "%u.%u.%u.%u", ip->b[0], ip->b[1], ip->b[2], ip->b[3]);
	return buf;
}

/* "/N" with 0 <= N <= @max, no leading zeros; the whole rest of @s. */
static bool prefixlen_ok(const char *s, unsigned max)
{
	unsigned v = 0;
	size_t n = 0;

	if (*s++ != '/')
		return false;
	while (s[n] >= '0' && s[n] <= '9') {
		v = v * 10 + (unsigned)(s[n] - '0');
		if (++n > 3)
			return false;
	}
	return n > 0 && s[n] == '\0' && !(n > 1 && s[0] == '0') && v <= max;
}

/* One entry of an ip= list: 0 with *is_v4 set, or -EINVAL. */
static int ip_entry_parse(const char *tok, struct vifmac_ipv4 *ret_ip, bool *is_v4)
{
	const char *end;
	char buf[INET6_ADDRSTRLEN + 8];
	struct in6_addr a6;
	const char *slash;

	if (ipv4_parse_prefix(tok, ret_ip, &end) == 0 && (*end == '\0' || prefixlen_ok(end, 32))) {
		*is_v4 = true;
		return 0;
	}
	if (!strchr(tok, ':'))
		return -EINVAL;
	slash = strchr(tok, '/');
	if (slash && !prefixlen_ok(slash, 128))
		return -EINVAL;
	if (!vifmac_strscpy(buf, tok, sizeof(buf)))
		return -EINVAL;
	if (slash)
		buf[slash - tok] = '\0';
	if (inet_pton(AF_INET6, buf, &a6) != 1)
		return -EINVAL;
	*is_v4 = false;
	return 0;
}

VIFMAC_EXPORT int vifmac_iplist_first_ipv4(const char *list, struct vifmac_ipv4 *ret_ip, char **ret_bad)
{
	struct vifmac_ipv4 first;
	bool found = false;
	const char *p = list;

	if (!list)
		return -ENOENT;
	while (*p) {
		char tok[128];
		size_t n = 0;
		struct vifmac_ipv4 ip;
		bool v4;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		while (p[n] && p[n] != ' ')
			n++;
		if (n >= sizeof(tok) || (memcpy(tok, p, n), tok[n] = '\0', ip_entry_parse(tok, &ip, &v4) < 0)) {
			if (ret_bad)
				*ret_bad = strndup(p, n);
			return -EINVAL;
		}
		if (v4 && !found) {
			first = ip;
			found = true;
		}
		p += n;
	}
	if (!found)
		return -ENOENT;
	*ret_ip = first;
	return 0;
}
