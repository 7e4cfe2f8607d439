/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cluster registry backend: etcd (v3), through its JSON gateway
 * (/v3/kv/range, /v3/kv/txn, /v3/kv/deleterange, /v3/auth/authenticate)
 * with libcurl and json-c. etcd gives the consistency (Raft, one revision
 * counter, compare-and-set transactions); this file only maps the registry
 * onto keys and every write onto one transaction.
 *
 * Keys, under the prefix (default "/vifmac/"); every value is the record
 * as JSON, so that each index answers a lookup by itself:
 *   m/MAC/SCOPE                   the record
 *   o/UUID/DEVID/MAC/SCOPE        the owner index (active claims; uuid lower case)
 *   d/DOMAIN/MAC/SCOPE            the domain index
 *   i/IP/MAC/SCOPE                the address index, one per address of ip=
 * Components are %-escaped ('/', '%', control bytes, space). A record and
 * its index keys are always written by the same transaction, so they share
 * one mod_revision.
 *
 * A write is planned on a snapshot (the ranges it depends on, read at one
 * revision) exactly as the SQLite backend decides inside its transaction,
 * then sent as one txn whose compares say "nothing I read has changed":
 * every range mod_revision < snapshot + 1, every key read still at its
 * mod_revision. The failure branch reads the same ranges again, so a lost
 * race costs no extra round trip: the next plan uses that snapshot (and a
 * conflict found there names the holder from the very transaction that
 * failed). The first attempt of a claim assumes an empty snapshot ("MAC and
 * owner unknown to the registry"), so a new claim is one round trip.
 */
#include <ctype.h>
#define CURL_DISABLE_TYPECHECK 1 /* curl_easy_setopt is called through a pointer */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "vifmac-registry-internal.h"

/*
 * libcurl and json-c are loaded with dlopen when an etcd: registry is opened,
 * not linked: they bring ~30 shared objects (TLS, Kerberos, LDAP, ssh, ...)
 * whose loading cost every vifmac process ~6 ms, every vif hotplug included,
 * on hosts that use the SQLite default (docs/performance.md). The calls below
 * go through these pointers (the macros after the table), with the types of
 * the libraries' own declarations.
 */
#define CURL_SONAME "libcurl.so.4"
#define JSONC_SONAME "libjson-c.so.5"
#define ETCD_DL_SYMBOLS(X)                                                                                       \
	X(0, curl_easy_cleanup) X(0, curl_easy_getinfo) X(0, curl_easy_init) X(0, curl_easy_perform)             \
	X(0, curl_easy_setopt) X(0, curl_easy_strerror) X(0, curl_global_cleanup) X(0, curl_global_init)         \
	X(0, curl_slist_append) X(0, curl_slist_free_all)                                                        \
	X(1, json_object_array_add) X(1, json_object_array_get_idx) X(1, json_object_array_length)               \
	X(1, json_object_get_boolean) X(1, json_object_get_int) X(1, json_object_get_int64)                     \
	X(1, json_object_get_string) X(1, json_object_new_int64)                                                 \
	X(1, json_object_is_type) X(1, json_object_new_array) X(1, json_object_new_int)                          \
	X(1, json_object_new_object) X(1, json_object_new_string) X(1, json_object_object_add)                   \
	X(1, json_object_object_get_ex) X(1, json_object_put) X(1, json_object_to_json_string_ext)               \
	X(1, json_tokener_parse)

static struct {
	bool loaded;
#define X(lib, name) typeof(name) *name;
	ETCD_DL_SYMBOLS(X)
#undef X
} dl;

/* Loads both libraries once per process (kept loaded: they are not unloaded safely). */
static int etcd_dl_load(struct vifmac_ctx *ctx, const char *url)
{
	static const char *const sonames[] = { CURL_SONAME, JSONC_SONAME };
	static const char *const packages[] = { "libcurl4", "libjson-c5" };
	void *h[2];

	if (dl.loaded)
		return 0;
	for (int i = 0; i < 2; i++) {
		h[i] = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (!h[i])
			return vifmac_set_error(ctx, -ELIBACC,
						"registry %s: the etcd backend needs %s (Debian package %s): %s", url,
						sonames[i], packages[i], dlerror());
	}
#define X(lib, name)                                                                                              \
	if (!(dl.name = (typeof(name) *)dlsym(h[lib], #name)))                                                   \
		return vifmac_set_error(ctx, -ELIBACC, "registry %s: %s has no %s: %s", url, sonames[lib], #name, \
					dlerror());
	ETCD_DL_SYMBOLS(X)
#undef X
	dl.loaded = true;
	return 0;
}

#undef curl_easy_getinfo /* curl.h's own pass-through macros */
#undef curl_easy_setopt
#define curl_easy_cleanup (*dl.curl_easy_cleanup)
#define curl_easy_getinfo (*dl.curl_easy_getinfo)
#define curl_easy_init (*dl.curl_easy_init)
#define curl_easy_perform (*dl.curl_easy_perform)
#define curl_easy_setopt (*dl.curl_easy_setopt)
#define curl_easy_strerror (*dl.curl_easy_strerror)
#define curl_global_cleanup (*dl.curl_global_cleanup)
#define curl_global_init (*dl.curl_global_init)
#define curl_slist_append (*dl.curl_slist_append)
#define curl_slist_free_all (*dl.curl_slist_free_all)
#define json_object_array_add (*dl.json_object_array_add)
#define json_object_array_get_idx (*dl.json_object_array_get_idx)
#define json_object_array_length (*dl.json_object_array_length)
#define json_object_get_boolean (*dl.json_object_get_boolean)
#define json_object_get_int (*dl.json_object_get_int)
#define json_object_get_int64 (*dl.json_object_get_int64)
#define json_object_get_string (*dl.json_object_get_string)
#define json_object_new_int64 (*dl.json_object_new_int64)
#define json_object_is_type (*dl.json_object_is_type)
#define json_object_new_array (*dl.json_object_new_array)
#define json_object_new_int (*dl.json_object_new_int)
#define json_object_new_object (*dl.json_object_new_object)
#define json_object_new_string (*dl.json_object_new_string)
#define json_object_object_add (*dl.json_object_object_add)
#define json_object_object_get_ex (*dl.json_object_object_get_ex)
#define json_object_put (*dl.json_object_put)
#define json_object_to_json_string_ext (*dl.json_object_to_json_string_ext)
#define json_tokener_parse (*dl.json_tokener_parse)

#define DEFAULT_PREFIX "/vifmac/"
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_REQUEST_TIMEOUT_MS 1500
#define DEFAULT_MAX_ANSWER_MB 4
#define MAX_ATTEMPTS 64

/* ---------------------------------------------------------------- endpoints */

int vifmac_etcd_endpoints_parse(const char *list, char ***ret_endpoints, size_t *ret_n, char *err, size_t errsize)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = list;
	int r = 0;

	if (!*list) {
		snprintf(err, errsize, "no endpoint after \"etcd:\"");
		return -EINVAL;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *host;
		size_t host_len;
		char **nv;

		if (len == 0) {
			snprintf(err, errsize, "an empty endpoint in the list");
			r = -EINVAL;
			break;
		}
		if (strncmp(p, "https://", 8) == 0)
			host = p + 8;
		else if (strncmp(p, "http://", 7) == 0)
			host = p + 7;
		else
			host = NULL;
		if (host && n > 0 && (host - p == 8) != (strncmp(list, "https://", 8) == 0)) {
			/* a plain member after TLS ones would be the fallback that leaks */
			snprintf(err, errsize, "endpoint \"%.*s\" mixes http:// and https:// in one list", (int)len, p);
			r = -EINVAL;
			break;
		}
		if (!host) {
			snprintf(err, errsize, "endpoint \"%.*s\" is not http(s)://HOST:PORT", (int)len, p);
			r = -EINVAL;
			break;
		}
		host_len = len - (size_t)(host - p);
		if (host_len > 0 && host[host_len - 1] == '/')
			host_len--;
		if (host_len == 0 || memchr(host, '/', host_len) || memchr(host, '?', host_len) ||
		    memchr(host, '@', host_len)) {
			snprintf(err, errsize, "endpoint \"%.*s\" is not http(s)://HOST:PORT", (int)len, p);
			r = -EINVAL;
			break;
		}
		for (size_t i = 0; i < len; i++)
			if (isspace((unsigned char)p[i]) || !isprint((unsigned char)p[i])) {
				snprintf(err, errsize, "endpoint \"%.*s\" has white space or control bytes", (int)len, p);
				r = -EINVAL;
			}
		if (r < 0)
			break;
		if (n >= 32) {
			snprintf(err, errsize, "more than 32 endpoints");
			r = -EINVAL;
			break;
		}
		if (ret_endpoints) {
			nv = realloc(v, (n + 2) * sizeof(*v));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			/* without a trailing '/': paths are appended */
			v[n] = strndup(p, (size_t)(host - p) + host_len);
			if (!v[n]) {
				r = -ENOMEM;
				break;
			}
			v[n + 1] = NULL;
		}
		n++;
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	if (r < 0) {
		for (size_t i = 0; v && v[i]; i++)
			free(v[i]);
		free(v);
		return r;
	}
	if (ret_endpoints)
		*ret_endpoints = v;
	if (ret_n)
		*ret_n = n;
	return 0;
}

int vifmac_etcd_transport_check(const char *list, const struct vifmac_etcd_options *o, char *err, size_t errsize)
{
	if (strncmp(list, "http://", 7) != 0 || (!o->user && !o->cert))
		return 0;
	snprintf(err, errsize, "credentials (%s) are never sent over plain http://: use https:// endpoints",
		 o->user && o->cert ? "etcd_user, etcd_cert" : o->user ? "etcd_user" : "etcd_cert");
	return -EINVAL;
}

/* ---------------------------------------------------------------- small things */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A growing string. On ENOMEM it stays NULL-data and fails every later call. */
struct sbuf {
	char *data;
	size_t len, size;
	bool oom;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->size) {
		size_t size = b->size ? b->size : 128;
		char *p;

		while (size < b->len + n + 1)
			size *= 2;
		p = realloc(b->data, size);
		if (!p) {
			b->oom = true;
			return;
		}
		b->data = p;
		b->size = size;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* One key component, %-escaped so that it holds no '/' (and sorts like the plain text). */
static void sb_add_escaped(struct sbuf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char hex[4];

		if (*p <= 0x20 || *p >= 0x7f || *p == '/' || *p == '%') {
			snprintf(hex, sizeof(hex), "%%%02X", *p);
			sb_add(b, hex);
		} else {
			sb_addn(b, (const char *)p, 1);
		}
	}
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const char *s, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		*o++ = b64chars[(v >> 18) & 63];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64chars[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* Decodes @s into a malloc'd NUL-terminated string; NULL with errno EINVAL when malformed, ENOMEM. */
static char *b64_decode(const char *s, size_t *ret_len)
{
	size_t n = strlen(s);
	char *out = malloc(n / 4 * 3 + 4), *o = out;
	uint32_t v = 0;
	int bits = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *c;

		if (s[i] == '=')
			break;
		c = strchr(b64chars, s[i]);
		if (!c || s[i] == '\0') {
			free(out);
			errno = EINVAL;
			return NULL;
		}
		v = (v << 6) | (uint32_t)(c - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)((v >> bits) & 0xff);
		}
	}
	*o = '\0';
	if (ret_len)
		*ret_len = (size_t)(o - out);
	return out;
}

/* An int64 of an answer: the gateway writes them as strings of digits; a number is fine too. */
static bool json_int64_get(json_object *o, int64_t *ret)
{
	const char *t;
	char *end;
	long long v;

	if (json_object_is_type(o, json_type_int)) {
		*ret = json_object_get_int64(o);
		return true;
	}
	if (!json_object_is_type(o, json_type_string))
		return false;
	t = json_object_get_string(o);
	if (!t || !isdigit((unsigned char)t[0]))
		return false;
	errno = 0;
	v = strtoll(t, &end, 10);
	if (errno || *end)
		return false;
	*ret = v;
	return true;
}

/* ---------------------------------------------------------------- the backend's state */

struct etcd_registry {
	struct vifmac_ctx *ctx;
	char *url;           /* "etcd:..." for messages */
	char **endpoints;
	size_t n_endpoints;
	size_t current;      /* the endpoint that answered last: tried first */
	char *prefix;
	int timeout_ms, request_timeout_ms;
	CURL *curl;
	struct curl_slist *headers;
	char *token;         /* auth token, when a user is set */
	char *user, *password;
	int64_t deadline;    /* of the registry call under way (CLOCK_MONOTONIC ms) */
	size_t max_answer;   /* bytes: a larger answer is refused, never buffered */
	char **last_errors;  /* per endpoint, of the call under way */
	struct sbuf errors;  /* errors_of()'s text */
};

static struct etcd_registry *priv(struct vifmac_registry *reg)
{
	return reg->priv;
}

static void call_begin(struct etcd_registry *e)
{
	e->deadline = mono_ms() + e->timeout_ms;
	for (size_t i = 0; i < e->n_endpoints; i++) {
		free(e->last_errors[i]);
		e->last_errors[i] = NULL;
	}
}

/* Keeps the latest failure of each endpoint, for the message of a refusal. */
static void note_error(struct etcd_registry *e, const char *endpoint, const char *msg)
{
	for (size_t i = 0; i < e->n_endpoints; i++)
		if (e->endpoints[i] == endpoint) {
			free(e->last_errors[i]);
			e->last_errors[i] = strdup(msg);
		}
}

/* "endpoint: error; endpoint: error", in the order they are tried; owned by @e. */
static const char *errors_of(struct etcd_registry *e)
{
	e->errors.len = 0;
	e->errors.oom = false;
	for (size_t i = 0; i < e->n_endpoints; i++) {
		if (!e->last_errors[i])
			continue;
		if (e->errors.len)
			sb_add(&e->errors, "; ");
		sb_add(&e->errors, e->endpoints[i]);
		sb_add(&e->errors, ": ");
		sb_add(&e->errors, e->last_errors[i]);
	}
	return e->errors.data && e->errors.len && !e->errors.oom ? e->errors.data : "no answer";
}

/* ---------------------------------------------------------------- HTTP */

/* An answer as it arrives, up to a bound (a member or a proxy may send without end). */
struct answer_buf {
	struct sbuf b;
	size_t max;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct answer_buf *a = data;

	if (a->b.len + size * n > a->max) {
		a->too_big = true;
		return 0;
	}
	sb_addn(&a->b, p, size * n);
	return a->b.oom ? 0 : size * n;
}

enum outcome {
	OUT_OK,        /* 200 and JSON */
	OUT_NEXT,      /* this endpoint cannot answer now: try the next one */
	OUT_DOWN,      /* nothing listens there (refused, unreachable): try the next one */
	OUT_TLS,       /* TLS refused (certificate, CA): the next one may differ, no second round */
	OUT_AUTH,      /* the token expired or is missing */
	OUT_FATAL,     /* an answer that another endpoint will give too; *ret_err set */
};

/* The gateway's error body: {"error": ..., "message": ..., "code": N}. */
static enum outcome classify_error(struct etcd_registry *e, const char *endpoint, long status, json_object *body,
				   int *ret_err)
{
	json_object *m = NULL, *c = NULL;
	const char *msg = NULL;
	int code = -1;
	char buf[384];

	if (body && json_object_is_type(body, json_type_object)) {
		if ((json_object_object_get_ex(body, "message", &m) || json_object_object_get_ex(body, "error", &m)) &&
		    json_object_is_type(m, json_type_string))
			msg = json_object_get_string(m);
		if (json_object_object_get_ex(body, "code", &c) && json_object_is_type(c, json_type_int))
			code = json_object_get_int(c);
	}
	snprintf(buf, sizeof(buf), "HTTP %ld%s%s", status, msg ? ": " : "", msg ? msg : "");
	note_error(e, endpoint, buf);
	if (code == 16 || (msg && (strstr(msg, "invalid auth token") || strstr(msg, "user name is empty"))))
		return OUT_AUTH;
	if (code == 7 || (msg && strstr(msg, "permission denied"))) {
		*ret_err = -EACCES;
		return OUT_FATAL;
	}
	if (msg && strstr(msg, "authentication failed")) {
		*ret_err = -EACCES;
		return OUT_FATAL;
	}
	if (msg && (strstr(msg, "too many operations") || strstr(msg, "request is too large"))) {
		*ret_err = -E2BIG;
		return OUT_FATAL;
	}
	if (code == 3 || status == 404 || status == 405) {
		*ret_err = -EPROTO;
		return OUT_FATAL;
	}
	/* 14 unavailable, 4 deadline, no leader, leader changed, timeouts, 5xx: another member may do */
	return OUT_NEXT;
}

/* One POST to one endpoint. */
static enum outcome post_one(struct etcd_registry *e, const char *endpoint, const char *path, const char *body,
			     json_object **ret, int *ret_err)
{
	struct answer_buf answer = { .max = e->max_answer };
	struct sbuf resp;
	char url[1024], errbuf[CURL_ERROR_SIZE] = "";
	int64_t left = e->deadline - mono_ms();
	long timeout = left < e->request_timeout_ms ? (long)left : e->request_timeout_ms;
	long status = 0;
	json_object *j;
	enum outcome out;
	CURLcode cc;

	if (timeout < 1)
		timeout = 1;
	snprintf(url, sizeof(url), "%s%s", endpoint, path);
	curl_easy_setopt(e->curl, CURLOPT_URL, url);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(e->curl, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(e->curl);
	curl_easy_setopt(e->curl, CURLOPT_ERRORBUFFER, NULL);
	resp = answer.b;
	if (answer.too_big) {
		/* another member would send the same: refused at once, not retried until the deadline */
		snprintf(errbuf, sizeof(errbuf), "an answer larger than %zu MiB (etcd_max_answer_mb)",
			 e->max_answer >> 20);
		note_error(e, endpoint, errbuf);
		free(resp.data);
		*ret_err = -EFBIG;
		return OUT_FATAL;
	}
	if (cc != CURLE_OK) {
		note_error(e, endpoint, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		free(resp.data);
		switch (cc) {
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CONNECT_ERROR:
			return OUT_TLS;
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
			/* the server's TLS alert: "bad certificate", "certificate required" */
			return strstr(errbuf, "certificate") ? OUT_TLS : OUT_NEXT;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
			return OUT_DOWN;
		default:
			return OUT_NEXT;
		}
	}
	curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
	j = resp.data ? json_tokener_parse(resp.data) : NULL;
	if (!j && status != 200 && status >= 400 && status < 500) {
		/* a plain-text refusal, e.g. a client certificate with a CommonName */
		char msg[384];

		snprintf(msg, sizeof(msg), "HTTP %ld: %.300s", status, resp.data ? resp.data : "");
		msg[strcspn(msg, "\r\n")] = '\0';
		note_error(e, endpoint, msg);
		free(resp.data);
		*ret_err = status == 401 || status == 403 ? -EACCES : -EPROTO;
		return OUT_FATAL;
	}
	free(resp.data);
	if (status == 200 && j && json_object_is_type(j, json_type_object)) {
		*ret = j;
		return OUT_OK;
	}
	if (status == 200) {
		note_error(e, endpoint, "HTTP 200 without a JSON object");
		json_object_put(j);
		return OUT_NEXT;
	}
	out = classify_error(e, endpoint, status, j, ret_err);
	json_object_put(j);
	return out;
}

static int authenticate(struct etcd_registry *e, const char *endpoint, int *ret_err);

/*
 * POSTs @body to @path: endpoints in order from the one that answered last,
 * rounds again (a leader election, a member restarting) until the call's
 * deadline. Returns 0 with the answer in @ret (the caller puts it), or a
 * negative errno with the registry's last error naming every endpoint's.
 */
static int post(struct etcd_registry *e, const char *path, json_object *body, json_object **ret)
{
	const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	int err = -EIO;

	for (int round = 0;; round++) {
		size_t tls_refusals = 0, down = 0;

		for (size_t k = 0; k < e->n_endpoints; k++) {
			size_t i = (e->current + k) % e->n_endpoints;
			enum outcome out;

			if (mono_ms() >= e->deadline)
				goto timeout;
			out = post_one(e, e->endpoints[i], path, text, ret, &err);
			if (out == OUT_AUTH && e->user) {
				free(e->token);
				e->token = NULL;
				if (authenticate(e, e->endpoints[i], &err) < 0) {
					if (err != -EHOSTUNREACH)
						goto fatal;
					continue;
				}
				out = post_one(e, e->endpoints[i], path, text, ret, &err);
			}
			if (out == OUT_OK) {
				e->current = i;
				return 0;
			}
			if (out == OUT_AUTH) {
				err = -EACCES;
				goto fatal;
			}
			if (out == OUT_FATAL)
				goto fatal;
			if (out == OUT_TLS)
				tls_refusals++;
			if (out == OUT_DOWN)
				down++;
		}
		/* every member that answered refused TLS (others are down): waiting will not help */
		if (tls_refusals > 0 && tls_refusals + down == e->n_endpoints) {
			/* a certificate or CA problem does not go away by waiting */
			return vifmac_set_error(e->ctx, -EACCES, "registry %s: TLS refused by every endpoint that answered (%s)",
						e->url, errors_of(e));
		}
		/* nobody could answer: wait a little (an election takes about a second) */
		if (mono_ms() + 100 >= e->deadline)
			goto timeout;
		usleep(round < 3 ? 50000 : 200000);
	}
timeout:
	return vifmac_set_error(e->ctx, -EHOSTUNREACH, "registry %s: no etcd member answered within %d ms (%s)",
				e->url, e->timeout_ms, errors_of(e));
fatal:
	if (err == -EACCES)
		return vifmac_set_error(e->ctx, err, "registry %s: access refused (%s)", e->url, errors_of(e));
	if (err == -EFBIG)
		return vifmac_set_error(e->ctx, -EIO, "registry %s: refused an oversized answer (%s)", e->url,
					errors_of(e));
	if (err == -E2BIG)
		return vifmac_set_error(e->ctx, err,
					"registry %s: the transaction is larger than the cluster allows "
					"(etcd --max-txn-ops, --max-request-bytes): %s",
					e->url, errors_of(e));
	return vifmac_set_error(e->ctx, err, "registry %s: the cluster refused the request (%s)", e->url,
				errors_of(e));
}

static void set_auth_header(struct etcd_registry *e)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");

	if (h && e->token) {
		char *line;

		if (asprintf(&line, "Authorization: %s", e->token) >= 0) {
			struct curl_slist *n = curl_slist_append(h, line);

			free(line);
			if (n)
				h = n;
		}
	}
	curl_slist_free_all(e->headers);
	e->headers = h;
	curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, e->headers);
}

/* A token fit for "Authorization: TOKEN": 1-4096 printable ASCII bytes (no CR, LF, NUL, DEL). */
static bool token_is_safe(const char *t)
{
	size_t n = 0;

	for (; t && t[n]; n++)
		if (t[n] < 0x20 || t[n] > 0x7e)
			return false;
	return n > 0 && n <= 4096;
}

/*
 * Gets a token for the user from @endpoint. Returns 0, or -EHOSTUNREACH
 * (that endpoint cannot answer: try another), or another -errno in @ret_err.
 */
static int authenticate(struct etcd_registry *e, const char *endpoint, int *ret_err)
{
	json_object *body = json_object_new_object(), *resp = NULL, *t;
	int err = -EIO;
	enum outcome out;

	if (!body)
		return *ret_err = -ENOMEM;
	json_object_object_add(body, "name", json_object_new_string(e->user));
	json_object_object_add(body, "password", json_object_new_string(e->password));
	out = post_one(e, endpoint, "/v3/auth/authenticate",
		       json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN), &resp, &err);
	json_object_put(body);
	if (out == OUT_NEXT || out == OUT_DOWN || out == OUT_TLS)
		return *ret_err = -EHOSTUNREACH;
	if (out != OUT_OK) {
		*ret_err = out == OUT_AUTH ? -EACCES : err;
		return *ret_err;
	}
	if (!json_object_object_get_ex(resp, "token", &t) || !json_object_is_type(t, json_type_string)) {
		note_error(e, endpoint, "authentication answered without a token (is auth enabled?)");
		json_object_put(resp);
		return *ret_err = -EACCES;
	}
	if (!token_is_safe(json_object_get_string(t))) {
		/* it goes into a request header: CR/LF would add headers of the sender's choice */
		note_error(e, endpoint, "authentication answered a token that is not printable ASCII (CR/LF?)");
		json_object_put(resp);
		return *ret_err = -EPROTO;
	}
	e->token = strdup(json_object_get_string(t));
	json_object_put(resp);
	if (!e->token)
		return *ret_err = -ENOMEM;
	set_auth_header(e);
	return 0;
}

/* ---------------------------------------------------------------- keys */

/* The full key "<prefix><kind>/<a>/<b>/..." of a record's key kind, for @rec. */
static void key_record(struct etcd_registry *e, struct sbuf *b, const struct vifmac_record *rec)
{
	char mac[VIFMAC_MAC_STRLEN];

	sb_add(b, e->prefix);
	sb_add(b, "m/");
	sb_add(b, vifmac_mac_format(&rec->mac, mac));
	sb_add(b, "/");
	sb_add_escaped(b, rec->scope_key);
}

/* The "MAC/SCOPE" tail every key of a record ends with. */
static void key_tail(struct sbuf *b, const struct vifmac_record *rec)
{
	char mac[VIFMAC_MAC_STRLEN];

	sb_add(b, "/");
	sb_add(b, vifmac_mac_format(&rec->mac, mac));
	sb_add(b, "/");
	sb_add_escaped(b, rec->scope_key);
}

static void add_lower_escaped(struct sbuf *b, const char *s)
{
	char low[VIFMAC_UUID_STRLEN + 64];
	size_t i;

	for (i = 0; s[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = '\0';
	sb_add_escaped(b, low);
}

/* Prefix "<prefix>o/UUID/" (devid < 0) or "<prefix>o/UUID/DEVID/" of an owner's claims. */
static void key_owner_prefix(struct etcd_registry *e, struct sbuf *b, const char *uuid, int devid)
{
	char d[16];

	sb_add(b, e->prefix);
	sb_add(b, "o/");
	add_lower_escaped(b, uuid);
	sb_add(b, "/");
	if (devid >= 0) {
		snprintf(d, sizeof(d), "%d/", devid);
		sb_add(b, d);
	}
}

static void key_mac_prefix(struct etcd_registry *e, struct sbuf *b, const struct vifmac_mac *mac)
{
	char m[VIFMAC_MAC_STRLEN];

	sb_add(b, e->prefix);
	sb_add(b, "m/");
	sb_add(b, vifmac_mac_format(mac, m));
	sb_add(b, "/");
}

/* A list of keys (full, with the prefix). */
struct keys {
	char **v;
	size_t n, size;
	bool oom;
};

static void keys_add(struct keys *k, struct sbuf *b)
{
	if (b->oom || k->oom) {
		k->oom = true;
		free(b->data);
		return;
	}
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], b->data) == 0) {
			free(b->data);
			return;
		}
	if (k->n == k->size) {
		size_t size = k->size ? 2 * k->size : 8;
		char **v = realloc(k->v, size * sizeof(*v));

		if (!v) {
			k->oom = true;
			free(b->data);
			return;
		}
		k->v = v;
		k->size = size;
	}
	k->v[k->n++] = b->data;
}

static void keys_free(struct keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

struct ip_keys {
	struct etcd_registry *e;
	struct keys *keys;
	const struct vifmac_record *rec;
};

static int add_ip_key(void *data, const char *ip)
{
	struct ip_keys *x = data;
	struct sbuf b = { 0 };

	sb_add(&b, x->e->prefix);
	sb_add(&b, "i/");
	sb_add_escaped(&b, ip);
	key_tail(&b, x->rec);
	keys_add(x->keys, &b);
	return 0;
}

/* Every key @rec is stored under: the record, then its indexes. */
static void record_keys(struct etcd_registry *e, const struct vifmac_record *rec, struct keys *k)
{
	struct sbuf b = { 0 };
	struct ip_keys x = { .e = e, .keys = k, .rec = rec };
	char d[16];

	key_record(e, &b, rec);
	keys_add(k, &b);
	if (rec->state == VIFMAC_STATE_ACTIVE) {
		memset(&b, 0, sizeof(b));
		sb_add(&b, e->prefix);
		sb_add(&b, "o/");
		add_lower_escaped(&b, rec->uuid);
		snprintf(d, sizeof(d), "/%d", rec->devid);
		sb_add(&b, d);
		key_tail(&b, rec);
		keys_add(k, &b);
	}
	if (rec->domain[0]) {
		memset(&b, 0, sizeof(b));
		sb_add(&b, e->prefix);
		sb_add(&b, "d/");
		sb_add_escaped(&b, rec->domain);
		key_tail(&b, rec);
		keys_add(k, &b);
	}
	vifmac_registry_ip_tokens(rec->ip, add_ip_key, &x);
}

/* ---------------------------------------------------------------- records as JSON */

static json_object *record_json(const struct vifmac_record *rec)
{
	json_object *o = json_object_new_object();
	char mac[VIFMAC_MAC_STRLEN];

	if (!o)
		return NULL;
	json_object_object_add(o, "mac", json_object_new_string(vifmac_mac_format(&rec->mac, mac)));
	json_object_object_add(o, "scope", json_object_new_string(rec->scope_key));
	json_object_object_add(o, "state",
			       json_object_new_string(rec->state == VIFMAC_STATE_RESERVED ? "reserved" : "active"));
	json_object_object_add(o, "domain", json_object_new_string(rec->domain));
	json_object_object_add(o, "uuid", json_object_new_string(rec->uuid));
	json_object_object_add(o, "devid", json_object_new_int(rec->devid));
	json_object_object_add(o, "bridge", json_object_new_string(rec->bridge));
	json_object_object_add(o, "ip", json_object_new_string(rec->ip));
	json_object_object_add(o, "host", json_object_new_string(rec->host));
	json_object_object_add(o, "created", json_object_new_int64(rec->created));
	json_object_object_add(o, "updated", json_object_new_int64(rec->updated));
	json_object_object_add(o, "note", json_object_new_string(rec->note));
	json_object_object_add(o, "source", json_object_new_string(rec->source));
	return o;
}

static bool json_text(json_object *o, const char *name, char *buf, size_t size)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return false;
	return vifmac_strscpy(buf, json_object_get_string(v), size);
}

static int record_parse(struct etcd_registry *e, const char *key, const char *value, struct vifmac_record *rec)
{
	json_object *o = json_tokener_parse(value), *v;
	char mac[VIFMAC_MAC_STRLEN], state[16];
	bool ok;

	vifmac_record_init(rec);
	ok = o && json_object_is_type(o, json_type_object) && json_text(o, "mac", mac, sizeof(mac)) &&
	     vifmac_mac_parse(mac, &rec->mac) == 0 && json_text(o, "scope", rec->scope_key, sizeof(rec->scope_key)) &&
	     rec->scope_key[0] && json_text(o, "state", state, sizeof(state)) &&
	     json_text(o, "domain", rec->domain, sizeof(rec->domain)) &&
	     json_text(o, "uuid", rec->uuid, sizeof(rec->uuid)) &&
	     json_text(o, "bridge", rec->bridge, sizeof(rec->bridge)) && json_text(o, "ip", rec->ip, sizeof(rec->ip)) &&
	     json_text(o, "host", rec->host, sizeof(rec->host)) && json_text(o, "note", rec->note, sizeof(rec->note)) &&
	     json_text(o, "source", rec->source, sizeof(rec->source)) && json_object_object_get_ex(o, "devid", &v) &&
	     json_object_is_type(v, json_type_int);
	if (ok) {
		rec->devid = json_object_get_int(v);
		rec->state = strcmp(state, "reserved") == 0 ? VIFMAC_STATE_RESERVED : VIFMAC_STATE_ACTIVE;
		ok = strcmp(state, "reserved") == 0 || strcmp(state, "active") == 0;
	}
	if (ok && json_object_object_get_ex(o, "created", &v))
		ok = json_int64_get(v, &rec->created);
	if (ok && json_object_object_get_ex(o, "updated", &v))
		ok = json_int64_get(v, &rec->updated);
	json_object_put(o);
	if (!ok)
		return vifmac_set_error(e->ctx, -EIO, "registry %s is corrupt: key %s holds no vifmac record", e->url,
					key);
	return 0;
}

/* ---------------------------------------------------------------- requests */

static json_object *b64_string(const char *s)
{
	char *b = b64_encode(s, strlen(s));
	json_object *o = b ? json_object_new_string(b) : NULL;

	free(b);
	return o;
}

/* The end of the range of every key starting with @prefix (its last byte + 1; ours end in '/'). */
static char *prefix_end(const char *prefix)
{
	char *end = strdup(prefix);
	size_t n = end ? strlen(end) : 0;

	if (n)
		end[n - 1]++;
	return end;
}

static json_object *range_request(const char *prefix)
{
	json_object *r = json_object_new_object();
	char *end = prefix_end(prefix);

	if (r && end) {
		json_object_object_add(r, "key", b64_string(prefix));
		json_object_object_add(r, "range_end", b64_string(end));
	}
	free(end);
	return r;
}

static json_object *op(const char *kind, json_object *req)
{
	json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, kind, req);
	return o;
}

static json_object *compare_mod(const char *key, const char *range_end, const char *result, int64_t rev)
{
	json_object *c = json_object_new_object();
	char n[32];

	if (!c)
		return NULL;
	snprintf(n, sizeof(n), "%" PRId64, rev);
	json_object_object_add(c, "key", b64_string(key));
	if (range_end)
		json_object_object_add(c, "range_end", b64_string(range_end));
	json_object_object_add(c, "target", json_object_new_string("MOD"));
	json_object_object_add(c, "result", json_object_new_string(result));
	json_object_object_add(c, "mod_revision", json_object_new_string(n));
	return c;
}

/* ---------------------------------------------------------------- snapshots */

/* One key as read. */
struct kv {
	char *key;
	char *value;
	int64_t mod;
};

/* The ranges a call depends on, as read at one revision. */
struct snapshot {
	int64_t rev;        /* 0: assumed empty, nothing read yet */
	char **prefixes;    /* of the ranges */
	size_t n_prefixes;
	struct kv *kvs;     /* of every range, in order */
	size_t n_kvs;
};

static void snapshot_clear(struct snapshot *s)
{
	for (size_t i = 0; i < s->n_kvs; i++) {
		free(s->kvs[i].key);
		free(s->kvs[i].value);
	}
	free(s->kvs);
	s->kvs = NULL;
	s->n_kvs = 0;
	s->rev = 0;
}

static int snapshot_add_prefix(struct snapshot *s, struct sbuf *b)
{
	char **v;

	if (b->oom)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_prefixes; i++)
		if (strcmp(s->prefixes[i], b->data) == 0) {
			free(b->data);
			return 0;
		}
	v = realloc(s->prefixes, (s->n_prefixes + 1) * sizeof(*v));
	if (!v) {
		free(b->data);
		return -ENOMEM;
	}
	s->prefixes = v;
	s->prefixes[s->n_prefixes++] = b->data;
	return 0;
}

