/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The nftables side of per-vif filtering, for the production seam: rules in
 * vifmac's own table bridge vifmac that hold each vif port to its MAC on the
 * wire (libnftables, in process). What is filtered: vifmac-enforce.c.
 *
 * The table (readable with "nft list table bridge vifmac"): one base chain
 * on the bridge's prerouting hook sends frames from a filtered port
 * (iifname @ports) to the chain "check", whose rules look the port and the
 * address the frame carries up in sets keyed by (interface, address): the
 * Ethernet source and ARP sender in "macs", NDP link-layer options in
 * "sll", "tll", "ra"; the map "owner" records which MAC each port is held
 * to. A frame costs a few hash lookups whatever the number of vifs, and a
 * vif is six set elements, added or removed in one nftables transaction.
 * The bridge learns in br_handle_frame_finish, after the prerouting hook: a
 * dropped frame never teaches the FDB its source. Ports match by name, so
 * rules installed before vif-bridge adds the port apply from its first frame.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h> /* before the kernel's headers: glibc's definitions win */
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>

#include "vifmac-internal.h"

#define TABLE VIFMAC_NFT_TABLE

bool vifmac_nft_ifname_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 15 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* ---------------------------------------------------------------- nftables (the production seam) */

struct vifmac_nft {
	struct nft_ctx *nft;
	char error[512]; /* the last failure as nftables said it */
};

struct vifmac_nft *vifmac_nft_new(void)
{
	return calloc(1, sizeof(struct vifmac_nft));
}

void vifmac_nft_free(struct vifmac_nft *n)
{
	if (!n)
		return;
	if (n->nft)
		nft_ctx_free(n->nft);
	free(n);
}

const char *vifmac_nft_error(const struct vifmac_nft *n)
{
	return n ? n->error : "";
}

/* nftables reports errors as text only: the errno is read back from it. */
static int errno_of(const char *msg)
{
	static const struct {
		const char *text;
		int err;
	} known[] = {
		{ "Operation not permitted", -EPERM },
		{ "Permission denied", -EACCES },
		{ "No such file or directory", -ENOENT },
		{ "Protocol not supported", -EOPNOTSUPP },
		{ "Operation not supported", -EOPNOTSUPP },
		{ "Address family not supported", -EOPNOTSUPP },
		{ "Device or resource busy", -EBUSY },
		{ "Cannot allocate memory", -ENOMEM },
		{ "File exists", -EEXIST },
	};

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strstr(msg, known[i].text))
			return known[i].err;
	return -EIO;
}

/* Runs @cmds as one transaction; @ret_output (owned by @n) gets what nftables printed. */
static int nft_run(struct vifmac_nft *n, const char *cmds, const char **ret_output)
{
	const char *err;
	int r;

	if (!n)
		return -ENOMEM;
	if (!n->nft) {
		n->nft = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!n->nft)
			return -ENOMEM;
		if (nft_ctx_buffer_output(n->nft) < 0 || nft_ctx_buffer_error(n->nft) < 0) {
			nft_ctx_free(n->nft);
			n->nft = NULL;
			return -ENOMEM;
		}
	}
	r = nft_run_cmd_from_buffer(n->nft, cmds);
	err = nft_ctx_get_error_buffer(n->nft);
	if (r != 0) {
		/* "Error: what\n<the command>\n   ^^^": the first two lines, on one */
		const char *line = err && *err ? err : "nftables failed";
		size_t len = strcspn(line, "\n"), len2 = line[len] ? strcspn(line + len + 1, "\n") : 0;

		snprintf(n->error, sizeof(n->error), "%.*s%s%.*s", (int)len, line, len2 ? " in: " : "", (int)len2,
			 line + len + (len2 ? 1 : 0));
		return errno_of(err ? err : "");
	}
	n->error[0] = '\0';
	if (ret_output)
		*ret_output = nft_ctx_get_output_buffer(n->nft);
	return 0;
}

