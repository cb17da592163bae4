/* Internals of one received file (struct xfer_rx) shared by store.c
 * (offer, temporary file, data), verify.c (hashing, END) and commit.c
 * (fsync and rename). */
#ifndef IPCBOX_APPS_XFER_STORE_INT_H
#define IPCBOX_APPS_XFER_STORE_INT_H

#include "xfer.h"

/* True if rx->tmpname still names the file rx->fd is open on. */
bool xfer_rx_tmp_is_ours(const struct xfer_rx *rx);
/* Remove the temporary name, only while we hold its lock: a connection
 * refused as busy must never remove the file of the one receiving it. */
void xfer_rx_unlink_tmp(struct xfer_rx *rx);
/* Hash [0, n) of fd as rx's pending job (what for: what, an
 * XFER_PEND_*). Returns XFER_PENDING or a code (own_fd: fd is closed on
 * failure). */
int xfer_rx_job(struct xfer_rx *rx, int fd, bool own_fd, uint64_t n,
                int what, char *why);
/* Run rx's pending job to the end (blocking callers). Returns 0 or a
 * code. */
int xfer_rx_job_run(struct xfer_rx *rx, char *why);

#endif
