/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vifmac watch: the bridges followed as the kernel changes them, reporting
 * as it happens our MACs learned on a port that is not their vif, MACs
 * moving between ports, and vifs without their rules or rules without a vif.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <net/if.h>
#include <stdint.h>

#include "vifmac-internal.h"

/*
 * Where the watch last saw a MAC learned: a node of a fixed pool, chained
 * in a hash bucket and in a list from the most to the least recently
 * learned (indexes into the pool; -1 ends a chain).
 */
struct seen {
	struct vifmac_mac mac;
	int vlan;
	int bridge_index;
	int next;  /* in its bucket, or in the free list */
	int newer; /* the recency list */
	int older;
	char bridge[IF_NAMESIZE];
	char port[IF_NAMESIZE];
};

/* A link and the bridge it is a port of, to tell a port joining or leaving from other news. */
struct port {
	int index;
	int master;
	char name[IF_NAMESIZE];
};

/* A rules finding waiting for its confirmation, or reported. */
struct suspect {
	char kind[32];
	char message[512];
	bool reported;
	bool present; /* found by the last check */
};

struct watcher {
	struct vifmac_ctx *ctx;
	struct vifmac_registry *reg;
	vifmac_finding_fn fn;
	void *data;
	struct vifmac_running_vif *vifs;
	size_t n_vifs;
	struct vifmac_record *claims;
	size_t n_claims;
	double refreshed; /* monotonic seconds; 0: never */
	struct seen *seen;   /* VIFMAC_WATCH_MAX_SEEN nodes, allocated with the first MAC */
	int *buckets;        /* VIFMAC_WATCH_MAX_SEEN heads */
	int free_seen;       /* the first unused node */
	int newest, oldest;  /* the recency list's ends */
	size_t n_seen;
	struct port *ports;
	size_t n_ports;
	struct suspect *suspects;
	size_t n_suspects;
	double check_due; /* monotonic seconds; 0: no rules check due */
	int stop;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int claim_fn(void *data, const struct vifmac_record *rec)
{
	struct watcher *w = data;
	struct vifmac_record *nc = realloc(w->claims, (w->n_claims + 1) * sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	w->claims = nc;
	w->claims[w->n_claims++] = *rec;
	return 0;
}

/* The running vifs and the registry, read again when older than a second. */
static void refresh(struct watcher *w)
{
	struct vifmac_running_vif *vifs = NULL;
	size_t n = 0;
	double now = mono();

	if (w->refreshed > 0 && now - w->refreshed < 1.0)
		return;
	w->refreshed = now;
	if (vifmac_running_vifs(w->ctx, &vifs, &n) == 0) {
		free(w->vifs);
		w->vifs = vifs;
		w->n_vifs = n;
	}
	if (w->reg) {
		free(w->claims);
		w->claims = NULL;
		w->n_claims = 0;
		vifmac_registry_list(w->reg, claim_fn, w);
	}
}

static void emit(struct watcher *w, enum vifmac_severity sev, const char *kind, const struct vifmac_mac *mac,
		 const char *format, ...) VIFMAC_PRINTF(5, 6);
static void emit(struct watcher *w, enum vifmac_severity sev, const char *kind, const struct vifmac_mac *mac,
		 const char *format, ...)
{
	struct vifmac_finding f;
	va_list args;

	va_start(args, format);
	vifmac_finding_vset(&f, sev, kind, mac, format, args);
	va_end(args);
	if (!w->stop)
		w->stop = w->fn(w->data, &f);
}

/* One of ours learned where it does not belong? */
static void check_owner(struct watcher *w, const struct vifmac_fdb_entry *e)
{
	char mac[VIFMAC_MAC_STRLEN];

	vifmac_mac_format(&e->mac, mac);
	for (size_t i = 0; i < w->n_vifs; i++) {
		const struct vifmac_running_vif *v = &w->vifs[i];

		if (!vifmac_mac_equal(&v->mac, &e->mac))
			continue;
		if (vifmac_audit_port_of(v, e->port))
			return;
		emit(w, VIFMAC_SEVERITY_CRITICAL, "foreign-use", &e->mac,
		     "%s, the MAC of domain %s (domid %u) vif %u (%s), learned on bridge %s port %s: someone else sends from it",
		     mac, v->dom.name[0] ? v->dom.name : "?", v->domid, v->devid, v->ifname, e->bridge, e->port);
		return;
	}
	for (size_t i = 0; i < w->n_claims; i++) {
		const struct vifmac_record *c = &w->claims[i];

		if (!vifmac_mac_equal(&c->mac, &e->mac))
			continue;
		if (c->state == VIFMAC_STATE_RESERVED)
			emit(w, VIFMAC_SEVERITY_CRITICAL, "foreign-use", &e->mac,
			     "%s, reserved in the registry (%s), learned on bridge %s port %s", mac, c->note, e->bridge,
			     e->port);
		else
			emit(w, VIFMAC_SEVERITY_CRITICAL, "foreign-use", &e->mac,
			     "%s, claimed by domain %s (uuid %s) vif %d on host %s and not running here, learned on bridge %s port %s",
			     mac, c->domain, c->uuid, c->devid, c->host, e->bridge, e->port);
		return;
	}
}

/* ---------------------------------------------------------------- where each MAC was last seen */

static size_t seen_hash(const struct vifmac_mac *mac, int vlan, int bridge_index)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < 6; i++)
		h = (h ^ mac->b[i]) * 1099511628211ull;
	h = (h ^ (uint64_t)vlan) * 1099511628211ull;
	h = (h ^ (uint64_t)bridge_index) * 1099511628211ull;
	return (size_t)(h % VIFMAC_WATCH_MAX_SEEN);
}

