/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the nftables side of per-vif filtering: what its files share --
 * a vif's set elements sent to the kernel as nfnetlink messages
 * (vifmac-nft-mnl.c) and libnftables loaded with dlopen (vifmac-nft-dl.c);
 * the table and the per-vif operations are vifmac-nft.c's.
 */
#ifndef VIFMAC_NFT_H
#define VIFMAC_NFT_H

#include <nftables/libnftables.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vifmac-internal.h"

/* ---------------------------------------------------------------- the kernel, directly (vifmac-nft-mnl.c) */

/* What a batch does with one interface's six elements (the sets of the skeleton in vifmac-nft.c). */
enum vifmac_nft_verb {
	VIFMAC_NFT_CREATE, /* "create element": one already there fails the batch with -EEXIST */
	VIFMAC_NFT_ADD,    /* "add element" */
	VIFMAC_NFT_DELETE, /* "delete element": one missing fails the batch with -ENOENT */
};

struct vifmac_nft_op {
	enum vifmac_nft_verb verb;
	const char *ifname; /* vifmac_nft_ifname_ok */
	struct vifmac_mac mac;
};

/*
 * The nfnetlink socket of a struct vifmac_nft, opened by its first request
 * and kept until vifmac_nft_nl_close: when an nfnetlink socket is closed,
 * the kernel waits for the set elements deleted before to be freed (after
 * an RCU grace period, ~10 ms here; nft_rcv_nl_event). A socket per request
 * would wait after every removal (an HVM vif's offline removes two
 * interfaces' rules); one socket waits once, when it is closed.
 */
struct mnl_socket;
struct vifmac_nft_nl {
	struct mnl_socket *sock;
	uint32_t seq; /* of the next request: answers to earlier ones are told apart */
};
void vifmac_nft_nl_close(struct vifmac_nft_nl *nl);

/*
 * Applies @ops (at most two: a replacement is a delete and an add) in one
 * nfnetlink batch, which the kernel applies whole or not at all. Returns 0,
 * or the -errno of the first message refused, with @why (of @size) saying
 * which set and why; @why is untouched on success.
 */
int vifmac_nft_elements_apply(struct vifmac_nft_nl *nl, const struct vifmac_nft_op *ops, size_t n_ops, char *why,
			      size_t size);

/*
 * The MAC the map "owner" holds @ifname to: one NFT_MSG_GETSETELEM for that
 * key. 0; -ENOENT (no such element, map or table); -EOPNOTSUPP from a kernel
 * that answers no single-element get; another -errno.
 */
int vifmac_nft_owner_get(struct vifmac_nft_nl *nl, const char *ifname, struct vifmac_mac *ret_mac);

/* ---------------------------------------------------------------- libnftables (vifmac-nft-dl.c) */

/*
 * libnftables is loaded with dlopen when the table is created or listed,
 * not linked: a vif's own work goes to the kernel directly, and libnftables
 * with what it brings (libnftnl, libjansson, libgmp, libxtables, ...) cost
 * every hotplug process its loading. The calls go through these pointers
 * (the macros below), with the types of the library's own declarations.
 */
#define NFTABLES_SONAME "libnftables.so.1"
#define NFTABLES_PACKAGE "libnftables1"
#define NFT_DL_SYMBOLS(X)                                                                                  \
	X(nft_ctx_new) X(nft_ctx_free) X(nft_ctx_buffer_output) X(nft_ctx_buffer_error)                    \
	X(nft_ctx_get_output_buffer) X(nft_ctx_get_error_buffer) X(nft_run_cmd_from_buffer)

struct vifmac_nft_dl {
	bool loaded;
#define X(name) typeof(name) *name;
	NFT_DL_SYMBOLS(X)
#undef X
};
extern struct vifmac_nft_dl vifmac_nft_dl;

/* Loads libnftables once per process. 0, or -ELIBACC with @why (of @size) naming the library and its package. */
int vifmac_nft_dl_load(char *why, size_t size);

#ifndef VIFMAC_NFT_DL_LOADER
#define nft_ctx_new (*vifmac_nft_dl.nft_ctx_new)
#define nft_ctx_free (*vifmac_nft_dl.nft_ctx_free)
#define nft_ctx_buffer_output (*vifmac_nft_dl.nft_ctx_buffer_output)
#define nft_ctx_buffer_error (*vifmac_nft_dl.nft_ctx_buffer_error)
#define nft_ctx_get_output_buffer (*vifmac_nft_dl.nft_ctx_get_output_buffer)
#define nft_ctx_get_error_buffer (*vifmac_nft_dl.nft_ctx_get_error_buffer)
#define nft_run_cmd_from_buffer (*vifmac_nft_dl.nft_run_cmd_from_buffer)
#endif

#endif
