/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A vif's set elements in table bridge vifmac as nfnetlink messages sent
 * with libmnl: the keys and data encoded as nftables 1.0.6 encodes them for
 * the sets of the skeleton (vifmac-nft.c), a change as one batch, and the
 * map owner's element for one interface read back. libnftables would parse
 * text and fetch the table's sets first (its cache) for the same messages.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h> /* before the kernel's headers: glibc's definitions win */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "vifmac-nft.h"

#define TABLE_NAME "vifmac" /* VIFMAC_NFT_TABLE's name, in family NFPROTO_BRIDGE */
#define IFNAME_LEN 16       /* type ifname: IFNAMSIZ bytes, the name then zeros */
#define KEY_MAX 24

/*
 * One vif's elements, in the order of the skeleton's sets. A key is a
 * concatenation, and nftables puts each of its fields in whole 32-bit
 * registers (src/netlink.c, netlink_gen_concat_data: the field's value in
 * its byte order, zeros up to the next 4 bytes): the interface name
 * (16 bytes), then ether_addr (6 bytes, network order, 2 zeros) or a raw
 * payload field (@th,OFFSET,LEN: LEN/8 bytes big-endian, zeros to 4), whose
 * value is the NDP option's type and length (1: 8 bytes) and the MAC.
 */
enum elem_kind {
	MAC_IS_DATA,  /* map ifname : ether_addr */
	IFNAME_ONLY,  /* set ifname */
	MAC_IN_KEY,   /* set ifname . (head bytes, MAC) */
};

static const struct {
	const char *set;
	enum elem_kind kind;
	unsigned char head[2];
	size_t head_len;
} elems[] = {
	{ "owner", MAC_IS_DATA, { 0 }, 0 },
	{ "ports", IFNAME_ONLY, { 0 }, 0 },
	{ "macs", MAC_IN_KEY, { 0 }, 0 },   /* ifname . ether_addr */
	{ "sll", MAC_IN_KEY, { 1, 1 }, 2 }, /* iifname . @th,192,64: 01 01 MAC */
	{ "tll", MAC_IN_KEY, { 2, 1 }, 2 }, /* iifname . @th,192,64: 02 01 MAC */
	{ "ra", MAC_IN_KEY, { 1 }, 1 },     /* iifname . @th,136,56: 01 MAC, one zero */
};

/* The key of element @i for @ifname and @mac in @key (zeroed first); its length. */
static size_t elem_key(size_t i, const char *ifname, const struct vifmac_mac *mac, unsigned char key[KEY_MAX])
{
	size_t field;

	memset(key, 0, KEY_MAX);
	memcpy(key, ifname, strnlen(ifname, IFNAME_LEN - 1));
	if (elems[i].kind != MAC_IN_KEY)
		return IFNAME_LEN;
	memcpy(key + IFNAME_LEN, elems[i].head, elems[i].head_len);
	memcpy(key + IFNAME_LEN + elems[i].head_len, mac->b, sizeof(mac->b));
	field = elems[i].head_len + sizeof(mac->b);
	return IFNAME_LEN + (field + 3) / 4 * 4;
}

/* ---------------------------------------------------------------- messages */

/* A request: the messages, and the set each one is for (NULL: the batch's own). */
struct request {
	char buf[8192];
	size_t len;
	uint32_t seq0;
	size_t n;
	const char *what[16];
};

/* Starts message n of @q; NULL when @q is full (no request here comes near). */
static struct nlmsghdr *msg_start(struct request *q, uint16_t type, uint16_t flags, uint8_t family,
				  uint16_t res_id, const char *what)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (q->n == ARRAY_SIZE(q->what) || q->len + 512 > sizeof(q->buf))
		return NULL;
	nlh = mnl_nlmsg_put_header(q->buf + q->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = q->seq0 + (uint32_t)q->n;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	q->what[q->n++] = what;
	return nlh;
}

static void msg_end(struct request *q, const struct nlmsghdr *nlh)
{
	q->len += nlh->nlmsg_len; /* aligned: libmnl aligns each attribute */
}

