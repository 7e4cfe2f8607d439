/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pool files: the operator's IP→MAC tables (plain or CSV), MAC ranges, and
 * lists of recycled hardware addresses. Read, validated, and compared.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vifmac-internal.h"

#define MAX_RANGE_BITS 24 /* 16M addresses at the most in one range */

VIFMAC_EXPORT void vifmac_pool_source_free(struct vifmac_pool_source *src)
{
	if (!src)
		return;
	free(src->path);
	free(src->entries);
	free(src);
}

VIFMAC_EXPORT const char *vifmac_pool_kind_name(enum vifmac_pool_kind kind)
{
	switch (kind) {
	case VIFMAC_POOL_TABLE:
		return "table";
	case VIFMAC_POOL_RANGE:
		return "range";
	case VIFMAC_POOL_RECYCLED:
		return "recycled";
	}
	return "?";
}


/* What a reader of one file keeps between lines. */
struct reader {
	struct vifmac_ctx *ctx;
	struct vifmac_pool_source *src;
	int csv;        /* 0 no, 1 yes (header seen) */
	int col_ip, col_mac, col_note;
	bool kind_known;
};

static int line_error(struct reader *rd, int line, const char *format, ...) VIFMAC_PRINTF(3, 4);
static int line_error(struct reader *rd, int line, const char *format, ...)
{
	char msg[400];
	va_list args;

	va_start(args, format);
	vsnprintf(msg, sizeof(msg), format, args);
	va_end(args);
	return vifmac_set_error(rd->ctx, -EINVAL, "%s:%d: %s", rd->src->path, line, msg);
}

static int set_kind(struct reader *rd, enum vifmac_pool_kind kind, int line)
{
	if (!rd->kind_known) {
		rd->src->kind = kind;
		rd->kind_known = true;
		return 0;
	}
	if (rd->src->kind != kind)
		return line_error(rd, line, "a %s line in a %s file: one file holds one kind of pool",
				  vifmac_pool_kind_name(kind), vifmac_pool_kind_name(rd->src->kind));
	return 0;
}

static int check_mac(struct reader *rd, const struct vifmac_mac *m, int line)
{
	char buf[VIFMAC_MAC_STRLEN];

	if (vifmac_mac_is_multicast(m))
		return line_error(rd, line, "%s is a multicast address: a NIC needs a unicast one",
				  vifmac_mac_format(m, buf));
	if (vifmac_mac_to_u64(m) == 0)
		return line_error(rd, line, "00:00:00:00:00:00 is not an address");
	if (vifmac_mac_is_xen_random(m)) {
		rd->src->warnings++;
		warn(rd->ctx, "%s:%d: %s is inside Xen's random range 00:16:3e:00-7f, which libxl hands out at random",
		     rd->src->path, line, vifmac_mac_format(m, buf));
	}
	return 0;
}

static int cmp_entry_mac(const void *a, const void *b)
{
	return memcmp(((const struct vifmac_pool_entry *)a)->mac.b, ((const struct vifmac_pool_entry *)b)->mac.b, 6);
}

static int cmp_entry_ip(const void *a, const void *b)
{
	return memcmp(((const struct vifmac_pool_entry *)a)->ip.b, ((const struct vifmac_pool_entry *)b)->ip.b, 4);
}

