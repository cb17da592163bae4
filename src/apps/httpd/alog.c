/* The access log file: opened append-only, written a line per write() so
 * workers (threads or processes) never interleave, and reopened in place
 * on SIGHUP (dup2 over the same descriptor, so every thread switches at
 * once) for log rotation. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"

int alog_open(struct alog *a, const char *path)
{
    a->path = NULL;
    if (path && path[0] != '/') {
        /* absolute, so that a reopen after --daemon's chdir("/") finds it */
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            return -errno;
        size_t n = strlen(cwd) + strlen(path) + 2;
        if (!(a->abs = malloc(n)))
            return -ENOMEM;
        snprintf(a->abs, n, "%s/%s", cwd, path);
        path = a->abs;
    }
    a->path = path;
    if (!path) {
        a->fd = dup(STDOUT_FILENO);
        if (a->fd < 0)
            return -errno;
        fcntl(a->fd, F_SETFD, FD_CLOEXEC);
        return 0;
    }
    a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    return a->fd < 0 ? -errno : 0;
}

int alog_reopen(struct alog *a)
{
    if (!a->path || a->fd < 0)
        return 0;
    int fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int r = dup3(fd, a->fd, O_CLOEXEC) < 0 ? -errno : 0;
    close(fd);
    return r;
}

void alog_close(struct alog *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
    free(a->abs);
    a->abs = NULL;
}
