/* Verifying a received file: the hash jobs run in slices (a resume
 * prefix, an existing file, the final check), the read-back of each piece
 * right after it was written (trusted only while our write lease on the
 * temporary file holds), and END: the digest of the file as it is on disk
 * against the sender's. A verified file is committed by commit.c. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "store_int.h"

bool xfer_rx_lease_check(struct xfer_rx *rx)
{
    if (!rx->leased)
        return false;
    if (fcntl(rx->fd, F_GETLEASE) == F_WRLCK)
        return true;
    /* someone opened the file: let them go on, and trust nothing hashed
     * so far (END re-reads the whole file) */
    (void)fcntl(rx->fd, F_SETLEASE, F_UNLCK);
    rx->leased = false;
    return false;
}

int xfer_rx_verify_step(struct xfer_rx *rx, uint64_t budget)
{
    if (!rx->vh || rx->vpos >= rx->pos || !rx->leased)
        return 0;
    uint64_t to = rx->pos - rx->vpos > budget ? rx->vpos + budget : rx->pos;
    int r = ibx_hash_file_range(rx->vh, rx->fd, rx->vpos, to);
    if (r < 0)
        return r;
    rx->vpos = to;
    return 0;
}

/* ---- hashing a file in steps ------------------------------------------ */

/* pread, not mmap: besides the SIGBUS hazard, mapping fresh page-cache
 * pages costs more than copying them on virtual machines with shadow page
 * tables (measured 2x on the benchmark machine). */

void xfer_hjob_start(struct xfer_hjob *j, ibx_hash *h, bool own_h, int fd,
                     bool own_fd, uint64_t from, uint64_t to)
{
    j->h = h;
    j->own_h = own_h;
    j->fd = fd;
    j->own_fd = own_fd;
    j->pos = from;
    j->end = to;
    j->active = true;
}

int xfer_hjob_step(struct xfer_hjob *j, uint64_t budget)
{
    uint64_t to = j->end - j->pos > budget ? j->pos + budget : j->end;
    int r = ibx_hash_file_range(j->h, j->fd, j->pos, to);
    if (r < 0)
        return r;
    j->pos = to;
    return j->pos == j->end;
}

void xfer_hjob_clear(struct xfer_hjob *j)
{
    if (j->active && j->own_fd && j->fd >= 0)
        close(j->fd);
    if (j->active && j->own_h)
        ibx_hash_free(j->h);
    memset(j, 0, sizeof *j);
    j->fd = -1;
}

int xfer_rx_step(struct xfer_rx *rx, uint64_t budget)
{
    return rx->job.active ? xfer_hjob_step(&rx->job, budget) : 1;
}

int xfer_rx_job(struct xfer_rx *rx, int fd, bool own_fd, uint64_t n,
                  int what, char *why)
{
    ibx_hash *h;
    int r = ibx_hash_new(&h, rx->algo);
    if (r < 0) {
        if (own_fd)
            close(fd);
        xfer_whyf(why, "%s: %s", rx->path, strerror(-r));
        return IBX_XC_IO;
    }
    xfer_hjob_start(&rx->job, h, true, fd, own_fd, 0, n);
    rx->pending = what;
    return XFER_PENDING;
}

int xfer_rx_job_run(struct xfer_rx *rx, char *why)
{
    for (;;) {
        int r = xfer_rx_step(rx, UINT64_MAX);
        if (r > 0)
            return 0;
        if (r < 0) {
            xfer_whyf(why, "%s: %s", rx->path, strerror(-r));
            return IBX_XC_IO;
        }
    }
}

int xfer_rx_end_start(struct xfer_rx *rx, const struct ibx_msg_end *e, char *why)
{
    size_t hl = ibx_hash_algo_len(rx->algo);
    if (!rx->started || e->algo != rx->algo || e->hash_len != hl) {
        xfer_whyf(why, "%s: unexpected END", rx->path);
        return IBX_XC_PROTOCOL;
    }
    if (rx->unchanged) {
        if (memcmp(e->hash, rx->exist_hash, hl) != 0) {
            xfer_whyf(why, "%s: existing file differs from the "
                     "sender's (hash mismatch)", rx->path);
            return IBX_XC_MISMATCH;
        }
        /* a stale partial file of an older version is useless now */
        xfer_rx_unlink_tmp(rx);
        xfer_whyf(why, "%s unchanged", rx->path);
        return IBX_XC_UNCHANGED;
    }
    if (rx->pos != rx->size) {
        xfer_whyf(why, "%s: END after %llu of %llu bytes", rx->path,
                 (unsigned long long)rx->pos, (unsigned long long)rx->size);
        return IBX_XC_PROTOCOL;
    }
    /* verify what the file holds, read back from it, not what passed
     * through memory; the fsync follows in the commit */
    memcpy(rx->want_hash, e->hash, hl);
    if (rx->vh && xfer_rx_lease_check(rx)) {
        /* nobody else opened the file since its bytes were hashed from
         * disk as they were written: hash the rest and compare */
        rx->verified_while_writing = true;
        xfer_hjob_start(&rx->job, rx->vh, true, rx->fd, false, rx->vpos, rx->size);
        rx->vh = NULL;
        rx->pending = XFER_PEND_END;
        return XFER_PENDING;
    }
    rx->verified_while_writing = false;
    return xfer_rx_job(rx, rx->fd, false, rx->size, XFER_PEND_END, why);
}

int xfer_rx_end_finish(struct xfer_rx *rx, char *why)
{
    uint8_t got[IBX_FRAME_HASH_MAX];
    char hw[2 * IBX_FRAME_HASH_MAX + 1], hg[2 * IBX_FRAME_HASH_MAX + 1];
    size_t hl = ibx_hash_algo_len(rx->algo);
    if (rx->pending == XFER_PEND_END && rx->verified_while_writing &&
        !xfer_rx_lease_check(rx)) {
        /* opened by someone while we finished: trust only a full re-read
         * (an intact lease makes later openers wait until we commit) */
        xfer_hjob_clear(&rx->job);
        rx->verified_while_writing = false;
        return xfer_rx_job(rx, rx->fd, false, rx->size, XFER_PEND_END, why);
    }
    int n = rx->pending == XFER_PEND_END ? ibx_hash_digest(rx->job.h, got) : -EINVAL;
    xfer_hjob_clear(&rx->job);
    rx->pending = 0;
    if (n < 0) {
        xfer_whyf(why, "%s: hashing failed", rx->path);
        return IBX_XC_IO;
    }
    if (memcmp(got, rx->want_hash, hl) != 0) {
        xfer_rx_unlink_tmp(rx);
        xfer_whyf(why, "%s: hash mismatch (%s %s received, %s sent); "
                  "nothing committed", rx->path, ibx_hash_algo_name(rx->algo),
                  ibx_hash_hex(got, hl, hg), ibx_hash_hex(rx->want_hash, hl, hw));
        return IBX_XC_MISMATCH;
    }
    return XFER_COMMIT;
}

int xfer_rx_end(struct xfer_rx *rx, const struct ibx_msg_end *e, char *why)
{
    int code = xfer_rx_end_start(rx, e, why);
    while (code == XFER_PENDING) {
        code = xfer_rx_job_run(rx, why);
        if (code == 0 && rx->pending)
            code = xfer_rx_end_finish(rx, why);
    }
    return code == XFER_COMMIT ? xfer_rx_commit(rx, why) : code;
}
