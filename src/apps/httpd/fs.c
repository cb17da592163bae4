/* Confined path resolution: every file the server opens is opened relative
 * to the root directory fd with openat2(RESOLVE_BENEATH), so neither ".."
 * nor a symlink can lead outside ROOT (symlinks that stay inside are
 * followed). Kernels without openat2 get openat() plus a check of the
 * opened file's real path against the root's. --follow-symlinks lifts the
 * symlink confinement (the path itself is normalised and cannot climb). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "httpd.h"

/* The path of an open fd, from /proc. Returns 0 or -errno. */
static int fd_path(int fd, char *buf, size_t size)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(proc, buf, size - 1);
    if (n < 0)
        return -errno;
    if ((size_t)n >= size - 1)
        return -ENAMETOOLONG;
    buf[n] = '\0';
    return 0;
}

static bool inside(const char *root, const char *p)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/')
        return true;
    return strncmp(root, p, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

int fs_open(const struct httpd_cfg *cfg, const char *path, int flags)
{
    const char *rel = path[0] == '/' ? path + 1 : path;
    if (!*rel)
        rel = ".";
    flags |= O_CLOEXEC | (flags & O_PATH ? 0 : O_NOCTTY);   /* openat2: O_PATH takes no O_NOCTTY */
    if (cfg->follow_symlinks) {
        int fd = openat(cfg->root_fd, rel, flags);
        return fd < 0 ? -errno : fd;
    }
    struct open_how how = {
        .flags = (uint64_t)flags,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, cfg->root_fd, rel, &how, sizeof how);
    if (fd >= 0)
        return (int)fd;
    if (errno != ENOSYS)
        return -errno;
    /* no openat2: open, then verify where we landed */
    int f = openat(cfg->root_fd, rel, flags);
    if (f < 0)
        return -errno;
    char real[HTTPD_PATH_MAX + 256];
    int r = fd_path(f, real, sizeof real);
    if (r < 0 || !inside(cfg->root_real, real)) {
        close(f);
        return r < 0 ? r : -EXDEV;
    }
    return f;
}