/* The table, created whole by the first vif (create table: a second creator fails, atomically). */
static const char skeleton[] =
	"create table " TABLE "\n"
	"add set " TABLE " ports { type ifname; }\n"
	"add map " TABLE " owner { type ifname : ether_addr; }\n"
	"add set " TABLE " macs { type ifname . ether_addr; }\n"
	"add set " TABLE " sll { typeof iifname . @th,192,64; }\n"
	"add set " TABLE " tll { typeof iifname . @th,192,64; }\n"
	"add set " TABLE " ra { typeof iifname . @th,136,56; }\n"
	"add chain " TABLE " prerouting { type filter hook prerouting priority -200; policy accept; }\n"
	"add chain " TABLE " check\n"
	"add rule " TABLE " prerouting iifname @ports jump check\n"
	"add rule " TABLE " check iifname . ether saddr != @macs counter drop comment \"source MAC\"\n"
	"add rule " TABLE " check iifname . arp saddr ether != @macs counter drop comment \"ARP sender\"\n"
	/*
	 * Neighbour discovery: the link-layer option must come first (Linux
	 * uses the first of each type; the stacks we know send it first). A
	 * message without options passes: the payload load beyond its end does
	 * not match. A router advertisement is only checked when its first
	 * option is the source link-layer one (radvd puts prefixes first).
	 * Options start at byte 24 (NS, NA), 8 (RS), 16 (RA), 40 (redirect);
	 * the set keys are type, length (1: 8 bytes) and the MAC.
	 */
	"add rule " TABLE " check icmpv6 type nd-neighbor-solicit ip6 saddr != :: iifname . @th,192,64 != @sll counter drop comment \"NS source link-layer\"\n"
	"add rule " TABLE " check icmpv6 type nd-neighbor-advert iifname . @th,192,64 != @tll counter drop comment \"NA target link-layer\"\n"
	"add rule " TABLE " check icmpv6 type nd-router-solicit iifname . @th,64,64 != @sll counter drop comment \"RS source link-layer\"\n"
	"add rule " TABLE " check icmpv6 type nd-router-advert @th,128,8 1 iifname . @th,136,56 != @ra counter drop comment \"RA source link-layer\"\n"
	"add rule " TABLE " check icmpv6 type nd-redirect iifname . @th,320,64 != @tll counter drop comment \"redirect target link-layer\"\n";

/* "0x" and the MAC as 12 hex digits, behind @prefix (an option's type and length bytes). */
static void mac_hex(const struct vifmac_mac *mac, const char *prefix, char *buf, size_t size)
{
	snprintf(buf, size, "0x%s%02x%02x%02x%02x%02x%02x", prefix, mac->b[0], mac->b[1], mac->b[2], mac->b[3],
		 mac->b[4], mac->b[5]);
}

/*
 * Appends to @buf the element commands (@verb: "add", "delete", "create")
 * for one interface and MAC: five set elements and the owner record.
 */
static void elements(char *buf, size_t size, const char *verb, const char *ifname, const struct vifmac_mac *mac)
{
	char m[VIFMAC_MAC_STRLEN], sll[32], tll[32], ra[32];
	size_t n = strlen(buf);

	vifmac_mac_format(mac, m);
	mac_hex(mac, "0101", sll, sizeof(sll));
	mac_hex(mac, "0201", tll, sizeof(tll));
	mac_hex(mac, "01", ra, sizeof(ra));
	snprintf(buf + n, size - n,
		 "%1$s element " TABLE " owner { \"%2$s\" : %3$s }\n"
		 "%1$s element " TABLE " ports { \"%2$s\" }\n"
		 "%1$s element " TABLE " macs { \"%2$s\" . %3$s }\n"
		 "%1$s element " TABLE " sll { \"%2$s\" . %4$s }\n"
		 "%1$s element " TABLE " tll { \"%2$s\" . %5$s }\n"
		 "%1$s element " TABLE " ra { \"%2$s\" . %6$s }\n",
		 verb, ifname, m, sll, tll, ra);
}

static int parse_owners(const char *text, struct vifmac_enforce_entry **ret_entries, size_t *ret_n);
static int owner_of_nft(struct vifmac_nft *n, const char *ifname, struct vifmac_mac *ret_mac);