static void request_init(struct request *q, struct vifmac_nft_nl *nl)
{
	memset(q, 0, sizeof(*q)); /* attribute padding and unused key bytes are zeros */
	if (nl->seq == 0)
		nl->seq = (uint32_t)time(NULL);
	q->seq0 = nl->seq;
	nl->seq += ARRAY_SIZE(q->what);
}

/* The element list of a set element message: one element, its key and (a map's) data. */
static void put_element(struct nlmsghdr *nlh, size_t i, const char *ifname, const struct vifmac_mac *mac,
			bool with_data)
{
	unsigned char key[KEY_MAX];
	size_t key_len = elem_key(i, ifname, mac, key);
	struct nlattr *list, *elem, *nest;

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, elems[i].set);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, key_len, key);
	mnl_attr_nest_end(nlh, nest);
	if (with_data && elems[i].kind == MAC_IS_DATA) {
		nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, sizeof(mac->b), mac->b);
		mnl_attr_nest_end(nlh, nest);
	}
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
}

void vifmac_nft_nl_close(struct vifmac_nft_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static int nl_open(struct vifmac_nft_nl *nl)
{
	int one = 1;

	if (nl->sock)
		return 0;
	nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	/* errors without a copy of the request: a batch's answers fit the socket's buffer */
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;

		vifmac_nft_nl_close(nl);
		return r;
	}
	return 0;
}

/*
 * Sends @q and hands every answer to it to @fn. The kernel handles a
 * netlink request inside sendto(): its answers are queued when that
 * returns, and are read until none is left (as libnftables does), so that a
 * batch refused as a whole (one error, for its first message) and one
 * answered message by message are read alike, and nothing is left for the
 * next request.
 */
static int request_send(struct vifmac_nft_nl *nl, const struct request *q,
			void (*fn)(const struct nlmsghdr *nlh, void *data), void *data)
{
	char buf[16384];
	int r = nl_open(nl);

	if (r < 0)
		return r;
	if (mnl_socket_sendto(nl->sock, q->buf, q->len) < 0)
		return -errno;
	for (;;) {
		ssize_t got = recv(mnl_socket_get_fd(nl->sock), buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left = (int)got;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				r = -errno; /* ENOBUFS: answers were lost */
			break;
		}
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			if (nlh->nlmsg_seq - q->seq0 < q->n)
				fn(nlh, data);
	}
	return r;
}

/* The error of an NLMSG_ERROR answer (0: an acknowledgement), 1 for any other message. */
static int answer_error(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != NLMSG_ERROR)
		return 1;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	return e->error;
}

/* ---------------------------------------------------------------- a batch */

struct batch_answers {
	uint32_t seq0;
	bool answered[16];
	int err;          /* the first error, by message */
	size_t err_index; /* which message */
};

static void batch_answer(const struct nlmsghdr *nlh, void *data)
{
	struct batch_answers *a = data;
	size_t i = nlh->nlmsg_seq - a->seq0;
	int e = answer_error(nlh);

	if (e > 0 || i >= ARRAY_SIZE(a->answered))
		return;
	a->answered[i] = true;
	if (e < 0 && (a->err == 0 || i < a->err_index)) {
		a->err = e;
		a->err_index = i;
	}
}