/* Once every line is read: the first MAC (or, in a table, IPv4 address) given twice, in n log n. */
static int check_repeats(struct reader *rd)
{
	struct vifmac_pool_source *src = rd->src;
	size_t mac_dup = 0, mac_first = 0, ip_dup = 0, ip_first = 0;
	char buf[VIFMAC_MAC_STRLEN], ip[VIFMAC_IPV4_STRLEN];
	int m, i = 0;

	m = vifmac_first_duplicate(src->entries, src->n, sizeof(*src->entries), cmp_entry_mac, &mac_dup, &mac_first);
	if (m >= 0 && src->kind == VIFMAC_POOL_TABLE)
		i = vifmac_first_duplicate(src->entries, src->n, sizeof(*src->entries), cmp_entry_ip, &ip_dup, &ip_first);
	if (m < 0 || i < 0)
		return -ENOMEM;
	if (i > 0 && (m == 0 || ip_dup < mac_dup))
		return line_error(rd, src->entries[ip_dup].line, "%s is given twice (first at line %d)",
				  vifmac_ipv4_format(&src->entries[ip_dup].ip, ip), src->entries[ip_first].line);
	if (m > 0)
		return line_error(rd, src->entries[mac_dup].line, "%s is given twice (first at line %d)",
				  vifmac_mac_format(&src->entries[mac_dup].mac, buf), src->entries[mac_first].line);
	return 0;
}

static int add_entry(struct reader *rd, const struct vifmac_pool_entry *e)
{
	struct vifmac_pool_source *src = rd->src;
	struct vifmac_pool_entry *ne = vifmac_array_grow(src->entries, src->n, sizeof(*ne));

	if (!ne)
		return -ENOMEM;
	src->entries = ne;
	ne[src->n++] = *e;
	return 0;
}

/* "START-END" or "PREFIX/len" */
static int parse_range(struct reader *rd, const char *s, int line)
{
	struct vifmac_pool_source *src = rd->src;
	char a[32], b[32];
	const char *dash = strchr(s, '-'), *slash = strchr(s, '/');
	struct vifmac_mac start, end;
	uint64_t lo, hi;

	if (rd->kind_known && src->kind == VIFMAC_POOL_RANGE)
		return line_error(rd, line, "a range file holds one range (first at line %d)", src->range_line);
	if (dash && !slash && (size_t)(dash - s) < sizeof(a) && strlen(dash + 1) < sizeof(b)) {
		memcpy(a, s, (size_t)(dash - s));
		a[dash - s] = '\0';
		snprintf(b, sizeof(b), "%s", dash + 1);
		if (vifmac_mac_parse(a, &start) < 0 || vifmac_mac_parse(b, &end) < 0)
			return line_error(rd, line, "\"%s\" is not a range START-END of two MACs", s);
		lo = vifmac_mac_to_u64(&start);
		hi = vifmac_mac_to_u64(&end);
		if (lo > hi)
			return line_error(rd, line, "range \"%s\" ends before it starts", s);
	} else if (slash && !dash && (size_t)(slash - s) < sizeof(a)) {
		char *endp;
		long bits;

		memcpy(a, s, (size_t)(slash - s));
		a[slash - s] = '\0';
		bits = strtol(slash + 1, &endp, 10);
		if (vifmac_mac_parse(a, &start) < 0 || *endp || endp == slash + 1 || bits < 24 || bits > 48)
			return line_error(rd, line, "\"%s\" is not PREFIX/len with a MAC and 24 <= len <= 48", s);
		lo = vifmac_mac_to_u64(&start);
		hi = lo | ((1ULL << (48 - bits)) - 1);
		if (lo != (lo & ~((1ULL << (48 - bits)) - 1)))
			return line_error(rd, line, "\"%s\": the MAC has bits set past the first %ld", s, bits);
	} else {
		return line_error(rd, line, "\"%s\" is neither START-END nor PREFIX/len", s);
	}
	if ((lo >> 40) != (hi >> 40))
		return line_error(rd, line, "range \"%s\" spans more than one first octet", s);
	if (hi - lo + 1 > (1ULL << MAX_RANGE_BITS))
		return line_error(rd, line, "range \"%s\" holds %llu addresses; %llu at the most", s,
				  (unsigned long long)(hi - lo + 1), 1ULL << MAX_RANGE_BITS);
	vifmac_mac_from_u64(lo, &start);
	vifmac_mac_from_u64(hi, &end);
	if (check_mac(rd, &start, line) < 0)
		return -EINVAL;
	if (vifmac_mac_is_xen_random(&end) && !vifmac_mac_is_xen_random(&start))
		check_mac(rd, &end, line);
	if (set_kind(rd, VIFMAC_POOL_RANGE, line) < 0)
		return -EINVAL;
	src->start = start;
	src->end = end;
	src->range_line = line;
	src->size = hi - lo + 1;
	return 0;
}

