/* Walking the tree under recv's root one entry at a time (never following
 * a symlink, never leaving the root), and the incremental listing of its
 * regular files for the LIST answer. The part-file sweep (xfer_parts.h)
 * walks the same way. */
#ifndef IPCBOX_APPS_XFER_LIST_H
#define IPCBOX_APPS_XFER_LIST_H

#include <dirent.h>
#include <stddef.h>
#include <sys/stat.h>

#include "ipcbox/frame.h"

/* Directory levels below the root, by default: the deepest a received
 * file may be (recv refuses deeper offers) and the deepest a listing or
 * the part-file sweep goes (recv --max-depth), so that every file an
 * upload can make is listed and swept. */
#define XFER_DEPTH_DEFAULT 32
/* Largest --max-depth (each level holds a descriptor while walked). */
#define XFER_DEPTH_MAX 128

/* A walk in progress: the open directories from the root down. */
struct xfer_walk {
    int depth;                      /* open levels in d[] (the root is 1) */
    int max_depth;                  /* directory levels below the root */
    DIR *d[XFER_DEPTH_MAX + 1];
    size_t plen[XFER_DEPTH_MAX + 1];/* path length at each level */
    char path[IBX_FRAME_PATH_MAX + 2];
    /* what the walk could not see: a directory too deep or unreadable, a
     * path longer than the protocol allows (the first one kept) */
    unsigned missed;
    int missed_err;                 /* -ELOOP (too deep), -ENAMETOOLONG ... */
    char missed_path[IBX_FRAME_PATH_MAX + 2];
};

/* One entry of a walk; valid until the next step. */
struct xfer_walk_entry {
    int dfd;                /* its directory */
    const char *name;       /* its name there */
    const char *path;       /* relative to the root */
    size_t len;             /* strlen(path) */
    struct stat st;         /* lstat */
};

/* Start walking rootfd, max_depth (1 .. XFER_DEPTH_MAX) directory levels
 * below it. Returns 0 or -errno. */
int xfer_walk_open(struct xfer_walk *w, int rootfd, int max_depth);
/* One step: 1 with the next entry (directories too: descend with
 * xfer_walk_enter), 0 at the end. Skips "." and ".." and entries that
 * vanish; a path longer than the protocol allows is skipped and counted
 * as missed. */
int xfer_walk_step(struct xfer_walk *w, struct xfer_walk_entry *e);
/* Descend into directory e (no symlink; at most max_depth levels below
 * the root). Returns 0 or -errno; a directory that exists but cannot be
 * entered (too deep: -ELOOP, unreadable ...) is counted as missed. */
int xfer_walk_enter(struct xfer_walk *w, const struct xfer_walk_entry *e);
/* After the walk: 0 if it saw everything, else a reason in why[size]
 * ("N entries not seen; the first: PATH: deeper than ...") and the count
 * of missed entries. */
unsigned xfer_walk_missed(const struct xfer_walk *w, char *why, size_t size);
/* Close what is open. */
void xfer_walk_close(struct xfer_walk *w);

/* A listing in progress (opaque). */
struct xfer_list;

/* Start listing rootfd down to max_depth levels. Returns 0 or -errno. */
int xfer_list_open(struct xfer_list **out, int rootfd, int max_depth);
/* Next entry (path valid until the next call): 1, 0 at the end. */
int xfer_list_next(struct xfer_list *w, struct ibx_msg_offer *e);
/* At the end: what the listing left out (xfer_walk_missed); a listing
 * that missed anything is incomplete and must not be answered as ok. */
unsigned xfer_list_missed(const struct xfer_list *l, char *why, size_t size);
/* Stop and free (NULL is fine). */
void xfer_list_close(struct xfer_list *w);

#endif
