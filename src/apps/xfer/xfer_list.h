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

/* Deepest directory nesting listed. */
#define XFER_LIST_DEPTH 32

/* A walk in progress: the open directories from the root down. */
struct xfer_walk {
    int depth;                      /* open levels in d[] */
    DIR *d[XFER_LIST_DEPTH];
    size_t plen[XFER_LIST_DEPTH];   /* path length at each level */
    char path[IBX_FRAME_PATH_MAX + 2];
};

/* One entry of a walk; valid until the next step. */
struct xfer_walk_entry {
    int dfd;                /* its directory */
    const char *name;       /* its name there */
    const char *path;       /* relative to the root */
    size_t len;             /* strlen(path) */
    struct stat st;         /* lstat */
};

/* Start walking rootfd. Returns 0 or -errno. */
int xfer_walk_open(struct xfer_walk *w, int rootfd);
/* One step: 1 with the next entry (directories too: descend with
 * xfer_walk_enter), 0 at the end. Skips "." and "..", paths longer than
 * the protocol allows, and entries that vanish. */
int xfer_walk_step(struct xfer_walk *w, struct xfer_walk_entry *e);
/* Descend into directory e (no symlink; at most XFER_LIST_DEPTH deep).
 * Returns 0 or -errno. */
int xfer_walk_enter(struct xfer_walk *w, const struct xfer_walk_entry *e);
/* Close what is open. */
void xfer_walk_close(struct xfer_walk *w);

/* A listing in progress (opaque). */
struct xfer_list;

/* Start listing rootfd. Returns 0 or -errno. */
int xfer_list_open(struct xfer_list **out, int rootfd);
/* Next entry (path valid until the next call): 1, 0 at the end. */
int xfer_list_next(struct xfer_list *w, struct ibx_msg_offer *e);
/* Stop and free (NULL is fine). */
void xfer_list_close(struct xfer_list *w);

#endif
