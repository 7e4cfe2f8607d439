/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MAC and IPv4 addresses and ip= lists: vifmac_mac_parse, vifmac_ipv4_parse,
 * vifmac_iplist_first_ipv4 (and the private vifmac_prefix_parse), with
 * round-trip properties:
 *  - a MAC that parses is 17 bytes and formats back to the input in lower case;
 *  - an IPv4 address that parses formats back to exactly the input (strict:
 *    no leading zeros, no short forms);
 *  - the first IPv4 of a list is one of its entries (alone or with /len), every
 *    entry before it is an IPv6 one; a refused list names an entry of it.
 */
#include <arpa/inet.h>
#include <ctype.h>

#include "fuzz-common.h"

static void check_mac(const char *s)
{
	struct vifmac_mac m, m2;
	char buf[VIFMAC_MAC_STRLEN], ll[48];
	struct in6_addr a6;

	if (vifmac_mac_parse(s, &m) < 0)
		return;
	FUZZ_ASSERT(strlen(s) == 17);
	vifmac_mac_format(&m, buf);
	for (size_t i = 0; i < 17; i++)
		FUZZ_ASSERT(buf[i] == tolower((unsigned char)s[i]));
	FUZZ_ASSERT(vifmac_mac_parse(buf, &m2) == 0 && vifmac_mac_equal(&m, &m2));
	vifmac_mac_eui64_link_local(&m, ll);
	FUZZ_ASSERT(inet_pton(AF_INET6, ll, &a6) == 1);
	FUZZ_ASSERT(a6.s6_addr[0] == 0xfe && a6.s6_addr[1] == 0x80);
	FUZZ_ASSERT(a6.s6_addr[8] == (m.b[0] ^ 2) && a6.s6_addr[15] == m.b[5]);
	(void)vifmac_mac_is_multicast(&m);
	(void)vifmac_mac_is_local(&m);
	(void)vifmac_mac_is_xen_random(&m);
}

static void check_ipv4(const char *s)
{
	struct vifmac_ipv4 ip, ip2;
	char buf[VIFMAC_IPV4_STRLEN];
	struct in_addr a;

	if (vifmac_ipv4_parse(s, &ip) < 0)
		return;
	vifmac_ipv4_format(&ip, buf);
	FUZZ_ASSERT(strcmp(buf, s) == 0);
	FUZZ_ASSERT(vifmac_ipv4_parse(buf, &ip2) == 0 && memcmp(ip.b, ip2.b, 4) == 0);
	/* the C library agrees (inet_pton is strict dotted-quad too) */
	FUZZ_ASSERT(inet_pton(AF_INET, s, &a) == 1 && memcmp(&a, ip.b, 4) == 0);
}

static void check_prefix(const char *s)
{
	uint8_t p[3];
	size_t len = 0;

	if (vifmac_prefix_parse(s, p, &len) < 0)
		return;
	FUZZ_ASSERT((len == 2 && strlen(s) == 5) || (len == 3 && strlen(s) == 8));
}

static void check_iplist(const char *s)
{
	struct vifmac_ipv4 ip;
	char *bad = NULL, buf[VIFMAC_IPV4_STRLEN];
	int r = vifmac_iplist_first_ipv4(s, &ip, &bad);

	if (r == -EINVAL) {
		FUZZ_ASSERT(bad != NULL);
		FUZZ_ASSERT(bad[0] != '\0' && !strchr(bad, ' '));
		FUZZ_ASSERT(strstr(s, bad) != NULL);
		free(bad);
		return;
	}
	FUZZ_ASSERT(bad == NULL);
	FUZZ_ASSERT(r == 0 || r == -ENOENT);
	/* walk the entries: before the first IPv4 only IPv6 ones (they have a ':') */
	{
		const char *p = s;
		bool found = false;

		vifmac_ipv4_format(&ip, buf);
		while (*p) {
			size_t n;

			while (*p == ' ')
				p++;
			if (!*p)
				break;
			n = strcspn(p, " ");
			if (!memchr(p, ':', n)) {
				/* an IPv4 entry: with r == 0 the first one is the answer */
				FUZZ_ASSERT(r == 0);
				FUZZ_ASSERT(strncmp(p, buf, strlen(buf)) == 0 &&
					    (n == strlen(buf) || p[strlen(buf)] == '/'));
				found = true;
				break;
			}
			p += n;
		}
		FUZZ_ASSERT(found == (r == 0));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size);

	check_mac(s);
	check_ipv4(s);
	check_prefix(s);
	check_iplist(s);
	free(s);
	return 0;
}