static void snapshot_free(struct snapshot *s)
{
	snapshot_clear(s);
	for (size_t i = 0; i < s->n_prefixes; i++)
		free(s->prefixes[i]);
	free(s->prefixes);
	s->prefixes = NULL;
	s->n_prefixes = 0;
}

/* Fills @s from a txn answer whose responses are the ranges of @s, in order. */
static int snapshot_parse(struct etcd_registry *e, struct snapshot *s, json_object *answer)
{
	json_object *header, *rev, *responses = NULL;
	size_t n;

	/* json-c's array calls assert the type: every value is checked first (an
	 * answer from a broken member or proxy is refused, not a crash) */
	json_object_object_get_ex(answer, "responses", &responses);
	n = responses && json_object_is_type(responses, json_type_array) ? json_object_array_length(responses) : 0;
	snapshot_clear(s);
	if (!json_object_object_get_ex(answer, "header", &header) ||
	    !json_object_object_get_ex(header, "revision", &rev) || n != s->n_prefixes)
		return vifmac_set_error(e->ctx, -EPROTO, "registry %s: an answer without the ranges asked for", e->url);
	if (!json_int64_get(rev, &s->rev))
		return vifmac_set_error(e->ctx, -EPROTO, "registry %s: an answer whose revision is not a number",
					e->url);
	for (size_t i = 0; i < n; i++) {
		json_object *rr, *kvs;
		size_t m;
		struct kv *v;

		if (!json_object_object_get_ex(json_object_array_get_idx(responses, i), "response_range", &rr))
			return vifmac_set_error(e->ctx, -EPROTO, "registry %s: an answer without its range", e->url);
		if (!json_object_object_get_ex(rr, "kvs", &kvs))
			continue; /* none: the gateway leaves empty lists out */
		if (!json_object_is_type(kvs, json_type_array))
			return vifmac_set_error(e->ctx, -EPROTO, "registry %s: a range whose kvs is not a list", e->url);
		m = json_object_array_length(kvs);
		v = realloc(s->kvs, (s->n_kvs + m) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->kvs = v;
		for (size_t j = 0; j < m; j++) {
			json_object *kv = json_object_array_get_idx(kvs, j), *k = NULL, *val = NULL, *mod;
			struct kv *x = &s->kvs[s->n_kvs];

			memset(x, 0, sizeof(*x));
			if (!json_object_object_get_ex(kv, "key", &k) || !json_object_is_type(k, json_type_string))
				return vifmac_set_error(e->ctx, -EPROTO, "registry %s: a key-value without a key", e->url);
			if (json_object_object_get_ex(kv, "value", &val) && !json_object_is_type(val, json_type_string))
				return vifmac_set_error(e->ctx, -EPROTO, "registry %s: a value that is not a string",
							e->url);
			x->key = b64_decode(json_object_get_string(k), NULL);
			x->value = val ? b64_decode(json_object_get_string(val), NULL) : strdup("");
			if (json_object_object_get_ex(kv, "mod_revision", &mod) && !json_int64_get(mod, &x->mod))
				x->mod = -1; /* refused below, once the strings are freed */
			if (!x->key || !x->value || x->mod < 0) {
				bool bad_mod = x->mod < 0;

				free(x->key);
				free(x->value);
				if (bad_mod)
					return vifmac_set_error(e->ctx, -EPROTO,
								"registry %s: a key-value whose mod_revision is not a number",
								e->url);
				if (errno == ENOMEM)
					return -ENOMEM;
				return vifmac_set_error(e->ctx, -EPROTO, "registry %s: a key or value that is not base64",
							e->url);
			}
			s->n_kvs++;
		}
	}
	return 0;
}

/* Reads every range of @s at one revision (a txn without compares). */
static int snapshot_read(struct etcd_registry *e, struct snapshot *s)
{
	json_object *txn = json_object_new_object(), *ops = json_object_new_array(), *answer = NULL;
	int r;

	if (!txn || !ops) {
		json_object_put(txn);
		json_object_put(ops);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n_prefixes; i++)
		json_object_array_add(ops, op("request_range", range_request(s->prefixes[i])));
	json_object_object_add(txn, "success", ops);
	r = post(e, "/v3/kv/txn", txn, &answer);
	json_object_put(txn);
	if (r < 0)
		return r;
	r = snapshot_parse(e, s, answer);
	json_object_put(answer);
	return r;
}

/* ---------------------------------------------------------------- the model a write is planned on */

/* One record key (m/MAC/SCOPE): as read, and as the plan leaves it. */
struct slot {
	struct vifmac_record old, rec;
	bool had, has;
	int64_t mod;  /* of the key read (0: not read) */
};

struct model {
	struct slot *v;
	size_t n, size;
};

static bool same_key(const struct vifmac_record *a, const struct vifmac_record *b)
{
	return vifmac_mac_equal(&a->mac, &b->mac) && strcmp(a->scope_key, b->scope_key) == 0;
}

static struct slot *model_find(struct model *m, const struct vifmac_record *rec)
{
	for (size_t i = 0; i < m->n; i++)
		if (same_key(&m->v[i].rec, rec) || (m->v[i].had && same_key(&m->v[i].old, rec)))
			return &m->v[i];
	return NULL;
}

static struct slot *model_slot(struct model *m, const struct vifmac_record *rec)
{
	struct slot *s = model_find(m, rec);

	if (s)
		return s;
	if (m->n == m->size) {
		size_t size = m->size ? 2 * m->size : 16;
		struct slot *v = realloc(m->v, size * sizeof(*v));

		if (!v)
			return NULL;
		m->v = v;
		m->size = size;
	}
	s = &m->v[m->n++];
	memset(s, 0, sizeof(*s));
	s->rec = *rec;
	return s;
}

/* The records of a snapshot: m/ keys, and o/ d/ i/ keys (which hold the same records). */
static int model_load(struct etcd_registry *e, struct model *m, const struct snapshot *s)
{
	m->n = 0;
	for (size_t i = 0; i < s->n_kvs; i++) {
		struct vifmac_record rec;
		struct slot *slot;
		int r = record_parse(e, s->kvs[i].key, s->kvs[i].value, &rec);

		if (r < 0)
			return r;
		slot = model_slot(m, &rec);
		if (!slot)
			return -ENOMEM;
		if (!slot->had) {
			slot->old = rec;
			slot->rec = rec;
			slot->had = slot->has = true;
			slot->mod = s->kvs[i].mod;
		}
	}
	return 0;
}

static bool same_owner_ci(const struct vifmac_record *a, const struct vifmac_record *b)
{
	return a->state == VIFMAC_STATE_ACTIVE && b->state == VIFMAC_STATE_ACTIVE && a->uuid[0] &&
	       strcasecmp(a->uuid, b->uuid) == 0 && a->devid == b->devid;
}

/*
 * The SQLite backend's write_one, on the model: 0, or -EEXIST with
 * @holder, or -ENOMEM.
 */
static int plan_one(struct model *m, const struct vifmac_record *rec, enum vifmac_write_mode mode,
		    struct vifmac_record *holder)
{
	struct slot *mine = NULL, *target;
	int64_t created = rec->created;

	for (size_t i = 0; i < m->n; i++) {
		struct slot *s = &m->v[i];

		if (!s->has || !vifmac_mac_equal(&s->rec.mac, &rec->mac) ||
		    !vifmac_scopes_overlap(s->rec.scope_key, rec->scope_key))
			continue;
		/* a second reservation of a reserved MAC is a conflict; importing it again is not */
		if (!vifmac_records_same_owner(rec, &s->rec) ||
		    (mode == VIFMAC_WRITE_CLAIM && rec->state == VIFMAC_STATE_RESERVED)) {
			*holder = s->rec;
			return -EEXIST;
		}
	}
	for (size_t i = 0; i < m->n; i++) {
		struct slot *s = &m->v[i];

		if (!s->has)
			continue;
		if (vifmac_mac_equal(&s->rec.mac, &rec->mac)) {
			if (!vifmac_scopes_overlap(s->rec.scope_key, rec->scope_key))
				continue;
			/* the first record of the same owner is updated, the others merged into it */
			if (!mine) {
				mine = s;
				created = mode == VIFMAC_WRITE_CLAIM ? s->rec.created : rec->created;
			}
			s->has = false;
		} else if (rec->state == VIFMAC_STATE_ACTIVE && same_owner_ci(&s->rec, rec)) {
			/* a vif holds one MAC: its claim on another MAC (an older IP, say) is moved */
			s->has = false;
		}
	}
	target = model_slot(m, rec);
	if (!target)
		return -ENOMEM;
	target->rec = *rec;
	target->rec.created = created;
	target->has = true;
	return 0;
}

/* ---------------------------------------------------------------- the txn */

static bool records_equal(const struct vifmac_record *a, const struct vifmac_record *b)
{
	char ja[2048], jb[2048];
	json_object *oa = record_json(a), *ob = record_json(b);
	bool eq;

	snprintf(ja, sizeof(ja), "%s", oa ? json_object_to_json_string_ext(oa, JSON_C_TO_STRING_PLAIN) : "");
	snprintf(jb, sizeof(jb), "%s", ob ? json_object_to_json_string_ext(ob, JSON_C_TO_STRING_PLAIN) : "a");
	eq = strcmp(ja, jb) == 0;
	json_object_put(oa);
	json_object_put(ob);
	return eq;
}

static bool keys_has(const struct keys *k, const char *key)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], key) == 0)
			return true;
	return false;
}

