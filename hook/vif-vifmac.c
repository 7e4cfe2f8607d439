/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vif-vifmac: the vif hotplug script, as one program (/etc/xen/scripts/vif-vifmac,
 * a symlink to it). Gives a vif the MAC that the vifmac policy assigns, records
 * it in the registry, and refuses the vif -- and so the domain creation -- when
 * that MAC is already held. Then execs the script that really plugs the vif
 * (vif-bridge by default; chain_script / bridge_chain in /etc/xen/vifmac.conf)
 * with the same argv and environment.
 *
 * Usage: vif-vifmac (add|remove|online|offline) [type_if=vif|tap]
 * Environment (from the toolstack, as for vif-bridge): XENBUS_PATH, vif, INTERFACE.
 *
 * The decision is `vifmac hotplug`'s (tools/cli-hotplug.c), taken in this
 * process: a bash wrapper around the helper cost every vif 3-4 ms of its own
 * (docs/performance.md). What Xen's xen-hotplug-common.sh does on a refusal
 * (fatal, log) is done here as it does it, so that the toolstack, the log and
 * the guest see what they saw from the script.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "vifmac-cli.h"

#define HOTPLUG_LOG_DIR "/var/log/xen"
#define HOTPLUG_LOG HOTPLUG_LOG_DIR "/xen-hotplug.log"
#define REFUSED_SHORT "vif-vifmac: refused; the reason is in dom0's xen-hotplug.log"

struct hook {
	char **argv;
	const char *command; /* argv[1], "" when absent */
	int xl_fd;           /* the toolstack's stderr: what is written there shows in xl's output */
	bool syslog_open;
	bool common_logged;
};

/*
 * Xen's `log LEVEL TEXT`: `logger -p daemon.LEVEL -- "$0:" TEXT`, whose tag is
 * logger's default, the login name (getlogin(), else the real user's).
 */
