/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dom0's links, bridge forwarding databases and neighbour tables, read with
 * rtnetlink dumps (libmnl): what the wire has shown this host.
 */
#include <errno.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vifmac-internal.h"

/* A growable array of fixed-size items. */
struct vec {
	void *items;
	size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *ni = realloc(v->items, cap * v->size);

		if (!ni)
			return NULL;
		v->items = ni;
		v->cap = cap;
	}
	memset((char *)v->items + v->n * v->size, 0, v->size);
	return (char *)v->items + v->n++ * v->size;
}

struct dump_state {
	struct vec out;
	int err;
	/* for neighbour dumps: the links, to name ifindexes */
	const struct vifmac_link_info *links;
	const int *link_index;
	size_t n_links;
	long hz;
};

/* Sends one dump request and runs @cb over every answer. */
/* An rtnetlink socket bound to @groups (0: requests only) and a receive buffer; both NULL on error. */
static int socket_open(unsigned groups, struct mnl_socket **ret_nl, char **ret_buf)
{
	int r;

	*ret_buf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	if (!*ret_buf)
		return -ENOMEM;
	*ret_nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (*ret_nl && mnl_socket_bind(*ret_nl, groups, MNL_SOCKET_AUTOPID) == 0)
		return 0;
	r = -errno;
	if (*ret_nl)
		mnl_socket_close(*ret_nl);
	free(*ret_buf);
	*ret_nl = NULL;
	*ret_buf = NULL;
	return r;
}

