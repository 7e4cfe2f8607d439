/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vif specs, "key=value,key=value", split and read the way xl 4.17's vif
 * loop and parse_nic_config (tools/xl/xl_parse.c) do: strtok on ',', leading
 * spaces skipped, empty items ignored, "key=" matched exactly, bare
 * "trusted"/"untrusted". Where xl ignores an item with a warning, takes the
 * last of two values or reads a number up to the first junk, vifmac refuses
 * and says what xl would do: a typo there changes the vif behind the admin's back.
 */
#include <errno.h>
#include <libxlutil.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

struct vifspec_pair {
	char *key;
	char *value; /* "" for a bare flag */
	bool flag;   /* "trusted" / "untrusted": no '=' */
};

struct vifmac_vifspec {
	struct vifspec_pair *pairs;
	size_t n;
};

/*
 * Every key parse_nic_config knows (RELEASE-4.17.x); anything else xl drops
 * with "unrecognized argument". accel is known but ignored by xl.
 */
static const char *const xl_keys[] = {
	"type", "mac", "bridge", "netdev", "gatewaydev", "ip", "script", "backend", "vifname", "model", "rate",
	"forwarddev", "accel", "devid", "mtu",
	"colo_sock_mirror_id", "colo_sock_mirror_ip", "colo_sock_mirror_port",
	"colo_sock_compare_sec_in_id", "colo_sock_compare_sec_in_ip", "colo_sock_compare_sec_in_port",
	"colo_sock_redirector0_id", "colo_sock_redirector0_ip", "colo_sock_redirector0_port",
	"colo_sock_redirector1_id", "colo_sock_redirector1_ip", "colo_sock_redirector1_port",
	"colo_sock_redirector2_id", "colo_sock_redirector2_ip", "colo_sock_redirector2_port",
	"colo_sock_compare_pri_in_id", "colo_sock_compare_pri_in_ip", "colo_sock_compare_pri_in_port",
	"colo_sock_compare_notify_id", "colo_sock_compare_notify_ip", "colo_sock_compare_notify_port",
	"colo_filter_mirror_queue", "colo_filter_mirror_outdev",
	"colo_filter_redirector0_queue", "colo_filter_redirector0_indev", "colo_filter_redirector0_outdev",
	"colo_filter_redirector1_queue", "colo_filter_redirector1_indev", "colo_filter_redirector1_outdev",
	"colo_compare_pri_in", "colo_compare_sec_in", "colo_compare_out", "colo_compare_notify_dev",
	"colo_sock_sec_redirector0_id", "colo_sock_sec_redirector0_ip", "colo_sock_sec_redirector0_port",
	"colo_sock_sec_redirector1_id", "colo_sock_sec_redirector1_ip", "colo_sock_sec_redirector1_port",
	"colo_filter_sec_redirector0_queue", "colo_filter_sec_redirector0_indev",
	"colo_filter_sec_redirector0_outdev", "colo_filter_sec_redirector1_queue",
	"colo_filter_sec_redirector1_indev", "colo_filter_sec_redirector1_outdev",
	"colo_filter_sec_rewriter0_queue", "colo_checkpoint_host", "colo_checkpoint_port",
};

static bool is_xl_key(const char *key, size_t len)
{
	for (size_t i = 0; i < sizeof(xl_keys) / sizeof(xl_keys[0]); i++)
		if (strlen(xl_keys[i]) == len && memcmp(xl_keys[i], key, len) == 0)
			return true;
	return false;
}

static int explain(char *err, size_t errsize, const char *format, ...) VIFMAC_PRINTF(3, 4);
static int explain(char *err, size_t errsize, const char *format, ...)
{
	va_list ap;

	if (err && errsize) {
		va_start(ap, format);
		vsnprintf(err, errsize, format, ap);
		va_end(ap);
	}
	return -EINVAL;
}

VIFMAC_EXPORT void vifmac_vifspec_free(struct vifmac_vifspec *spec)
{
	if (!spec)
		return;
	for (size_t i = 0; i < spec->n; i++) {
		free(spec->pairs[i].key);
		free(spec->pairs[i].value);
	}
	free(spec->pairs);
	free(spec);
}