/*
 * The writes that take the snapshot to the model: for each changed record,
 * its old keys it no longer has are deleted and all its keys are put.
 * Returns the number of operations added to @ops, or -ENOMEM.
 */
static int model_ops(struct etcd_registry *e, const struct model *m, json_object *ops)
{
	int n = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct slot *s = &m->v[i];
		struct keys old = { 0 }, now = { 0 };
		json_object *value = NULL;
		const char *text = NULL;

		if (s->had == s->has && (!s->has || records_equal(&s->old, &s->rec)))
			continue;
		if (s->had)
			record_keys(e, &s->old, &old);
		if (s->has) {
			record_keys(e, &s->rec, &now);
			value = record_json(&s->rec);
			text = value ? json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN) : NULL;
		}
		if (old.oom || now.oom || (s->has && !text)) {
			keys_free(&old);
			keys_free(&now);
			json_object_put(value);
			return -ENOMEM;
		}
		for (size_t k = 0; k < old.n; k++) {
			json_object *d;

			if (keys_has(&now, old.v[k]))
				continue;
			d = json_object_new_object();
			json_object_object_add(d, "key", b64_string(old.v[k]));
			json_object_array_add(ops, op("request_delete_range", d));
			n++;
		}
		for (size_t k = 0; k < now.n; k++) {
			json_object *p = json_object_new_object();

			json_object_object_add(p, "key", b64_string(now.v[k]));
			json_object_object_add(p, "value", b64_string(text));
			json_object_array_add(ops, op("request_put", p));
			n++;
		}
		keys_free(&old);
		keys_free(&now);
		json_object_put(value);
	}
	return n;
}