static int dump(uint16_t type, uint8_t family, mnl_cb_t cb, struct dump_state *st)
{
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	char *buf;
	unsigned int seq = (unsigned int)time(NULL), portid;
	ssize_t n;
	int r = socket_open(0, &nl, &buf);

	if (r < 0)
		return r;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (type == RTM_GETLINK) {
		struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

		ifm->ifi_family = family;
	} else {
		struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

		ndm->ndm_family = family;
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE * 4)) > 0) {
		int cr = mnl_cb_run(buf, (size_t)n, seq, portid, cb, st);

		if (cr == MNL_CB_ERROR) {
			r = st->err ? st->err : (errno ? -errno : -EIO);
			goto out;
		}
		if (cr == MNL_CB_STOP)
			break;
	}
	if (n < 0)
		r = -errno;
	else if (st->err)
		r = st->err;
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return r;
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	/* tables are sized for the largest attribute type we read */
	if (type <= IFLA_MAX && type >= 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

static bool lladdr(const struct nlattr *a, struct vifmac_mac *ret)
{
	if (!a || mnl_attr_get_payload_len(a) != 6)
		return false;
	memcpy(ret->b, mnl_attr_get_payload(a), 6);
	return true;
}

/* link dumps: one vifmac_link_info plus its ifindex and kind (parallel arrays) */
enum { LINK_OTHER = 0, LINK_BRIDGE = 1, LINK_VLAN_BRIDGE = 2 };

struct link_state {
	struct dump_state st;
	struct vec index;
	struct vec kind;
};

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type >= 0 && type <= IFLA_INFO_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int br_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type >= 0 && type <= IFLA_BR_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

/* LINK_BRIDGE, LINK_VLAN_BRIDGE (vlan_filtering on: FDB keyed by MAC and VLAN) or LINK_OTHER */
static int link_kind(const struct nlattr *linkinfo)
{
	const struct nlattr *li[IFLA_INFO_MAX + 1] = { 0 };
	const struct nlattr *br[IFLA_BR_MAX + 1] = { 0 };

	if (!linkinfo || mnl_attr_parse_nested(linkinfo, linkinfo_cb, li) < 0 || !li[IFLA_INFO_KIND] ||
	    strcmp(mnl_attr_get_str(li[IFLA_INFO_KIND]), "bridge") != 0)
		return LINK_OTHER;
	if (li[IFLA_INFO_DATA] && mnl_attr_parse_nested(li[IFLA_INFO_DATA], br_cb, br) >= 0 &&
	    br[IFLA_BR_VLAN_FILTERING] && mnl_attr_get_u8(br[IFLA_BR_VLAN_FILTERING]))
		return LINK_VLAN_BRIDGE;
	return LINK_BRIDGE;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_state *ls = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct vifmac_link_info *li;
	int *idx, *kind;

	if (mnl_attr_parse(nlh, sizeof(*ifm), attr_cb, tb) < 0 || !tb[IFLA_IFNAME])
		return MNL_CB_OK;
	li = vec_push(&ls->st.out);
	idx = vec_push(&ls->index);
	kind = vec_push(&ls->kind);
	if (!li || !idx || !kind) {
		ls->st.err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	*idx = ifm->ifi_index;
	*kind = link_kind(tb[IFLA_LINKINFO]);
	vifmac_strscpy(li->name, mnl_attr_get_str(tb[IFLA_IFNAME]), sizeof(li->name));
	if (!lladdr(tb[IFLA_ADDRESS], &li->mac))
		memset(&li->mac, 0, sizeof(li->mac)); /* tunnels and the like */
	if (tb[IFLA_MASTER]) {
		/* the master's name is filled in once every link is known */
		snprintf(li->master, sizeof(li->master), "#%u", mnl_attr_get_u32(tb[IFLA_MASTER]));
	}
	return MNL_CB_OK;
}

static const char *name_of(const struct vifmac_link_info *links, const int *index, size_t n, int ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (index[i] == ifindex)
			return links[i].name;
	return NULL;
}

/* Links, their ifindexes and (when @ret_kind) kinds; the caller frees the arrays. */
static int links_dump_kinds(struct vifmac_link_info **ret_links, int **ret_index, int **ret_kind, size_t *ret_n)
{
	struct link_state ls = { .st.out.size = sizeof(struct vifmac_link_info),
				 .index.size = sizeof(int),
				 .kind.size = sizeof(int) };
	struct vifmac_link_info *links;
	int *index;
	int r = dump(RTM_GETLINK, AF_UNSPEC, link_cb, &ls.st);

	if (r < 0) {
		free(ls.st.out.items);
		free(ls.index.items);
		free(ls.kind.items);
		return r;
	}
	if (ret_kind) {
		*ret_kind = ls.kind.items ? ls.kind.items : calloc(1, sizeof(int));
		if (!*ret_kind) {
			free(ls.st.out.items);
			free(ls.index.items);
			return -ENOMEM;
		}
	} else {
		free(ls.kind.items);
	}
	links = ls.st.out.items;
	index = ls.index.items;
	for (size_t i = 0; i < ls.st.out.n; i++) {
		if (links[i].master[0] == '#') {
			const char *m = name_of(links, index, ls.st.out.n, atoi(links[i].master + 1));

			vifmac_strscpy(links[i].master, m ? m : "", sizeof(links[i].master));
		}
	}
	*ret_links = links ? links : calloc(1, sizeof(*links));
	*ret_index = index ? index : calloc(1, sizeof(*index));
	*ret_n = ls.st.out.n;
	if (!*ret_links || !*ret_index) {
		free(*ret_links);
		free(*ret_index);
		if (ret_kind)
			free(*ret_kind);
		return -ENOMEM;
	}
	return 0;
}

static int links_dump(struct vifmac_link_info **ret_links, int **ret_index, size_t *ret_n)
{
	return links_dump_kinds(ret_links, ret_index, NULL, ret_n);
}

int vifmac_netlink_list_links(struct vifmac_link_info **ret_links, size_t *ret_n)
{
	int *index;
	int r = links_dump(ret_links, &index, ret_n);

	if (r == 0)
		free(index);
	return r;
}

static int fdb_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_state *st = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct vifmac_fdb_entry *e;
	struct vifmac_mac mac;
	const char *port, *bridge;

	if (mnl_attr_parse(nlh, sizeof(*ndm), attr_cb, tb) < 0 || ndm->ndm_family != AF_BRIDGE)
		return MNL_CB_OK;
	/* only the bridges' own forwarding databases, not the devices' address lists */
	if (!tb[NDA_MASTER] || !lladdr(tb[NDA_LLADDR], &mac))
		return MNL_CB_OK;
	bridge = name_of(st->links, st->link_index, st->n_links, (int)mnl_attr_get_u32(tb[NDA_MASTER]));
	port = name_of(st->links, st->link_index, st->n_links, ndm->ndm_ifindex);
	e = vec_push(&st->out);
	if (!e) {
		st->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	e->mac = mac;
	vifmac_strscpy(e->bridge, bridge ? bridge : "?", sizeof(e->bridge));
	vifmac_strscpy(e->port, port ? port : "?", sizeof(e->port));
	e->vlan = tb[NDA_VLAN] ? mnl_attr_get_u16(tb[NDA_VLAN]) : 0;
	e->local = ndm->ndm_state & NUD_PERMANENT;
	e->age = -1;
	if (tb[NDA_CACHEINFO] && mnl_attr_get_payload_len(tb[NDA_CACHEINFO]) >= sizeof(struct nda_cacheinfo)) {
		const struct nda_cacheinfo *ci = mnl_attr_get_payload(tb[NDA_CACHEINFO]);

		e->age = st->hz > 0 ? (int64_t)(ci->ndm_updated / (unsigned long)st->hz) : -1;
	}
	return MNL_CB_OK;
}

/* A dump state for @size-byte entries that knows every link (to name ifindexes). */
static int state_init(struct dump_state *st, size_t size, int **ret_kind)
{
	struct vifmac_link_info *links;
	int *index;
	size_t n;
	int r = links_dump_kinds(&links, &index, ret_kind, &n);

	if (r < 0)
		return r;
	memset(st, 0, sizeof(*st));
	st->out.size = size;
	st->links = links;
	st->link_index = index;
	st->n_links = n;
	st->hz = sysconf(_SC_CLK_TCK);
	return 0;
}

/* Frees the links; on success hands the entries out (never NULL), else frees them. */
static int state_finish(struct dump_state *st, int r, void **ret_entries, size_t *ret_n)
{
	free((void *)st->links);
	free((void *)st->link_index);
	if (r < 0) {
		free(st->out.items);
		return r;
	}
	*ret_entries = st->out.items ? st->out.items : calloc(1, st->out.size);
	*ret_n = st->out.n;
	return *ret_entries ? 0 : -ENOMEM;
}

int vifmac_netlink_list_fdb(struct vifmac_fdb_entry **ret_entries, size_t *ret_n)
{
	struct dump_state st;
	int r = state_init(&st, sizeof(struct vifmac_fdb_entry), NULL);

	if (r < 0)
		return r;
	r = dump(RTM_GETNEIGH, AF_BRIDGE, fdb_cb, &st);
	return state_finish(&st, r, (void **)ret_entries, ret_n);
}

/*
 * One bridge's FDB entry for @mac (and VLAN 0), asked of the kernel with a
 * single RTM_GETNEIGH get (Linux >= 5.0): no dump of the whole table.
 * Returns 0 (entry appended to st->out, or none: -ENOENT is not an error),
 * -EOPNOTSUPP when the kernel cannot answer such a get.
 */
static int fdb_get(struct mnl_socket *nl, unsigned int portid, int bridge_ifindex, const struct vifmac_mac *mac,
		   struct dump_state *st)
{
	/* zeroed: libmnl 1.0.4 leaves the padding after the 6-byte NDA_LLADDR as it found it */
	char buf[16384] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm;
	unsigned int seq = (unsigned int)time(NULL) ^ (unsigned int)bridge_ifindex;
	ssize_t n;
	int cr;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_BRIDGE;
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac->b);
	mnl_attr_put_u32(nlh, NDA_MASTER, (uint32_t)bridge_ifindex);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	errno = 0;
	cr = mnl_cb_run(buf, (size_t)n, seq, portid, fdb_cb, st);
	if (cr == MNL_CB_ERROR) {
		if (errno == ENOENT)
			return 0;
		if (errno == EINVAL || errno == EOPNOTSUPP || errno == EPROTONOSUPPORT)
			return -EOPNOTSUPP;
		return st->err ? st->err : (errno ? -errno : -EIO);
	}
	return st->err;
}

int vifmac_netlink_find_fdb(const struct vifmac_mac *mac, struct vifmac_fdb_entry **ret_entries, size_t *ret_n)
{
	struct dump_state st;
	struct mnl_socket *nl = NULL;
	int *kind = NULL;
	bool need_dump = false;
	int r = state_init(&st, sizeof(struct vifmac_fdb_entry), &kind);

	if (r < 0)
		return r;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto out;
	}
	for (size_t i = 0; i < st.n_links && !need_dump; i++) {
		if (kind[i] == LINK_VLAN_BRIDGE) {
			need_dump = true; /* entries are per VLAN: ask for all of them */
		} else if (kind[i] == LINK_BRIDGE) {
			r = fdb_get(nl, mnl_socket_get_portid(nl), st.link_index[i], mac, &st);
			if (r == -EOPNOTSUPP)
				need_dump = true;
			else if (r < 0)
				goto out;
		}
	}
	r = 0;
	if (need_dump) {
		struct vifmac_fdb_entry *all = NULL;
		size_t n_all = 0;

		st.out.n = 0;
		r = vifmac_netlink_list_fdb(&all, &n_all);
		for (size_t i = 0; r == 0 && i < n_all; i++) {
			struct vifmac_fdb_entry *e;

			if (!vifmac_mac_equal(&all[i].mac, mac))
				continue;
			e = vec_push(&st.out);
			if (e)
				*e = all[i];
			else
				r = -ENOMEM;
		}
		free(all);
	}
out:
	if (nl)
		mnl_socket_close(nl);
	free(kind);
	return state_finish(&st, r, (void **)ret_entries, ret_n);
}

