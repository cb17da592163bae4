/* Confined file access for the TFTP server (see root.h). */
#include "root.h"
#include "partial.h"
#include "stale.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int root_check_name(const char *name, const char **rel)
{
    while (*name == '/')
        name++;
    size_t len = strlen(name);
    if (!len || len >= PATH_MAX)
        return -EACCES;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return -EACCES;
    /* refuse ".." as any component, even where it would stay inside */
    for (const char *c = name; c; c = strchr(c, '/')) {
        if (*c == '/')
            c++;
        if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == 0))
            return -EACCES;
    }
    /* uploads in progress (ours, recv's) are neither read nor written */
    if (partial_path(name))
        return -EACCES;
    *rel = name;
    return 0;
}

/* Open path below dirfd without ever leaving it. */
static int open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0)
        return (int)fd;
    if (errno == EXDEV || errno == ELOOP)
        return -EACCES;   /* the path tried to leave the root */
    if (errno != ENOSYS)
        return -errno;
    /* old kernel: walk the components, following no symlink at all */
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    int cur = dup(dirfd);
    if (cur < 0)
        return -errno;
    char *save = NULL, *part = strtok_r(buf, "/", &save);
    while (part) {
        char *next = strtok_r(NULL, "/", &save);
        int f = next ? O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                     : flags | O_NOFOLLOW | O_CLOEXEC;
        int nfd = openat(cur, part, f, mode);
        int e = errno;
        close(cur);
        if (nfd < 0)
            return e == ELOOP || e == ENOTDIR ? -EACCES : -e;
        cur = nfd;
        part = next;
    }
    return cur;
}

int root_open_read(int rootfd, const char *name, uint64_t *size)
{
    const char *rel;
    struct stat st;
    if (root_check_name(name, &rel) < 0)
        return -EACCES;
    /* O_NONBLOCK: opening a FIFO must not stall the loop */
    int fd = open_beneath(rootfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EACCES;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

int root_upload_begin(struct root_upload *u, int rootfd, const char *name,
                      bool create, bool overwrite)
{
    const char *rel;
    struct stat st;
    memset(u, 0, sizeof *u);
    u->fd = u->dirfd = -1;
    if (root_check_name(name, &rel) < 0)
        return -EACCES;
    const char *slash = strrchr(rel, '/');
    const char *base = slash ? slash + 1 : rel;
    if (!*base || !strcmp(base, "."))
        return -EACCES;
    if (slash) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - rel), rel);
        u->dirfd = open_beneath(rootfd, dir, O_PATH | O_DIRECTORY, 0);
    } else {
        u->dirfd = dup(rootfd);
        if (u->dirfd < 0)
            u->dirfd = -errno;
    }
    if (u->dirfd < 0) {
        int e = u->dirfd;
        u->dirfd = -1;
        return e == -ENOTDIR ? -ENOENT : e;
    }
    int r = 0;
    if (fstatat(u->dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISREG(st.st_mode))
            r = -EACCES;
        else if (!overwrite)
            r = -EEXIST;
    } else if (errno != ENOENT) {
        r = -errno;
    } else if (!create) {
        r = -EACCES;
    }
    if (!r) {
        u->base = strdup(base);
        if (!u->base)
            r = -ENOMEM;
    }
    for (int tries = 0; !r && tries < 8; tries++) {
        uint8_t rnd[6];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            r = -EIO;
            break;
        }
        snprintf(u->tmp, sizeof u->tmp, TFTP_TMP_PREFIX "%02x%02x%02x%02x%02x%02x",
                 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
        u->fd = openat(u->dirfd, u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
                       O_NOFOLLOW, 0644);
        if (u->fd >= 0) {
            /* held while we write: a restart removes it only once we are
             * gone (stale.h) */
            (void)tftpd_tmp_lock(u->fd);
            break;
        }
        if (errno != EEXIST)
            r = -errno;
    }
    if (!r && u->fd < 0)
        r = -EEXIST;
    if (r) {
        free(u->base);
        u->base = NULL;
        close(u->dirfd);
        u->dirfd = -1;
        u->tmp[0] = 0;
        return r;
    }
    u->replace = overwrite;
    return 0;
}

static void upload_close(struct root_upload *u)
{
    if (u->fd >= 0)
        close(u->fd);
    if (u->dirfd >= 0)
        close(u->dirfd);
    free(u->base);
    u->fd = u->dirfd = -1;
    u->base = NULL;
    u->tmp[0] = 0;
}

int root_upload_commit(struct root_upload *u)
{
    int r = 0;
    if (fsync(u->fd) < 0)
        r = -errno;
    else if (renameat2(u->dirfd, u->tmp, u->dirfd, u->base,
                       u->replace ? 0 : RENAME_NOREPLACE) < 0)
        r = -errno;
    if (r)
        unlinkat(u->dirfd, u->tmp, 0);
    upload_close(u);
    return r;
}

void root_upload_abort(struct root_upload *u)
{
    if (u->dirfd >= 0 && u->tmp[0])
        unlinkat(u->dirfd, u->tmp, 0);
    upload_close(u);
}
