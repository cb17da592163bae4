/* Sweeping stale part files (see xfer_parts.h). The walk never follows a
 * symlink and never leaves the root; a file is removed only under its
 * own lock, so a transfer that is using it (which holds that lock from
 * its OFFER to its END) keeps it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xfer_list.h"
#include "xfer_parts.h"

#define PART_SUFFIX ".ibxpart"

struct xfer_sweep {
    uint64_t ttl_s;
    unsigned in_use;
    int depth;                      /* open levels in d[] */
    DIR *d[XFER_LIST_DEPTH];
    size_t plen[XFER_LIST_DEPTH];   /* path length at each level */
    char path[IBX_FRAME_PATH_MAX + 2];
};

bool xfer_is_part_name(const char *name)
{
    size_t n = strlen(name), k = sizeof PART_SUFFIX - 1;
    return n > k + 1 && name[0] == '.' && memcmp(name + n - k, PART_SUFFIX, k) == 0;
}

int xfer_sweep_open(struct xfer_sweep **out, int rootfd, uint64_t ttl_s)
{
    struct xfer_sweep *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(s->d[0] = fdopendir(fd))) {
        int e = -errno;
        if (fd >= 0)
            close(fd);
        free(s);
        return e;
    }
    s->depth = 1;
    s->ttl_s = ttl_s;
    *out = s;
    return 0;
}

void xfer_sweep_close(struct xfer_sweep *s)
{
    if (!s)
        return;
    while (s->depth > 0)
        closedir(s->d[--s->depth]);
    free(s);
}

unsigned xfer_sweep_in_use(const struct xfer_sweep *s)
{
    return s->in_use;
}

/* Seconds since st was last modified (0 if in the future). */
static uint64_t age_of(const struct stat *st)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec > st->st_mtim.tv_sec ? (uint64_t)(now.tv_sec - st->st_mtim.tv_sec) : 0;
}

/* Remove the stale part file name of directory dfd under its lock, after
 * checking again that it is the file that was found and still stale.
 * Returns XFER_SWEEP_MORE (in use, or gone meanwhile), _REMOVED or
 * _FAILED (out->err). */
static int remove_part(struct xfer_sweep *s, int dfd, const char *name,
                       struct xfer_swept *out)
{
    /* O_NONBLOCK: a file under a transfer's write lease fails at once
     * (EWOULDBLOCK) instead of waiting for the lease to be given up */
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == EWOULDBLOCK)
            s->in_use++;
        if (errno == EWOULDBLOCK || errno == ENOENT)
            return XFER_SWEEP_MORE;
        out->err = -errno;
        return XFER_SWEEP_FAILED;
    }
    int r = XFER_SWEEP_MORE;
    struct stat a, b;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            s->in_use++;
        } else {
            out->err = -errno;
            r = XFER_SWEEP_FAILED;
        }
    } else if (fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && a.st_nlink == 1 &&
               a.st_uid == geteuid() && age_of(&a) > s->ttl_s &&
               fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
               a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        /* a transfer that opened it before this point and locks it after
         * finds its name gone and opens a fresh one (store.c) */
        out->size = (uint64_t)a.st_size;
        out->age_s = age_of(&a);
        if (unlinkat(dfd, name, 0) == 0) {
            r = XFER_SWEEP_REMOVED;
        } else if (errno != ENOENT) {
            out->err = -errno;
            r = XFER_SWEEP_FAILED;
        }
    }
    close(fd);   /* drops the lock */
    return r;
}

int xfer_sweep_next(struct xfer_sweep *s, struct xfer_swept *out)
{
    while (s->depth > 0) {
        DIR *d = s->d[s->depth - 1];
        size_t base = s->plen[s->depth - 1];
        struct dirent *de = readdir(d);
        if (!de) {
            closedir(d);
            s->depth--;
            continue;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            return XFER_SWEEP_MORE;
        size_t nl = strlen(de->d_name);
        size_t len = base + (base ? 1 : 0) + nl;
        if (len > IBX_FRAME_PATH_MAX)
            return XFER_SWEEP_MORE;
        if (base)
            s->path[base] = '/';
        memcpy(s->path + base + (base ? 1 : 0), de->d_name, nl + 1);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return XFER_SWEEP_MORE;
        if (S_ISDIR(st.st_mode)) {
            /* only directories a transfer can name hold part files */
            if (s->depth >= XFER_LIST_DEPTH || ibx_xfer_path_check(s->path, len) < 0)
                return XFER_SWEEP_MORE;
            int fd = openat(dirfd(d), de->d_name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            DIR *sub = fd >= 0 ? fdopendir(fd) : NULL;
            if (!sub) {
                if (fd >= 0)
                    close(fd);
                return XFER_SWEEP_MORE;
            }
            s->d[s->depth] = sub;
            s->plen[s->depth] = len;
            s->depth++;
            return XFER_SWEEP_MORE;
        }
        if (!S_ISREG(st.st_mode) || !xfer_is_part_name(de->d_name) ||
            age_of(&st) <= s->ttl_s)
            return XFER_SWEEP_MORE;
        memset(out, 0, sizeof *out);
        out->path = s->path;
        return remove_part(s, dirfd(d), de->d_name, out);
    }
    return XFER_SWEEP_DONE;
}