/*
 * "Nothing I read has changed": no key of a range written after the
 * snapshot (created or modified), no key read deleted since.
 */
static int snapshot_compares(struct etcd_registry *e, const struct snapshot *s, const struct model *m,
			     json_object *compares)
{
	for (size_t i = 0; i < s->n_prefixes; i++) {
		char *end = prefix_end(s->prefixes[i]);

		if (!end)
			return -ENOMEM;
		json_object_array_add(compares, compare_mod(s->prefixes[i], end, "LESS", s->rev + 1));
		free(end);
	}
	for (size_t i = 0; i < m->n; i++) {
		struct sbuf b = { 0 };

		if (!m->v[i].had)
			continue;
		key_record(e, &b, &m->v[i].old);
		if (b.oom)
			return -ENOMEM;
		json_object_array_add(compares, compare_mod(b.data, NULL, "EQUAL", m->v[i].mod));
		free(b.data);
	}
	return 0;
}

/*
 * Decides a call on a snapshot: fills the model, returns 0 (write it),
 * 1 (nothing to write: done) or a negative errno (done: refused).
 */
typedef int (*plan_fn)(struct etcd_registry *e, struct model *m, bool assumed, void *data);

/*
 * Plans on @s (read first unless @assume_empty) and sends the txn; on a
 * lost race, plans again on the snapshot the failure branch returned.
 * Returns what the plan returned (0 when written), or a negative errno.
 */