/* The MAC in a NEWSETELEM answer: elements > element > data > value. */
static int owner_answer_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vifmac_mac *mac = data;
	const struct nlattr *list, *elem, *field, *value;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM))
		return MNL_CB_OK;
	mnl_attr_for_each(list, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(elem, list) {
			mnl_attr_for_each_nested(field, elem) {
				if (mnl_attr_get_type(field) != NFTA_SET_ELEM_DATA)
					continue;
				mnl_attr_for_each_nested(value, field) {
					if (mnl_attr_get_type(value) == NFTA_DATA_VALUE && mnl_attr_get_payload_len(value) >= 6) {
						memcpy(mac->b, mnl_attr_get_payload(value), 6);
						return MNL_CB_STOP;
					}
				}
			}
		}
	}
	return MNL_CB_OK;
}

/*
 * The owner map's element for @ifname, asked of the kernel directly: one
 * NFT_MSG_GETSETELEM for one key. libnftables would first fetch every
 * element of every set of the table (its cache), a cost that grows with the
 * vifs; and starting libnftables at all costs more than this. 0, -ENOENT
 * (no such element, set or table), or another -errno when the kernel
 * cannot be asked so (the caller then asks libnftables).
 */
static int owner_lookup(const char *ifname, struct vifmac_mac *ret_mac)
{
	char buf[8192], key[16] = { 0 };
	struct vifmac_mac mac = { { 0 } };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct nlattr *elems, *elem, *k;
	unsigned int seq = (unsigned int)time(NULL), portid;
	bool found = false;
	ssize_t got;
	int r = 0;

	memset(buf, 0, sizeof(buf)); /* libmnl leaves attribute padding as it found it */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_BRIDGE;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0; /* big-endian 0 */
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "vifmac");
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "owner");
	elems = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	memcpy(key, ifname, strnlen(ifname, sizeof(key) - 1)); /* type ifname: 16 bytes, zero-padded */
	mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(key), key);
	mnl_attr_nest_end(nlh, k);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, elems);

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 || mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	/* the element (when there is one), then the acknowledgement, or an error */
	while ((got = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		int cr;

		errno = 0;
		cr = mnl_cb_run(buf, (size_t)got, seq, portid, owner_answer_cb, &mac);
		if (cr == MNL_CB_ERROR) {
			r = errno ? -errno : -EIO;
			break;
		}
		if (cr == MNL_CB_STOP) {
			/* the element (its acknowledgement follows, and is not needed), or the acknowledgement alone */
			found = mac.b[0] | mac.b[1] | mac.b[2] | mac.b[3] | mac.b[4] | mac.b[5];
			break;
		}
	}
	if (got < 0)
		r = -errno;
	if (r == 0 && !found)
		r = -ENOENT;
	if (r == 0)
		*ret_mac = mac;
out:
	mnl_socket_close(nl);
	return r;
}

/*
 * What the owner map says @ifname is held to: 0, -ENOENT when nothing (or no
 * table). One element looked up, not the map listed: a read, whatever the
 * number of vifs, and no transaction.
 */
static int owner_of(struct vifmac_nft *n, const char *ifname, struct vifmac_mac *ret_mac)
{
	int lr = owner_lookup(ifname, ret_mac);

	if (lr == 0 || lr == -ENOENT)
		return lr;
	return owner_of_nft(n, ifname, ret_mac);
}

/* owner_of through libnftables: a kernel that answers no single-element get. */
static int owner_of_nft(struct vifmac_nft *n, const char *ifname, struct vifmac_mac *ret_mac)
{
	struct vifmac_enforce_entry *v = NULL;
	size_t count = 0;
	const char *out = NULL;
	char cmd[128];
	int r;

	snprintf(cmd, sizeof(cmd), "get element " TABLE " owner { \"%s\" }\n", ifname);
	r = nft_run(n, cmd, &out);
	if (r < 0)
		return r;
	r = parse_owners(out ? out : "", &v, &count);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < count; i++)
		if (strcmp(v[i].ifname, ifname) == 0) {
			*ret_mac = v[i].mac;
			r = 0;
		}
	free(v);
	return r;
}

/*
 * Per-vif work is element commands only: libnftables then fetches the
 * table's few sets and two chains, never the elements of the others, so a
 * vif costs the same with 1 or 1000 vifs filtered (bench/enforce).
 */