static int seen_find(const struct watcher *w, const struct vifmac_mac *mac, int vlan, int bridge_index)
{
	if (!w->seen)
		return -1;
	for (int i = w->buckets[seen_hash(mac, vlan, bridge_index)]; i >= 0; i = w->seen[i].next)
		if (w->seen[i].vlan == vlan && w->seen[i].bridge_index == bridge_index && vifmac_mac_equal(&w->seen[i].mac, mac))
			return i;
	return -1;
}

static void recency_unlink(struct watcher *w, int i)
{
	struct seen *s = &w->seen[i];

	if (s->newer >= 0)
		w->seen[s->newer].older = s->older;
	else
		w->newest = s->older;
	if (s->older >= 0)
		w->seen[s->older].newer = s->newer;
	else
		w->oldest = s->newer;
}

static void recency_push(struct watcher *w, int i)
{
	w->seen[i].newer = -1;
	w->seen[i].older = w->newest;
	if (w->newest >= 0)
		w->seen[w->newest].newer = i;
	w->newest = i;
	if (w->oldest < 0)
		w->oldest = i;
}

/* Node @i leaves its bucket and the recency list for the free list. */
static void seen_delete(struct watcher *w, int i)
{
	int *link = &w->buckets[seen_hash(&w->seen[i].mac, w->seen[i].vlan, w->seen[i].bridge_index)];

	while (*link != i)
		link = &w->seen[*link].next;
	*link = w->seen[i].next;
	recency_unlink(w, i);
	w->seen[i].next = w->free_seen;
	w->free_seen = i;
	w->n_seen--;
}

/*
 * A node for a MAC not seen yet. Full, the least recently learned MAC is
 * forgotten: memory stays bounded on a bridge that learns more MACs than
 * the bound, at the price of missing a move of a MAC forgotten that way.
 */
static int seen_add(struct watcher *w, const struct vifmac_watch_event *e)
{
	size_t b;
	int i;

	if (!w->seen) {
		w->seen = calloc(VIFMAC_WATCH_MAX_SEEN, sizeof(*w->seen));
		w->buckets = malloc(VIFMAC_WATCH_MAX_SEEN * sizeof(*w->buckets));
		if (!w->seen || !w->buckets) {
			free(w->seen);
			free(w->buckets);
			w->seen = NULL;
			w->buckets = NULL;
			return -1;
		}
		for (i = 0; i < VIFMAC_WATCH_MAX_SEEN; i++) {
			w->buckets[i] = -1;
			w->seen[i].next = i + 1 < VIFMAC_WATCH_MAX_SEEN ? i + 1 : -1;
		}
		w->free_seen = 0;
		w->newest = w->oldest = -1;
	}
	if (w->free_seen < 0)
		seen_delete(w, w->oldest);
	i = w->free_seen;
	w->free_seen = w->seen[i].next;
	memset(&w->seen[i], 0, sizeof(w->seen[i]));
	w->seen[i].mac = e->fdb.mac;
	w->seen[i].vlan = e->fdb.vlan;
	w->seen[i].bridge_index = e->bridge_index;
	b = seen_hash(&e->fdb.mac, e->fdb.vlan, e->bridge_index);
	w->seen[i].next = w->buckets[b];
	w->buckets[b] = i;
	recency_push(w, i);
	w->n_seen++;
	return i;
}