static int run(struct etcd_registry *e, struct snapshot *s, bool assume_empty, plan_fn plan, void *data)
{
	struct model m = { 0 };
	int r;

	if (!assume_empty) {
		r = snapshot_read(e, s);
		if (r < 0)
			return r;
	}
	for (int attempt = 0;; attempt++) {
		json_object *txn, *compares, *success, *failure, *answer = NULL, *ok;
		bool succeeded;

		r = model_load(e, &m, s);
		if (r < 0)
			break;
		r = plan(e, &m, s->rev == 0, data);
		if (r == -EEXIST && s->rev == 0) {
			/* a conflict inside the batch: tell it with the registry's, read for real */
			r = snapshot_read(e, s);
			if (r < 0)
				break;
			continue;
		}
		if (r != 0)
			break;
		txn = json_object_new_object();
		compares = json_object_new_array();
		success = json_object_new_array();
		failure = json_object_new_array();
		if (!txn || !compares || !success || !failure) {
			json_object_put(txn);
			json_object_put(compares);
			json_object_put(success);
			json_object_put(failure);
			r = -ENOMEM;
			break;
		}
		json_object_object_add(txn, "compare", compares);
		json_object_object_add(txn, "success", success);
		json_object_object_add(txn, "failure", failure);
		r = snapshot_compares(e, s, &m, compares);
		if (r == 0)
			r = model_ops(e, &m, success);
		if (r < 0) {
			json_object_put(txn);
			break;
		}
		for (size_t i = 0; i < s->n_prefixes; i++)
			json_object_array_add(failure, op("request_range", range_request(s->prefixes[i])));
		r = post(e, "/v3/kv/txn", txn, &answer);
		json_object_put(txn);
		if (r < 0)
			break;
		/* etcd leaves "succeeded" out when false; anything but a JSON boolean is not etcd's */
		ok = NULL;
		json_object_object_get_ex(answer, "succeeded", &ok);
		if (ok && !json_object_is_type(ok, json_type_boolean)) {
			json_object_put(answer);
			r = vifmac_set_error(e->ctx, -EPROTO,
					     "registry %s: a transaction answer whose \"succeeded\" is not true or false; "
					     "nothing is known to be recorded", e->url);
			break;
		}
		succeeded = ok && json_object_get_boolean(ok);
		if (succeeded) {
			json_object_put(answer);
			r = 0;
			break;
		}
		/* someone wrote in between: what they left is in the answer */
		r = snapshot_parse(e, s, answer);
		json_object_put(answer);
		if (r < 0)
			break;
		if (attempt + 1 >= MAX_ATTEMPTS || mono_ms() >= e->deadline) {
			r = vifmac_set_error(e->ctx, -EBUSY,
					     "registry %s: lost the race to other writers %d times in %d ms; nothing recorded",
					     e->url, attempt + 1, e->timeout_ms);
			break;
		}
	}
	free(m.v);
	return r;
}

