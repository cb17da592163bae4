/* Where a server applet's log lines go, and log rotation.
 *
 *   default                 stderr
 *   --log-file FILE         FILE, appended to; SIGHUP reopens it (logrotate:
 *                           move the file, then kill -HUP; nothing is lost)
 *   --daemon, no --log-file syslog (/dev/log, facility LOG_DAEMON), the
 *                           way sshd, dnsmasq or in.tftpd log when detached;
 *                           without a syslog socket the applet refuses to
 *                           detach (exit 1) instead of logging into nothing
 *
 * Wiring (in the applet or the option framework):
 *   1. after parsing, before any service init and before daemonizing:
 *        if (logsink_open(&sink, &cli.log, log_file, cli.daemon) < 0) return 1;
 *   2. once the server exists:  logsink_watch(&sink, srv);   (SIGHUP)
 *   3. at exit:                 logsink_close(&sink);
 * Copies of the logger made after step 1 (serve's per-service tags) write
 * to the same descriptor and follow a reopen. */
#ifndef IPCBOX_APPS_LOGSINK_H
#define IPCBOX_APPS_LOGSINK_H

#include <stdbool.h>

#include "ipcbox/log.h"
#include "ipcbox/server.h"

/* The destination of one logger. */
struct logsink {
    ibx_log *log;
    char *path;        /* absolute --log-file path (owned), or NULL */
    int fd;            /* the descriptor opened for log, or -1 */
};

/* Point log at --log-file path (appended to; a relative path is made
 * absolute, as a daemon changes directory to /), or, when daemon is set
 * and path is NULL, at syslog; otherwise leave it on stderr. Call while
 * stderr still reaches the user: a failure is written there. Returns 0
 * or -errno (the applet then exits 1). */
int logsink_open(struct logsink *s, ibx_log *log, const char *path, bool daemon);
/* Reopen the log file on SIGHUP (nothing to do without --log-file).
 * Returns 0 or -errno (ibx_server_on_signal). */
int logsink_watch(struct logsink *s, ibx_server *srv);
/* Reopen the log file now (what SIGHUP does). Returns 0 or -errno. */
int logsink_reopen(struct logsink *s);
/* Close what logsink_open opened; log goes back to stderr. */
void logsink_close(struct logsink *s);

#endif
