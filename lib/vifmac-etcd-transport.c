/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The etcd backend's transport: HTTP POSTs of JSON to the v3 gateway of one
 * cluster member after another (failover until the call's deadline), user
 * authentication and its token, TLS and proxy settings, bounded answers.
 * It knows no registry keys: vifmac-etcd-txn.c builds the requests.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vifmac-etcd.h"

/* An int64 of an answer: the gateway writes them as strings of digits; a number is fine too. */
bool etcd_json_int64(json_object *o, int64_t *ret)
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

void etcd_call_begin(struct etcd_registry *e)
{
	e->deadline = vifmac_mono_ms() + e->timeout_ms;
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
			vifmac_strbuf_add(&e->errors, "; ");
		vifmac_strbuf_add(&e->errors, e->endpoints[i]);
		vifmac_strbuf_add(&e->errors, ": ");
		vifmac_strbuf_add(&e->errors, e->last_errors[i]);
	}
	return e->errors.data && e->errors.len && !e->errors.oom ? e->errors.data : "no answer";
}

/* ---------------------------------------------------------------- HTTP */

/* An answer as it arrives, up to a bound (a member or a proxy may send without end). */
struct answer_buf {
	struct vifmac_strbuf b;
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
	vifmac_strbuf_addn(&a->b, p, size * n);
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
	struct vifmac_strbuf resp;
	char url[1024], errbuf[CURL_ERROR_SIZE] = "";
	int64_t left = e->deadline - vifmac_mono_ms();
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
int etcd_post(struct etcd_registry *e, const char *path, json_object *body, json_object **ret)
{
	const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	int err = -EIO;

	for (int round = 0;; round++) {
		size_t tls_refusals = 0, down = 0;

		for (size_t k = 0; k < e->n_endpoints; k++) {
			size_t i = (e->current + k) % e->n_endpoints;
			enum outcome out;

			if (vifmac_mono_ms() >= e->deadline)
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
		if (vifmac_mono_ms() + 100 >= e->deadline)
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

int etcd_transport_open(struct vifmac_registry *reg, const char *location)
{
	const struct vifmac_etcd_options *o = vifmac_ctx_etcd_options(reg->ctx);
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
	e->prefix = strdup(vifmac_ctx_etcd_prefix(reg->ctx));
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
	e->timeout_ms = vifmac_ctx_etcd_timeout_ms(reg->ctx);
	e->request_timeout_ms = vifmac_ctx_etcd_request_timeout_ms(reg->ctx);
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
	e->max_answer = vifmac_ctx_etcd_max_answer(reg->ctx);
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
		etcd_call_begin(e);
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

void etcd_transport_close(struct vifmac_registry *reg)
{
	etcd_free(reg->priv);
	reg->priv = NULL;
}
