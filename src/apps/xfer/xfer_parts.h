/* Stale resume files: the hidden ".NAME.ibxpart" files an interrupted
 * upload leaves for a later resume are removed once nobody has used them
 * for a time to live (recv --part-ttl). The sweep walks the directory a
 * few entries at a time, so that a large tree never stalls a loop. */
#ifndef IPCBOX_APPS_XFER_PARTS_H
#define IPCBOX_APPS_XFER_PARTS_H

#include <stdbool.h>
#include <stdint.h>

#include "ipcbox/frame.h"

/* A sweep in progress (opaque). */
struct xfer_sweep;

/* What one step found. */
struct xfer_swept {
    const char *path;       /* relative to the root; valid until the next step */
    uint64_t size;
    uint64_t age_s;         /* seconds since its last use (mtime) */
    int err;                /* -errno when removing it failed */
};

/* Results of xfer_sweep_next. */
enum {
    XFER_SWEEP_DONE = 0,    /* the whole tree was seen */
    XFER_SWEEP_MORE,        /* one entry seen, nothing to report */
    XFER_SWEEP_REMOVED,     /* a stale part file was removed (out) */
    XFER_SWEEP_FAILED,      /* a stale part file could not be removed (out) */
};

/* Start a sweep of the tree under rootfd, max_depth directory levels
 * deep (xfer_list.h), for part files unused for more than ttl_s seconds
 * (by the wall clock, against their mtime). Returns 0 or -errno. */
int xfer_sweep_open(struct xfer_sweep **out, int rootfd, uint64_t ttl_s,
                    int max_depth);
/* Look at the next directory entry. A part file is removed only if it is
 * stale, a regular file of ours without other links, and not in use: a
 * live transfer holds its lock (or lease), and the sweep takes the lock
 * itself before it checks again and unlinks. */
int xfer_sweep_next(struct xfer_sweep *s, struct xfer_swept *out);
/* After XFER_SWEEP_DONE: what the sweep could not look at (a directory
 * deeper than max_depth or unreadable ...): the count, with a reason in
 * why[size]; 0 when it saw the whole tree. */
unsigned xfer_sweep_missed(const struct xfer_sweep *s, char *why, size_t size);
/* Stale part files left alone because a transfer was using them. */
unsigned xfer_sweep_in_use(const struct xfer_sweep *s);
/* Stop and free (NULL is fine). */
void xfer_sweep_close(struct xfer_sweep *s);

/* True if name (one path component) is a part file name ".X.ibxpart". */
bool xfer_is_part_name(const char *name);

#endif
