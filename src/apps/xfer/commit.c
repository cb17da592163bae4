/* Committing a verified file, the part that blocks on the disk: apply
 * the mode and mtime, fsync the data, rename the temporary file over the
 * target (only while its name still holds the file that was verified),
 * fsync the directory so that the new name survives a crash. recv runs
 * this on a thread of its own (ipcbox/job.h) so that one client's flush never
 * stalls the others; get runs it inline. Also the permission policy of
 * received files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

int xfer_rx_commit(struct xfer_rx *rx, char *why)
{
    /* the rename goes by name: commit only the file we verified */
    if (!rx->locked || !xfer_rx_tmp_is_ours(rx)) {
        xfer_whyf(why, "%s: temporary file was removed or replaced; "
                  "nothing committed", rx->path);
        return IBX_XC_IO;
    }
    struct timespec ts[2] = {{0, UTIME_OMIT}, {rx->mtime_sec, rx->mtime_nsec}};
    if (fchmod(rx->fd, rx->mode) < 0 || futimens(rx->fd, ts) < 0) {
        xfer_whyf(why, "%s: commit: %s", rx->path, strerror(errno));
        return IBX_XC_IO;
    }
    /* the content and its metadata are durable before the name appears */
    if (fsync(rx->fd) < 0) {
        xfer_whyf(why, "%s: fsync: %s; nothing committed", rx->path, strerror(errno));
        return IBX_XC_IO;
    }
    if (renameat2(rx->dirfd, rx->tmpname, rx->dirfd, rx->name,
                  rx->overwrite ? 0 : RENAME_NOREPLACE) < 0) {
        int err = errno;
        xfer_whyf(why, "%s: commit: %s", rx->path, strerror(err));
        return err == EEXIST ? IBX_XC_EXISTS : IBX_XC_IO;
    }
    rx->tmp_gone = true;
    rx->committed = true;
    if (fsync(rx->dirfd) < 0) {
        xfer_whyf(why, "%s: fsync directory: %s", rx->path, strerror(errno));
        return IBX_XC_IO;
    }
    xfer_whyf(why, "stored %s", rx->path);
    return IBX_XC_OK;
}

/* ---- permissions ------------------------------------------------------- */

uint32_t xfer_rx_mode(const struct xfer_rx_opts *o, uint32_t offered)
{
    if (o->force_mode)
        return o->mode & 0777;
    return offered & 0777 & ~o->umask;
}

uint32_t xfer_process_umask(void)
{
    mode_t m = umask(0);
    umask(m);
    return (uint32_t)m & 0777;
}

int xfer_parse_mode(const char *s, uint32_t *out)
{
    char *end;
    if (!*s || strspn(s, "01234567") != strlen(s))
        return -EINVAL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 8);
    if (errno || *end || v > 0777)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}
