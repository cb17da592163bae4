/* The receiving side of one file: the path is confined to the root
 * directory (openat2 RESOLVE_BENEATH), data goes into a locked hidden
 * temporary file ".NAME.ibxpart" next to the target, which survives an
 * interrupted transfer for a later resume, and nothing is committed until
 * the content on disk hashes to what the sender announced. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "partial.h"
#include "store_int.h"

int xfer_exit_for_code(int code)
{
    switch (code) {
    case IBX_XC_OK:
    case IBX_XC_UNCHANGED:
        return XFER_EXIT_OK;
    case IBX_XC_MISMATCH:
        return XFER_EXIT_MISMATCH;
    case IBX_XC_IO:
    case IBX_XC_SHUTDOWN:
        return XFER_EXIT_IO;
    case IBX_XC_PROTOCOL:
    case IBX_XC_VERSION:
    case IBX_XC_FRAME_SIZE:
    case IBX_XC_HASH_ALGO:
        return XFER_EXIT_PROTOCOL;
    case IBX_XC_AUTH:
        return XFER_EXIT_AUTH;
    default:
        return XFER_EXIT_REFUSED;
    }
}

void xfer_whyf(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, XFER_WHY, fmt, ap);
    va_end(ap);
}

static int openat2_beneath(int dirfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return r < 0 ? -errno : (int)r;
}

/* A refusal for an openat2 failure on a confined path. */
static int path_error(int err, const char *path, char *why)
{
    if (err == -EXDEV || err == -ELOOP) {
        xfer_whyf(why, "%s resolves outside the directory", path);
        return IBX_XC_BAD_NAME;
    }
    if (err == -ENOENT) {
        xfer_whyf(why, "%s: no such file", path);
        return IBX_XC_NOT_FOUND;
    }
    if (err == -ENOTDIR) {
        xfer_whyf(why, "%s: a parent is not a directory", path);
        return IBX_XC_NOT_REGULAR;
    }
    xfer_whyf(why, "%s: %s", path, strerror(-err));
    return IBX_XC_IO;
}

int xfer_open_beneath(int rootfd, const char *path, size_t len, char *why)
{
    char p[IBX_FRAME_PATH_MAX + 1];
    if (ibx_frame_path_check(path, len) < 0) {
        xfer_whyf(why, "unsafe name refused");
        return -IBX_XC_BAD_NAME;
    }
    memcpy(p, path, len);
    p[len] = '\0';
    /* O_NONBLOCK: a FIFO must not stall the server at open */
    int fd = openat2_beneath(rootfd, p, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -path_error(fd, p, why);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        xfer_whyf(why, "%s is not a regular file", p);
        return -IBX_XC_NOT_REGULAR;
    }
    return fd;
}

void xfer_rx_init(struct xfer_rx *rx)
{
    memset(rx, 0, sizeof *rx);
    rx->dirfd = rx->fd = rx->job.fd = rx->mkbase = -1;
    rx->pipe[0] = rx->pipe[1] = -1;
}

