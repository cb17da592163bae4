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

#include "partial.h"
#include "xfer_list.h"
#include "xfer_parts.h"

struct xfer_sweep {
    uint64_t ttl_s;
    unsigned in_use;
    struct xfer_walk w;
};

bool xfer_is_part_name(const char *name)
{
    size_t n = strlen(name), k = sizeof PART_SUFFIX - 1;
    return n > k + 1 && name[0] == '.' && memcmp(name + n - k, PART_SUFFIX, k) == 0;
}

int xfer_sweep_open(struct xfer_sweep **out, int rootfd, uint64_t ttl_s,
                    int max_depth)
{
    struct xfer_sweep *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    int r = xfer_walk_open(&s->w, rootfd, max_depth);
    if (r < 0) {
        free(s);
        return r;
    }
    s->ttl_s = ttl_s;
    *out = s;
    return 0;
}

void xfer_sweep_close(struct xfer_sweep *s)
{
    if (!s)
        return;
    xfer_walk_close(&s->w);
    free(s);
}

unsigned xfer_sweep_missed(const struct xfer_sweep *s, char *why, size_t size)
{
    return xfer_walk_missed(&s->w, why, size);
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
    struct xfer_walk_entry e;
    if (xfer_walk_step(&s->w, &e) == 0)
        return XFER_SWEEP_DONE;
    if (S_ISDIR(e.st.st_mode)) {
        /* only directories a transfer can name hold part files */
        if (ibx_frame_path_check(e.path, e.len) == 0)
            (void)xfer_walk_enter(&s->w, &e);
        return XFER_SWEEP_MORE;
    }
    if (!S_ISREG(e.st.st_mode) || !xfer_is_part_name(e.name) || age_of(&e.st) <= s->ttl_s)
        return XFER_SWEEP_MORE;
    memset(out, 0, sizeof *out);
    out->path = e.path;
    return remove_part(s, e.dfd, e.name, out);
}