/* A MAC that was on another port of the same bridge (and VLAN) before. */
static void check_move(struct watcher *w, const struct vifmac_watch_event *e)
{
	char mac[VIFMAC_MAC_STRLEN];
	int i = seen_find(w, &e->fdb.mac, e->fdb.vlan, e->bridge_index);

	if (i >= 0 && strcmp(w->seen[i].port, e->fdb.port) != 0)
		emit(w, VIFMAC_SEVERITY_WARNING, "mac-move", &e->fdb.mac, "%s moved on bridge %s from port %s to port %s",
		     vifmac_mac_format(&e->fdb.mac, mac), e->fdb.bridge, w->seen[i].port, e->fdb.port);
	if (i >= 0) {
		recency_unlink(w, i);
		recency_push(w, i);
	} else {
		i = seen_add(w, e);
	}
	if (i < 0)
		return;
	vifmac_strscpy(w->seen[i].bridge, e->fdb.bridge, sizeof(w->seen[i].bridge));
	vifmac_strscpy(w->seen[i].port, e->fdb.port, sizeof(w->seen[i].port));
}

/* The bridge forgot the entry (deleted, aged out, its port gone): so does the watch. */
static void forget(struct watcher *w, const struct vifmac_watch_event *e)
{
	int i = seen_find(w, &e->fdb.mac, e->fdb.vlan, e->bridge_index);

	if (i >= 0)
		seen_delete(w, i);
}

/* ---------------------------------------------------------------- vifs and their rules */

static struct port *port_of(struct watcher *w, int index)
{
	for (size_t i = 0; i < w->n_ports; i++)
		if (w->ports[i].index == index)
			return &w->ports[i];
	return NULL;
}

/*
 * A link event: does it change which ports the bridges have? A port that
 * joins or leaves a bridge, is renamed or deleted asks for a rules check;
 * a link going up or down, its statistics, do not.
 */
static bool ports_changed(struct watcher *w, const struct vifmac_watch_event *e)
{
	struct port *p = port_of(w, e->port_index);

	if (e->what == VIFMAC_WATCH_LINK_GONE) {
		if (!p)
			return true; /* unknown: it may have had rules */
		*p = w->ports[--w->n_ports];
		return true;
	}
	if (p && p->master == e->bridge_index && strcmp(p->name, e->fdb.port) == 0)
		return false;
	if (!p) {
		struct port *np = vifmac_array_grow(w->ports, w->n_ports, sizeof(*np));

		if (!np)
			return true;
		w->ports = np;
		p = &np[w->n_ports++];
		p->index = e->port_index;
		p->master = 0;
		p->name[0] = '\0';
	}
	bool changed = p->master != e->bridge_index || strcmp(p->name, e->fdb.port) != 0;

	p->master = e->bridge_index;
	vifmac_strscpy(p->name, e->fdb.port, sizeof(p->name));
	return changed && (p->master || e->bridge_index || p->name[0]);
}

static int suspect_fn(void *data, const struct vifmac_finding *f)
{
	struct watcher *w = data;
	struct suspect *ns;

	if (f->severity == VIFMAC_SEVERITY_OK)
		return 0; /* exemptions: the hook logged them when they applied */
	for (size_t i = 0; i < w->n_suspects; i++)
		if (strcmp(w->suspects[i].kind, f->kind) == 0 && strcmp(w->suspects[i].message, f->message) == 0) {
			if (w->suspects[i].present)
				return 0;
			w->suspects[i].present = true;
			if (!w->suspects[i].reported) {
				/* seen by two checks a settling time apart: no hotplug run in between explains it */
				w->suspects[i].reported = true;
				emit(w, f->severity, f->kind, &f->mac, "%s", f->message);
			}
			return 0;
		}
	ns = vifmac_array_grow(w->suspects, w->n_suspects, sizeof(*ns));
	if (!ns)
		return 0;
	w->suspects = ns;
	ns = memset(&ns[w->n_suspects++], 0, sizeof(*ns));
	vifmac_strscpy(ns->kind, f->kind, sizeof(ns->kind));
	vifmac_strscpy(ns->message, f->message, sizeof(ns->message));
	ns->present = true;
	return 0;
}

/*
 * The rules against the vifs and links of now. A finding is reported once
 * two checks VIFMAC_WATCH_SETTLE_S apart both make it: a hotplug run
 * installs the rules before the chained script adds the port to its bridge,
 * and removes them around the port's removal, so what a single check sees
 * in the middle of one is not an anomaly. Returns true when a confirming
 * check is needed.
 */