static struct vifspec_pair *find(const struct vifmac_vifspec *spec, const char *key, size_t len)
{
	for (size_t i = 0; i < spec->n; i++)
		if (strlen(spec->pairs[i].key) == len && memcmp(spec->pairs[i].key, key, len) == 0)
			return &spec->pairs[i];
	return NULL;
}

static int append(struct vifmac_vifspec *spec, const char *key, size_t keylen, const char *value, bool flag)
{
	struct vifspec_pair *np = realloc(spec->pairs, (spec->n + 1) * sizeof(*np));

	if (!np)
		return -ENOMEM;
	spec->pairs = np;
	np[spec->n].key = strndup(key, keylen);
	np[spec->n].value = strdup(value);
	np[spec->n].flag = flag;
	if (!np[spec->n].key || !np[spec->n].value) {
		free(np[spec->n].key);
		free(np[spec->n].value);
		return -ENOMEM;
	}
	spec->n++;
	return 0;
}

/* One item, leading spaces already skipped: stored, or -EINVAL saying what xl does with it. */
static int parse_item(struct vifmac_vifspec *spec, const char *item, char *err, size_t errsize)
{
	const char *eq = strchr(item, '=');
	size_t klen = eq ? (size_t)(eq - item) : strlen(item);
	bool flag = !eq && (strcmp(item, "trusted") == 0 || strcmp(item, "untrusted") == 0);

	if (!eq && !flag)
		return explain(err, errsize,
			       "item \"%s\": xl ignores it (\"unrecognized argument\"): not key=value, \"trusted\" "
			       "or \"untrusted\"",
			       item);
	if (eq && !is_xl_key(item, klen)) {
		size_t k = klen;

		while (k > 0 && (item[k - 1] == ' ' || item[k - 1] == '\t'))
			k--;
		if (k < klen || eq[1] == ' ' || eq[1] == '\t')
			if (is_xl_key(item, k))
				return explain(err, errsize,
					       "item \"%s\": xl ignores it (\"unrecognized argument\"): no spaces "
					       "around '=' in a vif spec, write %.*s=...",
					       item, (int)k, item);
		return explain(err, errsize, "item \"%s\": xl ignores it (\"unrecognized argument\"): no vif key \"%.*s\"",
			       item, (int)klen, item);
	}
	if (flag && (find(spec, "trusted", 7) || find(spec, "untrusted", 9)))
		return explain(err, errsize, "item \"%s\": trusted/untrusted given twice (xl takes the last)", item);
	if (find(spec, item, klen))
		return explain(err, errsize, "item \"%s\": key \"%.*s\" given twice (xl takes the last)", item,
			       (int)klen, item);
	return append(spec, item, klen, eq ? eq + 1 : "", flag);
}

int vifmac_vifspec_parse_explained(const char *s, char *err, size_t errsize, struct vifmac_vifspec **ret_spec)
{
	struct vifmac_vifspec *spec;
	char *copy, *save = NULL, *item;
	int r = 0;

	if (!s)
		return -EINVAL;
	spec = calloc(1, sizeof(*spec));
	copy = strdup(s);
	if (!spec || !copy) {
		r = -ENOMEM;
		goto out;
	}
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		if (!*item)
			continue;
		r = parse_item(spec, item, err, errsize);
		if (r < 0)
			goto out;
	}
	*ret_spec = spec;
	spec = NULL;
out:
	free(copy);
	vifmac_vifspec_free(spec);
	return r;
}

VIFMAC_EXPORT int vifmac_vifspec_parse(const char *s, struct vifmac_vifspec **ret_spec)
{
	return vifmac_vifspec_parse_explained(s, NULL, 0, ret_spec);
}

/*
 * xl's parse_ulong: strtoul base 10, exit unless something was read. vifmac
 * takes plain decimal only, up to @max: "1500x" and " 7" would be read by xl
 * as 1500 and 7, a typo more likely than a wish.
 */
static int check_number(const char *key, const char *v, unsigned long max, char *err, size_t errsize)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (end == v || n == ULONG_MAX)
		return explain(err, errsize, "%s=%s: xl refuses it (\"failed to convert to number\")", key, v);
	if (v[0] < '0' || v[0] > '9' || *end || errno || n > max || (v[0] == '0' && v[1]))
		return explain(err, errsize, "%s=%s: not a number from 0 to %lu in plain decimal (xl would read %lu)",
			       key, v, max, n);
	return 0;
}