static void xen_log(struct hook *h, int level, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void xen_log(struct hook *h, int level, const char *format, ...)
{
	va_list args;
	char text[2048];

	if (!h->syslog_open) {
		static char tag[64];
		const char *name = getlogin();
		const struct passwd *pw;

		if (!name && (pw = getpwuid(getuid())))
			name = pw->pw_name;
		snprintf(tag, sizeof(tag), "%s", name && *name ? name : "vif-vifmac");
		openlog(tag, 0, LOG_DAEMON);
		h->syslog_open = true;
	}
	va_start(args, format);
	vsnprintf(text, sizeof(text), format, args);
	va_end(args);
	syslog(level, "%s: %s", h->argv[0], text);
}

/* What sourcing xen-hotplug-common.sh logs (once), on the paths that sourced it: refusals and warnings. */
static void xen_common(struct hook *h)
{
	const char *be = secure_getenv("XENBUS_PATH");

	if (h->common_logged)
		return;
	h->common_logged = true;
	xen_log(h, LOG_DEBUG, "XENBUS_PATH=%s", be ? be : "");
}

/*
 * Our stderr goes to the hotplug log, as xen-hotplug-common.sh sends it
 * there (when /var/log/xen exists, as the script did); the toolstack's stays
 * on h->xl_fd and comes back for the chained script.
 */
static void log_to_hotplug_log(struct hook *h)
{
	struct stat st;
	int fd;

	h->xl_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (stat(HOTPLUG_LOG_DIR, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	fd = open(HOTPLUG_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
	if (fd < 0)
		return;
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void stderr_back_to_toolstack(struct hook *h)
{
	fflush(stderr);
	if (h->xl_fd >= 0) {
		dup2(h->xl_fd, STDERR_FILENO);
		close(h->xl_fd);
		h->xl_fd = -1;
	}
}

/*
 * Xen's `fatal TEXT`: TEXT in <backend>/hotplug-error and "error" in
 * <backend>/hotplug-status, written together as xenstore-write writes them
 * (one transaction, retried when xenstored says EAGAIN), then `log err`.
 */
static void xen_fatal(struct hook *h, struct vifmac_ctx *ctx, const char *text)
{
	const char *be = secure_getenv("XENBUS_PATH");
	char err_path[PATH_MAX], status_path[PATH_MAX];
	struct vifmac_ctx *own = NULL;
	const struct vifmac_sys_ops *ops;
	void *data;
	int r = -ENOMEM;

	if (be && *be) {
		if (!ctx) /* refused before (or after) the decision: xenstore through a seam of our own */
			ctx = own = vifmac_ctx_new();
		snprintf(err_path, sizeof(err_path), "%s/hotplug-error", be);
		snprintf(status_path, sizeof(status_path), "%s/hotplug-status", be);
		xen_log(h, LOG_DEBUG, "Writing %s %s %s error to xenstore.", err_path, text, status_path);
		ops = ctx ? vifmac_ctx_get_sys(ctx, &data) : NULL;
		if (ops && ops->xs_write && ops->xs_transaction_start && ops->xs_transaction_end) {
			for (int tries = 0; tries < 100; tries++) {
				unsigned long t;

				r = ops->xs_transaction_start(data, &t);
				if (r < 0)
					break;
				r = ops->xs_write(data, t, err_path, text);
				if (r == 0)
					r = ops->xs_write(data, t, status_path, "error");
				if (r < 0) {
					ops->xs_transaction_end(data, t, true);
					break;
				}
				r = ops->xs_transaction_end(data, t, false);
				if (r != -EAGAIN)
					break;
			}
		}
		if (r < 0)
			fprintf(stderr, "%s: cannot write %s to xenstore: %s\n", h->argv[0], err_path, strerror(-r));
		vifmac_ctx_unref(own);
	}
	xen_log(h, LOG_ERR, "%s", text);
}

/*
 * Refuses the vif: the whole @line to the toolstack (xl's output), the
 * hotplug log and syslog; then fails it with @guest (the short form, for
 * <backend>/hotplug-error, a node the guest can read, where a line naming
 * another domain, its UUID and IP does not belong).
 */
static int __attribute__((noreturn)) refuse(struct hook *h, struct vifmac_ctx *ctx, const char *line,
					    const char *guest)
{
	if (h->xl_fd >= 0)
		dprintf(h->xl_fd, "%s\n", line);
	fprintf(stderr, "%s: %s\n", h->argv[0], line);
	fflush(stderr);
	xen_common(h);
	xen_log(h, LOG_ERR, "%s", line);
	xen_fatal(h, ctx, guest && *guest ? guest : line);
	vifmac_ctx_unref(ctx);
	exit(1);
}

/* Relative names are Xen's scripts, beside this one as the toolstack ran it (/etc/xen/scripts). */
static void chain_path(const char *argv0, const char *chain, char *buf, size_t size)
{
	const char *slash = strrchr(argv0, '/');

	if (chain[0] == '/')
		snprintf(buf, size, "%s", chain);
	else if (slash)
		snprintf(buf, size, "%.*s/%s", (int)(slash - argv0), argv0, chain);
	else
		snprintf(buf, size, "./%s", chain);
}

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int main(int argc, char **argv)
{
	struct hook h = { .argv = argv, .command = argc > 1 ? argv[1] : "", .xl_fd = -1 };
	struct cli cli = { .progname = "vif-vifmac" };
	struct cli_hotplug_outcome out = { .chain = NULL };
	char line[sizeof(out.line) + 64], chain[PATH_MAX];
	bool online;
	int rc;

	log_to_hotplug_log(&h);
	online = strcmp(h.command, "online") == 0 || strcmp(h.command, "add") == 0;
	if (!online && strcmp(h.command, "offline") != 0 && strcmp(h.command, "remove") != 0) {
		cli_snprintf(line, sizeof(line), "vif-vifmac: invalid command: %s", h.command);
		refuse(&h, NULL, line, NULL);
	}

	cli.ctx = vifmac_ctx_new();
	if (!cli.ctx) {
		rc = EXIT_SYSTEM;
		snprintf(out.line, sizeof(out.line), "vif-vifmac: out of memory");
	} else {
		rc = cli_load_policy(&cli);
		if (rc)
			cli_snprintf(out.line, sizeof(out.line), "vif-vifmac: %s", vifmac_ctx_last_error(cli.ctx));
		else
			rc = cli_hotplug(&cli, argc, argv, &out);
	}
	if (rc != EXIT_OK) {
		if (online)
			refuse(&h, cli.ctx, out.line, out.guest[0] ? out.guest : REFUSED_SHORT);
		/* never block an unplug; a claim left behind is reported by "vifmac gc" */
		xen_common(&h);
		xen_log(&h, LOG_WARNING, "vifmac hotplug %s failed (%d): %s", h.command, rc, out.line);
		out.chain = NULL;
	}
	chain_path(argv[0], out.chain ? out.chain : "vif-bridge", chain, sizeof(chain));
	if (!executable(chain)) {
		cli_snprintf(line, sizeof(line), "vif-vifmac: the network script %s does not exist or is not executable",
			     chain);
		if (online)
			refuse(&h, cli.ctx, line, NULL);
		xen_common(&h);
		xen_log(&h, LOG_ERR, "vif-vifmac: cannot chain to %s", chain);
		vifmac_ctx_unref(cli.ctx);
		return 0;
	}
	/* the library's handles (xenstore, netlink, nftables) are not the chained script's */
	vifmac_ctx_unref(cli.ctx);
	cli.ctx = NULL;

	/* same argv and environment; the chained script sets up its own logging */
	stderr_back_to_toolstack(&h);
	argv[0] = chain;
	execv(chain, argv);
	rc = errno;
	log_to_hotplug_log(&h);
	cli_snprintf(line, sizeof(line), "vif-vifmac: cannot run the network script %s: %s", chain, strerror(rc));
	if (online)
		refuse(&h, NULL, line, NULL);
	xen_common(&h);
	xen_log(&h, LOG_ERR, "%s", line);
	return 0;
}