bool xfer_rx_tmp_is_ours(const struct xfer_rx *rx)
{
    struct stat a, b;
    return fstat(rx->fd, &a) == 0 &&
           fstatat(rx->dirfd, rx->tmpname, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void xfer_rx_unlink_tmp(struct xfer_rx *rx)
{
    if (rx->locked && !rx->tmp_gone && xfer_rx_tmp_is_ours(rx))
        unlinkat(rx->dirfd, rx->tmpname, 0);
    rx->tmp_gone = true;
}

/* Remove the directories the offer created, deepest first, as long as
 * they are empty (rmdir fails on anything else, and so stops). Each is
 * reached beneath mkbase, the directory the first of them was made in. */
static void drop_made_dirs(struct xfer_rx *rx)
{
    const char *rel = rx->path + rx->mk_from;
    for (int k = (int)rx->mk_levels - 1; k >= 0; k--) {
        size_t start = 0;
        for (int i = 0; i < k; i++)
            start += strcspn(rel + start, "/") + 1;
        size_t len = strcspn(rel + start, "/");
        char name[IBX_FRAME_NAME_MAX + 1], parent[IBX_FRAME_PATH_MAX + 1];
        memcpy(name, rel + start, len);
        name[len] = '\0';
        int pfd = rx->mkbase;
        if (k > 0) {
            memcpy(parent, rel, start - 1);
            parent[start - 1] = '\0';
            pfd = openat2_beneath(rx->mkbase, parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
            if (pfd < 0)
                break;
        }
        int r = unlinkat(pfd, name, AT_REMOVEDIR);
        if (pfd != rx->mkbase)
            close(pfd);
        if (r < 0)
            break;
    }
}

void xfer_rx_drop_partial(struct xfer_rx *rx)
{
    xfer_rx_unlink_tmp(rx);
    if (rx->fd >= 0)
        (void)ftruncate(rx->fd, 0);   /* the space is free before the close */
}

void xfer_rx_close(struct xfer_rx *rx)
{
    struct stat st;
    xfer_hjob_clear(&rx->job);
    ibx_hash_free(rx->vh);
    bool file_left = false;
    if (rx->fd >= 0) {
        /* an empty temporary file holds nothing to resume: remove it
         * while the lock is still ours */
        if (fstat(rx->fd, &st) == 0 && st.st_size == 0)
            xfer_rx_unlink_tmp(rx);
        file_left = !rx->tmp_gone || !rx->locked;
        close(rx->fd);   /* also drops the flock */
    }
    if (rx->mkbase >= 0) {
        /* an offer alone (refused, skipped, abandoned, failed) leaves no
         * empty directory chain behind */
        if (!rx->committed && !file_left)
            drop_made_dirs(rx);
        close(rx->mkbase);
    }
    if (rx->dirfd >= 0)
        close(rx->dirfd);
    if (rx->pipe[0] >= 0) {
        close(rx->pipe[0]);
        close(rx->pipe[1]);
    }
    xfer_rx_init(rx);
}

/* Open (creating as needed) the parent directory of rx->path beneath
 * rootfd into rx->dirfd and set rx->name. Returns 0 or a code. */
static int open_parent(struct xfer_rx *rx, int rootfd, char *why)
{
    char *slash = strrchr(rx->path, '/');
    const char *base = slash ? slash + 1 : rx->path;
    size_t blen = strlen(base);   /* <= IBX_FRAME_NAME_MAX: path checked */
    memcpy(rx->name, base, blen + 1);
    rx->tmpname[0] = '.';
    memcpy(rx->tmpname + 1, base, blen);
    memcpy(rx->tmpname + 1 + blen, PART_SUFFIX, sizeof PART_SUFFIX);
    if (!slash) {
        rx->dirfd = openat2_beneath(rootfd, ".", O_RDONLY | O_DIRECTORY);
        return rx->dirfd < 0 ? path_error(rx->dirfd, ".", why) : 0;
    }
    /* walk the prefixes "a", "a/b", ... each resolved from the root, so
     * that a symlink may point anywhere inside it but never out */
    char prefix[IBX_FRAME_PATH_MAX + 1];
    size_t dlen = (size_t)(slash - rx->path);
    int parent = openat2_beneath(rootfd, ".", O_RDONLY | O_DIRECTORY);
    if (parent < 0)
        return path_error(parent, ".", why);
    for (size_t i = 0; i <= dlen; i++) {
        if (i < dlen && rx->path[i] != '/')
            continue;
        memcpy(prefix, rx->path, i);
        prefix[i] = '\0';
        int fd = openat2_beneath(rootfd, prefix, O_RDONLY | O_DIRECTORY);
        if (fd == -ENOENT) {
            const char *comp = strrchr(prefix, '/');
            comp = comp ? comp + 1 : prefix;
            int made = mkdirat(parent, comp, 0755);
            if (made < 0 && errno != EEXIST) {
                int e = -errno;
                close(parent);
                return path_error(e, prefix, why);
            }
            if (made == 0 && rx->mkbase < 0) {
                /* the first one made: it and all below it are ours */
                rx->mkbase = fcntl(parent, F_DUPFD_CLOEXEC, 0);
                rx->mk_from = (uint16_t)(comp - prefix);
            }
            if (rx->mkbase >= 0)
                rx->mk_levels++;
            fd = openat2_beneath(rootfd, prefix, O_RDONLY | O_DIRECTORY);
        } else if (rx->mkbase >= 0) {
            rx->mk_levels++;   /* made meanwhile by another connection */
        }
        close(parent);
        if (fd < 0)
            return path_error(fd, prefix, why);
        parent = fd;
    }
    rx->dirfd = parent;
    return 0;
}

/* Open and lock the temporary file and check what it is. Returns 0, a
 * code, or -EAGAIN when the name was removed between the open and the
 * lock (a part-file sweep took it): then open again. */
static int open_temp_once(struct xfer_rx *rx, char *why)
{
    rx->fd = openat(rx->dirfd, rx->tmpname,
                    O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (rx->fd < 0 && errno == EWOULDBLOCK) {
        /* leased by the connection receiving it (O_NONBLOCK: no wait) */
        xfer_whyf(why, "%s is being received on another connection", rx->path);
        return IBX_XC_BUSY;
    }
    if (rx->fd < 0) {
        xfer_whyf(why, "%s: temporary file: %s", rx->path, strerror(errno));
        return errno == ELOOP ? IBX_XC_NOT_REGULAR : IBX_XC_IO;
    }
    struct stat st;
    if (fstat(rx->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        xfer_whyf(why, "%s: temporary file is not a regular file", rx->path);
        return IBX_XC_NOT_REGULAR;
    }
    /* a planted hard link would let us chmod, truncate and write a file
     * elsewhere (even outside the directory) through this name */
    if (st.st_nlink != 1) {
        xfer_whyf(why, "%s: temporary file has other hard links", rx->path);
        return IBX_XC_NOT_REGULAR;
    }
    /* ours alone: nobody else may change what we verify */
    if (st.st_uid != geteuid() || ((st.st_mode & 077) && fchmod(rx->fd, 0600) < 0)) {
        xfer_whyf(why, "%s: temporary file belongs to someone else", rx->path);
        return IBX_XC_IO;
    }
    if (flock(rx->fd, LOCK_EX | LOCK_NB) < 0) {
        xfer_whyf(why, "%s is being received on another connection",
                 rx->path);
        return errno == EWOULDBLOCK ? IBX_XC_BUSY : IBX_XC_IO;
    }
    if (!xfer_rx_tmp_is_ours(rx))
        return -EAGAIN;
    rx->locked = true;
    /* in use: a sweep of stale part files (recv --part-ttl) goes by the
     * time of the last use, and never takes a locked file anyway */
    (void)futimens(rx->fd, NULL);
    /* A write lease: any other open() of the file from now on breaks it,
     * and that is how we know whether the bytes hashed while they were
     * written can still be trusted at END. The break is signalled with
     * SIGURG, which is ignored by default; without a lease (someone has
     * the file open, or the file system has no leases) the whole file is
     * re-read at END. */
    rx->leased = fcntl(rx->fd, F_SETSIG, SIGURG) == 0 &&
                 fcntl(rx->fd, F_SETLEASE, F_WRLCK) == 0;
    return 0;
}

/* open_temp_once, again while a sweep races us (bounded). */
static int open_temp(struct xfer_rx *rx, char *why)
{
    for (int i = 0; i < 3; i++) {
        int code = open_temp_once(rx, why);
        if (code != -EAGAIN)
            return code;
        close(rx->fd);
        rx->fd = -1;
    }
    xfer_whyf(why, "%s: temporary file keeps being replaced", rx->path);
    return IBX_XC_BUSY;
}


int xfer_rx_offer_start(struct xfer_rx *rx, int rootfd,
                        const struct ibx_msg_offer *o,
                        const struct xfer_rx_opts *opts,
                        struct ibx_msg_resume *reply, char *why)
{
    xfer_rx_close(rx);
    memset(reply, 0, sizeof *reply);
    if (ibx_frame_path_check(o->path, o->path_len) < 0) {
        /* never echo the raw name: it may hold control characters */
        xfer_whyf(why, "unsafe name refused");
        return IBX_XC_BAD_NAME;
    }
    memcpy(rx->path, o->path, o->path_len);
    rx->path[o->path_len] = '\0';
    int levels = 0;
    for (size_t i = 0; i < o->path_len; i++)
        levels += o->path[i] == '/';
    if (opts->max_depth && levels > opts->max_depth) {
        /* deeper than recv lists and sweeps: never listed, never expired */
        xfer_whyf(why, "%.120s...: %d directory levels, more than the limit of %d",
                  rx->path, levels, opts->max_depth);
        return IBX_XC_BAD_NAME;
    }
    if (!ibx_hash_algo_len(o->algo)) {
        xfer_whyf(why, "%s: unsupported hash algorithm %u", rx->path, o->algo);
        return IBX_XC_HASH_ALGO;
    }
    if (opts->max_size && o->size > opts->max_size) {
        xfer_whyf(why, "%s: %llu bytes is above the limit of %llu",
                 rx->path, (unsigned long long)o->size,
                 (unsigned long long)opts->max_size);
        return IBX_XC_TOO_BIG;
    }
    rx->size = o->size;
    rx->mode = xfer_rx_mode(opts, o->mode);
    rx->mtime_sec = o->mtime_sec;
    rx->mtime_nsec = o->mtime_nsec;
    rx->algo = o->algo;
    rx->overwrite = (o->flags & IBX_OFFER_OVERWRITE) && opts->allow_overwrite;

    int code = open_parent(rx, rootfd, why);
    if (code)
        return code;

    /* the target first: refusals must not leave a temporary file */
    reply->algo = (uint8_t)rx->algo;
    struct stat st;
    bool same_size = false;
    if (fstatat(rx->dirfd, rx->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) {
            int fd = openat2_beneath(rx->dirfd, rx->name, O_PATH);
            if (fd >= 0)
                close(fd);
            bool out = fd == -EXDEV || fd == -ELOOP;
            xfer_whyf(why, out ? "%s is a symlink that resolves outside the directory"
                               : "%s is a symlink; refusing to replace it", rx->path);
            return out ? IBX_XC_BAD_NAME : IBX_XC_NOT_REGULAR;
        }
        if (!S_ISREG(st.st_mode)) {
            xfer_whyf(why, "%s exists and is not a regular file", rx->path);
            return IBX_XC_NOT_REGULAR;
        }
        same_size = (uint64_t)st.st_size == rx->size;
        if (!same_size && !rx->overwrite) {
            xfer_whyf(why, "%s exists with different content "
                      "(send with --overwrite to replace it)", rx->path);
            return IBX_XC_EXISTS;
        }
    } else if (errno != ENOENT) {
        xfer_whyf(why, "%s: %s", rx->path, strerror(errno));
        return IBX_XC_IO;
    }
    code = open_temp(rx, why);
    if (code)
        return code;
    if (same_size) {
        int fd = openat(rx->dirfd, rx->name, O_RDONLY | O_NOFOLLOW |
                        O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            xfer_whyf(why, "%s: %s", rx->path, strerror(errno));
            return IBX_XC_IO;
        }
        rx->existing = true;
        rx->proposed = rx->size;
        reply->offset = rx->size;
        reply->flags = IBX_RESUME_EXISTING;
        return xfer_rx_job(rx, fd, true, rx->size, XFER_PEND_OFFER, why);
    }

    /* a partial temporary file from an interrupted run: propose it */
    if (fstat(rx->fd, &st) < 0) {
        xfer_whyf(why, "%s: %s", rx->path, strerror(errno));
        return IBX_XC_IO;
    }
    uint64_t have = (uint64_t)st.st_size;
    if (have > rx->size) {
        if (ftruncate(rx->fd, 0) < 0) {
            xfer_whyf(why, "%s: %s", rx->path, strerror(errno));
            return IBX_XC_IO;
        }
        have = 0;
    }
    rx->proposed = have;
    reply->offset = have;
    if (have > 0)
        return xfer_rx_job(rx, rx->fd, false, have, XFER_PEND_OFFER, why);
    return 0;
}

int xfer_rx_offer_finish(struct xfer_rx *rx, struct ibx_msg_resume *reply,
                         char *why)
{
    uint8_t d[IBX_FRAME_HASH_MAX];
    int n = rx->pending == XFER_PEND_OFFER ? ibx_hash_digest(rx->job.h, d) : -EINVAL;
    if (n >= 0 && !rx->existing && rx->job.own_h) {
        /* the prefix of our own file: the verification goes on from it */
        rx->vh = rx->job.h;
        rx->vpos = rx->job.end;
        rx->job.own_h = false;
    }
    xfer_hjob_clear(&rx->job);
    rx->pending = 0;
    if (n < 0) {
        xfer_whyf(why, "%s: hashing failed", rx->path);
        return IBX_XC_IO;
    }
    if (rx->existing)
        memcpy(rx->exist_hash, d, (size_t)n);
    reply->hash_len = (uint8_t)n;
    memcpy(reply->hash, d, (size_t)n);
    return 0;
}

int xfer_rx_offer(struct xfer_rx *rx, int rootfd, const struct ibx_msg_offer *o,
                  const struct xfer_rx_opts *opts, struct ibx_msg_resume *reply,
                  char *why)
{
    int code = xfer_rx_offer_start(rx, rootfd, o, opts, reply, why);
    if (code == XFER_PENDING)
        code = xfer_rx_job_run(rx, why);
    if (code == 0 && rx->pending)
        code = xfer_rx_offer_finish(rx, reply, why);
    return code;
}

int xfer_rx_confirm(struct xfer_rx *rx, const struct ibx_msg_resume *c,
                    char *why)
{
    if (rx->fd < 0 || rx->started ||
        (c->offset != 0 && c->offset != rx->proposed)) {
        xfer_whyf(why, "%s: bad resume offset %llu", rx->path,
                 (unsigned long long)c->offset);
        return IBX_XC_PROTOCOL;
    }
    rx->started = true;
    if (rx->existing && c->offset == rx->size && rx->size == rx->proposed) {
        rx->unchanged = true;   /* END must carry the same digest */
        rx->pos = rx->size;
        rx->resumed_from = rx->size;
        return 0;
    }
    if (rx->existing && !rx->overwrite) {
        xfer_whyf(why, "%s exists with different content "
                 "(send with --overwrite to replace it)", rx->path);
        return IBX_XC_EXISTS;
    }
    if (c->offset == 0 && ftruncate(rx->fd, 0) < 0) {
        xfer_whyf(why, "%s: %s", rx->path, strerror(errno));
        return IBX_XC_IO;
    }
    rx->pos = c->offset;
    rx->resumed_from = c->offset;
    /* the verification hash follows the file from its first byte */
    if (c->offset == 0 || !rx->vh || rx->vpos != c->offset) {
        ibx_hash_free(rx->vh);
        rx->vh = NULL;
        rx->vpos = 0;
        if (ibx_hash_new(&rx->vh, rx->algo) < 0)
            rx->vh = NULL;   /* fine: END re-reads the whole file */
    }
    return 0;
}

int xfer_rx_write(struct xfer_rx *rx, const void *p, size_t n, char *why)
{
    if (!rx->started || rx->unchanged || n > xfer_rx_left(rx)) {
        xfer_whyf(why, "%s: more data than offered", rx->path);
        return IBX_XC_PROTOCOL;
    }
    while (n > 0) {
        ssize_t w = pwrite(rx->fd, p, n, (off_t)rx->pos);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            xfer_whyf(why, "%s: write: %s", rx->path,
                     w < 0 ? strerror(errno) : "short write");
            return IBX_XC_IO;
        }
        p = (const char *)p + w;
        n -= (size_t)w;
        rx->pos += (uint64_t)w;
    }
    return 0;
}

ssize_t xfer_rx_pump(struct xfer_rx *rx, int sock, size_t max)
{
    if (!rx->started || rx->unchanged)
        return -EPROTO;
    if (max > xfer_rx_left(rx))
        max = (size_t)xfer_rx_left(rx);
    if (max == 0)
        return -EPROTO;
    if (rx->pipe[0] < 0) {
        if (pipe2(rx->pipe, O_CLOEXEC) < 0)
            return -errno;
        (void)fcntl(rx->pipe[1], F_SETPIPE_SZ, 1 << 20);
    }
    ssize_t got = splice(sock, NULL, rx->pipe[1], NULL, max, SPLICE_F_MOVE);
    if (got < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    for (ssize_t left = got; left > 0;) {
        loff_t off = (loff_t)rx->pos;
        ssize_t w = splice(rx->pipe[0], NULL, rx->fd, &off, (size_t)left,
                           SPLICE_F_MOVE);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        rx->pos += (uint64_t)w;
        left -= w;
    }
    return got;
}


/* "1.5 MiB" style, for reasons. */
static const char *fmt_size(uint64_t n, char *buf, size_t size)
{
    return progress_fmt_bytes((double)n, buf, (unsigned)size);
}

int xfer_rx_space_check(const struct xfer_rx *rx, uint64_t other_bytes,
                        uint64_t reserve_bytes, unsigned reserve_pct,
                        uint64_t *need, char *why)
{
    struct statvfs vfs;
    /* an existing file of the same size needs nothing while it may be
     * found unchanged; replacing it writes a whole new file beside it */
    if (rx->existing)
        *need = rx->started && !rx->unchanged ? rx->size : 0;
    else
        *need = rx->size - rx->proposed;
    if (fstatvfs(rx->dirfd, &vfs) < 0 || vfs.f_frsize == 0)
        return 0;   /* unknown: ENOSPC during the transfer still drops it */
    uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    uint64_t reserve = reserve_pct ? (uint64_t)vfs.f_blocks * vfs.f_frsize / 100 * reserve_pct
                                   : reserve_bytes;
    uint64_t want = *need;
    bool fits = want <= avail && other_bytes <= avail - want &&
                reserve <= avail - want - other_bytes;
    if (fits)
        return 0;
    char a[32], b[32], r[32], o[32];
    xfer_whyf(why, "%.120s: %s do not fit: %s free on the receiver, %s kept free "
              "(--min-free)%s%s%s", rx->path, fmt_size(want, b, sizeof b),
              fmt_size(avail, a, sizeof a), fmt_size(reserve, r, sizeof r),
              other_bytes ? ", " : "", other_bytes ? fmt_size(other_bytes, o, sizeof o) : "",
              other_bytes ? " promised to uploads in progress" : "");
    return IBX_XC_TOO_BIG;
}