/* Splits @s into at most @max fields on @sep (or blanks when @sep is 0); trims them. */
static size_t split(char *s, char sep, char **fields, size_t max)
{
	size_t n = 0;
	char *save = NULL, *tok;

	if (sep == 0) {
		for (tok = strtok_r(s, " \t\r", &save); tok && n < max; tok = strtok_r(NULL, " \t\r", &save))
			fields[n++] = tok;
		return n;
	}
	while (s && n < max) {
		char *next = strchr(s, sep), *end;

		if (next)
			*next++ = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		end = s + strlen(s);
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		fields[n++] = s;
		s = next;
	}
	return n;
}

/* A CSV line whose first field is neither an address nor a MAC: a header. */
static bool is_header(const char *line)
{
	char first[64];
	size_t n = strcspn(line, ", \t");
	struct vifmac_ipv4 ip;
	struct vifmac_mac mac;

	if (n >= sizeof(first))
		return true;
	memcpy(first, line, n);
	first[n] = '\0';
	return vifmac_ipv4_parse(first, &ip) < 0 && vifmac_mac_parse(first, &mac) < 0;
}

static int csv_header(struct reader *rd, char *line, int lineno)
{
	char *f[16];
	size_t n = split(line, ',', f, 16);

	rd->col_ip = rd->col_mac = rd->col_note = -1;
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(f[i], "ip") == 0 || strcasecmp(f[i], "ipv4") == 0 || strcasecmp(f[i], "address") == 0)
			rd->col_ip = (int)i;
		else if (strcasecmp(f[i], "mac") == 0)
			rd->col_mac = (int)i;
		else if (strcasecmp(f[i], "note") == 0 || strcasecmp(f[i], "comment") == 0)
			rd->col_note = (int)i;
	}
	if (rd->col_ip < 0 || rd->col_mac < 0)
		return line_error(rd, lineno, "CSV header must name an ip and a mac column");
	rd->csv = 1;
	return set_kind(rd, VIFMAC_POOL_TABLE, lineno);
}

static int csv_line(struct reader *rd, char *line, int lineno)
{
	char *f[16];
	size_t n = split(line, ',', f, 16);
	struct vifmac_pool_entry e = { .line = lineno };

	if ((size_t)rd->col_ip >= n || (size_t)rd->col_mac >= n)
		return line_error(rd, lineno, "expected %d columns as the header says, found %zu",
				  (rd->col_ip > rd->col_mac ? rd->col_ip : rd->col_mac) + 1, n);
	if (vifmac_ipv4_parse(f[rd->col_ip], &e.ip) < 0)
		return line_error(rd, lineno, "\"%s\" is not an IPv4 address", f[rd->col_ip]);
	if (vifmac_mac_parse(f[rd->col_mac], &e.mac) < 0)
		return line_error(rd, lineno, "\"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)", f[rd->col_mac]);
	if (check_mac(rd, &e.mac, lineno) < 0)
		return -EINVAL;
	if (rd->col_note >= 0 && (size_t)rd->col_note < n)
		vifmac_strscpy(e.note, f[rd->col_note], sizeof(e.note));
	return add_entry(rd, &e);
}