static bool check_rules(struct watcher *w)
{
	struct vifmac_ctx *ctx = w->ctx;
	struct vifmac_enforce_entry *rules = NULL;
	struct vifmac_link_info *links = NULL;
	size_t n_rules = 0, n_links = 0, kept = 0;
	bool unconfirmed = false;

	if (!ctx->sys.enforce_list || !ctx->sys.list_links)
		return false;
	w->refreshed = 0;
	refresh(w);
	if (ctx->sys.enforce_list(ctx->sys_data, &rules, &n_rules) < 0 ||
	    ctx->sys.list_links(ctx->sys_data, &links, &n_links) < 0) {
		free(rules);
		return true; /* try again after the settling time */
	}
	for (size_t i = 0; i < w->n_suspects; i++)
		w->suspects[i].present = false;
	vifmac_audit_rules(ctx, w->vifs, w->n_vifs, links, n_links, rules, n_rules, true, suspect_fn, w);
	/* what the last check did not find any more is resolved (and may be reported again) */
	for (size_t i = 0; i < w->n_suspects; i++) {
		if (!w->suspects[i].present)
			continue;
		unconfirmed = unconfirmed || !w->suspects[i].reported;
		w->suspects[kept++] = w->suspects[i];
	}
	w->n_suspects = kept;
	free(rules);
	free(links);
	return unconfirmed;
}

static void schedule_check(struct watcher *w, double now)
{
	if (w->check_due == 0)
		w->check_due = now + VIFMAC_WATCH_SETTLE_S;
}

/* Runs a check that is due, and says when to wake up for the next one. */
static void run_due(struct watcher *w, double now, int *wake_ms)
{
	if (w->check_due > 0 && now >= w->check_due) {
		w->check_due = 0;
		if (check_rules(w))
			schedule_check(w, now);
	}
	*wake_ms = w->check_due > 0 ? (int)((w->check_due - now) * 1000) + 1 : -1;
}

/*
 * Notifications were lost: what they would have said is read from the
 * bridges now. Each FDB entry is judged as if just learned (one of ours on
 * a foreign port, a MAC now on another port than last seen), and a rules
 * check is due; a deletion that was missed only leaves a stale entry in
 * the bounded last-seen table.
 */
static void resync(struct watcher *w, double now)
{
	static const struct vifmac_mac none;
	struct vifmac_fdb_entry *fdb = NULL;
	size_t n = 0;

	emit(w, VIFMAC_SEVERITY_WARNING, "notifications-lost", &none,
	     "the kernel dropped bridge notifications (a burst filled the socket): the FDB and the rules are read again");
	w->n_ports = 0; /* the ports' next news all counts as a change */
	schedule_check(w, now);
	if (!w->ctx->sys.list_fdb || w->ctx->sys.list_fdb(w->ctx->sys_data, &fdb, &n) < 0)
		return;
	w->refreshed = 0;
	refresh(w);
	for (size_t i = 0; i < n && !w->stop; i++) {
		struct vifmac_watch_event e = { .what = VIFMAC_WATCH_LEARNED, .fdb = fdb[i] };

		if (fdb[i].local)
			continue;
		e.bridge_index = (int)if_nametoindex(fdb[i].bridge);
		check_owner(w, &e.fdb);
		check_move(w, &e);
	}
	free(fdb);
}

static int on_event(void *data, const struct vifmac_watch_event *e, int *wake_ms)
{
	struct watcher *w = data;
	double now = mono();

	switch (e->what) {
	case VIFMAC_WATCH_START:
		/* the state found at start, confirmed like any other */
		if (check_rules(w))
			schedule_check(w, now);
		break;
	case VIFMAC_WATCH_LEARNED:
		refresh(w);
		check_owner(w, &e->fdb);
		check_move(w, e);
		break;
	case VIFMAC_WATCH_FORGOTTEN:
		forget(w, e);
		break;
	case VIFMAC_WATCH_LINK:
	case VIFMAC_WATCH_LINK_GONE:
		if (ports_changed(w, e))
			schedule_check(w, now);
		break;
	case VIFMAC_WATCH_TIMEOUT:
		break;
	case VIFMAC_WATCH_OVERRUN:
		resync(w, now);
		break;
	}
	run_due(w, now, wake_ms);
	return w->stop;
}

VIFMAC_EXPORT int vifmac_watch(struct vifmac_ctx *ctx, struct vifmac_registry *reg, vifmac_finding_fn fn, void *data)
{
	struct watcher w = { .ctx = ctx, .reg = reg, .fn = fn, .data = data };
	int r;

	vifmac_clear_error(ctx);
	if (!ctx->sys.watch_bridges)
		return vifmac_set_error(ctx, -EOPNOTSUPP, "no bridge notifications in this system seam");
	refresh(&w);
	r = ctx->sys.watch_bridges(ctx->sys_data, on_event, &w);
	if (r < 0)
		vifmac_set_error(ctx, r, "cannot follow the bridges (rtnetlink): %s", strerror(-r));
	else
		r = w.stop;
	free(w.vifs);
	free(w.claims);
	free(w.seen);
	free(w.buckets);
	free(w.ports);
	free(w.suspects);
	return r;
}
