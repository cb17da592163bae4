/* Confined path resolution: every file the server opens is opened relative
 * to the root directory fd with openat2(RESOLVE_BENEATH), so neither ".."
 * nor a symlink can lead outside ROOT (symlinks that stay inside are
 * followed). Kernels without openat2 get openat() plus a check of the
 * opened file's real path against the root's. --follow-symlinks lifts the
 * symlink confinement (the path itself is normalised and cannot climb).
 *
 * Hidden names are refused here, so every open (static files, listings,
 * CGI scripts) obeys one rule: a path with a component starting with '.'
 * is "not found" (404, so existence does not leak) unless --show-hidden,
 * except ".well-known" (RFC 8615); a component naming an upload in
 * progress (partial.h) is not found under any flag. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "httpd.h"
#include "partial.h"

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

bool fs_name_visible(const struct httpd_cfg *cfg, const char *name, size_t len)
{
    if (partial_name(name, len))
        return false;
    if (!len || name[0] != '.' || cfg->show_hidden)
        return true;
    return len == 11 && memcmp(name, ".well-known", 11) == 0;
}

bool fs_path_visible(const struct httpd_cfg *cfg, const char *path)
{
    while (*path) {
        const char *end = strchr(path, '/');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n && !fs_name_visible(cfg, path, n))
            return false;
        if (!end)
            break;
        path = end + 1;
    }
    return true;
}

int fs_open(const struct httpd_cfg *cfg, const char *path, int flags)
{
    if (!fs_path_visible(cfg, path))
        return -ENOENT;
    const char *rel = path[0] == '/' ? path + 1 : path;
    if (!*rel)
        rel = ".";
    /* openat2 refuses flags O_PATH ignores */
    flags |= (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
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

int fs_open_at(const struct httpd_cfg *cfg, int dirfd, const char *name, int flags)
{
    size_t n = strlen(name);
    if (!n || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
        (flags & O_PATH))
        return -EINVAL;
    if (!fs_name_visible(cfg, name, n))
        return -ENOENT;
    flags |= O_CLOEXEC | O_NOCTTY;
    if (cfg->follow_symlinks) {
        int fd = openat(dirfd, name, flags);
        return fd < 0 ? -errno : fd;
    }
    /* one component: only a symlink can lead elsewhere */
    int fd = openat(dirfd, name, flags | O_NOFOLLOW);
    if (fd >= 0)
        return fd;
    if (errno != ELOOP)
        return -errno;
    /* a symlink: follow it, then check where the open file is (the
     * descriptor itself, so nothing can be swapped after the check) */
    fd = openat(dirfd, name, flags);
    if (fd < 0)
        return -errno;
    char real[HTTPD_PATH_MAX + 256];
    int r = fd_path(fd, real, sizeof real);
    if (r < 0 || !inside(cfg->root_real, real)) {
        close(fd);
        return r < 0 ? r : -EXDEV;
    }
    return fd;
}

int fs_stat_entry(const struct httpd_cfg *cfg, int dirfd, const char *dirpath,
                  const char *name, struct stat *st)
{
    if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (!S_ISLNK(st->st_mode))
        return 0;
    char path[HTTPD_PATH_MAX + 2];
    size_t dn = strlen(dirpath);
    bool slash = dn && dirpath[dn - 1] == '/';
    if ((size_t)snprintf(path, sizeof path, "%s%s%s", dirpath, slash ? "" : "/",
                         name) >= sizeof path)
        return -ENAMETOOLONG;
    int fd = fs_open(cfg, path, O_PATH);
    if (fd < 0)
        return fd;
    int r = fstat(fd, st) < 0 ? -errno : 0;
    close(fd);
    return r;
}
