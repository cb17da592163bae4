/* The sending side of one file: the OFFER, the answer to the receiver's
 * RESUME (hash our own prefix, keep the offset only if the digests
 * agree), and reads that hash the bytes as they go out, so the data is
 * hashed while it is hot in the cache and read from the file only once. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xfer.h"

int xfer_tx_open(struct xfer_tx *tx, int fd, const char *path, int algo,
                 uint8_t flags)
{
    memset(tx, 0, sizeof *tx);
    tx->fd = tx->job.fd = -1;
    size_t len = strlen(path);
    struct stat st;
    int r = 0;
    if (len > IBX_FRAME_PATH_MAX)
        r = -ENAMETOOLONG;
    else if (fstat(fd, &st) < 0)
        r = -errno;
    else if (!S_ISREG(st.st_mode))
        r = -EINVAL;
    else
        r = ibx_hash_new(&tx->hash, algo);
    if (r < 0) {
        close(fd);
        return r;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    tx->fd = fd;
    tx->size = (uint64_t)st.st_size;
    memcpy(tx->path, path, len + 1);
    tx->offer.size = tx->size;
    tx->offer.mode = st.st_mode & 07777;
    tx->offer.mtime_sec = st.st_mtim.tv_sec;
    tx->offer.mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
    tx->offer.algo = (uint8_t)algo;
    tx->offer.flags = flags;
    tx->offer.path = tx->path;
    tx->offer.path_len = (uint16_t)len;
    return 0;
}

void xfer_tx_close(struct xfer_tx *tx)
{
    xfer_hjob_clear(&tx->job);
    if (tx->fd >= 0)
        close(tx->fd);
    ibx_hash_free(tx->hash);
    tx->fd = -1;
    tx->hash = NULL;
}

int xfer_tx_resume_start(struct xfer_tx *tx, const struct ibx_msg_resume *r,
                         struct ibx_msg_resume *confirm, char *why)
{
    memset(confirm, 0, sizeof *confirm);
    confirm->algo = tx->offer.algo;
    bool existing = r->flags & IBX_RESUME_EXISTING;
    if (r->offset > tx->size || (r->hash_len && r->algo != tx->offer.algo) ||
        (existing && r->offset != tx->size)) {
        xfer_whyf(why, "%s: receiver proposed a bad resume", tx->path);
        return IBX_XC_PROTOCOL;
    }
    ibx_hash_reset(tx->hash);
    tx->pos = 0;
    if (r->offset == 0 && !existing)
        return 0;
    tx->proposal = *r;
    xfer_hjob_start(&tx->job, tx->hash, false, tx->fd, false, 0, r->offset);
    return XFER_PENDING;
}

int xfer_tx_step(struct xfer_tx *tx, uint64_t budget)
{
    return tx->job.active ? xfer_hjob_step(&tx->job, budget) : 1;
}

int xfer_tx_resume_finish(struct xfer_tx *tx, struct ibx_msg_resume *confirm,
                          char *why)
{
    const struct ibx_msg_resume *r = &tx->proposal;
    bool existing = r->flags & IBX_RESUME_EXISTING;
    uint8_t mine[IBX_FRAME_HASH_MAX];
    memset(confirm, 0, sizeof *confirm);
    confirm->algo = tx->offer.algo;
    xfer_hjob_clear(&tx->job);
    if (ibx_hash_digest(tx->hash, mine) < 0) {
        xfer_whyf(why, "%s: hashing failed", tx->path);
        return IBX_XC_IO;
    }
    if (memcmp(mine, r->hash, r->hash_len) == 0) {
        /* keep the hash state: it already covers the prefix */
        tx->pos = r->offset;
        tx->resumed_from = r->offset;
        tx->skip_data = existing;
        confirm->offset = r->offset;
        confirm->hash_len = r->hash_len;
        memcpy(confirm->hash, r->hash, r->hash_len);
        return 0;
    }
    if (existing && !(tx->offer.flags & IBX_OFFER_OVERWRITE)) {
        xfer_whyf(why, "%s exists at the receiver with different "
                  "content (use --overwrite to replace it)", tx->path);
        return IBX_XC_EXISTS;
    }
    ibx_hash_reset(tx->hash);   /* start over from byte 0 */
    return 0;
}

int xfer_tx_resume(struct xfer_tx *tx, const struct ibx_msg_resume *r,
                   struct ibx_msg_resume *confirm, char *why)
{
    int code = xfer_tx_resume_start(tx, r, confirm, why);
    if (code != XFER_PENDING)
        return code;
    for (;;) {
        int s = xfer_tx_step(tx, UINT64_MAX);
        if (s < 0) {
            xfer_hjob_clear(&tx->job);
            xfer_whyf(why, "%s: %s", tx->path, strerror(-s));
            return IBX_XC_IO;
        }
        if (s > 0)
            return xfer_tx_resume_finish(tx, confirm, why);
    }
}

ssize_t xfer_tx_read(struct xfer_tx *tx, void *buf, size_t n)
{
    if (tx->pos >= tx->size)
        return 0;
    if (n > tx->size - tx->pos)
        n = (size_t)(tx->size - tx->pos);
    for (;;) {
        ssize_t got = pread(tx->fd, buf, n, (off_t)tx->pos);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -errno;
        if (got == 0)
            return -EIO;   /* the file shrank while being sent */
        if (ibx_hash_update(tx->hash, buf, (size_t)got) < 0)
            return -EIO;
        tx->pos += (uint64_t)got;
        return got;
    }
}

int xfer_tx_end(struct xfer_tx *tx, struct ibx_msg_end *e)
{
    if (tx->pos != tx->size)
        return -EIO;
    e->algo = tx->offer.algo;
    int n = ibx_hash_digest(tx->hash, e->hash);
    if (n < 0)
        return -EIO;
    e->hash_len = (uint8_t)n;
    return 0;
}