/* ---------------------------------------------------------------- writes */

struct write_plan {
	const struct vifmac_record *recs;
	size_t n;
	enum vifmac_write_mode mode;
	vifmac_conflict_fn conflict_fn;
	void *data;
	struct vifmac_record holder;
	bool stopped;  /* the conflict callback asked to stop */
};

static int write_plan(struct etcd_registry *e, struct model *m, bool assumed, void *data)
{
	struct write_plan *w = data;
	size_t conflicts = 0;

	w->stopped = false;
	for (size_t i = 0; i < w->n; i++) {
		struct vifmac_record holder;
		int r = plan_one(m, &w->recs[i], w->mode, &holder);

		if (r == -EEXIST) {
			if (conflicts++ == 0 || !w->conflict_fn)
				w->holder = holder;
			if (!w->conflict_fn || assumed)
				return -EEXIST;
			if (w->conflict_fn(w->data, &w->recs[i], &holder) != 0) {
				w->stopped = true;
				return -EEXIST;
			}
			continue;
		}
		if (r < 0)
			return r;
	}
	return conflicts ? -EEXIST : 0;
}

static int etcd_write(struct vifmac_registry *reg, const struct vifmac_record *recs, size_t n,
		      enum vifmac_write_mode mode, vifmac_conflict_fn conflict_fn, void *data,
		      struct vifmac_record *ret_holder)
{
	struct etcd_registry *e = priv(reg);
	struct write_plan w = { .recs = recs, .n = n, .mode = mode, .conflict_fn = conflict_fn, .data = data };
	struct snapshot s = { 0 };
	int r = 0;

	call_begin(e);
	/* what the plan depends on: every scope of each MAC, and each vif's other claims */
	for (size_t i = 0; i < n && r == 0; i++) {
		struct sbuf b = { 0 };

		key_mac_prefix(e, &b, &recs[i].mac);
		r = snapshot_add_prefix(&s, &b);
		if (r == 0 && recs[i].state == VIFMAC_STATE_ACTIVE) {
			memset(&b, 0, sizeof(b));
			key_owner_prefix(e, &b, recs[i].uuid, recs[i].devid);
			r = snapshot_add_prefix(&s, &b);
		}
	}
	if (r == 0)
		r = run(e, &s, true, write_plan, &w);
	snapshot_free(&s);
	if (r == -EEXIST) {
		const struct vifmac_record *h = &w.holder;

		if (ret_holder && !conflict_fn)
			*ret_holder = *h;
		return vifmac_registry_conflict_error(e->ctx, h);
	}
	if (r == -ENOMEM)
		return vifmac_set_error(e->ctx, r, "registry %s: out of memory", e->url);
	return r < 0 ? r : (int)n;
}

