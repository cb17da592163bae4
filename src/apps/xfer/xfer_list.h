/* Incremental listing of the regular files under a directory, for the
 * LIST answer of recv. */
#ifndef IPCBOX_APPS_XFER_LIST_H
#define IPCBOX_APPS_XFER_LIST_H

#include "ipcbox/frame.h"

/* Deepest directory nesting listed. */
#define XFER_LIST_DEPTH 32

/* A listing in progress (opaque). */
struct xfer_list;

/* Start listing rootfd. Returns 0 or -errno. */
int xfer_list_open(struct xfer_list **out, int rootfd);
/* Next entry (path valid until the next call): 1, 0 at the end. */
int xfer_list_next(struct xfer_list *w, struct ibx_msg_offer *e);
/* Stop and free (NULL is fine). */
void xfer_list_close(struct xfer_list *w);

#endif
