/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vif specs, "key=value,key=value", split the way xl's parse_nic_config
 * does (strtok on ',', leading spaces skipped, empty items ignored), but
 * strict: every item needs a key and '=', and no key twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vifmac-internal.h"

struct vifspec_pair {
	char *key;
	char *value;
};

struct vifmac_vifspec {
	struct vifspec_pair *pairs;
	size_t n;
};

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

static struct vifspec_pair *find(const struct vifmac_vifspec *spec, const char *key)
{
	for (size_t i = 0; i < spec->n; i++)
		if (strcmp(spec->pairs[i].key, key) == 0)
			return &spec->pairs[i];
	return NULL;
}

static int append(struct vifmac_vifspec *spec, const char *key, size_t keylen, const char *value)
{
	struct vifspec_pair *np = realloc(spec->pairs, (spec->n + 1) * sizeof(*np));

	if (!np)
		return -ENOMEM;
	spec->pairs = np;
	np[spec->n].key = strndup(key, keylen);
	np[spec->n].value = strdup(value);
	if (!np[spec->n].key || !np[spec->n].value) {
		free(np[spec->n].key);
		free(np[spec->n].value);
		return -ENOMEM;
	}
	spec->n++;
	return 0;
}

VIFMAC_EXPORT int vifmac_vifspec_parse(const char *s, struct vifmac_vifspec **ret_spec)
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
		char *eq, key[64];

		while (*item == ' ')
			item++;
		if (!*item)
			continue;
		eq = strchr(item, '=');
		if (!eq || eq == item || (size_t)(eq - item) >= sizeof(key)) {
			r = -EINVAL;
			goto out;
		}
		memcpy(key, item, (size_t)(eq - item));
		key[eq - item] = '\0';
		if (find(spec, key)) {
			r = -EINVAL;
			goto out;
		}
		r = append(spec, item, (size_t)(eq - item), eq + 1);
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

VIFMAC_EXPORT const char *vifmac_vifspec_get(const struct vifmac_vifspec *spec, const char *key)
{
	struct vifspec_pair *p = find(spec, key);

	return p ? p->value : NULL;
}

VIFMAC_EXPORT int vifmac_vifspec_set(struct vifmac_vifspec *spec, const char *key, const char *value)
{
	struct vifspec_pair *p = find(spec, key);
	char *v;

	if (!p)
		return append(spec, key, strlen(key), value);
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	free(p->value);
	p->value = v;
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
		p += sprintf(p, "%s%s=%s", i ? "," : "", spec->pairs[i].key, spec->pairs[i].value);
	return out;
}