/* xl hands rate= to libxlutil's xlu_vif_parse_rate and exits when it fails: so is it checked here. */
static int check_rate(const char *v, char *err, size_t errsize)
{
	struct vifmac_xlu x;
	libxl_device_nic nic;
	int e, r = vifmac_xlu_open(&x, "vif");

	if (r == -ELIBACC)
		snprintf(err, errsize, "rate=%s: %s", v, vifmac_xlu_dl_error());
	if (r < 0)
		return r;
	memset(&nic, 0, sizeof(nic));
	errno = 0; /* xlu reads errno after strtoull without clearing it */
	e = xlu_vif_parse_rate(x.xc, v, &nic);
	if (e == ENOMEM) {
		r = -ENOMEM;
	} else if (e) {
		const char *msg = vifmac_xlu_report(&x, "error in vif: ");

		r = explain(err, errsize, "rate=%s: xl refuses it (%s; the form is N[GMK]b/s or N[GMK]B/s[@N[mu]s])", v,
			    msg ? msg : "invalid rate");
	}
	vifmac_xlu_close(&x);
	return r;
}

int vifmac_bridge_name_check(const char *v, const char *what, char *err, size_t errsize)
{
	if (!*v)
		return explain(err, errsize, "%s is empty: vif-bridge would pick whichever bridge it finds first", what);
	if (strpbrk(v, " \t\n\r\v\f"))
		return explain(err, errsize,
			       "%s \"%s\": a bridge name has no white space (xl keeps it, and vif-bridge then finds "
			       "no such bridge)",
			       what, v);
	if (strlen(v) > 15)
		return explain(err, errsize, "%s \"%s\": longer than a Linux interface name can be (15 characters)",
			       what, v);
	return 0;
}

int vifmac_vifspec_check_values(const struct vifmac_vifspec *spec, char *err, size_t errsize)
{
	const char *v;
	int r;

	if ((v = vifmac_vifspec_get(spec, "type")) && strcmp(v, "vif") != 0 && strcmp(v, "ioemu") != 0)
		return explain(err, errsize, "type=%s: xl ignores it (\"Invalid parameter `type'\"): vif or ioemu", v);
	if ((v = vifmac_vifspec_get(spec, "devid")) && (r = check_number("devid", v, 65535, err, errsize)) < 0)
		return r;
	if ((v = vifmac_vifspec_get(spec, "mtu")) && (r = check_number("mtu", v, 65535, err, errsize)) < 0)
		return r;
	if ((v = vifmac_vifspec_get(spec, "rate")) && (r = check_rate(v, err, errsize)) < 0)
		return r;
	if ((v = vifmac_vifspec_get(spec, "bridge")) && (r = vifmac_bridge_name_check(v, "bridge", err, errsize)) < 0)
		return r;
	return 0;
}

VIFMAC_EXPORT const char *vifmac_vifspec_get(const struct vifmac_vifspec *spec, const char *key)
{
	struct vifspec_pair *p = find(spec, key, strlen(key));

	return p ? p->value : NULL;
}

VIFMAC_EXPORT int vifmac_vifspec_set(struct vifmac_vifspec *spec, const char *key, const char *value)
{
	struct vifspec_pair *p = find(spec, key, strlen(key));
	char *v;

	if (!p)
		return append(spec, key, strlen(key), value, false);
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	free(p->value);
	p->value = v;
	p->flag = false;
	return 0;
}

VIFMAC_EXPORT char *vifmac_vifspec_format(const struct vifmac_vifspec *spec)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < spec->n; i++)
		len += strlen(spec->pairs[i].key) + strlen(spec->pairs[i].value) + 2;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	*p = '\0';
	for (size_t i = 0; i < spec->n; i++)
		p += sprintf(p, "%s%s%s%s", i ? "," : "", spec->pairs[i].key, spec->pairs[i].flag ? "" : "=",
			     spec->pairs[i].flag ? "" : spec->pairs[i].value);
	return out;
}