static const char *nud_name(uint16_t state)
{
	if (state & NUD_PERMANENT)
		return "permanent";
	if (state & NUD_NOARP)
		return "noarp";
	if (state & NUD_REACHABLE)
		return "reachable";
	if (state & NUD_STALE)
		return "stale";
	if (state & NUD_DELAY)
		return "delay";
	if (state & NUD_PROBE)
		return "probe";
	return NULL; /* incomplete, failed, none: no usable address */
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_state *st = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct vifmac_neigh_entry *e;
	struct vifmac_mac mac;
	const char *state, *ifname;

	if (mnl_attr_parse(nlh, sizeof(*ndm), attr_cb, tb) < 0)
		return MNL_CB_OK;
	if ((ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) || !lladdr(tb[NDA_LLADDR], &mac) ||
	    !tb[NDA_DST])
		return MNL_CB_OK;
	state = nud_name(ndm->ndm_state);
	if (!state)
		return MNL_CB_OK;
	e = vec_push(&st->out);
	if (!e) {
		st->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	e->mac = mac;
	inet_ntop(ndm->ndm_family, mnl_attr_get_payload(tb[NDA_DST]), e->ip, sizeof(e->ip));
	ifname = name_of(st->links, st->link_index, st->n_links, ndm->ndm_ifindex);
	vifmac_strscpy(e->ifname, ifname ? ifname : "?", sizeof(e->ifname));
	vifmac_strscpy(e->state, state, sizeof(e->state));
	return MNL_CB_OK;
}

int vifmac_netlink_list_neigh(struct vifmac_neigh_entry **ret_entries, size_t *ret_n)
{
	struct dump_state st;
	int r = state_init(&st, sizeof(struct vifmac_neigh_entry), NULL);

	if (r < 0)
		return r;
	r = dump(RTM_GETNEIGH, AF_INET, neigh_cb, &st);
	if (r == 0)
		r = dump(RTM_GETNEIGH, AF_INET6, neigh_cb, &st);
	return state_finish(&st, r, (void **)ret_entries, ret_n);
}

struct watch_state {
	int (*fn)(void *data, const struct vifmac_watch_event *e, int *wake_ms);
	void *data;
	int stop;
	int wake_ms;
};

static void watch_call(struct watch_state *w, struct vifmac_watch_event *e)
{
	w->stop = w->fn(w->data, e, &w->wake_ms);
}

/* An FDB entry learned, moved or forgotten (names "" for links already gone). */
static int watch_neigh(struct watch_state *w, const struct nlmsghdr *nlh)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct vifmac_watch_event e;
	char port[IF_NAMESIZE] = "", bridge[IF_NAMESIZE] = "";

	if (mnl_attr_parse(nlh, sizeof(*ndm), attr_cb, tb) < 0 || ndm->ndm_family != AF_BRIDGE || !tb[NDA_MASTER] ||
	    (ndm->ndm_state & NUD_PERMANENT))
		return MNL_CB_OK;
	memset(&e, 0, sizeof(e));
	e.what = nlh->nlmsg_type == RTM_NEWNEIGH ? VIFMAC_WATCH_LEARNED : VIFMAC_WATCH_FORGOTTEN;
	e.port_index = ndm->ndm_ifindex;
	e.bridge_index = (int)mnl_attr_get_u32(tb[NDA_MASTER]);
	if (!lladdr(tb[NDA_LLADDR], &e.fdb.mac))
		return MNL_CB_OK;
	if ((!if_indextoname((unsigned)e.port_index, port) || !if_indextoname((unsigned)e.bridge_index, bridge)) &&
	    e.what == VIFMAC_WATCH_LEARNED)
		return MNL_CB_OK; /* gone meanwhile: its deletion follows */
	vifmac_strscpy(e.fdb.port, port, sizeof(e.fdb.port));
	vifmac_strscpy(e.fdb.bridge, bridge, sizeof(e.fdb.bridge));
	e.fdb.vlan = tb[NDA_VLAN] ? mnl_attr_get_u16(tb[NDA_VLAN]) : 0;
	watch_call(w, &e);
	return w->stop ? MNL_CB_STOP : MNL_CB_OK;
}