struct release_plan {
	const struct vifmac_mac *mac;
	const char *uuid;
	int devid;
	int64_t updated_max;
	const char *host; /* NULL: any */
	int released;
};

static int release_plan(struct etcd_registry *e, struct model *m, bool assumed, void *data)
{
	struct release_plan *p = data;

	p->released = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct slot *s = &m->v[i];

		if (!s->has || s->rec.state != VIFMAC_STATE_ACTIVE || strcasecmp(s->rec.uuid, p->uuid) != 0 ||
		    (p->devid >= 0 && s->rec.devid != p->devid) || (p->mac && !vifmac_mac_equal(p->mac, &s->rec.mac)) ||
		    s->rec.updated > p->updated_max || (p->host && strcmp(s->rec.host, p->host) != 0))
			continue;
		s->has = false;
		p->released++;
	}
	return p->released ? 0 : 1;
}

static int etcd_release(struct vifmac_registry *reg, const struct vifmac_mac *mac, const char *uuid, int devid,
			int64_t updated_max, const char *host)
{
	struct etcd_registry *e = priv(reg);
	struct release_plan p = { .mac = mac, .uuid = uuid, .devid = devid, .updated_max = updated_max,
				  .host = host };
	struct snapshot s = { 0 };
	struct sbuf b = { 0 };
	int r;

	call_begin(e);
	key_owner_prefix(e, &b, uuid, devid);
	r = snapshot_add_prefix(&s, &b);
	if (r == 0)
		r = run(e, &s, false, release_plan, &p);
	snapshot_free(&s);
	if (r == 1)
		return 0;
	return r < 0 ? r : p.released;
}

struct takeover_plan {
	const struct vifmac_record *stale, *rec;
	struct vifmac_record holder;
};

/* The stale claim goes only if it is still exactly the one judged stale; then the claim as a write. */
static int takeover_plan(struct etcd_registry *e, struct model *m, bool assumed, void *data)
{
	struct takeover_plan *p = data;
	const struct vifmac_record *st = p->stale;
	struct slot *s = model_find(m, st);

	if (!s || !s->has || s->rec.state != VIFMAC_STATE_ACTIVE || strcasecmp(s->rec.uuid, st->uuid) != 0 ||
	    s->rec.devid != st->devid || strcmp(s->rec.host, st->host) != 0 || s->rec.updated != st->updated)
		return -ESTALE;
	s->has = false;
	return plan_one(m, p->rec, VIFMAC_WRITE_CLAIM, &p->holder);
}

static int etcd_takeover(struct vifmac_registry *reg, const struct vifmac_record *stale,
			 const struct vifmac_record *rec, struct vifmac_record *ret_holder)
{
	struct etcd_registry *e = priv(reg);
	struct takeover_plan p = { .stale = stale, .rec = rec };
	struct snapshot s = { 0 };
	struct sbuf b = { 0 };
	int r;

	call_begin(e);
	/* the MAC's every scope, and both owners' other claims */
	key_mac_prefix(e, &b, &rec->mac);
	r = snapshot_add_prefix(&s, &b);
	if (r == 0) {
		memset(&b, 0, sizeof(b));
		key_owner_prefix(e, &b, rec->uuid, rec->devid);
		r = snapshot_add_prefix(&s, &b);
	}
	if (r == 0 && !vifmac_mac_equal(&stale->mac, &rec->mac)) {
		memset(&b, 0, sizeof(b));
		key_mac_prefix(e, &b, &stale->mac);
		r = snapshot_add_prefix(&s, &b);
	}
	if (r == 0)
		r = run(e, &s, false, takeover_plan, &p);
	snapshot_free(&s);
	if (r == -EEXIST) {
		if (ret_holder)
			*ret_holder = p.holder;
		return vifmac_registry_conflict_error(e->ctx, &p.holder);
	}
	if (r == -ENOMEM)
		return vifmac_set_error(e->ctx, r, "registry %s: out of memory", e->url);
	return r;
}

static int unreserve_plan(struct etcd_registry *e, struct model *m, bool assumed, void *data)
{
	int *n = data;

	*n = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].has && m->v[i].rec.state == VIFMAC_STATE_RESERVED) {
			m->v[i].has = false;
			(*n)++;
		}
	return *n ? 0 : 1;
}

static int etcd_unreserve(struct vifmac_registry *reg, const struct vifmac_mac *mac)
{
	struct etcd_registry *e = priv(reg);
	struct snapshot s = { 0 };
	struct sbuf b = { 0 };
	int n = 0, r;

	call_begin(e);
	key_mac_prefix(e, &b, mac);
	r = snapshot_add_prefix(&s, &b);
	if (r == 0)
		r = run(e, &s, false, unreserve_plan, &n);
	snapshot_free(&s);
	if (r == 1)
		return 0;
	return r < 0 ? r : 1;
}

/* ---------------------------------------------------------------- reads */

static int cmp_records(const void *a, const void *b)
{
	const struct vifmac_record *x = a, *y = b;
	int c = memcmp(x->mac.b, y->mac.b, sizeof(x->mac.b));

	return c ? c : strcmp(x->scope_key, y->scope_key);
}

/* By MAC and scope, then by content: copies that differ (a torn index) give the same pick in any order read. */
static int cmp_records_whole(const void *a, const void *b)
{
	int c = cmp_records(a, b);

	/* records come from vifmac_record_init + strscpy: every byte is set */
	return c ? c : memcmp(a, b, sizeof(struct vifmac_record));
}

/* Adds @n prefixes to the ranges @s reads. */
static int snapshot_set_prefixes(struct snapshot *s, const char *const *prefixes, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		struct sbuf b = { 0 };

		sb_add(&b, prefixes[i]);
		r = snapshot_add_prefix(s, &b);
	}
	return r;
}

/* The records of @s's key-values, each once (an index key repeats its record), ordered. */
static int snapshot_records(struct etcd_registry *e, const struct snapshot *s, struct vifmac_record **ret_recs,
			    size_t *ret_n)
{
	struct vifmac_record *recs;
	size_t n_recs = 0;
	int r = 0;

	*ret_recs = NULL;
	*ret_n = 0;
	if (!s->n_kvs)
		return 0;
	recs = calloc(s->n_kvs, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_kvs && r == 0; i++)
		r = record_parse(e, s->kvs[i].key, s->kvs[i].value, &recs[i]);
	if (r < 0) {
		free(recs);
		return r;
	}
	/* sorted, the copies of one record (its index keys) are neighbours: one
	 * pass keeps one of each, n log n instead of comparing every pair */
	qsort(recs, s->n_kvs, sizeof(*recs), cmp_records_whole);
	for (size_t i = 0; i < s->n_kvs; i++)
		if (n_recs == 0 || !same_key(&recs[n_recs - 1], &recs[i]))
			recs[n_recs++] = recs[i];
	*ret_recs = recs;
	*ret_n = n_recs;
	return 0;
}

static int read_records(struct etcd_registry *e, const char *const *prefixes, size_t n, vifmac_record_fn fn,
			void *data)
{
	struct snapshot s = { 0 };
	struct vifmac_record *recs = NULL;
	size_t n_recs = 0;
	int r = 0;

	call_begin(e);
	r = snapshot_set_prefixes(&s, prefixes, n);
	if (r == 0)
		r = snapshot_read(e, &s);
	if (r == 0)
		r = snapshot_records(e, &s, &recs, &n_recs);
	snapshot_free(&s);
	for (size_t i = 0; i < n_recs && r == 0; i++)
		r = fn(data, &recs[i]);
	free(recs);
	return r;
}

/*
 * For tests/fuzz/fuzz-etcd-answer.c: what read_records does with the answer
 * to a txn that read @n_ranges ranges -- snapshot_parse, then
 * snapshot_records -- without a cluster. 0, or a negative errno with the
 * context's error set.
 */
int vifmac_etcd_parse_answer(struct vifmac_ctx *ctx, const char *answer_text, size_t n_ranges)
{
	struct etcd_registry e = { .ctx = ctx, .url = (char *)"etcd:answer" };
	struct snapshot s = { 0 };
	struct vifmac_record *recs = NULL;
	size_t n_recs = 0;
	char names[8][16];
	const char *p[8];
	json_object *answer;
	int r = etcd_dl_load(ctx, e.url);

	if (r < 0)
		return r;
	if (n_ranges > 8)
		return vifmac_set_error(ctx, -EINVAL, "at most 8 ranges");
	for (size_t i = 0; i < n_ranges; i++) {
		snprintf(names[i], sizeof(names[i]), "/vifmac/r%zu/", i);
		p[i] = names[i];
	}
	r = snapshot_set_prefixes(&s, p, n_ranges);
	if (r < 0) {
		snapshot_free(&s);
		return r;
	}
	answer = json_tokener_parse(answer_text);
	if (!answer) {
		snapshot_free(&s);
		return vifmac_set_error(ctx, -EPROTO, "registry %s: an answer that is not JSON", e.url);
	}
	r = snapshot_parse(&e, &s, answer);
	if (r == 0)
		r = snapshot_records(&e, &s, &recs, &n_recs);
	json_object_put(answer);
	snapshot_free(&s);
	free(recs);
	return r;
}