int vifmac_nft_elements_apply(struct vifmac_nft_nl *nl, const struct vifmac_nft_op *ops, size_t n_ops, char *why,
			      size_t size)
{
	struct request q;
	struct batch_answers a = { 0 };
	struct nlmsghdr *nlh;
	size_t n_elems = 0;
	int r;

	request_init(&q, nl);
	/*
	 * NLM_F_ACK on every message: each element message is answered (an
	 * acknowledgement, or its error) after the kernel committed or aborted
	 * the whole batch; Linux 6.10 and later also answer the batch's begin
	 * and end, older ones do not (those two answers are not waited for).
	 */
	nlh = msg_start(&q, NFNL_MSG_BATCH_BEGIN, NLM_F_ACK, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, NULL);
	msg_end(&q, nlh);
	for (size_t o = 0; o < n_ops; o++) {
		bool add = ops[o].verb != VIFMAC_NFT_DELETE;
		uint16_t type = (NFNL_SUBSYS_NFTABLES << 8) | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
		uint16_t flags = NLM_F_ACK | (add ? NLM_F_CREATE : 0) | (ops[o].verb == VIFMAC_NFT_CREATE ? NLM_F_EXCL : 0);

		if (!vifmac_nft_ifname_ok(ops[o].ifname)) {
			snprintf(why, size, "interface name \"%.64s\" cannot be filtered", ops[o].ifname);
			return -EINVAL;
		}
		for (size_t i = 0; i < ARRAY_SIZE(elems); i++) {
			nlh = msg_start(&q, type, flags, NFPROTO_BRIDGE, 0, elems[i].set);
			if (!nlh)
				goto too_big;
			put_element(nlh, i, ops[o].ifname, &ops[o].mac, add);
			msg_end(&q, nlh);
			n_elems++;
		}
	}
	nlh = msg_start(&q, NFNL_MSG_BATCH_END, NLM_F_ACK, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, NULL);
	if (!nlh)
		goto too_big;
	msg_end(&q, nlh);

	a.seq0 = q.seq0;
	r = request_send(nl, &q, batch_answer, &a);
	if (r < 0) {
		snprintf(why, size, "nfnetlink: %s", strerror(-r));
		return r;
	}
	if (a.err < 0) {
		const char *set = q.what[a.err_index];

		/* an error for the batch's begin: refused whole (no permission, no nf_tables), or its commit failed */
		snprintf(why, size, "%s%s: %s", set ? "set " : "nf_tables", set ? set : "", strerror(-a.err));
		return a.err;
	}
	for (size_t i = 1; i <= n_elems; i++)
		if (!a.answered[i]) {
			snprintf(why, size, "nf_tables did not answer set element message %zu of %zu", i, n_elems);
			return -EPROTO;
		}
	return 0;
too_big:
	snprintf(why, size, "%zu changes do not fit one batch", n_ops);
	return -E2BIG;
}

/* ---------------------------------------------------------------- one element read */

struct owner_answer {
	struct vifmac_mac mac;
	bool found;
	int err;
};

/* The MAC in a NEWSETELEM answer (elements > element > data > value), or the request's error. */
static void owner_answer(const struct nlmsghdr *nlh, void *data)
{
	struct owner_answer *a = data;
	const struct nlattr *list, *elem, *field, *value;
	int e = answer_error(nlh);

	if (e <= 0) {
		if (e < 0 && a->err == 0)
			a->err = e;
		return;
	}
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM))
		return;
	mnl_attr_for_each(list, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(elem, list) {
			mnl_attr_for_each_nested(field, elem) {
				if (mnl_attr_get_type(field) != NFTA_SET_ELEM_DATA)
					continue;
				mnl_attr_for_each_nested(value, field) {
					if (mnl_attr_get_type(value) == NFTA_DATA_VALUE &&
					    mnl_attr_get_payload_len(value) >= sizeof(a->mac.b)) {
						memcpy(a->mac.b, mnl_attr_get_payload(value), sizeof(a->mac.b));
						a->found = true;
					}
				}
			}
		}
	}
}

/*
 * libnftables' own "get element" would first fetch every element of every
 * set of the table (its cache), a cost that grows with the vifs.
 */
int vifmac_nft_owner_get(struct vifmac_nft_nl *nl, const char *ifname, struct vifmac_mac *ret_mac)
{
	struct request q;
	struct owner_answer a = { { { 0 } }, false, 0 };
	struct nlmsghdr *nlh;
	int r;

	if (!vifmac_nft_ifname_ok(ifname))
		return -EINVAL;
	request_init(&q, nl);
	nlh = msg_start(&q, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM, NLM_F_ACK, NFPROTO_BRIDGE, 0, "owner");
	put_element(nlh, 0, ifname, NULL, false);
	msg_end(&q, nlh);
	r = request_send(nl, &q, owner_answer, &a);
	if (r == 0)
		r = a.err;
	if (r == 0 && !a.found)
		r = -ENOENT;
	if (r == 0)
		*ret_mac = a.mac;
	return r;
}