/* A link added, changed (a port joining or leaving a bridge among others) or deleted. */
static int watch_link(struct watch_state *w, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct vifmac_watch_event e;
	char bridge[IF_NAMESIZE] = "";

	/* AF_BRIDGE copies (a port's bridge attributes) say nothing the AF_UNSPEC one does not */
	if (ifm->ifi_family != AF_UNSPEC || mnl_attr_parse(nlh, sizeof(*ifm), attr_cb, tb) < 0)
		return MNL_CB_OK;
	memset(&e, 0, sizeof(e));
	e.what = nlh->nlmsg_type == RTM_NEWLINK ? VIFMAC_WATCH_LINK : VIFMAC_WATCH_LINK_GONE;
	e.port_index = ifm->ifi_index;
	if (tb[IFLA_IFNAME])
		vifmac_strscpy(e.fdb.port, mnl_attr_get_str(tb[IFLA_IFNAME]), sizeof(e.fdb.port));
	if (tb[IFLA_MASTER] && e.what == VIFMAC_WATCH_LINK) {
		e.bridge_index = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
		if (if_indextoname((unsigned)e.bridge_index, bridge))
			vifmac_strscpy(e.fdb.bridge, bridge, sizeof(e.fdb.bridge));
	}
	watch_call(w, &e);
	return w->stop ? MNL_CB_STOP : MNL_CB_OK;
}