static int plain_line(struct reader *rd, char *line, char *rest_of_line, int lineno)
{
	char *f[3];
	size_t n;
	struct vifmac_pool_entry e = { .line = lineno };
	struct vifmac_ipv4 ip;
	struct vifmac_mac mac;
	char *note;

	n = split(line, 0, f, 2);
	if (n == 0)
		return 0;
	/* the note is the rest of the line after the second field */
	note = n == 2 ? rest_of_line + (f[1] - line) + strlen(f[1]) : NULL;
	while (note && (*note == ' ' || *note == '\t' || *note == '\0')) {
		if (*note == '\0') {
			note = NULL;
			break;
		}
		note++;
	}
	if (note) {
		char *end = note + strlen(note);

		while (end > note && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
	}
	if (vifmac_ipv4_parse(f[0], &ip) == 0) {
		if (set_kind(rd, VIFMAC_POOL_TABLE, lineno) < 0)
			return -EINVAL;
		if (n < 2 || vifmac_mac_parse(f[1], &e.mac) < 0)
			return line_error(rd, lineno, "expected \"IPv4 MAC [note]\"%s%s%s", n >= 2 ? ": \"" : "",
					  n >= 2 ? f[1] : "", n >= 2 ? "\" is not a MAC address" : "");
		e.ip = ip;
	} else if (vifmac_mac_parse(f[0], &mac) == 0) {
		if (set_kind(rd, VIFMAC_POOL_RECYCLED, lineno) < 0)
			return -EINVAL;
		if (n < 2)
			return line_error(rd, lineno, "a recycled address needs a note saying where it comes from");
		e.mac = mac;
		/* the note is everything after the MAC */
		note = rest_of_line + (f[1] - line);
	} else if (n == 1 && (strchr(f[0], '-') || strchr(f[0], '/'))) {
		return parse_range(rd, f[0], lineno);
	} else if (strchr(f[0], ',')) {
		return line_error(rd, lineno, "a CSV line before any CSV header (ip,mac,note)");
	} else {
		return line_error(rd, lineno, "\"%s\" starts no table line (IPv4 MAC), recycled line (MAC note) or range",
				  f[0]);
	}
	if (check_mac(rd, &e.mac, lineno) < 0)
		return -EINVAL;
	if (note) {
		char *end = note + strlen(note);

		while (end > note && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		vifmac_strscpy(e.note, note, sizeof(e.note));
	}
	return add_entry(rd, &e);
}

VIFMAC_EXPORT int vifmac_pool_source_read(struct vifmac_ctx *ctx, const char *path,
					  struct vifmac_pool_source **ret_src)
{
	struct reader rd = { .ctx = ctx };
	char *data = NULL, *p, *nl;
	size_t len;
	int lineno = 0, r;

	vifmac_clear_error(ctx);
	rd.src = calloc(1, sizeof(*rd.src));
	if (!rd.src)
		return -ENOMEM;
	rd.src->path = strdup(path);
	if (!rd.src->path) {
		r = -ENOMEM;
		goto out;
	}
	r = vifmac_read_file(path, &data, &len);
	if (r < 0) {
		vifmac_set_error(ctx, r, "cannot read pool file %s: %s", path, vifmac_read_file_strerror(r));
		goto out;
	}
	if (memchr(data, '\0', len)) {
		r = vifmac_set_error(ctx, -EINVAL, "%s: not a text file (NUL byte)", path);
		goto out;
	}
	for (p = data; p && *p; p = nl) {
		char *hash, copy[1024];
		bool blank = true;

		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		/* a comment is a line starting with '#': notes may hold one ("Dell R610 #17") */
		hash = p + strspn(p, " \t");
		if (*hash == '#')
			*hash = '\0';
		for (char *c = p; *c; c++)
			blank = blank && isspace((unsigned char)*c);
		if (blank)
			continue;
		if (!vifmac_strscpy(copy, p, sizeof(copy))) {
			r = line_error(&rd, lineno, "line too long");
			goto out;
		}
		if (rd.csv)
			r = csv_line(&rd, p, lineno);
		else if (!rd.kind_known && strchr(p, ',') && is_header(p))
			r = csv_header(&rd, p, lineno);
		else
			r = plain_line(&rd, p, copy, lineno);
		if (r < 0)
			goto out;
	}
	r = check_repeats(&rd);
	if (r < 0)
		goto out;
	/* a CSV header alone sets the kind but gives no address: no pool either */
	if (!rd.kind_known || (rd.src->kind != VIFMAC_POOL_RANGE && rd.src->n == 0)) {
		r = vifmac_set_error(ctx, -EINVAL, "%s: no pool in it (no table line, range or recycled address)", path);
		goto out;
	}
	if (rd.src->kind != VIFMAC_POOL_RANGE)
		rd.src->size = rd.src->n;
	*ret_src = rd.src;
	rd.src = NULL;
	r = 0;
out:
	free(data);
	vifmac_pool_source_free(rd.src);
	return r;
}

/* Where @m is in @src: the line, or 0 when it is not. */
static int line_of(const struct vifmac_pool_source *src, const struct vifmac_mac *m)
{
	if (src->kind == VIFMAC_POOL_RANGE)
		return vifmac_mac_to_u64(m) >= vifmac_mac_to_u64(&src->start) && vifmac_mac_to_u64(m) <= vifmac_mac_to_u64(&src->end) ? src->range_line : 0;
	for (size_t i = 0; i < src->n; i++)
		if (vifmac_mac_equal(&src->entries[i].mac, m))
			return src->entries[i].line;
	return 0;
}

/* Two sources with entries: the first MAC of @x that @y holds too, in n log n. */
static int entries_overlap(struct vifmac_ctx *ctx, const struct vifmac_pool_source *x,
			   const struct vifmac_pool_source *y)
{
	char buf[VIFMAC_MAC_STRLEN];
	size_t i, j;
	int r = vifmac_first_shared(y->entries, y->n, x->entries, x->n, sizeof(*x->entries), cmp_entry_mac, &i, &j);

	if (r <= 0)
		return r;
	return vifmac_set_error(ctx, -EEXIST, "%s:%d and %s:%d overlap: both hold %s", x->path, x->entries[i].line,
				y->path, y->entries[j].line, vifmac_mac_format(&x->entries[i].mac, buf));
}

VIFMAC_EXPORT int vifmac_pool_sources_overlap(struct vifmac_ctx *ctx, const struct vifmac_pool_source *a,
					      const struct vifmac_pool_source *b)
{
	const struct vifmac_pool_source *x = a, *y = b;
	char buf[VIFMAC_MAC_STRLEN];

	if (a->kind == VIFMAC_POOL_RANGE && b->kind == VIFMAC_POOL_RANGE) {
		uint64_t lo = vifmac_mac_to_u64(&a->start) > vifmac_mac_to_u64(&b->start) ? vifmac_mac_to_u64(&a->start) : vifmac_mac_to_u64(&b->start);
		uint64_t hi = vifmac_mac_to_u64(&a->end) < vifmac_mac_to_u64(&b->end) ? vifmac_mac_to_u64(&a->end) : vifmac_mac_to_u64(&b->end);
		struct vifmac_mac m;

		if (lo > hi)
			return 0;
		vifmac_mac_from_u64(lo, &m);
		return vifmac_set_error(ctx, -EEXIST, "%s:%d and %s:%d overlap: both hold %s", a->path, a->range_line,
					b->path, b->range_line, vifmac_mac_format(&m, buf));
	}
	if (x->kind == VIFMAC_POOL_RANGE) {
		x = b;
		y = a;
	}
	/* x has entries */
	if (y->kind != VIFMAC_POOL_RANGE)
		return entries_overlap(ctx, x, y);
	for (size_t i = 0; i < x->n; i++) {
		int line = line_of(y, &x->entries[i].mac);

		if (line)
			return vifmac_set_error(ctx, -EEXIST, "%s:%d and %s:%d overlap: both hold %s", x->path,
						x->entries[i].line, y->path, line,
						vifmac_mac_format(&x->entries[i].mac, buf));
	}
	return 0;
}
