/* A job's held output (see out.h). */
#include "pool/out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* A buffer larger than this is not kept for the next job. */
#define KEEP_CAP (64 * 1024)

void pool_out_init(struct pool_out *o)
{
    memset(o, 0, sizeof *o);
    o->spill = -1;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* An unlinked file in dir: O_TMPFILE, or a named one removed at once. */
static int tmpfile_in(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd < 0 ? -errno : fd;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/ipcbox-pool.XXXXXX", dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    unlink(path);
    return fd;
}

int pool_out_check_dir(const char *dir)
{
    int fd = tmpfile_in(dir);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

int pool_out_add(struct pool_out *o, const char *p, size_t n, size_t *mem, size_t bound,
                 const char *tmpdir)
{
    if (o->spill < 0 && *mem + n <= bound) {
        if (o->cap - o->len < n) {
            size_t cap = o->cap ? o->cap : 256;
            while (cap - o->len < n)
                cap *= 2;
            char *b = realloc(o->buf, cap);
            if (!b)
                return -ENOMEM;
            o->buf = b;
            o->cap = cap;
        }
        memcpy(o->buf + o->len, p, n);
        o->len += n;
        *mem += n;
        return 0;
    }
    if (o->spill < 0) {
        int fd = tmpfile_in(tmpdir);
        if (fd < 0)
            return fd;
        o->spill = fd;
    }
    int r = write_all(o->spill, p, n);
    if (!r)
        o->spilled += n;
    return r;
}

int pool_out_write_tagged(int fd, const char *p, size_t n, const char *tag, size_t taglen,
                          bool *bol)
{
    if (!taglen)
        return write_all(fd, p, n);
    /* one write per batch of lines: tag + line, gathered */
    struct iovec iov[64];
    int k = 0;
    while (n) {
        if (*bol) {
            iov[k++] = (struct iovec){(void *)tag, taglen};
            *bol = false;
        }
        const char *nl = memchr(p, '\n', n);
        size_t l = nl ? (size_t)(nl - p) + 1 : n;
        iov[k++] = (struct iovec){(void *)p, l};
        if (nl)
            *bol = true;
        p += l;
        n -= l;
        if (k >= 62 || !n) {
            /* writev may write less: finish by hand */
            size_t want = 0;
            for (int i = 0; i < k; i++)
                want += iov[i].iov_len;
            ssize_t w;
            while ((w = writev(fd, iov, k)) < 0 && errno == EINTR)
                ;
            if (w < 0)
                return -errno;
            if ((size_t)w < want) {
                size_t skip = (size_t)w;
                for (int i = 0; i < k; i++) {
                    if (skip >= iov[i].iov_len) {
                        skip -= iov[i].iov_len;
                        continue;
                    }
                    int r = write_all(fd, (const char *)iov[i].iov_base + skip,
                                      iov[i].iov_len - skip);
                    if (r)
                        return r;
                    skip = 0;
                }
            }
            k = 0;
        }
    }
    return 0;
}

int pool_out_print(const struct pool_out *o, int fd, const char *tag, size_t taglen,
                   bool *bol)
{
    int r = 0;
    if (o->len)
        r = pool_out_write_tagged(fd, o->buf, o->len, tag, taglen, bol);
    if (r || o->spill < 0)
        return r;
    char chunk[65536];
    off_t off = 0;
    while ((uint64_t)off < o->spilled) {
        ssize_t n = pread(o->spill, chunk, sizeof chunk, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        r = pool_out_write_tagged(fd, chunk, (size_t)n, tag, taglen, bol);
        if (r)
            return r;
        off += n;
    }
    return 0;
}

void pool_out_reset(struct pool_out *o)
{
    if (o->spill >= 0)
        close(o->spill);
    o->spill = -1;
    o->spilled = 0;
    o->len = 0;
    if (o->cap > KEEP_CAP) {
        free(o->buf);
        o->buf = NULL;
        o->cap = 0;
    }
}

void pool_out_free(struct pool_out *o)
{
    pool_out_reset(o);
    free(o->buf);
    pool_out_init(o);
}
