/* Log destinations of server applets: --log-file (SIGHUP reopens it) and
 * syslog under --daemon (see logsink.h). */
#include "logsink.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    size_t n = strlen(cwd) + 1 + strlen(path) + 1;
    char *abs = malloc(n);
    if (abs)
        snprintf(abs, n, "%s/%s", cwd, path);
    return abs;
}

int logsink_open(struct logsink *s, ibx_log *log, const char *path, bool daemon)
{
    s->log = log;
    s->path = NULL;
    s->fd = -1;
    if (path) {
        s->path = absolute(path);
        if (!s->path) {
            ibx_err(log, "msg=\"cannot open the log file\" path=%s reason=%s", path,
                    strerror(errno ? errno : ENOMEM));
            return -(errno ? errno : ENOMEM);
        }
        int r = ibx_log_open_file(log, s->path);
        if (r < 0) {
            ibx_err(log, "msg=\"cannot open the log file\" path=%s reason=%s", s->path,
                    strerror(-r));
            free(s->path);
            s->path = NULL;
            return r;
        }
        s->fd = log->fd;
        return 0;
    }
    if (!daemon)
        return 0;
    int r = ibx_log_open_syslog(log, LOG_DAEMON, NULL);
    if (r < 0) {
        ibx_err(log, "msg=\"--daemon: no syslog to log to (/dev/log); give --log-file "
                "FILE\" reason=%s", strerror(-r));
        return r;
    }
    s->fd = log->fd;
    return 0;
}

int logsink_reopen(struct logsink *s)
{
    if (!s->path)
        return 0;
    int r = ibx_log_reopen_file(s->log, s->path);
    if (r < 0)
        ibx_err(s->log, "msg=\"cannot reopen the log file\" path=%s reason=%s", s->path,
                strerror(-r));
    else
        ibx_info(s->log, "msg=\"log file reopened\" path=%s", s->path);
    return r;
}

static void on_hup(ibx_loop *loop, int signo, void *data)
{
    logsink_reopen(data);
}

int logsink_watch(struct logsink *s, ibx_server *srv)
{
    return s->path ? ibx_server_on_signal(srv, SIGHUP, on_hup, s) : 0;
}

void logsink_close(struct logsink *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        s->log->fd = 2;
        s->log->syslog_facility = 0;
    }
    s->fd = -1;
    free(s->path);
    s->path = NULL;
}
