/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The nftables side of per-vif filtering, for the production seam: rules in
 * vifmac's own table bridge vifmac that hold each vif port to its MAC on the
 * wire. What is filtered: vifmac-enforce.c.
 *
 * The table (readable with "nft list table bridge vifmac"): one base chain
 * on the bridge's prerouting hook sends frames from a filtered port
 * (iifname @ports) to the chain "check", whose rules look the port and the
 * address the frame carries up in sets keyed by (interface, address): the
 * Ethernet source and ARP sender in "macs", NDP link-layer options in
 * "sll", "tll", "ra"; the map "owner" records which MAC each port is held
 * to. A frame costs a few hash lookups whatever the number of vifs, and a
 * vif is six set elements, added or removed in one nfnetlink batch sent to
 * the kernel directly (vifmac-nft-mnl.c); libnftables (loaded with dlopen,
 * vifmac-nft-dl.c) creates the table from the text below and lists it.
 * The bridge learns in br_handle_frame_finish, after the prerouting hook: a
 * dropped frame never teaches the FDB its source. Ports match by name, so
 * rules installed before vif-bridge adds the port apply from its first frame.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-nft.h"

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
	struct vifmac_nft_nl nl; /* a vif's elements */
	struct nft_ctx *nft;     /* libnftables: the table's creation, listing */
	char error[512]; /* the last failure: what was being done, and the kernel's or libnftables' words */
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
	vifmac_nft_nl_close(&n->nl);
	free(n);
}

const char *vifmac_nft_error(const struct vifmac_nft *n)
{
	return n ? n->error : "";
}

/* libnftables reports errors as text only: the errno is read back from it. */
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

/* Runs @cmds (libnftables) as one transaction; @ret_output (owned by @n) gets what nftables printed. */
static int nft_run(struct vifmac_nft *n, const char *cmds, const char **ret_output)
{
	const char *err;
	int r;

	if (!n)
		return -ENOMEM;
	r = vifmac_nft_dl_load(n->error, sizeof(n->error));
	if (r < 0)
		return r;
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

/* Applies @ops in one batch; on failure, n->error says what was being done (@doing) and why. */
static int apply(struct vifmac_nft *n, const char *doing, const struct vifmac_nft_op *ops, size_t n_ops)
{
	char why[256];
	int r = vifmac_nft_elements_apply(&n->nl, ops, n_ops, why, sizeof(why));

	if (r < 0)
		snprintf(n->error, sizeof(n->error), "%s: %s", doing, why);
	else
		n->error[0] = '\0';
	return r;
}

/*
 * What the owner map says @ifname is held to: 0, -ENOENT when nothing (or no
 * table). One element asked of the kernel, not the map listed: a read,
 * whatever the number of vifs, and no transaction; the map is listed
 * (libnftables) only for a kernel that answers no single-element get.
 */
static int owner_of(struct vifmac_nft *n, const char *ifname, struct vifmac_mac *ret_mac)
{
	struct vifmac_enforce_entry *v = NULL;
	size_t count = 0;
	int r = vifmac_nft_owner_get(&n->nl, ifname, ret_mac);

	if (r != -EOPNOTSUPP) {
		if (r < 0 && r != -ENOENT)
			snprintf(n->error, sizeof(n->error), "looking up what %s is held to (set owner): %s", ifname,
				 strerror(-r));
		return r;
	}
	r = vifmac_nft_list(n, &v, &count);
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
 * A vif's elements go to the kernel directly (vifmac-nft-mnl.c): the same
 * messages libnftables would send for "create element" commands, without
 * loading it, parsing text or fetching the table first; a vif costs the
 * same with 1 or 1000 vifs filtered (bench/enforce). libnftables creates
 * the table, once.
 */
int vifmac_nft_add(struct vifmac_nft *n, const char *ifname, const struct vifmac_mac *mac)
{
	struct vifmac_nft_op ops[2] = { { VIFMAC_NFT_CREATE, ifname, *mac } };
	char doing[64];
	int r;

	if (!n)
		return -ENOMEM;
	if (!vifmac_nft_ifname_ok(ifname))
		return -EINVAL;
	snprintf(doing, sizeof(doing), "adding the set elements of %s", ifname);
	/* create: fails with EEXIST when the interface is already held (to this or another MAC) */
	r = apply(n, doing, ops, 1);
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
		if (r < 0 && r != -EEXIST) {
			char said[sizeof(n->error)];

			vifmac_strscpy(said, n->error, sizeof(said));
			snprintf(n->error, sizeof(n->error), "creating the table: %.480s", said);
			return r;
		}
		r = apply(n, doing, ops, 1);
	}
	if (r != -EEXIST)
		return r;
	/* replaced: the old MAC's elements go in the same batch */
	r = owner_of(n, ifname, &ops[0].mac);
	if (r < 0)
		return r == -ENOENT ? -EAGAIN : r;
	ops[0].verb = VIFMAC_NFT_DELETE;
	ops[1] = (struct vifmac_nft_op){ VIFMAC_NFT_ADD, ifname, *mac };
	snprintf(doing, sizeof(doing), "replacing the set elements of %s", ifname);
	return apply(n, doing, ops, 2);
}

int vifmac_nft_remove(struct vifmac_nft *n, const char *ifname, const struct vifmac_mac *hint)
{
	struct vifmac_nft_op op = { VIFMAC_NFT_DELETE, ifname, { { 0 } } };
	char doing[64];
	int r;

	if (!n)
		return -ENOMEM;
	if (!vifmac_nft_ifname_ok(ifname))
		return -EINVAL;
	/*
	 * Looked up first, whatever @hint says: after a batch that deleted
	 * elements, closing the socket waits ~10 ms (vifmac-nft.h), which a
	 * vif that had no rules (enforce = "off", an exemption) must not pay.
	 * The lookup costs a read.
	 */
	(void)hint;
	r = owner_of(n, ifname, &op.mac);
	if (r == 0) {
		snprintf(doing, sizeof(doing), "deleting the set elements of %s", ifname);
		r = apply(n, doing, &op, 1);
	}
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