int vifmac_nft_add(struct vifmac_nft *n, const char *ifname, const struct vifmac_mac *mac)
{
	char cmds[4096] = "";
	struct vifmac_mac old;
	int r;

	if (!vifmac_nft_ifname_ok(ifname))
		return -EINVAL;
	/* create: fails with EEXIST when the interface is already held (to this or another MAC) */
	elements(cmds, sizeof(cmds), "create", ifname, mac);
	r = nft_run(n, cmds, NULL);
	if (r == -ENOENT) {
		r = nft_run(n, skeleton, NULL);
		if (r == -ENOENT) {
			/*
			 * The skeleton only creates: ENOENT is a kernel part missing.
			 * Linux 6.1 takes the bridge family's iifname from a module of
			 * its own, which modprobe would load on first use.
			 */
			size_t len = strlen(n->error);

			snprintf(n->error + len, sizeof(n->error) - len,
				 " (the kernel lacks nftables' bridge meta support: modprobe nft_meta_bridge)");
		}
		if (r < 0 && r != -EEXIST)
			return r;
		r = nft_run(n, cmds, NULL);
	}
	if (r != -EEXIST)
		return r;
	/* replaced: the old MAC's elements go in the same transaction */
	r = owner_of(n, ifname, &old);
	if (r < 0)
		return r == -ENOENT ? -EAGAIN : r;
	cmds[0] = '\0';
	elements(cmds, sizeof(cmds), "delete", ifname, &old);
	elements(cmds, sizeof(cmds), "add", ifname, mac);
	return nft_run(n, cmds, NULL);
}

int vifmac_nft_remove(struct vifmac_nft *n, const char *ifname, const struct vifmac_mac *hint)
{
	char cmds[4096] = "";
	struct vifmac_mac mac;
	int r;

	if (!vifmac_nft_ifname_ok(ifname))
		return -EINVAL;
	/*
	 * Looked up first, whatever @hint says: after a transaction that
	 * deleted elements, close() of the nftables socket waits ~10 ms (wall
	 * time, no CPU, as strace and bench/hook show it: the kernel freeing
	 * what was deleted, most likely after an RCU grace period), which a
	 * vif that had no rules (enforce = "off", an exemption) must not pay.
	 * The lookup costs a read.
	 */
	(void)hint;
	r = owner_of(n, ifname, &mac);
	if (r < 0)
		goto out;
	elements(cmds, sizeof(cmds), "delete", ifname, &mac);
	r = nft_run(n, cmds, NULL);
out:
	if (r == -ENOENT) {
		n->error[0] = '\0';
		return 0;
	}
	return r;
}

/* Reads the owner map of "list map bridge vifmac owner": "IFNAME" : MAC pairs. */
static int parse_owners(const char *text, struct vifmac_enforce_entry **ret_entries, size_t *ret_n)
{
	struct vifmac_enforce_entry *v = NULL;
	size_t n = 0, cap = 0;
	const char *p = strstr(text, "elements = {");

	while (p && (p = strchr(p, '"'))) {
		char name[64], mac[32];
		int used = 0;

		if (sscanf(p, "\"%63[A-Za-z0-9_.-]\" : %17[0-9a-f:]%n", name, mac, &used) != 2 || used == 0)
			break;
		p += used;
		if (n == cap) {
			struct vifmac_enforce_entry *nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		memset(&v[n], 0, sizeof(v[n]));
		vifmac_strscpy(v[n].ifname, name, sizeof(v[n].ifname));
		if (vifmac_mac_parse(mac, &v[n].mac) == 0)
			n++;
	}
	*ret_entries = v ? v : calloc(1, sizeof(*v));
	if (!*ret_entries)
		return -ENOMEM;
	*ret_n = n;
	return 0;
}

int vifmac_nft_list(struct vifmac_nft *n, struct vifmac_enforce_entry **ret_entries, size_t *ret_n)
{
	const char *out = NULL;
	int r = nft_run(n, "list map " TABLE " owner\n", &out);

	if (r == -ENOENT) {
		n->error[0] = '\0';
		out = "";
	} else if (r < 0) {
		return r;
	}
	return parse_owners(out ? out : "", ret_entries, ret_n);
}