static int watch_cb(const struct nlmsghdr *nlh, void *data)
{
	switch (nlh->nlmsg_type) {
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		return watch_neigh(data, nlh);
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return watch_link(data, nlh);
	default:
		return MNL_CB_OK;
	}
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int vifmac_netlink_watch(int (*fn)(void *data, const struct vifmac_watch_event *e, int *wake_ms), void *data)
{
	struct watch_state w = { .fn = fn, .data = data, .wake_ms = -1 };
	struct vifmac_watch_event start = { .what = VIFMAC_WATCH_START };
	struct mnl_socket *nl;
	struct pollfd pfd;
	double deadline = -1;
	int rcvbuf = 4 << 20;
	char *buf;
	ssize_t n;
	/* notifications only: the process sleeps in poll until the kernel has news or a wake-up is due */
	int r = socket_open((1u << (RTNLGRP_NEIGH - 1)) | (1u << (RTNLGRP_LINK - 1)), &nl, &buf);

	if (r < 0)
		return r;
	/*
	 * Room for a burst (a bridge learning thousands of MACs at once, a
	 * boot storm of links) before the kernel drops notifications; FORCE
	 * passes the rmem_max limit as root, the plain option is the fall-back.
	 */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	pfd.fd = mnl_socket_get_fd(nl);
	pfd.events = POLLIN;
	watch_call(&w, &start);
	while (!w.stop) {
		int timeout = -1, p;

		if (w.wake_ms >= 0 && deadline < 0)
			deadline = mono_ms() + w.wake_ms;
		if (deadline >= 0) {
			double left = deadline - mono_ms();

			timeout = left > 0 ? (int)left + 1 : 0;
		}
		p = poll(&pfd, 1, timeout);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0) {
			r = -errno;
			break;
		}
		if (p == 0) {
			struct vifmac_watch_event t = { .what = VIFMAC_WATCH_TIMEOUT };

			deadline = -1;
			w.wake_ms = -1;
			watch_call(&w, &t);
			continue;
		}
		/* every call may ask for a new wake-up: it replaces the one due */
		w.wake_ms = deadline >= 0 ? (int)(deadline - mono_ms()) : -1;
		if (w.wake_ms < -1)
			w.wake_ms = 0;
		n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE * 4);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* the kernel dropped notifications under a burst: the caller reads the state again */
				struct vifmac_watch_event o = { .what = VIFMAC_WATCH_OVERRUN };

				watch_call(&w, &o);
				continue;
			}
			r = -errno;
			break;
		}
		if (mnl_cb_run(buf, (size_t)n, 0, 0, watch_cb, &w) == MNL_CB_ERROR) {
			r = errno ? -errno : -EIO;
			break;
		}
		deadline = -1;
	}
	if (w.stop > 0)
		r = 0;
	else if (w.stop < 0)
		r = w.stop;
	mnl_socket_close(nl);
	free(buf);
	return r;
}