static int read_one_prefix(struct etcd_registry *e, struct sbuf *b, vifmac_record_fn fn, void *data)
{
	const char *p[1] = { b->data };
	int r = b->oom ? -ENOMEM : read_records(e, p, 1, fn, data);

	free(b->data);
	return r;
}

static int etcd_list(struct vifmac_registry *reg, vifmac_record_fn fn, void *data)
{
	struct etcd_registry *e = priv(reg);
	struct sbuf b = { 0 };

	sb_add(&b, e->prefix);
	sb_add(&b, "m/");
	return read_one_prefix(e, &b, fn, data);
}

static int etcd_lookup_mac(struct vifmac_registry *reg, const struct vifmac_mac *mac, vifmac_record_fn fn,
			   void *data)
{
	struct etcd_registry *e = priv(reg);
	struct sbuf b = { 0 };

	key_mac_prefix(e, &b, mac);
	return read_one_prefix(e, &b, fn, data);
}

static int etcd_lookup_ip(struct vifmac_registry *reg, const char *ip, vifmac_record_fn fn, void *data)
{
	struct etcd_registry *e = priv(reg);
	struct sbuf b = { 0 };

	sb_add(&b, e->prefix);
	sb_add(&b, "i/");
	sb_add_escaped(&b, ip);
	sb_add(&b, "/");
	return read_one_prefix(e, &b, fn, data);
}

static int etcd_lookup_domain(struct vifmac_registry *reg, const char *domain, vifmac_record_fn fn, void *data)
{
	struct etcd_registry *e = priv(reg);
	struct sbuf d = { 0 }, o = { 0 };
	const char *p[2];
	int r;

	/* by name, or by UUID (the owner index) */
	sb_add(&d, e->prefix);
	sb_add(&d, "d/");
	sb_add_escaped(&d, domain);
	sb_add(&d, "/");
	key_owner_prefix(e, &o, domain, -1);
	p[0] = d.data;
	p[1] = o.data;
	r = d.oom || o.oom ? -ENOMEM : read_records(e, p, 2, fn, data);
	free(d.data);
	free(o.data);
	return r;
}

/* ---------------------------------------------------------------- open / close */

static void etcd_free(struct etcd_registry *e)
{
	if (!e)
		return;
	if (e->curl)
		curl_easy_cleanup(e->curl);
	curl_slist_free_all(e->headers);
	for (size_t i = 0; i < e->n_endpoints; i++) {
		free(e->endpoints[i]);
		if (e->last_errors)
			free(e->last_errors[i]);
	}
	free(e->endpoints);
	free(e->last_errors);
	free(e->url);
	free(e->prefix);
	free(e->token);
	free(e->user);
	if (e->password) {
		explicit_bzero(e->password, strlen(e->password));
		free(e->password);
	}
	free(e->errors.data);
	free(e);
	curl_global_cleanup();
}

/* The first line of the password file. */
static int read_password(struct etcd_registry *e, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int r = vifmac_read_file(path, &data, &len);

	if (r < 0)
		return vifmac_set_error(e->ctx, r == -ENOENT ? -ENOENT : -EACCES,
					"registry %s: cannot read etcd_password_file %s: %s", e->url, path, vifmac_read_file_strerror(r));
	data[strcspn(data, "\r\n")] = '\0';
	e->password = data;
	return 0;
}

static int check_readable(struct etcd_registry *e, const char *what, const char *path)
{
	if (path && access(path, R_OK) < 0) {
		int err = errno;

		return vifmac_set_error(e->ctx, err == ENOENT ? -ENOENT : -EACCES, "registry %s: cannot read %s %s: %s",
					e->url, what, path, strerror(err));
	}
	return 0;
}

static int etcd_open(struct vifmac_registry *reg, const char *location)
{
	const struct vifmac_etcd_options *o = vifmac_ctx_etcd_options(reg->ctx);
	const struct vifmac_policy *p = reg->ctx->policy;
	struct etcd_registry *e;
	char err[256];
	int r;

	r = etcd_dl_load(reg->ctx, reg->url);
	if (r < 0)
		return r;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return vifmac_set_error(reg->ctx, -EIO, "registry %s: libcurl does not start", reg->url);
	e = calloc(1, sizeof(*e));
	if (!e) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	e->ctx = reg->ctx;
	e->url = strdup(reg->url);
	e->prefix = strdup(o->prefix ? o->prefix : DEFAULT_PREFIX);
	if (!e->url || !e->prefix) {
		r = -ENOMEM;
		goto fail;
	}
	r = vifmac_etcd_endpoints_parse(location, &e->endpoints, &e->n_endpoints, err, sizeof(err));
	if (r == 0)
		r = vifmac_etcd_transport_check(location, o, err, sizeof(err));
	if (r < 0) {
		if (r == -EINVAL)
			vifmac_set_error(reg->ctx, r, "registry %s: %s", reg->url, err);
		goto fail;
	}
	e->last_errors = calloc(e->n_endpoints, sizeof(*e->last_errors));
	if (!e->last_errors) {
		r = -ENOMEM;
		goto fail;
	}
	e->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms :
			p && p->registry_timeout_ms > 0 ? p->registry_timeout_ms : DEFAULT_TIMEOUT_MS;
	e->request_timeout_ms = o->request_timeout_ms > 0 ? o->request_timeout_ms : DEFAULT_REQUEST_TIMEOUT_MS;
	if (e->request_timeout_ms > e->timeout_ms)
		e->request_timeout_ms = e->timeout_ms;
	if ((r = check_readable(e, "etcd_cacert", o->cacert)) < 0 || (r = check_readable(e, "etcd_cert", o->cert)) < 0 ||
	    (r = check_readable(e, "etcd_key", o->key)) < 0)
		goto fail;

	e->curl = curl_easy_init();
	if (!e->curl) {
		r = -ENOMEM;
		goto fail;
	}
	curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	/* "" is no proxy at all: libcurl would otherwise take http_proxy,
	 * https_proxy and ALL_PROXY from whatever environment libxl gave us */
	curl_easy_setopt(e->curl, CURLOPT_PROXY, o->proxy ? o->proxy : "");
	/* and no_proxy / NO_PROXY cannot take etcd_proxy away either */
	curl_easy_setopt(e->curl, CURLOPT_NOPROXY, "");
	e->max_answer = (size_t)(o->max_answer_mb > 0 ? o->max_answer_mb : DEFAULT_MAX_ANSWER_MB) << 20;
	if (o->cacert)
		curl_easy_setopt(e->curl, CURLOPT_CAINFO, o->cacert);
	if (o->cert) {
		curl_easy_setopt(e->curl, CURLOPT_SSLCERT, o->cert);
		curl_easy_setopt(e->curl, CURLOPT_SSLKEY, o->key);
	}
	set_auth_header(e);
	if (!e->headers) {
		r = -ENOMEM;
		goto fail;
	}
	if (o->user) {
		int err_auth = 0;

		e->user = strdup(o->user);
		if (!e->user) {
			r = -ENOMEM;
			goto fail;
		}
		r = read_password(e, o->password_file);
		if (r < 0)
			goto fail;
		/* a wrong password is better told now than at the first claim */
		call_begin(e);
		r = -EHOSTUNREACH;
		for (size_t i = 0; i < e->n_endpoints && r == -EHOSTUNREACH; i++) {
			r = authenticate(e, e->endpoints[i], &err_auth);
			if (r == 0)
				e->current = i;
		}
		if (r == -EACCES) {
			vifmac_set_error(reg->ctx, r, "registry %s: etcd user \"%s\" refused (%s)", reg->url, e->user,
					 errors_of(e));
			goto fail;
		}
		if (r < 0 && r != -EHOSTUNREACH) {
			vifmac_set_error(reg->ctx, r, "registry %s: cannot authenticate as \"%s\" (%s)", reg->url, e->user,
					 errors_of(e));
			goto fail;
		}
		/* nobody answered: the calls will try again (and refuse, naming the endpoints) */
		r = 0;
	}
	reg->priv = e;
	return 0;
fail:
	etcd_free(e);
	return r;
}

static void etcd_close(struct vifmac_registry *reg)
{
	etcd_free(priv(reg));
	reg->priv = NULL;
}

const struct vifmac_registry_backend vifmac_registry_backend_etcd = {
	.scheme = "etcd",
	.open = etcd_open,
	.close = etcd_close,
	.write = etcd_write,
	.release = etcd_release,
	.takeover = etcd_takeover,
	.unreserve = etcd_unreserve,
	.list = etcd_list,
	.lookup_mac = etcd_lookup_mac,
	.lookup_ip = etcd_lookup_ip,
	.lookup_domain = etcd_lookup_domain,
};
